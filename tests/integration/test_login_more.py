"""Issue 3, the remaining login behaviours: rehash when the argon2
parameters were raised, usernames compared after NFKC normalisation and
case folding, X-Forwarded-For never believed; and
issue 13's shared NAT address, unknown names kept as tags and locked
exactly like accounts, and the lockout race (parallel attempts check at
most the threshold's passwords)."""
import json
import re
import threading
import time
import uuid

import pytest
import requests

from conftest import clear_source_blocks, db, module_server
from people import (NO_SOURCE_BLOCK, fresh_code, login_ok, name_tag, ready,
                    settle, totp)
from wire import login_from, raw, read_answer, tls_connect


pytestmark = pytest.mark.usefixtures("no_source_blocks")


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


plain_server = module_server("plain", policy=dict(NO_SOURCE_BLOCK))


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

# Behind a trusted proxy X-Forwarded-For is not read either: the address
# comes from the PROXY v2 header (issue 17, test_proxy_v2.py).


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
                    "AND acknowledged_at IS NULL", ("*",))
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


# What a counted attempt costs its source, as the server passes it.
SRC = '{"threshold": 5, "window": 600, "block": 900, "exempt": false}'


def reserve_as_worker(name, source, times, src=SRC):
    """Attempts counted as the worker's role counts them before a hash,
    with no outcome ever written: what hung-up logins leave."""
    with db("pc_auth") as conn, conn.cursor() as cur:
        for _ in range(times):
            cur.execute("SELECT locked, attempt FROM auth.login_reserve("
                        "%s, %s, %s, 5, 600, 3600, %s, NULL, 3)",
                        (name, source, name_tag(name), src))
            locked, attempt = cur.fetchone()
            assert locked is False and attempt is not None


def age_open_attempts(name, known):
    """Move a name's counted attempts two minutes into the past, as if
    their clients had hung up that long ago."""
    key = "name = %s" if not known else \
        "user_id = (SELECT id FROM auth.users WHERE username = %s)"
    arg = name_tag(name) if not known else name
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("UPDATE " + ("auth.name_lockout" if not known else
                                 "auth.lockout") +
                    " SET last_failure_at = now() - interval '2 minutes' "
                    "WHERE " + key, (arg,))
        assert cur.rowcount == 1
        cur.execute("UPDATE auth.attempts_open SET started_at = now() - "
                    "interval '2 minutes' WHERE " + key, (arg,))
        assert cur.rowcount > 0


def events_of(target, event, since=0):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT host(source), details FROM audit.events "
                    "WHERE event = %s AND target = %s AND id > %s "
                    "ORDER BY id", (event, target, since))
        return cur.fetchall()


def last_event_id():
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM audit.events")
        return cur.fetchone()[0]


@pytest.mark.parametrize("known", [True, False])
def test_an_abandoned_attempt_is_a_recorded_failure_of_its_source(
        make_server, new_user, known):
    """An attempt is a failure from the moment it is counted, before
    its hash: a client that hangs up mid-hash does not get it back. Five
    such attempts from 127.0.0.9 (counted here through
    auth.login_reserve() as the worker's role, with no outcome). While
    the deciding (fifth) could still be hashing, the next login is
    refused as locked without a hash. A minute later, the next login
    records each abandoned attempt as a failure of its own source
    (which they cost: 127.0.0.9 is blocked at its threshold of five)
    and applies the lock the deciding one would have caused, dated from
    it and recorded with its source. A made-up name behaves the same."""
    srv = make_server("abandoned", policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="5",
        lockout_seconds="600")).start()
    name = new_user()["username"] if known else \
        "ghost_" + uuid.uuid4().hex[:8]
    recorded = name if known else name_tag(name)
    clear_source_blocks()
    since = last_event_id()
    reserve_as_worker(name, "127.0.0.9", 5)
    assert login_from(srv, "127.0.0.1", name) == 401
    assert failure_reasons_for(recorded) == ["locked"]

    age_open_attempts(name, known)
    assert login_from(srv, "127.0.0.1", name) == 401
    assert failure_reasons_for(recorded) == \
        ["locked"] + ["abandoned"] * 5 + ["locked"]
    assert [src for src, _ in events_of(recorded, "login.failure")] == \
        ["127.0.0.1"] + ["127.0.0.9"] * 5 + ["127.0.0.1"]
    assert [d["seconds"] for _, d in
            events_of("127.0.0.9", "source.blocked", since)] == [900]
    table = "auth.lockout l JOIN auth.users u ON u.id = l.user_id " \
        "WHERE u.username = %s" if known else \
        "auth.name_lockout l WHERE l.name = %s"
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT l.failures, extract(epoch FROM l.locked_until "
                    "- l.last_failure_at)::int, l.locked_until > now() "
                    "FROM " + table, (recorded,))
        assert cur.fetchone() == (0, 600, True)
        cur.execute("SELECT count(*) FROM auth.attempts_open "
                    "WHERE source = '127.0.0.9'")
        assert cur.fetchone() == (0,)
    locks = events_of(name, "account.locked")
    if known:
        assert locks == [("127.0.0.9", {"seconds": 600, "lockouts_24h": 1,
                                        "abandoned": True})]
    else:
        assert locks == []


