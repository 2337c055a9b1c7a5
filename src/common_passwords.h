/*
 * common_passwords.h: the shipped list of common passwords (private to
 * password.c). Lower-case ASCII, sorted in strcmp(3) order.
 */
#ifndef PC_COMMON_PASSWORDS_H
#define PC_COMMON_PASSWORDS_H

#include <stddef.h>

extern const char *const	pc_common_passwords[];
extern const size_t		pc_common_passwords_count;

#endif
