"""Issue 13: one alert per rule and account (or per rule), per window,
not one per username@source (migrations/021_alerts_per_rule_and_window.sql).
A storm from many sources against one account, or against many names, or
blocking many sources, gives one open alert per rule and key, which
counts every occurrence and the distinct sources and names; after the
window (moved back in the database here, never waited for) a new alert
opens. Acknowledging works as before, and the actor of a listed event
still cannot acknowledge it."""
import datetime
import uuid
from zoneinfo import ZoneInfo

from conftest import db
from people import NO_SOURCE_BLOCK, assert_error, name_tag, ready
from wire import login_from

# Every loopback address may connect, so that one test has many sources.
LOOPBACK = {"allow_cidr": ["127.0.0.0/8", "::1/128"]}
WINDOW = 3600                      # audit.alert_rules, every rule here


def open_alerts(sess, rule, key):
    """The open alerts of a rule and key, as GET /api/alerts lists
    them, oldest first."""
    r = sess.get("/api/alerts")
    assert r.status_code == 200, (r.status_code, r.text)
    return sorted((a for a in r.json()["alerts"] if a["rule"] == rule and
                   a["key"] == key and a["acknowledged_at"] is None),
                  key=lambda a: a["id"])


def end_window(rule, key):
    """As if the open alert's hour had passed: its window start moves
    back a day (the database superuser, as the chain tests tamper)."""
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("UPDATE audit.alerts SET window_start = window_start "
                    "- interval '1 day' WHERE rule = %s AND key = %s AND "
                    "acknowledged_at IS NULL", (rule, key))
        return cur.rowcount


def event_sources(ids):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT host(source), target FROM audit.events "
                    "WHERE id = ANY (%s)", (list(ids),))
        return cur.fetchall()


def test_a_storm_on_one_account_is_one_alert_per_window(make_server):
    """An account locked at its first failure, then tried from 30
    sources: one attempt_while_locked alert for the account (count 30,
    30 sources, one name), not 30. An hour later, a new one. The locked
    account's owner, an auditor, cannot acknowledge it; another can."""
    srv = make_server("alerts_storm", workers=1, policy=dict(
        LOOPBACK, **NO_SOURCE_BLOCK, lockout_threshold="1",
        lockout_seconds="600")).start()
    victim, other = ready(srv, "auditor", "auditor")
    name = victim.username
    wrong = "Not-" + victim.user["password"]
    assert login_from(srv, "127.0.1.1", name, wrong) == 401     # locks
    sources = ["127.0.2.%d" % i for i in range(1, 31)]
    for s in sources:
        assert login_from(srv, s, name, wrong) == 401

    lockout, = open_alerts(other, "lockout", name)
    assert (lockout["count"], lockout["sources"], lockout["names"]) == \
        (1, 1, 1), lockout
    storm = open_alerts(other, "attempt_while_locked", name)
    assert len(storm) == 1, storm
    a = storm[0]
    assert (a["count"], a["sources"], a["names"]) == (30, 30, 1), a
    assert a["severity"] == "alert" and a["first_seen"] <= a["last_seen"]
    assert a["window_end"] - a["window_start"] == WINDOW, a
    assert len(a["event_ids"]) == 30, a
    assert sorted(event_sources(a["event_ids"])) == sorted(
        (s, name) for s in sources)

    # The window has run out: the next attempt opens a second alert;
    # the first keeps what it had and stays open.
    assert end_window("attempt_while_locked", name) == 1
    assert login_from(srv, "127.0.3.1", name, wrong) == 401
    old, new = open_alerts(other, "attempt_while_locked", name)
    assert old["id"] == a["id"] and old["count"] == 30, old
    assert old["event_ids"] == a["event_ids"], old
    assert (new["count"], new["sources"], new["names"]) == (1, 1, 1), new
    assert event_sources(new["event_ids"]) == [("127.0.3.1", name)]

    # The events are the locked auditor's own attempts: someone else
    # acknowledges, as before.
    for al in (old, new):
        assert_error(victim.post("/api/alerts/%d/ack" % al["id"],
                                 {"comment": "mine"}), 403,
                     "self_forbidden")
    r = other.post("/api/alerts/%d/ack" % old["id"],
                   {"comment": "storm on %s checked" % name})
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json() == {"status": "acknowledged"}
    # The open one of this hour takes the next attempt.
    assert login_from(srv, "127.0.3.2", name, wrong) == 401
    left = open_alerts(other, "attempt_while_locked", name)
    assert [(x["id"], x["count"], x["sources"]) for x in left] == \
        [(new["id"], 2, 2)], left


