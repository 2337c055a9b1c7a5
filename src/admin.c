/*
 * admin.c: payconsole-admin, the command line on the server host.
 *
 *   payconsole-admin [-d SITE] bootstrap-admin USERNAME DISPLAY-NAME [ROLE]
 *   payconsole-admin [-d SITE] create-user USERNAME ROLE DISPLAY-NAME
 *   payconsole-admin [-d SITE] list-users
 *   payconsole-admin [-d SITE] unlock USERNAME
 *   payconsole-admin [-d SITE] rotate-key NEW-KEY-FILE
 *   payconsole-admin [-d SITE] checkpoint-keygen KEY-FILE
 *   payconsole-admin [-d SITE] audit verify [--checkpoints FILE
 *       --pubkey PUBLIC-KEY]
 *   payconsole-admin [-d SITE] evidence --from DATE --to DATE --out FILE
 *   payconsole-admin [-d SITE] reports mail [--day YYYY-MM-DD]
 *   payconsole-admin [-d SITE] seed-demo OUT.json N
 *   payconsole-admin [-d SITE] check-config
 *   payconsole-admin [-d SITE] migrate
 *
 * It reads SITE/policy.conf (default: the current directory) for the
 * database socket and the key file, and talks to PostgreSQL through
 * libpq with peer authentication. Every action is audited with actor
 * "cli:<unix user>". stdout carries only machine-readable output (JSON,
 * tab-separated lines); people-facing text goes to stderr.
 *
 * Accounts: bootstrap-admin makes the first two admins and the first
 * auditor, each as an enrolment the person finishes at first sign-in;
 * after that accounts are requested and approved in the console (four
 * eyes). create-user and seed-demo make accounts with known factors for
 * development, test and bench only: refused under a production policy
 * here, and by the database unless its owner allowed seeding.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bytea.h"
#include "civilday.h"
#include "ckpt.h"
#include "enrolcode.h"
#include "evidence.h"
#include "fsdir.h"
#include "jsonw.h"
#include "mailmsg.h"
#include "password.h"
#include "policy.h"
#include "qs.h"
#include "secretbox.h"
#include "sitecheck.h"
#include "totp.h"
#include "wipe.h"

/* Sealed TOTP secrets: the server opens at most 64 bytes. */
#define ADMIN_SECRET_MAX	64
#define ADMIN_SEALED_MAX	(ADMIN_SECRET_MAX + PC_SECRETBOX_OVERHEAD)

/*
 * Where the migrations and scripts/migrate are: the source tree for a
 * development build, /usr/share/payconsole for the Debian package
 * (Makefile DATADIR). PC_MIGRATIONS overrides the migrations, as it
 * does for scripts/migrate.
 */
#ifndef PC_DATADIR
#define PC_DATADIR		"/usr/share/payconsole"
#endif

/* A lock the CLI waits for longer than this is an error, not a hang. */
#define ADMIN_LOCK_TIMEOUT	"30s"

struct admin_ctx {
	struct pc_policy	policy;
	struct pc_kek		kek;
	PGconn			*db;
	const char		*site;
	char			actor[64];
};

struct demo_account {
	const char	*username;
	const char	*display_name;
	const char	*role;
};

/* Two operators and two admins, so that four eyes can be tried. */
static const struct demo_account demo_accounts[] = {
	{ "operator1",	"山田 花子 (demo operator)",	"operator" },
	{ "admin1",	"Taro Suzuki (demo admin)",	"admin" },
	{ "auditor1",	"佐藤 一郎 (demo auditor)",	"auditor" },
	{ "operator2",	"田中 次郎 (demo operator)",	"operator" },
	{ "admin2",	"Hanako Ito (demo admin)",	"admin" },
};

struct admin_cmd;

