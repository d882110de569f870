/*-------------------------------------------------------------------------
 *
 * enforce.c
 *		  The sandbox's gates: where every path of a statement meets.
 *
 * A check of the client's text sees only what the client wrote; a function
 * body, a view, a trigger, SQL run from text (query_to_xml), a fast-path
 * function call or a utility statement inside a DO block never show up
 * there.  So the sandbox (sandbox.c) is enforced where PostgreSQL itself
 * checks privileges, the way mandatory access control modules do:
 *
 *	ExecutorCheckPerms_hook		every relation any executed statement
 *		touches, views expanded, in functions and triggers as at top level,
 *		COPY and EXPLAIN included: its schema must be a system schema, the
 *		extension's, the session's own temporary schema, or the schema of a
 *		local logical database the sandbox allows, and it may not be a
 *		catalog that holds other tables' values (statistics, large objects);
 *		a read-only sandbox asks for no write permission (the extension writing its own tables as
 *		their owner excepted);
 *	object_access_hook (OAT_FUNCTION_EXECUTE)	every function about to run,
 *		from an expression or a fast-path call, builtins included: it must
 *		live in such a schema; large-object functions (their data belongs to
 *		no schema) and the extension's registry and sandbox functions are
 *		refused; a read-only sandbox also refuses the builtins that have
 *		effects beyond the session that a read-only transaction lets through
 *		(sequences, notifications, advisory locks); settings a session may
 *		change (set_config) are its own business, as SQL run from text is
 *		the executor gate's;
 *	planner_hook				the sequence a sequence function names
 *		(nextval, setval, currval ...: a function whose reach is in its
 *		argument) must be a constant in such a schema; outside a statement
 *		(the fast path) these functions are refused;
 *	ProcessUtility_hook			utility statements: a read-only sandbox
 *		runs only those that change no data; any sandbox is refused the ones
 *		that reach beyond schemas (roles, databases, LOAD, CREATE SCHEMA ...);
 *		DDL a writable sandbox may run is checked object by object at
 *		ddl_command_end and sql_drop (ds_gate_ddl_object, called by the DDL
 *		journal's event trigger), where PostgreSQL has resolved every name;
 *		with those event triggers disabled, DDL is refused.
 *
 * The executor and utility hooks also hold the write rule of MySQL
 * datasources (mysql_write.c) for every session, sandboxed or not: a
 * write to such a foreign table inside a transaction block is refused.
 *
 * Routing functions check their target logical database (policy.c); the
 * post-parse check of hooks.c stays as an early filter with the friendlier
 * messages.  Nothing here runs in a session that is not sandboxed but one
 * call to ds_sandbox_get(), and nothing in parallel workers (the leader has
 * checked the same plan).
 *
 * Verdicts on schemas and functions are cached per backend by OID, dropped
 * when the sandbox or the registry changes; a statement's relations cost a
 * hash lookup each.  The utility hook also remembers the text of the
 * statement being run, for the DDL journal (ds_gate_statement_text), so the
 * journal records that statement and not the client's whole string.
 *
 * Memory: the caches live in "pg_datasource gates" under TopMemoryContext;
 * messages are built in the current context.
 *
 * IDENTIFICATION
 *		  src/enforce.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "catalog/pg_event_trigger.h"
#include "catalog/pg_largeobject.h"
#include "catalog/pg_largeobject_metadata.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_statistic_ext_data.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/scansup.h"
#include "tcop/cmdtag.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "pg_datasource.h"

/* what a schema is to the sandbox */
typedef enum DsGateKind
{
	DS_GATE_SYSTEM,				/* pg_catalog, information_schema */
	DS_GATE_EXTENSION,			/* the extension's own schema */
	DS_GATE_TEMP,				/* the session's own temporary schema */
	DS_GATE_DATABASE,			/* a logical database the sandbox allows */
	DS_GATE_DENIED
} DsGateKind;

