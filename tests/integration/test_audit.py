"""Issue 6: the audit trail as auditors see it. The SHA-256 chain
(sealing, verification through the API and the CLI, tampering by the
database superuser detected and undone), alerts and their
acknowledgement, the personal-data inventory, and browsing the trail
with filters and keyset pages. Every view of the trail is itself audited.

The chain lives in the database every suite shares: a test that breaks it
puts every row back exactly (in finally blocks) and proves the chain is
intact again before it ends."""
import datetime
import re
import subprocess
import uuid
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.errors
import pytest
from psycopg2.extras import Json

from conftest import ADMIN, STACK, db, module_server
from people import (NO_SOURCE_BLOCK, assert_error, assert_invalid_credentials,
                    assert_security_headers, max_event_id, post_login, ready,
                    totp, wrong_password)

RUNTIME_ROLES = ("pc_auth", "pc_payments", "pc_auditor", "pc_ops")
EVENT_KEYS = {"id", "at", "actor_id", "actor_name", "actor_role", "source",
              "event", "target", "outcome", "details"}
ALERT_KEYS = {"id", "rule", "severity", "key", "first_seen", "last_seen",
              "count", "event_ids", "acknowledged_at", "acknowledged_by",
              "comment", "sources", "names", "window_start", "window_end",
              "cleared_at"}
VERIFY_KEYS = {"intact", "checked", "last_event", "problem",
               "problem_event", "unsealed"}
CARD = "4111111111111111"          # Luhn-valid test PAN
TZ = ZoneInfo("Asia/Tokyo")        # the policy timezone (conftest)


# --- fixtures -------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("no_source_blocks")


audit_server = module_server("audit", workers=2, policy=dict(
    NO_SOURCE_BLOCK, lockout_threshold="2"))


# --- helpers --------------------------------------------------------------

def fresh_target():
    return "t_audit_" + uuid.uuid4().hex[:10]


def record(actor_name, source, event, target, outcome, details=None):
    """One event through audit.record(), the function every recording
    function calls (internal since issue 12: the superuser calls it)."""
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT audit.record(NULL, %s, NULL, %s::inet, %s, %s, "
                    "%s, %s)", (actor_name, source, event, target, outcome,
                                Json(details or {})))
        return cur.fetchone()[0]


def seal_all():
    """Seal everything now (the internal sealer with minimum age 0, as
    the superuser) and return the last sealed event id."""
    with db("postgres") as conn, conn.cursor() as cur:
        for _ in range(100):
            cur.execute("SELECT audit.seal_due(interval '0 seconds', "
                        "10000, true)")
            if cur.fetchone()[0] == 0:
                break
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT max(event_id) FROM audit.chain")
        return cur.fetchone()[0]


def is_sealed(event_id):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit.chain WHERE event_id = %s",
                    (event_id,))
        return cur.fetchone()[0] == 1


def db_verify():
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT intact, problem, problem_event "
                    "FROM audit.verify()")
        return cur.fetchone()


def events_after(since, event, actor_name=None):
    """[(id, actor_name, actor_role, target, outcome, details)]."""
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT id, actor_name, actor_role, target, outcome, "
                    "details FROM audit.events WHERE id > %s AND event = %s "
                    "AND (%s::text IS NULL OR actor_name = %s) ORDER BY id",
                    (since, event, actor_name, actor_name))
        return cur.fetchall()


def event_row(event_id):
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT id, at, actor_id, actor_name, actor_role, "
                    "source::text, event, target, outcome, details "
                    "FROM audit.events WHERE id = %s", (event_id,))
        return cur.fetchone()


def tamper(sql, params):
    """As the database superuser, with the append-only triggers off for
    this session only."""
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute(sql, params)
        n = cur.rowcount
        cur.execute("RESET session_replication_role")
        return n


def cli_verify():
    return subprocess.run([ADMIN, "-d", STACK, "audit-verify"],
                          capture_output=True, text=True, timeout=120)


def api_verify(sess):
    r = sess.get("/api/audit/verify")
    assert r.status_code == 200, (r.status_code, r.text)
    assert_security_headers(r)
    body = r.json()
    assert set(body) == VERIFY_KEYS, body
    return body


