/*-------------------------------------------------------------------------
 *
 * mysql_import.c
 *		  The foreign tables of a MySQL logical database, and
 *		  refresh_database().
 *
 * A MySQL logical database keeps one foreign table of mysql_fdw per table
 * and view of its MySQL database, in a local schema of its own.  They are
 * made here, not by mysql_fdw's IMPORT FOREIGN SCHEMA, which maps unsigned
 * integers to signed types too narrow for them (65535 into a smallint),
 * fails the whole import on a YEAR column and skips every table that has a
 * SET column.  The extension reads the MySQL database's tables and columns
 * from its information_schema (mysql_probe.c) and maps each column itself
 * (ds_mysql_map_type); a column it cannot map is left out and reported, a
 * name longer than PostgreSQL's 63 bytes too (names are never truncated).
 * Every column's comment starts with its MySQL type ("mysql: int(10)
 * unsigned"), so ENUM and SET columns, mapped to text, keep their values in
 * sight, and a change of MySQL type is seen even where the PostgreSQL type
 * stays.  A table whose first column is not its primary key (or a unique
 * key) cannot be written through mysql_fdw: its comment says so.
 *
 * Importing again (refresh) compares what MySQL has with the foreign tables
 * there are and changes only the difference: tables are created or
 * dropped, columns added, dropped or retyped, so grants on the foreign
 * tables and views over them are kept (a dropped table that a view uses
 * makes the refresh fail with 2BP01, and nothing changes).  Only foreign
 * tables of the datasource's server that read this MySQL database count as
 * the logical database's; anything else in the local schema is left alone.
 *
 * Everything runs as the calling role, in its transaction.  The DDL
 * journal (ddl_log.c) does not record these statements: they follow MySQL,
 * they are not a change of the logical database's own.
 *
 * Memory: results in the caller's context.
 *
 * IDENTIFICATION
 *		  src/mysql_import.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/guc.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_refresh_database);

/* a column, as MySQL has it (mapped) or as the foreign table has it */
typedef struct DsMyColumn
{
	char	   *name;
	char	   *pgtype;			/* format_type spelling; NULL: not mapped */
	bool		notnull;
	char	   *comment;
	char	   *mysqltype;		/* MySQL's column type (MySQL's side only) */
	char	   *why;			/* why it is not mapped */
} DsMyColumn;

/* a table or view, as MySQL has it or as the foreign table has it */
typedef struct DsMyTable
{
	char	   *name;
	char	   *comment;
	char	   *why;			/* why it is not imported at all */
	List	   *columns;		/* DsMyColumn */
} DsMyTable;

/* the columns ds_mysql_remote_tables asks information_schema.COLUMNS for */
#define DS_MY_COLUMNS_DEFS \
	"\"TABLE_NAME\" text, \"COLUMN_NAME\" text, \"ORDINAL_POSITION\" text, " \
	"\"IS_NULLABLE\" text, \"DATA_TYPE\" text, \"COLUMN_TYPE\" text, " \
	"\"NUMERIC_PRECISION\" text, \"NUMERIC_SCALE\" text, " \
	"\"CHARACTER_MAXIMUM_LENGTH\" text, \"COLUMN_KEY\" text, " \
	"\"COLUMN_COMMENT\" text, \"TABLE_SCHEMA\" text"

static const char *ds_mysql_int_type(const char *data_type, bool is_unsigned);
static char *ds_mysql_map_type(char **row, char **why);
static DsMyTable *ds_mytable_find(List *tables, const char *name);
static List *ds_mysql_remote_tables(DsSource *src, const char *mysql_db);
static void ds_mysql_remote_columns(DsSource *src, const char *mysql_db,
									List *tables);
static List *ds_mysql_local_tables(const char *schema, const char *server,
								   const char *mysql_db);
static DsMysqlChange *ds_change(List **changes, const char *change,
								const char *type, const char *name,
								const char *detail);
