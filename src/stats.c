/*-------------------------------------------------------------------------
 *
 * stats.c
 *		  Statistics of routed calls per logical database, and of the
 *		  connections and transactions of each datasource, in shared memory.
 *
 * When the library is in shared_preload_libraries, it asks for two shared
 * hash tables (logical databases, datasources) of
 * datasource.stats_max_databases entries each (plus a few for the
 * overflow rows) and one LWLock.  An entry is keyed by the control plane
 * database and the name, and is never evicted: the registry bounds the
 * names.  Once a table holds that many named entries, a name without an
 * entry is counted in the overflow entry of its control plane database
 * (empty name, NULL in the views) until a reset or a drop makes room.
 *
 * A routed call (route.c) carries a DsStatsCall on its stack: ds_stats_begin
 * starts its clock, ds_stats_phase moves it from one phase to the next
 * (validation and rewriting, connecting, remote execution to the first
 * result, transfer, local execution), each phase being charged the time
 * since the previous mark, so the phases add up to the total exactly.  The
 * calls nest (a routed local statement may route again): the innermost is
 * the one the phase marks of remote.c go to, and only while it is on its
 * remote path.  ds_stats_end adds the call to its logical database's entry:
 * the LWLock is taken in shared mode to find the entry (exclusive only to
 * create one), and the counters are changed under the entry's own
 * spinlock, as pg_stat_statements does, so calls of different sessions
 * never wait for one another beyond a few dozen instructions.
 *
 * The migration scripts a logical database ran (migrate.c) are counted in
 * its entry too: applied, failed and their time.
 *
 * What happens to a datasource's connections (connection.c), remote
 * transactions (connection.c, commit.c) and health checks (health.c) is
 * counted by ds_stats_source_event, under the same locking.
 *
 * Dropping or renaming a logical database (or dropping a datasource)
 * drops or moves its entry when the transaction commits (a rolled back
 * drop keeps it).
 *
 * Without shared_preload_libraries nothing is allocated: the calls do
 * nothing but read the clock, and reading the statistics raises 55000.
 *
 * Memory: the entries live in shared memory; the pending drops and renames
 * of a transaction in TopTransactionContext; snapshots for the views in
 * the caller's context.
 *
 * IDENTIFICATION
 *		  src/stats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/elog.h"
#include "utils/float.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

/* overflow entries: one per control plane database, at most this many */
#define DS_STATS_OVERFLOW_ROWS	64

/* what every entry starts with */
typedef struct DsStatsHead
{
	DsStatsKey	key;			/* must be first */
	slock_t		mutex;			/* protects what follows */
	TimestampTz since;			/* created or reset */
} DsStatsHead;

/* an entry of the logical databases' hash */
typedef struct DsDbEntry
{
	DsStatsHead head;
	pg_atomic_uint32 nstmts;	/* its entries in stats_statements.c */
	DsDbCounters counters;
} DsDbEntry;

/* an entry of the datasources' hash */
typedef struct DsSourceEntry
{
	DsStatsHead head;
	DsSourceCounters counters;
} DsSourceEntry;

/* the shared state besides the hashes */
typedef struct DsStatsShared
{
	LWLock	   *lock;			/* the hashes' structure */
	int			named[DS_STATS_NKINDS];	/* entries with a name */
} DsStatsShared;

/* a drop or rename to apply when the transaction commits */
typedef struct DsStatsPending
{
	DsStatsKind kind;
	SubTransactionId subid;		/* where it was asked */
	char		name[NAMEDATALEN];
	char		new_name[NAMEDATALEN];	/* empty: a drop */
} DsStatsPending;

/* per kind: the hash's name, its entries' size and their counters' place */
static const char *const ds_stats_hash_names[DS_STATS_NKINDS] = {
	"pg_datasource database stats", "pg_datasource source stats"
};
static const Size ds_stats_entry_size[DS_STATS_NKINDS] = {
	sizeof(DsDbEntry), sizeof(DsSourceEntry)
};
static const Size ds_stats_counters_off[DS_STATS_NKINDS] = {
	offsetof(DsDbEntry, counters), offsetof(DsSourceEntry, counters)
};

