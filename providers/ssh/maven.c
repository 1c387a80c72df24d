/*
 * maven.c - the release manifest for `install: maven` (see maven.h).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "maven.h"

#define PATH_MAX_LEN 512
#define SIZE_MAX_BYTES (UINT64_C(1) << 40)

void cg_maven_free(struct cg_maven_manifest *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* One path segment: Maven's own characters only, not starting with '.',
 * no ".." anywhere (no Maven path has one: simpler to check on the node). */
static bool seg_ok(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((!isalnum((unsigned char)s[i]) && !strchr("._+-", s[i])) ||
		    (s[i] == '.' && i + 1 < n && s[i + 1] == '.'))
			return false;
	return true;
}

/* GROUP/.../ARTIFACT/VERSION/ARTIFACT-VERSION[-CLASSIFIER].jar: the file
 * name must carry the artifact and version of its directories (the layout
 * every Maven repository serves). */
static const char *path_problem(const char *p, size_t n)
{
	if (n == 0 || n > PATH_MAX_LEN)
		return "the path is empty or longer than 512 characters";
	const char *seg[64];
	size_t len[64];
	int ns = 0;
	for (size_t i = 0; i <= n;) {
		size_t j = i;
		while (j < n && p[j] != '/')
			j++;
		if (ns == 64)
			return "the path has too many parts";
		seg[ns] = p + i;
		len[ns++] = j - i;
		if (!seg_ok(p + i, j - i))
			return "a path part is empty, starts with '.', holds '..' or a character "
			       "other than letters, digits and ._+-";
		i = j + 1;
	}
	if (ns < 4)
		return "the path is not GROUP/ARTIFACT/VERSION/FILE";
	const char *f = seg[ns - 1], *a = seg[ns - 3], *v = seg[ns - 2];
	size_t fl = len[ns - 1], al = len[ns - 3], vl = len[ns - 2];
	if (fl < 4 || memcmp(f + fl - 4, ".jar", 4))
		return "the file is not a .jar";
	if (fl < al + vl + 5 || memcmp(f, a, al) || f[al] != '-' || memcmp(f + al + 1, v, vl) ||
	    (f[al + 1 + vl] != '.' && f[al + 1 + vl] != '-'))
		return "the file name is not ARTIFACT-VERSION of its directories";
	return NULL;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static int parse_line(const char *l, size_t n, struct cg_maven_artifact *a, const char **why)
{
	if (n < 64 + 1 + 1 + 1 + 1) {
		*why = "expected SHA256 SIZE PATH";
		return -1;
	}
	for (int i = 0; i < 64; i++)
		if (!isdigit((unsigned char)l[i]) && !(l[i] >= 'a' && l[i] <= 'f')) {
			*why = "the SHA-256 is not 64 lowercase hex digits";
			return -1;
		}
	if (l[64] != ' ') {
		*why = "expected SHA256 SIZE PATH";
		return -1;
	}
	size_t i = 65;
	uint64_t size = 0;
	if (i >= n || !isdigit((unsigned char)l[i]) || (l[i] == '0' && i + 1 < n && l[i + 1] != ' ')) {
		*why = "the size is not a decimal number";
		return -1;
	}
	for (; i < n && isdigit((unsigned char)l[i]); i++) {
		size = size * 10 + (uint64_t)(l[i] - '0');
		if (size > SIZE_MAX_BYTES) {
			*why = "the size is larger than 1 TiB";
			return -1;
		}
	}
	if (i >= n || l[i] != ' ') {
		*why = "expected SHA256 SIZE PATH";
		return -1;
	}
	i++;
	if ((*why = path_problem(l + i, n - i)))
		return -1;
	memcpy(a->sha256, l, 64);
	a->sha256[64] = '\0';
	a->size = size;
	a->path = cg_xstrndup(l + i, n - i);
	return 0;
}

int cg_maven_parse(const char *text, size_t len, struct cg_maven_manifest *m,
		   struct cg_err *err)
{
	m->v = NULL;
	m->n = 0;
	int cap = 0, line = 0;
	for (size_t i = 0; i < len; line++) {
		const char *l = text + i;
		const char *nl = memchr(l, '\n', len - i);
		size_t n = nl ? (size_t)(nl - l) : len - i;
		i += n + (nl ? 1 : 0);
		if (n && l[0] == '#')
			continue;
		const char *why = NULL;
		struct cg_maven_artifact a;
		if (m->n == CG_MAVEN_MAX_ARTIFACTS)
			why = "more than 10000 artifacts";
		else if (memchr(l, '\0', n))
			why = "a NUL byte";
		if (why || parse_line(l, n, &a, &why)) {
			cg_maven_free(m);
			return cg_error(err, CG_EXIT_ERROR, "manifest line %d: %s", line + 1, why);
		}
		for (int k = 0; k < m->n; k++)
			if (!strcmp(base_name(m->v[k].path), base_name(a.path))) {
				cg_error(err, CG_EXIT_ERROR, "manifest line %d: %s: the file name %s is "
					 "also that of %s (they share one lib/ directory)", line + 1,
					 a.path, base_name(a.path), m->v[k].path);
				free(a.path);
				cg_maven_free(m);
				return -1;
			}
		if (m->n == cap) {
			cap = cap ? cap * 2 : 64;
			m->v = cg_xrealloc(m->v, (size_t)cap * sizeof(*m->v));
		}
		m->v[m->n++] = a;
	}
	if (m->n == 0)
		return cg_error(err, CG_EXIT_ERROR, "manifest: no artifact");
	return 0;
}

char *cg_maven_cache_dir(const char *root, const char *version)
{
	if (!root) {
		root = getenv("CASSANDGO_CASSANDRA_CACHE");
		if (!root || !*root)
			root = "/var/cache/cassandgo";
	}
	return cg_xasprintf("%s/cassandra-%s", root, version);
}

int cg_maven_load(const char *root, const char *version, struct cg_maven_manifest *m,
		  struct cg_err *err)
{
	char *dir = cg_maven_cache_dir(root, version);
	char *path = cg_xasprintf("%s/manifest", dir);
	free(dir);
	char *text = NULL;
	size_t len = 0;
	int rc;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		rc = cg_error(err, CG_EXIT_ERROR, "no manifest of Cassandra %s at %s: install: maven "
			      "needs the release resolved once on this machine (make cassandra, or "
			      "tests/cassandra/fetch.sh %s)", version, path, version);
	} else if ((rc = cg_file_read(path, &text, &len, err)) == 0 &&
		   (rc = cg_maven_parse(text, len, m, err)) != 0) {
		cg_error_wrap(err, "%s", path);
	}
	free(text);
	free(path);
	return rc;
}

