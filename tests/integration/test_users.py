"""Issue 4: users and roles. The central permission table route by role,
default deny for unlisted routes, one role per account (also in the
database), admins cannot act on themselves, first sign-in with a QR code
that decodes to the otpauth URI, self-service password change,
re-authentication for credential-touching admin actions, and auditors
who can read but never change. (Since issue 12 what gives access is a
request a second person approves: test_separation.py.)

Codes come from pyotp, an implementation independent of the server's.
Each TOTP step is accepted once per user, so every test makes its own
users and waits for the next 30 s step when one user needs another code.
Users made by `payconsole-admin create-user` must change their password
first; ready() signs them in and does that."""
import base64
import re
import shutil
import subprocess
import time

import psycopg2
import psycopg2.errors
import pyotp
import pytest

from conftest import create_user, db, module_server
from people import (NO_SOURCE_BLOCK, STEP, Session, api, assert_error,
                    assert_invalid_credentials, assert_security_headers,
                    change_password, directory, directory_id, error_of,
                    fresh_code, fresh_name, login_ok, max_event_id,
                    new_password, post_login, ready, renewed, session_cookie,
                    settle, sign_in, totp, user_body, wrong_code)
from permissions import MATRIX, PUBLIC, ROLES

USER_KEYS = {"id", "username", "display_name", "role", "disabled",
             "locked_until", "last_login_at", "last_login_source", "otp",
             "password_changed_at", "must_change_password", "enrolling",
             "enrolment_expires_at"}
URI_RE = (r"otpauth://totp/payconsole:%s\?secret=([A-Z2-7]+=*)"
          r"&issuer=payconsole&algorithm=SHA1&digits=6&period=30")
UNKNOWN_ID = 987654321


# --- fixtures -------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("no_source_blocks")


users_server = module_server("users", workers=2, policy=dict(
    NO_SOURCE_BLOCK, lockout_threshold="10"))


# --- helpers --------------------------------------------------------------


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
    assert item["otp"] in ("none", "enrolled")
    assert isinstance(item["enrolling"], bool)
    assert (item["enrolment_expires_at"] is None) != item["enrolling"]
    # An account that never finished first sign-in has no password.
    assert isinstance(item["password_changed_at"], int) or (
        item["password_changed_at"] is None and item["otp"] == "none")
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


def approve(sess, a):
    return sess.post("/api/approvals/%d/approve" % a["id"],
                     {"operation_sha256": a["operation_sha256"]})


# --- 1. the permission matrix ----------------------------------------------


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
        path = path.replace("{id}", str(tid)).replace(
            "{week}", "2026-W01").replace("{half}", "2026-H1").replace(
            "{day}", "2026-01-01")
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
        ("POST", "/api/otp/confirm"),
        ("GET", "/api/enrolment/begin"),
        ("POST", "/api/approvals/%d" % tid),
        ("POST", "/api/approvals/%d/approve/now" % tid),
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
            ("/api/users/%d/password" % adm.id, {}),
            ("/api/users/%d/enable" % adm.id, {}),
            ("/api/users/%d/enrolment/revoke" % adm.id, {}),
            ("/api/users/%d/disable" % adm.id, {})):
        r = adm.post(path, body)
        assert_error(r, 403, "self_forbidden")
        assert account_rows(adm.id) == before, path
    assert live_sessions(adm.id) == sessions_before
    m = adm.get("/api/me")
    assert m.status_code == 200, m.text
    assert m.json()["user"]["role"] == "admin"
    for ev in ("user.role_changed", "user.password_reset",
               "user.device_reset", "approval.requested", "user.disabled"):
        assert not [e for e in audit_since(since, adm.username, adm.id, ev)
                    if e[3] == "success"], ev


# --- 4. first sign-in round trip ---------------------------------------------

def enrolment(srv, step, body):
    return api(srv, "POST", "/api/enrolment/" + step, body=body)


