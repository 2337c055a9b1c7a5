"""What the integration suites share (pgbouncer's test/utils.py): signing
in with codes from pyotp (an implementation independent of the
server's), one request with the headers a browser sends, a signed-in
session, and the shape of answers. Test files import from here, never
from one another."""
import hashlib
import hmac
import json
import os
import re
import time
import unicodedata
import uuid

import pyotp
import requests

from conftest import STACK, create_user, db

COOKIE_NAME = "__Host-pc_session"
COOKIE_RE = re.compile(
    r"__Host-pc_session=([A-Za-z0-9_-]{43}); Path=/; Secure; HttpOnly; "
    r"SameSite=Strict; Max-Age=(\d+)")
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
DEVICE_NAME = "__Host-pc_device"
DEVICE_RE = re.compile(
    r"__Host-pc_device=([A-Za-z0-9_-]{43}\.[1-9][0-9]*\.[A-Za-z0-9_-]{43}); "
    r"Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=(\d+)")
INVALID = {"error": "invalid_credentials",
           "message": "The username, password or one-time code is not "
                      "correct."}
# Servers in this file do not block 127.0.0.1 unless the test is about it.
NO_SOURCE_BLOCK = {"source_fail_threshold": "1000"}
STEP = 30


def post_login(srv, username, password, otp, headers=None):
    return requests.post(srv.url + "/api/login", verify=False, timeout=120,
                         headers=headers, json={
                             "username": username, "password": password,
                             "otp": otp})


def totp(user):
    return pyotp.TOTP(user["totp_secret_base32"])


def settle():
    """Keep clear of a step boundary, so the step a code was computed for
    is still current (or just previous) when the server checks it."""
    into = time.time() % STEP
    if into > STEP - 2:
        time.sleep(STEP - into + 0.2)


