"""Issue 13: card numbers past the guard. Through the real API, a card
number written with any separator (dots, slashes, underscores, commas,
tabs, newlines, NBSP, U+2007, zero-width space, a mix) or in other
digits (Arabic-Indic, mathematical bold) is refused with 400
card_number_refused in a refund reason, an alert acknowledgement comment
and a display name, and stored nowhere; an unauthenticated login whose
username is a card number leaves no trace in audit.events or the log; an
Idempotency-Key of card digits is refused; a huge number in a numeric
query parameter is a bad number (invalid_request), not a card number.

Each class is a test PAN (4111 1111 1111 1111, Luhn-valid) that the guard
before this change let through."""
import hashlib
import json
import unicodedata
import uuid

import pytest
import requests

from conftest import clear_source_blocks, db, module_server
from people import (NO_SOURCE_BLOCK, assert_error, cookie_header, max_event_id,
                    ready)

PAN = "4111111111111111"
HUGE = "18446744073709551617"       # 2**64 + 1


def in_digits(text, zero):
    """text with its ASCII digits taken from the block starting at zero."""
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in text)


# The classes of issue 13, each a way of writing PAN.
CLASSES = {
    "dots": "4111.1111.1111.1111",
    "slashes": "4111/1111/1111/1111",
    "underscores": "4111_1111_1111_1111",
    "commas": "4111,1111,1111,1111",
    "tabs": "4111\t1111\t1111\t1111",
    "newlines": "4111\n1111\n1111\n1111",
    "nbsp": "4111\u00a01111\u00a01111\u00a01111",
    "figure_space": "4111\u20071111\u20071111\u20071111",
    "zero_width_space": "4111\u200b1111\u200b1111\u200b1111",
    "mixed": "4111 1111-1111.1111",
    "arabic_indic": in_digits("4111 1111 1111 1111", 0x0660),
    "math_bold": in_digits("4111111111111111", 0x1D7CE),
}
# Names and comments in the display-name field are single lines.
ONE_LINE = {k: v for k, v in CLASSES.items() if k not in ("tabs", "newlines")}


