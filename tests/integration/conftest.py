"""Fixtures: real payconsole binaries against the real PostgreSQL cluster
that scripts/test-integration created (PC_STACK), each in its own site
directory with the policy a test needs."""
import contextlib
import glob
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time

import psycopg2
import pytest
import requests
import urllib3

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

STACK = os.environ.get("PC_STACK", "")
TOP = os.environ.get("PC_TOP", os.path.abspath(os.path.join(
    os.path.dirname(__file__), "..", "..")))
# PC_BUILD=build-asan runs the suite against the ASan+UBSan binaries
# (scripts/test-integration-asan).
BUILD = os.environ.get("PC_BUILD", "build")
BIN = os.path.join(TOP, BUILD, "payconsole")
ADMIN = os.path.join(TOP, BUILD, "payconsole-admin")
SANITIZED = os.environ.get("PC_SANITIZE") == "1"
SANITIZER_REPORT = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|"
    r"SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)")
SOCK = os.path.join(STACK, "root", "run")

# Small argon2 parameters keep the suite fast; production floors are
# tested on their own.
DEV_POLICY = {
    "environment": "development",
    "allow_cidr": ["127.0.0.1/32", "::1/128"],
    "hours": "00:00-24:00",
    "timezone": "Asia/Tokyo",
    "argon2_t": "1",
    "argon2_m_kib": "8192",
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def policy_text(overrides=None, extra_lines=()):
    pol = dict(DEV_POLICY)
    pol.update(overrides or {})
    pol.setdefault("totp_key_file", os.path.join(STACK, "keys", "totp.key"))
    pol.setdefault("db_socket_dir", SOCK)
    lines = ["# written by tests/integration/conftest.py"]
    for key, val in pol.items():
        if val is None:
            continue
        for v in (val if isinstance(val, list) else [val]):
            lines.append("%s %s" % (key, v))
    lines.extend(extra_lines)
    return "\n".join(lines) + "\n"


class Server:
    """One payconsole process in its own site directory."""

    def __init__(self, name, policy=None, workers=1, raw_policy=None):
        self.name = name
        self.dir = os.path.join(STACK, "sites", name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        tls = os.path.join(self.dir, "tls")
        shutil.copytree(os.path.join(STACK, "tls"), tls)
        for f in ("cert.pem", "key.pem"):
            shutil.chown(os.path.join(tls, f), "pckeymgr", "pckeymgr")
        self.port = free_port()
        with open(os.path.join(self.dir, "site.conf"), "w") as f:
            f.write("server tls {\n\tbind 127.0.0.1 %d\n}\n" % self.port)
            f.write("workers %d\n" % workers)
            f.write("root %s\n" % os.path.join(STACK, "root"))
            f.write("runas payconsole\nkeymgr_root %s\n" % tls)
            f.write("keymgr_runas pckeymgr\n")
            f.write("pidfile %s\n" % os.path.join(self.dir, "kore.pid"))
            f.write("accesslog %s\n" % os.path.join(self.dir, "access.log"))
        self.policy_path = os.path.join(self.dir, "policy.conf")
        with open(self.policy_path, "w") as f:
            f.write(raw_policy if raw_policy is not None
                    else policy_text(policy))
        self.proc = None
        self.log_path = os.path.join(self.dir, "server.log")

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def sanitizer_dirs(self):
        """Where sanitizer reports land: log_path is relative, so the
        parent writes under the site, the workers under their chroot
        and the key manager under tls/ (its chroot)."""
        return [os.path.join(self.dir, "sanitizer"),
                os.path.join(STACK, "root", "sanitizer"),
                os.path.join(self.dir, "tls", "sanitizer")]

    def sanitizer_env(self):
        env = dict(os.environ)
        env.update(getattr(self, "extra_env", {}))
        if not SANITIZED:
            return env
        for d in self.sanitizer_dirs():
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o1777)
            for f in glob.glob(os.path.join(d, self.name + ".*")):
                os.unlink(f)
        log = "log_path=sanitizer/%s" % self.name
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            env[var] = ":".join(x for x in (env.get(var, ""), log) if x)
        return env

    def sanitizer_reports(self):
        """Sanitizer reports of this server: its log_path files, and its
        output in case a report could not reach them."""
        found = []
        for d in self.sanitizer_dirs():
            for f in glob.glob(os.path.join(d, self.name + ".*")):
                with open(f, "rb") as fh:
                    found.append((f, fh.read().decode("utf-8", "replace")))
        out = self.output()
        if SANITIZER_REPORT.search(out):
            found.append((self.log_path, out))
        return found

    def start(self, wait=True):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            ["stdbuf", "-oL", "-eL", BIN, "-f"], cwd=self.dir,
            stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
            env=self.sanitizer_env())
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("payconsole exited %s:\n%s" % (
                    self.proc.returncode, self.output()))
            try:
                r = requests.get(self.url + "/healthz", verify=False,
                                 timeout=2)
                if r.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("payconsole not ready:\n" + self.output())

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self.log.close()
        if SANITIZED:
            reports = self.sanitizer_reports()
            assert not reports, "sanitizer report(s) from %s:\n%s" % (
                self.name, "\n".join("== %s\n%s" % (f, text[-6000:])
                                     for f, text in reports))

    def pids(self):
        """(pid, user, args) of the server and its children."""
        out = subprocess.run(
            ["ps", "-o", "pid=,ppid=,user:20=,args=", "-e"],
            capture_output=True, text=True, check=True).stdout
        procs = []
        for line in out.splitlines():
            pid, ppid, user, args = line.split(None, 3)
            if int(ppid) == self.proc.pid or int(pid) == self.proc.pid:
                procs.append((int(pid), user, args))
        return procs


