"""Issue 8, item 4: faults survived, nothing lost.

- kill -9 of the worker serving a refund while the refund waits inside
  payments.operate(): the refund and its audit record both exist or
  neither does, and a retry with the same Idempotency-Key applies it
  exactly once;
- slow-header and slow-body clients are cut off by Kore's limits
  (kore.conf), even when they never go idle;
- oversized headers get 431, oversized bodies 413;
- a request two parsers could frame differently (two lengths, a
  transfer coding, a body on GET, a second Host) is refused before any
  handler runs, and the connection closed;
- 10,000 malformed requests (bad JSON, bad and overlong UTF-8, header
  injection, path tricks, huge numbers, wrong content types) against
  public and authenticated routes: no worker dies, the server still
  answers, and the workers' resident memory does not grow.

PostgreSQL stopped and started again is in test_faults_pg.py: it
stops the session's shared cluster, so it runs last (conftest.py)."""
import json
import os
import re
import random
import signal
import socket
import ssl
import subprocess
import threading
import time

import psycopg2
import pytest
import requests

from conftest import (SANITIZED, SOCK, TOP, db, healthz, module_server,
                      wait_healthy, workers)
from ledger import make_tx, new_key, refund, refund_rows, snapshot, tx_row
from people import NO_SOURCE_BLOCK, cookie_header, max_event_id, ready
from wire import raw, read_answer, tls_connect

COOKIE = "__Host-pc_session"
UNKNOWN_TX = 987654321987


def kore_limit(name):
    """A numeric setting from kore.conf (the limits under test)."""
    with open(os.path.join(TOP, "kore.conf")) as f:
        m = re.search(r"^%s\s+(\d+)\s*$" % re.escape(name), f.read(), re.M)
    assert m, name
    return int(m.group(1))


fsrv = module_server("faults", workers=2, policy=dict(NO_SOURCE_BLOCK),
                     unblocked=True)


@pytest.fixture(scope="module")
def oper(fsrv):
    return ready(fsrv, "operator")[0]


def vm_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


# --- raw TLS client ---------------------------------------------------------

def send_until_closed(t, chunks, pause, deadline):
    """Send chunks one by one with a pause between them until the server
    closes the connection or answers; (seconds until the close or
    answer, status or None)."""
    t0 = time.time()
    t.settimeout(pause)
    for chunk in chunks:
        if time.time() > deadline:
            break
        try:
            t.sendall(chunk)
        except (ConnectionError, ssl.SSLError, BrokenPipeError):
            return time.time() - t0, None
        try:
            data = t.recv(4096)
        except socket.timeout:
            continue
        except (ConnectionError, ssl.SSLError):
            return time.time() - t0, None
        if not data:
            return time.time() - t0, None
        m = re.match(rb"HTTP/1\.1 (\d{3})", data)
        # The answer to a cut-off client is a 408, then the close.
        t.settimeout(10)
        try:
            while t.recv(4096):
                pass
        except (OSError, ssl.SSLError):
            pass
        return time.time() - t0, int(m.group(1)) if m else None
    return None, None


# --- 1. kill -9 of a worker in the middle of a refund ------------------------

def refund_backend():
    """pid of the PostgreSQL backend running payments.operate() and
    waiting for a lock, or None."""
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity "
                    "WHERE application_name = 'payconsole-payments' "
                    "AND wait_event_type = 'Lock' "
                    "AND query LIKE '%payments.operate%'")
        row = cur.fetchone()
        return row[0] if row else None


def backend_alive(pid):
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                    (pid,))
        return cur.fetchone()[0] > 0


def refund_events(since, tid):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT (details->>'refund')::bigint, "
                    "(details->>'amount')::bigint FROM audit.events "
                    "WHERE id > %s AND target = %s "
                    "AND event = 'transaction.refunded'", (since, str(tid)))
        return cur.fetchall()


