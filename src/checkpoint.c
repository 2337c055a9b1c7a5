/*
 * checkpoint.c: the server's signed checkpoints (issue 16).
 *
 * Who holds what: the parent (root, before chroot) reads the Ed25519
 * key and opens the checkpoint file O_APPEND; the workers are forked
 * with both. Worker 1 keeps them, the others free the key and close the
 * file at start. The database roles never see the key: only the
 * signature and the key's fingerprint reach audit.checkpoints.
 *
 * Each checkpoint, in worker 1:
 *   1. audit.checkpoint_head(): the next sequence, the chain's newest
 *      link (event id and hash), the database's time, and the previous
 *      checkpoint, whose message's SHA-256 becomes prev;
 *   2. sign the message (ckpt.c);
 *   3. audit.checkpoint_add() stores it (it refuses a sequence out of
 *      turn or a head that is not the chain's);
 *   4. one syslog line (LOG_NOTICE) and one line appended to the file,
 *      the same canonical JSON.
 * Stored first, written second: a failed round writes nothing and the
 * next one takes the same sequence; a line the file missed shows as a
 * gap to the offline verifier.
 *
 * The queries are synchronous: two short statements every interval
 * (default 300 s), and the stop has no event loop left to wait in.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kore/kore.h>
#include <kore/pgsql.h>

#include "app.h"
#include "bytea.h"
#include "checkpoint.h"
#include "ckpt.h"
#include "control.h"
#include "db.h"

static int	pc_checkpoint_open(const char *, char *, size_t);
static int	pc_checkpoint_bytes(PGresult *, int, uint8_t *);
static int	pc_checkpoint_next(struct kore_pgsql *, struct pc_ckpt *);
static int	pc_checkpoint_store(struct kore_pgsql *,
		    const struct pc_ckpt *);
static int	pc_checkpoint_write(const struct pc_ckpt *);
static void	pc_checkpoint_make(void);
static const char *pc_checkpoint_round(void);
static void	pc_checkpoint_tick(void *, u_int64_t);

static struct pc_ckpt_key	pc_checkpoint_key;
static int			pc_checkpoint_fd = -1;

/*
 * Opened by root: O_NOFOLLOW, and only a regular file of root's with
 * one link that group and others cannot write, so whoever can write in
 * its directory cannot make root append to another file.
 */
static int
pc_checkpoint_open(const char *path, char *err, size_t errlen)
{
	struct stat	st;
	int		fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0640);
	if (fd == -1) {
		(void)snprintf(err, errlen, "checkpoint file %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1 || st.st_uid != geteuid() ||
	    (st.st_mode & 022) != 0) {
		(void)snprintf(err, errlen, "checkpoint file %s is not a "
		    "regular file of ours with one link and no group or "
		    "other write", path);
		close(fd);
		return (-1);
	}
	return (fd);
}

int
pc_checkpoint_parent_init(char *err, size_t errlen)
{
	char	fpr[PC_BYTEA_TEXT(PC_CKPT_HASH_LEN)];
	int	key, file;

	key = pc_policy.checkpoint_key_file[0] != '\0';
	file = pc_policy.checkpoint_file[0] != '\0';
	if (key != file) {
		(void)snprintf(err, errlen, "%s: checkpoint_key_file and "
		    "checkpoint_file go together", PC_POLICY_FILE);
		return (-1);
	}
	if (!key) {
		kore_log(LOG_WARNING, "no checkpoint_key_file: the audit "
		    "chain is not checkpointed");
		return (0);
	}
	if (pc_ckpt_key_load(&pc_checkpoint_key,
	    pc_policy.checkpoint_key_file, err, errlen) == -1)
		return (-1);
	if ((pc_checkpoint_fd = pc_checkpoint_open(pc_policy.checkpoint_file,
	    err, errlen)) == -1) {
		pc_ckpt_key_free(&pc_checkpoint_key);
		return (-1);
	}
	/* The fingerprint each line carries, for operators to compare. */
	if (pc_bytea_encode(pc_checkpoint_key.fpr,
	    sizeof(pc_checkpoint_key.fpr), fpr, sizeof(fpr)) == -1)
		fpr[2] = '\0';
	kore_log(LOG_NOTICE, "checkpoints: key sha256 %s, file %s, every %u s",
	    fpr + 2, pc_policy.checkpoint_file,
	    pc_policy.checkpoint_interval_seconds);
	return (0);
}

