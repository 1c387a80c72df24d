/*
 * fuzz_latte.c - libFuzzer target: what cassandgo reads of latte's output
 * (planner/stress.c): its JSON report (cg_stress_report_parse, over the JSON
 * reader of util/json.c) and, line by line, its live log
 * (cg_stress_live_parse); then the scrubbing of a secret and the renderings
 * of what was read (they print fields latte wrote).
 */
#include "fuzz.h"

#include <math.h>
#include "../../planner/stress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cg_stress_result r;
	struct cg_err err = {0};
	if (cg_stress_report_parse((const char *)data, size, &r, &err) == 0) {
		FUZZ_ASSERT(r.nsamples >= 0 && (r.nsamples == 0) == (r.samples == NULL));
		FUZZ_ASSERT(r.ops_per_s >= 0 && r.p50_ms >= 0 && r.p99_ms >= 0 && r.max_ms >= 0);
		FUZZ_ASSERT(isfinite(r.ops_per_s) && isfinite(r.p99_ms));
		for (int i = 0; i < r.nsamples; i++)
			FUZZ_ASSERT(r.samples[i].ops_per_s >= 0 && isfinite(r.samples[i].t_s));
		r.dc = cg_xstrdup("DC1");
		struct cg_stress_run run = { .cluster = "Lab", .started = "now", .workload = "write",
					     .consistency = "ONE", .rate = 100, .duration_s = 10,
					     .dir = "/r", .v = &r, .n = 1 };
		struct cg_buf b = {0};
		cg_stress_summary_json(&run, &b);
		cg_stress_html(&run, &b);
		cg_stress_table_text(&run, &b);
		cg_buf_free(&b);
		cg_stress_result_clear(&r);
	} else {
		FUZZ_ASSERT(err.code != 0 && err.msg[0]);
		FUZZ_ASSERT(r.nsamples == 0 && !r.samples && !r.first_error);	/* nothing to free */
	}
	char *text = fuzz_str(data, size);
	for (char *line = text; line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		struct cg_stress_sample s;
		if (cg_stress_live_parse(line, &s))
			FUZZ_ASSERT(s.ops_per_s >= 0 && isfinite(s.p99_ms));
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	char *copy = fuzz_str(data, size);
	size_t len = size;
	int hits = cg_stress_scrub(&copy, &len, "pw");
	/* the secret is gone, and "<redacted>" cannot make it again */
	FUZZ_ASSERT(hits >= 0 && strlen(copy) <= len && !memmem(copy, len, "pw", 2));
	free(copy);
	return 0;
}
