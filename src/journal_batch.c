/*-------------------------------------------------------------------------
 *
 * journal_batch.c
 *		  Writing journal rows: one at a time, or migrate_all's rows and the
 *		  snapshots of the schemas it migrated, together at its end.
 *
 * A migration's row is inserted at once (ds_journal_insert), except in
 * migrate_all, which collects its rows in a batch and writes them in one
 * INSERT at its end (ds_journal_flush), rather than one INSERT per logical
 * database.  Only what differs between the rows is kept per row.
 *
 * The schema a script left (what drift() compares against) is described
 * here too, for every applied row at once, instead of once per logical
 * database right after its script: one run of the catalog query per
 * datasource and up to DS_SNAPSHOT_CHUNK schemas (describe_query.c), since
 * starting the executor on that big plan was most of a one-schema
 * describe.  The fingerprints are those a describe of each schema alone
 * gives (the same query text per schema, the same hash).  They are taken
 * when the call ends rather than when each script ends; a script touches
 * only its own logical database (script.c refuses the others), so the
 * schema is the one its script left, unless a later script of the same
 * call changed an object the schema depends on in another schema (a type,
 * say), and then the snapshot is what the call commits.  A schema that is
 * gone by then (a script dropped it) has no snapshot (NULL fingerprint).
 *
 * Memory: a batch's rows live in the context given to ds_batch_create;
 * the descriptions of a chunk in a context of their own, deleted once
 * they are recorded.  The caller holds an SPI connection.
 *
 * IDENTIFICATION
 *		  src/journal_batch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

/* how many schemas one run of the describe query describes at most */
#define DS_SNAPSHOT_CHUNK	100

static void ds_batch_add(DsJournalBatch *b, DsMigration *m, const char *status,
						 TimestampTz started, TimestampTz finished,
						 const char *sqlstate, int failed_statement);

/*
 * The journal rows of a migrate_all call, written in one INSERT at its end
 * (ds_journal_flush) rather than one INSERT per logical database.  Only what
 * differs between the rows is kept per row.
 */
struct DsJournalBatch
{
	MemoryContext cxt;			/* where the rows live */
	int			n;
	int			size;
	/* per row */
	Datum	   *database;
	Datum	   *datasource;
	Datum	   *server;			/* the arrays of nullable columns have */
	Datum	   *server_address; /* null flags below */
	Datum	   *schema_name;
	Datum	   *status;
	Datum	   *started;
	Datum	   *finished;
	Datum	   *elapsed;
	Datum	   *error;
	Datum	   *sqlstate;
	Datum	   *failed_statement;
	Datum	   *fingerprint;
	Datum	   *error_detail;
	Datum	   *error_hint;
	bool	   *server_null;
	bool	   *server_address_null;
	bool	   *error_null;
	bool	   *sqlstate_null;
	bool	   *failed_statement_null;
	bool	   *fingerprint_null;
	bool	   *error_detail_null;
	bool	   *error_hint_null;
	bool	   *snapshot;		/* an applied row whose schema is described
								 * before the batch is written */
};

/*
 * ds_journal_insert
 *		Writes one journal row for m with the given status, or, when m has
 *		a batch (migrate_all), adds it to the batch.
 */
