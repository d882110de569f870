/*-------------------------------------------------------------------------
 *
 * migrate.c
 *		  The migration journal: migrate, migrate_all, baseline,
 *		  accept_checksum, pending and adopt_drizzle.
 *
 * A migration is a script applied once to a logical database.  The script
 * is parsed with the server's parser before anything runs: statements that
 * cannot run in a transaction block, transaction control, and settings that
 * would move the script out of its schema or role are refused.  It then
 * runs statement by statement, with search_path set to the logical
 * database's schema, as the calling role, in a subtransaction: locally
 * through SPI, remotely through the connection of the local transaction (a
 * savepoint on the remote).  A failure rolls the subtransaction back, so
 * nothing of the script remains; the attempt is journaled as failed and
 * reported with a WARNING rather than an ERROR, so that the journal row
 * survives.
 *
 * Journal rows are written as the extension's owner (datasource.migrations
 * is not writable by the roles that migrate).  Migrators of one logical
 * database serialize on a transaction-level advisory lock (key1 =
 * DS_MIGRATION_LOCK_KEY, key2 = a hash of the name), taken before the
 * journal is read, so the second one sees what the first committed.  The
 * registry row of the logical database is locked FOR KEY SHARE as well, so
 * drop_database and rename_database wait for a running migration and a
 * migration started after a committed drop finds no database.
 *
 * The reads that run once per logical database (the registry row and its
 * lock, the applied state, an adopted drizzle-kit entry) are index scans in
 * C with the snapshot a query would have, not SPI queries: migrate_all runs
 * them a thousand times in a row, and a kept plan made while the journal
 * was empty would read it sequentially.  migrate_all writes its journal
 * rows in one INSERT at the end.
 *
 * A version's state is the latest of its rows with status applied,
 * baseline, adopted or checksum_accepted: applied if there is one, with
 * that row's checksum (NULL for a baseline: any script matches).
 *
 * Memory: everything is palloc'd in the calling function's context; the
 * per-database work of migrate_all runs in a context reset per database.
 *
 * IDENTIFICATION
 *		  src/migrate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "common/cryptohash.h"
#include "common/hashfn.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/gramparse.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "parser/scansup.h"
#include "portability/instr_time.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_migrate);
PG_FUNCTION_INFO_V1(pgds_migrate_all);
PG_FUNCTION_INFO_V1(pgds_baseline);
PG_FUNCTION_INFO_V1(pgds_accept_checksum);
PG_FUNCTION_INFO_V1(pgds_pending);
PG_FUNCTION_INFO_V1(pgds_adopt_drizzle);

/* the first key of the advisory lock of a migration ('pgds') */
#define DS_MIGRATION_LOCK_KEY	0x70676473

#define DS_VERSION_MAX		255
#define DS_CHECKSUM_LEN		DS_SHA256_HEX_LEN

/* the statuses that make a version applied, as a SQL array literal */
#define DS_APPLIED_STATUSES "ARRAY['applied', 'baseline', 'adopted', 'checksum_accepted']"

/* what ddl_log.c reads while a local migration runs */
const char *ds_migration_version = NULL;
const char *ds_migration_statement = NULL;

/* one statement of a script */
typedef struct DsScriptStmt
{
	char	   *sql;			/* its text */
	List	   *qualifiers;		/* offsets of script_schema qualifiers */
} DsScriptStmt;

/* a parsed, checked script */
typedef struct DsScript
{
	const char *text;
	const char *script_schema;	/* NULL when not given */
	DsScriptStmt *stmts;
	int			nstmts;
	char		checksum[DS_CHECKSUM_LEN + 1];
	char		raw_checksum[DS_CHECKSUM_LEN + 1];
	char		raw_nl_checksum[DS_CHECKSUM_LEN + 1];	/* of text || '\n' */
} DsScript;

/*
 * The journal rows of a migrate_all call, written in one INSERT at its end
 * (ds_journal_flush) rather than one INSERT per logical database.  Only what
 * differs between the rows is kept per row.
 */
typedef struct DsJournalBatch
{
	MemoryContext cxt;			/* where the rows live */
	int			n;
	int			size;
	/* per row */
	Datum	   *database;
	Datum	   *datasource;
	Datum	   *server;			/* the arrays of nullable columns have */
	Datum	   *server_address; /* null flags below */
	Datum	   *schema_name;
	Datum	   *status;
	Datum	   *started;
	Datum	   *finished;
	Datum	   *elapsed;
	Datum	   *error;
	Datum	   *sqlstate;
	Datum	   *failed_statement;
	Datum	   *fingerprint;
	bool	   *server_null;
	bool	   *server_address_null;
	bool	   *error_null;
	bool	   *sqlstate_null;
	bool	   *failed_statement_null;
	bool	   *fingerprint_null;
} DsJournalBatch;

/* one migration of one logical database, and what became of it */
typedef struct DsMigration
{
	const char *database;
	const char *version;
	const char *description;
	DsScript   *script;
	const char *role;
	/* filled in by ds_migrate_database */
	DsDatabase *db;
	DsSource   *src;
	const char *status;
	const char *checksum;
	double		elapsed_ms;
	char	   *error;
	char	   *schema_fingerprint;	/* the schema left (ds_snapshot) */
	/* for the statements' run */
	int			current;		/* statement running, 1-based */
	bool		inline_script;	/* run the script in the caller's
								 * subtransaction (migrate_all) */
	bool		script_started;	/* the script began to run */
	TimestampTz started;
	instr_time	t0;
	DsJournalBatch *batch;		/* where the applied or failed row goes;
								 * NULL: inserted at once */
	bool		no_journal;		/* the logical database went away: write
								 * no row */
} DsMigration;

static void ds_script_done(DsMigration *m, ErrorData *edata);
static void ds_batch_add(DsJournalBatch *b, DsMigration *m, const char *status,
						 TimestampTz started, TimestampTz finished,
						 const char *sqlstate, int failed_statement);
static char *ds_server_address(DsSource *src);

/*
 * ds_sha256_hex
 *		The sha256 of len bytes of data (and of more, when not NULL), as 64
 *		lower-case hex digits in out.  Migration checksums and schema
 *		fingerprints (introspect.c) both use it.
 */
void
ds_sha256_hex(const char *data, size_t len, const char *more, char *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	StaticAssertStmt(DS_SHA256_HEX_LEN == 2 * PG_SHA256_DIGEST_LENGTH,
					 "DS_SHA256_HEX_LEN is two hex digits per byte of a sha256");
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0 ||
		(more != NULL &&
		 pg_cryptohash_update(ctx, (const uint8 *) more, strlen(more)) < 0) ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a sha256 checksum: %s",
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	hex_encode((const char *) digest, sizeof(digest), out);
	out[DS_CHECKSUM_LEN] = '\0';
}

/*
 * ds_script_checksum
 *		The checksum journaled for a script: sha256 of its text with CR LF
 *		and lone CR written as LF and trailing line ends removed, so that a
 *		file checked out on Windows or read through psql's backquotes (which
 *		drop the last newline) has the checksum of the original.
 */
static void
ds_script_checksum(const char *text, char *out)
{
	size_t		len = strlen(text);
	char	   *norm = palloc(len + 1);
	size_t		n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (text[i] == '\r')
		{
			norm[n++] = '\n';
			if (text[i + 1] == '\n')
				i++;
		}
		else
			norm[n++] = text[i];
	}
	while (n > 0 && norm[n - 1] == '\n')
		n--;
	ds_sha256_hex(norm, n, NULL, out);
	pfree(norm);
}

/*
 * ds_arg_text
 *		A text argument as a C string; 22004 when NULL and required.
 */
static char *
ds_arg_text(FunctionCallInfo fcinfo, int n, const char *name, bool required)
{
	if (PG_ARGISNULL(n))
	{
		if (required)
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("argument \"%s\" must not be null", name));
		return NULL;
	}
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * ds_check_version
 *		A version is 1 to 255 bytes with no white space at either end.
 */
static void
ds_check_version(const char *version)
{
	size_t		len = strlen(version);

	if (len == 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("migration version must not be empty"));
	if (len > DS_VERSION_MAX)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("migration version is too long"),
				errdetail("It has %zu bytes; at most %d are allowed.", len,
						  DS_VERSION_MAX));
	if (isspace((unsigned char) version[0]) ||
		isspace((unsigned char) version[len - 1]))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("migration version \"%s\" starts or ends with white space",
					   version));
}

/*
 * ds_check_checksum
 *		A checksum argument: 64 lower-case hex digits.
 */
