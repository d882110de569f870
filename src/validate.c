/*-------------------------------------------------------------------------
 *
 * validate.c
 *		  What a SQL statement touches, and whether it is truly read-only.
 *
 * The text is parsed with the server's own raw parser (lexed with the
 * session's standard_conforming_strings), never with patterns.  A walk over
 * the raw parse tree collects every name that can point into a logical
 * database: relations (including write targets, ONLY, TABLESAMPLE and
 * 3-part names), 3- and 4-field column references, function names, type
 * names and qualified operators.  raw_expression_tree_walker covers DML and
 * expressions; utility statements are unwrapped here.  WITH scoping follows
 * PostgreSQL: a CTE name shadows only unqualified relation names, a
 * non-recursive CTE is not visible in its own body, later siblings see
 * earlier ones, RECURSIVE makes all visible, and a nested WITH ends with its
 * subquery.
 *
 * Qualifiers resolve to a logical database by name, then by the schema it
 * maps to; pg_catalog and information_schema are the system; anything else
 * makes the statement invalid.  Unqualified relations resolve in the target
 * logical database, or through the session's search_path.
 *
 * read_only is strict: one SELECT/TABLE/VALUES (or EXPLAIN without ANALYZE
 * of one) with no locking clause, no INTO, no data-modifying CTE, and only
 * functions and operators that readonly.c finds safe.
 *
 * No I/O but catalog lookups: names come from the registry cache
 * (catalog.c), function and operator verdicts from readonly.c.
 *
 * Memory: a validation works in a context of its own (one kept for the
 * backend and reset after each call; nested calls get a temporary one) and
 * copies its results into the caller's context.
 *
 * IDENTIFICATION
 *		  src/validate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "commands/dbcommands.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "parser/gram.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_validate);

/* the state of one walk */
typedef struct DsWalk
{
	const char *target_source;	/* datasource of the target database */
	DsDatabase *target;			/* the target logical database, or NULL */
	List	   *dbs;			/* DsDatabase *, touched */
	List	   *rels;			/* char *, "db.rel" */
	List	   *scopes;			/* List of List of char *: visible CTEs */
	List	   *funcs;			/* List *: FuncCall name lists */
	List	   *opers;			/* List *: operator name lists */
	char	   *error;			/* first reason the statement is invalid */
	char	   *not_ro;			/* first reason it is not read-only */
	List	   *rewrites;		/* DsRewrite *: qualifiers routing rewrites */
	int			sqlerrcode;		/* the SQLSTATE of error */
} DsWalk;

/* the work context of ds_validate, and how deep calls are nested */
static MemoryContext validate_cxt = NULL;
static TupleDesc result_desc = NULL;	/* validate()'s result row */
static Oid	result_desc_fn = InvalidOid;	/* for this function */
static int	validate_depth = 0;

static void ds_validate_work(const char *query, const char *database,
							 bool require_ro, DsVerdict *v, MemoryContext cxt,
							 MemoryContext callercxt);

static void ds_walk_stmt(Node *stmt, DsWalk *w);
static bool ds_walker(Node *node, DsWalk *w);
static void ds_walk_constraint(DsWalk *w, Constraint *con);
static void ds_walk_column(DsWalk *w, ColumnDef *cd);
static void ds_walk_object_with_args(DsWalk *w, ObjectWithArgs *owa);
static bool ds_walk_sql_body(DsWalk *w, Node *body);
static bool ds_walk_write(Node *node, WithClause **withp, RangeVar **targetp,
						  DsWalk *w);

/*
 * ds_fail / ds_not_ro
 *		Records the first reason the statement is invalid (with the SQLSTATE
 *		routing raises it with) / not read-only.
 */
static void
ds_fail(DsWalk *w, int sqlerrcode, char *reason)
{
	if (w->error == NULL)
	{
		w->error = reason;
		w->sqlerrcode = sqlerrcode;
	}
}

static void
ds_not_ro(DsWalk *w, char *reason)
{
	if (w->not_ro == NULL)
		w->not_ro = reason;
}

/*
 * ds_touch
 *		Notes that a logical database is touched (once).
 */
static void
ds_touch(DsWalk *w, DsDatabase *db)
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

/* what a qualifier resolved to */
typedef enum DsQual
{
	QUAL_NONE,					/* invalid: reason recorded */
	QUAL_DB,
	QUAL_SYSTEM
} DsQual;

/*
 * ds_resolve_qualifier
 *		Resolves a (catalog, schema) qualifier: a logical database by name,
 *		then by its schema, then the system schemas.  Records the database
 *		as touched; records an error and returns QUAL_NONE otherwise.
 */
