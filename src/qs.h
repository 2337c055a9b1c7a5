/*
 * qs.h: strict query-string parsing (pure). Kore drops parameters not
 * declared per route; payconsole routes everything through one
 * dispatcher, so handlers read the query string themselves, here.
 */
#ifndef PC_QS_H
#define PC_QS_H

#include <stddef.h>

#define PC_QS_MAX_PAIRS		16
#define PC_QS_VALUE_MAX		256

struct pc_qs {
	size_t		n;
	char		name[PC_QS_MAX_PAIRS][32];
	char		value[PC_QS_MAX_PAIRS][PC_QS_VALUE_MAX];
};

/*
 * Parse "a=1&b=x%20y". Names must be [a-z0-9_]{1,31}, each at most once;
 * values are percent-decoded ('+' is a space), must be valid UTF-8
 * without control characters and shorter than PC_QS_VALUE_MAX. Names not
 * in allowed (NULL-terminated) are an error. 0 or -1.
 */
int		pc_qs_parse(struct pc_qs *, const char *, const char *const *);
/* "YYYY-MM-DDTHH:MM:SS" naming a real date and time of day: 1 or 0. */
int		pc_qs_local_time(const char *);

/* The value of name, or NULL when absent or empty. */
const char	*pc_qs_get(const struct pc_qs *, const char *);

#endif
