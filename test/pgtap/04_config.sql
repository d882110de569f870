-- 04_config: export_config and apply_config.
--
-- The export's shape; dry runs change nothing; an export applied to an
-- emptied registry reproduces it exactly and a second apply does nothing;
-- absent sections are left alone and present ones are authoritative; bad
-- documents raise 22023 and change nothing; a failure late in a plan undoes
-- its earlier steps.
--
-- Remote datasources point at 127.0.0.1 port 1 where nothing listens;
-- nothing here needs a connection (logical databases are all local).
BEGIN;
SELECT plan(173);


-- ------------------------------------------------------------ fixture
CREATE SERVER tap04_srv FOREIGN DATA WRAPPER pg_datasource
    OPTIONS (host '127.0.0.1', port '1', dbname 'bank', connect_timeout '2');
CREATE SERVER tap04_srv2 FOREIGN DATA WRAPPER pg_datasource
    OPTIONS (host '127.0.0.2', port '1');
CREATE SERVER tap04_unused FOREIGN DATA WRAPPER pg_datasource
    OPTIONS (host '127.0.0.3');
CREATE USER MAPPING FOR CURRENT_USER SERVER tap04_srv
    OPTIONS (user 'tap04_user', password 'tap04_s3cret');
CREATE SCHEMA tap04_adopted;
DO $$ BEGIN
    PERFORM datasource.create_source('tap04_branch', 'tap04_srv', read_only => true,
                                     description => 'branch "office"; it''s remote');
    PERFORM datasource.create_source('tap04_off', 'tap04_srv2');
    PERFORM datasource.alter_source('tap04_off', enabled => false);
    PERFORM datasource.alter_source('local', description => E'this database\nsecond line');
    PERFORM datasource.create_database('tap04_customers', description => 'customers');
    PERFORM datasource.create_database('tap04_accounts', schema_name => 'tap04_acct', read_only => true);
    PERFORM datasource.create_database('tap04_legacy', schema_name => 'tap04_adopted', create_schema => false);
END $$;

CREATE FUNCTION pg_temp.snap() RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'sources', (SELECT jsonb_agg(to_jsonb(s) ORDER BY s.name) FROM datasource.sources s),
        'databases', (SELECT jsonb_agg(to_jsonb(d) ORDER BY d.name) FROM datasource.databases d),
        'schemas', (SELECT jsonb_agg(n.nspname::text ORDER BY n.nspname) FROM pg_namespace n
                     WHERE n.nspname !~ '^pg_(toast_)?temp_'),
        'servers', (SELECT jsonb_agg(jsonb_build_array(f.srvname::text, f.srvoptions, f.srvfdw)
                                     ORDER BY f.srvname) FROM pg_foreign_server f),
        'mappings', (SELECT jsonb_agg(jsonb_build_array(m.srvname::text, m.usename::text, m.umoptions)
                                      ORDER BY m.srvname, m.usename) FROM pg_user_mappings m))
$$;

CREATE TEMP TABLE saved (k text PRIMARY KEY, v jsonb);
INSERT INTO saved VALUES ('cfg', datasource.export_config()), ('snap', pg_temp.snap());

-- ------------------------------------------------------------ export shape
SELECT is(jsonb_typeof((SELECT v FROM saved WHERE k = 'cfg')), 'object', 'export is a JSON object');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys((SELECT v FROM saved WHERE k = 'cfg')) k),
    ARRAY['databases', 'format', 'servers', 'sources', 'version'],
    'export has exactly the keys format, version, servers, sources, databases');
SELECT is((SELECT v -> 'format' FROM saved WHERE k = 'cfg'), '"pg_datasource"'::jsonb,
    'format is the string "pg_datasource"');
SELECT is((SELECT v -> 'version' FROM saved WHERE k = 'cfg'), '1'::jsonb, 'version is the number 1');
SELECT is((SELECT jsonb_typeof(v -> 'servers') FROM saved WHERE k = 'cfg'), 'array', 'servers is an array');
SELECT is((SELECT jsonb_typeof(v -> 'sources') FROM saved WHERE k = 'cfg'), 'array', 'sources is an array');
SELECT is((SELECT jsonb_typeof(v -> 'databases') FROM saved WHERE k = 'cfg'), 'array', 'databases is an array');