void
pc_checkpoint_parent_teardown(void)
{
	pc_ckpt_key_free(&pc_checkpoint_key);
	if (pc_checkpoint_fd != -1)
		close(pc_checkpoint_fd);
	pc_checkpoint_fd = -1;
}

/* Worker 1 signs; the others give up the key and the file at once. */
void
pc_checkpoint_worker_init(void)
{
	if (worker == NULL || worker->id != 1) {
		pc_checkpoint_parent_teardown();
		return;
	}
	if (pc_checkpoint_key.pkey == NULL)
		return;
	kore_timer_add(pc_checkpoint_tick,
	    (u_int64_t)pc_policy.checkpoint_interval_seconds * 1000, NULL, 0);
}

/* A clean stop leaves a checkpoint of the chain as it stands. */
void
pc_checkpoint_worker_stop(void)
{
	if (worker == NULL || worker->id != 1 ||
	    pc_checkpoint_key.pkey == NULL)
		return;
	pc_checkpoint_make();
	pc_checkpoint_parent_teardown();
}

static void
pc_checkpoint_tick(void *arg, u_int64_t now)
{
	(void)arg;
	(void)now;
	pc_checkpoint_make();
}

/* A 32-byte bytea column (text form) of row 0 into out. 0 or -1. */
static int
pc_checkpoint_bytes(PGresult *res, int col, uint8_t *out)
{
	size_t	len;

	if (PQgetisnull(res, 0, col) || pc_bytea_decode(PQgetvalue(res, 0,
	    col), out, PC_CKPT_HASH_LEN, &len) == -1 ||
	    len != PC_CKPT_HASH_LEN)
		return (-1);
	return (0);
}

/* Steps 1: what the next checkpoint says, prev included. 0 or -1. */
static int
pc_checkpoint_next(struct kore_pgsql *sql, struct pc_ckpt *c)
{
	struct pc_ckpt	prev;
	PGresult	*res;

	if (!kore_pgsql_query(sql, "SELECT seq, last_event, head, at, "
	    "prev_seq, prev_last_event, prev_head, prev_at, prev_prev "
	    "FROM audit.checkpoint_head()") ||
	    PQntuples(sql->result) != 1)
		return (-1);
	res = sql->result;
	memset(c, 0, sizeof(*c));
	c->seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	c->last_event = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	c->at = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	if (pc_checkpoint_bytes(res, 2, c->head) == -1)
		return (-1);
	if (PQgetisnull(res, 0, 4))
		return (0);
	memset(&prev, 0, sizeof(prev));
	prev.seq = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	prev.last_event = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
	prev.at = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
	if (pc_checkpoint_bytes(res, 6, prev.head) == -1 ||
	    pc_checkpoint_bytes(res, 8, prev.prev) == -1 ||
	    pc_ckpt_digest(&prev, c->prev) == -1)
		return (-1);
	return (0);
}

