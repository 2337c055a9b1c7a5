/*
 * policy.c: the payconsole policy file (conf/policy.conf).
 *
 * Pure code: no Kore headers. Every key is declared once in
 * pc_policy_keys[] with its type and bounds; the parser, the duplicate
 * check and the required-key check are all driven by that table.
 *
 * Format: one "key value" per line, separated by spaces or tabs. '#'
 * starts a comment only as the first non-blank character of a line, so
 * "lockout_threshold 5 # five" is an error, not 5. Blank lines and
 * trailing blanks are ignored; values may not be empty. Control
 * characters other than tab are refused anywhere (a CRLF file fails on
 * line 1 instead of half-parsing). Lines are limited to 1024 bytes.
 *
 * Every error is "name:line: what". Problems that belong to no single
 * line (a missing required key, a file that cannot be read) are
 * reported on line 0. Cross-key checks (lockout_max_seconds against
 * lockout_seconds, the production argon2 floor) are made after the
 * whole file is read and point at the line of the key that set the
 * offending value last.
 *
 * Fail closed: on any error *p is reset to the defaults, which have an
 * empty allowlist (nobody may connect) and no key or socket paths.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mailmsg.h"
#include "policy.h"

#define PC_POLICY_LINE_MAX	1024
#define PC_POLICY_FILE_MAX	(1024 * 1024)
#define PC_POLICY_ECHO_MAX	64

/* OWASP argon2id minimums, enforced in production only. */
#define PC_POLICY_ARGON2_M_T1	47104	/* m >= 46 MiB with t >= 1 */
#define PC_POLICY_ARGON2_M_T2	19456	/* m >= 19 MiB with t >= 2 */
/* Shorter lockouts exist for tests, in development only. */
#define PC_POLICY_LOCKOUT_MIN	1800

enum pc_policy_type {
	PC_POLICY_T_UINT,
	PC_POLICY_T_STRING,
	PC_POLICY_T_ENUM,
	PC_POLICY_T_CIDRS,
	PC_POLICY_T_HOURS,
	PC_POLICY_T_PATH,
	PC_POLICY_T_NAMES,
};

#define PC_POLICY_F_REQUIRED	0x01
#define PC_POLICY_F_REPEAT	0x02

struct pc_policy_enum {
	const char	*name;
	int		 value;
};

struct pc_policy_key {
	const char		*name;
	enum pc_policy_type	 type;
	size_t			 off;	  /* field in struct pc_policy */
	size_t			 size;	  /* its size (strings: buffer) */
	size_t			 cnt_off; /* count field (cidr lists) */
	uint32_t		 min;	  /* uint: lower bound */
	uint32_t		 max;	  /* uint: upper; strings: length */
	int			 flags;
	int			(*check)(const char *);
	const struct pc_policy_enum *enums;
	const char		*what;	  /* for "expected ..." messages */
};

struct pc_policy_ctx {
	const char	*name;
	char		*err;
	size_t		 errlen;
	size_t		 line;
};

static int	pc_policy_line(struct pc_policy *, struct pc_policy_ctx *,
		    const char *, size_t, size_t *);
static int	pc_policy_set(struct pc_policy *, struct pc_policy_ctx *,
		    const struct pc_policy_key *, const char *);
static int	pc_policy_finish(struct pc_policy *, struct pc_policy_ctx *,
		    const size_t *);
static const struct pc_policy_key *pc_policy_key_find(const char *, size_t *);
static size_t	pc_policy_seen(const size_t *, const char *);
static int	pc_policy_uint_parse(const char *, uint32_t *);
static int	pc_policy_timezone_ok(const char *);
static int	pc_policy_dbname_ok(const char *);
static int	pc_policy_ports_ok(const char *);
static int	pc_policy_path_ok(const char *);
static int	pc_policy_hostname_ok(const char *);
static int	pc_policy_hostport_ok(const char *);
static int	pc_policy_finish_siem(struct pc_policy *,
		    struct pc_policy_ctx *, const size_t *);
static int	pc_policy_digest(struct pc_policy *, const char *, size_t);
static void	pc_policy_echo(char *, size_t, const char *);
static void	pc_policy_verror(struct pc_policy_ctx *, const char *,
		    va_list) __attribute__((format(printf, 2, 0)));
