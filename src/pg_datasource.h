/*-------------------------------------------------------------------------
 *
 * pg_datasource.h
 *		  Shared types and prototypes of pg_datasource, one section per file.
 *
 * IDENTIFICATION
 *		  src/pg_datasource.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_DATASOURCE_H
#define PG_DATASOURCE_H

#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "parser/parser.h"
#include "port/atomics.h"
#include "portability/instr_time.h"
#include "storage/itemptr.h"
#include "storage/lock.h"
#include "tcop/cmdtag.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"
#include "libpq-fe.h"

/* the name of the datasource that is this database itself */
#define DS_LOCAL_SOURCE		"local"

/* the extension's own schema and wrapper */
#define DS_SCHEMA			"datasource"
#define DS_WRAPPER			"pg_datasource"

/*
 * What a datasource is: PostgreSQL (this database, or a foreign server of our
 * wrapper, reached with libpq) or MySQL/MariaDB (a foreign server of
 * mysql_fdw, whose logical databases are local schemas of foreign tables).
 */
typedef enum DsEngine
{
	DS_ENGINE_POSTGRESQL,
	DS_ENGINE_MYSQL
} DsEngine;

/* the foreign-data wrapper whose servers are MySQL datasources */
#define DS_MYSQL_WRAPPER	"mysql_fdw"

/* a row of datasource.sources, palloc'd in the caller's context */
typedef struct DsSource
{
	char	   *name;
	char	   *server;			/* NULL for local */
	DsEngine	engine;			/* from the server's wrapper */
	bool		enabled;
	bool		read_only;
	char	   *description;
} DsSource;

/* a row of datasource.databases, palloc'd in the caller's context */
typedef struct DsDatabase
{
	char	   *name;
	char	   *source;
	char	   *schema_name;	/* on MySQL: the MySQL database */
	bool		read_only;
	char	   *description;
	char	   *local_schema;	/* MySQL only: the local schema of its foreign
								 * tables; NULL otherwise */
} DsDatabase;

/* in guc.c */
typedef enum DsEnforce
{
	DS_ENFORCE_OFF,
	DS_ENFORCE_WARN,
	DS_ENFORCE_ERROR
} DsEnforce;

extern int	ds_connect_timeout;
extern int	ds_cleanup_timeout;
extern int	ds_remote_prepared_max;
extern int	ds_enforce;
extern char *ds_allowed_databases;
extern bool ds_enforce_read_only;
extern int	ds_migration_lock_timeout;
extern bool ds_migration_cross_database;
extern bool ds_ddl_log;
extern bool ds_migration_snapshot;
extern bool ds_two_phase_commit;
extern bool ds_allow_nontransactional_writes;

/* where datasource.debug_commit_pause stops a commit (commit.c) */
typedef enum DsCommitPause
{
	DS_PAUSE_OFF,
	DS_PAUSE_AFTER_PREPARE,
	DS_PAUSE_AFTER_COMMIT,
	DS_PAUSE_BETWEEN_COMMITS
} DsCommitPause;

extern int	ds_debug_commit_pause;

/* statistics (stats.c) */
extern bool ds_stats;
extern int	ds_stats_max_databases;
extern int	ds_stats_max_statements;
extern int	ds_stats_statements_per_database;
extern void ds_define_gucs(void);

/* in names.c: what a name is, for the name rules and their messages */
typedef enum DsNameKind
{
	DS_NAME_SOURCE,
	DS_NAME_DATABASE,
	DS_NAME_SCHEMA,
	DS_NAME_SERVER
} DsNameKind;

extern void ds_check_name(DsNameKind kind, const char *name);
extern bool ds_name_in_list(const char *const *list, const char *name);

/* in args.c: name NULL means the argument's declared name */
extern char *ds_text_arg(FunctionCallInfo fcinfo, int n, const char *name,
						 bool required);
extern int	ds_bool_arg(FunctionCallInfo fcinfo, int n, const char *name,
						bool required);
extern char *ds_current_role(void);

/* in spi.c */
extern int	ds_spi_connect(void);
extern int	ds_spi_pin_path(void);
extern void ds_spi_finish(int guc_level);
extern Oid	ds_extension_relid(const char *relname);
extern Oid	ds_table_owner(const char *relname, bool missing_ok);
extern Oid	ds_relation_owner(Oid relid);
extern int	ds_spi_as_owner(Oid owner, SPIPlanPtr plan, const char *sql,
							int nargs, Oid *argtypes, Datum *values,
							const char *nulls);
extern void ds_run_sql_as_caller(const char *sql);
extern Datum ds_run_query(const char *sql, int nargs, Oid *argtypes,
						  Datum *values, const char *nulls, bool *isnull);

/* in catalog.c */
extern void ds_lock_registry(void);
extern DsSource *ds_get_source(const char *name, bool missing_ok);
extern DsDatabase *ds_get_database(const char *name, bool missing_ok);
extern List *ds_list_sources(void);
extern List *ds_list_databases(void);
extern DsDatabase *ds_database_by_schema(const char *source, const char *schema);
extern DsSource *ds_source_by_server(const char *server);
extern ForeignServer *ds_lookup_server(const char *server);
extern ForeignServer *ds_lookup_source_server(const char *server,
											   DsEngine *engine);
extern void ds_catalog_write(const char *sql, int nargs, Oid *argtypes,
							 Datum *values, const char *nulls);
extern Datum ds_registry_row(const char *table, const char *name);

/* in regcache.c */
extern void ds_cache_init(void);
extern bool ds_cache_ensure(void);
extern DsDatabase *ds_cache_database(const char *name, DsSource **source);
extern int	ds_cache_schema(const char *schema, const char *prefer,
							DsDatabase **db, DsSource **source);
