-- 013_audit_hardening.sql: fixes from the security review of the access
-- review and retention work.
--
-- 1. Runtime roles write the trail only through audit.record(): the
--    table-wide INSERT let a role choose `at` (back-date an event into a
--    signed week) or `id` (OVERRIDING SYSTEM VALUE: an id far ahead
--    stops the sealer). pc_ops (the CLI) keeps INSERT on the columns
--    that carry no time or order.
-- 2. Deleting from the trail needs the purge procedure itself: the
--    trigger now also requires that the deleting code runs as the owner
--    on behalf of another session user (the SECURITY DEFINER function),
--    and that an event is older than 12 months. audit.purges takes rows
--    only the same way. Setting payconsole.retention by hand no longer
--    opens anything.
-- 3. A sign-off holds the SHA-256 of the figures it signed; confirming a
--    week whose figures changed since is refused (review_changed).
-- 4. The confirming person must not be the one who created the signer's
--    account, reset its password, enrolled its device or changed its
--    role: otherwise one admin could sign through an account they made.
-- 5. The review lists login figures per known account; names typed at
--    the login form that match no account (often a password typed in
--    the wrong field) are counted under "(unknown)".
-- 6. audit.purges records the database session user beside the actor
--    the CLI names.

REVOKE INSERT ON audit.events FROM pc_auth, pc_payments, pc_ops;
GRANT INSERT (actor_id, actor_name, actor_role, source, event, target,
    outcome, details) ON audit.events TO pc_ops;

CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE'
	    AND current_setting('payconsole.retention', true) = 'purge'
	    AND current_user = 'pc_owner' AND session_user <> current_user THEN
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

ALTER TABLE audit.purges ADD COLUMN session_role text NOT NULL
    DEFAULT session_user;

CREATE FUNCTION audit.purges_insert_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('payconsole.retention', true) = 'purge'
	    AND current_user = 'pc_owner' AND session_user <> current_user THEN
		NEW.session_role := session_user;
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'audit.purges takes rows only from audit.purge()'
	    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER purges_insert_guard BEFORE INSERT ON audit.purges
	FOR EACH ROW EXECUTE FUNCTION audit.purges_insert_guard();

