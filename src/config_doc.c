/*-------------------------------------------------------------------------
 *
 * config_doc.c
 *		  The registry as a document: export_config, and reading and checking
 *		  a document for apply_config (config.c).
 *
 * export_config writes the whole registry as one jsonb document: the
 * datasources, the logical databases, and the non-secret options of the
 * foreign servers the datasources use (a server of mysql_fdw says so with
 * "wrapper"; user mappings and their secrets are never exported).  The
 * functions below read the fields of such a document (a section is a List
 * of Jsonb containers, a field a C string) and check a whole document
 * before apply_config plans anything: its shape in one query (check_sql)
 * and every name by the rules of the registry functions.
 *
 * Memory: results are allocated in the caller's current memory context.
 *
 * IDENTIFICATION
 *		  src/config_doc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_export_config);

static char *ds_json_text(JsonbValue *v);

/*
 * The document checks, one query: the first problem found, or no row.
 * $1 is the document.
 */
static const char *const check_sql =
"WITH doc AS (SELECT CASE WHEN jsonb_typeof($1) = 'object' THEN $1 END AS d), "
"sections(sec, allowed, strings, bools) AS (VALUES "
"  ('servers', ARRAY['name','wrapper','options'], ARRAY['name','wrapper'], ARRAY[]::text[]), "
"  ('sources', ARRAY['name','server','enabled','read_only','description'], "
"     ARRAY['name','server','description'], ARRAY['enabled','read_only']), "
"  ('databases', ARRAY['name','source','schema_name','read_only','description', "
"     'renamed_from','local_schema'], "
"     ARRAY['name','source','schema_name','description','renamed_from','local_schema'], "
"     ARRAY['read_only'])), "
"elems AS (SELECT sec, allowed, strings, bools, e.v, e.i FROM doc, sections, "
"  jsonb_array_elements(CASE WHEN jsonb_typeof(d->sec) = 'array' THEN d->sec "
"                        ELSE '[]' END) WITH ORDINALITY e(v, i)), "
"problems AS ( "
"  SELECT 1 AS ord, 'the document must be a JSON object' AS p FROM doc WHERE d IS NULL "
"  UNION ALL SELECT 2, format('unknown top-level key \"%s\"', k) "
"    FROM doc, jsonb_object_keys(coalesce(d, '{}')) k "
"    WHERE k <> ALL (ARRAY['format','version','servers','sources','databases']) "
"  UNION ALL SELECT 3, 'key \"format\" must be \"pg_datasource\"' FROM doc "
"    WHERE d ? 'format' AND d->'format' <> '\"pg_datasource\"' "
"  UNION ALL SELECT 4, 'key \"version\" must be 1' FROM doc "
"    WHERE d ? 'version' AND d->'version' <> '1' "
"  UNION ALL SELECT 5, format('key \"%s\" must be an array', sec) FROM doc, sections "
"    WHERE d ? sec AND jsonb_typeof(d->sec) <> 'array' "
"  UNION ALL SELECT 6, format('element %s of \"%s\" must be an object', i, sec) "
"    FROM elems WHERE jsonb_typeof(v) <> 'object' "
"  UNION ALL SELECT 7, format('unknown key \"%s\" in element %s of \"%s\"', k, i, sec) "
"    FROM elems, jsonb_object_keys(CASE WHEN jsonb_typeof(v) = 'object' THEN v "
"                                   ELSE '{}' END) k WHERE k <> ALL (allowed) "
"  UNION ALL SELECT 8, format('element %s of \"%s\" needs a string \"name\"', i, sec) "
"    FROM elems WHERE jsonb_typeof(v) = 'object' "
"    AND jsonb_typeof(v->'name') IS DISTINCT FROM 'string' "
"  UNION ALL SELECT 9, format('\"%s\" in element %s of \"%s\" must be a string or null', k, i, sec) "
"    FROM elems, unnest(strings) k WHERE jsonb_typeof(v) = 'object' AND v ? k "
"    AND jsonb_typeof(v->k) NOT IN ('string', 'null') "
"  UNION ALL SELECT 10, format('\"%s\" in element %s of \"%s\" must be true or false', k, i, sec) "
"    FROM elems, unnest(bools) k WHERE jsonb_typeof(v) = 'object' AND v ? k "
"    AND jsonb_typeof(v->k) <> 'boolean' "
"  UNION ALL SELECT 11, format('\"options\" in element %s of \"servers\" must be an object of strings', i) "
"    FROM elems WHERE sec = 'servers' AND jsonb_typeof(v) = 'object' AND v ? 'options' "
"    AND (jsonb_typeof(v->'options') <> 'object' OR EXISTS (SELECT 1 FROM "
"         jsonb_each(CASE WHEN jsonb_typeof(v->'options') = 'object' THEN v->'options' "
"                    ELSE '{}' END) o WHERE jsonb_typeof(o.value) <> 'string')) "
"  UNION ALL SELECT 12, format('name \"%s\" appears more than once in \"%s\"', v->>'name', sec) "
"    FROM elems WHERE jsonb_typeof(v) = 'object' GROUP BY sec, v->>'name' "
"    HAVING count(*) > 1 "
"  UNION ALL SELECT 13, format('\"wrapper\" in element %s of \"servers\" must be \"pg_datasource\" or \"mysql_fdw\"', i) "
"    FROM elems WHERE sec = 'servers' AND jsonb_typeof(v) = 'object' "
"    AND jsonb_typeof(v->'wrapper') = 'string' "
"    AND v->>'wrapper' NOT IN ('pg_datasource', 'mysql_fdw')) "
"SELECT p FROM problems ORDER BY ord LIMIT 1";

