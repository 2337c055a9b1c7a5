/*
 * fuzz_proxyv2.c: pc_proxyv2_parse() on arbitrary bytes.
 *
 * Properties, checked here without the parser's code: the answer is
 * one of the three results, with a reason; an accepted header starts
 * with the signature, is version 2, lies inside the input and within
 * PC_PROXYV2_MAX, and its length is 16 plus the announced length; a
 * PROXY header carries IPv4 or IPv6 and its source bytes; a LOCAL one
 * carries nothing. MORE never asks for fewer bytes than it was given
 * nor more than the bound, and the header parses the same when given
 * exactly its own bytes (what follows it never matters).
 */
#include <sys/socket.h>

#include "proxyv2.h"
#include "fuzz_util.h"

static const uint8_t	fz_sig[12] = "\r\n\r\n\0\r\nQUIT\n";

static void
fz_accepted(const uint8_t *d, size_t n, const struct pc_proxyv2 *h)
{
	struct pc_proxyv2	again;
	size_t			alen;

	FZ_CHECK(h->len >= PC_PROXYV2_FIXED && h->len <= n &&
	    h->len <= PC_PROXYV2_MAX);
	FZ_CHECK(memcmp(d, fz_sig, sizeof(fz_sig)) == 0);
	FZ_CHECK((d[12] >> 4) == 2);
	FZ_CHECK(h->len == PC_PROXYV2_FIXED + (((size_t)d[14] << 8) | d[15]));
	if (h->cmd == PC_PROXYV2_CMD_LOCAL) {
		FZ_CHECK((d[12] & 0x0f) == 0 && h->family == AF_UNSPEC);
	} else {
		FZ_CHECK((d[12] & 0x0f) == 1);
		FZ_CHECK(h->family == AF_INET || h->family == AF_INET6);
		alen = h->family == AF_INET ? 4 : 16;
		FZ_CHECK(memcmp(h->src, d + PC_PROXYV2_FIXED, alen) == 0);
	}
	FZ_CHECK(pc_proxyv2_parse(d, h->len, &again, NULL) == PC_PROXYV2_OK);
	FZ_CHECK(memcmp(&again, h, sizeof(again)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_proxyv2	 h;
	const char		*why = NULL;
	uint8_t			*d;
	int			 r;

	/* A copy of exactly size bytes, so ASan sees any over-read. */
	d = fz_dup(data, size);
	r = pc_proxyv2_parse(d, size, &h, &why);
	FZ_CHECK(why != NULL);
	switch (r) {
	case PC_PROXYV2_OK:
		fz_accepted(d, size, &h);
		break;
	case PC_PROXYV2_MORE:
		FZ_CHECK(h.len > size && h.len <= PC_PROXYV2_MAX);
		break;
	default:
		FZ_CHECK(r == PC_PROXYV2_BAD);
		break;
	}
	free(d);
	return (0);
}
