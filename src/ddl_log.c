/*-------------------------------------------------------------------------
 *
 * ddl_log.c
 *		  The event trigger that journals DDL on local logical databases.
 *
 * datasource.log_ddl() runs at ddl_command_end (what was created or
 * altered, from pg_event_trigger_ddl_commands) and at sql_drop (what the
 * statement dropped by name, from pg_event_trigger_dropped_objects).  A
 * command is journaled when its object lives in the schema of a logical
 * database on the local datasource, or is that schema (the registry cache
 * answers, so DDL elsewhere costs one read of the event's objects).  The
 * rows are inserted as the journal's owner, so roles that run DDL need no
 * privilege on datasource.ddl_log; the INSERT is not DDL, so the trigger
 * never fires itself.  The three statements keep their plans.  Nothing is journaled while an
 * extension script runs (the extension's own objects) or when
 * datasource.ddl_log is off.
 *
 * The statement recorded is the one being run (enforce.c's utility hook
 * keeps its text), not the client's whole string: a password given earlier
 * in the same string never reaches the journal.  While migrate() runs a
 * script locally, the rows carry its version and the statement of the
 * script.
 *
 * In a sandboxed session the same objects are shown to the sandbox's gate
 * (ds_gate_ddl_object), which refuses DDL that reached outside the
 * session's logical databases, whatever datasource.ddl_log says.
 *
 * IDENTIFICATION
 *		  src/ddl_log.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "tcop/cmdtag.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_log_ddl);

/* what each event reports, one row per object */
static const char *ds_ddl_end_sql =
"SELECT command_tag, object_type, "
"CASE WHEN object_type = 'schema' "
"THEN (SELECT nspname::text FROM pg_catalog.pg_namespace WHERE oid = objid) "
"ELSE schema_name END, object_identity "
"FROM pg_catalog.pg_event_trigger_ddl_commands() WHERE NOT in_extension";

static const char *ds_sql_drop_sql =
"SELECT NULL::text, object_type, "
"CASE WHEN object_type = 'schema' THEN object_name ELSE schema_name END, "
"object_identity "
"FROM pg_catalog.pg_event_trigger_dropped_objects() "
"WHERE original AND NOT is_temporary";

static const char *ds_insert_sql =
"INSERT INTO datasource.ddl_log (database, schema_name, command_tag, "
"object_type, object_identity, statement, role, transaction_id, logged_at, "
"migration_version) VALUES ($1, $2, $3, $4, $5, $6, $7, "
"pg_catalog.pg_current_xact_id(), pg_catalog.clock_timestamp(), $8)";

/* kept plans of the three statements */
static SPIPlanPtr ds_plan_ddl_end = NULL;
static SPIPlanPtr ds_plan_sql_drop = NULL;
static SPIPlanPtr ds_plan_insert = NULL;

/*
 * ds_kept_plan
 *		The kept plan of sql, prepared on first use.
 */
static SPIPlanPtr
ds_kept_plan(SPIPlanPtr *slot, const char *sql, int nargs)
{
	Oid			types[8];
	int			i;

	if (*slot == NULL)
	{
		SPIPlanPtr	plan;

		for (i = 0; i < nargs; i++)
			types[i] = TEXTOID;
		plan = SPI_prepare(sql, nargs, types);
		if (plan == NULL)
			elog(ERROR, "could not prepare \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		*slot = plan;
	}
	return *slot;
}

/*
 * log_ddl()
 *		Event trigger function (ddl_command_end and sql_drop).  The objects
 *		of the command are read through SPI; those in the schema of a local
 *		logical database (the registry cache says which) are journaled.
 */
Datum
pgds_log_ddl(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	bool		drop;
	const char *statement;
	const char *role;
	const char *tag;
	Oid			owner;
	SPITupleTable *objects;
	uint64		nobjects;
	uint64		i;
	int			level;
	bool		gated;
	char	   *own_text;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				errmsg("log_ddl() must be called as an event trigger"));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (creating_extension)
		PG_RETURN_VOID();
	gated = ds_sandbox_get()->gated;
	if (!ds_ddl_log && !gated)
		PG_RETURN_VOID();

	/* the extension may be on its way out (DROP EXTENSION, DROP SCHEMA) */
	owner = ds_table_owner("ddl_log", true);
	if (!OidIsValid(owner) || !ds_cache_ensure())
		PG_RETURN_VOID();

	drop = strcmp(trigdata->event, "sql_drop") == 0;
	/* the statement itself, never the rest of the client's string */
	own_text = ds_gate_statement_text();
	statement = ds_migration_version != NULL && ds_migration_statement != NULL ?
		ds_migration_statement : own_text;
	role = GetUserNameFromId(GetUserId(), false);
	tag = GetCommandTagName(trigdata->tag);

	level = ds_spi_connect();
	if (SPI_execute_plan(drop ?
						 ds_kept_plan(&ds_plan_sql_drop, ds_sql_drop_sql, 0) :
						 ds_kept_plan(&ds_plan_ddl_end, ds_ddl_end_sql, 0),
						 NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the objects of the DDL command");
	objects = SPI_tuptable;
	nobjects = SPI_processed;
	for (i = 0; i < nobjects; i++)
	{
		char	   *schema = SPI_getvalue(objects->vals[i], objects->tupdesc, 3);
		char	   *cmdtag = SPI_getvalue(objects->vals[i], objects->tupdesc, 1);
		DsSource   *src;
		DsDatabase *db;
		Datum		values[8];
		char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
		const char *texts[8];
		int			rc;
		int			c;

		/* a sandboxed session's DDL must stay inside its logical databases */
		if (gated)
			ds_gate_ddl_object(trigdata->tag,
							   SPI_getvalue(objects->vals[i], objects->tupdesc, 2),
							   schema,
							   SPI_getvalue(objects->vals[i], objects->tupdesc, 4));
		if (!ds_ddl_log || schema == NULL ||
			(db = ds_cache_local_schema(schema, &src)) == NULL)
			continue;
		texts[0] = db->name;
		texts[1] = (char *) ds_database_schema_here(db);
		texts[2] = cmdtag ? cmdtag : tag;
		texts[3] = SPI_getvalue(objects->vals[i], objects->tupdesc, 2);
		texts[4] = SPI_getvalue(objects->vals[i], objects->tupdesc, 4);
		texts[5] = statement;
		texts[6] = role;
		texts[7] = ds_migration_version;
		for (c = 0; c < 8; c++)
		{
			if (texts[c] != NULL)
				values[c] = CStringGetTextDatum(texts[c]);
			else
				nulls[c] = 'n';
		}
		rc = ds_spi_as_owner(owner, ds_kept_plan(&ds_plan_insert, ds_insert_sql, 8),
							 NULL, 8, NULL, values, nulls);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "could not journal DDL: %s", SPI_result_code_string(rc));
	}
	ds_spi_finish(level);
	PG_RETURN_VOID();
}
