/*-------------------------------------------------------------------------
 *
 * commit.c
 *		  Committing a local transaction that wrote on remote datasources:
 *		  the check before anything commits, two-phase commit and the
 *		  resolver of what a crash left prepared.
 *
 * connection.c's transaction callback hands the remote transactions of the
 * local one (its participants) to this file.  Before any remote COMMIT or
 * PREPARE is sent, every participant is checked: the entry is not broken,
 * the connection is up, and what arrived on its socket while it was idle
 * is taken in without blocking, so a remote backend that was terminated is
 * seen before anything commits.  One lost remote aborts the whole
 * transaction, and nothing was committed anywhere.
 *
 * Without two-phase commit the remotes then COMMIT one after the other
 * (in the order of their foreign servers' names, connection.c)
 * before the local commit; one that fails aborts the local transaction,
 * but those before it have committed (a split only two-phase commit
 * avoids; the error names them).  A COMMIT whose connection is lost once
 * sent raises 08007: its outcome is unknown.
 *
 * With datasource.two_phase_commit on, and more than one participant (the
 * local database counts as one when the transaction has an xid), each
 * remote runs PREPARE TRANSACTION under a gid that carries the local
 * record: pgds_<system identifier>_<database oid>_<full xid>_<n>, the full
 * xid being the local top transaction's, assigned before the first
 * PREPARE and made durable then (a transactional WAL message carries it,
 * flushed before the first PREPARE, so no crash can hand the xid out
 * again).  The local commit is forced synchronous, so its clog entry is
 * durable before any COMMIT PREPARED is sent, and the local clog is the
 * record of the decision: committed -> COMMIT PREPARED, in progress ->
 * wait, otherwise (aborted, or never finished before a crash) -> ROLLBACK
 * PREPARED.  After the local commit each remote gets COMMIT PREPARED; an
 * abort after some PREPAREs sends ROLLBACK PREPARED.  Both wait a bounded
 * time (they run where no error may be raised) and a failure is a
 * WARNING: the resolver finishes the work, by hand
 * (datasource.resolve_transactions()) or automatically whenever a new
 * connection to the datasource is made while two_phase_commit is on, or
 * after this backend failed to finish one there.  The resolver only acts
 * on gids of this system and database whose remote owner it may act for,
 * and treats a gid that another resolver finished meanwhile as done.
 * This file sits below connection.c: it never opens or closes a
 * connection, it marks an entry invalidated for connection.c to close
 * (resolve.c holds the SQL entry point, which asks connection.c for the
 * connections).
 *
 * Memory: the participants' array and the SQL built here live in the
 * caller's context (the transaction's during commit); libpq results are
 * freed on every path.
 *
 * IDENTIFICATION
 *		  src/commit.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <poll.h>

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "replication/message.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "pg_datasource.h"

/* how long COMMIT/ROLLBACK PREPARED may wait where no error may be raised */
#define DS_FINISH_TIMEOUT_MS	5000

/* how long the testing aid pauses */
#define DS_PAUSE_MS				10000

/* set while resolve_transactions() connects: it reports what it resolves */
bool		ds_commit_resolving = false;

/*
 * ds_conn_alive
 *		Whether the remote transaction of entry can still commit: not
 *		broken, connected, and idle in a transaction that has not failed.
 *		What arrived on the socket while the connection was idle (the
 *		goodbye of a terminated backend, then the end of the stream) is
 *		taken in without blocking first.  A dead entry is marked broken.
 *		The entry must not be busy.
 */
