"""Issue 17, part 3: a frozen PostgreSQL (SIGSTOP) never hangs a request.
Each query has a deadline (db_timeout_seconds, here 2): past it the
request answers 503 `unavailable`, the connection is abandoned without
waiting for the server, and later requests get a fresh connection; once
the server runs again, everything works as before.

Only the backends serving this file's server are stopped (found from
the server's own Unix socket connections), so the cluster the whole run
shares goes on serving everyone else, and new connections work: that is
how a worker recovers here while the old backends are still frozen.
The server runs one worker, so the connections it warmed up are the
ones its next requests take.

Runs under the ASan lane too (scripts/test-integration-asan): the
abandon path frees a connection under a live request."""
import os
import re
import signal
import subprocess
import threading
import time

import pytest
import requests

from conftest import create_user, module_server, workers
from ledger import make_tx, new_key, op, refund_rows, tx_row
from people import (NO_SOURCE_BLOCK, assert_error, cookie_header, login_ok,
                    post_login, ready, totp)

DEADLINE = 2
# "Never a hang": a request returns well before this. A functional bound
# (ten deadlines), not a performance figure.
RETURNS_WITHIN = 10 * DEADLINE

POLICY = dict(NO_SOURCE_BLOCK, db_timeout_seconds=str(DEADLINE),
              argon2_inflight="1")

SS_LINE = re.compile(r"^u_str\s+\S+\s+\d+\s+\d+\s+(\S+)\s+(\d+)\s+(\S+)\s+"
                     r"(\d+)\s*(.*)$")


