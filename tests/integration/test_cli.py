"""payconsole-admin on the server host: bootstrap-admin (the first admin,
only once, even when two runs race), list-users, and rotate-key (every
TOTP secret re-sealed under a new key-encryption key, all or nothing).

rotate-key changes the key of the whole shared stack, which the other
test files rely on (their servers read keys/totp.key). The rotation test
therefore rotates back to the original key material under a fresh id and
puts that file at keys/totp.key before it ends, and checks that a server
started from keys/totp.key still logs users in."""
import json
import os
import subprocess
import uuid

import pytest

from conftest import ADMIN, STACK, Server, create_user, db, policy_text
from test_login import (NO_SOURCE_BLOCK, clear_source_blocks, login_ok,
                        post_login, settle, totp)

KEYS = os.path.join(STACK, "keys")
STACK_KEY = os.path.join(KEYS, "totp.key")
QR_BLOCKS = ("\u2580", "\u2584", "\u2588")
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


def admin_count():
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM auth.directory "
                    "WHERE role = 'admin'")
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

def test_bootstrap_admin_refused_while_an_admin_exists():
    assert admin_count() >= 1          # the demo admin
    name = "t_boot_" + uuid.uuid4().hex[:8]
    since = last_event_id()
    r = run_admin("bootstrap-admin", name, "Should Not Exist")
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout == ""
    assert "refused" in r.stderr and "already exist" in r.stderr
    assert directory(name) is None
    ev = cli_events("admin.bootstrap", since)
    assert [(e[0], e[1], e[2], e[3]["reason"]) for e in ev] == [
        ("cli:root", name, "denied", "admin_exists")]
    assert cli_events("user.created", since) == []


@pytest.fixture
def no_admins():
    """Every admin is an operator for the duration of the test: the
    stack was seeded with a demo admin, and pc_ops may only reach the
    one database, so bootstrapping is tested there."""
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("UPDATE auth.users SET role = 'operator' "
                    "WHERE role = 'admin' RETURNING id")
        demoted = [r[0] for r in cur.fetchall()]
    try:
        assert admin_count() == 0
        yield
    finally:
        with db("pc_owner") as conn, conn.cursor() as cur:
            cur.execute("UPDATE auth.users SET role = 'admin' "
                        "WHERE id = ANY(%s)", (demoted,))


def test_bootstrap_admin_creates_the_first_admin_once(no_admins,
                                                      make_server):
    names = ["t_boot_" + uuid.uuid4().hex[:8] for _ in range(3)]
    since = last_event_id()

    # Two runs at once: the table lock lets exactly one through.
    procs = [subprocess.Popen([ADMIN, "-d", STACK, "bootstrap-admin", n,
                               "最初の管理者 %s" % n],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for n in names[:2]]
    outs = [p.communicate(timeout=TIMEOUT) for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 1], (codes, outs)
    win = codes.index(0)
    name, (out, err) = names[win], outs[win]
    lose_out, lose_err = outs[1 - win]
    assert lose_out == "" and "refused" in lose_err
    assert directory(names[1 - win]) is None

    # stdout: one JSON line, as create-user prints.
    assert out.count("\n") == 1
    user = json.loads(out)
    assert user["username"] == name and user["role"] == "admin"
    assert user["otpauth_uri"].startswith("otpauth://totp/payconsole:")
    assert "secret=" + user["totp_secret_base32"] in user["otpauth_uri"]
    # stderr: the QR code (half blocks, many lines) and the URI.
    qr_lines = [l for l in err.splitlines()
                if l and set(l) <= set(QR_BLOCKS + (" ",))]
    assert len(qr_lines) >= 15, err
    assert any(c in err for c in QR_BLOCKS[:2])
    assert len({len(l) for l in qr_lines}) == 1      # a square, one width
    assert user["otpauth_uri"] in err
    assert user["password"] not in err
    assert "change" in err

    assert directory(name) == ("admin", "enrolled", True, False)
    created = cli_events("user.created", since)
    assert [(e[0], e[1], e[2], e[3]) for e in created] == [
        ("cli:root", name, "success", {"role": "admin"})]

    # Now an admin exists: the third run is refused.
    r = run_admin("bootstrap-admin", names[2], "Third")
    assert r.returncode == 1 and "refused" in r.stderr
    assert directory(names[2]) is None
    assert admin_count() == 1

    # The new admin logs in with what the command printed.
    user["display_name"] = "最初の管理者 %s" % name
    srv = start_server(make_server, "cli-boot")
    body = login_ok(srv, user).json()
    assert body["user"]["role"] == "admin"
    assert body["user"]["username"] == name
    assert body["must_change_password"] is True


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
