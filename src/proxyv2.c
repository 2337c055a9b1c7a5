/*
 * proxyv2.c: the PROXY protocol v2 header (see proxyv2.h).
 *
 * Steps: the signature, byte by byte (a TLS ClientHello or a v1 text
 * header fails on its first byte, without waiting for more); version
 * and command; family and transport; the length bound; then, once all
 * of it is there, the address block and the TLVs.
 */
#include <sys/socket.h>

#include <string.h>

#include "proxyv2.h"

static int	pc_proxyv2_fixed(const uint8_t *, size_t,
		    struct pc_proxyv2 *, size_t *, const char **);
static int	pc_proxyv2_tlvs(const uint8_t *, size_t);
static int	pc_proxyv2_bad(const char **, const char *);

static const uint8_t pc_proxyv2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
	0x55, 0x49, 0x54, 0x0a
};

static int
pc_proxyv2_bad(const char **why, const char *text)
{
	if (why != NULL)
		*why = text;
	return (PC_PROXYV2_BAD);
}

/*
 * The fixed part, as far as it has arrived; *alen gets the address
 * block's length for the family. Sets out->len to what must be read.
 */
static int
pc_proxyv2_fixed(const uint8_t *buf, size_t len, struct pc_proxyv2 *out,
    size_t *alen, const char **why)
{
	size_t	n;

	n = len < sizeof(pc_proxyv2_sig) ? len : sizeof(pc_proxyv2_sig);
	if (memcmp(buf, pc_proxyv2_sig, n) != 0)
		return (pc_proxyv2_bad(why, "no PROXY v2 signature"));
	out->len = PC_PROXYV2_FIXED;
	if (len < 13)
		return (PC_PROXYV2_MORE);

	if ((buf[12] >> 4) != 2)
		return (pc_proxyv2_bad(why, "not version 2"));
	switch (buf[12] & 0x0f) {
	case PC_PROXYV2_CMD_LOCAL:
	case PC_PROXYV2_CMD_PROXY:
		out->cmd = buf[12] & 0x0f;
		break;
	default:
		return (pc_proxyv2_bad(why, "unknown command"));
	}
	if (len < 14)
		return (PC_PROXYV2_MORE);

	/* 0x11 TCP over IPv4, 0x21 TCP over IPv6, 0x00 UNSPEC. */
	switch (buf[13]) {
	case 0x11:
		*alen = 12;
		break;
	case 0x21:
		*alen = 36;
		break;
	case 0x00:
		if (out->cmd != PC_PROXYV2_CMD_LOCAL)
			return (pc_proxyv2_bad(why, "UNSPEC with PROXY"));
		*alen = 0;
		break;
	default:
		return (pc_proxyv2_bad(why, "not TCP over IPv4 or IPv6"));
	}
	if (len < PC_PROXYV2_FIXED)
		return (PC_PROXYV2_MORE);

	n = ((size_t)buf[14] << 8) | buf[15];
	if (n > PC_PROXYV2_MAX - PC_PROXYV2_FIXED)
		return (pc_proxyv2_bad(why, "header too long"));
	if (n < *alen)
		return (pc_proxyv2_bad(why, "address block truncated"));
	out->len = PC_PROXYV2_FIXED + n;
	return (len < out->len ? PC_PROXYV2_MORE : PC_PROXYV2_OK);
}

/* TLVs (type, 16-bit length, value) must fill buf[0..len) exactly. */
static int
pc_proxyv2_tlvs(const uint8_t *buf, size_t len)
{
	size_t	off, n;

	for (off = 0; off < len; off += 3 + n) {
		if (len - off < 3)
			return (0);
		n = ((size_t)buf[off + 1] << 8) | buf[off + 2];
		if (n > len - off - 3)
			return (0);
	}
	return (1);
}

int
pc_proxyv2_parse(const uint8_t *buf, size_t len, struct pc_proxyv2 *out,
    const char **why)
{
	const uint8_t	*a;
	size_t		 alen = 0;
	int		 r;

	memset(out, 0, sizeof(*out));
	out->family = AF_UNSPEC;
	if (why != NULL)
		*why = "ok";
	out->len = PC_PROXYV2_FIXED;
	if (len == 0)
		return (PC_PROXYV2_MORE);
	if (buf == NULL)
		return (pc_proxyv2_bad(why, "no buffer"));
	if (len > PC_PROXYV2_MAX)
		len = PC_PROXYV2_MAX;

	if ((r = pc_proxyv2_fixed(buf, len, out, &alen, why)) !=
	    PC_PROXYV2_OK)
		return (r);
	if (!pc_proxyv2_tlvs(buf + PC_PROXYV2_FIXED + alen,
	    out->len - PC_PROXYV2_FIXED - alen))
		return (pc_proxyv2_bad(why, "malformed TLV"));

	/* LOCAL: the proxy's own connection, nothing is carried. */
	if (out->cmd == PC_PROXYV2_CMD_LOCAL)
		return (PC_PROXYV2_OK);

	/* Source address, destination address, source port, dest port. */
	a = buf + PC_PROXYV2_FIXED;
	if (buf[13] == 0x11) {
		out->family = AF_INET;
		memcpy(out->src, a, 4);
		out->src_port = (uint16_t)((a[8] << 8) | a[9]);
	} else {
		out->family = AF_INET6;
		memcpy(out->src, a, 16);
		out->src_port = (uint16_t)((a[32] << 8) | a[33]);
	}
	return (PC_PROXYV2_OK);
}
