"""Issue 2: the foundation. TLS through the patched key manager, privilege
separation, role separation in PostgreSQL, the migration runner, the
fail-closed policy parser, demo data."""
import base64
import datetime
import email.utils
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import uuid

import psycopg2
import pytest
import requests

from conftest import (ADMIN, SOCK, STACK, TOP, db, demo_accounts,
                      openssl_client, policy_text)
from people import ready


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


# What each runtime role may call, by design (migrations 005-016). A new
# function is private until a migration grants it and this list says so.
EXECUTE_MATRIX = {
    "pc_auth": {
        "approvals.approve", "approvals.expire_due", "approvals.list",
        "approvals.reject", "approvals.request_user", "approvals.withdraw",
        "audit.acknowledge", "audit.chain_anchor", "audit.checkpoint_add",
        "audit.checkpoint_head", "audit.control_check",
        "audit.control_failure", "audit.note",
        "audit.note_system", "audit.review_confirm", "audit.review_digest",
        "audit.review_json", "audit.review_list", "audit.review_rows",
        "audit.review_signoff", "audit.review_state", "audit.seal",
        "audit.siem_next",
        "audit.verify", "audit.week_bounds", "auth.admin_disable",
        "auth.admin_revoke_sessions", "auth.admin_unlock",
        "auth.enrolment_check", "auth.enrolment_finish",
        "auth.enrolment_revoke", "auth.enrolment_stage",
        "auth.enrolment_staged", "auth.login_begin", "auth.login_failed",
        "auth.login_reserve", "auth.attempt_failed",
        "auth.own_factors_reserve", "auth.attempts_sweep",
        "auth.attempt_settled",
        "auth.login_succeeded", "auth.logout", "auth.name_failed",
        "auth.outside_hours", "auth.own_factors", "auth.password_changed",
        "auth.reauthenticated", "auth.rehashed", "auth.session_check",
        "auth.source_busy", "auth.device_failed", "auth.device_signed_in",
        "auth.devices_own", "auth.device_revoke",
        "auth.admin_revoke_devices", "auth.disable_inactive",
        "audit.half_bounds", "audit.period_bounds", "audit.period_digest",
        "audit.account_review_accounts", "audit.account_review_history",
        "audit.account_review_digest", "audit.account_review_json",
        "audit.day_bounds", "audit.digest_threshold", "audit.digest_events",
        "audit.digest_figures", "audit.digest_sha256",
        "audit.checkpoint_latest", "audit.digest_json", "audit.digest_due",
        "meta.inventory"},
    "pc_payments": {
        "approvals.approve", "approvals.list", "approvals.reject",
        "approvals.withdraw", "audit.note", "payments.operate",
        "payments.refund_list",
        "payments.txn_json", "payments.view_transaction"},
    "pc_auditor": {
        "approvals.list", "audit.chain_anchor", "audit.event_digest",
        "audit.review_digest", "audit.review_json", "audit.review_list",
        "audit.review_rows", "audit.review_state", "audit.verify",
        "audit.week_bounds", "audit.half_bounds", "audit.period_bounds",
        "audit.period_digest", "audit.account_review_accounts",
        "audit.account_review_history", "audit.account_review_digest",
        "audit.account_review_json", "meta.inventory",
        "audit.day_bounds", "audit.digest_threshold", "audit.digest_events",
        "audit.digest_figures", "audit.digest_sha256",
        "audit.checkpoint_latest", "audit.digest_json",
        "payments.refund_list", "payments.txn_json"},
    "pc_ops": {
        "audit.chain_anchor", "audit.event_digest", "audit.export_range",
        "audit.note_cli", "audit.purge", "audit.purge_range", "audit.seal",
        "audit.verify", "auth.bootstrap_account", "auth.seed_account",
        "auth.seed_credentials", "audit.report_pending",
        "audit.report_delivered"},
}
APP_SCHEMAS = ("auth", "payments", "audit", "meta", "approvals")


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


# --- a database that trusts no runtime role (issue 12), as behaviour ----
# Real SQL as each role the server logs in as: every write a compromised
# worker would try, and every forgery of an actor, is refused.

