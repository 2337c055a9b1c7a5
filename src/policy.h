/*
 * policy.h: the payconsole policy file (conf/policy.conf).
 *
 * Pure code: no Kore headers. Every key is declared once in a table in
 * policy.c with its type and bounds. Unknown keys, malformed values,
 * duplicate scalar keys and missing required keys stop start-up with
 * "file:line: message" (fail closed, unlike Kore's own parser).
 */
#ifndef PC_POLICY_H
#define PC_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "hours.h"

#define PC_POLICY_MAX_CIDRS	256
#define PC_POLICY_PATH_MAX	256
#define PC_POLICY_NAME_MAX	64
#define PC_POLICY_ERR_MAX	512
#define PC_POLICY_MAX_NAMES	8
#define PC_POLICY_HOST_MAX	256

enum pc_policy_env {
	PC_POLICY_ENV_PRODUCTION = 0,
	PC_POLICY_ENV_DEVELOPMENT = 1,
};

/* Where the SIEM stream goes (issue 16, part 2). */
enum pc_policy_siem {
	PC_POLICY_SIEM_NONE = 0,
	PC_POLICY_SIEM_LOCAL = 1,	/* a local syslog datagram socket */
	PC_POLICY_SIEM_TLS = 2,		/* a collector, RFC 5425 */
};

struct pc_policy {
	enum pc_policy_env	environment;	/* environment production|development */

	/* Source addresses (issue 3). An empty allowlist denies everyone. */
	struct pc_cidr		allow[PC_POLICY_MAX_CIDRS];	/* allow_cidr (repeatable) */
	size_t			allow_count;
	struct pc_cidr		trusted_proxy[PC_POLICY_MAX_CIDRS]; /* trusted_proxy (repeatable) */
	size_t			trusted_proxy_count;
	/* Never blocked per source, e.g. a VPN concentrator's NAT address. */
	struct pc_cidr		source_fail_exempt[PC_POLICY_MAX_CIDRS]; /* source_fail_exempt (repeatable) */
	size_t			source_fail_exempt_count;

	/*
	 * The host names clients use (issue 13): the Host of every request
	 * must be one of them, with TLS SNI or without. None in production:
	 * every request is refused (421); development defaults to
	 * 127.0.0.1, localhost and [::1].
	 */
	char			server_name[PC_POLICY_MAX_NAMES][PC_POLICY_HOST_MAX]; /* server_name (repeatable) */
	size_t			server_name_count;

	/* Allowed hours. */
	struct pc_hours_window	hours;		/* hours HH:MM-HH:MM (default 09:00-24:00) */
	char			timezone[PC_POLICY_NAME_MAX]; /* timezone IANA name (default Asia/Tokyo) */

	/* Lockout and retry detection. */
	uint32_t		lockout_threshold;	/* 1..10, default 5 */
	uint32_t		lockout_seconds;	/* >= 60 (tests), default 1800 */
	uint32_t		lockout_max_seconds;	/* default 86400 */
	uint32_t		source_fail_threshold;	/* default 20 */
	uint32_t		source_fail_window;	/* seconds, default 600 */
	uint32_t		source_block_seconds;	/* default 900 */
	uint32_t		source_busy_weight;	/* 0..1000, default 1 */
	uint32_t		device_cookie_days;	/* 1..400, default 90 */
	uint32_t		device_sources_alert;	/* 2..100, default 3 */

	/* Password hashing (argon2id). */
	uint32_t		argon2_t;		/* 1..10, default 3 */
	uint32_t		argon2_m_kib;		/* 8192..1048576, default 65536 */
	uint32_t		argon2_p;		/* 1..8, default 1 */
	uint32_t		argon2_inflight;	/* 1..64 per worker, default 2 */

	/* Sessions. */
	uint32_t		session_idle_seconds;	/* 10..900, default 900 */
	uint32_t		session_absolute_seconds; /* 60..43200, default 43200 */

	/* Separation of duties (four eyes, split enrolment codes). */
	uint32_t		refund_approval_threshold; /* JPY; above: a second operator approves (default 100000) */
	uint32_t		approval_ttl_seconds;	/* 300..604800, default 86400 */
	uint32_t		enrolment_ttl_seconds;	/* 600..604800, default 86400 */