void
ds_journal_insert(DsMigration *m, const char *status, TimestampTz started,
				  const char *previous_checksum, const char *sqlstate,
				  int failed_statement)
{
	const char *args[24];
	DsScript   *s = m->script;
	TimestampTz finished = GetCurrentTimestamp();
	char		count[16];
	char		elapsed[64];
	char		failed[16];

	if (m->no_journal)
		return;
	if (m->batch != NULL)
	{
		ds_batch_add(m->batch, m, status, started, finished, sqlstate,
					 failed_statement);
		return;
	}
	snprintf(count, sizeof(count), "%d", s ? s->nstmts : 0);
	snprintf(elapsed, sizeof(elapsed), "%.3f", m->elapsed_ms);
	snprintf(failed, sizeof(failed), "%d", failed_statement);
	args[0] = m->db->name;
	args[1] = m->src->name;
	args[2] = m->src->server;
	args[3] = ds_server_address(m->src);
	args[4] = m->db->schema_name;
	args[5] = m->version;
	args[6] = m->description;
	args[7] = status;
	args[8] = m->checksum;
	args[9] = s ? s->raw_checksum : NULL;
	args[10] = previous_checksum;
	args[11] = s ? s->text : NULL;
	args[12] = s ? s->script_schema : NULL;
	args[13] = s ? count : NULL;
	args[14] = m->role;
	args[15] = timestamptz_to_str(started);
	args[16] = timestamptz_to_str(finished);
	args[17] = s ? elapsed : NULL;
	args[18] = m->error;
	args[19] = sqlstate;
	args[20] = failed_statement > 0 ? failed : NULL;
	args[21] = m->schema_fingerprint;
	args[22] = m->edata ? m->edata->detail : NULL;
	args[23] = m->edata ? m->edata->hint : NULL;
	ds_journal_sql("INSERT INTO datasource.migrations (database, datasource, server, "
				   "server_address, schema_name, version, description, status, checksum, "
				   "raw_checksum, previous_checksum, script, script_schema, statement_count, "
				   "role, started_at, finished_at, execution_time_ms, error, sqlstate, "
				   "failed_statement, schema_fingerprint, error_detail, error_hint) "
				   "VALUES ($1, $2, $3, $4, $5, $6, "
				   "$7, $8, $9, $10, $11, $12, $13, $14::int, $15, $16::timestamptz, "
				   "$17::timestamptz, $18::float8, $19, $20, $21::int, $22, $23, $24)",
				   24, args);
}

/*
 * ds_batch_create
 *		An empty batch of journal rows, allocated in cxt.
 */
DsJournalBatch *
ds_batch_create(MemoryContext cxt)
{
	DsJournalBatch *b = MemoryContextAllocZero(cxt, sizeof(DsJournalBatch));

	b->cxt = cxt;
	return b;
}

/*
 * ds_batch_add
 *		Adds the applied or failed row of m to its batch; everything the row
 *		needs is copied into the batch's context.
 */
