/*
 * fsdir.h: a new file's directory entry made durable (pure).
 */
#ifndef PC_FSDIR_H
#define PC_FSDIR_H

#include <stddef.h>

/*
 * fsync() the directory that holds path (".", "/" or its parent), so
 * that a file just created or linked there survives a crash. 0, or -1
 * with errno; the directory's name in dir (dirlen bytes) either way.
 */
int	pc_fsdir_sync(const char *path, char *dir, size_t dirlen);

#endif
