/*-------------------------------------------------------------------------
 *
 * sessionstate.c
 *		  What a routed statement, or a statement of a migration, may not
 *		  do: change the session it runs in.
 *
 * A routed statement runs on a session it shares: the caller's own on the
 * local datasource, a cached connection on a remote one, which the next
 * statement of any logical database of that server uses (and, behind a
 * transaction pooler, other backends too).  Routing sets what a statement
 * needs (the target's schema, the calling role, the read-only mode, the
 * client's encoding and string syntax) for each statement; a statement that
 * changed any of it, or left anything else behind (a session setting, a
 * prepared statement, a cursor, a LISTEN, a session advisory lock, a
 * temporary table, a loaded library, transaction control), would make the
 * next statement run somewhere or somehow it did not ask for.  Such a
 * statement is refused before anything runs.  Transaction-scoped forms stay
 * allowed: SET LOCAL (of a setting routing does not manage),
 * set_config(name, value, true) with constant arguments, the _xact_
 * advisory locks, a temporary table ON COMMIT DROP.
 *
 * The rule is decided here, once, on the raw parse tree: for a statement
 * (ds_session_stmt) and for a function call (ds_session_call).  walk.c and
 * walk_utility.c ask it for every statement and call they read, so
 * validate() and routing say the same; script.c asks it for each statement
 * of a migration script (ds_session_script, which also reads the calls of
 * the queries a script runs).  What a function called by the statement
 * does inside cannot be seen: on the local datasource local.c restores
 * every setting when the call returns, whatever set it.
 *
 * Memory: the phrases returned are palloc'd in the caller's context.
 *
 * IDENTIFICATION
 *		  src/sessionstate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "pg_datasource.h"

/*
 * The settings routing sets for every statement (or that decide who and
 * where the statement runs): not even SET LOCAL may change them.
 */
static const char *const ss_managed[] = {
	"search_path", "default_transaction_read_only", "transaction_read_only",
	"standard_conforming_strings", "client_encoding", "role",
	"session_authorization", NULL
};

/* builtins that take or release advisory locks held for the session */
static const char *const ss_session_locks[] = {
	"pg_advisory_lock", "pg_advisory_lock_shared",
	"pg_try_advisory_lock", "pg_try_advisory_lock_shared",
	"pg_advisory_unlock", "pg_advisory_unlock_shared",
	"pg_advisory_unlock_all", NULL
};

/*
 * ds_ss_managed
 *		Whether a setting name is one routing manages (names are
 *		case-insensitive, as PostgreSQL's own lookup).
 */
static bool
ds_ss_managed(const char *name)
{
	int			i;

	for (i = 0; ss_managed[i] != NULL; i++)
		if (pg_strcasecmp(name, ss_managed[i]) == 0)
			return true;
	return false;
}

/*
 * ds_ss_setting
 *		The verdict on SET/RESET of one named setting: a managed one always
 *		(even SET LOCAL), another unless it is transaction-local.
 */
static DsSessionRule
ds_ss_setting(const char *name, bool local, bool reset, char **what)
{
	if (ds_ss_managed(name))
	{
		*what = psprintf("changes \"%s\", which the extension sets for every statement it runs",
						 name);
		return DS_SESSION_MANAGED;
	}
	if (local)
		return DS_SESSION_NONE;
	*what = psprintf("%s \"%s\" for the rest of the session",
					 reset ? "resets" : "changes", name);
	return DS_SESSION_SETTING;
}

/*
 * ds_ss_set_multi
 *		SET TRANSACTION (allowed unless it sets the read-only mode, which
 *		routing manages), SET SESSION CHARACTERISTICS (the session's
 *		defaults: never) and SET TRANSACTION SNAPSHOT (transaction-scoped).
 */
