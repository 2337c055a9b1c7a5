-- 024_device_cookies.sql: device cookies and the trusted lane (issue 15,
-- parts 1 and 2).
--
-- Before, five wrong passwords from anyone who knew a username locked
-- its owner out for 30 minutes (doubling to 24 h): the lockout protected
-- the account and also handed an insider a switch to stop any operator
-- or auditor from working. Now a browser that signed in successfully
-- holds a device cookie (__Host-pc_device, src/devcookie.c): a random
-- secret, its expiry and the username, authenticated with a key derived
-- from the KEK, which lives outside the database. The database keeps
-- only the secret's SHA-256 (auth.devices), with first and last use and
-- source.
--
-- A login attempt whose cookie is valid *for the account it names* (its
-- MAC checked by the server, its row here live: not revoked, not
-- expired, the same account) is a trusted attempt:
--   - the account-wide lockout and the per-source block do not refuse
--     it, and its failures cost neither the account nor the source;
--   - it has its own failure counter per device, counted before the
--     hash exactly as 022 counts accounts; at lockout_threshold the
--     device is locked (device.locked, alert device_locked), for as
--     long as the account would be, doubling within 24 h;
--   - a success clears the device's count, not the account's, and is
--     recorded as device.used; an untrusted success issues a new device
--     (device.issued).
-- Every other attempt is untrusted and goes through 022 unchanged. A
-- cookie presented from a new source is remembered (device_sources);
-- when one device has been presented from device_sources_alert distinct
-- sources within 24 h, device.many_sources is recorded and alerted (a
-- stolen cookie). Revoking a device (auth.device_revoke*, 025) takes
-- effect at its next attempt on every instance: trust is decided here,
-- never from memory.