static void	pc_policy_error(struct pc_policy_ctx *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	pc_policy_fail(struct pc_policy *, struct pc_policy_ctx *,
		    size_t, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

#define PC_FSIZE(f)	sizeof(((struct pc_policy *)NULL)->f)

#define PC_UINT(n, f, lo, hi)						\
	{ n, PC_POLICY_T_UINT, offsetof(struct pc_policy, f),		\
	  PC_FSIZE(f), 0, lo, hi, 0, NULL, NULL, NULL }
#define PC_STRING(n, f, maxlen, fn, w)					\
	{ n, PC_POLICY_T_STRING, offsetof(struct pc_policy, f),		\
	  PC_FSIZE(f), 0, 0, maxlen, 0, fn, NULL, w }
#define PC_PATH(n, f, fl)						\
	{ n, PC_POLICY_T_PATH, offsetof(struct pc_policy, f),		\
	  PC_FSIZE(f), 0, 0, PC_POLICY_PATH_MAX - 1, fl,		\
	  pc_policy_path_ok, NULL,					\
	  "an absolute path without blanks, //, . or .. parts" }
#define PC_CIDRS(n, f, cnt)						\
	{ n, PC_POLICY_T_CIDRS, offsetof(struct pc_policy, f),		\
	  PC_FSIZE(f), offsetof(struct pc_policy, cnt), 0,		\
	  PC_POLICY_MAX_CIDRS, PC_POLICY_F_REPEAT, NULL, NULL, NULL }

#define PC_NAMES(n, f, cnt)						\
	{ n, PC_POLICY_T_NAMES, offsetof(struct pc_policy, f),		\
	  PC_FSIZE(f), offsetof(struct pc_policy, cnt), 0,		\
	  PC_POLICY_MAX_NAMES, PC_POLICY_F_REPEAT, pc_policy_hostname_ok,	\
	  NULL, "a host name in lower case, an IPv4 address or [IPv6]" }

static const struct pc_policy_enum pc_policy_envs[] = {
	{ "production",		PC_POLICY_ENV_PRODUCTION },
	{ "development",	PC_POLICY_ENV_DEVELOPMENT },
	{ NULL,			0 },
};

static const struct pc_policy_enum pc_policy_siems[] = {
	{ "none",	PC_POLICY_SIEM_NONE },
	{ "local",	PC_POLICY_SIEM_LOCAL },
	{ "tls",	PC_POLICY_SIEM_TLS },
	{ NULL,		0 },
};

/* The single declaration of every key. Order is the reporting order. */
static const struct pc_policy_key pc_policy_keys[] = {
	{ "environment", PC_POLICY_T_ENUM,
	  offsetof(struct pc_policy, environment),
	  PC_FSIZE(environment), 0, 0, 0, 0, NULL, pc_policy_envs,
	  "production or development" },
	PC_CIDRS("allow_cidr", allow, allow_count),
	PC_CIDRS("trusted_proxy", trusted_proxy, trusted_proxy_count),
	PC_NAMES("server_name", server_name, server_name_count),
	PC_CIDRS("source_fail_exempt", source_fail_exempt,
	    source_fail_exempt_count),
	{ "hours", PC_POLICY_T_HOURS, offsetof(struct pc_policy, hours),
	  PC_FSIZE(hours), 0, 0, 0, 0, NULL, NULL, "HH:MM-HH:MM" },
	PC_STRING("timezone", timezone, 63, pc_policy_timezone_ok,
	    "an IANA zone name"),
	PC_UINT("lockout_threshold", lockout_threshold, 1, 10),
	PC_UINT("lockout_seconds", lockout_seconds, 1, 86400),
	PC_UINT("lockout_max_seconds", lockout_max_seconds, 1, 604800),
	PC_UINT("source_fail_threshold", source_fail_threshold, 1, 1000),
	PC_UINT("source_fail_window", source_fail_window, 10, 86400),
	PC_UINT("source_block_seconds", source_block_seconds, 10, 86400),
	PC_UINT("source_busy_weight", source_busy_weight, 0, 1000),
	PC_UINT("device_cookie_days", device_cookie_days, 1, 400),
	PC_UINT("device_sources_alert", device_sources_alert, 2, 100),
	PC_UINT("argon2_t", argon2_t, 1, 10),
	PC_UINT("argon2_m_kib", argon2_m_kib, 8192, 1048576),
	PC_UINT("argon2_p", argon2_p, 1, 8),
	PC_UINT("argon2_inflight", argon2_inflight, 1, 64),
	PC_UINT("session_idle_seconds", session_idle_seconds, 10, 900),
	PC_UINT("session_absolute_seconds", session_absolute_seconds,
	    60, 43200),
	PC_UINT("refund_approval_threshold", refund_approval_threshold, 0,
	    4000000000U),
	PC_UINT("approval_ttl_seconds", approval_ttl_seconds, 300, 604800),
	PC_UINT("enrolment_ttl_seconds", enrolment_ttl_seconds, 600, 604800),
	PC_PATH("totp_key_file", totp_key_file, PC_POLICY_F_REQUIRED),
	PC_PATH("db_socket_dir", db_socket_dir, PC_POLICY_F_REQUIRED),
	PC_STRING("db_name", db_name, 63, pc_policy_dbname_ok,
	    "a name matching [a-z_][a-z0-9_]*"),
	PC_UINT("db_timeout_seconds", db_timeout_seconds, 1, 60),
	PC_STRING("db_ports", db_ports, 23, pc_policy_ports_ok,
	    "1 to 4 port numbers separated by commas"),
	PC_PATH("checkpoint_key_file", checkpoint_key_file, 0),
	PC_PATH("checkpoint_file", checkpoint_file, 0),
	PC_UINT("checkpoint_interval_seconds", checkpoint_interval_seconds,
	    1, 3600),
	PC_UINT("inactive_disable_days", inactive_disable_days, 1, 90),
	PC_UINT("control_check_seconds", control_check_seconds, 1, 3600),
	PC_UINT("chain_verify_seconds", chain_verify_seconds, 1, 86400),
	PC_STRING("report_recipients", report_recipients, 511,
	    pc_mailmsg_recipients_ok, "comma-separated addresses "
	    "local@domain (at most 16), without blanks"),
	PC_PATH("report_sendmail", report_sendmail, 0),
	{ "siem_sink", PC_POLICY_T_ENUM, offsetof(struct pc_policy, siem_sink),
	  PC_FSIZE(siem_sink), 0, 0, 0, 0, NULL, pc_policy_siems,
	  "none, local or tls" },
	PC_PATH("siem_socket", siem_socket, 0),
	PC_STRING("siem_collector", siem_collector, PC_POLICY_HOST_MAX - 1,
	    pc_policy_hostport_ok, "HOST:PORT, HOST a host name in lower "
	    "case, an IPv4 address or [IPv6]"),
	PC_PATH("siem_ca", siem_ca, 0),
	PC_UINT("siem_interval_seconds", siem_interval_seconds, 1, 3600),
	PC_UINT("siem_down_seconds", siem_down_seconds, 1, 86400),
};

#define PC_POLICY_NKEYS	(sizeof(pc_policy_keys) / sizeof(pc_policy_keys[0]))

void
pc_policy_defaults(struct pc_policy *p)
{
	memset(p, 0, sizeof(*p));

	p->environment = PC_POLICY_ENV_PRODUCTION;
	p->hours.start_min = 9 * 60;
	p->hours.end_min = 24 * 60;
	(void)snprintf(p->timezone, sizeof(p->timezone), "%s", "Asia/Tokyo");

	p->lockout_threshold = 5;
	p->lockout_seconds = 1800;
	p->lockout_max_seconds = 86400;
	p->source_fail_threshold = 20;
	p->source_fail_window = 600;
	p->source_block_seconds = 900;
	p->source_busy_weight = 1;
	p->device_cookie_days = 90;
	p->device_sources_alert = 3;

	p->argon2_t = 3;
	p->argon2_m_kib = 65536;
	p->argon2_p = 1;
	p->argon2_inflight = 2;

	p->session_idle_seconds = 900;
	p->session_absolute_seconds = 43200;

	p->refund_approval_threshold = 100000;
	p->approval_ttl_seconds = 86400;
	p->enrolment_ttl_seconds = 86400;
	p->checkpoint_interval_seconds = 300;
	p->inactive_disable_days = 90;
	p->control_check_seconds = 30;
	p->chain_verify_seconds = 600;
	(void)snprintf(p->report_sendmail, sizeof(p->report_sendmail), "%s",
	    "/usr/sbin/sendmail");
	p->siem_sink = PC_POLICY_SIEM_NONE;
	p->siem_interval_seconds = 5;
	p->siem_down_seconds = 60;

	(void)snprintf(p->db_name, sizeof(p->db_name), "%s", "payconsole");
	p->db_timeout_seconds = 5;
}

int
pc_policy_parse(struct pc_policy *p, const char *name, const char *text,
    size_t len, char *err, size_t errlen)
{
	struct pc_policy_ctx	 ctx;
	size_t			 seen[PC_POLICY_NKEYS];
	const char		*line, *nl, *end;

	ctx.name = (name != NULL) ? name : "(policy)";
	ctx.err = err;
	ctx.errlen = errlen;
	ctx.line = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';

	if (p == NULL) {
		pc_policy_error(&ctx, "no policy to fill");
		return (-1);
	}
	pc_policy_defaults(p);

	if (text == NULL && len != 0)
		return (pc_policy_fail(p, &ctx, 0, "no policy text"));
	if (text == NULL)
		text = "";

	memset(seen, 0, sizeof(seen));
	line = text;
	end = text + len;
	while (line < end) {
		ctx.line++;
		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			nl = end;
		if (pc_policy_line(p, &ctx, line, (size_t)(nl - line),
		    seen) == -1) {
			pc_policy_defaults(p);
			return (-1);
		}
		line = nl + 1;
	}

	ctx.line = 0;
	if (pc_policy_finish(p, &ctx, seen) == -1) {
		pc_policy_defaults(p);
		return (-1);
	}

	if (pc_policy_digest(p, text, len) == -1)
		return (pc_policy_fail(p, &ctx, 0, "cannot compute SHA-256"));

	return (0);
}

int
pc_policy_load(struct pc_policy *p, const char *path, char *err,
    size_t errlen)
{
	struct pc_policy_ctx	 ctx;
	struct stat		 st;
	char			*buf;
	size_t			 len;
	ssize_t			 r;
	int			 fd, rc, saved;

	ctx.name = (path != NULL) ? path : "(policy)";
	ctx.err = err;
	ctx.errlen = errlen;
	ctx.line = 0;

	if (p == NULL) {
		pc_policy_error(&ctx, "no policy to fill");
		return (-1);
	}
	pc_policy_defaults(p);
	if (path == NULL)
		return (pc_policy_fail(p, &ctx, 0, "no path"));

	/* O_NONBLOCK: a FIFO must be refused, not block start-up. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1)
		return (pc_policy_fail(p, &ctx, 0, "cannot open: %s",
		    strerror(errno)));

	if (fstat(fd, &st) == -1) {
		saved = errno;
		(void)close(fd);
		return (pc_policy_fail(p, &ctx, 0, "cannot stat: %s",
		    strerror(saved)));
	}
	if (!S_ISREG(st.st_mode)) {
		(void)close(fd);
		return (pc_policy_fail(p, &ctx, 0, "not a regular file"));
	}
	if (st.st_size < 0 || st.st_size > PC_POLICY_FILE_MAX) {
		(void)close(fd);
		return (pc_policy_fail(p, &ctx, 0,
		    "file larger than %d bytes", PC_POLICY_FILE_MAX));
	}

	/* One spare byte to notice a file that grows while we read it. */
	if ((buf = malloc(PC_POLICY_FILE_MAX + 1)) == NULL) {
		(void)close(fd);
		return (pc_policy_fail(p, &ctx, 0, "out of memory"));
	}

	len = 0;
	for (;;) {
		r = read(fd, buf + len, PC_POLICY_FILE_MAX + 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			saved = errno;
			free(buf);
			(void)close(fd);
			return (pc_policy_fail(p, &ctx, 0, "cannot read: %s",
			    strerror(saved)));
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > PC_POLICY_FILE_MAX) {
			free(buf);
			(void)close(fd);
			return (pc_policy_fail(p, &ctx, 0,
			    "file larger than %d bytes", PC_POLICY_FILE_MAX));
		}
	}
	(void)close(fd);

	rc = pc_policy_parse(p, path, buf, len, err, errlen);
	free(buf);

	return (rc);
}

void
pc_policy_describe(const struct pc_policy *p, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return;
	if (p == NULL) {
		buf[0] = '\0';
		return;
	}

	(void)snprintf(buf, len,
	    "environment=%s hours=%02u:%02u-%02u:%02u timezone=%s "
	    "allow_cidr=%zu trusted_proxy=%zu server_name=%zu "
	    "lockout=%u/%us/%us source_fail=%u/%us/block%us/exempt%zu "
	    "argon2id=t%u,m%u,p%u,inflight%u session=%us/%us "
	    "four_eyes=refund>%u/request%us/enrolment%us "
	    "db=%s@%s totp_key_file=%s sha256=%s",
	    p->environment == PC_POLICY_ENV_DEVELOPMENT ?
	    "development" : "production",
	    (unsigned int)(p->hours.start_min / 60),
	    (unsigned int)(p->hours.start_min % 60),
	    (unsigned int)(p->hours.end_min / 60),
	    (unsigned int)(p->hours.end_min % 60),
	    p->timezone, p->allow_count, p->trusted_proxy_count,
	    p->server_name_count, p->lockout_threshold, p->lockout_seconds, p->lockout_max_seconds,
	    p->source_fail_threshold, p->source_fail_window,
	    p->source_block_seconds, p->source_fail_exempt_count,
	    p->argon2_t, p->argon2_m_kib, p->argon2_p, p->argon2_inflight,
	    p->session_idle_seconds, p->session_absolute_seconds,
	    p->refund_approval_threshold, p->approval_ttl_seconds,
	    p->enrolment_ttl_seconds,
	    p->db_name, p->db_socket_dir, p->totp_key_file,
	    p->digest[0] != '\0' ? p->digest : "-");
}

/* One physical line (without its '\n'). */
static int
pc_policy_line(struct pc_policy *p, struct pc_policy_ctx *ctx,
    const char *s, size_t n, size_t *seen)
{
	char				 buf[PC_POLICY_LINE_MAX + 1];
	char				 echo[PC_POLICY_ECHO_MAX * 2];
	const struct pc_policy_key	*k;
	char				*key, *val, *e;
	size_t				 i, idx;

	if (n > PC_POLICY_LINE_MAX) {
		pc_policy_error(ctx, "line longer than %d bytes",
		    PC_POLICY_LINE_MAX);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    (unsigned char)s[i] == 0x7f) {
			pc_policy_error(ctx, "control character 0x%02x in line",
			    (unsigned int)(unsigned char)s[i]);
			return (-1);
		}
	}
	memcpy(buf, s, n);
	buf[n] = '\0';

	/* Trailing and leading blanks. */
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	key = buf;
	while (*key == ' ' || *key == '\t')
		key++;
	if (*key == '\0' || *key == '#')
		return (0);

	for (val = key; *val != '\0' && *val != ' ' && *val != '\t'; val++)
		;
	e = val;
	while (*val == ' ' || *val == '\t')
		val++;
	*e = '\0';

	if ((k = pc_policy_key_find(key, &idx)) == NULL) {
		pc_policy_echo(echo, sizeof(echo), key);
		pc_policy_error(ctx, "unknown key '%s'", echo);
		return (-1);
	}
	if (*val == '\0') {
		pc_policy_error(ctx, "missing value for key '%s'", k->name);
		return (-1);
	}
	if (seen[idx] != 0 && !(k->flags & PC_POLICY_F_REPEAT)) {
		pc_policy_error(ctx,
		    "duplicate key '%s' (first set on line %zu)",
		    k->name, seen[idx]);
		return (-1);
	}
	seen[idx] = ctx->line;

	return (pc_policy_set(p, ctx, k, val));
}

static int
pc_policy_set(struct pc_policy *p, struct pc_policy_ctx *ctx,
    const struct pc_policy_key *k, const char *val)
{
	char			 echo[PC_POLICY_ECHO_MAX * 2];
	const struct pc_policy_enum *en;
	struct pc_cidr		*list;
	size_t			*count, vlen;
	uint32_t		 u;
	int			 rc;
	void			*field;

	field = (char *)p + k->off;
	pc_policy_echo(echo, sizeof(echo), val);
	vlen = strlen(val);

	switch (k->type) {
	case PC_POLICY_T_UINT:
		if ((rc = pc_policy_uint_parse(val, &u)) == -1) {
			pc_policy_error(ctx, "%s: invalid number '%s'",
			    k->name, echo);
			return (-1);
		}
		if (rc == -2 || u < k->min || u > k->max) {
			pc_policy_error(ctx,
			    "%s: value '%s' out of range %u..%u",
			    k->name, echo, k->min, k->max);
			return (-1);
		}
		memcpy(field, &u, sizeof(u));
		break;
	case PC_POLICY_T_STRING:
	case PC_POLICY_T_PATH:
		if (vlen > k->max || vlen >= k->size) {
			pc_policy_error(ctx, "%s: value longer than %u bytes",
			    k->name, k->max);
			return (-1);
		}
		if (k->check != NULL && !k->check(val)) {
			pc_policy_error(ctx, "%s: expected %s, got '%s'",
			    k->name, k->what, echo);
			return (-1);
		}
		memcpy(field, val, vlen + 1);
		break;
	case PC_POLICY_T_ENUM:
		for (en = k->enums; en->name != NULL; en++) {
			if (strcmp(en->name, val) == 0)
				break;
		}
		if (en->name == NULL) {
			pc_policy_error(ctx, "%s: expected %s, got '%s'",
			    k->name, k->what, echo);
			return (-1);
		}
		/* Every enum key's field is an enum, int-sized. */
		if (k->size != sizeof(en->value)) {
			pc_policy_error(ctx, "%s: internal type error",
			    k->name);
			return (-1);
		}
		memcpy(field, &en->value, sizeof(en->value));
		break;
	case PC_POLICY_T_CIDRS:
		list = field;
		count = (size_t *)(void *)((char *)p + k->cnt_off);
		if (*count >= k->max ||
		    *count >= k->size / sizeof(struct pc_cidr)) {
			pc_policy_error(ctx, "%s: more than %u entries",
			    k->name, k->max);
			return (-1);
		}
		if (pc_cidr_parse(&list[*count], val) == -1) {
			pc_policy_error(ctx, "%s: invalid CIDR '%s'",
			    k->name, echo);
			return (-1);
		}
		(*count)++;
		break;
	case PC_POLICY_T_NAMES:
		count = (size_t *)(void *)((char *)p + k->cnt_off);
		if (*count >= k->max) {
			pc_policy_error(ctx, "%s: more than %u entries",
			    k->name, k->max);
			return (-1);
		}
		if (vlen >= PC_POLICY_HOST_MAX || !k->check(val)) {
			pc_policy_error(ctx, "%s: expected %s, got '%s'",
			    k->name, k->what, echo);
			return (-1);
		}
		memcpy(p->server_name[*count], val, vlen + 1);
		(*count)++;
		break;
	case PC_POLICY_T_HOURS:
		if (pc_hours_parse(field, val) == -1) {
			pc_policy_error(ctx, "%s: expected %s, got '%s'",
			    k->name, k->what, echo);
			return (-1);
		}
		break;
	default:
		pc_policy_error(ctx, "%s: internal type error", k->name);
		return (-1);
	}

	return (0);
}

/* Required keys and checks that involve more than one key. */
static int
pc_policy_finish(struct pc_policy *p, struct pc_policy_ctx *ctx,
    const size_t *seen)
{
	size_t		i, l1, l2;
	int		ok;

	for (i = 0; i < PC_POLICY_NKEYS; i++) {
		if ((pc_policy_keys[i].flags & PC_POLICY_F_REQUIRED) &&
		    seen[i] == 0) {
			ctx->line = 0;
			pc_policy_error(ctx, "missing required key '%s'",
			    pc_policy_keys[i].name);
			return (-1);
		}
	}

	if (p->lockout_max_seconds < p->lockout_seconds) {
		l1 = pc_policy_seen(seen, "lockout_seconds");
		l2 = pc_policy_seen(seen, "lockout_max_seconds");
		ctx->line = (l1 > l2) ? l1 : l2;
		pc_policy_error(ctx, "lockout_max_seconds (%u) is less than "
		    "lockout_seconds (%u)", p->lockout_max_seconds,
		    p->lockout_seconds);
		return (-1);
	}

	/* PCI DSS 8.3.4: locked for at least 30 minutes in production. */
	if (p->environment == PC_POLICY_ENV_PRODUCTION &&
	    p->lockout_seconds < PC_POLICY_LOCKOUT_MIN) {
		ctx->line = pc_policy_seen(seen, "lockout_seconds");
		pc_policy_error(ctx, "lockout_seconds %u is below the "
		    "production minimum of %d (PCI DSS 8.3.4)",
		    p->lockout_seconds, PC_POLICY_LOCKOUT_MIN);
		return (-1);
	}

	/* The defaults pass, so at least one of the two keys was set. */
	if (p->environment == PC_POLICY_ENV_PRODUCTION) {
		ok = p->argon2_m_kib >= PC_POLICY_ARGON2_M_T1 ||
		    (p->argon2_t >= 2 &&
		    p->argon2_m_kib >= PC_POLICY_ARGON2_M_T2);
		if (!ok) {
			l1 = pc_policy_seen(seen, "argon2_t");
			l2 = pc_policy_seen(seen, "argon2_m_kib");
			ctx->line = (l1 > l2) ? l1 : l2;
			pc_policy_error(ctx, "argon2_t %u with argon2_m_kib %u "
			    "is below the production minimum (m >= %d with "
			    "t >= 2, or m >= %d)", p->argon2_t, p->argon2_m_kib,
			    PC_POLICY_ARGON2_M_T2, PC_POLICY_ARGON2_M_T1);
			return (-1);
		}
	}

	/*
	 * No Host is served that nobody named: in production, no
	 * server_name means every request is refused (421), and the
	 * start-up line says so; development names the loopback.
	 */
	if (p->server_name_count == 0 &&
	    p->environment == PC_POLICY_ENV_DEVELOPMENT) {
		for (i = 0; i < 3; i++) {
			(void)snprintf(p->server_name[i],
			    sizeof(p->server_name[i]), "%s",
			    i == 0 ? "127.0.0.1" : i == 1 ? "localhost" :
			    "[::1]");
		}
		p->server_name_count = 3;
	}

	return (pc_policy_finish_siem(p, ctx, seen));
}

/* The sink names what it needs: a socket, or a collector and its CA. */
static int
pc_policy_finish_siem(struct pc_policy *p, struct pc_policy_ctx *ctx,
    const size_t *seen)
{
	ctx->line = pc_policy_seen(seen, "siem_sink");
	if (p->siem_sink == PC_POLICY_SIEM_LOCAL && p->siem_socket[0] == '\0') {
		pc_policy_error(ctx, "siem_sink local needs siem_socket");
		return (-1);
	}
	if (p->siem_sink == PC_POLICY_SIEM_TLS &&
	    (p->siem_collector[0] == '\0' || p->siem_ca[0] == '\0')) {
		pc_policy_error(ctx, "siem_sink tls needs siem_collector and "
		    "siem_ca");
		return (-1);
	}
	return (0);
}

static const struct pc_policy_key *
pc_policy_key_find(const char *name, size_t *idx)
{
	size_t		i;

	for (i = 0; i < PC_POLICY_NKEYS; i++) {
		if (strcmp(pc_policy_keys[i].name, name) == 0) {
			*idx = i;
			return (&pc_policy_keys[i]);
		}
	}
	return (NULL);
}

/* Line on which a key was (last) set, 0 if never. */
static size_t
pc_policy_seen(const size_t *seen, const char *name)
{
	size_t		idx;

	if (pc_policy_key_find(name, &idx) == NULL)
		return (0);
	return (seen[idx]);
}

/*
 * Decimal digits only: no sign, no blanks, no leading zeros.
 * 0 on success, -1 if malformed, -2 if it does not fit in 32 bits.
 */
static int
pc_policy_uint_parse(const char *s, uint32_t *out)
{
	uint64_t	v;
	size_t		i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return (-1);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
	}

	v = 0;
	for (i = 0; s[i] != '\0'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return (-2);
	}

	*out = (uint32_t)v;
	return (0);
}

