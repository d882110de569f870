/*-------------------------------------------------------------------------
 *
 * pending.c
 *		  What migration tools ask of the journal: pending() compares a
 *		  manifest with it, adopt_drizzle() takes over drizzle-kit's.
 *
 * pending() reads a manifest (a JSON array of versions, each with the
 * checksum or the script to take one from) and says, in the manifest's
 * order, which versions are applied, changed or missing, then which
 * applied versions the manifest does not have.  adopt_drizzle() reads
 * drizzle-kit's journal table where the logical database lives (locally
 * through SPI or on its remote, as routed queries are) and records each
 * entry as an adopted migration keyed by drizzle's hash, the sha256 of the
 * file: migrate() of that file later takes the entry over under its own
 * version and runs nothing.  Both only read and write the journal through
 * journal.c; adopt_drizzle locks the logical database as a migration does.
 *
 * Memory: the journal and the manifest are read inside an SPI connection,
 * in its context; result rows are built in the caller's (the set-returning
 * function's) context.
 *
 * IDENTIFICATION
 *		  src/pending.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/regproc.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_pending);
PG_FUNCTION_INFO_V1(pgds_adopt_drizzle);

/* the text of column col of row row of the last SPI result, or NULL */
static char *
ds_spi_value(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

/*
 * ds_read_manifest
 *		The entries of a manifest: a JSON array whose elements are version
 *		strings or objects with "version" and at most one of "checksum"
 *		and "script".  Must be called inside SPI; the entries are palloc'd
 *		in the current context (pending() and fleet.c's migrate_all).
 */
DsManifestEntry *
ds_read_manifest(Jsonb *manifest, int *n)
{
	Oid			type = JSONBOID;
	Datum		value = JsonbPGetDatum(manifest);
	DsManifestEntry *entries;
	uint64		i;

	if (!JB_ROOT_IS_ARRAY(manifest) || JB_ROOT_IS_SCALAR(manifest))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("manifest must be a JSON array"),
				errhint("Each element is a version string or an object such as {\"version\": \"0001\", \"checksum\": \"...\"} or {\"version\": \"0001\", \"script\": \"...\"}."));
	if (SPI_execute_with_args("SELECT n, jsonb_typeof(e), "
							  "CASE jsonb_typeof(e) WHEN 'string' THEN e #>> '{}' "
							  "WHEN 'object' THEN e ->> 'version' END, "
							  "jsonb_typeof(e -> 'version'), e ->> 'checksum', "
							  "jsonb_typeof(e -> 'checksum'), e ->> 'script', "
							  "jsonb_typeof(e -> 'script'), "
							  "CASE jsonb_typeof(e) WHEN 'object' THEN "
							  "(SELECT string_agg(k, ', ') FROM jsonb_object_keys(e) k "
							  "WHERE k <> ALL (ARRAY['version', 'checksum', 'script'])) END "
							  "FROM jsonb_array_elements($1) WITH ORDINALITY AS x (e, n) "
							  "ORDER BY n",
							  1, &type, &value, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the manifest");
	entries = palloc0(sizeof(DsManifestEntry) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *kind = ds_spi_value(i, 2);
		char	   *version = ds_spi_value(i, 3);
		char	   *checksum = ds_spi_value(i, 5);
		char	   *script = ds_spi_value(i, 7);
		char	   *extra = ds_spi_value(i, 9);
		uint64		j;

		if (strcmp(kind, "string") != 0 &&
			(strcmp(kind, "object") != 0 || version == NULL ||
			 strcmp(ds_spi_value(i, 4), "string") != 0))
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("element " UINT64_FORMAT " of the manifest has no version", i + 1),
					errdetail("An element is a version string or an object with a \"version\" string."));
		if (extra != NULL)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("element " UINT64_FORMAT " of the manifest has unknown keys: %s",
						   i + 1, extra));
		if ((checksum && strcmp(ds_spi_value(i, 6), "string") != 0) ||
			(script && strcmp(ds_spi_value(i, 8), "string") != 0))
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("element " UINT64_FORMAT " of the manifest: \"checksum\" and \"script\" must be strings",
						   i + 1));
		if (checksum && script)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("element " UINT64_FORMAT " of the manifest has both a checksum and a script",
						   i + 1));
		ds_check_version(version);
		for (j = 0; j < i; j++)
			if (strcmp(entries[j].version, version) == 0)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("version \"%s\" is in the manifest twice", version));
		if (checksum)
			ds_check_checksum(checksum);
		else if (script)
		{
			checksum = palloc(DS_CHECKSUM_LEN + 1);
			ds_script_checksum(script, checksum);
		}
		entries[i].version = version;
		entries[i].checksum = checksum;
	}
	*n = (int) SPI_processed;
	return entries;
}

