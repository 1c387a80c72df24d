/* file.c - whole-file reads and atomic writes, directories (see file.h). */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"

char *cg_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return cg_xstrdup(".");
	if (slash == path)
		return cg_xstrdup("/");
	return cg_xstrndup(path, (size_t)(slash - path));
}

int cg_mkdir_p(const char *path, int mode, struct cg_err *err)
{
	char *p = cg_xstrdup(path);
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
				cg_error(err, CG_EXIT_ERROR, "cannot create directory %s: %s",
					 p, strerror(errno));
				free(p);
				return -1;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return 0;
}

int cg_file_write_atomic(const char *path, const void *data, size_t len,
			 int mode, struct cg_err *err)
{
	char *dir = cg_dirname(path);
	char *tmp = NULL;
	int fd = -1, rc = -1;
	/* A temp name nobody can have planted: O_EXCL|O_NOFOLLOW never opens
	 * an existing file or follows a link there (a link at "path.tmp.PID"
	 * made us overwrite its target), the random part makes it unguessable.
	 * Created 0600; given mode by fchmod before any data is written. */
	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		uint64_t r;
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			r = (uint64_t)cg_now_ms() * 2654435761u + (uint64_t)tries;
		free(tmp);
		tmp = cg_xasprintf("%s.tmp.%ld.%016llx", path, (long)getpid(), (unsigned long long)r);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		cg_error(err, CG_EXIT_ERROR, "cannot write %s: cannot create a temporary file "
			 "beside it: %s", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, (mode_t)mode) != 0)
		goto fail;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, (const char *)data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = 0;
	goto out;
fail:
	cg_error(err, CG_EXIT_ERROR, "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(dir);
	return rc;
}

int cg_file_read(const char *path, char **out, size_t *len, struct cg_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return cg_error(err, CG_EXIT_ERROR, "cannot read %s: %s", path, strerror(errno));
	struct cg_buf b = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cg_buf_add(&b, chunk, n);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		cg_buf_free(&b);
		return cg_error(err, CG_EXIT_ERROR, "cannot read %s", path);
	}
	if (len)
		*len = b.len;
	*out = cg_buf_detach(&b);
	return 0;
}
