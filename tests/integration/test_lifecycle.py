"""Issue 16 part 5: account lifecycle (PCI DSS 8.2.6 and 7.2.4).

An account with no sign-in for inactive_disable_days is disabled by the
server on its own (worker 1, with the seal every 10 s): its sessions
end, one user.disabled_inactive record names it with the days idle, and
the alert inactive_disabled lists that record. The clock is moved in the
database, not on the machine: as the owner, an account's creation, last
sign-in and first sign-in are set into the past.

The half-year account review lists every account with its role, last
sign-in, state and enrolment, and the privileged events about it in the
period; it is signed off and confirmed as the weekly review is."""
import datetime
import time
from zoneinfo import ZoneInfo

import pytest

from conftest import create_user, db, module_server
from people import (assert_error, assert_invalid_credentials, directory,
                    events, failure_reasons, post_login, ready, sign_in,
                    totp)

TZ = ZoneInfo("Asia/Tokyo")        # the policy timezone (conftest)
LIMIT = 30                         # the policy's inactive_disable_days
TICK = 10                          # worker 1's period (src/audit.c)


srv = module_server("lifecycle", workers=2,
                    policy={"inactive_disable_days": str(LIMIT)})


# --- helpers ----------------------------------------------------------------

def idle_for(username, days, signed_in=True):
    """Move the account's clock: created days + 10 days ago, last signed
    in days ago (or never, created days ago), first sign-in done at its
    creation."""
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE auth.users SET created_at = now() - make_interval("
            "days => %s), last_login_at = CASE WHEN %s THEN now() - "
            "make_interval(days => %s) END WHERE username = %s "
            "RETURNING id",
            (days + 10 if signed_in else days, signed_in, days, username))
        uid, = cur.fetchone()
        cur.execute("UPDATE auth.enrolments e SET completed_at = "
                    "u.created_at FROM auth.users u WHERE u.id = e.user_id "
                    "AND e.user_id = %s AND e.completed_at IS NOT NULL",
                    (uid,))
    return uid


def wait_disabled(username, timeout=3 * TICK):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if directory(username)["disabled"]:
            return True
        time.sleep(0.5)
    return False


def alert_of(event_id):
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT rule, severity FROM audit.alerts "
                    "WHERE %s = ANY(event_ids)", (event_id,))
        return cur.fetchall()


def half_of(d):
    return "%04d-H%d" % (d.year, 1 if d.month <= 6 else 2)


def previous_half(d):
    return ("%04d-H2" % (d.year - 1)) if d.month <= 6 else \
        ("%04d-H1" % d.year)


def half_start(name):
    return datetime.datetime(int(name[:4]), 1 if name[-1] == "1" else 7, 1,
                             tzinfo=TZ)


# --- inactive accounts ----------------------------------------------------------

def test_idle_account_disabled_by_the_server_with_record_and_alert(srv):
    idle = create_user("operator")
    recent = create_user("operator")
    never = create_user("auditor")
    s = sign_in(srv, idle)
    assert s.get("/api/me").status_code == 200

    idle_for(idle["username"], LIMIT + 15)
    idle_for(recent["username"], LIMIT - 10)
    idle_for(never["username"], LIMIT + 1, signed_in=False)

    assert wait_disabled(idle["username"]), "not disabled on its own"
    assert wait_disabled(never["username"])
    # Its session ended with it.
    assert s.get("/api/me").status_code == 401

    ev = events(idle["username"], "user.disabled_inactive")
    assert len(ev) == 1, ev
    _, _, outcome, details = ev[0]
    assert outcome == "success"
    assert details["days_idle"] == LIMIT + 15, details
    assert details["limit_days"] == LIMIT
    assert details["sessions_revoked"] == 1
    assert details["user_id"] == s.id
    assert alert_of(ev[0][0]) == [("inactive_disabled", "alert")]

    ev = events(never["username"], "user.disabled_inactive")
    assert len(ev) == 1 and ev[0][3]["days_idle"] == LIMIT + 1, ev
    assert ev[0][3]["last_login_at"] is None

    # Idle for less than the limit: still enabled, a tick later too.
    time.sleep(TICK + 2)
    assert directory(recent["username"])["disabled"] is False
    assert events(recent["username"], "user.disabled_inactive") == []
    # One record per account: later ticks add none.
    assert len(events(idle["username"], "user.disabled_inactive")) == 1