def assert_intact(sess, at_least):
    """API and CLI both report the chain intact, up to an event at or
    after at_least."""
    v = api_verify(sess)
    assert v["intact"] is True, v
    assert v["problem"] is None and v["problem_event"] is None, v
    assert v["last_event"] >= at_least and v["checked"] >= 1, v
    assert isinstance(v["unsealed"], int) and v["unsealed"] >= 0, v
    c = cli_verify()
    assert c.returncode == 0, c.stdout + c.stderr
    m = re.search(r"intact up to event (\d+)", c.stdout)
    assert m and int(m.group(1)) >= at_least, c.stdout
    return v


def assert_broken(sess, problem, event_id):
    v = api_verify(sess)
    assert v["intact"] is False, v
    assert v["problem"] == problem and v["problem_event"] == event_id, v
    assert v["unsealed"] is None, v
    c = cli_verify()
    assert c.returncode == 1, c.stdout + c.stderr
    assert re.search(r"BROKEN: event %d %s\b" % (event_id, problem),
                     c.stdout), c.stdout
    return v


def browse(sess, query=""):
    r = sess.get("/api/audit/events" + (("?" + query) if query else ""))
    assert r.status_code == 200, (query, r.status_code, r.text)
    assert_security_headers(r)
    body = r.json()
    assert set(body) == {"events", "next_before"}, body
    for e in body["events"]:
        assert set(e) == EVENT_KEYS, e
        assert isinstance(e["id"], int) and isinstance(e["at"], int), e
        assert isinstance(e["details"], dict), e
    ids = [e["id"] for e in body["events"]]
    assert ids == sorted(ids, reverse=True), ids
    assert len(ids) == len(set(ids)), ids
    return body


def local(dt):
    """A time as the API takes it: local time in the policy timezone."""
    return dt.astimezone(TZ).strftime("%Y-%m-%dT%H:%M:%S")


def lock_account(srv, user, threshold=2):
    for _ in range(threshold):
        assert_invalid_credentials(post_login(
            srv, user["username"], wrong_password(user), totp(user).now()))


# --- 1. the chain ---------------------------------------------------------

def test_chain_detects_tampering_and_is_restored(audit_server):
    aud, adm, op = ready(audit_server, "auditor", "admin", "operator")
    target = fresh_target()
    victim = record("t_chain", "192.0.2.9", "test.chain", target, "info",
                    {"n": 1, "note": "altered then restored"})
    gone = record("t_chain", "192.0.2.9", "test.chain", target, "info",
                  {"n": 2, "note": "deleted then re-inserted"})
    assert seal_all() >= gone
    assert is_sealed(victim) and is_sealed(gone)

    # Only auditors verify.
    for s in (adm, op):
        assert_error(s.get("/api/audit/verify"), 403, "forbidden")

    before = max_event_id()
    assert_intact(aud, gone)
    ok = events_after(before, "audit.verified")
    assert any(e[1] == aud.username and e[2] == "auditor" and
               e[3] == "audit" and e[4] == "success" and
               e[5]["intact"] is True for e in ok), ok
    assert any(e[1] == "cli:root" and e[4] == "success" for e in ok), ok

    # The superuser changes one sealed event.
    original = event_row(victim)
    assert original[8] == "info"
    before = max_event_id()
    try:
        assert tamper("UPDATE audit.events SET outcome = 'success' "
                      "WHERE id = %s", (victim,)) == 1
        assert assert_broken(aud, "altered", victim)
        failed = events_after(before, "audit.verified")
        api_fail = [e for e in failed if e[1] == aud.username]
        assert len(api_fail) == 1 and api_fail[0][4] == "failure", failed
        assert api_fail[0][5] == {"intact": False,
                                  "problem_event": victim}, api_fail
        assert any(e[1] == "cli:root" and e[4] == "failure" and
                   e[5].get("problem_event") == victim
                   for e in failed), failed
        with db("pc_auditor") as conn, conn.cursor() as cur:
            cur.execute("SELECT severity FROM audit.alerts "
                        "WHERE rule = 'chain_verification_failed' "
                        "AND %s = ANY (event_ids)", (api_fail[0][0],))
            assert cur.fetchall() == [("alert",)]
        alerts = aud.get("/api/alerts").json()["alerts"]
        assert any(a["rule"] == "chain_verification_failed" and
                   api_fail[0][0] in a["event_ids"] for a in alerts), alerts
    finally:
        tamper("UPDATE audit.events SET outcome = %s WHERE id = %s",
               (original[8], victim))
    assert event_row(victim) == original
    assert_intact(aud, gone)

    # The superuser deletes one sealed event; put it back exactly.
    saved = event_row(gone)
    try:
        assert tamper("DELETE FROM audit.events WHERE id = %s",
                      (gone,)) == 1
        assert event_row(gone) is None
        assert_broken(aud, "missing", gone)
    finally:
        if event_row(gone) is None:
            tamper("INSERT INTO audit.events (id, at, actor_id, actor_name, "
                   "actor_role, source, event, target, outcome, details) "
                   "OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, %s, %s, "
                   "%s::inet, %s, %s, %s, %s)",
                   saved[:9] + (Json(saved[9]),))
    assert event_row(gone) == saved
    assert_intact(aud, gone)
    assert db_verify() == (True, None, None)


