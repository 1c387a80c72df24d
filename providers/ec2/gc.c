/*
 * gc.c - what cassandgo made on EC2, found by its tags rather than by a
 * state file (cassandgo gc): the inventory of every tagged instance, and
 * the purge of one cluster's instances, groups and key pair in a region.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cg_ec2_inventory(struct cg_provider *p, const char *const *regions, int nregions,
		     struct cg_rset *out, struct cg_err *err)
{
	for (int r = 0; r < nregions; r++) {
		xmlDocPtr *docs;
		int nd;
		if (ec2_describe_tagged(p, regions[r], NULL, NULL, 0, true, &docs, &nd, err) < 0)
			return cg_error_wrap(err, "%s", regions[r]);
		for (int i = 0; i < nd; i++)
			for (xmlNodePtr res = cg_xml_path(ec2_root(docs[i]), "reservationSet/item"); res;
			     res = cg_xml_next(res, "item"))
				for (xmlNodePtr it = cg_xml_path(res, "instancesSet/item"); it;
				     it = cg_xml_next(it, "item")) {
					char *id = cg_xml_text(it, "instanceId");
					char *cl = ec2_tag_value(it, TAG_CLUSTER);
					if (!id || !cl || !*cl) {
						free(id), free(cl);
						continue;
					}
					struct cg_resource *m = cg_rset_new(out, CG_KIND_MACHINE, id);
					cg_res_set_id(m, id);
					m->region = cg_xstrdup(regions[r]);
					m->dc = ec2_tag_value(it, TAG_DC);
					cg_res_set(m, "cluster", cl, CG_ATTR_INFO);
					char *v[] = {
						cg_xml_text(it, "instanceType"),
						cg_xml_text(it, "instanceLifecycle"),
						cg_xml_text(it, "launchTime"),
						ec2_tag_value(it, TAG_EXPIRES_AT),
						cg_xml_text(it, "instanceState/name"),
					};
					cg_res_set(m, "node_type", v[0], CG_ATTR_INFO);
					cg_res_set(m, "market", v[1] && !strcmp(v[1], "spot") ? "spot"
										: "on-demand", CG_ATTR_INFO);
					cg_res_set(m, "launch_time", v[2], CG_ATTR_INFO);
					if (v[3] && *v[3])
						cg_res_set(m, "expires_at", v[3], CG_ATTR_INFO);
					cg_res_set(m, "state", v[4], CG_ATTR_INFO);
					for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
						free(v[k]);
					free(id), free(cl);
				}
		ec2_free_docs(docs, nd);
	}
	return 0;
}

int cg_ec2_purge(struct cg_provider *p, const char *region, struct cg_err *err)
{
	/* the instances first (the groups are in use until they are gone) */
	xmlDocPtr *docs;
	int nd;
	if (ec2_describe_cluster(p, region, NULL, 0, true, &docs, &nd, err) < 0)
		return -1;
	int rc = 0;
	for (int i = 0; i < nd && rc == 0; i++)
		for (xmlNodePtr res = cg_xml_path(ec2_root(docs[i]), "reservationSet/item");
		     res && rc == 0; res = cg_xml_next(res, "item"))
			for (xmlNodePtr it = cg_xml_path(res, "instancesSet/item"); it && rc == 0;
			     it = cg_xml_next(it, "item")) {
				struct cg_resource cur;
				memset(&cur, 0, sizeof(cur));
				char *id = cg_xml_text(it, "instanceId");
				cur.kind = CG_KIND_MACHINE;
				cur.addr = id;
				cur.id = id;
				cur.region = (char *)region;
				if (id)
					rc = ec2_machine_apply(p, NULL, CG_OP_DELETE, NULL, &cur, NULL, err);
				free(id);
			}
	ec2_free_docs(docs, nd);
	if (rc)
		return -1;
	/* the groups, by the names the cluster's groups have */
	char *net = cg_addr_region(CG_KIND_NETWORK, region);
	struct cg_resource n;
	memset(&n, 0, sizeof(n));
	n.kind = CG_KIND_NETWORK;
	n.addr = net;
	n.region = (char *)region;
	rc = ec2_network_apply(p, NULL, CG_OP_DELETE, NULL, &n, NULL, err);
	free(net);
	if (rc)
		return -1;
	/* the key pair shares the main group's name */
	char *kp = ec2_sg_name(p, region);
	struct cg_ec2_params pa = { 0 };
	cg_ec2_params_add(&pa, "KeyName", kp);
	struct cg_ec2_error e;
	rc = ec2_call(p, region, "DeleteKeyPair", &pa, 0, NULL, &e, err);
	cg_ec2_params_free(&pa);
	free(kp);
	if (rc < 0 && cg_ec2_error_notfound(&e))
		rc = 0;
	return rc < 0 ? -1 : 0;
}
