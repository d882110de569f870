/*-------------------------------------------------------------------------
 *
 * walk_utility.c
 *		  The names a utility statement points at.
 *
 * raw_expression_tree_walker (walk.c) does not enter utility statements,
 * so each kind whose names can be read is unwrapped here: the relations it
 * creates, alters or drops, the types, defaults, constraints and index
 * expressions of its columns, the function names it defines or comments
 * on, and the queries it wraps (EXPLAIN, COPY, CREATE TABLE AS, views,
 * PREPARE, DECLARE).  What is inside is handed back to walk.c; whether the
 * statement would change the session it runs in is sessionstate.c's rule,
 * noted for every statement read here (routing refuses it).  A kind not
 * listed, or one whose names cannot be read (a function body given as a
 * string, ALTER ... RENAME of a non-relation), makes the statement invalid:
 * validate() never says yes to what it could not read.
 *
 * Memory: as walk.c, the current (validate work) memory context.
 *
 * IDENTIFICATION
 *		  src/walk_utility.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"

#include "pg_datasource.h"

/*
 * ds_walk_relation_names
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
 * ds_walk_explain
 *		EXPLAIN: the statement explained.  Only EXPLAIN without ANALYZE of a
 *		query keeps the statement read-only.
 */
static bool
ds_walk_explain(DsWalk *w, ExplainStmt *e)
{
	ListCell   *lc;
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
			ds_walk_not_ro(w, ds_readonly_rule(DS_RO_EXPLAIN_WRITE, NULL));
			ds_walk_stmt(e->query, w);
			return true;
		}
		/* EXPLAIN CREATE TABLE AS / EXECUTE / DECLARE */
		ds_walk_not_ro(w, ds_readonly_rule(DS_RO_EXPLAIN_UTILITY, NULL));
		return ds_walk_utility(e->query, w);
	}
	if (analyze)
		ds_walk_not_ro(w, ds_readonly_rule(DS_RO_EXPLAIN_ANALYZE, NULL));
	ds_walk_stmt(e->query, w);
	return true;
}

/*
 * ds_walk_copy
 *		COPY: its table, or its query, and its WHERE clause.
 */
static bool
ds_walk_copy(DsWalk *w, CopyStmt *c)
{
	if (c->relation)
		ds_ref_relation(w, c->relation, false);
	if (c->query)
		ds_walk_stmt(c->query, w);
	if (c->whereClause)
		ds_walk_stmt(c->whereClause, w);
	return true;
}

/*
 * ds_walk_create_table_as
 *		CREATE TABLE AS / SELECT INTO: the new table and the query; the
 *		query of a prepared statement (AS EXECUTE) cannot be seen.
 */
static bool
ds_walk_create_table_as(DsWalk *w, CreateTableAsStmt *c)
{
	ds_ref_relation(w, c->into->rel, false);
	if (IsA(c->query, ExecuteStmt))
		return false;
	ds_walk_stmt(c->query, w);
	return true;
}

/*
 * ds_walk_prepare
 *		PREPARE: the parameter types and the statement.
 */
static bool
ds_walk_prepare(DsWalk *w, PrepareStmt *p)
{
	ListCell   *lc;

	foreach(lc, p->argtypes)
		ds_walk_stmt(lfirst(lc), w);
	ds_walk_stmt(p->query, w);
	return true;
}

/*
 * ds_walk_create_table
 *		CREATE TABLE: the table, its parents, type, columns, constraints,
 *		LIKE sources and partition key expressions.
 */
