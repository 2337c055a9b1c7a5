"""Issue 5: payments. Search, detail, capture, cancel and refunds against
the real binary and the real database: the state machine (through the API
and inside PostgreSQL for any code path), refunds that never exceed the
captured amount under concurrency, idempotency keys and If-Match
versions, the card-number guard, masking of personal data, CSV export
neutralised against formula injection, role separation, keyset
pagination, and plans that use indexes at 200 000 rows.

Every test makes its own transactions directly in the database as
pc_owner, with merchant_order_id values nobody else uses, so tests depend
neither on each other nor on the demo data. Bulk rows for the plan tests
are prefixed BULK- and are left in place."""
import base64
import csv
import datetime
import io
import json
import threading
import uuid
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import psycopg2
import pytest

from conftest import db, module_server
from ledger import (get, luhn_ok, make_tx, new_key, op, refund, refund_rows,
                    snapshot, tx_row, unique)
from people import (NO_SOURCE_BLOCK, assert_error, assert_security_headers,
                    error_of, max_event_id, ready)

TX_KEYS = {"id", "merchant_order_id", "amount", "currency", "status",
           "card_brand", "card_last4", "cardholder_name", "cardholder_email",
           "created_at", "updated_at", "version"}
REFUND_KEYS = {"id", "amount", "reason", "actor_name", "created_at"}
STATUSES = ("authorized", "captured", "cancelled", "partially_refunded",
            "refunded", "failed")
LEGAL = {("authorized", "captured"), ("authorized", "cancelled"),
         ("captured", "partially_refunded"), ("captured", "refunded"),
         ("partially_refunded", "partially_refunded"),
         ("partially_refunded", "refunded")}
TZ = ZoneInfo("Asia/Tokyo")
UNKNOWN_ID = 987654321987
BULK_ROWS = 200000
ROW_CAP = 10000


# --- fixtures ---------------------------------------------------------------

pay = module_server("payments", workers=2, policy=dict(NO_SOURCE_BLOCK))


@pytest.fixture(scope="module")
def people(pay):
    """One signed-in user per role, password already changed."""
    op, aud, adm = ready(pay, "operator", "auditor", "admin")
    return SimpleNamespace(operator=op, auditor=aud, admin=adm)


# --- database helpers -------------------------------------------------------


def audit_since(since, target=None, event=None):
    """[dict(actor_name, event, target, outcome, details)] after since."""
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT actor_name, event, target, outcome, details "
                    "FROM audit.events WHERE id > %s "
                    "AND (%s::text IS NULL OR target = %s) "
                    "AND (%s::text IS NULL OR event = %s) ORDER BY id",
                    (since, target, target, event, event))
        return [dict(zip(("actor_name", "event", "target", "outcome",
                          "details"), r)) for r in cur.fetchall()]


def audit_text_since(since):
    """Every audit row after since, as text."""
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT row_to_json(e)::text FROM audit.events e "
                    "WHERE id > %s ORDER BY id", (since,))
        return [r[0] for r in cur.fetchall()]


def payment_events(since, tid):
    return [e for e in audit_since(since, str(tid))
            if e["event"].startswith("transaction.")
            and e["event"] != "transaction.viewed"]


# --- HTTP helpers -----------------------------------------------------------


def assert_tx_item(item, tid=None):
    assert TX_KEYS <= set(item), item
    for k in ("id", "amount", "created_at", "updated_at", "version"):
        assert isinstance(item[k], int) and not isinstance(item[k], bool), \
            (k, item)
    for k in TX_KEYS - {"id", "amount", "created_at", "updated_at",
                        "version"}:
        assert isinstance(item[k], str), (k, item)
    if tid is not None:
        assert item["id"] == tid, item


def search(srv, sess, **params):
    """The transactions a 200 search answer lists, and the answer."""
    r = get(srv, sess, "/api/transactions", **params)
    assert r.status_code == 200, (params, r.status_code, r.text)
    assert_security_headers(r)
    body = r.json()
    assert set(body) == {"transactions", "next_cursor"}, body
    for item in body["transactions"]:
        assert_tx_item(item)
    return body["transactions"], body


def detail(srv, sess, tid):
    r = get(srv, sess, "/api/transactions/%d" % tid)
    assert r.status_code == 200, (r.status_code, r.text)
    assert_security_headers(r)
    body = r.json()
    assert_tx_item(body["transaction"], tid)
    for rf in body["refunds"]:
        assert REFUND_KEYS <= set(rf), rf
    return body


def ids(items):
    return [t["id"] for t in items]


def export(srv, sess, **params):
    """(response, parsed CSV records) of a 200 export."""
    r = get(srv, sess, "/api/transactions/export", **params)
    assert r.status_code == 200, (params, r.status_code, r.text[:300])
    assert_security_headers(r)
    ctype = r.headers.get("Content-Type", "").replace(" ", "").lower()
    assert ctype == "text/csv;charset=utf-8", dict(r.headers)
    assert r.headers.get("Content-Disposition", "").startswith(
        "attachment"), dict(r.headers)
    assert r.headers.get("X-Row-Cap") == str(ROW_CAP), dict(r.headers)
    text = r.content.decode("utf-8")
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records, "empty export"
    header = records[0]
    assert header and all(isinstance(c, str) and c for c in header), header
    for rec in records[1:]:
        assert len(rec) == len(header), (header, rec)
    assert r.headers.get("X-Rows") == str(len(records) - 1), \
        (dict(r.headers), len(records))
    return r, records


def luhn_complete(prefix):
    for c in "0123456789":
        if luhn_ok(prefix + c):
            return prefix + c
    raise AssertionError(prefix)


def digits_only(s):
    return "".join(ch for ch in s if ch.isdigit())


