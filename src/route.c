/*-------------------------------------------------------------------------
 *
 * route.c
 *		  query / query_json / execute / exec: run SQL where a logical
 *		  database lives.
 *
 * Every routed statement is validated first (validate.c): one statement,
 * all of it on the target's datasource, read-only when the call or the
 * logical database asks for it, and changing nothing of the session it
 * runs in (sessionstate.c), which it shares with other statements.
 * Logical qualifiers are then written as physical schema names
 * (rewrite.c) and the statement runs on the local
 * datasource through SPI (local.c) or on a remote one through libpq
 * (connection.c), with unqualified names resolving in the target's schema.
 * A MySQL logical database's statement runs through SPI as well, in its
 * local schema of foreign tables (a qualifier naming the MySQL database
 * is written as that schema); DDL is refused there, and its writes meet
 * mysql_write.c's rule in the executor.
 * A statement this backend routed before takes its verdict and rewritten
 * text from stmtcache.c instead, and a remote keeps it prepared.
 *
 * Rows go to a row sink (sink.c), which turns them into what the SQL
 * function returns: tuples of the caller's column definition list, jsonb
 * objects, or one jsonb array (execute).  The transports hand rows to the
 * sink and never call back into this file.
 *
 * Memory: each call of query or query_json routes in a memory context of
 * its own, deleted when the call returns, so a call made once per row of a
 * statement (LATERAL) leaves nothing behind in the statement's memory.
 * Only its result lives in the per-query context: a tuplestore that keeps
 * at most 1 MB (DS_RESULT_MEMORY_KB, or work_mem if smaller) in memory and
 * spills to a temporary file beyond.  exec and execute run in the caller's
 * (per-call) context.
 *
 * IDENTIFICATION
 *		  src/route.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "portability/instr_time.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "pg_datasource.h"

/* in-memory budget of a routed result's tuplestore, in kB */
#define DS_RESULT_MEMORY_KB 1024

PG_FUNCTION_INFO_V1(pgds_query);
PG_FUNCTION_INFO_V1(pgds_query_json);
PG_FUNCTION_INFO_V1(pgds_execute);
PG_FUNCTION_INFO_V1(pgds_exec);

/* ------------------------------------------------------------ routing */

/*
 * ds_refuse
 *		Raises the validation error of a statement that cannot be routed,
 *		with the SQLSTATE validate.c gave its cause.
 */
static void
ds_refuse(DsVerdict *v)
{
	ereport(ERROR,
			errcode(v->sqlerrcode),
			errmsg("cannot route the statement: %s", v->error),
			errhint("datasource.validate() tells what a statement touches."));
}

/*
 * ds_refuse_copy_client
 *		Raises 0A000 when sql (a validated statement whose command is COPY)
 *		copies to or from the client: a routed statement has no client to
 *		talk to, on SPI as on libpq.  A COPY to or from a file or a program
 *		runs as it is (it needs the privileges PostgreSQL asks for).
 */
static void
ds_refuse_copy_client(const char *sql)
{
	ErrorData  *error;
	List	   *tree = ds_parse_capture(sql, RAW_PARSE_DEFAULT,
										CurrentMemoryContext, &error);
	Node	   *stmt = list_length(tree) == 1
		? ((RawStmt *) linitial(tree))->stmt : NULL;

	if (stmt != NULL && IsA(stmt, CopyStmt) &&
		((CopyStmt *) stmt)->filename == NULL)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("a routed statement cannot copy to or from the client"),
				errhint("Route a SELECT to read rows, an INSERT to write them."));
}

/*
 * ds_refuse_mysql_ddl
 *		Raises 0A000 when sql (a validated statement for a MySQL logical
 *		database) is DDL: it would change the local schema of foreign
 *		tables (a CREATE TABLE there makes a local table that MySQL never
 *		sees), not the MySQL database, whose schema changes on the MySQL
 *		server.
 */
static void
ds_refuse_mysql_ddl(const char *sql, const DsDatabase *db)
{
	ErrorData  *error;
	List	   *tree = ds_parse_capture(sql, RAW_PARSE_DEFAULT,
										CurrentMemoryContext, &error);

	if (list_length(tree) == 1 &&
		GetCommandLogLevel(((RawStmt *) linitial(tree))->stmt) == LOGSTMT_DDL)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("cannot route DDL to MySQL logical database \"%s\"", db->name),
				errdetail("Its tables are foreign tables of MySQL database \"%s\"; mysql_fdw runs no DDL there.",
						  db->schema_name),
				errhint("Run the DDL on the MySQL server, then datasource.refresh_database('%s').",
						db->name));
}

