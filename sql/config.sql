-- export_config / apply_config: the registry as a declarative document.
\set SHOW_CONTEXT never
CREATE SERVER branch FOREIGN DATA WRAPPER pg_datasource
	OPTIONS (host '127.0.0.1', port '1', dbname 'bank');
SELECT name FROM datasource.create_source('branch', 'branch', read_only => true);
SELECT name FROM datasource.create_database('customer_db');
SELECT name FROM datasource.create_database('accounts_db', description => 'ledgers');
SELECT jsonb_pretty(datasource.export_config());
SELECT datasource.export_config() AS cfg \gset

-- applying the registry's own export is a no-op
SELECT * FROM datasource.apply_config(:'cfg');

-- drift the registry away, then look at and apply the plan
SELECT datasource.drop_database('accounts_db');
SELECT name FROM datasource.create_database('scratch_db');
SELECT name FROM datasource.alter_database('customer_db', read_only => true);
SELECT name FROM datasource.alter_source('branch', read_only => false, description => 'changed');
SELECT * FROM datasource.apply_config(:'cfg', dry_run => true);
SELECT name, source, schema_name, read_only, description FROM datasource.databases ORDER BY name;
SELECT * FROM datasource.apply_config(:'cfg');
SELECT datasource.export_config() = :'cfg'::jsonb AS round_trip;
SELECT * FROM datasource.apply_config(:'cfg');

-- an absent section is left alone; an empty one is authoritative
SELECT * FROM datasource.apply_config('{"databases": []}', dry_run => true);
SELECT * FROM datasource.apply_config('{}');

-- a schema name is any name PostgreSQL accepts: it is data, quoted when used
SELECT * FROM datasource.apply_config('{"databases": [{"name": "a_db", "schema_name": "x\"; DROP SCHEMA public; --"}]}', dry_run => true);

-- servers in the document are created or brought in line
SELECT * FROM datasource.apply_config('{"servers": [{"name": "branch", "options": {"host": "10.0.0.9", "dbname": "bank"}},
                                                   {"name": "depot", "options": {"host": "127.0.0.1", "port": "1"}}]}');
SELECT srvname, srvoptions FROM pg_foreign_server ORDER BY srvname;

-- bad documents change nothing and say what is wrong
SELECT * FROM datasource.apply_config(NULL);
SELECT * FROM datasource.apply_config('{}', NULL);
SELECT * FROM datasource.apply_config('[1, 2]');
SELECT * FROM datasource.apply_config('{"format": "other"}');
SELECT * FROM datasource.apply_config('{"version": 2}');
SELECT * FROM datasource.apply_config('{"tables": []}');
SELECT * FROM datasource.apply_config('{"databases": {}}');
SELECT * FROM datasource.apply_config('{"databases": [42]}');
SELECT * FROM datasource.apply_config('{"databases": [{"schema_name": "x"}]}');
SELECT * FROM datasource.apply_config('{"databases": [{"name": "a_db", "owner": "bob"}]}');
SELECT * FROM datasource.apply_config('{"databases": [{"name": "a_db", "read_only": "yes"}]}');
SELECT * FROM datasource.apply_config('{"databases": [{"name": "a_db"}, {"name": "a_db"}]}');
SELECT * FROM datasource.apply_config('{"databases": [{"name": "A_db"}]}');
SELECT * FROM datasource.apply_config('{"databases": [{"name": "a_db", "schema_name": ""}]}');
SELECT * FROM datasource.apply_config('{"sources": [{"name": "local", "server": "branch"}]}');
SELECT * FROM datasource.apply_config('{"servers": [{"name": "s", "options": {"user": "x"}}]}');
SELECT * FROM datasource.apply_config('{"databases": [{"name": "a_db", "source": "nowhere"}]}');
SELECT * FROM datasource.apply_config('{"servers": [{"name": "s", "options": {"port": 5432}}]}');
-- a datasource other than local needs a server; a database needs a datasource
SELECT * FROM datasource.apply_config('{"sources": [{"name": "local"}, {"name": "depot_src"}]}', dry_run => true);
SELECT * FROM datasource.apply_config('{"databases": [{"name": "a_db", "source": "nowhere"}]}', dry_run => true);
SELECT * FROM datasource.apply_config('{"sources": [{"name": "local"}], "databases": [{"name": "a_db", "source": "branch"}]}', dry_run => true);
-- an empty description is no description: applying twice settles
SELECT * FROM datasource.apply_config('{"databases": [{"name": "customer_db", "description": ""}, {"name": "accounts_db", "description": "ledgers"}]}');
SELECT * FROM datasource.apply_config('{"databases": [{"name": "customer_db", "description": ""}, {"name": "accounts_db", "description": ""}]}');
SELECT * FROM datasource.apply_config('{"databases": [{"name": "customer_db", "description": ""}, {"name": "accounts_db", "description": ""}]}');
-- a failure late in the plan undoes the earlier steps
SELECT * FROM datasource.apply_config('{"databases": [{"name": "customer_db"}, {"name": "accounts_db"},
	{"name": "fresh_db"}, {"name": "z_db", "schema_name": "customer_db"}]}');
SELECT name FROM datasource.databases ORDER BY name;
SELECT count(*) AS stray FROM pg_namespace WHERE nspname IN ('fresh_db', 'z_db');

-- leave the registry empty
SELECT * FROM datasource.apply_config('{"sources": [{"name": "local", "description": "this database"}], "databases": []}');
DROP SCHEMA customer_db, accounts_db, scratch_db;
DROP SERVER branch, depot;