static void	admin_usage(void) __attribute__((noreturn));
static const struct admin_cmd *admin_cmd_find(int, char **, int *);
static void	admin_fatal(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	admin_flush(void);
static void	admin_print_json(struct pc_jsonw *);
static void	admin_connect(struct admin_ctx *, const char *);
static PGresult	*admin_exec(struct admin_ctx *, const char *, int,
		    const char *const *, int);
static void	admin_audit(struct admin_ctx *, const char *, const char *,
		    const char *);
static void	admin_audit_outcome(struct admin_ctx *, const char *,
		    const char *, const char *, const char *);
static void	admin_hex(const uint8_t *, size_t, char *, size_t);
static int	admin_unhex(const char *, uint8_t *, size_t);
static void	admin_refuse_production(struct admin_ctx *, const char *);
static void	admin_field(FILE *, const char *);
static int	admin_seed_demo(struct admin_ctx *, int, char **);
static void	admin_seed_transactions(struct admin_ctx *, long);
static void	admin_random_password(char *, size_t);
static void	admin_create_user(struct admin_ctx *,
		    const struct pc_argon2_params *, const char *, const char *,
		    const char *, int, struct pc_jsonw *);
static int	admin_cmd_create_user(struct admin_ctx *, int, char **);
static int	admin_cmd_bootstrap_admin(struct admin_ctx *, int, char **);
static int	admin_cmd_list_users(struct admin_ctx *, int, char **);
static void	admin_opts(int, char **, const char *const *, const char **,
		    size_t);
static int	admin_cmd_audit_verify(struct admin_ctx *, int, char **);
static int	admin_verify_checkpoints(struct admin_ctx *, const char *,
		    const char *);
static int	admin_walk_events(struct admin_ctx *, struct pc_ckpt_walk *);
static int	admin_cmd_checkpoint_keygen(struct admin_ctx *, int, char **);
static int	admin_cmd_audit_purge(struct admin_ctx *, int, char **);
static void	admin_purge_export(struct admin_ctx *, const char *,
		    const char *, char *);
static void	admin_fsync_dir(const char *);
static int	admin_cmd_evidence(struct admin_ctx *, int, char **);
static void	admin_evidence_note(struct admin_ctx *, const struct pc_evidence *,
		    const char *, const char *);
static int	admin_cmd_unlock(struct admin_ctx *, int, char **);
static int	admin_cmd_rotate_key(struct admin_ctx *, int, char **);
static int	admin_cmd_check_config(struct admin_ctx *, int, char **);
static int	admin_cmd_migrate(struct admin_ctx *, int, char **);
static const char *admin_migrations(void);
static void	admin_load_site(struct admin_ctx *, int);
static void	admin_rotate_load(struct admin_ctx *, struct pc_kek *,
		    const char *, char *);
static int	admin_rotate_opens(const struct pc_kek *, const char *,
		    const char *, uint32_t *);
static void	admin_rotate_precheck(struct admin_ctx *, PGresult *,
		    const char *);
static void	admin_rotate_write(struct admin_ctx *, const struct pc_kek *,
		    PGresult *, const char *, const char *);
static void	admin_rotate_verify(struct admin_ctx *, const struct pc_kek *,
		    int, const char *);
static int	admin_reseal(struct admin_ctx *, const struct pc_kek *,
		    const char *, const char *, char *, size_t);
static int	admin_cmd_reports_mail(struct admin_ctx *, int, char **);
static int	admin_report_mail(struct admin_ctx *, PGresult *, int);
static int	admin_sendmail(const char *, const char *, size_t, char *,
		    size_t);

/*
 * What main() loads before a command runs: everything (the default), or
 * the policy alone (no key), or nothing (the command reads the site
 * itself and reports what is wrong rather than stopping at it).
 */
enum admin_load {
	ADMIN_LOAD_ALL = 0,
	ADMIN_LOAD_POLICY,
	ADMIN_LOAD_NONE,
};

/*
 * The commands, in the order the usage lists them: name (one word or
 * two), handler, how many arguments follow the name, the usage text
 * after the name (NULL: an alias the usage does not list), and what
 * main() loads first.
 */
struct admin_cmd {
	const char	*name;
	int		(*run)(struct admin_ctx *, int, char **);
	int		min_args, max_args;
	const char	*help;
	enum admin_load	load;
};

static const struct admin_cmd admin_cmds[] = {
	{ "bootstrap-admin", admin_cmd_bootstrap_admin, 2, 3,
	    " USERNAME DISPLAY-NAME [admin|auditor]   (the first two admins\n"
	    "      and the first auditor only; prints the two halves of an "
	    "enrolment code)", ADMIN_LOAD_ALL },
	{ "create-user", admin_cmd_create_user, 3, 3,
	    " USERNAME operator|admin|auditor DISPLAY-NAME   "
	    "(development only)", ADMIN_LOAD_ALL },
	{ "list-users", admin_cmd_list_users, 0, 0, "", ADMIN_LOAD_ALL },
	{ "unlock", admin_cmd_unlock, 1, 1, " USERNAME", ADMIN_LOAD_ALL },
	{ "audit verify", admin_cmd_audit_verify, 0, 4,
	    " [--checkpoints FILE --pubkey PUBLIC-KEY]   (also: "
	    "audit-verify;\n      with a checkpoint file: the chain "
	    "recomputed from the events, not trusted)", ADMIN_LOAD_ALL },
	{ "audit purge", admin_cmd_audit_purge, 4, 4,
	    " --before YYYY-MM-DD --out FILE   (events older than 12 "
	    "months)", ADMIN_LOAD_ALL },
	{ "evidence", admin_cmd_evidence, 6, 6,
	    " --from YYYY-MM-DD --to YYYY-MM-DD --out FILE.tar   (the "
	    "evidence\n      bundle of those site-local days; never over a "
	    "file)", ADMIN_LOAD_ALL },
	{ "rotate-key", admin_cmd_rotate_key, 1, 1,
	    " NEW-KEY-FILE   (re-seal TOTP secrets under a new key)",
	    ADMIN_LOAD_ALL },
	{ "checkpoint-keygen", admin_cmd_checkpoint_keygen, 1, 1,
	    " NEW-KEY-FILE   (Ed25519, mode 0600; prints the public key)",
	    ADMIN_LOAD_ALL },
	{ "reports mail", admin_cmd_reports_mail, 0, 2,
	    " [--day YYYY-MM-DD]   (the daily digests and weekly summaries\n"
	    "      not yet delivered, or one day's digest again, to "
	    "report_recipients)", ADMIN_LOAD_ALL },
	{ "seed-demo", admin_seed_demo, 2, 2,
	    " OUT.json N   (development policies only)", ADMIN_LOAD_ALL },
	{ "check-config", admin_cmd_check_config, 0, 0,
	    "   (policy, keys, site, certificate, database, migrations;\n"
	    "      each problem as file:line: message, exit 1)",
	    ADMIN_LOAD_NONE },
	{ "migrate", admin_cmd_migrate, 0, 0,
	    "   (apply pending migrations as pc_owner: scripts/migrate)",
	    ADMIN_LOAD_POLICY },
	{ "audit-verify", admin_cmd_audit_verify, 0, 4, NULL, ADMIN_LOAD_ALL },
};

/* Keys in memory, wiped on every way out, admin_fatal() included. */
static struct pc_kek	*admin_kek_cur;
/* An export written by a purge that has not committed yet. */
static const char	*admin_unlink_on_fatal;
static struct pc_kek	 admin_kek_new;

static void
admin_usage(void)
{
	size_t	i;

	fprintf(stderr, "usage: payconsole-admin [-d site-dir] command\n");
	for (i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++) {
		if (admin_cmds[i].help != NULL)
			fprintf(stderr, "  %s%s\n", admin_cmds[i].name,
			    admin_cmds[i].help);
	}
	exit(2);
}

/*
 * The entry of argv's command (one word, or two as "audit verify"), with
 * the number of words it takes in *words; admin_usage() when there is
 * none or its arguments do not count right.
 */
static const struct admin_cmd *
admin_cmd_find(int argc, char **argv, int *words)
{
	const struct admin_cmd	*c;
	const char		*sp;
	size_t			i, len;
	int			nargs;

	for (i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++) {
		c = &admin_cmds[i];
		if ((sp = strchr(c->name, ' ')) == NULL) {
			if (strcmp(argv[0], c->name) != 0)
				continue;
			*words = 1;
		} else {
			len = (size_t)(sp - c->name);
			if (strlen(argv[0]) != len ||
			    strncmp(argv[0], c->name, len) != 0 || argc < 2 ||
			    strcmp(argv[1], sp + 1) != 0)
				continue;
			*words = 2;
		}
		nargs = argc - *words;
		if (nargs < c->min_args || nargs > c->max_args)
			admin_usage();
		return (c);
	}
	admin_usage();
}

static void
admin_fatal(const char *fmt, ...)
{
	va_list		ap;

	if (admin_kek_cur != NULL)
		pc_kek_wipe(admin_kek_cur);
	pc_kek_wipe(&admin_kek_new);
	if (admin_unlink_on_fatal != NULL)
		(void)unlink(admin_unlink_on_fatal);

	va_start(ap, fmt);
	fprintf(stderr, "payconsole-admin: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* What is on stdout is the result: a failed write is a failure. */
static void
admin_flush(void)
{
	if (fflush(stdout) != 0)
		admin_fatal("stdout: %s", strerror(errno));
}

/* w's JSON on stdout, then wiped: it carries passwords or codes. */
static void
admin_print_json(struct pc_jsonw *w)
{
	char	*json;
	size_t	 len;

	if ((json = pc_jsonw_finish(w, &len)) == NULL)
		admin_fatal("out of memory");
	printf("%s\n", json);
	pc_wipe(json, len);
	free(json);
}

static void
admin_connect(struct admin_ctx *ctx, const char *role)
{
	char		 hosts[1024];
	const char	*keys[] = { "host", "dbname", "user", "sslmode",
			    "gssencmode", "application_name", "port",
			    "target_session_attrs", NULL };
	const char	*vals[] = { hosts, ctx->policy.db_name, role,
			    "disable", "disable", "payconsole-admin",
			    ctx->policy.db_ports, "read-write", NULL };

	if (pc_policy_db_hosts(&ctx->policy, ctx->policy.db_socket_dir, hosts,
	    sizeof(hosts)) == -1)
		admin_fatal("db_socket_dir: too long for db_ports");
	/* No ports: libpq's defaults (the keys end before "port"). */
	if (ctx->policy.db_ports[0] == '\0')
		keys[6] = NULL;
	ctx->db = PQconnectdbParams(keys, vals, 0);
	if (PQstatus(ctx->db) != CONNECTION_OK)
		admin_fatal("database: %s", PQerrorMessage(ctx->db));
}

/* Run one parameterised statement; any failure ends the program. */
static PGresult *
admin_exec(struct admin_ctx *ctx, const char *sql, int n,
    const char *const *params, int want_rows)
{
	PGresult	*res;
	ExecStatusType	st;

	res = PQexecParams(ctx->db, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		admin_fatal("database: %s", PQresultErrorMessage(res));
	}
	if (want_rows && PQntuples(res) < 1)
		admin_fatal("database: no row returned");

	return (res);
}

static void
admin_audit(struct admin_ctx *ctx, const char *event, const char *target,
    const char *details)
{
	admin_audit_outcome(ctx, event, target, "success", details);
}

static void
admin_audit_outcome(struct admin_ctx *ctx, const char *event,
    const char *target, const char *outcome, const char *details)
{
	const char	*p[5];

	p[0] = ctx->actor;
	p[1] = event;
	p[2] = target;
	p[3] = details;
	p[4] = outcome;
	PQclear(admin_exec(ctx, "SELECT audit.note_cli($1, $2, $3, $5, "
	    "$4::jsonb)", 5, p, 0));
}

/* \x and lower-case hex: a bytea literal for a $n::bytea parameter. */
static void
admin_hex(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	if (pc_bytea_encode(in, len, out, outlen) == -1)
		admin_fatal("hex buffer too small");
}

/* Seeding accounts is for development databases only. */
static void
admin_refuse_production(struct admin_ctx *ctx, const char *what)
{
	if (ctx->policy.environment != PC_POLICY_ENV_DEVELOPMENT)
		admin_fatal("refused: %s under a production policy; accounts "
		    "are requested and approved in the console (the first "
		    "ones: bootstrap-admin)", what);
}

/* Plain hex (encode(x, 'hex')) into out; the length or -1. */
static int
admin_unhex(const char *hex, uint8_t *out, size_t outlen)
{
	size_t		len, k;
	int		hi, lo;
	unsigned char	c;

	len = strlen(hex);
	if (len % 2 != 0 || len / 2 > outlen)
		return (-1);
	for (k = 0; k < len / 2; k++) {
		c = (unsigned char)hex[2 * k];
		hi = c >= '0' && c <= '9' ? c - '0' :
		    c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		c = (unsigned char)hex[2 * k + 1];
		lo = c >= '0' && c <= '9' ? c - '0' :
		    c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (hi == -1 || lo == -1)
			return (-1);
		out[k] = (uint8_t)((hi << 4) | lo);
	}
	return ((int)(len / 2));
}

/* One field of a tab-separated line: control characters become '?'. */
static void
admin_field(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, fp);
}

/* 20 characters from an unambiguous alphabet, with a letter and digit. */
static void
admin_random_password(char *out, size_t len)
{
	static const char	alpha[] = "abcdefghjkmnpqrstuvwxyz"
				    "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	uint8_t			rnd[20];
	size_t			i;

	if (len < sizeof(rnd) + 1)
		admin_fatal("password buffer too small");

	do {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			admin_fatal("RAND_bytes failed");
		for (i = 0; i < sizeof(rnd); i++)
			out[i] = alpha[rnd[i] % (sizeof(alpha) - 1)];
		out[sizeof(rnd)] = '\0';
	} while (pc_password_check(out, strlen(out), NULL) != PC_PASSWORD_OK);

	pc_wipe(rnd, sizeof(rnd));
}

/*
 * One enrolled user with a random password and TOTP secret; the
 * credentials go into w (shown once) and nowhere else.
 */
static void
admin_create_user(struct admin_ctx *ctx, const struct pc_argon2_params *prm,
    const char *username, const char *display_name, const char *role,
    int must_change, struct pc_jsonw *w)
{
	PGresult	*res;
	const char	*p[5];
	char		password[32], hash[PC_PASSWORD_HASH_MAX];
	char		b32[64], uri[512], ad[64], idbuf[32];
	char		hexblob[2 * (PC_TOTP_SECRET_LEN +
			    PC_SECRETBOX_OVERHEAD) + 3];
	char		kid[16];
	uint8_t		secret[PC_TOTP_SECRET_LEN];
	uint8_t		sealed[PC_TOTP_SECRET_LEN + PC_SECRETBOX_OVERHEAD];

	admin_random_password(password, sizeof(password));
	if (pc_password_hash(prm, password, strlen(password),
	    hash, sizeof(hash)) == -1)
		admin_fatal("argon2id hashing failed");

	/* The database takes it only where its owner allowed seeding. */
	p[0] = ctx->actor;
	p[1] = username;
	p[2] = display_name;
	p[3] = role;
	res = admin_exec(ctx, "SELECT auth.seed_account($1, $2, $3, $4)", 4,
	    p, 1);
	(void)snprintf(idbuf, sizeof(idbuf), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);

	if (RAND_bytes(secret, sizeof(secret)) != 1)
		admin_fatal("RAND_bytes failed");
	(void)snprintf(ad, sizeof(ad), "totp:%s", idbuf);
	if (pc_secretbox_seal(&ctx->kek, (const uint8_t *)ad, strlen(ad),
	    secret, sizeof(secret), sealed, sizeof(sealed)) == -1)
		admin_fatal("sealing the TOTP secret failed");

	admin_hex(sealed, sizeof(sealed), hexblob, sizeof(hexblob));
	(void)snprintf(kid, sizeof(kid), "%u", ctx->kek.id);

	p[0] = idbuf;
	p[1] = hash;
	p[2] = hexblob;
	p[3] = kid;
	p[4] = must_change ? "true" : "false";
	PQclear(admin_exec(ctx, "SELECT auth.seed_credentials($1::bigint, $2, "
	    "$3::bytea, $4::integer, $5::boolean)", 5, p, 0));

	if (pc_totp_base32(secret, sizeof(secret), b32, sizeof(b32)) == -1 ||
	    pc_totp_uri(secret, sizeof(secret), username, uri,
	    sizeof(uri)) == -1)
		admin_fatal("cannot encode the TOTP secret");

	pc_jsonw_object_open(w, NULL);
	pc_jsonw_string(w, "username", username);
	pc_jsonw_string(w, "role", role);
	pc_jsonw_string(w, "password", password);
	pc_jsonw_string(w, "totp_secret_base32", b32);
	pc_jsonw_string(w, "otpauth_uri", uri);
	pc_jsonw_object_close(w);

	pc_wipe(password, sizeof(password));
	pc_wipe(secret, sizeof(secret));
	pc_wipe(b32, sizeof(b32));
	pc_wipe(uri, sizeof(uri));
	pc_wipe(hash, sizeof(hash));
}

/* Realistic spread: statuses, amounts, brands, JP and Latin names. */
static const char admin_seed_sql[] =
    "WITH names(i, name, email) AS (VALUES "
    " (0, '山田 太郎', 'taro.yamada'), (1, '佐藤 花子', 'hanako.sato'),"
    " (2, '鈴木 一郎', 'ichiro.suzuki'), (3, '高橋 美咲', 'misaki.t'),"
    " (4, 'Yuki Tanaka', 'yuki.tanaka'), (5, 'John Smith', 'jsmith'),"
    " (6, 'Maria Garcia', 'mgarcia'), (7, '渡辺 健', 'ken.watanabe'),"
    " (8, 'Anna Müller', 'anna.mueller'), (9, '伊藤 さくら', 'sakura.ito')"
    "), base AS (SELECT g, $3::bigint AS off "
    " FROM generate_series($1::bigint, $2::bigint) g), "
    "rows AS (SELECT g, off, "
    " (ARRAY['captured','captured','captured','authorized',"
    "  'cancelled','partially_refunded','refunded','failed'])"
    "  [1 + (hashint8(g + off) & 7)] AS status, "
    " 100 + ((hashint8(g * 7 + off) & 2147483647) % 200000) AS amount "
    " FROM base) "
    "INSERT INTO payments.transactions (merchant_order_id, amount, "
    " currency, status, card_brand, card_last4, cardholder_name, "
    " cardholder_email, captured_amount, refunded_amount, created_at, "
    " updated_at) "
    "SELECT 'ORD-' || to_char(g + off, 'FM0000000000'), amount, 'JPY', "
    " status, (ARRAY['visa','mastercard','jcb','amex','diners',"
    "  'discover'])[1 + ((hashint8(g * 3 + off) & 2147483647) % 6)], "
    " lpad(((hashint8(g * 5 + off) & 2147483647) % 10000)::text, 4, '0'), "
    " n.name, n.email || '@example.com', "
    " CASE WHEN status IN ('captured', 'partially_refunded', "
    "  'refunded') THEN amount ELSE 0 END, "
    " CASE status WHEN 'refunded' THEN amount "
    "  WHEN 'partially_refunded' THEN amount / 2 ELSE 0 END, "
    " t, t "
    "FROM rows r JOIN names n ON n.i = "
    " (hashint8(g * 11 + off) & 2147483647) % 10 "
    "CROSS JOIN LATERAL (SELECT now() - make_interval(secs => "
    " ((hashint8(g * 13 + off) & 2147483647) % (90 * 86400))) AS t) tt";

/*
 * n transactions; large runs insert two halves at once on two
 * connections (index maintenance dominates and the machine has cores).
 */
static void
admin_seed_transactions(struct admin_ctx *ctx, long n)
{
	PGresult	*res;
	PGconn		*db1, *db2;
	const char	*p[3];
	char		lo[24], mid[24], hi[24], off[24], mid1[24];
	long		half;

	res = admin_exec(ctx, "SELECT coalesce(max(id), 0) FROM "
	    "payments.transactions", 0, NULL, 1);
	(void)snprintf(off, sizeof(off), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);

	half = n >= 100000 ? n / 2 : 0;
	(void)snprintf(lo, sizeof(lo), "1");
	(void)snprintf(mid, sizeof(mid), "%ld", half);
	(void)snprintf(mid1, sizeof(mid1), "%ld", half + 1);
	(void)snprintf(hi, sizeof(hi), "%ld", n);

	db2 = NULL;
	if (half > 0) {
		db1 = ctx->db;
		admin_connect(ctx, "pc_owner");
		db2 = ctx->db;
		ctx->db = db1;
		p[0] = mid1;
		p[1] = hi;
		p[2] = off;
		if (!PQsendQueryParams(db2, admin_seed_sql, 3, NULL, p, NULL,
		    NULL, 0))
			admin_fatal("database: %s", PQerrorMessage(db2));
	}

	p[0] = lo;
	p[1] = half > 0 ? mid : hi;
	p[2] = off;
	PQclear(admin_exec(ctx, admin_seed_sql, 3, p, 0));

	if (db2 != NULL) {
		while ((res = PQgetResult(db2)) != NULL) {
			if (PQresultStatus(res) != PGRES_COMMAND_OK)
				admin_fatal("database: %s",
				    PQresultErrorMessage(res));
			PQclear(res);
		}
		PQfinish(db2);
	}
}

/*
 * Demo users (one per role, enrolled, known password and TOTP secret)
 * and N demo transactions. Development policies only.
 */
static int
admin_seed_demo(struct admin_ctx *ctx, int argc, char **argv)
{
	struct pc_argon2_params	prm;
	struct pc_jsonw		w;
	PGresult		*res;
	FILE			*fp;
	const char		*p[5];
	char			*json, *end;
	char			details[128];
	size_t			i, k, jlen;
	long			n;
	int			fd, created;

	(void)argc;
	admin_refuse_production(ctx, "demo data is never seeded");

	errno = 0;
	n = strtol(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || n < 0 || n > 5000000)
		admin_fatal("N must be 0..5000000");

	/* Accounts as pc_ops (through the seeding functions), ... */
	admin_connect(ctx, "pc_ops");
	PQclear(admin_exec(ctx, "BEGIN", 0, NULL, 0));

	prm.t = ctx->policy.argon2_t;
	prm.m_kib = ctx->policy.argon2_m_kib;
	prm.p = ctx->policy.argon2_p;

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "warning", "DEMO ACCOUNTS: development only");
	pc_jsonw_array_open(&w, "accounts");

	created = 0;
	for (i = 0; i < sizeof(demo_accounts) / sizeof(demo_accounts[0]);
	    i++) {
		p[0] = demo_accounts[i].username;
		res = admin_exec(ctx, "SELECT 1 FROM auth.directory "
		    "WHERE username = $1", 1, p, 0);
		k = PQntuples(res);
		PQclear(res);
		if (k > 0)
			continue;

		admin_create_user(ctx, &prm, demo_accounts[i].username,
		    demo_accounts[i].display_name, demo_accounts[i].role, 0,
		    &w);
		created++;
	}

	pc_jsonw_array_close(&w);
	pc_jsonw_object_close(&w);

	(void)snprintf(details, sizeof(details),
	    "{\"users\": %d, \"transactions\": %ld}", created, n);
	admin_audit(ctx, "demo.seeded", "payconsole", details);
	PQclear(admin_exec(ctx, "COMMIT", 0, NULL, 0));
	PQfinish(ctx->db);

	/* ... transactions as their owner (no runtime role writes them). */
	admin_connect(ctx, "pc_owner");
	PQclear(admin_exec(ctx, "BEGIN", 0, NULL, 0));
	admin_seed_transactions(ctx, n);
	PQclear(admin_exec(ctx, "COMMIT", 0, NULL, 0));

	if ((json = pc_jsonw_finish(&w, &jlen)) == NULL)
		admin_fatal("out of memory");

	if (created > 0) {
		fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1 || (fp = fdopen(fd, "w")) == NULL)
			admin_fatal("%s: %s", argv[0], strerror(errno));
		fprintf(fp, "%s\n", json);
		if (fclose(fp) != 0)
			admin_fatal("%s: %s", argv[0], strerror(errno));
	}
	pc_wipe(json, jlen);
	free(json);

	printf("seeded %d demo user(s) and %ld transaction(s)\n", created, n);
	return (0);
}

