"""Issue 6 item 7: retention. Events are kept at least 12 months; older
ones leave the trail only through `payconsole-admin audit purge`, which
verifies the chain, exports the sealed range (JSON lines with each link),
deletes exactly that range, anchors the chain where it was cut and
records itself. Runs against a scratch database built by the real
migrations, so old events can come first, as they would in production."""
import hashlib
import json
import os
import subprocess

import psycopg2
import pytest
from psycopg2.extras import Json

from conftest import ADMIN, STACK, TOP, db, policy_text

DBNAME = "pc_retention"


@pytest.fixture
def scratch(tmp_path):
    with db("postgres", dbname="postgres") as su, su.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS " + DBNAME)
        cur.execute("CREATE DATABASE " + DBNAME + " OWNER pc_owner")
    r = subprocess.run([os.path.join(TOP, "scripts", "migrate"),
                        os.path.join(STACK, "root", "run"), DBNAME],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    site = tmp_path / "site"
    site.mkdir()
    (site / "policy.conf").write_text(policy_text({"db_name": DBNAME}))
    yield site
    with db("postgres", dbname="postgres") as su, su.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS " + DBNAME)


def insert(when_sql, n, tag):
    with db("postgres", DBNAME) as conn, conn.cursor() as cur:
        for i in range(n):
            cur.execute("INSERT INTO audit.events (at, actor_name, event, "
                        "target, outcome, details) VALUES (" + when_sql +
                        ", 'seed', 'login.success', %s, 'success', %s) "
                        "RETURNING id", ("%s-%d" % (tag, i),
                                         Json({"i": i, "tag": tag})))


def seal():
    """The internal sealer with no minimum age (the superuser's: the
    roles the server and the CLI use call audit.seal(), 60 s)."""
    with db("postgres", DBNAME) as conn, conn.cursor() as cur:
        cur.execute("SELECT audit.seal_due(interval '0 seconds', 10000, "
                    "true)")


def verify():
    with db("pc_auditor", DBNAME) as conn, conn.cursor() as cur:
        cur.execute("SELECT intact, checked, last_event, problem, "
                    "problem_event FROM audit.verify()")
        return cur.fetchone()


def purge(site, before, out):
    return subprocess.run([ADMIN, "-d", str(site), "audit", "purge",
                           "--before", before, "--out", str(out)],
                          capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)


def count_events():
    with db("postgres", DBNAME) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*), min(id) FROM audit.events")
        return cur.fetchone()