static void ds_mysql_create_table(StringInfo sql, DsSource *src,
								  DsDatabase *db, DsMyTable *t);
static void ds_mysql_comment(StringInfo sql, const char *what,
							 const char *object, const char *comment);
static bool ds_mysql_same_type(const char *mysqltype, const char *comment);
static void ds_mysql_diff_table(List **changes, StringInfo sql,
								const char *qtable, DsMyTable *want,
								DsMyTable *have);

/*
 * ds_mysql_int_type
 *		The PostgreSQL type that holds every value of a MySQL integer type:
 *		an unsigned type takes the next wider one (bigint unsigned takes
 *		numeric(20,0)).  NULL for a type that is not an integer type.
 */
static const char *
ds_mysql_int_type(const char *data_type, bool is_unsigned)
{
	if (strcmp(data_type, "tinyint") == 0)
		return "smallint";
	if (strcmp(data_type, "smallint") == 0)
		return is_unsigned ? "integer" : "smallint";
	if (strcmp(data_type, "mediumint") == 0)
		return "integer";
	if (strcmp(data_type, "int") == 0 || strcmp(data_type, "integer") == 0)
		return is_unsigned ? "bigint" : "integer";
	if (strcmp(data_type, "bigint") == 0)
		return is_unsigned ? "numeric(20,0)" : "bigint";
	if (strcmp(data_type, "year") == 0)
		return "smallint";
	return NULL;
}

/*
 * ds_mysql_map_type
 *		The PostgreSQL type (as format_type spells it) of a MySQL column,
 *		given its information_schema.COLUMNS row as ds_mysql_remote_columns
 *		reads it; NULL with *why set when there is none.  Types and their
 *		reasons are in the README's table.
 */
static char *
ds_mysql_map_type(char **row, char **why)
{
	char	   *dt = asc_tolower(row[4], strlen(row[4]));
	const char *ct = row[5] ? row[5] : "";
	const char *it = ds_mysql_int_type(dt, strstr(ct, "unsigned") != NULL);
	long		len = row[8] ? atol(row[8]) : 0;
	static const char *const text_types[] = {
		"tinytext", "text", "mediumtext", "longtext", "enum", "set", NULL
	};
	static const char *const binary_types[] = {
		"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
		"geometry", "point", "linestring", "polygon", "multipoint",
		"multilinestring", "multipolygon", "geometrycollection", NULL
	};

	if (it != NULL)
		return pstrdup(it);
	if (strcmp(dt, "decimal") == 0 || strcmp(dt, "numeric") == 0)
	{
		if (row[6] == NULL || row[7] == NULL)
			return pstrdup("numeric");
		return psprintf("numeric(%s,%s)", row[6], row[7]);
	}
	if (strcmp(dt, "float") == 0)
		return pstrdup("real");
	if (strcmp(dt, "double") == 0 || strcmp(dt, "real") == 0)
		return pstrdup("double precision");
	if (strcmp(dt, "bit") == 0)
		return psprintf("bit(%s)", row[6] ? row[6] : "1");
	if (strcmp(dt, "char") == 0 && len > 0)
		return psprintf("character(%ld)", len);
	if (strcmp(dt, "varchar") == 0 && len > 0 && len <= 10485760)
		return psprintf("character varying(%ld)", len);
	if (strcmp(dt, "char") == 0 || strcmp(dt, "varchar") == 0 ||
		ds_name_in_list(text_types, dt))
		return pstrdup("text");
	if (ds_name_in_list(binary_types, dt))
		return pstrdup("bytea");
	if (strcmp(dt, "date") == 0)
		return pstrdup("date");
	if (strcmp(dt, "datetime") == 0 || strcmp(dt, "timestamp") == 0)
		return pstrdup("timestamp without time zone");
	/* MySQL's TIME is a duration: -838:59:59 to 838:59:59 */
	if (strcmp(dt, "time") == 0)
		return pstrdup("interval");
	if (strcmp(dt, "json") == 0)
		return pstrdup("json");
	if (strcmp(dt, "uuid") == 0)
		return pstrdup("uuid");
	if (strcmp(dt, "inet4") == 0 || strcmp(dt, "inet6") == 0)
		return pstrdup("inet");
	*why = psprintf("MySQL type %s has no PostgreSQL mapping", ct);
	return NULL;
}