bool
ds_conn_alive(DsConn *entry)
{
	bool		ok;
	int			rounds;

	if (entry->conn == NULL || entry->broken)
		return false;
	ok = PQstatus(entry->conn) == CONNECTION_OK;

	/*
	 * A terminated backend sends an error, then closes: libpq reads one
	 * chunk per call, so read while the socket has something (the end of
	 * the stream makes it fail), a bounded number of times.
	 */
	for (rounds = 0; ok && rounds < 8; rounds++)
	{
		struct pollfd pfd;

		pfd.fd = PQsocket(entry->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) <= 0)
			break;
		ok = PQconsumeInput(entry->conn) == 1;
		if (ok)
			(void) PQisBusy(entry->conn);	/* parses what came */
		ok = ok && PQstatus(entry->conn) == CONNECTION_OK;
	}
	if (!ok || (entry->xact_depth > 0 &&
				PQtransactionStatus(entry->conn) != PQTRANS_INTRANS))
	{
		entry->broken = true;
		return false;
	}
	return true;
}

/*
 * ds_commit_pause
 *		The testing aid datasource.debug_commit_pause: waits at the step
 *		named, logging it first so a test knows when to strike.  Interrupts
 *		are served where the caller's step allows them.
 */
static void
ds_commit_pause(int step, const char *name)
{
	TimestampTz end;

	if (ds_debug_commit_pause != step)
		return;
	ereport(LOG,
			errmsg("pg_datasource: commit paused %s", name));
	end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), DS_PAUSE_MS);
	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * ds_commit_run
 *		Sends one command on an idle entry and waits, up to timeout_ms, for
 *		its last result, serving interrupts where they are not held.
 *		Returns that result (the caller clears it), or NULL when the
 *		command could not be sent, the connection failed or the time ran
 *		out; the entry is then marked busy when results may still come, so
 *		the caller closes it.  Raises nothing itself.
 */
static PGresult *
ds_commit_run(DsConn *entry, const char *sql, int timeout_ms)
{
	PGconn	   *conn = entry->conn;

	if (conn == NULL || entry->busy || PQstatus(conn) != CONNECTION_OK ||
		!PQsendQuery(conn, sql))
		return NULL;
	entry->busy = true;
	return ds_read_last(entry,
						TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													timeout_ms));
}

/*
 * ds_commit_each
 *		Commits the participants one after the other (no two-phase commit).
 *		When one fails, those before it have committed: the error, raised
 *		with the remote's SQLSTATE (08007 when the outcome is unknown), says
 *		so in its detail.
 */
static void
ds_commit_each(DsConn **parts, int n)
{
	StringInfoData done;
	MemoryContext cxt = CurrentMemoryContext;
	int			i;

	initStringInfo(&done);
	for (i = 0; i < n; i++)
	{
		PG_TRY();
		{
			ds_exec_commit(parts[i], "COMMIT");
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			if (geterrcode() == ERRCODE_TRANSACTION_RESOLUTION_UNKNOWN)
				ds_stats_source_event(parts[i]->source, DS_SRC_IN_DOUBT, 0);
			if (i == 0)
				PG_RE_THROW();
			MemoryContextSwitchTo(cxt);
			edata = CopyErrorData();
			FlushErrorState();
			edata->detail = psprintf("%s%sThe remote transaction already committed on datasource %s and stays; the local transaction and the other remote transactions roll back.",
									 edata->detail ? edata->detail : "",
									 edata->detail ? " " : "", done.data);
			ReThrowError(edata);
		}
		PG_END_TRY();
		ds_stats_source_event(parts[i]->source, DS_SRC_COMMIT, 0);
		parts[i]->xact_depth = 0;
		parts[i]->release_level = 0;
		appendStringInfo(&done, "%s\"%s\"", i > 0 ? ", " : "", parts[i]->source);
	}
}

/*
 * ds_prepare_each
 *		Phase one: PREPARE TRANSACTION on every participant under a gid
 *		made from the local top transaction's full xid (assigned here) and
 *		the participant's place; the local commit is forced synchronous so
 *		its record is durable before phase two.  An error aborts the local
 *		transaction, whose abort rolls back what was prepared.
 */
