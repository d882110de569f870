/*-------------------------------------------------------------------------
 *
 * fleet.c
 *		  migrate_all: one migration applied to many logical databases, and
 *		  the per-database loop migrate_waves shares.
 *
 * Each logical database is migrated (migrate.c's ds_migrate_database) in
 * its own subtransaction, so whatever fails for one (a refusal or its
 * script) is reported in its row and the others go on.  The journal rows
 * are collected and written in one INSERT per transaction (journal.c's
 * batch).  The call stops at the first remote transaction it finds lost
 * (checked after every logical database): the local transaction can then
 * only roll back, with every remote one, so the call raises 08006 rather
 * than report as applied work that cannot commit, and attempts none of
 * the rest.
 *
 * A cancel or statement_timeout (57014) caught in a logical database's
 * subtransaction is not that database's failure: it is raised again, so
 * the whole call ends, none after it is attempted and nothing of its
 * transaction is kept.  The options: dry_run judges each database as a
 * real run would before its script (would_apply, already_applied,
 * refused) and runs and journals nothing; max_failures reports the
 * databases after the n-th failure as not_attempted; raise_on_failure
 * ends a call that had a failure with an ERROR, so that a client's script
 * stops; out_of_order skips the order rule (order.c); canary names
 * targets that run first, and when one of them fails every other target
 * is not_attempted; manifest (pending()'s format) gives the order of the
 * series to the order rule instead of the versions' names.  While it
 * runs, progress.c shows how far it is to other sessions
 * (datasource.migration_progress).
 *
 * migrate_waves (waves.c) runs the same loop (ds_fleet_loop) over waves,
 * each committed; its parallel workers (fleetpar.c) run ds_fleet_database
 * on the targets they take, and the leader counts their results with
 * ds_fleet_tally, so that both count and journal alike.
 *
 * Memory: migrate_all's result rows and journal batch live in the calling
 * function's context (migrate_waves': waves.c).  The per-database
 * work runs in a context reset per database.
 *
 * IDENTIFICATION
 *		  src/fleet.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_migrate_all);


/* migrate_all(version, script, databases, description, script_schema,
 * dry_run, max_failures, raise_on_failure, out_of_order, canary, manifest) */
static const DsFleetArgs ds_migrate_all_args = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};


/* what migrate_all runs per database in a subtransaction */
static void
ds_migrate_database_call(void *arg)
{
	ds_migrate_database((DsMigration *) arg);
}

/* whether name is one of the strings of list */
static bool
ds_name_in(List *list, const char *name)
{
	ListCell   *lc;

	foreach(lc, list)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

/* list_sort comparison of names, byte by byte */
static int
ds_name_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp((char *) lfirst(a), (char *) lfirst(b));
}

/*
 * ds_name_array
 *		The names of a text[] argument (argument what): one-dimensional,
 *		no null, none twice; each must be a logical database, and not a
 *		MySQL one (0A000: nothing runs when one is named).
 */
static List *
ds_name_array(ArrayType *arr, const char *what)
{
	List	   *names = NIL;
	Datum	   *elems;
	bool	   *isnull;
	int			n;
	int			i;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("%s must be a one-dimensional array", what));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems,
					  &isnull, &n);
	for (i = 0; i < n; i++)
	{
		char	   *name;

		if (isnull[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("%s must not contain null", what));
		name = TextDatumGetCString(elems[i]);
		if (ds_name_in(names, name))
			ereport(ERROR,
					errcode(ERRCODE_DUPLICATE_OBJECT),
					errmsg("logical database \"%s\" is listed twice", name));
		if (ds_get_database(name, false)->local_schema != NULL)
			ds_mysql_refuse_migration(name);
		names = lappend(names, name);
	}
	return names;
}

/*
 * ds_target_list
 *		The logical databases a fleet call works on: the listed ones (each
 *		must exist, once) or every one that is not read-only, by name,
 *		MySQL ones skipped with a NOTICE.
 */
