/*-------------------------------------------------------------------------
 *
 * jsonschema.c
 *		  json_schema(): a JSON Schema (draft 2020-12) of one row of a
 *		  table or view of a logical database, read from its description.
 *
 * The schema is built from describe()'s document, so it is the same for a
 * local and a remote logical database.  Each column becomes a property:
 * its type's keywords (the description's own enums, domains and composite
 * types included), nullability, readOnly for identity and generated
 * columns, a constant default as "default" and any other as a "$comment".
 * CHECK constraints are parsed with the core raw parser (parse.c) and
 * those of a recognised shape -- ANDs of comparisons with a constant,
 * length() bounds, IN lists, regular expression matches and IS NOT NULL
 * -- become keywords of their columns; the others are listed in the
 * schema's "$comment", and a constraint is translated whole or not at all.
 *
 * The functions run in the caller's memory context; the parse trees live
 * in a small context of their own, deleted after each text.
 *
 * IDENTIFICATION
 *		  src/jsonschema.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/regproc.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_json_schema);

/* what json_schema knows of one column */
typedef struct DsColumn
{
	char	   *name;
	char	   *type;
	bool		not_null;
	char	   *default_expr;
	bool		read_only;		/* identity or generated */
	char	   *comment;
	StringInfoData extra;		/* keywords from CHECK constraints */
	List	   *enum_values;	/* from CHECK (col IN (...)), JSON texts */
} DsColumn;

/* the container of an object or array value, or NULL */
static JsonbContainer *
ds_json_container(JsonbValue *v)
{
	return (v != NULL && v->type == jbvBinary) ? v->val.binary.data : NULL;
}

/* the C string of a string value, or NULL */
static char *
ds_json_str(JsonbValue *v)
{
	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* whether a value is true */
static bool
ds_json_true(JsonbValue *v)
{
	return v != NULL && v->type == jbvBool && v->val.boolean;
}

/*
 * ds_type_key
 *		The key a type of the schema has in the description, from the text
 *		format_type printed (quoted when needed): NULL when it is qualified,
 *		that is, not a type of this schema.
 */
static char *
ds_type_key(const char *type)
{
	List	   *names;

	if (type[0] != '"')
		return strchr(type, '.') ? NULL : pstrdup(type);
	names = stringToQualifiedNameList(type);
	if (list_length(names) != 1)
		return NULL;
	return strVal(linitial(names));
}

/* a number as JSON: digits, sign, point, exponent only */
static bool
ds_is_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char) *p) && *p != '.' && *p != 'e' &&
			*p != 'E' && *p != '+' && *p != '-')
			return false;
	return true;
}

/*
 * ds_const_json
 *		A constant of a parsed expression (A_Const, possibly under casts
 *		and a unary minus) as JSON text, or NULL when it is something else.
 */
static char *
ds_const_json(Node *n)
{
	bool		negate = false;
	StringInfoData buf;

	while (n != NULL)
	{
		if (IsA(n, TypeCast))
			n = ((TypeCast *) n)->arg;
		else if (IsA(n, A_Expr) && ((A_Expr *) n)->kind == AEXPR_OP &&
				 ((A_Expr *) n)->lexpr == NULL &&
				 strcmp(strVal(llast(((A_Expr *) n)->name)), "-") == 0)
		{
			negate = !negate;
			n = ((A_Expr *) n)->rexpr;
		}
		else
			break;
	}
	if (n == NULL || !IsA(n, A_Const) || ((A_Const *) n)->isnull)
		return NULL;
	initStringInfo(&buf);
	switch (nodeTag(&((A_Const *) n)->val))
	{
		case T_Integer:
			appendStringInfo(&buf, "%s%d", negate ? "-" : "",
							 intVal(&((A_Const *) n)->val));
			break;
		case T_Float:
			{
				char	   *f = strVal(&((A_Const *) n)->val);

				if (!ds_is_json_number(f))
					return NULL;
				appendStringInfo(&buf, "%s%s", negate ? "-" : "", f);
			}
			break;
		case T_String:
			{
				char	   *s = strVal(&((A_Const *) n)->val);

				/* a numeric literal written as a string: '5'::numeric */
				if (negate)
				{
					if (!ds_is_json_number(s))
						return NULL;
					appendStringInfo(&buf, "-%s", s);
				}
				else
					escape_json(&buf, s);
			}
			break;
		case T_Boolean:
			if (negate)
				return NULL;
			appendStringInfoString(&buf, boolVal(&((A_Const *) n)->val) ? "true" : "false");
			break;
		default:
			return NULL;
	}
	return buf.data;
}