/*
 * ds_route_run
 *		Validates, rewrites and runs sql on the datasource of database (the
 *		first two from the statement cache when it has them); rows go to the
 *		sink r, which the caller ends.  Returns the command status; *source
 *		is set to the datasource's name.  call is the call's statistics
 *		(stats.c), moved from phase to phase here and in remote.c.
 */
static char *
ds_route_run(const char *database, const char *sql, int nparams,
			 char **params, bool require_ro, DsSink *r, char **source,
			 DsStatsCall *call)
{
	DsVerdict	v;
	DsDatabase *db;
	DsSource   *src;
	char	   *text = NULL;
	bool		ro;
	bool		cached;
	uint64		epoch;
	const DsSandbox *sb;

	db = ds_cache_database_copy(database, &src);
	*source = src->name;
	ds_stats_target(db->name);

	/* the sandbox first: a logical database outside it is not even parsed */
	(void) ds_sandbox_permits(db->name, false, ERROR, NULL);
	sb = ds_sandbox_get();
	ro = require_ro || db->read_only || src->read_only ||
		(sb->gated && sb->read_only);
	epoch = ds_stmt_cache_epoch();
	cached = ds_stmt_cache_get(database, sql, ro, &v, &text);
	call->cache_hit = cached;
	if (!cached)
		ds_validate(sql, database, ro, &v);
	if (!v.valid)
	{
		/* a write refused because of where it goes: policy.c says so */
		if (!require_ro && v.not_ro != NULL &&
			v.sqlerrcode == ERRCODE_READ_ONLY_SQL_TRANSACTION)
			(void) ds_source_usable(src, db, v.not_ro, ERROR, NULL, NULL);
		ds_refuse(&v);
	}
	ds_stats_statement(sql);
	/* nothing may outlive the statement in the session it shares */
	if (v.session != NULL)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("cannot route the statement: %s", v.session),
				errhint("%s", ds_session_hint(v.session_rule)));
	(void) ds_source_usable(src, db, NULL, ERROR, NULL, NULL);
	/* every logical database the statement names, not only the target */
	if (sb->gated)
	{
		int			i;

		for (i = 0; i < v.ndbs; i++)
			(void) ds_sandbox_permits(v.dbs[i], !v.read_only, ERROR, NULL);
		/* on a remote nothing would check the SQL such a function runs */
		if (v.runs_sql && !ds_source_runs_here(src))
			ereport(ERROR,
					errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("a sandboxed session cannot send a function that runs SQL given as text to a remote datasource"),
					errdetail("What the function would run on \"%s\" is not visible to validation.",
							  src->name));
	}

	if (!cached)
	{
		text = ds_rewrite(sql, v.rewrites);
		ds_stmt_cache_put(database, sql, ro, &v, text, epoch);
	}
	/* before anything is sent, wherever it goes */
	if (v.command != NULL && strcmp(v.command, "COPY") == 0)
		ds_refuse_copy_client(text);
	ds_params_check(text, nparams);
	if (db->local_schema != NULL && !v.read_only)
		ds_refuse_mysql_ddl(text, db);
	/* the local datasource, or a MySQL one's local schema of foreign tables */
	if (ds_source_runs_here(src))
	{
		ds_stats_phase(DS_PHASE_LOCAL);
		/* on MySQL: run again after a lost connection (mysql_health.c) */
		if (src->engine == DS_ENGINE_MYSQL)
			return ds_mysql_local_run(db, text, ds_database_schema_here(db),
									  v.command, nparams, params,
									  v.read_only, r);
		return ds_local_run(text, ds_database_schema_here(db), v.command,
							nparams, params, v.read_only, r);
	}
	if (!v.read_only && XactReadOnly)
		ereport(ERROR,
				errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				errmsg("cannot route a statement that is not read-only in a read-only transaction"),
				errdetail("%s.", v.not_ro ? v.not_ro : "It may write"));
	/* one statement: the connection prepares it when it comes again */
	ds_stats_phase(DS_PHASE_CONNECT);
	return ds_remote_route(src, text, db->schema_name, nparams, params,
						   v.read_only, true, r);
}

/*
 * ds_status_rows
 *		The rows a command reports in its status ("UPDATE 3", "INSERT 0 2"):
 *		the number that ends it, 0 when there is none.
 */
static int64
ds_status_rows(const char *status)
{
	const char *last = status ? strrchr(status, ' ') : NULL;

	if (last == NULL || strspn(last + 1, "0123456789") != strlen(last + 1) ||
		last[1] == '\0')
		return 0;
	return strtoi64(last + 1, NULL, 10);
}

/*
 * ds_route
 *		ds_route_run, counted in the statistics of the logical database
 *		(stats.c) whether it succeeds or raises: its time, its phases, the
 *		rows it returned or changed, or its error's SQLSTATE.
 */
