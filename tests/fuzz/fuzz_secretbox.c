/*
 * fuzz_secretbox.c: pc_secretbox_open() on arbitrary blobs, seal/open
 * round trips, and pc_kek_parse() on arbitrary key files.
 *
 * Properties: an arbitrary blob never opens under the key (nobody can
 * forge AES-GCM without it), whatever size the output buffer has, and
 * nothing is written past that buffer; the key id read from a blob is
 * its bytes 1..4 when it has the version byte and the minimum length;
 * the input sealed opens back to itself, and flipping any one bit of
 * the sealed blob (header, nonce, ciphertext or tag), changing the
 * additional data or the key id makes it refused; a parsed key file has
 * an id in 1..2^31-1.
 */
#include "secretbox.h"
#include "fuzz_util.h"

static const struct pc_kek	kek = { 7, {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
} };
static const uint8_t		ad[] = "totp:42";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_kek	k2;
	uint8_t		*blob, *out, *sealed;
	size_t		slen, pos, outlen;
	uint32_t	id, want;
	int		r;

	blob = fz_dup(data, size);

	/* 1. An arbitrary blob, output buffers of every useful size. */
	outlen = size >= PC_SECRETBOX_OVERHEAD ? size - PC_SECRETBOX_OVERHEAD :
	    0;
	out = fz_dup(data, outlen);
	r = pc_secretbox_open(&kek, ad, sizeof(ad) - 1, blob, size, out,
	    outlen);
	FZ_CHECK(r == -1);
	free(out);
	out = fz_dup(data, size);
	FZ_CHECK(pc_secretbox_open(&kek, NULL, 0, blob, size, out, size) == -1);
	free(out);

	id = pc_secretbox_key_id(blob, size);
	want = 0;
	if (size >= PC_SECRETBOX_OVERHEAD && data[0] == 0x01)
		want = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
		    (uint32_t)data[3] << 8 | data[4];
	FZ_CHECK(id == want);

	/* 2. Seal the input, open it back. */
	slen = size + PC_SECRETBOX_OVERHEAD;
	if ((sealed = malloc(slen)) == NULL)
		abort();
	FZ_CHECK(pc_secretbox_seal(&kek, ad, sizeof(ad) - 1, blob, size,
	    sealed, slen) == 0);
	FZ_CHECK(pc_secretbox_key_id(sealed, slen) == kek.id);
	out = fz_dup(data, size);
	r = pc_secretbox_open(&kek, ad, sizeof(ad) - 1, sealed, slen, out,
	    size);
	FZ_CHECK(r == (int)size && (size == 0 || memcmp(out, data, size) == 0));

	/* 3. Tampering: wrong additional data, then one bit flipped. */
	FZ_CHECK(pc_secretbox_open(&kek, ad, sizeof(ad) - 2, sealed, slen,
	    out, size) == -1);
	pos = (size > 0 ? data[0] * 131u + data[size - 1] : 0) % slen;
	sealed[pos] ^= (uint8_t)(1u << ((size > 1 ? data[1] : 0) % 8));
	FZ_CHECK(pc_secretbox_open(&kek, ad, sizeof(ad) - 1, sealed, slen,
	    out, size) == -1);
	free(out);
	free(sealed);

	/* 4. The input as a key file. */
	if (pc_kek_parse(&k2, (const char *)blob, size) == 0)
		FZ_CHECK(k2.id >= 1 && k2.id <= 2147483647u);
	else
		FZ_CHECK(k2.id == 0);
	pc_kek_wipe(&k2);

	free(blob);
	return (0);
}