def not_a_card(length=16):
    """A number of that many digits none of whose 13..19-digit runs
    passes the Luhn check: an ordinary reference, not a card number."""
    n = 4111111111111112
    while True:
        d = str(n)[:length]
        if not any(luhn_ok(d[i:j]) for i in range(len(d))
                   for j in range(i + 13, min(len(d), i + 19) + 1)):
            return d
        n += 1


NOT_A_CARD = not_a_card()


# --- 1. the state machine, through the API and inside PostgreSQL -------------

def test_legal_transitions_through_the_api(pay, people):
    srv, oper = pay, people.operator
    since = max_event_id()

    # authorized -> captured: captured_amount becomes the amount.
    t = make_tx("authorized", 1234)
    v = tx_row(t)["version"]
    r = op(srv, oper, t, "capture", version=v)
    assert r.status_code == 200, (r.status_code, r.text)
    assert_security_headers(r)
    item = r.json()["transaction"]
    assert_tx_item(item, t)
    assert item["status"] == "captured" and item["version"] == v + 1
    assert item["cardholder_name"] == "Yuki Tanaka"
    assert item["cardholder_email"] == "taro@example.com"
    row = tx_row(t)
    assert (row["status"], row["captured_amount"], row["refunded_amount"],
            row["version"]) == ("captured", 1234, 0, v + 1)
    ev = audit_since(since, str(t), "transaction.captured")
    assert len(ev) == 1 and ev[0]["actor_name"] == oper.username, ev

    # authorized -> cancelled.
    c = make_tx("authorized", 800)
    v = tx_row(c)["version"]
    r = op(srv, oper, c, "cancel", version=v)
    assert r.status_code == 200, (r.status_code, r.text)
    item = r.json()["transaction"]
    assert item["status"] == "cancelled" and item["version"] == v + 1
    row = tx_row(c)
    assert (row["status"], row["captured_amount"], row["refunded_amount"],
            row["version"]) == ("cancelled", 0, 0, v + 1)
    ev = audit_since(since, str(c), "transaction.cancelled")
    assert len(ev) == 1 and ev[0]["actor_name"] == oper.username, ev

    # captured -> partially_refunded -> partially_refunded -> refunded,
    # continuing on the transaction captured above.
    steps = [(300, "partially_refunded"), (200, "partially_refunded"),
             (734, "refunded")]
    done = 0
    for amount, status in steps:
        v = tx_row(t)["version"]
        reason = "返品 %d" % amount
        r = refund(srv, oper, t, amount, reason, version=v)
        assert r.status_code == 201, (amount, r.status_code, r.text)
        body = r.json()
        assert REFUND_KEYS <= set(body["refund"]), body
        assert body["refund"]["amount"] == amount
        assert body["refund"]["reason"] == reason
        assert_tx_item(body["transaction"], t)
        assert body["transaction"]["status"] == status
        assert body["transaction"]["version"] == v + 1
        done += amount
        row = tx_row(t)
        assert (row["status"], row["refunded_amount"], row["version"]) == \
            (status, done, v + 1)
    rows = refund_rows(t)
    assert [x["amount"] for x in rows] == [300, 200, 734]
    assert sum(x["amount"] for x in rows) == tx_row(t)["refunded_amount"]
    ev = audit_since(since, str(t), "transaction.refunded")
    assert len(ev) == 3 and all(e["actor_name"] == oper.username
                                for e in ev), ev
    d = detail(srv, oper, t)
    assert [x["amount"] for x in d["refunds"]] == [300, 200, 734] or \
        [x["amount"] for x in d["refunds"]] == [734, 200, 300], d
    assert all(x["actor_name"] in (oper.username,
                                   oper.user["display_name"])
               for x in d["refunds"]), d
    # Detail and search both state the captured and refunded totals, so
    # the screen never has to guess what is left to refund.
    row = tx_row(t)
    assert (d["transaction"]["captured_amount"],
            d["transaction"]["refunded_amount"]) == \
        (row["captured_amount"], row["refunded_amount"]) == (1234, 1234)
    found = [x for x in search(srv, oper, amount_min=1234,
                               amount_max=1234)[0] if x["id"] == t]
    assert found and (found[0]["captured_amount"],
                      found[0]["refunded_amount"]) == (1234, 1234)

    # captured -> refunded in one step.
    f = make_tx("captured", 500)
    r = refund(srv, oper, f, 500)
    assert r.status_code == 201, (r.status_code, r.text)
    assert r.json()["transaction"]["status"] == "refunded"
    assert (tx_row(f)["status"], tx_row(f)["refunded_amount"]) == \
        ("refunded", 500)


def test_illegal_transitions_refused_through_the_api(pay, people):
    srv, oper = pay, people.operator
    since = max_event_id()
    cases = []
    for status in ("captured", "cancelled", "partially_refunded",
                   "refunded", "failed"):
        cases.append((status, "capture", None))
        cases.append((status, "cancel", None))
    for status in ("authorized", "cancelled", "failed"):
        cases.append((status, "refunds", {"amount": 1, "reason": "x"}))
    wrong = []
    touched = []
    for status, action, body in cases:
        t = make_tx(status, 1000)
        before = snapshot(t)
        r = op(srv, oper, t, action, body)
        if r.status_code != 409 or error_of(r) != "invalid_transition":
            wrong.append("%s on %s: %d %s" % (action, status, r.status_code,
                                              r.text[:200]))
        if snapshot(t) != before:
            wrong.append("%s on %s changed the row" % (action, status))
        touched.append(t)
    assert not wrong, "\n".join(wrong)

    # Nothing left to refund: refused, nothing stored.
    t = make_tx("refunded", 1000)
    before = snapshot(t)
    r = refund(srv, oper, t, 1)
    assert r.status_code == 409 and error_of(r) in (
        "refund_exceeds_captured", "invalid_transition"), r.text
    assert snapshot(t) == before
    touched.append(t)

    # More than what is left of a partial refund.
    p = make_tx("partially_refunded", 1000)         # 500 refunded
    before = snapshot(p)
    assert_error(refund(srv, oper, p, 501), 409, "refund_exceeds_captured")
    assert snapshot(p) == before
    r = refund(srv, oper, p, 500)
    assert r.status_code == 201, (r.status_code, r.text)
    assert tx_row(p)["status"] == "refunded"

    for t in touched:
        assert payment_events(since, t) == [], t


