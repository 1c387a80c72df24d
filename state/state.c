/*
 * state.c - the SQLite state store (see state.h).
 *
 * Schema 3 (PRAGMA user_version = 3): schema 2 and
 *   faults(cluster, kind, target, detail, since, until)   active chaos faults,
 *       unique on (cluster, kind, target)
 * Schema 2 (migrated on open by adding the faults table):
 *   meta(key PRIMARY KEY, value)          lineage, serial, created
 *   resources(rid, cluster, addr, id, kind, region, dc, node, updated)
 *       unique on (cluster, addr, coalesce(id, '')): several records may share
 *       an address when they carry different provider ids (two instances
 *       claiming one node); an empty id is stored as NULL ("not created yet").
 *       attrs is a JSON array [[key, value-or-null, flags], ...] in the
 *       caller's order: one row per resource keeps a load of 4,000 resources
 *       at a few ms (a row per attribute cost 20+ ms in the join), and JSON
 *       keeps the file queryable with sqlite3's json_each().
 *   lock(one = 1, id, pid, host, command, since)   at most one row
 *   journal(id, cluster, addr, op, status, pid, started, ended, message)
 *       status: pending, done, failed, reconciled.
 *
 * Schema 1 (the first release; migrated on open): resources keyed by
 * (cluster, addr) only, attributes as one JSON object {key: value} without
 * flags, a journal without pid, no lock table. Before migrating, the file is
 * copied to backups/schema1-<serial>-<time>.db (never pruned). A schema
 * newer than CG_STATE_SCHEMA is refused before anything is written.
 *
 * Serial: bumped inside the transaction that changes a record (insert,
 * update with different content, delete of at least one row); never by the
 * journal, the lock, a migration or a put of identical content.
 *
 * Durability: WAL with synchronous=FULL. The journal's promise is that a
 * "pending" row is on disk before the world is touched; with NORMAL the last
 * commits of a WAL may be lost on power failure, which would break it. The
 * cost is one fsync per commit, small next to the cloud and SSH calls.
 *
 * Concurrency: a mutex serialises every call on one struct cg_state (one
 * connection, SQLITE_OPEN_NOMUTEX). Writes run in BEGIN IMMEDIATE so that two
 * processes never deadlock upgrading a read transaction; busy_timeout covers
 * the short waits for another process's write transaction.
 */
#include "state.h"
#include "../util/json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
#define JOURNAL_KEEP 10000	/* finished journal rows kept for history */
#define BACKUPS_KEEP 10

/* Prepared statements, made once on first use (SQLITE_PREPARE_PERSISTENT). */
enum {
	S_GET_SERIAL,
	S_BUMP_SERIAL,
	S_FIND_RES,
	S_FIND_RES_NOID,
	S_INS_RES,
	S_UPD_RES,
	S_LOAD,
	S__COUNT
};

static const char *const stmt_sql[S__COUNT] = {
	[S_GET_SERIAL] = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'serial'",
	[S_BUMP_SERIAL] = "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'serial'",
	[S_FIND_RES] = "SELECT rid, kind, region, dc, node, attrs FROM resources"
		" WHERE cluster = ?1 AND addr = ?2 AND coalesce(id, '') = coalesce(?3, '')",
	[S_FIND_RES_NOID] = "SELECT rid FROM resources"
		" WHERE cluster = ?1 AND addr = ?2 AND coalesce(id, '') = ''",
	[S_INS_RES] = "INSERT INTO resources(cluster, addr, id, kind, region, dc, node, attrs,"
		" updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_UPD_RES] = "UPDATE resources SET id = ?2, kind = ?3, region = ?4, dc = ?5,"
		" node = ?6, attrs = ?7, updated = ?8 WHERE rid = ?1",
	[S_LOAD] = "SELECT addr, id, kind, region, dc, node, attrs FROM resources"
		" WHERE cluster = ?1 ORDER BY addr, coalesce(id, '')",
};

struct cg_state {
	sqlite3 *db;
	char *path;
	pthread_mutex_t mu;
	sqlite3_stmt *stmt[S__COUNT];
};

