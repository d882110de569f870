-- Routing on the local datasource: query, query_json, execute, exec.
\set SHOW_CONTEXT never
SELECT name FROM datasource.create_database('sales', schema_name => 's_sales');
SELECT name FROM datasource.create_database('hr');
SELECT name FROM datasource.create_database('archive', read_only => true);
CREATE TABLE s_sales.orders (id int PRIMARY KEY, amount numeric, note text, ok bool, meta jsonb, at date);
INSERT INTO s_sales.orders VALUES
	(1, 10.5, 'a "quoted" note', true, '{"k": [1, 2]}', '2026-01-01'),
	(2, 'NaN', NULL, false, NULL, NULL);
CREATE FUNCTION s_sales.twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
CREATE TABLE hr.staff (id int, name text);
CREATE TABLE archive.old (id int);

-- typed rows by the column definition list; unqualified names resolve in the target
SELECT * FROM datasource.query('sales', 'SELECT id, amount FROM orders ORDER BY id')
	AS t(id int, amount numeric);
-- logical qualifiers are rewritten at their positions: relation, 3-field column,
-- function, a 3-part name; comments and literals are left alone
SELECT * FROM datasource.query('sales',
	$q$SELECT sales.orders.id, sales.twice(id), 'sales.orders' AS lit /* sales.x */
	     FROM contrib_regression.sales.orders ORDER BY 1$q$)
	AS t(id int, twice int, lit text);
-- types differ from the statement's: converted through text
SELECT * FROM datasource.query('sales', 'SELECT id, at FROM orders ORDER BY id') AS t(id text, at text);
-- parameters, typed by their use
SELECT * FROM datasource.query('sales', 'SELECT note FROM orders WHERE id = $1', ARRAY['1']) AS t(note text);
SELECT * FROM datasource.query('sales', 'SELECT $1::int + $2', ARRAY['1', '41']) AS t(x int);
SELECT * FROM datasource.query('sales', 'SELECT $1 IS NULL', ARRAY[NULL]) AS t(x bool);
-- JSON-native numbers, booleans, nulls and nested json; NaN is a string
SELECT * FROM datasource.query_json('sales', 'SELECT * FROM orders ORDER BY id');
-- the caller's search_path is back afterwards
SET search_path = hr, public;
SELECT count(*) FROM datasource.query('sales', 'SELECT 1 FROM orders') AS t(x int);
SHOW search_path;
RESET search_path;

-- a routed statement cannot change the session it runs in: refused before it
-- runs (0A000), with a hint by rule; the caller's settings are as before
SET search_path = hr, public;
SELECT datasource.exec('sales', 'SET search_path = hr');
SELECT datasource.exec('sales', 'SET work_mem = ''7MB''');
SELECT datasource.exec('sales', 'LISTEN sales_channel');
SELECT * FROM datasource.query('sales', $q$SELECT set_config('work_mem', '7MB', false)$q$) AS t(x text);
SELECT success, error, sqlstate FROM datasource.execute('sales', 'DISCARD ALL', read_only => false);
SHOW search_path;
SHOW work_mem;
-- SET LOCAL of a setting routing does not manage lasts for the statement
SELECT datasource.exec('sales', 'SET LOCAL work_mem = ''7MB''');
SHOW work_mem;
RESET search_path;

-- exec returns the command status; writes join the local transaction
BEGIN;
SELECT datasource.exec('sales', 'INSERT INTO orders (id, amount) VALUES (3, 1), (4, 2)');
SELECT datasource.exec('sales', 'UPDATE orders SET amount = amount + 1 WHERE id > 2');
ROLLBACK;
SELECT count(*) FROM s_sales.orders;

-- execute: an agent's call, never raising for what the statement does
SELECT success, datasource, columns, data, row_count, truncated, error, sqlstate
  FROM datasource.execute('sales', 'SELECT id FROM sales.orders ORDER BY id', 1);
SELECT success, row_count, truncated, error, sqlstate
  FROM datasource.execute('sales', 'DELETE FROM orders');
SELECT success, row_count, error, sqlstate
  FROM datasource.execute('sales', 'SELECT 1 / 0');
SELECT success, error, sqlstate
  FROM datasource.execute('sales', 'SELECT nosuch FROM orders');
SELECT success, error, sqlstate
  FROM datasource.execute('nowhere', 'SELECT 1');
