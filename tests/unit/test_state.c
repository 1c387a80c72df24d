/*
 * test_state.c - the state store against real SQLite files in a temp dir:
 * create/open/meta, put/load, serial rules, duplicates, lock contention
 * between two processes, a crash between pending and done, migration from
 * schema 1 (tests/state/schema_v1.sql), a newer schema refused, backups,
 * integrity check, concurrent writers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../state/state.h"

struct fx {
	char dir[64];
	char path[128];		/* <dir>/sub/state.db: open must create sub */
	struct cg_state *st;
};

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/cg-state-test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/sub/state.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	cg_state_close(f->st);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static struct cg_state *open_new(struct fx *f)
{
	struct cg_err err = {0};
	if (cg_state_open(&f->st, f->path, 1, &err) != 0)
		fail_msg("open: %s", err.msg);
	return f->st;
}

static int64_t serial_of(struct cg_state *st)
{
	struct cg_state_meta m;
	struct cg_err err = {0};
	assert_int_equal(cg_state_meta(st, &m, &err), 0);
	return m.serial;
}

/* Raw SQL on a file, outside the store (fixtures, inspection). */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("sql: %s", msg);
	sqlite3_close(db);
}

static long long raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = -1;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static struct cg_resource machine(const char *addr, const char *id)
{
	struct cg_resource r;
	cg_res_init(&r, CG_KIND_MACHINE, addr);
	r.region = cg_xstrdup("eu-west-1");
	r.dc = cg_xstrdup("DC1");
	r.node = 3;
	cg_res_set_id(&r, id);
	cg_res_set(&r, "type", "m5.large", CG_ATTR_FORCENEW);
	cg_res_set(&r, "private_ip", "10.0.0.13", CG_ATTR_COMPUTED);
	cg_res_set(&r, "public_ip", NULL, CG_ATTR_COMPUTED);
	cg_res_set(&r, "zone", "eu-west-1a", CG_ATTR_FORCENEW | CG_ATTR_INFO);
	return r;
}

static void put_ok(struct cg_state *st, const char *cluster, const struct cg_resource *r)
{
	struct cg_err err = {0};
	if (cg_state_put(st, cluster, r, &err) != 0)
		fail_msg("put %s: %s", r->addr, err.msg);
}

static void assert_res_equal(const struct cg_resource *a, const struct cg_resource *b)
{
	assert_string_equal(a->addr, b->addr);
	assert_int_equal(a->kind, b->kind);
	assert_true((a->region == NULL) == (b->region == NULL));
	if (a->region)
		assert_string_equal(a->region, b->region);
	assert_true((a->dc == NULL) == (b->dc == NULL));
	if (a->dc)
		assert_string_equal(a->dc, b->dc);
	assert_int_equal(a->node, b->node);
	assert_true((a->id == NULL) == (b->id == NULL));
	if (a->id)
		assert_string_equal(a->id, b->id);
	assert_int_equal(a->nattrs, b->nattrs);
	for (int i = 0; i < a->nattrs; i++) {
		assert_string_equal(a->attrs[i].key, b->attrs[i].key);
		assert_true((a->attrs[i].value == NULL) == (b->attrs[i].value == NULL));
		if (a->attrs[i].value)
			assert_string_equal(a->attrs[i].value, b->attrs[i].value);
		assert_int_equal(a->attrs[i].flags, b->attrs[i].flags);
	}
}

/* --- tests ------------------------------------------------------------- */

static void test_create_open_meta(void **state)
{
	struct fx *f = *state;
	struct cg_err err = {0};
	struct stat sb;

	/* create=0 on a missing file: an error, and nothing is created. */
	assert_false(cg_state_exists(f->path));
	assert_int_equal(cg_state_open(&f->st, f->path, 0, &err), -1);
	assert_null(f->st);
	assert_non_null(strstr(err.msg, "no state at"));
	char *sub = cg_dirname(f->path);
	assert_int_not_equal(stat(sub, &sb), 0);

	mode_t old = umask(022);
	open_new(f);
	umask(old);
	assert_true(cg_state_exists(f->path));
	assert_string_equal(cg_state_path(f->st), f->path);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	free(sub);

	struct cg_state_meta m;
	assert_int_equal(cg_state_meta(f->st, &m, &err), 0);
	assert_int_equal(m.schema, CG_STATE_SCHEMA);
	assert_int_equal(m.serial, 0);
	assert_int_equal(strlen(m.lineage), 36);
	assert_int_equal(m.lineage[14], '4');	/* UUID v4 */
	assert_non_null(strchr("89ab", m.lineage[19]));

	/* Reopen: same lineage; the lineage never changes. */
	cg_state_close(f->st);
	f->st = NULL;
	assert_int_equal(cg_state_open(&f->st, f->path, 0, &err), 0);
	struct cg_state_meta m2;
	assert_int_equal(cg_state_meta(f->st, &m2, &err), 0);
	assert_string_equal(m.lineage, m2.lineage);
	/* WAL mode is persistent in the file. */
	sqlite3 *db;
	sqlite3_stmt *s;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);

	/* Two different states have different lineages. */
	struct cg_state *other;
	char *p2 = cg_xasprintf("%s/other.db", f->dir);
	assert_int_equal(cg_state_open(&other, p2, 1, &err), 0);
	assert_int_equal(cg_state_meta(other, &m2, &err), 0);
	assert_string_not_equal(m.lineage, m2.lineage);
	cg_state_close(other);
	free(p2);
}

