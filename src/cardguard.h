/*
 * cardguard.h: spot candidate card numbers in free text (pure).
 *
 * Used to refuse or flag free text (notes, refund reasons, search boxes)
 * that carries a primary account number. See cardguard.c for exactly
 * what counts as a candidate.
 */
#ifndef PC_CARDGUARD_H
#define PC_CARDGUARD_H

#include <stddef.h>

/* 1 if s[0..len) holds a candidate card number, 0 otherwise. */
int	pc_cardguard_find(const char *s, size_t len);

#endif
