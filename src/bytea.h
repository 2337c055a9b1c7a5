/*
 * bytea.h: bytes as PostgreSQL's text form of bytea, "\x" and hex
 * digits, both ways (pure). Every binary query parameter (tokens, code
 * halves, sealed secrets) and every bytea column read goes through here.
 */
#ifndef PC_BYTEA_H
#define PC_BYTEA_H

#include <stddef.h>
#include <stdint.h>

/* Room for the text of len bytes: "\x", two digits each, NUL. */
#define PC_BYTEA_TEXT(len)	(2 * (len) + 3)

/* len bytes into out (outlen >= PC_BYTEA_TEXT(len)). 0 or -1. */
int	pc_bytea_encode(const uint8_t *in, size_t len, char *out,
	    size_t outlen);

/* "\x..." into at most max bytes; the length in *len. 0 or -1. */
int	pc_bytea_decode(const char *s, uint8_t *out, size_t max, size_t *len);

#endif
