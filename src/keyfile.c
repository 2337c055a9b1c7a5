/*
 * keyfile.c: reading a key file kept outside the database (pure).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "keyfile.h"
#include "wipe.h"

static int	keyfile_check(int, const char *, size_t, char *, size_t);

/* A regular file, group and others shut out, not larger than max. */
static int
keyfile_check(int fd, const char *path, size_t max, char *err,
    size_t errlen)
{
	struct stat	st;

	if (fstat(fd, &st) == -1) {
		pc_errmsg(err, errlen, "key file %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		pc_errmsg(err, errlen, "key file %s is not a regular file",
		    path);
		return (-1);
	}
	if ((st.st_mode & 077) != 0) {
		pc_errmsg(err, errlen,
		    "key file %s is readable or writable by group or others",
		    path);
		return (-1);
	}
	if ((size_t)st.st_size >= max) {
		pc_errmsg(err, errlen, "key file %s is too large", path);
		return (-1);
	}
	return (0);
}

int
pc_keyfile_read(const char *path, char *buf, size_t bufsize, size_t *len,
    char *err, size_t errlen)
{
	size_t		off;
	ssize_t		r;
	int		fd, rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	*len = 0;
	if (path == NULL || bufsize == 0) {
		pc_errmsg(err, errlen, "no key file given");
		return (-1);
	}

	/* O_NONBLOCK: a FIFO must not hang us before fstat refuses it. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1) {
		if (errno == ELOOP)
			pc_errmsg(err, errlen,
			    "key file %s is a symbolic link", path);
		else
			pc_errmsg(err, errlen, "key file %s: %s", path,
			    strerror(errno));
		return (-1);
	}
	if (keyfile_check(fd, path, bufsize, err, errlen) == -1) {
		close(fd);
		return (-1);
	}

	/* Read to EOF: a full buffer means the file grew. */
	off = 0;
	rc = 0;
	while (off < bufsize) {
		r = read(fd, buf + off, bufsize - off);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			pc_errmsg(err, errlen, "key file %s: %s", path,
			    strerror(errno));
			rc = -1;
			break;
		}
		if (r == 0)
			break;
		off += (size_t)r;
	}
	close(fd);

	if (rc == 0 && off >= bufsize) {
		pc_errmsg(err, errlen, "key file %s is too large", path);
		rc = -1;
	}
	if (rc == -1)
		pc_wipe(buf, bufsize);
	else
		*len = off;
	return (rc);
}
