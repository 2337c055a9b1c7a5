"""Issue 13, JSON: request bodies are RFC 8259 JSON, parsed strictly
(jansson, src/jsonin.c), and declared as JSON.

Through the real API: every \\u escape is taken (a username written
entirely in escapes signs in; a Japanese refund reason sent the way
Python's json.dumps sends it by default, every non-ASCII character
escaped and the emoji as a surrogate pair, is stored and read back as
the same text); a repeated member name, a number with a leading zero, a
lone surrogate and \\u0000 are refused with 400 invalid_request and
change nothing; a body that is not declared application/json is refused
with 415 unsupported_media_type before any handler reads it."""
import json
import uuid

import pytest
import requests

from conftest import db, module_server
from people import NO_SOURCE_BLOCK, assert_error, assert_invalid_credentials, \
    cookie_header, fresh_code, own_txn, ready

JSON_CT = "application/json"
JAPANESE = "お客様のご依頼による返金（二重請求）🙇"


jsrv = module_server("jsonstrict", policy=dict(NO_SOURCE_BLOCK))


@pytest.fixture(scope="module")
def oper(jsrv):
    """A signed-in operator, password already changed."""
    (sess,) = ready(jsrv, "operator")
    return sess


def escaped(text):
    """text with every character as a \\u escape (pairs above U+FFFF)."""
    units = text.encode("utf-16-be")
    return "".join("\\u%02x%02x" % (units[i], units[i + 1])
                   for i in range(0, len(units), 2))


def raw_login(srv, body, ctype=JSON_CT):
    headers = {} if ctype is None else {"Content-Type": ctype}
    return requests.post(srv.url + "/api/login", data=body, headers=headers,
                         verify=False, timeout=120)


def login_body(username, password="Not-the-password-1", otp="123456"):
    return json.dumps({"username": username, "password": password,
                       "otp": otp})


def money(tid):
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT refunded_amount, version, (SELECT count(*) "
                    "FROM payments.refunds WHERE transaction_id = t.id) "
                    "FROM payments.transactions t WHERE id = %s", (tid,))
        return cur.fetchone()


def refund_raw(sess, tid, version, body, ctype=JSON_CT):
    """POST a refund whose body is exactly these bytes."""
    headers = dict(cookie_header(sess.token), Origin=sess.srv.url)
    headers.update({"X-CSRF-Token": sess.csrf,
                    "Idempotency-Key": "js-" + uuid.uuid4().hex,
                    "If-Match": str(version)})
    if ctype is not None:
        headers["Content-Type"] = ctype
    return requests.post(sess.srv.url + "/api/transactions/%d/refunds" % tid,
                         headers=headers, data=body, verify=False,
                         timeout=120)


# --- every escape is taken ------------------------------------------------

def test_username_written_in_escapes_signs_in(jsrv, new_user):
    user = new_user()
    body = ('{"username":"%s","password":"%s","otp":"%s"}' % (
        escaped(user["username"]), escaped(user["password"]),
        fresh_code(user))).encode()
    assert b"\\u0074" in body           # "t" of "t_...", as \u0074
    r = raw_login(jsrv, body)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json()["user"]["username"] == user["username"]


def test_escaped_username_of_unknown_user_is_a_credential_failure(jsrv):
    # \u0061dmin1 is parsed ("admin1"), so the answer is about the
    # credentials, not the body.
    body = b'{"username":"\\u0061dmin1","password":"x","otp":"123456"}'
    assert_invalid_credentials(raw_login(jsrv, body))


def test_japanese_refund_reason_sent_by_json_dumps_round_trips(jsrv, oper):
    tid, version = own_txn(10000, prefix="JSON")
    body = json.dumps({"amount": 1234, "reason": JAPANESE})
    # Python's default: ASCII only, the emoji as a surrogate pair.
    assert body.isascii() and "\\ud83d\\ude47" in body
    r = refund_raw(oper, tid, version, body.encode())
    assert r.status_code == 201, (r.status_code, r.text)
    assert money(tid)[0] == 1234

    d = requests.get(jsrv.url + "/api/transactions/%d" % tid, verify=False,
                     headers=cookie_header(oper.token), timeout=120)
    assert d.status_code == 200, d.text
    assert [x["reason"] for x in d.json()["refunds"]] == [JAPANESE]
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT reason FROM payments.refunds WHERE "
                    "transaction_id = %s", (tid,))
        assert cur.fetchall() == [(JAPANESE,)]


# --- what RFC 8259 allows, jansson refuses, or we refuse ---------------------