def test_chain_is_append_only_for_every_role():
    record("t_chain", None, "test.chain", fresh_target(), "info")
    first = seal_all()
    assert first is not None
    for role in RUNTIME_ROLES:
        for sql in ("UPDATE audit.chain SET sealed_at = now() "
                    "WHERE event_id = %s",
                    "DELETE FROM audit.chain WHERE event_id = %s"):
            with db(role) as conn, conn.cursor() as cur:
                # Not only the auditors' read-only default: privileges.
                cur.execute("SET default_transaction_read_only = off")
                with pytest.raises(
                        psycopg2.errors.InsufficientPrivilege) as ei:
                    cur.execute(sql, (first,))
                assert "permission denied" in str(ei.value), (role, sql,
                                                              ei.value)
        with db(role) as conn, conn.cursor() as cur:
            cur.execute("SET default_transaction_read_only = off")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("TRUNCATE audit.chain")

    # The owner holds every privilege; the trigger refuses all the same.
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT tableowner FROM pg_tables "
                    "WHERE schemaname = 'audit' AND tablename = 'chain'")
        assert cur.fetchone() == ("pc_owner",)
        for sql in ("UPDATE audit.chain SET sealed_at = now() "
                    "WHERE event_id = %s",
                    "UPDATE audit.chain SET hash = prev_hash "
                    "WHERE event_id = %s",
                    "DELETE FROM audit.chain WHERE event_id = %s"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege) as ei:
                cur.execute(sql, (first,))
            assert "append-only" in str(ei.value), (sql, ei.value)
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("TRUNCATE audit.chain")
    assert is_sealed(first)
    assert db_verify() == (True, None, None)


# --- 2. alerts ------------------------------------------------------------

