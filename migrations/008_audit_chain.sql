-- 008_audit_chain.sql: a SHA-256 chain over the audit trail, alert
-- acknowledgement, and the personal-data inventory.
--
-- Events are inserted freely (no lock on a shared row); a sealer links
-- them into audit.chain in batches, in id order, once they are older
-- than any transaction that could still commit an earlier id. Each link
-- is sha256(previous hash || canonical JSON of the event). Changing,
-- deleting or reordering a sealed event breaks the chain at that point.

CREATE TABLE audit.chain (
	seq		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_id	bigint NOT NULL UNIQUE,
	prev_hash	bytea NOT NULL CHECK (length(prev_hash) = 32),
	hash		bytea NOT NULL CHECK (length(hash) = 32),
	sealed_at	timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER chain_append_only BEFORE UPDATE OR DELETE ON audit.chain
	FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER chain_no_truncate BEFORE TRUNCATE ON audit.chain
	FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

-- The canonical form: a JSON array, so no field can bleed into the next.
CREATE FUNCTION audit.event_digest(e audit.events, p_prev bytea)
RETURNS bytea
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT sha256(p_prev || convert_to(jsonb_build_array(e.id,
	    (extract(epoch FROM e.at) * 1000000)::bigint, e.actor_id,
	    e.actor_name, e.actor_role, e.source::text, e.event, e.target,
	    e.outcome, e.details)::text, 'UTF8'));
$$;

-- Seal events older than p_min_age, oldest first. Concurrent sealers
-- queue on an advisory lock; inserts never wait for a sealer.
CREATE FUNCTION audit.seal(p_min_age interval DEFAULT interval '60 seconds',
    p_max integer DEFAULT 10000)
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
	v_prev := coalesce(v_prev, decode(repeat('00', 32), 'hex'));
	v_last := coalesce(v_last, 0);
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

-- Walk the chain: the first altered, missing or reordered event, or
-- intact up to event N (and how many recent events await sealing).
CREATE FUNCTION audit.verify()
RETURNS TABLE (intact boolean, checked bigint, last_event bigint,
    problem text, problem_event bigint, unsealed bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	c	audit.chain%ROWTYPE;
	e	audit.events%ROWTYPE;
	v_prev	bytea := decode(repeat('00', 32), 'hex');
	v_n	bigint := 0;
	v_last	bigint := 0;
	v_gap	bigint;
BEGIN
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
	-- An event below the sealed range that is not in the chain was
	-- inserted behind the sealer's back.
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

REVOKE ALL ON FUNCTION audit.event_digest, audit.seal, audit.verify
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.seal TO pc_auth, pc_ops;
GRANT EXECUTE ON FUNCTION audit.verify TO pc_auditor, pc_ops, pc_auth;
GRANT EXECUTE ON FUNCTION audit.event_digest TO pc_auditor, pc_ops;
GRANT SELECT ON audit.chain TO pc_auditor, pc_ops;

-- Alerts are acknowledged with a comment by admins and auditors; the
-- acknowledgement is audited in the same transaction.
CREATE FUNCTION audit.acknowledge(p_alert bigint, p_actor bigint,
    p_actor_name text, p_actor_role text, p_source inet, p_comment text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	IF p_actor_role NOT IN ('admin', 'auditor') OR NOT EXISTS (
	    SELECT 1 FROM auth.users u WHERE u.id = p_actor
	    AND u.role = p_actor_role AND u.disabled_at IS NULL) THEN
		RAISE EXCEPTION 'forbidden' USING ERRCODE = 'insufficient_privilege';
	END IF;
	UPDATE audit.alerts SET acknowledged_at = now(),
	    acknowledged_by = p_actor_name, ack_comment = p_comment
	 WHERE id = p_alert AND acknowledged_at IS NULL;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM audit.record(p_actor, p_actor_name, p_actor_role, p_source,
	    'alert.acknowledged', p_alert::text, 'success',
	    jsonb_build_object('comment', p_comment));
	RETURN true;
END;
$$;
REVOKE ALL ON FUNCTION audit.acknowledge FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.acknowledge TO pc_auth;
GRANT SELECT ON audit.alerts TO pc_auth;

-- Where personal data lives, declared next to the schema, so the
-- inventory the regulator asked for is one query.
CREATE TABLE meta.personal_data (
	schema_name	text NOT NULL,
	table_name	text NOT NULL,
	column_name	text NOT NULL,
	category	text NOT NULL,
	purpose		text NOT NULL,
	PRIMARY KEY (schema_name, table_name, column_name)
);
INSERT INTO meta.personal_data VALUES
	('payments', 'transactions', 'cardholder_name', 'name',
	 'identify the cardholder when handling a payment enquiry'),
	('payments', 'transactions', 'cardholder_email', 'email address',
	 'contact the cardholder about a payment'),
	('payments', 'transactions', 'card_last4', 'card data (last four digits)',
	 'let the cardholder recognise the card; the full number is never stored'),
	('auth', 'users', 'display_name', 'name',
	 'show staff who did what'),
	('auth', 'users', 'last_login_source', 'IP address',
	 'access review and incident response'),
	('auth', 'directory', 'display_name', 'name',
	 'the secret-free view of users other concerns read'),
	('auth', 'directory', 'last_login_source', 'IP address',
	 'the secret-free view of users other concerns read'),
	('auth', 'sessions', 'source', 'IP address',
	 'session security and access review'),
	('audit', 'events', 'actor_name', 'name',
	 'accountability in the audit trail'),
	('audit', 'events', 'source', 'IP address',
	 'accountability in the audit trail'),
	('payments', 'refunds', 'actor_name', 'name',
	 'accountability for refunds');
GRANT USAGE ON SCHEMA meta TO pc_auditor, pc_auth;
GRANT SELECT ON meta.personal_data TO pc_auditor, pc_auth;

-- Row counts and which roles can read each column, for the inventory.
-- The identifiers come from meta.personal_data, which only the owner
-- writes, and are quoted with %I.
CREATE FUNCTION meta.inventory()
RETURNS TABLE (schema_name text, table_name text, column_name text,
    category text, purpose text, row_count bigint, readers text[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	p	meta.personal_data%ROWTYPE;
	v_n	bigint;
BEGIN
	FOR p IN SELECT * FROM meta.personal_data ORDER BY 1, 2, 3 LOOP
		EXECUTE format('SELECT count(*) FROM %I.%I', p.schema_name,
		    p.table_name) INTO v_n;
		RETURN QUERY SELECT p.schema_name, p.table_name, p.column_name,
		    p.category, p.purpose, v_n,
		    ARRAY(SELECT r.rolname::text FROM pg_roles r
		      WHERE r.rolname LIKE 'pc\_%'
		        AND has_column_privilege(r.oid, format('%I.%I',
		            p.schema_name, p.table_name), p.column_name,
		            'SELECT')
		      ORDER BY r.rolname);
	END LOOP;
END;
$$;
REVOKE ALL ON FUNCTION meta.inventory FROM PUBLIC;
GRANT EXECUTE ON FUNCTION meta.inventory TO pc_auditor, pc_auth;
