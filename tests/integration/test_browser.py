"""Issues 7 and 12: the web UI in a real browser. Debian's chromium,
driven by playwright-core from npm (tests/browser/run.mjs), against real
payconsole servers and the real database: login with a computed code,
the generic message for a wrong code, the lockout path, an operator's
refund end to end (a double click refunds once), an auditor's read-only
screens and forged POST, an admin's password-reset request approved by a
second admin and its enrolment withdrawn, the outside-hours message, the
idle warning and expiry, and the rate-limit message of a blocked source.
Separation of duties, once in Japanese and once in English: an admin
requests an auditor account, an auditor approves it, the new person
does first sign-in with both code halves and the QR code on their own
page; an operator's refund above the threshold waits, a second operator
rejects a duplicate and approves it, and it shows once. Trusted devices
(issue 15), once in each language: a user revokes this browser from the
panel; an admin revokes all of a user's devices. Afterwards the
database must show the same. Every screen is saved as a screenshot
under the artefacts directory; any console error, page error or CSP
violation fails the suite.

Run alone as a script with "age-reauth USERNAME", it ages that user's
re-authentication (the browser suite calls it to make the API ask)."""
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pyotp
import pytest

from conftest import TOP, create_user, db
from people import NO_SOURCE_BLOCK, directory, failure_reasons

BROWSER_DIR = os.path.join(TOP, "tests", "browser")
CHROMIUM = "/usr/bin/chromium"
LOCKOUT_THRESHOLD = 3
REFUND_THRESHOLD = 2000
TIMEZONE = "Asia/Tokyo"
LANGS = ("ja", "en")

# Values whose jsonb text the UI must write as PostgreSQL does (the
# SHA-256 of that text names an approval's operation): the operations
# of issue 12, and key order, escapes and nesting.
JSONB_CASES = [
    {"kind": "user.create", "username": "aud_x", "display_name": "監査 花子",
     "role": "auditor"},
    {"kind": "user.role", "user_id": 12, "username": "t_abc",
     "role": "operator", "new_role": "auditor"},
    {"kind": "refund", "transaction": 42, "merchant_order_id":
     "ORD-0000000042", "amount": 150000, "currency": "JPY",
     "reason": "返金 \"quoted\" \\ back\nline\ttab \u0001\u001f ctl / 😀"},
    {"b": 1, "a": 2, "aa": [1, -2, True, False, None, {}], "é": "x",
     "ab": {"y": [], "x": "ü"}, "": 0, "B": "upper"},
    [], {}, "plain", 0, -7, None,
]


def artefacts_dir():
    d = os.environ.get("PC_ARTEFACTS") or os.path.join(
        TOP, "build", "artefacts", "browser")
    os.makedirs(d, exist_ok=True)
    return d


def closed_hours():
    """An allowed window of one hour that does not contain now (Tokyo),
    nor the next few minutes."""
    hour = datetime.datetime.now(ZoneInfo(TIMEZONE)).hour
    return "18:00-19:00" if hour < 12 else "03:00-04:00"


def finished_weeks(n=12):
    """ISO weeks (Tokyo) that have ended, newest first."""
    today = datetime.datetime.now(ZoneInfo(TIMEZONE)).date()
    weeks = []
    for k in range(1, n + 1):
        y, w, _ = (today - datetime.timedelta(days=7 * k)).isocalendar()
        weeks.append("%04d-W%02d" % (y, w))
    return weeks


def past_day_event():
    """One event two days ago (Tokyo), so that the daily reviews list at
    least one finished day (the list starts at the first event's day)."""
    when = datetime.datetime.now(ZoneInfo(TIMEZONE)) - \
        datetime.timedelta(days=2)
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO audit.events (at, actor_name, target, "
                    "source, event, outcome) VALUES (%s, 'br_past', "
                    "'br_past', '127.0.0.1', 'login.outside_hours', "
                    "'denied')", (when,))