def test_disabled_for_inactivity_cannot_sign_in(srv):
    u = create_user("operator")
    idle_for(u["username"], LIMIT + 5, signed_in=False)
    assert wait_disabled(u["username"])
    r = post_login(srv, u["username"], u["password"], totp(u).now())
    assert_invalid_credentials(r)
    assert failure_reasons(u["username"]) == ["disabled"]


def test_reenabled_account_is_not_disabled_again_for_its_old_login(srv):
    adm, adm2 = ready(srv, "admin", "admin")
    u = create_user("operator")
    uid = idle_for(u["username"], LIMIT + 40)
    assert wait_disabled(u["username"])
    r = adm.post("/api/users/%d/enable" % uid)
    assert r.status_code == 202, r.text
    a = r.json()["approval"]
    r = adm2.post("/api/approvals/%d/approve" % a["id"],
                  {"operation_sha256": a["operation_sha256"]})
    assert r.status_code == 200, r.text
    assert directory(u["username"])["disabled"] is False
    time.sleep(TICK + 2)
    assert directory(u["username"])["disabled"] is False
    assert len(events(u["username"], "user.disabled_inactive")) == 1


def test_the_database_applies_at_most_90_days():
    """A worker passing a longer limit cannot keep an idle account: the
    function never applies more than 90 days. The clock is moved and the
    function called in one transaction, so worker 1 cannot come first."""
    u = create_user("operator")
    with db("postgres") as conn, conn.cursor() as cur:
        conn.autocommit = False
        cur.execute("UPDATE auth.users SET created_at = now() - interval "
                    "'120 days', last_login_at = now() - interval "
                    "'95 days' WHERE username = %s RETURNING id",
                    (u["username"],))
        uid, = cur.fetchone()
        cur.execute("UPDATE auth.enrolments SET completed_at = now() - "
                    "interval '120 days' WHERE user_id = %s AND "
                    "completed_at IS NOT NULL", (uid,))
        cur.execute("SET LOCAL ROLE pc_auth")
        cur.execute("SELECT auth.disable_inactive(100000)")
        assert cur.fetchone()[0] >= 1
        conn.commit()
    ev = events(u["username"], "user.disabled_inactive")
    assert len(ev) == 1 and ev[0][3]["limit_days"] == 90, ev
    assert ev[0][3]["days_idle"] == 95


# --- the half-year account review -------------------------------------------

@pytest.fixture(scope="module")
def people(srv):
    aud1, aud2, adm, adm2 = ready(srv, "auditor", "auditor", "admin",
                                  "admin")
    return {"aud1": aud1, "aud2": aud2, "adm": adm, "adm2": adm2}


def test_half_year_review_lists_accounts_and_their_history(srv, people):
    adm, adm2, aud = people["adm"], people["adm2"], people["aud1"]
    u = create_user("operator")
    s = sign_in(srv, u)
    r = adm.post("/api/users/%d/role" % s.id, {"role": "admin"})
    assert r.status_code == 202, r.text
    a = r.json()["approval"]
    r = adm2.post("/api/approvals/%d/approve" % a["id"],
                  {"operation_sha256": a["operation_sha256"]})
    assert r.status_code == 200, r.text

    period = half_of(datetime.datetime.now(TZ))
    for who in (aud, adm):
        r = who.get("/api/reviews/accounts/" + period)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["period"] == period and body["timezone"] == "Asia/Tokyo"
        assert body["from"] == half_start(period).date().isoformat()
        accounts = {x["username"]: x for x in body["accounts"]}
        me = accounts[u["username"]]
        assert me["id"] == s.id and me["role"] == "admin"
        assert me["status"] == "enabled" and me["enrolment"] == "enrolled"
        assert me["last_login_at"] is not None
        assert me["created_at"] is not None and me["disabled_at"] is None
        changes = [h for h in me["history"]
                   if h["event"] == "user.role_changed"]
        assert len(changes) == 1, me["history"]
        assert changes[0]["actor"] == adm2.username      # the approver
        assert changes[0]["outcome"] == "success"
        assert changes[0]["details"]["from"] == "operator"
        assert changes[0]["details"]["to"] == "admin"
        # Every account is there, the reviewers' own too.
        assert aud.username in accounts and adm.username in accounts
        assert body["signoff"]["finished"] is False
    viewed = events(period, "review.viewed")
    assert len(viewed) >= 2, viewed


