/*-------------------------------------------------------------------------
 *
 * progress.c
 *		  The progress of running migrate_all calls, in shared memory, for
 *		  datasource.migration_progress.
 *
 * When the library is in shared_preload_libraries, it asks for one slot
 * per backend (MaxBackends of them, indexed by the PGPROC number, which is
 * below MaxBackends for every backend and background worker) in the
 * shmem_request_hook and sets them up in the shmem_startup_hook.  A slot
 * says what one backend's migrate_all is doing: who runs it where, the
 * version, how many logical databases it has and has done, applied and
 * failed, and the one it is at.  Only its own backend writes a slot; any
 * backend reads them all.  Each slot has its own spinlock, held only to
 * copy a few dozen bytes in or out.
 *
 * A slot is cleared when migrate_all returns (ds_progress_end), when the
 * transaction or the subtransaction it ran in aborts (a cancel, an error,
 * raise_on_failure: the xact and subxact callbacks), and when the backend
 * exits (pg_terminate_backend: a before_shmem_exit callback), so a call
 * that was stopped leaves no row behind.  A commit leaves it: a procedure
 * that commits as it goes keeps one slot from start to end.  A reader also
 * skips a slot whose pid is no longer a backend, in case a backend died
 * without its callbacks.
 *
 * Without shared_preload_libraries nothing is allocated: the calls from
 * fleet.c do nothing and cost nothing, and reading the progress raises
 * 55000 with a hint, so that an empty result never pretends that nothing
 * runs.
 *
 * Memory: the slots are in shared memory; the rows of migration_progress
 * are built in the caller's (the set-returning function's) context.
 *
 * IDENTIFICATION
 *		  src/progress.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_migration_progress);

/* the columns of migration_progress_rows() */
#define DS_PROGRESS_COLS		10

/* how much of a version the slot keeps (longer ones are truncated) */
#define DS_PROGRESS_VERSION_LEN	64

/* what one backend's migrate_all is doing; pid 0: nothing */
typedef struct DsProgressSlot
{
	slock_t		mutex;			/* protects the fields below */
	int			pid;
	Oid			dbid;			/* the control plane database */
	Oid			roleid;			/* the role the migration runs as */
	TimestampTz started_at;
	int			total;
	int			done;			/* logical databases finished */
	int			applied;
	int			failed;
	char		version[DS_PROGRESS_VERSION_LEN];
	char		current[NAMEDATALEN];	/* the logical database it is at */
} DsProgressSlot;

/* the shared memory of progress.c */
typedef struct DsProgressShared
{
	int			nslots;
	DsProgressSlot slots[FLEXIBLE_ARRAY_MEMBER];
} DsProgressShared;

static DsProgressShared *ds_progress = NULL;
static shmem_request_hook_type ds_prev_shmem_request = NULL;
static shmem_startup_hook_type ds_prev_shmem_startup = NULL;

/* this backend's slot while its migrate_all runs, else NULL */
static DsProgressSlot *ds_my_slot = NULL;
/* the subtransaction migrate_all was called in */
static SubTransactionId ds_my_subid = InvalidSubTransactionId;
static bool ds_exit_registered = false;

/* the size of the shared memory for n slots */
static Size
ds_progress_size(int n)
{
	return add_size(offsetof(DsProgressShared, slots),
					mul_size(n, sizeof(DsProgressSlot)));
}

/*
 * ds_progress_shmem_request
 *		shmem_request_hook: asks for the slots (MaxBackends is known here on
 *		PostgreSQL 15).
 */
static void
ds_progress_shmem_request(void)
{
	if (ds_prev_shmem_request)
		ds_prev_shmem_request();
	RequestAddinShmemSpace(ds_progress_size(MaxBackends));
}

/*
 * ds_progress_shmem_startup
 *		shmem_startup_hook: finds or creates the slots, all empty.
 */