/* the column a parsed expression names (a bare ColumnRef), or NULL */
static DsColumn *
ds_check_column(Node *n, List *columns)
{
	ColumnRef  *ref;
	ListCell   *lc;
	char	   *name;

	while (n != NULL && IsA(n, TypeCast))
		n = ((TypeCast *) n)->arg;
	if (n == NULL || !IsA(n, ColumnRef))
		return NULL;
	ref = (ColumnRef *) n;
	if (list_length(ref->fields) != 1 || !IsA(linitial(ref->fields), String))
		return NULL;
	name = strVal(linitial(ref->fields));
	foreach(lc, columns)
	{
		DsColumn   *c = lfirst(lc);

		if (strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

/*
 * ds_check_length_arg
 *		For length(col) / char_length(col) / character_length(col): the
 *		column; else NULL.
 */
static DsColumn *
ds_check_length_arg(Node *n, List *columns)
{
	FuncCall   *f;
	char	   *fname;

	if (n == NULL || !IsA(n, FuncCall))
		return NULL;
	f = (FuncCall *) n;
	fname = strVal(llast(f->funcname));
	if (list_length(f->args) != 1 ||
		(strcmp(fname, "length") != 0 && strcmp(fname, "char_length") != 0 &&
		 strcmp(fname, "character_length") != 0))
		return NULL;
	return ds_check_column(linitial(f->args), columns);
}

/*
 * ds_check_comparison
 *		col OP const (or const OP col, or length(col) OP const) as JSON
 *		Schema keywords appended to the column; false when the shape is
 *		not one of those.
 */
static bool
ds_check_comparison(A_Expr *e, List *columns)
{
	const char *op = strVal(llast(e->name));
	Node	   *colside = e->lexpr;
	Node	   *constside = e->rexpr;
	DsColumn   *c;
	bool		length = false;
	char	   *value;
	const char *kw = NULL;

	value = ds_const_json(constside);
	if (value == NULL)
	{
		/* const OP col: flip the operator */
		colside = e->rexpr;
		constside = e->lexpr;
		value = ds_const_json(constside);
		if (value == NULL)
			return false;
		if (strcmp(op, "<") == 0)
			op = ">";
		else if (strcmp(op, ">") == 0)
			op = "<";
		else if (strcmp(op, "<=") == 0)
			op = ">=";
		else if (strcmp(op, ">=") == 0)
			op = "<=";
	}
	c = ds_check_column(colside, columns);
	if (c == NULL)
	{
		c = ds_check_length_arg(colside, columns);
		length = true;
	}
	if (c == NULL)
		return false;

	if (strcmp(op, "=") == 0 && !length)
	{
		c->enum_values = lappend(c->enum_values, value);
		return true;
	}
	if (value[0] == '"')
	{
		/* a string bound: only a regular expression match has a keyword */
		if (!length && strcmp(op, "~") == 0)
		{
			appendStringInfo(&c->extra, ", \"pattern\": %s", value);
			return true;
		}
		return false;
	}
	if (length)
	{
		long		n = strtol(value, NULL, 10);

		if (strcmp(op, "<=") == 0)
			appendStringInfo(&c->extra, ", \"maxLength\": %ld", n);
		else if (strcmp(op, "<") == 0)
			appendStringInfo(&c->extra, ", \"maxLength\": %ld", n - 1);
		else if (strcmp(op, ">=") == 0)
			appendStringInfo(&c->extra, ", \"minLength\": %ld", n);
		else if (strcmp(op, ">") == 0)
			appendStringInfo(&c->extra, ", \"minLength\": %ld", n + 1);
		else
			return false;
		return true;
	}
	if (strcmp(op, "<=") == 0)
		kw = "maximum";
	else if (strcmp(op, "<") == 0)
		kw = "exclusiveMaximum";
	else if (strcmp(op, ">=") == 0)
		kw = "minimum";
	else if (strcmp(op, ">") == 0)
		kw = "exclusiveMinimum";
	if (kw == NULL || !ds_is_json_number(value))
		return false;
	appendStringInfo(&c->extra, ", \"%s\": %s", kw, value);
	return true;
}

/*
 * ds_check_node
 *		Translates one parsed CHECK expression (ANDs of recognised shapes)
 *		into keywords; false when any part is not recognised (then nothing
 *		of it is kept by the caller).
 */
static bool
ds_check_node(Node *n, List *columns)
{
	if (n == NULL)
		return false;
	if (IsA(n, BoolExpr) && ((BoolExpr *) n)->boolop == AND_EXPR)
	{
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) n)->args)
			if (!ds_check_node(lfirst(lc), columns))
				return false;
		return true;
	}
	if (IsA(n, A_Expr))
	{
		A_Expr	   *e = (A_Expr *) n;

		if (e->kind == AEXPR_OP && e->lexpr != NULL)
			return ds_check_comparison(e, columns);
		/* col = ANY (ARRAY[...]) and col IN (...) */
		if ((e->kind == AEXPR_OP_ANY && strcmp(strVal(llast(e->name)), "=") == 0) ||
			(e->kind == AEXPR_IN && strcmp(strVal(llast(e->name)), "=") == 0))
		{
			DsColumn   *c = ds_check_column(e->lexpr, columns);
			Node	   *list = e->rexpr;
			List	   *values = NIL;
			ListCell   *lc;

			while (list != NULL && IsA(list, TypeCast))
				list = ((TypeCast *) list)->arg;
			if (c == NULL || list == NULL)
				return false;
			if (IsA(list, A_ArrayExpr))
				list = (Node *) ((A_ArrayExpr *) list)->elements;
			if (!IsA(list, List))
				return false;
			foreach(lc, (List *) list)
			{
				char	   *v = ds_const_json(lfirst(lc));

				if (v == NULL)
					return false;
				values = lappend(values, v);
			}
			c->enum_values = list_concat(c->enum_values, values);
			return true;
		}
	}
	if (IsA(n, NullTest) && ((NullTest *) n)->nulltesttype == IS_NOT_NULL)
	{
		DsColumn   *c = ds_check_column((Node *) ((NullTest *) n)->arg, columns);

		if (c == NULL)
			return false;
		c->not_null = true;
		return true;
	}
	return false;
}

