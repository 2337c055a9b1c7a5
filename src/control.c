/*
 * control.c: control-failure alarms (issue 16, part 4; PCI DSS 10.7.2),
 * opened and cleared through audit.control_failure() (migration 028).
 *
 * Worker 1, every control_check_seconds, one query:
 *   clock_jump       both clocks read here, pc_clockjump_skew() against
 *                    the previous check: failing for the check that saw
 *                    the jump, cleared at the next check that sees none;
 *   config_changed   the policy file (it holds the allowlist) re-read
 *                    through a descriptor the parent opened before the
 *                    workers chrooted (they cannot see the file by name)
 *                    and hashed: failing while it differs from what was
 *                    loaded; a file replaced by a rename or removed
 *                    leaves the descriptor on an inode with no link,
 *                    which counts as changed until the next start;
 *   sealing_stalled, chain_broken
 *                    audit.control_check() in the database, the chain
 *                    walked every chain_verify_seconds only.
 * Any worker, db_unreachable: pc_control_db() hears of every query's
 * outcome (db.c, audit.c); a worker that had no database for more than
 * PC_CONTROL_DB_DOWN_S reports it once the database answers again (it
 * could not before), first_seen being when it lost it and cleared now.
 * Worker 1, checkpoint_failed: pc_control_checkpoint() after each round
 * of checkpoint.c.
 * Worker 1, syslog_down: pc_control_syslog() from siem.c's rounds while
 * the SIEM sink has taken nothing for siem_down_seconds, and once when
 * a batch goes through again.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "app.h"
#include "clockjump.h"
#include "control.h"
#include "db.h"
#include "jsonw.h"

#define PC_CONTROL_DB_DOWN_S	30

static int	pc_control_policy_changed(char *, size_t);
static void	pc_control_tick(void *, u_int64_t);
static int64_t	pc_control_clock(int *, int64_t *);
static int	pc_control_query(const char *, int, const char **,
		    void (*)(int, void *));
static void	pc_control_tick_done(int, void *);
static void	pc_control_db_report(void *, u_int64_t);
static void	pc_control_db_done(int, void *);
static void	pc_control_syslog_done(int, void *);

static int				pc_control_policy_fd = -1;
static struct pc_clockjump_sample	pc_control_last;
static int				pc_control_have_last;
static int64_t				pc_control_verified_ms = -1;
static int				pc_control_inflight;
/* db_unreachable: since when (0: reachable) and the span to report. */
static time_t				pc_control_db_down;
static time_t				pc_control_db_from, pc_control_db_to;
static int				pc_control_db_reporting;
/* checkpoint_failed as last reported: -1 not yet, 0 clear, 1 failing. */
static int				pc_control_ckpt_state = -1;
/* syslog_down: the same, what is being reported, and whether it is. */
static int				pc_control_syslog_state = -1;
static int				pc_control_syslog_sending;
static int				pc_control_syslog_inflight;

/* Parent, before any worker forks or chroots. 0 or -1 with err. */
int
pc_control_parent_init(char *err, size_t errlen)
{
	pc_control_policy_fd = open(PC_POLICY_FILE, O_RDONLY | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK);
	if (pc_control_policy_fd == -1) {
		(void)snprintf(err, errlen, "%s: cannot be kept open: %s",
		    PC_POLICY_FILE, strerror(errno));
		return (-1);
	}
	return (0);
}

void
pc_control_parent_teardown(void)
{
	if (pc_control_policy_fd != -1)
		close(pc_control_policy_fd);
	pc_control_policy_fd = -1;
}

/* Worker 1 checks; the others only report their own database losses. */
void
pc_control_worker_init(void)
{
	if (worker == NULL || worker->id != 1) {
		pc_control_parent_teardown();
		return;
	}
	kore_timer_add(pc_control_tick,
	    (u_int64_t)pc_policy.control_check_seconds * 1000, NULL, 0);
}

/*
 * 1 when the file is no longer what was loaded (why says how), else 0.
 * The descriptor was opened by root: reading through it needs no path.
 */
static int
pc_control_policy_changed(char *why, size_t len)
{
	static const char	hex[] = "0123456789abcdef";
	struct stat		st;
	EVP_MD_CTX		*ctx;
	unsigned char		md[EVP_MAX_MD_SIZE], buf[4096];
	char			now[65];
	unsigned int		mdlen, i;
	ssize_t			n;

	if (fstat(pc_control_policy_fd, &st) == -1 ||
	    lseek(pc_control_policy_fd, 0, SEEK_SET) == -1) {
		(void)snprintf(why, len, "unreadable");
		return (1);
	}
	if (st.st_nlink == 0) {
		(void)snprintf(why, len, "replaced or removed");
		return (1);
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		(void)snprintf(why, len, "unreadable");
		return (1);
	}
	while ((n = read(pc_control_policy_fd, buf, sizeof(buf))) > 0) {
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			break;
	}
	if (n != 0 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 ||
	    mdlen != 32) {
		EVP_MD_CTX_free(ctx);
		(void)snprintf(why, len, "unreadable");
		return (1);
	}
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < mdlen; i++) {
		now[i * 2] = hex[md[i] >> 4];
		now[i * 2 + 1] = hex[md[i] & 0x0f];
	}
	now[mdlen * 2] = '\0';
	(void)snprintf(why, len, "%s", now);
	return (strcmp(now, pc_policy.digest) != 0);
}