static DsStatsShared *ds_stats_shared = NULL;
static HTAB *ds_stats_hash[DS_STATS_NKINDS];
static shmem_request_hook_type ds_prev_shmem_request = NULL;
static shmem_startup_hook_type ds_prev_shmem_startup = NULL;

/* the innermost routed call being timed */
static DsStatsCall *ds_stats_current = NULL;

/* this transaction's pending drops and renames (TopTransactionContext) */
static List *ds_stats_pending = NIL;

static void ds_stats_apply(DsStatsKind kind, const char *name,
						   const char *new_name);

/* the most entries the hash can hold */
static long
ds_stats_capacity(void)
{
	return (long) ds_stats_max_databases + DS_STATS_OVERFLOW_ROWS;
}

/*
 * ds_stats_shmem_request
 *		shmem_request_hook: asks for the hashes, the lock and the table of
 *		statements (stats_statements.c).
 */
static void
ds_stats_shmem_request(void)
{
	Size		size = MAXALIGN(sizeof(DsStatsShared));
	int			k;

	if (ds_prev_shmem_request)
		ds_prev_shmem_request();
	for (k = 0; k < DS_STATS_NKINDS; k++)
		size = add_size(size, hash_estimate_size(ds_stats_capacity(),
												 ds_stats_entry_size[k]));
	size = add_size(size, ds_stmt_shmem_request());
	RequestAddinShmemSpace(size);
	RequestNamedLWLockTranche("pg_datasource stats", 1);
}

/*
 * ds_stats_shmem_startup
 *		shmem_startup_hook: finds or creates the shared state, empty.
 */
static void
ds_stats_shmem_startup(void)
{
	HASHCTL		info;
	bool		found;
	int			k;

	if (ds_prev_shmem_startup)
		ds_prev_shmem_startup();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ds_stats_shared = ShmemInitStruct("pg_datasource stats",
									  sizeof(DsStatsShared), &found);
	if (!found)
	{
		ds_stats_shared->lock = &(GetNamedLWLockTranche("pg_datasource stats"))->lock;
		memset(ds_stats_shared->named, 0, sizeof(ds_stats_shared->named));
	}
	for (k = 0; k < DS_STATS_NKINDS; k++)
	{
		memset(&info, 0, sizeof(info));
		info.keysize = sizeof(DsStatsKey);
		info.entrysize = ds_stats_entry_size[k];
		ds_stats_hash[k] = ShmemInitHash(ds_stats_hash_names[k],
										 ds_stats_capacity(),
										 ds_stats_capacity(),
										 &info, HASH_ELEM | HASH_BLOBS);
	}
	ds_stmt_shmem_init();
	LWLockRelease(AddinShmemInitLock);
}

/*
 * The transaction ends: on commit, its drops and renames reach the
 * entries; on abort (or PREPARE TRANSACTION, whose commit happens in
 * another session) they are forgotten.  Nothing here may raise.
 */
static void
ds_stats_xact_callback(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (ds_stats_pending == NIL)
		return;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
	{
		foreach(lc, ds_stats_pending)
		{
			DsStatsPending *p = lfirst(lc);

			ds_stats_apply(p->kind, p->name,
						   p->new_name[0] ? p->new_name : NULL);
		}
	}
	/* its memory goes with the transaction (a PREPARE keeps the entries) */
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		ds_stats_pending = NIL;
}

/*
 * A subtransaction aborts: the drops and renames asked in it (or in its
 * children, whose ids are higher) are forgotten.
 */
static void
ds_stats_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (ds_stats_pending == NIL || event != SUBXACT_EVENT_ABORT_SUB)
		return;
	foreach(lc, ds_stats_pending)
	{
		DsStatsPending *p = lfirst(lc);

		if (p->subid >= mySubid)
			ds_stats_pending = foreach_delete_current(ds_stats_pending, lc);
	}
}