-- servers: the ones the datasources use, sorted, with their options and nothing else
SELECT is((SELECT v -> 'servers' FROM saved WHERE k = 'cfg'),
    '[{"name": "tap04_srv", "options": {"host": "127.0.0.1", "port": "1", "dbname": "bank", "connect_timeout": "2"}},
      {"name": "tap04_srv2", "options": {"host": "127.0.0.2", "port": "1"}}]'::jsonb,
    'servers: the two used servers, sorted by name, with their options');
SELECT is((SELECT count(*)::int FROM saved, jsonb_array_elements(v -> 'servers') e
            WHERE k = 'cfg' AND e ->> 'name' = 'tap04_unused'), 0,
    'a server no datasource uses is not exported');
SELECT is(position('tap04_s3cret' IN (SELECT v::text FROM saved WHERE k = 'cfg')), 0,
    'the user mapping''s password is never exported');
SELECT is(position('tap04_user' IN (SELECT v::text FROM saved WHERE k = 'cfg')), 0,
    'the user mapping''s user is never exported');

-- sources
SELECT is((SELECT array_agg(e ->> 'name' ORDER BY i) FROM saved,
                  jsonb_array_elements(v -> 'sources') WITH ORDINALITY AS x(e, i) WHERE k = 'cfg'),
    ARRAY['local', 'tap04_branch', 'tap04_off'], 'sources: every datasource, sorted by name');
SELECT is((SELECT array_agg(DISTINCT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(e) k)::text)
             FROM saved, jsonb_array_elements(v -> 'sources') e WHERE k = 'cfg'),
    ARRAY['{description,enabled,name,read_only,server}'],
    'sources: every element has exactly name, server, enabled, read_only, description');
SELECT is((SELECT v -> 'sources' -> 0 FROM saved WHERE k = 'cfg'),
    jsonb_build_object('name', 'local', 'server', NULL, 'enabled', true, 'read_only', false,
                       'description', E'this database\nsecond line'),
    'sources: local has a JSON null server and its description verbatim');
SELECT is((SELECT v -> 'sources' -> 1 FROM saved WHERE k = 'cfg'),
    jsonb_build_object('name', 'tap04_branch', 'server', 'tap04_srv', 'enabled', true, 'read_only', true,
                       'description', 'branch "office"; it''s remote'),
    'sources: a read-only remote datasource');
SELECT is((SELECT v -> 'sources' -> 2 FROM saved WHERE k = 'cfg'),
    '{"name": "tap04_off", "server": "tap04_srv2", "enabled": false, "read_only": false, "description": null}'::jsonb,
    'sources: a disabled datasource, description JSON null');
SELECT is((SELECT array_agg(DISTINCT jsonb_typeof(e -> 'enabled') || '/' || jsonb_typeof(e -> 'read_only'))
             FROM saved, jsonb_array_elements(v -> 'sources') e WHERE k = 'cfg'),
    ARRAY['boolean/boolean'], 'sources: enabled and read_only are JSON booleans');

-- databases
SELECT is((SELECT array_agg(e ->> 'name' ORDER BY i) FROM saved,
                  jsonb_array_elements(v -> 'databases') WITH ORDINALITY AS x(e, i) WHERE k = 'cfg'),
    ARRAY['tap04_accounts', 'tap04_customers', 'tap04_legacy'], 'databases: every logical database, sorted by name');
SELECT is((SELECT v -> 'databases' FROM saved WHERE k = 'cfg'),
    '[{"name": "tap04_accounts", "source": "local", "schema_name": "tap04_acct", "read_only": true, "description": null},
      {"name": "tap04_customers", "source": "local", "schema_name": "tap04_customers", "read_only": false, "description": "customers"},
      {"name": "tap04_legacy", "source": "local", "schema_name": "tap04_adopted", "read_only": false, "description": null}]'::jsonb,
    'databases: name, source, schema_name, read_only, description of each');
SELECT is(datasource.export_config(), (SELECT v FROM saved WHERE k = 'cfg'),
    'export_config is deterministic');
