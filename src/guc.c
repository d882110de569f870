/*-------------------------------------------------------------------------
 *
 * guc.c
 *		  The settings of pg_datasource.
 *
 * Every setting lives under the reserved prefix "datasource." and is
 * defined with the most restrictive context that still lets users do their
 * work.  The variables are plain globals read by the other files.
 *
 * Memory: string settings are kept by the GUC machinery; the check hook
 * allocates only in the current context and frees what it made.
 *
 * IDENTIFICATION
 *		  src/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "pg_datasource.h"

/* seconds allowed for establishing a connection to a remote datasource */
int			ds_connect_timeout = 10;

/* milliseconds abort processing may wait on a remote (connection.c) */
int			ds_cleanup_timeout = 5000;

/* enforcement by the hook (hooks.c) */
int			ds_enforce = DS_ENFORCE_OFF;
char	   *ds_allowed_databases = NULL;
bool		ds_enforce_read_only = false;

/* statements kept prepared per remote connection (connection.c) */
int			ds_remote_prepared_max = 100;

/* migrations (migrate.c) and the DDL journal (ddl_log.c) */
int			ds_migration_lock_timeout = 0;
bool		ds_ddl_log = true;

/* a migration may name other logical databases than its target (script.c) */
bool		ds_migration_cross_database = false;

/* the schema recorded after each migration, for drift() (introspect.c) */
bool		ds_migration_snapshot = true;

/* commit across datasources (commit.c) */
bool		ds_two_phase_commit = false;
int			ds_debug_commit_pause = DS_PAUSE_OFF;

/* writes to MySQL datasources inside a transaction block (mysql_write.c) */
bool		ds_allow_nontransactional_writes = false;

/* statistics of routed calls (stats.c) */
bool		ds_stats = true;
int			ds_stats_max_databases = 10000;
int			ds_stats_max_statements = 5000;
int			ds_stats_statements_per_database = 100;

static const struct config_enum_entry enforce_options[] = {
	{"off", DS_ENFORCE_OFF, false},
	{"warn", DS_ENFORCE_WARN, false},
	{"error", DS_ENFORCE_ERROR, false},
	{NULL, 0, false}
};

/* the points of a commit where the testing aid pauses (commit.c) */
static const struct config_enum_entry commit_pause_options[] = {
	{"off", DS_PAUSE_OFF, false},
	{"after_prepare", DS_PAUSE_AFTER_PREPARE, false},
	{"after_commit", DS_PAUSE_AFTER_COMMIT, false},
	{"between_commits", DS_PAUSE_BETWEEN_COMMITS, false},
	{NULL, 0, false}
};

/*
 * check_allowed_databases
 *		datasource.allowed_databases must be a comma-separated list of
 *		names (checked at SET time, so enforcement never meets a bad list).
 */
static bool
check_allowed_databases(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *names;
	bool		ok = SplitIdentifierString(raw, ',', &names);

	if (!ok)
		GUC_check_errdetail("List syntax is invalid: use comma-separated logical database names.");
	list_free(names);
	pfree(raw);
	return ok;
}

/*
 * ds_define_stats_gucs
 *		Defines the settings of the statistics (stats.c); the size of their
 *		table only in the postmaster, which alone may define a
 *		PGC_POSTMASTER setting.
 */
