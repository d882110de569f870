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
 * at once; the connection stays busy, and the abort callbacks cancel the
 * remote query and drain or close the connection.  A
 * remote error is raised with the remote's SQLSTATE, message, detail and
 * hint and the statement as context, as postgres_fdw does.  No libpq
 * result outlives a call here, whatever is raised.  A result loop ends on
 * every status it can get: libpq hands a COPY result back again on every
 * call, so a COPY nobody asked for ends the loop and the connection (see
 * remote.c), and never spins.  A command that ends a remote transaction
 * and loses its connection once sent says that its outcome is unknown
 * (08007), for that is the truth.
 *
 * A cancel request has a deadline.  libpq 15's PQcancel sends the request
 * on a connection of its own and then waits, with no limit, for the remote
 * postmaster to close it: a stopped (or frozen) remote would hold the
 * backend there, deaf to its own cancel, statement_timeout and
 * pg_terminate_backend.  So PQcancel runs in a short-lived detached thread,
 * made with every signal blocked (signals stay with the backend's thread,
 * whose handlers are not thread-safe), which touches nothing of the
 * backend: it owns a malloc'd copy of the cancel data, calls PQcancel
 * (documented thread-safe; it uses no memory allocation), writes the
 * outcome to a pipe and frees what it owns.  The backend waits for that
 * byte on the pipe, and for its latch, until the deadline.  A thread whose
 * remote never answers stays blocked in PQcancel until the remote closes
 * the cancel connection or the backend exits; the request itself is
 * usually already in the remote's listen queue, so a remote that resumes
 * still cancels the query.  At most DS_CANCEL_THREADS such threads exist
 * per backend; past that, no cancel is sent and the connection is closed.
 *
 * Memory: a connection's wait event set lives in TopMemoryContext (freed
 * when connection.c closes the connection); messages are copied into the
 * caller's context before a result is freed.  What a cancel thread owns is
 * malloc'd, outside every memory context, since the thread frees it, maybe
 * after the backend stopped waiting for it.
 *
 * IDENTIFICATION
 *		  src/remoteio.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "port/atomics.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

/*
 * a cancel request is waited for this long at most (and no longer than
 * datasource.cleanup_timeout)
 */
#define DS_CANCEL_WAIT_MS	2000

/* cancel threads of this backend that may be alive at once */
#define DS_CANCEL_THREADS	8

/* what a cancel thread owns: malloc'd, freed by the thread */
typedef struct DsCancelJob
{
	PGcancel   *cancel;
	int			done_fd;		/* write end of the pipe the backend waits on */
} DsCancelJob;

/* cancel threads alive; counted down by the threads themselves */
static pg_atomic_uint32 ds_cancel_threads;
static bool ds_cancel_threads_init = false;

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
 *		failed.  An interrupt raises with the entry still busy: the abort
 *		callbacks of the (sub)transaction the error aborts cancel the remote
 *		query, once, and drain or close the connection (connection.c).
 */
bool
ds_conn_consume(DsConn *entry)
{
	bool		readable = false;

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
	return PQconsumeInput(entry->conn) == 1;
}

/*
 * ds_conn_wait
 *		Waits until a result can be taken from conn without blocking.  The
 *		connection is non-blocking (connection.c), so what libpq could not
 *		send at once of the commands queued - a statement larger than the
 *		socket's buffers - is sent here, while what arrives meanwhile is
 *		taken in: neither side waits for the other, and a remote that stops
 *		reading cannot hold the backend in a send.  deadline: 0 for none.
 *		serve: interrupts are served (an error may be raised, so the caller
 *		has marked the entry busy for the abort callbacks); otherwise, as
 *		in abort processing, a pending interrupt or an exiting backend ends
 *		the wait at once.  Returns false at the deadline, on an interrupt
 *		not served, and when the connection failed.
 */
