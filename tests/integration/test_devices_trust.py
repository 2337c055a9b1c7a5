"""Issue 15, parts 1 and 2: device cookies and the trusted lane.

A successful login gives the browser __Host-pc_device (a random secret,
its expiry and the username under a MAC keyed outside the database; the
database keeps only the secret's hash). A later login that presents a
live device cookie for the name it claims is trusted: the account-wide
lockout and the per-source block do not refuse it, and it has its own
failure count per device. Everything else is untrusted and meets the
lockout as before. So five wrong passwords from another address lock
the account for untrusted clients, and the owner still signs in from
their own browser."""
import base64
import hashlib
import json
import threading
import time
import uuid

import pytest

from conftest import db, module_server
from people import (DEVICE_NAME, STEP, Session, assert_invalid_credentials,
                    change_password,
                    device_cookie, events, failure_reasons, login_ok,
                    post_login, settle, totp, wrong_password)
from wire import raw, read_answer_body, tls_connect

pytestmark = pytest.mark.usefixtures("no_source_blocks")

OWNER = "127.0.0.1"         # requests' own source: the owner's browser
ATTACKER = "127.0.0.2"
BLOCKED = "127.0.0.5"
THRESHOLD = 5

POLICY = {
    "allow_cidr": ["127.0.0.0/28"],
    "lockout_threshold": str(THRESHOLD),
    "source_fail_threshold": "3",
    "source_fail_exempt": [OWNER + "/32", ATTACKER + "/32"],
    "device_sources_alert": "3",
}
srv = module_server("devices", policy=POLICY)


def with_device(value):
    return {"Cookie": "%s=%s" % (DEVICE_NAME, value)}


def login_from(srv, source, user, password=None, code=None, device=None):
    """A login over raw TLS from source: (status, body)."""
    body = json.dumps({
        "username": user["username"],
        "password": password if password is not None else
        user["password"],
        "otp": code if code is not None else "000000"}).encode()
    headers = [b"Content-Type: application/json", b"Connection: close"]
    if device is not None:
        headers.append(("Cookie: %s=%s" % (DEVICE_NAME, device)).encode())
    t = tls_connect(srv, timeout=60, source=source)
    try:
        t.sendall(raw("POST", "/api/login", headers, body))
        status, _, answer = read_answer_body(t)
    finally:
        t.close()
    return status, json.loads(answer)


def first_device(srv, user):
    """The first login (the code of the previous step, so the next
    login may use the current one): the device cookie it set."""
    r = login_ok(srv, user, offset=-STEP)
    got = device_cookie(r)
    assert got is not None, r.raw.headers.getlist("Set-Cookie")
    return got[0]


def lock_out(srv, user):
    """THRESHOLD wrong passwords from the attacker's address: the
    account is locked for untrusted clients."""
    for _ in range(THRESHOLD):
        status, body = login_from(srv, ATTACKER, user,
                                  password=wrong_password(user))
        assert status == 401, body
    assert events(user["username"], "account.locked") != []


def current_code(user):
    """The code of the current step, unused so far (see first_device)."""
    settle()
    return totp(user).now()


def device_row(user):
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT d.id, d.secret_hash, d.failures, "
                    "d.locked_until > now(), host(d.created_source) "
                    "FROM auth.devices d JOIN auth.users u "
                    "ON u.id = d.user_id WHERE u.username = %s "
                    "ORDER BY d.id", (user["username"],))
        return cur.fetchall()


def secret_of(value):
    return base64.urlsafe_b64decode(value.split(".")[0] + "=")


def test_a_login_issues_a_device_cookie_kept_only_as_a_hash(srv, new_user):
    u = new_user()
    r = login_ok(srv, u, offset=-STEP)
    value, max_age = device_cookie(r)
    # Long-lived: device_cookie_days (90) from now.
    assert abs(max_age - 90 * 86400) < 60, max_age
    expires = int(value.split(".")[1])
    assert abs(expires - (time.time() + 90 * 86400)) < 60
    rows = device_row(u)
    assert len(rows) == 1
    dev_id, stored, failures, locked, created = rows[0]
    assert bytes(stored) == hashlib.sha256(secret_of(value)).digest()
    assert (failures, locked, created) == (0, None, OWNER)
    assert [e[3]["device"] for e in
            events(u["username"], "device.issued")] == [dev_id]

    # The same browser again: trusted, its device used, no new cookie.
    r = post_login(srv, u["username"], u["password"], current_code(u),
                   headers=with_device(value))
    assert r.status_code == 200, r.text
    assert device_cookie(r) is None
    assert len(device_row(u)) == 1
    assert [e[3]["device"] for e in
            events(u["username"], "device.used")] == [dev_id]
    success = events(u["username"], "login.success")
    assert success[-1][3].get("device") == dev_id


