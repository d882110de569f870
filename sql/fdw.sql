-- The pg_datasource wrapper: servers take libpq options, secrets go on user mappings.
\set SHOW_CONTEXT never
CREATE SERVER branch FOREIGN DATA WRAPPER pg_datasource
	OPTIONS (host '127.0.0.1', port '1', dbname 'bank', connect_timeout '3');
CREATE SERVER bad1 FOREIGN DATA WRAPPER pg_datasource OPTIONS (user 'alice');
CREATE SERVER bad2 FOREIGN DATA WRAPPER pg_datasource OPTIONS (password 'secret');
CREATE SERVER bad3 FOREIGN DATA WRAPPER pg_datasource OPTIONS (passfile '/etc/passwd');
CREATE SERVER bad4 FOREIGN DATA WRAPPER pg_datasource OPTIONS (port 'eighty');
CREATE SERVER bad5 FOREIGN DATA WRAPPER pg_datasource OPTIONS (port '70000');
CREATE SERVER bad6 FOREIGN DATA WRAPPER pg_datasource OPTIONS (nonsense 'x');
CREATE SERVER bad7 FOREIGN DATA WRAPPER pg_datasource OPTIONS (pooler 'sometimes');
-- pooler is ours: auto (the default), transaction or none
ALTER SERVER branch OPTIONS (ADD pooler 'transaction');
ALTER SERVER branch OPTIONS (SET pooler 'none');
ALTER SERVER branch OPTIONS (SET pooler 'auto');
ALTER SERVER branch OPTIONS (DROP pooler);
ALTER SERVER branch OPTIONS (ADD replication 'database');
ALTER FOREIGN DATA WRAPPER pg_datasource OPTIONS (host 'x');

CREATE USER MAPPING FOR CURRENT_USER SERVER branch
	OPTIONS (user 'bank_reader', password 'secret');
CREATE USER MAPPING FOR PUBLIC SERVER branch OPTIONS (host 'elsewhere');
CREATE USER MAPPING FOR PUBLIC SERVER branch OPTIONS (password_required 'maybe');

-- only superusers may waive the password
CREATE ROLE fdw_tester;
GRANT USAGE ON FOREIGN SERVER branch TO fdw_tester;
SET ROLE fdw_tester;
CREATE USER MAPPING FOR fdw_tester SERVER branch
	OPTIONS (user 'x', password 'y', password_required 'false');
CREATE USER MAPPING FOR fdw_tester SERVER branch OPTIONS (user 'x', password 'y');
RESET ROLE;
CREATE USER MAPPING FOR PUBLIC SERVER branch OPTIONS (password_required 'false');

-- a server of another wrapper is not a datasource
CREATE FOREIGN DATA WRAPPER other_fdw;
CREATE SERVER other FOREIGN DATA WRAPPER other_fdw;
SELECT datasource.create_source('other', 'other');

-- registering the server
SELECT name, server, read_only, description
  FROM datasource.create_source('branch', 'branch', description => 'branch office');
SELECT datasource.create_source('branch2', 'branch');
SELECT name, host, port, dbname FROM datasource.source_info WHERE name = 'branch';
SELECT name, read_only, enabled FROM datasource.alter_source('branch', read_only => true, enabled => false);

-- a server in use cannot be dropped from under its datasource
DROP SERVER branch CASCADE;
SELECT count(*) AS server_kept FROM pg_foreign_server WHERE srvname = 'branch';

-- a disabled or unreachable datasource: registry-only work is fine,
-- anything that must reach the server says why it cannot
SELECT datasource.create_database('branch_db', 'branch');
SELECT name, enabled FROM datasource.alter_source('branch', enabled => true);
SET datasource.connect_timeout = 2;
SELECT datasource.create_database('branch_db', 'branch');
SELECT count(*) FROM datasource.databases WHERE name = 'branch_db';

-- a datasource in use cannot be dropped without cascade
INSERT INTO datasource.databases (name, source, schema_name) VALUES ('branch_db', 'branch', 'branch_db');
SELECT datasource.drop_source('branch');
SELECT datasource.drop_source('branch', cascade => true);
SELECT count(*) FROM datasource.sources WHERE name = 'branch';

DROP USER MAPPING FOR fdw_tester SERVER branch;
DROP USER MAPPING FOR PUBLIC SERVER branch;
DROP USER MAPPING FOR CURRENT_USER SERVER branch;
DROP SERVER branch;
DROP SERVER other;
DROP FOREIGN DATA WRAPPER other_fdw;
DROP ROLE fdw_tester;
SELECT count(*) AS left_over FROM datasource.databases;
