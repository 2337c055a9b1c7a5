/*
 * app.h: process-wide state of the server (payconsole.c), loaded once in
 * the parent before the workers fork (and before they chroot), then only
 * read. Each module's interface is in its own header (db.h, request.h,
 * auth.h, hashjob.h, http_util.h, ...).
 */
#ifndef PC_APP_H
#define PC_APP_H

#include <sys/types.h>

#include "hours.h"
#include "policy.h"
#include "secretbox.h"

extern struct pc_policy		pc_policy;
extern struct pc_tz		pc_tz;
extern struct pc_kek		pc_kek;

/* The parent's pid, set before the workers fork (payconsole.c). */
extern pid_t	pc_server_pid;

/* The policy file, relative to the site directory. */
#define PC_POLICY_FILE		"policy.conf"

#endif
