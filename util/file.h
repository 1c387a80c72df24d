/*
 * file.h - whole-file reads, atomic file writes, directories.
 */
#ifndef CG_UTIL_FILE_H
#define CG_UTIL_FILE_H

#include <stddef.h>

#include "err.h"

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

#endif
