"""Issue 6 item 8: Kore's access log, at the path the site configures,
with the fields a client controls escaped, reopened on SIGHUP so that
logrotate can move it away."""
import os
import signal
import socket
import ssl
import time

import requests

from conftest import module_server

# The parent flushes the workers' log buffers at least every 10 s.
FLUSH_WAIT = 30


log_server = module_server("accesslog", workers=1)


def access_log(srv):
    return os.path.join(srv.dir, "access.log")


def wait_for(path, needle):
    deadline = time.time() + FLUSH_WAIT
    while time.time() < deadline:
        if os.path.exists(path):
            with open(path, "rb") as f:
                data = f.read()
            if needle in data:
                return data
        time.sleep(0.3)
    raise AssertionError("%r not in %s" % (needle, path))


def raw_request(srv, head):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        with ctx.wrap_socket(s) as t:
            t.sendall(head)
            return t.recv(4096)


def test_requests_are_logged_at_the_configured_path(log_server):
    srv = log_server
    marker = "/healthz"
    r = requests.get(srv.url + marker + "?last4=4242", verify=False,
                     timeout=10, headers={"User-Agent": "probe-ua-1"})
    assert r.status_code == 200
    data = wait_for(access_log(srv), b"probe-ua-1")
    line = [x for x in data.split(b"\n") if b"probe-ua-1" in x][0]
    assert b'"GET /healthz HTTP/1.1" 200' in line
    assert line.startswith(b"127.0.0.1 ")
    # The query string (search filters) is not logged.
    assert b"4242" not in data
    # Nobody but root and its group reads it.
    assert os.stat(access_log(srv)).st_mode & 0o007 == 0


def test_client_fields_are_escaped(log_server):
    """Control characters and non-ASCII are refused in the head itself
    (src/httpscan.c: 400, never logged), but a quote or backslash gets
    through: none of them may split or shift the fields of the line."""
    srv = log_server
    resp = raw_request(srv, b"GET /nope\x01\xe3\x81\x82 HTTP/1.1\r\n"
                       b"Host: x\r\nUser-Agent: raw-bytes\r\n\r\n")
    assert resp.startswith(b"HTTP/1.1 400 "), resp
    ua = b'evil" 200 0 "-" "forged\\'
    resp = raw_request(srv, b"GET /nope\"x\\y HTTP/1.1\r\n"
                       b"Host: x\r\nUser-Agent: " + ua + b"\r\n"
                       b"Referer: /a\"b\r\nConnection: close\r\n\r\n")
    data = wait_for(access_log(srv), b"evil\\x22")
    lines = [x for x in data.split(b"\n") if b"evil" in x]
    assert len(lines) == 1, data
    line = lines[0]
    assert b'"evil\\x22 200 0 \\x22-\\x22 \\x22forged\\x5c"' in line
    assert b'"/a\\x22b"' in line
    assert b'/nope\\x22x\\x5cy HTTP/1.1"' in line
    # The quotes left are the format's own: request, referer, agent.
    assert line.count(b'"') == 6
    for raw in (b"\x01", b"\xe3", b"raw-bytes"):
        assert raw not in data


def test_no_card_number_reaches_the_access_log(log_server):
    """A card number in the path, the Referer or the User-Agent (the
    fields the access log takes from the client) is not written; the
    entry is, with "[card number removed]" in its place (patch 09, the
    application's own guard: other digits and separators too)."""
    srv = log_server
    marker = "pan-probe-" + str(os.getpid())
    raw_request(srv, b"GET /4111111111111111 HTTP/1.1\r\nHost: x\r\n"
                b"User-Agent: " + marker.encode() + b" 4111 1111 1111 1111"
                b"\r\nReferer: /pay?c=5555-5555-5555-4444\r\n"
                b"Connection: close\r\n\r\n")
    data = wait_for(access_log(srv), b"[card number removed]")
    lines = [x for x in data.split(b"\n")
             if b"[card number removed]" in x]
    assert len(lines) == 1 and lines[0].count(b"[card number removed]") == 3
    for pan in (b"4111111111111111", b"4111 1111 1111 1111",
                b"5555-5555-5555-4444", marker.encode()):
        assert pan not in data
    # Ordinary values are still written as they came.
    requests.get(srv.url + "/healthz", verify=False, timeout=10,
                 headers={"User-Agent": "probe-ua-2026-12-03 10:00"})
    wait_for(access_log(srv), b"probe-ua-2026-12-03 10:00")


def test_sighup_reopens_the_log(log_server):
    srv = log_server
    path = access_log(srv)
    requests.get(srv.url + "/healthz", verify=False, timeout=10,
                 headers={"User-Agent": "before-rotate"})
    wait_for(path, b"before-rotate")
    rotated = path + ".1"
    os.rename(path, rotated)
    os.kill(srv.proc.pid, signal.SIGHUP)
    deadline = time.time() + FLUSH_WAIT
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.1)
    assert os.path.exists(path), srv.output()[-2000:]
    r = requests.get(srv.url + "/healthz", verify=False, timeout=10,
                     headers={"User-Agent": "after-rotate"})
    assert r.status_code == 200
    wait_for(path, b"after-rotate")
    with open(rotated, "rb") as f:
        old = f.read()
    assert b"before-rotate" in old and b"after-rotate" not in old
    with open(path, "rb") as f:
        assert b"before-rotate" not in f.read()
    assert "accesslog reopened" in srv.output()
    # Still serving, the same workers.
    assert requests.get(srv.url + "/healthz", verify=False,
                        timeout=10).status_code == 200


def test_reopen_refuses_a_link_planted_in_the_log_directory(log_server,
                                                            tmp_path):
    """Whoever can write in the log's directory must not make the root
    parent create or append to another file: a symbolic link (or a hard
    link, or a file that is not root's) in place of the log is refused."""
    srv = log_server
    path = access_log(srv)
    victim_dir = tmp_path / "rootonly"
    victim_dir.mkdir(mode=0o700)
    victim = victim_dir / "created-by-root"
    os.rename(path, path + ".old")
    os.symlink(str(victim), path)
    try:
        os.kill(srv.proc.pid, signal.SIGHUP)
        deadline = time.time() + FLUSH_WAIT
        while "accesslog reopen" not in srv.output() and \
                time.time() < deadline:
            time.sleep(0.2)
        requests.get(srv.url + "/healthz", verify=False, timeout=10,
                     headers={"User-Agent": "through-the-link"})
        time.sleep(1)
        assert not victim.exists()
        assert "accesslog reopen(%s)" % path in srv.output()
    finally:
        os.unlink(path)
        os.rename(path + ".old", path)
        os.kill(srv.proc.pid, signal.SIGHUP)
    # Service goes on, and the proper file is used again after the HUP.
    r = requests.get(srv.url + "/healthz", verify=False, timeout=10,
                     headers={"User-Agent": "back-to-normal"})
    assert r.status_code == 200
    wait_for(path, b"back-to-normal")
