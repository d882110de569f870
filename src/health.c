/*-------------------------------------------------------------------------
 *
 * health.c
 *		  health_check / connections / disconnect: look at and manage the
 *		  remote connections of this backend.
 *
 * health_check never raises for a datasource that cannot be reached: the
 * probe runs in a subtransaction and the error is reported in the row, so
 * a monitoring query sees every datasource, with the reason (libpq's, for
 * a connection) and never a secret.  Unknown names and bad
 * arguments are still errors.  Whether a datasource is usable at all
 * (enabled) is policy.c's answer; a disabled one is reported, not probed.
 * A MySQL datasource is probed through mysql_fdw (mysql_health.c).
 *
 * Memory: rows, probes (ds_in_subxact runs them in the caller's context)
 * and their errors are allocated in the function's call context; rows go
 * to its materialized result.
 *
 * IDENTIFICATION
 *		  src/health.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "access/xlog.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_health_check);
PG_FUNCTION_INFO_V1(pgds_connections);
PG_FUNCTION_INFO_V1(pgds_disconnect);

/* one probe, run in a subtransaction */
typedef struct DsProbe
{
	DsSource   *src;
	char	   *version;
	int			in_recovery;	/* -1: not reported */
} DsProbe;

/*
 * ds_probe_call
 *		The probe, as ds_in_subxact calls it: arg is the DsProbe to fill.
 */
static void
ds_probe_call(void *arg)
{
	DsProbe    *probe = arg;

	if (probe->src->engine == DS_ENGINE_MYSQL)
		ds_mysql_health_probe(probe->src, &probe->version, &probe->in_recovery);
	else
		ds_remote_probe(probe->src, &probe->version, &probe->in_recovery);
}

/*
 * ds_hide_secret
 *		text with every occurrence of secret (when not NULL or empty)
 *		written as ********.
 */
static char *
ds_hide_secret(const char *text, const char *secret)
{
	StringInfoData buf;
	const char *p = text;
	const char *hit;
	size_t		len;

	if (secret == NULL || secret[0] == '\0')
		return pstrdup(text);
	len = strlen(secret);
	initStringInfo(&buf);
	while ((hit = strstr(p, secret)) != NULL)
	{
		appendBinaryStringInfo(&buf, p, hit - p);
		appendStringInfoString(&buf, "********");
		p = hit + len;
	}
	appendStringInfoString(&buf, p);
	return buf.data;
}

/*
 * ds_health_error
 *		The error column of a probe that failed: the message, the reason
 *		below it (for a connection, libpq's: refused, unknown host,
 *		authentication failed, ...) and the SQLSTATE.  libpq's messages do
 *		not contain the password; the user mapping's password is still
 *		written as ******** wherever it would appear, so the column never
 *		shows a secret.
 */
static char *
ds_health_error(DsSource *src, ErrorData *edata)
{
	char	   *error;
	const char *password = NULL;
	ForeignServer *server = GetForeignServerByName(src->server, true);

	if (edata->detail != NULL)
		error = psprintf("%s: %s (SQLSTATE %s)", edata->message, edata->detail,
						 unpack_sql_state(edata->sqlerrcode));
	else
		error = psprintf("%s (SQLSTATE %s)", edata->message,
						 unpack_sql_state(edata->sqlerrcode));
	if (server != NULL)
	{
		/* the caller's mapping, else PUBLIC's, as GetUserMapping looks */
		HeapTuple	tp = SearchSysCache2(USERMAPPINGUSERSERVER,
										 ObjectIdGetDatum(GetUserId()),
										 ObjectIdGetDatum(server->serverid));

		if (!HeapTupleIsValid(tp))
			tp = SearchSysCache2(USERMAPPINGUSERSERVER,
								 ObjectIdGetDatum(InvalidOid),
								 ObjectIdGetDatum(server->serverid));
		if (HeapTupleIsValid(tp))
		{
			bool		isnull;
			Datum		options = SysCacheGetAttr(USERMAPPINGUSERSERVER, tp,
												  Anum_pg_user_mapping_umoptions,
												  &isnull);
			ListCell   *lc;

			if (!isnull)
				foreach(lc, untransformRelOptions(options))
				{
					DefElem    *opt = (DefElem *) lfirst(lc);

					if (strcmp(opt->defname, "password") == 0)
						password = defGetString(opt);
				}
			ReleaseSysCache(tp);
		}
	}
	return ds_hide_secret(error, password);
}

/*
 * ds_health_row
 *		Probes one datasource and adds its row.
 */
static void
ds_health_row(ReturnSetInfo *rsinfo, DsSource *src)
{
	Datum		values[6];
	bool		nulls[6] = {false};
	char	   *version = NULL;
	int			in_recovery = -1;
	char	   *error = NULL;
	bool		probed = false; /* a remote was asked */
	instr_time	start,
				duration;

	values[0] = CStringGetTextDatum(src->name);
	INSTR_TIME_SET_CURRENT(start);
	if (!ds_source_usable(src, NULL, NULL, 0, &error, NULL))
	{
		/* a disabled datasource is not probed: the row says why */
	}
	else if (src->server == NULL)
	{
		version = pstrdup(GetConfigOption("server_version", false, false));
		in_recovery = RecoveryInProgress();
	}
	else
	{
		DsProbe		probe;
		ErrorData  *edata;

		probe.src = src;
		probed = true;
		edata = ds_in_subxact(ds_probe_call, &probe);
		if (edata == NULL)
		{
			version = probe.version;
			in_recovery = probe.in_recovery;
		}
		else
			error = ds_health_error(src, edata);
	}
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	if (probed)
		ds_stats_source_event(src->name, error == NULL ? DS_SRC_HEALTH_OK :
							  DS_SRC_HEALTH_FAIL,
							  INSTR_TIME_GET_MILLISEC(duration));

	values[1] = BoolGetDatum(error == NULL);
	if (error == NULL)
	{
		values[2] = Float8GetDatum(INSTR_TIME_GET_MILLISEC(duration));
		values[3] = version ? CStringGetTextDatum(version) : (Datum) 0;
		nulls[3] = version == NULL;
		values[4] = BoolGetDatum(in_recovery == 1);
		nulls[4] = in_recovery < 0;
		nulls[5] = true;
	}
	else
	{
		nulls[2] = nulls[3] = nulls[4] = true;
		values[5] = CStringGetTextDatum(error);
	}
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * health_check(source text) returns table (datasource, healthy, latency_ms,
 *		server_version, in_recovery, error)
 */
Datum
pgds_health_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	if (!PG_ARGISNULL(0))
		ds_health_row(rsinfo, ds_get_source(text_to_cstring(PG_GETARG_TEXT_PP(0)),
											false));
	else
	{
		ListCell   *lc;

		foreach(lc, ds_list_sources())
			ds_health_row(rsinfo, lfirst(lc));
	}
	return (Datum) 0;
}

/*
 * connections() returns table (datasource, server, role, remote_pid,
 *		transaction_depth, state, connected_at, calls)
 */
Datum
pgds_connections(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	ds_remote_connections(rsinfo->setResult, rsinfo->setDesc);
	return (Datum) 0;
}

/*
 * disconnect(source text) returns int: connections closed
 */
Datum
pgds_disconnect(PG_FUNCTION_ARGS)
{
	const char *server = NULL;

	if (!PG_ARGISNULL(0))
	{
		DsSource   *src = ds_get_source(text_to_cstring(PG_GETARG_TEXT_PP(0)), false);

		if (src->server == NULL)
			PG_RETURN_INT32(0);
		server = src->server;
	}
	PG_RETURN_INT32(ds_remote_disconnect(server));
}