static void
ds_batch_add(DsJournalBatch *b, DsMigration *m, const char *status,
			 TimestampTz started, TimestampTz finished, const char *sqlstate,
			 int failed_statement)
{
	MemoryContext old = MemoryContextSwitchTo(b->cxt);
	char	   *address = ds_server_address(m->src);
	const char *detail;
	const char *hint;
	int			i = b->n;

	if (b->n == b->size)
	{
		int			size = Max(b->size * 2, 64);

#define DS_GROW(field, type) \
		b->field = b->size == 0 ? palloc(sizeof(type) * size) : \
			repalloc(b->field, sizeof(type) * size)
		DS_GROW(database, Datum);
		DS_GROW(datasource, Datum);
		DS_GROW(server, Datum);
		DS_GROW(server_address, Datum);
		DS_GROW(schema_name, Datum);
		DS_GROW(status, Datum);
		DS_GROW(started, Datum);
		DS_GROW(finished, Datum);
		DS_GROW(elapsed, Datum);
		DS_GROW(error, Datum);
		DS_GROW(sqlstate, Datum);
		DS_GROW(failed_statement, Datum);
		DS_GROW(fingerprint, Datum);
		DS_GROW(error_detail, Datum);
		DS_GROW(error_hint, Datum);
		DS_GROW(server_null, bool);
		DS_GROW(server_address_null, bool);
		DS_GROW(error_null, bool);
		DS_GROW(sqlstate_null, bool);
		DS_GROW(failed_statement_null, bool);
		DS_GROW(fingerprint_null, bool);
		DS_GROW(error_detail_null, bool);
		DS_GROW(error_hint_null, bool);
		DS_GROW(snapshot, bool);
#undef DS_GROW
		b->size = size;
	}
	b->database[i] = CStringGetTextDatum(m->db->name);
	b->datasource[i] = CStringGetTextDatum(m->src->name);
	b->server_null[i] = m->src->server == NULL;
	b->server[i] = m->src->server ? CStringGetTextDatum(m->src->server) : (Datum) 0;
	b->server_address_null[i] = address == NULL;
	b->server_address[i] = address ? CStringGetTextDatum(address) : (Datum) 0;
	b->schema_name[i] = CStringGetTextDatum(m->db->schema_name);
	b->status[i] = CStringGetTextDatum(status);
	b->started[i] = TimestampTzGetDatum(started);
	b->finished[i] = TimestampTzGetDatum(finished);
	b->elapsed[i] = Float8GetDatum(m->elapsed_ms);
	b->error_null[i] = m->error == NULL;
	b->error[i] = m->error ? CStringGetTextDatum(m->error) : (Datum) 0;
	b->sqlstate_null[i] = sqlstate == NULL;
	b->sqlstate[i] = sqlstate ? CStringGetTextDatum(sqlstate) : (Datum) 0;
	b->failed_statement_null[i] = failed_statement <= 0;
	b->failed_statement[i] = Int32GetDatum(failed_statement);
	b->fingerprint_null[i] = m->schema_fingerprint == NULL;
	b->fingerprint[i] = m->schema_fingerprint ? CStringGetTextDatum(m->schema_fingerprint) : (Datum) 0;
	detail = m->edata ? m->edata->detail : NULL;
	hint = m->edata ? m->edata->hint : NULL;
	b->error_detail_null[i] = detail == NULL;
	b->error_detail[i] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	b->error_hint_null[i] = hint == NULL;
	b->error_hint[i] = hint ? CStringGetTextDatum(hint) : (Datum) 0;
	/* ds_record_snapshot left it to the batch */
	b->snapshot[i] = ds_migration_snapshot && strcmp(status, "applied") == 0;
	b->n++;
	MemoryContextSwitchTo(old);
}

/*
 * ds_batch_array
 *		The n values (nulls may be NULL: none) as a one-dimensional array.
 */
static Datum
ds_batch_array(Datum *values, bool *nulls, int n, Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, type,
											  typlen, typbyval, typalign));
}

/*
 * ds_batch_record
 *		Records the descriptions of a chunk in datasource.schema_snapshots,
 *		each fingerprint once (recorded: the fingerprints this batch has
 *		recorded so far, in the batch's context), and puts the
 *		fingerprints into the rows idx[].
 */
static void
ds_batch_record(DsJournalBatch *b, int *idx, int n, char **fingerprints,
				Datum *descriptions, List **recorded)
{
	Datum	   *keys = palloc(sizeof(Datum) * Max(n, 1));
	Datum	   *docs = palloc(sizeof(Datum) * Max(n, 1));
	int			nnew = 0;
	int			i;
	ListCell   *lc;

	for (i = 0; i < n; i++)
	{
		MemoryContext old;
		bool		seen = false;

		if (fingerprints[i] == NULL)
			continue;
		old = MemoryContextSwitchTo(b->cxt);
		b->fingerprint_null[idx[i]] = false;
		b->fingerprint[idx[i]] = CStringGetTextDatum(fingerprints[i]);
		foreach(lc, *recorded)
			if (strcmp((char *) lfirst(lc), fingerprints[i]) == 0)
				seen = true;
		if (!seen)
		{
			*recorded = lappend(*recorded, pstrdup(fingerprints[i]));
			keys[nnew] = CStringGetTextDatum(fingerprints[i]);
			docs[nnew] = descriptions[i];
			nnew++;
		}
		MemoryContextSwitchTo(old);
	}
	if (nnew > 0)
	{
		Datum		values[2];
		Oid			types[2] = {TEXTARRAYOID, JSONBARRAYOID};

		values[0] = ds_batch_array(keys, NULL, nnew, TEXTOID);
		values[1] = ds_batch_array(docs, NULL, nnew, JSONBOID);
		if (ds_journal_exec("INSERT INTO datasource.schema_snapshots (fingerprint, description) "
							"SELECT * FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) "
							"ON CONFLICT (fingerprint) DO NOTHING",
							2, types, values, NULL) != SPI_OK_INSERT)
			elog(ERROR, "could not record the schema snapshots");
	}
}

