/*
 * unit.h - helpers the CMocka unit tests share (include after <cmocka.h>).
 */
#ifndef CG_TEST_UNIT_H
#define CG_TEST_UNIT_H

#include <stdlib.h>
#include <unistd.h>
#include "../../util/util.h"

/* A fresh directory /tmp/cg-test-<what>.XXXXXX; caller frees (and rm_rf's). */
static inline char *tmpdir_for(const char *what)
{
	char *tmpl = cg_xasprintf("/tmp/cg-test-%s.XXXXXX", what);
	assert_non_null(mkdtemp(tmpl));
	return tmpl;
}

static inline void rm_rf(const char *d)
{
	char *cmd = cg_xasprintf("rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

#endif
