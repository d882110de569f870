/*-------------------------------------------------------------------------
 *
 * stats_views.c
 *		  The SQL functions behind the statistics views: database_stats_rows,
 *		  source_stats_rows, statement_stats_rows and the reset functions.
 *
 * stats.c keeps the counters in shared memory; this file turns a snapshot
 * of them into rows that read well in psql: times in milliseconds, the
 * standard deviation, rounded to the microsecond, p50/p95/p99 read from the latency histogram (the
 * upper bound of the bucket the percentile falls in, never more than the
 * slowest call), the errors per SQLSTATE class and the connection failures
 * per reason as jsonb objects.
 *
 * Memory: rows are built in the set-returning function's context.
 *
 * IDENTIFICATION
 *		  src/stats_views.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_database_stats);
PG_FUNCTION_INFO_V1(pgds_reset_database_stats);
PG_FUNCTION_INFO_V1(pgds_source_stats);
PG_FUNCTION_INFO_V1(pgds_reset_source_stats);
PG_FUNCTION_INFO_V1(pgds_statement_stats);

/* the columns of database_stats_rows() and source_stats_rows() */
#define DS_DB_STATS_COLS	25
#define DS_SRC_STATS_COLS	16
#define DS_MAX_STATS_COLS	Max(DS_DB_STATS_COLS, DS_SRC_STATS_COLS)
#define DS_STMT_STATS_COLS	12

/* the names of the connection failures' reasons, from DS_SRC_FAIL_FAILED on */
static const char *const ds_fail_reasons[] = {
	"failed", "authentication", "timeout", "password required",
	"interrupted", "other"
};

/* milliseconds rounded to the microsecond, for display */
#define DS_MS(x)	Float8GetDatum(rint((x) * 1000.0) / 1000.0)

/*
 * ds_stats_percentile
 *		The upper bound of the histogram bucket where fraction p of the
 *		calls of c are reached, capped by the slowest call.  c has calls.
 */
static double
ds_stats_percentile(const DsDbCounters *c, double p)
{
	int64		want = (int64) ceil(p * c->calls);
	int64		seen = 0;
	int			i;

	for (i = 0; i < DS_STATS_BUCKETS; i++)
	{
		seen += c->histogram[i];
		if (seen >= want && seen > 0)
			return Min(ds_stats_bucket_bound(i), c->max_ms);
	}
	return c->max_ms;
}

/*
 * ds_stats_error_classes
 *		The errors of c per SQLSTATE class as a jsonb object
 *		({"42": 3, "22": 1}; "other" for classes past the ones kept apart).
 */
static Datum
ds_stats_error_classes(const DsDbCounters *c)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (i = 0; i < DS_STATS_CLASSES && c->error_class[i] != 0; i++)
		appendStringInfo(&s, "%s\"%.2s\": " INT64_FORMAT, i > 0 ? ", " : "",
						 unpack_sql_state(c->error_class[i]), c->error_count[i]);
	if (c->errors_other > 0)
		appendStringInfo(&s, "%s\"other\": " INT64_FORMAT, i > 0 ? ", " : "",
						 c->errors_other);
	appendStringInfoChar(&s, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data));
}

/*
 * ds_stats_histogram
 *		The histogram of c as a bigint[] of DS_STATS_BUCKETS counts.
 */
static Datum
ds_stats_histogram(const DsDbCounters *c)
{
	Datum		elems[DS_STATS_BUCKETS];
	int			i;

	for (i = 0; i < DS_STATS_BUCKETS; i++)
		elems[i] = Int64GetDatum(c->histogram[i]);
	return PointerGetDatum(construct_array(elems, DS_STATS_BUCKETS, INT8OID,
										   sizeof(int64), FLOAT8PASSBYVAL,
										   TYPALIGN_DOUBLE));
}

/*
 * ds_stats_db_row
 *		The values of one logical database's row; values and nulls have
 *		DS_DB_STATS_COLS entries.
 */
