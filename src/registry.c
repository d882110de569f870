/*-------------------------------------------------------------------------
 *
 * registry.c
 *		  The registry's SQL functions: datasources and logical databases.
 *
 * Each SQL function checks its arguments, takes the registry lock, checks
 * the registry, touches the physical schema when asked (locally through SPI
 * as the caller, remotely in a remote transaction tied to the local one) and
 * writes the registry last.  Any error aborts the whole transaction, local
 * and remote, so a failed call leaves nothing behind.
 *
 * The ds_do_* functions are the operations themselves, shared with
 * apply_config (config.c) so a config document is checked by exactly the
 * same rules as a call from psql.
 *
 * Memory: everything is allocated in the function's call context.
 *
 * IDENTIFICATION
 *		  src/registry.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_create_source);
PG_FUNCTION_INFO_V1(pgds_alter_source);
PG_FUNCTION_INFO_V1(pgds_drop_source);
PG_FUNCTION_INFO_V1(pgds_create_database);
PG_FUNCTION_INFO_V1(pgds_alter_database);
PG_FUNCTION_INFO_V1(pgds_rename_database);
PG_FUNCTION_INFO_V1(pgds_drop_database);
PG_FUNCTION_INFO_V1(pgds_validate_databases);

static bool ds_schema_exists(DsSource *source, const char *schema);
static void ds_create_schema(DsSource *source, const char *schema);
static void ds_check_server_free(const char *server, const char *source);
static const char *ds_nonempty(const char *s);
static List *ds_source_databases(const char *source);
static void ds_check_history(const char *name, const char *source,
							 const char *schema_name, bool exists);

/*
 * ds_nonempty
 *		An empty description means "none".
 */
static const char *
ds_nonempty(const char *s)
{
	return (s == NULL || s[0] == '\0') ? NULL : s;
}

/*
 * ds_source_databases
 *		The logical databases of a datasource (read afresh).
 */
static List *
ds_source_databases(const char *source)
{
	List	   *dbs = NIL;
	ListCell   *lc;

	foreach(lc, ds_list_databases())
	{
		DsDatabase *d = lfirst(lc);

		if (strcmp(d->source, source) == 0)
			dbs = lappend(dbs, d);
	}
	return dbs;
}

/*
 * ds_schema_exists
 *		Whether a schema exists on a datasource (asks the remote server for a
 *		remote datasource).
 */
static bool
ds_schema_exists(DsSource *source, const char *schema)
{
	if (source->server == NULL)
		return OidIsValid(get_namespace_oid(schema, true));
	return ds_remote_schema_exists(source, schema);
}

/*
 * ds_create_schema
 *		CREATE SCHEMA on a datasource, as the calling role (locally) or the
 *		user mapping's role (remotely), inside the current transaction.
 */
static void
ds_create_schema(DsSource *source, const char *schema)
{
	char	   *sql = psprintf("CREATE SCHEMA %s", quote_identifier(schema));

	if (source->server == NULL)
		ds_run_sql_as_caller(sql);
	else
		ds_remote_command(source, sql);
}

/*
 * ds_check_server_free
 *		A foreign server backs at most one datasource.
 */
static void
ds_check_server_free(const char *server, const char *source)
{
	DsSource   *other = ds_source_by_server(server);

	if (other != NULL && (source == NULL || strcmp(other->name, source) != 0))
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_OBJECT),
				errmsg("server \"%s\" is already registered as datasource \"%s\"",
					   server, other->name));
}

/*
 * ds_do_create_source
 *		Registers a datasource for an existing foreign server of our wrapper
 *		(PostgreSQL) or of mysql_fdw (MySQL).
 */
