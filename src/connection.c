/*-------------------------------------------------------------------------
 *
 * connection.c
 *		  Cached libpq connections to remote datasources and their
 *		  transactions.
 *
 * A remote datasource is reached with libpq from the backend, as the user
 * mapping of the current role for the datasource's foreign server.  One
 * connection per foreign server and local role is kept for the life of the
 * backend.  It is closed when the server or the user mapping changes (the
 * syscache invalidation callbacks mark it; it is closed as soon as it is
 * idle), by datasource.disconnect(), and when it is found dead while idle,
 * in which case the call that found it reconnects transparently.  A
 * connection lost inside a remote transaction is an error: the local
 * transaction must roll back.
 *
 * Statements that only read run on their own, as one round trip: no
 * BEGIN/COMMIT, in the remote server's autocommit, and read-only there
 * (default_transaction_read_only is kept on in the remote session while
 * reads run).  A statement that may write opens a remote transaction tied
 * to the local one: the first such statement sends START TRANSACTION in the
 * same pipeline, each local subtransaction level that uses the connection
 * gets a remote SAVEPOINT, and the transaction callbacks COMMIT the remote
 * transaction just before the local commit (an error there aborts the
 * local transaction) or roll it back when the local transaction aborts.
 * Once a remote transaction is open, every later statement of the local
 * transaction on that connection runs inside it.  Between the remote
 * COMMIT and the local commit there is a window in which a crash of the
 * local server leaves the remote work committed; two-phase commit is not
 * used.
 *
 * Session settings the routing layer needs (search_path of the target,
 * read-only mode) are remembered per connection and sent only when they
 * change, pipelined in front of the statement; after any remote rollback
 * they count as unknown and are sent again.
 *
 * Security follows postgres_fdw: USAGE on the server is required, and a
 * non-superuser must authenticate to the remote with a password (unless a
 * superuser set password_required 'false' on the mapping).  libpq's error
 * messages never contain the password, and neither do ours.
 *
 * Connecting and waiting for results process interrupts: a cancel or
 * statement_timeout stops the local call at once and the remote query is
 * cancelled; a backend that exits cancels what its connections still run.
 * Connecting has its own deadline, datasource.connect_timeout.
 *
 * A statement routed a second time is prepared on the connection, so the
 * remote parses and plans it once (see "remote prepared statements" below).
 *
 * Rows are streamed in libpq's single-row mode into the caller's DsSink,
 * so a large result never sits in memory as one PGresult.
 *
 * Memory: the connection table and each connection's wait event set live
 * in TopMemoryContext, a connection's prepared statements in a child of it
 * ("pg_datasource remote prepared statements", reset when the connection
 * closes); what a call returns is palloc'd in the caller's context.
 *
 * IDENTIFICATION
 *		  src/connection.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "common/hashfn.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

/* a cached connection: one per foreign server and local role */
typedef struct DsConnKey
{
	Oid			serverid;
	Oid			userid;
} DsConnKey;

/* how many statements routed once a connection remembers */
#define DS_SEEN_MAX 256

typedef struct DsConn
{
	DsConnKey	key;
	PGconn	   *conn;			/* NULL when closed */
	char		source[NAMEDATALEN];	/* datasource name, for messages */
	char		server[NAMEDATALEN];
	int			xact_depth;		/* 0: no remote transaction; else the local
								 * nest level it covers */
	int			release_level;	/* > 0: RELEASE SAVEPOINT s<n> still due */
	bool		busy;			/* results of a query are still coming */
	bool		broken;			/* remote transaction state unknown */
	bool		invalidated;	/* server or mapping changed: close when idle */
	bool		public_mapping; /* connected through a PUBLIC mapping */
	bool		path_known;		/* path is the remote's search_path */
	bool		ro_session;		/* default_transaction_read_only is on */
	char		path[2 * NAMEDATALEN + 3];
	uint32		server_hash;
	uint32		mapping_hash;
	TimestampTz connected_at;
	int64		calls;
	WaitEventSet *waitset;		/* latch, postmaster death and the socket:
								 * made once per connection, not per wait */
	/* remote prepared statements (see ds_prepared_find) */
	struct DsPrepared *prepared;	/* nprepared of maxprepared */
	int			nprepared;
	int			maxprepared;
	int			prepared_seq;	/* the number of the last name given */
	uint64		prepared_clock; /* counts uses, for the LRU */
	uint32		seen[DS_SEEN_MAX];	/* keys of statements routed once, a
									 * ring of nseen (see ds_seen_before) */
	int			nseen;
	int			seen_next;
	List	   *dealloc;		/* int: names to DEALLOCATE when we can */
	MemoryContext prepared_cxt; /* all of the above */
} DsConn;

static HTAB *ds_conn_hash = NULL;
static bool ds_conn_xact_used = false;	/* a remote transaction was opened */

static PGconn *ds_connect(const char *source, ForeignServer *server,
						  UserMapping *mapping);
static void ds_connect_poll(PGconn *conn, const char *source);
static PGresult *ds_next_result(DsConn *entry);
static void ds_report_remote_error(int elevel, PGresult *res, PGconn *conn,
								   const char *source, const char *sql);
static void ds_exec_or_error(DsConn *entry, const char *sql);
static bool ds_exec_cleanup(DsConn *entry, const char *sql, TimestampTz deadline);
static bool ds_drain(DsConn *entry, TimestampTz deadline);
static void ds_cancel(DsConn *entry);
static void ds_conn_close(DsConn *entry);
static void ds_abort_cleanup(DsConn *entry, bool toplevel);
static void ds_xact_callback(XactEvent event, void *arg);
static void ds_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								SubTransactionId parentSubid, void *arg);
static void ds_inval_callback(Datum arg, int cacheid, uint32 hashvalue);
static void ds_exit_callback(int code, Datum arg);

/*
 * ds_connection_init
 *		Registers the transaction, invalidation and exit callbacks; called
 *		from _PG_init.
 */
void
ds_connection_init(void)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(DsConnKey);
	ctl.entrysize = sizeof(DsConn);
	ds_conn_hash = hash_create("pg_datasource connections", 8, &ctl,
							   HASH_ELEM | HASH_BLOBS);

	RegisterXactCallback(ds_xact_callback, NULL);
	RegisterSubXactCallback(ds_subxact_callback, NULL);
	CacheRegisterSyscacheCallback(FOREIGNSERVEROID, ds_inval_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(USERMAPPINGOID, ds_inval_callback, (Datum) 0);
	on_proc_exit(ds_exit_callback, (Datum) 0);
}

