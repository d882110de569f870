/*-------------------------------------------------------------------------
 *
 * route.c
 *		  query / query_json / execute / exec: run SQL where a logical
 *		  database lives.
 *
 * Every routed statement is validated first (validate.c): one statement,
 * all of it on the target's datasource, read-only when the call or the
 * logical database asks for it.  Logical qualifiers are then written as
 * physical schema names (rewrite.c) and the statement runs on the local
 * datasource through SPI (local.c) or on a remote one through libpq
 * (connection.c), with unqualified names resolving in the target's schema.
 * A statement this backend routed before takes its verdict and rewritten
 * text from stmtcache.c instead, and a remote keeps it prepared.
 *
 * Rows are handed to a DsResult, which turns them into what the SQL
 * function returns: tuples of the caller's column definition list, jsonb
 * objects, or one jsonb array (execute).  JSON values: numbers, booleans,
 * json and jsonb are JSON-native, SQL null is null, every other type is its
 * text form as a JSON string.
 *
 * Memory: rows are converted in a per-row context that is reset after each
 * row; tuplestores live in the per-query context and keep at most 1 MB
 * (DS_RESULT_MEMORY_KB, or work_mem if smaller) in memory, spilling to a
 * temporary file beyond.
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
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "pg_datasource.h"

/* in-memory budget of a routed result's tuplestore, in kB */
#define DS_RESULT_MEMORY_KB 1024

PG_FUNCTION_INFO_V1(pgds_query);
PG_FUNCTION_INFO_V1(pgds_query_json);
PG_FUNCTION_INFO_V1(pgds_execute);
PG_FUNCTION_INFO_V1(pgds_exec);

/* ------------------------------------------------------------ results */

/*
 * ds_result_start
 *		The columns of the result are known: check them against the
 *		caller's row type and prepare the conversions.
 */
void
ds_result_start(DsResult *r, int ncols, char **names, Oid *types, bool local)
{
	int			c;

	r->started = true;
	r->ncols = ncols;
	r->names = names;
	r->types = types;
	r->local = local;
	r->rowcxt = AllocSetContextCreate(CurrentMemoryContext,
									  "pg_datasource routed row",
									  ALLOCSET_DEFAULT_SIZES);
	if (r->mode == DS_RESULT_RECORD)
	{
		if (ncols != r->desc->natts)
			ereport(ERROR,
					errcode(ERRCODE_DATATYPE_MISMATCH),
					errmsg("the statement returns %d column%s but the column definition list has %d",
						   ncols, ncols == 1 ? "" : "s", r->desc->natts));
		r->direct = local;
		for (c = 0; c < ncols; c++)
			if (types[c] != TupleDescAttr(r->desc, c)->atttypid)
				r->direct = false;
		if (!r->direct)
			r->attinmeta = TupleDescGetAttInMetadata(r->desc);
	}
	if (local && !(r->mode == DS_RESULT_RECORD && r->direct))
	{
		r->outfuncs = palloc(sizeof(FmgrInfo) * Max(ncols, 1));
		for (c = 0; c < ncols; c++)
		{
			Oid			outfunc;
			bool		varlena;

			getTypeOutputInfo(types[c], &outfunc, &varlena);
			fmgr_info(outfunc, &r->outfuncs[c]);
		}
	}
	if (r->mode == DS_RESULT_ARRAY)
	{
		initStringInfo(&r->array);
		appendStringInfoChar(&r->array, '[');
	}
}

/*
 * ds_json_value
 *		Appends one column value as JSON.
 */
static void
ds_json_value(StringInfo buf, Oid type, const char *text)
{
	if (text == NULL)
	{
		appendStringInfoString(buf, "null");
		return;
	}
	switch (type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			/* NaN and the infinities are no JSON numbers */
			if (strpbrk(text, "NnIi") == NULL)
			{
				appendStringInfoString(buf, text);
				return;
			}
			break;
		case BOOLOID:
			appendStringInfoString(buf, text[0] == 't' ? "true" : "false");
			return;
		case JSONOID:
		case JSONBOID:
			appendStringInfoString(buf, text);
			return;
		default:
			break;
	}
	escape_json(buf, text);
}

/*
 * ds_result_row
 *		One row: local Datums (values/nulls) or remote text (texts).
 */