static char *
ds_route(const char *database, const char *sql, int nparams, char **params,
		 bool require_ro, DsSink *r, char **source)
{
	DsStatsCall call;
	char	   *status;

	ds_stats_begin(&call);
	PG_TRY();
	{
		status = ds_route_run(database, sql, nparams, params, require_ro, r,
							  source, &call);
	}
	PG_CATCH();
	{
		/* the error being handled is still on the error stack */
		ds_stats_end(&call, geterrcode(), 0);
		PG_RE_THROW();
	}
	PG_END_TRY();
	ds_stats_end(&call, 0, r->started ? r->rows : ds_status_rows(status));
	return status;
}

/*
 * ds_text_params
 *		A text[] of parameters as C strings (NULL elements stay NULL).
 */
static char **
ds_text_params(ArrayType *arr, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;
	int			i;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("params must be a one-dimensional array"));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	out = palloc(sizeof(char *) * Max(*n, 1));
	for (i = 0; i < *n; i++)
		out[i] = nulls[i] ? NULL : TextDatumGetCString(elems[i]);
	return out;
}

/*
 * ds_required_arg
 *		Raises 22004 for a NULL argument that must not be.
 */
static void
ds_required_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"%s\" must not be null", name));
}

/*
 * ds_set_returning
 *		query / query_json: route and return the rows as a tuplestore.
 */
static Datum
ds_set_returning(FunctionCallInfo fcinfo, DsSinkMode mode)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DsSink		r;
	char	  **params = NULL;
	int			nparams = 0;
	char	   *source;
	MemoryContext callcxt;
	MemoryContext old;

	ds_required_arg(fcinfo, 0, "database");
	ds_required_arg(fcinfo, 1, "query");
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("set-valued function called in context that cannot accept a set"));
	if (mode == DS_SINK_RECORD && rsinfo->expectedDesc == NULL)
		ereport(ERROR,
				errcode(ERRCODE_SYNTAX_ERROR),
				errmsg("datasource.query needs a column definition list"),
				errhint("Call it in FROM: SELECT * FROM datasource.query(...) AS t(id int, name text)."));

	/*
	 * The result lives in the per-query context.  The store holds at most
	 * DS_RESULT_MEMORY_KB in memory and spills to a temporary file beyond,
	 * so routing a large result costs the backend little memory whatever
	 * work_mem is.
	 */
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (mode == DS_SINK_RECORD)
		rsinfo->setDesc = CreateTupleDescCopy(rsinfo->expectedDesc);
	else
	{
		TupleDesc	desc = CreateTemplateTupleDesc(1);

		TupleDescInitEntry(desc, (AttrNumber) 1, "query_json", JSONBOID, -1, 0);
		rsinfo->setDesc = BlessTupleDesc(desc);
	}
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0,
											  false, Min(work_mem, DS_RESULT_MEMORY_KB));
	MemoryContextSwitchTo(old);

	/*
	 * Everything else of the call, routing included, lives in a context of
	 * its own: the rows are copied into the store, and the rest goes when
	 * the call returns.
	 */
	callcxt = AllocSetContextCreate(CurrentMemoryContext,
									"pg_datasource routed call",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(callcxt);
	if (!PG_ARGISNULL(2))
		params = ds_text_params(PG_GETARG_ARRAYTYPE_P(2), &nparams);
	ds_sink_init(&r, mode);
	r.store = rsinfo->setResult;
	r.desc = rsinfo->setDesc;
	(void) ds_route(text_to_cstring(PG_GETARG_TEXT_PP(0)),
					text_to_cstring(PG_GETARG_TEXT_PP(1)),
					nparams, params, false, &r, &source);
	ds_sink_end(&r);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(callcxt);
	return (Datum) 0;
}

/*
 * query(database text, query text, params text[]) returns setof record
 */
Datum
pgds_query(PG_FUNCTION_ARGS)
{
	return ds_set_returning(fcinfo, DS_SINK_RECORD);
}

/*
 * query_json(database text, query text, params text[]) returns setof jsonb
 */
Datum
pgds_query_json(PG_FUNCTION_ARGS)
{
	return ds_set_returning(fcinfo, DS_SINK_JSON);
}

/*
 * exec(database text, command text) returns text: the command status
 */
Datum
pgds_exec(PG_FUNCTION_ARGS)
{
	DsSink		r;
	char	   *source;
	char	   *status;

	ds_required_arg(fcinfo, 0, "database");
	ds_required_arg(fcinfo, 1, "command");
	ds_sink_init(&r, DS_SINK_NONE);
	status = ds_route(text_to_cstring(PG_GETARG_TEXT_PP(0)),
					  text_to_cstring(PG_GETARG_TEXT_PP(1)),
					  0, NULL, false, &r, &source);
	ds_sink_end(&r);
	PG_RETURN_TEXT_P(cstring_to_text(status));
}

