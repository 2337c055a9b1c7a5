-- 006_users.sql: user administration, OTP enrolment, self-service.
--
-- Each admin action is one function: it checks that the actor is an
-- enabled admin and is not acting on their own account (separation of
-- duties holds in the database even if the server had a bug), makes the
-- change, revokes sessions where the change calls for it, and writes the
-- audit record, all in one transaction.

CREATE FUNCTION auth.admin_check(p_actor bigint, p_target bigint)
RETURNS auth.users
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_actor		auth.users%ROWTYPE;
	v_target	auth.users%ROWTYPE;
BEGIN
	SELECT * INTO v_actor FROM auth.users WHERE id = p_actor;
	IF NOT FOUND OR v_actor.role <> 'admin' OR
	    v_actor.disabled_at IS NOT NULL THEN
		RAISE EXCEPTION 'forbidden: actor % is not an enabled admin',
		    p_actor USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF p_target IS NULL THEN
		RETURN v_actor;
	END IF;
	IF p_actor = p_target THEN
		RAISE EXCEPTION 'self_forbidden: admins do not administer '
		    'their own account' USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT * INTO v_target FROM auth.users WHERE id = p_target FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'not_found' USING ERRCODE = 'no_data_found';
	END IF;
	RETURN v_actor;
END;
$$;

CREATE FUNCTION auth.revoke_all(p_target bigint, p_reason text)
RETURNS integer
LANGUAGE sql SET search_path = pg_catalog AS $$
	WITH r AS (
		UPDATE auth.sessions SET revoked_at = now(),
		    revoke_reason = p_reason
		 WHERE user_id = p_target AND revoked_at IS NULL
		RETURNING 1)
	SELECT count(*)::integer FROM r;
$$;

CREATE FUNCTION auth.admin_create_user(p_actor bigint, p_source inet,
    p_username text, p_display text, p_role text, p_hash text)
RETURNS TABLE (id bigint, username text, password_changed_at bigint)
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	v_actor	auth.users%ROWTYPE;
	v_id	bigint;
BEGIN
	v_actor := auth.admin_check(p_actor, NULL);
	INSERT INTO auth.users (username, display_name, role, created_by)
	VALUES (lower(normalize(p_username, NFKC)), p_display, p_role,
	    v_actor.username)
	RETURNING id INTO v_id;
	INSERT INTO auth.credentials (user_id, password_hash,
	    must_change_password) VALUES (v_id, p_hash, true);
	INSERT INTO auth.lockout (user_id) VALUES (v_id);
	PERFORM audit.record(p_actor, v_actor.username, v_actor.role,
	    p_source, 'user.created', lower(normalize(p_username, NFKC)),
	    'success', jsonb_build_object('role', p_role, 'user_id', v_id));
	RETURN QUERY SELECT v_id, lower(normalize(p_username, NFKC)),
	    extract(epoch FROM now())::bigint;
END;
$$;

CREATE FUNCTION auth.admin_set_disabled(p_actor bigint, p_source inet,
    p_target bigint, p_disabled boolean)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_actor	auth.users%ROWTYPE;
	v_name	text;
	v_n	integer := 0;
BEGIN
	v_actor := auth.admin_check(p_actor, p_target);
	UPDATE auth.users SET disabled_at = CASE WHEN p_disabled
	    THEN coalesce(disabled_at, now()) END
	 WHERE id = p_target RETURNING username INTO v_name;
	IF p_disabled THEN
		v_n := auth.revoke_all(p_target, 'user_disabled');
	END IF;
	PERFORM audit.record(p_actor, v_actor.username, v_actor.role,
	    p_source, CASE WHEN p_disabled THEN 'user.disabled'
	    ELSE 'user.enabled' END, v_name, 'success',
	    jsonb_build_object('user_id', p_target, 'sessions_revoked', v_n));
END;
$$;

