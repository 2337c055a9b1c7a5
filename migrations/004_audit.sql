-- 004_audit.sql: the audit trail. Append-only: runtime roles may INSERT
-- and (auditors) SELECT; nobody is granted UPDATE, DELETE or TRUNCATE,
-- and a trigger refuses them even to the owner unless the documented
-- retention procedure has set payconsole.retention for its transaction.

CREATE TABLE audit.events (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor_id	bigint,
	actor_name	text,
	actor_role	text,
	source		inet,
	event		text NOT NULL CHECK (event ~ '^[a-z][a-z0-9_.]{1,63}$'),
	target		text,
	outcome		text NOT NULL
	    CHECK (outcome IN ('success', 'failure', 'denied', 'info')),
	details		jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX events_at ON audit.events (at);

CREATE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('payconsole.retention', true) = 'purge'
	    AND current_user = 'pc_owner' AND TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'audit.events is append-only (% refused)', TG_OP
	    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_append_only
	BEFORE UPDATE OR DELETE ON audit.events
	FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER events_no_truncate
	BEFORE TRUNCATE ON audit.events
	FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

GRANT INSERT ON audit.events TO pc_auth, pc_payments, pc_ops;
GRANT SELECT ON audit.events TO pc_auditor;
