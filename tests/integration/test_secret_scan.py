"""Issue 6 acceptance: after the whole suite (this file is marked to run
last, after test_faults_pg.py; see conftest.py), a scan of every row of
audit.events and audit.alerts and of every log file the suite's servers
wrote finds no password, TOTP secret, session or CSRF token, key,
password hash or Luhn-valid card number.

What to look for comes from:
  * $PC_STACK/secrets.txt, one "kind<TAB>value" a line, which the
    recorders that conftest.py installs for the whole session write
    (what payconsole-admin printed, what requests sent and received;
    record_secret() there adds one by hand);
  * the demo accounts ($PC_STACK/demo/accounts.json), the key-encryption
    key files ($PC_STACK/keys/*.key) and the TLS private key;
  * fixed passwords the tests type, and patterns: generated passwords,
    the tests' password shapes, 43-character base64url tokens, the
    session cookie, otpauth URIs, base32 TOTP secrets, argon2 hashes,
    and card numbers (13-19 digits, optionally separated by single
    spaces or hyphens, passing the Luhn check).

Findings are reported with the secret masked."""
import glob
import json
import os
import re

import pytest

from conftest import MIN_PASSWORD, SECRETS_FILE, STACK, db
from ledger import luhn_ok
from people import json_members

pytestmark = pytest.mark.last(2)


# --- what to look for ---------------------------------------------------------

# Passwords the tests type literally.
FIXED_PASSWORDS = ("Some-password-123", "Wrong-password-123",
                   "Password1234")
# Shapes of the tests' and the CLI's passwords.
PASSWORD_PATTERNS = {
    # people.new_password()
    "test password": re.compile(r"Fresh-[0-9a-f]{32}9a"),
    # people.wrong_password(): "Not-" + a real password + "-9"
    "wrong password": re.compile(r"Not-[A-Za-z0-9-]{8,}-9"),
    # payconsole-admin: 20 characters of an unambiguous alphabet
    "generated password": re.compile(
        r"(?<![A-Za-z0-9])(?=[a-km-np-zA-HJ-NP-Z2-9]*[a-z])"
        r"(?=[a-km-np-zA-HJ-NP-Z2-9]*[A-Z])(?=[a-km-np-zA-HJ-NP-Z2-9]*"
        r"[2-9])[a-km-np-zA-HJ-NP-Z2-9]{20}(?![A-Za-z0-9])"),
}
OTHER_PATTERNS = {
    "session cookie": re.compile(r"__Host-pc_session=[A-Za-z0-9_-]{8,}"),
    # 256 random bits, base64url: session and CSRF tokens (src/token.h)
    "43-char token": re.compile(
        r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[A-Z])"
        r"(?=[A-Za-z0-9_-]*[0-9])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"),
    "otpauth URI": re.compile(r"otpauth://", re.I),
    "TOTP secret parameter": re.compile(r"secret=[A-Z2-7]{16,}"),
    # 160-bit secrets in base32 (32 characters), as the CLI prints them
    "base32 secret": re.compile(
        r"(?<![A-Za-z0-9])(?=[A-Z2-7]*[2-7])[A-Z2-7]{32}(?![A-Za-z0-9])"),
    "argon2 hash": re.compile(r"\$argon2(id|i|d)\$"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}
DIGIT_RUN = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9])*(?![0-9])")
# The SHA-256 digests the product writes, where it writes them: under a
# key naming it (the policy's "digest" in policy.loaded, "sha256=" in the
# server log's first line, "export_sha256" and "figures_sha256" in the
# purge and sign-off records). About one digest in a hundred holds a
# Luhn-valid run of 13 decimal digits by chance; such a run is not a card
# number. Only exactly 64 hex digits in such a place are passed over: a
# card number joined to hex anywhere else is still found.
DIGEST_AT = re.compile(
    r"(?:sha256|digest|hash)\"?\s*[:=]\s*\"?([0-9a-f]{64})(?![0-9A-Za-z])",
    re.I)
# A signed checkpoint's line (README "Signed checkpoints"), in the
# checkpoint file and the server log: its digests under "head", "prev"
# and "key", its Ed25519 signature (128 hex digits) under "sig". The
# same rule: exactly that many hex digits in exactly that place.
CHECKPOINT_AT = re.compile(
    r"\"(?:head|prev|key)\":\"([0-9a-f]{64})\"|\"sig\":\"([0-9a-f]{128})\"")
