-- 007_payment_ops.sql: the payment state machine inside PostgreSQL,
-- refunds that can never exceed the captured amount, idempotent
-- operations, and indexes for the search filters.

-- Amounts must agree with the status, whatever code path writes them.
ALTER TABLE payments.transactions ADD CONSTRAINT status_amounts CHECK (
	CASE status
	WHEN 'authorized' THEN captured_amount = 0 AND refunded_amount = 0
	WHEN 'failed' THEN captured_amount = 0 AND refunded_amount = 0
	WHEN 'cancelled' THEN captured_amount = 0 AND refunded_amount = 0
	WHEN 'captured' THEN captured_amount = amount AND refunded_amount = 0
	WHEN 'partially_refunded' THEN captured_amount = amount
	    AND refunded_amount > 0 AND refunded_amount < captured_amount
	WHEN 'refunded' THEN captured_amount = amount
	    AND refunded_amount = captured_amount
	END);

-- Legal transitions only; what identifies a payment never changes; the
-- version goes up by one on every change.
CREATE FUNCTION payments.guard_transition() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF NEW.id <> OLD.id OR NEW.merchant_order_id <> OLD.merchant_order_id
	    OR NEW.amount <> OLD.amount OR NEW.currency <> OLD.currency
	    OR NEW.card_brand <> OLD.card_brand
	    OR NEW.card_last4 <> OLD.card_last4
	    OR NEW.cardholder_name <> OLD.cardholder_name
	    OR NEW.cardholder_email <> OLD.cardholder_email
	    OR NEW.created_at <> OLD.created_at THEN
		RAISE EXCEPTION 'immutable_column: payment identity cannot change'
		    USING ERRCODE = 'check_violation';
	END IF;
	IF (OLD.status, NEW.status) NOT IN (
	    ('authorized', 'captured'), ('authorized', 'cancelled'),
	    ('captured', 'partially_refunded'), ('captured', 'refunded'),
	    ('partially_refunded', 'partially_refunded'),
	    ('partially_refunded', 'refunded')) THEN
		RAISE EXCEPTION 'invalid_transition: % -> %', OLD.status,
		    NEW.status USING ERRCODE = 'check_violation';
	END IF;
	IF NEW.refunded_amount < OLD.refunded_amount THEN
		RAISE EXCEPTION 'invalid_transition: refunds cannot shrink'
		    USING ERRCODE = 'check_violation';
	END IF;
	IF NEW.version <> OLD.version + 1 THEN
		RAISE EXCEPTION 'version must increase by one'
		    USING ERRCODE = 'check_violation';
	END IF;
	NEW.updated_at := now();
	RETURN NEW;
END;
$$;
CREATE TRIGGER transactions_state BEFORE UPDATE ON payments.transactions
	FOR EACH ROW EXECUTE FUNCTION payments.guard_transition();

-- A refund row moves its transaction, under the transaction's row lock;
-- refunded_amount <= captured_amount (a CHECK) then holds under any
-- concurrency, and the sum of refunds always equals refunded_amount.
CREATE FUNCTION payments.apply_refund() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	UPDATE payments.transactions t
	   SET refunded_amount = t.refunded_amount + NEW.amount,
	       status = CASE WHEN t.refunded_amount + NEW.amount =
	           t.captured_amount THEN 'refunded'
	           ELSE 'partially_refunded' END,
	       version = t.version + 1
	 WHERE t.id = NEW.transaction_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no such transaction'
		    USING ERRCODE = 'foreign_key_violation';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER refunds_apply BEFORE INSERT ON payments.refunds
	FOR EACH ROW EXECUTE FUNCTION payments.apply_refund();

CREATE FUNCTION payments.refunds_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'refunds are immutable' USING
	    ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER refunds_no_change BEFORE UPDATE OR DELETE ON payments.refunds
	FOR EACH ROW EXECUTE FUNCTION payments.refunds_immutable();

-- Idempotency keys: one claimed key per (user, key); a successful
-- answer is kept and replayed; an error answer frees the key again.
CREATE TABLE payments.idempotency (
	actor_id	bigint NOT NULL,
	key		text NOT NULL CHECK (key ~ '^[A-Za-z0-9_-]{1,64}$'),
	request_hash	text NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
	status		integer,
	response	jsonb,
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (actor_id, key)
);