/*
 * ds_connect
 *		Opens a libpq connection for a datasource as the user mapping says,
 *		enforcing the password rules; errors carry SQLSTATE 08001.
 */
static PGconn *
ds_connect(const char *source, ForeignServer *server, UserMapping *mapping)
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
					   source),
				errdetail("Non-superusers must give a password in their user mapping."));

	if (!AcquireExternalFD())
		ereport(ERROR,
				errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
				errmsg("could not connect to datasource \"%s\"", source),
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
		ds_connect_poll(conn, source);

		if (PQstatus(conn) != CONNECTION_OK)
			ereport(ERROR,
					errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					errmsg("could not connect to datasource \"%s\"", source),
					errdetail_internal("%s", pchomp(PQerrorMessage(conn))));

		if (!superuser_arg(mapping->userid) && password_required &&
			!PQconnectionUsedPassword(conn))
			ereport(ERROR,
					errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
					errmsg("password is required to connect to datasource \"%s\"",
						   source),
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
 *		Without a result (the connection failed) the SQLSTATE is 08006.
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
	message = pchomp(primary ? primary : (conn ? PQerrorMessage(conn) : ""));
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
 * ds_next_result
 *		The next result of what was sent on the entry's connection, waiting
 *		for it while serving interrupts; NULL at the end of a command's
 *		results.  When the connection fails, a PGRES_FATAL_ERROR result
 *		made from libpq's message is returned.  On an interrupt the remote
 *		query is cancelled before the error goes on; the entry stays busy and
 *		the abort callbacks drain or close it.
 */
static PGresult *
ds_next_result(DsConn *entry)
{
	PGconn	   *conn = entry->conn;
	volatile bool failed = false;

	/* no return inside PG_TRY: it would leave the exception stack behind */
	PG_TRY();
	{
		while (!failed && PQisBusy(conn))
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
			if ((event.events & WL_SOCKET_READABLE) && !PQconsumeInput(conn))
				failed = true;
		}
	}
	PG_CATCH();
	{
		ds_cancel(entry);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (failed)
		return PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
	return PQgetResult(conn);
}

/*
 * ds_cancel
 *		Asks the remote server to cancel what the connection runs.
 */
static void
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
 * ds_conn_close
 *		Closes the connection of an entry; the entry stays, closed.
 */
static void
ds_conn_close(DsConn *entry)
{
	if (entry->waitset != NULL)
	{
		FreeWaitEventSet(entry->waitset);
		entry->waitset = NULL;
	}
	if (entry->conn != NULL)
	{
		PQfinish(entry->conn);
		ReleaseExternalFD();
		entry->conn = NULL;
	}
	entry->xact_depth = 0;
	entry->release_level = 0;
	entry->busy = false;
	entry->broken = false;
	entry->invalidated = false;
	entry->path_known = false;
	entry->ro_session = false;
	entry->calls = 0;
	/* a new session has none of our statements */
	if (entry->prepared_cxt != NULL)
		MemoryContextReset(entry->prepared_cxt);
	entry->prepared = NULL;
	entry->nprepared = 0;
	entry->maxprepared = 0;
	entry->dealloc = NIL;
	entry->nseen = 0;
	entry->seen_next = 0;
}

/*
 * ds_conn_get
 *		The cached connection of the current role to a remote datasource,
 *		opened if need be.  USAGE on the foreign server is checked on every
 *		call.  A closed, invalidated or dead connection is replaced when no
 *		remote transaction is open on it.
 */
static DsConn *
ds_conn_get(DsSource *source)
{
	DsConnKey	key;
	DsConn	   *entry;
	bool		found;
	AclResult	aclresult;

	Assert(source->server != NULL);
	if (!source->enabled)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("datasource \"%s\" is disabled", source->name),
				errhint("Enable it with datasource.alter_source('%s', enabled => true).",
						source->name));

	MemSet(&key, 0, sizeof(key));
	key.serverid = get_foreign_server_oid(source->server, true);
	key.userid = GetUserId();
	entry = OidIsValid(key.serverid)
		? hash_search(ds_conn_hash, &key, HASH_FIND, NULL) : NULL;

	if (entry != NULL && entry->conn != NULL && !entry->invalidated)
	{
		aclresult = pg_foreign_server_aclcheck(key.serverid, key.userid, ACL_USAGE);
		if (aclresult != ACLCHECK_OK)
			aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, source->server);
	}
	else
	{
		/* full lookup: existence, wrapper and USAGE */
		ForeignServer *server = ds_lookup_server(source->server);

		key.serverid = server->serverid;
		entry = hash_search(ds_conn_hash, &key, HASH_ENTER, &found);
		if (!found)
		{
			entry->conn = NULL;
			entry->waitset = NULL;
			entry->prepared_cxt = NULL;
			entry->prepared_seq = 0;
			entry->prepared_clock = 0;
			ds_conn_close(entry);
		}
	}

	if (entry->xact_depth > 0 && (entry->broken || entry->conn == NULL ||
								  PQstatus(entry->conn) == CONNECTION_BAD))
		ereport(ERROR,
				errcode(ERRCODE_CONNECTION_FAILURE),
				errmsg("the remote transaction on datasource \"%s\" was lost",
					   source->name),
				errhint("Roll back the local transaction."));
	if (entry->busy)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_IN_USE),
				errmsg("the connection to datasource \"%s\" is busy with another statement",
					   source->name));

	if (entry->conn != NULL && entry->xact_depth == 0 &&
		(entry->invalidated || PQstatus(entry->conn) == CONNECTION_BAD))
		ds_conn_close(entry);

	if (entry->conn == NULL)
	{
		ForeignServer *server = GetForeignServer(key.serverid);
		UserMapping *mapping = GetUserMapping(key.userid, key.serverid);
		HeapTuple	tup;

		entry->conn = ds_connect(source->name, server, mapping);
		strlcpy(entry->source, source->name, NAMEDATALEN);
		strlcpy(entry->server, server->servername, NAMEDATALEN);
		entry->server_hash = GetSysCacheHashValue1(FOREIGNSERVEROID,
												   ObjectIdGetDatum(key.serverid));
		entry->mapping_hash = GetSysCacheHashValue1(USERMAPPINGOID,
													ObjectIdGetDatum(mapping->umid));
		tup = SearchSysCache1(USERMAPPINGOID, ObjectIdGetDatum(mapping->umid));
		entry->public_mapping = HeapTupleIsValid(tup) &&
			!OidIsValid(((Form_pg_user_mapping) GETSTRUCT(tup))->umuser);
		if (HeapTupleIsValid(tup))
			ReleaseSysCache(tup);
		entry->connected_at = GetCurrentTimestamp();
	}
	return entry;
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
	PGresult   *last = NULL;

	entry->broken = true;		/* until we know the command went through */
	if (!PQsendQuery(entry->conn, sql))
		ds_report_remote_error(ERROR, NULL, entry->conn, entry->source, sql);
	entry->busy = true;
	while ((res = ds_next_result(entry)) != NULL)
	{
		PQclear(last);
		last = res;
		if (PQstatus(entry->conn) == CONNECTION_BAD)
			break;
	}
	entry->busy = false;
	if (last == NULL || PQresultStatus(last) != PGRES_COMMAND_OK)
		ds_report_remote_error(ERROR, last, entry->conn, entry->source, sql);
	PQclear(last);
	entry->broken = false;
}

