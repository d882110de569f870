/*-------------------------------------------------------------------------
 *
 * config.c
 *		  apply_config: making the registry match a declarative document.
 *
 * apply_config makes a registry match a document of export_config
 * (config_doc.c reads and checks it): it compares the two, builds a plan
 * of create/alter/drop actions, and either reports the plan (dry_run) or
 * carries it out through the same operations the registry functions use,
 * in dependency order.  Applying the same document twice does nothing the
 * second time.
 *
 * A top-level section ("servers", "sources", "databases") that is absent is
 * left alone; a section that is present, even empty, is authoritative:
 * entries missing from it are dropped from the registry.  Dropping never
 * drops a schema or a foreign server (a MySQL logical database's local
 * schema of foreign tables is ours and goes with it), and the local
 * datasource is never dropped.  A server entry is of our wrapper unless
 * its "wrapper" says mysql_fdw; a server never changes wrapper.
 *
 * The document is checked completely before anything runs, in a dry run
 * as in a real one: its shape, every name, every server's options (its
 * wrapper's validator) and, for logical databases created or moved on a
 * remote or MySQL datasource, a user mapping on its server (the error
 * names every server lacking one, and the steps).  An entry with
 * "renamed_from" is a rename, so the journal goes along.  Any error in
 * executing the plan aborts the transaction, so a failed apply changes
 * nothing.

 * Memory: the plan lives in the function's call context.
 *
 * IDENTIFICATION
 *		  src/config.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_foreign_server.h"
#include "catalog/pg_type.h"
#include "catalog/pg_user_mapping.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_apply_config);

/* kinds of planned actions, in the order they are carried out */
typedef enum DsStep
{
	STEP_SERVER,				/* create or alter a foreign server */
	STEP_CREATE_SOURCE,
	STEP_ALTER_SOURCE,
	STEP_DROP_DATABASE,
	STEP_RENAME_DATABASE,
	STEP_ALTER_DATABASE,
	STEP_CREATE_DATABASE,
	STEP_DROP_SOURCE,
	STEP_COUNT
} DsStep;

typedef struct DsAction
{
	DsStep		step;
	const char *action;			/* create / alter / drop */
	char	   *object;			/* "datasource x" ... */
	char	   *detail;
	char	   *ddl;			/* for STEP_SERVER */
	DsSource   *source;			/* desired state */
	DsDatabase *database;		/* desired state */
	char	   *old_name;		/* STEP_RENAME_DATABASE: the current name */
	bool		connects;		/* needs a connection to the datasource
								 * (a logical database's schema is looked
								 * at or created) */
} DsAction;

/*
 * The server part of the plan, one query: for each server in the document,
 * the action and the DDL that makes the server match, and its wrapper
 * (column 7; the existing server's is column 2).  $1 is the document.
 */
static const char *const servers_sql =
"WITH want AS (SELECT e->>'name' AS name, coalesce(e->'options', '{}') AS opts, "
"    coalesce(e->>'wrapper', 'pg_datasource') AS fdw "
"    FROM jsonb_array_elements($1->'servers') e), "
"have AS (SELECT s.srvname::text AS name, w.fdwname::text AS fdw, "
"    coalesce((SELECT jsonb_object_agg(o.option_name, o.option_value) "
"              FROM pg_options_to_table(s.srvoptions) o), '{}') AS opts "
"    FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw) "
"SELECT w.name, h.fdw, "
"  CASE WHEN h.name IS NULL THEN 'create' ELSE 'alter' END, "
"  (SELECT string_agg(format('%s=%s', k, CASE WHEN k IN ('password', 'sslpassword') "
"                              THEN '********' ELSE w.opts->>k END), ', ' ORDER BY k) "
"     FROM jsonb_object_keys(w.opts) k), "
"  CASE WHEN h.name IS NULL THEN "
"    format('CREATE SERVER %I FOREIGN DATA WRAPPER %I', w.name, w.fdw) || "
"    coalesce(' OPTIONS (' || (SELECT string_agg(format('%I %L', k, w.opts->>k), ', ' ORDER BY k) "
"                               FROM jsonb_object_keys(w.opts) k) || ')', '') "
"  ELSE format('ALTER SERVER %I OPTIONS (', w.name) || "
"    (SELECT string_agg(x, ', ' ORDER BY x) FROM ( "
"       SELECT format('SET %I %L', k, w.opts->>k) AS x FROM jsonb_object_keys(w.opts) k "
"        WHERE h.opts ? k AND h.opts->>k IS DISTINCT FROM w.opts->>k "
"       UNION ALL SELECT format('ADD %I %L', k, w.opts->>k) FROM jsonb_object_keys(w.opts) k "
"        WHERE NOT h.opts ? k "
"       UNION ALL SELECT format('DROP %I', k) FROM jsonb_object_keys(h.opts) k "
"        WHERE NOT w.opts ? k) c) || ')' END, "
"  (SELECT array_agg(k || '=' || (w.opts->>k) ORDER BY k) FROM jsonb_object_keys(w.opts) k), "
"  w.fdw "
"FROM want w LEFT JOIN have h ON h.name = w.name "
"WHERE h.name IS NULL OR h.opts <> w.opts OR h.fdw <> w.fdw "
"ORDER BY w.name";