extern int	ds_cache_qualifier(const char *qualifier, const char *prefer,
							   DsDatabase **db, DsSource **source);
extern DsSource *ds_cache_source(const char *name);
extern const DsSource *ds_cache_source_by_server(const char *server);
extern DsDatabase *ds_cache_database_copy(const char *name, DsSource **source);
extern DsDatabase *ds_cache_local_schema(const char *schema, DsSource **source);
extern bool ds_source_runs_here(const DsSource *src);
extern const char *ds_database_schema_here(const DsDatabase *db);
extern const char *ds_database_sql_schema(const DsDatabase *db);
extern uint64 ds_cache_generation(void);

/* in policy.c */
extern bool ds_source_usable(const DsSource *src, const DsDatabase *db,
							 const char *writes, int elevel, char **reason,
							 int *sqlerrcode);
extern char *ds_sources_differ(List *dbs);

/* in sandbox.c: the session's sandbox, the tightest of every source */
typedef struct DsSandbox
{
	bool		valid;			/* current (see sandbox.c) */
	uint64		epoch;			/* changes whenever it is computed */
	bool		gated;			/* the gates of enforce.c apply */
	int			enforce;		/* effective DsEnforce */
	bool		read_only;
	bool		restricted;		/* databases limits the logical databases */
	List	   *databases;		/* char *: the ones allowed, when restricted */
	bool		from_table;		/* a row of datasource.sandboxes applies */
	char	   *fail_closed;	/* why everything is refused, or NULL */
	bool		installed;		/* the extension is in this database */
	Oid			ext_nsp;		/* its schema */
} DsSandbox;

extern void ds_sandbox_init(void);
extern const DsSandbox *ds_sandbox_get(void);
extern bool ds_sandbox_allows(const char *name);
extern void ds_sandbox_refuse_all(const DsSandbox *s);
extern bool ds_sandbox_permits(const char *name, bool writes, int elevel,
							   char **reason);

/* in registry.c: the same operations the SQL functions run, for apply_config */
extern void ds_do_create_source(const char *name, const char *server,
								bool read_only, const char *description);
extern void ds_do_alter_source(const char *name, const char *server,
							   int read_only, int enabled,
							   const char *description);
extern void ds_do_drop_source(const char *name, bool cascade);
extern void ds_do_create_database(const char *name, const char *source,
								  const char *schema_name, bool create_schema,
								  bool read_only, const char *description,
								  const char *local_schema);
extern void ds_do_alter_database(const char *name, const char *source,
								 const char *schema_name, int read_only,
								 const char *description);
extern void ds_do_drop_database(const char *name, bool drop_schema);
extern void ds_do_rename_database(const char *name, const char *new_name);

/* in config_doc.c: reading and checking a config document */
extern bool ds_config_has_section(Jsonb *config, const char *section);
extern List *ds_config_rows(Jsonb *config, const char *section);
extern char *ds_config_field(JsonbContainer *obj, const char *field);
extern char *ds_config_nonempty(JsonbContainer *obj, const char *field);
extern bool ds_config_bool(JsonbContainer *obj, const char *field, bool dflt);
extern bool ds_config_names(Jsonb *config, const char *section,
							const char *name);
extern void ds_config_check(Jsonb *config);

/* in mysql.c: the lifecycle of MySQL datasources and logical databases */
extern void ds_mysql_prepare_database(DsSource *src, const char *mysql_db,
									  const char *local_schema);
extern void ds_mysql_check_schema_free(const char *schema);
extern void ds_mysql_check_remap(const DsDatabase *db, const DsSource *from,
								 const DsSource *to);
extern void ds_mysql_drop_database(const DsDatabase *db, bool drop_schema);
extern void ds_mysql_check_server_change(const DsSource *src,
										 DsEngine new_engine, int ndatabases);
extern void ds_mysql_refuse_migration(const char *database);

/* in scan.c: one token of a text, where it starts and what it is */
typedef struct DsToken
{
	int			loc;
	int			tok;
} DsToken;

extern bool ds_long_run_n(const char *query, int len);
extern bool ds_long_candidate_n(const char *query, int len);
extern char *ds_identifier_too_long(const char *query);
extern DsToken *ds_scan_tokens(const char *text, int *ntokens);
extern int	ds_token_end(const char *text, DsToken *tokens, int ntokens,
						 int *i);
extern List *ds_scan_qualifiers(const char *sql, const char *script_schema);
extern int	ds_scan_params(const char *sql, int nparams, bool *used);
extern uint64 ds_scan_fingerprint(const char *text);
extern char *ds_scan_normalize(const char *text);

/* in parse.c */
extern List *ds_parse_capture(const char *text, RawParseMode mode,
							  MemoryContext cxt, ErrorData **error);

/* in sessionstate.c: why a statement would change the session it runs in */
typedef enum DsSessionRule
{
	DS_SESSION_NONE,			/* it does not */
	DS_SESSION_SETTING,			/* a setting for the rest of the session */
	DS_SESSION_MANAGED,			/* a setting routing sets per statement */
	DS_SESSION_STATE			/* other session state: cursors, LISTEN ... */
} DsSessionRule;

extern DsSessionRule ds_session_stmt(Node *stmt, char **what);
extern DsSessionRule ds_session_call(FuncCall *fc, char **what);
extern DsSessionRule ds_session_script(Node *stmt, char **what);
extern const char *ds_session_hint(DsSessionRule rule);

/* in validate.c */

/* a qualifier routing writes as a physical schema name */
typedef struct DsRewrite
{
	int			location;		/* where the qualified name starts, or -1 */
	bool		with_catalog;	/* a catalog part precedes the qualifier */
	char	   *schema;			/* what to write instead */
} DsRewrite;