static DsSessionRule
ds_ss_set_multi(VariableSetStmt *vs, char **what)
{
	ListCell   *lc;

	if (strcmp(vs->name, "SESSION CHARACTERISTICS") == 0)
	{
		*what = pstrdup("changes the transaction characteristics of the rest of the session");
		return DS_SESSION_SETTING;
	}
	if (strcmp(vs->name, "TRANSACTION") != 0)
		return DS_SESSION_NONE;
	foreach(lc, vs->args)
	{
		DefElem    *opt = lfirst(lc);

		if (IsA(opt, DefElem) && ds_ss_managed(opt->defname))
			return ds_ss_setting(opt->defname, true, false, what);
	}
	return DS_SESSION_NONE;
}

/*
 * ds_ss_variable_set
 *		SET / RESET in all their forms.
 */
static DsSessionRule
ds_ss_variable_set(VariableSetStmt *vs, char **what)
{
	switch (vs->kind)
	{
		case VAR_RESET_ALL:
			*what = pstrdup("resets every setting of the session, those routing sets for each statement included");
			return DS_SESSION_MANAGED;
		case VAR_SET_MULTI:
			return ds_ss_set_multi(vs, what);
		case VAR_RESET:
			return ds_ss_setting(vs->name, false, true, what);
		default:
			return ds_ss_setting(vs->name, vs->is_local, false, what);
	}
}

/*
 * ds_ss_temp
 *		A temporary relation outlives the statement (and the transaction,
 *		unless it is a table dropped at commit).  One is temporary by its
 *		keyword or by its schema (pg_temp, pg_temp_N).
 */
static DsSessionRule
ds_ss_temp(RangeVar *rel, bool drop_at_commit, const char *kind, char **what)
{
	bool		temp;

	if (rel == NULL || drop_at_commit)
		return DS_SESSION_NONE;
	temp = rel->relpersistence == RELPERSISTENCE_TEMP ||
		(rel->schemaname != NULL &&
		 strncmp(rel->schemaname, "pg_temp", strlen("pg_temp")) == 0);
	if (!temp)
		return DS_SESSION_NONE;
	*what = psprintf("creates a temporary %s, which outlives the transaction", kind);
	return DS_SESSION_STATE;
}

/*
 * ds_session_stmt
 *		Whether the statement stmt (a node of a raw parse tree: a utility
 *		statement, or a SELECT for its INTO) itself changes the session it
 *		runs in; when it does, *what says how (a phrase to follow the
 *		command tag or "statement n of the script").  Calls in it are
 *		ds_session_call's.
 */
DsSessionRule
ds_session_stmt(Node *stmt, char **what)
{
	const char *state = NULL;

	switch (nodeTag(stmt))
	{
		case T_VariableSetStmt:
			return ds_ss_variable_set((VariableSetStmt *) stmt, what);
		case T_TransactionStmt:
			state = "controls the transaction, which routing begins and ends with the caller's";
			break;
		case T_DiscardStmt:
			state = "discards state of the session";
			break;
		case T_ListenStmt:
			state = "listens on a channel for the rest of the session";
			break;
		case T_UnlistenStmt:
			state = "stops listening on channels of the session";
			break;
		case T_PrepareStmt:
			state = "leaves a prepared statement in the session";
			break;
		case T_DeallocateStmt:
			state = "drops prepared statements of the session";
			break;
		case T_DeclareCursorStmt:
			state = "declares a cursor, which outlives the statement";
			break;
		case T_ClosePortalStmt:
			state = "closes cursors of the session";
			break;
		case T_FetchStmt:
			state = "moves in a cursor of the session";
			break;
		case T_LoadStmt:
			state = "loads a library into the session";
			break;
		case T_CreateStmt:
			return ds_ss_temp(((CreateStmt *) stmt)->relation,
							  ((CreateStmt *) stmt)->oncommit == ONCOMMIT_DROP,
							  "table", what);
		case T_CreateTableAsStmt:
			{
				IntoClause *into = ((CreateTableAsStmt *) stmt)->into;

				return ds_ss_temp(into->rel, into->onCommit == ONCOMMIT_DROP,
								  "table", what);
			}
		case T_SelectStmt:
			{
				IntoClause *into = ((SelectStmt *) stmt)->intoClause;

				if (into == NULL)
					return DS_SESSION_NONE;
				return ds_ss_temp(into->rel, into->onCommit == ONCOMMIT_DROP,
								  "table", what);
			}
		case T_ViewStmt:
			return ds_ss_temp(((ViewStmt *) stmt)->view, false, "view", what);
		case T_CreateSeqStmt:
			return ds_ss_temp(((CreateSeqStmt *) stmt)->sequence, false,
							  "sequence", what);
		default:
			return DS_SESSION_NONE;
	}
	*what = pstrdup(state);
	return DS_SESSION_STATE;
}