def folded(text):
    """text with every digit of any script as ASCII and nothing but the
    digits: what a reader would take for the number."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        d = unicodedata.digit(ch, None)
        if d is not None:
            out.append(str(d))
    return "".join(out)


srv = module_server("cardguard", workers=1, policy=dict(NO_SOURCE_BLOCK))


@pytest.fixture(scope="module")
def people(srv):
    op, aud, adm = ready(srv, "operator", "auditor", "admin")
    return op, aud, adm


def audit_digits_since(since):
    """The digits of every audit row after since, one string per row."""
    with db("pc_auditor") as conn, conn.cursor() as cur:
        cur.execute("SELECT row_to_json(e)::text FROM audit.events e "
                    "WHERE id > %s ORDER BY id", (since,))
        return [folded(r[0]) for r in cur.fetchall()]


def assert_no_pan_since(srv, since):
    for row in audit_digits_since(since):
        assert PAN not in row, row
    # The log, digits only: a card number split by anything is found.
    for line in srv.output().splitlines():
        assert PAN not in folded(line), line


def captured_tx(amount=100000):
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO payments.transactions (merchant_order_id, amount, "
            "currency, status, card_brand, card_last4, cardholder_name, "
            "cardholder_email, captured_amount, refunded_amount) VALUES "
            "(%s, %s, 'JPY', 'captured', 'visa', '1111', 'Card Guard', "
            "'cg@example.com', %s, 0) RETURNING id, version",
            ("CG-" + uuid.uuid4().hex[:12], amount, amount))
        return cur.fetchone()


def refunds_of(tid):
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT reason FROM payments.refunds "
                    "WHERE transaction_id = %s", (tid,))
        return [r[0] for r in cur.fetchall()]


def post_refund(srv, sess, tid, version, reason, key=None):
    headers = dict(cookie_header(sess.token))
    headers.update({"Origin": srv.url, "X-CSRF-Token": sess.csrf,
                    "Content-Type": "application/json",
                    "Idempotency-Key": key or "k-" + uuid.uuid4().hex,
                    "If-Match": str(version)})
    body = json.dumps({"amount": 100, "reason": reason},
                      ensure_ascii=False).encode("utf-8")
    return requests.post(srv.url + "/api/transactions/%d/refunds" % tid,
                         headers=headers, data=body, verify=False,
                         timeout=120)


def login(srv, username, path="/api/login", **fields):
    """POST a sign-in body as raw UTF-8 JSON, as a browser sends it."""
    body = json.dumps(dict(fields or {"password": "Not-the-pass-1",
                                      "otp": "123456"}, username=username),
                      ensure_ascii=False).encode("utf-8")
    return requests.post(srv.url + path, data=body, verify=False,
                         timeout=120,
                         headers={"Content-Type": "application/json"})


def test_every_class_is_the_test_pan():
    for name, text in CLASSES.items():
        assert folded(text) == PAN, name


def test_refund_reason_refused_for_every_class(srv, people):
    oper = people[0]
    tid, version = captured_tx()
    since = max_event_id()
    for name, text in CLASSES.items():
        r = post_refund(srv, oper, tid, version, "card " + text + " twice")
        assert_error(r, 400, "card_number_refused")
    assert refunds_of(tid) == []
    assert_no_pan_since(srv, since)
    # Ordinary text in other scripts and with separators still goes in.
    reason = "\u0627\u0644\u0637\u0644\u0628 \u0661\u0662\u0663, " \
        "2024/01/31 09:30, JPY 1,000,000.00"
    r = post_refund(srv, oper, tid, version, reason)
    assert r.status_code == 201, (r.status_code, r.text)
    assert refunds_of(tid) == [reason]


def test_alert_ack_comment_refused_for_every_class(srv, people):
    aud = people[1]
    # No alert is needed: the comment is judged before the alert is
    # looked up, so an ordinary one reaches the lookup (404).
    path = "/api/alerts/987654321/ack"
    for name, text in CLASSES.items():
        assert_error(aud.post(path, {"comment": "customer " + text}), 400,
                     "card_number_refused")
    assert_error(aud.post(path, {"comment": "false alarm, 12.50 JPY"}),
                 404, "not_found")


def test_display_name_refused_for_every_class(srv, people):
    adm = people[2]
    since = max_event_id()
    for name, text in ONE_LINE.items():
        r = adm.post("/api/users", {"username": "cg_" + uuid.uuid4().hex[:8],
                                    "display_name": "Card " + text,
                                    "role": "operator"})
        assert_error(r, 400, "card_number_refused")
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT display_name FROM auth.users")
        for (d,) in cur.fetchall():
            assert PAN not in folded(d), d
    assert_no_pan_since(srv, since)


def test_login_username_card_number_never_recorded(srv):
    clear_source_blocks()
    since = max_event_id()
    for name, text in CLASSES.items():
        r = login(srv, text)
        assert_error(r, 400, "card_number_refused")
    assert_no_pan_since(srv, since)
    # An ordinary unknown name is still an ordinary failure.
    r = login(srv, "nobody_" + uuid.uuid4().hex[:6])
    assert_error(r, 401, "invalid_credentials")


def test_first_sign_in_username_card_number_refused(srv):
    """The enrolment steps take a username too: a card number there was
    refused as invalid_request, which told the person nothing. Now it
    is card_number_refused, as at login, and nothing is recorded."""
    since = max_event_id()
    codes = {"code_1": "AAAA-AAAA", "code_2": "BBBB-BBBB"}
    for path, last in (("/api/enrolment/begin",
                        {"password": "A-long-enough-pass-1"}),
                       ("/api/enrolment/finish", {"otp": "123456"})):
        for name, text in CLASSES.items():
            r = login(srv, text, path, **codes, **last)
            assert_error(r, 400, "card_number_refused")
        r = login(srv, "nobody_" + uuid.uuid4().hex[:6], path, **codes,
                  **last)
        assert_error(r, 401, "invalid_credentials")
    assert_no_pan_since(srv, since)


def test_idempotency_key_of_card_digits_refused(srv, people):
    oper = people[0]
    tid, version = captured_tx()
    for key in (PAN, "4111-1111-1111-1111", "4111_1111_1111_1111",
                "-4111111111111111_"):
        r = post_refund(srv, oper, tid, version, "customer request", key=key)
        assert_error(r, 400, "card_number_refused")
    assert refunds_of(tid) == []
    # A key with letters is an opaque token (a hex UUID's digits hold a
    # Luhn-valid run now and then): accepted, but only its SHA-256 is
    # kept, so a card number inside it is stored nowhere.
    key = "key-" + PAN
    r = post_refund(srv, oper, tid, version, "customer request", key=key)
    assert r.status_code == 201, (r.status_code, r.text)
    r = post_refund(srv, oper, tid, version, "customer request", key=key)
    assert r.status_code == 201, (r.status_code, r.text)    # a replay
    assert len(refunds_of(tid)) == 1
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT key FROM payments.idempotency "
                    "WHERE actor_id = %s", (oper.id,))
        keys = [k for (k,) in cur.fetchall()]
    assert hashlib.sha256(key.encode()).hexdigest() in keys, keys
    assert not any(PAN in k for k in keys), keys


def test_huge_numbers_are_bad_numbers_not_cards(srv, people):
    oper, aud = people[0], people[1]

    def get(sess, path):
        return requests.get(srv.url + path, headers=cookie_header(sess.token),
                            verify=False, timeout=120)

    for path in ("/api/transactions?limit=" + HUGE,
                 "/api/transactions/export?limit=" + HUGE,
                 "/api/transactions?amount_min=" + HUGE,
                 "/api/transactions?amount_max=" + HUGE):
        assert_error(get(oper, path), 400, "invalid_request")
    for path in ("/api/audit/events?limit=" + HUGE,
                 "/api/audit/events?before=" + HUGE):
        assert_error(get(aud, path), 400, "invalid_request")
    # A card number in a text filter is still a card number.
    assert_error(get(oper, "/api/transactions?order_prefix=4111.1111.1111."
                 "1111"), 400, "card_number_refused")
    assert_error(get(aud, "/api/audit/events?target=4111%C2%A01111%C2%A0"
                 "1111%C2%A01111"), 400, "card_number_refused")
