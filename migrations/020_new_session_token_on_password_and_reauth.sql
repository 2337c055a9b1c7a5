-- 020_new_session_token_on_password_and_reauth.sql: a password change
-- and a re-authentication give the session a new token (issue 13,
-- "Login and enumeration").
--
-- Before: /api/password revoked the user's other sessions but kept the
-- current session's token, and /api/reauth kept it too: a token that
-- had been seen before the proof (a shoulder, a proxy log, a stolen
-- cookie) stayed good after it, now with a fresh re-authentication.
-- After: both functions take the new raw token from the worker (which
-- sends it to the browser, as at login) and store its SHA-256 in place
-- of the old one in the same transaction as the change and its audit
-- record, so the old token stops working when they commit. The session
-- stays the same row: its id, its creation time and its absolute
-- expiry do not change (a rotation never lengthens a session); the idle
-- deadline is the one the request's session check just set.
-- The new token must be 32 bytes and differ from the old one.

-- pc_api replaces its own functions; it may create in the schema only
-- for the length of this transaction.
GRANT CREATE ON SCHEMA auth TO pc_api;
SET ROLE pc_api;

-- Self-service password change: the code's step is consumed like at
-- login. false on a replayed code or a locked account, and then the
-- token stays as it was.
CREATE FUNCTION auth.password_changed(p_token bytea, p_source inet,
    p_step bigint, p_hash text, p_new_token bytea)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	a	record;
BEGIN
	SELECT * INTO a FROM auth.session_actor(p_token);
	IF p_new_token IS NULL OR length(p_new_token) <> 32
	    OR p_new_token = p_token THEN
		RAISE EXCEPTION 'a new 32-byte session token'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT auth.step_plausible(p_step) OR EXISTS (SELECT 1
	    FROM auth.lockout WHERE user_id = a.user_id
	    AND locked_until > now()) THEN
		RETURN false;
	END IF;
	UPDATE auth.credentials SET totp_last_step = p_step,
	    password_hash = p_hash, password_changed_at = now(),
	    must_change_password = false
	 WHERE user_id = a.user_id AND totp_state = 'enrolled'
	   AND totp_last_step < p_step;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	UPDATE auth.sessions SET revoked_at = now(),
	    revoke_reason = 'password_changed'
	 WHERE user_id = a.user_id AND id <> a.session_id
	   AND revoked_at IS NULL;
	UPDATE auth.sessions SET reauth_at = now(),
	    token_hash = sha256(p_new_token)
	 WHERE id = a.session_id;
	UPDATE auth.lockout SET failures = 0 WHERE user_id = a.user_id;
	PERFORM audit.record(a.user_id, a.username, a.role, p_source,
	    'password.changed', a.username, 'success', '{}'::jsonb);
	RETURN true;
END;
$$;
DROP FUNCTION auth.password_changed(bytea, inet, bigint, text);
REVOKE ALL ON FUNCTION auth.password_changed(bytea, inet, bigint, text,
    bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.password_changed(bytea, inet, bigint, text,
    bytea) TO pc_auth;

-- Re-authentication: NULL on a replayed code or a locked account (the
-- token stays as it was), else when the fresh proof ends.
CREATE FUNCTION auth.reauthenticated(p_token bytea, p_source inet,
    p_step bigint, p_new_token bytea)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	a	record;
BEGIN
	SELECT * INTO a FROM auth.session_actor(p_token);
	IF p_new_token IS NULL OR length(p_new_token) <> 32
	    OR p_new_token = p_token THEN
		RAISE EXCEPTION 'a new 32-byte session token'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF NOT auth.step_plausible(p_step) OR EXISTS (SELECT 1
	    FROM auth.lockout WHERE user_id = a.user_id
	    AND locked_until > now()) THEN
		RETURN NULL;
	END IF;
	UPDATE auth.credentials SET totp_last_step = p_step
	 WHERE user_id = a.user_id AND totp_state = 'enrolled'
	   AND totp_last_step < p_step;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	UPDATE auth.sessions SET reauth_at = now(),
	    token_hash = sha256(p_new_token)
	 WHERE id = a.session_id;
	UPDATE auth.lockout SET failures = 0 WHERE user_id = a.user_id;
	PERFORM audit.record(a.user_id, a.username, a.role, p_source, 'reauth',
	    a.username, 'success', '{}'::jsonb);
	RETURN extract(epoch FROM now() + interval '5 minutes')::bigint;
END;
$$;
DROP FUNCTION auth.reauthenticated(bytea, inet, bigint);
REVOKE ALL ON FUNCTION auth.reauthenticated(bytea, inet, bigint, bytea)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.reauthenticated(bytea, inet, bigint, bytea)
    TO pc_auth;

RESET ROLE;
REVOKE CREATE ON SCHEMA auth FROM pc_api;