/*
 * create-user: an enrolled account with known factors, for tests and
 * benches (development only); its password must be changed at first
 * login. Prints its credentials once, as JSON, on stdout.
 */
static int
admin_cmd_create_user(struct admin_ctx *ctx, int argc, char **argv)
{
	struct pc_argon2_params	prm;
	struct pc_jsonw		w;

	(void)argc;
	admin_refuse_production(ctx, "create-user seeds accounts for "
	    "development only");
	if (strcmp(argv[1], "operator") != 0 && strcmp(argv[1], "admin") != 0 &&
	    strcmp(argv[1], "auditor") != 0)
		admin_fatal("role must be operator, admin or auditor");

	prm.t = ctx->policy.argon2_t;
	prm.m_kib = ctx->policy.argon2_m_kib;
	prm.p = ctx->policy.argon2_p;

	admin_connect(ctx, "pc_ops");
	PQclear(admin_exec(ctx, "BEGIN", 0, NULL, 0));
	pc_jsonw_init(&w);
	admin_create_user(ctx, &prm, argv[0], argv[2], argv[1], 1, &w);
	PQclear(admin_exec(ctx, "COMMIT", 0, NULL, 0));
	admin_print_json(&w);
	return (0);
}

/*
 * bootstrap-admin: the first two admins and the first auditor of an
 * installation, and no more (auth.bootstrap_account() counts under a
 * table lock and records every attempt, with an alert). Each account is
 * an enrolment: the two halves of its code go to stdout as JSON, and the
 * person it is for finishes first sign-in in the console, choosing their
 * own password and device. Whoever runs this holds both halves and could
 * enrol in that person's place: that is what the alert is for.
 */