SELECT is(pg_temp.snap(), (SELECT v FROM saved WHERE k = 'snap'), 'export_config changes nothing');

-- ------------------------------------------------------------ the export applied to itself
SELECT is_empty($$SELECT * FROM datasource.apply_config((SELECT v FROM saved WHERE k = 'cfg'))$$,
    'applying the registry''s own export plans nothing');
SELECT is(pg_temp.snap(), (SELECT v FROM saved WHERE k = 'snap'), 'and changes nothing');
SELECT is_empty($$SELECT * FROM datasource.apply_config('{}')$$, 'an empty document plans nothing');
SELECT is_empty($$SELECT * FROM datasource.apply_config('{"format": "pg_datasource", "version": 1}')$$,
    'a document with only format and version plans nothing');
SELECT is(pg_temp.snap(), (SELECT v FROM saved WHERE k = 'snap'), 'documents without sections change nothing');

-- ------------------------------------------------------------ dry run
-- drift the registry, then look at the plan that brings it back
DO $$ BEGIN
    PERFORM datasource.drop_database('tap04_customers');
    PERFORM datasource.create_database('tap04_scratch');
    PERFORM datasource.alter_database('tap04_accounts', read_only => false, description => 'changed');
    PERFORM datasource.alter_source('tap04_branch', read_only => false);
    PERFORM datasource.alter_source('tap04_off', enabled => true);
END $$;
ALTER SERVER tap04_srv OPTIONS (SET host '10.0.0.9', DROP connect_timeout, ADD application_name 'x');
INSERT INTO saved VALUES ('drifted', pg_temp.snap()), ('drifted_cfg', datasource.export_config());

SELECT set_eq(
    $$SELECT action, object FROM datasource.apply_config((SELECT v FROM saved WHERE k = 'cfg'), dry_run => true)$$,
    $$VALUES ('alter', 'server tap04_srv'),
             ('alter', 'datasource tap04_branch'),
             ('alter', 'datasource tap04_off'),
             ('drop', 'logical database tap04_scratch'),
             ('alter', 'logical database tap04_accounts'),
             ('create', 'logical database tap04_customers')$$,
    'dry run: the plan has one action per difference');
SELECT is(pg_temp.snap(), (SELECT v FROM saved WHERE k = 'drifted'), 'dry run: nothing changed');
SELECT is(datasource.export_config(), (SELECT v FROM saved WHERE k = 'drifted_cfg'),
    'dry run: the export is still the drifted one');
SELECT results_eq(
    $$SELECT action, object FROM datasource.apply_config((SELECT v FROM saved WHERE k = 'cfg'), dry_run => true)$$,
    $$VALUES ('alter', 'server tap04_srv'),
             ('alter', 'datasource tap04_branch'),
             ('alter', 'datasource tap04_off'),
             ('drop', 'logical database tap04_scratch'),
             ('alter', 'logical database tap04_accounts'),
             ('create', 'logical database tap04_customers')$$,
    'dry run: actions come in dependency order (servers, datasources, drops, alters, creates)');
SELECT is(
    (SELECT detail FROM datasource.apply_config((SELECT v FROM saved WHERE k = 'cfg'), dry_run => true)
      WHERE object = 'logical database tap04_scratch'),
    'schema tap04_scratch is kept', 'dry run: dropping a logical database keeps its schema');
SELECT is(pg_temp.snap(), (SELECT v FROM saved WHERE k = 'drifted'), 'repeated dry runs changed nothing');

-- the real apply carries the plan out
SELECT results_eq(
    $$SELECT action, object FROM datasource.apply_config((SELECT v FROM saved WHERE k = 'cfg'))$$,
    $$VALUES ('alter', 'server tap04_srv'),
             ('alter', 'datasource tap04_branch'),
             ('alter', 'datasource tap04_off'),
             ('drop', 'logical database tap04_scratch'),
             ('alter', 'logical database tap04_accounts'),
             ('create', 'logical database tap04_customers')$$,
    'apply: reports the same actions as the dry run');
SELECT is(datasource.export_config(), (SELECT v FROM saved WHERE k = 'cfg'),
    'apply: the export equals the original export again');