static void
ds_prepare_each(DsConn **parts, int n)
{
	FullTransactionId fxid = GetTopFullTransactionId();
	char		record[DS_GID_LEN];
	int			i;

	/*
	 * The xid must be durable before any remote holds it: an xid that left
	 * no trace in the WAL may be handed out again after a crash, and the
	 * resolver would then read another transaction's fate.  A transactional
	 * WAL message carries it (and names the gids); flushed here.
	 */
	snprintf(record, sizeof(record), "pgds_" UINT64_FORMAT "_%u_" UINT64_FORMAT,
			 GetSystemIdentifier(), MyDatabaseId, U64FromFullTransactionId(fxid));
	XLogFlush(LogLogicalMessage("pg_datasource", record, strlen(record) + 1, true));
	ForceSyncCommit();
	for (i = 0; i < n; i++)
	{
		char		gid[DS_GID_LEN];

		snprintf(gid, sizeof(gid), "%s_%d", record, i + 1);
		/* a PREPARE whose answer is lost may have prepared: resolve later */
		parts[i]->resolve_due = true;
		ds_exec_or_error(parts[i], psprintf("PREPARE TRANSACTION %s",
											quote_literal_cstr(gid)));
		parts[i]->resolve_due = false;
		strlcpy(parts[i]->gid, gid, DS_GID_LEN);
		parts[i]->xact_depth = 0;
		parts[i]->release_level = 0;
	}
	ds_commit_pause(DS_PAUSE_AFTER_PREPARE, "after every PREPARE TRANSACTION");
}

/*
 * ds_commit_remotes
 *		Pre-commit: the participants (the entries with a remote transaction
 *		of this local one) are all checked before anything is sent, then
 *		committed, or prepared when two-phase commit applies.  Raises when
 *		the local transaction must abort.
 */
void
ds_commit_remotes(DsConn **parts, int n)
{
	int			i;
	bool		local_writes = TransactionIdIsValid(GetTopTransactionIdIfAny());

	for (i = 0; i < n; i++)
		if (!ds_conn_alive(parts[i]))
			ereport(ERROR,
					errcode(ERRCODE_CONNECTION_FAILURE),
					errmsg("the remote transaction on datasource \"%s\" was lost",
						   parts[i]->source),
					errdetail("Nothing was committed: the local transaction and the remote transactions on every datasource roll back."));

	if (ds_two_phase_commit && n + (local_writes ? 1 : 0) > 1)
		ds_prepare_each(parts, n);
	else
		ds_commit_each(parts, n);
}

/*
 * ds_finish_prepared
 *		Phase two on one entry: COMMIT or ROLLBACK PREPARED its gid, with a
 *		bounded wait; runs after the local transaction ended, so a failure
 *		is a WARNING and the resolver finishes the work.  A gid another
 *		resolver finished meanwhile (42704, or 55000 while it does) counts
 *		as done.  On a failure the connection is marked invalidated, so
 *		connection.c closes it as the transaction ends.
 */
static void
ds_finish_prepared(DsConn *entry, bool commit)
{
	const char *verb = commit ? "COMMIT PREPARED" : "ROLLBACK PREPARED";
	char	   *sql = psprintf("%s %s", verb, quote_literal_cstr(entry->gid));
	PGresult   *res = ds_commit_run(entry, sql, DS_FINISH_TIMEOUT_MS);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	bool		ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok && state != NULL &&
		(strcmp(state, "42704") == 0 || strcmp(state, "55000") == 0))
		ok = true;
	if (!ok)
	{
		entry->resolve_due = true;
		ereport(WARNING,
				errcode(res != NULL && state != NULL ?
						MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]) :
						ERRCODE_TRANSACTION_RESOLUTION_UNKNOWN),
				errmsg("could not finish the prepared transaction %s on datasource \"%s\"",
					   entry->gid, entry->source),
				errdetail("The local transaction %s; the remote one %s. %s",
						  commit ? "committed" : "rolled back",
						  res == NULL ? "may still be prepared" : "is still prepared",
						  res != NULL ? pchomp(PQresultErrorMessage(res)) : ""),
				errhint("datasource.resolve_transactions() finishes it; it also runs at the next connection to the datasource."));
	}
	ds_stats_source_event(entry->source,
						  !ok ? DS_SRC_IN_DOUBT :
						  commit ? DS_SRC_COMMIT : DS_SRC_ROLLBACK, 0);
	PQclear(res);
	entry->gid[0] = '\0';

	/*
	 * connection.c closes it once the transaction has ended: its next use
	 * reconnects, and a new connection resolves (resolve_due).
	 */
	if (!ok)
		entry->invalidated = true;
}

