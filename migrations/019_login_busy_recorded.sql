-- 019_login_busy_recorded.sql: a login answered 429 because no hashing
-- slot freed up is recorded (issue 13). Before, it was not recorded at
-- all: a storm that turned real users away left no trace in the trail.
-- The server writes login.busy once per source and minute with the
-- count (src/refusals.c, shared with the allowlist's connection.denied).
INSERT INTO audit.note_rules (login_role, event, actor_roles, rule)
VALUES ('pc_auth', 'login.busy', NULL, NULL);
