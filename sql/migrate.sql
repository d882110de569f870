-- Migrations: messages, hints, NOTICE and WARNING text, and the journal as psql shows it.
\set SHOW_CONTEXT never
SELECT name FROM datasource.create_database('shop');
SELECT name FROM datasource.create_database('shop_b');
SELECT name FROM datasource.create_database('frozen', read_only => true);

-- applied, then the same script again (CR LF line ends and a final newline do not count)
SELECT database, version, status, error FROM datasource.migrate('shop', '0001_items',
	E'CREATE TABLE items (id int PRIMARY KEY, name text);\nCREATE INDEX ON items (name);',
	description => 'items');
SELECT database, version, status, error FROM datasource.migrate('shop', '0001_items',
	E'CREATE TABLE items (id int PRIMARY KEY, name text);\r\nCREATE INDEX ON items (name);\r\n');
-- an edited script is refused; the hint is the repair
SELECT * FROM datasource.migrate('shop', '0001_items', 'CREATE TABLE items (id int PRIMARY KEY);');
-- a failing statement: WARNING with its position in the script, nothing kept
SELECT database, version, status, error FROM datasource.migrate('shop', '0002_bad',
	E'CREATE TABLE a (id int);\nCREATE TABLE b (id int);\nINSERT INTO missing VALUES (1);');
SELECT to_regclass('shop.a') IS NULL AS nothing_kept;
-- refused before anything runs
SELECT * FROM datasource.migrate('shop', '0003', 'CREATE INDEX CONCURRENTLY ON items (id)');
SELECT * FROM datasource.migrate('shop', '0003', E'CREATE TABLE c ();\nVACUUM items;');
SELECT * FROM datasource.migrate('shop', '0003', 'BEGIN; CREATE TABLE c (); COMMIT;');
SELECT * FROM datasource.migrate('shop', '0003', 'SET search_path = public');
SELECT * FROM datasource.migrate('shop', '0003', 'SET statement_timeout = 0');
SELECT * FROM datasource.migrate('shop', '0003', E'CREATE TABLE c ();\nSELECT pg_advisory_lock(1);');
SELECT * FROM datasource.migrate('shop', '0003', 'COPY items FROM STDIN');
SELECT * FROM datasource.migrate('shop', '0003', E'CREATE TABLE c ();\nCREATE TABLE (');
SELECT * FROM datasource.migrate('frozen', '0001', 'CREATE TABLE c ()');
SELECT * FROM datasource.migrate('nowhere', '0001', 'CREATE TABLE c ()');
SELECT * FROM datasource.migrate('shop', ' 0003', 'CREATE TABLE c ()');
SELECT * FROM datasource.migrate('shop', NULL, 'CREATE TABLE c ()');
-- drizzle-kit output, written for "public", applied to two tenants
SELECT database, version, status, error FROM datasource.migrate_all('0004_orders',
$s$CREATE TYPE "public"."state" AS ENUM('open', 'paid');
--> statement-breakpoint
CREATE TABLE "public"."orders" (
	"id" serial PRIMARY KEY NOT NULL,
	"item" integer REFERENCES "public"."items"("id"),
	"state" "public"."state" DEFAULT 'open' NOT NULL
);$s$, script_schema => 'public', databases => ARRAY['shop', 'shop_b'],
   out_of_order => true);  -- 0002_bad failed on shop
\d shop.orders
-- the journal and the pending view of a deploy
SELECT database, version, status, statement_count, error, sqlstate, failed_statement
  FROM datasource.migrations ORDER BY id;
SELECT * FROM datasource.pending('shop', '["0001_items", "0002_bad", "0005_later"]');
SELECT * FROM datasource.baseline('shop', '0000_legacy');
SELECT * FROM datasource.pending('shop', '{"version": "x"}');
-- the DDL journal: ad-hoc DDL, and the migration's statements with their version
CREATE TABLE shop.adhoc (id int);
DROP TABLE shop.adhoc;
SELECT database, command_tag, object_type, object_identity, migration_version
  FROM datasource.ddl_log WHERE database LIKE 'shop%' ORDER BY id;
-- progress: a NOTICE for the first and the last database, each failure, and in
-- between at most one a second (prog_b takes over a second, prog_c does not)
SELECT count(*) FROM (SELECT datasource.create_database('prog_' || x) FROM unnest(ARRAY['a', 'b', 'c', 'd']) x) c;
SELECT database, status FROM datasource.migrate_all('0001_slow',
	$s$SELECT pg_sleep(CASE current_schema() WHEN 'prog_b' THEN 1.1 ELSE 0 END)$s$,
	ARRAY['prog_a', 'prog_b', 'prog_c', 'prog_d']);
SELECT count(*) FROM (SELECT datasource.drop_database('prog_' || x, drop_schema => true) FROM unnest(ARRAY['a', 'b', 'c', 'd']) x) d;
SELECT datasource.drop_database('shop', drop_schema => true);
SELECT datasource.drop_database('shop_b', drop_schema => true);
SELECT datasource.drop_database('frozen', drop_schema => true);
-- the journal is history: the dropped logical databases' rows stay
SELECT count(*) AS journal_rows_kept FROM datasource.migrations;
DELETE FROM datasource.migrations;
