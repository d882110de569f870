-- 09_introspect: describe, fingerprint, diff and json_schema on local
-- logical databases.
--
-- The application schema of test/fixtures/tenant_schema.sql (about 30
-- tables and every kind of object describe() covers) is loaded into schema
-- i09_base.  Then:
--   * bad input: every refusal with its SQLSTATE;
--   * the description: schema-relative, every object kind present, equal for
--     two schemas of the same structure, deterministic;
--   * the round trip from nothing: diff(empty, base) applied to an empty
--     schema gives base's fingerprint, and diff(base, empty) empties it;
--   * the property test: ROUNDS times, two copies x and y of base are built
--     with diff(), a random set of mutations (from a fixed list, seeded) is
--     applied to y, diff(x, y) is applied to x, and x must then have y's
--     fingerprint and no diff left; then diff(y, base) applied to y must
--     bring y back to base;
--   * json_schema of tables with types, domains, enums and checks, and of
--     one whose CHECKs and defaults do not all parse back.
-- Everything is rolled back.
BEGIN;
SELECT plan(91);
SET LOCAL client_min_messages = warning;
SET LOCAL datasource.ddl_log = off;

-- ------------------------------------------------------------ fixture
CREATE SCHEMA i09_base;
SET LOCAL search_path = i09_base;
\i test/fixtures/tenant_schema.sql
RESET search_path;
SELECT datasource.create_database('i09_base', 'local', 'i09_base');

