/*
 * fuzz_nodetool.c - libFuzzer target: the `nodetool status`,
 * `describecluster`, `netstats` and refused `rebuild` parsers
 * (planner/cassconf.c cg_nodetool_status_parse, cg_nodetool_schema_parse,
 * cg_nodetool_receiving_parse, cg_nodetool_rebuild_done), which read what
 * a node prints over SSH.
 */
#include "fuzz.h"

#include "../../planner/cassconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size);
	struct cg_ring ring;
	struct cg_err err = {0};
	if (cg_nodetool_status_parse(text, &ring, &err) == 0) {
		FUZZ_ASSERT(ring.n > 0 && ring.v);
		for (int i = 0; i < ring.n; i++) {
			const struct cg_ring_node *nd = &ring.v[i];
			/* what the callers dereference without checking */
			FUZZ_ASSERT(nd->dc && nd->address && nd->load && nd->host_id && nd->rack);
			FUZZ_ASSERT(nd->address[0] && nd->host_id[0]);
		}
		cg_ring_free(&ring);
	} else {
		FUZZ_ASSERT(err.code != 0 && err.msg[0]);
		FUZZ_ASSERT(ring.n == 0 && !ring.v);	/* nothing to free on error */
	}
	int unreachable = -1, versions = cg_nodetool_schema_parse(text, &unreachable);
	FUZZ_ASSERT(versions >= -1 && unreachable >= 0);
	struct cg_receiving rv;
	if (cg_nodetool_receiving_parse(text, &rv) == 0)
		FUZZ_ASSERT(rv.files >= 0 && rv.files_done >= 0 && rv.bytes >= 0 &&
			    rv.bytes_done >= 0);	/* sums of counts: never negative */
	int done = cg_nodetool_rebuild_done(text);
	FUZZ_ASSERT(done >= -1 && done <= 1);
	free(text);
	return 0;
}