static void
ds_check_checksum(const char *checksum)
{
	int			i;

	for (i = 0; checksum[i] != '\0'; i++)
		if (!((checksum[i] >= '0' && checksum[i] <= '9') ||
			  (checksum[i] >= 'a' && checksum[i] <= 'f')))
			break;
	if (i != DS_CHECKSUM_LEN || checksum[i] != '\0')
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("\"%s\" is not a checksum", checksum),
				errdetail("A checksum is a sha256 digest written as 64 lower-case hex digits."));
}

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
		case T_VariableSetStmt:
			{
				VariableSetStmt *vs = (VariableSetStmt *) stmt;

				if (vs->kind == VAR_RESET_ALL ||
					(vs->name != NULL &&
					 (strcmp(vs->name, "search_path") == 0 ||
					  strcmp(vs->name, "role") == 0 ||
					  strcmp(vs->name, "session_authorization") == 0)))
					ds_refuse_statement(stmt, n, ERRCODE_FEATURE_NOT_SUPPORTED,
										"changes the schema or the role the script runs with",
										"A migration runs in the logical database's schema as the calling role; write names unqualified, or use script_schema.");
				if (!vs->is_local && vs->kind != VAR_SET_MULTI)
					ds_refuse_statement(stmt, n, ERRCODE_FEATURE_NOT_SUPPORTED,
										"changes a setting for the rest of the session",
										"Use SET LOCAL: the setting then lasts for the migration only on this server, and until the end of the transaction on a remote one.");
			}
			break;
		case T_DiscardStmt:
			ds_refuse_statement(stmt, n, ERRCODE_FEATURE_NOT_SUPPORTED,
								"discards session state", NULL);
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
}

/*
 * ds_find_qualifiers
 *		Offsets in sql of the tokens that name script_schema as the first
 *		part of a qualified name (the token is followed by a dot and not
 *		preceded by one).  String literals, comments and dollar-quoted bodies
 *		are single tokens or none, so names inside them are left alone.
 */
static List *
ds_find_qualifiers(const char *sql, const char *script_schema)
{
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	List	   *found = NIL;
	int			prev = 0;
	int			cand = -1;		/* offset of a matching name just seen */
	int			kwnum;
	int			kwtoken;

	kwnum = ScanKeywordLookup(script_schema, &ScanKeywords);
	kwtoken = kwnum >= 0 ? ScanKeywordTokens[kwnum] : -1;
	scanner = scanner_init(sql, &extra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, scanner);
		bool		match = false;

		if (tok == 0)
			break;
		if (tok == '.' && cand >= 0)
			found = lappend_int(found, cand);
		cand = -1;
		if (prev != '.')
		{
			/* "name" and name are IDENT; an unquoted keyword is its token */
			if (tok == IDENT)
				match = strcmp(yylval.str, script_schema) == 0;
			else
				match = tok == kwtoken;
		}
		if (match)
			cand = yylloc;
		prev = tok;
	}
	scanner_finish(scanner);
	return found;
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

		ds_check_statement(rs->stmt, n + 1);
		/* the statement without the white space around it */
		while (len > 0 && scanner_isspace(text[start]))
			start++, len--;
		while (len > 0 && scanner_isspace(text[start + len - 1]))
			len--;
		s->stmts[n].sql = pnstrdup(text + start, len);
		if (script_schema != NULL)
			s->stmts[n].qualifiers = ds_find_qualifiers(s->stmts[n].sql,
														script_schema);
		n++;
	}
	s->nstmts = n;
	return s;
}

/*
 * ds_statement_for
 *		Statement i of the script as it runs in schema: script_schema's
 *		qualifiers written as schema.
 */
static char *
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

/* kept plans of the journal statements, by the address of their text */
typedef struct DsJournalPlan
{
	const char *sql;
	SPIPlanPtr	plan;
} DsJournalPlan;

static DsJournalPlan ds_plans[16];
static int	ds_nplans = 0;

/*
 * ds_journal_exec
 *		Runs one of our statements on the journal or the registry as the
 *		journal's owner, inside the caller's SPI connection; returns the SPI
 *		result code.  A fresh snapshot is taken, so rows committed by a
 *		migrator we waited for are seen (in READ COMMITTED).  sql must be a
 *		string constant, always passed with the same parameter types: its
 *		plan is kept for the backend's life under its address (the plan
 *		cache revalidates it when the journal's tables change).
 */
static int
ds_journal_exec(const char *sql, int nargs, Oid *types, Datum *values,
				const char *nulls)
{
	SPIPlanPtr	plan = NULL;
	Oid			save_userid;
	int			save_sec;
	int			rc;
	int			i;

	/* the previous result has been read: free it, not at SPI_finish */
	if (SPI_tuptable != NULL)
		SPI_freetuptable(SPI_tuptable);
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(ds_table_owner("migrations", false), save_sec |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);

	/* plans are kept per statement (the statements are constants) */
	for (i = 0; i < ds_nplans; i++)
		if (ds_plans[i].sql == sql)
			plan = ds_plans[i].plan;
	if (plan == NULL)
	{
		/*
		 * A generic plan, chosen now, so that the plan does not depend on
		 * the first parameters it sees.  (The journal's own lookups do not
		 * go through plans: see ds_journal_find.)
		 */
		plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
		if (plan == NULL)
			elog(ERROR, "could not prepare a journal statement: %s",
				 SPI_result_code_string(SPI_result));
		if (ds_nplans < (int) lengthof(ds_plans) && SPI_keepplan(plan) == 0)
		{
			ds_plans[ds_nplans].sql = sql;
			ds_plans[ds_nplans].plan = plan;
			ds_nplans++;
		}
	}
	rc = SPI_execute_plan(plan, values, nulls, false, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc < 0)
		elog(ERROR, "journal statement failed: %s", SPI_result_code_string(rc));
	return rc;
}

/*
 * ds_record_snapshot
 *		Records the schema a migration left (ds_snapshot) in
 *		datasource.schema_snapshots, once per fingerprint, and keeps the
 *		fingerprint for the journal row.
 */
static void
ds_record_snapshot(DsMigration *m)
{
	Datum		values[2];
	Oid			types[2] = {TEXTOID, JSONBOID};

	m->schema_fingerprint = ds_snapshot(m->db, m->src, &values[1]);
	if (m->schema_fingerprint == NULL)
		return;
	values[0] = CStringGetTextDatum(m->schema_fingerprint);
	if (ds_journal_exec("INSERT INTO datasource.schema_snapshots (fingerprint, description) "
						"VALUES ($1, $2) ON CONFLICT (fingerprint) DO NOTHING",
						2, types, values, NULL) != SPI_OK_INSERT)
		elog(ERROR, "could not record a schema snapshot");
}

/*
 * ds_journal_sql
 *		ds_journal_exec with text parameters given as C strings (NULL for
 *		SQL null).
 */
static int
ds_journal_sql(const char *sql, int nargs, const char **args)
{
	Datum		values[24];
	char		nulls[24];
	Oid			types[24];
	int			i;

	Assert(nargs <= 24);
	for (i = 0; i < nargs; i++)
	{
		values[i] = args[i] ? CStringGetTextDatum(args[i]) : (Datum) 0;
		nulls[i] = args[i] ? ' ' : 'n';
		types[i] = TEXTOID;
	}
	return ds_journal_exec(sql, nargs, types, values, nulls);
}

/* the text of column col of row row of the last SPI result, or NULL */
static char *
ds_spi_value(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

/*
 * ds_server_address
 *		host:port/dbname of a remote datasource's foreign server, from its
 *		options (none of which is secret).
 */
static char *
ds_server_address(DsSource *src)
{
	ForeignServer *server;
	const char *host = NULL;
	const char *port = NULL;
	const char *dbname = NULL;
	ListCell   *lc;

	if (src->server == NULL)
		return NULL;
	server = GetForeignServerByName(src->server, true);
	if (server == NULL)
		return NULL;
	foreach(lc, server->options)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		if (strcmp(opt->defname, "host") == 0)
			host = defGetString(opt);
		else if (strcmp(opt->defname, "port") == 0)
			port = defGetString(opt);
		else if (strcmp(opt->defname, "dbname") == 0)
			dbname = defGetString(opt);
	}
	return psprintf("%s:%s/%s", host ? host : "", port ? port : "",
					dbname ? dbname : "");
}

/*
 * ds_migration_lock_tag
 *		The advisory lock that serializes the migrations of a logical
 *		database (shown in pg_locks as classid DS_MIGRATION_LOCK_KEY, objid
 *		the hash of the name, objsubid 2).
 */
static void
ds_migration_lock_tag(LOCKTAG *tag, const char *database)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, DS_MIGRATION_LOCK_KEY,
						 hash_bytes((const unsigned char *) database,
									strlen(database)), 2);
}

/*
 * What the journal's reads in C need to know about the journal and the
 * registry, looked up once per transaction and forgotten when a relcache
 * invalidation names one of the relations (DROP EXTENSION in the same
 * transaction, for one).
 */
static struct
{
	LocalTransactionId lxid;	/* the transaction the OIDs are valid in */
	bool		callback;		/* ds_journal_ids_callback is registered */
	Oid			migrations;
	Oid			migrations_version;
	Oid			migrations_adopted;
	AttrNumber	att_id;
	AttrNumber	att_version;
	AttrNumber	att_status;
	AttrNumber	att_checksum;
	Oid			databases;
	Oid			databases_pkey;
	AttrNumber	db_name;
	AttrNumber	db_source;
	AttrNumber	db_schema_name;
	AttrNumber	db_read_only;
} ds_journal_ids;