char *cg_maven_render(const struct cg_maven_manifest *m)
{
	struct cg_buf b = {0};
	for (int i = 0; i < m->n; i++)
		cg_buf_addf(&b, "%s %" PRIu64 " %s\n", m->v[i].sha256, m->v[i].size, m->v[i].path);
	return cg_buf_detach(&b);
}

int cg_maven_has(const struct cg_maven_manifest *m, const char *path)
{
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].path, path))
			return 1;
	return 0;
}

/* --- install: upload: the verified set as one tar stream -------------------- */

#define TAR_BLOCK 512

/* Octal field of width w (w - 1 digits and a NUL); -1 when v does not fit. */
static int tar_octal(char *f, size_t w, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%0*" PRIo64, (int)(w - 1), v);
	if (n < 0 || (size_t)n != w - 1)
		return -1;
	memcpy(f, tmp, w);
	return 0;
}

/* A ustar header for a regular file: the name split at a '/' into prefix
 * (<= 155) and name (<= 100) when longer than 100. */
static int tar_header(unsigned char h[TAR_BLOCK], const char *path, uint64_t size)
{
	memset(h, 0, TAR_BLOCK);
	size_t n = strlen(path);
	const char *name = path;
	if (n > 100) {
		const char *cut = NULL;
		for (const char *s = path; (s = strchr(s, '/')); s++)
			if ((size_t)(s - path) <= 155 && strlen(s + 1) <= 100 && s[1]) {
				cut = s;
				break;
			}
		if (!cut)
			return -1;
		memcpy(h + 345, path, (size_t)(cut - path));
		name = cut + 1;
	}
	memcpy(h, name, strlen(name));
	if (tar_octal((char *)h + 100, 8, 0644) || tar_octal((char *)h + 108, 8, 0) ||
	    tar_octal((char *)h + 116, 8, 0) || tar_octal((char *)h + 124, 12, size) ||
	    tar_octal((char *)h + 136, 12, 0))
		return -1;
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);	/* six digits, NUL, then the space */
	h[155] = ' ';
	return 0;
}

int cg_maven_tar(const struct cg_maven_manifest *m, const bool *pick, const char *dir,
		 struct cg_buf *out, uint64_t *bytes, struct cg_err *err)
{
	size_t start = out->len;
	uint64_t total = 0;
	static const unsigned char zero[2 * TAR_BLOCK];
	for (int i = 0; i < m->n; i++) {
		const struct cg_maven_artifact *a = &m->v[i];
		if (!pick[i])
			continue;
		char *path = cg_xasprintf("%s/repo/%s", dir, a->path);
		char *data = NULL;
		size_t len = 0;
		unsigned char h[TAR_BLOCK];
		char hex[65];
		int rc = cg_file_read(path, &data, &len, err);
		if (rc == 0 && (uint64_t)len != a->size)
			rc = cg_error(err, CG_EXIT_ERROR, "%s: %zu bytes, the manifest says %" PRIu64,
				      path, len, a->size);
		if (rc == 0) {
			cg_sha256_hex(data, len, hex);
			if (strcmp(hex, a->sha256))
				rc = cg_error(err, CG_EXIT_ERROR, "%s: SHA-256 %s, the manifest says %s",
					      path, hex, a->sha256);
		}
		if (rc == 0 && tar_header(h, a->path, a->size))
			rc = cg_error(err, CG_EXIT_ERROR, "%s: the path or size does not fit a tar "
				      "header", a->path);
		if (rc == 0) {
			cg_buf_add(out, h, TAR_BLOCK);
			cg_buf_add(out, data, len);
			cg_buf_add(out, zero, (TAR_BLOCK - len % TAR_BLOCK) % TAR_BLOCK);
			total += len;
		}
		free(data);
		free(path);
		if (rc) {
			cg_error_wrap(err, "the release cache (make cassandra, or "
				      "tests/cassandra/fetch.sh, makes it again)");
			out->len = start;
			return -1;
		}
	}
	cg_buf_add(out, zero, sizeof(zero));
	*bytes = total;
	return 0;
}