SELECT success, sqlstate FROM datasource.execute('sales', 'SELECT * FROM elsewhere.t');
SELECT success, sqlstate FROM datasource.execute('sales', 'SELECT 1; SELECT 2');
SELECT success, sqlstate FROM datasource.execute('sales', 'DO $$ BEGIN END $$', read_only => false);
SELECT success, row_count, sqlstate
  FROM datasource.execute('sales', 'INSERT INTO orders (id) VALUES (9)', read_only => false);
SELECT count(*) FROM s_sales.orders WHERE id = 9;
-- a failed write leaves nothing behind
SELECT success, sqlstate
  FROM datasource.execute('sales', 'INSERT INTO orders (id) VALUES (10), (10)', read_only => false);
SELECT count(*) FROM s_sales.orders WHERE id = 10;

-- refused before anything runs, with standard SQLSTATEs
\set VERBOSITY terse
SELECT * FROM datasource.query('sales', 'SELECT 1; SELECT 2') AS t(a int);
SELECT * FROM datasource.query('sales', 'SELEC 1') AS t(a int);
SELECT * FROM datasource.query('nowhere', 'SELECT 1') AS t(a int);
SELECT * FROM datasource.query('sales', 'SELECT * FROM elsewhere.t') AS t(a int);
SELECT * FROM datasource.query('sales', 'SELECT 1, 2') AS t(a int);
SELECT * FROM datasource.query('sales', 'SELECT $2', ARRAY['1']) AS t(a text);
SELECT * FROM datasource.query('sales', 'SELECT 1');
SELECT * FROM datasource.query(NULL, 'SELECT 1') AS t(a int);
SELECT datasource.exec('archive', 'INSERT INTO old VALUES (1)');
SELECT datasource.exec('archive', 'SELECT count(*) FROM old');
SELECT * FROM datasource.execute('sales', 'SELECT 1', -1);
\set VERBOSITY default

-- privileges and row-level security apply: the statement runs as the caller
CREATE ROLE route_reader;
GRANT USAGE ON SCHEMA s_sales TO route_reader;
GRANT SELECT ON s_sales.orders TO route_reader;
ALTER TABLE s_sales.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_ok ON s_sales.orders FOR SELECT TO route_reader USING (ok);
SET ROLE route_reader;
SELECT * FROM datasource.query('sales', 'SELECT id FROM orders ORDER BY id') AS t(id int);
SELECT success, sqlstate FROM datasource.execute('hr', 'SELECT * FROM staff');
RESET ROLE;
ALTER TABLE s_sales.orders DISABLE ROW LEVEL SECURITY;
-- a plan cached under one role is not reused for another
SELECT count(*) FROM datasource.query('sales', 'SELECT id FROM orders') AS t(id int);

-- a cached plan follows DDL
SELECT * FROM datasource.query('sales', 'SELECT * FROM hr.staff') AS t(id int, name text);
ALTER TABLE hr.staff ADD COLUMN email text;
INSERT INTO hr.staff VALUES (1, 'ann', 'ann@example.com');
SELECT * FROM datasource.query('sales', 'SELECT * FROM hr.staff') AS t(id int, name text, email text);

DROP POLICY only_ok ON s_sales.orders;
REVOKE ALL ON s_sales.orders FROM route_reader;
REVOKE ALL ON SCHEMA s_sales FROM route_reader;
DROP ROLE route_reader;
SELECT datasource.drop_database('sales', drop_schema => true);
SELECT datasource.drop_database('hr', drop_schema => true);
SELECT datasource.drop_database('archive', drop_schema => true);

-- connection functions: the local datasource needs no connection
SELECT datasource, healthy, server_version IS NOT NULL AS has_version, in_recovery, error
  FROM datasource.health_check('local');
SELECT count(*) FROM datasource.connections();
SELECT datasource.disconnect('local');
SELECT datasource.disconnect();
\set VERBOSITY terse
SELECT * FROM datasource.health_check('nowhere');
SELECT datasource.disconnect('nowhere');
\set VERBOSITY default
-- a disabled datasource is reported, not raised
CREATE SERVER route_srv FOREIGN DATA WRAPPER pg_datasource
    OPTIONS (host '127.0.0.1', port '1', dbname 'x');
SELECT name FROM datasource.create_source('route_far', 'route_srv');
SELECT datasource, healthy, error FROM datasource.health_check('route_far');
SELECT name, enabled FROM datasource.alter_source('route_far', enabled => false);
SELECT datasource, healthy, error FROM datasource.health_check('route_far');
SELECT datasource.drop_source('route_far');
DROP SERVER route_srv;
