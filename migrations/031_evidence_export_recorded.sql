-- 031_evidence_export_recorded.sql: an evidence bundle is itself in the
-- trail (issue 16, part 6). `payconsole-admin evidence` notes
-- evidence.exported with the bundle's period, size and SHA-256 once the
-- file is in place; the sealer links that record into the chain and the
-- next signed checkpoint covers it, so a bundle handed to an assessor can
-- be matched, byte for byte, against a record the database owner cannot
-- rewrite unseen.
INSERT INTO audit.note_rules (login_role, event, actor_roles, rule)
VALUES ('pc_ops', 'evidence.exported', NULL, NULL);
