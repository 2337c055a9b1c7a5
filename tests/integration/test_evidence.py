"""The evidence bundle (issue 16, part 6): `payconsole-admin evidence
--from DATE --to DATE --out FILE.tar` (src/evidence.c, src/bundle.c).

One server signs checkpoints into a database of its own; an operator
signs in and views a payment; events are placed on both sides of the
period's edges (midnight in the policy's timezone, Asia/Tokyo); a weekly
review is signed off and an alert raised and cleared. Then the bundle
is read back with Python's tarfile, checked against the database and
REQUIREMENTS.md, made twice (byte for byte the same), and its
checkpoints verified with the recipe it carries."""
import csv
import datetime
import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
import time
import uuid

import pytest
from psycopg2.extras import Json

from conftest import (ADMIN, STACK, TOP, create_db, create_user, db,
                      drop_db, record_secret)
from people import STEP, change_password, sign_in

TZ = "Asia/Tokyo"
REQUIREMENTS = os.path.join(TOP, "..", "shared", "docs", "REQUIREMENTS.md")
FILES = ["index.json", "README.txt", "events.jsonl", "chain.json",
         "checkpoints/checkpoints.log", "checkpoints/checkpoint.pub",
         "reviews/weekly.json", "reviews/weekly.csv",
         "reviews/daily.json", "reviews/daily.csv",
         "reviews/accounts.json", "alerts.json", "personal-data.json",
         "policy/policy.conf", "policy/history.json",
         "schema/migrations.json"]


