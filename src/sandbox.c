/*-------------------------------------------------------------------------
 *
 * sandbox.c
 *		  The sandbox of a session: which logical databases it may touch,
 *		  whether only to read, and whether it must be refused everything.
 *
 * A sandbox is a property of a role, kept where the role's client cannot
 * reach it: a row of datasource.sandboxes (set_sandbox(), a superuser's
 * act) and the settings stored for the role and the database in
 * pg_db_role_setting (ALTER ROLE / ALTER DATABASE ... SET).  Both are read
 * here straight from the catalogs, once per session and again when they
 * change, never through the values a session's settings hold: a client's
 * startup option or SET cannot replace a stored value, and a value that was
 * refused when the library loaded late (a placeholder's fate) is still read
 * as stored.  The session's own settings count too, but they can only
 * tighten: the effective policy is the tightest of all of them.
 *
 *	enforce		the highest level of all (a sandbox row means error);
 *	read_only	true when any of them says so;
 *	databases	the logical databases every list allows (a sandbox row's
 *				list, each stored allowed_databases that is not empty, the
 *				session's own when not empty); no list means all.
 *
 * Fail closed: a stored datasource.* setting that does not parse (a typo
 * such as 'eror') or that does not exist, or an enforce level of error in a
 * database where the extension is not installed (nothing to enforce against),
 * makes the session refuse every statement and every function call (the
 * gates of enforce.c ask ds_sandbox_get()).
 *
 * Whose sandbox: the session user's and, after SET ROLE, the outer user's;
 * a row applies to its role and to every role that is a member of it.
 * Superusers are outside: no row and no stored setting binds them (they
 * could undo either), only their session's own settings.
 *
 * The state is computed in a child of TopMemoryContext and dropped when
 * datasource.sandboxes changes (its trigger queues a relcache invalidation
 * of the registry, as for the registry cache), when role memberships or
 * roles change (syscache callbacks), when a schema is created or dropped
 * (the extension may have been installed), and when the session's settings
 * or users differ from those it was computed for.  It is cheap to ask
 * again: a few comparisons when nothing changed.
 *
 * Memory: the state lives in "pg_datasource sandbox" under
 * TopMemoryContext; session_sandbox() builds its row in the call's context.
 *
 * IDENTIFICATION
 *		  src/sandbox.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "commands/dbcommands.h"
#include "catalog/namespace.h"
#include "catalog/pg_db_role_setting.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_session_sandbox);

static MemoryContext sandbox_cxt = NULL;
static DsSandbox sandbox;		/* the state; valid says whether current */
static Oid	sandbox_relid = InvalidOid; /* datasource.sandboxes */
static Oid	registry_relid = InvalidOid;	/* where registry_changed points */

/* the session values the state was computed from */
static int	seen_enforce;
static bool seen_read_only;
static char *seen_allowed;		/* the setting's string, by address */
static Oid	seen_session_user;
static Oid	seen_outer_user;
static uint64 sandbox_invals = 0;	/* callbacks seen, to spot one mid-read */
static uint64 sandbox_epochs = 0;	/* times it was computed */

/*
 * ds_sandbox_forget
 *		Cache callbacks: the state is computed again on next use.
 */
static void
ds_sandbox_relcache_cb(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == sandbox_relid || relid == registry_relid)
	{
		sandbox.valid = false;
		sandbox_invals++;
	}
}

static void
ds_sandbox_syscache_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	sandbox.valid = false;
	sandbox_invals++;
}

/*
 * ds_sandbox_has
 *		Whether a List of char * holds name.
 */