typedef struct DsVerdict
{
	bool		valid;
	bool		read_only;
	char	   *datasource;		/* NULL when none or several */
	char	  **dbs;			/* logical databases touched */
	int			ndbs;
	char	  **rels;			/* "db.relation" */
	int			nrels;
	char	   *command;		/* command tag; NULL when not parsed */
	char	   *error;			/* why not valid */
	int			sqlerrcode;		/* and the SQLSTATE routing raises it with */
	char	   *not_ro;			/* why not read-only */
	bool		runs_sql;		/* calls a function that runs SQL given as text */
	List	   *rewrites;		/* DsRewrite *, in the order found */
	char	   *session;		/* why routing refuses it (sessionstate.c):
								 * "<tag> <what>", or NULL */
	DsSessionRule session_rule;	/* and which rule */
} DsVerdict;

extern void ds_validate(const char *query, const char *database,
						bool require_ro, DsVerdict *v);

/* in walk.c: the state of one walk over a raw parse tree */
typedef struct DsWalk
{
	const char *target_source;	/* datasource of the target database */
	DsDatabase *target;			/* the target logical database, or NULL */
	List	   *dbs;			/* DsDatabase *, touched */
	List	   *rels;			/* char *, "db.rel" */
	List	   *scopes;			/* List of List of char *: visible CTEs */
	List	   *funcs;			/* List *: FuncCall name lists */
	List	   *opers;			/* List *: operator name lists */
	char	   *error;			/* first reason the statement is invalid */
	int			sqlerrcode;		/* the SQLSTATE of error */
	char	   *not_ro;			/* first reason it is not read-only */
	bool		runs_sql;		/* a function that runs SQL given as text */
	List	   *rewrites;		/* DsRewrite *: qualifiers routing rewrites */
	List	   *qualifiers;		/* char *: every qualifier resolved, as
								 * written (script.c's target check) */
	bool		mixed_sources;	/* error: dbs are on several datasources */
	char	   *session;		/* first way it would change the session */
	DsSessionRule session_rule;	/* and the rule (sessionstate.c) */
} DsWalk;

/* what a qualifier resolved to */
typedef enum DsQual
{
	QUAL_NONE,					/* invalid: reason recorded */
	QUAL_DB,
	QUAL_SYSTEM
} DsQual;

extern void ds_walk_fail(DsWalk *w, int sqlerrcode, char *reason);
extern void ds_walk_not_ro(DsWalk *w, char *reason);
extern void ds_walk_session(DsWalk *w, DsSessionRule rule, char *what);
extern void ds_walk_touch(DsWalk *w, DsDatabase *db);
extern DsQual ds_resolve_qualifier(DsWalk *w, const char *catalog,
								   const char *schema, DsDatabase **dbp,
								   int location);
extern void ds_ref_relation(DsWalk *w, RangeVar *rv, bool ctes);
extern bool ds_qualified_name(DsWalk *w, List *names, int location);
extern void ds_walk_stmt(Node *stmt, DsWalk *w);

/* in walk_utility.c */
extern bool ds_walk_utility(Node *stmt, DsWalk *w);

/* in readonly.c */
typedef struct DsRoCtx
{
	DsDatabase *target;			/* the statement's target database, or NULL */
	const char *target_source;	/* its datasource */
	Oid			role;			/* the role names resolve for */
	const char *path;			/* the target's source and schema, and
								 * the search_path */
	uint32		path_hash;		/* hash of role and path */
} DsRoCtx;

/* the rules that make a statement not read-only, for their words */
typedef enum DsRoRule
{
	DS_RO_MODIFIES,				/* DML: "<tag> modifies data" */
	DS_RO_CTE_MODIFIES,			/* a WITH query that is not a SELECT */
	DS_RO_LOCKS,				/* FOR UPDATE/SHARE */
	DS_RO_SELECT_INTO,
	DS_RO_NOT_QUERY,			/* a utility statement: "<tag> is not a query" */
	DS_RO_DO,
	DS_RO_EXPLAIN_ANALYZE,
	DS_RO_EXPLAIN_WRITE,		/* EXPLAIN of DML */
	DS_RO_EXPLAIN_UTILITY		/* EXPLAIN of a utility statement */
} DsRoRule;

extern void ds_readonly_init(void);
extern char *ds_readonly_rule(DsRoRule rule, const char *name);
extern char *ds_readonly_select(SelectStmt *s);
extern char *ds_readonly_cte(CommonTableExpr *cte);
extern char *ds_readonly_query(Query *q);
extern char *ds_readonly_reason(DsRoCtx *w, char kind, List *names);
extern bool ds_readonly_runs_sql(List *names);
extern char *ds_readonly_func(Oid funcid);

/* in rewrite.c */
extern char *ds_rewrite(const char *text, List *rewrites);

/* in stmtcache.c */
extern void ds_stmt_cache_init(void);
extern bool ds_stmt_cache_get(const char *database, const char *sql,
							  bool require_ro, DsVerdict *v, char **text);
extern uint64 ds_stmt_cache_epoch(void);
extern void ds_stmt_cache_put(const char *database, const char *sql,
							  bool require_ro, const DsVerdict *v,
							  const char *text, uint64 epoch);

/* in sink.c: where routed rows go */
typedef enum DsSinkMode
{
	DS_SINK_RECORD,				/* tuples of the caller's row type, into store */
	DS_SINK_JSON,				/* one jsonb object per row, into store */
	DS_SINK_ARRAY,				/* one jsonb array of row objects: result */
	DS_SINK_NONE				/* rows are counted only */
} DsSinkMode;

