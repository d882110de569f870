-- 13_journal: the journal is history; errors keep their reason (issue 18).
--
-- drop_database keeps a logical database's journal rows; mapping the name
-- again continues the history on the same schema (migrate says
-- already_applied instead of re-running history onto existing objects) and
-- is refused (55000) on another or a vanished schema; rename_database
-- carries the rows, and is refused onto a name with history; apply_config's
-- "renamed_from" plans a rename (the journal follows), not drop + create.
-- A failed statement's SQLSTATE, DETAIL and HINT are in the journal row and
-- in migrate's and migrate_all's result.  A baselined version is
-- already_applied whatever the script, even one with a statement migrate
-- refuses.  apply_config checks server options in a dry run as in a real
-- run, echoes no secret, and names the servers that need a user mapping
-- before anything is created.  Everything here is rolled back.
BEGIN;
SELECT plan(60);
SET LOCAL client_min_messages = warning;

-- the error a statement raises (state, message, detail, hint), or no row
CREATE FUNCTION pg_temp.err(q text, OUT state text, OUT msg text, OUT detail text, OUT hint text)
RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
        detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN NEXT;
END $$;

CREATE FUNCTION pg_temp.jn(db text) RETURNS int LANGUAGE sql STABLE AS
    $$ SELECT count(*)::int FROM datasource.migrations WHERE database = db $$;

-- ------------------------------------------------------------ defect 2: drop keeps the history
SELECT lives_ok($$SELECT datasource.create_database('tap13_a')$$, 'tap13_a created');
SELECT is((SELECT status FROM datasource.migrate('tap13_a', '0001_init',
              'CREATE TABLE items (id int PRIMARY KEY); CREATE TABLE tags (id int)')),
    'applied', '0001 applied to tap13_a');
SELECT is((SELECT status FROM datasource.migrate('tap13_a', '0002_more', 'ALTER TABLE items ADD COLUMN n int')),
    'applied', '0002 applied to tap13_a');
SELECT lives_ok($$SELECT datasource.drop_database('tap13_a')$$, 'drop_database (schema kept)');
SELECT is(pg_temp.jn('tap13_a'), 2, 'the dropped logical database''s journal rows stay');
SELECT is((SELECT array_agg(version || ':' || status || ':' || schema_name ORDER BY id)
             FROM datasource.migrations WHERE database = 'tap13_a'),
    ARRAY['0001_init:applied:tap13_a', '0002_more:applied:tap13_a'],
    'the history of the dropped logical database is queryable as it was');

-- mapped again on the same, existing schema: the history continues
SELECT lives_ok($$SELECT datasource.create_database('tap13_a', create_schema => false)$$,
    'the name mapped again to the same schema');
SELECT is((SELECT status FROM datasource.migrate('tap13_a', '0001_init',
              'CREATE TABLE items (id int PRIMARY KEY); CREATE TABLE tags (id int)')),
    'already_applied', 're-running 0001 after re-creation is already_applied, not "already exists"');
SELECT is((SELECT status FROM datasource.migrate('tap13_a', '0003_last', 'CREATE TABLE last (id int)')),
    'applied', 'a new version applies after re-creation');
SELECT is(pg_temp.jn('tap13_a'), 3, 'old rows and the new one, nothing re-applied');
SELECT is((SELECT count(*)::int FROM datasource.migrations WHERE database = 'tap13_a' AND status = 'failed'),
    0, 'no failed attempt was journaled');

-- on another schema, or on a schema that is gone: refused, rows unchanged
SELECT lives_ok($$SELECT datasource.drop_database('tap13_a')$$, 'dropped again');
SELECT is((SELECT state FROM pg_temp.err($$SELECT datasource.create_database('tap13_a', schema_name => 'tap13_other')$$)),
    '55000', 'mapping the name to another schema is refused (55000)');
SELECT is((SELECT count(*)::int FROM pg_namespace WHERE nspname = 'tap13_other'), 0,
    'the refused create_database created no schema');
SELECT is((SELECT count(*)::int FROM datasource.databases WHERE name = 'tap13_a'), 0,
    'the refused create_database registered nothing');
DROP SCHEMA tap13_a CASCADE;
SELECT is((SELECT state FROM pg_temp.err($$SELECT datasource.create_database('tap13_a')$$)),
    '55000', 'mapping the name to a new, empty schema of the same name is refused (55000)');
SELECT is((SELECT count(*)::int FROM pg_namespace WHERE nspname = 'tap13_a'), 0,
    'no empty schema was created for the history to be taken as applied to');
SELECT is(pg_temp.jn('tap13_a'), 3, 'the refusals left the history alone');

-- drop_schema: the rows stay too
SELECT lives_ok($$SELECT datasource.create_database('tap13_z')$$, 'tap13_z created');
SELECT is((SELECT status FROM datasource.migrate('tap13_z', 'v1', 'CREATE TABLE t (id int)')),
    'applied', 'v1 applied to tap13_z');
SELECT lives_ok($$SELECT datasource.drop_database('tap13_z', drop_schema => true)$$, 'dropped with its schema');
SELECT is(pg_temp.jn('tap13_z'), 1, 'drop_database with drop_schema keeps the journal rows');

