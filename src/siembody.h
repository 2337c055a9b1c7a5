/*
 * siembody.h: an audit event as the JSON body of its SIEM message, with
 * personal data masked (pure).
 */
#ifndef PC_SIEMBODY_H
#define PC_SIEMBODY_H

#include <stddef.h>
#include <stdint.h>

/* One event as audit.siem_next() gives it; NULL for SQL NULL. */
struct pc_siembody_event {
	int64_t		 id;
	int64_t		 seq;
	const char	*at;
	const char	*actor_id;	/* digits or NULL */
	const char	*actor_name;
	const char	*actor_role;
	const char	*source;
	const char	*event;
	const char	*target;
	const char	*outcome;
	const char	*details;	/* a JSON object's text */
};

/*
 * The body, one line, NUL-terminated, to free(); its length in *len.
 * NULL on allocation failure.
 */
char	*pc_siembody_json(const struct pc_siembody_event *ev, size_t *len);

/* 1 when the event's target names a person (then masked), else 0. */
int	pc_siembody_target_personal(const char *event, const char *target);

#endif