@pytest.fixture(scope="session")
def server():
    srv = Server("default", workers=2).start()
    yield srv
    srv.stop()


@pytest.fixture
def make_server():
    started = []

    def make(name, **kw):
        srv = Server(name, **kw)
        started.append(srv)
        return srv
    yield make
    for srv in started:
        srv.stop()


@contextlib.contextmanager
def db(role, dbname="payconsole"):
    """A real connection as a real role (peer auth, ident map), in
    autocommit mode, closed on exit."""
    conn = psycopg2.connect(host=SOCK, dbname=dbname, user=role)
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


def demo_accounts():
    with open(os.path.join(STACK, "demo", "accounts.json")) as f:
        return {a["role"]: a for a in json.load(f)["accounts"]}


def openssl_client(port, *args, request=None):
    """openssl s_client as an independent TLS peer."""
    req = request or ("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Connection: close\r\n\r\n")
    return subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
         "-ign_eof"] + list(args),
        input=req.encode(), capture_output=True, timeout=30)


# --- users for login tests (issue 3) -----------------------------------

def create_user(role="operator", display_name=None, username=None,
                site=None):
    """A fresh enrolled user through `payconsole-admin create-user`; the
    dict it printed, plus display_name. Each TOTP step is accepted once
    per user, so every test that logs in uses its own users. site: the
    directory whose policy.conf the admin tool reads (its argon2
    parameters are the ones the password is hashed with)."""
    import uuid
    username = username or "t_" + uuid.uuid4().hex[:10]
    display_name = display_name or "テスト %s" % username
    r = subprocess.run([ADMIN, "-d", site or STACK, "create-user", username,
                        role, display_name], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, "create-user failed: %s%s" % (r.stdout,
                                                             r.stderr)
    user = json.loads(r.stdout)
    assert user["username"] == username and user["role"] == role, user
    user["display_name"] = display_name
    return user


@pytest.fixture
def new_user():
    """new_user(role="operator") -> dict with username, role, password,
    totp_secret_base32, otpauth_uri, display_name."""
    def make(role="operator", display_name=None, site=None):
        return create_user(role, display_name, site=site)
    return make