/*
 * ds_journal_relid
 *		OID of a relation of the journal in the extension's schema; "cannot
 *		happen" when it is missing (the extension owns it).
 */
static Oid
ds_journal_relid(Oid nsp, const char *relname)
{
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "relation \"%s.%s\" does not exist", DS_SCHEMA, relname);
	return relid;
}

/*
 * ds_journal_ids_callback
 *		Relcache invalidation callback: forgets ds_journal_ids when one of
 *		its relations (or every relation) is invalidated.
 */
static void
ds_journal_ids_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == ds_journal_ids.migrations ||
		relid == ds_journal_ids.migrations_version ||
		relid == ds_journal_ids.migrations_adopted ||
		relid == ds_journal_ids.databases ||
		relid == ds_journal_ids.databases_pkey)
		ds_journal_ids.lxid = InvalidLocalTransactionId;
}

/*
 * ds_journal_lookup_ids
 *		Fills ds_journal_ids for the current transaction.
 */
static void
ds_journal_lookup_ids(void)
{
	Oid			nsp;
	Oid			rel;

	if (ds_journal_ids.lxid == MyProc->lxid &&
		ds_journal_ids.lxid != InvalidLocalTransactionId)
		return;
	if (!ds_journal_ids.callback)
	{
		CacheRegisterRelcacheCallback(ds_journal_ids_callback, (Datum) 0);
		ds_journal_ids.callback = true;
	}
	nsp = get_namespace_oid(DS_SCHEMA, false);
	rel = ds_journal_relid(nsp, "migrations");
	ds_journal_ids.migrations = rel;
	ds_journal_ids.migrations_version = ds_journal_relid(nsp, "migrations_version");
	ds_journal_ids.migrations_adopted = ds_journal_relid(nsp, "migrations_adopted");
	ds_journal_ids.att_id = get_attnum(rel, "id");
	ds_journal_ids.att_version = get_attnum(rel, "version");
	ds_journal_ids.att_status = get_attnum(rel, "status");
	ds_journal_ids.att_checksum = get_attnum(rel, "checksum");
	rel = ds_journal_relid(nsp, "databases");
	ds_journal_ids.databases = rel;
	ds_journal_ids.databases_pkey = ds_journal_relid(nsp, "databases_pkey");
	ds_journal_ids.db_name = get_attnum(rel, "name");
	ds_journal_ids.db_source = get_attnum(rel, "source");
	ds_journal_ids.db_schema_name = get_attnum(rel, "schema_name");
	ds_journal_ids.db_read_only = get_attnum(rel, "read_only");
	if (ds_journal_ids.att_id == InvalidAttrNumber ||
		ds_journal_ids.att_version == InvalidAttrNumber ||
		ds_journal_ids.att_status == InvalidAttrNumber ||
		ds_journal_ids.att_checksum == InvalidAttrNumber ||
		ds_journal_ids.db_name == InvalidAttrNumber ||
		ds_journal_ids.db_source == InvalidAttrNumber ||
		ds_journal_ids.db_schema_name == InvalidAttrNumber ||
		ds_journal_ids.db_read_only == InvalidAttrNumber)
		elog(ERROR, "a column of datasource.migrations or datasource.databases is missing");
	ds_journal_ids.lxid = MyProc->lxid;
}

/*
 * ds_lock_registry_row
 *		Finds the registry row of logical database name and locks it FOR KEY
 *		SHARE, as SELECT ... FOR KEY SHARE would, and returns it (palloc'd),
 *		or NULL when there is none: drop_database and rename_database wait
 *		for the lock, alter_database does not.
 *
 *		In READ COMMITTED, a row updated by a transaction we waited for is
 *		followed to its last version, which must still have the name (a
 *		rename makes it another row); a deleted row is none.  Under
 *		REPEATABLE READ or SERIALIZABLE, a row changed since the snapshot
 *		is a serialization failure, as for the SQL statement.  The row is
 *		read and locked in C, as its owner would, not through a query: this
 *		runs once per logical database in migrate_all.
 */
