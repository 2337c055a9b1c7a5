"""Issue 3, the remaining login behaviours: rehash when the argon2
parameters were raised, usernames compared after NFKC normalisation and
case folding, X-Forwarded-For believed only from a trusted proxy; and
issue 13's shared NAT address, unknown names kept as tags and locked
exactly like accounts, and the lockout race (parallel attempts check at
most the threshold's passwords)."""
import json
import re
import threading
import uuid

import pytest
import requests

from conftest import Server, db
from people import name_tag
from wire import login_from, raw, read_answer, tls_connect
from test_login import (NO_SOURCE_BLOCK, clear_source_blocks, login_ok,
                        settle, totp)


@pytest.fixture(autouse=True)
def _no_source_blocks():
    clear_source_blocks()
    yield
    clear_source_blocks()


def stored_hash(username):
    with db("pc_auth") as conn, conn.cursor() as cur:
        cur.execute("SELECT c.password_hash FROM auth.credentials c "
                    "JOIN auth.users u ON u.id = c.user_id "
                    "WHERE u.username = %s", (username,))
        return cur.fetchone()[0]


def params(encoded):
    m = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", encoded)
    assert m, encoded
    return tuple(int(x) for x in m.groups())


def last_event(username, event):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT host(source), details FROM audit.events "
                    "WHERE target = %s AND event = %s "
                    "ORDER BY id DESC LIMIT 1", (username, event))
        return cur.fetchone()


def test_rehash_when_parameters_were_raised(make_server, new_user):
    weak = make_server("weak", policy=dict(NO_SOURCE_BLOCK))
    user = new_user(site=weak.dir)          # hashed with t=1, m=8192
    assert params(stored_hash(user["username"]))[:2] == (8192, 1)

    strong = make_server("strong", policy=dict(
        NO_SOURCE_BLOCK, argon2_t="2", argon2_m_kib="16384")).start()
    login_ok(strong, user)
    assert params(stored_hash(user["username"]))[:2] == (16384, 2)
    assert last_event(user["username"], "password.rehashed") is not None

    # The new hash still opens the account; nothing is rehashed again.
    login_ok(strong, user)
    assert params(stored_hash(user["username"]))[:2] == (16384, 2)


@pytest.fixture(scope="module")
def plain_server():
    srv = Server("plain", policy=dict(NO_SOURCE_BLOCK)).start()
    yield srv
    srv.stop()


def test_username_variants_are_one_account(plain_server, new_user):
    user = new_user()
    # Full-width capitals normalise (NFKC) and fold to the same name.
    wide = "".join(chr(ord(c) - 0x21 + 0xFF01) if "!" <= c <= "~" else c
                   for c in user["username"].upper())
    assert wide != user["username"]
    # Raw UTF-8, as a browser's JSON.stringify sends it (Kore's JSON
    # parser does not take \u escapes).
    settle()
    body = json.dumps({"username": wide, "password": user["password"],
                       "otp": totp(user).now()}, ensure_ascii=False)
    r = requests.post(plain_server.url + "/api/login", verify=False,
                      data=body.encode("utf-8"),
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["username"] == user["username"]


def test_forwarded_for_ignored_without_trusted_proxy(plain_server,
                                                     new_user):
    user = new_user()
    login_ok(plain_server, user, headers={"X-Forwarded-For": "10.9.9.9"})
    assert last_event(user["username"], "login.success")[0] == "127.0.0.1"


def test_forwarded_for_believed_from_trusted_proxy(make_server, new_user):
    srv = make_server("proxied", policy=dict(
        NO_SOURCE_BLOCK, trusted_proxy="127.0.0.1/32")).start()
    user = new_user()
    login_ok(srv, user, headers={"X-Forwarded-For": "192.0.2.1, 10.9.9.9"})
    # Only the entry the trusted proxy itself added (the last) counts.
    assert last_event(user["username"], "login.success")[0] == "10.9.9.9"


# --- fixes from the security review --------------------------------------

def failure_reasons_for(name):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT details->>'reason' FROM audit.events "
                    "WHERE event = 'login.failure' AND target = %s "
                    "ORDER BY id", (name,))
        return [r[0] for r in cur.fetchall()]


