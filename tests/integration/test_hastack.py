"""Issue 17, part 2: two instances, one truth.

scripts/hastack puts a streaming standby (pg_basebackup -R) beside the
stack's PostgreSQL cluster, and HAProxy (Debian's) in TCP mode with
send-proxy-v2 in front of two payconsole instances: one port
round-robin over both, and one port per instance. Both instances name
both clusters (db_ports), so libpq keeps the one that takes writes.

Shown here: the lockout count, a per-source block and TOTP step
consumption are the database's, exact whichever instance an attempt
reaches; a session made on one instance is valid on the other; kill -9
of one instance mid-load loses no acknowledged refund and the client's
next request is served by the other; a frozen primary (SIGSTOP) gives
503 within db_timeout_seconds, never a hang, and both instances recover
when it resumes; stopping the primary and promoting the standby brings
the service back within 30 s with every acknowledged refund present.
The last test stops the stack's primary: it starts it again (and drops
the standby) before it ends, so the suites after it find the stack as
it was, minus what was written on the promoted standby."""
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import psycopg2
import pytest
import requests

import stack
from conftest import SOCK, STACK, TOP, Server
from ledger import new_key, op
from people import (assert_invalid_credentials, cookie_header, events,
                    failure_reasons, own_txn, post_login, ready, settle,
                    sign_in, totp, wrong_password)
from wire import login_from

pytestmark = pytest.mark.usefixtures("no_source_blocks")

HASTACK = os.path.join(TOP, "scripts", "hastack")
STANDBY_PORT = 5433
DB_TIMEOUT = 3
BLOCK_SOURCE = "127.0.0.77"
POLICY = {
    "trusted_proxy": "127.0.0.1/32",
    "allow_cidr": "127.0.0.0/24",
    "db_ports": "5432,%d" % STANDBY_PORT,
    "db_timeout_seconds": str(DB_TIMEOUT),
    "lockout_threshold": "3",
    "lockout_seconds": "600",
    # 127.0.0.1 is every other test's address: only BLOCK_SOURCE is
    # charged here.
    "source_fail_exempt": "127.0.0.1/32",
    "source_fail_threshold": "4",
    "source_block_seconds": "60",
}


class Front:
    """A port of HAProxy's, where the people helpers send requests."""

    def __init__(self, port):
        self.port = port
        self.url = "https://127.0.0.1:%d" % port


def hastack(*args):
    subprocess.run([HASTACK] + [str(a) for a in args], check=True,
                   stdout=subprocess.DEVNULL)


def wait_port(port, proc, what, timeout=20):
    deadline = time.time() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert proc.poll() is None and time.time() < deadline, \
                "%s did not start" % what
            time.sleep(0.1)


def wait_served(front, srv, timeout=60):
    """Until srv answers /healthz through its own HAProxy port (it
    takes no direct connection from 127.0.0.1: trusted_proxy)."""
    deadline = time.time() + timeout
    while True:
        try:
            r = requests.get(front.url + "/healthz", verify=False,
                             timeout=5)
            if r.status_code == 200:
                return
        except requests.RequestException:
            pass
        assert srv.proc.poll() is None and time.time() < deadline, \
            srv.output()[-3000:]
        time.sleep(0.2)