static DsDatabase *
ds_lock_registry_row(const char *name)
{
	Relation	rel;
	Relation	index;
	IndexScanDesc scan;
	ScanKeyData key;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	ItemPointerData tid;
	TM_FailureData tmfd;
	TM_Result	res;
	DsDatabase *db = NULL;
	bool		found = false;
	bool		isnull;

	ds_journal_lookup_ids();
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	rel = table_open(ds_journal_ids.databases, RowShareLock);
	index = index_open(ds_journal_ids.databases_pkey, AccessShareLock);
	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[0], F_TEXTEQ,
						   CStringGetTextDatum(name));
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, index, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	if (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		tid = slot->tts_tid;
		found = true;
	}
	index_endscan(scan);
	index_close(index, NoLock);

	if (found)
	{
		res = table_tuple_lock(rel, &tid, snapshot, slot,
							   GetCurrentCommandId(true), LockTupleKeyShare,
							   LockWaitBlock,
							   IsolationUsesXactSnapshot() ? 0 :
							   TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
							   &tmfd);
		switch (res)
		{
			case TM_Ok:
				/* a newer version (READ COMMITTED): is it still this name? */
				found = !tmfd.traversed ||
					strcmp(TextDatumGetCString(slot_getattr(slot,
															ds_journal_ids.db_name,
															&isnull)),
						   name) == 0;
				break;
			case TM_SelfModified:
				/* changed by a later command of ours: not visible to us */
				found = false;
				break;
			case TM_Updated:
			case TM_Deleted:
				if (IsolationUsesXactSnapshot() && res == TM_Updated)
					ereport(ERROR,
							errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
							errmsg("could not serialize access due to concurrent update"));
				if (IsolationUsesXactSnapshot())
					ereport(ERROR,
							errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
							errmsg("could not serialize access due to concurrent delete"));
				/* READ COMMITTED: only a deleted row gets here */
				found = false;
				break;
			default:
				elog(ERROR, "unexpected result %d locking the registry row of \"%s\"",
					 (int) res, name);
		}
	}
	if (found)
	{
		db = palloc0(sizeof(DsDatabase));
		db->name = TextDatumGetCString(slot_getattr(slot, ds_journal_ids.db_name,
													&isnull));
		db->source = TextDatumGetCString(slot_getattr(slot, ds_journal_ids.db_source,
													  &isnull));
		db->schema_name = TextDatumGetCString(slot_getattr(slot,
														   ds_journal_ids.db_schema_name,
														   &isnull));
		db->read_only = DatumGetBool(slot_getattr(slot, ds_journal_ids.db_read_only,
												  &isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
	return db;
}

/*
 * ds_lock_database
 *		Takes the migration lock of a logical database (waiting for another
 *		migrator), then reads and locks its registry row.  Raises 42704 when
 *		it does not exist, 55000 when its datasource is disabled and 25006
 *		when it or its datasource is read-only.
 */
static void
ds_lock_database(DsMigration *m)
{
	LOCKTAG		tag;
	DsDatabase *db;

	ds_migration_lock_tag(&tag, m->database);
	if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
	{
		(void) LockAcquire(&tag, ExclusiveLock, false, false);
		if (IsolationUsesXactSnapshot())
			ereport(ERROR,
					errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					errmsg("could not serialize access due to a concurrent migration of logical database \"%s\"",
						   m->database),
					errhint("Retry the transaction, or migrate in READ COMMITTED."));
	}

	db = ds_lock_registry_row(m->database);
	if (db == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("logical database \"%s\" does not exist", m->database));
	m->db = db;
	m->src = ds_cache_source(db->source);
	if (!m->src->enabled)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("datasource \"%s\" is disabled", m->src->name));
	if (db->read_only || m->src->read_only)
		ereport(ERROR,
				errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				errmsg("logical database \"%s\" is read-only", db->name),
				db->read_only ? 0 :
				errdetail("Its datasource \"%s\" is read-only.", m->src->name));
}

/* what ds_journal_find returns for the row it stopped at */
typedef struct DsJournalRow
{
	ItemPointerData tid;		/* where the row is */
	int64		id;
	char	   *checksum;		/* NULL when SQL null */
} DsJournalRow;

/* which rows ds_journal_find stops at */
typedef enum DsJournalMatch
{
	DS_MATCH_APPLIED,			/* status makes the version applied */
	DS_MATCH_DRIZZLE,			/* an adopted drizzle-kit entry not taken
								 * over yet (version 'drizzle:...') */
	DS_MATCH_ANY				/* any row the index has */
} DsJournalMatch;

/*
 * ds_journal_find
 *		Reads datasource.migrations through index idx, whose first two
 *		columns are compared with key1 and key2 (text, equality; key2 may
 *		be a text array, for any of its elements), in direction dir.  For
 *		DS_MATCH_APPLIED, stops at the first row with an applied status (those
 *		of DS_APPLIED_STATUSES); for DS_MATCH_DRIZZLE, takes the drizzle-kit
 *		entry with the lowest id; for DS_MATCH_ANY, stops at the first row.
 *		Fills *row and returns true, or returns false when there is none.
 *
 *		An index scan in C, not a query: a plan made while the journal is
 *		small (a fresh install) would scan it sequentially for the life of
 *		the backend, once per logical database in migrate_all, as the
 *		journal grows.  It sees what a query of the caller's transaction
 *		would: its own earlier rows (the command counter is advanced) and,
 *		in READ COMMITTED, what was committed until now, for example by a
 *		migrator whose lock we waited for.  No privilege is checked: this is
 *		our own read of our own journal, as its owner would do it.
 */
static bool
ds_journal_find(Oid idx, const char *key1, Datum key2, bool key2_array,
				ScanDirection dir, DsJournalMatch what, DsJournalRow *row)
{
	Relation	rel;
	Relation	index;
	IndexScanDesc scan;
	ScanKeyData keys[2];
	TupleTableSlot *slot;
	Snapshot	snapshot;
	bool		found = false;

	ds_journal_lookup_ids();
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	rel = table_open(ds_journal_ids.migrations, AccessShareLock);
	index = index_open(idx, AccessShareLock);
	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[0], F_TEXTEQ,
						   CStringGetTextDatum(key1));
	ScanKeyEntryInitialize(&keys[1], key2_array ? SK_SEARCHARRAY : 0, 2,
						   BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[1], F_TEXTEQ, key2);
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, index, snapshot, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	while (index_getnext_slot(scan, dir, slot))
	{
		bool		isnull;
		bool		match;
		int64		id;

		if (what == DS_MATCH_APPLIED)
		{
			char	   *status = TextDatumGetCString(slot_getattr(slot,
																  ds_journal_ids.att_status,
																  &isnull));

			match = strcmp(status, "applied") == 0 ||
				strcmp(status, "baseline") == 0 ||
				strcmp(status, "adopted") == 0 ||
				strcmp(status, "checksum_accepted") == 0;
		}
		else if (what == DS_MATCH_DRIZZLE)
			match = strncmp(TextDatumGetCString(slot_getattr(slot,
															 ds_journal_ids.att_version,
															 &isnull)),
							"drizzle:", 8) == 0;
		else
			match = true;
		if (!match)
			continue;
		id = DatumGetInt64(slot_getattr(slot, ds_journal_ids.att_id, &isnull));
		if (!found || id < row->id)
		{
			Datum		checksum = slot_getattr(slot, ds_journal_ids.att_checksum,
											   &isnull);

			row->checksum = isnull ? NULL : TextDatumGetCString(checksum);
			row->id = id;
			row->tid = slot->tts_tid;
		}
		found = true;
		/* the latest applied row counts; of drizzle's entries, the first */
		if (what != DS_MATCH_DRIZZLE)
			break;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
	return found;
}

/*
 * ds_applied_state
 *		Whether version is applied to the locked database, and the checksum
 *		that counts (NULL after a baseline): that of its latest row with an
 *		applied status, read backwards through migrations_version
 *		(database, version, id).
 */
static bool
ds_applied_state(DsMigration *m, const char *version, char **checksum)
{
	DsJournalRow row;

	ds_journal_lookup_ids();
	if (!ds_journal_find(ds_journal_ids.migrations_version, m->db->name,
						 CStringGetTextDatum(version), false,
						 BackwardScanDirection, DS_MATCH_APPLIED, &row))
		return false;
	*checksum = row.checksum;
	return true;
}

/*
 * ds_find_adopted
 *		The first adopted drizzle-kit entry (lowest id) of the locked
 *		database whose hash is one of m's raw checksums, through the
 *		partial index migrations_adopted (database, raw_checksum).
 */
static bool
ds_find_adopted(DsMigration *m, DsJournalRow *found)
{
	Datum		hashes[2];
	int			dims[1] = {2};
	int			lbs[1] = {1};

	ds_journal_lookup_ids();
	hashes[0] = CStringGetTextDatum(m->script->raw_checksum);
	hashes[1] = CStringGetTextDatum(m->script->raw_nl_checksum);
	return ds_journal_find(ds_journal_ids.migrations_adopted, m->db->name,
						   PointerGetDatum(construct_md_array(hashes, NULL, 1,
															  dims, lbs, TEXTOID,
															  -1, false,
															  TYPALIGN_INT)),
						   true, ForwardScanDirection, DS_MATCH_DRIZZLE, found);
}

/*
 * ds_journal_insert
 *		Writes one journal row for m with the given status, or, when m has
 *		a batch (migrate_all), adds it to the batch.
 */
static void
ds_journal_insert(DsMigration *m, const char *status, TimestampTz started,
				  const char *previous_checksum, const char *sqlstate,
				  int failed_statement)
{
	const char *args[23];
	DsScript   *s = m->script;
	TimestampTz finished = GetCurrentTimestamp();
	char		count[16];
	char		elapsed[64];
	char		failed[16];

	if (m->no_journal)
		return;
	if (m->batch != NULL)
	{
		ds_batch_add(m->batch, m, status, started, finished, sqlstate,
					 failed_statement);
		return;
	}
	snprintf(count, sizeof(count), "%d", s ? s->nstmts : 0);
	snprintf(elapsed, sizeof(elapsed), "%.3f", m->elapsed_ms);
	snprintf(failed, sizeof(failed), "%d", failed_statement);
	args[0] = m->db->name;
	args[1] = m->src->name;
	args[2] = m->src->server;
	args[3] = ds_server_address(m->src);
	args[4] = m->db->schema_name;
	args[5] = m->version;
	args[6] = m->description;
	args[7] = status;
	args[8] = m->checksum;
	args[9] = s ? s->raw_checksum : NULL;
	args[10] = previous_checksum;
	args[11] = s ? s->text : NULL;
	args[12] = s ? s->script_schema : NULL;
	args[13] = s ? count : NULL;
	args[14] = m->role;
	args[15] = timestamptz_to_str(started);
	args[16] = timestamptz_to_str(finished);
	args[17] = s ? elapsed : NULL;
	args[18] = m->error;
	args[19] = sqlstate;
	args[20] = failed_statement > 0 ? failed : NULL;
	args[21] = m->schema_fingerprint;
	ds_journal_sql("INSERT INTO datasource.migrations (database, datasource, server, "
				   "server_address, schema_name, version, description, status, checksum, "
				   "raw_checksum, previous_checksum, script, script_schema, statement_count, "
				   "role, started_at, finished_at, execution_time_ms, error, sqlstate, "
				   "failed_statement, schema_fingerprint) VALUES ($1, $2, $3, $4, $5, $6, "
				   "$7, $8, $9, $10, $11, $12, $13, $14::int, $15, $16::timestamptz, "
				   "$17::timestamptz, $18::float8, $19, $20, $21::int, $22)",
				   22, args);
}

/*
 * ds_batch_create
 *		An empty batch of journal rows, allocated in cxt.
 */
static DsJournalBatch *
ds_batch_create(MemoryContext cxt)
{
	DsJournalBatch *b = MemoryContextAllocZero(cxt, sizeof(DsJournalBatch));

	b->cxt = cxt;
	return b;
}

/*
 * ds_batch_add
 *		Adds the applied or failed row of m to its batch; everything the row
 *		needs is copied into the batch's context.
 */
static void
ds_batch_add(DsJournalBatch *b, DsMigration *m, const char *status,
			 TimestampTz started, TimestampTz finished, const char *sqlstate,
			 int failed_statement)
{
	MemoryContext old = MemoryContextSwitchTo(b->cxt);
	char	   *address = ds_server_address(m->src);
	int			i = b->n;

	if (b->n == b->size)
	{
		int			size = Max(b->size * 2, 64);

#define DS_GROW(field, type) \
		b->field = b->size == 0 ? palloc(sizeof(type) * size) : \
			repalloc(b->field, sizeof(type) * size)
		DS_GROW(database, Datum);
		DS_GROW(datasource, Datum);
		DS_GROW(server, Datum);
		DS_GROW(server_address, Datum);
		DS_GROW(schema_name, Datum);
		DS_GROW(status, Datum);
		DS_GROW(started, Datum);
		DS_GROW(finished, Datum);
		DS_GROW(elapsed, Datum);
		DS_GROW(error, Datum);
		DS_GROW(sqlstate, Datum);
		DS_GROW(failed_statement, Datum);
		DS_GROW(fingerprint, Datum);
		DS_GROW(server_null, bool);
		DS_GROW(server_address_null, bool);
		DS_GROW(error_null, bool);
		DS_GROW(sqlstate_null, bool);
		DS_GROW(failed_statement_null, bool);
		DS_GROW(fingerprint_null, bool);
#undef DS_GROW
		b->size = size;
	}
	b->database[i] = CStringGetTextDatum(m->db->name);
	b->datasource[i] = CStringGetTextDatum(m->src->name);
	b->server_null[i] = m->src->server == NULL;
	b->server[i] = m->src->server ? CStringGetTextDatum(m->src->server) : (Datum) 0;
	b->server_address_null[i] = address == NULL;
	b->server_address[i] = address ? CStringGetTextDatum(address) : (Datum) 0;
	b->schema_name[i] = CStringGetTextDatum(m->db->schema_name);
	b->status[i] = CStringGetTextDatum(status);
	b->started[i] = TimestampTzGetDatum(started);
	b->finished[i] = TimestampTzGetDatum(finished);
	b->elapsed[i] = Float8GetDatum(m->elapsed_ms);
	b->error_null[i] = m->error == NULL;
	b->error[i] = m->error ? CStringGetTextDatum(m->error) : (Datum) 0;
	b->sqlstate_null[i] = sqlstate == NULL;
	b->sqlstate[i] = sqlstate ? CStringGetTextDatum(sqlstate) : (Datum) 0;
	b->failed_statement_null[i] = failed_statement <= 0;
	b->failed_statement[i] = Int32GetDatum(failed_statement);
	b->fingerprint_null[i] = m->schema_fingerprint == NULL;
	b->fingerprint[i] = m->schema_fingerprint ? CStringGetTextDatum(m->schema_fingerprint) : (Datum) 0;
	b->n++;
	MemoryContextSwitchTo(old);
}

/*
 * ds_batch_array
 *		The n values (nulls may be NULL: none) as a one-dimensional array.
 */
static Datum
ds_batch_array(Datum *values, bool *nulls, int n, Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, type,
											  typlen, typbyval, typalign));
}