def test_worker_one_records_abandoned_attempts_unasked(make_server,
                                                       new_user):
    """Nobody need try the account again: worker 1's timer (with the
    audit seal) records attempts abandoned a minute ago. Polled, with a
    generous deadline; nothing is timed."""
    srv = make_server("sweep", policy=dict(NO_SOURCE_BLOCK)).start()
    assert srv
    name = new_user()["username"]
    reserve_as_worker(name, "127.0.0.10", 2)
    age_open_attempts(name, True)
    deadline = time.time() + 120
    while failure_reasons_for(name) != ["abandoned"] * 2:
        assert time.time() < deadline, failure_reasons_for(name)
        time.sleep(1)
    assert [src for src, _ in events_of(name, "login.failure")] == \
        ["127.0.0.10"] * 2


def test_a_success_keeps_the_attempts_still_being_hashed(make_server,
                                                          new_user):
    """A success clears the failures, not the attempts still in flight:
    three attempts counted and not yet ended, then the real user signs
    in. Before, the count went to 0 and those three (an attacker's,
    failing a moment later) were never counted; now it stays at 3."""
    srv = make_server("inflight", policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="5")).start()
    u = new_user()
    reserve_as_worker(u["username"], "127.0.0.11", 3)
    login_ok(srv, u)
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT l.failures FROM auth.lockout l JOIN auth.users "
                    "u ON u.id = l.user_id WHERE u.username = %s",
                    (u["username"],))
        assert cur.fetchone() == (3,)
        cur.execute("SELECT count(*) FROM auth.attempts_open o JOIN "
                    "auth.users u ON u.id = o.user_id WHERE u.username = %s",
                    (u["username"],))
        assert cur.fetchone() == (3,)


def test_first_sign_in_does_not_lengthen_a_made_up_names_lock(make_server,
                                                               new_user):
    """First sign-in answered a made-up name under a lock as
    unknown_user and counted it again, so four failures gave it a second,
    doubled lock, while a real account under a lock was answered
    'locked' and not counted: a lock's length told them apart. Now both
    are 'locked' and uncounted."""
    srv = make_server("enrollock", policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="2",
        lockout_seconds="60")).start()
    real = new_user()["username"]
    ghost = "ghost_" + uuid.uuid4().hex[:8]
    for name in (real, ghost):
        for _ in range(4):
            r = requests.post(srv.url + "/api/enrolment/finish",
                              verify=False, json={
                                  "username": name, "code_1": "AAAA-AAAA",
                                  "code_2": "BBBB-BBBB", "otp": "123456"})
            assert r.status_code == 401
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT l.lockouts_24h, extract(epoch FROM "
                    "l.locked_until - l.last_lockout_at)::int "
                    "FROM auth.lockout l JOIN auth.users u "
                    "ON u.id = l.user_id WHERE u.username = %s", (real,))
        assert cur.fetchone() == (1, 60)
        cur.execute("SELECT lockouts_24h, extract(epoch FROM "
                    "locked_until - last_lockout_at)::int "
                    "FROM auth.name_lockout WHERE name = %s",
                    (name_tag(ghost),))
        assert cur.fetchone() == (1, 60)
    assert failure_reasons_for(name_tag(ghost))[2:] == ["locked"] * 2


def test_a_spelling_that_is_another_account_is_another_tag(make_server):
    """Tags folded with full case folding (ß to ss) while accounts are
    found with lower(): two logins as "straße_x" locked the tag of
    "strasse_x", so a third as "strasse_x" answered locked (no hash) if
    no such account existed and checked a password if it did. Now the
    tag groups names exactly as accounts do: "strasse_x" is not locked
    by "straße_x"'s failures."""
    srv = make_server("sharpslock", policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold="2",
        lockout_seconds="60")).start()
    tail = uuid.uuid4().hex[:8]
    sharp, plain = "stra\u00dfe_" + tail, "strasse_" + tail
    assert name_tag(sharp) != name_tag(plain)
    for _ in range(2):
        assert login_from(srv, "127.0.0.1", sharp) == 401
    assert login_from(srv, "127.0.0.1", plain) == 401
    assert failure_reasons_for(name_tag(sharp)) == ["unknown_user"] * 2
    assert failure_reasons_for(name_tag(plain)) == ["unknown_user"]


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
