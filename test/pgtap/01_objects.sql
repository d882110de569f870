-- 01_objects: the objects the extension installs, as the public contract
-- (DESIGN.md) and the install script define them.
--
-- Run by pg_prove in a database where pgtap and pg_datasource are already
-- installed; everything here is rolled back.
BEGIN;
SELECT plan(164);


-- ------------------------------------------------------------ extension
SELECT has_extension('datasource', 'pg_datasource',
    'extension pg_datasource is installed in schema datasource');
SELECT is((SELECT extversion FROM pg_extension WHERE extname = 'pg_datasource'),
    '0.2.0', 'extension version is 0.2.0');
SELECT is((SELECT extrelocatable FROM pg_extension WHERE extname = 'pg_datasource'),
    false, 'extension is not relocatable');
SELECT has_schema('datasource', 'schema datasource exists');
SELECT is((SELECT e.extnamespace = n.oid
             FROM pg_extension e, pg_namespace n
            WHERE e.extname = 'pg_datasource' AND n.nspname = 'datasource'),
    true, 'the extension''s schema is datasource');

-- ------------------------------------------------------------ tables
SELECT has_table('datasource', 'sources', 'table datasource.sources exists');
SELECT has_table('datasource', 'databases', 'table datasource.databases exists');
SELECT has_table('datasource', 'migrations', 'table datasource.migrations exists');
SELECT has_table('datasource', 'ddl_log', 'table datasource.ddl_log exists');
SELECT columns_are('datasource', 'migrations',
    ARRAY['id', 'database', 'datasource', 'server', 'server_address', 'schema_name', 'version',
          'description', 'status', 'checksum', 'raw_checksum', 'previous_checksum', 'script',
          'script_schema', 'statement_count', 'role', 'started_at', 'finished_at',
          'execution_time_ms', 'error', 'sqlstate', 'failed_statement', 'schema_fingerprint',
          'error_detail', 'error_hint'],
    'datasource.migrations has the journal''s columns');
SELECT hasnt_fk('datasource', 'migrations',
    'the journal is history: no foreign key, dropping a logical database keeps its rows');
SELECT index_is_unique('datasource', 'migrations', 'migrations_applied_once',
    'a version is applied at most once per logical database');
SELECT columns_are('datasource', 'ddl_log',
    ARRAY['id', 'database', 'schema_name', 'command_tag', 'object_type', 'object_identity',
          'statement', 'role', 'transaction_id', 'logged_at', 'migration_version'],
    'datasource.ddl_log has the DDL journal''s columns');
SELECT has_type('datasource', 'migration_result', 'type datasource.migration_result exists');
SELECT is(
    (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
       FROM pg_attribute WHERE attrelid = (SELECT typrelid FROM pg_type WHERE oid = 'datasource.migration_result'::regtype)
        AND attnum > 0),
    'database text, version text, status text, checksum text, execution_time_ms double precision, error text, sqlstate text, error_detail text, error_hint text',
    'migration_result has the contract''s columns');
SELECT is(pg_get_function_arguments('datasource.migrate(text,text,text,text,text)'::regprocedure),
    'database text, version text, script text, description text DEFAULT NULL::text, script_schema text DEFAULT NULL::text',
    'migrate argument names and defaults');
SELECT is(pg_get_function_arguments('datasource.migrate_all(text,text,text[],text,text,boolean,integer,boolean,boolean,text[],jsonb)'::regprocedure),
    'version text, script text, databases text[] DEFAULT NULL::text[], description text DEFAULT NULL::text, script_schema text DEFAULT NULL::text, '
    'dry_run boolean DEFAULT false, max_failures integer DEFAULT NULL::integer, raise_on_failure boolean DEFAULT false, out_of_order boolean DEFAULT false, '
    'canary text[] DEFAULT NULL::text[], manifest jsonb DEFAULT NULL::jsonb',
    'migrate_all argument names and defaults');
SELECT is(pg_get_function_arguments('datasource.migrate_waves(text,text,text[],integer,text[],text,text,integer,boolean,jsonb,integer,integer,integer,integer,integer,integer,integer)'::regprocedure),
    'IN version text, IN script text, IN databases text[] DEFAULT NULL::text[], IN wave_size integer DEFAULT 100, IN canary text[] DEFAULT NULL::text[], '
    'IN description text DEFAULT NULL::text, IN script_schema text DEFAULT NULL::text, IN max_failures integer DEFAULT NULL::integer, '
    'IN out_of_order boolean DEFAULT false, IN manifest jsonb DEFAULT NULL::jsonb, IN parallel integer DEFAULT 1, '
    'IN per_source integer DEFAULT NULL::integer, INOUT waves integer DEFAULT NULL::integer, '
    'INOUT applied integer DEFAULT NULL::integer, INOUT already_applied integer DEFAULT NULL::integer, '
    'INOUT failed integer DEFAULT NULL::integer, INOUT not_attempted integer DEFAULT NULL::integer',
    'migrate_waves (a procedure) argument names and defaults');
SELECT is(pg_get_function_result('datasource.pending(text,jsonb)'::regprocedure),
    'TABLE(version text, state text)', 'pending result columns');
