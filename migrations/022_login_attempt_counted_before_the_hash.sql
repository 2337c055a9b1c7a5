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
--    The attempt then ends one of three ways. A success: 2 below. A
--    hang-up: 2 below. A failure goes through
--    auth.attempt_failed(): it is already counted; the newest attempt
--    decides (if the count is at the threshold, the lock starts), an
--    older one that fails while a newer one is still hashing leaves the
--    decision to it, and one a lock already covered is not counted twice
--    (locked_at_attempt).
-- 2. Every counted attempt is kept in auth.attempts_open until it ends,
--    with its source and what a failure costs that source. A success
--    (attempt_settled(), in the same statement as login_succeeded())
--    sets the count to the attempts still open, so an attacker's
--    attempts in flight are not wiped by the real user's success. An
--    attempt that never ends (the client hung up mid-hash) is recorded
--    after 60 s as a failure, reason 'abandoned', from its own source,
--    and costs that source (attempts_sweep(), run by worker 1's timer
--    and by the next attempt on the same account). If it was the
--    deciding one, the next attempt applies the lock it would have
--    caused, dated from it and recorded as account.locked with
--    "abandoned": true and its source. A hang-up is a failure like any
--    other, never an unrecorded lock.
-- 3. Unknown names (tags, 018) take the same path and escalate like
--    accounts: a second lock within 24 h lasts twice as long. Before,
--    they did not, and a second lock's length told a real account from
--    a made-up name.
-- 4. Re-authentication and password change (auth.own_factors_reserve())
--    reserve the same way, so a stolen session cannot test passwords in
--    parallel either. First sign-in checks no password and counts after
--    the fact through login_failed(), rebuilt from the same small steps
--    (failure_recorded(), lock_account(), lock_name(), source_failed());
--    its check now sees an unknown name's lock by its tag, so a made-up
--    name under a lock is answered 'locked' and not counted, like an
--    account (before, first sign-in could lengthen only a made-up
--    name's lock).

ALTER TABLE auth.lockout
    ADD COLUMN attempts bigint NOT NULL DEFAULT 0,
    ADD COLUMN locked_at_attempt bigint NOT NULL DEFAULT 0,
    ADD COLUMN last_attempt_source inet;
ALTER TABLE auth.name_lockout
    ADD COLUMN lockouts_24h integer NOT NULL DEFAULT 0,
    ADD COLUMN last_lockout_at timestamptz,
    ADD COLUMN attempts bigint NOT NULL DEFAULT 0,
    ADD COLUMN locked_at_attempt bigint NOT NULL DEFAULT 0,
    ADD COLUMN last_attempt_source inet;

-- Attempts counted before their hash and not yet ended (see
-- attempts_sweep()); lock_key is attempt_key().
CREATE TABLE auth.attempts_open (
	lock_key	text NOT NULL,
	attempt		bigint NOT NULL,
	user_id		bigint REFERENCES auth.users (id),
	name		text,
	source		inet,
	src		jsonb NOT NULL,
	started_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (lock_key, attempt),
	CHECK ((user_id IS NULL) <> (name IS NULL))
);
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.attempts_open TO pc_api;
GRANT SELECT ON auth.attempts_open TO pc_ops;

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
	    locked_until = coalesce(p_at, now()) +
	        make_interval(secs => v.seconds),
	    lockouts_24h = v.lockouts, last_lockout_at = coalesce(p_at, now()),
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
	    locked_until = coalesce(p_at, now()) +
	        make_interval(secs => v.seconds),
	    lockouts_24h = v.lockouts, last_lockout_at = coalesce(p_at, now()),
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

-- Attempts counted but not yet ended, with what their source's failure
-- would cost it (the policy's numbers, from the server). An attempt
-- left here for 60 s was abandoned (its client hung up mid-hash): it is
-- recorded as a failure, reason 'abandoned', from its own source, and
-- counts against that source (attempts_sweep()).
CREATE FUNCTION auth.attempt_key(p_user_id bigint, p_name text)
RETURNS text
LANGUAGE sql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT CASE WHEN p_user_id IS NOT NULL
	    THEN 'account:' || p_user_id ELSE p_name END;
$$;

-- Record and forget the abandoned attempts of one lock row (p_key), or
-- of all (NULL, worker 1's timer), a bounded batch at a time.
CREATE FUNCTION auth.attempts_sweep(p_key text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	o	record;
	v_event	bigint;
	v_n	integer := 0;
BEGIN
	FOR o IN DELETE FROM auth.attempts_open WHERE ctid IN (
	    SELECT ctid FROM auth.attempts_open
	     WHERE (p_key IS NULL OR lock_key = p_key)
	       AND started_at < now() - interval '60 seconds'
	     ORDER BY started_at LIMIT 500 FOR UPDATE SKIP LOCKED)
	    RETURNING * LOOP
		v_event := auth.failure_recorded(o.user_id, o.name, o.source,
		    'abandoned');
		PERFORM auth.source_failed(v_event, o.user_id, o.source,
		    'abandoned', (o.src->>'threshold')::integer,
		    (o.src->>'window')::integer, (o.src->>'block')::integer,
		    (o.src->>'exempt')::boolean);
		v_n := v_n + 1;
	END LOOP;
	RETURN v_n;
END;
$$;
REVOKE ALL ON FUNCTION auth.attempts_sweep(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.attempts_sweep(text) TO pc_auth;

-- Count and number an attempt before its hash (the head of this file),
-- on an account or an unknown name's tag: verdict 'open' (go on, as
-- attempt number attempt) or 'locked' / 'deciding' (no password may be
-- checked now). p_src: what a failure costs the source (source_failed()).
CREATE FUNCTION auth.reserve_attempt(p_user_id bigint, p_name text,
    p_source inet, p_threshold integer, p_lock_secs integer,
    p_lock_max integer, p_src jsonb, OUT verdict text, OUT attempt bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	k	text := auth.attempt_key(p_user_id, p_name);
	l	record;
BEGIN
	IF p_user_id IS NULL AND (p_name IS NULL OR
	    p_name NOT LIKE 'unknown:%') THEN
		RAISE EXCEPTION 'an unknown name is kept as its tag'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- The lock row, made if need be, held until commit.
	IF p_user_id IS NOT NULL THEN
		INSERT INTO auth.lockout (user_id) VALUES (p_user_id)
		ON CONFLICT DO NOTHING;
		SELECT failures, locked_until, last_failure_at,
		    last_attempt_source INTO l FROM auth.lockout
		 WHERE user_id = p_user_id FOR UPDATE;
	ELSE
		INSERT INTO auth.name_lockout (name) VALUES (p_name)
		ON CONFLICT DO NOTHING;
		SELECT failures, locked_until, last_failure_at,
		    last_attempt_source INTO l FROM auth.name_lockout
		 WHERE name = p_name FOR UPDATE;
	END IF;
	PERFORM auth.attempts_sweep(k);
	verdict := auth.attempt_verdict(l.failures, l.locked_until,
	    l.last_failure_at, p_threshold);
	IF verdict = 'abandoned' THEN
		-- The deciding attempt never ended: its lock, dated from
		-- it and recorded with its source.
		IF p_user_id IS NOT NULL THEN
			PERFORM auth.lock_account(p_user_id,
			    l.last_attempt_source, l.last_failure_at,
			    p_lock_secs, p_lock_max, true);
		ELSE
			PERFORM auth.lock_name(p_name, l.last_failure_at,
			    p_lock_secs, p_lock_max);
		END IF;
		verdict := CASE WHEN (CASE WHEN p_user_id IS NOT NULL
		    THEN (SELECT locked_until FROM auth.lockout
		        WHERE user_id = p_user_id)
		    ELSE (SELECT locked_until FROM auth.name_lockout
		        WHERE name = p_name) END) > now()
		    THEN 'locked' ELSE 'open' END;
	END IF;
	IF verdict <> 'open' THEN
		RETURN;
	END IF;
	IF p_user_id IS NOT NULL THEN
		UPDATE auth.lockout SET failures = failures + 1,
		    attempts = attempts + 1, last_failure_at = now(),
		    last_attempt_source = p_source
		 WHERE user_id = p_user_id
		 RETURNING lockout.attempts INTO attempt;
	ELSE
		UPDATE auth.name_lockout SET failures = failures + 1,
		    attempts = attempts + 1, last_failure_at = now(),
		    last_attempt_source = p_source
		 WHERE name = p_name
		 RETURNING name_lockout.attempts INTO attempt;
	END IF;
	INSERT INTO auth.attempts_open (lock_key, attempt, user_id, name,
	    source, src)
	VALUES (k, attempt, p_user_id, CASE WHEN p_user_id IS NULL
	    THEN p_name END, p_source, p_src);
END;
$$;

-- A counted attempt's outcome when the factors were right (p_ok): it is
-- no longer open, and the count becomes the attempts still being
-- hashed (a success clears the failures, not attempts in flight).
-- Returns p_ok. Failures end through attempt_failed().
CREATE FUNCTION auth.attempt_settled(p_user_id bigint, p_attempt bigint,
    p_ok boolean)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	k	text := auth.attempt_key(p_user_id, NULL);
BEGIN
	IF coalesce(p_ok, false) AND p_attempt IS NOT NULL THEN
		DELETE FROM auth.attempts_open
		 WHERE lock_key = k AND attempt = p_attempt;
		UPDATE auth.lockout SET failures = (SELECT count(*)
		    FROM auth.attempts_open WHERE lock_key = k)
		 WHERE user_id = p_user_id;
	END IF;
	RETURN p_ok;
END;
$$;
REVOKE ALL ON FUNCTION auth.attempt_settled(bigint, bigint, boolean)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.attempt_settled(bigint, bigint, boolean)
    TO pc_auth;

-- Login's first step (replaces login_start()): the account and the
-- source as login_begin() sees them and, unless the source is blocked,
-- the attempt counted and numbered. locked: the attempt may not check a
-- password; attempt: its number, for attempt_failed().
CREATE FUNCTION auth.login_reserve(p_username text, p_source inet,
    p_name_key text, p_threshold integer, p_lock_secs integer,
    p_lock_max integer, p_src jsonb)
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
	ELSE
		r := auth.reserve_attempt(b.user_id, CASE WHEN b.user_id IS NULL
		    THEN p_name_key END, p_source, p.threshold, p.lock_secs,
		    p.lock_max, p_src);
	END IF;
	RETURN QUERY SELECT b.user_id, b.username, b.display_name, b.role,
	    b.password_hash, b.totp_state, b.totp_secret, b.totp_key_id,
	    b.disabled, r.verdict <> 'open', b.source_blocked,
	    b.source_blocked_until, r.attempt;
END;
$$;
REVOKE ALL ON FUNCTION auth.login_reserve(text, inet, text, integer,
    integer, integer, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.login_reserve(text, inet, text, integer,
    integer, integer, jsonb) TO pc_auth;
REVOKE EXECUTE ON FUNCTION auth.login_start(text, inet, text) FROM pc_auth;
DROP FUNCTION auth.login_start(text, inet, text);

-- Re-authentication and password change's first step (replaces
-- own_factors() there): the session's own account, counted like a
-- login, so a stolen session cannot test passwords in parallel either.
CREATE FUNCTION auth.own_factors_reserve(p_token bytea, p_source inet,
    p_threshold integer, p_lock_secs integer, p_lock_max integer,
    p_src jsonb)
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
		r := auth.reserve_attempt(f.user_id, NULL, p_source,
		    p.threshold, p.lock_secs, p.lock_max, p_src);
	END IF;
	RETURN QUERY SELECT f.user_id, f.username, f.password_hash,
	    f.totp_state, f.totp_secret, f.disabled, r.verdict <> 'open',
	    f.source_blocked, f.source_blocked_until, r.attempt;
END;
$$;
REVOKE ALL ON FUNCTION auth.own_factors_reserve(bytea, inet, integer,
    integer, integer, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.own_factors_reserve(bytea, inet, integer,
    integer, integer, jsonb) TO pc_auth;

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
		DELETE FROM auth.attempts_open WHERE attempt = p_attempt
		   AND lock_key = auth.attempt_key(p_user_id, p_username);
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

-- First sign-in's check (016) with an unknown name's lock looked up by
-- its tag, as login does: a made-up name under a lock is answered
-- 'locked' without counting, exactly like a locked account. (Before, it
-- was counted again, so first sign-in could lengthen a made-up name's
-- lock but never a real account's.)
CREATE FUNCTION auth.enrolment_check(p_username text, p_code1 bytea,
    p_code2 bytea, p_source inet, p_name_key text)
RETURNS TABLE (user_id bigint, username text, valid boolean,
    locked boolean, source_blocked boolean,
    source_blocked_until timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT c.user_id, c.username, c.valid,
	       CASE WHEN c.user_id IS NULL THEN coalesce((SELECT
	           n.locked_until > now() FROM auth.name_lockout n
	           WHERE n.name = p_name_key), false) ELSE c.locked END,
	       c.source_blocked, c.source_blocked_until
	  FROM auth.enrolment_check(p_username, p_code1, p_code2, p_source) c;
$$;
REVOKE ALL ON FUNCTION auth.enrolment_check(text, bytea, bytea, inet, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.enrolment_check(text, bytea, bytea, inet,
    text) TO pc_auth;
REVOKE EXECUTE ON FUNCTION auth.enrolment_check(text, bytea, bytea, inet)
    FROM pc_auth;

-- The steps are private to the functions above.
REVOKE ALL ON FUNCTION auth.lock_bounds(integer, integer, integer),
    auth.lock_seconds(integer, timestamptz, integer, integer),
    auth.attempt_verdict(integer, timestamptz, timestamptz, integer),
    auth.lock_account(bigint, inet, timestamptz, integer, integer, boolean),
    auth.lock_name(text, timestamptz, integer, integer),
    auth.reserve_attempt(bigint, text, inet, integer, integer, integer,
        jsonb),
    auth.attempt_key(bigint, text),
    auth.failure_recorded(bigint, text, inet, text),
    auth.source_failed(bigint, bigint, inet, text, integer, integer,
        integer, boolean)
    FROM PUBLIC;

RESET ROLE;
REVOKE CREATE ON SCHEMA auth FROM pc_api;
