-- 08_migrate: the migration journal on the local datasource.
--
-- migrate, migrate_all, baseline, accept_checksum, pending and adopt_drizzle
-- with bad input (every refusal is an ERROR with its SQLSTATE), failure
-- atomicity and retry, checksums (normalised and raw), script_schema
-- rewriting of a drizzle-kit script, adoption of drizzle-kit's journal,
-- migrate_all over 50 tenant schemas with one failing, the DDL journal
-- (datasource.ddl_log) and the privileges a migrating role needs.
--
-- Remote datasources appear only as foreign servers at 127.0.0.1 port 1,
-- where nothing listens: the refusals tested with them come before any
-- connection.  Everything here is rolled back.
--
-- Calls that return a migration_result are made through pg_temp.run(),
-- which is a lives_ok() that also stores the result rows in pg_temp.res
-- (label, database, version, status, checksum, execution_time_ms, error), so
-- that an unexpected ERROR fails one test instead of aborting the file.
BEGIN;
SELECT plan(456);
SET LOCAL client_min_messages = warning;

-- ------------------------------------------------------------ helpers
CREATE TEMP TABLE res (n serial, label text, database text, version text, status text,
                       checksum text, execution_time_ms float8, error text);
GRANT ALL ON TABLE res TO PUBLIC;
GRANT ALL ON SEQUENCE res_n_seq TO PUBLIC;

-- scripts by name, so that the calls need no nested quoting
CREATE TEMP TABLE scr (name text PRIMARY KEY, body text NOT NULL);
GRANT SELECT ON TABLE scr TO PUBLIC;
CREATE FUNCTION pg_temp.s(text) RETURNS text LANGUAGE sql STABLE AS
    $$ SELECT body FROM pg_temp.scr WHERE name = $1 $$;

-- the sha256 of a text's UTF-8 bytes, in lower-case hex
CREATE FUNCTION pg_temp.sha(text) RETURNS text LANGUAGE sql IMMUTABLE AS
    $$ SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex') $$;

-- the checksum the spec defines: CR LF and lone CR as LF, trailing newlines removed
CREATE FUNCTION pg_temp.norm(text) RETURNS text LANGUAGE sql IMMUTABLE AS
    $$ SELECT rtrim(replace(replace($1, E'\r\n', E'\n'), E'\r', E'\n'), E'\n') $$;

-- runs CALL (a FROM item returning migration_result rows) and stores its rows
CREATE FUNCTION pg_temp.run(label text, call text, descr text) RETURNS text LANGUAGE sql AS $$
    SELECT lives_ok(format(
        'INSERT INTO pg_temp.res (label, database, version, status, checksum, execution_time_ms, error) '
        'SELECT %L, m.database, m.version, m.status, m.checksum, m.execution_time_ms, m.error FROM %s m',
        label, call), descr)
$$;

-- the current role as text of the default collation (name is of collation C)
CREATE FUNCTION pg_temp.me() RETURNS text LANGUAGE sql STABLE AS $$ SELECT current_user::text $$;

-- the last stored result of a label
CREATE FUNCTION pg_temp.r(text) RETURNS pg_temp.res LANGUAGE sql STABLE AS
    $$ SELECT * FROM pg_temp.res WHERE label = $1 ORDER BY n DESC LIMIT 1 $$;

-- journal rows of a logical database (optionally of one version)
CREATE FUNCTION pg_temp.jn(db text, ver text DEFAULT NULL) RETURNS int LANGUAGE sql STABLE AS
    $$ SELECT count(*)::int FROM datasource.migrations
        WHERE database = db AND (ver IS NULL OR version = ver) $$;

-- the last journal row of a logical database
CREATE FUNCTION pg_temp.jlast(db text) RETURNS datasource.migrations LANGUAGE sql STABLE AS
    $$ SELECT * FROM datasource.migrations WHERE database = db ORDER BY id DESC LIMIT 1 $$;

-- the error a statement raises (state, message, hint), or no row if none
CREATE FUNCTION pg_temp.err(q text, OUT state text, OUT msg text, OUT hint text)
RETURNS SETOF record LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN NEXT;
END $$;