def test_unknown_names_lock_like_accounts(make_server):
    """After the threshold, an unknown name is handled as locked (no
    argon2 work) exactly like a real account, so a fast answer does not
    reveal that an account exists."""
    srv = make_server("namelock", policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="2",
        lockout_seconds="60")).start()
    name = "ghost_" + uuid.uuid4().hex[:8]
    for _ in range(3):
        r = requests.post(srv.url + "/api/login", verify=False, json={
            "username": name, "password": "Wrong-password-123",
            "otp": "123456"})
        assert r.status_code == 401
    assert failure_reasons_for(name_tag(name)) == [
        "unknown_user", "unknown_user", "locked"]
    assert failure_reasons_for(name) == []


def test_reauth_refused_while_locked(make_server):
    from test_users import ready, fresh_code
    srv = make_server("reauthlock", policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="2",
        lockout_seconds="60")).start()
    sess, = ready(srv, "admin")
    # Lock the account from elsewhere with wrong passwords.
    for _ in range(2):
        r = requests.post(srv.url + "/api/login", verify=False, json={
            "username": sess.username, "password": "Wrong-password-123",
            "otp": "123456"})
        assert r.status_code == 401
    r = sess.post("/api/reauth", {"password": sess.user["password"],
                                  "otp": fresh_code(sess.user)})
    assert r.status_code == 401, r.text
    assert failure_reasons_for(sess.username)[-1] == "locked"


def test_oversized_search_cursor_is_refused(plain_server):
    from test_users import ready
    sess, = ready(plain_server, "operator")
    r = sess.get("/api/transactions?cursor=" + "A" * 252)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    assert sess.get("/api/me").status_code == 200


# --- issue 13: a shared NAT address, and password spraying -----------------

def test_an_exempt_source_is_not_blocked_but_accounts_still_lock(
        make_server, new_user):
    """127.0.0.1 stands for a VPN concentrator's NAT address: failures
    from it never block it (one machine would lock every operator out),
    per-account lockout still applies, and failing against five
    accounts raises source_many_accounts. 127.0.0.9, not exempt, is
    blocked after three failures as before."""
    nat, other = "127.0.0.1", "127.0.0.9"
    srv = make_server("natexempt", workers=1, policy=dict(
        source_fail_threshold="3", source_fail_window="600",
        lockout_threshold="3", lockout_seconds="60",
        source_fail_exempt=nat + "/32",
        allow_cidr=[nat + "/32", other + "/32"])).start()
    users = [new_user() for _ in range(6)]
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM audit.events")
        mark = cur.fetchone()[0]
    for u in users:
        assert login_from(srv, nat, u["username"], "Not-" + u["password"]) \
            == 401
    victim = users[0]["username"]
    for _ in range(2):
        assert login_from(srv, nat, victim, "Not-" + users[0]["password"]) \
            == 401
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit.events WHERE id > %s "
                    "AND event = 'source.blocked' AND source = %s",
                    (mark, nat))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM audit.events WHERE "
                    "event = 'account.locked' AND target = %s", (victim,))
        assert cur.fetchone()[0] == 1
        cur.execute("SELECT count FROM audit.alerts WHERE "
                    "rule = 'source_many_accounts' AND key = %s "
                    "AND acknowledged_at IS NULL", ("source:" + nat,))
        row = cur.fetchone()
        assert row is not None and row[0] >= 1
    # Not exempt: blocked after three failures, whatever the accounts.
    for u in users[1:4]:
        assert login_from(srv, other, u["username"], "x-Wrong-1") == 401
    assert login_from(srv, other, users[4]["username"], "x-Wrong-1") == 429


# --- issue 13: a password typed into the username field --------------------

def test_an_unknown_name_is_kept_only_as_its_keyed_tag(make_server):
    """Three attempts with a password in the username field (and one
    with it in upper case): the trail, the alerts and the server log
    never hold it; every attempt is recorded under one tag (an HMAC
    under a key from the key-encryption key, checked here with Python's
    hmac), so the attempts still correlate and the name still locks."""
    srv = make_server("nametag", policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="3",
        lockout_seconds="60")).start()
    typed = "Correct-Horse-" + uuid.uuid4().hex[:10]
    for name in (typed, typed, typed.upper(), typed):
        r = requests.post(srv.url + "/api/login", verify=False, json={
            "username": name, "password": "Whatever-1", "otp": "123456"})
        assert r.status_code == 401
    tag = name_tag(typed)
    assert failure_reasons_for(tag) == ["unknown_user"] * 3 + ["locked"]
    secret = typed.lower()[len("correct-horse-"):]
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit.events e WHERE "
                    "lower(row_to_json(e)::text) LIKE %s",
                    ("%" + secret + "%",))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM audit.alerts a WHERE "
                    "lower(row_to_json(a)::text) LIKE %s",
                    ("%" + secret + "%",))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM auth.name_lockout WHERE "
                    "lower(name) LIKE %s", ("%" + secret + "%",))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT locked_until > now() FROM auth.name_lockout "
                    "WHERE name = %s", (tag,))
        assert cur.fetchone() == (True,)
    assert secret not in srv.output().lower()


