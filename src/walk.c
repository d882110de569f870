/*-------------------------------------------------------------------------
 *
 * walk.c
 *		  The names a raw parse tree of DML and expressions points at, and
 *		  the logical databases they resolve to.
 *
 * A walk over the raw parse tree (the server's own raw_parser output; see
 * validate.c) collects every name that can point into a logical database:
 * relations (including write targets, ONLY, TABLESAMPLE and 3-part names),
 * 3- and 4-field column references, function names, type names and
 * qualified operators.  raw_expression_tree_walker covers DML and
 * expressions; utility statements are unwrapped by walk_utility.c, which
 * calls back into the functions exported here.  WITH scoping follows
 * PostgreSQL: a CTE name shadows only unqualified relation names, a
 * non-recursive CTE is not visible in its own body, later siblings see
 * earlier ones, RECURSIVE makes all visible, and a nested WITH ends with its
 * subquery.
 *
 * Qualifiers resolve to a logical database by name, then by the schema it
 * maps to (any schema name, quoted or not: "My.Schema".t finds the logical
 * database mapped to schema My.Schema), then by a MySQL logical database's
 * local schema; a MySQL logical database's qualifiers are written as its
 * local schema when routed; pg_catalog and information_schema
 * are the system; anything else makes the statement invalid.  Unqualified
 * relations resolve in the target logical database, or through the
 * session's search_path.  Names come from the registry cache
 * (regcache.c); whether a node keeps the statement read-only is readonly.c's
 * rule.  Functions and operators are only collected here and judged at the
 * end (validate.c).
 *
 * The walk records, it never raises for what the text contains: the first
 * reason the statement is invalid (with its SQLSTATE) and the first reason
 * it is not read-only.
 *
 * Memory: everything is palloc'd in the current memory context, which is
 * validate.c's work context for the walk.
 *
 * IDENTIFICATION
 *		  src/walk.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "pg_datasource.h"

static bool ds_walker(Node *node, DsWalk *w);
static bool ds_walk_write(Node *node, WithClause **withp, RangeVar **targetp,
						  DsWalk *w);

/*
 * ds_walk_fail / ds_walk_not_ro
 *		Records the first reason the statement is invalid (with the SQLSTATE
 *		routing raises it with) / not read-only.
 */
void
ds_walk_fail(DsWalk *w, int sqlerrcode, char *reason)
{
	if (w->error == NULL)
	{
		w->error = reason;
		w->sqlerrcode = sqlerrcode;
	}
}

void
ds_walk_not_ro(DsWalk *w, char *reason)
{
	if (w->not_ro == NULL)
		w->not_ro = reason;
}

/*
 * ds_walk_session
 *		Records the first way the statement would change the session it
 *		runs in (sessionstate.c's rule; what is its phrase), which routing
 *		refuses.  DS_SESSION_NONE records nothing.
 */
void
ds_walk_session(DsWalk *w, DsSessionRule rule, char *what)
{
	if (rule != DS_SESSION_NONE && w->session == NULL)
	{
		w->session = what;
		w->session_rule = rule;
	}
}

/*
 * ds_walk_touch
 *		Notes that a logical database is touched (once).
 */
void
ds_walk_touch(DsWalk *w, DsDatabase *db)
{
	ListCell   *lc;

	foreach(lc, w->dbs)
		if (lfirst(lc) == db)
			return;
	w->dbs = lappend(w->dbs, db);
}

/*
 * ds_note_relation
 *		Adds "qualifier.relname" to the relations list (once).
 */
static void
ds_note_relation(DsWalk *w, const char *qual, const char *relname)
{
	char	   *r = psprintf("%s.%s", quote_identifier(qual),
								 quote_identifier(relname));
	ListCell   *lc;

	foreach(lc, w->rels)
		if (strcmp((char *) lfirst(lc), r) == 0)
			return;
	w->rels = lappend(w->rels, r);
}

/*
 * ds_note_rewrite
 *		Records that the qualifier of the name at location (with a catalog
 *		part before it when with_catalog) is to be written as schema when the
 *		statement is routed.  A location of -1 (a name the parser keeps no
 *		position for) is recorded too: routing refuses it.
 */
