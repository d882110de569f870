/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		  Reading and writing the registry tables, and the name rules.
 *
 * The registry is two ordinary tables in the extension's schema,
 * datasource.sources and datasource.databases.  Everything here goes
 * through SPI with $n parameters and a search_path of pg_catalog only, so a
 * caller's search_path can never change what our SQL means.
 *
 * Reads run as the calling role (the tables are readable by everyone).
 * Writes run as the owner of the tables: EXECUTE on a management function is
 * the privilege that lets a role change the registry, not INSERT on the
 * tables.  The owner switch covers only our own fixed statements, never
 * user SQL, and is marked as a security-restricted operation.
 *
 * Concurrent changes are serialized with a SHARE ROW EXCLUSIVE lock on both
 * tables (ds_lock_registry), taken before any check, so a check and the
 * write that depends on it see the same committed state under READ
 * COMMITTED; readers are never blocked.
 *
 * Memory: results are palloc'd in the caller's current memory context;
 * SPI's own memory is released before returning.
 *
 * IDENTIFICATION
 *		  src/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "common/keywords.h"
#include "common/kwlookup.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "commands/trigger.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "pg_datasource.h"

static Oid	ds_registry_relid(const char *relname);
static char *ds_spi_text(HeapTuple tup, TupleDesc desc, int col);
static bool ds_spi_bool(HeapTuple tup, TupleDesc desc, int col);
static List *ds_read_sources(const char *where, Datum arg);
static List *ds_read_databases(const char *where, int nargs, Datum *args);

/*
 * ds_name_kind_label
 *		The words used for a kind of name in messages.
 */
const char *
ds_name_kind_label(DsNameKind kind)
{
	switch (kind)
	{
		case DS_NAME_SOURCE:
			return "datasource";
		case DS_NAME_DATABASE:
			return "logical database";
		case DS_NAME_SCHEMA:
			return "schema";
		case DS_NAME_SERVER:
			return "server";
	}
	return "name";				/* keep compiler quiet */
}

/*
 * ds_check_name
 *		Raises an error unless the name obeys the rules for its kind.
 *
 * Datasource and logical database names are used unquoted as qualifiers in
 * SQL, so they must be lower-case identifiers that are not keywords (other
 * than unreserved ones, which PostgreSQL accepts as names).  Schema and server names name existing objects, so upper case
 * is allowed, but only identifier characters.  Every kind is at most
 * NAMEDATALEN - 1 bytes: longer names are rejected, never truncated.  The
 * caller has already rejected NULL.
 */
void
ds_check_name(DsNameKind kind, const char *name)
{
	const char *label = ds_name_kind_label(kind);
	bool		lower_only = (kind == DS_NAME_SOURCE || kind == DS_NAME_DATABASE);
	size_t		len = strlen(name);
	bool		has_upper = false;
	int			kwnum;
	const char *p;

	if (len == 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_NAME),
				errmsg("%s name must not be empty", label));

	if (len >= NAMEDATALEN)
		ereport(ERROR,
				errcode(ERRCODE_NAME_TOO_LONG),
				errmsg("%s name \"%s\" is too long", label, name),
				errdetail("Names are at most %d bytes; this one has %zu.",
						  NAMEDATALEN - 1, len));

	/* identifier characters, upper case allowed for now */
	for (p = name; *p; p++)
	{
		char		c = *p;
		bool		ok;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
			ok = true;
		else if ((c >= '0' && c <= '9') || c == '$')
			ok = (p != name);
		else
			ok = false;

		if (!ok)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_NAME),
					errmsg("invalid %s name \"%s\"", label, name),
					errdetail("Names are SQL identifiers: a letter or underscore, then letters, digits, underscores or dollar signs."));
		if (lower_only && c >= 'A' && c <= 'Z')
			has_upper = true;
	}

	/* names used unquoted as qualifiers are lower case: suggest the fix */
	if (has_upper)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_NAME),
				errmsg("invalid %s name \"%s\"", label, name),
				errdetail("%s names are lower case.",
						  kind == DS_NAME_SOURCE ? "Datasource" : "Logical database"),
				errhint("Use \"%s\".", asc_tolower(name, len)));

	/* a keyword would need quoting wherever the name is used as a qualifier */
	kwnum = ScanKeywordLookup(name, &ScanKeywords);
	if (lower_only && kwnum >= 0 &&
		ScanKeywordCategories[kwnum] != UNRESERVED_KEYWORD)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_NAME),
				errmsg("invalid %s name \"%s\"", label, name),
				errdetail("\"%s\" is an SQL keyword.", name));

	if (kind != DS_NAME_SERVER &&
		(strncmp(name, "pg_", 3) == 0 ||
		 strcmp(name, "information_schema") == 0 ||
		 strcmp(name, DS_SCHEMA) == 0))
		ereport(ERROR,
				errcode(ERRCODE_RESERVED_NAME),
				errmsg("%s name \"%s\" is reserved", label, name),
				errdetail("Names starting with \"pg_\", \"information_schema\" and \"%s\" are reserved for the system and this extension.",
						  DS_SCHEMA));
}

