"""Fixtures: real payconsole binaries against the real PostgreSQL cluster
that scripts/test-integration created (PC_STACK), each in its own site
directory with the policy a test needs.

Also, for the whole session (see the sections at the end):
  * the order of the suites: modules marked `last` run after all others
    (the PostgreSQL stop, then the secret scan);
  * the recorders of the secrets the suites use, which the secret scan
    (test_secret_scan.py) looks for afterwards."""
import contextlib
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import psycopg2
import pytest
import requests
import requests.adapters
import urllib3

# tests/stack.py: how a server is started, shared with bench/run.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
import stack  # noqa: E402

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
        self.port = stack.free_port()
        stack.write_site(self.dir, STACK, self.port, workers,
                         raw_policy if raw_policy is not None
                         else policy_text(policy))
        self.policy_path = os.path.join(self.dir, "policy.conf")
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
        self.proc = stack.start(BIN, self.dir, self.log,
                                env=self.sanitizer_env())
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=60):
        why = stack.wait_ready(self.proc, self.url, timeout)
        if why is not None:
            raise RuntimeError("%s:\n%s" % (why, self.output()))

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc:
            stack.stop(self.proc)
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


def workers(srv):
    return sorted(p for p, _, args in srv.pids() if "[wrk" in args)


def healthz(srv, timeout=10):
    return requests.get(srv.url + "/healthz", verify=False,
                        timeout=timeout).status_code


