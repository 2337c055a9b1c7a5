-- 015_runtime_roles_write_through_functions.sql: a database that trusts
-- no runtime role (issue 12, point 4).
--
-- Before: pc_auth wrote auth.users, auth.credentials and auth.sessions
-- directly, pc_payments wrote transactions and refunds directly, and the
-- functions they called took the acting user's id from the caller. Code
-- execution in a worker could mint a session, change a role, move money
-- or write an audit record in anyone's name.
--
-- After:
-- 1. No runtime role (pc_auth, pc_payments, pc_auditor) holds INSERT,
--    UPDATE or DELETE on any table. Every write is a SECURITY DEFINER
--    function owned by pc_api, a role nobody logs in as, with a pinned
--    search_path.
-- 2. A signed-in action passes the session's raw token (never its hash,
--    which the database stores); auth.session_actor() hashes it and
--    resolves the actor, the role and the re-authentication state. No
--    function takes an actor id from the caller but the login functions
--    (the attempt has not proved an identity yet; each of them writes
--    its own audit record in the same transaction).
-- 3. audit.record() is internal. Runtime roles record what they may
--    through audit.note() (a signed-in user's own view), audit.note_system()
--    (the server's own life) and audit.note_cli() (pc_ops), each checked
--    against audit.note_rules: which login role may write which event,
--    for which signed-in roles.
-- 4. audit.seal() takes no age; the 60 s minimum is fixed.
-- 5. audit.acknowledge() refuses the actor, or the requester, of any
--    event the alert lists.
-- 6. Review sign-off and confirmation resolve the actor from the session.
-- 7. What a login function still takes from the worker is bounded here:
--    a TOTP step within two steps of the database's clock, session
--    lifetimes within the policy's hard limits, lockout numbers within
--    the policy's bounds, failure reasons from a fixed list, and the
--    name recorded for a known account is the account's own.
-- 8. The sealer never links past a transaction that is still writing to
--    the trail: every recording takes a shared advisory lock, the sealer
--    the exclusive one (without waiting), so an event left uncommitted
--    for longer than 60 s (a role may lift its own statement_timeout)
--    delays sealing instead of breaking the chain for ever.
--
-- Errors that the server maps to answers carry SQLSTATEs of class PC
-- (src/dberr.c holds the one table):
--   PCA01 unauthenticated  PCA02 reauth_required  PCA03 forbidden
--   PCA04 self_forbidden   PCA05 not_found        PCA10 password_change_required

-- The roles that log in keep SELECT where they read; writes go.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA auth,
    payments, audit, meta FROM pc_auth, pc_payments, pc_auditor;
-- Session tokens are proved by their raw value; nobody reads the hashes.
REVOKE SELECT ON auth.sessions FROM pc_auth;
-- The CLI keeps only what key rotation and emergency unlock need;
-- accounts are created through auth.bootstrap_account() and (development
-- databases only) auth.seed_account().
REVOKE INSERT, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA auth FROM pc_ops;
REVOKE UPDATE ON auth.users, auth.sessions, auth.source_blocks FROM pc_ops;
REVOKE SELECT ON auth.sessions FROM pc_ops;
REVOKE INSERT ON audit.events FROM pc_ops;
REVOKE INSERT (actor_id, actor_name, actor_role, source, event, target,
    outcome, details) ON audit.events FROM pc_ops;

-- pc_api: the owner of every application function, and the only role
-- besides the owner with table writes.
GRANT USAGE ON SCHEMA auth, payments, audit, meta TO pc_api;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA auth, payments, audit
    TO pc_api;
GRANT DELETE ON auth.source_blocks, payments.idempotency, audit.events,
    audit.chain TO pc_api;
GRANT SELECT ON ALL TABLES IN SCHEMA meta TO pc_api;

-- --- who is acting ------------------------------------------------------

-- The live session behind a raw 256-bit token. Raises PCA01 when there
-- is none (unknown, revoked, expired, or its user disabled).
CREATE FUNCTION auth.session_actor(p_token bytea, OUT session_id bigint,
    OUT user_id bigint, OUT username text, OUT role text,
    OUT reauth_fresh boolean, OUT must_change boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	SELECT s.id, u.id, u.username, u.role,
	       coalesce(s.reauth_at > now() - interval '5 minutes', false),
	       coalesce(c.must_change_password, false)
	  INTO session_id, user_id, username, role, reauth_fresh, must_change
	  FROM auth.sessions s
	  JOIN auth.users u ON u.id = s.user_id
	  LEFT JOIN auth.credentials c ON c.user_id = u.id
	 WHERE length(p_token) = 32 AND s.token_hash = sha256(p_token)
	   AND s.revoked_at IS NULL AND s.idle_expires_at > now()
	   AND s.absolute_expires_at > now() AND u.disabled_at IS NULL;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unauthenticated: no live session for this token'
		    USING ERRCODE = 'PCA01';
	END IF;
END;
$$;

-- The session's user, checked for one of p_roles, the password change
-- done, and (p_reauth) both factors proved in the last 5 minutes.
CREATE FUNCTION auth.actor(p_token bytea, p_roles text[], p_reauth boolean)
RETURNS auth.users
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	a	record;
	v_u	auth.users%ROWTYPE;
BEGIN
	SELECT * INTO a FROM auth.session_actor(p_token);
	IF NOT a.role = ANY (p_roles) THEN
		RAISE EXCEPTION 'forbidden: % may not do this', a.role
		    USING ERRCODE = 'PCA03';
	END IF;
	IF a.must_change THEN
		RAISE EXCEPTION 'password_change_required'
		    USING ERRCODE = 'PCA10';
	END IF;
	IF p_reauth AND NOT a.reauth_fresh THEN
		RAISE EXCEPTION 'reauth_required' USING ERRCODE = 'PCA02';
	END IF;
	SELECT * INTO v_u FROM auth.users WHERE id = a.user_id;
	RETURN v_u;
END;
$$;

-- An admin acting on another account: the actor and the locked target.
CREATE FUNCTION auth.admin_act(p_token bytea, p_target bigint,
    p_reauth boolean, OUT actor auth.users, OUT target auth.users)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	actor := auth.actor(p_token, ARRAY['admin'], p_reauth);
	IF actor.id = p_target THEN
		RAISE EXCEPTION 'self_forbidden: admins do not administer '
		    'their own account' USING ERRCODE = 'PCA04';
	END IF;
	SELECT * INTO target FROM auth.users WHERE id = p_target FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'not_found' USING ERRCODE = 'PCA05';
	END IF;
END;
$$;

-- --- the trail: recording is internal, notes are checked ------------------

-- An alert for a set of events: one open alert per (rule, key); repeats
-- raise its count and add their events (each once, the newest 100).
CREATE FUNCTION audit.raise(p_rule text, p_severity text, p_key text,
    p_events bigint[])
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
	INSERT INTO audit.alerts AS a (rule, severity, key, event_ids)
	VALUES (p_rule, p_severity, p_key, p_events)
	ON CONFLICT (rule, key) WHERE acknowledged_at IS NULL
	DO UPDATE SET last_seen = now(), count = a.count + 1,
	    event_ids = ARRAY(SELECT e FROM (SELECT DISTINCT unnest(
	        a.event_ids || p_events) AS e ORDER BY e DESC LIMIT 100) d
	        ORDER BY e);
$$;

CREATE OR REPLACE FUNCTION audit.record(p_actor_id bigint, p_actor_name text,
    p_actor_role text, p_source inet, p_event text, p_target text,
    p_outcome text, p_details jsonb, p_rule text DEFAULT NULL,
    p_severity text DEFAULT 'warning')
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_id	bigint;
BEGIN
	-- Held to the end of this transaction: the sealer waits for it.
	PERFORM pg_advisory_xact_lock_shared(727272);
	INSERT INTO audit.events (actor_id, actor_name, actor_role, source,
	    event, target, outcome, details)
	VALUES (p_actor_id, p_actor_name, p_actor_role, p_source, p_event,
	    p_target, p_outcome, coalesce(p_details, '{}'::jsonb))
	RETURNING id INTO v_id;
	IF p_rule IS NOT NULL THEN
		PERFORM audit.raise(p_rule, p_severity,
		    coalesce(p_target, '') || '@' || coalesce(host(p_source), ''),
		    ARRAY[v_id]);
	END IF;
	RETURN v_id;
END;
$$;

-- Which login role may note which event. actor_roles: the signed-in
-- roles whose own action it is (audit.note); NULL: an event of the
-- server itself (audit.note_system) or of the CLI (audit.note_cli).
-- rule: the one alert rule the note may raise.
CREATE TABLE audit.note_rules (
	login_role	name NOT NULL,
	event		text NOT NULL,
	actor_roles	text[],
	rule		text,
	PRIMARY KEY (login_role, event)
);
INSERT INTO audit.note_rules VALUES
	('pc_auth', 'audit.events_viewed', '{auditor}', NULL),
	('pc_auth', 'audit.verified', '{auditor}', 'chain_verification_failed'),
	('pc_auth', 'alerts.viewed', '{admin,auditor}', NULL),
	('pc_auth', 'inventory.viewed', '{admin,auditor}', NULL),
	('pc_auth', 'review.viewed', '{admin,auditor}', NULL),
	('pc_auth', 'reviews.viewed', '{admin,auditor}', NULL),
	('pc_auth', 'server.started', NULL, NULL),
	('pc_auth', 'server.worker_restarted', NULL, NULL),
	('pc_auth', 'server.stopped', NULL, NULL),
	('pc_auth', 'policy.loaded', NULL, NULL),
	('pc_auth', 'connection.denied', NULL, NULL),
	('pc_auth', 'connection.denied_repeatedly', NULL,
	    'repeated_denied_connections'),
	('pc_payments', 'transactions.searched', '{operator,auditor}', NULL),
	('pc_payments', 'transactions.exported', '{operator,auditor}', NULL),
	('pc_ops', 'users.listed', NULL, NULL),
	('pc_ops', 'account.unlocked', NULL, NULL),
	('pc_ops', 'kek.rotated', NULL, NULL),
	('pc_ops', 'demo.seeded', NULL, NULL),
	('pc_ops', 'audit.verified', NULL, NULL),
	('pc_ops', 'audit.purged', NULL, NULL);
REVOKE ALL ON audit.note_rules FROM PUBLIC;
GRANT SELECT ON audit.note_rules TO pc_api, pc_auditor;

-- A signed-in user's own view or search, as that user.
CREATE FUNCTION audit.note(p_token bytea, p_source inet, p_event text,
    p_target text, p_outcome text, p_details jsonb, p_rule text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	a	record;
	n	audit.note_rules%ROWTYPE;
BEGIN
	SELECT * INTO a FROM auth.session_actor(p_token);
	SELECT * INTO n FROM audit.note_rules r
	 WHERE r.login_role = session_user AND r.event = p_event
	   AND r.actor_roles IS NOT NULL;
	IF NOT FOUND OR NOT a.role = ANY (n.actor_roles)
	    OR (p_rule IS NOT NULL AND p_rule IS DISTINCT FROM n.rule) THEN
		RAISE EXCEPTION 'forbidden: % may not note % for a %',
		    session_user, p_event, a.role USING ERRCODE = 'PCA03';
	END IF;
	RETURN audit.record(a.user_id, a.username, a.role, p_source, p_event,
	    p_target, p_outcome, p_details, p_rule, 'alert');
END;
$$;

-- The server's own life: start, stop, policy, refused connections.
CREATE FUNCTION audit.note_system(p_event text, p_target text,
    p_outcome text, p_details jsonb, p_source inet, p_rule text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	n	audit.note_rules%ROWTYPE;
BEGIN
	SELECT * INTO n FROM audit.note_rules r
	 WHERE r.login_role = session_user AND r.event = p_event
	   AND r.actor_roles IS NULL AND r.login_role = 'pc_auth';
	IF NOT FOUND OR (p_rule IS NOT NULL AND p_rule IS DISTINCT FROM n.rule)
	THEN
		RAISE EXCEPTION 'forbidden: % may not note %', session_user,
		    p_event USING ERRCODE = 'PCA03';
	END IF;
	RETURN audit.record(NULL, CASE WHEN p_event LIKE 'connection.%'
	    THEN NULL ELSE 'payconsole' END, NULL, p_source, p_event,
	    p_target, p_outcome, p_details, p_rule, 'alert');
END;
$$;

-- The CLI on the server host: "cli:<unix user>", role cli.
CREATE FUNCTION audit.note_cli(p_actor text, p_event text, p_target text,
    p_outcome text, p_details jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	IF p_actor !~ '^cli:[a-z_][a-z0-9_.-]{0,31}$' OR NOT EXISTS (
	    SELECT 1 FROM audit.note_rules r WHERE r.login_role = session_user
	    AND r.login_role = 'pc_ops' AND r.event = p_event) THEN
		RAISE EXCEPTION 'forbidden: % may not note % as %', session_user,
		    p_event, p_actor USING ERRCODE = 'PCA03';
	END IF;
	RETURN audit.record(NULL, p_actor, 'cli', NULL, p_event, p_target,
	    p_outcome, p_details);
END;
$$;

-- The sealer: links a prefix of the trail, stopping at the first event
-- younger than p_min_age. Internal: a negative age from a caller would
-- leave an event of a still-open transaction out of the chain for ever.
DROP FUNCTION audit.seal(interval, integer);
CREATE FUNCTION audit.seal_due(p_min_age interval, p_max integer,
    p_wait boolean)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_prev	bytea;
	v_last	bigint;
	v_n	integer := 0;
	v_h	bytea;
	e	audit.events%ROWTYPE;
BEGIN
	PERFORM pg_advisory_xact_lock(727271);
	-- No transaction that recorded an event is still open (each holds
	-- the shared lock to its end): every id below the ones seen is
	-- visible or gone for good. The server's sealer does not wait (a
	-- waiting exclusive request would hold up every new record); it
	-- tries again at its next round.
	IF p_wait THEN
		PERFORM pg_advisory_xact_lock(727272);
	ELSIF NOT pg_try_advisory_xact_lock(727272) THEN
		RETURN 0;
	END IF;
	SELECT c.hash, c.event_id INTO v_prev, v_last FROM audit.chain c
	 ORDER BY c.seq DESC LIMIT 1;
	IF v_prev IS NULL THEN
		SELECT a.hash, a.through_event INTO v_prev, v_last
		  FROM audit.chain_anchor() a;
	END IF;
	FOR e IN SELECT * FROM audit.events ev WHERE ev.id > v_last
	    ORDER BY ev.id LIMIT p_max LOOP
		EXIT WHEN e.at >= clock_timestamp() - p_min_age;
		v_h := audit.event_digest(e, v_prev);
		INSERT INTO audit.chain (event_id, prev_hash, hash)
		VALUES (e.id, v_prev, v_h);
		v_prev := v_h;
		v_n := v_n + 1;
	END LOOP;
	RETURN v_n;
END;
$$;

-- The only sealer anyone calls: events at least 60 s old (a prefix of
-- the trail, as 013 has it), once no recording transaction is open.
CREATE FUNCTION audit.seal()
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT audit.seal_due(interval '60 seconds', 10000, false);
$$;

-- An alert is acknowledged by someone who is neither the actor nor the
-- requester of anything it lists: nobody closes an alert about their
-- own action.
CREATE FUNCTION audit.acknowledge(p_token bytea, p_source inet,
    p_alert bigint, p_comment text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_u	auth.users%ROWTYPE;
	v_al	audit.alerts%ROWTYPE;
BEGIN
	v_u := auth.actor(p_token, ARRAY['admin', 'auditor'], false);
	SELECT * INTO v_al FROM audit.alerts WHERE id = p_alert
	    AND acknowledged_at IS NULL FOR UPDATE;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	IF EXISTS (SELECT 1 FROM audit.events e
	    WHERE e.id = ANY (v_al.event_ids) AND (e.actor_id = v_u.id
	    OR e.details->>'requested_by' = v_u.id::text)) THEN
		PERFORM audit.record(v_u.id, v_u.username, v_u.role, p_source,
		    'alert.acknowledged', p_alert::text, 'denied',
		    jsonb_build_object('reason', 'own_action'));
		RETURN NULL;
	END IF;
	UPDATE audit.alerts SET acknowledged_at = now(),
	    acknowledged_by = v_u.username, ack_comment = p_comment
	 WHERE id = p_alert;
	PERFORM audit.record(v_u.id, v_u.username, v_u.role, p_source,
	    'alert.acknowledged', p_alert::text, 'success',
	    jsonb_build_object('comment', p_comment));
	RETURN true;
END;
$$;

-- --- sessions and factors -------------------------------------------------

-- A TOTP step the worker says it matched: within two steps of this
-- database's clock (one step of drift either way, plus the moment
-- between the worker's check and this call). A step far ahead would
-- otherwise use up every code of an account for years.
CREATE FUNCTION auth.step_plausible(p_step bigint)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT p_step IS NOT NULL AND abs(p_step -
	    floor(extract(epoch FROM clock_timestamp()) / 30)::bigint) <= 2;
$$;

-- Both factors passed: consume the TOTP step (never twice), open the
-- session for the raw token, reset the failure counter. A login function:
-- it takes the user id the factors were checked for.
CREATE FUNCTION auth.login_succeeded(p_user_id bigint, p_source inet,
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

	UPDATE auth.lockout SET failures = 0 WHERE user_id = p_user_id;
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
DROP FUNCTION auth.login_succeeded(bigint, inet, bigint, text, bytea,
    integer, timestamptz);

-- Every authenticated request: find the session, end it if it expired
-- or the hours window closed, else slide the idle deadline. (The old
-- one took the token's hash under the same argument types.)
DROP FUNCTION auth.session_check(bytea, integer, boolean, inet);
CREATE FUNCTION auth.session_check(p_token bytea, p_idle_secs integer,
    p_in_hours boolean, p_source inet)
RETURNS TABLE (status text, session_id bigint, user_id bigint,
    username text, display_name text, role text,
    must_change_password boolean, idle_expires_at timestamptz,
    absolute_expires_at timestamptz, reauth_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	v_s	auth.sessions%ROWTYPE;
	v_u	auth.users%ROWTYPE;
	v_why	text;
	v_idle	timestamptz;
BEGIN
	p_idle_secs := least(greatest(coalesce(p_idle_secs, 10), 10), 900);
	SELECT * INTO v_s FROM auth.sessions s
	 WHERE length(p_token) = 32 AND s.token_hash = sha256(p_token)
	   FOR UPDATE;
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

CREATE FUNCTION auth.logout(p_token bytea, p_source inet)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	a	record;
BEGIN
	SELECT * INTO a FROM auth.session_actor(p_token);
	UPDATE auth.sessions SET revoked_at = now(), revoke_reason = 'logout'
	 WHERE id = a.session_id AND revoked_at IS NULL;
	PERFORM audit.record(a.user_id, a.username, a.role, p_source,
	    'logout', a.username, 'success',
	    jsonb_build_object('session', a.session_id));
END;
$$;
DROP FUNCTION auth.logout(bigint, inet);

-- What a signed-in user needs to prove both factors again, with the
-- same lock and block state login sees.
CREATE FUNCTION auth.own_factors(p_token bytea, p_source inet)
RETURNS TABLE (user_id bigint, username text, password_hash text,
    totp_state text, totp_secret bytea, disabled boolean, locked boolean,
    source_blocked boolean, source_blocked_until timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	a	record;
BEGIN
	SELECT * INTO a FROM auth.session_actor(p_token);
	RETURN QUERY SELECT u.id, u.username, c.password_hash, c.totp_state,
	       c.totp_secret, u.disabled_at IS NOT NULL,
	       coalesce(l.locked_until > now(), false),
	       s.blocked_until IS NOT NULL, s.blocked_until
	  FROM auth.users u
	  JOIN auth.credentials c ON c.user_id = u.id
	  LEFT JOIN auth.lockout l ON l.user_id = u.id
	  LEFT JOIN auth.source_blocks s
	    ON s.source = p_source AND s.blocked_until > now()
	 WHERE u.id = a.user_id;
END;
$$;
DROP FUNCTION auth.own_factors(bigint, inet);

-- Self-service password change: the code's step is consumed like at
-- login. false on a replayed code or a locked account.
CREATE FUNCTION auth.password_changed(p_token bytea, p_source inet,
    p_step bigint, p_hash text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	a	record;
BEGIN
	SELECT * INTO a FROM auth.session_actor(p_token);
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
	UPDATE auth.sessions SET reauth_at = now() WHERE id = a.session_id;
	UPDATE auth.lockout SET failures = 0 WHERE user_id = a.user_id;
	PERFORM audit.record(a.user_id, a.username, a.role, p_source,
	    'password.changed', a.username, 'success', '{}'::jsonb);
	RETURN true;
END;
$$;
DROP FUNCTION auth.password_changed(bigint, bigint, inet, bigint, text);

-- Re-authentication: NULL on a replayed code or a locked account, else
-- when the fresh proof ends.
CREATE FUNCTION auth.reauthenticated(p_token bytea, p_source inet,
    p_step bigint)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	a	record;
BEGIN
	SELECT * INTO a FROM auth.session_actor(p_token);
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
	UPDATE auth.sessions SET reauth_at = now() WHERE id = a.session_id;
	UPDATE auth.lockout SET failures = 0 WHERE user_id = a.user_id;
	PERFORM audit.record(a.user_id, a.username, a.role, p_source, 'reauth',
	    a.username, 'success', '{}'::jsonb);
	RETURN extract(epoch FROM now() + interval '5 minutes')::bigint;
END;
$$;
DROP FUNCTION auth.reauthenticated(bigint, bigint, inet, bigint);

-- A login's due rehash, for the session that login just opened: only
-- within its first minute, once (not a way to set a password later).
CREATE FUNCTION auth.rehashed(p_token bytea, p_hash text, p_source inet)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	a	record;
BEGIN
	SELECT * INTO a FROM auth.session_actor(p_token);
	IF NOT EXISTS (SELECT 1 FROM auth.sessions s WHERE s.id = a.session_id
	    AND s.created_at > now() - interval '1 minute')
	    OR EXISTS (SELECT 1 FROM audit.events e WHERE e.actor_id =
	    a.user_id AND e.event = 'password.rehashed' AND e.details->>
	    'session' = a.session_id::text) THEN
		RAISE EXCEPTION 'forbidden: a rehash follows its login'
		    USING ERRCODE = 'PCA03';
	END IF;
	UPDATE auth.credentials SET password_hash = p_hash
	 WHERE user_id = a.user_id;
	PERFORM audit.record(a.user_id, a.username, a.role, p_source,
	    'password.rehashed', a.username, 'success',
	    jsonb_build_object('session', a.session_id));
END;
$$;
DROP FUNCTION auth.rehashed(bigint, text, inet);

-- --- what one admin may still do alone ---------------------------------
-- Disabling, unlocking and revoking sessions take access away and need
-- no second person. Everything that gives access (create, enable, role,
-- credentials) is a request (016_approvals_and_enrolment.sql).

CREATE FUNCTION auth.revoke_sessions(p_target bigint, p_reason text)
RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
	WITH r AS (
		UPDATE auth.sessions SET revoked_at = now(),
		    revoke_reason = p_reason
		 WHERE user_id = p_target AND revoked_at IS NULL
		RETURNING 1)
	SELECT count(*)::integer FROM r;
$$;

CREATE FUNCTION auth.admin_disable(p_token bytea, p_source inet,
    p_target bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	x	record;
	v_n	integer;
BEGIN
	SELECT * INTO x FROM auth.admin_act(p_token, p_target, false);
	UPDATE auth.users SET disabled_at = coalesce(disabled_at, now())
	 WHERE id = p_target;
	v_n := auth.revoke_sessions(p_target, 'user_disabled');
	PERFORM audit.record((x.actor).id, (x.actor).username,
	    (x.actor).role, p_source, 'user.disabled', (x.target).username,
	    'success', jsonb_build_object('user_id', p_target,
	    'sessions_revoked', v_n));
END;
$$;

CREATE FUNCTION auth.admin_unlock(p_token bytea, p_source inet,
    p_target bigint)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	x	record;
BEGIN
	SELECT * INTO x FROM auth.admin_act(p_token, p_target, false);
	UPDATE auth.lockout SET failures = 0, locked_until = NULL
	 WHERE user_id = p_target;
	PERFORM audit.record((x.actor).id, (x.actor).username,
	    (x.actor).role, p_source, 'account.unlocked', (x.target).username,
	    'success', jsonb_build_object('user_id', p_target));
END;
$$;
DROP FUNCTION auth.admin_unlock(bigint, inet, bigint);

CREATE FUNCTION auth.admin_revoke_sessions(p_token bytea, p_source inet,
    p_target bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	x	record;
	v_n	integer;
BEGIN
	SELECT * INTO x FROM auth.admin_act(p_token, p_target, false);
	v_n := auth.revoke_sessions(p_target, 'admin_revoked');
	PERFORM audit.record((x.actor).id, (x.actor).username,
	    (x.actor).role, p_source, 'sessions.revoked', (x.target).username,
	    'success', jsonb_build_object('user_id', p_target, 'count', v_n));
	RETURN v_n;
END;
$$;
DROP FUNCTION auth.admin_revoke_sessions(bigint, inet, bigint);

-- The old one-person paths: gone (replaced by requests in 016).
DROP FUNCTION auth.admin_create_user(bigint, inet, text, text, text, text);
DROP FUNCTION auth.admin_set_disabled(bigint, inet, bigint, boolean);
DROP FUNCTION auth.admin_set_role(bigint, inet, bigint, text);
DROP FUNCTION auth.admin_reset_password(bigint, inet, bigint, text);
DROP FUNCTION auth.admin_start_enrolment(bigint, inet, bigint, bytea, integer);
DROP FUNCTION auth.otp_confirmed(bigint, inet, bigint);
DROP FUNCTION auth.admin_check(bigint, bigint);
DROP FUNCTION auth.revoke_all(bigint, text);
DROP FUNCTION audit.acknowledge(bigint, bigint, text, text, inet, text);

-- --- the weekly review, signed as the session's user ----------------------

-- Whether p_user took part in administering the account p_account (made
-- it, re-issued its credentials, changed its role), as requester or as
-- approver: such a person must not confirm what that account signed.
CREATE FUNCTION audit.administered(p_user bigint, p_account text)
RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT EXISTS (SELECT 1 FROM audit.events e
	 WHERE e.target = p_account AND e.outcome = 'success'
	   AND (e.actor_id = p_user OR e.details->>'requested_by' = p_user::text)
	   AND e.event IN ('user.created', 'user.password_reset',
	       'user.device_reset', 'otp.enrolment_started',
	       'user.role_changed', 'user.enabled', 'account.bootstrapped'));
$$;

CREATE FUNCTION audit.review_signoff(p_token bytea, p_source inet,
    p_week text, p_tz text, p_comment text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b	record;
	u	auth.users%ROWTYPE;
	v_sha	text;
BEGIN
	u := auth.actor(p_token, ARRAY['auditor'], false);
	SELECT * INTO b FROM audit.week_bounds(p_week, p_tz);
	IF now() < b.to_at THEN
		RETURN 'week_not_finished';
	END IF;
	v_sha := audit.review_digest(p_week, p_tz);
	INSERT INTO audit.reviews (week, signed_off_by, signed_off_name,
	    signoff_comment, figures_sha256, timezone)
	VALUES (p_week, u.id, u.username, p_comment, v_sha, p_tz)
	ON CONFLICT (week) DO NOTHING;
	IF NOT FOUND THEN
		RETURN 'already_signed_off';
	END IF;
	PERFORM audit.record(u.id, u.username, u.role, p_source,
	    'review.signed_off', p_week, 'success',
	    jsonb_build_object('comment', p_comment, 'figures_sha256', v_sha));
	RETURN 'ok';
END;
$$;
DROP FUNCTION audit.review_signoff(text, text, bigint, inet, text);

CREATE FUNCTION audit.review_confirm(p_token bytea, p_source inet,
    p_week text, p_tz text, p_comment text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	u	auth.users%ROWTYPE;
	r	audit.reviews%ROWTYPE;
	v_why	text;
BEGIN
	u := auth.actor(p_token, ARRAY['auditor', 'admin'], false);
	PERFORM audit.week_bounds(p_week, p_tz);
	SELECT * INTO r FROM audit.reviews WHERE week = p_week FOR UPDATE;
	IF NOT FOUND THEN
		RETURN 'not_signed_off';
	END IF;
	IF r.confirmed_by IS NOT NULL THEN
		RETURN 'already_confirmed';
	END IF;
	IF r.signed_off_by = u.id THEN
		v_why := 'same_person';
	ELSIF audit.administered(u.id, r.signed_off_name) THEN
		-- One person must not sign through an account they control.
		v_why := 'signer_administered_by_you';
	ELSIF r.figures_sha256 IS DISTINCT FROM
	    audit.review_digest(p_week, coalesce(r.timezone, p_tz)) THEN
		v_why := 'review_changed';
	END IF;
	IF v_why IS NOT NULL THEN
		PERFORM audit.record(u.id, u.username, u.role, p_source,
		    'review.confirmed', p_week, 'denied',
		    jsonb_build_object('reason', v_why));
		RETURN v_why;
	END IF;
	UPDATE audit.reviews SET confirmed_by = u.id,
	    confirmed_name = u.username, confirmed_role = u.role,
	    confirmed_at = now(), confirm_comment = p_comment
	 WHERE week = p_week;
	PERFORM audit.record(u.id, u.username, u.role, p_source,
	    'review.confirmed', p_week, 'success',
	    jsonb_build_object('comment', p_comment,
	        'signed_off_by', r.signed_off_name));
	RETURN 'ok';
END;
$$;
DROP FUNCTION audit.review_confirm(text, text, bigint, inet, text);

-- --- login-path functions that write: definer rights ----------------------
-- A failed attempt (005), hardened: the reason from a fixed list, the
-- name of a known account its own, the numbers within the policy's
-- bounds.
CREATE OR REPLACE FUNCTION auth.login_failed(p_user_id bigint, p_username text,
    p_source inet, p_reason text, p_threshold integer,
    p_lock_secs integer, p_lock_max integer, p_src_threshold integer,
    p_src_window integer, p_src_block integer)
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
ALTER FUNCTION auth.name_failed(text, integer, integer) SECURITY DEFINER;
ALTER FUNCTION auth.outside_hours(text, inet) SECURITY DEFINER;

-- --- purge: the trigger names the definer role --------------------------
CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF TG_OP = 'DELETE'
	    AND current_setting('payconsole.retention', true) = 'purge'
	    AND current_user = 'pc_api' AND session_user <> current_user THEN
		-- Events themselves only once they are 12 months old.
		IF TG_TABLE_NAME <> 'events' OR (to_jsonb(OLD)->>'at')::timestamptz
		    < now() - interval '12 months' THEN
			RETURN OLD;
		END IF;
	END IF;
	RAISE EXCEPTION '%.% is append-only (% refused)', TG_TABLE_SCHEMA,
	    TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE OR REPLACE FUNCTION audit.purges_insert_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF current_setting('payconsole.retention', true) = 'purge'
	    AND current_user = 'pc_api' AND session_user <> current_user THEN
		NEW.session_role := session_user;
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'audit.purges takes rows only from audit.purge()'
	    USING ERRCODE = 'insufficient_privilege';
END;
$$;
GRANT INSERT ON audit.purges TO pc_api;
