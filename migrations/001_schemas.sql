-- 001_schemas.sql: one schema per concern, owned by pc_owner.
-- PUBLIC gets nothing; each runtime role gets exactly what it needs in
-- the migration that creates the object.

CREATE SCHEMA auth AUTHORIZATION pc_owner;
CREATE SCHEMA payments AUTHORIZATION pc_owner;
CREATE SCHEMA audit AUTHORIZATION pc_owner;

REVOKE ALL ON SCHEMA auth, payments, audit FROM PUBLIC;

-- Objects created later by pc_owner stay private unless granted.
ALTER DEFAULT PRIVILEGES IN SCHEMA auth, payments, audit
	REVOKE ALL ON TABLES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA auth, payments, audit
	REVOKE ALL ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA auth, payments, audit
	REVOKE ALL ON SEQUENCES FROM PUBLIC;

GRANT USAGE ON SCHEMA auth TO pc_auth, pc_ops;
GRANT USAGE ON SCHEMA payments TO pc_payments, pc_auditor;
GRANT USAGE ON SCHEMA audit TO pc_auth, pc_payments, pc_auditor, pc_ops;
-- Auditors and payments see users only through auth.directory (002).
GRANT USAGE ON SCHEMA auth TO pc_payments, pc_auditor;