SERVER_ROLES = ["pc_auth", "pc_payments", "pc_auditor"]
# 42501 insufficient_privilege; 25006 read-only transaction (auditor).
DENIED = ("42501", "25006")
TABLE_WRITES = {
    "mint a session": "INSERT INTO auth.sessions (token_hash, user_id, "
    "idle_expires_at, absolute_expires_at) SELECT sha256('x'), min(id), "
    "now() + interval '1 hour', now() + interval '1 hour' FROM auth.users",
    "change a role": "UPDATE auth.users SET role = 'admin' "
    "WHERE role = 'operator'",
    "set a password": "UPDATE auth.credentials SET password_hash = "
    "password_hash",
    "lift a lockout": "UPDATE auth.lockout SET locked_until = NULL",
    "forget a source block": "DELETE FROM auth.source_blocks",
    "move money": "UPDATE payments.transactions SET refunded_amount = "
    "captured_amount, status = 'refunded' WHERE status = 'captured'",
    "write a refund": "INSERT INTO payments.refunds (transaction_id, "
    "amount, reason, actor_id, actor_name) SELECT min(id), 1, 'x', 1, "
    "'x' FROM payments.transactions",
    "replay an answer": "UPDATE payments.idempotency SET status = 200",
    "write an event": "INSERT INTO audit.events (event, outcome) "
    "VALUES ('login.success', 'success')",
    "close an alert": "UPDATE audit.alerts SET acknowledged_at = now()",
    "sign a review": "INSERT INTO audit.reviews (week, signed_off_by, "
    "signed_off_name, signoff_comment) VALUES ('2020-W01', 1, 'x', 'x')",
    "approve a request": "UPDATE approvals.requests SET status = "
    "'approved'",
    "open an enrolment": "INSERT INTO auth.enrolments (user_id, reason, "
    "code_hash_1, code_hash_2, expires_at) SELECT min(id), 'create', "
    "sha256('a'), sha256('b'), now() + interval '1 day' FROM auth.users",
}


@pytest.mark.parametrize("role", SERVER_ROLES)
@pytest.mark.parametrize("what", sorted(TABLE_WRITES))
def test_runtime_roles_cannot_write_tables(role, what):
    with db(role) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(TABLE_WRITES[what])
    assert e.value.pgcode in DENIED, (role, what, e.value.pgcode,
                                      str(e.value))


def test_no_runtime_role_holds_a_table_write():
    """The catalogue agrees with the behaviour: not one table of the
    application is writable by a role the server logs in as."""
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT r.rolname, n.nspname || '.' || c.relname, p.priv "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN unnest(%s::name[]) r(rolname) "
            "CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', "
            "'TRUNCATE']) p(priv) "
            "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v') "
            "AND has_table_privilege(r.rolname, c.oid, p.priv)",
            (SERVER_ROLES, list(APP_SCHEMAS)))
        assert cur.fetchall() == []
        # Column rights would be a way round: none either.
        cur.execute(
            "SELECT grantee, table_schema, table_name, column_name "
            "FROM information_schema.column_privileges WHERE grantee = "
            "ANY(%s) AND privilege_type IN ('INSERT', 'UPDATE')",
            (SERVER_ROLES,))
        assert cur.fetchall() == []


def test_functions_belong_to_a_role_nobody_logs_in_as():
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT rolcanlogin, rolsuper FROM pg_roles "
                    "WHERE rolname = 'pc_api'")
        assert cur.fetchone() == (False, False)
        cur.execute(
            "SELECT n.nspname || '.' || p.proname, p.proowner::regrole::text,"
            " p.prosecdef, coalesce(p.proconfig, '{}') FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = ANY(%s)", (list(APP_SCHEMAS),))
        rows = cur.fetchall()
    assert len(rows) > 50
    assert [r[0] for r in rows if r[1] != "pc_api"] == []
    # Every SECURITY DEFINER function pins its search_path.
    assert [r[0] for r in rows if r[2] and
            "search_path=pg_catalog" not in r[3]] == []


@pytest.fixture(scope="module")
def live(server):
    """Live sessions of an operator, an admin and an auditor: their raw
    tokens (what a worker holds while it serves them)."""
    sessions = ready(server, "operator", "admin", "auditor")
    return {s.login_body["user"]["role"]: {
        "id": s.id, "name": s.username,
        "token": base64.urlsafe_b64decode(s.token + "=")}
        for s in sessions}


def refused(role, sql, params, codes):
    with db(role) as conn, conn.cursor() as cur:
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(sql, params)
    assert e.value.pgcode in codes, (role, sql, e.value.pgcode,
                                     str(e.value))