/* ------------------------------------------------ remote prepared statements */

/*
 * Statements routed more than once are prepared on the remote connection
 * (named pgds_<n>, numbered per connection and never reused), so that the
 * remote parses and plans them once.  The connection itself remembers which
 * statements it ran once (the keys of the last DS_SEEN_MAX, see
 * ds_seen_before); the statement cache of stmtcache.c cannot say, since any
 * catalog change anywhere, autovacuum's included, empties it.  Then the Parse goes in the same pipeline as
 * the first execution, and later executions send only Bind and Execute.  A
 * connection keeps at most datasource.remote_prepared_statements of them;
 * past that the least recently used one is deallocated, in a sync group of
 * its own in front of a statement that runs outside a remote transaction
 * (inside one, a full connection simply prepares no new statement).  Prepared
 * statements are keyed by search_path, parameter count and text, since the
 * same text names other tables under another path.  PREPARE is not
 * transactional, so a remote rollback leaves them in place.  They are
 * forgotten with the connection, and all of them when a statement that ran
 * there reports DEALLOCATE or DISCARD, or an execution finds its statement
 * gone (26000).  An execution that fails because DDL changed the
 * statement's result type (0A000, "cached plan must not change result
 * type") forgets that one; both are run again at once when nothing of the
 * call can have taken effect: outside a remote transaction, before any row.
 */
typedef struct DsPrepared
{
	uint32		hash;			/* of path, nparams and text */
	int			id;				/* the statement is pgds_<id> */
	int			nparams;
	uint64		used;			/* the connection's clock at the last use */
	char	   *path;
	char	   *sql;
} DsPrepared;

/* the name of prepared statement id */
#define DS_PREPARED_NAME(buf, id) snprintf((buf), sizeof(buf), "pgds_%d", (id))

/*
 * ds_prepared_hash
 *		The key of a statement text under a search_path.
 */
static uint32
ds_prepared_hash(const char *path, const char *sql, int nparams)
{
	uint32		h = hash_bytes((const unsigned char *) sql, strlen(sql));

	h = hash_combine(h, hash_bytes((const unsigned char *) path, strlen(path)));
	return hash_combine(h, hash_uint32((uint32) nparams));
}

/*
 * ds_seen_before
 *		Whether the connection ran the statement of key hash once before; if
 *		not, it is remembered now.  A ring of the last DS_SEEN_MAX keys: a
 *		statement routed again only after that many others is prepared a
 *		call later, and two statements sharing a key only lose a call.
 */
static bool
ds_seen_before(DsConn *entry, uint32 hash)
{
	int			i;

	for (i = 0; i < entry->nseen; i++)
		if (entry->seen[i] == hash)
			return true;
	entry->seen[entry->seen_next] = hash;
	entry->seen_next = (entry->seen_next + 1) % DS_SEEN_MAX;
	if (entry->nseen < DS_SEEN_MAX)
		entry->nseen++;
	return false;
}

/*
 * ds_prepared_find
 *		The connection's prepared statement for sql under path, or NULL.
 */
static DsPrepared *
ds_prepared_find(DsConn *entry, const char *path, const char *sql,
				 int nparams, uint32 hash)
{
	int			i;

	for (i = 0; i < entry->nprepared; i++)
	{
		DsPrepared *p = &entry->prepared[i];

		if (p->hash == hash && p->nparams == nparams &&
			strcmp(p->sql, sql) == 0 && strcmp(p->path, path) == 0)
			return p;
	}
	return NULL;
}

/*
 * ds_prepared_forget
 *		Forgets one prepared statement (p) or, with p NULL, all of them.
 *		dealloc: the remote may still have them, so DEALLOCATE them with a
 *		later statement that runs outside a remote transaction; otherwise the
 *		remote certainly has them no more.  Names are never used twice, so a
 *		statement left behind on the remote is only a waste.
 */
static void
ds_prepared_forget(DsConn *entry, DsPrepared *p, bool dealloc)
{
	MemoryContext old;

	if (p == NULL)
	{
		while (entry->nprepared > 0)
			ds_prepared_forget(entry, &entry->prepared[0], dealloc);
		return;
	}
	if (dealloc)
	{
		old = MemoryContextSwitchTo(entry->prepared_cxt);
		entry->dealloc = lappend_int(entry->dealloc, p->id);
		MemoryContextSwitchTo(old);
	}
	pfree(p->path);
	pfree(p->sql);
	*p = entry->prepared[--entry->nprepared];
}

/*
 * ds_prepared_add
 *		Records a new prepared statement of the connection (before its Parse
 *		is sent; the caller forgets it again if the Parse fails) and returns
 *		it.  The connection must have room.
 */
static DsPrepared *
ds_prepared_add(DsConn *entry, const char *path, const char *sql,
				int nparams, uint32 hash)
{
	DsPrepared *p;

	if (entry->prepared_cxt == NULL)
		entry->prepared_cxt = AllocSetContextCreate(TopMemoryContext,
													"pg_datasource remote prepared statements",
													ALLOCSET_SMALL_SIZES);
	if (entry->nprepared == entry->maxprepared)
	{
		int			max = Max(entry->maxprepared * 2, 8);

		if (entry->prepared == NULL)
			entry->prepared = MemoryContextAlloc(entry->prepared_cxt,
												 sizeof(DsPrepared) * max);
		else
			entry->prepared = repalloc(entry->prepared, sizeof(DsPrepared) * max);
		entry->maxprepared = max;
	}
	p = &entry->prepared[entry->nprepared++];
	p->hash = hash;
	p->id = ++entry->prepared_seq;
	p->nparams = nparams;
	p->used = ++entry->prepared_clock;
	p->path = MemoryContextStrdup(entry->prepared_cxt, path);
	p->sql = MemoryContextStrdup(entry->prepared_cxt, sql);
	return p;
}