static void test_not_a_state(void **state)
{
	struct fx *f = *state;
	struct cg_err err = {0};
	char *junk = cg_xasprintf("%s/junk.db", f->dir);
	const char text[] = "this is not a database, it is a text file of some length......";
	assert_int_equal(cg_file_write_atomic(junk, text, sizeof(text), 0600, &err), 0);
	struct cg_state *st = NULL;
	assert_int_equal(cg_state_open(&st, junk, 0, &err), -1);
	assert_null(st);
	assert_non_null(strstr(err.msg, "not a cassandgo state"));
	free(junk);

	char *foreign = cg_xasprintf("%s/foreign.db", f->dir);
	raw_exec(foreign, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
	memset(&err, 0, sizeof(err));
	assert_int_equal(cg_state_open(&st, foreign, 1, &err), -1);
	assert_non_null(strstr(err.msg, "not a cassandgo state"));
	assert_int_equal(raw_int(foreign, "SELECT count(*) FROM t"), 1);
	free(foreign);
}

static void test_put_load_roundtrip(void **state)
{
	struct fx *f = *state;
	struct cg_state *st = open_new(f);
	struct cg_err err = {0};

	struct cg_resource m = machine("machine.DC1.n3", "i-0abc");
	struct cg_resource net;
	cg_res_init(&net, CG_KIND_NETWORK, "network.eu-west-1");
	net.region = cg_xstrdup("eu-west-1");
	cg_res_set(&net, "cidr", "10.0.0.0/16", 0);
	cg_res_set(&net, "empty", "", 0);	/* "" and NULL stay distinct */
	/* Whatever bytes a value holds come back (JSON escapes inside). */
	cg_res_set(&net, "bytes", "\xff\xfe not UTF-8 \x7f", 0);
	cg_res_set(&net, "odd \"key\"", "q\"b\\s/n\nt\tc\001\037 \xc3\xa9 \xf0\x9f\x98\x80", 7);
	struct cg_resource ring;
	cg_res_init(&ring, CG_KIND_RING, "ring");	/* no region, dc, id, attrs */

	put_ok(st, "MultiDC", &ring);
	put_ok(st, "MultiDC", &m);
	put_ok(st, "MultiDC", &net);
	put_ok(st, "Other", &m);

	struct cg_rset set;
	cg_rset_init(&set);
	assert_int_equal(cg_state_load(st, "MultiDC", &set, &err), 0);
	assert_int_equal(set.n, 3);
	/* Ordered by address. */
	assert_res_equal(&set.v[0], &m);
	assert_res_equal(&set.v[1], &net);
	assert_res_equal(&set.v[2], &ring);
	assert_null(cg_res_get(&set.v[0], "public_ip"));
	assert_non_null(cg_res_attr(&set.v[0], "public_ip"));
	assert_string_equal(cg_res_get(&set.v[1], "empty"), "");
	/* The file stays queryable with SQLite's JSON functions. */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resources r, json_each(r.attrs) j"
				 " WHERE r.cluster = 'MultiDC' AND j.value ->> 0 = 'public_ip'"
				 " AND j.value ->> 1 IS NULL AND j.value ->> 2 = 2"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resources r, json_each(r.attrs) j"
				 " WHERE j.value ->> 1 = 'q\"b\\s/n' || char(10) || 't' || char(9)"
				 " || 'c' || char(1) || char(31) || ' é 😀'"), 1);
	assert_ptr_equal(cg_rset_find(&set, "ring"), &set.v[2]);
	/* load appends. */
	assert_int_equal(cg_state_load(st, "Other", &set, &err), 0);
	assert_int_equal(set.n, 4);
	cg_rset_free(&set);

	cg_rset_init(&set);
	assert_int_equal(cg_state_load(st, "Nobody", &set, &err), 0);
	assert_int_equal(set.n, 0);
	cg_rset_free(&set);

	char **names;
	int n;
	assert_int_equal(cg_state_clusters(st, &names, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "MultiDC");
	assert_string_equal(names[1], "Other");
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);

	cg_res_clear(&m);
	cg_res_clear(&net);
	cg_res_clear(&ring);
}