static List *
ds_target_list(FunctionCallInfo fcinfo, int argno)
{
	List	   *names = NIL;
	ListCell   *lc;

	if (!PG_ARGISNULL(argno))
		return ds_name_array(PG_GETARG_ARRAYTYPE_P(argno), "databases");
	foreach(lc, ds_list_databases())
	{
		DsDatabase *db = (DsDatabase *) lfirst(lc);
		DsSource   *src = ds_cache_source(db->source);

		if (db->read_only || src->read_only)
			continue;
		if (db->local_schema != NULL)
		{
			ereport(NOTICE,
					errmsg("skipping MySQL logical database \"%s\"", db->name),
					errdetail("Migrations cannot run on a MySQL server; run its DDL there, then datasource.refresh_database()."));
			continue;
		}
		names = lappend(names, db->name);
	}
	return names;
}

/*
 * ds_fleet_canary
 *		Puts the canaries (argument argno, if given) first in run's
 *		targets, in their order; each must be a target (22023).
 */
static void
ds_fleet_canary(DsFleetRun *run, FunctionCallInfo fcinfo, int argno)
{
	List	   *canary;
	List	   *rest = NIL;
	ListCell   *lc;

	if (PG_ARGISNULL(argno))
		return;
	canary = ds_name_array(PG_GETARG_ARRAYTYPE_P(argno), "canary");
	foreach(lc, canary)
		if (!ds_name_in(run->targets, (char *) lfirst(lc)))
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("canary \"%s\" is not a target of this %s",
						   (char *) lfirst(lc), run->what),
					errhint("A canary is one of the logical databases migrated: listed in databases, or writable when databases is null."));
	foreach(lc, run->targets)
		if (!ds_name_in(canary, (char *) lfirst(lc)))
			rest = lappend(rest, lfirst(lc));
	run->ncanary = list_length(canary);
	run->targets = list_concat(canary, rest);
}

/*
 * ds_fleet_manifest
 *		With a manifest (argument argno): the versions before run's version
 *		in it, for the order rule (order.c).  The version must be in the
 *		manifest, and its script the manifest's when the manifest gives a
 *		checksum or a script (22023): both are the same for every target,
 *		so they end the call before anything runs.
 */
static void
ds_fleet_manifest(DsFleetRun *run, FunctionCallInfo fcinfo, int argno)
{
	DsManifestEntry *entries;
	char	   *checksum = NULL;
	int			n;
	int			i;
	int			j;
	int			level;

	if (PG_ARGISNULL(argno))
		return;
	/* the entries are in SPI's memory: what is kept is copied */
	level = ds_spi_connect();
	entries = ds_read_manifest(PG_GETARG_JSONB_P(argno), &n);
	MemoryContextSwitchTo(run->cxt);
	for (i = 0; i < n; i++)
		if (strcmp(entries[i].version, run->version) == 0)
			break;
	run->nearlier = i;
	run->earlier = palloc(sizeof(char *) * Max(i, 1));
	for (j = 0; j < i; j++)
		run->earlier[j] = pstrdup(entries[j].version);
	if (i < n && entries[i].checksum != NULL)
		checksum = pstrdup(entries[i].checksum);
	ds_spi_finish(level);
	if (i == n)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("version \"%s\" is not in the manifest", run->version),
				errhint("With a manifest, the manifest is the series: add the version in its place, or call %s without a manifest.",
						run->what));
	if (checksum != NULL && strcmp(checksum, run->script->checksum) != 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("the script of version \"%s\" is not the manifest's", run->version),
				errdetail("The manifest has checksum %s; this script has %s.",
						  checksum, run->script->checksum));
	run->manifest = true;
}

/*
 * ds_fleet_prepare
 *		Reads a fleet call's arguments (at the places a says) into run, in
 *		the current memory context, which must outlive the call's work.
 *		sort: the targets other than the canaries in name order (waves).
 */