typedef struct DsSink
{
	DsSinkMode	mode;
	/* set by the owner after ds_sink_init, as the mode needs */
	Tuplestorestate *store;		/* RECORD and JSON */
	TupleDesc	desc;			/* RECORD: the caller's row type; JSON: one
								 * jsonb column */
	int64		max_rows;		/* ARRAY: rows kept at most, -1 for no
								 * limit */
	/* set by ds_sink_start */
	bool		started;		/* columns known */
	int			ncols;
	char	  **names;			/* column names */
	Oid		   *types;			/* column types (remote: the remote's OIDs) */
	bool		local;			/* values come as Datums */
	bool		direct;			/* local Datums match the row type */
	FmgrInfo   *outfuncs;		/* local: output functions */
	AttInMetadata *attinmeta;
	MemoryContext cxt;			/* where the sink was started */
	MemoryContext rowcxt;		/* reset per row */
	/* what came */
	int64		rows;			/* rows kept */
	bool		truncated;		/* a row past max_rows was seen */
	Jsonb	  **objects;		/* ARRAY: the row objects, until ds_sink_end */
	int64		objects_size;
	Jsonb	   *result;			/* ARRAY: set by ds_sink_end */
} DsSink;

extern void ds_sink_init(DsSink *s, DsSinkMode mode);
extern void ds_sink_start(DsSink *s, int ncols, char **names, Oid *types,
						  bool local);
extern void ds_sink_row(DsSink *s, Datum *values, bool *nulls, char **texts);
extern void ds_sink_end(DsSink *s);

/* in subxact.c */
extern ErrorData *ds_in_subxact(void (*fn) (void *), void *arg);

/* in local.c */
extern char *ds_local_run(const char *sql, const char *schema,
						  const char *command, int nparams, char **params,
						  bool read_only, DsSink *r);

/* in checksum.c: sha256 as hex digits (64 and a terminator in out) */
#define DS_SHA256_HEX_LEN 64
#define DS_CHECKSUM_LEN		DS_SHA256_HEX_LEN

extern void ds_sha256_hex(const char *data, size_t len, const char *more,
						  char *out);
extern void ds_script_checksum(const char *text, char *out);
extern void ds_check_checksum(const char *checksum);

/* in script.c */

/* one statement of a script */
typedef struct DsScriptStmt
{
	char	   *sql;			/* its text */
	List	   *qualifiers;		/* offsets of script_schema qualifiers */
	List	   *names;			/* char *: the schema names it qualifies
								 * with or names, script_schema left out */
	/* a DO body that names script_schema, rewritten with the rest */
	int			body_start;		/* where its string starts in sql, or -1 */
	int			body_end;		/* just past the string */
	char	   *body;			/* the body's text */
	List	   *body_qualifiers;	/* offsets of script_schema in body */
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
	ErrorData  *refused;		/* the first statement's refusal, raised
								 * when the version is to run; or NULL */
} DsScript;

extern DsScript *ds_script_arg(const char *script, const char *script_schema);
extern char *ds_statement_for(DsScript *s, int i, const char *schema);
extern void ds_script_check_target(DsScript *s, const DsDatabase *target,
								   int *current);

/* in migrate.c */

/* the rows of a migrate_all call, journaled at its end (journal.c) */
typedef struct DsJournalBatch DsJournalBatch;

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
	ErrorData  *edata;			/* the error that failed it (its SQLSTATE,
								 * DETAIL and HINT), or NULL */
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
	bool		dry_run;		/* judge only: run and journal nothing */
	bool		out_of_order;	/* skip the order rule (order.c) */
	bool		manifest;		/* a manifest gives the order (order.c) */
	char	  **earlier;		/* with a manifest: the versions before this
								 * one in it, nearlier of them */
	int			nearlier;
} DsMigration;

/* the migration running locally, for ddl_log.c */
extern const char *ds_migration_version;
extern const char *ds_migration_statement;

extern void ds_check_version(const char *version);
extern void ds_check_writable_xact(void);
extern void ds_lock_database(DsMigration *m);
extern void ds_migration_lock_tag(LOCKTAG *tag, const char *database);
extern void ds_migrate_database(DsMigration *m);
extern bool ds_is_connection_error(ErrorData *edata);
extern void ds_script_done(DsMigration *m, ErrorData *edata);
extern const char *ds_lost_remote(void);
extern HeapTuple ds_result_tuple(TupleDesc desc, const char *database,
								 const char *version, const char *status,
								 const char *checksum, double elapsed,
								 const char *error, const DsMigration *m);

/* in fleet.c */
/* where a fleet function's arguments are (-1: it has no such argument) */
typedef struct DsFleetArgs
{
	int			version;
	int			script;
	int			databases;
	int			description;
	int			script_schema;
	int			dry_run;
	int			max_failures;
	int			raise_on_failure;
	int			out_of_order;
	int			canary;
	int			manifest;
} DsFleetArgs;

