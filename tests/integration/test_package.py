"""The Debian package and the checks around it (issue 17, part 4).

`make deb` is built once for the module, into the stack's directory
(it is removed with the stack): the files and conffiles it holds, no
lintian error, a systemd unit that `systemd-analyze verify` accepts and
whose capability set is enough to start the server (systemd is not PID 1
here, so the unit's confinement is reproduced with setpriv: the same
bounding set and no_new_privs), and a logrotate file that signals the
parent.

And the package as a site gets it: `dpkg -i` on this machine, README's
site steps on the shipped example files, check-config, the installed
unit's ExecStart serving /healthz, then `dpkg --purge` leaving no
process and no conffile; the machine is put back as it was.

Then `payconsole-admin check-config` on a good site (exit 0, nothing
printed) and on one broken site per problem (exit 1, the exact
`file:line: message`), and `payconsole-admin migrate` doing what
scripts/migrate does, on a database of its own.

The package tests are left to the plain lane: the ASan lane builds the
same package; check-config and migrate run in both."""
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests

from conftest import (ADMIN, BIN, SANITIZED, STACK, TOP, Server, db,
                      drop_db, policy_text, stack)

DEB_TIMEOUT = 900
UNIT = "lib/systemd/system/payconsole.service"
# Warnings accepted, with why (README, "Installing the Debian package").
LINTIAN_ACCEPTED = {
    "no-manual-page [usr/bin/payconsole-admin]",
    "no-manual-page [usr/sbin/payconsole]",
}

package_only = pytest.mark.skipif(
    SANITIZED, reason="the ASan lane builds the same package")


# --- the package, built once ----------------------------------------------

@pytest.fixture(scope="module")
def deb():
    """(path of the .deb, directory it is extracted to)."""
    out = os.path.join(STACK, "deb")
    shutil.rmtree(out, ignore_errors=True)
    r = subprocess.run(["make", "-s", "deb", "DEB_DIR=" + out], cwd=TOP,
                       capture_output=True, text=True, timeout=DEB_TIMEOUT)
    assert r.returncode == 0, r.stdout + r.stderr
    debs = [f for f in os.listdir(out) if re.fullmatch(
        r"payconsole_[0-9][^_]*_amd64\.deb", f)]
    assert len(debs) == 1, os.listdir(out)
    path = os.path.join(out, debs[0])
    root = os.path.join(out, "root")
    subprocess.run(["dpkg-deb", "-x", path, root], check=True)
    return path, root


def dpkg_deb(*args):
    return subprocess.run(["dpkg-deb"] + list(args), capture_output=True,
                          text=True, check=True).stdout


def unit_value(root, key):
    with open(os.path.join(root, UNIT)) as f:
        for line in f:
            if line.startswith(key + "="):
                return line.split("=", 1)[1].strip()
    return None


@package_only
def test_package_holds_the_files(deb):
    path, _ = deb
    names = {line.split()[-1] if "->" not in line else
             line.split()[-3] for line in dpkg_deb("-c", path).splitlines()}
    for f in ("./usr/sbin/payconsole", "./usr/bin/payconsole-admin",
              "./usr/share/payconsole/scripts/migrate",
              "./usr/lib/sysusers.d/payconsole.conf", "./" + UNIT,
              "./etc/logrotate.d/payconsole",
              "./etc/payconsole/site.conf", "./etc/payconsole/policy.conf",
              "./var/lib/payconsole/site.conf",
              "./var/lib/payconsole/policy.conf"):
        assert f in names, f
    for m in os.listdir(os.path.join(TOP, "migrations")):
        if re.fullmatch(r"[0-9]{3}_.*\.sql", m):
            assert "./usr/share/payconsole/migrations/" + m in names, m


