-- 05_validate_databases: the check made before querying several logical
-- databases together.  Problems are results (valid = false, error says
-- why); only misuse (a NULL array or element) raises.
--
-- The second and third datasources are foreign servers of the pg_datasource
-- wrapper at 127.0.0.1 port 1, where nothing listens; their logical
-- databases are inserted into datasource.databases directly, so nothing
-- ever connects.
BEGIN;
SELECT plan(40);

-- ------------------------------------------------------------ fixture
CREATE SERVER tap05_srv FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1');
CREATE SERVER tap05_srv2 FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1');
CREATE SERVER tap05_srv3 FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1');
DO $$ BEGIN
    PERFORM datasource.create_database('tap05_a');
    PERFORM datasource.create_database('tap05_b');
    PERFORM datasource.create_database('tap05_c', read_only => true);
    PERFORM datasource.create_source('tap05_remote', 'tap05_srv');
    PERFORM datasource.create_source('tap05_remote2', 'tap05_srv2', read_only => true);
    PERFORM datasource.create_source('tap05_off', 'tap05_srv3');
    PERFORM datasource.alter_source('tap05_off', enabled => false);
END $$;
INSERT INTO datasource.databases (name, source, schema_name) VALUES
    ('tap05_r1', 'tap05_remote', 'sales'),
    ('tap05_r2', 'tap05_remote', 'tap05_r2'),
    ('tap05_q1', 'tap05_remote2', 'sales'),
    ('tap05_off_db', 'tap05_off', 'tap05_off_db');

SELECT results_eq(
    $$SELECT name, source FROM datasource.databases ORDER BY name$$,
    $$VALUES ('tap05_a'::text, 'local'::text), ('tap05_b', 'local'), ('tap05_c', 'local'),
             ('tap05_off_db', 'tap05_off'), ('tap05_q1', 'tap05_remote2'),
             ('tap05_r1', 'tap05_remote'), ('tap05_r2', 'tap05_remote')$$,
    'fixture: seven logical databases on four datasources');

CREATE FUNCTION pg_temp.snap() RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'sources', (SELECT jsonb_agg(to_jsonb(s) ORDER BY s.name) FROM datasource.sources s),
        'databases', (SELECT jsonb_agg(to_jsonb(d) ORDER BY d.name) FROM datasource.databases d))
$$;
CREATE TEMP TABLE saved AS SELECT pg_temp.snap() AS s;

-- ------------------------------------------------------------ result columns
SELECT is(
    (SELECT proargnames::text[] FROM pg_proc WHERE oid = 'datasource.validate_databases(text[])'::regprocedure),
    ARRAY['names', 'valid', 'datasource', 'error'],
    'the result columns are valid, datasource, error');
SELECT is(
    (SELECT array_agg(format_type(t, NULL) ORDER BY i)
       FROM pg_proc p, unnest(p.proallargtypes) WITH ORDINALITY AS u(t, i)
      WHERE p.oid = 'datasource.validate_databases(text[])'::regprocedure),
    ARRAY['text[]', 'boolean', 'text', 'text'],
    'the result columns are boolean, text, text');
SELECT is((SELECT count(*)::int FROM datasource.validate_databases(ARRAY['tap05_a'])), 1,
    'validate_databases returns exactly one row');

-- ------------------------------------------------------------ valid combinations
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_a'])$$,
    $$VALUES (true, 'local'::text, NULL::text)$$, 'one local logical database is valid');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_a', 'tap05_b', 'tap05_c'])$$,
    $$VALUES (true, 'local'::text, NULL::text)$$, 'three local logical databases are valid together');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_a', 'tap05_a'])$$,
    $$VALUES (true, 'local'::text, NULL::text)$$, 'a name listed twice is valid');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_b', 'tap05_a', 'tap05_b', 'tap05_a'])$$,
    $$VALUES (true, 'local'::text, NULL::text)$$, 'names listed repeatedly in any order are valid');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_r1'])$$,
    $$VALUES (true, 'tap05_remote'::text, NULL::text)$$, 'one remote logical database is valid, on its datasource');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_r1', 'tap05_r2'])$$,
    $$VALUES (true, 'tap05_remote'::text, NULL::text)$$, 'two logical databases of one remote datasource are valid');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_q1'])$$,
    $$VALUES (true, 'tap05_remote2'::text, NULL::text)$$,
    'a read-only datasource is still valid to query');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_c'])$$,
    $$VALUES (true, 'local'::text, NULL::text)$$, 'a read-only logical database is valid to query');

-- ------------------------------------------------------------ across datasources
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_a', 'tap05_r1'])$$,
    $$VALUES (false, NULL::text,
              'cannot query across different datasources: tap05_a on "local"; tap05_r1 on "tap05_remote"'::text)$$,
    'local and remote together are invalid; the error says which is where');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_r1', 'tap05_a', 'tap05_r2', 'tap05_b'])$$,
    $$VALUES (false, NULL::text,
              'cannot query across different datasources: tap05_r1, tap05_r2 on "tap05_remote"; tap05_a, tap05_b on "local"'::text)$$,
    'the error groups the names per datasource, in order of first mention');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_q1', 'tap05_r1', 'tap05_a'])$$,
    $$VALUES (false, NULL::text,
              'cannot query across different datasources: tap05_q1 on "tap05_remote2"; tap05_r1 on "tap05_remote"; tap05_a on "local"'::text)$$,
    'three datasources are all named');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_r1', 'tap05_q1'])$$,
    $$VALUES (false, NULL::text,
              'cannot query across different datasources: tap05_r1 on "tap05_remote"; tap05_q1 on "tap05_remote2"'::text)$$,
    'two remote datasources are invalid together although both use schema sales');