/* what a fleet call was asked and what it has done so far */
typedef struct DsFleetRun
{
	const char *what;			/* "migrate_all" or "migrate_waves" */
	/* what is applied */
	char	   *version;
	DsScript   *script;
	char	   *description;
	const char *role;
	bool		manifest;		/* a manifest gives the order */
	char	  **earlier;		/* the versions before this one in it */
	int			nearlier;
	/* the options */
	bool		dry_run;
	int			max_failures;	/* 0: no limit */
	bool		raise_on_failure;
	bool		out_of_order;
	/* the targets, the canaries first */
	List	   *targets;
	int			ntargets;
	int			ncanary;
	/* the progress */
	int			wave;			/* the wave running; -1 in migrate_all */
	int			committed;		/* waves committed */
	int			done;			/* databases looked at, this one included */
	int			applied;
	int			applied_committed;	/* of them, in committed waves */
	int			already;
	int			failures;		/* failed, or refused in a dry run */
	int			not_attempted;
	char	   *canary_failed;	/* the first canary that failed, or NULL */
	/* the first failure, for raise_on_failure and the NOTICEs */
	int			first_code;
	char	   *first_database;
	char	   *first_error;
	StringInfoData failed_names;	/* the first ten */
	TimestampTz last_notice;
	/* where the results go */
	DsJournalBatch *batch;		/* the journal rows of this transaction */
	Tuplestorestate *store;		/* migrate_all's rows; NULL in waves */
	TupleDesc	desc;
	MemoryContext cxt;			/* where the above live */
	MemoryContext percxt;		/* reset after each database */
	/* in a worker of fleetpar.c: called with each database's outcome */
	void		(*report) (struct DsFleetRun *run, DsMigration *m, int code);
	void	   *report_arg;
} DsFleetRun;

extern void ds_fleet_prepare(FunctionCallInfo fcinfo, const DsFleetArgs *a,
							 DsFleetRun *run, const char *what, bool sort);
extern void ds_fleet_loop(DsFleetRun *run, int from, int count);
extern void ds_fleet_database(DsFleetRun *run, char *name);
extern void ds_fleet_tally(DsFleetRun *run, const char *database,
						   const char *status, int code, const char *error);
extern void ds_fleet_notice(DsFleetRun *run, const char *database,
							const char *status);
extern void ds_fleet_flush(DsFleetRun *run);

/* in fleetpar.c: the most workers one wave of migrate_waves asks for */
#define DS_FLEETPAR_MAX 32
extern bool ds_fleetpar_wave(DsFleetRun *run, int from, int count,
							 int parallel, int per_source);
extern PGDLLEXPORT void ds_fleetpar_main(Datum arg);

/* in progress.c */
extern void ds_progress_init(void);
extern void ds_progress_start(const char *version, int total);
extern void ds_progress_at(const char *current, int done, int applied,
						   int failed);
extern void ds_progress_end(void);

/* in stats.c: statistics of routed calls and of datasources */
#define DS_STATS_BUCKETS		48	/* latency histogram buckets */
#define DS_STATS_BUCKET_BASE_MS 0.01	/* the first bucket's bound */
#define DS_STATS_CLASSES		8	/* SQLSTATE classes counted apart */

/* the phases of a routed call, in the order it goes through them */
typedef enum DsStatsPhase
{
	DS_PHASE_VALIDATE,			/* validation and rewriting */
	DS_PHASE_CONNECT,			/* getting the remote connection */
	DS_PHASE_REMOTE,			/* remote execution, to its first result */
	DS_PHASE_TRANSFER,			/* the rest of the remote's results */
	DS_PHASE_LOCAL,				/* local execution (SPI) */
	DS_NPHASES
} DsStatsPhase;

/* a routed call being timed, on its caller's stack */
typedef struct DsStatsCall
{
	struct DsStatsCall *outer;	/* the call it runs in, or NULL */
	bool		active;			/* statistics are kept */
	DsStatsPhase phase;
	instr_time	start;
	instr_time	last;			/* the last phase mark */
	double		phase_ms[DS_NPHASES];
	bool		cache_hit;		/* its verdict came from stmtcache.c */
	bool		prepared_hit;	/* the remote had it prepared */
	char		database[NAMEDATALEN];	/* empty until known */
	bool		has_fp;			/* the statement passed validation */
	uint64		fp;				/* its fingerprint (stats_statements.c) */
	const char *sql;			/* its text, before rewriting */
} DsStatsCall;

/* what a statistics entry counts */
typedef enum DsStatsKind
{
	DS_STATS_DATABASE,			/* routed calls of a logical database */
	DS_STATS_SOURCE,			/* connections and transactions of a datasource */
	DS_STATS_NKINDS
} DsStatsKind;

/* the key of an entry */
typedef struct DsStatsKey
{
	Oid			dbid;			/* the control plane database */
	char		name[NAMEDATALEN];	/* empty: the overflow entry */
} DsStatsKey;

/* the counters of a logical database */
typedef struct DsDbCounters
{
	int64		calls;
	int64		rows;
	int64		errors;
	double		total_ms;
	double		min_ms;
	double		max_ms;
	double		mean_ms;
	double		sum_var;		/* for the standard deviation (Welford) */
	double		phase_ms[DS_NPHASES];
	int64		cache_hits;
	int64		prepared_hits;
	int64		histogram[DS_STATS_BUCKETS];
	int			error_class[DS_STATS_CLASSES];	/* ERRCODE_TO_CATEGORY */
	int64		error_count[DS_STATS_CLASSES];
	int64		errors_other;	/* of further classes */
	int64		migrations_applied; /* scripts of migrate and migrate_all */
	int64		migrations_failed;
	double		migration_ms;	/* their time */
} DsDbCounters;

/* what happens to a datasource's connections and transactions */
typedef enum DsSourceEvent
{
	DS_SRC_CONNECT,				/* a connection was made */
	DS_SRC_RECONNECT,			/* ... where this role had one before */
	DS_SRC_FAIL_FAILED,			/* libpq failed: refused, unknown host ... */
	DS_SRC_FAIL_AUTH,			/* the server asked for a password: refused */
	DS_SRC_FAIL_TIMEOUT,		/* datasource.connect_timeout passed */
	DS_SRC_FAIL_PASSWORD,		/* our rule: a non-superuser needs one */
	DS_SRC_FAIL_INTERRUPTED,	/* a cancel or statement_timeout */
	DS_SRC_FAIL_OTHER,
	DS_SRC_XACT,				/* a remote transaction was opened */
	DS_SRC_COMMIT,
	DS_SRC_ROLLBACK,
	DS_SRC_IN_DOUBT,			/* its outcome is unknown (08007, 2PC) */
	DS_SRC_HEALTH_OK,
	DS_SRC_HEALTH_FAIL,
	DS_SRC_NEVENTS
} DsSourceEvent;