static void
ds_note_rewrite(DsWalk *w, int location, bool with_catalog, const char *schema)
{
	DsRewrite  *r = palloc(sizeof(DsRewrite));

	r->location = location;
	r->with_catalog = with_catalog;
	r->schema = pstrdup(schema);
	w->rewrites = lappend(w->rewrites, r);
}

/*
 * ds_resolve_qualifier
 *		Resolves a (catalog, schema) qualifier: a logical database
 *		(ds_cache_qualifier: by name, by its schema, by a MySQL one's local
 *		schema), then the system schemas.  Records the database
 *		as touched; records an error and returns QUAL_NONE otherwise.
 */
DsQual
ds_resolve_qualifier(DsWalk *w, const char *catalog, const char *schema,
					 DsDatabase **dbp, int location)
{
	DsDatabase *db;
	DsSource   *src;
	int			n;

	w->qualifiers = lappend(w->qualifiers, (char *) schema);
	if (catalog != NULL)
	{
		char	   *current = get_database_name(MyDatabaseId);

		if (current == NULL || strcmp(catalog, current) != 0)
		{
			ds_walk_fail(w, ERRCODE_FEATURE_NOT_SUPPORTED, psprintf("cross-database reference \"%s.%s\": the catalog part must be the current database",
								catalog, schema));
			return QUAL_NONE;
		}
	}

	n = ds_cache_qualifier(schema, w->target_source, &db, &src);
	if (n > 1)
	{
		ds_walk_fail(w, ERRCODE_INVALID_SCHEMA_NAME, psprintf("schema \"%s\" is mapped on several datasources; qualify with the logical database name",
							schema));
		return QUAL_NONE;
	}
	if (db != NULL)
	{
		const char *physical = ds_database_sql_schema(db);

		/*
		 * Routing writes the schema the statement runs in: a logical name,
		 * a MySQL database's name (its foreign tables are in a local
		 * schema), and a catalog part go.
		 */
		if (catalog != NULL || strcmp(physical, schema) != 0)
			ds_note_rewrite(w, location, catalog != NULL, physical);
		ds_walk_touch(w, db);
		if (dbp)
			*dbp = db;
		return QUAL_DB;
	}
	if (catalog != NULL)
		ds_note_rewrite(w, location, true, schema);
	if (strcmp(schema, "pg_catalog") == 0 ||
		strcmp(schema, "information_schema") == 0)
		return QUAL_SYSTEM;

	ds_walk_fail(w, ERRCODE_INVALID_SCHEMA_NAME, psprintf("unknown qualifier \"%s\": not a logical database or the schema of one",
						schema));
	return QUAL_NONE;
}

/*
 * ds_cte_visible
 *		Whether an unqualified name is a CTE in scope.
 */
static bool
ds_cte_visible(DsWalk *w, const char *name)
{
	ListCell   *lc;

	foreach(lc, w->scopes)
	{
		ListCell   *lc2;

		foreach(lc2, (List *) lfirst(lc))
			if (strcmp((char *) lfirst(lc2), name) == 0)
				return true;
	}
	return false;
}

/*
 * ds_ref_relation
 *		A relation reference; ctes says whether CTE names can shadow it
 *		(not for write targets).
 */