static void test_serial_only_on_change(void **state)
{
	struct fx *f = *state;
	struct cg_state *st = open_new(f);
	struct cg_err err = {0};
	struct cg_resource m = machine("machine.DC1.n3", "i-0abc");

	put_ok(st, "c", &m);
	assert_int_equal(serial_of(st), 1);
	put_ok(st, "c", &m);	/* identical */
	assert_int_equal(serial_of(st), 1);

	/* Same attributes in another order: not a change. */
	struct cg_resource r;
	cg_res_init(&r, CG_KIND_MACHINE, "machine.DC1.n3");
	r.region = cg_xstrdup("eu-west-1");
	r.dc = cg_xstrdup("DC1");
	r.node = 3;
	cg_res_set_id(&r, "i-0abc");
	for (int i = m.nattrs - 1; i >= 0; i--)
		cg_res_set(&r, m.attrs[i].key, m.attrs[i].value, m.attrs[i].flags);
	put_ok(st, "c", &r);
	assert_int_equal(serial_of(st), 1);

	cg_res_set(&m, "public_ip", "52.1.2.3", CG_ATTR_COMPUTED);	/* NULL -> value */
	put_ok(st, "c", &m);
	assert_int_equal(serial_of(st), 2);
	cg_res_set(&m, "public_ip", "52.1.2.3", 0);			/* flags only */
	put_ok(st, "c", &m);
	assert_int_equal(serial_of(st), 3);
	cg_res_set(&m, "extra", "x", 0);				/* one more attr */
	put_ok(st, "c", &m);
	assert_int_equal(serial_of(st), 4);
	m.node = 4;							/* scalar column */
	put_ok(st, "c", &m);
	assert_int_equal(serial_of(st), 5);
	put_ok(st, "other", &m);					/* another cluster */
	assert_int_equal(serial_of(st), 6);

	/* An attribute dropped is a change; the stored order follows the
	 * last write that changed something. */
	put_ok(st, "c", &r);
	assert_int_equal(serial_of(st), 7);
	struct cg_rset set;
	cg_rset_init(&set);
	assert_int_equal(cg_state_load(st, "c", &set, &err), 0);
	assert_int_equal(set.n, 1);
	assert_res_equal(&set.v[0], &r);
	cg_rset_free(&set);

	/* Remove of nothing: no bump. Remove of something: one bump. */
	int removed = -1;
	assert_int_equal(cg_state_remove(st, "c", "machine.DC9.n1", NULL, &removed, &err), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(cg_state_remove(st, "c", "machine.DC1.n3", "i-other", &removed, &err), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(serial_of(st), 7);
	assert_int_equal(cg_state_remove(st, "c", "machine.DC1.n3", NULL, &removed, &err), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(serial_of(st), 8);
	assert_int_equal(cg_state_remove(st, "c", "machine.DC1.n3", NULL, NULL, &err), 0);
	assert_int_equal(serial_of(st), 8);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resources WHERE cluster = 'c'"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM resources"), 1);

	/* Journal and lock are not recorded content. */
	int64_t jid;
	assert_int_equal(cg_state_journal_begin(st, "c", "ring", "create", &jid, &err), 0);
	assert_int_equal(cg_state_journal_end(st, jid, CG_J_DONE, NULL, &err), 0);
	struct cg_lock_info li;
	assert_int_equal(cg_state_lock(st, "apply c", &li, &err), 0);
	assert_int_equal(cg_state_unlock(st, li.id, &err), 0);
	assert_int_equal(serial_of(st), 8);

	cg_res_clear(&m);
	cg_res_clear(&r);
}

static void test_ids_and_duplicates(void **state)
{
	struct fx *f = *state;
	struct cg_state *st = open_new(f);
	struct cg_err err = {0};
	struct cg_rset set;

	/* A record without id, then the same resource with its id: replaced. */
	struct cg_resource m = machine("machine.DC1.n3", NULL);
	put_ok(st, "c", &m);
	cg_res_set_id(&m, "i-0bbb");
	put_ok(st, "c", &m);
	assert_int_equal(serial_of(st), 2);
	cg_rset_init(&set);
	assert_int_equal(cg_state_load(st, "c", &set, &err), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0].id, "i-0bbb");
	cg_rset_free(&set);

	/* Another id at the same address: a second record (two instances
	 * claiming one node); load orders by address then id. */
	cg_res_set_id(&m, "i-0aaa");
	cg_res_set(&m, "private_ip", "10.0.0.99", CG_ATTR_COMPUTED);
	put_ok(st, "c", &m);
	struct cg_resource n2 = machine("machine.DC1.n2", NULL);	/* sorts first */
	put_ok(st, "c", &n2);
	/* An empty id means none: it updates the id-less record. */
	cg_res_set_id(&n2, "");
	cg_res_set(&n2, "type", "m5.xlarge", CG_ATTR_FORCENEW);
	put_ok(st, "c", &n2);
	cg_rset_init(&set);
	assert_int_equal(cg_state_load(st, "c", &set, &err), 0);
	assert_int_equal(set.n, 3);
	assert_string_equal(set.v[0].addr, "machine.DC1.n2");
	assert_null(set.v[0].id);
	assert_string_equal(cg_res_get(&set.v[0], "type"), "m5.xlarge");
	assert_string_equal(set.v[1].id, "i-0aaa");
	assert_string_equal(cg_res_get(&set.v[1], "private_ip"), "10.0.0.99");
	assert_string_equal(set.v[2].id, "i-0bbb");
	assert_string_equal(cg_res_get(&set.v[2], "private_ip"), "10.0.0.13");
	cg_rset_free(&set);

	/* Remove one by id, then every record at an address. */
	int removed;
	assert_int_equal(cg_state_remove(st, "c", "machine.DC1.n3", "i-0aaa", &removed, &err), 0);
	assert_int_equal(removed, 1);
	cg_res_set_id(&m, "i-0ccc");
	put_ok(st, "c", &m);
	assert_int_equal(cg_state_remove(st, "c", "machine.DC1.n3", NULL, &removed, &err), 0);
	assert_int_equal(removed, 2);
	cg_rset_init(&set);
	assert_int_equal(cg_state_load(st, "c", &set, &err), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(set.v[0].addr, "machine.DC1.n2");
	cg_rset_free(&set);

	cg_res_clear(&m);
	cg_res_clear(&n2);
}

static void test_put_all(void **state)
{
	struct fx *f = *state;
	struct cg_state *st = open_new(f);
	struct cg_err err = {0};
	struct cg_rset set, got;
	cg_rset_init(&set);
	for (int i = 1; i <= 3; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "service.DC1.n%d", i);
		struct cg_resource *r = cg_rset_new(&set, CG_KIND_SERVICE, addr);
		r->dc = cg_xstrdup("DC1");
		r->node = i;
		cg_res_set(r, "state", "running", 0);
	}
	int changed = -1;
	assert_int_equal(cg_state_put_all(st, "c", &set, &changed, &err), 0);
	assert_int_equal(changed, 3);
	assert_int_equal(serial_of(st), 3);
	assert_int_equal(cg_state_put_all(st, "c", &set, &changed, &err), 0);
	assert_int_equal(changed, 0);
	assert_int_equal(serial_of(st), 3);
	cg_res_set(&set.v[1], "state", "stopped", 0);
	assert_int_equal(cg_state_put_all(st, "c", &set, &changed, &err), 0);
	assert_int_equal(changed, 1);
	assert_int_equal(serial_of(st), 4);

	/* All or nothing: a bad record in the middle leaves nothing of the batch. */
	cg_res_set(&set.v[0], "state", "gone", 0);
	free(set.v[1].addr);
	set.v[1].addr = NULL;	/* violates NOT NULL */
	memset(&err, 0, sizeof(err));
	assert_int_equal(cg_state_put_all(st, "c", &set, &changed, &err), -1);
	assert_non_null(strstr(err.msg, "cannot record (no address)"));
	assert_int_equal(serial_of(st), 4);
	cg_rset_init(&got);
	assert_int_equal(cg_state_load(st, "c", &got, &err), 0);
	assert_int_equal(got.n, 3);
	assert_string_equal(cg_res_get(&got.v[0], "state"), "running");
	assert_string_equal(cg_res_get(&got.v[1], "state"), "stopped");
	cg_rset_free(&got);
	set.v[1].addr = cg_xstrdup("service.DC1.n2");
	cg_rset_free(&set);
}

