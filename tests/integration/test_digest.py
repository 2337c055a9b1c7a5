"""The automated daily review (issue 16, part 3; PCI DSS 10.4.1;
migration 030). A past site-local day is seeded with events of every
category straight into the trail (as the database superuser, with chosen
times, as test_reviews.py seeds a past week), with look-alikes that must
not count and events just outside the day. Worker 1 makes the day's
digest by itself; the API shows each category's count and events; one
auditor marks it reviewed (audited, once, append-only; not an auditor
whose own act it lists; never an admin or operator); unsigned days older
than 3 days are overdue in GET /api/reviews. Then the reports go by mail
through a real sendmail interface (Debian's msmtp) to a real SMTP sink
(Debian's python3-aiosmtpd): every recipient gets the one message, with
the checkpoint that the offline verifier accepts; with the sink down the
delivery fails, is recorded, and raises report_mail_failed.

The server runs against a database of its own: its worker makes digests
for the days since the first event, and this file moves that first day."""
import datetime
import hashlib
import os
import re
import subprocess
import time
import uuid
from zoneinfo import ZoneInfo

import psycopg2
import pytest
from aiosmtpd.controller import Controller
from psycopg2.extras import Json

import stack
from conftest import (ADMIN, STACK, Server, checkpoint_keygen, create_db,
                      create_user, db, drop_db)
from people import STEP, assert_error, change_password, sign_in

TAG = uuid.uuid4().hex[:8]
DBNAME = "pc_dig_" + TAG
NAME = "dig-" + TAG
SITE = os.path.join(STACK, "sites", NAME)
TZ = ZoneInfo("Asia/Tokyo")            # the policy timezone (conftest)
THRESHOLD = 10000                      # refund_approval_threshold here
RECIPIENTS = ["review.a@example.test", "review.b@example.test",
              "compliance@example.test"]
CATEGORIES = ["outside_hours", "denied_sources", "lockouts",
              "attempts_on_locked", "privileged_changes",
              "refunds_near_threshold", "personal_data_exports",
              "self_acknowledgement"]
# Five days ago in the policy timezone: finished, digested, overdue.
DAY = datetime.datetime.now(TZ).date() - datetime.timedelta(days=5)
DAY_NAME = DAY.isoformat()


# --- the SMTP sink -----------------------------------------------------------