static int
admin_cmd_bootstrap_admin(struct admin_ctx *ctx, int argc, char **argv)
{
	struct pc_jsonw		w;
	PGresult		*res;
	const char		*p[7], *role;
	uint8_t			code[2][PC_ENROLCODE_LEN];
	char			param[2][PC_BYTEA_TEXT(PC_ENROLCODE_LEN)];
	char			text[2][PC_ENROLCODE_TEXT], ttl[16];
	int			i;

	role = argc == 3 ? argv[2] : "admin";
	if (strcmp(role, "admin") != 0 && strcmp(role, "auditor") != 0)
		admin_fatal("bootstrap-admin makes admins and auditors only");

	for (i = 0; i < 2; i++) {
		if (pc_enrolcode_new(code[i]) == -1)
			admin_fatal("RAND_bytes failed");
		admin_hex(code[i], sizeof(code[i]), param[i],
		    sizeof(param[i]));
		pc_enrolcode_format(code[i], text[i]);
	}
	(void)snprintf(ttl, sizeof(ttl), "%u",
	    ctx->policy.enrolment_ttl_seconds);

	admin_connect(ctx, "pc_ops");
	PQclear(admin_exec(ctx, "BEGIN", 0, NULL, 0));
	PQclear(admin_exec(ctx, "SET LOCAL lock_timeout = '"
	    ADMIN_LOCK_TIMEOUT "'", 0, NULL, 0));
	p[0] = ctx->actor;
	p[1] = argv[0];
	p[2] = argv[1];
	p[3] = role;
	p[4] = param[0];
	p[5] = param[1];
	p[6] = ttl;
	res = admin_exec(ctx, "SELECT outcome, user_id, "
	    "extract(epoch FROM expires_at)::bigint, admins, auditors "
	    "FROM auth.bootstrap_account($1, $2, $3, $4, $5::bytea, "
	    "$6::bytea, $7::integer)", 7, p, 1);
	/* A refusal is recorded (and alerted): commit that too. */
	PQclear(admin_exec(ctx, "COMMIT", 0, NULL, 0));
	pc_wipe(param, sizeof(param));
	pc_wipe(code, sizeof(code));
	if (strcmp(PQgetvalue(res, 0, 0), "ok") != 0) {
		pc_wipe(text, sizeof(text));
		admin_fatal("refused: the site has %s admin(s) and %s "
		    "auditor(s); bootstrap-admin makes only the first two "
		    "admins and the first auditor. Further accounts are "
		    "requested and approved in the console.",
		    PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4));
	}

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "username", argv[0]);
	pc_jsonw_string(&w, "role", role);
	pc_jsonw_int(&w, "user_id", strtoll(PQgetvalue(res, 0, 1), NULL, 10));
	pc_jsonw_string(&w, "enrolment_code_1", text[0]);
	pc_jsonw_string(&w, "enrolment_code_2", text[1]);
	pc_jsonw_int(&w, "expires_at", strtoll(PQgetvalue(res, 0, 2), NULL,
	    10));
	pc_jsonw_object_close(&w);
	PQclear(res);
	pc_wipe(text, sizeof(text));
	admin_print_json(&w);
	admin_flush();

	fprintf(stderr,
	    "\n%s account %s created, waiting for its first sign-in.\n"
	    "Hand both halves of the enrolment code (the JSON on stdout) to "
	    "the person\nwho will use it, by two routes if you can. They "
	    "open the console, choose\n\"First sign-in\", enter the "
	    "username and both halves, choose a password and\nscan the QR "
	    "code with their own authenticator. The code works once and\n"
	    "expires; only that person learns the password and the "
	    "TOTP secret.\n", role, argv[0]);
	return (0);
}

/*
 * list-users: one line per account on stdout, tab-separated: id,
 * username, role, disabled, locked, TOTP state, last login (UTC, ISO
 * 8601, or "-"). No secrets: it reads auth.directory.
 */
static int
admin_cmd_list_users(struct admin_ctx *ctx, int argc, char **argv)
{
	PGresult	*res;
	char		details[64];
	int		i, j, n;

	(void)argc;
	(void)argv;
	admin_connect(ctx, "pc_ops");
	PQclear(admin_exec(ctx, "BEGIN", 0, NULL, 0));
	res = admin_exec(ctx, "SELECT id, username, role, "
	    "CASE WHEN disabled THEN 'yes' ELSE 'no' END, "
	    "CASE WHEN locked_until > now() THEN 'yes' ELSE 'no' END, "
	    "coalesce(totp_state, 'none'), "
	    "coalesce(to_char(last_login_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-') "
	    "FROM auth.directory ORDER BY id", 0, NULL, 0);
	n = PQntuples(res);
	(void)snprintf(details, sizeof(details), "{\"users\": %d}", n);
	admin_audit(ctx, "users.listed", NULL, details);
	PQclear(admin_exec(ctx, "COMMIT", 0, NULL, 0));

	/* Only what was audited is shown. */
	for (i = 0; i < n; i++) {
		for (j = 0; j < 7; j++) {
			if (j > 0)
				fputc('\t', stdout);
			admin_field(stdout, PQgetvalue(res, i, j));
		}
		fputc('\n', stdout);
	}
	PQclear(res);
	admin_flush();
	return (0);
}

/* unlock: emergency unlock of an account (PCI DSS 8.3.4). */
static int
admin_cmd_unlock(struct admin_ctx *ctx, int argc, char **argv)
{
	PGresult	*res;
	const char	*p[1];

	(void)argc;
	admin_connect(ctx, "pc_ops");
	PQclear(admin_exec(ctx, "BEGIN", 0, NULL, 0));
	p[0] = argv[0];
	res = admin_exec(ctx, "UPDATE auth.lockout l SET failures = 0, "
	    "locked_until = NULL FROM auth.users u WHERE u.id = l.user_id "
	    "AND u.username = lower(normalize($1, NFKC)) RETURNING u.id",
	    1, p, 0);
	if (PQntuples(res) != 1)
		admin_fatal("no such user");
	PQclear(res);
	admin_audit(ctx, "account.unlocked", argv[0], "{}");
	PQclear(admin_exec(ctx, "COMMIT", 0, NULL, 0));
	printf("unlocked %s\n", argv[0]);
	return (0);
}

/*
 * reports mail: each daily digest and weekly summary no delivery has
 * reached yet (audit.report_pending()), or with --day that day's digest
 * again, as one message to every recipient of report_recipients through
 * report_sendmail -oi -t. Each outcome is recorded with the message's
 * SHA-256 (audit.report_delivered(); a failure raises the alert
 * report_mail_failed). stdout: kind, period, ok|failed, SHA-256 per
 * report. Exit 1 when any delivery failed.
 */