/*
 * ds_parse_expr
 *		The expression of "SELECT expr" parsed into cxt, or NULL when the
 *		text does not parse (as when the description comes from a server
 *		whose deparser writes what ours cannot read) or is not one
 *		expression.  The caller deletes cxt when done with the tree.
 */
static Node *
ds_parse_expr(const char *expr, MemoryContext cxt)
{
	MemoryContext callercxt = MemoryContextSwitchTo(cxt);
	char	   *text = psprintf("SELECT %s", expr);
	List	   *parsed;
	SelectStmt *sel;
	ErrorData  *error;

	MemoryContextSwitchTo(callercxt);
	parsed = ds_parse_capture(text, RAW_PARSE_DEFAULT, cxt, &error);
	if (error != NULL || list_length(parsed) != 1)
		return NULL;
	sel = (SelectStmt *) ((RawStmt *) linitial(parsed))->stmt;
	if (!IsA(sel, SelectStmt) || list_length(sel->targetList) != 1)
		return NULL;
	return ((ResTarget *) linitial(sel->targetList))->val;
}

/*
 * ds_check_to_schema
 *		Parses a CHECK constraint's definition ("CHECK (expr)" as
 *		pg_get_constraintdef prints it) and adds what it says to the
 *		columns; returns false (and changes nothing) when it cannot be
 *		expressed.
 */