static bool
ds_sandbox_has(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp((char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

/*
 * ds_sandbox_init
 *		Registers the callbacks; called once from _PG_init.
 */
void
ds_sandbox_init(void)
{
	CacheRegisterRelcacheCallback(ds_sandbox_relcache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, ds_sandbox_syscache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, ds_sandbox_syscache_cb, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, ds_sandbox_syscache_cb, (Datum) 0);
}

/*
 * ds_sandbox_fail
 *		Records the first reason the session must be refused everything.
 */
static void
ds_sandbox_fail(char *reason)
{
	if (sandbox.fail_closed == NULL)
		sandbox.fail_closed = reason;
}

/*
 * ds_sandbox_restrict
 *		Narrows the allowed logical databases to those also in names (a List
 *		of char *).
 */
static void
ds_sandbox_restrict(List *names)
{
	List	   *kept = NIL;
	ListCell   *lc;

	if (!sandbox.restricted)
	{
		sandbox.restricted = true;
		foreach(lc, names)
			sandbox.databases = lappend(sandbox.databases, pstrdup(lfirst(lc)));
		return;
	}
	foreach(lc, sandbox.databases)
		if (ds_sandbox_has(names, lfirst(lc)))
			kept = lappend(kept, lfirst(lc));
	sandbox.databases = kept;
}

/*
 * ds_sandbox_list
 *		An allowed_databases value as a List of names; false when it does
 *		not parse.  An empty value is NIL (it restricts nothing).
 */
static bool
ds_sandbox_list(const char *value, List **names)
{
	char	   *raw = pstrdup(value);

	*names = NIL;
	return SplitIdentifierString(raw, ',', names);
}

/*
 * ds_sandbox_stored_one
 *		Applies one stored "name=value" setting of the datasource prefix.
 */
static void
ds_sandbox_stored_one(const char *item, const char *whose)
{
	char	   *name;
	char	   *value;
	List	   *names;
	bool		b;

	ParseLongOption(item, &name, &value);
	if (strncmp(name, "datasource.", 11) != 0)
		return;
	if (value == NULL)
		value = "";
	if (strcmp(name, "datasource.enforce") == 0)
	{
		if (pg_strcasecmp(value, "error") == 0)
			sandbox.enforce = DS_ENFORCE_ERROR;
		else if (pg_strcasecmp(value, "warn") == 0)
			sandbox.enforce = Max(sandbox.enforce, DS_ENFORCE_WARN);
		else if (pg_strcasecmp(value, "off") != 0)
			ds_sandbox_fail(psprintf("the setting datasource.enforce stored for %s has the invalid value \"%s\"",
									 whose, value));
	}
	else if (strcmp(name, "datasource.enforce_read_only") == 0)
	{
		if (!parse_bool(value, &b))
			ds_sandbox_fail(psprintf("the setting datasource.enforce_read_only stored for %s has the invalid value \"%s\"",
									 whose, value));
		else if (b)
			sandbox.read_only = true;
	}
	else if (strcmp(name, "datasource.allowed_databases") == 0)
	{
		if (!ds_sandbox_list(value, &names))
			ds_sandbox_fail(psprintf("the setting datasource.allowed_databases stored for %s has the invalid value \"%s\"",
									 whose, value));
		else if (names != NIL)
			ds_sandbox_restrict(names);
	}
	else if (GetConfigOption(name, true, false) == NULL)
		ds_sandbox_fail(psprintf("the setting %s stored for %s does not exist",
								 name, whose));
}

/*
 * ds_sandbox_stored
 *		Applies the datasource.* settings stored in pg_db_role_setting for
 *		one (database, role) pair, InvalidOid meaning "all".
 */
static void
ds_sandbox_stored(Relation rel, Oid dbid, Oid roleid)
{
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	char	   *whose;

	if (OidIsValid(roleid) && OidIsValid(dbid))
		whose = psprintf("role \"%s\" in this database", GetUserNameFromId(roleid, true));
	else if (OidIsValid(roleid))
		whose = psprintf("role \"%s\"", GetUserNameFromId(roleid, true));
	else
		whose = pstrdup("this database");

	ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(dbid));
	ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(roleid));
	scan = systable_beginscan(rel, DbRoleSettingDatidRolidIndexId, true,
							  NULL, 2, keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_db_role_setting_setconfig,
									 RelationGetDescr(rel), &isnull);
		Datum	   *items;
		bool	   *nulls;
		int			n;
		int			i;

		if (isnull)
			continue;
		deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false,
						  TYPALIGN_INT, &items, &nulls, &n);
		for (i = 0; i < n; i++)
			if (!nulls[i])
				ds_sandbox_stored_one(TextDatumGetCString(items[i]), whose);
	}
	systable_endscan(scan);
}

/*
 * ds_sandbox_rows
 *		Applies every row of datasource.sandboxes whose role the subject is
 *		a member of.  Read directly (no executor, no privilege needed): the
 *		gates run inside the executor and must not call it.
 */