/* Looked up under the zoneinfo directory: keep it a plain relative name. */
static int
pc_policy_timezone_ok(const char *s)
{
	size_t		i;

	if (s[0] == '\0' || s[0] == '/' || strstr(s, "..") != NULL ||
	    strstr(s, "//") != NULL || s[strlen(s) - 1] == '/')
		return (0);
	for (i = 0; s[i] != '\0'; i++) {
		if ((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '+' || s[i] == '/' || s[i] == '-')
			continue;
		return (0);
	}
	return (1);
}

/*
 * A server_name: "[" IPv6 "]", or dot-separated labels of lower-case
 * letters, digits and inner hyphens (an IPv4 address is such a name).
 */
/* "host:port": a server_name-style host and a port 1..65535. */
static int
pc_policy_hostport_ok(const char *s)
{
	char		host[PC_POLICY_HOST_MAX];
	const char	*colon;
	uint32_t	port;

	if ((colon = strrchr(s, ':')) == NULL ||
	    (size_t)(colon - s) >= sizeof(host) ||
	    pc_policy_uint_parse(colon + 1, &port) != 0 ||
	    port < 1 || port > 65535)
		return (0);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	return (pc_policy_hostname_ok(host));
}

static int
pc_policy_hostname_ok(const char *s)
{
	size_t		i, n, label;

	n = strlen(s);
	if (n == 0 || n > 253)
		return (0);
	if (s[0] == '[') {
		if (n < 4 || s[n - 1] != ']')
			return (0);
		for (i = 1; i < n - 1; i++) {
			if (!((s[i] >= '0' && s[i] <= '9') ||
			    (s[i] >= 'a' && s[i] <= 'f') || s[i] == ':' ||
			    s[i] == '.'))
				return (0);
		}
		return (1);
	}
	label = 0;
	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return (0);
			label = 0;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] == '-' && label > 0)))
			return (0);
		label++;
	}
	return (1);
}

