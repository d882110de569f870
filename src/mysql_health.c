/*-------------------------------------------------------------------------
 *
 * mysql_health.c
 *		  MySQL datasources: what health_check asks them, and what a routed
 *		  statement on a MySQL logical database does when mysql_fdw fails.
 *
 * health_check (health.c) probes a MySQL datasource through mysql_fdw
 * (mysql_probe.c's temporary foreign tables): the server's version is the
 * VERSION variable, read from information_schema.GLOBAL_VARIABLES
 * (MariaDB, MySQL 5.x) or, where that table does not exist (MySQL 8),
 * from performance_schema.global_variables.  MySQL has no recovery state
 * like PostgreSQL's, so in_recovery is not reported.
 *
 * A routed statement on a MySQL logical database runs locally over its
 * foreign tables (local.c); it comes here first.  mysql_fdw 2.8 keeps one
 * connection per server and user and, when the MySQL server restarted or
 * dropped it, fails the first statement that uses it (and drops it, so the
 * next statement connects again).  It raises the same SQLSTATE, HV00L
 * (fdw_unable_to_create_execution), for every failure of MySQL to run a
 * statement, a lost connection included; the client library's error number
 * is not kept, only its text.  Rather than recognise a lost connection by
 * that text, a read-only statement that failed with HV00L before any row
 * came is run once more: it ran in a subtransaction, so nothing of the
 * first attempt is left, and running a read again changes nothing, so
 * whatever MySQL's reason was, the retry is safe; a statement MySQL
 * rejects for another reason fails again with its own error.  Writes are
 * never run twice: whether MySQL applied one before the connection went is
 * not known (mysql_fdw's writes are not transactional).
 *
 * A MySQL zero date ('0000-00-00') read into a date or timestamp column
 * fails in PostgreSQL's date input with 22008; the error of such a
 * statement is raised again with the same SQLSTATE, a detail naming the
 * logical database and a hint on what to do.
 *
 * Memory: everything runs in the caller's memory context (ds_in_subxact
 * returns there); errors are copied into it before they are raised again.
 *
 * IDENTIFICATION
 *		  src/mysql_health.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/elog.h"
#include "utils/memutils.h"

#include "pg_datasource.h"

/* where a MySQL server's VERSION variable is, in the order asked */
typedef struct DsVersionTable
{
	const char *dbname;
	const char *table;
} DsVersionTable;

static const DsVersionTable ds_version_tables[] = {
	{"information_schema", "GLOBAL_VARIABLES"}, /* MariaDB, MySQL 5 */
	{"performance_schema", "global_variables"}, /* MySQL 8 */
	{"information_schema", "GLOBAL_VARIABLES"}	/* MariaDB, reconnected */
};

/* one version probe, as ds_in_subxact runs it */
typedef struct DsVersionCall
{
	DsSource   *src;
	const DsVersionTable *where;
	List	   *rows;
} DsVersionCall;

/* one routed statement, as ds_in_subxact runs it */
typedef struct DsMysqlRun
{
	const char *sql;
	const char *schema;
	const char *command;
	int			nparams;
	char	  **params;
	DsSink	   *r;
	char	   *status;
} DsMysqlRun;

/*
 * ds_mysql_may_retry
 *		Whether edata, the error of a read-only statement on a MySQL
 *		logical database, lets the statement run once more: mysql_fdw's
 *		HV00L, which it raises for every failure of MySQL to run a
 *		statement (a lost connection too; nothing else tells them apart but
 *		the client library's message text, which is not looked at).  A
 *		failure to connect (HV00N) is not retried: the server is down.
 */
static bool
ds_mysql_may_retry(ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_FDW_UNABLE_TO_CREATE_EXECUTION;
}

/*
 * ds_mysql_rethrow
 *		Raises edata, an error of a statement routed to MySQL logical
 *		database dbname, again; a 22008 (a date or time out of range:
 *		a MySQL zero date read into a date or timestamp, or anything else
 *		of the statement out of range, so the hint says "if") gets a detail
 *		naming the logical database and a hint.  The caller's memory
 *		context holds edata and is not ErrorContext.
 */
static void
ds_mysql_rethrow(const char *dbname, ErrorData *edata)
{
	if (edata->sqlerrcode == ERRCODE_DATETIME_FIELD_OVERFLOW)
	{
		char	   *detail = psprintf("The statement read MySQL logical database \"%s\".",
									  dbname);

		edata->detail = edata->detail == NULL ? detail :
			psprintf("%s %s", edata->detail, detail);
		edata->hint = pstrdup("If the value is a MySQL date with a zero part ('0000-00-00', "
							  "or '2020-00-15' where MySQL allows it), it has no PostgreSQL "
							  "value: store NULL in MySQL instead, or leave those rows out "
							  "with a condition MySQL evaluates (WHERE col >= '0001-01-01' "
							  "leaves out '0000-00-00'; IS NOT NULL does not: to MySQL a "
							  "zero date is not null).");
	}
	ReThrowError(edata);
}