/*
 * ds_commit_prepared
 *		Commit callback: the local transaction committed, so every
 *		participant prepared in pre-commit gets COMMIT PREPARED.
 */
void
ds_commit_prepared(DsConn **parts, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		ds_commit_pause(i == 0 ? DS_PAUSE_AFTER_COMMIT : DS_PAUSE_BETWEEN_COMMITS,
						i == 0 ? "after the local commit" : "between COMMIT PREPAREDs");
		ds_finish_prepared(parts[i], true);
	}
}

/*
 * ds_commit_abort
 *		Abort callback, before the connection's own cleanup: a remote
 *		transaction prepared for this local one is rolled back.  A PREPARE
 *		whose answer was lost closed nothing here: the resolver finds it.
 */
void
ds_commit_abort(DsConn *entry)
{
	if (entry->gid[0] != '\0')
		ds_finish_prepared(entry, false);
}

/*
 * ds_local_outcome
 *		What the local clog says of a full xid of this database: "commit",
 *		"rollback", "in progress", or NULL when it cannot tell (not yet
 *		assigned, or so old that its clog is gone).  A transaction neither
 *		running nor committed aborted, or never finished before a crash.
 */
static const char *
ds_local_outcome(FullTransactionId fxid)
{
	FullTransactionId next = ReadNextFullTransactionId();
	TransactionId xid = XidFromFullTransactionId(fxid);
	const char *outcome = NULL;

	if (!TransactionIdIsNormal(xid) ||
		!FullTransactionIdPrecedes(fxid, next) ||
		U64FromFullTransactionId(next) - U64FromFullTransactionId(fxid) >=
		(uint64) MaxTransactionId / 2)
		return NULL;
	LWLockAcquire(XactTruncationLock, LW_SHARED);
	if (!TransactionIdPrecedes(xid, ShmemVariableCache->oldestClogXid))
	{
		if (TransactionIdIsInProgress(xid))
			outcome = "in progress";
		else if (TransactionIdDidCommit(xid))
			outcome = "commit";
		else
			outcome = "rollback";
	}
	LWLockRelease(XactTruncationLock);
	return outcome;
}

/*
 * ds_commit_resolve
 *		Finishes the prepared transactions of this system and database on
 *		entry's remote that the connected role may finish, each as the
 *		local clog decides.  With a store, one row per gid found is added
 *		(datasource, gid, local xid, action) and a failure is a WARNING;
 *		without one (automatic resolution) failures are left silently for
 *		later.  The entry must be idle with no remote transaction; when its
 *		connection fails or stops answering, it is marked invalidated (the
 *		caller closes it).
 */
