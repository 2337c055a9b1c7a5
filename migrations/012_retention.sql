-- 012_retention.sql: purging events older than the retention period,
-- the one documented way rows leave the trail.
--
-- Events are kept at least 12 months. `payconsole-admin audit purge`
-- verifies the chain, exports the sealed range it is about to remove
-- (JSON lines with each event's chain link) and, in the same snapshot,
-- calls audit.purge(), which deletes exactly that range, keeps the last
-- removed link as the anchor the chain continues from, and records
-- itself (audit.purged). The chain of what remains verifies from the
-- anchor; the export verifies from its own first prev_hash.

CREATE TABLE audit.purges (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	purged_at	timestamptz NOT NULL DEFAULT now(),
	actor		text NOT NULL,
	before		timestamptz NOT NULL,
	through_event	bigint NOT NULL,
	anchor_hash	bytea NOT NULL CHECK (length(anchor_hash) = 32),
	events		bigint NOT NULL,
	export_sha256	text NOT NULL CHECK (export_sha256 ~ '^[0-9a-f]{64}$'),
	export_file	text NOT NULL
);

CREATE FUNCTION audit.refuse_always() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '%.% is append-only (% refused)', TG_TABLE_SCHEMA,
	    TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER purges_append_only BEFORE UPDATE OR DELETE ON audit.purges
	FOR EACH ROW EXECUTE FUNCTION audit.refuse_always();
CREATE TRIGGER purges_no_truncate BEFORE TRUNCATE ON audit.purges
	FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_always();
GRANT SELECT ON audit.purges TO pc_auditor, pc_ops;

-- Where the chain continues from after purges: the last removed link.
CREATE FUNCTION audit.chain_anchor(OUT hash bytea, OUT through_event bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT coalesce((SELECT p.anchor_hash FROM audit.purges p
	    ORDER BY p.id DESC LIMIT 1), decode(repeat('00', 32), 'hex')),
	    coalesce((SELECT p.through_event FROM audit.purges p
	    ORDER BY p.id DESC LIMIT 1), 0);
$$;

-- The range a purge of everything before p_before removes: the longest
-- run of sealed events, from the oldest, all older than p_before.
-- Refused for anything younger than 12 months.
CREATE FUNCTION audit.purge_range(p_before timestamptz,
    OUT through_event bigint, OUT events bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_first_young	bigint;
	v_last_sealed	bigint;
BEGIN
	IF p_before > now() - interval '12 months' THEN
		RAISE EXCEPTION 'events are kept at least 12 months: % is too '
		    'recent', p_before USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT min(e.id) INTO v_first_young FROM audit.events e
	 WHERE e.at >= p_before;
	SELECT max(c.event_id) INTO v_last_sealed FROM audit.chain c;
	through_event := least(coalesce(v_first_young - 1,
	    (SELECT max(e.id) FROM audit.events e)), coalesce(v_last_sealed, 0));
	through_event := greatest(coalesce(through_event, 0),
	    (audit.chain_anchor()).through_event);
	SELECT count(*) INTO events FROM audit.events e
	 WHERE e.id <= through_event;
END;
$$;

-- The export of a range: one JSON object per event, with its chain link
-- and its time in microseconds (what the digest covers), in id order.
CREATE FUNCTION audit.export_range(p_through bigint)
RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT jsonb_build_object('id', e.id, 'at', e.at,
	    'at_us', (extract(epoch FROM e.at) * 1000000)::bigint,
	    'actor_id', e.actor_id, 'actor_name', e.actor_name,
	    'actor_role', e.actor_role, 'source', e.source::text,
	    'event', e.event, 'target', e.target, 'outcome', e.outcome,
	    'details', e.details, 'seq', c.seq,
	    'prev_hash', encode(c.prev_hash, 'hex'),
	    'hash', encode(c.hash, 'hex'))::text
	  FROM audit.events e JOIN audit.chain c ON c.event_id = e.id
	 WHERE e.id <= p_through AND e.id > (audit.chain_anchor()).through_event
	 ORDER BY e.id;
$$;

CREATE FUNCTION audit.purge(p_before timestamptz, p_through bigint,
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

	-- The trigger lets the owner delete only inside this procedure.
	PERFORM set_config('payconsole.retention', 'purge', true);
	DELETE FROM audit.chain WHERE event_id <= p_through;
	DELETE FROM audit.events WHERE id <= p_through;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	PERFORM set_config('payconsole.retention', '', true);

	INSERT INTO audit.purges (actor, before, through_event, anchor_hash,
	    events, export_sha256, export_file)
	VALUES (p_actor, p_before, p_through, v_hash, v_n, p_export_sha256,
	    p_export_file);
	PERFORM audit.record(NULL, p_actor, 'cli', NULL, 'audit.purged',
	    'audit.events', 'success', jsonb_build_object(
	        'through_event', p_through, 'events', v_n,
	        'before', p_before, 'export_sha256', p_export_sha256,
	        'export_file', p_export_file));
	RETURN v_n;
END;
$$;

-- Sealing and verification continue from the anchor once the start of
-- the chain has been purged.
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
	    AND ev.at < clock_timestamp() - p_min_age
	    ORDER BY ev.id LIMIT p_max LOOP
		v_h := audit.event_digest(e, v_prev);
		INSERT INTO audit.chain (event_id, prev_hash, hash)
		VALUES (e.id, v_prev, v_h);
		v_prev := v_h;
		v_n := v_n + 1;
	END LOOP;
	RETURN v_n;
END;
$$;

CREATE OR REPLACE FUNCTION audit.verify()
RETURNS TABLE (intact boolean, checked bigint, last_event bigint,
    problem text, problem_event bigint, unsealed bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	c	audit.chain%ROWTYPE;
	e	audit.events%ROWTYPE;
	v_prev	bytea;
	v_n	bigint := 0;
	v_last	bigint;
	v_gap	bigint;
BEGIN
	SELECT a.hash, a.through_event INTO v_prev, v_last
	  FROM audit.chain_anchor() a;
	FOR c IN SELECT * FROM audit.chain ORDER BY seq LOOP
		IF c.prev_hash <> v_prev THEN
			RETURN QUERY SELECT false, v_n, v_last,
			    'chain link missing before this event'::text,
			    c.event_id, NULL::bigint;
			RETURN;
		END IF;
		IF c.event_id <= v_last THEN
			RETURN QUERY SELECT false, v_n, v_last, 'reordered'::text,
			    c.event_id, NULL::bigint;
			RETURN;
		END IF;
		SELECT * INTO e FROM audit.events WHERE id = c.event_id;
		IF NOT FOUND THEN
			RETURN QUERY SELECT false, v_n, v_last, 'missing'::text,
			    c.event_id, NULL::bigint;
			RETURN;
		END IF;
		IF audit.event_digest(e, v_prev) <> c.hash THEN
			RETURN QUERY SELECT false, v_n, v_last, 'altered'::text,
			    c.event_id, NULL::bigint;
			RETURN;
		END IF;
		v_prev := c.hash;
		v_last := c.event_id;
		v_n := v_n + 1;
	END LOOP;
	SELECT min(ev.id) INTO v_gap FROM audit.events ev
	 WHERE ev.id <= v_last AND NOT EXISTS (SELECT 1 FROM audit.chain ch
	     WHERE ch.event_id = ev.id);
	IF v_gap IS NOT NULL THEN
		RETURN QUERY SELECT false, v_n, v_last, 'unchained'::text,
		    v_gap, NULL::bigint;
		RETURN;
	END IF;
	RETURN QUERY SELECT true, v_n, v_last, NULL::text, NULL::bigint,
	    (SELECT count(*) FROM audit.events ev WHERE ev.id > v_last);
END;
$$;

REVOKE ALL ON FUNCTION audit.chain_anchor, audit.purge_range,
    audit.export_range, audit.purge FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.chain_anchor TO pc_auditor, pc_ops, pc_auth;
GRANT EXECUTE ON FUNCTION audit.purge_range, audit.export_range, audit.purge
    TO pc_ops;
