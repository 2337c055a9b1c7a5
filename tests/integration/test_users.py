"""Issue 4: users and roles. The central permission table route by role,
default deny for unlisted routes, one role per account (also in the
database), admins cannot act on themselves, TOTP enrolment with a QR code
that decodes to the otpauth URI, device replacement, self-service
password change, re-authentication for credential-touching admin
actions, and auditors who can read but never change.

Codes come from pyotp, an implementation independent of the server's.
Each TOTP step is accepted once per user, so every test makes its own
users and waits for the next 30 s step when one user needs another code.
Users made by `payconsole-admin create-user` must change their password
first; ready() signs them in and does that."""
import json
import re
import shutil
import subprocess
import time
import uuid

import psycopg2
import psycopg2.errors
import pyotp
import pytest
import requests

from conftest import Server, create_user, db
from test_login import (INVALID, NO_SOURCE_BLOCK, STEP,
                        assert_invalid_credentials, assert_security_headers,
                        clear_source_blocks, cookie_header, directory_id,
                        login_ok, post_login, session_cookie, settle, totp,
                        wrong_code)

ROLES = ("operator", "admin", "auditor")
USER_KEYS = {"id", "username", "display_name", "role", "disabled",
             "locked_until", "last_login_at", "last_login_source", "otp",
             "password_changed_at", "must_change_password"}
URI_RE = (r"otpauth://totp/payconsole:%s\?secret=([A-Z2-7]+=*)"
          r"&issuer=payconsole&algorithm=SHA1&digits=6&period=30")
UNKNOWN_ID = 987654321


# --- fixtures -------------------------------------------------------------

@pytest.fixture(autouse=True)
def _no_source_blocks():
    """Tests here fail logins from 127.0.0.1 on purpose: start and end
    without source blocks in the shared database."""
    clear_source_blocks()
    yield
    clear_source_blocks()


@pytest.fixture(scope="module")
def users_server():
    srv = Server("users", workers=2, policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="10")).start()
    yield srv
    srv.stop()


# --- helpers --------------------------------------------------------------

def fresh_name():
    return "t_" + uuid.uuid4().hex[:10]


def new_password():
    return "Fresh-" + uuid.uuid4().hex + "9a"


def fresh_code(user, secret=None, use=True):
    """A code for a step later than any step this user has used (waits
    for the next step if need be). With use, the step counts as used from
    now on, whatever the server answers; without, the caller expects a
    refusal that uses nothing up."""
    last = user.get("last_step")
    while True:
        settle()
        now = time.time()
        step = int(now // STEP)
        if last is None or step > last:
            break
        time.sleep((last + 1) * STEP - now + 0.3)
    if use:
        user["last_step"] = step
    return pyotp.TOTP(secret or user["totp_secret_base32"]).at(now)


def api(srv, method, path, token=None, csrf=None, body=None):
    """One request. Requests that are not GET carry Origin and a CSRF
    token (a bogus one without a session). Bodies go as raw UTF-8 JSON,
    as a browser sends them."""
    headers = {}
    if token is not None:
        headers.update(cookie_header(token))
    if method != "GET":
        headers["Origin"] = srv.url
        headers["X-CSRF-Token"] = csrf if csrf is not None else "A" * 43
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return requests.request(method, srv.url + path, headers=headers,
                            data=data, verify=False, timeout=120)


class Session:
    """A signed-in browser: the user dict, session cookie and CSRF
    token."""

    def __init__(self, srv, user, login_answer):
        self.srv = srv
        self.user = user
        self.token, _ = session_cookie(login_answer)
        body = login_answer.json()
        self.csrf = body["csrf_token"]
        self.id = body["user"]["id"]
        self.login_body = body

    @property
    def username(self):
        return self.user["username"]

    def get(self, path):
        return api(self.srv, "GET", path, self.token)

    def post(self, path, body=None):
        return api(self.srv, "POST", path, self.token, self.csrf,
                   {} if body is None else body)

    def request(self, method, path, body=None):
        return api(self.srv, method, path, self.token, self.csrf, body)


def sign_in(srv, user, offset=0):
    return Session(srv, user, login_ok(srv, user, offset=offset))


def change_password(sess, new=None):
    """POST /api/password with the current password and a fresh code."""
    new = new or new_password()
    r = sess.post("/api/password", {
        "current_password": sess.user["password"],
        "otp": fresh_code(sess.user), "new_password": new})
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json() == {"status": "password_changed"}
    sess.user["password"] = new
    return r


def ready(srv, *roles):
    """Fresh users of these roles, signed in, must_change_password
    cleared. They sign in with the previous step's code so the password
    change can use the current step without waiting."""
    users = [create_user(role) for role in roles]
    sessions = [sign_in(srv, u, offset=-STEP) for u in users]
    for s in sessions:
        assert s.login_body["must_change_password"] is True
        change_password(s)
        m = s.get("/api/me")
        assert m.status_code == 200, m.text
        assert m.json()["must_change_password"] is False
    return sessions


def error_of(r):
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def assert_error(r, status, code):
    assert r.status_code == status and error_of(r) == code, \
        (status, code, r.status_code, r.text)
    assert isinstance(r.json().get("message"), str)
    assert_security_headers(r)


def directory(username):
    """The user as auth.directory shows it (dict), or None."""
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT row_to_json(d) FROM auth.directory d "
                    "WHERE username = %s", (username,))
        row = cur.fetchone()
        return row[0] if row else None


