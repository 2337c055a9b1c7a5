-- 025_devices_self_service.sql: users see and revoke their own device
-- cookies, admins revoke all of an account's (issue 15, part 4).
--
-- A device (024) makes its browser's login attempts trusted. Its owner
-- lists their live devices (not revoked, not expired) and revokes any
-- of them; an admin revokes every live device of another account (a
-- lost laptop, a leaver), which is audited and alerted: it sends that
-- account back to the untrusted lane, where anyone who knows its name
-- can lock it. Revocation takes effect at the device's next attempt on
-- every instance (auth.device_live() decides trust here).
--
-- The caller is resolved from the session's raw token, as everywhere
-- since 015. A device id that is not one of the caller's live devices is
-- not_found (PCA05) whoever owns it: the answer says nothing of other
-- accounts' devices. Neither the secret nor its hash ever leaves: the
-- list says only whether a row is the caller's own browser (current),
-- from the secret of the cookie the server checked for this user.

GRANT CREATE ON SCHEMA auth TO pc_api;
SET ROLE pc_api;

-- The caller's live devices, newest first. p_secret: the secret of the
-- request's device cookie (its MAC checked for this user), or NULL.
CREATE FUNCTION auth.devices_own(p_token bytea, p_secret bytea)
RETURNS TABLE (id bigint, created_at timestamptz, created_source inet,
    last_used_at timestamptz, last_source inet, expires_at timestamptz,
    locked_until timestamptz, current boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	a	auth.users%ROWTYPE;
BEGIN
	a := auth.actor(p_token, ARRAY['operator', 'admin', 'auditor'],
	    false);
	RETURN QUERY SELECT d.id, d.created_at, d.created_source,
	    d.last_used_at, d.last_source, d.expires_at,
	    CASE WHEN d.locked_until > now() THEN d.locked_until END,
	    coalesce(length(p_secret) = 32 AND
	        d.secret_hash = sha256(p_secret), false)
	  FROM auth.devices d
	 WHERE d.user_id = a.id AND d.revoked_at IS NULL
	   AND d.expires_at > now()
	 ORDER BY d.created_at DESC, d.id DESC;
END;
$$;

-- Revoke one of the caller's live devices; not_found for any other id.
CREATE FUNCTION auth.device_revoke(p_token bytea, p_source inet,
    p_device bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	a	auth.users%ROWTYPE;
BEGIN
	a := auth.actor(p_token, ARRAY['operator', 'admin', 'auditor'],
	    false);
	UPDATE auth.devices SET revoked_at = now(), revoked_by = a.id,
	    revoke_reason = 'user'
	 WHERE id = p_device AND user_id = a.id AND revoked_at IS NULL
	   AND expires_at > now();
	IF NOT FOUND THEN
		RAISE EXCEPTION 'not_found' USING ERRCODE = 'PCA05';
	END IF;
	PERFORM audit.record(a.id, a.username, a.role, p_source,
	    'device.revoked', a.username, 'success',
	    jsonb_build_object('device', p_device));
END;
$$;

-- An admin revokes every live device of another account: audited with
-- the count and alerted (devices_revoked). Returns the count.
CREATE FUNCTION auth.admin_revoke_devices(p_token bytea, p_source inet,
    p_target bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	x	record;
	v_n	integer;
BEGIN
	SELECT * INTO x FROM auth.admin_act(p_token, p_target, false);
	WITH r AS (
		UPDATE auth.devices SET revoked_at = now(),
		    revoked_by = (x.actor).id, revoke_reason = 'admin'
		 WHERE user_id = p_target AND revoked_at IS NULL
		   AND expires_at > now()
		RETURNING 1)
	SELECT count(*)::integer INTO v_n FROM r;
	PERFORM audit.record((x.actor).id, (x.actor).username,
	    (x.actor).role, p_source, 'devices.revoked', (x.target).username,
	    'success', jsonb_build_object('user_id', p_target, 'count', v_n),
	    'devices_revoked', 'alert');
	RETURN v_n;
END;
$$;

REVOKE ALL ON FUNCTION auth.devices_own(bytea, bytea),
    auth.device_revoke(bytea, inet, bigint),
    auth.admin_revoke_devices(bytea, inet, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.devices_own(bytea, bytea),
    auth.device_revoke(bytea, inet, bigint),
    auth.admin_revoke_devices(bytea, inet, bigint) TO pc_auth;

RESET ROLE;
REVOKE CREATE ON SCHEMA auth FROM pc_api;

-- An admin's revocation of someone else's devices is a privileged change
-- the weekly review lists, like sessions.revoked.
INSERT INTO audit.privileged_events VALUES ('devices.revoked');
