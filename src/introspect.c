/*-------------------------------------------------------------------------
 *
 * introspect.c
 *		  describe, fingerprint and json_schema: a logical database's schema
 *		  as canonical jsonb, its sha256, and a JSON Schema of one relation.
 *
 * describe() sends one catalog query to the datasource that owns the
 * logical database, through the same route as query() (SPI locally, the
 * cached libpq connection remotely), so a remote server needs nothing
 * installed.  The query runs with search_path set to the logical
 * database's schema, and every name it prints comes from the server's own
 * deparsers (format_type, pg_get_constraintdef, pg_get_indexdef,
 * pg_get_viewdef, pg_get_triggerdef, regclass output, all in their
 * search-path-relative forms), so names inside the schema appear without
 * it and two schemas of the same structure describe identically.  Objects
 * are keyed by name in jsonb objects (whose keys jsonb keeps sorted) and
 * arrays are ordered by the query, so the text of the result is canonical:
 * fingerprint() is the sha256 of it.  TimeZone, DateStyle, IntervalStyle
 * and extra_float_digits are fixed for the query (set_config local to its
 * transaction; locally inside a GUC nest level that is undone), because
 * partition bounds and defaults print constants in those settings.
 *
 * json_schema() reads one relation out of a description and maps its
 * columns to JSON Schema (draft 2020-12).  CHECK constraints are parsed
 * with the core parser and those of a recognised shape become keywords.
 *
 * The functions run in the caller's memory context; the description is
 * palloc'd there.
 *
 * IDENTIFICATION
 *		  src/introspect.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/json.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_describe);
PG_FUNCTION_INFO_V1(pgds_fingerprint);
PG_FUNCTION_INFO_V1(pgds_fingerprint_of);
PG_FUNCTION_INFO_V1(pgds_json_schema);

/*
 * The grants of an object: its ACL (the default one when NULL) without the
 * owner's own entries, as sorted strings "PRIVILEGE TO grantee [WITH GRANT
 * OPTION]".  The default ACL of a relation or sequence holds only the
 * owner's entries, so a NULL one is no grants without a look.
 */
#define DS_GRANTS(acl, owner, kind) \
	"CASE WHEN " acl " IS NULL AND " kind " IN ('r', 's') THEN NULL ELSE " \
	DS_GRANT_LIST("COALESCE(" acl ", pg_catalog.acldefault(" kind ", " owner "))", owner) " END"

/* the sorted grant strings of an ACL, without the owner's own entries */
#define DS_GRANT_LIST(acl, owner) \
	"(SELECT pg_catalog.jsonb_agg(g ORDER BY g) FROM (" \
	"SELECT DISTINCT x.privilege_type || ' TO ' || CASE WHEN x.grantee = 0 " \
	"THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END " \
	"|| CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END AS g " \
	"FROM pg_catalog.aclexplode(" acl ") x " \
	"WHERE x.grantee <> " owner ") gs)"

/* objects of schema n (their pg_depend namespace rows are indexed) */
#define DS_IN_SCHEMA(catalog, oid) \
	"  JOIN pg_catalog.pg_depend s ON s.objid = " oid " AND s.classid = 'pg_catalog." catalog "'::pg_catalog.regclass\n" \
	"   AND s.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND s.refobjid = n.oid AND s.deptype = 'n'\n"

/* objects that exist for another one (an identity column's sequence, a range type's constructors) */
#define DS_NOT_INTERNAL(catalog, oid) \
	"AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e\n" \
	"                    WHERE e.classid = 'pg_catalog." catalog "'::pg_catalog.regclass AND e.objid = " oid "\n" \
	"                      AND e.deptype = 'i')"

/*
 * The comment of an object (of a column when subid > 0), read from
 * pg_description directly: obj_description() and col_description() are SQL
 * functions that cannot be inlined and cost a query each.
 */
#define DS_COMMENT(oid, catalog, subid) \
	"(SELECT d.description FROM pg_catalog.pg_description d " \
	"WHERE d.objoid = " oid " AND d.classoid = 'pg_catalog." catalog "'::pg_catalog.regclass " \
	"AND d.objsubid = " subid ")"

/* objects that belong to an extension are not described */
#define DS_NOT_EXTENSION(catalog, oid) \
	"AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e " \
	"WHERE e.classid = 'pg_catalog." catalog "'::pg_catalog.regclass " \
	"AND e.objid = " oid " AND e.deptype = 'e')"

/* the sections of a description, in the order of the describe query's rows */
#define DS_SEC_SCHEMA		0	/* the schema exists */
#define DS_SEC_TABLES		1
#define DS_SEC_VIEWS		2
#define DS_SEC_SEQUENCES	3
#define DS_SEC_TYPES		4
#define DS_SEC_FUNCTIONS	5
#define DS_SEC_COLLATIONS	6
#define DS_SEC_COUNT		7

/* the parts of a table or type */
#define DS_PART_SELF		0	/* its own keys */
#define DS_PART_COLUMNS		1	/* columns, or attributes: an array */
#define DS_PART_CONSTRAINTS	2	/* objects keyed by name */
#define DS_PART_INDEXES		3
#define DS_PART_COUNT		4

/*
 * The columns of the describe query's rows.  A row is one object (a table,
 * view, type ...) with its keys in doc, or one part of a table or type (a
 * column, constraint, index or attribute: there are many of them, and typed
 * columns cost less than a jsonb each) with its keys in the fields t1..j2
 * that ds_part_fields names.
 */
typedef enum DsDescCol
{
	DS_COL_SEC,					/* DS_SEC_* */
	DS_COL_GRP,					/* the table or type the row belongs to */
	DS_COL_PART,				/* DS_PART_* */
	DS_COL_POS,					/* a column's number */
	DS_COL_NAME,
	DS_COL_DOC,
	DS_COL_T1,					/* text fields */
	DS_COL_T2,
	DS_COL_T3,
	DS_COL_T4,
	DS_COL_T5,
	DS_COL_T6,
	DS_COL_B1,					/* boolean fields */
	DS_COL_B2,
	DS_COL_J1,					/* jsonb fields */
	DS_COL_J2,
	DS_COL_COUNT
} DsDescCol;

/* the field columns of a row that has a document */
#define DS_NO_FIELDS ", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"

/*
 * The catalog query behind describe(); $1 is the schema.  It returns one
 * row per described object or part of one (DsDescCol), in no order, with
 * the keys whose value is NULL included.  ds_describe_build() puts the
 * rows in order and nests them into one document.  A row of section 0 says
 * that the schema exists; without it the query returns no row.  The sets of
 * tables and of types are named once (dt, dy): their own rows and their
 * parts' rows join them.
 *
 * A column default and a partition bound cannot name a column, so they are
 * deparsed without their relation (pg_get_expr(x, 0)): given one, the
 * deparser opens it, and in a fresh session that builds its relcache entry
 * (a tenth of a cold describe of a thousand tables).  Generated columns,
 * checks and policies name columns and are deparsed with it.  A foreign
 * table's server is read for foreign tables only.
 *
 * What a table or column has in other catalogs (comments, triggers,
 * policies, parents) is looked up per table or column, by index, and not
 * joined in grouped: the kept plan is generic, its estimate for the
 * schema's tables is one row, and with that the planner nests such a join
 * and scans or aggregates the grouped side again for every table, which
 * grows with the square of the schema (measured: a join with the comments
 * ran once per column).
 */