/* Child of the lock test: take the lock, report its id, wait for the word. */
static void lock_child(const char *path, int report, int wait_fd, int release)
{
	struct cg_state *st;
	struct cg_err err = {0};
	struct cg_lock_info mine;
	if (cg_state_open(&st, path, 0, &err) != 0 ||
	    cg_state_lock(st, "apply MultiDC", &mine, &err) != 0) {
		dprintf(report, "ERR %s\n", err.msg);
		_exit(1);
	}
	if (write(report, mine.id, sizeof(mine.id)) != (ssize_t)sizeof(mine.id))
		_exit(2);
	char c;
	if (wait_fd >= 0 && read(wait_fd, &c, 1) != 1)
		_exit(3);
	if (release && cg_state_unlock(st, mine.id, &err) != 0)
		_exit(4);
	cg_state_close(st);
	_exit(0);
}

static void test_replace(void **state)
{
	struct fx *f = *state;
	struct cg_state *st = open_new(f);
	struct cg_err err = {0};
	struct cg_rset set;
	struct cg_resource a = machine("machine.DC1.n3", "i-1");
	struct cg_resource b = machine("machine.DC1.n3", "i-2");
	struct cg_resource other = machine("machine.DC1.n4", "i-4");
	put_ok(st, "c", &a);
	put_ok(st, "c", &b);
	put_ok(st, "c", &other);
	assert_int_equal(serial_of(st), 3);

	/* The survivor is unchanged; only the other record goes. */
	assert_int_equal(cg_state_replace(st, "c", &b, &err), 0);
	assert_int_equal(serial_of(st), 4);
	assert_int_equal(cg_state_replace(st, "c", &b, &err), 0);
	assert_int_equal(serial_of(st), 4);
	cg_rset_init(&set);
	assert_int_equal(cg_state_load(st, "c", &set, &err), 0);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.v[0].id, "i-2");
	assert_string_equal(set.v[1].id, "i-4");	/* other addresses untouched */
	cg_rset_free(&set);

	/* A replacement machine with a new id takes the address. */
	cg_res_set_id(&a, "i-9");
	assert_int_equal(cg_state_replace(st, "c", &a, &err), 0);
	cg_rset_init(&set);
	assert_int_equal(cg_state_load(st, "c", &set, &err), 0);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.v[0].id, "i-9");
	cg_rset_free(&set);
	assert_int_equal(serial_of(st), 6);	/* removal + insert */
	cg_res_clear(&a);
	cg_res_clear(&b);
	cg_res_clear(&other);
}

/* Create the state file, but fork with no connection open: a SQLite
 * connection must not cross a fork. */
static void create_closed(struct fx *f)
{
	open_new(f);
	cg_state_close(f->st);
	f->st = NULL;
}

static void test_lock_two_processes(void **state)
{
	struct fx *f = *state;
	struct cg_err err = {0};
	int up[2], down[2];
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	create_closed(f);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		lock_child(f->path, up[1], down[0], 0);
	}
	close(up[1]);
	close(down[0]);
	struct cg_state *st = open_new(f);
	char held_id[37] = {0};
	ssize_t got = read(up[0], held_id, sizeof(held_id));
	if (got != (ssize_t)sizeof(held_id)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("child did not take the lock: %.*s", (int)(got > 0 ? got : 0), held_id);
	}

	/* Contention: fails at once, naming the holder. */
	struct cg_lock_info mine;
	int64_t t0 = cg_now_ms();
	assert_int_equal(cg_state_lock(st, "destroy MultiDC", &mine, &err), -1);
	int64_t waited = cg_now_ms() - t0;
	assert_int_equal(err.code, CG_EXIT_LOCKED);
	/* at once: not after the 5 s busy timeout (the margin is for valgrind
	 * on a loaded machine) */
	assert_true(waited < 4000);
	char host[256];
	gethostname(host, sizeof(host));
	char *want = cg_xasprintf("state is locked by pid %ld on host %s (apply MultiDC) since ",
				  (long)pid, host);
	assert_non_null(strstr(err.msg, want));
	free(want);
	assert_non_null(strstr(err.msg, held_id));
	want = cg_xasprintf("run: cassandgo state unlock %s", held_id);
	assert_non_null(strstr(err.msg, want));
	free(want);
	assert_null(strstr(err.msg, "no longer running"));	/* it is running */

	struct cg_lock_info h;
	assert_int_equal(cg_state_lock_holder(st, &h, &err), 1);
	assert_string_equal(h.id, held_id);
	assert_int_equal(h.pid, pid);
	assert_string_equal(h.command, "apply MultiDC");
	assert_int_equal(strlen(h.since), 20);	/* 2026-11-23T20:05:47Z */

	/* Unlock with a wrong id fails and names the real holder. */
	memset(&err, 0, sizeof(err));
	assert_int_equal(cg_state_unlock(st, "00000000-0000-4000-8000-000000000000", &err), -1);
	assert_non_null(strstr(err.msg, held_id));
	assert_int_equal(cg_state_lock_holder(st, &h, &err), 1);

	/* Forced with the right id (the `state unlock ID` path). */
	assert_int_equal(cg_state_unlock(st, held_id, &err), 0);
	assert_int_equal(cg_state_lock_holder(st, &h, &err), 0);
	assert_int_equal(cg_state_lock(st, "destroy MultiDC", &mine, &err), 0);
	assert_int_equal(mine.pid, getpid());
	assert_string_not_equal(mine.id, held_id);

	/* Now the child is the one kept out. */
	struct cg_state *other;
	assert_int_equal(cg_state_open(&other, f->path, 0, &err), 0);
	memset(&err, 0, sizeof(err));
	struct cg_lock_info theirs;
	assert_int_equal(cg_state_lock(other, "apply x", &theirs, &err), -1);
	assert_int_equal(err.code, CG_EXIT_LOCKED);
	assert_non_null(strstr(err.msg, "(destroy MultiDC)"));
	cg_state_close(other);

	assert_int_equal(write(down[1], "x", 1), 1);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(up[0]);
	close(down[1]);
	assert_int_equal(cg_state_unlock(st, mine.id, &err), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(cg_state_unlock(st, mine.id, &err), -1);	/* not locked */
	assert_non_null(strstr(err.msg, "not locked"));
}

