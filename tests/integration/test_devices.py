"""Issue 15, part 4: users see and revoke their device cookies, admins
revoke all of an account's (migrations/025_devices_self_service.sql,
src/devices.c). Every device here is issued by a real login: an
untrusted success (no device cookie sent) issues one."""
import pytest
import requests

from conftest import create_user, db, module_server
from people import (COOKIE_NAME, DEVICE_NAME, NO_SOURCE_BLOCK, STEP,
                    Session, assert_error, change_password, device_cookie,
                    events, login_ok, ready)

pytestmark = pytest.mark.usefixtures("no_source_blocks")

devices_server = module_server("devices", workers=2, policy=NO_SOURCE_BLOCK)

DEVICE_KEYS = {"id", "created_at", "created_source", "last_used_at",
               "last_source", "expires_at", "locked_until", "current"}


def with_device(sess, value):
    """GET /api/devices from sess's browser, which holds the device
    cookie value."""
    return requests.get(sess.srv.url + "/api/devices", verify=False,
                        timeout=60, headers={"Cookie": "%s=%s; %s=%s" % (
                            COOKIE_NAME, sess.token, DEVICE_NAME,
                            value)})


def device_rows(user_id):
    """The user's devices as the owner sees them: id -> (revoked_at is
    set, revoke_reason, revoked_by)."""
    with db("pc_owner") as conn, conn.cursor() as cur:
        cur.execute("SELECT id, revoked_at IS NOT NULL, revoke_reason, "
                    "revoked_by FROM auth.devices WHERE user_id = %s",
                    (user_id,))
        return {r[0]: r[1:] for r in cur.fetchall()}


def signed_in_with_device(srv, role="operator"):
    """A new user signed in (password changed, as ready() does) and the
    device cookie their login, sent without one, was given."""
    user = create_user(role)
    r = login_ok(srv, user, offset=-STEP)
    sess = Session(srv, user, r)
    cookie, _ = device_cookie(r)
    change_password(sess)
    return sess, cookie


def test_a_login_issues_a_device_listed_as_current(devices_server):
    sess, cookie = signed_in_with_device(devices_server)
    r = with_device(sess, cookie)
    assert r.status_code == 200, r.text
    devs = r.json()["devices"]
    assert len(devs) == 1, devs
    d = devs[0]
    assert set(d) == DEVICE_KEYS, d
    assert d["current"] is True
    assert d["created_source"] == "127.0.0.1"
    assert d["expires_at"] > d["created_at"] > 0
    assert d["locked_until"] is None
    assert list(device_rows(sess.id)) == [d["id"]]
    # Without the cookie (or with one for another account) it is not
    # this browser's.
    plain = sess.get("/api/devices")
    assert plain.status_code == 200
    assert [x["current"] for x in plain.json()["devices"]] == [False]
    other, other_cookie = signed_in_with_device(devices_server)
    assert [x["current"] for x in with_device(sess, other_cookie)
            .json()["devices"]] == [False]
    # Neither the secret nor its hash is ever answered.
    secret = cookie.split(".")[0]
    assert secret not in r.text and secret not in plain.text


def test_revoking_ones_own_device(devices_server):
    sess, cookie = signed_in_with_device(devices_server)
    dev = sess.get("/api/devices").json()["devices"][0]["id"]
    r = sess.post("/api/devices/%d/revoke" % dev)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "revoked"}
    assert with_device(sess, cookie).json()["devices"] == []
    assert device_rows(sess.id) == {dev: (True, "user", sess.id)}
    ev = events(sess.username, "device.revoked")
    assert len(ev) == 1 and ev[0][2] == "success", ev
    assert ev[0][3] == {"device": dev}
    # Gone: a second revocation finds nothing.
    assert_error(sess.post("/api/devices/%d/revoke" % dev), 404,
                 "not_found")
    assert len(events(sess.username, "device.revoked")) == 1
    # At once: the browser's next login, with its revoked cookie, is
    # untrusted (a new device is issued, the old one is not used).
    r = login_ok(sess.srv, sess.user, headers={
        "Cookie": "%s=%s" % (DEVICE_NAME, cookie)})
    fresh, _ = device_cookie(r)
    assert fresh != cookie
    assert events(sess.username, "device.used") == []
    assert len(device_rows(sess.id)) == 2


def test_another_users_device_is_not_found(devices_server):
    """Another account's device id is answered as one that does not
    exist, and nothing changes."""
    sess, _ = signed_in_with_device(devices_server)
    victim, _ = signed_in_with_device(devices_server)
    before = device_rows(victim.id)
    (vdev,) = before
    r = sess.post("/api/devices/%d/revoke" % vdev)
    assert_error(r, 404, "not_found")
    assert r.json() == sess.post("/api/devices/987654321/revoke").json()
    assert device_rows(victim.id) == before == {vdev: (False, None, None)}
    assert events(victim.username, "device.revoked") == []
    assert events(sess.username, "device.revoked") == []
    assert len(victim.get("/api/devices").json()["devices"]) == 1


def test_admin_revokes_every_device_of_an_account(devices_server):
    adm, = ready(devices_server, "admin")
    target = create_user("operator")
    # Two logins without a device cookie: two devices.
    login_ok(devices_server, target, offset=-STEP)
    t = Session(devices_server, target,
                login_ok(devices_server, target))
    assert len(device_rows(t.id)) == 2
    r = adm.post("/api/users/%d/devices/revoke" % t.id)
    assert r.status_code == 200, r.text
    assert r.json() == {"revoked": 2}
    assert set(device_rows(t.id).values()) == {(True, "admin", adm.id)}
    ev = events(t.username, "devices.revoked")
    assert len(ev) == 1, ev
    assert ev[0][3] == {"user_id": t.id, "count": 2}
    alerts = adm.get("/api/alerts")
    assert alerts.status_code == 200, alerts.text
    mine = [a for a in alerts.json()["alerts"]
            if a["rule"] == "devices_revoked" and a["key"] == t.username
            and a["acknowledged_at"] is None]
    assert len(mine) == 1, mine
    # Nothing live is left: a second call revokes none.
    assert adm.post("/api/users/%d/devices/revoke" % t.id).json() == \
        {"revoked": 0}


def test_revoke_all_is_for_admins_on_other_accounts(devices_server):
    op, adm = ready(devices_server, "operator", "admin")
    victim, _ = signed_in_with_device(devices_server)
    before = device_rows(victim.id)
    assert_error(op.post("/api/users/%d/devices/revoke" % victim.id), 403,
                 "forbidden")
    assert_error(adm.post("/api/users/%d/devices/revoke" % adm.id), 403,
                 "self_forbidden")
    assert_error(adm.post("/api/users/987654321/devices/revoke"), 404,
                 "not_found")
    assert device_rows(victim.id) == before
    assert events(victim.username, "devices.revoked") == []
