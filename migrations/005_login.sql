-- 005_login.sql: login, lockout, retry detection, sessions, alerts.
--
-- Each login step is one function call, so its checks and its writes
-- (failure counters, lockout, the audit record, the alert, the session)
-- commit together or not at all, and lockout state is exact across
-- workers and instances. The server passes policy numbers in; the
-- database keeps no copy of the policy.

-- Alerts: records with an owner and an acknowledgement (issue 6 adds
-- the API). One open alert per (rule, key); repeats raise its count.
CREATE TABLE audit.alerts (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	rule		text NOT NULL CHECK (rule ~ '^[a-z][a-z0-9_]{1,63}$'),
	severity	text NOT NULL CHECK (severity IN ('warning', 'alert')),
	key		text NOT NULL,
	first_seen	timestamptz NOT NULL DEFAULT now(),
	last_seen	timestamptz NOT NULL DEFAULT now(),
	count		integer NOT NULL DEFAULT 1,
	event_ids	bigint[] NOT NULL DEFAULT '{}',
	acknowledged_at	timestamptz,
	acknowledged_by	text,
	ack_comment	text
);
CREATE UNIQUE INDEX alerts_open ON audit.alerts (rule, key)
	WHERE acknowledged_at IS NULL;

-- Record one audit event; with a rule, raise (or bump) its alert.
-- Returns the event id. Text from users arrives as parameters and is
-- stored as data; details is built with jsonb functions, never by
-- concatenation.
CREATE FUNCTION audit.record(p_actor_id bigint, p_actor_name text,
    p_actor_role text, p_source inet, p_event text, p_target text,
    p_outcome text, p_details jsonb, p_rule text DEFAULT NULL,
    p_severity text DEFAULT 'warning')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_id	bigint;
BEGIN
	INSERT INTO audit.events (actor_id, actor_name, actor_role, source,
	    event, target, outcome, details)
	VALUES (p_actor_id, p_actor_name, p_actor_role, p_source, p_event,
	    p_target, p_outcome, coalesce(p_details, '{}'::jsonb))
	RETURNING id INTO v_id;

	IF p_rule IS NOT NULL THEN
		INSERT INTO audit.alerts AS a (rule, severity, key, event_ids)
		VALUES (p_rule, p_severity,
		    coalesce(p_target, '') || '@' || coalesce(host(p_source), ''),
		    ARRAY[v_id])
		ON CONFLICT (rule, key) WHERE acknowledged_at IS NULL
		DO UPDATE SET last_seen = now(), count = a.count + 1,
		    event_ids = (a.event_ids || v_id)[greatest(1,
		        cardinality(a.event_ids) - 98):];
	END IF;
	RETURN v_id;
END;
$$;
REVOKE ALL ON FUNCTION audit.record FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.record TO pc_auth, pc_payments, pc_ops;
GRANT SELECT ON audit.alerts TO pc_auditor;

