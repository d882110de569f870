/*-------------------------------------------------------------------------
 *
 * readonly.c
 *		  The rules for a read-only statement: which statements, clauses,
 *		  functions and operators keep it read-only.
 *
 * There is one set of rules, used by both judges: validate() on the raw
 * parse tree (walk.c, walk_utility.c, validate.c) and the enforcement hook
 * on the analysed tree (hooks.c).  A statement is read-only when it is one
 * SELECT/TABLE/VALUES (or EXPLAIN without ANALYZE of one) with no locking
 * clause, no INTO, no data-modifying WITH query, and only functions and
 * operators judged safe here; the reasons it is not are worded here too
 * (ds_readonly_rule), so both judges say the same thing.
 *
 * validate.c collects the function and operator names of a statement; this
 * file judges them.  A name is judged over all the candidates it could
 * resolve to (every overload), so the answer does not depend on argument
 * types: a candidate that is volatile and not on a short allow-list of
 * side-effect-free builtins, or that is on the deny-list of builtins with
 * effects PostgreSQL's read-only transactions let through, makes the
 * statement not read-only.  A name the local catalog does not know cannot
 * be shown read-only.
 *
 * Verdicts are cached per backend, keyed by role, search_path, kind and
 * name, and dropped whenever pg_proc or pg_operator changes.  The cache is
 * bounded by a count (it starts over past 4096 verdicts), as the statement
 * cache is; it keeps no memory figure because its entries are a few short
 * strings each.
 *
 * Memory: the cache lives in a child of TopMemoryContext; reasons returned
 * are palloc'd in the caller's context.
 *
 * IDENTIFICATION
 *		  src/readonly.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "pg_datasource.h"

/*
 * Volatile builtins that have no side effects: they may appear in a
 * read-only statement.
 */
static const char *const ro_allowed_volatile[] = {
	"random", "gen_random_uuid", "clock_timestamp", "timeofday", NULL
};

/*
 * Builtins that run SQL given to them as text (or read a relation named by
 * an argument): what they reach is not visible to validation.
 */
static const char *const ro_runs_sql[] = {
	"query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
	"cursor_to_xml", "cursor_to_xmlschema",
	"table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
	"schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema",
	"database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
	"ts_stat", "dblink", "dblink_exec", "dblink_open", "dblink_send_query",
	NULL
};

/*
 * Builtins that are not volatile, or whose volatility we do not trust, but
 * that have effects: never read-only (nor are those of ro_runs_sql).
 */
static const char *const ro_effects[] = {
	"nextval", "currval", "setval", "lastval", "set_config", "setseed",
	"txid_current", "pg_current_xact_id", "pg_notify", "pg_sleep",
	"pg_sleep_for", "pg_sleep_until", "dblink_fetch",
	NULL
};

/*
 * Backend-local verdicts on function and operator names.  The table is keyed
 * by a hash of role, search_path, kind and name; the entry keeps the whole
 * key, so two keys with the same hash never share a verdict (the later one
 * replaces the earlier).
 */
typedef struct DsRoEntry
{
	uint32		key;			/* hash of what follows */
	Oid			role;
	char		kind;
	char	   *path;			/* search_path */
	char	   *name;			/* dotted name */
	char	   *reason;			/* NULL when read-only safe */
} DsRoEntry;

/* backend-local verdicts on functions by OID (the analysed-tree path) */
typedef struct DsRoOidEntry
{
	Oid			funcid;
	char	   *reason;			/* NULL when read-only safe */
} DsRoOidEntry;

static HTAB *ro_cache = NULL;
static HTAB *ro_oid_cache = NULL;
static MemoryContext ro_cache_cxt = NULL;

/*
 * ds_ro_key
 *		The hash of a verdict on a name: the role and search_path decide how
 *		an unqualified name resolves, so they are part of it.  The role/path
 *		part is hashed once per validation (w->path_hash).
 */
static uint32
ds_ro_key(DsRoCtx *w, char kind, const char *name)
{
	uint32		h = hash_combine(w->path_hash, (uint32) kind);

	return hash_combine(h, hash_bytes((const unsigned char *) name, strlen(name)));
}

/*
 * ds_ro_cache_reset
 *		Syscache callback: functions or operators changed.
 */
static void
ds_ro_cache_reset(Datum arg, int cacheid, uint32 hashvalue)
{
	if (ro_cache_cxt != NULL)
	{
		MemoryContextReset(ro_cache_cxt);
		ro_cache = NULL;
		ro_oid_cache = NULL;
	}
}

/*
 * ds_readonly_init
 *		Registers the cache callbacks; called once from _PG_init.
 */
