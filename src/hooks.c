/*-------------------------------------------------------------------------
 *
 * hooks.c
 *		  Optional enforcement: validate every statement of a session.
 *
 * When the library is loaded (shared_preload_libraries,
 * session_preload_libraries or LOAD) and datasource.enforce is warn or
 * error, every top-level statement is validated as datasource.validate()
 * would, right after parse analysis: it must be valid, touch only the
 * logical databases listed in datasource.allowed_databases (when that is
 * set), and be strictly read-only when datasource.enforce_read_only is on.
 * A failing statement gets a WARNING or is refused with 42501.  The settings
 * are superuser-only, so a sandboxed role (ALTER ROLE agent SET
 * datasource.enforce = 'error') cannot widen them.
 *
 * Transaction control, SET and SHOW are exempt from the read-only rule (they
 * change no data, and the settings themselves are superuser-only).
 *
 * With enforce off the hook returns after one comparison.  It does nothing
 * in databases without the extension, and it leaves statements run from
 * inside functions alone (their text is not the client's).
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
#include "miscadmin.h"
#include "parser/analyze.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/builtins.h"
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

/*
 * ds_database_allowed
 *		Whether a logical database is in datasource.allowed_databases (a
 *		comma-separated list; empty means every logical database).  The list
 *		is split once per value of the setting, not per statement.
 */
static bool
ds_database_allowed(const char *name)
{
	static char *parsed_value = NULL;	/* the setting the list came from */
	static List *allowed = NIL;
	static char *allowed_raw = NULL;	/* the strings of allowed */
	ListCell   *lc;

	if (ds_allowed_databases == NULL || ds_allowed_databases[0] == '\0')
		return true;
	if (parsed_value == NULL || strcmp(parsed_value, ds_allowed_databases) != 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		char	   *raw = pstrdup(ds_allowed_databases);
		List	   *names = NIL;

		if (!SplitIdentifierString(raw, ',', &names))
			names = NIL;		/* the check hook keeps this from happening */
		list_free(allowed);
		if (allowed_raw)
			pfree(allowed_raw);
		allowed = names;		/* its strings point into raw */
		allowed_raw = raw;
		if (parsed_value)
			pfree(parsed_value);
		parsed_value = pstrdup(ds_allowed_databases);
		MemoryContextSwitchTo(old);
	}
	foreach(lc, allowed)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return true;
	return false;
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
	bool		require_ro = ds_enforce_read_only;

	if (prev_post_parse_analyze)
		prev_post_parse_analyze(pstate, query, jstate);

	if (ds_enforce == DS_ENFORCE_OFF)
		return;

	/* only the client's own statements, in databases with the extension */
	text = pstate->p_sourcetext;
	if (text == NULL || text != debug_query_string || !IsTransactionState())
		return;

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
	stmt = pnstrdup(text + loc, len);

	ds_validate(stmt, NULL, require_ro, &v);
	if (!v.valid)
		reason = v.error;
	else
	{
		for (i = 0; i < v.ndbs && reason == NULL; i++)
			if (!ds_database_allowed(v.dbs[i]))
				reason = psprintf("logical database \"%s\" is not in datasource.allowed_databases",
								  v.dbs[i]);
	}
	if (reason == NULL)
		return;

	ereport(ds_enforce == DS_ENFORCE_ERROR ? ERROR : WARNING,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("statement not allowed by datasource.enforce: %s", reason),
			errhint("datasource.validate() tells what a statement touches."));
}
