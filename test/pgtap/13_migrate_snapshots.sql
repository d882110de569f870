-- 13_migrate_snapshots: migrate_all describes the schemas it migrated in
-- one catalog query per datasource (and per 100 schemas) at its end, not
-- one describe per logical database (issue 18, the 1,000-tenant benchmark).
-- The fingerprints it journals must be those a describe of each schema
-- alone gives: each equals datasource.fingerprint(database) and what
-- migrate() journals for the same schema; schemas of the same structure
-- share one (the query's search_path follows each schema, or names would
-- print qualified); the stored description has that fingerprint; a failed
-- database has none and does not disturb the others; more than 100
-- schemas (several runs of the query) are all described.  Everything here
-- is rolled back.
BEGIN;
SELECT plan(14);
SET LOCAL client_min_messages = warning;

-- a schema that prints names relative to search_path: a type, a foreign
-- key, an index, a view, a function
CREATE FUNCTION pg_temp.setup(db text, extra boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM datasource.create_database(db);
    EXECUTE format('CREATE TYPE %I.mood AS ENUM (''ok'', ''sad'')', db);
    EXECUTE format('CREATE TABLE %I.owners (id int PRIMARY KEY, m %I.mood)', db, db);
    EXECUTE format('CREATE TABLE %I.items (id int PRIMARY KEY, owner int REFERENCES %I.owners, v text %s)',
                   db, db, CASE WHEN extra THEN ', w int' ELSE '' END);
END $$;
SELECT pg_temp.setup('snap_a', false);
SELECT pg_temp.setup('snap_b', false);
SELECT pg_temp.setup('snap_c', true);
SELECT pg_temp.setup('snap_d', false);
SELECT pg_temp.setup('snap_x', false);

CREATE TEMP TABLE script AS SELECT
    'CREATE INDEX ON items (owner); CREATE VIEW sad_items AS SELECT i.* FROM items i JOIN owners o ON o.id = i.owner WHERE o.m = ''sad''; '
    'CREATE FUNCTION n_items() RETURNS bigint LANGUAGE sql AS ''SELECT count(*) FROM items'';'::text AS s;

SELECT is((SELECT count(*)::int FROM datasource.migrate_all('s0001', (SELECT s FROM script),
              ARRAY['snap_a', 'snap_b', 'snap_c']) WHERE status = 'applied'),
    3, 'migrate_all applied s0001 to three logical databases');
SELECT is((SELECT count(*)::int FROM datasource.migrations
            WHERE version = 's0001' AND schema_fingerprint IS NOT NULL), 3,
    'each journal row has a fingerprint');
SELECT is((SELECT count(*)::int FROM datasource.migrations
            WHERE version = 's0001' AND schema_fingerprint = datasource.fingerprint(database)), 3,
    'each journal fingerprint equals fingerprint(database) of its logical database');
SELECT is((SELECT schema_fingerprint FROM datasource.migrations WHERE version = 's0001' AND database = 'snap_a'),
          (SELECT schema_fingerprint FROM datasource.migrations WHERE version = 's0001' AND database = 'snap_b'),
    'two schemas of the same structure, described in one query, have the same fingerprint');
SELECT isnt((SELECT schema_fingerprint FROM datasource.migrations WHERE version = 's0001' AND database = 'snap_c'),
            (SELECT schema_fingerprint FROM datasource.migrations WHERE version = 's0001' AND database = 'snap_a'),
    'a schema with another column has another fingerprint');
SELECT is((SELECT count(*)::int FROM datasource.migrations m
             JOIN datasource.schema_snapshots s ON s.fingerprint = m.schema_fingerprint
            WHERE m.version = 's0001' AND datasource.fingerprint(s.description) = m.schema_fingerprint), 3,
    'the stored description of each row has the row''s fingerprint');
SELECT is((SELECT s.description FROM datasource.migrations m
             JOIN datasource.schema_snapshots s ON s.fingerprint = m.schema_fingerprint
            WHERE m.version = 's0001' AND m.database = 'snap_c'),
          datasource.describe('snap_c'),
    'the stored description is describe() of the schema');

-- what migrate() journals for the same structure, one database at a time
SELECT is((SELECT status FROM datasource.migrate('snap_d', 's0001', (SELECT s FROM script))), 'applied',
    'migrate applied s0001 to snap_d');
SELECT is((SELECT schema_fingerprint FROM datasource.migrations WHERE version = 's0001' AND database = 'snap_d'),
          (SELECT schema_fingerprint FROM datasource.migrations WHERE version = 's0001' AND database = 'snap_a'),
    'migrate_all journals the fingerprint migrate journals');

-- a failure among them: no fingerprint for it, the others described
SELECT is((SELECT string_agg(database || ' ' || status, ', ' ORDER BY database)
             FROM datasource.migrate_all('s0002', 'ALTER TABLE items ADD COLUMN w int',
                  ARRAY['snap_a', 'snap_c', 'snap_x'])),
    'snap_a applied, snap_c failed, snap_x applied', 's0002: snap_c fails (w exists)');
SELECT is((SELECT string_agg(database || ' ' || (schema_fingerprint = datasource.fingerprint(database))::text, ', ' ORDER BY database)
             FROM datasource.migrations WHERE version = 's0002' AND status = 'applied'),
    'snap_a true, snap_x true', 'the applied rows have their schema''s fingerprint');
SELECT is((SELECT schema_fingerprint FROM datasource.migrations WHERE version = 's0002' AND status = 'failed'),
    NULL, 'the failed row has none');

-- more than one run of the query (100 schemas per run)
SELECT pg_temp.setup('snap_m' || g, g % 2 = 0) FROM generate_series(1, 150) g;
SELECT is((SELECT count(*)::int FROM datasource.migrate_all('s0003', 'ALTER TABLE owners ADD COLUMN note text',
              (SELECT array_agg('snap_m' || g ORDER BY g) FROM generate_series(1, 150) g))
            WHERE status = 'applied'),
    150, 's0003 applied to 150 logical databases');
SELECT is((SELECT count(*)::int FROM datasource.migrations
            WHERE version = 's0003' AND schema_fingerprint = datasource.fingerprint(database)), 150,
    'all 150 journal fingerprints equal fingerprint(database)');

SELECT * FROM finish();
ROLLBACK;