def test_no_runtime_role_records_for_another_actor(live):
    victim = live["admin"]
    for role in ("pc_auth", "pc_payments", "pc_ops"):
        refused(role, "SELECT audit.record(%s, %s, 'admin', NULL, "
                "'user.created', 'x', 'success', '{}'::jsonb)",
                (victim["id"], victim["name"]), ("42501",))
    tok = psycopg2.Binary(live["operator"]["token"])
    # pc_payments writes transaction events of the session's own user...
    with db("pc_payments") as conn, conn.cursor() as cur:
        cur.execute("SELECT audit.note(%s, NULL, 'transactions.searched', "
                    "'payments.transactions', 'success', '{}'::jsonb, NULL)",
                    (tok,))
        eid = cur.fetchone()[0]
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_id, actor_name, actor_role FROM "
                    "audit.events WHERE id = %s", (eid,))
        assert cur.fetchone() == (live["operator"]["id"],
                                  live["operator"]["name"], "operator")
    # ... and nothing else: no other namespace, no other login role's
    # events, no role the session does not have.
    for role, event in (("pc_payments", "user.created"),
                        ("pc_payments", "login.success"),
                        ("pc_payments", "audit.events_viewed"),
                        ("pc_auth", "transactions.searched"),
                        ("pc_auth", "audit.events_viewed")):
        refused(role, "SELECT audit.note(%s, NULL, %s, 'x', 'success', "
                "'{}'::jsonb, NULL)", (tok, event), ("PCA03",))
    # A rule the event does not carry: refused too.
    refused("pc_payments", "SELECT audit.note(%s, NULL, "
            "'transactions.searched', 'x', 'success', '{}'::jsonb, "
            "'privilege_change')", (tok,), ("PCA03",))
    # The system's own events name no actor and only those events.
    refused("pc_auth", "SELECT audit.note_system('user.created', 'x', "
            "'success', '{}'::jsonb, NULL, NULL)", None, ("PCA03",))
    refused("pc_payments", "SELECT audit.note_system('server.started', "
            "'x', 'info', '{}'::jsonb, NULL, NULL)", None, ("42501",))
    # The CLI: as cli:<user> only.
    refused("pc_ops", "SELECT audit.note_cli(%s, 'users.listed', NULL, "
            "'success', '{}'::jsonb)", (victim["name"],), ("PCA03",))


def test_the_hash_of_a_token_proves_nothing(live):
    """The database stores sha256(token); a worker that could read the
    hashes still cannot act as their sessions."""
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT sha256(%s)", (psycopg2.Binary(
            live["admin"]["token"]),))
        h = cur.fetchone()[0]
    refused("pc_auth", "SELECT auth.admin_unlock(%s, NULL, %s)",
            (psycopg2.Binary(bytes(h)), live["operator"]["id"]), ("PCA01",))
    refused("pc_auth", "SELECT audit.note(%s, NULL, 'alerts.viewed', 'x', "
            "'success', '{}'::jsonb, NULL)",
            (psycopg2.Binary(bytes(32)),), ("PCA01",))
    # And the server's roles cannot read the hashes in the first place.
    for role in SERVER_ROLES:
        refused(role, "SELECT token_hash FROM auth.sessions", None,
                ("42501",))


def test_seal_takes_no_age():
    for role in ("pc_auth", "pc_ops"):
        for sql in ("SELECT audit.seal(interval '-1 hour')",
                    "SELECT audit.seal(interval '-1 hour', 10000)",
                    "SELECT audit.seal_due(interval '-1 hour', 10000, "
                    "false)"):
            refused(role, sql, None, ("42501", "42883"))
        with db(role) as conn, conn.cursor() as cur:
            cur.execute("SELECT audit.seal()")
            assert cur.fetchone()[0] >= 0


def test_signatures_cannot_be_forged(live):
    aud, op = live["auditor"], live["operator"]
    # The old forms, which took the actor's id, are gone.
    refused("pc_auth", "SELECT audit.review_signoff('2020-W01', 'UTC', "
            "%s, NULL, 'x')", (aud["id"],), ("42883",))
    refused("pc_auth", "SELECT audit.review_confirm('2020-W01', 'UTC', "
            "%s, NULL, 'x')", (aud["id"],), ("42883",))
    refused("pc_auth", "SELECT audit.acknowledge(1, %s, %s, 'auditor', "
            "NULL, 'x')", (aud["id"], aud["name"]), ("42883",))
    # A made-up token is no one; an operator's session signs nothing.
    refused("pc_auth", "SELECT audit.review_signoff(%s, NULL, '2020-W01', "
            "'UTC', 'x')", (psycopg2.Binary(bytes(range(32))),), ("PCA01",))
    refused("pc_auth", "SELECT audit.review_signoff(%s, NULL, '2020-W01', "
            "'UTC', 'x')", (psycopg2.Binary(op["token"]),), ("PCA03",))