#define DS_DESCRIBE_SQL \
	"SELECT dr.*\n" \
	"FROM (SELECT pg_catalog.set_config('TimeZone', 'UTC', true)\n" \
	"             || pg_catalog.set_config('DateStyle', 'ISO', true)\n" \
	"             || pg_catalog.set_config('IntervalStyle', 'postgres', true)\n" \
	"             || pg_catalog.set_config('extra_float_digits', '3', true)\n" \
	"             || pg_catalog.set_config('quote_all_identifiers', 'off', true)\n" \
	"             || pg_catalog.set_config('search_path', pg_catalog.quote_ident($1) || ', pg_temp', true) AS settings) z,\n" \
	"     LATERAL (SELECT s.oid FROM pg_catalog.pg_namespace s\n" \
	"              WHERE s.nspname = $1 AND z.settings IS NOT NULL) n,\n" \
	"     LATERAL (\n" \
	"WITH dt AS MATERIALIZED (SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relispartition, c.relpartbound,\n" \
	"         c.relrowsecurity, c.relforcerowsecurity, c.reloptions, c.relacl, c.relowner\n" \
	"  FROM pg_catalog.pg_class c\n" \
	DS_IN_SCHEMA("pg_class", "c.oid") \
	"  WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'f') " DS_NOT_EXTENSION("pg_class", "c.oid") "),\n" \
	"     dy AS MATERIALIZED (SELECT t.oid, t.typname, t.typtype, t.typrelid, t.typbasetype, t.typtypmod, t.typnotnull,\n" \
	"         t.typdefault, t.typcollation, t.typacl, t.typowner\n" \
	"  FROM pg_catalog.pg_type t\n" \
	DS_IN_SCHEMA("pg_type", "t.oid") \
	"  WHERE t.typnamespace = n.oid " DS_NOT_EXTENSION("pg_type", "t.oid") "\n" \
	"    AND (t.typtype IN ('e', 'd', 'r')\n" \
	"         OR (t.typtype = 'c' AND (SELECT r.relkind FROM pg_catalog.pg_class r WHERE r.oid = t.typrelid) = 'c')))\n" \
	"SELECT " CppAsString2(DS_SEC_SCHEMA) " AS sec, 0::pg_catalog.oid AS grp, 0 AS part, 0 AS pos, NULL::pg_catalog.text AS name,\n" \
	"       NULL::pg_catalog.jsonb AS doc, NULL::pg_catalog.text AS t1, NULL::pg_catalog.text AS t2,\n" \
	"       NULL::pg_catalog.text AS t3, NULL::pg_catalog.text AS t4, NULL::pg_catalog.text AS t5,\n" \
	"       NULL::pg_catalog.text AS t6, NULL::pg_catalog.bool AS b1, NULL::pg_catalog.bool AS b2,\n" \
	"       NULL::pg_catalog.jsonb AS j1, NULL::pg_catalog.jsonb AS j2\n" \
	"UNION ALL\n" \
	"SELECT " CppAsString2(DS_SEC_TABLES) ", c.oid, " CppAsString2(DS_PART_SELF) ", 0, c.relname, pg_catalog.jsonb_build_object(\n" \
	"   'kind', CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' ELSE 'foreign table' END,\n" \
	"   'unlogged', NULLIF(c.relpersistence = 'u', false),\n" \
	"   'partition_by', CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END,\n" \
	"   'partition_of', (SELECT i.inhparent::pg_catalog.regclass::pg_catalog.text FROM pg_catalog.pg_inherits i\n" \
	"      WHERE i.inhrelid = c.oid AND c.relispartition),\n" \
	"   'partition_bound', CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, 0) END,\n" \
	"   'inherits', (SELECT pg_catalog.jsonb_agg(i.inhparent::pg_catalog.regclass::pg_catalog.text ORDER BY i.inhseqno)\n" \
	"      FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid AND NOT c.relispartition),\n" \
	"   'row_security', NULLIF(c.relrowsecurity, false),\n" \
	"   'force_row_security', NULLIF(c.relforcerowsecurity, false),\n" \
	"   'options', (SELECT pg_catalog.jsonb_agg(o ORDER BY o) FROM pg_catalog.unnest(c.reloptions) o),\n" \
	"   'server', CASE WHEN c.relkind = 'f' THEN (SELECT s.srvname FROM pg_catalog.pg_foreign_table f\n" \
	"      JOIN pg_catalog.pg_foreign_server s ON s.oid = f.ftserver WHERE f.ftrelid = c.oid) END,\n" \
	"   'server_options', CASE WHEN c.relkind = 'f' THEN (SELECT pg_catalog.jsonb_agg(o ORDER BY o)\n" \
	"      FROM pg_catalog.pg_foreign_table f, pg_catalog.unnest(f.ftoptions) o WHERE f.ftrelid = c.oid) END,\n" \
	"   'triggers', (SELECT pg_catalog.jsonb_object_agg(g.tgname, pg_catalog.jsonb_build_object(\n" \
	"        'definition', pg_catalog.pg_get_triggerdef(g.oid, true),\n" \
	"        'enabled', CASE g.tgenabled WHEN 'O' THEN NULL WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica' ELSE 'always' END,\n" \
	"        'comment', " DS_COMMENT("g.oid", "pg_trigger", "0") "))\n" \
	"      FROM pg_catalog.pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal AND g.tgparentid = 0),\n" \
	"   'policies', (SELECT pg_catalog.jsonb_object_agg(p.polname, pg_catalog.jsonb_build_object(\n" \
	"        'command', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'\n" \
	"          WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,\n" \
	"        'permissive', p.polpermissive,\n" \
	"        'roles', (SELECT pg_catalog.jsonb_agg(rn ORDER BY rn COLLATE \"C\")\n" \
	"          FROM (SELECT CASE WHEN r = 0 THEN 'PUBLIC'\n" \
	"                       ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r)) END AS rn\n" \
	"                FROM pg_catalog.unnest(p.polroles) r) pr),\n" \
	"        'using', pg_catalog.pg_get_expr(p.polqual, p.polrelid),\n" \
	"        'with_check', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid),\n" \
	"        'comment', " DS_COMMENT("p.oid", "pg_policy", "0") "))\n" \
	"      FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid),\n" \
	"   'comment', " DS_COMMENT("c.oid", "pg_class", "0") ",\n" \
	"   'grants', " DS_GRANTS("c.relacl", "c.relowner", "'r'") ")" DS_NO_FIELDS "\n" \
	"  FROM dt c\n" \
	"UNION ALL\n" \
	"SELECT " CppAsString2(DS_SEC_TABLES) ", c.oid, " CppAsString2(DS_PART_COLUMNS) ", a.attnum, a.attname, NULL,\n" \
	"   pg_catalog.format_type(a.atttypid, a.atttypmod),\n" \
	"   CASE WHEN a.attcollation <> 0 AND a.attcollation <> (SELECT b.typcollation FROM pg_catalog.pg_type b WHERE b.oid = a.atttypid)\n" \
	"     THEN a.attcollation::pg_catalog.regcollation::pg_catalog.text END,\n" \
	"   CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, 0) END,\n" \
	"   CASE WHEN a.attgenerated = 's' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid) END,\n" \
	"   CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,\n" \
	"   " DS_COMMENT("c.oid", "pg_class", "a.attnum") ",\n" \
	"   NULLIF(a.attnotnull, false),\n" \
	"   NULLIF(NOT a.attislocal, false),\n" \
	"   CASE WHEN a.attidentity <> '' THEN (\n" \
	"      SELECT pg_catalog.jsonb_build_object('start', q.seqstart, 'increment', q.seqincrement,\n" \
	"        'min', q.seqmin, 'max', q.seqmax, 'cache', q.seqcache, 'cycle', q.seqcycle)\n" \
	"      FROM pg_catalog.pg_depend e JOIN pg_catalog.pg_sequence q ON q.seqrelid = e.objid\n" \
	"      WHERE e.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.refobjid = c.oid\n" \
	"        AND e.refobjsubid = a.attnum AND e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass\n" \
	"        AND e.deptype = 'i') END,\n" \
	"   CASE WHEN a.attacl IS NOT NULL THEN " DS_GRANT_LIST("a.attacl", "c.relowner") " END\n" \
	"  FROM dt c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid\n" \
	"  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum\n" \
	"  WHERE a.attnum > 0 AND NOT a.attisdropped\n" \
	"UNION ALL\n" \
	"SELECT " CppAsString2(DS_SEC_TABLES) ", c.oid, " CppAsString2(DS_PART_CONSTRAINTS) ", 0, k.conname, NULL,\n" \
	"   CASE k.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique' WHEN 'f' THEN 'foreign key'\n" \
	"     WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' END,\n" \
	"   pg_catalog.pg_get_constraintdef(k.oid, true), NULL, NULL, NULL,\n" \
	"   " DS_COMMENT("k.oid", "pg_constraint", "0") ", NULL, NULL, NULL, NULL\n" \
	"  FROM dt c JOIN pg_catalog.pg_constraint k ON k.conrelid = c.oid\n" \
	"  WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND k.conislocal\n" \
	"UNION ALL\n" \
	"SELECT " CppAsString2(DS_SEC_TABLES) ", c.oid, " CppAsString2(DS_PART_INDEXES) ", 0, ic.relname, NULL,\n" \
	"   NULL, pg_catalog.pg_get_indexdef(x.indexrelid, 0, true), NULL, NULL, NULL,\n" \
	"   " DS_COMMENT("x.indexrelid", "pg_class", "0") ", NULL, NULL, NULL, NULL\n" \
	"  FROM dt c JOIN pg_catalog.pg_index x ON x.indrelid = c.oid JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid\n" \
	"  WHERE NOT ic.relispartition\n" \
	"    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k\n" \
	"                    WHERE k.conindid = x.indexrelid AND k.conrelid = c.oid AND k.contype IN ('p', 'u', 'x'))\n" \
	"UNION ALL\n" \
	"SELECT " CppAsString2(DS_SEC_VIEWS) ", c.oid, " CppAsString2(DS_PART_SELF) ", 0, c.relname, pg_catalog.jsonb_build_object(\n" \
	"   'kind', CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END,\n" \
	"   'definition', pg_catalog.pg_get_viewdef(c.oid, true),\n" \
	"   'columns', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(\n" \
	"        'name', a.attname,\n" \
	"        'type', pg_catalog.format_type(a.atttypid, a.atttypmod),\n" \
	"        'not_null', NULLIF(a.attnotnull, false)) ORDER BY a.attnum)\n" \
	"      FROM pg_catalog.pg_attribute a\n" \
	"      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),\n" \
	"   'options', (SELECT pg_catalog.jsonb_agg(o ORDER BY o) FROM pg_catalog.unnest(c.reloptions) o),\n" \
	"   'depends_on', (SELECT pg_catalog.jsonb_agg(DISTINCT r.relname ORDER BY r.relname)\n" \
	"      FROM pg_catalog.pg_rewrite w\n" \
	"      JOIN pg_catalog.pg_depend e ON e.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND e.objid = w.oid\n" \
	"        AND e.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass\n" \
	"      JOIN pg_catalog.pg_class r ON r.oid = e.refobjid\n" \
	"      WHERE w.ev_class = c.oid AND r.oid <> c.oid AND r.relnamespace = n.oid),\n" \
	"   'indexes', (SELECT pg_catalog.jsonb_object_agg(ic.relname, pg_catalog.jsonb_build_object(\n" \
	"        'definition', pg_catalog.pg_get_indexdef(x.indexrelid, 0, true),\n" \
	"        'comment', " DS_COMMENT("x.indexrelid", "pg_class", "0") "))\n" \
	"      FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid\n" \
	"      WHERE x.indrelid = c.oid),\n" \
	"   'comment', " DS_COMMENT("c.oid", "pg_class", "0") ",\n" \
	"   'column_comments', (SELECT pg_catalog.jsonb_object_agg(a.attname, d.description)\n" \
	"      FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_description d ON d.objoid = c.oid\n" \
	"        AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid = a.attnum\n" \
	"      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),\n" \
	"   'grants', " DS_GRANTS("c.relacl", "c.relowner", "'r'") ")" DS_NO_FIELDS "\n" \
	"  FROM pg_catalog.pg_class c\n" \
	DS_IN_SCHEMA("pg_class", "c.oid") \
	"  WHERE c.relnamespace = n.oid AND c.relkind IN ('v', 'm') " DS_NOT_EXTENSION("pg_class", "c.oid") "\n" \
	"UNION ALL\n" \
	"SELECT " CppAsString2(DS_SEC_SEQUENCES) ", c.oid, " CppAsString2(DS_PART_SELF) ", 0, c.relname, pg_catalog.jsonb_build_object(\n" \
	"   'type', pg_catalog.format_type(q.seqtypid, NULL),\n" \
	"   'start', q.seqstart, 'increment', q.seqincrement, 'min', q.seqmin, 'max', q.seqmax,\n" \
	"   'cache', q.seqcache, 'cycle', q.seqcycle,\n" \
	"   'unlogged', NULLIF(c.relpersistence = 'u', false),\n" \
	"   'owned_by', (SELECT e.refobjid::pg_catalog.regclass::pg_catalog.text || '.' || pg_catalog.quote_ident(a.attname)\n" \
	"      FROM pg_catalog.pg_depend e\n" \
	"      JOIN pg_catalog.pg_attribute a ON a.attrelid = e.refobjid AND a.attnum = e.refobjsubid\n" \
	"      WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.objid = c.oid\n" \
	"        AND e.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.deptype = 'a' AND e.refobjsubid > 0),\n" \
	"   'comment', " DS_COMMENT("c.oid", "pg_class", "0") ",\n" \
	"   'grants', " DS_GRANTS("c.relacl", "c.relowner", "'s'") ")" DS_NO_FIELDS "\n" \
	"  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_sequence q ON q.seqrelid = c.oid\n" \
	DS_IN_SCHEMA("pg_class", "c.oid") \
	"  WHERE c.relnamespace = n.oid AND c.relkind = 'S' " DS_NOT_EXTENSION("pg_class", "c.oid") "\n" \
	"    " DS_NOT_INTERNAL("pg_class", "c.oid") "\n" \
	"UNION ALL\n" \
	"SELECT " CppAsString2(DS_SEC_TYPES) ", t.oid, " CppAsString2(DS_PART_SELF) ", 0, t.typname, pg_catalog.jsonb_build_object(\n" \
	"   'kind', CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'r' THEN 'range' ELSE 'composite' END,\n" \
	"   'labels', CASE WHEN t.typtype = 'e' THEN (SELECT pg_catalog.jsonb_agg(l.enumlabel ORDER BY l.enumsortorder)\n" \
	"      FROM pg_catalog.pg_enum l WHERE l.enumtypid = t.oid) END,\n" \
	"   'base', CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END,\n" \
	"   'not_null', NULLIF(t.typnotnull, false),\n" \
	"   'default', t.typdefault,\n" \
	"   'collation', CASE WHEN t.typtype = 'd' AND t.typcollation <> 0\n" \
	"        AND t.typcollation <> (SELECT b.typcollation FROM pg_catalog.pg_type b WHERE b.oid = t.typbasetype)\n" \
	"      THEN t.typcollation::pg_catalog.regcollation::pg_catalog.text END,\n" \
	"   'constraints', CASE WHEN t.typtype = 'd' THEN (SELECT pg_catalog.jsonb_object_agg(k.conname, pg_catalog.pg_get_constraintdef(k.oid, true))\n" \
	"      FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid) END,\n" \
	"   'constraint_comments', CASE WHEN t.typtype = 'd' THEN (SELECT pg_catalog.jsonb_object_agg(k.conname, d.description)\n" \
	"      FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_description d ON d.objoid = k.oid\n" \
	"        AND d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.objsubid = 0\n" \
	"      WHERE k.contypid = t.oid) END,\n" \
	"   'subtype', (SELECT pg_catalog.format_type(g.rngsubtype, NULL) FROM pg_catalog.pg_range g WHERE g.rngtypid = t.oid),\n" \
	"   'subtype_opclass', (SELECT oc.opcname FROM pg_catalog.pg_range g JOIN pg_catalog.pg_opclass oc ON oc.oid = g.rngsubopc\n" \
	"      WHERE g.rngtypid = t.oid AND NOT oc.opcdefault),\n" \
	"   'subtype_collation', (SELECT g.rngcollation::pg_catalog.regcollation::pg_catalog.text FROM pg_catalog.pg_range g\n" \
	"      JOIN pg_catalog.pg_type b ON b.oid = g.rngsubtype\n" \
	"      WHERE g.rngtypid = t.oid AND g.rngcollation <> 0 AND g.rngcollation <> b.typcollation),\n" \
	"   'canonical', (SELECT g.rngcanonical::pg_catalog.regproc::pg_catalog.text FROM pg_catalog.pg_range g\n" \
	"      WHERE g.rngtypid = t.oid AND g.rngcanonical <> 0),\n" \
	"   'subtype_diff', (SELECT g.rngsubdiff::pg_catalog.regproc::pg_catalog.text FROM pg_catalog.pg_range g\n" \
	"      WHERE g.rngtypid = t.oid AND g.rngsubdiff <> 0),\n" \
	"   'multirange', (SELECT m.typname FROM pg_catalog.pg_range g JOIN pg_catalog.pg_type m ON m.oid = g.rngmultitypid\n" \
	"      WHERE g.rngtypid = t.oid),\n" \
	"   'comment', " DS_COMMENT("t.oid", "pg_type", "0") ",\n" \
	"   'grants', " DS_GRANTS("t.typacl", "t.typowner", "'T'") ")" DS_NO_FIELDS "\n" \
	"  FROM dy t\n" \
	"UNION ALL\n" \
	"SELECT " CppAsString2(DS_SEC_TYPES) ", t.oid, " CppAsString2(DS_PART_COLUMNS) ", a.attnum, a.attname, NULL,\n" \
	"   pg_catalog.format_type(a.atttypid, a.atttypmod),\n" \
	"   CASE WHEN a.attcollation <> b.typcollation THEN a.attcollation::pg_catalog.regcollation::pg_catalog.text END,\n" \
	"   NULL, NULL, NULL, " DS_COMMENT("a.attrelid", "pg_class", "a.attnum") ", NULL, NULL, NULL, NULL\n" \
	"  FROM dy t JOIN pg_catalog.pg_attribute a ON a.attrelid = t.typrelid JOIN pg_catalog.pg_type b ON b.oid = a.atttypid\n" \
	"  WHERE t.typtype = 'c' AND a.attnum > 0 AND NOT a.attisdropped\n" \
	"UNION ALL\n" \
	"SELECT " CppAsString2(DS_SEC_FUNCTIONS) ", f.oid, " CppAsString2(DS_PART_SELF) ", 0,\n" \
	"   f.proname || '(' || pg_catalog.pg_get_function_identity_arguments(f.oid) || ')', pg_catalog.jsonb_build_object(\n" \
	"   'name', f.proname,\n" \
	"   'kind', CASE f.prokind WHEN 'p' THEN 'procedure' WHEN 'w' THEN 'window function' ELSE 'function' END,\n" \
	"   'arguments', pg_catalog.pg_get_function_arguments(f.oid),\n" \
	"   'identity_arguments', pg_catalog.pg_get_function_identity_arguments(f.oid),\n" \
	"   'result', pg_catalog.pg_get_function_result(f.oid),\n" \
	"   'language', (SELECT l.lanname FROM pg_catalog.pg_language l WHERE l.oid = f.prolang),\n" \
	"   'sql_body', NULLIF(f.prosqlbody IS NOT NULL, false),\n" \
	"   'calls', (SELECT pg_catalog.jsonb_agg(DISTINCT g.proname || '(' || pg_catalog.pg_get_function_identity_arguments(g.oid) || ')')\n" \
	"      FROM pg_catalog.pg_depend e JOIN pg_catalog.pg_proc g ON g.oid = e.refobjid\n" \
	"      WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND e.objid = f.oid\n" \
	"        AND e.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND g.pronamespace = n.oid AND g.oid <> f.oid),\n" \
	"   'depends_on', (SELECT pg_catalog.jsonb_agg(d.relname ORDER BY d.relname) FROM (\n" \
	"        SELECT r.relname FROM pg_catalog.pg_depend e JOIN pg_catalog.pg_class r ON r.oid = e.refobjid\n" \
	"        WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND e.objid = f.oid\n" \
	"          AND e.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND r.relnamespace = n.oid\n" \
	"        UNION\n" \
	"        SELECT r.relname FROM pg_catalog.pg_depend e\n" \
	"        JOIN pg_catalog.pg_type y ON y.oid = e.refobjid JOIN pg_catalog.pg_class r ON r.oid = y.typrelid\n" \
	"        WHERE e.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND e.objid = f.oid\n" \
	"          AND e.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass AND r.relnamespace = n.oid\n" \
	"          AND r.relkind <> 'c') d),\n" \
	"   'volatility', CASE f.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END,\n" \
	"   'strict', NULLIF(f.proisstrict, false),\n" \
	"   'security_definer', NULLIF(f.prosecdef, false),\n" \
	"   'parallel', CASE f.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' ELSE 'unsafe' END,\n" \
	"   'definition', 'CREATE OR REPLACE ' || CASE WHEN f.prokind = 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END\n" \
	"      || pg_catalog.quote_ident(f.proname) || '(' || pg_catalog.pg_get_function_arguments(f.oid) || ')'\n" \
	"      || (SELECT pg_catalog.substr(fd.def, pg_catalog.strpos(fd.def, E'\\n'))\n" \
	"          FROM (SELECT pg_catalog.pg_get_functiondef(f.oid) AS def) fd),\n" \
	"   'comment', " DS_COMMENT("f.oid", "pg_proc", "0") ",\n" \
	"   'grants', " DS_GRANTS("f.proacl", "f.proowner", "'f'") ")" DS_NO_FIELDS "\n" \
	"  FROM pg_catalog.pg_proc f\n" \
	DS_IN_SCHEMA("pg_proc", "f.oid") \
	"  WHERE f.pronamespace = n.oid AND f.prokind IN ('f', 'p', 'w') " DS_NOT_EXTENSION("pg_proc", "f.oid") "\n" \
	"    " DS_NOT_INTERNAL("pg_proc", "f.oid") "\n" \
	"UNION ALL\n" \
	"SELECT " CppAsString2(DS_SEC_COLLATIONS) ", o.oid, " CppAsString2(DS_PART_SELF) ", 0, o.collname, pg_catalog.jsonb_build_object(\n" \
	"   'provider', CASE o.collprovider WHEN 'i' THEN 'icu' WHEN 'c' THEN 'libc' ELSE 'default' END,\n" \
	"   'lc_collate', o.collcollate,\n" \
	"   'lc_ctype', o.collctype,\n" \
	"   'icu_locale', o.colliculocale,\n" \
	"   'deterministic', o.collisdeterministic,\n" \
	"   'comment', " DS_COMMENT("o.oid", "pg_collation", "0") ")" DS_NO_FIELDS "\n" \
	"  FROM pg_catalog.pg_collation o\n" \
	DS_IN_SCHEMA("pg_collation", "o.oid") \
	"  WHERE o.collnamespace = n.oid " DS_NOT_EXTENSION("pg_collation", "o.oid") "\n" \
	") dr\n"

