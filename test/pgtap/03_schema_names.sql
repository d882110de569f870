-- 03_schema_names: any schema PostgreSQL accepts can be mapped.  Logical
-- database names keep their rules (03_bad_input); a schema name only has to
-- be a valid PostgreSQL name (not empty, at most 63 bytes, not reserved),
-- since real databases have schemas like "My.Schema", "Sales-EU" and
-- "Ünïcode".  Wherever such a name is written into SQL it is quoted: the
-- schema that is created, the search_path routed statements run under, the
-- qualifiers routing rewrites, the migrations and describe.
--
-- Everything is rolled back.
BEGIN;
SELECT plan(39);

-- ------------------------------------------------------------ fixture
CREATE SCHEMA "My.Schema";
CREATE SCHEMA "Sales-EU";
CREATE SCHEMA "Ünïcode";
CREATE TABLE "My.Schema"."T" (id int PRIMARY KEY, v text);
INSERT INTO "My.Schema"."T" VALUES (1, 'one'), (2, 'two');
CREATE FUNCTION "My.Schema".twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
CREATE TABLE "Sales-EU".orders (id int, total numeric);
INSERT INTO "Sales-EU".orders VALUES (1, 10), (2, 32);
CREATE TABLE "Ünïcode".t (x int);
INSERT INTO "Ünïcode".t VALUES (7);

-- ------------------------------------------------------------ mapping
SELECT lives_ok(
    $$SELECT datasource.create_database('tap03s_dotted', schema_name => 'My.Schema', create_schema => false)$$,
    'create_database maps an existing schema whose name has a dot and upper case');
SELECT lives_ok(
    $$SELECT datasource.create_database('tap03s_sales', schema_name => 'Sales-EU', create_schema => false)$$,
    'create_database maps an existing schema whose name has a hyphen');
SELECT lives_ok(
    $$SELECT datasource.create_database('tap03s_uni', schema_name => 'Ünïcode', create_schema => false)$$,
    'create_database maps an existing schema whose name is not ASCII');
SELECT results_eq(
    $$SELECT name, schema_name FROM datasource.databases WHERE name LIKE 'tap03s%' ORDER BY name$$,
    $$VALUES ('tap03s_dotted'::text, 'My.Schema'::text), ('tap03s_sales', 'Sales-EU'),
             ('tap03s_uni', 'Ünïcode')$$,
    'the registry keeps each schema name exactly as given');

-- create_schema creates exactly the schema named, quoted
SELECT lives_ok(
    $$SELECT datasource.create_database('tap03s_new', schema_name => 'x"; DROP SCHEMA public; --')$$,
    'create_database with a hostile schema name creates it as data');
SELECT has_schema('x"; DROP SCHEMA public; --', 'the schema of that exact name exists');
SELECT has_schema('public', 'and public is still there');
SELECT lives_ok(
    $$SELECT datasource.drop_database('tap03s_new', drop_schema => true)$$,
    'drop_database drops it again (quoted)');
SELECT hasnt_schema('x"; DROP SCHEMA public; --', 'the hostile schema is gone');
SELECT has_schema('public', 'public survived the drop');

-- remapping and the config document take such names too
SELECT lives_ok(
    $$SELECT datasource.create_database('tap03s_moved', create_schema => true)$$,
    'fixture: a logical database to move');
CREATE SCHEMA "Moved Here";
SELECT is((datasource.alter_database('tap03s_moved', schema_name => 'Moved Here')).schema_name,
    'Moved Here', 'alter_database remaps onto a schema with a space');
SELECT results_eq(
    $$SELECT action, object FROM datasource.apply_config(
        '{"databases": [{"name": "tap03s_cfg", "schema_name": "Cfg.Schema"}]}', dry_run => true)
      WHERE action = 'create'$$,
    $$VALUES ('create'::text, 'logical database tap03s_cfg'::text)$$,
    'apply_config plans a logical database on such a schema');

-- what is still refused
SELECT throws_ok($$SELECT datasource.create_database('tap03s_bad', schema_name => '')$$,
    '42602', 'schema name must not be empty', 'an empty schema name -> 42602');
SELECT throws_ok($$SELECT datasource.create_database('tap03s_bad', schema_name => repeat('Ü', 32))$$,
    '42622', NULL, 'a schema name of 64 bytes -> 42622, never truncated');
SELECT throws_ok($$SELECT datasource.create_database('tap03s_bad', schema_name => 'pg_toast')$$,
    '42939', NULL, 'a reserved schema name -> 42939');
SELECT throws_ok($$SELECT datasource.create_database('Tap03s_Bad', schema_name => 'My.Schema', create_schema => false)$$,
    '42602', NULL, 'logical database names keep their rules');

-- ------------------------------------------------------------ validate
SELECT results_eq(
    $$SELECT valid, datasource, databases, relations FROM datasource.validate('SELECT * FROM "My.Schema"."T"')$$,
    $$VALUES (true, 'local'::text, ARRAY['tap03s_dotted'], ARRAY['tap03s_dotted."T"'])$$,
    'validate: the physical qualifier "My.Schema" resolves to its logical database');
SELECT results_eq(
    $$SELECT valid, datasource, databases, relations FROM datasource.validate('SELECT * FROM tap03s_dotted."T"')$$,
    $$VALUES (true, 'local'::text, ARRAY['tap03s_dotted'], ARRAY['tap03s_dotted."T"'])$$,
    'validate: the logical qualifier resolves to the same logical database');