static bool
ds_walk_create_table(DsWalk *w, CreateStmt *c)
{
	ListCell   *lc;

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

/*
 * ds_walk_alter_table
 *		ALTER TABLE: the table and what each subcommand names.
 */
static bool
ds_walk_alter_table(DsWalk *w, AlterTableStmt *a)
{
	ListCell   *lc;

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

/*
 * ds_walk_index
 *		CREATE INDEX: the table, the key and INCLUDE expressions, and the
 *		predicate.
 */
static bool
ds_walk_index(DsWalk *w, IndexStmt *ix)
{
	ListCell   *lc;

	ds_ref_relation(w, ix->relation, false);
	foreach(lc, ix->indexParams)
		ds_walk_stmt(((IndexElem *) lfirst(lc))->expr, w);
	foreach(lc, ix->indexIncludingParams)
		ds_walk_stmt(((IndexElem *) lfirst(lc))->expr, w);
	ds_walk_stmt(ix->whereClause, w);
	return true;
}

/*
 * ds_walk_relations
 *		A list of RangeVar (TRUNCATE, LOCK).
 */
static bool
ds_walk_relations(DsWalk *w, List *relations)
{
	ListCell   *lc;

	foreach(lc, relations)
		ds_ref_relation(w, lfirst(lc), false);
	return true;
}

/*
 * ds_walk_vacuum
 *		VACUUM / ANALYZE: the tables named (none means all: no names).
 */
static bool
ds_walk_vacuum(DsWalk *w, VacuumStmt *vs)
{
	ListCell   *lc;

	foreach(lc, vs->rels)
	{
		VacuumRelation *vr = lfirst(lc);

		if (vr->relation)
			ds_ref_relation(w, vr->relation, false);
	}
	return true;
}

/*
 * ds_walk_drop
 *		DROP of relations, types, routines and schemas; other objects'
 *		names cannot be read.
 */
static bool
ds_walk_drop(DsWalk *w, DropStmt *d)
{
	ListCell   *lc;

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

/*
 * ds_walk_create_function
 *		CREATE FUNCTION / PROCEDURE with a SQL-standard body: its name,
 *		parameter types and defaults, result type and body.  A body given as
 *		a string cannot be read.
 */
static bool
ds_walk_create_function(DsWalk *w, CreateFunctionStmt *f)
{
	ListCell   *lc;

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

/*
 * ds_walk_comment
 *		COMMENT ON a relation, routine, type or column; other objects'
 *		names cannot be read.
 */
static bool
ds_walk_comment(DsWalk *w, CommentStmt *c)
{
	switch (c->objtype)
	{
		case OBJECT_TABLE:
		case OBJECT_VIEW:
		case OBJECT_MATVIEW:
		case OBJECT_SEQUENCE:
		case OBJECT_INDEX:
			ds_walk_relation_names(w, list_make1(c->object));
			return true;
		case OBJECT_FUNCTION:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
		case OBJECT_AGGREGATE:
			ds_walk_object_with_args(w, (ObjectWithArgs *) c->object);
			return true;
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			ds_walk_stmt(c->object, w);
			return true;
		case OBJECT_COLUMN:
			{
				List	   *names = (List *) c->object;

				ds_walk_relation_names(w, list_make1(list_copy_head(names, list_length(names) - 1)));
				return true;
			}
		default:
			return false;
	}
}

/*
 * ds_walk_utility_names
 *		Reads the names of a utility statement, by kind.  Returns false for
 *		statement kinds whose names cannot be read.
 */
static bool
ds_walk_utility_names(Node *stmt, DsWalk *w)
{
	switch (nodeTag(stmt))
	{
		case T_ExplainStmt:
			return ds_walk_explain(w, (ExplainStmt *) stmt);
		case T_CopyStmt:
			return ds_walk_copy(w, (CopyStmt *) stmt);
		case T_CreateTableAsStmt:
			return ds_walk_create_table_as(w, (CreateTableAsStmt *) stmt);
		case T_ViewStmt:
			ds_ref_relation(w, ((ViewStmt *) stmt)->view, false);
			ds_walk_stmt(((ViewStmt *) stmt)->query, w);
			return true;
		case T_PrepareStmt:
			return ds_walk_prepare(w, (PrepareStmt *) stmt);
		case T_DeclareCursorStmt:
			ds_walk_stmt(((DeclareCursorStmt *) stmt)->query, w);
			return true;
		case T_CallStmt:
			ds_walk_stmt((Node *) ((CallStmt *) stmt)->funccall, w);
			return true;
		case T_CreateStmt:
			return ds_walk_create_table(w, (CreateStmt *) stmt);
		case T_AlterTableStmt:
			return ds_walk_alter_table(w, (AlterTableStmt *) stmt);
		case T_IndexStmt:
			return ds_walk_index(w, (IndexStmt *) stmt);
		case T_CreateSeqStmt:
			ds_ref_relation(w, ((CreateSeqStmt *) stmt)->sequence, false);
			return true;
		case T_AlterSeqStmt:
			ds_ref_relation(w, ((AlterSeqStmt *) stmt)->sequence, false);
			return true;
		case T_TruncateStmt:
			return ds_walk_relations(w, ((TruncateStmt *) stmt)->relations);
		case T_LockStmt:
			return ds_walk_relations(w, ((LockStmt *) stmt)->relations);
		case T_VacuumStmt:
			return ds_walk_vacuum(w, (VacuumStmt *) stmt);
		case T_DropStmt:
			return ds_walk_drop(w, (DropStmt *) stmt);
		case T_CreateFunctionStmt:
			return ds_walk_create_function(w, (CreateFunctionStmt *) stmt);
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
			return ds_walk_comment(w, (CommentStmt *) stmt);
		case T_RenameStmt:
			if (((RenameStmt *) stmt)->relation == NULL)
				return false;
			ds_ref_relation(w, ((RenameStmt *) stmt)->relation, false);
			return true;

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
 * ds_walk_utility
 *		Reads the names of a utility statement, and notes whether it would
 *		change the session it runs in (sessionstate.c).  Returns false for
 *		statement kinds whose names cannot be read (the statement is then
 *		invalid).  The calls in what a definition stores for later (a view,
 *		a function body, column defaults) do not run now: they change no
 *		session here.
 */
bool
ds_walk_utility(Node *stmt, DsWalk *w)
{
	char	   *what = NULL;
	DsSessionRule rule;
	char	   *before;
	bool		ok;

	rule = ds_session_stmt(stmt, &what);
	ds_walk_session(w, rule, what);
	before = w->session;
	ok = ds_walk_utility_names(stmt, w);
	if (before == NULL && w->session != NULL &&
		(IsA(stmt, ViewStmt) || IsA(stmt, CreateFunctionStmt) ||
		 IsA(stmt, CreateStmt) || IsA(stmt, CreateDomainStmt)))
	{
		w->session = NULL;
		w->session_rule = DS_SESSION_NONE;
	}
	return ok;
}
