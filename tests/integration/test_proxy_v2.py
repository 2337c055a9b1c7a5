"""Issue 17 part 1: PROXY protocol v2 instead of X-Forwarded-For.

The server's policy trusts 127.0.0.1 as a proxy and allows 127.0.0.0/28,
10.9.0.0/16 and 2001:db8::/64. Every connection from 127.0.0.1 must
begin with a PROXY v2 header (built here with struct.pack after HAProxy's
proxy-protocol.txt, section 2.2); the address it carries is the client's
for the allowlist, the per-source penalties, the audit trail and the
access log. A header that is missing, malformed, truncated or late
closes the connection before TLS, as does a carried address off the
allowlist; a direct connection from any other address (127.0.0.2, on
the allowlist) is refused. X-Forwarded-For is never read. The last
tests go through a real HAProxy (Debian's) with send-proxy-v2."""
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import time

import pytest

import stack
from conftest import Server, db
from wire import CTX, raw, read_answer

pytestmark = pytest.mark.usefixtures("no_source_blocks")

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
# The server's bound on a header's arrival (kore_connection_proxy_timeout,
# checked every 500 ms).
HEADER_BOUND = 3.0


def v2_header(src, sport=51234, dst="10.0.0.1", dport=8443, cmd=0x21,
              tlvs=b""):
    """ver_cmd (0x21: v2 PROXY, 0x20: v2 LOCAL), fam (0x11 TCP4, 0x21
    TCP6), length, then src, dst, sport, dport and the TLVs."""
    if ":" in src:
        if ":" not in dst:
            dst = "2001:db8::1"
        addrs = (socket.inet_pton(socket.AF_INET6, src) +
                 socket.inet_pton(socket.AF_INET6, dst) +
                 struct.pack("!HH", sport, dport))
        fam = 0x21
    else:
        addrs = (socket.inet_pton(socket.AF_INET, src) +
                 socket.inet_pton(socket.AF_INET, dst) +
                 struct.pack("!HH", sport, dport))
        fam = 0x11
    body = addrs + tlvs
    return SIG + struct.pack("!BBH", cmd, fam, len(body)) + body


