"""Control-failure alarms (issue 16, part 4; PCI DSS 10.7.2; migration
028, src/control.c). Each alarm here is caused by the fault it names,
seen open (an alert with first_seen and no cleared_at, a control.failed
record), then the fault is removed and the alarm seen cleared (cleared_at
set, a control.cleared record).

The server runs against a database of its own: the faults (a tampered
event, a revoked grant, connections refused) would otherwise reach every
other suite, and another server on the shared database would run its own
checks against the same alarms. Its checks run every second.

Not here: clock_jump (moving the host's clock would move it for every
process on the machine; the decision is tests/unit/test_clockjump.c and
control.c only reads the two clocks) and syslog_down (test_siem.py,
with the collector it is about)."""
import os
import subprocess
import time
import uuid

import psycopg2
import pytest

from conftest import (ADMIN, SOCK, STACK, Server, create_db, create_user,
                      db, drop_db, record_secret, seal_all)
from people import STEP, change_password, sign_in

TAG = uuid.uuid4().hex[:8]
DBNAME = "pc_ctl_" + TAG
KEYS = os.path.join(STACK, "keys")
CKPT_ADD = ("audit.checkpoint_add(bigint, bigint, bytea, bigint, bytea, "
            "bytea, bytea)")


# --- helpers --------------------------------------------------------------

def keygen():
    """A checkpoint signing key through the CLI (the secret scan looks
    for it in every log afterwards)."""
    key = os.path.join(KEYS, "ctl-%s.key" % TAG)
    r = subprocess.run([ADMIN, "-d", STACK, "checkpoint-keygen", key],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    with open(key) as f:
        record_secret("checkpoint_key", "".join(f.read().splitlines()[1:-1]))
    return key


def superuser():
    return db("postgres", dbname=DBNAME)


def alarm(rule, key="*"):
    """The newest alarm of a rule and key: a dict, or None."""
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT id, first_seen, last_seen, cleared_at, "
                    "event_ids FROM audit.alerts WHERE rule = %s AND "
                    "key = %s ORDER BY id DESC LIMIT 1", (rule, key))
        row = cur.fetchone()
    if row is None:
        return None
    return dict(zip(("id", "first_seen", "last_seen", "cleared_at",
                     "event_ids"), row))