@pytest.mark.parametrize("backend", ["finishes", "terminated"])
def test_worker_killed_mid_refund_then_retry_applies_once(make_server,
                                                          backend):
    """The refund is held inside payments.operate() by a row lock taken
    from another connection; its worker is killed with SIGKILL. With
    "finishes" the orphaned database backend goes on once the lock is
    released (PostgreSQL does not notice the dead client while it
    waits); with "terminated" it is ended while waiting, as a database
    that notices the dead client would. Either way: refund and audit
    record together or not at all, and the retry applies it once."""
    srv = make_server("kill9", workers=1,
                      policy=dict(NO_SOURCE_BLOCK)).start()
    sess = ready(srv, "operator")[0]
    amount = 300
    t = make_tx("captured", 1000)
    v = tx_row(t)["version"]
    key = new_key()
    since = max_event_id()
    [victim] = workers(srv)

    lock = psycopg2.connect(host=SOCK, dbname="payconsole", user="postgres")
    answers = []
    try:
        with lock.cursor() as cur:
            cur.execute("SELECT id FROM payments.transactions "
                        "WHERE id = %s FOR UPDATE", (t,))

        def first_try():
            try:
                answers.append(refund(srv, sess, t, amount, "kill -9 test",
                                      key=key, version=v))
            except requests.RequestException as e:
                answers.append(e)

        th = threading.Thread(target=first_try, daemon=True)
        th.start()
        deadline = time.time() + 30
        pid = None
        while pid is None and time.time() < deadline:
            pid = refund_backend()
            time.sleep(0.05)
        assert pid is not None, "the refund never reached the row lock"

        os.kill(victim, signal.SIGKILL)
        th.join(timeout=30)
        assert not th.is_alive()
        # The client saw the connection die, not an answer.
        assert len(answers) == 1 and \
            isinstance(answers[0], requests.RequestException), answers

        if backend == "terminated":
            with db("postgres") as su, su.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    finally:
        lock.rollback()
        lock.close()

    deadline = time.time() + 30
    while backend_alive(pid) and time.time() < deadline:
        time.sleep(0.1)
    assert not backend_alive(pid)

    # Kore's parent started a new worker.
    wait_healthy(srv)
    assert workers(srv) and victim not in workers(srv)
    assert "worker 1 (pid: %d)" % victim in srv.output() or \
        "restarting worker 1" in srv.output()
    # The respawned worker 1 says so in the trail: a restart, not a new
    # start of the server, naming the same parent.
    deadline = time.time() + 30
    restarted = []
    while not restarted and time.time() < deadline:
        with db("postgres") as conn, conn.cursor() as cur:
            cur.execute("SELECT event, details FROM audit.events WHERE "
                        "event IN ('server.worker_restarted', "
                        "'server.started') AND (details->>'pid')::int = %s "
                        "ORDER BY id", (srv.proc.pid,))
            restarted = [r for r in cur.fetchall()
                         if r[0] == "server.worker_restarted"]
        time.sleep(0.3)
    assert restarted and restarted[0][1]["worker"] == 1, restarted

    # All or nothing.
    rows, events = refund_rows(t), refund_events(since, t)
    row = tx_row(t)
    if backend == "terminated":
        assert (rows, events) == ([], []), (rows, events)
    assert (len(rows), len(events)) in ((0, 0), (1, 1)), (rows, events)
    if rows:
        assert events[0] == (rows[0]["id"], amount)
        assert (row["refunded_amount"], row["version"]) == (amount, v + 1)
    else:
        assert (row["refunded_amount"], row["version"]) == (0, v)

    # The retry, same key, same body, same If-Match: applied exactly once.
    for _ in range(2):
        r = refund(srv, sess, t, amount, "kill -9 test", key=key, version=v)
        assert r.status_code == 201, (r.status_code, r.text)
        body = r.json()
        assert body["refund"]["amount"] == amount
    rows, events = refund_rows(t), refund_events(since, t)
    assert len(rows) == 1 and rows[0]["amount"] == amount, rows
    assert events == [(rows[0]["id"], amount)], events
    assert body["refund"]["id"] == rows[0]["id"]
    row = tx_row(t)
    assert (row["status"], row["captured_amount"], row["refunded_amount"],
            row["version"]) == ("partially_refunded", 1000, amount, v + 1)
    assert body["transaction"]["version"] == v + 1


# --- 2. slow clients ----------------------------------------------------------

