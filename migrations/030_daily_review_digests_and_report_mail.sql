-- 030_daily_review_digests_and_report_mail.sql: the automated daily
-- review (issue 16, part 3; PCI DSS 10.4.1) and the reports mailed to
-- several recipients.
--
-- 1. audit.digest_rules: what the daily review looks for, one row per
--    category, the one place each is decided. A row matches events by
--    type (or, with events NULL, the privileged events of
--    audit.privileged_events, approvals included), optionally by
--    outcome and by details->>'reason', and names the alert rule the
--    same events raise when there is one (the rules engine of 021: the
--    events that raise lockout, attempt_while_locked, outside_hours and
--    blocked_source are the ones counted here). Refunds just under the
--    approval threshold are refunds without an approval whose amount is
--    within 10% below the threshold in force (the policy's, capped by
--    meta.settings refund_approval_ceiling as payments.operate caps it).
-- 2. audit.daily_digests: one append-only row per site-local day, made
--    by worker 1 once the day has been over for 5 minutes (a statement
--    still running at midnight has committed by then), with the counts
--    and event ids per category, their SHA-256, and the newest signed
--    checkpoint at that time. Days are computed from the day of the
--    first event, at most 31 back; a day once computed is never
--    recomputed (audit.digest_due()).
-- 3. Sign-off: audit.reviews holds a day's name ('2026-11-28') in its
--    week column as it holds a half-year's (027); review_signoff,
--    review_state and period_bounds / period_digest know days. One
--    auditor signs a day off (no confirmation); a day whose digest
--    lists an event of the signer is refused (self_forbidden), as
--    audit.acknowledge() refuses an alert about one's own act. A day is
--    overdue when it ended more than 3 days ago unsigned (a weekend).
-- 4. Report mail: payconsole-admin reports mail (pc_ops) takes the
--    digests and finished weeks not yet delivered (audit.report_pending),
--    pipes each to the MTA's sendmail for every recipient at once, and
--    records the outcome (audit.report_delivered): a row of the
--    append-only audit.report_deliveries, a report.mailed event, and on
--    failure report.mail_failed with the alert report_mail_failed.

-- --- 1. categories ----------------------------------------------------------

CREATE TABLE audit.digest_rules (
	category	text PRIMARY KEY CHECK (category ~ '^[a-z_]{1,40}$'),
	ord		integer NOT NULL UNIQUE,
	-- NULL: every event of audit.privileged_events.
	events		text[],
	outcome		text,
	reasons		text[],
	near_threshold	boolean NOT NULL DEFAULT false,
	alert_rule	text
);
INSERT INTO audit.digest_rules VALUES
	('outside_hours', 1, '{login.outside_hours}', NULL, NULL, false,
	 'outside_hours'),
	('denied_sources', 2, '{connection.denied,connection.denied_repeatedly,'
	 'source.blocked}', NULL, NULL, false, 'blocked_source'),
	('lockouts', 3, '{account.locked}', NULL, NULL, false, 'lockout'),
	('attempts_on_locked', 4, '{login.failure}', NULL,
	 '{locked,source_blocked}', false, 'attempt_while_locked'),
	('privileged_changes', 5, NULL, NULL, NULL, false, NULL),
	('refunds_near_threshold', 6, '{transaction.refunded}', 'success',
	 NULL, true, NULL),
	('personal_data_exports', 7, '{transactions.exported,audit.purged}',
	 NULL, NULL, false, NULL),
	('self_acknowledgement', 8, '{alert.acknowledged}', 'denied',
	 '{own_action}', false, NULL);
REVOKE ALL ON audit.digest_rules FROM PUBLIC;
GRANT SELECT ON audit.digest_rules TO pc_api, pc_auditor, pc_auth, pc_ops;

-- --- 2. digests and deliveries ----------------------------------------------

