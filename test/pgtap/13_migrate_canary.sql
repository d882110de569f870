-- 13_migrate_canary: migrate_all's canary and manifest.
--
-- canary: the listed targets run first; when one of them fails, every
-- other target is not_attempted (nothing runs there: a sequence, which no
-- rollback resets, counts the attempts; nothing is journaled) and
-- raise_on_failure applies as usual.  manifest (pending()'s format): the
-- order of the series; a version is refused (55000) where a version
-- before it in the manifest is missing or failed, whatever the byte order
-- of the names, unless out_of_order; a version not in the manifest, or a
-- script whose checksum is not the manifest's, ends the call (22023)
-- before anything runs.  Everything here is rolled back.
BEGIN;
SELECT plan(38);
SET LOCAL client_min_messages = warning;

CREATE SCHEMA canary_counter;
CREATE SEQUENCE canary_counter.attempts;
CREATE FUNCTION pg_temp.attempts() RETURNS bigint LANGUAGE sql AS
    $$ SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM canary_counter.attempts $$;
CREATE FUNCTION pg_temp.reset_attempts() RETURNS void LANGUAGE sql AS
    $$ SELECT setval('canary_counter.attempts', 1, false) $$;
CREATE FUNCTION pg_temp.state(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION
    WHEN OTHERS THEN RETURN SQLSTATE;
END $$;
CREATE FUNCTION pg_temp.rows(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    out text;
BEGIN
    EXECUTE format('SELECT string_agg(m.database || '' '' || m.status, '', '') FROM %s m', call) INTO out;
    RETURN out;
END $$;
CREATE FUNCTION pg_temp.jv(ver text) RETURNS text LANGUAGE sql STABLE AS
    $$ SELECT coalesce(string_agg(database || ' ' || status, ', ' ORDER BY database), '')
         FROM datasource.migrations WHERE version = ver $$;
CREATE TEMP TABLE scr (name text PRIMARY KEY, body text NOT NULL);
INSERT INTO scr VALUES ('c', 'SELECT nextval(''canary_counter.attempts''); CREATE TABLE c (id int)');

-- ============================================================ canary
DO $$ BEGIN PERFORM datasource.create_database(format('can_%s', i)) FROM generate_series(1, 5) i; END $$;
CREATE TABLE can_3.c (conflict text);
DO $$ BEGIN PERFORM pg_temp.reset_attempts(); END $$;
SELECT is(pg_temp.rows($$datasource.migrate_all('c1', (SELECT body FROM scr WHERE name = 'c'),
                         ARRAY['can_1', 'can_2', 'can_3', 'can_4', 'can_5'], canary => ARRAY['can_3'])$$),
    'can_3 failed, can_1 not_attempted, can_2 not_attempted, can_4 not_attempted, can_5 not_attempted',
    'a failed canary runs first, and every other target is not_attempted');
SELECT is(pg_temp.attempts(), 1::bigint, 'only the canary ran its script');
SELECT is((SELECT count(*)::int FROM generate_series(1, 5) i
            WHERE to_regclass(format('can_%s.c', i)) IS NOT NULL), 1,
    'the other targets are untouched (only can_3''s own conflicting table exists)');
SELECT is(pg_temp.jv('c1'), 'can_3 failed', 'the journal has the canary''s failure only');
SELECT matches((SELECT m.error FROM datasource.migrate_all('c1', (SELECT body FROM scr WHERE name = 'c'),
                  ARRAY['can_1', 'can_3'], canary => ARRAY['can_3']) m WHERE m.database = 'can_1'),
    'not attempted: a canary failed \("can_3"\)', 'the not_attempted row says a canary failed, and which');

-- canaries that succeed: they run first, in their order, then the rest
DO $$ BEGIN PERFORM pg_temp.reset_attempts(); END $$;
SELECT is(pg_temp.rows($$datasource.migrate_all('c2', (SELECT body FROM scr WHERE name = 'c'),
                         ARRAY['can_1', 'can_2', 'can_4', 'can_5'], canary => ARRAY['can_5', 'can_2'])$$),
    'can_5 applied, can_2 applied, can_1 applied, can_4 applied',
    'good canaries run first in their order, then the others');
SELECT is(pg_temp.attempts(), 4::bigint, 'all four ran');

-- a canary that fails among several: the other canaries still run
DO $$ BEGIN PERFORM pg_temp.reset_attempts(); END $$;
CREATE TABLE can_1.d (conflict text);
SELECT is(pg_temp.rows($$datasource.migrate_all('c3', 'SELECT nextval(''canary_counter.attempts''); CREATE TABLE d (id int)',
                         ARRAY['can_1', 'can_2', 'can_4', 'can_5'], canary => ARRAY['can_1', 'can_2'])$$),
    'can_1 failed, can_2 applied, can_4 not_attempted, can_5 not_attempted',
    'every canary runs; one failure stops the rest');
SELECT is(pg_temp.attempts(), 2::bigint, 'the two canaries ran, nothing else');

-- with raise_on_failure: the canary's SQLSTATE, nothing kept
SELECT is(pg_temp.state($$SELECT * FROM datasource.migrate_all('c4', 'CREATE TABLE c (id int)',
                          ARRAY['can_2', 'can_3'], canary => ARRAY['can_3'], raise_on_failure => true)$$),
    '55000', 'raise_on_failure: a failed canary raises its SQLSTATE (55000: the order rule, c1 failed on can_3)');
SELECT is(pg_temp.jv('c4'), '', 'and nothing of the call is journaled');

-- in a dry run, a refused canary: the plan says the rest would not be attempted
SELECT is(pg_temp.rows($$datasource.migrate_all('c5', 'CREATE TABLE c5 (id int)',
                         ARRAY['can_2', 'can_3'], canary => ARRAY['can_3'], dry_run => true)$$),
    'can_3 refused, can_2 not_attempted', 'dry_run: a refused canary (the order rule) -> the rest not_attempted');

-- the canary must be a target
DO $$ BEGIN PERFORM pg_temp.reset_attempts(); END $$;
SELECT is(pg_temp.state($$SELECT * FROM datasource.migrate_all('c6', (SELECT body FROM scr WHERE name = 'c'),
                          ARRAY['can_2'], canary => ARRAY['can_4'])$$),
    '22023', 'a canary that is not a target -> 22023');
SELECT is(pg_temp.attempts(), 0::bigint, 'and nothing ran');
SELECT is(pg_temp.state($$SELECT * FROM datasource.migrate_all('c6', 'SELECT 1', ARRAY['can_2'], canary => ARRAY['can_2', NULL])$$),
    '22004', 'a null canary -> 22004');
SELECT is(pg_temp.state($$SELECT * FROM datasource.migrate_all('c6', 'SELECT 1', ARRAY['can_2'], canary => ARRAY['can_2', 'can_2'])$$),
    '42710', 'a canary listed twice -> 42710');
SELECT is(pg_temp.state($$SELECT * FROM datasource.migrate_all('c6', 'SELECT 1', ARRAY['can_2'], canary => ARRAY['nope'])$$),
    '42704', 'a canary that is no logical database -> 42704');

-- ============================================================ manifest
-- man_a: 0001 and 0002 applied; man_b: 0001 applied, 0002 missing;
-- man_c: 0001 applied, 0002 failed
DO $$ BEGIN PERFORM datasource.create_database(n) FROM unnest(ARRAY['man_a', 'man_b', 'man_c']) n; END $$;
SELECT is(pg_temp.rows($$datasource.migrate_all('0001', 'CREATE TABLE one (id int)', ARRAY['man_a', 'man_b', 'man_c'])$$),
    'man_a applied, man_b applied, man_c applied', 'fixture: 0001 everywhere');
CREATE TABLE man_c.two (conflict text);
SELECT is(pg_temp.rows($$datasource.migrate_all('0002', 'CREATE TABLE two (id int)', ARRAY['man_a', 'man_c'])$$),
    'man_a applied, man_c failed', 'fixture: 0002 applied on man_a, failed on man_c, never run on man_b');

-- without a manifest, a missing version does not refuse (byte order, failures only)
SELECT is(pg_temp.rows($$datasource.migrate_all('0003', 'CREATE TABLE three (id int)', ARRAY['man_a', 'man_b', 'man_c'], dry_run => true)$$),
    'man_a would_apply, man_b would_apply, man_c refused', 'without a manifest: only the failed 0002 refuses');

CREATE TEMP TABLE res AS
    SELECT * FROM datasource.migrate_all('0003', 'CREATE TABLE three (id int)', ARRAY['man_a', 'man_b', 'man_c'],
                                         manifest => '["0001", "0002", "0003"]');
SELECT is((SELECT string_agg(database || ' ' || status, ', ' ORDER BY database) FROM res),
    'man_a applied, man_b failed, man_c failed', 'with a manifest: the missing 0002 refuses 0003 on man_b too');
SELECT is((SELECT sqlstate FROM res WHERE database = 'man_b'), '55000', 'the refusal is 55000');
SELECT matches((SELECT error FROM res WHERE database = 'man_b'), '"0002"', 'the refusal names the earlier version');
SELECT matches((SELECT error_detail FROM res WHERE database = 'man_b'), 'never applied', 'man_b: 0002 is missing');
SELECT matches((SELECT error_detail FROM res WHERE database = 'man_c'), 'failed there', 'man_c: 0002 failed');
SELECT is(to_regclass('man_b.three'), NULL, 'man_b is untouched');
SELECT isnt(to_regclass('man_a.three'), NULL, 'man_a has the migration');
SELECT is(pg_temp.jv('0003'), 'man_a applied', 'the refusals are not journaled (nothing ran)');

-- out_of_order skips the manifest's order
SELECT is(pg_temp.rows($$datasource.migrate_all('0003', 'CREATE TABLE three (id int)', ARRAY['man_b'],
                         manifest => '["0001", "0002", "0003"]', out_of_order => true)$$),
    'man_b applied', 'out_of_order => true applies it on man_b');

-- the manifest's order, not the names': z_first comes before a_second
SELECT is(pg_temp.rows($$datasource.migrate_all('a_second', 'CREATE TABLE a2 (id int)', ARRAY['man_a'],
                         manifest => '["0001", "0002", "0003", "z_first", "a_second"]')$$),
    'man_a failed', 'a_second is refused while z_first, before it in the manifest, is missing');
SELECT is(pg_temp.rows($$datasource.migrate_all('a_second', 'CREATE TABLE a2 (id int)', ARRAY['man_a'])$$),
    'man_a applied', 'without the manifest the byte order has nothing against it');
SELECT is(pg_temp.rows($$datasource.migrate_all('z_first', 'CREATE TABLE z1 (id int)', ARRAY['man_a', 'man_b'],
                         manifest => '["0001", "0002", "0003", "z_first", "a_second"]')$$),
    'man_a applied, man_b failed', 'z_first: applied on man_a; refused on man_b, where 0002 is missing');
-- a baseline makes a version applied for the manifest too
SELECT is((datasource.baseline('man_b', '0002')).status, 'baseline', 'fixture: 0002 baselined on man_b');
SELECT is(pg_temp.rows($$datasource.migrate_all('z_first', 'CREATE TABLE z1 (id int)', ARRAY['man_b'],
                         manifest => '["0001", {"version": "0002"}, "0003", "z_first"]')$$),
    'man_b applied', 'after the baseline, z_first applies on man_b');

-- what ends the call before anything runs
DO $$ BEGIN PERFORM pg_temp.reset_attempts(); END $$;
SELECT is(pg_temp.state($$SELECT * FROM datasource.migrate_all('0009', 'SELECT nextval(''canary_counter.attempts'')', ARRAY['man_a'],
                          manifest => '["0001", "0002"]')$$),
    '22023', 'a version not in the manifest -> 22023');
SELECT is(pg_temp.state($$SELECT * FROM datasource.migrate_all('0009', 'SELECT nextval(''canary_counter.attempts'')', ARRAY['man_a'],
                          manifest => '["0001", {"version": "0009", "script": "SELECT 1"}]')$$),
    '22023', 'a script that is not the manifest''s (its checksum) -> 22023');
SELECT is(pg_temp.state($$SELECT * FROM datasource.migrate_all('0009', 'SELECT 1', ARRAY['man_a'], manifest => '{"a": 1}')$$),
    '22023', 'a manifest that is no array -> 22023');
SELECT is(pg_temp.attempts(), 0::bigint, 'none of them ran anything');

SELECT * FROM finish();
ROLLBACK;