static void test_lock_dead_holder(void **state)
{
	struct fx *f = *state;
	struct cg_err err = {0};
	int up[2];
	assert_int_equal(pipe(up), 0);
	create_closed(f);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(up[0]);
		lock_child(f->path, up[1], -1, 0);	/* exits holding the lock */
	}
	close(up[1]);
	char held_id[37] = {0};
	assert_int_equal(read(up[0], held_id, sizeof(held_id)), (ssize_t)sizeof(held_id));
	close(up[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	struct cg_state *st = open_new(f);

	/* The lock is not broken automatically, but the message says why it
	 * is safe to break it. */
	struct cg_lock_info mine;
	assert_int_equal(cg_state_lock(st, "apply c", &mine, &err), -1);
	assert_int_equal(err.code, CG_EXIT_LOCKED);
	assert_non_null(strstr(err.msg, "no longer running"));
	assert_int_equal(cg_state_unlock(st, held_id, &err), 0);
	assert_int_equal(cg_state_lock(st, "apply c", &mine, &err), 0);
}

/* Several processes at once: exactly one gets the lock; concurrent writers
 * all succeed (busy_timeout covers each other's short transactions). */
static void test_processes_race(void **state)
{
	struct fx *f = *state;
	struct cg_err err = {0};
	/* 6 x 20 fsync'd commits: enough to interleave; more only measures how
	 * long SQLite's (unfair) busy handler lets one writer starve on a slow
	 * disk under ASan, which is not what this test is about. */
	enum { P = 6, N = 20 };
	create_closed(f);
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pids[P];
	for (int p = 0; p < P; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			struct cg_state *cst;
			struct cg_err cerr = {0};
			struct cg_lock_info li;
			char c;
			close(go[1]);
			if (cg_state_open(&cst, f->path, 0, &cerr) != 0)
				_exit(10);
			if (read(go[0], &c, 1) != 0)	/* EOF = start together */
				_exit(11);
			for (int i = 0; i < N; i++) {
				char addr[64];
				snprintf(addr, sizeof(addr), "config.DC%d.n%d", p, i);
				struct cg_resource r;
				cg_res_init(&r, CG_KIND_CONFIG, addr);
				cg_res_setf(&r, "hash", 0, "%016x", i * 7919 + p);
				int rc = cg_state_put(cst, "c", &r, &cerr);
				cg_res_clear(&r);
				if (rc != 0) {
					fprintf(stderr, "child %d: %s\n", p, cerr.msg);
					_exit(12);
				}
			}
			int rc = cg_state_lock(cst, "apply c", &li, &cerr);
			int code = rc == 0 ? 0 : cerr.code == CG_EXIT_LOCKED ? 75 : 13;
			cg_state_close(cst);
			_exit(code);
		}
	}
	close(go[0]);
	close(go[1]);
	int winners = 0, locked = 0;
	for (int p = 0; p < P; p++) {
		int status;
		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == 0)
			winners++;
		else if (WEXITSTATUS(status) == 75)
			locked++;
		else
			fail_msg("child %d exited %d", p, WEXITSTATUS(status));
	}
	assert_int_equal(winners, 1);
	assert_int_equal(locked, P - 1);
	struct cg_state *st = open_new(f);
	struct cg_rset set;
	cg_rset_init(&set);
	assert_int_equal(cg_state_load(st, "c", &set, &err), 0);
	assert_int_equal(set.n, P * N);
	cg_rset_free(&set);
	assert_int_equal(serial_of(st), P * N);
	struct cg_lock_info h;
	assert_int_equal(cg_state_lock_holder(st, &h, &err), 1);
	assert_int_equal(cg_state_unlock(st, h.id, &err), 0);
	assert_int_equal(cg_state_check(st, &err), 0);
}

