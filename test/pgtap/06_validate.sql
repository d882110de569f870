-- 06_validate: datasource.validate(query, database, require_read_only), one
-- statement per case.  The expected verdicts come from the semantics
-- (test/validate/SEMANTICS.md and DESIGN.md), not from the implementation.
--
-- Every case is a row of pg_temp.vcases; pg_temp.run_vcases() validates it
-- and emits ONE is() per case, comparing a jsonb of the checked fields with
-- the expected one.  A NULL expectation means "not checked" (the semantics
-- leave it open); '-' in e_source / e_cmd / e_err means "must be NULL".
-- e_err is a case-insensitive regular expression the error must match; a
-- case expected valid with e_err NULL must have a NULL error.  NULL
-- `databases` / `relations` results count as empty arrays (the semantics do
-- not say which of the two an empty answer is).
--
-- Fixture (all rolled back): logical databases customer_db, accounts_db
-- (schema acct), sales (schema sales_data), crm (schema sales), shared_l
-- (schema shared) and a 63-byte one on the local datasource; hr_db (schema
-- hr) and shared_r (schema shared) on the remote datasource v_remote, and
-- off_db on the disabled datasource v_off.  The remote servers are
-- 127.0.0.1 port 1 and their logical databases are inserted directly:
-- validate() never connects.
BEGIN;
SELECT plan(446);

-- ------------------------------------------------------------ fixture
CREATE SERVER v_srv FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1');
CREATE SERVER v_srv_off FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1');
SET LOCAL client_min_messages = warning;
DO $$ BEGIN
    PERFORM datasource.create_database('customer_db');
    PERFORM datasource.create_database('accounts_db', schema_name => 'acct');
    PERFORM datasource.create_database('sales', schema_name => 'sales_data');
    PERFORM datasource.create_database('crm', schema_name => 'sales');
    PERFORM datasource.create_database('shared_l', schema_name => 'shared');
    PERFORM datasource.create_database(repeat('d', 63));
    PERFORM datasource.create_source('v_remote', 'v_srv');
    PERFORM datasource.create_source('v_off', 'v_srv_off');
    PERFORM datasource.alter_source('v_off', enabled => false);
END $$;
RESET client_min_messages;
INSERT INTO datasource.databases (name, source, schema_name) VALUES
    ('hr_db', 'v_remote', 'hr'),
    ('shared_r', 'v_remote', 'shared'),
    ('off_db', 'v_off', 'off_db');

CREATE TABLE customer_db.customers (customer_id text, name text, email text);
CREATE TABLE customer_db.orders (id int PRIMARY KEY, customer_id text, total numeric);
CREATE TABLE acct.accounts (id int, customer_id text, balance numeric);
CREATE TABLE sales_data.leads (id int);
CREATE TABLE sales.leads (id int);
CREATE TABLE shared.t (id int);
-- an unmapped schema on the path holding a relation of the same name
CREATE TABLE public.customers (x int);
CREATE SEQUENCE customer_db.order_seq;
CREATE TYPE customer_db.mood AS ENUM ('sad', 'happy');
CREATE DOMAIN acct.amount AS numeric;
CREATE FUNCTION customer_db.bump() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1';
CREATE FUNCTION customer_db.label(text) RETURNS text LANGUAGE sql STABLE AS 'SELECT $1';
CREATE FUNCTION customer_db.vol_add(int, int) RETURNS int LANGUAGE sql VOLATILE AS 'SELECT $1 + $2';
CREATE FUNCTION customer_db.stable_add(int, int) RETURNS int LANGUAGE sql STABLE AS 'SELECT $1 + $2';
CREATE OPERATOR customer_db.#+# (LEFTARG = int, RIGHTARG = int, FUNCTION = customer_db.vol_add);
CREATE OPERATOR customer_db.#@# (LEFTARG = int, RIGHTARG = int, FUNCTION = customer_db.stable_add);
CREATE PROCEDURE customer_db.noop() LANGUAGE sql AS 'SELECT 1';

SELECT results_eq(
    $$SELECT name, source, schema_name FROM datasource.databases ORDER BY name COLLATE "C"$$,
    $$VALUES ('accounts_db'::text, 'local'::text, 'acct'::text), ('crm', 'local', 'sales'),
             ('customer_db', 'local', 'customer_db'), (repeat('d', 63), 'local', repeat('d', 63)),
             ('hr_db', 'v_remote', 'hr'), ('off_db', 'v_off', 'off_db'),
             ('sales', 'local', 'sales_data'), ('shared_l', 'local', 'shared'),
             ('shared_r', 'v_remote', 'shared')$$,
    'fixture: nine logical databases on three datasources');

-- what validate() must never change: it parses, it does not run anything
CREATE FUNCTION pg_temp.snap() RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'sources', (SELECT jsonb_agg(to_jsonb(s) ORDER BY s.name) FROM datasource.sources s),
        'databases', (SELECT jsonb_agg(to_jsonb(d) ORDER BY d.name) FROM datasource.databases d),
        'relations', (SELECT jsonb_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text
                                       ORDER BY n.nspname, c.relname)
                        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname IN ('customer_db', 'acct', 'sales', 'sales_data', 'shared', 'public')),
        'columns', (SELECT count(*) FROM pg_attribute WHERE attrelid = 'customer_db.customers'::regclass),
        'functions', (SELECT count(*) FROM pg_proc WHERE pronamespace = 'customer_db'::regnamespace),
        'types', (SELECT count(*) FROM pg_type WHERE typnamespace IN ('customer_db'::regnamespace, 'acct'::regnamespace)),
        'orders', (SELECT count(*) FROM customer_db.orders),
        'seq', (SELECT last_value FROM pg_sequences WHERE schemaname = 'customer_db' AND sequencename = 'order_seq'),
        'large_objects', (SELECT count(*) FROM pg_largeobject_metadata),
        'prepared', (SELECT count(*) FROM pg_prepared_statements),
        'cursors', (SELECT count(*) FROM pg_cursors),
        'setting', current_setting('a.b', true),
        'search_path', current_setting('search_path'),
        'scs', current_setting('standard_conforming_strings'))
$$;
CREATE TEMP TABLE saved AS SELECT pg_temp.snap() AS s;

-- ------------------------------------------------------------ the function
SELECT has_function('datasource', 'validate', ARRAY['text', 'text', 'boolean'],
    'datasource.validate(text, text, boolean) exists');
SELECT is(
    (SELECT proargnames::text[] FROM pg_proc WHERE oid = to_regprocedure('datasource.validate(text, text, boolean)')),
    ARRAY['query', 'database', 'require_read_only',
          'valid', 'datasource', 'databases', 'relations', 'command', 'read_only', 'error'],
    'validate: arguments query, database, require_read_only; result columns as the contract says');
SELECT is(
    (SELECT array_agg(format_type(t, NULL) ORDER BY i)
       FROM pg_proc p, unnest(p.proallargtypes) WITH ORDINALITY AS u(t, i)
      WHERE p.oid = to_regprocedure('datasource.validate(text, text, boolean)')),
    ARRAY['text', 'text', 'boolean', 'boolean', 'text', 'text[]', 'text[]', 'text', 'boolean', 'text'],
    'validate: argument and result types');
SELECT is((SELECT count(*)::int FROM datasource.validate('SELECT 1')), 1,
    'validate returns exactly one row (defaults for database and require_read_only)');
SELECT results_eq(
    $$SELECT valid, read_only, command FROM datasource.validate('SELECT 1')$$,
    $$SELECT valid, read_only, command FROM datasource.validate('SELECT 1', NULL, false)$$,
    'the defaults are database NULL and require_read_only false');

-- ------------------------------------------------------------ misuse raises
SELECT throws_ok($$SELECT * FROM datasource.validate(NULL)$$, '22004', NULL,
    'a NULL query raises 22004');
SELECT throws_ok($$SELECT * FROM datasource.validate(NULL, 'customer_db', true)$$, '22004', NULL,
    'a NULL query raises 22004 whatever the other arguments');
SELECT throws_ok($$SELECT * FROM datasource.validate('SELECT 1', 'customer_db', NULL)$$, '22004', NULL,
    'a NULL require_read_only raises 22004');

-- ------------------------------------------------------------ the cases
CREATE TEMP TABLE vcases (
    id serial,
    label text NOT NULL,
    q text NOT NULL,            -- the query
    db text,                    -- the database argument
    e_valid boolean,            -- expected valid (NULL: not checked)
    e_source text,              -- expected datasource ('-': NULL)
    e_dbs text[],               -- expected databases, sorted
    e_rels text[],              -- expected relations, sorted
    e_cmd text,                 -- expected command tag ('-': NULL)
    e_ro boolean,               -- expected read_only
    e_err text,                 -- regex the error must match ('-': NULL)
    path text,                  -- search_path for the call (NULL: unchanged)
    scs text,                   -- standard_conforming_strings for the call
    rro boolean NOT NULL DEFAULT false);

-- a pattern requiring every given word somewhere in the error
CREATE FUNCTION pg_temp.names(VARIADIC w text[]) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT '^' || string_agg('(?=.*' || x || ')', '') FROM unnest(w) x
$$;