static DsQual
ds_resolve_qualifier(DsWalk *w, const char *catalog, const char *schema,
					 DsDatabase **dbp, int location)
{
	DsDatabase *db;
	DsSource   *src;
	int			n;

	if (catalog != NULL)
	{
		char	   *current = get_database_name(MyDatabaseId);

		if (current == NULL || strcmp(catalog, current) != 0)
		{
			ds_fail(w, ERRCODE_FEATURE_NOT_SUPPORTED, psprintf("cross-database reference \"%s.%s\": the catalog part must be the current database",
								catalog, schema));
			return QUAL_NONE;
		}
	}

	db = ds_cache_database(schema, &src);
	if (db != NULL)
	{
		/* a logical name: routing writes the schema there */
		if (catalog != NULL || strcmp(db->schema_name, schema) != 0)
			ds_note_rewrite(w, location, catalog != NULL, db->schema_name);
	}
	else
	{
		n = ds_cache_schema(schema, w->target_source, &db, &src);
		if (n > 1)
		{
			ds_fail(w, ERRCODE_INVALID_SCHEMA_NAME, psprintf("schema \"%s\" is mapped on several datasources; qualify with the logical database name",
								schema));
			return QUAL_NONE;
		}
		if (n == 0)
			db = NULL;
		else if (catalog != NULL)
			ds_note_rewrite(w, location, true, db->schema_name);	/* drop the catalog */
	}
	if (db != NULL)
	{
		ds_touch(w, db);
		if (dbp)
			*dbp = db;
		return QUAL_DB;
	}
	if (catalog != NULL)
		ds_note_rewrite(w, location, true, schema);
	if (strcmp(schema, "pg_catalog") == 0 ||
		strcmp(schema, "information_schema") == 0)
		return QUAL_SYSTEM;

	ds_fail(w, ERRCODE_INVALID_SCHEMA_NAME, psprintf("unknown qualifier \"%s\": not a logical database or the schema of one",
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
static void
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
				ds_touch(w, m);
				ds_note_relation(w, m->name, rv->relname);
			}
			else
				ds_fail(w, ERRCODE_INVALID_SCHEMA_NAME, psprintf("relation \"%s\" is in schema \"%s\", which is not a logical database",
									rv->relname, nspname));
			return;
		}
		ds_fail(w, ERRCODE_INVALID_SCHEMA_NAME, psprintf("relation \"%s\" does not resolve to a logical database: name one, or qualify it",
							rv->relname));
	}
}

/*
 * ds_qualified_name
 *		For a dotted name list (schema.name or catalog.schema.name), resolves
 *		its qualifier; location is where the name starts in the text (-1 when
 *		unknown).  Returns false when the list is not qualified.
 */
