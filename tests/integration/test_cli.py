"""payconsole-admin on the server host: bootstrap-admin (the first two
admins and the first auditor, no more, even when runs race; each an
enrolment nobody at the terminal can use), the seeding path for
development only (refused under a production policy and by a database
whose owner did not allow it), list-users, and rotate-key (every TOTP
secret re-sealed under a new key-encryption key, all or nothing).

rotate-key changes the key of the whole shared stack, which the other
test files rely on (their servers read keys/totp.key). The rotation test
therefore rotates back to the original key material under a fresh id and
puts that file at keys/totp.key before it ends, and checks that a server
started from keys/totp.key still logs users in."""
import json
import os
import subprocess
import time
import uuid

import pyotp
import pytest
import requests

from conftest import (ADMIN, SOCK, STACK, TOP, clear_source_blocks,
                      create_user, db, policy_text)
from people import NO_SOURCE_BLOCK, login_ok, post_login, settle, totp

KEYS = os.path.join(STACK, "keys")
STACK_KEY = os.path.join(KEYS, "totp.key")
TIMEOUT = 120


# --- helpers -------------------------------------------------------------

def run_admin(*args, site=None):
    return subprocess.run([ADMIN, "-d", site or STACK] + list(args),
                          capture_output=True, text=True, timeout=TIMEOUT)


def read_key(path):
    """(id, hex) of a key file."""
    with open(path) as f:
        kid, hexkey = f.read().split()
    return int(kid), hexkey


def write_key(path, kid, hexkey=None, mode=0o600):
    """A key file "id hex64" with exactly this mode (umask aside)."""
    hexkey = hexkey or os.urandom(32).hex()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("%d %s\n" % (kid, hexkey))
    os.chmod(path, mode)
    return path


def key_site(name, key_path):
    """A site directory whose policy reads key_path (for the CLI)."""
    d = os.path.join(STACK, "sites", "cli-" + name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "policy.conf"), "w") as f:
        f.write(policy_text({"totp_key_file": key_path}))
    return d


def key_ids():
    """{key id: number of sealed secrets} in auth.credentials."""
    with db("pc_auth") as conn, conn.cursor() as cur:
        cur.execute("SELECT totp_key_id, count(*) FROM auth.credentials "
                    "WHERE totp_secret IS NOT NULL GROUP BY 1")
        return dict(cur.fetchall())


def sealed_blobs():
    with db("pc_auth") as conn, conn.cursor() as cur:
        cur.execute("SELECT user_id, totp_secret, totp_key_id "
                    "FROM auth.credentials WHERE totp_secret IS NOT NULL")
        return {r[0]: (bytes(r[1]), r[2]) for r in cur.fetchall()}


def cli_events(event, since=0):
    """[(actor_name, target, outcome, details)] of one event."""
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_name, target, outcome, details "
                    "FROM audit.events WHERE event = %s AND id > %s "
                    "ORDER BY id", (event, since))
        return cur.fetchall()


def last_event_id():
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM audit.events")
        return cur.fetchone()[0]


def directory(username):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT role, totp_state, must_change_password, "
                    "disabled FROM auth.directory WHERE username = %s",
                    (username,))
        return cur.fetchone()


def start_server(make_server, name, key_path=None):
    pol = dict(NO_SOURCE_BLOCK)
    if key_path:
        pol["totp_key_file"] = key_path
    return make_server(name, policy=pol).start()


def admin_count(role="admin"):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM auth.directory "
                    "WHERE role = %s", (role,))
        return cur.fetchone()[0]


# --- list-users ------------------------------------------------------------

