"""Signed checkpoints of the audit chain and the offline verifier
(issue 16, part 1; migration 026, src/checkpoint.c, src/ckpt.c).

The chain alone convinces only someone who trusts the database: with
the owner role an insider can disable the triggers, cut the tail, edit
an event and recompute the chain, or restore an older backup, and
audit.verify() still says intact. Each test here runs a server with a
signing key against a database of its own (the tampering would
otherwise break every other suite's trail), lets it sign checkpoints,
tampers as the owner would, and asks `payconsole-admin audit verify
--checkpoints FILE --pubkey KEY` -- which must name the first bad
checkpoint -- while the database's own verify still says intact."""
import glob
import hashlib
import json
import os
import re
import subprocess
import time
import uuid

import psycopg2
import pytest
from psycopg2.extras import Json

from conftest import (ADMIN, SOCK, STACK, create_db, db, drop_db,
                      record_secret, seal_all)

KEYS = os.path.join(STACK, "keys")
PGBIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
LINE = re.compile(
    r'^\{"seq":([1-9][0-9]*),"last_event":(0|[1-9][0-9]*),'
    r'"head":"[0-9a-f]{64}","at":([0-9]+),"prev":"[0-9a-f]{64}",'
    r'"key":"([0-9a-f]{64})","sig":"[0-9a-f]{128}"\}$')


# --- helpers --------------------------------------------------------------

def keygen(tag):
    """A new signing key through the CLI: (key path, public key path)."""
    key = os.path.join(KEYS, "ckpt-%s.key" % tag)
    pub = os.path.join(KEYS, "ckpt-%s.pub" % tag)
    r = subprocess.run([ADMIN, "-d", STACK, "checkpoint-keygen", key],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("-----BEGIN PUBLIC KEY-----\n"), r.stdout
    assert "PRIVATE" not in r.stdout + r.stderr
    assert os.stat(key).st_mode & 0o777 == 0o600
    # The secret scan (test_secret_scan.py) looks for it in every log.
    with open(key) as f:
        record_secret("checkpoint_key", "".join(f.read().splitlines()[1:-1]))
    with open(pub, "w") as f:
        f.write(r.stdout)
    return key, pub


def record(dbname, n, tag):
    """n events through audit.record() (as the superuser); their ids."""
    ids = []
    with db("postgres", dbname=dbname) as conn, conn.cursor() as cur:
        for i in range(n):
            cur.execute("SELECT audit.record(NULL, 'cli:test', NULL, "
                        "'192.0.2.7'::inet, 'test.checkpoint', %s, "
                        "'info', %s)", ("%s-%d" % (tag, i),
                                        Json({"n": i, "tag": tag})))
            ids.append(cur.fetchone()[0])
    return ids


def wait_checkpoint(dbname, event_id, timeout=30):
    """The newest checkpoint once one covers event_id: (seq, last)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        with db("pc_auditor", dbname=dbname) as conn, conn.cursor() as cur:
            cur.execute("SELECT seq, last_event FROM audit.checkpoints "
                        "ORDER BY seq DESC LIMIT 1")
            row = cur.fetchone()
        if row is not None and row[1] >= event_id:
            return row
        time.sleep(0.3)
    raise AssertionError("no checkpoint covers event %s" % event_id)


def db_verify(dbname):
    with db("pc_auditor", dbname=dbname) as conn, conn.cursor() as cur:
        cur.execute("SELECT intact, problem FROM audit.verify()")
        return cur.fetchone()


def lines(path):
    with open(path) as f:
        return f.read().splitlines()


def first_seq_after(path, event_id):
    """The first checkpoint that covers an event after event_id."""
    for line in lines(path):
        m = LINE.match(line)
        if int(m.group(2)) > event_id:
            return int(m.group(1))
    raise AssertionError("no checkpoint after event %s" % event_id)


def verify(site, ckfile, pub):
    return subprocess.run([ADMIN, "-d", site, "audit", "verify",
                           "--checkpoints", ckfile, "--pubkey", pub],
                          capture_output=True, text=True, timeout=120)


def assert_reported(r, seq, why):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stdout.startswith("checkpoint %d: " % seq), r.stdout
    assert why in r.stdout, r.stdout


def owner_sql(dbname, *stmts):
    """Statements as the owner with the audit triggers disabled, as an
    insider holding pc_owner would run them."""
    with db("pc_owner", dbname=dbname) as conn, conn.cursor() as cur:
        cur.execute("BEGIN")
        for t in ("events", "chain"):
            cur.execute("ALTER TABLE audit.%s DISABLE TRIGGER USER" % t)
        for s in stmts:
            cur.execute(s)
        for t in ("events", "chain"):
            cur.execute("ALTER TABLE audit.%s ENABLE TRIGGER USER" % t)
        cur.execute("COMMIT")


class Trail:
    """A server signing every second into its own database and file."""

    def __init__(self, make_server, interval="1"):
        self.tag = uuid.uuid4().hex[:8]
        self.dbname = "pc_ckpt_" + self.tag
        self.key, self.pub = keygen(self.tag)
        name = "ckpt-" + self.tag
        self.file = os.path.join(STACK, "sites", name, "checkpoints.log")
        create_db(self.dbname)
        self.srv = make_server(name, policy={
            "db_name": self.dbname, "checkpoint_key_file": self.key,
            "checkpoint_file": self.file,
            "checkpoint_interval_seconds": interval})

    def batch(self, n=5):
        """n events, sealed, and a checkpoint that covers them; the
        last event's id."""
        ids = record(self.dbname, n, self.tag)
        assert seal_all(self.dbname) >= ids[-1]
        wait_checkpoint(self.dbname, ids[-1])
        return ids[-1]

    def verify(self):
        return verify(self.srv.dir, self.file, self.pub)


@pytest.fixture
def trail(make_server):
    t = Trail(make_server)
    t.srv.start()
    yield t
    t.srv.stop()
    drop_db(t.dbname)
    for f in (t.key, t.pub):
        os.unlink(f)


# --- the untouched trail ----------------------------------------------------

def test_untouched_trail_verifies(trail):
    first = trail.batch()
    second = trail.batch()
    trail.srv.stop()
    assert db_verify(trail.dbname) == (True, None)

    # One line per checkpoint, numbered from 1, each also in syslog (the
    # server's output in the foreground) and in the table.
    got = lines(trail.file)
    assert len(got) >= 2
    keys = set()
    for i, line in enumerate(got):
        m = LINE.match(line)
        assert m, line
        assert int(m.group(1)) == i + 1
        keys.add(m.group(4))
        assert "checkpoint " + line in trail.srv.output()
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", trail.pub,
                          "-outform", "DER"], capture_output=True,
                         check=True).stdout
    assert keys == {hashlib.sha256(der).hexdigest()}
    assert "checkpoints: key sha256 %s, file %s, every 1 s" % (
        keys.pop(), trail.file) in trail.srv.output()
    with db("pc_auditor", dbname=trail.dbname) as conn, \
            conn.cursor() as cur:
        cur.execute("SELECT seq, last_event, encode(signature, 'hex') "
                    "FROM audit.checkpoints ORDER BY seq")
        rows = cur.fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        (json.loads(x)["seq"], json.loads(x)["last_event"]) for x in got]
    assert [r[2] for r in rows] == [json.loads(x)["sig"] for x in got]
    # The clean stop left one more checkpoint of the chain's head.
    assert json.loads(got[-1])["last_event"] >= second > first

    r = trail.verify()
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.startswith("checkpoints ok: 1 to %d signed and linked"
                               % len(got)), r.stdout

    # The private key reached neither the database nor the output.
    with open(trail.key) as f:
        pem = f.read()
    body = "".join(pem.splitlines()[1:-1])
    assert body not in trail.srv.output()
    with db("postgres", dbname=trail.dbname) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit.events "
                    "WHERE details::text LIKE %s", ("%" + body[:20] + "%",))
        assert cur.fetchone()[0] == 0


