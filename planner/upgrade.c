/*
 * upgrade.c - which release changes a rolling upgrade allows (upgrade.h).
 */
#include "upgrade.h"

#include <ctype.h>
#include <stdio.h>

bool cg_upgrade_parse(const char *s, struct cg_release *out)
{
	unsigned v[3];
	int used = 0;
	if (!s || !isdigit((unsigned char)s[0]) ||
	    sscanf(s, "%3u.%3u.%3u%n", &v[0], &v[1], &v[2], &used) != 3 || s[used])
		return false;
	/* "%3u" stops after 3 digits: "1234.0.0" leaves used short of the end;
	 * a sign or space inside is refused by the digit checks below */
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return false;
	out->major = v[0];
	out->minor = v[1];
	out->patch = v[2];
	return true;
}

int cg_upgrade_cmp(const struct cg_release *a, const struct cg_release *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	return 0;
}

int cg_upgrade_check(const char *what, const char *from, const char *to, struct cg_err *err)
{
	struct cg_release f, t;
	if (!cg_upgrade_parse(from, &f))
		return cg_error(err, CG_EXIT_CONFIG, "%s runs Cassandra '%s', which is not a release "
				"number X.Y.Z: cannot plan an upgrade from it", what, from ? from : "");
	if (!cg_upgrade_parse(to, &t))
		return cg_error(err, CG_EXIT_CONFIG, "cassandra_version '%s' is not a release number "
				"X.Y.Z", to ? to : "");
	if (cg_upgrade_cmp(&t, &f) < 0)
		return cg_error(err, CG_EXIT_CONFIG,
				"cassandra_version %s is older than the %s that %s runs: a downgrade "
				"is refused (a node cannot read what a newer release wrote); set "
				"cassandra_version to %s or later", to, from, what, from);
	if (t.major > f.major + 1)
		return cg_error(err, CG_EXIT_CONFIG,
				"cassandra_version %s jumps over a major version from the %s that %s "
				"runs: Cassandra upgrades one major version at a time; set "
				"cassandra_version to a %u.x release first, apply, then to %s",
				to, from, what, f.major + 1, to);
	return 0;
}

bool cg_upgrade_format_changes(const char *from, const char *to)
{
	struct cg_release f, t;
	return cg_upgrade_parse(from, &f) && cg_upgrade_parse(to, &t) &&
	       (f.major != t.major || f.minor != t.minor);
}
