/*
 * siem.h: the SIEM stream (issue 16, part 2): every sealed audit event
 * as an RFC 5424 message to a local syslog socket or a TLS collector.
 */
#ifndef PC_SIEM_H
#define PC_SIEM_H

#include <stddef.h>

/* Parent, before chroot: the collector's address and CA. 0 or -1. */
int	pc_siem_parent_init(char *err, size_t errlen);
void	pc_siem_parent_teardown(void);
/* Worker 1 streams; the others drop what the parent prepared. */
void	pc_siem_worker_init(void);
/* Worker 1, at a clean stop: the last round acknowledged. */
void	pc_siem_worker_stop(void);

#endif