/*
 * ds_prepared_lru
 *		The least recently used prepared statement of the connection.
 */
static DsPrepared *
ds_prepared_lru(DsConn *entry)
{
	DsPrepared *lru = NULL;
	int			i;

	for (i = 0; i < entry->nprepared; i++)
		if (lru == NULL || entry->prepared[i].used < lru->used)
			lru = &entry->prepared[i];
	return lru;
}

/* ------------------------------------------------------------ statements */

/* what ds_conn_run sends in front of the statement */
typedef struct DsPreamble
{
	int			n;
	int			max;
	const char **sql;
	int		   *nparams;
	const char **param;			/* each command has at most one parameter */
	bool		sync_after_settings;	/* the statement needs a transaction
										 * of its own */
} DsPreamble;

static void
ds_preamble_add(DsPreamble *p, const char *sql, const char *param)
{
	Assert(p->n < p->max);
	p->sql[p->n] = sql;
	p->nparams[p->n] = param ? 1 : 0;
	p->param[p->n] = param;
	p->n++;
}

/* what ds_conn_run tells its caller */
typedef enum DsRunOutcome
{
	DS_RUN_DONE,				/* the statement ran (or raised) */
	DS_RUN_RECONNECT,			/* the connection was dead: nothing happened */
	DS_RUN_AGAIN				/* a prepared statement was stale: nothing
								 * happened, run it again */
} DsRunOutcome;

/* the commands of one call, in the order their results come */
typedef enum DsCmdKind
{
	DS_CMD_DEALLOCATE,			/* an evicted prepared statement */
	DS_CMD_PREAMBLE,			/* transaction control and settings */
	DS_CMD_PREPARE,				/* the statement's Parse */
	DS_CMD_STATEMENT			/* the statement itself */
} DsCmdKind;

/*
 * ds_conn_run
 *		Sends one statement, with whatever has to go in front of it, and
 *		streams its rows into r (when r is not NULL).  Returns the command
 *		status (palloc'd).
 *
 *		path: the search_path the statement needs, or NULL to leave it.
 *		read_only: the statement only reads; outside a remote transaction
 *		it runs alone, read-only, in the remote's autocommit.  Otherwise a
 *		remote transaction is opened (or continued), with savepoints up to
 *		the current local nest level.
 *		prepare: the statement is one routed statement, which is prepared
 *		on the remote (with path given) when the connection ran it before.  may_again: a stale prepared statement
 *		may be reported as DS_RUN_AGAIN instead of raised.
 *
 *		*outcome is DS_RUN_RECONNECT when the connection was found dead
 *		before anything of this call could have taken effect on the remote,
 *		so the caller may reconnect and try again; DS_RUN_AGAIN when the
 *		remote refused a stale prepared statement before anything took
 *		effect, so the caller may simply run the statement again.
 */