def test_the_owner_signs_in_through_a_lockout(srv, new_user):
    u = new_user()
    value = first_device(srv, u)
    lock_out(srv, u)

    # An untrusted client with the right password and code: refused
    # without a hash, as locked.
    code = current_code(u)
    status, body = login_from(srv, OWNER, u, code=code)
    assert status == 401, body
    assert failure_reasons(u["username"])[-1] == "locked"

    # The owner's browser: its device cookie makes it trusted.
    status, body = login_from(srv, OWNER, u, code=code, device=value)
    assert status == 200, body
    assert body["user"]["username"] == u["username"]

    # The owner's success leaves the lock in force for everyone else.
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT locked_until > now() FROM auth.lockout l "
                    "JOIN auth.users u ON u.id = l.user_id "
                    "WHERE u.username = %s", (u["username"],))
        assert cur.fetchone() == (True,)


def test_a_cookie_counts_only_for_its_own_account(srv, new_user):
    a, b = new_user(), new_user()
    value_a = first_device(srv, a)
    first_device(srv, b)
    lock_out(srv, b)
    status, body = login_from(srv, OWNER, b, code=current_code(b),
                              device=value_a)
    assert status == 401, body
    assert failure_reasons(b["username"])[-1] == "locked"


@pytest.mark.parametrize("spoil", ["forged_mac", "forged_expiry",
                                   "expired", "revoked"])
def test_a_spoilt_cookie_is_untrusted(srv, new_user, spoil):
    u = new_user()
    value = first_device(srv, u)
    secret, expiry, mac = value.split(".")
    dev_id = device_row(u)[0][0]
    if spoil == "forged_mac":
        value = ".".join([secret, expiry, ("A" if mac[0] != "A" else "B")
                          + mac[1:]])
    elif spoil == "forged_expiry":
        value = ".".join([secret, str(int(expiry) + 86400), mac])
    else:
        with db("pc_owner") as conn, conn.cursor() as cur:
            if spoil == "expired":
                cur.execute("UPDATE auth.devices SET expires_at = "
                            "now() - interval '1 second' WHERE id = %s",
                            (dev_id,))
            else:
                cur.execute("UPDATE auth.devices SET revoked_at = now(), "
                            "revoke_reason = 'user' WHERE id = %s",
                            (dev_id,))
    lock_out(srv, u)
    status, body = login_from(srv, OWNER, u, code=current_code(u),
                              device=value)
    assert status == 401, body
    assert failure_reasons(u["username"])[-1] == "locked"


def test_a_revocation_holds_on_every_instance(srv, make_server, new_user):
    """Trust is decided by the database at every attempt, never from a
    worker's memory: a device revoked through one instance is untrusted
    at the next attempt on another."""
    other = make_server("devices-other", policy=POLICY).start()
    u = new_user()
    r = login_ok(srv, u, offset=-STEP)
    value, _ = device_cookie(r)
    browser = Session(srv, u, r)
    change_password(browser)      # before anything else it may do
    dev_id = device_row(u)[0][0]
    lock_out(srv, u)

    # Trusted on the other instance: its failure is the device's.
    status, body = login_from(other, OWNER, u, password=wrong_password(u),
                              device=value)
    assert status == 401, body
    assert events(u["username"], "login.failure")[-1][3].get("device") \
        == dev_id

    r = browser.post("/api/devices/%d/revoke" % dev_id)
    assert r.status_code == 200, r.text
    status, body = login_from(other, OWNER, u, code=current_code(u),
                              device=value)
    assert status == 401, body
    last = events(u["username"], "login.failure")[-1][3]
    assert (last["reason"], last.get("device")) == ("locked", None)