/* the counters of a datasource */
typedef struct DsSourceCounters
{
	int64		events[DS_SRC_NEVENTS];
	double		health_total_ms;	/* of the healthy checks */
	double		health_max_ms;
	double		health_last_ms;
	TimestampTz health_last_at; /* 0: never checked */
} DsSourceCounters;

/* a copy of an entry, for the views */
typedef struct DsStatsRow
{
	char		name[NAMEDATALEN];
	TimestampTz since;			/* created or reset */
	union
	{
		DsDbCounters db;
		DsSourceCounters src;
	}			c;
} DsStatsRow;

extern void ds_stats_init(void);
extern void ds_stats_available(void);
extern void ds_stats_begin(DsStatsCall *call);
extern void ds_stats_target(const char *name);
extern void ds_stats_phase(DsStatsPhase phase);
extern void ds_stats_prepared_hit(void);
extern void ds_stats_end(DsStatsCall *call, int sqlerrcode, int64 rows);
extern double ds_stats_bucket_bound(int i);
extern void ds_stats_forget(DsStatsKind kind, const char *name,
							const char *new_name);
extern int	ds_stats_reset(DsStatsKind kind, const char *name);
extern void ds_stats_source_event(const char *source, DsSourceEvent ev,
								  double ms);
extern void ds_stats_connect_failed(const char *source, PGconn *conn,
									int sqlerrcode);
extern DsStatsRow *ds_stats_snapshot(DsStatsKind kind, int *n);
extern void ds_stats_statement(const char *sql);
extern void ds_stats_migration(const char *name, bool applied, double ms);

/* in stats_statements.c: statements within each logical database */
#define DS_STMT_QUERY_LEN	256	/* the bytes of a statement's text kept */

typedef struct DsStmtCounters
{
	int64		calls;
	int64		errors;
	int64		rows;
	double		total_ms;
	double		min_ms;
	double		max_ms;
	double		mean_ms;
	double		sum_var;
	TimestampTz since;			/* the entry was made */
	Oid			roleid;			/* the role of its first call */
	char		query[DS_STMT_QUERY_LEN];	/* the text of its first call */
} DsStmtCounters;

/* a copy of an entry, for the view */
typedef struct DsStmtRow
{
	uint64		fp;
	char		name[NAMEDATALEN];
	DsStmtCounters c;
} DsStmtRow;

extern Size ds_stmt_shmem_request(void);
extern void ds_stmt_shmem_init(void);
extern uint64 ds_stmt_fingerprint(const char *sql);
extern void ds_stmt_count(uint64 fp, const char *sql, const char *name,
						  pg_atomic_uint32 *nstmts, double total,
						  int sqlerrcode, int64 rows);
extern void ds_stmt_forget(const char *name, const char *new_name,
						   pg_atomic_uint32 *new_nstmts);
extern DsStmtRow *ds_stmt_snapshot(int *n);

/* in order.c */
extern const char *ds_earlier_failure(DsMigration *m);
extern void ds_check_order(DsMigration *m);

/* in pending.c: one version of a manifest (pending()'s, migrate_all's) */
typedef struct DsManifestEntry
{
	char	   *version;
	char	   *checksum;		/* NULL when the manifest gives none */
} DsManifestEntry;

extern DsManifestEntry *ds_read_manifest(Jsonb *manifest, int *n);

/* in journal.c */

/* the statuses that make a version applied, as a SQL array literal */
#define DS_APPLIED_STATUSES "ARRAY['applied', 'baseline', 'adopted', 'checksum_accepted']"

/* what ds_journal_find (journal.c) returns for the row it stopped at */
typedef struct DsJournalRow
{
	ItemPointerData tid;		/* where the row is */
	int64		id;
	char	   *checksum;		/* NULL when SQL null */
} DsJournalRow;

extern int	ds_journal_sql(const char *sql, int nargs, const char **args);
extern void ds_record_snapshot(DsMigration *m);
extern DsDatabase *ds_lock_registry_row(const char *name);
extern bool ds_applied_state(DsMigration *m, const char *version,
							 char **checksum);
extern bool ds_find_adopted(DsMigration *m, DsJournalRow *found);
extern bool ds_journal_adopted(const char *database, const char *hash);
extern bool ds_journal_history(const char *name, char **datasource,
							   char **schema_name);
extern void ds_journal_rename(const char *name, const char *new_name);
extern int	ds_journal_exec(const char *sql, int nargs, Oid *types,
							Datum *values, const char *nulls);
extern char *ds_server_address(DsSource *src);

/* in journal_batch.c */
extern void ds_journal_insert(DsMigration *m, const char *status,
							  TimestampTz started,
							  const char *previous_checksum,
							  const char *sqlstate, int failed_statement);
extern DsJournalBatch *ds_batch_create(MemoryContext cxt);
extern void ds_journal_flush(DsJournalBatch *b, DsMigration *m);

/* in describe_query.c: the rows of the describe query */

/* the sections of a description, in the order of the describe query's rows */
#define DS_SEC_SCHEMA		0	/* the schema exists */
#define DS_SEC_TABLES		1
#define DS_SEC_VIEWS		2
#define DS_SEC_SEQUENCES	3
#define DS_SEC_TYPES		4
#define DS_SEC_FUNCTIONS	5
#define DS_SEC_COLLATIONS	6
#define DS_SEC_COUNT		7

