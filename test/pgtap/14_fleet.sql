-- 14_fleet: the fleet view over known journals, and the progress view
-- without shared_preload_libraries.
--
-- fleet_status() gives one row per mapped logical database: the highest
-- applied version (C order of names), the number of applied versions, of
-- versions whose last attempt failed (and that are not applied), the error
-- of the latest such attempt, the manifest's versions not applied (failed
-- ones count), drift ('none', 'changed', 'never migrated', or the error
-- that kept it from being checked), and migrating (NULL here: the test
-- server does not preload the library).  A dropped logical database has
-- no row, and its journal rows stay.  migration_progress raises 55000
-- rather than show no rows.  Everything here is rolled back.
BEGIN;
SELECT plan(27);
SET LOCAL client_min_messages = error;

DO $$
BEGIN
    PERFORM datasource.create_database(n) FROM unnest(ARRAY['fl_a', 'fl_b', 'fl_c', 'fl_d', 'fl_e']) n;
    -- fl_a: 0001 and 0002 applied, 0003 failed
    PERFORM datasource.migrate('fl_a', '0001', 'CREATE TABLE t1 (id int)');
    PERFORM datasource.migrate('fl_a', '0002', 'CREATE TABLE t2 (id int)');
    PERFORM datasource.migrate('fl_a', '0003', 'SELECT 1/0');
    -- fl_b: 0001 baselined
    PERFORM datasource.baseline('fl_b', '0001');
    -- fl_c: 0001 failed, then applied; 0002 failed twice, with two errors
    PERFORM datasource.migrate('fl_c', '0001', 'SELECT 1/0');
    PERFORM datasource.migrate('fl_c', '0001', 'CREATE TABLE t1 (id int)');
    PERFORM datasource.migrate('fl_c', '0002', 'SELECT 1/0');
    PERFORM datasource.migrate('fl_c', '0002', 'SELECT * FROM fl_no_such_table');
    -- fl_d: nothing; fl_e: a10, then a9 (the higher in C order)
    PERFORM datasource.migrate('fl_e', 'a10', 'CREATE TABLE t10 (id int)');
    PERFORM datasource.migrate('fl_e', 'a9', 'CREATE TABLE t9 (id int)');
END $$;

CREATE TEMP TABLE f AS SELECT * FROM datasource.fleet WHERE database LIKE 'fl\_%';

SELECT is((SELECT array_agg(database || ' ' || source || ' ' || schema_name ORDER BY database) FROM f),
    ARRAY['fl_a local fl_a', 'fl_b local fl_b', 'fl_c local fl_c', 'fl_d local fl_d', 'fl_e local fl_e'],
    'fleet: one row per logical database, with its datasource and schema');
SELECT is((SELECT array_agg(coalesce(last_version, '-') ORDER BY database) FROM f),
    ARRAY['0002', '0001', '0001', '-', 'a9'],
    'last_version: the highest applied version in C order (a failed one is not applied)');
SELECT is((SELECT array_agg(applied ORDER BY database) FROM f), ARRAY[2, 1, 1, 0, 2],
    'applied: the number of applied (or baselined) versions');
SELECT is((SELECT array_agg(failed ORDER BY database) FROM f), ARRAY[1, 0, 1, 0, 0],
    'failed: versions whose last attempt failed; a failure applied since does not count, two failures of one version count once');
SELECT is((SELECT last_error FROM f WHERE database = 'fl_a'), 'division by zero',
    'last_error: the error of the failed version');
SELECT is((SELECT last_error FROM f WHERE database = 'fl_c'), 'relation "fl_no_such_table" does not exist',
    'last_error: the latest failed attempt''s error');
SELECT is((SELECT count(*)::int FROM f WHERE last_error IS NOT NULL), 2,
    'last_error is NULL where nothing failed, or where the failure was applied since');
SELECT is((SELECT last_applied_at FROM f WHERE database = 'fl_a'),
    (SELECT max(finished_at) FROM datasource.migrations WHERE database = 'fl_a' AND status = 'applied'),
    'last_applied_at: when a version was last applied');
SELECT is((SELECT last_applied_at FROM f WHERE database = 'fl_d'), NULL,
    'last_applied_at is NULL when nothing was applied');
SELECT is((SELECT count(*)::int FROM f WHERE pending IS NULL AND drift IS NULL AND migrating IS NULL), 5,
    'the view: no manifest (pending NULL), drift not checked (NULL), migrating unknown without preload (NULL)');

-- a manifest: what each logical database still lacks
CREATE TEMP TABLE fm AS
    SELECT * FROM datasource.fleet_status('["0001", "0002", "0003"]') WHERE database LIKE 'fl\_%';