static bool
ds_qualified_name(DsWalk *w, List *names, int location)
{
	int			n = list_length(names);
	const char *catalog = NULL;
	const char *schema;

	if (n < 2)
		return false;
	if (n > 3)
	{
		ds_fail(w, ERRCODE_SYNTAX_ERROR, psprintf("improper qualified name (too many dotted names): %s",
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

		if (cte->ctequery != NULL && !IsA(cte->ctequery, SelectStmt))
			ds_not_ro(w, psprintf("WITH query \"%s\" modifies data", cte->ctename));

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
						ds_fail(w, ERRCODE_SYNTAX_ERROR, psprintf("improper qualified name (too many dotted names): %s",
											NameListToString(cr->fields)));
				}
				return false;
			}

		case T_FuncCall:
			{
				FuncCall   *fc = (FuncCall *) node;

				(void) ds_qualified_name(w, fc->funcname, fc->location);
				w->funcs = lappend(w->funcs, fc->funcname);
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

				if (s->lockingClause != NIL)
					ds_not_ro(w, pstrdup("a locking clause (FOR UPDATE/SHARE) locks rows"));
				if (s->intoClause != NULL)
					ds_not_ro(w, pstrdup("SELECT INTO creates a table"));
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
static void
ds_walk_stmt(Node *stmt, DsWalk *w)
{
	(void) ds_walker(stmt, w);
}

/*
 * ds_walk_names
 *		Resolves a list of dotted relation names (List of List of String), as
 *		DROP TABLE and friends carry them.
 */
static void
ds_walk_relation_names(DsWalk *w, List *objects)
{
	ListCell   *lc;

	foreach(lc, objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));

		ds_ref_relation(w, rv, false);
	}
}

/*
 * ds_walk_constraint
 *		The names in a table constraint: the referenced table of a foreign
 *		key, and the expressions of CHECK, DEFAULT, GENERATED and EXCLUDE.
 */
static void
ds_walk_constraint(DsWalk *w, Constraint *con)
{
	ListCell   *lc;

	if (con->pktable)
		ds_ref_relation(w, con->pktable, false);
	ds_walk_stmt(con->raw_expr, w);
	ds_walk_stmt(con->where_clause, w);
	foreach(lc, con->exclusions)
	{
		List	   *pair = lfirst(lc);	/* IndexElem, operator name */

		ds_walk_stmt(((IndexElem *) linitial(pair))->expr, w);
		(void) ds_qualified_name(w, lsecond(pair), -1);
	}
}

/*
 * ds_walk_column
 *		The names in a column definition: its type, default and constraints.
 */
static void
ds_walk_column(DsWalk *w, ColumnDef *cd)
{
	ListCell   *lc;

	ds_walk_stmt((Node *) cd->typeName, w);
	ds_walk_stmt(cd->raw_default, w);
	foreach(lc, cd->constraints)
		ds_walk_constraint(w, lfirst(lc));
}

/*
 * ds_walk_object_with_args
 *		A function name with its argument types (DROP/COMMENT ON FUNCTION).
 */
static void
ds_walk_object_with_args(DsWalk *w, ObjectWithArgs *owa)
{
	ListCell   *lc;

	(void) ds_qualified_name(w, owa->objname, -1);
	foreach(lc, owa->objargs)
		ds_walk_stmt(lfirst(lc), w);
	foreach(lc, owa->objfuncargs)
		ds_walk_stmt((Node *) ((FunctionParameter *) lfirst(lc))->argType, w);
}

/*
 * ds_walk_sql_body
 *		The SQL-standard body of a function or procedure: RETURN expr, or
 *		BEGIN ATOMIC with a list of statements.  Returns false when a body
 *		statement is not one whose names can be read (only DML can be).
 */
static bool
ds_walk_sql_body(DsWalk *w, Node *body)
{
	ListCell   *lc;

	if (body == NULL)
		return true;
	if (IsA(body, ReturnStmt))
	{
		ds_walk_stmt(((ReturnStmt *) body)->returnval, w);
		return true;
	}
	if (!IsA(body, List))
		return false;
	foreach(lc, (List *) body)
	{
		Node	   *item = lfirst(lc);

		/* BEGIN ATOMIC keeps its statements as a list inside the list */
		if (item == NULL)
			continue;			/* an empty BEGIN ATOMIC ... END */
		if (IsA(item, List))
		{
			if (!ds_walk_sql_body(w, item))
				return false;
		}
		else if (IsA(item, ReturnStmt))
			ds_walk_stmt(((ReturnStmt *) item)->returnval, w);
		else if (IsA(item, SelectStmt) || IsA(item, InsertStmt) ||
				 IsA(item, UpdateStmt) || IsA(item, DeleteStmt) ||
				 IsA(item, MergeStmt))
			ds_walk_stmt(item, w);
		else
			return false;
	}
	return true;
}

/*
 * ds_option_true
 *		Whether a boolean statement option is on, as defGetBoolean reads it
 *		but never raising: an unreadable value counts as on (the cautious
 *		answer for EXPLAIN's ANALYZE).
 */
static bool
ds_option_true(DefElem *opt)
{
	bool		result;

	if (opt->arg == NULL)
		return true;
	if (IsA(opt->arg, Integer))
		return intVal(opt->arg) != 0;
	if (IsA(opt->arg, String) && parse_bool(strVal(opt->arg), &result))
		return result;
	return true;
}

/*
 * ds_walk_utility
 *		Reads the names of a utility statement.  Returns false for statement
 *		kinds whose names cannot be read (the statement is then invalid).
 */
static bool
ds_walk_utility(Node *stmt, DsWalk *w)
{
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_ExplainStmt:
			{
				ExplainStmt *e = (ExplainStmt *) stmt;
				bool		analyze = false;

				foreach(lc, e->options)
				{
					DefElem    *opt = lfirst(lc);

					if (strcmp(opt->defname, "analyze") == 0)
						analyze = ds_option_true(opt);
				}
				if (!IsA(e->query, SelectStmt))
				{
					if (IsA(e->query, InsertStmt) || IsA(e->query, UpdateStmt) ||
						IsA(e->query, DeleteStmt) || IsA(e->query, MergeStmt))
					{
						ds_not_ro(w, pstrdup("EXPLAIN of a statement that modifies data"));
						ds_walk_stmt(e->query, w);
						return true;
					}
					/* EXPLAIN CREATE TABLE AS / EXECUTE / DECLARE */
					ds_not_ro(w, pstrdup("EXPLAIN of a utility statement"));
					return ds_walk_utility(e->query, w);
				}
				if (analyze)
					ds_not_ro(w, pstrdup("EXPLAIN ANALYZE runs the statement"));
				ds_walk_stmt(e->query, w);
				return true;
			}
		case T_CopyStmt:
			{
				CopyStmt   *c = (CopyStmt *) stmt;

				if (c->relation)
					ds_ref_relation(w, c->relation, false);
				if (c->query)
					ds_walk_stmt(c->query, w);
				if (c->whereClause)
					ds_walk_stmt(c->whereClause, w);
				return true;
			}
		case T_CreateTableAsStmt:
			{
				CreateTableAsStmt *c = (CreateTableAsStmt *) stmt;

				ds_ref_relation(w, c->into->rel, false);
				if (IsA(c->query, ExecuteStmt))
					return false;
				ds_walk_stmt(c->query, w);
				return true;
			}
		case T_ViewStmt:
			{
				ViewStmt   *v = (ViewStmt *) stmt;

				ds_ref_relation(w, v->view, false);
				ds_walk_stmt(v->query, w);
				return true;
			}
		case T_PrepareStmt:
			{
				PrepareStmt *p = (PrepareStmt *) stmt;

				foreach(lc, p->argtypes)
					ds_walk_stmt(lfirst(lc), w);
				ds_walk_stmt(p->query, w);
				return true;
			}
		case T_DeclareCursorStmt:
			ds_walk_stmt(((DeclareCursorStmt *) stmt)->query, w);
			return true;
		case T_CallStmt:
			ds_walk_stmt((Node *) ((CallStmt *) stmt)->funccall, w);
			return true;
		case T_CreateStmt:
			{
				CreateStmt *c = (CreateStmt *) stmt;

				ds_ref_relation(w, c->relation, false);
				foreach(lc, c->inhRelations)
					ds_ref_relation(w, lfirst(lc), false);
				if (c->ofTypename)
					ds_walk_stmt((Node *) c->ofTypename, w);
				foreach(lc, c->tableElts)
				{
					Node	   *elt = lfirst(lc);

					if (IsA(elt, ColumnDef))
						ds_walk_column(w, (ColumnDef *) elt);
					else if (IsA(elt, Constraint))
						ds_walk_constraint(w, (Constraint *) elt);
					else if (IsA(elt, TableLikeClause))
						ds_ref_relation(w, ((TableLikeClause *) elt)->relation, false);
				}
				foreach(lc, c->constraints)
					ds_walk_constraint(w, lfirst(lc));
				if (c->partspec)
					foreach(lc, c->partspec->partParams)
						ds_walk_stmt(((PartitionElem *) lfirst(lc))->expr, w);
				return true;
			}
		case T_AlterTableStmt:
			{
				AlterTableStmt *a = (AlterTableStmt *) stmt;

				ds_ref_relation(w, a->relation, false);
				foreach(lc, a->cmds)
				{
					AlterTableCmd *cmd = lfirst(lc);

					if (cmd->def == NULL)
						continue;
					if (IsA(cmd->def, ColumnDef))
						ds_walk_column(w, (ColumnDef *) cmd->def);	/* also USING */
					else if (IsA(cmd->def, Constraint))
						ds_walk_constraint(w, (Constraint *) cmd->def);
					else if (cmd->subtype == AT_ColumnDefault)
						ds_walk_stmt(cmd->def, w);	/* SET DEFAULT expr */
					else if (IsA(cmd->def, PartitionCmd))
						ds_ref_relation(w, ((PartitionCmd *) cmd->def)->name, false);
					else if (IsA(cmd->def, RangeVar))
						ds_ref_relation(w, (RangeVar *) cmd->def, false);	/* INHERIT */
					/* options, identity, replica identity: no names of ours */
				}
				return true;
			}
		case T_IndexStmt:
			{
				IndexStmt  *ix = (IndexStmt *) stmt;

				ds_ref_relation(w, ix->relation, false);
				foreach(lc, ix->indexParams)
					ds_walk_stmt(((IndexElem *) lfirst(lc))->expr, w);
				foreach(lc, ix->indexIncludingParams)
					ds_walk_stmt(((IndexElem *) lfirst(lc))->expr, w);
				ds_walk_stmt(ix->whereClause, w);
				return true;
			}
		case T_CreateSeqStmt:
			ds_ref_relation(w, ((CreateSeqStmt *) stmt)->sequence, false);
			return true;
		case T_AlterSeqStmt:
			ds_ref_relation(w, ((AlterSeqStmt *) stmt)->sequence, false);
			return true;
		case T_TruncateStmt:
			foreach(lc, ((TruncateStmt *) stmt)->relations)
				ds_ref_relation(w, lfirst(lc), false);
			return true;
		case T_LockStmt:
			foreach(lc, ((LockStmt *) stmt)->relations)
				ds_ref_relation(w, lfirst(lc), false);
			return true;
		case T_VacuumStmt:
			foreach(lc, ((VacuumStmt *) stmt)->rels)
			{
				VacuumRelation *vr = lfirst(lc);

				if (vr->relation)
					ds_ref_relation(w, vr->relation, false);
			}
			return true;
		case T_DropStmt:
			{
				DropStmt   *d = (DropStmt *) stmt;

				switch (d->removeType)
				{
					case OBJECT_TABLE:
					case OBJECT_VIEW:
					case OBJECT_MATVIEW:
					case OBJECT_SEQUENCE:
					case OBJECT_INDEX:
					case OBJECT_FOREIGN_TABLE:
						ds_walk_relation_names(w, d->objects);
						return true;
					case OBJECT_TYPE:
					case OBJECT_DOMAIN:
						foreach(lc, d->objects)
							ds_walk_stmt(lfirst(lc), w);
						return true;
					case OBJECT_FUNCTION:
					case OBJECT_PROCEDURE:
					case OBJECT_ROUTINE:
					case OBJECT_AGGREGATE:
						foreach(lc, d->objects)
							ds_walk_object_with_args(w, lfirst(lc));
						return true;
					case OBJECT_SCHEMA:
						foreach(lc, d->objects)
							(void) ds_resolve_qualifier(w, NULL, strVal(lfirst(lc)), NULL, -1);
						return true;
					default:
						return false;
				}
			}
		case T_CreateFunctionStmt:
			{
				CreateFunctionStmt *f = (CreateFunctionStmt *) stmt;

				/* a body given as a string cannot be read; BEGIN ATOMIC can */
				if (f->sql_body == NULL)
					return false;
				(void) ds_qualified_name(w, f->funcname, -1);
				foreach(lc, f->parameters)
				{
					FunctionParameter *fp = lfirst(lc);

					ds_walk_stmt((Node *) fp->argType, w);
					ds_walk_stmt(fp->defexpr, w);
				}
				if (f->returnType)
					ds_walk_stmt((Node *) f->returnType, w);
				return ds_walk_sql_body(w, f->sql_body);
			}
		case T_CreateEnumStmt:
			(void) ds_qualified_name(w, ((CreateEnumStmt *) stmt)->typeName, -1);
			return true;
		case T_CompositeTypeStmt:
			ds_ref_relation(w, ((CompositeTypeStmt *) stmt)->typevar, false);
			return true;
		case T_CreateDomainStmt:
			(void) ds_qualified_name(w, ((CreateDomainStmt *) stmt)->domainname, -1);
			ds_walk_stmt((Node *) ((CreateDomainStmt *) stmt)->typeName, w);
			return true;
		case T_CommentStmt:
			{
				CommentStmt *c = (CommentStmt *) stmt;

				if (c->objtype == OBJECT_TABLE || c->objtype == OBJECT_VIEW ||
					c->objtype == OBJECT_MATVIEW || c->objtype == OBJECT_SEQUENCE ||
					c->objtype == OBJECT_INDEX)
				{
					ds_walk_relation_names(w, list_make1(c->object));
					return true;
				}
				if (c->objtype == OBJECT_FUNCTION || c->objtype == OBJECT_PROCEDURE ||
					c->objtype == OBJECT_ROUTINE || c->objtype == OBJECT_AGGREGATE)
				{
					ds_walk_object_with_args(w, (ObjectWithArgs *) c->object);
					return true;
				}
				if (c->objtype == OBJECT_TYPE || c->objtype == OBJECT_DOMAIN)
				{
					ds_walk_stmt(c->object, w);
					return true;
				}
				if (c->objtype == OBJECT_COLUMN)
				{
					List	   *names = (List *) c->object;

					ds_walk_relation_names(w, list_make1(list_copy_head(names, list_length(names) - 1)));
					return true;
				}
				return false;
			}
		case T_RenameStmt:
			{
				RenameStmt *r = (RenameStmt *) stmt;

				if (r->relation == NULL)
					return false;
				ds_ref_relation(w, r->relation, false);
				return true;
			}
			/* statements that name no relation of a logical database */
		case T_TransactionStmt:
		case T_VariableSetStmt:
		case T_VariableShowStmt:
		case T_DiscardStmt:
		case T_DeallocateStmt:
		case T_ClosePortalStmt:
		case T_FetchStmt:
		case T_NotifyStmt:
		case T_ListenStmt:
		case T_UnlistenStmt:
		case T_CheckPointStmt:
		case T_LoadStmt:
			return true;
		default:
			return false;
	}
}