SELECT is(pg_get_function_arguments('datasource.baseline(text,text,text)'::regprocedure),
    'database text, version text, description text DEFAULT NULL::text',
    'baseline argument names and defaults');
SELECT is(pg_get_function_arguments('datasource.accept_checksum(text,text,text)'::regprocedure),
    'database text, version text, checksum text', 'accept_checksum argument names');
SELECT set_eq(
    $$SELECT evtname::text || ' ' || evtevent FROM pg_event_trigger e
        JOIN pg_depend d ON d.classid = 'pg_event_trigger'::regclass AND d.objid = e.oid AND d.deptype = 'e'
        JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'pg_datasource'$$,
    $$VALUES ('datasource_guard_server_drop sql_drop'), ('datasource_ddl_log ddl_command_end'),
             ('datasource_ddl_log_drop sql_drop')$$,
    'the extension''s event triggers');
SELECT has_view('datasource', 'source_info', 'view datasource.source_info exists');
SELECT has_view('datasource', 'database_info', 'view datasource.database_info exists');
SELECT has_view('datasource', 'migration_progress', 'view datasource.migration_progress exists');
SELECT columns_are('datasource', 'migration_progress',
    ARRAY['pid', 'datname', 'role', 'version', 'started_at', 'total', 'done', 'applied', 'failed',
          'current_database', 'elapsed'],
    'datasource.migration_progress has exactly the contract''s columns');
SELECT has_view('datasource', 'database_stats', 'view datasource.database_stats exists');
SELECT columns_are('datasource', 'database_stats',
    ARRAY['database', 'calls', 'errors', 'rows', 'total_time_ms', 'min_time_ms', 'max_time_ms',
          'mean_time_ms', 'stddev_time_ms', 'p50_ms', 'p95_ms', 'p99_ms', 'validate_time_ms',
          'connect_time_ms', 'remote_time_ms', 'transfer_time_ms', 'local_time_ms',
          'statement_cache_hits', 'remote_prepared_hits', 'errors_by_class', 'histogram',
          'migrations_applied', 'migrations_failed', 'migration_time_ms', 'stats_since'],
    'datasource.database_stats has exactly the documented columns');
SELECT has_view('datasource', 'source_stats', 'view datasource.source_stats exists');
SELECT columns_are('datasource', 'source_stats',
    ARRAY['datasource', 'connects', 'reconnects', 'connect_failures', 'failures_by_reason',
          'remote_transactions', 'commits', 'rollbacks', 'in_doubt', 'health_checks',
          'health_failures', 'health_mean_ms', 'health_max_ms', 'health_last_ms', 'health_last_at',
          'stats_since'],
    'datasource.source_stats has exactly the documented columns');
SELECT has_view('datasource', 'statement_stats', 'view datasource.statement_stats exists');
SELECT columns_are('datasource', 'statement_stats',
    ARRAY['database', 'fingerprint', 'query', 'calls', 'errors', 'rows', 'total_time_ms', 'min_time_ms',
          'max_time_ms', 'mean_time_ms', 'stddev_time_ms', 'stats_since'],
    'datasource.statement_stats has exactly the documented columns');
SELECT has_view('datasource', 'fleet', 'view datasource.fleet exists');
SELECT columns_are('datasource', 'fleet',
    ARRAY['database', 'source', 'schema_name', 'last_version', 'last_applied_at', 'applied', 'failed',
          'last_error', 'pending', 'drift', 'migrating'],
    'datasource.fleet has exactly the contract''s columns');
SELECT is(pg_get_function_arguments('datasource.fleet_status(jsonb,boolean)'::regprocedure),
    'manifest jsonb DEFAULT NULL::jsonb, with_drift boolean DEFAULT false',
    'fleet_status argument names and defaults');
SELECT is(pg_get_function_result('datasource.fleet_status(jsonb,boolean)'::regprocedure),
    'TABLE(database text, source text, schema_name text, last_version text, last_applied_at timestamp with time zone, '
    'applied integer, failed integer, last_error text, pending integer, drift text, migrating boolean)',
    'fleet_status result columns');

SELECT columns_are('datasource', 'sources',
    ARRAY['name', 'server', 'enabled', 'read_only', 'description', 'created_at', 'created_by'],
    'datasource.sources has exactly the contract''s columns');
SELECT col_type_is('datasource', 'sources', 'name', 'text', 'sources.name is text');
SELECT col_type_is('datasource', 'sources', 'server', 'text', 'sources.server is text');
SELECT col_type_is('datasource', 'sources', 'enabled', 'boolean', 'sources.enabled is boolean');
SELECT col_type_is('datasource', 'sources', 'read_only', 'boolean', 'sources.read_only is boolean');
SELECT col_type_is('datasource', 'sources', 'description', 'text', 'sources.description is text');
SELECT col_type_is('datasource', 'sources', 'created_at', 'timestamp with time zone',
    'sources.created_at is timestamptz');
SELECT col_type_is('datasource', 'sources', 'created_by', 'text', 'sources.created_by is text');
SELECT col_is_pk('datasource', 'sources', 'name', 'sources.name is the primary key');
SELECT col_is_unique('datasource', 'sources', ARRAY['server'],
    'sources.server is unique: a server backs at most one datasource');