def sql_update(tid, assignments):
    """Run UPDATE payments.transactions SET <assignments>, version =
    version + 1 WHERE id = tid as the table's owner (since issue 12 no
    role the server logs in as may write it at all: the triggers are
    what still holds against the owner and the functions); None on
    success, else the error."""
    with db("pc_owner") as conn, conn.cursor() as cur:
        try:
            cur.execute("UPDATE payments.transactions SET %s, "
                        "version = version + 1 WHERE id = %%s" % assignments,
                        (tid,))
            if cur.rowcount != 1:
                return "rowcount %d" % cur.rowcount
            return None
        except psycopg2.Error as e:
            return e


# SET clauses that move a row to a status with amounts consistent with it
# (the CHECK constraints hold: only the state machine can refuse them).
TO_STATUS = {
    "authorized": "status = 'authorized', captured_amount = 0, "
                  "refunded_amount = 0",
    "captured": "status = 'captured', captured_amount = amount, "
                "refunded_amount = 0",
    "cancelled": "status = 'cancelled', captured_amount = 0, "
                 "refunded_amount = 0",
    "partially_refunded": "status = 'partially_refunded', "
                          "captured_amount = amount, "
                          "refunded_amount = amount / 2 + 100",
    "refunded": "status = 'refunded', captured_amount = amount, "
                "refunded_amount = amount",
    "failed": "status = 'failed', captured_amount = 0, refunded_amount = 0",
}


def test_state_machine_holds_inside_postgresql():
    wrong = []
    # Every illegal transition between two different statuses fails.
    for src in STATUSES:
        for dst in STATUSES:
            if src == dst or (src, dst) in LEGAL:
                continue
            t = make_tx(src, 1000)
            before = tx_row(t)
            err = sql_update(t, TO_STATUS[dst])
            if err is None:
                wrong.append("illegal %s -> %s accepted" % (src, dst))
            elif tx_row(t) != before:
                wrong.append("illegal %s -> %s changed the row" % (src, dst))

    # Every legal one, with consistent amounts, succeeds.
    legal = [
        ("authorized", "status = 'captured', captured_amount = amount",
         "captured"),
        ("authorized", "status = 'cancelled'", "cancelled"),
        ("captured", "status = 'partially_refunded', "
                     "refunded_amount = refunded_amount + 100",
         "partially_refunded"),
        ("captured", "status = 'refunded', refunded_amount = captured_amount",
         "refunded"),
        ("partially_refunded", "refunded_amount = refunded_amount + 100",
         "partially_refunded"),
        ("partially_refunded", "status = 'refunded', "
                               "refunded_amount = captured_amount",
         "refunded"),
    ]
    for src, assignments, dst in legal:
        t = make_tx(src, 1000)
        v = tx_row(t)["version"]
        err = sql_update(t, assignments)
        if err is not None:
            wrong.append("legal %s -> %s refused: %s" % (src, dst, err))
            continue
        row = tx_row(t)
        if (row["status"], row["version"]) != (dst, v + 1):
            wrong.append("legal %s -> %s: %r" % (src, dst, row))
    assert not wrong, "\n".join(wrong)

    # The contract's own example, guarded by status.
    t = make_tx("authorized", 1000)
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("UPDATE payments.transactions SET status = 'captured', "
                    "captured_amount = amount, version = version + 1 "
                    "WHERE id = %s AND status = 'authorized'", (t,))
        assert cur.rowcount == 1
    assert tx_row(t)["captured_amount"] == 1000


def test_amounts_and_identity_are_guarded_inside_postgresql():
    c = make_tx("captured", 1000)
    p = make_tx("partially_refunded", 1000)
    a = make_tx("authorized", 1000)
    refusals = [
        (c, "status = 'partially_refunded', "
            "refunded_amount = captured_amount + 1"),
        (p, "refunded_amount = captured_amount + 1"),
        (a, "amount = amount + 1"),
        (c, "amount = amount - 1, captured_amount = amount - 1"),
        (a, "card_last4 = '0000'"),
        (a, "merchant_order_id = '%s'" % unique("X")),
    ]
    wrong = []
    for tid, assignments in refusals:
        before = tx_row(tid)
        if sql_update(tid, assignments) is None:
            wrong.append("accepted: " + assignments)
        if tx_row(tid) != before:
            wrong.append("changed by: " + assignments)
    for tid in (c, p, a):
        with db("pc_payments") as conn, conn.cursor() as cur:
            with pytest.raises(psycopg2.Error):
                cur.execute("DELETE FROM payments.transactions "
                            "WHERE id = %s", (tid,))
        assert tx_row(tid) is not None
    assert not wrong, "\n".join(wrong)


# --- 2. concurrent refunds ---------------------------------------------------

