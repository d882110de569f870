/*-------------------------------------------------------------------------
 *
 * remote.c
 *		  Statements on a remote datasource: what goes in front of a
 *		  statement, its results, and what a call leaves behind.
 *
 * A statement runs on the cached connection of connection.c.  One that
 * only reads runs on its own, as one round trip: no BEGIN/COMMIT, in the
 * remote server's autocommit, and read-only there (default_transaction_
 * read_only is kept on in the remote session while reads run).  One that
 * may write, and every statement once a remote transaction is open, runs
 * in the remote transaction of the local one (connection.c opens it and
 * brings it to the local nest level).  What has to go in front of the
 * statement - transaction control, the search_path of the target, the
 * read-only setting, deallocations and the statement's Parse when it is
 * kept prepared (remoteprep.c) - is sent in the same libpq pipeline, so a
 * call costs one round trip.  Settings are sent only when they change; a
 * read-only statement outside a transaction gets a sync of its own after
 * them, so that it runs in a transaction that started with them in force.
 * On a connection behind a pooler (pooler.c) nothing is kept in the
 * session: every statement gets its settings for its own transaction,
 * pipelined in front of it with no sync between, and nothing is prepared.
 *
 * ds_conn_run is one call, in four steps: plan what to send (ds_call_plan),
 * send it (ds_call_send), read every result until the connection is idle
 * again (ds_call_read), and settle what the call leaves behind: the
 * session settings and transaction state, the prepared statements, a
 * statement cut short (ds_call_settle).  Only then is an error raised, so
 * the connection is idle when it is.  A row that fails to convert raises
 * at once, with the connection busy: the abort callbacks of connection.c
 * cancel and drain it.  Every libpq result is freed on every path.
 *
 * Rows are streamed in libpq's single-row mode into the caller's DsSink,
 * so a large result never sits in memory as one PGresult.  When the result
 * keeps only max_rows rows (execute()), fetching stops once max_rows + 1
 * are in: the rows already on their way are dropped, and the remote
 * statement is cancelled when more would have to be waited for.  That is
 * done only where what the statement started can be undone: a read-only
 * statement in the remote's autocommit, or in a remote savepoint this call
 * opened (it is rolled back to).  Elsewhere the rest is read and dropped.
 * An error the statement meets after max_rows + 1 rows is not reported: a
 * cursor fetching that many rows would not meet it either.
 *
 * One lexer: what reaches the remote is lexed there as it was validated
 * here.  The settings that decide where a token ends are put right in
 * front of the statement, in the same pipeline, when the remote reports
 * others than this session's (ds_conn_lexer_command, connection.c says
 * which and why).  A statement kept prepared on the remote was parsed with
 * the settings in force then: statements are prepared, and prepared ones
 * used, only while this session's standard_conforming_strings is on, so a
 * session that turns it off has its statements parsed again each time.
 *
 * A COPY to or from the client has no client to talk to: routing refuses
 * it (0A000) before anything is sent (route.c).  A remote that answers with
 * a COPY all the same (a statement it reads otherwise than we do, or a
 * server that is not PostgreSQL) gets no COPY served: libpq would hand the
 * same COPY result back for ever.  The call gives the connection up - a
 * COPY FROM is failed first - closing it when no remote transaction was
 * open before the call, marking it broken otherwise (the local transaction
 * cannot commit, and its abort closes it), and raises 0A000.
 *
 * Parameters are text, typed by the remote server; those the statement
 * does not use are declared text (params.c), as locally.
 *
 * Memory: a call's own state, its rows' conversions (in the DsSink's
 * contexts) and what it returns are palloc'd in the caller's context;
 * libpq's results are malloc'd and freed as soon as they are read.
 *
 * IDENTIFICATION
 *		  src/remote.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "parser/parser.h"
#include "utils/builtins.h"

#include "pg_datasource.h"

/*
 * rows dropped after max_rows was passed before the remote statement is
 * cancelled, even if more are already here
 */
#define DS_STOP_SLACK 1000

/* ------------------------------------------------------------ one call */

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

