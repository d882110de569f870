/*-------------------------------------------------------------------------
 *
 * describe_query.c
 *		  The catalog query behind describe(), and running it on the
 *		  datasource of a logical database: its rows, locally or remotely.
 *
 * describe() sends one catalog query to the datasource that owns the
 * logical database, through the same route as query() (SPI locally, the
 * cached libpq connection remotely), so a remote server needs nothing
 * installed.  The query runs with search_path set to the logical
 * database's schema, and every name it prints comes from the server's own
 * deparsers (format_type, pg_get_constraintdef, pg_get_indexdef,
 * pg_get_viewdef, pg_get_triggerdef, regclass output, all in their
 * search-path-relative forms), so names inside the schema appear without
 * it and two schemas of the same structure describe identically.
 * TimeZone, DateStyle, IntervalStyle and extra_float_digits are fixed for
 * the query (set_config local to its transaction; locally inside a GUC
 * nest level that is undone), because partition bounds and defaults print
 * constants in those settings.
 *
 * A row of the query is one object or one part of an object (DsDescCol in
 * pg_datasource.h); describe.c sorts the rows and nests them into the
 * description.  Locally the rows are SPI's tuples, remotely the objects of
 * a jsonb array; ds_desc_row_value() reads a column of either kind alike.
 *
 * migrate_all describes the logical databases it migrated together at its
 * end: one run of the query for many schemas of one datasource, each row
 * tagged with its schema (DS_DESCRIBE_MANY_SQL).
 *
 * The functions run in the caller's memory context: the local rows point
 * into SPI's tuple table (the caller has connected SPI), the remote ones
 * into a jsonb allocated in the caller's context.
 *
 * IDENTIFICATION
 *		  src/describe_query.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include "pg_datasource.h"

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
#define DS_DESCRIBE_SETTINGS \
	"SELECT pg_catalog.set_config('TimeZone', 'UTC', true)\n" \
	"             || pg_catalog.set_config('DateStyle', 'ISO', true)\n" \
	"             || pg_catalog.set_config('IntervalStyle', 'postgres', true)\n" \
	"             || pg_catalog.set_config('extra_float_digits', '3', true)\n" \
	"             || pg_catalog.set_config('quote_all_identifiers', 'off', true)\n"

/* the search_path of a schema, for the deparsers */
#define DS_DESCRIBE_PATH(schema) \
	"pg_catalog.set_config('search_path', pg_catalog.quote_ident(" schema ") || ', pg_temp', true)"

#define DS_DESCRIBE_SQL \
	"SELECT dr.*\n" \
	"FROM (" DS_DESCRIBE_SETTINGS \
	"             || " DS_DESCRIBE_PATH("$1") " AS settings) z,\n" \
	"     LATERAL (SELECT s.oid FROM pg_catalog.pg_namespace s\n" \
	"              WHERE s.nspname = $1 AND z.settings IS NOT NULL) n,\n" \
	DS_DESCRIBE_BODY

/*
 * The same query for many schemas at once ($1, a text[]), with the
 * schema's position in $1 as a last column, i: one run instead of one per
 * schema (migrate_all's snapshots; starting the executor on this plan is
 * most of a one-schema run).  The deparsers print names relative to
 * search_path, so each schema's rows must be made while search_path is
 * that schema: n sets it in a qual of a subquery that is not pulled up
 * (OFFSET 0) and that depends on the schema (LATERAL), so it is run once
 * per element of $1, and dr, which depends on n, is run to its end for one
 * row of n before the next row of n is read (a nested loop: nothing else
 * can join a LATERAL reference).  A schema that does not exist has no
 * rows.
 */
#define DS_DESCRIBE_MANY_SQL \
	"SELECT dr.*, n.i\n" \
	"FROM (" DS_DESCRIBE_SETTINGS " AS settings) z,\n" \
	"     pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS q (name, i),\n" \
	"     LATERAL (SELECT s.oid, q.i FROM pg_catalog.pg_namespace s\n" \
	"              WHERE s.nspname = q.name AND z.settings IS NOT NULL\n" \
	"                AND " DS_DESCRIBE_PATH("q.name") " IS NOT NULL OFFSET 0) n,\n" \
	DS_DESCRIBE_BODY

/* the rows of schema n.oid: the part common to both queries */
#define DS_DESCRIBE_BODY \
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

static const char *ds_describe_sql = DS_DESCRIBE_SQL;
static const char *ds_describe_many_sql = DS_DESCRIBE_MANY_SQL;

/* the kept local plans of the describe query, of one and of many schemas */
static SPIPlanPtr ds_describe_plan = NULL;
static SPIPlanPtr ds_describe_many_plan = NULL;

/*
 * ds_json_get
 *		The value of key in a jsonb object container, or NULL (also when
 *		obj is NULL or no object).  The value points into obj.
 */
