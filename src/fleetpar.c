/*-------------------------------------------------------------------------
 *
 * fleetpar.c
 *		  migrate_waves' parallel waves: background workers that share the
 *		  logical databases of one wave, each committing its own share.
 *
 * migrate_all is one transaction and cannot be shared; migrate_waves
 * commits per wave, so with parallel > 1 the leader (the backend running
 * the CALL) puts a wave in a dynamic shared memory segment and starts that
 * many dynamic background workers (no shared_preload_libraries needed).
 * The segment holds what every worker needs to run the migration (the
 * version, the script and its script_schema, the description, the options,
 * the manifest's earlier versions), the wave's targets with the index of
 * their datasource, and the results.  Each worker connects to the leader's
 * database as the user that logged in to the leader's session and then acts
 * as the leader's current user, with its security context: it has exactly
 * the caller's privileges.  It runs with the leader's settings, those the
 * session SET included (SerializeGUCState, as parallel query does), so
 * that lock_timeout and pg_datasource's settings apply to the workers as
 * to the leader (statement_timeout is the CALL's: it cancels the leader,
 * which ends the workers).  It takes targets one by one from a
 * shared cursor (under the segment's spinlock), never more than
 * per_source workers on one datasource at once, and migrates each in a
 * transaction of its own: fleet.c's ds_fleet_database (the same code as
 * the leader's own loop: subtransaction, order rule, journal row), then
 * the commit, then the result into the segment.  One transaction per
 * target, not per share: two workers that write the same schema snapshot
 * (identical tenants) wait for each other's commit, and a worker that held
 * its transaction open while it waited for a datasource busy with the
 * other would wait forever.  The failures of all the workers count
 * together for max_failures.
 *
 * The leader waits on its latch (woken when a worker stops, and every
 * 100 ms to show the wave's progress in migration_progress), handling its
 * interrupts: a cancel or an error of the leader terminates its workers
 * and waits until they are gone (PG_ENSURE_ERROR_CLEANUP, which also
 * terminates them when the leader exits); their uncommitted work rolls
 * back.  Then it counts the results in the targets' order (ds_fleet_tally)
 * and runs itself the targets no worker took (when fewer workers could be
 * started than asked, or none: never a hang).  A worker that failed or
 * ended before it finished (an error outside a database's subtransaction,
 * e.g. a lost remote transaction, or a pg_terminate_backend) ends the
 * procedure with an ERROR: the target it was migrating rolled back, every
 * target done is committed, the journal says which.
 *
 * Memory: the leader's state lives in the wave's context (fleet.c), the
 * segment is detached before the wave commits.  A worker's run lives in a
 * context of its own for its life; each target's work in a context reset
 * after it, its journal row in the target's transaction.
 *
 * IDENTIFICATION
 *		  src/fleetpar.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "pg_datasource.h"

#define DS_PAR_ERROR_LEN	512
#define DS_PAR_STATUS_LEN	20

/* the state of a worker, in the segment */
#define DS_PAR_IDLE			0	/* registered, not started yet */
#define DS_PAR_RUNNING		1
#define DS_PAR_COMMITTED	2	/* no target left, each one committed */
#define DS_PAR_FAILED		3	/* ended by an error: error says which */

/* the state of a target */
#define DS_PAR_WAITING		0
#define DS_PAR_TAKEN		1
#define DS_PAR_DONE			2

typedef struct DsParTarget
{
	int			name;			/* offset of its name in the strings */
	int			source;			/* index of its datasource */
	int			state;
	int			worker;			/* who took it */
	int			code;			/* SQLSTATE of a failure */
	char		status[DS_PAR_STATUS_LEN];
	char		error[DS_PAR_ERROR_LEN];
} DsParTarget;

typedef struct DsParWorker
{
	int			state;
	int			taken;			/* targets it took */
	int			code;			/* the SQLSTATE of its error */
	char		error[DS_PAR_ERROR_LEN];
} DsParWorker;

