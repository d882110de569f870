/*-------------------------------------------------------------------------
 *
 * regcache.c
 *		  The registry cache: logical databases and datasources by name, by
 *		  schema and by the schema of this database that holds them, for the
 *		  hot paths.
 *
 * validate(), routing and the enforcement hook look names up on every call,
 * far too often for an SPI query each time.  The registry is read once
 * (catalog.c) into hash tables in a child of TopMemoryContext and kept until
 * it changes: a statement-level trigger on both tables
 * (datasource.registry_changed, here) queues a relcache invalidation of
 * datasource.databases, which reaches every backend at commit (and this one
 * at the next command), and our relcache callback marks the cache stale.
 * Dropping and re-creating the extension invalidates the tables' relcache
 * entries too.
 *
 * A logical database's relations are in this database for the local
 * datasource (its schema) and for a MySQL one (its local schema of
 * foreign tables): the third table maps those schemas, and
 * ds_source_runs_here / ds_database_schema_here say where the SQL of a
 * datasource and a logical database runs, for every file that decides.
 *
 * Bound and invalidation: unlike the verdict and statement caches, which
 * start over past a count, this one has no bound of its own: it holds
 * exactly the registry it mirrors, no more, and is dropped whole on any
 * change to it, never entry by entry.  ds_cache_generation lets caches
 * derived from it (stmtcache.c) notice a change.
 *
 * Memory: the cache lives in "pg_datasource registry cache" under
 * TopMemoryContext, reset on every reload; the *_copy functions and
 * ds_cache_source return copies in the caller's context, the others point
 * into the cache and are valid until the next ds_cache_ensure.
 *
 * IDENTIFICATION
 *		  src/regcache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "pg_datasource.h"

/* one name of the by-name or by-schema table */
typedef struct DsCacheName
{
	char		key[NAMEDATALEN];
	DsDatabase *db;				/* by name: the database; by schema: the first */
	DsSource   *source;
	int			count;			/* by schema: how many databases map it */
} DsCacheName;

static MemoryContext ds_cache_cxt = NULL;
static HTAB *ds_cache_by_name = NULL;
static HTAB *ds_cache_by_schema = NULL;
static HTAB *ds_cache_by_local = NULL;	/* schemas of this database */
static List *ds_cache_sources = NIL;
static bool ds_cache_valid = false;
static uint64 ds_cache_invalidations = 0;
static uint64 ds_cache_loads = 0;	/* times the registry was read */
static Oid	ds_cache_relids[2] = {InvalidOid, InvalidOid};

PG_FUNCTION_INFO_V1(pgds_registry_changed);

/*
 * ds_cache_relcache_callback
 *		Marks the cache stale when a registry table's relcache entry (or every
 *		entry) is invalidated.
 */
static void
ds_cache_relcache_callback(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == ds_cache_relids[0] ||
		relid == ds_cache_relids[1])
	{
		ds_cache_valid = false;
		ds_cache_invalidations++;
	}
}

/*
 * ds_cache_init
 *		Registers the invalidation callback; called once from _PG_init.
 */
void
ds_cache_init(void)
{
	CacheRegisterRelcacheCallback(ds_cache_relcache_callback, (Datum) 0);
}

/*
 * registry_changed()
 *		Trigger function: tells every backend that the registry changed.
 */
Datum
pgds_registry_changed(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				errmsg("registry_changed() must be called as a trigger"));
	CacheInvalidateRelcacheByRelid(ds_extension_relid("databases"));
	PG_RETURN_POINTER(NULL);
}

/*
 * ds_cache_put
 *		Adds one key to a cache table.
 */
static void
ds_cache_put(HTAB *table, const char *key, DsDatabase *db, DsSource *src)
{
	DsCacheName *e;
	bool		found;
	char		k[NAMEDATALEN];

	MemSet(k, 0, sizeof(k));
	strlcpy(k, key, NAMEDATALEN);
	e = hash_search(table, k, HASH_ENTER, &found);
	if (!found)
	{
		e->db = db;
		e->source = src;
		e->count = 0;
	}
	e->count++;
}

/*
 * ds_cache_ensure
 *		Makes the cache current.  Returns false when the extension is not
 *		installed in this database (the hook's case); raises otherwise only on
 *		real failures.
 */