/*
 * ds_stats_init
 *		Called from _PG_init: in the postmaster loading
 *		shared_preload_libraries, installs the shared memory hooks; in every
 *		backend, the transaction callbacks.
 */
void
ds_stats_init(void)
{
	if (process_shared_preload_libraries_in_progress)
	{
		ds_prev_shmem_request = shmem_request_hook;
		shmem_request_hook = ds_stats_shmem_request;
		ds_prev_shmem_startup = shmem_startup_hook;
		shmem_startup_hook = ds_stats_shmem_startup;
	}
	RegisterXactCallback(ds_stats_xact_callback, NULL);
	RegisterSubXactCallback(ds_stats_subxact_callback, NULL);
}

/*
 * ds_stats_available
 *		Raises 55000 with a hint when the library was not preloaded (there
 *		are no statistics to read or reset then).
 */
void
ds_stats_available(void)
{
	if (ds_stats_shared == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the statistics of pg_datasource are not available"),
				errdetail("pg_datasource was not loaded by shared_preload_libraries, so routed calls are not counted."),
				errhint("Add pg_datasource to shared_preload_libraries and restart the server."));
}

/* ------------------------------------------------------------ timing */

/*
 * ds_stats_begin
 *		A routed call starts: call is on the caller's stack until
 *		ds_stats_end, which the caller runs on every path (on error too).
 *		Its first phase is validation.
 */
void
ds_stats_begin(DsStatsCall *call)
{
	memset(call, 0, sizeof(*call));
	call->active = ds_stats_shared != NULL && ds_stats;
	call->outer = ds_stats_current;
	call->phase = DS_PHASE_VALIDATE;
	if (call->active)
	{
		INSTR_TIME_SET_CURRENT(call->start);
		call->last = call->start;
	}
	ds_stats_current = call;
}

/*
 * ds_stats_charge
 *		Charges the time since the last mark to call's current phase.
 */
static void
ds_stats_charge(DsStatsCall *call)
{
	instr_time	now;
	instr_time	spent;

	INSTR_TIME_SET_CURRENT(now);
	spent = now;
	INSTR_TIME_SUBTRACT(spent, call->last);
	call->phase_ms[call->phase] += INSTR_TIME_GET_MILLISEC(spent);
	call->last = now;
}

/*
 * ds_stats_phase
 *		The innermost routed call moves on to phase.  The remote phases
 *		(remote execution, transfer), marked by remote.c, count only while
 *		the call is on its remote path: a remote statement that a routed
 *		local statement causes (a nested describe) stays local time.
 */
void
ds_stats_phase(DsStatsPhase phase)
{
	DsStatsCall *call = ds_stats_current;

	if (call == NULL || !call->active || call->phase == phase)
		return;
	if ((phase == DS_PHASE_REMOTE || phase == DS_PHASE_TRANSFER) &&
		call->phase != DS_PHASE_CONNECT && call->phase != DS_PHASE_REMOTE &&
		call->phase != DS_PHASE_TRANSFER)
		return;
	ds_stats_charge(call);
	call->phase = phase;
}

/*
 * ds_stats_prepared_hit
 *		The innermost routed call, on its remote path, ran a statement the
 *		remote kept prepared (remote.c).
 */
void
ds_stats_prepared_hit(void)
{
	DsStatsCall *call = ds_stats_current;

	if (call != NULL && call->phase == DS_PHASE_REMOTE)
		call->prepared_hit = true;
}

/* ------------------------------------------------------------ counting */

/*
 * ds_stats_bucket
 *		The histogram bucket of a call of ms milliseconds: bucket i counts
 *		the calls of at most ds_stats_bucket_bound(i) ms and more than the
 *		bound of bucket i - 1; the last counts everything longer.
 */