/* the parts of a table or type */
#define DS_PART_SELF		0	/* its own keys */
#define DS_PART_COLUMNS		1	/* columns, or attributes: an array */
#define DS_PART_CONSTRAINTS	2	/* objects keyed by name */
#define DS_PART_INDEXES		3
#define DS_PART_COUNT		4

/*
 * The columns of the describe query's rows.  A row is one object (a table,
 * view, type ...) with its keys in doc, or one part of a table or type (a
 * column, constraint, index or attribute: there are many of them, and typed
 * columns cost less than a jsonb each) with its keys in the fields t1..j2
 * that describe.c's ds_part_fields names.
 */
typedef enum DsDescCol
{
	DS_COL_SEC,					/* DS_SEC_* */
	DS_COL_GRP,					/* the table or type the row belongs to */
	DS_COL_PART,				/* DS_PART_* */
	DS_COL_POS,					/* a column's number */
	DS_COL_NAME,
	DS_COL_DOC,
	DS_COL_T1,					/* text fields */
	DS_COL_T2,
	DS_COL_T3,
	DS_COL_T4,
	DS_COL_T5,
	DS_COL_T6,
	DS_COL_B1,					/* boolean fields */
	DS_COL_B2,
	DS_COL_J1,					/* jsonb fields */
	DS_COL_J2,
	DS_COL_COUNT
} DsDescCol;

/* the rows of a description, each an object or a part of one */
typedef struct DsDescRow
{
	int			sec;			/* DS_SEC_* */
	int			part;			/* DS_PART_* */
	Oid			grp;			/* the object the row belongs to */
	int			pos;			/* a column's number */
	const char *name;			/* not terminated */
	int			namelen;
	HeapTuple	tuple;			/* local: the row */
	JsonbContainer *object;		/* remote: the row as a jsonb object */
	int			schema;			/* of many schemas: the index of its own */
} DsDescRow;

/* the rows of one run of the query */
typedef struct DsDescRows
{
	DsDescRow  *rows;
	int			n;
	TupleDesc	desc;			/* local */
} DsDescRows;

extern void ds_describe_local_rows(const char *schema, DsDescRows *set);
extern void ds_describe_remote_rows(DsSource *src, const char *schema,
									DsDescRows *set);
extern void ds_describe_many_rows(DsSource *src, const char *const *schemas,
								  int n, DsDescRows *set);
extern void ds_desc_row_value(DsDescRows *set, DsDescRow *row, DsDescCol col,
							  JsonbValue *v);
extern JsonbValue *ds_json_get(JsonbContainer *obj, const char *key);

/* in describe.c */
extern void ds_describe_db(DsDatabase *db, DsSource *src, Jsonb **described,
						   Jsonb **canonical);
extern void ds_describe_many(DsSource *src, const char *const *schemas, int n,
							 Jsonb **described, Jsonb **canonical);
extern Datum ds_describe(const char *database);

/* in fingerprint.c */
extern char *ds_snapshot(DsDatabase *db, DsSource *src, Datum *description);
extern void ds_snapshot_many(DsSource *src, const char *const *schemas, int n,
							 char **fingerprints, Datum *descriptions);

/* in hooks.c */
extern void ds_hooks_init(void);

/* in mysql_write.c: the write rule of MySQL datasources */
extern bool ds_mysql_write_target(const RangeTblEntry *rte);
extern void ds_mysql_check_write(Oid relid, const char *command);
extern SubTransactionId ds_mysql_statement_subxact(SubTransactionId subxact);

/* in enforce.c: the sandbox's gates */
extern void ds_enforce_init(void);
extern char *ds_gate_statement_text(void);
extern void ds_gate_ddl_object(CommandTag tag, const char *object_type,
							   const char *schema, const char *identity);

/* in connection.c: cached connections and remote transactions */
typedef struct DsConnKey
{
	Oid			serverid;
	Oid			userid;
} DsConnKey;

/* a cached connection: one per foreign server and local role */
/* pgds_<system id>_<database oid>_<full xid>_<n>, with room to spare */
#define DS_GID_LEN 96

typedef struct DsConn
{
	DsConnKey	key;
	PGconn	   *conn;			/* NULL when closed */
	char		source[NAMEDATALEN];	/* datasource name, for messages */
	char		server[NAMEDATALEN];
	int			xact_depth;		/* 0: no remote transaction; else the local
								 * nest level it covers */
	int			release_level;	/* > 0: RELEASE SAVEPOINT s<n> still due */
	bool		busy;			/* results of a query are still coming */
	bool		broken;			/* remote transaction state unknown */
	bool		invalidated;	/* server or mapping changed: close when idle */
	bool		public_mapping; /* connected through a PUBLIC mapping */
	bool		path_known;		/* path is the remote's search_path */
	bool		ro_session;		/* default_transaction_read_only is on */
	bool		per_statement;	/* behind a pooler: every statement carries
								 * its settings (pooler.c) */
	int			remote_pid;		/* pid of the session that answered at
								 * connect (identity.c) */
	uint64		sysid;			/* the remote's system identifier; 0:
								 * unknown, or a standby (identity.c) */
	char		dbname[NAMEDATALEN];	/* the remote's current_database() */
	char		path[2 * NAMEDATALEN + 3];
	uint32		server_hash;
	uint32		mapping_hash;
	TimestampTz connected_at;
	int64		calls;
	uint64		session;		/* counts the connections made: what is kept
								 * per remote session belongs to one */
	struct WaitEventSet *waitset;	/* latch, postmaster death and the
									 * socket: made once per connection */
	struct DsStatements *statements;	/* its prepared statements
										 * (remoteprep.c) */
	char		gid[DS_GID_LEN];	/* non-empty: the remote transaction is
									 * prepared under this gid (commit.c) */
	bool		resolve_due;	/* a prepared transaction of ours may be left
								 * there: resolve at the next connection */
} DsConn;

