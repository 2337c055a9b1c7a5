-- 016_approvals_and_enrolment.sql: separation of duties per person
-- (issue 12, points 1-3).
--
-- 1. Nobody learns another person's credentials. Creating an account,
--    resetting its password and issuing a new device return no password
--    and no TOTP secret: an approved request creates an enrolment whose
--    code is split in two halves of 128 bits each, one shown to the
--    requester, the other to the approver. The new user needs both to
--    open "first sign-in", chooses a password, sees the QR code on their
--    own screen and confirms a code. The database stores only SHA-256 of
--    each half, computed here from the raw half the server passes on.
-- 2. Four eyes. Creating, enabling, re-issuing credentials of and
--    changing the role of an account, and refunds above the policy's
--    threshold, are requests (approvals.requests). The rules live here:
--    requester <> approver <> target; an auditor approves what concerns
--    an auditor account, another admin the rest, another operator a
--    refund; the approval names the SHA-256 of the exact operation it
--    saw, and approving executes that operation, in one transaction
--    with its audit records; requests expire; rejection and expiry are
--    recorded. Every request and decision raises an alert keyed to the
--    request, which neither the requester nor the approver can
--    acknowledge (015: audit.acknowledge).
-- 3. Bootstrap without a hole: auth.bootstrap_account() creates accounts
--    only while the site has fewer than two admins and one auditor.
--    auth.seed_account() (demo, test and bench accounts) works only in a
--    database whose owner set meta.settings dev_seeding = on.
--
-- New SQLSTATEs (src/dberr.c): PCA06 approval_not_pending, PCA07
-- approval_expired, PCA08 operation_mismatch, PCA09 four_eyes, PCA11
-- approval_pending, PCA12 refund_exceeds_captured, PCA13
-- invalid_transition, PCA14 conflict.
--
-- Every function of the application schemas is handed to pc_api at the
-- end. A later migration that replaces one runs SET ROLE pc_api first.

CREATE SCHEMA approvals AUTHORIZATION pc_owner;
REVOKE ALL ON SCHEMA approvals FROM PUBLIC;
GRANT USAGE ON SCHEMA approvals TO pc_auth, pc_payments, pc_auditor, pc_api;

-- What the owner says about this database, not the policy: whether
-- accounts may be seeded without an enrolment (devstack sets it), and
-- the highest refund one operator may make alone, whatever threshold a
-- worker passes (unset: 100000, the policy's default).
CREATE TABLE meta.settings (
	key	text PRIMARY KEY CHECK (key IN ('dev_seeding',
	    'refund_approval_ceiling')),
	value	text NOT NULL,
	CHECK (key <> 'refund_approval_ceiling' OR value ~ '^[0-9]{1,12}$')
);
GRANT SELECT ON meta.settings TO pc_api, pc_ops;

-- --- requests ----------------------------------------------------------------

CREATE TABLE approvals.requests (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('user.create', 'user.enable',
	    'user.role', 'user.password_reset', 'user.device_reset', 'refund')),
	-- Exactly what approving executes, and its SHA-256: of the jsonb
	-- value's text, which PostgreSQL writes one way for equal values
	-- (keys ordered by length, then bytewise; ", " and ": " between).
	operation	jsonb NOT NULL,
	operation_sha256 text NOT NULL CHECK (operation_sha256 ~ '^[0-9a-f]{64}$'),
	target_user	bigint REFERENCES auth.users (id),
	target_name	text NOT NULL,
	target_txn	bigint REFERENCES payments.transactions (id),
	approver_role	text NOT NULL
	    CHECK (approver_role IN ('admin', 'auditor', 'operator')),
	requested_by	bigint NOT NULL REFERENCES auth.users (id),
	requested_name	text NOT NULL,
	requested_at	timestamptz NOT NULL DEFAULT now(),
	request_source	inet,
	request_event	bigint NOT NULL,
	expires_at	timestamptz NOT NULL,
	-- Enrolments only: the requester's half, and how long the
	-- enrolment lives once approved.
	code_hash_1	bytea CHECK (length(code_hash_1) = 32),
	enrolment_ttl	integer CHECK (enrolment_ttl > 0),
	-- withdrawn: by its requester, before anyone decided.
	status		text NOT NULL DEFAULT 'pending'
	    CHECK (status IN ('pending', 'approved', 'rejected', 'expired',
	    'withdrawn')),
	decided_by	bigint REFERENCES auth.users (id),
	decided_name	text,
	decided_at	timestamptz,
	decision_comment text,
	result		jsonb,
	CHECK ((status = 'pending') = (decided_at IS NULL)),
	CHECK ((status IN ('approved', 'rejected')) = (decided_by IS NOT NULL)),
	CHECK (decided_by <> requested_by),
	CHECK (decided_by <> target_user),
	CHECK (requested_by <> target_user),
	CHECK ((code_hash_1 IS NULL) = (enrolment_ttl IS NULL))
);
CREATE INDEX requests_pending ON approvals.requests (expires_at)
	WHERE status = 'pending';
-- One pending request per thing: a second would only confuse approvers.
CREATE UNIQUE INDEX requests_one_pending ON approvals.requests
	(kind, coalesce(target_user, 0), target_name, coalesce(target_txn, 0))
	WHERE status = 'pending' AND kind <> 'refund';

-- A request changes once, from pending to its outcome; nothing else of
-- it ever changes, and nothing is deleted.
CREATE FUNCTION approvals.requests_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.status = 'pending'
	    AND NEW.status <> 'pending'
	    AND (NEW.id, NEW.kind, NEW.operation, NEW.operation_sha256,
	        NEW.target_user, NEW.target_name, NEW.target_txn,
	        NEW.approver_role, NEW.requested_by, NEW.requested_name,
	        NEW.requested_at, NEW.request_source, NEW.request_event,
	        NEW.expires_at, NEW.code_hash_1, NEW.enrolment_ttl)
	    IS NOT DISTINCT FROM
	        (OLD.id, OLD.kind, OLD.operation, OLD.operation_sha256,
	        OLD.target_user, OLD.target_name, OLD.target_txn,
	        OLD.approver_role, OLD.requested_by, OLD.requested_name,
	        OLD.requested_at, OLD.request_source, OLD.request_event,
	        OLD.expires_at, OLD.code_hash_1, OLD.enrolment_ttl) THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'approvals.requests: a request changes once, from '
	    'pending to its outcome (% refused)', TG_OP
	    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER requests_guard BEFORE UPDATE OR DELETE ON approvals.requests
	FOR EACH ROW EXECUTE FUNCTION approvals.requests_guard();
CREATE TRIGGER requests_no_truncate BEFORE TRUNCATE ON approvals.requests
	FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_always();

GRANT SELECT ON approvals.requests TO pc_auditor;
GRANT SELECT, INSERT, UPDATE ON approvals.requests TO pc_api;

-- --- enrolments --------------------------------------------------------------

CREATE TABLE auth.enrolments (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id		bigint NOT NULL REFERENCES auth.users (id),
	approval_id	bigint REFERENCES approvals.requests (id),
	reason		text NOT NULL CHECK (reason IN ('create',
	    'password_reset', 'device_reset', 'bootstrap')),
	code_hash_1	bytea NOT NULL CHECK (length(code_hash_1) = 32),
	code_hash_2	bytea NOT NULL CHECK (length(code_hash_2) = 32),
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	-- What the user chose in step one, until the first code confirms it.
	staged_hash	text CHECK (staged_hash LIKE '$argon2id$v=19$%'),
	staged_secret	bytea,
	staged_key_id	integer,
	completed_at	timestamptz,
	revoked_at	timestamptz,
	revoked_by	text,
	CHECK ((staged_hash IS NULL) = (staged_secret IS NULL)),
	CHECK ((staged_secret IS NULL) = (staged_key_id IS NULL)),
	CHECK (completed_at IS NULL OR revoked_at IS NULL)
);
CREATE UNIQUE INDEX enrolments_live ON auth.enrolments (user_id)
	WHERE completed_at IS NULL AND revoked_at IS NULL;
