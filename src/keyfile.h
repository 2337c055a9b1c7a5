/*
 * keyfile.h: reading a key file kept outside the database (pure).
 *
 * The TOTP key-encryption key and the checkpoint signing key live in
 * files root reads before the workers start; both are refused unless
 * they are regular files (not links, not FIFOs) that group and others
 * can neither read nor write.
 */
#ifndef PC_KEYFILE_H
#define PC_KEYFILE_H

#include <stddef.h>

/*
 * The whole file into buf (bufsize bytes; a file that fills it is too
 * large), its length in *len. 0, or -1 with a message naming path in
 * err (never the contents); buf is wiped on failure.
 */
int	pc_keyfile_read(const char *path, char *buf, size_t bufsize,
	    size_t *len, char *err, size_t errlen);

#endif