# An unknown username's tag (src/nametag.c): "unknown:" + 16 hex digits
# of an HMAC + ":" + a length. About one tag in a thousand holds a
# Luhn-valid run of 13 decimal digits by chance (a CI run saw one); the
# same rule as for digests: exactly 16 hex digits in that place only.
NAME_TAG_AT = re.compile(r"unknown:([0-9a-f]{16}):[0-9]+(?![0-9])")
SECRET_DETAIL_KEY = re.compile(
    r"pass|otp|token|secret|cookie|csrf|^code$|^pan$|card_number", re.I)


def hex_hidden(m):
    """The match with its hex group (the one that matched) as h's."""
    g = 1 if m.group(1) is not None else 2
    return (m.group(0)[:m.start(g) - m.start(0)] +
            "h" * (m.end(g) - m.start(g)) + m.group(0)[m.end(g) - m.start(0):])


def card_numbers(text):
    """Luhn-valid runs of 13-19 digits (single spaces or hyphens allowed
    between digits)."""
    found = []
    for rx in (DIGEST_AT, NAME_TAG_AT, CHECKPOINT_AT):
        text = rx.sub(lambda m: hex_hidden(m), text)
    for m in DIGIT_RUN.finditer(text):
        digits = re.sub(r"[ -]", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.append(m.group(0))
    return found


def known_secrets():
    """{value: kind} of every concrete secret known."""
    secrets = {}
    if SECRETS_FILE and os.path.exists(SECRETS_FILE):
        with open(SECRETS_FILE, encoding="utf-8") as f:
            for line in f:
                kind, _, value = line.rstrip("\n").partition("\t")
                if value and (kind != "password" or
                              len(value) >= MIN_PASSWORD):
                    secrets[value] = kind
    # A file conftest may write (see the report): one secret a line.
    for extra in ("secrets.log",):
        path = os.path.join(STACK, extra)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    kind, sep, value = line.rstrip("\n").partition("\t")
                    if not sep:
                        kind, value = "secret", kind
                    if len(value) >= MIN_PASSWORD:
                        secrets[value] = kind
    demo = os.path.join(STACK, "demo", "accounts.json")
    if os.path.exists(demo):
        with open(demo, encoding="utf-8") as f:
            for a in json.load(f)["accounts"]:
                secrets[a["password"]] = "demo password"
                secrets[a["totp_secret_base32"]] = "demo TOTP secret"
    for p in FIXED_PASSWORDS:
        secrets[p] = "test password"
    for path in glob.glob(os.path.join(STACK, "keys", "*.key")):
        try:
            with open(path, encoding="utf-8") as f:
                for hexkey in re.findall(r"[0-9a-fA-F]{32,}", f.read()):
                    secrets[hexkey] = "key-encryption key"
                    secrets[hexkey.upper()] = "key-encryption key"
        except OSError:
            pass
    key_pem = os.path.join(STACK, "tls", "key.pem")
    if os.path.exists(key_pem):
        with open(key_pem, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if len(line) >= 40 and not line.startswith("-----"):
                    secrets[line] = "TLS private key"
    return secrets


def mask(s):
    s = str(s)
    if len(s) <= 6:
        return "%s… (%d chars)" % (s[:1], len(s))
    return "%s…%s (%d chars)" % (s[:3], s[-2:], len(s))


def scan_text(where, text, secrets, findings):
    for value, kind in secrets.items():
        if value in text:
            findings.append("%s: %s %s" % (where, kind, mask(value)))
    for kind, rx in list(PASSWORD_PATTERNS.items()) + \
            list(OTHER_PATTERNS.items()):
        for m in rx.finditer(text):
            if m.group(0) not in secrets:
                findings.append("%s: %s %s" % (where, kind,
                                               mask(m.group(0))))
    for pan in card_numbers(text):
        findings.append("%s: Luhn-valid number %s" % (where, mask(pan)))


def report(findings, limit=200):
    uniq = list(dict.fromkeys(findings))
    return "%d finding(s):\n%s%s" % (
        len(uniq), "\n".join(uniq[:limit]),
        "\n…" if len(uniq) > limit else "")


def log_files():
    """Every log the suite's servers wrote: site directories under the
    stack (server.log, Kore's access log wherever a site put it)."""
    files = set()
    for pat in ("sites/*/*.log", "sites/*/**/*access*", "sites/**/*.log"):
        files.update(glob.glob(os.path.join(STACK, pat), recursive=True))
    return sorted(f for f in files if os.path.isfile(f))


# --- the scans ----------------------------------------------------------------

def test_audit_events_hold_no_secret():
    secrets = known_secrets()
    findings = []
    n = 0
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT id, event, row_to_json(e)::text, details "
                    "FROM audit.events e ORDER BY id")
        rows = cur.fetchall()
    for eid, event, text, details in rows:
        n += 1
        where = "audit.events id=%d (%s)" % (eid, event)
        scan_text(where, text, secrets, findings)
        # Also the JSON as stored, unescaped strings included.
        scan_text(where + " details", json.dumps(
            details, ensure_ascii=False), secrets, findings)
        for k, v in json_members(details):
            # A count of secrets is fine; a text under such a key is not.
            if SECRET_DETAIL_KEY.search(k) and isinstance(v, str) and v:
                findings.append("%s: details key %r holds text"
                                % (where, k))
    assert n > 0
    assert not findings, report(findings)


def test_audit_alerts_hold_no_secret():
    secrets = known_secrets()
    findings = []
    with db("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT id, rule, row_to_json(a)::text "
                    "FROM audit.alerts a ORDER BY id")
        for aid, rule, text in cur.fetchall():
            scan_text("audit.alerts id=%d (%s)" % (aid, rule), text,
                      secrets, findings)
    assert not findings, report(findings)


def test_server_logs_hold_no_secret():
    secrets = known_secrets()
    files = log_files()
    assert files, "no server log under %s/sites" % STACK
    findings = []
    for path in files:
        rel = os.path.relpath(path, STACK)
        with open(path, "rb") as f:
            for no, raw in enumerate(f, 1):
                scan_text("%s:%d" % (rel, no),
                          raw.decode("utf-8", "replace"), secrets,
                          findings)
    assert not findings, report(findings)


def test_scanner_finds_what_it_looks_for():
    """The scanner itself: each kind of secret is found, masked."""
    secrets = {"Sekr3t-Pa55word-xyz": "password"}
    samples = [
        "login with Sekr3t-Pa55word-xyz",
        "pan 4111 1111 1111 1111 here",
        "pan 4111-1111-1111-1111",
        "cookie __Host-pc_session=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCde",
        "token AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCde.",
        "otpauth://totp/payconsole:x?secret=JQEGT7LI54KTN2LJO4RJ2AIII5GLQUUY",
        "pw Fresh-" + "0123456789abcdef" * 2 + "9a",
        "gen L6SL623JrdYj9havpYTS end",
        "$argon2id$v=19$m=8192,t=1,p=1$abc",
        # Beside a digest, joined to hex, or in hex not in a digest's
        # place, a card number is still a card number.
        '"digest": "' + "ab" * 32 + '" 4222222222222 next',
        "id=cafe4222222222222",
        "GET /x/4111111111111111" + "ab" * 8 + " HTTP/1.1",
        "\\x" + "9c" * 10 + "4222222222222" + "d" * 31,
        '"digest": "' + "f0" * 20 + "4222222222222" + "e1" * 12 + 'ab"',
        '"head":"' + "f0" * 20 + "4222222222222" + "e1" * 12 + 'abc"',
    ]
    for s in samples:
        found = []
        scan_text("sample", s, secrets, found)
        assert found, s
        assert not any("Sekr3t-Pa55word-xyz" in f or "4111111111111111" in f
                       or "1111 1111" in f for f in found), found
    clean = ["[wrk 1]: login: failure reason=bad_password source=127.0.0.1",
             '{"id": 12, "at": "2026-11-23T10:11:12.123456+00:00", '
             '"details": {"step": 59412345, "session": 17}}',
             "order 1234567890123 no", "sha256 " + "ab12" * 16,
             # The CI failure of 2026-11: a policy digest holding a
             # Luhn-valid run of 13 digits (4222222222222).
             '"digest": "' + "f0" * 10 + "4222222222222" + "e1" * 15 + 'a"',
             "policy: ... sha256=" + "f0" * 10 + "4222222222222" +
             "e1" * 15 + "a",
             '{"export_sha256": "' + "4222222222222" + "c" * 51 + '"}',
             "t_0123456789 k-" + "0" * 32,
             # A checkpoint line whose head held a Luhn-valid run (the
             # ASan lane of 2026-12-03: "189...66", 14 digits).
             'checkpoint {"seq":1,"last_event":9,"head":"' + "f0" * 10 +
             "4222222222222" + "e1" * 15 + 'a","at":1,"prev":"' + "0" * 64 +
             '","key":"' + "ab" * 32 + '","sig":"' + "c" * 60 +
             "4222222222222" + "d" * 55 + '"}']
    assert not luhn_ok("1234567890123")
    for s in clean:
        found = []
        scan_text("sample", s, {}, found)
        assert not found, (s, found)