CREATE TABLE audit.daily_digests (
	day			date PRIMARY KEY,
	timezone		text NOT NULL,
	threshold		bigint NOT NULL,
	computed_at		timestamptz NOT NULL DEFAULT now(),
	categories		jsonb NOT NULL,
	figures_sha256		text NOT NULL,
	checkpoint_seq		bigint,
	checkpoint_last_event	bigint,
	checkpoint_head		text,
	checkpoint_sha256	text
);
-- Creating a trigger takes EXECUTE on its function, which pc_api owns
-- and grants to nobody; for these four statements only (as 026).
SET ROLE pc_api;
GRANT EXECUTE ON FUNCTION audit.refuse_always() TO pc_owner;
RESET ROLE;
CREATE TRIGGER daily_digests_append_only BEFORE UPDATE OR DELETE
	ON audit.daily_digests FOR EACH ROW
	EXECUTE FUNCTION audit.refuse_always();
CREATE TRIGGER daily_digests_no_truncate BEFORE TRUNCATE
	ON audit.daily_digests FOR EACH STATEMENT
	EXECUTE FUNCTION audit.refuse_always();

CREATE TABLE audit.report_deliveries (
	id		bigserial PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('daily', 'weekly')),
	period		text NOT NULL,
	recipients	text[] NOT NULL,
	message_sha256	text NOT NULL CHECK (message_sha256 ~ '^[0-9a-f]{64}$'),
	ok		boolean NOT NULL,
	detail		text,
	actor		text NOT NULL,
	at		timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_deliveries_period ON audit.report_deliveries
	(kind, period) WHERE ok;
CREATE TRIGGER report_deliveries_append_only BEFORE UPDATE OR DELETE
	ON audit.report_deliveries FOR EACH ROW
	EXECUTE FUNCTION audit.refuse_always();
CREATE TRIGGER report_deliveries_no_truncate BEFORE TRUNCATE
	ON audit.report_deliveries FOR EACH STATEMENT
	EXECUTE FUNCTION audit.refuse_always();
SET ROLE pc_api;
REVOKE EXECUTE ON FUNCTION audit.refuse_always() FROM pc_owner;
RESET ROLE;

REVOKE ALL ON audit.daily_digests, audit.report_deliveries FROM PUBLIC;
REVOKE ALL ON SEQUENCE audit.report_deliveries_id_seq FROM PUBLIC;
GRANT SELECT, INSERT ON audit.daily_digests, audit.report_deliveries
    TO pc_api;
GRANT USAGE ON SEQUENCE audit.report_deliveries_id_seq TO pc_api;
GRANT SELECT ON audit.daily_digests, audit.report_deliveries
    TO pc_auditor, pc_auth, pc_ops;
INSERT INTO meta.personal_data VALUES
	('audit', 'report_deliveries', 'recipients', 'e-mail address',
	 'who received each mailed report');

INSERT INTO audit.alert_rules VALUES ('report_mail_failed', 'rule', 3600);

ALTER TABLE audit.reviews DROP CONSTRAINT reviews_week_check;
ALTER TABLE audit.reviews ADD CONSTRAINT reviews_week_check
	CHECK (week ~ '^[0-9]{4}-(W[0-9]{2}|H[12]|[01][0-9]-[0-3][0-9])$');

GRANT CREATE ON SCHEMA audit TO pc_api;
SET ROLE pc_api;

-- --- 3. the digest ----------------------------------------------------------

-- A site-local day's bounds; a day that does not exist is refused.
CREATE FUNCTION audit.day_bounds(p_day text, p_tz text,
    OUT first_day date, OUT from_at timestamptz, OUT to_at timestamptz)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
	IF p_day !~ '^(2[0-9]{3}|[3-9][0-9]{3})-[01][0-9]-[0-3][0-9]$' THEN
		RAISE EXCEPTION 'bad day' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	BEGIN
		first_day := make_date(substr(p_day, 1, 4)::integer,
		    substr(p_day, 6, 2)::integer, substr(p_day, 9, 2)::integer);
	EXCEPTION WHEN datetime_field_overflow OR invalid_parameter_value THEN
		RAISE EXCEPTION 'bad day' USING ERRCODE = 'invalid_parameter_value';
	END;
	from_at := first_day::timestamp AT TIME ZONE p_tz;
	to_at := (first_day + 1)::timestamp AT TIME ZONE p_tz;
