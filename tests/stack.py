"""The payconsole server that the integration suites and the benchmark
both start: tests/integration/conftest.py (class Server) and bench/run
(class Stack) import this module, so a test and a bench figure come from
a server started the same way.

A site is a directory beside a stack that scripts/devstack made (its
cluster socket, TLS files and chroot): site.conf, policy.conf, a copy of
the TLS files for the key manager, the server's output and access log.
The server runs in the foreground in its own session, so that one
signal to its process group ends it and every child."""
import os
import shutil
import signal
import socket
import subprocess
import time

import requests


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_site(site, stack, port, workers, policy):
    """site.conf and policy.conf (the text policy) in a new directory
    site, serving TLS on 127.0.0.1:port with the stack's certificate."""
    os.makedirs(site)
    os.chmod(site, 0o755)
    tls = os.path.join(site, "tls")
    shutil.copytree(os.path.join(stack, "tls"), tls)
    for f in ("cert.pem", "key.pem"):
        shutil.chown(os.path.join(tls, f), "pckeymgr", "pckeymgr")
    with open(os.path.join(site, "site.conf"), "w") as f:
        f.write("server tls {\n\tbind 127.0.0.1 %d\n}\n" % port)
        f.write("workers %d\n" % workers)
        f.write("root %s\n" % os.path.join(stack, "root"))
        f.write("runas payconsole\nkeymgr_root %s\n" % tls)
        f.write("keymgr_runas pckeymgr\n")
        f.write("pidfile %s\n" % os.path.join(site, "kore.pid"))
        # As conf/site.conf: every request is written to the access log.
        f.write("accesslog %s\n" % os.path.join(site, "access.log"))
    with open(os.path.join(site, "policy.conf"), "w") as f:
        f.write(policy)


def start(binary, site, log, env=None):
    """The server of site, its output line-buffered into the open file
    log; the Popen."""
    return subprocess.Popen(
        ["stdbuf", "-oL", "-eL", binary, "-f"], cwd=site,
        stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True, env=env)


def wait_ready(proc, url, timeout=60):
    """None once url/healthz answers 200, else why not (the caller adds
    where the server's output is)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return "payconsole exited %s" % proc.returncode
        try:
            r = requests.get(url + "/healthz", verify=False, timeout=2)
            if r.status_code == 200:
                return None
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return "payconsole not ready"


def stop(proc):
    """SIGTERM, and SIGKILL to the whole session after 20 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
