-- 11_sandbox: the functions that keep sandboxes (set_sandbox, drop_sandbox,
-- session_sandbox, sandbox_info): arguments, errors, what they store and
-- the role settings they leave.  What a sandbox refuses, played by a
-- hostile client, is test/multi/sandbox_hostile.sh.
BEGIN;
SELECT plan(21);

SET LOCAL client_min_messages = warning;
DO $$
BEGIN
    PERFORM datasource.create_database('sbx_a');
    PERFORM datasource.create_database('sbx_b');
END
$$;
CREATE ROLE sbx_agent LOGIN;
CREATE ROLE sbx_member LOGIN IN ROLE sbx_agent;
CREATE ROLE sbx_super SUPERUSER;

-- ------------------------------------------------------------ bad input
SELECT throws_ok($$SELECT datasource.set_sandbox(NULL, ARRAY['sbx_a'])$$, '22004', NULL,
    'set_sandbox: NULL role is 22004');
SELECT throws_ok($$SELECT datasource.set_sandbox('sbx_agent', NULL)$$, '22004', NULL,
    'set_sandbox: NULL databases is 22004');
SELECT throws_ok($$SELECT datasource.set_sandbox('sbx_agent', ARRAY['sbx_a', NULL])$$, '22004', NULL,
    'set_sandbox: a NULL element is 22004');
SELECT throws_ok($$SELECT datasource.set_sandbox('sbx_agent', ARRAY['sbx_a'], NULL)$$, '22004', NULL,
    'set_sandbox: NULL read_only is 22004');
SELECT throws_ok($$SELECT datasource.set_sandbox('sbx_agent', ARRAY['sbx_a', 'no_such_db'])$$, '42704', NULL,
    'set_sandbox: an unknown logical database is 42704');
SELECT throws_ok($$SELECT datasource.set_sandbox('no_such_role', ARRAY['sbx_a'])$$, '42704', NULL,
    'set_sandbox: an unknown role is 42704');
SELECT throws_ok($$SELECT datasource.set_sandbox('sbx_super', ARRAY['sbx_a'])$$, '42501', NULL,
    'set_sandbox: a superuser cannot be sandboxed (42501)');
SELECT is((SELECT count(*)::int FROM datasource.sandboxes), 0,
    'nothing is stored after the refusals');
SELECT is((SELECT count(*)::int FROM pg_db_role_setting WHERE setrole = 'sbx_agent'::regrole), 0,
    'no role setting is left after the refusals');
SELECT throws_ok($$SELECT datasource.drop_sandbox(NULL)$$, '22004', NULL,
    'drop_sandbox: NULL role is 22004');

-- ------------------------------------------------------------ what it stores
SELECT results_eq(
    $$SELECT role::text, databases, read_only FROM datasource.set_sandbox('sbx_agent', ARRAY['sbx_b', 'sbx_a', 'sbx_a'])$$,
    $$VALUES ('sbx_agent'::text, ARRAY['sbx_a', 'sbx_b'], true)$$,
    'set_sandbox stores the role, its logical databases once each and in order, read-only by default');
SELECT results_eq(
    $$SELECT role::text, databases, read_only, description
        FROM datasource.set_sandbox('sbx_agent', ARRAY[]::text[], false, 'nothing at all')$$,
    $$VALUES ('sbx_agent'::text, ARRAY[]::text[], false, 'nothing at all'::text)$$,
    'set_sandbox again replaces the sandbox (an empty list allows no logical database)');
SELECT is((SELECT count(*)::int FROM datasource.sandboxes), 1, 'one row per role');
SELECT set_eq(
    $$SELECT c FROM pg_db_role_setting, unnest(setconfig) c
       WHERE setrole = 'sbx_agent'::regrole AND setdatabase = 0$$,
    CASE WHEN current_setting('shared_preload_libraries') ~ 'pg_datasource'
         THEN $$VALUES ('datasource.enforce=error')$$
         ELSE $$VALUES ('datasource.enforce=error'), ('session_preload_libraries=pg_datasource')$$ END,
    'the role is enforced and loads the library in every database');
SELECT results_eq(
    $$SELECT role, databases, read_only, enforce, library_loaded FROM datasource.sandbox_info$$,
    $$VALUES ('sbx_agent'::text, ARRAY[]::text[], false, 'error'::text, true)$$,
    'sandbox_info shows the sandbox with its stored level and the library loaded');

-- a role with its own session_preload_libraries is warned, not overwritten
ALTER ROLE sbx_member SET session_preload_libraries = 'auto_explain';
SELECT lives_ok($$SELECT datasource.set_sandbox('sbx_member', ARRAY['sbx_a'])$$,
    'set_sandbox accepts a role with its own session_preload_libraries');
SELECT is(
    (SELECT c FROM pg_db_role_setting, unnest(setconfig) c
      WHERE setrole = 'sbx_member'::regrole AND c LIKE 'session_preload_libraries=%'),
    'session_preload_libraries=auto_explain',
    'its own session_preload_libraries is not overwritten (a WARNING says the library will not load)');

-- ------------------------------------------------------------ the calling session
SELECT results_eq(
    $$SELECT sandboxed, databases, fail_closed FROM datasource.session_sandbox()$$,
    $$VALUES (false, NULL::text[], NULL::text)$$,
    'a superuser session is not sandboxed by the rows');

-- ------------------------------------------------------------ drop
SELECT is(datasource.drop_sandbox('sbx_agent'), true, 'drop_sandbox removes a sandbox');
SELECT is(datasource.drop_sandbox('sbx_agent'), false, 'drop_sandbox of a role without one is false');
SELECT is(
    (SELECT count(*)::int FROM pg_db_role_setting, unnest(setconfig) c
      WHERE setrole = 'sbx_agent'::regrole AND c LIKE 'datasource.enforce=%'),
    0, 'drop_sandbox resets the datasource.enforce stored for the role');

SELECT * FROM finish();
ROLLBACK;