void
ds_result_row(DsResult *r, Datum *values, bool *nulls, char **texts)
{
	MemoryContext old;
	int			c;

	if (r->mode == DS_RESULT_ARRAY && r->max_rows >= 0 && r->rows >= r->max_rows)
	{
		r->truncated = true;
		return;
	}
	old = MemoryContextSwitchTo(r->rowcxt);
	if (r->mode == DS_RESULT_NONE)
		;
	else if (r->mode == DS_RESULT_RECORD && r->direct)
		tuplestore_putvalues(r->store, r->desc, values, nulls);
	else
	{
		if (texts == NULL)
		{
			texts = palloc(sizeof(char *) * Max(r->ncols, 1));
			for (c = 0; c < r->ncols; c++)
				texts[c] = nulls[c] ? NULL :
					OutputFunctionCall(&r->outfuncs[c], values[c]);
		}
		if (r->mode == DS_RESULT_RECORD)
		{
			HeapTuple	tup = BuildTupleFromCStrings(r->attinmeta, texts);

			tuplestore_puttuple(r->store, tup);
		}
		else
		{
			StringInfoData obj;
			StringInfo	buf = &obj;

			if (r->mode == DS_RESULT_ARRAY)
			{
				buf = &r->array;
				if (r->rows > 0)
					appendStringInfoString(buf, ", ");
			}
			else
				initStringInfo(&obj);
			appendStringInfoChar(buf, '{');
			for (c = 0; c < r->ncols; c++)
			{
				if (c > 0)
					appendStringInfoString(buf, ", ");
				escape_json(buf, r->names[c]);
				appendStringInfoString(buf, ": ");
				ds_json_value(buf, r->types[c], texts[c]);
			}
			appendStringInfoChar(buf, '}');
			if (r->mode == DS_RESULT_JSON)
			{
				Datum		j = DirectFunctionCall1(jsonb_in, CStringGetDatum(obj.data));
				bool		isnull = false;

				tuplestore_putvalues(r->store, r->desc, &j, &isnull);
			}
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->rowcxt);
	r->rows++;
}

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
 * ds_route
 *		Validates, rewrites and runs sql on the datasource of database (the
 *		first two from the statement cache when it has them); rows go to r.
 *		Returns the command status; *source is set to the datasource's name.
 */
static char *
ds_route(const char *database, const char *sql, int nparams, char **params,
		 bool require_ro, DsResult *r, char **source)
{
	DsVerdict	v;
	DsDatabase *db;
	DsSource   *src;
	char	   *text = NULL;
	bool		ro;
	bool		cached;
	uint64		epoch;

	db = ds_cache_database_copy(database, &src);
	*source = src->name;

	ro = require_ro || db->read_only || src->read_only;
	epoch = ds_stmt_cache_epoch();
	cached = ds_stmt_cache_get(database, sql, ro, &v, &text);
	if (!cached)
		ds_validate(sql, database, ro, &v);
	if (!v.valid)
	{
		if ((db->read_only || src->read_only) && !require_ro && v.not_ro != NULL &&
			v.sqlerrcode == ERRCODE_READ_ONLY_SQL_TRANSACTION)
			ereport(ERROR,
					errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
					errmsg("logical database \"%s\" is read-only", db->name),
					errdetail("The statement is not read-only: %s.", v.not_ro));
		ds_refuse(&v);
	}
	if (!src->enabled)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("datasource \"%s\" is disabled", src->name));

	if (!cached)
	{
		text = ds_rewrite(sql, v.rewrites);
		ds_stmt_cache_put(database, sql, ro, &v, text, epoch);
	}
	/* before anything is sent, wherever it goes */
	ds_params_check(text, nparams);
	if (src->server == NULL)
		return ds_local_run(text, db->schema_name, v.command, nparams, params,
							v.read_only, r);
	if (!v.read_only && XactReadOnly)
		ereport(ERROR,
				errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				errmsg("cannot route a statement that is not read-only in a read-only transaction"),
				errdetail("%s.", v.not_ro ? v.not_ro : "It may write"));
	/* one statement: the connection prepares it when it comes again */
	return ds_remote_route(src, text, db->schema_name, nparams, params,
						   v.read_only, true, r);
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
ds_set_returning(FunctionCallInfo fcinfo, DsResultMode mode)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DsResult	r;
	char	  **params = NULL;
	int			nparams = 0;
	char	   *source;
	MemoryContext old;

	ds_required_arg(fcinfo, 0, "database");
	ds_required_arg(fcinfo, 1, "query");
	if (!PG_ARGISNULL(2))
		params = ds_text_params(PG_GETARG_ARRAYTYPE_P(2), &nparams);

	MemSet(&r, 0, sizeof(r));
	r.mode = mode;
	r.max_rows = -1;
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("set-valued function called in context that cannot accept a set"));
	if (mode == DS_RESULT_RECORD && rsinfo->expectedDesc == NULL)
		ereport(ERROR,
				errcode(ERRCODE_SYNTAX_ERROR),
				errmsg("datasource.query needs a column definition list"),
				errhint("Call it in FROM: SELECT * FROM datasource.query(...) AS t(id int, name text)."));

	/*
	 * The store holds at most DS_RESULT_MEMORY_KB in memory and spills to a
	 * temporary file beyond, so routing a large result costs the backend
	 * little memory whatever work_mem is.
	 */
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (mode == DS_RESULT_RECORD)
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
	r.store = rsinfo->setResult;
	r.desc = rsinfo->setDesc;

	/* rows are converted in the per-query context that holds the store */
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	(void) ds_route(text_to_cstring(PG_GETARG_TEXT_PP(0)),
					text_to_cstring(PG_GETARG_TEXT_PP(1)),
					nparams, params, false, &r, &source);
	if (r.rowcxt)
		MemoryContextDelete(r.rowcxt);
	MemoryContextSwitchTo(old);
	return (Datum) 0;
}