SELECT col_is_null('datasource', 'sources', 'server',
    'sources.server is nullable (NULL for local)');
SELECT col_not_null('datasource', 'sources', 'enabled', 'sources.enabled is NOT NULL');
SELECT col_not_null('datasource', 'sources', 'read_only', 'sources.read_only is NOT NULL');
SELECT col_not_null('datasource', 'sources', 'created_at', 'sources.created_at is NOT NULL');
SELECT col_not_null('datasource', 'sources', 'created_by', 'sources.created_by is NOT NULL');
SELECT col_default_is('datasource', 'sources', 'enabled', 'true',
    'sources.enabled defaults to true');
SELECT col_default_is('datasource', 'sources', 'read_only', 'false',
    'sources.read_only defaults to false');

SELECT columns_are('datasource', 'databases',
    ARRAY['name', 'source', 'schema_name', 'read_only', 'description', 'created_at', 'created_by', 'local_schema'],
    'datasource.databases has exactly the contract''s columns and local_schema (MySQL logical databases)');
SELECT col_type_is('datasource', 'databases', 'name', 'text', 'databases.name is text');
SELECT col_type_is('datasource', 'databases', 'source', 'text', 'databases.source is text');
SELECT col_type_is('datasource', 'databases', 'schema_name', 'text', 'databases.schema_name is text');
SELECT col_type_is('datasource', 'databases', 'read_only', 'boolean', 'databases.read_only is boolean');
SELECT col_type_is('datasource', 'databases', 'description', 'text', 'databases.description is text');
SELECT col_type_is('datasource', 'databases', 'created_at', 'timestamp with time zone',
    'databases.created_at is timestamptz');
SELECT col_type_is('datasource', 'databases', 'created_by', 'text', 'databases.created_by is text');
SELECT col_is_pk('datasource', 'databases', 'name', 'databases.name is the primary key');
SELECT fk_ok('datasource', 'databases', 'source', 'datasource', 'sources', 'name',
    'databases.source references sources.name');
SELECT col_is_unique('datasource', 'databases', ARRAY['source', 'schema_name'],
    'a schema of a datasource belongs to at most one logical database');
SELECT col_not_null('datasource', 'databases', 'source', 'databases.source is NOT NULL');
SELECT col_not_null('datasource', 'databases', 'schema_name', 'databases.schema_name is NOT NULL');
SELECT col_not_null('datasource', 'databases', 'read_only', 'databases.read_only is NOT NULL');
SELECT col_default_is('datasource', 'databases', 'read_only', 'false',
    'databases.read_only defaults to false');

-- the CHECK constraints are the last line of defence for rows written by hand
SELECT throws_ok($$INSERT INTO datasource.sources (name, server) VALUES ('Upper', 'x')$$,
    '23514', NULL, 'a hand-written source with an upper-case name violates a check');
SELECT throws_ok($$INSERT INTO datasource.sources (name, server) VALUES (repeat('a', 64), 'x')$$,
    '23514', NULL, 'a hand-written source with a 64-byte name violates a check');
SELECT throws_ok($$INSERT INTO datasource.sources (name, server) VALUES ('other', NULL)$$,
    '23514', NULL, 'a hand-written non-local source without a server violates a check');
SELECT throws_ok($$INSERT INTO datasource.databases (name, source, schema_name) VALUES ('a b', 'local', 'a')$$,
    '23514', NULL, 'a hand-written logical database with a space in its name violates a check');
SELECT throws_ok($$INSERT INTO datasource.databases (name, source, schema_name) VALUES ('x_db', 'nowhere', 'x')$$,
    '23503', NULL, 'a hand-written logical database on an unknown datasource violates the foreign key');

-- ------------------------------------------------------------ functions
-- exact signatures (argument types), return types, volatility, strictness
SELECT has_function('datasource', 'create_source', ARRAY['text', 'text', 'boolean', 'text'],
    'create_source(text, text, boolean, text) exists');
SELECT has_function('datasource', 'alter_source', ARRAY['text', 'text', 'boolean', 'boolean', 'text'],
    'alter_source(text, text, boolean, boolean, text) exists');
SELECT has_function('datasource', 'drop_source', ARRAY['text', 'boolean'],
    'drop_source(text, boolean) exists');
SELECT has_function('datasource', 'create_database', ARRAY['text', 'text', 'text', 'boolean', 'boolean', 'text'],
    'create_database(text, text, text, boolean, boolean, text) exists');
SELECT has_function('datasource', 'alter_database', ARRAY['text', 'text', 'text', 'boolean', 'text'],
    'alter_database(text, text, text, boolean, text) exists');
SELECT has_function('datasource', 'rename_database', ARRAY['text', 'text'],
    'rename_database(text, text) exists');
SELECT has_function('datasource', 'drop_database', ARRAY['text', 'boolean'],
    'drop_database(text, boolean) exists');
SELECT has_function('datasource', 'validate_databases', ARRAY['text[]'],
    'validate_databases(text[]) exists');
SELECT has_function('datasource', 'export_config', ARRAY[]::name[],
    'export_config() exists');