void
ds_fleet_prepare(FunctionCallInfo fcinfo, const DsFleetArgs *a,
				 DsFleetRun *run, const char *what, bool sort)
{
	MemSet(run, 0, sizeof(*run));
	run->what = what;
	run->cxt = CurrentMemoryContext;
	run->wave = -1;
	run->version = ds_text_arg(fcinfo, a->version, "version", true);
	ds_check_version(run->version);
	run->script = ds_script_arg(ds_text_arg(fcinfo, a->script, "script", true),
								ds_text_arg(fcinfo, a->script_schema,
											"script_schema", false));
	run->description = ds_text_arg(fcinfo, a->description, "description",
								   false);
	run->role = ds_current_role();
	run->dry_run = a->dry_run >= 0 &&
		ds_bool_arg(fcinfo, a->dry_run, "dry_run", true) == 1;
	if (!PG_ARGISNULL(a->max_failures))
	{
		run->max_failures = PG_GETARG_INT32(a->max_failures);
		if (run->max_failures < 1)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("max_failures must be at least 1 (or null for no limit)"));
	}
	run->raise_on_failure = a->raise_on_failure >= 0 &&
		ds_bool_arg(fcinfo, a->raise_on_failure, "raise_on_failure", true) == 1;
	run->out_of_order = ds_bool_arg(fcinfo, a->out_of_order, "out_of_order",
									true) == 1;
	run->targets = ds_target_list(fcinfo, a->databases);
	if (sort)
		list_sort(run->targets, ds_name_cmp);
	ds_fleet_canary(run, fcinfo, a->canary);
	run->ntargets = list_length(run->targets);
	ds_fleet_manifest(run, fcinfo, a->manifest);
	initStringInfo(&run->failed_names);
}

/*
 * ds_fleet_kept
 *		What a call that ends now keeps, for its messages.
 */
static char *
ds_fleet_kept(DsFleetRun *run)
{
	if (run->wave < 0)
		return pstrdup("nothing of this call is kept");
	return psprintf("nothing of wave %d is kept, the %d wave(s) before it stay committed",
					run->wave, run->committed);
}

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
				errdetail("%s stopped at logical database \"%s\" (%d of %d): %s, and the %d after it were not attempted.",
						  run->what, m->database, run->done, run->ntargets,
						  ds_fleet_kept(run), run->ntargets - run->done));
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
 *		context; the caller holds the SPI connection.  Counts the outcome
 *		in run (ds_fleet_tally); returns the SQLSTATE of a failure, or 0.
 */
static int
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
	ds_fleet_tally(run, m->database, m->status, code, m->error);
	return code;
}

/*
 * ds_fleet_tally
 *		Counts one logical database's outcome (status, and for a failure
 *		its SQLSTATE code and error) in run, whose done already counts it;
 *		remembers the first failure and a failed canary.  Called for the
 *		databases migrated in this backend (ds_fleet_one, ds_fleet_skip)
 *		and for those a worker of fleetpar.c migrated.
 */
void
ds_fleet_tally(DsFleetRun *run, const char *database, const char *status,
			   int code, const char *error)
{
	MemoryContext old;

	if (strcmp(status, "applied") == 0)
		run->applied++;
	else if (strcmp(status, "already_applied") == 0)
		run->already++;
	else if (strcmp(status, "not_attempted") == 0)
		run->not_attempted++;
	if (strcmp(status, "failed") != 0 && strcmp(status, "refused") != 0)
		return;
	old = MemoryContextSwitchTo(run->cxt);
	if (run->failures == 0)
	{
		run->first_code = code != 0 ? code : ERRCODE_INTERNAL_ERROR;
		run->first_database = pstrdup(database);
		run->first_error = pstrdup(error ? error : "");
	}
	if (run->done <= run->ncanary && run->canary_failed == NULL)
		run->canary_failed = pstrdup(database);
	if (run->failures < 10)
		appendStringInfo(&run->failed_names, "%s%s",
						 run->failures > 0 ? ", " : "", database);
	else if (run->failures == 10)
		appendStringInfoString(&run->failed_names, " ...");
	run->failures++;
	MemoryContextSwitchTo(old);
}