def ensure_node_modules():
    """npm ci when tests/browser/node_modules is missing (make test runs
    it too); playwright-core only: it never downloads a browser."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are required: apt-get install nodejs npm")
    if not os.path.exists(CHROMIUM):
        pytest.fail("%s missing: apt-get install chromium" % CHROMIUM)
    if os.path.isdir(os.path.join(BROWSER_DIR, "node_modules",
                                  "playwright-core")):
        return
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"],
                       cwd=BROWSER_DIR, capture_output=True, text=True,
                       timeout=600, env=env)
    assert r.returncode == 0, "npm ci failed:\n%s%s" % (r.stdout, r.stderr)


def totp_check_cases():
    """Codes from pyotp that the suite's own TOTP must reproduce."""
    cases = []
    for secret in (pyotp.random_base32(), pyotp.random_base32(),
                   "JBSWY3DPEHPK3PXP"):
        for t in (59, 1111111109, int(time.time()), int(time.time()) + 30):
            cases.append({"secret": secret, "t": t,
                          "code": pyotp.TOTP(secret).at(t)})
    return cases


def age_reauth(username):
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("UPDATE auth.sessions s "
                    "SET reauth_at = now() - interval '6 minutes' "
                    "FROM auth.users u WHERE u.id = s.user_id "
                    "AND u.username = %s AND s.revoked_at IS NULL",
                    (username,))
        assert cur.rowcount >= 1, "no live session of %s" % username


def jsonb_cases():
    """[{json, sha256}]: PostgreSQL's SHA-256 of each case's jsonb text."""
    out = []
    with db("pc_auditor") as conn, conn.cursor() as cur:
        for v in JSONB_CASES:
            text = json.dumps(v, ensure_ascii=False)
            cur.execute("SELECT encode(sha256(convert_to(%s::jsonb::text, "
                        "'UTF8')), 'hex')", (text,))
            out.append({"json": text, "sha256": cur.fetchone()[0]})
    return out


def refund_transactions():
    """A captured transaction per language, large enough for two
    requests above the threshold; the oldest (the operator scenario
    takes the newest)."""
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT id, merchant_order_id, amount "
                    "FROM payments.transactions WHERE status = 'captured' "
                    "AND amount >= %s ORDER BY id LIMIT %s",
                    (3 * REFUND_THRESHOLD + 3000, len(LANGS)))
        rows = cur.fetchall()
    assert len(rows) == len(LANGS), rows
    return {lang: {"id": r[0], "order": r[1], "amount": r[2]}
            for lang, r in zip(LANGS, rows)}


def results_of(output):
    out = {}
    for line in output.splitlines():
        if line.startswith("RESULT "):
            out.update(json.loads(line[len("RESULT "):]))
    return out