def test_enrolment_round_trip(users_server, tmp_path):
    srv = users_server
    adm, adm2 = ready(srv, "admin", "admin")
    since = max_event_id()

    body = user_body("operator")
    name = body["username"]
    r = adm.post("/api/users", body)
    assert r.status_code == 202, (r.status_code, r.text)
    assert_security_headers(r)
    ans = r.json()
    assert set(ans) == {"approval", "enrolment_code", "enrolment_code_part"}
    a, half1 = ans["approval"], ans["enrolment_code"]
    assert a["operation"] == dict(body, kind="user.create")
    assert a["requested_by"] == adm.username and a["enrolment"] is True
    assert directory(name) is None
    # Usernames are unique, also among requests; fields are checked.
    taken = adm2.username
    assert_error(adm.post("/api/users", user_body("operator", taken)),
                 409, "conflict")
    assert_error(adm2.post("/api/users", user_body("auditor", name)),
                 409, "approval_pending")
    for bad in (dict(user_body(), role="admin,auditor"),
                dict(user_body(), role="superuser"),
                {"username": fresh_name(), "role": "operator"},
                dict(user_body(), username="two words")):
        r = adm.post("/api/users", bad)
        assert r.status_code == 400, (bad, r.status_code, r.text)

    r = approve(adm2, a)
    assert r.status_code == 200, (r.status_code, r.text)
    half2 = r.json()["enrolment_code"]
    uid = r.json()["result"]["user_id"]
    assert uid == directory_id(name)
    item = listed(adm, name)
    assert item["enrolling"] is True and item["otp"] == "none"
    assert item["password_changed_at"] is None
    # The approval's enrolment_ttl_seconds (24 h by default) from now.
    assert abs(item["enrolment_expires_at"] - time.time() - 86400) < 300
    assert_audited(since, "user.created", adm2.username, name, uid)

    # No factor exists yet: nothing logs in.
    assert_invalid_credentials(post_login(srv, name, "Whatever-pass-1",
                                          "123456"))
    # The password policy holds at first sign-in; wrong halves are the
    # same 401 as any credential failure.
    codes = {"username": name, "code_1": half1, "code_2": half2}
    r = enrolment(srv, "begin", dict(codes, password="Password1234"))
    assert_error(r, 400, "password_rejected")
    assert r.json()["reason"] == "password_common"
    for c1, c2 in ((half2, half1), (half1, "not a code"), (half1, "")):
        r = enrolment(srv, "begin", dict(codes, code_1=c1, code_2=c2,
                                         password=new_password()))
        assert_error(r, 401, "invalid_credentials")
    r = enrolment(srv, "begin", {"username": name, "code_1": half1})
    assert_error(r, 400, "invalid_request")

    password = new_password()
    r = enrolment(srv, "begin", dict(codes, password=password))
    assert r.status_code == 200, (r.status_code, r.text)
    assert_security_headers(r)
    ans = r.json()
    uri = ans["otpauth_uri"]
    secret = uri_secret(uri, name)
    assert re.search(r"<svg[\s>]", ans["qr_svg"]), ans["qr_svg"][:200]
    assert "<script" not in ans["qr_svg"].lower()
    assert qr_decode(ans["qr_svg"], tmp_path) == uri
    user = {"username": name, "password": password,
            "totp_secret_base32": secret}

    # Staged, not active: neither the password nor a code logs in yet.
    settle()
    assert_invalid_credentials(post_login(srv, name, password,
                                          pyotp.TOTP(secret).now()))
    r = enrolment(srv, "finish", dict(codes, otp=wrong_code(user)))
    assert_error(r, 401, "invalid_credentials")
    assert listed(adm, name)["enrolling"] is True

    # The previous step's code (one step either way is accepted): the
    # login below then needs no wait for a new step.
    settle()
    then = time.time() - STEP
    code = pyotp.TOTP(secret).at(then)
    user["last_step"] = int(then // STEP)
    r = enrolment(srv, "finish", dict(codes, otp=code))
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json() == {"status": "enrolled"}
    item = listed(adm, name)
    assert item["otp"] == "enrolled" and item["enrolling"] is False
    assert item["must_change_password"] is False
    ev = audit_since(since, name, uid, "enrolment.completed")
    assert ev and ev[-1][0] == name

    # The code that confirmed is used up; the halves are spent.
    assert_invalid_credentials(post_login(srv, name, password, code))
    r = enrolment(srv, "begin", dict(codes, password=new_password()))
    assert_error(r, 401, "invalid_credentials")

    # The next step's code logs in, with no forced password change.
    r = login_ok(srv, user)
    assert r.json()["must_change_password"] is False
    assert r.json()["user"]["id"] == uid


def test_admin_withdraws_an_open_enrolment(users_server):
    srv = users_server
    adm, adm2 = ready(srv, "admin", "admin")
    body = user_body("operator")
    r = adm.post("/api/users", body)
    a, half1 = r.json()["approval"], r.json()["enrolment_code"]
    r = approve(adm2, a)
    half2, uid = r.json()["enrolment_code"], r.json()["result"]["user_id"]
    r = adm.post("/api/users/%d/enrolment/revoke" % uid)
    assert r.status_code == 200 and r.json() == {"revoked": 1}, r.text
    r = enrolment(srv, "begin", {"username": body["username"],
                                 "code_1": half1, "code_2": half2,
                                 "password": new_password()})
    assert_error(r, 401, "invalid_credentials")
    assert listed(adm, body["username"])["enrolling"] is False


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


def token_bytes(token):
    return base64.urlsafe_b64decode(token + "=")


def assert_renewed(sess, old_token, old_csrf, login_answer, answer):
    """The session goes on under its new token only: the old cookie is
    refused at once (for reading and for changing), the new one works
    with the new CSRF token and not with the old one, and the session
    is the same one with the same absolute end (a renewal never
    lengthens a session)."""
    assert_error(api(sess.srv, "GET", "/api/me", old_token), 401,
                 "unauthenticated")
    assert_error(api(sess.srv, "POST", "/api/logout", old_token, old_csrf,
                     {}), 401, "unauthenticated")
    m = sess.get("/api/me")
    assert m.status_code == 200, m.text
    assert m.json()["csrf_token"] == sess.csrf
    assert m.json()["user"] == login_answer.json()["user"]
    assert m.json()["absolute_expires_at"] == \
        login_answer.json()["absolute_expires_at"]
    _, login_max_age = session_cookie(login_answer)
    _, max_age = session_cookie(answer)
    assert 0 < max_age <= login_max_age
    assert_error(api(sess.srv, "POST", "/api/logout", sess.token, old_csrf,
                     {}), 403, "csrf_failed")
    assert sess.get("/api/me").status_code == 200


def test_password_change_gives_the_session_a_new_token(users_server):
    srv = users_server
    u = create_user("operator")
    login = login_ok(srv, u, offset=-STEP)
    s = Session(srv, u, login)
    old_token, old_csrf = s.token, s.csrf
    since = max_event_id()

    r = change_password(s)
    assert_security_headers(r)
    body = r.json()
    assert body["user"]["username"] == u["username"]
    assert body["absolute_expires_at"] == login.json()["absolute_expires_at"]
    assert_renewed(s, old_token, old_csrf, login, r)
    assert_audited(since, "password.changed", u["username"], u["username"],
                   s.id)
    # The new CSRF token changes state; afterwards the new cookie is
    # gone too.
    r = s.post("/api/logout")
    assert r.status_code == 200, r.text
    assert_error(s.get("/api/me"), 401, "unauthenticated")


def test_failed_password_change_keeps_the_token(users_server):
    srv = users_server
    s, = ready(srv, "operator")
    r = s.post("/api/password", {"current_password": "Not-" +
                                 s.user["password"],
                                 "otp": fresh_code(s.user),
                                 "new_password": new_password()})
    assert_invalid_credentials(r)
    assert s.get("/api/me").json()["csrf_token"] == s.csrf


def test_new_session_token_must_be_new(users_server):
    """The database takes a renewal only with a new 32-byte token, from
    the runtime role that calls it: the old token again (no renewal) or
    a short one is refused before anything changes."""
    s, = ready(users_server, "admin")
    tok = psycopg2.Binary(token_bytes(s.token))
    for new in (tok, psycopg2.Binary(b"x" * 31), None):
        for sql, args in (
                ("SELECT auth.reauthenticated(%s, '127.0.0.1', 1, %s)",
                 (tok, new)),
                ("SELECT auth.password_changed(%s, '127.0.0.1', 1, 'h', "
                 "%s)", (tok, new))):
            with db("pc_auth") as conn, conn.cursor() as cur:
                with pytest.raises(psycopg2.errors.InvalidParameterValue):
                    cur.execute(sql, args)
    assert s.get("/api/me").json()["csrf_token"] == s.csrf


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

    for path, body in (("/api/users/%d/password" % tid, {}),
                       ("/api/users/%d/role" % tid, {"role": "auditor"}),
                       ("/api/users/%d/otp" % tid, {}),
                       ("/api/users/%d/enable" % tid, {}),
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
    assert_error(adm.post("/api/users/%d/password" % tid, {}), 403,
                 "reauth_required")

    t0 = int(time.time())
    r = adm.post("/api/reauth", {"password": adm.user["password"],
                                 "otp": fresh_code(adm.user)})
    assert r.status_code == 200, (r.status_code, r.text)
    assert_security_headers(r)
    renewed(adm, r)
    until = r.json()["reauth_until"]
    assert isinstance(until, int) and until > t0
    assert_audited(since, "reauth", adm.username, adm.username, adm.id)

    r = adm.post("/api/users/%d/password" % tid, {})
    assert r.status_code == 202, (r.status_code, r.text)
    assert_audited(since, "approval.requested", adm.username,
                   t["username"], None)
    # A request: nothing changed until a second admin approves.
    assert account_rows(tid) == before
    assert ts.get("/api/me").status_code == 200


def test_reauth_gives_the_session_a_new_token(users_server):
    srv = users_server
    u = create_user("admin")
    login = login_ok(srv, u, offset=-STEP)
    s = Session(srv, u, login)
    change_password(s)
    t = create_user("operator")
    tid = directory_id(t["username"])
    age_reauth(s.id)
    old_token, old_csrf = s.token, s.csrf
    assert_error(s.post("/api/users/%d/password" % tid, {}), 403,
                 "reauth_required")

    r = s.post("/api/reauth", {"password": u["password"],
                               "otp": fresh_code(u)})
    renewed(s, r)
    assert_security_headers(r)
    body = r.json()
    assert isinstance(body["reauth_until"], int)
    assert body["must_change_password"] is False
    assert_renewed(s, old_token, old_csrf, login, r)
    # The old token with the old CSRF token cannot use the fresh proof;
    # the new pair can.
    assert_error(api(srv, "POST", "/api/users/%d/password" % tid,
                     old_token, old_csrf, {}), 401, "unauthenticated")
    r = s.post("/api/users/%d/password" % tid, {})
    assert r.status_code == 202, (r.status_code, r.text)


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
                ("/api/users/%d/password" % target, {}),
                ("/api/users/%d/enrolment/revoke" % target, {}),
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
    adm, adm2, aud = ready(srv, "admin", "admin", "auditor")
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

    # Enable: a second admin approves; the account logs in again.
    r = adm.post("/api/users/%d/enable" % tid)
    assert r.status_code == 202, (r.status_code, r.text)
    assert listed(adm, name)["disabled"] is True
    assert approve(adm2, r.json()["approval"]).status_code == 200
    assert listed(adm, name)["disabled"] is False
    assert_audited(since, "user.enabled", adm2.username, name, tid)
    s2 = sign_in(srv, t)

    # Role: one role replaces the other, sessions end (an auditor's
    # role is an auditor's to approve).
    r = adm.post("/api/users/%d/role" % tid, {"role": "auditor"})
    assert r.status_code == 202, (r.status_code, r.text)
    assert approve(aud, r.json()["approval"]).status_code == 200
    assert listed(adm, name)["role"] == "auditor"
    assert directory(name)["role"] == "auditor"
    assert_error(s2.get("/api/me"), 401, "unauthenticated")
    assert_audited(since, "user.role_changed", aud.username, name, tid)
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
