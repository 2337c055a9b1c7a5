/*
 * hashjob.c: argon2id off the event loop. A job runs in a Kore task
 * thread; it verifies a password against an encoded hash (a dummy hash
 * when there is none, so unknown users cost the same), rehashes it when
 * the policy's parameters were raised, and hashes a new password. At
 * most argon2_inflight jobs per worker. A login that finds them all
 * taken waits for one (queue order below) for at most PC_HASH_WAIT_MS,
 * then gets 429; other callers get 429 at once.
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
#include "hashjob.h"
#include "http_util.h"
#include "password.h"
#include "refusals.h"
#include "request.h"
#include "srcblock.h"
#include "wipe.h"

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

/*
 * Logins waiting for a slot. Refusing them at once let a client that
 * retries at once (a brute force over many connections) make thousands
 * of refused attempts a second, each a TLS record in and out, crowding
 * out every other request of the worker; a waiting attempt costs
 * nothing until a slot frees, so such a client makes one attempt per
 * hash instead. Bounded in time and in number (the rest: 429 at once).
 *
 * A freed slot is promised to the first waiter and held for it until it
 * runs (pc_hash_promised), so no one else takes it in between; a waiter
 * that goes away before it runs passes the promise on. Waiters are
 * ordered by their rank among waiters from the same address, then by
 * arrival: one address with many connections waits behind the first
 * attempt of every other address, not in front of it.
 *
 * Two lanes (issue 15): an attempt with a valid device cookie for the
 * name it claims (hj->trusted, factor.c) waits ahead of every untrusted
 * one, in arrival order, and one slot per worker (when there are at
 * least two) is kept for such attempts: a storm of untrusted attempts
 * can fill every other slot and the whole untrusted queue, and a real
 * user's browser still hashes next. A trusted attempt's refusal is not
 * charged to its source.
 */
#define PC_HASH_WAIT_MS		1000
#define PC_HASH_WAIT_TICK_MS	100
#define PC_HASH_WAITERS_MAX	512

static TAILQ_HEAD(, pc_hashjob)	pc_hash_waiters =
    TAILQ_HEAD_INITIALIZER(pc_hash_waiters);
static uint32_t			pc_hash_nwaiters;
static uint32_t			pc_hash_promised;
static struct kore_timer	*pc_hash_timer;

static int	pc_hashjob_task(struct kore_task *);
static int	pc_hashjob_avail(int);
static int	pc_hashjob_ahead(int);
static int	pc_hashjob_take(struct pc_hashjob *);
static void	pc_hashjob_refuse(struct http_request *,
		    struct pc_hashjob *);
static void	pc_hashjob_enqueue(struct pc_hashjob *, struct http_request *,
		    const char *);
static void	pc_hashjob_unqueue(struct pc_hashjob *);
static void	pc_hashjob_unpromise(struct pc_hashjob *);
static void	pc_hashjob_wake(struct pc_hashjob *, int);
static void	pc_hashjob_pass(void);
static void	pc_hashjob_tick(void *, uint64_t);
static int	pc_hashjob_running(struct pc_hashjob *);

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
	if (!pc_hashjob_avail(hj->trusted)) {
		pc_hashjob_refuse(req, hj);
		return (KORE_RESULT_ERROR);
	}
	return (pc_hashjob_take(hj));
}

/*
 * Like pc_hashjob_reserve(), but wait for a slot: KORE_RESULT_OK with
 * the slot held, KORE_RESULT_RETRY while the request sleeps in the queue
 * (call again when it wakes), KORE_RESULT_ERROR after answering 429.
 * source (the client's address) must live as long as the request.
 */
int
pc_hashjob_wait(struct http_request *req, struct pc_hashjob *hj,
    const char *source)
{
	uint64_t	now;
	int		promised;

	if (hj->counted)
		return (KORE_RESULT_OK);
	now = kore_time_ms();
	if (hj->wait_until == 0)
		hj->wait_until = now + PC_HASH_WAIT_MS;
	promised = hj->promised;
	pc_hashjob_unpromise(hj);
	pc_hashjob_unqueue(hj);

	if (pc_hashjob_avail(hj->trusted) &&
	    (promised || !pc_hashjob_ahead(hj->trusted)))
		return (pc_hashjob_take(hj));
	if (now >= hj->wait_until || pc_hash_nwaiters >= PC_HASH_WAITERS_MAX) {
		pc_hashjob_refuse(req, hj);
		pc_hashjob_pass();
		return (KORE_RESULT_ERROR);
	}
	pc_hashjob_enqueue(hj, req, source);
	if (pc_hash_timer == NULL)
		pc_hash_timer = kore_timer_add(pc_hashjob_tick,
		    PC_HASH_WAIT_TICK_MS, NULL, KORE_TIMER_ONESHOT);
	http_request_sleep(req);
	return (KORE_RESULT_RETRY);
}

/* Is a slot free now? (For work that is skipped rather than refused.) */
int
pc_hashjob_slot_free(void)
{
	return (pc_hashjob_avail(0) && TAILQ_EMPTY(&pc_hash_waiters));
}

/*
 * A slot neither taken nor promised to a waiter, for the lane: an
 * untrusted attempt leaves the last one for trusted attempts.
 */
static int
pc_hashjob_avail(int trusted)
{
	uint32_t	cap;

	cap = pc_policy.argon2_inflight;
	if (!trusted && cap > 1)
		cap--;
	return (pc_hash_inflight + pc_hash_promised < cap);
}

/* Does a waiter of the lane or of a lane before it come first? */
static int
pc_hashjob_ahead(int trusted)
{
	struct pc_hashjob	*first;

	first = TAILQ_FIRST(&pc_hash_waiters);
	return (first != NULL && (!trusted || first->trusted));
}