/* a command sent in front of the statement, with at most one parameter */
typedef struct DsPreCommand
{
	const char *sql;
	const char *param;
} DsPreCommand;

/* one statement on a connection, from its plan to its settling */
typedef struct DsCall
{
	/* what to run (ds_conn_run's arguments) */
	DsConn	   *entry;
	const char *sql;
	int			nparams;
	const char *const *params;
	const char *path;
	bool		read_only;
	bool		prepare;
	bool		may_again;
	DsSink	   *r;

	/* the plan (ds_call_plan) */
	Oid		   *types;			/* of the parameters: 0 lets the remote
								 * infer, text for those not used */
	int			level;			/* the local nest level */
	int			saved_depth;	/* the remote transaction depth before */
	bool		in_xact;		/* runs in the remote transaction */
	bool		opened;			/* which this call opens */
	bool		set_path;
	bool		set_ro;
	bool		set_lexer;		/* the remote lexes otherwise than we do */
	List	   *preamble;		/* DsPreCommand * */
	bool		sync_after_settings;	/* the statement needs a transaction
										 * of its own */
	int			prepared;		/* its prepared statement's number, or 0 */
	bool		prepare_now;	/* whose Parse is sent in this call */
	List	   *dealloc;		/* statements deallocated in this call */
	bool		pipeline;
	bool		may_stop;		/* max_rows may cut the statement short */

	/* what was sent (ds_call_send) */
	DsCmdKind  *cmds;
	int			ncmds;
	int			nsyncs;
	bool		single;			/* single-row mode is on */

	/* what came back (ds_call_read) */
	int			cmd;			/* the command whose results come */
	int			syncs;
	int			npre;			/* preamble commands whose results came */
	bool		stmt_seen;		/* a result of the statement came */
	bool		stmt_done;		/* its last result came */
	bool		stopped;		/* max_rows was passed: rows are dropped */
	bool		cancelled;		/* and the remote statement cancelled */
	int64		dropped;		/* rows dropped since */
	bool		copy;			/* the remote answered with a COPY */
	bool		parse_failed;
	PGresult   *error;			/* the first error, owned by the call */
	bool		error_in_preamble;	/* it is a preamble command's */
	const char *error_sql;		/* the command it belongs to */
	char	   *status;			/* the statement's command status */
	char	  **texts;			/* a row's values */
	DsRunOutcome outcome;
} DsCall;

/*
 * ds_call_preamble
 *		Adds a command to send in front of the statement; sql and param
 *		must live as long as the call.
 */
static void
ds_call_preamble(DsCall *c, const char *sql, const char *param)
{
	DsPreCommand *p = palloc(sizeof(DsPreCommand));

	p->sql = sql;
	p->param = param;
	c->preamble = lappend(c->preamble, p);
}

/*
 * ds_call_plan
 *		Decides what goes in front of the statement: deallocations, the
 *		transaction commands, the session settings, its Parse.  The entry's
 *		transaction depth is moved on already (ds_call_settle puts it right
 *		if the commands fail).
 */