class Sink:
    """Every message the sink accepted: (envelope recipients, bytes)."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


# --- helpers ---------------------------------------------------------------

def superuser():
    return db("postgres", dbname=DBNAME)


def at(hour, minute=0, second=0, days=0):
    return datetime.datetime.combine(
        DAY + datetime.timedelta(days=days),
        datetime.time(hour, minute, second), tzinfo=TZ)


def insert(rows):
    """Events with chosen times, in one transaction (the worker sees all
    or none); their ids in order."""
    ids = []
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("BEGIN")
        for when, actor_id, actor, event, target, outcome, details in rows:
            cur.execute(
                "INSERT INTO audit.events (at, actor_id, actor_name, source, "
                "event, target, outcome, details) VALUES (%s, %s, %s, "
                "'127.0.0.1', %s, %s, %s, %s) RETURNING id",
                (when, actor_id, actor, event, target, outcome,
                 Json(details or {})))
            ids.append(cur.fetchone()[0])
        cur.execute("COMMIT")
    return ids


def wait_digest(day, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with superuser() as conn, conn.cursor() as cur:
            cur.execute("SELECT checkpoint_seq, checkpoint_last_event, "
                        "checkpoint_head, checkpoint_sha256, figures_sha256 "
                        "FROM audit.daily_digests WHERE day = %s", (day,))
            row = cur.fetchone()
        if row is not None:
            return row
        time.sleep(0.5)
    raise AssertionError("no digest for %s" % day)


def person(srv, role):
    s = sign_in(srv, create_user(role, site=srv.dir), offset=-STEP)
    change_password(s)
    return s


def mail(*args):
    return subprocess.run([ADMIN, "-d", SITE, "reports", "mail"] +
                          list(args), capture_output=True, text=True,
                          timeout=120)


def deliveries():
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT kind, period, recipients, message_sha256, ok, "
                    "detail FROM audit.report_deliveries ORDER BY id")
        return cur.fetchall()


# --- fixtures ----------------------------------------------------------------

@pytest.fixture(scope="module")
def sink():
    port = stack.free_port()
    s = Sink()
    ctl = Controller(s, hostname="127.0.0.1", port=port)
    ctl.start()
    yield s, ctl, port
    try:
        ctl.stop()
    except Exception:
        pass


@pytest.fixture(scope="module")
def srv(sink):
    create_db(DBNAME, seeding=True)
    key, pub = checkpoint_keygen("dig-" + TAG)
    sendmail = os.path.join(SITE, "sendmail")
    s = Server(NAME, workers=1, policy={
        "db_name": DBNAME, "checkpoint_key_file": key,
        "checkpoint_file": os.path.join(SITE, "checkpoints.log"),
        "checkpoint_interval_seconds": "1",
        "refund_approval_threshold": str(THRESHOLD),
        "report_recipients": ",".join(RECIPIENTS),
        "report_sendmail": sendmail})
    # msmtp, Debian's sendmail interface, to the sink over SMTP.
    rc = os.path.join(SITE, "msmtprc")
    with open(rc, "w") as f:
        f.write("defaults\nauth off\ntls off\n"
                "account default\nhost 127.0.0.1\nport %d\n"
                "from payconsole@localhost\n" % sink[2])
    os.chmod(rc, 0o600)
    with open(sendmail, "w") as f:
        f.write("#!/bin/sh\nexec /usr/bin/msmtp -C %s \"$@\"\n" % rc)
    os.chmod(sendmail, 0o755)
    s.start()
    s.pub = pub
    yield s
    s.stop()
    drop_db(DBNAME)
    os.unlink(key)
    os.unlink(pub)


@pytest.fixture(scope="module")
def people(srv):
    return {"auditor1": person(srv, "auditor"),
            "auditor2": person(srv, "auditor"),
            "admin": person(srv, "admin"),
            "operator": person(srv, "operator")}


@pytest.fixture(scope="module")
def seeded(srv, people):
    """Each category's events on DAY, look-alikes that must not count,
    and events a second outside the day. Returns {category: [ids]}."""
    a2 = people["auditor2"]
    rows = [
        # 0: outside hours
        (at(3), None, "dg_alice", "login.outside_hours", "dg_alice",
         "denied", None),
        # 1-3: denied sources
        (at(4), None, None, "connection.denied", "10.9.9.9", "denied",
         {"count": 5, "window_seconds": 60}),
        (at(4, 1), None, None, "connection.denied_repeatedly", "10.9.9.9",
         "denied", {"count": 12}),
        (at(4, 2), None, None, "source.blocked", "10.9.9.8", "denied",
         {"failures": 20}),
        # 4: a lockout
        (at(5), None, "dg_bob", "account.locked", "dg_bob", "denied",
         {"seconds": 1800}),
        # 5-6: attempts on a locked account, from a blocked source
        (at(5, 1), None, "dg_bob", "login.failure", "dg_bob", "failure",
         {"reason": "locked"}),
        (at(5, 2), None, "dg_bob", "login.failure", "dg_bob", "failure",
         {"reason": "source_blocked"}),
        # 7: an ordinary failure: no category
        (at(5, 3), None, "dg_bob", "login.failure", "dg_bob", "failure",
         {"reason": "bad_password"}),
        # 8-10: privileged changes and approvals
        (at(6), 900001, "dg_adm", "user.role_changed", "dg_bob", "success",
         {"role": "auditor"}),
        (at(6, 1), 900001, "dg_adm", "approval.requested", "dg_carol",
         "success", None),
        (at(6, 2), 900002, "dg_adm2", "approval.approved", "dg_carol",
         "success", None),
        # 11-12: refunds 90% to 100% of the threshold, no approval
        (at(7), 900003, "dg_op", "transaction.refunded", "101", "success",
         {"amount": THRESHOLD - THRESHOLD // 10}),
        (at(7, 1), 900003, "dg_op", "transaction.refunded", "102",
         "success", {"amount": THRESHOLD}),
        # 13-14: not near: below 90%, or approved by a second operator
        (at(7, 2), 900003, "dg_op", "transaction.refunded", "103",
         "success", {"amount": THRESHOLD - THRESHOLD // 10 - 1}),
        (at(7, 3), 900003, "dg_op", "transaction.refunded", "104",
         "success", {"amount": THRESHOLD, "approval": 7}),
        # 15-16: exports of personal data
        (at(8), 900003, "dg_op", "transactions.exported",
         "payments.transactions", "success", {"rows": 3}),
        (at(8, 1), None, "cli:root", "audit.purged", "audit.events",
         "success", None),
        # 17: a self-acknowledgement attempt, by auditor2
        (at(9), a2.id, a2.username, "alert.acknowledged", "3", "denied",
         {"reason": "own_action"}),
        # 18: an acknowledgement that was allowed: no category
        (at(9, 1), 900004, "dg_aud", "alert.acknowledged", "4", "success",
         {"comment": "ok"}),
        # 19-20: a second outside the day on either side
        (at(23, 59, 59, days=-1), None, "dg_alice", "login.outside_hours",
         "dg_alice", "denied", None),
        (at(0, 0, 0, days=1), None, "dg_bob", "account.locked", "dg_bob",
         "denied", {"seconds": 1800}),
        # 21: the day's first second counts
        (at(0, 0, 0), None, "dg_alice", "login.outside_hours", "dg_alice",
         "denied", None),
    ]
    ids = insert(rows)
    wait_digest(DAY)
    return {
        "outside_hours": [ids[0], ids[21]],
        "denied_sources": ids[1:4],
        "lockouts": [ids[4]],
        "attempts_on_locked": ids[5:7],
        "privileged_changes": ids[8:11],
        "refunds_near_threshold": ids[11:13],
        "personal_data_exports": ids[15:17],
        "self_acknowledgement": [ids[17]],
    }


# --- the digest ------------------------------------------------------------------

def test_digest_counts_each_category_with_its_events(people, seeded):
    r = people["auditor1"].get("/api/reviews/daily/" + DAY_NAME)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["day"] == DAY_NAME and d["timezone"] == "Asia/Tokyo"
    assert d["computed"] is True and d["changed_since_computed"] is False
    assert d["refund_approval_threshold"] == THRESHOLD
    assert [c["category"] for c in d["categories"]] == CATEGORIES
    got = {c["category"]: c for c in d["categories"]}
    for cat, ids in seeded.items():
        assert got[cat]["count"] == len(ids), (cat, got[cat])
        assert got[cat]["events"] == sorted(ids), cat
        assert [e["id"] for e in got[cat]["rows"]] == sorted(ids), cat
    # The rules engine's classification: the same alert rule names.
    assert got["lockouts"]["alert_rule"] == "lockout"
    assert got["attempts_on_locked"]["alert_rule"] == "attempt_while_locked"
    assert got["outside_hours"]["alert_rule"] == "outside_hours"
    row = got["attempts_on_locked"]["rows"][0]
    assert row["event"] == "login.failure" and row["target"] == "dg_bob"
    assert d["signoff"]["computed"] is True
    # Viewing is recorded, as for weeks.
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit.events WHERE event = "
                    "'review.viewed' AND target = %s", (DAY_NAME,))
        assert cur.fetchone()[0] >= 1
        cur.execute("SELECT outcome, details->>'figures_sha256' FROM "
                    "audit.events WHERE event = 'review.digest_computed' "
                    "AND target = %s", (DAY_NAME,))
        assert cur.fetchall() == [("info", d["figures_sha256"])]


def test_digest_carries_a_checkpoint_the_offline_verifier_accepts(srv,
                                                                  seeded):
    seq, last, head, sha, _ = wait_digest(DAY)
    assert seq is not None, "checkpoints run every second here"
    lines = open(os.path.join(SITE, "checkpoints.log")).read().splitlines()
    m = [x for x in lines if x.startswith('{"seq":%d,' % seq)]
    assert len(m) == 1, lines
    assert '"last_event":%d,"head":"%s"' % (last, head) in m[0]
    signed = re.sub(r',"key":.*$', "}", m[0])
    assert hashlib.sha256(signed.encode()).hexdigest() == sha
    r = subprocess.run([ADMIN, "-d", SITE, "audit", "verify",
                        "--checkpoints", os.path.join(SITE,
                                                      "checkpoints.log"),
                        "--pubkey", srv.pub], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)


def test_digest_is_made_once_and_append_only(seeded):
    for sql in ("UPDATE audit.daily_digests SET threshold = 1",
                "DELETE FROM audit.daily_digests"):
        with pytest.raises(psycopg2.Error) as e:
            with db("pc_owner", dbname=DBNAME) as conn, conn.cursor() as cur:
                cur.execute(sql)
        assert "append-only" in str(e.value)
    with pytest.raises(psycopg2.Error) as e:
        with db("pc_auth", dbname=DBNAME) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO audit.daily_digests (day, timezone, "
                        "threshold, categories, figures_sha256) VALUES "
                        "('2001-01-01', 'UTC', 1, '[]', 'x')")
    assert "permission denied" in str(e.value)
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT audit.digest_due('Asia/Tokyo', %s)",
                    (THRESHOLD,))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT count(*) FROM audit.daily_digests WHERE day "
                    "= %s", (DAY,))
        assert cur.fetchone()[0] == 1


# --- sign-off ---------------------------------------------------------------------

def test_unsigned_past_days_are_overdue(people, seeded):
    r = people["admin"].get("/api/reviews")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["weeks"], r.text           # weeks as before
    days = {d["week"]: d for d in body["days"]}
    today = datetime.datetime.now(TZ).date()
    names = [d["week"] for d in body["days"]]
    # Newest first, from yesterday back to the first event's day.
    assert names[0] == (today - datetime.timedelta(days=1)).isoformat()
    assert names[-1] == (DAY - datetime.timedelta(days=1)).isoformat()
    d = days[DAY_NAME]
    assert d["finished"] is True and d["computed"] is True
    assert d["complete"] is False and d["overdue"] is True
    # Overdue once it ended more than 3 days ago.
    for name, s in days.items():
        ended = datetime.date.fromisoformat(name) + datetime.timedelta(1)
        late = datetime.datetime.now(TZ) >= datetime.datetime.combine(
            ended + datetime.timedelta(days=3), datetime.time(),
            tzinfo=TZ)
        assert s["overdue"] is (late and not s["complete"]), s


def test_signoff_by_an_auditor_once(people, seeded):
    a1, a2 = people["auditor1"], people["auditor2"]
    path = "/api/reviews/daily/%s/signoff" % DAY_NAME
    assert_error(people["admin"].post(path, {"comment": "x"}), 403,
                 "forbidden")
    assert_error(people["operator"].post(path, {"comment": "x"}), 403,
                 "forbidden")
    # auditor2's own attempt is among the events: another must review.
    assert_error(a2.post(path, {"comment": "mine"}), 403, "self_forbidden")
    r = a1.post(path, {"comment": "reviewed"})
    assert r.status_code == 201, r.text
    assert r.json() == {"day": DAY_NAME, "status": "signed_off"}
    assert_error(a1.post(path, {"comment": "again"}), 409,
                 "already_signed_off")
    state = a1.get("/api/reviews/daily/" + DAY_NAME).json()["signoff"]
    assert state["signed_off_by"] == a1.username
    assert state["complete"] is True and state["overdue"] is False
    assert state["changed_since_signoff"] is False
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_name, outcome, details->>'reason' FROM "
                    "audit.events WHERE event = 'review.signed_off' AND "
                    "target = %s ORDER BY id", (DAY_NAME,))
        assert cur.fetchall() == [(a2.username, "denied", "own_action"),
                                  (a1.username, "success", None)]
    with pytest.raises(psycopg2.Error) as e:
        with db("pc_owner", dbname=DBNAME) as conn, conn.cursor() as cur:
            cur.execute("UPDATE audit.reviews SET signoff_comment = 'x' "
                        "WHERE week = %s", (DAY_NAME,))
    assert "append-only" in str(e.value)
    days = {d["week"]: d for d in a1.get("/api/reviews").json()["days"]}
    assert days[DAY_NAME]["overdue"] is False


def test_unfinished_or_malformed_days(people, seeded):
    a1 = people["auditor1"]
    today = datetime.datetime.now(TZ).date().isoformat()
    assert_error(a1.post("/api/reviews/daily/%s/signoff" % today,
                         {"comment": "early"}), 409, "period_not_finished")
    r = a1.get("/api/reviews/daily/" + today)
    assert r.status_code == 200 and r.json()["computed"] is False, r.text
    for bad in ("2026-02-30", "2026-13-01", "2026-W47", "26-11-28"):
        assert_error(a1.get("/api/reviews/daily/" + bad), 400,
                     "invalid_period")


# --- mail ---------------------------------------------------------------------------

def test_reports_mailed_to_every_recipient(srv, sink, seeded):
    s, _, _ = sink
    seq, last, head, sha, fig = wait_digest(DAY)
    before = len(s.received)
    r = mail()
    assert r.returncode == 0, (r.stdout, r.stderr)
    out = [x.split("\t") for x in r.stdout.splitlines()]
    assert ["daily", DAY_NAME] in [x[:2] for x in out], r.stdout
    assert all(x[2] == "ok" for x in out), r.stdout
    got = s.received[before:]
    assert len(got) == len(out)
    mine = [c for _, c in got if ("Subject: payconsole daily review %s" %
                                  DAY_NAME).encode() in c]
    assert len(mine) == 1
    rcpts = [set(t) for t, c in got if c is mine[0]]
    # One message to every recipient: nobody alters what others got.
    assert rcpts == [set(RECIPIENTS)]
    text = mine[0].decode()
    assert "Figures SHA-256: %s" % fig in text
    assert ("Checkpoint at computation: seq %d, last event %d, head %s, "
            "sha256 %s" % (seq, last, head, sha)) in text
    for cat, ids in seeded.items():
        assert "%s: %d" % (cat, len(ids)) in text
        assert "  events: " + " ".join(str(i) for i in sorted(ids)) in text
    assert "dg_alice" not in text and "dg_bob" not in text
    # Recorded with the SHA-256 of what was handed to sendmail.
    rows = [x for x in deliveries() if x[1] == DAY_NAME]
    assert len(rows) == 1 and rows[0][4] is True, rows
    assert rows[0][2] == RECIPIENTS
    assert rows[0][3] == [x[3] for x in out if x[1] == DAY_NAME][0]
    # Nothing is mailed twice.
    again = mail()
    assert again.returncode == 0 and again.stdout == "", again.stdout


def test_failed_delivery_is_an_alert(srv, sink, seeded):
    s, ctl, _ = sink
    ctl.stop()
    r = mail("--day", DAY_NAME)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout.startswith("daily\t%s\tfailed\t" % DAY_NAME), r.stdout
    rows = [x for x in deliveries() if x[1] == DAY_NAME]
    assert [x[4] for x in rows] == [True, False]
    assert rows[1][5].startswith("sendmail exit"), rows[1]
    with superuser() as conn, conn.cursor() as cur:
        cur.execute("SELECT a.severity, e.event, e.outcome, e.actor_name "
                    "FROM audit.alerts a JOIN audit.events e ON e.id = "
                    "ANY (a.event_ids) WHERE a.rule = 'report_mail_failed'")
        got = cur.fetchall()
    assert len(got) == 1, got
    assert got[0][:3] == ("alert", "report.mail_failed", "failure")
    assert got[0][3].startswith("cli:")
