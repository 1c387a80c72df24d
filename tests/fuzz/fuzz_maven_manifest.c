/*
 * fuzz_maven_manifest.c - libFuzzer target: the release manifest of
 * install: maven (providers/ssh/maven.c cg_maven_parse), read from the
 * operator's cache and sent to every node, whose shell uses its paths.
 */
#include "fuzz.h"

#include <ctype.h>

#include "../../providers/ssh/maven.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_maven_manifest m;
	struct cg_err err = {0};
	if (cg_maven_parse((const char *)data, size, &m, &err) == 0) {
		FUZZ_ASSERT(m.n > 0 && m.n <= CG_MAVEN_MAX_ARTIFACTS && m.v);
		for (int i = 0; i < m.n; i++) {
			const char *p = m.v[i].path;
			/* what reaches a node's shell: plain parts only, inside the
			 * download directory */
			FUZZ_ASSERT(p && p[0] && p[0] != '/' && !strstr(p, "..") && !strstr(p, "//"));
			for (const char *c = p; *c; c++)
				FUZZ_ASSERT(isalnum((unsigned char)*c) || strchr("._+-/", *c));
			FUZZ_ASSERT(strlen(m.v[i].sha256) == 64);
		}
		/* the text a node gets parses to the same artifacts */
		char *r = cg_maven_render(&m);
		struct cg_maven_manifest m2;
		FUZZ_ASSERT(cg_maven_parse(r, strlen(r), &m2, &err) == 0 && m2.n == m.n);
		for (int i = 0; i < m.n; i++)
			FUZZ_ASSERT(!strcmp(m.v[i].path, m2.v[i].path) && m.v[i].size == m2.v[i].size);
		cg_maven_free(&m2);
		free(r);
		cg_maven_free(&m);
	} else {
		FUZZ_ASSERT(err.code != 0 && err.msg[0]);
		FUZZ_ASSERT(m.n == 0 && !m.v);
	}
	return 0;
}
