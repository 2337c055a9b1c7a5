-- 018_login_reserves_its_attempt.sql: at most lockout_threshold
-- passwords are ever checked for an account (issue 13, lockout race);
-- an unknown name's lockout is looked up by its tag (src/nametag.c),
-- which is how login_failed(), name_failed() and outside_hours() are
-- now given it.
--
-- Before: auth.login_begin() only read the failure count. Three wrong
-- passwords, then four attempts at once from four allowlisted sources:
-- all four saw 3 < 5 and all four passwords were hashed and checked,
-- six against a threshold of five.
-- After: auth.login_reserve() does what login_begin() did and, for a
-- known account that is neither locked nor behind a blocked source,
-- takes a place for the attempt under the account's lockout row lock:
-- failures plus attempts in flight must stay below the threshold, or
-- the attempt is refused as locked before any hashing. The place is
-- given back when the attempt ends: auth.login_succeeded() (which also
-- clears the failures) or the new auth.login_failed(..., p_reserved).
-- A place whose worker died is void after 60 seconds (an argon2 hash
-- takes about one), so a crash cannot lock anyone out.
-- login_failed() gains two arguments: p_reserved (give the place back)
-- and p_source_exempt (issue 13: a VPN concentrator's NAT address is
-- every operator's address; per-source blocking there locks everyone
-- out when one machine misbehaves, so the policy's source_fail_exempt
-- ranges are not blocked; per-account lockout still applies). The
-- 10-argument form stays as a wrapper (no place, not exempt).
-- And whatever the source, one address that fails against
-- PC_SOURCE_ACCOUNTS (5) different accounts within source_fail_window
-- raises the alert source_many_accounts: password spraying, or a
-- shared address to look at. auth.source_accounts keeps the pairs.

ALTER TABLE auth.lockout
    ADD COLUMN inflight integer NOT NULL DEFAULT 0 CHECK (inflight >= 0),
    ADD COLUMN inflight_at timestamptz;