/*
 * ds_batch_snapshots
 *		Describes the schemas of the batch's applied rows (ds_snapshot_many),
 *		datasource by datasource and DS_SNAPSHOT_CHUNK schemas at a time,
 *		records them and fills the rows' fingerprints.  Runs in the
 *		migrate_all transaction, after every script (on a remote, in its
 *		remote transaction).
 */
static void
ds_batch_snapshots(DsJournalBatch *b)
{
	MemoryContext chunkcxt;
	MemoryContext old;
	char	  **sources;
	bool	   *done;
	int		   *idx;
	const char **schemas;
	char	  **fingerprints;
	Datum	   *descriptions;
	List	   *recorded = NIL;
	int			i;

	chunkcxt = AllocSetContextCreate(CurrentMemoryContext,
									 "pg_datasource snapshots",
									 ALLOCSET_DEFAULT_SIZES);
	sources = palloc(sizeof(char *) * b->n);
	done = palloc0(sizeof(bool) * b->n);
	for (i = 0; i < b->n; i++)
		sources[i] = b->snapshot[i] ? TextDatumGetCString(b->datasource[i]) : NULL;
	idx = palloc(sizeof(int) * DS_SNAPSHOT_CHUNK);
	schemas = palloc(sizeof(char *) * DS_SNAPSHOT_CHUNK);
	fingerprints = palloc(sizeof(char *) * DS_SNAPSHOT_CHUNK);
	descriptions = palloc(sizeof(Datum) * DS_SNAPSHOT_CHUNK);
	for (i = 0; i < b->n; i++)
	{
		int			n = 0;
		int			j;

		if (sources[i] == NULL || done[i])
			continue;
		/* the next chunk of this datasource's schemas */
		old = MemoryContextSwitchTo(chunkcxt);
		for (j = i; j < b->n && n < DS_SNAPSHOT_CHUNK; j++)
		{
			if (sources[j] == NULL || done[j] || strcmp(sources[j], sources[i]) != 0)
				continue;
			done[j] = true;
			idx[n] = j;
			schemas[n] = TextDatumGetCString(b->schema_name[j]);
			n++;
		}
		ds_snapshot_many(ds_cache_source(sources[i]), schemas, n,
						 fingerprints, descriptions);
		MemoryContextSwitchTo(old);
		ds_batch_record(b, idx, n, fingerprints, descriptions, &recorded);
		MemoryContextReset(chunkcxt);
	}
	MemoryContextDelete(chunkcxt);
}

/*
 * ds_journal_flush
 *		Inserts the rows of a migrate_all batch in one statement, in the
 *		order they were added (so their ids follow the targets' order),
 *		after describing the schemas of its applied rows (their
 *		fingerprints go into the rows).
 *		What all rows share comes from m (version, description, script and
 *		checksums, role).  The rows' logical databases are locked by the
 *		caller's transaction (see migrate_all), so none went away meanwhile.
 */