static char *ds_change(char *detail, const char *field, const char *from,
					   const char *to);
static bool ds_str_eq(const char *a, const char *b);

/*
 * ds_str_eq
 *		Equality of nullable strings.
 */
static bool
ds_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * ds_change
 *		Appends "field: from -> to" to a detail text.
 */
static char *
ds_change(char *detail, const char *field, const char *from, const char *to)
{
	return psprintf("%s%s%s: %s -> %s", detail ? detail : "",
					detail ? ", " : "", field,
					from ? from : "null", to ? to : "null");
}

/*
 * ds_add_action
 *		Appends a planned action.
 */
static List *
ds_add_action(List *plan, DsStep step, const char *action, char *object,
			  char *detail)
{
	DsAction   *a = palloc0(sizeof(DsAction));

	a->step = step;
	a->action = action;
	a->object = object;
	a->detail = detail;
	return lappend(plan, a);
}

#define BOOLSTR(b) ((b) ? "true" : "false")

/*
 * ds_server_option_context
 *		Error context of ds_validate_server_options: the server's name.
 */
static void
ds_server_option_context(void *arg)
{
	errcontext("server \"%s\" of the config document", (const char *) arg);
}

/*
 * ds_validate_server_options
 *		Runs the option validator of the server's wrapper (ours or
 *		mysql_fdw's) on the options the document gives server name (column 6 of servers_sql's row tup: the complete
 *		list, as CREATE SERVER or ALTER SERVER would leave it) while
 *		planning, so a dry run refuses what the real run refuses ("hots",
 *		a password on a server ...).  The validator's errors name options,
 *		not secret values.
 */
static void
ds_validate_server_options(const char *name, const char *wrapper,
						   HeapTuple tup, TupleDesc desc)
{
	ForeignDataWrapper *fdw = GetForeignDataWrapperByName(wrapper, true);
	ErrorContextCallback errcb;
	bool		isnull;
	Datum		options = SPI_getbinval(tup, desc, 6, &isnull);

	if (fdw == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("foreign-data wrapper \"%s\" does not exist", wrapper),
				errdetail("Server \"%s\" of the config document uses it.", name),
				errhint("Install it first: CREATE EXTENSION %s;",
						quote_identifier(wrapper)));
	if (isnull || !OidIsValid(fdw->fdwvalidator))
		return;
	errcb.callback = ds_server_option_context;
	errcb.arg = (void *) name;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	OidFunctionCall2(fdw->fdwvalidator, options,
					 ObjectIdGetDatum(ForeignServerRelationId));
	error_context_stack = errcb.previous;
}

/*
 * ds_plan_servers
 *		Plans the server part (servers_sql, one query): a create or alter
 *		action with its DDL for each server of the document that differs.
 *		Raises 42809 for an existing server of another wrapper than the
 *		entry's.
 */
