/*-------------------------------------------------------------------------
 *
 * migrate.c
 *		  Running migrations: migrate (one logical database), baseline and
 *		  accept_checksum; the work of one migration, which fleet.c's
 *		  migrate_all repeats per logical database.
 *
 * A migration is a script (parsed and checked by script.c) applied once to
 * a logical database.  It runs statement by statement, with search_path
 * set to the logical database's schema, as the calling role, in a
 * subtransaction: locally through SPI, remotely through the connection of
 * the local transaction (a savepoint on the remote).  A failure rolls the
 * subtransaction back, so nothing of the script remains; the attempt is
 * journaled as failed (journal.c) and reported with a WARNING rather than
 * an ERROR, so that the journal row survives.
 *
 * Migrators of one logical database serialize on a transaction-level
 * advisory lock (key1 = DS_MIGRATION_LOCK_KEY, key2 = a hash of the name),
 * taken before the journal is read, so the second one sees what the first
 * committed.  The registry row of the logical database is locked FOR KEY
 * SHARE as well, so drop_database and rename_database wait for a running
 * migration and a migration started after a committed drop finds no
 * database.
 *
 * A cancel or statement_timeout (57014) is not the migration's failure: it
 * is raised again (ds_in_subxact does), journaling nothing.  Before a
 * script runs, the order rule (order.c) refuses a version where an earlier
 * one failed.
 *
 * Memory: everything is palloc'd in the calling function's context.
 *
 * IDENTIFICATION
 *		  src/migrate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_migrate);
PG_FUNCTION_INFO_V1(pgds_baseline);
PG_FUNCTION_INFO_V1(pgds_accept_checksum);

/* the first key of the advisory lock of a migration ('pgds') */
#define DS_MIGRATION_LOCK_KEY	0x70676473

#define DS_VERSION_MAX		255

/* what ddl_log.c reads while a local migration runs */
const char *ds_migration_version = NULL;
const char *ds_migration_statement = NULL;

/*
 * ds_check_version
 *		A version is 1 to 255 bytes with no white space at either end.
 */
void
ds_check_version(const char *version)
{
	size_t		len = strlen(version);

	if (len == 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("migration version must not be empty"));
	if (len > DS_VERSION_MAX)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("migration version is too long"),
				errdetail("It has %zu bytes; at most %d are allowed.", len,
						  DS_VERSION_MAX));
	if (isspace((unsigned char) version[0]) ||
		isspace((unsigned char) version[len - 1]))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("migration version \"%s\" starts or ends with white space",
					   version));
}

/*
 * ds_migration_lock_tag
 *		The advisory lock that serializes the migrations of a logical
 *		database (shown in pg_locks as classid DS_MIGRATION_LOCK_KEY, objid
 *		the hash of the name, objsubid 2).
 */
void
ds_migration_lock_tag(LOCKTAG *tag, const char *database)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, DS_MIGRATION_LOCK_KEY,
						 hash_bytes((const unsigned char *) database,
									strlen(database)), 2);
}

/*
 * ds_lock_database
 *		Takes the migration lock of a logical database (waiting for another
 *		migrator), then reads and locks its registry row.  Raises 42704 when
 *		it does not exist, 55000 when its datasource is disabled and 25006
 *		when it or its datasource is read-only.
 */
void
ds_lock_database(DsMigration *m)
{
	LOCKTAG		tag;
	DsDatabase *db;

	ds_migration_lock_tag(&tag, m->database);
	if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
	{
		(void) LockAcquire(&tag, ExclusiveLock, false, false);
		if (IsolationUsesXactSnapshot())
			ereport(ERROR,
					errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					errmsg("could not serialize access due to a concurrent migration of logical database \"%s\"",
						   m->database),
					errhint("Retry the transaction, or migrate in READ COMMITTED."));
	}

	db = ds_lock_registry_row(m->database);
	if (db == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("logical database \"%s\" does not exist", m->database));
	m->db = db;
	m->src = ds_cache_source(db->source);
	/* a migration always writes */
	(void) ds_source_usable(m->src, db, "", ERROR, NULL, NULL);
}

