/*-------------------------------------------------------------------------
 *
 * validate.c
 *		  What a SQL statement touches, and whether it is truly read-only:
 *		  the verdict, and datasource.validate().
 *
 * The text is parsed with the server's own raw parser (scan.c), never with
 * patterns; an identifier longer than NAMEDATALEN - 1 bytes is an error,
 * never a silent truncation.  The one statement is walked for the names it
 * points at (walk.c for DML and expressions, walk_utility.c for utility
 * statements), which resolve to logical databases through the registry
 * cache (regcache.c).  Then the verdict: the functions and operators
 * collected are judged by readonly.c (whose rules also say which
 * statements and clauses are read-only), the logical databases touched
 * must share one usable datasource (policy.c), and a statement that must
 * be read-only but is not is invalid.  A statement that would change the
 * session it runs in (sessionstate.c) is noted apart: routing refuses it,
 * and so does validate() when it is given the logical database to route
 * to; without one validate() judges the statement as the client's own, as
 * the enforcement hook (hooks.c) does, where a SET is the client's right.
 *
 * A validation never raises for anything the text contains: what is wrong
 * is the verdict's error, with the SQLSTATE routing raises it with.  No I/O
 * but catalog lookups.
 *
 * Memory: a validation works in a context of its own (one kept for the
 * backend and reset after each call; nested calls get a temporary one) and
 * copies its results into the caller's context.
 *
 * IDENTIFICATION
 *		  src/validate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_validate);

/* the work context of ds_validate, and how deep calls are nested */
static MemoryContext validate_cxt = NULL;
static TupleDesc result_desc = NULL;	/* validate()'s result row */
static Oid	result_desc_fn = InvalidOid;	/* for this function */
static int	validate_depth = 0;

static void ds_validate_work(const char *query, const char *database,
							 bool require_ro, DsVerdict *v, MemoryContext cxt,
							 MemoryContext callercxt);

/*
 * ds_validate
 *		Validates one text; fills *v (allocated in the caller's context).
 *		Never raises for anything the text contains.
 */
void
ds_validate(const char *query, const char *database, bool require_ro,
			DsVerdict *v)
{
	MemoryContext callercxt = CurrentMemoryContext;
	MemoryContext cxt;

	MemSet(v, 0, sizeof(*v));

	/*
	 * One work context kept for the backend and reset per call (cheaper than
	 * creating one each time); a nested call gets a context of its own.
	 */
	if (validate_depth == 0)
	{
		if (validate_cxt == NULL)
			validate_cxt = AllocSetContextCreate(TopMemoryContext,
												 "pg_datasource validate",
												 ALLOCSET_DEFAULT_SIZES);
		cxt = validate_cxt;
	}
	else
		cxt = AllocSetContextCreate(CurrentMemoryContext,
									"pg_datasource nested validate",
									ALLOCSET_DEFAULT_SIZES);
	validate_depth++;
	MemoryContextSwitchTo(cxt);

	PG_TRY();
	{
		ds_validate_work(query, database, require_ro, v, cxt, callercxt);
	}
	PG_FINALLY();
	{
		validate_depth--;
		MemoryContextSwitchTo(callercxt);
		if (cxt == validate_cxt)
			MemoryContextReset(cxt);
		else
			MemoryContextDelete(cxt);
	}
	PG_END_TRY();
}

/*
 * ds_validate_target
 *		Sets the walk's target logical database (the one unqualified names
 *		resolve in), when the caller names one.  Returns false, with the
 *		reason recorded, when it does not exist.
 */
static bool
ds_validate_target(DsWalk *w, const char *database)
{
	DsSource   *src;

	if (database == NULL)
		return true;
	w->target = ds_cache_database(database, &src);
	if (w->target == NULL)
	{
		ds_walk_fail(w, ERRCODE_UNDEFINED_OBJECT,
					 psprintf("logical database \"%s\" does not exist", database));
		return false;
	}
	w->target_source = w->target->source;
	ds_walk_touch(w, w->target);
	return true;
}