extern void ds_connection_init(void);
extern DsConn *ds_conn_get(DsSource *source);
extern void ds_conn_close(DsConn *entry);
extern List *ds_conn_xact_enter(DsConn *entry, bool *opened);
extern char *ds_conn_lexer_command(DsConn *entry);
extern void ds_remote_connections(Tuplestorestate *store, TupleDesc desc);
extern int	ds_remote_disconnect(const char *server);
extern void ds_remote_forget_path(const char *server);
extern DsConn **ds_conn_participants(bool prepared, int *n);

/* in abort.c: a remote when the local (sub)transaction aborts */
extern bool ds_abort_cleanup(DsConn *entry, bool toplevel);

/* in commit.c: committing across datasources */
extern bool ds_conn_alive(DsConn *entry);
extern void ds_commit_remotes(DsConn **parts, int n);
extern void ds_commit_prepared(DsConn **parts, int n);
extern void ds_commit_abort(DsConn *entry);
extern void ds_commit_connected(DsConn *entry);
extern void ds_commit_resolve(DsConn *entry, Tuplestorestate *store,
							  TupleDesc desc);
extern bool ds_commit_resolving;

/* in identity.c: which database a connection reaches */
extern void ds_identity_fetch(DsConn *entry);
extern bool ds_identity_same(const DsConn *a, const DsConn *b);
extern void ds_identity_refuse(const char *source, const DsConn *entry,
							   const DsConn *other);

/* in pooler.c: connections behind a pooler in transaction mode */
typedef enum DsPooler
{
	DS_POOLER_AUTO,				/* detected at connect */
	DS_POOLER_TRANSACTION,		/* every statement carries its settings */
	DS_POOLER_NONE				/* the connection is exclusively ours */
} DsPooler;

extern DsPooler ds_pooler_parse(const char *value);
extern DsPooler ds_pooler_option(List *options);
extern void ds_pooler_decide(DsConn *entry, List *server_options);
extern char *ds_pooler_command(bool with_path, bool read_only);

/* in remoteio.c: waiting on a remote connection */
extern bool ds_conn_consume(DsConn *entry);
extern bool ds_conn_wait(PGconn *conn, TimestampTz deadline, bool serve);
extern PGresult *ds_next_result(DsConn *entry);
extern bool ds_cancel(DsConn *entry);
extern PGresult *ds_read_last(DsConn *entry, TimestampTz deadline);
extern void ds_exec_or_error(DsConn *entry, const char *sql);
extern void ds_exec_commit(DsConn *entry, const char *sql);
extern void ds_report_remote_error(int elevel, PGresult *res, PGconn *conn,
								   const char *source, const char *sql);

/* in remote.c: statements on a remote datasource */
extern void ds_remote_command(DsSource *source, const char *sql);
extern bool ds_remote_schema_exists(DsSource *source, const char *schema);
extern char *ds_remote_run(DsSource *source, const char *sql,
						   const char *schema, int nparams, char **params,
						   bool read_only, DsSink *r);
extern char *ds_remote_route(DsSource *source, const char *sql,
							 const char *schema, int nparams, char **params,
							 bool read_only, bool prepare, DsSink *r);
extern void ds_remote_probe(DsSource *source, char **version,
							int *in_recovery);

/* in remoteprep.c: statements kept prepared on a remote connection */
#define DS_PREPARED_NAME(buf, id) snprintf((buf), sizeof(buf), "pgds_%d", (id))
extern int	ds_prepared_use(DsConn *entry, const char *path, const char *sql,
							int nparams, bool prepare, bool in_xact,
							bool *prepare_now);
extern List *ds_prepared_take_deallocs(DsConn *entry);
extern void ds_prepared_keep_deallocs(DsConn *entry, List *ids);
extern void ds_prepared_drop(DsConn *entry, int id);
extern bool ds_prepared_failed(DsConn *entry, int id, const PGresult *error);
extern void ds_prepared_status(DsConn *entry, const char *status);

/* in params.c */
extern void ds_params_check(const char *sql, int nparams);
extern bool *ds_params_used(const char *sql, int nparams);

/* in mysql_probe.c: reading a MySQL server's tables through mysql_fdw */
extern List *ds_mysql_probe(DsSource *src, const char *dbname,
							const char *table, const char *coldefs,
							const char *select_sql, int ncols);
extern bool ds_mysql_database_exists(DsSource *src, const char *mysql_db);

/* in mysql_health.c: health_check's probe, reconnecting, zero dates */
extern void ds_mysql_health_probe(DsSource *src, char **version,
								  int *in_recovery);
extern char *ds_mysql_local_run(DsDatabase *db, const char *sql,
								const char *schema, const char *command,
								int nparams, char **params, bool read_only,
								DsSink *r);

/* in mysql_watch.c: interrupts reach a wait on a MySQL server */
extern void ds_mysql_watch_init(void);

/* in mysql_import.c: the foreign tables of a MySQL logical database */
typedef struct DsMysqlChange
{
	char	   *change;			/* added, dropped, retyped, altered, skipped */
	char	   *object_type;	/* table, column */
	char	   *object_name;	/* table or table.column */
	char	   *detail;
} DsMysqlChange;

extern List *ds_mysql_import(DsSource *src, DsDatabase *db, bool dry_run);

#endif							/* PG_DATASOURCE_H */
