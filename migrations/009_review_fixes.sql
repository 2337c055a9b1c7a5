-- 009_review_fixes.sql: fixes from the security review.
--
-- 1. Unknown usernames lock like real accounts. A locked account is
--    answered without argon2 work; if unknown names never locked, the
--    fast answer after N failures would tell that an account exists.
-- 2. Re-authentication and self-service password change honour lockout
--    and source blocks like login (a stolen session must not become an
--    unlimited oracle for the code or the password).
-- 3. A password is rehashed only after both factors passed, in its own
--    step (auth.rehashed), so timing never tells a correct password.

CREATE TABLE auth.name_lockout (
	name		text PRIMARY KEY,
	failures	integer NOT NULL DEFAULT 0,
	locked_until	timestamptz,
	last_failure_at	timestamptz
);
GRANT SELECT, INSERT, UPDATE ON auth.name_lockout TO pc_auth;

CREATE OR REPLACE FUNCTION auth.login_begin(p_username text, p_source inet)
RETURNS TABLE (user_id bigint, username text, display_name text,
    role text, password_hash text, totp_state text, totp_secret bytea,
    totp_key_id integer, disabled boolean, locked boolean,
    source_blocked boolean, source_blocked_until timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT u.id, u.username, u.display_name, u.role, c.password_hash,
	       c.totp_state, c.totp_secret, c.totp_key_id,
	       u.disabled_at IS NOT NULL,
	       coalesce(l.locked_until > now(), nl.locked_until > now(), false),
	       s.blocked_until IS NOT NULL, s.blocked_until
	  FROM (SELECT lower(normalize(p_username, NFKC)) AS name) one
	  LEFT JOIN auth.users u ON u.username = one.name
	  LEFT JOIN auth.credentials c ON c.user_id = u.id
	  LEFT JOIN auth.lockout l ON l.user_id = u.id
	  LEFT JOIN auth.name_lockout nl ON u.id IS NULL AND nl.name = one.name
	  LEFT JOIN auth.source_blocks s
	    ON s.source = p_source AND s.blocked_until > now();
$$;

-- Failures against unknown names count towards a lock of that name.
CREATE FUNCTION auth.name_failed(p_username text, p_threshold integer,
    p_lock_secs integer)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_name	text := lower(normalize(p_username, NFKC));
	v_fail	integer;
BEGIN
	INSERT INTO auth.name_lockout AS n (name, failures, last_failure_at)
	VALUES (v_name, 1, now())
	ON CONFLICT (name) DO UPDATE SET failures = CASE
	    WHEN n.locked_until IS NOT NULL AND n.locked_until <= now()
	    THEN 1 ELSE n.failures + 1 END, last_failure_at = now()
	RETURNING failures INTO v_fail;
	IF v_fail >= p_threshold THEN
		UPDATE auth.name_lockout SET failures = 0,
		    locked_until = now() + make_interval(secs => p_lock_secs)
		 WHERE name = v_name;
	END IF;
	RETURN v_fail;
END;
$$;
REVOKE ALL ON FUNCTION auth.name_failed FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.name_failed TO pc_auth;

-- What a signed-in user needs to prove both factors again, with the
-- same lock and block state login sees.
CREATE FUNCTION auth.own_factors(p_user bigint, p_source inet)
RETURNS TABLE (user_id bigint, username text, password_hash text,
    totp_state text, totp_secret bytea, disabled boolean, locked boolean,
    source_blocked boolean, source_blocked_until timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT u.id, u.username, c.password_hash, c.totp_state,
	       c.totp_secret, u.disabled_at IS NOT NULL,
	       coalesce(l.locked_until > now(), false),
	       s.blocked_until IS NOT NULL, s.blocked_until
	  FROM auth.users u
	  JOIN auth.credentials c ON c.user_id = u.id
	  LEFT JOIN auth.lockout l ON l.user_id = u.id
	  LEFT JOIN auth.source_blocks s
	    ON s.source = p_source AND s.blocked_until > now()
	 WHERE u.id = p_user AND u.disabled_at IS NULL;
$$;
REVOKE ALL ON FUNCTION auth.own_factors FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.own_factors TO pc_auth;

CREATE OR REPLACE FUNCTION auth.password_changed(p_user bigint,
    p_session bigint, p_source inet, p_step bigint, p_hash text)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_name	text;
	v_role	text;
BEGIN
	IF EXISTS (SELECT 1 FROM auth.lockout WHERE user_id = p_user
	    AND locked_until > now()) THEN
		RETURN false;
	END IF;
	UPDATE auth.credentials SET totp_last_step = p_step,
	    password_hash = p_hash, password_changed_at = now(),
	    must_change_password = false
	 WHERE user_id = p_user AND totp_state = 'enrolled'
	   AND totp_last_step < p_step;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	SELECT username, role INTO v_name, v_role FROM auth.users
	 WHERE id = p_user;
	UPDATE auth.sessions SET revoked_at = now(),
	    revoke_reason = 'password_changed'
	 WHERE user_id = p_user AND id <> p_session AND revoked_at IS NULL;
	UPDATE auth.sessions SET reauth_at = now() WHERE id = p_session;
	UPDATE auth.lockout SET failures = 0 WHERE user_id = p_user;
	PERFORM audit.record(p_user, v_name, v_role, p_source,
	    'password.changed', v_name, 'success', '{}'::jsonb);
	RETURN true;
END;
$$;

CREATE OR REPLACE FUNCTION auth.reauthenticated(p_user bigint,
    p_session bigint, p_source inet, p_step bigint)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_name	text;
	v_role	text;
BEGIN
	IF EXISTS (SELECT 1 FROM auth.lockout WHERE user_id = p_user
	    AND locked_until > now()) THEN
		RETURN NULL;
	END IF;
	UPDATE auth.credentials SET totp_last_step = p_step
	 WHERE user_id = p_user AND totp_state = 'enrolled'
	   AND totp_last_step < p_step;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	UPDATE auth.sessions SET reauth_at = now() WHERE id = p_session;
	UPDATE auth.lockout SET failures = 0 WHERE user_id = p_user;
	SELECT username, role INTO v_name, v_role FROM auth.users
	 WHERE id = p_user;
	PERFORM audit.record(p_user, v_name, v_role, p_source, 'reauth',
	    v_name, 'success', '{}'::jsonb);
	RETURN extract(epoch FROM now() + interval '5 minutes')::bigint;
END;
$$;

CREATE FUNCTION auth.rehashed(p_user bigint, p_hash text, p_source inet)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_name	text;
	v_role	text;
BEGIN
	UPDATE auth.credentials SET password_hash = p_hash
	 WHERE user_id = p_user;
	SELECT username, role INTO v_name, v_role FROM auth.users
	 WHERE id = p_user;
	PERFORM audit.record(p_user, v_name, v_role, p_source,
	    'password.rehashed', v_name, 'success', '{}'::jsonb);
END;
$$;
REVOKE ALL ON FUNCTION auth.rehashed FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.rehashed TO pc_auth;