/*
 * ds_mytable_find
 *		The table of that name in a List of DsMyTable, or NULL.
 */
static DsMyTable *
ds_mytable_find(List *tables, const char *name)
{
	ListCell   *lc;

	foreach(lc, tables)
		if (strcmp(((DsMyTable *) lfirst(lc))->name, name) == 0)
			return lfirst(lc);
	return NULL;
}

/*
 * ds_mysql_remote_tables
 *		The tables and views of a MySQL database, by name, with their
 *		comments; columns are added by ds_mysql_remote_columns.
 */
static List *
ds_mysql_remote_tables(DsSource *src, const char *mysql_db)
{
	List	   *rows;
	List	   *tables = NIL;
	ListCell   *lc;
	char	   *select_sql;

	select_sql = psprintf("SELECT \"TABLE_NAME\", \"TABLE_TYPE\", \"TABLE_COMMENT\", "
						  "\"TABLE_SCHEMA\" FROM %s WHERE \"TABLE_SCHEMA\" = %s "
						  "ORDER BY \"TABLE_NAME\" COLLATE \"C\"",
						  "%s", quote_literal_cstr(mysql_db));
	rows = ds_mysql_probe(src, "information_schema", "TABLES",
						  "\"TABLE_NAME\" text, \"TABLE_TYPE\" text, "
						  "\"TABLE_COMMENT\" text, \"TABLE_SCHEMA\" text",
						  select_sql, 4);
	foreach(lc, rows)
	{
		char	  **row = lfirst(lc);
		DsMyTable  *t;
		StringInfoData c;

		/* MySQL may have compared the name case-insensitively */
		if (row[3] == NULL || strcmp(row[3], mysql_db) != 0 || row[0] == NULL)
			continue;
		t = palloc0(sizeof(DsMyTable));
		t->name = row[0];
		initStringInfo(&c);
		appendStringInfo(&c, "mysql: %s %s.%s", row[1] ? row[1] : "TABLE",
						 mysql_db, row[0]);
		/* MySQL says "VIEW" as a view's comment */
		if (row[2] != NULL && row[2][0] != '\0' &&
			!(row[1] != NULL && strcmp(row[1], "VIEW") == 0 &&
			  strcmp(row[2], "VIEW") == 0))
			appendStringInfo(&c, "; %s", row[2]);
		t->comment = c.data;
		if (strlen(t->name) >= NAMEDATALEN)
			t->why = psprintf("its name is longer than %d bytes", NAMEDATALEN - 1);
		tables = lappend(tables, t);
	}
	return tables;
}

/*
 * ds_mysql_remote_columns
 *		Adds to each table of ds_mysql_remote_tables its columns, mapped, in
 *		MySQL's order; marks the tables that mysql_fdw cannot write.
 */
