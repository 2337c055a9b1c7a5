"""Issue 2: the foundation. TLS through the patched key manager, privilege
separation, role separation in PostgreSQL, the migration runner, the
fail-closed policy parser, demo data."""
import datetime
import email.utils
import os
import pwd
import re
import shutil
import subprocess
import tempfile

import psycopg2
import pytest
import requests

from conftest import (ADMIN, SOCK, STACK, TOP, db, demo_accounts,
                      openssl_client, policy_text)


def test_healthz_over_tls13(server):
    r = openssl_client(server.port, "-tls1_3")
    out = r.stdout.decode("utf-8", "replace")
    assert "TLSv1.3" in out
    assert "HTTP/1.1 200" in out
    assert '"database":"ok"' in out


def test_healthz_over_tls12_ecdhe_aead(server):
    r = openssl_client(server.port, "-tls1_2")
    out = r.stdout.decode("utf-8", "replace")
    assert "HTTP/1.1 200" in out
    m = re.search(r"Cipher is (\S+)", out)
    assert m, out
    assert m.group(1).startswith("ECDHE-")
    assert "GCM" in m.group(1) or "CHACHA20" in m.group(1)


@pytest.mark.parametrize("flag", ["-tls1_1", "-tls1"])
def test_old_tls_refused(server, flag):
    # SECLEVEL=0 lets the client offer the old protocol; the refusal must
    # come from the server.
    r = openssl_client(server.port, flag, "-cipher", "DEFAULT@SECLEVEL=0")
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    assert "HTTP/1.1" not in out
    assert r.returncode != 0
    # The server answered the ClientHello with alert 70.
    assert "alert protocol version" in err


def test_tls12_non_aead_cipher_refused(server):
    r = openssl_client(server.port, "-tls1_2", "-cipher", "AES128-SHA")
    assert "HTTP/1.1" not in r.stdout.decode("utf-8", "replace")
    assert r.returncode != 0
    assert "alert handshake failure" in r.stderr.decode("utf-8", "replace")


def test_key_manager_runs_apart_from_workers(server):
    procs = server.pids()
    keymgr = [p for p in procs if "keymgr" in p[2]]
    workers = [p for p in procs if re.search(r"\[wrk \d+\]", p[2])]
    assert keymgr, procs
    assert keymgr[0][1] == "pckeymgr"
    # The key manager sees only the TLS directory.
    assert os.readlink("/proc/%d/root" % keymgr[0][0]) == \
        os.path.join(server.dir, "tls")
    assert workers, procs
    # seccomp filter mode in every child.
    for pid, _, _ in keymgr + workers:
        with open("/proc/%d/status" % pid) as f:
            assert re.search(r"^Seccomp:\s+2$", f.read(), re.M), pid
    for pid, user, _ in workers:
        assert user == "payconsole"
        # Workers are chrooted into the stack's empty root.
        assert os.readlink("/proc/%d/root" % pid) == \
            os.path.join(STACK, "root")
        # ... and cannot read the TLS key or the key file from there.
        assert not os.path.exists(os.path.join(STACK, "root", "tls"))


def test_security_headers_on_errors(server):
    r = requests.get(server.url + "/no/such/path", verify=False)
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"
    assert "max-age=31536000" in r.headers["Strict-Transport-Security"]
    csp = r.headers["Content-Security-Policy"]
    for part in ("default-src 'self'", "object-src 'none'",
                 "base-uri 'none'", "frame-ancestors 'none'"):
        assert part in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"
    assert "Server" not in r.headers


def test_date_on_every_answer(server):
    """RFC 9110 6.6.1 (src/kore/07-date-header.patch): one Date in
    IMF-fixdate, GMT, on the application's answers, the assets and
    Kore's own refusals."""
    answers = [
        requests.get(server.url + "/healthz", verify=False),
        requests.get(server.url + "/", verify=False),
        requests.get(server.url + "/no/such/path", verify=False),
        requests.post(server.url + "/healthz", verify=False),
        requests.get(server.url + "/healthz", verify=False,
                     headers={"X-Big": "a" * 20000}),
    ]
    assert [r.status_code for r in answers] == [200, 200, 404, 405, 431]
    for r in answers:
        date = r.headers.get("Date")
        assert date and re.fullmatch(
            r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|"
            r"Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT",
            date), (r.status_code, date)
        sent = email.utils.parsedate_to_datetime(date)
        # The server's clock is this machine's: the same day, give or
        # take (a sanity check of the source, not a timing).
        skew = abs((sent - datetime.datetime.now(datetime.timezone.utc))
                   .total_seconds())
        assert skew < 3600, (date, skew)


def test_wrong_method_is_405_json(server):
    r = requests.post(server.url + "/healthz", verify=False)
    assert r.status_code == 405
    assert r.json()["error"] == "method_not_allowed"


