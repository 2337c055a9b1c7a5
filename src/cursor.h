/*
 * cursor.h: the keyset cursor of the transaction search (pure, no Kore
 * headers). One place writes it and reads it back.
 *
 * A cursor is the base64 (RFC 4648, padded) of "<us>.<id>": the
 * creation time of the last row shown in microseconds since the epoch,
 * and its id, both decimal without sign or leading zero, within
 * PostgreSQL's bigint. Anything else is refused: a value past bigint
 * (was 503 from PostgreSQL), a trailing NUL, leading zeros, a fraction,
 * and any encoding other than the one pc_cursor_encode() writes.
 */
#ifndef PC_CURSOR_H
#define PC_CURSOR_H

#include <stddef.h>
#include <stdint.h>

/* Longest cursor text: 4 * ceil((19 + 1 + 19) / 3) characters, NUL. */
#define PC_CURSOR_MAX	53

/* Write the cursor for (us, id) into out; 0, or -1 if a value is < 0. */
int	pc_cursor_encode(int64_t us, int64_t id, char out[PC_CURSOR_MAX]);

/* Read a cursor: 0 with *us and *id, or -1 (both then 0). */
int	pc_cursor_decode(const char *text, int64_t *us, int64_t *id);

#endif