def test_parallel_refunds_never_exceed_captured(pay, people):
    srv, oper = pay, people.operator
    t = make_tx("captured", 10)
    v0 = tx_row(t)["version"]
    since = max_event_id()
    n = 20
    outcomes = [None] * n
    barrier = threading.Barrier(n)

    def worker(i):
        try:
            barrier.wait(timeout=120)
            for attempt in range(50):
                d = get(srv, oper, "/api/transactions/%d" % t)
                if d.status_code != 200:
                    outcomes[i] = ("detail", d.status_code, d.text[:200])
                    return
                v = d.json()["transaction"]["version"]
                r = refund(srv, oper, t, 1, "parallel %d/%d" % (i, attempt),
                           key="par-%d-%d-%s" % (i, attempt,
                                                 uuid.uuid4().hex[:8]),
                           version=v)
                err = error_of(r)
                if r.status_code == 201:
                    outcomes[i] = "refunded"
                    return
                if r.status_code == 412 and err == "version_mismatch":
                    continue
                if r.status_code == 409 and err == "refund_exceeds_captured":
                    outcomes[i] = "exceeds"
                    return
                outcomes[i] = ("unexpected", r.status_code, r.text[:200])
                return
            outcomes[i] = "gave_up"
        except Exception as e:     # reported below, not lost in a thread
            outcomes[i] = ("exception", repr(e))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    assert not any(th.is_alive() for th in threads), outcomes

    odd = [o for o in outcomes if o not in ("refunded", "exceeds")]
    assert not odd, outcomes
    assert outcomes.count("refunded") == 10, outcomes
    assert outcomes.count("exceeds") >= 10, outcomes

    row = tx_row(t)
    assert (row["status"], row["captured_amount"], row["refunded_amount"]) \
        == ("refunded", 10, 10), row
    assert row["version"] == v0 + 10, row
    rows = refund_rows(t)
    assert len(rows) == 10 and sum(x["amount"] for x in rows) == 10, rows
    assert len(audit_since(since, str(t), "transaction.refunded")) == 10


# --- 3. idempotency and versions ---------------------------------------------

def test_idempotent_replay_conflict_and_stale_version(pay, people):
    srv, oper = pay, people.operator
    t = make_tx("captured", 1000)
    v = tx_row(t)["version"]
    since = max_event_id()
    key = new_key()
    body = {"amount": 100, "reason": "二重請求の返金"}

    first = op(srv, oper, t, "refunds", body, key=key, version=v)
    assert first.status_code == 201, (first.status_code, first.text)
    answer = first.json()
    assert answer["refund"]["amount"] == 100
    assert answer["refund"]["reason"] == body["reason"]
    assert answer["transaction"]["status"] == "partially_refunded"
    assert answer["transaction"]["version"] == v + 1

    # The same request again (same key, body, even the same If-Match):
    # the first answer, no second effect.
    for _ in range(2):
        again = op(srv, oper, t, "refunds", body, key=key, version=v)
        assert again.status_code == 201, (again.status_code, again.text)
        assert again.json() == answer
    row = tx_row(t)
    assert (row["refunded_amount"], row["version"]) == (100, v + 1), row
    assert len(refund_rows(t)) == 1
    assert len(audit_since(since, str(t), "transaction.refunded")) == 1

    # The same key with another body: a conflict, nothing changes.
    before = snapshot(t)
    for other in ({"amount": 200, "reason": body["reason"]},
                  {"amount": 100, "reason": "another reason"}):
        assert_error(op(srv, oper, t, "refunds", other, key=key,
                        version=v + 1), 409, "idempotency_conflict")
    assert snapshot(t) == before

    # A new key with a stale or future version: 412; none at all: 428.
    assert_error(refund(srv, oper, t, 100, version=v), 412,
                 "version_mismatch")
    assert_error(refund(srv, oper, t, 100, version=v + 7), 412,
                 "version_mismatch")
    assert_error(refund(srv, oper, t, 100, version=None), 428,
                 "precondition_required")
    # Missing or malformed keys.
    assert_error(refund(srv, oper, t, 100, key=None), 400, "invalid_request")
    for bad in ("a" * 65, "bad key", "a/b", "k.1", "k\"1", "k=1"):
        r = refund(srv, oper, t, 100, key=bad)
        assert r.status_code == 400 and error_of(r) == "invalid_request", \
            (bad, r.status_code, r.text)
    # Not ASCII at all: the HTTP layer may refuse it before the handler.
    r = refund(srv, oper, t, 100, key="ключ".encode("utf-8"))
    assert r.status_code == 400, (r.status_code, r.text)
    assert snapshot(t) == before
    assert len(audit_since(since, str(t), "transaction.refunded")) == 1

    # A key of exactly 64 allowed characters works.
    r = refund(srv, oper, t, 50, key="A-z_9" * 12 + "abcd")
    assert r.status_code == 201, (r.status_code, r.text)
    assert tx_row(t)["refunded_amount"] == 150

    # Capture and cancel: the same rules.
    c = make_tx("authorized", 700)
    v = tx_row(c)["version"]
    key = new_key()
    first = op(srv, oper, c, "capture", key=key, version=v)
    assert first.status_code == 200, (first.status_code, first.text)
    again = op(srv, oper, c, "capture", key=key, version=v)
    assert again.status_code == 200 and again.json() == first.json()
    assert tx_row(c)["version"] == v + 1
    assert len(audit_since(since, str(c), "transaction.captured")) == 1

    x = make_tx("authorized", 700)
    v = tx_row(x)["version"]
    before = snapshot(x)
    assert_error(op(srv, oper, x, "cancel", version=v + 1), 412,
                 "version_mismatch")
    assert_error(op(srv, oper, x, "cancel", version=None), 428,
                 "precondition_required")
    assert_error(op(srv, oper, x, "capture", key=None), 400,
                 "invalid_request")
    assert snapshot(x) == before
    r = op(srv, oper, x, "cancel", raw=b"", version=v)
    assert r.status_code == 200, (r.status_code, r.text)
    assert tx_row(x)["status"] == "cancelled"