/*
 * ds_journal_flush
 *		Inserts the rows of a migrate_all batch in one statement, in the
 *		order they were added (so their ids follow the targets' order).
 *		What all rows share comes from m (version, description, script and
 *		checksums, role).  The rows' logical databases are locked by the
 *		caller's transaction (see migrate_all), so their foreign keys hold.
 */
static void
ds_journal_flush(DsJournalBatch *b, DsMigration *m)
{
	DsScript   *s = m->script;
	Datum		values[21];
	char		nulls[21];
	Oid			types[21] = {
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID,
		FLOAT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT4ARRAYOID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, INT4OID, TEXTOID,
		TEXTARRAYOID
	};
	int			i;

	if (b->n == 0)
		return;
	values[0] = ds_batch_array(b->database, NULL, b->n, TEXTOID);
	values[1] = ds_batch_array(b->datasource, NULL, b->n, TEXTOID);
	values[2] = ds_batch_array(b->server, b->server_null, b->n, TEXTOID);
	values[3] = ds_batch_array(b->server_address, b->server_address_null,
							   b->n, TEXTOID);
	values[4] = ds_batch_array(b->schema_name, NULL, b->n, TEXTOID);
	values[5] = ds_batch_array(b->status, NULL, b->n, TEXTOID);
	values[6] = ds_batch_array(b->started, NULL, b->n, TIMESTAMPTZOID);
	values[7] = ds_batch_array(b->finished, NULL, b->n, TIMESTAMPTZOID);
	values[8] = ds_batch_array(b->elapsed, NULL, b->n, FLOAT8OID);
	values[9] = ds_batch_array(b->error, b->error_null, b->n, TEXTOID);
	values[10] = ds_batch_array(b->sqlstate, b->sqlstate_null, b->n, TEXTOID);
	values[11] = ds_batch_array(b->failed_statement, b->failed_statement_null,
								b->n, INT4OID);
	for (i = 0; i < 12; i++)
		nulls[i] = ' ';
	values[12] = CStringGetTextDatum(m->version);
	nulls[13] = m->description ? ' ' : 'n';
	values[13] = m->description ? CStringGetTextDatum(m->description) : (Datum) 0;
	values[14] = CStringGetTextDatum(s->checksum);
	values[15] = CStringGetTextDatum(s->raw_checksum);
	values[16] = CStringGetTextDatum(s->text);
	nulls[17] = s->script_schema ? ' ' : 'n';
	values[17] = s->script_schema ? CStringGetTextDatum(s->script_schema) : (Datum) 0;
	values[18] = Int32GetDatum(s->nstmts);
	values[19] = CStringGetTextDatum(m->role);
	nulls[12] = nulls[14] = nulls[15] = nulls[16] = nulls[18] = nulls[19] = ' ';
	values[20] = ds_batch_array(b->fingerprint, b->fingerprint_null, b->n, TEXTOID);
	nulls[20] = ' ';
	if (ds_journal_exec("INSERT INTO datasource.migrations (database, datasource, "
						"server, server_address, schema_name, version, description, "
						"status, checksum, raw_checksum, script, script_schema, "
						"statement_count, role, started_at, finished_at, "
						"execution_time_ms, error, sqlstate, failed_statement, "
						"schema_fingerprint) "
						"SELECT r.database, r.datasource, r.server, r.server_address, "
						"r.schema_name, $13, $14, r.status, $15, $16, $17, $18, $19, "
						"$20, r.started_at, r.finished_at, r.execution_time_ms, "
						"r.error, r.sqlstate, r.failed_statement, r.schema_fingerprint "
						"FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
						"pg_catalog.unnest($3), pg_catalog.unnest($4), "
						"pg_catalog.unnest($5), pg_catalog.unnest($6), "
						"pg_catalog.unnest($7), pg_catalog.unnest($8), "
						"pg_catalog.unnest($9), pg_catalog.unnest($10), "
						"pg_catalog.unnest($11), pg_catalog.unnest($12), "
						"pg_catalog.unnest($21)) "
						"WITH ORDINALITY AS r (database, datasource, "
						"server, server_address, schema_name, status, started_at, "
						"finished_at, execution_time_ms, error, sqlstate, "
						"failed_statement, schema_fingerprint, n) ORDER BY r.n",
						21, types, values, nulls) != SPI_OK_INSERT ||
		SPI_processed != (uint64) b->n)
		elog(ERROR, "could not journal the migrations");
}

/*
 * ds_migration_context
 *		Error context: which statement of which migration.
 */
static void
ds_migration_context(void *arg)
{
	DsMigration *m = (DsMigration *) arg;

	if (m->current > 0)
		errcontext("statement %d of migration \"%s\" of logical database \"%s\"",
				   m->current, m->version, m->database);
}

/*
 * ds_run_script
 *		Runs the statements of m's script in the target's schema; called in
 *		a subtransaction, so an error leaves nothing behind.
 */