/*
 * ds_long_candidate_n
 *		A cheap scan of len bytes for text that might hold an identifier
 *		longer than NAMEDATALEN - 1 bytes: a run of that many identifier bytes
 *		(quotes and the escapes of U&"..." included, and spaces between double
 *		quotes).  False means there is certainly none; true sends the text to
 *		ds_identifier_too_long.  A double quote inside a string literal only
 *		makes more text a candidate, never less.
 */
bool
ds_long_candidate_n(const char *query, int len)
{
	int			i;
	int			run = 0;
	bool		quoted = false;

	static bool ident_byte[256];
	static bool ready = false;

	if (!ready)
	{
		int			c;

		for (c = 0; c < 256; c++)
			ident_byte[c] = isalnum(c) || c == '_' || c == '$' || c >= 0x80 ||
				c == '"' || c == '\\' || c == '&' || c == '+';
		ready = true;
	}
	if (len < NAMEDATALEN)
		return false;
	for (i = 0; i < len && query[i] != '\0'; i++)
	{
		unsigned char c = (unsigned char) query[i];

		if (c == '"')
			quoted = !quoted;
		if (ident_byte[c] || (quoted && run > 0))
		{
			if (++run >= NAMEDATALEN)
				return true;
		}
		else
			run = 0;
	}
	return false;
}