def test_slow_header_and_slow_body_clients_cut_off(fsrv):
    """Clients that send a byte every half second never look idle; the
    header and body timeouts must still end them."""
    header_timeout = kore_limit("http_header_timeout")
    body_timeout = kore_limit("http_body_timeout")
    pause = 0.5
    results = {}

    def slow_header():
        t = tls_connect(fsrv)
        t.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        chunks = [b"X-Slow-%d: %d\r\n" % (i, i) for i in range(1000)]
        limit = header_timeout + 15
        results["header"] = send_until_closed(t, iter(
            c[j:j + 1] for c in chunks for j in range(len(c))), pause,
            time.time() + limit)
        t.close()

    def slow_body():
        t = tls_connect(fsrv)
        t.sendall(b"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: 4000\r\n\r\n")
        limit = body_timeout + 15
        results["body"] = send_until_closed(t, (b"{" if i == 0 else b" "
                                                for i in range(4000)),
                                            pause, time.time() + limit)
        t.close()

    ths = [threading.Thread(target=f, daemon=True)
           for f in (slow_header, slow_body)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(timeout=120)
    for what, limit in (("header", header_timeout), ("body", body_timeout)):
        took, status = results[what]
        assert took is not None, "%s: still connected after %d s" % (
            what, limit + 15)
        # Cut off by the limit (not before it), within generous slack.
        assert limit - 1 <= took <= limit + 10, (what, took)
        assert status in (408, None), (what, status)
    assert healthz(fsrv) == 200


# --- 3. oversized headers and bodies -----------------------------------------

@pytest.mark.parametrize("size", [9000, 20000, 200000])
def test_oversized_headers_get_431(fsrv, size):
    assert kore_limit("http_header_max") < size
    t = tls_connect(fsrv)
    req = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " +
           b"a" * size + b"\r\n\r\n")
    try:
        t.sendall(req)
    except (ConnectionError, ssl.SSLError):
        pass            # the server stopped reading after the limit
    answer = read_answer(t)
    t.close()
    assert answer is not None, "closed without an answer"
    status, headers = answer
    assert status == 431, (status, headers)
    assert "max-age=31536000" in headers.get("strict-transport-security",
                                             "")
    assert healthz(fsrv) == 200


def test_many_small_headers_over_the_limit_get_431(fsrv):
    t = tls_connect(fsrv)
    req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(
        b"X-H%d: v\r\n" % i for i in range(2000)) + b"\r\n"
    try:
        t.sendall(req)
    except (ConnectionError, ssl.SSLError):
        pass
    answer = read_answer(t)
    t.close()
    assert answer is not None and answer[0] == 431, answer


@pytest.mark.parametrize("how", ["sent", "announced"])
def test_oversized_bodies_get_413(fsrv, oper, how):
    size = kore_limit("http_body_max") + 1
    for path, auth in (("/api/login", False),
                       ("/api/transactions/%d/refunds" % UNKNOWN_TX, True)):
        t = tls_connect(fsrv)
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\n"
                "Content-Length: %d\r\n" % (path, size))
        if auth:
            head += ("Cookie: %s=%s\r\nOrigin: %s\r\nX-CSRF-Token: %s\r\n"
                     "Idempotency-Key: %s\r\nIf-Match: 1\r\n" % (
                         COOKIE, oper.token, fsrv.url, oper.csrf,
                         new_key()))
        try:
            t.sendall(head.encode() + b"\r\n")
            if how == "sent":
                t.sendall(b"[" * size)
        except (ConnectionError, ssl.SSLError):
            pass
        answer = read_answer(t)
        t.close()
        assert answer is not None and answer[0] == 413, (path, answer)
    assert healthz(fsrv) == 200


# --- 4. 10,000 malformed requests -------------------------------------------

# --- request framing (src/kore/06-request-framing.patch) ---------------------

LOGIN_BODY = b'{"username":"nobody-framing","password":"Not-the-pw-1",' \
    b'"otp":"123456"}'
JSON_CT = b"Content-Type: application/json"
CHUNKED = b"%x\r\n%s\r\n0\r\n\r\n" % (len(LOGIN_BODY), LOGIN_BODY)
CL = b"Content-Length: %d" % len(LOGIN_BODY)

def fillers(n):
    return [b"X-Filler-%d: %d" % (i, i) for i in range(n)]


