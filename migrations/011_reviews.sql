-- 011_reviews.sql: the weekly access review and its two-person sign-off.
--
-- The figures of a week come from one function, audit.review_rows(),
-- read straight from the trail (and the alerts); the JSON answer and the
-- CSV are both made from those rows, so they cannot disagree. A week is
-- the ISO week in the policy timezone, Monday 00:00 to the next Monday.
--
-- An auditor signs a finished week off with a comment; a second,
-- different person (auditor or admin) confirms it. Both steps are audited
-- in the same transaction; a sign-off is never changed or deleted.

CREATE TABLE audit.reviews (
	week		text PRIMARY KEY CHECK (week ~ '^[0-9]{4}-W[0-9]{2}$'),
	signed_off_by	bigint NOT NULL,
	signed_off_name	text NOT NULL,
	signed_off_at	timestamptz NOT NULL DEFAULT now(),
	signoff_comment	text NOT NULL,
	confirmed_by	bigint,
	confirmed_name	text,
	confirmed_role	text,
	confirmed_at	timestamptz,
	confirm_comment	text,
	CHECK (confirmed_by IS NULL OR confirmed_by <> signed_off_by),
	CHECK ((confirmed_by IS NULL) = (confirmed_at IS NULL))
);

-- Only the confirmation may be added, once; nothing is ever removed.
CREATE FUNCTION audit.reviews_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'UPDATE' OR OLD.confirmed_by IS NOT NULL
	    OR NEW.week <> OLD.week OR NEW.signed_off_by <> OLD.signed_off_by
	    OR NEW.signed_off_name <> OLD.signed_off_name
	    OR NEW.signed_off_at <> OLD.signed_off_at
	    OR NEW.signoff_comment <> OLD.signoff_comment THEN
		RAISE EXCEPTION 'audit.reviews is append-only'
		    USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER reviews_guard BEFORE UPDATE OR DELETE ON audit.reviews
	FOR EACH ROW EXECUTE FUNCTION audit.reviews_guard();
CREATE TRIGGER reviews_no_truncate BEFORE TRUNCATE ON audit.reviews
	FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
GRANT SELECT ON audit.reviews TO pc_auditor, pc_auth;

-- "2026-W47" in a timezone: its bounds, or an exception for a week that
-- does not exist (W53 of a 52-week year).
CREATE FUNCTION audit.week_bounds(p_week text, p_tz text,
    OUT first_day date, OUT from_at timestamptz, OUT to_at timestamptz)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_week !~ '^[0-9]{4}-W[0-9]{2}$' THEN
		RAISE EXCEPTION 'bad week' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	first_day := to_date(substr(p_week, 1, 4) || '-' || substr(p_week, 7, 2),
	    'IYYY-IW');
	IF to_char(first_day, 'IYYY-"W"IW') <> p_week THEN
		RAISE EXCEPTION 'bad week' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	from_at := first_day::timestamp AT TIME ZONE p_tz;
	to_at := (first_day + 7)::timestamp AT TIME ZONE p_tz;
END;
$$;

