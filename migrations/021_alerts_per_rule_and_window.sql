-- 021_alerts_per_rule_and_window.sql: one alert per rule, account (or
-- rule alone) and window, not per username@source (issue 13).
--
-- Before: audit.record() raised every alert under the key
-- target@source, so a storm from many sources, or against many names,
-- opened one alert per pair and flooded the list auditors acknowledge.
-- After: audit.alert_rules says, per rule, what its alerts aggregate
-- over and for how long:
--   scope 'account'  the account the event names, whatever the source;
--                    a name that matches no account (an unknown name's
--                    tag, src/nametag.c) joins the one key
--                    'unknown names' (a space: no account is named so);
--   scope 'rule'     one key, '*', for the whole rule (the rules about
--                    sources: every source in one alert);
--   scope 'key'      the caller's key, as before (a rule not listed is
--                    'key' with no window: approvals, administrative
--                    changes, bootstrap and chain alerts are about one
--                    action each and stay as they were).
-- An open alert takes events for window_seconds after its window_start;
-- the next event after that opens a new alert, and the old one stays
-- open until someone acknowledges it. Each alert counts the distinct
-- sources and names of the events it took (audit.alert_sources,
-- audit.alert_names), beside count and first/last seen; it still lists
-- the newest 100 events, and audit.acknowledge() is unchanged.

CREATE TABLE audit.alert_rules (
	rule		text PRIMARY KEY,
	scope		text NOT NULL CHECK (scope IN ('account', 'rule', 'key')),
	-- NULL: one alert until acknowledged; else 1 minute to 1 day.
	window_seconds	integer CHECK (window_seconds BETWEEN 60 AND 86400)
);
INSERT INTO audit.alert_rules VALUES
	('attempt_while_locked', 'account', 3600),
	('lockout', 'account', 3600),
	('outside_hours', 'account', 3600),
	('blocked_source', 'rule', 3600),
	('source_many_accounts', 'rule', 3600),
	('repeated_denied_connections', 'rule', 3600);
REVOKE ALL ON audit.alert_rules FROM PUBLIC;
GRANT SELECT ON audit.alert_rules TO pc_api, pc_auditor, pc_auth;

-- window_open: the alert still takes events (its window has not run
-- out); only such an alert is the one open alert of its rule and key.
ALTER TABLE audit.alerts
	ADD COLUMN window_start timestamptz,
	ADD COLUMN window_seconds integer,
	ADD COLUMN window_open boolean NOT NULL DEFAULT true,
	ADD COLUMN sources integer NOT NULL DEFAULT 0,
	ADD COLUMN names integer NOT NULL DEFAULT 0;
UPDATE audit.alerts SET window_start = first_seen;
ALTER TABLE audit.alerts ALTER COLUMN window_start SET NOT NULL,
	ALTER COLUMN window_start SET DEFAULT now();
-- Alerts under the old username@source keys take no more events.
UPDATE audit.alerts a SET window_open = false FROM audit.alert_rules r
 WHERE r.rule = a.rule AND r.scope <> 'key';
DROP INDEX audit.alerts_open;
CREATE UNIQUE INDEX alerts_open ON audit.alerts (rule, key)
	WHERE acknowledged_at IS NULL AND window_open;

-- The distinct sources and names an alert took, for its two counts.
CREATE TABLE audit.alert_sources (
	alert_id	bigint NOT NULL REFERENCES audit.alerts (id),
	source		inet NOT NULL,
	PRIMARY KEY (alert_id, source)
);
CREATE TABLE audit.alert_names (
	alert_id	bigint NOT NULL REFERENCES audit.alerts (id),
	name		text NOT NULL,
	PRIMARY KEY (alert_id, name)
);
REVOKE ALL ON audit.alert_sources, audit.alert_names FROM PUBLIC;
GRANT SELECT, INSERT ON audit.alert_sources, audit.alert_names TO pc_api;
GRANT SELECT ON audit.alert_sources, audit.alert_names
    TO pc_auditor, pc_auth;
INSERT INTO meta.personal_data VALUES
	('audit', 'alert_sources', 'source', 'IP address',
	 'how many sources an alert covers'),
	('audit', 'alert_names', 'name', 'name',
	 'how many accounts or names an alert covers');