GRANT SELECT, INSERT, UPDATE ON auth.enrolments TO pc_api;

-- Users: whether an account waits for its first sign-in.
CREATE OR REPLACE VIEW auth.directory WITH (security_barrier) AS
SELECT u.id, u.username, u.display_name, u.role,
       u.disabled_at IS NOT NULL AS disabled,
       l.locked_until, u.last_login_at, u.last_login_source,
       c.totp_state, c.password_changed_at, c.must_change_password,
       EXISTS (SELECT 1 FROM auth.enrolments e WHERE e.user_id = u.id
           AND e.completed_at IS NULL AND e.revoked_at IS NULL
           AND e.expires_at > now()) AS enrolling,
       (SELECT max(e.expires_at) FROM auth.enrolments e
         WHERE e.user_id = u.id AND e.completed_at IS NULL
           AND e.revoked_at IS NULL AND e.expires_at > now())
           AS enrolment_expires_at
  FROM auth.users u
  LEFT JOIN auth.credentials c ON c.user_id = u.id
  LEFT JOIN auth.lockout l ON l.user_id = u.id;

-- Refunds carried out by an approval name it.
ALTER TABLE payments.refunds ADD COLUMN approval_id bigint
	REFERENCES approvals.requests (id);
ALTER TABLE payments.refunds ADD COLUMN approved_by text;

-- --- the rules ----------------------------------------------------------------

-- Who approves: an auditor for anything about an auditor account (its
-- role before or after), another operator for a refund, another admin
-- for the rest.
CREATE FUNCTION approvals.approver_role(p_kind text, p_role_now text,
    p_role_new text)
RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT CASE
	    WHEN p_kind = 'refund' THEN 'operator'
	    WHEN 'auditor' IN (p_role_now, p_role_new) THEN 'auditor'
	    ELSE 'admin' END;
$$;

-- Whether kind k is the business of login role r (pc_auth for accounts,
-- pc_payments for refunds): a compromised payments worker approves no
-- account, an auth worker no refund.
CREATE FUNCTION approvals.kind_role(p_kind text)
RETURNS name
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
	SELECT CASE WHEN p_kind = 'refund' THEN 'pc_payments'::name
	    ELSE 'pc_auth'::name END;
$$;

-- May p_user (with role p_role) decide request r now?
CREATE FUNCTION approvals.may_decide(r approvals.requests, p_user bigint,
    p_role text)
RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT r.status = 'pending' AND r.expires_at > now()
	   AND r.approver_role = p_role AND r.requested_by <> p_user
	   AND r.target_user IS DISTINCT FROM p_user;
$$;

CREATE FUNCTION approvals.to_json(r approvals.requests)
RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT jsonb_build_object('id', r.id, 'kind', r.kind,
	    'operation', r.operation,
	    'operation_sha256', r.operation_sha256,
	    'approver_role', r.approver_role,
	    'requested_by', r.requested_name,
	    'requested_at', extract(epoch FROM r.requested_at)::bigint,
	    'expires_at', extract(epoch FROM r.expires_at)::bigint,
	    'status', CASE WHEN r.status = 'pending' AND r.expires_at <= now()
	        THEN 'expired' ELSE r.status END,
	    'decided_by', r.decided_name,
	    'decided_at', extract(epoch FROM r.decided_at)::bigint,
	    'comment', r.decision_comment,
	    'enrolment', r.code_hash_1 IS NOT NULL);
$$;

-- A request and its alert; the request event is what the decision's
-- alert lists beside its own.
CREATE FUNCTION approvals.open(p_actor auth.users, p_source inet,
    p_kind text, p_operation jsonb, p_target_user bigint,
    p_target_name text, p_target_txn bigint, p_approver text,
    p_ttl integer, p_code1 bytea, p_enrol_ttl integer)
RETURNS approvals.requests
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	r	approvals.requests%ROWTYPE;
	v_sha	text;
	v_ev	bigint;
BEGIN
	IF p_ttl NOT BETWEEN 60 AND 604800 OR (p_code1 IS NOT NULL
	    AND (length(p_code1) <> 16 OR p_enrol_ttl NOT BETWEEN 60
	    AND 604800)) THEN
		RAISE EXCEPTION 'bad request parameters'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- A request that ran out no longer blocks a new one for the same thing.
	PERFORM approvals.expire_due();
	v_sha := encode(sha256(convert_to(p_operation::text, 'UTF8')), 'hex');
	v_ev := audit.record(p_actor.id, p_actor.username, p_actor.role,
	    p_source, 'approval.requested', p_target_name, 'success',
	    jsonb_build_object('kind', p_kind, 'operation', p_operation,
	        'operation_sha256', v_sha, 'approver_role', p_approver));
	BEGIN
		INSERT INTO approvals.requests (kind, operation,
		    operation_sha256, target_user, target_name, target_txn,
		    approver_role, requested_by, requested_name,
		    request_source, request_event, expires_at, code_hash_1,
		    enrolment_ttl)
		VALUES (p_kind, p_operation, v_sha, p_target_user,
		    p_target_name, p_target_txn, p_approver, p_actor.id,
		    p_actor.username, p_source, v_ev,
		    now() + make_interval(secs => p_ttl), sha256(p_code1),
		    CASE WHEN p_code1 IS NOT NULL THEN p_enrol_ttl END)
		RETURNING * INTO r;
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'approval_pending: a request for this is '
		    'already pending' USING ERRCODE = 'PCA11';
	END;
	PERFORM audit.raise('approval', 'warning', 'approval:' || r.id,
	    ARRAY[v_ev]);
	RETURN r;
END;
$$;

-- An account request by an admin (re-authenticated). p_code1 is the
-- requester's raw half (16 bytes) for the kinds that enrol; only its
-- hash is kept.
CREATE FUNCTION approvals.request_user(p_token bytea, p_source inet,
    p_kind text, p_target bigint, p_username text, p_display text,
    p_role text, p_code1 bytea, p_ttl integer, p_enrol_ttl integer)
