-- A walk through the registry of the demo bank.
\pset footer off
\echo
\echo '== Datasources: this database, the regional office and the card processor (MariaDB)'
SELECT name, engine, server, host, port, dbname, read_only, databases, description
  FROM datasource.source_info ORDER BY name;

\echo '== Logical databases and where they live'
SELECT name, source, engine, schema_name, read_only, description
  FROM datasource.database_info ORDER BY source, name;

\echo '== Can an agent query these together? (one datasource: yes)'
SELECT * FROM datasource.validate_databases(ARRAY['customer_db', 'accounts_db', 'loans_db']);

\echo '== ... and these? (two datasources: no, and it says why)'
SELECT * FROM datasource.validate_databases(ARRAY['customer_db', 'insurance_db', 'employees_db']);

\echo '== Names are checked before anything is written'
\set ON_ERROR_STOP off
SELECT datasource.create_database('Risk_DB');
SELECT datasource.create_database('customer_db');
\set ON_ERROR_STOP on

\echo '== The registry as a document (export_config), and a plan to get back to it'
SELECT datasource.export_config() AS cfg \gset
SELECT name FROM datasource.create_database('scratch_db');
SELECT * FROM datasource.apply_config(:'cfg', dry_run => true);
SELECT * FROM datasource.apply_config(:'cfg');
SELECT count(*) AS databases_now FROM datasource.databases;
DROP SCHEMA scratch_db;

\echo
\echo '== Routing: the same question to a logical database here and one on the regional server'
SELECT * FROM datasource.query('customer_db',
    'SELECT count(*) AS n, min(name) AS first FROM customers') AS t(n bigint, first text);
SELECT * FROM datasource.query('employees_db',
    'SELECT count(*) AS n, min(name) AS first FROM employees') AS t(n bigint, first text);

\echo '== Parameters, and logical names written as schema names on the way'
SELECT * FROM datasource.query('accounts_db',
    'SELECT account_id, balance FROM accounts_db.accounts WHERE customer_id = $1 ORDER BY account_id',
    ARRAY['C001']) AS t(account_id text, balance numeric);

\echo '== One JSON object per row, with JSON numbers (what an application or agent reads)'
SELECT * FROM datasource.query_json('insurance_db', 'SELECT * FROM policies ORDER BY policy_id');

\echo '== An agent-style call: errors come back as data, not as exceptions'
SELECT success, datasource, row_count, data
  FROM datasource.execute('employees_db', 'SELECT name, role FROM employees ORDER BY name', max_rows => 2);
SELECT success, sqlstate, error
  FROM datasource.execute('employees_db', 'SELECT salary FROM employees');
SELECT success, sqlstate, error
  FROM datasource.execute('compliance_db', 'DELETE FROM kyc_checks', read_only => false);

\echo '== A join across the two servers is refused before anything runs'
\set ON_ERROR_STOP off
SELECT * FROM datasource.query('customer_db',
    'SELECT c.name, p.kind FROM customers c JOIN insurance_db.policies p USING (customer_id)')
    AS t(name text, kind text);
\set ON_ERROR_STOP on

\echo
\echo '== The card processor runs MariaDB: payments_db maps its database payments to the local schema payments_db,'
\echo '== one foreign table of mysql_fdw per MariaDB table; MySQL writes are not transactional'
SELECT name, source, engine, schema_name, local_schema, writable, transactional
  FROM datasource.database_info WHERE name = 'payments_db';

\echo '== query() on it is the same call as on PostgreSQL (here with a parameter)'
SELECT * FROM datasource.query('payments_db',
    'SELECT c.network, count(*) AS payments, sum(p.amount) AS total
       FROM payments p JOIN cards c USING (card_id)
      WHERE c.status = $1 GROUP BY c.network ORDER BY total DESC',
    ARRAY['active']) AS t(network text, payments bigint, total numeric);

\echo '== query() runs it here, on the foreign tables in payments_db: mysql_fdw sends the join, the filter'
\echo '== and the grouping to MariaDB as one statement (its plan)'
EXPLAIN (VERBOSE, COSTS OFF)
SELECT c.network, count(*) AS payments, sum(p.amount) AS total
  FROM payments_db.payments p JOIN payments_db.cards c USING (card_id)
 WHERE c.status = 'active' GROUP BY c.network ORDER BY total DESC;

\echo '== A join of payments_db with a PostgreSQL logical database is refused, as across two PostgreSQL servers'
\set ON_ERROR_STOP off
SELECT * FROM datasource.query('customer_db',
    'SELECT c.name, k.card_id FROM customers c JOIN payments_db.cards k USING (customer_id)')
    AS t(name text, card_id text);
\set ON_ERROR_STOP on

\echo '== A write to MariaDB inside a transaction block is refused: ROLLBACK could not undo it'
\set ON_ERROR_STOP off
BEGIN;
SELECT datasource.exec('payments_db', 'DELETE FROM payments');
ROLLBACK;
\set ON_ERROR_STOP on
\echo '== ... on its own, a write is one statement on MariaDB, committed there at once'
SELECT datasource.exec('payments_db', $$UPDATE cards SET status = 'blocked' WHERE card_id = 'K1004'$$);
SELECT * FROM datasource.query('payments_db',
    'SELECT card_id, status FROM cards ORDER BY card_id') AS t(card_id text, status text);

\echo '== Someone adds a column on the MariaDB server; refresh_database() re-imports payments_db and reports it'
\! $PGDS_DEMO_MARIADB payments -e "ALTER TABLE payments ADD COLUMN channel ENUM('pos', 'online') NOT NULL DEFAULT 'pos'"
SELECT * FROM datasource.refresh_database('payments_db');
SELECT * FROM datasource.query('payments_db',
    'SELECT channel, count(*) FROM payments GROUP BY channel') AS t(channel text, payments bigint);

