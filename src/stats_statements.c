/*-------------------------------------------------------------------------
 *
 * stats_statements.c
 *		  The statistics of routed statements within each logical database:
 *		  a bounded table in shared memory, partitioned so that nothing
 *		  ever stops every session.
 *
 * A statement is known by the fingerprint of its text before rewriting
 * (ds_scan_fingerprint: tokens, constants as one placeholder), which is
 * the same whichever tenant it is routed to, so one statement run in 1,000
 * logical databases is one entry per logical database, never one per
 * schema or OID.  A backend keeps the fingerprints of the texts it saw in
 * a local cache, so the scanner runs once per text and backend.  An entry
 * shows the text of its first call with each constant replaced by $n
 * (ds_scan_normalize), so no value a call passed is kept.
 *
 * The table is datasource.stats_max_statements slots cut into
 * DS_STMT_PARTITIONS partitions, each with its own LWLock; a statement's
 * partition is chosen by its key's hash, and a partition's slots are
 * searched in a row (a few dozen).  Counting a call takes the partition's
 * lock shared and the slot's spinlock; creating an entry takes that one
 * partition's lock exclusively.  When the partition is full, the slot
 * with the least total time in it is given to the new statement.  A
 * logical database keeps at most datasource.stats_statements_per_database
 * entries (its count is an atomic in its stats.c entry, which each slot
 * points to); past it, a new statement takes the place of that database's
 * least timed statement in the same partition, or is not kept (its calls
 * still count in database_stats).
 *
 * Lock order: stats.c's lock, then a partition's, then a spinlock.  The
 * caller of ds_stmt_count holds stats.c's lock shared, the caller of
 * ds_stmt_forget exclusively (which keeps the slots' pointers valid).
 *
 * Memory: the slots are in shared memory; the fingerprint cache under
 * TopMemoryContext; snapshots in the caller's context.
 *
 * IDENTIFICATION
 *		  src/stats_statements.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

/* partitions of the table */
#define DS_STMT_PARTITIONS	128

/* fingerprints a backend keeps (the cache is emptied when full) */
#define DS_STMT_CACHE_MAX	4096

/* one statement of one logical database */
typedef struct DsStmtSlot
{
	slock_t		mutex;			/* protects the counters */
	bool		used;
	uint64		fp;
	Oid			dbid;
	char		name[NAMEDATALEN];	/* the logical database */
	pg_atomic_uint32 *nstmts;	/* its count of entries (stats.c) */
	DsStmtCounters c;
} DsStmtSlot;

/* the shared state */
typedef struct DsStmtShared
{
	int			per_part;		/* slots per partition */
	LWLockPadded *locks;		/* one per partition */
	uint64	   *keys;			/* per slot, its key's hash (0: free), in a
								 * row so that a partition is searched in a
								 * few cache lines */
	DsStmtSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} DsStmtShared;

/* an entry of the fingerprint cache */
typedef struct DsStmtCacheEntry
{
	uint64		texthash;		/* key */
	uint64		fp;
} DsStmtCacheEntry;

static DsStmtShared *ds_stmt = NULL;
static HTAB *ds_stmt_cache = NULL;

/* slots per partition */
static int
ds_stmt_per_part(void)
{
	return (ds_stats_max_statements + DS_STMT_PARTITIONS - 1) / DS_STMT_PARTITIONS;
}

/* the size of a table of n slots, with their keys' hashes */
static Size
ds_stmt_size(int n)
{
	return add_size(add_size(offsetof(DsStmtShared, slots),
							 mul_size((Size) n, sizeof(DsStmtSlot))),
					mul_size((Size) n, sizeof(uint64)));
}

/*
 * ds_stmt_shmem_request
 *		Asks for the partitions' locks and returns the shared memory the
 *		table needs (stats.c's shmem_request_hook).
 */
Size
ds_stmt_shmem_request(void)
{
	RequestNamedLWLockTranche("pg_datasource statement stats",
							  DS_STMT_PARTITIONS);
	return ds_stmt_size(ds_stmt_per_part() * DS_STMT_PARTITIONS);
}

/*
 * ds_stmt_shmem_init
 *		Finds or creates the table, empty (stats.c's shmem_startup_hook,
 *		which holds AddinShmemInitLock).
 */