/* The current schema, created on a fresh file. */
static const char schema_v2[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE resources("
	" rid INTEGER PRIMARY KEY,"
	" cluster TEXT NOT NULL,"
	" addr TEXT NOT NULL,"
	" id TEXT CHECK (id IS NULL OR id <> ''),"
	" kind TEXT NOT NULL,"
	" region TEXT,"
	" dc TEXT,"
	" node INTEGER NOT NULL DEFAULT 0,"
	" attrs TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attrs)),"
	" updated TEXT NOT NULL);"
	"CREATE UNIQUE INDEX resources_key ON resources(cluster, addr, coalesce(id, ''));"
	"CREATE TABLE lock("
	" one INTEGER PRIMARY KEY CHECK (one = 1),"
	" id TEXT NOT NULL,"
	" pid INTEGER NOT NULL,"
	" host TEXT NOT NULL,"
	" command TEXT NOT NULL,"
	" since TEXT NOT NULL);"
	"CREATE TABLE journal("
	" id INTEGER PRIMARY KEY,"
	" cluster TEXT NOT NULL,"
	" addr TEXT NOT NULL,"
	" op TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed', 'reconciled')),"
	" pid INTEGER NOT NULL DEFAULT 0,"
	" started TEXT NOT NULL,"
	" ended TEXT,"
	" message TEXT);"
	"CREATE INDEX journal_pending ON journal(cluster) WHERE status = 'pending';";

/* Schema 2 -> 3 (and part of a fresh schema): the active faults. */
static const char schema_faults[] =
	"CREATE TABLE faults("
	" cluster TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" target TEXT NOT NULL,"
	" detail TEXT NOT NULL DEFAULT '',"
	" since INTEGER NOT NULL,"
	" until INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (cluster, kind, target)) WITHOUT ROWID;";

/*
 * Schema 1 -> 2. Runs inside the open transaction. The old attribute object
 * becomes the array form in document order (json_each's id); JSON null stays
 * null, other scalars become text; flags did not exist (0).
 */
static const char migrate_1_2[] =
	"ALTER TABLE resources RENAME TO resources_v1;"
	"CREATE TABLE resources("
	" rid INTEGER PRIMARY KEY,"
	" cluster TEXT NOT NULL,"
	" addr TEXT NOT NULL,"
	" id TEXT CHECK (id IS NULL OR id <> ''),"
	" kind TEXT NOT NULL,"
	" region TEXT,"
	" dc TEXT,"
	" node INTEGER NOT NULL DEFAULT 0,"
	" attrs TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attrs)),"
	" updated TEXT NOT NULL);"
	"CREATE UNIQUE INDEX resources_key ON resources(cluster, addr, coalesce(id, ''));"
	"INSERT INTO resources(cluster, addr, id, kind, region, dc, node, attrs, updated)"
	" SELECT cluster, addr, nullif(id, ''), kind, region, dc, coalesce(node, 0),"
	"  (SELECT json_group_array(json(x)) FROM"
	"   (SELECT json_array(j.key,"
	"     CASE j.type WHEN 'null' THEN NULL WHEN 'true' THEN 'true'"
	"      WHEN 'false' THEN 'false' WHEN 'object' THEN j.value WHEN 'array' THEN j.value"
	"      ELSE CAST(j.value AS TEXT) END, 0) AS x"
	"    FROM json_each(CASE WHEN o.attrs IS NULL OR o.attrs = '' THEN '{}' ELSE o.attrs END) j"
	"    ORDER BY j.id)),"
	"  strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
	" FROM resources_v1 o ORDER BY cluster, addr;"
	"DROP TABLE resources_v1;"
	"ALTER TABLE journal ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX journal_pending ON journal(cluster) WHERE status = 'pending';"
	"CREATE TABLE lock("
	" one INTEGER PRIMARY KEY CHECK (one = 1),"
	" id TEXT NOT NULL,"
	" pid INTEGER NOT NULL,"
	" host TEXT NOT NULL,"
	" command TEXT NOT NULL,"
	" since TEXT NOT NULL);";

/* --- helpers ----------------------------------------------------------- */

static int db_error(struct cg_state *st, struct cg_err *err, const char *what)
{
	return cg_error(err, CG_EXIT_ERROR, "state %s: %s: %s", st->path, what,
			sqlite3_errmsg(st->db));
}

static int exec(struct cg_state *st, const char *sql, const char *what, struct cg_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(st, err, what);
	return 0;
}

static int begin_write(struct cg_state *st, struct cg_err *err)
{
	int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		return 0;
	if ((rc & 0xff) == SQLITE_BUSY)
		return cg_error(err, CG_EXIT_ERROR,
				"state %s: busy: another process kept a write transaction open for more than %d s",
				st->path, BUSY_TIMEOUT_MS / 1000);
	return db_error(st, err, "cannot begin a transaction");
}

static int commit(struct cg_state *st, struct cg_err *err)
{
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_error(st, err, "cannot commit");
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static void rollback(struct cg_state *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* A cached statement, reset and unbound. NULL on error (err filled). */
static sqlite3_stmt *stmt(struct cg_state *st, int which, struct cg_err *err)
{
	sqlite3_stmt *s = st->stmt[which];
	if (!s) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
				       &s, NULL) != SQLITE_OK) {
			db_error(st, err, "cannot prepare a statement");
			return NULL;
		}
		st->stmt[which] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* A one-off statement (caller finalizes). */
static sqlite3_stmt *prepare(struct cg_state *st, const char *sql, struct cg_err *err)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		db_error(st, err, "cannot prepare a statement");
		return NULL;
	}
	return s;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? cg_xstrdup((const char *)t) : NULL;
}

static void col_copy(sqlite3_stmt *s, int i, char *out, size_t n)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	snprintf(out, n, "%s", t ? (const char *)t : "");
}

static int streq_null(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

static void uuid4(char out[37])
{
	unsigned char b[16];
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* getrandom cannot fail otherwise on Linux >= 3.17; a
			 * lineage must still be unique, so abort like OOM. */
			abort();
		}
		got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

static void now_iso(char out[32])
{
	cg_iso8601(cg_wall_s(), out);
}

static int bump_serial(struct cg_state *st, struct cg_err *err)
{
	sqlite3_stmt *s = stmt(st, S_BUMP_SERIAL, err);
	if (!s)
		return -1;
	if (sqlite3_step(s) != SQLITE_DONE)
		return db_error(st, err, "cannot bump the serial");
	return 0;
}

static int get_serial(struct cg_state *st, int64_t *serial, struct cg_err *err)
{
	sqlite3_stmt *s = stmt(st, S_GET_SERIAL, err);
	if (!s)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		db_error(st, err, "no serial in meta");
		sqlite3_reset(s);
		return -1;
	}
	*serial = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return 0;
}

static int user_version(struct cg_state *st, int *v, struct cg_err *err)
{
	sqlite3_stmt *s = prepare(st, "PRAGMA user_version", err);
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return db_error(st, err, "cannot read the schema version");
	return 0;
}