SELECT has_function('datasource', 'apply_config', ARRAY['jsonb', 'boolean'],
    'apply_config(jsonb, boolean) exists');
SELECT has_function('datasource', 'pg_datasource_validator', ARRAY['text[]', 'oid'],
    'pg_datasource_validator(text[], oid) exists');

SELECT function_returns('datasource', 'create_source', ARRAY['text', 'text', 'boolean', 'text'],
    'datasource.sources', 'create_source returns a datasource.sources row');
SELECT function_returns('datasource', 'alter_source', ARRAY['text', 'text', 'boolean', 'boolean', 'text'],
    'datasource.sources', 'alter_source returns a datasource.sources row');
SELECT function_returns('datasource', 'drop_source', ARRAY['text', 'boolean'],
    'void', 'drop_source returns void');
SELECT function_returns('datasource', 'create_database', ARRAY['text', 'text', 'text', 'boolean', 'boolean', 'text'],
    'datasource.databases', 'create_database returns a datasource.databases row');
SELECT function_returns('datasource', 'alter_database', ARRAY['text', 'text', 'text', 'boolean', 'text'],
    'datasource.databases', 'alter_database returns a datasource.databases row');
SELECT function_returns('datasource', 'rename_database', ARRAY['text', 'text'],
    'datasource.databases', 'rename_database returns a datasource.databases row');
SELECT function_returns('datasource', 'drop_database', ARRAY['text', 'boolean'],
    'void', 'drop_database returns void');
SELECT function_returns('datasource', 'validate_databases', ARRAY['text[]'],
    'record', 'validate_databases returns one record');
SELECT function_returns('datasource', 'export_config', ARRAY[]::name[],
    'jsonb', 'export_config returns jsonb');
SELECT function_returns('datasource', 'apply_config', ARRAY['jsonb', 'boolean'],
    'setof record', 'apply_config returns a set of records');
SELECT function_returns('datasource', 'pg_datasource_validator', ARRAY['text[]', 'oid'],
    'void', 'pg_datasource_validator returns void');

SELECT volatility_is('datasource', 'create_source', ARRAY['text', 'text', 'boolean', 'text'],
    'volatile', 'create_source is volatile');
SELECT volatility_is('datasource', 'alter_source', ARRAY['text', 'text', 'boolean', 'boolean', 'text'],
    'volatile', 'alter_source is volatile');
SELECT volatility_is('datasource', 'drop_source', ARRAY['text', 'boolean'],
    'volatile', 'drop_source is volatile');
SELECT volatility_is('datasource', 'create_database', ARRAY['text', 'text', 'text', 'boolean', 'boolean', 'text'],
    'volatile', 'create_database is volatile');
SELECT volatility_is('datasource', 'alter_database', ARRAY['text', 'text', 'text', 'boolean', 'text'],
    'volatile', 'alter_database is volatile');
SELECT volatility_is('datasource', 'rename_database', ARRAY['text', 'text'],
    'volatile', 'rename_database is volatile');
SELECT volatility_is('datasource', 'drop_database', ARRAY['text', 'boolean'],
    'volatile', 'drop_database is volatile');
SELECT volatility_is('datasource', 'validate_databases', ARRAY['text[]'],
    'stable', 'validate_databases is stable');
SELECT volatility_is('datasource', 'export_config', ARRAY[]::name[],
    'stable', 'export_config is stable');
SELECT volatility_is('datasource', 'apply_config', ARRAY['jsonb', 'boolean'],
    'volatile', 'apply_config is volatile');
SELECT volatility_is('datasource', 'pg_datasource_validator', ARRAY['text[]', 'oid'],
    'volatile', 'pg_datasource_validator is volatile');

-- NULL arguments must reach the C code (which raises 22004), so no
-- registry function may be STRICT; none may be SECURITY DEFINER either
-- (the C switches to the table owner only for its own fixed writes)
SELECT is(
    (SELECT array_agg(p.proname::text ORDER BY p.proname)
       FROM pg_proc p
      WHERE p.pronamespace = 'datasource'::regnamespace AND p.proisstrict),
    ARRAY['pg_datasource_validator'],
    'only the wrapper validator is STRICT');
SELECT is(
    (SELECT count(*)::int FROM pg_proc p
      WHERE p.pronamespace = 'datasource'::regnamespace AND p.prosecdef),
    0, 'no function in schema datasource is SECURITY DEFINER');
SELECT is(
    (SELECT array_agg(p.proname::text || ' ' || l.lanname::text ORDER BY p.proname, l.lanname)
       FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
      WHERE p.pronamespace = 'datasource'::regnamespace AND l.lanname <> 'c'),
    ARRAY['diff plpgsql', 'diff sql', 'diff_column sql', 'diff_depths sql', 'diff_steps plpgsql', 'drift plpgsql', 'drop_sandbox plpgsql', 'fleet_status plpgsql', 'guard_server_drop plpgsql', 'set_sandbox plpgsql'],
    'every function in schema datasource is written in C except the event trigger function, the diff of descriptions, the sandbox keepers and the fleet view');