CREATE TABLE auth.devices (
	id		bigserial PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES auth.users (id),
	secret_hash	bytea NOT NULL UNIQUE
	    CHECK (length(secret_hash) = 32),
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_source	inet NOT NULL,
	expires_at	timestamptz NOT NULL,
	last_used_at	timestamptz,
	last_source	inet,
	-- Its own lockout (022's rules, per device).
	failures	integer NOT NULL DEFAULT 0,
	last_failure_at	timestamptz,
	locked_until	timestamptz,
	lockouts_24h	integer NOT NULL DEFAULT 0,
	last_lockout_at	timestamptz,
	revoked_at	timestamptz,
	revoked_by	bigint REFERENCES auth.users (id),
	revoke_reason	text CHECK (revoke_reason IN ('user', 'admin')),
	CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);
CREATE INDEX devices_user ON auth.devices (user_id);

-- Where each device was presented from (the stolen-cookie alert).
CREATE TABLE auth.device_sources (
	device_id	bigint NOT NULL REFERENCES auth.devices (id),
	source		inet NOT NULL,
	first_seen	timestamptz NOT NULL DEFAULT now(),
	last_seen	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (device_id, source)
);

GRANT SELECT, INSERT, UPDATE ON auth.devices TO pc_api;
GRANT SELECT, INSERT, UPDATE ON auth.device_sources TO pc_api;
GRANT USAGE ON SEQUENCE auth.devices_id_seq TO pc_api;
GRANT SELECT ON auth.devices, auth.device_sources TO pc_ops;

INSERT INTO audit.alert_rules VALUES
	('device_locked', 'account', 3600),
	('device_many_sources', 'account', 3600),
	('devices_revoked', 'account', 3600);

GRANT CREATE ON SCHEMA auth TO pc_api;
SET ROLE pc_api;

-- 022's failure record, with details beside the reason (a trusted
-- attempt's device).
DROP FUNCTION auth.failure_recorded(bigint, text, inet, text);
CREATE FUNCTION auth.failure_recorded(p_user_id bigint, p_username text,
    p_source inet, p_reason text, p_details jsonb DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	IF p_reason IS NULL OR p_reason NOT IN ('unknown_user', 'disabled',
	    'bad_password', 'not_enrolled', 'bad_totp', 'totp_replay',
	    'locked', 'source_blocked', 'bad_enrolment_code', 'not_staged',
	    'abandoned') THEN
		RAISE EXCEPTION 'unknown failure reason'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF p_user_id IS NOT NULL THEN
		SELECT username INTO p_username FROM auth.users
		 WHERE id = p_user_id;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'no such account'
			    USING ERRCODE = 'invalid_parameter_value';
		END IF;
	ELSIF p_username IS NULL OR p_username NOT LIKE 'unknown:%' THEN
		RAISE EXCEPTION 'an unknown name is kept as its tag'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN audit.record(p_user_id, p_username, NULL, p_source,
	    'login.failure', p_username, 'failure',
	    coalesce(p_details, '{}'::jsonb) ||
	        jsonb_build_object('reason', p_reason),
	    CASE WHEN p_reason IN ('locked', 'source_blocked')
	        THEN 'attempt_while_locked' END, 'alert');
END;
$$;

-- The live device of an account whose secret this is, locked for
-- update; NULL when there is none (unknown, revoked, expired, another
-- account's).
CREATE FUNCTION auth.device_live(p_user_id bigint, p_secret bytea)
RETURNS auth.devices
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT d.* FROM auth.devices d
	 WHERE p_secret IS NOT NULL AND length(p_secret) = 32
	   AND d.secret_hash = sha256(p_secret) AND d.user_id = p_user_id
	   AND d.revoked_at IS NULL AND d.expires_at > now()
	   FOR UPDATE;
$$;

-- A device presented from p_source: remembered; a new source that
-- makes p_alert_at distinct sources within 24 h is recorded and
-- alerted (a stolen cookie).
CREATE FUNCTION auth.device_presented(p_device bigint, p_source inet,
    p_alert_at integer)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_new	boolean;
	v_n	integer;
	u	record;
BEGIN
	p_alert_at := least(greatest(coalesce(p_alert_at, 3), 2), 100);
	INSERT INTO auth.device_sources AS s (device_id, source)
	VALUES (p_device, p_source)
	ON CONFLICT (device_id, source) DO UPDATE SET last_seen = now()
	RETURNING (xmax = 0) INTO v_new;
	IF NOT v_new THEN
		RETURN;
	END IF;
	SELECT count(*) INTO v_n FROM auth.device_sources
	 WHERE device_id = p_device
	   AND last_seen > now() - interval '24 hours';
	IF v_n < p_alert_at THEN
		RETURN;
	END IF;
	SELECT us.id, us.username, us.role INTO u FROM auth.devices d
	  JOIN auth.users us ON us.id = d.user_id WHERE d.id = p_device;
	PERFORM audit.record(u.id, u.username, u.role, p_source,
	    'device.many_sources', u.username, 'denied',
	    jsonb_build_object('device', p_device, 'sources_24h', v_n),
	    'device_many_sources', 'alert');
END;
$$;

-- Lock a device from p_at, for as long as an account's lock would last
-- (022's lock_seconds()); audited and alerted.
CREATE FUNCTION auth.device_lock(p_device bigint, p_source inet,
    p_at timestamptz, p_lock_secs integer, p_lock_max integer)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	d	auth.devices%ROWTYPE;
	v	record;
	u	record;
BEGIN
	SELECT * INTO d FROM auth.devices WHERE id = p_device FOR UPDATE;
	v := auth.lock_seconds(d.lockouts_24h, d.last_lockout_at,
	    p_lock_secs, p_lock_max);
	UPDATE auth.devices SET failures = 0,
	    locked_until = coalesce(p_at, now()) +
	        make_interval(secs => v.seconds),
	    lockouts_24h = v.lockouts, last_lockout_at = coalesce(p_at, now())
	 WHERE id = p_device;
	SELECT id, username, role INTO u FROM auth.users WHERE id = d.user_id;
	PERFORM audit.record(u.id, u.username, u.role, p_source,
	    'device.locked', u.username, 'denied',
	    jsonb_build_object('device', p_device, 'seconds', v.seconds,
	        'lockouts_24h', v.lockouts),
	    'device_locked', 'alert');
END;
$$;

-- A trusted attempt's reservation on its device (022's reserve_attempt,
-- per device): 'open' (counted, go on), else 'locked' or 'deciding'.
CREATE FUNCTION auth.device_reserve(p_device auth.devices,
    p_source inet, p_threshold integer, p_lock_secs integer,
    p_lock_max integer)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v	text;
BEGIN
	v := auth.attempt_verdict(p_device.failures, p_device.locked_until,
	    p_device.last_failure_at, p_threshold);
	IF v = 'abandoned' THEN
		-- The deciding attempt never ended: its lock, from then.
		PERFORM auth.device_lock(p_device.id, p_source,
		    p_device.last_failure_at, p_lock_secs, p_lock_max);
		v := CASE WHEN (SELECT locked_until FROM auth.devices
		    WHERE id = p_device.id) > now() THEN 'locked'
		    ELSE 'open' END;
	END IF;
	IF v = 'open' THEN
		UPDATE auth.devices SET failures = failures + 1,
		    last_failure_at = now()
		 WHERE id = p_device.id;
	END IF;
	RETURN v;
END;
$$;

-- Login's first step (022's, with the device). p_device: the secret of
-- a device cookie whose MAC the server checked for this username, or
-- NULL. device_id is set for a trusted attempt: then locked is the
-- device's verdict, source_blocked is false and no attempt is numbered
-- on the account (its failures end in device_failed()).
CREATE FUNCTION auth.login_reserve(p_username text, p_source inet,
    p_name_key text, p_threshold integer, p_lock_secs integer,
    p_lock_max integer, p_src jsonb, p_device bytea,
    p_device_alert integer)
RETURNS TABLE (user_id bigint, username text, display_name text,
    role text, password_hash text, totp_state text, totp_secret bytea,
    totp_key_id integer, disabled boolean, locked boolean,
    source_blocked boolean, source_blocked_until timestamptz,
    attempt bigint, device_id bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	p	record;
	b	record;
	d	auth.devices;
	v	text;
BEGIN
	IF p_device IS NOT NULL THEN
		SELECT * INTO b FROM auth.login_begin(p_username, p_source);
		d := auth.device_live(b.user_id, p_device);
	END IF;
	IF d.id IS NULL THEN
		RETURN QUERY SELECT r.*, NULL::bigint FROM auth.login_reserve(
		    p_username, p_source, p_name_key, p_threshold,
		    p_lock_secs, p_lock_max, p_src) r;
		RETURN;
	END IF;
	p := auth.lock_bounds(p_threshold, p_lock_secs, p_lock_max);
	PERFORM auth.device_presented(d.id, p_source, p_device_alert);
	v := auth.device_reserve(d, p_source, p.threshold, p.lock_secs,
	    p.lock_max);
	RETURN QUERY SELECT b.user_id, b.username, b.display_name, b.role,
	    b.password_hash, b.totp_state, b.totp_secret, b.totp_key_id,
	    b.disabled, v <> 'open', false, NULL::timestamptz,
	    NULL::bigint, d.id;
END;
$$;
REVOKE ALL ON FUNCTION auth.login_reserve(text, inet, text, integer,
    integer, integer, jsonb, bytea, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.login_reserve(text, inet, text, integer,
    integer, integer, jsonb, bytea, integer) TO pc_auth;
REVOKE EXECUTE ON FUNCTION auth.login_reserve(text, inet, text, integer,
    integer, integer, jsonb) FROM pc_auth;

-- A trusted attempt failed: recorded with its device; the device, not
-- the account or the source, pays. At the threshold the device locks
-- ('locked_now'). 'locked' attempts were never counted.
CREATE FUNCTION auth.device_failed(p_device bigint, p_user_id bigint,
    p_source inet, p_reason text, p_threshold integer,
    p_lock_secs integer, p_lock_max integer)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b	record;
	d	auth.devices%ROWTYPE;
BEGIN
	b := auth.lock_bounds(p_threshold, p_lock_secs, p_lock_max);
	SELECT * INTO d FROM auth.devices
	 WHERE id = p_device AND user_id = p_user_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such device of this account'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM auth.failure_recorded(p_user_id, NULL, p_source, p_reason,
	    jsonb_build_object('device', p_device));
	IF p_reason <> 'locked' AND d.failures >= b.threshold AND
	    NOT coalesce(d.locked_until > now(), false) THEN
		PERFORM auth.device_lock(p_device, p_source, now(),
		    b.lock_secs, b.lock_max);
		RETURN 'locked_now';
	END IF;
	RETURN 'failed';
END;
$$;
REVOKE ALL ON FUNCTION auth.device_failed(bigint, bigint, inet, text,
    integer, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.device_failed(bigint, bigint, inet, text,
    integer, integer, integer) TO pc_auth;

-- Login's success (015's login_succeeded(), with the device). A trusted
-- attempt (p_device) needs its device still live and unlocked, not the
-- account unlocked, and leaves the account's failure count alone (an
-- attacker's failures on it stay counted).
CREATE FUNCTION auth.login_succeeded(p_user_id bigint, p_source inet,
    p_totp_step bigint, p_token bytea, p_idle_secs integer,
    p_absolute_until timestamptz, p_device bigint)
RETURNS TABLE (outcome text, session_id bigint,
    idle_expires_at timestamptz, absolute_expires_at timestamptz,
    must_change_password boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	v_user	auth.users%ROWTYPE;
	v_sid	bigint;
	v_idle	timestamptz;
	v_must	boolean;
	v_bar	text;
BEGIN
	IF length(p_token) <> 32 OR NOT auth.step_plausible(p_totp_step)
	    OR p_absolute_until IS NULL OR p_idle_secs IS NULL THEN
		RAISE EXCEPTION 'a 32-byte token and a current TOTP step'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- The policy's hard limits (policy.c), whatever the caller says.
	p_idle_secs := least(greatest(p_idle_secs, 10), 900);
	p_absolute_until := least(p_absolute_until, now() + interval '12 hours');
	SELECT * INTO v_user FROM auth.users WHERE id = p_user_id FOR UPDATE;
	v_bar := CASE
	    WHEN v_user.disabled_at IS NOT NULL THEN 'disabled'
	    WHEN p_device IS NULL AND EXISTS (SELECT 1 FROM auth.lockout
	        WHERE user_id = p_user_id AND locked_until > now())
	        THEN 'locked'
	    WHEN p_device IS NOT NULL AND NOT EXISTS (SELECT 1
	        FROM auth.devices WHERE id = p_device
	        AND user_id = p_user_id AND revoked_at IS NULL
	        AND expires_at > now()
	        AND NOT coalesce(locked_until > now(), false))
	        THEN 'locked'
	    END;
	IF v_bar IS NOT NULL THEN
		RETURN QUERY SELECT v_bar, NULL::bigint, NULL::timestamptz,
		    NULL::timestamptz, NULL::boolean;
		RETURN;
	END IF;

	-- RFC 6238 5.2: a step is accepted once; concurrent reuse loses.
	UPDATE auth.credentials SET totp_last_step = p_totp_step
	 WHERE user_id = p_user_id AND totp_state = 'enrolled'
	   AND totp_last_step < p_totp_step
	RETURNING must_change_password INTO v_must;
	IF NOT FOUND THEN
		PERFORM audit.record(p_user_id, v_user.username, v_user.role,
		    p_source, 'totp_replay', v_user.username, 'denied',
		    jsonb_build_object('step', p_totp_step));
		RETURN QUERY SELECT 'totp_replay'::text, NULL::bigint,
		    NULL::timestamptz, NULL::timestamptz, NULL::boolean;
		RETURN;
	END IF;

	IF p_device IS NULL THEN
		UPDATE auth.lockout SET failures = 0 WHERE user_id = p_user_id;
	END IF;
	UPDATE auth.users SET last_login_at = now(),
	    last_login_source = p_source WHERE id = p_user_id;

	v_idle := least(now() + make_interval(secs => p_idle_secs),
	    p_absolute_until);
	INSERT INTO auth.sessions (token_hash, user_id, idle_expires_at,
	    absolute_expires_at, source, reauth_at)
	VALUES (sha256(p_token), p_user_id, v_idle, p_absolute_until,
	    p_source, now())
	RETURNING id INTO v_sid;

	PERFORM audit.record(p_user_id, v_user.username, v_user.role,
	    p_source, 'login.success', v_user.username, 'success',
	    jsonb_build_object('session', v_sid) ||
	    CASE WHEN p_device IS NOT NULL THEN
	        jsonb_build_object('device', p_device)
	    ELSE '{}'::jsonb END);

	RETURN QUERY SELECT 'ok'::text, v_sid, v_idle, p_absolute_until,
	    v_must;
END;
$$;
REVOKE ALL ON FUNCTION auth.login_succeeded(bigint, inet, bigint, bytea,
    integer, timestamptz, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.login_succeeded(bigint, inet, bigint, bytea,
    integer, timestamptz, bigint) TO pc_auth;
DROP FUNCTION auth.login_succeeded(bigint, inet, bigint, bytea, integer,
    timestamptz);

-- After a success (in the same statement): a trusted attempt's device
-- used (count cleared, device.used); an untrusted one's browser gets a
-- new device (device.issued) with the secret p_new, until p_expires
-- (at most 400 days: what browsers keep a cookie). Returns the new
-- device's id, or NULL.
CREATE FUNCTION auth.device_signed_in(p_user_id bigint, p_device bigint,
    p_new bytea, p_expires timestamptz, p_source inet)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	u	record;
	v_id	bigint;
BEGIN
	SELECT id, username, role INTO u FROM auth.users WHERE id = p_user_id;
	IF p_device IS NOT NULL THEN
		UPDATE auth.devices SET failures = 0, last_used_at = now(),
		    last_source = p_source
		 WHERE id = p_device AND user_id = p_user_id;
		PERFORM audit.record(u.id, u.username, u.role, p_source,
		    'device.used', u.username, 'success',
		    jsonb_build_object('device', p_device));
		RETURN NULL;
	END IF;
	IF p_new IS NULL OR length(p_new) <> 32 OR p_expires IS NULL THEN
		RAISE EXCEPTION 'a 32-byte device secret and its expiry'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO auth.devices (user_id, secret_hash, created_source,
	    expires_at, last_used_at, last_source)
	VALUES (p_user_id, sha256(p_new), p_source,
	    least(p_expires, now() + interval '400 days'), now(), p_source)
	RETURNING id INTO v_id;
	INSERT INTO auth.device_sources (device_id, source)
	VALUES (v_id, p_source);
	PERFORM audit.record(u.id, u.username, u.role, p_source,
	    'device.issued', u.username, 'success',
	    jsonb_build_object('device', v_id));
	RETURN v_id;
END;
$$;
REVOKE ALL ON FUNCTION auth.device_signed_in(bigint, bigint, bytea,
    timestamptz, inet) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.device_signed_in(bigint, bigint, bytea,
    timestamptz, inet) TO pc_auth;

-- The steps are private to the functions above.
REVOKE ALL ON FUNCTION
    auth.failure_recorded(bigint, text, inet, text, jsonb),
    auth.device_live(bigint, bytea),
    auth.device_presented(bigint, inet, integer),
    auth.device_lock(bigint, inet, timestamptz, integer, integer),
    auth.device_reserve(auth.devices, inet, integer, integer, integer)
    FROM PUBLIC;

RESET ROLE;
REVOKE CREATE ON SCHEMA auth FROM pc_api;