def test_lockout_alert_listed_and_acknowledged(audit_server, new_user):
    srv = audit_server
    aud, adm, op = ready(srv, "auditor", "admin", "operator")
    victim = new_user()
    name = victim["username"]
    lock_account(srv, victim)
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM audit.events WHERE target = %s "
                    "AND event = 'account.locked'", (name,))
        locked = [r[0] for r in cur.fetchall()]
    assert len(locked) == 1, locked

    before = max_event_id()
    r = aud.get("/api/alerts")
    assert r.status_code == 200, (r.status_code, r.text)
    assert_security_headers(r)
    alerts = r.json()["alerts"]
    assert len(alerts) <= 200
    for a in alerts:
        assert set(a) == ALERT_KEYS, a
    mine = [a for a in alerts if a["rule"] == "lockout" and
            locked[0] in a["event_ids"]]
    assert len(mine) == 1, alerts
    alert = mine[0]
    # One alert per rule and account (migration 021), whatever the source.
    assert alert["key"] == name, alert
    assert alert["sources"] == 1 and alert["names"] == 1, alert
    assert alert["window_end"] - alert["window_start"] == 3600, alert
    assert alert["severity"] == "alert" and alert["count"] >= 1, alert
    assert alert["acknowledged_at"] is None, alert
    assert alert["acknowledged_by"] is None and alert["comment"] is None
    # Open alerts come first.
    opened = [a["acknowledged_at"] is None for a in alerts]
    assert opened == sorted(opened, reverse=True), opened
    viewed = events_after(before, "alerts.viewed", aud.username)
    assert len(viewed) == 1 and viewed[0][4] == "success", viewed

    # Admins see them too; operators do not, and cannot acknowledge.
    r = adm.get("/api/alerts")
    assert r.status_code == 200, (r.status_code, r.text)
    assert any(a["id"] == alert["id"] for a in r.json()["alerts"])
    path = "/api/alerts/%d/ack" % alert["id"]
    assert_error(op.get("/api/alerts"), 403, "forbidden")
    assert_error(op.post(path, {"comment": "not mine to close"}), 403,
                 "forbidden")

    # A card number in the comment is refused and nothing changes.
    assert_error(aud.post(path, {"comment": "customer card %s" % CARD}),
                 400, "card_number_refused")
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT acknowledged_at FROM audit.alerts WHERE id = %s",
                    (alert["id"],))
        assert cur.fetchone() == (None,)

    comment = "Checked with %s: forgot password. ロック確認" % name
    before = max_event_id()
    r = aud.post(path, {"comment": comment})
    assert r.status_code == 200, (r.status_code, r.text)
    assert_security_headers(r)
    assert r.json() == {"status": "acknowledged"}
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT acknowledged_at IS NOT NULL, acknowledged_by, "
                    "ack_comment FROM audit.alerts WHERE id = %s",
                    (alert["id"],))
        assert cur.fetchone() == (True, aud.username, comment)
    acked = events_after(before, "alert.acknowledged")
    assert len(acked) == 1, acked
    assert acked[0][1:5] == (aud.username, "auditor", str(alert["id"]),
                             "success"), acked
    assert acked[0][5] == {"comment": comment}, acked

    listed = [a for a in aud.get("/api/alerts").json()["alerts"]
              if a["id"] == alert["id"]]
    assert len(listed) == 1, listed
    assert listed[0]["acknowledged_by"] == aud.username
    assert listed[0]["comment"] == comment
    assert isinstance(listed[0]["acknowledged_at"], int)

    # Once only.
    before = max_event_id()
    assert_error(aud.post(path, {"comment": "again"}), 404, "not_found")
    assert_error(adm.post(path, {"comment": "again"}), 404, "not_found")
    assert_error(aud.post("/api/alerts/987654321/ack", {"comment": "x"}),
                 404, "not_found")
    assert events_after(before, "alert.acknowledged") == []
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT acknowledged_by, ack_comment FROM audit.alerts "
                    "WHERE id = %s", (alert["id"],))
        assert cur.fetchone() == (aud.username, comment)


# --- 3. inventory -----------------------------------------------------------

def can_read(role, schema, table, column):
    with db(role) as conn, conn.cursor() as cur:
        try:
            cur.execute('SELECT "%s" FROM "%s"."%s" LIMIT 1' % (
                column, schema, table))
            return True
        except psycopg2.errors.InsufficientPrivilege:
            return False