static List *
ds_plan_servers(List *plan, Jsonb *config)
{
	MemoryContext callercxt = CurrentMemoryContext;
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1] = {JsonbPGetDatum(config)};
	int			level;
	uint64		i;

	level = ds_spi_connect();
	if (SPI_execute_with_args(servers_sql, 1, argtypes, args, NULL, true, 0)
		!= SPI_OK_SELECT)
		elog(ERROR, "could not plan servers");
	MemoryContextSwitchTo(callercxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *name = SPI_getvalue(tup, desc, 1);
		char	   *fdw = SPI_getvalue(tup, desc, 2);
		char	   *action = SPI_getvalue(tup, desc, 3);
		char	   *options = SPI_getvalue(tup, desc, 4);
		char	   *wrapper = SPI_getvalue(tup, desc, 7);
		DsAction   *a;

		if (fdw != NULL && strcmp(fdw, wrapper) != 0)
			ereport(ERROR,
					errcode(ERRCODE_WRONG_OBJECT_TYPE),
					errmsg("server \"%s\" does not use the foreign-data wrapper \"%s\"",
						   name, wrapper),
					errdetail("It uses \"%s\"; the config cannot change that.", fdw));
		ds_validate_server_options(name, wrapper, tup, desc);
		plan = ds_add_action(plan, STEP_SERVER,
							 strcmp(action, "create") == 0 ? "create" : "alter",
							 psprintf("server %s", name),
							 options ? psprintf("options: %s", options)
							 : pstrdup("no options"));
		a = llast(plan);
		a->ddl = SPI_getvalue(tup, desc, 5);
	}
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	return plan;
}

/*
 * ds_plan_sources
 *		Plans the datasources: create what is new, alter what differs from
 *		the registry (have), and, when the section is present, drop what it
 *		leaves out (never the local datasource).
 */
static List *
ds_plan_sources(List *plan, Jsonb *config, List *have)
{
	ListCell   *lc;

	foreach(lc, ds_config_rows(config, "sources"))
	{
		JsonbContainer *obj = lfirst(lc);
		DsSource   *want = palloc0(sizeof(DsSource));
		DsSource   *cur = NULL;
		ListCell   *lc2;
		char	   *detail = NULL;

		want->name = ds_config_field(obj, "name");
		want->server = ds_config_field(obj, "server");
		want->enabled = ds_config_bool(obj, "enabled", true);
		want->read_only = ds_config_bool(obj, "read_only", false);
		want->description = ds_config_nonempty(obj, "description");
		foreach(lc2, have)
			if (strcmp(((DsSource *) lfirst(lc2))->name, want->name) == 0)
				cur = lfirst(lc2);

		if (cur == NULL)
		{
			plan = ds_add_action(plan, STEP_CREATE_SOURCE, "create",
								 psprintf("datasource %s", want->name),
								 psprintf("server: %s, read_only: %s, enabled: %s",
										  want->server ? want->server : "null",
										  BOOLSTR(want->read_only),
										  BOOLSTR(want->enabled)));
			((DsAction *) llast(plan))->source = want;
			continue;
		}
		if (!ds_str_eq(cur->server, want->server))
			detail = ds_change(detail, "server", cur->server, want->server);
		if (cur->read_only != want->read_only)
			detail = ds_change(detail, "read_only", BOOLSTR(cur->read_only),
							   BOOLSTR(want->read_only));
		if (cur->enabled != want->enabled)
			detail = ds_change(detail, "enabled", BOOLSTR(cur->enabled),
							   BOOLSTR(want->enabled));
		if (!ds_str_eq(cur->description, want->description))
			detail = ds_change(detail, "description", cur->description,
							   want->description);
		if (detail != NULL)
		{
			plan = ds_add_action(plan, STEP_ALTER_SOURCE, "alter",
								 psprintf("datasource %s", want->name), detail);
			((DsAction *) llast(plan))->source = want;
		}
	}

	if (!ds_config_has_section(config, "sources"))
		return plan;
	foreach(lc, have)
	{
		DsSource   *cur = lfirst(lc);

		if (ds_config_names(config, "sources", cur->name) ||
			strcmp(cur->name, DS_LOCAL_SOURCE) == 0)
			continue;
		plan = ds_add_action(plan, STEP_DROP_SOURCE, "drop",
							 psprintf("datasource %s", cur->name),
							 cur->server ? psprintf("server %s is kept", cur->server)
							 : NULL);
		((DsAction *) llast(plan))->source = cur;
	}
	return plan;
}

/*
 * ds_want_database
 *		The logical database an object of the "databases" section asks for,
 *		defaults filled in.  Raises 42704 unless its datasource is among
 *		known (the datasources that exist once the plan has run).
 */
