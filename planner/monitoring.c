/*
 * monitoring.c - Prometheus and exporter configuration (see monitoring.h).
 */
#include "monitoring.h"

#include <stdlib.h>
#include <string.h>

int cg_monitoring_dc(const struct cg_cluster *c)
{
	for (int d = 0; d < c->ndcs; d++)
		if (c->dcs[d].monitoring)
			return d;
	return -1;
}

/* Count and Value attributes of a few metric groups only: exporting every
 * Cassandra MBean makes a scrape take seconds. Object names keep their key
 * order (type, [scope,] name), which the patterns rely on. No single quote:
 * the text travels inside a single-quoted shell variable of cgnode.env. */
const char *cg_monitoring_jmx_config(void)
{
	return
"lowercaseOutputName: true\n"
"lowercaseOutputLabelNames: true\n"
"includeObjectNames:\n"
"  - \"org.apache.cassandra.metrics:type=Storage,*\"\n"
"  - \"org.apache.cassandra.metrics:type=ClientRequest,*\"\n"
"  - \"org.apache.cassandra.metrics:type=Compaction,*\"\n"
"  - \"org.apache.cassandra.metrics:type=CommitLog,*\"\n"
"rules:\n"
"  - pattern: \"org.apache.cassandra.metrics<type=(\\\\w+), scope=(\\\\w+), name=(\\\\w+)><>(Count|Value)\"\n"
"    name: cassandra_$1_$3\n"
"    type: GAUGE\n"
"    labels:\n"
"      scope: \"$2\"\n"
"  - pattern: \"org.apache.cassandra.metrics<type=(\\\\w+), name=(\\\\w+)><>(Count|Value)\"\n"
"    name: cassandra_$1_$2\n"
"    type: GAUGE\n";
}

static const char *target_of(const struct cg_resource *m, const char *mon_region)
{
	const char *priv = cg_res_get(m, "private_ip");
	const char *pub = cg_res_get(m, "public_ip");
	if (m->region && mon_region && strcmp(m->region, mon_region) && pub && *pub)
		return pub;
	return priv && *priv ? priv : NULL;
}

int cg_monitoring_targets(const struct cg_cluster *c, const struct cg_rset *known,
			  char ***out)
{
	int md = cg_monitoring_dc(c), n = 0, total = 0;
	*out = NULL;
	if (md < 0)
		return 0;
	for (int d = 0; d < c->ndcs; d++)
		total += c->dcs[d].nodes;
	char **v = cg_xcalloc((size_t)total + 1, sizeof(char *));
	for (int d = 0; d < c->ndcs; d++)
		for (int i = 1; i <= c->dcs[d].nodes; i++) {
			char *a = cg_addr_node(CG_KIND_MACHINE, c->dcs[d].name, i);
			const struct cg_resource *m = known ? cg_rset_find(known, a) : NULL;
			free(a);
			const char *t = m ? target_of(m, c->dcs[md].region) : NULL;
			if (!t) {
				cg_monitoring_targets_free(v, n);
				return -1;
			}
			v[n++] = cg_xstrdup(t);
		}
	*out = v;
	return n;
}

void cg_monitoring_targets_free(char **v, int n)
{
	if (!v)
		return;
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void job(struct cg_buf *b, const char *name, int port, char *const *t, int n)
{
	cg_buf_addf(b, "  - job_name: %s\n    static_configs:\n      - targets:\n", name);
	for (int i = 0; i < n; i++)
		cg_buf_addf(b, "          - \"%s:%d\"\n", t[i], port);
	/* instance = the node's address, the same label in both jobs */
	cg_buf_adds(b, "    relabel_configs:\n"
		    "      - source_labels: [__address__]\n"
		    "        regex: \"([^:]+):\\\\d+\"\n"
		    "        target_label: instance\n");
}

char *cg_monitoring_prometheus_yml(const char *cluster, char *const *targets, int n)
{
	struct cg_buf b = {0};
	cg_buf_adds(&b, "# prometheus.yml, rendered by cassandgo\n");
	cg_buf_addf(&b, "global:\n  scrape_interval: 10s\n  scrape_timeout: 5s\n"
		    "  external_labels:\n    cluster: \"%s\"\n", cluster);
	cg_buf_adds(&b, "scrape_configs:\n");
	job(&b, "cassandra", CG_MON_JMX_EXPORTER_PORT, targets, n);
	job(&b, "node", CG_MON_NODE_EXPORTER_PORT, targets, n);
	return cg_buf_detach(&b);
}
