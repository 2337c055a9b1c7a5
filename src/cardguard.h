/*
 * cardguard.h: spot candidate card numbers in free text (pure).
 *
 * Used to refuse or flag free text (notes, refund reasons, search boxes)
 * that carries a primary account number, in any script's digits and
 * with any short run of separators. See cardguard.c for exactly what
 * counts as a candidate.
 */
#ifndef PC_CARDGUARD_H
#define PC_CARDGUARD_H

#include <stddef.h>

/*
 * Load ICU's NFKC data from the linked library (never from a file), once,
 * before chroot and seccomp: 0, or -1 when ICU cannot give it.
 */
int	pc_cardguard_init(void);

/*
 * 1 if s[0..len) holds a candidate card number, 0 otherwise (1 as well
 * when ICU's data is unavailable: the guard fails closed).
 */
int	pc_cardguard_find(const char *s, size_t len);

#endif
