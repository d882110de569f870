-- 03_bad_input: every registry function with NULL, empty, blank, upper-case,
-- oversized, reserved, keyword and hostile arguments, plus duplicates,
-- unknown objects, objects in use, missing schemas and foreign servers of
-- another wrapper.  Every failing call must raise the documented SQLSTATE,
-- and after it the registry, the schemas and the servers must be exactly as
-- they were before.  Free-text descriptions are stored verbatim.
--
-- The cases are rows of pg_temp.cases, generated from a list of bad values
-- crossed with every name argument of every function; pg_temp.run_cases()
-- runs them in order and emits, per case, a throws_ok and an is() on the
-- snapshot (and, for over-long names, one more is() that nothing was stored
-- under the truncated name).
BEGIN;
SELECT plan(1085);

-- ------------------------------------------------------------ fixture
-- Remote datasources point at 127.0.0.1 port 1 where nothing listens: the
-- registry-only operations used here never connect.
CREATE SERVER tap03_srv FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1');
CREATE SERVER tap03_srv2 FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1');
CREATE SERVER tap03_srv_free FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1');
CREATE FOREIGN DATA WRAPPER tap03_other_fdw;
CREATE SERVER tap03_other FOREIGN DATA WRAPPER tap03_other_fdw;
DO $$ BEGIN
    PERFORM datasource.create_source('tap03_branch', 'tap03_srv');
    PERFORM datasource.create_source('tap03_branch2', 'tap03_srv2');
    PERFORM datasource.create_database('tap03_db');
    PERFORM datasource.create_database('tap03_db2');
END $$;
CREATE SCHEMA tap03_free;
CREATE ROLE tap03_owner NOLOGIN;
ALTER SERVER tap03_srv2 OWNER TO tap03_owner;
-- a logical database on the remote datasource, written directly so that no
-- connection is needed: it makes tap03_branch "in use"
INSERT INTO datasource.databases (name, source, schema_name)
    VALUES ('tap03_remote_db', 'tap03_branch', 'tap03_remote_db');

-- The state a failing call must not change: both registry tables, every
-- schema name and every foreign server with its options.
CREATE FUNCTION pg_temp.snap() RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'sources', (SELECT jsonb_agg(to_jsonb(s) ORDER BY s.name) FROM datasource.sources s),
        'databases', (SELECT jsonb_agg(to_jsonb(d) ORDER BY d.name) FROM datasource.databases d),
        'schemas', (SELECT jsonb_agg(n.nspname::text ORDER BY n.nspname) FROM pg_namespace n
                     WHERE n.nspname !~ '^pg_(toast_)?temp_'),
        'servers', (SELECT jsonb_agg(jsonb_build_array(f.srvname::text, f.srvoptions, f.srvfdw)
                                     ORDER BY f.srvname) FROM pg_foreign_server f))
$$;