static DsDatabase *
ds_want_database(JsonbContainer *obj, List *known)
{
	DsDatabase *want = palloc0(sizeof(DsDatabase));
	ListCell   *lc;

	want->name = ds_config_field(obj, "name");
	want->source = ds_config_field(obj, "source");
	if (want->source == NULL)
		want->source = DS_LOCAL_SOURCE;
	want->schema_name = ds_config_field(obj, "schema_name");
	if (want->schema_name == NULL)
		want->schema_name = want->name;
	want->read_only = ds_config_bool(obj, "read_only", false);
	want->description = ds_config_nonempty(obj, "description");
	want->local_schema = ds_config_field(obj, "local_schema");
	foreach(lc, known)
		if (strcmp((char *) lfirst(lc), want->source) == 0)
			return want;
	ereport(ERROR,
			errcode(ERRCODE_UNDEFINED_OBJECT),
			errmsg("datasource \"%s\" does not exist", want->source),
			errdetail("Logical database \"%s\" of the config document is on it.",
					  want->name));
	return NULL;				/* keep compiler quiet */
}

/*
 * ds_find_database
 *		The logical database of that name in dbs, or NULL.
 */
static DsDatabase *
ds_find_database(List *dbs, const char *name)
{
	ListCell   *lc;

	foreach(lc, dbs)
		if (strcmp(((DsDatabase *) lfirst(lc))->name, name) == 0)
			return lfirst(lc);
	return NULL;
}

/*
 * ds_name_listed
 *		Whether a List of C strings has name.
 */
static bool
ds_name_listed(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

/*
 * ds_plan_databases
 *		Plans the logical databases, each on a datasource that exists once
 *		the datasource steps have run: create what is new, alter what
 *		differs, and, when the section is present, drop what it leaves out
 *		(registry rows only: schemas are kept).  have_sources is the
 *		registry's datasources before the plan; the old names of the
 *		logical databases renamed are added to *renamed (C strings).
 */
static List *
ds_plan_databases(List *plan, Jsonb *config, List *have_sources,
				  List **renamed)
{
	List	   *dbs = ds_list_databases();
	List	   *known = list_make1(DS_LOCAL_SOURCE);
	ListCell   *lc;

	if (ds_config_has_section(config, "sources"))
	{
		foreach(lc, ds_config_rows(config, "sources"))
			known = lappend(known, ds_config_field(lfirst(lc), "name"));
	}
	else
	{
		foreach(lc, have_sources)
			known = lappend(known, ((DsSource *) lfirst(lc))->name);
	}

	foreach(lc, ds_config_rows(config, "databases"))
	{
		DsDatabase *want = ds_want_database(lfirst(lc), known);
		DsDatabase *cur = ds_find_database(dbs, want->name);
		char	   *from = ds_config_field(lfirst(lc), "renamed_from");
		char	   *detail = NULL;

		/*
		 * "renamed_from": a rename (the journal goes along) when the old
		 * name is registered, the new one is not, and the document does
		 * not keep the old name too; once done, the entry is an ordinary
		 * one, so applying the document again does nothing.
		 */
		if (cur == NULL && from != NULL &&
			!ds_config_names(config, "databases", from) &&
			(cur = ds_find_database(dbs, from)) != NULL)
		{
			plan = ds_add_action(plan, STEP_RENAME_DATABASE, "rename",
								 psprintf("logical database %s", from),
								 psprintf("new name: %s", want->name));
			((DsAction *) llast(plan))->database = want;
			((DsAction *) llast(plan))->old_name = from;
			*renamed = lappend(*renamed, from);
		}
		if (cur == NULL)
		{
			plan = ds_add_action(plan, STEP_CREATE_DATABASE, "create",
								 psprintf("logical database %s", want->name),
								 psprintf("datasource: %s, schema: %s, read_only: %s",
										  want->source, want->schema_name,
										  BOOLSTR(want->read_only)));
			((DsAction *) llast(plan))->database = want;
			((DsAction *) llast(plan))->connects = true;
			continue;
		}
		if (want->local_schema != NULL &&
			!ds_str_eq(cur->local_schema, want->local_schema))
			ereport(ERROR,
					errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					errmsg("cannot change the local schema of logical database \"%s\"",
						   want->name),
					errdetail("The registry has %s; the config document has \"%s\".",
							  cur->local_schema ?
							  psprintf("\"%s\"", cur->local_schema) : "none",
							  want->local_schema),
					errhint("Drop the logical database and create it again."));
		if (strcmp(cur->source, want->source) != 0)
			detail = ds_change(detail, "datasource", cur->source, want->source);
		if (strcmp(cur->schema_name, want->schema_name) != 0)
			detail = ds_change(detail, "schema", cur->schema_name,
							   want->schema_name);
		if (cur->read_only != want->read_only)
			detail = ds_change(detail, "read_only", BOOLSTR(cur->read_only),
							   BOOLSTR(want->read_only));
		if (!ds_str_eq(cur->description, want->description))
			detail = ds_change(detail, "description", cur->description,
							   want->description);
		if (detail != NULL)
		{
			plan = ds_add_action(plan, STEP_ALTER_DATABASE, "alter",
								 psprintf("logical database %s", want->name),
								 detail);
			((DsAction *) llast(plan))->database = want;
			((DsAction *) llast(plan))->connects =
				strcmp(cur->source, want->source) != 0 ||
				strcmp(cur->schema_name, want->schema_name) != 0;
		}
	}

	if (!ds_config_has_section(config, "databases"))
		return plan;
	foreach(lc, dbs)
	{
		DsDatabase *cur = lfirst(lc);

		if (ds_config_names(config, "databases", cur->name) ||
			ds_name_listed(*renamed, cur->name))
			continue;
		plan = ds_add_action(plan, STEP_DROP_DATABASE, "drop",
							 psprintf("logical database %s", cur->name),
							 cur->local_schema == NULL ?
							 psprintf("schema %s is kept", cur->schema_name) :
							 psprintf("local schema %s is dropped, MySQL database %s is kept",
									  cur->local_schema, cur->schema_name));
		((DsAction *) llast(plan))->database = cur;
	}
	return plan;
}

/*
 * ds_has_mapping
 *		Whether the current user can connect to foreign server name: it
 *		exists and has a user mapping for the user or for PUBLIC (what
 *		GetUserMapping looks for).
 */
static bool
ds_has_mapping(const char *name)
{
	Oid			server = get_foreign_server_oid(name, true);
	HeapTuple	tp;

	if (!OidIsValid(server))
		return false;
	tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(GetUserId()),
						 ObjectIdGetDatum(server));
	if (!HeapTupleIsValid(tp))
		tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							 ObjectIdGetDatum(server));
	if (!HeapTupleIsValid(tp))
		return false;
	ReleaseSysCache(tp);
	return true;
}