static void test_crash_between_pending_and_done(void **state)
{
	struct fx *f = *state;
	struct cg_state *st = open_new(f);
	struct cg_err err = {0};
	int64_t done_id;
	assert_int_equal(cg_state_journal_begin(st, "c", "network.eu-west-1", "create",
						&done_id, &err), 0);
	assert_int_equal(cg_state_journal_end(st, done_id, CG_J_DONE, NULL, &err), 0);
	cg_state_close(st);
	f->st = NULL;

	int up[2];
	assert_int_equal(pipe(up), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct cg_state *cst;
		struct cg_err cerr = {0};
		int64_t id;
		close(up[0]);
		if (cg_state_open(&cst, f->path, 0, &cerr) != 0 ||
		    cg_state_journal_begin(cst, "c", "machine.DC1.n1", "create", &id, &cerr) != 0)
			_exit(1);
		/* ...now touching the world, when kill -9 comes. */
		if (write(up[1], "p", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(up[1]);
	char c;
	int got = (int)read(up[0], &c, 1);
	close(up[0]);
	kill(pid, SIGKILL);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(got, 1);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	/* A fresh open (the next plan) sees what was in flight. */
	struct cg_state *next;
	assert_int_equal(cg_state_open(&next, f->path, 0, &err), 0);
	struct cg_journal_entry *v;
	int n;
	assert_int_equal(cg_state_journal_pending(next, "c", &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].cluster, "c");
	assert_string_equal(v[0].addr, "machine.DC1.n1");
	assert_string_equal(v[0].op, "create");
	assert_int_equal(v[0].status, CG_J_PENDING);
	assert_int_equal(v[0].pid, pid);
	assert_int_equal(strlen(v[0].started), 20);
	assert_true(v[0].id > done_id);
	int64_t crashed = v[0].id;
	cg_state_journal_free(v, n);
	assert_int_equal(cg_state_journal_pending(next, "other", &v, &n, &err), 0);
	assert_int_equal(n, 0);
	cg_state_journal_free(v, n);

	/* After the refresh reconciled it: no longer pending, kept as history. */
	assert_int_equal(cg_state_journal_settle(next, "c", &err), 0);
	assert_int_equal(cg_state_journal_pending(next, "c", &v, &n, &err), 0);
	assert_int_equal(n, 0);
	cg_state_journal_free(v, n);
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM journal WHERE id = %lld"
		 " AND status = 'reconciled' AND ended IS NOT NULL", (long long)crashed);
	assert_int_equal(raw_int(f->path, sql), 1);
	/* A reconciled entry cannot be ended any more. */
	assert_int_equal(cg_state_journal_end(next, crashed, CG_J_DONE, NULL, &err), -1);
	assert_int_equal(cg_state_check(next, &err), 0);
	cg_state_close(next);
}

static void test_journal_end(void **state)
{
	struct fx *f = *state;
	struct cg_state *st = open_new(f);
	struct cg_err err = {0};
	int64_t a, b;
	assert_int_equal(cg_state_journal_begin(st, "c", "ring", "create", &a, &err), 0);
	assert_int_equal(cg_state_journal_begin(st, "c", "monitoring", "delete", &b, &err), 0);
	assert_true(b > a);

	memset(&err, 0, sizeof(err));
	assert_int_equal(cg_state_journal_end(st, b + 1000, CG_J_DONE, NULL, &err), -1);
	assert_int_equal(err.code, CG_EXIT_ERROR);
	assert_non_null(strstr(err.msg, "no pending journal entry"));
	assert_int_equal(cg_state_journal_end(st, a, CG_J_PENDING, NULL, &err), -1);

	assert_int_equal(cg_state_journal_end(st, a, CG_J_DONE, NULL, &err), 0);
	assert_int_equal(cg_state_journal_end(st, b, CG_J_FAILED, "ssh: timeout", &err), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(cg_state_journal_end(st, a, CG_J_DONE, NULL, &err), -1);	/* twice */
	assert_non_null(strstr(err.msg, "no pending journal entry"));

	struct cg_journal_entry *v;
	int n;
	assert_int_equal(cg_state_journal_pending(st, "c", &v, &n, &err), 0);
	assert_int_equal(n, 0);
	cg_state_journal_free(v, n);
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM journal WHERE id = %lld AND"
		 " status = 'failed' AND message = 'ssh: timeout'", (long long)b);
	assert_int_equal(raw_int(f->path, sql), 1);
}

static void test_journal_pruned(void **state)
{
	struct fx *f = *state;
	struct cg_state *st = open_new(f);
	struct cg_err err = {0};
	/* Pretend a long history: 12,000 finished rows and an old pending one. */
	cg_state_close(st);
	f->st = NULL;
	raw_exec(f->path,
		 "INSERT INTO journal(id, cluster, addr, op, status, started)"
		 " VALUES (1, 'c', 'ring', 'create', 'pending', '2020-01-01T00:00:00Z');"
		 "WITH RECURSIVE k(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM k WHERE i < 12099)"
		 " INSERT INTO journal(id, cluster, addr, op, status, started)"
		 " SELECT i, 'c', 'ring', 'create', 'done', '2020-01-01T00:00:00Z' FROM k;");
	st = open_new(f);
	int64_t id;
	assert_int_equal(cg_state_journal_begin(st, "c", "ring", "create", &id, &err), 0);
	assert_int_equal(id, 12100);
	/* Finished rows older than the newest 10,000 are gone; pending kept. */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM journal WHERE id <= 2100"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM journal"), 10001);
	assert_int_equal(raw_int(f->path, "SELECT min(id) FROM journal WHERE status = 'done'"), 2101);
}

