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
 * (through rewrite.c) for each logical database the script runs in; a DO
 * body is code in a string, so its own qualifiers are found in the body's
 * text and the rewritten body is quoted again with a dollar tag it does
 * not contain.  The script's checksums (checksum.c) are taken here as well.
 *
 * A migration changes one logical database: every schema name a statement
 * qualifies with or names (read from the parse tree by walk.c where it can
 * read the statement, else from the tokens, DO bodies included) is kept,
 * and before the script runs in a target ds_script_check_target refuses
 * (42501) a name that is another logical database, or the schema of one on
 * the target's datasource, unless datasource.migration_cross_database is
 * on.  Names inside strings (function bodies, EXECUTE) are not seen.
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
#include "utils/builtins.h"

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
 * ds_add_name
 *		Appends name to names unless it is there already or is skip (the
 *		script_schema, which becomes the target's schema).
 */
static List *
ds_add_name(List *names, const char *name, const char *skip)
{
	ListCell   *lc;

	if (skip != NULL && strcmp(name, skip) == 0)
		return names;
	foreach(lc, names)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return names;
	return lappend(names, pstrdup(name));
}

/*
 * ds_scan_names
 *		The names text uses as the first part of a qualified name, by its
 *		tokens (a name followed by a dot and not preceded by one), added to
 *		names: for what walk.c cannot read.  Literals, comments and
 *		dollar-quoted strings are single tokens, so nothing inside them is
 *		seen.  The caller guarantees text lexes (it was parsed).
 */
static List *
ds_scan_names(const char *text, List *names, const char *skip)
{
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			prev = 0;
	const char *cand = NULL;	/* the name just seen */

	scanner = scanner_init(text, &extra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, scanner);
		const char *name = NULL;

		if (tok == 0)
			break;
		if (tok == '.' && cand != NULL)
			names = ds_add_name(names, cand, skip);
		if (prev != '.')
		{
			if (tok == IDENT)
				name = yylval.str;
			else if (tok != SCONST && tok != BCONST && tok != XCONST &&
					 tok != USCONST && tok != UIDENT &&
					 (isalpha((unsigned char) text[yylloc]) ||
					  text[yylloc] == '_'))
				name = yylval.keyword;	/* an unreserved keyword */
		}
		cand = name;
		prev = tok;
	}
	scanner_finish(scanner);
	return names;
}

/*
 * ds_schema_names
 *		The schemas that statements about schemas name without a dot
 *		(CREATE SCHEMA, SET SCHEMA, GRANT ... IN SCHEMA, ALTER DEFAULT
 *		PRIVILEGES IN SCHEMA, CREATE EXTENSION ... SCHEMA ...), added to
 *		names.
 */
static List *
ds_schema_names(Node *stmt, List *names, const char *skip)
{
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_CreateSchemaStmt:
			if (((CreateSchemaStmt *) stmt)->schemaname != NULL)
				names = ds_add_name(names,
									((CreateSchemaStmt *) stmt)->schemaname,
									skip);
			break;
		case T_AlterObjectSchemaStmt:
			names = ds_add_name(names,
								((AlterObjectSchemaStmt *) stmt)->newschema,
								skip);
			if (((AlterObjectSchemaStmt *) stmt)->objectType == OBJECT_SCHEMA)
				names = ds_add_name(names,
									strVal(((AlterObjectSchemaStmt *) stmt)->object),
									skip);
			break;
		case T_RenameStmt:
			if (((RenameStmt *) stmt)->renameType == OBJECT_SCHEMA)
			{
				names = ds_add_name(names, ((RenameStmt *) stmt)->subname, skip);
				names = ds_add_name(names, ((RenameStmt *) stmt)->newname, skip);
			}
			break;
		case T_AlterOwnerStmt:
			if (((AlterOwnerStmt *) stmt)->objectType == OBJECT_SCHEMA)
				names = ds_add_name(names,
									strVal(((AlterOwnerStmt *) stmt)->object),
									skip);
			break;
		case T_GrantStmt:
			if (((GrantStmt *) stmt)->objtype == OBJECT_SCHEMA ||
				((GrantStmt *) stmt)->targtype == ACL_TARGET_ALL_IN_SCHEMA)
				foreach(lc, ((GrantStmt *) stmt)->objects)
					names = ds_add_name(names, strVal(lfirst(lc)), skip);
			break;
		case T_CommentStmt:
			if (((CommentStmt *) stmt)->objtype == OBJECT_SCHEMA)
				names = ds_add_name(names,
									strVal(((CommentStmt *) stmt)->object),
									skip);
			break;
		case T_CreateExtensionStmt:
			foreach(lc, ((CreateExtensionStmt *) stmt)->options)
				if (strcmp(((DefElem *) lfirst(lc))->defname, "schema") == 0)
					names = ds_add_name(names,
										defGetString((DefElem *) lfirst(lc)),
										skip);
			break;
		case T_AlterDefaultPrivilegesStmt:
			foreach(lc, ((AlterDefaultPrivilegesStmt *) stmt)->options)
			{
				DefElem    *opt = (DefElem *) lfirst(lc);
				ListCell   *lc2;

				if (strcmp(opt->defname, "schemas") == 0)
					foreach(lc2, (List *) opt->arg)
						names = ds_add_name(names, strVal(lfirst(lc2)), skip);
			}
			break;
		default:
			break;
	}
	return names;
}