/* the names of the query's columns, which a remote result's rows have as keys */
static const char *const ds_col_names[DS_COL_COUNT] = {
	"sec", "grp", "part", "pos", "name", "doc",
	"t1", "t2", "t3", "t4", "t5", "t6", "b1", "b2", "j1", "j2"
};

/* the rows of a description, each an object or a part of one */
typedef struct DsDescRow
{
	int			sec;			/* DS_SEC_* */
	int			part;			/* DS_PART_* */
	Oid			grp;			/* the object the row belongs to */
	int			pos;			/* a column's number */
	const char *name;			/* not terminated */
	int			namelen;
	HeapTuple	tuple;			/* local: the row */
	JsonbContainer *object;		/* remote: the row as a jsonb object */
} DsDescRow;

/* the rows of one run of the query */
typedef struct DsDescRows
{
	DsDescRow  *rows;
	int			n;
	TupleDesc	desc;			/* local */
} DsDescRows;

/* a key of a part and the column that holds its value */
typedef struct DsField
{
	const char *key;
	DsDescCol	col;
} DsField;

/* table columns and composite type attributes (which have 4 of the keys) */
static const DsField ds_column_fields[] = {
	{"name", DS_COL_NAME}, {"type", DS_COL_T1}, {"collation", DS_COL_T2},
	{"default", DS_COL_T3}, {"generated", DS_COL_T4}, {"identity", DS_COL_T5},
	{"comment", DS_COL_T6}, {"not_null", DS_COL_B1}, {"inherited", DS_COL_B2},
	{"identity_options", DS_COL_J1}, {"grants", DS_COL_J2}, {NULL, 0}
};
static const DsField ds_constraint_fields[] = {
	{"type", DS_COL_T1}, {"definition", DS_COL_T2}, {"comment", DS_COL_T6}, {NULL, 0}
};
static const DsField ds_index_fields[] = {
	{"definition", DS_COL_T2}, {"comment", DS_COL_T6}, {NULL, 0}
};

