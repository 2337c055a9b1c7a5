"""Issue 6 item 4: the weekly access review. A past week is seeded with
known events straight into the trail (as the database superuser, with
chosen times), and the review must give exactly the expected figures,
in JSON and CSV alike, with the ISO week's bounds taken in the policy
timezone. Then the two-person sign-off: an auditor signs off, the same
person cannot confirm, a different person can, and nothing is signed
twice; finished weeks without both signatures are flagged."""
import csv
import datetime
import io
import uuid
from zoneinfo import ZoneInfo

import psycopg2
import pytest
from psycopg2.extras import Json

from conftest import db, module_server
from people import api, assert_error, ready

TZ = ZoneInfo("Asia/Tokyo")        # the policy timezone (conftest)
WEEK = "2025-W10"                  # Monday 2025-03-03 .. Sunday 2025-03-09
MONDAY = datetime.datetime(2025, 3, 3, tzinfo=TZ)


review_server = module_server("reviews", workers=2)


@pytest.fixture(scope="module")
def people(review_server):
    auditor1, auditor2, admin, operator = ready(
        review_server, "auditor", "auditor", "admin", "operator")
    return {"auditor1": auditor1, "auditor2": auditor2, "admin": admin,
            "operator": operator}


def at(day, hour=12, minute=0, second=0):
    return MONDAY + datetime.timedelta(days=day, hours=hour, minutes=minute,
                                       seconds=second)


KNOWN_IDS = {}      # seeded names that stand for accounts: a fake id


def insert(rows):
    with db("postgres") as conn, conn.cursor() as cur:
        for when, actor, event, target, outcome, source, details in rows:
            cur.execute(
                "INSERT INTO audit.events (at, actor_id, actor_name, source, "
                "event, target, outcome, details) VALUES (%s, %s, %s, "
                "%s::inet, %s, %s, %s, %s)",
                (when, KNOWN_IDS.get(actor), actor, source, event, target,
                 outcome, Json(details or {})))


@pytest.fixture(scope="module")
def seeded_week():
    """Known events in WEEK, and some just outside it."""
    tag = uuid.uuid4().hex[:6]
    alice, bob, ghost = ("rv_alice_" + tag, "rv_bob_" + tag,
                         "rv_ghost_" + tag)
    op1, op2, adm = "rv_op1_" + tag, "rv_op2_" + tag, "rv_adm_" + tag
    for i, name in enumerate((alice, bob, op1, op2, adm)):
        KNOWN_IDS[name] = 900000 + i
    src = "127.0.0.1"
    rows = [
        # Logins: alice 3 successes and 2 failures, bob 1 success and a
        # lockout, a name that does not exist fails once.
        (at(0, 0, 0, 0), alice, "login.success", alice, "success", src,
         None),                                  # the week's first second
        (at(0, 10), alice, "login.success", alice, "success", src, None),
        (at(2, 9), alice, "login.success", alice, "success", src, None),
        (at(2, 9, 1), alice, "login.failure", alice, "failure", src,
         {"reason": "password"}),
        (at(6, 23, 59, 59), alice, "login.failure", alice, "failure", src,
         {"reason": "otp"}),                     # the week's last second
        (at(1, 11), bob, "login.success", bob, "success", src, None),
        (at(1, 12), bob, "account.locked", bob, "denied", src,
         {"seconds": 1800}),
        (at(3, 8), ghost, "login.failure", ghost, "failure", src,
         {"reason": "unknown_user"}),
        # Outside hours: two attempts.
        (at(4, 3), alice, "login.outside_hours", alice, "denied", src,
         None),
        (at(4, 4), bob, "login.outside_hours", bob, "denied", src, None),
        # Denied connections, aggregated per source and minute.
        (at(1, 13), None, "connection.denied", "10.9.9.9", "denied",
         "10.9.9.9", {"count": 5, "window_seconds": 60}),
        (at(5, 13), None, "connection.denied", "10.9.9.9", "denied",
         "10.9.9.9", {"count": 4, "window_seconds": 60}),
        (at(5, 14), None, "connection.denied", "10.9.9.8", "denied",
         "10.9.9.8", {"count": 2, "window_seconds": 60}),
        # Privileged changes.
        (at(2, 15), adm, "user.role_changed", bob, "success", src,
         {"role": "auditor"}),
        (at(2, 16), adm, "otp.enrolment_started", alice, "success", src,
         None),
        # Operations.
        (at(3, 10), op1, "transaction.captured", "101", "success", src,
         None),
        (at(3, 11), op1, "transaction.captured", "102", "success", src,
         None),
        (at(3, 12), op1, "transaction.refunded", "101", "success", src,
         {"amount": 300}),
        (at(3, 13), op1, "transaction.refunded", "102", "success", src,
         {"amount": 200}),
        (at(3, 14), op2, "transaction.cancelled", "103", "success", src,
         None),
        # Just outside the week on both sides: never counted.
        (at(0, 0, 0, -1), alice, "login.success", alice, "success", src,
         None),
        (at(7, 0, 0, 0), alice, "login.success", alice, "success", src,
         None),
        (at(7, 0, 0, 0), op1, "transaction.refunded", "101", "success",
         src, {"amount": 999}),
    ]
    insert(rows)
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO audit.alerts (rule, severity, key, "
                    "first_seen, last_seen) VALUES ('lockout', 'alert', %s, "
                    "%s, %s)", (bob, at(1, 12), at(1, 12)))
        cur.execute("INSERT INTO audit.alerts (rule, severity, key, "
                    "first_seen, last_seen, acknowledged_at, "
                    "acknowledged_by, ack_comment) VALUES ('outside_hours', "
                    "'warning', %s, %s, %s, %s, 'x', 'seen')",
                    ("review-" + tag, at(-10), at(-10), at(4, 5)))
    return {"alice": alice, "bob": bob, "ghost": ghost, "op1": op1,
            "op2": op2, "adm": adm}