-- ------------------------------------------------------------ A: resolution of names
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('A01 unqualified name resolves in the database',
    $q$SELECT name FROM customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('A02 qualifier = logical database name, no database',
    $q$SELECT name FROM customer_db.customers$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('A03 qualifier = physical schema acct resolves to accounts_db',
    $q$SELECT * FROM acct.accounts$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'SELECT', true, NULL),
('A04 qualifier = logical name accounts_db (no schema of that name)',
    $q$SELECT * FROM accounts_db.accounts$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'SELECT', true, NULL),
('A05 both spellings are one relation',
    $q$SELECT * FROM acct.accounts a JOIN accounts_db.accounts b USING (id)$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'SELECT', true, NULL),
('A06 the database argument is counted although untouched',
    $q$SELECT * FROM acct.accounts$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts}', 'SELECT', true, NULL),
('A07 SELECT 1 with a database',
    $q$SELECT 1$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('A08 SELECT 1 without a database: no datasource',
    $q$SELECT 1$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('A09 remote logical database as the database argument',
    $q$SELECT * FROM employees$q$, 'hr_db',
    true, 'v_remote', '{hr_db}', '{hr_db.employees}', 'SELECT', true, NULL),
('A10 remote schema hr as qualifier',
    $q$SELECT * FROM hr.employees$q$, NULL,
    true, 'v_remote', '{hr_db}', '{hr_db.employees}', 'SELECT', true, NULL),
('A11 remote logical name hr_db as qualifier',
    $q$SELECT * FROM hr_db.employees$q$, NULL,
    true, 'v_remote', '{hr_db}', '{hr_db.employees}', 'SELECT', true, NULL),
('A12 unqualified names resolve in the database only',
    $q$SELECT * FROM customers$q$, 'hr_db',
    true, 'v_remote', '{hr_db}', '{hr_db.customers}', 'SELECT', true, NULL),
('A13 unknown qualifier',
    $q$SELECT * FROM nope.customers$q$, 'customer_db',
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "nope"'),
('A14 public is not a logical database',
    $q$SELECT * FROM public.customers$q$, 'customer_db',
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "public"'),
('A15 the extension''s own schema is not a logical database',
    $q$SELECT * FROM datasource.sources$q$, 'customer_db',
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "datasource"'),
('A16 pg_toast is not a system qualifier',
    $q$SELECT * FROM pg_toast.pg_toast_1255$q$, 'customer_db',
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "pg_toast"'),
('A17 pg_temp is not a system qualifier',
    $q$SELECT * FROM pg_temp.vcases$q$, 'customer_db',
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "pg_temp"'),
('A18 information_schema relation, no database',
    $q$SELECT table_name FROM information_schema.tables$q$, NULL,
    true, '-', '{}', '{information_schema.tables}', 'SELECT', true, NULL),
('A19 pg_catalog relation with a logical one',
    $q$SELECT c.relname FROM pg_catalog.pg_class c JOIN customers ON true$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers,pg_catalog.pg_class}', 'SELECT', true, NULL),
('A20 unqualified catalog relation without a database',
    $q$SELECT relname FROM pg_class$q$, NULL,
    true, '-', '{}', '{pg_catalog.pg_class}', 'SELECT', true, NULL),
-- relations left unchecked: SEMANTICS says "resolve in database", the server
-- reads pg_catalog.pg_class (pg_catalog is searched first); see the report
('A21 unqualified catalog relation with a database',
    $q$SELECT relname FROM pg_class$q$, 'customer_db',
    true, 'local', '{customer_db}', NULL, 'SELECT', true, NULL),
('A22 unknown unqualified relation without a database',
    $q$SELECT * FROM nosuch$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'nosuch'),
('A23 qualified relation of a remote database with a pg_catalog one',
    $q$SELECT * FROM hr.employees e, pg_catalog.pg_namespace n$q$, NULL,
    true, 'v_remote', '{hr_db}', '{hr_db.employees,pg_catalog.pg_namespace}', 'SELECT', true, NULL);

-- unqualified names without a database: through the session search_path
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err, path) VALUES
('A24 search_path finds customers in customer_db',
    $q$SELECT * FROM customers$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL, 'customer_db, public'),
('A25 search_path over two logical databases',
    $q$SELECT * FROM accounts JOIN orders USING (customer_id)$q$, NULL,
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.orders}', 'SELECT', true, NULL,
    'acct, customer_db, public'),
('A26 search_path without a mapped schema holding it: not found',
    $q$SELECT * FROM orders$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'orders', 'public'),
-- A27: see the AMBIGUOUS block at the end
('A28 search_path: a schema mapped only remotely is not searched',
    $q$SELECT * FROM employees$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'employees', 'hr, public'),
('A29 search_path: the database argument wins over the path',
    $q$SELECT * FROM accounts$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.accounts}', 'SELECT', true, NULL, 'acct, public');

-- ------------------------------------------------------------ B: quoting
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('B01 quoted lower-case qualifier',
    $q$SELECT * FROM "customer_db"."customers"$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('B02 quoted mixed-case qualifier is another name',
    $q$SELECT * FROM "Customer_db".customers$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "Customer_db"'),
('B03 unquoted upper case folds',
    $q$SELECT * FROM CUSTOMER_DB.CUSTOMERS$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('B04 U& escape in a qualifier',
    $q$SELECT * FROM U&"customer\005fdb".orders$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.orders}', 'SELECT', true, NULL),
('B05 U& escape decoding to an unknown qualifier',
    $q$SELECT * FROM U&"\0041cct".accounts$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "Acct"'),
('B06 quoted physical schema',
    $q$SELECT * FROM "acct"."accounts"$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'SELECT', true, NULL),
('B07 a quoted name containing a dot is one unqualified name',
    $q$SELECT * FROM "customer_db.customers"$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, NULL),
('B08 a quoted dotted name does not reach accounts_db',
    $q$SELECT * FROM "acct.accounts"$q$, 'customer_db',
    true, 'local', '{customer_db}', NULL, 'SELECT', true, NULL),
('B09 quoted remote qualifier with a local database',
    $q$SELECT * FROM "hr"."employees"$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('B10 a quoted upper-case alias is not a qualifier',
    $q$SELECT "HR".name FROM customers AS "HR"$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL);

INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err, path) VALUES
('B11 "Customers" is not customers',
    $q$SELECT * FROM "Customers"$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'Customers', 'customer_db, public'),
('B12 CUSTOMERS folds to customers',
    $q$SELECT * FROM CUSTOMERS$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL, 'customer_db, public'),
('B13 "customers" quoted lower case',
    $q$SELECT * FROM "customers"$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL, 'customer_db, public'),
('B14 U&"\0063ustomers" is customers',
    $q$SELECT * FROM U&"\0063ustomers"$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL, 'customer_db, public'),
('B15 U& with UESCAPE',
    $q$SELECT * FROM U&"!0063ustomers" UESCAPE '!'$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL, 'customer_db, public'),
('B16 "CUSTOMERS" quoted upper case is not customers',
    $q$SELECT * FROM "CUSTOMERS"$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'CUSTOMERS', 'customer_db, public');

-- ------------------------------------------------------------ C: comments and strings
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('C01 dollar signs inside a string',
    $q$SELECT '$$ DELETE FROM x $$'$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('C02 a dollar-quoted string hides DROP and a semicolon',
    $q$SELECT $$ DROP TABLE customer_db.customers; $$$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('C03 a tagged dollar quote hides a statement',
    $q$SELECT $t$ ; DELETE FROM orders; $t$ AS x$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('C04 nested dollar tags',
    $q$SELECT $a$ $b$ ; $b$ DELETE FROM hr.employees $a$$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('C05 a block comment hides DROP',
    $q$SELECT 1 /* DROP TABLE customers */$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('C06 a line comment hides a semicolon and a statement',
    $q$SELECT 1 -- ; DELETE FROM orders$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('C07 nested block comments',
    $q$SELECT 1 /* /* nested */ ; DELETE FROM orders */$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('C08 a block comment hides a remote relation',
    $q$SELECT * FROM customers /* , hr.employees */$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('C09 a line comment hides a remote relation',
    E'SELECT * FROM customers -- , hr.employees\nWHERE true', 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('C10 a string literal naming a remote relation',
    $q$SELECT 'hr.employees' FROM customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('C11 doubled quotes inside a string',
    $q$SELECT 'it''s; DROP TABLE customers'$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('C12 an escaped quote in an E string',
    $q$SELECT E'\'; DELETE FROM orders; --'$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('C13 a quoted alias containing a statement',
    $q$SELECT 1 AS "DROP TABLE x; --"$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL);

INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err, scs) VALUES
('C14 standard_conforming_strings on: a backslash does not escape, two statements',
    $q$SELECT 'a\'; DELETE FROM orders; --'$q$, 'customer_db',
    false, NULL, NULL, NULL, NULL, NULL, '^several statements \(2\): validate one at a time$', 'on'),
('C15 standard_conforming_strings off: one statement, one string',
    $q$SELECT 'a\'; DELETE FROM orders; --'$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL, 'off');

-- ------------------------------------------------------------ D: set operations, E: LATERAL
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('D01 UNION over two logical databases',
    $q$SELECT customer_id FROM customers UNION SELECT customer_id FROM acct.accounts$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.customers}', 'SELECT', true, NULL),
('D02 INTERSECT',
    $q$SELECT customer_id FROM orders INTERSECT SELECT customer_id FROM accounts_db.accounts$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.orders}', 'SELECT', true, NULL),
('D03 EXCEPT ALL of parenthesised branches',
    $q$(SELECT customer_id FROM customers) EXCEPT ALL (SELECT customer_id FROM orders ORDER BY 1 LIMIT 5)$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers,customer_db.orders}', 'SELECT', true, NULL),
('D04 UNION ALL reaching a remote database',
    $q$SELECT name FROM customers UNION ALL SELECT name FROM hr.employees$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('D05 VALUES UNION ALL SELECT',
    $q$VALUES (1) UNION ALL SELECT id FROM orders$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'SELECT', true, NULL),
('D06 TABLE UNION TABLE',
    $q$TABLE customers UNION TABLE customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('D07 a locking clause inside a set operation branch',
    $q$SELECT 1 UNION (SELECT 2 FROM orders FOR UPDATE)$q$, 'customer_db',
    NULL, NULL, NULL, NULL, NULL, false, NULL),
('E01 LATERAL subquery',
    $q$SELECT * FROM customers c, LATERAL (SELECT * FROM orders o WHERE o.customer_id = c.customer_id) x$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers,customer_db.orders}', 'SELECT', true, NULL),
('E02 CROSS JOIN LATERAL into another logical database',
    $q$SELECT * FROM customers c CROSS JOIN LATERAL (SELECT balance FROM acct.accounts a WHERE a.customer_id = c.customer_id LIMIT 1) x$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.customers}', 'SELECT', true, NULL),
('E03 LATERAL function of a logical database',
    $q$SELECT * FROM customers c LEFT JOIN LATERAL customer_db.label(c.name) l ON true$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('E04 LATERAL reaching a remote database',
    $q$SELECT * FROM customers c, LATERAL (SELECT * FROM hr.employees e WHERE e.name = c.name) x$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('E05 LATERAL calling nextval is not read-only',
    $q$SELECT * FROM customers c, LATERAL (SELECT nextval('customer_db.order_seq')) x$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', false, NULL);

-- ------------------------------------------------------------ F: subqueries in every clause
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('F01 subquery in the select list',
    $q$SELECT name, (SELECT count(*) FROM acct.accounts a WHERE a.customer_id = c.customer_id) FROM customers c$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.customers}', 'SELECT', true, NULL),
('F02 subqueries nested in FROM',
    $q$SELECT * FROM (SELECT * FROM (SELECT * FROM orders) a) b$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'SELECT', true, NULL),
('F03 IN subquery in WHERE',
    $q$SELECT * FROM customers WHERE customer_id IN (SELECT customer_id FROM accounts_db.accounts)$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.customers}', 'SELECT', true, NULL),
('F04 EXISTS subquery in WHERE reaching a remote database',
    $q$SELECT * FROM customers WHERE EXISTS (SELECT 1 FROM hr_db.employees)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('F05 subquery in HAVING',
    $q$SELECT customer_id FROM orders GROUP BY customer_id HAVING sum(total) > (SELECT avg(balance) FROM acct.accounts)$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.orders}', 'SELECT', true, NULL),
('F06 subquery in ORDER BY',
    $q$SELECT * FROM customers ORDER BY (SELECT max(id) FROM acct.accounts)$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.customers}', 'SELECT', true, NULL),
('F07 subquery in LIMIT',
    $q$SELECT * FROM customers LIMIT (SELECT count(*) FROM orders)$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers,customer_db.orders}', 'SELECT', true, NULL),
('F08 subquery in OFFSET reaching a remote database',
    $q$SELECT * FROM customers OFFSET (SELECT count(*) FROM hr.employees)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('F09 subquery in GROUP BY',
    $q$SELECT count(*) FROM customers GROUP BY (SELECT 1 FROM acct.accounts LIMIT 1)$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.customers}', 'SELECT', true, NULL),
('F10 subquery in JOIN ... ON',
    $q$SELECT * FROM customers c JOIN orders o ON o.id = (SELECT min(id) FROM acct.accounts)$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.customers,customer_db.orders}', 'SELECT', true, NULL),
('F11 EXISTS inside CASE',
    $q$SELECT CASE WHEN EXISTS (SELECT 1 FROM acct.accounts) THEN 1 END$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'SELECT', true, NULL),
('F12 ARRAY(subquery)',
    $q$SELECT ARRAY(SELECT name FROM customer_db.customers)$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('F13 subquery as a function argument',
    $q$SELECT coalesce((SELECT max(total) FROM orders), 0)$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'SELECT', true, NULL),
('F14 subquery in a window definition',
    $q$SELECT sum(total) OVER (ORDER BY (SELECT 1 FROM acct.accounts LIMIT 1)) FROM orders$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.orders}', 'SELECT', true, NULL),
('F15 subquery in VALUES',
    $q$VALUES ((SELECT count(*) FROM acct.accounts))$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'SELECT', true, NULL),
('F16 three levels of scalar subqueries',
    $q$SELECT (SELECT (SELECT name FROM customers LIMIT 1))$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('F17 FOR UPDATE in a WHERE subquery is not read-only',
    $q$SELECT * FROM customers WHERE customer_id IN (SELECT customer_id FROM orders FOR UPDATE)$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers,customer_db.orders}', NULL, false, NULL),
('F18 subquery in a function argument in FILTER',
    $q$SELECT count(*) FILTER (WHERE total > (SELECT 0 FROM acct.accounts LIMIT 1)) FROM orders$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.orders}', 'SELECT', true, NULL);

-- ------------------------------------------------------------ G: data modification
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('G01 INSERT VALUES',
    $q$INSERT INTO orders (id, customer_id, total) VALUES (1, 'c1', 10)$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'INSERT', false, NULL),
('G02 INSERT ... SELECT from another logical database',
    $q$INSERT INTO orders (id, customer_id, total) SELECT id, customer_id, balance FROM acct.accounts$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.orders}', 'INSERT', false, NULL),
('G03 INSERT ... SELECT from a remote database',
    $q$INSERT INTO orders (id) SELECT id FROM hr.employees$q$, 'customer_db',
    false, '-', NULL, NULL, 'INSERT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('G04 INSERT ... ON CONFLICT DO UPDATE: excluded is not a relation',
    $q$INSERT INTO customer_db.orders AS o VALUES (1, 'c1', 10) ON CONFLICT (id) DO UPDATE SET total = excluded.total + o.total$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.orders}', 'INSERT', false, NULL),
('G05 INSERT ... ON CONFLICT DO NOTHING with a subquery',
    $q$INSERT INTO orders VALUES ((SELECT max(id) FROM acct.accounts), 'c1', 1) ON CONFLICT DO NOTHING$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.orders}', 'INSERT', false, NULL),
('G06 ON CONFLICT DO UPDATE SET from a remote database',
    $q$INSERT INTO orders VALUES (1, 'c1', 1) ON CONFLICT (id) DO UPDATE SET total = (SELECT max(salary) FROM hr.employees)$q$, 'customer_db',
    false, '-', NULL, NULL, 'INSERT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('G07 ON CONFLICT ON CONSTRAINT: a constraint is not a relation',
    $q$INSERT INTO orders VALUES (1, 'c1', 1) ON CONFLICT ON CONSTRAINT orders_pkey DO NOTHING$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'INSERT', false, NULL),
('G08 UPDATE ... FROM another logical database',
    $q$UPDATE orders o SET total = a.balance FROM acct.accounts a WHERE a.customer_id = o.customer_id$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.orders}', 'UPDATE', false, NULL),
('G09 UPDATE ... FROM a remote database',
    $q$UPDATE customer_db.orders SET total = 0 FROM hr.employees$q$, NULL,
    false, '-', NULL, NULL, 'UPDATE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('G10 UPDATE with a subquery in SET',
    $q$UPDATE customers SET name = (SELECT max(name) FROM customer_db.customers)$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'UPDATE', false, NULL),
('G11 DELETE ... USING',
    $q$DELETE FROM orders o USING customers c WHERE c.customer_id = o.customer_id$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers,customer_db.orders}', 'DELETE', false, NULL),
('G12 DELETE ... USING with EXISTS on a remote database',
    $q$DELETE FROM orders o USING acct.accounts a WHERE EXISTS (SELECT 1 FROM hr.employees)$q$, 'customer_db',
    false, '-', NULL, NULL, 'DELETE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('G13 DELETE ... RETURNING a qualified function',
    $q$DELETE FROM customer_db.orders RETURNING id, customer_db.label(customer_id)$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.orders}', 'DELETE', false, NULL),
('G14 UPDATE ... RETURNING a subquery',
    $q$UPDATE orders SET total = 0 RETURNING (SELECT count(*) FROM acct.accounts)$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.orders}', 'UPDATE', false, NULL),
('G15 INSERT DEFAULT VALUES RETURNING *',
    $q$INSERT INTO acct.accounts DEFAULT VALUES RETURNING *$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'INSERT', false, NULL),
('G16 MERGE from another logical database',
    $q$MERGE INTO customers c USING acct.accounts a ON c.customer_id = a.customer_id WHEN MATCHED THEN UPDATE SET name = 'x' WHEN NOT MATCHED THEN INSERT (customer_id) VALUES (a.customer_id)$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.customers}', 'MERGE', false, NULL),
('G17 MERGE USING a subquery, WHEN MATCHED THEN DELETE',
    $q$MERGE INTO customer_db.orders t USING (SELECT id FROM customer_db.orders WHERE total < 0) s ON t.id = s.id WHEN MATCHED THEN DELETE$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.orders}', 'MERGE', false, NULL),
('G18 MERGE USING a remote relation',
    $q$MERGE INTO customers c USING hr.employees e ON c.name = e.name WHEN MATCHED THEN DO NOTHING$q$, 'customer_db',
    false, '-', NULL, NULL, 'MERGE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('G19 UPDATE on a remote logical database',
    $q$UPDATE employees SET name = 'x'$q$, 'hr_db',
    true, 'v_remote', '{hr_db}', '{hr_db.employees}', 'UPDATE', false, NULL),
('G20 INSERT into an unknown qualifier',
    $q$INSERT INTO nope.t VALUES (1)$q$, 'customer_db',
    false, NULL, NULL, NULL, 'INSERT', NULL, 'unknown qualifier "nope"');

-- ------------------------------------------------------------ H: CTE scoping
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('H01 a non-recursive CTE is not visible in its own body',
    $q$WITH customers AS (SELECT * FROM customers) SELECT * FROM customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('H02 a CTE shadows an unknown unqualified name',
    $q$WITH nosuch AS (SELECT 1 AS x) SELECT * FROM nosuch$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('H03 ... but not inside its own body',
    $q$WITH nosuch AS (SELECT * FROM nosuch) SELECT * FROM nosuch$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'nosuch'),
('H04 a CTE shadows the unqualified name, not the qualified one',
    $q$WITH orders AS (SELECT 1 AS id) SELECT * FROM orders, customer_db.orders o2$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.orders}', 'SELECT', true, NULL),
('H05 a CTE shadows a relation of the database',
    $q$WITH accounts AS (SELECT 1 AS id) SELECT * FROM accounts$q$, 'accounts_db',
    true, 'local', '{accounts_db}', '{}', 'SELECT', true, NULL),
('H06 a later sibling sees an earlier one',
    $q$WITH a AS (SELECT 1 AS id), b AS (SELECT * FROM a) SELECT * FROM b$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('H07 an earlier sibling does not see a later one (real table)',
    $q$WITH c1 AS (SELECT * FROM orders), orders AS (SELECT 1 AS id) SELECT * FROM c1, orders$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'SELECT', true, NULL),
('H08 an earlier sibling does not see a later one (not found)',
    $q$WITH first_cte AS (SELECT * FROM later_cte), later_cte AS (SELECT 1 AS x) SELECT * FROM first_cte$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'later_cte'),
('H09 WITH RECURSIVE: every sibling sees every other',
    $q$WITH RECURSIVE first_cte AS (SELECT * FROM later_cte), later_cte AS (SELECT 1 AS x) SELECT * FROM first_cte$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('H10 WITH RECURSIVE: a CTE sees itself',
    $q$WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 5) SELECT * FROM t$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('H11 WITH RECURSIVE named like a real table shadows it everywhere',
    $q$WITH RECURSIVE orders(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM orders WHERE id < 3) SELECT * FROM orders$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('H12 a nested WITH ends with its subquery',
    $q$SELECT * FROM (WITH orders AS (SELECT 1 AS id) SELECT * FROM orders) s, orders$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'SELECT', true, NULL),
('H13 a nested WITH is not visible outside (not found)',
    $q$SELECT * FROM (WITH inner_cte AS (SELECT 1 AS x) SELECT * FROM inner_cte) s, inner_cte$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'inner_cte'),
('H14 an outer CTE is visible in subqueries',
    $q$WITH outer_cte AS (SELECT 1 AS x) SELECT * FROM (SELECT * FROM outer_cte) s WHERE EXISTS (SELECT 1 FROM outer_cte)$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('H15 a WITH inside a CTE body ends with that body',
    $q$WITH a_outer AS (WITH b_inner AS (SELECT 1 AS x) SELECT * FROM b_inner) SELECT * FROM a_outer, b_inner$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'b_inner'),
('H16 a CTE feeding an INSERT',
    $q$WITH src AS (SELECT * FROM acct.accounts) INSERT INTO orders (id, customer_id, total) SELECT id, customer_id, balance FROM src$q$, 'customer_db',
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.orders}', 'INSERT', false, NULL),
('H17 the INSERT target is never a CTE',
    $q$WITH tgt AS (SELECT 1 AS id) INSERT INTO tgt SELECT * FROM tgt$q$, NULL,
    false, NULL, NULL, NULL, 'INSERT', NULL, 'tgt'),
('H18 the UPDATE target is never a CTE',
    $q$WITH orders AS (SELECT 1 AS id) UPDATE orders SET total = 0$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'UPDATE', false, NULL),
('H19 a quoted CTE name "Orders" does not shadow orders',
    $q$WITH "Orders" AS (SELECT 1 AS id) SELECT * FROM orders$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'SELECT', true, NULL),
('H20 a CTE "orders" shadows ORDERS',
    $q$WITH "orders" AS (SELECT 1 AS id) SELECT * FROM ORDERS$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('H21 a WITH inside an EXISTS subquery',
    $q$SELECT * FROM customers WHERE EXISTS (WITH o AS (SELECT * FROM orders) SELECT 1 FROM o)$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers,customer_db.orders}', 'SELECT', true, NULL),
('H22 a MATERIALIZED CTE',
    $q$WITH m AS MATERIALIZED (SELECT * FROM acct.accounts) SELECT * FROM m$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'SELECT', true, NULL),
('H23 a CTE of a remote relation with a local database',
    $q$WITH e AS (SELECT * FROM hr.employees) SELECT * FROM e$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote'));

-- ------------------------------------------------------------ I: read-only: modifying CTEs, locks, SELECT INTO
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('I01 a DELETE in a CTE',
    $q$WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'SELECT', false, NULL),
('I02 an unreferenced DELETE in a CTE',
    $q$WITH d AS (DELETE FROM orders) SELECT 1$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'SELECT', false, NULL),
('I03 an UPDATE in a CTE',
    $q$WITH u AS (UPDATE acct.accounts SET balance = 0 RETURNING id) SELECT count(*) FROM u$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'SELECT', false, NULL),
('I04 an unreferenced INSERT in a CTE',
    $q$WITH i AS (INSERT INTO orders (id) VALUES (1) RETURNING id) SELECT * FROM customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers,customer_db.orders}', 'SELECT', false, NULL),
('I05 a DELETE in a CTE nested in a CTE',
    $q$WITH a AS (WITH d AS (DELETE FROM orders RETURNING id) SELECT * FROM d) SELECT * FROM a$q$, 'customer_db',
    NULL, NULL, NULL, NULL, NULL, false, NULL),
('I06 a modifying CTE on a remote database',
    $q$WITH d AS (DELETE FROM hr.employees) SELECT * FROM customers$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('I07 FOR UPDATE',
    $q$SELECT * FROM customers FOR UPDATE$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', NULL, false, NULL),
('I08 FOR SHARE',
    $q$SELECT * FROM customer_db.customers FOR SHARE$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', NULL, false, NULL),
('I09 FOR NO KEY UPDATE OF ... NOWAIT',
    $q$SELECT * FROM customers c JOIN orders o USING (customer_id) FOR NO KEY UPDATE OF c NOWAIT$q$, 'customer_db',
    true, 'local', '{customer_db}', NULL, NULL, false, NULL),  -- relations: see BUG I09 at the end
('I10 FOR KEY SHARE SKIP LOCKED',
    $q$SELECT * FROM orders FOR KEY SHARE SKIP LOCKED$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', NULL, false, NULL),
('I11 FOR UPDATE in a FROM subquery',
    $q$SELECT * FROM (SELECT * FROM customers FOR UPDATE) s$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', NULL, false, NULL),
('I12 FOR SHARE in a CTE',
    $q$WITH c AS (SELECT * FROM customers FOR SHARE) SELECT * FROM c$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', NULL, false, NULL),
('I13 FOR UPDATE in a scalar subquery',
    $q$SELECT (SELECT name FROM customers LIMIT 1 FOR UPDATE)$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', NULL, false, NULL),
('I14 SELECT INTO',
    $q$SELECT * INTO customer_db.snap FROM customer_db.customers$q$, NULL,
    true, 'local', '{customer_db}', NULL, NULL, false, NULL),
('I15 SELECT INTO a remote schema',
    $q$SELECT * INTO hr.snap FROM customer_db.customers$q$, NULL,
    false, '-', NULL, NULL, NULL, NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('I16 SELECT INTO an unknown qualifier',
    $q$SELECT * INTO nope.snap FROM customer_db.customers$q$, NULL,
    false, NULL, NULL, NULL, NULL, NULL, 'unknown qualifier "nope"');

-- ------------------------------------------------------------ J: utility statements
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('J01 EXPLAIN',
    $q$EXPLAIN SELECT * FROM customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'EXPLAIN', true, NULL),
('J02 EXPLAIN ANALYZE',
    $q$EXPLAIN ANALYZE SELECT * FROM customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'EXPLAIN', false, NULL),
('J03 EXPLAIN (ANALYZE false)',
    $q$EXPLAIN (ANALYZE false) SELECT * FROM customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'EXPLAIN', true, NULL),
('J04 EXPLAIN (ANALYZE off, FORMAT json)',
    $q$EXPLAIN (ANALYZE off, FORMAT json) SELECT * FROM customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'EXPLAIN', true, NULL),
('J05 EXPLAIN (ANALYZE)',
    $q$EXPLAIN (ANALYZE) SELECT * FROM customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'EXPLAIN', false, NULL),
('J06 EXPLAIN (ANALYZE true, BUFFERS)',
    $q$EXPLAIN (ANALYZE true, BUFFERS) SELECT * FROM customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'EXPLAIN', false, NULL),
('J07 EXPLAIN VERBOSE',
    $q$EXPLAIN VERBOSE SELECT * FROM customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'EXPLAIN', true, NULL),
('J08 EXPLAIN of a DELETE is not read-only (strict)',
    $q$EXPLAIN DELETE FROM orders$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'EXPLAIN', false, NULL),
('J09 EXPLAIN of SELECT FOR UPDATE',
    $q$EXPLAIN SELECT * FROM customers FOR UPDATE$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'EXPLAIN', false, NULL),
('J10 EXPLAIN of a SELECT calling nextval',
    $q$EXPLAIN SELECT nextval('customer_db.order_seq')$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'EXPLAIN', false, NULL),
('J11 EXPLAIN of a modifying CTE',
    $q$EXPLAIN WITH d AS (DELETE FROM orders) SELECT 1$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'EXPLAIN', false, NULL),
('J12 EXPLAIN reaching a remote database',
    $q$EXPLAIN SELECT * FROM hr.employees$q$, 'customer_db',
    false, '-', NULL, NULL, 'EXPLAIN', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('J13 COPY (SELECT) TO STDOUT',
    $q$COPY (SELECT * FROM customers) TO STDOUT$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'COPY', false, NULL),
('J14 COPY t FROM STDIN',
    $q$COPY customers FROM STDIN$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'COPY', false, NULL),
('J15 COPY a qualified relation TO STDOUT',
    $q$COPY acct.accounts (id, balance) TO STDOUT WITH (FORMAT csv)$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'COPY', false, NULL),
('J16 COPY (SELECT) reaching a remote database',
    $q$COPY (SELECT * FROM hr.employees) TO STDOUT$q$, 'customer_db',
    false, '-', NULL, NULL, 'COPY', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('J17 COPY of an unknown qualifier',
    $q$COPY nope.t FROM STDIN$q$, 'customer_db',
    false, NULL, NULL, NULL, 'COPY', NULL, 'unknown qualifier "nope"'),
('J18 CREATE TABLE AS',
    $q$CREATE TABLE customer_db.snap AS SELECT * FROM acct.accounts$q$, NULL,
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.snap}', 'CREATE TABLE AS', false, NULL),
('J19 CREATE TABLE AS across datasources',
    $q$CREATE TABLE hr.snap AS SELECT * FROM customer_db.customers$q$, NULL,
    false, '-', NULL, NULL, 'CREATE TABLE AS', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('J20 CREATE VIEW',
    $q$CREATE VIEW customer_db.v AS SELECT c.name, a.balance FROM customer_db.customers c JOIN acct.accounts a USING (customer_id)$q$, NULL,
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.customers,customer_db.v}', 'CREATE VIEW', false, NULL),
('J21 CREATE VIEW in an unknown qualifier',
    $q$CREATE VIEW nope.v AS SELECT 1$q$, 'customer_db',
    false, NULL, NULL, NULL, 'CREATE VIEW', NULL, 'unknown qualifier "nope"'),
('J22 CREATE MATERIALIZED VIEW',
    $q$CREATE MATERIALIZED VIEW customer_db.mv AS SELECT * FROM customer_db.orders$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.mv,customer_db.orders}', 'CREATE MATERIALIZED VIEW', false, NULL),
('J23 PREPARE',
    $q$PREPARE p1 (text) AS SELECT * FROM customers WHERE customer_id = $1$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'PREPARE', false, NULL),
('J24 PREPARE reaching a remote database',
    $q$PREPARE p2 AS SELECT * FROM hr.employees$q$, 'customer_db',
    false, '-', NULL, NULL, 'PREPARE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('J25 EXECUTE: the prepared statement cannot be read',
    $q$EXECUTE p1('x')$q$, 'customer_db',
    false, NULL, NULL, NULL, 'EXECUTE', false, 'cannot validate EXECUTE statements'),
('J26 DECLARE CURSOR',
    $q$DECLARE c1 CURSOR FOR SELECT * FROM orders$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'DECLARE CURSOR', false, NULL),
('J27 DECLARE CURSOR reaching a remote database',
    $q$DECLARE c2 CURSOR FOR SELECT * FROM hr.employees$q$, 'customer_db',
    false, '-', NULL, NULL, 'DECLARE CURSOR', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('J28 CALL of a qualified procedure',
    $q$CALL customer_db.noop()$q$, NULL,
    true, 'local', '{customer_db}', '{}', 'CALL', false, NULL),
('J29 CALL of an unknown qualifier',
    $q$CALL nope.noop()$q$, 'customer_db',
    false, NULL, NULL, NULL, 'CALL', NULL, 'unknown qualifier "nope"'),
('J30 DO cannot be validated',
    $q$DO $$ BEGIN DELETE FROM orders; END $$$q$, 'customer_db',
    false, NULL, NULL, NULL, 'DO', NULL, 'cannot validate DO statements'),  -- read_only: see BUG J30
('J31 DO with LANGUAGE cannot be validated',
    $q$DO LANGUAGE plpgsql $$ BEGIN NULL; END $$$q$, NULL,
    false, NULL, NULL, NULL, 'DO', NULL, 'cannot validate DO statements'),  -- read_only: see BUG J30
('J32 BEGIN',
    $q$BEGIN$q$, NULL,
    true, '-', '{}', '{}', 'BEGIN', false, NULL),
('J33 START TRANSACTION READ ONLY is still not a read-only statement',
    $q$START TRANSACTION READ ONLY$q$, NULL,
    true, '-', '{}', '{}', 'START TRANSACTION', false, NULL),
('J34 COMMIT',
    $q$COMMIT$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'COMMIT', false, NULL),
('J35 ROLLBACK',
    $q$ROLLBACK$q$, NULL,
    true, '-', '{}', '{}', 'ROLLBACK', false, NULL),
('J36 SET',
    $q$SET search_path TO customer_db$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SET', false, NULL),
('J37 RESET',
    $q$RESET ALL$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'RESET', false, NULL),
('J38 SHOW',
    $q$SHOW search_path$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SHOW', false, NULL),
('J39 TABLE t',
    $q$TABLE customers$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('J40 TABLE of a qualified relation',
    $q$TABLE acct.accounts$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'SELECT', true, NULL),
('J41 VALUES',
    $q$VALUES (1, 'a'), (2, 'b')$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('J42 CREATE TABLE with a qualified column type',
    $q$CREATE TABLE customer_db.t2 (id int, m customer_db.mood)$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.t2}', 'CREATE TABLE', false, NULL),
('J43 CREATE TABLE referencing another logical database',
    $q$CREATE TABLE customer_db.t3 (id int REFERENCES acct.accounts (id))$q$, NULL,
    true, 'local', '{accounts_db,customer_db}', '{accounts_db.accounts,customer_db.t3}', 'CREATE TABLE', false, NULL),
('J44 CREATE TABLE in a remote schema with a local type',
    $q$CREATE TABLE hr.t4 (m customer_db.mood)$q$, NULL,
    false, '-', NULL, NULL, 'CREATE TABLE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('J45 ALTER TABLE',
    $q$ALTER TABLE customers ADD COLUMN phone text$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'ALTER TABLE', false, NULL),
('J46 ALTER TABLE of an unknown qualifier',
    $q$ALTER TABLE nope.customers ADD COLUMN phone text$q$, 'customer_db',
    false, NULL, NULL, NULL, 'ALTER TABLE', NULL, 'unknown qualifier "nope"'),
('J47 DROP TABLE',
    $q$DROP TABLE acct.accounts$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'DROP TABLE', false, NULL),
('J48 DROP TABLE across datasources',
    $q$DROP TABLE customer_db.orders, hr.employees$q$, NULL,
    false, '-', NULL, NULL, 'DROP TABLE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('J49 DROP VIEW of an unknown qualifier',
    $q$DROP VIEW nope.v$q$, 'customer_db',
    false, NULL, NULL, NULL, 'DROP VIEW', NULL, 'unknown qualifier "nope"'),
('J50 DROP FUNCTION',
    $q$DROP FUNCTION customer_db.bump()$q$, NULL,
    true, 'local', '{customer_db}', NULL, 'DROP FUNCTION', false, NULL),
('J51 DROP TYPE',
    $q$DROP TYPE customer_db.mood$q$, NULL,
    true, 'local', '{customer_db}', NULL, 'DROP TYPE', false, NULL),
('J52 DROP SEQUENCE',
    $q$DROP SEQUENCE customer_db.order_seq$q$, NULL,
    true, 'local', '{customer_db}', NULL, 'DROP SEQUENCE', false, NULL),
('J53 DROP SCHEMA of a mapped schema',
    $q$DROP SCHEMA acct$q$, NULL,
    true, 'local', '{accounts_db}', NULL, 'DROP SCHEMA', false, NULL),
('J54 CREATE INDEX',
    $q$CREATE INDEX ON customer_db.orders (customer_id)$q$, NULL,
    true, 'local', '{customer_db}', NULL, 'CREATE INDEX', false, NULL),
('J55 TRUNCATE',
    $q$TRUNCATE orders$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'TRUNCATE TABLE', false, NULL),
('J56 TRUNCATE across datasources',
    $q$TRUNCATE customer_db.orders, hr.employees$q$, NULL,
    false, '-', NULL, NULL, 'TRUNCATE TABLE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('J57 COMMENT ON TABLE',
    $q$COMMENT ON TABLE acct.accounts IS 'x'$q$, NULL,
    true, 'local', '{accounts_db}', NULL, 'COMMENT', false, NULL),
('J58 LOCK TABLE',
    $q$LOCK TABLE customers IN ACCESS SHARE MODE$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'LOCK TABLE', false, NULL);
-- J59 (CREATE FUNCTION): see the BUG block at the end

-- ------------------------------------------------------------ K: 3-part names, column refs, functions, types, operators
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('K01 3-part name with the current database',
    format('SELECT * FROM %I.customer_db.customers', current_database()), NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('K02 3-part name with the current database and a physical schema',
    format('SELECT * FROM %I.acct.accounts', current_database()), NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'SELECT', true, NULL),
('K03 3-part name with another database',
    $q$SELECT * FROM otherdb.customer_db.customers$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, NULL),
('K04 3-part name of a catalog relation',
    format('SELECT * FROM %I.pg_catalog.pg_class', current_database()), NULL,
    true, '-', '{}', '{pg_catalog.pg_class}', 'SELECT', true, NULL),
('K05 3-field column reference',
    $q$SELECT customer_db.customers.name FROM customer_db.customers$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('K06 3-field column reference through the physical schema',
    $q$SELECT acct.accounts.balance FROM accounts_db.accounts$q$, NULL,
    true, 'local', '{accounts_db}', '{accounts_db.accounts}', 'SELECT', true, NULL),
('K07 4-field column reference',
    format('SELECT %I.customer_db.customers.name FROM customer_db.customers', current_database()), NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('K08 3-field star',
    $q$SELECT customer_db.customers.* FROM customer_db.customers$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('K09 3-field column reference with an unknown qualifier',
    $q$SELECT nope.customers.name FROM customer_db.customers$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "nope"'),
('K10 3-field column reference into a remote database',
    $q$SELECT hr.employees.name FROM customer_db.customers$q$, NULL,
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('K11 4-field column reference with an unknown qualifier',
    format('SELECT %I.nope.customers.name FROM customer_db.customers', current_database()), NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "nope"'),
('K12 a 2-field column reference is alias.column, not a qualifier',
    $q$SELECT hr.name FROM customers hr$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('K13 ... but a function qualifier is a schema',
    $q$SELECT hr.upper(name) FROM customers hr$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('K14 a qualified stable function',
    $q$SELECT customer_db.label('x')$q$, NULL,
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('K15 a function of an unknown qualifier',
    $q$SELECT nope.label('x')$q$, 'customer_db',
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "nope"'),
('K16 pg_catalog functions',
    $q$SELECT pg_catalog.lower('X'), pg_catalog.now()$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('K17 a qualified enum type',
    $q$SELECT 'happy'::customer_db.mood$q$, NULL,
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('K18 CAST to a domain in a physical schema',
    $q$SELECT CAST('1' AS acct.amount)$q$, NULL,
    true, 'local', '{accounts_db}', '{}', 'SELECT', true, NULL),
('K19 a type of an unknown qualifier',
    $q$SELECT '1'::nope.t$q$, 'customer_db',
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "nope"'),
('K20 pg_catalog types',
    $q$SELECT '1'::pg_catalog.int4, '{}'::pg_catalog.text[]$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('K21 an array of a qualified type',
    $q$SELECT ARRAY[]::customer_db.mood[]$q$, NULL,
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('K22 a remote type with a local database',
    $q$SELECT x::hr.emp_kind FROM (VALUES ('a')) v(x)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('K23 OPERATOR(pg_catalog.+)',
    $q$SELECT 1 OPERATOR(pg_catalog.+) 2$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('K24 OPERATOR of an unknown qualifier',
    $q$SELECT 1 OPERATOR(nope.+) 2$q$, 'customer_db',
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "nope"'),
('K25 OPERATOR of a logical database with a volatile function',
    $q$SELECT 1 OPERATOR(customer_db.#+#) 2$q$, NULL,
    true, 'local', '{customer_db}', '{}', 'SELECT', false, NULL),
('K26 OPERATOR of a logical database with a stable function',
    $q$SELECT 1 OPERATOR(customer_db.#@#) 2$q$, NULL,
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('K27 OPERATOR of a remote schema with a local database',
    $q$SELECT 1 OPERATOR(hr.+) 2$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('K28 a function in FROM is not a relation',
    $q$SELECT * FROM customer_db.label('x')$q$, NULL,
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('K29 a remote function with a local relation',
    $q$SELECT customer_db.label(name) FROM hr.employees$q$, NULL,
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote'));

-- ------------------------------------------------------------ L: qualifier rules 1 and 2, ambiguity
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('L01 a logical database name wins over another''s schema name',
    $q$SELECT * FROM sales.leads$q$, NULL,
    true, 'local', '{sales}', '{sales.leads}', 'SELECT', true, NULL),
('L02 the physical schema of sales',
    $q$SELECT * FROM sales_data.leads$q$, NULL,
    true, 'local', '{sales}', '{sales.leads}', 'SELECT', true, NULL),
('L03 crm by its logical name',
    $q$SELECT * FROM crm.leads$q$, NULL,
    true, 'local', '{crm}', '{crm.leads}', 'SELECT', true, NULL),
('L04 a schema mapped on two datasources is ambiguous',
    $q$SELECT * FROM shared.t$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'shared'),
('L05 ... resolved by a remote database argument',
    $q$SELECT * FROM shared.t$q$, 'shared_r',
    true, 'v_remote', '{shared_r}', '{shared_r.t}', 'SELECT', true, NULL),
('L06 ... resolved by a local database argument',
    $q$SELECT * FROM shared.t$q$, 'shared_l',
    true, 'local', '{shared_l}', '{shared_l.t}', 'SELECT', true, NULL),
('L07 ... resolved through the datasource of the database argument',
    $q$SELECT * FROM shared.t$q$, 'customer_db',
    true, 'local', '{customer_db,shared_l}', '{shared_l.t}', 'SELECT', true, NULL),
('L08 the logical name is never ambiguous',
    $q$SELECT * FROM shared_r.t$q$, NULL,
    true, 'v_remote', '{shared_r}', '{shared_r.t}', 'SELECT', true, NULL),
('L09 two remote logical databases on one datasource',
    $q$SELECT * FROM hr.employees, shared_r.t$q$, NULL,
    true, 'v_remote', '{hr_db,shared_r}', '{hr_db.employees,shared_r.t}', 'SELECT', true, NULL);

-- ------------------------------------------------------------ M: datasources, database argument
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('M01 two datasources: the error names both',
    $q$SELECT * FROM customer_db.customers, hr_db.employees$q$, NULL,
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('M02 a remote database argument with a local relation',
    $q$SELECT * FROM customer_db.customers$q$, 'hr_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('M03 a database on a disabled datasource',
    $q$SELECT 1$q$, 'off_db',
    false, NULL, NULL, NULL, 'SELECT', NULL, NULL),
('M04 a relation of a database on a disabled datasource',
    $q$SELECT * FROM off_db.t$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, NULL),
('M05 unknown database argument',
    $q$SELECT 1$q$, 'nope',
    false, NULL, NULL, NULL, NULL, NULL, '^logical database "nope" does not exist$'),
('M06 the database argument is not case-folded',
    $q$SELECT 1$q$, 'CUSTOMER_DB',
    false, NULL, NULL, NULL, NULL, NULL, '^logical database "CUSTOMER_DB" does not exist$'),
('M07 an empty database argument',
    $q$SELECT 1$q$, '',
    false, NULL, NULL, NULL, NULL, NULL, '^logical database "" does not exist$'),
('M08 a schema name is not a database argument',
    $q$SELECT 1$q$, 'acct',
    false, NULL, NULL, NULL, NULL, NULL, '^logical database "acct" does not exist$'),
('M09 a 63-byte logical database as qualifier',
    format('SELECT * FROM %s.t', repeat('d', 63)), NULL,
    true, 'local', ARRAY[repeat('d', 63)], ARRAY[repeat('d', 63) || '.t'], 'SELECT', true, NULL);

-- ------------------------------------------------------------ N: parsing
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('N01 empty input',
    '', NULL, false, NULL, NULL, NULL, '-', NULL, '^no statement$'),
('N02 blanks only',
    E'  \n\t ', 'customer_db', false, NULL, NULL, NULL, '-', NULL, '^no statement$'),
('N03 only a line comment',
    '-- nothing here', NULL, false, NULL, NULL, NULL, '-', NULL, '^no statement$'),
('N04 only a block comment',
    '/* DROP TABLE customers */', NULL, false, NULL, NULL, NULL, '-', NULL, '^no statement$'),
('N05 only a semicolon',
    ';', NULL, false, NULL, NULL, NULL, '-', NULL, '^no statement$'),
('N06 comments and semicolons',
    E'/* a */ ;\n-- b\n;', NULL, false, NULL, NULL, NULL, '-', NULL, '^no statement$'),
-- N07-N13 (syntax error positions): top-level assertions after the runner
('N14 two statements',
    'SELECT 1; SELECT 2', NULL, false, NULL, NULL, NULL, NULL, NULL, '^several statements \(2\): validate one at a time$'),
('N15 three statements',
    'SELECT 1; DELETE FROM orders; SELECT 3;', 'customer_db', false, NULL, NULL, NULL, NULL, NULL, '^several statements \(3\): validate one at a time$'),
('N16 a trailing semicolon is one statement',
    'SELECT 1;', NULL, true, '-', '{}', '{}', 'SELECT', true, NULL),
('N17 empty statements are not counted',
    'SELECT 1; ; SELECT 2', NULL, false, NULL, NULL, NULL, NULL, NULL, '^several statements \(2\): validate one at a time$'),
('N18 a trailing comment after the semicolon',
    'SELECT 1; -- trailing', NULL, true, '-', '{}', '{}', 'SELECT', true, NULL),
('N19 a 63-byte alias is fine',
    format('SELECT 1 AS %s', repeat('a', 63)), NULL, true, '-', '{}', '{}', 'SELECT', true, NULL),
('N20 a 64-byte alias is too long',
    format('SELECT 1 AS %s', repeat('a', 64)), NULL, false, NULL, NULL, NULL, NULL, NULL, 'too long'),
('N21 a 64-byte relation name is too long',
    format('SELECT * FROM customer_db.%s', repeat('t', 64)), NULL, false, NULL, NULL, NULL, NULL, NULL, 'too long'),
('N22 a 64-byte qualifier is not truncated to a 63-byte logical database',
    format('SELECT * FROM %s.t', repeat('d', 64)), NULL, false, NULL, NULL, NULL, NULL, NULL, 'too long'),
('N23 a 64-byte quoted identifier is too long',
    format('SELECT 1 AS "%s"', repeat('Q', 64)), NULL, false, NULL, NULL, NULL, NULL, NULL, 'too long'),
('N24 32 two-byte characters are 64 bytes: too long',
    format('SELECT 1 AS "%s"', repeat('é', 32)), NULL, false, NULL, NULL, NULL, NULL, NULL, 'too long'),
('N25 31 two-byte characters and one more are 63 bytes: fine',
    format('SELECT 1 AS "%s"', repeat('é', 31) || 'a'), NULL, true, '-', '{}', '{}', 'SELECT', true, NULL),
('N26 a 64-byte unqualified relation with a database',
    format('SELECT * FROM %s', repeat('r', 64)), 'customer_db', false, NULL, NULL, NULL, NULL, NULL, 'too long'),
('N27 a long string literal is not an identifier',
    format('SELECT %L', repeat('s', 200)), NULL, true, '-', '{}', '{}', 'SELECT', true, NULL);

-- ------------------------------------------------------------ R: read-only functions, require_read_only
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err, rro) VALUES
('R01 random() and now() are read-only',
    $q$SELECT random(), now()$q$, NULL, true, '-', '{}', '{}', 'SELECT', true, NULL, false),
('R02 nextval is not read-only',
    $q$SELECT nextval('customer_db.order_seq')$q$, 'customer_db', true, 'local', '{customer_db}', '{}', 'SELECT', false, NULL, false),
('R03 setval is not read-only',
    $q$SELECT setval('customer_db.order_seq', 5)$q$, 'customer_db', true, 'local', '{customer_db}', '{}', 'SELECT', false, NULL, false),
('R04 set_config is not read-only',
    $q$SELECT set_config('a.b', 'c', false)$q$, NULL, true, '-', '{}', '{}', 'SELECT', false, NULL, false),
('R05 pg_sleep is not on the allow-list',
    $q$SELECT pg_sleep(0)$q$, NULL, true, '-', '{}', '{}', 'SELECT', false, NULL, false),
('R06 query_to_xml runs SQL',
    $q$SELECT query_to_xml('select 1', true, true, '')$q$, NULL, true, '-', '{}', '{}', 'SELECT', false, NULL, false),
('R07 lo_import',
    $q$SELECT lo_import('/etc/hostname')$q$, NULL, true, '-', '{}', '{}', 'SELECT', false, NULL, false),
('R08 pg_terminate_backend',
    $q$SELECT pg_terminate_backend(1)$q$, NULL, true, '-', '{}', '{}', 'SELECT', false, NULL, false),
('R09 pg_reload_conf',
    $q$SELECT pg_reload_conf()$q$, NULL, true, '-', '{}', '{}', 'SELECT', false, NULL, false),
('R10 pg_read_file',
    $q$SELECT pg_read_file('x')$q$, NULL, true, '-', '{}', '{}', 'SELECT', false, NULL, false),
('R11 a volatile user function',
    $q$SELECT customer_db.bump()$q$, NULL, true, 'local', '{customer_db}', '{}', 'SELECT', false, NULL, false),
('R12 a stable user function',
    $q$SELECT customer_db.label('x')$q$, NULL, true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL, false),
('R13 an unknown function',
    $q$SELECT no_such_function(1)$q$, 'customer_db', true, 'local', '{customer_db}', '{}', 'SELECT', false, NULL, false),
('R14 txid_current is stable but denied',
    $q$SELECT txid_current()$q$, NULL, true, '-', '{}', '{}', 'SELECT', false, NULL, false),
('R15 require_read_only: random() and now() stay valid',
    $q$SELECT random(), now()$q$, NULL, true, NULL, NULL, NULL, 'SELECT', true, NULL, true),
('R16 require_read_only: nextval',
    $q$SELECT nextval('customer_db.order_seq')$q$, 'customer_db', false, NULL, NULL, NULL, 'SELECT', false, '^statement is not read-only: .', true),
('R17 require_read_only: setval',
    $q$SELECT setval('customer_db.order_seq', 5)$q$, 'customer_db', false, NULL, NULL, NULL, 'SELECT', false, '^statement is not read-only: .', true),
('R18 require_read_only: set_config',
    $q$SELECT set_config('a.b', 'c', false)$q$, NULL, false, NULL, NULL, NULL, 'SELECT', false, '^statement is not read-only: .', true),
('R19 require_read_only: pg_sleep',
    $q$SELECT pg_sleep(0)$q$, NULL, false, NULL, NULL, NULL, 'SELECT', false, '^statement is not read-only: .', true),
('R20 require_read_only: query_to_xml',
    $q$SELECT query_to_xml('select 1', true, true, '')$q$, NULL, false, NULL, NULL, NULL, 'SELECT', false, '^statement is not read-only: .', true),
('R21 require_read_only: lo_import',
    $q$SELECT lo_import('/etc/hostname')$q$, NULL, false, NULL, NULL, NULL, 'SELECT', false, '^statement is not read-only: .', true),
('R22 require_read_only: pg_terminate_backend',
    $q$SELECT pg_terminate_backend(1)$q$, NULL, false, NULL, NULL, NULL, 'SELECT', false, '^statement is not read-only: .', true),
('R23 require_read_only: pg_reload_conf',
    $q$SELECT pg_reload_conf()$q$, NULL, false, NULL, NULL, NULL, 'SELECT', false, '^statement is not read-only: .', true),
('R24 require_read_only: pg_read_file',
    $q$SELECT pg_read_file('x')$q$, NULL, false, NULL, NULL, NULL, 'SELECT', false, '^statement is not read-only: .', true),
('R25 require_read_only: a volatile user function',
    $q$SELECT customer_db.bump()$q$, NULL, false, NULL, NULL, NULL, 'SELECT', false, '^statement is not read-only: .', true),
('R26 require_read_only: a stable user function stays valid',
    $q$SELECT customer_db.label('x')$q$, NULL, true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL, true),
('R27 require_read_only: an unknown function',
    $q$SELECT no_such_function(1)$q$, 'customer_db', false, NULL, NULL, NULL, 'SELECT', false, '^statement is not read-only: .', true),
('R28 require_read_only: DELETE',
    $q$DELETE FROM orders$q$, 'customer_db', false, NULL, NULL, NULL, 'DELETE', false, '^statement is not read-only: .', true),
('R29 require_read_only: FOR UPDATE',
    $q$SELECT * FROM customers FOR UPDATE$q$, 'customer_db', false, NULL, NULL, NULL, NULL, false, '^statement is not read-only: .', true),
('R30 require_read_only: an unreferenced modifying CTE',
    $q$WITH d AS (DELETE FROM orders) SELECT 1$q$, 'customer_db', false, NULL, NULL, NULL, 'SELECT', false, '^statement is not read-only: .', true),
('R31 require_read_only: EXPLAIN stays valid',
    $q$EXPLAIN SELECT * FROM customers$q$, 'customer_db', true, 'local', '{customer_db}', '{customer_db.customers}', 'EXPLAIN', true, NULL, true),
('R32 require_read_only: EXPLAIN ANALYZE',
    $q$EXPLAIN ANALYZE SELECT * FROM customers$q$, 'customer_db', false, NULL, NULL, NULL, 'EXPLAIN', false, '^statement is not read-only: .', true),
('R33 require_read_only: SET',
    $q$SET search_path TO hr$q$, 'customer_db', false, NULL, NULL, NULL, 'SET', false, '^statement is not read-only: .', true),
('R34 require_read_only: a remote SELECT stays valid',
    $q$SELECT * FROM employees$q$, 'hr_db', true, 'v_remote', '{hr_db}', '{hr_db.employees}', 'SELECT', true, NULL, true);

-- ------------------------------------------------------------ P: every place a name can hide
-- (a remote name anywhere with a local database makes the statement invalid,
-- so each case proves the walker reached that spot)
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('P03 CREATE TABLE (LIKE ...)',
    $q$CREATE TABLE customer_db.t7 (LIKE hr.employees)$q$, NULL,
    false, '-', NULL, NULL, 'CREATE TABLE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P04 CREATE TABLE ... INHERITS',
    $q$CREATE TABLE customer_db.t8 () INHERITS (hr.employees)$q$, NULL,
    false, '-', NULL, NULL, 'CREATE TABLE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P05 ALTER TABLE ... REFERENCES',
    $q$ALTER TABLE customer_db.orders ADD FOREIGN KEY (customer_id) REFERENCES hr.employees (id)$q$, NULL,
    false, '-', NULL, NULL, 'ALTER TABLE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P06 ALTER TABLE ... SET SCHEMA of a remote schema',
    $q$ALTER TABLE customer_db.orders SET SCHEMA hr$q$, NULL,
    false, NULL, NULL, NULL, 'ALTER TABLE', false, NULL),
('P07 ALTER TABLE ... SET SCHEMA public',
    $q$ALTER TABLE customer_db.orders SET SCHEMA public$q$, NULL,
    false, NULL, NULL, NULL, 'ALTER TABLE', false, NULL),
('P08 ALTER COLUMN ... TYPE of a remote schema',
    $q$ALTER TABLE customers ALTER COLUMN name TYPE hr.t$q$, 'customer_db',
    false, '-', NULL, NULL, 'ALTER TABLE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P09 ADD COLUMN of an unknown type qualifier',
    $q$ALTER TABLE customers ADD COLUMN m nope.t$q$, 'customer_db',
    false, NULL, NULL, NULL, 'ALTER TABLE', NULL, 'unknown qualifier "nope"'),
('P10 COMMENT ON COLUMN of a remote relation',
    $q$COMMENT ON COLUMN hr.employees.name IS 'x'$q$, 'customer_db',
    false, '-', NULL, NULL, 'COMMENT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P11b COMMENT ON COLUMN',
    $q$COMMENT ON COLUMN customer_db.customers.name IS 'x'$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'COMMENT', false, NULL),
('P12 LOCK TABLE of two relations',
    $q$LOCK TABLE customers, hr.employees$q$, 'customer_db',
    false, '-', NULL, NULL, 'LOCK TABLE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P13 CREATE INDEX on a remote relation',
    $q$CREATE INDEX ON hr.employees (name)$q$, 'customer_db',
    false, '-', NULL, NULL, 'CREATE INDEX', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P15 DROP TABLE IF EXISTS of an unknown qualifier',
    $q$DROP TABLE IF EXISTS nope.x$q$, 'customer_db',
    false, NULL, NULL, NULL, 'DROP TABLE', NULL, 'unknown qualifier "nope"'),
('P17 DROP TYPE of a remote schema',
    $q$DROP TYPE hr.emp_kind$q$, 'customer_db',
    false, '-', NULL, NULL, 'DROP TYPE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P18 TRUNCATE of a 3-part name in another database',
    $q$TRUNCATE otherdb.customer_db.orders$q$, NULL,
    false, NULL, NULL, NULL, 'TRUNCATE TABLE', NULL, NULL),
('P19 INSERT into a 3-part name in another database',
    $q$INSERT INTO otherdb.customer_db.orders VALUES (1)$q$, NULL,
    false, NULL, NULL, NULL, 'INSERT', NULL, NULL),
('P20 COPY of a 3-part name in another database',
    $q$COPY otherdb.customer_db.customers TO STDOUT$q$, NULL,
    false, NULL, NULL, NULL, 'COPY', NULL, NULL),
('P21 a column definition list type',
    $q$SELECT * FROM json_to_record('{}') AS x(a nope.t)$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "nope"'),
('P22 a typed literal of a qualified type',
    $q$SELECT customer_db.mood 'happy'$q$, NULL,
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('P23 a typed literal of a remote type',
    $q$SELECT hr.emp_kind 'x'$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P24 PREPARE with a qualified parameter type',
    $q$PREPARE p3 (customer_db.mood) AS SELECT $1$q$, NULL,
    true, 'local', '{customer_db}', '{}', 'PREPARE', false, NULL),
('P25 PREPARE with a remote parameter type',
    $q$PREPARE p4 (hr.emp_kind) AS SELECT $1$q$, 'customer_db',
    false, '-', NULL, NULL, 'PREPARE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P27 a prefix OPERATOR of an unknown qualifier',
    $q$SELECT OPERATOR(nope.-) 1$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "nope"'),
('P28 OPERATOR ... ANY of an unknown qualifier',
    $q$SELECT 1 OPERATOR(nope.=) ANY (ARRAY[1])$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "nope"'),
('P29 the extension''s functions are not a logical database',
    $q$SELECT datasource.validate('SELECT 1')$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "datasource"'),
('P30 writing a catalog relation is allowed (privileges decide)',
    $q$DELETE FROM pg_catalog.pg_class WHERE false$q$, NULL,
    true, '-', '{}', '{pg_catalog.pg_class}', 'DELETE', false, NULL),
('P31 a 3-field star of an unknown qualifier',
    $q$SELECT nope.x.* FROM customer_db.customers$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "nope"'),
('P32 ROWS FROM with a remote function',
    $q$SELECT * FROM ROWS FROM (customer_db.label('x'), hr.f())$q$, NULL,
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P33 xmlelement content',
    $q$SELECT xmlelement(name x, (SELECT name FROM hr.employees LIMIT 1))$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P34 ORDER BY inside an aggregate',
    $q$SELECT string_agg(name, ',' ORDER BY (SELECT 1 FROM hr.employees LIMIT 1)) FROM customers$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P35 WITHIN GROUP',
    $q$SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY (SELECT 1 FROM hr.employees LIMIT 1)) FROM customers$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P36 PARTITION BY',
    $q$SELECT count(*) OVER (PARTITION BY (SELECT 1 FROM hr.employees LIMIT 1)) FROM customers$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P37 DISTINCT ON',
    $q$SELECT DISTINCT ON ((SELECT 1 FROM hr.employees LIMIT 1)) name FROM customers$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P38 FETCH FIRST',
    $q$SELECT * FROM customers FETCH FIRST (SELECT 1 FROM hr.employees LIMIT 1) ROWS ONLY$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P39 GROUPING SETS',
    $q$SELECT count(*) FROM customers GROUP BY GROUPING SETS ((name), ((SELECT 1 FROM hr.employees LIMIT 1)))$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P40 the argument of a cast',
    $q$SELECT (SELECT 1 FROM hr.employees LIMIT 1)::text$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P41 ROW()',
    $q$SELECT ROW((SELECT 1 FROM hr.employees LIMIT 1), 2)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P42 BETWEEN',
    $q$SELECT 1 BETWEEN 0 AND (SELECT 2 FROM hr.employees LIMIT 1)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P43 NULLIF',
    $q$SELECT nullif(1, (SELECT 2 FROM hr.employees LIMIT 1))$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P44 GREATEST',
    $q$SELECT greatest(1, (SELECT 2 FROM hr.employees LIMIT 1))$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P45 an array subscript',
    $q$SELECT (ARRAY[1, 2])[(SELECT 1 FROM hr.employees LIMIT 1)]$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P46 LIKE ... ESCAPE',
    $q$SELECT 'a' LIKE 'b' ESCAPE (SELECT 'c' FROM hr.employees LIMIT 1)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P47 AT TIME ZONE',
    $q$SELECT now() AT TIME ZONE (SELECT 'UTC' FROM hr.employees LIMIT 1)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P48 an IN list',
    $q$SELECT 1 IN (2, (SELECT 3 FROM hr.employees LIMIT 1))$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P49 TABLESAMPLE arguments',
    $q$SELECT * FROM customers TABLESAMPLE SYSTEM ((SELECT 1 FROM hr.employees LIMIT 1))$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P50 VALUES in FROM',
    $q$SELECT * FROM (VALUES ((SELECT 1 FROM hr.employees LIMIT 1))) v(x)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P51 UPDATE SET (a, b) = (SELECT ...)',
    $q$UPDATE customers SET (name, email) = (SELECT name, name FROM hr.employees LIMIT 1)$q$, 'customer_db',
    false, '-', NULL, NULL, 'UPDATE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P52 MERGE ... WHEN MATCHED AND condition',
    $q$MERGE INTO customers c USING orders o ON c.customer_id = o.customer_id WHEN MATCHED AND EXISTS (SELECT 1 FROM hr.employees) THEN DELETE$q$, 'customer_db',
    false, '-', NULL, NULL, 'MERGE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P53 INSERT ... WITH inside the SELECT',
    $q$INSERT INTO orders WITH x AS (SELECT 1 AS id) SELECT id FROM x$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'INSERT', false, NULL),
('P54 IS DISTINCT FROM',
    $q$SELECT * FROM customers c WHERE c.name IS DISTINCT FROM (SELECT name FROM hr.employees LIMIT 1)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P55 the argument of a simple CASE',
    $q$SELECT CASE (SELECT 1 FROM hr.employees LIMIT 1) WHEN 1 THEN 1 END$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P56 COALESCE',
    $q$SELECT coalesce(NULL, (SELECT 1 FROM hr.employees LIMIT 1))$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P57 a row comparison with IN (subquery)',
    $q$SELECT * FROM customers WHERE (name, email) IN (SELECT name, name FROM hr.employees)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P58 FILTER (WHERE ...)',
    $q$SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM hr.employees)) FROM customers$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P59 a named WINDOW clause',
    $q$SELECT sum(total) OVER w FROM orders WINDOW w AS (ORDER BY (SELECT 1 FROM hr.employees LIMIT 1))$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P60 a window frame offset',
    $q$SELECT sum(total) OVER (ORDER BY id ROWS BETWEEN (SELECT 1 FROM hr.employees LIMIT 1) PRECEDING AND CURRENT ROW) FROM orders$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P61 CREATE VIEW of a remote relation',
    $q$CREATE VIEW customer_db.v2 AS SELECT * FROM hr.employees$q$, NULL,
    false, '-', NULL, NULL, 'CREATE VIEW', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P62 ON CONFLICT (...) WHERE index predicate',
    $q$INSERT INTO orders (id) VALUES (1) ON CONFLICT (id) WHERE EXISTS (SELECT 1 FROM hr.employees) DO NOTHING$q$, 'customer_db',
    false, '-', NULL, NULL, 'INSERT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P63 ON CONFLICT DO UPDATE ... WHERE',
    $q$INSERT INTO orders (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET total = 1 WHERE EXISTS (SELECT 1 FROM hr.employees)$q$, 'customer_db',
    false, '-', NULL, NULL, 'INSERT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P64 UPDATE ... WHERE CURRENT OF',
    $q$UPDATE orders SET total = 1 WHERE CURRENT OF c1$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'UPDATE', false, NULL),
('P65 ORDER BY of a set operation',
    $q$SELECT 1 UNION SELECT 2 ORDER BY (SELECT 1 FROM hr.employees LIMIT 1)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P66 LIMIT of a set operation',
    $q$(SELECT 1) UNION (SELECT 2) LIMIT (SELECT 1 FROM hr.employees LIMIT 1)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P67 VALUES inside IN',
    $q$SELECT * FROM customers WHERE name IN (VALUES ((SELECT name FROM hr.employees LIMIT 1)))$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P68 XMLTABLE PASSING',
    $q$SELECT * FROM XMLTABLE('/x' PASSING (SELECT '<x/>'::xml FROM hr.employees LIMIT 1) COLUMNS a int)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P69 ROLLUP',
    $q$SELECT count(*) FROM customers GROUP BY ROLLUP (name, (SELECT 1 FROM hr.employees LIMIT 1))$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P70 a third joined relation',
    $q$SELECT * FROM customers c JOIN orders o USING (customer_id) JOIN hr.employees e ON true$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P71 a parenthesised join',
    $q$SELECT * FROM customers NATURAL JOIN (hr.employees CROSS JOIN orders)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P72 an aliased join',
    $q$SELECT * FROM (customers c JOIN hr.employees e ON true) j$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P73 FROM ONLY',
    $q$SELECT * FROM ONLY hr.employees$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P74 TABLE of a remote relation',
    $q$TABLE hr.employees$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P75 an indirection on a subquery',
    $q$SELECT ((SELECT e FROM hr.employees e LIMIT 1)).name$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote'));

-- ------------------------------------------------------------ Q: identifiers and lexing
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('Q01 a long word inside a comment is not an identifier',
    format('SELECT 1 /* %s */', repeat('a', 100)), NULL, true, '-', '{}', '{}', 'SELECT', true, NULL),
('Q02 a long dollar-quote tag is not an identifier',
    format('SELECT $%s$x$%s$', repeat('a', 64), repeat('a', 64)), NULL, true, '-', '{}', '{}', 'SELECT', true, NULL),
('Q03 a U& identifier is measured after decoding (20 bytes)',
    format('SELECT 1 AS U&"%s"', repeat('\0061', 20)), NULL, true, '-', '{}', '{}', 'SELECT', true, NULL),
('Q05 doubled double quotes in an identifier',
    $q$SELECT 1 AS "a""b"$q$, NULL, true, '-', '{}', '{}', 'SELECT', true, NULL),
('Q06 a qualifier with a trailing blank is another name',
    $q$SELECT * FROM "customer_db ".customers$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'unknown qualifier "customer_db "'),
('Q07 a 64-byte CTE name is too long',
    format('WITH %s AS (SELECT 1) SELECT 1', repeat('c', 64)), NULL, false, NULL, NULL, NULL, NULL, NULL, 'too long'),
('Q08 a 64-byte function name is too long',
    format('SELECT %s()', repeat('f', 64)), NULL, false, NULL, NULL, NULL, NULL, NULL, 'too long'),
('Q09 a 64-byte column name is too long',
    format('SELECT x.%s FROM customers x', repeat('c', 64)), 'customer_db', false, NULL, NULL, NULL, NULL, NULL, 'too long'),
('Q10 a 64-byte type name is too long',
    format('SELECT 1::customer_db.%s', repeat('t', 64)), NULL, false, NULL, NULL, NULL, NULL, NULL, 'too long'),
('Q11 a leading comment',
    '/* x */ SELECT 1', NULL, true, '-', '{}', '{}', 'SELECT', true, NULL),
('Q12 nested comment markers make it all a comment',
    '/*/*/ SELECT 1 */*/', NULL, false, NULL, NULL, NULL, '-', NULL, '^no statement$'),
('Q13 a $_$ dollar quote',
    'SELECT $_$ ; DELETE FROM orders; $_$', 'customer_db', true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
-- syntax errors: the message part (the position is checked at top level below)
('Q14 syntax error at the first token (message)',
    'SELEC 1', NULL, false, NULL, NULL, NULL, '-', NULL, '^syntax error at or near "SELEC"'),
('Q15 unterminated string (message)',
    $q$SELECT 'abc$q$, NULL, false, NULL, NULL, NULL, '-', NULL, $r$^unterminated quoted string at or near "'abc"$r$),
('Q16 an unknown database and a syntax error are both invalid',
    'SELEC 1', 'nope', false, NULL, NULL, NULL, NULL, NULL, NULL);

-- ------------------------------------------------------------ S: more CTE scoping
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('S01 a WITH on one UNION branch is not visible in the other',
    $q$(WITH x_cte AS (SELECT 1 AS a) SELECT * FROM x_cte) UNION SELECT * FROM x_cte$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'x_cte'),
('S02 a top-level WITH covers every UNION branch',
    $q$WITH x_cte AS (SELECT 1 AS a) SELECT * FROM x_cte UNION SELECT * FROM x_cte$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('S03 WITH RECURSIVE: a later sibling shadows a real table in an earlier one',
    $q$WITH RECURSIVE c1 AS (SELECT * FROM orders), orders AS (SELECT 1 AS id) SELECT * FROM c1$q$, 'customer_db',
    true, 'local', '{customer_db}', '{}', 'SELECT', true, NULL),
('S04 a modifying CTE sees an earlier sibling',
    $q$WITH a AS (SELECT 1 AS id), d AS (DELETE FROM orders WHERE id IN (SELECT id FROM a)) SELECT 1$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'SELECT', false, NULL),
('S05 the DELETE target is never a CTE',
    $q$WITH orders AS (SELECT 1 AS id) DELETE FROM orders$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'DELETE', false, NULL),
('S06 a CTE named like a logical database does not shadow a qualifier',
    $q$WITH customer_db AS (SELECT 1) SELECT * FROM customer_db.customers$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', 'SELECT', true, NULL),
('S07 a WITH in a subquery shadows only there',
    $q$SELECT * FROM orders WHERE EXISTS (WITH customers AS (SELECT 1) SELECT * FROM customers)$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'SELECT', true, NULL),
('S08 an outer CTE in FROM and LATERAL subqueries',
    $q$WITH x_cte AS (SELECT 1 AS a) SELECT * FROM (SELECT * FROM x_cte) s1, LATERAL (SELECT * FROM x_cte) s2$q$, NULL,
    true, '-', '{}', '{}', 'SELECT', true, NULL),
('S09 a WITH nested in a CTE body is not visible to a sibling',
    $q$WITH w1 AS (WITH w2 AS (SELECT 1 AS a) SELECT * FROM w2), w3 AS (SELECT * FROM w2) SELECT * FROM w3$q$, NULL,
    false, NULL, NULL, NULL, 'SELECT', NULL, 'w2'),
('S10 the DELETE target of a WITH ... DELETE without a database',
    $q$WITH tgt AS (SELECT 1 AS id) DELETE FROM tgt$q$, NULL,
    false, NULL, NULL, NULL, 'DELETE', NULL, 'tgt'),
('S11 the MERGE target is never a CTE',
    $q$WITH tgt AS (SELECT 1 AS id) MERGE INTO tgt USING tgt s ON true WHEN MATCHED THEN DELETE$q$, NULL,
    false, NULL, NULL, NULL, 'MERGE', NULL, 'tgt'),
('S12 the MERGE source may be a CTE',
    $q$WITH src AS (SELECT 1 AS id) MERGE INTO orders o USING src s ON o.id = s.id WHEN MATCHED THEN DELETE$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.orders}', 'MERGE', false, NULL),
('S13 shared resolved through the datasource of the database argument',
    $q$SELECT * FROM shared.t$q$, 'hr_db',
    true, 'v_remote', '{hr_db,shared_r}', '{shared_r.t}', 'SELECT', true, NULL);

-- ------------------------------------------------------------ the runner
CREATE FUNCTION pg_temp.run_vcases() RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
    c record;
    r record;
    raised text;
    act jsonb;
    exp jsonb;
    pat text;
    saved_path text := current_setting('search_path');
    saved_scs text := current_setting('standard_conforming_strings');
BEGIN
    FOR c IN SELECT * FROM pg_temp.vcases ORDER BY id LOOP
        raised := NULL;
        BEGIN
            IF c.path IS NOT NULL THEN
                PERFORM set_config('search_path', c.path, true);
            END IF;
            IF c.scs IS NOT NULL THEN
                PERFORM set_config('escape_string_warning', 'off', true);
                PERFORM set_config('standard_conforming_strings', c.scs, true);
            END IF;
            SELECT * INTO r FROM datasource.validate(c.q, c.db, c.rro);
            PERFORM set_config('search_path', saved_path, true);
            PERFORM set_config('standard_conforming_strings', saved_scs, true);
        EXCEPTION WHEN OTHERS THEN
            raised := SQLSTATE || ': ' || SQLERRM;
        END;

        IF raised IS NOT NULL THEN
            act := jsonb_build_object('raised', raised);
            exp := jsonb_build_object('raised', NULL);
        ELSE
            act := '{}';
            exp := '{}';
            IF c.e_valid IS NOT NULL THEN
                act := act || jsonb_build_object('valid', r.valid);
                exp := exp || jsonb_build_object('valid', c.e_valid);
            END IF;
            IF c.e_source IS NOT NULL THEN
                act := act || jsonb_build_object('datasource', r.datasource);
                exp := exp || jsonb_build_object('datasource', nullif(c.e_source, '-'));
            END IF;
            IF c.e_dbs IS NOT NULL THEN
                act := act || jsonb_build_object('databases', coalesce(r.databases, '{}'));
                exp := exp || jsonb_build_object('databases', c.e_dbs);
            END IF;
            IF c.e_rels IS NOT NULL THEN
                act := act || jsonb_build_object('relations', coalesce(r.relations, '{}'));
                exp := exp || jsonb_build_object('relations', c.e_rels);
            END IF;
            IF c.e_cmd IS NOT NULL THEN
                act := act || jsonb_build_object('command', r.command);
                exp := exp || jsonb_build_object('command', nullif(c.e_cmd, '-'));
            END IF;
            IF c.e_ro IS NOT NULL THEN
                act := act || jsonb_build_object('read_only', r.read_only);
                exp := exp || jsonb_build_object('read_only', c.e_ro);
            END IF;
            pat := c.e_err;
            IF pat IS NULL AND c.e_valid THEN
                pat := '-';
            END IF;
            IF pat = '-' THEN
                act := act || jsonb_build_object('error', r.error);
                exp := exp || jsonb_build_object('error', NULL);
            ELSIF pat IS NOT NULL THEN
                -- shows the pattern when it matches, the actual error when not
                act := act || jsonb_build_object('error',
                    CASE WHEN r.error ~* pat THEN pat ELSE coalesce(r.error, '<NULL>') END);
                exp := exp || jsonb_build_object('error', pat);
            ELSIF c.e_valid IS NOT NULL AND NOT c.e_valid THEN
                -- invalid: some error must say why
                act := act || jsonb_build_object('error given', r.error IS NOT NULL AND r.error <> '');
                exp := exp || jsonb_build_object('error given', true);
            END IF;
        END IF;
        RETURN NEXT is(act, exp, format('validate %s: %s', c.label,
            regexp_replace(left(c.q, 90), '\s+', ' ', 'g')));
    END LOOP;
END $f$;

-- fixed since they were found: expressions in DDL, DROP/COMMENT ON FUNCTION,
-- USING operators, FOR UPDATE OF aliases, DO, CREATE FUNCTION, U& identifiers
INSERT INTO vcases (label, q, db, e_valid, e_source, e_dbs, e_rels, e_cmd, e_ro, e_err) VALUES
('P01 a column DEFAULT',
    $q$CREATE TABLE customer_db.t5 (id int DEFAULT hr.f())$q$, NULL,
    false, '-', NULL, NULL, 'CREATE TABLE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P01b a generated column',
    $q$CREATE TABLE customer_db.t (a int GENERATED ALWAYS AS (hr.f(a)) STORED)$q$, NULL,
    false, '-', NULL, NULL, 'CREATE TABLE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P02 a CHECK constraint',
    $q$CREATE TABLE customer_db.t6 (id int CHECK (id > hr.f()))$q$, NULL,
    false, '-', NULL, NULL, 'CREATE TABLE', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P11 COMMENT ON FUNCTION of an unknown qualifier',
    $q$COMMENT ON FUNCTION nope.f() IS 'x'$q$, 'customer_db',
    false, NULL, NULL, NULL, 'COMMENT', NULL, 'unknown qualifier "nope"'),
('P11c COMMENT ON FUNCTION',
    $q$COMMENT ON FUNCTION customer_db.label(text) IS 'x'$q$, NULL,
    true, 'local', '{customer_db}', '{}', 'COMMENT', false, NULL),
('P14 CREATE INDEX on an expression with a remote function',
    $q$CREATE INDEX ON customer_db.orders (hr.f(customer_id))$q$, NULL,
    false, '-', NULL, NULL, 'CREATE INDEX', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P14b a partial index predicate',
    $q$CREATE INDEX ON customer_db.orders (id) WHERE hr.f(id)$q$, NULL,
    false, '-', NULL, NULL, 'CREATE INDEX', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P16 DROP FUNCTION with an argument type of an unknown qualifier',
    $q$DROP FUNCTION customer_db.label(nope.t)$q$, NULL,
    false, NULL, NULL, NULL, 'DROP FUNCTION', NULL, 'unknown qualifier "nope"'),
('P16b DROP FUNCTION with a remote argument type',
    $q$DROP FUNCTION customer_db.label(hr.t)$q$, NULL,
    false, '-', NULL, NULL, 'DROP FUNCTION', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('P26 ORDER BY ... USING a remote operator',
    $q$SELECT * FROM orders ORDER BY id USING OPERATOR(hr.<)$q$, 'customer_db',
    false, '-', NULL, NULL, 'SELECT', NULL, pg_temp.names('customer_db', 'hr_db', 'local', 'v_remote')),
('Q04 a U& identifier decoding to 64 bytes is too long',
    format('SELECT 1 AS U&"%s"', repeat(E'\\0061', 64)), NULL, false, NULL, NULL, NULL, NULL, NULL, 'too long'),
('I09 FOR NO KEY UPDATE OF ... NOWAIT: OF names an alias, not a relation',
    $q$SELECT * FROM customers c JOIN orders o USING (customer_id) FOR NO KEY UPDATE OF c NOWAIT$q$, 'customer_db',
    true, 'local', '{customer_db}', '{customer_db.customers,customer_db.orders}', NULL, false, NULL),
('I09b FOR UPDATE OF an alias without a database',
    $q$SELECT * FROM customer_db.customers c FOR UPDATE OF c$q$, NULL,
    true, 'local', '{customer_db}', '{customer_db.customers}', NULL, false, NULL),
('J30 DO is never read-only',
    $q$DO $$ BEGIN DELETE FROM orders; END $$$q$, 'customer_db',
    false, NULL, NULL, NULL, 'DO', false, 'cannot validate DO statements'),
('J59 CREATE FUNCTION cannot be validated (its body is not read)',
    $q$CREATE FUNCTION customer_db.f2() RETURNS int LANGUAGE sql AS 'SELECT count(*) FROM hr.employees'$q$, NULL,
    false, NULL, NULL, NULL, 'CREATE FUNCTION', false, 'cannot validate CREATE FUNCTION statements');

SELECT is((SELECT count(*)::int FROM vcases), 420, 'fixture: 420 cases');
SELECT * FROM pg_temp.run_vcases();

-- a syntax error reports the server's message and its 1-based position,
-- also when validate() is called through SPI
SELECT is((SELECT error FROM datasource.validate(q)), e, 'syntax error position: ' || q)
  FROM (VALUES
    ('SELEC 1', 'syntax error at or near "SELEC" at position 1'),
    ('SELECT 1 FROM WHERE', 'syntax error at or near "WHERE" at position 15'),
    ('SELECT * FROM customers WHERE', 'syntax error at end of input at position 30'),
    ('SELECT (1', 'syntax error at end of input at position 10'),
    ('SELECT 1 +', 'syntax error at end of input at position 11'),
    ('INSERT INTO t VALUES (1,)', 'syntax error at or near ")" at position 25'),
    ('UPDATE t SET = 1', 'syntax error at or near "=" at position 14'),
    ('DELETE t', 'syntax error at or near "t" at position 8'),
    ('SELECT ''unterminated', 'unterminated quoted string at or near "''unterminated" at position 8'),
    ('SELECT $$x', 'unterminated dollar-quoted string at or near "$$x" at position 8')) AS c(q, e);
-- the same, in a text long enough to be searched for over-long identifiers:
-- a result, never an error
SELECT is((SELECT error FROM datasource.validate(q)), e, 'syntax error in a long text: ' || left(q, 10))
  FROM (VALUES
    ('SELECT "' || repeat('a', 70),
     'unterminated quoted identifier at or near ""' || repeat('a', 70) || '" at position 8'),
    ('SELECT ''' || repeat('a', 70),
     'unterminated quoted string at or near "''' || repeat('a', 70) || '" at position 8'),
    ('SELECT $x$' || repeat('a', 70),
     'unterminated dollar-quoted string at or near "$x$' || repeat('a', 70) || '" at position 8')) AS c(q, e);
CREATE FUNCTION pg_temp.error_via_spi(q text) RETURNS text LANGUAGE plpgsql AS
    $$ BEGIN RETURN (SELECT error FROM datasource.validate(q)); END $$;
SELECT is(pg_temp.error_via_spi('SELEC 1'),
    'syntax error at or near "SELEC" at position 1', 'the position survives SPI');
SELECT is(pg_temp.error_via_spi('SELECT 1 FROM WHERE'),
    'syntax error at or near "WHERE" at position 15', 'the position survives SPI (2)');

-- validate() ran nothing of what it was shown
SELECT is(pg_temp.snap(), (SELECT s FROM saved), 'validate() changed nothing');

SELECT * FROM finish();
ROLLBACK;