/*
 * ds_ss_const_text / ds_ss_const_true
 *		A raw argument that is a string constant (its text), or the
 *		constant true (as a boolean, or a string that reads as true).
 */
static const char *
ds_ss_const_text(Node *arg)
{
	A_Const    *c = (A_Const *) arg;

	if (arg == NULL || !IsA(arg, A_Const) || c->isnull ||
		!IsA(&c->val, String))
		return NULL;
	return strVal(&c->val);
}

static bool
ds_ss_const_true(Node *arg)
{
	A_Const    *c = (A_Const *) arg;
	bool		result;

	if (arg == NULL || !IsA(arg, A_Const) || c->isnull)
		return false;
	if (IsA(&c->val, Boolean))
		return boolVal(&c->val);
	return IsA(&c->val, String) && parse_bool(strVal(&c->val), &result) &&
		result;
}

/*
 * ds_ss_set_config
 *		set_config(setting_name, new_value, is_local): allowed only as a
 *		transaction-local change of a constant name routing does not manage.
 *		Arguments may be given by name.
 */
static DsSessionRule
ds_ss_set_config(FuncCall *fc, char **what)
{
	Node	   *args[3] = {NULL, NULL, NULL};
	ListCell   *lc;
	const char *name;

	if (list_length(fc->args) != 3 || fc->func_variadic || fc->agg_star)
	{
		*what = pstrdup("calls set_config in a form that cannot be checked");
		return DS_SESSION_SETTING;
	}
	foreach(lc, fc->args)
	{
		Node	   *arg = lfirst(lc);
		int			i = foreach_current_index(lc);

		if (IsA(arg, NamedArgExpr))
		{
			NamedArgExpr *na = (NamedArgExpr *) arg;

			i = strcmp(na->name, "setting_name") == 0 ? 0 :
				strcmp(na->name, "new_value") == 0 ? 1 :
				strcmp(na->name, "is_local") == 0 ? 2 : -1;
			arg = (Node *) na->arg;
		}
		if (i >= 0)
			args[i] = arg;
	}
	if (!ds_ss_const_true(args[2]))
	{
		*what = pstrdup("calls set_config with is_local not the constant true, which changes the setting for the rest of the session");
		return DS_SESSION_SETTING;
	}
	name = ds_ss_const_text(args[0]);
	if (name == NULL)
	{
		*what = pstrdup("calls set_config with a setting name that is not a constant, which may be one the extension sets for every statement it runs");
		return DS_SESSION_MANAGED;
	}
	if (ds_ss_managed(name))
	{
		*what = psprintf("calls set_config on \"%s\", which the extension sets for every statement it runs",
						 name);
		return DS_SESSION_MANAGED;
	}
	return DS_SESSION_NONE;
}

/*
 * ds_session_call
 *		Whether a function call of a raw parse tree changes the session:
 *		set_config other than transaction-local, session-level advisory
 *		locks, setseed.  Only the builtins count (an unqualified name, or
 *		one qualified with pg_catalog); *what says how.
 */