static void
ds_mysql_remote_columns(DsSource *src, const char *mysql_db, List *tables)
{
	List	   *rows;
	ListCell   *lc;
	char	   *select_sql;

	select_sql = psprintf("SELECT %s FROM %s WHERE \"TABLE_SCHEMA\" = %s "
						  "ORDER BY \"TABLE_NAME\" COLLATE \"C\", \"ORDINAL_POSITION\"::int",
						  "\"TABLE_NAME\", \"COLUMN_NAME\", \"ORDINAL_POSITION\", "
						  "\"IS_NULLABLE\", \"DATA_TYPE\", \"COLUMN_TYPE\", "
						  "\"NUMERIC_PRECISION\", \"NUMERIC_SCALE\", "
						  "\"CHARACTER_MAXIMUM_LENGTH\", \"COLUMN_KEY\", "
						  "\"COLUMN_COMMENT\", \"TABLE_SCHEMA\"",
						  "%s", quote_literal_cstr(mysql_db));
	rows = ds_mysql_probe(src, "information_schema", "COLUMNS",
						  DS_MY_COLUMNS_DEFS, select_sql, 12);
	foreach(lc, rows)
	{
		char	  **row = lfirst(lc);
		DsMyTable  *t;
		DsMyColumn *col;
		StringInfoData c;

		if (row[11] == NULL || strcmp(row[11], mysql_db) != 0 ||
			row[0] == NULL || row[1] == NULL || row[4] == NULL ||
			(t = ds_mytable_find(tables, row[0])) == NULL)
			continue;
		col = palloc0(sizeof(DsMyColumn));
		col->name = row[1];
		col->notnull = row[3] != NULL && strcmp(row[3], "NO") == 0;
		if (strlen(col->name) >= NAMEDATALEN)
			col->why = psprintf("its name is longer than %d bytes",
								NAMEDATALEN - 1);
		else
			col->pgtype = ds_mysql_map_type(row, &col->why);
		col->mysqltype = row[5] ? row[5] : row[4];
		initStringInfo(&c);
		appendStringInfo(&c, "mysql: %s", col->mysqltype);
		if (row[10] != NULL && row[10][0] != '\0')
			appendStringInfo(&c, "; %s", row[10]);
		col->comment = c.data;
		/* mysql_fdw writes by the first column: it must identify the row */
		if (t->columns == NIL &&
			(row[9] == NULL || (strcmp(row[9], "PRI") != 0 &&
								strcmp(row[9], "UNI") != 0)))
			t->comment = psprintf("%s; not writable through mysql_fdw: its first column is not a key",
								  t->comment);
		t->columns = lappend(t->columns, col);
	}
}

/*
 * ds_mysql_local_tables
 *		The foreign tables of server in schema that read mysql_db, with
 *		their columns, types (as format_type spells them), NOT NULL and
 *		comments.
 */