/* the segment: this header, then the busy counts, targets and strings */
typedef struct DsParShared
{
	slock_t		mutex;
	/* who the workers are */
	Oid			dbid;
	Oid			authid;			/* the user that logged in */
	Oid			userid;			/* the user the caller acts as */
	int			sec_context;
	/* what they run (offsets in the strings, -1: NULL) */
	int			version;
	int			script;
	int			script_schema;
	int			description;
	int			earlier;		/* nearlier names one after the other */
	int			nearlier;
	bool		manifest;
	bool		out_of_order;
	int			max_failures;	/* 0: no limit */
	int			wave;
	/* the work, under the mutex */
	int			per_source;		/* 0: no bound */
	int			nsources;
	int			ntargets;
	int			first_waiting;	/* no target before it waits */
	int			failures;		/* before the wave and in it */
	int			done;			/* targets done in this wave */
	int			applied;		/* of them, applied */
	DsParWorker workers[DS_FLEETPAR_MAX];
	/* offsets from the header */
	Size		busy_off;		/* int[nsources]: workers on each */
	Size		targets_off;	/* DsParTarget[ntargets] */
	Size		strings_off;
	Size		guc_off;		/* the leader's settings (SerializeGUCState) */
	Size		guc_len;
} DsParShared;

#define DS_PAR_BUSY(sh) ((int *) ((char *) (sh) + (sh)->busy_off))
#define DS_PAR_TARGETS(sh) \
	((DsParTarget *) ((char *) (sh) + (sh)->targets_off))
#define DS_PAR_STR(sh, off) \
	((off) < 0 ? NULL : (char *) (sh) + (sh)->strings_off + (off))

/* the leader's view of a parallel wave */
typedef struct DsParWave
{
	dsm_segment *seg;
	DsParShared *sh;
	BackgroundWorkerHandle *handles[DS_FLEETPAR_MAX];
	int			nhandles;
} DsParWave;

/* a worker's report argument: the segment, the target it runs, its outcome */
typedef struct DsParCurrent
{
	DsParShared *sh;
	int			target;
	int			code;
	char		status[DS_PAR_STATUS_LEN];
	char		error[DS_PAR_ERROR_LEN];
} DsParCurrent;

/* appends s (NULL: nothing) to buf; its offset in buf, or -1 */
static int
ds_par_string(StringInfo buf, const char *s)
{
	int			off = buf->len;

	if (s == NULL)
		return -1;
	appendBinaryStringInfo(buf, s, strlen(s) + 1);
	return off;
}

/*
 * ds_par_setup
 *		Creates the segment of the wave of run's targets from, count of
 *		them, for nworkers workers, per_source (0: none) of them at most on
 *		one datasource.  In the wave's memory context.
 */
static DsParShared *
ds_par_setup(DsParWave *pw, DsFleetRun *run, int from, int count,
			 int per_source)
{
	StringInfoData str;
	List	   *sources = NIL;
	int		   *names = palloc(sizeof(int) * count);
	int		   *srcidx = palloc(sizeof(int) * count);
	int			version,
				script,
				schema,
				description,
				earlier = -1;
	DsParShared *sh;
	DsParTarget *t;
	Size		size;
	Size		guc_len;
	int			i;

	initStringInfo(&str);
	version = ds_par_string(&str, run->version);
	script = ds_par_string(&str, run->script->text);
	schema = ds_par_string(&str, run->script->script_schema);
	description = ds_par_string(&str, run->description);
	for (i = 0; i < run->nearlier; i++)
	{
		int			off = ds_par_string(&str, run->earlier[i]);

		if (i == 0)
			earlier = off;
	}
	for (i = 0; i < count; i++)
	{
		char	   *name = (char *) list_nth(run->targets, from + i);
		char	   *source = ds_get_database(name, false)->source;
		ListCell   *lc;
		int			j = 0;

		names[i] = ds_par_string(&str, name);
		foreach(lc, sources)
		{
			if (strcmp((char *) lfirst(lc), source) == 0)
				break;
			j++;
		}
		if (lc == NULL)
			sources = lappend(sources, pstrdup(source));
		srcidx[i] = j;
	}

	size = MAXALIGN(sizeof(DsParShared));
	size = add_size(size, MAXALIGN(mul_size(sizeof(int), list_length(sources))));
	size = add_size(size, MAXALIGN(mul_size(sizeof(DsParTarget), count)));
	size = add_size(size, MAXALIGN(str.len));
	guc_len = EstimateGUCStateSpace();
	size = add_size(size, guc_len);
	pw->seg = dsm_create(size, 0);
	sh = pw->sh = dsm_segment_address(pw->seg);
	MemSet(sh, 0, size);
	SpinLockInit(&sh->mutex);
	sh->dbid = MyDatabaseId;
	sh->authid = GetAuthenticatedUserId();
	GetUserIdAndSecContext(&sh->userid, &sh->sec_context);
	sh->version = version;
	sh->script = script;
	sh->script_schema = schema;
	sh->description = description;
	sh->earlier = earlier;
	sh->nearlier = run->nearlier;
	sh->manifest = run->manifest;
	sh->out_of_order = run->out_of_order;
	sh->max_failures = run->max_failures;
	sh->wave = run->wave;
	sh->per_source = per_source;
	sh->nsources = list_length(sources);
	sh->ntargets = count;
	sh->failures = run->failures;
	sh->busy_off = MAXALIGN(sizeof(DsParShared));
	sh->targets_off = sh->busy_off +
		MAXALIGN(sizeof(int) * list_length(sources));
	sh->strings_off = sh->targets_off + MAXALIGN(sizeof(DsParTarget) * count);
	sh->guc_off = sh->strings_off + MAXALIGN(str.len);
	sh->guc_len = guc_len;
	memcpy((char *) sh + sh->strings_off, str.data, str.len);
	SerializeGUCState(guc_len, (char *) sh + sh->guc_off);
	t = DS_PAR_TARGETS(sh);
	for (i = 0; i < count; i++)
	{
		t[i].name = names[i];
		t[i].source = srcidx[i];
		t[i].worker = -1;
	}
	return sh;
}

