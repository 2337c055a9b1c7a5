/*
 * enrolcode.h: enrolment codes (pure).
 *
 * An enrolment is opened by two people: the requester and the approver
 * of an account request each get one half, 128 random bits, and the new
 * user needs both (migrations/016_approvals_and_enrolment.sql). A half
 * is shown as 26 base32 characters (RFC 4648 alphabet) in groups of
 * four, "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ"; the last character carries
 * three bits and two zero bits. Reading is forgiving of what people
 * type (case, spaces, dashes, 0/1/8 for O/I/B) but takes one canonical
 * value per half: nonzero padding bits are refused.
 */
#ifndef PC_ENROLCODE_H
#define PC_ENROLCODE_H

#include <stddef.h>
#include <stdint.h>

#define PC_ENROLCODE_LEN	16	/* bytes: 128 bits per half */
#define PC_ENROLCODE_CHARS	26	/* base32 characters per half */
#define PC_ENROLCODE_TEXT	33	/* 26 + 6 dashes + NUL */
#define PC_ENROLCODE_INPUT_MAX	64	/* longest text accepted to read */

/* A fresh half from the OpenSSL RNG. 0 or -1. */
int	pc_enrolcode_new(uint8_t code[PC_ENROLCODE_LEN]);

/* The half as people read it; out holds PC_ENROLCODE_TEXT bytes. */
void	pc_enrolcode_format(const uint8_t code[PC_ENROLCODE_LEN], char *out);

/* What a person typed back into the half. 0, or -1 for anything else. */
int	pc_enrolcode_parse(const char *text, size_t len,
	    uint8_t code[PC_ENROLCODE_LEN]);

#endif
