-- 002_auth.sql: users, credentials, sessions, lockout state.
-- Secrets (password hashes, sealed TOTP secrets, session token hashes)
-- live only in tables that pc_auth and pc_ops can read.

CREATE TABLE auth.users (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- Canonical form: NFKC, lower case (variants are one account).
	username		text NOT NULL UNIQUE
	    CHECK (username = lower(normalize(username, NFKC))
	        AND length(username) BETWEEN 1 AND 64
	        AND username !~ '[[:space:][:cntrl:]]'),
	display_name		text NOT NULL
	    CHECK (length(display_name) BETWEEN 1 AND 128),
	-- One role per account: nobody is both admin and auditor.
	role			text NOT NULL
	    CHECK (role IN ('operator', 'admin', 'auditor')),
	disabled_at		timestamptz,
	created_at		timestamptz NOT NULL DEFAULT now(),
	created_by		text NOT NULL,
	last_login_at		timestamptz,
	last_login_source	inet
);

CREATE TABLE auth.credentials (
	user_id			bigint PRIMARY KEY
	    REFERENCES auth.users (id) ON DELETE RESTRICT,
	password_hash		text NOT NULL
	    CHECK (password_hash LIKE '$argon2id$v=19$%'),
	password_changed_at	timestamptz NOT NULL DEFAULT now(),
	must_change_password	boolean NOT NULL DEFAULT true,
	-- AES-256-GCM blob (src/secretbox.c) under key totp_key_id.
	totp_state		text NOT NULL DEFAULT 'none'
	    CHECK (totp_state IN ('none', 'pending', 'enrolled')),
	totp_secret		bytea,
	totp_key_id		integer,
	-- Highest RFC 6238 step accepted: a step is never accepted twice.
	totp_last_step		bigint NOT NULL DEFAULT 0,
	CHECK ((totp_state = 'none') = (totp_secret IS NULL)),
	CHECK ((totp_secret IS NULL) = (totp_key_id IS NULL))
);

CREATE TABLE auth.lockout (
	user_id			bigint PRIMARY KEY
	    REFERENCES auth.users (id) ON DELETE RESTRICT,
	failures		integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
	locked_until		timestamptz,
	lockouts_24h		integer NOT NULL DEFAULT 0,
	last_lockout_at		timestamptz,
	last_failure_at		timestamptz
);

CREATE TABLE auth.source_blocks (
	source			inet PRIMARY KEY,
	failures		integer NOT NULL DEFAULT 0,
	window_start		timestamptz NOT NULL DEFAULT now(),
	blocked_until		timestamptz
);

CREATE TABLE auth.sessions (
	id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- SHA-256 of the 256-bit token; the token itself is never stored.
	token_hash		bytea NOT NULL UNIQUE
	    CHECK (length(token_hash) = 32),
	user_id			bigint NOT NULL REFERENCES auth.users (id),
	created_at		timestamptz NOT NULL DEFAULT now(),
	last_seen_at		timestamptz NOT NULL DEFAULT now(),
	idle_expires_at		timestamptz NOT NULL,
	absolute_expires_at	timestamptz NOT NULL,
	reauth_at		timestamptz,
	source			inet,
	revoked_at		timestamptz,
	revoke_reason		text
);
CREATE INDEX sessions_user_live ON auth.sessions (user_id)
	WHERE revoked_at IS NULL;

-- What other concerns may know about users: no secrets.
CREATE VIEW auth.directory WITH (security_barrier) AS
SELECT u.id, u.username, u.display_name, u.role,
       u.disabled_at IS NOT NULL AS disabled,
       l.locked_until, u.last_login_at, u.last_login_source,
       c.totp_state, c.password_changed_at, c.must_change_password
  FROM auth.users u
  LEFT JOIN auth.credentials c ON c.user_id = u.id
  LEFT JOIN auth.lockout l ON l.user_id = u.id;

GRANT SELECT, INSERT, UPDATE ON auth.users, auth.credentials,
	auth.lockout, auth.source_blocks TO pc_auth, pc_ops;
GRANT SELECT, INSERT, UPDATE ON auth.sessions TO pc_auth, pc_ops;
GRANT DELETE ON auth.source_blocks TO pc_auth;
GRANT SELECT ON auth.directory TO pc_auth, pc_payments, pc_auditor, pc_ops;
