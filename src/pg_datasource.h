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

#include "executor/spi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "utils/tuplestore.h"
#include "libpq-fe.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"

/* the name of the datasource that is this database itself */
#define DS_LOCAL_SOURCE		"local"

/* the extension's own schema and wrapper */
#define DS_SCHEMA			"datasource"
#define DS_WRAPPER			"pg_datasource"

/* a row of datasource.sources, palloc'd in the caller's context */
typedef struct DsSource
{
	char	   *name;
	char	   *server;			/* NULL for local */
	bool		enabled;
	bool		read_only;
	char	   *description;
} DsSource;

/* a row of datasource.databases, palloc'd in the caller's context */
typedef struct DsDatabase
{
	char	   *name;
	char	   *source;
	char	   *schema_name;
	bool		read_only;
	char	   *description;
} DsDatabase;

/* in guc.c */
typedef enum DsEnforce
{
	DS_ENFORCE_OFF,
	DS_ENFORCE_WARN,
	DS_ENFORCE_ERROR
} DsEnforce;

extern int	ds_connect_timeout;
extern int	ds_remote_prepared_max;
extern int	ds_enforce;
extern char *ds_allowed_databases;
extern bool ds_enforce_read_only;
extern int	ds_migration_lock_timeout;
extern bool ds_ddl_log;
extern bool ds_migration_snapshot;
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

/* in spi.c */
extern int	ds_spi_connect(void);
extern void ds_spi_finish(int guc_level);
extern Oid	ds_extension_relid(const char *relname);
extern Oid	ds_table_owner(const char *relname, bool missing_ok);
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
extern void ds_catalog_write(const char *sql, int nargs, Oid *argtypes,
							 Datum *values, const char *nulls);
extern Datum ds_registry_row(const char *table, const char *name);

/* in regcache.c */
extern void ds_cache_init(void);
extern bool ds_cache_ensure(void);
extern DsDatabase *ds_cache_database(const char *name, DsSource **source);
extern int	ds_cache_schema(const char *schema, const char *prefer,
							DsDatabase **db, DsSource **source);
extern DsSource *ds_cache_source(const char *name);
extern DsDatabase *ds_cache_database_copy(const char *name, DsSource **source);
extern DsDatabase *ds_cache_local_schema(const char *schema, DsSource **source);
extern uint64 ds_cache_generation(void);

/* in policy.c */
extern bool ds_source_usable(const DsSource *src, const DsDatabase *db,
							 const char *writes, int elevel, char **reason,
							 int *sqlerrcode);
extern char *ds_sources_differ(List *dbs);

/* in registry.c: the same operations the SQL functions run, for apply_config */
extern void ds_do_create_source(const char *name, const char *server,
								bool read_only, const char *description);
extern void ds_do_alter_source(const char *name, const char *server,
							   int read_only, int enabled,
							   const char *description);
extern void ds_do_drop_source(const char *name, bool cascade);
extern void ds_do_create_database(const char *name, const char *source,
								  const char *schema_name, bool create_schema,
								  bool read_only, const char *description);
extern void ds_do_alter_database(const char *name, const char *source,
								 const char *schema_name, int read_only,
								 const char *description);
extern void ds_do_drop_database(const char *name, bool drop_schema);

/* in scan.c: one token of a text, where it starts and what it is */
typedef struct DsToken
{
	int			loc;
	int			tok;
} DsToken;

extern bool ds_long_candidate_n(const char *query, int len);
extern char *ds_identifier_too_long(const char *query);
extern DsToken *ds_scan_tokens(const char *text, int *ntokens);
extern int	ds_token_end(const char *text, DsToken *tokens, int ntokens,
						 int *i);
extern List *ds_scan_qualifiers(const char *sql, const char *script_schema);
extern List *ds_parse_capture(const char *query, MemoryContext cxt,
							  ErrorData **edata);

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
	List	   *rewrites;		/* DsRewrite *, in the order found */
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
	List	   *rewrites;		/* DsRewrite *: qualifiers routing rewrites */
	bool		mixed_sources;	/* error: dbs are on several datasources */
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

/* in route.c: where routed rows go */
typedef enum DsResultMode
{
	DS_RESULT_RECORD,			/* tuples of the caller's row type */
	DS_RESULT_JSON,				/* one jsonb object per row */
	DS_RESULT_ARRAY,			/* one jsonb array of row objects */
	DS_RESULT_NONE				/* rows are counted only */
} DsResultMode;

typedef struct DsResult
{
	DsResultMode mode;
	bool		started;		/* columns known */
	int			ncols;
	char	  **names;			/* column names */
	Oid		   *types;			/* column types (remote: the remote's OIDs) */
	bool		local;			/* values come as Datums */
	bool		direct;			/* local Datums match the row type */
	FmgrInfo   *outfuncs;		/* local: output functions */
	Oid		   *outioparams;
	Tuplestorestate *store;		/* RECORD and JSON */
	TupleDesc	desc;			/* RECORD: the caller's row type */
	AttInMetadata *attinmeta;
	StringInfoData array;		/* ARRAY: the text being built */
	int64		rows;			/* rows kept */
	int64		max_rows;		/* ARRAY: -1 for no limit */
	bool		truncated;		/* a row past max_rows was seen */
	MemoryContext rowcxt;		/* reset per row */
} DsResult;

extern void ds_result_start(DsResult *r, int ncols, char **names, Oid *types,
							bool local);
extern void ds_result_row(DsResult *r, Datum *values, bool *nulls,
						  char **texts);
extern ErrorData *ds_in_subxact(void (*fn) (void *), void *arg);

/* in local.c */
extern char *ds_local_run(const char *sql, const char *schema,
						  const char *command, int nparams, char **params,
						  bool read_only, DsResult *r);

/* in migrate.c: sha256 as hex digits (64 and a terminator in out) */
#define DS_SHA256_HEX_LEN 64
extern void ds_sha256_hex(const char *data, size_t len, const char *more,
						  char *out);

/* in migrate.c: the migration running locally, for ddl_log.c */
extern const char *ds_migration_version;
extern const char *ds_migration_statement;

/* in introspect.c */
extern Datum ds_describe(const char *database);
extern char *ds_snapshot(DsDatabase *db, DsSource *src, Datum *description);

/* in hooks.c */
extern void ds_hooks_init(void);

/* in connection.c */
extern void ds_connection_init(void);
extern void ds_remote_command(DsSource *source, const char *sql);
extern bool ds_remote_schema_exists(DsSource *source, const char *schema);
extern char *ds_remote_run(DsSource *source, const char *sql,
						   const char *schema, int nparams, char **params,
						   bool read_only, DsResult *r);
extern char *ds_remote_route(DsSource *source, const char *sql,
							 const char *schema, int nparams, char **params,
							 bool read_only, bool prepare, DsResult *r);
extern void ds_remote_probe(DsSource *source, char **version,
							int *in_recovery);
extern void ds_remote_connections(Tuplestorestate *store, TupleDesc desc);
extern int	ds_remote_disconnect(const char *server);
extern void ds_remote_forget_path(const char *server);

#endif							/* PG_DATASOURCE_H */
