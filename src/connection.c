/*-------------------------------------------------------------------------
 *
 * connection.c
 *		  libpq connections to remote datasources and their transactions.
 *
 * A remote datasource is reached with libpq from the backend, as the user
 * mapping of the current role for the datasource's foreign server.  Remote
 * work joins the local transaction: the first use in a local transaction
 * sends BEGIN, each local subtransaction level that uses the connection gets
 * a remote SAVEPOINT, and the transaction callbacks COMMIT the remote
 * transaction just before the local commit (an error there aborts the local
 * transaction) or roll it back when the local transaction aborts.  Between
 * the remote COMMIT and the local commit there is a window in which a crash
 * of the local server leaves the remote work committed; two-phase commit is
 * not used.
 *
 * Connections are opened per local transaction and closed at its end; the
 * cross-transaction connection cache belongs to the routing layer.
 *
 * Security follows postgres_fdw: USAGE on the server is required, and a
 * non-superuser must authenticate to the remote with a password (unless a
 * superuser set password_required 'false' on the mapping).  libpq's error
 * messages never contain the password, and neither do ours.
 *
 * Connecting and waiting for results process interrupts: a cancel or
 * statement_timeout stops the local call at once and sends a cancel request
 * to the remote server.  Connecting has its own deadline,
 * datasource.connect_timeout.
 *
 * Memory: connection entries live in a child of TopMemoryContext that is
 * reset at the end of every transaction that used one; PGresults are
 * PQclear'd by the callers of ds_remote_exec.
 *
 * IDENTIFICATION
 *		  src/connection.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "libpq/libpq-be-fe-helpers.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

/* one open remote transaction */
typedef struct DsConn
{
	Oid			serverid;
	Oid			userid;
	char	   *source;			/* datasource name, for messages */
	PGconn	   *conn;
	int			xact_depth;		/* local nest level covered remotely */
	bool		broken;			/* remote state unknown: must not be used */
} DsConn;

static MemoryContext ds_conn_context = NULL;
static List *ds_conns = NIL;	/* DsConn *, in ds_conn_context */

static PGconn *ds_connect(DsSource *source, ForeignServer *server,
						  UserMapping *mapping);
static void ds_connect_poll(PGconn *conn, const char *source);
static PGresult *ds_get_result(PGconn *conn, const char *source);
static void ds_report_remote_error(int elevel, PGresult *res, PGconn *conn,
								   const char *source, const char *sql);
static void ds_exec_or_error(DsConn *entry, const char *sql);
static bool ds_exec_cleanup(DsConn *entry, const char *sql);
static void ds_close_all(void);
static void ds_xact_callback(XactEvent event, void *arg);
static void ds_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								SubTransactionId parentSubid, void *arg);

/*
 * ds_connection_init
 *		Registers the transaction callbacks; called from _PG_init.
 */
void
ds_connection_init(void)
{
	RegisterXactCallback(ds_xact_callback, NULL);
	RegisterSubXactCallback(ds_subxact_callback, NULL);
}

/*
 * ds_connect
 *		Opens a libpq connection for a datasource as the user mapping says,
 *		enforcing the password rules; errors carry SQLSTATE 08001.
 */