static bool
ds_long_candidate(const char *query)
{
	return ds_long_candidate_n(query, (int) strlen(query));
}

/*
 * ds_uident_length
 *		Bytes of a U&"..." identifier once its escapes are decoded to UTF-8
 *		(default escape character; a UESCAPE clause is not followed, so the
 *		count is then an upper bound).
 */
static int
ds_uident_length(const char *p)
{
	int			len = 0;

	p += 3;						/* U&" */
	while (*p)
	{
		unsigned int cp = 0;
		int			digits = 0;
		int			i;

		if (*p == '"')
		{
			if (p[1] != '"')
				break;
			p += 2;
			len++;
			continue;
		}
		if (*p != '\\')
		{
			p++;
			len++;
			continue;
		}
		if (p[1] == '\\')
		{
			p += 2;
			len++;
			continue;
		}
		p++;
		if (*p == '+')
		{
			digits = 6;
			p++;
		}
		else
			digits = 4;
		for (i = 0; i < digits && isxdigit((unsigned char) *p); i++, p++)
			cp = cp * 16 + (isdigit((unsigned char) *p) ? *p - '0' :
							(tolower((unsigned char) *p) - 'a' + 10));
		len += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	}
	return len;
}

/*
 * ds_identifier_too_long
 *		Lexes the text with the core scanner and returns the start of the
 *		first identifier longer than NAMEDATALEN - 1 bytes (which the scanner
 *		would silently truncate), or NULL.  The caller suppresses the
 *		scanner's truncation notices.
 */