int
pc_policy_host_ok(const struct pc_policy *p, const char *host)
{
	const char	*end, *port;
	size_t		 i, n;

	if (host == NULL || host[0] == '\0')
		return (0);
	/* The name ends before ":port" (after "]" for IPv6). */
	if (host[0] == '[')
		port = ((end = strchr(host, ']')) != NULL) ? end + 1 : NULL;
	else if ((port = strchr(host, ':')) == NULL)
		port = host + strlen(host);
	if (port == NULL)
		return (0);
	if (*port == ':') {
		n = strspn(port + 1, "0123456789");
		if (n == 0 || n > 5 || port[1 + n] != '\0')
			return (0);
	} else if (*port != '\0') {
		return (0);
	}
	n = (size_t)(port - host);
	for (i = 0; i < p->server_name_count; i++) {
		if (strlen(p->server_name[i]) == n &&
		    strncasecmp(p->server_name[i], host, n) == 0)
			return (1);
	}
	return (0);
}

/* An unquoted PostgreSQL identifier, lower case. */
static int
pc_policy_dbname_ok(const char *s)
{
	size_t		i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return (0);
	for (i = 1; s[i] != '\0'; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_')
			continue;
		return (0);
	}
	return (1);
}

/* "5432" or "5432,5433": 1 to 4 ports, 1..65535, no leading zero. */
static int
pc_policy_ports_ok(const char *s)
{
	unsigned long	v;
	size_t		n;
	int		count;

	for (count = 0; count < 4; count++) {
		n = strspn(s, "0123456789");
		if (n == 0 || n > 5 || s[0] == '0')
			return (0);
		v = strtoul(s, NULL, 10);
		if (v > 65535)
			return (0);
		s += n;
		if (*s == '\0')
			return (1);
		if (*s++ != ',')
			return (0);
	}
	return (0);
}

