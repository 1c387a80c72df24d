/*
 * release.c - releases on Maven Central and the local jar cache (release.h).
 */
#include "release.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>

#include "maven.h"

/* tests/cassandra/fetch.sh and pom.xml (embedded at build time, ssh.mk) */
extern const unsigned char cg_fetch_script[], cg_fetch_pom[];
extern const size_t cg_fetch_script_len, cg_fetch_pom_len;

#define METADATA_PATH "/org/apache/cassandra/cassandra-all/maven-metadata.xml"
#define METADATA_MAX (4 << 20)

static const char *find_n(const char *h, size_t hl, const char *needle)
{
	size_t nl = strlen(needle);
	for (size_t i = 0; nl <= hl && i <= hl - nl; i++)
		if (!memcmp(h + i, needle, nl))
			return h + i;
	return NULL;
}

int cg_release_parse_metadata(const char *xml, size_t len, char ***out, int *n,
			      struct cg_err *err)
{
	*out = NULL;
	*n = 0;
	const char *vs = xml ? find_n(xml, len, "<versioning>") : NULL;
	if (!vs)
		return cg_error(err, CG_EXIT_ERROR, "maven-metadata.xml: no <versioning> element");
	const char *end = xml + len, *p = vs;
	int cap = 0;
	while ((p = find_n(p, (size_t)(end - p), "<version>")) != NULL) {
		p += 9;
		const char *q = find_n(p, (size_t)(end - p), "</version>");
		if (!q)
			break;
		size_t l = (size_t)(q - p);
		bool ok = l > 0 && l <= 64;
		for (size_t i = 0; ok && i < l; i++)
			ok = isalnum((unsigned char)p[i]) || p[i] == '.' || p[i] == '-';
		if (ok) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 64;
				*out = cg_xrealloc(*out, (size_t)cap * sizeof(char *));
			}
			(*out)[(*n)++] = cg_xstrndup(p, l);
		}
		p = q + 10;
	}
	return 0;
}

/* X.Y.Z with X >= 4 (what the config accepts) */
static bool release_of(const char *s, unsigned *x, unsigned *y, unsigned *z)
{
	int used = 0;
	if (sscanf(s, "%3u.%3u.%3u%n", x, y, z, &used) != 3 || s[used] || !isdigit((unsigned char)s[0]))
		return false;
	for (const char *c = s; *c; c++)
		if (!isdigit((unsigned char)*c) && *c != '.')
			return false;
	return *x >= 4;
}

char *cg_release_summary(char *const *v, int n)
{
	struct cg_buf b = {0};
	unsigned cx = 0, cy = 0, x, y, z;
	const char *first = NULL, *last = NULL;
	for (int i = 0; i <= n; i++) {
		bool ok = i < n && release_of(v[i], &x, &y, &z);
		if (i < n && !ok)
			continue;
		if (first && (i == n || x != cx || y != cy)) {
			cg_buf_addf(&b, "%s%s", b.len ? ", " : "", first);
			if (strcmp(first, last))
				cg_buf_addf(&b, "-%s", last);
			first = NULL;
		}
		if (i == n)
			break;
		if (!first) {
			first = v[i];
			cx = x, cy = y;
		}
		last = v[i];
	}
	return b.len ? cg_buf_detach(&b) : cg_xstrdup("none");
}

bool cg_release_cached(const char *version)
{
	char *dir = cg_maven_cache_dir(NULL, version);
	char *a = cg_xasprintf("%s/.complete", dir), *b = cg_xasprintf("%s/manifest", dir);
	bool ok = access(a, R_OK) == 0 && access(b, R_OK) == 0;
	free(a);
	free(b);
	free(dir);
	return ok;
}

static size_t sink(char *data, size_t sz, size_t nm, void *ud)
{
	struct cg_buf *b = ud;
	if (b->len + sz * nm > METADATA_MAX)
		return 0;
	cg_buf_add(b, data, sz * nm);
	return sz * nm;
}

