/*-------------------------------------------------------------------------
 *
 * script.c
 *		  Migration scripts: parsing, the statements a migration refuses,
 *		  and a script's statements as they run in a target schema.
 *
 * A script is parsed with the server's parser before anything runs; a
 * syntax error is reported at its position in the script.  Statements
 * that cannot run in a transaction block, transaction control, and
 * whatever would change the session it runs in (sessionstate.c's rule,
 * the one routing follows: session settings, settings that would move the
 * script out of its schema or role, cursors, LISTEN, temporary tables,
 * session advisory locks ...) are refused, naming the statement's number;
 * the refusal is kept with the script and raised when the journal says the
 * version is to run, so an applied or baselined version is already_applied
 * whatever its script.
 * Each statement is kept as its own text, without the white space around
 * it, so that it runs (and
 * fails, and is reported) one by one.  When the caller names the schema
 * the script was written for (script_schema, drizzle-kit's "public" for
 * one), the scanner finds once, at parse time, the tokens that use that
 * schema as a qualifier; ds_statement_for writes the target's schema there
 * (through rewrite.c) for each logical database the script runs in.  The
 * script's checksums (checksum.c) are taken here as well.
 *
 * Memory: a parsed script and its statements are palloc'd in the caller's
 * context and must live as long as the migration that runs them.
 *
 * IDENTIFICATION
 *		  src/script.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "parser/gramparse.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "parser/scansup.h"
#include "tcop/utility.h"

#include "pg_datasource.h"

/*
 * ds_refuse_statement
 *		Raises the error for a statement a migration cannot run.
 */
static void
ds_refuse_statement(Node *stmt, int n, int sqlstate, const char *why,
					const char *hint)
{
	ereport(ERROR,
			errcode(sqlstate),
			errmsg("%s cannot run in a migration",
				   GetCommandTagName(CreateCommandTag(stmt))),
			errdetail("Statement %d of the script %s.", n, why),
			hint ? errhint("%s", hint) : 0);
}

/*
 * ds_check_session
 *		Refuses a statement that would change the session the migration
 *		runs in, by the rule routing follows (sessionstate.c): the caller's
 *		own session on this server, a connection other statements share on
 *		a remote one.
 */
static void
ds_check_session(Node *stmt, int n)
{
	char	   *what = NULL;
	const char *hint = NULL;

	switch (ds_session_script(stmt, &what))
	{
		case DS_SESSION_NONE:
			return;
		case DS_SESSION_SETTING:
			hint = "Use SET LOCAL: the setting then lasts for the migration only on this server, and until the end of the transaction on a remote one.";
			break;
		case DS_SESSION_MANAGED:
			hint = "A migration runs in the logical database's schema as the calling role; write names unqualified, or use script_schema.";
			break;
		case DS_SESSION_STATE:
			hint = "A migration's connection serves other statements too: use the transaction-scoped form (pg_advisory_xact_lock, a temporary table ON COMMIT DROP).";
			break;
	}
	ds_refuse_statement(stmt, n, ERRCODE_FEATURE_NOT_SUPPORTED, what, hint);
}

/*
 * ds_check_statement
 *		Refuses, before anything runs, what a migration cannot contain.
 */
static void
ds_check_statement(Node *stmt, int n)
{
	const char *notx = "cannot run inside a transaction block";
	const char *notx_hint = "Run it outside migrate() (for example from psql) and record the version with datasource.baseline().";
	bool		refuse = false;
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_TransactionStmt:
			ds_refuse_statement(stmt, n, ERRCODE_ACTIVE_SQL_TRANSACTION,
								"controls the transaction",
								"migrate() runs the script in a subtransaction of the caller's transaction; remove transaction control from the script.");
			break;
		case T_VacuumStmt:
			refuse = ((VacuumStmt *) stmt)->is_vacuumcmd;
			break;
		case T_IndexStmt:
			refuse = ((IndexStmt *) stmt)->concurrent;
			break;
		case T_DropStmt:
			refuse = ((DropStmt *) stmt)->concurrent;
			break;
		case T_ReindexStmt:
			{
				ReindexStmt *rs = (ReindexStmt *) stmt;

				refuse = rs->kind == REINDEX_OBJECT_SYSTEM ||
					rs->kind == REINDEX_OBJECT_DATABASE;
				foreach(lc, rs->params)
				{
					DefElem    *opt = (DefElem *) lfirst(lc);

					if (strcmp(opt->defname, "concurrently") == 0 &&
						defGetBoolean(opt))
						refuse = true;
				}
			}
			break;
		case T_ClusterStmt:
			refuse = ((ClusterStmt *) stmt)->relation == NULL;
			break;
		case T_AlterTableStmt:
			foreach(lc, ((AlterTableStmt *) stmt)->cmds)
			{
				AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

				if (cmd->subtype == AT_DetachPartition && cmd->def != NULL &&
					((PartitionCmd *) cmd->def)->concurrent)
					refuse = true;
			}
			break;
		case T_AlterDatabaseStmt:
			foreach(lc, ((AlterDatabaseStmt *) stmt)->options)
				if (strcmp(((DefElem *) lfirst(lc))->defname, "tablespace") == 0)
					refuse = true;
			break;
		case T_CreatedbStmt:
		case T_DropdbStmt:
		case T_CreateTableSpaceStmt:
		case T_DropTableSpaceStmt:
		case T_AlterSystemStmt:
		case T_CreateSubscriptionStmt:
		case T_AlterSubscriptionStmt:
		case T_DropSubscriptionStmt:
			refuse = true;
			break;
		case T_CopyStmt:
			if (((CopyStmt *) stmt)->filename == NULL)
				ds_refuse_statement(stmt, n, ERRCODE_FEATURE_NOT_SUPPORTED,
									"copies to or from the client",
									"Load the data with INSERT statements, or with COPY from a file on the server.");
			break;
		default:
			break;
	}
	if (refuse)
		ds_refuse_statement(stmt, n, ERRCODE_ACTIVE_SQL_TRANSACTION, notx,
							notx_hint);
	ds_check_session(stmt, n);
}

