/*
 * fuzz_ec2_xml.c - libFuzzer target: EC2 answers (providers/ec2/xml.c).
 *
 * The input is one HTTP body. It goes through cg_ec2_parse_error (what a
 * non-200 answer meets) and, parsed with cg_xml_parse, through the walks the
 * provider does on successful answers. Those walks live in the provider's
 * private functions (providers/ec2/: ec2_machine_refresh, obs_from_item,
 * ec2_tag_value, ec2_parse_rules, the key pair, zone, image and VPC
 * lookups, pagination) with no public entry point short of a live HTTP
 * call, so they are mirrored here path for path, with the same buffer
 * sizes, through the exported walkers.
 */
#include "fuzz.h"

#include <libxml/parser.h>

#include "../../providers/ec2/xml.h"

static xmlNodePtr root_of(xmlDocPtr d)
{
	return d ? xmlDocGetRootElement(d) : NULL;
}

/* common.c ec2_tag_value */
static char *tag_value(xmlNodePtr it, const char *key)
{
	char kb[128];
	for (xmlNodePtr t = cg_xml_path(it, "tagSet/item"); t; t = cg_xml_next(t, "item"))
		if (!strcmp(cg_xml_textb(t, "key", kb, sizeof(kb)), key))
			return cg_xml_text(t, "value");
	return NULL;
}

/* machine.c ec2_machine_refresh + obs_from_item (DescribeInstances, RunInstances) */
static void walk_instances(xmlNodePtr root)
{
	static const char *const item_text[] = {
		"instanceId", "instanceState/name", "privateIpAddress", "ipAddress",
		"imageId", "launchTime", "stateReason/message", "placement/availabilityZone",
		"instanceType",
	};
	static const char *const tags[] = {
		"cassandgo:cluster", "cassandgo:dc", "cassandgo:node", "cassandgo:role",
		"cassandgo:host_key", "cassandgo:ami", "cassandgo:install",
		"cassandgo:cassandra_version", "Name",
	};
	for (xmlNodePtr res = cg_xml_path(root, "reservationSet/item"); res;
	     res = cg_xml_next(res, "item"))
		for (xmlNodePtr it = cg_xml_path(res, "instancesSet/item"); it;
		     it = cg_xml_next(it, "item")) {
			for (size_t i = 0; i < sizeof(item_text) / sizeof(*item_text); i++)
				free(cg_xml_text(it, item_text[i]));
			for (size_t i = 0; i < sizeof(tags) / sizeof(*tags); i++)
				free(tag_value(it, tags[i]));
		}
	/* RunInstances answers carry instancesSet at the top */
	free(cg_xml_text(root, "instancesSet/item/instanceId"));
	free(cg_xml_text(root, "instancesSet/item/placement/availabilityZone"));
}

/* sg.c ec2_parse_rules (DescribeSecurityGroups) */
static void walk_groups(xmlNodePtr root)
{
	char proto[16], buf[64];
	for (xmlNodePtr sg = cg_xml_path(root, "securityGroupInfo/item"); sg;
	     sg = cg_xml_next(sg, "item")) {
		cg_xml_textb(sg, "groupId", buf, sizeof(buf));
		cg_xml_textb(sg, "groupName", buf, sizeof(buf));
		cg_xml_textb(sg, "vpcId", buf, sizeof(buf));
		for (xmlNodePtr perm = cg_xml_path(sg, "ipPermissions/item"); perm;
		     perm = cg_xml_next(perm, "item")) {
			cg_xml_textb(perm, "ipProtocol", proto, sizeof(proto));
			int from = atoi(cg_xml_textb(perm, "fromPort", buf, sizeof(buf)));
			int to = atoi(cg_xml_textb(perm, "toPort", buf, sizeof(buf)));
			(void)from;
			(void)to;
			for (xmlNodePtr g = cg_xml_path(perm, "groups/item"); g;
			     g = cg_xml_next(g, "item"))
				cg_xml_textb(g, "groupId", buf, sizeof(buf));
			for (xmlNodePtr r = cg_xml_path(perm, "ipRanges/item"); r;
			     r = cg_xml_next(r, "item"))
				cg_xml_textb(r, "cidrIp", buf, sizeof(buf));
		}
	}
	free(cg_xml_text(root, "groupId"));	/* CreateSecurityGroup */
}