static int too_new(struct cg_state *st, int v, struct cg_err *err)
{
	return cg_error(err, CG_EXIT_ERROR,
			"state %s has schema version %d, newer than this cassandgo knows (%d); "
			"use a newer cassandgo (the file was left untouched)",
			st->path, v, CG_STATE_SCHEMA);
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int backup_as(struct cg_state *st, const char *label, char **path,
		     struct cg_err *err);

/* --- open / close ------------------------------------------------------ */

int cg_state_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* A file without schema version must be empty (fresh), not someone else's
 * database. */
static int check_empty(struct cg_state *st, struct cg_err *err)
{
	sqlite3_stmt *s = prepare(st, "SELECT count(*) FROM sqlite_master", err);
	if (!s)
		return -1;
	int n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
	sqlite3_finalize(s);
	if (n != 0)
		return cg_error(err, CG_EXIT_ERROR,
				"%s is an SQLite database but not a cassandgo state (no schema version)",
				st->path);
	return 0;
}

/* Create the schema or migrate an older one; inside a write transaction so
 * that two processes opening a fresh file at once do not both create it. */
static int init_schema(struct cg_state *st, struct cg_err *err)
{
	int v;
	if (begin_write(st, err) < 0)
		return -1;
	if (user_version(st, &v, err) < 0)
		goto fail;
	if (v > CG_STATE_SCHEMA) {
		too_new(st, v, err);
		goto fail;
	}
	if (v == 0) {
		if (check_empty(st, err) < 0)
			goto fail;
		char lineage[37], created[32];
		uuid4(lineage);
		now_iso(created);
		if (exec(st, schema_v2, "cannot create the schema", err) < 0 ||
		    exec(st, schema_faults, "cannot create the schema", err) < 0)
			goto fail;
		char *sql = sqlite3_mprintf(
			"INSERT INTO meta(key, value) VALUES ('lineage', %Q), ('serial', '0'),"
			" ('created', %Q)", lineage, created);
		int rc = exec(st, sql, "cannot initialise meta", err);
		sqlite3_free(sql);
		if (rc < 0)
			goto fail;
	}
	if (v == 1) {
		if (exec(st, migrate_1_2, "cannot migrate schema 1 to 2", err) < 0)
			goto fail;
		/* Schema 1 files always had a lineage; keep it. Make one only
		 * if a hand-made file lacks it. */
		char lineage[37];
		uuid4(lineage);
		char *sql = sqlite3_mprintf(
			"INSERT OR IGNORE INTO meta(key, value) VALUES ('lineage', %Q), ('serial', '0')",
			lineage);
		int rc = exec(st, sql, "cannot migrate meta", err);
		sqlite3_free(sql);
		if (rc < 0)
			goto fail;
	}
	if ((v == 1 || v == 2) &&
	    exec(st, schema_faults, "cannot migrate schema 2 to 3", err) < 0)
		goto fail;
	if (v != CG_STATE_SCHEMA) {
		char sql[64];
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", CG_STATE_SCHEMA);
		if (exec(st, sql, "cannot set the schema version", err) < 0)
			goto fail;
	}
	return commit(st, err);
fail:
	rollback(st);
	return -1;
}

int cg_state_open(struct cg_state **out, const char *path, int create, struct cg_err *err)
{
	*out = NULL;
	if (!create && !cg_state_exists(path))
		return cg_error(err, CG_EXIT_ERROR, "no state at %s", path);
	if (create) {
		char *dir = cg_dirname(path);
		if (cg_mkdir_p(dir, 0700, err) < 0) {
			free(dir);
			return -1;
		}
		/* Make the file ourselves so it is 0600 whatever the umask;
		 * SQLite gives the -wal and -shm files the same mode. */
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		int e = errno;
		if (fd >= 0) {
			close(fd);
			/* SQLite does not know the file is new: make its
			 * directory entry durable ourselves. */
			fsync_path(dir, O_RDONLY | O_DIRECTORY);
		}
		free(dir);
		if (fd < 0 && e != EEXIST)
			return cg_error(err, CG_EXIT_ERROR, "cannot create %s: %s", path,
					strerror(e));
	}

	struct cg_state *st = cg_xcalloc(1, sizeof(*st));
	st->path = cg_xstrdup(path);
	pthread_mutex_init(&st->mu, NULL);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		cg_error(err, CG_EXIT_ERROR, "cannot open state %s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);

	/* Refuse a newer schema before writing anything (even the WAL switch). */
	int v;
	if (user_version(st, &v, err) < 0) {
		cg_error_wrap(err, "%s is not a cassandgo state", path);
		goto fail;
	}
	if (v > CG_STATE_SCHEMA) {
		too_new(st, v, err);
		goto fail;
	}
	if (v == 0 && check_empty(st, err) < 0)
		goto fail;
	if (v > 0 && v < CG_STATE_SCHEMA) {
		/* Keep the file as it was before migrating it (an older
		 * cassandgo can still use that copy). */
		char label[32];
		snprintf(label, sizeof(label), "schema%d", v);
		if (backup_as(st, label, NULL, err) < 0) {
			cg_error_wrap(err, "cannot back up before migrating the schema");
			goto fail;
		}
	}
	if (exec(st, "PRAGMA journal_mode = WAL", "cannot enable WAL", err) < 0 ||
	    exec(st, "PRAGMA synchronous = FULL", "cannot set synchronous", err) < 0 ||
	    exec(st, "PRAGMA foreign_keys = ON", "cannot enable foreign keys", err) < 0)
		goto fail;
	if (init_schema(st, err) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	cg_state_close(st);
	return -1;
}

void cg_state_close(struct cg_state *st)
{
	if (!st)
		return;
	for (int i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	pthread_mutex_destroy(&st->mu);
	free(st->path);
	free(st);
}

const char *cg_state_path(const struct cg_state *st)
{
	return st->path;
}

/* --- meta -------------------------------------------------------------- */

int cg_state_meta(struct cg_state *st, struct cg_state_meta *out, struct cg_err *err)
{
	int rc = -1;
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&st->mu);
	sqlite3_stmt *s = prepare(st, "SELECT value FROM meta WHERE key = 'lineage'", err);
	if (!s)
		goto out;
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		db_error(st, err, "no lineage in meta");
		goto out;
	}
	col_copy(s, 0, out->lineage, sizeof(out->lineage));
	sqlite3_finalize(s);
	if (get_serial(st, &out->serial, err) < 0 || user_version(st, &out->schema, err) < 0)
		goto out;
	rc = 0;
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* --- lock -------------------------------------------------------------- */

/* Reads the lock row; 1 if locked, 0 if free, -1 on error. */
static int read_lock(struct cg_state *st, struct cg_lock_info *out, struct cg_err *err)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *s = prepare(st, "SELECT id, pid, host, command, since FROM lock", err);
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		col_copy(s, 0, out->id, sizeof(out->id));
		out->pid = (long)sqlite3_column_int64(s, 1);
		col_copy(s, 2, out->host, sizeof(out->host));
		col_copy(s, 3, out->command, sizeof(out->command));
		col_copy(s, 4, out->since, sizeof(out->since));
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_error(st, err, "cannot read the lock");
}

static void hostname(char out[256])
{
	if (gethostname(out, 256) != 0)
		snprintf(out, 256, "unknown");
	out[255] = '\0';
}

/* Is the holder a process of this host that no longer exists? */
static int holder_gone(const struct cg_lock_info *h)
{
	char me[256];
	hostname(me);
	if (strcmp(me, h->host) != 0 || h->pid <= 0)
		return 0;
	return kill((pid_t)h->pid, 0) != 0 && errno == ESRCH;
}

static int locked_error(struct cg_err *err, const struct cg_lock_info *h)
{
	return cg_error(err, CG_EXIT_LOCKED,
			"state is locked by pid %ld on host %s (%s) since %s%s; lock ID %s; "
			"if that process is gone, run: cassandgo state unlock %s",
			h->pid, h->host, h->command, h->since,
			holder_gone(h) ? " (that process is no longer running)" : "",
			h->id, h->id);
}

int cg_state_lock(struct cg_state *st, const char *command, struct cg_lock_info *mine,
		  struct cg_err *err)
{
	struct cg_lock_info me, held;
	memset(&me, 0, sizeof(me));
	uuid4(me.id);
	me.pid = (long)getpid();
	hostname(me.host);
	snprintf(me.command, sizeof(me.command), "%s", command ? command : "");
	now_iso(me.since);

	int rc = -1;
	pthread_mutex_lock(&st->mu);
	if (begin_write(st, err) < 0)
		goto out;
	int l = read_lock(st, &held, err);
	if (l < 0)
		goto fail;
	if (l == 1) {
		locked_error(err, &held);
		goto fail;
	}
	sqlite3_stmt *s = prepare(st, "INSERT INTO lock(one, id, pid, host, command, since)"
				  " VALUES (1, ?1, ?2, ?3, ?4, ?5)", err);
	if (!s)
		goto fail;
	bind_text(s, 1, me.id);
	sqlite3_bind_int64(s, 2, me.pid);
	bind_text(s, 3, me.host);
	bind_text(s, 4, me.command);
	bind_text(s, 5, me.since);
	int sr = sqlite3_step(s);
	sqlite3_finalize(s);
	if (sr != SQLITE_DONE) {
		db_error(st, err, "cannot take the lock");
		goto fail;
	}
	if (commit(st, err) < 0)
		goto out;
	if (mine)
		*mine = me;
	rc = 0;
	goto out;
fail:
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int cg_state_unlock(struct cg_state *st, const char *id, struct cg_err *err)
{
	struct cg_lock_info held;
	int rc = -1;
	pthread_mutex_lock(&st->mu);
	if (begin_write(st, err) < 0)
		goto out;
	int l = read_lock(st, &held, err);
	if (l < 0)
		goto fail;
	if (l == 0) {
		cg_error(err, CG_EXIT_ERROR, "state %s is not locked", st->path);
		goto fail;
	}
	if (!id || strcmp(id, held.id) != 0) {
		cg_error(err, CG_EXIT_LOCKED,
			 "lock ID %s does not match: state is locked by pid %ld on host %s (%s) "
			 "since %s; lock ID %s", id ? id : "(none)", held.pid, held.host,
			 held.command, held.since, held.id);
		goto fail;
	}
	if (exec(st, "DELETE FROM lock", "cannot release the lock", err) < 0)
		goto fail;
	rc = commit(st, err);
	goto out;
fail:
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int cg_state_lock_holder(struct cg_state *st, struct cg_lock_info *out, struct cg_err *err)
{
	pthread_mutex_lock(&st->mu);
	int rc = read_lock(st, out, err);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* --- resources --------------------------------------------------------- */

/* Attributes as stored: [["key","value",flags],["key",null,flags],...]. */
static void attrs_encode(struct cg_buf *b, const struct cg_resource *r)
{
	cg_buf_reset(b);
	cg_buf_add(b, "[", 1);
	for (int i = 0; i < r->nattrs; i++) {
		cg_buf_adds(b, i ? ",[" : "[");
		cg_buf_add_json(b, r->attrs[i].key);
		cg_buf_add(b, ",", 1);
		cg_buf_add_json(b, r->attrs[i].value);
		cg_buf_addf(b, ",%u]", r->attrs[i].flags);
	}
	cg_buf_add(b, "]", 1);
}

/* Parse the stored attribute array into r (appended, no duplicate check:
 * keys were unique when written), with the JSON reader every parser of
 * outside input shares (util/json.c): a state file may be old,
 * hand-edited or damaged. */
static int attrs_decode(const char *s, struct cg_resource *r)
{
	struct cg_json *j;
	if (cg_json_parse(s, strlen(s), &j, NULL) < 0)
		return -1;
	int rc = j->type == CG_JSON_ARR ? 0 : -1;
	for (int i = 0; rc == 0 && i < j->n; i++) {
		const struct cg_json *t = &j->v[i];
		double f;
		if (t->type != CG_JSON_ARR || t->n != 3 || t->v[0].type != CG_JSON_STR ||
		    (t->v[1].type != CG_JSON_STR && t->v[1].type != CG_JSON_NULL) ||
		    !cg_json_num(&t->v[2], &f) || f < 0 || f > UINT_MAX || f != floor(f)) {
			rc = -1;
			break;
		}
		if (r->nattrs == r->cattrs) {
			r->cattrs = r->cattrs ? r->cattrs * 2 : 8;
			r->attrs = cg_xrealloc(r->attrs, (size_t)r->cattrs * sizeof(*r->attrs));
		}
		r->attrs[r->nattrs].key = cg_xstrdup(t->v[0].str);
		r->attrs[r->nattrs].value = cg_xstrdup(t->v[1].str);
		r->attrs[r->nattrs].flags = (unsigned)f;
		r->nattrs++;
	}
	cg_json_free(j);
	return rc;
}

int cg_state_attrs_decode(const char *s, struct cg_resource *r)
{
	return attrs_decode(s, r);
}

int cg_state_load(struct cg_state *st, const char *cluster, struct cg_rset *out,
		  struct cg_err *err)
{
	int rc = -1;
	pthread_mutex_lock(&st->mu);
	/* One read transaction: a consistent snapshot even if another process
	 * writes meanwhile (WAL readers never block). */
	if (exec(st, "BEGIN", "cannot begin a transaction", err) < 0)
		goto out;
	sqlite3_stmt *s = stmt(st, S_LOAD, err);
	if (!s)
		goto fail;
	bind_text(s, 1, cluster);
	int step;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(s, 0);
		const char *kname = (const char *)sqlite3_column_text(s, 2);
		int kind = kname ? cg_kind_parse(kname) : -1;
		if (kind < 0) {
			cg_error(err, CG_EXIT_ERROR, "state %s: resource %s has unknown kind '%s'",
				 st->path, addr, kname ? kname : "");
			goto fail;
		}
		struct cg_resource *r = cg_rset_new(out, (enum cg_kind)kind, addr);
		r->id = col_dup(s, 1);
		r->region = col_dup(s, 3);
		r->dc = col_dup(s, 4);
		r->node = sqlite3_column_int(s, 5);
		const char *attrs = (const char *)sqlite3_column_text(s, 6);
		if (attrs_decode(attrs ? attrs : "[]", r) < 0) {
			cg_error(err, CG_EXIT_ERROR, "state %s: resource %s: bad attributes",
				 st->path, addr);
			goto fail;
		}
	}
	if (step != SQLITE_DONE) {
		db_error(st, err, "cannot load resources");
		goto fail;
	}
	sqlite3_reset(s);
	rc = commit(st, err);
	goto out;
fail:
	if (s)
		sqlite3_reset(s);
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* Does the stored record (row of S_FIND_RES) hold the same content as r?
 * Attributes compare as a set: a different order alone is not a change. */
static int same_content(sqlite3_stmt *found, const struct cg_resource *r)
{
	const char *kind = (const char *)sqlite3_column_text(found, 1);
	if (!kind || strcmp(kind, cg_kind_name(r->kind)) ||
	    !streq_null((const char *)sqlite3_column_text(found, 2), r->region) ||
	    !streq_null((const char *)sqlite3_column_text(found, 3), r->dc) ||
	    sqlite3_column_int(found, 4) != r->node)
		return 0;
	struct cg_resource old;
	memset(&old, 0, sizeof(old));
	const char *attrs = (const char *)sqlite3_column_text(found, 5);
	int same = attrs && attrs_decode(attrs, &old) == 0 && old.nattrs == r->nattrs;
	for (int i = 0; same && i < old.nattrs; i++) {
		const struct cg_attr *x = cg_res_attr(r, old.attrs[i].key);
		same = x && streq_null(x->value, old.attrs[i].value) &&
		       x->flags == old.attrs[i].flags;
	}
	cg_res_clear(&old);
	return same;
}

/*
 * The upsert, inside a write transaction:
 *  1. a record with the same (cluster, addr, id) is updated if its content
 *     differs (kind, region, dc, node, attributes as a set);
 *  2. else, when r has an id and a record at addr has none, that record is
 *     the same resource that just got its id: it is updated in place;
 *  3. else a new record is inserted (possibly a second one at addr).
 * The serial is bumped in cases 1 (if changed), 2 and 3.
 */
static int put_locked(struct cg_state *st, const char *cluster, const struct cg_resource *r,
		      struct cg_err *err)
{
	const char *id = r->id && *r->id ? r->id : NULL;
	sqlite3_int64 rid = -1;

	sqlite3_stmt *f = stmt(st, S_FIND_RES, err);
	if (!f)
		return -1;
	bind_text(f, 1, cluster);
	bind_text(f, 2, r->addr);
	bind_text(f, 3, id);
	int step = sqlite3_step(f);
	if (step == SQLITE_ROW) {
		rid = sqlite3_column_int64(f, 0);
		int same = same_content(f, r);
		sqlite3_reset(f);
		if (same)
			return 0;
	} else {
		sqlite3_reset(f);
		if (step != SQLITE_DONE)
			return db_error(st, err, "cannot look up a resource");
	}
	if (rid < 0 && id) {
		f = stmt(st, S_FIND_RES_NOID, err);
		if (!f)
			return -1;
		bind_text(f, 1, cluster);
		bind_text(f, 2, r->addr);
		step = sqlite3_step(f);
		if (step == SQLITE_ROW)
			rid = sqlite3_column_int64(f, 0);
		sqlite3_reset(f);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			return db_error(st, err, "cannot look up a resource");
	}

	char now[32];
	now_iso(now);
	struct cg_buf attrs = {0};
	attrs_encode(&attrs, r);
	sqlite3_stmt *w;
	if (rid >= 0) {
		w = stmt(st, S_UPD_RES, err);
		if (!w)
			goto fail;
		sqlite3_bind_int64(w, 1, rid);
		bind_text(w, 2, id);
		bind_text(w, 3, cg_kind_name(r->kind));
		bind_text(w, 4, r->region);
		bind_text(w, 5, r->dc);
		sqlite3_bind_int(w, 6, r->node);
		bind_text(w, 7, attrs.data);
		bind_text(w, 8, now);
	} else {
		w = stmt(st, S_INS_RES, err);
		if (!w)
			goto fail;
		bind_text(w, 1, cluster);
		bind_text(w, 2, r->addr);
		bind_text(w, 3, id);
		bind_text(w, 4, cg_kind_name(r->kind));
		bind_text(w, 5, r->region);
		bind_text(w, 6, r->dc);
		sqlite3_bind_int(w, 7, r->node);
		bind_text(w, 8, attrs.data);
		bind_text(w, 9, now);
	}
	step = sqlite3_step(w);
	sqlite3_reset(w);
	if (step != SQLITE_DONE) {
		db_error(st, err, "cannot write a resource");
		goto fail;
	}
	cg_buf_free(&attrs);
	return bump_serial(st, err);
fail:
	cg_buf_free(&attrs);
	return -1;
}

int cg_state_put(struct cg_state *st, const char *cluster, const struct cg_resource *r,
		 struct cg_err *err)
{
	int rc = -1;
	pthread_mutex_lock(&st->mu);
	if (begin_write(st, err) < 0)
		goto out;
	if (put_locked(st, cluster, r, err) < 0) {
		cg_error_wrap(err, "cannot record %s", r->addr ? r->addr : "(no address)");
		rollback(st);
		goto out;
	}
	rc = commit(st, err);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int cg_state_put_all(struct cg_state *st, const char *cluster, const struct cg_rset *set,
		     int *changed, struct cg_err *err)
{
	int rc = -1;
	int64_t before, after;
	if (changed)
		*changed = 0;
	pthread_mutex_lock(&st->mu);
	if (begin_write(st, err) < 0)
		goto out;
	if (get_serial(st, &before, err) < 0)
		goto fail;
	for (int i = 0; i < set->n; i++) {
		if (put_locked(st, cluster, &set->v[i], err) < 0) {
			cg_error_wrap(err, "cannot record %s",
				      set->v[i].addr ? set->v[i].addr : "(no address)");
			goto fail;
		}
	}
	if (get_serial(st, &after, err) < 0)
		goto fail;
	if (commit(st, err) < 0)
		goto out;
	if (changed)
		*changed = (int)(after - before);
	rc = 0;
	goto out;
fail:
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int cg_state_replace(struct cg_state *st, const char *cluster, const struct cg_resource *r,
		     struct cg_err *err)
{
	int rc = -1;
	const char *id = r->id && *r->id ? r->id : NULL;
	pthread_mutex_lock(&st->mu);
	if (begin_write(st, err) < 0)
		goto out;
	sqlite3_stmt *s = prepare(st, "DELETE FROM resources WHERE cluster = ?1 AND addr = ?2"
				  " AND coalesce(id, '') <> coalesce(?3, '')", err);
	if (!s)
		goto fail;
	bind_text(s, 1, cluster);
	bind_text(s, 2, r->addr);
	bind_text(s, 3, id);
	int step = sqlite3_step(s);
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		db_error(st, err, "cannot remove superseded records");
		goto fail;
	}
	if (sqlite3_changes(st->db) > 0 && bump_serial(st, err) < 0)
		goto fail;
	if (put_locked(st, cluster, r, err) < 0) {
		cg_error_wrap(err, "cannot record %s", r->addr ? r->addr : "(no address)");
		goto fail;
	}
	rc = commit(st, err);
	goto out;
fail:
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int cg_state_remove(struct cg_state *st, const char *cluster, const char *addr,
		    const char *id, int *removed, struct cg_err *err)
{
	int rc = -1, n = 0;
	if (removed)
		*removed = 0;
	pthread_mutex_lock(&st->mu);
	if (begin_write(st, err) < 0)
		goto out;
	sqlite3_stmt *s = prepare(st, id
		? "DELETE FROM resources WHERE cluster = ?1 AND addr = ?2 AND id = ?3"
		: "DELETE FROM resources WHERE cluster = ?1 AND addr = ?2", err);
	if (!s)
		goto fail;
	bind_text(s, 1, cluster);
	bind_text(s, 2, addr);
	if (id)
		bind_text(s, 3, id);
	int step = sqlite3_step(s);
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		db_error(st, err, "cannot remove a resource");
		goto fail;
	}
	n = sqlite3_changes(st->db);
	if (n > 0 && bump_serial(st, err) < 0)
		goto fail;
	if (commit(st, err) < 0)
		goto out;
	if (removed)
		*removed = n;
	rc = 0;
	goto out;
fail:
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int cg_state_clusters(struct cg_state *st, char ***names, int *n, struct cg_err *err)
{
	*names = NULL;
	*n = 0;
	int rc = -1, cap = 0;
	pthread_mutex_lock(&st->mu);
	sqlite3_stmt *s = prepare(st, "SELECT DISTINCT cluster FROM resources ORDER BY cluster", err);
	if (!s)
		goto out;
	int step;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*names = cg_xrealloc(*names, (size_t)cap * sizeof(char *));
		}
		(*names)[(*n)++] = col_dup(s, 0);
	}
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		db_error(st, err, "cannot list clusters");
		for (int i = 0; i < *n; i++)
			free((*names)[i]);
		free(*names);
		*names = NULL;
		*n = 0;
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* --- journal ----------------------------------------------------------- */

int cg_state_journal_begin(struct cg_state *st, const char *cluster, const char *addr,
			   const char *op, int64_t *id, struct cg_err *err)
{
	char now[32];
	now_iso(now);
	int rc = -1;
	pthread_mutex_lock(&st->mu);
	if (begin_write(st, err) < 0)
		goto out;
	sqlite3_stmt *s = prepare(st, "INSERT INTO journal(cluster, addr, op, status, pid, started)"
				  " VALUES (?1, ?2, ?3, 'pending', ?4, ?5)", err);
	if (!s)
		goto fail;
	bind_text(s, 1, cluster);
	bind_text(s, 2, addr);
	bind_text(s, 3, op);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)getpid());
	bind_text(s, 5, now);
	int step = sqlite3_step(s);
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		db_error(st, err, "cannot write the journal");
		goto fail;
	}
	sqlite3_int64 jid = sqlite3_last_insert_rowid(st->db);
	/* Keep the history bounded: every 100 entries drop finished rows
	 * older than the newest JOURNAL_KEEP (a range delete on the key). */
	if (jid % 100 == 0) {
		char sql[160];
		snprintf(sql, sizeof(sql),
			 "DELETE FROM journal WHERE id <= %lld AND status <> 'pending'",
			 (long long)(jid - JOURNAL_KEEP));
		if (exec(st, sql, "cannot prune the journal", err) < 0)
			goto fail;
	}
	if (commit(st, err) < 0)
		goto out;
	if (id)
		*id = jid;
	rc = 0;
	goto out;
fail:
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static const char *status_name(enum cg_journal_status s)
{
	switch (s) {
	case CG_J_PENDING: return "pending";
	case CG_J_DONE: return "done";
	case CG_J_FAILED: return "failed";
	}
	return NULL;
}

int cg_state_journal_end(struct cg_state *st, int64_t id, enum cg_journal_status status,
			 const char *message, struct cg_err *err)
{
	if (status != CG_J_DONE && status != CG_J_FAILED)
		return cg_error(err, CG_EXIT_ERROR,
				"journal entry %lld: can only end as done or failed",
				(long long)id);
	char now[32];
	now_iso(now);
	int rc = -1;
	pthread_mutex_lock(&st->mu);
	if (begin_write(st, err) < 0)
		goto out;
	sqlite3_stmt *s = prepare(st, "UPDATE journal SET status = ?2, ended = ?3, message = ?4"
				  " WHERE id = ?1 AND status = 'pending'", err);
	if (!s)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	bind_text(s, 2, status_name(status));
	bind_text(s, 3, now);
	bind_text(s, 4, message);
	int step = sqlite3_step(s);
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		db_error(st, err, "cannot write the journal");
		goto fail;
	}
	if (sqlite3_changes(st->db) != 1) {
		cg_error(err, CG_EXIT_ERROR, "state %s: no pending journal entry %lld",
			 st->path, (long long)id);
		goto fail;
	}
	rc = commit(st, err);
	goto out;
fail:
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int cg_state_journal_pending(struct cg_state *st, const char *cluster,
			     struct cg_journal_entry **out, int *n, struct cg_err *err)
{
	*out = NULL;
	*n = 0;
	int rc = -1, cap = 0;
	pthread_mutex_lock(&st->mu);
	sqlite3_stmt *s = prepare(st, "SELECT id, cluster, addr, op, message, pid, started"
				  " FROM journal WHERE cluster = ?1 AND status = 'pending'"
				  " ORDER BY id", err);
	if (!s)
		goto out;
	bind_text(s, 1, cluster);
	int step;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = cg_xrealloc(*out, (size_t)cap * sizeof(**out));
		}
		struct cg_journal_entry *e = &(*out)[(*n)++];
		memset(e, 0, sizeof(*e));
		e->id = sqlite3_column_int64(s, 0);
		e->cluster = col_dup(s, 1);
		e->addr = col_dup(s, 2);
		e->op = col_dup(s, 3);
		e->message = col_dup(s, 4);
		e->status = CG_J_PENDING;
		e->pid = (long)sqlite3_column_int64(s, 5);
		col_copy(s, 6, e->started, sizeof(e->started));
	}
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		db_error(st, err, "cannot read the journal");
		cg_state_journal_free(*out, *n);
		*out = NULL;
		*n = 0;
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int cg_state_journal_settle(struct cg_state *st, const char *cluster, struct cg_err *err)
{
	char now[32];
	now_iso(now);
	int rc = -1;
	pthread_mutex_lock(&st->mu);
	if (begin_write(st, err) < 0)
		goto out;
	sqlite3_stmt *s = prepare(st, "UPDATE journal SET status = 'reconciled', ended = ?2,"
				  " message = coalesce(message, 'interrupted; reconciled by refresh')"
				  " WHERE cluster = ?1 AND status = 'pending'", err);
	if (!s)
		goto fail;
	bind_text(s, 1, cluster);
	bind_text(s, 2, now);
	int step = sqlite3_step(s);
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		db_error(st, err, "cannot write the journal");
		goto fail;
	}
	rc = commit(st, err);
	goto out;
fail:
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

void cg_state_journal_free(struct cg_journal_entry *v, int n)
{
	for (int i = 0; i < n; i++) {
		free(v[i].cluster);
		free(v[i].addr);
		free(v[i].op);
		free(v[i].message);
	}
	free(v);
}

/* --- backup and check -------------------------------------------------- */

/* Backup names sort by time then serial: "state-<serial>-<time>.db". */
struct backup_name {
	char *name;
	long long serial;
	char time[24];
};

static int parse_backup(const char *name, struct backup_name *b)
{
	long long serial;
	char t[24];
	int end = 0;
	if (sscanf(name, "state-%lld-%16[0-9TZ].db%n", &serial, t, &end) != 2 ||
	    name[end] != '\0' || strlen(t) != 16)
		return 0;
	b->serial = serial;
	snprintf(b->time, sizeof(b->time), "%s", t);
	return 1;
}

static int backup_cmp(const void *pa, const void *pb)
{
	const struct backup_name *a = pa, *b = pb;
	int c = strcmp(b->time, a->time);	/* newest first */
	if (c)
		return c;
	return a->serial < b->serial ? 1 : a->serial > b->serial ? -1 : 0;
}

/* Delete all but the newest BACKUPS_KEEP backups in dir. Best effort: a
 * failure to prune must not fail the apply that asked for a backup. */
static void prune_backups(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct backup_name *v = NULL;
	int n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct backup_name b;
		if (!parse_backup(de->d_name, &b))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = cg_xrealloc(v, (size_t)cap * sizeof(*v));
		}
		b.name = cg_xstrdup(de->d_name);
		v[n++] = b;
	}
	closedir(d);
	if (n)
		qsort(v, (size_t)n, sizeof(*v), backup_cmp);
	for (int i = 0; i < n; i++) {
		if (i >= BACKUPS_KEEP) {
			char *p = cg_xasprintf("%s/%s", dir, v[i].name);
			unlink(p);
			free(p);
		}
		free(v[i].name);
	}
	free(v);
}

/* Copy the database to <dir>/backups/<label>-<serial>-<time>.db. Only
 * "state" copies are pruned; the copy taken before a schema migration stays. */
static int backup_as(struct cg_state *st, const char *label, char **path, struct cg_err *err)
{
	if (path)
		*path = NULL;
	int rc = -1;
	char *sdir = cg_dirname(st->path);
	char *dir = cg_xasprintf("%s/backups", sdir);
	char *file = NULL, *tmp = NULL;
	free(sdir);
	if (cg_mkdir_p(dir, 0700, err) < 0)
		goto done;

	tmp = cg_xasprintf("%s/.state-backup.tmp.%ld", dir, (long)getpid());
	/* VACUUM INTO wants an absent or empty target; making it first gives
	 * it mode 0600 whatever the umask. */
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		cg_error(err, CG_EXIT_ERROR, "cannot create %s: %s", tmp, strerror(errno));
		goto done;
	}
	close(fd);

	/* VACUUM cannot run inside a transaction; the serial in the name is
	 * read back from the copy itself so the name tells its content. */
	pthread_mutex_lock(&st->mu);
	sqlite3_stmt *s = prepare(st, "VACUUM INTO ?1", err);
	int step = SQLITE_ERROR;
	if (s) {
		bind_text(s, 1, tmp);
		step = sqlite3_step(s);
		sqlite3_finalize(s);
		if (step != SQLITE_DONE)
			db_error(st, err, "cannot write a backup");
	}
	pthread_mutex_unlock(&st->mu);
	if (step != SQLITE_DONE)
		goto done;

	long long serial = -1;
	sqlite3 *copy = NULL;
	if (sqlite3_open_v2(tmp, &copy, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(copy, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'serial'",
			       -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			serial = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(copy);
	if (serial < 0) {
		cg_error(err, CG_EXIT_ERROR, "backup %s cannot be read back", tmp);
		goto done;
	}
	char stamp[32];
	time_t t = (time_t)cg_wall_s();
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	file = cg_xasprintf("%s/%s-%lld-%s.db", dir, label, serial, stamp);
	if (fsync_path(tmp, O_RDONLY) != 0 || rename(tmp, file) != 0) {
		cg_error(err, CG_EXIT_ERROR, "cannot write backup %s: %s", file, strerror(errno));
		goto done;
	}
	fsync_path(dir, O_RDONLY | O_DIRECTORY);
	if (!strcmp(label, "state"))
		prune_backups(dir);
	if (path) {
		*path = file;
		file = NULL;
	}
	rc = 0;
done:
	if (rc < 0 && tmp)
		unlink(tmp);
	free(tmp);
	free(file);
	free(dir);
	return rc;
}

int cg_state_backup(struct cg_state *st, char **path, struct cg_err *err)
{
	return backup_as(st, "state", path, err);
}

int cg_state_check(struct cg_state *st, struct cg_err *err)
{
	int rc = -1;
	struct cg_buf msg = {0};
	pthread_mutex_lock(&st->mu);
	sqlite3_stmt *s = prepare(st, "PRAGMA integrity_check", err);
	if (!s)
		goto out;
	int step, ok = 0, rows = 0;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		if (rows == 0 && t && !strcmp(t, "ok"))
			ok = 1;
		else if (rows < 5)
			cg_buf_addf(&msg, "%s%s", msg.len ? "; " : "", t ? t : "?");
		rows++;
	}
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		db_error(st, err, "integrity check failed to run");
		goto out;
	}
	if (!ok || rows != 1) {
		cg_error(err, CG_EXIT_ERROR, "state %s is corrupt: %s", st->path,
			 msg.data ? msg.data : "integrity_check did not answer ok");
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&st->mu);
	cg_buf_free(&msg);
	return rc;
}

/* --- parking ------------------------------------------------------------ */

int cg_state_parked(struct cg_state *st, const char *cluster, char **value, struct cg_err *err)
{
	int rc = -1;
	*value = NULL;
	char *key = cg_xasprintf("parked/%s", cluster);
	pthread_mutex_lock(&st->mu);
	sqlite3_stmt *s = prepare(st, "SELECT value FROM meta WHERE key = ?1", err);
	if (s) {
		bind_text(s, 1, key);
		int step = sqlite3_step(s);
		if (step == SQLITE_ROW)
			*value = col_dup(s, 0);
		sqlite3_finalize(s);
		rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : db_error(st, err, "cannot read the parked mark");
	}
	pthread_mutex_unlock(&st->mu);
	free(key);
	return rc;
}

int cg_state_set_parked(struct cg_state *st, const char *cluster, const char *value,
			struct cg_err *err)
{
	int rc = -1;
	char *key = cg_xasprintf("parked/%s", cluster);
	pthread_mutex_lock(&st->mu);
	if (begin_write(st, err) < 0)
		goto out;
	sqlite3_stmt *s = prepare(st, value
		? "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE "
		  "SET value = excluded.value WHERE value IS NOT excluded.value"
		: "DELETE FROM meta WHERE key = ?1", err);
	if (!s)
		goto fail;
	bind_text(s, 1, key);
	if (value)
		bind_text(s, 2, value);
	int step = sqlite3_step(s);
	sqlite3_finalize(s);
	if (step != SQLITE_DONE) {
		db_error(st, err, "cannot write the parked mark");
		goto fail;
	}
	if (sqlite3_changes(st->db) > 0 && bump_serial(st, err) < 0)
		goto fail;
	if (commit(st, err) < 0)
		goto out;
	rc = 0;
	goto out;
fail:
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	free(key);
	return rc;
}

/* --- faults --------------------------------------------------------------- */

/* One write statement and a serial bump in a transaction; *changes gets the
 * rows it touched. */
static int fault_write(struct cg_state *st, sqlite3_stmt *s, int *changes, struct cg_err *err)
{
	int step = sqlite3_step(s);
	sqlite3_finalize(s);
	if (step != SQLITE_DONE)
		return db_error(st, err, "cannot record the fault");
	*changes = sqlite3_changes(st->db);
	return *changes ? bump_serial(st, err) : 0;
}

int cg_state_fault_put(struct cg_state *st, const char *cluster, const struct cg_fault *f,
		       struct cg_err *err)
{
	int rc = -1, changes = 0;
	pthread_mutex_lock(&st->mu);
	if (begin_write(st, err) < 0)
		goto out;
	sqlite3_stmt *s = prepare(st, "INSERT OR REPLACE INTO faults(cluster, kind, target, detail,"
				  " since, until) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", err);
	if (!s)
		goto fail;
	bind_text(s, 1, cluster);
	bind_text(s, 2, f->kind);
	bind_text(s, 3, f->target);
	bind_text(s, 4, f->detail);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)f->since);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)f->until);
	if (fault_write(st, s, &changes, err) < 0)
		goto fail;
	rc = commit(st, err);
	goto out;
