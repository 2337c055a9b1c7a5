"""Issue 12: separation of duties per person, not per account.

Black box, against the real server and database (attacker A5 of
THREATS.md, one admin acting alone, and A3, an operator with a large
refund): nobody learns another person's credentials; everything that
gives access, and every refund above the threshold, is a request a
second person approves (an auditor for auditor accounts, another admin
for the rest, another operator for refunds); approving executes exactly
the operation that was shown, once; requests expire; enrolment codes are
split between requester and approver, so no single person can enrol an
account; the requester and the approver cannot acknowledge the alerts of
their own request.

The database side (A6, code execution in a worker) is in
test_foundation.py: the roles the server logs in as cannot write a table
or forge a record."""
import base64
import json
import re
import threading
import time
import uuid

import pyotp
import pytest
import requests

from conftest import create_user, db, module_server
from people import (NO_SOURCE_BLOCK, STEP, api, assert_error,
                    assert_invalid_credentials, cookie_header, directory,
                    fresh_name, login_ok, new_password, own_txn, post_login,
                    ready, settle, sign_in)

THRESHOLD = 1000
CODE_RE = re.compile(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){5}-[A-Z2-7]{2}")


pytestmark = pytest.mark.usefixtures("no_source_blocks")


srv = module_server("sod", workers=2, policy=dict(
    NO_SOURCE_BLOCK, lockout_threshold="10",
    refund_approval_threshold=str(THRESHOLD)))


# --- helpers ----------------------------------------------------------------