-- What the alerts already listed.
INSERT INTO audit.alert_sources (alert_id, source)
SELECT DISTINCT a.id, e.source FROM audit.alerts a
  JOIN audit.events e ON e.id = ANY (a.event_ids)
 WHERE e.source IS NOT NULL;
INSERT INTO audit.alert_names (alert_id, name)
SELECT DISTINCT a.id, e.target FROM audit.alerts a
  JOIN audit.events e ON e.id = ANY (a.event_ids)
 WHERE e.target IS NOT NULL;
UPDATE audit.alerts a SET
	sources = (SELECT count(*) FROM audit.alert_sources s
	    WHERE s.alert_id = a.id),
	names = (SELECT count(*) FROM audit.alert_names n
	    WHERE n.alert_id = a.id);

-- pc_api owns every application function (016); it replaces this one
-- here, with the schema right for this transaction only.
GRANT CREATE ON SCHEMA audit TO pc_api;
SET ROLE pc_api;

-- An alert for a set of events: the rule's key (audit.alert_rules), one
-- open alert per (rule, key) while its window lasts; repeats raise its
-- count, add their events (each once, the newest 100) and their
-- distinct sources and names.
CREATE OR REPLACE FUNCTION audit.raise(p_rule text, p_severity text,
    p_key text, p_events bigint[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	r		audit.alert_rules%ROWTYPE;
	v_key		text := p_key;
	v_target	text;
	v_id		bigint;
BEGIN
	SELECT * INTO r FROM audit.alert_rules WHERE rule = p_rule;
	IF r.scope = 'rule' THEN
		v_key := '*';
	ELSIF r.scope = 'account' THEN
		SELECT e.target INTO v_target FROM audit.events e
		 WHERE e.id = ANY (p_events) ORDER BY e.id LIMIT 1;
		-- A name that is no account is never a key of its own.
		v_key := CASE WHEN EXISTS (SELECT 1 FROM auth.users u
		    WHERE u.username = v_target) THEN v_target
		    ELSE 'unknown names' END;
	END IF;

	-- A window that has run out takes no more events. Concurrent
	-- raisers wait on this row, then see it closed and meet at the
	-- new alert through the unique index.
	IF r.window_seconds IS NOT NULL THEN
		UPDATE audit.alerts SET window_open = false
		 WHERE rule = p_rule AND key = v_key
		   AND acknowledged_at IS NULL AND window_open
		   AND window_start <= now() -
		       make_interval(secs => r.window_seconds);
	END IF;

	INSERT INTO audit.alerts AS a (rule, severity, key, event_ids,
	    window_seconds)
	VALUES (p_rule, p_severity, v_key, p_events, r.window_seconds)
	ON CONFLICT (rule, key) WHERE acknowledged_at IS NULL AND window_open
	DO UPDATE SET last_seen = now(), count = a.count + 1,
	    event_ids = ARRAY(SELECT e FROM (SELECT DISTINCT unnest(
	        a.event_ids || p_events) AS e ORDER BY e DESC LIMIT 100) d
	        ORDER BY e)
	RETURNING a.id INTO v_id;

	-- The sources and names it had not seen yet, counted as added.
	WITH s AS (
		INSERT INTO audit.alert_sources (alert_id, source)
		SELECT DISTINCT v_id, e.source FROM audit.events e
		 WHERE e.id = ANY (p_events) AND e.source IS NOT NULL
		ON CONFLICT DO NOTHING RETURNING 1
	), n AS (
		INSERT INTO audit.alert_names (alert_id, name)
		SELECT DISTINCT v_id, e.target FROM audit.events e
		 WHERE e.id = ANY (p_events) AND e.target IS NOT NULL
		ON CONFLICT DO NOTHING RETURNING 1
	)
	UPDATE audit.alerts SET sources = sources + (SELECT count(*) FROM s),
	    names = names + (SELECT count(*) FROM n)
	 WHERE id = v_id;
END;
$$;

RESET ROLE;
REVOKE CREATE ON SCHEMA audit FROM pc_api;
