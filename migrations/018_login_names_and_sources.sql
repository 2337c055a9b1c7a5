-- 018_login_names_and_sources.sql: how login records names and
-- sources (issue 13).
--
-- 1. A name that matches no account may be a password typed into the
--    wrong field. It is no longer recorded as typed: the server passes
--    its tag (src/nametag.c: an HMAC under a key derived from the
--    key-encryption key, which lives outside the database, plus the
--    length), and login_failed(), name_failed() and the new
--    outside_hours() record that; auth.login_start() looks the name's
--    lockout up by it. Names already kept in auth.name_lockout go.
-- 2. login_failed() gains p_source_exempt: a VPN concentrator's NAT
--    address is every operator's address; per-source blocking there
--    locks everyone out when one machine misbehaves, so the policy's
--    source_fail_exempt ranges are not blocked (per-account lockout
--    still applies). The 10-argument form stays as a wrapper.
-- 3. Whatever the source, one address that fails against 5 different
--    accounts within source_fail_window raises the alert
--    source_many_accounts (password spraying, or a shared address to
--    look at). auth.source_accounts keeps the pairs.

DELETE FROM auth.name_lockout WHERE name NOT LIKE 'unknown:%';

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
-- sees them, an unknown name's lockout looked up by its tag.
CREATE FUNCTION auth.login_start(p_username text, p_source inet,
    p_name_key text)
RETURNS TABLE (user_id bigint, username text, display_name text,
    role text, password_hash text, totp_state text, totp_secret bytea,
    totp_key_id integer, disabled boolean, locked boolean,
    source_blocked boolean, source_blocked_until timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT b.user_id, b.username, b.display_name, b.role,
	       b.password_hash, b.totp_state, b.totp_secret, b.totp_key_id,
	       b.disabled,
	       CASE WHEN b.user_id IS NULL THEN coalesce((SELECT
	           n.locked_until > now() FROM auth.name_lockout n
	           WHERE n.name = p_name_key), false) ELSE b.locked END,
	       b.source_blocked, b.source_blocked_until
	  FROM auth.login_begin(p_username, p_source) b;
$$;
REVOKE ALL ON FUNCTION auth.login_start(text, inet, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.login_start(text, inet, text) TO pc_auth;

-- A failed attempt (015's body), exempt sources not blocked, and the
-- many-accounts alert.
CREATE FUNCTION auth.login_failed(p_user_id bigint, p_username text,
    p_source inet, p_reason text, p_threshold integer,
    p_lock_secs integer, p_lock_max integer, p_src_threshold integer,
    p_src_window integer, p_src_block integer, p_source_exempt boolean)
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
    integer, integer, integer, integer, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.login_failed(bigint, text, inet, text,
    integer, integer, integer, integer, integer, integer, boolean)
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
	    p_src_window, p_src_block, false);
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
