/*-------------------------------------------------------------------------
 *
 * stmtcache.c
 *		  The routed form of statements a backend has routed before.
 *
 * Routing a statement validates it (raw parse, walk, read-only verdict)
 * and rewrites its logical qualifiers before anything runs; applications
 * and agents route the same few texts again and again.  This file keeps,
 * per backend, what routing needs of a statement that validated and
 * rewrote cleanly: the command tag, the read-only verdict and its reason,
 * and the rewritten text.  A repeated statement skips the parser, the walk
 * and the rewrite.
 *
 * The key is everything the verdict and the rewrite depend on: the target
 * logical database, the text, whether read-only was required, the role,
 * search_path and standard_conforming_strings.  What validation read from
 * the catalogs is covered by invalidation: the registry cache's
 * generation (catalog.c) is recorded with each entry, and any change to
 * pg_proc or pg_operator (read-only verdicts), pg_namespace (qualifiers
 * and the search path), pg_class (whether a name is a system relation) or
 * pg_database (three-part names) empties the cache, as the syscache
 * callbacks registered here say.
 *
 * The cache holds at most DS_STMT_CACHE_MAX entries and
 * DS_STMT_CACHE_BYTES of memory, and starts over when either is reached;
 * texts longer than DS_STMT_CACHE_TEXT are not kept.
 *
 * datasource.statement_cache() shows the cache: its entries and memory,
 * and counters of lookups served (hits), lookups not served (misses) and
 * times it was emptied (resets), since the backend started.  Counting
 * costs the lookup one increment.
 *
 * Memory: entries live in "pg_datasource statement cache", a child of
 * TopMemoryContext that is reset when the cache starts over; what a lookup
 * returns is palloc'd in the caller's context.
 *
 * IDENTIFICATION
 *		  src/stmtcache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "parser/parser.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "pg_datasource.h"

/* bounds of the cache */
#define DS_STMT_CACHE_MAX	256
#define DS_STMT_CACHE_BYTES (2 * 1024 * 1024)
#define DS_STMT_CACHE_TEXT	16384

/* one routed statement; the hash key is a hash of the whole key below */
typedef struct DsStmtEntry
{
	uint32		hash;
	/* the key */
	char	   *database;
	char	   *sql;
	bool		require_ro;
	bool		std_strings;
	Oid			role;
	char	   *path;			/* search_path */
	uint64		generation;		/* of the registry cache */
	/* the routed form */
	bool		read_only;
	char	   *command;
	char	   *not_ro;			/* NULL when read-only */
	char	   *text;			/* the rewritten statement */
	char	  **dbs;			/* the logical databases it names (the sandbox
								 * checks them on every routing) */
	int			ndbs;
	bool		runs_sql;		/* it calls a function that runs SQL text */
} DsStmtEntry;

static HTAB *stmt_cache = NULL;
static MemoryContext stmt_cxt = NULL;
static uint64 stmt_invals = 0;	/* invalidations seen by the callback */

/* what datasource.statement_cache() reports */
static uint64 stmt_hits = 0;	/* lookups served */
static uint64 stmt_misses = 0;	/* lookups not served */
static uint64 stmt_resets = 0;	/* times entries were forgotten */

PG_FUNCTION_INFO_V1(pgds_statement_cache);

/*
 * ds_stmt_cache_reset
 *		Forgets every entry.
 */
static void
ds_stmt_cache_reset(void)
{
	if (stmt_cxt != NULL && stmt_cache != NULL)
	{
		MemoryContextReset(stmt_cxt);
		stmt_cache = NULL;
		stmt_resets++;
	}
}

/*
 * ds_stmt_cache_callback
 *		Syscache callback: a catalog validation reads changed.
 */
static void
ds_stmt_cache_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	stmt_invals++;
	ds_stmt_cache_reset();
}

/*
 * ds_stmt_cache_init
 *		Registers the invalidation callbacks; called once from _PG_init.
 */
