/*-------------------------------------------------------------------------
 *
 * fleet.c
 *		  migrate_all: one migration applied to many logical databases.
 *
 * Each logical database is migrated (migrate.c's ds_migrate_database) in
 * its own subtransaction, so whatever fails for one (a refusal or its
 * script) is reported in its row and the others go on.  The journal rows
 * are collected and written in one INSERT at the end (journal.c's batch).
 * The call stops at the first remote transaction it finds lost (checked
 * after every logical database): the local transaction can then only roll
 * back, with every remote one, so the call raises 08006 rather than report
 * as applied work that cannot commit, and attempts none of the rest.
 *
 * A cancel or statement_timeout (57014) caught in a logical database's
 * subtransaction is not that database's failure: it is raised again, so
 * the whole call ends, none after it is attempted and nothing of it is
 * kept.  The options: dry_run judges each database as a real run would
 * before its script (would_apply, already_applied, refused) and runs and
 * journals nothing; max_failures reports the databases after the n-th
 * failure as not_attempted; raise_on_failure ends a call that had a
 * failure with an ERROR, so that a client's script stops; out_of_order
 * skips the order rule (order.c).
 *
 * Memory: the result rows and the journal batch live in the calling
 * function's context; the per-database work runs in a context reset per
 * database.
 *
 * IDENTIFICATION
 *		  src/fleet.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_migrate_all);

/* what migrate_all runs per database in a subtransaction */
static void
ds_migrate_database_call(void *arg)
{
	ds_migrate_database((DsMigration *) arg);
}

/*
 * ds_target_list
 *		The logical databases migrate_all works on: the listed ones (each
 *		must exist, once) or every one that is not read-only, by name.
 */
static List *
ds_target_list(FunctionCallInfo fcinfo, int argno)
{
	List	   *names = NIL;
	ListCell   *lc;

	if (PG_ARGISNULL(argno))
	{
		foreach(lc, ds_list_databases())
		{
			DsDatabase *db = (DsDatabase *) lfirst(lc);
			DsSource   *src = ds_cache_source(db->source);

			if (!db->read_only && !src->read_only)
				names = lappend(names, db->name);
		}
		return names;
	}
	else
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(argno);
		Datum	   *elems;
		bool	   *isnull;
		int			n;
		int			i;

		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					errmsg("databases must be a one-dimensional array"));
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems,
						  &isnull, &n);
		for (i = 0; i < n; i++)
		{
			char	   *name;

			if (isnull[i])
				ereport(ERROR,
						errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("databases must not contain null"));
			name = TextDatumGetCString(elems[i]);
			foreach(lc, names)
				if (strcmp((char *) lfirst(lc), name) == 0)
					ereport(ERROR,
							errcode(ERRCODE_DUPLICATE_OBJECT),
							errmsg("logical database \"%s\" is listed twice", name));
			(void) ds_get_database(name, false);
			names = lappend(names, name);
		}
	}
	return names;
}

/* what a migrate_all call was asked and what it has done so far */
typedef struct DsFleetRun
{
	/* the options */
	bool		dry_run;
	int			max_failures;	/* 0: no limit */
	bool		raise_on_failure;
	bool		out_of_order;
	/* the progress */
	int			ntargets;
	int			done;			/* databases looked at, this one included */
	int			applied;
	int			failures;		/* failed, or refused in a dry run */
	/* the first failure, for raise_on_failure */
	int			first_code;
	char	   *first_database;
	char	   *first_error;
	StringInfoData failed_names;	/* the first ten */
	MemoryContext cxt;			/* where the above live: the call's */
} DsFleetRun;

/*
 * ds_fleet_attempt
 *		Migrates m in a subtransaction of its own; returns NULL or the error
 *		that failed it.  A cancel or statement_timeout, which ds_in_subxact
 *		raises, ends the call there, and with it everything it did, so what
 *		it reports (an error) is what is kept (nothing).
 */
static ErrorData *
ds_fleet_attempt(DsFleetRun *run, DsMigration *m)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile edata = NULL;

	PG_TRY();
	{
		edata = ds_in_subxact(ds_migrate_database_call, m);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		if (edata->sqlerrcode != ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
		ereport(ERROR,
				errcode(edata->sqlerrcode),
				errmsg("%s", edata->message),
				errdetail("migrate_all stopped at logical database \"%s\" (%d of %d): nothing of this call is kept, and the %d after it were not attempted.",
						  m->database, run->done, run->ntargets,
						  run->ntargets - run->done));
	}
	PG_END_TRY();
	return edata;
}

