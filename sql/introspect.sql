-- Introspection: describe, fingerprint, diff, drift and json_schema as psql shows them, and their errors.
\set SHOW_CONTEXT never
SELECT name FROM datasource.create_database('intro_a');
SELECT name FROM datasource.create_database('intro_b');

-- one small schema of several kinds, written twice without its schema name
SET search_path = intro_a;
\i sql/introspect_schema.sql
SET search_path = intro_b;
\i sql/introspect_schema.sql
RESET search_path;

\pset format unaligned
SELECT jsonb_pretty(datasource.describe('intro_a'));
\pset format aligned
-- the same structure in two schemas: the same description and fingerprint
SELECT datasource.describe('intro_a') = datasource.describe('intro_b') AS same_description,
       datasource.fingerprint('intro_a') = datasource.fingerprint('intro_b') AS same_fingerprint,
       datasource.fingerprint('intro_a') ~ '^[0-9a-f]{64}$' AS sha256_hex,
       datasource.fingerprint('intro_a') = datasource.fingerprint(datasource.describe('intro_a')) AS stored_agrees;

-- a change in one of them, and the DDL each way, in the order it applies
ALTER TABLE intro_b.people ADD COLUMN email text UNIQUE;
ALTER TABLE intro_b.people ALTER COLUMN score TYPE numeric(6,2);
DROP VIEW intro_b.cheerful;
SELECT object_type, object_name, change, ddl FROM datasource.diff('intro_a', 'intro_b');
SELECT object_type, object_name, change, ddl FROM datasource.diff('intro_b', 'intro_a');
SELECT count(*) AS no_difference FROM datasource.diff('intro_a', 'intro_a');

-- a row of a table as a JSON Schema
\pset format unaligned
SELECT jsonb_pretty(datasource.json_schema('intro_a', 'people'));
\pset format aligned

-- drift: nothing to compare before a migration, then the schema and the DDL journal
SELECT * FROM datasource.drift('intro_a');
SELECT status FROM datasource.baseline('intro_a', '0001_start');
SELECT count(*) AS no_drift FROM datasource.drift('intro_a');
ALTER TABLE intro_a.people ADD COLUMN nickname text;
SELECT source, object_type, object_name, change, detail FROM datasource.drift('intro_a');

-- errors
SELECT datasource.describe('nowhere');
SELECT datasource.describe(NULL);
SELECT datasource.fingerprint(NULL::text);
SELECT datasource.fingerprint(NULL::jsonb);
SELECT name FROM datasource.create_database('intro_gone');
DROP SCHEMA intro_gone;
SELECT datasource.describe('intro_gone');
SELECT datasource.fingerprint('intro_gone');
SELECT datasource.json_schema('intro_a', 'missing');
SELECT datasource.json_schema('intro_a', NULL);
SELECT datasource.json_schema('nowhere', 'people');
SELECT * FROM datasource.diff('intro_a', 'nowhere');
SELECT * FROM datasource.drift('nowhere');
SELECT * FROM datasource.drift(NULL);
