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
 * Bound and invalidation: unlike the statement, plan and read-only caches,
 * which start over past a count, this cache is bounded by what keys it
 * (foreign servers times the roles that use them in this backend) and is
 * invalidated entry by entry: a connection is a remote session with a
 * transaction that may be open, so it can only be closed when idle, never
 * dropped wholesale.
 *
 * The remote transaction follows the local one.  A statement that may
 * write, and every statement once a remote transaction is open, runs in it
 * (remote.c runs the others alone, in the remote's autocommit):
 * ds_conn_xact_enter opens it and adds a SAVEPOINT per local
 * subtransaction level that uses the connection, as commands remote.c
 * pipelines in front of the statement.  The transaction callbacks hand
 * the remote transactions to commit.c just before the local commit (which
 * checks them all, then commits or prepares them; an error there aborts
 * the local transaction) and again after it (COMMIT PREPARED), release a
 * savepoint with the next command sent, and roll back to where the local
 * side is when a (sub)transaction aborts, after cancelling and draining
 * what the connection still runs.  The session settings remote.c keeps
 * per connection (search_path, read-only mode) count as unknown after any
 * remote rollback.
 * Whether a new connection is a session of our own or one behind a
 * pooler in transaction mode, whose statements carry their settings, is
 * decided as it is made (pooler.c, from the server's option pooler), in
 * the one round trip that also asks which database it reaches
 * (identity.c): a connection is not used while another one to the same
 * database has a remote transaction open in the local transaction.
 *
 * One lexer: a statement must be lexed on the remote exactly as validation
 * lexed it here, or a literal could end at another place there and hide
 * code from the validator.  Two settings decide where a token ends:
 * standard_conforming_strings (whether a backslash escapes in '...') and
 * client_encoding (which bytes make one character, so whether a byte 0x5c
 * is a backslash at all).  libpq keeps the values the remote reports
 * (PQparameterStatus, sent by the server whenever they change, a rollback
 * undoing a SET included), so ds_conn_lexer_command compares them with
 * this session's standard_conforming_strings and the database encoding
 * (the client encoding every connection is made with) at no cost, and
 * gives the command that sets them when they differ (a routed SET changed
 * them, or the remote's configuration does).  Nothing else changes a
 * text's tokens: backslash_quote can only make the remote refuse a \'
 * this session accepted, escape_string_warning only warns, and the other
 * settings (DateStyle, transform_null_equals, search_path ...) act on
 * values, names and expressions once the text is parsed.  Transaction
 * control text carries no literal, so it is sent as it is.
 *
 * Security follows postgres_fdw: USAGE on the server is required, and a
 * non-superuser must authenticate to the remote with a password (unless a
 * superuser set password_required 'false' on the mapping).  libpq's error
 * messages never contain the password, and neither do ours.
 *
 * Connecting serves interrupts, as waiting for results does (remoteio.c),
 * and has a deadline, datasource.connect_timeout.  What a connection does
 * when the local side aborts, and how long abort processing may wait on a
 * remote, is abort.c's.  So a remote that stops answering entirely (a
 * frozen host) holds a cancelled, timed out or terminated backend for a
 * few seconds at most.  Every libpq result is
 * freed on every path, errors included.
 *
 * Memory: the connection table lives in TopMemoryContext; what a call
 * returns is in the caller's context.
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
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/parser.h"
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

static HTAB *ds_conn_hash = NULL;
static bool ds_conn_xact_used = false;	/* a remote transaction was opened */

static PGconn *ds_connect(const char *source, ForeignServer *server,
						  UserMapping *mapping);
static void ds_connect_poll(PGconn *conn, const char *source);
static void ds_conn_abandon(DsConn *entry);
static void ds_conn_refuse_twin(const char *source, DsConn *entry);
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
		if (strcmp(def->defname, "pooler") == 0)
			continue;			/* ours (pooler.c), not libpq's */
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
	{
		ds_stats_connect_failed(source, NULL,
								ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED);
		ereport(ERROR,
				errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
				errmsg("password is required to connect to datasource \"%s\"",
					   source),
				errdetail("Non-superusers must give a password in their user mapping."));
	}

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
		ds_stats_connect_failed(source, conn, geterrcode());
		PQfinish(conn);
		ReleaseExternalFD();
		PG_RE_THROW();
	}
	PG_END_TRY();

	/* sends never block: remoteio.c's waits send what is left */
	(void) PQsetnonblocking(conn, 1);
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
 * ds_conn_close
 *		Closes the connection of an entry; the entry stays, closed.  What
 *		remote.c keeps per session is dropped when it sees the next session
 *		(entry->session).
 */
void
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
	entry->per_statement = false;
	entry->sysid = 0;
	entry->dbname[0] = '\0';
	entry->calls = 0;
	if (entry->gid[0] != '\0')
	{
		/* still prepared there: the resolver finishes it */
		entry->resolve_due = true;
		entry->gid[0] = '\0';
	}
}

