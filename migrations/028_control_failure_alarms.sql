-- 028_control_failure_alarms.sql: alarms for failed security controls
-- (issue 16, part 4; PCI DSS 10.7.2).
--
-- A control-failure alarm is an alert that opens when a control fails
-- and clears when it works again, with both times kept:
--   first_seen  when the failure was first seen (for db_unreachable:
--               when the worker lost the database, reported later);
--   last_seen   the newest check that still saw it failing;
--   cleared_at  when a check saw it work again (NULL while it fails).
-- One alarm per rule and key ('*', or 'worker N' for db_unreachable) is
-- open at a time; acknowledging it does not clear it (only the control
-- working again does), and a cleared alarm stays listed until someone
-- acknowledges it. Opening and clearing each leave an audit record
-- (control.failed, control.cleared, target the rule); the alert lists
-- both.
--
-- Rules (scope 'control', no window):
--   sealing_stalled    the oldest unsealed event is older than 5 min
--   checkpoint_failed  a checkpoint round failed (src/checkpoint.c)
--   chain_broken       audit.verify() says the chain is not intact
--   clock_jump         the wall clock moved against the monotonic clock
--                      by more than 2 s between two checks (src/control.c)
--   db_unreachable     a worker had no database for more than 30 s
--   config_changed     the policy file (with its allowlist) on disk is
--                      not the one read at start
-- Worker 1 runs the checks (src/control.c); every worker reports its
-- own db_unreachable once the database is back.

ALTER TABLE audit.alerts ADD COLUMN cleared_at timestamptz;

ALTER TABLE audit.alert_rules DROP CONSTRAINT alert_rules_scope_check;
ALTER TABLE audit.alert_rules ADD CONSTRAINT alert_rules_scope_check
	CHECK (scope IN ('account', 'rule', 'key', 'control'));
INSERT INTO audit.alert_rules VALUES
	('sealing_stalled', 'control', NULL),
	('checkpoint_failed', 'control', NULL),
	('chain_broken', 'control', NULL),
	('clock_jump', 'control', NULL),
	('db_unreachable', 'control', NULL),
	('config_changed', 'control', NULL);

GRANT CREATE ON SCHEMA audit TO pc_api;
SET ROLE pc_api;

-- Opens the rule's alarm (failing, none open), clears it (not failing,
-- one open), or notes the check on the open one (failing, open: its
-- last_seen). p_since: when the failure began, if before now. Returns
-- whether the alarm is open afterwards.
CREATE FUNCTION audit.control_failure(p_rule text, p_failing boolean,
    p_details jsonb, p_key text DEFAULT '*', p_since timestamptz DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_key	text := coalesce(p_key, '*');
	v_id	bigint;
	v_ev	bigint;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM audit.alert_rules r
	    WHERE r.rule = p_rule AND r.scope = 'control')
	   OR p_failing IS NULL
	   OR v_key !~ '^(\*|worker [0-9]{1,4})$'
	   OR p_since > now() THEN
		RAISE EXCEPTION 'not a control-failure alarm'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- Two checks of one rule at once meet here, not in two alarms.
	PERFORM pg_advisory_xact_lock(727273, hashtext(p_rule || v_key));
	SELECT a.id INTO v_id FROM audit.alerts a
	 WHERE a.rule = p_rule AND a.key = v_key AND a.window_open
	   AND a.cleared_at IS NULL
	 ORDER BY a.id DESC LIMIT 1;

	IF p_failing AND v_id IS NULL THEN
		v_ev := audit.record(NULL, 'payconsole', NULL, NULL,
		    'control.failed', p_rule, 'failure',
		    coalesce(p_details, '{}'::jsonb) || jsonb_build_object(
		        'key', v_key, 'since',
		        extract(epoch FROM coalesce(p_since, now()))::bigint));
		INSERT INTO audit.alerts (rule, severity, key, event_ids,
		    first_seen, last_seen, window_start)
		VALUES (p_rule, 'alert', v_key, ARRAY[v_ev],
		    coalesce(p_since, now()), now(), coalesce(p_since, now()));
		RETURN true;
	ELSIF p_failing THEN
		UPDATE audit.alerts SET last_seen = now(), count = count + 1
		 WHERE id = v_id;
		RETURN true;
	ELSIF v_id IS NOT NULL THEN
		v_ev := audit.record(NULL, 'payconsole', NULL, NULL,
		    'control.cleared', p_rule, 'success',
		    coalesce(p_details, '{}'::jsonb) ||
		    jsonb_build_object('key', v_key, 'alert', v_id));
		UPDATE audit.alerts SET cleared_at = now(), window_open = false,
		    event_ids = event_ids || v_ev
		 WHERE id = v_id;
	END IF;
	RETURN false;
END;
$$;
REVOKE ALL ON FUNCTION audit.control_failure(text, boolean, jsonb, text,
    timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.control_failure(text, boolean, jsonb, text,
    timestamptz) TO pc_auth;

-- Worker 1's periodic checks that the database can make itself: the
-- sealer keeping up (the oldest unsealed event at most 5 min old; the
-- sealer takes events after 60 s) and, when p_verify, the whole chain
-- (audit.verify() reads every event: the server asks every
-- chain_verify_seconds only).
CREATE FUNCTION audit.control_check(p_verify boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_last		bigint;
	v_oldest	timestamptz;
	v		record;
BEGIN
	SELECT max(c.event_id) INTO v_last FROM audit.chain c;
	IF v_last IS NULL THEN
		SELECT a.through_event INTO v_last FROM audit.chain_anchor() a;
	END IF;
	SELECT min(e.at) INTO v_oldest FROM audit.events e
	 WHERE e.id > coalesce(v_last, 0);
	PERFORM audit.control_failure('sealing_stalled',
	    coalesce(v_oldest < now() - interval '5 minutes', false),
	    jsonb_build_object('oldest_unsealed',
	        extract(epoch FROM v_oldest)::bigint,
	        'last_sealed', v_last));
	IF p_verify THEN
		SELECT * INTO v FROM audit.verify();
		PERFORM audit.control_failure('chain_broken', NOT v.intact,
		    jsonb_build_object('problem', v.problem,
		        'problem_event', v.problem_event,
		        'checked', v.checked));
	END IF;
END;
$$;
REVOKE ALL ON FUNCTION audit.control_check(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.control_check(boolean) TO pc_auth;

RESET ROLE;
REVOKE CREATE ON SCHEMA audit FROM pc_api;
