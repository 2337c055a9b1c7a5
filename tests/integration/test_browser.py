"""Issue 7: the web UI in a real browser. Debian's chromium, driven by
playwright-core from npm (tests/browser/run.mjs), against real payconsole
servers and the real database: login with a computed code, the generic
message for a wrong code, the lockout path, an operator's refund end to
end (a double click refunds once), an admin creating a user and enrolling
the device, that user's first login from the URI on the page, an
auditor's read-only screens and forged POST, the outside-hours message,
the idle warning and expiry, and the rate-limit message of a blocked
source. Every screen is saved as a screenshot
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
from test_login import NO_SOURCE_BLOCK, clear_source_blocks, failure_reasons

BROWSER_DIR = os.path.join(TOP, "tests", "browser")
CHROMIUM = "/usr/bin/chromium"
LOCKOUT_THRESHOLD = 3
TIMEZONE = "Asia/Tokyo"


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


def directory(username):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT row_to_json(d) FROM auth.directory d "
                    "WHERE username = %s", (username,))
        row = cur.fetchone()
        return row[0] if row else None


def age_reauth(username):
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("UPDATE auth.sessions s "
                    "SET reauth_at = now() - interval '6 minutes' "
                    "FROM auth.users u WHERE u.id = s.user_id "
                    "AND u.username = %s AND s.revoked_at IS NULL",
                    (username,))
        assert cur.rowcount >= 1, "no live session of %s" % username


def results_of(output):
    out = {}
    for line in output.splitlines():
        if line.startswith("RESULT "):
            out.update(json.loads(line[len("RESULT "):]))
    return out


@pytest.fixture
def _no_source_blocks():
    clear_source_blocks()
    yield
    clear_source_blocks()


def test_browser_suite(make_server, _no_source_blocks):
    ensure_node_modules()
    main = make_server("browser", workers=2, policy=dict(
        NO_SOURCE_BLOCK, lockout_threshold=str(LOCKOUT_THRESHOLD)))
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
    users = {name: create_user(role) for name, role in (
        ("operator", "operator"), ("admin", "admin"),
        ("auditor", "auditor"), ("wrongcode", "operator"),
        ("lockout", "operator"), ("closed", "operator"),
        ("idle", "operator"), ("limited", "operator"))}
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

    new = directory(res["newuser"])
    assert new["totp_state"] == "enrolled", new
    assert new["must_change_password"] is False, new
    assert new["role"] == "operator", new
    assert res["forged"] == [403, 403]

    # The two-person sign-off, as recorded.
    week = res["signed_off"]
    assert res["confirmed"] == week
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT signed_off_name, confirmed_name FROM "
                    "audit.reviews WHERE week = %s", (week,))
        assert cur.fetchone() == (users["auditor"]["username"],
                                  users["admin"]["username"])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "age-reauth":
        age_reauth(sys.argv[2])
    else:
        sys.exit("usage: test_browser.py age-reauth USERNAME")