void
ds_readonly_init(void)
{
	CacheRegisterSyscacheCallback(PROCOID, ds_ro_cache_reset, (Datum) 0);
	CacheRegisterSyscacheCallback(OPEROID, ds_ro_cache_reset, (Datum) 0);
}

/*
 * ds_readonly_rule
 *		The reason a statement is not read-only, in the words of the rule it
 *		breaks; name is the command tag (DS_RO_MODIFIES, DS_RO_NOT_QUERY) or
 *		the WITH query's name (DS_RO_CTE_MODIFIES), NULL for the others.
 */
char *
ds_readonly_rule(DsRoRule rule, const char *name)
{
	switch (rule)
	{
		case DS_RO_MODIFIES:
			return psprintf("%s modifies data", name);
		case DS_RO_CTE_MODIFIES:
			return psprintf("WITH query \"%s\" modifies data", name);
		case DS_RO_LOCKS:
			return pstrdup("a locking clause (FOR UPDATE/SHARE) locks rows");
		case DS_RO_SELECT_INTO:
			return pstrdup("SELECT INTO creates a table");
		case DS_RO_NOT_QUERY:
			return psprintf("%s is not a query", name);
		case DS_RO_DO:
			return pstrdup("DO runs code");
		case DS_RO_EXPLAIN_ANALYZE:
			return pstrdup("EXPLAIN ANALYZE runs the statement");
		case DS_RO_EXPLAIN_WRITE:
			return pstrdup("EXPLAIN of a statement that modifies data");
		case DS_RO_EXPLAIN_UTILITY:
			return pstrdup("EXPLAIN of a utility statement");
	}
	return NULL;				/* keep compiler quiet */
}

/*
 * ds_readonly_select
 *		Why one SELECT of a raw parse tree is not read-only (a locking
 *		clause, INTO), or NULL.  Its WITH queries are judged one by one
 *		(ds_readonly_cte) and its expressions by their functions.
 */
char *
ds_readonly_select(SelectStmt *s)
{
	if (s->lockingClause != NIL)
		return ds_readonly_rule(DS_RO_LOCKS, NULL);
	if (s->intoClause != NULL)
		return ds_readonly_rule(DS_RO_SELECT_INTO, NULL);
	return NULL;
}

/*
 * ds_readonly_cte
 *		Why a WITH query is not read-only, or NULL: anything but a SELECT
 *		modifies data.  Works on the raw tree (a SelectStmt or a DML
 *		statement) and on the analysed one (a Query).
 */
char *
ds_readonly_cte(CommonTableExpr *cte)
{
	Node	   *q = cte->ctequery;

	if (q == NULL)
		return NULL;
	if (IsA(q, Query) ? ((Query *) q)->commandType != CMD_SELECT
		: !IsA(q, SelectStmt))
		return ds_readonly_rule(DS_RO_CTE_MODIFIES, cte->ctename);
	return NULL;
}

/*
 * ds_readonly_query
 *		Why one level of an analysed query is not read-only (a command other
 *		than SELECT, a locking clause, a data-modifying WITH query), or
 *		NULL.  Its sublevels and expressions are the caller's to walk.
 */
char *
ds_readonly_query(Query *q)
{
	ListCell   *lc;

	if (q->commandType != CMD_SELECT)
		return ds_readonly_rule(DS_RO_MODIFIES,
								GetCommandTagName(CreateCommandTag((Node *) q)));
	if (q->rowMarks != NIL)
		return ds_readonly_rule(DS_RO_LOCKS, NULL);
	if (q->hasModifyingCTE)
	{
		foreach(lc, q->cteList)
		{
			char	   *reason = ds_readonly_cte(lfirst(lc));

			if (reason != NULL)
				return reason;
		}
	}
	return NULL;
}

/*
 * ds_proc_verdict
 *		Why calling one function may not be read-only, or NULL: a deny-listed
 *		builtin, or volatile and not an allow-listed builtin.  A function that
 *		is gone is NULL with missing_ok, else a reason.
 */
static char *
ds_proc_verdict(Oid funcid, bool missing_ok)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Form_pg_proc proc;
	char	   *reason = NULL;

	if (!HeapTupleIsValid(tup))
	{
		if (missing_ok)
			return NULL;
		return psprintf("function %u is not known here, so it cannot be shown to be read-only",
						funcid);
	}
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (proc->pronamespace == PG_CATALOG_NAMESPACE &&
		(ds_name_in_list(ro_effects, NameStr(proc->proname)) ||
		 ds_name_in_list(ro_runs_sql, NameStr(proc->proname))))
		reason = psprintf("function %s has side effects", NameStr(proc->proname));
	else if (proc->provolatile == PROVOLATILE_VOLATILE &&
			 !(proc->pronamespace == PG_CATALOG_NAMESPACE &&
			   ds_name_in_list(ro_allowed_volatile, NameStr(proc->proname))))
		reason = psprintf("function %s is volatile", NameStr(proc->proname));
	ReleaseSysCache(tup);
	return reason;
}