/*
 * pending(database text, manifest jsonb) returns setof (version, state)
 *
 * The manifest's versions in its order: applied, changed or missing; then
 * the versions applied to the database that the manifest does not have,
 * as unknown, in journal order.
 */
Datum
pgds_pending(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	char	   *database;
	Jsonb	   *manifest;
	DsManifestEntry *entries;
	int			nentries;
	DsDatabase *db;
	MemoryContext callercxt;
	const char *args[1];
	char	  **versions;
	char	  **checksums;
	uint64		napplied;
	uint64		i;
	int			e;
	int			level;

	database = ds_text_arg(fcinfo, 0, "database", true);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"manifest\" must not be null"));
	manifest = PG_GETARG_JSONB_P(1);
	db = ds_get_database(database, false);
	(void) ds_sandbox_permits(db->name, false, ERROR, NULL);

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	callercxt = CurrentMemoryContext;
	level = ds_spi_connect();
	entries = ds_read_manifest(manifest, &nentries);

	/* the applied versions with the checksum that counts, in journal order */
	args[0] = db->name;
	ds_journal_sql("SELECT version, (array_agg(checksum ORDER BY id DESC))[1] "
				   "FROM datasource.migrations WHERE database = $1 AND status = ANY ("
				   DS_APPLIED_STATUSES ") GROUP BY version ORDER BY min(id)",
				   1, args);
	napplied = SPI_processed;
	versions = palloc(sizeof(char *) * Max(napplied, 1));
	checksums = palloc(sizeof(char *) * Max(napplied, 1));
	for (i = 0; i < napplied; i++)
	{
		versions[i] = ds_spi_value(i, 1);
		checksums[i] = ds_spi_value(i, 2);
	}

	MemoryContextSwitchTo(callercxt);
	for (e = 0; e < nentries; e++)
	{
		Datum		values[2];
		bool		nulls[2] = {false};
		const char *state = "missing";

		for (i = 0; i < napplied; i++)
			if (strcmp(versions[i], entries[e].version) == 0)
			{
				state = (entries[e].checksum == NULL || checksums[i] == NULL ||
						 strcmp(entries[e].checksum, checksums[i]) == 0) ?
					"applied" : "changed";
				break;
			}
		values[0] = CStringGetTextDatum(entries[e].version);
		values[1] = CStringGetTextDatum(state);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (i = 0; i < napplied; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false};
		bool		listed = false;

		for (e = 0; e < nentries && !listed; e++)
			listed = strcmp(versions[i], entries[e].version) == 0;
		if (listed)
			continue;
		values[0] = CStringGetTextDatum(versions[i]);
		values[1] = CStringGetTextDatum("unknown");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	ds_spi_finish(level);
	return (Datum) 0;
}

/*
 * adopt_drizzle(database text, migrations_table text)
 *		returns setof (hash text, created_at bigint, state text)
 *
 * Reads drizzle-kit's journal table where the logical database lives and
 * records each of its entries as an adopted migration (version
 * 'drizzle:<created_at>', raw_checksum = drizzle's hash, the sha256 of the
 * file).  migrate() of a script whose sha256 is such a hash takes the
 * entry over under its own version and runs nothing.
 */
