"""Issue 13, HTTP framing: a strict request head, pipelining, Connection
lists, HEAD, the JSON error shape on Kore's own answers
(src/kore/08-strict-head.patch, 10-pipeline-before-answer.patch,
src/httpscan.c, src/httperr.c), and one Host rule (policy server_name)
with TLS SNI or without.

Everything here is sent as raw bytes over TLS (tests/integration/wire.py):
a client library would repair what is under test."""
import json
import socket
import ssl
import time

import pytest

from conftest import module_server
from people import NO_SOURCE_BLOCK
from wire import Records, raw, read_answer_body, tls_connect

HOST = b"Host: 127.0.0.1"


hsrv = module_server("http-strict", workers=1,
                     policy=dict(NO_SOURCE_BLOCK), unblocked=True)


def exchange(srv, data, answers=3, head_only=False, until_closed=True):
    """Send data in one write (one TLS record when small), or a list of
    byte strings as that many TLS records in one TCP write
    (wire.Records); read up to `answers` answers: (answers, closed).
    closed is False when the server kept the connection open with
    nothing more to say (a read timed out); not looked at when all the
    answers came and until_closed is False."""
    t = Records(srv, timeout=5) if isinstance(data, list) else \
        tls_connect(srv, timeout=5)
    got = []
    closed = False
    try:
        if isinstance(data, list):
            t.send_records(*data)
        else:
            t.sendall(data)
        for _ in range(answers):
            try:
                a = read_answer_body(t, head_only)
            except socket.timeout:
                break
            if a is None:
                closed = True
                break
            got.append(a)
        else:
            if not until_closed:
                return got, False
            try:
                closed = t.recv(1) == b""
            except (socket.timeout, ssl.SSLError, ConnectionError):
                closed = False
    finally:
        t.close()
    return got, closed


def assert_json_error(answer, status, code):
    st, headers, body = answer
    assert st == status, (st, headers, body)
    assert headers.get("content-type") == \
        "application/json; charset=utf-8", headers
    doc = json.loads(body)
    assert doc["error"] == code, doc
    assert isinstance(doc["message"], str) and doc["message"], doc


HOURS = b"GET /api/hours HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def smuggle(hidden):
    """The issue's request: a NUL in a value, then the header lines
    Kore used to miss, then a 'body' that is a second request."""
    return (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\x00b\r\n"
            + hidden + b"\r\n\r\n" + HOURS)


# Each used to be answered by the application (two 200s for the first).
SMUGGLED = [
    ("nul hides a length", smuggle(b"Content-Length: %d" % len(HOURS))),
    ("nul hides a transfer coding", smuggle(b"Transfer-Encoding: chunked")),
    ("nul hides a second Host", smuggle(b"Host: evil.example")),
    ("nul hides Connection close", smuggle(b"Connection: close")),
    ("nul in a name", b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"X\x00A: b\r\n\r\n"),
]


def assert_refused_and_closed(srv, name, data):
    """One answer, 400 in JSON, announced and done as a close."""
    got, closed = exchange(srv, data)
    assert len(got) == 1, (name, [a[:2] for a in got])
    assert_json_error(got[0], 400, "invalid_request")
    assert got[0][1].get("connection") == "close"
    assert closed, name


@pytest.mark.parametrize("name,data", SMUGGLED, ids=[s[0] for s in SMUGGLED])
def test_a_nul_in_the_head_is_refused_before_any_header_is_read(
        hsrv, name, data):
    assert_refused_and_closed(hsrv, name, data)