void
ds_do_create_source(const char *name, const char *server, bool read_only,
					const char *description)
{
	Oid			argtypes[5] = {TEXTOID, TEXTOID, BOOLOID, TEXTOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	DsEngine	engine;

	ds_check_name(DS_NAME_SOURCE, name);
	if (server == NULL)
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"server\" must not be null"),
				errdetail("A datasource other than \"%s\" is a foreign server of the %s or the %s wrapper.",
						  DS_LOCAL_SOURCE, DS_WRAPPER, DS_MYSQL_WRAPPER),
				errhint("Create one with CREATE SERVER ... FOREIGN DATA WRAPPER %s.",
						DS_WRAPPER));
	ds_check_name(DS_NAME_SERVER, server);

	ds_lock_registry();
	if (ds_get_source(name, true) != NULL)
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_OBJECT),
				errmsg("datasource \"%s\" already exists", name));
	(void) ds_lookup_source_server(server, &engine);
	ds_check_server_free(server, NULL);

	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(server);
	values[2] = BoolGetDatum(read_only);
	description = ds_nonempty(description);
	if (description)
		values[3] = CStringGetTextDatum(description);
	else
		nulls[3] = 'n';
	values[4] = CStringGetTextDatum(ds_current_role());
	ds_catalog_write("INSERT INTO datasource.sources "
					 "(name, server, read_only, description, created_by) "
					 "VALUES ($1, $2, $3, $4, $5)",
					 5, argtypes, values, nulls);
}

/*
 * ds_do_alter_source
 *		Changes the fields given (read_only/enabled: -1 = unchanged; NULL
 *		strings unchanged; an empty description clears it).
 */
void
ds_do_alter_source(const char *name, const char *server, int read_only,
				   int enabled, const char *description)
{
	Oid			argtypes[5] = {TEXTOID, TEXTOID, BOOLOID, BOOLOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', 'n', 'n', 'n', 'n'};
	DsSource   *src;
	DsEngine	engine;

	ds_check_name(DS_NAME_SOURCE, name);
	if (server != NULL)
		ds_check_name(DS_NAME_SERVER, server);

	ds_lock_registry();
	src = ds_get_source(name, false);
	if (server != NULL)
	{
		if (src->server == NULL)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("datasource \"%s\" cannot have a server", name),
					errdetail("The local datasource is this database."));
		(void) ds_lookup_source_server(server, &engine);
		ds_check_server_free(server, name);
		ds_mysql_check_server_change(src, engine,
									 list_length(ds_source_databases(name)));
		values[1] = CStringGetTextDatum(server);
		nulls[1] = ' ';
	}
	if (read_only >= 0)
	{
		values[2] = BoolGetDatum(read_only == 1);
		nulls[2] = ' ';
	}
	if (enabled >= 0)
	{
		values[3] = BoolGetDatum(enabled == 1);
		nulls[3] = ' ';
	}
	if (description != NULL)
	{
		values[4] = CStringGetTextDatum(description);
		nulls[4] = ' ';
	}
	values[0] = CStringGetTextDatum(name);
	ds_catalog_write("UPDATE datasource.sources SET "
					 "server = coalesce($2, server), "
					 "read_only = coalesce($3, read_only), "
					 "enabled = coalesce($4, enabled), "
					 "description = CASE WHEN $5 IS NULL THEN description "
					 "WHEN $5 = '' THEN NULL ELSE $5 END "
					 "WHERE name = $1",
					 5, argtypes, values, nulls);
}

/*
 * ds_do_drop_source
 *		Unregisters a datasource; with cascade its logical databases too
 *		(registry rows only: schemas and the foreign server stay, except the
 *		local schemas of foreign tables of MySQL logical databases, which
 *		are ours).
 */
void
ds_do_drop_source(const char *name, bool cascade)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	DsSource   *src;
	List	   *dbs;
	ListCell   *lc;
	StringInfoData names;

	ds_check_name(DS_NAME_SOURCE, name);
	if (strcmp(name, DS_LOCAL_SOURCE) == 0)
		ereport(ERROR,
				errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				errmsg("cannot drop datasource \"%s\"", name),
				errdetail("The local datasource is this database; it always exists."));

	ds_lock_registry();
	src = ds_get_source(name, false);

	dbs = ds_source_databases(name);
	if (dbs != NIL)
	{
		initStringInfo(&names);
		foreach(lc, dbs)
			appendStringInfo(&names, "%s%s", names.len ? ", " : "",
							 ((DsDatabase *) lfirst(lc))->name);
		if (!cascade)
			ereport(ERROR,
					errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					errmsg("cannot drop datasource \"%s\" because logical databases use it",
						   name),
					errdetail("Logical databases on it: %s.", names.data),
					src->engine == DS_ENGINE_MYSQL ?
					errhint("Drop them first, or use cascade => true (their local schemas of foreign tables are dropped; the MySQL databases are kept).") :
					errhint("Drop or move them first, or use cascade => true (their schemas are kept)."));
		ereport(NOTICE,
				errmsg_plural("drop cascades to %d logical database: %s",
							  "drop cascades to %d logical databases: %s",
							  list_length(dbs), list_length(dbs), names.data));
	}

	/* a MySQL logical database's local schema of foreign tables is ours */
	foreach(lc, dbs)
		ds_mysql_drop_database(lfirst(lc), false);
	values[0] = CStringGetTextDatum(name);
	ds_catalog_write("DELETE FROM datasource.databases WHERE source = $1",
					 1, argtypes, values, NULL);
	foreach(lc, dbs)
		ds_stats_forget(DS_STATS_DATABASE, ((DsDatabase *) lfirst(lc))->name,
						NULL);
	ds_catalog_write("DELETE FROM datasource.sources WHERE name = $1",
					 1, argtypes, values, NULL);
	ds_stats_forget(DS_STATS_SOURCE, name, NULL);
}