def test_review_figures_exact(people, seeded_week):
    u = seeded_week
    r = people["auditor1"].get("/api/reviews/" + WEEK)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["week"] == WEEK
    assert (body["from"], body["to"]) == ("2025-03-03", "2025-03-09")
    assert body["timezone"] == "Asia/Tokyo"
    # A name typed at the login form that is no account (often a
    # password in the wrong field) is never shown: it is "(unknown)".
    assert body["logins"] == [
        {"username": "(unknown)", "successes": 0, "failures": 1,
         "lockouts": 0},
        {"username": u["alice"], "successes": 3, "failures": 2,
         "lockouts": 0},
        {"username": u["bob"], "successes": 1, "failures": 0,
         "lockouts": 1},
    ]
    assert u["ghost"] not in r.text
    # Nothing else happened in that week: the totals are exactly ours.
    assert body["totals"]["logins"] == 4
    assert body["failures"] == 3 and body["totals"]["failures"] == 3
    assert body["lockouts"] == 1
    assert body["outside_hours"] == 2
    assert body["denied_connections"] == 11
    assert body["denied_sources"] == [{"source": "10.9.9.9", "count": 9},
                                      {"source": "10.9.9.8", "count": 2}]
    assert body["alerts"] == {"raised": 1, "acknowledged": 1}
    changes = [(c["event"], c["actor"], c["target"])
               for c in body["privileged_changes"]]
    assert changes == [("user.role_changed", u["adm"], u["bob"]),
                       ("otp.enrolment_started", u["adm"], u["alice"])]
    assert body["operations"] == [
        {"operator": u["op1"], "captures": 2, "cancels": 0, "refunds": 2,
         "refund_total": 500},
        {"operator": u["op2"], "captures": 0, "cancels": 1, "refunds": 0,
         "refund_total": 0},
    ]
    daily = {d["date"]: d for d in body["daily"]}
    assert sorted(daily) == ["2025-03-0%d" % d for d in range(3, 10)]
    assert daily["2025-03-03"] == {"date": "2025-03-03", "logins": 2,
                                   "failures": 0, "denied": 0,
                                   "outside_hours": 0}
    assert daily["2025-03-05"]["logins"] == 1
    assert daily["2025-03-05"]["failures"] == 1
    assert daily["2025-03-09"]["failures"] == 1
    assert daily["2025-03-04"]["denied"] == 5
    assert daily["2025-03-08"]["denied"] == 6
    assert daily["2025-03-07"]["outside_hours"] == 2
    assert sum(d["logins"] for d in body["daily"]) == 4


def test_review_csv_matches_json(people, seeded_week):
    sess = people["admin"]
    j = sess.get("/api/reviews/" + WEEK).json()
    r = sess.get("/api/reviews/%s?format=csv" % WEEK)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows, r.text
    assert set(rows[0]) == {"section", "item", "metric", "value", "at",
                            "actor", "target"}
    totals = {x["metric"]: int(x["value"]) for x in rows
              if x["section"] == "total"}
    assert totals == j["totals"]
    alice = seeded_week["alice"]
    logins = {x["metric"]: int(x["value"]) for x in rows
              if x["section"] == "login" and x["item"] == alice}
    assert logins == {"successes": 3, "failures": 2, "lockouts": 0}
    denied = [(x["item"], int(x["value"])) for x in rows
              if x["section"] == "denied_source"]
    assert denied == [("10.9.9.9", 9), ("10.9.9.8", 2)]
    refunds = [int(x["value"]) for x in rows if x["section"] == "operations"
               and x["item"] == seeded_week["op1"]
               and x["metric"] == "refund_total"]
    assert refunds == [500]