def wait_healthy(srv, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if healthz(srv, 5) == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError("not healthy again:\n" + srv.output()[-3000:])


def clear_source_blocks():
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM auth.source_blocks")


def module_server(name, workers=1, policy=None, unblocked=False):
    """A module-scoped fixture: one server for the tests of a file,
    `srv = module_server("name", ...)` at the top of it (the fixture
    takes the name it is assigned to). unblocked: no source blocks in
    the shared database before it starts and after it stops."""
    @pytest.fixture(scope="module")
    def fixture():
        if unblocked:
            clear_source_blocks()
        srv = Server(name, workers=workers, policy=policy).start()
        yield srv
        srv.stop()
        if unblocked:
            clear_source_blocks()
    return fixture


@pytest.fixture
def no_source_blocks():
    """For files whose tests fail logins from 127.0.0.1 on purpose
    (`pytestmark = pytest.mark.usefixtures("no_source_blocks")`): source
    blocks are per address in the shared database, so each test starts
    and ends without any."""
    clear_source_blocks()
    yield
    clear_source_blocks()


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


def create_db(name, seeding=False):
    """A database of a test's own, migrated (the shared one's tampering
    or faults would reach every other suite). seeding: it takes seeded
    accounts (create_user with a site whose policy names it), as
    devstack's does."""
    with db("postgres", dbname="postgres") as su, su.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS %s" % name)
        cur.execute("CREATE DATABASE %s OWNER pc_owner" % name)
    r = subprocess.run([os.path.join(TOP, "scripts", "migrate"), SOCK,
                        name], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if seeding:
        with db("pc_owner", dbname=name) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO meta.settings (key, value) "
                        "VALUES ('dev_seeding', 'on')")


def seal_all(dbname="payconsole"):
    """Seal every committed event of dbname now, as the superuser (the
    server's sealer and the CLI's wait until an event is 60 s old); the
    newest sealed event id."""
    with db("postgres", dbname=dbname) as conn, conn.cursor() as cur:
        cur.execute("SELECT audit.seal_due(interval '0 seconds', 10000, "
                    "true)")
        cur.execute("SELECT max(event_id) FROM audit.chain")
        return cur.fetchone()[0]


def drop_db(name):
    with db("postgres", dbname="postgres") as su, su.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


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


def checkpoint_keygen(name):
    """A new checkpoint signing key in the stack's keys/ through the CLI,
    recorded for the secret scan: (key path, public key path)."""
    key = os.path.join(STACK, "keys", "%s.key" % name)
    pub = os.path.join(STACK, "keys", "%s.pub" % name)
    r = subprocess.run([ADMIN, "-d", STACK, "checkpoint-keygen", key],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(key) as f:
        record_secret("checkpoint_key", "".join(f.read().splitlines()[1:-1]))
    with open(pub, "w") as f:
        f.write(r.stdout)
    return key, pub


@pytest.fixture
def new_user():
    """new_user(role="operator") -> dict with username, role, password,
    totp_secret_base32, otpauth_uri, display_name."""
    def make(role="operator", display_name=None, site=None):
        return create_user(role, display_name, site=site)
    return make


# --- the order of the suites ------------------------------------------------

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "last(n): run after every test not so marked, lower n "
        "first (test_faults_pg.py stops the shared cluster: 1; "
        "test_secret_scan.py reads what the whole run wrote: 2)")
    install_secret_recorders()


def pytest_collection_modifyitems(session, config, items):
    """Tests marked last(n) go to the end, by n; the others keep their
    order (a stable sort), whichever files were named."""
    def rank(item):
        m = item.get_closest_marker("last")
        return m.args[0] if m else 0
    items.sort(key=rank)


# --- secrets the suites use, for the secret scan ----------------------------
#
# test_secret_scan.py runs last and looks for every secret the run used in
# audit.events, audit.alerts and the servers' logs. It learns the
# generated ones here: pytest_configure (above) installs, for the whole
# session and before any test module is imported, two pass-through
# recorders that change no behaviour: one around subprocess.run (the JSON
# payconsole-admin prints for create-user and bootstrap-admin: password,
# TOTP secret, enrolment code halves) and one around requests'
# HTTPAdapter.send (passwords in request bodies; session cookies, CSRF
# tokens and otpauth secrets in answers). What they see is appended to
# $PC_STACK/secrets.txt, one "kind<TAB>value" a line; record_secret()
# adds one by hand.

SECRETS_FILE = os.path.join(STACK, "secrets.txt") if STACK else None
MIN_PASSWORD = 8            # shorter "passwords" in malformed-body tests
_lock = threading.Lock()
_seen = set()


def record_secret(kind, value):
    """Remember one secret the suite used (appended to secrets.txt)."""
    if not isinstance(value, str) or not value or SECRETS_FILE is None:
        return
    if kind == "password" and len(value) < MIN_PASSWORD:
        return
    with _lock:
        if (kind, value) in _seen:
            return
        _seen.add((kind, value))
        try:
            fd = os.open(SECRETS_FILE, os.O_WRONLY | os.O_APPEND |
                         os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as f:
                f.write("%s\t%s\n" % (kind, value.replace("\n", " ")))
        except OSError:
            pass


OTPAUTH_SECRET = re.compile(r"[?&]secret=([A-Z2-7]+=*)")
COOKIE_TOKEN = re.compile(r"__Host-pc_session=([A-Za-z0-9_-]{43})")
# A device cookie's secret and MAC (issue 15): neither may be logged.
DEVICE_PARTS = re.compile(
    r"__Host-pc_device=([A-Za-z0-9_-]{43})\.\d+\.([A-Za-z0-9_-]{43})")
PASSWORD_KEYS = ("password", "current_password", "new_password")
# The halves of an enrolment code: in answers to requests, approvals and
# bootstrap-admin, and in first sign-in bodies (issue 12).
ENROLMENT_KEYS = ("enrolment_code", "enrolment_code_1", "enrolment_code_2",
                  "code_1", "code_2")


def _record_json(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in PASSWORD_KEYS:
                record_secret("password", v)
            elif k == "totp_secret_base32":
                record_secret("totp_secret", v)
            elif k in ENROLMENT_KEYS and isinstance(v, str) and \
                    len(v) >= 26:
                record_secret("enrolment_code", v)
            elif k == "otpauth_uri" and isinstance(v, str):
                for s in OTPAUTH_SECRET.findall(v):
                    record_secret("totp_secret", s)
            elif k == "csrf_token":
                record_secret("csrf_token", v)
            else:
                _record_json(v)
    elif isinstance(obj, list):
        for v in obj:
            _record_json(v)


def _record_text(text):
    try:
        _record_json(json.loads(text))
    except (ValueError, TypeError):
        pass


def install_secret_recorders():
    if getattr(subprocess.run, "_pc_recorder", False):
        return
    real_run = subprocess.run

    def run(*args, **kw):
        r = real_run(*args, **kw)
        try:
            argv = args[0] if args else kw.get("args")
            if isinstance(argv, (list, tuple)) and argv and \
                    os.path.basename(str(argv[0])) == \
                    os.path.basename(ADMIN) and r.stdout:
                out = r.stdout
                if isinstance(out, bytes):
                    out = out.decode("utf-8", "replace")
                for line in out.splitlines() or [out]:
                    _record_text(line)
                _record_text(out)
        except Exception:   # a recorder never breaks a test
            pass
        return r
    run._pc_recorder = True
    subprocess.run = run

    real_send = requests.adapters.HTTPAdapter.send

    def send(self, request, *args, **kw):
        try:
            body = request.body
            if isinstance(body, bytes):
                body = body.decode("utf-8", "replace")
            if body:
                _record_text(body)
            for m in COOKIE_TOKEN.finditer(request.headers.get("Cookie",
                                                               "")):
                record_secret("session_token", m.group(1))
            for m in DEVICE_PARTS.finditer(request.headers.get("Cookie",
                                                               "")):
                record_secret("device_secret", m.group(1))
        except Exception:
            pass
        resp = real_send(self, request, *args, **kw)
        try:
            for c in resp.raw.headers.getlist("Set-Cookie"):
                for m in COOKIE_TOKEN.finditer(c):
                    record_secret("session_token", m.group(1))
                for m in DEVICE_PARTS.finditer(c):
                    record_secret("device_secret", m.group(1))
                    record_secret("device_mac", m.group(2))
            ctype = resp.headers.get("Content-Type", "")
            if "json" in ctype and len(resp.content) < 1 << 20:
                _record_text(resp.content.decode("utf-8", "replace"))
        except Exception:
            pass
        return resp
    send._pc_recorder = True
    requests.adapters.HTTPAdapter.send = send


