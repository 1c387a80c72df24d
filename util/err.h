/*
 * err.h - errors that carry a message up to the command, and the exit codes
 * they map to.
 *
 * Functions take a struct cg_err * and, on failure, fill it with cg_error()
 * and return -1. Only the command prints it, once.
 */
#ifndef CG_UTIL_ERR_H
#define CG_UTIL_ERR_H

/* Exit codes (README documents them; jq-style explicit table). */
enum cg_exit {
	CG_EXIT_OK = 0,
	CG_EXIT_ERROR = 1,	/* runtime error */
	CG_EXIT_CHANGES = 2,	/* plan --detailed-exitcode: changes present */
	CG_EXIT_BUDGET = 3,	/* apply --max-cost-per-hour: the plan costs more */
	CG_EXIT_USAGE = 64,	/* bad command line */
	CG_EXIT_CONFIG = 65,	/* bad configuration */
	CG_EXIT_LOCKED = 75,	/* state locked by someone else */
};

/* An error: a message plus the exit code class it maps to. */
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

#endif
