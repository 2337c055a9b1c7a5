"""Issue 8, item 4: PostgreSQL stopped. Public and authenticated
requests fail within 5 s with 503, and the service recovers by itself
when the database returns (same processes, same session).

This stops the cluster every test of the session shares, so it is marked
to run after every other file (but before the secret scan, which reads
the database; see conftest.py) and always starts the cluster again."""
import glob
import os
import subprocess
import time

import pytest
import requests

from conftest import STACK, wait_healthy, workers
from people import NO_SOURCE_BLOCK, cookie_header, ready

PGBIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
               key=lambda p: [int(x) for x in p.split("/")[-2].split(".")
                              if x.isdigit()])[-1]
PGDATA = os.path.join(STACK, "pg")
# A functional limit from the issue, not a performance figure.
FAIL_WITHIN = 5.0

pytestmark = pytest.mark.last(1)


def pg_ctl(*args):
    return subprocess.run(["runuser", "-u", "postgres", "--",
                           os.path.join(PGBIN, "pg_ctl"), "-D", PGDATA]
                          + list(args), capture_output=True, text=True,
                          timeout=120)


def pg_running():
    return pg_ctl("status").returncode == 0


def pg_start():
    if not pg_running():
        r = pg_ctl("-l", os.path.join(STACK, "log", "postgresql.log"),
                   "-w", "-t", "60", "start")
        assert r.returncode == 0, r.stdout + r.stderr


def timed(fn):
    t0 = time.monotonic()
    r = fn()
    return r, time.monotonic() - t0


def test_postgresql_stopped_503_within_5s_then_recovers(make_server):
    srv = make_server("pgdown", workers=2,
                      policy=dict(NO_SOURCE_BLOCK)).start()
    oper = ready(srv, "operator")[0]
    auth = cookie_header(oper.token)
    before = workers(srv)
    keep = requests.Session()
    keep.verify = False

    def search(s=requests):
        return s.get(srv.url + "/api/transactions?limit=5", headers=auth,
                     verify=False, timeout=30)

    calls = {
        "healthz": lambda: requests.get(srv.url + "/healthz",
                                        verify=False, timeout=30),
        "healthz keep-alive": lambda: keep.get(srv.url + "/healthz",
                                               verify=False, timeout=30),
        "search": search,
        "search keep-alive": lambda: search(keep),
        "me": lambda: requests.get(srv.url + "/api/me", headers=auth,
                                   verify=False, timeout=30),
        "login": lambda: requests.post(
            srv.url + "/api/login", verify=False, timeout=30,
            json={"username": oper.username, "password": "not it",
                  "otp": "000000"}),
    }
    for name, call in calls.items():
        assert call().status_code == 200 or name == "login", name

    try:
        r = pg_ctl("-m", "fast", "-w", "stop")
        assert r.returncode == 0, r.stdout + r.stderr
        assert not pg_running()
        # Every worker and every pooled connection: several rounds.
        for _ in range(3):
            for name, call in calls.items():
                resp, took = timed(call)
                assert resp.status_code == 503, (name, resp.status_code,
                                                 resp.text)
                assert resp.json().get("error") == "unavailable" or \
                    resp.json().get("status") == "unavailable", \
                    (name, resp.text)
                assert took <= FAIL_WITHIN, (name, took)
    finally:
        pg_start()

    # Back by itself: no restart, the same session, within ~30 s.
    deadline = time.time() + 30
    ok = {}
    while time.time() < deadline and len(ok) < 4:
        for name in ("healthz", "healthz keep-alive", "search",
                     "search keep-alive"):
            if name not in ok:
                try:
                    if calls[name]().status_code == 200:
                        ok[name] = True
                except requests.RequestException:
                    pass
        time.sleep(0.3)
    assert len(ok) == 4, ok
    # Every worker: a few more rounds all succeed.
    for _ in range(6):
        assert calls["search"]().status_code == 200
        assert calls["me"]().status_code == 200
    assert workers(srv) == before
    assert srv.proc.poll() is None
    wait_healthy(srv)


@pytest.fixture(autouse=True, scope="module")
def _cluster_left_running():
    yield
    pg_start()
