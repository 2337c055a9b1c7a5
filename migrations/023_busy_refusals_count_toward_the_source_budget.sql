-- 023_busy_refusals_count_toward_the_source_budget.sql: a login refused
-- for lack of a hashing slot costs its source (issue 15, part 3).
--
-- Before, a 429 "no hashing slot" was no failure: 64 clients from 200
-- addresses kept every slot busy, every attempt of theirs waited its
-- second and was refused, and none of them ever reached the per-source
-- block, so the storm held the queue for as long as it lasted. Now the
-- server charges such refusals to their source (auth.source_busy(),
-- a few at a time per worker, as they happen): each counts
-- source_busy_weight failures in the source's window, and at
-- source_fail_threshold the source is blocked exactly as by failed
-- logins (source.blocked, alert blocked_source; the details say how
-- many refusals of the window were busy ones and their weight). A
-- blocked source is then answered from its reserve row, before it waits
-- for a slot. Exempt sources are never charged.
--
-- source_blocks keeps the busy refusals of the current window
-- (busy_refusals, reset with the window and by a block) and the weight
-- they were charged at.

ALTER TABLE auth.source_blocks
    ADD COLUMN busy_refusals integer NOT NULL DEFAULT 0,
    ADD COLUMN busy_weight integer NOT NULL DEFAULT 0;

GRANT CREATE ON SCHEMA auth TO pc_api;
SET ROLE pc_api;

-- The policy's bounds on the per-source numbers (policy.c), whatever
-- the caller says.
CREATE FUNCTION auth.source_bounds(INOUT threshold integer,
    INOUT win integer, INOUT blk integer)
LANGUAGE sql IMMUTABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT least(greatest(coalesce(threshold, 20), 1), 1000),
	    least(greatest(coalesce(win, 600), 10), 86400),
	    least(greatest(coalesce(blk, 900), 10), 86400);
$$;

-- Charge a source p_cost failures, p_busy of them busy refusals at
-- p_busy_weight each, within its window; at the threshold, block it
-- (audited and alerted). Returns the end of the block it started, or
-- NULL.
CREATE FUNCTION auth.source_charge(p_source inet, p_cost integer,
    p_busy integer, p_busy_weight integer, p_src_threshold integer,
    p_src_window integer, p_src_block integer)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b		record;
	r		auth.source_blocks%ROWTYPE;
	v_details	jsonb;
BEGIN
	b := auth.source_bounds(p_src_threshold, p_src_window, p_src_block);
	INSERT INTO auth.source_blocks AS s (source, failures, window_start,
	    busy_refusals, busy_weight)
	VALUES (p_source, p_cost, now(), p_busy, p_busy_weight)
	ON CONFLICT (source) DO UPDATE SET
	    failures = CASE WHEN s.window_start <
	        now() - make_interval(secs => b.win)
	        THEN 0 ELSE s.failures END + p_cost,
	    busy_refusals = CASE WHEN s.window_start <
	        now() - make_interval(secs => b.win)
	        THEN 0 ELSE s.busy_refusals END + p_busy,
	    busy_weight = CASE WHEN p_busy > 0 THEN p_busy_weight
	        ELSE s.busy_weight END,
	    window_start = CASE WHEN s.window_start <
	        now() - make_interval(secs => b.win)
	        THEN now() ELSE s.window_start END
	RETURNING * INTO r;
	IF r.failures < b.threshold THEN
		RETURN NULL;
	END IF;
	UPDATE auth.source_blocks SET failures = 0, busy_refusals = 0,
	    window_start = now(),
	    blocked_until = now() + make_interval(secs => b.blk)
	 WHERE source = p_source
	 RETURNING blocked_until INTO r.blocked_until;
	v_details := jsonb_build_object('seconds', b.blk, 'failures',
	    r.failures);
	IF r.busy_refusals > 0 THEN
		v_details := v_details || jsonb_build_object('busy_refusals',
		    r.busy_refusals, 'busy_weight', r.busy_weight);
	END IF;
	PERFORM audit.record(NULL, NULL, NULL, p_source, 'source.blocked',
	    host(p_source), 'denied', v_details, 'blocked_source', 'alert');
	RETURN r.blocked_until;
END;
$$;

-- 022's rule, the block now one step shared with busy refusals.
CREATE OR REPLACE FUNCTION auth.source_failed(p_event bigint,
    p_user_id bigint, p_source inet, p_reason text,
    p_src_threshold integer, p_src_window integer, p_src_block integer,
    p_source_exempt boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b		record;
	v_accounts	integer;
BEGIN
	IF p_source IS NULL THEN
		RETURN;
	END IF;
	b := auth.source_bounds(p_src_threshold, p_src_window, p_src_block);

	IF p_user_id IS NOT NULL THEN
		INSERT INTO auth.source_accounts AS a (source, user_id,
		    last_failure_at) VALUES (p_source, p_user_id, now())
		ON CONFLICT (source, user_id) DO UPDATE
		    SET last_failure_at = now();
		DELETE FROM auth.source_accounts WHERE source = p_source
		   AND last_failure_at < now() - make_interval(secs => b.win);
		SELECT count(*) INTO v_accounts FROM auth.source_accounts
		 WHERE source = p_source;
		IF v_accounts >= 5 THEN
			PERFORM audit.raise('source_many_accounts', 'warning',
			    'source:' || host(p_source), ARRAY[p_event]);
		END IF;
	END IF;

	IF p_reason = 'source_blocked' OR coalesce(p_source_exempt, false) THEN
		RETURN;
	END IF;
	PERFORM auth.source_charge(p_source, 1, 0, 0, b.threshold, b.win,
	    b.blk);
END;
$$;

-- p_count logins from p_source refused for lack of a hashing slot (the
-- server sends them as they happen, a few at a time): each costs
-- p_weight (policy source_busy_weight) failures. Nothing for an exempt
-- source or a weight of 0; a source already blocked is not charged
-- again. Returns the end of the source's block, NULL if none.
CREATE FUNCTION auth.source_busy(p_source inet, p_count integer,
    p_weight integer, p_src_threshold integer, p_src_window integer,
    p_src_block integer, p_source_exempt boolean)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	b	record;
	v_until	timestamptz;
BEGIN
	IF p_source IS NULL OR coalesce(p_source_exempt, false) OR
	    coalesce(p_weight, 0) <= 0 OR coalesce(p_count, 0) <= 0 THEN
		RETURN NULL;
	END IF;
	b := auth.source_bounds(p_src_threshold, p_src_window, p_src_block);
	p_weight := least(p_weight, 1000);
	p_count := least(p_count, 1000000);
	SELECT blocked_until INTO v_until FROM auth.source_blocks
	 WHERE source = p_source AND blocked_until > now() FOR UPDATE;
	IF FOUND THEN
		RETURN v_until;
	END IF;
	RETURN auth.source_charge(p_source,
	    least(p_count::bigint * p_weight, b.threshold)::integer, p_count,
	    p_weight, b.threshold, b.win, b.blk);
END;
$$;
REVOKE ALL ON FUNCTION auth.source_busy(inet, integer, integer, integer,
    integer, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.source_busy(inet, integer, integer, integer,
    integer, integer, boolean) TO pc_auth;

-- The steps are private to the functions above.
REVOKE ALL ON FUNCTION auth.source_bounds(integer, integer, integer),
    auth.source_charge(inet, integer, integer, integer, integer, integer,
        integer)
    FROM PUBLIC;

RESET ROLE;
REVOKE CREATE ON SCHEMA auth FROM pc_api;