def evidence(site, *args):
    return subprocess.run([ADMIN, "-d", site, "evidence"] + list(args),
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def local_midnight(day):
    """The SQL for the first instant of a site-local day."""
    return "('%s'::date::timestamp AT TIME ZONE '%s')" % (day.isoformat(),
                                                          TZ)


class Site:
    """A server signing checkpoints every second into its own database,
    with events of every kind the bundle carries."""

    def __init__(self, make_server, tmp_path):
        tag = uuid.uuid4().hex[:8]
        self.dbname = "pc_evid_" + tag
        keys = os.path.join(STACK, "keys")
        self.key = os.path.join(keys, "evid-%s.key" % tag)
        r = subprocess.run([ADMIN, "-d", STACK, "checkpoint-keygen",
                            self.key], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        self.pub = r.stdout
        with open(self.key) as f:
            record_secret("checkpoint_key",
                          "".join(f.read().splitlines()[1:-1]))
        name = "evid-" + tag
        self.file = os.path.join(STACK, "sites", name, "checkpoints.log")
        create_db(self.dbname, seeding=True)
        self.srv = make_server(name, policy={
            "db_name": self.dbname, "checkpoint_key_file": self.key,
            "checkpoint_file": self.file,
            "checkpoint_interval_seconds": "1"})
        self.tmp = tmp_path

    def su(self):
        return db("postgres", dbname=self.dbname)

    def populate(self):
        """Everything the bundle shows; the period [today-1, today]."""
        with self.su() as conn, conn.cursor() as cur:
            cur.execute("SELECT (now() AT TIME ZONE %s)::date", (TZ,))
            self.today = cur.fetchone()[0]
        self.first = self.today - datetime.timedelta(days=1)
        self.after = self.today + datetime.timedelta(days=1)

        # A real sign-in and a payment searched, through the server.
        op = create_user("operator", site=self.srv.dir)
        sess = sign_in(self.srv, op, offset=-STEP)
        change_password(sess)
        with db("pc_owner", dbname=self.dbname) as conn, \
                conn.cursor() as cur:
            cur.execute("INSERT INTO payments.transactions (merchant_order_"
                        "id, amount, currency, status, card_brand, "
                        "card_last4, cardholder_name, cardholder_email, "
                        "captured_amount) VALUES (%s, 1200, 'JPY', "
                        "'captured', 'visa', '4242', 'Evidence Test', "
                        "'evid@example.com', 1200)",
                        ("EVID-" + uuid.uuid4().hex[:8],))
        r = sess.get("/api/transactions")
        assert r.status_code == 200, r.text

        a1 = create_user("auditor", site=self.srv.dir)
        with self.su() as conn, conn.cursor() as cur:
            # Events on both sides of the period's first edge.
            self.edge(cur, "edge-before", local_midnight(self.first) +
                      " - interval '1 microsecond'")
            self.edge(cur, "edge-first", local_midnight(self.first))
            # The daily digests of the days that have ended (worker 1
            # makes them too, on its own schedule).
            cur.execute("SELECT audit.digest_due(%s, NULL)", (TZ,))
            # The week's review, signed off (the API signs only weeks
            # that have ended; the bundle shows what the table holds).
            cur.execute("SELECT id FROM auth.users WHERE username = %s",
                        (a1["username"],))
            aid = cur.fetchone()[0]
            self.week = "%d-W%02d" % self.today.isocalendar()[:2]
            cur.execute("INSERT INTO audit.reviews (week, signed_off_by, "
                        "signed_off_name, signoff_comment, figures_sha256, "
                        "timezone) VALUES (%s, %s, %s, 'all reviewed', "
                        "repeat('a', 64), %s)",
                        (self.week, aid, a1["username"], TZ))
            # An alert raised and cleared in the period, one long before.
            cur.execute("INSERT INTO audit.alerts (rule, severity, key, "
                        "first_seen, last_seen, cleared_at) VALUES "
                        "('sealing_stalled', 'alert', 'evid-in', now(), "
                        "now(), now()), ('sealing_stalled', 'alert', "
                        "'evid-old', now() - interval '30 days', now() - "
                        "interval '29 days', now() - interval '29 days')")
            cur.execute("SELECT audit.seal_due(interval '0 seconds', "
                        "10000, true)")
            cur.execute("SELECT max(id) FROM audit.events")
            last = cur.fetchone()[0]
        self.wait_checkpoint(last)
        # A clean stop signs once more; nothing writes after it.
        self.srv.stop()
        with self.su() as conn, conn.cursor() as cur:
            cur.execute("SELECT audit.seal_due(interval '0 seconds', "
                        "10000, true)")
            # And both sides of its last edge, tonight: the sealer links
            # no event younger than itself, so these stay unsealed.
            self.edge(cur, "edge-last", local_midnight(self.after) +
                      " - interval '1 microsecond'")
            self.edge(cur, "edge-after", local_midnight(self.after))

    @staticmethod
    def edge(cur, tag, at):
        cur.execute("INSERT INTO audit.events (at, actor_name, event, "
                    "target, outcome, details) VALUES (" + at + ", 'seed', "
                    "'login.success', %s, 'success', %s)",
                    (tag, Json({"tag": tag})))

    def wait_checkpoint(self, event_id):
        deadline = time.time() + 30
        while time.time() < deadline:
            with self.su() as conn, conn.cursor() as cur:
                cur.execute("SELECT coalesce(max(last_event), 0) "
                            "FROM audit.checkpoints")
                if cur.fetchone()[0] >= event_id:
                    return
            time.sleep(0.3)
        raise AssertionError("no checkpoint covers event %d" % event_id)

    def period(self):
        return ["--from", self.first.isoformat(),
                "--to", self.today.isoformat()]


@pytest.fixture(scope="module")
def site(request, tmp_path_factory):
    started = []

    def make(name, **kw):
        from conftest import Server
        srv = Server(name, **kw)
        started.append(srv)
        return srv
    s = Site(make, tmp_path_factory.mktemp("evidence"))
    s.srv.start()
    try:
        s.populate()
        out = s.tmp / "bundle.tar"
        r = evidence(s.srv.dir, *(s.period() + ["--out", str(out)]))
        assert r.returncode == 0, (r.stdout, r.stderr)
        s.out, s.stdout, s.stderr = out, r.stdout, r.stderr
        yield s
    finally:
        for srv in started:
            srv.stop()
        drop_db(s.dbname)
        os.unlink(s.key)


def events_of(path):
    return [json.loads(x) for x in
            members(path)["events.jsonl"][1].decode().splitlines()]


def members(path):
    with tarfile.open(path) as t:
        return {m.name: (m, t.extractfile(m).read()) for m in t}


def finding_rows():
    """The PPC findings table of REQUIREMENTS.md, in order."""
    with open(REQUIREMENTS, encoding="utf-8") as f:
        text = f.read()
    table = text.split("| Finding (PPC) |", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines()[2:] if line.startswith("|")]
    return text, [r.split("|")[1].strip() for r in rows]


def test_bundle_opens_and_is_deterministic(site):
    raw = site.out.read_bytes()
    assert site.stdout == "%s  %s\n" % (hashlib.sha256(raw).hexdigest(),
                                        site.out)
    assert os.stat(site.out).st_mode & 0o077 == 0
    # Today is in the period: said, since a later run may hold more.
    assert "warning: %s has not ended" % site.today.isoformat() in \
        site.stderr
    with tarfile.open(site.out) as t:
        assert t.getnames() == FILES
        start = int(datetime.datetime.combine(
            site.first, datetime.time(),
            datetime.timezone(datetime.timedelta(hours=9))).timestamp())
        for m in t.getmembers():
            assert m.isfile() and m.mode == 0o444
            assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "root", "root")
            assert m.mtime == start
    # The same open period again: the bundle is itself in the trail
    # (evidence.exported with its SHA-256, migration 031), so the second
    # holds the first's events and the records of the exports since.
    again = site.tmp / "again.tar"
    r = evidence(site.srv.dir, *(site.period() + ["--out", str(again)]))
    assert r.returncode == 0, r.stderr
    first = events_of(site.out)
    later = events_of(again)
    assert later[:len(first)] == first
    added = later[len(first):]
    assert added and {e["event"] for e in added} == {"evidence.exported"}
    assert hashlib.sha256(raw).hexdigest() in \
        [e["details"]["sha256"] for e in added]
    # A period that has ended: the same bytes, however often.
    closed = ["--from", site.first.isoformat(), "--to",
              site.first.isoformat()]
    c1, c2 = site.tmp / "closed1.tar", site.tmp / "closed2.tar"
    for out in (c1, c2):
        r = evidence(site.srv.dir, *(closed + ["--out", str(out)]))
        assert r.returncode == 0, r.stderr
        assert "has not ended" not in r.stderr
    assert c1.read_bytes() == c2.read_bytes()
    assert events_of(c1)
    # No temporary file left.
    assert sorted(os.listdir(site.tmp)) == ["again.tar", "bundle.tar",
                                            "closed1.tar", "closed2.tar"]


def test_index_lists_every_file_with_its_digest_and_requirements(site):
    got = members(site.out)
    index = json.loads(got["index.json"][1])
    assert (index["from"], index["to"], index["days"], index["timezone"]) \
        == (site.first.isoformat(), site.today.isoformat(), 2, TZ)
    assert [f["name"] for f in index["files"]] == FILES[1:]
    for f in index["files"]:
        data = got[f["name"]][1]
        assert f["sha256"] == hashlib.sha256(data).hexdigest(), f["name"]
        assert f["size"] == len(data)
        assert f["findings"] or f["pci_dss"], f["name"]

    if not os.path.exists(REQUIREMENTS):
        pytest.skip("REQUIREMENTS.md is not beside the repository")
    text, rows = finding_rows()
    assert index["findings"] == {"PPC-%d" % (i + 1): row
                                 for i, row in enumerate(rows)}
    covered = set()
    for f in index["files"]:
        covered.update(f["findings"])
        for clause in f["pci_dss"]:
            assert re.search(r"(?<![\d.])%s(?![\d])" % re.escape(clause),
                             text), clause
    assert covered == set(index["findings"])


def test_events_are_exactly_those_of_the_period(site):
    lines = members(site.out)["events.jsonl"][1].decode().splitlines()
    got = [json.loads(x) for x in lines]
    with site.su() as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM audit.events WHERE at >= " +
                    local_midnight(site.first) + " AND at < " +
                    local_midnight(site.after) + " AND event <> "
                    "'evidence.exported' ORDER BY id")
        want = [r[0] for r in cur.fetchall()]
    # The exports' own records came after this bundle was written.
    assert [e["id"] for e in got] == want
    targets = {e["target"] for e in got}
    assert {"edge-first", "edge-last"} <= targets
    assert not {"edge-before", "edge-after"} & targets
    kinds = {e["event"] for e in got}
    assert {"login.success", "transactions.searched", "server.started",
            "policy.loaded"} <= kinds, kinds
    # Each event carries its link; the chain check says intact.
    assert all(len(e["hash"]) == 64 for e in got if e["hash"])
    chain = json.loads(members(site.out)["chain.json"][1])
    assert chain["events"] == len(got)
    assert chain["links_intact"] is True and chain["first_bad_event"] is None
    assert chain["unsealed"] == 1     # edge-last, tonight
    assert chain["sealed"] == len(got) - 1
    assert chain["checkpoints_in_period"] >= 1
    assert chain["checkpoint_heads_match"] is True
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=site.pub.encode(), capture_output=True,
                         check=True).stdout
    assert chain["checkpoint_key_sha256"] == hashlib.sha256(der).hexdigest()


