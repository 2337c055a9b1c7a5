/*
 * proxyv2.h: the PROXY protocol version 2 header (HAProxy's
 * proxy-protocol.txt, section 2.2), pure, no Kore headers; Kore's
 * connection.c calls it through src/kore/13-proxy-v2.patch on
 * connections from a trusted_proxy, before any TLS byte.
 *
 * Strict: only the binary v2 header is taken (the v1 text header is
 * refused), version 2, command LOCAL or PROXY, transport STREAM over
 * INET or INET6 (UNSPEC only with LOCAL), the address block inside the
 * announced length, TLVs that exactly fill the rest, and at most
 * PC_PROXYV2_MAX bytes in all.
 */
#ifndef PC_PROXYV2_H
#define PC_PROXYV2_H

#include <stddef.h>
#include <stdint.h>

#define PC_PROXYV2_OK		0	/* a whole, valid header */
#define PC_PROXYV2_MORE		1	/* a valid prefix: read up to ->len */
#define PC_PROXYV2_BAD		2	/* refuse: close the connection */

/* The fixed part: 12-byte signature, ver_cmd, fam, 16-bit length. */
#define PC_PROXYV2_FIXED	16

/*
 * Largest header taken, fixed part included. HAProxy's send-proxy-v2
 * sends 28 (TCP4) or 52 (TCP6) bytes without proxy-v2-options; the
 * rest leaves room for a few TLVs (ALPN, authority, unique id).
 */
#define PC_PROXYV2_MAX		512

#define PC_PROXYV2_CMD_LOCAL	0
#define PC_PROXYV2_CMD_PROXY	1

struct pc_proxyv2 {
	int		cmd;		/* PC_PROXYV2_CMD_LOCAL or _PROXY */
	int		family;		/* AF_INET, AF_INET6; AF_UNSPEC: LOCAL */
	uint8_t		src[16];	/* source address, network order */
	uint16_t	src_port;	/* host order */
	size_t		len;		/* the whole header's length */
};

/*
 * Look at buf[0..len), the first bytes received on a connection.
 * PC_PROXYV2_OK: out holds the header, which is out->len bytes (the
 * bytes after it are the client's, e.g. its TLS ClientHello).
 * PC_PROXYV2_MORE: what is there is a valid prefix; read exactly up to
 * out->len bytes in all (never more: what follows is not ours).
 * PC_PROXYV2_BAD: anything else; *why (static text, safe to log) names
 * the first problem. For LOCAL, family is AF_UNSPEC and src is zero
 * whatever the header carried: the connection's own peer stands.
 */
int	pc_proxyv2_parse(const uint8_t *buf, size_t len,
	    struct pc_proxyv2 *out, const char **why);

#endif