/* the keys of the sections, and of the parts of a table or type */
static const char *const ds_section_keys[DS_SEC_COUNT] = {
	[DS_SEC_TABLES] = "tables",
	[DS_SEC_VIEWS] = "views",
	[DS_SEC_SEQUENCES] = "sequences",
	[DS_SEC_TYPES] = "types",
	[DS_SEC_FUNCTIONS] = "functions",
	[DS_SEC_COLLATIONS] = "collations"
};
static const char *const ds_part_keys[DS_SEC_COUNT][DS_PART_COUNT] = {
	[DS_SEC_TABLES] = {[DS_PART_COLUMNS] = "columns",
	[DS_PART_CONSTRAINTS] = "constraints",[DS_PART_INDEXES] = "indexes"},
	[DS_SEC_TYPES] = {[DS_PART_COLUMNS] = "attributes"}
};
static const DsField *const ds_part_fields[DS_SEC_COUNT][DS_PART_COUNT] = {
	[DS_SEC_TABLES] = {[DS_PART_COLUMNS] = ds_column_fields,
	[DS_PART_CONSTRAINTS] = ds_constraint_fields,[DS_PART_INDEXES] = ds_index_fields},
	[DS_SEC_TYPES] = {[DS_PART_COLUMNS] = ds_column_fields}
};

