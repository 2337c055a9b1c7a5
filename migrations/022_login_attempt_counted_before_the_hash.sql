-- 022_login_attempt_counted_before_the_hash.sql: the lockout race, and
-- unknown names locked exactly like accounts (issue 13).
--
-- 1. Before, login read the failure count (login_start(), STABLE),
--    hashed, and only counted a failure afterwards: four attempts sent
--    at once after three failures all read 3 < 5, and seven passwords
--    were checked against a threshold of five. Now auth.login_reserve()
--    counts the attempt as a failure *before* the hash, under the row
--    lock of the account (or of the unknown name's tag), and numbers it
--    (attempts):
--      - locked                     refused, no hash
--      - count already at threshold the deciding attempt is still being
--                                   hashed: refused as locked, no hash
--      - otherwise                  counted and numbered, then hashed
--    So at most lockout_threshold passwords are checked between locks.
--    The attempt then ends one of two ways. A success resets the count
--    (login_succeeded(), as before). A failure goes through
--    auth.attempt_failed(): it is already counted; the newest attempt
--    decides (if the count is at the threshold, the lock starts), an
--    older one that fails while a newer one is still hashing leaves the
--    decision to it, and one a lock already covered is not counted twice
--    (locked_at_attempt).
-- 2. An attempt that never ends (the client hung up mid-hash) stays
--    counted. If it was the deciding one, the next attempt after 60 s
--    (far longer than a hash takes once the slot is held) applies the
--    lock it would have caused, dated from it, audited as account.locked
--    with "abandoned": true. A hang-up is a failure like any other, and
--    never an unrecorded lock.
-- 3. Unknown names (tags, 018) take the same path and escalate like
--    accounts: a second lock within 24 h lasts twice as long. Before,
--    they did not, and a second lock's length told a real account from
--    a made-up name.
-- 4. Re-authentication and password change (auth.own_factors_reserve())
--    reserve the same way, so a stolen session cannot test passwords in
--    parallel either. login_failed() (015, 018), still used by
--    enrolment, which checks no password and counts after the fact, is
--    rebuilt from the same small steps: failure_recorded(), lock_account(), lock_name(),
--    source_failed(). Each rule is now written once.

ALTER TABLE auth.lockout
    ADD COLUMN attempts bigint NOT NULL DEFAULT 0,
    ADD COLUMN locked_at_attempt bigint NOT NULL DEFAULT 0;
ALTER TABLE auth.name_lockout
    ADD COLUMN lockouts_24h integer NOT NULL DEFAULT 0,
    ADD COLUMN last_lockout_at timestamptz,
    ADD COLUMN attempts bigint NOT NULL DEFAULT 0,
    ADD COLUMN locked_at_attempt bigint NOT NULL DEFAULT 0;

GRANT CREATE ON SCHEMA auth TO pc_api;
SET ROLE pc_api;

-- The policy's bounds on the lockout numbers (policy.c), whatever the
-- caller says.
CREATE FUNCTION auth.lock_bounds(INOUT threshold integer,
    INOUT lock_secs integer, INOUT lock_max integer)
LANGUAGE sql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT t, l, least(greatest(coalesce(lock_max, 86400), l), 604800)
	  FROM (SELECT least(greatest(coalesce(threshold, 5), 1), 10) AS t,
	    least(greatest(coalesce(lock_secs, 1800), 1), 86400) AS l) b;
$$;

-- How long the next lock lasts: lock_secs, doubling with each further
-- lock within 24 hours, capped at lock_max.
CREATE FUNCTION auth.lock_seconds(p_lockouts_24h integer,
    p_last_lockout_at timestamptz, p_lock_secs integer, p_lock_max integer,
    OUT lockouts integer, OUT seconds bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT l.n, least(p_lock_max::bigint, p_lock_secs::bigint *
	    (2 ^ least(l.n - 1, 20))::bigint)
	  FROM (SELECT CASE WHEN p_last_lockout_at > now() - interval '24 hours'
	    THEN coalesce(p_lockouts_24h, 0) + 1 ELSE 1 END AS n) l;
$$;

-- What a new attempt may do, given its lock row: 'locked' (a lock is in
-- force), 'deciding' (the count is at the threshold and its newest
-- attempt is still being hashed), 'abandoned' (the count is at the
-- threshold and that attempt never ended), 'open' (count it, go on).
CREATE FUNCTION auth.attempt_verdict(p_failures integer,
    p_locked_until timestamptz, p_last_failure_at timestamptz,
    p_threshold integer)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT CASE
	    WHEN p_locked_until > now() THEN 'locked'
	    WHEN coalesce(p_failures, 0) < p_threshold THEN 'open'
	    WHEN p_last_failure_at > now() - interval '60 seconds'
	        THEN 'deciding'
	    ELSE 'abandoned' END;
$$;

-- Lock an account from p_at (now, or an abandoned attempt's time), for
-- as long as its recent locks say; audited and alerted.
CREATE FUNCTION auth.lock_account(p_user_id bigint, p_source inet,
    p_at timestamptz, p_lock_secs integer, p_lock_max integer,
    p_abandoned boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	a	auth.lockout%ROWTYPE;
	v	record;
	v_name	text;
	v_details jsonb;
BEGIN
	SELECT * INTO a FROM auth.lockout WHERE user_id = p_user_id
	    FOR UPDATE;
	v := auth.lock_seconds(a.lockouts_24h, a.last_lockout_at,
	    p_lock_secs, p_lock_max);
	UPDATE auth.lockout SET failures = 0,
	    locked_until = p_at + make_interval(secs => v.seconds),
	    lockouts_24h = v.lockouts, last_lockout_at = p_at,
	    locked_at_attempt = attempts
	 WHERE user_id = p_user_id;
	SELECT username INTO v_name FROM auth.users WHERE id = p_user_id;
	v_details := jsonb_build_object('seconds', v.seconds,
	    'lockouts_24h', v.lockouts);
	IF p_abandoned THEN
		v_details := v_details || '{"abandoned": true}'::jsonb;
	END IF;
	PERFORM audit.record(p_user_id, v_name, NULL, p_source,
	    'account.locked', v_name, 'denied', v_details, 'lockout', 'alert');
END;
$$;

-- The same for an unknown name's tag (not audited: the failures are).
CREATE FUNCTION auth.lock_name(p_name text, p_at timestamptz,
    p_lock_secs integer, p_lock_max integer)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	n	auth.name_lockout%ROWTYPE;
	v	record;
BEGIN
	SELECT * INTO n FROM auth.name_lockout WHERE name = p_name FOR UPDATE;
	v := auth.lock_seconds(n.lockouts_24h, n.last_lockout_at,
	    p_lock_secs, p_lock_max);
	UPDATE auth.name_lockout SET failures = 0,
	    locked_until = p_at + make_interval(secs => v.seconds),
	    lockouts_24h = v.lockouts, last_lockout_at = p_at,
	    locked_at_attempt = attempts
	 WHERE name = p_name;
END;
$$;

-- A failed attempt's record: the reason from the fixed list, a known
-- account under its own name, an alert when it came while locked.
CREATE FUNCTION auth.failure_recorded(p_user_id bigint, p_username text,
    p_source inet, p_reason text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	IF p_reason IS NULL OR p_reason NOT IN ('unknown_user', 'disabled',
	    'bad_password', 'not_enrolled', 'bad_totp', 'totp_replay',
	    'locked', 'source_blocked', 'bad_enrolment_code', 'not_staged') THEN
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
	    jsonb_build_object('reason', p_reason),
	    CASE WHEN p_reason IN ('locked', 'source_blocked')
	        THEN 'attempt_while_locked' END, 'alert');
END;
$$;

-- What a failure costs its source (018's rule): the many-accounts
-- alert, and the per-source block unless the source is exempt.
CREATE FUNCTION auth.source_failed(p_event bigint, p_user_id bigint,
    p_source inet, p_reason text, p_src_threshold integer,
    p_src_window integer, p_src_block integer, p_source_exempt boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_src		integer;
	v_accounts	integer;
BEGIN
	IF p_source IS NULL THEN
		RETURN;
	END IF;
	p_src_threshold := least(greatest(coalesce(p_src_threshold, 20), 1),
	    1000);
	p_src_window := least(greatest(coalesce(p_src_window, 600), 10), 86400);
	p_src_block := least(greatest(coalesce(p_src_block, 900), 10), 86400);

	IF p_user_id IS NOT NULL THEN
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
			    'source:' || host(p_source), ARRAY[p_event]);
		END IF;
	END IF;

	IF p_reason = 'source_blocked' OR coalesce(p_source_exempt, false) THEN
		RETURN;
	END IF;
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
		UPDATE auth.source_blocks SET failures = 0, window_start = now(),
		    blocked_until = now() + make_interval(secs => p_src_block)
		 WHERE source = p_source;
		PERFORM audit.record(NULL, NULL, NULL, p_source,
		    'source.blocked', host(p_source), 'denied',
		    jsonb_build_object('seconds', p_src_block, 'failures', v_src),
		    'blocked_source', 'alert');
	END IF;
END;
$$;

-- A failure counted after the fact (enrolment, re-authentication): 018's
-- rule, from the steps above.
CREATE OR REPLACE FUNCTION auth.login_failed(p_user_id bigint,
    p_username text, p_source inet, p_reason text, p_threshold integer,
    p_lock_secs integer, p_lock_max integer, p_src_threshold integer,
    p_src_window integer, p_src_block integer, p_source_exempt boolean)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b	record;
	v_event	bigint;
	v_fail	integer;
	v_result text := 'failed';
BEGIN
	b := auth.lock_bounds(p_threshold, p_lock_secs, p_lock_max);
	v_event := auth.failure_recorded(p_user_id, p_username, p_source,
	    p_reason);
	IF p_user_id IS NOT NULL AND p_reason NOT IN ('locked',
	    'source_blocked') THEN
		INSERT INTO auth.lockout AS l (user_id, failures, last_failure_at)
		VALUES (p_user_id, 1, now())
		ON CONFLICT (user_id) DO UPDATE
		    SET failures = l.failures + 1, last_failure_at = now()
		RETURNING failures INTO v_fail;
		IF v_fail >= b.threshold THEN
			PERFORM auth.lock_account(p_user_id, p_source, now(),
			    b.lock_secs, b.lock_max, false);
			v_result := 'locked_now';
		END IF;
	END IF;
	PERFORM auth.source_failed(v_event, p_user_id, p_source, p_reason,
	    p_src_threshold, p_src_window, p_src_block, p_source_exempt);
	RETURN v_result;
END;
$$;

-- An unknown name's failure counted after the fact (009's, now
-- escalating like an account's). A lock sets the count to 0, as an
-- account's does.
CREATE FUNCTION auth.name_failed(p_name text, p_threshold integer,
    p_lock_secs integer, p_lock_max integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b	record;
	v_fail	integer;
BEGIN
	IF p_name IS NULL OR p_name NOT LIKE 'unknown:%' THEN
		RAISE EXCEPTION 'an unknown name is kept as its tag'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	b := auth.lock_bounds(p_threshold, p_lock_secs, p_lock_max);
	INSERT INTO auth.name_lockout AS l (name, failures, last_failure_at)
	VALUES (p_name, 1, now())
	ON CONFLICT (name) DO UPDATE SET failures = l.failures + 1,
	    last_failure_at = now()
	RETURNING failures INTO v_fail;
	IF v_fail >= b.threshold THEN
		PERFORM auth.lock_name(p_name, now(), b.lock_secs, b.lock_max);
	END IF;
	RETURN v_fail;
END;
$$;
REVOKE ALL ON FUNCTION auth.name_failed(text, integer, integer, integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.name_failed(text, integer, integer, integer)
    TO pc_auth;
DROP FUNCTION auth.name_failed(text, integer, integer);

-- Count and number an attempt on an account before its hash (the head
-- of this file): verdict 'open' (go on, as attempt number attempt) or
-- 'locked' / 'deciding' (no password may be checked now).
CREATE FUNCTION auth.reserve_account(p_user_id bigint, p_source inet,
    p_threshold integer, p_lock_secs integer, p_lock_max integer,
    OUT verdict text, OUT attempt bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	a	auth.lockout%ROWTYPE;
BEGIN
	INSERT INTO auth.lockout (user_id) VALUES (p_user_id)
	ON CONFLICT DO NOTHING;
	SELECT * INTO a FROM auth.lockout WHERE user_id = p_user_id
	    FOR UPDATE;
	verdict := auth.attempt_verdict(a.failures, a.locked_until,
	    a.last_failure_at, p_threshold);
	IF verdict = 'abandoned' THEN
		-- The deciding attempt never ended: its lock, dated from it.
		PERFORM auth.lock_account(p_user_id, p_source,
		    a.last_failure_at, p_lock_secs, p_lock_max, true);
		SELECT * INTO a FROM auth.lockout WHERE user_id = p_user_id;
		verdict := auth.attempt_verdict(a.failures, a.locked_until,
		    a.last_failure_at, p_threshold);
	END IF;
	IF verdict = 'open' THEN
		UPDATE auth.lockout SET failures = failures + 1,
		    attempts = attempts + 1, last_failure_at = now()
		 WHERE user_id = p_user_id
		 RETURNING lockout.attempts INTO attempt;
	END IF;
END;
$$;

-- The same for an unknown name's tag.
CREATE FUNCTION auth.reserve_name(p_name text, p_threshold integer,
    p_lock_secs integer, p_lock_max integer,
    OUT verdict text, OUT attempt bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	n	auth.name_lockout%ROWTYPE;
BEGIN
	IF p_name IS NULL OR p_name NOT LIKE 'unknown:%' THEN
		RAISE EXCEPTION 'an unknown name is kept as its tag'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	INSERT INTO auth.name_lockout (name) VALUES (p_name)
	ON CONFLICT DO NOTHING;
	SELECT * INTO n FROM auth.name_lockout WHERE name = p_name FOR UPDATE;
	verdict := auth.attempt_verdict(n.failures, n.locked_until,
	    n.last_failure_at, p_threshold);
	IF verdict = 'abandoned' THEN
		PERFORM auth.lock_name(p_name, n.last_failure_at, p_lock_secs,
		    p_lock_max);
		SELECT * INTO n FROM auth.name_lockout WHERE name = p_name;
		verdict := auth.attempt_verdict(n.failures, n.locked_until,
		    n.last_failure_at, p_threshold);
	END IF;
	IF verdict = 'open' THEN
		UPDATE auth.name_lockout SET failures = failures + 1,
		    attempts = attempts + 1, last_failure_at = now()
		 WHERE name = p_name
		 RETURNING name_lockout.attempts INTO attempt;
	END IF;
END;
$$;

-- Login's first step (replaces login_start()): the account and the
-- source as login_begin() sees them and, unless the source is blocked,
-- the attempt counted and numbered. locked: the attempt may not check a
-- password; attempt: its number, for attempt_failed().
CREATE FUNCTION auth.login_reserve(p_username text, p_source inet,
    p_name_key text, p_threshold integer, p_lock_secs integer,
    p_lock_max integer)
RETURNS TABLE (user_id bigint, username text, display_name text,
    role text, password_hash text, totp_state text, totp_secret bytea,
    totp_key_id integer, disabled boolean, locked boolean,
    source_blocked boolean, source_blocked_until timestamptz,
    attempt bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	p	record;
	b	record;
	r	record;
BEGIN
	p := auth.lock_bounds(p_threshold, p_lock_secs, p_lock_max);
	SELECT * INTO b FROM auth.login_begin(p_username, p_source);
	IF b.source_blocked THEN
		-- Not about the account: nothing counted.
		SELECT 'locked' AS verdict, NULL::bigint AS attempt INTO r;
	ELSIF b.user_id IS NOT NULL THEN
		r := auth.reserve_account(b.user_id, p_source, p.threshold,
		    p.lock_secs, p.lock_max);
	ELSE
		r := auth.reserve_name(p_name_key, p.threshold, p.lock_secs,
		    p.lock_max);
	END IF;
	RETURN QUERY SELECT b.user_id, b.username, b.display_name, b.role,
	    b.password_hash, b.totp_state, b.totp_secret, b.totp_key_id,
	    b.disabled, r.verdict <> 'open', b.source_blocked,
	    b.source_blocked_until, r.attempt;
END;
$$;
REVOKE ALL ON FUNCTION auth.login_reserve(text, inet, text, integer,
    integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.login_reserve(text, inet, text, integer,
    integer, integer) TO pc_auth;

-- Re-authentication and password change's first step (replaces
-- own_factors() there): the session's own account, counted like a
-- login, so a stolen session cannot test passwords in parallel either.
CREATE FUNCTION auth.own_factors_reserve(p_token bytea, p_source inet,
    p_threshold integer, p_lock_secs integer, p_lock_max integer)
RETURNS TABLE (user_id bigint, username text, password_hash text,
    totp_state text, totp_secret bytea, disabled boolean, locked boolean,
    source_blocked boolean, source_blocked_until timestamptz,
    attempt bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	p	record;
	f	record;
	r	record;
BEGIN
	p := auth.lock_bounds(p_threshold, p_lock_secs, p_lock_max);
	SELECT * INTO f FROM auth.own_factors(p_token, p_source);
	IF NOT FOUND THEN
		RETURN;
	END IF;
	IF f.source_blocked THEN
		SELECT 'locked' AS verdict, NULL::bigint AS attempt INTO r;
	ELSE
		r := auth.reserve_account(f.user_id, p_source, p.threshold,
		    p.lock_secs, p.lock_max);
	END IF;
	RETURN QUERY SELECT f.user_id, f.username, f.password_hash,
	    f.totp_state, f.totp_secret, f.disabled, r.verdict <> 'open',
	    f.source_blocked, f.source_blocked_until, r.attempt;
END;
$$;
REVOKE ALL ON FUNCTION auth.own_factors_reserve(bytea, inet, integer,
    integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.own_factors_reserve(bytea, inet, integer,
    integer, integer) TO pc_auth;

-- A login attempt numbered p_attempt by login_reserve() failed. It is
-- already counted. The newest attempt decides: at the threshold, the
-- lock starts. An older one leaves the decision to the newer one still
-- hashing; one a lock already covered changes nothing. 'locked' and
-- 'source_blocked' attempts (p_attempt NULL) were never counted.
CREATE FUNCTION auth.attempt_failed(p_attempt bigint, p_user_id bigint,
    p_username text, p_source inet, p_reason text, p_threshold integer,
    p_lock_secs integer, p_lock_max integer, p_src_threshold integer,
    p_src_window integer, p_src_block integer, p_source_exempt boolean)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b		record;
	a		record;
	v_event		bigint;
	v_result	text := 'failed';
BEGIN
	b := auth.lock_bounds(p_threshold, p_lock_secs, p_lock_max);
	v_event := auth.failure_recorded(p_user_id, p_username, p_source,
	    p_reason);
	IF p_attempt IS NOT NULL AND p_reason NOT IN ('locked',
	    'source_blocked') THEN
		IF p_user_id IS NOT NULL THEN
			SELECT failures, attempts, locked_at_attempt,
			    locked_until INTO a FROM auth.lockout
			 WHERE user_id = p_user_id FOR UPDATE;
		ELSE
			SELECT failures, attempts, locked_at_attempt,
			    locked_until INTO a FROM auth.name_lockout
			 WHERE name = p_username FOR UPDATE;
		END IF;
		IF FOUND AND p_attempt = a.attempts AND
		    p_attempt > a.locked_at_attempt AND
		    a.failures >= b.threshold AND
		    NOT coalesce(a.locked_until > now(), false) THEN
			IF p_user_id IS NOT NULL THEN
				PERFORM auth.lock_account(p_user_id, p_source,
				    now(), b.lock_secs, b.lock_max, false);
			ELSE
				PERFORM auth.lock_name(p_username, now(),
				    b.lock_secs, b.lock_max);
			END IF;
			v_result := 'locked_now';
		END IF;
	END IF;
	PERFORM auth.source_failed(v_event, p_user_id, p_source, p_reason,
	    p_src_threshold, p_src_window, p_src_block, p_source_exempt);
	RETURN v_result;
END;
$$;
REVOKE ALL ON FUNCTION auth.attempt_failed(bigint, bigint, text, inet,
    text, integer, integer, integer, integer, integer, integer, boolean)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.attempt_failed(bigint, bigint, text, inet,
    text, integer, integer, integer, integer, integer, integer, boolean)
    TO pc_auth;

-- The steps are private to the functions above.
REVOKE ALL ON FUNCTION auth.lock_bounds(integer, integer, integer),
    auth.lock_seconds(integer, timestamptz, integer, integer),
    auth.attempt_verdict(integer, timestamptz, timestamptz, integer),
    auth.lock_account(bigint, inet, timestamptz, integer, integer, boolean),
    auth.lock_name(text, timestamptz, integer, integer),
    auth.reserve_account(bigint, inet, integer, integer, integer),
    auth.reserve_name(text, integer, integer, integer),
    auth.failure_recorded(bigint, text, inet, text),
    auth.source_failed(bigint, bigint, inet, text, integer, integer,
        integer, boolean)
    FROM PUBLIC;

RESET ROLE;
REVOKE CREATE ON SCHEMA auth FROM pc_api;
