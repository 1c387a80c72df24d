/* base.c - shared utilities (see base.h). */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

int cg_error(struct cg_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = code ? code : CG_EXIT_ERROR;
	}
	return -1;
}

int cg_error_wrap(struct cg_err *err, const char *fmt, ...)
{
	if (err) {
		char prefix[1024], old[sizeof(err->msg)];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(prefix, sizeof(prefix), fmt, ap);
		va_end(ap);
		memcpy(old, err->msg, sizeof(old));
		size_t pl = strlen(prefix);
		if (pl > sizeof(err->msg) - 3)
			pl = sizeof(err->msg) - 3;
		memcpy(err->msg, prefix, pl);
		memcpy(err->msg + pl, ": ", 2);
		size_t room = sizeof(err->msg) - pl - 3;
		size_t ol = strnlen(old, room);
		memcpy(err->msg + pl + 2, old, ol);
		err->msg[pl + 2 + ol] = '\0';
		if (!err->code)
			err->code = CG_EXIT_ERROR;
	}
	return -1;
}

static void oom(size_t n)
{
	fprintf(stderr, "cassandgo: out of memory (%zu bytes)\n", n);
	abort();
}

void *cg_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *cg_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *cg_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *cg_xstrdup(const char *s)
{
	return s ? cg_xstrndup(s, strlen(s)) : NULL;
}

char *cg_xstrndup(const char *s, size_t n)
{
	char *p = cg_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *cg_xasprintf(const char *fmt, ...)
{
	struct cg_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	cg_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return cg_buf_detach(&b);
}

static void buf_grow(struct cg_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = cg_xrealloc(b->data, cap);
	b->cap = cap;
}

void cg_buf_add(struct cg_buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void cg_buf_adds(struct cg_buf *b, const char *s)
{
	cg_buf_add(b, s, strlen(s));
}

void cg_buf_vaddf(struct cg_buf *b, const char *fmt, va_list ap)
{
	/* one formatting pass when it fits (the common case), two otherwise */
	va_list cp;
	buf_grow(b, 64);
	va_copy(cp, ap);
	size_t room = b->cap - b->len;
	int n = vsnprintf(b->data + b->len, room, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void cg_buf_addf(struct cg_buf *b, const char *fmt, ...)
{
	va_list ap;
	if (!strchr(fmt, '%')) {	/* literal text: no formatting pass */
		cg_buf_adds(b, fmt);
		return;
	}
	va_start(ap, fmt);
	cg_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void cg_buf_add_json(struct cg_buf *b, const char *s)
{
	if (!s) {
		cg_buf_adds(b, "null");
		return;
	}
	cg_buf_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': cg_buf_adds(b, "\\\""); break;
		case '\\': cg_buf_adds(b, "\\\\"); break;
		case '\n': cg_buf_adds(b, "\\n"); break;
		case '\r': cg_buf_adds(b, "\\r"); break;
		case '\t': cg_buf_adds(b, "\\t"); break;
		default:
			if (*p < 0x20)
				cg_buf_addf(b, "\\u%04x", *p);
			else
				cg_buf_add(b, p, 1);
		}
	}
	cg_buf_add(b, "\"", 1);
}

void cg_buf_reset(struct cg_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *cg_buf_detach(struct cg_buf *b)
{
	char *p = b->data ? b->data : cg_xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void cg_buf_free(struct cg_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

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

uint64_t cg_hash64(const void *p, size_t n)
{
	return XXH3_64bits(p, n);
}

void cg_hash_hex(uint64_t h, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int64_t cg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cg_wall_s(void)
{
	return (int64_t)time(NULL);
}

void cg_iso8601(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int cg_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int *row = cg_xcalloc(lb + 1, sizeof(int));
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int cost = a[i - 1] == b[j - 1] ? 0 : 1;
			int v = prev + cost;
			if (row[j] + 1 < v)
				v = row[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			prev = cur;
		}
	}
	int d = row[lb];
	free(row);
	return d;
}