void
ds_ref_relation(DsWalk *w, RangeVar *rv, bool ctes)
{
	DsDatabase *db = NULL;

	if (rv->schemaname != NULL)
	{
		switch (ds_resolve_qualifier(w, rv->catalogname, rv->schemaname, &db,
									 rv->location))
		{
			case QUAL_DB:
				ds_note_relation(w, db->name, rv->relname);
				break;
			case QUAL_SYSTEM:
				ds_note_relation(w, rv->schemaname, rv->relname);
				break;
			case QUAL_NONE:
				break;
		}
		return;
	}

	if (ctes && ds_cte_visible(w, rv->relname))
		return;

	/* pg_catalog is searched first, whatever the path */
	if (OidIsValid(get_relname_relid(rv->relname, PG_CATALOG_NAMESPACE)))
	{
		ds_note_relation(w, "pg_catalog", rv->relname);
		return;
	}

	if (w->target != NULL)
	{
		ds_note_relation(w, w->target->name, rv->relname);
		return;
	}

	/* no target: the session's search path, as the local server sees it */
	{
		List	   *path = fetch_search_path(false);
		ListCell   *lc;

		foreach(lc, path)
		{
			Oid			nsp = lfirst_oid(lc);
			char	   *nspname;
			DsDatabase *m;
			DsSource   *src;

			if (!OidIsValid(get_relname_relid(rv->relname, nsp)))
				continue;
			nspname = get_namespace_name(nsp);
			if (nspname == NULL)
				continue;
			m = ds_cache_local_schema(nspname, &src);
			if (m != NULL)
			{
				ds_walk_touch(w, m);
				ds_note_relation(w, m->name, rv->relname);
			}
			else
				ds_walk_fail(w, ERRCODE_INVALID_SCHEMA_NAME, psprintf("relation \"%s\" is in schema \"%s\", which is not a logical database",
									rv->relname, nspname));
			return;
		}
		ds_walk_fail(w, ERRCODE_INVALID_SCHEMA_NAME, psprintf("relation \"%s\" does not resolve to a logical database: name one, or qualify it",
							rv->relname));
	}
}

/*
 * ds_qualified_name
 *		For a dotted name list (schema.name or catalog.schema.name), resolves
 *		its qualifier; location is where the name starts in the text (-1 when
 *		unknown).  Returns false when the list is not qualified.
 */
bool
ds_qualified_name(DsWalk *w, List *names, int location)
{
	int			n = list_length(names);
	const char *catalog = NULL;
	const char *schema;

	if (n < 2)
		return false;
	if (n > 3)
	{
		ds_walk_fail(w, ERRCODE_SYNTAX_ERROR, psprintf("improper qualified name (too many dotted names): %s",
							NameListToString(names)));
		return true;
	}
	if (n == 3)
		catalog = strVal(linitial(names));
	schema = strVal(list_nth(names, n - 2));
	(void) ds_resolve_qualifier(w, catalog, schema, NULL, location);
	return true;
}

/*
 * ds_walk_with
 *		Walks a statement that has a WITH clause: its CTEs with the scoping
 *		rules, then the statement itself with all CTEs visible.  The WITH
 *		clause is detached while the rest is walked and put back after.
 */
static void
ds_walk_with(Node *stmt, WithClause **withp, DsWalk *w)
{
	WithClause *with = *withp;
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, with->ctes)
		names = lappend(names, ((CommonTableExpr *) lfirst(lc))->ctename);

	foreach(lc, with->ctes)
	{
		CommonTableExpr *cte = lfirst(lc);
		List	   *visible;

		ds_walk_not_ro(w, ds_readonly_cte(cte));

		if (with->recursive)
			visible = names;
		else
			visible = list_copy_head(names, foreach_current_index(lc));
		w->scopes = lcons(visible, w->scopes);
		ds_walk_stmt(cte->ctequery, w);
		w->scopes = list_delete_first(w->scopes);
	}

	*withp = NULL;
	w->scopes = lcons(names, w->scopes);
	ds_walk_stmt(stmt, w);
	w->scopes = list_delete_first(w->scopes);
	*withp = with;
}

/*
 * ds_walk_write
 *		INSERT/UPDATE/DELETE/MERGE: the WITH clause first (scoping), then the
 *		write target, which CTE names never shadow, then the rest of the
 *		statement with the target detached so it is not resolved twice.
 */
static bool
ds_walk_write(Node *node, WithClause **withp, RangeVar **targetp, DsWalk *w)
{
	RangeVar   *target = *targetp;

	if (*withp != NULL)
	{
		ds_walk_with(node, withp, w);
		return false;
	}
	ds_ref_relation(w, target, false);
	*targetp = NULL;
	(void) raw_expression_tree_walker(node, ds_walker, (void *) w);
	*targetp = target;
	return false;
}

/*
 * ds_walker
 *		raw_expression_tree_walker callback: reads the names of the nodes it
 *		is shown and decides how to go on.
 */