static int
ds_stats_bucket(double ms)
{
	double		b;

	if (ms <= DS_STATS_BUCKET_BASE_MS)
		return 0;
	b = ceil(2.0 * log2(ms / DS_STATS_BUCKET_BASE_MS) - 1e-9);
	if (b >= DS_STATS_BUCKETS - 1)
		return DS_STATS_BUCKETS - 1;
	return (int) b;
}

/*
 * ds_stats_bucket_bound
 *		The upper bound of bucket i in milliseconds (a factor of the square
 *		root of 2 apart); infinity for the last.
 */
double
ds_stats_bucket_bound(int i)
{
	if (i >= DS_STATS_BUCKETS - 1)
		return get_float8_infinity();
	return DS_STATS_BUCKET_BASE_MS * pow(2.0, i / 2.0);
}

/*
 * ds_stats_add
 *		Adds one call to counters c (the caller holds the entry's spinlock,
 *		so nothing here may raise or take long).
 */
static void
ds_stats_add(DsDbCounters *c, const DsStatsCall *call, double total,
			 int bucket, int sqlerrcode, int64 rows)
{
	double		old_mean;
	int			i;

	c->calls++;
	if (c->calls == 1)
	{
		c->min_ms = total;
		c->max_ms = total;
		c->mean_ms = total;
	}
	else
	{
		old_mean = c->mean_ms;
		c->mean_ms += (total - old_mean) / c->calls;
		c->sum_var += (total - old_mean) * (total - c->mean_ms);
		c->min_ms = Min(c->min_ms, total);
		c->max_ms = Max(c->max_ms, total);
	}
	c->total_ms += total;
	for (i = 0; i < DS_NPHASES; i++)
		c->phase_ms[i] += call->phase_ms[i];
	c->histogram[bucket]++;
	c->cache_hits += call->cache_hit ? 1 : 0;
	c->prepared_hits += call->prepared_hit ? 1 : 0;
	if (sqlerrcode == 0)
	{
		c->rows += rows;
		return;
	}
	c->errors++;
	for (i = 0; i < DS_STATS_CLASSES; i++)
	{
		if (c->error_class[i] == ERRCODE_TO_CATEGORY(sqlerrcode) ||
			c->error_class[i] == 0)
		{
			c->error_class[i] = ERRCODE_TO_CATEGORY(sqlerrcode);
			c->error_count[i]++;
			return;
		}
	}
	c->errors_other++;
}

/*
 * ds_stats_entry
 *		The entry of key in the hash of kind, created when it is missing
 *		(or the overflow entry of the control plane database when the
 *		table is full), or NULL when not even that fits.  The caller holds
 *		the lock in shared mode; it may come back held in exclusive mode.
 *		Raises nothing.
 */
static DsStatsHead *
ds_stats_entry(DsStatsKind kind, DsStatsKey *key)
{
	HTAB	   *hash = ds_stats_hash[kind];
	DsStatsHead *e;
	bool		found;

	e = hash_search(hash, key, HASH_FIND, NULL);
	if (e != NULL)
		return e;
	LWLockRelease(ds_stats_shared->lock);
	LWLockAcquire(ds_stats_shared->lock, LW_EXCLUSIVE);
	if (ds_stats_shared->named[kind] >= ds_stats_max_databases &&
		hash_search(hash, key, HASH_FIND, NULL) == NULL)
		memset(key->name, 0, NAMEDATALEN);	/* the overflow entry */
	e = hash_search(hash, key, HASH_ENTER_NULL, &found);
	if (e != NULL && !found)
	{
		SpinLockInit(&e->mutex);
		memset((char *) e + ds_stats_counters_off[kind], 0,
			   ds_stats_entry_size[kind] - ds_stats_counters_off[kind]);
		e->since = GetCurrentTimestamp();
		if (kind == DS_STATS_DATABASE)
			pg_atomic_init_u32(&((DsDbEntry *) e)->nstmts, 0);
		if (key->name[0] != '\0')
			ds_stats_shared->named[kind]++;
	}
	return e;
}

/*
 * ds_stats_key
 *		The key of name in this database.
 */