typedef struct DsGateEntry
{
	Oid			oid;			/* schema or function */
	DsGateKind	kind;
	bool		read_only;		/* DS_GATE_DATABASE: that database is */
	char	   *reason;			/* why denied (functions: why refused) */
} DsGateEntry;

static ExecutorCheckPerms_hook_type prev_check_perms = NULL;
static object_access_hook_type prev_object_access = NULL;
static ProcessUtility_hook_type prev_utility = NULL;
static planner_hook_type prev_planner = NULL;

static MemoryContext gate_cxt = NULL;
static HTAB *gate_schemas = NULL;
static HTAB *gate_functions = NULL;
static uint64 gate_epoch = 0;
static uint64 gate_registry = 0;

/* the statement ProcessUtility is running, for the DDL journal */
static const char *utility_text = NULL;
static int	utility_location = 0;
static int	utility_length = 0;

/* the extension's functions a sandbox may not call */
static const char *const gate_registry_functions[] = {
	"create_source", "alter_source", "drop_source", "create_database",
	"alter_database", "rename_database", "drop_database", "apply_config",
	"export_config", "set_sandbox", "drop_sandbox", "registry_changed",
	"pg_datasource_validator", "guard_server_drop", "log_ddl", NULL
};

/*
 * builtins with effects beyond the session that a read-only transaction
 * lets through; a read-only sandbox may not call them (nor take advisory
 * locks, which can stall other sessions' migrations)
 */
static const char *const gate_effect_builtins[] = {
	"nextval", "setval", "pg_notify", NULL
};

/* ... and those a read-only sandbox may not call (they write) */
static const char *const gate_writing_functions[] = {
	"migrate", "migrate_all", "baseline", "accept_checksum", "adopt_drizzle",
	NULL
};

/*
 * ds_gate_active
 *		The sandbox when the gates apply to this call, else NULL.  Refuses
 *		at once in a session that fails closed.
 */