def test_refund_body_validation(pay, people):
    srv, oper = pay, people.operator
    t = make_tx("captured", 1000)
    before = snapshot(t)
    bodies = [{"amount": 0, "reason": "x"}, {"amount": -1, "reason": "x"},
              {"amount": "100", "reason": "x"}, {"amount": 1.5, "reason": "x"},
              {"reason": "x"}, {"amount": 1}, {"amount": 1, "reason": ""},
              {"amount": 1, "reason": "x" * 501}, {"amount": 1, "reason": 5}]
    for b in bodies:
        assert_error(op(srv, oper, t, "refunds", b), 400, "invalid_request")
    assert_error(op(srv, oper, t, "refunds", raw=b"{not json"), 400,
                 "invalid_request")
    assert snapshot(t) == before
    r = refund(srv, oper, t, 1, "x" * 500)
    assert r.status_code == 201, (r.status_code, r.text)
    assert refund_rows(t)[0]["reason"] == "x" * 500


# --- 4. card numbers, masking, CSV -------------------------------------------

def test_card_number_in_refund_reason_refused_and_stored_nowhere(pay, people):
    srv, oper = pay, people.operator
    t = make_tx("captured", 1000)
    before = snapshot(t)
    since = max_event_id()
    n19 = luhn_complete("621700000000123456")
    reasons = [
        "card 4111111111111111 charged twice",
        "カード番号 4111 1111 1111 1111 で二重請求",
        "4111-1111-1111-1111",
        "amex 378282246310005",
        "thirteen: 4222222222222",
        "nineteen: " + n19,
        "discover 6011-1111-1111-1117 again",
    ]
    for rs in reasons:
        d = digits_only(rs)
        assert 13 <= len(d) <= 19 and luhn_ok(d), rs   # the data is right
    for rs in reasons:
        assert_error(refund(srv, oper, t, 100, rs), 400,
                     "card_number_refused")
    assert snapshot(t) == before

    pans = {"4111111111111111", "378282246310005", "4222222222222", n19,
            "6011111111111117"}
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM payments.refunds WHERE "
                    "regexp_replace(reason, '[^0-9]', '', 'g') "
                    "LIKE ANY (%s)", (["%%%s%%" % p for p in pans],))
        assert cur.fetchone()[0] == 0
    for text in audit_text_since(since):
        flat = text.replace(" ", "").replace("-", "")
        assert not any(p in flat for p in pans), text
    log = srv.output().replace(" ", "").replace("-", "")
    assert not any(p in log for p in pans), "card number in server log"

    # A long number none of whose runs passes the Luhn check is an
    # ordinary reference.
    r = refund(srv, oper, t, 100, "ref " + NOT_A_CARD)
    assert r.status_code == 201, (r.status_code, r.text)
    assert refund_rows(t)[0]["reason"] == "ref " + NOT_A_CARD


def test_card_number_in_query_refused(pay, people):
    srv = pay
    since = max_event_id()
    for path in ("/api/transactions", "/api/transactions/export"):
        for who in (people.operator, people.auditor):
            for pan in ("4111111111111111", "378282246310005"):
                r = get(srv, who, path, order_prefix=pan)
                assert_error(r, 400, "card_number_refused")
    for text in audit_text_since(since):
        assert "4111111111111111" not in text and \
            "378282246310005" not in text, text
    # Not every long number is a card number.
    items, _ = search(srv, people.operator, order_prefix=NOT_A_CARD)
    assert items == []


def test_personal_data_masked_in_search_and_auditor_detail(pay, people):
    srv, oper, aud = pay, people.operator, people.auditor
    prefix = unique("M")
    a = make_tx("captured", 1000, order=prefix + "-1", name="Yuki Tanaka",
                email="taro@example.com")
    b = make_tx("authorized", 2000, order=prefix + "-2", name="山田 太郎",
                email="yamada.taro@example.jp")
    masked = {a: ("Y*** T***", "t***@example.com"),
              b: ("山*** 太***", "y***@example.jp")}
    clear = {a: ("Yuki Tanaka", "taro@example.com"),
             b: ("山田 太郎", "yamada.taro@example.jp")}

    for who in (oper, aud):
        items, body = search(srv, who, order_prefix=prefix)
        assert ids(items) == [b, a], items
        for item in items:
            assert (item["cardholder_name"], item["cardholder_email"]) == \
                masked[item["id"]], item
        flat = json.dumps(body, ensure_ascii=False)
        for leak in ("Tanaka", "taro@", "田 太郎", "山田", "yamada"):
            assert leak not in flat, (leak, flat)

    # An auditor's detail is masked too.
    since = max_event_id()
    for tid in (a, b):
        d = detail(srv, aud, tid)
        tr = d["transaction"]
        assert (tr["cardholder_name"], tr["cardholder_email"]) == \
            masked[tid], tr
        flat = json.dumps(d, ensure_ascii=False)
        assert clear[tid][0] not in flat and clear[tid][1] not in flat

    # An operator sees the personal data, and every such view is audited.
    for tid in (a, b, a):
        d = detail(srv, oper, tid)
        tr = d["transaction"]
        assert (tr["cardholder_name"], tr["cardholder_email"]) == \
            clear[tid], tr
        assert tr["card_last4"] == "4242" and tr["card_brand"] == "visa"
    views = [e for e in audit_since(since, event="transaction.viewed")
             if e["actor_name"] == oper.username]
    assert [e["target"] for e in views] == [str(a), str(b), str(a)], views
    assert all(e["details"].get("personal_data") is True for e in views), \
        views

    # Unknown transactions.
    for who in (oper, aud):
        assert_error(get(srv, who, "/api/transactions/%d" % UNKNOWN_ID),
                     404, "not_found")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_csv_export_neutralises_formulas_and_masks(pay, people):
    srv, oper = pay, people.operator
    prefix = unique("C")
    names = {
        '=HYPERLINK("http://x")': "'=***",
        "+cmd|'/Ccalc'!A0": "'+***",
        "-2+3": "'-***",
        "@SUM(A1:A2)": "'@***",
        "Yuki Tanaka": "Y*** T***",
    }
    for i, name in enumerate(names):
        make_tx("captured", 1000 + i, order="%s-%d" % (prefix, i),
                name=name, email="=evil@example.com")
    since = max_event_id()
    r, records = export(srv, oper, order_prefix=prefix)
    data = records[1:]
    assert len(data) == len(names), records
    text = r.content.decode("utf-8")
    for name, cell in names.items():
        assert any(cell in rec for rec in data), (name, cell, data)
        if cell.startswith("'"):
            assert '"%s"' % cell in text, (cell, text)
    for rec in data:
        assert "'=***@example.com" in rec, rec
        for cell in rec:
            assert not cell.startswith(FORMULA_STARTS), (cell, rec)
    for leak in ("HYPERLINK", "Tanaka", "calc", "SUM(", "evil@"):
        assert leak not in text, (leak, text)
    # Newest first, like the search: created_at desc, id desc.
    order = [next(c for c in rec if c.startswith(prefix)) for rec in data]
    assert order == ["%s-%d" % (prefix, i)
                     for i in reversed(range(len(names)))], order

    ev = [e for e in audit_since(since, event="transactions.exported")
          if e["actor_name"] == oper.username]
    assert len(ev) == 1 and ev[0]["details"].get("rows") == len(names), ev

    # An order id may begin with '-': its cell is neutralised too.
    dash = "-" + unique("D")
    make_tx("captured", 999, order=dash, name="John Smith")
    r, records = export(srv, oper, order_prefix=dash)
    assert len(records) == 2, records
    assert "'" + dash in records[1], records
    assert '"\'%s"' % dash in r.content.decode("utf-8")