static bool
ds_check_to_schema(const char *definition, List *columns)
{
	Node	   *expr;
	ListCell   *lc;
	MemoryContext cxt;
	bool		ok;
	List	   *saved = NIL;

	if (strncmp(definition, "CHECK ", 6) != 0)
		return false;
	/* keep what the columns had, to undo a partial translation */
	foreach(lc, columns)
	{
		DsColumn   *c = lfirst(lc);

		saved = lappend_int(saved, c->extra.len);
		saved = lappend(saved, c->enum_values);
		saved = lappend_int(saved, c->not_null);
	}

	cxt = AllocSetContextCreate(CurrentMemoryContext, "datasource json_schema check",
								ALLOCSET_SMALL_SIZES);
	expr = ds_parse_expr(definition + 6, cxt);
	ok = expr != NULL && ds_check_node(expr, columns);
	MemoryContextDelete(cxt);

	if (!ok)
	{
		ListCell   *s = list_head(saved);

		foreach(lc, columns)
		{
			DsColumn   *c = lfirst(lc);

			c->extra.len = lfirst_int(s);
			c->extra.data[c->extra.len] = '\0';
			s = lnext(saved, s);
			c->enum_values = lfirst(s);
			s = lnext(saved, s);
			c->not_null = lfirst_int(s);
			s = lnext(saved, s);
		}
	}
	return ok;
}

static void ds_type_schema(StringInfo buf, const char *type,
						   JsonbContainer *types, bool *nullable, int depth);

/*
 * ds_own_type_schema
 *		The keywords for a type of the description itself (t, its object
 *		under "types", and key its name there): an enum's labels, a domain's
 *		base type (titled with its name; NOT NULL clears *nullable), a
 *		composite type's attributes as properties; another kind (a range) is
 *		a string titled with its name.
 */
static void
ds_own_type_schema(StringInfo buf, const char *key, JsonbContainer *t,
				   JsonbContainer *types, bool *nullable, int depth)
{
	char	   *kind = ds_json_str(ds_json_get(t, "kind"));

	if (strcmp(kind, "enum") == 0)
	{
		JsonbContainer *labels = ds_json_container(ds_json_get(t, "labels"));
		int			i;
		int			n = labels ? JsonContainerSize(labels) : 0;

		appendStringInfoString(buf, "\"type\": \"string\", \"enum\": [");
		for (i = 0; i < n; i++)
		{
			JsonbValue *l = getIthJsonbValueFromContainer(labels, i);

			if (i > 0)
				appendStringInfoString(buf, ", ");
			escape_json(buf, ds_json_str(l));
		}
		appendStringInfoChar(buf, ']');
	}
	else if (strcmp(kind, "domain") == 0)
	{
		ds_type_schema(buf, ds_json_str(ds_json_get(t, "base")), types,
					   nullable, depth + 1);
		if (ds_json_true(ds_json_get(t, "not_null")))
			*nullable = false;
		appendStringInfo(buf, ", \"title\": ");
		escape_json(buf, key);
	}
	else if (strcmp(kind, "composite") == 0)
	{
		JsonbContainer *attrs = ds_json_container(ds_json_get(t, "attributes"));
		int			i;
		int			n = attrs ? JsonContainerSize(attrs) : 0;

		appendStringInfoString(buf, "\"type\": \"object\", \"properties\": {");
		for (i = 0; i < n; i++)
		{
			JsonbContainer *a = ds_json_container(getIthJsonbValueFromContainer(attrs, i));
			bool		an = true;

			if (i > 0)
				appendStringInfoString(buf, ", ");
			escape_json(buf, ds_json_str(ds_json_get(a, "name")));
			appendStringInfoString(buf, ": {");
			ds_type_schema(buf, ds_json_str(ds_json_get(a, "type")), types,
						   &an, depth + 1);
			appendStringInfoChar(buf, '}');
		}
		appendStringInfoString(buf, "}, \"title\": ");
		escape_json(buf, key);
	}
	else
	{
		appendStringInfoString(buf, "\"type\": \"string\", \"title\": ");
		escape_json(buf, key);
	}
}

/*
 * ds_type_schema
 *		The JSON Schema keywords (without braces, starting with a comma-free
 *		first pair) for a value of type (format_type's text), using the
 *		description's own types for enums, domains and composites.  *nullable
 *		is cleared by a NOT NULL domain.
 */