static const DsSandbox *
ds_gate_active(void)
{
	const DsSandbox *s;

	if (IsParallelWorker())
		return NULL;
	s = ds_sandbox_get();
	if (!s->gated)
		return NULL;
	if (s->fail_closed != NULL)
		ds_sandbox_refuse_all(s);

	/* the caches hold verdicts for one sandbox and one registry */
	if (gate_cxt == NULL)
		gate_cxt = AllocSetContextCreate(TopMemoryContext, "pg_datasource gates",
										 ALLOCSET_DEFAULT_SIZES);
	if (gate_schemas == NULL || gate_epoch != s->epoch ||
		(s->installed && gate_registry != ds_cache_generation()))
	{
		HASHCTL		ctl;

		MemoryContextReset(gate_cxt);
		MemSet(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(DsGateEntry);
		ctl.hcxt = gate_cxt;
		gate_schemas = hash_create("pg_datasource gate schemas", 64, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		gate_functions = hash_create("pg_datasource gate functions", 256, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		gate_epoch = s->epoch;
		gate_registry = s->installed ? ds_cache_generation() : 0;
	}
	return s;
}

/*
 * ds_gate_schema
 *		What schema nsp is to the sandbox s (cached).
 */
static DsGateEntry *
ds_gate_schema(const DsSandbox *s, Oid nsp)
{
	DsGateEntry *e;
	bool		found;
	DsGateKind	kind;
	bool		ro = false;
	char	   *reason = NULL;
	char	   *nspname;

	e = hash_search(gate_schemas, &nsp, HASH_FIND, NULL);
	if (e != NULL)
		return e;

	nspname = get_namespace_name(nsp);
	if (nsp == PG_CATALOG_NAMESPACE ||
		(nspname != NULL && strcmp(nspname, "information_schema") == 0))
		kind = DS_GATE_SYSTEM;
	else if (nsp == s->ext_nsp && OidIsValid(nsp))
		kind = DS_GATE_EXTENSION;
	else if (isTempOrTempToastNamespace(nsp))
		kind = DS_GATE_TEMP;
	else
	{
		DsSource   *src = NULL;
		DsDatabase *db = NULL;

		kind = DS_GATE_DENIED;
		if (nspname != NULL && s->installed && ds_cache_ensure())
			db = ds_cache_local_schema(nspname, &src);
		if (db == NULL)
			reason = psprintf("Schema \"%s\" is not the schema of a logical database on this server.",
							  nspname ? nspname : "?");
		else if (!ds_sandbox_allows(db->name))
			reason = psprintf("Schema \"%s\" is logical database \"%s\", which this session may not touch.",
							  nspname, db->name);
		else
		{
			kind = DS_GATE_DATABASE;
			ro = db->read_only || (src != NULL && src->read_only);
		}
	}

	e = hash_search(gate_schemas, &nsp, HASH_ENTER, &found);
	e->kind = kind;
	e->read_only = ro;
	e->reason = reason ? MemoryContextStrdup(gate_cxt, reason) : NULL;
	return e;
}

/*
 * ds_gate_relation
 *		Why the sandbox s refuses relation relid with the permissions
 *		perms, or NULL.
 */
static char *
ds_gate_relation(const DsSandbox *s, Oid relid, AclMode perms)
{
	DsGateEntry *e = ds_gate_schema(s, get_rel_namespace(relid));
	bool		writes = (perms & (ACL_INSERT | ACL_UPDATE | ACL_DELETE |
								   ACL_TRUNCATE)) != 0;

	if (e->kind == DS_GATE_DENIED)
		return e->reason;
	if (e->kind == DS_GATE_SYSTEM &&
		(relid == StatisticRelationId || relid == StatisticExtDataRelationId ||
		 relid == LargeObjectRelationId || relid == LargeObjectMetadataRelationId))
		return pstrdup("It holds values of the tables of every schema (pg_stats reads it).");
	if (!writes)
		return NULL;
	if (e->kind == DS_GATE_EXTENSION && GetUserId() == ds_relation_owner(relid))
		return NULL;			/* the extension's own bookkeeping */
	if (s->read_only)
		return pstrdup("The sandbox of this session is read-only.");
	if (e->kind == DS_GATE_DATABASE && e->read_only)
		return pstrdup("Its logical database is read-only.");
	return NULL;
}

/*
 * ds_check_perms
 *		ExecutorCheckPerms_hook: every relation of the range table.
 */
static bool
ds_check_perms(List *rangeTable, bool ereport_on_violation)
{
	const DsSandbox *s;
	ListCell   *lc;

	if (prev_check_perms && !prev_check_perms(rangeTable, ereport_on_violation))
		return false;
	/* MySQL's writes are not transactional (mysql_write.c), sandbox or not */
	foreach(lc, rangeTable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (ds_mysql_write_target(rte))
			ds_mysql_check_write(rte->relid,
								 (rte->requiredPerms & ACL_INSERT) ? "insert into" :
								 (rte->requiredPerms & ACL_DELETE) ? "delete from" :
								 "update");
	}
	if ((s = ds_gate_active()) == NULL)
		return true;
	foreach(lc, rangeTable)
	{
		RangeTblEntry *rte = lfirst(lc);
		char	   *reason;

		if (rte->rtekind != RTE_RELATION)
			continue;
		reason = ds_gate_relation(s, rte->relid, rte->requiredPerms);
		if (reason == NULL)
			continue;
		if (!ereport_on_violation)
			return false;
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied by the datasource sandbox for relation %s",
					   quote_qualified_identifier(get_namespace_name(get_rel_namespace(rte->relid)),
												  get_rel_name(rte->relid))),
				errdetail_internal("%s", reason));
	}
	return true;
}

/*
 * ds_gate_is_sequence_function
 *		Whether funcid takes a sequence as its first argument (nextval,
 *		currval, setval, pg_sequence_last_value, pg_sequence_parameters):
 *		what it reaches is in the argument, which the function gate does
 *		not see.
 */
static bool
ds_gate_is_sequence_function(Oid funcid)
{
	return funcid == F_NEXTVAL || funcid == F_CURRVAL ||
		funcid == F_SETVAL_REGCLASS_INT8 || funcid == F_SETVAL_REGCLASS_INT8_BOOL ||
		funcid == F_PG_SEQUENCE_LAST_VALUE || funcid == F_PG_SEQUENCE_PARAMETERS;
}

/*
 * ds_gate_sequences_walker
 *		Finds the sequence functions of a query about to be planned (column
 *		defaults are in it by now) and judges the sequence each names: it
 *		must be a constant, in a schema the sandbox allows.
 */
static bool
ds_gate_sequences_walker(Node *node, void *context)
{
	const DsSandbox *s = (const DsSandbox *) context;

	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, ds_gate_sequences_walker,
								 context, 0);
	if (IsA(node, FuncExpr) &&
		ds_gate_is_sequence_function(((FuncExpr *) node)->funcid))
	{
		FuncExpr   *f = (FuncExpr *) node;
		Node	   *arg = f->args ? linitial(f->args) : NULL;
		char	   *reason = NULL;

		if (arg == NULL || !IsA(arg, Const) || ((Const *) arg)->constisnull)
			reason = pstrdup("Its sequence is not a constant, so it cannot be checked.");
		else
		{
			Oid			relid = DatumGetObjectId(((Const *) arg)->constvalue);
			Oid			nsp = get_rel_namespace(relid);

			if (OidIsValid(nsp))
			{
				DsGateEntry *e = ds_gate_schema(s, nsp);

				if (e->kind == DS_GATE_DENIED)
					reason = e->reason;
			}
		}
		if (reason != NULL)
			ereport(ERROR,
					errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("permission denied by the datasource sandbox for function %s",
						   format_procedure(f->funcid)),
					errdetail_internal("%s", reason));
	}
	return expression_tree_walker(node, ds_gate_sequences_walker, context);
}