# --- 5. auditors and admins --------------------------------------------------

def test_auditor_reads_but_never_operates_and_admin_gets_nothing(pay,
                                                                 people):
    srv, aud, adm = pay, people.auditor, people.admin
    prefix = unique("A")
    auth = make_tx("authorized", 1500, order=prefix + "-1")
    cap = make_tx("captured", 2500, order=prefix + "-2")

    # Auditors search, read masked detail and export.
    items, _ = search(srv, aud, order_prefix=prefix)
    assert ids(items) == [cap, auth]
    d = detail(srv, aud, cap)
    assert d["transaction"]["cardholder_name"] == "Y*** T***"
    since = max_event_id()
    _, records = export(srv, aud, order_prefix=prefix)
    assert len(records) == 3
    ev = [e for e in audit_since(since, event="transactions.exported")
          if e["actor_name"] == aud.username]
    assert len(ev) == 1 and ev[0]["details"].get("rows") == 2, ev

    before = {t: snapshot(t) for t in (auth, cap)}
    since = max_event_id()
    posts = [(auth, "capture", None), (auth, "cancel", None),
             (cap, "refunds", {"amount": 1, "reason": "x"})]
    gets = ["/api/transactions", "/api/transactions/%d" % cap,
            "/api/transactions/export"]
    wrong = []

    def check(r, status, code, what):
        assert_security_headers(r)
        if r.status_code != status or error_of(r) != code:
            wrong.append("%s: want %d %s, got %d %s" % (
                what, status, code, r.status_code, r.text[:200]))

    for tid, action, body in posts:
        check(op(srv, aud, tid, action, body), 403, "forbidden",
              "auditor " + action)
        check(op(srv, adm, tid, action, body), 403, "forbidden",
              "admin " + action)
        check(op(srv, None, tid, action, body), 401, "unauthenticated",
              "anonymous " + action)
        # Operators too must prove the request came from the console.
        check(op(srv, people.operator, tid, action, body, csrf=False), 403,
              "csrf_failed", "operator without CSRF " + action)
    for path in gets:
        check(get(srv, adm, path, order_prefix=prefix), 403, "forbidden",
              "admin GET " + path)
        check(get(srv, None, path, order_prefix=prefix), 401,
              "unauthenticated", "anonymous GET " + path)
    assert not wrong, "\n".join(wrong)
    for t in (auth, cap):
        assert snapshot(t) == before[t]
        assert payment_events(since, t) == [], t
    assert [e for e in audit_since(since, event="transactions.exported")
            if e["actor_name"] == adm.username] == []


# --- 6. keyset pagination, filters -------------------------------------------