static void
ds_sandbox_rows(Oid subject)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Snapshot	snap;

	if (!OidIsValid(sandbox_relid))
		return;
	rel = table_open(sandbox_relid, AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		Oid			role = DatumGetObjectId(heap_getattr(tup, 1, desc, &isnull));
		Datum		d;
		Datum	   *items;
		bool	   *nulls;
		int			n;
		int			i;
		List	   *names = NIL;

		if (isnull || !is_member_of_role_nosuper(subject, role))
			continue;
		sandbox.from_table = true;
		sandbox.enforce = DS_ENFORCE_ERROR;
		d = heap_getattr(tup, 3, desc, &isnull);
		if (isnull || DatumGetBool(d))
			sandbox.read_only = true;
		d = heap_getattr(tup, 2, desc, &isnull);
		if (!isnull)
		{
			deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false,
							  TYPALIGN_INT, &items, &nulls, &n);
			for (i = 0; i < n; i++)
				if (!nulls[i])
					names = lappend(names, TextDatumGetCString(items[i]));
		}
		/* a row always restricts: an empty list allows no logical database */
		if (!sandbox.restricted)
		{
			sandbox.restricted = true;
			sandbox.databases = names;
		}
		else
			ds_sandbox_restrict(names);
	}
	table_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
}

/*
 * ds_sandbox_compute
 *		Computes the state for the current users and settings.  Must run in
 *		a transaction.
 */
static void
ds_sandbox_compute(void)
{
	MemoryContext old;
	Oid			subjects[2];
	int			nsubjects = 0;
	int			i;
	List	   *names;
	uint64		invals = sandbox_invals;

	if (sandbox_cxt == NULL)
		sandbox_cxt = AllocSetContextCreate(TopMemoryContext,
											"pg_datasource sandbox",
											ALLOCSET_SMALL_SIZES);
	MemoryContextReset(sandbox_cxt);
	old = MemoryContextSwitchTo(sandbox_cxt);
	MemSet(&sandbox, 0, sizeof(sandbox));
	sandbox.epoch = ++sandbox_epochs;

	seen_enforce = ds_enforce;
	seen_read_only = ds_enforce_read_only;
	seen_allowed = ds_allowed_databases;
	seen_session_user = GetSessionUserId();
	seen_outer_user = GetOuterUserId();

	/* the session's own settings (they can only add) */
	sandbox.enforce = ds_enforce;
	sandbox.read_only = ds_enforce_read_only;
	if (ds_allowed_databases != NULL && ds_allowed_databases[0] != '\0' &&
		ds_sandbox_list(ds_allowed_databases, &names))
		ds_sandbox_restrict(names);

	sandbox.ext_nsp = get_namespace_oid(DS_SCHEMA, true);
	sandbox_relid = OidIsValid(sandbox.ext_nsp) ?
		get_relname_relid("sandboxes", sandbox.ext_nsp) : InvalidOid;
	registry_relid = OidIsValid(sandbox.ext_nsp) ?
		get_relname_relid("databases", sandbox.ext_nsp) : InvalidOid;
	sandbox.installed = OidIsValid(registry_relid);

	/* superusers answer only to their own settings */
	if (!superuser_arg(seen_session_user))
		subjects[nsubjects++] = seen_session_user;
	if (seen_outer_user != seen_session_user && !superuser_arg(seen_outer_user))
		subjects[nsubjects++] = seen_outer_user;

	if (nsubjects > 0)
	{
		Relation	rel = table_open(DbRoleSettingRelationId, AccessShareLock);

		for (i = 0; i < nsubjects; i++)
		{
			ds_sandbox_stored(rel, MyDatabaseId, subjects[i]);
			ds_sandbox_stored(rel, InvalidOid, subjects[i]);
		}
		ds_sandbox_stored(rel, MyDatabaseId, InvalidOid);
		table_close(rel, AccessShareLock);

		for (i = 0; i < nsubjects; i++)
			ds_sandbox_rows(subjects[i]);

		if (sandbox.enforce == DS_ENFORCE_ERROR && !sandbox.installed)
			ds_sandbox_fail(psprintf("the session must be sandboxed, and pg_datasource is not installed in database \"%s\"",
									 get_database_name(MyDatabaseId)));
	}
	sandbox.gated = sandbox.fail_closed != NULL || sandbox.from_table ||
		sandbox.enforce == DS_ENFORCE_ERROR;
	if (sandbox.fail_closed != NULL)
		sandbox.enforce = DS_ENFORCE_ERROR;
	/* an invalidation that arrived while reading: read again next time */
	sandbox.valid = (invals == sandbox_invals);
	MemoryContextSwitchTo(old);
}