fail:
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	return rc;
}

int cg_state_faults(struct cg_state *st, const char *cluster, struct cg_fault **v, int *n,
		    struct cg_err *err)
{
	*v = NULL;
	*n = 0;
	pthread_mutex_lock(&st->mu);
	sqlite3_stmt *s = prepare(st, "SELECT kind, target, detail, since, until FROM faults"
				  " WHERE cluster = ?1 ORDER BY since, kind, target", err);
	int rc = s ? 0 : -1, step;
	if (s)
		bind_text(s, 1, cluster);
	while (s && (step = sqlite3_step(s)) == SQLITE_ROW) {
		*v = cg_xrealloc(*v, (size_t)(*n + 1) * sizeof(**v));
		struct cg_fault *f = &(*v)[(*n)++];
		memset(f, 0, sizeof(*f));
		col_copy(s, 0, f->kind, sizeof(f->kind));
		col_copy(s, 1, f->target, sizeof(f->target));
		col_copy(s, 2, f->detail, sizeof(f->detail));
		f->since = sqlite3_column_int64(s, 3);
		f->until = sqlite3_column_int64(s, 4);
	}
	if (s && step != SQLITE_DONE)
		rc = db_error(st, err, "cannot read the faults");
	sqlite3_finalize(s);
	pthread_mutex_unlock(&st->mu);
	if (rc < 0) {
		free(*v);
		*v = NULL;
		*n = 0;
	}
	return rc;
}

int cg_state_fault_clear(struct cg_state *st, const char *cluster, const char *kind,
			 const char *target, int *cleared, struct cg_err *err)
{
	int rc = -1, changes = 0;
	pthread_mutex_lock(&st->mu);
	if (begin_write(st, err) < 0)
		goto out;
	sqlite3_stmt *s = prepare(st, "DELETE FROM faults WHERE cluster = ?1"
				  " AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR target = ?3)", err);
	if (!s)
		goto fail;
	bind_text(s, 1, cluster);
	bind_text(s, 2, kind);
	bind_text(s, 3, target);
	if (fault_write(st, s, &changes, err) < 0)
		goto fail;
	rc = commit(st, err);
	goto out;
fail:
	rollback(st);
out:
	pthread_mutex_unlock(&st->mu);
	if (cleared)
		*cleared = rc == 0 ? changes : 0;
	return rc;
}
