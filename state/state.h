/*
 * state.h - what cassandgo believes exists: a SQLite database (WAL mode),
 * default .cassandgo/state.db beside the config.
 *
 * Holds, per cluster, the recorded resources; a journal of every action
 * (pending before it touches the world, done/failed after); a lock so that
 * two apply/destroy never run on one state; the state's lineage (a random id
 * fixed at creation) and serial (bumped only when recorded content changes).
 * The schema is versioned (PRAGMA user_version) and migrated on open.
 *
 * Thread-safety: one struct cg_state may be used from several threads; calls
 * are serialised inside.
 * Ownership: strings and sets filled by these calls belong to the caller.
 */
#ifndef CG_STATE_H
#define CG_STATE_H

#include <stdint.h>
#include "../planner/model.h"

struct cg_state;

/* Open path. create=0: a missing file is an error (caller decides whether
 * "no state yet" is fine via cg_state_exists). create=1: make the file and
 * its directory (0700). */
int cg_state_exists(const char *path);
int cg_state_open(struct cg_state **out, const char *path, int create, struct cg_err *err);
void cg_state_close(struct cg_state *st);
const char *cg_state_path(const struct cg_state *st);

/* Schema version this build writes. */
#define CG_STATE_SCHEMA 3

struct cg_state_meta {
	char lineage[37];	/* UUID */
	int64_t serial;
	int schema;
};
int cg_state_meta(struct cg_state *st, struct cg_state_meta *out, struct cg_err *err);

/* Lock. On contention fails at once with err->code = CG_EXIT_LOCKED and a
 * message naming the holder (id, pid, host, command, since). */
struct cg_lock_info {
	char id[37];
	long pid;
	char host[256];
	char command[256];
	char since[32];
};
int cg_state_lock(struct cg_state *st, const char *command, struct cg_lock_info *mine,
		  struct cg_err *err);
int cg_state_unlock(struct cg_state *st, const char *id, struct cg_err *err);
/* Current holder; returns 1 when locked, 0 when free. */
int cg_state_lock_holder(struct cg_state *st, struct cg_lock_info *out, struct cg_err *err);

/* Resources. put is an upsert keyed by (cluster, addr, id) that bumps the serial
 * only when something changed; load appends to out. */
int cg_state_load(struct cg_state *st, const char *cluster, struct cg_rset *out,
		  struct cg_err *err);
int cg_state_put(struct cg_state *st, const char *cluster, const struct cg_resource *r,
		 struct cg_err *err);
/* Decode a stored attribute array (the resources.attrs column:
 * [["key","value"|null,flags],...]) into r, appending to its attributes.
 * Returns 0, or -1 when malformed (what was decoded before the error stays in
 * r; cg_res_clear frees it). What cg_state_load does per row; exported so the
 * fuzz target tests/fuzz/fuzz_state_attrs.c can reach it without SQLite. */
int cg_state_attrs_decode(const char *s, struct cg_resource *r);
/* Remove the record (id NULL: every record at addr). Returns 0 even if absent;
 * *removed (may be NULL) tells how many went. */
int cg_state_remove(struct cg_state *st, const char *cluster, const char *addr,
		    const char *id, int *removed, struct cg_err *err);
/* Clusters that have records (caller frees strings and array). */
int cg_state_clusters(struct cg_state *st, char ***names, int *n, struct cg_err *err);

/* Journal. */
enum cg_journal_status { CG_J_PENDING, CG_J_DONE, CG_J_FAILED };
struct cg_journal_entry {
	int64_t id;
	char *cluster, *addr, *op, *message;
	enum cg_journal_status status;
	long pid;
	char started[32];
};
int cg_state_journal_begin(struct cg_state *st, const char *cluster, const char *addr,
			   const char *op, int64_t *id, struct cg_err *err);
int cg_state_journal_end(struct cg_state *st, int64_t id, enum cg_journal_status status,
			 const char *message, struct cg_err *err);
/* Entries still pending (an interrupted run). Caller frees with
 * cg_state_journal_free. */
int cg_state_journal_pending(struct cg_state *st, const char *cluster,
			     struct cg_journal_entry **out, int *n, struct cg_err *err);
/* Mark pending entries of cluster as reconciled (after a successful refresh). */
int cg_state_journal_settle(struct cg_state *st, const char *cluster, struct cg_err *err);
void cg_state_journal_free(struct cg_journal_entry *v, int n);

/* Consistent copy (VACUUM INTO) to <dir>/backups/state-<serial>-<time>.db;
 * keeps the newest 10. *path (may be NULL) gets the file written. */
int cg_state_backup(struct cg_state *st, char **path, struct cg_err *err);

/* PRAGMA integrity_check == "ok". */
int cg_state_check(struct cg_state *st, struct cg_err *err);

/* --- Added by the state store owner (not in the first header) ---------- */

/* Record every resource of set (cg_state_put's rules for each) in ONE
 * transaction: one fsync instead of one per resource, which matters when a
 * refresh records thousands (a single put costs ~1 ms of fsync). All or
 * nothing. *changed (may be NULL) gets how many records changed. */
int cg_state_put_all(struct cg_state *st, const char *cluster, const struct cg_rset *set,
		     int *changed, struct cg_err *err);

/* Record r as the only record at its address, in one transaction: records
 * at r->addr with another id go, then r is put (cg_state_put's rules). What
 * the executor does after creating or replacing a resource; being atomic, a
 * crash cannot leave the address with no record. Serial bumps only if
 * something changed. */
int cg_state_replace(struct cg_state *st, const char *cluster, const struct cg_resource *r,
		     struct cg_err *err);

/* Parking (cassandgo stop/start): the cluster's parked mark, written by
 * `stop` before it touches anything and removed once a `start` completed (or
 * the cluster is destroyed), so a run killed half-way leaves the cluster
 * parked until a start finishes. Kept in meta as "parked/<cluster>"; the
 * value is the caller's (when it was parked). get: *value NULL when the
 * cluster is not parked (caller frees). set: value NULL clears. A change
 * bumps the serial (saved plans become stale). */
int cg_state_parked(struct cg_state *st, const char *cluster, char **value, struct cg_err *err);
int cg_state_set_parked(struct cg_state *st, const char *cluster, const char *value,
			struct cg_err *err);

/* Active faults (cassandgo chaos), one per (cluster, kind, target): what
 * status shows, what plan turns into a heal, what heal and apply clear.
 * Putting or clearing one bumps the serial (a saved plan goes stale). */
struct cg_fault {
	char kind[16];		/* kill, stop, pause, partition, delay */
	char target[128];	/* a node (DC1.n2), or a DC or zone */
	char detail[32];	/* pause "25s", delay "50ms", else "" */
	int64_t since;		/* unix seconds */
	int64_t until;		/* pause: when it ends by itself; else 0 */
};
/* Record f (replacing one of the same kind and target). */
int cg_state_fault_put(struct cg_state *st, const char *cluster, const struct cg_fault *f,
		       struct cg_err *err);
/* The faults of cluster, oldest first (*v: caller frees; NULL when none). */
int cg_state_faults(struct cg_state *st, const char *cluster, struct cg_fault **v, int *n,
		    struct cg_err *err);
/* Forget the faults of cluster of that kind (NULL: any) on that target
 * (NULL: any). *cleared (may be NULL) gets how many went. */
int cg_state_fault_clear(struct cg_state *st, const char *cluster, const char *kind,
			 const char *target, int *cleared, struct cg_err *err);

#endif
