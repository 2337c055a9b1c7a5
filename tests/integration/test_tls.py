"""Issue 8, item 3: TLS checks with openssl s_client as the independent
peer. Only TLS 1.2 and 1.3, only ECDHE key exchange with AEAD ciphers,
and a certificate reload on SIGUSR1 that drops nothing: new handshakes
get the new certificate, a keep-alive connection opened before the
reload goes on working, and handshakes made during the reload all
succeed.

test_foundation.py already covers: a TLS 1.3 and a TLS 1.2 ECDHE+AEAD
handshake, TLS 1.0/1.1 refused with a protocol-version alert, and the
RSA-key-exchange CBC suite AES128-SHA refused."""
import concurrent.futures
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import module_server, openssl_client


tls_server = module_server("tls", workers=2)


def handshake(port, *args):
    """(returncode, stdout, stderr) of one s_client handshake and GET."""
    r = openssl_client(port, *args)
    return (r.returncode, r.stdout.decode("utf-8", "replace"),
            r.stderr.decode("utf-8", "replace"))


def negotiated(out):
    m = re.search(r"Cipher is (\S+)", out)
    return m.group(1) if m else None


def served(rc, out):
    """The handshake completed and the request got an HTTP answer."""
    return rc == 0 and "HTTP/1.1 200" in out and \
        negotiated(out) not in (None, "(NONE)")


def is_ecdhe_aead(cipher):
    return cipher.startswith("ECDHE-") and (
        "-GCM-" in cipher or "CHACHA20-POLY1305" in cipher)


# --- protocol versions and cipher suites --------------------------------------

@pytest.mark.parametrize("flag,version", [("-tls1_2", "TLSv1.2"),
                                          ("-tls1_3", "TLSv1.3")])
def test_tls12_and_tls13_served(tls_server, flag, version):
    rc, out, err = handshake(tls_server.port, flag)
    assert served(rc, out), (out, err)
    assert re.search(r"Protocol\s*:\s*%s" % re.escape(version), out) or \
        ("New, %s," % version) in out, out


@pytest.mark.parametrize("flag", ["-tls1", "-tls1_1"])
def test_tls10_and_tls11_refused(tls_server, flag):
    # The client may offer them (SECLEVEL=0): the refusal is the server's.
    rc, out, err = handshake(tls_server.port, flag, "-cipher",
                             "DEFAULT@SECLEVEL=0")
    assert rc != 0 and "HTTP/1.1" not in out, out
    assert "alert protocol version" in err, err


@pytest.mark.parametrize("cipher", [
    "ECDHE-RSA-AES128-SHA",          # ECDHE, CBC
    "ECDHE-RSA-AES256-SHA384",       # ECDHE, CBC
    "AES128-GCM-SHA256",             # RSA key exchange, AEAD
    "AES256-SHA256",                 # RSA key exchange, CBC
    "DHE-RSA-AES128-GCM-SHA256",     # finite-field DHE, AEAD
    "DHE-RSA-CHACHA20-POLY1305",     # finite-field DHE, AEAD
    "DHE-RSA-AES256-SHA256",         # finite-field DHE, CBC
])
def test_tls12_suite_outside_ecdhe_aead_refused(tls_server, cipher):
    rc, out, err = handshake(tls_server.port, "-tls1_2", "-cipher",
                             cipher + "@SECLEVEL=0")
    assert rc != 0 and "HTTP/1.1" not in out, (cipher, out)
    assert "alert handshake failure" in err, (cipher, err)


def test_tls12_every_suite_the_server_accepts_is_ecdhe_aead(tls_server):
    """Offer each TLS 1.2 suite OpenSSL knows, one at a time: the ones
    that complete are ECDHE with GCM or ChaCha20-Poly1305, nothing
    else (CCM, ARIA, Camellia, anonymous, DHE, RSA key exchange...)."""
    names = subprocess.run(
        ["openssl", "ciphers", "-s", "-tls1_2", "ALL:@SECLEVEL=0"],
        capture_output=True, text=True, check=True).stdout.strip()
    suites = [c for c in names.split(":") if c]
    assert len(suites) > 40, suites

    def try_one(cipher):
        rc, out, _ = handshake(tls_server.port, "-tls1_2", "-cipher",
                               cipher + ":@SECLEVEL=0")
        return cipher, served(rc, out)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = dict(pool.map(try_one, suites))
    accepted = sorted(c for c, ok in results.items() if ok)
    assert accepted, "no TLS 1.2 suite accepted at all"
    assert all(is_ecdhe_aead(c) for c in accepted), accepted
    # RSA certificate: the ECDHE-RSA AEAD suites are the ones in use.
    assert "ECDHE-RSA-AES128-GCM-SHA256" in accepted, accepted
    assert "ECDHE-RSA-CHACHA20-POLY1305" in accepted, accepted


def test_tls13_key_exchange_is_elliptic_curve(tls_server):
    rc, out, err = handshake(tls_server.port, "-tls1_3")
    assert served(rc, out), (out, err)
    m = re.search(r"Server Temp Key: (\S+?),", out)
    assert m and m.group(1) in ("X25519", "X448", "ECDH"), out


def test_tls13_finite_field_groups_refused(tls_server):
    # A client offering only FFDHE groups would otherwise get DHE.
    rc, out, err = handshake(tls_server.port, "-tls1_3", "-groups",
                             "ffdhe2048:ffdhe3072:ffdhe4096")
    assert rc != 0 and "HTTP/1.1" not in out, out
    assert "alert handshake failure" in err, err