CREATE FUNCTION auth.admin_set_role(p_actor bigint, p_source inet,
    p_target bigint, p_role text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_actor	auth.users%ROWTYPE;
	v_old	text;
	v_name	text;
BEGIN
	v_actor := auth.admin_check(p_actor, p_target);
	SELECT role, username INTO v_old, v_name FROM auth.users
	 WHERE id = p_target;
	UPDATE auth.users SET role = p_role WHERE id = p_target;
	PERFORM auth.revoke_all(p_target, 'role_changed');
	PERFORM audit.record(p_actor, v_actor.username, v_actor.role,
	    p_source, 'user.role_changed', v_name, 'success',
	    jsonb_build_object('user_id', p_target, 'from', v_old, 'to', p_role),
	    'privilege_change', 'alert');
END;
$$;

CREATE FUNCTION auth.admin_reset_password(p_actor bigint, p_source inet,
    p_target bigint, p_hash text)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_actor	auth.users%ROWTYPE;
	v_name	text;
BEGIN
	v_actor := auth.admin_check(p_actor, p_target);
	UPDATE auth.credentials SET password_hash = p_hash,
	    password_changed_at = now(), must_change_password = true
	 WHERE user_id = p_target;
	SELECT username INTO v_name FROM auth.users WHERE id = p_target;
	PERFORM auth.revoke_all(p_target, 'password_reset');
	PERFORM audit.record(p_actor, v_actor.username, v_actor.role,
	    p_source, 'user.password_reset', v_name, 'success',
	    jsonb_build_object('user_id', p_target), 'credential_change',
	    'warning');
END;
$$;

CREATE FUNCTION auth.admin_unlock(p_actor bigint, p_source inet,
    p_target bigint)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_actor	auth.users%ROWTYPE;
	v_name	text;
BEGIN
	v_actor := auth.admin_check(p_actor, p_target);
	UPDATE auth.lockout SET failures = 0, locked_until = NULL
	 WHERE user_id = p_target;
	SELECT username INTO v_name FROM auth.users WHERE id = p_target;
	PERFORM audit.record(p_actor, v_actor.username, v_actor.role,
	    p_source, 'account.unlocked', v_name, 'success',
	    jsonb_build_object('user_id', p_target));
END;
$$;

CREATE FUNCTION auth.admin_revoke_sessions(p_actor bigint, p_source inet,
    p_target bigint)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_actor	auth.users%ROWTYPE;
	v_name	text;
	v_n	integer;
BEGIN
	v_actor := auth.admin_check(p_actor, p_target);
	v_n := auth.revoke_all(p_target, 'admin_revoked');
	SELECT username INTO v_name FROM auth.users WHERE id = p_target;
	PERFORM audit.record(p_actor, v_actor.username, v_actor.role,
	    p_source, 'sessions.revoked', v_name, 'success',
	    jsonb_build_object('user_id', p_target, 'count', v_n));
	RETURN v_n;
END;
$$;

-- Start or replace enrolment: the new secret (sealed by the server with
-- the key-encryption key) is pending until the user proves possession.
CREATE FUNCTION auth.admin_start_enrolment(p_actor bigint, p_source inet,
    p_target bigint, p_sealed bytea, p_key_id integer)
RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_actor	auth.users%ROWTYPE;
	v_name	text;
	v_old	text;
BEGIN
	v_actor := auth.admin_check(p_actor, p_target);
	SELECT u.username, c.totp_state INTO v_name, v_old
	  FROM auth.users u JOIN auth.credentials c ON c.user_id = u.id
	 WHERE u.id = p_target;
	UPDATE auth.credentials SET totp_state = 'pending',
	    totp_secret = p_sealed, totp_key_id = p_key_id, totp_last_step = 0
	 WHERE user_id = p_target;
	PERFORM auth.revoke_all(p_target, 'otp_replaced');
	PERFORM audit.record(p_actor, v_actor.username, v_actor.role,
	    p_source, 'otp.enrolment_started', v_name, 'success',
	    jsonb_build_object('user_id', p_target, 'previous', v_old),
	    'otp_change', 'alert');
	RETURN v_name;
END;
$$;

-- The user proved possession of the pending device: the code's step is
-- consumed, so the same code cannot log in afterwards.
CREATE FUNCTION auth.otp_confirmed(p_user bigint, p_source inet,
    p_step bigint)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_name	text;
	v_role	text;
BEGIN
	UPDATE auth.credentials SET totp_state = 'enrolled',
	    totp_last_step = p_step
	 WHERE user_id = p_user AND totp_state = 'pending'
	   AND totp_last_step < p_step;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	SELECT username, role INTO v_name, v_role FROM auth.users
	 WHERE id = p_user;
	UPDATE auth.lockout SET failures = 0 WHERE user_id = p_user;
	PERFORM audit.record(p_user, v_name, v_role, p_source, 'otp.enrolled',
	    v_name, 'success', '{}'::jsonb);
	RETURN true;
END;
$$;

-- What a signed-in user needs to prove both factors again.
CREATE FUNCTION auth.own_credentials(p_user bigint)
RETURNS TABLE (username text, password_hash text, totp_state text,
    totp_secret bytea)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT u.username, c.password_hash, c.totp_state, c.totp_secret
	  FROM auth.users u JOIN auth.credentials c ON c.user_id = u.id
	 WHERE u.id = p_user AND u.disabled_at IS NULL;
$$;

-- Self-service password change and re-authentication: the code's step
-- is consumed like at login. Returns false on a replayed code.
CREATE FUNCTION auth.password_changed(p_user bigint, p_session bigint,
    p_source inet, p_step bigint, p_hash text)
RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_name	text;
	v_role	text;
BEGIN
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
	PERFORM audit.record(p_user, v_name, v_role, p_source,
	    'password.changed', v_name, 'success', '{}'::jsonb);
	RETURN true;
END;
$$;

CREATE FUNCTION auth.reauthenticated(p_user bigint, p_session bigint,
    p_source inet, p_step bigint)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_name	text;
	v_role	text;
BEGIN
	UPDATE auth.credentials SET totp_last_step = p_step
	 WHERE user_id = p_user AND totp_state = 'enrolled'
	   AND totp_last_step < p_step;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	UPDATE auth.sessions SET reauth_at = now() WHERE id = p_session;
	SELECT username, role INTO v_name, v_role FROM auth.users
	 WHERE id = p_user;
	PERFORM audit.record(p_user, v_name, v_role, p_source, 'reauth',
	    v_name, 'success', '{}'::jsonb);
	RETURN extract(epoch FROM now() + interval '5 minutes')::bigint;
END;
$$;

-- The session check also tells the server when the user last proved
-- both factors (login or re-authentication).
REVOKE ALL ON FUNCTION auth.admin_check, auth.revoke_all,
    auth.admin_create_user, auth.admin_set_disabled, auth.admin_set_role,
    auth.admin_reset_password, auth.admin_unlock, auth.admin_revoke_sessions,
    auth.admin_start_enrolment, auth.otp_confirmed, auth.own_credentials,
    auth.password_changed, auth.reauthenticated FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.admin_check, auth.revoke_all,
    auth.admin_create_user, auth.admin_set_disabled, auth.admin_set_role,
    auth.admin_reset_password, auth.admin_unlock, auth.admin_revoke_sessions,
    auth.admin_start_enrolment, auth.otp_confirmed, auth.own_credentials,
    auth.password_changed, auth.reauthenticated TO pc_auth;