static int
admin_cmd_reports_mail(struct admin_ctx *ctx, int argc, char **argv)
{
	PGresult	*res;
	const char	*p[2];
	int		 i, failed, y, m, d;

	p[1] = NULL;
	if (argc == 2 && strcmp(argv[0], "--day") == 0)
		p[1] = argv[1];
	else if (argc != 0)
		admin_usage();
	if (p[1] != NULL &&
	    pc_civilday_parse(p[1], strlen(p[1]), &y, &m, &d) == -1)
		admin_fatal("--day: name a day as YYYY-MM-DD");
	if (!pc_mailmsg_recipients_ok(ctx->policy.report_recipients))
		admin_fatal("report_recipients is not set in policy.conf");
	admin_connect(ctx, "pc_ops");
	p[0] = ctx->policy.timezone;
	res = admin_exec(ctx, "SELECT kind, period, subject, body "
	    "FROM audit.report_pending($1, $2)", 2, p, 0);
	if (p[1] != NULL && PQntuples(res) == 0)
		admin_fatal("no digest for %s (made 5 minutes after the day "
		    "ends, within 31 days)", p[1]);
	failed = 0;
	for (i = 0; i < PQntuples(res); i++)
		failed += admin_report_mail(ctx, res, i);
	PQclear(res);
	admin_flush();
	return (failed > 0);
}

/* One report, sent and recorded; 1 when its delivery failed. */
static int
admin_report_mail(struct admin_ctx *ctx, PGresult *res, int row)
{
	struct pc_mailmsg	 m;
	const char		*p[7];
	uint8_t			 h[EVP_MAX_MD_SIZE];
	unsigned int		 hl;
	char			*msg, host[64], from[128], msgid[128];
	char			 rcpt[520], hex[2 * EVP_MAX_MD_SIZE + 3];
	char			 detail[64];
	size_t			 len, cap;
	int			 ok;

	/* From the host's name, when it is one an address can carry. */
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	(void)snprintf(from, sizeof(from), "payconsole@%s", host);
	if (!pc_mailmsg_recipients_ok(from))
		(void)snprintf(from, sizeof(from), "payconsole@localhost");
	memset(&m, 0, sizeof(m));
	m.from = from;
	m.to = ctx->policy.report_recipients;
	m.subject = PQgetvalue(res, row, 2);
	m.date = time(NULL);
	(void)snprintf(msgid, sizeof(msgid), "%s.%s.%lld.%ld@payconsole",
	    PQgetvalue(res, row, 0), PQgetvalue(res, row, 1),
	    (long long)m.date, (long)getpid());
	m.msgid = msgid;
	m.body = PQgetvalue(res, row, 3);
	if ((msg = pc_mailmsg_build(&m, &len, &cap)) == NULL)
		admin_fatal("%s %s: the report cannot be made into a message",
		    PQgetvalue(res, row, 0), PQgetvalue(res, row, 1));
	if (EVP_Digest(msg, len, h, &hl, EVP_sha256(), NULL) != 1)
		admin_fatal("SHA-256 failed");
	admin_hex(h, hl, hex, sizeof(hex));
	ok = admin_sendmail(ctx->policy.report_sendmail, msg, len, detail,
	    sizeof(detail)) == 0;
	pc_mailmsg_free(msg, cap);

	/* Addresses are [A-Za-z0-9._+@-]: the list is an array literal. */
	(void)snprintf(rcpt, sizeof(rcpt), "{%s}",
	    ctx->policy.report_recipients);
	p[0] = ctx->actor;
	p[1] = PQgetvalue(res, row, 0);
	p[2] = PQgetvalue(res, row, 1);
	p[3] = rcpt;
	p[4] = hex + 2;
	p[5] = ok ? "true" : "false";
	p[6] = detail;
	PQclear(admin_exec(ctx, "SELECT audit.report_delivered($1, $2, $3, "
	    "$4::text[], $5, $6::boolean, $7)", 7, p, 1));
	printf("%s\t%s\t%s\t%s\n", p[1], p[2], ok ? "ok" : "failed", p[4]);
	if (!ok)
		fprintf(stderr, "payconsole-admin: %s %s not delivered: %s\n",
		    p[1], p[2], detail);
	return (!ok);
}

/*
 * The message to path -oi -t on its standard input (its output goes to
 * our stderr: stdout is the result); 0 when it exited 0, else -1 with
 * what happened in detail.
 */
static int
admin_sendmail(const char *path, const char *msg, size_t len, char *detail,
    size_t dlen)
{
	struct sigaction	sa, old;
	ssize_t			n;
	size_t			off;
	pid_t			pid;
	int			fd[2], status, werr;

	(void)snprintf(detail, dlen, "delivered");
	if (pipe(fd) == -1)
		admin_fatal("pipe: %s", strerror(errno));
	admin_flush();
	if ((pid = fork()) == -1)
		admin_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(fd[0], STDIN_FILENO) == -1 ||
		    dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
			_exit(127);
		(void)close(fd[0]);
		(void)close(fd[1]);
		execl(path, path, "-oi", "-t", (char *)NULL);
		_exit(127);
	}
	(void)close(fd[0]);
	/* A sendmail that exits early must not kill us with SIGPIPE. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, &old);
	werr = 0;
	for (off = 0; off < len; off += (size_t)n) {
		if ((n = write(fd[1], msg + off, len - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			werr = errno;
			break;
		}
	}
	(void)close(fd[1]);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			admin_fatal("waitpid: %s", strerror(errno));
	}
	(void)sigaction(SIGPIPE, &old, NULL);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && werr == 0)
		return (0);
	if (WIFSIGNALED(status))
		(void)snprintf(detail, dlen, "sendmail killed by signal %d",
		    WTERMSIG(status));
	else if (WEXITSTATUS(status) == 127)
		(void)snprintf(detail, dlen, "sendmail could not be run");
	else if (WEXITSTATUS(status) != 0)
		(void)snprintf(detail, dlen, "sendmail exit %d",
		    WEXITSTATUS(status));
	else
		(void)snprintf(detail, dlen, "writing to sendmail: %s",
		    strerror(werr));
	return (-1);
}

/*
 * rotate-key: re-seal every TOTP secret under a new key-encryption key,
 * all or nothing. The credentials table is locked against writers for
 * the duration (a user created meanwhile under the old key would be
 * left behind), every secret is opened with the current key (policy
 * totp_key_file) and sealed under the new one with the same additional
 * data, and the result is checked before COMMIT: no row under another
 * key id, every row opens with the new key. A secret under any other
 * key, or one that does not open, refuses the whole rotation.
 */
static int
admin_cmd_rotate_key(struct admin_ctx *ctx, int argc, char **argv)
{
	struct pc_kek	*nk = &admin_kek_new;
	PGresult	*res;
	char		path[PATH_MAX], oldid[16], newid[16], details[128];
	int		n;

	(void)argc;
	admin_rotate_load(ctx, nk, argv[0], path);
	(void)snprintf(oldid, sizeof(oldid), "%u", ctx->kek.id);
	(void)snprintf(newid, sizeof(newid), "%u", nk->id);

	admin_connect(ctx, "pc_ops");
	PQclear(admin_exec(ctx, "BEGIN", 0, NULL, 0));
	PQclear(admin_exec(ctx, "SET LOCAL lock_timeout = '"
	    ADMIN_LOCK_TIMEOUT "'", 0, NULL, 0));
	PQclear(admin_exec(ctx, "LOCK TABLE auth.credentials IN SHARE ROW "
	    "EXCLUSIVE MODE", 0, NULL, 0));
	res = admin_exec(ctx, "SELECT user_id, encode(totp_secret, 'hex'), "
	    "totp_key_id FROM auth.credentials WHERE totp_secret IS NOT NULL "
	    "ORDER BY user_id FOR UPDATE", 0, NULL, 0);
	n = PQntuples(res);
	admin_rotate_precheck(ctx, res, oldid);
	admin_rotate_write(ctx, nk, res, oldid, newid);
	PQclear(res);
	admin_rotate_verify(ctx, nk, n, newid);

	(void)snprintf(details, sizeof(details),
	    "{\"from\": %u, \"to\": %u, \"secrets\": %d}", ctx->kek.id,
	    nk->id, n);
	admin_audit(ctx, "kek.rotated", "totp_key_file", details);
	PQclear(admin_exec(ctx, "COMMIT", 0, NULL, 0));
	pc_kek_wipe(nk);

	printf("re-sealed %d TOTP secret(s): key id %s -> %s\n", n, oldid,
	    newid);
	admin_flush();
	fprintf(stderr,
	    "Next steps:\n"
	    "  1. In %s/policy.conf set:  totp_key_file %s\n"
	    "     (payconsole-admin reads the same line).\n"
	    "  2. Restart payconsole. Until it runs with the new key it "
	    "cannot open any\n"
	    "     TOTP secret: every login fails.\n"
	    "  3. Then destroy the old key file %s and every copy of it.\n",
	    ctx->site, path, ctx->policy.totp_key_file);
	return (0);
}

/* The new key from file, refused if it is the current one; its path. */
static void
admin_rotate_load(struct admin_ctx *ctx, struct pc_kek *nk, const char *file,
    char *path)
{
	char	err[PC_POLICY_ERR_MAX];

	if (pc_kek_load(nk, file, err, sizeof(err)) == -1)
		admin_fatal("%s", err);
	if (nk->id == ctx->kek.id)
		admin_fatal("refused: %s has key id %u, the id of the current "
		    "key (%s); a new key needs a new id", file, nk->id,
		    ctx->policy.totp_key_file);
	if (CRYPTO_memcmp(nk->key, ctx->kek.key, sizeof(nk->key)) == 0)
		admin_fatal("refused: %s holds the current key under another "
		    "id; generate a new key", file);
	if (realpath(file, path) == NULL)
		admin_fatal("%s: %s", file, strerror(errno));
}