static PGconn *
ds_connect(DsSource *source, ForeignServer *server, UserMapping *mapping)
{
	List	   *opts = list_concat(list_copy(server->options), mapping->options);
	const char **keywords;
	const char **values;
	int			n = 0;
	ListCell   *lc;
	bool		password_required = true;
	bool		have_password = false;
	PGconn	   *conn;

	keywords = palloc(sizeof(char *) * (list_length(opts) + 3));
	values = palloc(sizeof(char *) * (list_length(opts) + 3));
	foreach(lc, opts)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "password_required") == 0)
		{
			password_required = defGetBoolean(def);
			continue;
		}
		if (strcmp(def->defname, "password") == 0 && defGetString(def)[0] != '\0')
			have_password = true;
		keywords[n] = def->defname;
		values[n] = defGetString(def);
		n++;
	}
	keywords[n] = "fallback_application_name";
	values[n++] = "pg_datasource";
	keywords[n] = "client_encoding";
	values[n++] = GetDatabaseEncodingName();
	keywords[n] = NULL;
	values[n] = NULL;

	if (!superuser_arg(mapping->userid) && password_required && !have_password)
		ereport(ERROR,
				errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				errmsg("password is required to connect to datasource \"%s\"",
					   source->name),
				errdetail("Non-superusers must give a password in their user mapping."));

	if (!AcquireExternalFD())
		ereport(ERROR,
				errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				errmsg("could not connect to datasource \"%s\"", source->name),
				errdetail("There are too many open files on the local server."),
				errhint("Raise max_files_per_process or the open files limit."));

	conn = PQconnectStartParams(keywords, values, false);
	if (conn == NULL)
	{
		ReleaseExternalFD();
		ereport(ERROR,
				errcode(ERRCODE_OUT_OF_MEMORY),
				errmsg("out of memory"));
	}

	PG_TRY();
	{
		ds_connect_poll(conn, source->name);

		if (PQstatus(conn) != CONNECTION_OK)
			ereport(ERROR,
					errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					errmsg("could not connect to datasource \"%s\"", source->name),
					errdetail_internal("%s", pchomp(PQerrorMessage(conn))));

		if (!superuser_arg(mapping->userid) && password_required &&
			!PQconnectionUsedPassword(conn))
			ereport(ERROR,
					errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
					errmsg("password is required to connect to datasource \"%s\"",
						   source->name),
					errdetail("The remote server did not ask for the password, and non-superusers must authenticate with one."),
					errhint("Change the remote server's authentication method, or have a superuser set password_required 'false' on the user mapping."));
	}
	PG_CATCH();
	{
		PQfinish(conn);
		ReleaseExternalFD();
		PG_RE_THROW();
	}
	PG_END_TRY();

	return conn;
}

/*
 * ds_connect_poll
 *		Drives PQconnectPoll until the connection is made or fails, waiting on
 *		the socket and the latch so interrupts are served, and giving up after
 *		datasource.connect_timeout seconds.  On return PQstatus tells success.
 */
static void
ds_connect_poll(PGconn *conn, const char *source)
{
	PostgresPollingStatusType status = PGRES_POLLING_WRITING;
	TimestampTz deadline = 0;

	if (PQstatus(conn) == CONNECTION_BAD)
		return;
	if (ds_connect_timeout > 0)
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   ds_connect_timeout * 1000L);

	while (status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED)
	{
		int			io_flag = (status == PGRES_POLLING_READING)
			? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
		long		timeout = -1;
		int			events = WL_EXIT_ON_PM_DEATH | WL_LATCH_SET | io_flag;
		int			rc;

		if (deadline != 0)
		{
			timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
													  deadline);
			if (timeout <= 0)
				ereport(ERROR,
						errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
						errmsg("could not connect to datasource \"%s\"", source),
						errdetail("No connection was made within %d seconds (datasource.connect_timeout).",
								  ds_connect_timeout));
			events |= WL_TIMEOUT;
		}

		rc = WaitLatchOrSocket(MyLatch, events, PQsocket(conn), timeout,
							   PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
		if (rc & io_flag)
			status = PQconnectPoll(conn);
	}
}

/*
 * ds_report_remote_error
 *		Reports a remote error with the remote SQLSTATE, message, detail and
 *		hint, and the datasource and statement as context.  Clears res.
 */
static void
ds_report_remote_error(int elevel, PGresult *res, PGconn *conn,
					   const char *source, const char *sql)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
	int			code = ERRCODE_CONNECTION_FAILURE;
	char	   *message;

	if (state != NULL && strlen(state) == 5)
		code = MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);
	message = pchomp(primary ? primary : PQerrorMessage(conn));
	if (message[0] == '\0')
		message = pstrdup("could not obtain message string for remote error");
	detail = detail ? pstrdup(detail) : NULL;
	hint = hint ? pstrdup(hint) : NULL;
	PQclear(res);

	ereport(elevel,
			errcode(code),
			errmsg_internal("%s", message),
			detail ? errdetail_internal("%s", detail) : 0,
			hint ? errhint("%s", hint) : 0,
			errcontext("remote SQL on datasource \"%s\": %s", source, sql));
}