	/* Secrets and database. */
	char			totp_key_file[PC_POLICY_PATH_MAX]; /* required */
	char			db_socket_dir[PC_POLICY_PATH_MAX]; /* required, absolute */
	char			db_name[PC_POLICY_NAME_MAX];	/* default payconsole */
	uint32_t		db_timeout_seconds;	/* 1..60 per query, default 5 */
	/*
	 * A primary and its standbys on the same socket directory (issue
	 * 17): "5432,5433" makes libpq try each in turn and keep the one
	 * that takes writes (target_session_attrs=read-write). Empty: the
	 * one server on libpq's default port.
	 */
	char			db_ports[PC_POLICY_NAME_MAX];

	/*
	 * Signed checkpoints of the audit chain (issue 16): the Ed25519
	 * key (PEM PKCS#8, 0600) and the append-only file, both or
	 * neither; none: no checkpoints. Kore's site.conf takes no
	 * directives of ours, so they are policy keys.
	 */
	char			checkpoint_key_file[PC_POLICY_PATH_MAX];
	char			checkpoint_file[PC_POLICY_PATH_MAX];
	uint32_t		checkpoint_interval_seconds; /* 1..3600, default 300 */

	/*
	 * PCI DSS 8.2.6: an account with no sign-in for this many days is
	 * disabled by worker 1 (the database never applies more than 90).
	 */
	uint32_t		inactive_disable_days;	/* 1..90, default 90 */

	/*
	 * PCI DSS 10.7.2: worker 1 checks the controls this often (clock,
	 * policy file, sealer) and the whole chain every
	 * chain_verify_seconds (src/control.c).
	 */
	uint32_t		control_check_seconds;	/* 1..3600, default 30 */
	uint32_t		chain_verify_seconds;	/* 1..86400, default 600 */

	/*
	 * PCI DSS 10.4.1: payconsole-admin reports mail sends each daily
	 * digest and weekly summary to every one of report_recipients
	 * (comma-separated addresses) through report_sendmail, the local
	 * MTA's sendmail interface. Kore's site.conf takes no directives
	 * of ours, so they are policy keys (as the checkpoint keys).
	 */
	char			report_recipients[512];
	char			report_sendmail[PC_POLICY_PATH_MAX];

	/*
	 * The SIEM stream (src/siem.c): every sealed event as one RFC 5424
	 * message, to siem_socket (local: a datagram socket under Kore's
	 * root, which the chrooted worker sees without the prefix) or to
	 * siem_collector over TLS, checked against siem_ca. Policy keys,
	 * not site.conf, for the same reason as the checkpoint keys.
	 */
	enum pc_policy_siem	siem_sink;		/* none|local|tls, default none */
	char			siem_socket[PC_POLICY_PATH_MAX];
	char			siem_collector[PC_POLICY_HOST_MAX]; /* host:port */
	char			siem_ca[PC_POLICY_PATH_MAX];
	uint32_t		siem_interval_seconds;	/* 1..3600, default 5 */
	uint32_t		siem_down_seconds;	/* 1..86400, default 60 */

	/* SHA-256 of the file as read, hex; logged at start-up. */
	char			digest[65];
};

/*
 * 1 if a request's Host value, with or without ":port", is one of the
 * policy's server_name entries (compared without regard to case).
 */
int	pc_policy_host_ok(const struct pc_policy *p, const char *host);

/* Fill *p with defaults (required strings left empty). */
void	pc_policy_defaults(struct pc_policy *p);

/*
 * libpq's host list for the policy's db_ports: dir once per port
 * ("dir,dir"), or dir alone when no ports are set. 0, or -1 when it
 * does not fit or dir has a comma.
 */
int	pc_policy_db_hosts(const struct pc_policy *p, const char *dir,
	    char *buf, size_t len);

/*
 * Parse a policy from memory. name is used in messages ("name:line: ...").
 * Returns 0 on success, -1 with err filled on failure.
 */
int	pc_policy_parse(struct pc_policy *p, const char *name,
	    const char *text, size_t len, char *err, size_t errlen);

/* Read and parse a file. Same contract as pc_policy_parse. */
int	pc_policy_load(struct pc_policy *p, const char *path,
	    char *err, size_t errlen);

/*
 * One line describing the policy in force (for the start-up log):
 * environment, hours, timezone, counts, argon2 params, digest.
 */
void	pc_policy_describe(const struct pc_policy *p, char *buf, size_t len);

#endif