static const char *ds_describe_sql = DS_DESCRIBE_SQL;

/* the kept local plan of the describe query */
static SPIPlanPtr ds_describe_plan = NULL;

/* where descriptions are built */
static MemoryContext ds_describe_cxt = NULL;

/* kept plan of the canonical order of a stored description */
static SPIPlanPtr ds_canonical_plan = NULL;

static JsonbValue *ds_json_get(JsonbContainer *obj, const char *key);

/*
 * ds_no_schema
 *		Raises 3F000: the schema of a logical database is missing.
 */
static void
ds_no_schema(DsDatabase *db, DsSource *src)
{
	ereport(ERROR,
			errcode(ERRCODE_INVALID_SCHEMA_NAME),
			errmsg("schema \"%s\" of logical database \"%s\" does not exist",
				   db->schema_name, db->name),
			errhint("Create the schema on datasource \"%s\", or map the logical database to an existing one.",
					src->name));
}

/*
 * ds_row_cmp
 *		The order of description rows: by section, object and part, and
 *		columns by number, or by name when *arg (the canonical order of a
 *		fingerprint: PostgreSQL appends a column that is added, so a column
 *		dropped and added again, which is how diff() restores one, keeps its
 *		new place).  Names compare bytewise, as COLLATE "C".
 */
static int
ds_row_cmp(const void *a, const void *b, void *arg)
{
	const DsDescRow *x = (const DsDescRow *) a;
	const DsDescRow *y = (const DsDescRow *) b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->grp != y->grp)
		return x->grp < y->grp ? -1 : 1;
	if (x->part != y->part)
		return x->part < y->part ? -1 : 1;
	if (*(bool *) arg && x->part == DS_PART_COLUMNS)
	{
		int			c = memcmp(x->name, y->name, Min(x->namelen, y->namelen));

		if (c != 0)
			return c;
		if (x->namelen != y->namelen)
			return x->namelen < y->namelen ? -1 : 1;
	}
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return 0;
}

/*
 * ds_pair_cmp
 *		jsonb's order of object keys: shorter first, then bytewise; of two
 *		equal keys the one set later (higher order) first, so that it is the
 *		one kept, as pushJsonbValue() keeps the last.
 */
static int
ds_pair_cmp(const void *a, const void *b)
{
	const JsonbPair *x = (const JsonbPair *) a;
	const JsonbPair *y = (const JsonbPair *) b;
	int			c;

	if (x->key.val.string.len != y->key.val.string.len)
		return x->key.val.string.len < y->key.val.string.len ? -1 : 1;
	c = memcmp(x->key.val.string.val, y->key.val.string.val, x->key.val.string.len);
	if (c != 0)
		return c;
	return x->order > y->order ? -1 : (x->order < y->order ? 1 : 0);
}

/*
 * ds_object
 *		Makes v the object of the first n of pairs, in jsonb's key order and
 *		with each key once, as JsonbValueToJsonb() expects them.
 */
static void
ds_object(JsonbValue *v, JsonbPair *pairs, int n)
{
	int			i;
	int			kept = 0;

	for (i = 0; i < n; i++)
		pairs[i].order = i;
	if (n > 1)
		qsort(pairs, n, sizeof(JsonbPair), ds_pair_cmp);
	for (i = 0; i < n; i++)
	{
		if (kept > 0 &&
			pairs[kept - 1].key.val.string.len == pairs[i].key.val.string.len &&
			memcmp(pairs[kept - 1].key.val.string.val, pairs[i].key.val.string.val,
				   pairs[i].key.val.string.len) == 0)
			continue;
		pairs[kept++] = pairs[i];
	}
	v->type = jbvObject;
	v->val.object.nPairs = kept;
	v->val.object.pairs = pairs;
}

/*
 * ds_key
 *		Sets the key of a pair (len < 0: a terminated string).
 */
static void
ds_key(JsonbPair *pair, const char *key, int len)
{
	pair->key.type = jbvString;
	pair->key.val.string.val = (char *) key;
	pair->key.val.string.len = len < 0 ? (int) strlen(key) : len;
}

/*
 * ds_stripped
 *		A document (an object or array) as an in-memory JsonbValue without
 *		its keys whose value is null, at every depth (array elements stay),
 *		as json_strip_nulls() leaves it.
 */
static JsonbValue *
ds_stripped(JsonbContainer *doc)
{
	JsonbParseState *st = NULL;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	JsonbValue *res = NULL;

	it = JsonbIteratorInit(doc);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			JsonbValue	key = v;

			tok = JsonbIteratorNext(&it, &v, false);
			if (tok == WJB_VALUE && v.type == jbvNull)
				continue;
			(void) pushJsonbValue(&st, WJB_KEY, &key);
		}
		if (tok == WJB_BEGIN_OBJECT || tok == WJB_BEGIN_ARRAY ||
			tok == WJB_END_OBJECT || tok == WJB_END_ARRAY)
			res = pushJsonbValue(&st, tok, NULL);
		else
			(void) pushJsonbValue(&st, tok, &v);
	}
	if (res == NULL || (res->type != jbvObject && res->type != jbvArray))
		elog(ERROR, "the catalog query of describe returned a document that is no object or array");
	return res;
}