static void
ds_stats_db_row(const DsStatsRow *s, Datum *values, bool *nulls)
{
	const DsDbCounters *c = &s->c.db;
	bool		any = c->calls > 0;
	int			i;

	memset(nulls, 0, sizeof(bool) * DS_DB_STATS_COLS);
	values[0] = s->name[0] ? CStringGetTextDatum(s->name) : (Datum) 0;
	nulls[0] = s->name[0] == '\0';
	values[1] = Int64GetDatum(c->calls);
	values[2] = Int64GetDatum(c->errors);
	values[3] = Int64GetDatum(c->rows);
	values[4] = DS_MS(c->total_ms);
	values[5] = DS_MS(c->min_ms);
	values[6] = DS_MS(c->max_ms);
	values[7] = DS_MS(c->mean_ms);
	values[8] = DS_MS(any ? sqrt(c->sum_var / c->calls) : 0);
	values[9] = DS_MS(any ? ds_stats_percentile(c, 0.50) : 0);
	values[10] = DS_MS(any ? ds_stats_percentile(c, 0.95) : 0);
	values[11] = DS_MS(any ? ds_stats_percentile(c, 0.99) : 0);
	for (i = 5; i <= 11; i++)
		nulls[i] = !any;
	for (i = 0; i < DS_NPHASES; i++)
		values[12 + i] = DS_MS(c->phase_ms[i]);
	values[17] = Int64GetDatum(c->cache_hits);
	values[18] = Int64GetDatum(c->prepared_hits);
	values[19] = ds_stats_error_classes(c);
	values[20] = ds_stats_histogram(c);
	values[21] = Int64GetDatum(c->migrations_applied);
	values[22] = Int64GetDatum(c->migrations_failed);
	values[23] = DS_MS(c->migration_ms);
	values[24] = TimestampTzGetDatum(s->since);
}

/* what fills the values and nulls of one row of a kind of statistics */
typedef void (*DsStatsRowFn) (const DsStatsRow *s, Datum *values, bool *nulls);

/*
 * ds_stats_rows
 *		The rows of database_stats_rows() or source_stats_rows(): a
 *		snapshot of the entries of kind, each made a row by row_fn (which
 *		fills at most DS_MAX_STATS_COLS values).  Raises 55000 when the
 *		library was not preloaded.
 */