# (name, request bytes, status). Without the patch each of these reached
# the application (a login answered 401, /healthz 200) or, chunked
# without a length, got 411.
FRAMING = [
    ("two equal lengths", 400, raw("POST", "/api/login",
                                   [JSON_CT, CL, CL], LOGIN_BODY)),
    ("two lengths", 400, raw("POST", "/api/login", [
        JSON_CT, CL, b"Content-Length: %d" % (len(LOGIN_BODY) + 40)],
        LOGIN_BODY)),
    ("length list", 400, raw("POST", "/api/login", [
        JSON_CT, b"Content-Length: %d, %d" % ((len(LOGIN_BODY),) * 2)],
        LOGIN_BODY)),
    ("signed length", 400, raw("POST", "/api/login", [
        JSON_CT, b"Content-Length: +%d" % len(LOGIN_BODY)], LOGIN_BODY)),
    ("chunked", 501, raw("POST", "/api/login", [
        JSON_CT, b"Transfer-Encoding: chunked"], CHUNKED)),
    ("chunked and length", 501, raw("POST", "/api/login", [
        JSON_CT, b"Transfer-Encoding: chunked", CL], LOGIN_BODY)),
    ("identity coding", 501, raw("POST", "/api/login", [
        JSON_CT, b"Transfer-Encoding: identity", CL], LOGIN_BODY)),
    ("body on GET", 400, raw("GET", "/healthz",
                             [b"Content-Length: 5"], b"hello")),
    ("second Host", 400, raw("GET", "/healthz", [b"Host: 127.0.0.1"])),
    ("Host-like name only", 400,
     b"GET /healthz HTTP/1.1\r\nHost-Name: 127.0.0.1\r\n\r\n"),
    # Kore dropped every line after the 24th unseen: a transfer coding
    # or a second Host hidden behind fillers reached no check.
    ("chunked after 30 headers", 501, raw("GET", "/healthz", fillers(30) + [
        b"Transfer-Encoding: chunked"], b"0\r\n\r\n")),
    ("second Host after 30 headers", 400, raw("GET", "/healthz", fillers(30) +
                                              [b"Host: evil.example"])),
    ("70 header lines", 431, raw("GET", "/healthz", fillers(70))),
]


@pytest.mark.parametrize("name,status,req", FRAMING,
                         ids=[f[0] for f in FRAMING])
def test_ambiguous_framing_is_refused_and_the_connection_closed(
        fsrv, name, status, req):
    """A request two parsers could frame differently is answered before
    any handler runs, and nothing after it on the connection is read."""
    t = tls_connect(fsrv)
    try:
        t.sendall(req)
        answer = read_answer(t)
        assert answer is not None and answer[0] == status, (name, answer)
        try:
            t.sendall(raw("GET", "/healthz"))
            after = read_answer(t)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            after = None
        assert after is None, (name, after)
    finally:
        t.close()


def test_plain_framing_still_reaches_the_application(fsrv):
    """The controls: one length, a zero length on GET, the usual Host.
    The connection stays open after each."""
    t = tls_connect(fsrv)
    try:
        t.sendall(raw("POST", "/api/login", [JSON_CT], LOGIN_BODY))
        assert read_answer(t)[0] == 401
        t.sendall(raw("GET", "/healthz", [b"Content-Length: 0"]))
        assert read_answer(t)[0] == 200
        t.sendall(raw("GET", "/healthz", [b"X-Host: 127.0.0.1"]))
        assert read_answer(t)[0] == 200
        # 50 header lines: more than Kore's 24, fewer than the limit.
        t.sendall(raw("GET", "/healthz", fillers(48)))
        assert read_answer(t)[0] == 200
    finally:
        t.close()