def test_list_users_shows_every_account_with_its_state():
    op, aud, adm = (create_user("operator"), create_user("auditor"),
                    create_user("admin"))
    locked, disabled = create_user("operator"), create_user("operator")
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("UPDATE auth.lockout l SET locked_until = now() + "
                    "interval '1 hour' FROM auth.users u WHERE "
                    "u.id = l.user_id AND u.username = %s",
                    (locked["username"],))
        cur.execute("UPDATE auth.users SET disabled_at = now() "
                    "WHERE username = %s", (disabled["username"],))
        cur.execute("UPDATE auth.users SET last_login_at = "
                    "'2026-01-02 03:04:05+00' WHERE username = %s",
                    (op["username"],))
    since = last_event_id()

    r = run_admin("list-users")
    assert r.returncode == 0, r.stderr
    rows = {}
    for line in r.stdout.splitlines():
        f = line.split("\t")
        assert len(f) == 7, line
        rows[f[1]] = f
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT id, username FROM auth.directory")
        dir_ids = dict((u, str(i)) for i, u in cur.fetchall())
    # Every account, each once, by id.
    assert set(rows) == set(dir_ids)
    assert len(r.stdout.splitlines()) == len(dir_ids)
    ids = [int(f[0]) for f in (l.split("\t") for l in r.stdout.splitlines())]
    assert ids == sorted(ids)

    assert rows[op["username"]] == [dir_ids[op["username"]], op["username"],
                                    "operator", "no", "no", "enrolled",
                                    "2026-01-02T03:04:05Z"]
    assert rows[aud["username"]][2:] == ["auditor", "no", "no", "enrolled",
                                        "-"]
    assert rows[adm["username"]][2:] == ["admin", "no", "no", "enrolled",
                                        "-"]
    assert rows[locked["username"]][3:5] == ["no", "yes"]
    assert rows[disabled["username"]][3:5] == ["yes", "no"]
    for role in ("operator", "admin", "auditor"):
        assert rows[role + "1"][2] == role       # the demo accounts
    # No secret, no display name.
    for u in (op, aud, adm):
        assert u["password"] not in r.stdout
        assert u["display_name"] not in r.stdout

    ev = cli_events("users.listed", since)
    assert len(ev) == 1
    assert ev[0][0] == "cli:root" and ev[0][2] == "success"
    assert ev[0][3] == {"users": len(dir_ids)}


# --- bootstrap-admin -------------------------------------------------------

def test_bootstrap_refused_once_the_site_has_its_first_people():
    assert admin_count("admin") >= 2 and admin_count("auditor") >= 1
    since = last_event_id()
    for role in ("admin", "auditor"):
        name = "t_boot_" + uuid.uuid4().hex[:8]
        r = run_admin("bootstrap-admin", name, "Should Not Exist", role)
        assert r.returncode == 1, r.stdout + r.stderr
        assert r.stdout == ""
        assert "refused" in r.stderr and "approved in the console" in \
            r.stderr
        assert directory(name) is None
    ev = cli_events("account.bootstrapped", since)
    assert [(e[0], e[2], e[3]["role"]) for e in ev] == [
        ("cli:root", "denied", "admin"), ("cli:root", "denied", "auditor")]
    assert cli_events("user.created", since) == []
    # Operators are never bootstrapped.
    r = run_admin("bootstrap-admin", "t_boot_op", "Op", "operator")
    assert r.returncode == 1 and "admins and auditors" in r.stderr


@pytest.fixture
def first_day():
    """The site as on its first day, for the duration of the test: every
    admin and auditor is an operator (the stack was seeded with demo
    ones, and pc_ops reaches only the one database)."""
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT id, role FROM auth.users "
                    "WHERE role IN ('admin', 'auditor') FOR UPDATE")
        demoted = cur.fetchall()
        cur.execute("UPDATE auth.users SET role = 'operator' "
                    "WHERE id = ANY(%s)", ([r[0] for r in demoted],))
    try:
        assert admin_count("admin") == 0 and admin_count("auditor") == 0
        yield
    finally:
        with db("pc_owner") as conn, conn.cursor() as cur:
            for uid, role in demoted:
                cur.execute("UPDATE auth.users SET role = %s "
                            "WHERE id = %s", (role, uid))


