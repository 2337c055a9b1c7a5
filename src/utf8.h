/*
 * utf8.h: the one UTF-8 decoder every writer and parser uses (pure).
 */
#ifndef PC_UTF8_H
#define PC_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length of the valid multi-byte UTF-8 sequence at s (2..4), with its
 * code point in *cp, or 0: ASCII, stray continuation bytes, overlong
 * forms, surrogates, code points above U+10FFFF and sequences cut short
 * by len are not. len must be at least 1.
 */
size_t	pc_utf8_seq(const unsigned char *s, size_t len, uint32_t *cp);

/* 1 if s[0..len) is entirely valid UTF-8 (NUL included), else 0. */
int	pc_utf8_valid(const void *s, size_t len);

/*
 * 1 if s[0..len) is valid UTF-8 text: no C0 control (newline and tab
 * allowed when lines is set), no DEL, no C1 (U+0080..U+009F); else 0.
 */
int	pc_utf8_text(const void *s, size_t len, int lines);

#endif
