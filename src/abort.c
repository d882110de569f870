/*-------------------------------------------------------------------------
 *
 * abort.c
 *		  What a connection's remote side does when the local transaction or
 *		  one of its subtransactions aborts.
 *
 * connection.c's transaction callbacks call ds_abort_cleanup for every
 * cached connection when a local transaction aborts, and for those that
 * cover the aborting level when a subtransaction does.  What the
 * connection still runs is cancelled and drained, then the remote is
 * rolled back to where the local side is now: ROLLBACK at top level, a
 * ROLLBACK TO SAVEPOINT of the aborting level otherwise.
 *
 * Abort processing may raise nothing, so it serves no interrupt; instead
 * every wait here (remoteio.c's ds_conn_wait) ends at a deadline,
 * datasource.cleanup_timeout, and at once when an interrupt is pending (a
 * second cancel, pg_terminate_backend) or the backend exits.  The connection is then closed, which rolls the
 * remote transaction back, or, inside a remote transaction that must go on
 * (a subtransaction), marked broken so that the local transaction cannot
 * commit.  A cancel the remote did not confirm (remoteio.c bounds it too)
 * closes the connection without waiting for the remote at all, and so
 * does a statement only partly sent: nothing is known to end what runs.
 *
 * Memory: nothing is allocated; libpq's results are freed at once.
 *
 * IDENTIFICATION
 *		  src/abort.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

/*
 * ds_drain
 *		Reads and discards what is still coming on a busy connection, up to
 *		a deadline, leaving pipeline mode.  Returns false when it did not
 *		get back to idle.
 */
static bool
ds_drain(DsConn *entry, TimestampTz deadline)
{
	PGconn	   *conn = entry->conn;

	for (;;)
	{
		PGresult   *res;
		ExecStatusType st;

		if (!ds_conn_wait(conn, deadline, false))
			return false;
		res = PQgetResult(conn);
		if (res == NULL)
		{
			/* in pipeline mode a NULL only ends one command's results */
			if (PQpipelineStatus(conn) == PQ_PIPELINE_OFF)
				return PQstatus(conn) == CONNECTION_OK;
			if (PQexitPipelineMode(conn))
				return PQstatus(conn) == CONNECTION_OK;
			continue;
		}
		st = PQresultStatus(res);
		PQclear(res);
		/* a COPY would keep returning itself: give the connection up */
		if (PQstatus(conn) == CONNECTION_BAD || st == PGRES_COPY_IN ||
			st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH)
			return false;
	}
}

/*
 * ds_exec_cleanup
 *		Runs a command during abort processing: no error may be raised, and
 *		the wait is bounded by the deadline without serving interrupts.
 *		Returns false when the command did not complete (a COPY answer
 *		included: the caller closes the connection).
 */
static bool
ds_exec_cleanup(DsConn *entry, const char *sql, TimestampTz deadline)
{
	PGresult   *res;
	PGresult   *last = NULL;
	bool		ok;

	if (entry->conn == NULL || PQstatus(entry->conn) != CONNECTION_OK ||
		!PQsendQuery(entry->conn, sql))
		return false;

	for (;;)
	{
		if (!ds_conn_wait(entry->conn, deadline, false))
		{
			PQclear(last);
			return false;
		}
		res = PQgetResult(entry->conn);
		if (res == NULL)
			break;
		PQclear(last);
		last = res;
		/* a COPY would keep returning itself: give the connection up */
		if (PQresultStatus(res) == PGRES_COPY_IN ||
			PQresultStatus(res) == PGRES_COPY_OUT ||
			PQresultStatus(res) == PGRES_COPY_BOTH)
		{
			PQclear(last);
			return false;
		}
	}
	ok = (last != NULL && PQresultStatus(last) == PGRES_COMMAND_OK);
	PQclear(last);
	return ok;
}

/*
 * ds_abort_cleanup
 *		After a local (sub)transaction aborted: cancel and drain what the
 *		connection still runs, then roll the remote back to where the local
 *		side is now.  Whatever cannot be done within
 *		datasource.cleanup_timeout, a cancel the remote did not confirm, a
 *		pending interrupt and an exiting backend give the connection up:
 *		returns true when the caller is to close it (top level, or no
 *		remote transaction left), and marks it broken inside a remote
 *		transaction that goes on (a subtransaction), so the local
 *		transaction cannot commit.  An invalidated connection is closed at
 *		top level too.  Raises nothing.
 */
bool
ds_abort_cleanup(DsConn *entry, bool toplevel)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   ds_cleanup_timeout);
	int			level = GetCurrentTransactionNestLevel();
	bool		ok = true;
	bool		close = false;

	if (entry->conn == NULL)
		return false;
	if (PQstatus(entry->conn) == CONNECTION_BAD)
		ok = false;
	if (ok && entry->busy)
	{
		/* a setting may or may not have landed */
		entry->path_known = false;
		entry->ro_session = false;
		/*
		 * A statement only partly sent, or a cancel not confirmed: nothing
		 * is known to end what runs, so do not wait.
		 */
		ok = PQflush(entry->conn) == 0 && ds_cancel(entry) &&
			ds_drain(entry, deadline);
		entry->busy = false;
	}
	if (ok && toplevel)
	{
		if (entry->xact_depth > 0 ||
			PQtransactionStatus(entry->conn) != PQTRANS_IDLE)
		{
			entry->path_known = false;
			ok = ds_exec_cleanup(entry, "ROLLBACK", deadline);
		}
	}
	else if (ok && entry->xact_depth >= level && !entry->broken)
	{
		char		sql[96];

		/* rolling back a savepoint also ends those released after it */
		snprintf(sql, sizeof(sql),
				 "ROLLBACK TO SAVEPOINT s%d; RELEASE SAVEPOINT s%d",
				 level, level);
		entry->path_known = false;
		ok = ds_exec_cleanup(entry, sql, deadline);
	}

	if (toplevel)
	{
		close = !ok || entry->invalidated;
		entry->xact_depth = 0;
		entry->release_level = 0;
		entry->broken = false;
	}
	else
	{
		if (!ok && entry->xact_depth > 0)
			entry->broken = true;
		else if (!ok)
			close = true;
		if (entry->xact_depth >= level)
			entry->xact_depth = level - 1;
		if (entry->release_level >= level)
			entry->release_level = 0;
	}
	return close;
}