def test_an_evidence_bundle_is_itself_checkpointed(trail, tmp_path):
    """payconsole-admin evidence notes evidence.exported with the
    bundle's SHA-256 (migration 031); the next checkpoint covers that
    record, and the offline verifier accepts the file. The period has
    ended, so the record changes nothing a second bundle holds."""
    trail.batch()
    with db("pc_auditor", dbname=trail.dbname) as conn, \
            conn.cursor() as cur:
        cur.execute("SELECT (now() AT TIME ZONE 'Asia/Tokyo')::date - 1")
        day = cur.fetchone()[0].isoformat()
    digests = []
    for name in ("a.tar", "b.tar"):
        out = str(tmp_path / name)
        r = subprocess.run([ADMIN, "-d", trail.srv.dir, "evidence",
                            "--from", day, "--to", day, "--out", out],
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0, (r.stdout, r.stderr)
        with open(out, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        assert r.stdout == "%s  %s\n" % (digest, out)
        digests.append(digest)
    assert digests[0] == digests[1]

    with db("pc_auditor", dbname=trail.dbname) as conn, \
            conn.cursor() as cur:
        cur.execute("SELECT id, actor_name, actor_role, target, outcome, "
                    "details FROM audit.events WHERE event = "
                    "'evidence.exported' ORDER BY id")
        rows = cur.fetchall()
    assert len(rows) == 2, rows
    for row in rows:
        assert row[1].startswith("cli:") and row[2] == "cli", row
        assert (row[3], row[4]) == ("evidence", "success"), row
        assert row[5] == {"from": day, "to": day, "timezone": "Asia/Tokyo",
                          "sha256": digests[0], "events": row[5]["events"]}
    assert seal_all(trail.dbname) >= rows[-1][0]
    wait_checkpoint(trail.dbname, rows[-1][0])
    trail.srv.stop()
    r = trail.verify()
    assert r.returncode == 0, (r.stdout, r.stderr)


def test_a_clean_stop_signs_the_head(make_server):
    """An hour between rounds: the only checkpoint is the stop's."""
    t = Trail(make_server, interval="3600")
    try:
        t.srv.start()
        ids = record(t.dbname, 3, t.tag)
        assert seal_all(t.dbname) >= ids[-1]
        with db("pc_auditor", dbname=t.dbname) as conn, \
                conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM audit.checkpoints")
            assert cur.fetchone()[0] == 0
        t.srv.stop()
        got = lines(t.file)
        assert len(got) == 1, got
        assert json.loads(got[0])["seq"] == 1
        assert json.loads(got[0])["last_event"] >= ids[-1]
        r = t.verify()
        assert r.returncode == 0, (r.stdout, r.stderr)
    finally:
        t.srv.stop()
        drop_db(t.dbname)
        os.unlink(t.key)
        os.unlink(t.pub)


def test_checkpoints_are_append_only_and_signed_by_the_server_only(trail):
    trail.batch(1)
    for role in ("pc_auth", "pc_payments", "pc_auditor", "pc_ops"):
        with db(role, dbname=trail.dbname) as conn, conn.cursor() as cur:
            cur.execute("SET default_transaction_read_only = off")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("INSERT INTO audit.checkpoints (seq, "
                            "last_event, head, at, prev, signature, "
                            "key_sha256) SELECT seq + 1, last_event, head, "
                            "at, prev, signature, key_sha256 "
                            "FROM audit.checkpoints LIMIT 1")
    with db("pc_owner", dbname=trail.dbname) as conn, conn.cursor() as cur:
        for sql in ("UPDATE audit.checkpoints SET at = at + 1",
                    "DELETE FROM audit.checkpoints",
                    "TRUNCATE audit.checkpoints"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege) as ei:
                cur.execute(sql)
            assert "append-only" in str(ei.value)
    # Even the signing role cannot slip in a head the chain never had.
    with db("pc_auth", dbname=trail.dbname) as conn, conn.cursor() as cur:
        cur.execute("SELECT seq, last_event, prev_seq FROM "
                    "audit.checkpoint_head()")
        seq, last, _ = cur.fetchone()
        with pytest.raises(psycopg2.Error):
            cur.execute("SELECT audit.checkpoint_add(%s, %s, "
                        "decode(repeat('ab', 32), 'hex'), 0, "
                        "decode(repeat('00', 32), 'hex'), "
                        "decode(repeat('00', 64), 'hex'), "
                        "decode(repeat('00', 32), 'hex'))", (seq, last))


def test_a_loose_key_file_stops_the_start(make_server):
    tag = uuid.uuid4().hex[:8]
    key, pub = keygen(tag)
    try:
        os.chmod(key, 0o640)
        srv = make_server("ckpt-loose-" + tag, policy={
            "checkpoint_key_file": key,
            "checkpoint_file": os.path.join(STACK, "ckpt-%s.log" % tag)})
        srv.start(wait=False)
        assert srv.proc.wait(timeout=30) != 0
        assert "readable or writable by group or others" in srv.output()
    finally:
        os.unlink(key)
        os.unlink(pub)


# --- (a) the tail cut with the triggers off ----------------------------------

def test_tail_truncation_is_reported(trail):
    first = trail.batch()
    trail.batch()
    trail.srv.stop()
    want = first_seq_after(trail.file, first)
    owner_sql(trail.dbname,
              "DELETE FROM audit.chain WHERE event_id > %d" % first,
              "DELETE FROM audit.events WHERE id > %d" % first)
    # The database's own check cannot see it ...
    assert db_verify(trail.dbname) == (True, None)
    # ... the checkpoints can.
    assert_reported(trail.verify(), want, "is missing (the trail ends at "
                    "event %d: truncated or rolled back)" % first)


# --- (b) a rollback to a backup ---------------------------------------------

def test_rollback_to_a_backup_is_reported(trail):
    trail.batch()
    dump = os.path.join(trail.srv.dir, "backup.dump")
    subprocess.run([os.path.join(PGBIN, "pg_dump"), "-h", SOCK, "-U",
                    "postgres", "-Fc", "-f", dump, trail.dbname],
                   check=True, capture_output=True)
    trail.batch()
    trail.batch()
    trail.srv.stop()

    drop_db(trail.dbname)
    with db("postgres", dbname="postgres") as su, su.cursor() as cur:
        cur.execute("CREATE DATABASE %s OWNER pc_owner" % trail.dbname)
    subprocess.run([os.path.join(PGBIN, "pg_restore"), "-h", SOCK, "-U",
                    "postgres", "-d", trail.dbname, dump], check=True,
                   capture_output=True)
    with db("pc_auditor", dbname=trail.dbname) as conn, \
            conn.cursor() as cur:
        cur.execute("SELECT max(id) FROM audit.events")
        restored = cur.fetchone()[0]
    want = first_seq_after(trail.file, restored)
    # Life goes on after the restore: the same ids, other events.
    record(trail.dbname, 12, "after-restore")
    seal_all(trail.dbname)
    assert db_verify(trail.dbname) == (True, None)
    assert_reported(trail.verify(), want, "differs from the signed head")


# --- (c) an event edited and the chain recomputed ------------------------------

def test_edited_event_with_recomputed_chain_is_reported(trail):
    first = trail.batch()
    trail.batch()
    trail.srv.stop()
    want = first_seq_after(trail.file, first - 1)
    # The owner's forgery: the event changed, then every link from it
    # recomputed the way the sealer computes them.
    owner_sql(
        trail.dbname,
        "UPDATE audit.events SET details = '{\"n\": 4, \"tag\": \"x\"}' "
        "WHERE id = %d" % first,
        """DO $$
        DECLARE
            c record;
            e audit.events%%ROWTYPE;
            v_prev bytea;
        BEGIN
            FOR c IN SELECT * FROM audit.chain WHERE event_id >= %d
                ORDER BY seq LOOP
                v_prev := coalesce(v_prev, c.prev_hash);
                SELECT * INTO e FROM audit.events WHERE id = c.event_id;
                UPDATE audit.chain SET prev_hash = v_prev,
                    hash = sha256(v_prev || convert_to(jsonb_build_array(
                    e.id, (extract(epoch FROM e.at) * 1000000)::bigint,
                    e.actor_id, e.actor_name, e.actor_role, e.source::text,
                    e.event, e.target, e.outcome, e.details)::text, 'UTF8'))
                 WHERE seq = c.seq RETURNING hash INTO v_prev;
            END LOOP;
        END $$""" % first)
    assert db_verify(trail.dbname) == (True, None)
    assert_reported(trail.verify(), want, "differs from the signed head")


# --- (d) a forged checkpoint line ------------------------------------------------

def forged_file(trail, n, line):
    """The checkpoint file with line n (1-based) replaced."""
    got = lines(trail.file)
    got[n - 1] = line
    path = trail.file + ".forged"
    with open(path, "w") as f:
        f.write("\n".join(got) + "\n")
    return path


def test_forged_checkpoints_are_reported(trail, tmp_path):
    trail.batch()
    trail.batch()
    trail.srv.stop()
    got = lines(trail.file)
    assert len(got) >= 3
    n = 2
    c = json.loads(got[n - 1])

    # A field changed, the signature kept.
    bad = dict(c, at=c["at"] + 1)
    text = ",".join('"%s":%s' % (k, json.dumps(v)) for k, v in bad.items())
    r = verify(trail.srv.dir, forged_file(trail, n, "{%s}" % text),
               trail.pub)
    assert_reported(r, n, "bad signature (forged or altered)")

    # The same message signed by another key (openssl, as a forger would).
    other = str(tmp_path / "other.key")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out",
                    other], check=True, capture_output=True)
    msg = ",".join('"%s":%s' % (k, json.dumps(c[k])) for k in
                   ("seq", "last_event", "head", "at", "prev"))
    msg = "{%s}" % msg
    (tmp_path / "msg").write_bytes(msg.encode())
    sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey",
                          other, "-in", str(tmp_path / "msg")],
                         check=True, capture_output=True).stdout.hex()
    der = subprocess.run(["openssl", "pkey", "-in", other, "-pubout",
                          "-outform", "DER"], check=True,
                         capture_output=True).stdout
    line = msg[:-1] + ',"key":"%s","sig":"%s"}' % (
        hashlib.sha256(der).hexdigest(), sig)
    r = verify(trail.srv.dir, forged_file(trail, n, line), trail.pub)
    assert_reported(r, n, "signed with another key")

    # Reordered and missing lines.
    swapped = list(got)
    swapped[1], swapped[2] = swapped[2], swapped[1]
    path = str(tmp_path / "swapped")
    with open(path, "w") as f:
        f.write("\n".join(swapped) + "\n")
    assert_reported(verify(trail.srv.dir, path, trail.pub), 2, "missing")
    path = str(tmp_path / "gap")
    with open(path, "w") as f:
        f.write("\n".join(got[:1] + got[2:]) + "\n")
    assert_reported(verify(trail.srv.dir, path, trail.pub), 2, "missing")

    # The untouched file still verifies.
    assert trail.verify().returncode == 0
