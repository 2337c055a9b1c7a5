-- 017_expired_request_answers_expired.sql: a decision on a request that
-- has already been marked expired answers approval_expired (PCA07), as
-- one that runs out while being decided does, not approval_not_pending.
--
-- Before: the listing and the workers' timer mark overdue requests
-- 'expired' (approvals.expire_due); an approver who then pressed
-- Approve or Reject got 409 approval_not_pending, and what the answer
-- meant depended on which of the two came first.
-- After: the same stable code either way. Nothing else changes: the
-- request stays locked, its record was written when it was marked.

-- pc_api replaces its own function; it may create in the schema only
-- for the length of this transaction.
GRANT CREATE ON SCHEMA approvals TO pc_api;
SET ROLE pc_api;

CREATE OR REPLACE FUNCTION approvals.for_decision(p_token bytea,
    p_id bigint, OUT r approvals.requests, OUT u auth.users)
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
	IF r.status = 'expired' THEN
		RAISE EXCEPTION 'approval_expired' USING ERRCODE = 'PCA07';
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

RESET ROLE;
REVOKE CREATE ON SCHEMA approvals FROM pc_api;