/*
 * ds_par_start
 *		Registers up to nworkers workers on pw's segment; how many were.
 *		A failure to register (max_worker_processes reached) is not an
 *		error: the wave runs with fewer.
 */
static int
ds_par_start(DsParWave *pw, int nworkers)
{
	BackgroundWorker w;
	int			i;

	for (i = 0; i < nworkers; i++)
	{
		MemSet(&w, 0, sizeof(w));
		w.bgw_flags = BGWORKER_SHMEM_ACCESS |
			BGWORKER_BACKEND_DATABASE_CONNECTION;
		w.bgw_start_time = BgWorkerStart_ConsistentState;
		w.bgw_restart_time = BGW_NEVER_RESTART;
		strlcpy(w.bgw_library_name, "pg_datasource", BGW_MAXLEN);
		strlcpy(w.bgw_function_name, "ds_fleetpar_main", BGW_MAXLEN);
		snprintf(w.bgw_name, BGW_MAXLEN,
				 "pg_datasource migrate_waves worker %d of pid %d", i + 1,
				 MyProcPid);
		strlcpy(w.bgw_type, "pg_datasource migrate_waves", BGW_MAXLEN);
		w.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(pw->seg));
		memcpy(w.bgw_extra, &i, sizeof(int));
		w.bgw_notify_pid = MyProcPid;
		if (!RegisterDynamicBackgroundWorker(&w, &pw->handles[i]))
			break;
		pw->nhandles++;
	}
	return pw->nhandles;
}

/*
 * ds_par_stop
 *		The cleanup of an error or of the exit of the leader while its
 *		workers run: terminates them and, on an error, waits until they are
 *		gone (their transactions rolled back), interrupts held: a second
 *		cancel must not leave them behind.  At exit the postmaster's
 *		SIGTERM is enough.
 */
static void
ds_par_stop(int code, Datum arg)
{
	DsParWave  *pw = (DsParWave *) DatumGetPointer(arg);
	int			i;

	for (i = 0; i < pw->nhandles; i++)
		TerminateBackgroundWorker(pw->handles[i]);
	if (proc_exit_inprogress)
		return;
	HOLD_INTERRUPTS();
	for (i = 0; i < pw->nhandles; i++)
		(void) WaitForBackgroundWorkerShutdown(pw->handles[i]);
	RESUME_INTERRUPTS();
}

/*
 * ds_par_wait
 *		Waits until every worker of pw has stopped, showing the wave's
 *		progress in run's migration_progress row; a cancel raises here.
 */
