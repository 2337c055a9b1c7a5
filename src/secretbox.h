/*
 * secretbox.h: AES-256-GCM sealing of secrets at rest (pure).
 *
 * The key-encryption key lives in a file outside the database. A sealed
 * blob is: version(1) | key id(4, big endian) | nonce(12) | ciphertext |
 * tag(16). The additional data binds a blob to its row (e.g. "totp:<uid>").
 */
#ifndef PC_SECRETBOX_H
#define PC_SECRETBOX_H

#include <stddef.h>
#include <stdint.h>

#define PC_SECRETBOX_KEY_LEN	32
#define PC_SECRETBOX_OVERHEAD	(1 + 4 + 12 + 16)

struct pc_kek {
	uint32_t	id;
	uint8_t		key[PC_SECRETBOX_KEY_LEN];
};

/*
 * Key file: one line "id hex64" (id a decimal 1..2^31). The file must be a
 * regular file not readable or writable by group or others, else -1 with
 * a message in err. The key never appears in err.
 */
int	pc_kek_load(struct pc_kek *k, const char *path, char *err, size_t errlen);
/* Parse the same format from memory (the mode check is the caller's). */
int	pc_kek_parse(struct pc_kek *k, const char *text, size_t len);
void	pc_kek_wipe(struct pc_kek *k);

/* out must hold len + PC_SECRETBOX_OVERHEAD bytes. 0 or -1. */
int	pc_secretbox_seal(const struct pc_kek *k, const uint8_t *ad,
	    size_t adlen, const uint8_t *in, size_t len, uint8_t *out,
	    size_t outlen);

/* Returns plaintext length or -1 (bad tag, wrong key id, short input). */
int	pc_secretbox_open(const struct pc_kek *k, const uint8_t *ad,
	    size_t adlen, const uint8_t *in, size_t len, uint8_t *out,
	    size_t outlen);

/* Key id of a sealed blob, or 0 if malformed. */
uint32_t pc_secretbox_key_id(const uint8_t *in, size_t len);

#endif