/*
 * ds_planner
 *		planner_hook: the sequences a statement's sequence functions name.
 */
static PlannedStmt *
ds_planner(Query *parse, const char *query_string, int cursorOptions,
		   ParamListInfo boundParams)
{
	const DsSandbox *s = ds_gate_active();

	if (s != NULL)
		(void) ds_gate_sequences_walker((Node *) parse, (void *) s);
	if (prev_planner)
		return prev_planner(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/*
 * ds_gate_function_reason
 *		Why the sandbox s refuses to run function funcid, or NULL.
 */
static char *
ds_gate_function_reason(const DsSandbox *s, Oid funcid)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Form_pg_proc proc;
	char	   *name;
	Oid			nsp;
	DsGateEntry *e;

	if (!HeapTupleIsValid(tup))
		return NULL;			/* gone: the executor will say */
	proc = (Form_pg_proc) GETSTRUCT(tup);
	name = pstrdup(NameStr(proc->proname));
	nsp = proc->pronamespace;
	ReleaseSysCache(tup);

	if (nsp == PG_CATALOG_NAMESPACE)
	{
		if (strncmp(name, "lo_", 3) == 0 || strcmp(name, "loread") == 0 ||
			strcmp(name, "lowrite") == 0)
			return pstrdup("Large objects belong to no logical database.");
		if (s->read_only &&
			(ds_name_in_list(gate_effect_builtins, name) ||
			 strncmp(name, "pg_advisory", 11) == 0))
			return psprintf("The sandbox of this session is read-only, and %s has effects.",
							name);
		return NULL;
	}
	if (nsp == s->ext_nsp)
	{
		if (ds_name_in_list(gate_registry_functions, name))
			return pstrdup("A sandboxed session cannot change the registry or the sandboxes.");
		if (s->read_only && ds_name_in_list(gate_writing_functions, name))
			return pstrdup("The sandbox of this session is read-only.");
		return NULL;
	}
	e = ds_gate_schema(s, nsp);
	return e->kind == DS_GATE_DENIED ? e->reason : NULL;
}

/*
 * ds_object_access
 *		object_access_hook: judges every function about to execute.
 */
static void
ds_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				 int subId, void *arg)
{
	const DsSandbox *s;
	DsGateEntry *e;
	bool		found;

	if (prev_object_access)
		prev_object_access(access, classId, objectId, subId, arg);
	if (access != OAT_FUNCTION_EXECUTE || (s = ds_gate_active()) == NULL)
		return;

	/*
	 * A sequence function's sequence is checked when its statement is
	 * planned (ds_planner); a call with no statement around it (the
	 * protocol's fast path) cannot be.
	 */
	if (ActivePortal == NULL && ds_gate_is_sequence_function(objectId))
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied by the datasource sandbox for function %s",
					   format_procedure(objectId)),
				errdetail("A sequence function called outside a statement cannot be checked."));

	e = hash_search(gate_functions, &objectId, HASH_FIND, NULL);
	if (e == NULL)
	{
		char	   *reason = ds_gate_function_reason(s, objectId);

		e = hash_search(gate_functions, &objectId, HASH_ENTER, &found);
		e->kind = reason ? DS_GATE_DENIED : DS_GATE_SYSTEM;
		e->reason = reason ? MemoryContextStrdup(gate_cxt, reason) : NULL;
	}
	if (e->kind == DS_GATE_DENIED)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				errmsg("permission denied by the datasource sandbox for function %s",
					   format_procedure(objectId)),
				errdetail_internal("%s", e->reason));
}