def test_a_device_locks_after_its_own_failures(srv, new_user):
    u = new_user()
    value = first_device(srv, u)
    dev_id = device_row(u)[0][0]
    for _ in range(THRESHOLD):
        status, body = login_from(srv, ATTACKER, u,
                                  password=wrong_password(u), device=value)
        assert status == 401, body
    failures = events(u["username"], "login.failure")
    assert [e[3].get("device") for e in failures] == \
        [dev_id] * THRESHOLD
    locked = events(u["username"], "device.locked")
    assert [e[3]["device"] for e in locked] == [dev_id]
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit.alerts WHERE rule = "
                    "'device_locked' AND key = %s", (u["username"],))
        assert cur.fetchone() == (1,)
    # The device is locked; the account is not.
    assert events(u["username"], "account.locked") == []
    code = current_code(u)
    status, body = login_from(srv, OWNER, u, code=code, device=value)
    assert status == 401, body
    status, body = login_from(srv, OWNER, u, code=code)
    assert status == 200, body


def test_a_blocked_source_does_not_refuse_a_trusted_attempt(srv, new_user):
    u = new_user()
    value = first_device(srv, u)
    for _ in range(3):
        status, body = login_from(srv, BLOCKED, {"username": "nobody-x"},
                                  password="Wrong-password-1")
        assert status in (401, 429), body
    status, body = login_from(srv, BLOCKED, u, code=current_code(u))
    assert (status, body["error"]) == (429, "rate_limited")
    status, body = login_from(srv, BLOCKED, u, code=current_code(u),
                              device=value)
    assert status == 200, body


def test_a_cookie_presented_from_many_sources_is_alerted(srv, new_user):
    u = new_user()
    value = first_device(srv, u)
    for source in ("127.0.0.6", "127.0.0.7"):
        status, body = login_from(srv, source, u,
                                  password=wrong_password(u), device=value)
        assert status == 401, body
    many = events(u["username"], "device.many_sources")
    assert [e[3]["sources_24h"] for e in many] == [3]
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit.alerts WHERE rule = "
                    "'device_many_sources' AND key = %s",
                    (u["username"],))
        assert cur.fetchone() == (1,)


def test_a_failed_login_sets_no_device_cookie(srv, new_user):
    u = new_user()
    r = post_login(srv, u["username"], wrong_password(u), "000000")
    assert_invalid_credentials(r)
    assert device_row(u) == []


def test_trusted_logins_get_through_a_storm(make_server, new_user):
    """Untrusted attempts from 48 addresses keep every slot they may
    take busy and the queue full (their sources are never blocked here:
    the worst case for the queue); each real user whose browser holds a
    device cookie still signs in, because trusted attempts wait ahead
    of every untrusted one and one slot per worker is theirs. The
    success path only: timings are make bench's."""
    storm_srv = make_server("devstorm", workers=1, policy={
        "allow_cidr": ["127.0.0.0/28", "127.0.1.0/24"],
        "argon2_inflight": "2",
        # A slow hash: an untrusted attempt waits behind the first
        # attempt of every storm address, longer than its second.
        "argon2_t": "8",
        "argon2_m_kib": "262144",
        "source_fail_threshold": "1000",
    }).start()
    users = [new_user() for _ in range(6)]
    devices = [first_device(storm_srv, u) for u in users]

    answers = []
    stop = threading.Event()

    def knock(source):
        while not stop.is_set():
            # A fresh name each time: no name lock stops the hashing.
            status, _ = login_from(storm_srv, source,
                                   {"username": "storm-" +
                                    uuid.uuid4().hex[:12]},
                                   password="Not-a-password-1")
            answers.append(status)

    # One client per address: each is first in line for its address, so
    # an untrusted newcomer waits behind all of them.
    threads = [threading.Thread(target=knock, args=("127.0.1.%d" % i,))
               for i in range(1, 49)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)
        results = [login_from(storm_srv, OWNER, u, code=current_code(u),
                              device=d)
                   for u, d in zip(users, devices)]
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert [s for s, _ in results] == [200] * len(users), results
    # The storm did fill the untrusted lane: some of it was refused for
    # lack of a slot.
    assert answers.count(429) > 0, answers