static void
ds_call_plan(DsCall *c)
{
	DsConn	   *entry = c->entry;
	char	   *lexer;

	c->level = GetCurrentTransactionNestLevel();
	c->saved_depth = entry->xact_depth;
	c->in_xact = !c->read_only || entry->xact_depth > 0;
	c->set_path = c->path != NULL && !entry->per_statement &&
		(!entry->path_known || strcmp(entry->path, c->path) != 0);
	c->set_ro = !c->in_xact && !entry->ro_session && !entry->per_statement;
	/* kept prepared only what was parsed with standard strings, never pooled */
	if (standard_conforming_strings && !entry->per_statement)
	{
		c->prepared = ds_prepared_use(entry, c->path, c->sql, c->nparams,
									  c->prepare, c->saved_depth > 0,
									  &c->prepare_now);
		if (c->prepared != 0 && !c->prepare_now)
			ds_stats_prepared_hit();
	}
	/* the parameter types go with the text (a Bind has none) */
	if (c->nparams > 0 && (c->prepared == 0 || c->prepare_now))
	{
		bool	   *used = ds_params_used(c->sql, c->nparams);
		int			i;

		c->types = palloc(sizeof(Oid) * c->nparams);
		for (i = 0; i < c->nparams; i++)
			c->types[i] = used[i] ? InvalidOid : TEXTOID;
	}
	/* what the remote may still have goes now, outside a transaction */
	if (c->saved_depth == 0)
		c->dealloc = ds_prepared_take_deallocs(entry);

	if (c->in_xact)
	{
		ListCell   *lc;

		foreach(lc, ds_conn_xact_enter(entry, &c->opened))
			ds_call_preamble(c, lfirst(lc), NULL);
	}
	/* pooled: the settings go with every statement, for its transaction */
	if (entry->per_statement)
		ds_call_preamble(c, ds_pooler_command(c->path != NULL, !c->in_xact),
						 c->path);
	/* the statement's own text is lexed after this (one lexer) */
	lexer = entry->per_statement ? NULL : ds_conn_lexer_command(entry);
	c->set_lexer = lexer != NULL;
	if (c->set_lexer)
		ds_call_preamble(c, lexer, NULL);
	if (c->set_path && c->set_ro)
		ds_call_preamble(c,
						 "SELECT pg_catalog.set_config('search_path', $1, false), "
						 "pg_catalog.set_config('default_transaction_read_only', 'on', false)",
						 c->path);
	else if (c->set_path)
		ds_call_preamble(c,
						 "SELECT pg_catalog.set_config('search_path', $1, false)",
						 c->path);
	else if (c->set_ro)
		ds_call_preamble(c,
						 "SELECT pg_catalog.set_config('default_transaction_read_only', 'on', false)",
						 NULL);
	/* a read-only statement must start a transaction after the settings */
	c->sync_after_settings = (c->set_path || c->set_ro || c->set_lexer) &&
		!c->in_xact;

	c->pipeline = c->preamble != NIL || c->prepare_now || c->dealloc != NIL;
	c->cmds = palloc(sizeof(DsCmdKind) * (list_length(c->dealloc) + 3));

	/*
	 * max_rows may stop a read-only statement early where what it started
	 * can be undone: alone in the remote's autocommit, or in the savepoint
	 * of the local nest level that this call opens.
	 */
	c->may_stop = c->r != NULL && c->r->max_rows >= 0 && c->read_only &&
		(!c->in_xact || c->saved_depth < c->level);
}

/*
 * ds_call_send_statement
 *		Sends the statement itself: its prepared statement's Bind and
 *		Execute, or the text with its parameters.
 */
static bool
ds_call_send_statement(DsCall *c)
{
	PGconn	   *conn = c->entry->conn;

	if (c->prepared != 0)
	{
		char		name[32];

		DS_PREPARED_NAME(name, c->prepared);
		return PQsendQueryPrepared(conn, name, c->nparams, c->params,
								   NULL, NULL, 0) == 1;
	}
	return PQsendQueryParams(conn, c->sql, c->nparams, c->types, c->params,
							 NULL, NULL, 0) == 1;
}

/*
 * ds_call_send
 *		Sends what ds_call_plan decided: the statement alone, or a pipeline
 *		of sync groups (each deallocation in one of its own, so its failure
 *		aborts nothing else; the settings of a read-only statement in one of
 *		their own; then the rest).  Returns false when libpq could not send.
 */