@pytest.fixture(scope="module")
def ha():
    """(all, [one per instance], [the servers], haproxy Popen)."""
    hastack("standby", STACK, STANDBY_PORT)
    servers = [Server("ha%d" % i, workers=2,
                      policy=POLICY).start(wait=False) for i in (1, 2)]
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    port = stack.free_port()
    while any(p in (port + 1, port + 2) for p in
              [s.port for s in servers]):
        port = stack.free_port()
    cfg = os.path.join(servers[0].dir, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(subprocess.run([HASTACK, "haproxy-cfg", str(port)] +
                               [str(s.port) for s in servers],
                               check=True, capture_output=True,
                               text=True).stdout)
    log = open(os.path.join(servers[0].dir, "haproxy.log"), "wb")
    proc = subprocess.Popen([binary, "-db", "-f", cfg], stdout=log,
                            stderr=subprocess.STDOUT)
    for p in (port, port + 1, port + 2):
        wait_port(p, proc, "haproxy")
    one = [Front(port + 1), Front(port + 2)]
    for front, srv in zip(one, servers):
        wait_served(front, srv)
    yield Front(port), one, servers, proc
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
    for s in servers:
        s.stop()
    hastack("remove", STACK, STANDBY_PORT)


# --- the database's state, whichever instance is asked ----------------------

def test_lockout_counts_across_instances(ha, new_user):
    _, one, _, _ = ha
    u = new_user()
    name = u["username"]
    for front in (one[0], one[1], one[0]):
        assert_invalid_credentials(post_login(
            front, name, wrong_password(u), totp(u).now()))
    assert len(events(name, "account.locked")) == 1
    # The right password and code: refused on both, as locked.
    for front in one:
        settle()
        assert_invalid_credentials(post_login(
            front, name, u["password"], totp(u).now()))
    assert failure_reasons(name)[-2:] == ["locked", "locked"]


def test_totp_step_consumed_across_instances(ha, new_user):
    _, one, _, _ = ha
    u = new_user()
    settle()
    code = totp(u).now()
    r = post_login(one[0], u["username"], u["password"], code)
    assert r.status_code == 200, (r.status_code, r.text)
    # The same step through the other instance: a replay.
    assert_invalid_credentials(post_login(one[1], u["username"],
                                          u["password"], code))
    assert len(events(u["username"], "totp_replay")) == 1
    assert len(events(u["username"], "login.success")) == 1


def test_source_block_counts_across_instances(ha):
    """Failures from one address through both instances: the block
    comes at source_fail_threshold (4) exactly, and both refuse it."""
    _, one, _, _ = ha
    name = "t_nobody_ha_%d" % os.getpid()
    answers = [login_from(one[i % 2], BLOCK_SOURCE, name)
               for i in range(4)]
    assert answers == [401, 401, 401, 401], answers
    assert len(events(BLOCK_SOURCE, "source.blocked")) == 1
    assert [login_from(f, BLOCK_SOURCE, name) for f in one] == [429, 429]


def test_session_valid_on_both_instances(ha, new_user):
    _, one, _, _ = ha
    u = new_user()
    sess = sign_in(one[0], u)
    for front in one:
        r = requests.get(front.url + "/api/me", verify=False, timeout=30,
                         headers=cookie_header(sess.token))
        assert r.status_code == 200, (r.status_code, r.text)
        assert r.json()["user"]["username"] == u["username"]
    # Ended on the second, it is ended on the first.
    r = requests.post(one[1].url + "/api/logout", verify=False, timeout=30,
                      headers=dict(cookie_header(sess.token), **{
                          "X-CSRF-Token": sess.csrf,
                          "Origin": one[1].url}))
    assert r.status_code in (200, 204), (r.status_code, r.text)
    r = requests.get(one[0].url + "/api/me", verify=False, timeout=30,
                     headers=cookie_header(sess.token))
    assert r.status_code == 401, (r.status_code, r.text)


# --- refunds through failures -------------------------------------------------

class Refunder(threading.Thread):
    """Refunds of 1 yen, one after another, through front; each with its
    own Idempotency-Key, sent again with the same key after a connection
    error, a 503 or a stale version until answered. The version comes
    from the answers (GET through front after a 409/412), never from
    the database directly. acked: {key: refund id}."""

    def __init__(self, front, sess, tid, version):
        super().__init__(daemon=True)
        self.front, self.sess, self.tid = front, sess, tid
        self.version = version
        self.acked, self.retries, self.errors = {}, 0, []
        self.stop = threading.Event()

    def again(self):
        self.retries += 1
        time.sleep(0.2)

    def one(self, key):
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                r = op(self.front, self.sess, self.tid, "refunds",
                       {"amount": 1, "reason": "ha test"}, key=key,
                       version=self.version)
                if r.status_code in (409, 412):
                    g = self.sess.get("/api/transactions/%d" % self.tid)
                    if g.status_code == 200:
                        self.version = g.json()["transaction"]["version"]
            except requests.ConnectionError:
                self.again()
                continue
            if r.status_code == 201:
                self.version = r.json()["transaction"]["version"]
                return r.json()["refund"]["id"]
            if r.status_code in (409, 412, 503):
                self.again()
                continue
            self.errors.append((r.status_code, r.text))
            return None
        self.errors.append(("gave up", key))
        return None

    def run(self):
        while not self.stop.is_set():
            key = new_key()
            rid = self.one(key)
            if rid is None:
                return
            self.acked[key] = rid


def refund_ids(tid, port=None):
    """Refund ids of tid in the database (the standby's port after a
    failover)."""
    kw = {"port": port} if port else {}
    conn = psycopg2.connect(host=SOCK, dbname="payconsole", user="pc_owner",
                            **kw)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM payments.refunds "
                        "WHERE transaction_id = %s", (tid,))
            return sorted(r[0] for r in cur.fetchall())
    finally:
        conn.close()