/*
 * ds_check_history
 *		The rule for a name that was mapped before: dropping a logical
 *		database keeps its journal rows, and mapping the name again
 *		continues that history, so migrate() takes its versions as applied.
 *		That is right only when the new mapping is the schema the history
 *		describes (the latest row's datasource and schema) and that schema
 *		still exists (exists: it does before this call); otherwise the
 *		versions would be taken as applied to a schema they never ran on,
 *		so the mapping is refused (55000) and the old rows stay.  The caller
 *		holds the registry lock.
 */
static void
ds_check_history(const char *name, const char *source,
				 const char *schema_name, bool exists)
{
	char	   *hsource;
	char	   *hschema;

	if (!ds_journal_history(name, &hsource, &hschema))
		return;
	if (strcmp(hsource, source) != 0 || strcmp(hschema, schema_name) != 0)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("logical database \"%s\" has a migration history on another schema",
					   name),
				errdetail("Its journal describes schema \"%s\" on datasource \"%s\"; migrate() would take those versions as applied to schema \"%s\" on datasource \"%s\".",
						  hschema, hsource, schema_name, source),
				errhint("Choose another name, or map the schema the history describes; the old rows stay in datasource.migrations."));
	if (!exists)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("logical database \"%s\" has a migration history for a schema that no longer exists",
					   name),
				errdetail("Its journal describes schema \"%s\" on datasource \"%s\"; migrate() would take those versions as applied to a new, empty schema.",
						  hschema, hsource),
				errhint("Choose another name, or restore the schema first; the old rows stay in datasource.migrations."));
	ereport(NOTICE,
			errmsg("logical database \"%s\" continues its migration history", name),
			errdetail("The journal's versions of \"%s\" count as applied to schema \"%s\" on datasource \"%s\".",
					  name, schema_name, source));
}

/*
 * ds_do_create_database
 *		Maps a logical database to a schema.  With create_schema the schema is
 *		created when it does not exist yet (an existing empty or populated
 *		schema is adopted); without it the schema must exist.
 *
 *		On a MySQL datasource the schema is a MySQL database, which must
 *		exist (the extension runs no DDL there), and the logical database
 *		gets a new local schema of foreign tables (mysql.c): local_schema,
 *		or its name when NULL (apply_config passes the exported one; the SQL
 *		function passes NULL, and NULL is required on PostgreSQL).
 */