def wait_alarm(rule, is_open, key="*", after=0, timeout=40):
    """The alarm (newer than id after) once it is open / cleared."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        a = alarm(rule, key)
        if a is not None and a["id"] > after and \
                (a["cleared_at"] is None) == is_open:
            return a
        time.sleep(0.3)
    raise AssertionError("%s (%s) not %s: %r" % (
        rule, key, "open" if is_open else "cleared", alarm(rule, key)))


def newest_alarm_id(rule, key="*"):
    a = alarm(rule, key)
    return a["id"] if a is not None else 0


def unix(t):
    return int(t.timestamp() + 0.5)


def records(ids):
    """(event, target, outcome) of these events, by id."""
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT event, target, outcome FROM audit.events "
                    "WHERE id = ANY (%s) ORDER BY id", (list(ids),))
        return cur.fetchall()


def assert_opened_and_cleared(rule, a):
    assert a["cleared_at"] >= a["first_seen"]
    assert records(a["event_ids"]) == [
        ("control.failed", rule, "failure"),
        ("control.cleared", rule, "success")]


def owner_sql(*stmts):
    """As an insider holding pc_owner: audit triggers off meanwhile."""
    with db("pc_owner", dbname=DBNAME) as conn, conn.cursor() as cur:
        cur.execute("BEGIN")
        for t in ("events", "chain"):
            cur.execute("ALTER TABLE audit.%s DISABLE TRIGGER USER" % t)
        for s in stmts:
            cur.execute(*s)
        for t in ("events", "chain"):
            cur.execute("ALTER TABLE audit.%s ENABLE TRIGGER USER" % t)
        cur.execute("COMMIT")


@pytest.fixture(scope="module")
def srv():
    create_db(DBNAME, seeding=True)
    key = keygen()
    name = "ctl-" + TAG
    s = Server(name, workers=1, policy={
        "db_name": DBNAME, "control_check_seconds": "1",
        "chain_verify_seconds": "1", "checkpoint_key_file": key,
        "checkpoint_file": os.path.join(STACK, "sites", name,
                                        "checkpoints.log"),
        "checkpoint_interval_seconds": "1"}).start()
    yield s
    s.stop()
    with db("postgres", dbname="postgres") as su, su.cursor() as cur:
        cur.execute("ALTER DATABASE %s ALLOW_CONNECTIONS true" % DBNAME)
    drop_db(DBNAME)
    os.unlink(key)


# --- the alarms -------------------------------------------------------------

def test_policy_file_changed_on_disk(srv):
    """The policy file (it holds the allowlist) edited in place after
    start: config_changed opens; put back as it was: it clears. An
    auditor sees both times in GET /api/alerts."""
    u = create_user("auditor", site=srv.dir)
    sess = sign_in(srv, u, offset=-STEP)
    change_password(sess)
    with open(srv.policy_path, "rb") as f:
        loaded = f.read()
    before = newest_alarm_id("config_changed")
    with open(srv.policy_path, "ab") as f:
        f.write(b"allow_cidr 0.0.0.0/0\n")
    try:
        opened = wait_alarm("config_changed", True, after=before)
    finally:
        with open(srv.policy_path, "wb") as f:
            f.write(loaded)
    cleared = wait_alarm("config_changed", False, after=before)
    assert cleared["id"] == opened["id"]
    assert cleared["first_seen"] == opened["first_seen"]
    assert_opened_and_cleared("config_changed", cleared)

    r = sess.get("/api/alerts")
    assert r.status_code == 200, r.text
    shown = [a for a in r.json()["alerts"] if a["id"] == cleared["id"]]
    assert len(shown) == 1, r.text
    assert shown[0]["rule"] == "config_changed"
    assert shown[0]["severity"] == "alert"
    # Unix seconds, rounded as the server's ::bigint rounds.
    assert shown[0]["first_seen"] == unix(cleared["first_seen"])
    assert shown[0]["cleared_at"] == unix(cleared["cleared_at"])


def test_policy_file_replaced_on_disk(srv):
    """Replaced by a rename (as editors save), even with the same bytes:
    the file read at start is gone from disk until the next start."""
    before = newest_alarm_id("config_changed")
    with open(srv.policy_path, "rb") as f:
        loaded = f.read()
    tmp = srv.policy_path + ".new"
    with open(tmp, "wb") as f:
        f.write(loaded)
    os.rename(tmp, srv.policy_path)
    a = wait_alarm("config_changed", True, after=before)
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT details->>'why' FROM audit.events "
                    "WHERE id = %s", (a["event_ids"][0],))
        assert cur.fetchone()[0] == "replaced or removed"
    # Still open a few checks later: nothing on disk is the loaded file.
    time.sleep(3)
    assert alarm("config_changed")["cleared_at"] is None


def test_sealing_stalled(srv):
    """The sealer held off (a transaction that records holds the lock it
    waits for) while an unsealed event is older than 5 min: the alarm
    opens; the sealer free again, it seals and the alarm clears."""
    before = newest_alarm_id("sealing_stalled")
    hold = psycopg2.connect(host=SOCK, dbname=DBNAME, user="postgres")
    hold.autocommit = True
    try:
        with hold.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock_shared(727272)")
        with superuser() as conn, conn.cursor() as cur:
            cur.execute("SELECT audit.record(NULL, 'cli:test', NULL, NULL, "
                        "'test.control', 'stall', 'info', '{}')")
            ev = cur.fetchone()[0]
        # It and every unsealed event before it: the sealer seals in
        # order, from events older than 60 s.
        owner_sql(("UPDATE audit.events SET at = at - interval "
                   "'10 minutes' WHERE id <= %s AND id > (SELECT "
                   "coalesce(max(event_id), 0) FROM audit.chain)", (ev,)))
        wait_alarm("sealing_stalled", True, after=before)
    finally:
        hold.close()
    # The seal runs every 10 s.
    a = wait_alarm("sealing_stalled", False, after=before)
    assert_opened_and_cleared("sealing_stalled", a)


def test_chain_broken(srv):
    """A sealed event rewritten by the owner with the triggers off: the
    periodic verification opens chain_broken; put back, it clears."""
    last = seal_all(DBNAME)
    assert last is not None
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT target FROM audit.events WHERE id = %s",
                    (last,))
        target = cur.fetchone()[0]
    before = newest_alarm_id("chain_broken")
    owner_sql(("UPDATE audit.events SET target = 'rewritten' "
               "WHERE id = %s", (last,)))
    try:
        a = wait_alarm("chain_broken", True, after=before)
    finally:
        owner_sql(("UPDATE audit.events SET target = %s WHERE id = %s",
                   (target, last)))
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT details->>'problem', "
                    "(details->>'problem_event')::bigint "
                    "FROM audit.events WHERE id = %s", (a["event_ids"][0],))
        assert cur.fetchone() == ("altered", last)
    a = wait_alarm("chain_broken", False, after=before)
    assert_opened_and_cleared("chain_broken", a)


def test_checkpoint_failed(srv):
    """The checkpoint cannot be stored (the worker's role lost the
    right to store it): checkpoint_failed opens at the next round;
    the right given back, the next round clears it."""
    before = newest_alarm_id("checkpoint_failed")
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("REVOKE EXECUTE ON FUNCTION %s FROM pc_auth" % CKPT_ADD)
    try:
        a = wait_alarm("checkpoint_failed", True, after=before)
    finally:
        with superuser() as conn, conn.cursor() as cur:
            cur.execute("GRANT EXECUTE ON FUNCTION %s TO pc_auth" % CKPT_ADD)
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT details->>'step' FROM audit.events "
                    "WHERE id = %s", (a["event_ids"][0],))
        assert cur.fetchone()[0] == "store"
    a = wait_alarm("checkpoint_failed", False, after=before)
    assert_opened_and_cleared("checkpoint_failed", a)


def test_db_unreachable(srv):
    """The database refuses the worker's connections for more than
    30 s: once it takes them again, the worker reports the outage it
    could not report while it lasted, opened at its start and cleared
    now."""
    before = newest_alarm_id("db_unreachable", "worker 1")
    with db("postgres", dbname="postgres") as su, su.cursor() as cur:
        start = time.time()
        cur.execute("ALTER DATABASE %s ALLOW_CONNECTIONS false" % DBNAME)
        cur.execute("SELECT pg_terminate_backend(pid) FROM "
                    "pg_stat_activity WHERE datname = %s", (DBNAME,))
        # Nothing can be reported meanwhile (nor read: the database
        # takes no connection from anyone).
        time.sleep(36)
        cur.execute("ALTER DATABASE %s ALLOW_CONNECTIONS true" % DBNAME)
        back = time.time()
    try:
        a = wait_alarm("db_unreachable", False, key="worker 1",
                       after=before)
    except AssertionError:
        raise AssertionError(srv.output()[-4000:])
    assert start - 1 <= a["first_seen"].timestamp() <= start + 3, (
        start, a)
    assert a["cleared_at"].timestamp() >= back - 1
    assert a["cleared_at"].timestamp() - a["first_seen"].timestamp() > 30
    assert_opened_and_cleared("db_unreachable", a)