/*
 * ds_readonly_qualifier
 *		The logical database a function's or operator's qualifier names, as
 *		the walk resolves it (ds_cache_qualifier); NULL for none or for an
 *		ambiguous schema.
 */
static DsDatabase *
ds_readonly_qualifier(DsRoCtx *w, const char *schema)
{
	DsDatabase *db;
	DsSource   *src;

	return ds_cache_qualifier(schema, w->target_source, &db, &src) == 1 ? db : NULL;
}

/*
 * ds_func_verdict
 *		Why calling a function of that name may not be read-only, or NULL.
 *		All candidates of the name are judged (overloads included), so the
 *		answer does not depend on argument types.
 */
static char *
ds_func_verdict(DsRoCtx *w, List *names)
{
	char	   *schema;
	char	   *fname;
	List	   *lookup = names;
	FuncCandidateList cands;

	if (list_length(names) == 3)
		names = list_copy_tail(names, 1);	/* the catalog was checked */
	if (list_length(names) > 2)
		return psprintf("function %s cannot be checked", NameListToString(names));
	DeconstructQualifiedName(names, &schema, &fname);
	if (schema != NULL)
	{
		DsDatabase *db;

		db = ds_readonly_qualifier(w, schema);
		if (db != NULL)
		{
			if (ds_database_schema_here(db) == NULL)
				return psprintf("function %s is on a remote datasource and cannot be checked here",
								NameListToString(names));
			lookup = list_make2(makeString(pstrdup(ds_database_schema_here(db))),
								makeString(fname));
		}
	}
	else if (w->target != NULL && ds_database_schema_here(w->target) != NULL)
	{
		/* pg_catalog first, then the target's schema: as routing will run it */
		cands = FuncnameGetCandidates(list_make2(makeString("pg_catalog"),
												 makeString(fname)),
									  -1, NIL, false, false, false, true);
		if (cands == NULL)
			lookup = list_make2(makeString(pstrdup(ds_database_schema_here(w->target))),
								makeString(fname));
	}

	cands = FuncnameGetCandidates(lookup, -1, NIL, false, false, false, true);
	if (cands == NULL)
		return psprintf("function %s is not known here, so it cannot be shown to be read-only",
						NameListToString(names));
	for (; cands != NULL; cands = cands->next)
	{
		char	   *reason = ds_proc_verdict(cands->oid, true);

		if (reason)
			return reason;
	}
	return NULL;
}

/*
 * ds_oper_verdict
 *		Why an operator of that name may not be read-only, or NULL: an
 *		operator is as read-only as the functions behind it.
 */
static char *
ds_oper_verdict(DsRoCtx *w, List *names)
{
	FuncCandidateList cands;
	char	   *schema;
	char	   *oname;
	List	   *lookup = names;

	if (list_length(names) > 2)
		return psprintf("operator %s cannot be checked", NameListToString(names));
	DeconstructQualifiedName(names, &schema, &oname);
	if (schema != NULL && strcmp(schema, "pg_catalog") != 0)
	{
		DsDatabase *db;

		db = ds_readonly_qualifier(w, schema);
		if (db == NULL || ds_database_schema_here(db) == NULL)
			return psprintf("operator %s cannot be checked here", NameListToString(names));
		lookup = list_make2(makeString(pstrdup(ds_database_schema_here(db))),
							makeString(oname));
	}

	if (schema == NULL && w->target != NULL &&
		ds_database_schema_here(w->target) != NULL)
	{
		/* as routing runs it: pg_catalog first, then the target's schema */
		cands = OpernameGetCandidates(list_make2(makeString("pg_catalog"),
												 makeString(oname)), '\0', true);
		if (cands == NULL)
			cands = OpernameGetCandidates(list_make2(makeString(pstrdup(ds_database_schema_here(w->target))),
													 makeString(oname)), '\0', true);
	}
	else
		cands = OpernameGetCandidates(lookup, '\0', true);
	if (cands == NULL)
		return psprintf("operator %s is not known here, so it cannot be shown to be read-only",
						NameListToString(names));
	for (; cands != NULL; cands = cands->next)
	{
		HeapTuple	tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(cands->oid));
		RegProcedure code;

		if (!HeapTupleIsValid(tup))
			continue;
		code = ((Form_pg_operator) GETSTRUCT(tup))->oprcode;
		ReleaseSysCache(tup);
		if (OidIsValid(code) && func_volatile(code) == PROVOLATILE_VOLATILE)
			return psprintf("operator %s calls a volatile function", oname);
	}
	return NULL;
}