def test_tls13_only_aead_suites(tls_server):
    for suite in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                  "TLS_CHACHA20_POLY1305_SHA256"):
        rc, out, err = handshake(tls_server.port, "-tls1_3",
                                 "-ciphersuites", suite)
        assert served(rc, out) and negotiated(out) == suite, (suite, err)


# --- certificate reload on SIGUSR1 ------------------------------------------

def client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def read_response(tls):
    """One HTTP/1.1 response from a TLS socket: (status, headers, body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = tls.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the headers: %r" % buf)
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in
               (ln.split(":", 1) for ln in lines[1:])}
    n = int(headers.get("content-length", "0"))
    while len(body) < n:
        chunk = tls.recv(4096)
        if not chunk:
            raise ConnectionError("closed in the body")
        body += chunk
    return status, headers, body


def get_on(tls, path="/healthz"):
    tls.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path)
                .encode())
    return read_response(tls)


def new_certificate(tmp_path, cn):
    """A fresh self-signed RSA certificate and key (PEM paths) and the
    certificate's SHA-256 fingerprint."""
    key, cert = tmp_path / ("%s.key" % cn), tmp_path / ("%s.pem" % cn)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-days", "30", "-subj", "/CN=%s" % cn,
         "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key, fingerprint(cert.read_text())


def fingerprint(pem):
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint",
                          "-sha256"], input=pem, capture_output=True,
                         text=True, check=True).stdout
    return out.strip().split("=", 1)[1]


def presented(port):
    """The certificate the server presents to a new handshake (PEM)."""
    r = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
         "-showcerts"], input=b"", capture_output=True, timeout=30)
    out = r.stdout.decode("utf-8", "replace")
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                  out, re.S)
    assert m, out
    return m.group(0) + "\n"


def install_certificate(srv, cert, key):
    """Replace tls/cert.pem and tls/key.pem atomically, owned by the key
    manager's user (it reads them after dropping privileges)."""
    tls = os.path.join(srv.dir, "tls")
    for src, name, mode in ((key, "key.pem", 0o400),
                            (cert, "cert.pem", 0o444)):
        tmp = os.path.join(tls, name + ".new")
        shutil.copyfile(src, tmp)
        shutil.chown(tmp, "pckeymgr", "pckeymgr")
        os.chmod(tmp, mode)
        os.rename(tmp, os.path.join(tls, name))


def test_sigusr1_reloads_certificate_without_dropping_service(
        make_server, tmp_path):
    srv = make_server("tlsreload", workers=2).start()
    port = srv.port
    children = sorted(p for p, _, _ in srv.pids() if p != srv.proc.pid)
    old_fp = fingerprint(presented(port))

    # A keep-alive connection opened before the reload.
    kept = client_context().wrap_socket(
        socket.create_connection(("127.0.0.1", port), timeout=10))
    status, headers, _ = get_on(kept)
    assert status == 200, headers
    kept_cert = kept.getpeercert(binary_form=True)

    # New handshakes, one request each, all through the reloads.
    stop = threading.Event()
    results = []

    def hammer():
        ctx = client_context()
        while not stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", port),
                                              timeout=10) as s, \
                        ctx.wrap_socket(s) as t:
                    st, _, _ = get_on(t)
                    results.append(("ok", st, time.time()))
            except (OSError, ssl.SSLError, ValueError) as e:
                results.append(("error", repr(e), time.time()))

    threads = [threading.Thread(target=hammer, daemon=True)
               for _ in range(4)]
    for th in threads:
        th.start()
    try:
        time.sleep(0.5)
        # Several reloads in a row: a handshake caught between the key
        # manager's new key and a worker's old certificate must not fail.
        certs = [new_certificate(tmp_path, "payconsole reload %d" % i)
                 for i in range(4)]
        # The kept connection is used between reloads: idle for
        # http_header_timeout (10 s, which making four certificates can
        # take on a busy machine) it would get 408, reload or not.
        kept_statuses = [get_on(kept)[0]]
        for cert, key, _ in certs:
            install_certificate(srv, cert, key)
            srv.proc.send_signal(signal.SIGUSR1)
            time.sleep(0.4)
            kept_statuses.append(get_on(kept)[0])
        new_fp = certs[-1][2]
        assert new_fp != old_fp

        deadline = time.time() + 20
        seen = None
        while time.time() < deadline:
            seen = fingerprint(presented(port))
            if seen == new_fp:
                break
            time.sleep(0.2)
            kept_statuses.append(get_on(kept)[0])
        assert seen == new_fp, "new handshakes still get %s" % seen
        time.sleep(0.5)
    finally:
        stop.set()
        for th in threads:
            th.join(timeout=30)

    errors = [r for r in results if r[0] != "ok" or r[1] != 200]
    assert not errors, (errors[:5], len(errors), len(results))
    assert len(results) > 20, len(results)

    # The new certificate verifies completely (the signature is made
    # with the new key), with the certificate itself as the only anchor.
    r = openssl_client(port, "-CAfile", str(certs[-1][0]),
                       "-verify_return_error", "-verify_ip", "127.0.0.1")
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0 and "Verify return code: 0 (ok)" in out, out
    assert "HTTP/1.1 200" in out

    # The connection opened before the reload still works, on its
    # original session and certificate.
    assert set(kept_statuses) == {200}, kept_statuses
    for _ in range(3):
        status, headers, body = get_on(kept)
        assert status == 200 and b'"status":"ok"' in body, (status, body)
    assert kept.getpeercert(binary_form=True) == kept_cert
    kept.close()

    # Nothing was restarted: same key manager, same workers.
    assert sorted(p for p, _, _ in srv.pids()
                  if p != srv.proc.pid) == children
    assert srv.output().count("(re)loading certificates") >= 1 + len(certs)