/* what execute() routes inside its subtransaction */
typedef struct DsExecuteCall
{
	const char *database;
	const char *sql;
	bool		require_ro;
	DsSink	   *r;
	char	   *source;
	char	   *status;
	bool		autocommit;		/* called outside any transaction block */
} DsExecuteCall;

/*
 * ds_execute_call
 *		execute()'s statement, in the subtransaction ds_in_subxact opened.
 *		Called in autocommit, that subtransaction is no block of the user's:
 *		mysql_write.c is told so, for this statement only.
 */
static void
ds_execute_call(void *arg)
{
	DsExecuteCall *call = arg;
	SubTransactionId prev;

	prev = ds_mysql_statement_subxact(call->autocommit ?
									  GetCurrentSubTransactionId() :
									  InvalidSubTransactionId);
	PG_TRY();
	{
		call->status = ds_route(call->database, call->sql, 0, NULL,
								call->require_ro, call->r, &call->source);
	}
	PG_FINALLY();
	{
		(void) ds_mysql_statement_subxact(prev);
	}
	PG_END_TRY();
}

/*
 * execute(database text, query text, max_rows int, read_only bool)
 *		returns datasource.query_result
 *
 * Never raises for what the statement does: it runs in a subtransaction
 * and a failure is reported in the result (success false, error,
 * sqlstate), with nothing of it left behind.
 */
Datum
pgds_execute(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[9];
	bool		nulls[9] = {false};
	DsSink		r;
	DsExecuteCall call;
	ErrorData  *edata;
	char	   *database;
	char	   *sql;
	bool		require_ro;
	char	   *source = NULL;
	char	   *error = NULL;
	char	   *sqlstate = NULL;
	instr_time	start,
				duration;

	ds_required_arg(fcinfo, 0, "database");
	ds_required_arg(fcinfo, 1, "query");
	ds_required_arg(fcinfo, 2, "max_rows");
	ds_required_arg(fcinfo, 3, "read_only");
	if (PG_GETARG_INT32(2) < 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("max_rows must not be negative"));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	database = text_to_cstring(PG_GETARG_TEXT_PP(0));
	sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	require_ro = PG_GETARG_BOOL(3);

	ds_sink_init(&r, DS_SINK_ARRAY);
	r.max_rows = PG_GETARG_INT32(2);

	INSTR_TIME_SET_CURRENT(start);
	call.database = database;
	call.sql = sql;
	call.require_ro = require_ro;
	call.r = &r;
	call.source = NULL;
	call.status = NULL;
	call.autocommit = !IsTransactionBlock();
	edata = ds_in_subxact(ds_execute_call, &call);
	if (edata == NULL)
		source = call.source;
	else
	{
		error = edata->message;
		sqlstate = pstrdup(unpack_sql_state(edata->sqlerrcode));
	}
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	if (edata == NULL)
		ds_sink_end(&r);

	if (source == NULL)
	{
		DsSource   *src = NULL;
		DsDatabase *db = ds_cache_ensure() ? ds_cache_database(database, &src) : NULL;

		if (db != NULL)
			source = pstrdup(db->source);
	}
	values[0] = BoolGetDatum(error == NULL);
	if (source)
		values[1] = CStringGetTextDatum(source);
	else
		nulls[1] = true;
	if (error == NULL && r.result != NULL)
	{
		Datum	   *names = palloc(sizeof(Datum) * Max(r.ncols, 1));
		int			c;

		for (c = 0; c < r.ncols; c++)
			names[c] = CStringGetTextDatum(r.names[c]);
		values[2] = PointerGetDatum(construct_array(names, r.ncols, TEXTOID, -1,
													false, TYPALIGN_INT));
		values[3] = JsonbPGetDatum(r.result);
	}
	else
	{
		nulls[2] = true;
		nulls[3] = true;
	}
	/* a command without rows: the rows it affected, as exec() shows them */
	values[4] = Int64GetDatum(error != NULL ? 0 :
							  r.started ? r.rows : ds_status_rows(call.status));
	values[5] = BoolGetDatum(error == NULL && r.truncated);
	if (error)
	{
		values[6] = CStringGetTextDatum(error);
		values[7] = CStringGetTextDatum(sqlstate);
	}
	else
	{
		nulls[6] = true;
		nulls[7] = true;
	}
	values[8] = Float8GetDatum(INSTR_TIME_GET_MILLISEC(duration));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}