def test_browser_suite(make_server, no_source_blocks):
    ensure_node_modules()
    main = make_server("browser", workers=2, policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold=str(LOCKOUT_THRESHOLD),
        refund_approval_threshold=str(REFUND_THRESHOLD)))
    hours = closed_hours()
    closed = make_server("browser-closed", policy=dict(
        NO_SOURCE_BLOCK, hours=hours))
    idle = make_server("browser-idle", policy=dict(
        NO_SOURCE_BLOCK, session_idle_seconds="20"))
    limited = make_server("browser-limited", policy=dict(
        source_fail_threshold="2", source_block_seconds="60"))
    servers = (main, closed, idle, limited)
    for srv in servers:
        srv.start(wait=False)
    accounts = [
        ("operator", "operator"), ("admin", "admin"), ("admin2", "admin"),
        ("auditor", "auditor"), ("resetme", "operator"),
        ("wrongcode", "operator"), ("lockout", "operator"),
        ("closed", "operator"), ("idle", "operator"),
        ("limited", "operator")]
    for lang in LANGS:
        accounts += [("sod_admin_" + lang, "admin"),
                     ("sod_auditor_" + lang, "auditor"),
                     ("sod_op1_" + lang, "operator"),
                     ("sod_op2_" + lang, "operator")]
        accounts.append(("devices_" + lang, "operator"))
    accounts.append(("devices_admin_en", "admin"))
    users = {name: create_user(role) for name, role in accounts}
    refund_txns = refund_transactions()
    past_day_event()
    for srv in servers:
        srv.wait_ready()

    art = artefacts_dir()
    for f in os.listdir(art):
        if f.endswith(".png"):
            os.unlink(os.path.join(art, f))
    env = dict(os.environ,
               PC_URL=main.url, PC_URL_CLOSED=closed.url,
               PC_URL_IDLE=idle.url, PC_URL_LIMITED=limited.url,
               PC_CLOSED_HOURS=hours,
               PC_TIMEZONE=TIMEZONE,
               PC_LOCKOUT_THRESHOLD=str(LOCKOUT_THRESHOLD),
               PC_USERS=json.dumps({k: {
                   "username": u["username"], "password": u["password"],
                   "totp_secret_base32": u["totp_secret_base32"]}
                   for k, u in users.items()}),
               PC_TOTP_CHECK=json.dumps(totp_check_cases()),
               PC_JSONB_CHECK=json.dumps(jsonb_cases()),
               PC_REFUND_TXNS=json.dumps(refund_txns),
               PC_REFUND_THRESHOLD=str(REFUND_THRESHOLD),
               PC_REVIEW_WEEKS=json.dumps(finished_weeks()),
               PC_HELPER=json.dumps([sys.executable,
                                     os.path.abspath(__file__)]),
               PC_ARTEFACTS=art)
    # The timeout only stops a hung browser; how long the suite takes is
    # not something it asserts.
    r = subprocess.run(["node", "run.mjs"], cwd=BROWSER_DIR, env=env,
                       capture_output=True, text=True, timeout=600)
    output = r.stdout + r.stderr
    print(output)
    assert r.returncode == 0, "browser suite failed:\n%s" % output

    # What the browser did, as the database sees it.
    res = results_of(output)
    shots = [f for f in os.listdir(art) if f.endswith(".png")]
    assert len(shots) >= 20, shots

    # Locked by the failures (the right code was then refused as
    # "locked"), unlocked by the admin on the users screen.
    assert res["unlocked"] == res["lockout"]
    assert failure_reasons(res["lockout"])[-1] == "locked"
    uid = directory(res["lockout"])["id"]
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_name FROM audit.events "
                    "WHERE target IN (%s, %s) AND event = "
                    "'account.unlocked' AND outcome = 'success'",
                    (res["lockout"], str(uid)))
        assert [r[0] for r in cur.fetchall()] == [users["admin"]["username"]]
        cur.execute("SELECT locked_until IS NULL OR locked_until <= now() "
                    "FROM auth.directory WHERE id = %s", (uid,))
        assert cur.fetchone()[0] is True

    ref = res["refund"]
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT amount FROM payments.refunds WHERE "
                    "transaction_id = %s AND actor_name = %s",
                    (ref["id"], ref["operator"]))
        assert [row[0] for row in cur.fetchall()] == [ref["amount"]], \
            "one refund for a double click"
        cur.execute("SELECT status FROM payments.transactions "
                    "WHERE id = %s", (res["captured"],))
        assert cur.fetchone()[0] == "captured"

    assert res["forged"] == [403, 403]

    check_reset(res["reset"], users)
    for lang in LANGS:
        check_account(res["sod_account_" + lang], users, lang)
        check_refund(res["sod_refund_" + lang], users, lang,
                     refund_txns[lang])

    check_devices(res, users)

    # The two-person sign-off, as recorded.
    week = res["signed_off"]
    assert res["confirmed"] == week
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT signed_off_name, confirmed_name FROM "
                    "audit.reviews WHERE week = %s", (week,))
        assert cur.fetchone() == (users["auditor"]["username"],
                                  users["admin"]["username"])


def check_reset(rs, users):
    """The reset was one request (the repeat was refused), approved by
    the second admin; its enrolment was withdrawn, unused."""
    admin, admin2 = users["admin"]["username"], users["admin2"]["username"]
    assert rs["username"] == users["resetme"]["username"], rs
    assert (rs["requester"], rs["approver"]) == (admin, admin2), rs
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT id, status, requested_name, decided_name "
                    "FROM approvals.requests WHERE kind = "
                    "'user.password_reset' AND target_name = %s",
                    (rs["username"],))
        assert cur.fetchall() == [(rs["approval"], "approved", admin,
                                   admin2)]
        cur.execute("SELECT e.approval_id, e.completed_at IS NULL, "
                    "e.revoked_by FROM auth.enrolments e JOIN auth.users u "
                    "ON u.id = e.user_id WHERE u.username = %s",
                    (rs["username"],))
        assert cur.fetchall() == [(rs["approval"], True, admin)]
    d = directory(rs["username"])
    assert d["enrolling"] is False and d["totp_state"] == "none", d