/*
 * ds_fleet_skip
 *		Reports m as not attempted, for the reason given: nothing is tried,
 *		nothing journaled.
 */
static void
ds_fleet_skip(DsFleetRun *run, DsMigration *m, char *reason)
{
	m->status = "not_attempted";
	m->checksum = m->script->checksum;
	m->error = reason;
	ds_fleet_tally(run, m->database, m->status, 0, reason);
}

/*
 * ds_fleet_notice
 *		The progress NOTICE of a fleet call after database (status): the
 *		first and the last database, every failure, and in between at most
 *		one a second: each NOTICE is flushed to the client at once, and the
 *		rows say what became of every database.
 */
void
ds_fleet_notice(DsFleetRun *run, const char *database, const char *status)
{
	TimestampTz now = GetCurrentTimestamp();

	if (run->done == 1 || run->done == run->ntargets ||
		strcmp(status, "failed") == 0 ||
		TimestampDifferenceExceeds(run->last_notice, now, 1000))
	{
		ereport(NOTICE,
				errmsg("%s %d/%d: %s %s", run->what, run->done, run->ntargets,
					   database, status));
		run->last_notice = now;
	}
}

/*
 * ds_fleet_database
 *		One target of the loop: migrated (ds_fleet_one) or, past
 *		max_failures or after a failed canary, not attempted; then the
 *		checks and the report (a NOTICE now and then, migrate_all's row;
 *		in a worker of fleetpar.c, run->report instead).  Runs in the
 *		per-database context, inside the SPI connection.
 */
void
ds_fleet_database(DsFleetRun *run, char *name)
{
	DsMigration m;
	const char *lost;
	int			code = 0;

	/* a cancel between two databases stops here */
	CHECK_FOR_INTERRUPTS();
	ds_progress_at(name, run->done, run->applied, run->failures);
	run->done++;
	MemSet(&m, 0, sizeof(m));
	m.database = name;
	m.version = run->version;
	m.description = run->description;
	m.script = run->script;
	m.role = run->role;
	m.inline_script = true;
	m.batch = run->batch;
	m.dry_run = run->dry_run;
	m.out_of_order = run->out_of_order;
	m.manifest = run->manifest;
	m.earlier = run->earlier;
	m.nearlier = run->nearlier;
	if (run->canary_failed != NULL && run->done > run->ncanary)
		ds_fleet_skip(run, &m, psprintf("not attempted: a canary failed (\"%s\")",
										run->canary_failed));
	else if (run->max_failures > 0 && run->failures >= run->max_failures)
		ds_fleet_skip(run, &m, psprintf("not attempted: max_failures (%d) reached",
										run->max_failures));
	else
		code = ds_fleet_one(run, &m);

	/*
	 * A remote transaction of this one lost (this database's, or one that
	 * died since): nothing can commit any more.
	 */
	if ((lost = ds_lost_remote()) != NULL)
		ereport(ERROR,
				errcode(ERRCODE_CONNECTION_FAILURE),
				errmsg("%s stopped: the remote transaction on datasource \"%s\" was lost",
					   run->what, lost),
				errdetail("The %d logical databases migrated in this transaction roll back with it (%s), and the %d after \"%s\" were not attempted.",
						  run->applied - run->applied_committed,
						  ds_fleet_kept(run),
						  run->ntargets - run->done, m.database),
				errhint("Run %s again in a new transaction; the journal tells what was applied.",
						run->what));

	if (run->report != NULL)
	{
		run->report(run, &m, code);
		return;
	}
	ds_fleet_notice(run, m.database, m.status);
	if (run->store != NULL)
		tuplestore_puttuple(run->store,
							ds_result_tuple(run->desc, m.database, run->version,
											m.status, m.checksum, m.elapsed_ms,
											m.error, &m));
}

