/*-------------------------------------------------------------------------
 *
 * mysql_probe.c
 *		  Reading a MySQL server's own tables through mysql_fdw.
 *
 * mysql_fdw can only scan tables, so the extension asks a MySQL server
 * something (which tables and columns a database has, which version it
 * runs) by scanning one of its information_schema tables: a temporary
 * foreign table on it is created in this session's temporary schema, the
 * question is asked as a SELECT over it (mysql_fdw pushes the WHERE clause
 * down), and the table is dropped.  Everything runs as the calling role, so
 * its user mapping for the server is the one used, and everything follows
 * the calling transaction: an error leaves nothing behind.
 *
 * A temporary table needs a writable transaction; on a standby or in a
 * read-only transaction the probe raises 25006 like any temporary table.
 *
 * Memory: the rows are returned in the caller's memory context; the rest
 * lives in SPI's procedure context.
 *
 * IDENTIFICATION
 *		  src/mysql_probe.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "pg_datasource.h"

/*
 * The temporary table's name.  One name for all: a probe drops its table
 * before another can start, and a new name per probe left an entry per name
 * in the backend's catalog caches (about 2.5 kB a probe, never freed).
 */
#define DS_PROBE_TABLE "pg_temp.pgds_mysql_probe"

/*
 * ds_mysql_probe
 *		Rows of select_sql, a SELECT over a temporary foreign table on
 *		dbname.table of src's server, whose columns are coldefs (a column
 *		definition list, e.g. "\"TABLE_NAME\" text").  select_sql names the
 *		table as %s: the first %s in it is replaced (nothing else in it is a
 *		format, so literals after it may hold any character).  Returns a List of char *[ncols], each value a C
 *		string or NULL, in the caller's context.  The caller guarantees that
 *		src is a MySQL datasource and that select_sql returns ncols columns.
 */
List *
ds_mysql_probe(DsSource *src, const char *dbname, const char *table,
			   const char *coldefs, const char *select_sql, int ncols)
{
	MemoryContext callercxt = CurrentMemoryContext;
	List	   *rows = NIL;
	const char *qname = DS_PROBE_TABLE;
	const char *at;
	StringInfoData sql;
	int			level;
	uint64		i;

	Assert(src->engine == DS_ENGINE_MYSQL && src->server != NULL);
	level = ds_spi_connect();
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE FOREIGN TABLE %s (%s) SERVER %s "
					 "OPTIONS (dbname %s, table_name %s)",
					 qname, coldefs, quote_identifier(src->server),
					 quote_literal_cstr(dbname), quote_literal_cstr(table));
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create the temporary foreign table %s", qname);

	resetStringInfo(&sql);
	at = strstr(select_sql, "%s");
	if (at == NULL)
		elog(ERROR, "a MySQL probe must name its table as %%s");
	appendBinaryStringInfo(&sql, select_sql, at - select_sql);
	appendStringInfoString(&sql, qname);
	appendStringInfoString(&sql, at + 2);
	if (SPI_execute(sql.data, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s.%s of datasource \"%s\"",
			 dbname, table, src->name);
	if (SPI_tuptable->tupdesc->natts != ncols)
		elog(ERROR, "a MySQL probe returned %d columns, not %d",
			 SPI_tuptable->tupdesc->natts, ncols);

	MemoryContextSwitchTo(callercxt);
	for (i = 0; i < SPI_processed; i++)
	{
		char	  **row = palloc(sizeof(char *) * ncols);
		int			c;

		for (c = 0; c < ncols; c++)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[i],
										 SPI_tuptable->tupdesc, c + 1);

			row[c] = v ? pstrdup(v) : NULL;
		}
		rows = lappend(rows, row);
	}

	resetStringInfo(&sql);
	appendStringInfo(&sql, "DROP FOREIGN TABLE %s", qname);
	if (SPI_execute(sql.data, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not drop the temporary foreign table %s", qname);
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	return rows;
}

/*
 * ds_mysql_database_exists
 *		Whether the MySQL server of src has a database (schema) named
 *		exactly mysql_db.  MySQL compares such names case-insensitively on
 *		some systems, so the answer is checked here byte for byte.
 */
bool
ds_mysql_database_exists(DsSource *src, const char *mysql_db)
{
	List	   *rows;
	ListCell   *lc;
	char	   *select_sql;

	select_sql = psprintf("SELECT \"SCHEMA_NAME\" FROM %s WHERE \"SCHEMA_NAME\" = %s",
						  "%s", quote_literal_cstr(mysql_db));
	rows = ds_mysql_probe(src, "information_schema", "SCHEMATA",
						  "\"SCHEMA_NAME\" text", select_sql, 1);
	foreach(lc, rows)
	{
		char	  **row = lfirst(lc);

		if (row[0] != NULL && strcmp(row[0], mysql_db) == 0)
			return true;
	}
	return false;
}