static char *
ds_conn_run(DsConn *entry, const char *sql, int nparams,
			const char *const *params, const char *path, bool read_only,
			bool prepare, bool may_again, DsSink *r, DsRunOutcome *outcome)
{
	PGconn	   *conn = entry->conn;
	DsPreamble	pre;
	bool		in_xact = !read_only || entry->xact_depth > 0;
	bool		opened = false;
	int			level = GetCurrentTransactionNestLevel();
	int			saved_depth = entry->xact_depth;
	bool		set_path;
	bool		set_ro;
	bool		pipeline;
	int			nsyncs = 0;
	int			cmd = 0;
	int			syncs = 0;
	bool		single = false;
	bool		stmt_seen = false;
	PGresult   *error = NULL;
	const char *error_sql = sql;
	char	   *status = NULL;
	char	  **texts = NULL;
	DsCmdKind  *cmds;
	int			ncmds = 0;
	int			npre = 0;		/* preamble commands whose results came */
	DsPrepared *prepared = NULL;	/* the statement's, when it has one */
	bool		prepare_now = false;	/* its Parse is sent in this call */
	bool		parse_failed = false;
	List	   *dealloc = NIL;	/* statements deallocated in this call */
	char		name[32];
	ListCell   *lc;

	*outcome = DS_RUN_DONE;
	pre.n = 0;
	pre.max = Max(level - entry->xact_depth, 0) + 4;
	pre.sql = palloc(sizeof(char *) * pre.max);
	pre.nparams = palloc(sizeof(int) * pre.max);
	pre.param = palloc(sizeof(char *) * pre.max);
	pre.sync_after_settings = false;

	set_path = path != NULL &&
		(!entry->path_known || strcmp(entry->path, path) != 0);
	set_ro = !in_xact && !entry->ro_session;

	if (path != NULL && ds_remote_prepared_max > 0 &&
		(prepare || entry->nprepared > 0))
	{
		uint32		hash = ds_prepared_hash(path, sql, nparams);

		prepared = ds_prepared_find(entry, path, sql, nparams, hash);
		if (prepared != NULL)
			prepared->used = ++entry->prepared_clock;
		else if (prepare && ds_seen_before(entry, hash))
		{
			/* full: make room, outside a remote transaction only */
			while (entry->nprepared >= ds_remote_prepared_max && saved_depth == 0)
				ds_prepared_forget(entry, ds_prepared_lru(entry), true);
			if (entry->nprepared < ds_remote_prepared_max)
			{
				prepared = ds_prepared_add(entry, path, sql, nparams, hash);
				prepare_now = true;
			}
		}
	}
	if (saved_depth == 0 && entry->dealloc != NIL)
	{
		/* what the remote may still have goes now, outside a transaction */
		dealloc = entry->dealloc;
		entry->dealloc = NIL;
	}
	cmds = palloc(sizeof(DsCmdKind) * (list_length(dealloc) + 3));

	if (in_xact)
	{
		if (entry->xact_depth == 0)
		{
			/* READ WRITE: the session may default to read-only */
			ds_preamble_add(&pre, "START TRANSACTION READ WRITE", NULL);
			entry->xact_depth = 1;
			opened = true;
			ds_conn_xact_used = true;
		}
		if (entry->release_level > 0)
		{
			ds_preamble_add(&pre, psprintf("RELEASE SAVEPOINT s%d",
										   entry->release_level), NULL);
			entry->release_level = 0;
		}
		while (entry->xact_depth < level)
		{
			entry->xact_depth++;
			ds_preamble_add(&pre, psprintf("SAVEPOINT s%d", entry->xact_depth),
							NULL);
		}
	}
	if (set_path || set_ro)
	{
		/* both settings in one command */
		if (set_path && set_ro)
			ds_preamble_add(&pre,
							"SELECT pg_catalog.set_config('search_path', $1, false), "
							"pg_catalog.set_config('default_transaction_read_only', 'on', false)",
							path);
		else if (set_path)
			ds_preamble_add(&pre,
							"SELECT pg_catalog.set_config('search_path', $1, false)",
							path);
		else
			ds_preamble_add(&pre,
							"SELECT pg_catalog.set_config('default_transaction_read_only', 'on', false)",
							NULL);
		/* a read-only statement must start a transaction after the setting */
		pre.sync_after_settings = !in_xact;
	}

	pipeline = pre.n > 0 || prepare_now || dealloc != NIL;

	entry->calls++;
	if (pipeline)
	{
		int			i;

		if (!PQenterPipelineMode(conn))
			goto send_failed;
		foreach(lc, dealloc)
		{
			/* each in a group of its own: its failure aborts nothing else */
			char		cmdtext[48];

			snprintf(cmdtext, sizeof(cmdtext), "DEALLOCATE pgds_%d", lfirst_int(lc));
			if (!PQsendQueryParams(conn, cmdtext, 0, NULL, NULL, NULL, NULL, 0) ||
				!PQpipelineSync(conn))
				goto send_failed;
			cmds[ncmds++] = DS_CMD_DEALLOCATE;
			nsyncs++;
		}
		for (i = 0; i < pre.n; i++)
			if (!PQsendQueryParams(conn, pre.sql[i], pre.nparams[i], NULL,
								   &pre.param[i], NULL, NULL, 0))
				goto send_failed;
		if (pre.n > 0)
			cmds[ncmds++] = DS_CMD_PREAMBLE;
		if (pre.sync_after_settings)
		{
			if (!PQpipelineSync(conn))
				goto send_failed;
			nsyncs++;
		}
		if (prepare_now)
		{
			DS_PREPARED_NAME(name, prepared->id);
			if (!PQsendPrepare(conn, name, sql, nparams, NULL))
				goto send_failed;
			cmds[ncmds++] = DS_CMD_PREPARE;
		}
		if (prepared != NULL)
		{
			DS_PREPARED_NAME(name, prepared->id);
			if (!PQsendQueryPrepared(conn, name, nparams, params, NULL, NULL, 0))
				goto send_failed;
		}
		else if (!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0))
			goto send_failed;
		if (!PQpipelineSync(conn))
			goto send_failed;
		cmds[ncmds++] = DS_CMD_STATEMENT;
		nsyncs++;
	}
	else
	{
		if (prepared != NULL)
		{
			DS_PREPARED_NAME(name, prepared->id);
			if (!PQsendQueryPrepared(conn, name, nparams, params, NULL, NULL, 0))
				goto send_failed;
		}
		else if (!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0))
			goto send_failed;
		cmds[ncmds++] = DS_CMD_STATEMENT;
		single = PQsetSingleRowMode(conn) == 1;
	}
	entry->busy = true;

	/*
	 * Read everything, whatever fails, so the connection is idle again
	 * before an error is raised.  Every command's results end with a NULL
	 * (the preamble's commands count as one per command), every sync with
	 * PGRES_PIPELINE_SYNC.  Row conversion errors leave the entry busy; the
	 * abort callbacks cancel and drain it.
	 */
	for (;;)
	{
		PGresult   *res;
		ExecStatusType st;
		DsCmdKind	kind = cmds[Min(cmd, ncmds - 1)];

		if (pipeline && cmd == ncmds - 1 && !single && !stmt_seen)
			single = PQsetSingleRowMode(conn) == 1;

		res = ds_next_result(entry);
		if (res == NULL)
		{
			if (!pipeline || cmd >= ncmds)
				break;
			if (kind == DS_CMD_PREAMBLE && ++npre < pre.n)
				continue;		/* more preamble commands */
			cmd++;
			continue;
		}
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC)
		{
			PQclear(res);
			if (++syncs == nsyncs)
				break;
			continue;
		}
		if (st == PGRES_PIPELINE_ABORTED)
		{
			PQclear(res);
			continue;
		}
		if (PQstatus(conn) == CONNECTION_BAD)
		{
			/* nothing more will come */
			if (error == NULL)
				error = res;
			else
				PQclear(res);
			break;
		}
		if (kind == DS_CMD_DEALLOCATE)
		{
			/* gone already or not: either way it is gone */
			PQclear(res);
			continue;
		}
		if (kind == DS_CMD_PREAMBLE || kind == DS_CMD_PREPARE)
		{
			/*
			 * libpq keeps single-row mode on from a statement sent outside
			 * a pipeline into the first command of the next pipeline, so a
			 * setting's row may come as PGRES_SINGLE_TUPLE.
			 */
			if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
				st == PGRES_SINGLE_TUPLE || error != NULL)
			{
				if (kind == DS_CMD_PREPARE && st != PGRES_COMMAND_OK)
					parse_failed = true;
				PQclear(res);
			}
			else
			{
				error = res;
				/* a failed Parse is the statement's own error */
				error_sql = kind == DS_CMD_PREPARE ? sql : pre.sql[npre];
				if (kind == DS_CMD_PREPARE)
					parse_failed = true;
			}
			continue;
		}

		/* the statement's own results */
		stmt_seen = true;
		if (st == PGRES_SINGLE_TUPLE || st == PGRES_TUPLES_OK)
		{
			int			ncols = PQnfields(res);
			int			row;
			int			c;

			if (r != NULL && !r->started)
			{
				char	  **names = palloc(sizeof(char *) * Max(ncols, 1));
				Oid		   *types = palloc(sizeof(Oid) * Max(ncols, 1));

				for (c = 0; c < ncols; c++)
				{
					names[c] = pstrdup(PQfname(res, c));
					types[c] = PQftype(res, c);
				}
				ds_sink_start(r, ncols, names, types, false);
			}
			if (texts == NULL)
				texts = palloc(sizeof(char *) * Max(ncols, 1));
			for (row = 0; r != NULL && row < PQntuples(res) && !r->truncated; row++)
			{
				for (c = 0; c < ncols; c++)
					texts[c] = PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
				ds_sink_row(r, NULL, NULL, texts);
			}
			if (st == PGRES_TUPLES_OK)
				status = pstrdup(PQcmdStatus(res));
			PQclear(res);
		}
		else if (st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY)
		{
			status = pstrdup(PQcmdStatus(res));
			PQclear(res);
		}
		else if (error == NULL)
		{
			error = res;
			error_sql = sql;
		}
		else
			PQclear(res);
	}
	if (pipeline && PQstatus(conn) != CONNECTION_BAD && !PQexitPipelineMode(conn))
		error = error ? error : PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
	entry->busy = false;

	/* a statement that failed to prepare is not there */
	if (prepare_now && (parse_failed || PQstatus(conn) == CONNECTION_BAD ||
						(error != NULL && error_sql != sql)))
	{
		ds_prepared_forget(entry, prepared, false);
		prepared = NULL;
	}
	list_free(dealloc);

	if (PQstatus(conn) == CONNECTION_BAD)
	{
		/* nothing sent in this call took effect if no transaction was open */
		if (saved_depth == 0 && (r == NULL || r->rows == 0))
			*outcome = DS_RUN_RECONNECT;
		if (saved_depth == 0)
			entry->xact_depth = 0;
		else
			entry->broken = true;
	}
	else if (error == NULL || error_sql == sql)
	{
		/* the preamble went through */
		if (set_path)
		{
			strlcpy(entry->path, path, sizeof(entry->path));
			entry->path_known = true;
		}
		if (set_ro)
			entry->ro_session = true;	/* committed on its own */
		/* a setting made in the remote transaction goes if it rolls back */
		if (error != NULL && in_xact)
			entry->path_known = false;
	}
	else
	{
		/* the preamble failed */
		entry->path_known = false;
		entry->ro_session = false;
		if (opened)
			entry->broken = true;
	}

	if (PQstatus(conn) != CONNECTION_BAD)
	{
		if (error != NULL && prepared != NULL && !prepare_now &&
			error_sql == sql)
		{
			const char *state = PQresultErrorField(error, PG_DIAG_SQLSTATE);

			/*
			 * The statement is gone (DEALLOCATE or DISCARD ran there some
			 * other way), or DDL changed its result type: forget it, and
			 * run it again while nothing can have taken effect.
			 */
			if (state != NULL && strcmp(state, "26000") == 0)
				ds_prepared_forget(entry, NULL, true);
			else if (state != NULL && strcmp(state, "0A000") == 0 &&
					 strstr(PQresultErrorMessage(error), "cached plan must not change result type") != NULL)
				ds_prepared_forget(entry, prepared, true);
			else
				state = NULL;
			if (state != NULL && may_again && saved_depth == 0 && !in_xact &&
				(r == NULL || r->rows == 0))
				*outcome = DS_RUN_AGAIN;
		}
		else if (status != NULL && entry->nprepared > 0 &&
				 (strcmp(status, "DEALLOCATE ALL") == 0 ||
				  strcmp(status, "DISCARD ALL") == 0))
		{
			/* the statement dropped ours */
			ds_prepared_forget(entry, NULL, false);
		}
		else if (status != NULL && entry->nprepared > 0 &&
				 strcmp(status, "DEALLOCATE") == 0)
		{
			/* it may have dropped one of ours: start over */
			ds_prepared_forget(entry, NULL, true);
		}
	}

	if (*outcome != DS_RUN_DONE)
	{
		PQclear(error);
		return NULL;
	}
	if (error != NULL)
		ds_report_remote_error(ERROR, error, conn, entry->source, error_sql);
	return status ? status : pstrdup("");