def account_rows(user_id):
    """The user's rows in auth.users and auth.credentials, as the owner
    sees them (secrets included), to show nothing changed."""
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT row_to_json(u) FROM auth.users u "
                    "WHERE id = %s", (user_id,))
        u = cur.fetchone()
        cur.execute("SELECT row_to_json(c) FROM auth.credentials c "
                    "WHERE user_id = %s", (user_id,))
        c = cur.fetchone()
        return (u and u[0], c and c[0])


def live_sessions(user_id):
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM auth.sessions WHERE user_id = %s "
                    "AND revoked_at IS NULL ORDER BY id", (user_id,))
        return [r[0] for r in cur.fetchall()]


def user_count():
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM auth.users")
        return cur.fetchone()[0]


def max_event_id():
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM audit.events")
        return cur.fetchone()[0]


def audit_since(since, username, user_id=None, event=None):
    """[(actor_name, event, target, outcome, details)] after event id
    since, about the user (its name or its id as target)."""
    targets = [username] + ([str(user_id)] if user_id is not None else [])
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_name, event, target, outcome, details "
                    "FROM audit.events WHERE id > %s "
                    "AND target = ANY (%s) "
                    "AND (%s::text IS NULL OR event = %s) ORDER BY id",
                    (since, targets, event, event))
        return cur.fetchall()


def assert_audited(since, event, actor, username, user_id):
    rows = audit_since(since, username, user_id, event)
    assert rows, "no %s event about %s" % (event, username)
    assert any(r[0] == actor and r[3] == "success" for r in rows), rows
    return rows


def assert_user_item(item):
    assert set(item) == USER_KEYS, item
    assert isinstance(item["id"], int)
    assert item["role"] in ROLES
    assert isinstance(item["disabled"], bool)
    assert isinstance(item["must_change_password"], bool)
    assert item["otp"] in ("none", "pending", "enrolled")
    assert isinstance(item["password_changed_at"], int)
    for k in ("locked_until", "last_login_at"):
        assert item[k] is None or isinstance(item[k], int), item
    assert item["last_login_source"] is None or \
        isinstance(item["last_login_source"], str), item


def listed(sess, username):
    r = sess.get("/api/users")
    assert r.status_code == 200, (r.status_code, r.text)
    assert_security_headers(r)
    users = r.json()["users"]
    for item in users:
        assert_user_item(item)
    found = [u for u in users if u["username"] == username]
    assert len(found) == 1, username
    return found[0]


def uri_secret(uri, username):
    m = re.fullmatch(URI_RE % re.escape(username), uri)
    assert m, uri
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == m.group(1)
    assert parsed.digits == 6 and parsed.interval == 30
    return m.group(1)


