-- 026_signed_checkpoints.sql: signed checkpoints of the audit chain
-- (issue 16, part 1).
--
-- The chain proved order and content only to someone who trusts the
-- database: with the owner role, triggers disabled, the newest events
-- and their links could be deleted (or an event rewritten and the chain
-- recomputed from there, or the whole database rolled back to a backup)
-- and audit.verify() still said intact, because the head was held
-- nowhere else. Now worker 1 signs the head every
-- checkpoint_interval_seconds and at a clean stop with an Ed25519 key
-- that lives in a file outside the database (src/checkpoint.c), and
-- writes each checkpoint to syslog and to an append-only file beside
-- this table. `payconsole-admin audit verify --checkpoints FILE --pubkey
-- KEY` recomputes the chain from the events and compares.
--
-- A checkpoint's message (src/ckpt.h) is the canonical JSON
--   {"seq":S,"last_event":E,"head":"H","at":T,"prev":"P"}
-- prev being the SHA-256 of the previous checkpoint's message; the
-- table keeps its fields, the signature and the SHA-256 of the public
-- key (DER SubjectPublicKeyInfo). Append-only like the other audit
-- tables; rows come only through audit.checkpoint_add(), which refuses
-- a sequence out of turn, a prev that does not link, or a head that is
-- not the chain's at that event. It cannot check the signature (no
-- Ed25519 in the database); the offline verifier does.

CREATE TABLE audit.checkpoints (
	seq		bigint PRIMARY KEY CHECK (seq >= 1),
	last_event	bigint NOT NULL CHECK (last_event >= 0),
	head		bytea NOT NULL CHECK (length(head) = 32),
	at		bigint NOT NULL CHECK (at >= 0),
	prev		bytea NOT NULL CHECK (length(prev) = 32),
	signature	bytea NOT NULL CHECK (length(signature) = 64),
	key_sha256	bytea NOT NULL CHECK (length(key_sha256) = 32),
	recorded_at	timestamptz NOT NULL DEFAULT now()
);

-- Creating a trigger takes EXECUTE on its function, which pc_api owns
-- and grants to nobody; for these two statements only.
SET ROLE pc_api;
GRANT EXECUTE ON FUNCTION audit.refuse_always() TO pc_owner;
RESET ROLE;
CREATE TRIGGER checkpoints_append_only BEFORE DELETE OR UPDATE
    ON audit.checkpoints FOR EACH ROW EXECUTE FUNCTION audit.refuse_always();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE
    ON audit.checkpoints FOR EACH STATEMENT
    EXECUTE FUNCTION audit.refuse_always();
SET ROLE pc_api;
REVOKE EXECUTE ON FUNCTION audit.refuse_always() FROM pc_owner;
RESET ROLE;

GRANT SELECT, INSERT ON audit.checkpoints TO pc_api;
GRANT SELECT ON audit.checkpoints TO pc_auditor, pc_ops;

GRANT CREATE ON SCHEMA audit TO pc_api;
SET ROLE pc_api;

-- The message of a stored checkpoint, as src/ckpt.c writes it.
CREATE FUNCTION audit.checkpoint_message(c audit.checkpoints)
RETURNS bytea
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT convert_to(format('{"seq":%s,"last_event":%s,"head":"%s",'
	    '"at":%s,"prev":"%s"}', c.seq, c.last_event,
	    encode(c.head, 'hex'), c.at, encode(c.prev, 'hex')), 'UTF8');
$$;

-- What the next checkpoint signs: its sequence, the chain's newest link
-- (or the retention anchor, or event 0 and 32 zero bytes), the time,
-- and the previous checkpoint, whose message's SHA-256 is its prev.
CREATE FUNCTION audit.checkpoint_head(OUT seq bigint, OUT last_event bigint,
    OUT head bytea, OUT at bigint, OUT prev_seq bigint,
    OUT prev_last_event bigint, OUT prev_head bytea, OUT prev_at bigint,
    OUT prev_prev bytea)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	p	audit.checkpoints%ROWTYPE;
BEGIN
	SELECT c.event_id, c.hash INTO last_event, head FROM audit.chain c
	 ORDER BY c.seq DESC LIMIT 1;
	IF NOT FOUND THEN
		SELECT a.through_event, a.hash INTO last_event, head
		  FROM audit.chain_anchor() a;
	END IF;
	SELECT * INTO p FROM audit.checkpoints c ORDER BY c.seq DESC LIMIT 1;
	seq := coalesce(p.seq, 0) + 1;
	at := extract(epoch FROM now())::bigint;
	prev_seq := p.seq;
	prev_last_event := p.last_event;
	prev_head := p.head;
	prev_at := p.at;
	prev_prev := p.prev;
END;
$$;

CREATE FUNCTION audit.checkpoint_add(p_seq bigint, p_last_event bigint,
    p_head bytea, p_at bigint, p_prev bytea, p_signature bytea,
    p_key_sha256 bytea)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	p	audit.checkpoints%ROWTYPE;
	a	record;
	v_prev	bytea;
BEGIN
	PERFORM pg_advisory_xact_lock(727273);
	SELECT * INTO p FROM audit.checkpoints c ORDER BY c.seq DESC LIMIT 1;
	IF p_seq <> coalesce(p.seq, 0) + 1 THEN
		RAISE EXCEPTION 'checkpoint % out of turn (the last is %)',
		    p_seq, p.seq USING ERRCODE = 'serialization_failure';
	END IF;
	v_prev := CASE WHEN p.seq IS NULL THEN decode(repeat('00', 32), 'hex')
	    ELSE sha256(audit.checkpoint_message(p)) END;
	IF p_prev <> v_prev OR p_last_event < coalesce(p.last_event, 0) THEN
		RAISE EXCEPTION 'checkpoint % does not follow checkpoint %',
		    p_seq, p.seq USING ERRCODE = 'data_corrupted';
	END IF;
	SELECT * INTO a FROM audit.chain_anchor();
	IF NOT EXISTS (SELECT 1 FROM audit.chain c
	    WHERE c.event_id = p_last_event AND c.hash = p_head)
	    AND NOT (a.through_event = p_last_event AND a.hash = p_head) THEN
		RAISE EXCEPTION 'checkpoint %: % is not the chain''s head at '
		    'event %', p_seq, encode(p_head, 'hex'), p_last_event
		    USING ERRCODE = 'data_corrupted';
	END IF;
	INSERT INTO audit.checkpoints (seq, last_event, head, at, prev,
	    signature, key_sha256)
	VALUES (p_seq, p_last_event, p_head, p_at, p_prev, p_signature,
	    p_key_sha256);
END;
$$;

REVOKE ALL ON FUNCTION audit.checkpoint_message(audit.checkpoints),
    audit.checkpoint_head(), audit.checkpoint_add(bigint, bigint, bytea,
    bigint, bytea, bytea, bytea) FROM PUBLIC;
-- Only the server's own role signs.
GRANT EXECUTE ON FUNCTION audit.checkpoint_head(),
    audit.checkpoint_add(bigint, bigint, bytea, bigint, bytea, bytea,
    bytea) TO pc_auth;

RESET ROLE;
REVOKE CREATE ON SCHEMA audit FROM pc_api;