DsSessionRule
ds_session_call(FuncCall *fc, char **what)
{
	const char *fname = strVal(llast(fc->funcname));
	int			n = list_length(fc->funcname);

	if (n > 1 && strcmp(strVal(list_nth(fc->funcname, n - 2)), "pg_catalog") != 0)
		return DS_SESSION_NONE;
	if (strcmp(fname, "set_config") == 0)
		return ds_ss_set_config(fc, what);
	if (ds_name_in_list(ss_session_locks, fname))
	{
		*what = psprintf("calls %s, whose advisory locks are held for the rest of the session",
						 fname);
		return DS_SESSION_STATE;
	}
	if (strcmp(fname, "setseed") == 0)
	{
		*what = pstrdup("calls setseed, which seeds random() for the rest of the session");
		return DS_SESSION_STATE;
	}
	return DS_SESSION_NONE;
}

/* what ds_ss_calls_walker looks for, and what it found first */
typedef struct DsSsCalls
{
	DsSessionRule rule;
	char	   *what;
} DsSsCalls;

/*
 * ds_ss_calls_walker
 *		raw_expression_tree_walker callback: the first call that changes
 *		the session.
 */
static bool
ds_ss_calls_walker(Node *node, DsSsCalls *c)
{
	if (node == NULL)
		return false;
	check_stack_depth();
	if (IsA(node, FuncCall))
	{
		c->rule = ds_session_call((FuncCall *) node, &c->what);
		if (c->rule != DS_SESSION_NONE)
			return true;
	}
	return raw_expression_tree_walker(node, ds_ss_calls_walker, (void *) c);
}

/*
 * ds_session_script
 *		The rule for one statement of a migration script: the statement
 *		itself, then the calls of what it runs now (a query, the query of
 *		EXPLAIN, CREATE TABLE AS or COPY, the call of CALL).  Expressions
 *		stored for later (defaults, constraints, view bodies) are not read.
 */
DsSessionRule
ds_session_script(Node *stmt, char **what)
{
	DsSsCalls	c;
	Node	   *runs = NULL;
	DsSessionRule rule = ds_session_stmt(stmt, what);

	if (rule != DS_SESSION_NONE)
		return rule;
	switch (nodeTag(stmt))
	{
		case T_SelectStmt:
		case T_InsertStmt:
		case T_UpdateStmt:
		case T_DeleteStmt:
		case T_MergeStmt:
			runs = stmt;
			break;
		case T_ExplainStmt:
			return ds_session_script(((ExplainStmt *) stmt)->query, what);
		case T_CreateTableAsStmt:
			return ds_session_script(((CreateTableAsStmt *) stmt)->query, what);
		case T_CopyStmt:
			runs = ((CopyStmt *) stmt)->query;
			break;
		case T_CallStmt:
			runs = (Node *) ((CallStmt *) stmt)->funccall;
			break;
		default:
			break;
	}
	c.rule = DS_SESSION_NONE;
	c.what = NULL;
	(void) ds_ss_calls_walker(runs, &c);
	*what = c.what;
	return c.rule;
}

/*
 * ds_session_hint
 *		The hint for a refusal of a routed statement, by rule.
 */
const char *
ds_session_hint(DsSessionRule rule)
{
	switch (rule)
	{
		case DS_SESSION_SETTING:
			return "A routed statement's connection serves other statements too: use SET LOCAL or set_config(name, value, true), which last for the statement on the local datasource and for the transaction on a remote one.";
		case DS_SESSION_MANAGED:
			return "Routing sets the target's schema, the calling role, the read-only mode and the client's encoding for every statement; name other logical databases as qualifiers instead.";
		case DS_SESSION_STATE:
			return "A routed statement's connection serves other statements too: use the transaction-scoped form (pg_advisory_xact_lock, a temporary table ON COMMIT DROP) or a session of your own.";
		case DS_SESSION_NONE:
			break;
	}
	return NULL;
}