int
pc_policy_db_hosts(const struct pc_policy *p, const char *dir, char *buf,
    size_t len)
{
	const char	*c;
	size_t		 used, dlen;

	if (strchr(dir, ',') != NULL || len == 0)
		return (-1);
	dlen = strlen(dir);
	used = 0;
	c = p->db_ports;
	do {
		if (used + (used > 0) + dlen + 1 > len)
			return (-1);
		if (used > 0)
			buf[used++] = ',';
		memcpy(buf + used, dir, dlen);
		used += dlen;
		buf[used] = '\0';
		c = strchr(c, ',');
	} while (c++ != NULL);
	return (0);
}

/*
 * Absolute and canonical (no "//", no trailing '/', no "." or ".."
 * parts), printable ASCII without blanks: the path is compared with
 * Kore's root and used before and after chroot, so it must mean one
 * thing.
 */
static int
pc_policy_path_ok(const char *s)
{
	const char	*c;
	size_t		 i, n;

	if (s[0] != '/')
		return (0);
	for (i = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return (0);
	}
	if (s[1] == '\0')
		return (1);
	for (c = s; *c != '\0'; c += n) {
		c++;				/* the '/' */
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return (0);
	}
	return (1);
}

static int
pc_policy_digest(struct pc_policy *p, const char *text, size_t len)
{
	static const char	hex[] = "0123456789abcdef";
	unsigned char		md[EVP_MAX_MD_SIZE];
	unsigned int		mdlen, i;

	if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return (-1);
	for (i = 0; i < mdlen; i++) {
		p->digest[i * 2] = hex[md[i] >> 4];
		p->digest[i * 2 + 1] = hex[md[i] & 0x0f];
	}
	p->digest[mdlen * 2] = '\0';

	return (0);
}

