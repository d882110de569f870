-- 12_route_session: a routed statement cannot change the session it runs
-- in (sessionstate.c).  Each refusal is checked by its effect: the caller's
-- setting, role, cursors, channels, locks and temporary tables are as they
-- were, and the next routed statement still runs in its own logical
-- database's schema.  validate() says the same as routing.  On the local
-- datasource, what a function the statement calls sets (set_config(...,
-- false)) is undone when the call returns (local.c).  A migration script
-- follows the same rule.  The remote side is test/multi/route_session.sh.
BEGIN;
SELECT plan(85);

-- ------------------------------------------------------------ fixture
SET LOCAL client_min_messages = warning;
DO $$ BEGIN
    PERFORM datasource.create_database('ss_a');
    PERFORM datasource.create_database('ss_b');
END $$;
CREATE TABLE ss_a.whoami (tenant text);
CREATE TABLE ss_b.whoami (tenant text);
INSERT INTO ss_a.whoami VALUES ('a');
INSERT INTO ss_b.whoami VALUES ('b');
-- functions that change the session from inside, where no check can see
CREATE FUNCTION ss_a.set_work_mem() RETURNS text LANGUAGE sql AS
    $$ SELECT set_config('work_mem', '9MB', false) $$;
CREATE FUNCTION ss_a.set_path() RETURNS text LANGUAGE sql AS
    $$ SELECT set_config('search_path', 'ss_b', false) $$;
CREATE ROLE ss_other NOLOGIN;
RESET client_min_messages;
SET LOCAL search_path = public;
SET LOCAL work_mem = '4MB';

-- whoami(db): which tenant an unqualified name reaches when routed to db
CREATE FUNCTION pg_temp.whoami(db text) RETURNS text LANGUAGE sql AS
    $$ SELECT t FROM datasource.query(db, 'SELECT tenant FROM whoami') AS q(t text) $$;