# (name, bytes): a head two parsers could read differently.
LENIENT = [
    ("bare CR in a value", raw("GET", "/healthz", [b"X-A: a\rb"])),
    ("bare LF in a value", raw("GET", "/healthz", [b"X-A: a\nB: c"])),
    ("bare LF endings", b"GET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n"),
    ("one bare LF ending", b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\n"
                           b"X-A: b\r\n\r\n"),
    ("lower-case method", raw("get", "/healthz")),
    ("mixed-case method", raw("Get", "/healthz")),
    ("double space", b"GET  /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    ("tab separator", b"GET\t/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    ("trailing space", b"GET /healthz HTTP/1.1 \r\nHost: 127.0.0.1\r\n\r\n"),
    ("empty header name", raw("GET", "/healthz", [b": x"])),
    ("space before colon", raw("GET", "/healthz", [b"X-A : x"])),
    ("folded line", raw("GET", "/healthz", [b"X-A: a", b" folded"])),
    ("escape in a value", raw("GET", "/healthz", [b"X-A: \x1b[2J"])),
    ("DEL in a value", raw("GET", "/healthz", [b"X-A: a\x7f"])),
    ("vertical tab in a value", raw("GET", "/healthz", [b"X-A: a\x0bb"])),
    ("UTF-8 in a value", raw("GET", "/healthz", [b"X-A: \xe3\x81\x82"])),
    ("two empty lines first", b"\r\n\r\nGET /healthz HTTP/1.1\r\n"
                              b"Host: 127.0.0.1\r\n\r\n"),
]


@pytest.mark.parametrize("name,data", LENIENT, ids=[s[0] for s in LENIENT])
def test_lenient_heads_are_refused_and_the_connection_closed(
        hsrv, name, data):
    assert_refused_and_closed(hsrv, name, data)


# Heads Kore's own parser refuses, each followed by a good request in the
# next TLS record of the same TCP write: the server reads that record in
# the same pass as the refusal (net_recv_flush reads until it would
# block). Kore then ran the header parser again on its buffer, which
# still began with the refused head, and sent a second 400.
REFUSED_THEN_MORE = [
    ("no Host, a Host-like name",
     b"GET /healthz HTTP/1.1\r\nHost-Name: 127.0.0.1\r\n\r\n"),
    ("no Host at all", b"GET /healthz HTTP/1.1\r\nX-A: b\r\n\r\n"),
    ("empty Host", b"GET /healthz HTTP/1.1\r\nHost:\r\n\r\n"),
    ("two words in the request line", b"GET /healthz\r\n" + HOST +
     b"\r\n\r\n"),
    ("bare LF endings", b"GET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n"),
    ("NUL in a value", raw("GET", "/healthz", [b"X-A: a\x00b"])),
]


@pytest.mark.parametrize("name,head", REFUSED_THEN_MORE,
                         ids=[r[0] for r in REFUSED_THEN_MORE])
def test_nothing_is_read_after_a_refused_head(hsrv, name, head):
    """One 400 and the end of the connection: the good request in the
    record after the refused head is never read."""
    got, closed = exchange(hsrv, [head, raw("GET", "/healthz")])
    assert [a[0] for a in got] == [400], (name, [a[:2] for a in got])
    assert_json_error(got[0], 400, "invalid_request")
    assert got[0][1].get("connection") == "close", name
    assert closed, name


def test_what_the_rfc_allows_still_passes(hsrv):
    """The controls: HTAB and spaces in a value, one empty line before
    the request line (RFC 9112 2.2), every tchar in a name."""
    for data in (raw("GET", "/healthz", [b"X-A:\ta\tb", b"X-B: a b ~"]),
                 b"\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                 raw("GET", "/healthz", [b"!#$%&'*+-.^_`|~09azAZ: x"])):
        got, _ = exchange(hsrv, data, answers=1, until_closed=False)
        assert [a[0] for a in got] == [200], (data, got)


def fillers(n):
    return [b"X-Filler-%d: %d" % (i, i) for i in range(n)]


def test_the_line_limit_is_more_than_63(hsrv):
    """63 header lines (Host and 62 more) pass; 64 get 431, in JSON."""
    got, _ = exchange(hsrv, raw("GET", "/healthz", fillers(62)), answers=1,
                      until_closed=False)
    assert [a[0] for a in got] == [200]
    got, closed = exchange(hsrv, raw("GET", "/healthz", fillers(63)))
    assert len(got) == 1
    assert_json_error(got[0], 431, "headers_too_large")
    assert closed


def test_two_pipelined_requests_are_answered_or_closed_not_left_hanging(
        hsrv):
    """Before: the first was answered, the second silently lost, the
    connection left open. Now the first is answered with 'connection:
    close' and the connection closed, so the client knows to retry."""
    got, closed = exchange(hsrv, raw("GET", "/healthz") + HOURS)
    assert [a[0] for a in got] == [200], got
    assert got[0][1]["connection"] == "close"
    assert json.loads(got[0][2])["status"] == "ok"
    assert closed


LOGIN_BODY = (b'{"username":"nobody-pipelined","password":"Not-the-pw-1",'
              b'"otp":"123456"}')
LOGIN_HEAD = raw("POST", "/api/login", [b"Content-Type: application/json",
                                        b"Content-Length: %d"
                                        % len(LOGIN_BODY)])
HEALTH = raw("GET", "/healthz")


def test_a_body_does_not_swallow_the_next_request(hsrv):
    """A login body followed by a pipelined request: the login reads
    exactly its own body (401 invalid_credentials, not 400 for a body
    with a request glued to it), then the connection closes."""
    got, closed = exchange(hsrv, LOGIN_HEAD + LOGIN_BODY + HOURS)
    assert len(got) == 1, got
    assert_json_error(got[0], 401, "invalid_credentials")
    assert got[0][1]["connection"] == "close"
    assert closed


# A request, then bytes in a later TLS record than its head, before its
# answer (each list is that many records, in one TCP write). Kore went
# back to reading requests as soon as a body was complete, so the next
# one was handled while the first still waited on PostgreSQL and its
# argon2 task: two answers, the second request's first (a, b). Without
# a body, or with the body in the head's record, the next record was
# read once the first was answered and handled as a new request (c, d).
LATER_RECORDS = [
    ("body and next request in the record after the head",
     [LOGIN_HEAD, LOGIN_BODY + HEALTH], 401),
    ("body in a later record, next request in a third",
     [LOGIN_HEAD, LOGIN_BODY, HEALTH], 401),
    ("argon2 login, next request in the record after it",
     [LOGIN_HEAD + LOGIN_BODY, HEALTH], 401),
    ("request without a body, next request in the record after it",
     [HEALTH, HEALTH], 200),
]


@pytest.mark.parametrize("name,records,status", LATER_RECORDS,
                         ids=[r[0] for r in LATER_RECORDS])
def test_bytes_past_a_request_before_its_answer_close_after_it(
        hsrv, name, records, status):
    """Exactly one answer, the first request's, with 'connection:
    close', then the end of the connection: the same as when the next
    request comes in the head's own record."""
    got, closed = exchange(hsrv, records)
    assert [a[0] for a in got] == [status], (
        name, [(a[0], a[1].get("connection")) for a in got], closed)
    if status == 401:
        assert_json_error(got[0], 401, "invalid_credentials")
    assert got[0][1]["connection"] == "close", name
    assert closed, name


def test_keep_alive_after_a_body_in_a_later_record(hsrv):
    """A client that sends the next request after reading the answer
    keeps its connection, also when the body came in a record of its
    own (the server reads on after such a body)."""
    t = Records(hsrv, timeout=10)
    try:
        t.send_records(LOGIN_HEAD, LOGIN_BODY)
        assert_json_error(read_answer_body(t), 401, "invalid_credentials")
        for _ in range(2):
            t.send_records(HEALTH)
            st, headers, _ = read_answer_body(t)
            assert st == 200 and headers["connection"] == "keep-alive"
    finally:
        t.close()


@pytest.mark.parametrize("conn", [
    [b"Connection: keep-alive, close"], [b"Connection: close, keep-alive"],
    [b"Connection: keep-alive", b"Connection: close"],
    [b"Connection: Keep-Alive,CLOSE"]])
def test_close_anywhere_in_connection_closes(hsrv, conn):
    got, closed = exchange(hsrv, raw("GET", "/healthz", conn))
    assert [a[0] for a in got] == [200]
    assert got[0][1]["connection"] == "close"
    assert closed


def test_keep_alive_alone_keeps_the_connection(hsrv):
    t = tls_connect(hsrv, timeout=10)
    try:
        for _ in range(3):
            t.sendall(raw("GET", "/healthz", [b"Connection: keep-alive"]))
            st, headers, _ = read_answer_body(t)
            assert st == 200 and headers["connection"] == "keep-alive"
    finally:
        t.close()


@pytest.mark.parametrize("data,status,code", [
    (raw("GET", "/healthz", [b"X-Empty:"]), 400, "invalid_request"),
    (raw("GET", "/healthz", [b"Transfer-Encoding: chunked"], b"0\r\n\r\n"),
     501, "not_implemented"),
    (raw("GET", "/healthz", version=b"HTTP/2.0"), 505,
     "version_not_supported"),
    (raw("GET", "/" + "a" * 2100), 414, "uri_too_long"),
    (raw("POST", "/api/login", [b"Content-Type: application/json",
                                b"Content-Length: 99999999"]), 413,
     "body_too_large"),
    (b"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 411,
     "length_required"),
], ids=["empty value", "transfer coding", "HTTP/2.0", "long target",
        "large body", "no length"])
def test_every_error_answer_has_the_json_shape(hsrv, data, status, code):
    """Kore's own answers used to have an empty body."""
    got, _ = exchange(hsrv, data, answers=1, until_closed=False)
    assert len(got) == 1
    assert_json_error(got[0], status, code)


@pytest.mark.parametrize("path", ["/", "/main.mjs", "/healthz", "/api/hours"])
def test_head_is_answered_where_get_is(hsrv, path):
    got, _ = exchange(hsrv, raw("GET", path), answers=1, until_closed=False)
    (gst, gheaders, gbody), = got
    got, _ = exchange(hsrv, raw("HEAD", path), answers=1, head_only=True,
                      until_closed=False)
    (hst, hheaders, hbody), = got
    assert gst == hst == 200, (gst, hst)
    assert hbody == b""
    assert hheaders["content-type"] == gheaders["content-type"]
    if path in ("/", "/main.mjs"):
        assert hheaders["content-length"] == gheaders["content-length"]
        assert hheaders["etag"] == gheaders["etag"]


def test_head_needs_a_session_where_get_does(hsrv):
    got, _ = exchange(hsrv, raw("HEAD", "/api/me"), answers=1,
                      head_only=True, until_closed=False)
    assert got[0][0] == 401, got
    got, _ = exchange(hsrv, raw("HEAD", "/api/nothing-here"), answers=1,
                      head_only=True, until_closed=False)
    assert got[0][0] == 404, got


# --- one Host rule (policy server_name), with SNI or without ----------------

def get_healthz(srv, host, sni=None):
    t = tls_connect(srv, server_hostname=sni)
    try:
        t.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + host +
                  b"\r\nConnection: close\r\n\r\n")
        return read_answer_body(t)
    finally:
        t.close()


@pytest.mark.parametrize("host,sni,status", [
    (b"127.0.0.1", None, 200),
    (b"localhost", None, 200),
    (b"LOCALHOST:8443", None, 200),
    (b"[::1]:8443", None, 200),
    (b"localhost", "localhost", 200),
    # Before: any Host was served when the client sent no SNI.
    (b"evil.example", None, 421),
    (b"127.0.0.1.evil.example", None, 421),
    (b"localhost:", None, 421),
    (b"localhost:8443x", None, 421),
    # With SNI: Kore's own check (SNI and Host differ), then ours.
    (b"127.0.0.1", "localhost", 421),
    (b"evil.example", "evil.example", 421),
])
def test_only_the_configured_host_names_are_served(hsrv, host, sni, status):
    """The development policy names 127.0.0.1, localhost and [::1]."""
    answer = get_healthz(hsrv, host, sni)
    if status == 200:
        assert answer[0] == 200, answer
    else:
        assert_json_error(answer, 421, "misdirected_request")


def test_a_site_serves_its_own_name_only(make_server):
    """127.0.0.1 is not among its names: the usual readiness probe (Host
    127.0.0.1) would never see 200, so this one asks by name."""
    srv = make_server("hostrule", policy=dict(
        NO_SOURCE_BLOCK, server_name=["console.example.jp"])).start(
            wait=False)
    deadline = time.time() + 60
    while True:
        try:
            answer = get_healthz(srv, b"console.example.jp:443")
            break
        except (ConnectionError, ssl.SSLError, socket.timeout):
            assert time.time() < deadline, srv.output()
            time.sleep(0.2)
    assert answer[0] == 200, answer
    assert get_healthz(srv, b"console.example.jp", "console.example.jp")[0] \
        == 200
    assert_json_error(get_healthz(srv, b"127.0.0.1"), 421,
                      "misdirected_request")
    assert "server_name=1" in srv.output()