/*
 * ds_statement_refusal
 *		The refusal ds_check_statement raises for statement n, caught, or
 *		NULL when the statement can run.  A refusal is raised only once the
 *		journal says the version is to run (migrate.c): a version that is
 *		applied or baselined is already_applied whatever its script.
 *		ds_check_statement changes no state before it raises, so its error
 *		is caught without a subtransaction; an error that is not one of its
 *		refusals (no memory, for one) is raised at once.
 */
static ErrorData *
ds_statement_refusal(Node *stmt, int n)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile edata = NULL;

	PG_TRY();
	{
		ds_check_statement(stmt, n);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode != ERRCODE_ACTIVE_SQL_TRANSACTION &&
			edata->sqlerrcode != ERRCODE_FEATURE_NOT_SUPPORTED)
			PG_RE_THROW();
		FlushErrorState();
	}
	PG_END_TRY();
	return edata;
}

/*
 * ds_script_parse_context
 *		A syntax error's position is in the script, not in the query that
 *		called migrate: report it as such.
 */
static void
ds_script_parse_context(void *arg)
{
	int			pos = geterrposition();

	if (pos > 0)
	{
		errposition(0);
		internalerrposition(pos);
		internalerrquery((const char *) arg);
	}
	errcontext("parsing the migration script");
}

/*
 * ds_parse_script
 *		Parses and checks a script; computes its checksums.
 */
static DsScript *
ds_parse_script(const char *text, const char *script_schema)
{
	DsScript   *s = palloc0(sizeof(DsScript));
	ErrorContextCallback errcb;
	List	   *raw;
	ListCell   *lc;
	int			n = 0;

	s->text = text;
	s->script_schema = script_schema;
	ds_script_checksum(text, s->checksum);
	ds_sha256_hex(text, strlen(text), NULL, s->raw_checksum);
	ds_sha256_hex(text, strlen(text), "\n", s->raw_nl_checksum);

	errcb.callback = ds_script_parse_context;
	errcb.arg = (void *) text;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	raw = raw_parser(text, RAW_PARSE_DEFAULT);
	error_context_stack = errcb.previous;
	s->stmts = palloc0(sizeof(DsScriptStmt) * Max(list_length(raw), 1));
	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		int			start = rs->stmt_location;
		int			len = rs->stmt_len > 0 ? rs->stmt_len :
			(int) strlen(text + start);

		if (s->refused == NULL)
			s->refused = ds_statement_refusal(rs->stmt, n + 1);
		/* the statement without the white space around it */
		while (len > 0 && scanner_isspace(text[start]))
			start++, len--;
		while (len > 0 && scanner_isspace(text[start + len - 1]))
			len--;
		s->stmts[n].sql = pnstrdup(text + start, len);
		if (script_schema != NULL)
			s->stmts[n].qualifiers = ds_scan_qualifiers(s->stmts[n].sql,
														script_schema);
		n++;
	}
	s->nstmts = n;
	return s;
}

/*
 * ds_statement_for
 *		Statement i of the script as it runs in schema: script_schema's
 *		qualifiers written as schema.  i must be below s->nstmts; the
 *		result may be the script's own copy, which the caller must not
 *		change.
 */
char *
ds_statement_for(DsScript *s, int i, const char *schema)
{
	List	   *rewrites = NIL;
	ListCell   *lc;

	if (s->stmts[i].qualifiers == NIL)
		return s->stmts[i].sql;
	foreach(lc, s->stmts[i].qualifiers)
	{
		DsRewrite  *rw = palloc0(sizeof(DsRewrite));

		rw->location = lfirst_int(lc);
		rw->with_catalog = false;
		rw->schema = (char *) schema;
		rewrites = lappend(rewrites, rw);
	}
	return ds_rewrite(s->stmts[i].sql, rewrites);
}

/*
 * ds_script_arg
 *		Parses the script argument (and script_schema) of a migrate call.
 *		The DsScript points into both strings: they must live as long.
 */
DsScript *
ds_script_arg(const char *script, const char *script_schema)
{
	if (script_schema != NULL && script_schema[0] == '\0')
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("script_schema must not be empty"),
				errhint("Pass NULL when the script names no schema."));
	return ds_parse_script(script, script_schema);
}