/*
 * ds_statement_names
 *		The schema names statement stmt (its text sql) qualifies with or
 *		names, script_schema left out: through walk.c for what it reads,
 *		else by the tokens; a DO body by its tokens.  Runs once per script.
 */
static List *
ds_statement_names(Node *stmt, const char *sql, const char *script_schema)
{
	DsWalk		w;
	DsDatabase	none;
	List	   *names = NIL;
	bool		read = true;
	ListCell   *lc;

	MemSet(&w, 0, sizeof(w));
	MemSet(&none, 0, sizeof(none));
	/* unqualified names are the target's, whichever it is */
	none.name = "";
	none.schema_name = "";
	w.target = &none;
	(void) ds_cache_ensure();
	switch (nodeTag(stmt))
	{
		case T_SelectStmt:
		case T_InsertStmt:
		case T_UpdateStmt:
		case T_DeleteStmt:
		case T_MergeStmt:
			ds_walk_stmt(stmt, &w);
			break;
		case T_DoStmt:
			foreach(lc, ((DoStmt *) stmt)->args)
			{
				DefElem    *opt = (DefElem *) lfirst(lc);

				if (strcmp(opt->defname, "as") == 0)
					names = ds_scan_names(strVal(opt->arg), names, script_schema);
			}
			return names;
		default:
			read = ds_walk_utility(stmt, &w);
			break;
	}
	foreach(lc, w.qualifiers)
		names = ds_add_name(names, (char *) lfirst(lc), script_schema);
	if (!read)
		names = ds_scan_names(sql, names, script_schema);
	return ds_schema_names(stmt, names, script_schema);
}

/*
 * ds_other_database
 *		The logical database other than target that a statement naming
 *		schema name reaches, or NULL: the logical database of that name,
 *		or the one mapped to that schema on the target's datasource.  The
 *		target's own schema is the target, whatever else has that name.
 *		*by_name says which.  The registry cache must be current.
 */
static DsDatabase *
ds_other_database(const char *name, const DsDatabase *target, bool *by_name)
{
	DsDatabase *db;
	DsSource   *src;

	if (strcmp(name, target->schema_name) == 0)
		return NULL;
	db = ds_cache_database(name, &src);
	if (db != NULL && strcmp(db->name, target->name) != 0)
	{
		*by_name = true;
		return db;
	}
	if (ds_cache_schema(name, target->source, &db, &src) > 0 &&
		strcmp(db->source, target->source) == 0 &&
		strcmp(db->name, target->name) != 0)
	{
		*by_name = false;
		return db;
	}
	return NULL;
}

/*
 * ds_script_check_target
 *		Refuses (42501), before anything of the script runs in logical
 *		database target, a statement that names another logical database
 *		or the schema of one on target's datasource; *current gets the
 *		statement's number (the caller's error context and journal report
 *		it).  datasource.migration_cross_database = on allows it.
 */