/*
 * ds_ro_table
 *		A verdict table with a binary key, in the cache context (created on
 *		first use); both tables go when the context is reset.
 */
static HTAB *
ds_ro_table(const char *name, Size keysize, Size entrysize)
{
	HASHCTL		ctl;

	if (ro_cache_cxt == NULL)
		ro_cache_cxt = AllocSetContextCreate(TopMemoryContext,
											 "pg_datasource read-only verdicts",
											 ALLOCSET_SMALL_SIZES);
	MemSet(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = ro_cache_cxt;
	return hash_create(name, 256, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * ds_readonly_reason
 *		Why a function (kind 'f') or operator ('o') name may not be
 *		read-only, or NULL; through the backend-local cache.
 */
char *
ds_readonly_reason(DsRoCtx *w, char kind, List *names)
{
	char	   *name = NameListToString(names);
	uint32		key = ds_ro_key(w, kind, name);
	DsRoEntry  *e;
	bool		found;
	char	   *reason;

	if (ro_cache == NULL)
		ro_cache = ds_ro_table("pg_datasource read-only verdicts",
							   sizeof(uint32), sizeof(DsRoEntry));
	e = hash_search(ro_cache, &key, HASH_FIND, NULL);
	if (e != NULL && e->role == w->role && e->kind == kind &&
		strcmp(e->name, name) == 0 && strcmp(e->path, w->path) == 0)
		return e->reason ? pstrdup(e->reason) : NULL;

	reason = (kind == 'f') ? ds_func_verdict(w, names) : ds_oper_verdict(w, names);

	/*
	 * The catalog lookups above may have processed invalidations that
	 * dropped the cache (ds_ro_cache_reset): then this verdict is not kept.
	 * A cache grown past its bound starts over.
	 */
	if (ro_cache == NULL)
		return reason;
	if (hash_get_num_entries(ro_cache) > 4096)
	{
		ds_ro_cache_reset((Datum) 0, 0, 0);
		return reason;
	}
	e = hash_search(ro_cache, &key, HASH_ENTER, &found);
	if (found)
	{
		/* same hash, another key: this one takes the slot */
		pfree(e->path);
		pfree(e->name);
		if (e->reason)
			pfree(e->reason);
	}
	e->role = w->role;
	e->kind = kind;
	e->path = MemoryContextStrdup(ro_cache_cxt, w->path);
	e->name = MemoryContextStrdup(ro_cache_cxt, name);
	e->reason = reason ? MemoryContextStrdup(ro_cache_cxt, reason) : NULL;
	return reason;
}

/*
 * ds_readonly_func
 *		Why calling the function funcid may not be read-only, or NULL; for
 *		statements already analysed, where the overload is known.  Cached by
 *		OID; the cache is dropped when pg_proc changes.
 */
char *
ds_readonly_func(Oid funcid)
{
	DsRoOidEntry *e;
	bool		found;
	char	   *reason;

	if (ro_oid_cache == NULL)
		ro_oid_cache = ds_ro_table("pg_datasource read-only verdicts by OID",
								   sizeof(Oid), sizeof(DsRoOidEntry));
	e = hash_search(ro_oid_cache, &funcid, HASH_FIND, NULL);
	if (e != NULL)
		return e->reason ? pstrdup(e->reason) : NULL;

	reason = ds_proc_verdict(funcid, false);
	if (ro_oid_cache == NULL)
		return reason;
	if (hash_get_num_entries(ro_oid_cache) > 4096)
	{
		ds_ro_cache_reset((Datum) 0, 0, 0);
		return reason;
	}
	e = hash_search(ro_oid_cache, &funcid, HASH_ENTER, &found);
	e->reason = reason ? MemoryContextStrdup(ro_cache_cxt, reason) : NULL;
	return reason;
}

/*
 * ds_readonly_runs_sql
 *		Whether a function name (a List of String, as written) may be one
 *		of the builtins that run SQL given as text: its last part is on the
 *		list, whatever its qualification.  A sandboxed session may not send
 *		such a call to a remote, where nothing checks what it runs.
 */
bool
ds_readonly_runs_sql(List *names)
{
	return names != NIL && ds_name_in_list(ro_runs_sql, strVal(llast(names)));
}