BAD_BODIES = [
    b"{", b"}", b"[", b"null", b"true", b"1", b'"x"', b"{,}", b'{"a":}',
    b'{"username":', b'{"username":"a"', b'{"username":"a",}',
    b'{"username":"\xff\xfe","password":"x","otp":"123456"}',
    b'{"username":"\xc0\xaf\xc0\xae","password":"x","otp":"1"}',
    b'{"username":"\xe0\x80\xaf","password":"\xed\xa0\x80","otp":"1"}',
    b'{"username":"\xf8\x88\x80\x80\x80","password":"x","otp":"1"}',
    b'{"username":"a\x00b","password":"x","otp":"1"}',
    b'{"username":"\\u0000","password":"\\ud800","otp":"1"}',
    b'{"amount":1e999999,"reason":"x"}',
    b'{"amount":-0,"reason":"x"}',
    b'{"amount":99999999999999999999999999999999,"reason":"x"}',
    b'{"amount":9223372036854775808,"reason":"x"}',
    b'{"amount":-9223372036854775809,"reason":"x"}',
    b'{"amount":1.0e308,"reason":"x"}',
    b'{"amount":0x10,"reason":"x"}',
    b'{"amount":NaN,"reason":"x"}',
    b'{"amount":Infinity,"reason":"x"}',
    b'{"amount":[1],"reason":{"a":1}}',
    b'{"amount":1,"amount":2,"reason":"dup"}',
    b'{"otp":123456789012345678901234567890}',
    b'{"otp":"\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94\xef\xbc'
    b'\x95\xef\xbc\x96"}',
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 2000 + b"1" + b"}" * 2000,
    b'{"username":"' + b"A" * 60000 + b'"}',
    b'{"reason":"' + b"\\\"" * 20000 + b'"}',
    b"\xef\xbb\xbf{\"username\":\"bom\"}",
    b"\x00" * 100,
    bytes(range(256)),
    b"username=a&password=b&otp=1",
]

BAD_PATHS = [
    "/../api/me", "/api/../api/me", "/%2e%2e/api/me", "/api/%2e%2e/healthz",
    "/healthz/..", "/healthz%00", "/healthz%00.json", "/api/me%00",
    "/api/transactions/1%00", "/api/transactions/%00",
    "/api/transactions/-1", "/api/transactions/0",
    "/api/transactions/99999999999999999999999999",
    "/api/transactions/0x10", "/api/transactions/1e3",
    "/api/transactions/%31", "/api/transactions/1/../2",
    "//api//me", "/api/me/", "/API/ME", "/api/me;x=1", "/api/me?",
    "/api/transactions?limit=1e309", "/api/transactions?limit=-1",
    "/api/transactions?limit=99999999999999999999",
    "/api/transactions?cursor=%ff%fe%fd", "/api/transactions?q=%c0%ae%c0%ae",
    "/api/transactions?q=%00", "/api/transactions?q=%", "/api/transactions?q=%zz",
    "/api/transactions?amount_min=abc&amount_max=1e99",
    "/api/transactions?from=2026-13-45&to=-1",
    "/api/transactions?limit=1&limit=2&limit=3",
    "/api/transactions?" + "&".join("p%d=%d" % (i, i) for i in range(300)),
    "/api/transactions/export?from=%ff", "/api/audit/events?after=-9",
    "/api/users/%2e%2e/disable", "/api/users/1%2f..%2f/role",
    "/api/reviews/2026-W99", "/api/reviews/%00",
    "/\xff\xfe", "/\xc0\xaf", "/%c0%afetc%c0%afpasswd", "/..%c0%af..%c0%af",
    "*", "http://evil.example/healthz", "healthz", "/" + "a" * 4000,
]

