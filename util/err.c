/* err.c - errors carried up to the command (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