static void
ds_progress_shmem_startup(void)
{
	bool		found;
	int			i;

	if (ds_prev_shmem_startup)
		ds_prev_shmem_startup();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ds_progress = ShmemInitStruct("pg_datasource migration progress",
								  ds_progress_size(MaxBackends), &found);
	if (!found)
	{
		ds_progress->nslots = MaxBackends;
		for (i = 0; i < MaxBackends; i++)
		{
			DsProgressSlot *slot = &ds_progress->slots[i];

			memset(slot, 0, sizeof(*slot));
			SpinLockInit(&slot->mutex);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * ds_progress_clear
 *		Empties this backend's slot, if its migrate_all had one.
 */
static void
ds_progress_clear(void)
{
	DsProgressSlot *slot = ds_my_slot;

	if (slot == NULL)
		return;
	ds_my_slot = NULL;
	ds_my_subid = InvalidSubTransactionId;
	SpinLockAcquire(&slot->mutex);
	slot->pid = 0;
	SpinLockRelease(&slot->mutex);
}

/*
 * The transaction aborted: the call is over.  A commit does not end it: a
 * procedure that commits between logical databases (SPI_commit) keeps its
 * slot until it calls ds_progress_end, and migrate_all, which cannot
 * commit, always calls it before it returns.
 */
static void
ds_progress_xact_callback(XactEvent event, void *arg)
{
	if (ds_my_slot != NULL &&
		(event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT))
		ds_progress_clear();
}

/*
 * The subtransaction migrate_all was called in aborted (a savepoint, a
 * PL/pgSQL exception block): the call is over.  Its own per-database
 * subtransactions are younger and do not match.
 */
static void
ds_progress_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
							 SubTransactionId parentSubid, void *arg)
{
	if (ds_my_slot != NULL && event == SUBXACT_EVENT_ABORT_SUB &&
		mySubid == ds_my_subid)
		ds_progress_clear();
}

/* the backend exits (pg_terminate_backend among others) */
static void
ds_progress_exit(int code, Datum arg)
{
	ds_progress_clear();
}

/*
 * ds_progress_init
 *		Called from _PG_init: in the postmaster loading
 *		shared_preload_libraries, installs the shared memory hooks; in every
 *		backend, the transaction callbacks (which do nothing while no slot
 *		is in use).
 */
void
ds_progress_init(void)
{
	if (process_shared_preload_libraries_in_progress)
	{
		ds_prev_shmem_request = shmem_request_hook;
		shmem_request_hook = ds_progress_shmem_request;
		ds_prev_shmem_startup = shmem_startup_hook;
		shmem_startup_hook = ds_progress_shmem_startup;
	}
	RegisterXactCallback(ds_progress_xact_callback, NULL);
	RegisterSubXactCallback(ds_progress_subxact_callback, NULL);
}

/*
 * ds_progress_start
 *		migrate_all of version over total logical databases begins: fills
 *		this backend's slot.  Does nothing without the shared memory.  The
 *		caller is in a transaction and calls ds_progress_end when it returns
 *		(an abort or the backend's exit clear the slot by themselves).
 */
void
ds_progress_start(const char *version, int total)
{
	DsProgressSlot *slot;
	int			len;

	if (ds_progress == NULL || MyProc == NULL ||
		MyProc->pgprocno < 0 || MyProc->pgprocno >= ds_progress->nslots)
		return;
	if (!ds_exit_registered)
	{
		before_shmem_exit(ds_progress_exit, (Datum) 0);
		ds_exit_registered = true;
	}
	slot = &ds_progress->slots[MyProc->pgprocno];
	len = pg_mbcliplen(version, strlen(version), DS_PROGRESS_VERSION_LEN - 1);

	SpinLockAcquire(&slot->mutex);
	slot->pid = MyProcPid;
	slot->dbid = MyDatabaseId;
	slot->roleid = GetUserId();
	slot->started_at = GetCurrentTimestamp();
	slot->total = total;
	slot->done = 0;
	slot->applied = 0;
	slot->failed = 0;
	memcpy(slot->version, version, len);
	slot->version[len] = '\0';
	slot->current[0] = '\0';
	SpinLockRelease(&slot->mutex);

	ds_my_slot = slot;
	ds_my_subid = GetCurrentSubTransactionId();
}

/*
 * ds_progress_at
 *		migrate_all is at logical database current (NULL: none, e.g. while
 *		it writes the journal), having finished done of them, applied and
 *		failed so far.  current is a logical database name (names.c: ASCII,
 *		below NAMEDATALEN bytes).  Does nothing when no call has a slot.
 */
void
ds_progress_at(const char *current, int done, int applied, int failed)
{
	DsProgressSlot *slot = ds_my_slot;

	if (slot == NULL)
		return;
	SpinLockAcquire(&slot->mutex);
	slot->done = done;
	slot->applied = applied;
	slot->failed = failed;
	strlcpy(slot->current, current ? current : "", NAMEDATALEN);
	SpinLockRelease(&slot->mutex);
}

/*
 * ds_progress_end
 *		migrate_all returns: its slot is emptied.
 */
void
ds_progress_end(void)
{
	ds_progress_clear();
}

/*
 * ds_progress_row
 *		The values of one slot's row (a copy, taken under its spinlock);
 *		version and current_database only for members of pg_read_all_stats
 *		or of the role that runs it.  values and nulls have
 *		DS_PROGRESS_COLS entries; runs in a transaction (it reads catalogs).
 */
static void
ds_progress_row(const DsProgressSlot *s, Datum *values, bool *nulls)
{
	char	   *datname = get_database_name(s->dbid);
	char	   *role = GetUserNameFromId(s->roleid, true);
	bool		visible;

	visible = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS) ||
		has_privs_of_role(GetUserId(), s->roleid);
	memset(nulls, 0, sizeof(bool) * DS_PROGRESS_COLS);
	values[0] = Int32GetDatum(s->pid);
	values[1] = datname ? CStringGetTextDatum(datname) : (Datum) 0;
	nulls[1] = datname == NULL;
	values[2] = role ? CStringGetTextDatum(role) : (Datum) 0;
	nulls[2] = role == NULL;
	values[3] = CStringGetTextDatum(s->version);
	nulls[3] = !visible;
	values[4] = TimestampTzGetDatum(s->started_at);
	values[5] = Int32GetDatum(s->total);
	values[6] = Int32GetDatum(s->done);
	values[7] = Int32GetDatum(s->applied);
	values[8] = Int32GetDatum(s->failed);
	values[9] = CStringGetTextDatum(s->current);
	nulls[9] = !visible || s->current[0] == '\0';
}

/*
 * migration_progress_rows() returns setof (pid, datname, role, version,
 *		started_at, total, done, applied, failed, current_database)
 *
 * One row per running migrate_all of the cluster (the view
 * datasource.migration_progress adds elapsed).  Raises 55000 when the
 * library was not preloaded: there is nothing to read then.
 */
Datum
pgds_migration_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	if (ds_progress == NULL)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("the progress of migrations is not available"),
				errdetail("pg_datasource was not loaded by shared_preload_libraries, so migrate_all calls record no progress."),
				errhint("Add pg_datasource to shared_preload_libraries and restart the server."));

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < ds_progress->nslots; i++)
	{
		DsProgressSlot *slot = &ds_progress->slots[i];
		DsProgressSlot copy;
		Datum		values[DS_PROGRESS_COLS];
		bool		nulls[DS_PROGRESS_COLS];

		SpinLockAcquire(&slot->mutex);
		memcpy(&copy, slot, sizeof(copy));
		SpinLockRelease(&slot->mutex);
		/* empty, or left by a backend that died without its callbacks */
		if (copy.pid == 0 || BackendPidGetProc(copy.pid) == NULL)
			continue;
		ds_progress_row(&copy, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	return (Datum) 0;
}
