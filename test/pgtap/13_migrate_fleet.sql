-- 13_migrate_fleet: what makes migrate_all safe on a fleet of tenants.
--
-- A statement_timeout (57014, as a cancel) ends the whole call: no tenant
-- after it is attempted (a sequence, which no rollback resets, counts the
-- attempts), nothing of the call is kept, and so the journal has no row of
-- it; the same for migrate().  The order rule: a version is not applied
-- where an earlier version (byte order of the names) failed and was never
-- applied since, unless out_of_order.  dry_run reports the plan and runs and
-- journals nothing; max_failures stops trying after n failures (the rest are
-- not_attempted); raise_on_failure turns failures into one ERROR that takes
-- the whole call back.  Everything here is rolled back.
BEGIN;
SELECT plan(42);
SET LOCAL client_min_messages = warning;

-- the attempts of the scripts below: nextval survives any rollback
CREATE SCHEMA fleet_counter;
CREATE SEQUENCE fleet_counter.attempts;
CREATE FUNCTION pg_temp.attempts() RETURNS bigint LANGUAGE sql AS
    $$ SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM fleet_counter.attempts $$;
CREATE FUNCTION pg_temp.reset_attempts() RETURNS void LANGUAGE sql AS
    $$ SELECT setval('fleet_counter.attempts', 1, false) $$;