def qr_decode(svg, tmp_path):
    """The text the QR code in svg holds, read by zbarimg from the PNG
    rsvg-convert renders (both independent of the server)."""
    for tool in ("rsvg-convert", "zbarimg"):
        if shutil.which(tool) is None:
            pytest.fail("%s missing: apt-get install librsvg2-bin "
                        "zbar-tools" % tool)
    src = tmp_path / "qr.svg"
    png = tmp_path / "qr.png"
    src.write_text(svg, encoding="utf-8")
    r = subprocess.run(["rsvg-convert", "-w", "400", "-b", "white",
                        str(src), "-o", str(png)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["zbarimg", "--raw", "-q", str(png)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r.stdout.rstrip("\n")


def user_body(role="operator", username=None, password=None):
    return {"username": username or fresh_name(),
            "display_name": "利用者 " + uuid.uuid4().hex[:6],
            "role": role, "password": password or new_password()}


# --- 1. the permission matrix ----------------------------------------------

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
    ("POST", "/api/otp/confirm", PUBLIC, _login_body),
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
    ("POST", "/api/users/{id}/password", {"admin"},
     lambda t: {"password": new_password()}),
    ("POST", "/api/users/{id}/unlock", {"admin"}, lambda t: {}),
    ("POST", "/api/users/{id}/sessions/revoke", {"admin"}, lambda t: {}),
    ("POST", "/api/users/{id}/otp", {"admin"}, lambda t: {}),
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
    # Last: it ends the session the rows above use.
    ("POST", "/api/logout", SIGNED_IN, lambda t: {}),
]


@pytest.fixture(scope="module")
def matrix_sessions(users_server):
    return dict(zip(ROLES, ready(users_server, *ROLES)))


@pytest.mark.parametrize("who", ["admin", "anonymous", "operator",
                                 "auditor"])
def test_permission_matrix(users_server, request, who):
    srv = users_server
    sess = None
    if who != "anonymous":
        sess = request.getfixturevalue("matrix_sessions")[who]
    # A scratch user, so admin actions succeed or fail on their merits.
    target = create_user("operator")
    tid = directory_id(target["username"])
    wrong = []
    for method, path, allowed, body in MATRIX:
        path = path.replace("{id}", str(tid)).replace("{week}", "2026-W01")
        data = body(tid) if body else None
        if sess is None:
            r = api(srv, method, path, body=data)
        else:
            r = api(srv, method, path, sess.token, sess.csrf, data)
        assert_security_headers(r)
        err = error_of(r)
        if allowed == PUBLIC:
            ok = err not in ("unauthenticated", "forbidden")
            want = "public"
        elif sess is None:
            ok = r.status_code == 401 and err == "unauthenticated"
            want = "401 unauthenticated"
        elif who in allowed:
            ok = r.status_code != 401 and r.status_code < 500 and \
                err not in ("forbidden", "csrf_failed",
                            "password_change_required")
            want = "allowed"
        else:
            ok = r.status_code == 403 and err == "forbidden"
            want = "403 forbidden"
        if not ok:
            wrong.append("%s %s as %s: want %s, got %d %s" % (
                method, path, who, want, r.status_code, r.text[:200]))
    assert not wrong, "\n".join(wrong)


# --- 2. default deny -------------------------------------------------------

def test_unlisted_routes_refused(users_server):
    srv = users_server
    adm, = ready(srv, "admin")
    target = create_user("operator")
    tid = directory_id(target["username"])
    before = account_rows(tid)
    unlisted = [
        ("GET", "/api/users/%d/secret" % tid),
        ("DELETE", "/api/users"),
        ("GET", "/api/admin"),
        ("POST", "/api/admin"),
        ("PUT", "/api/users/%d/role" % tid),
        ("DELETE", "/api/users/%d" % tid),
        ("GET", "/api/users/%d" % tid),
        ("POST", "/api/users/%d" % tid),
        ("POST", "/api/users/%d/delete" % tid),
        ("POST", "/api/users/%d/disable/now" % tid),
        ("GET", "/api/users/%d/password" % tid),
        ("GET", "/api/users/%d/otp" % tid),
        ("POST", "/api/users/%d/sessions" % tid),
        ("POST", "/api/users/%d/roles" % tid),
        ("PATCH", "/api/users"),
        ("GET", "/api/otp/confirm"),
    ]
    wrong = []
    for method, path in unlisted:
        body = {} if method not in ("GET", "DELETE") else None
        for who, r in (
                ("admin", adm.request(method, path, body)),
                ("anonymous", api(srv, method, path, body=body))):
            assert_security_headers(r)
            allowed = (404, 405) if who == "admin" else (401, 404, 405)
            if r.status_code not in allowed or \
                    error_of(r) not in ("not_found", "method_not_allowed",
                                        "unauthenticated"):
                wrong.append("%s %s as %s: %d %s" % (
                    method, path, who, r.status_code, r.text[:200]))
    assert not wrong, "\n".join(wrong)
    assert account_rows(tid) == before

    # An id nobody has, and ids that are not ids.
    for path in ("/api/users/%d/disable" % UNKNOWN_ID,
                 "/api/users/%d/unlock" % UNKNOWN_ID,
                 "/api/users/%d/otp" % UNKNOWN_ID):
        assert_error(adm.post(path), 404, "not_found")
    for bad in ("abc", "-1", "1.5", "0x%x" % tid, ""):
        r = adm.post("/api/users/%s/disable" % bad)
        assert r.status_code in (400, 404), (bad, r.status_code, r.text)
        assert_security_headers(r)
    assert account_rows(tid) == before


# --- 3. one role per account; admins never act on themselves --------------

def test_admin_and_auditor_at_once_impossible_in_database():
    name = fresh_name()
    with db("pc_owner") as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.CheckViolation):
            cur.execute("INSERT INTO auth.users (username, display_name, "
                        "role, created_by) VALUES (%s, %s, "
                        "'admin,auditor', 't')", (name, name))
        cur.execute("SELECT count(*) FROM auth.users WHERE username = %s",
                    (name,))
        assert cur.fetchone()[0] == 0

    u = create_user("admin")
    uid = directory_id(u["username"])
    for role in ("superuser", "admin,auditor", "admin auditor", "",
                 "ADMIN"):
        with db("pc_owner") as conn, conn.cursor() as cur:
            with pytest.raises(psycopg2.errors.CheckViolation):
                cur.execute("UPDATE auth.users SET role = %s "
                            "WHERE id = %s", (role, uid))
    assert directory(u["username"])["role"] == "admin"

    # One column holds the role: no second auth table can add another.
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT c.table_name FROM information_schema.columns c"
                    " JOIN information_schema.tables t USING (table_schema,"
                    " table_name) WHERE c.table_schema = 'auth' AND "
                    "c.column_name ~ 'role' AND t.table_type = 'BASE TABLE'")
        assert cur.fetchall() == [("users",)]