/* Step 3. 0 or -1. */
static int
pc_checkpoint_store(struct kore_pgsql *sql, const struct pc_ckpt *c)
{
	char		seq[24], last[24], at[24];
	char		head[PC_BYTEA_TEXT(PC_CKPT_HASH_LEN)];
	char		prev[PC_BYTEA_TEXT(PC_CKPT_HASH_LEN)];
	char		key[PC_BYTEA_TEXT(PC_CKPT_HASH_LEN)];
	char		sig[PC_BYTEA_TEXT(PC_CKPT_SIG_LEN)];
	const char	*v[7];
	int		len[7], fmt[7], i;

	(void)snprintf(seq, sizeof(seq), "%" PRId64, c->seq);
	(void)snprintf(last, sizeof(last), "%" PRId64, c->last_event);
	(void)snprintf(at, sizeof(at), "%" PRId64, c->at);
	if (pc_bytea_encode(c->head, sizeof(c->head), head,
	    sizeof(head)) == -1 ||
	    pc_bytea_encode(c->prev, sizeof(c->prev), prev,
	    sizeof(prev)) == -1 ||
	    pc_bytea_encode(c->key, sizeof(c->key), key, sizeof(key)) == -1 ||
	    pc_bytea_encode(c->sig, sizeof(c->sig), sig, sizeof(sig)) == -1)
		return (-1);
	v[0] = seq;
	v[1] = last;
	v[2] = head;
	v[3] = at;
	v[4] = prev;
	v[5] = sig;
	v[6] = key;
	for (i = 0; i < 7; i++) {
		len[i] = (int)strlen(v[i]);
		fmt[i] = 0;
	}
	if (!kore_pgsql_query_param_fields(sql, "SELECT "
	    "audit.checkpoint_add($1::bigint, $2::bigint, $3::bytea, "
	    "$4::bigint, $5::bytea, $6::bytea, $7::bytea)",
	    KORE_PGSQL_FORMAT_TEXT, 7, v, len, fmt))
		return (-1);
	return (0);
}

/* Step 4: syslog and the file, one write so the line stays whole. */
static int
pc_checkpoint_write(const struct pc_ckpt *c)
{
	char		line[PC_CKPT_LINE_MAX + 1];
	ssize_t		w;
	int		n;

	if ((n = pc_ckpt_line(c, line, sizeof(line) - 1)) == -1) {
		kore_log(LOG_ERR, "checkpoint %" PRId64 ": cannot be "
		    "formatted", c->seq);
		return (-1);
	}
	kore_log(LOG_NOTICE, "checkpoint %s", line);
	line[n++] = '\n';
	w = write(pc_checkpoint_fd, line, (size_t)n);
	if (w != n || fdatasync(pc_checkpoint_fd) == -1) {
		kore_log(LOG_ERR, "checkpoint %" PRId64 ": the checkpoint "
		    "file was not written: %s", c->seq,
		    w == -1 ? strerror(errno) : "short write");
		return (-1);
	}
	return (0);
}

/* Every round's outcome raises or clears checkpoint_failed. */
static void
pc_checkpoint_make(void)
{
	pc_control_checkpoint(pc_checkpoint_round());
}

/* One round: NULL when done, else the step that failed. */
static const char *
pc_checkpoint_round(void)
{
	struct kore_pgsql	sql;
	struct pc_ckpt		c;

	kore_pgsql_init(&sql);
	if (!kore_pgsql_setup(&sql, PC_DB_AUTH, KORE_PGSQL_SYNC) ||
	    pc_checkpoint_next(&sql, &c) == -1) {
		kore_log(LOG_ERR, "checkpoint: the chain's head cannot be "
		    "read: %s", sql.error ? sql.error : "bad row");
		kore_pgsql_cleanup(&sql);
		return ("head");
	}
	kore_pgsql_cleanup(&sql);
	if (pc_ckpt_sign(&c, &pc_checkpoint_key) == -1) {
		kore_log(LOG_ERR, "checkpoint %" PRId64 ": signing failed",
		    c.seq);
		return ("sign");
	}
	kore_pgsql_init(&sql);
	if (!kore_pgsql_setup(&sql, PC_DB_AUTH, KORE_PGSQL_SYNC) ||
	    pc_checkpoint_store(&sql, &c) == -1) {
		kore_log(LOG_ERR, "checkpoint %" PRId64 ": not stored: %s",
		    c.seq, sql.error ? sql.error : "?");
		kore_pgsql_cleanup(&sql);
		return ("store");
	}
	kore_pgsql_cleanup(&sql);
	return (pc_checkpoint_write(&c) == -1 ? "file" : NULL);
}