static void test_migration_from_v1(void **state)
{
	struct fx *f = *state;
	struct cg_err err = {0};
	char *sql;
	if (cg_file_read("state/schema_v1.sql", &sql, NULL, &err) != 0)
		fail_msg("fixture (run from tests/): %s", err.msg);
	assert_int_equal(cg_mkdir_p(f->dir, 0700, &err), 0);
	char *sub = cg_dirname(f->path);
	assert_int_equal(cg_mkdir_p(sub, 0700, &err), 0);
	free(sub);
	raw_exec(f->path, sql);
	free(sql);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);

	assert_int_equal(cg_state_open(&f->st, f->path, 0, &err), 0);
	struct cg_state_meta m;
	assert_int_equal(cg_state_meta(f->st, &m, &err), 0);
	assert_int_equal(m.schema, CG_STATE_SCHEMA);
	assert_string_equal(m.lineage, "0b7f4a52-3c1e-4d2a-9f6b-1e2d3c4b5a69");
	assert_int_equal(m.serial, 17);	/* a migration is not a content change */
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), CG_STATE_SCHEMA);

	struct cg_rset set;
	cg_rset_init(&set);
	assert_int_equal(cg_state_load(f->st, "MultiDC", &set, &err), 0);
	assert_int_equal(set.n, 4);
	assert_string_equal(set.v[0].addr, "install.DC1.n1");
	assert_null(set.v[0].id);	/* '' in v1 meant no id */
	assert_int_equal(set.v[0].nattrs, 0);
	const struct cg_resource *r = &set.v[1];
	assert_string_equal(r->addr, "machine.DC1.n1");
	assert_int_equal(r->kind, CG_KIND_MACHINE);
	assert_string_equal(r->region, "eu-west-1");
	assert_string_equal(r->dc, "DC1");
	assert_int_equal(r->node, 1);
	assert_string_equal(r->id, "i-0aa1");
	assert_int_equal(r->nattrs, 4);	/* in the v1 document order */
	assert_string_equal(r->attrs[0].key, "type");
	assert_string_equal(r->attrs[0].value, "m5.large");
	assert_string_equal(r->attrs[1].key, "private_ip");
	assert_string_equal(r->attrs[2].key, "public_ip");
	assert_null(r->attrs[2].value);	/* JSON null -> NULL */
	assert_string_equal(r->attrs[3].value, "eu-west-1a");
	assert_int_equal(r->attrs[3].flags, 0);
	assert_string_equal(set.v[2].addr, "network.eu-west-1");
	assert_string_equal(cg_res_get(&set.v[2], "ports"), "7000,9042");
	assert_null(set.v[2].dc);
	assert_string_equal(set.v[3].addr, "ring");
	assert_null(set.v[3].region);
	assert_string_equal(cg_res_get(&set.v[3], "nodes"), "15");	/* numbers as text */
	assert_string_equal(cg_res_get(&set.v[3], "healthy"), "true");
	cg_rset_free(&set);
	cg_rset_init(&set);
	assert_int_equal(cg_state_load(f->st, "MonoDC", &set, &err), 0);
	assert_int_equal(set.n, 1);
	assert_string_equal(cg_res_get(&set.v[0], "type"), "t3.large");
	cg_rset_free(&set);

	/* The file as it was before the migration is kept, never pruned. */
	char *bdir = cg_xasprintf("%s/sub/backups", f->dir);
	DIR *d = opendir(bdir);
	assert_non_null(d);
	struct dirent *de;
	char *pre = NULL;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "schema1-17-", 11))
			pre = cg_xasprintf("%s/%s", bdir, de->d_name);
	closedir(d);
	assert_non_null(pre);
	assert_int_equal(raw_int(pre, "PRAGMA user_version"), 1);
	assert_int_equal(raw_int(pre, "SELECT count(*) FROM resources"), 5);
	free(pre);
	free(bdir);

	/* The v1 journal survives; its pending entry is still reported. */
	struct cg_journal_entry *v;
	int n;
	assert_int_equal(cg_state_journal_pending(f->st, "MultiDC", &v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, 2);
	assert_string_equal(v[0].addr, "install.DC1.n1");
	assert_int_equal(v[0].pid, 0);
	cg_state_journal_free(v, n);

	/* Schema 2 features work on the migrated file. */
	struct cg_resource dup = machine("machine.DC1.n1", "i-0dup");
	put_ok(f->st, "MultiDC", &dup);
	cg_res_clear(&dup);
	assert_int_equal(serial_of(f->st), 18);
	struct cg_lock_info li;
	assert_int_equal(cg_state_lock(f->st, "apply MultiDC", &li, &err), 0);
	assert_int_equal(cg_state_check(f->st, &err), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master"
				 " WHERE name = 'resources_v1'"), 0);

	/* Reopening does not migrate twice. */
	cg_state_close(f->st);
	f->st = NULL;
	assert_int_equal(cg_state_open(&f->st, f->path, 0, &err), 0);
	assert_int_equal(serial_of(f->st), 18);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct cg_err err = {0};
	open_new(f);
	cg_state_close(f->st);
	f->st = NULL;
	raw_exec(f->path, "PRAGMA user_version = 4");
	struct stat before, after;
	assert_int_equal(stat(f->path, &before), 0);

	assert_int_equal(cg_state_open(&f->st, f->path, 0, &err), -1);
	assert_null(f->st);
	assert_non_null(strstr(err.msg, "schema version 4"));
	assert_non_null(strstr(err.msg, "newer than this cassandgo knows (3)"));
	assert_int_equal(cg_state_open(&f->st, f->path, 1, &err), -1);	/* create too */
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 4);
	assert_int_equal(stat(f->path, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
}

static int count_backups(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "state-", 6))
			n++;
	closedir(d);
	return n;
}

static void test_backup(void **state)
{
	struct fx *f = *state;
	struct cg_state *st = open_new(f);
	struct cg_err err = {0};
	struct cg_resource m = machine("machine.DC1.n3", "i-0abc");
	put_ok(st, "c", &m);
	cg_res_set(&m, "public_ip", "52.0.0.1", 0);
	put_ok(st, "c", &m);

	char *path;
	assert_int_equal(cg_state_backup(st, &path, &err), 0);
	char *dir = cg_xasprintf("%s/sub/backups", f->dir);
	char *prefix = cg_xasprintf("%s/state-2-", dir);
	assert_int_equal(strncmp(path, prefix, strlen(prefix)), 0);
	free(prefix);
	assert_int_equal(strlen(strrchr(path, '-')), strlen("-20261123T200547Z.db"));
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);

	/* The copy opens as a state with the same content. */
	struct cg_state *copy;
	assert_int_equal(cg_state_open(&copy, path, 0, &err), 0);
	struct cg_state_meta a, b;
	assert_int_equal(cg_state_meta(st, &a, &err), 0);
	assert_int_equal(cg_state_meta(copy, &b, &err), 0);
	assert_string_equal(a.lineage, b.lineage);
	assert_int_equal(a.serial, b.serial);
	struct cg_rset set;
	cg_rset_init(&set);
	assert_int_equal(cg_state_load(copy, "c", &set, &err), 0);
	assert_int_equal(set.n, 1);
	assert_res_equal(&set.v[0], &m);
	cg_rset_free(&set);
	assert_int_equal(cg_state_check(copy, &err), 0);
	cg_state_close(copy);
	free(path);

	/* Only the newest 10 are kept: old ones go first, other files stay. */
	for (int i = 0; i < 12; i++) {
		char *old = cg_xasprintf("%s/state-%d-2020010%dT0000%02dZ.db", dir, i, i % 9 + 1, i);
		assert_int_equal(cg_file_write_atomic(old, "x", 1, 0600, &err), 0);
		free(old);
	}
	char *keep = cg_xasprintf("%s/notes.txt", dir);
	assert_int_equal(cg_file_write_atomic(keep, "x", 1, 0600, &err), 0);
	assert_int_equal(cg_state_backup(st, &path, &err), 0);
	assert_int_equal(count_backups(dir), 10);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(stat(keep, &sb), 0);
	char *oldest = cg_xasprintf("%s/state-0-20200101T000000Z.db", dir);
	assert_int_not_equal(stat(oldest, &sb), 0);
	free(oldest);
	free(keep);
	free(path);
	free(dir);
	cg_res_clear(&m);
}