static void
ds_type_schema(StringInfo buf, const char *type, JsonbContainer *types,
			   bool *nullable, int depth)
{
	size_t		len = strlen(type);
	char	   *key;
	JsonbContainer *t;

	if (depth > 16)
	{
		appendStringInfoString(buf, "\"description\": \"nested too deeply\"");
		return;
	}
	if (len > 2 && strcmp(type + len - 2, "[]") == 0)
	{
		bool		elem_nullable = true;
		char	   *elem = pnstrdup(type, len - 2);

		appendStringInfoString(buf, "\"type\": \"array\", \"items\": {");
		ds_type_schema(buf, elem, types, &elem_nullable, depth + 1);
		appendStringInfoChar(buf, '}');
		return;
	}

#define DS_TYPE_IS(prefix) (strncmp(type, prefix, strlen(prefix)) == 0)
	if (strcmp(type, "smallint") == 0)
		appendStringInfoString(buf, "\"type\": \"integer\", \"minimum\": -32768, \"maximum\": 32767");
	else if (strcmp(type, "integer") == 0)
		appendStringInfoString(buf, "\"type\": \"integer\", \"minimum\": -2147483648, \"maximum\": 2147483647");
	else if (strcmp(type, "bigint") == 0)
		appendStringInfoString(buf, "\"type\": \"integer\", \"minimum\": -9223372036854775808, \"maximum\": 9223372036854775807");
	else if (DS_TYPE_IS("numeric"))
	{
		int			p,
					s;

		appendStringInfoString(buf, "\"type\": \"number\"");
		if (sscanf(type, "numeric(%d,%d)", &p, &s) == 2 && p - s >= 0 && p - s < 300)
			appendStringInfo(buf, ", \"exclusiveMaximum\": 1e%d, \"exclusiveMinimum\": -1e%d",
							 p - s, p - s);
	}
	else if (strcmp(type, "real") == 0 || strcmp(type, "double precision") == 0)
		appendStringInfoString(buf, "\"type\": \"number\"");
	else if (strcmp(type, "boolean") == 0)
		appendStringInfoString(buf, "\"type\": \"boolean\"");
	else if (DS_TYPE_IS("character varying") || DS_TYPE_IS("character("))
	{
		int			n;
		const char *paren = strchr(type, '(');

		appendStringInfoString(buf, "\"type\": \"string\"");
		if (paren && sscanf(paren, "(%d)", &n) == 1)
			appendStringInfo(buf, ", \"maxLength\": %d", n);
	}
	else if (strcmp(type, "character") == 0)
		appendStringInfoString(buf, "\"type\": \"string\", \"maxLength\": 1");
	else if (strcmp(type, "text") == 0 || strcmp(type, "name") == 0 ||
			 strcmp(type, "\"char\"") == 0 || strcmp(type, "citext") == 0)
		appendStringInfoString(buf, "\"type\": \"string\"");
	else if (strcmp(type, "uuid") == 0)
		appendStringInfoString(buf, "\"type\": \"string\", \"format\": \"uuid\"");
	else if (strcmp(type, "date") == 0)
		appendStringInfoString(buf, "\"type\": \"string\", \"format\": \"date\"");
	else if (DS_TYPE_IS("timestamp"))
		appendStringInfoString(buf, "\"type\": \"string\", \"format\": \"date-time\"");
	else if (DS_TYPE_IS("time"))
		appendStringInfoString(buf, "\"type\": \"string\", \"format\": \"time\"");
	else if (strcmp(type, "inet") == 0 || strcmp(type, "cidr") == 0)
		appendStringInfoString(buf, "\"type\": \"string\", \"anyOf\": [{\"format\": \"ipv4\"}, {\"format\": \"ipv6\"}, {\"pattern\": \"/\"}]");
	else if (strcmp(type, "json") == 0 || strcmp(type, "jsonb") == 0)
		appendStringInfoString(buf, "\"description\": \"any JSON value\"");
	else if (strcmp(type, "bytea") == 0)
		appendStringInfoString(buf, "\"type\": \"string\", \"pattern\": \"^\\\\\\\\x([0-9a-fA-F]{2})*$\"");
	else if ((key = ds_type_key(type)) != NULL &&
			 (t = ds_json_container(ds_json_get(types, key))) != NULL)
	{
		ds_own_type_schema(buf, key, t, types, nullable, depth);
	}
	else
	{
		/* a type JSON has no counterpart for: its text form */
		appendStringInfoString(buf, "\"type\": \"string\", \"description\": ");
		escape_json(buf, psprintf("PostgreSQL type %s, as text", type));
	}
#undef DS_TYPE_IS
}