static bool
ds_call_send(DsCall *c)
{
	PGconn	   *conn = c->entry->conn;
	ListCell   *lc;

	c->entry->calls++;
	if (!c->pipeline)
	{
		if (!ds_call_send_statement(c))
			return false;
		c->cmds[c->ncmds++] = DS_CMD_STATEMENT;
		c->single = PQsetSingleRowMode(conn) == 1;
		return true;
	}

	if (!PQenterPipelineMode(conn))
		return false;
	foreach(lc, c->dealloc)
	{
		char		cmdtext[48];

		snprintf(cmdtext, sizeof(cmdtext), "DEALLOCATE pgds_%d", lfirst_int(lc));
		if (!PQsendQueryParams(conn, cmdtext, 0, NULL, NULL, NULL, NULL, 0) ||
			!PQpipelineSync(conn))
			return false;
		c->cmds[c->ncmds++] = DS_CMD_DEALLOCATE;
		c->nsyncs++;
	}
	foreach(lc, c->preamble)
	{
		DsPreCommand *p = lfirst(lc);

		if (!PQsendQueryParams(conn, p->sql, p->param ? 1 : 0, NULL,
							   &p->param, NULL, NULL, 0))
			return false;
	}
	if (c->preamble != NIL)
		c->cmds[c->ncmds++] = DS_CMD_PREAMBLE;
	if (c->sync_after_settings)
	{
		if (!PQpipelineSync(conn))
			return false;
		c->nsyncs++;
	}
	if (c->prepare_now)
	{
		char		name[32];

		DS_PREPARED_NAME(name, c->prepared);
		if (!PQsendPrepare(conn, name, c->sql, c->nparams, c->types))
			return false;
		c->cmds[c->ncmds++] = DS_CMD_PREPARE;
	}
	if (!ds_call_send_statement(c) || !PQpipelineSync(conn))
		return false;
	c->cmds[c->ncmds++] = DS_CMD_STATEMENT;
	c->nsyncs++;
	return true;
}

/*
 * ds_call_send_failed
 *		libpq could not send: undo the plan's bookkeeping.  A dead
 *		connection outside a remote transaction is the caller's to replace
 *		(DS_RUN_RECONNECT); anything else raises.
 */
static void
ds_call_send_failed(DsCall *c)
{
	DsConn	   *entry = c->entry;

	entry->busy = false;
	if (c->prepare_now)
		ds_prepared_drop(entry, c->prepared);
	/* the deallocations may not have been sent */
	ds_prepared_keep_deallocs(entry, c->dealloc);
	if (PQstatus(entry->conn) == CONNECTION_BAD && c->saved_depth == 0)
	{
		entry->xact_depth = 0;
		c->outcome = DS_RUN_RECONNECT;
		return;
	}
	entry->broken = c->saved_depth > 0 || entry->broken;
	ds_report_remote_error(ERROR, NULL, entry->conn, entry->source, c->sql);
}

/*
 * ds_copy_refused
 *		Raises the error of a remote that answered with a COPY to or from
 *		the client (ds_call_give_up gave the connection up).
 */
static void
ds_copy_refused(DsCall *c)
{
	ereport(ERROR,
			errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			errmsg("a routed statement cannot copy to or from the client"),
			errdetail("Datasource \"%s\" started a COPY; the connection to it was given up.",
					  c->entry->source),
			errhint("Route a SELECT to read rows, an INSERT to write them."));
}

/*
 * ds_call_give_up
 *		The remote answered with a COPY to or from the client (see the file
 *		header): fail a COPY FROM there, then close the connection when no
 *		remote transaction was open before the call (nothing of earlier
 *		calls is lost), or leave it broken for the abort callbacks, which
 *		cannot roll it back and close it.  The caller raises.
 */
static void
ds_call_give_up(DsCall *c, ExecStatusType st)
{
	DsConn	   *entry = c->entry;

	c->copy = true;
	if (st == PGRES_COPY_IN || st == PGRES_COPY_BOTH)
		(void) PQputCopyEnd(entry->conn,
							"a routed statement cannot copy from the client");
	if (c->saved_depth == 0)
		ds_conn_close(entry);
	else
	{
		entry->broken = true;
		entry->busy = false;
		entry->path_known = false;
		entry->ro_session = false;
	}
}

/*
 * ds_call_keep_error
 *		Keeps res as the call's error, unless it has one: the first error is
 *		the one reported.  Returns whether res was kept (the call owns it).
 */
static bool
ds_call_keep_error(DsCall *c, PGresult *res, bool preamble)
{
	if (c->error != NULL)
		return false;
	c->error = res;
	c->error_in_preamble = preamble;
	c->error_sql = preamble
		? ((DsPreCommand *) list_nth(c->preamble, c->npre))->sql : c->sql;
	return true;
}

