-- The registry functions: what users see in psql, messages included.
CREATE EXTENSION pg_datasource;
\set SHOW_CONTEXT never

-- the local datasource exists from install
SELECT name, server, enabled, read_only, description, created_by
  FROM datasource.sources;

-- create_database: defaults, an explicit schema, adopting an existing schema
SELECT name, source, schema_name, read_only, description
  FROM datasource.create_database('customer_db', description => 'customers and contacts');
SELECT name, source, schema_name, read_only
  FROM datasource.create_database('accounts_db', schema_name => 'acct', read_only => true);
CREATE SCHEMA legacy_loans;
CREATE TABLE legacy_loans.loans (id int);
SELECT name, schema_name
  FROM datasource.create_database('loans_db', schema_name => 'legacy_loans', create_schema => false);
SELECT nspname FROM pg_namespace
 WHERE nspname IN ('customer_db', 'acct', 'legacy_loans') ORDER BY 1;

-- bad names: each is rejected, never truncated or folded
SELECT datasource.create_database(NULL);
SELECT datasource.create_database('');
SELECT datasource.create_database('   ');
SELECT datasource.create_database('Customer_DB');
SELECT datasource.create_database('select');
SELECT datasource.create_database('pg_things');
SELECT datasource.create_database('information_schema');
SELECT datasource.create_database('datasource');
SELECT datasource.create_database('1st_db');
SELECT datasource.create_database(repeat('x', 64));
SELECT datasource.create_database('x'';DROP TABLE datasource.sources;--');
SELECT datasource.create_database(E'two\nlines');
SELECT datasource.create_database('ok_db', schema_name => '');
-- any name PostgreSQL accepts is a schema name (quoted wherever it is used)
SELECT datasource.create_database('ok_db', schema_name => 'bad schema', create_schema => false);
SELECT datasource.create_database('ok_db', schema_name => repeat('s', 64));
SELECT datasource.create_database('ok_db', schema_name => 'pg_catalog');
SELECT datasource.create_database('ok_db', source => NULL);
SELECT datasource.create_database('ok_db', create_schema => NULL);

-- duplicates, unknown datasources, schemas already mapped or missing
SELECT datasource.create_database('customer_db');
SELECT datasource.create_database('ok_db', source => 'nowhere');
SELECT datasource.create_database('ok_db', schema_name => 'acct');
SELECT datasource.create_database('ok_db', create_schema => false);

-- dollar signs and unreserved keywords are fine in names; reserved keywords are not
SELECT name FROM datasource.create_database('ledger$2026', schema_name => 'ledger$2026');
SELECT name FROM datasource.create_database('data');
SELECT datasource.drop_database('ledger$2026', drop_schema => true);
SELECT datasource.drop_database('data', drop_schema => true);
SELECT datasource.create_database('table');

-- a 63-byte name is fine
SELECT length(name) FROM datasource.create_database(repeat('y', 63));
SELECT datasource.drop_database(repeat('y', 63), drop_schema => true);

-- nothing of the failed calls was written
SELECT name, source, schema_name FROM datasource.databases ORDER BY name;
SELECT count(*) AS stray_schemas FROM pg_namespace WHERE nspname = 'ok_db';

-- a hostile description is data, stored as given
SELECT description FROM datasource.alter_database('loans_db',
	description => E'it''s; DROP TABLE x; --\nsecond line');

-- alter_database: flags, description, remapping to another existing schema
SELECT name, schema_name, read_only, description
  FROM datasource.alter_database('accounts_db', read_only => false, description => 'ledgers');
SELECT name, description FROM datasource.alter_database('accounts_db', description => '');
CREATE SCHEMA acct_v2;
SELECT name, schema_name FROM datasource.alter_database('accounts_db', schema_name => 'acct_v2');
SELECT datasource.alter_database('accounts_db', schema_name => 'no_such_schema');
SELECT datasource.alter_database('accounts_db', schema_name => 'customer_db');
SELECT datasource.alter_database('nope_db', read_only => true);
SELECT datasource.alter_database('accounts_db', source => 'nowhere');

-- rename_database keeps the schema
SELECT name, schema_name FROM datasource.rename_database('accounts_db', 'ledger_db');
SELECT datasource.rename_database('ledger_db', 'customer_db');
SELECT datasource.rename_database('ledger_db', 'Ledger');
SELECT datasource.rename_database('missing_db', 'other_db');
SELECT datasource.rename_database('ledger_db', NULL);

-- drop_database: registry only, or with its schema
SELECT datasource.drop_database('ledger_db');
SELECT count(*) AS acct_v2_kept FROM pg_namespace WHERE nspname = 'acct_v2';
SELECT datasource.drop_database('loans_db', drop_schema => true);
SELECT count(*) AS legacy_loans_gone FROM pg_namespace WHERE nspname = 'legacy_loans';
SELECT datasource.drop_database('loans_db');
SELECT datasource.drop_database(NULL);
SELECT datasource.drop_database('customer_db', drop_schema => NULL);

-- validate_databases
SELECT * FROM datasource.validate_databases(ARRAY['customer_db']);
SELECT * FROM datasource.validate_databases(ARRAY['customer_db', 'customer_db']);
CREATE SCHEMA elsewhere;
INSERT INTO datasource.sources (name, server) VALUES ('branch', 'branch_server');
INSERT INTO datasource.databases (name, source, schema_name) VALUES ('branch_db', 'branch', 'elsewhere');
SELECT * FROM datasource.validate_databases(ARRAY['customer_db', 'branch_db', 'customer_db']);
DELETE FROM datasource.databases WHERE name = 'branch_db';
DELETE FROM datasource.sources WHERE name = 'branch';
DROP SCHEMA elsewhere;
SELECT * FROM datasource.validate_databases(ARRAY['customer_db', 'missing_db']);
SELECT * FROM datasource.validate_databases(ARRAY[]::text[]);
SELECT * FROM datasource.validate_databases(NULL);
SELECT * FROM datasource.validate_databases(ARRAY['customer_db', NULL]);
SELECT (datasource.alter_source('local', enabled => false)).enabled;
SELECT * FROM datasource.validate_databases(ARRAY['customer_db']);
SELECT (datasource.alter_source('local', enabled => true)).enabled;

-- datasources: local cannot be dropped, given a server or duplicated
SELECT datasource.drop_source('local');
SELECT datasource.alter_source('local', server => 'anything');
SELECT datasource.create_source('local', 'anything');
SELECT datasource.create_source('branch');
SELECT datasource.create_source('branch', 'no_such_server');
SELECT datasource.create_source('Branch', 'x');
SELECT datasource.create_source('branch', 'bad;server');
SELECT datasource.create_source(NULL, 'x');
SELECT datasource.create_source('branch', 'x', read_only => NULL);
SELECT datasource.drop_source('nowhere');
SELECT datasource.alter_source('nowhere', read_only => true);

-- the registry views
SELECT name, server, host, port, dbname, enabled, read_only, databases
  FROM datasource.source_info ORDER BY name;
SELECT name, source, schema_name, read_only, enabled, description
  FROM datasource.database_info ORDER BY name;

-- leave the registry empty for the next suites
SELECT datasource.drop_database('customer_db', drop_schema => true);
DROP SCHEMA acct, acct_v2;
