"""The SIEM stream (issue 16, part 2; src/siem.c, migration 029) and its
syslog_down alarm (part 4), against a real collector: a private rsyslogd
started here, with an imuxsock datagram socket under the workers' chroot
(siem_sink local) and an imtcp TLS listener with octet-counted framing
(siem_sink tls, RFC 5425), each writing the raw messages to a file.

Every event of the chain must arrive in order with no gap by seq and,
after the collector was stopped and started again, every event at least
once by id (datagrams: exactly once), with the alarm opened after
siem_down_seconds and cleared when a batch went through. Personal data
is masked in the bodies; no password, code or token is in them. A
collector whose certificate the server's CA does not sign gets nothing.

The server runs against a database of its own (the stream starts at the
first event, and the alarm must not reach other suites); the events are
sealed here as the superuser (the server's sealer waits 60 s)."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest
import requests

import stack
from conftest import (STACK, Server, create_db, create_user, db, drop_db,
                      policy_text, seal_all)
from people import STEP, post_login, sign_in

TAG = uuid.uuid4().hex[:8]
DBNAME = "pc_siem_" + TAG
WORK = os.path.join(STACK, "siem-" + TAG)
# Under the workers' root: they see it as /siem-TAG.sock.
SOCKET = os.path.join(STACK, "root", "siem-%s.sock" % TAG)
DOWN_SECONDS = 3

LINE = re.compile(
    r'^<(\d+)>1 (\S+) (\S+) payconsole (\d+) (\S+) '
    r'\[pc@32473 id="(\d+)" seq="(\d+)" type="([a-z0-9_.]+)"\] (.*)$')


# --- the collector ----------------------------------------------------------

def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True,
                   timeout=60)


def make_ca(name):
    """A CA of the test's: (cert, key) paths."""
    cert, key = (os.path.join(WORK, name + s) for s in (".crt", ".key"))
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=%s" % name, "-keyout", key, "-out", cert)
    return cert, key


def make_collector_cert(ca):
    """The collector's certificate for localhost, signed by ca."""
    key = os.path.join(WORK, "collector.key")
    csr = os.path.join(WORK, "collector.csr")
    cert = os.path.join(WORK, "collector.crt")
    ext = os.path.join(WORK, "collector.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-subj", "/CN=localhost", "-keyout", key, "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", cert)
    return cert, key