/*
 * ds_migration_context
 *		Error context: which statement of which migration.
 */
static void
ds_migration_context(void *arg)
{
	DsMigration *m = (DsMigration *) arg;

	if (m->current > 0)
		errcontext("statement %d of migration \"%s\" of logical database \"%s\"",
				   m->current, m->version, m->database);
}

/*
 * ds_run_script
 *		Runs the statements of m's script in the target's schema; called in
 *		a subtransaction, so an error leaves nothing behind.
 */
static void
ds_run_script(void *arg)
{
	DsMigration *m = (DsMigration *) arg;
	DsScript   *s = m->script;
	ErrorContextCallback errcb;
	int			i;

	errcb.callback = ds_migration_context;
	errcb.arg = m;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	/* before anything runs: no statement may reach another logical database */
	ds_script_check_target(s, m->db, &m->current);

	if (m->src->server == NULL)
	{
		int			level = NewGUCNestLevel();

		(void) set_config_option("search_path",
								 quote_identifier(m->db->schema_name),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		if (ds_migration_lock_timeout > 0)
			(void) set_config_option("lock_timeout",
									 psprintf("%d", ds_migration_lock_timeout),
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		ds_migration_version = m->version;
		for (i = 0; i < s->nstmts; i++)
		{
			char	   *sql = ds_statement_for(s, i, m->db->schema_name);
			int			rc;

			m->current = i + 1;
			ds_migration_statement = sql;
			rc = SPI_execute(sql, false, 0);
			if (rc < 0)
				elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
			SPI_freetuptable(SPI_tuptable);
			CHECK_FOR_INTERRUPTS();
		}
		ds_migration_version = NULL;
		ds_migration_statement = NULL;
		/* whatever the script set (SET LOCAL, set_config) ends with it */
		AtEOXact_GUC(false, level);
	}
	else
	{
		DsSink		r;

		if (ds_migration_lock_timeout > 0)
		{
			ds_sink_init(&r, DS_SINK_NONE);
			(void) ds_remote_run(m->src,
								 psprintf("SET LOCAL lock_timeout = %d",
										  ds_migration_lock_timeout),
								 m->db->schema_name, 0, NULL, false, &r);
			ds_sink_end(&r);
		}
		for (i = 0; i < s->nstmts; i++)
		{
			m->current = i + 1;
			ds_sink_init(&r, DS_SINK_NONE);
			(void) ds_remote_run(m->src,
								 ds_statement_for(s, i, m->db->schema_name),
								 m->db->schema_name, 0, NULL, false, &r);
			ds_sink_end(&r);
		}
		if (ds_migration_lock_timeout > 0)
		{
			ds_sink_init(&r, DS_SINK_NONE);
			(void) ds_remote_run(m->src, "SET LOCAL lock_timeout TO DEFAULT",
								 m->db->schema_name, 0, NULL, false, &r);
			ds_sink_end(&r);
		}
	}
	m->current = 0;
	error_context_stack = errcb.previous;
}

/*
 * ds_migrate_database
 *		Applies m to its logical database: lock, look at the journal, run,
 *		journal.  Raises for what refuses the migration before it runs
 *		(unknown, disabled or read-only database, a MySQL one, changed
 *		checksum); a
 *		failure of the script is journaled and reported in m.
 */
void
ds_migrate_database(DsMigration *m)
{
	char	   *recorded = NULL;
	const char *args[4];
	DsJournalRow adopted = {0};
	ErrorData  *edata;
	TimestampTz started;
	instr_time	t0;

	INSTR_TIME_SET_CURRENT(t0);
	started = GetCurrentTimestamp();
	m->error = NULL;
	m->elapsed_ms = 0;
	m->checksum = m->script->checksum;

	ds_lock_database(m);
	if (m->src->engine == DS_ENGINE_MYSQL)
		ds_mysql_refuse_migration(m->db->name);
	if (ds_applied_state(m, m->version, &recorded))
	{
		if (recorded != NULL && strcmp(recorded, m->script->checksum) != 0)
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("migration \"%s\" of logical database \"%s\" was applied with another script",
						   m->version, m->db->name),
					errdetail("The journal has checksum %s; this script has %s.",
							  recorded, m->script->checksum),
					errhint("If the change is intended, record it with SELECT datasource.accept_checksum(%s, %s, %s);",
							quote_literal_cstr(m->db->name),
							quote_literal_cstr(m->version),
							quote_literal_cstr(m->script->checksum)));
		m->status = "already_applied";
		if (recorded != NULL)
			m->checksum = recorded;
		return;
	}

	/* an entry adopted from drizzle-kit whose file this is */
	if (ds_find_adopted(m, &adopted))
	{
		m->status = "already_applied";
		if (m->dry_run)
			return;
		args[0] = psprintf("(%u,%u)",
						   ItemPointerGetBlockNumber(&adopted.tid),
						   ItemPointerGetOffsetNumber(&adopted.tid));
		args[1] = m->version;
		args[2] = m->script->checksum;
		args[3] = m->description;
		ds_journal_sql("UPDATE datasource.migrations SET version = $2, checksum = $3, "
					   "description = coalesce($4, description) "
					   "WHERE ctid = $1::pg_catalog.tid",
					   4, args);
		if (SPI_processed != 1)
			elog(ERROR, "could not take over the adopted journal row at %s",
				 args[0]);
		return;
	}

	/*
	 * A statement the script cannot run: refused now that it would run (a
	 * version already applied or baselined was answered above, whatever
	 * its script); then, not where an earlier version failed (order.c).
	 */
	if (m->script->refused != NULL)
		ReThrowError(m->script->refused);
	ds_check_order(m);
	if (m->dry_run)
	{
		m->status = "would_apply";
		return;
	}
	m->started = started;
	m->t0 = t0;
	m->script_started = true;
	if (m->inline_script)
	{
		/* migrate_all: its subtransaction for this database is ours */
		ds_run_script(m);
		edata = NULL;
	}
	else
		edata = ds_in_subxact(ds_run_script, m);
	ds_script_done(m, edata);
}

/*
 * ds_is_connection_error
 *		A remote that cannot be reached or went away.
 */
bool
ds_is_connection_error(ErrorData *edata)
{
	return ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_CONNECTION_EXCEPTION ||
		edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
		edata->sqlerrcode == ERRCODE_CRASH_SHUTDOWN ||
		edata->sqlerrcode == ERRCODE_CANNOT_CONNECT_NOW;
}

/*
 * ds_script_done
 *		Journals how m's script ended (edata NULL: it succeeded).  The
 *		subtransaction it ran in has ended, so nothing of a failed script
 *		remains.
 */
void
ds_script_done(DsMigration *m, ErrorData *edata)
{
	instr_time	t1;

	ds_migration_version = NULL;
	ds_migration_statement = NULL;
	if (m->src->server != NULL)
		ds_remote_forget_path(m->src->server);

	/*
	 * A remote that cannot be reached (or went away) is not a failure of the
	 * script: nothing ran, and a broken remote transaction cannot commit
	 * with the journal row anyway.  Raise it as a refusal.  (A cancel or
	 * statement_timeout never gets here: ds_in_subxact raises it.)
	 */
	if (edata != NULL && ds_is_connection_error(edata))
		ReThrowError(edata);
	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, m->t0);
	m->elapsed_ms = INSTR_TIME_GET_MILLISEC(t1);
	ds_stats_migration(m->db->name, edata == NULL, m->elapsed_ms);
	if (edata == NULL)
	{
		m->status = "applied";
		/* in the migration's transaction: what the script left, for drift() */
		ds_record_snapshot(m);
		ds_journal_insert(m, "applied", m->started, NULL, NULL, 0);
		return;
	}

	/* the script failed: nothing of it remains; journal the attempt */
	m->status = "failed";
	m->error = edata->message;
	m->edata = edata;
	ds_journal_insert(m, "failed", m->started, NULL,
					  unpack_sql_state(edata->sqlerrcode), m->current);
	ereport(WARNING,
			errcode(edata->sqlerrcode),
			errmsg("migration \"%s\" of logical database \"%s\" failed: %s",
				   m->version, m->db->name, edata->message),
			m->current > 0 ?
			errdetail("%s%sStatement %d of the script failed; nothing of the script was kept.",
					  edata->detail ? edata->detail : "",
					  edata->detail ? "\n" : "", m->current) :
			edata->detail ? errdetail("%s", edata->detail) : 0,
			edata->hint ? errhint("%s", edata->hint) : 0);
	m->current = 0;
}