-- The purge keeps the retention setting until its record is written.
CREATE OR REPLACE FUNCTION audit.purge(p_before timestamptz, p_through bigint,
    p_export_sha256 text, p_export_file text, p_actor text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	r	record;
	v	record;
	v_hash	bytea;
	v_n	bigint;
BEGIN
	SELECT * INTO r FROM audit.purge_range(p_before);
	IF r.through_event <> p_through THEN
		RAISE EXCEPTION 'the range changed since it was exported'
		    USING ERRCODE = 'serialization_failure';
	END IF;
	SELECT * INTO v FROM audit.verify();
	IF NOT v.intact THEN
		RAISE EXCEPTION 'the audit chain is broken at event %: nothing '
		    'is purged', v.problem_event
		    USING ERRCODE = 'data_corrupted';
	END IF;
	SELECT c.hash INTO v_hash FROM audit.chain c
	 WHERE c.event_id = p_through;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;

	PERFORM set_config('payconsole.retention', 'purge', true);
	DELETE FROM audit.chain WHERE event_id <= p_through;
	DELETE FROM audit.events WHERE id <= p_through;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	INSERT INTO audit.purges (actor, before, through_event, anchor_hash,
	    events, export_sha256, export_file)
	VALUES (p_actor, p_before, p_through, v_hash, v_n, p_export_sha256,
	    p_export_file);
	PERFORM set_config('payconsole.retention', '', true);

	PERFORM audit.record(NULL, p_actor, 'cli', NULL, 'audit.purged',
	    'audit.events', 'success', jsonb_build_object(
	        'through_event', p_through, 'events', v_n,
	        'before', p_before, 'export_sha256', p_export_sha256,
	        'export_file', p_export_file, 'session_role', session_user));
	RETURN v_n;
END;
$$;

-- 5: login figures per known account; typed names of no account pooled.
CREATE OR REPLACE FUNCTION audit.review_rows(p_week text, p_tz text)
RETURNS TABLE (section text, item text, metric text, value bigint,
    at timestamptz, actor text, target text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
WITH b AS MATERIALIZED (
	SELECT * FROM audit.week_bounds(p_week, p_tz)
), ev AS MATERIALIZED (
	SELECT e.* FROM audit.events e, b
	 WHERE e.at >= b.from_at AND e.at < b.to_at
), logins AS (
	SELECT 1 AS ord, 'login'::text AS section,
	    CASE WHEN e.actor_id IS NULL THEN '(unknown)' ELSE e.target END
	        AS item, m.metric,
	    count(*) FILTER (WHERE e.event = m.event) AS value,
	    NULL::timestamptz AS at, NULL::text AS actor, NULL::text AS target,
	    m.ord AS sub
	  FROM ev e
	 CROSS JOIN (VALUES (1, 'successes', 'login.success'),
	     (2, 'failures', 'login.failure'), (3, 'lockouts', 'account.locked'))
	     AS m(ord, metric, event)
	 WHERE e.event IN ('login.success', 'login.failure', 'account.locked')
	   AND e.target IS NOT NULL
	 GROUP BY 3, m.ord, m.metric
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

-- 3: the digest of a week's figures: every row of the review, in order,
-- each as an unambiguous JSON array.
CREATE FUNCTION audit.review_digest(p_week text, p_tz text)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT encode(sha256(convert_to(coalesce(string_agg(
	    jsonb_build_array(x.section, x.item, x.metric, x.value,
	        extract(epoch FROM x.at), x.actor, x.target)::text, E'\n'
	    ORDER BY x.n), ''), 'UTF8')), 'hex')
	  FROM audit.review_rows(p_week, p_tz) WITH ORDINALITY
	      AS x(section, item, metric, value, at, actor, target, n);
$$;

ALTER TABLE audit.reviews ADD COLUMN figures_sha256 text,
    ADD COLUMN timezone text;

CREATE OR REPLACE FUNCTION audit.reviews_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'UPDATE' OR OLD.confirmed_by IS NOT NULL
	    OR NEW.week <> OLD.week OR NEW.signed_off_by <> OLD.signed_off_by
	    OR NEW.signed_off_name <> OLD.signed_off_name
	    OR NEW.signed_off_at <> OLD.signed_off_at
	    OR NEW.signoff_comment <> OLD.signoff_comment
	    OR NEW.figures_sha256 IS DISTINCT FROM OLD.figures_sha256
	    OR NEW.timezone IS DISTINCT FROM OLD.timezone THEN
		RAISE EXCEPTION 'audit.reviews is append-only'
		    USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION audit.review_signoff(p_week text, p_tz text,
    p_actor bigint, p_source inet, p_comment text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b	record;
	u	record;
	v_sha	text;
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

CREATE OR REPLACE FUNCTION audit.review_confirm(p_week text, p_tz text,
    p_actor bigint, p_source inet, p_comment text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b	record;
	u	record;
	r	audit.reviews%ROWTYPE;
	v_why	text;
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
		v_why := 'same_person';
	ELSIF EXISTS (SELECT 1 FROM audit.events e, auth.users s
	    WHERE s.id = r.signed_off_by AND e.actor_id = u.id
	      AND e.target = s.username AND e.outcome = 'success'
	      AND e.event IN ('user.created', 'user.password_reset',
	          'otp.enrolment_started', 'user.role_changed')) THEN
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

-- The state says when the figures no longer match what was signed.
CREATE OR REPLACE FUNCTION audit.review_state(p_week text, p_tz text)
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
    'overdue', now() >= b.to_at AND r.confirmed_at IS NULL,
    'changed_since_signoff', CASE WHEN r.week IS NULL THEN false
        ELSE r.figures_sha256 IS DISTINCT FROM audit.review_digest(p_week,
            coalesce(r.timezone, p_tz)) END)
  FROM audit.week_bounds(p_week, p_tz) b
  LEFT JOIN audit.reviews r ON r.week = p_week;
$$;

REVOKE ALL ON FUNCTION audit.review_digest FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.review_digest TO pc_auditor, pc_auth;

-- 7. The sealer links a prefix of the trail: it stops at the first event
--    younger than p_min_age instead of stepping over it, so an event
--    with a later id and an earlier time (written by the superuser, or a
--    clock step) can never leave a younger one unchained behind it.
CREATE OR REPLACE FUNCTION audit.seal(p_min_age interval DEFAULT
    interval '60 seconds', p_max integer DEFAULT 10000)
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