/*
 * ds_row_value
 *		The value of one column of a row, as a jsonb scalar, a jbvBinary
 *		(documents and jsonb fields) or jbvNull.  Strings point into the row.
 */
static void
ds_row_value(DsDescRows *set, DsDescRow *row, DsDescCol col, JsonbValue *v)
{
	if (row->object != NULL)
	{
		JsonbValue *found = ds_json_get(row->object, ds_col_names[col]);

		if (found != NULL)
			*v = *found;
		else
			v->type = jbvNull;
	}
	else
	{
		bool		isnull;
		Datum		d = heap_getattr(row->tuple, col + 1, set->desc, &isnull);

		if (isnull)
			v->type = jbvNull;
		else if (col >= DS_COL_B1 && col <= DS_COL_B2)
		{
			v->type = jbvBool;
			v->val.boolean = DatumGetBool(d);
		}
		else if (col == DS_COL_DOC || col >= DS_COL_J1)
		{
			Jsonb	   *j = DatumGetJsonbP(d);

			v->type = jbvBinary;
			v->val.binary.data = &j->root;
			v->val.binary.len = VARSIZE(j) - VARHDRSZ;
		}
		else
		{
			text	   *t = DatumGetTextPP(d);

			v->type = jbvString;
			v->val.string.val = VARDATA_ANY(t);
			v->val.string.len = VARSIZE_ANY_EXHDR(t);
		}
	}
}

/*
 * ds_row_object
 *		The object of one row, with room for nextra more pairs after its own
 *		(the parts of a table or type): its fields when its part has them,
 *		else its document; null values are left out.  *n is set to the
 *		number of its own pairs.
 */
static JsonbPair *
ds_row_object(DsDescRows *set, DsDescRow *row, int nextra, int *n)
{
	const DsField *f = ds_part_fields[row->sec][row->part];
	JsonbValue	v;
	JsonbPair  *pairs;
	JsonbPair	found[DS_COL_COUNT];
	int			k = 0;
	int			i;

	if (f == NULL)
	{
		JsonbValue *doc;

		ds_row_value(set, row, DS_COL_DOC, &v);
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			elog(ERROR, "the catalog query of describe returned an object without its document");
		doc = ds_stripped(v.val.binary.data);
		if (nextra == 0)
		{
			*n = doc->val.object.nPairs;
			return doc->val.object.pairs;
		}
		pairs = palloc(sizeof(JsonbPair) * (doc->val.object.nPairs + nextra));
		memcpy(pairs, doc->val.object.pairs, sizeof(JsonbPair) * doc->val.object.nPairs);
		*n = doc->val.object.nPairs;
		return pairs;
	}
	/* the values first, so that the pairs take no more room than they need */
	for (; f->key != NULL; f++)
	{
		ds_row_value(set, row, f->col, &v);
		if (v.type == jbvNull)
			continue;
		ds_key(&found[k], f->key, -1);
		found[k++].value = v;
	}
	pairs = palloc(sizeof(JsonbPair) * Max(k + nextra, 1));
	for (i = 0; i < k; i++)
	{
		pairs[i].key = found[i].key;
		if (found[i].value.type == jbvBinary)
			pairs[i].value = *ds_stripped(found[i].value.val.binary.data);
		else
			pairs[i].value = found[i].value;
	}
	*n = k;
	return pairs;
}

/*
 * ds_describe_build
 *		Nests the rows of the describe query into one description, built in
 *		the current memory context and returned in resultcxt: a section per
 *		kind of object, an object per row of it, and the parts of a table or
 *		type (columns, attributes, constraints, indexes) under it.  Sorts the
 *		rows.  A section, or a part, without rows is left out, as are keys
 *		whose value is null.
 *
 *		The tree of JsonbValues is made here with arrays of their exact
 *		size, and handed to JsonbValueToJsonb() whole: pushJsonbValue() grows
 *		every object and array by doubling, which for tens of thousands of
 *		small objects took three times the memory (16 MB for a thousand
 *		tables), and the page faults of fresh memory were a sixth of a cold
 *		describe.  Documents of the query are unpacked by pushJsonbValue().
 */
static Jsonb *
ds_describe_build(DsDescRows *set, bool by_name, MemoryContext resultcxt)
{
	DsDescRow  *rows = set->rows;
	int			n = set->n;
	MemoryContext workcxt;
	JsonbValue	top;
	JsonbPair  *sections;
	int			nsections = 0;
	Jsonb	   *result;
	int			i = 0;

	qsort_arg(rows, n, sizeof(DsDescRow), ds_row_cmp, &by_name);
	sections = palloc(sizeof(JsonbPair) * DS_SEC_COUNT);
	while (i < n && rows[i].sec == DS_SEC_SCHEMA)
		i++;
	while (i < n)
	{
		int			sec = rows[i].sec;
		int			nobjects = 0;
		int			j;
		JsonbPair  *objects;

		if (sec < 0 || sec >= DS_SEC_COUNT || ds_section_keys[sec] == NULL)
			elog(ERROR, "the catalog query of describe returned an unknown section %d", sec);
		for (j = i; j < n && rows[j].sec == sec; j++)
			if (rows[j].part == DS_PART_SELF)
				nobjects++;
		objects = palloc(sizeof(JsonbPair) * Max(nobjects, 1));
		nobjects = 0;
		while (i < n && rows[i].sec == sec)
		{
			DsDescRow  *self = &rows[i++];
			JsonbPair  *pairs;
			int			npairs;
			int			nparts = 0;
			int			last = -1;

			if (self->part != DS_PART_SELF)
				elog(ERROR, "the catalog query of describe returned a part of an object it did not describe");
			for (j = i; j < n && rows[j].sec == sec && rows[j].grp == self->grp; j++)
				if (rows[j].part != last)
				{
					nparts++;
					last = rows[j].part;
				}
			pairs = ds_row_object(set, self, nparts, &npairs);
			while (i < n && rows[i].sec == sec && rows[i].grp == self->grp)
			{
				int			part = rows[i].part;
				bool		array = part == DS_PART_COLUMNS;
				JsonbPair  *partpair = &pairs[npairs++];
				int			nmembers;

				if (part < 0 || part >= DS_PART_COUNT || ds_part_keys[sec][part] == NULL)
					elog(ERROR, "the catalog query of describe returned an unknown part %d", part);
				for (j = i; j < n && rows[j].sec == sec && rows[j].grp == self->grp &&
					 rows[j].part == part; j++)
					;
				nmembers = j - i;
				ds_key(partpair, ds_part_keys[sec][part], -1);
				if (array)
				{
					JsonbValue *elems = palloc(sizeof(JsonbValue) * nmembers);

					for (j = 0; j < nmembers; j++, i++)
					{
						int			nm;
						JsonbPair  *m = ds_row_object(set, &rows[i], 0, &nm);

						ds_object(&elems[j], m, nm);
					}
					partpair->value.type = jbvArray;
					partpair->value.val.array.nElems = nmembers;
					partpair->value.val.array.elems = elems;
					partpair->value.val.array.rawScalar = false;
				}
				else
				{
					JsonbPair  *members = palloc(sizeof(JsonbPair) * nmembers);

					for (j = 0; j < nmembers; j++, i++)
					{
						int			nm;
						JsonbPair  *m = ds_row_object(set, &rows[i], 0, &nm);

						ds_key(&members[j], rows[i].name, rows[i].namelen);
						ds_object(&members[j].value, m, nm);
					}
					ds_object(&partpair->value, members, nmembers);
				}
			}
			ds_key(&objects[nobjects], self->name, self->namelen);
			ds_object(&objects[nobjects].value, pairs, npairs);
			nobjects++;
		}
		ds_key(&sections[nsections], ds_section_keys[sec], -1);
		ds_object(&sections[nsections].value, objects, nobjects);
		nsections++;
	}
	ds_object(&top, sections, nsections);
	workcxt = MemoryContextSwitchTo(resultcxt);
	result = JsonbValueToJsonb(&top);
	MemoryContextSwitchTo(workcxt);
	return result;
}