def backends_of(srv):
    """PIDs of the PostgreSQL backends at the other end of the server's
    Unix socket connections (ss: local inode, peer inode, owners)."""
    out = subprocess.run(["ss", "-xpn"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    ours = {p for p, _, _ in srv.pids()}
    owners, peers = {}, []
    for line in out.splitlines():
        m = SS_LINE.match(line)
        if not m:
            continue
        inode, peer = int(m.group(2)), int(m.group(4))
        pids = {int(p) for p in re.findall(r"pid=(\d+)", m.group(5))}
        names = set(re.findall(r'\("([^"]+)"', m.group(5)))
        owners[inode] = (pids, names)
        if pids & ours:
            peers.append(peer)
    found = set()
    for peer in peers:
        pids, names = owners.get(peer, (set(), set()))
        if "postgres" in names:
            found |= pids
    return sorted(found)


def signal_all(pids, sig):
    for p in pids:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


class Frozen:
    """The server's backends stopped for the with block, then resumed
    whatever happens."""

    def __init__(self, srv):
        self.pids = backends_of(srv)
        assert self.pids, "no backend connections of %s found" % srv.name

    def __enter__(self):
        signal_all(self.pids, signal.SIGSTOP)
        return self

    def __exit__(self, *exc):
        signal_all(self.pids, signal.SIGCONT)


def timed(call):
    """(answer, seconds); an exception (a hang up to the client's
    timeout) fails the test as it is."""
    t0 = time.monotonic()
    r = call()
    return r, time.monotonic() - t0


def get(srv, path, token):
    return requests.get(srv.url + path, headers=cookie_header(token),
                        verify=False, timeout=RETURNS_WITHIN)


srv = module_server("dbtimeout", workers=1, policy=POLICY)


@pytest.fixture(scope="module")
def oper(srv):
    return ready(srv, "operator")[0]


def warm(srv, oper):
    """One connection per database role the requests below use."""
    assert get(srv, "/api/me", oper.token).status_code == 200
    r = get(srv, "/api/transactions?limit=5", oper.token)
    assert r.status_code == 200, r.text


def until_ok(frozen, call):
    """While frozen: each call returns (200, or 503 on one more frozen
    connection, which it replaces); one succeeds within as many tries
    as there are frozen backends."""
    for _ in range(len(frozen.pids) + 1):
        r, took = timed(call)
        assert took < RETURNS_WITHIN, took
        if r.status_code == 200:
            return r
        assert_error(r, 503, "unavailable")
    raise AssertionError("no fresh connection while frozen: %s" % r.text)


def test_frozen_backend_503_then_fresh_connection_then_resume(srv, oper):
    warm(srv, oper)
    before = workers(srv)
    with Frozen(srv) as frozen:
        # The session check's connection is frozen: 503 at the deadline.
        r, took = timed(lambda: get(srv, "/api/me", oper.token))
        assert_error(r, 503, "unavailable")
        assert took < RETURNS_WITHIN, took
        # Abandoned connections are replaced by fresh ones: the worker
        # recovers while the old backends are still frozen (the search
        # meets the frozen payments connection first).
        until_ok(frozen, lambda: get(srv, "/api/me", oper.token))
        r, took = timed(lambda: get(srv, "/api/transactions?limit=5",
                                    oper.token))
        assert_error(r, 503, "unavailable")
        assert took < RETURNS_WITHIN, took
        until_ok(frozen, lambda: get(srv, "/api/transactions?limit=5",
                                     oper.token))
    assert "query timed out" in srv.output()
    # Resumed: the same worker, every request works.
    for _ in range(5):
        assert get(srv, "/api/me", oper.token).status_code == 200
        assert get(srv, "/api/transactions?limit=5",
                   oper.token).status_code == 200
    assert workers(srv) == before
    assert srv.proc.poll() is None


def test_abandoned_connections_are_closed(srv, oper):
    """An abandoned connection is really closed: its backend, once it
    runs again, sees the client gone and exits (no connection leaks)."""
    warm(srv, oper)
    frozen = Frozen(srv)
    with frozen:
        r = get(srv, "/api/me", oper.token)
        assert_error(r, 503, "unavailable")
        still = set(backends_of(srv))
    gone = set(frozen.pids) - still
    assert gone, "no connection was given up"
    deadline = time.time() + 30
    while time.time() < deadline and any(os.path.exists("/proc/%d" % p)
                                         for p in gone):
        time.sleep(0.2)
    assert not [p for p in gone if os.path.exists("/proc/%d" % p)]


def test_concurrent_requests_all_return(srv, oper):
    """Requests queued behind the frozen connections have the deadline
    too: every one returns (503 or, on a fresh connection, 200)."""
    warm(srv, oper)
    answers = []

    def one():
        try:
            answers.append(get(srv, "/api/me", oper.token).status_code)
        except requests.RequestException as e:
            answers.append(repr(e))

    with Frozen(srv):
        threads = [threading.Thread(target=one) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(RETURNS_WITHIN + 5)
    assert len(answers) == 12, answers
    assert set(answers) <= {200, 503}, answers
    assert 503 in answers, answers
    assert get(srv, "/api/me", oper.token).status_code == 200


def test_login_during_the_freeze_releases_its_argon2_slot(srv, oper):
    """argon2_inflight is 1: a login holding the only hash slot when its
    query times out gives it back, so the next login is not refused."""
    user = create_user("operator")
    warm(srv, oper)
    with Frozen(srv):
        r, took = timed(lambda: requests.post(
            srv.url + "/api/login", verify=False, timeout=RETURNS_WITHIN,
            json={"username": user["username"],
                  "password": user["password"],
                  "otp": totp(user).now()}))
        assert_error(r, 503, "unavailable")
        assert took < RETURNS_WITHIN, took
    # Not 429 (no slot) nor 503: the slot came back, the worker serves.
    login_ok(srv, user)
    assert post_login(srv, user["username"], "not the password",
                      "000000").status_code == 401


def test_refund_during_the_freeze_is_safe_to_retry(srv, oper):
    """A money statement whose answer never came: 503, outcome unknown
    to the client; the retry with the same Idempotency-Key gives one
    refund, never two."""
    t = make_tx("captured", 1000)
    v = tx_row(t)["version"]
    key = new_key()
    body = {"amount": 100, "reason": "timeout retry"}
    warm(srv, oper)
    with Frozen(srv) as frozen:
        # Fresh session-check connections first, so the refund itself
        # is the statement that meets the frozen payments backend.
        until_ok(frozen, lambda: get(srv, "/api/me", oper.token))
        r, took = timed(lambda: op(srv, oper, t, "refunds", body, key=key,
                                   version=v))
        assert_error(r, 503, "unavailable")
        assert took < RETURNS_WITHIN, took
    deadline = time.time() + 30
    while True:
        again = op(srv, oper, t, "refunds", body, key=key, version=v)
        if again.status_code != 503 or time.time() > deadline:
            break
        time.sleep(0.5)
    assert again.status_code == 201, (again.status_code, again.text)
    assert again.json()["refund"]["amount"] == 100
    rows = refund_rows(t)
    assert len(rows) == 1, rows
    assert tx_row(t)["refunded_amount"] == 100