def test_review_rejects_bad_weeks(people):
    sess = people["auditor1"]
    for week in ("2025-W54", "2021-W53", "2025-W00", "2025-w10", "2025W10",
                 "2025-W10x"):
        r = sess.get("/api/reviews/" + week)
        assert r.status_code == 404, (week, r.status_code, r.text)
    assert_error(sess.get("/api/reviews/%s?format=xml" % WEEK), 400,
                 "invalid_request")


def test_review_view_is_recorded(people, seeded_week):
    sess = people["auditor2"]
    r = sess.get("/api/reviews/%s?format=csv" % WEEK)
    assert r.status_code == 200
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_name, actor_role, event, target, outcome, "
                    "details FROM audit.events WHERE event = 'review.viewed' "
                    "AND actor_name = %s ORDER BY id DESC LIMIT 1",
                    (sess.user["username"],))
        row = cur.fetchone()
    assert row == (sess.user["username"], "auditor", "review.viewed", WEEK,
                   "success", {"format": "csv"})


def test_two_person_signoff(people, seeded_week):
    a1, a2, adm, op = (people["auditor1"], people["auditor2"],
                       people["admin"], people["operator"])
    path = "/api/reviews/%s/" % WEEK
    # Confirmation before any sign-off is refused.
    assert_error(adm.post(path + "confirm", {"comment": "early"}), 409,
                 "not_signed_off")
    # Only auditors sign off; the API refuses everyone else.
    assert_error(adm.post(path + "signoff", {"comment": "x"}), 403,
                 "forbidden")
    assert_error(op.post(path + "signoff", {"comment": "x"}), 403,
                 "forbidden")
    assert_error(a1.post(path + "signoff", {}), 400, "invalid_request")
    assert_error(a1.post(path + "signoff",
                         {"comment": "card 4111 1111 1111 1111"}), 400,
                 "card_number_refused")

    r = a1.post(path + "signoff", {"comment": "Reviewed <b>all</b>"})
    assert r.status_code == 201, r.text
    assert r.json() == {"week": WEEK, "status": "signed_off"}
    # Signing twice, by anyone, is refused; so is confirming one's own.
    assert_error(a1.post(path + "signoff", {"comment": "again"}), 409,
                 "already_signed_off")
    assert_error(a2.post(path + "signoff", {"comment": "mine"}), 409,
                 "already_signed_off")
    assert_error(a1.post(path + "confirm", {"comment": "me too"}), 409,
                 "same_person")

    r = adm.post(path + "confirm", {"comment": "Confirmed"})
    assert r.status_code == 201, r.text
    assert_error(a2.post(path + "confirm", {"comment": "late"}), 409,
                 "already_confirmed")

    state = a2.get("/api/reviews/" + WEEK).json()["signoff"]
    assert state["signed_off_by"] == a1.user["username"]
    assert state["signoff_comment"] == "Reviewed <b>all</b>"
    assert state["confirmed_by"] == adm.user["username"]
    assert state["complete"] is True and state["overdue"] is False

    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_name, event, outcome, details "
                    "FROM audit.events WHERE target = %s AND event IN "
                    "('review.signed_off', 'review.confirmed') ORDER BY id",
                    (WEEK,))
        rows = cur.fetchall()
    # The sign-off names the digest of the figures it signed.
    assert len(rows[0][3].pop("figures_sha256")) == 64
    assert rows == [
        (a1.user["username"], "review.signed_off", "success",
         {"comment": "Reviewed <b>all</b>"}),
        (a1.user["username"], "review.confirmed", "denied",
         {"reason": "same_person"}),
        (adm.user["username"], "review.confirmed", "success",
         {"comment": "Confirmed", "signed_off_by": a1.user["username"]}),
    ]