def bootstrap(names, role):
    """Runs at once: [(name, returncode, stdout, stderr)]."""
    procs = [subprocess.Popen([ADMIN, "-d", STACK, "bootstrap-admin", n,
                               "最初の人 %s" % n, role],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for n in names]
    outs = [p.communicate(timeout=TIMEOUT) for p in procs]
    return [(n, p.returncode) + o for n, p, o in zip(names, procs, outs)]


def test_bootstrap_makes_two_admins_and_an_auditor_then_stops(first_day,
                                                             make_server):
    since = last_event_id()
    # Three at once: the table lock lets exactly two admins through.
    runs = bootstrap(["t_boot_" + uuid.uuid4().hex[:8] for _ in range(3)],
                     "admin")
    assert sorted(r[1] for r in runs) == [0, 0, 1], runs
    made = [r for r in runs if r[1] == 0]
    lost = [r for r in runs if r[1] == 1][0]
    assert lost[2] == "" and "refused" in lost[3]
    assert directory(lost[0]) is None
    runs = bootstrap(["t_boot_" + uuid.uuid4().hex[:8] for _ in range(2)],
                     "auditor")
    assert sorted(r[1] for r in runs) == [0, 1], runs
    made += [r for r in runs if r[1] == 0]
    assert admin_count("admin") == 2 and admin_count("auditor") == 1

    people = []
    for name, _, out, err in made:
        # stdout: one JSON line; the two halves, no password, no secret.
        assert out.count("\n") == 1
        acct = json.loads(out)
        assert set(acct) == {"username", "role", "user_id",
                             "enrolment_code_1", "enrolment_code_2",
                             "expires_at"}
        assert acct["username"] == name
        assert acct["enrolment_code_1"] != acct["enrolment_code_2"]
        assert "First sign-in" in err and "password" in err
        assert acct["enrolment_code_1"] not in err
        role = acct["role"]
        assert directory(name) == (role, None, None, False)
        people.append(acct)
    ev = cli_events("account.bootstrapped", since)
    assert sorted((e[2], e[3]["role"]) for e in ev) == sorted(
        [("success", "admin")] * 2 + [("success", "auditor")] +
        [("denied", "admin"), ("denied", "auditor")])
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit.alerts a JOIN audit.events "
                    "e ON e.id = ANY (a.event_ids) WHERE a.rule = "
                    "'bootstrap' AND e.id > %s", (since,))
        assert cur.fetchone()[0] == 5

    # Each person finishes first sign-in with the halves and signs in.
    srv = start_server(make_server, "cli-boot")
    for acct in people:
        pw = "Bootstrap-" + uuid.uuid4().hex
        body = {"username": acct["username"],
                "code_1": acct["enrolment_code_1"],
                "code_2": acct["enrolment_code_2"]}
        r = requests.post(srv.url + "/api/enrolment/begin", verify=False,
                          json=dict(body, password=pw), timeout=60)
        assert r.status_code == 200, r.text
        secret = pyotp.parse_uri(r.json()["otpauth_uri"]).secret
        # The previous step's code: signing in next needs no wait.
        settle()
        then = time.time() - 30
        r = requests.post(srv.url + "/api/enrolment/finish", verify=False,
                          json=dict(body, otp=pyotp.TOTP(secret).at(then)),
                          timeout=60)
        assert r.status_code == 200, r.text
        user = {"username": acct["username"], "password": pw,
                "totp_secret_base32": secret,
                "last_step": int(then // 30)}
        got = login_ok(srv, user).json()
        assert got["user"]["role"] == acct["role"]
        assert got["must_change_password"] is False


def test_seeding_is_for_development_only(tmp_path):
    """create-user and seed-demo: refused under a production policy by
    the CLI, and by a database whose owner did not allow seeding."""
    site = tmp_path / "prod"
    site.mkdir()
    (site / "policy.conf").write_text(policy_text({
        "environment": "production", "argon2_t": None,
        "argon2_m_kib": None}))
    name = "t_seed_" + uuid.uuid4().hex[:8]
    r = run_admin("create-user", name, "admin", "X", site=str(site))
    assert r.returncode != 0 and "production" in r.stderr
    assert directory(name) is None

    # A migrated database nobody allowed seeding: the function refuses.
    with db("postgres", dbname="postgres") as su, su.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS pc_noseed")
        cur.execute("CREATE DATABASE pc_noseed OWNER pc_owner")
    try:
        env = dict(os.environ)
        r = subprocess.run([os.path.join(TOP, "scripts", "migrate"), SOCK,
                            "pc_noseed"], capture_output=True, text=True,
                           env=env)
        assert r.returncode == 0, r.stderr
        dev = tmp_path / "dev"
        dev.mkdir()
        (dev / "policy.conf").write_text(policy_text({
            "db_name": "pc_noseed"}))
        r = run_admin("create-user", name, "admin", "X", site=str(dev))
        assert r.returncode != 0
        assert "seeding" in r.stderr, r.stderr
        with db("pc_owner", dbname="pc_noseed") as conn, \
                conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM auth.users")
            assert cur.fetchone()[0] == 0
    finally:
        with db("postgres", dbname="postgres") as su, su.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS pc_noseed")


# --- rotate-key ------------------------------------------------------------

def test_rotate_key_refuses_a_loose_or_reused_key():
    old_id, old_hex = read_key(STACK_KEY)
    before = sealed_blobs()
    tag = uuid.uuid4().hex[:8]

    loose = write_key(os.path.join(KEYS, "loose-%s.key" % tag), old_id + 1,
                      mode=0o644)
    r = run_admin("rotate-key", loose)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "readable or writable by group or others" in r.stderr

    same = write_key(os.path.join(KEYS, "same-%s.key" % tag), old_id)
    r = run_admin("rotate-key", same)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "needs a new id" in r.stderr

    # The current key under another id is no new key either.
    copy = write_key(os.path.join(KEYS, "copy-%s.key" % tag), old_id + 1,
                     old_hex)
    r = run_admin("rotate-key", copy)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "current key" in r.stderr

    assert run_admin("rotate-key", os.path.join(KEYS, "missing.key")
                     ).returncode == 1
    assert sealed_blobs() == before
    for p in (loose, same, copy):
        os.unlink(p)


def test_rotate_key_refuses_when_a_secret_is_under_another_key():
    """A secret the current key cannot open stops the whole rotation:
    nothing is re-sealed, and the message says how many."""
    old_id, _ = read_key(STACK_KEY)
    tag = uuid.uuid4().hex[:8]
    foreign_key = write_key(os.path.join(KEYS, "foreign-%s.key" % tag),
                            old_id + 7000)
    stray = create_user("operator", site=key_site("foreign-" + tag,
                                                  foreign_key))
    new_key = write_key(os.path.join(KEYS, "unused-%s.key" % tag),
                        old_id + 1)
    try:
        before = sealed_blobs()
        assert key_ids()[old_id + 7000] == 1
        r = run_admin("rotate-key", new_key)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "1 are sealed under a key other" in r.stderr
        assert "nothing was changed" in r.stderr
        assert r.stdout == ""
        assert sealed_blobs() == before
    finally:
        # The stray secret would stop every later rotation.
        with db("pc_owner") as conn, conn.cursor() as cur:
            cur.execute("UPDATE auth.credentials c SET totp_state = 'none',"
                        " totp_secret = NULL, totp_key_id = NULL FROM "
                        "auth.users u WHERE u.id = c.user_id AND "
                        "u.username = %s", (stray["username"],))
            cur.execute("UPDATE auth.users SET disabled_at = now() "
                        "WHERE username = %s", (stray["username"],))
        os.unlink(foreign_key)
        os.unlink(new_key)
    assert set(key_ids()) == {old_id}


def rotate(site, key_path):
    r = run_admin("rotate-key", key_path, site=site)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def test_rotate_key_reseals_every_secret_and_back(make_server):
    old_id, old_hex = read_key(STACK_KEY)
    assert set(key_ids()) == {old_id}
    a, b, c = (create_user("operator"), create_user("auditor"),
               create_user("admin"))
    before = sealed_blobs()
    n = len(before)
    tag = uuid.uuid4().hex[:8]
    new_id = old_id + 1
    new_key = write_key(os.path.join(KEYS, "rotated-%s.key" % tag), new_id)
    back_key = os.path.join(KEYS, "back-%s.key" % tag)
    since = last_event_id()
    try:
        r = rotate(STACK, new_key)
        assert r.stdout == "re-sealed %d TOTP secret(s): key id %d -> %d\n" % (
            n, old_id, new_id)
        assert new_key in r.stderr and "Restart payconsole" in r.stderr
        assert STACK_KEY in r.stderr            # the file to destroy

        # Every secret re-sealed: new blob, new id in row and header.
        after = sealed_blobs()
        assert set(after) == set(before)
        assert key_ids() == {new_id: n}
        for uid, (blob, kid) in after.items():
            assert blob != before[uid][0]
            assert len(blob) == len(before[uid][0])
            assert int.from_bytes(blob[1:5], "big") == new_id
        ev = cli_events("kek.rotated", since)
        assert [(e[0], e[2], e[3]) for e in ev] == [
            ("cli:root", "success",
             {"from": old_id, "to": new_id, "secrets": n})]

        # A server still on the old key cannot open the secrets: fail
        # closed. One on the new key logs in users created before.
        old_srv = start_server(make_server, "cli-oldkey")
        settle()
        r = post_login(old_srv, c["username"], c["password"],
                       totp(c).now())
        assert r.status_code == 401, r.text
        old_srv.stop()
        clear_source_blocks()
        new_srv = start_server(make_server, "cli-newkey", new_key)
        login_ok(new_srv, a)
        new_srv.stop()

        # Rotating again with the same file: same id as the current key.
        r = run_admin("rotate-key", new_key,
                      site=key_site("rot-" + tag, new_key))
        assert r.returncode == 1 and "needs a new id" in r.stderr
    finally:
        # Back to the original key material (fresh id), at the old path.
        if new_id in key_ids():
            write_key(back_key, new_id + 1, old_hex)
            rotate(key_site("back-" + tag, new_key), back_key)
            tmp = STACK_KEY + ".new"
            with open(back_key) as f:
                text = f.read()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, STACK_KEY)
            os.unlink(back_key)
        os.unlink(new_key)

    assert read_key(STACK_KEY) == (new_id + 1, old_hex)
    assert os.stat(STACK_KEY).st_mode & 0o777 == 0o600
    assert key_ids() == {new_id + 1: n}
    # The stack's own policy and key file work for everyone afterwards.
    srv = start_server(make_server, "cli-restored")
    login_ok(srv, b)
    d = create_user("operator")
    login_ok(srv, d)