def test_half_year_review_lists_only_accounts_of_that_period(srv, people):
    aud = people["aud1"]
    prev = previous_half(datetime.datetime.now(TZ))
    old, new = create_user("operator"), create_user("operator")
    with db("pc_owner") as conn, conn.cursor() as cur:
        # Signed in now: not idle, so its state holds through the
        # sign-off test.
        cur.execute("UPDATE auth.users SET created_at = %s, last_login_at ="
                    " now() WHERE username = %s",
                    (half_start(prev) + datetime.timedelta(days=10),
                     old["username"]))
    r = aud.get("/api/reviews/accounts/" + prev)
    assert r.status_code == 200, r.text
    names = {x["username"] for x in r.json()["accounts"]}
    assert old["username"] in names
    assert new["username"] not in names
    assert r.json()["signoff"]["finished"] is True


def test_malformed_period_is_400(srv, people):
    for who in (people["aud1"], people["adm"]):
        for bad in ("2026-H3", "2026-H0", "2026-W47", "2026-h1", "1999-H1",
                    "2026-H1x", "x", "2026-H01"):
            r = who.get("/api/reviews/accounts/" + bad)
            assert_error(r, 400, "invalid_period")
    r = people["aud1"].post("/api/reviews/accounts/2026-H9/signoff",
                            {"comment": "x"})
    assert_error(r, 400, "invalid_period")
    r = people["adm"].post("/api/reviews/accounts/20261/confirm",
                           {"comment": "x"})
    assert_error(r, 400, "invalid_period")
    r = people["aud1"].get("/api/reviews/accounts/2026-H1?format=csv")
    assert_error(r, 400, "invalid_request")


def sign(sess, period, step, comment="checked"):
    """An account review's sign-off or confirmation, as sess."""
    return sess.post("/api/reviews/accounts/%s/%s" % (period, step),
                     {"comment": comment})


def test_half_year_signoff_and_confirmation(srv, people):
    aud1, aud2, adm = people["aud1"], people["aud2"], people["adm"]
    now = datetime.datetime.now(TZ)
    current, prev = half_of(now), previous_half(now)
    base = "/api/reviews/accounts/"

    # GET /api/reviews lists the half-years beside the weeks (032): the
    # current one first, not finished; the one before, ended and not
    # yet confirmed, overdue. (Halves that ended before the trail's
    # first event are not listed: one event in the previous half makes
    # sure the trail reaches back that far.)
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO audit.events (at, actor_name, event, "
                    "target, outcome, details) VALUES (%s, 'seed', "
                    "'test.marker', 'lifecycle', 'info', '{}')",
                    (half_start(prev) + datetime.timedelta(days=1),))

    def halves():
        r = aud1.get("/api/reviews")
        assert r.status_code == 200, r.text
        return {h["week"]: h for h in r.json()["halves"]}
    listed = halves()
    assert list(listed)[:2] == [current, prev], list(listed)
    assert listed[current]["finished"] is False
    assert listed[current]["overdue"] is False
    assert listed[prev]["finished"] is True
    assert listed[prev]["overdue"] is True
    assert listed[prev]["complete"] is False

    # Only a finished half-year is signed off; admins only confirm.
    for sess, period, step, status, code in (
            (aud1, current, "signoff", 409, "period_not_finished"),
            (aud2, prev, "confirm", 409, "not_signed_off"),
            (adm, prev, "signoff", 403, "forbidden")):
        assert_error(sign(sess, period, step), status, code)

    r = sign(aud1, prev, "signoff", "accounts checked")
    assert r.status_code == 201, r.text
    assert r.json() == {"period": prev, "status": "signed_off"}
    assert_error(sign(aud1, prev, "signoff"), 409, "already_signed_off")
    assert_error(sign(aud1, prev, "confirm"), 409, "same_person")

    r = sign(aud2, prev, "confirm")
    assert r.status_code == 201, r.text
    assert r.json() == {"period": prev, "status": "confirmed"}
    assert_error(sign(adm, prev, "confirm"), 409, "already_confirmed")

    assert halves()[prev]["complete"] is True
    assert halves()[prev]["overdue"] is False
    st = aud1.get(base + prev).json()["signoff"]
    assert st["signed_off_by"] == aud1.username
    assert st["confirmed_by"] == aud2.username
    assert st["complete"] is True and st["overdue"] is False
    assert st["changed_since_signoff"] is False

    signed = events(prev, "review.signed_off")
    assert [e[2] for e in signed] == ["success"]
    assert signed[0][3]["comment"] == "accounts checked"
    assert len(signed[0][3]["figures_sha256"]) == 64
    confirmed = events(prev, "review.confirmed")
    assert [e[2] for e in confirmed] == ["denied", "success"]
    assert confirmed[0][3] == {"reason": "same_person"}
    assert confirmed[1][3]["signed_off_by"] == aud1.username