void
ds_do_create_database(const char *name, const char *source,
					  const char *schema_name, bool create_schema,
					  bool read_only, const char *description,
					  const char *local_schema)
{
	Oid			argtypes[7] = {TEXTOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID,
	TEXTOID, TEXTOID};
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', 'n'};
	DsSource   *src;
	DsDatabase *other;
	bool		exists;
	bool		mysql;

	ds_check_name(DS_NAME_DATABASE, name);
	ds_check_name(DS_NAME_SOURCE, source);
	if (schema_name == NULL)
		schema_name = name;
	ds_check_name(DS_NAME_SCHEMA, schema_name);

	ds_lock_registry();
	if (ds_get_database(name, true) != NULL)
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_OBJECT),
				errmsg("logical database \"%s\" already exists", name));
	src = ds_get_source(source, false);
	mysql = src->engine == DS_ENGINE_MYSQL;
	if (local_schema != NULL && !mysql)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("logical database \"%s\" on PostgreSQL datasource \"%s\" cannot have a local schema",
					   name, source),
				errdetail("Only MySQL logical databases keep a local schema of foreign tables."));
	other = ds_database_by_schema(source, schema_name);
	if (other != NULL)
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_OBJECT),
				errmsg("schema \"%s\" on datasource \"%s\" already belongs to logical database \"%s\"",
					   schema_name, source, other->name),
				errdetail("A schema belongs to at most one logical database."));

	if (mysql)
	{
		if (local_schema == NULL)
			local_schema = name;
		ds_mysql_prepare_database(src, schema_name, local_schema);
		ds_check_history(name, source, schema_name, true);
		values[6] = CStringGetTextDatum(local_schema);
		nulls[6] = ' ';
	}
	else
	{
		if (src->server == NULL)
			ds_mysql_check_schema_free(schema_name);
		exists = ds_schema_exists(src, schema_name);
		ds_check_history(name, source, schema_name, exists);
		if (!exists)
		{
			if (!create_schema)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_SCHEMA_NAME),
						errmsg("schema \"%s\" does not exist on datasource \"%s\"",
							   schema_name, source),
						errhint("Create it first, or call create_database with create_schema => true."));
			ds_create_schema(src, schema_name);
		}
	}

	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(source);
	values[2] = CStringGetTextDatum(schema_name);
	values[3] = BoolGetDatum(read_only);
	description = ds_nonempty(description);
	if (description)
		values[4] = CStringGetTextDatum(description);
	else
		nulls[4] = 'n';
	values[5] = CStringGetTextDatum(ds_current_role());
	ds_catalog_write("INSERT INTO datasource.databases "
					 "(name, source, schema_name, read_only, description, created_by, "
					 "local_schema) VALUES ($1, $2, $3, $4, $5, $6, $7)",
					 7, argtypes, values, nulls);
	if (mysql)
		(void) ds_mysql_import(src, ds_get_database(name, false), false);
}

/*
 * ds_do_alter_database
 *		Changes the fields given.  Moving a logical database to another
 *		datasource or schema requires the target schema to exist already and
 *		to be unmapped; data is never moved.  A MySQL logical database
 *		stays where it is (mysql.c): only its flags and description change.
 */
void
ds_do_alter_database(const char *name, const char *source,
					 const char *schema_name, int read_only,
					 const char *description)
{
	Oid			argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', 'n', 'n'};
	DsDatabase *db;
	const char *new_source;
	const char *new_schema;

	ds_check_name(DS_NAME_DATABASE, name);
	if (source != NULL)
		ds_check_name(DS_NAME_SOURCE, source);
	if (schema_name != NULL)
		ds_check_name(DS_NAME_SCHEMA, schema_name);

	ds_lock_registry();
	db = ds_get_database(name, false);
	new_source = source ? source : db->source;
	new_schema = schema_name ? schema_name : db->schema_name;

	if (strcmp(new_source, db->source) != 0 ||
		strcmp(new_schema, db->schema_name) != 0)
	{
		DsSource   *src = ds_get_source(new_source, false);
		DsDatabase *other = ds_database_by_schema(new_source, new_schema);

		ds_mysql_check_remap(db, ds_get_source(db->source, false), src);
		if (src->server == NULL)
			ds_mysql_check_schema_free(new_schema);

		if (other != NULL)
			ereport(ERROR,
					errcode(ERRCODE_DUPLICATE_OBJECT),
					errmsg("schema \"%s\" on datasource \"%s\" already belongs to logical database \"%s\"",
						   new_schema, new_source, other->name));
		if (!ds_schema_exists(src, new_schema))
			ereport(ERROR,
					errcode(ERRCODE_INVALID_SCHEMA_NAME),
					errmsg("schema \"%s\" does not exist on datasource \"%s\"",
						   new_schema, new_source),
					errhint("Remapping never moves data: create the schema and its objects on the target first."));
	}

	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(new_source);
	values[2] = CStringGetTextDatum(new_schema);
	if (read_only >= 0)
	{
		values[3] = BoolGetDatum(read_only == 1);
		nulls[3] = ' ';
	}
	if (description != NULL)
	{
		values[4] = CStringGetTextDatum(description);
		nulls[4] = ' ';
	}
	ds_catalog_write("UPDATE datasource.databases SET "
					 "source = $2, schema_name = $3, "
					 "read_only = coalesce($4, read_only), "
					 "description = CASE WHEN $5 IS NULL THEN description "
					 "WHEN $5 = '' THEN NULL ELSE $5 END "
					 "WHERE name = $1",
					 5, argtypes, values, nulls);
}