def test_reviews_alerts_policy_and_schema(site):
    got = members(site.out)
    weekly = json.loads(got["reviews/weekly.json"][1])
    assert [w["week"] for w in weekly] == [site.week]
    assert weekly[0]["signoff_comment"] == "all reviewed"
    rows = list(csv.reader(io.StringIO(got["reviews/weekly.csv"][1]
                                       .decode())))
    assert rows[0][:3] == ["week", "signed_off_by", "signed_off_name"]
    assert len(rows) == 2 and rows[1][0] == site.week
    assert rows[1][rows[0].index("signoff_comment")] == "all reviewed"
    assert json.loads(got["reviews/accounts.json"][1]) == []
    # Daily digests (issue 16 part 3) of the period's days, as stored,
    # with their sign-offs; the CSV has the same days.
    daily = json.loads(got["reviews/daily.json"][1])
    with site.su() as conn, conn.cursor() as cur:
        cur.execute("SELECT day::text, figures_sha256 FROM "
                    "audit.daily_digests WHERE day BETWEEN %s AND %s "
                    "ORDER BY day", (site.first, site.today))
        stored = cur.fetchall()
    assert (site.first.isoformat(),) in [(d,) for d, _ in stored]
    assert [(d["day"], d["digest"]["figures_sha256"]) for d in daily
            if d["digest"]] == stored
    assert all(site.first.isoformat() <= d["day"] <= site.today.isoformat()
               for d in daily)
    rows = list(csv.reader(io.StringIO(got["reviews/daily.csv"][1]
                                       .decode())))
    assert rows[0][:4] == ["day", "timezone", "computed_at",
                           "figures_sha256"]
    assert [r[0] for r in rows[1:]] == [d["day"] for d in daily]
    alerts = json.loads(got["alerts.json"][1])
    keys = [a["key"] for a in alerts]
    assert "evid-in" in keys and "evid-old" not in keys
    assert all(a["first_seen"] and "cleared_at" in a for a in alerts)
    inventory = json.loads(got["personal-data.json"][1])
    assert any(p["table_name"] == "transactions" for p in inventory)
    with open(os.path.join(site.srv.dir, "policy.conf"), "rb") as f:
        assert got["policy/policy.conf"][1] == f.read()
    history = json.loads(got["policy/history.json"][1])
    assert history["loaded"], history
    assert history["loaded"][-1]["details"]["digest"] == \
        history["file_on_disk_digest"]
    names = [m["name"] for m in json.loads(got["schema/migrations.json"][1])]
    assert names == sorted(names) and any(n.startswith("028_")
                                          for n in names)