HEADER_TRICKS = [
    [b"X-A: b\rInjected: yes"], [b"X-A: b\nInjected: yes"],
    [b"X-A: b\r\n Folded: continuation"], [b"X-A\x00: b"],
    [b"X-A: \x00\x01\x02"], [b"Bad Header Name: x"], [b"NoColonHere"],
    [b": empty-name"], [b"X-A:" + b"\xff" * 100],
    [b"Cookie: " + b"; ".join(b"c%d=v" % i for i in range(50))],
    [b"Cookie: __Host-pc_session=\xff\xfe\xfd"],
    [b"Cookie: __Host-pc_session=" + b"A" * 4000],
    [b"Cookie: __Host-pc_session=a=b=c; __Host-pc_session=x"],
    [b"Content-Length: -1"], [b"Content-Length: 1, 2"],
    [b"Content-Length: 6", b"Content-Length: 6"],
    [b"Content-Length: 99999999999999999999999"],
    [b"Content-Length: abc"], [b"Transfer-Encoding: chunked"],
    [b"Transfer-Encoding: chunked", b"Content-Length: 0"],
    [b"Host: evil.example"], [b"Host: a\r\nX-Smuggle: 1"],
    [b"Origin: null"], [b"X-CSRF-Token: \xff\xfe"],
    [b"Idempotency-Key: a\rb"], [b"If-Match: W/\"1\""],
    [b"If-Match: 99999999999999999999"], [b"If-Match: -1"],
    [b"Content-Type: text/plain"], [b"Content-Type: multipart/form-data"],
    [b"Content-Type: application/json; charset=latin1"],
    [b"Content-Type: application/x-www-form-urlencoded"],
    [b"Content-Type: \xff"], [b"Expect: 100-continue"],
    [b"Connection: upgrade", b"Upgrade: websocket"],
    # Issue 13: a NUL hiding what follows, control bytes, a list.
    [b"X-A: a\x00b", b"Content-Length: 6"], [b"X-A: a\x00b",
                                             b"Transfer-Encoding: chunked"],
    [b"X-A: \x1b[2J"], [b"X-A: a\x7f"], [b"X-A: a\x0bb"],
    [b"Connection: keep-alive, close"], [b"X-Empty:"],
]

BAD_LINES = [
    b"GET /healthz HTTP/1.0", b"GET /healthz HTTP/9.9", b"GET /healthz",
    b"GET  /healthz  HTTP/1.1", b"get /healthz HTTP/1.1",
    b"BREW /healthz HTTP/1.1", b"GET\t/healthz\tHTTP/1.1",
    b"GET /healthz HTTP/1.1 extra", b"\x16\x03\x01\x00\x05", b"",
    b"GET /he\x00althz HTTP/1.1", b"GET /healthz\r HTTP/1.1",
    # Issue 13: bare LF endings, and two requests in one write.
    b"GET /healthz HTTP/1.1\nHost: 127.0.0.1\n",
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    b"GET /api/hours HTTP/1.1",
    b"CONNECT 127.0.0.1:443 HTTP/1.1", b"PRI * HTTP/2.0",
    b"TRACE / HTTP/1.1", b"OPTIONS * HTTP/1.1", b"DELETE /api/me HTTP/1.1",
]

OPER_POSTS = ["/api/transactions/%d/refunds", "/api/transactions/%d/capture",
              "/api/transactions/%d/cancel"]


def malformed_requests(n, seed, sess, srv, tid):
    """n malformed requests (bytes, close_after) from a fixed mix."""
    rnd = random.Random(seed)
    auth = [b"Cookie: %s=%s" % (COOKIE.encode(), sess.token.encode()),
            b"Origin: " + srv.url.encode(),
            b"X-CSRF-Token: " + sess.csrf.encode()]
    out = []
    for i in range(n):
        kind = i % 8
        authed = rnd.random() < 0.6
        hdrs = list(auth) if authed else []
        if kind == 0:       # bad bodies to the public JSON routes
            path = rnd.choice(["/api/login", "/api/otp/confirm"])
            ctype = rnd.choice([b"application/json", b"text/plain",
                                b"application/json; charset=utf-8"])
            out.append(raw("POST", path, [b"Content-Type: " + ctype],
                           rnd.choice(BAD_BODIES)))
        elif kind in (1, 2):  # bad bodies to the authenticated JSON routes
            path = rnd.choice(OPER_POSTS) % rnd.choice([tid, UNKNOWN_TX])
            extra = [b"Content-Type: application/json",
                     b"Idempotency-Key: fz-%d-%d" % (seed, i),
                     b"If-Match: %d" % rnd.choice([0, 1, 999999])]
            if kind == 2:
                path = rnd.choice(["/api/password", "/api/reauth",
                                   "/api/users", "/api/logout-not",
                                   "/api/alerts/1/ack",
                                   "/api/reviews/2026-W01/signoff"])
            out.append(raw("POST", path, auth + extra,
                           rnd.choice(BAD_BODIES)))
        elif kind in (3, 4):  # path tricks
            method = rnd.choice(["GET", "GET", "POST", "HEAD", "PUT"])
            body = b"{}" if method in ("POST", "PUT") else None
            out.append(raw(method, rnd.choice(BAD_PATHS), hdrs, body))
        elif kind == 5:     # header injection and malformed headers
            trick = rnd.choice(HEADER_TRICKS)
            path = rnd.choice(["/healthz", "/api/me", "/api/transactions",
                               "/api/transactions/%d/refunds" % UNKNOWN_TX])
            body = b'{"amount":1,"reason":"x"}' \
                if path.endswith("refunds") else None
            framing = [t.lower().split(b":")[0] for t in trick]
            if b"transfer-encoding" in framing:
                body = b"0\r\n\r\n"     # the last chunk
            elif b"content-length" in framing:
                body = b"123456"        # enough for any length given
            out.append(raw("POST" if body is not None else "GET", path,
                           hdrs + trick, body))
        elif kind == 6:     # malformed request lines
            line = rnd.choice(BAD_LINES)
            out.append(line + b"\r\nHost: 127.0.0.1\r\n\r\n")
        else:               # plausible requests with hostile values
            v = rnd.choice(["' OR 1=1 --", "%27%20OR%201=1", "\u202e",
                            "%F0%9F%92%A9", "%ED%A0%80", "<script>",
                            "${jndi:ldap://x}", "=cmd|' /C calc'!A0",
                            "4111111111111111", "%0d%0aSet-Cookie:%20x=1"])
            out.append(raw("GET", "/api/transactions?q=%s&limit=%s" % (
                v.replace(" ", "%20"), rnd.choice(["1", "50", "x"])), auth))
    return out