void
ds_script_check_target(DsScript *s, const DsDatabase *target, int *current)
{
	int			i;
	ListCell   *lc;

	if (ds_migration_cross_database)
		return;
	(void) ds_cache_ensure();
	for (i = 0; i < s->nstmts; i++)
	{
		foreach(lc, s->stmts[i].names)
		{
			const char *name = (const char *) lfirst(lc);
			bool		by_name = false;
			DsDatabase *other = ds_other_database(name, target, &by_name);

			if (other == NULL)
				continue;
			*current = i + 1;
			ereport(ERROR,
					errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("a migration of logical database \"%s\" cannot touch logical database \"%s\"",
						   target->name, other->name),
					by_name ?
					errdetail("Statement %d of the script names \"%s\", the logical database; nothing of the script ran.",
							  i + 1, name) :
					errdetail("Statement %d of the script names schema \"%s\", which logical database \"%s\" is mapped to; nothing of the script ran.",
							  i + 1, name, other->name),
					errhint("Migrate \"%s\" with its own migration, or allow this one with SET LOCAL datasource.migration_cross_database = on.",
							other->name));
		}
	}
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
 * ds_script_do_body
 *		For a DO statement (the n-th, at offset start of the script) whose
 *		PL/pgSQL body names script_schema as a qualifier: where the body's
 *		string is in the statement's text, and the qualifiers in the body,
 *		so that ds_statement_for rewrites them too.  Only a dollar-quoted
 *		body can be written back as it was given (0A000 otherwise).
 */
static void
ds_script_do_body(DsScriptStmt *st, DoStmt *stmt, int start, int n,
				  const char *script_schema)
{
	DefElem    *as = NULL;
	const char *language = "plpgsql";
	ListCell   *lc;
	List	   *quals;
	const char *close;
	char	   *tag;
	int			pos;
	int			taglen;

	foreach(lc, stmt->args)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		if (strcmp(opt->defname, "as") == 0)
			as = opt;
		else if (strcmp(opt->defname, "language") == 0)
			language = strVal(opt->arg);
	}
	if (as == NULL || strcmp(language, "plpgsql") != 0)
		return;
	quals = ds_scan_qualifiers(strVal(as->arg), script_schema);
	if (quals == NIL)
		return;
	pos = as->location - start;
	if (pos < 0 || pos >= (int) strlen(st->sql) || st->sql[pos] != '$' ||
		(close = strchr(st->sql + pos + 1, '$')) == NULL)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("cannot rewrite script_schema in the DO body of statement %d",
					   n),
				errdetail("Only a dollar-quoted body is rewritten."),
				errhint("Quote the body with $$, or write its names unqualified."));
	taglen = close - (st->sql + pos) + 1;
	tag = pnstrdup(st->sql + pos, taglen);
	close = strstr(st->sql + pos + taglen, tag);
	if (close == NULL)
		elog(ERROR, "no end of the dollar-quoted DO body of statement %d", n);
	st->body_start = pos;
	st->body_end = (close - st->sql) + taglen;
	st->body = strVal(as->arg);
	st->body_qualifiers = quals;
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
		s->stmts[n].body_start = -1;
		if (script_schema != NULL)
		{
			s->stmts[n].qualifiers = ds_scan_qualifiers(s->stmts[n].sql,
														script_schema);
			if (IsA(rs->stmt, DoStmt))
				ds_script_do_body(&s->stmts[n], (DoStmt *) rs->stmt, start,
								  n + 1, script_schema);
		}
		s->stmts[n].names = ds_statement_names(rs->stmt, s->stmts[n].sql,
											   script_schema);
		n++;
	}
	s->nstmts = n;
	return s;
}

/*
 * ds_schema_rewrites
 *		The rewrites that write schema at each of the offsets.
 */
static List *
ds_schema_rewrites(List *offsets, const char *schema)
{
	List	   *rewrites = NIL;
	ListCell   *lc;

	foreach(lc, offsets)
	{
		DsRewrite  *rw = palloc0(sizeof(DsRewrite));

		rw->location = lfirst_int(lc);
		rw->with_catalog = false;
		rw->schema = (char *) schema;
		rewrites = lappend(rewrites, rw);
	}
	return rewrites;
}

/*
 * ds_dollar_quote
 *		body as a dollar-quoted string, with a tag that does not occur in it
 *		(nor ends it: "$" at the end of the body and "$$" would).
 */
static char *
ds_dollar_quote(const char *body)
{
	int			k;

	for (k = 0;; k++)
	{
		char	   *tag = k == 0 ? pstrdup("$$") : psprintf("$pgds%d$", k);
		char	   *both = psprintf("%s%s", body, tag);

		if (strstr(both, tag) == both + strlen(body))
			return psprintf("%s%s", tag, both);
	}
}

/*
 * ds_statement_for
 *		Statement i of the script as it runs in schema: script_schema's
 *		qualifiers written as schema, in a DO body too.  i must be below
 *		s->nstmts; the result may be the script's own copy, which the
 *		caller must not change.
 */
char *
ds_statement_for(DsScript *s, int i, const char *schema)
{
	DsScriptStmt *st = &s->stmts[i];
	char	   *body;

	if (st->body_start < 0)
	{
		if (st->qualifiers == NIL)
			return st->sql;
		return ds_rewrite(st->sql, ds_schema_rewrites(st->qualifiers, schema));
	}

	/* DO: the body is one token, so every qualifier is inside it */
	if (st->qualifiers != NIL)
		elog(ERROR, "a qualifier outside the DO body of statement %d", i + 1);
	body = ds_rewrite(st->body, ds_schema_rewrites(st->body_qualifiers, schema));
	return psprintf("%.*s%s%s", st->body_start, st->sql, ds_dollar_quote(body),
					st->sql + st->body_end);
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