-- applies the DDL of diff(from, to) in the schema of from
CREATE FUNCTION pg_temp.apply_diff(f text, t text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	n int := 0;
	schema text := (SELECT schema_name FROM datasource.databases WHERE name = f);
BEGIN
	FOR r IN SELECT * FROM datasource.diff(f, t) LOOP
		PERFORM set_config('search_path', quote_ident(schema), true);
		BEGIN
			EXECUTE r.ddl;
		EXCEPTION WHEN OTHERS THEN
			RAISE EXCEPTION 'diff(%, %) step % % failed: % (%)', f, t, r.object_type, r.object_name,
				SQLERRM, r.ddl;
		END;
		n := n + 1;
	END LOOP;
	PERFORM set_config('search_path', 'public', true);
	RETURN n;
END
$$;

-- a new empty logical database with its own schema
CREATE FUNCTION pg_temp.empty_db(name text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('CREATE SCHEMA %I', name);
	PERFORM datasource.create_database(name, 'local', name);
END
$$;

-- ------------------------------------------------------------ bad input
SELECT throws_ok($$SELECT datasource.describe(NULL)$$, '22004', NULL, 'describe(NULL) is 22004');
SELECT throws_ok($$SELECT datasource.describe('i09_nope')$$, '42704',
    'logical database "i09_nope" does not exist', 'describe of an unknown logical database is 42704');
SELECT throws_ok($$SELECT datasource.fingerprint(NULL)$$, '22004', NULL, 'fingerprint(NULL) is 22004');
SELECT throws_ok($$SELECT datasource.fingerprint('i09_nope')$$, '42704', NULL, 'fingerprint of an unknown logical database is 42704');
SELECT datasource.create_database('i09_noschema', 'local', 'i09_no_such_schema');
DROP SCHEMA i09_no_such_schema;
SELECT throws_ok($$SELECT datasource.describe('i09_noschema')$$, '3F000',
    'schema "i09_no_such_schema" of logical database "i09_noschema" does not exist',
    'describe of a logical database whose schema is missing is 3F000');
SELECT throws_ok($$SELECT * FROM datasource.diff('i09_base', NULL)$$, '22004', NULL, 'diff with a NULL database is 22004');
SELECT throws_ok($$SELECT * FROM datasource.diff('i09_base', 'i09_nope')$$, '42704', NULL, 'diff with an unknown logical database is 42704');
SELECT throws_ok($$SELECT * FROM datasource.diff('[]'::jsonb, '{}'::jsonb)$$, '22023', NULL, 'diff of a description that is not an object is 22023');
SELECT throws_ok($$SELECT datasource.json_schema('i09_base', 'no_such_table')$$, '42P01',
    'relation "no_such_table" does not exist in logical database "i09_base"', 'json_schema of an unknown relation is 42P01');
SELECT throws_ok($$SELECT datasource.json_schema('i09_base', NULL)$$, '22004', NULL, 'json_schema with a NULL relation is 22004');
SELECT throws_ok($$SELECT datasource.json_schema('i09_nope', 'orders')$$, '42704', NULL, 'json_schema of an unknown logical database is 42704');

-- ------------------------------------------------------------ the description
CREATE TEMP TABLE d AS SELECT datasource.describe('i09_base') AS j;
SELECT is((SELECT array_agg(k ORDER BY k) FROM d, jsonb_object_keys(j) k),
    ARRAY['collations', 'functions', 'sequences', 'tables', 'types', 'views'],
    'the description has every top-level section');
SELECT cmp_ok((SELECT count(*)::int FROM d, jsonb_object_keys(j->'tables')), '>=', 30, 'at least 30 tables are described');
SELECT ok(NOT (SELECT j::text FROM d) LIKE '%i09_base%', 'the schema name appears nowhere in the description');
SELECT is((SELECT array_agg(DISTINCT v->>'kind' ORDER BY v->>'kind') FROM d, jsonb_each(j->'tables') e(k, v)),
    ARRAY['partitioned table', 'table'], 'tables and partitioned tables are described');
SELECT is((SELECT array_agg(DISTINCT v->>'kind' ORDER BY v->>'kind') FROM d, jsonb_each(j->'types') e(k, v)),
    ARRAY['composite', 'domain', 'enum', 'range'], 'enum, domain, composite and range types are described');
SELECT is((SELECT array_agg(DISTINCT v->>'kind' ORDER BY v->>'kind') FROM d, jsonb_each(j->'views') e(k, v)),
    ARRAY['materialized view', 'view'], 'views and materialized views are described');
SELECT is((SELECT array_agg(DISTINCT c->>'type' ORDER BY c->>'type')
             FROM d, jsonb_each(j->'tables') e(k, v), jsonb_each(v->'constraints') x(n, c)),
    ARRAY['check', 'exclusion', 'foreign key', 'primary key', 'unique'], 'every constraint type is described');
SELECT ok((SELECT bool_or(v ? 'partition_by') AND bool_or(v ? 'partition_of') AND bool_or(v ? 'inherits')
             AND bool_or(v ? 'unlogged') AND bool_or(v ? 'row_security') AND bool_or(v ? 'policies')
             AND bool_or(v ? 'triggers') AND bool_or(v ? 'indexes') AND bool_or(v ? 'comment')
             AND bool_or(v ? 'grants')
           FROM d, jsonb_each(j->'tables') e(k, v)),
    'partitioning, inheritance, persistence, RLS, policies, triggers, indexes, comments and grants are described');
SELECT ok((SELECT bool_or(c ? 'identity') AND bool_or(c ? 'generated') AND bool_or(c ? 'collation')
             AND bool_or(c ? 'default') AND bool_or(c ? 'grants') AND bool_or(c ? 'comment')
           FROM d, jsonb_each(j->'tables') e(k, v), jsonb_array_elements(v->'columns') c),
    'identity, generated, collated, defaulted, granted and commented columns are described');
SELECT is((SELECT j->'types'->'order_status'->'labels' FROM d),
    '["pending", "paid", "shipped", "refunded", "cancelled"]'::jsonb, 'enum labels are in their order');
SELECT is((SELECT j->'tables'->'orders'->'columns'->0->>'name' FROM d), 'id', 'columns are in their order');
SELECT is((SELECT j->'tables'->'orders'->'constraints'->'orders_customer_id_fkey'->>'definition' FROM d),
    'FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE SET NULL',
    'a foreign key names its table without the schema');
SELECT ok((SELECT (j->'functions') ? 'normalize_email(addr text)' FROM d), 'functions are keyed by name and identity arguments');
SELECT ok((SELECT NOT (j->'functions') ? 'price_range(numeric, numeric)' FROM d), 'the constructors of a range type are not listed');
SELECT is(datasource.describe('i09_base'), (SELECT j FROM d), 'describe is deterministic');
SELECT matches(datasource.fingerprint('i09_base'), '^[0-9a-f]{64}$', 'fingerprint is 64 hex digits (a sha256)');

-- the same structure in a second schema, built by hand from the same file
CREATE SCHEMA i09_twin;
SET LOCAL search_path = i09_twin;
\i test/fixtures/tenant_schema.sql
RESET search_path;
SELECT datasource.create_database('i09_twin', 'local', 'i09_twin');
SELECT is(datasource.describe('i09_twin'), datasource.describe('i09_base'), 'two schemas of one structure describe identically');
SELECT is(datasource.fingerprint('i09_twin'), datasource.fingerprint('i09_base'), 'and have one fingerprint');
SELECT is((SELECT count(*)::int FROM datasource.diff('i09_twin', 'i09_base')), 0, 'and no diff');
-- a column dropped and added again moves to the end: describe shows it, the
-- fingerprint (and diff) do not count column order
ALTER TABLE i09_twin.orders DROP COLUMN notes;
ALTER TABLE i09_twin.orders ADD COLUMN notes text;
SELECT isnt(datasource.describe('i09_twin'), datasource.describe('i09_base'), 'column order shows in describe');
SELECT is(datasource.fingerprint('i09_twin'), datasource.fingerprint('i09_base'), 'but not in the fingerprint');
SELECT is((SELECT count(*)::int FROM datasource.diff('i09_twin', 'i09_base')), 0, 'nor in diff');
COMMENT ON TABLE i09_twin.orders IS 'changed';
SELECT isnt(datasource.fingerprint('i09_twin'), datasource.fingerprint('i09_base'), 'a comment changes the fingerprint');
SELECT results_eq($$SELECT object_type, object_name, change, ddl FROM datasource.diff('i09_base', 'i09_twin')$$,
    $$VALUES ('table', 'orders', 'comment', 'COMMENT ON TABLE orders IS ''changed'';')$$,
    'diff names the one change with its DDL');

-- ------------------------------------------------------------ round trip from nothing
SELECT pg_temp.empty_db('i09_empty');
SELECT is((SELECT datasource.describe('i09_empty')), '{}'::jsonb, 'an empty schema describes as {}');
SELECT cmp_ok(pg_temp.apply_diff('i09_empty', 'i09_base'), '>', 200, 'diff(empty, base) has the DDL of every object');
SELECT is(datasource.fingerprint('i09_empty'), datasource.fingerprint('i09_base'), 'applied to the empty schema it rebuilds base');
SELECT is((SELECT count(*)::int FROM datasource.diff('i09_empty', 'i09_base')), 0, 'and then no diff is left');
SELECT pg_temp.empty_db('i09_empty2');
SELECT cmp_ok(pg_temp.apply_diff('i09_empty', 'i09_empty2'), '>', 50, 'diff(base, empty) drops everything');
SELECT is(datasource.describe('i09_empty'), '{}'::jsonb, 'and leaves an empty schema');

-- ------------------------------------------------------------ the property test
CREATE TEMP TABLE mutation (n serial PRIMARY KEY, sql text NOT NULL);
-- (an enum label cannot be removed while columns use the type: ADD VALUE is
-- left out of the rounds, which also undo their mutations)
INSERT INTO mutation (sql) VALUES
	('ALTER TABLE orders ADD COLUMN gift_note text'),
	('ALTER TABLE orders DROP COLUMN notes'),
	('ALTER TABLE customers ALTER COLUMN phone TYPE varchar(64)'),
	('ALTER TABLE customers ALTER COLUMN name SET DEFAULT ''anonymous'''),
	('ALTER TABLE accounts ALTER COLUMN updated_at SET NOT NULL'),
	('ALTER TABLE orders ALTER COLUMN status DROP DEFAULT'),
	('CREATE INDEX orders_notes_idx ON orders (notes)'),
	('DROP INDEX users_active_idx'),
	('ALTER TABLE coupons ADD CONSTRAINT coupons_uses_max CHECK (uses <= max_uses)'),
	('ALTER TABLE teams DROP CONSTRAINT teams_parent_id_fkey'),
	('CREATE TYPE priority AS ENUM (''low'', ''high''); ALTER TABLE tickets ADD COLUMN priority priority'),
	('ALTER TYPE order_status ADD VALUE ''on_hold'' AFTER ''paid'''),
	('CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 1000'),
	('DROP VIEW paying_accounts'),
	('CREATE FUNCTION order_count(bigint) RETURNS bigint LANGUAGE sql STABLE AS $f$ SELECT count(*) FROM orders WHERE account_id = $1 $f$'),
	('DROP FUNCTION has_any_tag(text[], text[])'),
	('COMMENT ON TABLE orders IS ''changed by a mutation'''),
	('COMMENT ON COLUMN orders.total IS NULL'),
	('GRANT SELECT ON orders TO PUBLIC'),
	('REVOKE SELECT ON plans FROM PUBLIC'),
	('CREATE SEQUENCE extra_seq START 5 INCREMENT 3'),
	('ALTER SEQUENCE invoice_number_seq INCREMENT BY 2'),
	('CREATE TABLE tags (id int PRIMARY KEY, account_id bigint REFERENCES accounts (id), label text NOT NULL UNIQUE)'),
	('DROP TABLE coupon_redemptions'),
	('CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch_updated_at()'),
	('DROP TRIGGER users_touch ON users'),
	('ALTER TABLE orders ENABLE ROW LEVEL SECURITY; CREATE POLICY orders_tenant ON orders USING (account_id = current_account_id())'),
	('DROP POLICY documents_no_delete ON documents'),
	('CREATE DOMAIN percent AS numeric(5,2) CHECK (VALUE BETWEEN 0 AND 100)'),
	('ALTER TYPE address ADD ATTRIBUTE region text'),
	('CREATE TABLE events_2031 PARTITION OF events FOR VALUES FROM (''2031-01-01'') TO (''2031-07-01'')'),
	('ALTER TABLE page_views SET LOGGED'),
	('ALTER TABLE feature_flags SET (fillfactor = 50)'),
	('ALTER TABLE products ADD COLUMN discontinued boolean NOT NULL DEFAULT false'),
	('ALTER TABLE api_keys ALTER COLUMN scopes DROP DEFAULT'),
	('CREATE MATERIALIZED VIEW top_products AS SELECT id, name FROM products; CREATE INDEX top_products_id ON top_products (id)'),
	('ALTER TABLE orders ADD COLUMN ref bigint GENERATED BY DEFAULT AS IDENTITY'),
	('CREATE COLLATION ci_like FROM "POSIX"'),
	('CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $f$BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END$f$'),
	('ALTER FUNCTION current_account_id() VOLATILE'),
	('ALTER TABLE invoices ALTER COLUMN due_on DROP NOT NULL'),
	('ALTER DOMAIN money_amount SET DEFAULT 1'),
	('ALTER DOMAIN currency_code ADD CONSTRAINT currency_code_len CHECK (length(VALUE) = 3)'),
	('CREATE UNIQUE INDEX customers_phone_key ON customers (account_id, phone) WHERE phone IS NOT NULL'),
	('ALTER TABLE subscriptions ALTER COLUMN seats TYPE bigint'),
	('COMMENT ON INDEX users_active_idx IS ''changed'''),
	('ALTER TABLE webhooks ENABLE TRIGGER webhooks_audit'),
	('ALTER TABLE accounts DISABLE ROW LEVEL SECURITY'),
	('DROP TABLE refunds'),
	('ALTER TABLE documents DROP COLUMN body'),
	('CREATE VIEW tiny AS SELECT 1 AS one; CREATE VIEW tinier AS SELECT one FROM tiny');

-- ROUNDS rounds; returns one line per failed round (none when all pass)
-- the objects whose descriptions differ, for failure messages
CREATE FUNCTION pg_temp.differing(a text, b text) RETURNS text
LANGUAGE sql AS $$
	SELECT string_agg(format('%s.%s: %s / %s', s, k, x.j->s->k, y.j->s->k), '; ')
	FROM (SELECT datasource.describe(a) AS j) x, (SELECT datasource.describe(b) AS j) y,
	     (VALUES ('tables'), ('views'), ('sequences'), ('types'), ('functions'), ('collations')) v (s),
	     LATERAL (SELECT key FROM jsonb_each(coalesce(x.j->s, '{}')) UNION SELECT key FROM jsonb_each(coalesce(y.j->s, '{}'))) z (k)
	WHERE x.j->s->k IS DISTINCT FROM y.j->s->k
$$;

CREATE FUNCTION pg_temp.property(rounds int) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	i int;
	m record;
	x text;
	y text;
	applied int;
	total int := 0;
	steps int;
BEGIN
	PERFORM setseed(0.0909);
	FOR i IN 1 .. rounds LOOP
		x := 'i09_x' || i;
		y := 'i09_y' || i;
		PERFORM pg_temp.empty_db(x);
		PERFORM pg_temp.empty_db(y);
		PERFORM pg_temp.apply_diff(x, 'i09_base');
		PERFORM pg_temp.apply_diff(y, 'i09_base');
		applied := 0;
		FOR m IN SELECT * FROM mutation WHERE sql NOT LIKE '%ADD VALUE%' ORDER BY random() LIMIT 3 + (i % 6) LOOP
			PERFORM set_config('search_path', quote_ident(y), true);
			BEGIN
				EXECUTE m.sql;
				applied := applied + 1;
			EXCEPTION WHEN OTHERS THEN
				NULL;	-- the mutation does not fit this schema (an earlier one removed what it needs)
			END;
		END LOOP;
		PERFORM set_config('search_path', 'public', true);
		total := total + applied;
		BEGIN
			steps := pg_temp.apply_diff(x, y);
			IF datasource.fingerprint(x) <> datasource.fingerprint(y) THEN
				RETURN NEXT format('round %s: after diff(x, y), x differs from y: %s', i, pg_temp.differing(x, y));
			END IF;
			steps := pg_temp.apply_diff(y, 'i09_base');
			IF datasource.fingerprint(y) <> datasource.fingerprint('i09_base') THEN
				RETURN NEXT format('round %s: after diff(y, base), y differs from base: %s', i, pg_temp.differing(y, 'i09_base'));
			END IF;
		EXCEPTION WHEN OTHERS THEN
			RETURN NEXT format('round %s: %s', i, SQLERRM);
		END;
		PERFORM datasource.drop_database(x);
		PERFORM datasource.drop_database(y);
		EXECUTE format('DROP SCHEMA %I CASCADE', x);
		EXECUTE format('DROP SCHEMA %I CASCADE', y);
	END LOOP;
	-- the mutations must really have been exercised
	IF total < rounds * 3 THEN
		RETURN NEXT format('only %s mutations applied in %s rounds', total, rounds);
	END IF;
END
$$;
SELECT is_empty($$SELECT * FROM pg_temp.property(16)$$,
    'property: for 16 random sets of mutations, diff(x, y) turns x into y and diff(y, base) turns y back');

-- every mutation alone, so that each one is known to round-trip
CREATE FUNCTION pg_temp.each_mutation() RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	m record;
	applied int := 0;
BEGIN
	PERFORM pg_temp.empty_db('i09_m');
	PERFORM pg_temp.apply_diff('i09_m', 'i09_base');
	PERFORM pg_temp.empty_db('i09_n');
	PERFORM pg_temp.apply_diff('i09_n', 'i09_base');
	FOR m IN SELECT * FROM mutation ORDER BY n LOOP
		BEGIN
			PERFORM set_config('search_path', 'i09_m', true);
			EXECUTE m.sql;
		EXCEPTION WHEN OTHERS THEN
			-- an earlier mutation removed what this one needs
			PERFORM set_config('search_path', 'public', true);
			CONTINUE;
		END;
		PERFORM set_config('search_path', 'public', true);
		applied := applied + 1;
		BEGIN
			PERFORM pg_temp.apply_diff('i09_n', 'i09_m');
			IF datasource.fingerprint('i09_n') <> datasource.fingerprint('i09_m') THEN
				RETURN NEXT format('mutation %s (%s): %s', m.n, m.sql, pg_temp.differing('i09_n', 'i09_m'));
			END IF;
		EXCEPTION WHEN OTHERS THEN
			RETURN NEXT format('mutation %s (%s): %s', m.n, m.sql, SQLERRM);
		END;
	END LOOP;
	IF applied < (SELECT count(*) FROM mutation) - 6 THEN
		RETURN NEXT format('only %s mutations applied', applied);
	END IF;
END
$$;
SELECT is_empty($$SELECT * FROM pg_temp.each_mutation()$$,
    'every mutation of the list, applied one after the other, is followed by diff');

-- ------------------------------------------------------------ dependency cycles
-- diff_depths (and so diff) ends on a cyclic section, and on deep or densely
-- layered ones; each call runs under a statement timeout of a few seconds,
-- and a call cut short reads 'timed out' instead of aborting the file.
CREATE FUNCTION pg_temp.depths(objects jsonb, edges text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	RETURN (SELECT string_agg(name || ':' || depth, ' ' ORDER BY name COLLATE "C")
	          FROM datasource.diff_depths(objects, edges));
EXCEPTION WHEN query_canceled THEN
	RETURN 'timed out';
END
$$;
-- the view steps of diff(f, t), in order
CREATE FUNCTION pg_temp.view_steps(f jsonb, t jsonb) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	RETURN (SELECT string_agg(d.change || ' ' || d.object_name, ', ' ORDER BY d.n)
	          FROM datasource.diff(f, t) WITH ORDINALITY AS d (object_type, object_name, change, ddl, n)
	         WHERE d.object_type = 'view');
EXCEPTION WHEN query_canceled THEN
	RETURN 'timed out';
END
$$;
SET LOCAL statement_timeout = '5s';
SELECT is(pg_temp.depths('{"a": {"depends_on": ["b"]}, "b": {"depends_on": ["a"]}}', 'depends_on'),
    'a:0 b:0', 'diff_depths: two objects using each other share depth 0');
SELECT is(pg_temp.depths('{"a": {"calls": ["b", "c"]}, "b": {"calls": ["a", "c"]}, "c": {"calls": ["a", "b"]},
                          "d": {"calls": ["a"]}, "e": {}, "f": {"calls": ["f", "e"]}, "g": {"calls": ["d", "x"]}}', 'calls'),
    'a:0 b:0 c:0 d:1 e:0 f:1 g:2',
    'diff_depths: a cycle of three has one depth, what uses it one more; using itself or an unknown name adds nothing');
SELECT is(pg_temp.depths('{"a": {"calls": ["b"]}, "b": {"calls": ["c"]}, "c": {"calls": ["a", "z"]}, "z": {}}', 'calls'),
    'a:1 b:1 c:1 z:0', 'diff_depths: a cycle above an object is one deeper than it');
SELECT is(pg_temp.depths(
    (SELECT jsonb_object_agg('v' || i, jsonb_build_object('depends_on', jsonb_build_array('v' || (i - 1), 'w' || (i - 1))))
         || jsonb_object_agg('w' || i, jsonb_build_object('depends_on', jsonb_build_array('v' || (i - 1), 'w' || (i - 1))))
       FROM generate_series(0, 29) i), 'depends_on'),
    (SELECT string_agg(l.n || ':' || i, ' ' ORDER BY l.n COLLATE "C")
       FROM generate_series(0, 29) i, LATERAL (VALUES ('v' || i), ('w' || i)) AS l (n)),
    'diff_depths: 30 layers of two views, each reading both of the layer below, in time');
SELECT is(pg_temp.depths(
    (SELECT jsonb_object_agg('n' || i, jsonb_build_object('depends_on', jsonb_build_array('n' || (i - 1))))
       FROM generate_series(0, 149) i), 'depends_on'),
    (SELECT string_agg('n' || i || ':' || i, ' ' ORDER BY ('n' || i) COLLATE "C") FROM generate_series(0, 149) i),
    'diff_depths: a chain of 150 views has depths 0 to 149');

-- a cycle of views PostgreSQL does build (CREATE OR REPLACE VIEW): each of
-- three views reads the other two
SELECT pg_temp.empty_db('i09_cyc');
CREATE VIEW i09_cyc.va AS SELECT 1 AS x;
CREATE VIEW i09_cyc.vb AS SELECT x FROM i09_cyc.va;
CREATE VIEW i09_cyc.vc AS SELECT va.x FROM i09_cyc.va, i09_cyc.vb;
CREATE OR REPLACE VIEW i09_cyc.va AS SELECT vb.x FROM i09_cyc.vb, i09_cyc.vc;
CREATE OR REPLACE VIEW i09_cyc.vb AS SELECT va.x FROM i09_cyc.va, i09_cyc.vc;
CREATE TEMP TABLE cyc AS SELECT datasource.describe('i09_cyc') AS d;
SELECT is((SELECT jsonb_object_agg(key, value->'depends_on') FROM cyc, jsonb_each(d->'views')),
    '{"va": ["vb", "vc"], "vb": ["va", "vc"], "vc": ["va", "vb"]}', 'describe() of three views in a cycle');
SELECT is(pg_temp.view_steps('{}', (SELECT d FROM cyc)), 'create va, create vb, create vc',
    'diff() to the cycle creates each view once, in name order');
SELECT is(pg_temp.view_steps((SELECT d FROM cyc), '{}'), 'drop va, drop vb, drop vc',
    'diff() from the cycle drops each view once');
RESET statement_timeout;

-- ------------------------------------------------------------ drift
SET LOCAL datasource.ddl_log = on;
SELECT pg_temp.empty_db('i09_drift');
SELECT pg_temp.empty_db('i09_drift2');
SELECT throws_ok($$SELECT * FROM datasource.drift(NULL)$$, '22004', NULL, 'drift(NULL) is 22004');
SELECT throws_ok($$SELECT * FROM datasource.drift('i09_nope')$$, '42704', NULL, 'drift of an unknown logical database is 42704');
SELECT results_eq($$SELECT source, object_type, object_name, change, logged_at FROM datasource.drift('i09_drift')$$,
    $$VALUES ('journal'::text, 'logical database'::text, 'i09_drift'::text, 'never migrated'::text, NULL::timestamptz)$$,
    'drift before any migration is one row saying so (not an error)');
SELECT is((datasource.migrate('i09_drift', 'v1', 'CREATE TABLE t (id int PRIMARY KEY, v text)')).status, 'applied', 'a migration applies');
SELECT is((SELECT schema_fingerprint FROM datasource.migrations WHERE database = 'i09_drift' AND version = 'v1'),
    datasource.fingerprint('i09_drift'), 'its journal row holds the fingerprint of the schema it left');
SELECT is((SELECT s.description FROM datasource.schema_snapshots s JOIN datasource.migrations m ON m.schema_fingerprint = s.fingerprint
            WHERE m.database = 'i09_drift' AND m.version = 'v1'),
    datasource.describe('i09_drift'), 'and the description is kept');
SELECT is_empty($$SELECT * FROM datasource.drift('i09_drift')$$, 'no drift right after the migration');
SELECT is((datasource.migrate('i09_drift2', 'v1', 'CREATE TABLE t (id int PRIMARY KEY, v text)')).status, 'applied', 'a second tenant gets the same migration');
SELECT is((SELECT count(DISTINCT s.fingerprint)::int FROM datasource.schema_snapshots s JOIN datasource.migrations m ON m.schema_fingerprint = s.fingerprint
            WHERE m.database IN ('i09_drift', 'i09_drift2')), 1, 'tenants of one structure share one snapshot');
ALTER TABLE i09_drift.t ADD COLUMN note text;
SELECT results_eq($$SELECT source, object_type, object_name, change FROM datasource.drift('i09_drift')$$,
    $$VALUES ('schema', 'column', 't.note', 'create'), ('ddl_log', 'table', 'i09_drift.t', 'ALTER TABLE')$$,
    'DDL outside migrations shows as a schema change and as a DDL journal entry');
SELECT is((SELECT detail FROM datasource.drift('i09_drift') WHERE source = 'schema'),
    'ALTER TABLE t ADD COLUMN note text;', 'the schema row has the DDL of the change');
SELECT is((datasource.migrate('i09_drift', 'v2', 'ALTER TABLE t DROP COLUMN note')).status, 'applied', 'a migration takes the change back');
SELECT is_empty($$SELECT * FROM datasource.drift('i09_drift')$$, 'and there is no drift after it');
SET LOCAL datasource.migration_snapshot = off;
SELECT is((datasource.migrate('i09_drift', 'v3', 'CREATE INDEX t_v ON t (v)')).status, 'applied', 'a migration without a snapshot');
SELECT ok((SELECT schema_fingerprint IS NULL FROM datasource.migrations WHERE database = 'i09_drift' AND version = 'v3'),
    'records no fingerprint');
SET LOCAL client_min_messages = error;
SELECT is_empty($$SELECT * FROM datasource.drift('i09_drift')$$, 'drift without a snapshot compares the DDL journal only (nothing since v3)');
SET LOCAL datasource.migration_snapshot = on;
SET LOCAL client_min_messages = warning;
SELECT is((datasource.baseline('i09_drift', 'v4')).status, 'baseline', 'a baseline');
SELECT is((SELECT schema_fingerprint FROM datasource.migrations WHERE database = 'i09_drift' AND version = 'v4'),
    datasource.fingerprint('i09_drift'), 'records the schema too');
SELECT is(datasource.fingerprint(datasource.describe('i09_drift')), datasource.fingerprint('i09_drift'),
    'fingerprint of a description equals fingerprint of the logical database');
SET LOCAL datasource.ddl_log = off;

-- ------------------------------------------------------------ json_schema
CREATE TEMP TABLE js AS SELECT datasource.json_schema('i09_base', 'orders') AS s;
SELECT is((SELECT s->>'$schema' FROM js), 'https://json-schema.org/draft/2020-12/schema', 'json_schema names draft 2020-12');
SELECT is((SELECT s->>'type' FROM js), 'object', 'a row is an object');
SELECT is((SELECT s->'additionalProperties' FROM js), 'false'::jsonb, 'with no other properties');
SELECT is((SELECT jsonb_array_length(s->'required') FROM js),
    (SELECT jsonb_array_length(j->'tables'->'orders'->'columns') FROM d), 'every column is required');
SELECT is((SELECT s->'properties'->'id' FROM js),
    '{"type": "integer", "minimum": -9223372036854775808, "maximum": 9223372036854775807, "readOnly": true}'::jsonb,
    'a bigint identity column is a read-only integer with the bigint bounds');
SELECT is((SELECT s->'properties'->'status'->'enum' FROM js),
    '["pending", "paid", "shipped", "refunded", "cancelled"]'::jsonb, 'an enum column lists its labels');
SELECT is((SELECT s->'properties'->'status'->'default' FROM js), '"pending"'::jsonb, 'a constant default is the default');
SELECT is((SELECT s->'properties'->'total'->'minimum' FROM js), '0'::jsonb, 'CHECK (total >= 0) is a minimum');
SELECT is((SELECT s->'properties'->'notes'->'anyOf'->1 FROM js), '{"type": "null"}'::jsonb, 'a nullable column admits null');
SELECT is((SELECT s->'properties'->'currency'->>'maxLength' FROM js), '3', 'a char(3) domain keeps its length');
SELECT is((SELECT s->'properties'->'shipping'->'anyOf'->0->>'type' FROM js), 'object', 'a composite column is an object');
SELECT is(datasource.json_schema('i09_base', 'active_users')->>'type', 'object', 'a view has a schema too');
SELECT ok(datasource.json_schema('i09_base', 'orders') = (SELECT s FROM js), 'json_schema is deterministic');

-- CHECKs and defaults whose deparsed text does not parse back: NOT VALID and
-- NO INHERIT checks (pg_get_constraintdef appends the words), and defaults
-- that are sums of 10,100 terms, which PostgreSQL stores as a tree as deep
-- and prints with as many nested parentheses, more than the grammar's stack
-- holds (creating and describing them needs more than 2MB of stack).
-- json_schema lists or describes them and goes on.  It used to go on in
-- ErrorContext after the first default that did not parse, so its result
-- stayed there and the next failure reset that memory under it.
CREATE SCHEMA i09_js;
SELECT datasource.create_database('i09_js', 'local', 'i09_js');
SET LOCAL max_stack_depth = '6MB';
DO $$
DECLARE
	deep text := (SELECT string_agg('1', ' + ') FROM generate_series(1, 10100));
BEGIN
	EXECUTE format('CREATE TABLE i09_js.deep (a int DEFAULT %s, b text DEFAULT ''x'', '
		'c int DEFAULT %s, d int DEFAULT 5, CONSTRAINT d_range CHECK (d >= 0 AND d <= 10), '
		'CONSTRAINT b_inh CHECK (length(b) <= 5) NO INHERIT)', deep, deep);
END
$$;
ALTER TABLE i09_js.deep ADD CONSTRAINT a_pos CHECK (a > 0) NOT VALID,
    ADD CONSTRAINT c_pos CHECK (c > 0) NOT VALID;
CREATE TEMP TABLE ec0 AS SELECT used_bytes FROM pg_backend_memory_contexts WHERE name = 'ErrorContext';
CREATE TEMP TABLE jsd AS SELECT datasource.json_schema('i09_js', 'deep') AS s;
CREATE TEMP TABLE ec1 AS SELECT used_bytes FROM pg_backend_memory_contexts WHERE name = 'ErrorContext';
SELECT cmp_ok((SELECT used_bytes FROM ec1), '<=', (SELECT used_bytes FROM ec0),
    'json_schema leaves nothing in ErrorContext after defaults that do not parse');
SELECT is((SELECT s->'required' FROM jsd), '["a", "b", "c", "d"]'::jsonb, 'every column of such a table is there');
SELECT is((SELECT jsonb_build_array(s->'properties'->'b'->'default', s->'properties'->'d'->'default') FROM jsd),
    '["x", 5]'::jsonb, 'its constant defaults are defaults');
SELECT ok((SELECT s->'properties'->'a'->>'$comment' LIKE 'default (((%1 + 1) + 1) + 1)%'
    AND s->'properties'->'c'->>'$comment' LIKE 'default (((%1 + 1) + 1) + 1)%' FROM jsd),
    'a default that does not parse back is described in a comment');
SELECT is((SELECT s->'properties'->'d'->'anyOf'->0 FROM jsd), '{"type": "integer", "minimum": 0, "maximum": 10}'::jsonb,
    'a CHECK that parses is translated');
SELECT is((SELECT s->>'$comment' FROM jsd),
    'not expressed in this schema: CHECK (a > 0) NOT VALID; CHECK (length(b) <= 5) NO INHERIT; CHECK (c > 0) NOT VALID',
    'every CHECK that does not parse back is listed');
SELECT lives_ok($$SELECT datasource.json_schema('i09_js', 'deep') = datasource.json_schema('i09_js', 'deep')$$,
    'two json_schema results in one expression do not overwrite each other');
SELECT ok(datasource.json_schema('i09_js', 'deep') = (SELECT s FROM jsd), 'and they are the same');
RESET max_stack_depth;

SELECT * FROM finish();
ROLLBACK;