static Datum
ds_stats_rows(FunctionCallInfo fcinfo, DsStatsKind kind, DsStatsRowFn row_fn)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DsStatsRow *stats;
	int			n;
	int			i;

	ds_stats_available();
	InitMaterializedSRF(fcinfo, 0);
	stats = ds_stats_snapshot(kind, &n);
	for (i = 0; i < n; i++)
	{
		Datum		values[DS_MAX_STATS_COLS];
		bool		nulls[DS_MAX_STATS_COLS];

		row_fn(&stats[i], values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	return (Datum) 0;
}

/*
 * database_stats_rows() returns setof (database, calls, errors, rows,
 *		total_time_ms, min_time_ms, max_time_ms, mean_time_ms,
 *		stddev_time_ms, p50_ms, p95_ms, p99_ms, validate_time_ms,
 *		connect_time_ms, remote_time_ms, transfer_time_ms, local_time_ms,
 *		statement_cache_hits, remote_prepared_hits, errors_by_class,
 *		histogram, migrations_applied, migrations_failed, migration_time_ms,
 *		stats_since)
 *
 * One row per logical database of this database that routed calls were
 * counted for (what datasource.database_stats shows).  Raises 55000 when
 * the library was not preloaded.
 */
Datum
pgds_database_stats(PG_FUNCTION_ARGS)
{
	return ds_stats_rows(fcinfo, DS_STATS_DATABASE, ds_stats_db_row);
}

/*
 * reset_database_stats(database text DEFAULT NULL) returns int
 *
 * Removes the statistics of one logical database of this database, or of
 * all of them (NULL), and returns how many rows went.  Revoked from PUBLIC.
 */
Datum
pgds_reset_database_stats(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(ds_stats_reset(DS_STATS_DATABASE, PG_ARGISNULL(0) ? NULL :
								   text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/*
 * ds_stats_fail_reasons
 *		The connection failures of c per reason as a jsonb object
 *		({"timeout": 2, "authentication": 1}).
 */
static Datum
ds_stats_fail_reasons(const DsSourceCounters *c)
{
	StringInfoData s;
	int			i;

	initStringInfo(&s);
	appendStringInfoChar(&s, '{');
	for (i = DS_SRC_FAIL_FAILED; i <= DS_SRC_FAIL_OTHER; i++)
		if (c->events[i] > 0)
			appendStringInfo(&s, "%s\"%s\": " INT64_FORMAT, s.len > 1 ? ", " : "",
							 ds_fail_reasons[i - DS_SRC_FAIL_FAILED], c->events[i]);
	appendStringInfoChar(&s, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data));
}

/*
 * ds_stats_source_row
 *		The values of one datasource's row; values and nulls have
 *		DS_SRC_STATS_COLS entries.
 */
static void
ds_stats_source_row(const DsStatsRow *s, Datum *values, bool *nulls)
{
	const DsSourceCounters *c = &s->c.src;
	int64		failures = 0;
	int64		healthy = c->events[DS_SRC_HEALTH_OK];
	int			i;

	for (i = DS_SRC_FAIL_FAILED; i <= DS_SRC_FAIL_OTHER; i++)
		failures += c->events[i];
	memset(nulls, 0, sizeof(bool) * DS_SRC_STATS_COLS);
	values[0] = s->name[0] ? CStringGetTextDatum(s->name) : (Datum) 0;
	nulls[0] = s->name[0] == '\0';
	values[1] = Int64GetDatum(c->events[DS_SRC_CONNECT]);
	values[2] = Int64GetDatum(c->events[DS_SRC_RECONNECT]);
	values[3] = Int64GetDatum(failures);
	values[4] = ds_stats_fail_reasons(c);
	values[5] = Int64GetDatum(c->events[DS_SRC_XACT]);
	values[6] = Int64GetDatum(c->events[DS_SRC_COMMIT]);
	values[7] = Int64GetDatum(c->events[DS_SRC_ROLLBACK]);
	values[8] = Int64GetDatum(c->events[DS_SRC_IN_DOUBT]);
	values[9] = Int64GetDatum(healthy + c->events[DS_SRC_HEALTH_FAIL]);
	values[10] = Int64GetDatum(c->events[DS_SRC_HEALTH_FAIL]);
	values[11] = DS_MS(healthy > 0 ? c->health_total_ms / healthy : 0);
	nulls[11] = healthy == 0;
	values[12] = DS_MS(c->health_max_ms);
	nulls[12] = healthy == 0;
	values[13] = DS_MS(c->health_last_ms);
	values[14] = TimestampTzGetDatum(c->health_last_at);
	nulls[13] = nulls[14] = c->health_last_at == 0;
	values[15] = TimestampTzGetDatum(s->since);
}

/*
 * source_stats_rows() returns setof (datasource, connects, reconnects,
 *		connect_failures, failures_by_reason, remote_transactions, commits,
 *		rollbacks, in_doubt, health_checks, health_failures, health_mean_ms,
 *		health_max_ms, health_last_ms, health_last_at, stats_since)
 *
 * One row per datasource of this database that something happened to
 * (what datasource.source_stats shows).  Raises 55000 when the library
 * was not preloaded.
 */
Datum
pgds_source_stats(PG_FUNCTION_ARGS)
{
	return ds_stats_rows(fcinfo, DS_STATS_SOURCE, ds_stats_source_row);
}

/*
 * reset_source_stats(source text DEFAULT NULL) returns int
 *
 * Removes the statistics of one datasource of this database, or of all of
 * them (NULL), and returns how many rows went.  Revoked from PUBLIC.
 */
Datum
pgds_reset_source_stats(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(ds_stats_reset(DS_STATS_SOURCE, PG_ARGISNULL(0) ? NULL :
								   text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/*
 * statement_stats_rows() returns setof (database, fingerprint, query,
 *		calls, errors, rows, total_time_ms, min_time_ms, max_time_ms,
 *		mean_time_ms, stddev_time_ms, stats_since)
 *
 * One row per statement kept for a logical database of this database
 * (what datasource.statement_stats shows); the text only to members of the
 * role of its first call or of pg_read_all_stats.  Raises 55000 when the library
 * was not preloaded.
 */
Datum
pgds_statement_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DsStmtRow  *stmts;
	int			n;
	int			i;
	bool		all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);

	ds_stats_available();
	InitMaterializedSRF(fcinfo, 0);
	stmts = ds_stmt_snapshot(&n);
	for (i = 0; i < n; i++)
	{
		const DsStmtCounters *c = &stmts[i].c;
		Datum		values[DS_STMT_STATS_COLS];
		bool		nulls[DS_STMT_STATS_COLS] = {false};

		values[0] = CStringGetTextDatum(stmts[i].name);
		values[1] = Int64GetDatum((int64) stmts[i].fp);
		values[2] = CStringGetTextDatum(c->query);
		/* the text names the caller's objects: as pg_stat_statements shows it */
		nulls[2] = !all && !has_privs_of_role(GetUserId(), c->roleid);
		values[3] = Int64GetDatum(c->calls);
		values[4] = Int64GetDatum(c->errors);
		values[5] = Int64GetDatum(c->rows);
		values[6] = DS_MS(c->total_ms);
		values[7] = DS_MS(c->min_ms);
		values[8] = DS_MS(c->max_ms);
		values[9] = DS_MS(c->mean_ms);
		values[10] = DS_MS(c->calls > 0 ? sqrt(c->sum_var / c->calls) : 0);
		values[11] = TimestampTzGetDatum(c->since);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	return (Datum) 0;
}