static void
ds_stats_key(DsStatsKey *key, const char *name)
{
	memset(key, 0, sizeof(*key));
	key->dbid = MyDatabaseId;
	strlcpy(key->name, name, NAMEDATALEN);
}

/*
 * ds_stats_end
 *		The routed call ends, with sqlerrcode (0: it succeeded, having
 *		returned or changed rows rows).  Adds it to its logical database's
 *		entry when it got as far as one (ds_stats_target).  Runs on the
 *		error path too (in a PG_CATCH, before the abort): it raises nothing.
 */
void
ds_stats_end(DsStatsCall *call, int sqlerrcode, int64 rows)
{
	DsStatsKey	key;
	DsDbEntry  *e;
	double		total = 0;
	int			bucket;
	int			i;

	ds_stats_current = call->outer;
	if (!call->active || call->database[0] == '\0')
		return;
	ds_stats_charge(call);
	for (i = 0; i < DS_NPHASES; i++)
		total += call->phase_ms[i];
	bucket = ds_stats_bucket(total);

	ds_stats_key(&key, call->database);
	LWLockAcquire(ds_stats_shared->lock, LW_SHARED);
	e = (DsDbEntry *) ds_stats_entry(DS_STATS_DATABASE, &key);
	if (e != NULL)
	{
		SpinLockAcquire(&e->head.mutex);
		ds_stats_add(&e->counters, call, total, bucket, sqlerrcode, rows);
		SpinLockRelease(&e->head.mutex);
		/* the statement, unless the database is in the overflow row */
		if (call->has_fp && key.name[0] != '\0')
			ds_stmt_count(call->fp, call->sql, key.name, &e->nstmts, total,
						  sqlerrcode, rows);
	}
	LWLockRelease(ds_stats_shared->lock);
}

/*
 * ds_stats_target
 *		The innermost routed call goes to logical database name (which
 *		exists: only then is it counted).
 */
void
ds_stats_target(const char *name)
{
	DsStatsCall *call = ds_stats_current;

	if (call != NULL && call->active)
		strlcpy(call->database, name, NAMEDATALEN);
}

/*
 * ds_stats_statement
 *		The innermost routed call runs sql (its text before rewriting, which
 *		passed validation and lives as long as the call): its fingerprint
 *		is taken for the statement statistics.
 */
void
ds_stats_statement(const char *sql)
{
	DsStatsCall *call = ds_stats_current;

	if (call == NULL || !call->active || ds_stats_statements_per_database == 0)
		return;
	call->fp = ds_stmt_fingerprint(sql);
	call->sql = sql;
	call->has_fp = true;
}

/* ------------------------------------------------------------ drops */

/*
 * ds_stats_apply
 *		Drops the entry of name (of kind, in this database), or with
 *		new_name moves it to that name (replacing what the new name may
 *		have).  Raises nothing (it runs at commit); no entry spinlock is
 *		held by anyone while the lock is held exclusively.
 */
static void
ds_stats_apply(DsStatsKind kind, const char *name, const char *new_name)
{
	HTAB	   *hash = ds_stats_hash[kind];
	DsStatsKey	key;
	DsStatsHead *e;
	char		saved[Max(sizeof(DsDbEntry), sizeof(DsSourceEntry))];

	ds_stats_key(&key, name);
	LWLockAcquire(ds_stats_shared->lock, LW_EXCLUSIVE);
	e = hash_search(hash, &key, HASH_FIND, NULL);
	if (e != NULL)
	{
		memcpy(saved, e, ds_stats_entry_size[kind]);
		(void) hash_search(hash, &key, HASH_REMOVE, NULL);
		ds_stats_shared->named[kind]--;
		if (kind == DS_STATS_DATABASE && new_name == NULL)
			ds_stmt_forget(name, NULL, NULL);
		if (new_name != NULL)
		{
			bool		found;

			ds_stats_key(&key, new_name);
			e = hash_search(hash, &key, HASH_ENTER_NULL, &found);
			if (e != NULL)
			{
				if (!found)
				{
					SpinLockInit(&e->mutex);
					ds_stats_shared->named[kind]++;
				}
				e->since = ((DsStatsHead *) saved)->since;
				memcpy((char *) e + ds_stats_counters_off[kind],
					   saved + ds_stats_counters_off[kind],
					   ds_stats_entry_size[kind] - ds_stats_counters_off[kind]);
				if (kind == DS_STATS_DATABASE)
				{
					DsDbEntry  *d = (DsDbEntry *) e;

					pg_atomic_init_u32(&d->nstmts,
									   pg_atomic_read_u32(&((DsDbEntry *) saved)->nstmts));
					ds_stmt_forget(name, new_name, &d->nstmts);
				}
			}
			else if (kind == DS_STATS_DATABASE)
				ds_stmt_forget(name, NULL, NULL);
		}
	}
	LWLockRelease(ds_stats_shared->lock);
}

