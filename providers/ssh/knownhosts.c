/*
 * knownhosts.c - the per-cluster known_hosts: "<alias> <type> <base64>"
 * lines, one per alias. Parsed here rather than with libssh2_knownhost_*,
 * whose writefile rewrites in place; updates take a lock file (several
 * executor threads pin at once) and replace the file atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "ssh.h"

/* The key part ("<type> <b64>") of the line for alias, or NULL. */
static char *find(const char *text, const char *alias)
{
	size_t al = strlen(alias);
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > al + 1 && p[0] != '#' && strncmp(p, alias, al) == 0 && p[al] == ' ') {
			const char *k = p + al + 1;
			size_t kl = len - al - 1;
			while (kl && (k[kl - 1] == '\r' || k[kl - 1] == ' '))
				kl--;
			return cg_xstrndup(k, kl);
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

static int valid_alias(const char *alias, struct cg_err *err)
{
	if (!alias || !*alias || strpbrk(alias, " \t\r\n#,") || alias[0] == '@' ||
	    alias[0] == '|' || alias[0] == '!')
		return cg_error(err, CG_EXIT_ERROR, "invalid known_hosts alias '%s'",
				alias ? alias : "");
	return 0;
}

int cg_ssh_knownhosts_get(const char *path, const char *alias, char **pub_line,
			  struct cg_err *err)
{
	*pub_line = NULL;
	if (valid_alias(alias, err))
		return -1;
	char *text = NULL;
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if (cg_file_read(path, &text, NULL, err))
		return -1;
	*pub_line = find(text, alias);
	free(text);
	return 0;
}

/* Rewrite path without alias's line, plus line (may be NULL), under lock. */
static int rewrite(const char *path, const char *alias, const char *line,
		   struct cg_err *err)
{
	if (valid_alias(alias, err))
		return -1;
	char *dir = cg_dirname(path);
	int mk = cg_mkdir_p(dir, 0700, err);
	free(dir);
	if (mk)
		return -1;
	char *lockp = cg_xasprintf("%s.lock", path);
	int lfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lockp);
	if (lfd < 0)
		return cg_error(err, CG_EXIT_ERROR, "cannot lock %s: %s", path, strerror(errno));
	while (flock(lfd, LOCK_EX) != 0 && errno == EINTR)
		;
	char *text = NULL;
	if (access(path, F_OK) == 0 && cg_file_read(path, &text, NULL, err)) {
		close(lfd);
		return -1;
	}
	struct cg_buf b = {0};
	size_t al = strlen(alias);
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		int mine = len > al && strncmp(p, alias, al) == 0 && p[al] == ' ';
		if (!mine && len) {
			cg_buf_add(&b, p, len);
			cg_buf_adds(&b, "\n");
		}
		p = eol ? eol + 1 : NULL;
	}
	if (line)
		cg_buf_addf(&b, "%s %s\n", alias, line);
	int rc = cg_file_write_atomic(path, b.data ? b.data : "", b.len, 0600, err);
	cg_buf_free(&b);
	free(text);
	close(lfd);	/* releases the lock */
	return rc;
}

int cg_ssh_knownhosts_pin(const char *path, const char *alias, const char *pub_line,
			  struct cg_err *err)
{
	/* Keep "<type> <b64>" only: a comment is not part of the key. */
	const char *p = pub_line ? pub_line : "";
	while (*p == ' ')
		p++;
	size_t tl = strcspn(p, " \t");
	const char *k = p + tl;
	while (*k == ' ' || *k == '\t')
		k++;
	size_t kl = strcspn(k, " \t\r\n");
	if (!tl || !kl || !cg_ssh_key_equal(p, p))
		return cg_error(err, CG_EXIT_ERROR, "invalid public key line for %s", alias);
	char *line = cg_xasprintf("%.*s %.*s", (int)tl, p, (int)kl, k);
	int rc = rewrite(path, alias, line, err);
	free(line);
	return rc;
}

int cg_ssh_knownhosts_remove(const char *path, const char *alias, struct cg_err *err)
{
	if (access(path, F_OK) != 0)
		return valid_alias(alias, err);
	return rewrite(path, alias, NULL, err);
}