/*
 * ds_registry_relid
 *		OID of one of the registry tables.
 */
static Oid
ds_registry_relid(const char *relname)
{
	Oid			nsp = get_namespace_oid(DS_SCHEMA, false);
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg("relation \"%s.%s\" does not exist", DS_SCHEMA, relname),
				errhint("Is the extension pg_datasource installed in this database?"));
	return relid;
}

/*
 * ds_lock_registry
 *		Serializes registry changes; see the file header.  Held until the end
 *		of the transaction.
 */
void
ds_lock_registry(void)
{
	LockRelationOid(ds_registry_relid("sources"), ShareRowExclusiveLock);
	LockRelationOid(ds_registry_relid("databases"), ShareRowExclusiveLock);
}

/*
 * ds_spi_connect
 *		SPI_connect with search_path pinned to pg_catalog for our statements.
 *		Returns the GUC nest level to pass to ds_spi_finish.
 */
int
ds_spi_connect(void)
{
	int			level;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return level;
}

/*
 * ds_spi_finish
 *		Undoes ds_spi_connect.
 */
void
ds_spi_finish(int guc_level)
{
	AtEOXact_GUC(true, guc_level);
	SPI_finish();
}

/*
 * ds_spi_text / ds_spi_bool
 *		Column values of an SPI result row; text is copied into the current
 *		memory context, NULL stays NULL.
 */