def test_inventory_lists_personal_data(audit_server):
    aud, adm, op = ready(audit_server, "auditor", "admin", "operator")
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT schema_name, table_name, column_name, category, "
                    "purpose FROM meta.personal_data")
        declared = sorted(cur.fetchall())
    assert len(declared) >= 1

    before = max_event_id()
    r = aud.get("/api/inventory")
    assert r.status_code == 200, (r.status_code, r.text)
    assert_security_headers(r)
    cols = r.json()["columns"]
    got = sorted((c["schema"], c["table"], c["column"], c["category"],
                  c["purpose"]) for c in cols)
    assert got == declared
    by = {}
    for c in cols:
        assert set(c) == {"schema", "table", "column", "category",
                          "purpose", "rows", "readable_by"}, c
        assert isinstance(c["rows"], int) and c["rows"] >= 0, c
        assert isinstance(c["readable_by"], list) and c["readable_by"], c
        by[(c["schema"], c["table"], c["column"])] = c

    name = by[("payments", "transactions", "cardholder_name")]
    assert "pc_payments" in name["readable_by"], name
    assert "pc_auditor" in name["readable_by"], name
    assert "pc_auth" not in name["readable_by"], name
    assert can_read("pc_payments", "payments", "transactions",
                    "cardholder_name")
    assert can_read("pc_auditor", "payments", "transactions",
                    "cardholder_name")
    assert not can_read("pc_auth", "payments", "transactions",
                        "cardholder_name")
    disp = by[("auth", "users", "display_name")]
    assert "pc_auth" in disp["readable_by"], disp
    assert can_read("pc_auth", "auth", "users", "display_name")
    # Row counts are the tables' (the seeded transactions are stable).
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM payments.transactions")
        assert name["rows"] == cur.fetchone()[0] > 0

    viewed = events_after(before, "inventory.viewed", aud.username)
    assert len(viewed) == 1, viewed
    assert viewed[0][2:5] == ("auditor", "audit", "success"), viewed
    assert viewed[0][5] == {"columns": len(declared)}, viewed

    # Admins see the same list; operators nothing.
    r = adm.get("/api/inventory")
    assert r.status_code == 200, (r.status_code, r.text)
    assert sorted((c["schema"], c["table"], c["column"], c["category"],
                   c["purpose"]) for c in r.json()["columns"]) == declared
    assert_error(op.get("/api/inventory"), 403, "forbidden")


# --- 4. browsing the trail ---------------------------------------------------

def test_events_browse_filters_and_keyset(audit_server, new_user):
    srv = audit_server
    aud, adm, op = ready(srv, "auditor", "admin", "operator")
    start = datetime.datetime.now(datetime.timezone.utc) - \
        datetime.timedelta(seconds=2)
    # Five events about one fresh user: user.created (cli:root, success),
    # two login.failure and account.locked (127.0.0.1), and one recorded
    # from another address.
    u = new_user()
    name = u["username"]
    lock_account(srv, u)
    other = "t_other_" + uuid.uuid4().hex[:8]
    record(other, "192.0.2.7", "test.browse", name, "info", {"k": "v"})
    end = datetime.datetime.now(datetime.timezone.utc) + \
        datetime.timedelta(seconds=2)
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT id, actor_name, host(source), event, outcome "
                    "FROM audit.events WHERE target = %s ORDER BY id DESC",
                    (name,))
        rows = cur.fetchall()
    assert [r[3] for r in rows] == ["test.browse", "account.locked",
                                    "login.failure", "login.failure",
                                    "user.created"], rows
    all_ids = [r[0] for r in rows]

    def ids(query):
        return [e["id"] for e in browse(aud, query)["events"]]

    def expect(pred):
        return [r[0] for r in rows if pred(r)]

    t = "target=" + name
    body = browse(aud, t)
    assert [e["id"] for e in body["events"]] == all_ids
    assert body["next_before"] is None
    ev = {e["id"]: e for e in body["events"]}
    created = ev[all_ids[-1]]
    assert created["actor_name"] == "cli:root" and \
        created["actor_role"] == "cli" and created["source"] is None
    assert created["outcome"] == "success" and created["target"] == name
    browsed = ev[all_ids[0]]
    assert browsed["details"] == {"k": "v"} and browsed["actor_id"] is None
    assert browsed["source"] == "192.0.2.7" and browsed["actor_name"] == other
    for e in body["events"]:
        assert start.timestamp() - 1 <= e["at"] <= end.timestamp() + 1, e

    assert ids(t + "&event=login.failure") == \
        expect(lambda r: r[3] == "login.failure")
    assert ids(t + "&actor=" + name) == expect(lambda r: r[1] == name)
    assert len(ids(t + "&actor=" + name)) == 3
    assert ids("actor=" + other) == [all_ids[0]]
    assert ids(t + "&outcome=failure") == \
        expect(lambda r: r[4] == "failure")
    assert ids(t + "&outcome=denied") == expect(lambda r: r[4] == "denied")
    assert ids(t + "&source=127.0.0.1") == \
        expect(lambda r: r[2] == "127.0.0.1")
    assert len(ids(t + "&source=127.0.0.1")) == 3
    assert ids(t + "&source=192.0.2.7") == [all_ids[0]]
    assert ids(t + "&event=login.failure&outcome=success") == []
    assert ids("target=" + fresh_target()) == []

    # Filters alone: every row answered matches.
    for query, key, want in (("event=login.failure", "event",
                              "login.failure"),
                             ("outcome=denied", "outcome", "denied"),
                             ("source=127.0.0.1", "source", "127.0.0.1"),
                             ("actor=" + name, "actor_name", name)):
        evs = browse(aud, query + "&limit=200")["events"]
        assert evs and all(e[key] == want for e in evs), (query, evs)

    # Times are local to the policy timezone.
    assert ids(t + "&from=" + local(start)) == all_ids
    assert ids(t + "&from=" + local(start) + "&to=" + local(end)) == \
        all_ids
    assert ids(t + "&to=" + local(start)) == []
    assert ids(t + "&from=" + local(end)) == []

    # Keyset pages, newest first.
    seen = []
    pages = []
    before = None
    for _ in range(5):
        q = t + "&limit=2" + ("&before=" + before if before else "")
        body = browse(aud, q)
        page = [e["id"] for e in body["events"]]
        pages.append(page)
        seen.extend(page)
        before = body["next_before"]
        if before is None:
            break
        assert isinstance(before, str) and before == str(page[-1]), body
    assert [len(p) for p in pages] == [2, 2, 1], pages
    assert seen == all_ids and len(set(seen)) == 5

    # Refusals.
    for bad in ("bogus=1", t + "&colour=red", "limit=0", "limit=201",
                "limit=abc", "before=-1", "before=12ab", "from=yesterday",
                "event=x&event=y", t + "&"):
        assert_error(aud.get("/api/audit/events?" + bad), 400,
                     "invalid_request")
    assert_error(aud.get("/api/audit/events?target=" + CARD), 400,
                 "card_number_refused")
    assert_error(op.get("/api/audit/events"), 403, "forbidden")
    assert_error(adm.get("/api/audit/events"), 403, "forbidden")

    # Browsing is itself on the record, and browsable.
    mark = max_event_id()
    body = browse(aud, t + "&outcome=failure")
    viewed = events_after(mark, "audit.events_viewed")
    assert len(viewed) == 1, viewed
    assert viewed[0][1:5] == (aud.username, "auditor", "audit",
                              "success"), viewed
    assert viewed[0][5] == {"rows": len(body["events"])}, viewed
    mine = browse(aud, "event=audit.events_viewed&actor=" + aud.username)
    assert viewed[0][0] in [e["id"] for e in mine["events"]]
    assert all(e["actor_role"] == "auditor" and e["source"] == "127.0.0.1"
               for e in mine["events"]), mine
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit.events WHERE actor_name = %s "
                    "AND event = 'audit.events_viewed' AND actor_id IS NULL",
                    (op.username,))
        assert cur.fetchone()[0] == 0