/* Both clocks now, against the previous check; the monotonic ms. */
static int64_t
pc_control_clock(int *jumped, int64_t *skew)
{
	struct pc_clockjump_sample	now;
	struct timespec			ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	now.real_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	now.mono_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	*jumped = 0;
	*skew = 0;
	if (pc_control_have_last)
		*skew = pc_clockjump_skew(&pc_control_last, &now, jumped);
	pc_control_last = now;
	pc_control_have_last = 1;
	return (now.mono_ms);
}

static void
pc_control_tick(void *arg, u_int64_t at)
{
	struct pc_jsonw		w;
	const char		*v[5];
	char			why[80], *clock, *config;
	size_t			len;
	int			jumped, changed, verify;
	int64_t			skew, mono;

	(void)arg;
	(void)at;
	/* Still waiting for the last one: the next check spans both. */
	if (pc_control_inflight)
		return;
	mono = pc_control_clock(&jumped, &skew);
	verify = pc_control_verified_ms == -1 || mono -
	    pc_control_verified_ms >=
	    (int64_t)pc_policy.chain_verify_seconds * 1000;
	changed = pc_control_policy_changed(why, sizeof(why));

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_int(&w, "skew_ms", skew);
	pc_jsonw_int(&w, "max_ms", PC_CLOCKJUMP_MAX_MS);
	pc_jsonw_object_close(&w);
	clock = pc_jsonw_finish(&w, &len);
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "file", PC_POLICY_FILE);
	pc_jsonw_string(&w, "loaded", pc_policy.digest);
	pc_jsonw_string(&w, strlen(why) == 64 ? "now" : "why", why);
	pc_jsonw_object_close(&w);
	config = pc_jsonw_finish(&w, &len);
	if (jumped) {
		kore_log(LOG_ALERT, "clock jump: the wall clock moved %"
		    PRId64 " ms against the monotonic clock", skew);
	}
	/* Not the digest: a hex run may look like a card number. */
	if (changed)
		kore_log(LOG_ALERT, "%s changed on disk since start (%s)",
		    PC_POLICY_FILE, strlen(why) == 64 ? "content" : why);
	if (clock != NULL && config != NULL) {
		v[0] = verify ? "true" : "false";
		v[1] = jumped ? "true" : "false";
		v[2] = clock;
		v[3] = changed ? "true" : "false";
		v[4] = config;
		pc_control_inflight = pc_control_query(
		    "SELECT audit.control_check($1::boolean), "
		    "audit.control_failure('clock_jump', $2::boolean, "
		    "$3::jsonb), audit.control_failure('config_changed', "
		    "$4::boolean, $5::jsonb)", 5, v, pc_control_tick_done);
		if (pc_control_inflight && verify)
			pc_control_verified_ms = mono;
	}
	free(clock);
	free(config);
}

static void
pc_control_tick_done(int ok, void *arg)
{
	(void)arg;
	pc_control_inflight = 0;
	if (!ok)
		kore_log(LOG_WARNING, "control: the checks were not recorded");
}

/* One asynchronous query on pc_auth's handle; 1 when sent. */
static int
pc_control_query(const char *query, int n, const char **v,
    void (*done)(int, void *))
{
	return (pc_db_bg(PC_DB_AUTH, query, n, v, NULL, done, NULL));
}

/*
 * Every query's outcome in this worker: reachable 0 when no connection
 * could be had or it gave no answer, 1 when the database answered.
 */
void
pc_control_db(int reachable)
{
	time_t	now;

	now = time(NULL);
	if (!reachable) {
		if (pc_control_db_down == 0)
			pc_control_db_down = now;
		return;
	}
	if (pc_control_db_down != 0 &&
	    now - pc_control_db_down > PC_CONTROL_DB_DOWN_S) {
		pc_control_db_from = pc_control_db_down;
		pc_control_db_to = now;
	}
	pc_control_db_down = 0;
	/* Not from inside another query's callback: from the loop. */
	if (pc_control_db_from != 0 && !pc_control_db_reporting) {
		pc_control_db_reporting = 1;
		kore_timer_add(pc_control_db_report, 1, NULL, 1);
	}
}

