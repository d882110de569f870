-- 02_privileges: who may read and who may change the registry.
--
-- Everyone may read the registry, validate, route, look at its own remote
-- connections and introspect (README's security model); every other
-- function needs an explicit GRANT EXECUTE, and the journals an explicit
-- GRANT SELECT.  The install script sets this at its end, so the exact sets
-- are asserted here: a function or table that became PUBLIC's by accident
-- fails this file.  A role granted EXECUTE writes
-- the registry although it has no INSERT/UPDATE/DELETE on the tables (the C
-- writes as the table owner); what it does to schemas and servers is checked
-- with its own privileges.  Roles created here vanish with the ROLLBACK.
BEGIN;
SELECT plan(99);

-- ------------------------------------------------------------ PUBLIC
SELECT function_privs_are('datasource', 'create_source', ARRAY['text', 'text', 'boolean', 'text'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute create_source');
SELECT function_privs_are('datasource', 'alter_source', ARRAY['text', 'text', 'boolean', 'boolean', 'text'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute alter_source');
SELECT function_privs_are('datasource', 'drop_source', ARRAY['text', 'boolean'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute drop_source');
SELECT function_privs_are('datasource', 'create_database', ARRAY['text', 'text', 'text', 'boolean', 'boolean', 'text'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute create_database');
SELECT function_privs_are('datasource', 'alter_database', ARRAY['text', 'text', 'text', 'boolean', 'text'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute alter_database');
SELECT function_privs_are('datasource', 'rename_database', ARRAY['text', 'text'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute rename_database');
SELECT function_privs_are('datasource', 'drop_database', ARRAY['text', 'boolean'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute drop_database');
SELECT function_privs_are('datasource', 'validate_databases', ARRAY['text[]'],
    'public', ARRAY['EXECUTE'], 'PUBLIC can execute validate_databases');
SELECT function_privs_are('datasource', 'export_config', ARRAY[]::text[],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute export_config');
SELECT function_privs_are('datasource', 'apply_config', ARRAY['jsonb', 'boolean'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute apply_config');
SELECT function_privs_are('datasource', 'pg_datasource_validator', ARRAY['text[]', 'oid'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute pg_datasource_validator');
SELECT function_privs_are('datasource', 'guard_server_drop', ARRAY[]::text[],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute guard_server_drop');
SELECT function_privs_are('datasource', 'resolve_transactions', ARRAY['text'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute resolve_transactions (it finishes other sessions'' prepared transactions)');
SELECT function_privs_are('datasource', 'migrate_waves',
    ARRAY['text', 'text', 'text[]', 'integer', 'text[]', 'text', 'text', 'integer', 'boolean', 'jsonb',
          'integer', 'integer', 'integer', 'integer', 'integer', 'integer', 'integer'],
    'public', ARRAY[]::text[], 'PUBLIC cannot call migrate_waves (a procedure, like migrate_all it writes every tenant)');
-- a function added to the install script after its REVOKE ALL would keep
-- PUBLIC's default EXECUTE: catch any such function
SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text COLLATE "C")
       FROM pg_proc p
      WHERE p.pronamespace = 'datasource'::regnamespace
        AND has_function_privilege('public', p.oid, 'EXECUTE')),
    ARRAY['datasource.connections()', 'datasource.database_stats_rows()', 'datasource.describe(text)',
          'datasource.diff(jsonb,jsonb)', 'datasource.diff(text,text)', 'datasource.diff_column(jsonb)',
          'datasource.diff_depths(jsonb,text)', 'datasource.diff_steps(jsonb,jsonb)',
          'datasource.disconnect(text)',
          'datasource.exec(text,text)', 'datasource.execute(text,text,integer,boolean)',
          'datasource.fingerprint(jsonb)', 'datasource.fingerprint(text)', 'datasource.health_check(text)', 'datasource.json_schema(text,text)',
          'datasource.migration_progress_rows()',
          'datasource.query(text,text,text[])', 'datasource.query_json(text,text,text[])',
          'datasource.session_sandbox()', 'datasource.source_stats_rows()',
          'datasource.statement_stats_rows()',
          'datasource.validate(text,text,boolean)', 'datasource.validate_databases(text[])'],
    'validation, routing and introspection (which run as the caller), the connection functions (this backend''s own), the progress of migrations (as pg_stat_activity) and the statistics (as pg_stat_database) are the only functions in schema datasource that PUBLIC may execute');

SELECT table_privs_are('datasource', 'sources', 'public', ARRAY['SELECT'],
    'PUBLIC may only SELECT from datasource.sources');
SELECT table_privs_are('datasource', 'databases', 'public', ARRAY['SELECT'],
    'PUBLIC may only SELECT from datasource.databases');
SELECT table_privs_are('datasource', 'source_info', 'public', ARRAY['SELECT'],
    'PUBLIC may only SELECT from datasource.source_info');
SELECT table_privs_are('datasource', 'database_info', 'public', ARRAY['SELECT'],
    'PUBLIC may only SELECT from datasource.database_info');
SELECT table_privs_are('datasource', 'migrations', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on the migration journal');
SELECT table_privs_are('datasource', 'ddl_log', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on the DDL journal');
SELECT table_privs_are('datasource', 'schema_snapshots', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on the schema snapshots');
SELECT table_privs_are('datasource', 'sandboxes', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on the sandboxes');
SELECT table_privs_are('datasource', 'sandbox_info', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on sandbox_info');
SELECT table_privs_are('datasource', 'fleet', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on the fleet view (it reads the journal)');
SELECT function_privs_are('datasource', 'fleet_status', ARRAY['jsonb', 'boolean'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute fleet_status');
SELECT table_privs_are('datasource', 'migration_progress', 'public', ARRAY['SELECT'],
    'PUBLIC may only SELECT from datasource.migration_progress');
SELECT function_privs_are('datasource', 'migration_progress_rows', ARRAY[]::text[],
    'public', ARRAY['EXECUTE'], 'PUBLIC can execute migration_progress_rows');
SELECT table_privs_are('datasource', 'database_stats', 'public', ARRAY['SELECT'],
    'PUBLIC may only SELECT from datasource.database_stats');
SELECT function_privs_are('datasource', 'database_stats_rows', ARRAY[]::text[],
    'public', ARRAY['EXECUTE'], 'PUBLIC can execute database_stats_rows');
SELECT function_privs_are('datasource', 'reset_database_stats', ARRAY['text'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute reset_database_stats');
SELECT table_privs_are('datasource', 'source_stats', 'public', ARRAY['SELECT'],
    'PUBLIC may only SELECT from datasource.source_stats');
SELECT function_privs_are('datasource', 'source_stats_rows', ARRAY[]::text[],
    'public', ARRAY['EXECUTE'], 'PUBLIC can execute source_stats_rows');
SELECT function_privs_are('datasource', 'reset_source_stats', ARRAY['text'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute reset_source_stats');
SELECT table_privs_are('datasource', 'statement_stats', 'public', ARRAY['SELECT'],
    'PUBLIC may only SELECT from datasource.statement_stats');
SELECT function_privs_are('datasource', 'statement_stats_rows', ARRAY[]::text[],
    'public', ARRAY['EXECUTE'], 'PUBLIC can execute statement_stats_rows');
SELECT sequence_privs_are('datasource', 'migrations_id_seq', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on the migration journal''s sequence');
SELECT sequence_privs_are('datasource', 'ddl_log_id_seq', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on the DDL journal''s sequence');
SELECT is(
    (SELECT array_agg(c.oid::regclass::text || ' ' || a.privilege_type
                      ORDER BY c.oid::regclass::text COLLATE "C", a.privilege_type COLLATE "C")
       FROM pg_class c,
            aclexplode(coalesce(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char",
                                                     c.relowner))) a
      WHERE c.relnamespace = 'datasource'::regnamespace AND a.grantee = 0),
    ARRAY['datasource.database_info SELECT', 'datasource.database_stats SELECT', 'datasource.databases SELECT',
          'datasource.migration_progress SELECT',
          'datasource.source_info SELECT', 'datasource.source_stats SELECT', 'datasource.sources SELECT',
          'datasource.statement_stats SELECT'],
    'reading the registry tables and views, the progress of migrations and the statistics is all PUBLIC may do with the relations and sequences of schema datasource');
SELECT schema_privs_are('datasource', 'public', ARRAY['USAGE'],
    'PUBLIC has USAGE but not CREATE on schema datasource');
SELECT is(
    (SELECT array_agg(c.relname::text ORDER BY c.relname)
       FROM pg_class c
      WHERE c.relnamespace = 'datasource'::regnamespace
        AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
        AND (has_table_privilege('public', c.oid, 'INSERT')
          OR has_table_privilege('public', c.oid, 'UPDATE')
          OR has_table_privilege('public', c.oid, 'DELETE')
          OR has_table_privilege('public', c.oid, 'TRUNCATE'))),
    NULL, 'PUBLIC cannot write any table or view of schema datasource');

-- a logical database and a server to look at and to try to change
SELECT is((datasource.create_database('tap02_db')).name, 'tap02_db',
    'the superuser creates a logical database');
CREATE SERVER tap02_srv FOREIGN DATA WRAPPER pg_datasource
    OPTIONS (host '127.0.0.1', port '1', dbname 'tap');
CREATE SERVER tap02_srv2 FOREIGN DATA WRAPPER pg_datasource
    OPTIONS (host '127.0.0.1', port '1', dbname 'tap2');

-- ------------------------------------------------------------ a role with no grants
CREATE ROLE tap02_reader NOLOGIN;
SET ROLE tap02_reader;
SELECT is(current_user::text, 'tap02_reader', 'now running as tap02_reader');
SELECT results_eq($$SELECT name FROM datasource.sources ORDER BY name$$,
    $$VALUES ('local'::text)$$, 'a role without grants reads datasource.sources');
SELECT results_eq($$SELECT name, source, schema_name FROM datasource.databases$$,
    $$VALUES ('tap02_db'::text, 'local'::text, 'tap02_db'::text)$$,
    'a role without grants reads datasource.databases');
SELECT results_eq($$SELECT name, databases, engine FROM datasource.source_info$$,
    $$VALUES ('local'::text, 1::bigint, 'postgresql'::text)$$,
    'a role without grants reads source_info, its engine included');
SELECT results_eq($$SELECT name, source, read_only, engine, local_schema, writable, transactional
                      FROM datasource.database_info$$,
    $$VALUES ('tap02_db'::text, 'local'::text, false, 'postgresql'::text, NULL::text, true, true)$$,
    'a role without grants reads database_info, its engine and capabilities included');

SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap02_db'])$$,
    $$VALUES (true, 'local'::text, NULL::text)$$, 'a role without grants can call validate_databases');

SELECT throws_ok($$SELECT datasource.create_database('tap02_x')$$, '42501',
    'permission denied for function create_database',
    'a role without grants cannot call create_database');
SELECT throws_ok($$SELECT datasource.alter_database('tap02_db', read_only => true)$$, '42501', NULL,
    'a role without grants cannot call alter_database');
SELECT throws_ok($$SELECT datasource.rename_database('tap02_db', 'tap02_y')$$, '42501', NULL,
    'a role without grants cannot call rename_database');
SELECT throws_ok($$SELECT datasource.drop_database('tap02_db')$$, '42501',
    'permission denied for function drop_database',
    'a role without grants cannot call drop_database');
SELECT throws_ok($$SELECT datasource.create_source('tap02_branch', 'tap02_srv')$$, '42501',
    'permission denied for function create_source',
    'a role without grants cannot call create_source');
SELECT throws_ok($$SELECT datasource.alter_source('local', enabled => false)$$, '42501', NULL,
    'a role without grants cannot call alter_source');
SELECT throws_ok($$SELECT datasource.drop_source('local')$$, '42501', NULL,
    'a role without grants cannot call drop_source');
SELECT throws_ok($$SELECT * FROM datasource.apply_config('{"databases": []}')$$, '42501',
    'permission denied for function apply_config',
    'a role without grants cannot call apply_config');
SELECT throws_ok($$SELECT datasource.apply_config('{}', dry_run => true)$$, '42501', NULL,
    'a role without grants cannot call apply_config even as a dry run');
SELECT throws_ok($$SELECT datasource.export_config()$$, '42501',
    'permission denied for function export_config',
    'a role without grants cannot call export_config');
SELECT throws_ok($$INSERT INTO datasource.databases (name, source, schema_name) VALUES ('tap02_z', 'local', 'tap02_z')$$,
    '42501', NULL, 'a role without grants cannot INSERT into datasource.databases');
SELECT throws_ok($$UPDATE datasource.sources SET enabled = false$$,
    '42501', NULL, 'a role without grants cannot UPDATE datasource.sources');
SELECT throws_ok($$DELETE FROM datasource.databases$$,
    '42501', NULL, 'a role without grants cannot DELETE from datasource.databases');
RESET ROLE;
SELECT results_eq(
    $$SELECT name, source, schema_name, read_only FROM datasource.databases$$,
    $$VALUES ('tap02_db'::text, 'local'::text, 'tap02_db'::text, false)$$,
    'the refused calls changed no logical database');
SELECT results_eq(
    $$SELECT name, enabled FROM datasource.sources$$,
    $$VALUES ('local'::text, true)$$,
    'the refused calls changed no datasource');

-- ------------------------------------------------------------ a role granted create_database
CREATE ROLE tap02_writer NOLOGIN;
GRANT EXECUTE ON FUNCTION datasource.create_database(text, text, text, boolean, boolean, text)
    TO tap02_writer;
DO $$ BEGIN
    EXECUTE format('GRANT CREATE ON DATABASE %I TO tap02_writer', current_database());
END $$;
SELECT function_privs_are('datasource', 'create_database', ARRAY['text', 'text', 'text', 'boolean', 'boolean', 'text'],
    'tap02_writer', ARRAY['EXECUTE'], 'tap02_writer may execute create_database');
SELECT table_privs_are('datasource', 'databases', 'tap02_writer', ARRAY['SELECT'],
    'tap02_writer has no INSERT on datasource.databases');
SELECT database_privs_are(current_database(), 'tap02_writer', ARRAY['CREATE', 'CONNECT', 'TEMPORARY'],
    'tap02_writer may create schemas in this database');

SET ROLE tap02_writer;
SELECT results_eq(
    $$SELECT name, source, schema_name, read_only, description, created_by
        FROM datasource.create_database('tap02_wdb', description => 'made by the writer')$$,
    $$VALUES ('tap02_wdb'::text, 'local'::text, 'tap02_wdb'::text, false,
              'made by the writer'::text, 'tap02_writer'::text)$$,
    'a role with EXECUTE and CREATE creates a logical database');
SELECT throws_ok($$INSERT INTO datasource.databases (name, source, schema_name) VALUES ('tap02_z', 'local', 'tap02_z')$$,
    '42501', NULL, 'the writer still cannot INSERT into the table directly');
SELECT throws_ok($$SELECT datasource.drop_database('tap02_wdb')$$, '42501', NULL,
    'EXECUTE on create_database does not allow drop_database');
SELECT throws_ok($$SELECT datasource.create_database('tap02_db')$$, '42710', NULL,
    'the writer gets the usual duplicate error for an existing name');
SELECT is(current_user::text, 'tap02_writer',
    'the role is unchanged after create_database (the owner switch is undone)');
RESET ROLE;
SELECT results_eq(
    $$SELECT name, created_by FROM datasource.databases WHERE name = 'tap02_wdb'$$,
    $$VALUES ('tap02_wdb'::text, 'tap02_writer'::text)$$,
    'the row is stored and created_by records the writer role');
SELECT schema_owner_is('tap02_wdb', 'tap02_writer',
    'the schema created for the writer is owned by the writer');
SELECT is(
    (SELECT tableowner::text FROM pg_tables WHERE schemaname = 'datasource' AND tablename = 'databases'),
    (SELECT extowner::regrole::text FROM pg_extension WHERE extname = 'pg_datasource'),
    'the registry table is still owned by the extension owner');

-- ------------------------------------------------------------ a role without CREATE on the database
CREATE ROLE tap02_nocreate NOLOGIN;
GRANT EXECUTE ON FUNCTION datasource.create_database(text, text, text, boolean, boolean, text)
    TO tap02_nocreate;
SELECT database_privs_are(current_database(), 'tap02_nocreate', ARRAY['CONNECT', 'TEMPORARY'],
    'tap02_nocreate may not create schemas in this database');
CREATE SCHEMA tap02_existing;
SET ROLE tap02_nocreate;
SELECT throws_ok($$SELECT datasource.create_database('tap02_ndb')$$, '42501',
    format('permission denied for database %s', current_database()),
    'CREATE SCHEMA runs as the caller: without CREATE on the database it is refused');
SELECT throws_ok($$SELECT datasource.create_database('tap02_ndb2', schema_name => 'tap02_newschema')$$,
    '42501', NULL, 'also with an explicit schema name');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM datasource.databases WHERE name IN ('tap02_ndb', 'tap02_ndb2')), 0,
    'no registry row was written for the refused calls');
SELECT hasnt_schema('tap02_ndb', 'no schema tap02_ndb was created');
SELECT hasnt_schema('tap02_newschema', 'no schema tap02_newschema was created');
-- mapping an existing schema needs no CREATE: only the registry changes
SET ROLE tap02_nocreate;
SELECT results_eq(
    $$SELECT name, schema_name, created_by
        FROM datasource.create_database('tap02_adopt', schema_name => 'tap02_existing', create_schema => false)$$,
    $$VALUES ('tap02_adopt'::text, 'tap02_existing'::text, 'tap02_nocreate'::text)$$,
    'a role without CREATE may map an existing schema (create_schema => false)');
SELECT throws_ok($$SELECT datasource.create_database('tap02_missing', create_schema => false)$$,
    '3F000', NULL, 'a missing schema is reported, not created, with create_schema => false');
RESET ROLE;
SELECT schema_owner_is('tap02_existing', current_user,
    'the adopted schema keeps its owner');

-- ------------------------------------------------------------ USAGE on foreign servers
CREATE ROLE tap02_srcadmin NOLOGIN;
GRANT EXECUTE ON FUNCTION datasource.create_source(text, text, boolean, text) TO tap02_srcadmin;
GRANT EXECUTE ON FUNCTION datasource.alter_source(text, text, boolean, boolean, text) TO tap02_srcadmin;
SET ROLE tap02_srcadmin;
SELECT throws_ok($$SELECT datasource.create_source('tap02_branch', 'tap02_srv')$$, '42501',
    'permission denied for foreign server tap02_srv',
    'create_source needs USAGE on the foreign server');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM datasource.sources WHERE name = 'tap02_branch'), 0,
    'the refused create_source wrote nothing');
GRANT USAGE ON FOREIGN SERVER tap02_srv TO tap02_srcadmin;
SET ROLE tap02_srcadmin;
SELECT results_eq(
    $$SELECT name, server, created_by FROM datasource.create_source('tap02_branch', 'tap02_srv')$$,
    $$VALUES ('tap02_branch'::text, 'tap02_srv'::text, 'tap02_srcadmin'::text)$$,
    'with USAGE on the server the role registers it');
SELECT throws_ok($$SELECT datasource.alter_source('tap02_branch', server => 'tap02_srv2')$$, '42501',
    'permission denied for foreign server tap02_srv2',
    'alter_source needs USAGE on the new foreign server');
SELECT is((datasource.alter_source('tap02_branch', read_only => true)).read_only, true,
    'alter_source without a server change needs no further privilege');
SELECT throws_ok($$SELECT datasource.drop_source('tap02_branch')$$, '42501', NULL,
    'EXECUTE on create_source and alter_source does not allow drop_source');
RESET ROLE;
SELECT results_eq(
    $$SELECT name, server, read_only FROM datasource.sources WHERE name = 'tap02_branch'$$,
    $$VALUES ('tap02_branch'::text, 'tap02_srv'::text, true)$$,
    'the datasource kept its server after the refused change');

-- ------------------------------------------------------------ drop_database with drop_schema
-- DROP SCHEMA runs as the caller: only the schema's owner may drop it
GRANT EXECUTE ON FUNCTION datasource.drop_database(text, boolean) TO tap02_writer;
SET ROLE tap02_writer;
SELECT throws_ok($$SELECT datasource.drop_database('tap02_db', drop_schema => true)$$, '42501',
    'must be owner of schema tap02_db',
    'drop_schema => true on a schema the role does not own is refused');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM datasource.databases WHERE name = 'tap02_db'), 1,
    'the refused drop left the registry row');
SELECT has_schema('tap02_db', 'the refused drop left the schema');
SET ROLE tap02_writer;
SELECT lives_ok($$SELECT datasource.drop_database('tap02_wdb', drop_schema => true)$$,
    'the writer drops its own logical database with its schema');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM datasource.databases WHERE name = 'tap02_wdb'), 0,
    'the registry row of the dropped logical database is gone');
SELECT hasnt_schema('tap02_wdb', 'its schema is gone');

-- ------------------------------------------------------------ export/apply need grants too
CREATE ROLE tap02_operator NOLOGIN;
GRANT EXECUTE ON FUNCTION datasource.export_config() TO tap02_operator;
SET ROLE tap02_operator;
SELECT is(jsonb_array_length(datasource.export_config() -> 'databases'), 2,
    'with EXECUTE, export_config works for an ordinary role');
SELECT throws_ok($$SELECT * FROM datasource.apply_config(datasource.export_config())$$, '42501', NULL,
    'EXECUTE on export_config does not allow apply_config');
RESET ROLE;

SELECT is(current_user::text, session_user::text, 'back to the session user after RESET ROLE');

SELECT * FROM finish();
ROLLBACK;
