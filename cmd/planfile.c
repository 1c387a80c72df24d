/* planfile.c - saved plans (see planfile.h). */
#include "planfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * FILE is the operator's to name, and may be anywhere: refuse a symbolic
 * link (they may mean its target, which we would not write; or it was
 * planted to have root clobber that target) and anything but a regular file
 * (`--out /dev/null` must not replace the device node with a plan).
 */
static int out_path_ok(const char *path, struct cg_err *err)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return cg_error(err, CG_EXIT_ERROR, "cannot write the plan to %s: %s", path,
				strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return cg_error(err, CG_EXIT_USAGE, "refusing to write the plan to %s: it is a "
				"symbolic link; remove it or name another file", path);
	if (!S_ISREG(st.st_mode))
		return cg_error(err, CG_EXIT_USAGE, "refusing to write the plan to %s: it exists "
				"and is not a regular file; name another file", path);
	return 0;
}

int cg_planfile_write(const char *path, const struct cg_config *cfg, struct cg_state *st,
		      const struct cg_plan *plan, unsigned kinds, bool destroy,
		      struct cg_err *err)
{
	struct cg_state_meta meta = {.serial = 0};
	char ch[17], dg[17];
	struct cg_buf b = {0};

	if (out_path_ok(path, err) < 0)
		return -1;
	if (st && cg_state_meta(st, &meta, err) < 0)
		return -1;
	cg_hash_hex(cfg->hash, ch);
	cg_hash_hex(cg_plan_digest(plan), dg);
	cg_buf_addf(&b, "cassandgo-plan 1\ncluster %s\nlineage %s\nserial %lld\n"
		    "config_hash %s\ndigest %s\nkinds %u\ndestroy %d\n---\n",
		    plan->cluster, meta.lineage[0] ? meta.lineage : "-", (long long)meta.serial,
		    ch, dg, kinds, destroy ? 1 : 0);
	cg_plan_render_text(plan, false, &b);
	/* temp (O_EXCL|O_NOFOLLOW) + fsync + rename; 0600: a plan shows the
	 * cluster's addresses and settings */
	int rc = cg_file_write_atomic(path, b.data, b.len, 0600, err);
	cg_buf_free(&b);
	return rc;
}

int cg_planfile_read(const char *path, struct cg_planfile *pf, struct cg_err *err)
{
	char *text;
	memset(pf, 0, sizeof(*pf));
	if (cg_file_read(path, &text, NULL, err) < 0)
		return -1;
	/* Each of the 7 fields exactly once: a count of lines let a repeated
	 * line stand in for a lost one (found by tests/fuzz/fuzz_planfile.c). */
	unsigned seen = 0, again = 0;
	int rc = 0;
	if (strncmp(text, "cassandgo-plan 1\n", 17)) {
		rc = cg_error(err, CG_EXIT_USAGE, "%s is not a saved cassandgo plan", path);
		goto out;
	}
	char *save = NULL;
	for (char *line = strtok_r(text + 17, "\n", &save); line && strcmp(line, "---");
	     line = strtok_r(NULL, "\n", &save)) {
		int d, f = -1;
		if (sscanf(line, "cluster %255s", pf->cluster) == 1)
			f = 0;
		else if (sscanf(line, "lineage %63s", pf->lineage) == 1)
			f = 1;
		else if (sscanf(line, "serial %lld", &pf->serial) == 1)
			f = 2;
		else if (sscanf(line, "config_hash %16s", pf->config_hash) == 1)
			f = 3;
		else if (sscanf(line, "digest %16s", pf->digest) == 1)
			f = 4;
		else if (sscanf(line, "kinds %u", &pf->kinds) == 1)
			f = 5;
		else if (sscanf(line, "destroy %d", &d) == 1) {
			pf->destroy = d != 0;
			f = 6;
		}
		if (f >= 0) {
			again |= seen & (1u << f);
			seen |= 1u << f;
		}
	}
	if (seen != 0x7f || again)
		rc = cg_error(err, CG_EXIT_USAGE, "%s: saved plan is incomplete or damaged", path);
out:
	free(text);
	return rc;
}