def client_hello():
    """The first flight of a TLS client, as bytes."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    t = CTX.wrap_bio(incoming, outgoing)
    with pytest.raises(ssl.SSLWantReadError):
        t.do_handshake()
    return outgoing.read()


def connect(srv, source="127.0.0.1"):
    return socket.create_connection(("127.0.0.1", srv.port), timeout=15,
                                    source_address=(source, 0))


def proxied(srv, carried, **kw):
    """A TLS connection through the "proxy" (127.0.0.1) for carried."""
    s = connect(srv)
    s.sendall(v2_header(carried, **kw))
    return CTX.wrap_socket(s)


def closed_without_a_byte(s, first=b"", within=2.0):
    """Send first, then the server must close without sending anything
    (no ServerHello) within `within` seconds; the seconds it took."""
    t0 = time.time()
    got = b""
    try:
        if first:
            s.sendall(first)
        s.settimeout(within + HEADER_BOUND + 3)
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        pass
    finally:
        s.close()
    took = time.time() - t0
    assert got == b"", got[:40]
    assert took < within, took
    return took


def request(srv, carried, head_lines=(), method="GET", path="/healthz",
            body=None):
    t = proxied(srv, carried)
    try:
        t.sendall(raw(method, path, list(head_lines) + ["Connection: close"],
                      body))
        return read_answer(t)
    finally:
        t.close()


def failed_login(srv, carried, username, extra=()):
    a = request(srv, carried, ["Content-Type: application/json"] +
                list(extra), "POST", "/api/login", json.dumps({
                    "username": username, "password": "Not-a-password-1",
                    "otp": "123456"}).encode())
    return a[0]


def last_source(username, event):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT host(source) FROM audit.events "
                    "WHERE target = %s AND event = %s "
                    "ORDER BY id DESC LIMIT 1", (username, event))
        row = cur.fetchone()
        return row and row[0]


@pytest.fixture(scope="module")
def srv():
    s = Server("proxyv2", policy={
        "allow_cidr": ["127.0.0.0/28", "10.9.0.0/16", "2001:db8::/64"],
        "trusted_proxy": "127.0.0.1/32",
        "source_fail_threshold": "3", "source_block_seconds": "60",
    }).start(wait=False)
    deadline = time.time() + 60
    while True:
        try:
            if request(s, "10.9.0.1")[0] == 200:
                break
        except (OSError, TypeError):
            pass
        assert time.time() < deadline, s.output()[-3000:]
        time.sleep(0.2)
    yield s
    s.stop()


def test_allowlisted_carried_address_is_served_and_recorded(srv, new_user):
    assert request(srv, "10.9.0.2")[0] == 200
    user = new_user()
    assert failed_login(srv, "10.9.0.7", user["username"]) == 401
    assert last_source(user["username"], "login.failure") == "10.9.0.7"

    # IPv6 carried over an IPv4 connection, TLVs skipped.
    assert request(srv, "2001:db8::7")[0] == 200
    t = proxied(srv, "10.9.0.3", tlvs=b"\x04\x00\x02xx")
    t.sendall(raw("GET", "/healthz", ["User-Agent: pv2-probe",
                                      "Connection: close"]))
    assert read_answer(t)[0] == 200
    t.close()
    deadline = time.time() + 10
    log = os.path.join(srv.dir, "access.log")
    while True:
        with open(log, "rb") as f:
            lines = [ln for ln in f if b"pv2-probe" in ln]
        if lines or time.time() > deadline:
            break
        time.sleep(0.2)
    assert lines and lines[-1].startswith(b"10.9.0.3 "), lines


def test_forwarded_for_is_never_read(srv, new_user):
    user = new_user()
    for xff in ("10.9.9.9", "192.0.2.1, 10.9.9.9", "127.0.0.5"):
        assert failed_login(srv, "10.9.0.8", user["username"],
                            ["X-Forwarded-For: " + xff]) == 401
        assert last_source(user["username"], "login.failure") == "10.9.0.8"
    # Three failures block 10.9.0.8, whatever X-Forwarded-For said.
    assert failed_login(srv, "10.9.0.8", user["username"]) == 429


def test_penalties_follow_the_carried_address(srv, new_user):
    user = new_user()
    for _ in range(3):
        assert failed_login(srv, "10.9.1.1", user["username"]) == 401
    assert failed_login(srv, "10.9.1.1", user["username"]) == 429
    # The proxy's other clients are not blocked with it.
    assert failed_login(srv, "10.9.1.2", user["username"]) == 401
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT host(source) FROM auth.source_blocks "
                    "WHERE blocked_until > now()")
        assert [r[0] for r in cur.fetchall()] == ["10.9.1.1"]


@pytest.mark.parametrize("carried", ["10.8.0.1", "192.0.2.1", "127.0.0.16",
                                     "2001:db8:0:1::1"])
def test_carried_address_off_the_allowlist_gets_no_handshake(srv, carried):
    closed_without_a_byte(connect(srv), v2_header(carried) + client_hello())
    with pytest.raises((ssl.SSLError, OSError)):
        proxied(srv, carried).do_handshake()


def test_local_command_keeps_the_proxys_own_address(srv):
    # A health check from the proxy itself: 127.0.0.1 is on the list.
    s = connect(srv)
    s.sendall(SIG + struct.pack("!BBH", 0x20, 0x00, 0))
    t = CTX.wrap_socket(s)
    t.sendall(raw("GET", "/healthz", ["Connection: close"]))
    assert read_answer(t)[0] == 200
    t.close()


@pytest.mark.parametrize("first", [
    pytest.param(None, id="no header, a ClientHello"),
    pytest.param(b"PROXY TCP4 10.9.0.2 10.0.0.1 51234 8443\r\n", id="v1"),
    pytest.param(b"\r\n\r\n\x00\r\nQUIT\r" + b"\x21\x11\x00\x0c" + bytes(12),
                 id="bad signature"),
    pytest.param(SIG + b"\x11\x11\x00\x0c" + bytes(12), id="version 1"),
    pytest.param(SIG + b"\x22\x11\x00\x0c" + bytes(12), id="command 2"),
    pytest.param(SIG + b"\x21\x12\x00\x0c" + bytes(12), id="udp"),
    pytest.param(SIG + b"\x21\x00\x00\x00", id="unspec with PROXY"),
    pytest.param(SIG + b"\x21\x11\x00\x0b" + bytes(11), id="short address"),
    pytest.param(SIG + b"\x21\x11\xff\xff", id="too long"),
    pytest.param(v2_header("10.9.0.2", tlvs=b"\x04\x00\x09x"),
                 id="TLV past the end"),
    pytest.param(b"GET /healthz HTTP/1.1\r\n\r\n", id="plain HTTP"),
])
def test_malformed_or_missing_header_closes(srv, first):
    data = (first or b"") + client_hello()
    closed_without_a_byte(connect(srv), data)


def test_truncated_header_closes_after_the_bound(srv):
    took = closed_without_a_byte(connect(srv), v2_header("10.9.0.2")[:20],
                                 within=HEADER_BOUND + 2)
    assert took >= HEADER_BOUND - 0.5, took


def test_trickled_header_is_read(srv):
    # The header may come in pieces; the client's bytes after it are
    # the ClientHello's.
    s = connect(srv)
    hdr = v2_header("10.9.0.4")
    for i in range(0, len(hdr), 5):
        s.sendall(hdr[i:i + 5])
        time.sleep(0.05)
    t = CTX.wrap_socket(s)
    t.sendall(raw("GET", "/healthz", ["Connection: close"]))
    assert read_answer(t)[0] == 200
    t.close()


def test_header_and_client_hello_in_one_write(srv):
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    t = CTX.wrap_bio(incoming, outgoing)
    s = connect(srv)
    with pytest.raises(ssl.SSLWantReadError):
        t.do_handshake()
    s.sendall(v2_header("10.9.0.5") + outgoing.read())
    while True:
        data = s.recv(16384)
        assert data, "closed during the handshake"
        incoming.write(data)
        try:
            t.do_handshake()
            break
        except ssl.SSLWantReadError:
            s.sendall(outgoing.read())
    s.sendall(outgoing.read())
    s.close()


@pytest.mark.parametrize("source", ["127.0.0.2", "127.0.0.9"])
def test_direct_connection_skipping_the_proxy_is_refused(srv, source):
    # On the allowlist, but not the proxy: it would choose its address.
    closed_without_a_byte(connect(srv, source), client_hello())
    closed_without_a_byte(connect(srv, source),
                          v2_header("10.9.0.2") + client_hello())


# --- through a real HAProxy ------------------------------------------------

HAPROXY_CFG = """\
global
    log stderr format raw local0 info
