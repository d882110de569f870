/*-------------------------------------------------------------------------
 *
 * waves.c
 *		  migrate_waves: migrate_all's loop over waves, each committed.
 *
 * A procedure that runs fleet.c's loop (ds_fleet_loop) over waves: the
 * canaries as wave 0, then wave_size targets at a time in name order, each
 * wave committed (a non-atomic SPI connection and SPI_commit) before the
 * next.  After a wave with a failure it stops.  One transaction over
 * thousands of tenants holds a lock on each of their tables at once and
 * loses everything on a cancel; waves bound both.  With parallel > 1,
 * background workers share each wave (fleetpar.c), each committing the
 * tenants it migrates; the counts and NOTICEs are the same.
 *
 * Memory: the run lives in a context made under the procedure call's (the
 * portal's), which its commits leave alone; the journal batch of each wave
 * lives in a context reset per wave, the per-database work in one reset
 * per database.
 *
 * IDENTIFICATION
 *		  src/waves.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "nodes/parsenodes.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_migrate_waves);

/* migrate_waves(version, script, databases, wave_size, canary, description,
 * script_schema, max_failures, out_of_order, manifest, parallel, per_source,
 * INOUT results) */
static const DsFleetArgs ds_migrate_waves_args = {0, 1, 2, 5, 6, -1, 7, -1, 8, 4, 9};

/*
 * ds_waves_stop_notice
 *		The NOTICE of migrate_waves stopping after wave, which had failures
 *		(failed of its count); rest targets are not attempted.
 */
static void
ds_waves_stop_notice(DsFleetRun *run, int failed, int count, int rest)
{
	ereport(NOTICE,
			errmsg("migrate_waves stopped after wave %d: %d of its %d logical databases failed%s",
				   run->wave, failed, count,
				   run->wave == 0 && run->ncanary > 0 ? " (the canaries)" : ""),
			errdetail("Wave %d is committed with its failures journaled; the %d logical databases after it were not attempted.  The first failure, \"%s\": %s",
					  run->wave, rest, run->first_database, run->first_error));
}

/*
 * ds_waves_result
 *		migrate_waves' INOUT parameters: waves (committed), applied,
 *		already_applied, failed, not_attempted.
 */
static Datum
ds_waves_result(FunctionCallInfo fcinfo, DsFleetRun *run)
{
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	desc = BlessTupleDesc(desc);
	values[0] = Int32GetDatum(run->committed);
	values[1] = Int32GetDatum(run->applied);
	values[2] = Int32GetDatum(run->already);
	values[3] = Int32GetDatum(run->failures);
	values[4] = Int32GetDatum(run->not_attempted);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * CALL migrate_waves(version text, script text, databases text[],
 *					  wave_size int, canary text[], description text,
 *					  script_schema text, max_failures int, out_of_order
 *					  boolean, manifest jsonb, parallel int, per_source
 *					  int, INOUT waves int, INOUT
 *					  applied int, INOUT already_applied int, INOUT failed
 *					  int, INOUT not_attempted int)
 *
 * migrate_all's loop over waves, each committed: the canaries as wave 0,
 * then wave_size targets at a time in name order.  A wave with a failure
 * is committed (its good tenants applied, its failures journaled) and is
 * the last: the targets after it are not attempted (counted, with a
 * NOTICE).  A cancel or an error ends the wave running (rolled back) and
 * the procedure; the waves before it stay committed.  Only in a
 * non-atomic context (a CALL outside a transaction block): 25001.  With
 * parallel > 1 each wave is shared by that many background workers, at
 * most per_source of them on one datasource at once (fleetpar.c).
 */
Datum
pgds_migrate_waves(PG_FUNCTION_ARGS)
{
	CallContext *call = (CallContext *) fcinfo->context;
	MemoryContext cxt;
	MemoryContext wavecxt;
	DsFleetRun	run;
	int			wave_size;
	int			parallel = 1;
	int			per_source = 0;
	int			from;

	if (call == NULL || !IsA(call, CallContext) || call->atomic)
		ereport(ERROR,
				errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				errmsg("migrate_waves cannot run inside a transaction block"),
				errdetail("It commits after each wave."),
				errhint("CALL it on its own, not between BEGIN and COMMIT nor from a function; migrate_all runs in one transaction."));
	if (PG_ARGISNULL(3) || PG_GETARG_INT32(3) < 1)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("wave_size must be at least 1"));
	wave_size = PG_GETARG_INT32(3);
	if (!PG_ARGISNULL(10))
		parallel = PG_GETARG_INT32(10);
	if (parallel < 1 || parallel > DS_FLEETPAR_MAX)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("parallel must be between 1 and %d", DS_FLEETPAR_MAX));
	if (!PG_ARGISNULL(11))
	{
		per_source = PG_GETARG_INT32(11);
		if (per_source < 1)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("per_source must be at least 1 (or null for no bound)"));
	}

	cxt = AllocSetContextCreate(CurrentMemoryContext,
								"pg_datasource migrate_waves",
								ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	ds_fleet_prepare(fcinfo, &ds_migrate_waves_args, &run, "migrate_waves",
					 true);
	ds_check_writable_xact();
	run.percxt = AllocSetContextCreate(cxt, "per database",
									   ALLOCSET_DEFAULT_SIZES);
	wavecxt = AllocSetContextCreate(cxt, "per wave", ALLOCSET_DEFAULT_SIZES);
	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed");
	/* one progress row from the first wave to the last (commits keep it) */
	ds_progress_start(run.version, run.ntargets);
	for (from = 0; from < run.ntargets;)
	{
		int			count;
		int			failures = run.failures;
		int			level;

		count = run.ncanary > 0 && from == 0 ? run.ncanary :
			Min(wave_size, run.ntargets - from);
		run.wave = run.ncanary > 0 ? run.committed : run.committed + 1;
		MemoryContextSwitchTo(wavecxt);
		run.batch = ds_batch_create(wavecxt);
		level = ds_spi_pin_path();

		/*
		 * A snapshot for the wave, as a statement has one: after a commit
		 * there is none, and the migrations' work (the schema snapshots,
		 * for one) runs in the active snapshot as in migrate_all.
		 */
		PushActiveSnapshot(GetTransactionSnapshot());
		if (parallel == 1 ||
			!ds_fleetpar_wave(&run, from, count, parallel, per_source))
			ds_fleet_loop(&run, from, count);
		ds_fleet_flush(&run);
		PopActiveSnapshot();
		AtEOXact_GUC(true, level);
		MemoryContextSwitchTo(cxt);
		MemoryContextReset(wavecxt);
		SPI_commit();
		run.committed++;
		run.applied_committed = run.applied;
		from += count;
		ereport(NOTICE,
				errmsg("migrate_waves: wave %d committed (%d of %d logical databases done)",
					   run.wave, from, run.ntargets));
		if (run.failures > failures && from < run.ntargets)
		{
			ds_waves_stop_notice(&run, run.failures - failures, count,
								 run.ntargets - from);
			run.not_attempted += run.ntargets - from;
			break;
		}
	}
	ds_progress_end();
	SPI_finish();
	return ds_waves_result(fcinfo, &run);
}
