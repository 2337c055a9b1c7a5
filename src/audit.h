/*
 * audit.h: the audit trail's background work in worker 1 (audit.c): it
 * seals the chain and reports new alerts every 10 s, and records a clean
 * stop.
 */
#ifndef PC_AUDIT_H
#define PC_AUDIT_H

void	pc_audit_worker_init(void);
void	pc_audit_worker_stop(void);

#endif