def login_ok(srv, user, offset=0, headers=None):
    """A successful login with the code of (now + offset). Waits for the
    next step if this user already had this step accepted."""
    last = user.get("last_step")
    while True:
        settle()
        now = time.time()
        step = int((now + offset) // STEP)
        if last is None or step > last:
            break
        time.sleep((last + 1) * STEP - (now + offset) + 0.3)
    r = post_login(srv, user["username"], user["password"],
                   totp(user).at(now + offset), headers=headers)
    assert r.status_code == 200, (r.status_code, r.text)
    user["last_step"] = step
    return r


def session_cookie(r):
    """(token, max_age) from the one session Set-Cookie of an answer; a
    login's may carry one device cookie beside it, nothing else."""
    cookies = r.raw.headers.getlist("Set-Cookie")
    session = [c for c in cookies if c.startswith(COOKIE_NAME + "=")]
    device = [c for c in cookies if c.startswith(DEVICE_NAME + "=")]
    assert len(session) == 1 and len(device) <= 1, cookies
    assert len(session) + len(device) == len(cookies), cookies
    m = COOKIE_RE.fullmatch(session[0])
    assert m, session[0]
    return m.group(1), int(m.group(2))


def device_cookie(r):
    """(value, max_age) of the device cookie a login answer set, or
    None."""
    for c in r.raw.headers.getlist("Set-Cookie"):
        m = DEVICE_RE.fullmatch(c)
        if m:
            return m.group(1), int(m.group(2))
        assert not c.startswith(DEVICE_NAME + "="), c
    return None


def cookie_header(token):
    return {"Cookie": "%s=%s" % (COOKIE_NAME, token)}


def assert_security_headers(r):
    h = r.headers
    assert "max-age=" in h.get("Strict-Transport-Security", ""), dict(h)
    assert "default-src 'self'" in h.get("Content-Security-Policy", ""), \
        dict(h)
    assert h.get("X-Content-Type-Options") == "nosniff", dict(h)
    assert h.get("Referrer-Policy") == "no-referrer", dict(h)
    assert h.get("Cache-Control") == "no-store", dict(h)


def assert_invalid_credentials(r):
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.json() == INVALID
    assert "Set-Cookie" not in r.headers
    assert_security_headers(r)


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


def renewed(sess, r):
    """A password change or re-authentication answered 200: the session
    goes on under the new token its cookie carries, with the CSRF token
    of the /api/me members in the body (as at login)."""
    assert r.status_code == 200, (r.status_code, r.text)
    token, _ = session_cookie(r)
    assert token != sess.token
    body = r.json()
    assert body["csrf_token"] != sess.csrf
    assert body["user"]["id"] == sess.id
    sess.token, sess.csrf = token, body["csrf_token"]
    return r


def change_password(sess, new=None):
    """POST /api/password with the current password and a fresh code."""
    new = new or new_password()
    r = sess.post("/api/password", {
        "current_password": sess.user["password"],
        "otp": fresh_code(sess.user), "new_password": new})
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json()["status"] == "password_changed"
    assert r.json()["must_change_password"] is False
    renewed(sess, r)
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


def own_txn(amount=50000, status="captured", prefix="T"):
    """A transaction of the caller's own, inserted as the owner (seed
    data): captured (the whole amount) or authorized. (id, version)."""
    assert status in ("captured", "authorized"), status
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO payments.transactions (merchant_order_id, amount, "
            "status, card_brand, card_last4, cardholder_name, "
            "cardholder_email, captured_amount) VALUES (%s, %s, %s, "
            "'visa', '4242', 'Own Test', 'own@example.com', %s) "
            "RETURNING id, version",
            ("%s-%s" % (prefix, uuid.uuid4().hex[:12]), amount, status,
             amount if status == "captured" else 0))
        return cur.fetchone()


def name_tag(name):
    """How the server records a username that matches no account
    (src/nametag.c), computed with Python's hmac from the key file the
    test servers share: "unknown:" + 16 hex + ":" + length. The fold is
    NFKC, then each character's simple lower case (as PostgreSQL's
    lower() finds accounts). It differs from ICU's u_tolower only for
    the few characters whose full and simple mappings differ (İ); the
    tests use none."""
    with open(os.path.join(STACK, "keys", "totp.key")) as f:
        _, hexkey = f.read().split()
    key = hmac.new(bytes.fromhex(hexkey),
                   b"payconsole unknown-username tag v1",
                   hashlib.sha256).digest()
    folded = "".join(c.lower() if len(c.lower()) == 1 else c
                     for c in unicodedata.normalize("NFKC", name))
    mac = hmac.new(key, folded.encode(), hashlib.sha256).hexdigest()[:16]
    return "unknown:%s:%d" % (mac, len(folded))


# --- codes, passwords and records the login suites check -----------------

def wrong_code(user):
    """A 6-digit code that is valid for no step near now."""
    t = totp(user)
    now = time.time()
    near = {t.at(now + d) for d in (-90, -60, -30, 0, 30, 60, 90)}
    c = int(t.at(now))
    while "%06d" % c in near:
        c = (c + 1) % 1000000
    return "%06d" % c


def wrong_password(user):
    return "Not-" + user["password"] + "-9"


def me(srv, token):
    return requests.get(srv.url + "/api/me", headers=cookie_header(token),
                        verify=False, timeout=60)


def events(target, event=None):
    """[(id, event, outcome, details)] about target, oldest first."""
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT id, event, outcome, details FROM audit.events "
                    "WHERE target = %s AND (%s::text IS NULL OR event = %s)"
                    " ORDER BY id", (target, event, event))
        return cur.fetchall()


def failure_reasons(target):
    return [e[3].get("reason") for e in events(target, "login.failure")]


def directory_id(username):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM auth.directory WHERE username = %s",
                    (username,))
        return cur.fetchone()[0]


def hours_text(start, end):
    """HH:MM-HH:MM from two datetimes; an end at midnight is 24:00."""
    e = "%02d:%02d" % (end.hour, end.minute)
    return "%02d:%02d-%s" % (start.hour, start.minute,
                             "24:00" if e == "00:00" else e)


def max_event_id():
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM audit.events")
        return cur.fetchone()[0]


def user_body(role="operator", username=None):
    return {"username": username or fresh_name(),
            "display_name": "利用者 " + uuid.uuid4().hex[:6],
            "role": role}


def directory(username):
    """The user as auth.directory shows it (dict), or None."""
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT row_to_json(d) FROM auth.directory d "
                    "WHERE username = %s", (username,))
        row = cur.fetchone()
        return row[0] if row else None


def json_members(o):
    """(key, value) of every object member, nested ones included."""
    if isinstance(o, dict):
        for k, v in o.items():
            yield k, v
            yield from json_members(v)
    elif isinstance(o, list):
        for v in o:
            yield from json_members(v)