SELECT is((SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'tap04_srv'),
    ARRAY['host=127.0.0.1', 'port=1', 'dbname=bank', 'connect_timeout=2'],
    'apply: the server options are back (SET, ADD and DROP)');
SELECT has_schema('tap04_scratch', 'apply: the dropped logical database''s schema is kept');
SELECT is_empty($$SELECT * FROM datasource.apply_config((SELECT v FROM saved WHERE k = 'cfg'))$$,
    'apply: a second apply plans nothing');

-- ------------------------------------------------------------ round trip from an emptied registry
DO $$ BEGIN
    PERFORM datasource.drop_database('tap04_customers', drop_schema => true);
    PERFORM datasource.drop_database('tap04_accounts', drop_schema => true);
    PERFORM datasource.drop_database('tap04_legacy');   -- its schema stays and is adopted again
    PERFORM datasource.drop_source('tap04_branch');
    PERFORM datasource.drop_source('tap04_off');
    PERFORM datasource.alter_source('local', read_only => true, description => '');
END $$;
DROP SERVER tap04_srv2;
DROP USER MAPPING FOR CURRENT_USER SERVER tap04_srv;
DROP SERVER tap04_srv;
SELECT results_eq($$SELECT name, server, read_only, description FROM datasource.sources$$,
    $$VALUES ('local'::text, NULL::text, true, NULL::text)$$, 'emptied: only local is left, altered');
SELECT is_empty($$SELECT 1 FROM datasource.databases$$, 'emptied: no logical databases');
SELECT hasnt_schema('tap04_customers', 'emptied: schema tap04_customers is gone');
SELECT is_empty($$SELECT 1 FROM pg_foreign_server WHERE srvname IN ('tap04_srv', 'tap04_srv2')$$,
    'emptied: the servers are gone');

SELECT set_eq(
    $$SELECT action, object FROM datasource.apply_config((SELECT v FROM saved WHERE k = 'cfg'))$$,
    $$VALUES ('create', 'server tap04_srv'), ('create', 'server tap04_srv2'),
             ('alter', 'datasource local'),
             ('create', 'datasource tap04_branch'), ('create', 'datasource tap04_off'),
             ('create', 'logical database tap04_accounts'), ('create', 'logical database tap04_customers'),
             ('create', 'logical database tap04_legacy')$$,
    'round trip: apply creates servers, datasources and logical databases');
SELECT is(datasource.export_config(), (SELECT v FROM saved WHERE k = 'cfg'),
    'round trip: the export equals the original export exactly');
SELECT is_empty($$SELECT * FROM datasource.apply_config((SELECT v FROM saved WHERE k = 'cfg'))$$,
    'round trip: a second apply returns zero rows');
SELECT has_schema('tap04_customers', 'round trip: schema tap04_customers was created');
SELECT has_schema('tap04_acct', 'round trip: schema tap04_acct was created under its own name');
SELECT has_schema('tap04_adopted', 'round trip: the existing schema tap04_adopted was adopted');
SELECT is((SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'tap04_srv'),
    ARRAY['connect_timeout=2', 'dbname=bank', 'host=127.0.0.1', 'port=1'],
    'round trip: the server was created with its options');
SELECT is((SELECT fdwname::text FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
            WHERE s.srvname = 'tap04_srv2'), 'pg_datasource',
    'round trip: the server uses the pg_datasource wrapper');
SELECT is_empty($$SELECT 1 FROM pg_user_mappings WHERE srvname = 'tap04_srv'$$,
    'round trip: no user mapping was invented');
SELECT is((SELECT created_by FROM datasource.databases WHERE name = 'tap04_customers'), current_user::text,
    'round trip: created_by is the role that applied the document');

-- ------------------------------------------------------------ sections
INSERT INTO saved VALUES ('snap2', pg_temp.snap());
SELECT is_empty($$SELECT * FROM datasource.apply_config(jsonb_build_object('servers', '[]'::jsonb,
        'sources', (SELECT v -> 'sources' FROM saved WHERE k = 'cfg')))$$,
    'an empty servers section drops no server; listed datasources match');
