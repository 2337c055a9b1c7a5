/*
 * payconsole.c: start-up. Kore calls these hooks; they load the policy,
 * the timezone and the key-encryption key in the parent, before any
 * worker forks or chroots, and fail closed on anything wrong.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kore/seccomp.h>

#include "allowlist.h"
#include "app.h"
#include "audit.h"
#include "cardguard.h"
#include "checkpoint.h"
#include "control.h"
#include "db.h"
#include "http_util.h"
#include "password.h"
#include "siem.h"
#include "totp.h"


#define PC_ZONEINFO		"/usr/share/zoneinfo"

struct pc_policy	pc_policy;
struct pc_tz		pc_tz;
struct pc_kek		pc_kek;

int	kore_parent_configure(int, char **);
void	kore_parent_teardown(void);
void	kore_parent_daemonized(void);
void	kore_worker_configure(void);
void	kore_worker_teardown(void);
void	kore_seccomp_hook(void);

/*
 * System calls the workers and the key manager need on top of Kore's own
 * list, found with seccomp_tracing on this glibc (Debian 12):
 *   clone3     glibc tries it before clone for task threads: answer ENOSYS
 *              so it falls back to clone, which tasks.c allows.
 *   rseq       glibc registers restartable sequences in every new thread.
 *   newfstatat glibc's fstat() is implemented with it.
 *   getppid    Kore's access log asks whether the parent is gone after
 *              waiting 1 s for room in a full log buffer (accesslog.c).
 *   gettid, setpriority
 *              argon2 task threads lower their own priority (hashjob.c).
 *   fdatasync  worker 1 puts each checkpoint line on disk (checkpoint.c).
 */
static struct sock_filter filter_payconsole[] = {
	KORE_SYSCALL_DENY(clone3, ENOSYS),
	KORE_SYSCALL_ALLOW(rseq),
	KORE_SYSCALL_ALLOW(newfstatat),
	KORE_SYSCALL_ALLOW(getppid),
	KORE_SYSCALL_ALLOW(gettid),
	KORE_SYSCALL_ALLOW(setpriority),
	KORE_SYSCALL_ALLOW(fdatasync),
#if defined(__SANITIZE_ADDRESS__)
	/* ASan builds only: its allocator asks for this in task threads. */
	KORE_SYSCALL_ALLOW(sched_getaffinity),
#endif
};

static void	pc_startup_log_allowlist(void);
static void	pc_startup_fail(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));

static void
pc_startup_fail(const char *fmt, ...)
{
	va_list		ap;
	char		buf[1024];

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	fprintf(stderr, "payconsole: %s\n", buf);
	kore_log(LOG_ERR, "start-up refused: %s", buf);
	exit(1);
}

static void
pc_startup_log_allowlist(void)
{
	size_t		i;
	char		addr[64];

	if (pc_policy.allow_count == 0) {
		kore_log(LOG_WARNING, "allowlist is empty: every connection "
		    "will be refused");
	}
	for (i = 0; i < pc_policy.allow_count; i++) {
		pc_cidr_addr_str(pc_policy.allow[i].family,
		    pc_policy.allow[i].addr, addr, sizeof(addr));
		kore_log(LOG_NOTICE, "allowlist: %s/%u", addr,
		    pc_policy.allow[i].prefix);
	}
}

pid_t	pc_server_pid;

int
kore_parent_configure(int argc, char **argv)
{
	char		err[PC_POLICY_ERR_MAX], line[1024];

	kore_default_getopt(argc, argv);
	pc_server_pid = getpid();

	if (pc_policy_load(&pc_policy, PC_POLICY_FILE, err, sizeof(err)) == -1)
		pc_startup_fail("%s", err);

	if (pc_tz_load(&pc_tz, PC_ZONEINFO, pc_policy.timezone) == -1) {
		pc_startup_fail("%s: timezone '%s' cannot be loaded from %s",
		    PC_POLICY_FILE, pc_policy.timezone, PC_ZONEINFO);
	}

	if (pc_kek_load(&pc_kek, pc_policy.totp_key_file,
	    err, sizeof(err)) == -1)
		pc_startup_fail("%s", err);

	if (pc_checkpoint_parent_init(err, sizeof(err)) == -1)
		pc_startup_fail("%s", err);

	/* The collector's address and CA: the workers reach neither. */
	if (pc_siem_parent_init(err, sizeof(err)) == -1)
		pc_startup_fail("%s", err);

	/* Worker 1 compares it with what was loaded (config_changed). */
	if (pc_control_parent_init(err, sizeof(err)) == -1)
		pc_startup_fail("%s", err);

	if (pc_totp_init() == -1)
		pc_startup_fail("liboath initialisation failed");

	/* Workers inherit ICU's NFKC data; they could not load it. */
	if (pc_cardguard_init() == -1)
		pc_startup_fail("ICU's NFKC data (libicudata) cannot be loaded");

	pc_http_security_headers();
	pc_allowlist_install();

	pc_policy_describe(&pc_policy, line, sizeof(line));
	kore_log(LOG_NOTICE, "policy loaded: %s", line);
	pc_startup_log_allowlist();
	if (pc_policy.server_name_count == 0)
		kore_log(LOG_WARNING, "policy: no server_name: every request "
		    "will be refused (421) until the names clients use are "
		    "listed");

	if (pc_policy.environment == PC_POLICY_ENV_DEVELOPMENT) {
		kore_log(LOG_WARNING, "DEVELOPMENT policy in force: hours %s, "
		    "allowlist as listed above, demo data allowed; "
		    "production defaults are "
		    "hours 09:00-24:00 Asia/Tokyo, VPN allowlist only, "
		    "argon2id t=3 m=65536 p=1",
		    pc_policy.hours.start_min == 0 &&
		    pc_policy.hours.end_min == 1440 ? "open all day" :
		    "restricted");
	}

	return (KORE_RESULT_OK);
}

void
kore_worker_configure(void)
{
	struct pc_argon2_params		prm;

	pc_db_register();
	pc_audit_worker_init();
	pc_checkpoint_worker_init();
	pc_control_worker_init();
	pc_siem_worker_init();

	/* Pay for the dummy hash once, not on the first unknown user. */
	prm.t = pc_policy.argon2_t;
	prm.m_kib = pc_policy.argon2_m_kib;
	prm.p = pc_policy.argon2_p;
	if (pc_password_dummy_hash(&prm) == NULL)
		fatalx("cannot compute the dummy password hash");
}

void
kore_worker_teardown(void)
{
	pc_audit_worker_stop();
	pc_siem_worker_stop();
	pc_checkpoint_worker_stop();
}

void
kore_seccomp_hook(void)
{
	(void)kore_seccomp_filter("payconsole", filter_payconsole,
	    KORE_FILTER_LEN(filter_payconsole));
}

/* Daemonised, the parent has a new pid: the one the records name. */
void
kore_parent_daemonized(void)
{
	pc_server_pid = getpid();
}

void
kore_parent_teardown(void)
{
	pc_kek_wipe(&pc_kek);
	pc_checkpoint_parent_teardown();
	pc_control_parent_teardown();
	pc_siem_parent_teardown();
	kore_log(LOG_NOTICE, "payconsole stopped");
}