Datum
pgds_adopt_drizzle(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	DsMigration m;
	char	   *table;
	List	   *names;
	StringInfoData sql;
	ListCell   *lc;
	DsSink		r;
	MemoryContext callercxt;
	Datum		rows;
	Oid			type = JSONBOID;
	uint64		nrows;
	uint64		i;
	char	  **hashes;
	char	  **created;
	int			level;

	MemSet(&m, 0, sizeof(m));
	m.database = ds_text_arg(fcinfo, 0, "database", true);
	table = ds_text_arg(fcinfo, 1, "migrations_table", true);
	names = stringToQualifiedNameList(table);
	if (list_length(names) > 2)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_NAME),
				errmsg("improper table name \"%s\"", table),
				errhint("Name the table as schema.table or table."));
	m.role = ds_current_role();
	ds_check_writable_xact();

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT hash, created_at::bigint AS created_at FROM ");
	foreach(lc, names)
	{
		if (lc != list_head(names))
			appendStringInfoChar(&sql, '.');
		appendStringInfoString(&sql, quote_identifier(strVal(lfirst(lc))));
	}
	appendStringInfoString(&sql, " ORDER BY created_at, hash");

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	callercxt = CurrentMemoryContext;
	level = ds_spi_connect();
	ds_lock_database(&m);

	/* drizzle's rows, where the logical database lives */
	ds_sink_init(&r, DS_SINK_ARRAY);
	if (m.src->server == NULL)
		(void) ds_local_run(sql.data, m.db->schema_name, "SELECT", 0, NULL,
							true, &r);
	else
		(void) ds_remote_run(m.src, sql.data, m.db->schema_name, 0, NULL,
							 true, &r);
	ds_sink_end(&r);
	rows = r.result != NULL ? JsonbPGetDatum(r.result)
		: DirectFunctionCall1(jsonb_in, CStringGetDatum("[]"));
	if (SPI_execute_with_args("SELECT e ->> 'hash', e ->> 'created_at' "
							  "FROM jsonb_array_elements($1) WITH ORDINALITY AS x (e, n) "
							  "ORDER BY n", 1, &type, &rows, NULL, true, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "could not read the drizzle journal");
	nrows = SPI_processed;
	hashes = palloc(sizeof(char *) * Max(nrows, 1));
	created = palloc(sizeof(char *) * Max(nrows, 1));
	for (i = 0; i < nrows; i++)
	{
		hashes[i] = ds_spi_value(i, 1);
		created[i] = ds_spi_value(i, 2);
		if (hashes[i] == NULL || created[i] == NULL)
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("the drizzle journal \"%s\" has a row without hash or created_at",
						   table));
	}

	for (i = 0; i < nrows; i++)
	{
		const char *state;
		Datum		values[3];
		bool		nulls[3] = {false};

		if (ds_journal_adopted(m.db->name, hashes[i]))
			state = "already_adopted";
		else
		{
			DsMigration a = m;
			DsScript	entry;

			/* no script: drizzle's hash is the raw checksum */
			ds_check_checksum(hashes[i]);
			MemSet(&entry, 0, sizeof(entry));
			strlcpy(entry.raw_checksum, hashes[i], sizeof(entry.raw_checksum));
			a.script = &entry;
			a.version = psprintf("drizzle:%s", created[i]);
			a.description = psprintf("adopted from %s", table);
			ds_journal_insert(&a, "adopted", GetCurrentTimestamp(), NULL, NULL, 0);
			state = "adopted";
		}
		MemoryContextSwitchTo(callercxt);
		values[0] = CStringGetTextDatum(hashes[i]);
		values[1] = DirectFunctionCall1(int8in, CStringGetDatum(created[i]));
		values[2] = CStringGetTextDatum(state);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	return (Datum) 0;
}