def test_confirmation_refused_to_who_administered_the_signer(people):
    """One admin must not complete the review through an auditor account
    they created or re-credentialed; and figures that change after the
    sign-off (a back-dated event) stop the confirmation."""
    week = "2025-W11"
    a1, a2, adm = people["auditor1"], people["auditor2"], people["admin"]
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO audit.events (actor_id, actor_name, "
                    "actor_role, event, target, outcome) VALUES (%s, %s, "
                    "'admin', 'otp.enrolment_started', %s, 'success')",
                    (adm.id, adm.user["username"],
                     a1.user["username"]))
    path = "/api/reviews/%s/" % week
    r = a1.post(path + "signoff", {"comment": "fine"})
    assert r.status_code == 201, r.text
    assert_error(adm.post(path + "confirm", {"comment": "mine"}), 409,
                 "signer_administered_by_you")
    # The figures change behind the sign-off: nobody may confirm them.
    insert([(datetime.datetime(2025, 3, 12, 12, tzinfo=TZ), "late",
             "login.failure", "late", "failure", "127.0.0.1",
             {"reason": "password"})])
    state = a2.get("/api/reviews/" + week).json()["signoff"]
    assert state["changed_since_signoff"] is True
    assert state["complete"] is False
    assert_error(a2.post(path + "confirm", {"comment": "ok"}), 409,
                 "review_changed")
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_name, details->>'reason' FROM audit.events "
                    "WHERE target = %s AND event = 'review.confirmed' "
                    "ORDER BY id", (week,))
        assert cur.fetchall() == [
            (adm.user["username"], "signer_administered_by_you"),
            (a2.user["username"], "review_changed")]


def test_runtime_roles_cannot_backdate_or_renumber_events():
    """Runtime roles write the trail only through audit.record(): no
    chosen time (back-dating into a signed week), no chosen id."""
    for role in ("pc_auth", "pc_payments"):
        with pytest.raises(psycopg2.Error) as e:
            with db(role) as conn, conn.cursor() as cur:
                cur.execute("INSERT INTO audit.events (event, outcome) "
                            "VALUES ('x.y', 'info')")
        assert "permission denied" in str(e.value)
    with pytest.raises(psycopg2.Error) as e:
        with db("pc_ops") as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO audit.events (at, event, outcome) "
                        "VALUES ('2025-03-05', 'x.y', 'info')")
    assert "permission denied" in str(e.value)
    with pytest.raises(psycopg2.Error) as e:
        with db("pc_ops") as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO audit.events (id, event, outcome) "
                        "OVERRIDING SYSTEM VALUE VALUES (99999999, 'x.y', "
                        "'info')")
    assert "permission denied" in str(e.value)


def test_signoff_table_is_append_only(people):
    for role in ("pc_auth", "pc_auditor", "pc_payments", "pc_ops"):
        with pytest.raises(psycopg2.Error) as e:
            with db(role) as conn, conn.cursor() as cur:
                cur.execute("SET default_transaction_read_only = off")
                cur.execute("DELETE FROM audit.reviews")
        assert "permission denied" in str(e.value), (role, e.value)
    # The owner holds every privilege; the trigger refuses all the same.
    with pytest.raises(psycopg2.Error) as e:
        with db("pc_owner") as conn, conn.cursor() as cur:
            cur.execute("UPDATE audit.reviews SET signoff_comment = 'x'")
    assert "append-only" in str(e.value)


def test_current_week_cannot_be_signed_and_past_weeks_are_flagged(people):
    a1 = people["auditor1"]
    r = a1.get("/api/reviews")
    assert r.status_code == 200, r.text
    weeks = r.json()["weeks"]
    assert weeks, r.text
    today = datetime.datetime.now(TZ).date()
    iso = today.isocalendar()
    current = "%04d-W%02d" % (iso[0], iso[1])
    assert weeks[0]["week"] == current
    assert weeks[0]["finished"] is False and weeks[0]["overdue"] is False
    assert_error(a1.post("/api/reviews/%s/signoff" % current,
                         {"comment": "too early"}), 409, "week_not_finished")
    # Every finished week in the list without both signatures is overdue.
    for w in weeks[1:]:
        assert w["finished"] is True
        assert w["overdue"] is (not w["complete"]), w
    # Newest first, consecutive ISO weeks.
    mondays = [datetime.date.fromisoformat(w["from"]) for w in weeks]
    assert all(a - b == datetime.timedelta(days=7)
               for a, b in zip(mondays, mondays[1:]))


def test_reviews_forbidden_to_operators(people):
    op = people["operator"]
    assert_error(op.get("/api/reviews"), 403, "forbidden")
    assert_error(op.get("/api/reviews/" + WEEK), 403, "forbidden")
    r = api(op.srv, "GET", "/api/reviews")
    assert r.status_code == 401


def test_comment_must_be_clean_text(people):
    """Comments are text: invalid UTF-8 arrives as \\ufffd only if the
    client sends it so; control characters (C0 but newline and tab, DEL,
    C1) are refused with 400, not stored."""
    a1 = people["auditor1"]
    path = "/api/reviews/2025-W12/signoff"
    for bad in ("a\x00b", "a\x1b[31mb", "a\x7fb", "a\u0085b", "a\u009bb"):
        r = api(a1.srv, "POST", path, a1.token, a1.csrf, {"comment": bad})
        assert r.status_code == 400, (bad, r.status_code, r.text)
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit.reviews WHERE week = "
                    "'2025-W12'")
        assert cur.fetchone()[0] == 0