void
ds_commit_resolve(DsConn *entry, Tuplestorestate *store, TupleDesc desc)
{
	char	   *prefix = psprintf("pgds_" UINT64_FORMAT "_%u_",
								  GetSystemIdentifier(), MyDatabaseId);
	char	   *sql = psprintf("SELECT gid FROM pg_catalog.pg_prepared_xacts"
							   " WHERE database = pg_catalog.current_database()"
							   " AND pg_catalog.substr(gid, 1, %d) = %s"
							   " AND (owner = CURRENT_USER OR (SELECT rolsuper"
							   " FROM pg_catalog.pg_roles WHERE rolname = CURRENT_USER))"
							   " ORDER BY prepared",
							   (int) strlen(prefix), quote_literal_cstr(prefix));
	PGresult   *list = ds_commit_run(entry, sql, DS_FINISH_TIMEOUT_MS);
	int			i;

	if (list == NULL || PQresultStatus(list) != PGRES_TUPLES_OK)
	{
		bool		lost = list == NULL || entry->busy;

		if (store != NULL && !lost)
			ds_report_remote_error(ERROR, list, entry->conn, entry->source, sql);
		PQclear(list);
		if (lost)
			entry->invalidated = true;
		if (store != NULL)
			ereport(ERROR,
					errcode(ERRCODE_CONNECTION_FAILURE),
					errmsg("could not list the prepared transactions on datasource \"%s\"",
						   entry->source),
					errdetail("The connection was lost or did not answer within %d seconds.",
							  DS_FINISH_TIMEOUT_MS / 1000));
		return;
	}
	entry->resolve_due = false;
	PG_TRY();
	{
		for (i = 0; i < PQntuples(list); i++)
		{
			const char *gid = PQgetvalue(list, i, 0);
			char	   *end;
			uint64		x = (uint64) strtoull(gid + strlen(prefix), &end, 10);
			FullTransactionId fxid = FullTransactionIdFromU64(x);
			const char *outcome = (*end == '_') ? ds_local_outcome(fxid) : NULL;
			const char *action;

			if (outcome == NULL)
				action = "unknown";
			else if (strcmp(outcome, "in progress") == 0)
				action = "in progress";
			else
			{
				bool		commit = strcmp(outcome, "commit") == 0;
				PGresult   *res;
				const char *state;

				res = ds_commit_run(entry,
									psprintf("%s PREPARED %s",
											 commit ? "COMMIT" : "ROLLBACK",
											 quote_literal_cstr(gid)),
									DS_FINISH_TIMEOUT_MS);
				state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
				if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK)
					action = commit ? "committed" : "rolled back";
				else if (state != NULL && strcmp(state, "42704") == 0)
					action = "gone";
				else if (state != NULL && strcmp(state, "55000") == 0)
					action = "busy";	/* another session is finishing it */
				else
				{
					action = "failed";
					entry->resolve_due = true;
					if (store != NULL)
						ereport(WARNING,
								errcode(ERRCODE_CONNECTION_EXCEPTION),
								errmsg("could not resolve the prepared transaction %s on datasource \"%s\"",
									   gid, entry->source),
								res ? errdetail_internal("%s", pchomp(PQresultErrorMessage(res))) : 0);
				}
				PQclear(res);
				if (entry->busy || PQstatus(entry->conn) != CONNECTION_OK)
				{
					/* the rest waits for the next connection */
					entry->invalidated = true;
					entry->resolve_due = true;
				}
			}
			if (store != NULL)
			{
				Datum		values[4];
				bool		nulls[4] = {false};

				values[0] = CStringGetTextDatum(entry->source);
				values[1] = CStringGetTextDatum(gid);
				values[2] = FullTransactionIdGetDatum(fxid);
				values[3] = CStringGetTextDatum(action);
				nulls[2] = (*end != '_');
				tuplestore_putvalues(store, desc, values, nulls);
			}
			if (entry->invalidated)
				break;
		}
	}
	PG_FINALLY();
	{
		PQclear(list);
	}
	PG_END_TRY();
}

/*
 * ds_commit_connected
 *		A new connection was made for entry: when two-phase commit is on,
 *		or this backend left a prepared transaction of ours there, resolve
 *		this database's orphans on that remote first (one round trip when
 *		there are none).  Failures are left for later, silently; what the
 *		caller does next meets a dead connection by itself.
 */
void
ds_commit_connected(DsConn *entry)
{
	if (ds_commit_resolving || !(ds_two_phase_commit || entry->resolve_due))
		return;
	ds_commit_resolve(entry, NULL, NULL);
}