-- the SQLSTATE q raises (a cancel included, which WHEN OTHERS does not catch),
-- or 'no error'
CREATE FUNCTION pg_temp.state(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION
    WHEN query_canceled THEN RETURN SQLSTATE;
    WHEN OTHERS THEN RETURN SQLSTATE;
END $$;

-- journal rows of a version
CREATE FUNCTION pg_temp.jv(ver text) RETURNS int LANGUAGE sql STABLE AS
    $$ SELECT count(*)::int FROM datasource.migrations WHERE version = ver $$;

-- the rows of a migrate_all call as "database status" lines
CREATE FUNCTION pg_temp.rows(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    out text;
BEGIN
    EXECUTE format('SELECT string_agg(m.database || '' '' || m.status, '', '') FROM %s m', call) INTO out;
    RETURN out;
END $$;

-- ============================================================ a cancel ends the call
DO $$ BEGIN
    FOR i IN 1..30 LOOP
        PERFORM datasource.create_database(format('fleet_t%s', lpad(i::text, 2, '0')));
    END LOOP;
END $$;
CREATE TEMP TABLE fleet AS
    SELECT array_agg(format('fleet_t%s', lpad(i::text, 2, '0')) ORDER BY i) AS names
      FROM generate_series(1, 30) i;

-- counts its attempt, creates a table, and sleeps in the tenth tenant
CREATE TEMP TABLE scr (name text PRIMARY KEY, body text NOT NULL);
INSERT INTO scr VALUES ('sleepy', $s$
SELECT nextval('fleet_counter.attempts');
CREATE TABLE sleepy (id int);
SELECT pg_sleep(CASE WHEN current_schema() = 'fleet_t10' THEN 60 ELSE 0 END);
$s$);

DO $$ BEGIN PERFORM pg_temp.reset_attempts(); END $$;
SET LOCAL statement_timeout = '4s';
SELECT is(pg_temp.state(format('SELECT * FROM datasource.migrate_all(%L, %L, %L)', 'c1',
                                (SELECT body FROM scr WHERE name = 'sleepy'), (SELECT names FROM fleet))),
    '57014', 'migrate_all: statement_timeout in the tenth of 30 tenants ends the call with 57014');
SET LOCAL statement_timeout = 0;
SELECT is(pg_temp.attempts(), 10::bigint,
    'the 20 tenants after the interrupted one were not attempted');
SELECT is(pg_temp.jv('c1'), 0, 'the journal has no row of the interrupted call');
SELECT is((SELECT count(*)::int FROM generate_series(1, 30) i
            WHERE to_regclass(format('fleet_t%s.sleepy', lpad(i::text, 2, '0'))) IS NOT NULL), 0,
    'no tenant kept the migration (what the call reported, an error, is what is kept)');

-- the same call without the timeout applies everywhere
SELECT is(pg_temp.rows(format('datasource.migrate_all(%L, %L, %L)', 'c1',
              replace((SELECT body FROM scr WHERE name = 'sleepy'), '60', '0'), (SELECT names FROM fleet))),
    (SELECT string_agg(n || ' applied', ', ' ORDER BY n) FROM unnest((SELECT names FROM fleet)) n),
    'without the timeout the call applies to all 30 tenants');

-- migrate(): the interrupted script is raised, not journaled as failed
DO $$ BEGIN PERFORM pg_temp.reset_attempts(); END $$;
SET LOCAL statement_timeout = '2s';
SELECT is(pg_temp.state($$SELECT datasource.migrate('fleet_t10', 'c2', 'CREATE TABLE c2 (id int); SELECT pg_sleep(60)')$$),
    '57014', 'migrate: statement_timeout during the script raises 57014');
SET LOCAL statement_timeout = 0;
SELECT is(pg_temp.jv('c2'), 0, 'migrate: no journal row (no failed row for an interrupt)');
SELECT is(to_regclass('fleet_t10.c2'), NULL, 'migrate: nothing of the script remains');

-- ============================================================ the order rule
DO $$ BEGIN PERFORM datasource.create_database(n) FROM unnest(ARRAY['ord_a', 'ord_b']) n; END $$;
CREATE TABLE ord_a.init (conflict text);
SELECT is(pg_temp.rows($$datasource.migrate_all('0001_init', 'CREATE TABLE init (id int)', ARRAY['ord_a', 'ord_b'])$$),
    'ord_a failed, ord_b applied', 'fixture: 0001_init fails on ord_a, applies on ord_b');
SELECT is(pg_temp.rows($$datasource.migrate_all('0002_notes', 'CREATE TABLE notes (id int)', ARRAY['ord_a', 'ord_b'])$$),
    'ord_a failed, ord_b applied', 'migrate_all: 0002_notes is refused where 0001_init failed, applied elsewhere');
SELECT is(to_regclass('ord_a.notes'), NULL, 'ord_a has no notes table');
SELECT isnt(to_regclass('ord_b.notes'), NULL, 'ord_b has the notes table');
SELECT is((SELECT count(*)::int FROM datasource.migrations WHERE database = 'ord_a' AND version = '0002_notes'), 0,
    'the refusal is not journaled (nothing ran)');
SELECT matches((SELECT m.error FROM datasource.migrate_all('0002_notes', 'CREATE TABLE notes (id int)', ARRAY['ord_a']) m),
    '0001_init', 'the refusal names the earlier version that failed');
SELECT is(pg_temp.state($$SELECT datasource.migrate('ord_a', '0002_notes', 'CREATE TABLE notes (id int)')$$),
    '55000', 'migrate: refused with 55000');
SELECT is(to_regclass('ord_a.notes'), NULL, 'migrate: ord_a still has no notes table');
SELECT is(pg_temp.state($$SELECT datasource.migrate('ord_a', '0000_pre', 'CREATE TABLE pre (id int)')$$),
    'no error', 'a version below the failed one is not refused');
SELECT isnt(to_regclass('ord_a.pre'), NULL, 'and is applied');
SELECT is(pg_temp.rows($$datasource.migrate_all('0002_notes', 'CREATE TABLE notes (id int)', ARRAY['ord_a'], out_of_order => true)$$),
    'ord_a applied', 'out_of_order => true applies it anyway');
SELECT isnt(to_regclass('ord_a.notes'), NULL, 'ord_a now has the notes table');
-- fixing the failed version lifts the refusal
DROP TABLE ord_a.init;
SELECT is((datasource.migrate('ord_a', '0001_init', 'CREATE TABLE init (id int)')).status, 'applied',
    'the failed version is retried and applied');
SELECT is((datasource.migrate('ord_a', '0003_tags', 'CREATE TABLE tags (id int)')).status, 'applied',
    'a later version applies once the earlier one is applied');
-- a baseline lifts it as well
DO $$ BEGIN PERFORM datasource.create_database('ord_c'); END $$;
CREATE TABLE ord_c.init (conflict text);
SELECT is((datasource.migrate('ord_c', '0001_init', 'CREATE TABLE init (id int)')).status, 'failed',
    'fixture: 0001_init fails on ord_c');
SELECT is((datasource.baseline('ord_c', '0001_init')).status, 'baseline', 'it is baselined');
SELECT is((datasource.migrate('ord_c', '0002_notes', 'CREATE TABLE notes (id int)')).status, 'applied',
    'after a baseline of the failed version, the next one applies');

-- ============================================================ dry_run
DO $$ BEGIN PERFORM datasource.create_database(n) FROM unnest(ARRAY['dry_a', 'dry_b', 'dry_c']) n; END $$;
DO $$ BEGIN PERFORM datasource.create_database('dry_ro', read_only => true); END $$;
INSERT INTO scr VALUES ('d2', 'SELECT nextval(''fleet_counter.attempts''); CREATE TABLE d (id int)');
SELECT is((datasource.migrate('dry_a', 'd2', (SELECT body FROM scr WHERE name = 'd2'))).status, 'applied',
    'fixture: d2 applied on dry_a');
CREATE TABLE dry_c.d (conflict text);
SELECT is((datasource.migrate('dry_c', 'd1', 'CREATE TABLE d (id int)')).status, 'failed', 'fixture: d1 failed on dry_c');
CREATE TEMP TABLE jcount AS SELECT count(*) AS n FROM datasource.migrations;
DO $$ BEGIN PERFORM pg_temp.reset_attempts(); END $$;
SELECT results_eq(
    $$SELECT database, status, error IS NOT NULL FROM datasource.migrate_all('d2', (SELECT body FROM scr WHERE name = 'd2'),
        ARRAY['dry_a', 'dry_b', 'dry_c', 'dry_ro'], dry_run => true)$$,
    $$VALUES ('dry_a'::text, 'already_applied'::text, false), ('dry_b', 'would_apply', false),
             ('dry_c', 'refused', true), ('dry_ro', 'refused', true)$$,
    'dry_run: already_applied, would_apply, refused by the order rule, refused read-only');
SELECT is(pg_temp.attempts(), 0::bigint, 'dry_run runs no script');
SELECT is(to_regclass('dry_b.d'), NULL, 'dry_run: the would_apply tenant is unchanged');
SELECT is((SELECT count(*) FROM datasource.migrations), (SELECT n FROM jcount), 'dry_run journals nothing');
SELECT matches((SELECT error FROM datasource.migrate_all('d2', 'CREATE TABLE d (id int)', ARRAY['dry_a'], dry_run => true)),
    'applied with another script', 'dry_run: a changed checksum is refused, with the reason');
SELECT is(pg_temp.state($$SELECT * FROM datasource.migrate_all('d9', 'CREATE TABLE d9 (id int)', ARRAY['dry_b'], dry_run => NULL)$$),
    '22004', 'dry_run => NULL -> 22004');

-- ============================================================ max_failures
DO $$ BEGIN PERFORM datasource.create_database(format('mf_%s', i)) FROM generate_series(1, 5) i; END $$;
CREATE TABLE mf_2.x (conflict text);
CREATE TABLE mf_3.x (conflict text);
DO $$ BEGIN PERFORM pg_temp.reset_attempts(); END $$;
SELECT is(pg_temp.rows($$datasource.migrate_all('x1', 'SELECT nextval(''fleet_counter.attempts''); CREATE TABLE x (id int)',
                         ARRAY['mf_1', 'mf_2', 'mf_3', 'mf_4', 'mf_5'], max_failures => 2)$$),
    'mf_1 applied, mf_2 failed, mf_3 failed, mf_4 not_attempted, mf_5 not_attempted',
    'max_failures => 2: after the second failure the rest are not_attempted');
SELECT is(pg_temp.attempts(), 3::bigint, 'the not_attempted tenants ran nothing');
SELECT results_eq($$SELECT database, status FROM datasource.migrations WHERE version = 'x1' ORDER BY database$$,
    $$VALUES ('mf_1'::text, 'applied'::text), ('mf_2', 'failed'), ('mf_3', 'failed')$$,
    'the journal has the attempted tenants only');
SELECT is(to_regclass('mf_4.x'), NULL, 'mf_4 is unchanged');
SELECT is(pg_temp.state($$SELECT * FROM datasource.migrate_all('x2', 'CREATE TABLE x2 (id int)', ARRAY['mf_1'], max_failures => 0)$$),
    '22023', 'max_failures => 0 -> 22023');

-- ============================================================ raise_on_failure
DO $$ BEGIN PERFORM datasource.create_database(n) FROM unnest(ARRAY['rf_a', 'rf_b']) n; END $$;
CREATE TABLE rf_b.r (conflict text);
SELECT is(pg_temp.state($$SELECT * FROM datasource.migrate_all('r1', 'CREATE TABLE r (id int)', ARRAY['rf_a', 'rf_b'],
                                                              raise_on_failure => true)$$),
    '42P07', 'raise_on_failure: an ERROR with the first failure''s SQLSTATE');
SELECT is(to_regclass('rf_a.r'), NULL, 'the applied tenant rolled back with the call');
SELECT is(pg_temp.jv('r1'), 0, 'and the journal has no row of the call');
SELECT is(pg_temp.rows($$datasource.migrate_all('r1', 'CREATE TABLE r (id int)', ARRAY['rf_a'], raise_on_failure => true)$$),
    'rf_a applied', 'raise_on_failure without a failure returns the rows');

SELECT * FROM finish();
ROLLBACK;