def test_no_runtime_role_moves_money_or_privilege_by_function(live):
    adm = psycopg2.Binary(live["admin"]["token"])
    op = psycopg2.Binary(live["operator"]["token"])
    # An admin's session moves no money, through any role.
    refused("pc_payments", "SELECT * FROM payments.operate(%s, NULL, "
            "'refund', 1, 1, 'k', repeat('0', 64), 1, 'x', 0, 3600)",
            (adm,), ("PCA03",))
    # Account requests belong to pc_auth and admins; approvals are
    # refused to the other login role.
    refused("pc_payments", "SELECT * FROM approvals.request_user(%s, "
            "NULL, 'user.create', NULL, 'x', 'x', 'admin', %s, 3600, "
            "3600)", (adm, psycopg2.Binary(bytes(16))), ("42501",))
    refused("pc_auth", "SELECT * FROM approvals.request_user(%s, NULL, "
            "'user.create', NULL, 'x', 'x', 'admin', %s, 3600, 3600)",
            (op, psycopg2.Binary(bytes(16))), ("PCA03",))
    refused("pc_auditor", "SELECT * FROM approvals.approve(%s, NULL, 1, "
            "repeat('0', 64), NULL, NULL)", (adm,), ("42501",))
    # The old one-person functions are gone.
    for sql in ("SELECT auth.admin_set_role(1, NULL, 2, 'admin')",
                "SELECT auth.admin_create_user(1, NULL, 'x', 'x', 'admin', "
                "'x')",
                "SELECT auth.admin_reset_password(1, NULL, 2, 'x')"):
        refused("pc_auth", sql, None, ("42883",))


def test_a_minted_session_leaves_its_record(live):
    """The one function that opens a session takes a user id (the factors
    were checked in the worker): whoever calls it, the session and its
    login.success record commit together, and what it takes from the
    caller is bounded: a TOTP step far from the database's clock (which
    would use up every code of the account for years) is refused, and
    lifetimes are cut to the policy's limits."""
    token = bytes(range(100, 132))
    sql = ("SELECT outcome, session_id FROM auth.login_succeeded(%s, NULL, "
           "%s, %s, 100000, now() + interval '10 years', NULL)")
    refused("pc_auth", sql, (live["auditor"]["id"], 9999999999,
                             psycopg2.Binary(token)), ("22023",))
    step = int(time.time() // 30) + 1
    with db("pc_auth") as conn, conn.cursor() as cur:
        cur.execute(sql, (live["auditor"]["id"], step,
                          psycopg2.Binary(token)))
        outcome, sid = cur.fetchone()
    assert outcome == "ok"
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_id, details->>'session' FROM audit.events "
                    "WHERE event = 'login.success' AND details->>'session' "
                    "= %s", (str(sid),))
        assert cur.fetchall() == [(live["auditor"]["id"], str(sid))]
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT idle_expires_at - created_at <= interval "
                    "'900 seconds', absolute_expires_at - created_at <= "
                    "interval '12 hours' FROM auth.sessions WHERE id = %s",
                    (sid,))
        assert cur.fetchone() == (True, True)
        cur.execute("UPDATE auth.sessions SET revoked_at = now() "
                    "WHERE id = %s", (sid,))


def test_an_open_transaction_cannot_leave_an_event_out_of_the_chain():
    """A role may lift its own statement_timeout and keep a transaction
    that recorded an event open past the sealer's 60 s: the sealer then
    waits (seals nothing) instead of linking past the invisible event,
    which would have broken the chain for good."""
    tag = "t_open_" + uuid.uuid4().hex[:8]
    held = psycopg2.connect(host=SOCK, dbname="payconsole", user="postgres")
    try:
        with held.cursor() as cur:
            cur.execute("SELECT audit.record(NULL, %s, NULL, NULL, "
                        "'test.held', %s, 'info', '{}'::jsonb)", (tag, tag))
            first = cur.fetchone()[0]
        with db("postgres") as conn, conn.cursor() as cur:
            cur.execute("SELECT audit.record(NULL, %s, NULL, NULL, "
                        "'test.later', %s, 'info', '{}'::jsonb)", (tag, tag))
            later = cur.fetchone()[0]
            assert later > first
            # No minimum age, no waiting: the server's way, minus the age.
            cur.execute("SELECT audit.seal_due(interval '0 seconds', "
                        "10000, false)")
            assert cur.fetchone()[0] == 0
            cur.execute("SELECT count(*) FROM audit.chain WHERE event_id "
                        "= %s", (later,))
            assert cur.fetchone()[0] == 0
        held.commit()
    finally:
        held.close()
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT audit.seal_due(interval '0 seconds', 10000, "
                    "true)")
        cur.execute("SELECT count(*) FROM audit.chain WHERE event_id IN "
                    "(%s, %s)", (first, later))
        assert cur.fetchone()[0] == 2
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT intact, problem FROM audit.verify()")
        assert cur.fetchone() == (True, None)


