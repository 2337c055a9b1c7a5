"""Who may call what: the permission matrix that test_users.py walks with
a session per role and test_routes.py checks against src/routes.c and
kore.conf (every route has exactly one row)."""
import uuid

from people import user_body

ROLES = ("operator", "admin", "auditor")
PUBLIC = "public"
SIGNED_IN = frozenset(ROLES)


def _login_body(target):
    return {"username": "t_nobody_" + uuid.uuid4().hex[:8],
            "password": "Some-password-123", "otp": "123456"}


# (method, path, who may call it, body for a call with target id)
MATRIX = [
    ("GET", "/healthz", PUBLIC, None),
    ("GET", "/api/hours", PUBLIC, None),
    ("POST", "/api/login", PUBLIC, _login_body),
    ("POST", "/api/enrolment/begin", PUBLIC, lambda t: {}),
    ("POST", "/api/enrolment/finish", PUBLIC, lambda t: {}),
    ("GET", "/api/me", SIGNED_IN, None),
    # {} is malformed: an allowed caller gets 400, not a password check.
    ("POST", "/api/password", SIGNED_IN, lambda t: {}),
    ("POST", "/api/reauth", SIGNED_IN, lambda t: {}),
    ("GET", "/api/users", {"admin", "auditor"}, None),
    ("POST", "/api/users", {"admin"}, lambda t: user_body()),
    ("POST", "/api/users/{id}/disable", {"admin"}, lambda t: {}),
    ("POST", "/api/users/{id}/enable", {"admin"}, lambda t: {}),
    ("POST", "/api/users/{id}/role", {"admin"},
     lambda t: {"role": "auditor"}),
    ("POST", "/api/users/{id}/password", {"admin"}, lambda t: {}),
    ("POST", "/api/users/{id}/unlock", {"admin"}, lambda t: {}),
    ("POST", "/api/users/{id}/sessions/revoke", {"admin"}, lambda t: {}),
    ("POST", "/api/users/{id}/otp", {"admin"}, lambda t: {}),
    ("POST", "/api/users/{id}/enrolment/revoke", {"admin"}, lambda t: {}),
    ("POST", "/api/users/{id}/devices/revoke", {"admin"}, lambda t: {}),
    ("GET", "/api/devices", SIGNED_IN, None),
    # Allowed callers get 404: the id is not one of their devices.
    ("POST", "/api/devices/{id}/revoke", SIGNED_IN, lambda t: {}),
    ("GET", "/api/approvals", SIGNED_IN, None),
    # {} is malformed: an allowed caller gets 400 and nothing is decided.
    ("POST", "/api/approvals/{id}/approve", SIGNED_IN,
     lambda t: {"operation_sha256": 5}),
    ("POST", "/api/approvals/{id}/reject", SIGNED_IN,
     lambda t: {"comment": 5}),
    # Allowed callers get 404 for a request that does not exist.
    ("POST", "/api/approvals/{id}/withdraw", {"admin", "operator"},
     lambda t: {}),
    ("GET", "/api/transactions", {"operator", "auditor"}, None),
    ("GET", "/api/transactions/export", {"operator", "auditor"}, None),
    ("GET", "/api/transactions/{id}", {"operator", "auditor"}, None),
    ("POST", "/api/transactions/{id}/capture", {"operator"},
     lambda t: {}),
    ("POST", "/api/transactions/{id}/cancel", {"operator"}, lambda t: {}),
    ("POST", "/api/transactions/{id}/refunds", {"operator"},
     lambda t: {"amount": 1, "reason": "matrix"}),
    ("GET", "/api/audit/events", {"auditor"}, None),
    ("GET", "/api/audit/verify", {"auditor"}, None),
    ("GET", "/api/alerts", {"admin", "auditor"}, None),
    ("POST", "/api/alerts/{id}/ack", {"admin", "auditor"},
     lambda t: {"comment": "matrix"}),
    ("GET", "/api/inventory", {"admin", "auditor"}, None),
    ("GET", "/api/reviews", {"admin", "auditor"}, None),
    ("GET", "/api/reviews/{week}", {"admin", "auditor"}, None),
    # {} is malformed: an allowed caller gets 400 and nothing is signed.
    ("POST", "/api/reviews/{week}/signoff", {"auditor"}, lambda t: {}),
    ("POST", "/api/reviews/{week}/confirm", {"admin", "auditor"},
     lambda t: {}),
    ("GET", "/api/reviews/accounts/{half}", {"admin", "auditor"}, None),
    # {} is malformed: an allowed caller gets 400 and nothing is signed.
    ("POST", "/api/reviews/accounts/{half}/signoff", {"auditor"},
     lambda t: {}),
    ("POST", "/api/reviews/accounts/{half}/confirm", {"admin", "auditor"},
     lambda t: {}),
    ("GET", "/api/reviews/daily/{day}", {"admin", "auditor"}, None),
    # {} is malformed: an allowed caller gets 400 and nothing is signed.
    ("POST", "/api/reviews/daily/{day}/signoff", {"auditor"}, lambda t: {}),
    # Last: it ends the session the rows above use.
    ("POST", "/api/logout", SIGNED_IN, lambda t: {}),
]