send_failed:
	entry->busy = false;
	if (prepare_now)
		ds_prepared_forget(entry, prepared, false);
	/* the deallocations may not have been sent (the list is the entry's) */
	if (dealloc != NIL)
		entry->dealloc = dealloc;
	if (PQstatus(conn) == CONNECTION_BAD && saved_depth == 0)
	{
		entry->xact_depth = 0;
		*outcome = DS_RUN_RECONNECT;
		return NULL;
	}
	entry->broken = saved_depth > 0 || entry->broken;
	ds_report_remote_error(ERROR, NULL, conn, entry->source, sql);
	return NULL;				/* not reached */
}

/*
 * ds_remote_call
 *		Runs a statement on a remote datasource through the cached
 *		connection, reconnecting once when the connection was found dead
 *		before anything could take effect, and running it once more when a
 *		stale prepared statement was refused.
 */
static char *
ds_remote_call(DsSource *source, const char *sql, int nparams,
			   const char *const *params, const char *path, bool read_only,
			   bool prepare, DsSink *r)
{
	int			reconnects = 0;
	int			agains = 0;

	for (;;)
	{
		DsConn	   *entry = ds_conn_get(source);
		DsRunOutcome outcome;
		char	   *status;

		status = ds_conn_run(entry, sql, nparams, params, path, read_only,
							 prepare, agains == 0, r, &outcome);
		if (outcome == DS_RUN_DONE)
			return status;
		if (outcome == DS_RUN_AGAIN)
		{
			agains++;
			continue;
		}
		if (reconnects++ > 0)
			ereport(ERROR,
					errcode(ERRCODE_CONNECTION_FAILURE),
					errmsg("lost the connection to datasource \"%s\"", source->name),
					errdetail_internal("%s", pchomp(PQerrorMessage(entry->conn))));
		ds_conn_close(entry);
	}
}

/*
 * ds_remote_command
 *		Runs a command that may write (DDL of the registry) in the remote
 *		transaction of the local one.
 */
void
ds_remote_command(DsSource *source, const char *sql)
{
	(void) ds_remote_call(source, sql, 0, NULL, NULL, false, false, NULL);
}

/*
 * ds_remote_schema_exists
 *		Whether a schema exists on a remote datasource (seen from the open
 *		remote transaction, if there is one).
 */
