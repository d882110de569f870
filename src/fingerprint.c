/*-------------------------------------------------------------------------
 *
 * fingerprint.c
 *		  fingerprint(): the sha256 of a description, of a logical database
 *		  or of a stored one, and the snapshots the migration journal keeps.
 *
 * A fingerprint hashes the text of a description in its canonical order:
 * the columns of tables and the attributes of composite types by name
 * (PostgreSQL appends a column that is added, so a column dropped and
 * added again, which is how diff() restores one, keeps its new place).
 * Of a logical database, describe.c builds that order directly from the
 * rows of the catalog query; of a stored description (a snapshot in the
 * migration journal) one kept SQL query puts it in that order.  The texts
 * are the same, so a stored description and the schema it was taken from
 * have the same fingerprint.
 *
 * The functions run in the caller's memory context; results are palloc'd
 * there.
 *
 * IDENTIFICATION
 *		  src/fingerprint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/snapmgr.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_fingerprint);
PG_FUNCTION_INFO_V1(pgds_fingerprint_of);

/* kept plan of the canonical order of a stored description */
static SPIPlanPtr ds_canonical_plan = NULL;

/*
 * The order of a stored description that a fingerprint hashes: the columns
 * of tables and the attributes of composite types by name, as
 * ds_describe_build() puts them with by_name.
 */
static const char *ds_canonical_sql =
"SELECT $1 || CASE WHEN $1 ? 'tables' THEN pg_catalog.jsonb_build_object('tables', "
"(SELECT pg_catalog.jsonb_object_agg(e.key, CASE WHEN e.value ? 'columns' THEN "
"pg_catalog.jsonb_set(e.value, '{columns}', (SELECT pg_catalog.jsonb_agg(c ORDER BY c->>'name' COLLATE \"C\") "
"FROM pg_catalog.jsonb_array_elements(e.value->'columns') c)) ELSE e.value END) "
"FROM pg_catalog.jsonb_each($1->'tables') e)) ELSE '{}' END "
"|| CASE WHEN $1 ? 'types' THEN pg_catalog.jsonb_build_object('types', "
"(SELECT pg_catalog.jsonb_object_agg(e.key, CASE WHEN e.value ? 'attributes' THEN "
"pg_catalog.jsonb_set(e.value, '{attributes}', (SELECT pg_catalog.jsonb_agg(c ORDER BY c->>'name' COLLATE \"C\") "
"FROM pg_catalog.jsonb_array_elements(e.value->'attributes') c)) ELSE e.value END) "
"FROM pg_catalog.jsonb_each($1->'types') e)) ELSE '{}' END";

/*
 * ds_hash_jsonb
 *		The sha256 (64 hex digits) of a jsonb's text.
 */
static text *
ds_hash_jsonb(Jsonb *j)
{
	StringInfoData out;
	char		hex[DS_SHA256_HEX_LEN + 1];

	initStringInfo(&out);
	(void) JsonbToCString(&out, &j->root, VARSIZE(j));
	ds_sha256_hex(out.data, out.len, NULL, hex);
	pfree(out.data);
	return cstring_to_text(hex);
}

/*
 * ds_fingerprint_of
 *		The fingerprint of a stored description: the sha256 of the text of
 *		its canonical order.
 */
static text *
ds_fingerprint_of(Datum description)
{
	Oid			type = JSONBOID;
	Jsonb	   *canonical;
	bool		isnull;
	MemoryContext callercxt = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (ds_canonical_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare_cursor(ds_canonical_sql, 1, &type,
										   CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL)
			elog(ERROR, "could not prepare the canonical order query");
		SPI_keepplan(p);
		ds_canonical_plan = p;
	}
	if (SPI_execute_plan(ds_canonical_plan, &description, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not put a description in canonical order");
	canonical = DatumGetJsonbP(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1, &isnull));
	MemoryContextSwitchTo(callercxt);
	canonical = DatumGetJsonbPCopy(JsonbPGetDatum(canonical));
	SPI_finish();
	return ds_hash_jsonb(canonical);
}

/*
 * fingerprint(database text) returns text
 *		The sha256 of the description: equal fingerprints, equal schemas.
 */
Datum
pgds_fingerprint(PG_FUNCTION_ARGS)
{
	DsDatabase *db;
	DsSource   *src;
	Jsonb	   *canonical;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"%s\" must not be null", "database"));
	db = ds_cache_database_copy(text_to_cstring(PG_GETARG_TEXT_PP(0)), &src);
	ds_describe_db(db, src, NULL, &canonical);
	PG_RETURN_TEXT_P(ds_hash_jsonb(canonical));
}

/*
 * fingerprint(description jsonb) returns text
 *		The fingerprint of a stored description.
 */
Datum
pgds_fingerprint_of(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"%s\" must not be null", "description"));
	PG_RETURN_TEXT_P(ds_fingerprint_of(PG_GETARG_DATUM(0)));
}

/*
 * ds_snapshot
 *		Describes a logical database for the migration journal: returns the
 *		fingerprint and sets *description, or returns NULL when
 *		datasource.migration_snapshot is off.  migrate.c calls it after a
 *		script has run, in its transaction (on a remote, in the remote
 *		transaction, after the script's savepoint is released), and keeps
 *		the description (ds_record_snapshot).  One run of the catalog query
 *		gives both orders.
 */
char *
ds_snapshot(DsDatabase *db, DsSource *src, Datum *description)
{
	Jsonb	   *described;
	Jsonb	   *canonical;
	text	   *hash;

	if (!ds_migration_snapshot)
		return NULL;

	/*
	 * A snapshot that sees what the script just did (an error pops it with
	 * the (sub)transaction)
	 */
	CommandCounterIncrement();
	PushCopiedSnapshot(GetActiveSnapshot());
	UpdateActiveSnapshotCommandId();
	ds_describe_db(db, src, &described, &canonical);
	PopActiveSnapshot();
	*description = JsonbPGetDatum(described);
	hash = ds_hash_jsonb(canonical);
	pfree(canonical);
	return text_to_cstring(hash);
}

/*
 * ds_snapshot_many
 *		ds_snapshot for n schemas of one datasource, from one run of the
 *		catalog query (migrate_all, at its end): sets fingerprints[i] and
 *		descriptions[i] for schemas[i], fingerprints[i] NULL for a schema
 *		that does not exist (or for all of them when
 *		datasource.migration_snapshot is off).  The fingerprints are those
 *		ds_snapshot gives: the same query, the same texts hashed.  The
 *		caller has checked that the datasource is usable.
 */
void
ds_snapshot_many(DsSource *src, const char *const *schemas, int n,
				 char **fingerprints, Datum *descriptions)
{
	Jsonb	  **described;
	Jsonb	  **canonical;
	int			i;

	memset(fingerprints, 0, sizeof(char *) * n);
	if (!ds_migration_snapshot || n == 0)
		return;
	described = palloc(sizeof(Jsonb *) * n);
	canonical = palloc(sizeof(Jsonb *) * n);
	/* a snapshot that sees what the scripts did, as ds_snapshot's */
	CommandCounterIncrement();
	PushCopiedSnapshot(GetActiveSnapshot());
	UpdateActiveSnapshotCommandId();
	ds_describe_many(src, schemas, n, described, canonical);
	PopActiveSnapshot();
	for (i = 0; i < n; i++)
	{
		if (canonical[i] == NULL)
			continue;
		descriptions[i] = JsonbPGetDatum(described[i]);
		fingerprints[i] = text_to_cstring(ds_hash_jsonb(canonical[i]));
		pfree(canonical[i]);
	}
	pfree(described);
	pfree(canonical);
}
