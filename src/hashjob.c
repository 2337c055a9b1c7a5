/*
 * hashjob.c: argon2id off the event loop. A job runs in a Kore task
 * thread; it verifies a password against an encoded hash (a dummy hash
 * when there is none, so unknown users cost the same), rehashes it when
 * the policy's parameters were raised, and hashes a new password. At
 * most argon2_inflight jobs per worker: beyond that the caller answers
 * 429 instead of queueing without limit.
 *
 * Inputs and outputs travel through the task channel as copies; both
 * sides wipe them. The job structure lives in the request's state,
 * which Kore frees only after the task has finished.
 */
#include <sys/resource.h>
#include <sys/syscall.h>

#include <string.h>
#include <unistd.h>

#include "app.h"
#include "password.h"

#include <kore/tasks.h>

struct pc_hash_in {
	char		encoded[PC_PASSWORD_HASH_MAX];
	char		password[PC_HASH_PASS_MAX + 1];
	size_t		len;
	char		new_password[PC_HASH_PASS_MAX + 1];
	size_t		new_len;
	int		want_new;
	uint32_t	t, m_kib, p;
};

static uint32_t		pc_hash_inflight;
static uint32_t		pc_hash_inflight_max;

static int	pc_hashjob_task(struct kore_task *);

/*
 * Task threads hash at a lower priority than the event loop (once per
 * thread): a flood of logins then slows logins, not every other answer.
 */
static __thread int	pc_hash_niced;

/* Runs in a task thread. */
static int
pc_hashjob_task(struct kore_task *t)
{
	struct pc_hash_in		in;
	struct pc_hash_out		out;
	struct pc_argon2_params		prm;

	if (!pc_hash_niced) {
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
		pc_hash_niced = 1;
	}
	memset(&out, 0, sizeof(out));
	if (kore_task_channel_read(t, &in, sizeof(in)) != sizeof(in)) {
		pc_wipe(&in, sizeof(in));
		kore_task_channel_write(t, &out, sizeof(out));
		return (KORE_RESULT_ERROR);
	}
	in.password[sizeof(in.password) - 1] = '\0';
	in.new_password[sizeof(in.new_password) - 1] = '\0';
	in.encoded[sizeof(in.encoded) - 1] = '\0';

	prm.t = in.t;
	prm.m_kib = in.m_kib;
	prm.p = in.p;

	/*
	 * No rehash here: doing it before the second factor is checked
	 * would make a correct password slower (login does it afterwards).
	 */
	if (in.encoded[0] != '\0')
		out.match = pc_password_verify(in.encoded, in.password,
		    in.len) == 1;
	if (in.want_new && pc_password_hash(&prm, in.new_password,
	    in.new_len, out.new_hash, sizeof(out.new_hash)) == 0)
		out.hashed = 1;

	pc_wipe(&in, sizeof(in));
	kore_task_channel_write(t, &out, sizeof(out));
	pc_wipe(&out, sizeof(out));

	return (KORE_RESULT_OK);
}

/*
 * Take an in-flight slot (once per job; kept until the hash is done or
 * the request ends). Logins take it before they ask the database
 * anything, so an attempt turned away costs neither a hash nor a query.
 * KORE_RESULT_OK, or KORE_RESULT_ERROR after answering 429.
 */
int
pc_hashjob_reserve(struct http_request *req, struct pc_hashjob *hj)
{
	if (hj->counted)
		return (KORE_RESULT_OK);
	if (pc_hash_inflight >= pc_policy.argon2_inflight) {
		http_response_header(req, "retry-after", "1");
		pc_http_error(req, 429, "rate_limited",
		    "Too many sign-in attempts are in progress; "
		    "try again shortly.");
		return (KORE_RESULT_ERROR);
	}
	pc_hash_inflight++;
	hj->counted = 1;
	if (pc_hash_inflight > pc_hash_inflight_max) {
		pc_hash_inflight_max = pc_hash_inflight;
		kore_log(LOG_NOTICE, "argon2: in-flight high-water mark %u "
		    "(bound %u)", pc_hash_inflight_max,
		    pc_policy.argon2_inflight);
	}
	return (KORE_RESULT_OK);
}

/*
 * Start a job. verify may be NULL (then the dummy hash is used and the
 * result's match is meaningless); newpw may be NULL. Returns
 * KORE_RESULT_OK, or KORE_RESULT_ERROR after answering 429.
 */
int
pc_hashjob_start(struct http_request *req, struct pc_hashjob *hj,
    const char *verify, const char *pw, size_t len, const char *newpw,
    size_t newlen)
{
	struct pc_hash_in		in;
	struct pc_argon2_params		prm;
	const char			*enc;

	if (len > PC_HASH_PASS_MAX || newlen > PC_HASH_PASS_MAX)
		fatal("pc_hashjob_start: password too long");

	if (pc_hashjob_reserve(req, hj) != KORE_RESULT_OK)
		return (KORE_RESULT_ERROR);

	prm.t = pc_policy.argon2_t;
	prm.m_kib = pc_policy.argon2_m_kib;
	prm.p = pc_policy.argon2_p;
	/* Nothing to verify and nothing to hash: the dummy hash (unknown
	 * users). Only a new password: no verification at all. */
	if (verify != NULL && verify[0] != '\0')
		enc = verify;
	else if (newpw == NULL)
		enc = pc_password_dummy_hash(&prm);
	else
		enc = NULL;

	memset(&in, 0, sizeof(in));
	if (enc != NULL)
		(void)kore_strlcpy(in.encoded, enc, sizeof(in.encoded));
	if (pw != NULL)
		memcpy(in.password, pw, len);
	in.len = len;
	if (newpw != NULL) {
		memcpy(in.new_password, newpw, newlen);
		in.new_len = newlen;
		in.want_new = 1;
	}
	in.t = prm.t;
	in.m_kib = prm.m_kib;
	in.p = prm.p;

	kore_task_create(&hj->task, pc_hashjob_task);
	kore_task_bind_request(&hj->task, req);
	kore_task_run(&hj->task);
	kore_task_channel_write(&hj->task, &in, sizeof(in));
	hj->started = 1;
	pc_wipe(&in, sizeof(in));

	return (KORE_RESULT_OK);
}

/* RETRY until the job is done; then OK with hj->out filled. */
int
pc_hashjob_poll(struct http_request *req, struct pc_hashjob *hj)
{
	if (!kore_task_finished(&hj->task)) {
		http_request_sleep(req);
		return (KORE_RESULT_RETRY);
	}
	memset(&hj->out, 0, sizeof(hj->out));
	if (kore_task_channel_read(&hj->task, &hj->out, sizeof(hj->out)) !=
	    sizeof(hj->out))
		memset(&hj->out, 0, sizeof(hj->out));
	pc_hashjob_release(hj);
	/* Unbind it so the job structure can run another hash. */
	kore_task_destroy(&hj->task);
	hj->started = 0;
	return (KORE_RESULT_OK);
}

/*
 * Give the in-flight slot back (idempotent). Kore calls a request's
 * onfree before it knows whether a task is still running, and again once
 * it has finished: the slot is held until the hash is really done, so
 * clients that hang up cannot pile up hashing work.
 */
void
pc_hashjob_release(struct pc_hashjob *hj)
{
	if (hj->started && !kore_task_finished(&hj->task))
		return;
	if (hj->counted) {
		hj->counted = 0;
		pc_hash_inflight--;
	}
}