# --- role separation, proven by real SQL as each real role -------------

RUNTIME_ROLES = ["pc_auth", "pc_payments", "pc_auditor", "pc_ops"]


@pytest.mark.parametrize("table", ["auth.credentials", "auth.sessions",
                                   "auth.users", "auth.lockout"])
def test_payments_role_cannot_read_auth_secrets(table):
    with db("pc_payments") as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("SELECT * FROM %s LIMIT 1" % table)


def test_payments_role_sees_directory_without_secrets():
    with db("pc_payments") as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM auth.directory LIMIT 1")
        cols = [d.name for d in cur.description]
    assert "password_hash" not in cols and "totp_secret" not in cols
    assert "username" in cols


# What each runtime role may call, by design (migrations 005-014). A new
# function is private until a migration grants it and this list says so.
EXECUTE_MATRIX = {
    "pc_auth": {
        "audit.acknowledge", "audit.chain_anchor", "audit.record",
        "audit.review_confirm", "audit.review_digest", "audit.review_json",
        "audit.review_list", "audit.review_rows", "audit.review_signoff",
        "audit.review_state", "audit.seal", "audit.verify",
        "audit.week_bounds", "auth.admin_check", "auth.admin_create_user",
        "auth.admin_reset_password", "auth.admin_revoke_sessions",
        "auth.admin_set_disabled", "auth.admin_set_role",
        "auth.admin_start_enrolment", "auth.admin_unlock",
        "auth.login_begin", "auth.login_failed", "auth.login_succeeded",
        "auth.logout", "auth.name_failed", "auth.otp_confirmed",
        "auth.outside_hours", "auth.own_factors", "auth.password_changed",
        "auth.reauthenticated", "auth.rehashed", "auth.revoke_all",
        "auth.session_check", "meta.inventory"},
    "pc_payments": {
        "audit.record", "payments.operate", "payments.refund_list",
        "payments.txn_json", "payments.view_transaction"},
    "pc_auditor": {
        "audit.chain_anchor", "audit.event_digest", "audit.review_digest",
        "audit.review_json", "audit.review_list", "audit.review_rows",
        "audit.review_state", "audit.verify", "audit.week_bounds",
        "meta.inventory", "payments.refund_list", "payments.txn_json"},
    "pc_ops": {
        "audit.chain_anchor", "audit.event_digest", "audit.export_range",
        "audit.purge", "audit.purge_range", "audit.record", "audit.seal",
        "audit.verify"},
}
APP_SCHEMAS = ("auth", "payments", "audit", "meta")


@pytest.mark.parametrize("role", RUNTIME_ROLES)
def test_each_role_executes_only_its_functions(role):
    """Least privilege on functions: before 014 the payment functions
    were PUBLIC (an auditor could call payments.operate) and pc_auth
    could read any account's factors through auth.own_credentials."""
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT n.nspname || '.' || p.proname FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = ANY(%s) AND p.prorettype <> 'trigger'::regtype "
            "AND has_function_privilege(%s, p.oid, 'EXECUTE')",
            (list(APP_SCHEMAS), role))
        may = {r[0] for r in cur.fetchall()}
    assert may == EXECUTE_MATRIX[role], (
        "granted beyond the design: %s; missing: %s" % (
            sorted(may - EXECUTE_MATRIX[role]),
            sorted(EXECUTE_MATRIX[role] - may)))


def test_no_application_function_is_public():
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT n.nspname || '.' || p.proname FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = ANY(%s) AND (p.proacl IS NULL OR EXISTS ("
            "SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0))",
            (list(APP_SCHEMAS),))
        public = sorted(r[0] for r in cur.fetchall())
        # The owner's default for functions still to come.
        cur.execute(
            "SELECT count(*) FROM pg_default_acl d "
            "JOIN pg_roles r ON r.oid = d.defaclrole "
            "WHERE r.rolname = 'pc_owner' AND d.defaclnamespace = 0 "
            "AND d.defaclobjtype = 'f' AND NOT EXISTS ("
            "SELECT 1 FROM aclexplode(d.defaclacl) a WHERE a.grantee = 0)")
        private_default = cur.fetchone()[0]
    assert public == [], public
    assert private_default == 1


@pytest.mark.parametrize("role", RUNTIME_ROLES)
@pytest.mark.parametrize("stmt", [
    "UPDATE audit.events SET outcome = 'success'",
    "DELETE FROM audit.events",
    "TRUNCATE audit.events",
])
def test_no_runtime_role_changes_audit_rows(role, stmt):
    conn = psycopg2.connect(host=SOCK, dbname="payconsole", user=role)
    try:
        with conn.cursor() as cur:
            with pytest.raises(psycopg2.Error) as e:
                cur.execute(stmt)
        assert e.value.pgcode in ("42501", "25006")  # denied / read only
    finally:
        conn.close()


def test_owner_cannot_change_audit_rows_either():
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit.events")
        assert cur.fetchone()[0] > 0
        with pytest.raises(psycopg2.errors.InsufficientPrivilege) as e:
            cur.execute("UPDATE audit.events SET outcome = 'failure'")
        assert "append-only" in str(e.value)
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("DELETE FROM audit.events")


def test_auditor_role_is_read_only():
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM payments.transactions")
        assert cur.fetchone()[0] > 0
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("UPDATE payments.transactions SET amount = 1")
        assert e.value.pgcode in ("42501", "25006")


def test_runtime_roles_are_not_privileged():
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT rolname, rolsuper, rolcreaterole, rolcreatedb,"
                    " rolbypassrls FROM pg_roles WHERE rolname LIKE 'pc_%'")
        rows = cur.fetchall()
    assert {r[0] for r in rows} >= set(RUNTIME_ROLES + ["pc_owner"])
    for name, *flags in rows:
        assert not any(flags), name


