/*
 * price.c - lookups in the EC2 price table (see price.h). The table is
 * small (~500 types): a scan per lookup, no index, no state.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "price.h"
#include "ec2.h"
#include "../../util/util.h"

/* The line starting at p (up to end): its length without the newline. */
static size_t line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return (size_t)((nl ? nl : end) - p);
}

/* Field i (0-based, tab-separated) of the line [p, p+n): *f and *fl. */
static int field(const char *p, size_t n, int i, const char **f, size_t *fl)
{
	const char *end = p + n;
	for (; i > 0; i--) {
		const char *t = memchr(p, '\t', (size_t)(end - p));
		if (!t)
			return -1;
		p = t + 1;
	}
	const char *t = memchr(p, '\t', (size_t)(end - p));
	*f = p;
	*fl = (size_t)((t ? t : end) - p);
	return 0;
}

static int price_of(const char *s, size_t n, double *out)
{
	char buf[32];
	if (!n || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *e;
	double v = strtod(buf, &e);
	if (*e || !(v >= 0 && v < 1e6))
		return -1;
	*out = v;
	return 0;
}

int cg_ec2_price(const char *table, size_t len, const char *region, const char *type,
		 double *ondemand, double *spot)
{
	const char *p = table, *end = table + len;
	size_t rl = strlen(region), tl = strlen(type);
	int col = -1;
	if (!rl || !tl)
		return 1;
	while (p < end) {
		size_t n = line_len(p, end);
		const char *next = p + n + (p + n < end);
		if (n == 0 || *p == '#') {
			p = next;
			continue;
		}
		const char *f;
		size_t fl;
		if (col < 0) {		/* the header: find the region's column */
			if (field(p, n, 0, &f, &fl) || fl != 4 || memcmp(f, "type", 4))
				return -1;
			for (int i = 1; field(p, n, i, &f, &fl) == 0; i++)
				if (fl == rl && !memcmp(f, region, rl)) {
					col = i;
					break;
				}
			if (col < 0)
				return 1;
		} else if (field(p, n, 0, &f, &fl) == 0 && fl == tl && !memcmp(f, type, tl)) {
			if (field(p, n, col, &f, &fl))
				return -1;
			if (fl == 1 && *f == '-')
				return 1;
			const char *colon = memchr(f, ':', fl);
			if (!colon || price_of(f, (size_t)(colon - f), ondemand) ||
			    price_of(colon + 1, fl - (size_t)(colon - f) - 1, spot))
				return -1;
			return 0;
		}
		p = next;
	}
	return col < 0 ? -1 : 1;
}

char *cg_ec2_price_source(const char *table, size_t len)
{
	static const char key[] = "# source: ";
	const char *p = table, *end = table + len;
	while (p < end && *p == '#') {
		size_t n = line_len(p, end);
		if (n > sizeof(key) - 1 && !memcmp(p, key, sizeof(key) - 1))
			return cg_xasprintf("%.*s", (int)(n - (sizeof(key) - 1)), p + sizeof(key) - 1);
		p += n + (p + n < end);
	}
	return cg_xstrdup("unknown");
}

/* The root volume the AMI brings (cassandgo attaches no other): 8 GiB of
 * gp3 at its us-east-1 list price, $0.08 per GB-month (730 hours); other
 * regions differ by a few tenths of a cent a day per node. */
#define ROOT_VOLUME_USD_H (8 * 0.08 / 730)

int cg_ec2_hourly(const struct cg_resource *m, double *usd_h, struct cg_err *err)
{
	const char *type = cg_res_get(m, "node_type"), *region = m->region;
	double od = 0, spot = 0;
	int rc = cg_ec2_price((const char *)cg_ec2_prices_tsv, cg_ec2_prices_tsv_len,
			      region ? region : "", type ? type : "", &od, &spot);
	if (rc != 0) {
		cg_error(err, CG_EXIT_ERROR, "%s in %s (not in the price table)",
			 type ? type : "?", region ? region : "?");
		return 1;
	}
	/* a stopped instance (parked) bills its EBS volume only */
	const char *pw = cg_res_get(m, "power"), *st = cg_res_get(m, "state");
	if (pw ? !strcmp(pw, "off") : st && (!strcmp(st, "stopped") || !strcmp(st, "stopping"))) {
		*usd_h = ROOT_VOLUME_USD_H;
		return 0;
	}
	/* the spot estimate for a spot instance, or one planned as spot (a
	 * spot-or-on-demand one may get on-demand: the refresh then says) */
	const char *mk = cg_res_get(m, "market"), *cap = cg_res_get(m, "capacity");
	bool is_spot = mk ? !strcmp(mk, "spot") : cap && !strncmp(cap, "spot", 4);
	*usd_h = (is_spot ? spot : od) + ROOT_VOLUME_USD_H;
	return 0;
}

char *cg_ec2_prices_source(void)
{
	return cg_ec2_price_source((const char *)cg_ec2_prices_tsv, cg_ec2_prices_tsv_len);
}