SELECT results_eq(
    $$SELECT valid, databases FROM datasource.validate('SELECT "My.Schema"."T".id FROM "My.Schema"."T"')$$,
    $$VALUES (true, ARRAY['tap03s_dotted'])$$,
    'validate: a 3-field column reference through the dotted schema');
SELECT results_eq(
    $$SELECT valid, databases, relations FROM datasource.validate('SELECT * FROM "T"', 'tap03s_dotted')$$,
    $$VALUES (true, ARRAY['tap03s_dotted'], ARRAY['tap03s_dotted."T"'])$$,
    'validate: an unqualified name in the logical database');
SELECT results_eq(
    $$SELECT valid, databases FROM datasource.validate('SELECT * FROM "Sales-EU".orders JOIN "Ünïcode".t ON true')$$,
    $$VALUES (true, ARRAY['tap03s_sales', 'tap03s_uni'])$$,
    'validate: hyphenated and non-ASCII schema qualifiers');
SELECT results_eq(
    $$SELECT valid, read_only FROM datasource.validate('SELECT twice(id) FROM "T"', 'tap03s_dotted', true)$$,
    $$VALUES (true, true)$$,
    'validate: a function of the dotted schema is judged read-only');
SET LOCAL search_path = "My.Schema", public;
SELECT results_eq(
    $$SELECT valid, databases FROM datasource.validate('SELECT * FROM "T"')$$,
    $$VALUES (true, ARRAY['tap03s_dotted'])$$,
    'validate: through a search_path naming the dotted schema');
RESET search_path;
SELECT results_eq(
    $$SELECT valid, error FROM datasource.validate('SELECT * FROM "My"."Schema"."T"')$$,
    $$VALUES (false, 'cross-database reference "My.Schema": the catalog part must be the current database'::text)$$,
    'validate: "My"."Schema" is two names, not the schema "My.Schema"');

-- ------------------------------------------------------------ routing
SELECT results_eq(
    $$SELECT * FROM datasource.query('tap03s_dotted', 'SELECT id, v FROM "T" ORDER BY id') AS t(id int, v text)$$,
    $$VALUES (1, 'one'::text), (2, 'two')$$,
    'query: an unqualified name runs in the dotted schema');
SELECT results_eq(
    $$SELECT * FROM datasource.query('tap03s_dotted', 'SELECT count(*) FROM tap03s_dotted."T"') AS t(n bigint)$$,
    $$VALUES (2::bigint)$$,
    'query: the logical qualifier is rewritten to the quoted schema');
SELECT results_eq(
    format($$SELECT * FROM datasource.query('tap03s_dotted', 'SELECT count(*) FROM %I.tap03s_dotted."T"') AS t(n bigint)$$,
           current_database()),
    $$VALUES (2::bigint)$$,
    'query: a 3-part name loses its catalog and keeps the quoted schema');
SELECT results_eq(
    $$SELECT * FROM datasource.query('tap03s_dotted', 'SELECT twice(id) FROM "T" ORDER BY 1') AS t(x int)$$,
    $$VALUES (2), (4)$$,
    'query: a function of the dotted schema is found by the search_path');
SELECT is(datasource.exec('tap03s_dotted', $$INSERT INTO "T" VALUES (3, 'three')$$), 'INSERT 0 1',
    'exec: writes into the dotted schema');
SELECT is((SELECT count(*)::int FROM "My.Schema"."T"), 3, 'the row is in "My.Schema"."T"');
SELECT results_eq(
    $$SELECT * FROM datasource.query('tap03s_sales', 'SELECT sum(total) FROM orders') AS t(s numeric)$$,
    $$VALUES (42::numeric)$$,
    'query: the hyphenated schema');
SELECT results_eq(
    $$SELECT * FROM datasource.query_json('tap03s_uni', 'SELECT x FROM t')$$,
    $$VALUES ('{"x": 7}'::jsonb)$$,
    'query_json: the non-ASCII schema');
SELECT is((datasource.execute('tap03s_dotted', 'SELECT v FROM "T" WHERE id = 1')).data,
    '[{"v": "one"}]'::jsonb, 'execute: the dotted schema');
SELECT results_eq(
    $$SELECT valid, datasource FROM datasource.validate_databases(ARRAY['tap03s_dotted', 'tap03s_sales', 'tap03s_uni'])$$,
    $$VALUES (true, 'local'::text)$$,
    'validate_databases: the three are on one datasource');

-- ------------------------------------------------------------ migrate, describe
SELECT is((datasource.migrate('tap03s_dotted', 'v1', 'CREATE TABLE m1 (id int); INSERT INTO "T" VALUES (4, ''four'')')).status,
    'applied', 'migrate: a script runs in the dotted schema');
SELECT has_table('My.Schema', 'm1', 'the migration created "My.Schema".m1');
SELECT is((SELECT count(*)::int FROM "My.Schema"."T"), 4, 'and wrote into "My.Schema"."T"');
SELECT ok(datasource.describe('tap03s_dotted')::text LIKE '%"m1"%',
    'describe: the dotted schema is described');

SELECT * FROM finish();
ROLLBACK;