/*
 * ds_get_result
 *		Waits for the results of the query sent on conn, serving interrupts;
 *		on an interrupt the remote query is cancelled before the error goes
 *		on.  Returns the last result (the caller PQclears it); earlier ones
 *		are discarded.
 */
static PGresult *
ds_get_result(PGconn *conn, const char *source)
{
	PGresult   *volatile last = NULL;

	PG_TRY();
	{
		for (;;)
		{
			PGresult   *res;

			while (PQisBusy(conn))
			{
				int			rc;

				rc = WaitLatchOrSocket(MyLatch,
									   WL_EXIT_ON_PM_DEATH | WL_LATCH_SET |
									   WL_SOCKET_READABLE,
									   PQsocket(conn), -1L, PG_WAIT_EXTENSION);
				if (rc & WL_LATCH_SET)
				{
					ResetLatch(MyLatch);
					CHECK_FOR_INTERRUPTS();
				}
				if ((rc & WL_SOCKET_READABLE) && !PQconsumeInput(conn))
				{
					PQclear(last);
					return NULL;	/* connection trouble: caller reports */
				}
			}
			res = PQgetResult(conn);
			if (res == NULL)
				break;
			PQclear(last);
			last = res;
		}
	}
	PG_CATCH();
	{
		PGcancel   *cancel = PQgetCancel(conn);
		char		errbuf[256];

		if (cancel != NULL)
		{
			(void) PQcancel(cancel, errbuf, sizeof(errbuf));
			PQfreeCancel(cancel);
		}
		PQclear(last);
		PG_RE_THROW();
	}
	PG_END_TRY();

	return last;
}

/*
 * ds_find_entry
 *		The open remote transaction for this server and role, or NULL.
 */
static DsConn *
ds_find_entry(Oid serverid, Oid userid)
{
	ListCell   *lc;

	foreach(lc, ds_conns)
	{
		DsConn	   *entry = lfirst(lc);

		if (entry->serverid == serverid && entry->userid == userid)
			return entry;
	}
	return NULL;
}

/*
 * ds_exec_or_error
 *		Runs a transaction-control command on an entry; an error marks the
 *		entry broken and is raised.
 */
static void
ds_exec_or_error(DsConn *entry, const char *sql)
{
	PGresult   *res;

	entry->broken = true;		/* until we know the command went through */
	if (!PQsendQuery(entry->conn, sql))
		ds_report_remote_error(ERROR, NULL, entry->conn, entry->source, sql);
	res = ds_get_result(entry->conn, entry->source);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		ds_report_remote_error(ERROR, res, entry->conn, entry->source, sql);
	PQclear(res);
	entry->broken = false;
}

/*
 * ds_remote_begin
 *		The connection of the current role to a remote datasource, with a
 *		remote transaction (and savepoints up to the current local nest
 *		level) open.  The connection belongs to this module: callers must not
 *		close it or run transaction control on it.
 */
PGconn *
ds_remote_begin(DsSource *source)
{
	ForeignServer *server;
	UserMapping *mapping;
	DsConn	   *entry;
	int			level = GetCurrentTransactionNestLevel();

	Assert(source->server != NULL);
	if (!source->enabled)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("datasource \"%s\" is disabled", source->name),
				errhint("Enable it with datasource.alter_source('%s', enabled => true).",
						source->name));

	server = ds_lookup_server(source->server);
	mapping = GetUserMapping(GetUserId(), server->serverid);
	entry = ds_find_entry(server->serverid, GetUserId());

	if (entry != NULL && entry->broken)
		ereport(ERROR,
				errcode(ERRCODE_CONNECTION_FAILURE),
				errmsg("the remote transaction on datasource \"%s\" was lost",
					   source->name),
				errhint("Roll back the local transaction."));

	if (entry == NULL)
	{
		MemoryContext old;
		PGconn	   *conn;

		if (ds_conn_context == NULL)
			ds_conn_context = AllocSetContextCreate(TopMemoryContext,
													"pg_datasource connections",
													ALLOCSET_SMALL_SIZES);
		conn = ds_connect(source, server, mapping);
		old = MemoryContextSwitchTo(ds_conn_context);
		entry = palloc0(sizeof(DsConn));
		entry->serverid = server->serverid;
		entry->userid = GetUserId();
		entry->source = pstrdup(source->name);
		entry->conn = conn;
		ds_conns = lappend(ds_conns, entry);
		MemoryContextSwitchTo(old);

		ds_exec_or_error(entry, "BEGIN");
		entry->xact_depth = 1;
	}

	while (entry->xact_depth < level)
	{
		char		sql[64];

		entry->xact_depth++;
		snprintf(sql, sizeof(sql), "SAVEPOINT s%d", entry->xact_depth);
		ds_exec_or_error(entry, sql);
	}
	return entry->conn;
}