-- Every figure of the review as flat rows (section, item, metric, value,
-- and for privileged changes when, who and on whom). One statement, so
-- it runs in the auditor's read-only transaction.
CREATE FUNCTION audit.review_rows(p_week text, p_tz text)
RETURNS TABLE (section text, item text, metric text, value bigint,
    at timestamptz, actor text, target text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
WITH b AS MATERIALIZED (
	SELECT * FROM audit.week_bounds(p_week, p_tz)
), ev AS MATERIALIZED (
	SELECT e.* FROM audit.events e, b
	 WHERE e.at >= b.from_at AND e.at < b.to_at
), logins AS (
	SELECT 1 AS ord, 'login'::text AS section, e.target AS item, m.metric,
	    count(*) FILTER (WHERE e.event = m.event) AS value,
	    NULL::timestamptz AS at, NULL::text AS actor, NULL::text AS target,
	    m.ord AS sub
	  FROM ev e
	 CROSS JOIN (VALUES (1, 'successes', 'login.success'),
	     (2, 'failures', 'login.failure'), (3, 'lockouts', 'account.locked'))
	     AS m(ord, metric, event)
	 WHERE e.event IN ('login.success', 'login.failure', 'account.locked')
	   AND e.target IS NOT NULL
	 GROUP BY e.target, m.ord, m.metric
), totals AS (
	SELECT 2, 'total'::text, NULL::text, t.metric, t.n,
	    NULL::timestamptz, NULL::text, NULL::text, t.ord FROM (
	    SELECT 1 AS ord, 'logins'::text AS metric,
	        count(*) FILTER (WHERE e.event = 'login.success') AS n FROM ev e
	    UNION ALL SELECT 2, 'failures',
	        count(*) FILTER (WHERE e.event = 'login.failure') FROM ev e
	    UNION ALL SELECT 3, 'lockouts',
	        count(*) FILTER (WHERE e.event = 'account.locked') FROM ev e
	    UNION ALL SELECT 4, 'outside_hours',
	        count(*) FILTER (WHERE e.event = 'login.outside_hours') FROM ev e
	    UNION ALL SELECT 5, 'denied_connections', coalesce(sum(
	        (e.details->>'count')::bigint) FILTER
	        (WHERE e.event = 'connection.denied'), 0)::bigint FROM ev e
	    UNION ALL SELECT 6, 'alerts_raised', count(*) FROM audit.alerts a, b
	        WHERE a.first_seen >= b.from_at AND a.first_seen < b.to_at
	    UNION ALL SELECT 7, 'alerts_acknowledged', count(*)
	        FROM audit.alerts a, b WHERE a.acknowledged_at >= b.from_at
	          AND a.acknowledged_at < b.to_at) t
), denied AS (
	SELECT 3, 'denied_source'::text, host(e.source), 'connections'::text,
	    sum((e.details->>'count')::bigint)::bigint, NULL::timestamptz,
	    NULL::text, NULL::text,
	    row_number() OVER (ORDER BY sum((e.details->>'count')::bigint)
	        DESC, host(e.source))
	  FROM ev e
	 WHERE e.event = 'connection.denied' AND e.source IS NOT NULL
	 GROUP BY e.source
	 ORDER BY 5 DESC, 3 LIMIT 20
), daily AS (
	SELECT 4, 'daily'::text, d.day::date::text, m.metric,
	    coalesce(sum(CASE WHEN m.metric = 'denied'
	        THEN (e.details->>'count')::bigint ELSE 1 END)
	        FILTER (WHERE e.id IS NOT NULL), 0)::bigint,
	    NULL::timestamptz, NULL::text, NULL::text, m.ord
	  FROM b CROSS JOIN generate_series(b.first_day::timestamp,
	       b.first_day::timestamp + interval '6 days', interval '1 day')
	       AS d(day)
	 CROSS JOIN (VALUES (1, 'logins', 'login.success'),
	     (2, 'failures', 'login.failure'), (3, 'denied', 'connection.denied'),
	     (4, 'outside_hours', 'login.outside_hours')) AS m(ord, metric, event)
	  LEFT JOIN ev e ON e.event = m.event
	   AND (e.at AT TIME ZONE p_tz)::date = d.day::date
	 GROUP BY d.day, m.ord, m.metric
), changes AS (
	SELECT 5, 'privileged_change'::text, e.id::text, e.event, NULL::bigint,
	    e.at, e.actor_name, e.target, e.id
	  FROM ev e
	 WHERE e.event IN ('user.created', 'user.disabled', 'user.enabled',
	     'user.role_changed', 'user.password_reset',
	     'otp.enrolment_started', 'account.unlocked', 'sessions.revoked')
), ops AS (
	SELECT 6, 'operations'::text, e.actor_name, m.metric,
	    CASE WHEN m.metric = 'refund_total'
	        THEN coalesce(sum((e.details->>'amount')::bigint) FILTER
	            (WHERE e.event = 'transaction.refunded'), 0)::bigint
	        ELSE count(*) FILTER (WHERE e.event = m.event) END,
	    NULL::timestamptz, NULL::text, NULL::text, m.ord
	  FROM ev e
	 CROSS JOIN (VALUES (1, 'captures', 'transaction.captured'),
	     (2, 'cancels', 'transaction.cancelled'),
	     (3, 'refunds', 'transaction.refunded'),
	     (4, 'refund_total', '')) AS m(ord, metric, event)
	 WHERE e.event IN ('transaction.captured', 'transaction.cancelled',
	     'transaction.refunded') AND e.actor_name IS NOT NULL
	 GROUP BY e.actor_name, m.ord, m.metric
)
SELECT u.section, u.item, u.metric, u.value, u.at, u.actor, u.target
  FROM (SELECT * FROM logins UNION ALL SELECT * FROM totals
	UNION ALL SELECT * FROM denied UNION ALL SELECT * FROM daily
	UNION ALL SELECT * FROM changes UNION ALL SELECT * FROM ops) u
 ORDER BY u.ord, CASE WHEN u.section IN ('denied_source',
	'privileged_change') THEN NULL
	ELSE u.item END NULLS FIRST, u.sub;
$$;

-- Where a week stands: who signed off and confirmed, and whether it is
-- overdue (finished but without both).
CREATE FUNCTION audit.review_state(p_week text, p_tz text)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
SELECT jsonb_build_object(
    'week', p_week,
    'from', b.first_day::text, 'to', (b.first_day + 6)::text,
    'finished', now() >= b.to_at,
    'signed_off_by', r.signed_off_name,
    'signed_off_at', extract(epoch FROM r.signed_off_at)::bigint,
    'signoff_comment', r.signoff_comment,
    'confirmed_by', r.confirmed_name,
    'confirmed_at', extract(epoch FROM r.confirmed_at)::bigint,
    'confirm_comment', r.confirm_comment,
    'complete', r.confirmed_at IS NOT NULL,
    'overdue', now() >= b.to_at AND r.confirmed_at IS NULL)
  FROM audit.week_bounds(p_week, p_tz) b
  LEFT JOIN audit.reviews r ON r.week = p_week;
$$;

-- The same rows as one JSON document (the API's answer).
CREATE FUNCTION audit.review_json(p_week text, p_tz text)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
WITH o AS MATERIALIZED (SELECT * FROM audit.review_rows(p_week, p_tz)),
t AS (SELECT jsonb_object_agg(o.metric, o.value) AS j FROM o
	WHERE o.section = 'total')
SELECT jsonb_build_object(
    'week', p_week, 'timezone', p_tz,
    'from', b.first_day::text, 'to', (b.first_day + 6)::text,
    'failures', t.j->'failures', 'lockouts', t.j->'lockouts',
    'outside_hours', t.j->'outside_hours',
    'denied_connections', t.j->'denied_connections',
    'alerts', jsonb_build_object('raised', t.j->'alerts_raised',
        'acknowledged', t.j->'alerts_acknowledged'),
    'logins', coalesce((SELECT jsonb_agg(jsonb_build_object(
        'username', u.item, 'successes', u.s, 'failures', u.f,
        'lockouts', u.l) ORDER BY u.item) FROM (SELECT o.item,
        max(o.value) FILTER (WHERE o.metric = 'successes') AS s,
        max(o.value) FILTER (WHERE o.metric = 'failures') AS f,
        max(o.value) FILTER (WHERE o.metric = 'lockouts') AS l
        FROM o WHERE o.section = 'login' GROUP BY o.item) u), '[]'::jsonb),
    'totals', t.j,
    'denied_sources', coalesce((SELECT jsonb_agg(jsonb_build_object(
        'source', o.item, 'count', o.value) ORDER BY o.value DESC, o.item)
        FROM o WHERE o.section = 'denied_source'), '[]'::jsonb),
    'daily', (SELECT jsonb_agg(d.j ORDER BY d.day) FROM (
        SELECT o.item AS day, jsonb_build_object('date', o.item)
            || jsonb_object_agg(o.metric, o.value) AS j
        FROM o WHERE o.section = 'daily' GROUP BY o.item) d),
    'privileged_changes', coalesce((SELECT jsonb_agg(jsonb_build_object(
        'id', o.item::bigint, 'event', o.metric,
        'at', extract(epoch FROM o.at)::bigint,
        'actor', o.actor, 'target', o.target) ORDER BY o.item::bigint)
        FROM o WHERE o.section = 'privileged_change'), '[]'::jsonb),
    'operations', coalesce((SELECT jsonb_agg(jsonb_build_object(
        'operator', p.item, 'captures', p.c, 'cancels', p.x,
        'refunds', p.r, 'refund_total', p.t) ORDER BY p.item)
        FROM (SELECT o.item,
        max(o.value) FILTER (WHERE o.metric = 'captures') AS c,
        max(o.value) FILTER (WHERE o.metric = 'cancels') AS x,
        max(o.value) FILTER (WHERE o.metric = 'refunds') AS r,
        max(o.value) FILTER (WHERE o.metric = 'refund_total') AS t
        FROM o WHERE o.section = 'operations' GROUP BY o.item) p),
        '[]'::jsonb),
    'signoff', audit.review_state(p_week, p_tz))
  FROM t, audit.week_bounds(p_week, p_tz) b;
$$;

-- The list: the ISO weeks up to the current one, newest first, from the
-- week of the first recorded event (at most p_weeks), each with its
-- state; finished weeks without both signatures are overdue.
CREATE FUNCTION audit.review_list(p_tz text, p_weeks integer DEFAULT 12)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
WITH m AS (
	SELECT date_trunc('week', now() AT TIME ZONE p_tz)::date AS monday,
	    coalesce((SELECT min(e.at) FROM audit.events e) AT TIME ZONE p_tz,
	        now() AT TIME ZONE p_tz)::date AS first_day
)
SELECT jsonb_build_object('weeks', coalesce(jsonb_agg(
    audit.review_state(w.week, p_tz) ORDER BY w.n), '[]'::jsonb))
  FROM (SELECT n, to_char(m.monday - 7 * n, 'IYYY-"W"IW') AS week
	FROM m, generate_series(0, greatest(least(p_weeks, 104), 1) - 1) n
	WHERE m.monday - 7 * n + 6 >= m.first_day) w;
$$;

-- Step one: an auditor signs off a finished week.
CREATE FUNCTION audit.review_signoff(p_week text, p_tz text, p_actor bigint,
    p_source inet, p_comment text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b	record;
	u	record;
BEGIN
	SELECT * INTO b FROM audit.week_bounds(p_week, p_tz);
	SELECT id, username, role INTO u FROM auth.users
	 WHERE id = p_actor AND disabled_at IS NULL;
	IF NOT FOUND OR u.role <> 'auditor' THEN
		RAISE EXCEPTION 'forbidden' USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF now() < b.to_at THEN
		RETURN 'week_not_finished';
	END IF;
	INSERT INTO audit.reviews (week, signed_off_by, signed_off_name,
	    signoff_comment) VALUES (p_week, u.id, u.username, p_comment)
	ON CONFLICT (week) DO NOTHING;
	IF NOT FOUND THEN
		RETURN 'already_signed_off';
	END IF;
	PERFORM audit.record(u.id, u.username, u.role, p_source,
	    'review.signed_off', p_week, 'success',
	    jsonb_build_object('comment', p_comment));
	RETURN 'ok';
END;
$$;

-- Step two: a different auditor or an admin confirms it.
CREATE FUNCTION audit.review_confirm(p_week text, p_tz text, p_actor bigint,
    p_source inet, p_comment text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b	record;
	u	record;
	r	audit.reviews%ROWTYPE;
BEGIN
	SELECT * INTO b FROM audit.week_bounds(p_week, p_tz);
	SELECT id, username, role INTO u FROM auth.users
	 WHERE id = p_actor AND disabled_at IS NULL;
	IF NOT FOUND OR u.role NOT IN ('auditor', 'admin') THEN
		RAISE EXCEPTION 'forbidden' USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT * INTO r FROM audit.reviews WHERE week = p_week FOR UPDATE;
	IF NOT FOUND THEN
		RETURN 'not_signed_off';
	END IF;
	IF r.confirmed_by IS NOT NULL THEN
		RETURN 'already_confirmed';
	END IF;
	IF r.signed_off_by = u.id THEN
		PERFORM audit.record(u.id, u.username, u.role, p_source,
		    'review.confirmed', p_week, 'denied',
		    jsonb_build_object('reason', 'same_person'));
		RETURN 'same_person';
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

REVOKE ALL ON FUNCTION audit.week_bounds, audit.review_rows,
    audit.review_state, audit.review_json, audit.review_list,
    audit.review_signoff, audit.review_confirm FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.week_bounds, audit.review_rows,
    audit.review_state, audit.review_json, audit.review_list
    TO pc_auditor, pc_auth;
GRANT EXECUTE ON FUNCTION audit.review_signoff, audit.review_confirm
    TO pc_auth;