def test_admin_cannot_act_on_own_account(users_server):
    srv = users_server
    adm, = ready(srv, "admin")
    before = account_rows(adm.id)
    sessions_before = live_sessions(adm.id)
    since = max_event_id()
    for path, body in (
            ("/api/users/%d/role" % adm.id, {"role": "operator"}),
            ("/api/users/%d/role" % adm.id, {"role": "admin"}),
            ("/api/users/%d/otp" % adm.id, {}),
            ("/api/users/%d/password" % adm.id,
             {"password": new_password()}),
            ("/api/users/%d/disable" % adm.id, {})):
        r = adm.post(path, body)
        assert_error(r, 403, "self_forbidden")
        assert account_rows(adm.id) == before, path
    assert live_sessions(adm.id) == sessions_before
    m = adm.get("/api/me")
    assert m.status_code == 200, m.text
    assert m.json()["user"]["role"] == "admin"
    for ev in ("user.role_changed", "user.password_reset",
               "otp.enrolment_started", "user.disabled"):
        assert not [e for e in audit_since(since, adm.username, adm.id, ev)
                    if e[3] == "success"], ev


# --- 4. enrolment round trip ------------------------------------------------

def test_enrolment_round_trip(users_server, tmp_path):
    srv = users_server
    adm, = ready(srv, "admin")
    since = max_event_id()

    body = user_body("auditor")
    r = adm.post("/api/users", body)
    assert r.status_code == 201, (r.status_code, r.text)
    assert_security_headers(r)
    created = r.json()["user"]
    assert_user_item(created)
    name = body["username"]
    assert created["username"] == name
    assert created["display_name"] == body["display_name"]
    assert created["role"] == "auditor"
    assert created["otp"] == "none"
    assert created["must_change_password"] is True
    assert created["disabled"] is False
    assert created["last_login_at"] is None
    assert created["locked_until"] is None
    uid = created["id"]
    assert uid == directory_id(name)
    assert listed(adm, name) == created
    assert_audited(since, "user.created", adm.username, name, uid)
    # Usernames are unique; the password policy holds here too.
    assert_error(adm.post("/api/users", user_body("operator", name)),
                 409, "conflict")
    r = adm.post("/api/users", user_body(password="Password1234"))
    assert_error(r, 400, "password_rejected")
    assert r.json()["reason"] == "password_common"
    n = user_count()
    for bad in (dict(user_body(), role="admin,auditor"),
                dict(user_body(), role="superuser"),
                {"username": fresh_name(), "role": "operator"}):
        r = adm.post("/api/users", bad)
        assert r.status_code == 400, (bad, r.status_code, r.text)
    assert user_count() == n

    # No device yet: the password alone opens nothing.
    assert_invalid_credentials(post_login(srv, name, body["password"],
                                          "123456"))

    r = adm.post("/api/users/%d/otp" % uid)
    assert r.status_code == 200, (r.status_code, r.text)
    assert_security_headers(r)
    ans = r.json()
    uri = ans["otpauth_uri"]
    secret = uri_secret(uri, name)
    assert re.search(r"<svg[\s>]", ans["qr_svg"]), ans["qr_svg"][:200]
    assert "<script" not in ans["qr_svg"].lower()
    assert qr_decode(ans["qr_svg"], tmp_path) == uri
    assert directory(name)["totp_state"] == "pending"
    assert_audited(since, "otp.enrolment_started", adm.username, name, uid)
    user = {"username": name, "password": body["password"],
            "totp_secret_base32": secret}

    # A pending device does not log in, even with a correct code.
    settle()
    assert_invalid_credentials(post_login(
        srv, name, body["password"],
        pyotp.TOTP(secret).at(time.time() - STEP)))
    # Confirmation needs the password and a code of this device.
    settle()
    for pw, code in ((body["password"], wrong_code(user)),
                     ("Not-" + body["password"],
                      totp(user).at(time.time() - STEP))):
        r = api(srv, "POST", "/api/otp/confirm",
                body={"username": name, "password": pw, "otp": code})
        assert_invalid_credentials(r)
        assert r.json() == INVALID
    assert directory(name)["totp_state"] == "pending"

    code = fresh_code(user)
    r = api(srv, "POST", "/api/otp/confirm",
            body={"username": name, "password": body["password"],
                  "otp": code})
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json() == {"status": "enrolled"}
    assert_security_headers(r)
    assert directory(name)["totp_state"] == "enrolled"
    assert listed(adm, name)["otp"] == "enrolled"
    assert audit_since(since, name, uid, "otp.enrolled")

    # The code that confirmed is used up.
    mark = max_event_id()
    assert_invalid_credentials(post_login(srv, name, body["password"],
                                          code))
    after = [e[1] for e in audit_since(mark, name, uid)]
    assert "totp_replay" in after or "login.failure" in after, after
    assert live_sessions(uid) == []

    # The next step's code logs in; the password must change first.
    r = login_ok(srv, user)
    assert r.json()["must_change_password"] is True
    sess = Session(srv, user, r)
    assert sess.id == uid and sess.login_body["user"]["role"] == "auditor"
    m = sess.get("/api/me")
    assert m.status_code == 200 and m.json()["must_change_password"] is True
    for method, path, b in (("GET", "/api/users", None),
                            ("POST", "/api/reauth",
                             {"password": user["password"],
                              "otp": "123456"})):
        assert_error(sess.request(method, path, b), 403,
                     "password_change_required")
    change_password(sess)
    assert sess.get("/api/me").json()["must_change_password"] is False
    assert listed(sess, name)["must_change_password"] is False
    assert audit_since(since, name, uid, "password.changed")