# --- issue 13: the lockout race, and locks that tell nothing -------------

def login_attempt(name, password):
    body = json.dumps({"username": name, "password": password,
                       "otp": "123456"}).encode()
    return raw("POST", "/api/login", [b"Content-Type: application/json",
                                      b"Connection: close"], body)


def test_parallel_attempts_check_at_most_threshold_passwords(make_server,
                                                             new_user):
    """Three wrong passwords, then four at once from four allowlisted
    sources: before, all four read 3 < 5 and all four passwords were
    hashed and checked (seven against a threshold of five). Now each
    attempt is counted before its hash under the account's row lock
    (auth.login_reserve): exactly two more are checked, the other two
    are refused as locked without hashing, and the account ends locked.
    Shown by the reasons recorded, not by time."""
    sources = ["127.0.0.1", "127.0.0.5", "127.0.0.6", "127.0.0.7"]
    srv = make_server("lockrace", workers=2, policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="5", lockout_seconds="60",
        argon2_inflight="4", allow_cidr=[s + "/32" for s in sources])).start()
    u = new_user()
    name = u["username"]
    attempt = login_attempt(name, "Not-" + u["password"])
    for _ in range(3):
        t = tls_connect(srv, timeout=60)
        t.sendall(attempt)
        assert read_answer(t)[0] == 401
        t.close()
    assert failure_reasons_for(name) == ["bad_password"] * 3

    # Four connections made first, then the four requests at once.
    conns = [tls_connect(srv, timeout=60, source=s) for s in sources]
    go = threading.Barrier(len(conns))
    answers = [None] * len(conns)

    def send(i):
        go.wait()
        conns[i].sendall(attempt)
        answers[i] = read_answer(conns[i])

    threads = [threading.Thread(target=send, args=(i,))
               for i in range(len(conns))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    for t in conns:
        t.close()
    assert [a[0] for a in answers] == [401] * 4, answers

    reasons = failure_reasons_for(name)
    assert len(reasons) == 7, reasons
    assert reasons.count("bad_password") == 5, reasons
    assert reasons.count("locked") == 2, reasons
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT l.locked_until > now(), l.failures "
                    "FROM auth.lockout l JOIN auth.users u "
                    "ON u.id = l.user_id WHERE u.username = %s", (name,))
        assert cur.fetchone() == (True, 0)


def test_the_last_allowed_attempt_may_still_succeed(make_server, new_user):
    """Counting before the hash must not cost the real user the last
    attempt: four wrong passwords, then the right one, signs in, and
    the count starts again from nothing."""
    srv = make_server("lastgood", policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="5",
        lockout_seconds="60")).start()
    u = new_user()
    for _ in range(4):
        assert login_from(srv, "127.0.0.1", u["username"],
                          "Not-" + u["password"]) == 401
    login_ok(srv, u)
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT l.failures, l.locked_until "
                    "FROM auth.lockout l JOIN auth.users u "
                    "ON u.id = l.user_id WHERE u.username = %s",
                    (u["username"],))
        assert cur.fetchone() == (0, None)


def test_a_second_lock_is_as_long_for_a_made_up_name(make_server,
                                                      new_user):
    """A second lock within 24 hours lasts twice as long. Before, only
    real accounts escalated: an unknown name's second lock was as short
    as its first, so the length of a second lock (seen as the moment
    answers start costing a hash again) told a real account from a
    made-up name. Both are measured from the lock rows."""
    srv = make_server("lockdouble", policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="2", lockout_seconds="60",
        lockout_max_seconds="3600")).start()
    real = new_user()["username"]
    ghost = "ghost_" + uuid.uuid4().hex[:8]
    tag = name_tag(ghost)
    for rnd, want in ((1, 60), (2, 120)):
        for name in (real, ghost):
            for _ in range(2):
                assert login_from(srv, "127.0.0.1", name) == 401
        with db("pc_owner") as conn, conn.cursor() as cur:
            cur.execute("SELECT extract(epoch FROM l.locked_until - "
                        "l.last_lockout_at)::int, l.lockouts_24h "
                        "FROM auth.lockout l JOIN auth.users u "
                        "ON u.id = l.user_id WHERE u.username = %s",
                        (real,))
            assert cur.fetchone() == (want, rnd)
            cur.execute("SELECT extract(epoch FROM locked_until - "
                        "last_lockout_at)::int, lockouts_24h "
                        "FROM auth.name_lockout WHERE name = %s", (tag,))
            assert cur.fetchone() == (want, rnd)
            # Let both locks run out, as time would.
            cur.execute("UPDATE auth.lockout l SET locked_until = now() "
                        "- interval '1 second' FROM auth.users u "
                        "WHERE u.id = l.user_id AND u.username = %s",
                        (real,))
            cur.execute("UPDATE auth.name_lockout SET locked_until = "
                        "now() - interval '1 second' WHERE name = %s",
                        (tag,))
    assert failure_reasons_for(tag) == ["unknown_user"] * 4