class Collector:
    """A private rsyslogd: the datagram socket to local.log, TLS on port
    to tls.log, each line the message as received (%rawmsg%)."""

    def __init__(self, ca):
        self.port = stack.free_port()
        self.local = os.path.join(WORK, "local.log")
        self.tls = os.path.join(WORK, "tls.log")
        self.conf = os.path.join(WORK, "rsyslog.conf")
        self.pidfile = os.path.join(WORK, "rsyslog.pid")
        cert, key = make_collector_cert(ca)
        spool = os.path.join(WORK, "spool")
        os.makedirs(spool, exist_ok=True)
        with open(self.conf, "w") as f:
            f.write("""
global(workDirectory="%(spool)s" maxMessageSize="64k"
    defaultNetstreamDriverCAFile="%(ca)s"
    defaultNetstreamDriverCertFile="%(cert)s"
    defaultNetstreamDriverKeyFile="%(key)s")
module(load="imuxsock" SysSock.Use="off")
module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1"
    StreamDriver.AuthMode="anon")
template(name="raw" type="string" string="%%rawmsg%%\\n")
ruleset(name="local") {
    action(type="omfile" file="%(local)s" template="raw")
}
ruleset(name="tls") {
    action(type="omfile" file="%(tls)s" template="raw")
}
input(type="imuxsock" Socket="%(sock)s" UseSpecialParser="off"
    RateLimit.Interval="0" Ruleset="local")
input(type="imtcp" port="%(port)d" Ruleset="tls")
""" % {"spool": spool, "ca": ca[0], "cert": cert, "key": key,
                "local": self.local, "tls": self.tls, "sock": SOCKET,
                "port": self.port})
        self.proc = None

    def start(self):
        if os.path.exists(SOCKET):
            os.unlink(SOCKET)
        self.proc = subprocess.Popen(
            ["rsyslogd", "-n", "-f", self.conf, "-i", self.pidfile],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 20
        while time.time() < deadline:
            if os.path.exists(SOCKET) and port_open(self.port):
                return
            assert self.proc.poll() is None, self.proc.stderr.read()
            time.sleep(0.1)
        raise AssertionError("rsyslogd did not start")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stderr.close()

    def messages(self, which):
        """The parsed lines of local.log or tls.log, in arrival order."""
        path = self.local if which == "local" else self.tls
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            m = LINE.match(line)
            assert m, "not an RFC 5424 message of ours: %r" % line
            out.append({"pri": int(m.group(1)), "ts": m.group(2),
                        "msgid": m.group(5), "id": int(m.group(6)),
                        "seq": int(m.group(7)), "type": m.group(8),
                        "body": json.loads(m.group(9)), "raw": line})
        return out


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


# --- the database -----------------------------------------------------------

def superuser():
    return db("postgres", dbname=DBNAME)


def seal():
    """Every committed event sealed now; the newest sealed id."""
    return seal_all(DBNAME)


def burst(n):
    """n events at once, as a busy console makes them (more than one
    round's batch of 200)."""
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT audit.record(NULL, 'payconsole', NULL, NULL, "
                    "'audit.burst', g::text, 'info', "
                    "jsonb_build_object('n', g)) "
                    "FROM generate_series(1, %s) g", (n,))


def chain(after=0, through=None):
    """(seq, id, event, outcome) of the sealed events in (after, through]."""
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT c.seq, e.id, e.event, e.outcome "
                    "FROM audit.chain c JOIN audit.events e "
                    "ON e.id = c.event_id WHERE e.id > %s AND "
                    "(%s::bigint IS NULL OR e.id <= %s) ORDER BY c.seq",
                    (after, through, through))
        return cur.fetchall()


def alarm():
    """The newest syslog_down alarm: (id, first_seen, cleared_at, ids)."""
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT id, first_seen, cleared_at, event_ids "
                    "FROM audit.alerts WHERE rule = 'syslog_down' "
                    "ORDER BY id DESC LIMIT 1")
        return cur.fetchone()


def wait_alarm(is_open, after=0, timeout=40):
    deadline = time.time() + timeout
    while time.time() < deadline:
        a = alarm()
        if a is not None and a[0] > after and (a[2] is None) == is_open:
            return a
        time.sleep(0.3)
    raise AssertionError("syslog_down not %s: %r" % (
        "open" if is_open else "cleared", alarm()))


