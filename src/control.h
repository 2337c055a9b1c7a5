/*
 * control.h: control-failure alarms (control.c; PCI DSS 10.7.2).
 *
 * The parent keeps the policy file open before the workers chroot;
 * worker 1 checks the controls every control_check_seconds; every
 * worker reports a database it lost for more than 30 s once it is back.
 */
#ifndef PC_CONTROL_H
#define PC_CONTROL_H

#include <stddef.h>
#include <time.h>

/* Parent, after the policy is loaded. 0 or -1 with err. */
int	pc_control_parent_init(char *err, size_t errlen);
void	pc_control_parent_teardown(void);
void	pc_control_worker_init(void);
/* A query's outcome: 1 the database answered, 0 it could not be had. */
void	pc_control_db(int reachable);
/* After a checkpoint round: the failed step, or NULL. */
void	pc_control_checkpoint(const char *failed);
void	pc_control_syslog(int failing, time_t since, const char *why);

#endif