def test_confirm_refused_without_pending_device(users_server):
    srv = users_server
    u = create_user("operator")
    settle()
    r = api(srv, "POST", "/api/otp/confirm",
            body={"username": u["username"], "password": u["password"],
                  "otp": totp(u).now()})
    assert_invalid_credentials(r)
    assert directory(u["username"])["totp_state"] == "enrolled"
    r = api(srv, "POST", "/api/otp/confirm",
            body={"username": "t_nobody_" + uuid.uuid4().hex[:8],
                  "password": "Some-password-123", "otp": "123456"})
    assert_invalid_credentials(r)


# --- 5. replacing a device ----------------------------------------------------

def test_replacing_device_revokes_sessions_and_old_secret(users_server):
    srv = users_server
    u = create_user("operator")
    uid = directory_id(u["username"])
    old = u["totp_secret_base32"]
    us = sign_in(srv, u, offset=-STEP)
    assert us.get("/api/me").status_code == 200
    adm, = ready(srv, "admin")
    since = max_event_id()

    r = adm.post("/api/users/%d/otp" % uid)
    assert r.status_code == 200, (r.status_code, r.text)
    new = uri_secret(r.json()["otpauth_uri"], u["username"])
    assert new != old
    assert directory(u["username"])["totp_state"] == "pending"
    assert_audited(since, "otp.enrolment_started", adm.username,
                   u["username"], uid)

    m = us.get("/api/me")
    assert_error(m, 401, "unauthenticated")
    assert live_sessions(uid) == []

    # The old device's codes, for a step not yet used, open nothing,
    # and cannot confirm the new device either.
    code_old = fresh_code(u, old)
    step = u["last_step"]
    assert_invalid_credentials(post_login(srv, u["username"],
                                          u["password"], code_old))
    assert_invalid_credentials(api(
        srv, "POST", "/api/otp/confirm",
        body={"username": u["username"], "password": u["password"],
              "otp": code_old}))
    assert live_sessions(uid) == []

    # The new one confirms with a code of the same step ...
    r = api(srv, "POST", "/api/otp/confirm",
            body={"username": u["username"], "password": u["password"],
                  "otp": pyotp.TOTP(new).at(step * STEP + 1)})
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json() == {"status": "enrolled"}
    # ... and at the next step the old device still opens nothing while
    # the new one logs in.
    code_old = fresh_code(u, old, use=False)
    assert_invalid_credentials(post_login(srv, u["username"],
                                          u["password"], code_old))
    u["totp_secret_base32"] = new
    r = login_ok(srv, u)
    assert r.json()["user"]["id"] == uid
    assert r.json()["must_change_password"] is True