END;
$$;

-- The refund approval threshold as payments.operate applies it.
CREATE FUNCTION audit.digest_threshold(p_threshold bigint)
RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT least(coalesce(p_threshold, s.ceiling), s.ceiling)
	  FROM (SELECT coalesce((SELECT value::bigint FROM meta.settings
	      WHERE key = 'refund_approval_ceiling'), 100000) AS ceiling) s;
$$;

-- Every event of the day in each category it falls in.
CREATE FUNCTION audit.digest_events(p_day text, p_tz text,
    p_threshold bigint)
RETURNS TABLE (category text, ord integer, alert_rule text, id bigint,
    at timestamptz, event text, actor_id bigint, actor text, target text,
    outcome text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT r.category, r.ord, r.alert_rule, e.id, e.at, e.event,
	       e.actor_id, e.actor_name, e.target, e.outcome
	  FROM audit.day_bounds(p_day, p_tz) b
	  JOIN audit.events e ON e.at >= b.from_at AND e.at < b.to_at
	  JOIN audit.digest_rules r ON CASE WHEN r.events IS NULL
	      THEN e.event IN (SELECT p.event FROM audit.privileged_events p)
	      ELSE e.event = ANY (r.events) END
	 WHERE (r.outcome IS NULL OR e.outcome = r.outcome)
	   AND (r.reasons IS NULL OR e.details->>'reason' = ANY (r.reasons))
	   AND (NOT r.near_threshold OR (NOT e.details ? 'approval'
	       AND CASE WHEN e.details->>'amount' ~ '^[0-9]{1,15}$'
	           THEN (e.details->>'amount')::bigint BETWEEN
	               p_threshold - p_threshold / 10 AND p_threshold
	           ELSE false END))
	 ORDER BY r.ord, e.id;
$$;

-- The figures: per category (all of them, in order) the count and the
-- first 500 event ids. Its text is what figures_sha256 hashes.
CREATE FUNCTION audit.digest_figures(p_day text, p_tz text,
    p_threshold bigint)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	WITH d AS MATERIALIZED (SELECT * FROM audit.digest_events(p_day, p_tz,
	    p_threshold))
	SELECT jsonb_agg(jsonb_build_object('category', r.category,
	    'alert_rule', r.alert_rule,
	    'count', (SELECT count(*) FROM d WHERE d.category = r.category),
	    'events', coalesce((SELECT jsonb_agg(x.id ORDER BY x.id) FROM (
	        SELECT d.id FROM d WHERE d.category = r.category
	         ORDER BY d.id LIMIT 500) x), '[]'::jsonb)) ORDER BY r.ord)
	  FROM audit.digest_rules r;
$$;

-- What a sign-off of a day covers: the day recomputed from the trail
-- with the threshold its digest used (NULL before the digest exists).
CREATE FUNCTION audit.digest_sha256(p_day text, p_tz text)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT encode(sha256(convert_to(audit.digest_figures(p_day,
	    coalesce(d.timezone, p_tz), d.threshold)::text, 'UTF8')), 'hex')
	  FROM audit.day_bounds(p_day, p_tz) b
	  JOIN audit.daily_digests d ON d.day = b.first_day;
$$;

-- The newest signed checkpoint: sequence, last event, head, and the
-- SHA-256 of its signed message (the next line's "prev").
CREATE FUNCTION audit.checkpoint_latest(OUT seq bigint, OUT last_event bigint,
    OUT head text, OUT sha256 text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT c.seq, c.last_event, encode(c.head, 'hex'),
	       encode(sha256(audit.checkpoint_message(c)), 'hex')
	  FROM audit.checkpoints c ORDER BY c.seq DESC LIMIT 1;
$$;

-- A finished day's digest, once; true when this call made it.
CREATE FUNCTION audit.digest_compute(p_day date, p_tz text,
    p_threshold bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_day	text := to_char(p_day, 'YYYY-MM-DD');
	v_thr	bigint := audit.digest_threshold(p_threshold);
	b	record;
	c	record;
	v_fig	jsonb;
	v_sha	text;
BEGIN
	SELECT * INTO b FROM audit.day_bounds(v_day, p_tz);
	IF now() < b.to_at + interval '5 minutes' THEN
		RAISE EXCEPTION 'day % has not ended', v_day
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF EXISTS (SELECT 1 FROM audit.daily_digests d WHERE d.day = p_day) THEN
		RETURN false;
	END IF;
	v_fig := audit.digest_figures(v_day, p_tz, v_thr);
	v_sha := encode(sha256(convert_to(v_fig::text, 'UTF8')), 'hex');
	SELECT * INTO c FROM audit.checkpoint_latest();
	INSERT INTO audit.daily_digests (day, timezone, threshold, categories,
	    figures_sha256, checkpoint_seq, checkpoint_last_event,
	    checkpoint_head, checkpoint_sha256)
	VALUES (p_day, p_tz, v_thr, v_fig, v_sha, c.seq, c.last_event, c.head,
	    c.sha256)
	ON CONFLICT (day) DO NOTHING;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM audit.record(NULL, 'payconsole', NULL, NULL,
	    'review.digest_computed', v_day, 'info',
	    jsonb_build_object('figures_sha256', v_sha,
	        'checkpoint_seq', c.seq, 'counts', (SELECT jsonb_object_agg(
	            x->>'category', (x->>'count')::bigint)
	          FROM jsonb_array_elements(v_fig) x)));
	RETURN true;
END;
$$;

-- Worker 1, every 10 s: the digests of the days that ended (5 minutes
-- ago or more) since the first event, at most 31 back; cheap when
-- yesterday's exists. Returns how many it made.
CREATE FUNCTION audit.digest_due(p_tz text, p_threshold bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_last	date;
	v_first	date;
	v_n	integer := 0;
	d	date;
BEGIN
	v_last := ((now() - interval '5 minutes') AT TIME ZONE p_tz)::date - 1;
	IF EXISTS (SELECT 1 FROM audit.daily_digests x WHERE x.day = v_last) THEN
		RETURN 0;
	END IF;
	v_first := greatest(((SELECT min(e.at) FROM audit.events e)
	    AT TIME ZONE p_tz)::date, v_last - 30);
	IF v_first IS NULL THEN
		RETURN 0;
	END IF;
	-- Worker 1 seals in the same statement: a fault here must not stop
	-- the seal. It is logged, and the next tick tries again.
	BEGIN
		FOR d IN SELECT g::date FROM generate_series(v_first::timestamp,
		    v_last::timestamp, interval '1 day') g LOOP
			IF audit.digest_compute(d, p_tz, p_threshold) THEN
				v_n := v_n + 1;
			END IF;
		END LOOP;
	EXCEPTION WHEN others THEN
		RAISE WARNING 'daily digest not made: %', SQLSTATE;
		RETURN -1;
	END;
	RETURN v_n;
END;
$$;

-- --- 4. periods: days beside weeks and half-years ------------------------------

CREATE OR REPLACE FUNCTION audit.period_bounds(p_period text, p_tz text,
    OUT first_day date, OUT last_day date, OUT from_at timestamptz,
    OUT to_at timestamptz)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
BEGIN
	IF length(p_period) = 10 THEN
		SELECT b.first_day, b.from_at, b.to_at
		  INTO first_day, from_at, to_at
		  FROM audit.day_bounds(p_period, p_tz) b;
		last_day := first_day;
	ELSIF substr(p_period, 6, 1) = 'H' THEN
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

CREATE OR REPLACE FUNCTION audit.period_digest(p_period text, p_tz text)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT CASE WHEN length(p_period) = 10
	    THEN audit.digest_sha256(p_period, p_tz)
	    WHEN substr(p_period, 6, 1) = 'H'
	    THEN audit.account_review_digest(p_period, p_tz)
	    ELSE audit.review_digest(p_period, p_tz) END;
$$;

-- A day is complete once signed off, overdue 3 days after its end.
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
    'complete', CASE WHEN k.day THEN r.week IS NOT NULL
        ELSE r.confirmed_at IS NOT NULL END,
    'overdue', CASE WHEN k.day
        THEN now() >= b.to_at + interval '3 days' AND r.week IS NULL
        ELSE now() >= b.to_at AND r.confirmed_at IS NULL END,
    'changed_since_signoff', CASE WHEN r.week IS NULL THEN false
        ELSE r.figures_sha256 IS DISTINCT FROM audit.period_digest(p_week,
            coalesce(r.timezone, p_tz)) END)
    || CASE WHEN k.day THEN jsonb_build_object('computed', EXISTS (
        SELECT 1 FROM audit.daily_digests d WHERE d.day = b.first_day))
        ELSE '{}'::jsonb END
  FROM (SELECT length(p_week) = 10 AS day) k,
       audit.period_bounds(p_week, p_tz) b
  LEFT JOIN audit.reviews r ON r.week = p_week;
$$;

-- Weeks as before, and the finished days of the last 31 since the first
-- event (newest first), each with its state.
CREATE OR REPLACE FUNCTION audit.review_list(p_tz text, p_weeks integer
    DEFAULT 12)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
WITH m AS (
	SELECT date_trunc('week', now() AT TIME ZONE p_tz)::date AS monday,
	    (now() AT TIME ZONE p_tz)::date AS today,
	    coalesce((SELECT min(e.at) FROM audit.events e) AT TIME ZONE p_tz,
	        now() AT TIME ZONE p_tz)::date AS first_day
)
SELECT jsonb_build_object('weeks', coalesce((SELECT jsonb_agg(
    audit.review_state(w.week, p_tz) ORDER BY w.n)
  FROM (SELECT n, to_char(m.monday - 7 * n, 'IYYY-"W"IW') AS week
	FROM m, generate_series(0, greatest(least(p_weeks, 104), 1) - 1) n
	WHERE m.monday - 7 * n + 6 >= m.first_day) w), '[]'::jsonb),
    'days', coalesce((SELECT jsonb_agg(
    audit.review_state(to_char(m.today - n, 'YYYY-MM-DD'), p_tz) ORDER BY n)
  FROM m, generate_series(1, 31) n WHERE m.today - n >= m.first_day),
    '[]'::jsonb))
  FROM m;
$$;

-- One day's digest as one JSON document (the API's answer): the stored
-- figures with each listed event, or, before it is made, the figures
-- as they stand (computed false).
CREATE FUNCTION audit.digest_json(p_day text, p_tz text, p_threshold bigint)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
WITH b AS (SELECT * FROM audit.day_bounds(p_day, p_tz)),
s AS (SELECT d.* FROM b JOIN audit.daily_digests d ON d.day = b.first_day),
f AS (SELECT coalesce((SELECT s.categories FROM s),
    audit.digest_figures(p_day, p_tz, audit.digest_threshold(p_threshold)))
    AS fig),
ev AS MATERIALIZED (SELECT e.id, e.at, e.event, e.actor_name, e.target,
    e.outcome FROM audit.events e WHERE e.id IN (SELECT jsonb_array_elements(
        x->'events')::text::bigint FROM f, jsonb_array_elements(f.fig) x))
SELECT jsonb_build_object(
    'day', p_day, 'timezone', coalesce((SELECT s.timezone FROM s), p_tz),
    'computed', EXISTS (SELECT 1 FROM s),
    'computed_at', (SELECT extract(epoch FROM s.computed_at)::bigint FROM s),
    'refund_approval_threshold', coalesce((SELECT s.threshold FROM s),
        audit.digest_threshold(p_threshold)),
    'figures_sha256', (SELECT s.figures_sha256 FROM s),
    'changed_since_computed', coalesce((SELECT s.figures_sha256 IS DISTINCT
        FROM audit.digest_sha256(p_day, p_tz) FROM s), false),
    'checkpoint', (SELECT CASE WHEN s.checkpoint_seq IS NULL THEN NULL
        ELSE jsonb_build_object('seq', s.checkpoint_seq,
        'last_event', s.checkpoint_last_event, 'head', s.checkpoint_head,
        'sha256', s.checkpoint_sha256) END FROM s),
    'categories', (SELECT jsonb_agg(x || jsonb_build_object('rows',
        coalesce((SELECT jsonb_agg(jsonb_build_object('id', ev.id,
            'at', extract(epoch FROM ev.at)::bigint, 'event', ev.event,
            'actor', ev.actor_name, 'target', ev.target,
            'outcome', ev.outcome) ORDER BY ev.id) FROM ev
          WHERE ev.id IN (SELECT jsonb_array_elements(x->'events')::text::
              bigint)), '[]'::jsonb)) ORDER BY n)
        FROM f, jsonb_array_elements(f.fig) WITH ORDINALITY AS a(x, n)),
    'signoff', audit.review_state(p_day, p_tz))
  FROM b;
$$;

-- --- 5. sign-off ------------------------------------------------------------

-- 027's, with days: a day needs its digest, and nobody signs off a day
-- whose digest lists an act of their own.
CREATE OR REPLACE FUNCTION audit.review_signoff(p_token bytea, p_source inet,
    p_week text, p_tz text, p_comment text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b	record;
	u	auth.users%ROWTYPE;
	d	audit.daily_digests%ROWTYPE;
	v_sha	text;
BEGIN
	u := auth.actor(p_token, ARRAY['auditor'], false);
	SELECT * INTO b FROM audit.period_bounds(p_week, p_tz);
	IF now() < b.to_at THEN
		RETURN CASE WHEN substr(p_week, 6, 1) = 'W'
		    THEN 'week_not_finished' ELSE 'period_not_finished' END;
	END IF;
	IF length(p_week) = 10 THEN
		SELECT * INTO d FROM audit.daily_digests x
		 WHERE x.day = b.first_day;
		IF NOT FOUND THEN
			RETURN 'digest_not_ready';
		END IF;
		IF EXISTS (SELECT 1 FROM audit.digest_events(p_week,
		    d.timezone, d.threshold) e WHERE e.actor_id = u.id) THEN
			PERFORM audit.record(u.id, u.username, u.role, p_source,
			    'review.signed_off', p_week, 'denied',
			    jsonb_build_object('reason', 'own_action'));
			RETURN 'self_forbidden';
		END IF;
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

-- --- 6. report mail ---------------------------------------------------------

-- A checkpoint as one line of a report.
CREATE FUNCTION audit.report_checkpoint_line(p_seq bigint, p_last bigint,
    p_head text, p_sha text)
RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT CASE WHEN p_seq IS NULL THEN 'none (no signed checkpoint yet)'
	    ELSE format('seq %s, last event %s, head %s, sha256 %s', p_seq,
	        p_last, p_head, p_sha) END;
$$;

-- A day's report: counts and event ids (20 to a line), no names.
CREATE FUNCTION audit.report_daily_text(p_day date)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT concat_ws(E'\n',
	    'payconsole automated daily review (PCI DSS 10.4.1)',
	    format('Day: %s (%s)', to_char(d.day, 'YYYY-MM-DD'), d.timezone),
	    format('Computed at: %s', to_char(d.computed_at AT TIME ZONE 'UTC',
	        'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
	    format('Refund approval threshold: %s', d.threshold),
	    format('Figures SHA-256: %s', d.figures_sha256),
	    '',
	    (SELECT string_agg(concat_ws(E'\n', format('%s: %s',
	        x->>'category', x->>'count'),
	        (SELECT string_agg('  events: ' || l.ids, E'\n' ORDER BY l.g)
	           FROM (SELECT i.g, string_agg(i.id, ' ' ORDER BY i.n) AS ids
	             FROM (SELECT v.id, v.n, (v.n - 1) / 20 AS g
	               FROM jsonb_array_elements_text(x->'events')
	                   WITH ORDINALITY AS v(id, n)) i GROUP BY i.g) l)),
	        E'\n' ORDER BY a.n)
	      FROM jsonb_array_elements(d.categories) WITH ORDINALITY AS a(x, n)),
	    '',
	    'Checkpoint at computation: ' || audit.report_checkpoint_line(
	        d.checkpoint_seq, d.checkpoint_last_event, d.checkpoint_head,
	        d.checkpoint_sha256),
	    'Latest checkpoint: ' || (SELECT audit.report_checkpoint_line(
	        c.seq, c.last_event, c.head, c.sha256)
	      FROM audit.checkpoint_latest() c),
	    'Sign-off: ' || coalesce((SELECT format('%s at %s', r.signed_off_name,
	        to_char(r.signed_off_at AT TIME ZONE 'UTC',
	        'YYYY-MM-DD"T"HH24:MI:SS"Z"')) FROM audit.reviews r
	      WHERE r.week = to_char(d.day, 'YYYY-MM-DD')), 'not yet'),
	    '')
	  FROM audit.daily_digests d WHERE d.day = p_day;
$$;

-- A week's summary: the review's totals, its digest and sign-off.
CREATE FUNCTION audit.report_weekly_text(p_week text, p_tz text)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	WITH t AS (SELECT x.metric, x.value FROM audit.review_rows(p_week, p_tz) x
	    WHERE x.section = 'total'),
	s AS (SELECT audit.review_state(p_week, p_tz) AS j)
	SELECT concat_ws(E'\n',
	    'payconsole weekly access review summary',
	    format('Week: %s (%s to %s, %s)', p_week, s.j->>'from', s.j->>'to',
	        p_tz),
	    '',
	    (SELECT string_agg(format('%s: %s', t.metric, t.value), E'\n')
	      FROM t),
	    '',
	    format('Figures SHA-256: %s', audit.review_digest(p_week, p_tz)),
	    'Latest checkpoint: ' || (SELECT audit.report_checkpoint_line(
	        c.seq, c.last_event, c.head, c.sha256)
	      FROM audit.checkpoint_latest() c),
	    'Sign-off: ' || coalesce(s.j->>'signed_off_by', 'not yet'),
	    'Confirmation: ' || coalesce(s.j->>'confirmed_by', 'not yet'),
	    '')
	  FROM s;
$$;

-- What payconsole-admin reports mail sends: the digests, and the
-- finished weeks among the last 4 since the first event, that no
-- delivery reached yet; with p_day, that day's digest alone (again).
CREATE FUNCTION audit.report_pending(p_tz text, p_day text)
RETURNS TABLE (kind text, period text, subject text, body text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT 'daily', to_char(d.day, 'YYYY-MM-DD'),
	       'payconsole daily review ' || to_char(d.day, 'YYYY-MM-DD'),
	       audit.report_daily_text(d.day)
	  FROM audit.daily_digests d
	 WHERE CASE WHEN p_day IS NOT NULL
	     THEN d.day = (SELECT b.first_day FROM audit.day_bounds(p_day,
	         p_tz) b)
	     ELSE NOT EXISTS (SELECT 1 FROM audit.report_deliveries r
	         WHERE r.kind = 'daily' AND r.ok
	           AND r.period = to_char(d.day, 'YYYY-MM-DD')) END
	UNION ALL
	SELECT 'weekly', w.week, 'payconsole weekly review ' || w.week,
	       audit.report_weekly_text(w.week, p_tz)
	  FROM (SELECT to_char(m.monday - 7 * n, 'IYYY-"W"IW') AS week
	    FROM (SELECT date_trunc('week', now() AT TIME ZONE p_tz)::date
	        AS monday, coalesce((SELECT min(e.at) FROM audit.events e)
	        AT TIME ZONE p_tz, now() AT TIME ZONE p_tz)::date AS first_day) m,
	        generate_series(1, 4) n
	   WHERE m.monday - 7 * n + 6 >= m.first_day) w
	 WHERE p_day IS NULL AND NOT EXISTS (SELECT 1
	     FROM audit.report_deliveries r
	    WHERE r.kind = 'weekly' AND r.ok AND r.period = w.week)
	 ORDER BY 1, 2;
$$;

-- One delivery's outcome, recorded and audited; a failure is an alert.
CREATE FUNCTION audit.report_delivered(p_actor text, p_kind text,
    p_period text, p_recipients text[], p_sha256 text, p_ok boolean,
    p_detail text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_id	bigint;
BEGIN
	IF p_actor !~ '^cli:[a-z_][a-z0-9_.-]{0,31}$' THEN
		RAISE EXCEPTION 'forbidden: % may not record a delivery', p_actor
		    USING ERRCODE = 'PCA03';
	END IF;
	INSERT INTO audit.report_deliveries (kind, period, recipients,
	    message_sha256, ok, detail, actor)
	VALUES (p_kind, p_period, p_recipients, p_sha256, p_ok,
	    left(p_detail, 200), p_actor)
	RETURNING id INTO v_id;
	PERFORM audit.record(NULL, p_actor, 'cli', NULL,
	    CASE WHEN p_ok THEN 'report.mailed' ELSE 'report.mail_failed' END,
	    p_kind || ' ' || p_period, CASE WHEN p_ok THEN 'success'
	        ELSE 'failure' END,
	    jsonb_build_object('delivery', v_id, 'recipients',
	        cardinality(p_recipients), 'message_sha256', p_sha256,
	        'detail', left(p_detail, 200)),
	    CASE WHEN NOT p_ok THEN 'report_mail_failed' END, 'alert');
	RETURN v_id;
END;
$$;

REVOKE ALL ON FUNCTION audit.day_bounds(text, text),
    audit.digest_threshold(bigint),
    audit.digest_events(text, text, bigint),
    audit.digest_figures(text, text, bigint),
    audit.digest_sha256(text, text), audit.checkpoint_latest(),
    audit.digest_compute(date, text, bigint),
    audit.digest_due(text, bigint), audit.digest_json(text, text, bigint),
    audit.report_checkpoint_line(bigint, bigint, text, text),
    audit.report_daily_text(date), audit.report_weekly_text(text, text),
    audit.report_pending(text, text),
    audit.report_delivered(text, text, text, text[], text, boolean, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.digest_due(text, bigint) TO pc_auth;
GRANT EXECUTE ON FUNCTION audit.day_bounds(text, text),
    audit.digest_threshold(bigint),
    audit.digest_events(text, text, bigint),
    audit.digest_figures(text, text, bigint),
    audit.digest_sha256(text, text), audit.checkpoint_latest(),
    audit.digest_json(text, text, bigint) TO pc_auditor, pc_auth;
GRANT EXECUTE ON FUNCTION audit.report_pending(text, text),
    audit.report_delivered(text, text, text, text[], text, boolean, text)
    TO pc_ops;

RESET ROLE;
REVOKE CREATE ON SCHEMA audit FROM pc_api;