static void
ds_par_wait(DsParWave *pw, DsFleetRun *run)
{
	for (;;)
	{
		bool		running = false;
		int			done;
		int			applied;
		int			failures;
		int			i;
		pid_t		pid;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < pw->nhandles; i++)
			if (GetBackgroundWorkerPid(pw->handles[i], &pid) != BGWH_STOPPED)
				running = true;
		SpinLockAcquire(&pw->sh->mutex);
		done = pw->sh->done;
		applied = pw->sh->applied;
		failures = pw->sh->failures;
		SpinLockRelease(&pw->sh->mutex);
		ds_progress_at(NULL, run->done + done, run->applied + applied,
					   failures);
		if (!running)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT |
						 WL_EXIT_ON_PM_DEATH, 100, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*
 * ds_par_check
 *		After the wave: a worker that failed or stopped before it finished
 *		ends the procedure.  The target it was migrating rolled back (taken,
 *		never done); the targets done, its own before included, are
 *		committed.
 */
static void
ds_par_check(DsParWave *pw, DsFleetRun *run)
{
	DsParShared *sh = pw->sh;
	DsParTarget *t = DS_PAR_TARGETS(sh);
	StringInfoData lost;
	int			i;
	int			j;

	for (i = 0; i < pw->nhandles; i++)
	{
		DsParWorker *w = &sh->workers[i];

		if (w->state == DS_PAR_COMMITTED ||
			(w->state == DS_PAR_IDLE && w->taken == 0))
			continue;
		initStringInfo(&lost);
		for (j = 0; j < sh->ntargets; j++)
			if (t[j].state == DS_PAR_TAKEN)
				appendStringInfo(&lost, "%s\"%s\"", lost.len ? ", " : "",
								 DS_PAR_STR(sh, t[j].name));
		ereport(ERROR,
				errcode(w->state == DS_PAR_FAILED ? w->code :
						ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("migrate_waves stopped: worker %d of wave %d %s",
					   i + 1, run->wave,
					   w->state == DS_PAR_FAILED ? w->error :
					   "ended before it finished"),
				errdetail("What it was migrating rolled back (%s); the %d logical databases of wave %d done before are committed, the %d wave(s) before it too, and the rest was not attempted.",
						  lost.len ? lost.data : "nothing", sh->done,
						  run->wave, run->committed),
				errhint("The journal says what was applied; CALL migrate_waves again to go on."));
	}
}

/*
 * ds_par_collect
 *		Counts the workers' results in run in the targets' order, then runs
 *		in this backend the targets no worker took.  In the wave's
 *		transaction, inside the SPI connection.
 */
static void
ds_par_collect(DsParWave *pw, DsFleetRun *run)
{
	DsParShared *sh = pw->sh;
	DsParTarget *t = DS_PAR_TARGETS(sh);
	List	   *left = NIL;
	ListCell   *lc;
	int			i;

	for (i = 0; i < sh->ntargets; i++)
	{
		char	   *name = DS_PAR_STR(sh, t[i].name);

		if (t[i].state != DS_PAR_DONE)
		{
			left = lappend(left, pstrdup(name));
			continue;
		}
		run->done++;
		ds_fleet_tally(run, name, t[i].status, t[i].code,
					   t[i].error[0] ? t[i].error : NULL);
		ds_fleet_notice(run, name, t[i].status);
	}
	if (left != NIL)
		ereport(NOTICE,
				errmsg("migrate_waves: %d logical databases of wave %d were taken by no worker, this backend migrates them",
					   list_length(left), run->wave));
	foreach(lc, left)
	{
		MemoryContext old = MemoryContextSwitchTo(run->percxt);

		ds_fleet_database(run, (char *) lfirst(lc));
		MemoryContextSwitchTo(old);
		MemoryContextReset(run->percxt);
	}
}

/*
 * ds_fleetpar_wave
 *		Runs the wave of run's targets from, count of them, in up to
 *		parallel background workers, per_source (0: no bound) at most on
 *		one datasource at once, and counts their results in run.  Returns
 *		false, having done nothing, when one worker is enough (a wave of
 *		one) or none could be started (with a NOTICE): the caller runs the
 *		wave itself.  The caller holds the SPI connection, the wave's
 *		snapshot and memory context, and commits the wave after.
 */
bool
ds_fleetpar_wave(DsFleetRun *run, int from, int count, int parallel,
				 int per_source)
{
	DsParWave	pw;
	int			nworkers = Min(parallel, count);

	if (nworkers < 2)
		return false;
	MemSet(&pw, 0, sizeof(pw));
	(void) ds_par_setup(&pw, run, from, count, per_source);
	if (ds_par_start(&pw, nworkers) < nworkers)
		ereport(NOTICE,
				errmsg("migrate_waves: only %d of %d background workers could be started for wave %d",
					   pw.nhandles, nworkers, run->wave),
				errhint("max_worker_processes bounds the background workers of the server."));
	if (pw.nhandles == 0)
	{
		dsm_detach(pw.seg);
		ereport(NOTICE,
				errmsg("migrate_waves: wave %d runs in this backend", run->wave));
		return false;
	}
	PG_ENSURE_ERROR_CLEANUP(ds_par_stop, PointerGetDatum(&pw));
	{
		ds_par_wait(&pw, run);
	}
	PG_END_ENSURE_ERROR_CLEANUP(ds_par_stop, PointerGetDatum(&pw));
	ds_par_check(&pw, run);
	ds_par_collect(&pw, run);
	dsm_detach(pw.seg);
	return true;
}

/*
 * ds_par_next
 *		The next target worker me takes (marked taken, its datasource busy),
 *		-1 when none is left, -2 when those left are on busy datasources;
 *		*failures: the failures so far, for max_failures.
 */
static int
ds_par_next(DsParShared *sh, int me, int *failures)
{
	DsParTarget *t = DS_PAR_TARGETS(sh);
	int		   *busy = DS_PAR_BUSY(sh);
	int			found = -1;
	int			i;

	SpinLockAcquire(&sh->mutex);
	while (sh->first_waiting < sh->ntargets &&
		   t[sh->first_waiting].state != DS_PAR_WAITING)
		sh->first_waiting++;
	for (i = sh->first_waiting; i < sh->ntargets; i++)
	{
		if (t[i].state != DS_PAR_WAITING)
			continue;
		if (sh->per_source > 0 && busy[t[i].source] >= sh->per_source)
		{
			found = -2;
			continue;
		}
		t[i].state = DS_PAR_TAKEN;
		t[i].worker = me;
		busy[t[i].source]++;
		sh->workers[me].taken++;
		found = i;
		break;
	}
	*failures = sh->failures;
	SpinLockRelease(&sh->mutex);
	return found;
}

/*
 * ds_par_report
 *		run->report of a worker: keeps the outcome of m (code: the SQLSTATE
 *		of a failure) until its transaction has committed (ds_par_done).
 */
static void
ds_par_report(DsFleetRun *run, DsMigration *m, int code)
{
	DsParCurrent *cur = (DsParCurrent *) run->report_arg;

	strlcpy(cur->status, m->status, DS_PAR_STATUS_LEN);
	strlcpy(cur->error, m->error ? m->error : "", DS_PAR_ERROR_LEN);
	cur->code = code;
}

/*
 * ds_par_done
 *		Writes the outcome of cur's target, committed, into the segment and
 *		frees its datasource for the other workers.
 */
static void
ds_par_done(DsParCurrent *cur)
{
	DsParShared *sh = cur->sh;
	DsParTarget *t = &DS_PAR_TARGETS(sh)[cur->target];

	SpinLockAcquire(&sh->mutex);
	strlcpy(t->status, cur->status, DS_PAR_STATUS_LEN);
	strlcpy(t->error, cur->error, DS_PAR_ERROR_LEN);
	t->code = cur->code;
	t->state = DS_PAR_DONE;
	DS_PAR_BUSY(sh)[t->source]--;
	sh->done++;
	if (strcmp(cur->status, "failed") == 0)
		sh->failures++;
	if (strcmp(cur->status, "applied") == 0)
		sh->applied++;
	SpinLockRelease(&sh->mutex);
}

/*
 * ds_par_run
 *		Fills a worker's run from the segment, as ds_fleet_prepare does the
 *		leader's, in cxt, which lives as long as the worker.  In a
 *		transaction.
 */
static void
ds_par_run(DsFleetRun *run, DsParShared *sh, DsParCurrent *cur,
		   MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	char	   *e = DS_PAR_STR(sh, sh->earlier);
	int			i;

	MemSet(run, 0, sizeof(*run));
	run->what = "migrate_waves";
	run->cxt = cxt;
	run->version = pstrdup(DS_PAR_STR(sh, sh->version));
	run->script = ds_script_arg(pstrdup(DS_PAR_STR(sh, sh->script)),
								sh->script_schema < 0 ? NULL :
								pstrdup(DS_PAR_STR(sh, sh->script_schema)));
	run->description = sh->description < 0 ? NULL :
		pstrdup(DS_PAR_STR(sh, sh->description));
	run->role = ds_current_role();
	run->manifest = sh->manifest;
	run->nearlier = sh->nearlier;
	run->earlier = palloc(sizeof(char *) * Max(sh->nearlier, 1));
	for (i = 0; i < sh->nearlier; i++)
	{
		run->earlier[i] = pstrdup(e);
		e += strlen(e) + 1;
	}
	run->out_of_order = sh->out_of_order;
	run->max_failures = sh->max_failures;
	run->wave = sh->wave;
	run->ntargets = sh->ntargets;
	initStringInfo(&run->failed_names);
	run->percxt = AllocSetContextCreate(cxt, "per database",
										ALLOCSET_DEFAULT_SIZES);
	run->report = ds_par_report;
	run->report_arg = cur;
	MemoryContextSwitchTo(old);
}

/*
 * ds_par_one
 *		Migrates cur's target in a transaction of its own, with its journal
 *		row, and commits; then reports it (ds_par_done).  The first call
 *		fills run (ds_par_run).  A transaction per target: a worker never
 *		waits for a datasource or another worker with uncommitted work (two
 *		workers inserting the same schema snapshot wait for each other's
 *		commit), and per_source bounds the open remote transactions too.
 */
static void
ds_par_one(DsFleetRun *run, DsParCurrent *cur, MemoryContext cxt,
		   int failures)
{
	MemoryContext old;
	int			level;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = ds_spi_pin_path();
	if (run->version == NULL)
		ds_par_run(run, cur->sh, cur, cxt);
	run->failures = failures;
	run->batch = ds_batch_create(TopTransactionContext);
	old = MemoryContextSwitchTo(run->percxt);
	ds_fleet_database(run,
					  DS_PAR_STR(cur->sh, DS_PAR_TARGETS(cur->sh)[cur->target].name));
	MemoryContextSwitchTo(old);
	MemoryContextReset(run->percxt);
	ds_fleet_flush(run);
	AtEOXact_GUC(true, level);
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	ds_par_done(cur);
}

/*
 * ds_par_share
 *		A worker's share of the wave: the targets it takes, one by one,
 *		each committed on its own, until none is left.
 */
static void
ds_par_share(DsParShared *sh, int me)
{
	DsFleetRun	run;
	DsParCurrent cur;
	MemoryContext cxt;
	int			failures;

	cxt = AllocSetContextCreate(TopMemoryContext, "pg_datasource worker",
								ALLOCSET_DEFAULT_SIZES);
	MemSet(&run, 0, sizeof(run));
	MemSet(&cur, 0, sizeof(cur));
	cur.sh = sh;
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		cur.target = ds_par_next(sh, me, &failures);
		if (cur.target == -1)
			break;
		if (cur.target == -2)
		{
			/* every target left is on a datasource that has enough */
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT |
							 WL_EXIT_ON_PM_DEATH, 10, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			continue;
		}
		ds_par_one(&run, &cur, cxt, failures);
	}
}

/*
 * ds_fleetpar_main
 *		The entry point of a worker (bgw_main_arg: the segment's handle,
 *		bgw_extra: its index).  An error is written into its slot of the
 *		segment for the leader, then ends the worker.
 */
void
ds_fleetpar_main(Datum arg)
{
	dsm_segment *seg;
	DsParShared *sh;
	int			me;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	memcpy(&me, MyBgworkerEntry->bgw_extra, sizeof(int));
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "pg_datasource worker");
	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		proc_exit(0);			/* the leader is gone already */
	sh = dsm_segment_address(seg);
	BackgroundWorkerInitializeConnectionByOid(sh->dbid, sh->authid, 0);
	/* the leader's settings (those it SET too), then its current user */
	StartTransactionCommand();
	RestoreGUCState((char *) sh + sh->guc_off);
	CommitTransactionCommand();
	SetUserIdAndSecContext(sh->userid, sh->sec_context);
	SpinLockAcquire(&sh->mutex);
	sh->workers[me].state = DS_PAR_RUNNING;
	SpinLockRelease(&sh->mutex);
	PG_TRY();
	{
		ds_par_share(sh, me);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		SpinLockAcquire(&sh->mutex);
		sh->workers[me].state = DS_PAR_FAILED;
		sh->workers[me].code = edata->sqlerrcode;
		strlcpy(sh->workers[me].error, edata->message, DS_PAR_ERROR_LEN);
		SpinLockRelease(&sh->mutex);
		PG_RE_THROW();
	}
	PG_END_TRY();
	SpinLockAcquire(&sh->mutex);
	sh->workers[me].state = DS_PAR_COMMITTED;
	SpinLockRelease(&sh->mutex);
	dsm_detach(seg);
}
