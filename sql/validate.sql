-- validate(): what a statement touches and whether it is strictly read-only.
\set SHOW_CONTEXT never
SELECT name FROM datasource.create_database('customer_db');
SELECT name FROM datasource.create_database('accounts_db', schema_name => 'acct');
CREATE TABLE customer_db.customers (id int PRIMARY KEY, name text);
CREATE TABLE acct.accounts (id int, customer_id int, balance numeric);
CREATE SEQUENCE customer_db.order_seq;
CREATE FUNCTION customer_db.bump() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1';
CREATE SERVER v_remote FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1');
SELECT name FROM datasource.create_source('v_remote', 'v_remote');
INSERT INTO datasource.databases (name, source, schema_name) VALUES ('hr_db', 'v_remote', 'hr');

\x on
-- a join over two logical databases of one datasource, by logical and physical name
SELECT * FROM datasource.validate(
	'SELECT c.name, a.balance FROM customers c JOIN acct.accounts a ON a.customer_id = c.id',
	'customer_db');
-- two datasources: refused, saying which database is where
SELECT * FROM datasource.validate('SELECT * FROM customer_db.customers, hr_db.staff');
-- writes, and what read_only means
SELECT * FROM datasource.validate(
	'WITH moved AS (DELETE FROM accounts_db.accounts RETURNING *) SELECT 1', NULL, true);
SELECT * FROM datasource.validate('SELECT * FROM customer_db.customers FOR UPDATE');
SELECT * FROM datasource.validate('SELECT nextval(''customer_db.order_seq'')', 'customer_db', true);
SELECT * FROM datasource.validate('SELECT customer_db.bump()', NULL, true);
SELECT * FROM datasource.validate('EXPLAIN ANALYZE SELECT * FROM customers', 'customer_db');
\x off

-- parse problems are results, not errors
SELECT valid, command, error FROM datasource.validate('');
SELECT valid, command, error FROM datasource.validate('/* nothing */ -- at all');
SELECT valid, command, error FROM datasource.validate('SELECT FROM WHERE');
SELECT valid, command, error FROM datasource.validate('SELECT 1; SELECT 2');
SELECT valid, command, error FROM datasource.validate('SELECT * FROM ' || repeat('t', 64));
SELECT valid, command, error FROM datasource.validate('SELECT 1', 'nowhere_db');
SELECT valid, command, error FROM datasource.validate('SELECT * FROM elsewhere.t');
SELECT valid, command, error FROM datasource.validate('DO $$ BEGIN END $$');
SELECT valid, command, error FROM datasource.validate('SELECT * FROM other_db.public.t');
-- what routing refuses because it would change the session is not valid
SELECT valid, command, error FROM datasource.validate('SET search_path = customer_db', 'customer_db');
SELECT valid, command, error FROM datasource.validate('SELECT pg_advisory_lock(1)', 'customer_db');
SELECT valid, command, error FROM datasource.validate('CREATE TEMP TABLE tt (id int)', 'customer_db');
SELECT valid, command, error FROM datasource.validate('CREATE TEMP TABLE tt (id int) ON COMMIT DROP', 'customer_db');
SELECT valid, command, error FROM datasource.validate($q$SELECT set_config('work_mem', '7MB', true)$q$, 'customer_db');
SELECT * FROM datasource.validate(NULL);
SELECT * FROM datasource.validate('SELECT 1', NULL, NULL);

-- names hidden in strings, comments and dollar quotes are not names
SELECT valid, relations, read_only FROM datasource.validate(
	$q$SELECT 'DELETE FROM acct.accounts', $x$ DROP TABLE hr_db.staff $x$ /* hr_db.staff */ FROM customers -- ; DROP$q$,
	'customer_db');

-- CTE scoping: a non-recursive CTE does not see itself, so the inner name is the table
SELECT relations FROM datasource.validate(
	'WITH customers AS (SELECT * FROM customers) SELECT * FROM customers', 'customer_db');
-- a CTE shadows only unqualified names
SELECT relations FROM datasource.validate(
	'WITH accounts AS (SELECT 1) SELECT * FROM accounts, accounts_db.accounts', 'customer_db');

-- the registry is cached per backend and follows changes at once
SELECT valid FROM datasource.validate('SELECT * FROM ledger_db.t');
SELECT name FROM datasource.create_database('ledger_db');
SELECT valid, databases FROM datasource.validate('SELECT * FROM ledger_db.t');
SELECT datasource.drop_database('ledger_db', drop_schema => true);
SELECT valid FROM datasource.validate('SELECT * FROM ledger_db.t');

-- enforcement for a session that loaded the library
LOAD 'pg_datasource';
SET datasource.enforce = 'error';
SET datasource.allowed_databases = 'customer_db';
SELECT count(*) FROM customer_db.customers;
SELECT count(*) FROM acct.accounts;
SET datasource.enforce_read_only = on;
INSERT INTO customer_db.customers VALUES (1, 'x');
BEGIN;
SHOW datasource.allowed_databases;
COMMIT;
SET datasource.allowed_databases = 'not a, list,';
SET datasource.enforce = 'warn';
SELECT count(*) FROM acct.accounts;
RESET datasource.enforce;
RESET datasource.enforce_read_only;
RESET datasource.allowed_databases;
-- a sandboxed role cannot change the settings
CREATE ROLE v_agent;
SET ROLE v_agent;
SET datasource.enforce = 'off';
RESET ROLE;
DROP ROLE v_agent;

-- leave nothing behind
DELETE FROM datasource.databases WHERE name = 'hr_db';
SELECT datasource.drop_source('v_remote');
DROP SERVER v_remote;
SELECT datasource.drop_database('customer_db', drop_schema => true);
SELECT datasource.drop_database('accounts_db', drop_schema => true);