static char *
ds_identifier_too_long(const char *query)
{
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			tok;
	char	   *volatile result = NULL;

	scanner = scanner_init(query, &extra, &ScanKeywords, ScanKeywordTokens);
	PG_TRY();
	{
		while ((tok = core_yylex(&yylval, &yylloc, scanner)) != 0)
		{
			const char *start = query + yylloc;
			int			len = 0;

			if (tok != IDENT && tok != UIDENT)
				continue;
			if (tok == UIDENT)
				len = ds_uident_length(start);
			else if (*start == '"')
			{
				/* bytes between the quotes, "" counting once */
				const char *q = start + 1;

				while (*q)
				{
					if (*q == '"')
					{
						if (q[1] == '"')
							q++;
						else
							break;
					}
					q++;
					len++;
				}
			}
			else
			{
				const char *q = start;

				while (*q && (isalnum((unsigned char) *q) || *q == '_' ||
							  *q == '$' || (unsigned char) *q >= 0x80))
				{
					q++;
					len++;
				}
			}
			if (len >= NAMEDATALEN)
			{
				result = pnstrdup(start, Min(len + 2, 80));
				break;
			}
		}
	}
	PG_FINALLY();
	{
		scanner_finish(scanner);
	}
	PG_END_TRY();
	return result;
}

/*
 * ds_raw_parse
 *		raw_parser, with a syntax error turned into a message (the server's
 *		message and the 1-based position) instead of an error.
 *
 *		The raw parser holds no locks, buffers or other resources, so its
 *		error can be caught without a subtransaction: only its memory (in
 *		cxt) and the error state need cleaning up.  Cancels, shutdowns and
 *		resource errors are rethrown.
 */
static List *
ds_raw_parse(const char *query, MemoryContext cxt, char **error, int *code)
{
	List	   *volatile parsetree = NIL;
	ErrorContextCallback *save_context = error_context_stack;

	*error = NULL;

	/*
	 * Outer error context callbacks (SPI's, when we are called from a
	 * function) would move the position of a syntax error into their own
	 * query text; the error is about ours.
	 */
	error_context_stack = NULL;
	PG_TRY();
	{
		parsetree = raw_parser(query, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		error_context_stack = save_context;
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
			edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY ||
			edata->sqlerrcode == ERRCODE_STATEMENT_TOO_COMPLEX)
			PG_RE_THROW();
		FlushErrorState();
		*code = edata->sqlerrcode;
		if (edata->cursorpos > 0)
			*error = psprintf("%s at position %d", edata->message,
							  edata->cursorpos);
		else
			*error = pstrdup(edata->message);
		FreeErrorData(edata);
		parsetree = NIL;
	}
	PG_END_TRY();
	error_context_stack = save_context;
	return parsetree;
}

/*
 * ds_validate
 *		Validates one text; fills *v (allocated in the caller's context).
 *		Never raises for anything the text contains.
 */
void
ds_validate(const char *query, const char *database, bool require_ro,
			DsVerdict *v)
{
	MemoryContext callercxt = CurrentMemoryContext;
	MemoryContext cxt;

	MemSet(v, 0, sizeof(*v));

	/*
	 * One work context kept for the backend and reset per call (cheaper than
	 * creating one each time); a nested call gets a context of its own.
	 */
	if (validate_depth == 0)
	{
		if (validate_cxt == NULL)
			validate_cxt = AllocSetContextCreate(TopMemoryContext,
												 "pg_datasource validate",
												 ALLOCSET_DEFAULT_SIZES);
		cxt = validate_cxt;
	}
	else
		cxt = AllocSetContextCreate(CurrentMemoryContext,
									"pg_datasource nested validate",
									ALLOCSET_DEFAULT_SIZES);
	validate_depth++;
	MemoryContextSwitchTo(cxt);

	PG_TRY();
	{
		ds_validate_work(query, database, require_ro, v, cxt, callercxt);
	}
	PG_FINALLY();
	{
		validate_depth--;
		MemoryContextSwitchTo(callercxt);
		if (cxt == validate_cxt)
			MemoryContextReset(cxt);
		else
			MemoryContextDelete(cxt);
	}
	PG_END_TRY();
}

/*
 * ds_validate_work
 *		The body of ds_validate, running in the work context cxt.
 */