/*
 * ds_call_rows
 *		Rows of the statement (a PGRES_SINGLE_TUPLE or PGRES_TUPLES_OK
 *		result) go to the call's DsSink.  Once the result has all it
 *		keeps, the call stops taking rows where it may (see may_stop).
 *		Conversion errors are raised with res still held: the caller frees
 *		it.
 */
static void
ds_call_rows(DsCall *c, PGresult *res)
{
	DsSink   *r = c->r;
	int			ncols = PQnfields(res);
	int			row;
	int			col;

	if (r == NULL)
		return;
	if (c->stopped)
	{
		c->dropped += PQntuples(res);
		return;
	}
	if (!r->started)
	{
		char	  **names = palloc(sizeof(char *) * Max(ncols, 1));
		Oid		   *types = palloc(sizeof(Oid) * Max(ncols, 1));

		for (col = 0; col < ncols; col++)
		{
			names[col] = pstrdup(PQfname(res, col));
			types[col] = PQftype(res, col);
		}
		ds_sink_start(r, ncols, names, types, false);
	}
	if (c->texts == NULL)
		c->texts = palloc(sizeof(char *) * Max(ncols, 1));
	for (row = 0; row < PQntuples(res) && !r->truncated; row++)
	{
		for (col = 0; col < ncols; col++)
			c->texts[col] = PQgetisnull(res, row, col)
				? NULL : PQgetvalue(res, row, col);
		ds_sink_row(r, NULL, NULL, c->texts);
	}
	if (r->truncated && c->may_stop)
		c->stopped = true;
}

/*
 * ds_call_statement_result
 *		One result of the statement itself.  Returns whether the call kept
 *		it (as its error).
 */
static bool
ds_call_statement_result(DsCall *c, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	/* the remote executed it: the rest is transfer (stats.c) */
	if (!c->stmt_seen)
		ds_stats_phase(DS_PHASE_TRANSFER);
	c->stmt_seen = true;
	switch (st)
	{
		case PGRES_SINGLE_TUPLE:
			ds_call_rows(c, res);
			return false;
		case PGRES_TUPLES_OK:
			ds_call_rows(c, res);
			c->stmt_done = true;
			c->status = pstrdup(PQcmdStatus(res));
			return false;
		case PGRES_COMMAND_OK:
		case PGRES_EMPTY_QUERY:
			c->stmt_done = true;
			c->status = pstrdup(PQcmdStatus(res));
			return false;
		default:
			c->stmt_done = true;
			/* past max_rows, what comes after (the cancel's error) is dropped */
			if (c->stopped)
				return false;
			return ds_call_keep_error(c, res, false);
	}
}

/*
 * ds_call_result
 *		One result of the call's commands, of the kind given.  Returns
 *		whether the call kept it (as its error).
 */
static bool
ds_call_result(DsCall *c, DsCmdKind kind, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	switch (kind)
	{
		case DS_CMD_DEALLOCATE:
			/* gone already or not: either way it is gone */
			return false;
		case DS_CMD_PREAMBLE:
		case DS_CMD_PREPARE:

			/*
			 * libpq keeps single-row mode on from a statement sent outside a
			 * pipeline into the first command of the next pipeline, so a
			 * setting's row may come as PGRES_SINGLE_TUPLE.
			 */
			if (kind == DS_CMD_PREPARE && st != PGRES_COMMAND_OK)
				c->parse_failed = true;
			if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ||
				st == PGRES_SINGLE_TUPLE)
				return false;
			/* a failed Parse is the statement's own error */
			return ds_call_keep_error(c, res, kind == DS_CMD_PREAMBLE);
		case DS_CMD_STATEMENT:
			return ds_call_statement_result(c, res);
	}
	return false;
}

/*
 * ds_call_should_cancel
 *		Whether the statement, past max_rows, is to be cancelled now: when
 *		more of it would have to be waited for, or when DS_STOP_SLACK rows
 *		were dropped already.  A statement whose results are all here is
 *		left alone (a cancel costs the remote a process).
 */