/*
 * ds_describe_local_rows
 *		Runs the describe query on this database through SPI, read-only and
 *		with JIT off (the plan is big and cheap to run), with one kept
 *		generic plan: the query names only pg_catalog objects and sets its
 *		own search_path, so one plan serves every schema.  The rows point
 *		into SPI's tuple table, which lives until SPI_finish().
 */
static void
ds_describe_local_rows(const char *schema, DsDescRows *set)
{
	Oid			type = TEXTOID;
	Datum		value = CStringGetTextDatum(schema);
	SPITupleTable *tt;
	int			level;
	uint64		i;

	/* the settings the query fixes must not outlive it */
	level = NewGUCNestLevel();
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (ds_describe_plan == NULL)
	{
		/* generic: a custom plan would be planned again on every call */
		SPIPlanPtr	p = SPI_prepare_cursor(ds_describe_sql, 1, &type,
										   CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL)
			elog(ERROR, "could not prepare the describe query: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		ds_describe_plan = p;
	}
	if (SPI_execute_plan(ds_describe_plan, &value, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "the catalog query of describe failed");
	AtEOXact_GUC(false, level);

	tt = SPI_tuptable;
	if (tt->tupdesc->natts != DS_COL_COUNT)
		elog(ERROR, "the catalog query of describe returned %d columns", tt->tupdesc->natts);
	set->desc = tt->tupdesc;
	set->n = (int) SPI_processed;
	set->rows = palloc0(sizeof(DsDescRow) * Max(set->n, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		DsDescRow  *row = &set->rows[i];
		bool		isnull;
		Datum		d;

		row->tuple = tt->vals[i];
		row->sec = DatumGetInt32(SPI_getbinval(row->tuple, tt->tupdesc, DS_COL_SEC + 1, &isnull));
		row->grp = DatumGetObjectId(SPI_getbinval(row->tuple, tt->tupdesc, DS_COL_GRP + 1, &isnull));
		row->part = DatumGetInt32(SPI_getbinval(row->tuple, tt->tupdesc, DS_COL_PART + 1, &isnull));
		row->pos = DatumGetInt32(SPI_getbinval(row->tuple, tt->tupdesc, DS_COL_POS + 1, &isnull));
		d = SPI_getbinval(row->tuple, tt->tupdesc, DS_COL_NAME + 1, &isnull);
		if (!isnull)
		{
			text	   *name = DatumGetTextPP(d);

			row->name = VARDATA_ANY(name);
			row->namelen = VARSIZE_ANY_EXHDR(name);
		}
	}
}

/*
 * ds_json_int
 *		The integer under key of one row object of a remote result.
 */
static int64
ds_json_int(JsonbContainer *row, const char *key)
{
	JsonbValue *v = ds_json_get(row, key);

	if (v == NULL || v->type != jbvNumeric)
		elog(ERROR, "the catalog query of describe returned no number \"%s\"", key);
	return DatumGetInt64(DirectFunctionCall1(numeric_int8,
											 NumericGetDatum(v->val.numeric)));
}

/*
 * ds_describe_remote_rows
 *		Runs the describe query on a remote datasource through its cached
 *		connection; the rows point into the jsonb array of the result.
 */
static void
ds_describe_remote_rows(DsSource *src, const char *schema, DsDescRows *set)
{
	DsResult	r;
	char	   *params[1];
	int			level;
	Jsonb	   *arr;
	int			i;

	MemSet(&r, 0, sizeof(r));
	r.mode = DS_RESULT_ARRAY;
	r.max_rows = -1;
	params[0] = (char *) schema;

	/* the settings the query fixes must not outlive it */
	level = NewGUCNestLevel();
	PG_TRY();
	{
		(void) ds_remote_run(src, ds_describe_sql, schema, 1, params, true, &r);
	}
	PG_FINALLY();
	{
		AtEOXact_GUC(false, level);
	}
	PG_END_TRY();

	if (!r.started)
		elog(ERROR, "the catalog query of describe returned no result");
	appendStringInfoChar(&r.array, ']');
	arr = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(r.array.data)));
	if (r.rowcxt)
		MemoryContextDelete(r.rowcxt);
	pfree(r.array.data);

	set->desc = NULL;
	set->n = JsonContainerSize(&arr->root);
	set->rows = palloc0(sizeof(DsDescRow) * Max(set->n, 1));
	for (i = 0; i < set->n; i++)
	{
		DsDescRow  *row = &set->rows[i];
		JsonbValue *v = getIthJsonbValueFromContainer(&arr->root, i);

		if (v == NULL || v->type != jbvBinary)
			elog(ERROR, "the catalog query of describe returned no object");
		row->object = v->val.binary.data;
		row->sec = (int) ds_json_int(row->object, ds_col_names[DS_COL_SEC]);
		row->grp = (Oid) ds_json_int(row->object, ds_col_names[DS_COL_GRP]);
		row->part = (int) ds_json_int(row->object, ds_col_names[DS_COL_PART]);
		row->pos = (int) ds_json_int(row->object, ds_col_names[DS_COL_POS]);
		v = ds_json_get(row->object, ds_col_names[DS_COL_NAME]);
		if (v != NULL && v->type == jbvString)
		{
			row->name = v->val.string.val;
			row->namelen = v->val.string.len;
		}
	}
}

/*
 * ds_describe_db
 *		Describes a logical database on its datasource: sets *described (in
 *		column order) and *canonical (columns and composite type attributes
 *		by name, what a fingerprint hashes), those of the two that are not
 *		NULL, from one run of the catalog query, in the caller's memory
 *		context.  Raises 55000 for a disabled datasource and 3F000 when the
 *		schema does not exist.
 */
static void
ds_describe_db(DsDatabase *db, DsSource *src, Jsonb **described, Jsonb **canonical)
{
	MemoryContext callercxt = CurrentMemoryContext;
	MemoryContext workcxt;
	DsDescRows	set;
	bool		local = src->server == NULL;

	if (!src->enabled)
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("datasource \"%s\" is disabled", src->name));

	/*
	 * Kept from call to call (reset after each), and so its first block.  A
	 * generation context: the description's many small arrays are made once
	 * and never freed one by one, so they need neither AllocSet's power-of-2
	 * rounding nor its free lists.
	 */
	if (ds_describe_cxt == NULL)
		ds_describe_cxt = GenerationContextCreate(TopMemoryContext, "datasource describe",
												  ALLOCSET_DEFAULT_SIZES);
	workcxt = ds_describe_cxt;
	MemoryContextReset(workcxt);	/* after an error in the last call */
	if (local)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		ds_describe_local_rows(db->schema_name, &set);
	}
	else
	{
		MemoryContextSwitchTo(workcxt);
		ds_describe_remote_rows(src, db->schema_name, &set);
	}
	if (set.n == 0)
		ds_no_schema(db, src);

	MemoryContextSwitchTo(workcxt);
	if (described != NULL)
		*described = ds_describe_build(&set, false, callercxt);
	if (canonical != NULL)
		*canonical = ds_describe_build(&set, true, callercxt);
	MemoryContextSwitchTo(callercxt);
	if (local)
		SPI_finish();
	MemoryContextReset(workcxt);
}

/*
 * ds_describe
 *		The description of a logical database as a jsonb Datum in the
 *		caller's context.  Raises 42704 for an unknown logical database and
 *		3F000 when its schema does not exist on its datasource.
 */
Datum
ds_describe(const char *database)
{
	DsSource   *src;
	DsDatabase *db = ds_cache_database_copy(database, &src);
	Jsonb	   *described;

	ds_describe_db(db, src, &described, NULL);
	return JsonbPGetDatum(described);
}

/*
 * describe(database text) returns jsonb
 *		The canonical description of a logical database's schema.
 */