/*
 * ds_gate_ddl_checked
 *		Whether the event triggers that check DDL object by object will fire
 *		in this session (ds_gate_ddl_object): both enabled, and enabled for
 *		the session's replication role.  Without them DDL is refused.
 */
static bool
ds_gate_ddl_checked(void)
{
	static const char *const names[] = {"datasource_ddl_log", "datasource_ddl_log_drop"};
	int			i;

	for (i = 0; i < 2; i++)
	{
		HeapTuple	tup = SearchSysCache1(EVENTTRIGGERNAME, CStringGetDatum(names[i]));
		char		enabled;

		if (!HeapTupleIsValid(tup))
			return false;
		enabled = ((Form_pg_event_trigger) GETSTRUCT(tup))->evtenabled;
		ReleaseSysCache(tup);
		if (enabled == TRIGGER_DISABLED ||
			(enabled == TRIGGER_FIRES_ON_ORIGIN &&
			 SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA) ||
			(enabled == TRIGGER_FIRES_ON_REPLICA &&
			 SessionReplicationRole != SESSION_REPLICATION_ROLE_REPLICA))
			return false;
	}
	return true;
}

/*
 * ds_gate_utility_reason
 *		Why the sandbox s refuses utility statement stmt, or NULL.  DDL a
 *		writable sandbox may run is checked again, object by object, when it
 *		ends (ds_gate_ddl_object).
 */
