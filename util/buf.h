/*
 * buf.h - allocation, strings and the growable buffer.
 *
 * Functions returning char * return heap memory the caller frees with
 * free(). cg_x* allocators abort on out-of-memory (as git's xmalloc does):
 * there is nothing sensible to do after that.
 */
#ifndef CG_UTIL_BUF_H
#define CG_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

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

/* Levenshtein distance (for "did you mean"). */
int cg_edit_distance(const char *a, const char *b);

#endif