Datum
pgds_describe(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"%s\" must not be null", "database"));
	PG_RETURN_DATUM(ds_describe(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/*
 * The order of a stored description that a fingerprint hashes: the columns
 * of tables and the attributes of composite types by name, as
 * ds_describe_build() puts them with by_name.
 */
static const char *ds_canonical_sql =
"SELECT $1 || CASE WHEN $1 ? 'tables' THEN pg_catalog.jsonb_build_object('tables', "
"(SELECT pg_catalog.jsonb_object_agg(e.key, CASE WHEN e.value ? 'columns' THEN "
"pg_catalog.jsonb_set(e.value, '{columns}', (SELECT pg_catalog.jsonb_agg(c ORDER BY c->>'name' COLLATE \"C\") "
"FROM pg_catalog.jsonb_array_elements(e.value->'columns') c)) ELSE e.value END) "
"FROM pg_catalog.jsonb_each($1->'tables') e)) ELSE '{}' END "
"|| CASE WHEN $1 ? 'types' THEN pg_catalog.jsonb_build_object('types', "
"(SELECT pg_catalog.jsonb_object_agg(e.key, CASE WHEN e.value ? 'attributes' THEN "
"pg_catalog.jsonb_set(e.value, '{attributes}', (SELECT pg_catalog.jsonb_agg(c ORDER BY c->>'name' COLLATE \"C\") "
"FROM pg_catalog.jsonb_array_elements(e.value->'attributes') c)) ELSE e.value END) "
"FROM pg_catalog.jsonb_each($1->'types') e)) ELSE '{}' END";

/*
 * ds_hash_jsonb
 *		The sha256 (64 hex digits) of a jsonb's text.
 */
static text *
ds_hash_jsonb(Jsonb *j)
{
	StringInfoData out;
	char		hex[DS_SHA256_HEX_LEN + 1];

	initStringInfo(&out);
	(void) JsonbToCString(&out, &j->root, VARSIZE(j));
	ds_sha256_hex(out.data, out.len, NULL, hex);
	pfree(out.data);
	return cstring_to_text(hex);
}

/*
 * ds_fingerprint_of
 *		The fingerprint of a stored description: the sha256 of the text of
 *		its canonical order.
 */
static text *
ds_fingerprint_of(Datum description)
{
	Oid			type = JSONBOID;
	Jsonb	   *canonical;
	bool		isnull;
	MemoryContext callercxt = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (ds_canonical_plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare_cursor(ds_canonical_sql, 1, &type,
										   CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL)
			elog(ERROR, "could not prepare the canonical order query");
		SPI_keepplan(p);
		ds_canonical_plan = p;
	}
	if (SPI_execute_plan(ds_canonical_plan, &description, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not put a description in canonical order");
	canonical = DatumGetJsonbP(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1, &isnull));
	MemoryContextSwitchTo(callercxt);
	canonical = DatumGetJsonbPCopy(JsonbPGetDatum(canonical));
	SPI_finish();
	return ds_hash_jsonb(canonical);
}

/*
 * fingerprint(database text) returns text
 *		The sha256 of the description: equal fingerprints, equal schemas.
 */
Datum
pgds_fingerprint(PG_FUNCTION_ARGS)
{
	DsDatabase *db;
	DsSource   *src;
	Jsonb	   *canonical;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"%s\" must not be null", "database"));
	db = ds_cache_database_copy(text_to_cstring(PG_GETARG_TEXT_PP(0)), &src);
	ds_describe_db(db, src, NULL, &canonical);
	PG_RETURN_TEXT_P(ds_hash_jsonb(canonical));
}

/*
 * fingerprint(description jsonb) returns text
 *		The fingerprint of a stored description.
 */
Datum
pgds_fingerprint_of(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"%s\" must not be null", "description"));
	PG_RETURN_TEXT_P(ds_fingerprint_of(PG_GETARG_DATUM(0)));
}

/*
 * ds_snapshot
 *		Describes a logical database for the migration journal: returns the
 *		fingerprint and sets *description, or returns NULL when
 *		datasource.migration_snapshot is off.  migrate.c calls it after a
 *		script has run, in its transaction (on a remote, in the remote
 *		transaction, after the script's savepoint is released), and keeps
 *		the description (ds_record_snapshot).  One run of the catalog query
 *		gives both orders.
 */
char *
ds_snapshot(DsDatabase *db, DsSource *src, Datum *description)
{
	Jsonb	   *described;
	Jsonb	   *canonical;
	text	   *hash;

	if (!ds_migration_snapshot)
		return NULL;

	/*
	 * A snapshot that sees what the script just did (an error pops it with
	 * the (sub)transaction)
	 */
	CommandCounterIncrement();
	PushCopiedSnapshot(GetActiveSnapshot());
	UpdateActiveSnapshotCommandId();
	ds_describe_db(db, src, &described, &canonical);
	PopActiveSnapshot();
	*description = JsonbPGetDatum(described);
	hash = ds_hash_jsonb(canonical);
	pfree(canonical);
	return text_to_cstring(hash);
}

/* ---------------------------------------------------------------- json_schema */

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

/*
 * ds_json_get
 *		The value of key in a jsonb object container, or NULL.
 */
static JsonbValue *
ds_json_get(JsonbContainer *obj, const char *key)
{
	JsonbValue	k;

	if (obj == NULL || !JsonContainerIsObject(obj))
		return NULL;
	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(obj, JB_FOBJECT, &k);
}

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
 * ds_check_to_schema
 *		Parses a CHECK constraint's definition ("CHECK (expr)" as
 *		pg_get_constraintdef prints it) and adds what it says to the
 *		columns; returns false (and changes nothing) when it cannot be
 *		expressed.
 */
static bool
ds_check_to_schema(const char *definition, List *columns)
{
	List	   *parsed;
	SelectStmt *sel;
	ResTarget  *rt;
	ListCell   *lc;
	MemoryContext cxt;
	MemoryContext old = CurrentMemoryContext;
	volatile bool ok = false;
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
	PG_TRY();
	{
		MemoryContextSwitchTo(cxt);
		parsed = raw_parser(psprintf("SELECT %s", definition + 6), RAW_PARSE_DEFAULT);
		MemoryContextSwitchTo(old);
		if (list_length(parsed) == 1)
		{
			sel = (SelectStmt *) ((RawStmt *) linitial(parsed))->stmt;
			if (IsA(sel, SelectStmt) && list_length(sel->targetList) == 1)
			{
				rt = linitial(sel->targetList);
				ok = ds_check_node(rt->val, columns);
			}
		}
	}
	PG_CATCH();
	{
		/* a definition the parser refuses is reported as not expressed */
		MemoryContextSwitchTo(old);
		FlushErrorState();
		ok = false;
	}
	PG_END_TRY();
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
		char	   *volatile value = NULL;

		PG_TRY();
		{
			List	   *parsed = raw_parser(psprintf("SELECT %s", c->default_expr),
											RAW_PARSE_DEFAULT);
			SelectStmt *sel = (SelectStmt *) ((RawStmt *) linitial(parsed))->stmt;

			if (list_length(parsed) == 1 && IsA(sel, SelectStmt) &&
				list_length(sel->targetList) == 1)
				value = ds_const_json(((ResTarget *) linitial(sel->targetList))->val);
		}
		PG_CATCH();
		{
			FlushErrorState();
			value = NULL;
		}
		PG_END_TRY();
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
	JsonbContainer *cols;
	JsonbContainer *constraints;
	List	   *columns = NIL;
	List	   *unexpressed = NIL;
	StringInfoData buf;
	ListCell   *lc;
	int			i;
	int			n;
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

	cols = ds_json_container(ds_json_get(rel, "columns"));
	n = cols ? JsonContainerSize(cols) : 0;
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

	/* CHECK constraints, in name order (the description's) */
	constraints = ds_json_container(ds_json_get(rel, "constraints"));
	if (constraints != NULL)
	{
		JsonbIterator *it = JsonbIteratorInit(constraints);
		JsonbValue	v;
		JsonbIteratorToken tok;

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
	}

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
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