def test_keyset_pagination(pay, people):
    srv, oper = pay, people.operator
    prefix = unique("P")
    base = datetime.datetime.now(datetime.timezone.utc) - \
        datetime.timedelta(hours=1)
    # Some share a created_at, so the id decides between them.
    offsets = [0, 0, 60, 60, 120, 180, 180]
    made = [make_tx("captured", 100 + i, order="%s-%d" % (prefix, i),
                    created_at=base - datetime.timedelta(seconds=s))
            for i, s in enumerate(offsets)]
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM payments.transactions WHERE id = ANY (%s)"
                    " ORDER BY created_at DESC, id DESC", (made,))
        expected = [r[0] for r in cur.fetchall()]

    for who in (oper, people.auditor):
        pages, cursor, seen = [], None, []
        for _ in range(5):
            items, body = search(srv, who, order_prefix=prefix, limit=3,
                                 cursor=cursor)
            pages.append(len(items))
            seen.extend(ids(items))
            cursor = body["next_cursor"]
            if cursor is None:
                break
            assert isinstance(cursor, str) and cursor, body
            if len(pages) == 1:
                first_cursor = cursor
        assert pages == [3, 3, 1], pages
        assert seen == expected, (seen, expected)
        assert len(set(seen)) == 7

    # A page that ends exactly at the last row has no next cursor.
    prefix3 = unique("Q")
    three = [make_tx("captured", 100, order="%s-%d" % (prefix3, i))
             for i in range(3)]
    items, body = search(srv, oper, order_prefix=prefix3, limit=3)
    assert sorted(ids(items)) == sorted(three)
    assert body["next_cursor"] is None, body
    items, body = search(srv, oper, order_prefix=prefix)
    assert ids(items) == expected and body["next_cursor"] is None

    # Forged or malformed cursors.
    for bad in ("garbage!", "AAAA", "x" * 300, "eyJpZCI6MX0", "-1"):
        assert_error(get(srv, oper, "/api/transactions", order_prefix=prefix,
                         limit=3, cursor=bad), 400, "invalid_request")

    # Cursors that looked like numbers (issue 13): past bigint (was 503
    # from PostgreSQL), a trailing NUL, leading zeros, fractions, another
    # spelling of a good one (was accepted).
    good = base64.b64decode(first_cursor).decode()
    us, tid = good.split(".")
    for text in ("9" * 20 + "." + tid, us + "." + "9" * 20,
                 good + "\0", "0" + good, us + ".0" + tid,
                 us + "." + tid + ".5", us + ".5." + tid, " " + good):
        bad = base64.b64encode(text.encode()).decode()
        assert_error(get(srv, oper, "/api/transactions", order_prefix=prefix,
                         limit=3, cursor=bad), 400, "invalid_request")
    for bad in (first_cursor.rstrip("="), first_cursor + "\n",
                base64.b64encode(good.encode() + b"\0\0").decode()):
        assert_error(get(srv, oper, "/api/transactions", order_prefix=prefix,
                         limit=3, cursor=bad), 400, "invalid_request")
    items, _ = search(srv, oper, order_prefix=prefix, limit=3,
                      cursor=first_cursor)
    assert ids(items) == expected[3:6]


def test_search_filters_and_validation(pay, people):
    srv, oper = pay, people.operator
    prefix = unique("F")

    def at(s):
        return datetime.datetime.fromisoformat(s).replace(tzinfo=TZ)

    a = make_tx("captured", 500, order=prefix + "-a", brand="visa",
                last4="1111", created_at=at("2020-01-02T03:04:05"))
    b = make_tx("authorized", 1500, order=prefix + "-b", brand="jcb",
                last4="2222", created_at=at("2020-01-02T03:04:06"))
    c = make_tx("refunded", 2500, order=prefix + "-c", brand="amex",
                last4="3333", created_at=at("2020-01-03T00:00:00"))
    d = make_tx("failed", 3500, order=prefix + "-d", brand="mastercard",
                last4="1111",
                created_at=datetime.datetime.now(datetime.timezone.utc) -
                datetime.timedelta(days=1))

    cases = [
        ({}, [d, c, b, a]),
        ({"status": "captured"}, [a]),
        ({"status": "cancelled"}, []),
        ({"brand": "jcb"}, [b]),
        ({"last4": "1111"}, [d, a]),
        ({"amount_min": 1000, "amount_max": 3000}, [c, b]),
        ({"amount_min": 3000}, [d]),
        ({"amount_max": 1000}, [a]),
        # Local time in Asia/Tokyo; from inclusive, to exclusive.
        ({"from": "2020-01-02T03:04:05", "to": "2020-01-02T03:04:06"}, [a]),
        ({"from": "2020-01-02T03:04:06"}, [d, c, b]),
        ({"to": "2020-01-02T03:04:06"}, [a]),
        ({"to": "2020-01-02T03:04:05"}, []),
        ({"status": "refunded", "brand": "amex", "last4": "3333",
          "amount_min": 2000, "amount_max": 2600,
          "from": "2020-01-01T00:00:00", "to": "2020-01-04T00:00:00"}, [c]),
        ({"status": "refunded", "brand": "visa"}, []),
    ]
    wrong = []
    for params, want in cases:
        items, _ = search(srv, oper, order_prefix=prefix, **params)
        if ids(items) != want:
            wrong.append("%r: want %r, got %r" % (params, want, ids(items)))
    assert not wrong, "\n".join(wrong)

    items, _ = search(srv, oper, order_prefix=prefix + "-a")
    assert ids(items) == [a]
    item = items[0]
    assert item["created_at"] == int(at("2020-01-02T03:04:05").timestamp())
    assert (item["merchant_order_id"], item["amount"], item["currency"],
            item["status"], item["card_brand"], item["card_last4"]) == \
        (prefix + "-a", 500, "JPY", "captured", "visa", "1111")
    assert item["version"] == tx_row(a)["version"]
    search(srv, oper, order_prefix=prefix, limit=200)
    search(srv, oper, order_prefix=prefix, limit=1)

    bad_filters = [
        {"status": "bogus"}, {"status": "CAPTURED"}, {"brand": "unionpay"},
        {"last4": "123"}, {"last4": "12345"}, {"last4": "12a4"},
        {"amount_min": "abc"}, {"amount_max": "1e3"},
        {"from": "2020-01-02"}, {"from": "2020-13-01T00:00:00"},
        {"to": "yesterday"}, {"from": "2020-01-02 03:04:05"}]
    bad_limits = [{"limit": 0}, {"limit": 201}, {"limit": "x"},
                  {"limit": -1}]
    for params, paths in (
            [(p, ("/api/transactions", "/api/transactions/export"))
             for p in bad_filters] +
            [(p, ("/api/transactions",)) for p in bad_limits]):
        for path in paths:
            r = get(srv, oper, path, order_prefix=prefix, **params)
            if r.status_code != 400 or error_of(r) != "invalid_request":
                wrong.append("%s %r: %d %s" % (path, params, r.status_code,
                                               r.text[:200]))
    assert not wrong, "\n".join(wrong)


