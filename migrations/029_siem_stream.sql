-- 029_siem_stream.sql: the SIEM stream's cursor and its alarm
-- (issue 16, parts 2 and 4).
--
-- Worker 1 sends every sealed event, in chain order, as one RFC 5424
-- syslog message (src/siem.c). audit.siem_cursor holds the id of the
-- last event the sink acknowledged; the stream resumes after it, so an
-- event is sent at least once (the receiver deduplicates by id).
-- Sealed events only: the chain's sequence is what makes a gap visible
-- to the collector, and an event is final once it is linked.
--
-- syslog_down (scope 'control'): the sink took nothing for longer than
-- siem_down_seconds; cleared when a batch goes through.

INSERT INTO audit.alert_rules VALUES ('syslog_down', 'control', NULL);

CREATE TABLE audit.siem_cursor (
	one		boolean PRIMARY KEY DEFAULT true CHECK (one),
	last_event	bigint NOT NULL CHECK (last_event >= 0),
	acked_at	timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON audit.siem_cursor FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON audit.siem_cursor TO pc_api;
GRANT SELECT ON audit.siem_cursor TO pc_auditor;

GRANT CREATE ON SCHEMA audit TO pc_api;
SET ROLE pc_api;

-- Moves the cursor to p_ack (when it is ahead; never back) and returns
-- up to p_max sealed events after it, in chain order, with the time in
-- RFC 3339 UTC. p_ack NULL or 0: only the batch (a resend after the
-- sink failed). An ack beyond the sealed chain is refused: only what
-- was read from here can be acknowledged.
CREATE FUNCTION audit.siem_next(p_ack bigint, p_max integer)
RETURNS TABLE (seq bigint, id bigint, at text, actor_id bigint,
    actor_name text, actor_role text, source text, event text,
    target text, outcome text, details text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_cur	bigint;
BEGIN
	IF p_max IS NULL OR p_max < 1 OR p_max > 1000 OR p_ack < 0 THEN
		RAISE EXCEPTION 'siem_next: bad arguments'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- One streamer at a time: a second caller waits for the first.
	PERFORM pg_advisory_xact_lock(727274);
	SELECT c.last_event INTO v_cur FROM audit.siem_cursor c;
	IF v_cur IS NULL THEN
		INSERT INTO audit.siem_cursor (last_event) VALUES (0);
		v_cur := 0;
	END IF;
	IF coalesce(p_ack, 0) > v_cur THEN
		IF p_ack > coalesce((SELECT max(c.event_id)
		    FROM audit.chain c),
		    (SELECT a.through_event FROM audit.chain_anchor() a)) THEN
			RAISE EXCEPTION 'siem_next: % is not sealed yet',
			    p_ack USING ERRCODE = 'invalid_parameter_value';
		END IF;
		UPDATE audit.siem_cursor SET last_event = p_ack,
		    acked_at = now();
		v_cur := p_ack;
	END IF;
	RETURN QUERY
	SELECT c.seq, e.id,
	    to_char(e.at AT TIME ZONE 'UTC',
	        'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
	    e.actor_id, e.actor_name, e.actor_role, host(e.source), e.event,
	    e.target, e.outcome, e.details::text
	  FROM audit.chain c JOIN audit.events e ON e.id = c.event_id
	 WHERE c.event_id > v_cur
	 ORDER BY c.seq LIMIT p_max;
END;
$$;
REVOKE ALL ON FUNCTION audit.siem_next(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.siem_next(bigint, integer) TO pc_auth;

RESET ROLE;
REVOKE CREATE ON SCHEMA audit FROM pc_api;
