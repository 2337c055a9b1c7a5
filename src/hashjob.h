/*
 * hashjob.h: argon2id in a task thread, bounded per worker (hashjob.c).
 */
#ifndef PC_HASHJOB_H
#define PC_HASHJOB_H

#include <stdint.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/tasks.h>

#include "password.h"

#define PC_HASH_PASS_MAX	512	/* bytes: 128 code points of UTF-8 */

struct pc_hash_out {
	int		match;
	int		hashed;
	char		new_hash[PC_PASSWORD_HASH_MAX];
};

struct pc_hashjob {
	struct kore_task	task;
	int			started;
	int			counted;
	int			trusted;	/* a device's lane (factor.c) */
	struct pc_hash_out	out;

	/* Waiting for a slot (pc_hashjob_wait). */
	TAILQ_ENTRY(pc_hashjob)	wait_list;
	struct http_request	*waiter;
	const char		*source;
	uint64_t		wait_until;
	uint32_t		rank;
	int			queued;
	int			promised;
};

int	pc_hashjob_start(struct http_request *, struct pc_hashjob *,
	    const char *, const char *, size_t, const char *, size_t);
int	pc_hashjob_poll(struct http_request *, struct pc_hashjob *);
int	pc_hashjob_reserve(struct http_request *, struct pc_hashjob *);
int	pc_hashjob_wait(struct http_request *, struct pc_hashjob *,
	    const char *);
int	pc_hashjob_slot_free(void);
void	pc_hashjob_release(struct pc_hashjob *);

#endif