/* The span it could not report while it lasted: opened and cleared. */
static void
pc_control_db_report(void *arg, u_int64_t at)
{
	struct pc_jsonw		w;
	const char		*v[3];
	char			key[24], since[24], *details;
	size_t			len;

	(void)arg;
	(void)at;
	(void)snprintf(key, sizeof(key), "worker %u",
	    worker != NULL ? (unsigned int)worker->id : 0);
	(void)snprintf(since, sizeof(since), "%lld",
	    (long long)pc_control_db_from);
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_int(&w, "worker", worker != NULL ? worker->id : 0);
	pc_jsonw_int(&w, "from", (int64_t)pc_control_db_from);
	pc_jsonw_int(&w, "to", (int64_t)pc_control_db_to);
	pc_jsonw_int(&w, "seconds",
	    (int64_t)(pc_control_db_to - pc_control_db_from));
	pc_jsonw_object_close(&w);
	if ((details = pc_jsonw_finish(&w, &len)) == NULL) {
		pc_control_db_reporting = 0;
		return;
	}
	kore_log(LOG_ALERT, "db_unreachable: this worker had no database "
	    "for %lld s", (long long)(pc_control_db_to - pc_control_db_from));
	v[0] = details;
	v[1] = key;
	v[2] = since;
	if (!pc_control_query("SELECT audit.control_failure("
	    "'db_unreachable', true, $1::jsonb, $2, to_timestamp($3::bigint)), "
	    "audit.control_failure('db_unreachable', false, $1::jsonb, $2)",
	    3, v, pc_control_db_done))
		pc_control_db_reporting = 0;
	free(details);
}

/* Reported: forget the span; not: the next answer tries again. */
static void
pc_control_db_done(int ok, void *arg)
{
	(void)arg;
	pc_control_db_reporting = 0;
	if (ok)
		pc_control_db_from = pc_control_db_to = 0;
}

/*
 * After each checkpoint round of worker 1 (synchronous like the round):
 * failed names the step that failed, NULL when the round succeeded.
 */
void
pc_control_checkpoint(const char *failed)
{
	struct kore_pgsql	sql;
	struct pc_jsonw		w;
	const char		*v[2];
	int			len[2], fmt[2];
	size_t			n;
	char			*details;

	if (failed == NULL && pc_control_ckpt_state == 0)
		return;
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "step", failed);
	pc_jsonw_object_close(&w);
	if ((details = pc_jsonw_finish(&w, &n)) == NULL)
		return;
	v[0] = failed != NULL ? "true" : "false";
	v[1] = details;
	len[0] = (int)strlen(v[0]);
	len[1] = (int)n;
	fmt[0] = fmt[1] = 0;
	kore_pgsql_init(&sql);
	if (kore_pgsql_setup(&sql, PC_DB_AUTH, KORE_PGSQL_SYNC) &&
	    kore_pgsql_query_param_fields(&sql, "SELECT "
	    "audit.control_failure('checkpoint_failed', $1::boolean, "
	    "$2::jsonb)", KORE_PGSQL_FORMAT_TEXT, 2, v, len, fmt))
		pc_control_ckpt_state = failed != NULL;
	else
		kore_log(LOG_WARNING, "control: checkpoint_failed not "
		    "recorded: %s", sql.error ? sql.error : "?");
	kore_pgsql_cleanup(&sql);
	free(details);
}

/*
 * Worker 1's SIEM stream (siem.c), each round while its sink is down
 * past siem_down_seconds (failing, since when it took nothing, why) and
 * each round it is up: an open alarm is cleared, a clear one left alone.
 */
void
pc_control_syslog(int failing, time_t since, const char *why)
{
	struct pc_jsonw		w;
	const char		*v[3];
	char			at[24], *details;
	size_t			len;

	if (pc_control_syslog_inflight ||
	    (!failing && pc_control_syslog_state == 0))
		return;
	(void)snprintf(at, sizeof(at), "%lld", (long long)(failing ?
	    since : time(NULL)));
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_string(&w, "sink", pc_policy.siem_sink ==
	    PC_POLICY_SIEM_TLS ? pc_policy.siem_collector :
	    pc_policy.siem_socket);
	pc_jsonw_string(&w, "why", why);
	pc_jsonw_int(&w, "down_seconds", pc_policy.siem_down_seconds);
	pc_jsonw_object_close(&w);
	if ((details = pc_jsonw_finish(&w, &len)) == NULL)
		return;
	if (failing)
		kore_log(LOG_ALERT, "syslog_down: the SIEM sink has taken "
		    "nothing for %lld s (%s)", (long long)(time(NULL) - since),
		    why != NULL ? why : "?");
	v[0] = failing ? "true" : "false";
	v[1] = details;
	v[2] = at;
	pc_control_syslog_sending = failing;
	pc_control_syslog_inflight = pc_control_query("SELECT "
	    "audit.control_failure('syslog_down', $1::boolean, $2::jsonb, "
	    "'*', CASE WHEN $1::boolean THEN least(to_timestamp($3::bigint), "
	    "now()) END)",
	    3, v, pc_control_syslog_done);
	free(details);
}

static void
pc_control_syslog_done(int ok, void *arg)
{
	(void)arg;
	pc_control_syslog_inflight = 0;
	if (ok)
		pc_control_syslog_state = pc_control_syslog_sending;
	else
		kore_log(LOG_WARNING, "control: syslog_down not recorded");
}
