/*
 * mask.h: mask personal data for lists shown to people who do not need
 * it (pure).
 *
 * Output is valid UTF-8 and NUL-terminated: invalid input bytes become
 * U+FFFD. Both return the output length, or -1 (out wiped to "") if it
 * does not fit in outlen bytes with the NUL.
 */
#ifndef PC_MASK_H
#define PC_MASK_H

#include <stddef.h>

/* "Yuki Tanaka" -> "Y*** T***"; words split on ' ' and U+3000. */
int	pc_mask_name(const char *in, size_t len, char *out, size_t outlen);

/* "taro.yamada@example.com" -> "t***@example.com"; no local part "***". */
int	pc_mask_email(const char *in, size_t len, char *out, size_t outlen);

#endif
