/*
 * allowlist.h: the VPN allowlist, applied right after accept(), before
 * any TLS byte (allowlist.c).
 */
#ifndef PC_ALLOWLIST_H
#define PC_ALLOWLIST_H

#include <stdint.h>

#include <kore/kore.h>

void	pc_allowlist_install(void);
void	pc_allowlist_peer(struct connection *, int *, uint8_t *);

#endif