JsonbValue *
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
 * ds_desc_row_value
 *		The value of one column of a row of set, local or remote, as a jsonb
 *		scalar, a jbvBinary (documents and jsonb fields) or jbvNull.
 *		Strings point into the row, which must outlive *v.
 */
void
ds_desc_row_value(DsDescRows *set, DsDescRow *row, DsDescCol col, JsonbValue *v)
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
 * ds_describe_run_local
 *		Runs a describe query (of one schema, or of many: many) on this
 *		database through SPI with the one parameter value, read-only and
 *		with JIT off (the plan is big and cheap to run), with one kept
 *		generic plan in *plan: the query names only pg_catalog objects and
 *		sets its own search_path, so one plan serves every schema.  The
 *		rows point into SPI's tuple table, which lives until SPI_finish():
 *		the caller has connected SPI and finishes it once it is done with
 *		the rows.
 */
static void
ds_describe_run_local(SPIPlanPtr *plan, const char *sql, Oid type,
					  Datum value, bool many, DsDescRows *set)
{
	SPITupleTable *tt;
	int			level;
	uint64		i;

	/* the settings the query fixes must not outlive it */
	level = NewGUCNestLevel();
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (*plan == NULL)
	{
		/* generic: a custom plan would be planned again on every call */
		SPIPlanPtr	p = SPI_prepare_cursor(sql, 1, &type,
										   CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL)
			elog(ERROR, "could not prepare the describe query: %s",
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*plan = p;
	}
	if (SPI_execute_plan(*plan, &value, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "the catalog query of describe failed");
	AtEOXact_GUC(false, level);

	tt = SPI_tuptable;
	if (tt->tupdesc->natts != DS_COL_COUNT + (many ? 1 : 0))
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
		if (many)
			row->schema = (int) DatumGetInt64(SPI_getbinval(row->tuple, tt->tupdesc,
															DS_COL_COUNT + 1,
															&isnull)) - 1;
	}
}

/*
 * ds_describe_local_rows
 *		The rows of the describe query of one schema on this database (see
 *		ds_describe_run_local; the caller has connected SPI).
 */
void
ds_describe_local_rows(const char *schema, DsDescRows *set)
{
	ds_describe_run_local(&ds_describe_plan, ds_describe_sql, TEXTOID,
						  CStringGetTextDatum(schema), false, set);
}

/*
 * ds_describe_schemas_array
 *		The n schema names as a text[].
 */
static ArrayType *
ds_describe_schemas_array(const char *const *schemas, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(schemas[i]);
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * ds_describe_remote_run
 *		Runs a describe query with its one parameter (text) on a remote
 *		datasource through its cached connection; the rows point into the
 *		jsonb array of the result, allocated in the caller's memory context.
 *		schema is the search_path the route sets (the query sets its own).
 */
static void
ds_describe_remote_run(DsSource *src, const char *sql, const char *schema,
					   char *param, bool many, DsDescRows *set)
{
	DsSink		r;
	char	   *params[1];
	int			level;
	Jsonb	   *arr;
	int			i;

	ds_sink_init(&r, DS_SINK_ARRAY);
	params[0] = param;

	/* the settings the query fixes must not outlive it */
	level = NewGUCNestLevel();
	PG_TRY();
	{
		(void) ds_remote_run(src, sql, schema, 1, params, true, &r);
	}
	PG_FINALLY();
	{
		AtEOXact_GUC(false, level);
	}
	PG_END_TRY();

	if (!r.started)
		elog(ERROR, "the catalog query of describe returned no result");
	ds_sink_end(&r);
	arr = r.result;

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
		if (many)
			row->schema = (int) ds_json_int(row->object, "i") - 1;
	}
}

/*
 * ds_describe_remote_rows
 *		The rows of the describe query of one schema on a remote datasource
 *		(see ds_describe_remote_run).
 */
void
ds_describe_remote_rows(DsSource *src, const char *schema, DsDescRows *set)
{
	ds_describe_remote_run(src, ds_describe_sql, schema, (char *) schema,
						   false, set);
}

/*
 * ds_describe_many_rows
 *		The rows of the describe query of n schemas of one datasource in one
 *		run, locally or remotely; each row's schema is its schema's index in
 *		schemas.  A schema that does not exist has no rows (not even the
 *		row of section DS_SEC_SCHEMA).  Locally the caller has connected
 *		SPI, as for ds_describe_local_rows; remotely the rows live in the
 *		caller's memory context.
 */
void
ds_describe_many_rows(DsSource *src, const char *const *schemas, int n,
					  DsDescRows *set)
{
	ArrayType  *arr = ds_describe_schemas_array(schemas, n);

	if (ds_source_runs_here(src))
		ds_describe_run_local(&ds_describe_many_plan, ds_describe_many_sql,
							  TEXTARRAYOID, PointerGetDatum(arr), true, set);
	else
		ds_describe_remote_run(src, ds_describe_many_sql, schemas[0],
							   OidOutputFunctionCall(F_ARRAY_OUT,
													 PointerGetDatum(arr)),
							   true, set);
}
