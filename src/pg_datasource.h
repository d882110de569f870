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
#include "foreign/foreign.h"
#include "funcapi.h"
#include "utils/tuplestore.h"
#include "libpq-fe.h"
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

/* what a name is, for the name rules and their messages */
typedef enum DsNameKind
{
	DS_NAME_SOURCE,
	DS_NAME_DATABASE,
	DS_NAME_SCHEMA,
	DS_NAME_SERVER
} DsNameKind;

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

/* in catalog.c */
extern void ds_check_name(DsNameKind kind, const char *name);
extern const char *ds_name_kind_label(DsNameKind kind);
extern void ds_lock_registry(void);
extern int	ds_spi_connect(void);
extern void ds_spi_finish(int guc_level);
extern DsSource *ds_get_source(const char *name, bool missing_ok);
extern DsDatabase *ds_get_database(const char *name, bool missing_ok);
extern List *ds_list_sources(void);
extern List *ds_list_databases(void);
extern DsDatabase *ds_database_by_schema(const char *source, const char *schema);
extern DsSource *ds_source_by_server(const char *server);
extern ForeignServer *ds_lookup_server(const char *server);
extern Oid	ds_table_owner(const char *relname, bool missing_ok);
extern void ds_catalog_write(const char *sql, int nargs, Oid *argtypes,
							 Datum *values, const char *nulls);
extern void ds_cache_init(void);
extern bool ds_cache_ensure(void);
extern DsDatabase *ds_cache_database(const char *name, DsSource **source);
extern int	ds_cache_schema(const char *schema, const char *prefer,
							DsDatabase **db, DsSource **source);
extern DsSource *ds_cache_source(const char *name);
extern DsDatabase *ds_cache_database_copy(const char *name, DsSource **source);
extern DsDatabase *ds_cache_local_schema(const char *schema, DsSource **source);
extern uint64 ds_cache_generation(void);
extern Datum ds_registry_row(const char *table, const char *name);
extern void ds_run_sql_as_caller(const char *sql);
extern Datum ds_run_query(const char *sql, int nargs, Oid *argtypes,
						  Datum *values, const char *nulls, bool *isnull);

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

/* in config.c */
extern Datum ds_export_config_datum(void);

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
extern bool ds_long_candidate_n(const char *query, int len);

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

extern void ds_readonly_init(void);
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

/* in fdw.c */
extern bool ds_is_server_option(const char *keyword);

/* in connection.c: cached connections and remote transactions */
typedef struct DsConnKey
{
	Oid			serverid;
	Oid			userid;
} DsConnKey;

/* a cached connection: one per foreign server and local role */
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
} DsConn;

extern void ds_connection_init(void);
extern DsConn *ds_conn_get(DsSource *source);
extern void ds_conn_close(DsConn *entry);
extern List *ds_conn_xact_enter(DsConn *entry, bool *opened);
extern void ds_remote_connections(Tuplestorestate *store, TupleDesc desc);
extern int	ds_remote_disconnect(const char *server);
extern void ds_remote_forget_path(const char *server);

/* in remoteio.c: waiting on a remote connection */
extern bool ds_conn_consume(DsConn *entry);
extern PGresult *ds_next_result(DsConn *entry);
extern void ds_cancel(DsConn *entry);
extern void ds_exec_or_error(DsConn *entry, const char *sql);
extern void ds_report_remote_error(int elevel, PGresult *res, PGconn *conn,
								   const char *source, const char *sql);

/* in remote.c: statements on a remote datasource */
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

#endif							/* PG_DATASOURCE_H */