-- the argument names and defaults of the public contract
SELECT is(pg_get_function_arguments('datasource.create_source(text,text,boolean,text)'::regprocedure),
    'name text, server text DEFAULT NULL::text, read_only boolean DEFAULT false, description text DEFAULT NULL::text',
    'create_source argument names and defaults');
SELECT is(pg_get_function_arguments('datasource.alter_source(text,text,boolean,boolean,text)'::regprocedure),
    'name text, server text DEFAULT NULL::text, read_only boolean DEFAULT NULL::boolean, enabled boolean DEFAULT NULL::boolean, description text DEFAULT NULL::text',
    'alter_source argument names and defaults');
SELECT is(pg_get_function_arguments('datasource.drop_source(text,boolean)'::regprocedure),
    'name text, cascade boolean DEFAULT false',
    'drop_source argument names and defaults');
SELECT is(pg_get_function_arguments('datasource.create_database(text,text,text,boolean,boolean,text)'::regprocedure),
    'name text, source text DEFAULT ''local''::text, schema_name text DEFAULT NULL::text, create_schema boolean DEFAULT true, read_only boolean DEFAULT false, description text DEFAULT NULL::text',
    'create_database argument names and defaults');
SELECT is(pg_get_function_arguments('datasource.alter_database(text,text,text,boolean,text)'::regprocedure),
    'name text, source text DEFAULT NULL::text, schema_name text DEFAULT NULL::text, read_only boolean DEFAULT NULL::boolean, description text DEFAULT NULL::text',
    'alter_database argument names and defaults');
SELECT is(pg_get_function_arguments('datasource.rename_database(text,text)'::regprocedure),
    'name text, new_name text',
    'rename_database argument names');
SELECT is(pg_get_function_arguments('datasource.drop_database(text,boolean)'::regprocedure),
    'name text, drop_schema boolean DEFAULT false',
    'drop_database argument names and defaults');
SELECT is(pg_get_function_arguments('datasource.validate_databases(text[])'::regprocedure),
    'names text[], OUT valid boolean, OUT datasource text, OUT error text',
    'validate_databases arguments and result columns');
SELECT is(pg_get_function_arguments('datasource.apply_config(jsonb,boolean)'::regprocedure),
    'config jsonb, dry_run boolean DEFAULT false',
    'apply_config argument names and defaults');
SELECT is(pg_get_function_result('datasource.apply_config(jsonb,boolean)'::regprocedure),
    'TABLE(action text, object text, detail text)',
    'apply_config result columns');

-- ------------------------------------------------------------ the wrapper
SELECT is(
    (SELECT fdwvalidator::regprocedure::text FROM pg_foreign_data_wrapper
      WHERE fdwname = 'pg_datasource'),
    'datasource.pg_datasource_validator(text[],oid)',
    'foreign-data wrapper pg_datasource exists with its validator');
SELECT is(
    (SELECT fdwhandler FROM pg_foreign_data_wrapper WHERE fdwname = 'pg_datasource'),
    0::oid, 'the wrapper has no handler (servers are datasources, not foreign tables)');

-- the event trigger that keeps a datasource's server from being dropped
SELECT has_function('datasource', 'guard_server_drop', ARRAY[]::name[],
    'guard_server_drop() exists');
SELECT function_returns('datasource', 'guard_server_drop', ARRAY[]::name[], 'event_trigger',
    'guard_server_drop returns event_trigger');
SELECT function_lang_is('datasource', 'guard_server_drop', ARRAY[]::name[], 'plpgsql',
    'guard_server_drop is written in PL/pgSQL');
SELECT is(
    (SELECT proconfig FROM pg_proc WHERE oid = 'datasource.guard_server_drop()'::regprocedure),
    ARRAY['search_path=pg_catalog, pg_temp'],
    'guard_server_drop pins its search_path');
SELECT results_eq(
    $$SELECT evtevent::text COLLATE "default", evtfoid::regprocedure::text, evtenabled::text COLLATE "default", evttags::text[] COLLATE "default"
        FROM pg_event_trigger WHERE evtname = 'datasource_guard_server_drop'$$,
    $$VALUES ('sql_drop'::text, 'datasource.guard_server_drop()'::text, 'O'::text,
              ARRAY['DROP SERVER', 'DROP FOREIGN DATA WRAPPER', 'DROP OWNED'])$$,
    'event trigger datasource_guard_server_drop fires on sql_drop of servers, wrappers and DROP OWNED');