def test_kill9_one_instance_mid_load(ha):
    front, one, servers, _ = ha
    sess = ready(front, "operator")[0]
    tid, version = own_txn(amount=1000000)
    worker = Refunder(front, sess, tid, version)
    worker.start()
    time.sleep(2)
    victim = servers[0]
    os.killpg(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait(timeout=10)
    n_at_kill = len(worker.acked)
    time.sleep(4)
    worker.stop.set()
    worker.join(timeout=120)
    assert worker.errors == []
    assert len(worker.acked) > n_at_kill, "no refund after the kill"
    # Every acknowledged refund is there, once; nothing else is.
    assert refund_ids(tid) == sorted(worker.acked.values())
    # The client's next request is served (by the other instance).
    r = sess.get("/api/me")
    assert r.status_code == 200, (r.status_code, r.text)
    victim.start(wait=False)
    wait_served(one[0], victim)


def primary_pids():
    with open(os.path.join(STACK, "pg", "postmaster.pid")) as f:
        pm = int(f.readline())
    kids = subprocess.run(["pgrep", "-P", str(pm)], capture_output=True,
                          text=True).stdout.split()
    return [pm] + [int(k) for k in kids]


def test_frozen_primary_gives_503_and_recovers(ha):
    front, _, _, _ = ha
    sess = ready(front, "operator")[0]
    pids = primary_pids()
    for p in pids:
        os.kill(p, signal.SIGSTOP)
    try:
        t0 = time.time()
        # Both instances (round-robin), each within the deadline plus
        # the connect attempts' own bound (libpq tries both servers).
        for _ in range(2):
            r = sess.get("/api/transactions?limit=1")
            assert r.status_code == 503, (r.status_code, r.text)
            assert r.json()["error"] == "unavailable"
        took = time.time() - t0
    finally:
        for p in pids:
            os.kill(p, signal.SIGCONT)
    assert took < 2 * (DB_TIMEOUT + 2 * 3) + 5, took
    deadline = time.time() + 30
    ok = 0
    while ok < 2:
        r = sess.get("/api/transactions?limit=1")
        ok = ok + 1 if r.status_code == 200 else 0
        assert time.time() < deadline, (r.status_code, r.text)
        time.sleep(0.2)


def test_failover_to_promoted_standby(ha):
    front, _, _, _ = ha
    sess = ready(front, "operator")[0]
    tid, version = own_txn(amount=1000000)
    worker = Refunder(front, sess, tid, version)
    worker.start()
    time.sleep(2)
    try:
        hastack("primary", STACK, "stop")
        stopped = time.time()
        hastack("promote", STACK, STANDBY_PORT)
        # Back within 30 s of the primary going away.
        while True:
            r = sess.get("/api/transactions?limit=1")
            if r.status_code == 200:
                break
            assert time.time() - stopped < 30, (r.status_code, r.text)
            time.sleep(0.2)
        back = time.time() - stopped
        n_back = len(worker.acked)
        time.sleep(2)
        worker.stop.set()
        worker.join(timeout=120)
        assert worker.errors == []
        assert len(worker.acked) > n_back, "no refund after the failover"
        assert refund_ids(tid, STANDBY_PORT) == sorted(worker.acked.values())
        assert back < 30
    finally:
        worker.stop.set()
        worker.join(timeout=120)
        hastack("stop", STACK, STANDBY_PORT)
        hastack("primary", STACK, "start")
