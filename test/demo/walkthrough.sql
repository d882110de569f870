-- A walk through the registry of the demo bank.
\pset footer off
\echo
\echo '== Datasources: this database and the regional office'
SELECT name, server, host, port, dbname, read_only, databases, description
  FROM datasource.source_info ORDER BY name;

\echo '== Logical databases and where they live'
SELECT name, source, schema_name, read_only, description
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
