/*
 * monitoring.h - the cluster's monitoring (the modern `opscenter: yes`):
 * Prometheus on node 1 of the monitoring DC scrapes every node's Cassandra
 * metrics (Prometheus JMX exporter java agent) and host metrics (node
 * exporter). Pure rendering; the bootstrap provider runs it.
 *
 * Ownership: every char * returned is the caller's to free.
 */
#ifndef CG_MONITORING_H
#define CG_MONITORING_H

#include <stdbool.h>
#include "config.h"
#include "model.h"

#define CG_MON_PROMETHEUS_PORT 9090
#define CG_MON_NODE_EXPORTER_PORT 9100
#define CG_MON_JMX_EXPORTER_PORT 7070
/* io.prometheus.jmx:jmx_prometheus_javaagent on Maven Central, pinned. */
#define CG_MON_JMX_EXPORTER_VERSION "1.0.1"

/* Index of the DC that has monitoring; -1 when the cluster has none. */
int cg_monitoring_dc(const struct cg_cluster *c);

/* The JMX exporter's config (jmx_exporter.yaml): a few Cassandra metric
 * groups as cassandra_<type>_<name>, plus the agent's JVM metrics. */
const char *cg_monitoring_jmx_config(void);

/*
 * Scrape addresses of every node, in config order (DC, then node): the
 * private address, or the public one for a node in another region than the
 * monitoring DC. Returns n (>= 0) when every address is known, -1 when some
 * machine's address is not (yet) known; *out is then NULL. Free with
 * cg_monitoring_targets_free.
 */
int cg_monitoring_targets(const struct cg_cluster *c, const struct cg_rset *known,
			  char ***out);
void cg_monitoring_targets_free(char **v, int n);

/* prometheus.yml for those targets (jobs `cassandra` on the JMX exporter
 * port and `node` on the node exporter port; label `instance` = address). */
char *cg_monitoring_prometheus_yml(const char *cluster, char *const *targets, int n);

#endif