bool
ds_cache_ensure(void)
{
	Oid			nsp;
	List	   *sources;
	List	   *dbs;
	ListCell   *lc;
	MemoryContext old;
	HASHCTL		ctl;
	uint64		seen;

	if (ds_cache_valid)
		return true;

	nsp = get_namespace_oid(DS_SCHEMA, true);
	if (!OidIsValid(nsp) ||
		!OidIsValid(get_relname_relid("sources", nsp)) ||
		!OidIsValid(get_relname_relid("databases", nsp)))
		return false;

	if (ds_cache_cxt == NULL)
		ds_cache_cxt = AllocSetContextCreate(TopMemoryContext,
											 "pg_datasource registry cache",
											 ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(ds_cache_cxt);
	ds_cache_by_name = NULL;
	ds_cache_by_schema = NULL;
	ds_cache_by_local = NULL;
	ds_cache_sources = NIL;

	ds_cache_relids[0] = get_relname_relid("sources", nsp);
	ds_cache_relids[1] = get_relname_relid("databases", nsp);

	/*
	 * An invalidation that arrives while we read leaves the cache marked
	 * stale, so the next call reads afresh; this call uses what it read.
	 */
	seen = ds_cache_invalidations;
	old = MemoryContextSwitchTo(ds_cache_cxt);
	sources = ds_list_sources();
	dbs = ds_list_databases();

	MemSet(&ctl, 0, sizeof(ctl));
	ctl.keysize = NAMEDATALEN;
	ctl.entrysize = sizeof(DsCacheName);
	ctl.hcxt = ds_cache_cxt;
	ds_cache_by_name = hash_create("pg_datasource databases by name",
								   Max(list_length(dbs), 16), &ctl,
								   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	ds_cache_by_schema = hash_create("pg_datasource databases by schema",
									 Max(list_length(dbs), 16), &ctl,
									 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	ds_cache_by_local = hash_create("pg_datasource databases by local schema",
									Max(list_length(dbs), 16), &ctl,
									HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	foreach(lc, dbs)
	{
		DsDatabase *db = lfirst(lc);
		DsSource   *src = NULL;
		const char *here = ds_database_schema_here(db);
		ListCell   *lc2;

		foreach(lc2, sources)
			if (strcmp(((DsSource *) lfirst(lc2))->name, db->source) == 0)
				src = lfirst(lc2);
		ds_cache_put(ds_cache_by_name, db->name, db, src);
		ds_cache_put(ds_cache_by_schema, db->schema_name, db, src);
		if (here != NULL)
			ds_cache_put(ds_cache_by_local, here, db, src);
	}
	ds_cache_sources = sources;
	MemoryContextSwitchTo(old);
	ds_cache_loads++;
	ds_cache_valid = (seen == ds_cache_invalidations);
	return true;
}

/*
 * ds_cache_database
 *		The cached logical database of that name, or NULL; *source gets its
 *		datasource.  The cache must be current (ds_cache_ensure).
 */
DsDatabase *
ds_cache_database(const char *name, DsSource **source)
{
	DsCacheName *e;
	char		k[NAMEDATALEN];

	if (strlen(name) >= NAMEDATALEN)
		return NULL;
	MemSet(k, 0, sizeof(k));
	strlcpy(k, name, NAMEDATALEN);
	e = hash_search(ds_cache_by_name, k, HASH_FIND, NULL);
	if (e == NULL)
		return NULL;
	if (source)
		*source = e->source;
	return e->db;
}

/*
 * ds_cache_schema
 *		The logical databases mapped to a schema name: returns the number of
 *		them and, through *db, the one on datasource prefer (when given and
 *		among them) or the first.
 */
int
ds_cache_schema(const char *schema, const char *prefer, DsDatabase **db,
				DsSource **source)
{
	DsCacheName *e;
	char		k[NAMEDATALEN];

	if (strlen(schema) >= NAMEDATALEN)
		return 0;
	MemSet(k, 0, sizeof(k));
	strlcpy(k, schema, NAMEDATALEN);
	e = hash_search(ds_cache_by_schema, k, HASH_FIND, NULL);
	if (e == NULL)
		return 0;
	*db = e->db;
	*source = e->source;
	if (e->count > 1 && prefer != NULL)
	{
		/* several datasources map this schema name: find the preferred one */
		HASH_SEQ_STATUS seq;
		DsCacheName *n;

		hash_seq_init(&seq, ds_cache_by_name);
		while ((n = hash_seq_search(&seq)) != NULL)
		{
			if (strcmp(n->db->schema_name, schema) == 0 &&
				strcmp(n->db->source, prefer) == 0)
			{
				*db = n->db;
				*source = n->source;
				hash_seq_term(&seq);
				return 1;
			}
		}
	}
	return e->count;
}

/*
 * ds_cache_qualifier
 *		The logical database a qualifier names, as validation resolves it:
 *		by name, else by the schema it maps (prefer as ds_cache_schema),
 *		else by a MySQL logical database's local schema.  Returns how many
 *		match (more than one only for a schema mapped on several
 *		datasources, *db then not to be used); *db is NULL for none.
 */
int
ds_cache_qualifier(const char *qualifier, const char *prefer, DsDatabase **db,
				   DsSource **source)
{
	int			n;

	if ((*db = ds_cache_database(qualifier, source)) != NULL)
		return 1;
	n = ds_cache_schema(qualifier, prefer, db, source);
	if (n == 0 && (*db = ds_cache_local_schema(qualifier, source)) != NULL)
		return 1;
	return n;
}

/*
 * ds_cache_source
 *		A copy of datasource name, from the registry cache when it has it,
 *		else read afresh (42704 when it does not exist).
 */
DsSource *
ds_cache_source(const char *name)
{
	ListCell   *lc;

	if (ds_cache_ensure())
		foreach(lc, ds_cache_sources)
		{
			DsSource   *cached = (DsSource *) lfirst(lc);
			DsSource   *src;

			if (strcmp(cached->name, name) != 0)
				continue;
			src = palloc(sizeof(DsSource));
			memcpy(src, cached, sizeof(DsSource));
			src->name = pstrdup(cached->name);
			src->server = cached->server ? pstrdup(cached->server) : NULL;
			src->description = cached->description ? pstrdup(cached->description) : NULL;
			return src;
		}
	return ds_get_source(name, false);
}

/*
 * ds_cache_source_by_server
 *		The cached datasource registered on foreign server server, or NULL
 *		(also when the extension is not installed in this database).  The
 *		result points into the cache: valid until the next ds_cache_ensure.
 */
const DsSource *
ds_cache_source_by_server(const char *server)
{
	ListCell   *lc;

	if (!ds_cache_ensure())
		return NULL;
	foreach(lc, ds_cache_sources)
	{
		DsSource   *src = (DsSource *) lfirst(lc);

		if (src->server != NULL && strcmp(src->server, server) == 0)
			return src;
	}
	return NULL;
}

/*
 * ds_cache_database_copy
 *		A logical database and its datasource from the registry cache, as
 *		copies in the caller's context (the cache may be rebuilt while the
 *		caller runs SQL).  Raises 42704 for an unknown name.
 */
DsDatabase *
ds_cache_database_copy(const char *name, DsSource **source)
{
	DsDatabase *cached;
	DsDatabase *db;
	DsSource   *src;

	if (!ds_cache_ensure())
		elog(ERROR, "the pg_datasource registry is not available");
	cached = ds_cache_database(name, &src);
	if (cached == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("logical database \"%s\" does not exist", name));
	db = memcpy(palloc(sizeof(DsDatabase)), cached, sizeof(DsDatabase));
	db->name = pstrdup(cached->name);
	db->schema_name = pstrdup(cached->schema_name);
	db->source = pstrdup(cached->source);
	db->local_schema = cached->local_schema ? pstrdup(cached->local_schema) : NULL;
	db->description = NULL;
	*source = memcpy(palloc(sizeof(DsSource)), src, sizeof(DsSource));
	(*source)->name = pstrdup(src->name);
	(*source)->server = src->server ? pstrdup(src->server) : NULL;
	(*source)->description = NULL;
	return db;
}

/*
 * ds_cache_generation
 *		A number that changes whenever the registry cache is marked stale or
 *		read again: what was derived from the registry under another number
 *		may be stale (stmtcache.c).
 */
uint64
ds_cache_generation(void)
{
	return ds_cache_invalidations + ds_cache_loads;
}

/*
 * ds_cache_local_schema
 *		The logical database whose relations are in this schema of this
 *		database (one of the local datasource, or a MySQL one's schema of
 *		foreign tables), or NULL.  The cache must be current.
 */
DsDatabase *
ds_cache_local_schema(const char *schema, DsSource **source)
{
	DsCacheName *e;
	char		k[NAMEDATALEN];

	if (strlen(schema) >= NAMEDATALEN || ds_cache_by_local == NULL)
		return NULL;
	MemSet(k, 0, sizeof(k));
	strlcpy(k, schema, NAMEDATALEN);
	e = hash_search(ds_cache_by_local, k, HASH_FIND, NULL);
	if (e == NULL)
		return NULL;
	*source = e->source;
	return e->db;
}

/*
 * ds_source_runs_here
 *		Whether SQL for src's logical databases runs in this database,
 *		through SPI: the local datasource, and a MySQL one (its logical
 *		databases are local schemas of foreign tables).  A PostgreSQL
 *		foreign server is reached with libpq instead.
 */
bool
ds_source_runs_here(const DsSource *src)
{
	return src->server == NULL || src->engine == DS_ENGINE_MYSQL;
}

/*
 * ds_database_schema_here
 *		The schema of this database that holds db's relations: its schema
 *		for a logical database of the local datasource, its local schema of
 *		foreign tables for a MySQL one, NULL for one on a PostgreSQL
 *		foreign server.
 */
const char *
ds_database_schema_here(const DsDatabase *db)
{
	if (db->local_schema != NULL)
		return db->local_schema;
	if (strcmp(db->source, DS_LOCAL_SOURCE) == 0)
		return db->schema_name;
	return NULL;
}

/*
 * ds_database_sql_schema
 *		The schema routed SQL names for db: its schema on its datasource, or
 *		for a MySQL logical database its local schema of foreign tables.
 */
const char *
ds_database_sql_schema(const DsDatabase *db)
{
	return db->local_schema != NULL ? db->local_schema : db->schema_name;
}