RETURNS TABLE (approval jsonb, issues_code boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	u	auth.users%ROWTYPE;
	t	auth.users%ROWTYPE;
	r	approvals.requests%ROWTYPE;
	v_name	text;
	v_op	jsonb;
	v_enrol	boolean;
BEGIN
	IF session_user <> approvals.kind_role(p_kind) OR p_kind NOT IN
	    ('user.create', 'user.enable', 'user.role',
	    'user.password_reset', 'user.device_reset') THEN
		RAISE EXCEPTION 'forbidden: % does not request %',
		    session_user, p_kind USING ERRCODE = 'PCA03';
	END IF;
	u := auth.actor(p_token, ARRAY['admin'], true);
	v_enrol := p_kind IN ('user.create', 'user.password_reset',
	    'user.device_reset');

	IF p_kind = 'user.create' THEN
		v_name := lower(normalize(p_username, NFKC));
		IF p_role NOT IN ('operator', 'admin', 'auditor')
		    OR length(p_display) NOT BETWEEN 1 AND 128
		    OR v_name IS NULL OR length(v_name) NOT BETWEEN 1 AND 64
		    OR v_name ~ '[[:space:][:cntrl:]]' THEN
			RAISE EXCEPTION 'a field is not acceptable'
			    USING ERRCODE = 'check_violation';
		END IF;
		IF EXISTS (SELECT 1 FROM auth.users WHERE username = v_name) THEN
			RAISE EXCEPTION 'conflict: that username is taken'
			    USING ERRCODE = 'PCA14';
		END IF;
		v_op := jsonb_build_object('kind', p_kind, 'username', v_name,
		    'display_name', p_display, 'role', p_role);
		r := approvals.open(u, p_source, p_kind, v_op, NULL, v_name,
		    NULL, approvals.approver_role(p_kind, NULL, p_role), p_ttl,
		    p_code1, p_enrol_ttl);
	ELSE
		IF u.id = p_target THEN
			RAISE EXCEPTION 'self_forbidden: admins do not '
			    'administer their own account' USING ERRCODE = 'PCA04';
		END IF;
		SELECT * INTO t FROM auth.users WHERE id = p_target FOR UPDATE;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'not_found' USING ERRCODE = 'PCA05';
		END IF;
		IF p_kind = 'user.role' AND (p_role IS NULL OR p_role NOT IN
		    ('operator', 'admin', 'auditor')) THEN
			RAISE EXCEPTION 'a field is not acceptable'
			    USING ERRCODE = 'check_violation';
		END IF;
		IF (p_kind = 'user.role' AND p_role = t.role)
		    OR (p_kind = 'user.enable' AND t.disabled_at IS NULL) THEN
			RAISE EXCEPTION 'conflict: nothing to change'
			    USING ERRCODE = 'PCA14';
		END IF;
		v_op := jsonb_build_object('kind', p_kind, 'user_id', t.id,
		    'username', t.username, 'role', t.role);
		IF p_kind = 'user.role' THEN
			v_op := v_op || jsonb_build_object('new_role', p_role);
		END IF;
		r := approvals.open(u, p_source, p_kind, v_op, t.id,
		    t.username, NULL, approvals.approver_role(p_kind, t.role,
		    CASE WHEN p_kind = 'user.role' THEN p_role END), p_ttl,
		    CASE WHEN v_enrol THEN p_code1 END, p_enrol_ttl);
	END IF;
	RETURN QUERY SELECT approvals.to_json(r), v_enrol;
END;
$$;

-- Mark an overdue request expired, with its record and alert.
CREATE FUNCTION approvals.expire(r approvals.requests)
RETURNS approvals.requests
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_ev	bigint;
BEGIN
	UPDATE approvals.requests SET status = 'expired', decided_at = now()
	 WHERE id = r.id AND status = 'pending' RETURNING * INTO r;
	IF FOUND THEN
		v_ev := audit.record(NULL, 'payconsole', NULL, NULL,
		    'approval.expired', r.target_name, 'info',
		    jsonb_build_object('approval', r.id, 'kind', r.kind,
		        'requested_by', r.requested_by));
		PERFORM audit.raise('approval', 'warning', 'approval:' || r.id,
		    ARRAY[r.request_event, v_ev]);
	END IF;
	RETURN r;
END;
$$;

-- Worker 1, every few seconds: record the requests that ran out.
CREATE FUNCTION approvals.expire_due()
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	r	approvals.requests%ROWTYPE;
	v_n	integer := 0;
BEGIN
	FOR r IN SELECT * FROM approvals.requests WHERE status = 'pending'
	    AND expires_at <= now() ORDER BY id LIMIT 100
	    FOR UPDATE SKIP LOCKED LOOP
		PERFORM approvals.expire(r);
		v_n := v_n + 1;
	END LOOP;
	RETURN v_n;
END;
$$;

-- The request p_id, locked, for a decision by the session's user:
-- the right login role, the approver's role, re-authenticated, still
-- pending, and a different person from requester and target.
CREATE FUNCTION approvals.for_decision(p_token bytea, p_id bigint,
    OUT r approvals.requests, OUT u auth.users)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	SELECT * INTO r FROM approvals.requests q WHERE q.id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'not_found' USING ERRCODE = 'PCA05';
	END IF;
	u := auth.actor(p_token, ARRAY[r.approver_role], true);
	IF session_user <> approvals.kind_role(r.kind) THEN
		RAISE EXCEPTION 'forbidden: % does not decide %', session_user,
		    r.kind USING ERRCODE = 'PCA03';
	END IF;
	IF r.status <> 'pending' THEN
		RAISE EXCEPTION 'approval_not_pending: %', r.status
		    USING ERRCODE = 'PCA06';
	END IF;
	IF u.id = r.requested_by OR u.id = r.target_user THEN
		RAISE EXCEPTION 'four_eyes: the requester and the account '
		    'concerned do not decide' USING ERRCODE = 'PCA09';
	END IF;
END;
$$;

-- The decision's record and its alert (request and decision listed).
CREATE FUNCTION approvals.decided(r approvals.requests, u auth.users,
    p_source inet, p_event text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_ev	bigint;
BEGIN
	v_ev := audit.record(u.id, u.username, u.role, p_source, p_event,
	    r.target_name, 'success', jsonb_build_object('approval', r.id,
	        'kind', r.kind, 'operation_sha256', r.operation_sha256,
	        'requested_by', r.requested_by,
	        'comment', r.decision_comment));
	PERFORM audit.raise('approval', 'warning', 'approval:' || r.id,
	    ARRAY[r.request_event, v_ev]);
END;
$$;

-- A new enrolment for p_user (any live one is superseded): the
-- requester's half from the request, the approver's raw half here.
CREATE FUNCTION auth.enrolment_open(p_user bigint, p_approval bigint,
    p_reason text, p_hash1 bytea, p_code2 bytea, p_ttl integer,
    p_by text)
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_until	timestamptz;
BEGIN
	IF p_code2 IS NULL OR length(p_code2) <> 16 THEN
		RAISE EXCEPTION 'an enrolment half is 16 bytes'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	UPDATE auth.enrolments SET revoked_at = now(),
	    revoked_by = 'superseded by ' || p_by
	 WHERE user_id = p_user AND completed_at IS NULL
	   AND revoked_at IS NULL;
	v_until := now() + make_interval(secs => p_ttl);
	INSERT INTO auth.enrolments (user_id, approval_id, reason,
	    code_hash_1, code_hash_2, expires_at)
	VALUES (p_user, p_approval, p_reason, p_hash1, sha256(p_code2),
	    v_until);
	RETURN v_until;
END;
$$;

-- What an approved account request does. The executing person is the
-- approver; the records name the requester as requested_by.
CREATE FUNCTION approvals.execute_user(r approvals.requests, u auth.users,
    p_source inet, p_code2 bytea)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	t	auth.users%ROWTYPE;
	o	jsonb := r.operation;
	v_id	bigint;
	v_n	integer;
	v_until	timestamptz;
	v_det	jsonb;
BEGIN
	v_det := jsonb_build_object('approval', r.id,
	    'requested_by', r.requested_by, 'approved_by', u.id);
	IF r.kind = 'user.create' THEN
		BEGIN
			INSERT INTO auth.users (username, display_name, role,
			    created_by)
			VALUES (o->>'username', o->>'display_name', o->>'role',
			    r.requested_name || ', approved by ' || u.username)
			RETURNING id INTO v_id;
		EXCEPTION WHEN unique_violation THEN
			RAISE EXCEPTION 'conflict: that username is taken'
			    USING ERRCODE = 'PCA14';
		END;
		INSERT INTO auth.lockout (user_id) VALUES (v_id);
		v_until := auth.enrolment_open(v_id, r.id, 'create',
		    r.code_hash_1, p_code2, r.enrolment_ttl, u.username);
		PERFORM audit.record(u.id, u.username, u.role, p_source,
		    'user.created', o->>'username', 'success', v_det ||
		    jsonb_build_object('role', o->>'role', 'user_id', v_id),
		    CASE WHEN o->>'role' IN ('admin', 'auditor')
		        THEN 'privileged_account' END, 'alert');
		RETURN jsonb_build_object('user_id', v_id,
		    'username', o->>'username',
		    'enrolment_expires_at', extract(epoch FROM v_until)::bigint);
	END IF;

	SELECT * INTO t FROM auth.users WHERE id = r.target_user FOR UPDATE;
	IF t.role <> o->>'role' THEN
		-- The account changed since the request: not what was seen.
		RAISE EXCEPTION 'operation_mismatch: the account''s role changed'
		    USING ERRCODE = 'PCA08';
	END IF;
	CASE r.kind
	WHEN 'user.enable' THEN
		UPDATE auth.users SET disabled_at = NULL WHERE id = t.id;
		PERFORM audit.record(u.id, u.username, u.role, p_source,
		    'user.enabled', t.username, 'success',
		    v_det || jsonb_build_object('user_id', t.id));
		RETURN jsonb_build_object('user_id', t.id);
	WHEN 'user.role' THEN
		UPDATE auth.users SET role = o->>'new_role' WHERE id = t.id;
		v_n := auth.revoke_sessions(t.id, 'role_changed');
		PERFORM audit.record(u.id, u.username, u.role, p_source,
		    'user.role_changed', t.username, 'success',
		    v_det || jsonb_build_object('user_id', t.id,
		        'from', t.role, 'to', o->>'new_role',
		        'sessions_revoked', v_n), 'privilege_change', 'alert');
		RETURN jsonb_build_object('user_id', t.id,
		    'role', o->>'new_role');
	ELSE
		-- A reset re-issues both factors: the old device stops now,
		-- the old password is useless without one, sessions end.
		UPDATE auth.credentials SET totp_state = 'none',
		    totp_secret = NULL, totp_key_id = NULL,
		    must_change_password = false
		 WHERE user_id = t.id;
		v_n := auth.revoke_sessions(t.id, replace(r.kind, 'user.', ''));
		v_until := auth.enrolment_open(t.id, r.id,
		    replace(r.kind, 'user.', ''), r.code_hash_1, p_code2,
		    r.enrolment_ttl, u.username);
		PERFORM audit.record(u.id, u.username, u.role, p_source,
		    r.kind, t.username, 'success',
		    v_det || jsonb_build_object('user_id', t.id,
		        'sessions_revoked', v_n),
		    CASE r.kind WHEN 'user.password_reset' THEN
		        'credential_change' ELSE 'otp_change' END, 'alert');
		RETURN jsonb_build_object('user_id', t.id,
		    'enrolment_expires_at', extract(epoch FROM v_until)::bigint);
	END CASE;
END;
$$;

-- --- payments ---------------------------------------------------------------

-- A refund row, its transaction's new state and the audit record, for
-- the operator u (directly, or approving r).
CREATE FUNCTION payments.refund(p_txn bigint, p_amount bigint,
    p_reason text, u auth.users, p_source inet, r approvals.requests)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_t		payments.transactions%ROWTYPE;
	v_refund	payments.refunds%ROWTYPE;
	v_det		jsonb;
BEGIN
	SELECT * INTO v_t FROM payments.transactions t WHERE t.id = p_txn
	    FOR UPDATE;
	IF v_t.status IN ('captured', 'partially_refunded', 'refunded')
	    AND v_t.refunded_amount + p_amount > v_t.captured_amount THEN
		RAISE EXCEPTION 'refund_exceeds_captured: % left',
		    v_t.captured_amount - v_t.refunded_amount
		    USING ERRCODE = 'PCA12';
	END IF;
	IF v_t.status NOT IN ('captured', 'partially_refunded') THEN
		RAISE EXCEPTION 'invalid_transition: a % transaction cannot be '
		    'refunded', v_t.status USING ERRCODE = 'PCA13';
	END IF;
	INSERT INTO payments.refunds (transaction_id, amount, reason,
	    actor_id, actor_name, approval_id, approved_by)
	VALUES (p_txn, p_amount, p_reason,
	    coalesce(r.requested_by, u.id), coalesce(r.requested_name,
	    u.username), r.id, CASE WHEN r.id IS NOT NULL THEN u.username END)
	RETURNING * INTO v_refund;
	SELECT * INTO v_t FROM payments.transactions t WHERE t.id = p_txn;
	v_det := jsonb_build_object('amount', p_amount,
	    'refund', v_refund.id, 'version', v_t.version);
	IF r.id IS NOT NULL THEN
		v_det := v_det || jsonb_build_object('approval', r.id,
		    'requested_by', r.requested_by);
	END IF;
	PERFORM audit.record(u.id, u.username, u.role, p_source,
	    'transaction.refunded', p_txn::text, 'success', v_det);
	RETURN jsonb_build_object('refund', jsonb_build_object(
	    'id', v_refund.id, 'amount', v_refund.amount,
	    'reason', v_refund.reason, 'actor_name', v_refund.actor_name,
	    'approved_by', v_refund.approved_by,
	    'created_at', extract(epoch FROM v_refund.created_at)::bigint),
	    'transaction', payments.txn_json(v_t));
END;
$$;

CREATE OR REPLACE FUNCTION payments.refund_list(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('id', r.id,
	    'amount', r.amount, 'reason', r.reason,
	    'actor_name', r.actor_name, 'approved_by', r.approved_by,
	    'created_at', extract(epoch FROM r.created_at)::bigint)
	    ORDER BY r.id), '[]'::jsonb)
	  FROM payments.refunds r WHERE r.transaction_id = p_id;
$$;

-- capture, cancel, refund by the session's operator: idempotency key,
-- version check, the change and its audit record in one transaction. A
-- refund that takes the payment's refunded total above the threshold
-- becomes a request (202) for another operator: the total, so that
-- refunds split into small ones do not pass one by one. The threshold
-- is the policy's (p_threshold) but never above the owner's ceiling.
CREATE FUNCTION payments.operate(p_token bytea, p_source inet, p_op text,
    p_id bigint, p_version integer, p_key text, p_hash text,
    p_amount bigint, p_reason text, p_threshold bigint, p_ttl integer)
RETURNS TABLE (status integer, body jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
	u		auth.users%ROWTYPE;
	v_idem		payments.idempotency%ROWTYPE;
	v_t		payments.transactions%ROWTYPE;
	v_status	integer;
	v_body		jsonb;
	v_req		approvals.requests%ROWTYPE;
	v_none		approvals.requests%ROWTYPE;
	v_limit		bigint;
BEGIN
	u := auth.actor(p_token, ARRAY['operator'], false);
	IF p_op IS NULL OR p_id IS NULL OR p_version IS NULL OR p_key IS NULL
	    OR p_hash IS NULL OR (p_op = 'refund' AND (p_amount IS NULL
	    OR p_amount <= 0 OR p_reason IS NULL)) THEN
		RAISE EXCEPTION 'an operation names all it needs'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT least(coalesce(p_threshold, s.ceiling), s.ceiling)
	  INTO v_limit FROM (SELECT coalesce((SELECT value::bigint
	      FROM meta.settings WHERE key = 'refund_approval_ceiling'),
	      100000) AS ceiling) s;
	INSERT INTO payments.idempotency (actor_id, key, request_hash)
	VALUES (u.id, p_key, p_hash) ON CONFLICT DO NOTHING;
	IF NOT FOUND THEN
		-- Waits for a concurrent first use of the key to finish.
		SELECT * INTO v_idem FROM payments.idempotency i
		 WHERE i.actor_id = u.id AND i.key = p_key FOR UPDATE;
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
			PERFORM audit.record(u.id, u.username, u.role,
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
		ELSIF v_t.refunded_amount + p_amount > v_limit THEN
			v_req := approvals.open(u, p_source, 'refund',
			    jsonb_build_object('kind', 'refund',
			        'transaction', v_t.id,
			        'merchant_order_id', v_t.merchant_order_id,
			        'amount', p_amount, 'currency', v_t.currency,
			        'reason', p_reason),
			    NULL, v_t.id::text, v_t.id, 'operator', p_ttl, NULL,
			    NULL);
			v_status := 202;
			v_body := jsonb_build_object('approval',
			    approvals.to_json(v_req));
		ELSE
			v_status := 201;
			v_body := payments.refund(p_id, p_amount, p_reason, u,
			    p_source, v_none);
		END IF;
	ELSE
		RAISE EXCEPTION 'unknown operation %', p_op
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;

	IF v_status < 400 THEN
		UPDATE payments.idempotency i SET status = v_status,
		    response = v_body
		 WHERE i.actor_id = u.id AND i.key = p_key;
	ELSE
		DELETE FROM payments.idempotency i
		 WHERE i.actor_id = u.id AND i.key = p_key;
	END IF;
	RETURN QUERY SELECT v_status, v_body;
END;
$$;
DROP FUNCTION payments.operate(bigint, text, inet, text, bigint, integer,
    text, text, bigint, text);

-- An operator looking at a cardholder's personal data: audited.
CREATE FUNCTION payments.view_transaction(p_token bytea, p_source inet,
    p_id bigint)
RETURNS TABLE (txn jsonb, refunds jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	u	auth.users%ROWTYPE;
	v_t	payments.transactions%ROWTYPE;
BEGIN
	u := auth.actor(p_token, ARRAY['operator'], false);
	SELECT * INTO v_t FROM payments.transactions t WHERE t.id = p_id;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	PERFORM audit.record(u.id, u.username, u.role, p_source,
	    'transaction.viewed', p_id::text, 'success',
	    jsonb_build_object('personal_data', true));
	RETURN QUERY SELECT payments.txn_json(v_t), payments.refund_list(p_id);
END;
$$;
DROP FUNCTION payments.view_transaction(bigint, text, inet, bigint);

-- --- deciding ---------------------------------------------------------------

-- Approve request p_id as the session's user, who saw the operation
-- whose SHA-256 is p_sha256. p_code2: the approver's raw half (16
-- bytes), used when the request enrols. outcome 'approved' with what
-- was done, or 'expired' (recorded) when the request ran out.
CREATE FUNCTION approvals.approve(p_token bytea, p_source inet,
    p_id bigint, p_sha256 text, p_comment text, p_code2 bytea)
RETURNS TABLE (outcome text, approval jsonb, result jsonb,
    issues_code boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	x	record;
	r	approvals.requests%ROWTYPE;
	v_res	jsonb;
BEGIN
	SELECT * INTO x FROM approvals.for_decision(p_token, p_id);
	r := x.r;
	IF r.expires_at <= now() THEN
		r := approvals.expire(r);
		RETURN QUERY SELECT 'expired'::text, approvals.to_json(r),
		    NULL::jsonb, false;
		RETURN;
	END IF;
	IF p_sha256 IS DISTINCT FROM r.operation_sha256 THEN
		RAISE EXCEPTION 'operation_mismatch: not the operation requested'
		    USING ERRCODE = 'PCA08';
	END IF;
	IF r.kind = 'refund' THEN
		v_res := payments.refund((r.operation->>'transaction')::bigint,
		    (r.operation->>'amount')::bigint, r.operation->>'reason',
		    x.u, p_source, r);
	ELSE
		v_res := approvals.execute_user(r, x.u, p_source, p_code2);
	END IF;
	UPDATE approvals.requests SET status = 'approved',
	    decided_by = (x.u).id, decided_name = (x.u).username,
	    decided_at = now(), decision_comment = p_comment, result = v_res
	 WHERE id = r.id RETURNING * INTO r;
	PERFORM approvals.decided(r, x.u, p_source, 'approval.approved');
	RETURN QUERY SELECT 'approved'::text, approvals.to_json(r), v_res,
	    r.code_hash_1 IS NOT NULL;
END;
$$;

CREATE FUNCTION approvals.reject(p_token bytea, p_source inet, p_id bigint,
    p_comment text)
RETURNS TABLE (outcome text, approval jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	x	record;
	r	approvals.requests%ROWTYPE;
BEGIN
	SELECT * INTO x FROM approvals.for_decision(p_token, p_id);
	r := x.r;
	IF r.expires_at <= now() THEN
		r := approvals.expire(r);
		RETURN QUERY SELECT 'expired'::text, approvals.to_json(r);
		RETURN;
	END IF;
	UPDATE approvals.requests SET status = 'rejected',
	    decided_by = (x.u).id, decided_name = (x.u).username,
	    decided_at = now(), decision_comment = p_comment
	 WHERE id = r.id RETURNING * INTO r;
	PERFORM approvals.decided(r, x.u, p_source, 'approval.rejected');
	RETURN QUERY SELECT 'rejected'::text, approvals.to_json(r);
END;
$$;

-- The requester takes back a request nobody decided yet (a typo, a
-- change of mind): recorded and alerted like a decision, and a new
-- request for the same thing can then be made.
CREATE FUNCTION approvals.withdraw(p_token bytea, p_source inet,
    p_id bigint)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	r	approvals.requests%ROWTYPE;
	u	auth.users%ROWTYPE;
	v_ev	bigint;
BEGIN
	SELECT * INTO r FROM approvals.requests q WHERE q.id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'not_found' USING ERRCODE = 'PCA05';
	END IF;
	u := auth.actor(p_token, ARRAY['admin', 'operator'], false);
	IF u.id <> r.requested_by OR session_user <> approvals.kind_role(r.kind)
	THEN
		RAISE EXCEPTION 'forbidden: only its requester withdraws a '
		    'request' USING ERRCODE = 'PCA03';
	END IF;
	IF r.status <> 'pending' THEN
		RAISE EXCEPTION 'approval_not_pending: %', r.status
		    USING ERRCODE = 'PCA06';
	END IF;
	UPDATE approvals.requests SET status = 'withdrawn',
	    decided_at = now(), decided_name = u.username
	 WHERE id = r.id RETURNING * INTO r;
	v_ev := audit.record(u.id, u.username, u.role, p_source,
	    'approval.withdrawn', r.target_name, 'success',
	    jsonb_build_object('approval', r.id, 'kind', r.kind,
	        'requested_by', r.requested_by));
	PERFORM audit.raise('approval', 'warning', 'approval:' || r.id,
	    ARRAY[r.request_event, v_ev]);
	RETURN approvals.to_json(r);
END;
$$;

-- The requests the session's user may see: admins the account
-- requests, operators the refunds, auditors everything; pending first,
-- newest first, each with whether this user may decide it now.
CREATE FUNCTION approvals.list(p_token bytea)
RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	u	auth.users%ROWTYPE;
BEGIN
	u := auth.actor(p_token, ARRAY['admin', 'auditor', 'operator'], false);
	RETURN jsonb_build_object('approvals', coalesce((
	    SELECT jsonb_agg(approvals.to_json(q) || jsonb_build_object(
	        'can_decide', approvals.may_decide(q, u.id, u.role),
	        'mine', q.requested_by = u.id)
	        ORDER BY (q.status = 'pending' AND q.expires_at > now()) DESC,
	        q.id DESC)
	      FROM (SELECT * FROM approvals.requests q
	       WHERE u.role = 'auditor'
	          OR (u.role = 'operator' AND q.kind = 'refund')
	          OR (u.role = 'admin' AND q.kind <> 'refund')
	       ORDER BY (q.status = 'pending' AND q.expires_at > now()) DESC,
	           q.id DESC LIMIT 200) q), '[]'::jsonb));
END;
$$;

-- --- first sign-in --------------------------------------------------------------

-- The live, unexpired enrolment of p_username that both raw halves open.
CREATE FUNCTION auth.enrolment_find(p_username text, p_code1 bytea,
    p_code2 bytea)
RETURNS auth.enrolments
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT e.* FROM auth.enrolments e
	  JOIN auth.users u ON u.id = e.user_id
	 WHERE u.username = lower(normalize(p_username, NFKC))
	   AND u.disabled_at IS NULL
	   AND e.completed_at IS NULL AND e.revoked_at IS NULL
	   AND e.expires_at > now()
	   AND e.code_hash_1 = sha256(p_code1)
	   AND e.code_hash_2 = sha256(p_code2);
$$;

-- Step zero: does this name have an account, is it locked, is the
-- source blocked, and do the halves open its enrolment? Failures are
-- counted by auth.login_failed() like a login's.
CREATE FUNCTION auth.enrolment_check(p_username text, p_code1 bytea,
    p_code2 bytea, p_source inet)
RETURNS TABLE (user_id bigint, username text, valid boolean,
    locked boolean, source_blocked boolean,
    source_blocked_until timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT b.user_id, b.username,
	       (auth.enrolment_find(p_username, p_code1, p_code2)).id
	           IS NOT NULL,
	       b.locked, b.source_blocked, b.source_blocked_until
	  FROM auth.login_begin(p_username, p_source) b;
$$;

-- Step one: the password the user chose (hashed) and their new secret
-- (sealed by the server), kept until a first code confirms them.
CREATE FUNCTION auth.enrolment_stage(p_username text, p_code1 bytea,
    p_code2 bytea, p_source inet, p_hash text, p_sealed bytea,
    p_key_id integer)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	e	auth.enrolments%ROWTYPE;
BEGIN
	e := auth.enrolment_find(p_username, p_code1, p_code2);
	IF e.id IS NULL THEN
		RETURN false;
	END IF;
	UPDATE auth.enrolments SET staged_hash = p_hash,
	    staged_secret = p_sealed, staged_key_id = p_key_id
	 WHERE id = e.id;
	RETURN true;
END;
$$;

-- Step two's input: the staged secret to check the first code against.
CREATE FUNCTION auth.enrolment_staged(p_username text, p_code1 bytea,
    p_code2 bytea)
RETURNS TABLE (user_id bigint, totp_secret bytea)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
	SELECT e.user_id, e.staged_secret
	  FROM auth.enrolment_find(p_username, p_code1, p_code2) e
	 WHERE e.staged_secret IS NOT NULL;
$$;

-- Step two: the first code matched. The enrolment is consumed, the
-- factors become the account's, the code's step is used up.
CREATE FUNCTION auth.enrolment_finish(p_username text, p_code1 bytea,
    p_code2 bytea, p_source inet, p_step bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	e	auth.enrolments%ROWTYPE;
	v_u	auth.users%ROWTYPE;
BEGIN
	e := auth.enrolment_find(p_username, p_code1, p_code2);
	IF e.id IS NULL OR e.staged_hash IS NULL
	    OR NOT auth.step_plausible(p_step) THEN
		RETURN false;
	END IF;
	SELECT * INTO v_u FROM auth.users WHERE id = e.user_id FOR UPDATE;
	UPDATE auth.enrolments SET completed_at = now() WHERE id = e.id;
	INSERT INTO auth.credentials AS c (user_id, password_hash,
	    password_changed_at, must_change_password, totp_state,
	    totp_secret, totp_key_id, totp_last_step)
	VALUES (e.user_id, e.staged_hash, now(), false, 'enrolled',
	    e.staged_secret, e.staged_key_id, p_step)
	ON CONFLICT (user_id) DO UPDATE SET password_hash = e.staged_hash,
	    password_changed_at = now(), must_change_password = false,
	    totp_state = 'enrolled', totp_secret = e.staged_secret,
	    totp_key_id = e.staged_key_id,
	    totp_last_step = greatest(c.totp_last_step, p_step);
	UPDATE auth.lockout SET failures = 0 WHERE user_id = e.user_id;
	PERFORM audit.record(v_u.id, v_u.username, v_u.role, p_source,
	    'enrolment.completed', v_u.username, 'success',
	    jsonb_build_object('enrolment', e.id, 'reason', e.reason,
	        'approval', e.approval_id));
	RETURN true;
END;
$$;

-- An admin withdraws an account's open enrolment (a lost half, a
-- mistaken request). Taking access away needs no second person.
CREATE FUNCTION auth.enrolment_revoke(p_token bytea, p_source inet,
    p_target bigint)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	x	record;
	v_n	integer;
BEGIN
	SELECT * INTO x FROM auth.admin_act(p_token, p_target, false);
	UPDATE auth.enrolments SET revoked_at = now(),
	    revoked_by = (x.actor).username
	 WHERE user_id = p_target AND completed_at IS NULL
	   AND revoked_at IS NULL;
	GET DIAGNOSTICS v_n = ROW_COUNT;
	PERFORM audit.record((x.actor).id, (x.actor).username,
	    (x.actor).role, p_source, 'enrolment.revoked',
	    (x.target).username, 'success',
	    jsonb_build_object('user_id', p_target, 'count', v_n));
	RETURN v_n;
END;
$$;

-- --- the host: bootstrap and development seeding -------------------------------

-- The first two admins and the first auditor, from the host, each as an
-- enrolment whose two halves the CLI prints. SHARE ROW EXCLUSIVE on
-- auth.users conflicts with itself and every writer, so two runs cannot
-- both pass the count. Refusals are recorded too.
CREATE FUNCTION auth.bootstrap_account(p_actor text, p_username text,
    p_display text, p_role text, p_code1 bytea, p_code2 bytea,
    p_ttl integer)
RETURNS TABLE (outcome text, user_id bigint, expires_at timestamptz,
    admins integer, auditors integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_adm	integer;
	v_aud	integer;
	v_id	bigint;
	v_name	text := lower(normalize(p_username, NFKC));
	v_until	timestamptz;
BEGIN
	IF p_actor !~ '^cli:[a-z_][a-z0-9_.-]{0,31}$'
	    OR session_user <> 'pc_ops' THEN
		RAISE EXCEPTION 'forbidden' USING ERRCODE = 'PCA03';
	END IF;
	IF p_code1 IS NULL OR length(p_code1) <> 16 THEN
		RAISE EXCEPTION 'an enrolment half is 16 bytes'
		    USING ERRCODE = 'invalid_parameter_value';
	END IF;
	LOCK TABLE auth.users IN SHARE ROW EXCLUSIVE MODE;
	-- Disabled accounts count: they can be re-enabled.
	SELECT count(*) FILTER (WHERE role = 'admin'),
	       count(*) FILTER (WHERE role = 'auditor')
	  INTO v_adm, v_aud FROM auth.users;
	IF NOT ((p_role = 'admin' AND v_adm < 2)
	    OR (p_role = 'auditor' AND v_aud < 1)) THEN
		PERFORM audit.record(NULL, p_actor, 'cli', NULL,
		    'account.bootstrapped', v_name, 'denied',
		    jsonb_build_object('role', p_role, 'admins', v_adm,
		        'auditors', v_aud), 'bootstrap', 'alert');
		RETURN QUERY SELECT 'refused'::text, NULL::bigint,
		    NULL::timestamptz, v_adm, v_aud;
		RETURN;
	END IF;
	INSERT INTO auth.users (username, display_name, role, created_by)
	VALUES (v_name, p_display, p_role, p_actor) RETURNING id INTO v_id;
	INSERT INTO auth.lockout (user_id) VALUES (v_id);
	v_until := auth.enrolment_open(v_id, NULL, 'bootstrap',
	    sha256(p_code1), p_code2, p_ttl, p_actor);
	PERFORM audit.record(NULL, p_actor, 'cli', NULL,
	    'account.bootstrapped', v_name, 'success',
	    jsonb_build_object('role', p_role, 'user_id', v_id),
	    'bootstrap', 'alert');
	RETURN QUERY SELECT 'ok'::text, v_id, v_until,
	    v_adm + (p_role = 'admin')::integer,
	    v_aud + (p_role = 'auditor')::integer;
END;
$$;

CREATE FUNCTION auth.seeding_allowed()
RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	IF session_user <> 'pc_ops' OR NOT EXISTS (SELECT 1 FROM meta.settings
	    WHERE key = 'dev_seeding' AND value = 'on') THEN
		RAISE EXCEPTION 'forbidden: this database takes no seeded '
		    'accounts (meta.settings dev_seeding is not on)'
		    USING ERRCODE = 'PCA03';
	END IF;
END;
$$;

-- Development databases only: an account whose factors the CLI chose
-- (demo, test and bench accounts), in two steps because the sealed
-- secret is bound to the new id.
CREATE FUNCTION auth.seed_account(p_actor text, p_username text,
    p_display text, p_role text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
	v_id	bigint;
BEGIN
	PERFORM auth.seeding_allowed();
	INSERT INTO auth.users (username, display_name, role, created_by)
	VALUES (lower(normalize(p_username, NFKC)), p_display, p_role,
	    p_actor) RETURNING id INTO v_id;
	INSERT INTO auth.lockout (user_id) VALUES (v_id);
	PERFORM audit.record(NULL, p_actor, 'cli', NULL, 'user.created',
	    lower(normalize(p_username, NFKC)), 'success',
	    jsonb_build_object('role', p_role, 'user_id', v_id,
	        'seeded', true));
	RETURN v_id;
END;
$$;

CREATE FUNCTION auth.seed_credentials(p_user bigint, p_hash text,
    p_sealed bytea, p_key_id integer, p_must_change boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	PERFORM auth.seeding_allowed();
	INSERT INTO auth.credentials (user_id, password_hash,
	    must_change_password, totp_state, totp_secret, totp_key_id)
	VALUES (p_user, p_hash, p_must_change, 'enrolled', p_sealed, p_key_id);
END;
$$;

-- --- the review sees the new privileged events ----------------------------------

CREATE TABLE audit.privileged_events (
	event	text PRIMARY KEY
);
INSERT INTO audit.privileged_events VALUES
	('user.created'), ('user.disabled'), ('user.enabled'),
	('user.role_changed'), ('user.password_reset'), ('user.device_reset'),
	('otp.enrolment_started'), ('account.unlocked'), ('sessions.revoked'),
	('account.bootstrapped'), ('enrolment.completed'),
	('enrolment.revoked'), ('approval.requested'), ('approval.approved'),
	('approval.rejected'), ('approval.expired'), ('approval.withdrawn');
GRANT SELECT ON audit.privileged_events TO pc_api, pc_auditor, pc_auth;

-- The review's privileged changes: the events of that table.
CREATE OR REPLACE FUNCTION audit.review_rows(p_week text, p_tz text)
RETURNS TABLE (section text, item text, metric text, value bigint,
    at timestamptz, actor text, target text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
WITH b AS MATERIALIZED (
	SELECT * FROM audit.week_bounds(p_week, p_tz)
), ev AS MATERIALIZED (
	SELECT e.* FROM audit.events e, b
	 WHERE e.at >= b.from_at AND e.at < b.to_at
), logins AS (
	SELECT 1 AS ord, 'login'::text AS section,
	    CASE WHEN e.actor_id IS NULL THEN '(unknown)' ELSE e.target END
	        AS item, m.metric,
	    count(*) FILTER (WHERE e.event = m.event) AS value,
	    NULL::timestamptz AS at, NULL::text AS actor, NULL::text AS target,
	    m.ord AS sub
	  FROM ev e
	 CROSS JOIN (VALUES (1, 'successes', 'login.success'),
	     (2, 'failures', 'login.failure'), (3, 'lockouts', 'account.locked'))
	     AS m(ord, metric, event)
	 WHERE e.event IN ('login.success', 'login.failure', 'account.locked')
	   AND e.target IS NOT NULL
	 GROUP BY 3, m.ord, m.metric
), totals AS (
	SELECT 2, 'total'::text, NULL::text, t.metric, t.n,
	    NULL::timestamptz, NULL::text, NULL::text, t.ord FROM (
	    SELECT 1 AS ord, 'logins'::text AS metric,
	        count(*) FILTER (WHERE e.event = 'login.success') AS n FROM ev e
	    UNION ALL SELECT 2, 'failures',
	        count(*) FILTER (WHERE e.event = 'login.failure') FROM ev e
	    UNION ALL SELECT 3, 'lockouts',
	        count(*) FILTER (WHERE e.event = 'account.locked') FROM ev e
	    UNION ALL SELECT 4, 'outside_hours',
	        count(*) FILTER (WHERE e.event = 'login.outside_hours') FROM ev e
	    UNION ALL SELECT 5, 'denied_connections', coalesce(sum(
	        (e.details->>'count')::bigint) FILTER
	        (WHERE e.event = 'connection.denied'), 0)::bigint FROM ev e
	    UNION ALL SELECT 6, 'alerts_raised', count(*) FROM audit.alerts a, b
	        WHERE a.first_seen >= b.from_at AND a.first_seen < b.to_at
	    UNION ALL SELECT 7, 'alerts_acknowledged', count(*)
	        FROM audit.alerts a, b WHERE a.acknowledged_at >= b.from_at
	          AND a.acknowledged_at < b.to_at) t
), denied AS (
	SELECT 3, 'denied_source'::text, host(e.source), 'connections'::text,
	    sum((e.details->>'count')::bigint)::bigint, NULL::timestamptz,
	    NULL::text, NULL::text,
	    row_number() OVER (ORDER BY sum((e.details->>'count')::bigint)
	        DESC, host(e.source))
	  FROM ev e
	 WHERE e.event = 'connection.denied' AND e.source IS NOT NULL
	 GROUP BY e.source
	 ORDER BY 5 DESC, 3 LIMIT 20
), daily AS (
	SELECT 4, 'daily'::text, d.day::date::text, m.metric,
	    coalesce(sum(CASE WHEN m.metric = 'denied'
	        THEN (e.details->>'count')::bigint ELSE 1 END)
	        FILTER (WHERE e.id IS NOT NULL), 0)::bigint,
	    NULL::timestamptz, NULL::text, NULL::text, m.ord
	  FROM b CROSS JOIN generate_series(b.first_day::timestamp,
	       b.first_day::timestamp + interval '6 days', interval '1 day')
	       AS d(day)
	 CROSS JOIN (VALUES (1, 'logins', 'login.success'),
	     (2, 'failures', 'login.failure'), (3, 'denied', 'connection.denied'),
	     (4, 'outside_hours', 'login.outside_hours')) AS m(ord, metric, event)
	  LEFT JOIN ev e ON e.event = m.event
	   AND (e.at AT TIME ZONE p_tz)::date = d.day::date
	 GROUP BY d.day, m.ord, m.metric
), changes AS (
	SELECT 5, 'privileged_change'::text, e.id::text, e.event, NULL::bigint,
	    e.at, e.actor_name, e.target, e.id
	  FROM ev e
	 WHERE e.event IN (SELECT p.event FROM audit.privileged_events p)
), ops AS (
	SELECT 6, 'operations'::text, e.actor_name, m.metric,
	    CASE WHEN m.metric = 'refund_total'
	        THEN coalesce(sum((e.details->>'amount')::bigint) FILTER
	            (WHERE e.event = 'transaction.refunded'), 0)::bigint
	        ELSE count(*) FILTER (WHERE e.event = m.event) END,
	    NULL::timestamptz, NULL::text, NULL::text, m.ord
	  FROM ev e
	 CROSS JOIN (VALUES (1, 'captures', 'transaction.captured'),
	     (2, 'cancels', 'transaction.cancelled'),
	     (3, 'refunds', 'transaction.refunded'),
	     (4, 'refund_total', '')) AS m(ord, metric, event)
	 WHERE e.event IN ('transaction.captured', 'transaction.cancelled',
	     'transaction.refunded') AND e.actor_name IS NOT NULL
	 GROUP BY e.actor_name, m.ord, m.metric
)
SELECT u.section, u.item, u.metric, u.value, u.at, u.actor, u.target
  FROM (SELECT * FROM logins UNION ALL SELECT * FROM totals
	UNION ALL SELECT * FROM denied UNION ALL SELECT * FROM daily
	UNION ALL SELECT * FROM changes UNION ALL SELECT * FROM ops) u
 ORDER BY u.ord, CASE WHEN u.section IN ('denied_source',
	'privileged_change') THEN NULL
	ELSE u.item END NULLS FIRST, u.sub;
$$;

-- The inventory names the roles that log in and can read a column
-- (pc_api, which owns the functions, logs in as nobody).
CREATE OR REPLACE FUNCTION meta.inventory()
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
		      WHERE r.rolname LIKE 'pc\_%' AND r.rolcanlogin
		        AND has_column_privilege(r.oid, format('%I.%I',
		            p.schema_name, p.table_name), p.column_name,
		            'SELECT')
		      ORDER BY r.rolname);
	END LOOP;
END;
$$;

-- Where personal data lives, for the inventory.
INSERT INTO meta.personal_data VALUES
	('approvals', 'requests', 'requested_name', 'name',
	 'accountability for requests that need a second person'),
	('approvals', 'requests', 'decided_name', 'name',
	 'accountability for approvals'),
	('approvals', 'requests', 'request_source', 'IP address',
	 'accountability for requests that need a second person'),
	('approvals', 'requests', 'operation', 'name (a new account''s)',
	 'show the approver exactly what the request does');

-- --- grants ---------------------------------------------------------------------

REVOKE EXECUTE ON ALL ROUTINES IN SCHEMA auth, payments, audit, meta,
    approvals FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION audit.record(bigint, text, text, inet, text,
    text, text, jsonb, text, text) FROM pc_auth, pc_payments, pc_ops;

GRANT EXECUTE ON FUNCTION
    auth.session_check(bytea, integer, boolean, inet),
    auth.login_succeeded(bigint, inet, bigint, bytea, integer, timestamptz),
    auth.logout(bytea, inet), auth.own_factors(bytea, inet),
    auth.password_changed(bytea, inet, bigint, text),
    auth.reauthenticated(bytea, inet, bigint),
    auth.rehashed(bytea, text, inet),
    auth.admin_disable(bytea, inet, bigint),
    auth.admin_unlock(bytea, inet, bigint),
    auth.admin_revoke_sessions(bytea, inet, bigint),
    auth.enrolment_revoke(bytea, inet, bigint),
    auth.enrolment_check(text, bytea, bytea, inet),
    auth.enrolment_stage(text, bytea, bytea, inet, text, bytea, integer),
    auth.enrolment_staged(text, bytea, bytea),
    auth.enrolment_finish(text, bytea, bytea, inet, bigint),
    audit.note(bytea, inet, text, text, text, jsonb, text),
    audit.note_system(text, text, text, jsonb, inet, text),
    audit.seal(),
    audit.acknowledge(bytea, inet, bigint, text),
    audit.review_signoff(bytea, inet, text, text, text),
    audit.review_confirm(bytea, inet, text, text, text),
    approvals.request_user(bytea, inet, text, bigint, text, text, text,
        bytea, integer, integer),
    approvals.approve(bytea, inet, bigint, text, text, bytea),
    approvals.reject(bytea, inet, bigint, text),
    approvals.withdraw(bytea, inet, bigint),
    approvals.list(bytea), approvals.expire_due()
    TO pc_auth;
GRANT EXECUTE ON FUNCTION
    payments.operate(bytea, inet, text, bigint, integer, text, text,
        bigint, text, bigint, integer),
    payments.view_transaction(bytea, inet, bigint),
    audit.note(bytea, inet, text, text, text, jsonb, text),
    approvals.approve(bytea, inet, bigint, text, text, bytea),
    approvals.reject(bytea, inet, bigint, text),
    approvals.withdraw(bytea, inet, bigint),
    approvals.list(bytea)
    TO pc_payments;
GRANT EXECUTE ON FUNCTION approvals.list(bytea) TO pc_auditor;
GRANT EXECUTE ON FUNCTION
    audit.note_cli(text, text, text, text, jsonb), audit.seal(),
    auth.bootstrap_account(text, text, text, text, bytea, bytea, integer),
    auth.seed_account(text, text, text, text),
    auth.seed_credentials(bigint, text, bytea, integer, boolean)
    TO pc_ops;

-- Every function of the application belongs to pc_api. (Membership of
-- pc_owner in pc_api, cluster.sql, allows the hand-over; the schema
-- right it needs is granted for it and taken back.)
GRANT CREATE ON SCHEMA auth, payments, audit, meta, approvals TO pc_api;
DO $$
DECLARE
	f	record;
BEGIN
	FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
	    JOIN pg_namespace n ON n.oid = p.pronamespace
	    WHERE n.nspname IN ('auth', 'payments', 'audit', 'meta',
	        'approvals') LOOP
		EXECUTE format('ALTER FUNCTION %s OWNER TO pc_api', f.sig);
	END LOOP;
END;
$$;
REVOKE CREATE ON SCHEMA auth, payments, audit, meta, approvals FROM pc_api;