static void
ds_run_script(void *arg)
{
	DsMigration *m = (DsMigration *) arg;
	DsScript   *s = m->script;
	ErrorContextCallback errcb;
	int			i;

	errcb.callback = ds_migration_context;
	errcb.arg = m;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (m->src->server == NULL)
	{
		int			level = NewGUCNestLevel();

		(void) set_config_option("search_path",
								 quote_identifier(m->db->schema_name),
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		if (ds_migration_lock_timeout > 0)
			(void) set_config_option("lock_timeout",
									 psprintf("%d", ds_migration_lock_timeout),
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		ds_migration_version = m->version;
		for (i = 0; i < s->nstmts; i++)
		{
			char	   *sql = ds_statement_for(s, i, m->db->schema_name);
			int			rc;

			m->current = i + 1;
			ds_migration_statement = sql;
			rc = SPI_execute(sql, false, 0);
			if (rc < 0)
				elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
			SPI_freetuptable(SPI_tuptable);
			CHECK_FOR_INTERRUPTS();
		}
		ds_migration_version = NULL;
		ds_migration_statement = NULL;
		/* whatever the script set (SET LOCAL, set_config) ends with it */
		AtEOXact_GUC(false, level);
	}
	else
	{
		DsResult	r;

		if (ds_migration_lock_timeout > 0)
		{
			MemSet(&r, 0, sizeof(r));
			r.mode = DS_RESULT_NONE;
			(void) ds_remote_run(m->src,
								 psprintf("SET LOCAL lock_timeout = %d",
										  ds_migration_lock_timeout),
								 m->db->schema_name, 0, NULL, false, &r);
		}
		for (i = 0; i < s->nstmts; i++)
		{
			m->current = i + 1;
			MemSet(&r, 0, sizeof(r));
			r.mode = DS_RESULT_NONE;
			(void) ds_remote_run(m->src,
								 ds_statement_for(s, i, m->db->schema_name),
								 m->db->schema_name, 0, NULL, false, &r);
			if (r.rowcxt)
				MemoryContextDelete(r.rowcxt);
		}
		if (ds_migration_lock_timeout > 0)
		{
			MemSet(&r, 0, sizeof(r));
			r.mode = DS_RESULT_NONE;
			(void) ds_remote_run(m->src, "SET LOCAL lock_timeout TO DEFAULT",
								 m->db->schema_name, 0, NULL, false, &r);
		}
	}
	m->current = 0;
	error_context_stack = errcb.previous;
}

/*
 * ds_migrate_database
 *		Applies m to its logical database: lock, look at the journal, run,
 *		journal.  Raises for what refuses the migration before it runs
 *		(unknown, disabled or read-only database, changed checksum); a
 *		failure of the script is journaled and reported in m.
 */
static void
ds_migrate_database(DsMigration *m)
{
	char	   *recorded = NULL;
	const char *args[4];
	DsJournalRow adopted = {0};
	ErrorData  *edata;
	TimestampTz started;
	instr_time	t0;

	INSTR_TIME_SET_CURRENT(t0);
	started = GetCurrentTimestamp();
	m->error = NULL;
	m->elapsed_ms = 0;
	m->checksum = m->script->checksum;

	ds_lock_database(m);
	if (ds_applied_state(m, m->version, &recorded))
	{
		if (recorded != NULL && strcmp(recorded, m->script->checksum) != 0)
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("migration \"%s\" of logical database \"%s\" was applied with another script",
						   m->version, m->db->name),
					errdetail("The journal has checksum %s; this script has %s.",
							  recorded, m->script->checksum),
					errhint("If the change is intended, record it with SELECT datasource.accept_checksum(%s, %s, %s);",
							quote_literal_cstr(m->db->name),
							quote_literal_cstr(m->version),
							quote_literal_cstr(m->script->checksum)));
		m->status = "already_applied";
		if (recorded != NULL)
			m->checksum = recorded;
		return;
	}

	/* an entry adopted from drizzle-kit whose file this is */
	if (ds_find_adopted(m, &adopted))
	{
		args[0] = psprintf("(%u,%u)",
						   ItemPointerGetBlockNumber(&adopted.tid),
						   ItemPointerGetOffsetNumber(&adopted.tid));
		args[1] = m->version;
		args[2] = m->script->checksum;
		args[3] = m->description;
		ds_journal_sql("UPDATE datasource.migrations SET version = $2, checksum = $3, "
					   "description = coalesce($4, description) "
					   "WHERE ctid = $1::pg_catalog.tid",
					   4, args);
		if (SPI_processed != 1)
			elog(ERROR, "could not take over the adopted journal row at %s",
				 args[0]);
		m->status = "already_applied";
		return;
	}

	m->started = started;
	m->t0 = t0;
	m->script_started = true;
	if (m->inline_script)
	{
		/* migrate_all: its subtransaction for this database is ours */
		ds_run_script(m);
		edata = NULL;
	}
	else
		edata = ds_in_subxact(ds_run_script, m);
	ds_script_done(m, edata);
}

/*
 * ds_is_connection_error
 *		A remote that cannot be reached or went away.
 */
static bool
ds_is_connection_error(ErrorData *edata)
{
	return ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_CONNECTION_EXCEPTION ||
		edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
		edata->sqlerrcode == ERRCODE_CRASH_SHUTDOWN ||
		edata->sqlerrcode == ERRCODE_CANNOT_CONNECT_NOW;
}

/*
 * ds_script_done
 *		Journals how m's script ended (edata NULL: it succeeded).  The
 *		subtransaction it ran in has ended, so nothing of a failed script
 *		remains.
 */
static void
ds_script_done(DsMigration *m, ErrorData *edata)
{
	instr_time	t1;

	ds_migration_version = NULL;
	ds_migration_statement = NULL;
	if (m->src->server != NULL)
		ds_remote_forget_path(m->src->server);

	/*
	 * A remote that cannot be reached (or went away) is not a failure of the
	 * script: nothing ran, and a broken remote transaction cannot commit
	 * with the journal row anyway.  Raise it as a refusal.
	 */
	if (edata != NULL && ds_is_connection_error(edata))
		ReThrowError(edata);
	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, m->t0);
	m->elapsed_ms = INSTR_TIME_GET_MILLISEC(t1);
	if (edata == NULL)
	{
		m->status = "applied";
		/* in the migration's transaction: what the script left, for drift() */
		ds_record_snapshot(m);
		ds_journal_insert(m, "applied", m->started, NULL, NULL, 0);
		return;
	}

	/* the script failed: nothing of it remains; journal the attempt */
	m->status = "failed";
	m->error = edata->message;
	ds_journal_insert(m, "failed", m->started, NULL,
					  unpack_sql_state(edata->sqlerrcode), m->current);
	ereport(WARNING,
			errcode(edata->sqlerrcode),
			errmsg("migration \"%s\" of logical database \"%s\" failed: %s",
				   m->version, m->db->name, edata->message),
			m->current > 0 ?
			errdetail("Statement %d of the script failed; nothing of the script was kept.",
					  m->current) : 0);
	m->current = 0;
}

/*
 * ds_result_values
 *		The migration_result row of m.
 */
static HeapTuple
ds_result_tuple(TupleDesc desc, const char *database, const char *version,
				const char *status, const char *checksum, double elapsed,
				const char *error)
{
	Datum		values[6];
	bool		nulls[6] = {false};

	values[0] = CStringGetTextDatum(database);
	values[1] = CStringGetTextDatum(version);
	values[2] = CStringGetTextDatum(status);
	if (checksum)
		values[3] = CStringGetTextDatum(checksum);
	else
		nulls[3] = true;
	values[4] = Float8GetDatum(elapsed);
	if (error)
		values[5] = CStringGetTextDatum(error);
	else
		nulls[5] = true;
	return heap_form_tuple(desc, values, nulls);
}

/*
 * ds_check_writable_xact
 *		Migrations write: refuse a read-only transaction up front.
 */
static void
ds_check_writable_xact(void)
{
	if (XactReadOnly)
		ereport(ERROR,
				errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				errmsg("cannot migrate in a read-only transaction"));
}

/*
 * ds_current_role
 *		The calling role's name.
 */
static const char *
ds_current_role(void)
{
	return GetUserNameFromId(GetUserId(), false);
}

/*
 * ds_script_arg
 *		Parses the script argument (and script_schema) of a migrate call.
 */
static DsScript *
ds_script_arg(const char *script, const char *script_schema)
{
	if (script_schema != NULL && script_schema[0] == '\0')
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("script_schema must not be empty"),
				errhint("Pass NULL when the script names no schema."));
	return ds_parse_script(script, script_schema);
}

/*
 * migrate(database text, version text, script text, description text,
 *		   script_schema text) returns datasource.migration_result
 */
Datum
pgds_migrate(PG_FUNCTION_ARGS)
{
	DsMigration m;
	TupleDesc	desc;
	MemoryContext callercxt = CurrentMemoryContext;
	HeapTuple	tup;
	int			level;

	MemSet(&m, 0, sizeof(m));
	m.database = ds_arg_text(fcinfo, 0, "database", true);
	m.version = ds_arg_text(fcinfo, 1, "version", true);
	ds_check_version(m.version);
	m.script = ds_script_arg(ds_arg_text(fcinfo, 2, "script", true),
							 ds_arg_text(fcinfo, 4, "script_schema", false));
	m.description = ds_arg_text(fcinfo, 3, "description", false);
	m.role = ds_current_role();
	ds_check_writable_xact();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	level = ds_spi_connect();
	ds_migrate_database(&m);
	MemoryContextSwitchTo(callercxt);
	tup = ds_result_tuple(BlessTupleDesc(desc), m.db->name, m.version,
						  m.status, m.checksum, m.elapsed_ms, m.error);
	ds_spi_finish(level);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* what migrate_all runs per database in a subtransaction */
static void
ds_migrate_database_call(void *arg)
{
	ds_migrate_database((DsMigration *) arg);
}

/*
 * ds_target_list
 *		The logical databases migrate_all works on: the listed ones (each
 *		must exist, once) or every one that is not read-only, by name.
 */
static List *
ds_target_list(FunctionCallInfo fcinfo, int argno)
{
	List	   *names = NIL;
	ListCell   *lc;

	if (PG_ARGISNULL(argno))
	{
		foreach(lc, ds_list_databases())
		{
			DsDatabase *db = (DsDatabase *) lfirst(lc);
			DsSource   *src = ds_cache_source(db->source);

			if (!db->read_only && !src->read_only)
				names = lappend(names, db->name);
		}
		return names;
	}
	else
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(argno);
		Datum	   *elems;
		bool	   *isnull;
		int			n;
		int			i;

		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					errmsg("databases must be a one-dimensional array"));
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems,
						  &isnull, &n);
		for (i = 0; i < n; i++)
		{
			char	   *name;

			if (isnull[i])
				ereport(ERROR,
						errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("databases must not contain null"));
			name = TextDatumGetCString(elems[i]);
			foreach(lc, names)
				if (strcmp((char *) lfirst(lc), name) == 0)
					ereport(ERROR,
							errcode(ERRCODE_DUPLICATE_OBJECT),
							errmsg("logical database \"%s\" is listed twice", name));
			(void) ds_get_database(name, false);
			names = lappend(names, name);
		}
	}
	return names;
}

/*
 * migrate_all(version text, script text, databases text[], description
 *			   text, script_schema text) returns setof migration_result
 *
 * Each logical database in its own subtransaction: whatever fails for one
 * (a refusal or the script) is reported in its row and the others go on.
 * The journal rows are collected and written in one INSERT at the end; the
 * registry row of each journaled database stays locked until then (by the
 * subtransaction that committed, or locked again after a failed script).
 */