/*
 * ds_check_mappings
 *		Before anything runs (dry run or not): the logical databases the
 *		plan creates or moves on a remote datasource need a connection, so
 *		the current user needs a user mapping on its server.  A document
 *		applied to a fresh database names servers that do not exist yet,
 *		so none can have a mapping: raise one error naming every such
 *		server and the steps (servers and datasources first, then the
 *		mappings, then the whole document).  have is the registry's
 *		datasources before the plan.
 */
static void
ds_check_mappings(List *plan, List *have)
{
	StringInfoData missing;
	StringInfoData steps;
	List	   *named = NIL;
	ListCell   *lc;
	int			n = 0;

	initStringInfo(&missing);
	initStringInfo(&steps);
	foreach(lc, plan)
	{
		DsAction   *a = lfirst(lc);
		const char *server = NULL;
		ListCell   *lc2;

		if (!a->connects || strcmp(a->database->source, DS_LOCAL_SOURCE) == 0)
			continue;
		/* the datasource's server once the plan has run */
		foreach(lc2, have)
			if (strcmp(((DsSource *) lfirst(lc2))->name, a->database->source) == 0)
				server = ((DsSource *) lfirst(lc2))->server;
		foreach(lc2, plan)
		{
			DsAction   *s = lfirst(lc2);

			if ((s->step == STEP_CREATE_SOURCE || s->step == STEP_ALTER_SOURCE) &&
				strcmp(s->source->name, a->database->source) == 0)
				server = s->source->server;
		}
		if (server == NULL || ds_name_listed(named, server) ||
			ds_has_mapping(server))
			continue;
		named = lappend(named, (char *) server);
		appendStringInfo(&missing, "%s%s", n > 0 ? ", " : "",
						 quote_identifier(server));
		appendStringInfo(&steps, " CREATE USER MAPPING FOR CURRENT_USER SERVER %s OPTIONS (user '...', password '...');",
						 quote_identifier(server));
		n++;
	}
	if (n > 0)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_OBJECT),
				errmsg("no user mapping for \"%s\" on server%s %s",
					   GetUserNameFromId(GetUserId(), false),
					   n > 1 ? "s" : "", missing.data),
				errdetail("The config's logical databases on %s need a connection to look at or create their schemas; nothing was changed.",
						  n > 1 ? "these servers" : "this server"),
				errhint("Apply the document in steps: first only its \"servers\" and \"sources\" sections, then%s then the whole document.",
						steps.data));
}