static void
ds_validate_work(const char *query, const char *database, bool require_ro,
				 DsVerdict *v, MemoryContext cxt, MemoryContext callercxt)
{
	DsWalk		w;
	List	   *parsetree = NIL;
	char	   *parse_error = NULL;
	int			parse_code = ERRCODE_SYNTAX_ERROR;
	Node	   *stmt;
	ListCell   *lc;
	char	   *too_long;
	bool		checked = false;	/* read-only fully judged */
	DsRoCtx		ro;

	MemSet(&w, 0, sizeof(w));
	MemSet(&ro, 0, sizeof(ro));

	if (!ds_cache_ensure())
		elog(ERROR, "the pg_datasource registry is not available");

	if (database != NULL)
	{
		DsSource   *src;

		w.target = ds_cache_database(database, &src);
		if (w.target == NULL)
		{
			ds_fail(&w, ERRCODE_UNDEFINED_OBJECT, psprintf("logical database \"%s\" does not exist", database));
			goto done;
		}
		w.target_source = w.target->source;
		ds_touch(&w, w.target);
	}

	/*
	 * An over-long identifier is an error here, never a silent truncation.
	 * Only text that might hold one is lexed a second time, with the
	 * scanner's truncation notices kept from the client.
	 */
	too_long = NULL;
	if (ds_long_candidate(query))
	{
		int			level = NewGUCNestLevel();

		(void) set_config_option("client_min_messages", "warning",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		too_long = ds_identifier_too_long(query);
		parsetree = ds_raw_parse(query, cxt, &parse_error, &parse_code);
		AtEOXact_GUC(true, level);
	}
	else
		parsetree = ds_raw_parse(query, cxt, &parse_error, &parse_code);

	if (parse_error != NULL)
	{
		ds_fail(&w, parse_code, parse_error);
		goto done;
	}
	if (parsetree == NIL)
	{
		ds_fail(&w, ERRCODE_SYNTAX_ERROR, pstrdup("no statement"));
		goto done;
	}
	if (list_length(parsetree) > 1)
	{
		ds_fail(&w, ERRCODE_SYNTAX_ERROR, psprintf("several statements (%d): validate one at a time",
							 list_length(parsetree)));
		goto done;
	}

	stmt = ((RawStmt *) linitial(parsetree))->stmt;
	v->command = pstrdup(GetCommandTagName(CreateCommandTag(stmt)));

	if (too_long != NULL)
	{
		ds_fail(&w, ERRCODE_NAME_TOO_LONG, psprintf("identifier %s... is too long: identifiers are at most %d bytes and are never truncated",
							 too_long, NAMEDATALEN - 1));
		goto done;
	}

	switch (nodeTag(stmt))
	{
		case T_SelectStmt:
			ds_walk_stmt(stmt, &w);
			break;
		case T_InsertStmt:
		case T_UpdateStmt:
		case T_DeleteStmt:
		case T_MergeStmt:
			ds_not_ro(&w, psprintf("%s modifies data", v->command));
			ds_walk_stmt(stmt, &w);
			break;
		case T_DoStmt:
			ds_not_ro(&w, pstrdup("DO runs code"));
			ds_fail(&w, ERRCODE_FEATURE_NOT_SUPPORTED, pstrdup("cannot validate DO statements: the code inside is not visible"));
			break;
		default:
			if (!IsA(stmt, ExplainStmt))
				ds_not_ro(&w, psprintf("%s is not a query", v->command));
			if (!ds_walk_utility(stmt, &w))
				ds_fail(&w, ERRCODE_FEATURE_NOT_SUPPORTED, psprintf("cannot validate %s statements", v->command));
			break;
	}

	/* functions and operators, only while the answer can still be yes */
	checked = true;
	if (w.funcs != NIL || w.opers != NIL)
	{
		/*
		 * Unqualified names resolve in the target's schema first, then the
		 * search path: both are part of the key of a cached verdict.
		 */
		const char *path = psprintf("%s\x01%s\x01%s",
									w.target ? w.target->source : "",
									w.target ? w.target->schema_name : "",
									namespace_search_path ? namespace_search_path : "");

		ro.target = w.target;
		ro.target_source = w.target_source;
		ro.role = GetUserId();
		ro.path = path;
		ro.path_hash = hash_combine(hash_uint32(ro.role),
									hash_bytes((const unsigned char *) path,
											   strlen(path)));
	}
	if (w.not_ro == NULL)
	{
		foreach(lc, w.funcs)
		{
			char	   *reason = ds_readonly_reason(&ro, 'f', lfirst(lc));

			if (reason)
			{
				ds_not_ro(&w, reason);
				break;
			}
		}
	}
	if (w.not_ro == NULL)
	{
		foreach(lc, w.opers)
		{
			char	   *reason = ds_readonly_reason(&ro, 'o', lfirst(lc));

			if (reason)
			{
				ds_not_ro(&w, reason);
				break;
			}
		}
	}

done:
	/* one datasource, enabled */
	if (w.error == NULL && w.dbs != NIL)
	{
		DsDatabase *first = linitial(w.dbs);
		bool		mixed = false;

		foreach(lc, w.dbs)
			if (strcmp(((DsDatabase *) lfirst(lc))->source, first->source) != 0)
				mixed = true;
		if (mixed)
		{
			StringInfoData msg;
			List	   *seen = NIL;
			ListCell   *lc2;

			initStringInfo(&msg);
			appendStringInfoString(&msg, "statement touches logical databases on different datasources: ");
			foreach(lc, w.dbs)
			{
				const char *src = ((DsDatabase *) lfirst(lc))->source;
				bool		first_of_src = true;
				bool		done_src = false;

				foreach(lc2, seen)
					if (strcmp(lfirst(lc2), src) == 0)
						done_src = true;
				if (done_src)
					continue;
				seen = lappend(seen, (char *) src);
				if (list_length(seen) > 1)
					appendStringInfoString(&msg, "; ");
				foreach(lc2, w.dbs)
				{
					DsDatabase *d = lfirst(lc2);

					if (strcmp(d->source, src) != 0)
						continue;
					appendStringInfo(&msg, "%s%s", first_of_src ? "" : ", ", d->name);
					first_of_src = false;
				}
				appendStringInfo(&msg, " on \"%s\"", src);
			}
			ds_fail(&w, ERRCODE_FEATURE_NOT_SUPPORTED, msg.data);
		}
		else
		{
			DsSource   *src = NULL;

			(void) ds_cache_database(first->name, &src);
			if (src != NULL && !src->enabled)
				ds_fail(&w, ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE, psprintf("datasource \"%s\" is disabled", src->name));
		}
	}

	if (require_ro && w.error == NULL && (w.not_ro != NULL))
		ds_fail(&w, ERRCODE_READ_ONLY_SQL_TRANSACTION, psprintf("statement is not read-only: %s", w.not_ro));

	/* copy the results out */
	MemoryContextSwitchTo(callercxt);
	v->valid = (w.error == NULL);
	v->sqlerrcode = w.sqlerrcode;
	v->read_only = checked && w.not_ro == NULL;
	v->error = w.error ? pstrdup(w.error) : NULL;
	v->not_ro = w.not_ro ? pstrdup(w.not_ro) : NULL;
	v->command = v->command ? pstrdup(v->command) : NULL;
	if (w.dbs != NIL)
	{
		DsDatabase *first = linitial(w.dbs);

		v->datasource = (w.error == NULL || strstr(w.error, "different datasources") == NULL)
			? pstrdup(first->source) : NULL;
	}
	v->ndbs = list_length(w.dbs);
	v->dbs = palloc0(sizeof(char *) * Max(v->ndbs, 1));
	foreach(lc, w.dbs)
		v->dbs[foreach_current_index(lc)] = pstrdup(((DsDatabase *) lfirst(lc))->name);
	foreach(lc, w.rewrites)
	{
		DsRewrite  *r = lfirst(lc);
		DsRewrite  *c = palloc(sizeof(DsRewrite));

		c->location = r->location;
		c->with_catalog = r->with_catalog;
		c->schema = pstrdup(r->schema);
		v->rewrites = lappend(v->rewrites, c);
	}
	v->nrels = list_length(w.rels);
	v->rels = palloc0(sizeof(char *) * Max(v->nrels, 1));
	foreach(lc, w.rels)
		v->rels[foreach_current_index(lc)] = pstrdup(lfirst(lc));
	MemoryContextSwitchTo(cxt);
}

/*
 * ds_cmp_cstr
 *		qsort comparator for C strings.
 */
static int
ds_cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * ds_text_array
 *		A sorted text[] of C strings.
 */
static Datum
ds_text_array(char **items, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	qsort(items, n, sizeof(char *), ds_cmp_cstr);
	for (i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(items[i]);
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false,
										   TYPALIGN_INT));
}