static int
pc_hashjob_take(struct pc_hashjob *hj)
{
	pc_hash_inflight++;
	hj->counted = 1;
	/* Every slot taken: new connections go to a worker with a free
	 * one (Kore passes the accept lock on; patch 15 passes it after
	 * two connections in any case). */
	if (pc_hash_inflight >= pc_policy.argon2_inflight)
		kore_worker_make_busy();
	if (pc_hash_inflight > pc_hash_inflight_max) {
		pc_hash_inflight_max = pc_hash_inflight;
		kore_log(LOG_NOTICE, "argon2: in-flight high-water mark %u "
		    "(bound %u)", pc_hash_inflight_max,
		    pc_policy.argon2_inflight);
	}
	return (KORE_RESULT_OK);
}

static void
pc_hashjob_refuse(struct http_request *req, struct pc_hashjob *hj)
{
	struct pc_cidr	one;

	/* Counted and recorded per source and minute (refusals.c), and
	 * charged to the source's failure budget now (srcblock.c), unless
	 * a device vouched for the attempt. */
	if (pc_cidr_parse(&one, pc_req_get(req)->source) == 0) {
		pc_refusals_count(PC_REFUSAL_BUSY, one.family, one.addr);
		if (!hj->trusted)
			pc_srcblock_busy(one.family, one.addr);
	}
	http_response_header(req, "retry-after", "1");
	pc_http_error(req, 429, "rate_limited",
	    "Too many sign-in attempts are in progress; try again shortly.");
}

/*
 * A trusted attempt after every trusted waiter; an untrusted one after
 * them and every untrusted waiter of a lower or equal rank (see above).
 */
static void
pc_hashjob_enqueue(struct pc_hashjob *hj, struct http_request *req,
    const char *source)
{
	struct pc_hashjob	*w;
	uint32_t		rank;

	rank = 0;
	TAILQ_FOREACH(w, &pc_hash_waiters, wait_list) {
		if (!hj->trusted && !w->trusted &&
		    strcmp(w->source, source) == 0)
			rank++;
	}
	TAILQ_FOREACH(w, &pc_hash_waiters, wait_list) {
		if (!w->trusted && (hj->trusted || w->rank > rank))
			break;
	}
	if (w != NULL)
		TAILQ_INSERT_BEFORE(w, hj, wait_list);
	else
		TAILQ_INSERT_TAIL(&pc_hash_waiters, hj, wait_list);
	hj->rank = rank;
	hj->source = source;
	hj->waiter = req;
	hj->queued = 1;
	pc_hash_nwaiters++;
}

static void
pc_hashjob_unqueue(struct pc_hashjob *hj)
{
	if (!hj->queued)
		return;
	TAILQ_REMOVE(&pc_hash_waiters, hj, wait_list);
	hj->queued = 0;
	hj->waiter = NULL;
	pc_hash_nwaiters--;
}

static void
pc_hashjob_unpromise(struct pc_hashjob *hj)
{
	if (!hj->promised)
		return;
	hj->promised = 0;
	pc_hash_promised--;
}

/* Off the queue and runnable (with a slot held for it, or to refuse). */
static void
pc_hashjob_wake(struct pc_hashjob *hj, int promise)
{
	struct http_request	*req;

	req = hj->waiter;
	pc_hashjob_unqueue(hj);
	if (req == NULL)
		return;
	if (promise) {
		hj->promised = 1;
		pc_hash_promised++;
	}
	http_request_wakeup(req);
}

/* Each free slot to the first waiter that is still there. */
static void
pc_hashjob_pass(void)
{
	struct pc_hashjob	*hj;

	while ((hj = TAILQ_FIRST(&pc_hash_waiters)) != NULL &&
	    pc_hashjob_avail(hj->trusted)) {
		/* Its client is gone: Kore frees it without running it. */
		if (hj->waiter == NULL ||
		    (hj->waiter->flags & HTTP_REQUEST_DELETE)) {
			pc_hashjob_unqueue(hj);
			continue;
		}
		pc_hashjob_wake(hj, 1);
	}
}

/* Wakes the waiters whose time is up (they answer 429). */
static void
pc_hashjob_tick(void *arg, uint64_t now)
{
	struct pc_hashjob	*hj, *next;

	(void)arg;
	pc_hash_timer = NULL;
	for (hj = TAILQ_FIRST(&pc_hash_waiters); hj != NULL; hj = next) {
		next = TAILQ_NEXT(hj, wait_list);
		if (now >= hj->wait_until)
			pc_hashjob_wake(hj, 0);
	}
	if (!TAILQ_EMPTY(&pc_hash_waiters))
		pc_hash_timer = kore_timer_add(pc_hashjob_tick,
		    PC_HASH_WAIT_TICK_MS, NULL, KORE_TIMER_ONESHOT);
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
 * Is the job's hash still being computed? When a client hangs up while
 * its task runs, Kore destroys the task itself as it finishes (its lock
 * with it) and then frees the request again: kore_task_finished() on it
 * would read a destroyed lock. A destroyed task has its channel closed,
 * which kore_task_destroy() does in this thread: that is looked at
 * first.
 */
static int
pc_hashjob_running(struct pc_hashjob *hj)
{
	if (!hj->started || hj->task.fds[0] == -1)
		return (0);
	return (!kore_task_finished(&hj->task));
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
	/* A request that ends while it waits, or before it could use the
	 * slot held for it (the client hung up): the next one gets it. */
	pc_hashjob_unqueue(hj);
	if (hj->promised) {
		pc_hashjob_unpromise(hj);
		pc_hashjob_pass();
	}
	if (pc_hashjob_running(hj))
		return;
	if (hj->counted) {
		hj->counted = 0;
		pc_hash_inflight--;
		pc_hashjob_pass();
	}
}