@package_only
def test_package_conffiles_and_users(deb):
    path, root = deb
    ctl = os.path.join(os.path.dirname(path), "control")
    shutil.rmtree(ctl, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-e", path, ctl], check=True)
    with open(os.path.join(ctl, "conffiles")) as f:
        assert sorted(f.read().split()) == [
            "/etc/logrotate.d/payconsole", "/etc/payconsole/policy.conf",
            "/etc/payconsole/site.conf"]
    with open(os.path.join(ctl, "postinst")) as f:
        assert "systemd-sysusers" in f.read()
    with open(os.path.join(root, "usr/lib/sysusers.d/payconsole.conf")) as f:
        users = [ln.split()[1] for ln in f if ln.startswith("u ")]
    assert users == ["payconsole", "pckeymgr"]
    # The examples are the documented production files.
    for name in ("site.conf", "policy.conf"):
        with open(os.path.join(root, "etc/payconsole", name)) as a, \
                open(os.path.join(TOP, "conf", name)) as b:
            assert a.read() == b.read()
    assert os.readlink(os.path.join(root, "var/lib/payconsole/site.conf")) \
        == "/etc/payconsole/site.conf"


@package_only
def test_lintian_reports_no_error(deb):
    path, _ = deb
    r = subprocess.run(["lintian", path], capture_output=True, text=True)
    tags = [ln for ln in r.stdout.splitlines() if re.match(r"[EW]: ", ln)]
    assert not [t for t in tags if t.startswith("E: ")], r.stdout
    warned = {t.split(": ", 2)[2] for t in tags if t.startswith("W: ")}
    assert warned <= LINTIAN_ACCEPTED, r.stdout


@package_only
def test_packaged_admin_checks_the_packaged_migrations(deb):
    """The packaged payconsole-admin looks in /usr/share/payconsole
    (not here: PC_MIGRATIONS points at the extracted copy) and finds
    the stack's database migrated with exactly those files."""
    _, root = deb
    admin = os.path.join(root, "usr/bin/payconsole-admin")
    if not os.path.exists("/usr/share/payconsole"):
        r = subprocess.run([admin, "-d", site("pkg_admin"), "check-config"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 1
        assert r.stdout.startswith(
            "/usr/share/payconsole/migrations:0: cannot be read: "), r.stdout
    env = dict(os.environ, PC_MIGRATIONS=os.path.join(
        root, "usr/share/payconsole/migrations"))
    r = subprocess.run([admin, "-d", site("pkg_admin"), "check-config"],
                       capture_output=True, text=True, timeout=60, env=env)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


@package_only
def test_unit_passes_systemd_analyze_verify(deb):
    """verify looks up ExecStart and the units it names under --root:
    the extracted package plus this system's units and kill(1)."""
    _, root = deb
    shutil.copytree("/lib/systemd/system", os.path.join(root, "lib",
                    "systemd", "system"), dirs_exist_ok=True,
                    symlinks=True)
    shutil.copy("/bin/kill", os.path.join(root, "usr", "bin", "kill"))
    if not os.path.exists(os.path.join(root, "bin")):
        os.symlink("usr/bin", os.path.join(root, "bin"))
    r = subprocess.run(["systemd-analyze", "verify", "--root=" + root,
                        "payconsole.service"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stdout + r.stderr == "", \
        r.stdout + r.stderr


@package_only
def test_unit_confinement(deb):
    _, root = deb
    assert unit_value(root, "ExecStart") == "/usr/sbin/payconsole -f"
    assert unit_value(root, "Type") == "exec"
    assert unit_value(root, "User") == "root"
    assert unit_value(root, "NoNewPrivileges") == "yes"
    assert unit_value(root, "ProtectSystem") == "strict"
    assert unit_value(root, "RestrictAddressFamilies") == \
        "AF_INET AF_INET6 AF_UNIX"
    assert set(unit_value(root, "CapabilityBoundingSet").split()) == {
        "CAP_SYS_CHROOT", "CAP_SETUID", "CAP_SETGID",
        "CAP_NET_BIND_SERVICE", "CAP_KILL"}
    assert unit_value(root, "AmbientCapabilities") == ""


def confined(argv, caps, cwd, log, env, no_new_privs=True, umask=-1):
    """argv started as a unit starts its ExecStart, as far as setpriv
    can: root with only caps in its bounding set (so in its effective
    set), no_new_privs, its own session, output into the open file log.
    The Popen."""
    bounding = "-all," + ",".join(
        "+" + c.lower().replace("cap_", "", 1) for c in caps)
    nnp = ["--no-new-privs"] if no_new_privs else []
    return subprocess.Popen(
        ["setpriv"] + nnp + ["--bounding-set", bounding, "--inh-caps",
                             "-all", "--", "stdbuf", "-oL", "-eL"] + argv,
        cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True, env=env,
        umask=umask)


def confined_server(name, caps, binary=BIN):
    """A server of a site of its own, confined as the unit confines."""
    srv = Server(name)
    srv.log = open(srv.log_path, "wb")
    srv.proc = confined([binary, "-f"], caps, srv.dir, srv.log,
                        srv.sanitizer_env())
    return srv


@package_only
def test_unit_capabilities_are_enough(deb):
    """The packaged server: served, stopped cleanly, and SIGHUP reopens
    the access log (what the logrotate file relies on)."""
    _, root = deb
    caps = unit_value(root, "CapabilityBoundingSet").split()
    srv = confined_server("pkg_caps", caps,
                          os.path.join(root, "usr/sbin/payconsole"))
    try:
        srv.wait_ready()
        log = os.path.join(srv.dir, "access.log")
        os.rename(log, log + ".1")
        srv.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 20
        while not os.path.exists(log) and time.time() < deadline:
            time.sleep(0.1)
        assert os.path.exists(log), srv.output()
        assert requests.get(srv.url + "/healthz", verify=False,
                            timeout=10).status_code == 200
    finally:
        srv.stop()
    assert srv.proc.returncode == 0, srv.output()


@package_only
def test_unit_capabilities_are_needed(deb):
    """The emulation confines: without CAP_SYS_CHROOT the key manager
    and the workers cannot chroot, and the server stops. (Kore exits 0
    then, hence the unit's Restart=always.)"""
    _, root = deb
    caps = [c for c in unit_value(root, "CapabilityBoundingSet").split()
            if c != "CAP_SYS_CHROOT"]
    srv = confined_server("pkg_nochroot", caps)
    try:
        srv.proc.wait(timeout=60)
    finally:
        srv.stop()
    assert re.search(r"cannot chroot\(.*\): Operation not permitted",
                     srv.output()), srv.output()
    assert "payconsole stopped" in srv.output()
    assert unit_value(root, "Restart") == "always"


@package_only
def test_unit_needs_cap_kill(deb):
    """Without CAP_KILL the parent cannot signal workers that run as
    another user: SIGTERM leaves the server hanging."""
    _, root = deb
    caps = [c for c in unit_value(root, "CapabilityBoundingSet").split()
            if c != "CAP_KILL"]
    srv = confined_server("pkg_nokill", caps)
    try:
        srv.wait_ready()
        srv.proc.send_signal(signal.SIGTERM)
        with pytest.raises(subprocess.TimeoutExpired):
            srv.proc.wait(timeout=10)
        assert "waiting for workers to drain" in srv.output()
    finally:
        if srv.proc.poll() is None:
            os.killpg(srv.proc.pid, signal.SIGKILL)
            srv.proc.wait()
        srv.log.close()


@package_only
def test_logrotate_signals_the_parent(deb):
    _, root = deb
    with open(os.path.join(root, "etc/logrotate.d/payconsole")) as f:
        text = f.read()
    code = [ln for ln in text.splitlines()
            if not ln.lstrip().startswith("#")]
    assert code[0].split() == ["/var/log/payconsole/access.log", "{"]
    assert sum("{" in ln for ln in code) == 1
    assert not [ln for ln in code if "copytruncate" in ln]
    assert re.search(r"systemctl kill --kill-whom=main --signal=HUP "
                     r"payconsole\.service", text)
    r = subprocess.run(["logrotate", "-d", "-s", os.path.join(
        os.path.dirname(root), "logrotate.state"), os.path.join(
        root, "etc/logrotate.d/payconsole")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "error" not in (r.stdout + r.stderr).lower(), r.stderr
    assert "rotating pattern: /var/log/payconsole/access.log" in r.stderr


# --- installed with dpkg: the example site, served, purged ------------------
#
# The acceptance point of issue 17 part 4 on this machine itself: the
# .deb installed with dpkg, README's site steps on the documented example
# files, check-config, the service started from the installed unit,
# /healthz over TLS, a purge that leaves no process. systemd is not PID 1
# here (nor in CI): the unit's ExecStart runs under setpriv (confined(),
# above) and is stopped as KillMode=mixed stops it.

PKG_PATHS = ("/var/lib/payconsole", "/etc/payconsole", "/var/log/payconsole",
             "/run/payconsole", "/usr/share/payconsole")
# conf/site.conf's listener and conf/policy.conf's server_name, inside
# its allow_cidr: carried by lo here, as by the VPN interface on a site.
VPN_ADDR = "10.8.0.1"
PKG_SOCK = "/var/lib/payconsole/root/run"
PGBIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
# What systemd gives a system service.
UNIT_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                    "/sbin:/bin"}


def dpkg_installed():
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Status}",
                        "payconsole"], capture_output=True, text=True)
    return r.returncode == 0 and not r.stdout.endswith("not-installed")


def sh(command, **kw):
    """A README command as an operator types it, as root."""
    r = subprocess.run(command, shell=True, capture_output=True, text=True,
                       timeout=300, **kw)
    assert r.returncode == 0, "%s:\n%s%s" % (command, r.stdout, r.stderr)
    return r.stdout


def as_postgres(*argv):
    return sh(" ".join(["runuser", "-u", "postgres", "--"] +
                       [shlex.quote(a) for a in argv]))


def text_of(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def readme_lines(pattern):
    with open(os.path.join(TOP, "README.md")) as f:
        return [ln.strip() for ln in f if re.match(pattern, ln)]


class Machine:
    """What the test changes on this machine, undone by undo() whatever
    happened: the server, the package, the cluster, the package's paths
    (none existed before) and the listener's address on lo."""

    def __init__(self):
        self.server = None
        self.pgdata = None
        self.address_added = False

    def undo(self):
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()
        if dpkg_installed():
            subprocess.run(["dpkg", "--purge", "payconsole"],
                           capture_output=True, timeout=300)
        if self.pgdata is not None:
            subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(
                PGBIN, "pg_ctl"), "-D", self.pgdata, "-m", "immediate",
                "-w", "stop"], capture_output=True, timeout=120)
        for path in PKG_PATHS:
            shutil.rmtree(path, ignore_errors=True)
        if self.address_added:
            subprocess.run(["ip", "addr", "del", VPN_ADDR + "/32", "dev",
                            "lo"], capture_output=True)


@pytest.fixture
def machine():
    present = [p for p in PKG_PATHS if os.path.lexists(p)]
    if dpkg_installed() or present:
        pytest.skip("payconsole is installed here or its paths exist (%s);"
                    " this test would remove them" % ", ".join(present))
    m = Machine()
    try:
        if not subprocess.run(["ip", "-o", "addr", "show", "to", VPN_ADDR],
                              capture_output=True, text=True,
                              check=True).stdout:
            subprocess.run(["ip", "addr", "add", VPN_ADDR + "/32", "dev",
                            "lo"], check=True)
            m.address_added = True
        yield m
    finally:
        m.undo()


def pkg_database(m):
    """README step 1, in a cluster of the test's own whose socket
    directory is the one conf/policy.conf names; pg_hba.conf and
    pg_ident.conf get exactly the lines README gives."""
    hba = readme_lines(r"\s+local\s+payconsole\s")
    ident = readme_lines(r"\s+(ops|app)\s+(root|payconsole)\s+pc_\w+\s*$")
    assert len(hba) == 2 and len(ident) == 5, (hba, ident)
    sh("install -d -o postgres -g postgres -m 0755 " + PKG_SOCK)
    m.pgdata = os.path.join(STACK, "pkg-pg")
    sh("install -d -o postgres -g postgres -m 0700 " + m.pgdata)
    as_postgres(os.path.join(PGBIN, "initdb"), "-D", m.pgdata, "-U",
                "postgres", "-E", "UTF8", "--locale=C.UTF-8",
                "--auth-local=peer", "--auth-host=reject")
    with open(os.path.join(m.pgdata, "postgresql.conf"), "a") as f:
        f.write("listen_addresses = ''\nunix_socket_directories = '%s'\n"
                % PKG_SOCK)
    with open(os.path.join(m.pgdata, "pg_hba.conf"), "w") as f:
        f.write("local all postgres peer\n" + "\n".join(hba) + "\n")
    with open(os.path.join(m.pgdata, "pg_ident.conf"), "w") as f:
        f.write("\n".join(ident) + "\n")
    as_postgres(os.path.join(PGBIN, "pg_ctl"), "-D", m.pgdata, "-l",
                os.path.join(m.pgdata, "server.log"), "-w", "-t", "60",
                "start")
    as_postgres("psql", "-X", "-q", "-h", PKG_SOCK, "-f",
                "/usr/share/payconsole/migrations/cluster.sql")


def pkg_keys_and_tls():
    """README steps 2 and 3; the certificate names the listener."""
    sh('(umask 077; echo "1 $(openssl rand -hex 32)" '
       '>/etc/payconsole/totp.key)')
    sh("payconsole-admin -d /var/lib/payconsole checkpoint-keygen "
       "/etc/payconsole/checkpoint.key")
    sh("openssl req -x509 -newkey rsa:2048 -nodes -days 30 "
       "-subj /CN=%s -addext subjectAltName=IP:%s -keyout key.pem "
       "-out cert.pem 2>/dev/null && chown pckeymgr key.pem && "
       "chmod 0400 key.pem && openssl genpkey -genparam -algorithm DH "
       "-pkeyopt group:ffdhe2048 -out dh.pem" % (VPN_ADDR, VPN_ADDR),
       cwd="/var/lib/payconsole/tls")


def start_installed_unit(log):
    """The installed unit's ExecStart from its WorkingDirectory, with
    its bounding set, NoNewPrivileges and UMask, after systemd would
    have made its RuntimeDirectory (the pidfile's)."""
    def unit(key):
        return unit_value("/", key)
    assert unit("User") == "root"
    os.makedirs("/run/" + unit("RuntimeDirectory"),
                mode=int(unit("RuntimeDirectoryMode"), 8))
    return confined(shlex.split(unit("ExecStart")),
                    unit("CapabilityBoundingSet").split(),
                    unit("WorkingDirectory"), log, UNIT_ENV,
                    no_new_privs=unit("NoNewPrivileges") == "yes",
                    umask=int(unit("UMask"), 8))


def refused_before_tls(source):
    """The server closes a connection from source before any byte."""
    with socket.create_connection((VPN_ADDR, 443), timeout=10,
                                  source_address=(source, 0)) as s:
        try:
            return s.recv(1) == b""
        except ConnectionResetError:
            return True


def running_installed_binary():
    """Processes whose program is /usr/sbin/payconsole (deleted or
    not): the parent, the key manager, the workers."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            exe = os.readlink("/proc/%s/exe" % pid)
        except OSError:
            continue
        if exe.split(" (deleted)")[0] == "/usr/sbin/payconsole":
            found.append(int(pid))
    return found


@package_only
def test_installed_example_site_serves_and_purges(deb, machine):
    path, _ = deb
    r = subprocess.run(["dpkg", "-i", path], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ,
                                             DEBIAN_FRONTEND="noninteractive"))
    assert r.returncode == 0 and dpkg_installed(), r.stdout + r.stderr
    # Without systemd as PID 1 the prerm stops nothing (the test does it
    # below), but on a site it must stop the unit on removal.
    prerm = "/var/lib/dpkg/info/payconsole.prerm"
    assert os.path.exists(prerm), "no prerm: removal leaves it running"
    with open(prerm) as f:
        assert re.search(r'"\$1" = remove .*\n\s*deb-systemd-invoke stop '
                         r"'payconsole\.service'", f.read())

    pkg_database(machine)
    pkg_keys_and_tls()
    # README step 4: nothing to edit; the listener, allow_cidr and
    # server_name are the documented ones.
    sh("payconsole-admin -d /var/lib/payconsole migrate")
    r = subprocess.run(["payconsole-admin", "-d", "/var/lib/payconsole",
                        "check-config"], capture_output=True, text=True,
                       timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((VPN_ADDR, 443))
        except OSError as e:
            pytest.fail("conf/site.conf's listener %s:443 is taken here: "
                        "%s" % (VPN_ADDR, e))
    log_path = os.path.join(STACK, "pkg-installed.log")
    with open(log_path, "wb") as log:
        machine.server = start_installed_unit(log)
    url = "https://%s" % VPN_ADDR
    why = stack.wait_ready(machine.server, url)
    assert why is None, "%s:\n%s" % (why, text_of(log_path))
    r = requests.get(url + "/healthz", timeout=10,
                     verify="/var/lib/payconsole/tls/cert.pem")
    assert r.status_code == 200
    assert refused_before_tls("127.0.0.1")
    main = machine.server.pid
    assert main in running_installed_binary()

    # systemctl stop, KillMode=mixed: SIGTERM to the main process, which
    # stops the others; SIGKILL to all only after TimeoutStopSec (90 s).
    machine.server.send_signal(signal.SIGTERM)
    assert machine.server.wait(timeout=90) == 0
    assert running_installed_binary() == []
    output = text_of(log_path)
    assert "allowlist: refused connection from 127.0.0.1" in output, output
    assert "payconsole stopped" in output, output
    shutil.rmtree("/run/payconsole")

    r = subprocess.run(["dpkg", "--purge", "payconsole"], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not dpkg_installed()
    assert running_installed_binary() == []
    for gone in ("/usr/sbin/payconsole", "/usr/bin/payconsole-admin",
                 "/usr/share/payconsole", "/" + UNIT,
                 "/etc/payconsole/site.conf", "/etc/payconsole/policy.conf",
                 "/etc/logrotate.d/payconsole"):
        assert not os.path.lexists(gone), gone
    # What dpkg leaves, being no file of the package: the operator's keys
    # (so /etc/payconsole itself), the logs, and the system users
    # (Debian never removes users; other sites' files may be theirs).
    assert sorted(os.listdir("/etc/payconsole")) == ["checkpoint.key",
                                                     "totp.key"]
    assert os.path.exists("/var/log/payconsole/access.log")
    pwd.getpwnam("payconsole")
    pwd.getpwnam("pckeymgr")


# --- check-config -----------------------------------------------------------

def site(name, policy=None, raw_policy=None):
    """A site directory as tests/stack.py writes one for a server."""
    d = os.path.join(STACK, "sites", name)
    shutil.rmtree(d, ignore_errors=True)
    stack.write_site(d, STACK, stack.free_port(), 1,
                     raw_policy if raw_policy is not None
                     else policy_text(policy))
    return d


def check_config(d, env=None):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run([ADMIN, "-d", d, "check-config"], capture_output=True,
                       text=True, timeout=60, env=e)
    return r.returncode, r.stdout.splitlines(), r.stderr


def test_check_config_good_site():
    assert check_config(site("cc_good")) == (0, [], "")


def test_check_config_the_stack_itself():
    """devstack's own site (site.conf, policy.conf, keys, certificate)."""
    assert check_config(STACK) == (0, [], "")


def test_check_config_policy_syntax_error():
    d = site("cc_syntax", raw_policy=policy_text(
        extra_lines=["lockout_threshold five"]))
    n = len(policy_text().splitlines()) + 1
    rc, out, _ = check_config(d)
    assert rc == 1
    assert out == ["%s/policy.conf:%d: lockout_threshold: invalid number "
                   "'five'" % (d, n)]


def test_check_config_policy_unknown_key():
    d = site("cc_unknown", raw_policy=policy_text(extra_lines=["colour red"]))
    n = len(policy_text().splitlines()) + 1
    rc, out, _ = check_config(d)
    assert rc == 1
    assert out == ["%s/policy.conf:%d: unknown key 'colour'" % (d, n)]


def test_check_config_key_file_mode():
    d = site("cc_keymode")
    key = os.path.join(d, "totp.key")
    shutil.copy(os.path.join(STACK, "keys", "totp.key"), key)
    os.chmod(key, 0o644)
    with open(os.path.join(d, "policy.conf"), "w") as f:
        f.write(policy_text({"totp_key_file": key}))
    rc, out, _ = check_config(d)
    assert rc == 1
    assert out == ["%s:0: key file %s is readable or writable by group or "
                   "others" % (key, key)]


def test_check_config_tls_key_mode_and_owner():
    d = site("cc_tlsmode")
    key = os.path.join(d, "tls", "key.pem")
    os.chmod(key, 0o644)
    os.chown(key, 0, 0)
    rc, out, _ = check_config(d)
    assert rc == 1
    assert out == [
        "%s:0: readable or writable by group or others" % key,
        "%s:0: not owned by pckeymgr, the key manager's user "
        "(keymgr_runas)" % key]


def test_check_config_certificate_key_mismatch():
    d = site("cc_mismatch")
    key = os.path.join(d, "tls", "key.pem")
    os.unlink(key)
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", key], check=True,
                   capture_output=True)
    shutil.chown(key, "pckeymgr", "pckeymgr")
    os.chmod(key, 0o400)
    rc, out, _ = check_config(d)
    assert rc == 1
    assert out == ["%s/tls/cert.pem:0: does not match the private key %s"
                   % (d, key)]


def test_check_config_site_users_and_chroot():
    d = site("cc_kore")
    conf = os.path.join(d, "site.conf")
    with open(conf) as f:
        lines = f.read().splitlines()
    n_runas = next(i for i, ln in enumerate(lines, 1)
                   if ln.startswith("runas "))
    n_root = next(i for i, ln in enumerate(lines, 1)
                  if ln.startswith("root "))
    lines[n_runas - 1] = "runas pc-nobody-here"
    lines[n_root - 1] = "root %s/missing" % d
    with open(conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    rc, out, _ = check_config(d)
    assert rc == 1
    assert out == [
        "%s:%d: runas pc-nobody-here: no such user" % (conf, n_runas),
        "%s:%d: root %s/missing: not a directory" % (conf, n_root, d)]


def test_check_config_database_unreachable():
    d = site("cc_nodb", {"db_socket_dir": "/nonexistent/pc-socket"})
    rc, out, _ = check_config(d)
    assert rc == 1
    assert len(out) == 1
    assert out[0].startswith(
        "%s/policy.conf:0: database payconsole on /nonexistent/pc-socket "
        "unreachable: " % d), out


def test_check_config_db_ports():
    """As the server and the other commands connect: every db_ports port
    on the socket directory, the one that takes writes."""
    assert check_config(site("cc_ports", {"db_ports": "5999,5432"})) == \
        (0, [], "")
    rc, out, _ = check_config(site("cc_noport", {"db_ports": "5999"}))
    assert rc == 1 and len(out) == 1 and " unreachable: " in out[0], out


def test_check_config_pending_migration(tmp_path):
    mig = tmp_path / "migrations"
    shutil.copytree(os.path.join(TOP, "migrations"), mig)
    (mig / "999_pending.sql").write_text("SELECT 1;\n")
    rc, out, _ = check_config(site("cc_pending"),
                              env={"PC_MIGRATIONS": str(mig)})
    assert rc == 1
    assert out == ["%s/999_pending.sql:0: not applied (payconsole-admin "
                   "migrate)" % mig]


def test_check_config_changed_migration(tmp_path):
    mig = tmp_path / "migrations"
    shutil.copytree(os.path.join(TOP, "migrations"), mig)
    with open(mig / "001_schemas.sql", "a") as f:
        f.write("-- edited after it was applied\n")
    rc, out, _ = check_config(site("cc_changed"),
                              env={"PC_MIGRATIONS": str(mig)})
    assert rc == 1
    assert out == ["%s/001_schemas.sql:0: changed since it was applied; "
                   "migrations are append-only" % mig]


# --- migrate ----------------------------------------------------------------

def test_migrate_applies_what_scripts_migrate_does():
    name = "pc_pkg_migrate"
    drop_db(name)
    with db("postgres", dbname="postgres") as su, su.cursor() as cur:
        cur.execute("CREATE DATABASE %s OWNER pc_owner" % name)
    try:
        d = site("mg", {"db_name": name})
        rc, out, _ = check_config(d)
        assert rc == 1 and all(": not applied (payconsole-admin migrate)"
                               in ln for ln in out) and out, out
        # db_ports as the other commands take it: a port with nothing
        # on it first.
        with open(os.path.join(d, "policy.conf"), "a") as f:
            f.write("db_ports 5999,5432\n")
        r = subprocess.run([ADMIN, "-d", d, "migrate"], capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert "migrate: applying 001_schemas.sql" in r.stdout
        assert check_config(d) == (0, [], "")
        # Nothing left: a second run applies nothing.
        r = subprocess.run([ADMIN, "-d", d, "migrate"], capture_output=True,
                           text=True, timeout=300)
        assert (r.returncode, r.stdout) == (0, "")
        with db("pc_owner", dbname=name) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM meta.schema_migrations")
            applied = cur.fetchone()[0]
        assert applied == len([m for m in os.listdir(os.path.join(
            TOP, "migrations")) if re.fullmatch(r"[0-9]{3}_.*\.sql", m)])
    finally:
        drop_db(name)
