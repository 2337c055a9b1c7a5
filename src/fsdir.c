/*
 * fsdir.c: a new file's directory entry made durable (pure). The
 * retention export and the evidence bundle each fsync their file, then
 * this: without it a crash can keep the data and lose the name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fsdir.h"

int
pc_fsdir_sync(const char *path, char *dir, size_t dirlen)
{
	char	*slash;
	int	 fd, rc, saved;

	if (dirlen == 0 || (size_t)snprintf(dir, dirlen, "%s", path) >=
	    dirlen) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		(void)snprintf(dir, dirlen, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	rc = fsync(fd);
	saved = errno;
	(void)close(fd);
	errno = saved;
	return (rc);
}