bool
ds_conn_wait(PGconn *conn, TimestampTz deadline, bool serve)
{
	for (;;)
	{
		int			pending = PQflush(conn);
		int			events = WL_EXIT_ON_PM_DEATH | WL_LATCH_SET | WL_SOCKET_READABLE;
		long		timeout = -1;
		int			rc;

		if (pending < 0)
			return false;
		if (pending == 0 && !PQisBusy(conn))
			return true;
		if (!serve && (ProcDiePending || QueryCancelPending || proc_exit_inprogress))
			return false;
		if (deadline != 0)
		{
			timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
													  deadline);
			if (timeout <= 0)
				return false;
			events |= WL_TIMEOUT;
		}
		if (pending == 1)
			events |= WL_SOCKET_WRITEABLE;
		rc = WaitLatchOrSocket(MyLatch, events, PQsocket(conn), timeout,
							   PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			if (serve)
				CHECK_FOR_INTERRUPTS();
		}
		if ((rc & WL_SOCKET_READABLE) && !PQconsumeInput(conn))
			return false;
	}
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
	/* a statement libpq could not send at once goes first */
	if (PQflush(entry->conn) != 0 && !ds_conn_wait(entry->conn, 0, true) &&
		PQisBusy(entry->conn))
		return PQmakeEmptyPGresult(entry->conn, PGRES_FATAL_ERROR);
	while (PQisBusy(entry->conn))
		if (!ds_conn_consume(entry))
			return PQmakeEmptyPGresult(entry->conn, PGRES_FATAL_ERROR);
	return PQgetResult(entry->conn);
}

/*
 * ds_cancel_thread
 *		The body of a cancel thread: sends the request, tells the backend
 *		how it went (one byte on the pipe; nobody may read it any more) and
 *		frees what it owns.  It calls nothing of the backend but the atomic
 *		counter, and every signal is blocked in it.
 */
static void *
ds_cancel_thread(void *arg)
{
	DsCancelJob *job = (DsCancelJob *) arg;
	char		errbuf[256];
	char		outcome;

	outcome = PQcancel(job->cancel, errbuf, sizeof(errbuf)) ? 1 : 0;
	if (write(job->done_fd, &outcome, 1) != 1)
	{
		/* the backend stopped waiting and closed its end: nothing to do */
	}
	close(job->done_fd);
	PQfreeCancel(job->cancel);
	free(job);
	pg_atomic_fetch_sub_u32(&ds_cancel_threads, 1);
	return NULL;
}

/*
 * ds_cancel_start
 *		Starts a detached cancel thread for conn, with every signal blocked
 *		in it; returns the read end of its pipe, or -1 when no thread could
 *		be started (too many still alive, or out of resources).  The caller
 *		closes the read end.
 */
static int
ds_cancel_start(PGconn *conn)
{
	DsCancelJob *job;
	int			fds[2];
	sigset_t	all;
	sigset_t	saved;
	pthread_attr_t attr;
	pthread_t	thread;
	int			rc;

	if (!ds_cancel_threads_init)
	{
		pg_atomic_init_u32(&ds_cancel_threads, 0);
		ds_cancel_threads_init = true;
	}
	if (pg_atomic_read_u32(&ds_cancel_threads) >= DS_CANCEL_THREADS)
		return -1;
	job = malloc(sizeof(DsCancelJob));
	if (job == NULL)
		return -1;
	job->cancel = PQgetCancel(conn);
	if (job->cancel == NULL || pipe(fds) != 0)
	{
		PQfreeCancel(job->cancel);
		free(job);
		return -1;
	}
	(void) fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	(void) fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	job->done_fd = fds[1];

	/* the thread inherits the mask: signals stay with the backend's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	rc = pthread_attr_init(&attr);
	if (rc == 0)
	{
		(void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		(void) pthread_attr_setstacksize(&attr, 256 * 1024);
		pg_atomic_fetch_add_u32(&ds_cancel_threads, 1);
		rc = pthread_create(&thread, &attr, ds_cancel_thread, job);
		if (rc != 0)
			pg_atomic_fetch_sub_u32(&ds_cancel_threads, 1);
		pthread_attr_destroy(&attr);
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);

	if (rc != 0)
	{
		close(fds[0]);
		close(fds[1]);
		PQfreeCancel(job->cancel);
		free(job);
		return -1;
	}
	return fds[0];
}

/*
 * ds_cancel_wait
 *		Waits on a cancel thread's pipe until timeout_ms passed, serving no
 *		interrupt (it may run during abort processing) but giving up at once
 *		when one is pending; returns whether the remote confirmed the
 *		request.  A latch set meanwhile is set again before returning, so
 *		the caller's next wait still sees it.
 */
static bool
ds_cancel_wait(int fd, long timeout_ms)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   timeout_ms);
	bool		latch_was_set = false;
	bool		confirmed = false;

	for (;;)
	{
		long		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
															  deadline);
		int			rc;
		char		outcome;

		if (timeout <= 0 || ProcDiePending || QueryCancelPending)
			break;
		rc = WaitLatchOrSocket(MyLatch,
							   WL_LATCH_SET | WL_SOCKET_READABLE |
							   WL_TIMEOUT | WL_POSTMASTER_DEATH,
							   fd, timeout, PG_WAIT_EXTENSION);
		if (rc & WL_POSTMASTER_DEATH)
			break;
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			latch_was_set = true;
		}
		if (rc & WL_SOCKET_READABLE)
		{
			confirmed = read(fd, &outcome, 1) == 1 && outcome == 1;
			break;
		}
	}
	if (latch_was_set)
		SetLatch(MyLatch);
	return confirmed;
}