Datum
pgds_migrate_all(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext callercxt;
	MemoryContext percxt;
	char	   *version;
	DsScript   *script;
	char	   *description;
	const char *role;
	List	   *targets;
	ListCell   *lc;
	DsJournalBatch *batch;
	TimestampTz last_notice = 0;
	TimestampTz now;
	int			ntargets;
	int			level;
	int			i = 0;

	version = ds_arg_text(fcinfo, 0, "version", true);
	ds_check_version(version);
	script = ds_script_arg(ds_arg_text(fcinfo, 1, "script", true),
						   ds_arg_text(fcinfo, 4, "script_schema", false));
	description = ds_arg_text(fcinfo, 3, "description", false);
	role = ds_current_role();
	targets = ds_target_list(fcinfo, 2);
	ntargets = list_length(targets);
	ds_check_writable_xact();

	InitMaterializedSRF(fcinfo, 0);
	callercxt = CurrentMemoryContext;
	percxt = AllocSetContextCreate(callercxt, "pg_datasource migrate_all",
								   ALLOCSET_DEFAULT_SIZES);
	batch = ds_batch_create(callercxt);
	level = ds_spi_connect();
	foreach(lc, targets)
	{
		DsMigration m;
		ErrorData  *edata;
		HeapTuple	tup;
		MemoryContext spicxt;

		i++;
		spicxt = MemoryContextSwitchTo(percxt);
		MemSet(&m, 0, sizeof(m));
		m.database = (char *) lfirst(lc);
		m.version = version;
		m.description = description;
		m.script = script;
		m.role = role;
		m.inline_script = true;
		m.batch = batch;
		edata = ds_in_subxact(ds_migrate_database_call, &m);
		if (edata != NULL && m.script_started && !ds_is_connection_error(edata))
		{
			LOCKTAG		tag;

			/*
			 * The script failed, and the subtransaction took its work and
			 * the locks with it: take the migration lock and the registry
			 * row's lock again, then journal the attempt.  A drop_database
			 * that committed in between took the logical database and its
			 * journal away: the attempt is reported, not journaled.
			 */
			ds_migration_lock_tag(&tag, m.database);
			(void) LockAcquire(&tag, ExclusiveLock, false, false);
			m.no_journal = ds_lock_registry_row(m.database) == NULL;
			ds_script_done(&m, edata);
			edata = NULL;
		}
		if (edata != NULL)
		{
			m.status = "failed";
			m.error = edata->message;
			m.checksum = script->checksum;
			ereport(WARNING,
					errcode(edata->sqlerrcode),
					errmsg("migration \"%s\" of logical database \"%s\" was not applied: %s",
						   version, m.database, edata->message));
		}
		/*
		 * Progress: the first and the last database, every failure, and in
		 * between at most one NOTICE a second: each NOTICE is flushed to
		 * the client at once, and the rows say what became of every
		 * database.
		 */
		now = GetCurrentTimestamp();
		if (i == 1 || i == ntargets || strcmp(m.status, "failed") == 0 ||
			TimestampDifferenceExceeds(last_notice, now, 1000))
		{
			ereport(NOTICE,
					errmsg("migrate_all %d/%d: %s %s", i, ntargets,
						   m.database, m.status));
			last_notice = now;
		}
		tup = ds_result_tuple(rsinfo->setDesc, m.database, version, m.status,
							  m.checksum, m.elapsed_ms, m.error);
		tuplestore_puttuple(rsinfo->setResult, tup);
		MemoryContextSwitchTo(spicxt);
		MemoryContextReset(percxt);
	}
	if (batch->n > 0)
	{
		DsMigration shared;

		MemSet(&shared, 0, sizeof(shared));
		shared.version = version;
		shared.description = description;
		shared.script = script;
		shared.role = role;
		ds_journal_flush(batch, &shared);
	}
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	MemoryContextDelete(percxt);
	return (Datum) 0;
}

/*
 * baseline(database text, version text, description text)
 *		returns datasource.migration_result
 *
 * Records version as applied without running anything.
 */
Datum
pgds_baseline(PG_FUNCTION_ARGS)
{
	DsMigration m;
	TupleDesc	desc;
	MemoryContext callercxt = CurrentMemoryContext;
	HeapTuple	tup;
	char	   *recorded = NULL;
	int			level;

	MemSet(&m, 0, sizeof(m));
	m.database = ds_arg_text(fcinfo, 0, "database", true);
	m.version = ds_arg_text(fcinfo, 1, "version", true);
	ds_check_version(m.version);
	m.description = ds_arg_text(fcinfo, 2, "description", false);
	m.role = ds_current_role();
	ds_check_writable_xact();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	level = ds_spi_connect();
	ds_lock_database(&m);
	if (ds_applied_state(&m, m.version, &recorded))
	{
		m.status = "already_applied";
		m.checksum = recorded;
	}
	else
	{
		m.status = "baseline";
		ds_record_snapshot(&m);
		ds_journal_insert(&m, "baseline", GetCurrentTimestamp(), NULL, NULL, 0);
	}
	MemoryContextSwitchTo(callercxt);
	tup = ds_result_tuple(BlessTupleDesc(desc), m.db->name, m.version,
						  m.status, m.checksum, 0, NULL);
	ds_spi_finish(level);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/*
 * accept_checksum(database text, version text, checksum text)
 *		returns datasource.migration_result
 *
 * The explicit repair after an applied script was edited: journals the new
 * checksum next to the old one; migrate() then accepts the edited script.
 */
Datum
pgds_accept_checksum(PG_FUNCTION_ARGS)
{
	DsMigration m;
	TupleDesc	desc;
	MemoryContext callercxt = CurrentMemoryContext;
	HeapTuple	tup;
	char	   *recorded = NULL;
	char	   *checksum;
	int			level;

	MemSet(&m, 0, sizeof(m));
	m.database = ds_arg_text(fcinfo, 0, "database", true);
	m.version = ds_arg_text(fcinfo, 1, "version", true);
	ds_check_version(m.version);
	checksum = ds_arg_text(fcinfo, 2, "checksum", true);
	ds_check_checksum(checksum);
	m.role = ds_current_role();
	ds_check_writable_xact();
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	level = ds_spi_connect();
	ds_lock_database(&m);
	if (!ds_applied_state(&m, m.version, &recorded))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("migration \"%s\" of logical database \"%s\" has not been applied",
					   m.version, m.db->name),
				errhint("Only the checksum of an applied migration can be accepted."));
	m.checksum = checksum;
	if (recorded != NULL && strcmp(recorded, checksum) == 0)
		m.status = "already_applied";
	else
	{
		m.status = "checksum_accepted";
		m.description = psprintf("checksum accepted by %s", m.role);
		ds_journal_insert(&m, "checksum_accepted", GetCurrentTimestamp(),
						  recorded, NULL, 0);
	}
	MemoryContextSwitchTo(callercxt);
	tup = ds_result_tuple(BlessTupleDesc(desc), m.db->name, m.version,
						  m.status, m.checksum, 0, NULL);
	ds_spi_finish(level);
	PG_RETURN_DATUM(HeapTupleGetDatum(tup));
}

/* one version of a pending() manifest */
typedef struct DsManifestEntry
{
	char	   *version;
	char	   *checksum;		/* NULL when the manifest gives none */
} DsManifestEntry;

/*
 * ds_read_manifest
 *		The entries of a manifest: a JSON array whose elements are version
 *		strings or objects with "version" and at most one of "checksum"
 *		and "script".  Must be called inside SPI.
 */