/*
 * ds_run_action
 *		Carries out one planned action through the registry's own
 *		operations (registry.c), or the server DDL as the caller.
 */
static void
ds_run_action(DsAction *a)
{
	switch (a->step)
	{
		case STEP_SERVER:
			ds_run_sql_as_caller(a->ddl);
			break;
		case STEP_CREATE_SOURCE:
			ds_do_create_source(a->source->name, a->source->server,
								a->source->read_only,
								a->source->description);
			if (!a->source->enabled)
				ds_do_alter_source(a->source->name, NULL, -1, 0, NULL);
			break;
		case STEP_ALTER_SOURCE:
			ds_do_alter_source(a->source->name, a->source->server,
							   a->source->read_only,
							   a->source->enabled,
							   a->source->description
							   ? a->source->description : "");
			break;
		case STEP_DROP_DATABASE:
			ds_do_drop_database(a->database->name, false);
			break;
		case STEP_RENAME_DATABASE:
			ds_do_rename_database(a->old_name, a->database->name);
			break;
		case STEP_ALTER_DATABASE:
			ds_do_alter_database(a->database->name,
								 a->database->source,
								 a->database->schema_name,
								 a->database->read_only,
								 a->database->description
								 ? a->database->description : "");
			break;
		case STEP_CREATE_DATABASE:
			ds_do_create_database(a->database->name,
								  a->database->source,
								  a->database->schema_name, true,
								  a->database->read_only,
								  a->database->description,
								  a->database->local_schema);
			break;
		case STEP_DROP_SOURCE:
			ds_do_drop_source(a->source->name, false);
			break;
		case STEP_COUNT:
			break;
	}
}

/*
 * ds_config_run
 *		Carries out the plan (unless dry_run) step by step, in dependency
 *		order, and reports each action as a row of the result.
 */
static void
ds_config_run(List *plan, bool dry_run, ReturnSetInfo *rsinfo)
{
	int			step;
	ListCell   *lc;

	for (step = 0; step < STEP_COUNT; step++)
	{
		foreach(lc, plan)
		{
			DsAction   *a = lfirst(lc);
			Datum		values[3];
			bool		nulls[3] = {false, false, a->detail == NULL};

			if ((int) a->step != step)
				continue;
			if (!dry_run)
				ds_run_action(a);
			values[0] = CStringGetTextDatum(a->action);
			values[1] = CStringGetTextDatum(a->object);
			values[2] = a->detail ? CStringGetTextDatum(a->detail) : (Datum) 0;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
}

/*
 * apply_config(config jsonb, dry_run bool) -> setof (action, object, detail)
 *		Check, plan, run: see the file header.
 */
Datum
pgds_apply_config(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Jsonb	   *config;
	bool		dry_run;
	List	   *plan = NIL;
	List	   *have;
	List	   *renamed = NIL;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"config\" must not be null"));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"dry_run\" must not be null"));
	config = PG_GETARG_JSONB_P(0);
	dry_run = PG_GETARG_BOOL(1);

	InitMaterializedSRF(fcinfo, 0);

	ds_config_check(config);
	ds_lock_registry();
	have = ds_list_sources();
	plan = ds_plan_servers(plan, config);
	plan = ds_plan_sources(plan, config, have);
	plan = ds_plan_databases(plan, config, have, &renamed);
	ds_check_mappings(plan, have);
	ds_config_run(plan, dry_run, rsinfo);
	return (Datum) 0;
}