/*
 * ds_remote_exec
 *		Runs one statement with text parameters on a connection from
 *		ds_remote_begin and returns its result (the caller PQclears it).
 *		Remote errors are raised with their own SQLSTATE.
 */
PGresult *
ds_remote_exec(PGconn *conn, const char *sql, int nparams,
			   const char *const *params, bool expect_rows)
{
	ListCell   *lc;
	const char *source = "?";
	PGresult   *res;
	ExecStatusType want = expect_rows ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;

	foreach(lc, ds_conns)
		if (((DsConn *) lfirst(lc))->conn == conn)
			source = ((DsConn *) lfirst(lc))->source;

	if (!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0))
		ds_report_remote_error(ERROR, NULL, conn, source, sql);
	res = ds_get_result(conn, source);
	if (res == NULL || PQresultStatus(res) != want)
		ds_report_remote_error(ERROR, res, conn, source, sql);
	return res;
}

/*
 * ds_remote_schema_exists
 *		Whether a schema exists on a remote datasource.
 */
bool
ds_remote_schema_exists(DsSource *source, const char *schema)
{
	const char *params[1] = {schema};
	PGresult   *res;
	bool		exists;

	res = ds_remote_exec(ds_remote_begin(source),
						 "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
						 1, params, true);
	exists = PQntuples(res) > 0;
	PQclear(res);
	return exists;
}

/*
 * ds_exec_cleanup
 *		Runs a command during abort processing: no error may be raised, and
 *		the wait is bounded (30 s) without serving interrupts.  Returns false
 *		when the command did not complete.
 */
static bool
ds_exec_cleanup(DsConn *entry, const char *sql)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   30000);
	PGresult   *res;
	PGresult   *last = NULL;
	bool		ok;

	if (entry->conn == NULL || PQstatus(entry->conn) != CONNECTION_OK ||
		!PQsendQuery(entry->conn, sql))
		return false;

	for (;;)
	{
		while (PQisBusy(entry->conn))
		{
			long		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
																  deadline);
			int			rc;

			if (timeout <= 0)
			{
				PQclear(last);
				return false;
			}
			rc = WaitLatchOrSocket(MyLatch,
								   WL_EXIT_ON_PM_DEATH | WL_LATCH_SET |
								   WL_SOCKET_READABLE | WL_TIMEOUT,
								   PQsocket(entry->conn), timeout,
								   PG_WAIT_EXTENSION);
			if (rc & WL_LATCH_SET)
				ResetLatch(MyLatch);
			if ((rc & WL_SOCKET_READABLE) && !PQconsumeInput(entry->conn))
			{
				PQclear(last);
				return false;
			}
		}
		res = PQgetResult(entry->conn);
		if (res == NULL)
			break;
		PQclear(last);
		last = res;
	}
	ok = (last != NULL && PQresultStatus(last) == PGRES_COMMAND_OK);
	PQclear(last);
	return ok;
}

/*
 * ds_close_all
 *		Closes every connection and forgets the entries.
 */
static void
ds_close_all(void)
{
	ListCell   *lc;

	foreach(lc, ds_conns)
	{
		DsConn	   *entry = lfirst(lc);

		if (entry->conn != NULL)
		{
			PQfinish(entry->conn);
			ReleaseExternalFD();
			entry->conn = NULL;
		}
	}
	ds_conns = NIL;
	if (ds_conn_context != NULL)
		MemoryContextReset(ds_conn_context);
}