# --- 6. self-service password change -----------------------------------------

def test_self_service_password_change(users_server):
    srv = users_server
    u = create_user("operator")
    uid = directory_id(u["username"])
    a = sign_in(srv, u, offset=-STEP)
    b = sign_in(srv, u)
    assert len(live_sessions(uid)) == 2
    before = account_rows(uid)
    since = max_event_id()
    old = u["password"]
    new = new_password()

    # Policy first, with a valid code (which may or may not use it up).
    code = fresh_code(u)
    r = a.post("/api/password", {"current_password": old, "otp": code,
                                 "new_password": "Password1234"})
    assert_error(r, 400, "password_rejected")
    assert r.json()["reason"] == "password_common"
    r = a.post("/api/password", {"current_password": "Not-" + old,
                                 "otp": code, "new_password": new})
    assert_invalid_credentials(r)
    r = a.post("/api/password", {"current_password": old,
                                 "otp": wrong_code(u), "new_password": new})
    assert_invalid_credentials(r)
    r = a.post("/api/password", {"current_password": old,
                                 "new_password": new})
    assert_error(r, 400, "invalid_request")
    # (totp_last_step may have moved: compare the password only.)
    assert account_rows(uid)[1]["password_hash"] == \
        before[1]["password_hash"]
    assert account_rows(uid)[1]["must_change_password"] is True
    assert len(live_sessions(uid)) == 2

    change_password(a, new)
    assert account_rows(uid)[1]["password_hash"] != \
        before[1]["password_hash"]
    assert account_rows(uid)[1]["must_change_password"] is False
    assert directory(u["username"])["must_change_password"] is False
    assert a.get("/api/me").status_code == 200
    assert_error(b.get("/api/me"), 401, "unauthenticated")
    assert len(live_sessions(uid)) == 1
    assert_audited(since, "password.changed", u["username"],
                   u["username"], uid)

    # The old password no longer opens the account, the new one does.
    code = fresh_code(u, use=False)
    assert_invalid_credentials(post_login(srv, u["username"], old, code))
    r = login_ok(srv, u)
    assert r.json()["must_change_password"] is False