/*
 * ds_column_schema
 *		One property: the type's keywords, what CHECKs added, nullability,
 *		readOnly, default and description.
 */
static void
ds_column_schema(StringInfo buf, DsColumn *c, JsonbContainer *types)
{
	StringInfoData inner;
	bool		nullable = !c->not_null;
	ListCell   *lc;

	initStringInfo(&inner);
	ds_type_schema(&inner, c->type, types, &nullable, 0);
	appendStringInfoString(&inner, c->extra.data);
	if (c->enum_values != NIL)
	{
		appendStringInfoString(&inner, ", \"enum\": [");
		foreach(lc, c->enum_values)
		{
			if (lc != list_head(c->enum_values))
				appendStringInfoString(&inner, ", ");
			appendStringInfoString(&inner, lfirst(lc));
		}
		appendStringInfoChar(&inner, ']');
	}

	appendStringInfoChar(buf, '{');
	if (nullable)
	{
		appendStringInfo(buf, "\"anyOf\": [{%s}, {\"type\": \"null\"}]", inner.data);
		if (c->default_expr == NULL && !c->read_only)
			appendStringInfoString(buf, ", \"default\": null");
	}
	else
		appendStringInfoString(buf, inner.data);
	if (c->read_only)
		appendStringInfoString(buf, ", \"readOnly\": true");
	if (c->default_expr != NULL)
	{
		/* a constant default becomes "default"; others are described */
		MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
												  "datasource json_schema default",
												  ALLOCSET_SMALL_SIZES);
		Node	   *expr = ds_parse_expr(c->default_expr, cxt);
		char	   *value = expr != NULL ? ds_const_json(expr) : NULL;

		MemoryContextDelete(cxt);
		if (value != NULL)
			appendStringInfo(buf, ", \"default\": %s", value);
		else
		{
			appendStringInfoString(buf, ", \"$comment\": ");
			escape_json(buf, psprintf("default %s", c->default_expr));
		}
	}
	if (c->comment != NULL)
	{
		appendStringInfoString(buf, ", \"description\": ");
		escape_json(buf, c->comment);
	}
	appendStringInfoChar(buf, '}');
}

/*
 * ds_schema_columns
 *		What json_schema knows of the columns of rel (a table or view of a
 *		description), in their order, as a List of DsColumn.
 */
static List *
ds_schema_columns(JsonbContainer *rel, bool is_view)
{
	JsonbContainer *cols = ds_json_container(ds_json_get(rel, "columns"));
	List	   *columns = NIL;
	int			n = cols ? JsonContainerSize(cols) : 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		JsonbContainer *c = ds_json_container(getIthJsonbValueFromContainer(cols, i));
		DsColumn   *col = palloc0(sizeof(DsColumn));

		col->name = ds_json_str(ds_json_get(c, "name"));
		col->type = ds_json_str(ds_json_get(c, "type"));
		col->not_null = ds_json_true(ds_json_get(c, "not_null"));
		col->default_expr = ds_json_str(ds_json_get(c, "default"));
		col->read_only = ds_json_get(c, "identity") != NULL ||
			ds_json_get(c, "generated") != NULL;
		col->comment = ds_json_str(ds_json_get(c, "comment"));
		if (col->comment == NULL && is_view)
			col->comment = ds_json_str(ds_json_get(ds_json_container(ds_json_get(rel, "column_comments")),
												   col->name));
		initStringInfo(&col->extra);
		columns = lappend(columns, col);
	}
	return columns;
}