@pytest.mark.parametrize("known", [True, False])
def test_an_abandoned_deciding_attempt_still_locks_and_is_recorded(
        make_server, new_user, known):
    """An attempt is a failure from the moment it is counted, before
    its hash: a client that hangs up mid-hash does not get it back. The
    attempts are counted here through auth.login_reserve() as the
    worker's role, as five hung-up logins would be. While the deciding
    (fifth) attempt could still be hashing, the next login is refused as
    locked without a hash; a minute later, the next login applies the
    lock that attempt would have caused, dated from it and recorded as
    account.locked (for a real account), so a hang-up never locks
    without a trace. A made-up name behaves the same."""
    srv = make_server("abandoned", policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="5",
        lockout_seconds="600")).start()
    name = new_user()["username"] if known else \
        "ghost_" + uuid.uuid4().hex[:8]
    tag = name_tag(name)
    with db("pc_auth") as conn, conn.cursor() as cur:
        for _ in range(5):
            cur.execute("SELECT locked FROM auth.login_reserve(%s, "
                        "'127.0.0.9', %s, 5, 600, 3600)", (name, tag))
            assert cur.fetchone() == (False,)
    recorded = name if known else tag
    assert login_from(srv, "127.0.0.1", name) == 401
    assert failure_reasons_for(recorded) == ["locked"]
    with db("pc_owner") as conn, conn.cursor() as cur:
        if known:
            cur.execute("UPDATE auth.lockout l SET last_failure_at = "
                        "now() - interval '2 minutes' FROM auth.users u "
                        "WHERE u.id = l.user_id AND u.username = %s",
                        (name,))
        else:
            cur.execute("UPDATE auth.name_lockout SET last_failure_at = "
                        "now() - interval '2 minutes' WHERE name = %s",
                        (tag,))
        assert cur.rowcount == 1
    assert login_from(srv, "127.0.0.1", name) == 401
    assert failure_reasons_for(recorded) == ["locked", "locked"]
    table = "auth.lockout l JOIN auth.users u ON u.id = l.user_id " \
        "WHERE u.username = %s" if known else \
        "auth.name_lockout l WHERE l.name = %s"
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT l.failures, extract(epoch FROM l.locked_until "
                    "- l.last_failure_at)::int, l.locked_until > now() "
                    "FROM " + table, (recorded if not known else name,))
        assert cur.fetchone() == (0, 600, True)
        cur.execute("SELECT details FROM audit.events WHERE event = "
                    "'account.locked' AND target = %s", (name,))
        locks = [r[0] for r in cur.fetchall()]
    if known:
        assert locks == [{"seconds": 600, "lockouts_24h": 1,
                          "abandoned": True}]
    else:
        assert locks == []


def test_parallel_reauth_checks_at_most_threshold_passwords(make_server):
    """The same race through a signed-in session (a stolen cookie):
    /api/reauth read the lock state (own_factors, STABLE) and counted
    afterwards, so four at once after three failures checked seven
    passwords. It now counts before the hash like a login."""
    from people import ready
    srv = make_server("reauthrace", workers=2, policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="5", lockout_seconds="60",
        argon2_inflight="4")).start()
    sess, = ready(srv, "operator")
    wrong = {"password": "Not-" + sess.user["password"], "otp": "123456"}
    for _ in range(3):
        assert sess.post("/api/reauth", wrong).status_code == 401
    go = threading.Barrier(4)
    codes = [None] * 4

    def send(i):
        go.wait()
        codes[i] = sess.post("/api/reauth", wrong).status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert codes == [401] * 4, codes
    reasons = failure_reasons_for(sess.username)
    assert reasons.count("bad_password") == 5, reasons
    assert reasons.count("locked") == 2, reasons