static bool
ds_call_should_cancel(DsCall *c)
{
	PGconn	   *conn = c->entry->conn;

	if (!c->stopped || c->cancelled || c->stmt_done)
		return false;
	if (c->dropped >= DS_STOP_SLACK)
		return true;
	return PQconsumeInput(conn) == 1 && PQisBusy(conn);
}

/*
 * ds_call_read
 *		Reads everything the call sent, whatever fails, so that the
 *		connection is idle again before an error is raised.  Every command's
 *		results end with a NULL (the preamble's commands count as one per
 *		command), every sync with PGRES_PIPELINE_SYNC.  Errors raised while
 *		a result is held (a row that fails to convert, an interrupt) free it;
 *		the entry stays busy and the abort callbacks cancel and drain it.
 *		Interrupts are served between results too, so a long stream of rows
 *		that never has to be waited for can be cancelled.  A COPY result
 *		gives the connection up and raises (ds_call_give_up), whatever
 *		command it answers.  The call's error is the caller's to free.
 */
static void
ds_call_read(DsCall *c)
{
	DsConn	   *entry = c->entry;
	PGconn	   *conn = entry->conn;
	PGresult   *volatile res = NULL;

	entry->busy = true;
	PG_TRY();
	{
		for (;;)
		{
			DsCmdKind	kind = c->cmds[Min(c->cmd, c->ncmds - 1)];
			ExecStatusType st;

			if (c->pipeline && c->cmd == c->ncmds - 1 && !c->single &&
				!c->stmt_seen)
				c->single = PQsetSingleRowMode(conn) == 1;
			CHECK_FOR_INTERRUPTS();
			if (ds_call_should_cancel(c))
			{
				ds_cancel(entry);
				c->cancelled = true;
			}
			res = ds_next_result(entry);
			if (res == NULL)
			{
				if (!c->pipeline || c->cmd >= c->ncmds)
					break;
				if (kind == DS_CMD_PREAMBLE &&
					++c->npre < list_length(c->preamble))
					continue;	/* more preamble commands */
				c->cmd++;
				continue;
			}
			st = PQresultStatus(res);
			if (st == PGRES_COPY_OUT || st == PGRES_COPY_IN ||
				st == PGRES_COPY_BOTH)
			{
				/* libpq would return it again and again: stop here */
				PQclear(res);
				res = NULL;
				ds_call_give_up(c, st);
				break;
			}
			if (st == PGRES_PIPELINE_SYNC || st == PGRES_PIPELINE_ABORTED)
			{
				PQclear(res);
				res = NULL;
				if (st == PGRES_PIPELINE_SYNC && ++c->syncs == c->nsyncs)
					break;
				continue;
			}
			if (PQstatus(conn) == CONNECTION_BAD)
			{
				/* nothing more will come */
				if (!ds_call_keep_error(c, res, false))
					PQclear(res);
				res = NULL;
				break;
			}
			if (!ds_call_result(c, kind, res))
				PQclear(res);
			res = NULL;
		}
	}
	PG_CATCH();
	{
		if (res != c->error)
			PQclear(res);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (c->copy)
		ds_copy_refused(c);
	if (c->pipeline && PQstatus(conn) != CONNECTION_BAD &&
		!PQexitPipelineMode(conn) && c->error == NULL)
		(void) ds_call_keep_error(c, PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR),
								  false);
	entry->busy = false;
}

/*
 * ds_call_settle_session
 *		What the call leaves of the session settings and the remote
 *		transaction.  A dead connection is replaced by the caller if nothing
 *		of the call can have taken effect.
 */