/*
 * ds_schema_checks
 *		Adds the CHECK constraints of rel to its columns, in name order (the
 *		description's); returns the definitions of those that cannot be
 *		expressed.
 */
static List *
ds_schema_checks(JsonbContainer *rel, List *columns)
{
	JsonbContainer *constraints = ds_json_container(ds_json_get(rel, "constraints"));
	List	   *unexpressed = NIL;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (constraints == NULL)
		return NIL;
	it = JsonbIteratorInit(constraints);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_VALUE && v.type == jbvBinary)
		{
			char	   *type = ds_json_str(ds_json_get(v.val.binary.data, "type"));
			char	   *def = ds_json_str(ds_json_get(v.val.binary.data, "definition"));

			if (type && strcmp(type, "check") == 0 && def &&
				!ds_check_to_schema(def, columns))
				unexpressed = lappend(unexpressed, def);
		}
	}
	return unexpressed;
}

/*
 * ds_schema_text
 *		The text of the JSON Schema of relation (rel in the description):
 *		its title and comment, a property per column, every column
 *		required, no other property, and the constraints not expressed.
 */
static char *
ds_schema_text(const char *relation, JsonbContainer *rel, JsonbContainer *types,
			   List *columns, List *unexpressed)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"title\": ");
	escape_json(&buf, relation);
	if (ds_json_get(rel, "comment") != NULL)
	{
		appendStringInfoString(&buf, ", \"description\": ");
		escape_json(&buf, ds_json_str(ds_json_get(rel, "comment")));
	}
	appendStringInfoString(&buf, ", \"type\": \"object\", \"properties\": {");
	foreach(lc, columns)
	{
		DsColumn   *c = lfirst(lc);

		if (lc != list_head(columns))
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, c->name);
		appendStringInfoString(&buf, ": ");
		ds_column_schema(&buf, c, types);
	}
	appendStringInfoString(&buf, "}, \"required\": [");
	foreach(lc, columns)
	{
		DsColumn   *c = lfirst(lc);

		if (lc != list_head(columns))
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, c->name);
	}
	appendStringInfoString(&buf, "], \"additionalProperties\": false");
	if (unexpressed != NIL)
	{
		StringInfoData note;

		initStringInfo(&note);
		appendStringInfoString(&note, "not expressed in this schema: ");
		foreach(lc, unexpressed)
		{
			if (lc != list_head(unexpressed))
				appendStringInfoString(&note, "; ");
			appendStringInfoString(&note, lfirst(lc));
		}
		appendStringInfoString(&buf, ", \"$comment\": ");
		escape_json(&buf, note.data);
	}
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/*
 * json_schema(database text, relation text) returns jsonb
 *		A JSON Schema (draft 2020-12) for one row of a table or view of a
 *		logical database.
 */
Datum
pgds_json_schema(PG_FUNCTION_ARGS)
{
	char	   *database;
	char	   *relation;
	Datum		description;
	JsonbContainer *root;
	JsonbContainer *rel;
	JsonbContainer *types;
	List	   *columns;
	List	   *unexpressed;
	char	   *schema;
	bool		is_view = false;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"%s\" must not be null",
					   PG_ARGISNULL(0) ? "database" : "relation"));
	database = text_to_cstring(PG_GETARG_TEXT_PP(0));
	relation = text_to_cstring(PG_GETARG_TEXT_PP(1));

	description = ds_describe(database);
	root = &DatumGetJsonbP(description)->root;
	types = ds_json_container(ds_json_get(root, "types"));
	rel = ds_json_container(ds_json_get(ds_json_container(ds_json_get(root, "tables")),
										relation));
	if (rel == NULL)
	{
		rel = ds_json_container(ds_json_get(ds_json_container(ds_json_get(root, "views")),
											relation));
		is_view = true;
	}
	if (rel == NULL)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg("relation \"%s\" does not exist in logical database \"%s\"",
					   relation, database),
				errhint("Name a table or view of the logical database without its schema."));

	columns = ds_schema_columns(rel, is_view);
	unexpressed = ds_schema_checks(rel, columns);
	schema = ds_schema_text(relation, rel, types, columns, unexpressed);
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(schema)));
}