-- the session, as the checks look at it
CREATE FUNCTION pg_temp.session_now() RETURNS text LANGUAGE sql AS $$
    SELECT concat_ws(' | ', current_setting('search_path'), current_setting('work_mem'),
        current_user, current_setting('transaction_read_only'),
        (SELECT count(*) FROM pg_listening_channels()),
        (SELECT count(*) FROM pg_prepared_statements),
        (SELECT count(*) FROM pg_cursors WHERE name NOT LIKE '<unnamed portal%'),
        (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
        (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()),
        current_setting('datestyle'))
$$;

-- ------------------------------------------------------------ refusals
-- each: refused with 0A000 before it runs, the session exactly as before,
-- and the next statement of ss_a still in ss_a's schema; validate() agrees
CREATE TEMP TABLE refused (id serial, fn text, sql text);
INSERT INTO refused (fn, sql) VALUES
    ('exec', 'SET search_path = ss_b'),
    ('exec', 'SET SESSION search_path = ss_b'),
    ('exec', $q$SET SCHEMA 'ss_b'$q$),
    ('exec', 'SET LOCAL search_path = ss_b'),
    ('exec', 'RESET search_path'),
    ('exec', 'SET work_mem = ''7MB'''),
    ('exec', 'RESET work_mem'),
    ('exec', 'RESET ALL'),
    ('exec', 'SET datestyle = ''German'''),
    ('exec', 'SET ROLE ss_other'),
    ('exec', 'SET LOCAL ROLE ss_other'),
    ('exec', 'SET SESSION AUTHORIZATION ss_other'),
    ('exec', 'SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY'),
    ('exec', 'SET TRANSACTION READ ONLY'),
    ('exec', 'SET LOCAL transaction_read_only = on'),
    ('exec', 'SET LOCAL default_transaction_read_only = on'),
    ('exec', 'SET LOCAL client_encoding = ''LATIN1'''),
    ('exec', 'SET NAMES ''LATIN1'''),
    ('exec', 'SET LOCAL standard_conforming_strings = off'),
    ('exec', 'DISCARD ALL'),
    ('exec', 'DISCARD PLANS'),
    ('exec', 'LISTEN ss_channel'),
    ('exec', 'UNLISTEN *'),
    ('exec', 'PREPARE ss_p AS SELECT 1'),
    ('exec', 'DEALLOCATE ALL'),
    ('exec', 'DECLARE ss_c CURSOR WITH HOLD FOR SELECT * FROM whoami'),
    ('exec', 'DECLARE ss_c CURSOR FOR SELECT * FROM whoami'),
    ('exec', 'CLOSE ALL'),
    ('exec', 'FETCH 1 FROM ss_c'),
    ('exec', 'MOVE 1 IN ss_c'),
    ('exec', $q$LOAD 'pg_datasource'$q$),
    ('exec', 'CREATE TEMP TABLE ss_t (id int)'),
    ('exec', 'CREATE TEMP TABLE ss_t (id int) ON COMMIT DELETE ROWS'),
    ('exec', 'CREATE TEMP TABLE ss_t AS SELECT 1 AS id'),
    ('exec', 'SELECT 1 AS id INTO TEMP ss_t'),
    ('exec', 'CREATE TEMP VIEW ss_v AS SELECT 1'),
    ('exec', 'CREATE TEMP SEQUENCE ss_s'),
    ('exec', 'BEGIN'),
    ('exec', 'COMMIT'),
    ('exec', 'SAVEPOINT s'),
    ('query', $q$SELECT set_config('search_path', 'ss_b', false)$q$),
    ('query', $q$SELECT set_config('work_mem', '7MB', false)$q$),
    ('query', $q$SELECT pg_catalog.set_config('work_mem', '7MB', 1 = 1)$q$),
    ('query', $q$SELECT set_config(setting_name => 'work_mem', new_value => '7MB', is_local => false)$q$),
    ('query', $q$SELECT set_config('search_path', 'ss_b', true)$q$),
    ('query', $q$SELECT set_config('role', 'ss_other', true)$q$),
    ('query', $q$SELECT set_config(tenant, 'x', true) FROM whoami$q$),
    ('query', $q$SELECT pg_advisory_lock(4711)::text$q$),
    ('query', $q$SELECT pg_try_advisory_lock_shared(4711)::text$q$),
    ('query', $q$SELECT pg_advisory_unlock_all()::text$q$),
    ('query', $q$SELECT (SELECT pg_advisory_lock(1, 2))::text FROM whoami$q$),
    ('query', $q$SELECT setseed(0.5)::text$q$),
    ('query', $q$EXPLAIN ANALYZE SELECT set_config('work_mem', '7MB', false)$q$);
CREATE TEMP TABLE before AS SELECT pg_temp.session_now() AS s;

CREATE FUNCTION pg_temp.check_refusals() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    c record;
    call text;
    bad int := 0;
    bad_sql text := '';
    v record;
BEGIN
    FOR c IN SELECT * FROM pg_temp.refused ORDER BY id LOOP
        call := CASE c.fn
            WHEN 'exec' THEN format('SELECT datasource.exec(%L, %L)', 'ss_a', c.sql)
            ELSE format('SELECT * FROM datasource.query(%L, %L) AS t(x text)', 'ss_a', c.sql) END;
        RETURN NEXT throws_ok(call, '0A000', NULL, c.fn || ' ' || c.sql || ': refused (0A000)');
        -- validate() says what routing says
        SELECT * INTO v FROM datasource.validate(c.sql, 'ss_a');
        IF v.valid OR v.error IS NULL THEN
            bad := bad + 1;
            bad_sql := bad_sql || ' [' || c.sql || ']';
        END IF;
        IF pg_temp.session_now() IS DISTINCT FROM (SELECT s FROM pg_temp.before)
           OR pg_temp.whoami('ss_a') IS DISTINCT FROM 'a' THEN
            RETURN NEXT fail(c.sql || ': the session changed: ' || pg_temp.session_now());
            -- put it back so that the next case is judged alone
            EXECUTE 'SET LOCAL search_path = public';
            EXECUTE 'SET LOCAL work_mem = ''4MB''';
        END IF;
    END LOOP;
    RETURN NEXT is(bad, 0, 'validate() says not valid, with an error, for every refused statement' || bad_sql);
    RETURN NEXT is(pg_temp.session_now(), (SELECT s FROM pg_temp.before),
        'after all refusals: search_path, work_mem, role, read-only mode, channels, prepared statements, cursors, advisory locks, temporary relations, datestyle as before');
END $$;
SELECT * FROM pg_temp.check_refusals();
SELECT is(pg_temp.whoami('ss_a'), 'a', 'the next routed statement of ss_a still reads ss_a');

-- the refusal says why and what to do instead
CREATE FUNCTION pg_temp.err(q text, OUT state text, OUT msg text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
END $$;
SELECT matches((pg_temp.err($$SELECT datasource.exec('ss_a', 'SET work_mem = ''7MB''')$$)).hint,
    'SET LOCAL', 'a session-level SET: the hint names SET LOCAL');
SELECT matches((pg_temp.err($$SELECT datasource.exec('ss_a', 'SET search_path = ss_b')$$)).msg,
    'search_path', 'SET search_path: the message names the setting');
SELECT matches((pg_temp.err($$SELECT datasource.exec('ss_a', 'LISTEN x')$$)).hint,
    'transaction-scoped', 'LISTEN: the hint names the transaction-scoped forms');
SELECT is(s.success::text || ' ' || s.sqlstate, 'false 0A000',
    'execute() reports a refused SET as a failure with 0A000')
  FROM datasource.execute('ss_a', 'SET search_path = ss_b', read_only => false) s;

-- ------------------------------------------------------------ functions inside
SELECT is(t.x, '9MB', 'a routed call of a function doing set_config(..., false) runs')
  FROM datasource.query('ss_a', 'SELECT set_work_mem()') AS t(x text);
SELECT is(current_setting('work_mem'), '4MB',
    'and the caller''s work_mem is as before: local.c restores every setting');
SELECT is(t.x, 'ss_b', 'a routed call of a function setting search_path for the session runs')
  FROM datasource.query('ss_a', 'SELECT set_path()') AS t(x text);
SELECT is(current_setting('search_path'), 'public', 'and the caller''s search_path is as before');
SELECT is(pg_temp.whoami('ss_a'), 'a', 'and the next routed statement of ss_a reads ss_a');
SELECT is(datasource.exec('ss_a', 'SELECT set_path()'), 'SELECT 1',
    'exec of the same function runs');
SELECT is(current_setting('search_path'), 'public', 'and leaves the caller''s search_path as before');

-- ------------------------------------------------------------ migrations
SELECT throws_ok($$SELECT datasource.migrate('ss_a', 'm1', 'CREATE TABLE m1 (id int); SELECT pg_advisory_lock(11)')$$,
    '0A000', NULL, 'a migration taking a session advisory lock is refused');
SELECT throws_ok($$SELECT datasource.migrate('ss_a', 'm1', 'CREATE TABLE m1 (id int); LISTEN x')$$,
    '0A000', NULL, 'a migration with LISTEN is refused');
SELECT throws_ok($$SELECT datasource.migrate('ss_a', 'm1', 'CREATE TEMP TABLE m1t (id int)')$$,
    '0A000', NULL, 'a migration creating a temporary table that outlives it is refused');
SELECT throws_ok($$SELECT datasource.migrate('ss_a', 'm1', $q$CREATE TABLE m1 (id int); INSERT INTO m1 SELECT 1 WHERE set_config('work_mem', '7MB', false) IS NOT NULL$q$)$$,
    '0A000', NULL, 'a migration whose INSERT calls set_config(..., false) is refused');
SELECT throws_ok($$SELECT datasource.migrate('ss_a', 'm1', 'CREATE TABLE pg_temp.m1t (id int)')$$,
    '0A000', NULL, 'a migration creating a table in pg_temp is refused');
SELECT is(to_regclass('ss_a.m1'), NULL, 'the refused migrations ran nothing');
SELECT is((SELECT count(*)::int FROM datasource.migrations WHERE database = 'ss_a'), 0,
    'and journaled nothing');
SELECT is(pg_temp.session_now(), (SELECT s FROM pg_temp.before), 'and the session is as before');
SELECT is(s.status, 'applied', 'a migration with SET LOCAL and a temporary table ON COMMIT DROP is applied')
  FROM datasource.migrate('ss_a', 'm2',
    'SET LOCAL lock_timeout = 1000; CREATE TEMP TABLE m2t (id int) ON COMMIT DROP; CREATE TABLE m2 (id int)') s;

-- ------------------------------------------------------------ what stays allowed
SELECT is(datasource.exec('ss_a', 'SET LOCAL work_mem = ''7MB'''), 'SET',
    'SET LOCAL of a setting routing does not manage is routed');
SELECT is(current_setting('work_mem'), '4MB', 'locally it lasts for the statement only');
SELECT is(t.x, '8MB', 'set_config(name, value, true) is routed, and in force within the statement')
  FROM datasource.query('ss_a', $q$SELECT set_config('work_mem', '8MB', true)$q$) AS t(x text);
SELECT is(current_setting('work_mem'), '4MB', 'and the caller''s work_mem is as before');
SELECT is(t.x, 'true', 'pg_advisory_xact_lock / pg_try_advisory_xact_lock are routed')
  FROM datasource.query('ss_a', 'SELECT pg_try_advisory_xact_lock(99)::text') AS t(x text);
SELECT is(datasource.exec('ss_a', 'CREATE TEMP TABLE ss_drop (id int) ON COMMIT DROP'), 'CREATE TABLE',
    'a temporary table ON COMMIT DROP is routed');
SELECT is(datasource.exec('ss_a', 'NOTIFY ss_channel'), 'NOTIFY',
    'NOTIFY (sent at commit) is routed');
SELECT is(v.valid, true, 'CREATE VIEW storing a set_config call is valid: defining it runs nothing')
  FROM datasource.validate($q$CREATE VIEW ss_view AS SELECT set_config('work_mem', '1MB', false)$q$, 'ss_a') v;
SELECT is(v.valid, true, 'a set_config of another schema''s function is not the builtin')
  FROM datasource.validate($q$SELECT ss_a.set_work_mem()$q$, 'ss_a') v;

SELECT * FROM finish();
ROLLBACK;
