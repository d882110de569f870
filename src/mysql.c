/*-------------------------------------------------------------------------
 *
 * mysql.c
 *		  The lifecycle of MySQL datasources and logical databases: what the
 *		  registry functions do differently for a foreign server of
 *		  mysql_fdw.
 *
 * A MySQL logical database maps to a MySQL database (its schema_name) and
 * keeps a local schema of foreign tables (its local_schema, the logical
 * database's name when it was created; stored, so a rename keeps it).  The
 * extension never runs DDL on the MySQL server: the MySQL database must
 * exist before it is mapped, dropping the logical database drops only the
 * local schema (ours), and migrations are refused (mysql_fdw cannot run
 * DDL there).  Moving a logical database to or from a MySQL datasource, or
 * to another MySQL database, would leave the foreign tables describing the
 * wrong thing, so it is refused too: drop and create instead.
 *
 * registry.c calls these functions after its common checks, under the
 * registry lock and inside the caller's transaction: any error aborts the
 * whole call, the local schema and the foreign tables included.  The
 * foreign tables are made by mysql_import.c.
 *
 * Memory: everything is allocated in the caller's current memory context.
 *
 * IDENTIFICATION
 *		  src/mysql.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "utils/builtins.h"

#include "pg_datasource.h"

/*
 * ds_mysql_prepare_database
 *		Checks that a MySQL logical database can be created on src for the
 *		MySQL database mysql_db, with local schema local_schema, and
 *		creates that local schema as the calling role.  Raises 42710 when a
 *		logical database already maps the local schema, 42P06 when a schema
 *		of that name exists, 3F000 when the MySQL database does not exist.
 *		The caller holds the registry lock and writes the registry row
 *		afterwards, then imports the tables (ds_mysql_import).
 */
void
ds_mysql_prepare_database(DsSource *src, const char *mysql_db,
						  const char *local_schema)
{
	DsDatabase *d;
	DsSource   *dsrc;

	Assert(src->engine == DS_ENGINE_MYSQL);
	ds_check_name(DS_NAME_SCHEMA, local_schema);
	/* a schema of this database that a logical database's relations use */
	if (ds_cache_ensure() &&
		(d = ds_cache_local_schema(local_schema, &dsrc)) != NULL)
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_OBJECT),
				errmsg("local schema \"%s\" already belongs to logical database \"%s\"",
					   local_schema, d->name),
				errdetail("A MySQL logical database keeps its foreign tables in a local schema named after it."),
				errhint("Choose another name for the logical database."));
	if (OidIsValid(get_namespace_oid(local_schema, true)))
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_SCHEMA),
				errmsg("schema \"%s\" already exists", local_schema),
				errdetail("A MySQL logical database keeps its foreign tables in a new local schema named after it."),
				errhint("Choose another name for the logical database, or drop or rename the schema."));
	if (!ds_mysql_database_exists(src, mysql_db))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_SCHEMA_NAME),
				errmsg("MySQL database \"%s\" does not exist on datasource \"%s\"",
					   mysql_db, src->name),
				errhint("Create it on the MySQL server first (CREATE DATABASE %s); the extension runs no DDL there.",
						quote_identifier(mysql_db)));
	ds_run_sql_as_caller(psprintf("CREATE SCHEMA %s",
								  quote_identifier(local_schema)));
}

/*
 * ds_mysql_check_schema_free
 *		A local schema that holds a MySQL logical database's foreign tables
 *		is that logical database's: mapping a local (PostgreSQL) logical
 *		database to it is refused (42710).  The caller holds the registry
 *		lock.
 */
void
ds_mysql_check_schema_free(const char *schema)
{
	DsDatabase *d;
	DsSource   *src;

	if (ds_cache_ensure() &&
		(d = ds_cache_local_schema(schema, &src)) != NULL &&
		d->local_schema != NULL)
		ereport(ERROR,
				errcode(ERRCODE_DUPLICATE_OBJECT),
				errmsg("schema \"%s\" on datasource \"%s\" already belongs to logical database \"%s\"",
					   schema, DS_LOCAL_SOURCE, d->name),
				errdetail("It holds the foreign tables of that MySQL logical database."));
}

/*
 * ds_mysql_check_remap
 *		alter_database's rule: a logical database moves neither to nor from
 *		a MySQL datasource, nor to another MySQL database (0A000).  from is
 *		its datasource, to the target; the caller checks only when the
 *		datasource or the schema changes.
 */
void
ds_mysql_check_remap(const DsDatabase *db, const DsSource *from,
					 const DsSource *to)
{
	if (from->engine != DS_ENGINE_MYSQL && to->engine != DS_ENGINE_MYSQL)
		return;
	ereport(ERROR,
			errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			errmsg("cannot move logical database \"%s\" to %s",
				   db->name,
				   to->engine == DS_ENGINE_MYSQL ?
				   (from->engine == DS_ENGINE_MYSQL ? "another MySQL database" :
					"a MySQL datasource") : "a PostgreSQL datasource"),
			errdetail("A MySQL logical database is a local schema of foreign tables describing one MySQL database."),
			errhint("Drop the logical database and create it again on the target."));
}

/*
 * ds_mysql_drop_database
 *		What drop_database does to a MySQL logical database besides removing
 *		its row: drop_schema would drop the MySQL database, which the
 *		extension never does (0A000); the local schema of foreign tables is
 *		ours and is dropped (CASCADE), as the calling role.
 */
void
ds_mysql_drop_database(const DsDatabase *db, bool drop_schema)
{
	if (drop_schema)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("cannot drop MySQL database \"%s\" of logical database \"%s\"",
					   db->schema_name, db->name),
				errdetail("The extension runs no DDL on a MySQL server."),
				errhint("Call drop_database without drop_schema (its local schema of foreign tables is dropped), then drop the MySQL database on the MySQL server."));
	if (db->local_schema != NULL)
		ds_run_sql_as_caller(psprintf("DROP SCHEMA IF EXISTS %s CASCADE",
									  quote_identifier(db->local_schema)));
}

/*
 * ds_mysql_check_server_change
 *		alter_source's rule: a datasource whose logical databases exist
 *		keeps its engine, since they are made for it (0A000).  ndatabases is
 *		the number of its logical databases.
 */
void
ds_mysql_check_server_change(const DsSource *src, DsEngine new_engine,
							 int ndatabases)
{
	if (src->engine == new_engine || ndatabases == 0)
		return;
	ereport(ERROR,
			errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			errmsg("cannot switch datasource \"%s\" to a %s server",
				   src->name,
				   new_engine == DS_ENGINE_MYSQL ? "MySQL" : "PostgreSQL"),
			errdetail("Its %d logical database%s %s made for a %s server.",
					  ndatabases, ndatabases == 1 ? "" : "s",
					  ndatabases == 1 ? "is" : "are",
					  src->engine == DS_ENGINE_MYSQL ? "MySQL" : "PostgreSQL"),
			errhint("Drop its logical databases first, or register the server as another datasource."));
}

/*
 * ds_mysql_refuse_migration
 *		Migrations (migrate, migrate_all, migrate_waves) on a MySQL logical
 *		database: mysql_fdw cannot run DDL there (0A000).  Raised before
 *		anything runs or is journaled.
 */
void
ds_mysql_refuse_migration(const char *database)
{
	ereport(ERROR,
			errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			errmsg("cannot migrate MySQL logical database \"%s\"", database),
			errdetail("mysql_fdw cannot run DDL on the MySQL server."),
			errhint("Run the DDL on the MySQL server, then SELECT * FROM datasource.refresh_database(%s);",
					quote_literal_cstr(database)));
}