/*
 * export_config() -> jsonb
 */
Datum
pgds_export_config(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		result;

	result = ds_run_query(
						  "SELECT jsonb_build_object("
						  " 'format', 'pg_datasource', 'version', 1,"
						  " 'servers', coalesce((SELECT jsonb_agg(jsonb_build_object("
						  "     'name', s.srvname, 'options', coalesce((SELECT jsonb_object_agg("
						  "        o.option_name, o.option_value) FROM pg_options_to_table(s.srvoptions) o),"
						  "     '{}')) || CASE WHEN w.fdwname <> 'pg_datasource'"
						  "     THEN jsonb_build_object('wrapper', w.fdwname) ELSE '{}' END"
						  "     ORDER BY s.srvname) FROM pg_foreign_server s"
						  "   JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw"
						  "   WHERE s.srvname::text IN (SELECT server FROM datasource.sources)), '[]'),"
						  " 'sources', coalesce((SELECT jsonb_agg(jsonb_build_object("
						  "     'name', name, 'server', server, 'enabled', enabled,"
						  "     'read_only', read_only, 'description', description) ORDER BY name)"
						  "   FROM datasource.sources), '[]'),"
						  " 'databases', coalesce((SELECT jsonb_agg(jsonb_build_object("
						  "     'name', name, 'source', source, 'schema_name', schema_name,"
						  "     'read_only', read_only, 'description', description)"
						  "     || CASE WHEN local_schema IS NOT NULL"
						  "     THEN jsonb_build_object('local_schema', local_schema) ELSE '{}' END"
						  "     ORDER BY name)"
						  "   FROM datasource.databases), '[]'))",
						  0, NULL, NULL, NULL, &isnull);
	PG_RETURN_DATUM(result);
}

/*
 * ds_json_text
 *		A scalar JSON value as text: strings as they are, null as NULL,
 *		booleans as "true"/"false".
 */
static char *
ds_json_text(JsonbValue *v)
{
	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	if (v->type == jbvBool)
		return pstrdup(v->val.boolean ? "true" : "false");
	elog(ERROR, "unexpected JSON value type %d", (int) v->type);
	return NULL;				/* keep compiler quiet */
}

/*
 * ds_config_has_section
 *		Whether the document has a top-level key (of any value).
 */
bool
ds_config_has_section(Jsonb *config, const char *section)
{
	JsonbValue	key;

	key.type = jbvString;
	key.val.string.val = (char *) section;
	key.val.string.len = strlen(section);
	return findJsonbValueFromContainer(&config->root, JB_FOBJECT, &key) != NULL;
}

/*
 * ds_config_rows
 *		The objects of one section of an already-checked document, as a List
 *		of Jsonb containers (NIL when the section is absent or empty).
 */