def check_account(acct, users, lang):
    """The auditor account exists, enrolled by its owner, created by a
    request whose requester and approver are two other people."""
    requester = users["sod_admin_" + lang]["username"]
    approver = users["sod_auditor_" + lang]["username"]
    assert (acct["requester"], acct["approver"]) == (requester, approver)
    d = directory(acct["username"])
    assert d["role"] == "auditor", d
    assert d["totp_state"] == "enrolled", d
    assert d["must_change_password"] is False, d
    assert d["enrolling"] is False, d
    assert d["last_login_at"] is not None, d
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT kind, status, approver_role, requested_name, "
                    "decided_name, requested_by <> decided_by, "
                    "operation_sha256, operation "
                    "FROM approvals.requests WHERE id = %s",
                    (acct["approval"],))
        row = cur.fetchone()
        assert row[:7] == ("user.create", "approved", "auditor", requester,
                           approver, True, acct["digest"]), row
        assert row[7]["username"] == acct["username"], row
        assert row[7]["role"] == "auditor", row
        cur.execute("SELECT u.created_by, e.approval_id, "
                    "e.completed_at IS NOT NULL, e.revoked_at IS NULL "
                    "FROM auth.users u JOIN auth.enrolments e "
                    "ON e.user_id = u.id WHERE u.username = %s",
                    (acct["username"],))
        assert cur.fetchall() == [("%s, approved by %s" % (
            requester, approver), acct["approval"], True, True)]


def check_refund(ref, users, lang, txn):
    """One refund row, the approved one, naming requester and approver;
    the rejected request moved nothing."""
    op1 = users["sod_op1_" + lang]["username"]
    op2 = users["sod_op2_" + lang]["username"]
    assert ref["txn"] == txn["id"], (ref, txn)
    assert (ref["requester"], ref["approver"]) == (op1, op2), ref
    assert ref["amount"] > REFUND_THRESHOLD, ref
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT amount, actor_name, approved_by, approval_id "
                    "FROM payments.refunds WHERE transaction_id = %s "
                    "AND (approval_id IS NOT NULL OR actor_name IN "
                    "(%s, %s))", (txn["id"], op1, op2))
        assert cur.fetchall() == [(ref["amount"], op1, op2,
                                   ref["approval"])]
        cur.execute("SELECT id, kind, status, requested_name, decided_name "
                    "FROM approvals.requests WHERE target_txn = %s "
                    "ORDER BY id", (txn["id"],))
        assert cur.fetchall() == [
            (ref["approval"], "refund", "approved", op1, op2),
            (ref["rejected"], "refund", "rejected", op1, op2)]
        cur.execute("SELECT t.refunded_amount, t.status, (SELECT sum(amount) "
                    "FROM payments.refunds r WHERE r.transaction_id = t.id) "
                    "FROM payments.transactions t WHERE t.id = %s",
                    (txn["id"],))
        refunded, status, total = cur.fetchone()
        assert refunded == total and refunded >= ref["amount"], (
            refunded, total)
        assert status == "partially_refunded", status


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "age-reauth":
        age_reauth(sys.argv[2])
    else:
        sys.exit("usage: test_browser.py age-reauth USERNAME")


def check_devices(res, users):
    """Each device user's one device (issued at their sign-in) is
    revoked: in Japanese by the user, in English by the admin."""
    want = {"devices_ja": ("user", "devices_ja"),
            "devices_en": ("admin", "devices_admin_en")}
    with db("pc_owner") as conn, conn.cursor() as cur:
        for key, (reason, by) in want.items():
            assert res[key] == users[key]["username"]
            cur.execute("SELECT d.revoke_reason, b.username FROM "
                        "auth.devices d JOIN auth.users u ON u.id = "
                        "d.user_id LEFT JOIN auth.users b ON b.id = "
                        "d.revoked_by WHERE u.username = %s",
                        (res[key],))
            assert cur.fetchall() == [(reason, users[by]["username"])], key
