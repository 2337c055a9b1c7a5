/*
 * csvw.h: a CSV writer (RFC 4180) that neutralises spreadsheet formula
 * injection (pure).
 *
 * Every text field is quoted; one that a spreadsheet would read as a
 * formula gets a leading "'" inside the quotes. Integers are bare.
 * Rows end in CRLF. Output is valid UTF-8: invalid input bytes become
 * U+FFFD, NUL bytes are dropped.
 */
#ifndef PC_CSVW_H
#define PC_CSVW_H

#include <stddef.h>
#include <stdint.h>

struct pc_csvw {
	char		*buf;
	size_t		 len, cap;
	int		 oom;		/* sticky allocation failure */
	int		 fields;	/* fields in the current row */
};

void	pc_csvw_init(struct pc_csvw *w);
void	pc_csvw_free(struct pc_csvw *w);
/* Take the text (NUL-terminated, len without it); NULL on allocation
 * failure. w is left empty either way. */
char	*pc_csvw_finish(struct pc_csvw *w, size_t *len);

void	pc_csvw_field(struct pc_csvw *w, const char *s, size_t len);
void	pc_csvw_int(struct pc_csvw *w, int64_t v);
void	pc_csvw_endrow(struct pc_csvw *w);

#endif