# --- 7. 200 000 rows: the export cap and the plans ---------------------------

NAMES = [("山田 太郎", "taro.yamada"), ("鈴木 一郎", "ichiro.suzuki"),
         ("高橋 美咲", "misaki.t"), ("Yuki Tanaka", "yuki.tanaka"),
         ("John Smith", "jsmith"), ("Maria Garcia", "mgarcia"),
         ("渡辺 健", "ken.watanabe"), ("Anna Müller", "anna.mueller"),
         ("伊藤 さくら", "sakura.ito"), ("佐藤 花子", "hanako.sato")]


@pytest.fixture(scope="module")
def bulk():
    """At least BULK_ROWS transactions with BULK- order ids, spread over
    90 days, then ANALYZE. Inserted once per module, never deleted."""
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM payments.transactions "
                    "WHERE merchant_order_id LIKE 'BULK-%'")
        have = cur.fetchone()[0]
        if have < BULK_ROWS:
            cur.execute(
                "INSERT INTO payments.transactions (merchant_order_id, "
                " amount, currency, status, card_brand, card_last4, "
                " cardholder_name, cardholder_email, captured_amount, "
                " refunded_amount, created_at, updated_at) "
                "SELECT 'BULK-' || %(tag)s || '-' || lpad(g::text, 7, '0'), "
                " amt, 'JPY', st, "
                " (ARRAY['visa','visa','visa','mastercard','mastercard',"
                "  'jcb','jcb','amex','diners','discover'])"
                "  [1 + floor(random() * 10)::int], "
                " lpad(floor(random() * 10000)::int::text, 4, '0'), "
                " (%(names)s::text[])[k], "
                " (%(mails)s::text[])[k] || '@example.com', "
                " CASE WHEN st IN ('captured', 'partially_refunded', "
                "  'refunded') THEN amt ELSE 0 END, "
                " CASE st WHEN 'refunded' THEN amt "
                "  WHEN 'partially_refunded' THEN amt / 2 ELSE 0 END, "
                " t, t "
                "FROM (SELECT g, "
                "  100 + floor(random() * 200000)::bigint AS amt, "
                "  (ARRAY['captured','captured','captured','captured',"
                "   'authorized','authorized','cancelled',"
                "   'partially_refunded','refunded','failed'])"
                "   [1 + floor(random() * 10)::int] AS st, "
                "  1 + floor(random() * %(nn)s)::int AS k, "
                "  now() - random() * interval '90 days' AS t "
                " FROM generate_series(1, %(n)s) g) s",
                {"tag": uuid.uuid4().hex[:8], "n": BULK_ROWS,
                 "names": [x[0] for x in NAMES],
                 "mails": [x[1] for x in NAMES], "nn": len(NAMES)})
        cur.execute("ANALYZE payments.transactions")
        cur.execute("SELECT count(*) FROM payments.transactions")
        assert cur.fetchone()[0] >= BULK_ROWS


def test_export_row_cap(pay, people, bulk):
    srv, oper = pay, people.operator
    since = max_event_id()
    r, records = export(srv, oper, order_prefix="BULK-")
    assert r.headers["X-Rows"] == str(ROW_CAP)
    assert len(records) == ROW_CAP + 1
    text = r.content.decode("utf-8")
    for name, mail in NAMES:
        assert name not in text and mail + "@" not in text, name
    ev = [e for e in audit_since(since, event="transactions.exported")
          if e["actor_name"] == oper.username]
    assert len(ev) == 1 and ev[0]["details"].get("rows") == ROW_CAP, ev


SELECT = ("SELECT id, merchant_order_id, amount, currency, status, "
          "card_brand, card_last4, cardholder_name, cardholder_email, "
          "created_at, updated_at, version FROM payments.transactions "
          "WHERE %s ORDER BY created_at DESC, id DESC LIMIT 51")


def _ago(days):
    return (datetime.datetime.now(TZ) - datetime.timedelta(days=days))


FILTERS = {
    "created_range": ("created_at >= %(a)s AND created_at < %(b)s",
                      {"a": _ago(31), "b": _ago(30)}),
    "status": ("status = %(s)s", {"s": "refunded"}),
    "order_prefix": ("merchant_order_id LIKE %(p)s", {"p": "ORD-00001%"}),
    "amount_range": ("amount >= %(lo)s AND amount <= %(hi)s",
                     {"lo": 150000, "hi": 150500}),
    "last4": ("card_last4 = %(l)s", {"l": "4242"}),
    "brand": ("card_brand = %(b)s", {"b": "diners"}),
    "combined": ("created_at >= %(a)s AND created_at < %(b)s "
                 "AND status = %(s)s AND card_brand = %(br)s "
                 "AND amount >= %(lo)s AND amount <= %(hi)s",
                 {"a": _ago(60), "b": _ago(30), "s": "captured",
                  "br": "visa", "lo": 1000, "hi": 50000}),
    "combined_last4": ("card_last4 = %(l)s AND card_brand = %(br)s "
                       "AND status = %(s)s",
                       {"l": "1234", "br": "jcb", "s": "captured"}),
}


@pytest.mark.parametrize("shape", sorted(FILTERS))
def test_search_plans_use_indexes(bulk, shape):
    where, params = FILTERS[shape]
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("EXPLAIN " + SELECT % where, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "Seq Scan" not in plan, "%s:\n%s" % (shape, plan)