/*
 * 1 when the hex blob of user_id's secret opens under k (into a buffer
 * wiped here); with *key_id the key id the blob names, if it parses.
 */
static int
admin_rotate_opens(const struct pc_kek *k, const char *user_id,
    const char *hex, uint32_t *key_id)
{
	uint8_t		sealed[ADMIN_SEALED_MAX];
	uint8_t		plain[ADMIN_SECRET_MAX];
	char		ad[48];
	int		slen, ok;

	slen = admin_unhex(hex, sealed, sizeof(sealed));
	if (key_id != NULL && slen > 0)
		*key_id = pc_secretbox_key_id(sealed, (size_t)slen);
	(void)snprintf(ad, sizeof(ad), "totp:%s", user_id);
	ok = slen >= 0 && pc_secretbox_open(k, (const uint8_t *)ad,
	    strlen(ad), sealed, (size_t)slen, plain, sizeof(plain)) > 0;
	pc_wipe(plain, sizeof(plain));
	return (ok);
}

/* First every row is checked; nothing is written unless all pass. */
static void
admin_rotate_precheck(struct admin_ctx *ctx, PGresult *res,
    const char *oldid)
{
	uint32_t	kid;
	int		i, n, foreign, broken, ok;

	n = PQntuples(res);
	foreign = broken = 0;
	for (i = 0; i < n; i++) {
		kid = ctx->kek.id;
		ok = admin_rotate_opens(&ctx->kek, PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), &kid);
		if (strcmp(PQgetvalue(res, i, 2), oldid) != 0 ||
		    kid != ctx->kek.id)
			foreign++;
		else if (!ok)
			broken++;
	}
	if (foreign > 0 || broken > 0) {
		PQclear(res);
		PQclear(admin_exec(ctx, "ROLLBACK", 0, NULL, 0));
		admin_fatal("refused: of %d TOTP secret(s), %d are sealed "
		    "under a key other than the current key %u and %d cannot "
		    "be opened with it; nothing was changed", n, foreign,
		    ctx->kek.id, broken);
	}
}

/* Every secret re-sealed under nk and written back. */
static void
admin_rotate_write(struct admin_ctx *ctx, const struct pc_kek *nk,
    PGresult *res, const char *oldid, const char *newid)
{
	PGresult	*up;
	const char	*p[4];
	char		hexblob[2 * ADMIN_SEALED_MAX + 3];
	int		i, n;

	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		p[0] = PQgetvalue(res, i, 0);
		if (admin_reseal(ctx, nk, p[0], PQgetvalue(res, i, 1),
		    hexblob, sizeof(hexblob)) == -1) {
			PQclear(admin_exec(ctx, "ROLLBACK", 0, NULL, 0));
			admin_fatal("refused: the secret of user %s could not "
			    "be re-sealed; nothing was changed", p[0]);
		}
		p[1] = hexblob;
		p[2] = newid;
		p[3] = oldid;
		up = admin_exec(ctx, "UPDATE auth.credentials SET "
		    "totp_secret = $2::bytea, totp_key_id = $3::integer "
		    "WHERE user_id = $1::bigint AND totp_key_id = $4::integer",
		    4, p, 0);
		if (strcmp(PQcmdTuples(up), "1") != 0)
			admin_fatal("user %s: credentials changed during the "
			    "rotation; nothing was changed", p[0]);
		PQclear(up);
	}
}

/* Check what is about to be committed, row by row. */
static void
admin_rotate_verify(struct admin_ctx *ctx, const struct pc_kek *nk, int n,
    const char *newid)
{
	PGresult	*res;
	const char	*p[1];
	int		i;

	p[0] = newid;
	res = admin_exec(ctx, "SELECT count(*) FROM auth.credentials "
	    "WHERE totp_secret IS NOT NULL AND totp_key_id <> $1::integer",
	    1, p, 1);
	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
		admin_fatal("%s secret(s) still under another key after the "
		    "rotation; nothing was changed", PQgetvalue(res, 0, 0));
	PQclear(res);
	res = admin_exec(ctx, "SELECT user_id, encode(totp_secret, 'hex') "
	    "FROM auth.credentials WHERE totp_secret IS NOT NULL", 0, NULL, 0);
	if (PQntuples(res) != n)
		admin_fatal("the number of secrets changed during the "
		    "rotation; nothing was changed");
	for (i = 0; i < n; i++) {
		if (!admin_rotate_opens(nk, PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), NULL))
			admin_fatal("user %s: the re-sealed secret does not "
			    "open with the new key; nothing was changed",
			    PQgetvalue(res, i, 0));
	}
	PQclear(res);
}

/*
 * One secret: open hex (a sealed blob) under the current key, seal it
 * under nk with the same additional data, check that the new blob
 * opens to the same bytes, and write it as a bytea literal to out.
 * The plaintext exists only here. 0 or -1.
 */
static int
admin_reseal(struct admin_ctx *ctx, const struct pc_kek *nk,
    const char *user_id, const char *hex, char *out, size_t outlen)
{
	uint8_t		sealed[ADMIN_SEALED_MAX], resealed[ADMIN_SEALED_MAX];
	uint8_t		plain[ADMIN_SECRET_MAX], check[ADMIN_SECRET_MAX];
	char		ad[48];
	int		slen, plen, rc;

	rc = -1;
	(void)snprintf(ad, sizeof(ad), "totp:%s", user_id);
	if ((slen = admin_unhex(hex, sealed, sizeof(sealed))) < 0)
		return (-1);
	plen = pc_secretbox_open(&ctx->kek, (const uint8_t *)ad, strlen(ad),
	    sealed, (size_t)slen, plain, sizeof(plain));
	if (plen <= 0)
		goto out;
	if (pc_secretbox_seal(nk, (const uint8_t *)ad, strlen(ad), plain,
	    (size_t)plen, resealed, sizeof(resealed)) == -1)
		goto out;
	if (pc_secretbox_open(nk, (const uint8_t *)ad, strlen(ad), resealed,
	    (size_t)plen + PC_SECRETBOX_OVERHEAD, check,
	    sizeof(check)) != plen ||
	    CRYPTO_memcmp(plain, check, (size_t)plen) != 0)
		goto out;
	admin_hex(resealed, (size_t)plen + PC_SECRETBOX_OVERHEAD, out,
	    outlen);
	rc = 0;
out:
	pc_wipe(plain, sizeof(plain));
	pc_wipe(check, sizeof(check));
	return (rc);
}

/*
 * Options as "--name value" pairs, in any order, into vals (in the order
 * of names): every one given once, no other; else admin_usage().
 */
static void
admin_opts(int argc, char **argv, const char *const *names,
    const char **vals, size_t n)
{
	size_t	k;
	int	i;

	if ((size_t)argc != 2 * n)
		admin_usage();
	for (k = 0; k < n; k++)
		vals[k] = NULL;
	for (i = 0; i + 1 < argc; i += 2) {
		for (k = 0; k < n && strcmp(argv[i], names[k]) != 0; k++)
			;
		if (k == n || vals[k] != NULL)
			admin_usage();
		vals[k] = argv[i + 1];
	}
}

/*
 * audit-verify: seal what is due, then walk the SHA-256 chain; exit 1
 * and name the first altered, missing or reordered event if broken.
 */
static int
admin_cmd_audit_verify(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const names[] = { "--checkpoints", "--pubkey" };
	PGresult	*res;
	const char	*v[2];
	char		details[160];
	int		intact;

	if (argc > 0) {
		admin_opts(argc, argv, names, v, 2);
		return (admin_verify_checkpoints(ctx, v[0], v[1]));
	}
	admin_connect(ctx, "pc_ops");
	PQclear(admin_exec(ctx, "SELECT audit.seal()", 0, NULL, 0));
	res = admin_exec(ctx, "SELECT intact, checked, last_event, "
	    "coalesce(problem, ''), coalesce(problem_event, 0), "
	    "coalesce(unsealed, 0) FROM audit.verify()", 0, NULL, 1);
	intact = PQgetvalue(res, 0, 0)[0] == 't';
	if (intact) {
		printf("audit chain intact up to event %s (%s events checked, "
		    "%s not yet sealed)\n", PQgetvalue(res, 0, 2),
		    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 5));
		(void)snprintf(details, sizeof(details),
		    "{\"intact\": true, \"last_event\": %lld}",
		    strtoll(PQgetvalue(res, 0, 2), NULL, 10));
	} else {
		printf("audit chain BROKEN: event %s %s (chain intact up to "
		    "event %s)\n", PQgetvalue(res, 0, 4),
		    PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 2));
		(void)snprintf(details, sizeof(details),
		    "{\"intact\": false, \"problem_event\": %lld}",
		    strtoll(PQgetvalue(res, 0, 4), NULL, 10));
	}
	PQclear(res);
	admin_audit_outcome(ctx, "audit.verified", "audit",
	    intact ? "success" : "failure", details);
	return (intact ? 0 : 1);
}

/*
 * The events after the retention anchor, ids ascending, each as the
 * bytes audit.event_digest() hashes: the serialisation is written here
 * with built-in functions only, so a replaced audit.event_digest()
 * changes nothing; the hashing is ours. A read-only REPEATABLE READ
 * transaction, a cursor, binary rows. 0, or -1 when a checkpoint failed.
 */
