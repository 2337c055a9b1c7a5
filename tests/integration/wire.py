"""Raw TLS and HTTP bytes for the suites that test framing: a
connection that verifies nothing (the dev certificate), requests written
exactly as given, answers read without a client library's repairs."""
import json
import re
import socket
import ssl


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


CTX = tls_context()


def tls_connect(srv, timeout=15, server_hostname=None, source=None):
    """A TLS connection to srv, from the loopback address source if
    given (the allowlist and per-source rules see that address)."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout,
                                 source_address=(source, 0) if source
                                 else None)
    return CTX.wrap_socket(s, server_hostname=server_hostname)


class Records:
    """A TLS connection whose writes are whole TLS records, several of
    them sent in one TCP write (send_records): the server then reads
    them one record at a time and all at once, so which request bytes
    arrive in a later read than which is fixed by the test, not by
    timing. recv() reads like an ssl socket's (b"" at the end)."""

    def __init__(self, srv, timeout=15):
        self.sock = socket.create_connection(("127.0.0.1", srv.port),
                                             timeout=timeout)
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = CTX.wrap_bio(self.incoming, self.outgoing)
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self._fill()
        self._flush()

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(16384)
        if data:
            self.incoming.write(data)
        else:
            self.incoming.write_eof()

    def send_records(self, *records):
        """Each of records as one TLS record; all in one TCP write."""
        for r in records:
            self.tls.write(r)
        self._flush()

    def recv(self, n):
        while True:
            try:
                return self.tls.read(n)
            except ssl.SSLWantReadError:
                self._fill()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def close(self):
        self.sock.close()


def read_answer_body(t, head_only=False):
    """One HTTP/1.x answer: (status, headers, body) or None if the
    server closed the connection without one. Reads the body to its end
    (none with head_only: the answer to HEAD); bytes past it stay in
    the socket's buffer for the next call."""
    buf = t.pending_buf if hasattr(t, "pending_buf") else b""
    while b"\r\n\r\n" not in buf:
        try:
            chunk = t.recv(16384)
        except (ConnectionError, ssl.SSLError):
            chunk = b""
        if not chunk:
            if buf:
                raise AssertionError("truncated answer: %r" % buf[:200])
            return None
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    assert m, lines[0]
    headers = {}
    for ln in lines[1:]:
        k, v = ln.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = 0 if head_only else int(headers.get("content-length", "0"))
    while len(body) < n:
        chunk = t.recv(16384)
        if not chunk:
            raise AssertionError("truncated body")
        body += chunk
    t.pending_buf = body[n:]
    return int(m.group(1)), headers, body[:n]


def read_answer(t, head_only=False):
    """One answer as (status, headers), or None (see read_answer_body)."""
    a = read_answer_body(t, head_only)
    return None if a is None else a[:2]


def raw(method, path, headers=(), body=None, version=b"HTTP/1.1"):
    """Request bytes, exactly as given (no normalisation)."""
    if isinstance(method, str):
        method = method.encode()
    if isinstance(path, str):
        # Below U+0100 as raw bytes (so "\xff" is the byte 0xff), the
        # rest as UTF-8.
        path = b"".join(c.encode("latin-1") if ord(c) < 256 else
                        c.encode("utf-8") for c in path)
    lines = [method + b" " + path + b" " + version, b"Host: 127.0.0.1"]
    for h in headers:
        lines.append(h if isinstance(h, bytes) else h.encode("latin-1"))
    if body is not None and not any(
            h.lower().startswith(b"content-length") for h in
            (x if isinstance(x, bytes) else x.encode() for x in headers)):
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def login_from(srv, source, username, password="Not-a-password-1"):
    """A login attempt over a connection from the loopback address
    source (which the allowlist and the per-source rules see); the
    answer's status."""
    t = tls_connect(srv, timeout=60, source=source)
    try:
        t.sendall(raw("POST", "/api/login",
                      [b"Content-Type: application/json",
                       b"Connection: close"],
                      json.dumps({"username": username, "password": password,
                                  "otp": "123456"}).encode()))
        return read_answer(t)[0]
    finally:
        t.close()