List *
ds_config_rows(Jsonb *config, const char *section)
{
	JsonbValue *arr;
	JsonbValue	key;
	List	   *rows = NIL;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	key.type = jbvString;
	key.val.string.val = (char *) section;
	key.val.string.len = strlen(section);
	arr = findJsonbValueFromContainer(&config->root, JB_FOBJECT, &key);
	if (arr == NULL || arr->type != jbvBinary)
		return NIL;

	it = JsonbIteratorInit(arr->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_ELEM && v.type == jbvBinary)
			rows = lappend(rows, v.val.binary.data);
	}
	return rows;
}

/*
 * ds_config_field
 *		A field of a section object as text (NULL when absent or null).
 */
char *
ds_config_field(JsonbContainer *obj, const char *field)
{
	JsonbValue	key;

	key.type = jbvString;
	key.val.string.val = (char *) field;
	key.val.string.len = strlen(field);
	return ds_json_text(findJsonbValueFromContainer(obj, JB_FOBJECT, &key));
}

/*
 * ds_config_nonempty
 *		A text field where "" means the same as null (descriptions).
 */
char *
ds_config_nonempty(JsonbContainer *obj, const char *field)
{
	char	   *s = ds_config_field(obj, field);

	return (s == NULL || s[0] == '\0') ? NULL : s;
}

/*
 * ds_config_bool
 *		A boolean field, or the default when absent.
 */
bool
ds_config_bool(JsonbContainer *obj, const char *field, bool dflt)
{
	char	   *s = ds_config_field(obj, field);

	return s == NULL ? dflt : strcmp(s, "true") == 0;
}

/*
 * ds_config_names
 *		Whether a section of the document has an object of that name.
 */
bool
ds_config_names(Jsonb *config, const char *section, const char *name)
{
	ListCell   *lc;

	foreach(lc, ds_config_rows(config, section))
		if (strcmp(ds_config_field(lfirst(lc), "name"), name) == 0)
			return true;
	return false;
}

/*
 * ds_config_check
 *		Checks the whole document before anything is planned: its shape
 *		(check_sql, one query) and every name in it, by the rules the
 *		registry functions apply to their arguments.  Raises 22023 (or the
 *		name rule's SQLSTATE) at the first problem.
 */
void
ds_config_check(Jsonb *config)
{
	Oid			argtypes[1] = {JSONBOID};
	Datum		args[1] = {JsonbPGetDatum(config)};
	bool		isnull;
	Datum		problem;
	ListCell   *lc;

	problem = ds_run_query(check_sql, 1, argtypes, args, NULL, &isnull);
	if (!isnull)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid config document: %s", TextDatumGetCString(problem)));

	foreach(lc, ds_config_rows(config, "servers"))
		ds_check_name(DS_NAME_SERVER, ds_config_field(lfirst(lc), "name"));
	foreach(lc, ds_config_rows(config, "sources"))
	{
		char	   *name = ds_config_field(lfirst(lc), "name");
		char	   *server = ds_config_field(lfirst(lc), "server");

		ds_check_name(DS_NAME_SOURCE, name);
		if (server)
			ds_check_name(DS_NAME_SERVER, server);
		if (strcmp(name, DS_LOCAL_SOURCE) == 0 && server != NULL)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid config document: datasource \"%s\" cannot have a server",
						   DS_LOCAL_SOURCE));
		if (strcmp(name, DS_LOCAL_SOURCE) != 0 && server == NULL)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid config document: datasource \"%s\" needs a server", name),
					errdetail("Every datasource other than \"%s\" is a foreign server of the %s or the %s wrapper.",
							  DS_LOCAL_SOURCE, DS_WRAPPER, DS_MYSQL_WRAPPER));
	}
	foreach(lc, ds_config_rows(config, "databases"))
	{
		char	   *schema = ds_config_field(lfirst(lc), "schema_name");
		char	   *source = ds_config_field(lfirst(lc), "source");
		char	   *local_schema = ds_config_field(lfirst(lc), "local_schema");

		ds_check_name(DS_NAME_DATABASE, ds_config_field(lfirst(lc), "name"));
		if (schema)
			ds_check_name(DS_NAME_SCHEMA, schema);
		if (source)
			ds_check_name(DS_NAME_SOURCE, source);
		if (local_schema)
			ds_check_name(DS_NAME_SCHEMA, local_schema);
	}

}