def test_server_os_user_cannot_be_owner():
    # The ident map lets the server's OS user be runtime roles only.
    out = subprocess.run(
        ["runuser", "-u", "payconsole", "--", "psql", "-X", "-h", SOCK,
         "-d", "payconsole", "-U", "pc_owner", "-c", "SELECT 1"],
        capture_output=True, text=True)
    assert out.returncode != 0
    assert "authentication failed" in out.stderr


# --- the migration runner ---------------------------------------------

@pytest.fixture
def scratch_db():
    name = "pc_migtest"
    with db("postgres", dbname="postgres") as su, su.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS pc_migtest")
        cur.execute("CREATE DATABASE pc_migtest OWNER pc_owner")
    yield name
    with db("postgres", dbname="postgres") as su, su.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS pc_migtest")


def run_migrate(dbname, migdir):
    env = dict(os.environ, PC_MIGRATIONS=migdir)
    return subprocess.run([os.path.join(TOP, "scripts", "migrate"), SOCK,
                           dbname], capture_output=True, text=True, env=env)


def test_migrations_recorded_and_changed_file_refused(scratch_db, tmp_path):
    mig = tmp_path / "migrations"
    shutil.copytree(os.path.join(TOP, "migrations"), mig)
    r = run_migrate(scratch_db, str(mig))
    assert r.returncode == 0, r.stderr
    files = sorted(f for f in os.listdir(mig) if re.match(r"\d{3}_", f))
    with db("pc_owner", scratch_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT name, sha256 FROM meta.schema_migrations "
                    "ORDER BY name")
        rows = cur.fetchall()
    assert [r[0] for r in rows] == files
    for name, sha in rows:
        out = subprocess.run(["sha256sum", str(mig / name)],
                             capture_output=True, text=True).stdout
        assert out.split()[0] == sha

    # Running again changes nothing.
    r = run_migrate(scratch_db, str(mig))
    assert r.returncode == 0 and "applying" not in r.stdout

    # An applied file that changed stops everything.
    with open(mig / files[1], "a") as f:
        f.write("\n-- edited after it was applied\n")
    r = run_migrate(scratch_db, str(mig))
    assert r.returncode != 0
    assert "REFUSED" in r.stderr and files[1] in r.stderr


def test_failed_migration_leaves_nothing_behind(scratch_db, tmp_path):
    mig = tmp_path / "migrations"
    shutil.copytree(os.path.join(TOP, "migrations"), mig)
    (mig / "998_half.sql").write_text(
        "CREATE TABLE audit.half_done (x int);\nSELECT 1/0;\n")
    r = run_migrate(scratch_db, str(mig))
    assert r.returncode != 0
    with db("pc_owner", scratch_db) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('audit.half_done')")
        assert cur.fetchone()[0] is None
        cur.execute("SELECT count(*) FROM meta.schema_migrations "
                    "WHERE name = '998_half.sql'")
        assert cur.fetchone()[0] == 0


# --- policy: fail closed with file:line -------------------------------

def test_policy_typo_stops_startup_with_file_and_line(make_server):
    text = policy_text(extra_lines=["allow_cdir 10.0.0.0/8"])
    line = text.splitlines().index("allow_cdir 10.0.0.0/8") + 1
    srv = make_server("typo", raw_policy=text)
    srv.start(wait=False)
    assert srv.proc.wait(timeout=30) != 0
    assert "policy.conf:%d:" % line in srv.output()
    assert "allow_cdir" in srv.output()


def test_policy_bad_value_stops_startup(make_server):
    srv = make_server("badval", policy={"lockout_threshold": "11"})
    srv.start(wait=False)
    assert srv.proc.wait(timeout=30) != 0
    assert "policy.conf:" in srv.output()
    assert "lockout_threshold" in srv.output()