/* key pairs, zones, images, VPCs, pagination */
static void walk_others(xmlNodePtr root)
{
	char a[32], b[48], c[64];
	xmlNodePtr kp = cg_xml_path(root, "keySet/item");
	free(cg_xml_text(kp, "publicKey"));
	free(cg_xml_text(kp, "keyPairId"));
	free(cg_xml_text(kp, "keyFingerprint"));
	free(cg_xml_text(root, "keyPairId"));	/* ImportKeyPair */
	for (xmlNodePtr it = cg_xml_path(root, "availabilityZoneInfo/item"); it;
	     it = cg_xml_next(it, "item")) {
		cg_xml_textb(it, "zoneState", a, sizeof(a));
		cg_xml_textb(it, "zoneType", b, sizeof(b));
		cg_xml_textb(it, "zoneName", c, sizeof(c));
	}
	for (xmlNodePtr it = cg_xml_path(root, "imagesSet/item"); it;
	     it = cg_xml_next(it, "item")) {
		cg_xml_textb(it, "creationDate", c, sizeof(c));
		cg_xml_textb(it, "imageId", c, sizeof(c));
	}
	free(cg_xml_text(root, "vpcSet/item/vpcId"));
	free(cg_xml_text(root, "nextToken"));
}

/* Every element, by the generic walkers: cg_xml_child(NULL name),
 * cg_xml_next, cg_xml_text on the node itself. Depth is bounded by
 * libxml2's own limit (256 without XML_PARSE_HUGE). */
static void walk_all(xmlNodePtr n)
{
	for (xmlNodePtr c = cg_xml_child(n, NULL); c; c = cg_xml_next(c, NULL)) {
		free(cg_xml_text(c, ""));
		walk_all(c);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* libxml2's global state once, not inside the first run (where the
	 * leak checker would count it) */
	xmlInitParser();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;

	/* an error answer; the status varies with the input but never the
	 * bytes (which keeps the seeds meaningful) */
	struct cg_ec2_error e;
	long status = size % 3 == 0 ? 400 : size % 3 == 1 ? 503 : 0;
	cg_ec2_parse_error(status, body, size, &e);
	FUZZ_ASSERT(e.http_status == status);
	FUZZ_ASSERT(memchr(e.code, 0, sizeof(e.code)) && e.code[0]);
	FUZZ_ASSERT(memchr(e.message, 0, sizeof(e.message)));
	FUZZ_ASSERT(memchr(e.request_id, 0, sizeof(e.request_id)));
	/* all three are printed: no control bytes (NonXml: printable ASCII) */
	const char *const printed[] = {e.code, e.message, e.request_id};
	for (size_t f = 0; f < sizeof(printed) / sizeof(*printed); f++)
		for (const char *p = printed[f]; *p; p++)
			FUZZ_ASSERT((unsigned char)*p >= 0x20);
	(void)cg_ec2_error_retryable(&e);
	(void)cg_ec2_error_throttled(&e);
	(void)cg_ec2_error_notfound(&e);
	(void)cg_ec2_error_duplicate(&e);

	/* a successful answer */
	xmlDocPtr d = cg_xml_parse(body, size);
	if (!d)
		return 0;
	xmlNodePtr root = root_of(d);
	walk_instances(root);
	walk_groups(root);
	walk_others(root);
	walk_all(root);
	/* a path segment longer than cg_xml_path's buffer */
	FUZZ_ASSERT(!cg_xml_path(root, "a/"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/b"));
	xmlFreeDoc(d);
	return 0;
}