def wait_received(col, which, through, timeout=60):
    """The messages once every id up to through has arrived."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        msgs = col.messages(which)
        if msgs and max(m["id"] for m in msgs) >= through:
            return msgs
        time.sleep(0.3)
    msgs = col.messages(which)
    raise AssertionError("%s: up to id %s not received (newest %s)" % (
        which, through, max((m["id"] for m in msgs), default=None)))


def assert_no_gap(msgs, after, through):
    """Every sealed event in (after, through] received at least once, and
    the first copies in chain order with type and seq as in the chain."""
    want = chain(after, through)
    first = {}
    for m in msgs:
        first.setdefault(m["id"], m)
    got = [first[i] for i in sorted(first) if after < i <= through]
    assert [(m["seq"], m["id"], m["type"]) for m in got] == \
        [(s, i, e) for s, i, e, _ in want]
    # Arrival order is chain order (first copies).
    order = [m["seq"] for m in msgs if m is first[m["id"]] and
             after < m["id"] <= through]
    assert order == sorted(order)
    seqs = [s for s, _, _, _ in want]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    for m, (_, _, event, outcome) in zip(got, want):
        assert m["body"]["id"] == m["id"] and m["body"]["seq"] == m["seq"]
        assert m["body"]["event"] == event
        assert m["body"]["outcome"] == outcome
        assert m["msgid"] == event[:32]
        # Facility 13 (log audit); failures warn.
        assert m["pri"] == 13 * 8 + (4 if outcome in ("failure", "denied")
                                     else 6)


# --- fixtures ---------------------------------------------------------------

@pytest.fixture(scope="module")
def ca():
    os.makedirs(WORK)
    create_db(DBNAME, seeding=True)
    yield make_ca("siem-ca")
    drop_db(DBNAME)
    shutil.rmtree(WORK, ignore_errors=True)


@pytest.fixture(scope="module")
def collector(ca):
    col = Collector(ca)
    col.start()
    yield col
    col.stop()
    if os.path.exists(SOCKET):
        os.unlink(SOCKET)


def siem_server(name, **siem):
    pol = {"db_name": DBNAME, "siem_interval_seconds": "1",
           "siem_down_seconds": str(DOWN_SECONDS),
           "source_fail_threshold": "1000"}
    pol.update(siem)
    return Server(name + "-" + TAG, workers=2, policy=pol)


@pytest.fixture
def local_srv(collector):
    s = siem_server("siem-local", siem_sink="local",
                    siem_socket=SOCKET).start()
    yield s
    s.stop()


@pytest.fixture
def tls_srv(collector, ca):
    s = siem_server("siem-tls", siem_sink="tls",
                    siem_collector="localhost:%d" % collector.port,
                    siem_ca=ca[0]).start()
    yield s
    s.stop()


# --- the tests --------------------------------------------------------------

def test_policy_refuses_a_sink_without_its_keys(make_server):
    """siem_sink local without siem_socket stops start-up."""
    srv = make_server("siem-bad-" + TAG, raw_policy=policy_text(
        {"db_name": "payconsole", "siem_sink": "local"}))
    srv.start(wait=False)
    assert srv.proc.wait(timeout=30) != 0
    assert "siem_sink local needs siem_socket" in srv.output()


def test_local_every_event_in_order_masked(local_srv, collector):
    """Through the local socket: every sealed event of the database, from
    the first, in chain order, each exactly once; a sign-in and a failed
    one with the name masked; a card event without its number; no
    password, code or session token anywhere."""
    user = create_user("operator", site=local_srv.dir)
    r = post_login(local_srv, user["username"], "wrong-" + user["password"],
                   "000000")
    assert r.status_code == 401
    sess = sign_in(local_srv, user, offset=-STEP)
    with superuser() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT audit.record(NULL, 'payconsole', NULL, NULL, "
            "'payment.noted', 'T-1', 'info', %s::jsonb)",
            (json.dumps({"reason": "card 4111 1111 1111 1111 refund",
                         "cardholder_name": "Yuki Tanaka",
                         "cardholder_email": "taro@example.com",
                         "card_last4": "1111"}),))
        card_event = cur.fetchone()[0]
    through = seal()
    msgs = wait_received(collector, "local", through)
    assert_no_gap(msgs, 0, through)
    ids = [m["id"] for m in msgs]
    assert len(ids) == len(set(ids)), "a datagram sent twice"

    mine = [m for m in msgs if m["body"]["target"] is not None and
            m["type"].startswith("login.")]
    assert {m["type"] for m in mine} >= {"login.failure", "login.success"}
    for m in msgs:
        raw = m["raw"]
        assert user["username"] not in raw
        assert user["password"] not in raw
        assert sess.token not in raw
        assert "4111 1111 1111 1111" not in raw
        assert "Yuki" not in raw and "taro@" not in raw
    ok = [m for m in msgs if m["type"] == "login.success" and
          m["body"]["actor_id"] == sess.id]
    assert len(ok) == 1
    assert ok[0]["body"]["actor_name"] == user["username"][0] + "***"
    card = [m for m in msgs if m["id"] == card_event][0]
    assert card["body"]["details"] == {
        "reason": "[card number removed]", "cardholder_name": "Y*** T***",
        "cardholder_email": "t***@example.com", "card_last4": "1111"}
    assert card["body"]["target"] == "T-1"


def test_local_collector_down_then_back(local_srv, collector):
    """The collector stopped: nothing is lost while it is away, the alarm
    opens after siem_down_seconds; started again: every missing event
    arrives, no gap, none twice, and the alarm clears."""
    through = seal()
    wait_received(collector, "local", through)
    before = alarm()[0] if alarm() else 0
    collector.stop()
    try:
        user = create_user("operator", site=local_srv.dir)
        for _ in range(3):
            post_login(local_srv, user["username"], "nope", "000000")
        burst(450)
        missing = seal()
        assert missing > through
        opened = wait_alarm(True, after=before)
        assert max(m["id"] for m in collector.messages("local")) < missing
    finally:
        collector.start()
    msgs = wait_received(collector, "local", missing)
    cleared = wait_alarm(False, after=before)
    assert cleared[0] == opened[0]
    assert_no_gap(msgs, 0, missing)
    ids = [m["id"] for m in msgs]
    assert len(ids) == len(set(ids))
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT event, target FROM audit.events "
                    "WHERE id = ANY (%s) ORDER BY id", (cleared[3],))
        assert cur.fetchall() == [("control.failed", "syslog_down"),
                                  ("control.cleared", "syslog_down")]


def test_tls_stream_survives_a_collector_restart(tls_srv, collector):
    """Over TLS (RFC 5425 frames): the stream resumes where the local one
    stopped; stopped and started again, the collector ends with every
    event at least once by id and no gap by seq, and the alarm opened
    and cleared."""
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT last_event FROM audit.siem_cursor")
        start = cur.fetchone()[0]
    user = create_user("auditor", site=tls_srv.dir)
    post_login(tls_srv, user["username"], "nope", "000000")
    through = seal()
    msgs = wait_received(collector, "tls", through)
    assert min(m["id"] for m in msgs) > start
    assert_no_gap(msgs, start, through)
    # A healthy connection: each batch acknowledged, none sent twice.
    time.sleep(3)
    ids = [m["id"] for m in collector.messages("tls")]
    assert len(ids) == len(set(ids))

    before = alarm()[0] if alarm() else 0
    collector.stop()
    try:
        for _ in range(3):
            post_login(tls_srv, user["username"], "nope", "000000")
        burst(450)
        missing = seal()
        wait_alarm(True, after=before)
    finally:
        collector.start()
    msgs = wait_received(collector, "tls", missing)
    wait_alarm(False, after=before)
    assert_no_gap(msgs, start, missing)
    # Sent twice at most: what the dead connection took last round.
    ids = [m["id"] for m in msgs]
    assert len(ids) - len(set(ids)) <= 200


def test_tls_collector_with_a_certificate_of_another_ca(collector, ca):
    """siem_ca names a CA that did not sign the collector's certificate:
    the handshake fails, nothing reaches the collector, the alarm opens."""
    other = make_ca("other-ca")
    srv = siem_server("siem-wrongca", siem_sink="tls",
                      siem_collector="localhost:%d" % collector.port,
                      siem_ca=other[0]).start()
    try:
        had = len(collector.messages("tls"))
        before = alarm()[0] if alarm() else 0
        user = create_user("operator", site=srv.dir)
        post_login(srv, user["username"], "nope", "000000")
        seal()
        wait_alarm(True, after=before)
        assert len(collector.messages("tls")) == had
        # The chain the collector sends ends in a CA siem_ca does not hold.
        refused = re.findall(r"siem: localhost:%d: (.*)" % collector.port,
                             srv.output())
        assert refused and set(refused) <= {
            "self-signed certificate in certificate chain",
            "unable to get local issuer certificate"}, srv.output()
    finally:
        srv.stop()
    # The next server with the right CA clears it.


def test_healthz_unaffected(local_srv):
    assert requests.get(local_srv.url + "/healthz", verify=False,
                        timeout=10).status_code == 200
