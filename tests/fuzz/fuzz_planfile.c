/*
 * fuzz_planfile.c - libFuzzer target: the saved-plan reader
 * (cmd/planfile.c cg_planfile_read), which reads a file the operator hands
 * to `apply CLUSTER FILE`.
 */
#include "fuzz.h"

#include "../../cmd/planfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_planfile pf;
	struct cg_err err = {0};
	if (cg_planfile_read(fuzz_path(data, size), &pf, &err) == 0) {
		/* the fields are C strings within their arrays */
		FUZZ_ASSERT(memchr(pf.cluster, 0, sizeof(pf.cluster)));
		FUZZ_ASSERT(memchr(pf.lineage, 0, sizeof(pf.lineage)));
		FUZZ_ASSERT(memchr(pf.config_hash, 0, sizeof(pf.config_hash)));
		FUZZ_ASSERT(memchr(pf.digest, 0, sizeof(pf.digest)));
		/* accepted = complete: every text field was given ("lineage -"
		 * when there was no state) */
		FUZZ_ASSERT(pf.cluster[0] && pf.lineage[0] && pf.config_hash[0] && pf.digest[0]);
	} else {
		FUZZ_ASSERT(err.code == CG_EXIT_USAGE);
	}
	return 0;
}