bool
ds_remote_schema_exists(DsSource *source, const char *schema)
{
	const char *params[1] = {schema};
	DsSink		r;

	MemSet(&r, 0, sizeof(r));
	r.mode = DS_SINK_NONE;
	r.max_rows = -1;
	(void) ds_remote_call(source,
						  "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
						  1, params, NULL, true, false, &r);
	if (r.rowcxt)
		MemoryContextDelete(r.rowcxt);
	return r.rows > 0;
}

/*
 * ds_remote_route
 *		Runs a statement on a remote datasource with unqualified names
 *		resolving in schema; rows go to r and the remote command status is
 *		returned.  Parameters are text (NULL for SQL null), typed by the
 *		remote server.  prepare: the statement may be kept prepared on the
 *		remote connection once it comes a second time.
 */
char *
ds_remote_route(DsSource *source, const char *sql, const char *schema,
				int nparams, char **params, bool read_only, bool prepare,
				DsSink *r)
{
	return ds_remote_call(source, sql, nparams, (const char *const *) params,
						  quote_identifier(schema), read_only, prepare, r);
}

/*
 * ds_remote_run
 *		ds_remote_route for a statement that is not kept prepared
 *		(migrations and other one-off statements).
 */
char *
ds_remote_run(DsSource *source, const char *sql, const char *schema,
			  int nparams, char **params, bool read_only, DsSink *r)
{
	return ds_remote_route(source, sql, schema, nparams, params, read_only,
						   false, r);
}

/*
 * ds_remote_probe
 *		One health-check round trip on a datasource's cached connection.
 *		The remote's version and recovery state come from what the server
 *		reports to libpq (server_version, and in_hot_standby from
 *		PostgreSQL 14 on); *in_recovery is -1 when the server does not
 *		report it.
 */
void
ds_remote_probe(DsSource *source, char **version, int *in_recovery)
{
	DsConn	   *entry;
	const char *v;

	(void) ds_remote_call(source, "SELECT 1", 0, NULL, NULL, true, false, NULL);
	entry = ds_conn_get(source);
	v = PQparameterStatus(entry->conn, "server_version");
	*version = v ? pstrdup(v) : NULL;
	v = PQparameterStatus(entry->conn, "in_hot_standby");
	*in_recovery = v == NULL ? -1 : strcmp(v, "on") == 0;
}

/*
 * ds_remote_connections
 *		Adds one row per cached connection of this backend to a
 *		materialized SRF result: datasource, server, local role, remote
 *		backend pid, remote transaction depth, state, connected_at, calls.
 */
void
ds_remote_connections(Tuplestorestate *store, TupleDesc desc)
{
	HASH_SEQ_STATUS scan;
	DsConn	   *entry;

	hash_seq_init(&scan, ds_conn_hash);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		Datum		values[8];
		bool		nulls[8] = {false};
		const char *state;
		char	   *role;

		if (entry->conn == NULL)
			continue;
		if (entry->broken || PQstatus(entry->conn) == CONNECTION_BAD)
			state = "broken";
		else if (entry->invalidated)
			state = "invalidated";
		else if (entry->xact_depth > 0)
			state = "in transaction";
		else
			state = "idle";
		role = GetUserNameFromId(entry->key.userid, true);
		values[0] = CStringGetTextDatum(entry->source);
		values[1] = CStringGetTextDatum(entry->server);
		if (role)
			values[2] = CStringGetTextDatum(role);
		else
			nulls[2] = true;
		values[3] = Int32GetDatum(PQbackendPID(entry->conn));
		values[4] = Int32GetDatum(entry->xact_depth);
		values[5] = CStringGetTextDatum(state);
		values[6] = TimestampTzGetDatum(entry->connected_at);
		values[7] = Int64GetDatum(entry->calls);
		tuplestore_putvalues(store, desc, values, nulls);
	}
}

/*
 * ds_remote_forget_path
 *		The remote's search_path may have been changed by what ran there (a
 *		migration script's set_config): send it again before the next
 *		statement on server's connections.
 */
void
ds_remote_forget_path(const char *server)
{
	HASH_SEQ_STATUS scan;
	DsConn	   *entry;

	if (ds_conn_hash == NULL)
		return;
	hash_seq_init(&scan, ds_conn_hash);
	while ((entry = hash_seq_search(&scan)) != NULL)
		if (strcmp(entry->server, server) == 0)
			entry->path_known = false;
}

/*
 * ds_remote_disconnect
 *		Closes the cached connections of this backend to one datasource's
 *		server (all when server is NULL), for every role.  Connections with
 *		an open remote transaction stay, with a WARNING.  Returns how many
 *		were closed.
 */
int
ds_remote_disconnect(const char *server)
{
	HASH_SEQ_STATUS scan;
	DsConn	   *entry;
	int			closed = 0;

	hash_seq_init(&scan, ds_conn_hash);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		if (entry->conn == NULL ||
			(server != NULL && strcmp(entry->server, server) != 0))
			continue;
		if (entry->xact_depth > 0 || entry->busy)
		{
			ereport(WARNING,
					errcode(ERRCODE_OBJECT_IN_USE),
					errmsg("the connection to datasource \"%s\" is used by the current transaction and was not closed",
						   entry->source));
			continue;
		}
		ds_conn_close(entry);
		closed++;
	}
	return closed;
}

/*
 * ds_wait_input
 *		Waits, during abort processing, until a result can be taken from
 *		conn without blocking: no interrupts are served and the wait ends at
 *		the deadline.  Returns false on timeout or a broken connection.
 */
static bool
ds_wait_input(PGconn *conn, TimestampTz deadline)
{
	while (PQisBusy(conn))
	{
		long		timeout = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
															  deadline);
		int			rc;

		if (timeout <= 0)
			return false;
		rc = WaitLatchOrSocket(MyLatch,
							   WL_EXIT_ON_PM_DEATH | WL_LATCH_SET |
							   WL_SOCKET_READABLE | WL_TIMEOUT,
							   PQsocket(conn), timeout, PG_WAIT_EXTENSION);
		if (rc & WL_LATCH_SET)
			ResetLatch(MyLatch);
		if ((rc & WL_SOCKET_READABLE) && !PQconsumeInput(conn))
			return false;
	}
	return true;
}

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

		if (!ds_wait_input(conn, deadline))
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
		PQclear(res);
		if (PQstatus(conn) == CONNECTION_BAD)
			return false;
	}
}

