/*
 * report.h - what the operator reads after apply and from the status,
 * output and latency commands, as pure renderers: the same input always
 * gives the same bytes (golden files in tests/report/). Measuring and
 * connecting live elsewhere (cmd/cmd_latency.c, providers/ssh/node.h).
 *
 * Ownership: structs here are filled by the caller; the *_free helpers free
 * every string they hold. Renderers append to a cg_buf.
 */
#ifndef CG_REPORT_H
#define CG_REPORT_H

#include "cost.h"
#include <stdbool.h>
#include "../util/util.h"
#include "cassconf.h"

/* --- latency -------------------------------------------------------------- */

enum cg_lat_scope { CG_LAT_ZONE, CG_LAT_DC };

/* One measured pair: zone to zone inside dc (CG_LAT_ZONE), or DC a to DC b. */
struct cg_lat_pair {
	enum cg_lat_scope scope;
	char *dc;		/* CG_LAT_ZONE: the DC; NULL for CG_LAT_DC */
	char *a, *b;		/* zones, or DC names */
	char *from, *to;	/* nodes measured between ("DC1.n1"), their addresses */
	char *from_ip, *to_ip;
	char *method;		/* "tcp:7000" or "icmp" */
	int samples;		/* answered samples; 0 = not measured (error says why) */
	double min, avg, max;	/* milliseconds */
	char *error;
};

struct cg_lat_dc {
	char *name, *region;
};

struct cg_latency {
	char *cluster;
	struct cg_lat_dc *dcs;	/* in config order */
	int ndcs;
	struct cg_lat_pair *v;
	int n;
};
void cg_latency_free(struct cg_latency *l);
/* Append a pair (strings copied; returned pointer valid until the next add). */
struct cg_lat_pair *cg_latency_add(struct cg_latency *l, enum cg_lat_scope scope,
				   const char *dc, const char *a, const char *b);

/*
 * Samples in microseconds -> min/avg/max in ms; negative samples (no answer)
 * are skipped. Returns how many counted.
 */
int cg_latency_summarise(struct cg_lat_pair *p, const long *us, int n);

/* Table: SCOPE FROM TO MIN AVG MAX SAMPLES, one row per pair. */
void cg_report_latency_table(const struct cg_latency *l, struct cg_buf *b);
/* The 2014 tool's boxes: "Intra-Cluster latencies" (one box per DC, zone
 * pairs beside it) and "Inter-Cluster latencies" (DCs side by side). */
void cg_report_latency_boxes(const struct cg_latency *l, struct cg_buf *b);
void cg_report_latency_json(const struct cg_latency *l, struct cg_buf *b);

/* --- status ---------------------------------------------------------------- */

/* Not every node Up and Normal, or fewer nodes than expected (expected < 0:
 * not checked)? Returns how many problems; none = 0. */
int cg_report_ring_problems(const struct cg_ring *r, int expected);
/* The ring per DC and rack; every node not UN carries a "<-- DOWN"-like
 * marker, and a last line says whether the ring is healthy. seen_from names
 * the node asked. color: ANSI colours for the markers. */
void cg_report_status_text(const char *cluster, const char *seen_from, const struct cg_ring *r,
			   int expected, bool color, struct cg_buf *b);
/* cost (may be NULL): the running cluster's, as "cost" (cost.h) */
void cg_report_status_json(const char *cluster, const char *seen_from, const struct cg_ring *r,
			   int expected, const struct cg_cost *cost, struct cg_buf *b);

/* --- how to connect -------------------------------------------------------- */

struct cg_conn_node {
	char *dc, *region, *zone;
	int node;		/* 1-based in its DC */
	char *name;		/* "DC1.n1" */
	char *private_ip, *public_ip;
	char *ssh;		/* full ssh command (cg_boot_ssh_cmdline) */
	char *cqlsh;		/* full cqlsh command */
};

struct cg_conn {
	char *cluster;
	struct cg_conn_node *v;
	int n;
	char *monitoring_url;	/* NULL when the cluster has no monitoring */
	/* security: TLS to clients, password authentication; absolute paths
	 * (NULL when off) of the CA certificate, the file holding the
	 * superuser's password alone on one line, and a cqlshrc using both */
	bool tls, auth;
	char *ca_file, *user, *password_file, *cqlshrc;
	struct cg_cost cost;	/* running cost and cost so far (!known: none) */
};
void cg_conn_free(struct cg_conn *c);
struct cg_conn_node *cg_conn_add(struct cg_conn *c);

/* "How to connect" per DC (the 2014 tool's section), then the monitoring URL. */
void cg_report_output_text(const struct cg_conn *c, struct cg_buf *b);
void cg_report_output_json(const struct cg_conn *c, struct cg_buf *b);

/* A section title and its rule, as the 2014 tool printed them. */
void cg_report_section(struct cg_buf *b, const char *title);

#endif