void
ds_stmt_shmem_init(void)
{
	bool		found;
	int			i;
	int			n = ds_stmt_per_part() * DS_STMT_PARTITIONS;

	ds_stmt = ShmemInitStruct("pg_datasource statement stats",
							  ds_stmt_size(n), &found);
	if (found)
		return;
	ds_stmt->per_part = ds_stmt_per_part();
	ds_stmt->locks = GetNamedLWLockTranche("pg_datasource statement stats");
	ds_stmt->keys = (uint64 *) &ds_stmt->slots[n];
	for (i = 0; i < n; i++)
	{
		memset(&ds_stmt->slots[i], 0, sizeof(DsStmtSlot));
		SpinLockInit(&ds_stmt->slots[i].mutex);
		ds_stmt->keys[i] = 0;
	}
}

/*
 * ds_stmt_fingerprint
 *		The fingerprint of sql (text that passed validation), from this
 *		backend's cache when it saw the text before.
 */
uint64
ds_stmt_fingerprint(const char *sql)
{
	uint64		texthash = hash_bytes_extended((const unsigned char *) sql,
											   strlen(sql), 0);
	DsStmtCacheEntry *e;
	bool		found;
	uint64		fp;

	if (ds_stmt_cache == NULL ||
		hash_get_num_entries(ds_stmt_cache) >= DS_STMT_CACHE_MAX)
	{
		HASHCTL		info;

		if (ds_stmt_cache != NULL)
			hash_destroy(ds_stmt_cache);
		memset(&info, 0, sizeof(info));
		info.keysize = sizeof(uint64);
		info.entrysize = sizeof(DsStmtCacheEntry);
		info.hcxt = TopMemoryContext;
		ds_stmt_cache = hash_create("pg_datasource statement fingerprints",
									256, &info,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(ds_stmt_cache, &texthash, HASH_FIND, &found);
	if (e != NULL)
		return e->fp;
	fp = ds_scan_fingerprint(sql);
	e = hash_search(ds_stmt_cache, &texthash, HASH_ENTER, &found);
	e->fp = fp;
	return fp;
}

/* the hash of the key (fp, this database, name); never 0 */
static uint64
ds_stmt_key(uint64 fp, const char *name)
{
	uint64		h = hash_combine64(fp, hash_bytes_extended((const unsigned char *) name,
														   strlen(name), MyDatabaseId));

	return h | 1;
}

/*
 * ds_stmt_find
 *		The slot of (fp, this database, name), whose key hash is h, in
 *		partition part, or NULL.  The caller holds the partition's lock.
 */
static DsStmtSlot *
ds_stmt_find(int part, uint64 h, uint64 fp, const char *name)
{
	int			first = part * ds_stmt->per_part;
	int			i;

	for (i = first; i < first + ds_stmt->per_part; i++)
	{
		DsStmtSlot *s = &ds_stmt->slots[i];

		if (ds_stmt->keys[i] == h && s->fp == fp &&
			s->dbid == MyDatabaseId && strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

/*
 * ds_stmt_add
 *		Adds one call to c; the caller holds the slot's spinlock or the
 *		partition's lock exclusively.
 */
static void
ds_stmt_add(DsStmtCounters *c, double total, int sqlerrcode, int64 rows)
{
	double		old_mean = c->mean_ms;

	c->calls++;
	if (c->calls == 1)
	{
		c->min_ms = c->max_ms = c->mean_ms = total;
	}
	else
	{
		c->mean_ms += (total - old_mean) / c->calls;
		c->sum_var += (total - old_mean) * (total - c->mean_ms);
		c->min_ms = Min(c->min_ms, total);
		c->max_ms = Max(c->max_ms, total);
	}
	c->total_ms += total;
	if (sqlerrcode != 0)
		c->errors++;
	else
		c->rows += rows;
}

/*
 * ds_stmt_victim
 *		The slot a new statement of name takes in partition part: a free
 *		one or the least timed of the partition while the logical database
 *		may have another entry, else the least timed of its own there, or
 *		NULL.  *grow tells whether the database gets one more entry.  The
 *		caller holds the partition's lock exclusively.
 */
static DsStmtSlot *
ds_stmt_victim(int part, const char *name, bool may_grow, bool *grow)
{
	DsStmtSlot *s = &ds_stmt->slots[part * ds_stmt->per_part];
	DsStmtSlot *least = NULL;
	DsStmtSlot *own = NULL;
	int			i;

	for (i = 0; i < ds_stmt->per_part; i++, s++)
	{
		bool		mine;

		if (!s->used)
		{
			if (may_grow)
			{
				*grow = true;
				return s;
			}
			continue;
		}
		mine = s->dbid == MyDatabaseId && strcmp(s->name, name) == 0;
		if (least == NULL || s->c.total_ms < least->c.total_ms)
			least = s;
		if (mine && (own == NULL || s->c.total_ms < own->c.total_ms))
			own = s;
	}
	*grow = may_grow && least != NULL && least != own;
	return may_grow ? least : own;
}

/*
 * ds_stmt_count
 *		Adds a call of total ms (sqlerrcode 0: it succeeded with rows rows)
 *		of the statement fp to logical database name, whose stats.c entry
 *		counts its entries in nstmts.  The caller holds stats.c's lock in
 *		shared mode.  Raises nothing but out of memory: a new entry's text
 *		(ds_scan_normalize) is built before the partition lock is taken.
 */
void
ds_stmt_count(uint64 fp, const char *sql, const char *name,
			  pg_atomic_uint32 *nstmts, double total, int sqlerrcode,
			  int64 rows)
{
	uint64		h;
	int			part;
	LWLock	   *lock;
	DsStmtSlot *s;
	bool		may_grow;
	bool		grow = false;
	char	   *query;

	if (ds_stmt == NULL)
		return;
	h = ds_stmt_key(fp, name);
	part = (int) ((h >> 1) % DS_STMT_PARTITIONS);
	lock = &ds_stmt->locks[part].lock;
	LWLockAcquire(lock, LW_SHARED);
	s = ds_stmt_find(part, h, fp, name);
	if (s != NULL)
	{
		SpinLockAcquire(&s->mutex);
		ds_stmt_add(&s->c, total, sqlerrcode, rows);
		SpinLockRelease(&s->mutex);
		LWLockRelease(lock);
		return;
	}
	LWLockRelease(lock);

	/* the text it will show, constants replaced, before the exclusive lock */
	query = ds_scan_normalize(sql);

	/* a new entry: this partition only, exclusively */
	LWLockAcquire(lock, LW_EXCLUSIVE);
	s = ds_stmt_find(part, h, fp, name);
	if (s == NULL)
	{
		may_grow = pg_atomic_fetch_add_u32(nstmts, 1) <
			(uint32) ds_stats_statements_per_database;
		if (!may_grow)
			pg_atomic_fetch_sub_u32(nstmts, 1);
		s = ds_stmt_victim(part, name, may_grow, &grow);
		if (may_grow && !grow)
			pg_atomic_fetch_sub_u32(nstmts, 1); /* it replaces its own */
		if (s != NULL)
		{
			int			len = pg_mbcliplen(query, strlen(query), DS_STMT_QUERY_LEN - 1);

			if (s->used && grow)
				pg_atomic_fetch_sub_u32(s->nstmts, 1);	/* another's goes */
			s->used = true;
			s->fp = fp;
			s->dbid = MyDatabaseId;
			strlcpy(s->name, name, NAMEDATALEN);
			s->nstmts = nstmts;
			ds_stmt->keys[s - ds_stmt->slots] = h;
			memset(&s->c, 0, sizeof(s->c));
			memcpy(s->c.query, query, len);
			s->c.query[len] = '\0';
			s->c.since = GetCurrentTimestamp();
			s->c.roleid = GetUserId();
		}
	}
	if (s != NULL)
		ds_stmt_add(&s->c, total, sqlerrcode, rows);
	LWLockRelease(lock);
	pfree(query);
}

/*
 * ds_stmt_move
 *		Renames the entry in slot from (of partition part, whose lock the
 *		caller holds exclusively) to new_name, counted by new_nstmts: its
 *		key changes, so it goes to the partition of the new key, into a
 *		free slot there, or in place of the least timed one if that one
 *		has less time, or is dropped.  Only ds_stmt_forget calls it, under
 *		stats.c's lock held exclusively, so no other backend holds two
 *		partition locks (or counts a call) meanwhile.
 */
static void
ds_stmt_move(int from, int part, const char *new_name,
			 pg_atomic_uint32 *new_nstmts)
{
	DsStmtSlot *src = &ds_stmt->slots[from];
	uint64		h = ds_stmt_key(src->fp, new_name);
	int			to_part = (int) ((h >> 1) % DS_STMT_PARTITIONS);
	int			first = to_part * ds_stmt->per_part;
	DsStmtSlot *dst = NULL;
	int			i;

	if (to_part != part)
		LWLockAcquire(&ds_stmt->locks[to_part].lock, LW_EXCLUSIVE);
	for (i = first; i < first + ds_stmt->per_part; i++)
	{
		DsStmtSlot *s = &ds_stmt->slots[i];

		if (i == from || !s->used)
		{
			dst = s;
			break;
		}
		if (dst == NULL || s->c.total_ms < dst->c.total_ms)
			dst = s;
	}
	if (dst != src && dst->used && dst->c.total_ms > src->c.total_ms)
		dst = NULL;				/* it stays out: the others cost more */
	if (dst != NULL && dst != src)
	{
		if (dst->used)
			pg_atomic_fetch_sub_u32(dst->nstmts, 1);
		dst->used = true;
		dst->fp = src->fp;
		dst->dbid = src->dbid;
		dst->c = src->c;
	}
	if (dst == NULL)
		pg_atomic_fetch_sub_u32(new_nstmts, 1);
	else
	{
		strlcpy(dst->name, new_name, NAMEDATALEN);
		dst->nstmts = new_nstmts;
		ds_stmt->keys[dst - ds_stmt->slots] = h;
	}
	if (dst != src)
	{
		src->used = false;
		ds_stmt->keys[from] = 0;
	}
	if (to_part != part)
		LWLockRelease(&ds_stmt->locks[to_part].lock);
}

/*
 * ds_stmt_forget
 *		The entries of logical database name of this database (all of its
 *		logical databases when name is NULL) go, or with new_name move to
 *		that name, counted by new_nstmts.  The caller holds stats.c's lock
 *		exclusively.  Raises nothing.
 */
void
ds_stmt_forget(const char *name, const char *new_name,
			   pg_atomic_uint32 *new_nstmts)
{
	int			part;

	if (ds_stmt == NULL)
		return;
	for (part = 0; part < DS_STMT_PARTITIONS; part++)
	{
		DsStmtSlot *s = &ds_stmt->slots[part * ds_stmt->per_part];
		int			i;

		LWLockAcquire(&ds_stmt->locks[part].lock, LW_EXCLUSIVE);
		for (i = 0; i < ds_stmt->per_part; i++, s++)
		{
			if (!s->used || s->dbid != MyDatabaseId ||
				(name != NULL && strcmp(s->name, name) != 0))
				continue;
			if (new_name == NULL)
			{
				s->used = false;
				ds_stmt->keys[part * ds_stmt->per_part + i] = 0;
			}
			else
				ds_stmt_move(part * ds_stmt->per_part + i, part, new_name,
							 new_nstmts);
		}
		LWLockRelease(&ds_stmt->locks[part].lock);
	}
}

/*
 * ds_stmt_snapshot
 *		A copy of every entry of this database, palloc'd in the caller's
 *		context; *n is set to their number (the caller checked that the
 *		shared memory is there: ds_stats_available).
 */
DsStmtRow *
ds_stmt_snapshot(int *n)
{
	DsStmtRow  *out;
	int			part;

	*n = 0;
	if (ds_stmt == NULL)
		return NULL;
	out = palloc(sizeof(DsStmtRow) * Max(ds_stmt->per_part * DS_STMT_PARTITIONS, 1));
	for (part = 0; part < DS_STMT_PARTITIONS; part++)
	{
		DsStmtSlot *s = &ds_stmt->slots[part * ds_stmt->per_part];
		int			i;

		LWLockAcquire(&ds_stmt->locks[part].lock, LW_SHARED);
		for (i = 0; i < ds_stmt->per_part; i++, s++)
		{
			if (!s->used || s->dbid != MyDatabaseId)
				continue;
			SpinLockAcquire(&s->mutex);
			out[*n].fp = s->fp;
			memcpy(out[*n].name, s->name, NAMEDATALEN);
			out[*n].c = s->c;
			SpinLockRelease(&s->mutex);
			(*n)++;
		}
		LWLockRelease(&ds_stmt->locks[part].lock);
	}
	return out;
}