SELECT is(pg_temp.snap(), (SELECT v FROM saved WHERE k = 'snap2'), 'and nothing changed');
SELECT results_eq(
    $$SELECT action, object, detail FROM datasource.apply_config('{"databases": []}', dry_run => true) ORDER BY object$$,
    $$VALUES ('drop'::text, 'logical database tap04_accounts'::text, 'schema tap04_acct is kept'::text),
             ('drop', 'logical database tap04_customers', 'schema tap04_customers is kept'),
             ('drop', 'logical database tap04_legacy', 'schema tap04_adopted is kept')$$,
    'an empty databases section is authoritative: every logical database would be dropped');
SELECT results_eq(
    $$SELECT action, object FROM datasource.apply_config('{"databases": [{"name": "tap04_customers", "description": "customers"}]}')
       ORDER BY object$$,
    $$VALUES ('drop'::text, 'logical database tap04_accounts'::text), ('drop', 'logical database tap04_legacy')$$,
    'a databases section drops the logical databases it does not list');
SELECT results_eq($$SELECT name FROM datasource.databases$$, $$VALUES ('tap04_customers'::text)$$,
    'only the listed logical database is left');
SELECT has_schema('tap04_acct', 'the dropped logical databases keep their schemas');
SELECT results_eq($$SELECT name FROM datasource.sources ORDER BY name$$,
    $$VALUES ('local'::text), ('tap04_branch'), ('tap04_off')$$,
    'an absent sources section leaves the datasources alone');
SELECT results_eq(
    $$SELECT action, object, detail FROM datasource.apply_config('{"sources": [{"name": "tap04_branch", "server": "tap04_srv", "read_only": true, "description": "branch \"office\"; it''s remote"}]}')$$,
    $$VALUES ('drop'::text, 'datasource tap04_off'::text, 'server tap04_srv2 is kept'::text)$$,
    'a sources section without local drops the unlisted datasource and leaves local alone');
SELECT results_eq($$SELECT name, read_only, description FROM datasource.sources ORDER BY name$$,
    $$VALUES ('local'::text, false, E'this database\nsecond line'::text),
             ('tap04_branch', true, 'branch "office"; it''s remote')$$,
    'local is kept unchanged, the unlisted datasource is dropped');
SELECT isnt_empty($$SELECT 1 FROM pg_foreign_server WHERE srvname = 'tap04_srv2'$$,
    'dropping a datasource keeps its foreign server');
SELECT results_eq(
    $$SELECT action, object, detail FROM datasource.apply_config('{"sources": [{"name": "tap04_new", "server": "tap04_srv2", "enabled": false, "read_only": true}]}')
       ORDER BY object$$,
    $$VALUES ('drop'::text, 'datasource tap04_branch'::text, 'server tap04_srv is kept'::text),
             ('create', 'datasource tap04_new', 'server: tap04_srv2, read_only: true, enabled: false')$$,
    'a new datasource is created from the document, the unlisted one dropped');
SELECT results_eq($$SELECT name, server, enabled, read_only FROM datasource.sources WHERE name = 'tap04_new'$$,
    $$VALUES ('tap04_new'::text, 'tap04_srv2'::text, false, true)$$,
    'it is created disabled and read-only as the document says');
SELECT results_eq(
    $$SELECT action, object FROM datasource.apply_config('{"servers": [{"name": "tap04_srv", "options": {"host": "10.1.1.1", "dbname": "bank"}}, {"name": "tap04_depot", "options": {"host": "127.0.0.1", "port": "1"}}]}')
       ORDER BY object$$,
    $$VALUES ('create'::text, 'server tap04_depot'::text), ('alter', 'server tap04_srv')$$,
    'servers in the document are created or brought in line');
SELECT is((SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'tap04_srv'),
    ARRAY['dbname=bank', 'host=10.1.1.1'], 'the altered server has exactly the document''s options');
SELECT is((SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'tap04_depot'),
    ARRAY['host=127.0.0.1', 'port=1'], 'the created server has the document''s options');