void
ds_stmt_cache_init(void)
{
	CacheRegisterSyscacheCallback(PROCOID, ds_stmt_cache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(OPEROID, ds_stmt_cache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, ds_stmt_cache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(RELNAMENSP, ds_stmt_cache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(DATABASEOID, ds_stmt_cache_callback, (Datum) 0);
}

/*
 * ds_stmt_key
 *		The hash of a key.
 */
static uint32
ds_stmt_key(const char *database, const char *sql, bool require_ro,
			Oid role, const char *path)
{
	uint32		h;

	h = hash_bytes((const unsigned char *) sql, strlen(sql));
	h = hash_combine(h, hash_bytes((const unsigned char *) database,
								   strlen(database)));
	h = hash_combine(h, hash_bytes((const unsigned char *) path, strlen(path)));
	h = hash_combine(h, hash_uint32((uint32) role));
	h = hash_combine(h, (uint32) require_ro | ((uint32) standard_conforming_strings << 1));
	return h;
}

/*
 * ds_stmt_cache_get
 *		The routed form of sql for database, when this backend routed it
 *		before under the same key and nothing it depends on changed since:
 *		fills *v (valid, read_only, not_ro, command, dbs, runs_sql; the rest
 *		zero) and
 *		*text, palloc'd in the caller's context, and returns true.  The
 *		registry cache must be current (ds_cache_ensure).
 */
bool
ds_stmt_cache_get(const char *database, const char *sql, bool require_ro,
				  DsVerdict *v, char **text)
{
	const char *path = namespace_search_path ? namespace_search_path : "";
	Oid			role = GetUserId();
	uint32		h;
	DsStmtEntry *e;
	int			i;

	if (stmt_cache == NULL)
	{
		stmt_misses++;
		return false;
	}
	h = ds_stmt_key(database, sql, require_ro, role, path);
	e = hash_search(stmt_cache, &h, HASH_FIND, NULL);
	if (e == NULL || e->role != role || e->require_ro != require_ro ||
		e->std_strings != standard_conforming_strings ||
		strcmp(e->sql, sql) != 0 || strcmp(e->database, database) != 0 ||
		strcmp(e->path, path) != 0)
	{
		stmt_misses++;
		return false;
	}
	if (e->generation != ds_cache_generation())
	{
		/* the registry changed: every entry is as old */
		ds_stmt_cache_reset();
		stmt_misses++;
		return false;
	}
	stmt_hits++;
	MemSet(v, 0, sizeof(*v));
	v->valid = true;
	v->read_only = e->read_only;
	v->command = pstrdup(e->command);
	v->not_ro = e->not_ro ? pstrdup(e->not_ro) : NULL;
	v->ndbs = e->ndbs;
	v->dbs = palloc(sizeof(char *) * Max(e->ndbs, 1));
	for (i = 0; i < e->ndbs; i++)
		v->dbs[i] = pstrdup(e->dbs[i]);
	v->runs_sql = e->runs_sql;
	*text = pstrdup(e->text);
	return true;
}

/*
 * ds_stmt_cache_epoch
 *		A number that changes whenever something an entry depends on may
 *		have changed.  Taken before validating, it tells ds_stmt_cache_put
 *		whether an invalidation arrived while validation read the catalogs.
 */
uint64
ds_stmt_cache_epoch(void)
{
	return stmt_invals + ds_cache_generation();
}

/*
 * ds_stmt_cache_put
 *		Remembers the routed form of a statement that validated (v) and
 *		rewrote (text) cleanly under the current key; epoch is what
 *		ds_stmt_cache_epoch said before validation began (nothing is kept
 *		when it changed since).  The registry cache must be current.
 */
void
ds_stmt_cache_put(const char *database, const char *sql, bool require_ro,
				  const DsVerdict *v, const char *text, uint64 epoch)
{
	const char *path = namespace_search_path ? namespace_search_path : "";
	Oid			role = GetUserId();
	uint32		h;
	DsStmtEntry *e;
	bool		found;
	int			i;

	Assert(v->valid && v->command != NULL);
	if (epoch != ds_stmt_cache_epoch())
		return;
	if (strlen(sql) > DS_STMT_CACHE_TEXT || strlen(text) > DS_STMT_CACHE_TEXT)
		return;
	if (stmt_cache != NULL &&
		(hash_get_num_entries(stmt_cache) >= DS_STMT_CACHE_MAX ||
		 MemoryContextMemAllocated(stmt_cxt, false) >= DS_STMT_CACHE_BYTES))
		ds_stmt_cache_reset();
	if (stmt_cache == NULL)
	{
		HASHCTL		ctl;

		if (stmt_cxt == NULL)
			stmt_cxt = AllocSetContextCreate(TopMemoryContext,
											 "pg_datasource statement cache",
											 ALLOCSET_DEFAULT_SIZES);
		MemSet(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(uint32);
		ctl.entrysize = sizeof(DsStmtEntry);
		ctl.hcxt = stmt_cxt;
		stmt_cache = hash_create("pg_datasource statement cache", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	h = ds_stmt_key(database, sql, require_ro, role, path);
	e = hash_search(stmt_cache, &h, HASH_ENTER, &found);
	if (found)
	{
		/* another key with the same hash: the later one replaces it */
		pfree(e->database);
		pfree(e->sql);
		pfree(e->path);
		pfree(e->command);
		if (e->not_ro)
			pfree(e->not_ro);
		pfree(e->text);
		for (i = 0; i < e->ndbs; i++)
			pfree(e->dbs[i]);
		pfree(e->dbs);
	}
	e->database = MemoryContextStrdup(stmt_cxt, database);
	e->sql = MemoryContextStrdup(stmt_cxt, sql);
	e->require_ro = require_ro;
	e->std_strings = standard_conforming_strings;
	e->role = role;
	e->path = MemoryContextStrdup(stmt_cxt, path);
	e->generation = ds_cache_generation();
	e->read_only = v->read_only;
	e->command = MemoryContextStrdup(stmt_cxt, v->command);
	e->not_ro = v->not_ro ? MemoryContextStrdup(stmt_cxt, v->not_ro) : NULL;
	e->text = MemoryContextStrdup(stmt_cxt, text);
	e->ndbs = v->ndbs;
	e->dbs = MemoryContextAlloc(stmt_cxt, sizeof(char *) * Max(v->ndbs, 1));
	for (i = 0; i < v->ndbs; i++)
		e->dbs[i] = MemoryContextStrdup(stmt_cxt, v->dbs[i]);
	e->runs_sql = v->runs_sql;
}

/*
 * statement_cache() returns (entries bigint, memory_bytes bigint,
 *		hits bigint, misses bigint, resets bigint)
 *
 * This backend's statement cache: what it holds now, and what its lookups
 * found since the backend started.
 */
Datum
pgds_statement_cache(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = Int64GetDatum(stmt_cache ? hash_get_num_entries(stmt_cache) : 0);
	values[1] = Int64GetDatum(stmt_cxt ? MemoryContextMemAllocated(stmt_cxt, true) : 0);
	values[2] = Int64GetDatum((int64) stmt_hits);
	values[3] = Int64GetDatum((int64) stmt_misses);
	values[4] = Int64GetDatum((int64) stmt_resets);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}