/*
 * The offending value, safe for a log line: at most 64 bytes of it,
 * control characters removed, non-ASCII bytes shown as '?', "..."
 * appended when cut.
 */
static void
pc_policy_echo(char *out, size_t outlen, const char *s)
{
	size_t		i, o;
	unsigned char	c;

	o = 0;
	for (i = 0; i < PC_POLICY_ECHO_MAX && s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			continue;
		if (o + 1 >= outlen)
			break;
		/* NOLINTNEXTLINE(bugprone-narrowing-conversions): c < 0x80 where it is cast */
		out[o++] = (c >= 0x80) ? '?' : (char)c;
	}
	if (s[i] != '\0' && o + 4 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static void
pc_policy_error(struct pc_policy_ctx *ctx, const char *fmt, ...)
{
	va_list		ap;

	va_start(ap, fmt);
	pc_policy_verror(ctx, fmt, ap);
	va_end(ap);
}

/* Report at line, reset *p to the (deny-everyone) defaults, return -1. */
static int
pc_policy_fail(struct pc_policy *p, struct pc_policy_ctx *ctx, size_t line,
    const char *fmt, ...)
{
	va_list		ap;

	pc_policy_defaults(p);
	ctx->line = line;
	va_start(ap, fmt);
	pc_policy_verror(ctx, fmt, ap);
	va_end(ap);

	return (-1);
}

static void
pc_policy_verror(struct pc_policy_ctx *ctx, const char *fmt, va_list ap)
{
	int		n;

	if (ctx->err == NULL || ctx->errlen == 0)
		return;

	n = snprintf(ctx->err, ctx->errlen, "%s:%zu: ", ctx->name, ctx->line);
	if (n < 0 || (size_t)n >= ctx->errlen)
		return;
	(void)vsnprintf(ctx->err + n, ctx->errlen - (size_t)n, fmt, ap);
}