def test_a_storm_of_unknown_names_is_one_alert(make_server):
    """40 names that match no account, from 10 sources, outside the
    hours: one outside_hours alert for every unknown name (40 names,
    10 sources), and no name's tag in any alert's key."""
    now = datetime.datetime.now(ZoneInfo("Asia/Tokyo"))
    start, end = now - datetime.timedelta(hours=2), \
        now - datetime.timedelta(hours=1)
    stop = "%02d:%02d" % (end.hour, end.minute)
    hours = "%02d:%02d-%s" % (start.hour, start.minute,
                              "24:00" if stop == "00:00" else stop)
    srv = make_server("alerts_names", policy=dict(
        LOOPBACK, **NO_SOURCE_BLOCK, hours=hours)).start()
    end_window("outside_hours", "unknown names")
    names = ["t_nobody_%s" % uuid.uuid4().hex[:12] for _ in range(40)]
    sources = ["127.0.4.%d" % i for i in range(1, 11)]
    for i, n in enumerate(names):
        assert login_from(srv, sources[i % 10], n, "Whatever-1") == 403
    tags = sorted(name_tag(n) for n in names)
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM audit.events WHERE event = "
                    "'login.outside_hours' AND target = ANY (%s)", (tags,))
        ids = {r[0] for r in cur.fetchall()}
    assert len(ids) == 40

    # The closed server lets nobody in: the auditor reads at an open one.
    aud, = ready(make_server("alerts_names_open").start(), "auditor")
    r = aud.get("/api/alerts")
    assert r.status_code == 200, (r.status_code, r.text)
    alerts = r.json()["alerts"]
    mine = [a for a in alerts if ids & set(a["event_ids"])]
    assert len(mine) == 1, mine
    a = mine[0]
    assert (a["rule"], a["key"], a["severity"]) == \
        ("outside_hours", "unknown names", "warning"), a
    assert (a["count"], a["names"], a["sources"]) == (40, 40, 10), a
    assert set(a["event_ids"]) == ids, a
    assert not [x for x in alerts if any(t in x["key"] for t in tags)]


def test_blocked_sources_are_one_alert(make_server):
    """Twelve sources, each blocked at its first failure: one
    blocked_source alert for them all (key "*", 12 sources)."""
    srv = make_server("alerts_blocks", policy=dict(
        LOOPBACK, source_fail_threshold="1",
        source_block_seconds="30")).start()
    end_window("blocked_source", "*")
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM audit.alerts WHERE rule = "
                    "'blocked_source' AND key = '*'")
        earlier = {r[0] for r in cur.fetchall()}
    sources = ["127.0.5.%d" % i for i in range(1, 13)]
    try:
        for s in sources:
            assert login_from(srv, s, "t_nobody_" + uuid.uuid4().hex[:10],
                              "Whatever-1") == 401
        aud, = ready(srv, "auditor")
        # An earlier test's alert, its window ended above, stays open.
        blocked = [a for a in open_alerts(aud, "blocked_source", "*")
                   if a["id"] not in earlier]
        assert len(blocked) == 1, blocked
        a = blocked[0]
        assert (a["count"], a["sources"], a["names"]) == (12, 12, 12), a
        assert sorted(event_sources(a["event_ids"])) == sorted(
            (s, s) for s in sources)
    finally:
        with db("pc_owner") as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM auth.source_blocks WHERE source = "
                        "ANY (%s::inet[])", (sources,))