def test_a_worker_cannot_raise_the_refund_threshold(live):
    """payments.operate takes the policy's threshold from the server, but
    never applies more than the owner's ceiling (100000 unless set), and
    counts the payment's refunded total."""
    tok = psycopg2.Binary(live["operator"]["token"])
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO payments.transactions (merchant_order_id, amount, "
            "status, card_brand, card_last4, cardholder_name, "
            "cardholder_email, captured_amount) VALUES (%s, 500000, "
            "'captured', 'jcb', '0001', 'Ceiling Test', 'c@example.com', "
            "500000) RETURNING id", ("CEIL-" + uuid.uuid4().hex[:10],))
        tid = cur.fetchone()[0]
    sql = ("SELECT status FROM payments.operate(%s, NULL, 'refund', %s, "
           "%s, %s, repeat('a', 64), %s, 'ceiling', %s, 3600)")
    with db("pc_payments") as conn, conn.cursor() as cur:
        # A huge (or no) threshold from the caller: the ceiling holds.
        for key, threshold in (("c1", 4000000000), ("c2", None)):
            cur.execute(sql, (tok, tid, 1, key + uuid.uuid4().hex[:8],
                              150000, threshold))
            assert cur.fetchone()[0] == 202
        # Under the ceiling, refunds go through one by one...
        cur.execute(sql, (tok, tid, 1, "c3" + uuid.uuid4().hex[:8], 60000,
                          4000000000))
        assert cur.fetchone()[0] == 201
        # ... until the refunded total passes it.
        cur.execute(sql, (tok, tid, 2, "c4" + uuid.uuid4().hex[:8], 60000,
                          4000000000))
        assert cur.fetchone()[0] == 202
    refused("pc_payments", "SELECT * FROM payments.operate(%s, NULL, "
            "'refund', %s, NULL, 'k', repeat('a', 64), 1, 'x', 0, 3600)",
            (tok, tid), ("22023",))


def test_a_worker_cannot_bend_the_lockout(live):
    op = live["operator"]
    # Not a reason the server has: refused.
    refused("pc_auth", "SELECT auth.login_failed(%s, 'x', NULL, "
            "'whatever I like', 5, 1800, 86400, 20, 600, 900)",
            (op["id"],), ("22023",))
    victim = live["admin"]
    mark = None
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM audit.events")
        mark = cur.fetchone()[0]
    with db("pc_auth") as conn, conn.cursor() as cur:
        # Another account's name, a ten-year lock, one failure to lock.
        cur.execute("SELECT auth.login_failed(%s, 'someone_else', NULL, "
                    "'bad_password', 1, 315360000, 315360000, 1000, 60, 60)",
                    (victim["id"],))
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_name, target FROM audit.events WHERE "
                    "id > %s AND actor_id = %s", (mark, victim["id"]))
        rows = cur.fetchall()
        assert rows and all(r == (victim["name"], victim["name"])
                            for r in rows), rows
        cur.execute("SELECT locked_until <= now() + interval '1 day 1 "
                    "minute' FROM auth.lockout WHERE user_id = %s",
                    (victim["id"],))
        assert cur.fetchone()[0] is True
        cur.execute("UPDATE auth.lockout SET locked_until = NULL, "
                    "failures = 0 WHERE user_id = %s", (victim["id"],))


def test_no_parameter_of_the_server_reaches_the_log():
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT r.rolname, s.setconfig FROM pg_roles r "
                    "LEFT JOIN pg_db_role_setting s ON s.setrole = r.oid "
                    "AND s.setdatabase = 0 WHERE r.rolname = ANY(%s)",
                    (SERVER_ROLES + ["pc_ops"],))
        rows = cur.fetchall()
    assert len(rows) == 4
    for role, conf in rows:
        assert "log_parameter_max_length=0" in conf, (role, conf)
        assert "log_parameter_max_length_on_error=0" in conf, (role, conf)
    # A superuser-only setting: the role cannot turn it back on.
    refused("pc_auth", "SET log_parameter_max_length = -1", None,
            ("42501",))


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
