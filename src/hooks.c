/*-------------------------------------------------------------------------
 *
 * hooks.c
 *		  The early filter of an enforced session: validate every statement
 *		  the client sends.
 *
 * When the library is loaded and the session's effective datasource.enforce
 * (sandbox.c: the tightest of its own value, the stored ones and a sandbox
 * row) is warn or error, every top-level statement is validated as
 * datasource.validate() would, right after parse analysis: it must be
 * valid, touch only the logical databases the sandbox allows, and be
 * strictly read-only when the sandbox is.  A failing statement gets a
 * WARNING or is refused with 42501; a session that fails closed is refused
 * everything.  This is a filter with the validator's messages, not the
 * gate: what a statement reaches through functions, views, triggers or the
 * fast path is judged by enforce.c.
 *
 * Transaction control, SET and SHOW are exempt from the read-only rule (they
 * change no data, and the settings themselves are superuser-only).
 *
 * With enforce off the hook returns after asking sandbox.c (a few
 * comparisons).  It does nothing in databases without the extension but
 * refuse a session that fails closed, and it leaves statements run from
 * inside functions alone (their text is not the client's).
 *
 * Queries (SELECT, INSERT, UPDATE, DELETE, MERGE) are judged on the tree
 * parse analysis just built, not parsed again: every relation PostgreSQL
 * resolved must be in the schema of a local logical database (or a system
 * schema), its datasource usable (policy.c), and read-only is judged on the
 * exact functions and operators chosen, by the rules validate() uses
 * (readonly.c); the extension's own functions are left to their checks.
 * Utility statements, and queries holding an identifier token longer than
 * 63 bytes (their tree holds truncated names), are validated from their
 * text as datasource.validate() does.
 *
 * Memory: the statement text and the verdict are allocated in the current
 * (per-statement) memory context.
 *
 * IDENTIFICATION
 *		  src/hooks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_namespace.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "pg_datasource.h"

static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;

static void ds_post_parse_analyze(ParseState *pstate, Query *query,
								  JumbleState *jstate);

/*
 * ds_hooks_init
 *		Installs the hook, keeping the previous one; called from _PG_init.
 */
void
ds_hooks_init(void)
{
	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = ds_post_parse_analyze;
}

/* what the walk over an analysed query found */
typedef struct DsHookWalk
{
	List	   *dbs;			/* logical databases touched */
	char	   *error;			/* first reason it is not allowed */
	char	   *not_ro;			/* first reason it is not read-only */
	bool		check_ro;		/* whether read-only is asked */
} DsHookWalk;

/*
 * ds_hook_relation
 *		A relation parse analysis resolved: its schema must be a system
 *		schema or that of a local logical database.
 */
static void
ds_hook_relation(DsHookWalk *w, Oid relid)
{
	Oid			nsp = get_rel_namespace(relid);
	char	   *nspname;
	DsDatabase *db;
	DsSource   *src;
	ListCell   *lc;

	if (nsp == PG_CATALOG_NAMESPACE)
		return;
	nspname = get_namespace_name(nsp);
	if (nspname == NULL)
		return;					/* dropped concurrently: the executor will say */
	if (strcmp(nspname, "information_schema") == 0)
		return;
	db = ds_cache_local_schema(nspname, &src);
	if (db == NULL)
	{
		if (w->error == NULL)
			w->error = psprintf("relation \"%s\" is in schema \"%s\", which is not a logical database",
								get_rel_name(relid), nspname);
		return;
	}
	if (w->error == NULL)
		(void) ds_source_usable(src, NULL, NULL, 0, &w->error, NULL);
	foreach(lc, w->dbs)
		if (lfirst(lc) == db)
			return;
	w->dbs = lappend(w->dbs, db);
}

/*
 * ds_hook_func
 *		A function the statement calls, judged when read-only is asked.
 *		The extension's own functions are left to the gates and to their
 *		own checks (a routing function routes only read-only statements for
 *		a read-only sandbox; enforce.c refuses those that write).
 */
static void
ds_hook_func(DsHookWalk *w, Oid funcid)
{
	char	   *reason;

	if (!w->check_ro || w->not_ro != NULL || !OidIsValid(funcid))
		return;
	/* the cached verdict first: most functions are read-only */
	reason = ds_readonly_func(funcid);
	/* the extension's own functions answer to the sandbox themselves */
	if (reason != NULL && get_func_namespace(funcid) != ds_sandbox_get()->ext_nsp)
		w->not_ro = reason;
}

/*
 * ds_hook_walker
 *		Visits every query level, range table entry and expression.
 */