def fire(srv, reqs, threads=8):
    """Send the requests over keep-alive connections from several
    threads; reconnect whenever the server closes. Counts by status."""
    counts = {}
    lock = threading.Lock()
    chunks = [reqs[i::threads] for i in range(threads)]
    errors = []
    server_errors = []

    def run(chunk):
        t = None
        local = {}
        for req in chunk:
            for attempt in range(2):
                try:
                    if t is None:
                        t = tls_connect(srv)
                    t.sendall(req)
                    answer = read_answer(t, req.startswith(b"HEAD "))
                    break
                except (ConnectionError, ssl.SSLError, socket.timeout,
                        BrokenPipeError) as e:
                    if t is not None:
                        t.close()
                    t = None
                    answer = None
                    if attempt == 1:
                        local["error:" + type(e).__name__] = \
                            local.get("error:" + type(e).__name__, 0) + 1
            key = answer[0] if answer else "closed"
            local[key] = local.get(key, 0) + 1
            if answer and answer[0] >= 500:
                with lock:
                    server_errors.append((answer[0], req))
            if answer is None or answer[1].get("connection") == "close":
                if t is not None:
                    t.close()
                t = None
        if t is not None:
            t.close()
        with lock:
            for k, v in local.items():
                counts[k] = counts.get(k, 0) + v

    ths = [threading.Thread(target=run, args=(c,), daemon=True)
           for c in chunks]
    for th in ths:
        th.start()
    for th in ths:
        th.join(timeout=600)
        if th.is_alive():
            errors.append("thread still running")
    assert not errors, errors
    return counts, server_errors


# Invalid UTF-8 used to reach PostgreSQL, which refused the parameter,
# and the client got 503: JSON bodies are now checked first (utf8.c).
@pytest.mark.parametrize("body", [
    b'{"username":"\xff\xfe","password":"x","otp":"123456"}',
    b'{"username":"\xc0\xaf","password":"x","otp":"123456"}',
])
def test_invalid_utf8_in_json_is_refused_with_400(fsrv, body):
    r = requests.post(fsrv.url + "/api/login", data=body, verify=False,
                      headers={"Content-Type": "application/json"},
                      timeout=30)
    assert r.status_code == 400, (r.status_code, r.text)
    assert r.json()["error"] == "invalid_request"