/*
 * ds_cancel
 *		Asks the remote server to cancel what the connection runs, waiting
 *		at most DS_CANCEL_WAIT_MS (and datasource.cleanup_timeout) for the
 *		remote to confirm it.  Returns true when nothing runs or the remote
 *		confirmed; false when the request may not have reached a remote that
 *		can act on it: then nothing is known to end what the connection
 *		runs, and the caller must not wait for it.  Raises nothing, so it
 *		may run during abort processing.
 */
bool
ds_cancel(DsConn *entry)
{
	int			fd;
	bool		confirmed;

	if (entry->conn == NULL || PQtransactionStatus(entry->conn) != PQTRANS_ACTIVE)
		return true;
	fd = ds_cancel_start(entry->conn);
	if (fd < 0)
		return false;
	confirmed = ds_cancel_wait(fd, Min(DS_CANCEL_WAIT_MS, ds_cleanup_timeout));
	close(fd);
	return confirmed;
}

/*
 * ds_read_last
 *		Reads the results of the one command sent on a busy entry, up to a
 *		deadline (0: none), serving interrupts, and returns the last one
 *		(the caller clears it; an error result when the connection failed
 *		midway).  NULL when the deadline passed, the entry then staying
 *		busy for its caller to close, or when the remote answered with a
 *		COPY, which libpq would return for ever: a COPY FROM is failed, and
 *		the connection is the caller's to give up.  The entry is idle again
 *		(not busy) once the command's results are all read.  No result
 *		outlives an interrupt.
 */
PGresult *
ds_read_last(DsConn *entry, TimestampTz deadline)
{
	PGconn	   *conn = entry->conn;
	PGresult   *volatile last = NULL;

	PG_TRY();
	{
		for (;;)
		{
			PGresult   *res;
			ExecStatusType st;

			/* a failed connection gives its error as the next result */
			if (!ds_conn_wait(conn, deadline, true) && PQisBusy(conn))
			{
				PQclear(last);
				last = NULL;
				break;
			}
			res = PQgetResult(conn);
			if (res == NULL)
			{
				entry->busy = false;
				break;
			}
			st = PQresultStatus(res);
			PQclear(last);
			last = res;
			if (PQstatus(conn) == CONNECTION_BAD)
				break;
			if (st == PGRES_COPY_OUT || st == PGRES_COPY_IN ||
				st == PGRES_COPY_BOTH)
			{
				if (st != PGRES_COPY_OUT)
					(void) PQputCopyEnd(conn, "unexpected COPY");
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
	return last;
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
	PGresult   *last;

	entry->broken = true;		/* until we know the command went through */
	if (!PQsendQuery(entry->conn, sql))
		ds_report_remote_error(ERROR, NULL, entry->conn, entry->source, sql);
	entry->busy = true;
	last = ds_read_last(entry, 0);
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