static bool
ds_hook_walker(Node *node, DsHookWalk *w)
{
	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_Query:
			{
				Query	   *q = (Query *) node;

				/* validate()'s rules, on the analysed tree (readonly.c) */
				if (w->check_ro && w->not_ro == NULL)
					w->not_ro = ds_readonly_query(q);
				return query_tree_walker(q, ds_hook_walker, (void *) w,
										 QTW_EXAMINE_RTES_BEFORE);
			}
		case T_RangeTblEntry:
			{
				RangeTblEntry *rte = (RangeTblEntry *) node;

				if (rte->rtekind == RTE_RELATION)
					ds_hook_relation(w, rte->relid);
				return false;	/* the walker goes on into its contents */
			}
		case T_FuncExpr:
			ds_hook_func(w, ((FuncExpr *) node)->funcid);
			break;
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
			set_opfuncid((OpExpr *) node);
			ds_hook_func(w, ((OpExpr *) node)->opfuncid);
			break;
		case T_ScalarArrayOpExpr:
			set_sa_opfuncid((ScalarArrayOpExpr *) node);
			ds_hook_func(w, ((ScalarArrayOpExpr *) node)->opfuncid);
			break;
		case T_Aggref:
			ds_hook_func(w, ((Aggref *) node)->aggfnoid);
			break;
		case T_WindowFunc:
			ds_hook_func(w, ((WindowFunc *) node)->winfnoid);
			break;
		case T_RowCompareExpr:
			{
				ListCell   *lc;

				foreach(lc, ((RowCompareExpr *) node)->opnos)
					ds_hook_func(w, get_opcode(lfirst_oid(lc)));
				break;
			}
		default:
			break;
	}
	return expression_tree_walker(node, ds_hook_walker, (void *) w);
}

/*
 * ds_hook_query
 *		Judges an analysed query; returns why it is not allowed, or NULL.
 */
static char *
ds_hook_query(Query *query, bool require_ro)
{
	DsHookWalk	w;
	ListCell   *lc;

	MemSet(&w, 0, sizeof(w));
	w.check_ro = require_ro;
	(void) ds_hook_walker((Node *) query, &w);
	if (w.error == NULL && w.not_ro != NULL)
		w.error = psprintf("statement is not read-only: %s", w.not_ro);
	foreach(lc, w.dbs)
	{
		DsDatabase *db = lfirst(lc);

		if (w.error == NULL && !ds_sandbox_allows(db->name))
			w.error = psprintf("logical database \"%s\" is outside the datasource sandbox",
							   db->name);
	}
	list_free(w.dbs);
	return w.error;
}

/*
 * ds_post_parse_analyze
 *		Validates a top-level statement when enforcement is on.
 */
static void
ds_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	const char *text;
	int			loc;
	int			len;
	char	   *stmt;
	DsVerdict	v;
	char	   *reason = NULL;
	int			i;
	bool		pushed = false;
	bool		installed;
	bool		require_ro;
	const DsSandbox *sb;

	if (prev_post_parse_analyze)
		prev_post_parse_analyze(pstate, query, jstate);

	/* only the client's own statements */
	text = pstate->p_sourcetext;
	if (text == NULL || text != debug_query_string || !IsTransactionState())
		return;

	/* the effective level: the session's settings can only tighten it */
	sb = ds_sandbox_get();
	if (sb->enforce == DS_ENFORCE_OFF)
		return;
	if (sb->fail_closed != NULL)
		ds_sandbox_refuse_all(sb);
	require_ro = sb->read_only;

	/* utility statements are analysed without a snapshot; reading needs one */
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	installed = ds_cache_ensure();
	if (pushed)
		PopActiveSnapshot();
	if (!installed)
		return;

	/* transaction control, SET and SHOW change no data */
	if (query->commandType == CMD_UTILITY && query->utilityStmt != NULL &&
		(IsA(query->utilityStmt, TransactionStmt) ||
		 IsA(query->utilityStmt, VariableSetStmt) ||
		 IsA(query->utilityStmt, VariableShowStmt)))
		require_ro = false;

	loc = query->stmt_location > 0 ? query->stmt_location : 0;
	len = query->stmt_len > 0 ? query->stmt_len : (int) strlen(text + loc);

	/* a query is judged on its analysed tree (see the file header) */
	if (query->commandType != CMD_UTILITY &&
		!ds_long_candidate_n(text + loc, len))
	{
		reason = ds_hook_query(query, require_ro);
		goto decide;
	}

	stmt = pnstrdup(text + loc, len);
	ds_validate(stmt, NULL, require_ro, &v);
	if (!v.valid)
		reason = v.error;
	else
	{
		for (i = 0; i < v.ndbs && reason == NULL; i++)
			if (!ds_sandbox_allows(v.dbs[i]))
				reason = psprintf("logical database \"%s\" is outside the datasource sandbox",
								  v.dbs[i]);
	}
decide:
	if (reason == NULL)
		return;

	ereport(ds_sandbox_get()->enforce == DS_ENFORCE_ERROR ? ERROR : WARNING,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("statement not allowed by datasource.enforce: %s", reason),
			errhint("datasource.validate() tells what a statement touches."));
}