-- bad values and what each kind of name argument must answer:
--   st_name   datasource and logical database names (lower-case identifiers)
--   st_schema schema names (any name PostgreSQL accepts for a schema: upper
--             case, keywords, blanks, quotes, dots and other characters are
--             allowed, they are always quoted; NULL = the value is a valid
--             schema name; see 03_schema_names)
--   st_server server names (no reserved prefixes either: NULL = valid)
CREATE TEMP TABLE bad (ord int, label text, val text, st_name text, st_schema text, st_server text);
INSERT INTO bad VALUES
    ( 1, 'empty',                   '',                          '42602', '42602', '42602'),
    ( 2, 'blanks',                  '   ',                       '42602', NULL,    '42602'),
    ( 3, 'upper case',              'Tap03_Upper',               '42602', NULL,    NULL),
    ( 4, '64 bytes',                repeat('a', 64),             '42622', '42622', '42622'),
    ( 5, '64 bytes of multibyte',   repeat('é', 32),             '42622', '42622', '42622'),
    ( 6, 'reserved pg_ prefix',     'pg_x',                      '42939', '42939', NULL),
    ( 7, 'reserved information_schema', 'information_schema',    '42939', '42939', NULL),
    ( 8, 'reserved datasource',     'datasource',                '42939', '42939', NULL),
    ( 9, 'keyword select',          'select',                    '42602', NULL,    NULL),
    (10, 'keyword table',           'table',                     '42602', NULL,    NULL),
    (11, 'SQL injection',           $v$x';DROP TABLE datasource.sources;--$v$, '42602', NULL,    '42602'),
    (12, 'double quote',            'a"b',                       '42602', NULL,    '42602'),
    (13, 'semicolon',               'a;b',                       '42602', NULL,    '42602'),
    (14, 'comment',                 'a--b',                      '42602', NULL,    '42602'),
    (15, 'newline',                 E'a\nb',                     '42602', NULL,    '42602'),
    (16, 'dollar quotes',           '$$x$$',                     '42602', NULL,    '42602'),
    (17, 'unicode',                 'café',                      '42602', NULL,    '42602'),
    (18, 'leading digit',           '1abc',                      '42602', NULL,    '42602'),
    (19, 'space',                   'a b',                       '42602', NULL,    '42602'),
    (20, 'dot (qualified)',         'public.x',                  '42602', NULL,    '42602'),
    (21, 'tab',                     E'a\tb',                     '42602', NULL,    '42602'),
    (22, 'backslash',               'a\b',                       '42602', NULL,    '42602');

-- every name argument of every function: the SQL (%s is the argument as a
-- SQL literal, or @ is the argument as a JSON value in the document), how
-- the argument is judged, and what NULL must give (no row: NULL means
-- "unchanged" or "default" and is tested separately below)
CREATE TEMP TABLE target (ord int, fn text, arg text, sql text, doc text,
                          kind text, null_state text);
INSERT INTO target VALUES
    ( 1, 'create_source', 'name',
         $s$SELECT datasource.create_source(%s, 'tap03_srv_free')$s$, NULL, 'name', '22004'),
    ( 2, 'create_source', 'server',
         $s$SELECT datasource.create_source('tap03_new', %s)$s$, NULL, 'server_ref', '22004'),
    ( 3, 'alter_source', 'name',
         $s$SELECT datasource.alter_source(%s, read_only => true)$s$, NULL, 'name', '22004'),
    ( 4, 'alter_source', 'server',
         $s$SELECT datasource.alter_source('tap03_branch', server => %s)$s$, NULL, 'server_ref', NULL),
    ( 5, 'drop_source', 'name',
         $s$SELECT datasource.drop_source(%s)$s$, NULL, 'name', '22004'),
    ( 6, 'create_database', 'name',
         $s$SELECT datasource.create_database(%s)$s$, NULL, 'name', '22004'),
    ( 7, 'create_database', 'source',
         $s$SELECT datasource.create_database('tap03_new_db', source => %s)$s$, NULL, 'name', '22004'),
    ( 8, 'create_database', 'schema_name',
         $s$SELECT datasource.create_database('tap03_new_db', schema_name => %s)$s$, NULL, 'schema_new', NULL),
    ( 9, 'alter_database', 'name',
         $s$SELECT datasource.alter_database(%s, read_only => true)$s$, NULL, 'name', '22004'),
    (10, 'alter_database', 'source',
         $s$SELECT datasource.alter_database('tap03_db', source => %s)$s$, NULL, 'name', NULL),
    (11, 'alter_database', 'schema_name',
         $s$SELECT datasource.alter_database('tap03_db', schema_name => %s)$s$, NULL, 'schema_ref', NULL),
    (12, 'rename_database', 'name',
         $s$SELECT datasource.rename_database(%s, 'tap03_new_db')$s$, NULL, 'name', '22004'),
    (13, 'rename_database', 'new_name',
         $s$SELECT datasource.rename_database('tap03_db', %s)$s$, NULL, 'name', '22004'),
    (14, 'drop_database', 'name',
         $s$SELECT datasource.drop_database(%s)$s$, NULL, 'name', '22004'),
    (15, 'apply_config', 'servers[].name',
         $s$SELECT * FROM datasource.apply_config(%s)$s$,
         '{"servers": [{"name": @, "options": {"host": "127.0.0.1", "port": "1"}}]}', 'server_new', '22023'),
    (16, 'apply_config', 'sources[].name',
         $s$SELECT * FROM datasource.apply_config(%s)$s$,
         '{"sources": [{"name": @, "server": "tap03_srv_free"}]}', 'name', '22023'),
    (17, 'apply_config', 'sources[].server',
         $s$SELECT * FROM datasource.apply_config(%s)$s$,
         '{"sources": [{"name": "tap03_new", "server": @}]}', 'server_ref', NULL),
    (18, 'apply_config', 'databases[].name',
         $s$SELECT * FROM datasource.apply_config(%s)$s$,
         '{"databases": [{"name": @}]}', 'name', '22023'),
    (19, 'apply_config', 'databases[].source',
         $s$SELECT * FROM datasource.apply_config(%s)$s$,
         '{"databases": [{"name": "tap03_new_db", "source": @}]}', 'name', NULL),
    (20, 'apply_config', 'databases[].schema_name',
         $s$SELECT * FROM datasource.apply_config(%s)$s$,
         '{"databases": [{"name": "tap03_new_db", "schema_name": @}]}', 'schema_new', NULL),
    (21, 'apply_config (dry run)', 'databases[].name',
         $s$SELECT * FROM datasource.apply_config(%s, dry_run => true)$s$,
         '{"databases": [{"name": @}]}', 'name', '22023');

-- a literal for the value in the function's SQL
CREATE FUNCTION pg_temp.render(t target, v text) RETURNS text LANGUAGE sql AS $$
    SELECT format(t.sql, CASE WHEN t.doc IS NULL THEN quote_nullable(v)
                              ELSE quote_literal(replace(t.doc, '@', coalesce(to_jsonb(v)::text, 'null')))
                                   || '::jsonb' END)
$$;

CREATE TEMP TABLE cases (id serial, sql text, state text, msg text, descr text, prefix text);

-- NULL for every required argument
INSERT INTO cases (sql, state, msg, descr)
SELECT pg_temp.render(t, NULL), t.null_state,
       CASE WHEN t.doc IS NULL THEN format('argument "%s" must not be null', t.arg) END,
       format('%s: NULL %s -> %s', t.fn, t.arg, t.null_state)
  FROM target t WHERE t.null_state IS NOT NULL ORDER BY t.ord;

-- every bad value for every name argument
INSERT INTO cases (sql, state, descr, prefix)
SELECT pg_temp.render(t, b.val), x.state,
       format('%s: %s %s -> %s', t.fn, b.label, t.arg, x.state),
       CASE WHEN x.state = '42622' THEN left(b.val, 63) END
  FROM target t CROSS JOIN bad b
 CROSS JOIN LATERAL (SELECT CASE t.kind
        WHEN 'name' THEN b.st_name
        WHEN 'server_ref' THEN coalesce(b.st_server, '42704')   -- valid but unknown
        WHEN 'server_new' THEN b.st_server                      -- valid: would be created
        WHEN 'schema_ref' THEN coalesce(b.st_schema, '3F000')   -- valid but missing
        WHEN 'schema_new' THEN b.st_schema                      -- valid: would be created
     END AS state) x
 WHERE x.state IS NOT NULL
 ORDER BY t.ord, b.ord;

-- NULL booleans, NULL arrays and elements, and the semantic errors
INSERT INTO cases (sql, state, msg, descr) VALUES
    ($$SELECT datasource.create_source('tap03_new', 'tap03_srv_free', read_only => NULL)$$, '22004',
        'argument "read_only" must not be null', 'create_source: NULL read_only -> 22004'),
    ($$SELECT datasource.drop_source('tap03_branch2', cascade => NULL)$$, '22004',
        'argument "cascade" must not be null', 'drop_source: NULL cascade -> 22004'),
    ($$SELECT datasource.create_database('tap03_new_db', create_schema => NULL)$$, '22004',
        'argument "create_schema" must not be null', 'create_database: NULL create_schema -> 22004'),
    ($$SELECT datasource.create_database('tap03_new_db', read_only => NULL)$$, '22004',
        'argument "read_only" must not be null', 'create_database: NULL read_only -> 22004'),
    ($$SELECT datasource.drop_database('tap03_db', drop_schema => NULL)$$, '22004',
        'argument "drop_schema" must not be null', 'drop_database: NULL drop_schema -> 22004'),
    ($$SELECT * FROM datasource.apply_config(NULL)$$, '22004',
        'argument "config" must not be null', 'apply_config: NULL config -> 22004'),
    ($$SELECT * FROM datasource.apply_config('{}', NULL)$$, '22004',
        'argument "dry_run" must not be null', 'apply_config: NULL dry_run -> 22004'),
    ($$SELECT * FROM datasource.validate_databases(NULL)$$, '22004',
        'argument "names" must not be null', 'validate_databases: NULL array -> 22004'),
    ($$SELECT * FROM datasource.validate_databases(ARRAY['tap03_db', NULL])$$, '22004',
        NULL, 'validate_databases: NULL element -> 22004'),
    ($$SELECT * FROM datasource.validate_databases(ARRAY[NULL]::text[])$$, '22004',
        NULL, 'validate_databases: only a NULL element -> 22004'),
    -- duplicates
    ($$SELECT datasource.create_source('tap03_branch', 'tap03_srv_free')$$, '42710', NULL,
        'create_source: existing datasource name -> 42710'),
    ($$SELECT datasource.create_source('local', 'tap03_srv_free')$$, '42710', NULL,
        'create_source: local -> 42710'),
    ($$SELECT datasource.create_source('tap03_new', 'tap03_srv')$$, '42710', NULL,
        'create_source: server already registered -> 42710'),
    ($$SELECT datasource.alter_source('tap03_branch2', server => 'tap03_srv')$$, '42710', NULL,
        'alter_source: server of another datasource -> 42710'),
    ($$SELECT datasource.create_database('tap03_db')$$, '42710', NULL,
        'create_database: existing name -> 42710'),
    ($$SELECT datasource.create_database('tap03_new_db', schema_name => 'tap03_db')$$, '42710', NULL,
        'create_database: schema of another logical database -> 42710'),
    ($$SELECT datasource.alter_database('tap03_db2', schema_name => 'tap03_db')$$, '42710', NULL,
        'alter_database: schema of another logical database -> 42710'),
    ($$SELECT datasource.rename_database('tap03_db', 'tap03_db2')$$, '42710', NULL,
        'rename_database: to an existing name -> 42710'),
    ($$SELECT * FROM datasource.apply_config('{"databases": [{"name": "tap03_x"}, {"name": "tap03_x"}]}')$$,
        '22023', NULL, 'apply_config: a name twice in a section -> 22023'),
    -- unknown objects
    ($$SELECT datasource.alter_source('tap03_nowhere', read_only => true)$$, '42704', NULL,
        'alter_source: unknown datasource -> 42704'),
    ($$SELECT datasource.drop_source('tap03_nowhere')$$, '42704', NULL,
        'drop_source: unknown datasource -> 42704'),
    ($$SELECT datasource.create_source('tap03_new', 'tap03_no_such_server')$$, '42704', NULL,
        'create_source: unknown server -> 42704'),
    ($$SELECT datasource.alter_source('tap03_branch', server => 'tap03_no_such_server')$$, '42704', NULL,
        'alter_source: unknown server -> 42704'),
    ($$SELECT datasource.create_database('tap03_new_db', source => 'tap03_nowhere')$$, '42704', NULL,
        'create_database: unknown datasource -> 42704'),
    ($$SELECT datasource.alter_database('tap03_nope', read_only => true)$$, '42704', NULL,
        'alter_database: unknown logical database -> 42704'),
    ($$SELECT datasource.alter_database('tap03_db', source => 'tap03_nowhere')$$, '42704', NULL,
        'alter_database: unknown datasource -> 42704'),
    ($$SELECT datasource.rename_database('tap03_nope', 'tap03_other_db')$$, '42704', NULL,
        'rename_database: unknown logical database -> 42704'),
    ($$SELECT datasource.drop_database('tap03_nope')$$, '42704', NULL,
        'drop_database: unknown logical database -> 42704'),
    ($$SELECT datasource.drop_database('tap03_nope', drop_schema => true)$$, '42704', NULL,
        'drop_database: unknown logical database with drop_schema -> 42704'),
    ($$SELECT * FROM datasource.apply_config('{"databases": [{"name": "tap03_db"}, {"name": "tap03_db2"}, {"name": "tap03_remote_db", "source": "tap03_branch"}, {"name": "tap03_new_db", "source": "tap03_nowhere"}]}')$$,
        '42704', NULL, 'apply_config: a logical database on an unknown datasource -> 42704'),
    ($$SELECT * FROM datasource.apply_config('{"sources": [{"name": "local"}, {"name": "tap03_branch", "server": "tap03_srv"}, {"name": "tap03_branch2", "server": "tap03_srv2"}, {"name": "tap03_new", "server": "tap03_no_such_server"}]}')$$,
        '42704', NULL, 'apply_config: a datasource on an unknown server -> 42704'),
    -- in use, or never droppable
    ($$SELECT datasource.drop_source('tap03_branch')$$, '2BP01', NULL,
        'drop_source: datasource with logical databases -> 2BP01'),
    ($$SELECT datasource.drop_source('tap03_branch', cascade => false)$$, '2BP01', NULL,
        'drop_source: datasource with logical databases, cascade false -> 2BP01'),
    ($$SELECT datasource.drop_source('local')$$, '2BP01', NULL,
        'drop_source: local -> 2BP01'),
    ($$SELECT datasource.drop_source('local', cascade => true)$$, '2BP01', NULL,
        'drop_source: local, even with cascade -> 2BP01'),
    ($$SELECT * FROM datasource.apply_config('{"sources": [{"name": "local", "description": "this database"}, {"name": "tap03_branch2", "server": "tap03_srv2"}]}')$$,
        '2BP01', NULL, 'apply_config: dropping a datasource in use -> 2BP01'),
    -- missing schemas
    ($$SELECT datasource.create_database('tap03_new_db', create_schema => false)$$, '3F000', NULL,
        'create_database: missing schema with create_schema => false -> 3F000'),
    ($$SELECT datasource.create_database('tap03_new_db', schema_name => 'tap03_no_schema', create_schema => false)$$,
        '3F000', NULL, 'create_database: missing explicit schema with create_schema => false -> 3F000'),
    ($$SELECT datasource.alter_database('tap03_db', schema_name => 'tap03_no_schema')$$, '3F000', NULL,
        'alter_database: remap to a missing schema -> 3F000'),
    -- servers of another wrapper, local with a server
    ($$SELECT datasource.create_source('tap03_new', 'tap03_other')$$, '42809', NULL,
        'create_source: server of another wrapper -> 42809'),
    ($$SELECT datasource.alter_source('tap03_branch', server => 'tap03_other')$$, '42809', NULL,
        'alter_source: server of another wrapper -> 42809'),
    ($$SELECT * FROM datasource.apply_config('{"servers": [{"name": "tap03_other", "options": {"host": "x"}}]}')$$,
        '42809', NULL, 'apply_config: server of another wrapper -> 42809'),
    ($$SELECT * FROM datasource.apply_config('{"servers": [{"name": "tap03_other", "options": {"host": "x"}}]}', dry_run => true)$$,
        '42809', NULL, 'apply_config (dry run): server of another wrapper -> 42809'),
    ($$SELECT datasource.alter_source('local', server => 'tap03_srv_free')$$, '22023', NULL,
        'alter_source: local with a server -> 22023'),
    ($$SELECT * FROM datasource.apply_config('{"sources": [{"name": "local", "server": "tap03_srv_free"}]}')$$,
        '22023', NULL, 'apply_config: local with a server -> 22023'),
    -- a foreign server a datasource uses cannot be dropped from under it
    ($$DROP SERVER tap03_srv$$, '2BP01', NULL, 'DROP SERVER of a server in use -> 2BP01'),
    ($$DROP SERVER IF EXISTS tap03_srv CASCADE$$, '2BP01', NULL, 'DROP SERVER IF EXISTS ... CASCADE of a server in use -> 2BP01'),
    ($$DROP SERVER tap03_srv_free, tap03_srv2$$, '2BP01', NULL,
        'DROP SERVER of an unused and a used server -> 2BP01, neither dropped'),
    ($$DROP OWNED BY tap03_owner$$, '2BP01', NULL, 'DROP OWNED BY the owner of a server in use -> 2BP01'),
    ($$DROP FOREIGN DATA WRAPPER pg_datasource CASCADE$$, '2BP01', NULL,
        'DROP FOREIGN DATA WRAPPER pg_datasource CASCADE -> 2BP01'),
    -- a disabled remote datasource is refused before any connection
    ($$SELECT datasource.create_database('tap03_new_db', source => 'tap03_branch2')$$, '55000', NULL,
        'create_database on a disabled remote datasource -> 55000');

-- runs the cases in order
CREATE FUNCTION pg_temp.run_cases() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    c record;
    before jsonb;
BEGIN
    FOR c IN SELECT * FROM pg_temp.cases ORDER BY id LOOP
        before := pg_temp.snap();
        RETURN NEXT throws_ok(c.sql, c.state, c.msg, c.descr);
        RETURN NEXT is(pg_temp.snap(), before, c.descr || ': nothing changed');
        IF c.prefix IS NOT NULL THEN
            RETURN NEXT is(
                (SELECT count(*)::int FROM (
                    SELECT name FROM datasource.sources WHERE name = c.prefix OR server = c.prefix
                    UNION ALL SELECT name FROM datasource.databases WHERE name = c.prefix OR schema_name = c.prefix
                    UNION ALL SELECT nspname::text FROM pg_namespace WHERE nspname = c.prefix
                    UNION ALL SELECT srvname::text FROM pg_foreign_server WHERE srvname = c.prefix) x),
                0, c.descr || ': nothing stored under the 63-byte prefix');
        END IF;
    END LOOP;
END $$;

-- the disabled datasource of the last case
SELECT is((datasource.alter_source('tap03_branch2', enabled => false)).enabled, false,
    'fixture: tap03_branch2 disabled');
SELECT is((SELECT count(*)::int FROM pg_temp.cases), 489, 'fixture: 489 failing cases generated');

SELECT * FROM pg_temp.run_cases();

-- ------------------------------------------------------------ valid edge cases
-- 63 bytes is the limit, kept in full
SELECT is(length((datasource.create_database(repeat('d', 63))).name), 63,
    'a 63-byte logical database name is accepted');
SELECT is((SELECT schema_name FROM datasource.databases WHERE name = repeat('d', 63)), repeat('d', 63),
    'its schema name is the full 63-byte name');
SELECT has_schema(repeat('d', 63), 'the 63-byte schema exists');
SELECT is(length((datasource.rename_database(repeat('d', 63), repeat('e', 63))).name), 63,
    'rename_database accepts a 63-byte new name');
-- schema names may be upper case or keywords: they are quoted, never folded
SELECT is((datasource.create_database('tap03_mixed', schema_name => 'Tap03_Mixed')).schema_name,
    'Tap03_Mixed', 'create_database keeps an upper-case schema name as given');
SELECT has_schema('Tap03_Mixed', 'the schema "Tap03_Mixed" was created with its case');
SELECT hasnt_schema('tap03_mixed', 'no lower-cased schema was created');
SELECT is((datasource.create_database('tap03_kw', schema_name => 'select')).schema_name,
    'select', 'a keyword is a valid schema name');
SELECT has_schema('select', 'the schema "select" was created (quoted)');
-- NULL optional arguments mean "unchanged" or "default"
SELECT is((datasource.create_database('tap03_dflt', schema_name => NULL, description => NULL)).schema_name,
    'tap03_dflt', 'create_database: NULL schema_name defaults to the name');
CREATE TEMP TABLE keep AS SELECT pg_temp.snap() AS s;
SELECT results_eq(
    $$SELECT name, server, read_only, enabled, description FROM datasource.alter_source('tap03_branch', NULL, NULL, NULL, NULL)$$,
    $$VALUES ('tap03_branch'::text, 'tap03_srv'::text, false, true, NULL::text)$$,
    'alter_source with only NULLs returns the row unchanged');
SELECT results_eq(
    $$SELECT name, source, schema_name, read_only, description FROM datasource.alter_database('tap03_db', NULL, NULL, NULL, NULL)$$,
    $$VALUES ('tap03_db'::text, 'local'::text, 'tap03_db'::text, false, NULL::text)$$,
    'alter_database with only NULLs returns the row unchanged');
SELECT is(pg_temp.snap(), (SELECT s FROM keep), 'the all-NULL alter calls changed nothing');
-- validate_databases reports bad names instead of raising
SELECT results_eq(
    $$SELECT v.valid, v.datasource, v.error FROM bad b,
             LATERAL datasource.validate_databases(ARRAY[b.val]) v ORDER BY b.ord$$,
    $$SELECT false, NULL::text, format('logical database "%s" does not exist', b.val) FROM bad b ORDER BY b.ord$$,
    'validate_databases: every bad name is reported as not existing, verbatim');
SELECT results_eq(
    $$SELECT v.valid, v.error FROM datasource.validate_databases(ARRAY['tap03_db', $v$x';DROP TABLE datasource.sources;--$v$]) v$$,
    $$VALUES (false, 'logical database "x'';DROP TABLE datasource.sources;--" does not exist'::text)$$,
    'validate_databases: a hostile name after a good one is reported, not run');
SELECT has_table('datasource', 'sources', 'datasource.sources still exists');

-- ------------------------------------------------------------ hostile descriptions
-- descriptions are free text: stored and returned verbatim, nothing else happens
CREATE TEMP TABLE hostile (ord int, label text, val text);
INSERT INTO hostile VALUES
    (1, 'SQL injection', $v$x';DROP TABLE datasource.sources;--$v$),
    (2, 'double quote', 'a"b'),
    (3, 'dollar quotes', '$$x$$; DROP SCHEMA public CASCADE; $$'),
    (4, 'newlines and tabs', E'line 1\nline 2\ttab\r\n'),
    (5, 'unicode', 'café ☕ 日本語'),
    (6, 'blanks', '   '),
    (7, 'backslashes', E'\\x00 \\n \\'),
    (8, 'long', repeat('0123456789', 1000)),
    (9, 'psql meta-command', E'\\! rm -rf /'),
    (10, 'format specifiers', '%s %d %n %%');

CREATE FUNCTION pg_temp.snap_nodesc() RETURNS jsonb LANGUAGE sql AS $$
    SELECT pg_temp.snap()
        || jsonb_build_object(
            'sources', (SELECT jsonb_agg(to_jsonb(s) - 'description' ORDER BY s.name) FROM datasource.sources s),
            'databases', (SELECT jsonb_agg(to_jsonb(d) - 'description' ORDER BY d.name) FROM datasource.databases d))
$$;

CREATE FUNCTION pg_temp.run_descriptions() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    h record;
    before jsonb;
BEGIN
    FOR h IN SELECT * FROM pg_temp.hostile ORDER BY ord LOOP
        before := pg_temp.snap_nodesc();
        RETURN NEXT is((datasource.alter_database('tap03_db', description => h.val)).description, h.val,
            'alter_database returns a description verbatim: ' || h.label);
        RETURN NEXT is((SELECT description FROM datasource.databases WHERE name = 'tap03_db'), h.val,
            'alter_database stores a description verbatim: ' || h.label);
        RETURN NEXT is((datasource.alter_source('tap03_branch', description => h.val)).description, h.val,
            'alter_source stores a description verbatim: ' || h.label);
        RETURN NEXT is(pg_temp.snap_nodesc(), before,
            'nothing but the descriptions changed: ' || h.label);
    END LOOP;
END $$;
SELECT * FROM pg_temp.run_descriptions();

SELECT is((datasource.create_database('tap03_desc', description => $v$x';DROP TABLE datasource.sources;--$v$)).description,
    $v$x';DROP TABLE datasource.sources;--$v$, 'create_database stores a hostile description verbatim');
SELECT is((datasource.create_source('tap03_desc_src', 'tap03_srv_free', description => E'a"b\n$$c$$')).description,
    E'a"b\n$$c$$', 'create_source stores a hostile description verbatim');
SELECT is((datasource.alter_database('tap03_db', description => '')).description, NULL,
    'an empty description clears it (alter_database)');
SELECT is((datasource.alter_source('tap03_branch', description => '')).description, NULL,
    'an empty description clears it (alter_source)');
SELECT is((datasource.create_database('tap03_desc2', description => '')).description, NULL,
    'an empty description is stored as NULL (create_database)');
SELECT has_table('datasource', 'sources', 'datasource.sources survived every hostile string');
SELECT has_schema('public', 'schema public survived every hostile string');

SELECT * FROM finish();
ROLLBACK;
