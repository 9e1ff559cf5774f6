#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/file.h"
#include "common/xalloc.h"

int
file_read_fd(int fd, size_t max, char **buf, size_t *len)
{
	size_t n = 0, cap = 65536;
	char *p = xmalloc(cap);

	for (;;) {
		ssize_t r;

		if (cap - n < 4096) {
			cap *= 2;
			p = xrealloc(p, cap);
		}
		r = read(fd, p + n, cap - n - 1);
		if (r == 0)
			break;
		if (r == -1) {
			int e = errno;

			if (e == EINTR)
				continue;
			free(p);
			errno = e;
			return -1;
		}
		n += (size_t)r;
		if (n > max) {
			free(p);
			errno = EFBIG;
			return -1;
		}
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}

int
file_read_path(const char *path, size_t max, char **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc, e;

	if (fd == -1)
		return -1;
	rc = file_read_fd(fd, max, buf, len);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}