static void
ds_define_stats_gucs(void)
{
	DefineCustomBoolVariable("datasource.stats",
							 "Counts routed calls in the statistics of their logical database.",
							 "Needs pg_datasource in shared_preload_libraries; off stops counting "
							 "(for the session, or for all in the configuration).",
							 &ds_stats,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/* it sizes the shared memory */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("datasource.stats_max_databases",
								"Logical databases (of all databases of the cluster) with statistics of their own.",
								"Past it, calls to further logical databases are counted together in one "
								"row per database, whose logical database is NULL. Needs a restart.",
								&ds_stats_max_databases,
								10000,
								1,
								1000000,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("datasource.stats_max_statements",
								"Statements (of all logical databases of the cluster) with statistics of their own.",
								"When the table is full, a new statement takes the place of the one with "
								"the least total time in its part of the table. Needs a restart.",
								&ds_stats_max_statements,
								5000,
								100,
								1000000,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);

	DefineCustomIntVariable("datasource.stats_statements_per_database",
							"Statements one logical database keeps statistics of at most.",
							"Past it, a new statement takes the place of the database's own "
							"least timed one, or is not kept (its calls still count in "
							"datasource.database_stats).",
							&ds_stats_statements_per_database,
							100,
							0,
							1000000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
}

/*
 * ds_define_gucs
 *		Defines the settings; called once from _PG_init.
 */
void
ds_define_gucs(void)
{
	DefineCustomIntVariable("datasource.connect_timeout",
							"Seconds allowed for connecting to a remote datasource.",
							"The deadline covers name resolution, the TCP connection, "
							"TLS and authentication. Zero means no deadline.",
							&ds_connect_timeout,
							10,
							0,
							3600,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("datasource.cleanup_timeout",
							"Longest wait on a remote datasource while a transaction aborts.",
							"Cancelling what the connection runs, reading what it still "
							"sends and rolling the remote back together; past it the "
							"connection is closed. A cancel request is waited for 2 s at most.",
							&ds_cleanup_timeout,
							5000,
							0,
							3600 * 1000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("datasource.remote_prepared_statements",
							"Statements kept prepared on each remote connection.",
							"A statement routed to a remote datasource for the second time "
							"is prepared there, so the remote parses and plans it once; past "
							"this many, the least recently used one is deallocated. Zero "
							"prepares none (for a pooler in transaction mode).",
							&ds_remote_prepared_max,
							100,
							0,
							10000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("datasource.enforce",
							 "Validates every statement of the session: off, warn or error.",
							 "With warn or error, statements that are invalid, touch logical "
							 "databases outside datasource.allowed_databases, or (with "
							 "datasource.enforce_read_only) are not read-only get a warning or "
							 "are refused. Needs the library loaded in the session.",
							 &ds_enforce,
							 DS_ENFORCE_OFF,
							 enforce_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("datasource.allowed_databases",
							   "Logical databases that statements may touch when datasource.enforce is on.",
							   "A comma-separated list; empty allows every logical database.",
							   &ds_allowed_databases,
							   "",
							   PGC_SUSET,
							   GUC_LIST_INPUT,
							   check_allowed_databases, NULL, NULL);

	DefineCustomBoolVariable("datasource.enforce_read_only",
							 "Refuses statements that are not strictly read-only when datasource.enforce is on.",
							 NULL,
							 &ds_enforce_read_only,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("datasource.migration_lock_timeout",
							"Longest wait for a lock by a statement of a migration script.",
							"Applies to the script's statements only (locally and on remote "
							"datasources), not to the wait for another migration of the same "
							"logical database. Zero uses the session's lock_timeout.",
							&ds_migration_lock_timeout,
							0,
							0,
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("datasource.allow_nontransactional_writes",
							 "Lets a transaction block write to the foreign tables of a MySQL datasource.",
							 "mysql_fdw commits each write on the MySQL server at once: off (the default) "
							 "refuses such writes inside a transaction block or savepoint, where a "
							 "rollback would seem to undo them and does not.",
							 &ds_allow_nontransactional_writes,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("datasource.migration_cross_database",
							 "Lets a migration script name other logical databases than the one it migrates.",
							 "Off (the default) refuses, before anything runs, a script that qualifies a "
							 "name with another logical database or its schema on the target's datasource.",
							 &ds_migration_cross_database,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("datasource.ddl_log",
							 "Journals DDL on the schemas of local logical databases in datasource.ddl_log.",
							 "Off skips the journal for the session (for example during a restore).",
							 &ds_ddl_log,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("datasource.migration_snapshot",
							 "Records the schema of a logical database after each applied migration or baseline, for drift().",
							 "Off saves one describe() per migrated logical database; drift() then has no schema to compare with.",
							 &ds_migration_snapshot,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("datasource.two_phase_commit",
							 "Commits remote writes of more than one participant with two-phase commit.",
							 "Each remote transaction is prepared before the local commit and "
							 "committed after it; datasource.resolve_transactions() finishes what a "
							 "crash left prepared. The remotes need max_prepared_transactions > 0.",
							 &ds_two_phase_commit,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomEnumVariable("datasource.debug_commit_pause",
							 "Testing aid: pauses a commit across datasources at one step.",
							 "The backend waits 10 seconds at that step so that a test can kill "
							 "it or a remote there.",
							 &ds_debug_commit_pause,
							 DS_PAUSE_OFF,
							 commit_pause_options,
							 PGC_SUSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);

	ds_define_stats_gucs();

	MarkGUCPrefixReserved("datasource");
}