-- Step 1: what the server needs to check the factors. Never says
-- whether the user exists except by a NULL id the server hides.
CREATE FUNCTION auth.login_begin(p_username text, p_source inet)
RETURNS TABLE (user_id bigint, username text, display_name text,
    role text, password_hash text, totp_state text, totp_secret bytea,
    totp_key_id integer, disabled boolean, locked boolean,
    source_blocked boolean, source_blocked_until timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT u.id, u.username, u.display_name, u.role, c.password_hash,
	       c.totp_state, c.totp_secret, c.totp_key_id,
	       u.disabled_at IS NOT NULL,
	       coalesce(l.locked_until > now(), false),
	       s.blocked_until IS NOT NULL, s.blocked_until
	  FROM (SELECT 1) one
	  LEFT JOIN auth.users u
	    ON u.username = lower(normalize(p_username, NFKC))
	  LEFT JOIN auth.credentials c ON c.user_id = u.id
	  LEFT JOIN auth.lockout l ON l.user_id = u.id
	  LEFT JOIN auth.source_blocks s
	    ON s.source = p_source AND s.blocked_until > now();
$$;

-- A failed attempt: count it per account and per source, lock and
-- block when the policy says so, audit it and raise alerts.
CREATE FUNCTION auth.login_failed(p_user_id bigint, p_username text,
    p_source inet, p_reason text, p_threshold integer,
    p_lock_secs integer, p_lock_max integer, p_src_threshold integer,
    p_src_window integer, p_src_block integer)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_event		bigint;
	v_fail		integer;
	v_lockouts	integer;
	v_secs		bigint;
	v_src		integer;
	v_result	text := 'failed';
	v_rule		text;
BEGIN
	v_rule := CASE WHEN p_reason IN ('locked', 'source_blocked')
	    THEN 'attempt_while_locked' END;

	v_event := audit.record(p_user_id, p_username, NULL, p_source,
	    'login.failure', p_username, 'failure',
	    jsonb_build_object('reason', p_reason), v_rule, 'alert');

	IF p_user_id IS NOT NULL AND p_reason NOT IN ('locked',
	    'source_blocked') THEN
		INSERT INTO auth.lockout AS l (user_id, failures, last_failure_at)
		VALUES (p_user_id, 1, now())
		ON CONFLICT (user_id) DO UPDATE
		    SET failures = l.failures + 1, last_failure_at = now()
		RETURNING failures INTO v_fail;

		IF v_fail >= p_threshold THEN
			SELECT CASE WHEN last_lockout_at > now() - interval '24 hours'
			    THEN lockouts_24h + 1 ELSE 1 END
			  INTO v_lockouts FROM auth.lockout WHERE user_id = p_user_id;
			-- 30 min, doubling on each further lockout in 24 h, capped.
			v_secs := least(p_lock_max::bigint,
			    p_lock_secs::bigint * (2 ^ least(v_lockouts - 1, 20))::bigint);
			UPDATE auth.lockout SET failures = 0,
			    locked_until = now() + make_interval(secs => v_secs),
			    lockouts_24h = v_lockouts, last_lockout_at = now()
			 WHERE user_id = p_user_id;
			PERFORM audit.record(p_user_id, p_username, NULL,
			    p_source, 'account.locked', p_username, 'denied',
			    jsonb_build_object('seconds', v_secs,
			        'lockouts_24h', v_lockouts), 'lockout', 'alert');
			v_result := 'locked_now';
		END IF;
	END IF;

	IF p_source IS NOT NULL AND p_reason <> 'source_blocked' THEN
		INSERT INTO auth.source_blocks AS s (source, failures, window_start)
		VALUES (p_source, 1, now())
		ON CONFLICT (source) DO UPDATE SET
		    failures = CASE WHEN s.window_start <
		        now() - make_interval(secs => p_src_window)
		        THEN 1 ELSE s.failures + 1 END,
		    window_start = CASE WHEN s.window_start <
		        now() - make_interval(secs => p_src_window)
		        THEN now() ELSE s.window_start END
		RETURNING failures INTO v_src;

		IF v_src >= p_src_threshold THEN
			UPDATE auth.source_blocks SET failures = 0,
			    window_start = now(),
			    blocked_until = now() + make_interval(secs => p_src_block)
			 WHERE source = p_source;
			PERFORM audit.record(NULL, NULL, NULL, p_source,
			    'source.blocked', host(p_source), 'denied',
			    jsonb_build_object('seconds', p_src_block,
			        'failures', v_src), 'blocked_source', 'alert');
		END IF;
	END IF;

	RETURN v_result;
END;
$$;

-- Both factors passed: consume the TOTP step (never twice), open the
-- session, reset the failure counter. Returns 'ok', or 'totp_replay'
-- (recorded as a failure by the caller), 'locked' or 'disabled' if the
-- account changed state while the password was being hashed.
CREATE FUNCTION auth.login_succeeded(p_user_id bigint, p_source inet,
    p_totp_step bigint, p_new_hash text, p_token_hash bytea,
    p_idle_secs integer, p_absolute_until timestamptz)
RETURNS TABLE (outcome text, session_id bigint,
    idle_expires_at timestamptz, absolute_expires_at timestamptz,
    must_change_password boolean)
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	v_user	auth.users%ROWTYPE;
	v_sid	bigint;
	v_idle	timestamptz;
	v_must	boolean;
BEGIN
	SELECT * INTO v_user FROM auth.users WHERE id = p_user_id FOR UPDATE;
	IF v_user.disabled_at IS NOT NULL THEN
		RETURN QUERY SELECT 'disabled'::text, NULL::bigint,
		    NULL::timestamptz, NULL::timestamptz, NULL::boolean;
		RETURN;
	END IF;
	IF EXISTS (SELECT 1 FROM auth.lockout WHERE user_id = p_user_id
	    AND locked_until > now()) THEN
		RETURN QUERY SELECT 'locked'::text, NULL::bigint,
		    NULL::timestamptz, NULL::timestamptz, NULL::boolean;
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

	IF p_new_hash IS NOT NULL THEN
		UPDATE auth.credentials SET password_hash = p_new_hash
		 WHERE user_id = p_user_id;
		PERFORM audit.record(p_user_id, v_user.username, v_user.role,
		    p_source, 'password.rehashed', v_user.username, 'success',
		    '{}'::jsonb);
	END IF;

	UPDATE auth.lockout SET failures = 0 WHERE user_id = p_user_id;
	UPDATE auth.users SET last_login_at = now(),
	    last_login_source = p_source WHERE id = p_user_id;

	v_idle := least(now() + make_interval(secs => p_idle_secs),
	    p_absolute_until);
	INSERT INTO auth.sessions (token_hash, user_id, idle_expires_at,
	    absolute_expires_at, source, reauth_at)
	VALUES (p_token_hash, p_user_id, v_idle, p_absolute_until,
	    p_source, now())
	RETURNING id INTO v_sid;

	PERFORM audit.record(p_user_id, v_user.username, v_user.role,
	    p_source, 'login.success', v_user.username, 'success',
	    jsonb_build_object('session', v_sid));

	RETURN QUERY SELECT 'ok'::text, v_sid, v_idle, p_absolute_until,
	    v_must;
END;
$$;

-- Every authenticated request: find the session, end it if it expired
-- or the hours window closed, else slide the idle deadline.
CREATE FUNCTION auth.session_check(p_token_hash bytea, p_idle_secs integer,
    p_in_hours boolean, p_source inet)
RETURNS TABLE (status text, session_id bigint, user_id bigint,
    username text, display_name text, role text,
    must_change_password boolean, idle_expires_at timestamptz,
    absolute_expires_at timestamptz, reauth_at timestamptz)
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	v_s	auth.sessions%ROWTYPE;
	v_u	auth.users%ROWTYPE;
	v_why	text;
	v_idle	timestamptz;
BEGIN
	SELECT * INTO v_s FROM auth.sessions s
	 WHERE s.token_hash = p_token_hash FOR UPDATE;
	IF NOT FOUND OR v_s.revoked_at IS NOT NULL THEN
		RETURN QUERY SELECT 'invalid'::text, NULL::bigint, NULL::bigint,
		    NULL::text, NULL::text, NULL::text, NULL::boolean,
		    NULL::timestamptz, NULL::timestamptz, NULL::timestamptz;
		RETURN;
	END IF;
	SELECT * INTO v_u FROM auth.users u WHERE u.id = v_s.user_id;

	v_why := CASE
	    WHEN NOT p_in_hours THEN 'outside_hours'
	    WHEN v_s.absolute_expires_at <= now() THEN 'expired_absolute'
	    WHEN v_s.idle_expires_at <= now() THEN 'expired_idle'
	    WHEN v_u.disabled_at IS NOT NULL THEN 'user_disabled'
	    END;
	IF v_why IS NOT NULL THEN
		UPDATE auth.sessions SET revoked_at = now(), revoke_reason = v_why
		 WHERE id = v_s.id;
		PERFORM audit.record(v_u.id, v_u.username, v_u.role, p_source,
		    CASE WHEN v_why = 'outside_hours' THEN 'session.outside_hours'
		         ELSE 'session.expired' END,
		    v_u.username, 'denied',
		    jsonb_build_object('session', v_s.id, 'reason', v_why),
		    CASE WHEN v_why = 'outside_hours' THEN 'outside_hours' END);
		RETURN QUERY SELECT CASE WHEN v_why = 'outside_hours'
		    THEN 'outside_hours' ELSE 'invalid' END, NULL::bigint,
		    NULL::bigint, NULL::text, NULL::text, NULL::text,
		    NULL::boolean, NULL::timestamptz, NULL::timestamptz,
		    NULL::timestamptz;
		RETURN;
	END IF;

	v_idle := least(now() + make_interval(secs => p_idle_secs),
	    v_s.absolute_expires_at);
	UPDATE auth.sessions SET last_seen_at = now(), idle_expires_at = v_idle
	 WHERE id = v_s.id;

	RETURN QUERY SELECT 'ok'::text, v_s.id, v_u.id, v_u.username,
	    v_u.display_name, v_u.role,
	    (SELECT c.must_change_password FROM auth.credentials c
	      WHERE c.user_id = v_u.id),
	    v_idle, v_s.absolute_expires_at, v_s.reauth_at;
END;
$$;

CREATE FUNCTION auth.logout(p_session_id bigint, p_source inet)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_u	auth.users%ROWTYPE;
BEGIN
	SELECT u.* INTO v_u FROM auth.users u JOIN auth.sessions s
	    ON s.user_id = u.id WHERE s.id = p_session_id;
	UPDATE auth.sessions SET revoked_at = now(), revoke_reason = 'logout'
	 WHERE id = p_session_id AND revoked_at IS NULL;
	PERFORM audit.record(v_u.id, v_u.username, v_u.role, p_source,
	    'logout', v_u.username, 'success',
	    jsonb_build_object('session', p_session_id));
END;
$$;

-- An attempt outside the allowed hours: audited, alerted.
CREATE FUNCTION auth.outside_hours(p_username text, p_source inet)
RETURNS void
LANGUAGE sql SET search_path = pg_catalog AS $$
	SELECT audit.record(NULL, left(p_username, 64), NULL, p_source,
	    'login.outside_hours', left(p_username, 64), 'denied',
	    '{}'::jsonb, 'outside_hours', 'warning');
$$;

REVOKE ALL ON FUNCTION auth.login_begin, auth.login_failed,
    auth.login_succeeded, auth.session_check, auth.logout,
    auth.outside_hours FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.login_begin, auth.login_failed,
    auth.login_succeeded, auth.session_check, auth.logout,
    auth.outside_hours TO pc_auth;