static char *
ds_spi_text(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static bool
ds_spi_bool(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? false : DatumGetBool(d);
}

/*
 * ds_read_sources
 *		Rows of datasource.sources matching an optional condition on $1
 *		(text), as a List of DsSource in the caller's memory context.
 */
static List *
ds_read_sources(const char *where, Datum arg)
{
	MemoryContext callercxt = CurrentMemoryContext;
	List	   *result = NIL;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {arg};
	char	   *sql;
	int			level;
	uint64		i;

	sql = psprintf("SELECT name, server, enabled, read_only, description "
				   "FROM datasource.sources %s ORDER BY name",
				   where ? where : "");
	level = ds_spi_connect();
	/* not read-only: we must see this transaction's earlier registry writes */
	if (SPI_execute_with_args(sql, where ? 1 : 0, argtypes, values, NULL,
							  false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read datasource.sources");

	MemoryContextSwitchTo(callercxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		DsSource   *s = palloc0(sizeof(DsSource));

		s->name = ds_spi_text(tup, desc, 1);
		s->server = ds_spi_text(tup, desc, 2);
		s->enabled = ds_spi_bool(tup, desc, 3);
		s->read_only = ds_spi_bool(tup, desc, 4);
		s->description = ds_spi_text(tup, desc, 5);
		result = lappend(result, s);
	}
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	return result;
}

/*
 * ds_read_databases
 *		Rows of datasource.databases matching an optional condition on $1..$n
 *		(text), as a List of DsDatabase in the caller's memory context.
 */
static List *
ds_read_databases(const char *where, int nargs, Datum *args)
{
	MemoryContext callercxt = CurrentMemoryContext;
	List	   *result = NIL;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	char	   *sql;
	int			level;
	uint64		i;

	Assert(nargs <= 2);
	sql = psprintf("SELECT name, source, schema_name, read_only, description "
				   "FROM datasource.databases %s ORDER BY name",
				   where ? where : "");
	level = ds_spi_connect();
	if (SPI_execute_with_args(sql, nargs, argtypes, args, NULL,
							  false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read datasource.databases");

	MemoryContextSwitchTo(callercxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		DsDatabase *d = palloc0(sizeof(DsDatabase));

		d->name = ds_spi_text(tup, desc, 1);
		d->source = ds_spi_text(tup, desc, 2);
		d->schema_name = ds_spi_text(tup, desc, 3);
		d->read_only = ds_spi_bool(tup, desc, 4);
		d->description = ds_spi_text(tup, desc, 5);
		result = lappend(result, d);
	}
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	return result;
}

/*
 * ds_get_source
 *		The datasource of that name; NULL or an error when there is none.
 */
DsSource *
ds_get_source(const char *name, bool missing_ok)
{
	List	   *rows = ds_read_sources("WHERE name = $1",
									   CStringGetTextDatum(name));

	if (rows == NIL)
	{
		if (missing_ok)
			return NULL;
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("datasource \"%s\" does not exist", name));
	}
	return (DsSource *) linitial(rows);
}

/*
 * ds_source_by_server
 *		The datasource registered for a foreign server, or NULL.
 */
DsSource *
ds_source_by_server(const char *server)
{
	List	   *rows = ds_read_sources("WHERE server = $1",
									   CStringGetTextDatum(server));

	return rows == NIL ? NULL : (DsSource *) linitial(rows);
}

/*
 * ds_list_sources
 *		All datasources, ordered by name.
 */
List *
ds_list_sources(void)
{
	return ds_read_sources(NULL, (Datum) 0);
}

/*
 * ds_get_database
 *		The logical database of that name; NULL or an error when there is none.
 */
DsDatabase *
ds_get_database(const char *name, bool missing_ok)
{
	Datum		args[1] = {CStringGetTextDatum(name)};
	List	   *rows = ds_read_databases("WHERE name = $1", 1, args);

	if (rows == NIL)
	{
		if (missing_ok)
			return NULL;
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("logical database \"%s\" does not exist", name));
	}
	return (DsDatabase *) linitial(rows);
}

/*
 * ds_database_by_schema
 *		The logical database mapped to a schema of a datasource, or NULL.
 */
DsDatabase *
ds_database_by_schema(const char *source, const char *schema)
{
	Datum		args[2] = {CStringGetTextDatum(source),
	CStringGetTextDatum(schema)};
	List	   *rows = ds_read_databases("WHERE source = $1 AND schema_name = $2",
										 2, args);

	return rows == NIL ? NULL : (DsDatabase *) linitial(rows);
}

/*
 * ds_list_databases
 *		All logical databases, ordered by name.
 */
List *
ds_list_databases(void)
{
	return ds_read_databases(NULL, 0, NULL);
}

/*
 * ds_lookup_server
 *		The foreign server of that name, which must belong to our wrapper and
 *		be usable by the current role.
 */
ForeignServer *
ds_lookup_server(const char *server)
{
	ForeignServer *fs = GetForeignServerByName(server, true);
	ForeignDataWrapper *fdw;
	AclResult	aclresult;

	if (fs == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("server \"%s\" does not exist", server),
				errhint("Create it with CREATE SERVER %s FOREIGN DATA WRAPPER %s OPTIONS (host '...', dbname '...').",
						quote_identifier(server), DS_WRAPPER));

	fdw = GetForeignDataWrapper(fs->fdwid);
	if (strcmp(fdw->fdwname, DS_WRAPPER) != 0)
		ereport(ERROR,
				errcode(ERRCODE_WRONG_OBJECT_TYPE),
				errmsg("server \"%s\" does not use the foreign-data wrapper \"%s\"",
					   server, DS_WRAPPER),
				errdetail("It uses \"%s\".", fdw->fdwname));

	aclresult = pg_foreign_server_aclcheck(fs->serverid, GetUserId(), ACL_USAGE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, fs->servername);

	return fs;
}

/*
 * ds_table_owner
 *		The owner of one of the extension's tables (the role that installed
 *		it), as whom the registry and the journals are written.  InvalidOid
 *		when the table does not exist and missing_ok (the extension is being
 *		dropped).
 */
Oid
ds_table_owner(const char *relname, bool missing_ok)
{
	Oid			nsp = get_namespace_oid(DS_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
	{
		if (missing_ok)
			return InvalidOid;
		relid = ds_registry_relid(relname);		/* raises the error */
	}
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * ds_catalog_write
 *		Runs one of our own fixed INSERT/UPDATE/DELETE statements on the
 *		registry as the owner of the registry tables; see the file header.
 */
void
ds_catalog_write(const char *sql, int nargs, Oid *argtypes, Datum *values,
				 const char *nulls)
{
	Oid			owner = ds_table_owner("sources", false);
	Oid			save_userid;
	int			save_sec;
	int			level;
	int			rc;

	level = ds_spi_connect();
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc < 0)
		elog(ERROR, "registry write failed: %s", SPI_result_code_string(rc));
	ds_spi_finish(level);
}

/*
 * ds_registry_row
 *		The current row of a registry table ("sources" or "databases") as a
 *		composite Datum of the table's row type, copied into the caller's
 *		memory context.
 */
Datum
ds_registry_row(const char *table, const char *name)
{
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	char	   *sql;
	int			level;
	bool		isnull;
	Datum		row;

	sql = psprintf("SELECT t FROM datasource.%s t WHERE t.name = $1", table);
	level = ds_spi_connect();
	if (SPI_execute_with_args(sql, 1, argtypes, values, NULL, false, 1)
		!= SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "registry row \"%s\" of datasource.%s not found", name, table);
	row = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	MemoryContextSwitchTo(callercxt);
	row = PointerGetDatum(PG_DETOAST_DATUM_COPY(row));
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	return row;
}

/*
 * ds_run_sql_as_caller
 *		Runs a utility statement built by us (identifiers already quoted) as
 *		the calling role, so its privileges apply: CREATE/DROP SCHEMA and
 *		server definitions.
 */
void
ds_run_sql_as_caller(const char *sql)
{
	int			level = ds_spi_connect();
	int			rc = SPI_execute(sql, false, 0);

	if (rc < 0)
		elog(ERROR, "could not run \"%s\": %s", sql, SPI_result_code_string(rc));
	ds_spi_finish(level);
}

/*
 * ds_run_query
 *		Runs one of our own read-only queries with text parameters as the
 *		caller and returns the first column of the first row as a Datum
 *		copied into the caller's context (isnull set when there is no row or
 *		the value is NULL).  typlen/typbyval describe the result type.
 */
Datum
ds_run_query(const char *sql, int nargs, Oid *argtypes, Datum *values,
			 const char *nulls, bool *isnull)
{
	MemoryContext callercxt = CurrentMemoryContext;
	int			level = ds_spi_connect();
	Datum		result = (Datum) 0;

	if (SPI_execute_with_args(sql, nargs, argtypes, values, nulls, true, 1)
		!= SPI_OK_SELECT)
		elog(ERROR, "query failed: %s", sql);
	*isnull = true;
	if (SPI_processed > 0)
	{
		Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, 0);

		result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
							   isnull);
		if (!*isnull)
		{
			MemoryContextSwitchTo(callercxt);
			result = datumCopy(result, att->attbyval, att->attlen);
		}
	}
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	return result;
}

/*
 * The registry cache.
 *
 * validate() and the enforcement hook look names up on every call, far too
 * often for an SPI query each time.  The registry is read once into a hash
 * table in a child of TopMemoryContext and kept until it changes: a
 * statement-level trigger on both tables (datasource.registry_changed) queues
 * a relcache invalidation of datasource.databases, which reaches every
 * backend at commit (and this one at the next command), and our relcache
 * callback marks the cache stale.  Dropping and re-creating the extension
 * invalidates the tables' relcache entries too.
 */
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
	CacheInvalidateRelcacheByRelid(ds_registry_relid("databases"));
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
	foreach(lc, dbs)
	{
		DsDatabase *db = lfirst(lc);
		DsSource   *src = NULL;
		ListCell   *lc2;

		foreach(lc2, sources)
			if (strcmp(((DsSource *) lfirst(lc2))->name, db->source) == 0)
				src = lfirst(lc2);
		ds_cache_put(ds_cache_by_name, db->name, db, src);
		ds_cache_put(ds_cache_by_schema, db->schema_name, db, src);
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
 *		The logical database of the local datasource mapped to a schema of
 *		this database, or NULL.  The cache must be current.
 */
DsDatabase *
ds_cache_local_schema(const char *schema, DsSource **source)
{
	DsDatabase *db;

	if (ds_cache_schema(schema, DS_LOCAL_SOURCE, &db, source) == 0 ||
		strcmp(db->source, DS_LOCAL_SOURCE) != 0)
		return NULL;
	return db;
}