-- ------------------------------------------------------------ invalid documents
-- each raises 22023, in a dry run too, and changes nothing
CREATE TEMP TABLE bad_docs (ord int, label text, doc text);
INSERT INTO bad_docs VALUES
    ( 1, 'a JSON array', '[1, 2]'),
    ( 2, 'a JSON string', '"x"'),
    ( 3, 'JSON null', 'null'),
    ( 4, 'a wrong format', '{"format": "other"}'),
    ( 5, 'format not a string', '{"format": 1}'),
    ( 6, 'a wrong version', '{"version": 2}'),
    ( 7, 'version as a string', '{"version": "1"}'),
    ( 8, 'an unknown top-level key', '{"tables": []}'),
    ( 9, 'a section that is an object', '{"databases": {}}'),
    (10, 'a section that is a string', '{"sources": "local"}'),
    (11, 'a section that is null', '{"servers": null}'),
    (12, 'an element that is a number', '{"databases": [42]}'),
    (13, 'an element without a name', '{"databases": [{"schema_name": "x"}]}'),
    (14, 'a name that is a number', '{"databases": [{"name": 42}]}'),
    (15, 'a name that is null', '{"sources": [{"name": null, "server": "tap04_srv"}]}'),
    (16, 'an unknown key in an element', '{"databases": [{"name": "tap04_x", "owner": "bob"}]}'),
    (17, 'a boolean given as a string', '{"databases": [{"name": "tap04_x", "read_only": "yes"}]}'),
    (18, 'a boolean given as null', '{"sources": [{"name": "local", "enabled": null}]}'),
    (19, 'a boolean given as a number', '{"sources": [{"name": "local", "read_only": 1}]}'),
    (20, 'a description that is a number', '{"databases": [{"name": "tap04_x", "description": 5}]}'),
    (21, 'a source that is an array', '{"databases": [{"name": "tap04_x", "source": ["local"]}]}'),
    (22, 'a name twice', '{"databases": [{"name": "tap04_x"}, {"name": "tap04_x"}]}'),
    (23, 'a name twice among servers', '{"servers": [{"name": "tap04_srv"}, {"name": "tap04_srv"}]}'),
    (24, 'server options that are not an object', '{"servers": [{"name": "tap04_z", "options": "host=x"}]}'),
    (25, 'a server option that is a number', '{"servers": [{"name": "tap04_z", "options": {"port": 5432}}]}'),
    (26, 'an unknown key in a server', '{"servers": [{"name": "tap04_z", "user": "x"}]}'),
    (27, 'local with a server', '{"sources": [{"name": "local", "server": "tap04_srv"}]}'),
    (28, 'a good element before a bad one', '{"databases": [{"name": "tap04_fresh"}, {"name": "tap04_x", "read_only": "no"}]}'),
    (29, 'an unknown wrapper', '{"servers": [{"name": "tap04_z", "wrapper": "oracle_fdw"}]}'),
    (30, 'a wrapper that is a number', '{"servers": [{"name": "tap04_z", "wrapper": 1}]}'),
    (31, 'a local schema that is a number', '{"databases": [{"name": "tap04_x", "local_schema": 5}]}');

CREATE FUNCTION pg_temp.run_bad_docs() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    d record;
    before jsonb;
BEGIN
    FOR d IN SELECT * FROM pg_temp.bad_docs ORDER BY ord LOOP
        before := pg_temp.snap();
        RETURN NEXT throws_ok(format('SELECT * FROM datasource.apply_config(%L::jsonb)', d.doc),
                              '22023', NULL, 'invalid document (' || d.label || ') -> 22023');
        RETURN NEXT throws_ok(format('SELECT * FROM datasource.apply_config(%L::jsonb, dry_run => true)', d.doc),
                              '22023', NULL, 'invalid document (' || d.label || '), dry run -> 22023');
        RETURN NEXT is(pg_temp.snap(), before, 'invalid document (' || d.label || '): nothing changed');
    END LOOP;
END $$;
SELECT * FROM pg_temp.run_bad_docs();

-- secrets in a document are refused by the wrapper's validator
INSERT INTO saved VALUES ('snap3', pg_temp.snap());
SELECT throws_ok($$SELECT * FROM datasource.apply_config('{"servers": [{"name": "tap04_z", "options": {"password": "x"}}]}')$$,
    'HV00D', NULL, 'a password in server options is refused (secrets belong on user mappings)');
