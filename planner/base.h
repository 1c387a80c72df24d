/*
 * base.h - the few utilities every module shares: errors that carry a
 * message up to the command, growable buffers, atomic file writes, hashing.
 *
 * Ownership: functions returning char * return heap memory the caller
 * frees with free(). cg_x* allocators abort on out-of-memory (as git's
 * xmalloc does): there is nothing sensible to do after that.
 */
#ifndef CG_BASE_H
#define CG_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes (README documents them; jq-style explicit table). */
enum cg_exit {
	CG_EXIT_OK = 0,
	CG_EXIT_ERROR = 1,	/* runtime error */
	CG_EXIT_CHANGES = 2,	/* plan --detailed-exitcode: changes present */
	CG_EXIT_USAGE = 64,	/* bad command line */
	CG_EXIT_CONFIG = 65,	/* bad configuration */
	CG_EXIT_LOCKED = 75,	/* state locked by someone else */
};

/*
 * An error: a message plus the exit code class it maps to. Functions take a
 * struct cg_err * and, on failure, fill it with cg_error() and return -1.
 * Only the command prints it, once.
 */
struct cg_err {
	int code;		/* one of enum cg_exit; 0 when no error */
	char msg[2048];
};

/* Fill err (may be NULL) and return -1. code is an enum cg_exit. */
int cg_error(struct cg_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix an existing message: "what: <old message>". Returns -1. */
int cg_error_wrap(struct cg_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void *cg_xmalloc(size_t n);
void *cg_xcalloc(size_t n, size_t size);
void *cg_xrealloc(void *p, size_t n);
char *cg_xstrdup(const char *s);		/* NULL -> NULL */
char *cg_xstrndup(const char *s, size_t n);
char *cg_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable byte buffer, always NUL-terminated. Zero-initialise to start. */
struct cg_buf {
	char *data;
	size_t len, cap;
};
void cg_buf_add(struct cg_buf *b, const void *p, size_t n);
void cg_buf_adds(struct cg_buf *b, const char *s);
void cg_buf_addf(struct cg_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cg_buf_vaddf(struct cg_buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal, quotes included. */
void cg_buf_add_json(struct cg_buf *b, const char *s);
void cg_buf_reset(struct cg_buf *b);
/* Hand the data to the caller (who frees it); the buffer is emptied. */
char *cg_buf_detach(struct cg_buf *b);
void cg_buf_free(struct cg_buf *b);

/*
 * Write a file atomically: temp file in the same directory, fsync, rename,
 * fsync of the directory. The temp file has a new, unguessable name and is
 * created with O_EXCL|O_NOFOLLOW (never an existing file or a link's target);
 * mode is applied to it before any data is written (so a key never exists
 * with wider permissions). A link at path itself is replaced, not followed.
 */
int cg_file_write_atomic(const char *path, const void *data, size_t len,
			 int mode, struct cg_err *err);
/* Read a whole file; *out is NUL-terminated and owned by the caller. */
int cg_file_read(const char *path, char **out, size_t *len, struct cg_err *err);
/* mkdir -p with mode for the directories it creates. */
int cg_mkdir_p(const char *path, int mode, struct cg_err *err);
/* Directory part of path ("." when none); caller frees. */
char *cg_dirname(const char *path);

/* 64-bit content hash (xxHash XXH3), and its 16-hex-digit form. */
uint64_t cg_hash64(const void *p, size_t n);
void cg_hash_hex(uint64_t h, char out[17]);

/* Monotonic clock in milliseconds. */
int64_t cg_now_ms(void);
/* Wall clock, seconds since the epoch, and an ISO-8601 UTC rendering. */
int64_t cg_wall_s(void);
void cg_iso8601(int64_t t, char out[32]);

/* Levenshtein distance (for "did you mean"). */
int cg_edit_distance(const char *a, const char *b);

#endif