/*
 * ds_fleet_one
 *		Migrates (or, in a dry run, judges) m's logical database in its own
 *		subtransaction and fills m's status: applied, already_applied or
 *		failed; would_apply, already_applied or refused in a dry run.  An
 *		interrupt is raised (ds_fleet_attempt).  Runs in the per-database
 *		context; the caller holds the SPI connection.
 */
static void
ds_fleet_one(DsFleetRun *run, DsMigration *m)
{
	ErrorData  *edata;
	int			code = 0;

	edata = ds_fleet_attempt(run, m);
	if (edata != NULL)
		code = edata->sqlerrcode;
	if (edata != NULL && m->script_started && !ds_is_connection_error(edata))
	{
		LOCKTAG		tag;

		/*
		 * The script failed, and the subtransaction took its work and the
		 * locks with it: take the migration lock and the registry row's lock
		 * again, then journal the attempt.  A drop_database that committed in
		 * between took the logical database and its journal away: the
		 * attempt is reported, not journaled.
		 */
		ds_migration_lock_tag(&tag, m->database);
		(void) LockAcquire(&tag, ExclusiveLock, false, false);
		m->no_journal = ds_lock_registry_row(m->database) == NULL;
		ds_script_done(m, edata);
		edata = NULL;
	}
	if (edata != NULL)
	{
		/* refused before anything ran: reported, not journaled */
		m->status = run->dry_run ? "refused" : "failed";
		m->error = edata->message;
		m->edata = edata;
		m->checksum = m->script->checksum;
		if (!run->dry_run)
			ereport(WARNING,
					errcode(edata->sqlerrcode),
					errmsg("migration \"%s\" of logical database \"%s\" was not applied: %s",
						   m->version, m->database, edata->message),
					edata->detail ? errdetail("%s", edata->detail) : 0,
					edata->hint ? errhint("%s", edata->hint) : 0);
	}
	if (strcmp(m->status, "applied") == 0)
		run->applied++;
	if (strcmp(m->status, "failed") == 0 || strcmp(m->status, "refused") == 0)
	{
		MemoryContext old = MemoryContextSwitchTo(run->cxt);

		if (run->failures == 0)
		{
			run->first_code = code != 0 ? code : ERRCODE_INTERNAL_ERROR;
			run->first_database = pstrdup(m->database);
			run->first_error = pstrdup(m->error ? m->error : "");
		}
		if (run->failures < 10)
			appendStringInfo(&run->failed_names, "%s%s",
							 run->failures > 0 ? ", " : "", m->database);
		else if (run->failures == 10)
			appendStringInfoString(&run->failed_names, " ...");
		run->failures++;
		MemoryContextSwitchTo(old);
	}
}

/*
 * ds_fleet_raise
 *		raise_on_failure: after the loop, an ERROR when any logical database
 *		failed (or was refused in a dry run), with the first failure's
 *		SQLSTATE.  The whole call rolls back with it, journal rows included:
 *		what psql -v ON_ERROR_STOP=1 or a CI job sees is the failure.
 */
static void
ds_fleet_raise(DsFleetRun *run, const char *version)
{
	if (!run->raise_on_failure || run->failures == 0)
		return;
	ereport(ERROR,
			errcode(run->first_code),
			errmsg("migrate_all of \"%s\": %d of %d logical databases %s",
				   version, run->failures, run->ntargets,
				   run->dry_run ? "would be refused" : "failed"),
			errdetail("The first, \"%s\": %s.  Failed: %s.  Nothing of this call is kept (raise_on_failure).",
					  run->first_database, run->first_error,
					  run->failed_names.data));
}

/*
 * ds_fleet_options
 *		migrate_all's options (arguments 5 to 8) into run.
 */
static void
ds_fleet_options(FunctionCallInfo fcinfo, DsFleetRun *run)
{
	MemSet(run, 0, sizeof(*run));
	run->dry_run = ds_bool_arg(fcinfo, 5, "dry_run", true) == 1;
	if (!PG_ARGISNULL(6))
	{
		run->max_failures = PG_GETARG_INT32(6);
		if (run->max_failures < 1)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("max_failures must be at least 1 (or null for no limit)"));
	}
	run->raise_on_failure = ds_bool_arg(fcinfo, 7, "raise_on_failure", true) == 1;
	run->out_of_order = ds_bool_arg(fcinfo, 8, "out_of_order", true) == 1;
	run->cxt = CurrentMemoryContext;
	initStringInfo(&run->failed_names);
}