-- ------------------------------------------------------------ defect 2: rename carries the history
SELECT lives_ok($$SELECT datasource.create_database('tap13_b')$$, 'tap13_b created');
SELECT is((SELECT status FROM datasource.migrate('tap13_b', 'v1', 'CREATE TABLE t (id int)')),
    'applied', 'v1 applied to tap13_b');
SELECT lives_ok($$SELECT datasource.rename_database('tap13_b', 'tap13_b2')$$, 'renamed to tap13_b2');
SELECT is(pg_temp.jn('tap13_b2'), 1, 'the rename carries the journal rows to the new name');
SELECT is(pg_temp.jn('tap13_b'), 0, 'no row is left under the old name');
SELECT is((SELECT status FROM datasource.migrate('tap13_b2', 'v1', 'CREATE TABLE t (id int)')),
    'already_applied', 'under the new name, v1 is already applied');
SELECT is((SELECT state FROM pg_temp.err($$SELECT datasource.rename_database('tap13_b2', 'tap13_z')$$)),
    '55000', 'renaming onto a name with history (a dropped database''s) is refused');
SELECT is(pg_temp.jn('tap13_b2'), 1, 'the refused rename moved no row');

-- apply_config: "renamed_from" is a rename
SELECT lives_ok($$SELECT datasource.create_database('tap13_c')$$, 'tap13_c created');
SELECT is((SELECT status FROM datasource.migrate('tap13_c', 'v1', 'CREATE TABLE t (id int)')),
    'applied', 'v1 applied to tap13_c');
CREATE TEMP TABLE doc AS
SELECT jsonb_build_object('databases',
         (SELECT jsonb_agg(CASE WHEN d->>'name' = 'tap13_c'
                                THEN d || '{"name": "tap13_c2", "renamed_from": "tap13_c"}'
                                ELSE d END)
            FROM jsonb_array_elements(datasource.export_config() -> 'databases') d)) AS v;
SELECT is((SELECT array_agg(action || ' ' || object || ' ' || coalesce(detail, ''))
             FROM datasource.apply_config((SELECT v FROM doc), dry_run => true)),
    ARRAY['rename logical database tap13_c new name: tap13_c2'],
    'the dry run plans a rename, not a drop and a create');
SELECT is(pg_temp.jn('tap13_c'), 1, 'the dry run changed nothing');
SELECT is((SELECT array_agg(action) FROM datasource.apply_config((SELECT v FROM doc))),
    ARRAY['rename'], 'apply_config renames');
SELECT is(pg_temp.jn('tap13_c2'), 1, 'the journal followed the rename');
SELECT is((SELECT schema_name FROM datasource.databases WHERE name = 'tap13_c2'), 'tap13_c',
    'the schema is the one it was');
SELECT is((SELECT count(*)::int FROM datasource.apply_config((SELECT v FROM doc))), 0,
    'applying the document again does nothing');

-- ------------------------------------------------------------ defect 7: reasons are kept
CREATE TABLE tap13_d_cities (city text PRIMARY KEY);
SELECT lives_ok($$SELECT datasource.create_database('tap13_d')$$, 'tap13_d created');
CREATE TEMP TABLE r7 AS
SELECT * FROM datasource.migrate('tap13_d', 'v1', $s$
    CREATE TABLE people (id int, city text REFERENCES public.tap13_d_cities);
    INSERT INTO people VALUES (1, 'London');
$s$);
SELECT is((SELECT status FROM r7), 'failed', 'the FK violation fails the migration');
SELECT is((SELECT sqlstate FROM r7), '23503', 'the result has the SQLSTATE');
SELECT is((SELECT error_detail FROM r7), 'Key (city)=(London) is not present in table "tap13_d_cities".',
    'the result has the DETAIL');
SELECT is((SELECT error_detail FROM datasource.migrations WHERE database = 'tap13_d'),
    'Key (city)=(London) is not present in table "tap13_d_cities".', 'the journal row has the DETAIL');
SELECT is((SELECT sqlstate FROM datasource.migrations WHERE database = 'tap13_d'), '23503',
    'the journal row has the SQLSTATE');
CREATE TEMP TABLE r7h AS
SELECT * FROM datasource.migrate_all('v2', $s$
    DO $d$ BEGIN RAISE EXCEPTION 'no' USING DETAIL = 'the detail', HINT = 'the hint', ERRCODE = '22023'; END $d$;
$s$, ARRAY['tap13_d'], out_of_order => true);  -- v1 failed there (the order rule)
SELECT is((SELECT ARRAY[status, sqlstate, error_detail, error_hint] FROM r7h),
    ARRAY['failed', '22023', 'the detail', 'the hint'], 'migrate_all''s result has SQLSTATE, DETAIL and HINT');
SELECT is((SELECT ARRAY[sqlstate, error_detail, error_hint] FROM datasource.migrations
            WHERE database = 'tap13_d' AND version = 'v2'),
    ARRAY['22023', 'the detail', 'the hint'], 'so has migrate_all''s journal row');