def test_events_browse_malformed_values_are_bad_requests(audit_server):
    aud, = ready(audit_server, "auditor")
    wrong = []
    for q in ("source=999.1.1.1", "source=not-an-ip",
              "from=2024-13-45T00:00:00", "to=2024-01-01Tab:cd:ef"):
        r = aud.get("/api/audit/events?" + q)
        if r.status_code != 400 or r.json().get("error") != \
                "invalid_request":
            wrong.append("%s: %d %s" % (q, r.status_code, r.text[:100]))
    assert not wrong, "\n".join(wrong)


def test_sealer_never_steps_over_a_young_event():
    """An event with a later id but an earlier time (the superuser can
    write one; a clock can step back) must not be sealed ahead of a
    younger event with a smaller id, which would leave that one outside
    the chain for good."""
    young = record("t_seal", None, "test.young", fresh_target(), "info")
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO audit.events (at, actor_name, event, "
                    "outcome) VALUES (now() - interval '1 day', 't_seal', "
                    "'test.backdated', 'info') RETURNING id")
        backdated = cur.fetchone()[0]
    assert backdated > young
    with db("pc_auth") as conn, conn.cursor() as cur:
        cur.execute("SELECT audit.seal()")      # the 60 s minimum age
    assert not is_sealed(young) and not is_sealed(backdated)
    assert db_verify() == (True, None, None)
    seal_all()
    assert is_sealed(young) and is_sealed(backdated)
    assert db_verify() == (True, None, None)
