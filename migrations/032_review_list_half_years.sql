-- 032_review_list_half_years.sql: GET /api/reviews lists the half-year
-- account reviews (PCI DSS 7.2.4, migration 027) beside the weeks and the
-- days, so an overdue one is seen where the others are: the current half
-- and the three before it that end after the trail's first event, newest
-- first, each with the state review_state() gives every period (a half
-- is overdue once it has ended without its confirmation).
GRANT CREATE ON SCHEMA audit TO pc_api;
SET ROLE pc_api;

CREATE OR REPLACE FUNCTION audit.review_list(p_tz text, p_weeks integer
    DEFAULT 12)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
WITH m AS (
	SELECT date_trunc('week', now() AT TIME ZONE p_tz)::date AS monday,
	    (now() AT TIME ZONE p_tz)::date AS today,
	    coalesce((SELECT min(e.at) FROM audit.events e) AT TIME ZONE p_tz,
	        now() AT TIME ZONE p_tz)::date AS first_day
), h AS (
	SELECT n, s AS starts, to_char(s, 'YYYY') || '-H' ||
	    CASE WHEN extract(month FROM s) = 1 THEN '1' ELSE '2' END AS half
	  FROM m, generate_series(0, 3) n,
	    LATERAL (SELECT (make_date(extract(year FROM m.today)::integer,
	        CASE WHEN extract(month FROM m.today) <= 6 THEN 1 ELSE 7 END,
	        1) - make_interval(months => 6 * n))::date AS s) x
	 WHERE (s + interval '6 months')::date > m.first_day
)
SELECT jsonb_build_object('weeks', coalesce((SELECT jsonb_agg(
    audit.review_state(w.week, p_tz) ORDER BY w.n)
  FROM (SELECT n, to_char(m.monday - 7 * n, 'IYYY-"W"IW') AS week
	FROM m, generate_series(0, greatest(least(p_weeks, 104), 1) - 1) n
	WHERE m.monday - 7 * n + 6 >= m.first_day) w), '[]'::jsonb),
    'days', coalesce((SELECT jsonb_agg(
    audit.review_state(to_char(m.today - n, 'YYYY-MM-DD'), p_tz) ORDER BY n)
  FROM m, generate_series(1, 31) n WHERE m.today - n >= m.first_day),
    '[]'::jsonb),
    'halves', coalesce((SELECT jsonb_agg(audit.review_state(h.half, p_tz)
        ORDER BY h.n) FROM h), '[]'::jsonb))
  FROM m;
$$;

RESET ROLE;
REVOKE CREATE ON SCHEMA audit FROM pc_api;