/*
 * ds_xact_callback
 *		Commits remote transactions just before the local commit; on abort
 *		closes the connections, which makes the remote servers roll back.
 */
static void
ds_xact_callback(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (ds_conns == NIL)
		return;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			foreach(lc, ds_conns)
			{
				DsConn	   *entry = lfirst(lc);

				if (entry->broken)
					ereport(ERROR,
							errcode(ERRCODE_CONNECTION_FAILURE),
							errmsg("the remote transaction on datasource \"%s\" was lost",
								   entry->source),
							errdetail("The local transaction is rolled back so both sides agree."));
				ds_exec_or_error(entry, "COMMIT");
			}
			ds_close_all();
			break;
		case XACT_EVENT_PRE_PREPARE:
			ereport(ERROR,
					errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					errmsg("cannot PREPARE a transaction that has changed remote datasources"));
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			ds_close_all();
			break;
	}
}

/*
 * ds_subxact_callback
 *		Releases or rolls back the remote savepoint of a local subtransaction
 *		that ends.  A rollback that cannot be done marks the connection
 *		broken, so the local transaction cannot commit.
 */
static void
ds_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	int			level;
	ListCell   *lc;

	if (ds_conns == NIL ||
		(event != SUBXACT_EVENT_PRE_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB))
		return;

	level = GetCurrentTransactionNestLevel();
	foreach(lc, ds_conns)
	{
		DsConn	   *entry = lfirst(lc);
		char		sql[96];

		if (entry->xact_depth < level)
			continue;
		Assert(entry->xact_depth == level);
		if (event == SUBXACT_EVENT_PRE_COMMIT_SUB)
		{
			snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT s%d", level);
			ds_exec_or_error(entry, sql);
		}
		else if (!entry->broken)
		{
			snprintf(sql, sizeof(sql),
					 "ROLLBACK TO SAVEPOINT s%d; RELEASE SAVEPOINT s%d",
					 level, level);
			if (!ds_exec_cleanup(entry, sql))
				entry->broken = true;
		}
		entry->xact_depth--;
	}
}

/*
 * ds_remote_run
 *		Runs a routed statement on a remote datasource, in the remote
 *		transaction of the local one, with unqualified names resolving in
 *		schema; rows go to r and the remote command status is returned.
 *		Parameters are text (NULL for SQL null), typed by the remote server.
 */
char *
ds_remote_run(DsSource *source, const char *sql, const char *schema,
			  int nparams, char **params, DsResult *r)
{
	PGconn	   *conn = ds_remote_begin(source);
	const char *path = quote_identifier(schema);
	PGresult   *res;
	ExecStatusType st;
	char	   *volatile status = NULL;
	int			ncols;
	int			row;

	/* transaction-local, so it ends with the remote transaction */
	res = ds_remote_exec(conn, "SELECT pg_catalog.set_config('search_path', $1, true)",
						 1, &path, true);
	PQclear(res);

	if (!PQsendQueryParams(conn, sql, nparams, NULL,
						   (const char *const *) params, NULL, NULL, 0))
		ds_report_remote_error(ERROR, NULL, conn, source->name, sql);
	res = ds_get_result(conn, source->name);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		ds_report_remote_error(ERROR, res, conn, source->name, sql);

	PG_TRY();
	{
		ncols = PQnfields(res);
		if (st == PGRES_TUPLES_OK)
		{
			char	  **names = palloc(sizeof(char *) * Max(ncols, 1));
			Oid		   *types = palloc(sizeof(Oid) * Max(ncols, 1));
			char	  **texts = palloc(sizeof(char *) * Max(ncols, 1));
			int			c;

			for (c = 0; c < ncols; c++)
			{
				names[c] = pstrdup(PQfname(res, c));
				types[c] = PQftype(res, c);
			}
			ds_result_start(r, ncols, names, types, false);
			for (row = 0; row < PQntuples(res) && !r->truncated; row++)
			{
				for (c = 0; c < ncols; c++)
					texts[c] = PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
				ds_result_row(r, NULL, NULL, texts);
			}
		}
		status = pstrdup(PQcmdStatus(res));
	}
	PG_FINALLY();
	{
		PQclear(res);
	}
	PG_END_TRY();
	return status;
}
