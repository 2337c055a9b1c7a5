-- 027_account_lifecycle.sql: inactive accounts disabled, and the
-- half-year account review (issue 16, part 5; PCI DSS 8.2.6, 7.2.4).
--
-- 1. auth.disable_inactive(days): every enabled account idle longer than
--    the policy's inactive_disable_days (never more than 90 here, so a
--    worker cannot stretch it) is disabled, its sessions end, and one
--    user.disabled_inactive record per account (with the days idle)
--    raises the alert inactive_disabled. Idle is counted from the newest
--    of: last sign-in, creation, the end of a first sign-in (a reset
--    re-issues both factors), and the last re-enabling (auth.users
--    .enabled_at, kept by a trigger: an account an admin enabled again
--    must not be disabled on the next tick for its old last sign-in).
--    No account is exempt: bootstrap admins are accounts like the
--    others. Worker 1 calls it with the seal (src/audit.c).
-- 2. The account review of a half-year ("2026-H1" is January to June in
--    the policy timezone): every account that existed by the period's
--    end with its role, creation, last sign-in, state and enrolment, and
--    its privilege history in the period (the trail's privileged events
--    naming it). Sign-off and confirmation are the weekly review's own:
--    audit.reviews holds a period name in its week column, and
--    review_signoff / review_confirm / review_state take their bounds
--    and digest from audit.period_bounds() / audit.period_digest(),
--    which know both kinds. The digest of an account review leaves out
--    last sign-in times, which move with every sign-in (the
--    confirmer's own too).

-- --- 1. inactive accounts -------------------------------------------------------

ALTER TABLE auth.users ADD COLUMN enabled_at timestamptz;

INSERT INTO audit.alert_rules VALUES ('inactive_disabled', 'rule', 3600);
-- The weekly review lists it with the other changes of access.
INSERT INTO audit.privileged_events VALUES ('user.disabled_inactive');

ALTER TABLE audit.reviews DROP CONSTRAINT reviews_week_check;
ALTER TABLE audit.reviews ADD CONSTRAINT reviews_week_check
	CHECK (week ~ '^[0-9]{4}-(W[0-9]{2}|H[12])$');

GRANT CREATE ON SCHEMA auth, audit TO pc_api;
SET ROLE pc_api;

-- Owned by pc_api like every function; creating the trigger takes
-- EXECUTE on it, granted to the owner for that statement only (as 026).
CREATE FUNCTION auth.users_enabled_at() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF OLD.disabled_at IS NOT NULL AND NEW.disabled_at IS NULL THEN
		NEW.enabled_at := now();
	END IF;
	RETURN NEW;
END;
$$;
REVOKE ALL ON FUNCTION auth.users_enabled_at() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.users_enabled_at() TO pc_owner;
RESET ROLE;
CREATE TRIGGER users_enabled_at BEFORE UPDATE OF disabled_at ON auth.users
	FOR EACH ROW EXECUTE FUNCTION auth.users_enabled_at();
SET ROLE pc_api;
REVOKE EXECUTE ON FUNCTION auth.users_enabled_at() FROM pc_owner;

-- Returns how many accounts it disabled.
CREATE FUNCTION auth.disable_inactive(p_days integer)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_days	integer := least(greatest(coalesce(p_days, 90), 1), 90);
	v_cut	timestamptz;
	u	record;
	v_s	integer;
	v_n	integer := 0;
BEGIN
	v_cut := now() - make_interval(days => v_days);
	FOR u IN SELECT s.id, s.username, s.role, s.last_login_at,
	    greatest(s.last_login_at, s.created_at, s.enabled_at,
	        (SELECT max(e.completed_at) FROM auth.enrolments e
	          WHERE e.user_id = s.id)) AS since
	  FROM auth.users s
	 WHERE s.disabled_at IS NULL
	   AND greatest(s.last_login_at, s.created_at, s.enabled_at) < v_cut
	 ORDER BY s.id
	LOOP
		IF u.since >= v_cut THEN
			CONTINUE;
		END IF;
		-- A sign-in, a first sign-in or an admin may have come
		-- first: checked again under the row's lock.
		UPDATE auth.users s SET disabled_at = now()
		 WHERE s.id = u.id AND s.disabled_at IS NULL
		   AND greatest(s.last_login_at, s.created_at, s.enabled_at) < v_cut
		   AND NOT EXISTS (SELECT 1 FROM auth.enrolments e
		       WHERE e.user_id = s.id AND e.completed_at >= v_cut);
		IF NOT FOUND THEN
			CONTINUE;
		END IF;
		v_s := auth.revoke_sessions(u.id, 'user_disabled');
		PERFORM audit.record(NULL, 'payconsole', NULL, NULL,
		    'user.disabled_inactive', u.username, 'success',
		    jsonb_build_object('user_id', u.id, 'role', u.role,
		        'days_idle', extract(day FROM now() - u.since)::integer,
		        'limit_days', v_days,
		        'last_login_at', extract(epoch FROM u.last_login_at)::bigint,
		        'sessions_revoked', v_s),
		    'inactive_disabled', 'alert');
		v_n := v_n + 1;
	END LOOP;
	RETURN v_n;
END;
$$;

-- --- 2. periods: ISO weeks and half-years ---------------------------------------

-- "2026-H1" in a timezone: 1 January to 30 June; H2 July to December.
CREATE FUNCTION audit.half_bounds(p_half text, p_tz text,
    OUT first_day date, OUT from_at timestamptz, OUT to_at timestamptz)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_half !~ '^(2[0-9]{3}|[3-9][0-9]{3})-H[12]$' THEN
		RAISE EXCEPTION 'bad half-year'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	first_day := make_date(substr(p_half, 1, 4)::integer,
	    CASE substr(p_half, 7, 1) WHEN '1' THEN 1 ELSE 7 END, 1);
	from_at := first_day::timestamp AT TIME ZONE p_tz;
	to_at := (first_day + interval '6 months')::timestamp AT TIME ZONE p_tz;
END;
$$;

-- A review period of either kind: its first and last day and bounds.
CREATE FUNCTION audit.period_bounds(p_period text, p_tz text,
    OUT first_day date, OUT last_day date, OUT from_at timestamptz,
    OUT to_at timestamptz)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
	IF substr(p_period, 6, 1) = 'H' THEN
		SELECT b.first_day, b.from_at, b.to_at
		  INTO first_day, from_at, to_at
		  FROM audit.half_bounds(p_period, p_tz) b;
		last_day := (first_day + interval '6 months')::date - 1;
	ELSE
		SELECT b.first_day, b.from_at, b.to_at
		  INTO first_day, from_at, to_at
		  FROM audit.week_bounds(p_period, p_tz) b;
		last_day := first_day + 6;
	END IF;
END;
$$;

-- --- 3. the account review ------------------------------------------------------

-- Every account that existed by the period's end, as it stands now.
CREATE FUNCTION audit.account_review_accounts(p_half text, p_tz text)
RETURNS TABLE (id bigint, username text, role text, created_at timestamptz,
    last_login_at timestamptz, disabled_at timestamptz, enrolment text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT u.id, u.username, u.role, u.created_at, u.last_login_at,
	       u.disabled_at,
	       CASE WHEN EXISTS (SELECT 1 FROM auth.enrolments e
	           WHERE e.user_id = u.id AND e.completed_at IS NULL
	             AND e.revoked_at IS NULL AND e.expires_at > now())
	           THEN 'enrolling'
	           ELSE coalesce(c.totp_state, 'none') END
	  FROM audit.half_bounds(p_half, p_tz) b, auth.users u
	  LEFT JOIN auth.credentials c ON c.user_id = u.id
	 WHERE u.created_at < b.to_at
	 ORDER BY u.id;
$$;

-- The privileged events of the period that name an account.
CREATE FUNCTION audit.account_review_history(p_half text, p_tz text)
RETURNS TABLE (id bigint, at timestamptz, event text, actor text,
    target text, outcome text, details jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT e.id, e.at, e.event, e.actor_name, e.target, e.outcome,
	       e.details
	  FROM audit.half_bounds(p_half, p_tz) b, audit.events e
	 WHERE e.at >= b.from_at AND e.at < b.to_at
	   AND e.event IN (SELECT p.event FROM audit.privileged_events p)
	   AND e.target IN (SELECT u.username FROM auth.users u)
	 ORDER BY e.id;
$$;

-- What a sign-off covers: accounts (without last sign-in) and history.
CREATE FUNCTION audit.account_review_digest(p_half text, p_tz text)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT encode(sha256(convert_to(
	    coalesce((SELECT string_agg(jsonb_build_array('account', a.id,
	        a.username, a.role, extract(epoch FROM a.created_at),
	        a.disabled_at IS NOT NULL, a.enrolment)::text, E'\n'
	        ORDER BY a.id)
	      FROM audit.account_review_accounts(p_half, p_tz) a), '')
	    || E'\n' ||
	    coalesce((SELECT string_agg(jsonb_build_array('history', h.id,
	        h.event, h.target, h.outcome)::text, E'\n' ORDER BY h.id)
	      FROM audit.account_review_history(p_half, p_tz) h), ''),
	    'UTF8')), 'hex');
$$;

-- The digest a sign-off stores, for either kind of period.
CREATE FUNCTION audit.period_digest(p_period text, p_tz text)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT CASE WHEN substr(p_period, 6, 1) = 'H'
	    THEN audit.account_review_digest(p_period, p_tz)
	    ELSE audit.review_digest(p_period, p_tz) END;
$$;

-- The review's state (013), for either kind of period.
CREATE OR REPLACE FUNCTION audit.review_state(p_week text, p_tz text)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
SELECT jsonb_build_object(
    'week', p_week,
    'from', b.first_day::text, 'to', b.last_day::text,
    'finished', now() >= b.to_at,
    'signed_off_by', r.signed_off_name,
    'signed_off_at', extract(epoch FROM r.signed_off_at)::bigint,
    'signoff_comment', r.signoff_comment,
    'confirmed_by', r.confirmed_name,
    'confirmed_at', extract(epoch FROM r.confirmed_at)::bigint,
    'confirm_comment', r.confirm_comment,
    'complete', r.confirmed_at IS NOT NULL,
    'overdue', now() >= b.to_at AND r.confirmed_at IS NULL,
    'changed_since_signoff', CASE WHEN r.week IS NULL THEN false
        ELSE r.figures_sha256 IS DISTINCT FROM audit.period_digest(p_week,
            coalesce(r.timezone, p_tz)) END)
  FROM audit.period_bounds(p_week, p_tz) b
  LEFT JOIN audit.reviews r ON r.week = p_week;
$$;

-- The account review as one JSON document (the API's answer).
CREATE FUNCTION audit.account_review_json(p_half text, p_tz text)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
WITH h AS MATERIALIZED (
	SELECT * FROM audit.account_review_history(p_half, p_tz))
SELECT jsonb_build_object(
    'period', p_half, 'timezone', p_tz,
    'from', b.first_day::text, 'to', b.last_day::text,
    'accounts', coalesce((SELECT jsonb_agg(jsonb_build_object(
        'id', a.id, 'username', a.username, 'role', a.role,
        'created_at', extract(epoch FROM a.created_at)::bigint,
        'last_login_at', extract(epoch FROM a.last_login_at)::bigint,
        'disabled_at', extract(epoch FROM a.disabled_at)::bigint,
        'status', CASE WHEN a.disabled_at IS NULL THEN 'enabled'
            ELSE 'disabled' END,
        'enrolment', a.enrolment,
        'history', coalesce((SELECT jsonb_agg(jsonb_build_object(
            'id', h.id, 'at', extract(epoch FROM h.at)::bigint,
            'event', h.event, 'actor', h.actor, 'outcome', h.outcome,
            'details', h.details) ORDER BY h.id)
            FROM h WHERE h.target = a.username), '[]'::jsonb))
        ORDER BY a.id)
        FROM audit.account_review_accounts(p_half, p_tz) a), '[]'::jsonb),
    'signoff', audit.review_state(p_half, p_tz))
  FROM audit.period_bounds(p_half, p_tz) b;
$$;

-- --- 4. sign-off and confirmation (015), for either kind ---------------------------

CREATE OR REPLACE FUNCTION audit.review_signoff(p_token bytea, p_source inet,
    p_week text, p_tz text, p_comment text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b	record;
	u	auth.users%ROWTYPE;
	v_sha	text;
BEGIN
	u := auth.actor(p_token, ARRAY['auditor'], false);
	SELECT * INTO b FROM audit.period_bounds(p_week, p_tz);
	IF now() < b.to_at THEN
		RETURN CASE WHEN substr(p_week, 6, 1) = 'H'
		    THEN 'period_not_finished' ELSE 'week_not_finished' END;
	END IF;
	v_sha := audit.period_digest(p_week, p_tz);
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

CREATE OR REPLACE FUNCTION audit.review_confirm(p_token bytea, p_source inet,
    p_week text, p_tz text, p_comment text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	u	auth.users%ROWTYPE;
	r	audit.reviews%ROWTYPE;
	v_why	text;
BEGIN
	u := auth.actor(p_token, ARRAY['auditor', 'admin'], false);
	PERFORM audit.period_bounds(p_week, p_tz);
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
	    audit.period_digest(p_week, coalesce(r.timezone, p_tz)) THEN
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

REVOKE ALL ON FUNCTION auth.disable_inactive(integer),
    audit.half_bounds(text, text), audit.period_bounds(text, text),
    audit.account_review_accounts(text, text),
    audit.account_review_history(text, text),
    audit.account_review_digest(text, text),
    audit.period_digest(text, text),
    audit.account_review_json(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.disable_inactive(integer) TO pc_auth;
GRANT EXECUTE ON FUNCTION audit.half_bounds(text, text),
    audit.period_bounds(text, text),
    audit.account_review_accounts(text, text),
    audit.account_review_history(text, text),
    audit.account_review_digest(text, text),
    audit.period_digest(text, text),
    audit.account_review_json(text, text) TO pc_auditor, pc_auth;

RESET ROLE;
REVOKE CREATE ON SCHEMA auth, audit FROM pc_api;
