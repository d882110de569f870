-- 13_migrate_scripts: what a migration script is checked for before it runs
-- in a logical database, and how it is written for it (issue 18).
--
-- A statement that names another logical database (by its name, or by its
-- schema on the target's datasource) is refused (42501) before anything of
-- the script runs, in migrate and migrate_all alike, and journaled as a
-- failed attempt; datasource.migration_cross_database = on allows it.
-- script_schema reaches the statements inside DO bodies (drizzle-kit before
-- 0.30 wraps its foreign keys in DO blocks).  drift() over the fleet goes on
-- past a logical database that was never migrated.  Everything here is
-- rolled back.
BEGIN;
SELECT plan(41);
SET LOCAL client_min_messages = warning;

-- the last journal row of a logical database and version
CREATE FUNCTION pg_temp.last(db text, ver text) RETURNS datasource.migrations LANGUAGE sql STABLE AS
    $$ SELECT * FROM datasource.migrations WHERE database = db AND version = ver ORDER BY id DESC LIMIT 1 $$;

DO $$ BEGIN
    PERFORM datasource.create_database('scr_notes_a');
    PERFORM datasource.create_database('scr_notes_b');
    PERFORM datasource.create_database('scr_loans');
    PERFORM datasource.create_database('scr_other', schema_name => 'scr_other_schema');
END $$;
CREATE TABLE scr_other_schema.accounts (id int);
CREATE TABLE scr_loans.loans (id int);

-- ============================================================ another logical database (defect 5)
-- (each refused version sorts before the one refused before it and after
-- those applied later: a failed version blocks only higher ones, the order
-- rule of order.c)
SELECT is((datasource.migrate('scr_notes_a', '9008', 'CREATE TABLE t1 (id int); CREATE TABLE scr_loans.z (id int);')).status,
    'failed', 'a migration of scr_notes_a that creates a table in scr_loans fails');
SELECT ok(to_regclass('scr_loans.z') IS NULL, 'nothing was created in scr_loans');
SELECT ok(to_regclass('scr_notes_a.t1') IS NULL, 'nothing of the script ran in scr_notes_a (statement 1 neither)');
SELECT results_eq($$SELECT status, sqlstate, failed_statement FROM pg_temp.last('scr_notes_a', '9008')$$,
    $$VALUES ('failed'::text, '42501'::text, 2)$$, 'the journal says failed, 42501, at statement 2');
SELECT is((datasource.migrate('scr_notes_a', '9007', 'INSERT INTO scr_other_schema.accounts VALUES (1)')).status,
    'failed', 'a qualifier that is the schema of another logical database is refused');
SELECT is((SELECT count(*)::int FROM scr_other_schema.accounts), 0, 'no row was inserted into scr_other');
SELECT is((datasource.migrate('scr_notes_a', '9006', 'CREATE TABLE t3 (id int); ALTER TABLE t3 SET SCHEMA scr_loans')).status,
    'failed', 'SET SCHEMA into another logical database is refused');
SELECT ok(to_regclass('scr_loans.t3') IS NULL AND to_regclass('scr_notes_a.t3') IS NULL, 'no t3 anywhere');
SELECT is((datasource.migrate('scr_notes_a', '9005', 'CREATE VIEW v AS SELECT l.id FROM scr_loans.loans l')).status,
    'failed', 'reading another logical database in a view is refused');
SELECT is((datasource.migrate('scr_notes_a', '9004', $s$DO $$ BEGIN CREATE TABLE scr_loans.w (id int); END $$;$s$)).status,
    'failed', 'a DO body that names another logical database is refused');
SELECT ok(to_regclass('scr_loans.w') IS NULL, 'the DO body did not run');
SELECT is((datasource.migrate('scr_notes_a', '9003', 'DROP SCHEMA scr_loans CASCADE')).status,
    'failed', 'dropping the schema of another logical database is refused');
SELECT has_table('scr_loans', 'loans', 'scr_loans is still there');
SELECT is((datasource.migrate('scr_notes_a', '9002', 'GRANT USAGE ON SCHEMA scr_other_schema TO PUBLIC')).status,
    'failed', 'GRANT on the schema of another logical database is refused');
SELECT is((datasource.migrate('scr_notes_a', '9001', 'ALTER DEFAULT PRIVILEGES IN SCHEMA scr_loans GRANT SELECT ON TABLES TO PUBLIC')).status,
    'failed', 'ALTER DEFAULT PRIVILEGES in the schema of another logical database is refused');
SELECT is((SELECT count(*)::int FROM pg_default_acl WHERE defaclnamespace = 'scr_loans'::regnamespace), 0,
    'no default privileges were set in scr_loans');

-- what stays allowed
SELECT is((datasource.migrate('scr_notes_a', '0010',
    'CREATE TABLE t10 (id int DEFAULT pg_catalog.abs(-1)); CREATE TABLE scr_notes_a.t11 (id int);'
    'CREATE VIEW v10 AS SELECT scr_loans.id FROM t10 AS scr_loans;'
    'CREATE TABLE public_ref (n int); COMMENT ON TABLE t10 IS ''see scr_loans.loans'';')).status,
    'applied', 'its own schema, pg_catalog, an alias named like another database and a literal are allowed');
SELECT ok(to_regclass('scr_notes_a.t11') IS NOT NULL AND to_regclass('scr_notes_a.v10') IS NOT NULL,
    'they ran in scr_notes_a');
SELECT is((datasource.migrate('scr_notes_a', '0011', 'CREATE TABLE scr_loans.r (id int)', script_schema => 'scr_loans')).status,
    'applied', 'the script_schema is the target''s schema, whatever else it names');
SELECT ok(to_regclass('scr_notes_a.r') IS NOT NULL AND to_regclass('scr_loans.r') IS NULL, 'r went into scr_notes_a');

-- migrate_all: the check is per target
SELECT results_eq(
    $$SELECT database, status FROM datasource.migrate_all('0020', 'CREATE TABLE scr_loans.q (id int)',
        ARRAY['scr_loans', 'scr_notes_a', 'scr_notes_b']) ORDER BY database$$,
    $$VALUES ('scr_loans'::text, 'applied'::text), ('scr_notes_a', 'failed'), ('scr_notes_b', 'failed')$$,
    'migrate_all: applied in scr_loans itself, refused in the other two');
SELECT ok(to_regclass('scr_loans.q') IS NOT NULL AND to_regclass('scr_notes_a.q') IS NULL, 'q was created once, in scr_loans');
SELECT results_eq($$SELECT database, status, sqlstate FROM datasource.migrations WHERE version = '0020' ORDER BY database$$,
    $$VALUES ('scr_loans'::text, 'applied'::text, NULL::text), ('scr_notes_a', 'failed', '42501'), ('scr_notes_b', 'failed', '42501')$$,
    'migrate_all journaled the refusals as failed attempts');

-- the opt-out
SET LOCAL datasource.migration_cross_database = on;
SELECT is((datasource.migrate('scr_notes_a', '0015', 'CREATE TABLE scr_loans.z (id int)')).status,
    'applied', 'with datasource.migration_cross_database on, the script may name another logical database');
SELECT has_table('scr_loans', 'z', 'and it ran');
RESET datasource.migration_cross_database;
SELECT is((datasource.migrate('scr_notes_b', '0015', 'CREATE TABLE scr_loans.z2 (id int)')).status,
    'failed', 'after RESET it is refused again');

-- ============================================================ DO bodies and script_schema (defect 8)
-- drizzle-kit < 0.30: foreign keys wrapped in DO blocks, names qualified with "public"
DO $$ BEGIN
    PERFORM datasource.create_database('scr_drz1', schema_name => 'scr_drz1_schema');
    PERFORM datasource.create_database('scr_drz2');
END $$;
CREATE TABLE public.users (id serial PRIMARY KEY);
CREATE TEMP TABLE drz (body text);
INSERT INTO drz VALUES ($s$CREATE TABLE IF NOT EXISTS "public"."users" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "public"."posts" (
	"id" serial PRIMARY KEY NOT NULL,
	"author_id" integer NOT NULL,
	"editor_id" integer
);
--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "public"."posts" ADD CONSTRAINT "posts_author_id_users_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
--> statement-breakpoint
DO $do$ BEGIN
 ALTER TABLE "posts" ADD CONSTRAINT "posts_editor_id_users_id_fk" FOREIGN KEY ("editor_id") REFERENCES public.users("id");
 PERFORM 'a literal with $$ and public.users in it';
EXCEPTION
 WHEN duplicate_object THEN null;
END $do$;
$s$);
SELECT is((datasource.migrate('scr_drz1', '0000_init', (SELECT body FROM drz), script_schema => 'public')).status,
    'applied', 'the drizzle-kit script with DO-wrapped foreign keys applies to a non-public tenant');
SELECT is((SELECT count(*)::int FROM pg_constraint
            WHERE conrelid = 'scr_drz1_schema.posts'::regclass AND contype = 'f'
              AND confrelid = 'scr_drz1_schema.users'::regclass), 2,
    'both foreign keys reference the tenant''s users');
SELECT is((SELECT count(*)::int FROM pg_constraint WHERE confrelid = 'public.users'::regclass), 0,
    'no foreign key references public.users');
SELECT ok(to_regclass('public.posts') IS NULL, 'nothing was created in public');
SELECT results_eq(
    $$SELECT database, status FROM datasource.migrate_all('0000_init', (SELECT body FROM drz),
        ARRAY['scr_drz1', 'scr_drz2'], script_schema => 'public') ORDER BY database$$,
    $$VALUES ('scr_drz1'::text, 'already_applied'::text), ('scr_drz2', 'applied')$$,
    'migrate_all applies it to a second tenant');
SELECT is((SELECT count(*)::int FROM pg_constraint
            WHERE conrelid = 'scr_drz2.posts'::regclass AND contype = 'f'
              AND confrelid = 'scr_drz2.users'::regclass), 2,
    'the second tenant''s foreign keys reference its own users');
SELECT is((pg_temp.last('scr_drz2', '0000_init')).script, (SELECT body FROM drz), 'the journal keeps the script as given');
SELECT is((datasource.migrate('scr_drz1', '0001_lang', $s$DO LANGUAGE plpgsql $b$ BEGIN CREATE TABLE "public"."tags" (id int); END $b$$s$,
    script_schema => 'public')).status, 'applied', 'a DO with LANGUAGE plpgsql is rewritten too');
SELECT ok(to_regclass('scr_drz1_schema.tags') IS NOT NULL AND to_regclass('public.tags') IS NULL, 'tags went into the tenant');
SELECT throws_ok($$SELECT datasource.migrate('scr_drz1', '0002_quoted', 'DO ''BEGIN CREATE TABLE public.notes (id int); END''',
    script_schema => 'public')$$, '0A000', NULL, 'a body in single quotes that names script_schema is refused (0A000), not run in public');
SELECT ok(to_regclass('public.notes') IS NULL, 'nothing went into public');
SELECT ok((pg_temp.last('scr_drz1', '0002_quoted')).id IS NULL, 'nothing was journaled: the script was refused as it was parsed');

-- ============================================================ drift over the fleet (defect 11)
SELECT lives_ok($$SELECT count(*) FROM datasource.databases d, LATERAL datasource.drift(d.name) x$$,
    'drift() over every logical database does not stop at one that was never migrated');
SELECT results_eq(
    $$SELECT d.name, x.change FROM datasource.databases d, LATERAL datasource.drift(d.name) x
       WHERE d.name IN ('scr_other', 'scr_drz2') ORDER BY d.name$$,
    $$VALUES ('scr_other'::text, 'never migrated'::text)$$,
    'the never-migrated one says so in its row; a migrated one without drift has none');
SELECT is((SELECT count(*)::int FROM datasource.drift('scr_other') x WHERE x.source = 'journal' AND x.object_name = 'scr_other'),
    1, 'the row names the logical database');

SELECT * FROM finish();
ROLLBACK;