void
ds_journal_flush(DsJournalBatch *b, DsMigration *m)
{
	DsScript   *s = m->script;
	Datum		values[23];
	char		nulls[23];
	Oid			types[23] = {
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID,
		FLOAT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, TEXTOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID
	};
	int			i;

	if (b->n == 0)
		return;
	ds_batch_snapshots(b);
	values[0] = ds_batch_array(b->database, NULL, b->n, TEXTOID);
	values[1] = ds_batch_array(b->datasource, NULL, b->n, TEXTOID);
	values[2] = ds_batch_array(b->server, b->server_null, b->n, TEXTOID);
	values[3] = ds_batch_array(b->server_address, b->server_address_null,
							   b->n, TEXTOID);
	values[4] = ds_batch_array(b->schema_name, NULL, b->n, TEXTOID);
	values[5] = ds_batch_array(b->status, NULL, b->n, TEXTOID);
	values[6] = ds_batch_array(b->started, NULL, b->n, TIMESTAMPTZOID);
	values[7] = ds_batch_array(b->finished, NULL, b->n, TIMESTAMPTZOID);
	values[8] = ds_batch_array(b->elapsed, NULL, b->n, FLOAT8OID);
	values[9] = ds_batch_array(b->error, b->error_null, b->n, TEXTOID);
	values[10] = ds_batch_array(b->sqlstate, b->sqlstate_null, b->n, TEXTOID);
	values[11] = ds_batch_array(b->failed_statement, b->failed_statement_null,
								b->n, INT4OID);
	for (i = 0; i < 12; i++)
		nulls[i] = ' ';
	values[12] = CStringGetTextDatum(m->version);
	nulls[13] = m->description ? ' ' : 'n';
	values[13] = m->description ? CStringGetTextDatum(m->description) : (Datum) 0;
	values[14] = CStringGetTextDatum(s->checksum);
	values[15] = CStringGetTextDatum(s->raw_checksum);
	values[16] = CStringGetTextDatum(s->text);
	nulls[17] = s->script_schema ? ' ' : 'n';
	values[17] = s->script_schema ? CStringGetTextDatum(s->script_schema) : (Datum) 0;
	values[18] = Int32GetDatum(s->nstmts);
	values[19] = CStringGetTextDatum(m->role);
	nulls[12] = nulls[14] = nulls[15] = nulls[16] = nulls[18] = nulls[19] = ' ';
	values[20] = ds_batch_array(b->fingerprint, b->fingerprint_null, b->n, TEXTOID);
	nulls[20] = ' ';
	values[21] = ds_batch_array(b->error_detail, b->error_detail_null, b->n,
								TEXTOID);
	values[22] = ds_batch_array(b->error_hint, b->error_hint_null, b->n,
								TEXTOID);
	nulls[21] = nulls[22] = ' ';
	if (ds_journal_exec("INSERT INTO datasource.migrations (database, datasource, "
						"server, server_address, schema_name, version, description, "
						"status, checksum, raw_checksum, script, script_schema, "
						"statement_count, role, started_at, finished_at, "
						"execution_time_ms, error, sqlstate, failed_statement, "
						"schema_fingerprint, error_detail, error_hint) "
						"SELECT r.database, r.datasource, r.server, r.server_address, "
						"r.schema_name, $13, $14, r.status, $15, $16, $17, $18, $19, "
						"$20, r.started_at, r.finished_at, r.execution_time_ms, "
						"r.error, r.sqlstate, r.failed_statement, r.schema_fingerprint, "
						"r.error_detail, r.error_hint "
						"FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
						"pg_catalog.unnest($3), pg_catalog.unnest($4), "
						"pg_catalog.unnest($5), pg_catalog.unnest($6), "
						"pg_catalog.unnest($7), pg_catalog.unnest($8), "
						"pg_catalog.unnest($9), pg_catalog.unnest($10), "
						"pg_catalog.unnest($11), pg_catalog.unnest($12), "
						"pg_catalog.unnest($21), pg_catalog.unnest($22), "
						"pg_catalog.unnest($23)) "
						"WITH ORDINALITY AS r (database, datasource, "
						"server, server_address, schema_name, status, started_at, "
						"finished_at, execution_time_ms, error, sqlstate, "
						"failed_statement, schema_fingerprint, error_detail, "
						"error_hint, n) ORDER BY r.n",
						23, types, values, nulls) != SPI_OK_INSERT ||
		SPI_processed != (uint64) b->n)
		elog(ERROR, "could not journal the migrations");
}