static bool
ds_walker(Node *node, DsWalk *w)
{
	if (node == NULL)
		return false;
	check_stack_depth();

	switch (nodeTag(node))
	{
		case T_RangeVar:
			ds_ref_relation(w, (RangeVar *) node, true);
			return false;

		case T_ColumnRef:
			{
				ColumnRef  *cr = (ColumnRef *) node;
				int			n = list_length(cr->fields);

				/* schema.table.col, catalog.schema.table.col (or .*) */
				if (n >= 3 && IsA(linitial(cr->fields), String) &&
					IsA(lsecond(cr->fields), String))
				{
					if (n == 3)
						(void) ds_resolve_qualifier(w, NULL,
													strVal(linitial(cr->fields)),
													NULL, cr->location);
					else if (n == 4 && IsA(lthird(cr->fields), String))
						(void) ds_resolve_qualifier(w, strVal(linitial(cr->fields)),
													strVal(lsecond(cr->fields)),
													NULL, cr->location);
					else
						ds_walk_fail(w, ERRCODE_SYNTAX_ERROR, psprintf("improper qualified name (too many dotted names): %s",
											NameListToString(cr->fields)));
				}
				return false;
			}

		case T_FuncCall:
			{
				FuncCall   *fc = (FuncCall *) node;

				char	   *what = NULL;
				DsSessionRule rule;

				(void) ds_qualified_name(w, fc->funcname, fc->location);
				w->funcs = lappend(w->funcs, fc->funcname);
				rule = ds_session_call(fc, &what);
				ds_walk_session(w, rule, what);
				break;
			}

		case T_TypeName:
			{
				TypeName   *tn = (TypeName *) node;

				if (tn->pct_type)
				{
					/* [schema.]table.column%TYPE */
					if (list_length(tn->names) >= 3)
						(void) ds_qualified_name(w, list_copy_head(tn->names,
																   list_length(tn->names) - 1),
												 tn->location);
				}
				else
					(void) ds_qualified_name(w, tn->names, tn->location);
				break;
			}

		case T_A_Expr:
			{
				A_Expr	   *ae = (A_Expr *) node;

				if (ae->kind == AEXPR_OP || ae->kind == AEXPR_OP_ANY ||
					ae->kind == AEXPR_OP_ALL)
				{
					(void) ds_qualified_name(w, ae->name, ae->location);
					w->opers = lappend(w->opers, ae->name);
				}
				break;
			}

		case T_SelectStmt:
			{
				SelectStmt *s = (SelectStmt *) node;
				char	   *what = NULL;
				DsSessionRule rule;

				ds_walk_not_ro(w, ds_readonly_select(s));
				rule = ds_session_stmt(node, &what);	/* INTO */
				ds_walk_session(w, rule, what);
				if (s->withClause != NULL)
				{
					ds_walk_with(node, &s->withClause, w);
					return false;
				}
				break;
			}

		case T_InsertStmt:
			return ds_walk_write(node, &((InsertStmt *) node)->withClause,
								 &((InsertStmt *) node)->relation, w);
		case T_UpdateStmt:
			return ds_walk_write(node, &((UpdateStmt *) node)->withClause,
								 &((UpdateStmt *) node)->relation, w);
		case T_DeleteStmt:
			return ds_walk_write(node, &((DeleteStmt *) node)->withClause,
								 &((DeleteStmt *) node)->relation, w);
		case T_MergeStmt:
			return ds_walk_write(node, &((MergeStmt *) node)->withClause,
								 &((MergeStmt *) node)->relation, w);

		case T_CommonTableExpr:
			/* reached only through a WITH clause we did not detach */
			return false;

		case T_LockingClause:
			/* FOR UPDATE OF names range-table entries (aliases), not relations */
			return false;

		case T_SortBy:
			{
				SortBy	   *sb = (SortBy *) node;

				if (sb->useOp != NIL)
				{
					(void) ds_qualified_name(w, sb->useOp, sb->location);
					w->opers = lappend(w->opers, sb->useOp);
				}
				break;
			}

		default:
			break;
	}
	return raw_expression_tree_walker(node, ds_walker, (void *) w);
}

/*
 * ds_walk_stmt
 *		Walks a DML statement or expression tree.
 */
void
ds_walk_stmt(Node *stmt, DsWalk *w)
{
	(void) ds_walker(stmt, w);
}