static char *
ds_gate_utility_reason(const DsSandbox *s, Node *stmt)
{
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
			/* change no data (what they run passes the other gates) */
		case T_TransactionStmt:
		case T_VariableSetStmt:
		case T_VariableShowStmt:
		case T_DiscardStmt:
		case T_ExplainStmt:
		case T_PrepareStmt:
		case T_ExecuteStmt:
		case T_DeallocateStmt:
		case T_DeclareCursorStmt:
		case T_FetchStmt:
		case T_ClosePortalStmt:
		case T_CallStmt:
		case T_DoStmt:
		case T_UnlistenStmt:
			return NULL;
		case T_CopyStmt:
			if (((CopyStmt *) stmt)->is_from && s->read_only)
				return pstrdup("The sandbox of this session is read-only.");
			return NULL;
		case T_NotifyStmt:
			return s->read_only ? pstrdup("The sandbox of this session is read-only.") : NULL;
		case T_LockStmt:
			foreach(lc, ((LockStmt *) stmt)->relations)
			{
				Oid			relid = RangeVarGetRelid(lfirst(lc), NoLock, true);
				DsGateEntry *e;

				if (!OidIsValid(relid))
					continue;	/* LOCK will say it does not exist */
				e = ds_gate_schema(s, get_rel_namespace(relid));
				if (e->kind == DS_GATE_DENIED)
					return e->reason;
			}
			return NULL;

			/* reach beyond the schemas of logical databases */
		case T_ListenStmt:		/* channels belong to no schema */
		case T_LoadStmt:
		case T_CreateSchemaStmt:
		case T_CreateExtensionStmt:
		case T_AlterExtensionStmt:
		case T_AlterExtensionContentsStmt:
		case T_CreateRoleStmt:
		case T_AlterRoleStmt:
		case T_AlterRoleSetStmt:
		case T_DropRoleStmt:
		case T_GrantRoleStmt:
		case T_CreatedbStmt:
		case T_AlterDatabaseStmt:
		case T_AlterDatabaseSetStmt:
		case T_AlterDatabaseRefreshCollStmt:
		case T_DropdbStmt:
		case T_CreateTableSpaceStmt:
		case T_DropTableSpaceStmt:
		case T_AlterTableSpaceOptionsStmt:
		case T_AlterSystemStmt:
		case T_CheckPointStmt:
		case T_VacuumStmt:
		case T_ClusterStmt:
		case T_ReindexStmt:
		case T_CreateEventTrigStmt:
		case T_AlterEventTrigStmt:
		case T_CreateFdwStmt:
		case T_AlterFdwStmt:
		case T_CreateForeignServerStmt:
		case T_AlterForeignServerStmt:
		case T_CreateUserMappingStmt:
		case T_AlterUserMappingStmt:
		case T_DropUserMappingStmt:
		case T_ImportForeignSchemaStmt:
		case T_CreatePublicationStmt:
		case T_AlterPublicationStmt:
		case T_CreateSubscriptionStmt:
		case T_AlterSubscriptionStmt:
		case T_DropSubscriptionStmt:
		case T_DropOwnedStmt:
		case T_ReassignOwnedStmt:
		case T_AlterDefaultPrivilegesStmt:
		case T_CreateCastStmt:
		case T_CreateTransformStmt:
		case T_CreatePLangStmt:
		case T_CreateAmStmt:
		case T_SecLabelStmt:
			return pstrdup("A sandboxed session may not run it.");
		default:
			if (s->read_only)
				return pstrdup("The sandbox of this session is read-only.");
			if (!ds_gate_ddl_checked())
				return pstrdup("The event triggers that check a sandboxed session's DDL (datasource_ddl_log, datasource_ddl_log_drop) are disabled.");
			return NULL;
	}
}

/*
 * ds_gate_truncate
 *		TRUNCATE of a MySQL datasource's foreign table inside a transaction
 *		block (mysql_write.c's rule): TRUNCATE checks its permissions itself,
 *		not through the executor's hook.  A name that does not resolve is
 *		left to TRUNCATE to report.
 */
static void
ds_gate_truncate(TruncateStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->relations)
	{
		Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, lc), NoLock, true);

		if (OidIsValid(relid))
			ds_mysql_check_write(relid, "truncate");
	}
}

/*
 * ds_process_utility
 *		ProcessUtility_hook: the sandbox's rules for utility statements, and
 *		the text of the statement for the DDL journal.
 */
static void
ds_process_utility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	const char *save_text = utility_text;
	int			save_location = utility_location;
	int			save_length = utility_length;
	const DsSandbox *s = ds_gate_active();

	if (s != NULL)
	{
		char	   *reason = ds_gate_utility_reason(s, pstmt->utilityStmt);

		if (reason != NULL)
			ereport(ERROR,
					errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("permission denied by the datasource sandbox for %s",
						   GetCommandTagName(CreateCommandTag(pstmt->utilityStmt))),
					errdetail_internal("%s", reason));
	}

	if (IsA(pstmt->utilityStmt, TruncateStmt))
		ds_gate_truncate((TruncateStmt *) pstmt->utilityStmt);

	utility_text = queryString;
	utility_location = pstmt->stmt_location;
	utility_length = pstmt->stmt_len;
	PG_TRY();
	{
		if (prev_utility)
			prev_utility(pstmt, queryString, readOnlyTree, context, params,
						 queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		utility_text = save_text;
		utility_location = save_location;
		utility_length = save_length;
	}
	PG_END_TRY();
}

