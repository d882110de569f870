/*-------------------------------------------------------------------------
 *
 * remoteio.c
 *		  Waiting on a remote connection: results, cancels, one command and
 *		  the report of a remote error.
 *
 * Both users of a cached connection - the remote transactions of
 * connection.c and the statements of remote.c - wait for what the remote
 * server sends in the same way: on the connection's wait event set (the
 * latch, postmaster death and the socket, made once per connection), with
 * interrupts served, so a cancel or statement_timeout stops the local call
 * at once; the remote query is then cancelled before the error goes on,
 * and the connection stays busy for the abort callbacks to drain.  A
 * remote error is raised with the remote's SQLSTATE, message, detail and
 * hint and the statement as context, as postgres_fdw does.  No libpq
 * result outlives a call here, whatever is raised.  A result loop ends on
 * every status it can get: libpq hands a COPY result back again on every
 * call, so a COPY nobody asked for ends the loop and the connection (see
 * remote.c), and never spins.  A command that ends a remote transaction
 * and loses its connection once sent says that its outcome is unknown
 * (08007), for that is the truth.
 *
 * Memory: a connection's wait event set lives in TopMemoryContext (freed
 * when connection.c closes the connection); messages are copied into the
 * caller's context before a result is freed.
 *
 * IDENTIFICATION
 *		  src/remoteio.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/memutils.h"

#include "pg_datasource.h"

/*
 * ds_report_remote_error
 *		Reports a remote error with the remote SQLSTATE, message, detail and
 *		hint, and the datasource and statement as context.  Clears res,
 *		also when copying its fields fails.  Without a result (the
 *		connection failed) the SQLSTATE is 08006.
 */
void
ds_report_remote_error(int elevel, PGresult *res, PGconn *conn,
					   const char *source, const char *sql)
{
	volatile int code = ERRCODE_CONNECTION_FAILURE;
	char	   *volatile message = NULL;
	char	   *volatile detail = NULL;
	char	   *volatile hint = NULL;

	PG_TRY();
	{
		const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
		const char *d = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
		const char *h = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;

		if (state != NULL && strlen(state) == 5)
			code = MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);
		message = pchomp(primary ? primary : (conn ? PQerrorMessage(conn) : ""));
		if (message[0] == '\0')
			message = pstrdup("could not obtain message string for remote error");
		detail = d ? pstrdup(d) : NULL;
		hint = h ? pstrdup(h) : NULL;
	}
	PG_CATCH();
	{
		PQclear(res);
		PG_RE_THROW();
	}
	PG_END_TRY();
	PQclear(res);

	ereport(elevel,
			errcode(code),
			errmsg_internal("%s", message),
			detail ? errdetail_internal("%s", detail) : 0,
			hint ? errhint("%s", hint) : 0,
			errcontext("remote SQL on datasource \"%s\": %s", source, sql));
}

/*
 * ds_conn_waitset
 *		The wait event set of an open connection: the latch, postmaster
 *		death (the backend exits) and the connection's socket becoming
 *		readable.  Made on first use and kept until the connection closes, so
 *		a round trip costs no epoll set of its own.
 */
static WaitEventSet *
ds_conn_waitset(DsConn *entry)
{
	WaitEventSet *set;

	if (entry->waitset != NULL)
		return entry->waitset;
	set = CreateWaitEventSet(TopMemoryContext, 3);
	PG_TRY();
	{
		AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		if (IsUnderPostmaster)
			AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET,
							  NULL, NULL);
		AddWaitEventToSet(set, WL_SOCKET_READABLE, PQsocket(entry->conn),
						  NULL, NULL);
	}
	PG_CATCH();
	{
		FreeWaitEventSet(set);
		PG_RE_THROW();
	}
	PG_END_TRY();
	entry->waitset = set;
	return set;
}

/*
 * ds_conn_consume
 *		Waits until the entry's socket is readable and takes in what came,
 *		serving interrupts meanwhile.  Returns false when the connection
 *		failed.  On an interrupt the remote query is cancelled before the
 *		error goes on; the entry stays busy and the abort callbacks drain or
 *		close it.
 */