/*
 * ds_stats_forget
 *		name (a logical database or a datasource, as kind says) is dropped
 *		(new_name NULL) or renamed to new_name in this transaction: its
 *		entry follows at commit.
 */
void
ds_stats_forget(DsStatsKind kind, const char *name, const char *new_name)
{
	MemoryContext old;
	DsStatsPending *p;

	if (ds_stats_shared == NULL)
		return;
	old = MemoryContextSwitchTo(TopTransactionContext);
	p = palloc0(sizeof(DsStatsPending));
	p->kind = kind;
	p->subid = GetCurrentSubTransactionId();
	strlcpy(p->name, name, NAMEDATALEN);
	if (new_name != NULL)
		strlcpy(p->new_name, new_name, NAMEDATALEN);
	ds_stats_pending = lappend(ds_stats_pending, p);
	MemoryContextSwitchTo(old);
}

/*
 * ds_stats_reset
 *		Removes the entries of kind of this database: all of them, or the
 *		one of name; returns how many.
 */
int
ds_stats_reset(DsStatsKind kind, const char *name)
{
	HASH_SEQ_STATUS seq;
	DsStatsHead *e;
	int			n = 0;

	ds_stats_available();
	LWLockAcquire(ds_stats_shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, ds_stats_hash[kind]);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (e->key.dbid != MyDatabaseId ||
			(name != NULL && strcmp(e->key.name, name) != 0))
			continue;
		if (e->key.name[0] != '\0')
			ds_stats_shared->named[kind]--;
		if (kind == DS_STATS_DATABASE && e->key.name[0] != '\0')
			ds_stmt_forget(e->key.name, NULL, NULL);
		(void) hash_search(ds_stats_hash[kind], &e->key, HASH_REMOVE, NULL);
		n++;
	}
	LWLockRelease(ds_stats_shared->lock);
	return n;
}

/*
 * ds_stats_snapshot
 *		A copy of every entry of kind of this database, palloc'd in the
 *		caller's context (each taken under its spinlock); *n is set to
 *		their number.
 */
DsStatsRow *
ds_stats_snapshot(DsStatsKind kind, int *n)
{
	HASH_SEQ_STATUS seq;
	DsStatsHead *e;
	DsStatsRow *out;
	long		max;
	Size		size = ds_stats_entry_size[kind] - ds_stats_counters_off[kind];

	ds_stats_available();
	*n = 0;
	LWLockAcquire(ds_stats_shared->lock, LW_SHARED);
	max = hash_get_num_entries(ds_stats_hash[kind]);
	out = palloc0(sizeof(DsStatsRow) * Max(max, 1));
	hash_seq_init(&seq, ds_stats_hash[kind]);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (e->key.dbid != MyDatabaseId)
			continue;
		memcpy(out[*n].name, e->key.name, NAMEDATALEN);
		SpinLockAcquire(&e->mutex);
		out[*n].since = e->since;
		memcpy(&out[*n].c, (char *) e + ds_stats_counters_off[kind], size);
		SpinLockRelease(&e->mutex);
		(*n)++;
	}
	LWLockRelease(ds_stats_shared->lock);
	return out;
}

