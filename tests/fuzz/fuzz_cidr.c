/*
 * fuzz_cidr.c: pc_cidr_parse() and pc_cidr_match() on arbitrary text.
 *
 * Properties: a parsed entry has its host bits clear and a prefix within
 * its family; it contains its own network address, also written as
 * ::ffff:a.b.c.d when it is IPv4; printing it and parsing that again
 * gives the same entry; a failed parse leaves the entry zeroed.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include "cidr.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pc_cidr	c, c2, zero;
	char		*s, addr[64], text[80];
	uint8_t		mapped[16], probe[16];
	unsigned int	max, i;

	s = fz_cstr(data, size);
	memset(&zero, 0, sizeof(zero));
	if (pc_cidr_parse(&c, s) == -1) {
		FZ_CHECK(memcmp(&c, &zero, sizeof(c)) == 0);
		free(s);
		return (0);
	}

	FZ_CHECK(c.family == AF_INET || c.family == AF_INET6);
	max = (c.family == AF_INET) ? 32 : 128;
	FZ_CHECK(c.prefix <= max);
	for (i = c.prefix; i < 128; i++)
		FZ_CHECK((c.addr[i / 8] & (0x80 >> (i % 8))) == 0);

	FZ_CHECK(pc_cidr_match(&c, c.family, c.addr) == 1);
	FZ_CHECK(pc_cidr_list_match(&c, 1, c.family, c.addr) == 1);
	if (c.family == AF_INET) {
		memset(mapped, 0, sizeof(mapped));
		mapped[10] = mapped[11] = 0xff;
		memcpy(mapped + 12, c.addr, 4);
		FZ_CHECK(pc_cidr_match(&c, AF_INET6, mapped) == 1);
	}

	/* Addresses taken from the input: any answer, no bad reads. */
	memset(probe, 0, sizeof(probe));
	memcpy(probe, data, size < sizeof(probe) ? size : sizeof(probe));
	(void)pc_cidr_match(&c, AF_INET, probe);
	(void)pc_cidr_match(&c, AF_INET6, probe);
	(void)pc_cidr_match(&c, AF_UNIX, probe);

	pc_cidr_addr_str(c.family, c.addr, addr, sizeof(addr));
	(void)snprintf(text, sizeof(text), "%s/%u", addr, c.prefix);
	FZ_CHECK(pc_cidr_parse(&c2, text) == 0);
	FZ_CHECK(c2.family == c.family && c2.prefix == c.prefix &&
	    memcmp(c2.addr, c.addr, sizeof(c.addr)) == 0);

	free(s);
	return (0);
}