SELECT is(
    (SELECT count(*)::int FROM pg_depend d
      WHERE d.classid = 'pg_event_trigger'::regclass AND d.deptype = 'e'
        AND d.objid = (SELECT oid FROM pg_event_trigger WHERE evtname = 'datasource_guard_server_drop')
        AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_datasource')),
    1, 'the event trigger is a member of the extension');

-- every installed object belongs to the extension (pg_dump, DROP EXTENSION)
SELECT is(
    (SELECT count(*)::int FROM pg_depend d
      WHERE d.refclassid = 'pg_extension'::regclass
        AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_datasource')
        AND d.deptype = 'e'
        AND ((d.classid = 'pg_class'::regclass AND d.objid IN (
                'datasource.sources'::regclass, 'datasource.databases'::regclass,
                'datasource.source_info'::regclass, 'datasource.database_info'::regclass))
          OR (d.classid = 'pg_foreign_data_wrapper'::regclass AND d.objid =
                (SELECT oid FROM pg_foreign_data_wrapper WHERE fdwname = 'pg_datasource')))),
    5, 'tables, views and wrapper are members of the extension');
SELECT is(
    (SELECT count(*)::int FROM pg_proc p
      WHERE p.pronamespace = 'datasource'::regnamespace
        AND NOT EXISTS (SELECT 1 FROM pg_depend d
                         WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                           AND d.deptype = 'e'
                           AND d.refobjid = (SELECT oid FROM pg_extension
                                              WHERE extname = 'pg_datasource'))),
    0, 'every function in schema datasource is a member of the extension');

-- ------------------------------------------------------------ seeded state
SELECT results_eq(
    $$SELECT name, server, enabled, read_only, description, created_by FROM datasource.sources$$,
    $$VALUES ('local'::text, NULL::text, true, false, 'this database'::text, 'pg_datasource'::text)$$,
    'the registry starts with exactly the local datasource');
SELECT is((SELECT count(*)::int FROM datasource.databases), 0,
    'the registry starts with no logical databases');
SELECT results_eq(
    $$SELECT name, server, host, port, dbname, enabled, read_only, databases FROM datasource.source_info$$,
    $$VALUES ('local'::text, NULL::text, NULL::text, NULL::text, NULL::text, true, false, 0::bigint)$$,
    'source_info shows the local datasource with no server and no databases');

-- ------------------------------------------------------------ config tables
SELECT set_eq(
    $$SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'pg_datasource'$$,
    $$VALUES ('datasource.sources'::regclass::oid), ('datasource.databases'::regclass::oid),
             ('datasource.migrations'::regclass::oid), ('datasource.migrations_id_seq'::regclass::oid),
             ('datasource.ddl_log'::regclass::oid), ('datasource.ddl_log_id_seq'::regclass::oid),
             ('datasource.schema_snapshots'::regclass::oid), ('datasource.sandboxes'::regclass::oid)$$,
    'the registry, the journals, their sequences, the schema snapshots and the sandboxes are the extension''s configuration tables');
SELECT results_eq(
    $$SELECT c::regclass::text, cond COLLATE "default"
        FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(c, cond)
       WHERE e.extname = 'pg_datasource' ORDER BY 1$$,
    $$VALUES ('datasource.databases'::text, ''::text),
             ('datasource.ddl_log', ''), ('datasource.ddl_log_id_seq', ''),
             ('datasource.migrations', ''), ('datasource.migrations_id_seq', ''),
             ('datasource.sandboxes', ''),
             ('datasource.schema_snapshots', ''),
             ('datasource.sources', 'WHERE name OPERATOR(pg_catalog.<>) ''local''')$$,
    'pg_dump filters: every logical database, every journal row, every datasource except local');

-- the dump condition of sources, applied, keeps a registered datasource and
-- leaves out local
CREATE SERVER tap01_srv FOREIGN DATA WRAPPER pg_datasource
    OPTIONS (host '127.0.0.1', port '1', dbname 'tap');
SELECT is((datasource.create_source('tap01_branch', 'tap01_srv')).name, 'tap01_branch',
    'a remote datasource can be registered (registry only, no connection)');
SELECT results_eq(
    (SELECT 'SELECT name FROM datasource.sources ' || u.cond || ' ORDER BY name'
       FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(c, cond)
      WHERE e.extname = 'pg_datasource' AND u.c = 'datasource.sources'::regclass),
    $$VALUES ('tap01_branch'::text)$$,
    'the dump condition of sources selects the registered datasource and not local');
SELECT throws_ok($$DROP SERVER tap01_srv$$, '2BP01',
    'cannot drop server "tap01_srv" because datasource "tap01_branch" uses it',
    'DROP SERVER of a server a datasource uses is refused');
SELECT throws_ok($$DROP SERVER tap01_srv CASCADE$$, '2BP01', NULL,
    'DROP SERVER ... CASCADE of a server a datasource uses is refused');
CREATE SERVER tap01_unused FOREIGN DATA WRAPPER pg_datasource;
SELECT lives_ok($$DROP SERVER tap01_unused$$, 'a server no datasource uses can be dropped');
SELECT results_eq(
    $$SELECT name, server, host, port, dbname, enabled, read_only, databases
        FROM datasource.source_info WHERE name = 'tap01_branch'$$,
    $$VALUES ('tap01_branch'::text, 'tap01_srv'::text, '127.0.0.1'::text, '1'::text, 'tap'::text,
              true, false, 0::bigint)$$,
    'source_info shows the server''s host, port and dbname');

-- a logical database shows in database_info with its effective read-only flag
SELECT is((datasource.create_database('tap01_db', read_only => false)).schema_name, 'tap01_db',
    'create_database maps a logical database to a schema of the same name');
SELECT results_eq(
    $$SELECT writable, transactional FROM datasource.database_info$$,
    $$VALUES (true, true)$$,
    'database_info: a PostgreSQL logical database on a writable datasource is writable');
SELECT is((datasource.alter_source('local', read_only => true)).read_only, true,
    'the local datasource can be made read-only');
SELECT results_eq(
    $$SELECT name, source, schema_name, host, read_only, enabled FROM datasource.database_info$$,
    $$VALUES ('tap01_db'::text, 'local'::text, 'tap01_db'::text, NULL::text, true, true)$$,
    'database_info: a database on a read-only datasource is read-only');
SELECT is((SELECT databases FROM datasource.source_info WHERE name = 'local'), 1::bigint,
    'source_info counts the logical databases of a datasource');
SELECT results_eq(
    $$SELECT engine, local_schema, writable, transactional FROM datasource.database_info$$,
    $$VALUES ('postgresql'::text, NULL::text, false, true)$$,
    'database_info: a PostgreSQL logical database on a read-only datasource is transactional, has no local schema and is not writable');

-- the views' columns: the engine and capabilities are appended at the end
SELECT columns_are('datasource', 'source_info',
    ARRAY['name', 'server', 'host', 'port', 'dbname', 'enabled', 'read_only', 'databases',
          'description', 'engine'],
    'source_info has its columns, engine last');
SELECT columns_are('datasource', 'database_info',
    ARRAY['name', 'source', 'schema_name', 'host', 'port', 'dbname', 'read_only', 'enabled',
          'description', 'engine', 'local_schema', 'writable', 'transactional'],
    'database_info has its columns, the engine and capabilities last');
SELECT results_eq(
    $$SELECT name, engine FROM datasource.source_info ORDER BY name$$,
    $$VALUES ('local'::text, 'postgresql'::text), ('tap01_branch', 'postgresql')$$,
    'source_info: local and a server of pg_datasource are PostgreSQL datasources');

-- ------------------------------------------------------------ labels, comments, search_path
-- the volatility and PARALLEL label of every function: SAFE for what reads
-- only the catalogs, the registry and the journal or computes from its
-- arguments, RESTRICTED for what reads this backend's connections, UNSAFE
-- for what writes, runs SQL or opens connections.  A new function must be
-- added here with the label it was given.
SELECT results_eq(
    $$SELECT p.oid::regprocedure::text,
             CASE p.provolatile WHEN 'v' THEN 'volatile' WHEN 's' THEN 'stable' ELSE 'immutable' END,
             CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' ELSE 'unsafe' END
        FROM pg_proc p WHERE p.pronamespace = 'datasource'::regnamespace
       ORDER BY p.oid::regprocedure::text COLLATE "C"$$,
    $$VALUES ('datasource.accept_checksum(text,text,text)', 'volatile', 'unsafe'),
             ('datasource.adopt_drizzle(text,text)', 'volatile', 'unsafe'),
             ('datasource.alter_database(text,text,text,boolean,text)', 'volatile', 'unsafe'),
             ('datasource.alter_source(text,text,boolean,boolean,text)', 'volatile', 'unsafe'),
             ('datasource.apply_config(jsonb,boolean)', 'volatile', 'unsafe'),
             ('datasource.baseline(text,text,text)', 'volatile', 'unsafe'),
             ('datasource.connections()', 'volatile', 'restricted'),
             ('datasource.create_database(text,text,text,boolean,boolean,text)', 'volatile', 'unsafe'),
             ('datasource.create_source(text,text,boolean,text)', 'volatile', 'unsafe'),
             ('datasource.database_stats_rows()', 'volatile', 'restricted'),
             ('datasource.describe(text)', 'volatile', 'unsafe'),
             ('datasource.diff(jsonb,jsonb)', 'immutable', 'safe'),
             ('datasource.diff(text,text)', 'volatile', 'unsafe'),
             ('datasource.diff_column(jsonb)', 'immutable', 'safe'),
             ('datasource.diff_depths(jsonb,text)', 'immutable', 'safe'),
             ('datasource.diff_steps(jsonb,jsonb)', 'immutable', 'safe'),
             ('datasource.disconnect(text)', 'volatile', 'unsafe'),
             ('datasource.drift(text)', 'volatile', 'unsafe'),
             ('datasource.drop_database(text,boolean)', 'volatile', 'unsafe'),
             ('datasource.drop_sandbox(regrole)', 'volatile', 'unsafe'),
             ('datasource.drop_source(text,boolean)', 'volatile', 'unsafe'),
             ('datasource.exec(text,text)', 'volatile', 'unsafe'),
             ('datasource.execute(text,text,integer,boolean)', 'volatile', 'unsafe'),
             ('datasource.export_config()', 'stable', 'safe'),
             ('datasource.fingerprint(jsonb)', 'immutable', 'safe'),
             ('datasource.fingerprint(text)', 'volatile', 'unsafe'),
             ('datasource.fleet_status(jsonb,boolean)', 'volatile', 'unsafe'),
             ('datasource.guard_server_drop()', 'volatile', 'unsafe'),
             ('datasource.health_check(text)', 'volatile', 'unsafe'),
             ('datasource.json_schema(text,text)', 'volatile', 'unsafe'),
             ('datasource.log_ddl()', 'volatile', 'unsafe'),
             ('datasource.migrate(text,text,text,text,text)', 'volatile', 'unsafe'),
             ('datasource.migrate_all(text,text,text[],text,text,boolean,integer,boolean,boolean,text[],jsonb)', 'volatile', 'unsafe'),
             ('datasource.migrate_waves(text,text,text[],integer,text[],text,text,integer,boolean,jsonb,integer,integer,integer,integer,integer,integer,integer)', 'volatile', 'unsafe'),
             ('datasource.migration_progress_rows()', 'volatile', 'restricted'),
             ('datasource.pending(text,jsonb)', 'stable', 'safe'),
             ('datasource.pg_datasource_validator(text[],oid)', 'volatile', 'safe'),
             ('datasource.query(text,text,text[])', 'volatile', 'unsafe'),
             ('datasource.query_json(text,text,text[])', 'volatile', 'unsafe'),
             ('datasource.refresh_database(text,boolean)', 'volatile', 'unsafe'),
             ('datasource.registry_changed()', 'volatile', 'unsafe'),
             ('datasource.rename_database(text,text)', 'volatile', 'unsafe'),
             ('datasource.reset_database_stats(text)', 'volatile', 'unsafe'),
             ('datasource.reset_source_stats(text)', 'volatile', 'unsafe'),
             ('datasource.resolve_transactions(text)', 'volatile', 'unsafe'),
             ('datasource.session_sandbox()', 'stable', 'restricted'),
             ('datasource.set_sandbox(regrole,text[],boolean,text)', 'volatile', 'unsafe'),
             ('datasource.source_stats_rows()', 'volatile', 'restricted'),
             ('datasource.statement_cache()', 'volatile', 'restricted'),
             ('datasource.statement_stats_rows()', 'volatile', 'restricted'),
             ('datasource.validate(text,text,boolean)', 'stable', 'safe'),
             ('datasource.validate_databases(text[])', 'stable', 'safe')$$,
    'every function has the volatility and PARALLEL label its work calls for');
SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text COLLATE "C")
       FROM pg_proc p
      WHERE p.pronamespace = 'datasource'::regnamespace
        AND obj_description(p.oid, 'pg_proc') IS NULL),
    NULL, 'every function in schema datasource has a comment');