defaults
    mode tcp
    log global
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:%d
    default_backend be
backend be
    server payconsole 127.0.0.1:%d send-proxy-v2
"""


@pytest.fixture(scope="module")
def haproxy(srv):
    """HAProxy in TCP mode in front of srv; its port. Clients reach it
    from their own loopback addresses, srv sees HAProxy (127.0.0.1)."""
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    assert os.path.exists(binary), "haproxy missing (make deps)"
    port = stack.free_port()
    cfg = os.path.join(srv.dir, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(HAPROXY_CFG % (port, srv.port))
    log = open(os.path.join(srv.dir, "haproxy.log"), "wb")
    proc = subprocess.Popen([binary, "-db", "-f", cfg], stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.time() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None and time.time() < deadline, \
                "haproxy did not start"
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def via_haproxy(port, source):
    s = socket.create_connection(("127.0.0.1", port), timeout=15,
                                 source_address=(source, 0))
    return CTX.wrap_socket(s)


def test_haproxy_allowlisted_client_is_served_as_itself(srv, haproxy,
                                                        new_user):
    user = new_user()
    t = via_haproxy(haproxy, "127.0.0.3")
    t.sendall(raw("POST", "/api/login", [
        "Content-Type: application/json", "X-Forwarded-For: 10.9.9.9",
        "Connection: close"], json.dumps({
            "username": user["username"], "password": "Not-a-password-1",
            "otp": "123456"}).encode()))
    assert read_answer(t)[0] == 401
    t.close()
    assert last_source(user["username"], "login.failure") == "127.0.0.3"


def test_haproxy_client_off_the_allowlist_gets_no_handshake(srv, haproxy):
    # HAProxy accepts, then the server closes it before TLS: the client
    # sees its connection closed with no byte of a ServerHello.
    s = socket.create_connection(("127.0.0.1", haproxy), timeout=15,
                                 source_address=("127.0.0.20", 0))
    closed_without_a_byte(s, client_hello())


def test_skipping_haproxy_is_refused(srv, haproxy):
    s = connect(srv, "127.0.0.3")
    closed_without_a_byte(s, client_hello())