static List *
ds_mysql_local_tables(const char *schema, const char *server,
					  const char *mysql_db)
{
	MemoryContext callercxt = CurrentMemoryContext;
	List	   *tables = NIL;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	int			level;
	uint64		i;
	DsMyTable  *t = NULL;

	values[0] = CStringGetTextDatum(schema);
	values[1] = CStringGetTextDatum(server);
	values[2] = CStringGetTextDatum(mysql_db);
	level = ds_spi_connect();
	if (SPI_execute_with_args(
							  "SELECT c.relname::text, a.attname::text, "
							  "format_type(a.atttypid, a.atttypmod), a.attnotnull, "
							  "col_description(c.oid, a.attnum), obj_description(c.oid, 'pg_class') "
							  "FROM pg_class c "
							  "JOIN pg_namespace n ON n.oid = c.relnamespace "
							  "JOIN pg_foreign_table ft ON ft.ftrelid = c.oid "
							  "JOIN pg_foreign_server s ON s.oid = ft.ftserver "
							  "LEFT JOIN pg_attribute a ON a.attrelid = c.oid "
							  "AND a.attnum > 0 AND NOT a.attisdropped "
							  "WHERE n.nspname = $1 AND s.srvname = $2 "
							  "AND EXISTS (SELECT FROM pg_options_to_table(ft.ftoptions) o "
							  "WHERE o.option_name = 'dbname' AND o.option_value = $3) "
							  "ORDER BY c.relname COLLATE \"C\", a.attnum",
							  3, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the foreign tables of schema \"%s\"", schema);
	MemoryContextSwitchTo(callercxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *relname = SPI_getvalue(tup, desc, 1);
		DsMyColumn *col;

		if (t == NULL || strcmp(t->name, relname) != 0)
		{
			t = palloc0(sizeof(DsMyTable));
			t->name = pstrdup(relname);
			t->comment = SPI_getvalue(tup, desc, 6);
			tables = lappend(tables, t);
		}
		if (SPI_getvalue(tup, desc, 2) == NULL)
			continue;
		col = palloc0(sizeof(DsMyColumn));
		col->name = SPI_getvalue(tup, desc, 2);
		col->pgtype = SPI_getvalue(tup, desc, 3);
		col->notnull = strcmp(SPI_getvalue(tup, desc, 4), "t") == 0;
		col->comment = SPI_getvalue(tup, desc, 5);
		t->columns = lappend(t->columns, col);
	}
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	return tables;
}

/*
 * ds_change
 *		Appends one change to *changes and returns it.
 */
static DsMysqlChange *
ds_change(List **changes, const char *change, const char *type,
		  const char *name, const char *detail)
{
	DsMysqlChange *c = palloc(sizeof(DsMysqlChange));

	c->change = pstrdup(change);
	c->object_type = pstrdup(type);
	c->object_name = pstrdup(name);
	c->detail = detail ? pstrdup(detail) : NULL;
	*changes = lappend(*changes, c);
	return c;
}

/*
 * ds_mysql_comment
 *		Appends COMMENT ON <what> object IS comment; (NULL comment: none).
 */
static void
ds_mysql_comment(StringInfo sql, const char *what, const char *object,
				 const char *comment)
{
	appendStringInfo(sql, "COMMENT ON %s %s IS %s;\n", what, object,
					 comment ? quote_literal_cstr(comment) : "NULL");
}

/*
 * ds_mysql_create_table
 *		Appends the statements that create the foreign table of t (its
 *		mapped columns) and its comments.
 */
static void
ds_mysql_create_table(StringInfo sql, DsSource *src, DsDatabase *db,
					  DsMyTable *t)
{
	char	   *qtable = quote_qualified_identifier(db->local_schema, t->name);
	ListCell   *lc;
	bool		first = true;

	appendStringInfo(sql, "CREATE FOREIGN TABLE %s (", qtable);
	foreach(lc, t->columns)
	{
		DsMyColumn *col = lfirst(lc);

		if (col->pgtype == NULL)
			continue;
		appendStringInfo(sql, "%s%s %s%s", first ? "" : ", ",
						 quote_identifier(col->name), col->pgtype,
						 col->notnull ? " NOT NULL" : "");
		first = false;
	}
	appendStringInfo(sql, ") SERVER %s OPTIONS (dbname %s, table_name %s);\n",
					 quote_identifier(src->server),
					 quote_literal_cstr(db->schema_name),
					 quote_literal_cstr(t->name));
	ds_mysql_comment(sql, "FOREIGN TABLE", qtable, t->comment);
	foreach(lc, t->columns)
	{
		DsMyColumn *col = lfirst(lc);

		if (col->pgtype != NULL)
			ds_mysql_comment(sql, "COLUMN",
							 psprintf("%s.%s", qtable, quote_identifier(col->name)),
							 col->comment);
	}
}

/*
 * ds_mysql_same_type
 *		Whether a foreign table column's comment (made by this file: "mysql:
 *		TYPE" then "; COMMENT" or nothing) names the MySQL type mysqltype.
 */
static bool
ds_mysql_same_type(const char *mysqltype, const char *comment)
{
	size_t		len = strlen(mysqltype);

	if (comment == NULL || strncmp(comment, "mysql: ", 7) != 0 ||
		strncmp(comment + 7, mysqltype, len) != 0)
		return false;
	return comment[7 + len] == '\0' || strncmp(comment + 7 + len, "; ", 2) == 0;
}

/*
 * ds_mysql_diff_table
 *		The column changes from have (the foreign table) to want (MySQL's
 *		table, mapped): reported in *changes and, as ALTER statements,
 *		appended to sql.
 */
static void
ds_mysql_diff_table(List **changes, StringInfo sql, const char *qtable,
					DsMyTable *want, DsMyTable *have)
{
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, want->columns)
	{
		DsMyColumn *w = lfirst(lc);
		DsMyColumn *h = NULL;
		char	   *obj = psprintf("%s.%s", want->name, w->name);
		const char *qcol = quote_identifier(w->name);

		foreach(lc2, have->columns)
			if (strcmp(((DsMyColumn *) lfirst(lc2))->name, w->name) == 0)
				h = lfirst(lc2);
		if (w->pgtype == NULL)
		{
			ds_change(changes, h ? "dropped" : "skipped", "column", obj, w->why);
			if (h)
				appendStringInfo(sql, "ALTER FOREIGN TABLE %s DROP COLUMN %s;\n",
								 qtable, qcol);
			continue;
		}
		if (h == NULL)
		{
			ds_change(changes, "added", "column", obj,
					  psprintf("%s (%s)", w->pgtype, w->comment));
			appendStringInfo(sql, "ALTER FOREIGN TABLE %s ADD COLUMN %s %s%s;\n",
							 qtable, qcol, w->pgtype, w->notnull ? " NOT NULL" : "");
			ds_mysql_comment(sql, "COLUMN", psprintf("%s.%s", qtable, qcol),
							 w->comment);
			continue;
		}
		if (strcmp(w->pgtype, h->pgtype) != 0 ||
			!ds_mysql_same_type(w->mysqltype, h->comment))
		{
			ds_change(changes, "retyped", "column", obj,
					  psprintf("%s (%s) -> %s (%s)", h->pgtype,
							   h->comment ? h->comment : "no comment",
							   w->pgtype, w->comment));
			if (strcmp(w->pgtype, h->pgtype) != 0)
				appendStringInfo(sql, "ALTER FOREIGN TABLE %s ALTER COLUMN %s TYPE %s;\n",
								 qtable, qcol, w->pgtype);
		}
		else if (strcmp(w->comment, h->comment ? h->comment : "") != 0)
			ds_change(changes, "altered", "column", obj, w->comment);
		if (strcmp(w->comment, h->comment ? h->comment : "") != 0)
			ds_mysql_comment(sql, "COLUMN", psprintf("%s.%s", qtable, qcol),
							 w->comment);
		if (w->notnull != h->notnull)
		{
			ds_change(changes, "altered", "column", obj,
					  w->notnull ? "nullable -> NOT NULL" : "NOT NULL -> nullable");
			appendStringInfo(sql, "ALTER FOREIGN TABLE %s ALTER COLUMN %s %s NOT NULL;\n",
							 qtable, qcol, w->notnull ? "SET" : "DROP");
		}
	}
	foreach(lc, have->columns)
	{
		DsMyColumn *h = lfirst(lc);
		bool		found = false;

		foreach(lc2, want->columns)
			if (strcmp(((DsMyColumn *) lfirst(lc2))->name, h->name) == 0)
				found = true;
		if (found)
			continue;
		ds_change(changes, "dropped", "column",
				  psprintf("%s.%s", want->name, h->name), "no longer in MySQL");
		appendStringInfo(sql, "ALTER FOREIGN TABLE %s DROP COLUMN %s;\n",
						 qtable, quote_identifier(h->name));
	}
	if (strcmp(want->comment, have->comment ? have->comment : "") != 0)
	{
		ds_change(changes, "altered", "table", want->name, want->comment);
		ds_mysql_comment(sql, "FOREIGN TABLE", qtable, want->comment);
	}
}