SELECT is(
    (SELECT array_agg(x ORDER BY x COLLATE "C") FROM (
        SELECT c.oid::regclass::text AS x FROM pg_class c
         WHERE c.relnamespace = 'datasource'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
           AND obj_description(c.oid, 'pg_class') IS NULL
        UNION ALL
        SELECT t.oid::regtype::text FROM pg_type t
         WHERE t.typnamespace = 'datasource'::regnamespace AND t.typtype IN ('c', 'd', 'e', 'r')
           AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
           AND obj_description(t.oid, 'pg_type') IS NULL) s),
    NULL, 'every table, view and type in schema datasource has a comment');
SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text COLLATE "C")
       FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
      WHERE p.pronamespace = 'datasource'::regnamespace AND l.lanname <> 'c'
        AND p.proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp']),
    NULL, 'every SQL and PL/pgSQL function pins search_path to pg_catalog, pg_temp');

-- ------------------------------------------------------------ parallel-safe functions in a worker
-- force_parallel_mode puts a Gather over a query whose functions are all
-- PARALLEL SAFE, so each of them runs in a parallel worker here: it must
-- work there (no error), and a worker must have run it.
CREATE FUNCTION pg_temp.in_worker(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    launched text := 'no Gather in the plan';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
        IF line ~ 'Workers Launched' THEN
            launched := btrim(line);
        END IF;
    END LOOP;
    RETURN launched;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SET LOCAL force_parallel_mode = on;
SELECT is(pg_temp.in_worker(q), 'Workers Launched: 1', 'runs in a parallel worker: ' || q)
  FROM (VALUES
    ($q$SELECT datasource.pg_datasource_validator(ARRAY['host=h'], 'pg_foreign_server'::regclass)$q$),
    ($q$SELECT * FROM datasource.validate_databases(ARRAY['tap01_db'])$q$),
    ($q$SELECT datasource.export_config()$q$),
    ($q$SELECT * FROM datasource.validate('SELECT * FROM t', 'tap01_db')$q$),
    ($q$SELECT * FROM datasource.pending('tap01_db', '[{"version": "1"}]')$q$),
    ($q$SELECT datasource.fingerprint('{}'::jsonb)$q$),
    ($q$SELECT * FROM datasource.diff_depths('{"a": {}}', 'depends_on')$q$),
    ($q$SELECT datasource.diff_column('{"name": "a", "type": "integer"}')$q$),
    ($q$SELECT * FROM datasource.diff_steps('{}', '{"sequences": {"s": {"type": "bigint"}}}')$q$),
    ($q$SELECT * FROM datasource.diff('{}'::jsonb, '{"sequences": {"s": {"type": "bigint"}}}'::jsonb)$q$)) AS v (q);
RESET force_parallel_mode;
SELECT is(
    (SELECT count(*)::int FROM pg_proc p
      WHERE p.pronamespace = 'datasource'::regnamespace AND p.proparallel = 's'),
    10, 'the ten PARALLEL SAFE functions are the ones run in a worker above');

SELECT * FROM finish();
ROLLBACK;
