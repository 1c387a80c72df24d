/*
 * maven.h - the manifest of a Cassandra release for `install: maven`.
 *
 * The operator's side resolves a release once (tests/cassandra/fetch.sh,
 * `make cassandra`) into <cache>/cassandra-VERSION/, which holds the jars
 * (lib/), the same jars in Maven's repository layout (repo/) and the
 * manifest: one line per artifact,
 *
 *   SHA256 SIZE PATH
 *
 * SHA256 64 lowercase hex digits, SIZE in bytes, PATH the artifact's path
 * in a Maven repository (GROUP/PATH/ARTIFACT/VERSION/ARTIFACT-VERSION[-X].jar),
 * which also gives its coordinates. Lines starting with '#' are comments.
 * Each node downloads every PATH itself (from Maven Central or the
 * cluster's maven_mirror), checks size and hash, and only then installs
 * (providers/ssh/cgnode, cmd_install). The manifest is parsed here before
 * it is sent, so nothing a damaged file holds reaches a node's shell.
 */
#ifndef CG_MAVEN_H
#define CG_MAVEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../util/util.h"

#define CG_MAVEN_MAX_ARTIFACTS 10000

struct cg_maven_artifact {
	char *path;		/* repository path, validated */
	uint64_t size;
	char sha256[65];
};

struct cg_maven_manifest {
	struct cg_maven_artifact *v;
	int n;
};

/* Parse text (len bytes, need not be NUL-terminated). Every line must be
 * well formed, paths safe and distinct, file names distinct (they share one
 * lib/ directory), at least one artifact. On error: -1, err says which line
 * and why, *m is empty. */
int cg_maven_parse(const char *text, size_t len, struct cg_maven_manifest *m,
		   struct cg_err *err);
/* Read and parse the manifest of release version under the cache root
 * (NULL: $CASSANDGO_CASSANDRA_CACHE, else /var/cache/cassandgo); a missing
 * file says how to make it. */
int cg_maven_load(const char *root, const char *version, struct cg_maven_manifest *m,
		  struct cg_err *err);
/* The canonical text of m (what a node receives). Caller frees. */
char *cg_maven_render(const struct cg_maven_manifest *m);
/* Is path (a repository path) in m? */
int cg_maven_has(const struct cg_maven_manifest *m, const char *path);
void cg_maven_free(struct cg_maven_manifest *m);

/* The cache directory of release version (root as in cg_maven_load): it
 * holds manifest and repo/ in Maven's layout. Caller frees. */
char *cg_maven_cache_dir(const char *root, const char *version);
/*
 * install: upload: a tar stream (POSIX ustar, regular files named by their
 * repository paths, mode 0644, owner 0) of the artifacts of m whose pick[i]
 * is set, read from dir/repo/PATH, each checked against the manifest's size
 * and SHA-256 first: the operator sends only the verified set. Appended to
 * out; *bytes gets the artifacts' total size. On error (a file missing,
 * changed or too large for ustar) err names it and out is left as it was.
 */
int cg_maven_tar(const struct cg_maven_manifest *m, const bool *pick, const char *dir,
		 struct cg_buf *out, uint64_t *bytes, struct cg_err *err);

#endif
