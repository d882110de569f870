/*-------------------------------------------------------------------------
 *
 * ddl_log.c
 *		  The event trigger that journals DDL on local logical databases.
 *
 * datasource.log_ddl() runs at ddl_command_end (what was created or
 * altered, from pg_event_trigger_ddl_commands) and at sql_drop (what the
 * statement dropped by name, from pg_event_trigger_dropped_objects).  A
 * command is journaled when its object lives in the schema of a logical
 * database on the local datasource, or is that schema.  The rows are
 * written by one INSERT ... SELECT as the journal's owner, so roles that
 * run DDL need no privilege on datasource.ddl_log; the INSERT is not DDL,
 * so the trigger never fires itself.  Nothing is journaled while an
 * extension script runs (the extension's own objects) or when
 * datasource.ddl_log is off.
 *
 * While migrate() runs a script locally, the rows carry its version and
 * the statement of the script instead of the whole query.
 *
 * IDENTIFICATION
 *		  src/ddl_log.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "tcop/cmdtag.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(log_ddl);

/* the columns both events fill, after the SELECT list's own */
#define DS_DDL_LOG_INSERT \
	"INSERT INTO datasource.ddl_log (database, schema_name, command_tag, " \
	"object_type, object_identity, statement, role, transaction_id, " \
	"logged_at, migration_version) "

static const char *ds_ddl_end_sql =
DS_DDL_LOG_INSERT
"SELECT d.name, d.schema_name, c.command_tag, c.object_type, "
"c.object_identity, $1, $2, pg_current_xact_id(), clock_timestamp(), $3 "
"FROM pg_event_trigger_ddl_commands() c "
"JOIN datasource.databases d ON d.source = 'local' "
"AND (d.schema_name = c.schema_name OR (c.object_type = 'schema' "
"AND c.object_identity = quote_ident(d.schema_name))) "
"WHERE NOT c.in_extension";

static const char *ds_sql_drop_sql =
DS_DDL_LOG_INSERT
"SELECT d.name, d.schema_name, $4, o.object_type, "
"o.object_identity, $1, $2, pg_current_xact_id(), clock_timestamp(), $3 "
"FROM pg_event_trigger_dropped_objects() o "
"JOIN datasource.databases d ON d.source = 'local' "
"AND (d.schema_name = o.schema_name OR (o.object_type = 'schema' "
"AND d.schema_name = o.object_name)) "
"WHERE o.original AND NOT o.is_temporary";

/*
 * log_ddl()
 *		Event trigger function (ddl_command_end and sql_drop).
 */
Datum
log_ddl(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	bool		drop;
	Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	const char *statement;
	Oid			owner;
	Oid			nsp;
	Oid			relid;
	HeapTuple	tup;
	Oid			save_userid;
	int			save_sec;
	int			level;
	int			rc;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				errmsg("log_ddl() must be called as an event trigger"));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!ds_ddl_log || creating_extension)
		PG_RETURN_VOID();

	/* the extension may be on its way out (DROP EXTENSION, DROP SCHEMA) */
	nsp = get_namespace_oid(DS_SCHEMA, true);
	relid = OidIsValid(nsp) ? get_relname_relid("ddl_log", nsp) : InvalidOid;
	if (!OidIsValid(relid))
		PG_RETURN_VOID();
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		PG_RETURN_VOID();
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);

	drop = strcmp(trigdata->event, "sql_drop") == 0;
	statement = ds_migration_version != NULL && ds_migration_statement != NULL ?
		ds_migration_statement : debug_query_string;
	if (statement != NULL)
		values[0] = CStringGetTextDatum(statement);
	else
		nulls[0] = 'n';
	values[1] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	if (ds_migration_version != NULL)
		values[2] = CStringGetTextDatum(ds_migration_version);
	else
		nulls[2] = 'n';
	values[3] = CStringGetTextDatum(GetCommandTagName(trigdata->tag));

	level = ds_spi_connect();
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	rc = SPI_execute_with_args(drop ? ds_sql_drop_sql : ds_ddl_end_sql,
							   drop ? 4 : 3, types, values, nulls, false, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not journal DDL: %s", SPI_result_code_string(rc));
	ds_spi_finish(level);
	PG_RETURN_VOID();
}