# --- 7. re-authentication -----------------------------------------------------

def age_reauth(user_id):
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("UPDATE auth.sessions "
                    "SET reauth_at = now() - interval '6 minutes' "
                    "WHERE user_id = %s AND revoked_at IS NULL", (user_id,))
        assert cur.rowcount >= 1


def test_reauth_required_for_credential_actions(users_server):
    srv = users_server
    adm, = ready(srv, "admin")
    t = create_user("operator")
    tid = directory_id(t["username"])
    ts = sign_in(srv, t)
    age_reauth(adm.id)
    before = account_rows(tid)
    n = user_count()
    since = max_event_id()

    new = new_password()
    for path, body in (("/api/users/%d/password" % tid, {"password": new}),
                       ("/api/users/%d/role" % tid, {"role": "auditor"}),
                       ("/api/users/%d/otp" % tid, {}),
                       ("/api/users", user_body())):
        assert_error(adm.post(path, body), 403, "reauth_required")
    assert account_rows(tid) == before
    assert user_count() == n
    assert ts.get("/api/me").status_code == 200
    # Actions that touch no credential do not ask for it.
    r = adm.post("/api/users/%d/unlock" % tid)
    assert r.status_code == 200, (r.status_code, r.text)

    r = adm.post("/api/reauth", {"password": "Not-" + adm.user["password"],
                                 "otp": fresh_code(adm.user)})
    assert_invalid_credentials(r)
    assert_error(adm.post("/api/users/%d/password" % tid,
                          {"password": new}), 403, "reauth_required")

    t0 = int(time.time())
    r = adm.post("/api/reauth", {"password": adm.user["password"],
                                 "otp": fresh_code(adm.user)})
    assert r.status_code == 200, (r.status_code, r.text)
    assert_security_headers(r)
    until = r.json()["reauth_until"]
    assert isinstance(until, int) and until > t0
    assert_audited(since, "reauth", adm.username, adm.username, adm.id)

    r = adm.post("/api/users/%d/password" % tid, {"password": new})
    assert r.status_code == 200, (r.status_code, r.text)
    assert_audited(since, "user.password_reset", adm.username,
                   t["username"], tid)
    d = directory(t["username"])
    assert d["must_change_password"] is True
    assert account_rows(tid)[1]["password_hash"] != \
        before[1]["password_hash"]
    assert_error(ts.get("/api/me"), 401, "unauthenticated")
    assert live_sessions(tid) == []

    # The target signs in with the new password and must change it.
    t["password"] = new
    r = login_ok(srv, t)
    assert r.json()["must_change_password"] is True


# --- 8. auditors read, never change -------------------------------------------

def test_auditor_is_read_only(users_server):
    srv = users_server
    aud, = ready(srv, "auditor")
    t = create_user("operator")
    tid = directory_id(t["username"])
    ts = sign_in(srv, t)
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO auth.lockout (user_id, failures, "
                    "locked_until) VALUES (%s, 0, now() + interval "
                    "'1 hour') ON CONFLICT (user_id) DO UPDATE SET "
                    "locked_until = EXCLUDED.locked_until", (tid,))

    item = listed(aud, t["username"])
    assert item["id"] == tid and item["role"] == "operator"
    assert item["otp"] == "enrolled" and item["locked_until"] is not None
    assert item["last_login_at"] is not None
    assert item["last_login_source"] == "127.0.0.1"
    assert listed(aud, aud.username)["role"] == "auditor"

    before = account_rows(tid)
    own_before = account_rows(aud.id)
    sessions_before = live_sessions(tid)
    n = user_count()
    since = max_event_id()
    name = fresh_name()
    wrong = []
    for target in (tid, aud.id):
        for path, body in (
                ("/api/users", user_body("admin", name)),
                ("/api/users/%d/disable" % target, {}),
                ("/api/users/%d/enable" % target, {}),
                ("/api/users/%d/role" % target, {"role": "admin"}),
                ("/api/users/%d/password" % target,
                 {"password": new_password()}),
                ("/api/users/%d/unlock" % target, {}),
                ("/api/users/%d/sessions/revoke" % target, {}),
                ("/api/users/%d/otp" % target, {})):
            r = aud.post(path, body)
            assert_security_headers(r)
            if r.status_code != 403 or error_of(r) != "forbidden":
                wrong.append("%s: %d %s" % (path, r.status_code, r.text))
    assert not wrong, "\n".join(wrong)

    assert account_rows(tid) == before
    assert account_rows(aud.id) == own_before
    assert live_sessions(tid) == sessions_before
    assert user_count() == n
    assert directory(name) is None
    assert listed(aud, t["username"])["locked_until"] is not None
    assert ts.get("/api/me").status_code == 200
    for who, wid in ((t["username"], tid), (aud.username, aud.id),
                     (name, None)):
        assert not [e for e in audit_since(since, who, wid)
                    if e[3] == "success"], who

    # An auditor still changes their own password and logs out.
    change_password(aud)
    r = aud.post("/api/logout")
    assert r.status_code == 200, (r.status_code, r.text)
    assert_error(aud.get("/api/me"), 401, "unauthenticated")


