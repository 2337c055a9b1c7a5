"""Transactions and refunds for the suites that need them: rows inserted
as the owner, read back as the owner sees them, and the transaction
operations over HTTP (test_payments.py, test_events.py, test_faults.py)."""
import json
import urllib.parse
import uuid

import requests

from conftest import db
from people import cookie_header

CURRENT = object()      # "send the version the database holds now"


def unique(prefix="T"):
    return prefix + uuid.uuid4().hex[:16]


def amounts_for(status, amount):
    """(captured_amount, refunded_amount) consistent with a status."""
    if status in ("authorized", "cancelled", "failed"):
        return 0, 0
    if status == "captured":
        return amount, 0
    if status == "partially_refunded":
        return amount, amount // 2
    return amount, amount           # refunded


def make_tx(status="authorized", amount=1000, order=None,
            name="Yuki Tanaka", email="taro@example.com", brand="visa",
            last4="4242", created_at=None, currency="JPY"):
    """A transaction inserted as pc_owner; its id."""
    captured, refunded = amounts_for(status, amount)
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO payments.transactions (merchant_order_id, amount, "
            "currency, status, card_brand, card_last4, cardholder_name, "
            "cardholder_email, captured_amount, refunded_amount, "
            "created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, "
            "%s, %s, %s, coalesce(%s::timestamptz, now()), "
            "coalesce(%s::timestamptz, now())) RETURNING id",
            (order or unique(), amount, currency, status, brand, last4,
             name, email, captured, refunded, created_at, created_at))
        return cur.fetchone()[0]


def tx_row(tid):
    """The transaction as the owner sees it (dict)."""
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT row_to_json(t) FROM payments.transactions t "
                    "WHERE id = %s", (tid,))
        row = cur.fetchone()
        return row[0] if row else None


def refund_rows(tid):
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT row_to_json(r) FROM payments.refunds r "
                    "WHERE transaction_id = %s ORDER BY id", (tid,))
        return [r[0] for r in cur.fetchall()]


def snapshot(tid):
    return tx_row(tid), refund_rows(tid)


def new_key():
    return "k-" + uuid.uuid4().hex


def query(path, **params):
    params = {k: v for k, v in params.items() if v is not None}
    return path + ("?" + urllib.parse.urlencode(params) if params else "")


def get(srv, sess, path, **params):
    headers = cookie_header(sess.token) if sess is not None else {}
    return requests.get(srv.url + query(path, **params), headers=headers,
                        verify=False, timeout=120)


def op(srv, sess, tid, action, body=None, key=CURRENT, version=CURRENT,
       raw=None, csrf=True):
    """POST /api/transactions/{tid}/{action}. key: CURRENT for a fresh
    Idempotency-Key, None for none; version: CURRENT for the version the
    database holds now, None for no If-Match."""
    headers = {}
    if sess is not None:
        headers.update(cookie_header(sess.token))
    if csrf:
        headers["Origin"] = srv.url
        headers["X-CSRF-Token"] = sess.csrf if sess is not None \
            else "A" * 43
    if key is CURRENT:
        key = new_key()
    if key is not None:
        headers["Idempotency-Key"] = key
    if version is CURRENT:
        row = tx_row(tid)
        version = row["version"] if row else 1
    if version is not None:
        headers["If-Match"] = str(version)
    if raw is not None:
        data = raw
        headers["Content-Type"] = "application/json"
    else:
        headers["Content-Type"] = "application/json"
        data = json.dumps({} if body is None else body,
                          ensure_ascii=False).encode("utf-8")
    return requests.post(srv.url + "/api/transactions/%d/%s" % (tid, action),
                         headers=headers, data=data, verify=False,
                         timeout=120)


def refund(srv, sess, tid, amount, reason="customer request", **kw):
    return op(srv, sess, tid, "refunds", {"amount": amount,
                                          "reason": reason}, **kw)


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0