/*
 * ds_lost_remote
 *		The datasource of a remote transaction of the current local one
 *		that is lost (checked as before a commit: commit.c's ds_conn_alive),
 *		or NULL when every one can still commit.
 */
const char *
ds_lost_remote(void)
{
	int			n;
	int			i;
	DsConn	  **parts = ds_conn_participants(false, &n);
	const char *lost = NULL;

	for (i = 0; i < n && lost == NULL; i++)
		if (!parts[i]->busy && !ds_conn_alive(parts[i]))
			lost = parts[i]->source;
	pfree(parts);
	return lost;
}

/*
 * ds_result_tuple
 *		The migration_result row of m; a failure's SQLSTATE, DETAIL and HINT
 *		come from m->edata (kept only when m->status is "failed", or
 *		"refused" in a dry run).
 */
HeapTuple
ds_result_tuple(TupleDesc desc, const char *database, const char *version,
				const char *status, const char *checksum, double elapsed,
				const char *error, const DsMigration *m)
{
	Datum		values[9];
	bool		nulls[9] = {false};
	ErrorData  *edata = m->status != NULL &&
		(strcmp(m->status, "failed") == 0 || strcmp(m->status, "refused") == 0)
		? m->edata : NULL;

	values[0] = CStringGetTextDatum(database);
	values[1] = CStringGetTextDatum(version);
	values[2] = CStringGetTextDatum(status);
	if (checksum)
		values[3] = CStringGetTextDatum(checksum);
	else
		nulls[3] = true;
	values[4] = Float8GetDatum(elapsed);
	if (error)
		values[5] = CStringGetTextDatum(error);
	else
		nulls[5] = true;
	/* a failure's SQLSTATE, DETAIL and HINT */
	nulls[6] = nulls[7] = nulls[8] = true;
	if (edata != NULL)
	{
		values[6] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
		nulls[6] = false;
		if (edata->detail)
			values[7] = CStringGetTextDatum(edata->detail);
		nulls[7] = edata->detail == NULL;
		if (edata->hint)
			values[8] = CStringGetTextDatum(edata->hint);
		nulls[8] = edata->hint == NULL;
	}
	return heap_form_tuple(desc, values, nulls);
}