def test_purge_exports_verifies_anchors_and_records(scratch, tmp_path):
    insert("timestamptz '2024-01-10 12:00+09' + %d * interval '1 day'"
           % 0, 1, "old-a")
    insert("timestamptz '2024-02-10 12:00+09'", 4, "old-b")
    insert("now()", 3, "new")
    seal()
    assert verify()[0] is True
    total, first = count_events()
    assert total == 8

    # Younger than 12 months: refused, nothing touched, no export left.
    young = tmp_path / "young.jsonl"
    r = purge(scratch, "2026-01-01", young)
    assert r.returncode != 0
    assert "kept at least 12 months" in r.stderr
    assert not young.exists()
    assert count_events()[0] == 8

    out = tmp_path / "export.jsonl"
    r = purge(scratch, "2025-01-01", out)
    assert r.returncode == 0, r.stderr
    assert "purged 5 events through event %d" % (first + 4) in r.stdout
    assert os.stat(out).st_mode & 0o077 == 0

    # The export: the five old events in order, each with its link, the
    # links continuous from the start of the chain.
    raw = out.read_bytes()
    lines = [json.loads(x) for x in raw.decode().splitlines()]
    assert [x["id"] for x in lines] == list(range(first, first + 5))
    assert [x["target"] for x in lines] == ["old-a-0"] + [
        "old-b-%d" % i for i in range(4)]
    assert lines[0]["prev_hash"] == "00" * 32
    for a, b in zip(lines, lines[1:]):
        assert b["prev_hash"] == a["hash"]

    with db("pc_auditor", DBNAME) as conn, conn.cursor() as cur:
        cur.execute("SELECT through_event, events, encode(anchor_hash, "
                    "'hex'), export_sha256, export_file, actor "
                    "FROM audit.purges")
        rows = cur.fetchall()
        cur.execute("SELECT actor_name, actor_role, event, target, "
                    "outcome, details FROM audit.events "
                    "WHERE event = 'audit.purged'")
        rec = cur.fetchall()
    assert rows == [(first + 4, 5, lines[-1]["hash"],
                     hashlib.sha256(raw).hexdigest(), str(out),
                     rows[0][5])]
    assert rows[0][5].startswith("cli:")
    assert len(rec) == 1
    actor, role, event, target, outcome, details = rec[0]
    assert (role, event, target, outcome) == ("cli", "audit.purged",
                                              "audit.events", "success")
    assert details["through_event"] == first + 4 and details["events"] == 5
    assert details["export_sha256"] == hashlib.sha256(raw).hexdigest()

    # What remains verifies from the anchor, and keeps doing so as new
    # events are sealed after it.
    assert count_events() == (4, first + 5)     # 3 new + audit.purged
    seal()
    ok, checked, last, problem, _ = verify()
    assert ok is True and problem is None and checked == 4
    insert("now()", 2, "later")
    seal()
    assert verify()[0] is True

    # The chain still catches tampering after a purge.
    with db("postgres", DBNAME) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE audit.events DISABLE TRIGGER "
                    "events_append_only")
        cur.execute("UPDATE audit.events SET target = 'forged' "
                    "WHERE id = %s", (first + 6,))
    v = verify()
    assert v[0] is False and v[3] == "altered" and v[4] == first + 6

    # Nothing left to purge; an export is never overwritten.
    assert purge(scratch, "2025-01-01", tmp_path / "again.jsonl") \
        .returncode != 0                        # the chain is broken now
    with db("postgres", DBNAME) as conn, conn.cursor() as cur:
        cur.execute("UPDATE audit.events SET target = 'new-1' "
                    "WHERE id = %s", (first + 6,))
        cur.execute("ALTER TABLE audit.events ENABLE TRIGGER "
                    "events_append_only")
    assert verify()[0] is True
    r = purge(scratch, "2025-01-01", tmp_path / "again.jsonl")
    assert r.returncode == 0 and "nothing to purge" in r.stdout
    r = purge(scratch, "2024-12-31", out)
    assert r.returncode == 0 and "nothing to purge" in r.stdout
    # An old event written after young ones cannot be purged ahead of
    # them: the range is a prefix of the trail.
    insert("timestamptz '2024-03-01 00:00+09'", 1, "late-old")
    r = purge(scratch, "2025-01-01", out)
    assert r.returncode == 0 and "nothing to purge" in r.stdout, r.stderr
    assert out.read_bytes() == raw


def test_broken_chain_is_never_purged(scratch, tmp_path):
    insert("timestamptz '2024-01-10 12:00+09'", 3, "old")
    insert("now()", 1, "new")
    seal()
    _, first = count_events()
    with db("postgres", DBNAME) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE audit.events DISABLE TRIGGER "
                    "events_append_only")
        cur.execute("DELETE FROM audit.events WHERE id = %s", (first + 1,))
        cur.execute("ALTER TABLE audit.events ENABLE TRIGGER "
                    "events_append_only")
    out = tmp_path / "x.jsonl"
    r = purge(scratch, "2025-01-01", out)
    assert r.returncode != 0
    assert "broken at event %d" % (first + 1) in r.stderr
    assert not out.exists()
    assert count_events()[0] == 3


def test_only_the_procedure_deletes(scratch):
    insert("timestamptz '2024-01-10 12:00+09'", 2, "old")
    seal()
    for role in ("pc_auth", "pc_payments", "pc_auditor"):
        with pytest.raises(psycopg2.Error):
            with db(role, DBNAME) as conn, conn.cursor() as cur:
                cur.execute("SELECT audit.purge(now() - interval '2 years',"
                            " 1, repeat('0', 64), 'x', 'me')")
    # The owner itself cannot delete outside the procedure, nor rewrite
    # the record of purges.
    with pytest.raises(psycopg2.Error) as e:
        with db("pc_owner", DBNAME) as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM audit.events")
    assert "append-only" in str(e.value)
    with pytest.raises(psycopg2.Error):
        with db("pc_ops", DBNAME) as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM audit.purges")
    assert count_events()[0] == 2