/*
 * ds_exec_cleanup
 *		Runs a command during abort processing: no error may be raised, and
 *		the wait is bounded by the deadline without serving interrupts.
 *		Returns false when the command did not complete.
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
		if (!ds_wait_input(entry->conn, deadline))
		{
			PQclear(last);
			return false;
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
 * ds_abort_cleanup
 *		After a local (sub)transaction aborted: cancel and drain what the
 *		connection still runs, then roll the remote back to where the local
 *		side is now.  Whatever cannot be done within 30 seconds closes the
 *		connection (top level) or marks it broken (a subtransaction inside a
 *		remote transaction, so the local transaction cannot commit).
 */
static void
ds_abort_cleanup(DsConn *entry, bool toplevel)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   30000);
	int			level = GetCurrentTransactionNestLevel();
	bool		ok = true;

	if (entry->conn == NULL)
		return;
	if (PQstatus(entry->conn) == CONNECTION_BAD)
		ok = false;
	if (ok && entry->busy)
	{
		/* a setting may or may not have landed */
		entry->path_known = false;
		entry->ro_session = false;
		ds_cancel(entry);
		ok = ds_drain(entry, deadline);
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
		if (!ok || entry->invalidated)
			ds_conn_close(entry);
		entry->xact_depth = 0;
		entry->release_level = 0;
		entry->broken = false;
	}
	else
	{
		if (!ok && entry->xact_depth > 0)
			entry->broken = true;
		else if (!ok)
			ds_conn_close(entry);
		if (entry->xact_depth >= level)
			entry->xact_depth = level - 1;
		if (entry->release_level >= level)
			entry->release_level = 0;
	}
}

/*
 * ds_xact_callback
 *		Commits remote transactions just before the local commit and rolls
 *		them back when it aborts; closes invalidated connections once idle.
 */
static void
ds_xact_callback(XactEvent event, void *arg)
{
	HASH_SEQ_STATUS scan;
	DsConn	   *entry;

	if (ds_conn_hash == NULL || hash_get_num_entries(ds_conn_hash) == 0)
		return;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			if (!ds_conn_xact_used)
				break;
			hash_seq_init(&scan, ds_conn_hash);
			while ((entry = hash_seq_search(&scan)) != NULL)
			{
				if (entry->conn == NULL || entry->xact_depth == 0)
					continue;
				if (entry->broken)
				{
					hash_seq_term(&scan);
					ereport(ERROR,
							errcode(ERRCODE_CONNECTION_FAILURE),
							errmsg("the remote transaction on datasource \"%s\" was lost",
								   entry->source),
							errdetail("The local transaction is rolled back so both sides agree."));
				}
				PG_TRY();
				{
					ds_exec_or_error(entry, "COMMIT");
				}
				PG_CATCH();
				{
					hash_seq_term(&scan);
					PG_RE_THROW();
				}
				PG_END_TRY();
				entry->xact_depth = 0;
				entry->release_level = 0;
			}
			break;
		case XACT_EVENT_PRE_PREPARE:
			hash_seq_init(&scan, ds_conn_hash);
			while ((entry = hash_seq_search(&scan)) != NULL)
				if (entry->conn != NULL && entry->xact_depth > 0)
				{
					hash_seq_term(&scan);
					ereport(ERROR,
							errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							errmsg("cannot PREPARE a transaction that has changed remote datasources"));
				}
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			hash_seq_init(&scan, ds_conn_hash);
			while ((entry = hash_seq_search(&scan)) != NULL)
				ds_abort_cleanup(entry, true);
			ds_conn_xact_used = false;
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			hash_seq_init(&scan, ds_conn_hash);
			while ((entry = hash_seq_search(&scan)) != NULL)
			{
				entry->xact_depth = 0;
				entry->release_level = 0;
				if (entry->conn != NULL && entry->invalidated)
					ds_conn_close(entry);
			}
			ds_conn_xact_used = false;
			break;
	}
}

/*
 * ds_subxact_callback
 *		A local subtransaction ends.  Commit: its remote savepoint is
 *		released with the next command sent (RELEASE costs no round trip of
 *		its own).  Abort: the remote rolls back to it.
 */
static void
ds_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					SubTransactionId parentSubid, void *arg)
{
	HASH_SEQ_STATUS scan;
	DsConn	   *entry;
	int			level;

	if (!ds_conn_xact_used && event != SUBXACT_EVENT_ABORT_SUB)
		return;
	if (event != SUBXACT_EVENT_PRE_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
		return;
	if (ds_conn_hash == NULL || hash_get_num_entries(ds_conn_hash) == 0)
		return;

	level = GetCurrentTransactionNestLevel();
	hash_seq_init(&scan, ds_conn_hash);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		if (entry->conn == NULL)
			continue;
		if (event == SUBXACT_EVENT_ABORT_SUB)
		{
			if (entry->busy || entry->xact_depth >= level)
				ds_abort_cleanup(entry, false);
			continue;
		}
		if (entry->xact_depth < level)
			continue;
		/* released: the outermost pending level covers the inner ones */
		entry->release_level = level;
		entry->xact_depth = level - 1;
	}
}

/*
 * ds_inval_callback
 *		A foreign server or user mapping changed: connections made with it
 *		are closed as soon as they are idle.  A new mapping may replace a
 *		PUBLIC one, so any mapping change invalidates those.
 */
static void
ds_inval_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS scan;
	DsConn	   *entry;

	if (ds_conn_hash == NULL)
		return;
	hash_seq_init(&scan, ds_conn_hash);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		if (entry->conn == NULL)
			continue;
		if (hashvalue == 0 ||
			(cacheid == FOREIGNSERVEROID && entry->server_hash == hashvalue) ||
			(cacheid == USERMAPPINGOID &&
			 (entry->mapping_hash == hashvalue || entry->public_mapping)))
			entry->invalidated = true;
	}
}

/*
 * ds_exit_callback
 *		The backend exits (pg_terminate_backend included): cancel what the
 *		connections still run, so a remote query does not outlive us, and
 *		close them.
 */
static void
ds_exit_callback(int code, Datum arg)
{
	HASH_SEQ_STATUS scan;
	DsConn	   *entry;

	if (ds_conn_hash == NULL)
		return;
	hash_seq_init(&scan, ds_conn_hash);
	while ((entry = hash_seq_search(&scan)) != NULL)
	{
		if (entry->conn == NULL)
			continue;
		if (entry->busy)
			ds_cancel(entry);
		PQfinish(entry->conn);
		entry->conn = NULL;
	}
}