def request_of(r, status=202):
    """The approval a request answer carries (and its code half, if any)."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    a = body["approval"]
    assert a["status"] == "pending", a
    assert re.fullmatch(r"[0-9a-f]{64}", a["operation_sha256"]), a
    return a, body.get("enrolment_code")


def approve(sess, a, comment=None):
    body = {"operation_sha256": a["operation_sha256"]}
    if comment:
        body["comment"] = comment
    return sess.post("/api/approvals/%d/approve" % a["id"], body)


def listed(sess, a):
    r = sess.get("/api/approvals")
    assert r.status_code == 200, r.text
    found = [x for x in r.json()["approvals"] if x["id"] == a["id"]]
    return found[0] if found else None


def status_of(a):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM approvals.requests WHERE id = %s",
                    (a["id"],))
        return cur.fetchone()[0]


def events_of(event, target):
    """[(actor_name, outcome, details)] of event about target."""
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_name, outcome, details FROM audit.events "
                    "WHERE event = %s AND target = %s ORDER BY id",
                    (event, target))
        return cur.fetchall()


def enrol(srv, username, c1, c2, password=None, last_step=None):
    """First sign-in with both halves: the user dict it leaves (password
    chosen here, secret read from the otpauth URI shown). last_step: the
    account's last accepted step before, if it had one; the server keeps
    the later of the two (no step is accepted twice, whatever the
    secret)."""
    password = password or new_password()
    r = api(srv, "POST", "/api/enrolment/begin", body={
        "username": username, "code_1": c1, "code_2": c2,
        "password": password})
    assert r.status_code == 200, (r.status_code, r.text)
    ans = r.json()
    assert ans["username"] == username
    secret = pyotp.parse_uri(ans["otpauth_uri"]).secret
    assert "<svg" in ans["qr_svg"]
    # The previous step's code (one step either way is accepted), so
    # that signing in next can use the current one without waiting.
    settle()
    now = time.time() - STEP
    r = api(srv, "POST", "/api/enrolment/finish", body={
        "username": username, "code_1": c1, "code_2": c2,
        "otp": pyotp.TOTP(secret).at(now)})
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json() == {"status": "enrolled"}
    return {"username": username, "password": password,
            "totp_secret_base32": secret,
            "last_step": max(int(now // STEP), last_step or 0)}


def enrol_refused(srv, username, c1, c2):
    r = api(srv, "POST", "/api/enrolment/begin", body={
        "username": username, "code_1": c1, "code_2": c2,
        "password": new_password()})
    assert_error(r, 401, "invalid_credentials")


def random_half():
    return "-".join(base64.b32encode(uuid.uuid4().bytes).decode()[i:i + 4]
                    for i in range(0, 26, 4))


def create_request(adm, role, name=None):
    name = name or fresh_name()
    r = adm.post("/api/users", {"username": name, "display_name":
                                "新しい人 " + name[-4:], "role": role})
    a, half1 = request_of(r)
    assert CODE_RE.fullmatch(half1), half1
    assert r.json()["enrolment_code_part"] == 1
    return name, a, half1


# --- one admin alone ---------------------------------------------------------

def test_one_admin_alone_obtains_no_working_login(srv):
    """Every path that used to hand an admin a credential (create, reset
    password, new device, role change, enable) is now a request; the
    admin who made it cannot approve it, and holds at most one half."""
    adm, = ready(srv, "admin")
    victim = create_user("operator")
    sess_v = sign_in(srv, victim)
    vid = sess_v.id

    # Create: 202, one half, no account yet, no way in.
    name, a, half1 = create_request(adm, "operator")
    assert a["kind"] == "user.create" and a["approver_role"] == "admin"
    assert a["operation"] == {"kind": "user.create", "username": name,
                              "display_name": "新しい人 " + name[-4:],
                              "role": "operator"}
    assert directory(name) is None
    assert_error(approve(adm, a), 403, "four_eyes")
    for c2 in (half1, random_half()):
        enrol_refused(srv, name, half1, c2)

    # Admins choose no passwords any more.
    r = adm.post("/api/users", {"username": fresh_name(), "role":
                                "operator", "display_name": "x",
                                "password": new_password()})
    assert_error(r, 400, "invalid_request")

    # Reset password, new device, role change: requests; nothing changed.
    kinds = {}
    for path, body in (("password", {}), ("otp", {}),
                       ("role", {"role": "admin"})):
        r = adm.post("/api/users/%d/%s" % (vid, path), body)
        kinds[path], half = request_of(r)
        assert (half is None) == (path == "role"), r.text
        assert_error(approve(adm, kinds[path]), 403, "four_eyes")
    assert kinds["password"]["kind"] == "user.password_reset"
    assert kinds["otp"]["kind"] == "user.device_reset"
    assert kinds["role"]["operation"]["new_role"] == "admin"
    # A second request for the same thing waits behind the first.
    assert_error(adm.post("/api/users/%d/password" % vid, {}), 409,
                 "approval_pending")
    d = directory(victim["username"])
    assert d["role"] == "operator" and d["totp_state"] == "enrolled"
    assert sess_v.get("/api/me").status_code == 200

    # Disabling is one person's (it takes access away); enabling is not.
    assert adm.post("/api/users/%d/disable" % vid).status_code == 200
    a_en, _ = request_of(adm.post("/api/users/%d/enable" % vid))
    assert_error(approve(adm, a_en), 403, "four_eyes")
    assert directory(victim["username"])["disabled"] is True

    # Nowhere in the list is the other half, or any secret.
    r = adm.get("/api/approvals")
    assert r.status_code == 200
    assert "enrolment_code" not in r.text and half1 not in r.text
    mine = [x for x in r.json()["approvals"] if x["mine"]]
    assert {x["id"] for x in mine} >= {a["id"], a_en["id"]} | {
        x["id"] for x in kinds.values()}
    assert not any(x["can_decide"] for x in mine)


def test_an_auditor_account_needs_an_auditor(srv):
    """A request about an auditor account (created as one, or its role
    to or from auditor) is decided by an auditor, never an admin: one
    admin, even with a second admin, cannot make the accounts that sign
    and confirm a weekly review."""
    adm, adm2, aud = ready(srv, "admin", "admin", "auditor")
    name, a, half1 = create_request(adm, "auditor")
    assert a["approver_role"] == "auditor"
    assert_error(approve(adm2, a), 403, "forbidden")
    assert listed(adm2, a)["can_decide"] is False
    assert listed(aud, a)["can_decide"] is True
    assert directory(name) is None

    op = create_user("operator")
    op_id = sign_in(srv, op).id
    r = adm.post("/api/users/%d/role" % op_id, {"role": "auditor"})
    a_role, _ = request_of(r)
    assert a_role["approver_role"] == "auditor"
    assert_error(approve(adm2, a_role), 403, "forbidden")

    # The auditor approves; the half the approval gives goes to them.
    r = approve(aud, a, "checked with HR")
    assert r.status_code == 200, r.text
    half2 = r.json()["enrolment_code"]
    assert r.json()["enrolment_code_part"] == 2
    assert CODE_RE.fullmatch(half2) and half2 != half1
    assert r.json()["approval"]["status"] == "approved"
    assert r.json()["approval"]["decided_by"] == aud.username
    d = directory(name)
    assert d["role"] == "auditor" and d["enrolling"] is True
    assert d["totp_state"] is None

    # The requester's half alone, or twice, opens nothing.
    enrol_refused(srv, name, half1, half1)
    enrol_refused(srv, name, half2, half1)
    user = enrol(srv, name, half1, half2)
    body = login_ok(srv, user).json()
    assert body["user"]["role"] == "auditor"
    assert body["must_change_password"] is False
    assert directory(name)["enrolling"] is False

    ev = events_of("user.created", name)
    assert len(ev) == 1 and ev[0][0] == aud.username
    assert ev[0][2]["requested_by"] == adm.id
    assert ev[0][2]["approved_by"] == aud.id


def test_two_people_enrol_an_account_only_its_owner_knows(srv):
    adm, adm2 = ready(srv, "admin", "admin")
    name, a, half1 = create_request(adm, "operator")
    r = approve(adm2, a)
    assert r.status_code == 200, r.text
    half2 = r.json()["enrolment_code"]
    # Approving twice issues no second half.
    assert_error(approve(adm2, a), 409, "approval_not_pending")

    # Typed as people type: lower case, blanks for dashes.
    typed = half2.lower().replace("-", " ")
    user = enrol(srv, name, half1, typed)
    # Consumed: the same halves open nothing again.
    enrol_refused(srv, name, half1, half2)
    login_ok(srv, user)

    # The secret the user scanned was never in an admin's answer.
    for sess in (adm, adm2):
        r = sess.get("/api/approvals")
        assert user["totp_secret_base32"] not in r.text
        r = sess.get("/api/users")
        assert user["totp_secret_base32"] not in r.text
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT code_hash_1, code_hash_2, completed_at "
                    "IS NOT NULL FROM auth.enrolments e JOIN auth.users u "
                    "ON u.id = e.user_id WHERE u.username = %s", (name,))
        h1, h2, done = cur.fetchone()
    # Only hashes are stored.
    assert done and len(bytes(h1)) == 32 and len(bytes(h2)) == 32
    assert base64.b32decode(half1.replace("-", "") + "======") \
        not in bytes(h1)


def test_reset_reissues_both_factors_through_enrolment(srv):
    adm, adm2 = ready(srv, "admin", "admin")
    victim = create_user("operator")
    sess_v = sign_in(srv, victim)
    for path, kind in (("password", "user.password_reset"),
                       ("otp", "user.device_reset")):
        a, half1 = request_of(adm.post("/api/users/%d/%s" % (sess_v.id,
                                                                path), {}))
        assert a["kind"] == kind
        r = approve(adm2, a)
        assert r.status_code == 200, r.text
        half2 = r.json()["enrolment_code"]
        # The old factors stop at once, with every session.
        assert sess_v.get("/api/me").status_code == 401
        settle()
        assert_invalid_credentials(post_login(
            srv, victim["username"], victim["password"],
            pyotp.TOTP(victim["totp_secret_base32"]).now()))
        victim = enrol(srv, victim["username"], half1, half2,
                       last_step=victim["last_step"])
        sess_v = sign_in(srv, victim)
        assert events_of(kind, victim["username"])[-1][0] == adm2.username


def test_role_change_and_enable_execute_on_approval(srv):
    adm, adm2 = ready(srv, "admin", "admin")
    u = create_user("operator")
    s = sign_in(srv, u)
    a, _ = request_of(adm.post("/api/users/%d/role" % s.id,
                               {"role": "admin"}))
    assert s.get("/api/me").status_code == 200
    r = approve(adm2, a)
    assert r.status_code == 200, r.text
    assert directory(u["username"])["role"] == "admin"
    # Sessions end with the old role.
    assert s.get("/api/me").status_code == 401

    assert adm.post("/api/users/%d/disable" % s.id).status_code == 200
    a, _ = request_of(adm2.post("/api/users/%d/enable" % s.id))
    assert directory(u["username"])["disabled"] is True
    assert approve(adm, a).status_code == 200
    assert directory(u["username"])["disabled"] is False


def test_approval_executes_exactly_the_operation_shown(srv):
    adm, adm2 = ready(srv, "admin", "admin")
    name, a, _ = create_request(adm, "operator")
    r = adm2.post("/api/approvals/%d/approve" % a["id"],
                  {"operation_sha256": "0" * 64})
    assert_error(r, 409, "operation_mismatch")
    r = adm2.post("/api/approvals/%d/approve" % a["id"], {})
    assert_error(r, 400, "invalid_request")
    assert status_of(a) == "pending" and directory(name) is None
    # Rejected: recorded, nothing created, no longer decidable.
    r = adm2.post("/api/approvals/%d/reject" % a["id"],
                  {"comment": "not known to HR"})
    assert r.status_code == 200, r.text
    assert r.json()["approval"]["status"] == "rejected"
    assert directory(name) is None
    assert_error(approve(adm2, a), 409, "approval_not_pending")
    ev = events_of("approval.rejected", name)
    assert len(ev) == 1 and ev[0][0] == adm2.username
    assert ev[0][2]["comment"] == "not known to HR"


def test_the_requester_withdraws_a_request_nobody_decided(srv):
    adm, adm2 = ready(srv, "admin", "admin")
    name, a, _ = create_request(adm, "operator")
    # Only its requester takes it back.
    assert_error(adm2.post("/api/approvals/%d/withdraw" % a["id"]), 403,
                 "forbidden")
    r = adm.post("/api/approvals/%d/withdraw" % a["id"])
    assert r.status_code == 200, r.text
    assert r.json()["approval"]["status"] == "withdrawn"
    assert_error(approve(adm2, a), 409, "approval_not_pending")
    assert_error(adm.post("/api/approvals/%d/withdraw" % a["id"]), 409,
                 "approval_not_pending")
    assert directory(name) is None
    ev = events_of("approval.withdrawn", name)
    assert len(ev) == 1 and ev[0][0] == adm.username
    # The same account can be requested again at once.
    request_of(adm.post("/api/users", {"username": name,
                                       "display_name": "again",
                                       "role": "operator"}))


def test_deciding_outside_ones_role_is_forbidden(srv):
    op1, aud, adm = ready(srv, "operator", "auditor", "admin")
    tid, version = own_txn(prefix="SOD")
    a, _ = request_of(refund(op1, tid, version, 5000,
                             key="sod-" + uuid.uuid4().hex))
    # The auditor sees it (auditors read everything) but decides nothing.
    assert listed(aud, a)["can_decide"] is False
    assert listed(adm, a) is None
    for who in (aud, adm):
        assert_error(approve(who, a), 403, "forbidden")
        r = who.post("/api/approvals/%d/reject" % a["id"], {})
        assert_error(r, 403, "forbidden")
    assert status_of(a) == "pending"


def expire_now(a):
    """Back-date a request's expiry, as the superuser (the table's guard
    refuses it to everyone else)."""
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("UPDATE approvals.requests SET expires_at = now() - "
                    "interval '1 second' WHERE id = %s", (a["id"],))


def test_expired_requests_cannot_be_approved(srv):
    adm, adm2 = ready(srv, "admin", "admin")
    name, a, _ = create_request(adm, "operator")
    expire_now(a)
    assert listed(adm2, a)["can_decide"] is False
    assert listed(adm2, a)["status"] == "expired"
    assert_error(approve(adm2, a), 409, "approval_expired")
    assert status_of(a) == "expired" and directory(name) is None
    assert events_of("approval.expired", name)
    # Once marked expired, it answers the same stable code, whichever of
    # the decision and the timer came first.
    assert_error(approve(adm2, a), 409, "approval_expired")
    assert_error(adm2.post("/api/approvals/%d/reject" % a["id"], {}), 409,
                 "approval_expired")
    # A new request for the same account may now be made.
    r = adm.post("/api/users", {"username": name, "display_name": "again",
                                "role": "operator"})
    b, _ = request_of(r)

    # Nobody has to touch it: worker 1 records the expiry by itself.
    expire_now(b)
    deadline = time.time() + 40
    while status_of(b) == "pending" and time.time() < deadline:
        time.sleep(1)
    assert status_of(b) == "expired"
    assert len(events_of("approval.expired", name)) == 2


def test_requester_and_approver_cannot_acknowledge_its_alerts(srv):
    adm, adm2, adm3 = ready(srv, "admin", "admin", "admin")
    u = create_user("operator")
    uid = sign_in(srv, u).id
    a, _ = request_of(adm.post("/api/users/%d/role" % uid,
                               {"role": "admin"}))
    assert approve(adm2, a).status_code == 200
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM audit.alerts WHERE acknowledged_at IS "
                    "NULL AND (key = %s OR (rule = 'privilege_change' AND "
                    "key LIKE %s))", ("approval:%d" % a["id"],
                                      u["username"] + "@%"))
        alerts = [r[0] for r in cur.fetchall()]
    assert len(alerts) == 2, alerts
    for al in alerts:
        for who in (adm, adm2):
            r = who.post("/api/alerts/%d/ack" % al, {"comment": "mine"})
            assert_error(r, 403, "self_forbidden")
        r = adm3.post("/api/alerts/%d/ack" % al, {"comment": "seen"})
        assert r.status_code == 200, r.text


def test_privileged_account_creation_is_alerted(srv):
    adm, adm2 = ready(srv, "admin", "admin")
    name, a, _ = create_request(adm, "admin")
    assert approve(adm2, a).status_code == 200
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT a.rule, a.severity FROM audit.alerts a JOIN "
                    "audit.events e ON e.id = ANY (a.event_ids) WHERE "
                    "e.event = 'user.created' AND e.target = %s", (name,))
        assert cur.fetchall() == [("privileged_account", "alert")]


# --- refunds above the threshold ----------------------------------------------

def refund(sess, tid, version, amount, key):
    headers = dict(cookie_header(sess.token), Origin=sess.srv.url)
    headers.update({"X-CSRF-Token": sess.csrf, "Idempotency-Key": key,
                    "If-Match": str(version),
                    "Content-Type": "application/json"})
    # Raw UTF-8, as a browser sends it.
    body = json.dumps({"amount": amount, "reason": "顧客の依頼"},
                      ensure_ascii=False).encode()
    return requests.post(sess.srv.url + "/api/transactions/%d/refunds" %
                         tid, headers=headers, data=body, verify=False,
                         timeout=60)


def money(tid):
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT refunded_amount, status, version FROM "
                    "payments.transactions WHERE id = %s", (tid,))
        t = cur.fetchone()
        cur.execute("SELECT amount, actor_name, approved_by FROM "
                    "payments.refunds WHERE transaction_id = %s ORDER BY id",
                    (tid,))
        return t, cur.fetchall()


def test_large_refund_waits_for_a_second_operator(srv):
    op1, op2, op3, adm = ready(srv, "operator", "operator", "operator",
                               "admin")
    tid, version = own_txn(prefix="SOD")
    key = "sod-" + uuid.uuid4().hex

    # At the threshold: straight through.
    r = refund(op1, tid, version, THRESHOLD, key=key + "a")
    assert r.status_code == 201, r.text
    version = r.json()["transaction"]["version"]
    # Above it: a request, and nothing moves.
    r = refund(op1, tid, version, 7000, key=key)
    a, half = request_of(r)
    assert half is None and a["kind"] == "refund"
    assert a["approver_role"] == "operator"
    assert a["operation"] == {"kind": "refund", "transaction": tid,
                              "merchant_order_id": a["operation"][
                                  "merchant_order_id"],
                              "amount": 7000, "currency": "JPY",
                              "reason": "顧客の依頼"}
    before = money(tid)
    assert before[0][0] == THRESHOLD and len(before[1]) == 1
    # The same key replays the same answer: still one request.
    r2 = refund(op1, tid, version, 7000, key=key)
    assert r2.status_code == 202 and r2.json()["approval"]["id"] == a["id"]

    assert_error(approve(op1, a), 403, "four_eyes")
    # Admins and auditors do not move money.
    assert_error(approve(adm, a), 403, "forbidden")
    assert money(tid) == before

    # Approved three times at once (a double click and a colleague):
    # executed once.
    answers = []

    def go(sess):
        answers.append(approve(sess, a))
    threads = [threading.Thread(target=go, args=(s,))
               for s in (op2, op2, op3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 409, 409], [(r.status_code, r.text)
                                      for r in answers]
    won = [r for r in answers if r.status_code == 200][0]
    res = won.json()["result"]
    assert res["refund"]["amount"] == 7000
    txn, rows = money(tid)
    assert txn[0] == THRESHOLD + 7000 and txn[1] == "partially_refunded"
    assert len(rows) == 2 and rows[1][0] == 7000
    assert rows[1][1] == op1.username            # who asked
    assert rows[1][2] == won.json()["approval"]["decided_by"]
    ev = events_of("transaction.refunded", str(tid))
    assert ev[-1][0] == rows[1][2] and ev[-1][2]["requested_by"] == op1.id
    assert ev[-1][2]["approval"] == a["id"]


def test_an_expired_refund_request_moves_nothing(srv):
    op1, op2 = ready(srv, "operator", "operator")
    tid, version = own_txn(prefix="SOD")
    a, _ = request_of(refund(op1, tid, version, 5000,
                             key="sod-" + uuid.uuid4().hex))
    expire_now(a)
    assert_error(approve(op2, a), 409, "approval_expired")
    txn, rows = money(tid)
    assert txn[0] == 0 and rows == []


def test_refund_request_checked_again_when_approved(srv):
    """Two large refunds requested on the same payment: the second
    approval finds less left and moves nothing."""
    op1, op2 = ready(srv, "operator", "operator")
    tid, version = own_txn(10000, prefix="SOD")
    a, _ = request_of(refund(op1, tid, version, 8000,
                             key="sod-" + uuid.uuid4().hex))
    b, _ = request_of(refund(op1, tid, version, 8000,
                             key="sod-" + uuid.uuid4().hex))
    assert approve(op2, a).status_code == 200
    assert_error(approve(op2, b), 409, "refund_exceeds_captured")
    assert status_of(b) == "pending"
    txn, rows = money(tid)
    assert txn[0] == 8000 and len(rows) == 1