static void
ds_call_settle_session(DsCall *c)
{
	DsConn	   *entry = c->entry;

	if (PQstatus(entry->conn) == CONNECTION_BAD)
	{
		/* nothing sent in this call took effect if no transaction was open */
		if (c->saved_depth == 0 && (c->r == NULL || c->r->rows == 0))
			c->outcome = DS_RUN_RECONNECT;
		if (c->saved_depth == 0)
			entry->xact_depth = 0;
		else
			entry->broken = true;
	}
	else if (!c->error_in_preamble)
	{
		/* the preamble went through */
		if (c->set_path)
		{
			strlcpy(entry->path, c->path, sizeof(entry->path));
			entry->path_known = true;
		}
		if (c->set_ro)
			entry->ro_session = true;	/* committed on its own */
		/* a setting made in the remote transaction goes if it rolls back */
		if (c->error != NULL && c->in_xact)
			entry->path_known = false;
	}
	else
	{
		/* the preamble failed */
		entry->path_known = false;
		entry->ro_session = false;
		if (c->opened)
			entry->broken = true;
	}
}

/*
 * ds_call_settle
 *		Settles what the call leaves behind, before any error is raised: a
 *		Parse that failed, the deallocations sent, the session and
 *		transaction state, the prepared statements, and a statement that
 *		max_rows cut short inside a remote transaction (its savepoint is
 *		rolled back to when the cancel aborted it there).
 */
static void
ds_call_settle(DsCall *c)
{
	DsConn	   *entry = c->entry;
	bool		alive = PQstatus(entry->conn) != CONNECTION_BAD;

	/* a statement that failed to prepare is not there */
	if (c->prepare_now &&
		(c->parse_failed || !alive || (c->error != NULL && c->error_in_preamble)))
	{
		ds_prepared_drop(entry, c->prepared);
		c->prepared = 0;
	}
	list_free(c->dealloc);
	c->dealloc = NIL;

	ds_call_settle_session(c);

	/*
	 * A prepared statement the remote lost or found stale is forgotten, and
	 * the call run again when nothing of it took effect; a statement that
	 * deallocated statements there makes us forget ours.
	 */
	if (alive && c->error != NULL && c->prepared != 0 && !c->prepare_now &&
		!c->error_in_preamble)
	{
		if (ds_prepared_failed(entry, c->prepared, c->error) &&
			c->may_again && c->saved_depth == 0 && !c->in_xact &&
			(c->r == NULL || c->r->rows == 0))
			c->outcome = DS_RUN_AGAIN;
	}
	else if (alive && c->status != NULL)
		ds_prepared_status(entry, c->status);

	if (alive && c->stopped && c->in_xact &&
		PQtransactionStatus(entry->conn) == PQTRANS_INERROR)
	{
		char		sql[48];

		snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT s%d", c->level);
		entry->path_known = false;
		ds_exec_or_error(entry, sql);
	}
	if (c->stopped && c->status == NULL)
		c->status = psprintf("SELECT " INT64_FORMAT, c->r->rows);
}

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
 *		on the remote (with path given) when the connection ran it before.
 *		may_again: a stale prepared statement may be reported as
 *		DS_RUN_AGAIN instead of raised.
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
	DsCall	   *c = palloc0(sizeof(DsCall));

	c->entry = entry;
	c->sql = sql;
	c->nparams = nparams;
	c->params = params;
	c->path = path;
	c->read_only = read_only;
	c->prepare = prepare;
	c->may_again = may_again;
	c->r = r;
	c->outcome = DS_RUN_DONE;

	ds_call_plan(c);
	if (!ds_call_send(c))
	{
		ds_call_send_failed(c);
		*outcome = c->outcome;
		return NULL;
	}
	PG_TRY();
	{
		ds_call_read(c);
		ds_call_settle(c);
	}
	PG_CATCH();
	{
		PQclear(c->error);
		PG_RE_THROW();
	}
	PG_END_TRY();

	*outcome = c->outcome;
	if (c->outcome != DS_RUN_DONE)
	{
		PQclear(c->error);
		return NULL;
	}
	if (c->error != NULL)
		ds_report_remote_error(ERROR, c->error, entry->conn, entry->source,
							   c->error_sql);
	return c->status ? c->status : pstrdup("");
}

/* ------------------------------------------------------------ entry points */

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

		ds_stats_phase(DS_PHASE_REMOTE);

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

	ds_sink_init(&r, DS_SINK_NONE);
	(void) ds_remote_call(source,
						  "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
						  1, params, NULL, true, false, &r);
	ds_sink_end(&r);
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