def test_policy_digest_logged_at_start(server):
    out = server.output()
    sha = subprocess.run(["sha256sum", server.policy_path],
                         capture_output=True, text=True).stdout.split()[0]
    assert sha in out


def test_key_file_readable_by_others_refused(make_server, tmp_path):
    key = os.path.join(STACK, "keys", "loose.key")
    shutil.copy(os.path.join(STACK, "keys", "totp.key"), key)
    os.chmod(key, 0o644)
    srv = make_server("loosekey", policy={"totp_key_file": key})
    srv.start(wait=False)
    assert srv.proc.wait(timeout=30) != 0
    assert "group or others" in srv.output()
    assert open(key).read().split()[1] not in srv.output()


# --- demo data ---------------------------------------------------------

def test_demo_accounts_listed_for_each_role():
    accts = demo_accounts()
    assert set(accts) == {"operator", "admin", "auditor"}
    for a in accts.values():
        assert a["otpauth_uri"].startswith("otpauth://totp/payconsole:")
        assert "issuer=payconsole" in a["otpauth_uri"]
        assert len(a["password"]) >= 12
    st = os.stat(os.path.join(STACK, "demo", "accounts.json"))
    assert st.st_mode & 0o077 == 0
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT username, role, totp_state FROM auth.directory")
        rows = {r[0]: r for r in cur.fetchall()}
    for a in accts.values():
        assert rows[a["username"]][1] == a["role"]
        assert rows[a["username"]][2] == "enrolled"


def test_totp_secrets_at_rest_are_sealed():
    accts = demo_accounts()
    import base64
    with db("pc_auth") as conn, conn.cursor() as cur:
        for a in accts.values():
            cur.execute("SELECT c.totp_secret, c.totp_key_id FROM "
                        "auth.credentials c JOIN auth.users u ON "
                        "u.id = c.user_id WHERE u.username = %s",
                        (a["username"],))
            blob, kid = cur.fetchone()
            b32 = a["totp_secret_base32"]
            raw = base64.b32decode(b32 + "=" * (-len(b32) % 8))
            assert raw not in bytes(blob)
            assert len(bytes(blob)) == len(raw) + 33
            assert kid == int(open(os.path.join(
                STACK, "keys", "totp.key")).read().split()[0])


def test_production_policy_refuses_demo_seeding(tmp_path):
    site = tmp_path / "prod"
    site.mkdir()
    (site / "policy.conf").write_text(policy_text({
        "environment": "production", "argon2_t": None,
        "argon2_m_kib": None}))
    r = subprocess.run([ADMIN, "-d", str(site), "seed-demo",
                        str(site / "out.json"), "10"],
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "production" in r.stderr
    assert not (site / "out.json").exists()


# --- allowlist (accept-time) ------------------------------------------

def test_source_not_on_allowlist_gets_no_http_answer(server):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", server.port))
    try:
        s.sendall(b"\x16\x03\x01\x00\x05hello")
        data = s.recv(100)
    except ConnectionResetError:
        data = b""
    finally:
        s.close()
    assert data == b""
    # 127.0.0.1 is still served.
    assert requests.get(server.url + "/healthz", verify=False).status_code \
        == 200
    assert "refused connection from 127.0.0.2" in server.output()


def test_source_that_keeps_trying_raises_an_alert(server):
    import socket
    import time
    # Counted per worker: 20 over two workers puts 10 on one of them.
    for _ in range(20):
        s = socket.socket()
        s.bind(("127.0.0.3", 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", server.port))
        try:
            assert s.recv(10) == b""
        except ConnectionResetError:
            pass
        s.close()
    # Recorded in the background by the worker that refused the tenth.
    deadline = time.time() + 20
    row = None
    while time.time() < deadline and row is None:
        with db("pc_auditor") as conn, conn.cursor() as cur:
            cur.execute("SELECT a.severity, e.source::text, e.details "
                        "FROM audit.alerts a JOIN audit.events e "
                        "ON e.id = ANY(a.event_ids) "
                        "WHERE a.rule = 'repeated_denied_connections' "
                        "AND e.source = '127.0.0.3'")
            row = cur.fetchone()
        time.sleep(0.2)
    assert row is not None, server.output()
    assert row[0] == "alert"
    assert row[2]["count"] >= 10


def test_hours_notice_is_public_and_follows_policy(make_server):
    """The login page shows the allowed hours: GET /api/hours answers
    without a session, from the policy in force."""
    srv = make_server("hours-notice", policy={
        "hours": "00:00-00:01", "timezone": "UTC"}).start()
    r = requests.get(srv.url + "/api/hours", verify=False, timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["hours"] == "00:00-00:01"
    assert body["timezone"] == "UTC"
    assert isinstance(body["open"], bool)
    assert set(body) == {"hours", "timezone", "open", "window_end"}
    # Nothing more: no version, no policy digest, no allowlist.
    assert "allow" not in r.text and "digest" not in r.text