/*
 * ds_gate_statement_text
 *		The text of the utility statement being run (not the client's whole
 *		string), palloc'd; NULL when it is not known.
 */
char *
ds_gate_statement_text(void)
{
	const char *text = utility_text;
	int			loc = utility_location;
	int			len = utility_length;

	/*
	 * The library may have been loaded by this very statement (the event
	 * trigger's function): the portal running it knows where it is in the
	 * client's string.
	 */
	if (text == NULL && ActivePortal != NULL && ActivePortal->sourceText != NULL &&
		list_length(ActivePortal->stmts) == 1 &&
		IsA(linitial(ActivePortal->stmts), PlannedStmt))
	{
		PlannedStmt *ps = linitial_node(PlannedStmt, ActivePortal->stmts);

		text = ActivePortal->sourceText;
		loc = ps->stmt_location;
		len = ps->stmt_len;
	}
	if (text == NULL)
		return NULL;
	loc = loc > 0 ? loc : 0;
	len = len > 0 ? len : (int) strlen(text + loc);
	/* a statement after the first starts right after the ';' before it */
	while (len > 0 && scanner_isspace(text[loc]))
		loc++, len--;
	while (len > 0 && scanner_isspace(text[loc + len - 1]))
		len--;
	return pnstrdup(text + loc, len);
}

/*
 * ds_gate_ddl_object
 *		Called by the DDL journal's event trigger for each object a command
 *		created, altered or dropped: raises 42501 when a sandboxed session
 *		reached outside its logical databases.  object_type is the event's,
 *		schema the object's schema (for a schema, its own name; NULL for
 *		objects outside schemas).
 */
void
ds_gate_ddl_object(CommandTag tag, const char *object_type,
				   const char *schema, const char *identity)
{
	const DsSandbox *s = ds_gate_active();
	Oid			nsp;
	DsGateEntry *e;
	const char *reason = NULL;

	if (s == NULL)
		return;
	if (schema == NULL || (object_type && strcmp(object_type, "schema") == 0))
		reason = "It is not inside the schema of a logical database.";
	else
	{
		nsp = strcmp(schema, "pg_temp") == 0 ? LookupExplicitNamespace("pg_temp", true)
			: get_namespace_oid(schema, true);
		e = OidIsValid(nsp) ? ds_gate_schema(s, nsp) : NULL;
		if (e == NULL)
			reason = "Its schema is gone.";
		else if (e->kind == DS_GATE_DENIED)
			reason = e->reason;
		else if (e->kind == DS_GATE_SYSTEM || e->kind == DS_GATE_EXTENSION)
			reason = "It is not inside the schema of a logical database.";
		else if (e->kind == DS_GATE_DATABASE && e->read_only)
			reason = "Its logical database is read-only.";
	}
	if (reason != NULL)
		ereport(ERROR,
				errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				identity ?
				errmsg("permission denied by the datasource sandbox for %s %s",
					   object_type ? object_type : "object", identity) :
				errmsg("permission denied by the datasource sandbox for %s",
					   GetCommandTagName(tag)),
				errdetail_internal("%s", reason));
}

/*
 * ds_enforce_init
 *		Installs the gates, keeping the previous hooks; called from _PG_init.
 */
void
ds_enforce_init(void)
{
	prev_check_perms = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = ds_check_perms;
	prev_object_access = object_access_hook;
	object_access_hook = ds_object_access;
	prev_utility = ProcessUtility_hook;
	ProcessUtility_hook = ds_process_utility;
	prev_planner = planner_hook;
	planner_hook = ds_planner;
}