def test_ten_thousand_malformed_requests(fsrv, oper):
    srv = fsrv
    tid = make_tx("captured", 5000)
    before_tx = snapshot(tid)
    start_workers = workers(srv)
    assert len(start_workers) == 2
    log_start = len(srv.output())

    # Warm-up: every code path once, pools and caches filled.
    fire(srv, malformed_requests(2000, 1, oper, srv, tid))
    rss_before = {p: vm_rss_kib(p) for p in start_workers}

    counts, server_errors = fire(srv, malformed_requests(10000, 2, oper,
                                                         srv, tid))
    total = sum(v for k, v in counts.items()
                if not str(k).startswith("error:"))
    assert total == 10000, counts

    # No crash: the same workers, nothing died, still serving.
    assert workers(srv) == start_workers, (start_workers, workers(srv))
    log = srv.output()[log_start:]
    for bad in ("sandbox violation", "restarting worker", "exited with",
                "AddressSanitizer", "runtime error:"):
        assert bad not in log, log[-3000:]
    assert healthz(srv) == 200
    r = requests.get(srv.url + "/api/transactions/%d" % tid, verify=False,
                     headers=cookie_header(oper.token), timeout=30)
    assert r.status_code == 200, r.text

    # Only refusals: no 5xx but 505 (HTTP/9.9, HTTP/2.0 request lines)
    # and 501 (a transfer coding), and a real answer for most of them.
    unexplained = [(st, req[:300]) for st, req in server_errors
                   if st != 505 and not (
                       st == 501 and b"transfer-encoding:" in req.lower())]
    assert not unexplained, (unexplained[:5], len(unexplained), counts)
    answered = sum(v for k, v in counts.items() if isinstance(k, int))
    assert answered >= 9000, counts
    assert not [k for k in counts if str(k).startswith("error:")], counts
    # Malformed input changed nothing.
    assert snapshot(tid) == before_tx

    # No leak: resident memory of each worker about where it was. Not
    # under ASan: its quarantine keeps freed memory (up to 256 MiB).
    rss_after = {p: vm_rss_kib(p) for p in start_workers}
    for p in start_workers if not SANITIZED else ():
        grown = rss_after[p] - rss_before[p]
        assert grown <= max(4096, rss_before[p] // 10), \
            (p, rss_before[p], rss_after[p], counts)


# --- issue 13: a client that hangs up while its password is hashed -------

@pytest.mark.skipif(SANITIZED, reason="ASan must be the first library; "
                    "the shim is preloaded in the plain lane")
def test_a_hang_up_mid_hash_never_touches_the_destroyed_task(make_server,
                                                              tmp_path):
    """When a client hangs up while its argon2 task runs, Kore destroys
    the task itself (its lock with it) and frees the request again;
    hashjob.c asked that destroyed task whether it had finished. glibc
    reads a destroyed rwlock without complaint and the memory stays
    valid, so neither a crash nor ASan showed it: the server runs here
    with a preloaded shim (tests/integration/shim/rwlock_guard.c) that
    aborts the worker on any use of a destroyed rwlock. Twenty logins
    hung up mid-hash, then the server must still answer and the shim
    must have found nothing."""
    shim = str(tmp_path / "rwlock_guard.so")
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", shim,
                    os.path.join(TOP, "tests", "integration", "shim",
                                 "rwlock_guard.c"), "-ldl", "-lpthread"],
                   check=True)
    os.chmod(str(tmp_path), 0o755)
    os.chmod(shim, 0o755)
    srv = make_server("hangmidhash", policy=dict(NO_SOURCE_BLOCK))
    srv.extra_env = {"LD_PRELOAD": shim}
    srv.start()
    body = json.dumps({"username": "nobody_hang", "password": "Whatever-1",
                       "otp": "123456"}).encode()
    attempt = raw("POST", "/api/login", [b"Content-Type: application/json"],
                  body)
    for i in range(20):
        t = tls_connect(srv, timeout=30)
        t.sendall(attempt)
        time.sleep(0.02 * (i % 5))
        t.close()
    # Every hang-up's hash has ended by the time a new login is answered
    # twice in a row (one slot per worker is enough to queue behind).
    for _ in range(2):
        r = requests.post(srv.url + "/api/login", verify=False, timeout=60,
                          json={"username": "nobody_hang",
                                "password": "Whatever-1", "otp": "123456"})
        assert r.status_code in (401, 429), r.text
    assert requests.get(srv.url + "/healthz", verify=False,
                        timeout=30).status_code == 200
    assert "destroyed rwlock" not in srv.output()