-- runs q in a read-only transaction state (undone with the error q must raise)
CREATE FUNCTION pg_temp.in_read_only(q text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('transaction_read_only', 'on', true);
    EXECUTE q;
    RAISE EXCEPTION 'no error in a read-only transaction' USING ERRCODE = 'P0001';
END $$;

-- DDL journal marks: the highest ddl_log id at a point
CREATE TEMP TABLE marks (k text PRIMARY KEY, v bigint NOT NULL);
CREATE FUNCTION pg_temp.mark(k text) RETURNS void LANGUAGE sql AS
    $$ INSERT INTO pg_temp.marks SELECT k, coalesce(max(id), 0) FROM datasource.ddl_log $$;
CREATE FUNCTION pg_temp.since(k text) RETURNS SETOF datasource.ddl_log LANGUAGE sql STABLE AS
    $$ SELECT * FROM datasource.ddl_log WHERE id > (SELECT v FROM pg_temp.marks m WHERE m.k = since.k)
        ORDER BY id $$;

-- ------------------------------------------------------------ privileges
SELECT function_privs_are('datasource', 'migrate', ARRAY['text', 'text', 'text', 'text', 'text'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute migrate');
SELECT function_privs_are('datasource', 'migrate_all', ARRAY['text', 'text', 'text[]', 'text', 'text', 'boolean', 'integer', 'boolean', 'boolean', 'text[]', 'jsonb'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute migrate_all');
SELECT function_privs_are('datasource', 'baseline', ARRAY['text', 'text', 'text'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute baseline');
SELECT function_privs_are('datasource', 'accept_checksum', ARRAY['text', 'text', 'text'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute accept_checksum');
SELECT function_privs_are('datasource', 'pending', ARRAY['text', 'jsonb'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute pending');
SELECT function_privs_are('datasource', 'adopt_drizzle', ARRAY['text', 'text'],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute adopt_drizzle');
SELECT function_privs_are('datasource', 'log_ddl', ARRAY[]::text[],
    'public', ARRAY[]::text[], 'PUBLIC cannot execute log_ddl');
SELECT table_privs_are('datasource', 'migrations', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on datasource.migrations');
SELECT table_privs_are('datasource', 'ddl_log', 'public', ARRAY[]::text[],
    'PUBLIC has no privilege on datasource.ddl_log');

-- ============================================================ migrate_all over 50 tenants
-- This section comes first: with databases => NULL, migrate_all covers every
-- writable logical database, and these 50 must be the only ones.
-- created in reverse order, so that "by name" differs from creation order
DO $$ BEGIN
    FOR i IN REVERSE 50..1 LOOP
        PERFORM datasource.create_database(format('mig_t%s', lpad(i::text, 2, '0')));
    END LOOP;
END $$;
-- tenant 17 already has a table the migration creates: its run fails
CREATE TABLE mig_t17.widgets (conflict text);
SELECT is((SELECT count(*)::int FROM datasource.databases), 50,
    'fixture: the 50 tenants are the only logical databases');

INSERT INTO scr VALUES ('m1', $s$
CREATE TABLE gadgets (id int PRIMARY KEY);
CREATE TABLE widgets (id int, gadget int REFERENCES gadgets (id));
CREATE INDEX widgets_gadget ON widgets (gadget);
$s$);

-- The journal's statistics say it is empty (as after a VACUUM of a fresh
-- install): a plan made now would read it sequentially, once per tenant, for
-- the life of the backend.  Its lookups must use its indexes whatever the
-- statistics say: count this transaction's sequential scans of the journal.
ANALYZE datasource.migrations;
CREATE TEMP TABLE seqscans AS
    SELECT pg_stat_get_xact_numscans('datasource.migrations'::regclass) AS before;
SELECT pg_temp.run('all1', $$datasource.migrate_all('m1', pg_temp.s('m1'))$$,
    'migrate_all over every writable logical database runs (a failing tenant is no ERROR)');
SELECT is((SELECT pg_stat_get_xact_numscans('datasource.migrations'::regclass) - before FROM seqscans), 0::bigint,
    'migrate_all over 50 tenants never reads the journal sequentially');
SELECT results_eq(
    $$SELECT database, version, status FROM res WHERE label = 'all1' ORDER BY n$$,
    $$SELECT format('mig_t%s', lpad(i::text, 2, '0')), 'm1'::text,
             CASE WHEN i = 17 THEN 'failed' ELSE 'applied' END
        FROM generate_series(1, 50) i ORDER BY i$$,
    'migrate_all: one row per tenant by name, 49 applied and mig_t17 failed');
SELECT matches((SELECT error FROM res WHERE label = 'all1' AND database = 'mig_t17'),
    'widgets.*already exists', 'the failed tenant''s row carries the error');
SELECT is((SELECT count(*)::int FROM res WHERE label = 'all1' AND status = 'applied' AND error IS NULL
              AND checksum = pg_temp.sha(pg_temp.norm(pg_temp.s('m1')))), 49,
    'the applied rows have no error and the script''s checksum');
SELECT results_eq(
    $$SELECT database, status, sqlstate FROM datasource.migrations WHERE version = 'm1' ORDER BY database$$,
    $$SELECT format('mig_t%s', lpad(i::text, 2, '0')),
             CASE WHEN i = 17 THEN 'failed' ELSE 'applied' END,
             CASE WHEN i = 17 THEN '42P07' END
        FROM generate_series(1, 50) i ORDER BY i$$,
    'one journal row per tenant: 49 applied, mig_t17 failed with 42P07');
SELECT hasnt_table('mig_t17', 'gadgets', 'the failed tenant kept nothing of the script (gadgets)');
SELECT is(to_regclass('mig_t17.widgets_gadget'), NULL, 'the failed tenant has no widgets_gadget index');
SELECT columns_are('mig_t17', 'widgets', ARRAY['conflict'],
    'the failed tenant''s conflicting table is untouched');
SELECT is((SELECT count(*)::int FROM generate_series(1, 50) i
            WHERE i <> 17
              AND to_regclass(format('mig_t%s.gadgets', lpad(i::text, 2, '0'))) IS NOT NULL
              AND to_regclass(format('mig_t%s.widgets', lpad(i::text, 2, '0'))) IS NOT NULL
              AND to_regclass(format('mig_t%s.widgets_gadget', lpad(i::text, 2, '0'))) IS NOT NULL),
    49, 'the 49 other tenants have every object of the script');
-- 5 DDL journal rows per tenant, one per command as pg_event_trigger_ddl_commands()
-- reports them: gadgets, its primary key index, widgets, widgets' foreign key
-- (ALTER TABLE), the index widgets_gadget
SELECT is((SELECT count(*)::int FROM datasource.ddl_log WHERE migration_version = 'm1'), 245,
    'ddl_log: 5 rows tagged m1 for each of the 49 applied tenants');
SELECT results_eq(
    $$SELECT command_tag, object_type, object_identity FROM datasource.ddl_log
       WHERE migration_version = 'm1' AND database = 'mig_t01' ORDER BY id$$,
    $$VALUES ('CREATE TABLE'::text, 'table'::text, 'mig_t01.gadgets'::text), ('CREATE INDEX', 'index', 'mig_t01.gadgets_pkey'),
             ('CREATE TABLE', 'table', 'mig_t01.widgets'), ('ALTER TABLE', 'table', 'mig_t01.widgets'),
             ('CREATE INDEX', 'index', 'mig_t01.widgets_gadget')$$,
    'ddl_log: the rows of one tenant''s migration');
SELECT is((SELECT count(*)::int FROM datasource.ddl_log WHERE migration_version = 'm1' AND database = 'mig_t17'), 0,
    'ddl_log: nothing tagged m1 for the failed tenant');

-- the failed tenant is fixed and the same call is made again
DROP TABLE mig_t17.widgets;
SELECT pg_temp.run('all2', $$datasource.migrate_all('m1', pg_temp.s('m1'))$$,
    'migrate_all of the same version again runs');
SELECT results_eq(
    $$SELECT database, status FROM res WHERE label = 'all2' ORDER BY n$$,
    $$SELECT format('mig_t%s', lpad(i::text, 2, '0')),
             CASE WHEN i = 17 THEN 'applied' ELSE 'already_applied' END
        FROM generate_series(1, 50) i ORDER BY i$$,
    'the rerun applies the retried tenant and finds the others already applied');
SELECT is((SELECT count(*)::int FROM datasource.migrations WHERE version = 'm1'), 51,
    'the rerun added one journal row (the retry), none for already applied tenants');
SELECT has_table('mig_t17', 'gadgets', 'the retried tenant now has the script''s objects');

-- the library is loaded by now: its settings exist
SELECT is(current_setting('datasource.migration_lock_timeout', true), '0',
    'datasource.migration_lock_timeout defaults to 0');
SELECT is(current_setting('datasource.ddl_log', true), 'on', 'datasource.ddl_log defaults to on');

-- ------------------------------------------------------------ migrate_all with a list
INSERT INTO scr VALUES ('m2', 'ALTER TABLE gadgets ADD COLUMN label text;');
SELECT pg_temp.run('list1',
    $$datasource.migrate_all('m2', pg_temp.s('m2'), ARRAY['mig_t03', 'mig_t01'], 'listed')$$,
    'migrate_all with a list runs');
SELECT results_eq($$SELECT database, status FROM res WHERE label = 'list1' ORDER BY n$$,
    $$VALUES ('mig_t03'::text, 'applied'::text), ('mig_t01', 'applied')$$,
    'migrate_all with a list: one row per listed database, in the listed order');
SELECT results_eq(
    $$SELECT database, description FROM datasource.migrations WHERE version = 'm2' ORDER BY database$$,
    $$VALUES ('mig_t01'::text, 'listed'::text), ('mig_t03', 'listed')$$,
    'only the listed databases got the version, with the description');
SELECT throws_ok($$SELECT * FROM datasource.migrate_all('m3', 'CREATE TABLE m3 (id int)', ARRAY['mig_t01', 'mig_nope'])$$,
    '42704', NULL, 'migrate_all: an unknown listed name -> 42704');
SELECT throws_ok($$SELECT * FROM datasource.migrate_all('m3', 'CREATE TABLE m3 (id int)', ARRAY['mig_t01', 'mig_t02', 'mig_t01'])$$,
    '42710', NULL, 'migrate_all: a name listed twice -> 42710');
SELECT throws_ok($$SELECT * FROM datasource.migrate_all('m3', 'CREATE TABLE m3 (id int)', ARRAY['mig_t01', NULL])$$,
    '22004', NULL, 'migrate_all: a NULL element -> 22004');
SELECT throws_ok($$SELECT * FROM datasource.migrate_all('m3', 'CREATE TABLE m3 (id int)', ARRAY[NULL]::text[])$$,
    '22004', NULL, 'migrate_all: only a NULL element -> 22004');
SELECT throws_ok($$SELECT * FROM datasource.migrate_all('m3', 'CREATE TABLE m3 (id int)', ARRAY[['mig_t01'], ['mig_t02']])$$,
    '2202E', NULL, 'migrate_all: a two-dimensional array -> 2202E');
SELECT is((SELECT count(*)::int FROM datasource.migrate_all('m3', 'CREATE TABLE m3 (id int)', ARRAY[]::text[])), 0,
    'migrate_all: an empty array gives no rows');
SELECT is((SELECT count(*)::int FROM datasource.migrations WHERE version = 'm3'), 0,
    'no m3 journal row after the refused and empty calls');
SELECT is(to_regclass('mig_t01.m3'), NULL, 'and no m3 table anywhere (mig_t01)');

-- ============================================================ bad input
DO $$ BEGIN
    PERFORM datasource.create_database('mig_in');
    PERFORM datasource.create_database('mig_ro', read_only => true);
END $$;
SELECT pg_temp.run('in1', $$datasource.migrate('mig_in', 'v1', 'CREATE TABLE in1 (id int)')$$,
    'fixture: mig_in has version v1 applied');

CREATE TEMP TABLE cases (id serial, sql text, state text, descr text, hint_re text);

-- NULL for every required argument
INSERT INTO cases (sql, state, descr) VALUES
    ($$SELECT datasource.migrate(NULL, 'v2', 'SELECT 1')$$, '22004', 'migrate: NULL database'),
    ($$SELECT datasource.migrate('mig_in', NULL, 'SELECT 1')$$, '22004', 'migrate: NULL version'),
    ($$SELECT datasource.migrate('mig_in', 'v2', NULL)$$, '22004', 'migrate: NULL script'),
    ($$SELECT * FROM datasource.migrate_all(NULL, 'SELECT 1', ARRAY['mig_in'])$$, '22004', 'migrate_all: NULL version'),
    ($$SELECT * FROM datasource.migrate_all('v2', NULL, ARRAY['mig_in'])$$, '22004', 'migrate_all: NULL script'),
    ($$SELECT datasource.baseline(NULL, 'v2')$$, '22004', 'baseline: NULL database'),
    ($$SELECT datasource.baseline('mig_in', NULL)$$, '22004', 'baseline: NULL version'),
    ($$SELECT datasource.accept_checksum(NULL, 'v1', repeat('a', 64))$$, '22004', 'accept_checksum: NULL database'),
    ($$SELECT datasource.accept_checksum('mig_in', NULL, repeat('a', 64))$$, '22004', 'accept_checksum: NULL version'),
    ($$SELECT datasource.accept_checksum('mig_in', 'v1', NULL)$$, '22004', 'accept_checksum: NULL checksum'),
    ($$SELECT * FROM datasource.pending(NULL, '[]')$$, '22004', 'pending: NULL database'),
    ($$SELECT * FROM datasource.pending('mig_in', NULL)$$, '22004', 'pending: NULL manifest'),
    ($$SELECT * FROM datasource.adopt_drizzle(NULL)$$, '22004', 'adopt_drizzle: NULL database'),
    ($$SELECT * FROM datasource.adopt_drizzle('mig_in', NULL)$$, '22004', 'adopt_drizzle: NULL migrations_table');

-- bad versions, for every function that takes one
CREATE TEMP TABLE badver (ord int, label text, val text);
INSERT INTO badver VALUES
    (1, 'empty', ''),
    (2, 'blanks', '   '),
    (3, 'leading blank', ' v2'),
    (4, 'trailing blank', 'v2 '),
    (5, 'trailing newline', E'v2\n'),
    (6, 'leading tab', E'\tv2'),
    (7, '256 bytes', repeat('v', 256)),
    (8, '256 bytes of multibyte', repeat('é', 128));
INSERT INTO cases (sql, state, descr)
SELECT format(t.tmpl, quote_literal(b.val)), '22023', format('%s: version %s', t.fn, b.label)
  FROM (VALUES (1, 'migrate', $$SELECT datasource.migrate('mig_in', %s, 'CREATE TABLE bv (id int)')$$),
               (2, 'migrate_all', $$SELECT * FROM datasource.migrate_all(%s, 'CREATE TABLE bv (id int)', ARRAY['mig_in'])$$),
               (3, 'baseline', $$SELECT datasource.baseline('mig_in', %s)$$),
               (4, 'accept_checksum', $$SELECT datasource.accept_checksum('mig_in', %s, repeat('a', 64))$$))
       AS t(ord, fn, tmpl)
 CROSS JOIN badver b
 ORDER BY t.ord, b.ord;

-- unknown logical databases, read-only targets, empty script_schema, bad checksums
INSERT INTO cases (sql, state, descr) VALUES
    ($$SELECT datasource.migrate('mig_in', 'v2', 'CREATE TABLE bv (id int)', script_schema => '')$$, '22023',
        'migrate: empty script_schema'),
    ($$SELECT * FROM datasource.migrate_all('v2', 'CREATE TABLE bv (id int)', ARRAY['mig_in'], script_schema => '')$$, '22023',
        'migrate_all: empty script_schema'),
    ($$SELECT datasource.migrate('mig_nope', 'v2', 'CREATE TABLE bv (id int)')$$, '42704', 'migrate: unknown logical database'),
    ($$SELECT * FROM datasource.migrate_all('v2', 'CREATE TABLE bv (id int)', ARRAY['mig_nope'])$$, '42704',
        'migrate_all: unknown logical database'),
    ($$SELECT datasource.baseline('mig_nope', 'v2')$$, '42704', 'baseline: unknown logical database'),
    ($$SELECT datasource.accept_checksum('mig_nope', 'v1', repeat('a', 64))$$, '42704', 'accept_checksum: unknown logical database'),
    ($$SELECT * FROM datasource.pending('mig_nope', '[]')$$, '42704', 'pending: unknown logical database'),
    ($$SELECT * FROM datasource.adopt_drizzle('mig_nope')$$, '42704', 'adopt_drizzle: unknown logical database'),
    ($$SELECT datasource.migrate('mig_ro', 'v1', 'CREATE TABLE bv (id int)')$$, '25006', 'migrate: read-only logical database'),
    ($$SELECT datasource.accept_checksum('mig_in', 'v9', repeat('a', 64))$$, '42704', 'accept_checksum: version never applied'),
    ($$SELECT datasource.accept_checksum('mig_in', 'v1', 'abc')$$, '22023', 'accept_checksum: 3 hex digits'),
    ($$SELECT datasource.accept_checksum('mig_in', 'v1', '')$$, '22023', 'accept_checksum: empty checksum'),
    ($$SELECT datasource.accept_checksum('mig_in', 'v1', repeat('a', 63))$$, '22023', 'accept_checksum: 63 hex digits'),
    ($$SELECT datasource.accept_checksum('mig_in', 'v1', repeat('a', 65))$$, '22023', 'accept_checksum: 65 hex digits'),
    ($$SELECT datasource.accept_checksum('mig_in', 'v1', repeat('A', 64))$$, '22023', 'accept_checksum: upper-case hex'),
    ($$SELECT datasource.accept_checksum('mig_in', 'v1', repeat('g', 64))$$, '22023', 'accept_checksum: not hex'),
    ($$SELECT datasource.accept_checksum('mig_in', 'v1', ' ' || repeat('a', 63))$$, '22023', 'accept_checksum: a blank in it'),
    ($$SELECT * FROM datasource.adopt_drizzle('mig_in')$$, '42P01', 'adopt_drizzle: no drizzle.__drizzle_migrations table'),
    ($$SELECT * FROM datasource.adopt_drizzle('mig_in', 'mig_nowhere.journal')$$, '42P01', 'adopt_drizzle: a missing named table');

-- bad manifests
INSERT INTO cases (sql, state, descr)
SELECT format('SELECT * FROM datasource.pending(%L, %L::jsonb)', 'mig_in', m), '22023', 'pending: manifest ' || label
  FROM (VALUES (1, 'an object', '{"version": "v1"}'),
               (2, 'a string', '"v1"'),
               (3, 'a number', '1'),
               (4, 'JSON null', 'null'),
               (5, 'a number element', '[1]'),
               (6, 'a null element', '[null]'),
               (7, 'a boolean element', '[true]'),
               (8, 'a nested array', '[["v1"]]'),
               (9, 'an empty object', '[{}]'),
               (10, 'an object without version', '[{"checksum": "0000000000000000000000000000000000000000000000000000000000000000"}]'),
               (11, 'a numeric version', '[{"version": 1}]'),
               (12, 'a null version', '[{"version": null}]'),
               (13, 'a version twice', '["v1", "v1"]'),
               (14, 'a version twice (string and object)', '["v1", {"version": "v1"}]'))
       AS x(ord, label, m)
 ORDER BY ord;

-- statements a migration refuses before running anything: each follows a
-- statement that would fail when run, so running first would give a
-- 'failed' result instead of the ERROR
INSERT INTO cases (sql, state, descr, hint_re)
SELECT format('SELECT datasource.migrate(%L, %L, %L)', 'mig_in', 'v_refused',
              E'CREATE TABLE mig_first (id int REFERENCES mig_nowhere (id));\n' || stmt || E';\n'),
       state, 'refused: ' || stmt, hint_re
  FROM (VALUES
    -- syntax errors
    (1, 'CREATE TABLEX t (id int)', '42601', NULL),
    (2, 'CREATE TABLE t (id int', '42601', NULL),
    (3, $q$SELECT 'unterminated$q$, '42601', NULL),
    -- cannot run in a transaction block
    (10, 'VACUUM', '25001', '\S'),
    (11, 'VACUUM ANALYZE t', '25001', '\S'),
    (12, 'CREATE INDEX CONCURRENTLY t_i ON t (id)', '25001', '\S'),
    (13, 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_i ON t (id)', '25001', '\S'),
    (14, 'DROP INDEX CONCURRENTLY t_i', '25001', '\S'),
    (15, 'REINDEX INDEX CONCURRENTLY t_i', '25001', '\S'),
    (16, 'REINDEX TABLE CONCURRENTLY t', '25001', '\S'),
    (17, 'REINDEX SYSTEM ' || quote_ident(current_database()), '25001', '\S'),
    (18, 'REINDEX DATABASE ' || quote_ident(current_database()), '25001', '\S'),
    (19, 'CLUSTER', '25001', '\S'),
    (20, 'ALTER TABLE p DETACH PARTITION c CONCURRENTLY', '25001', '\S'),
    (21, 'CREATE DATABASE mig_nodb', '25001', '\S'),
    (22, 'DROP DATABASE mig_nodb', '25001', '\S'),
    (23, 'DROP DATABASE IF EXISTS mig_nodb', '25001', '\S'),
    (24, $q$CREATE TABLESPACE mig_ts LOCATION '/tmp/mig_ts'$q$, '25001', '\S'),
    (25, 'DROP TABLESPACE mig_ts', '25001', '\S'),
    (26, $q$ALTER SYSTEM SET work_mem = '1MB'$q$, '25001', '\S'),
    (27, $q$CREATE SUBSCRIPTION mig_sub CONNECTION 'dbname=x' PUBLICATION p$q$, '25001', '\S'),
    -- transaction control
    (30, 'BEGIN', '25001', '\S'),
    (31, 'START TRANSACTION', '25001', '\S'),
    (32, 'COMMIT', '25001', '\S'),
    (33, 'END', '25001', '\S'),
    (34, 'ROLLBACK', '25001', '\S'),
    (35, 'ABORT', '25001', '\S'),
    (36, 'SAVEPOINT s1', '25001', '\S'),
    (37, 'RELEASE SAVEPOINT s1', '25001', '\S'),
    (38, 'ROLLBACK TO SAVEPOINT s1', '25001', '\S'),
    (39, $q$PREPARE TRANSACTION 'mig_x'$q$, '25001', '\S'),
    (40, $q$COMMIT PREPARED 'mig_x'$q$, '25001', '\S'),
    (41, $q$ROLLBACK PREPARED 'mig_x'$q$, '25001', '\S'),
    -- session state a migration must not change
    (50, 'SET search_path = public', '0A000', NULL),
    (51, 'SET LOCAL search_path = public', '0A000', NULL),
    (52, 'SET search_path TO DEFAULT', '0A000', NULL),
    (53, 'RESET search_path', '0A000', NULL),
    (54, $q$SET SCHEMA 'public'$q$, '0A000', NULL),
    (55, 'SET ROLE postgres', '0A000', NULL),
    (56, 'SET LOCAL ROLE postgres', '0A000', NULL),
    (57, 'SET ROLE NONE', '0A000', NULL),
    (58, 'RESET ROLE', '0A000', NULL),
    (59, 'SET SESSION AUTHORIZATION postgres', '0A000', NULL),
    (60, 'SET LOCAL SESSION AUTHORIZATION postgres', '0A000', NULL),
    (61, 'SET SESSION AUTHORIZATION DEFAULT', '0A000', NULL),
    (62, 'RESET SESSION AUTHORIZATION', '0A000', NULL),
    (63, 'RESET ALL', '0A000', NULL),
    (64, 'DISCARD ALL', '0A000', NULL),
    (65, 'DISCARD TEMP', '0A000', NULL),
    (66, 'DISCARD PLANS', '0A000', NULL),
    (67, 'SET statement_timeout = 0', '0A000', 'SET LOCAL'),
    (68, 'SET SESSION statement_timeout = 0', '0A000', 'SET LOCAL'),
    (69, $q$SET TIME ZONE 'UTC'$q$, '0A000', 'SET LOCAL'),
    (70, 'SET work_mem TO DEFAULT', '0A000', 'SET LOCAL'),
    (71, 'RESET statement_timeout', '0A000', NULL),
    -- COPY to or from the client
    (80, 'COPY t FROM STDIN', '0A000', NULL),
    (81, 'COPY t (id) FROM STDIN WITH (FORMAT csv)', '0A000', NULL),
    (82, 'COPY t TO STDOUT', '0A000', NULL),
    (83, 'COPY (SELECT 1) TO STDOUT', '0A000', NULL))
       AS x(ord, stmt, state, hint_re)
 ORDER BY ord;

CREATE FUNCTION pg_temp.run_cases() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM pg_temp.cases ORDER BY id LOOP
        RETURN NEXT throws_ok(c.sql, c.state, NULL, c.descr || ' -> ' || c.state);
        IF c.hint_re IS NOT NULL THEN
            RETURN NEXT matches((SELECT e.hint FROM pg_temp.err(c.sql) e), c.hint_re,
                c.descr || ': the error has a hint matching ' || c.hint_re);
        END IF;
    END LOOP;
END $$;

SELECT is((SELECT count(*)::int FROM cases), 138, 'fixture: 138 failing cases generated');
SELECT * FROM pg_temp.run_cases();
SELECT is(pg_temp.jn('mig_in'), 1, 'the refused calls journaled nothing (mig_in has only v1)');

-- a read-only transaction
SELECT throws_ok($$SELECT pg_temp.in_read_only($q$SELECT datasource.migrate('mig_in', 'v2', 'CREATE TABLE ro_tx (id int)')$q$)$$,
    '25006', NULL, 'migrate in a read-only transaction -> 25006');

-- a read-only and a disabled datasource (local, changed and restored here)
SELECT is((datasource.alter_source('local', read_only => true)).read_only, true,
    'fixture: the local datasource is read-only');
SELECT throws_ok($$SELECT datasource.migrate('mig_in', 'v2', 'CREATE TABLE ds_ro (id int)')$$,
    '25006', NULL, 'migrate on a read-only datasource -> 25006');
SELECT is((SELECT count(*)::int FROM datasource.migrate_all('v2', 'CREATE TABLE ds_ro (id int)')), 0,
    'migrate_all over every writable database: none while the only datasource is read-only');
SELECT pg_temp.run('ds_ro', $$datasource.migrate_all('v2', 'CREATE TABLE ds_ro (id int)', ARRAY['mig_in'])$$,
    'migrate_all listing a database of a read-only datasource is no ERROR');
SELECT results_eq($$SELECT database, status, error IS NOT NULL FROM res WHERE label = 'ds_ro' ORDER BY n$$,
    $$VALUES ('mig_in'::text, 'failed'::text, true)$$,
    'migrate_all: a database of a read-only datasource is failed with an error');
SELECT is((datasource.alter_source('local', read_only => false, enabled => false)).enabled, false,
    'fixture: the local datasource is writable and disabled');
SELECT throws_ok($$SELECT datasource.migrate('mig_in', 'v2', 'CREATE TABLE ds_off (id int)')$$,
    '55000', NULL, 'migrate on a disabled datasource -> 55000');
SELECT pg_temp.run('ds_off', $$datasource.migrate_all('v2', 'CREATE TABLE ds_off (id int)', ARRAY['mig_in'])$$,
    'migrate_all listing a database of a disabled datasource is no ERROR');
SELECT results_eq($$SELECT database, status, error IS NOT NULL FROM res WHERE label = 'ds_off' ORDER BY n$$,
    $$VALUES ('mig_in'::text, 'failed'::text, true)$$,
    'migrate_all: a database of a disabled datasource is failed with an error');
SELECT is((datasource.alter_source('local', enabled => true)).enabled, true,
    'fixture: the local datasource is enabled again');
SELECT is(pg_temp.jn('mig_in'), 1, 'the refused databases got no journal row');
SELECT is(to_regclass('mig_in.ds_off'), NULL, 'nothing ran on the disabled datasource');

-- ============================================================ one migration, all its columns
SELECT is((datasource.create_database('mig_a')).name, 'mig_a', 'fixture: logical database mig_a');
CREATE TEMP TABLE saved AS SELECT current_setting('search_path') AS search_path,
                                  current_setting('statement_timeout') AS statement_timeout;
INSERT INTO scr VALUES ('a1', E'CREATE TABLE items (id int);\n'
    || E'CREATE TABLE ctx AS SELECT (current_schemas(false))[1]::text AS first_schema, current_user::text AS who;\n'
    || E'SET LOCAL statement_timeout = 4321;\n\n');
SELECT pg_temp.run('a1', $$datasource.migrate('mig_a', 'v1', pg_temp.s('a1'), 'first migration')$$,
    'migrate v1 on mig_a runs');
SELECT results_eq($$SELECT database, version, status, checksum, error FROM res WHERE label = 'a1'$$,
    $$SELECT 'mig_a'::text, 'v1'::text, 'applied'::text, pg_temp.sha(pg_temp.norm(pg_temp.s('a1'))), NULL::text$$,
    'the result: applied, with the checksum and no error');
SELECT ok((pg_temp.r('a1')).execution_time_ms >= 0, 'the result has an execution time');
SELECT results_eq(
    $$SELECT database, datasource, schema_name, version, description, status, checksum, raw_checksum,
             previous_checksum, script, script_schema, statement_count, role, error, sqlstate
        FROM datasource.migrations WHERE database = 'mig_a'$$,
    $$SELECT 'mig_a'::text, 'local'::text, 'mig_a'::text, 'v1'::text, 'first migration'::text, 'applied'::text,
             pg_temp.sha(pg_temp.norm(pg_temp.s('a1'))), pg_temp.sha(pg_temp.s('a1')), NULL::text,
             pg_temp.s('a1'), NULL::text, 3, pg_temp.me(), NULL::text, NULL::text$$,
    'the journal row of the applied migration');
SELECT ok((SELECT started_at <= finished_at AND execution_time_ms >= 0 AND server IS NULL
             FROM datasource.migrations WHERE database = 'mig_a'),
    'the journal row has its times, and no server on the local datasource');
SELECT results_eq($$SELECT first_schema COLLATE "default", who COLLATE "default" FROM mig_a.ctx$$,
    $$VALUES ('mig_a'::text, pg_temp.me())$$,
    'the script ran with the logical database''s schema first in search_path, as the calling role');
SELECT has_table('mig_a', 'items', 'the unqualified CREATE TABLE went into the logical database''s schema');
SELECT is(current_setting('search_path'), (SELECT search_path FROM saved),
    'the session''s search_path is unchanged after migrate');
SELECT is(current_setting('statement_timeout'), (SELECT statement_timeout FROM saved),
    'a SET LOCAL of the script lasts for the migration only');
-- (should it not, the rest of this file must not run under the script's timeout)
DO $$ BEGIN
    PERFORM set_config('statement_timeout', (SELECT statement_timeout FROM pg_temp.saved), true);
END $$;

-- the same version again: nothing runs, no journal row
SELECT pg_temp.run('a1again', $$datasource.migrate('mig_a', 'v1', pg_temp.s('a1'))$$, 'migrate v1 again runs');
SELECT results_eq($$SELECT status, checksum, error FROM res WHERE label = 'a1again'$$,
    $$SELECT 'already_applied'::text, pg_temp.sha(pg_temp.norm(pg_temp.s('a1'))), NULL::text$$,
    'the same version and script again: already_applied');
SELECT pg_temp.run('a1crlf', $$datasource.migrate('mig_a', 'v1', replace(pg_temp.s('a1'), E'\n', E'\r\n'))$$,
    'migrate v1 with CR LF line ends runs');
SELECT is((pg_temp.r('a1crlf')).status, 'already_applied', 'CR LF line ends are no edit: already_applied');
SELECT pg_temp.run('a1trail', $$datasource.migrate('mig_a', 'v1', rtrim(pg_temp.s('a1'), E'\n'))$$,
    'migrate v1 without the trailing newlines runs');
SELECT is((pg_temp.r('a1trail')).status, 'already_applied', 'trailing newlines are no edit: already_applied');
SELECT is(pg_temp.jn('mig_a'), 1, 'already_applied wrote no journal row');

-- a script with only comments
SELECT pg_temp.run('a0', $$datasource.migrate('mig_a', 'v0_comments', E'-- nothing to do\n--> statement-breakpoint\n/* a block comment */\n')$$,
    'migrate of a script with only comments runs');
SELECT is((pg_temp.r('a0')).status, 'applied', 'a script with no statements is applied');
SELECT results_eq($$SELECT status, statement_count FROM datasource.migrations WHERE database = 'mig_a' AND version = 'v0_comments'$$,
    $$VALUES ('applied'::text, 0)$$, 'its journal row has statement_count 0');

-- versions at the length limit; SET LOCAL is allowed
SELECT pg_temp.run('v255', format($$datasource.migrate('mig_a', %L, 'CREATE TABLE v255 (id int)')$$, repeat('v', 255)),
    'migrate with a 255-byte version runs');
SELECT is((pg_temp.r('v255')).status, 'applied', 'a 255-byte version is accepted');
SELECT pg_temp.run('v255mb', format($$datasource.migrate('mig_a', %L, 'CREATE TABLE v255mb (id int)')$$, repeat('é', 127) || 'v'),
    'migrate with a 255-byte multibyte version runs');
SELECT is((pg_temp.r('v255mb')).status, 'applied', 'a 255-byte version of multibyte characters is accepted');
SELECT pg_temp.run('setlocal', $$datasource.migrate('mig_a', 'v_setlocal',
        E'SET LOCAL lock_timeout = ''5s'';\nSET LOCAL work_mem = ''8MB'';\nCREATE TABLE setlocal (id int);')$$,
    'migrate of a script with SET LOCAL runs');
SELECT is((pg_temp.r('setlocal')).status, 'applied', 'SET LOCAL of other settings is allowed');

-- ============================================================ checksums
DO $$ BEGIN
    PERFORM datasource.create_database('mig_lf');
    PERFORM datasource.create_database('mig_crlf');
    PERFORM datasource.create_database('mig_cr');
END $$;
INSERT INTO scr VALUES ('c_lf', E'CREATE TABLE c1 (id int);\nCREATE TABLE c2 (id int);\n\n');
INSERT INTO scr SELECT 'c_crlf', replace(body, E'\n', E'\r\n') FROM scr WHERE name = 'c_lf';
INSERT INTO scr SELECT 'c_cr', replace(body, E'\n', E'\r') FROM scr WHERE name = 'c_lf';
SELECT pg_temp.run('c_lf', $$datasource.migrate('mig_lf', 'c1', pg_temp.s('c_lf'))$$, 'migrate of the LF script runs');
SELECT pg_temp.run('c_crlf', $$datasource.migrate('mig_crlf', 'c1', pg_temp.s('c_crlf'))$$, 'migrate of the CR LF script runs');
SELECT pg_temp.run('c_cr', $$datasource.migrate('mig_cr', 'c1', pg_temp.s('c_cr'))$$, 'migrate of the CR script runs');
SELECT results_eq($$SELECT database, status FROM res WHERE label IN ('c_lf', 'c_crlf', 'c_cr') ORDER BY n$$,
    $$VALUES ('mig_lf'::text, 'applied'::text), ('mig_crlf', 'applied'), ('mig_cr', 'applied')$$,
    'the three line-end variants are applied');
SELECT is((SELECT count(DISTINCT checksum)::int FROM datasource.migrations WHERE database IN ('mig_lf', 'mig_crlf', 'mig_cr')), 1,
    'LF, CR LF and CR scripts have the same checksum');
SELECT is((SELECT count(DISTINCT raw_checksum)::int FROM datasource.migrations WHERE database IN ('mig_lf', 'mig_crlf', 'mig_cr')), 3,
    'and three different raw checksums');
SELECT is((pg_temp.jlast('mig_crlf')).checksum,
    encode(sha256(convert_to(E'CREATE TABLE c1 (id int);\nCREATE TABLE c2 (id int);', 'UTF8')), 'hex'),
    'checksum = sha256 of the script with LF line ends and no trailing newlines');
SELECT is((pg_temp.jlast('mig_crlf')).raw_checksum, encode(sha256(convert_to(pg_temp.s('c_crlf'), 'UTF8')), 'hex'),
    'raw_checksum = sha256 of the script as given (CR LF)');
SELECT is((pg_temp.jlast('mig_lf')).raw_checksum, encode(sha256(convert_to(pg_temp.s('c_lf'), 'UTF8')), 'hex'),
    'raw_checksum = sha256 of the script as given (LF)');
SELECT is((pg_temp.jlast('mig_cr')).script, pg_temp.s('c_cr'), 'the journal keeps the script as given');
SELECT is((pg_temp.r('c_crlf')).checksum, (pg_temp.jlast('mig_crlf')).checksum,
    'the result''s checksum is the journal''s');
SELECT has_table('mig_cr', 'c2', 'a script with lone CR line ends runs as two statements');

-- ============================================================ empty scripts, hostile text, statement splitting
SELECT is((datasource.create_database('mig_misc')).name, 'mig_misc', 'fixture: logical database mig_misc');
SELECT pg_temp.run('empty', $$datasource.migrate('mig_misc', 'e1', '')$$, 'migrate of an empty script runs');
SELECT pg_temp.run('blank', $$datasource.migrate('mig_misc', 'e2', E'  \n\t\n')$$, 'migrate of a blank script runs');
SELECT results_eq($$SELECT version, status, statement_count FROM datasource.migrations WHERE database = 'mig_misc' ORDER BY id$$,
    $$VALUES ('e1'::text, 'applied'::text, 0), ('e2', 'applied', 0)$$,
    'empty and blank scripts are applied with statement_count 0');
CREATE TABLE mig_misc.keep (id int);
SELECT pg_temp.run('hostile', format($$datasource.migrate('mig_misc', %L, 'CREATE TABLE h (id int)', %L)$$,
        $v$v'"; DROP TABLE mig_misc.keep;--$v$, E'a"b\n$$c$$; DROP SCHEMA public CASCADE; %s'),
    'migrate with a hostile version and description runs');
SELECT results_eq($$SELECT version, description FROM datasource.migrations WHERE database = 'mig_misc' AND version LIKE 'v%'$$,
    $r$VALUES ($v$v'"; DROP TABLE mig_misc.keep;--$v$, E'a"b\n$$c$$; DROP SCHEMA public CASCADE; %s')$r$,
    'a hostile version and description are stored verbatim');
SELECT has_table('mig_misc', 'h', 'the script of the hostile version ran');
SELECT has_table('mig_misc', 'keep', 'the hostile version was not run as SQL');
SELECT has_schema('public', 'schema public survived the hostile description');
SELECT pg_temp.run('split', $$datasource.migrate('mig_misc', 'split', $s$
CREATE FUNCTION twice(int) RETURNS int LANGUAGE plpgsql AS $b$
BEGIN
    PERFORM 1; PERFORM 2;
    RETURN $1 * 2;
END $b$;
CREATE TABLE semi (v text DEFAULT 'a;b;c');
-- a comment; with a semicolon
COMMENT ON TABLE semi IS 'x; y';
$s$)$$, 'migrate of a script with semicolons in bodies, literals and comments runs');
SELECT results_eq($$SELECT status, statement_count FROM datasource.migrations WHERE database = 'mig_misc' AND version = 'split'$$,
    $$VALUES ('applied'::text, 3)$$, 'semicolons in bodies, literals and comments do not split statements');

-- ============================================================ failure atomicity and retry
SELECT is((datasource.create_database('mig_fail')).name, 'mig_fail', 'fixture: logical database mig_fail');
INSERT INTO scr VALUES ('f1', $s$
CREATE TABLE f_one (id int);
CREATE TABLE f_two (id int);
CREATE TABLE f_three (id int REFERENCES f_prereq (id));
$s$);
SELECT pg_temp.run('f1', $$datasource.migrate('mig_fail', 'f1', pg_temp.s('f1'))$$,
    'a migration whose third statement fails is no ERROR');
SELECT results_eq($$SELECT database, version, status, error FROM res WHERE label = 'f1'$$,
    $$VALUES ('mig_fail'::text, 'f1'::text, 'failed'::text, 'relation "f_prereq" does not exist'::text)$$,
    'the result is failed, with the error message');
SELECT results_eq($$SELECT status, sqlstate, error, failed_statement FROM datasource.migrations WHERE database = 'mig_fail'$$,
    $$VALUES ('failed'::text, '42P01'::text, 'relation "f_prereq" does not exist'::text, 3)$$,
    'one failed journal row with the SQLSTATE, the message and the statement number');
SELECT hasnt_table('mig_fail', 'f_one', 'nothing of the failed script remains (f_one)');
SELECT hasnt_table('mig_fail', 'f_two', 'nothing of the failed script remains (f_two)');
SELECT hasnt_table('mig_fail', 'f_three', 'nothing of the failed script remains (f_three)');
SELECT is((SELECT count(*)::int FROM datasource.ddl_log WHERE database = 'mig_fail' AND migration_version = 'f1'), 0,
    'no DDL journal row survives the failed script');
SELECT results_eq($$SELECT version, state FROM datasource.pending('mig_fail', '["f1"]')$$,
    $$VALUES ('f1'::text, 'missing'::text)$$, 'pending: a failed version is missing');
CREATE TABLE mig_fail.f_prereq (id int PRIMARY KEY);
SELECT pg_temp.run('f1retry', $$datasource.migrate('mig_fail', 'f1', pg_temp.s('f1'))$$, 'the retry runs');
SELECT results_eq($$SELECT status, error FROM res WHERE label = 'f1retry'$$,
    $$VALUES ('applied'::text, NULL::text)$$, 'the same script is applied on retry');
SELECT results_eq($$SELECT status FROM datasource.migrations WHERE database = 'mig_fail' ORDER BY id$$,
    $$VALUES ('failed'::text), ('applied')$$, 'the journal has the failed attempt, then the applied one');
SELECT has_table('mig_fail', 'f_three', 'the retried script''s objects exist');
-- f_one, f_two, f_three and f_three's foreign key (ALTER TABLE)
SELECT is((SELECT count(*)::int FROM datasource.ddl_log WHERE database = 'mig_fail' AND migration_version = 'f1'), 4,
    'the applied retry has its 4 DDL journal rows');

-- ============================================================ changed checksums
SELECT is((datasource.create_database('mig_ck')).name, 'mig_ck', 'fixture: logical database mig_ck');
INSERT INTO scr VALUES ('ck_a', 'CREATE TABLE ck (id int);'),
                       ('ck_b', 'CREATE TABLE ck (id int, note text);');
SELECT pg_temp.run('ck_a', $$datasource.migrate('mig_ck', 'v1', pg_temp.s('ck_a'))$$, 'migrate v1 on mig_ck runs');
SELECT is((pg_temp.r('ck_a')).status, 'applied', 'mig_ck v1 is applied');
SELECT throws_ok($$SELECT datasource.migrate('mig_ck', 'v1', pg_temp.s('ck_b'))$$, '55000', NULL,
    'an applied version with another script -> 55000');
SELECT matches((SELECT hint FROM pg_temp.err($$SELECT datasource.migrate('mig_ck', 'v1', pg_temp.s('ck_b'))$$)),
    'datasource\.accept_checksum\(', 'the hint names datasource.accept_checksum(...)');
SELECT is(pg_temp.jn('mig_ck'), 1, 'the refused edit journaled nothing');
SELECT pg_temp.run('ck_acc', $$datasource.accept_checksum('mig_ck', 'v1', pg_temp.sha(pg_temp.s('ck_b')))$$,
    'accept_checksum runs');
SELECT results_eq($$SELECT database, version, status, checksum FROM res WHERE label = 'ck_acc'$$,
    $$SELECT 'mig_ck'::text, 'v1'::text, 'checksum_accepted'::text, pg_temp.sha(pg_temp.s('ck_b'))$$,
    'accept_checksum: status checksum_accepted with the new checksum');
SELECT results_eq($$SELECT status, checksum, previous_checksum FROM datasource.migrations WHERE database = 'mig_ck' ORDER BY id$$,
    $$VALUES ('applied'::text, pg_temp.sha(pg_temp.s('ck_a')), NULL::text),
             ('checksum_accepted', pg_temp.sha(pg_temp.s('ck_b')), pg_temp.sha(pg_temp.s('ck_a')))$$,
    'a checksum_accepted journal row with the new and the previous checksum');
SELECT pg_temp.run('ck_acc2', $$datasource.accept_checksum('mig_ck', 'v1', pg_temp.sha(pg_temp.s('ck_b')))$$,
    'accept_checksum of the same checksum again runs');
SELECT is((pg_temp.r('ck_acc2')).status, 'already_applied', 'accepting the effective checksum again: already_applied');
SELECT is(pg_temp.jn('mig_ck'), 2, 'and no journal row');
SELECT pg_temp.run('ck_b', $$datasource.migrate('mig_ck', 'v1', pg_temp.s('ck_b'))$$, 'migrate with the edited script runs');
SELECT is((pg_temp.r('ck_b')).status, 'already_applied', 'after accept_checksum the edited script is already_applied');
SELECT columns_are('mig_ck', 'ck', ARRAY['id'], 'nothing of the edited script ran');
SELECT throws_ok($$SELECT datasource.migrate('mig_ck', 'v1', pg_temp.s('ck_a'))$$, '55000', NULL,
    'the original script is now the edit -> 55000');
SELECT results_eq($$SELECT version, state FROM datasource.pending('mig_ck',
        jsonb_build_array(jsonb_build_object('version', 'v1', 'checksum', pg_temp.sha(pg_temp.s('ck_b')))))$$,
    $$VALUES ('v1'::text, 'applied'::text)$$, 'pending: the accepted checksum is applied');
SELECT results_eq($$SELECT version, state FROM datasource.pending('mig_ck',
        jsonb_build_array(jsonb_build_object('version', 'v1', 'script', pg_temp.s('ck_a'))))$$,
    $$VALUES ('v1'::text, 'changed'::text)$$, 'pending: the original script is changed');
SELECT pg_temp.run('ck_f', $$datasource.migrate('mig_ck', 'v2', 'CREATE TABLE ck2 (id int REFERENCES mig_nowhere (id))')$$,
    'a failing v2 on mig_ck runs');
SELECT is((pg_temp.r('ck_f')).status, 'failed', 'mig_ck v2 failed');
SELECT throws_ok($$SELECT datasource.accept_checksum('mig_ck', 'v2', repeat('a', 64))$$, '42704', NULL,
    'accept_checksum of a version that only failed -> 42704');

-- ============================================================ baseline
SELECT is((datasource.create_database('mig_base')).name, 'mig_base', 'fixture: logical database mig_base');
SELECT pg_temp.run('b1', $$datasource.baseline('mig_base', 'b1', 'schema made by hand')$$, 'baseline runs');
SELECT results_eq($$SELECT database, version, status, checksum, error FROM res WHERE label = 'b1'$$,
    $$VALUES ('mig_base'::text, 'b1'::text, 'baseline'::text, NULL::text, NULL::text)$$,
    'baseline: status baseline, no checksum');
SELECT results_eq($$SELECT version, status, checksum, description, role FROM datasource.migrations WHERE database = 'mig_base'$$,
    $$VALUES ('b1'::text, 'baseline'::text, NULL::text, 'schema made by hand'::text, pg_temp.me())$$,
    'a baseline journal row without checksum');
SELECT pg_temp.run('b1again', $$datasource.baseline('mig_base', 'b1')$$, 'baseline of the same version again runs');
SELECT is((pg_temp.r('b1again')).status, 'already_applied', 'baseline again: already_applied');
SELECT pg_temp.run('b1mig', $$datasource.migrate('mig_base', 'b1', 'CREATE TABLE bb (id int)')$$,
    'migrate of a baselined version runs');
SELECT is((pg_temp.r('b1mig')).status, 'already_applied', 'migrate of a baselined version: already_applied');
SELECT hasnt_table('mig_base', 'bb', 'nothing ran for the baselined version');
SELECT pg_temp.run('b2mig', $$datasource.migrate('mig_base', 'b2', 'CREATE TABLE bb (id int)')$$, 'migrate b2 runs');
SELECT pg_temp.run('b2base', $$datasource.baseline('mig_base', 'b2')$$, 'baseline of an applied version runs');
SELECT is((pg_temp.r('b2base')).status, 'already_applied', 'baseline of an applied version: already_applied');
SELECT is(pg_temp.jn('mig_base'), 2, 'the already_applied calls wrote no journal row');

-- ============================================================ pending
SELECT is((datasource.create_database('mig_pend')).name, 'mig_pend', 'fixture: logical database mig_pend');
INSERT INTO scr VALUES ('p1', E'CREATE TABLE p1 (id int);\n'), ('p2', 'CREATE TABLE p2 (id int);');
SELECT pg_temp.run('p', $$datasource.migrate('mig_pend', 'p1', pg_temp.s('p1'))$$, 'pending fixture: p1 applied');
SELECT pg_temp.run('p', $$datasource.migrate('mig_pend', 'p2', pg_temp.s('p2'))$$, 'pending fixture: p2 applied');
SELECT pg_temp.run('p', $$datasource.migrate('mig_pend', 'p3', 'CREATE TABLE p3 (id int REFERENCES mig_nowhere (id))')$$,
    'pending fixture: p3 failed');
SELECT pg_temp.run('p', $$datasource.baseline('mig_pend', 'p0')$$, 'pending fixture: p0 baselined');
-- p3 failed: p6 and p5 are applied out of order
SELECT pg_temp.run('p', $$datasource.migrate_all('p6', 'CREATE TABLE p6 (id int)', ARRAY['mig_pend'], out_of_order => true)$$,
    'pending fixture: p6 applied');
SELECT pg_temp.run('p', $$datasource.migrate_all('p5', 'CREATE TABLE p5 (id int)', ARRAY['mig_pend'], out_of_order => true)$$,
    'pending fixture: p5 applied');
SELECT results_eq($$SELECT status FROM res WHERE label = 'p' ORDER BY n$$,
    $$VALUES ('applied'::text), ('applied'), ('failed'), ('baseline'), ('applied'), ('applied')$$,
    'pending fixture: the six results');
SELECT results_eq(
    $$SELECT version, state FROM datasource.pending('mig_pend', jsonb_build_array(
        jsonb_build_object('version', 'p2', 'checksum', repeat('0', 64)),
        'p9',
        jsonb_build_object('version', 'p1', 'script', replace(pg_temp.s('p1'), E'\n', E'\r\n')),
        'p3',
        jsonb_build_object('version', 'p0', 'checksum', pg_temp.sha('anything')),
        jsonb_build_object('version', 'p4')))$$,
    $$VALUES ('p2'::text, 'changed'::text), ('p9', 'missing'), ('p1', 'applied'), ('p3', 'missing'),
             ('p0', 'applied'), ('p4', 'missing'), ('p6', 'unknown'), ('p5', 'unknown')$$,
    'pending: manifest order (changed, missing, applied, failed = missing, baseline = applied), then unknown in journal order');
SELECT results_eq($$SELECT version, state FROM datasource.pending('mig_pend', '[]')$$,
    $$VALUES ('p1'::text, 'unknown'::text), ('p2', 'unknown'), ('p0', 'unknown'), ('p6', 'unknown'), ('p5', 'unknown')$$,
    'pending with an empty manifest: every applied or baselined version is unknown, in journal order');
SELECT results_eq(
    $$SELECT version, state FROM datasource.pending('mig_pend', jsonb_build_array(
        'p1', jsonb_build_object('version', 'p2', 'checksum', pg_temp.sha(pg_temp.s('p2'))),
        jsonb_build_object('version', 'p5', 'script', 'CREATE TABLE p5 (id int)'),
        jsonb_build_object('version', 'p6', 'script', 'CREATE TABLE p6 (id bigint)'), 'p0'))$$,
    $$VALUES ('p1'::text, 'applied'::text), ('p2', 'applied'), ('p5', 'applied'), ('p6', 'changed'), ('p0', 'applied')$$,
    'pending: version only, equal checksum and equal script are applied; another script is changed');
SELECT results_eq($$SELECT version, state FROM datasource.pending('mig_in', '["v1", "zz", "aa"]')$$,
    $$VALUES ('v1'::text, 'applied'::text), ('zz', 'missing'), ('aa', 'missing')$$,
    'pending keeps the manifest order (not sorted)');

-- ============================================================ script_schema (drizzle-kit output)
DO $$ BEGIN
    PERFORM datasource.create_database('mig_ten_a');
    PERFORM datasource.create_database('mig_ten_b', schema_name => 'mig_tenb_schema');
    PERFORM datasource.create_database('mig_ten_c', schema_name => 'MigTenantC');
END $$;
INSERT INTO scr VALUES ('drz', $s$CREATE TYPE "public"."kind" AS ENUM('person', 'company');--> statement-breakpoint
CREATE TABLE "public"."customers" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" "public"."kind" DEFAULT 'person' NOT NULL,
	"public" boolean DEFAULT true,
	"note" text DEFAULT 'see public.customers'
);
--> statement-breakpoint
CREATE TABLE "public"."orders" (
	"id" serial PRIMARY KEY NOT NULL,
	"customer_id" integer NOT NULL REFERENCES "public"."customers"("id"),
	"total" numeric
);
--> statement-breakpoint
ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "orders_customer_idx" ON "public"."orders" USING btree ("customer_id");--> statement-breakpoint
CREATE FUNCTION public.order_label() RETURNS text LANGUAGE sql AS $fn$ SELECT 'public.orders' $fn$;
$s$);
SELECT pg_temp.run('drz_a', $$datasource.migrate('mig_ten_a', '0000_init', pg_temp.s('drz'), script_schema => 'public')$$,
    'the drizzle-kit script with script_schema => public runs on mig_ten_a');
SELECT pg_temp.run('drz_b', $$datasource.migrate('mig_ten_b', '0000_init', pg_temp.s('drz'), script_schema => 'public')$$,
    'the drizzle-kit script with script_schema => public runs on mig_ten_b');
SELECT pg_temp.run('drz_c', $$datasource.migrate('mig_ten_c', '0000_init', pg_temp.s('drz'), script_schema => 'public')$$,
    'the drizzle-kit script with script_schema => public runs on mig_ten_c (upper-case schema)');
SELECT results_eq($$SELECT database, status, error FROM res WHERE label IN ('drz_a', 'drz_b', 'drz_c') ORDER BY n$$,
    $$VALUES ('mig_ten_a'::text, 'applied'::text, NULL::text), ('mig_ten_b', 'applied', NULL), ('mig_ten_c', 'applied', NULL)$$,
    'the drizzle-kit script is applied to the three tenants');

CREATE FUNCTION pg_temp.check_tenant(sch text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    cust regclass := to_regclass(format('%I.customers', sch));
    ord regclass := to_regclass(format('%I.orders', sch));
BEGIN
    RETURN NEXT has_table(sch, 'customers', sch || ': customers is in the tenant''s schema');
    RETURN NEXT has_table(sch, 'orders', sch || ': orders is in the tenant''s schema');
    RETURN NEXT has_type(sch, 'kind', sch || ': the enum kind is in the tenant''s schema');
    RETURN NEXT has_function(sch, 'order_label', sch || ': the function is in the tenant''s schema');
    RETURN NEXT is((SELECT t.typnamespace::regnamespace::text FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                     WHERE a.attrelid = cust AND a.attname = 'kind'),
        quote_ident(sch), sch || ': customers.kind has the tenant''s enum type');
    RETURN NEXT has_column(sch, 'customers', 'public', sch || ': a column named public is kept (no qualifier)');
    RETURN NEXT is((SELECT count(*)::int FROM pg_constraint WHERE conrelid = ord AND contype = 'f' AND confrelid = cust),
        2, sch || ': both foreign keys of orders reference the tenant''s customers');
    RETURN NEXT is((SELECT count(*)::int FROM pg_index WHERE indrelid = ord AND indexrelid = to_regclass(format('%I.orders_customer_idx', sch))),
        1, sch || ': the index is on the tenant''s orders');
    RETURN NEXT matches((SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a
                           ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                          WHERE d.adrelid = cust AND a.attname = 'note'),
        'see public\.customers', sch || ': a string literal is not rewritten');
    RETURN NEXT matches((SELECT prosrc FROM pg_proc WHERE proname = 'order_label' AND pronamespace = to_regnamespace(quote_ident(sch))),
        'public\.orders', sch || ': a dollar-quoted function body is not rewritten');
END $$;
SELECT * FROM pg_temp.check_tenant('mig_ten_a');
SELECT * FROM pg_temp.check_tenant('mig_tenb_schema');
SELECT * FROM pg_temp.check_tenant('MigTenantC');
SELECT hasnt_table('public', 'customers', 'nothing was created in public (customers)');
SELECT hasnt_table('public', 'orders', 'nothing was created in public (orders)');
SELECT hasnt_type('public', 'kind', 'nothing was created in public (kind)');
SELECT results_eq(
    $$SELECT database, schema_name, script_schema, statement_count, script = pg_temp.s('drz')
        FROM datasource.migrations WHERE version = '0000_init' AND database LIKE 'mig_ten_%' ORDER BY database$$,
    $$VALUES ('mig_ten_a'::text, 'mig_ten_a'::text, 'public'::text, 6, true),
             ('mig_ten_b', 'mig_tenb_schema', 'public', 6, true),
             ('mig_ten_c', 'MigTenantC', 'public', 6, true)$$,
    'journal rows: the tenant''s schema, script_schema, 6 statements and the script as given');
SELECT is((SELECT count(DISTINCT checksum)::int FROM datasource.migrations WHERE version = '0000_init' AND database LIKE 'mig_ten_%'), 1,
    'the three tenants have the same checksum (of the script as given)');
SELECT pg_temp.run('drz_all', $$datasource.migrate_all('0001_extra', E'CREATE TABLE "public"."extra" ("id" int);\n',
        ARRAY['mig_ten_b', 'mig_ten_a'], script_schema => 'public')$$,
    'migrate_all with script_schema runs');
SELECT results_eq($$SELECT database, status FROM res WHERE label = 'drz_all' ORDER BY n$$,
    $$VALUES ('mig_ten_b'::text, 'applied'::text), ('mig_ten_a', 'applied')$$, 'migrate_all with script_schema applies');
SELECT ok(to_regclass('mig_tenb_schema.extra') IS NOT NULL AND to_regclass('mig_ten_a.extra') IS NOT NULL
          AND to_regclass('public.extra') IS NULL, 'migrate_all rewrote the qualifier for each tenant');
SELECT pg_temp.run('drz_tpl', $$datasource.migrate('mig_ten_c', '0002_tpl', 'CREATE TABLE tenant_template.tpl (id int);', script_schema => 'tenant_template')$$,
    'a script_schema other than public runs');
SELECT is((pg_temp.r('drz_tpl')).status, 'applied', 'a script_schema other than public is rewritten too');
SELECT has_table('MigTenantC', 'tpl', 'tenant_template.tpl went into the tenant''s schema');

-- ============================================================ adopt_drizzle
SELECT is((datasource.create_database('mig_drz')).name, 'mig_drz', 'fixture: logical database mig_drz');
INSERT INTO scr VALUES
    ('d0', E'CREATE TABLE "users" (\n\t"id" serial PRIMARY KEY NOT NULL,\n\t"email" text NOT NULL\n);\n'
           || E'--> statement-breakpoint\nCREATE UNIQUE INDEX "users_email_idx" ON "users" USING btree ("email");\n'),
    ('d1', 'ALTER TABLE "users" ADD COLUMN "name" text;'),
    ('d2', 'ALTER TABLE "users" ADD COLUMN "age" integer;'),
    ('d3', 'ALTER TABLE "users" ADD COLUMN "city" text;');
CREATE SCHEMA drizzle;
CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint);
-- d0's hash is of the file as is; d1's file had a final newline the script lacks
INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES
    (encode(sha256(convert_to(pg_temp.s('d0'), 'UTF8')), 'hex'), 1700000000000),
    (encode(sha256(convert_to(pg_temp.s('d1') || E'\n', 'UTF8')), 'hex'), 1700000001000),
    (encode(sha256(convert_to(pg_temp.s('d2'), 'UTF8')), 'hex'), 1700000002000);
SELECT results_eq($$SELECT hash, created_at, state FROM datasource.adopt_drizzle('mig_drz') ORDER BY created_at$$,
    $$SELECT hash, created_at, 'adopted'::text FROM drizzle.__drizzle_migrations ORDER BY created_at$$,
    'adopt_drizzle: every entry of drizzle.__drizzle_migrations is adopted');
SELECT results_eq($$SELECT version, status, raw_checksum FROM datasource.migrations WHERE database = 'mig_drz' ORDER BY version$$,
    $$SELECT 'drizzle:' || created_at, 'adopted'::text, hash FROM drizzle.__drizzle_migrations ORDER BY created_at$$,
    'adopted journal rows: version drizzle:<created_at>, raw_checksum = drizzle''s hash');
UPDATE seqscans SET before = pg_stat_get_xact_numscans('datasource.migrations'::regclass);
SELECT results_eq($$SELECT hash, created_at, state FROM datasource.adopt_drizzle('mig_drz', 'drizzle.__drizzle_migrations') ORDER BY created_at$$,
    $$SELECT hash, created_at, 'already_adopted'::text FROM drizzle.__drizzle_migrations ORDER BY created_at$$,
    'adopt_drizzle again: every entry already_adopted');
SELECT is((SELECT pg_stat_get_xact_numscans('datasource.migrations'::regclass) - before FROM seqscans), 0::bigint,
    'adopt_drizzle finds adopted entries without reading the journal sequentially');
SELECT is(pg_temp.jn('mig_drz'), 3, 'adopting again wrote no journal row');
SELECT results_eq($$SELECT version, state FROM datasource.pending('mig_drz', '[]') ORDER BY version$$,
    $$VALUES ('drizzle:1700000000000'::text, 'unknown'::text), ('drizzle:1700000001000', 'unknown'),
             ('drizzle:1700000002000', 'unknown')$$,
    'pending: the adopted entries are applied versions');
SELECT pg_temp.run('d0', $$datasource.migrate('mig_drz', '0000_init', pg_temp.s('d0'))$$, 'migrate of an adopted script runs');
SELECT results_eq($$SELECT status, checksum FROM res WHERE label = 'd0'$$,
    $$SELECT 'already_applied'::text, pg_temp.sha(pg_temp.norm(pg_temp.s('d0')))$$,
    'migrate of a script whose sha256 is an adopted hash: already_applied');
SELECT pg_temp.run('d1', $$datasource.migrate('mig_drz', '0001_name', pg_temp.s('d1'))$$,
    'migrate of a script whose sha256 with a final newline is an adopted hash runs');
SELECT is((pg_temp.r('d1')).status, 'already_applied', 'sha256(script || newline) matches too: already_applied');
SELECT hasnt_table('mig_drz', 'users', 'nothing ran for the adopted scripts');
SELECT is(pg_temp.jn('mig_drz'), 3, 'no journal row was added');
SELECT results_eq(
    $$SELECT version, status, CASE WHEN version LIKE 'drizzle:%' THEN NULL ELSE checksum END, raw_checksum
        FROM datasource.migrations WHERE database = 'mig_drz'
       ORDER BY raw_checksum = (SELECT hash FROM drizzle.__drizzle_migrations WHERE created_at = 1700000000000) DESC, version$$,
    $$SELECT v.version, 'adopted'::text, v.checksum, d.hash
        FROM (VALUES (1, '0000_init'::text, pg_temp.sha(pg_temp.norm(pg_temp.s('d0'))), 1700000000000::bigint),
                     (2, '0001_name', pg_temp.sha(pg_temp.norm(pg_temp.s('d1'))), 1700000001000),
                     (3, 'drizzle:1700000002000', NULL, 1700000002000)) v(ord, version, checksum, created_at)
        JOIN drizzle.__drizzle_migrations d USING (created_at) ORDER BY v.ord$$,
    'the adopted rows took the versions and checksums; the third is unchanged');
SELECT results_eq($$SELECT version, state FROM datasource.pending('mig_drz', '["0000_init", "0001_name", "0002_age"]')$$,
    $$VALUES ('0000_init'::text, 'applied'::text), ('0001_name', 'applied'), ('0002_age', 'missing'),
             ('drizzle:1700000002000', 'unknown')$$,
    'pending after the adopted versions were named');
INSERT INTO drizzle.__drizzle_migrations (hash, created_at)
    VALUES (encode(sha256(convert_to(pg_temp.s('d3'), 'UTF8')), 'hex'), 1700000003000);
SELECT results_eq($$SELECT created_at, state FROM datasource.adopt_drizzle('mig_drz') ORDER BY created_at$$,
    $$VALUES (1700000000000::bigint, 'already_adopted'::text), (1700000001000, 'already_adopted'),
             (1700000002000, 'already_adopted'), (1700000003000, 'adopted')$$,
    'a new drizzle entry is adopted, the earlier ones (two now named) are already_adopted');
SELECT is(pg_temp.jn('mig_drz'), 4, 'one journal row for the new entry');
-- another table name
SELECT is((datasource.create_database('mig_drz2')).name, 'mig_drz2', 'fixture: logical database mig_drz2');
CREATE SCHEMA mig_drz_custom;
CREATE TABLE mig_drz_custom.journal (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint);
INSERT INTO mig_drz_custom.journal (hash, created_at) VALUES (repeat('b', 64), 42);
SELECT results_eq($$SELECT hash, created_at, state FROM datasource.adopt_drizzle('mig_drz2', 'mig_drz_custom.journal')$$,
    $$VALUES (repeat('b', 64), 42::bigint, 'adopted'::text)$$, 'adopt_drizzle reads a named table');
SELECT results_eq($$SELECT version, status, raw_checksum FROM datasource.migrations WHERE database = 'mig_drz2'$$,
    $$VALUES ('drizzle:42'::text, 'adopted'::text, repeat('b', 64))$$, 'and journals its entry');

-- ============================================================ the DDL journal
SELECT is((datasource.create_database('mig_ddl')).name, 'mig_ddl', 'fixture: logical database mig_ddl');
SELECT pg_temp.mark('adhoc');
CREATE TABLE mig_ddl.t1 (id int);
CREATE INDEX t1_id ON mig_ddl.t1 (id);
ALTER TABLE mig_ddl.t1 ADD COLUMN note text;
COMMENT ON SCHEMA mig_ddl IS 'the schema itself';
DROP TABLE mig_ddl.t1;
SELECT results_eq(
    $$SELECT database, schema_name, command_tag, object_type, object_identity, role, migration_version
        FROM pg_temp.since('adhoc')$$,
    $$VALUES ('mig_ddl'::text, 'mig_ddl'::text, 'CREATE TABLE'::text, 'table'::text, 'mig_ddl.t1'::text, pg_temp.me(), NULL::text),
             ('mig_ddl', 'mig_ddl', 'CREATE INDEX', 'index', 'mig_ddl.t1_id', pg_temp.me(), NULL),
             ('mig_ddl', 'mig_ddl', 'ALTER TABLE', 'table', 'mig_ddl.t1', pg_temp.me(), NULL),
             ('mig_ddl', 'mig_ddl', 'COMMENT', 'schema', 'mig_ddl', pg_temp.me(), NULL),
             ('mig_ddl', 'mig_ddl', 'DROP TABLE', 'table', 'mig_ddl.t1', pg_temp.me(), NULL)$$,
    'ddl_log: one row per ad-hoc DDL command on the logical database (the DROP names only the table)');
SELECT results_eq(
    $$SELECT statement ~ 'CREATE TABLE mig_ddl\.t1', transaction_id = pg_current_xact_id(), logged_at IS NOT NULL
        FROM pg_temp.since('adhoc') LIMIT 1$$,
    $$VALUES (true, true, true)$$,
    'ddl_log: the row has the statement, the transaction id and the time');
SELECT is((SELECT count(*)::int FROM pg_temp.since('adhoc') WHERE statement IS NULL), 0,
    'ddl_log: every row has its statement');

SELECT pg_temp.mark('elsewhere');
CREATE SCHEMA mig_plain;
CREATE TABLE mig_plain.p (id int);
ALTER TABLE mig_plain.p ADD COLUMN x int;
COMMENT ON SCHEMA mig_plain IS 'not a logical database';
DROP TABLE mig_plain.p;
CREATE TABLE public.mig_pub (id int);
DROP TABLE public.mig_pub;
CREATE TEMP TABLE mig_tmp (id int);
DROP TABLE mig_tmp;
SELECT is((SELECT count(*)::int FROM pg_temp.since('elsewhere')), 0,
    'ddl_log: nothing for DDL in schemas that are not logical databases, nor for temporary tables');

SELECT pg_temp.mark('migrate');
INSERT INTO scr VALUES ('ddl1', E'CREATE TABLE t2 (id int);\nCREATE INDEX t2_id ON t2 (id);\nALTER TABLE t2 ADD COLUMN note text;\nDROP TABLE t2;\n');
SELECT pg_temp.run('ddl1', $$datasource.migrate('mig_ddl', 'd1', pg_temp.s('ddl1'))$$, 'migrate d1 on mig_ddl runs');
SELECT is((pg_temp.r('ddl1')).status, 'applied', 'mig_ddl d1 is applied');
SELECT results_eq(
    $$SELECT database, command_tag, object_type, object_identity, migration_version,
             (regexp_match(statement, '^\s*(\w+ \w+)'))[1]
        FROM pg_temp.since('migrate')$$,
    $$VALUES ('mig_ddl'::text, 'CREATE TABLE'::text, 'table'::text, 'mig_ddl.t2'::text, 'd1'::text, 'CREATE TABLE'::text),
             ('mig_ddl', 'CREATE INDEX', 'index', 'mig_ddl.t2_id', 'd1', 'CREATE INDEX'),
             ('mig_ddl', 'ALTER TABLE', 'table', 'mig_ddl.t2', 'd1', 'ALTER TABLE'),
             ('mig_ddl', 'DROP TABLE', 'table', 'mig_ddl.t2', 'd1', 'DROP TABLE')$$,
    'ddl_log: the statements run by migrate are tagged with the version and carry their own statement');
SELECT is((SELECT count(*)::int FROM pg_temp.since('migrate') WHERE statement ~ ';\s*\S'), 0,
    'ddl_log: each statement of a migration is logged alone, not the whole script');
SELECT pg_temp.run('ddl_fail', $$datasource.migrate('mig_ddl', 'd_fail', 'CREATE TABLE t3 (id int); CREATE TABLE t3 (id int);')$$,
    'a failing migrate on mig_ddl runs');
SELECT pg_temp.mark('after');
CREATE TABLE mig_ddl.after_migrate (id int);
SELECT results_eq($$SELECT command_tag, object_identity, migration_version FROM pg_temp.since('after')$$,
    $$VALUES ('CREATE TABLE'::text, 'mig_ddl.after_migrate'::text, NULL::text)$$,
    'ddl_log: DDL after migrate (applied or failed) is not tagged with a version');

SELECT pg_temp.mark('off');
SET datasource.ddl_log = off;
CREATE TABLE mig_ddl.t_off (id int);
DROP TABLE mig_ddl.t_off;
SELECT pg_temp.run('ddl_off', $$datasource.migrate('mig_ddl', 'd_before_fail_off', 'CREATE TABLE t_off2 (id int)')$$,
    'migrate with datasource.ddl_log off runs');
RESET datasource.ddl_log;
SELECT is((SELECT count(*)::int FROM pg_temp.since('off')), 0,
    'SET datasource.ddl_log = off: no DDL journal rows (ad hoc or by migrate)');
SELECT has_table('mig_ddl', 't_off2', 'the migration itself ran with the journal off');
ALTER EVENT TRIGGER datasource_ddl_log DISABLE;
ALTER EVENT TRIGGER datasource_ddl_log_drop DISABLE;
CREATE TABLE mig_ddl.t_dis (id int);
DROP TABLE mig_ddl.t_dis;
ALTER EVENT TRIGGER datasource_ddl_log ENABLE;
ALTER EVENT TRIGGER datasource_ddl_log_drop ENABLE;
SELECT is((SELECT count(*)::int FROM pg_temp.since('off')), 0,
    'with the event triggers disabled: no DDL journal rows');
CREATE TABLE mig_ddl.t_on (id int);
SELECT results_eq($$SELECT command_tag, object_identity FROM pg_temp.since('off')$$,
    $$VALUES ('CREATE TABLE'::text, 'mig_ddl.t_on'::text)$$,
    'journal on again: the next DDL is logged');

-- ============================================================ a migrating role
SELECT is((datasource.create_database('mig_priv')).name, 'mig_priv', 'fixture: logical database mig_priv');
CREATE ROLE mig_deployer NOLOGIN;
CREATE ROLE mig_nocreate NOLOGIN;
CREATE ROLE mig_noexec NOLOGIN;
GRANT EXECUTE ON FUNCTION datasource.migrate(text, text, text, text, text) TO mig_deployer, mig_nocreate;
GRANT USAGE, CREATE ON SCHEMA mig_priv TO mig_deployer;
GRANT USAGE ON SCHEMA mig_priv TO mig_nocreate, mig_noexec;
SELECT function_privs_are('datasource', 'migrate', ARRAY['text', 'text', 'text', 'text', 'text'],
    'mig_deployer', ARRAY['EXECUTE'], 'fixture: mig_deployer may execute migrate');
SELECT schema_privs_are('mig_priv', 'mig_nocreate', ARRAY['USAGE'], 'fixture: mig_nocreate has no CREATE on mig_priv');

SELECT pg_temp.mark('priv');
SET ROLE mig_deployer;
SELECT pg_temp.run('priv1', $$datasource.migrate('mig_priv', 'p1', 'CREATE TABLE pt (id int); CREATE INDEX pt_id ON pt (id);')$$,
    'a role with EXECUTE on migrate and CREATE on the schema calls migrate');
SELECT throws_ok($$INSERT INTO datasource.migrations (database, datasource, schema_name, version, status, role, started_at, finished_at)
                   VALUES ('mig_priv', 'local', 'mig_priv', 'forged', 'applied', 'x', now(), now())$$,
    '42501', NULL, 'the migrating role cannot write the journal directly');
SELECT throws_ok($$SET datasource.ddl_log = off$$, '42501', NULL,
    'a role that is not superuser cannot turn the DDL journal off');
RESET ROLE;
SELECT results_eq($$SELECT status, error FROM res WHERE label = 'priv1'$$,
    $$VALUES ('applied'::text, NULL::text)$$, 'the non-superuser''s migration is applied');
SELECT results_eq($$SELECT version, status, role FROM datasource.migrations WHERE database = 'mig_priv'$$,
    $$VALUES ('p1'::text, 'applied'::text, 'mig_deployer'::text)$$, 'its journal row has its role');
SELECT table_owner_is('mig_priv', 'pt', 'mig_deployer', 'the script ran as the calling role (it owns the table)');
SELECT results_eq($$SELECT command_tag, role, migration_version FROM pg_temp.since('priv')$$,
    $$VALUES ('CREATE TABLE'::text, 'mig_deployer'::text, 'p1'::text), ('CREATE INDEX', 'mig_deployer', 'p1')$$,
    'ddl_log rows of the migration carry the calling role');

SET ROLE mig_nocreate;
SELECT pg_temp.run('priv2', $$datasource.migrate('mig_priv', 'p2', 'CREATE TABLE pt2 (id int)')$$,
    'a role without CREATE on the schema calls migrate: no ERROR');
RESET ROLE;
SELECT results_eq($$SELECT status, error ~ 'permission denied' FROM res WHERE label = 'priv2'$$,
    $$VALUES ('failed'::text, true)$$, 'without CREATE on the schema the migration is failed (permission denied)');
SELECT results_eq($$SELECT status, sqlstate, role FROM datasource.migrations WHERE database = 'mig_priv' AND version = 'p2'$$,
    $$VALUES ('failed'::text, '42501'::text, 'mig_nocreate'::text)$$, 'its failed journal row has 42501 and the role');
SELECT hasnt_table('mig_priv', 'pt2', 'the refused table does not exist');

SET ROLE mig_noexec;
SELECT throws_ok($$SELECT datasource.migrate('mig_priv', 'p3', 'CREATE TABLE pt3 (id int)')$$, '42501',
    'permission denied for function migrate', 'a role without EXECUTE cannot call migrate');
SELECT throws_ok($$SELECT * FROM datasource.migrate_all('p3', 'CREATE TABLE pt3 (id int)')$$, '42501', NULL,
    'a role without EXECUTE cannot call migrate_all');
SELECT throws_ok($$SELECT * FROM datasource.pending('mig_priv', '[]')$$, '42501', NULL,
    'a role without EXECUTE cannot call pending');
SELECT throws_ok($$SELECT count(*) FROM datasource.migrations$$, '42501', NULL,
    'a role without grants cannot read the journal');
RESET ROLE;

-- ============================================================ migrate_all refusals for one database
DO $$ BEGIN
    PERFORM datasource.create_database('mig_ok1');
END $$;
SELECT pg_temp.run('rf1', $$datasource.migrate_all('r1', 'CREATE TABLE r (id int)', ARRAY['mig_ro', 'mig_ok1'])$$,
    'migrate_all listing a read-only logical database runs');
SELECT results_eq($$SELECT database, status, error IS NOT NULL FROM res WHERE label = 'rf1' ORDER BY n$$,
    $$VALUES ('mig_ro'::text, 'failed'::text, true), ('mig_ok1', 'applied', false)$$,
    'migrate_all: the read-only database is failed, the other applied');
SELECT is(pg_temp.jn('mig_ro'), 0, 'the refused read-only database has no journal row');
SELECT hasnt_table('mig_ro', 'r', 'nothing ran on the read-only database');
SELECT pg_temp.run('rf2', $$datasource.migrate_all('r1', 'CREATE TABLE r (id int, x int)', ARRAY['mig_ok1'])$$,
    'migrate_all with a changed script runs');
SELECT results_eq($$SELECT database, status, error IS NOT NULL FROM res WHERE label = 'rf2' ORDER BY n$$,
    $$VALUES ('mig_ok1'::text, 'failed'::text, true)$$, 'migrate_all: a changed checksum is failed');
SELECT is(pg_temp.jn('mig_ok1'), 1, 'the checksum refusal wrote no journal row');

-- ============================================================ remote targets refused before connecting
CREATE SERVER mig_srv_ro FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1');
CREATE SERVER mig_srv_off FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1');
DO $$ BEGIN
    PERFORM datasource.create_source('mig_remote_ro', 'mig_srv_ro', read_only => true);
    PERFORM datasource.create_source('mig_remote_off', 'mig_srv_off');
    PERFORM datasource.alter_source('mig_remote_off', enabled => false);
END $$;
INSERT INTO datasource.databases (name, source, schema_name) VALUES
    ('mig_rdb_ro', 'mig_remote_ro', 'app'), ('mig_rdb_off', 'mig_remote_off', 'app');
SELECT throws_ok($$SELECT datasource.migrate('mig_rdb_ro', 'v1', 'CREATE TABLE x (id int)')$$, '25006', NULL,
    'migrate on a read-only remote datasource -> 25006');
SELECT throws_ok($$SELECT datasource.migrate('mig_rdb_off', 'v1', 'CREATE TABLE x (id int)')$$, '55000', NULL,
    'migrate on a disabled remote datasource -> 55000');
SELECT pg_temp.run('rf3', $$datasource.migrate_all('v1', 'CREATE TABLE x (id int)', ARRAY['mig_rdb_off', 'mig_rdb_ro'])$$,
    'migrate_all listing remote databases that are refused runs');
SELECT results_eq($$SELECT database, status, error IS NOT NULL FROM res WHERE label = 'rf3' ORDER BY n$$,
    $$VALUES ('mig_rdb_off'::text, 'failed'::text, true), ('mig_rdb_ro', 'failed', true)$$,
    'migrate_all: disabled and read-only remote databases are failed');
SELECT is(pg_temp.jn('mig_rdb_off') + pg_temp.jn('mig_rdb_ro'), 0, 'and have no journal rows');

-- ============================================================ rename and drop
SELECT is(pg_temp.jn('mig_a'), 5, 'fixture: mig_a has 5 journal rows');
SELECT is((datasource.rename_database('mig_a', 'mig_a_renamed')).name, 'mig_a_renamed', 'mig_a is renamed');
SELECT results_eq($$SELECT pg_temp.jn('mig_a'), pg_temp.jn('mig_a_renamed')$$, $$VALUES (0, 5)$$,
    'rename_database carries the journal along');
SELECT pg_temp.run('renamed', $$datasource.migrate('mig_a_renamed', 'v1', pg_temp.s('a1'))$$, 'migrate under the new name runs');
SELECT is((pg_temp.r('renamed')).status, 'already_applied', 'the renamed database still has v1 applied');
SELECT lives_ok($$SELECT datasource.drop_database('mig_a_renamed')$$, 'drop_database of a migrated database');
SELECT is(pg_temp.jn('mig_a_renamed'), 5, 'drop_database keeps the journal rows (the journal is history)');

-- ============================================================ the extension again, same transaction
-- The journal's tables are new relations now: a migration must not use what it
-- looked up before (this drops the pg_temp helpers that use its types).
DROP EXTENSION pg_datasource CASCADE;
CREATE EXTENSION pg_datasource;
SELECT is((SELECT status FROM datasource.migrate((datasource.create_database('mig_again')).name, 'v1',
                                                   'CREATE TABLE again (id int)')),
    'applied', 'after DROP and CREATE EXTENSION in the same transaction, migrate applies and journals');

SELECT * FROM finish();
ROLLBACK;
