/*
 * release.h - Cassandra releases on this machine: which exist on Maven
 * Central (org.apache.cassandra:cassandra-all's maven-metadata.xml), and
 * the jar cache that the local provider's nodes run from and that
 * install: maven/upload's manifest comes from (<cache>/cassandra-VERSION,
 * laid out by tests/cassandra/fetch.sh, which is embedded here and run
 * with Maven on demand).
 */
#ifndef CG_RELEASE_H
#define CG_RELEASE_H

#include <stdbool.h>
#include <stddef.h>

#include "../../util/util.h"

/* The <version> values of a maven-metadata.xml (len bytes, need not be
 * NUL-terminated), in document order; only those made of digits, letters
 * and ".-" (at most 64 bytes) are kept. 0, or -1 with err when the text has
 * no <versioning> element. Caller frees each and the array. */
int cg_release_parse_metadata(const char *xml, size_t len, char ***out, int *n,
			      struct cg_err *err);
/* "4.0.0-4.0.19, 4.1.0-4.1.10, 5.0.0-5.0.9": the X.Y.Z releases of v that
 * the config accepts (>= 4.0.0), runs of one series as first-last. Caller
 * frees. */
char *cg_release_summary(char *const *v, int n);
/* Is the release's cache (jars and manifest) complete? */
bool cg_release_cached(const char *version);
/* Does the release exist on Maven Central (or the repository at
 * $CASSANDGO_MAVEN_REPO)? 0 yes; -1 with err: it does not (listing what
 * does), or the repository could not be asked. */
int cg_release_exists(const char *version, struct cg_err *err);
/* Resolve the release into the cache with Maven unless it is complete
 * (one resolver per release at a time, across processes). */
int cg_release_fetch(const char *version, struct cg_err *err);

#endif
