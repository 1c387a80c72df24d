/*
 * fuzz_maven_metadata.c - libFuzzer target: Maven Central's
 * maven-metadata.xml of cassandra-all (providers/ssh/release.c
 * cg_release_parse_metadata), read at plan time to tell whether a
 * cassandra_version exists, and the summary of releases built from it.
 */
#include "fuzz.h"

#include <ctype.h>

#include "../../providers/ssh/release.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **v = NULL;
	int n = 0;
	struct cg_err err = {0};
	if (cg_release_parse_metadata((const char *)data, size, &v, &n, &err) == 0) {
		FUZZ_ASSERT(n >= 0 && (n == 0 || v));
		for (int i = 0; i < n; i++) {
			/* what goes into error messages and paths: plain words only */
			size_t l = strlen(v[i]);
			FUZZ_ASSERT(l > 0 && l <= 64);
			for (const char *c = v[i]; *c; c++)
				FUZZ_ASSERT(isalnum((unsigned char)*c) || *c == '.' || *c == '-');
		}
		char *s = cg_release_summary(v, n);
		FUZZ_ASSERT(s && s[0]);
		free(s);
		for (int i = 0; i < n; i++)
			free(v[i]);
		free(v);
	} else {
		FUZZ_ASSERT(err.code != 0 && err.msg[0]);
		FUZZ_ASSERT(n == 0 && !v);
	}
	return 0;
}
