/*
 * cass-render - render every node's conf/ for the real-node integration
 * test through the same path the bootstrap provider takes: machine
 * resources -> cg_cassconf_spec -> cg_cassconf_render.
 *
 *   cass-render ROOT LIB CLUSTER HEAP NUM_TOKENS DC:ADDR/RACK[,ADDR/RACK..]...
 *
 * Node i of DC d gets base_dir ROOT/<d>.n<i> and its files in
 * ROOT/<d>.n<i>/conf/ (plus .hash, the 16-hex xxHash). First node of each
 * DC is its seed; the cluster is new (initial tokens, no bootstrap).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../util/util.h"
#include "cassconf.h"
#include "config.h"
#include "model.h"

static int put(const char *dir, const char *name, const char *text, struct cg_err *err)
{
	char *path = cg_xasprintf("%s/%s", dir, name);
	int rc = cg_file_write_atomic(path, text, strlen(text), 0644, err);

	free(path);
	return rc;
}

static int parse_status(void)
{
	struct cg_buf in = {0};
	struct cg_ring ring;
	struct cg_err err = {0};
	char chunk[4096];
	size_t n;
	int i;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		cg_buf_add(&in, chunk, n);
	if (cg_nodetool_status_parse(in.data ? in.data : "", &ring, &err) < 0) {
		fprintf(stderr, "cass-render: %s\n", err.msg);
		cg_buf_free(&in);
		return 1;
	}
	for (i = 0; i < ring.n; i++)
		printf("%s %s %c%c %s %d %.1f\n", ring.v[i].dc, ring.v[i].address,
		       ring.v[i].status, ring.v[i].state, ring.v[i].rack,
		       ring.v[i].tokens, ring.v[i].owns);
	cg_ring_free(&ring);
	cg_buf_free(&in);
	return 0;
}

int main(int argc, char **argv)
{
	struct cg_cluster c = {0};
	struct cg_rset known;
	struct cg_err err = {0};
	int i, d, n, rc = 1;

	if (argc == 2 && !strcmp(argv[1], "--parse"))
		return parse_status();
	if (argc < 7) {
		fprintf(stderr, "usage: cass-render ROOT LIB CLUSTER HEAP NUM_TOKENS DC:ADDR/RACK[,..]...\n");
		return 64;
	}
	cg_rset_init(&known);
	c.name = argv[3];
	c.heap = argv[4];
	c.num_tokens = atoi(argv[5]);
	c.provider = CG_PROVIDER_LOCAL;
	/* This test is about the jars, the JVM flags and the ring; TLS and
	 * authentication (which need the bootstrap provider's certificates)
	 * are tested end to end (tests/e2e). */
	c.security_off = true;
	c.ndcs = argc - 6;
	c.dcs = cg_xcalloc((size_t)c.ndcs, sizeof(*c.dcs));
	for (d = 0; d < c.ndcs; d++) {
		char *spec = cg_xstrdup(argv[6 + d]), *save = NULL, *tok;
		char *colon = strchr(spec, ':');

		if (!colon) {
			fprintf(stderr, "cass-render: bad DC spec %s\n", argv[6 + d]);
			free(spec);
			goto out;
		}
		*colon = '\0';
		c.dcs[d].name = cg_xstrdup(spec);
		c.dcs[d].region = "local";
		c.dcs[d].seeds = 1;
		for (n = 0, tok = strtok_r(colon + 1, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			char *slash = strchr(tok, '/');
			char *addr = cg_addr_node(CG_KIND_MACHINE, c.dcs[d].name, ++n);
			struct cg_resource *m = cg_rset_new(&known, CG_KIND_MACHINE, addr);

			free(addr);
			if (slash)
				*slash++ = '\0';
			cg_res_set(m, "private_ip", tok, 0);
			cg_res_set(m, "public_ip", tok, 0);
			cg_res_set(m, "zone", slash ? slash : "rack1", 0);
			cg_res_setf(m, "base_dir", 0, "%s/%s.n%d", argv[1], c.dcs[d].name, n);
			cg_res_set(m, "lib_dir", argv[2], 0);
		}
		c.dcs[d].nodes = n;
		free(spec);
	}
	for (d = 0; d < c.ndcs; d++) {
		for (i = 1; i <= c.dcs[d].nodes; i++) {
			struct cg_node_spec s;
			struct cg_node_files f;
			char hex[17], *conf;
			int ok = cg_cassconf_spec(&c, d, i, &known, true, &s, &err);

			if (ok != 1) {
				cg_cassconf_spec_clear(&s);
				if (ok == 0)
					cg_error(&err, 1, "spec incomplete for %s.n%d", c.dcs[d].name, i);
				goto out;
			}
			if (cg_cassconf_render(&s, &f, &err) < 0) {
				cg_cassconf_spec_clear(&s);
				goto out;
			}
			conf = cg_xasprintf("%s/conf", s.base_dir);
			cg_hash_hex(f.hash, hex);
			if (cg_mkdir_p(conf, 0755, &err) < 0 ||
			    put(conf, "cassandra.yaml", f.cassandra_yaml, &err) < 0 ||
			    put(conf, "cassandra-rackdc.properties", f.rackdc, &err) < 0 ||
			    put(conf, "cgnode.env", f.env, &err) < 0 ||
			    put(conf, "logback.xml", f.logback, &err) < 0 ||
			    put(conf, ".hash", hex, &err) < 0) {
				free(conf);
				cg_node_files_free(&f);
				cg_cassconf_spec_clear(&s);
				goto out;
			}
			printf("%s %s\n", s.base_dir, hex);
			free(conf);
			cg_node_files_free(&f);
			cg_cassconf_spec_clear(&s);
		}
	}
	rc = 0;
out:
	if (rc)
		fprintf(stderr, "cass-render: %s\n", err.msg);
	for (d = 0; d < c.ndcs; d++)
		free(c.dcs[d].name);
	free(c.dcs);
	cg_rset_free(&known);
	return rc;
}
