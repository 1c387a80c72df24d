/*
 * price.h - what EC2 instances cost, from the table kept in the tree
 * (providers/ec2/prices.tsv: the ec2instances.info data, dated by the
 * version of the module it came from; `make prices` regenerates it).
 *
 * Format: '#' comment lines, then a header `type<TAB>REGION...`, then one
 * line per instance type with a cell per region, `ON_DEMAND:SPOT` in USD
 * per hour or `-` when the type is not sold there.
 */
#ifndef CG_EC2_PRICE_H
#define CG_EC2_PRICE_H

#include <stddef.h>

/* The embedded table (generated from prices.tsv at build time). */
extern const unsigned char cg_ec2_prices_tsv[];
extern const size_t cg_ec2_prices_tsv_len;

/*
 * Prices of one instance of type in region from table (len bytes, not
 * NUL-terminated): on-demand and the spot estimate, USD per hour. Returns 0,
 * 1 when the table has no price for them, -1 when the table is malformed.
 */
int cg_ec2_price(const char *table, size_t len, const char *region, const char *type,
		 double *ondemand, double *spot);

/* The table's source line (without "# source: "), or "unknown". Caller frees. */
char *cg_ec2_price_source(const char *table, size_t len);

struct cg_resource;
struct cg_err;
/* The provider ops hourly and price_source (struct cg_provider_ops) of EC2:
 * on-demand instance price plus its root volume; a stopped instance (power
 * off, or state stopped: parked) its root volume only. */
int cg_ec2_hourly(const struct cg_resource *m, double *usd_h, struct cg_err *err);
char *cg_ec2_prices_source(void);

#endif