/*
 * ds_check_writable_xact
 *		Migrations write: refuse a read-only transaction up front.
 */
void
ds_check_writable_xact(void)
{
	if (XactReadOnly)
		ereport(ERROR,
				errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				errmsg("cannot migrate in a read-only transaction"));
}

/*
 * migrate(database text, version text, script text, description text,
 *		   script_schema text) returns datasource.migration_result
 */
Datum
pgds_migrate(PG_FUNCTION_ARGS)
{
	DsMigration m;
	TupleDesc	desc;
	MemoryContext callercxt = CurrentMemoryContext;
	HeapTuple	tup;
	int			level;

	MemSet(&m, 0, sizeof(m));
	m.database = ds_text_arg(fcinfo, 0, "database", true);
	m.version = ds_text_arg(fcinfo, 1, "version", true);
	ds_check_version(m.version);
	m.script = ds_script_arg(ds_text_arg(fcinfo, 2, "script", true),
							 ds_text_arg(fcinfo, 4, "script_schema", false));
	m.description = ds_text_arg(fcinfo, 3, "description", false);
	m.role = ds_current_role();
	ds_check_writable_xact();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	level = ds_spi_connect();
	ds_migrate_database(&m);
	MemoryContextSwitchTo(callercxt);
	tup = ds_result_tuple(BlessTupleDesc(desc), m.db->name, m.version,
						  m.status, m.checksum, m.elapsed_ms, m.error, &m);
	ds_spi_finish(level);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/*
 * baseline(database text, version text, description text)
 *		returns datasource.migration_result
 *
 * Records version as applied without running anything.
 */
Datum
pgds_baseline(PG_FUNCTION_ARGS)
{
	DsMigration m;
	TupleDesc	desc;
	MemoryContext callercxt = CurrentMemoryContext;
	HeapTuple	tup;
	char	   *recorded = NULL;
	int			level;

	MemSet(&m, 0, sizeof(m));
	m.database = ds_text_arg(fcinfo, 0, "database", true);
	m.version = ds_text_arg(fcinfo, 1, "version", true);
	ds_check_version(m.version);
	m.description = ds_text_arg(fcinfo, 2, "description", false);
	m.role = ds_current_role();
	ds_check_writable_xact();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	level = ds_spi_connect();
	ds_lock_database(&m);
	if (ds_applied_state(&m, m.version, &recorded))
	{
		m.status = "already_applied";
		m.checksum = recorded;
	}
	else
	{
		m.status = "baseline";
		ds_record_snapshot(&m);
		ds_journal_insert(&m, "baseline", GetCurrentTimestamp(), NULL, NULL, 0);
	}
	MemoryContextSwitchTo(callercxt);
	tup = ds_result_tuple(BlessTupleDesc(desc), m.db->name, m.version,
						  m.status, m.checksum, 0, NULL, &m);
	ds_spi_finish(level);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/*
 * accept_checksum(database text, version text, checksum text)
 *		returns datasource.migration_result
 *
 * The explicit repair after an applied script was edited: journals the new
 * checksum next to the old one; migrate() then accepts the edited script.
 */
Datum
pgds_accept_checksum(PG_FUNCTION_ARGS)
{
	DsMigration m;
	TupleDesc	desc;
	MemoryContext callercxt = CurrentMemoryContext;
	HeapTuple	tup;
	char	   *recorded = NULL;
	char	   *checksum;
	int			level;

	MemSet(&m, 0, sizeof(m));
	m.database = ds_text_arg(fcinfo, 0, "database", true);
	m.version = ds_text_arg(fcinfo, 1, "version", true);
	ds_check_version(m.version);
	checksum = ds_text_arg(fcinfo, 2, "checksum", true);
	ds_check_checksum(checksum);
	m.role = ds_current_role();
	ds_check_writable_xact();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	level = ds_spi_connect();
	ds_lock_database(&m);
	if (!ds_applied_state(&m, m.version, &recorded))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("migration \"%s\" of logical database \"%s\" has not been applied",
					   m.version, m.db->name),
				errhint("Only the checksum of an applied migration can be accepted."));
	m.checksum = checksum;
	if (recorded != NULL && strcmp(recorded, checksum) == 0)
		m.status = "already_applied";
	else
	{
		m.status = "checksum_accepted";
		m.description = psprintf("checksum accepted by %s", m.role);
		ds_journal_insert(&m, "checksum_accepted", GetCurrentTimestamp(),
						  recorded, NULL, 0);
	}
	MemoryContextSwitchTo(callercxt);
	tup = ds_result_tuple(BlessTupleDesc(desc), m.db->name, m.version,
						  m.status, m.checksum, 0, NULL, &m);
	ds_spi_finish(level);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}