static void test_integrity_check(void **state)
{
	struct fx *f = *state;
	struct cg_state *st = open_new(f);
	struct cg_err err = {0};
	int64_t id;
	assert_int_equal(cg_state_journal_begin(st, "c", "ring", "create", &id, &err), 0);
	assert_int_equal(cg_state_check(st, &err), 0);
	cg_state_close(st);
	f->st = NULL;

	/* Make the partial index disagree with its table: the check must say so. */
	raw_exec(f->path, "PRAGMA writable_schema = ON;"
		 "UPDATE sqlite_master SET sql = replace(sql, '''pending''', '''done''')"
		 " WHERE name = 'journal_pending';");
	assert_int_equal(cg_state_open(&f->st, f->path, 0, &err), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(cg_state_check(f->st, &err), -1);
	assert_non_null(strstr(err.msg, "is corrupt"));
	assert_non_null(strstr(err.msg, "journal_pending"));
}

/* Several executor threads recording at once on one struct cg_state. */
struct worker {
	struct cg_state *st;
	int t;
	int failures;
};

static void *worker_run(void *p)
{
	struct worker *w = p;
	struct cg_err err = {0};
	for (int i = 0; i < 50; i++) {
		char addr[64];
		snprintf(addr, sizeof(addr), "install.DC%d.n%d", w->t, i);
		int64_t jid;
		struct cg_resource r;
		cg_res_init(&r, CG_KIND_INSTALL, addr);
		cg_res_setf(&r, "version", 0, "5.0.%d", i);
		if (cg_state_journal_begin(w->st, "c", addr, "create", &jid, &err) != 0 ||
		    cg_state_put(w->st, "c", &r, &err) != 0 ||
		    cg_state_journal_end(w->st, jid, CG_J_DONE, NULL, &err) != 0)
			w->failures++;
		cg_res_clear(&r);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct fx *f = *state;
	struct cg_state *st = open_new(f);
	struct cg_err err = {0};
	enum { T = 6 };
	pthread_t th[T];
	struct worker w[T];
	for (int i = 0; i < T; i++) {
		w[i] = (struct worker){ st, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	struct cg_rset set;
	cg_rset_init(&set);
	assert_int_equal(cg_state_load(st, "c", &set, &err), 0);
	assert_int_equal(set.n, T * 50);
	cg_rset_free(&set);
	assert_int_equal(serial_of(st), T * 50);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM journal WHERE status = 'done'"), T * 50);
}

/* Load of 4,000 resources x 8 attributes: the plan benchmark's input. */
static void test_load_many(void **state)
{
	struct fx *f = *state;
	struct cg_state *st = open_new(f);
	struct cg_err err = {0};
	cg_state_close(st);
	f->st = NULL;
	/* Bulk fixture by SQL (a put per resource would measure fsync). */
	raw_exec(f->path,
		 "BEGIN;"
		 "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 3999)"
		 " INSERT INTO resources(rid, cluster, addr, id, kind, region, dc, node, updated)"
		 " SELECT i + 1, 'big', printf('machine.DC%d.n%d', i / 100, i % 100),"
		 "  printf('i-%08x', i), 'machine', 'eu-west-1', printf('DC%d', i / 100), i % 100 + 1,"
		 "  '2026-01-01T00:00:00Z' FROM k;"
		 "WITH RECURSIVE a(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM a WHERE j < 7)"
		 " UPDATE resources SET attrs = (SELECT json_group_array(json_array("
		 "  printf('key%d', j), printf('value-%d-%d', rid, j), j % 3)) FROM a);"
		 "COMMIT;");
	st = open_new(f);
	struct cg_rset set;
	cg_rset_init(&set);
	/* what it loads, not how fast: `make bench` (tests/state/bench_state.c)
	 * measures the load time */
	assert_int_equal(cg_state_load(st, "big", &set, &err), 0);
	assert_int_equal(set.n, 4000);
	for (int i = 1; i < set.n; i++)
		assert_true(strcmp(set.v[i - 1].addr, set.v[i].addr) < 0);
	assert_int_equal(set.v[0].nattrs, 8);
	assert_string_equal(set.v[0].attrs[7].key, "key7");
	cg_rset_free(&set);
}

/* Faults: put replaces one of the same kind and target, list oldest first,
 * clear by kind and target or all; each change bumps the serial, a clear of
 * nothing does not; another cluster's stay. */
static void test_faults(void **state)
{
	struct fx *f = *state;
	struct cg_err err = {0};
	struct cg_state *st = open_new(f);
	struct cg_fault a = {.kind = "kill", .target = "DC1.n2", .since = 200};
	struct cg_fault b = {.kind = "pause", .target = "DC2.n1", .detail = "25s", .since = 100,
			     .until = 125};
	struct cg_fault c = {.kind = "partition", .target = "DC2", .since = 300};
	int64_t s0 = serial_of(st);
	assert_int_equal(cg_state_fault_put(st, "Lab", &a, &err), 0);
	assert_int_equal(cg_state_fault_put(st, "Lab", &b, &err), 0);
	assert_int_equal(cg_state_fault_put(st, "Other", &c, &err), 0);
	a.since = 250;
	assert_int_equal(cg_state_fault_put(st, "Lab", &a, &err), 0);
	assert_true(serial_of(st) > s0);
	struct cg_fault *v;
	int n, cleared;
	assert_int_equal(cg_state_faults(st, "Lab", &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].kind, "pause");
	assert_string_equal(v[0].detail, "25s");
	assert_int_equal(v[0].until, 125);
	assert_string_equal(v[1].target, "DC1.n2");
	assert_int_equal(v[1].since, 250);
	free(v);
	int64_t s1 = serial_of(st);
	assert_int_equal(cg_state_fault_clear(st, "Lab", "kill", "DC9.n1", &cleared, &err), 0);
	assert_int_equal(cleared, 0);
	assert_int_equal(serial_of(st), s1);
	assert_int_equal(cg_state_fault_clear(st, "Lab", NULL, "DC1.n2", &cleared, &err), 0);
	assert_int_equal(cleared, 1);
	assert_true(serial_of(st) > s1);
	assert_int_equal(cg_state_fault_clear(st, "Lab", NULL, NULL, &cleared, &err), 0);
	assert_int_equal(cleared, 1);
	assert_int_equal(cg_state_faults(st, "Lab", &v, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(cg_state_faults(st, "Other", &v, &n, &err), 0);
	assert_int_equal(n, 1);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_open_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_load_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial_only_on_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_and_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_two_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_dead_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_processes_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_between_pending_and_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_pruned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_integrity_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
