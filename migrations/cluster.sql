-- cluster.sql: cluster-wide objects, applied by the PostgreSQL superuser
-- before the numbered migrations (scripts/devstack). Idempotent.
--
-- One login role per concern (least privilege, PCI DSS 7.2):
--   pc_owner     owns every schema and object; runs migrations; never
--                used by the server
--   pc_auth      the server, for authentication: users, credentials,
--                sessions, lockout state
--   pc_payments  the server, for payment operations; cannot read secrets
--   pc_auditor   the server, for auditors: SELECT only, read-only
--                transactions
--   pc_ops       the payconsole-admin CLI on the server host
--   pc_api       no login: owns every application function (migration
--                015), so table writes happen only inside the SECURITY
--                DEFINER functions it owns, never as a login role
-- No role is a superuser, none can create roles or databases, none
-- inherits another's privileges.
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS', r)
  FROM unnest(ARRAY['pc_owner', 'pc_auth', 'pc_payments', 'pc_auditor', 'pc_ops']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)
\gexec

SELECT 'CREATE ROLE pc_api NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pc_api')
\gexec
-- ALTER FUNCTION ... OWNER TO pc_api needs membership; NOINHERIT keeps
-- pc_api's table rights away from pc_owner's own sessions.
GRANT pc_api TO pc_owner;

SELECT 'CREATE DATABASE payconsole OWNER pc_owner ENCODING ''UTF8'' TEMPLATE template0'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'payconsole')
\gexec

REVOKE ALL ON DATABASE payconsole FROM PUBLIC;
GRANT CONNECT ON DATABASE payconsole TO pc_auth, pc_payments, pc_auditor, pc_ops;

-- Runtime roles resolve no unqualified name through a writable schema.
ALTER ROLE pc_auth SET search_path = pg_catalog;
ALTER ROLE pc_payments SET search_path = pg_catalog;
ALTER ROLE pc_auditor SET search_path = pg_catalog;
ALTER ROLE pc_ops SET search_path = pg_catalog;
-- Auditors cannot write, even through a bug (see also their grants).
ALTER ROLE pc_auditor SET default_transaction_read_only = on;
-- Parameters carry raw session tokens, enrolment code halves and
-- password hashes: never into the server log, whatever log_statement or
-- log_min_duration_statement a site sets (superuser-only settings, so
-- the roles cannot turn them back on).
ALTER ROLE pc_auth SET log_parameter_max_length = 0;
ALTER ROLE pc_payments SET log_parameter_max_length = 0;
ALTER ROLE pc_auditor SET log_parameter_max_length = 0;
ALTER ROLE pc_ops SET log_parameter_max_length = 0;
ALTER ROLE pc_auth SET log_parameter_max_length_on_error = 0;
ALTER ROLE pc_payments SET log_parameter_max_length_on_error = 0;
ALTER ROLE pc_auditor SET log_parameter_max_length_on_error = 0;
ALTER ROLE pc_ops SET log_parameter_max_length_on_error = 0;
-- A stuck statement must not hold a worker's connection for ever.
ALTER ROLE pc_auth SET statement_timeout = '10s';
ALTER ROLE pc_payments SET statement_timeout = '10s';
ALTER ROLE pc_auditor SET statement_timeout = '30s';
