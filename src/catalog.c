/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		  Reading and writing the registry tables, and finding the foreign
 *		  server of a datasource.
 *
 * The registry is two ordinary tables in the extension's schema,
 * datasource.sources and datasource.databases.  Everything here goes
 * through SPI (spi.c) with $n parameters and a search_path of pg_catalog
 * only.  Reads run as the calling role (the tables are readable by
 * everyone) and see this transaction's earlier writes; writes run as the
 * owner of the tables (ds_spi_as_owner).  Most readers want the registry
 * cache (regcache.c) instead: these functions read the tables afresh, as
 * the management functions must.
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

#include "executor/spi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "pg_datasource.h"

static char *ds_spi_text(HeapTuple tup, TupleDesc desc, int col);
static bool ds_spi_bool(HeapTuple tup, TupleDesc desc, int col);
static List *ds_read_sources(const char *where, Datum arg);
static List *ds_read_databases(const char *where, int nargs, Datum *args);

/*
 * ds_lock_registry
 *		Serializes registry changes; see the file header.  Held until the end
 *		of the transaction.
 */
void
ds_lock_registry(void)
{
	LockRelationOid(ds_extension_relid("sources"), ShareRowExclusiveLock);
	LockRelationOid(ds_extension_relid("databases"), ShareRowExclusiveLock);
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

	/* the engine follows the wrapper of the server (never changes) */
	sql = psprintf("SELECT s.name, s.server, s.enabled, s.read_only, s.description, "
				   "w.fdwname OPERATOR(pg_catalog.=) '" DS_MYSQL_WRAPPER "' "
				   "FROM datasource.sources s "
				   "LEFT JOIN pg_catalog.pg_foreign_server f "
				   "ON f.srvname OPERATOR(pg_catalog.=) s.server "
				   "LEFT JOIN pg_catalog.pg_foreign_data_wrapper w "
				   "ON w.oid OPERATOR(pg_catalog.=) f.srvfdw %s ORDER BY s.name",
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
		s->engine = ds_spi_bool(tup, desc, 6) ? DS_ENGINE_MYSQL : DS_ENGINE_POSTGRESQL;
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
	sql = psprintf("SELECT name, source, schema_name, read_only, description, "
				   "local_schema FROM datasource.databases %s ORDER BY name",
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
		d->local_schema = ds_spi_text(tup, desc, 6);
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
	List	   *rows = ds_read_sources("WHERE s.name = $1",
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
	List	   *rows = ds_read_sources("WHERE s.server = $1",
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
 * ds_lookup_server_of
 *		The foreign server of that name, usable by the current role, of our
 *		wrapper or, when mysql_too, of mysql_fdw; *engine says which.
 *		Raises 42704 when it does not exist, 42809 for another wrapper (the
 *		message names the wrappers allowed), and the usual privilege error
 *		without USAGE on it.
 */
static ForeignServer *
ds_lookup_server_of(const char *server, bool mysql_too, DsEngine *engine)
{
	ForeignServer *fs = GetForeignServerByName(server, true);
	ForeignDataWrapper *fdw;
	AclResult	aclresult;

	if (fs == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("server \"%s\" does not exist", server),
				mysql_too ?
				errhint("Create it with CREATE SERVER %s FOREIGN DATA WRAPPER %s OPTIONS (host '...', dbname '...'), or FOREIGN DATA WRAPPER %s for a MySQL server.",
						quote_identifier(server), DS_WRAPPER, DS_MYSQL_WRAPPER) :
				errhint("Create it with CREATE SERVER %s FOREIGN DATA WRAPPER %s OPTIONS (host '...', dbname '...').",
						quote_identifier(server), DS_WRAPPER));

	fdw = GetForeignDataWrapper(fs->fdwid);
	*engine = DS_ENGINE_POSTGRESQL;
	if (mysql_too && strcmp(fdw->fdwname, DS_MYSQL_WRAPPER) == 0)
		*engine = DS_ENGINE_MYSQL;
	else if (strcmp(fdw->fdwname, DS_WRAPPER) != 0)
		ereport(ERROR,
				errcode(ERRCODE_WRONG_OBJECT_TYPE),
				mysql_too ?
				errmsg("server \"%s\" does not use the foreign-data wrapper \"%s\" or \"%s\"",
					   server, DS_WRAPPER, DS_MYSQL_WRAPPER) :
				errmsg("server \"%s\" does not use the foreign-data wrapper \"%s\"",
					   server, DS_WRAPPER),
				errdetail("It uses \"%s\".", fdw->fdwname));

	aclresult = pg_foreign_server_aclcheck(fs->serverid, GetUserId(), ACL_USAGE);
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, fs->servername);

	return fs;
}

/*
 * ds_lookup_server
 *		The foreign server of that name, which must belong to our wrapper and
 *		be usable by the current role: what libpq connects to.
 */
ForeignServer *
ds_lookup_server(const char *server)
{
	DsEngine	engine;

	return ds_lookup_server_of(server, false, &engine);
}

/*
 * ds_lookup_source_server
 *		The foreign server a datasource may be registered for: one of our
 *		wrapper (a PostgreSQL datasource) or of mysql_fdw (a MySQL one, whose
 *		options are mysql_fdw's own business: our validator never sees
 *		them).  Sets *engine accordingly.
 */
ForeignServer *
ds_lookup_source_server(const char *server, DsEngine *engine)
{
	return ds_lookup_server_of(server, true, engine);
}

/*
 * ds_catalog_write
 *		Runs one of our own fixed INSERT/UPDATE/DELETE statements on the
 *		registry as the owner of the registry tables (spi.c).
 */
void
ds_catalog_write(const char *sql, int nargs, Oid *argtypes, Datum *values,
				 const char *nulls)
{
	Oid			owner = ds_table_owner("sources", false);
	int			level;
	int			rc;

	level = ds_spi_connect();
	rc = ds_spi_as_owner(owner, NULL, sql, nargs, argtypes, values, nulls);
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