/*
 * ds_conn_abandon
 *		Closes an entry's connection during abort processing or exit, when
 *		the remote may read nothing: the Terminate message libpq sends is
 *		then written without waiting.
 */
static void
ds_conn_abandon(DsConn *entry)
{
	if (entry->conn != NULL)
		(void) PQsetnonblocking(entry->conn, 1);
	ds_conn_close(entry);
}

/*
 * ds_conn_get
 *		The cached connection of the current role to a remote datasource,
 *		opened if need be.  USAGE on the foreign server is checked on every
 *		call.  A closed, invalidated or dead connection is replaced when no
 *		remote transaction is open on it.  Raises 55000 when another
 *		connection to the same database has a remote transaction open
 *		(identity.c); nothing has been sent then.
 */
DsConn *
ds_conn_get(DsSource *source)
{
	DsConnKey	key;
	DsConn	   *entry;
	bool		found;
	AclResult	aclresult;

	Assert(source->server != NULL);
	(void) ds_source_usable(source, NULL, NULL, ERROR, NULL, NULL);

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
			entry->session = 0;
			entry->statements = NULL;
			entry->gid[0] = '\0';
			entry->resolve_due = false;
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
		ds_stats_source_event(source->name, entry->session > 0 ?
							  DS_SRC_RECONNECT : DS_SRC_CONNECT, 0);
		entry->session++;
		strlcpy(entry->source, source->name, NAMEDATALEN);
		PG_TRY();
		{
			ds_identity_fetch(entry);
			ds_pooler_decide(entry, server->options);
		}
		PG_CATCH();
		{
			ds_conn_close(entry);
			PG_RE_THROW();
		}
		PG_END_TRY();
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
		ds_commit_connected(entry);
		if (entry->invalidated)
		{
			/* resolving left the new connection in an unknown state */
			ds_conn_close(entry);
			ereport(ERROR,
					errcode(ERRCODE_CONNECTION_FAILURE),
					errmsg("lost the connection to datasource \"%s\"", source->name),
					errdetail("It failed or stopped answering while the prepared transactions two-phase commit left there were resolved."));
		}
	}
	if (ds_conn_xact_used && entry->xact_depth == 0)
		ds_conn_refuse_twin(source->name, entry);
	return entry;
}

/*
 * ds_conn_refuse_twin
 *		One database, two connections, never in one transaction: raises
 *		55000 (identity.c) when another connection to entry's database has a
 *		remote transaction open.  entry, the connection of datasource source,
 *		has none and nothing has been sent on it.
 */
static void
ds_conn_refuse_twin(const char *source, DsConn *entry)
{
	HASH_SEQ_STATUS scan;
	DsConn	   *other;

	hash_seq_init(&scan, ds_conn_hash);
	while ((other = hash_seq_search(&scan)) != NULL)
		if (other != entry && other->conn != NULL && other->xact_depth > 0 &&
			ds_identity_same(entry, other))
		{
			hash_seq_term(&scan);
			ds_identity_refuse(source, entry, other);
		}
}

/*
 * ds_conn_xact_enter
 *		A statement is to run in the remote transaction of the local one:
 *		returns the commands (text) to send in front of it so that the
 *		remote transaction is open and at the local nest level, a savepoint
 *		released since included, and records that state in the entry (the
 *		caller settles it if the commands fail).  *opened tells whether
 *		START TRANSACTION is among them.
 */
List *
ds_conn_xact_enter(DsConn *entry, bool *opened)
{
	int			level = GetCurrentTransactionNestLevel();
	List	   *cmds = NIL;

	*opened = false;
	if (entry->xact_depth == 0)
	{
		/* READ WRITE: the session may default to read-only */
		cmds = lappend(cmds, "START TRANSACTION READ WRITE");
		entry->xact_depth = 1;
		*opened = true;
		ds_stats_source_event(entry->source, DS_SRC_XACT, 0);
		ds_conn_xact_used = true;
	}
	if (entry->release_level > 0)
	{
		cmds = lappend(cmds, psprintf("RELEASE SAVEPOINT s%d",
									  entry->release_level));
		entry->release_level = 0;
	}
	while (entry->xact_depth < level)
	{
		entry->xact_depth++;
		cmds = lappend(cmds, psprintf("SAVEPOINT s%d", entry->xact_depth));
	}
	return cmds;
}

