/*
 * checkpoint.h: signed checkpoints of the audit chain, made by the
 * server (checkpoint.c; the format is ckpt.h's).
 *
 * The parent loads the signing key and opens the checkpoint file before
 * any worker forks or chroots; worker 1 signs every
 * checkpoint_interval_seconds and at a clean stop, the other workers
 * drop both at start.
 */
#ifndef PC_CHECKPOINT_H
#define PC_CHECKPOINT_H

#include <stddef.h>

/* Parent: the key and the file, when the policy names them. 0 or -1. */
int	pc_checkpoint_parent_init(char *err, size_t errlen);
void	pc_checkpoint_parent_teardown(void);
void	pc_checkpoint_worker_init(void);
void	pc_checkpoint_worker_stop(void);

#endif