/*
 * ds_do_rename_database
 *		Renames a logical database and carries its journal rows (and, at
 *		commit, its statistics) to the new name.  A new name with a history of its own (a dropped logical
 *		database's) is refused: the two histories would mix.
 */
void
ds_do_rename_database(const char *name, const char *new_name)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char	   *hsource;
	char	   *hschema;

	ds_check_name(DS_NAME_DATABASE, name);
	ds_check_name(DS_NAME_DATABASE, new_name);
	ds_lock_registry();
	(void) ds_get_database(name, false);
	if (ds_get_database(new_name, true) != NULL)
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_OBJECT),
				errmsg("logical database \"%s\" already exists", new_name));
	if (ds_journal_history(new_name, &hsource, &hschema))
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("logical database name \"%s\" has a migration history", new_name),
				errdetail("A dropped logical database of that name left journal rows for schema \"%s\" on datasource \"%s\"; renaming \"%s\" to it would mix the two histories.",
						  hschema, hsource, name),
				errhint("Choose another name; the old rows stay in datasource.migrations."));

	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(new_name);
	ds_catalog_write("UPDATE datasource.databases SET name = $2 WHERE name = $1",
					 2, argtypes, values, NULL);
	ds_journal_rename(name, new_name);
	ds_stats_forget(DS_STATS_DATABASE, name, new_name);
}

/*
 * ds_do_drop_database
 *		Unregisters a logical database; with drop_schema its schema and
 *		everything in it is dropped too (DROP SCHEMA ... CASCADE).  Its
 *		journal rows stay: the journal is history (ds_check_history says
 *		when the name can be mapped again); its statistics go when the
 *		transaction commits (stats.c).  A MySQL logical database's local
 *		schema of foreign tables is always dropped, its MySQL database never
 *		(mysql.c).
 */
void
ds_do_drop_database(const char *name, bool drop_schema)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	DsDatabase *db;

	ds_check_name(DS_NAME_DATABASE, name);
	ds_lock_registry();
	db = ds_get_database(name, false);

	if (db->local_schema != NULL)
		ds_mysql_drop_database(db, drop_schema);
	else if (drop_schema)
	{
		DsSource   *src = ds_get_source(db->source, false);
		char	   *sql = psprintf("DROP SCHEMA IF EXISTS %s CASCADE",
								   quote_identifier(db->schema_name));

		if (src->server == NULL)
			ds_run_sql_as_caller(sql);
		else
			ds_remote_command(src, sql);
	}

	values[0] = CStringGetTextDatum(name);
	ds_catalog_write("DELETE FROM datasource.databases WHERE name = $1",
					 1, argtypes, values, NULL);
	ds_stats_forget(DS_STATS_DATABASE, name, NULL);
}

/*
 * create_source(name, server, read_only, description) -> datasource.sources
 */
Datum
pgds_create_source(PG_FUNCTION_ARGS)
{
	char	   *name = ds_text_arg(fcinfo, 0, NULL, true);
	char	   *server = ds_text_arg(fcinfo, 1, NULL, false);
	int			read_only = ds_bool_arg(fcinfo, 2, NULL, true);
	char	   *description = ds_text_arg(fcinfo, 3, NULL, false);

	ds_do_create_source(name, server, read_only == 1, description);
	PG_RETURN_DATUM(ds_registry_row("sources", name));
}

/*
 * alter_source(name, server, read_only, enabled, description) -> sources
 */
Datum
pgds_alter_source(PG_FUNCTION_ARGS)
{
	char	   *name = ds_text_arg(fcinfo, 0, NULL, true);

	ds_do_alter_source(name,
					   ds_text_arg(fcinfo, 1, NULL, false),
					   ds_bool_arg(fcinfo, 2, NULL, false),
					   ds_bool_arg(fcinfo, 3, NULL, false),
					   ds_text_arg(fcinfo, 4, NULL, false));
	PG_RETURN_DATUM(ds_registry_row("sources", name));
}

/*
 * drop_source(name, cascade) -> void
 */
Datum
pgds_drop_source(PG_FUNCTION_ARGS)
{
	char	   *name = ds_text_arg(fcinfo, 0, NULL, true);

	ds_do_drop_source(name, ds_bool_arg(fcinfo, 1, NULL, true) == 1);
	PG_RETURN_VOID();
}

/*
 * create_database(name, source, schema_name, create_schema, read_only,
 *				   description) -> datasource.databases
 */