/*
 * ds_sandbox_get
 *		The session's sandbox, current.  Outside a transaction (where the
 *		catalogs cannot be read) the last state is returned, or the
 *		session's own settings alone before there is one.
 */
const DsSandbox *
ds_sandbox_get(void)
{
	if (sandbox.valid &&
		seen_enforce == ds_enforce &&
		seen_read_only == ds_enforce_read_only &&
		seen_allowed == ds_allowed_databases &&
		seen_session_user == GetSessionUserId() &&
		seen_outer_user == GetOuterUserId())
		return &sandbox;
	if (!IsTransactionState())
	{
		if (!sandbox.valid)
		{
			sandbox.enforce = ds_enforce;
			sandbox.read_only = ds_enforce_read_only;
			sandbox.gated = ds_enforce == DS_ENFORCE_ERROR;
		}
		return &sandbox;
	}
	ds_sandbox_compute();
	return &sandbox;
}

/*
 * ds_sandbox_allows
 *		Whether the session may touch logical database name.  The one place
 *		that decides it (policy.c, the gates and the post-parse check ask).
 */
bool
ds_sandbox_allows(const char *name)
{
	const DsSandbox *s = ds_sandbox_get();

	if (s->fail_closed != NULL)
		return false;
	if (!s->restricted)
		return true;
	return ds_sandbox_has(s->databases, name);
}

/*
 * ds_sandbox_refuse_all
 *		Raises the error of a session that fails closed (s->fail_closed).
 */
void
ds_sandbox_refuse_all(const DsSandbox *s)
{
	ereport(ERROR,
			errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			errmsg("permission denied by the datasource sandbox"),
			errdetail("This session is refused everything: %s.", s->fail_closed));
}

/*
 * ds_sandbox_permits
 *		Whether the session may touch logical database name and (when
 *		writes) write to it.  When not: with elevel ERROR, 42501 is raised;
 *		below, false is returned and *reason (when not NULL) says why.
 */
bool
ds_sandbox_permits(const char *name, bool writes, int elevel, char **reason)
{
	const DsSandbox *s = ds_sandbox_get();
	bool		raise = (elevel >= ERROR);

	if (s->fail_closed != NULL)
	{
		if (raise)
			ds_sandbox_refuse_all(s);
		if (reason)
			*reason = psprintf("this session is refused everything: %s", s->fail_closed);
		return false;
	}
	if (!ds_sandbox_allows(name))
	{
		if (raise)
			ereport(ERROR,
					errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("logical database \"%s\" is outside the datasource sandbox", name),
					errhint("datasource.session_sandbox() shows what this session may touch."));
		if (reason)
			*reason = psprintf("logical database \"%s\" is outside the datasource sandbox", name);
		return false;
	}
	if (writes && s->gated && s->read_only)
	{
		if (raise)
			ereport(ERROR,
					errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					errmsg("the datasource sandbox of this session is read-only"),
					errdetail("Logical database \"%s\" may only be read.", name));
		if (reason)
			*reason = pstrdup("the datasource sandbox of this session is read-only");
		return false;
	}
	return true;
}

/*
 * session_sandbox() returns table (sandboxed bool, enforce text,
 *		databases text[], read_only bool, fail_closed text)
 *		The calling session's effective policy.
 */
Datum
pgds_session_sandbox(PG_FUNCTION_ARGS)
{
	const DsSandbox *s = ds_sandbox_get();
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	static const char *const levels[] = {"off", "warn", "error"};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = BoolGetDatum(s->gated);
	values[1] = CStringGetTextDatum(levels[s->enforce]);
	if (s->restricted)
	{
		int			n = list_length(s->databases);
		Datum	   *items = palloc(sizeof(Datum) * Max(n, 1));
		int			i = 0;
		ListCell   *lc;

		foreach(lc, s->databases)
			items[i++] = CStringGetTextDatum(lfirst(lc));
		values[2] = PointerGetDatum(construct_array(items, n, TEXTOID, -1, false,
													TYPALIGN_INT));
	}
	else
		nulls[2] = true;
	values[3] = BoolGetDatum(s->read_only);
	if (s->fail_closed)
		values[4] = CStringGetTextDatum(s->fail_closed);
	else
		nulls[4] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc),
													  values, nulls)));
}