/*
 * migrate_all(version text, script text, databases text[], description
 *			   text, script_schema text, dry_run boolean, max_failures int,
 *			   raise_on_failure boolean, out_of_order boolean)
 *		returns setof migration_result
 *
 * Each logical database in its own subtransaction: whatever fails for one
 * (a refusal or the script) is reported in its row and the others go on,
 * until max_failures have failed (the rest are not_attempted).  A cancel or
 * statement_timeout ends the call.  The journal rows are collected and
 * written in one INSERT at the end; the registry row of each journaled
 * database stays locked until then (by the subtransaction that committed,
 * or locked again after a failed script).
 */
Datum
pgds_migrate_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext callercxt;
	MemoryContext percxt;
	char	   *version;
	DsScript   *script;
	char	   *description;
	const char *role;
	List	   *targets;
	ListCell   *lc;
	DsJournalBatch *batch;
	DsMigration shared;			/* what the batch's rows share */
	DsFleetRun	run;
	TimestampTz last_notice = 0;
	TimestampTz now;
	int			level;
	const char *lost;

	version = ds_text_arg(fcinfo, 0, "version", true);
	ds_check_version(version);
	script = ds_script_arg(ds_text_arg(fcinfo, 1, "script", true),
						   ds_text_arg(fcinfo, 4, "script_schema", false));
	description = ds_text_arg(fcinfo, 3, "description", false);
	role = ds_current_role();
	ds_fleet_options(fcinfo, &run);
	targets = ds_target_list(fcinfo, 2);
	run.ntargets = list_length(targets);
	ds_check_writable_xact();

	InitMaterializedSRF(fcinfo, 0);
	callercxt = CurrentMemoryContext;
	percxt = AllocSetContextCreate(callercxt, "pg_datasource migrate_all",
								   ALLOCSET_DEFAULT_SIZES);
	batch = ds_batch_create(callercxt);
	level = ds_spi_connect();
	foreach(lc, targets)
	{
		DsMigration m;
		HeapTuple	tup;
		MemoryContext spicxt;

		/* a cancel between two databases stops here */
		CHECK_FOR_INTERRUPTS();
		run.done++;
		spicxt = MemoryContextSwitchTo(percxt);
		MemSet(&m, 0, sizeof(m));
		m.database = (char *) lfirst(lc);
		m.version = version;
		m.description = description;
		m.script = script;
		m.role = role;
		m.inline_script = true;
		m.batch = batch;
		m.dry_run = run.dry_run;
		m.out_of_order = run.out_of_order;
		if (run.max_failures > 0 && run.failures >= run.max_failures)
		{
			/* nothing is tried any more: reported, not journaled */
			m.status = "not_attempted";
			m.checksum = script->checksum;
			m.error = psprintf("not attempted: max_failures (%d) reached",
							   run.max_failures);
		}
		else
			ds_fleet_one(&run, &m);

		/*
		 * A remote transaction of this one lost (this database's, or one
		 * that died since): nothing can commit any more.
		 */
		if ((lost = ds_lost_remote()) != NULL)
			ereport(ERROR,
					errcode(ERRCODE_CONNECTION_FAILURE),
					errmsg("migrate_all stopped: the remote transaction on datasource \"%s\" was lost",
						   lost),
					errdetail("Nothing of this call is kept: the %d logical databases migrated so far roll back with the transaction, and the %d after \"%s\" were not attempted.",
							  run.applied, run.ntargets - run.done, m.database),
					errhint("Run migrate_all again in a new transaction; the journal tells what was applied."));

		/*
		 * Progress: the first and the last database, every failure, and in
		 * between at most one NOTICE a second: each NOTICE is flushed to
		 * the client at once, and the rows say what became of every
		 * database.
		 */
		now = GetCurrentTimestamp();
		if (run.done == 1 || run.done == run.ntargets ||
			strcmp(m.status, "failed") == 0 ||
			TimestampDifferenceExceeds(last_notice, now, 1000))
		{
			ereport(NOTICE,
					errmsg("migrate_all %d/%d: %s %s", run.done, run.ntargets,
						   m.database, m.status));
			last_notice = now;
		}
		tup = ds_result_tuple(rsinfo->setDesc, m.database, version, m.status,
							  m.checksum, m.elapsed_ms, m.error, &m);
		tuplestore_puttuple(rsinfo->setResult, tup);
		MemoryContextSwitchTo(spicxt);
		MemoryContextReset(percxt);
	}
	ds_fleet_raise(&run, version);
	/* the batch's rows, if any, in one INSERT */
	MemSet(&shared, 0, sizeof(shared));
	shared.version = version;
	shared.description = description;
	shared.script = script;
	shared.role = role;
	ds_journal_flush(batch, &shared);
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	MemoryContextDelete(percxt);
	return (Datum) 0;
}