/*
 * ds_validate_parse
 *		Parses the text into the one statement to walk; returns NULL with
 *		the reason recorded when there is none (a syntax error, no or
 *		several statements, an over-long identifier).  *command gets the
 *		statement's command tag once it parsed.  Runs in the work context
 *		cxt.
 */
static Node *
ds_validate_parse(DsWalk *w, const char *query, MemoryContext cxt,
				  char **command)
{
	List	   *parsetree;
	ErrorData  *edata;
	char	   *too_long = NULL;
	Node	   *stmt;

	/*
	 * An over-long identifier is an error here, never a silent truncation.
	 * Only text that might hold one (scan.c's cheap pre-test) is lexed a
	 * second time, with the scanner's truncation notices kept from the
	 * client, and only once it parsed: the scanner raises for what it
	 * cannot lex.
	 */
	if (ds_long_run_n(query, (int) strlen(query)))
	{
		int			level = NewGUCNestLevel();

		(void) set_config_option("client_min_messages", "warning",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		parsetree = ds_parse_capture(query, RAW_PARSE_DEFAULT, cxt, &edata);
		if (edata == NULL)
			too_long = ds_identifier_too_long(query);
		AtEOXact_GUC(true, level);
	}
	else
		parsetree = ds_parse_capture(query, RAW_PARSE_DEFAULT, cxt, &edata);

	if (edata != NULL)
	{
		ds_walk_fail(w, edata->sqlerrcode,
					 edata->cursorpos > 0
					 ? psprintf("%s at position %d", edata->message, edata->cursorpos)
					 : pstrdup(edata->message));
		FreeErrorData(edata);
		return NULL;
	}
	if (parsetree == NIL)
	{
		ds_walk_fail(w, ERRCODE_SYNTAX_ERROR, pstrdup("no statement"));
		return NULL;
	}
	if (list_length(parsetree) > 1)
	{
		ds_walk_fail(w, ERRCODE_SYNTAX_ERROR,
					 psprintf("several statements (%d): validate one at a time",
							  list_length(parsetree)));
		return NULL;
	}

	stmt = ((RawStmt *) linitial(parsetree))->stmt;
	*command = pstrdup(GetCommandTagName(CreateCommandTag(stmt)));
	if (too_long != NULL)
	{
		ds_walk_fail(w, ERRCODE_NAME_TOO_LONG,
					 psprintf("identifier %s... is too long: identifiers are at most %d bytes and are never truncated",
							  too_long, NAMEDATALEN - 1));
		return NULL;
	}
	return stmt;
}

/*
 * ds_validate_names
 *		Walks the statement for its names: DML through walk.c, DO never
 *		(its code cannot be seen), anything else through walk_utility.c.
 */
static void
ds_validate_names(DsWalk *w, Node *stmt, const char *command)
{
	switch (nodeTag(stmt))
	{
		case T_SelectStmt:
			ds_walk_stmt(stmt, w);
			break;
		case T_InsertStmt:
		case T_UpdateStmt:
		case T_DeleteStmt:
		case T_MergeStmt:
			ds_walk_not_ro(w, ds_readonly_rule(DS_RO_MODIFIES, command));
			ds_walk_stmt(stmt, w);
			break;
		case T_DoStmt:
			ds_walk_not_ro(w, ds_readonly_rule(DS_RO_DO, NULL));
			ds_walk_fail(w, ERRCODE_FEATURE_NOT_SUPPORTED,
						 pstrdup("cannot validate DO statements: the code inside is not visible"));
			break;
		default:
			if (!IsA(stmt, ExplainStmt))
				ds_walk_not_ro(w, ds_readonly_rule(DS_RO_NOT_QUERY, command));
			if (!ds_walk_utility(stmt, w))
				ds_walk_fail(w, ERRCODE_FEATURE_NOT_SUPPORTED,
							 psprintf("cannot validate %s statements", command));
			break;
	}
}

/*
 * ds_validate_calls
 *		Judges the functions and operators the walk collected (readonly.c),
 *		only while the answer can still be yes.
 */
static void
ds_validate_calls(DsWalk *w)
{
	DsRoCtx		ro;
	const char *schema;
	ListCell   *lc;

	foreach(lc, w->funcs)
		if (ds_readonly_runs_sql(lfirst(lc)))
			w->runs_sql = true;
	if (w->not_ro != NULL || (w->funcs == NIL && w->opers == NIL))
		return;

	/*
	 * Unqualified names resolve in the target's schema first, then the
	 * search path: both are part of the key of a cached verdict.  The
	 * schema, which may hold any character, is prefixed with its length.
	 */
	schema = w->target ? w->target->schema_name : "";
	MemSet(&ro, 0, sizeof(ro));
	ro.target = w->target;
	ro.target_source = w->target_source;
	ro.role = GetUserId();
	ro.path = psprintf("%s\x01%zu:%s\x01%s",
					   w->target ? w->target->source : "",
					   strlen(schema), schema,
					   namespace_search_path ? namespace_search_path : "");
	ro.path_hash = hash_combine(hash_uint32(ro.role),
								hash_bytes((const unsigned char *) ro.path,
										   strlen(ro.path)));

	foreach(lc, w->funcs)
	{
		char	   *reason = ds_readonly_reason(&ro, 'f', lfirst(lc));

		if (reason)
		{
			ds_walk_not_ro(w, reason);
			return;
		}
	}
	foreach(lc, w->opers)
	{
		char	   *reason = ds_readonly_reason(&ro, 'o', lfirst(lc));

		if (reason)
		{
			ds_walk_not_ro(w, reason);
			return;
		}
	}
}

/*
 * ds_validate_sources
 *		The logical databases touched must be on one datasource, and that
 *		one usable (policy.c).  Only when nothing else is wrong.
 */
static void
ds_validate_sources(DsWalk *w)
{
	char	   *differ;
	DsSource   *src = NULL;
	char	   *reason;
	int			code;

	if (w->error != NULL || w->dbs == NIL)
		return;
	differ = ds_sources_differ(w->dbs);
	if (differ != NULL)
	{
		w->mixed_sources = true;
		ds_walk_fail(w, ERRCODE_FEATURE_NOT_SUPPORTED,
					 psprintf("statement touches logical databases on different datasources: %s",
							  differ));
		return;
	}
	(void) ds_cache_database(((DsDatabase *) linitial(w->dbs))->name, &src);
	if (src != NULL && !ds_source_usable(src, NULL, NULL, 0, &reason, &code))
		ds_walk_fail(w, code, reason);
}

/*
 * ds_verdict_fill
 *		Copies what the walk found into the verdict, in the current (the
 *		caller's) memory context.  checked says whether the statement was
 *		walked to the end, so that read_only can be true.
 */
static void
ds_verdict_fill(DsVerdict *v, DsWalk *w, bool checked, const char *command)
{
	ListCell   *lc;

	v->valid = (w->error == NULL);
	v->sqlerrcode = w->sqlerrcode;
	v->read_only = checked && w->not_ro == NULL;
	v->error = w->error ? pstrdup(w->error) : NULL;
	v->not_ro = w->not_ro ? pstrdup(w->not_ro) : NULL;
	v->runs_sql = w->runs_sql;
	v->command = command ? pstrdup(command) : NULL;
	if (w->session != NULL)
	{
		v->session = psprintf("%s %s", command ? command : "the statement",
							  w->session);
		v->session_rule = w->session_rule;
	}
	if (w->dbs != NIL && !w->mixed_sources)
		v->datasource = pstrdup(((DsDatabase *) linitial(w->dbs))->source);
	v->ndbs = list_length(w->dbs);
	v->dbs = palloc0(sizeof(char *) * Max(v->ndbs, 1));
	foreach(lc, w->dbs)
		v->dbs[foreach_current_index(lc)] = pstrdup(((DsDatabase *) lfirst(lc))->name);
	foreach(lc, w->rewrites)
	{
		DsRewrite  *r = lfirst(lc);
		DsRewrite  *c = palloc(sizeof(DsRewrite));

		c->location = r->location;
		c->with_catalog = r->with_catalog;
		c->schema = pstrdup(r->schema);
		v->rewrites = lappend(v->rewrites, c);
	}
	v->nrels = list_length(w->rels);
	v->rels = palloc0(sizeof(char *) * Max(v->nrels, 1));
	foreach(lc, w->rels)
		v->rels[foreach_current_index(lc)] = pstrdup(lfirst(lc));
}

/*
 * ds_validate_work
 *		The body of ds_validate, running in the work context cxt: the
 *		target, the parse, the walk, the calls, the datasource, and the
 *		verdict copied into callercxt.
 */
static void
ds_validate_work(const char *query, const char *database, bool require_ro,
				 DsVerdict *v, MemoryContext cxt, MemoryContext callercxt)
{
	DsWalk		w;
	Node	   *stmt;
	char	   *command = NULL;
	bool		checked = false;	/* read-only fully judged */

	MemSet(&w, 0, sizeof(w));
	if (!ds_cache_ensure())
		elog(ERROR, "the pg_datasource registry is not available");

	if (ds_validate_target(&w, database) &&
		(stmt = ds_validate_parse(&w, query, cxt, &command)) != NULL)
	{
		ds_validate_names(&w, stmt, command);
		checked = true;
		ds_validate_calls(&w);
	}
	ds_validate_sources(&w);
	if (require_ro && w.error == NULL && w.not_ro != NULL)
		ds_walk_fail(&w, ERRCODE_READ_ONLY_SQL_TRANSACTION,
					 psprintf("statement is not read-only: %s", w.not_ro));

	MemoryContextSwitchTo(callercxt);
	ds_verdict_fill(v, &w, checked, command);
	MemoryContextSwitchTo(cxt);
}

/*
 * ds_cmp_cstr
 *		qsort comparator for C strings.
 */
static int
ds_cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * ds_text_array
 *		A sorted text[] of C strings.
 */
static Datum
ds_text_array(char **items, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	qsort(items, n, sizeof(char *), ds_cmp_cstr);
	for (i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * validate(query, database, require_read_only)
 *		-> (valid, datasource, databases, relations, command, read_only, error)
 */
Datum
pgds_validate(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};
	DsVerdict	v;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"query\" must not be null"));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"require_read_only\" must not be null"));
	/*
	 * The result descriptor is built once per backend (per function OID, so
	 * a re-created extension gets a new one): a lateral call is re-initialised
	 * per outer row, so fn_extra would not keep it.
	 */
	if (result_desc == NULL || result_desc_fn != fcinfo->flinfo->fn_oid)
	{
		MemoryContext old;

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		old = MemoryContextSwitchTo(TopMemoryContext);
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(old);
		if (result_desc != NULL)
			FreeTupleDesc(result_desc);
		result_desc = tupdesc;
		result_desc_fn = fcinfo->flinfo->fn_oid;
	}
	tupdesc = result_desc;

	ds_validate(text_to_cstring(PG_GETARG_TEXT_PP(0)),
				PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
				PG_GETARG_BOOL(2), &v);

	/*
	 * Given a logical database, the question is routing's: what routing
	 * refuses because it would change the session is not valid.  Without
	 * one, the statement is judged as the client's own, as the enforcement
	 * hook judges it (a client may SET its own session).
	 */
	if (v.valid && v.session != NULL && !PG_ARGISNULL(1))
	{
		v.valid = false;
		v.error = v.session;
	}
	values[0] = BoolGetDatum(v.valid);
	if (v.datasource)
		values[1] = CStringGetTextDatum(v.datasource);
	else
		nulls[1] = true;
	values[2] = ds_text_array(v.dbs, v.ndbs);
	values[3] = ds_text_array(v.rels, v.nrels);
	if (v.command)
		values[4] = CStringGetTextDatum(v.command);
	else
		nulls[4] = true;
	values[5] = BoolGetDatum(v.read_only);
	if (v.error)
		values[6] = CStringGetTextDatum(v.error);
	else
		nulls[6] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