static DsManifestEntry *
ds_read_manifest(Jsonb *manifest, int *n)
{
	Oid			type = JSONBOID;
	Datum		value = JsonbPGetDatum(manifest);
	DsManifestEntry *entries;
	uint64		i;

	if (!JB_ROOT_IS_ARRAY(manifest) || JB_ROOT_IS_SCALAR(manifest))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("manifest must be a JSON array"),
				errhint("Each element is a version string or an object such as {\"version\": \"0001\", \"checksum\": \"...\"} or {\"version\": \"0001\", \"script\": \"...\"}."));
	if (SPI_execute_with_args("SELECT n, jsonb_typeof(e), "
							  "CASE jsonb_typeof(e) WHEN 'string' THEN e #>> '{}' "
							  "WHEN 'object' THEN e ->> 'version' END, "
							  "jsonb_typeof(e -> 'version'), e ->> 'checksum', "
							  "jsonb_typeof(e -> 'checksum'), e ->> 'script', "
							  "jsonb_typeof(e -> 'script'), "
							  "CASE jsonb_typeof(e) WHEN 'object' THEN "
							  "(SELECT string_agg(k, ', ') FROM jsonb_object_keys(e) k "
							  "WHERE k <> ALL (ARRAY['version', 'checksum', 'script'])) END "
							  "FROM jsonb_array_elements($1) WITH ORDINALITY AS x (e, n) "
							  "ORDER BY n",
							  1, &type, &value, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the manifest");
	entries = palloc0(sizeof(DsManifestEntry) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *kind = ds_spi_value(i, 2);
		char	   *version = ds_spi_value(i, 3);
		char	   *checksum = ds_spi_value(i, 5);
		char	   *script = ds_spi_value(i, 7);
		char	   *extra = ds_spi_value(i, 9);
		uint64		j;

		if (strcmp(kind, "string") != 0 &&
			(strcmp(kind, "object") != 0 || version == NULL ||
			 strcmp(ds_spi_value(i, 4), "string") != 0))
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("element " UINT64_FORMAT " of the manifest has no version", i + 1),
					errdetail("An element is a version string or an object with a \"version\" string."));
		if (extra != NULL)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("element " UINT64_FORMAT " of the manifest has unknown keys: %s",
						   i + 1, extra));
		if ((checksum && strcmp(ds_spi_value(i, 6), "string") != 0) ||
			(script && strcmp(ds_spi_value(i, 8), "string") != 0))
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("element " UINT64_FORMAT " of the manifest: \"checksum\" and \"script\" must be strings",
						   i + 1));
		if (checksum && script)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("element " UINT64_FORMAT " of the manifest has both a checksum and a script",
						   i + 1));
		ds_check_version(version);
		for (j = 0; j < i; j++)
			if (strcmp(entries[j].version, version) == 0)
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("version \"%s\" is in the manifest twice", version));
		if (checksum)
			ds_check_checksum(checksum);
		else if (script)
		{
			checksum = palloc(DS_CHECKSUM_LEN + 1);
			ds_script_checksum(script, checksum);
		}
		entries[i].version = version;
		entries[i].checksum = checksum;
	}
	*n = (int) SPI_processed;
	return entries;
}

/*
 * pending(database text, manifest jsonb) returns setof (version, state)
 *
 * The manifest's versions in its order: applied, changed or missing; then
 * the versions applied to the database that the manifest does not have,
 * as unknown, in journal order.
 */
Datum
pgds_pending(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	char	   *database;
	Jsonb	   *manifest;
	DsManifestEntry *entries;
	int			nentries;
	DsDatabase *db;
	MemoryContext callercxt;
	const char *args[1];
	char	  **versions;
	char	  **checksums;
	uint64		napplied;
	uint64		i;
	int			e;
	int			level;

	database = ds_arg_text(fcinfo, 0, "database", true);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"manifest\" must not be null"));
	manifest = PG_GETARG_JSONB_P(1);
	db = ds_get_database(database, false);

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	callercxt = CurrentMemoryContext;
	level = ds_spi_connect();
	entries = ds_read_manifest(manifest, &nentries);

	/* the applied versions with the checksum that counts, in journal order */
	args[0] = db->name;
	ds_journal_sql("SELECT version, (array_agg(checksum ORDER BY id DESC))[1] "
				   "FROM datasource.migrations WHERE database = $1 AND status = ANY ("
				   DS_APPLIED_STATUSES ") GROUP BY version ORDER BY min(id)",
				   1, args);
	napplied = SPI_processed;
	versions = palloc(sizeof(char *) * Max(napplied, 1));
	checksums = palloc(sizeof(char *) * Max(napplied, 1));
	for (i = 0; i < napplied; i++)
	{
		versions[i] = ds_spi_value(i, 1);
		checksums[i] = ds_spi_value(i, 2);
	}

	MemoryContextSwitchTo(callercxt);
	for (e = 0; e < nentries; e++)
	{
		Datum		values[2];
		bool		nulls[2] = {false};
		const char *state = "missing";

		for (i = 0; i < napplied; i++)
			if (strcmp(versions[i], entries[e].version) == 0)
			{
				state = (entries[e].checksum == NULL || checksums[i] == NULL ||
						 strcmp(entries[e].checksum, checksums[i]) == 0) ?
					"applied" : "changed";
				break;
			}
		values[0] = CStringGetTextDatum(entries[e].version);
		values[1] = CStringGetTextDatum(state);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (i = 0; i < napplied; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false};
		bool		listed = false;

		for (e = 0; e < nentries && !listed; e++)
			listed = strcmp(versions[i], entries[e].version) == 0;
		if (listed)
			continue;
		values[0] = CStringGetTextDatum(versions[i]);
		values[1] = CStringGetTextDatum("unknown");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	ds_spi_finish(level);
	return (Datum) 0;
}

/*
 * adopt_drizzle(database text, migrations_table text)
 *		returns setof (hash text, created_at bigint, state text)
 *
 * Reads drizzle-kit's journal table where the logical database lives and
 * records each of its entries as an adopted migration (version
 * 'drizzle:<created_at>', raw_checksum = drizzle's hash, the sha256 of the
 * file).  migrate() of a script whose sha256 is such a hash takes the
 * entry over under its own version and runs nothing.
 */
Datum
pgds_adopt_drizzle(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	DsMigration m;
	char	   *table;
	List	   *names;
	StringInfoData sql;
	ListCell   *lc;
	DsResult	r;
	MemoryContext callercxt;
	Datum		rows;
	Oid			type = JSONBOID;
	uint64		nrows;
	uint64		i;
	char	  **hashes;
	char	  **created;
	int			level;

	MemSet(&m, 0, sizeof(m));
	m.database = ds_arg_text(fcinfo, 0, "database", true);
	table = ds_arg_text(fcinfo, 1, "migrations_table", true);
	names = stringToQualifiedNameList(table);
	if (list_length(names) > 2)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_NAME),
				errmsg("improper table name \"%s\"", table),
				errhint("Name the table as schema.table or table."));
	m.role = ds_current_role();
	ds_check_writable_xact();

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT hash, created_at::bigint AS created_at FROM ");
	foreach(lc, names)
	{
		if (lc != list_head(names))
			appendStringInfoChar(&sql, '.');
		appendStringInfoString(&sql, quote_identifier(strVal(lfirst(lc))));
	}
	appendStringInfoString(&sql, " ORDER BY created_at, hash");

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	callercxt = CurrentMemoryContext;
	level = ds_spi_connect();
	ds_lock_database(&m);

	/* drizzle's rows, where the logical database lives */
	MemSet(&r, 0, sizeof(r));
	r.mode = DS_RESULT_ARRAY;
	r.max_rows = -1;
	if (m.src->server == NULL)
		(void) ds_local_run(sql.data, m.db->schema_name, "SELECT", 0, NULL,
							true, &r);
	else
		(void) ds_remote_run(m.src, sql.data, m.db->schema_name, 0, NULL,
							 true, &r);
	if (r.started)
		appendStringInfoChar(&r.array, ']');
	rows = DirectFunctionCall1(jsonb_in,
							   CStringGetDatum(r.started ? r.array.data : "[]"));
	if (r.rowcxt)
		MemoryContextDelete(r.rowcxt);
	if (SPI_execute_with_args("SELECT e ->> 'hash', e ->> 'created_at' "
							  "FROM jsonb_array_elements($1) WITH ORDINALITY AS x (e, n) "
							  "ORDER BY n", 1, &type, &rows, NULL, true, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "could not read the drizzle journal");
	nrows = SPI_processed;
	hashes = palloc(sizeof(char *) * Max(nrows, 1));
	created = palloc(sizeof(char *) * Max(nrows, 1));
	for (i = 0; i < nrows; i++)
	{
		hashes[i] = ds_spi_value(i, 1);
		created[i] = ds_spi_value(i, 2);
		if (hashes[i] == NULL || created[i] == NULL)
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("the drizzle journal \"%s\" has a row without hash or created_at",
						   table));
	}

	for (i = 0; i < nrows; i++)
	{
		const char *state;
		Datum		values[3];
		bool		nulls[3] = {false};
		DsJournalRow row;

		ds_journal_lookup_ids();
		if (ds_journal_find(ds_journal_ids.migrations_adopted, m.db->name,
							CStringGetTextDatum(hashes[i]), false,
							ForwardScanDirection, DS_MATCH_ANY, &row))
			state = "already_adopted";
		else
		{
			DsMigration a = m;
			DsScript	entry;

			/* no script: drizzle's hash is the raw checksum */
			ds_check_checksum(hashes[i]);
			MemSet(&entry, 0, sizeof(entry));
			strlcpy(entry.raw_checksum, hashes[i], sizeof(entry.raw_checksum));
			a.script = &entry;
			a.version = psprintf("drizzle:%s", created[i]);
			a.description = psprintf("adopted from %s", table);
			ds_journal_insert(&a, "adopted", GetCurrentTimestamp(), NULL, NULL, 0);
			state = "adopted";
		}
		MemoryContextSwitchTo(callercxt);
		values[0] = CStringGetTextDatum(hashes[i]);
		values[1] = DirectFunctionCall1(int8in, CStringGetDatum(created[i]));
		values[2] = CStringGetTextDatum(state);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	return (Datum) 0;
}