-- Which accounts failed from which address, and when last.
CREATE TABLE auth.source_accounts (
	source		inet NOT NULL,
	user_id		bigint NOT NULL REFERENCES auth.users (id),
	last_failure_at	timestamptz NOT NULL,
	PRIMARY KEY (source, user_id)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.source_accounts TO pc_api;
GRANT SELECT ON auth.source_accounts TO pc_ops;

-- pc_api owns every application function (016); it creates and
-- replaces them here, with the schema right for this transaction only.
GRANT CREATE ON SCHEMA auth TO pc_api;
SET ROLE pc_api;

-- Login's first step: the account and the source as login_begin()
-- sees them, and for a known account a place for this attempt.
-- reserved: the caller passes it back to login_failed().
CREATE FUNCTION auth.login_reserve(p_username text, p_source inet,
    p_threshold integer, p_name_key text)
RETURNS TABLE (user_id bigint, username text, display_name text,
    role text, password_hash text, totp_state text, totp_secret bytea,
    totp_key_id integer, disabled boolean, locked boolean,
    source_blocked boolean, source_blocked_until timestamptz,
    reserved boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	b	record;
	l	auth.lockout%ROWTYPE;
	v_live	integer;
BEGIN
	SELECT * INTO b FROM auth.login_begin(p_username, p_source);
	reserved := false;
	-- An unknown name's lockout is kept under its tag (nametag.c), not
	-- under the name, which may be a mistyped password.
	IF b.user_id IS NULL THEN
		b.locked := coalesce((SELECT n.locked_until > now()
		    FROM auth.name_lockout n WHERE n.name = p_name_key), false);
	END IF;
	IF b.user_id IS NOT NULL AND NOT b.locked AND NOT b.source_blocked
	THEN
		-- The policy's bounds (policy.c), whatever the caller says.
		p_threshold := least(greatest(coalesce(p_threshold, 5), 1), 10);
		INSERT INTO auth.lockout AS x (user_id) VALUES (b.user_id)
		ON CONFLICT ON CONSTRAINT lockout_pkey
		    DO UPDATE SET user_id = x.user_id
		RETURNING * INTO l;
		v_live := CASE WHEN l.inflight_at > now() - interval '60 seconds'
		    THEN l.inflight ELSE 0 END;
		IF l.locked_until > now() OR l.failures + v_live >= p_threshold
		THEN
			b.locked := true;
		ELSE
			UPDATE auth.lockout SET inflight = v_live + 1,
			    inflight_at = now() WHERE auth.lockout.user_id = b.user_id;
			reserved := true;
		END IF;
	END IF;
	user_id := b.user_id; username := b.username;
	display_name := b.display_name; role := b.role;
	password_hash := b.password_hash; totp_state := b.totp_state;
	totp_secret := b.totp_secret; totp_key_id := b.totp_key_id;
	disabled := b.disabled; locked := b.locked;
	source_blocked := b.source_blocked;
	source_blocked_until := b.source_blocked_until;
	RETURN NEXT;
END;
$$;
REVOKE ALL ON FUNCTION auth.login_reserve(text, inet, integer, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.login_reserve(text, inet, integer, text)
    TO pc_auth;

-- A failed attempt (015's body), with the place given back, exempt
-- sources not blocked, and the many-accounts alert.
CREATE FUNCTION auth.login_failed(p_user_id bigint, p_username text,
    p_source inet, p_reason text, p_threshold integer,
    p_lock_secs integer, p_lock_max integer, p_src_threshold integer,
    p_src_window integer, p_src_block integer, p_reserved boolean,
    p_source_exempt boolean)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_event		bigint;
	v_fail		integer;
	v_lockouts	integer;
	v_secs		bigint;
	v_src		integer;
	v_result	text := 'failed';
	v_rule		text;
	v_accounts	integer;
BEGIN
	IF p_reason IS NULL OR p_reason NOT IN ('unknown_user', 'disabled',
	    'bad_password', 'not_enrolled', 'bad_totp', 'totp_replay',
	    'locked', 'source_blocked', 'bad_enrolment_code', 'not_staged') THEN
		RAISE EXCEPTION 'unknown failure reason'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- A known account is recorded under its own name.
	IF p_user_id IS NOT NULL THEN
		SELECT username INTO p_username FROM auth.users
		 WHERE id = p_user_id;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'no such account'
			    USING ERRCODE = 'invalid_parameter_value';
		END IF;
	END IF;
	-- The policy's bounds (policy.c), whatever the caller says.
	p_threshold := least(greatest(coalesce(p_threshold, 5), 1), 10);
	p_lock_secs := least(greatest(coalesce(p_lock_secs, 1800), 1), 86400);
	p_lock_max := least(greatest(coalesce(p_lock_max, 86400),
	    p_lock_secs), 604800);
	p_src_threshold := least(greatest(coalesce(p_src_threshold, 20), 1),
	    1000);
	p_src_window := least(greatest(coalesce(p_src_window, 600), 10), 86400);
	p_src_block := least(greatest(coalesce(p_src_block, 900), 10), 86400);
	v_rule := CASE WHEN p_reason IN ('locked', 'source_blocked')
	    THEN 'attempt_while_locked' END;

	v_event := audit.record(p_user_id, p_username, NULL, p_source,
	    'login.failure', p_username, 'failure',
	    jsonb_build_object('reason', p_reason), v_rule, 'alert');

	-- The attempt's place, taken by auth.login_reserve(), is given
	-- back whatever the outcome; its failure is counted below.
	IF p_reserved AND p_user_id IS NOT NULL THEN
		UPDATE auth.lockout SET inflight = greatest(inflight - 1, 0)
		 WHERE user_id = p_user_id;
	END IF;

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

	IF p_source IS NOT NULL AND p_user_id IS NOT NULL THEN
		INSERT INTO auth.source_accounts AS a (source, user_id,
		    last_failure_at) VALUES (p_source, p_user_id, now())
		ON CONFLICT (source, user_id) DO UPDATE
		    SET last_failure_at = now();
		DELETE FROM auth.source_accounts WHERE source = p_source
		   AND last_failure_at < now() - make_interval(secs => p_src_window);
		SELECT count(*) INTO v_accounts FROM auth.source_accounts
		 WHERE source = p_source;
		IF v_accounts >= 5 THEN
			PERFORM audit.raise('source_many_accounts', 'warning',
			    'source:' || host(p_source), ARRAY[v_event]);
		END IF;
	END IF;

	IF p_source IS NOT NULL AND p_reason <> 'source_blocked'
	    AND NOT coalesce(p_source_exempt, false) THEN
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
REVOKE ALL ON FUNCTION auth.login_failed(bigint, text, inet, text, integer,
    integer, integer, integer, integer, integer, boolean, boolean)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.login_failed(bigint, text, inet, text,
    integer, integer, integer, integer, integer, integer, boolean, boolean)
    TO pc_auth;

-- The 10-argument form: one body for the rule, above.
CREATE OR REPLACE FUNCTION auth.login_failed(p_user_id bigint,
    p_username text, p_source inet, p_reason text, p_threshold integer,
    p_lock_secs integer, p_lock_max integer, p_src_threshold integer,
    p_src_window integer, p_src_block integer)
RETURNS text
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT auth.login_failed(p_user_id, p_username, p_source, p_reason,
	    p_threshold, p_lock_secs, p_lock_max, p_src_threshold,
	    p_src_window, p_src_block, false, false);
$$;

-- A success gives its place back too (015's body otherwise).
CREATE OR REPLACE FUNCTION auth.login_succeeded(p_user_id bigint, p_source inet,
    p_totp_step bigint, p_token bytea, p_idle_secs integer,
    p_absolute_until timestamptz)
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

	-- The failures end, and this attempt's reservation with them.
	UPDATE auth.lockout SET failures = 0,
	    inflight = greatest(inflight - 1, 0) WHERE user_id = p_user_id;
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
	    jsonb_build_object('session', v_sid));

	RETURN QUERY SELECT 'ok'::text, v_sid, v_idle, p_absolute_until,
	    v_must;
END;
$$;

-- A login outside the hours (005): recorded under the account's own
-- name when the name is one, else under the name's tag (nametag.c),
-- never as typed. The 2-argument form recorded what was typed.
CREATE FUNCTION auth.outside_hours(p_username text, p_source inet,
    p_name_key text)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT audit.record(NULL, n.name, NULL, p_source,
	    'login.outside_hours', n.name, 'denied', '{}'::jsonb,
	    'outside_hours', 'warning')
	  FROM (SELECT coalesce((SELECT u.username FROM auth.users u
	    WHERE u.username = lower(normalize(p_username, NFKC))),
	    left(p_name_key, 64)) AS name) n;
$$;
REVOKE ALL ON FUNCTION auth.outside_hours(text, inet, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.outside_hours(text, inet, text) TO pc_auth;
DROP FUNCTION auth.outside_hours(text, inet);

RESET ROLE;
REVOKE CREATE ON SCHEMA auth FROM pc_api;