def test_checkpoints_verify_with_the_recipe(site, tmp_path):
    with tarfile.open(site.out) as t:
        t.extractall(tmp_path)
    readme = (tmp_path / "README.txt").read_text()
    log = (tmp_path / "checkpoints" / "checkpoints.log").read_text()
    with open(site.file) as f:
        assert log == f.read()      # every checkpoint was made in the period
    assert (tmp_path / "checkpoints" / "checkpoint.pub").read_text() == \
        site.pub

    # Recipe step 1: every file is the one indexed.
    step1 = readme.split("1. Every file is the one indexed:\n", 1)[1]
    step1 = step1.split("\n\n", 1)[0]
    r = subprocess.run(["bash", "-c", step1], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, (step1, r.stdout, r.stderr)
    assert r.stdout.count(": OK") == len(FILES) - 1

    # Step 2: the offline verifier, then one line by hand with OpenSSL.
    r = subprocess.run([ADMIN, "-d", site.srv.dir, "audit", "verify",
                        "--checkpoints", "checkpoints/checkpoints.log",
                        "--pubkey", "checkpoints/checkpoint.pub"],
                       cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)
    n = len(log.splitlines())
    assert r.stdout.startswith("checkpoints ok: 1 to %d signed" % n)
    by_hand = readme.split("One line by hand, with OpenSSL 3 "
                           "(N its line number):\n", 1)[1]
    by_hand = by_hand.split("\n\n", 1)[0]
    for line in (1, n):
        r = subprocess.run(["bash", "-ec", "N=%d\n%s" % (line, by_hand)],
                           cwd=tmp_path, capture_output=True, text=True)
        assert r.returncode == 0, (by_hand, r.stdout, r.stderr)
        assert "Signature Verified Successfully" in r.stdout


def test_refusals_leave_nothing(site, tmp_path):
    before = site.out.read_bytes()
    r = evidence(site.srv.dir, *(site.period() + ["--out", str(site.out)]))
    assert r.returncode != 0 and "never overwritten" in r.stderr
    assert site.out.read_bytes() == before

    out = tmp_path / "x.tar"
    for args, why in (
            (["--from", "2026-03-02", "--to", "2026-03-01"], "is after"),
            (["--from", "2025-01-01", "--to", "2026-02-05"], "at most 400"),
            (["--from", "2026-02-30", "--to", "2026-03-01"], "exist")):
        r = evidence(site.srv.dir, *(args + ["--out", str(out)]))
        assert r.returncode == 1 and why in r.stderr, (args, r.stderr)
    # A failure after the start (a directory that does not exist).
    r = evidence(site.srv.dir, *(site.period() + [
        "--out", str(tmp_path / "nowhere" / "x.tar")]))
    assert r.returncode == 1, r.stderr
    assert os.listdir(tmp_path) == []


def retarget(site, old, new):
    """An event's target rewritten as the owner would, triggers off."""
    with db("pc_owner", dbname=site.dbname) as conn, conn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("ALTER TABLE audit.events DISABLE TRIGGER USER")
        cur.execute("UPDATE audit.events SET target = %s WHERE target = %s "
                    "RETURNING id", (new, old))
        (eid,), = cur.fetchall()
        cur.execute("ALTER TABLE audit.events ENABLE TRIGGER USER")
        cur.execute("COMMIT")
    return eid


def test_chain_json_names_a_rewritten_event(site, tmp_path):
    # Yesterday only (ended: the exports' records are not in it).
    closed = ["--from", site.first.isoformat(), "--to",
              site.first.isoformat()]
    before = tmp_path / "before.tar"
    r = evidence(site.srv.dir, *(closed + ["--out", str(before)]))
    assert r.returncode == 0, r.stderr
    eid = retarget(site, "edge-first", "forged")
    try:
        out = tmp_path / "forged.tar"
        r = evidence(site.srv.dir, *(closed + ["--out", str(out)]))
        assert r.returncode == 0, r.stderr
        chain = json.loads(members(out)["chain.json"][1])
        assert chain["links_intact"] is False
        assert chain["first_bad_event"] == eid
    finally:
        retarget(site, "forged", "edge-first")
    out = tmp_path / "restored.tar"
    r = evidence(site.srv.dir, *(closed + ["--out", str(out)]))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == before.read_bytes()
