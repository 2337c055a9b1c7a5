-- 014_least_privilege.sql: a function runs only for the roles named on it.
--
-- 1. Per-schema default privileges (001) cannot take away what
--    PostgreSQL grants globally: every function a migration created was
--    executable by PUBLIC unless that migration revoked it. The payment
--    functions of 007 (operate, view_transaction, txn_json, refund_list)
--    were so callable by pc_auth, pc_auditor and pc_ops, which the
--    design never meant (they failed further in only for want of table
--    rights). Revoked from PUBLIC in every application schema; the
--    grants made to named roles stay.
-- 2. The owner's global default no longer grants EXECUTE to PUBLIC, so
--    a function a later migration adds is private until granted.
-- 3. auth.own_credentials() (006) was superseded by auth.own_factors()
--    (009) and is called by nothing, yet handed pc_auth any account's
--    password hash and sealed TOTP secret: dropped.

ALTER DEFAULT PRIVILEGES FOR ROLE pc_owner
	REVOKE EXECUTE ON ROUTINES FROM PUBLIC;

REVOKE EXECUTE ON ALL ROUTINES IN SCHEMA auth, payments, audit, meta
	FROM PUBLIC;

DROP FUNCTION auth.own_credentials(bigint);