\echo '== A sandbox for an AI agent: it may read customer_db and accounts_db, nothing else'
DO $$ BEGIN CREATE ROLE demo_agent LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
GRANT USAGE ON SCHEMA customer_db, accounts_db, loans_db TO demo_agent;
GRANT SELECT ON ALL TABLES IN SCHEMA customer_db, accounts_db, loans_db TO demo_agent;
SELECT role, databases, read_only FROM datasource.set_sandbox('demo_agent', ARRAY['customer_db', 'accounts_db']);
SET ROLE demo_agent;    -- as if the agent had logged in
SELECT sandboxed, databases, read_only FROM datasource.session_sandbox();
SELECT count(*) AS customers FROM customer_db.customers;
\set ON_ERROR_STOP off
SELECT count(*) FROM loans_db.loans;
SELECT * FROM datasource.query_json('loans_db', 'SELECT * FROM loans');
SELECT datasource.exec('customer_db', 'DELETE FROM customers');
\set ON_ERROR_STOP on
RESET ROLE;
SELECT count(*) AS customers_still FROM customer_db.customers;

\echo '== A write on the regional server follows the local transaction (rolled back here)'
BEGIN;
SELECT datasource.exec('insurance_db', $$INSERT INTO policies VALUES ('P03', 'C004', 'travel', 35.00)$$);
ROLLBACK;
SELECT * FROM datasource.query('insurance_db', 'SELECT count(*) FROM policies') AS t(policies_after_rollback bigint);

\echo '== Health of the datasources (MariaDB too), and the one cached connection this session keeps'
SELECT datasource, healthy, server_version, in_recovery, error FROM datasource.health_check();
SELECT datasource, server, state, calls FROM datasource.connections();

\echo
\echo '== Migrations: one script, every logical database on the two PostgreSQL servers, journaled'
SELECT database, status, error
  FROM datasource.migrate_all('0001_audit_notes', $m$
    CREATE TABLE audit_notes (id bigserial PRIMARY KEY, note text NOT NULL,
                              at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX ON audit_notes (at);
$m$, description => 'audit notes everywhere');

\echo '== payments_db was skipped (NOTICE above): DDL on MariaDB runs there, then refresh_database(); named, it is refused'
\set ON_ERROR_STOP off
SELECT database, status FROM datasource.migrate('payments_db', '0001_audit_notes', 'CREATE TABLE audit_notes (id int)');
\set ON_ERROR_STOP on

\echo '== Applying it again runs nothing'
SELECT database, status FROM datasource.migrate('customer_db', '0001_audit_notes', $m$
    CREATE TABLE audit_notes (id bigserial PRIMARY KEY, note text NOT NULL,
                              at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX ON audit_notes (at);
$m$);

\echo '== A script that fails half-way leaves nothing behind, and the attempt is journaled'
SELECT database, status, error FROM datasource.migrate('loans_db', '0002_rates',
    'CREATE TABLE rates (id int); ALTER TABLE loans ADD COLUMN rate_id int REFERENCES nowhere;');
SELECT to_regclass('loans_db.rates') AS rates_table;

\echo '== VACUUM or CREATE INDEX CONCURRENTLY are refused before anything runs'
\set ON_ERROR_STOP off
SELECT * FROM datasource.migrate('customer_db', '0003_idx', 'CREATE INDEX CONCURRENTLY ON customers (name)');
\set ON_ERROR_STOP on

\echo '== The journal, and what a deploy manifest still needs'
SELECT database, version, status, statement_count, server, sqlstate
  FROM datasource.migrations ORDER BY id;
SELECT * FROM datasource.pending('customer_db', '["0001_audit_notes", "0002_rates"]');

\echo '== DDL outside migrations is journaled too'
ALTER TABLE customer_db.customers ADD COLUMN nickname text;
SELECT database, command_tag, object_identity, migration_version
  FROM datasource.ddl_log WHERE database = 'customer_db' ORDER BY id DESC LIMIT 4;

\echo
\echo '== Introspection: one table of a logical database, as the JSON describe() gives'
SELECT jsonb_pretty(datasource.describe('loans_db') -> 'tables' -> 'loans') AS loans;

\echo '== The same migration left the same audit_notes table on both servers'
SELECT datasource.describe('customer_db') -> 'tables' -> 'audit_notes'
     = datasource.describe('insurance_db') -> 'tables' -> 'audit_notes' AS same_audit_notes;

\echo '== Drift: customer_db against the schema its last migration left (the nickname column above)'
SELECT source, object_type, object_name, change, detail FROM datasource.drift('customer_db');

\echo '== The DDL that turns loans_db into accounts_db (what a migration generator would write)'
SELECT object_type, object_name, change, ddl FROM datasource.diff('loans_db', 'accounts_db');

\echo '== A JSON Schema for a row of customers, for an application or an agent'
SELECT jsonb_pretty(datasource.json_schema('customer_db', 'customers')) AS customers_row_schema;

\echo
\echo '== Statistics of what the walk-through routed and migrated, per logical database, datasource and statement'
SELECT pg_catalog.current_setting('shared_preload_libraries') ~ 'pg_datasource' AS stats_preloaded \gset
\if :stats_preloaded
SELECT database, calls, errors, errors_by_class, rows, migrations_applied, migrations_failed
  FROM datasource.database_stats ORDER BY database;
SELECT datasource, connects, remote_transactions, commits, rollbacks, health_checks
  FROM datasource.source_stats ORDER BY datasource;
SELECT database, calls, query FROM datasource.statement_stats
 ORDER BY calls DESC, database, query LIMIT 5;
\else
\echo '(pg_datasource is not in shared_preload_libraries here: datasource.database_stats raises 55000)'
\endif