# --- admin actions take effect and are audited ---------------------------------

def test_admin_actions_take_effect_and_are_audited(users_server):
    srv = users_server
    adm, = ready(srv, "admin")
    t = create_user("operator")
    name = t["username"]
    tid = directory_id(name)
    since = max_event_id()

    # Disable: the session ends and logins are refused.
    s1 = sign_in(srv, t, offset=-STEP)
    r = adm.post("/api/users/%d/disable" % tid)
    assert r.status_code == 200, (r.status_code, r.text)
    assert listed(adm, name)["disabled"] is True
    assert_error(s1.get("/api/me"), 401, "unauthenticated")
    assert live_sessions(tid) == []
    settle()
    assert_invalid_credentials(post_login(srv, name, t["password"],
                                          totp(t).now()))
    assert_audited(since, "user.disabled", adm.username, name, tid)

    # Enable: the account logs in again.
    r = adm.post("/api/users/%d/enable" % tid)
    assert r.status_code == 200, (r.status_code, r.text)
    assert listed(adm, name)["disabled"] is False
    assert_audited(since, "user.enabled", adm.username, name, tid)
    s2 = sign_in(srv, t)

    # Role: one role replaces the other, sessions end.
    r = adm.post("/api/users/%d/role" % tid, {"role": "auditor"})
    assert r.status_code == 200, (r.status_code, r.text)
    assert listed(adm, name)["role"] == "auditor"
    assert directory(name)["role"] == "auditor"
    assert_error(s2.get("/api/me"), 401, "unauthenticated")
    assert_audited(since, "user.role_changed", adm.username, name, tid)
    for bad in ("admin,auditor", "superuser", ""):
        r = adm.post("/api/users/%d/role" % tid, {"role": bad})
        assert r.status_code == 400, (bad, r.status_code, r.text)
    assert directory(name)["role"] == "auditor"

    # Sessions: revoked on demand, counted.
    s3 = sign_in(srv, t)
    assert s3.login_body["user"]["role"] == "auditor"
    r = adm.post("/api/users/%d/sessions/revoke" % tid)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json() == {"revoked": 1}
    assert_error(s3.get("/api/me"), 401, "unauthenticated")
    assert adm.post("/api/users/%d/sessions/revoke" % tid).json() == \
        {"revoked": 0}
    assert_audited(since, "sessions.revoked", adm.username, name, tid)

    # Unlock: an administrator opens a locked account at once.
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO auth.lockout (user_id, failures, "
                    "locked_until) VALUES (%s, 0, now() + interval "
                    "'1 hour') ON CONFLICT (user_id) DO UPDATE SET "
                    "locked_until = EXCLUDED.locked_until", (tid,))
    assert isinstance(listed(adm, name)["locked_until"], int)
    r = adm.post("/api/users/%d/unlock" % tid)
    assert r.status_code == 200, (r.status_code, r.text)
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT locked_until IS NULL OR locked_until <= now()"
                    " FROM auth.directory WHERE id = %s", (tid,))
        assert cur.fetchone()[0] is True
    assert_audited(since, "account.unlocked", adm.username, name, tid)
    # The admin's own session was never touched.
    assert adm.get("/api/me").status_code == 200