SELECT ok((SELECT NOT valid AND datasource IS NULL
                  AND error LIKE 'cannot query across different datasources: %'
                  AND error LIKE '%tap05_a%on "local"%' AND error LIKE '%tap05_r1 on "tap05_remote"%'
             FROM datasource.validate_databases(ARRAY['tap05_a', 'tap05_r1', 'tap05_a'])),
    'a duplicate in a cross-datasource list still names both datasources');

-- ------------------------------------------------------------ unknown and disabled
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_a', 'tap05_nope'])$$,
    $$VALUES (false, NULL::text, 'logical database "tap05_nope" does not exist'::text)$$,
    'an unknown logical database is reported');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_nope', 'tap05_r1', 'tap05_a'])$$,
    $$VALUES (false, NULL::text, 'logical database "tap05_nope" does not exist'::text)$$,
    'an unknown name is reported before a cross-datasource problem');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['TAP05_A'])$$,
    $$VALUES (false, NULL::text, 'logical database "TAP05_A" does not exist'::text)$$,
    'names are not case-folded');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['sales'])$$,
    $$VALUES (false, NULL::text, 'logical database "sales" does not exist'::text)$$,
    'a schema name is not a logical database name');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY[]::text[])$$,
    $$VALUES (false, NULL::text, 'no logical databases given'::text)$$,
    'an empty list is invalid');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_off_db'])$$,
    $$VALUES (false, NULL::text, 'datasource "tap05_off" of logical database "tap05_off_db" is disabled'::text)$$,
    'a logical database on a disabled datasource is invalid');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_r1', 'tap05_off_db'])$$,
    $$VALUES (false, NULL::text, 'datasource "tap05_off" of logical database "tap05_off_db" is disabled'::text)$$,
    'a disabled datasource is reported before a cross-datasource problem');

-- ------------------------------------------------------------ misuse raises
SELECT throws_ok($$SELECT * FROM datasource.validate_databases(NULL)$$, '22004',
    'argument "names" must not be null', 'a NULL array raises 22004');
SELECT throws_ok($$SELECT * FROM datasource.validate_databases(ARRAY['tap05_a', NULL])$$, '22004', NULL,
    'a NULL element raises 22004');
SELECT throws_ok($$SELECT * FROM datasource.validate_databases(ARRAY['tap05_nope', NULL])$$, '22004', NULL,
    'a NULL element raises 22004 even after an unknown name');
SELECT throws_ok($$SELECT * FROM datasource.validate_databases(ARRAY[NULL, NULL]::text[])$$, '22004', NULL,
    'an array of NULLs raises 22004');

SELECT is(pg_temp.snap(), (SELECT s FROM saved), 'validate_databases changed nothing');

-- ------------------------------------------------------------ the answer follows the registry
SELECT is((datasource.alter_source('tap05_off', enabled => true)).enabled, true,
    'enable datasource tap05_off');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_off_db'])$$,
    $$VALUES (true, 'tap05_off'::text, NULL::text)$$, 'once enabled, its logical database is valid');
SELECT is((datasource.alter_source('local', enabled => false)).enabled, false,
    'disable the local datasource');
SELECT results_eq($$SELECT valid, datasource, error FROM datasource.validate_databases(ARRAY['tap05_b', 'tap05_a'])$$,
    $$VALUES (false, NULL::text, 'datasource "local" of logical database "tap05_b" is disabled'::text)$$,
    'a disabled local datasource is reported for the first name');
SELECT results_eq($$SELECT valid, datasource FROM datasource.validate_databases(ARRAY['tap05_r1'])$$,
    $$VALUES (true, 'tap05_remote'::text)$$, 'other datasources are unaffected');
SELECT is((datasource.alter_source('local', enabled => true)).enabled, true,
    'enable the local datasource again');
SELECT is((datasource.rename_database('tap05_a', 'tap05_renamed')).name, 'tap05_renamed',
    'rename tap05_a');
SELECT results_eq($$SELECT valid, error FROM datasource.validate_databases(ARRAY['tap05_a'])$$,
    $$VALUES (false, 'logical database "tap05_a" does not exist'::text)$$, 'the old name is unknown after a rename');
SELECT results_eq($$SELECT valid, datasource FROM datasource.validate_databases(ARRAY['tap05_renamed', 'tap05_b'])$$,
    $$VALUES (true, 'local'::text)$$, 'the new name is valid');
SET LOCAL client_min_messages = warning;   -- the NOTICE naming the cascaded databases
SELECT lives_ok($$SELECT datasource.drop_source('tap05_remote', cascade => true)$$,
    'drop_source with cascade drops the remote datasource and its logical databases');
SELECT results_eq($$SELECT valid, error FROM datasource.validate_databases(ARRAY['tap05_r1'])$$,
    $$VALUES (false, 'logical database "tap05_r1" does not exist'::text)$$,
    'the logical databases of a dropped datasource are unknown');

SELECT * FROM finish();
ROLLBACK;