/*
 * ds_mysql_run_call
 *		The statement, as ds_in_subxact calls it: arg is its DsMysqlRun.
 */
static void
ds_mysql_run_call(void *arg)
{
	DsMysqlRun *run = arg;

	run->status = ds_local_run(run->sql, run->schema, run->command,
							   run->nparams, run->params, true, run->r);
}

/*
 * ds_mysql_local_run
 *		Runs sql, routed to MySQL logical database db, over db's foreign
 *		tables in schema (its local schema), as ds_local_run does, and
 *		returns the command status.  A read-only statement that mysql_fdw
 *		failed (HV00L, a lost connection after a MySQL restart among its
 *		causes) before any row reached r runs once more, in a new
 *		subtransaction.  A zero date's 22008 gets a hint either way.  The
 *		caller guarantees sql was validated (read_only is the validator's
 *		verdict) and rewritten for schema.
 */
char *
ds_mysql_local_run(DsDatabase *db, const char *sql, const char *schema,
				   const char *command, int nparams, char **params,
				   bool read_only, DsSink *r)
{
	MemoryContext callercxt = CurrentMemoryContext;
	DsMysqlRun	run;
	ErrorData  *edata;
	char	   *status = NULL;

	if (!read_only)
	{
		/* a write runs once: only a 22008 is raised again, with a hint */
		PG_TRY();
		{
			status = ds_local_run(sql, schema, command, nparams, params,
								  false, r);
		}
		PG_CATCH();
		{
			if (geterrcode() != ERRCODE_DATETIME_FIELD_OVERFLOW)
				PG_RE_THROW();
			MemoryContextSwitchTo(callercxt);
			edata = CopyErrorData();
			FlushErrorState();
			ds_mysql_rethrow(db->name, edata);
		}
		PG_END_TRY();
		return status;
	}

	run.sql = sql;
	run.schema = schema;
	run.command = command;
	run.nparams = nparams;
	run.params = params;
	run.r = r;
	run.status = NULL;
	edata = ds_in_subxact(ds_mysql_run_call, &run);
	if (edata != NULL && ds_mysql_may_retry(edata) && r->rows == 0 &&
		!r->truncated)
	{
		ereport(DEBUG1,
				errmsg_internal("running the statement on MySQL logical database \"%s\" once more: %s",
								db->name, edata->message));
		FreeErrorData(edata);
		edata = ds_in_subxact(ds_mysql_run_call, &run);
	}
	if (edata != NULL)
		ds_mysql_rethrow(db->name, edata);
	return run.status;
}

/*
 * ds_mysql_version_call
 *		Reads the VERSION variable from one table, as ds_in_subxact calls
 *		it: arg is its DsVersionCall.  MariaDB spells the name in capitals,
 *		MySQL 8's performance_schema in lower case; the condition is pushed
 *		down to MySQL, which compares case-insensitively, and holds locally.
 */
static void
ds_mysql_version_call(void *arg)
{
	DsVersionCall *call = arg;

	call->rows = ds_mysql_probe(call->src, call->where->dbname,
								call->where->table,
								"\"VARIABLE_NAME\" text, \"VARIABLE_VALUE\" text",
								"SELECT \"VARIABLE_VALUE\" FROM %s "
								"WHERE \"VARIABLE_NAME\" IN ('VERSION', 'version')",
								1);
}

/*
 * ds_mysql_health_probe
 *		What health_check reports of MySQL datasource src: *version, the
 *		server's version (NULL when it does not say), and *in_recovery, -1:
 *		MySQL has no recovery state.  Raises what mysql_fdw raised when the
 *		server cannot be asked (down: HV00N).  The tables are tried in the
 *		order of ds_version_tables while mysql_fdw fails with HV00L (table
 *		unknown, or the connection lost: it connects again next time), so a
 *		MariaDB server that restarted since this backend last asked it still
 *		answers.  Must run inside a subtransaction (health.c's), in a
 *		writable transaction (the probe's temporary table).
 */
void
ds_mysql_health_probe(DsSource *src, char **version, int *in_recovery)
{
	ErrorData  *edata = NULL;
	int			i;

	*version = NULL;
	*in_recovery = -1;
	for (i = 0; i < (int) lengthof(ds_version_tables); i++)
	{
		DsVersionCall call;

		call.src = src;
		call.where = &ds_version_tables[i];
		call.rows = NIL;
		if (edata != NULL)
			FreeErrorData(edata);
		edata = ds_in_subxact(ds_mysql_version_call, &call);
		if (edata == NULL)
		{
			if (call.rows != NIL)
			{
				char	  **row = linitial(call.rows);

				*version = row[0];
			}
			return;
		}
		if (!ds_mysql_may_retry(edata))
			break;
	}
	ReThrowError(edata);
}