/*
 * ds_mysql_import
 *		Brings the foreign tables of db (a MySQL logical database) in its
 *		local schema in line with the tables of its MySQL database, and
 *		returns what changed (a List of DsMysqlChange), or with dry_run what
 *		would change.  The caller guarantees that src is db's MySQL
 *		datasource and that db->local_schema exists.  Concurrent imports of
 *		one schema wait for each other (a lock on the schema, which DROP
 *		SCHEMA takes too).
 */
List *
ds_mysql_import(DsSource *src, DsDatabase *db, bool dry_run)
{
	List	   *want;
	List	   *have;
	List	   *changes = NIL;
	ListCell   *lc;
	StringInfoData sql;
	Oid			nsp;

	Assert(src->engine == DS_ENGINE_MYSQL && db->local_schema != NULL);
	nsp = get_namespace_oid(db->local_schema, false);
	LockDatabaseObject(NamespaceRelationId, nsp, 0, ShareUpdateExclusiveLock);

	want = ds_mysql_remote_tables(src, db->schema_name);
	ds_mysql_remote_columns(src, db->schema_name, want);
	have = ds_mysql_local_tables(db->local_schema, src->server, db->schema_name);

	initStringInfo(&sql);
	foreach(lc, want)
	{
		DsMyTable  *w = lfirst(lc);
		DsMyTable  *h = ds_mytable_find(have, w->name);
		char	   *qtable = quote_qualified_identifier(db->local_schema, w->name);
		ListCell   *lc2;
		bool		any = false;

		foreach(lc2, w->columns)
			any |= ((DsMyColumn *) lfirst(lc2))->pgtype != NULL;
		if (w->why == NULL && !any)
			w->why = pstrdup("none of its columns has a PostgreSQL mapping");
		if (w->why != NULL)
		{
			ds_change(&changes, h ? "dropped" : "skipped", "table", w->name, w->why);
			if (h)
				appendStringInfo(&sql, "DROP FOREIGN TABLE %s;\n", qtable);
			continue;
		}
		if (h != NULL)
		{
			ds_mysql_diff_table(&changes, &sql, qtable, w, h);
			continue;
		}
		ds_change(&changes, "added", "table", w->name, w->comment);
		foreach(lc2, w->columns)
		{
			DsMyColumn *col = lfirst(lc2);

			if (col->pgtype == NULL)
				ds_change(&changes, "skipped", "column",
						  psprintf("%s.%s", w->name, col->name), col->why);
		}
		ds_mysql_create_table(&sql, src, db, w);
	}
	foreach(lc, have)
	{
		DsMyTable  *h = lfirst(lc);

		if (ds_mytable_find(want, h->name) != NULL)
			continue;
		ds_change(&changes, "dropped", "table", h->name, "no longer in MySQL");
		appendStringInfo(&sql, "DROP FOREIGN TABLE %s;\n",
						 quote_qualified_identifier(db->local_schema, h->name));
	}
	if (!dry_run && sql.len > 0)
	{
		/* following MySQL is not DDL of the logical database's own */
		int			level = NewGUCNestLevel();

		(void) set_config_option("datasource.ddl_log", "off", PGC_SUSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		ds_run_sql_as_caller(sql.data);
		AtEOXact_GUC(true, level);
	}
	return changes;
}

/*
 * pgds_refresh_database
 *		refresh_database(name text, dry_run boolean) RETURNS TABLE (change,
 *		object_type, object_name, detail): imports a MySQL logical
 *		database's tables again and says what changed.
 */
Datum
pgds_refresh_database(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name = ds_text_arg(fcinfo, 0, NULL, true);
	bool		dry_run = ds_bool_arg(fcinfo, 1, NULL, true);
	DsDatabase *db = ds_get_database(name, false);
	DsSource   *src = ds_get_source(db->source, false);
	List	   *changes;
	ListCell   *lc;

	if (src->engine != DS_ENGINE_MYSQL || db->local_schema == NULL)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("logical database \"%s\" is not on a MySQL datasource", name),
				errhint("datasource.drift() shows what changed in a PostgreSQL logical database."));
	(void) ds_source_usable(src, db, NULL, ERROR, NULL, NULL);
	changes = ds_mysql_import(src, db, dry_run);

	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, changes)
	{
		DsMysqlChange *c = lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, c->detail == NULL};

		values[0] = CStringGetTextDatum(c->change);
		values[1] = CStringGetTextDatum(c->object_type);
		values[2] = CStringGetTextDatum(c->object_name);
		values[3] = c->detail ? CStringGetTextDatum(c->detail) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