SELECT is((SELECT ARRAY[sqlstate, error_detail, error_hint]
             FROM datasource.migrate_all('v3', 'CREATE TABLE ok (id int)', ARRAY['tap13_d'],
                                         out_of_order => true)),
    ARRAY[NULL, NULL, NULL]::text[], 'an applied migration has no error fields');

-- ------------------------------------------------------------ defect 10: baseline whatever the script
SELECT lives_ok($$SELECT datasource.create_database('tap13_e')$$, 'tap13_e created');
CREATE TABLE tap13_e.big (id int);
CREATE INDEX big_id ON tap13_e.big (id);  -- what CREATE INDEX CONCURRENTLY did from psql
SELECT is((SELECT status FROM datasource.baseline('tap13_e', 'v9_index')), 'baseline', 'v9_index baselined');
SELECT is((SELECT status FROM datasource.migrate('tap13_e', 'v9_index',
              'CREATE INDEX CONCURRENTLY big_id ON big (id)')),
    'already_applied', 'the baselined version is already_applied although migrate refuses its script');
SELECT is((SELECT status FROM datasource.migrate_all('v9_index',
              'CREATE INDEX CONCURRENTLY big_id ON big (id)', ARRAY['tap13_e'])),
    'already_applied', 'migrate_all too');
SELECT is((SELECT state FROM pg_temp.err($$SELECT datasource.migrate('tap13_d', 'v9_index',
              'CREATE INDEX CONCURRENTLY x ON ok (id)')$$)),
    '25001', 'where the version is not applied, the script is still refused (25001)');
SELECT is((SELECT count(*)::int FROM datasource.migrations WHERE version = 'v9_index'), 1,
    'the refusal journaled nothing (only the baseline row)');

-- ------------------------------------------------------------ defect 9: apply_config's checks
SELECT is((SELECT state FROM pg_temp.err($$SELECT * FROM datasource.apply_config(
    '{"servers": [{"name": "tap13_srv", "options": {"hots": "x"}}]}', dry_run => true)$$)),
    'HV00D', 'a dry run refuses the option "hots" as the real run does');
SELECT is((SELECT state FROM pg_temp.err($$SELECT * FROM datasource.apply_config(
    '{"servers": [{"name": "tap13_srv", "options": {"host": "h", "password": "tap13_TOPSECRET"}}]}',
    dry_run => true)$$)),
    'HV00D', 'a dry run refuses a password on a server as the real run does');
SELECT is((SELECT count(*)::int FROM pg_temp.err($$SELECT * FROM datasource.apply_config(
    '{"servers": [{"name": "tap13_srv", "options": {"host": "h", "password": "tap13_TOPSECRET"}}]}',
    dry_run => true)$$) e
    WHERE concat(e.msg, e.detail, e.hint) LIKE '%TOPSECRET%'), 0, 'the refusal does not echo the password');
-- a fresh database's document: remote logical databases on servers not created yet
SELECT is((SELECT state FROM pg_temp.err($$SELECT * FROM datasource.apply_config(
    '{"servers": [{"name": "tap13_s1", "options": {"host": "127.0.0.1", "port": "1"}},
                  {"name": "tap13_s2", "options": {"host": "127.0.0.1", "port": "1"}}],
      "sources": [{"name": "local"}, {"name": "tap13_r1", "server": "tap13_s1"},
                  {"name": "tap13_r2", "server": "tap13_s2"}],
      "databases": [{"name": "tap13_rd1", "source": "tap13_r1"},
                    {"name": "tap13_rd2", "source": "tap13_r2"}]}', dry_run => true)$$)),
    '42704', 'the dry run of a fresh database''s document stops at the missing user mappings');
SELECT ok((SELECT msg LIKE '%tap13_s1%' AND msg LIKE '%tap13_s2%' AND hint LIKE '%CREATE USER MAPPING%'
             FROM pg_temp.err($$SELECT * FROM datasource.apply_config(
    '{"servers": [{"name": "tap13_s1", "options": {"host": "127.0.0.1", "port": "1"}},
                  {"name": "tap13_s2", "options": {"host": "127.0.0.1", "port": "1"}}],
      "sources": [{"name": "tap13_r1", "server": "tap13_s1"}, {"name": "tap13_r2", "server": "tap13_s2"}],
      "databases": [{"name": "tap13_rd1", "source": "tap13_r1"},
                    {"name": "tap13_rd2", "source": "tap13_r2"}]}')$$)),
    'the error names each server and the next step');
SELECT is((SELECT count(*)::int FROM pg_foreign_server WHERE srvname LIKE 'tap13_s%'), 0,
    'nothing was created by the refused apply');
SELECT is((SELECT array_agg(action || ' ' || object ORDER BY object) FROM datasource.apply_config(
    '{"servers": [{"name": "tap13_s1", "options": {"host": "127.0.0.1", "port": "1"}}],
      "sources": [{"name": "tap13_r1", "server": "tap13_s1"}]}')),
    ARRAY['create datasource tap13_r1', 'create server tap13_s1'],
    'the documented first step (servers and sources) needs no user mapping');

SELECT * FROM finish();
ROLLBACK;