/*
 * ds_fleet_loop
 *		The loop over run's targets from (0-based), count of them, each in
 *		the per-database context, reset after each.  The caller holds the
 *		SPI connection and has set run->batch.
 */
void
ds_fleet_loop(DsFleetRun *run, int from, int count)
{
	int			i;

	for (i = from; i < from + count; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(run->percxt);

		ds_fleet_database(run, (char *) list_nth(run->targets, i));
		MemoryContextSwitchTo(old);
		MemoryContextReset(run->percxt);
	}
}

/*
 * ds_fleet_flush
 *		Writes the rows of run's batch, if any, in one INSERT, in the
 *		transaction that did the work.  Inside the SPI connection.
 */
void
ds_fleet_flush(DsFleetRun *run)
{
	DsMigration shared;			/* what the batch's rows share */

	MemSet(&shared, 0, sizeof(shared));
	shared.version = run->version;
	shared.description = run->description;
	shared.script = run->script;
	shared.role = run->role;
	ds_journal_flush(run->batch, &shared);
}

/*
 * ds_fleet_raise
 *		raise_on_failure: after the loop, an ERROR when any logical database
 *		failed (or was refused in a dry run), with the first failure's
 *		SQLSTATE.  The whole call rolls back with it, journal rows included:
 *		what psql -v ON_ERROR_STOP=1 or a CI job sees is the failure.
 */
static void
ds_fleet_raise(DsFleetRun *run)
{
	if (!run->raise_on_failure || run->failures == 0)
		return;
	ereport(ERROR,
			errcode(run->first_code),
			errmsg("%s of \"%s\": %d of %d logical databases %s",
				   run->what, run->version, run->failures, run->ntargets,
				   run->dry_run ? "would be refused" : "failed"),
			errdetail("The first, \"%s\": %s.  Failed: %s.  Nothing of this call is kept (raise_on_failure).",
					  run->first_database, run->first_error,
					  run->failed_names.data));
}

/*
 * migrate_all(version text, script text, databases text[], description
 *			   text, script_schema text, dry_run boolean, max_failures int,
 *			   raise_on_failure boolean, out_of_order boolean, canary text[],
 *			   manifest jsonb)
 *		returns setof migration_result
 *
 * Each logical database in its own subtransaction: whatever fails for one
 * (a refusal or the script) is reported in its row and the others go on,
 * until max_failures have failed or a canary failed (the rest are
 * not_attempted).  A cancel or statement_timeout ends the call.  The
 * journal rows are collected and written in one INSERT at the end; the
 * registry row of each journaled database stays locked until then (by the
 * subtransaction that committed, or locked again after a failed script).
 */
Datum
pgds_migrate_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext callercxt;
	DsFleetRun	run;
	int			level;

	ds_fleet_prepare(fcinfo, &ds_migrate_all_args, &run, "migrate_all", false);
	ds_check_writable_xact();

	InitMaterializedSRF(fcinfo, 0);
	callercxt = CurrentMemoryContext;
	run.store = rsinfo->setResult;
	run.desc = rsinfo->setDesc;
	run.percxt = AllocSetContextCreate(callercxt, "pg_datasource migrate_all",
									   ALLOCSET_DEFAULT_SIZES);
	run.batch = ds_batch_create(callercxt);
	level = ds_spi_connect();
	ds_progress_start(run.version, run.ntargets);
	ds_fleet_loop(&run, 0, run.ntargets);
	ds_progress_at(NULL, run.done, run.applied, run.failures);
	ds_fleet_raise(&run);
	ds_fleet_flush(&run);
	ds_progress_end();
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	MemoryContextDelete(run.percxt);
	return (Datum) 0;
}