/*
 * ds_stats_migration
 *		A migration script of logical database name was applied (or
 *		failed) in ms milliseconds (migrate.c).  Raises nothing.
 */
void
ds_stats_migration(const char *name, bool applied, double ms)
{
	DsStatsKey	key;
	DsDbEntry  *e;

	if (ds_stats_shared == NULL || !ds_stats)
		return;
	ds_stats_key(&key, name);
	LWLockAcquire(ds_stats_shared->lock, LW_SHARED);
	e = (DsDbEntry *) ds_stats_entry(DS_STATS_DATABASE, &key);
	if (e != NULL)
	{
		SpinLockAcquire(&e->head.mutex);
		if (applied)
			e->counters.migrations_applied++;
		else
			e->counters.migrations_failed++;
		e->counters.migration_ms += ms;
		SpinLockRelease(&e->head.mutex);
	}
	LWLockRelease(ds_stats_shared->lock);
}

/* ------------------------------------------------------------ datasources */

/*
 * ds_stats_source_event
 *		Counts ev for datasource source (ms: a health check's latency).
 *		Does nothing without the shared memory or with datasource.stats
 *		off; raises nothing (it runs in commit and abort callbacks too).
 */
void
ds_stats_source_event(const char *source, DsSourceEvent ev, double ms)
{
	DsStatsKey	key;
	DsSourceEntry *e;

	if (ds_stats_shared == NULL || !ds_stats || source == NULL ||
		source[0] == '\0')
		return;
	ds_stats_key(&key, source);
	LWLockAcquire(ds_stats_shared->lock, LW_SHARED);
	e = (DsSourceEntry *) ds_stats_entry(DS_STATS_SOURCE, &key);
	if (e != NULL)
	{
		DsSourceCounters *c = &e->counters;

		SpinLockAcquire(&e->head.mutex);
		c->events[ev]++;
		if (ev == DS_SRC_RECONNECT)
			c->events[DS_SRC_CONNECT]++;
		if (ev == DS_SRC_HEALTH_OK || ev == DS_SRC_HEALTH_FAIL)
		{
			c->health_last_ms = ms;
			c->health_last_at = GetCurrentTimestamp();
		}
		if (ev == DS_SRC_HEALTH_OK)
		{
			c->health_total_ms += ms;
			c->health_max_ms = Max(c->health_max_ms, ms);
		}
		SpinLockRelease(&e->head.mutex);
	}
	LWLockRelease(ds_stats_shared->lock);
}

/*
 * ds_stats_connect_failed
 *		A connection to datasource source failed with sqlerrcode, conn
 *		being libpq's (NULL when no attempt started): counts it under its
 *		reason.  libpq gives a failed connection no SQLSTATE, so the reason
 *		is read from its status: still connecting when our deadline passed,
 *		the server asked for a password, or any other failure.
 */
void
ds_stats_connect_failed(const char *source, PGconn *conn, int sqlerrcode)
{
	DsSourceEvent ev = DS_SRC_FAIL_OTHER;

	if (sqlerrcode == ERRCODE_QUERY_CANCELED ||
		sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
		ev = DS_SRC_FAIL_INTERRUPTED;
	else if (sqlerrcode == ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED)
		ev = DS_SRC_FAIL_PASSWORD;
	else if (conn != NULL && PQstatus(conn) != CONNECTION_BAD &&
			 PQstatus(conn) != CONNECTION_OK)
		ev = DS_SRC_FAIL_TIMEOUT;
	else if (conn != NULL && PQstatus(conn) == CONNECTION_BAD &&
			 (PQconnectionNeedsPassword(conn) ||
			  PQconnectionUsedPassword(conn)))
		ev = DS_SRC_FAIL_AUTH;
	else if (conn != NULL && PQstatus(conn) == CONNECTION_BAD)
		ev = DS_SRC_FAIL_FAILED;
	ds_stats_source_event(source, ev, 0);
}