int cg_release_exists(const char *version, struct cg_err *err)
{
	const char *repo = getenv("CASSANDGO_MAVEN_REPO");
	char *url = cg_xasprintf("%s" METADATA_PATH,
				 repo && *repo ? repo : "https://repo1.maven.org/maven2");
	/* reference counted and thread-safe in libcurl >= 7.84 */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *ch = curl_easy_init();
	struct cg_buf body = {0};
	long status = 0;
	CURLcode cc = CURLE_FAILED_INIT;
	if (ch) {
		curl_easy_setopt(ch, CURLOPT_URL, url);
		curl_easy_setopt(ch, CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(ch, CURLOPT_WRITEDATA, &body);
		curl_easy_setopt(ch, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(ch, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(ch, CURLOPT_TIMEOUT, 30L);
		curl_easy_setopt(ch, CURLOPT_NOSIGNAL, 1L);
		cc = curl_easy_perform(ch);
		curl_easy_getinfo(ch, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(ch);
	}
	int rc;
	char **v = NULL;
	int n = 0;
	if (cc != CURLE_OK || status != 200) {
		rc = cg_error(err, CG_EXIT_ERROR, "cassandra_version %s is not in this machine's "
			      "jar cache, and %s could not be read to check that it exists (%s): "
			      "connect this machine to the repository, or resolve the release "
			      "once (tests/cassandra/fetch.sh %s)", version, url,
			      cc != CURLE_OK ? curl_easy_strerror(cc) : "HTTP error", version);
		if (cc == CURLE_OK)
			cg_error_wrap(err, "HTTP %ld", status);
	} else if ((rc = cg_release_parse_metadata(body.data, body.len, &v, &n, err)) == 0) {
		bool found = false;
		for (int i = 0; i < n; i++)
			found |= !strcmp(v[i], version);
		if (!found) {
			char *have = cg_release_summary(v, n);
			rc = cg_error(err, CG_EXIT_CONFIG, "cassandra_version %s does not exist: "
				      "org.apache.cassandra:cassandra-all on %s has the releases %s",
				      version, repo && *repo ? repo : "Maven Central", have);
			free(have);
		}
	}
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	cg_buf_free(&body);
	free(url);
	return rc;
}

static int write_file(const char *path, const unsigned char *data, size_t len, struct cg_err *err)
{
	return cg_file_write_atomic(path, (const char *)data, len, 0644, err);
}

int cg_release_fetch(const char *version, struct cg_err *err)
{
	if (cg_release_cached(version))
		return 0;
	char tmpl[] = "/tmp/cassandgo-fetch.XXXXXX";
	if (!mkdtemp(tmpl))
		return cg_error(err, CG_EXIT_ERROR, "cannot make a temporary directory: %s",
				strerror(errno));
	char *script = cg_xasprintf("%s/fetch.sh", tmpl), *pom = cg_xasprintf("%s/pom.xml", tmpl);
	char *log = cg_xasprintf("%s/fetch.log", tmpl);
	int rc = write_file(script, cg_fetch_script, cg_fetch_script_len, err);
	if (rc == 0)
		rc = write_file(pom, cg_fetch_pom, cg_fetch_pom_len, err);
	if (rc == 0) {
		/* fetch.sh checks the version (X.Y.Z) itself; argv, no shell */
		pid_t pid = fork();
		if (pid == 0) {
			int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
				close(fd);
			}
			execl("/bin/sh", "sh", script, version, (char *)NULL);
			_exit(127);
		}
		int st = 0;
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			char *out = NULL;
			size_t ol = 0;
			struct cg_err e = {0};
			if (cg_file_read(log, &out, &ol, &e) == 0 && ol > 1500)
				memmove(out, out + ol - 1500, 1501);
			rc = cg_error(err, CG_EXIT_ERROR, "resolving Cassandra %s from Maven Central "
				      "into the jar cache failed: %s", version, out ? out : "");
			free(out);
		}
	}
	unlink(script);
	unlink(pom);
	unlink(log);
	rmdir(tmpl);
	free(script);
	free(pom);
	free(log);
	if (rc == 0 && !cg_release_cached(version))
		rc = cg_error(err, CG_EXIT_ERROR, "Cassandra %s: the jar cache is still incomplete "
			      "after resolving it", version);
	return rc;
}