/*
 * query(database text, query text, params text[]) returns setof record
 */
Datum
pgds_query(PG_FUNCTION_ARGS)
{
	return ds_set_returning(fcinfo, DS_RESULT_RECORD);
}

/*
 * query_json(database text, query text, params text[]) returns setof jsonb
 */
Datum
pgds_query_json(PG_FUNCTION_ARGS)
{
	return ds_set_returning(fcinfo, DS_RESULT_JSON);
}

/*
 * exec(database text, command text) returns text: the command status
 */
Datum
pgds_exec(PG_FUNCTION_ARGS)
{
	DsResult	r;
	char	   *source;
	char	   *status;

	ds_required_arg(fcinfo, 0, "database");
	ds_required_arg(fcinfo, 1, "command");
	MemSet(&r, 0, sizeof(r));
	r.mode = DS_RESULT_NONE;
	r.max_rows = -1;
	status = ds_route(text_to_cstring(PG_GETARG_TEXT_PP(0)),
					  text_to_cstring(PG_GETARG_TEXT_PP(1)),
					  0, NULL, false, &r, &source);
	if (r.rowcxt)
		MemoryContextDelete(r.rowcxt);
	PG_RETURN_TEXT_P(cstring_to_text(status));
}

/*
 * ds_in_subxact
 *		Runs fn(arg) in a subtransaction.  Returns NULL when it succeeded, or
 *		the error it raised, copied into the caller's memory context, after
 *		rolling the subtransaction back.  The caller's memory context and
 *		resource owner are current again either way.
 */
ErrorData *
ds_in_subxact(void (*fn) (void *), void *arg)
{
	MemoryContext callercxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(callercxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(callercxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(callercxt);
	CurrentResourceOwner = owner;
	return edata;
}

/* what execute() routes inside its subtransaction */
typedef struct DsExecuteCall
{
	const char *database;
	const char *sql;
	bool		require_ro;
	DsResult   *r;
	char	   *source;
	char	   *status;
} DsExecuteCall;

static void
ds_execute_call(void *arg)
{
	DsExecuteCall *call = arg;

	call->status = ds_route(call->database, call->sql, 0, NULL,
							call->require_ro, call->r, &call->source);
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
	DsResult	r;
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

	MemSet(&r, 0, sizeof(r));
	r.mode = DS_RESULT_ARRAY;
	r.max_rows = PG_GETARG_INT32(2);

	INSTR_TIME_SET_CURRENT(start);
	call.database = database;
	call.sql = sql;
	call.require_ro = require_ro;
	call.r = &r;
	call.source = NULL;
	call.status = NULL;
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
	if (error == NULL && r.started)
	{
		Datum	   *names = palloc(sizeof(Datum) * Max(r.ncols, 1));
		int			c;

		for (c = 0; c < r.ncols; c++)
			names[c] = CStringGetTextDatum(r.names[c]);
		values[2] = PointerGetDatum(construct_array(names, r.ncols, TEXTOID, -1,
													false, TYPALIGN_INT));
		appendStringInfoChar(&r.array, ']');
		values[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum(r.array.data));
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
	if (r.rowcxt)
		MemoryContextDelete(r.rowcxt);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}