Datum
pgds_create_database(PG_FUNCTION_ARGS)
{
	char	   *name = ds_text_arg(fcinfo, 0, NULL, true);
	char	   *source = ds_text_arg(fcinfo, 1, NULL, true);
	char	   *schema_name = ds_text_arg(fcinfo, 2, NULL, false);
	int			create_schema = ds_bool_arg(fcinfo, 3, NULL, true);
	int			read_only = ds_bool_arg(fcinfo, 4, NULL, true);
	char	   *description = ds_text_arg(fcinfo, 5, NULL, false);

	ds_do_create_database(name, source, schema_name, create_schema == 1,
						  read_only == 1, description, NULL);
	PG_RETURN_DATUM(ds_registry_row("databases", name));
}

/*
 * alter_database(name, source, schema_name, read_only, description)
 */
Datum
pgds_alter_database(PG_FUNCTION_ARGS)
{
	char	   *name = ds_text_arg(fcinfo, 0, NULL, true);

	ds_do_alter_database(name,
						 ds_text_arg(fcinfo, 1, NULL, false),
						 ds_text_arg(fcinfo, 2, NULL, false),
						 ds_bool_arg(fcinfo, 3, NULL, false),
						 ds_text_arg(fcinfo, 4, NULL, false));
	PG_RETURN_DATUM(ds_registry_row("databases", name));
}

/*
 * rename_database(name, new_name) -> datasource.databases
 */
Datum
pgds_rename_database(PG_FUNCTION_ARGS)
{
	char	   *name = ds_text_arg(fcinfo, 0, NULL, true);
	char	   *new_name = ds_text_arg(fcinfo, 1, NULL, true);

	ds_do_rename_database(name, new_name);
	PG_RETURN_DATUM(ds_registry_row("databases", new_name));
}

/*
 * drop_database(name, drop_schema) -> void
 */
Datum
pgds_drop_database(PG_FUNCTION_ARGS)
{
	char	   *name = ds_text_arg(fcinfo, 0, NULL, true);

	ds_do_drop_database(name, ds_bool_arg(fcinfo, 1, NULL, true) == 1);
	PG_RETURN_VOID();
}

/*
 * validate_databases(names text[]) -> (valid, datasource, error)
 *
 * The check an agent makes before querying several logical databases
 * together: every name exists, all are on one datasource, and that
 * datasource is enabled (policy.c decides the last two).  Problems are
 * reported in the result, not raised; only misuse (NULL array or element)
 * raises.
 */
Datum
pgds_validate_databases(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *elnulls;
	int			nelems;
	int			i;
	TupleDesc	tupdesc;
	Datum		out[3] = {0, 0, 0};
	bool		outnull[3] = {false, true, true};
	char	   *error = NULL;
	char	   *differ;
	List	   *dbs = NIL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"names\" must not be null"));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	arr = PG_GETARG_ARRAYTYPE_P(0);
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &elnulls, &nelems);
	for (i = 0; i < nelems; i++)
		if (elnulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("logical database names must not be null"));

	if (nelems == 0)
		error = pstrdup("no logical databases given");

	/* names are looked up in the backend's registry cache (regcache.c) */
	if (!ds_cache_ensure())
		elog(ERROR, "the pg_datasource registry is not available");

	/* each database once, in order of first mention */
	for (i = 0; i < nelems && error == NULL; i++)
	{
		char	   *name = TextDatumGetCString(elems[i]);
		DsDatabase *db;
		DsSource   *src;

		db = ds_cache_database(name, &src);
		if (db == NULL)
			error = psprintf("logical database \"%s\" does not exist", name);
		else if (!ds_source_usable(src, NULL, NULL, 0, NULL, NULL))
			error = psprintf("datasource \"%s\" of logical database \"%s\" is disabled",
							 src->name, name);
		else
			dbs = list_append_unique_ptr(dbs, db);
	}

	if (error == NULL && (differ = ds_sources_differ(dbs)) != NULL)
		error = psprintf("cannot query across different datasources: %s", differ);

	out[0] = BoolGetDatum(error == NULL);
	if (error == NULL)
	{
		out[1] = CStringGetTextDatum(((DsDatabase *) linitial(dbs))->source);
		outnull[1] = false;
	}
	else
	{
		out[2] = CStringGetTextDatum(error);
		outnull[2] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, out, outnull)));
}
