/*
 * fuzz_state_attrs.c - libFuzzer target: the decoder of the attributes a
 * state file stores per resource (state/state.c, cg_state_attrs_decode). A
 * state file is outside input: it may be old, hand-edited or damaged.
 */
#include "fuzz.h"

#include "../../state/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size);
	struct cg_resource r;
	cg_res_init(&r, CG_KIND_MACHINE, "machine.DC1.n1");
	int rc = cg_state_attrs_decode(text, &r);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	FUZZ_ASSERT(r.nattrs >= 0 && r.nattrs <= r.cattrs);
	for (int i = 0; i < r.nattrs; i++)
		FUZZ_ASSERT(r.attrs[i].key);	/* a null key is refused */
	/* what the planner does next with a loaded record */
	if (rc == 0 && r.nattrs)
		(void)cg_res_get(&r, r.attrs[r.nattrs - 1].key);
	cg_res_clear(&r);
	free(text);
	return 0;
}