static int
admin_walk_events(struct admin_ctx *ctx, struct pc_ckpt_walk *w)
{
	PGresult	*res;
	const char	*p[1];
	char		last[24];
	const uint8_t	*id;
	int64_t		 v;
	int		 i, j, n;

	(void)snprintf(last, sizeof(last), "%" PRId64, w->last);
	p[0] = last;
	PQclear(admin_exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ "
	    "READ ONLY", 0, NULL, 0));
	PQclear(admin_exec(ctx, "DECLARE pc_walk NO SCROLL CURSOR FOR "
	    "SELECT e.id, pg_catalog.convert_to(" PC_CKPT_EVENT_TEXT ", "
	    "'UTF8') "
	    "FROM audit.events e WHERE e.id > $1::bigint ORDER BY e.id",
	    1, p, 0));
	for (;;) {
		res = PQexecParams(ctx->db, "FETCH FORWARD 5000 FROM pc_walk",
		    0, NULL, NULL, NULL, NULL, 1);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			admin_fatal("database: %s", PQresultErrorMessage(res));
		if ((n = PQntuples(res)) == 0) {
			PQclear(res);
			break;
		}
		for (i = 0; i < n; i++) {
			if (PQgetlength(res, i, 0) != 8)
				admin_fatal("database: bad event id");
			id = (const uint8_t *)PQgetvalue(res, i, 0);
			for (v = 0, j = 0; j < 8; j++)
				v = (int64_t)(((uint64_t)v << 8) | id[j]);
			if (pc_ckpt_walk_event(w, v, PQgetvalue(res, i, 1),
			    (size_t)PQgetlength(res, i, 1)) == -1) {
				PQclear(res);
				return (-1);
			}
		}
		PQclear(res);
	}
	PQclear(admin_exec(ctx, "COMMIT", 0, NULL, 0));
	return (pc_ckpt_walk_end(w));
}

/*
 * audit verify --checkpoints FILE --pubkey KEY: the offline verifier.
 * The file first (canonical lines, signatures, sequence, links), then
 * the chain recomputed from the events and compared with every head.
 * Prints "checkpoint N: reason" for the first bad one and exits 1.
 */
static int
admin_verify_checkpoints(struct admin_ctx *ctx, const char *file,
    const char *pub)
{
	struct pc_ckpt_key	 key;
	struct pc_ckpt_list	 l;
	struct pc_ckpt_walk	 w;
	PGresult		*res;
	FILE			*f;
	uint8_t			 anchor[PC_CKPT_HASH_LEN];
	char			 err[PC_POLICY_ERR_MAX], why[PC_CKPT_WHY_MAX];
	int64_t			 bad, through;
	size_t			 alen;
	int			 rc;

	if (pc_ckpt_pubkey_load(&key, pub, err, sizeof(err)) == -1)
		admin_fatal("%s", err);
	if ((f = fopen(file, "r")) == NULL)
		admin_fatal("%s: %s", file, strerror(errno));
	rc = pc_ckpt_read(f, &key, &l, &bad, why, sizeof(why));
	(void)fclose(f);
	pc_ckpt_key_free(&key);

	/* The anchor is read from the table itself, not a function. */
	admin_connect(ctx, "pc_auditor");
	res = admin_exec(ctx, "SELECT through_event, anchor_hash "
	    "FROM audit.purges ORDER BY id DESC LIMIT 1", 0, NULL, 0);
	memset(anchor, 0, sizeof(anchor));
	through = 0;
	if (PQntuples(res) == 1) {
		through = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		if (pc_bytea_decode(PQgetvalue(res, 0, 1), anchor,
		    sizeof(anchor), &alen) == -1 || alen != sizeof(anchor))
			admin_fatal("database: bad retention anchor");
	}
	PQclear(res);

	pc_ckpt_walk_init(&w, &l, through, anchor);
	if (admin_walk_events(ctx, &w) == -1) {
		printf("checkpoint %" PRId64 ": %s\n", w.bad, w.why);
		rc = 1;
	} else if (rc == -1) {
		printf("checkpoint %" PRId64 ": %s\n", bad, why);
		rc = 1;
	} else {
		printf("checkpoints ok: 1 to %zu signed and linked; the chain "
		    "recomputed through event %" PRId64 " matches every head"
		    "%s\n", l.n, w.last, w.skipped ? " after the retention "
		    "anchor" : "");
		rc = 0;
	}
	admin_flush();
	pc_ckpt_list_free(&l);
	return (rc);
}

/* checkpoint-keygen FILE: a new signing key; the public key on stdout. */
static int
admin_cmd_checkpoint_keygen(struct admin_ctx *ctx, int argc, char **argv)
{
	struct pc_ckpt_key	key;
	char			err[PC_POLICY_ERR_MAX];

	(void)ctx;
	(void)argc;
	if (pc_ckpt_key_generate(&key) == -1)
		admin_fatal("Ed25519 key generation failed");
	if (pc_ckpt_key_write(&key, argv[0], stdout, err, sizeof(err)) == -1) {
		pc_ckpt_key_free(&key);
		admin_fatal("%s", err);
	}
	pc_ckpt_key_free(&key);
	admin_flush();
	return (0);
}

/*
 * audit purge --before YYYY-MM-DD --out FILE: the retention procedure
 * (migrations/012_retention.sql). In one REPEATABLE READ transaction:
 * seal, verify, export the sealed range older than the date (midnight in
 * the policy timezone) to FILE as JSON lines with each event's chain
 * link, fsync it, then audit.purge() deletes exactly that range, keeps
 * its last link as the anchor and records audit.purged. Any failure
 * rolls everything back; the export file is never overwritten.
 */
static int
admin_cmd_audit_purge(struct admin_ctx *ctx, int argc, char **argv)
{
	PGresult	*res;
	const char	*before, *out, *p[6];
	char		local[32], through[24], sha[65], real[PATH_MAX];
	long long	n;

	(void)argc;
	if (strcmp(argv[0], "--before") != 0 || strcmp(argv[2], "--out") != 0)
		admin_usage();
	before = argv[1];
	out = argv[3];
	if (strlen(before) != 10 || (size_t)snprintf(local, sizeof(local),
	    "%sT00:00:00", before) >= sizeof(local) ||
	    !pc_qs_local_time(local))
		admin_fatal("--before wants a date, YYYY-MM-DD");

	admin_connect(ctx, "pc_ops");
	/* Sealing first, on its own: the snapshot below then sees it. */
	PQclear(admin_exec(ctx, "SELECT audit.seal()", 0, NULL, 0));
	PQclear(admin_exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0,
	    NULL, 0));
	res = admin_exec(ctx, "SELECT intact, coalesce(problem_event, 0) "
	    "FROM audit.verify()", 0, NULL, 1);
	if (PQgetvalue(res, 0, 0)[0] != 't') {
		admin_fatal("audit chain broken at event %s: nothing purged",
		    PQgetvalue(res, 0, 1));
	}
	PQclear(res);

	p[0] = local;
	p[1] = ctx->policy.timezone;
	res = admin_exec(ctx, "SELECT through_event, events FROM "
	    "audit.purge_range($1::timestamp AT TIME ZONE $2)", 2, p, 1);
	(void)snprintf(through, sizeof(through), "%s", PQgetvalue(res, 0, 0));
	n = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	if (n == 0) {
		/* A run that removes nothing is on the record too. */
		PQclear(admin_exec(ctx, "ROLLBACK", 0, NULL, 0));
		p[0] = local;
		p[1] = ctx->policy.timezone;
		p[2] = ctx->actor;
		PQclear(admin_exec(ctx, "SELECT audit.note_cli($3, "
		    "'audit.purged', 'audit.events', 'success', "
		    "jsonb_build_object('events', 0, 'before', "
		    "$1::timestamp AT TIME ZONE $2))", 3, p, 0));
		printf("nothing to purge before %s\n", before);
		return (0);
	}

	admin_purge_export(ctx, out, through, sha);
	if (realpath(out, real) == NULL)
		admin_fatal("%s: %s", out, strerror(errno));

	p[0] = local;
	p[1] = ctx->policy.timezone;
	p[2] = through;
	p[3] = sha;
	p[4] = real;
	p[5] = ctx->actor;
	res = admin_exec(ctx, "SELECT audit.purge($1::timestamp AT TIME ZONE "
	    "$2, $3::bigint, $4, $5, $6)", 6, p, 1);
	n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	PQclear(admin_exec(ctx, "COMMIT", 0, NULL, 0));
	admin_unlink_on_fatal = NULL;

	printf("purged %lld events through event %s; export %s sha256 %s\n",
	    n, through, real, sha);
	return (0);
}

/*
 * evidence --from DATE --to DATE --out FILE: the evidence bundle of
 * those site-local days (src/evidence.c). Read as pc_auditor in one
 * read-only snapshot; the migration state as its owner, read-only.
 * The archive's SHA-256 on stdout.
 */