SELECT is((SELECT array_agg(pending ORDER BY database) FROM fm), ARRAY[1, 2, 2, 3, 3],
    'pending: the manifest''s versions not applied, failed ones included');
SELECT is((SELECT array_agg(drift ORDER BY database) FROM fm), ARRAY[NULL, NULL, NULL, NULL, NULL]::text[],
    'without with_drift, drift is not checked');
SELECT throws_ok($$SELECT * FROM datasource.fleet_status('{"not": "an array"}')$$, '22023', NULL,
    'a malformed manifest is refused as pending() refuses it');

-- drift
CREATE TABLE fl_b.out_of_band (id int);
CREATE TEMP TABLE fd AS
    SELECT * FROM datasource.fleet_status(with_drift => true) WHERE database LIKE 'fl\_%';
SELECT is((SELECT array_agg(drift ORDER BY database) FROM fd),
    ARRAY['none', 'changed', 'none', 'never migrated', 'none'],
    'with_drift: none, changed (a table made outside a migration), never migrated');
SELECT is((SELECT count(*)::int FROM fd WHERE pending IS NULL), 5,
    'with_drift and no manifest: pending NULL');

-- a datasource that cannot be reached: said in its row, the others go on
CREATE SERVER fl_dead FOREIGN DATA WRAPPER pg_datasource
    OPTIONS (host '127.0.0.1', port '1', dbname 'nothing');
CREATE USER MAPPING FOR CURRENT_USER SERVER fl_dead OPTIONS (user 'nobody', password 'x');
DO $$
BEGIN
    PERFORM datasource.create_source('fl_dead', 'fl_dead');
END $$;
-- mapped as create_database would have while the server was up
INSERT INTO datasource.databases (name, source, schema_name) VALUES ('fl_far', 'fl_dead', 'far');
INSERT INTO datasource.migrations (database, datasource, schema_name, version, status, role,
                                   started_at, finished_at, schema_fingerprint)
    VALUES ('fl_far', 'fl_dead', 'far', '0001', 'baseline', current_user, now(), now(), 'x');
CREATE TEMP TABLE fx AS
    SELECT * FROM datasource.fleet_status(with_drift => true) WHERE database LIKE 'fl\_%';
SELECT is((SELECT count(*)::int FROM fx), 6, 'the unreachable logical database has its row, and the others theirs');
SELECT alike((SELECT drift FROM fx WHERE database = 'fl_far'), 'error: %',
    'drift of an unreachable datasource: the error, in the row');
SELECT is((SELECT array_agg(drift ORDER BY database) FROM fx WHERE database <> 'fl_far'),
    ARRAY['none', 'changed', 'none', 'never migrated', 'none'],
    'the other rows are checked as before');
SELECT is((SELECT last_version || ' ' || applied FROM fx WHERE database = 'fl_far'), '0001 1',
    'a remote logical database''s journal is counted like a local one''s');

-- a dropped logical database: no row, its history kept
DO $$ BEGIN PERFORM datasource.drop_database('fl_a'); END $$;
SELECT is((SELECT count(*)::int FROM datasource.fleet WHERE database = 'fl_a'), 0,
    'a dropped logical database has no row in the fleet');
SELECT is((SELECT count(*)::int FROM datasource.migrations WHERE database = 'fl_a'), 3,
    'its journal rows stay');
SELECT is((SELECT count(*)::int FROM datasource.fleet WHERE database LIKE 'fl\_%'), 5,
    'the others are still there');

-- the fleet is not PUBLIC's: it reads the journal
CREATE ROLE fl_reader;
SET LOCAL ROLE fl_reader;
SELECT throws_ok($$SELECT * FROM datasource.fleet$$, '42501', NULL,
    'a role without privileges cannot read the fleet');
RESET ROLE;

-- the progress of migrations: 55000 without shared_preload_libraries
SELECT throws_ok($$SELECT * FROM datasource.migration_progress$$, '55000', NULL,
    'migration_progress without the library preloaded: 55000, not zero rows');
SELECT is((SELECT count(*)::int FROM f WHERE migrating IS NULL), 5,
    'fleet: migrating is NULL (unknown) without the library preloaded');
SET LOCAL ROLE fl_reader;
SELECT throws_ok($$SELECT * FROM datasource.migration_progress$$, '55000', NULL,
    'PUBLIC may read migration_progress (and gets the same 55000)');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM datasource.migrate_all('0004', 'CREATE TABLE t4 (id int)',
                                                             ARRAY['fl_b', 'fl_d'])
            WHERE status = 'applied'), 2,
    'without the library preloaded migrate_all runs as before');

SELECT * FROM finish();
ROLLBACK;