@pytest.mark.parametrize("body", [
    # A member name twice: 1 used to win, and 1 was refunded.
    b'{"amount":1,"amount":100000000,"reason":"x"}',
    b'{"amount":100000000,"amount":1,"reason":"x"}',
    b'{"amount":1,"reason":"x","reason":"y"}',
    b'{"amount":1,"reason":"x","\\u0072eason":"y"}',
    # Numbers with leading zeros, and numbers that are not integers.
    b'{"amount":0100,"reason":"x"}',
    b'{"amount":-01,"reason":"x"}',
    b'{"amount":1e2,"reason":"x"}',
    # Lone surrogates, \u0000, invalid UTF-8, trailing bytes.
    b'{"amount":1,"reason":"\\ud800"}',
    b'{"amount":1,"reason":"ok \\udc00"}',
    b'{"amount":1,"reason":"\\ude47\\ud83d"}',
    b'{"amount":1,"reason":"a\\u0000b"}',
    b'{"amount":1,"reason":"\xed\xa0\x80"}',
    b'{"amount":1,"reason":"x"} {}',
    b'{"amount":1,"reason":"x"}x',
], ids=lambda b: b.decode("latin-1"))
def test_refund_bodies_refused_and_nothing_moves(jsrv, oper, body):
    tid, version = own_txn(10000, prefix="JSON")
    before = money(tid)
    r = refund_raw(oper, tid, version, body)
    assert_error(r, 400, "invalid_request")
    assert money(tid) == before


@pytest.mark.parametrize("body", [
    b'{"username":"a","username":"b","password":"x","otp":"123456"}',
    b'{"username":"\\ud800","password":"x","otp":"123456"}',
    b'{"username":"\\udfff x","password":"x","otp":"123456"}',
    b'{"username":"adm\\u0000in","password":"x","otp":"123456"}',
    b'{"username":"a","password":"x","otp":"123456","n":01}',
    b'{"username":"a","password":"x","otp":"123456","d":' +
    b'[' * 10 + b']' * 10 + b'}',
], ids=["duplicate", "lone-high", "lone-low", "nul", "leading-zero",
        "depth-11"])
def test_login_bodies_refused(jsrv, body):
    assert_error(raw_login(jsrv, body), 400, "invalid_request")


def test_depth_ten_is_still_taken(jsrv):
    # The object itself and nine arrays: Kore's old bound, kept.
    body = (b'{"username":"nobody-depth","password":"x","otp":"123456",'
            b'"d":' + b'[' * 9 + b']' * 9 + b'}')
    assert_invalid_credentials(raw_login(jsrv, body))


# --- Content-Type -----------------------------------------------------------

@pytest.mark.parametrize("ctype", [
    "text/plain", None, "application/x-www-form-urlencoded",
    "application/json; charset=latin1", "application/jsonx",
    "text/json", "multipart/form-data; boundary=x",
])
def test_login_body_not_declared_json_is_415(jsrv, ctype):
    r = raw_login(jsrv, login_body("nobody-ctype").encode(), ctype)
    assert_error(r, 415, "unsupported_media_type")


@pytest.mark.parametrize("ctype", [
    "application/json", "application/json; charset=utf-8",
    "Application/JSON;charset=UTF-8",
])
def test_login_body_declared_json_is_read(jsrv, ctype):
    r = raw_login(jsrv, login_body("nobody-ctype").encode(), ctype)
    assert_invalid_credentials(r)


def test_refund_body_as_text_plain_is_415_and_nothing_moves(jsrv, oper):
    tid, version = own_txn(10000, prefix="JSON")
    before = money(tid)
    body = json.dumps({"amount": 100, "reason": "x"}).encode()
    assert_error(refund_raw(oper, tid, version, body, "text/plain"), 415,
                 "unsupported_media_type")
    assert_error(refund_raw(oper, tid, version, body, None), 415,
                 "unsupported_media_type")
    assert money(tid) == before
    r = refund_raw(oper, tid, version, body)
    assert r.status_code == 201, (r.status_code, r.text)


def test_capture_without_body_needs_no_content_type(jsrv, oper):
    tid, version = own_txn(500, "authorized", prefix="JSON")
    headers = dict(cookie_header(oper.token), Origin=oper.srv.url)
    headers.update({"X-CSRF-Token": oper.csrf, "If-Match": str(version),
                    "Idempotency-Key": "js-" + uuid.uuid4().hex})
    r = requests.post(jsrv.url + "/api/transactions/%d/capture" % tid,
                      headers=headers, verify=False, timeout=120)
    assert r.status_code == 200, (r.status_code, r.text)