static int
admin_cmd_evidence(struct admin_ctx *ctx, int argc, char **argv)
{
	static const char *const names[] = { "--from", "--to", "--out" };
	struct pc_evidence	 ev;
	const char		*v[3];
	char			 path[PATH_MAX], err[PC_POLICY_ERR_MAX];

	memset(&ev, 0, sizeof(ev));
	admin_opts(argc, argv, names, v, 3);
	ev.out = v[2];
	if (pc_bundle_period(&ev.period, v[0], v[1], err, sizeof(err)) == -1)
		admin_fatal("%s", err);
	/* Refused before any work; link() refuses it again at the end. */
	if (access(ev.out, F_OK) == 0 || errno != ENOENT)
		admin_fatal("%s exists (a bundle is never overwritten)",
		    ev.out);
	(void)snprintf(path, sizeof(path), "%s/policy.conf", ctx->site);

	admin_connect(ctx, "pc_owner");
	ev.owner = ctx->db;
	admin_connect(ctx, "pc_auditor");
	ev.db = ctx->db;
	ev.policy = &ctx->policy;
	ev.policy_path = path;
	if (pc_evidence_write(&ev) == -1) {
		PQfinish(ev.owner);
		admin_fatal("evidence: %s", ev.err);
	}
	PQfinish(ev.owner);
	PQfinish(ev.db);
	ctx->db = NULL;
	admin_evidence_note(ctx, &ev, v[0], v[1]);
	printf("%s  %s\n", ev.sha256, ev.out);
	admin_flush();
	fprintf(stderr, "evidence %s to %s (%s): %lld events\n", v[0], v[1],
	    ctx->policy.timezone, ev.events);
	if (ev.open_period)
		fprintf(stderr, "warning: %s has not ended; a later run can "
		    "hold more\n", v[1]);
	return (0);
}

/*
 * The bundle is itself in the trail: evidence.exported with its period
 * and SHA-256, which the sealer links and the next checkpoint signs. A
 * bundle that could not be recorded is removed (fail closed: no
 * evidence in anyone's hands that the trail does not know of).
 */
static void
admin_evidence_note(struct admin_ctx *ctx, const struct pc_evidence *ev,
    const char *from, const char *to)
{
	struct pc_jsonw	 w;
	char		*json;
	size_t		 len;

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "from", from);
	pc_jsonw_string(&w, "to", to);
	pc_jsonw_string(&w, "timezone", ctx->policy.timezone);
	pc_jsonw_string(&w, "sha256", ev->sha256);
	pc_jsonw_int(&w, "events", ev->events);
	pc_jsonw_object_close(&w);
	if ((json = pc_jsonw_finish(&w, &len)) == NULL)
		admin_fatal("out of memory");
	admin_unlink_on_fatal = ev->out;
	admin_connect(ctx, "pc_ops");
	admin_audit(ctx, "evidence.exported", "evidence", json);
	admin_unlink_on_fatal = NULL;
	free(json);
}

/* The directory entry of a new file reaches the disk too. */
static void
admin_fsync_dir(const char *path)
{
	char	dir[PATH_MAX];

	if (pc_fsdir_sync(path, dir, sizeof(dir)) == -1) {
		(void)unlink(path);
		admin_fatal("%s: %s", dir, strerror(errno));
	}
}

/* The range as JSON lines, fetched in batches, hashed as written. */
static void
admin_purge_export(struct admin_ctx *ctx, const char *path,
    const char *through, char *sha)
{
	static const char	hex[] = "0123456789abcdef";
	EVP_MD_CTX		*md;
	PGresult		*res;
	const char		*p[1];
	unsigned char		h[EVP_MAX_MD_SIZE];
	unsigned int		hl, k;
	FILE			*fp;
	int			fd, i, rows;
	size_t			len;

	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd == -1)
		admin_fatal("%s: %s (an export is never overwritten)", path,
		    strerror(errno));
	/* Until the purge commits, a failure removes the export. */
	admin_unlink_on_fatal = path;
	if ((fp = fdopen(fd, "w")) == NULL)
		admin_fatal("%s: %s", path, strerror(errno));
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		admin_fatal("SHA-256 unavailable");

	p[0] = through;
	PQclear(admin_exec(ctx, "DECLARE purge_export NO SCROLL CURSOR FOR "
	    "SELECT line FROM audit.export_range($1::bigint) AS line", 1, p,
	    0));
	do {
		res = admin_exec(ctx, "FETCH 5000 FROM purge_export", 0, NULL,
		    0);
		rows = PQntuples(res);
		for (i = 0; i < rows; i++) {
			len = (size_t)PQgetlength(res, i, 0);
			if (fwrite(PQgetvalue(res, i, 0), 1, len, fp) != len ||
			    fputc('\n', fp) == EOF)
				admin_fatal("%s: write failed", path);
			if (EVP_DigestUpdate(md, PQgetvalue(res, i, 0),
			    len) != 1 || EVP_DigestUpdate(md, "\n", 1) != 1)
				admin_fatal("SHA-256 failed");
		}
		PQclear(res);
	} while (rows > 0);
	PQclear(admin_exec(ctx, "CLOSE purge_export", 0, NULL, 0));

	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0 || fclose(fp) != 0) {
		(void)unlink(path);
		admin_fatal("%s: cannot be written to disk", path);
	}
	admin_fsync_dir(path);
	if (EVP_DigestFinal_ex(md, h, &hl) != 1)
		admin_fatal("SHA-256 failed");
	EVP_MD_CTX_free(md);
	for (k = 0; k < hl && k < 32; k++) {
		sha[2 * k] = hex[h[k] >> 4];
		sha[2 * k + 1] = hex[h[k] & 0x0f];
	}
	sha[64] = '\0';
}

/* SITE/policy.conf and the key it names, as the command needs them. */
static void
admin_load_site(struct admin_ctx *ctx, int load)
{
	char	path[PATH_MAX], err[PC_POLICY_ERR_MAX];

	if (load == ADMIN_LOAD_NONE)
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/policy.conf",
	    ctx->site) >= sizeof(path))
		admin_fatal("site path too long");
	if (pc_policy_load(&ctx->policy, path, err, sizeof(err)) == -1)
		admin_fatal("%s", err);
	if (load == ADMIN_LOAD_POLICY)
		return;
	if (pc_kek_load(&ctx->kek, ctx->policy.totp_key_file, err,
	    sizeof(err)) == -1)
		admin_fatal("%s", err);
	if (pc_totp_init() == -1)
		admin_fatal("liboath initialisation failed");
}

static const char *
admin_migrations(void)
{
	const char	*dir;

	if ((dir = getenv("PC_MIGRATIONS")) != NULL && *dir != '\0')
		return (dir);
	return (PC_DATADIR "/migrations");
}

/*
 * Every problem of the site on stdout, one "file:line: message" each
 * (line 0: the whole file); nothing and exit 0 when there is none.
 */
static int
admin_cmd_check_config(struct admin_ctx *ctx, int argc, char **argv)
{
	int	problems;

	(void)argc;
	(void)argv;
	problems = pc_sitecheck_run(ctx->site, admin_migrations(), stdout);
	admin_flush();
	return (problems == 0 ? 0 : 1);
}

/*
 * One implementation of migrating: scripts/migrate, run on the policy's
 * socket and database (it records each file with its SHA-256 and
 * refuses a changed or missing one). With db_ports, libpq takes the
 * host list, the ports and read-write from the environment, as
 * admin_connect() gives them.
 */
static int
admin_cmd_migrate(struct admin_ctx *ctx, int argc, char **argv)
{
	const char	*script = PC_DATADIR "/scripts/migrate";
	char		 hosts[1024];

	(void)argc;
	(void)argv;
	if (pc_policy_db_hosts(&ctx->policy, ctx->policy.db_socket_dir, hosts,
	    sizeof(hosts)) == -1)
		admin_fatal("db_socket_dir: too long for db_ports");
	if (setenv("PC_MIGRATIONS", admin_migrations(), 1) == -1 ||
	    setenv("PGTARGETSESSIONATTRS", "read-write", 1) == -1 ||
	    (ctx->policy.db_ports[0] != '\0' &&
	    setenv("PGPORT", ctx->policy.db_ports, 1) == -1))
		admin_fatal("setenv: %s", strerror(errno));
	admin_flush();
	(void)fflush(stderr);
	execl(script, script, hosts, ctx->policy.db_name, (char *)NULL);
	admin_fatal("%s: %s", script, strerror(errno));
}

int
main(int argc, char **argv)
{
	struct admin_ctx	ctx;
	struct passwd		*pw;
	const struct admin_cmd	*cmd;
	const char		*site;
	int			ch, ret, words;

	site = ".";
	while ((ch = getopt(argc, argv, "+d:")) != -1) {
		switch (ch) {
		case 'd':
			site = optarg;
			break;
		default:
			admin_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		admin_usage();

	memset(&ctx, 0, sizeof(ctx));
	ctx.site = site;
	admin_kek_cur = &ctx.kek;
	if ((pw = getpwuid(getuid())) == NULL)
		admin_fatal("who is uid %u?", (unsigned)getuid());
	(void)snprintf(ctx.actor, sizeof(ctx.actor), "cli:%s", pw->pw_name);

	cmd = admin_cmd_find(argc, argv, &words);
	admin_load_site(&ctx, cmd->load);
	ret = cmd->run(&ctx, argc - words, argv + words);

	pc_kek_wipe(&ctx.kek);
	pc_kek_wipe(&admin_kek_new);
	if (ctx.db != NULL)
		PQfinish(ctx.db);
	return (ret);
}