CREATE FUNCTION payments.txn_json(t payments.transactions) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT jsonb_build_object('id', t.id,
	    'merchant_order_id', t.merchant_order_id, 'amount', t.amount,
	    'currency', t.currency, 'status', t.status,
	    'card_brand', t.card_brand, 'card_last4', t.card_last4,
	    'cardholder_name', t.cardholder_name,
	    'cardholder_email', t.cardholder_email,
	    'captured_amount', t.captured_amount,
	    'refunded_amount', t.refunded_amount,
	    'created_at', extract(epoch FROM t.created_at)::bigint,
	    'updated_at', extract(epoch FROM t.updated_at)::bigint,
	    'version', t.version);
$$;

-- capture, cancel, refund: the state change, the refund row and the
-- audit record commit together or not at all.
CREATE FUNCTION payments.operate(p_actor bigint, p_actor_name text,
    p_source inet, p_op text, p_id bigint, p_version integer, p_key text,
    p_hash text, p_amount bigint, p_reason text)
RETURNS TABLE (status integer, body jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	v_idem		payments.idempotency%ROWTYPE;
	v_t		payments.transactions%ROWTYPE;
	v_status	integer;
	v_body		jsonb;
	v_refund	payments.refunds%ROWTYPE;
BEGIN
	INSERT INTO payments.idempotency (actor_id, key, request_hash)
	VALUES (p_actor, p_key, p_hash) ON CONFLICT DO NOTHING;
	IF NOT FOUND THEN
		-- Waits for a concurrent first use of the key to finish.
		SELECT * INTO v_idem FROM payments.idempotency i
		 WHERE i.actor_id = p_actor AND i.key = p_key FOR UPDATE;
		IF v_idem.request_hash <> p_hash THEN
			RETURN QUERY SELECT 409, jsonb_build_object('error',
			    'idempotency_conflict', 'message',
			    'This Idempotency-Key was used for another request.');
			RETURN;
		END IF;
		IF v_idem.status IS NOT NULL THEN
			RETURN QUERY SELECT v_idem.status, v_idem.response;
			RETURN;
		END IF;
	END IF;

	SELECT * INTO v_t FROM payments.transactions t WHERE t.id = p_id
	    FOR UPDATE;
	IF NOT FOUND THEN
		v_status := 404;
		v_body := jsonb_build_object('error', 'not_found',
		    'message', 'No such transaction.');
	ELSIF v_t.version <> p_version THEN
		v_status := 412;
		v_body := jsonb_build_object('error', 'version_mismatch',
		    'message', 'The transaction changed; reload it.',
		    'version', v_t.version);
	ELSIF p_op IN ('capture', 'cancel') THEN
		IF v_t.status <> 'authorized' THEN
			v_status := 409;
			v_body := jsonb_build_object('error',
			    'invalid_transition', 'message',
			    format('A %s transaction cannot be %s.', v_t.status,
			    CASE p_op WHEN 'capture' THEN 'captured'
			    ELSE 'cancelled' END));
		ELSE
			UPDATE payments.transactions t SET
			    status = CASE p_op WHEN 'capture' THEN 'captured'
			        ELSE 'cancelled' END,
			    captured_amount = CASE p_op WHEN 'capture'
			        THEN t.amount ELSE 0 END,
			    version = t.version + 1
			 WHERE t.id = p_id RETURNING * INTO v_t;
			PERFORM audit.record(p_actor, p_actor_name, 'operator',
			    p_source, CASE p_op WHEN 'capture' THEN
			    'transaction.captured' ELSE 'transaction.cancelled'
			    END, p_id::text, 'success',
			    jsonb_build_object('amount', v_t.amount,
			    'version', v_t.version));
			v_status := 200;
			v_body := jsonb_build_object('transaction',
			    payments.txn_json(v_t));
		END IF;
	ELSIF p_op = 'refund' THEN
		-- A fully refunded payment has nothing left: say that.
		IF v_t.status IN ('captured', 'partially_refunded', 'refunded')
		    AND v_t.refunded_amount + p_amount > v_t.captured_amount THEN
			v_status := 409;
			v_body := jsonb_build_object('error',
			    'refund_exceeds_captured', 'message',
			    'Refunds cannot exceed the captured amount.',
			    'refundable', v_t.captured_amount - v_t.refunded_amount);
		ELSIF v_t.status NOT IN ('captured', 'partially_refunded') THEN
			v_status := 409;
			v_body := jsonb_build_object('error',
			    'invalid_transition', 'message',
			    format('A %s transaction cannot be refunded.',
			    v_t.status));
		ELSE
			INSERT INTO payments.refunds (transaction_id, amount,
			    reason, actor_id, actor_name)
			VALUES (p_id, p_amount, p_reason, p_actor, p_actor_name)
			RETURNING * INTO v_refund;
			SELECT * INTO v_t FROM payments.transactions t
			 WHERE t.id = p_id;
			PERFORM audit.record(p_actor, p_actor_name, 'operator',
			    p_source, 'transaction.refunded', p_id::text,
			    'success', jsonb_build_object('amount', p_amount,
			    'refund', v_refund.id, 'version', v_t.version));
			v_status := 201;
			v_body := jsonb_build_object('refund', jsonb_build_object(
			    'id', v_refund.id, 'amount', v_refund.amount,
			    'reason', v_refund.reason,
			    'actor_name', v_refund.actor_name,
			    'created_at',
			    extract(epoch FROM v_refund.created_at)::bigint),
			    'transaction', payments.txn_json(v_t));
		END IF;
	ELSE
		RAISE EXCEPTION 'unknown operation %', p_op;
	END IF;

	IF v_status < 400 THEN
		UPDATE payments.idempotency i SET status = v_status,
		    response = v_body
		 WHERE i.actor_id = p_actor AND i.key = p_key;
	ELSE
		DELETE FROM payments.idempotency i
		 WHERE i.actor_id = p_actor AND i.key = p_key;
	END IF;
	RETURN QUERY SELECT v_status, v_body;
END;
$$;

-- An operator looking at a cardholder's personal data: audited.
CREATE FUNCTION payments.view_transaction(p_actor bigint, p_actor_name text,
    p_source inet, p_id bigint)
RETURNS TABLE (txn jsonb, refunds jsonb)
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
	v_t	payments.transactions%ROWTYPE;
BEGIN
	SELECT * INTO v_t FROM payments.transactions t WHERE t.id = p_id;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	PERFORM audit.record(p_actor, p_actor_name, 'operator', p_source,
	    'transaction.viewed', p_id::text, 'success',
	    jsonb_build_object('personal_data', true));
	RETURN QUERY SELECT payments.txn_json(v_t), payments.refund_list(p_id);
END;
$$;

CREATE FUNCTION payments.refund_list(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('id', r.id,
	    'amount', r.amount, 'reason', r.reason,
	    'actor_name', r.actor_name,
	    'created_at', extract(epoch FROM r.created_at)::bigint)
	    ORDER BY r.id), '[]'::jsonb)
	  FROM payments.refunds r WHERE r.transaction_id = p_id;
$$;

CREATE INDEX transactions_created ON payments.transactions
	(created_at DESC, id DESC);
CREATE INDEX transactions_status_created ON payments.transactions
	(status, created_at DESC, id DESC);
CREATE INDEX transactions_brand_created ON payments.transactions
	(card_brand, created_at DESC, id DESC);
CREATE INDEX transactions_last4_created ON payments.transactions
	(card_last4, created_at DESC, id DESC);
CREATE INDEX transactions_order_prefix ON payments.transactions
	(merchant_order_id text_pattern_ops);
CREATE INDEX transactions_amount ON payments.transactions (amount);

GRANT SELECT, INSERT, UPDATE, DELETE ON payments.idempotency TO pc_payments;
GRANT EXECUTE ON FUNCTION payments.operate, payments.view_transaction,
    payments.txn_json, payments.refund_list TO pc_payments;
GRANT EXECUTE ON FUNCTION payments.txn_json, payments.refund_list
    TO pc_auditor;
REVOKE ALL ON FUNCTION payments.guard_transition, payments.apply_refund,
    payments.refunds_immutable FROM PUBLIC;
