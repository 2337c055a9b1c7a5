-- 010_append_only_message.sql: the append-only trigger names the table
-- it guards (audit.events or audit.chain) in its refusal.
CREATE OR REPLACE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('payconsole.retention', true) = 'purge'
	    AND current_user = 'pc_owner' AND TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION '%.% is append-only (% refused)', TG_TABLE_SCHEMA,
	    TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
