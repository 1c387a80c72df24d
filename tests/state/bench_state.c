/*
 * bench_state.c - state store figures (make bench-state):
 *   put: 4,000 resources x 8 attributes, one transaction (and fsync) each;
 *   put of unchanged content (the re-apply case);
 *   cg_state_put_all of the 4,000 changed, one transaction (the refresh case);
 *   load of the 4,000 (what plan reads), best of 5.
 * Usage: bench_state [DIR] (a temp dir under /tmp by default).
 */
#include "../../state/state.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* CPU time of this process in microseconds: steadier than the wall clock on
 * a busy machine. */
static int64_t cpu_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *kinds[] = { "machine", "install", "config", "service" };

static void build(struct cg_resource *r, int i)
{
	int node = i / 4, dc = node / 100;
	char *addr = cg_xasprintf("%s.DC%d.n%d", kinds[i % 4], dc + 1, node % 100 + 1);
	cg_res_init(r, (enum cg_kind)cg_kind_parse(kinds[i % 4]), addr);
	free(addr);
	r->region = cg_xasprintf("region-%d", dc);
	r->dc = cg_xasprintf("DC%d", dc + 1);
	r->node = node % 100 + 1;
	if (i % 4 == 0)
		r->id = cg_xasprintf("i-%017x", i);
	for (int k = 0; k < 8; k++)
		cg_res_setf(r, k == 0 ? "type" : k == 1 ? "private_ip" : k == 2 ? "public_ip" :
			    k == 3 ? "zone" : k == 4 ? "hash" : k == 5 ? "version" :
			    k == 6 ? "seed" : "rack", (unsigned)(k % 3),
			    "value-%d-%d-0123456789", i, k);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

int main(int argc, char **argv)
{
	char dir[64] = "/tmp/cg-bench-state.XXXXXX";
	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else if (!mkdtemp(dir))
		return 1;
	char *path = cg_xasprintf("%s/state.db", dir);
	struct cg_state *st;
	struct cg_err err = {0};
	int rc = 1;
	if (cg_state_open(&st, path, 1, &err) != 0) {
		fprintf(stderr, "bench_state: %s\n", err.msg);
		goto out;
	}
	enum { N = 4000 };
	struct cg_resource *v = cg_xcalloc(N, sizeof(*v));
	for (int i = 0; i < N; i++)
		build(&v[i], i);

	int64_t t0 = cg_now_ms();
	for (int i = 0; i < N; i++)
		if (cg_state_put(st, "bench", &v[i], &err) != 0)
			goto fail;
	int64_t put_ms = cg_now_ms() - t0;
	t0 = cg_now_ms();
	for (int i = 0; i < N; i++)
		if (cg_state_put(st, "bench", &v[i], &err) != 0)
			goto fail;
	int64_t same_ms = cg_now_ms() - t0;

	struct cg_rset all;
	cg_rset_init(&all);
	for (int i = 0; i < N; i++) {
		struct cg_resource *r = cg_rset_add(&all, &v[i]);
		cg_res_set(r, "hash", "changed", 0);
	}
	int changed;
	t0 = cg_now_ms();
	int prc = cg_state_put_all(st, "bench", &all, &changed, &err);
	int64_t all_ms = cg_now_ms() - t0;
	cg_rset_free(&all);
	if (prc != 0)
		goto fail;

	int64_t best = -1, first = -1, best_cpu = -1;
	for (int round = 0; round < 5; round++) {
		struct cg_rset set;
		cg_rset_init(&set);
		t0 = cg_now_ms();
		int64_t c0 = cpu_us();
		if (cg_state_load(st, "bench", &set, &err) != 0)
			goto fail;
		int64_t ms = cg_now_ms() - t0, cpu = cpu_us() - c0;
		if (best_cpu < 0 || cpu < best_cpu)
			best_cpu = cpu;
		if (set.n != N) {
			fprintf(stderr, "bench_state: loaded %d, want %d\n", set.n, N);
			cg_rset_free(&set);
			goto done;
		}
		cg_rset_free(&set);
		if (first < 0)
			first = ms;
		if (best < 0 || ms < best)
			best = ms;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("state put     %d resources x 8 attrs: %lld ms (%.2f ms/put, fsync each)\n",
	       N, (long long)put_ms, (double)put_ms / N);
	printf("state put     unchanged re-put:       %lld ms (%.3f ms/put)\n",
	       (long long)same_ms, (double)same_ms / N);
	printf("state put_all %d changed, one transaction: %lld ms (%d changed)\n",
	       N, (long long)all_ms, changed);
	printf("state load    %d resources x 8 attrs: %lld ms first, %lld ms best of 5"
	       " (%.1f ms CPU)\n", N, (long long)first, (long long)best, best_cpu / 1000.0);
	printf("peak RSS      %ld MB\n", ru.ru_maxrss / 1024);
	rc = 0;
	goto done;
fail:
	fprintf(stderr, "bench_state: %s\n", err.msg);
done:
	for (int i = 0; i < N; i++)
		cg_res_clear(&v[i]);
	free(v);
	cg_state_close(st);
out:
	if (argc <= 1)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(path);
	return rc;
}