/*
 * validate(query, database, require_read_only)
 *		-> (valid, datasource, databases, relations, command, read_only, error)
 */
Datum
pgds_validate(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {false, false, false, false, false, false, false};
	DsVerdict	v;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"query\" must not be null"));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"require_read_only\" must not be null"));
	/*
	 * The result descriptor is built once per backend (per function OID, so
	 * a re-created extension gets a new one): a lateral call is re-initialised
	 * per outer row, so fn_extra would not keep it.
	 */
	if (result_desc == NULL || result_desc_fn != fcinfo->flinfo->fn_oid)
	{
		MemoryContext old;

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		old = MemoryContextSwitchTo(TopMemoryContext);
		tupdesc = BlessTupleDesc(CreateTupleDescCopy(tupdesc));
		MemoryContextSwitchTo(old);
		if (result_desc != NULL)
			FreeTupleDesc(result_desc);
		result_desc = tupdesc;
		result_desc_fn = fcinfo->flinfo->fn_oid;
	}
	tupdesc = result_desc;

	ds_validate(text_to_cstring(PG_GETARG_TEXT_PP(0)),
				PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
				PG_GETARG_BOOL(2), &v);

	values[0] = BoolGetDatum(v.valid);
	if (v.datasource)
		values[1] = CStringGetTextDatum(v.datasource);
	else
		nulls[1] = true;
	values[2] = ds_text_array(v.dbs, v.ndbs);
	values[3] = ds_text_array(v.rels, v.nrels);
	if (v.command)
		values[4] = CStringGetTextDatum(v.command);
	else
		nulls[4] = true;
	values[5] = BoolGetDatum(v.read_only);
	if (v.error)
		values[6] = CStringGetTextDatum(v.error);
	else
		nulls[6] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