bool
ds_conn_consume(DsConn *entry)
{
	volatile bool ok = true;
	volatile bool readable = false;

	/* no return inside PG_TRY: it would leave the exception stack behind */
	PG_TRY();
	{
		while (!readable)
		{
			WaitEvent	event;

			if (WaitEventSetWait(ds_conn_waitset(entry), -1L, &event, 1,
								 PG_WAIT_EXTENSION) != 1)
				continue;
			if (event.events & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
			readable = (event.events & WL_SOCKET_READABLE) != 0;
		}
		ok = PQconsumeInput(entry->conn) == 1;
	}
	PG_CATCH();
	{
		ds_cancel(entry);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return ok;
}

/*
 * ds_next_result
 *		The next result of what was sent on the entry's connection, waiting
 *		for it as ds_conn_consume does; NULL at the end of a command's
 *		results.  When the connection fails, a PGRES_FATAL_ERROR result made
 *		from libpq's message is returned.  The caller owns the result.
 */
PGresult *
ds_next_result(DsConn *entry)
{
	while (PQisBusy(entry->conn))
		if (!ds_conn_consume(entry))
			return PQmakeEmptyPGresult(entry->conn, PGRES_FATAL_ERROR);
	return PQgetResult(entry->conn);
}

/*
 * ds_cancel
 *		Asks the remote server to cancel what the connection runs.
 */
void
ds_cancel(DsConn *entry)
{
	PGcancel   *cancel;
	char		errbuf[256];

	if (entry->conn == NULL || PQtransactionStatus(entry->conn) != PQTRANS_ACTIVE)
		return;
	cancel = PQgetCancel(entry->conn);
	if (cancel != NULL)
	{
		(void) PQcancel(cancel, errbuf, sizeof(errbuf));
		PQfreeCancel(cancel);
	}
}

/*
 * ds_exec_command
 *		Runs a transaction-control command on an idle entry; an error marks
 *		the entry broken and is raised.  A remote that answers with a COPY
 *		is such an error (08006): the entry stays broken, so the local
 *		transaction cannot commit and its abort closes the connection.  No
 *		result outlives the call, also when an interrupt ends the wait.
 *		ending: the command ends the remote transaction (COMMIT, COMMIT
 *		PREPARED), so a connection lost once it was sent leaves its outcome
 *		unknown, which is raised as 08007.
 */
static void
ds_exec_command(DsConn *entry, const char *sql, bool ending)
{
	PGresult   *volatile last = NULL;

	entry->broken = true;		/* until we know the command went through */
	if (!PQsendQuery(entry->conn, sql))
		ds_report_remote_error(ERROR, NULL, entry->conn, entry->source, sql);
	entry->busy = true;
	PG_TRY();
	{
		PGresult   *res;

		while ((res = ds_next_result(entry)) != NULL)
		{
			ExecStatusType st = PQresultStatus(res);

			PQclear(last);
			last = res;
			if (PQstatus(entry->conn) == CONNECTION_BAD)
				break;
			if (st == PGRES_COPY_OUT || st == PGRES_COPY_IN ||
				st == PGRES_COPY_BOTH)
			{
				/* libpq would return it for ever: the entry stays broken */
				if (st != PGRES_COPY_OUT)
					(void) PQputCopyEnd(entry->conn, "unexpected COPY");
				PQclear(last);
				last = NULL;
				break;
			}
		}
	}
	PG_CATCH();
	{
		PQclear(last);
		PG_RE_THROW();
	}
	PG_END_TRY();
	entry->busy = false;
	if (ending && PQstatus(entry->conn) == CONNECTION_BAD &&
		(last == NULL || PQresultStatus(last) != PGRES_COMMAND_OK))
	{
		char	   *why = pchomp(PQerrorMessage(entry->conn));

		PQclear(last);
		ereport(ERROR,
				errcode(ERRCODE_TRANSACTION_RESOLUTION_UNKNOWN),
				errmsg("the outcome of %s on datasource \"%s\" is unknown",
					   sql, entry->source),
				errdetail("The connection was lost after the command was sent: the remote transaction may or may not have committed (%s).",
						  why));
	}
	if (last == NULL || PQresultStatus(last) != PGRES_COMMAND_OK)
		ds_report_remote_error(ERROR, last, entry->conn, entry->source, sql);
	PQclear(last);
	entry->broken = false;
}

/*
 * ds_exec_or_error
 *		Runs a transaction-control command that does not end the remote
 *		transaction (see ds_exec_command).
 */
void
ds_exec_or_error(DsConn *entry, const char *sql)
{
	ds_exec_command(entry, sql, false);
}

/*
 * ds_exec_commit
 *		Runs a command that ends the remote transaction: as
 *		ds_exec_or_error, but a connection lost after the command was sent
 *		is reported as 08007 (transaction resolution unknown).
 */
void
ds_exec_commit(DsConn *entry, const char *sql)
{
	ds_exec_command(entry, sql, true);
}