SELECT throws_ok($$SELECT * FROM datasource.apply_config('{"servers": [{"name": "tap04_srv", "options": {"host": "x", "user": "x"}}]}')$$,
    'HV00D', NULL, 'a user in the options of an existing server is refused');
SELECT is(pg_temp.snap(), (SELECT v FROM saved WHERE k = 'snap3'), 'the refused secrets changed nothing');

-- a server never changes wrapper; a local schema is for MySQL logical databases only
SELECT throws_ok($$SELECT * FROM datasource.apply_config('{"servers": [{"name": "tap04_srv", "wrapper": "mysql_fdw", "options": {"host": "x"}}]}', dry_run => true)$$,
    '42809', NULL, 'a document giving an existing server another wrapper is refused in a dry run (42809)');
SELECT throws_ok($$SELECT * FROM datasource.apply_config('{"servers": [{"name": "tap04_srv", "wrapper": "mysql_fdw", "options": {"host": "x"}}]}')$$,
    '42809', NULL, 'a document giving an existing server another wrapper is refused (42809)');
SELECT throws_ok($$SELECT * FROM datasource.apply_config('{"databases": [{"name": "tap04_ls", "local_schema": "tap04_ls"}]}')$$,
    '22023', NULL, 'a local schema for a logical database on a PostgreSQL datasource is refused (22023)');
SELECT is(pg_temp.snap(), (SELECT v FROM saved WHERE k = 'snap3'), 'the refused wrapper change and local schema changed nothing');
SELECT hasnt_schema('tap04_ls', 'the refused local schema was not created');

-- ------------------------------------------------------------ a late failure undoes earlier steps
-- the plan: alter local, create server tap04_late, create datasource
-- tap04_late_src, create tap04_fresh (schema created) and then tap04_z_late,
-- whose schema already belongs to tap04_customers: the last step fails
SELECT results_eq(
    $$SELECT action, object FROM datasource.apply_config(
        '{"servers": [{"name": "tap04_late", "options": {"host": "127.0.0.1"}}],
          "sources": [{"name": "local", "description": "late"},
                      {"name": "tap04_new", "server": "tap04_srv2", "enabled": false, "read_only": true},
                      {"name": "tap04_late_src", "server": "tap04_late"}],
          "databases": [{"name": "tap04_customers", "description": "customers"}, {"name": "tap04_fresh"},
                        {"name": "tap04_z_late", "schema_name": "tap04_customers"}]}', dry_run => true)$$,
    $$VALUES ('create'::text, 'server tap04_late'::text), ('create', 'datasource tap04_late_src'),
             ('alter', 'datasource local'),
             ('create', 'logical database tap04_fresh'), ('create', 'logical database tap04_z_late')$$,
    'late failure: the dry run plans five steps, the failing one last');
SELECT throws_ok($$SELECT * FROM datasource.apply_config(
        '{"servers": [{"name": "tap04_late", "options": {"host": "127.0.0.1"}}],
          "sources": [{"name": "local", "description": "late"},
                      {"name": "tap04_new", "server": "tap04_srv2", "enabled": false, "read_only": true},
                      {"name": "tap04_late_src", "server": "tap04_late"}],
          "databases": [{"name": "tap04_customers", "description": "customers"}, {"name": "tap04_fresh"},
                        {"name": "tap04_z_late", "schema_name": "tap04_customers"}]}')$$,
    '42710', NULL, 'late failure: the last step fails with 42710');
SELECT is(pg_temp.snap(), (SELECT v FROM saved WHERE k = 'snap3'), 'late failure: nothing of the earlier steps is left');
SELECT hasnt_schema('tap04_fresh', 'late failure: the schema created by an earlier step is gone');
SELECT is_empty($$SELECT 1 FROM pg_foreign_server WHERE srvname = 'tap04_late'$$,
    'late failure: the server created by the first step is gone');
SELECT is((SELECT description FROM datasource.sources WHERE name = 'local'), E'this database\nsecond line',
    'late failure: the altered local datasource is unchanged');

SELECT * FROM finish();
ROLLBACK;