/*
 * ds_conn_lexer_command
 *		The command that makes the remote session lex a text as this one
 *		does (see the file header), or NULL when it does already: the
 *		caller sends it in front of the statement, in the same pipeline.
 *		The values compared are those the remote reported last, which
 *		libpq keeps, so knowing costs no round trip.  The connection must
 *		be open.
 */
char *
ds_conn_lexer_command(DsConn *entry)
{
	const char *std = standard_conforming_strings ? "on" : "off";
	const char *enc = GetDatabaseEncodingName();
	const char *rstd = PQparameterStatus(entry->conn, "standard_conforming_strings");
	const char *renc = PQparameterStatus(entry->conn, "client_encoding");
	bool		set_std = rstd == NULL || strcmp(rstd, std) != 0;
	bool		set_enc = renc == NULL || strcmp(renc, enc) != 0;
	StringInfoData sql;

	if (!set_std && !set_enc)
		return NULL;
	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	if (set_std)
		appendStringInfo(&sql,
						 "pg_catalog.set_config('standard_conforming_strings', '%s', false)",
						 std);
	if (set_enc)
		appendStringInfo(&sql, "%spg_catalog.set_config('client_encoding', %s, false)",
						 set_std ? ", " : "", quote_literal_cstr(enc));
	return sql.data;
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
 * ds_conn_cmp
 *		qsort order of two entries: by foreign server name, then local role.
 */
static int
ds_conn_cmp(const void *a, const void *b)
{
	const DsConn *x = *(DsConn *const *) a;
	const DsConn *y = *(DsConn *const *) b;
	int			c = strcmp(x->server, y->server);

	if (c != 0)
		return c;
	return (x->key.userid > y->key.userid) - (x->key.userid < y->key.userid);
}

/*
 * ds_conn_participants
 *		The entries that take part in the commit of the local transaction:
 *		with a remote transaction open (prepared == false) or prepared
 *		under a gid (prepared == true); an array in the current context,
 *		its length in *n, in the order of their foreign servers' names, so
 *		that the remotes commit in the same order whatever the hash table's
 *		(which depends on the servers' OIDs).  The entries stay valid until
 *		they are closed.
 */
DsConn	  **
ds_conn_participants(bool prepared, int *n)
{
	HASH_SEQ_STATUS scan;
	DsConn	   *entry;
	DsConn	  **parts = palloc(sizeof(DsConn *) * hash_get_num_entries(ds_conn_hash));

	*n = 0;
	hash_seq_init(&scan, ds_conn_hash);
	while ((entry = hash_seq_search(&scan)) != NULL)
		if (prepared ? entry->gid[0] != '\0' : entry->xact_depth > 0)
			parts[(*n)++] = entry;
	if (*n > 1)
		qsort(parts, *n, sizeof(DsConn *), ds_conn_cmp);
	return parts;
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
 * ds_xact_callback
 *		Hands the remote transactions to commit.c just before the local
 *		commit (check, then COMMIT or PREPARE) and just after it (COMMIT
 *		PREPARED), rolls them back when it aborts; closes invalidated
 *		connections once idle.
 */
static void
ds_xact_callback(XactEvent event, void *arg)
{
	HASH_SEQ_STATUS scan;
	DsConn	   *entry;
	DsConn	  **parts;
	int			n;

	if (ds_conn_hash == NULL || hash_get_num_entries(ds_conn_hash) == 0)
		return;

	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			if (!ds_conn_xact_used)
				break;
			parts = ds_conn_participants(false, &n);
			if (n > 0)
				ds_commit_remotes(parts, n);
			pfree(parts);
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
			{
				/* one lost with its connection is counted in neither */
				if (entry->conn != NULL && entry->xact_depth > 0 &&
					PQstatus(entry->conn) == CONNECTION_OK)
					ds_stats_source_event(entry->source, DS_SRC_ROLLBACK, 0);
				ds_commit_abort(entry);
				if (ds_abort_cleanup(entry, true))
					ds_conn_abandon(entry);
			}
			ds_conn_xact_used = false;
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			if (ds_conn_xact_used)
			{
				parts = ds_conn_participants(true, &n);
				if (n > 0)
					ds_commit_prepared(parts, n);
				pfree(parts);
			}
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
			if ((entry->busy || entry->xact_depth >= level) &&
				ds_abort_cleanup(entry, false))
				ds_conn_abandon(entry);
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
 *		close them without waiting on a remote that reads nothing.  The
 *		abort callbacks have normally done both already; each cancel is
 *		bounded (remoteio.c).
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
			(void) ds_cancel(entry);
		(void) PQsetnonblocking(entry->conn, 1);
		PQfinish(entry->conn);
		entry->conn = NULL;
	}
}
