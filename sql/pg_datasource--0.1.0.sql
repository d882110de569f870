/* pg_datasource 0.1.0: the registry of datasources and logical databases */

\echo Use "CREATE EXTENSION pg_datasource" to load this file. \quit

/*
 * Catalog tables.  The C functions enforce the name rules and give the
 * errors; the constraints here are the last line of defence for rows written
 * by hand or restored from a dump.
 */
CREATE TABLE datasource.sources (
	name		text PRIMARY KEY
				CHECK (name OPERATOR(pg_catalog.~) '^[a-z_][a-z0-9_$]*$'
					   AND pg_catalog.octet_length(name) OPERATOR(pg_catalog.<=) 63),
	server		text UNIQUE
				CHECK (pg_catalog.octet_length(server) OPERATOR(pg_catalog.<=) 63),
	enabled		boolean NOT NULL DEFAULT true,
	read_only	boolean NOT NULL DEFAULT false,
	description text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by	text NOT NULL DEFAULT CURRENT_USER,
	CONSTRAINT sources_local_has_no_server
		CHECK ((name OPERATOR(pg_catalog.=) 'local') OPERATOR(pg_catalog.=) (server IS NULL))
);

COMMENT ON TABLE datasource.sources IS
	'one row per datasource: this database (local) or a foreign server of the pg_datasource wrapper';

CREATE TABLE datasource.databases (
	name		text PRIMARY KEY
				CHECK (name OPERATOR(pg_catalog.~) '^[a-z_][a-z0-9_$]*$'
					   AND pg_catalog.octet_length(name) OPERATOR(pg_catalog.<=) 63),
	source		text NOT NULL REFERENCES datasource.sources (name),
	schema_name text NOT NULL
				CHECK (pg_catalog.octet_length(schema_name) OPERATOR(pg_catalog.<=) 63),
	read_only	boolean NOT NULL DEFAULT false,
	description text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by	text NOT NULL DEFAULT CURRENT_USER,
	CONSTRAINT databases_one_schema_per_source UNIQUE (source, schema_name)
);

COMMENT ON TABLE datasource.databases IS
	'one row per logical database: a name mapped to a schema on a datasource';

INSERT INTO datasource.sources (name, server, description, created_by)
	VALUES ('local', NULL, 'this database', 'pg_datasource');

/* pg_dump keeps every registry row except the seeded local one */
SELECT pg_catalog.pg_extension_config_dump('datasource.sources',
	'WHERE name OPERATOR(pg_catalog.<>) ''local''');
SELECT pg_catalog.pg_extension_config_dump('datasource.databases', '');

/*
 * Registry views: the tables joined with their foreign servers, for reading
 * in psql.  Only non-secret server options are shown (secrets can only be on
 * user mappings, which these views do not read).
 */
CREATE VIEW datasource.source_info AS
SELECT s.name,
	   s.server,
	   (SELECT o.option_value FROM pg_catalog.pg_options_to_table(fs.srvoptions) o
		 WHERE o.option_name OPERATOR(pg_catalog.=) 'host') AS host,
	   (SELECT o.option_value FROM pg_catalog.pg_options_to_table(fs.srvoptions) o
		 WHERE o.option_name OPERATOR(pg_catalog.=) 'port') AS port,
	   (SELECT o.option_value FROM pg_catalog.pg_options_to_table(fs.srvoptions) o
		 WHERE o.option_name OPERATOR(pg_catalog.=) 'dbname') AS dbname,
	   s.enabled,
	   s.read_only,
	   (SELECT pg_catalog.count(*) FROM datasource.databases d
		 WHERE d.source OPERATOR(pg_catalog.=) s.name) AS databases,
	   s.description
  FROM datasource.sources s
  LEFT JOIN pg_catalog.pg_foreign_server fs
	ON fs.srvname OPERATOR(pg_catalog.=) s.server;

COMMENT ON VIEW datasource.source_info IS
	'datasources with their server address and number of logical databases';

CREATE VIEW datasource.database_info AS
SELECT d.name,
	   d.source,
	   d.schema_name,
	   si.host,
	   si.port,
	   si.dbname,
	   (d.read_only OR s.read_only) AS read_only,
	   s.enabled,
	   d.description
  FROM datasource.databases d
  JOIN datasource.sources s ON s.name OPERATOR(pg_catalog.=) d.source
  JOIN datasource.source_info si ON si.name OPERATOR(pg_catalog.=) d.source;

COMMENT ON VIEW datasource.database_info IS
	'logical databases with their datasource, schema and effective read-only flag';

/* The foreign-data wrapper whose servers are remote datasources */
CREATE FUNCTION datasource.pg_datasource_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_datasource_validator'
LANGUAGE C STRICT PARALLEL SAFE;

COMMENT ON FUNCTION datasource.pg_datasource_validator(text[], oid) IS
	'validates options of the pg_datasource foreign-data wrapper, its servers and user mappings';

CREATE FOREIGN DATA WRAPPER pg_datasource
	VALIDATOR datasource.pg_datasource_validator;

COMMENT ON FOREIGN DATA WRAPPER pg_datasource IS
	'remote PostgreSQL servers used as datasources by pg_datasource';

/*
 * A foreign server that a datasource uses cannot be dropped (DROP SERVER,
 * DROP ... CASCADE, DROP OWNED): the datasource would point at nothing.
 */
CREATE FUNCTION datasource.guard_server_drop()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT o.object_name AS server, s.name AS source
		  FROM pg_event_trigger_dropped_objects() o
		  JOIN datasource.sources s ON s.server = o.object_name
		 WHERE o.object_type = 'server'
	LOOP
		RAISE EXCEPTION 'cannot drop server "%" because datasource "%" uses it',
			r.server, r.source
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = format('Unregister it first: SELECT datasource.drop_source(%L);', r.source);
	END LOOP;
END
$$;

COMMENT ON FUNCTION datasource.guard_server_drop() IS
	'event trigger function: refuses to drop a foreign server that a datasource uses';

CREATE EVENT TRIGGER datasource_guard_server_drop ON sql_drop
	WHEN TAG IN ('DROP SERVER', 'DROP FOREIGN DATA WRAPPER', 'DROP OWNED')
	EXECUTE FUNCTION datasource.guard_server_drop();

/* Registry functions */
CREATE FUNCTION datasource.create_source(
	name text,
	server text DEFAULT NULL,
	read_only boolean DEFAULT false,
	description text DEFAULT NULL)
RETURNS datasource.sources
AS 'MODULE_PATHNAME', 'create_source'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.create_source(text, text, boolean, text) IS
	'registers a datasource: a foreign server of the pg_datasource wrapper';

CREATE FUNCTION datasource.alter_source(
	name text,
	server text DEFAULT NULL,
	read_only boolean DEFAULT NULL,
	enabled boolean DEFAULT NULL,
	description text DEFAULT NULL)
RETURNS datasource.sources
AS 'MODULE_PATHNAME', 'alter_source'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.alter_source(text, text, boolean, boolean, text) IS
	'changes a datasource; NULL arguments leave a field unchanged, an empty description clears it';

CREATE FUNCTION datasource.drop_source(
	name text,
	cascade boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'drop_source'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.drop_source(text, boolean) IS
	'unregisters a datasource; with cascade also its logical databases (never their schemas)';

CREATE FUNCTION datasource.create_database(
	name text,
	source text DEFAULT 'local',
	schema_name text DEFAULT NULL,
	create_schema boolean DEFAULT true,
	read_only boolean DEFAULT false,
	description text DEFAULT NULL)
RETURNS datasource.databases
AS 'MODULE_PATHNAME', 'create_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.create_database(text, text, text, boolean, boolean, text) IS
	'maps a logical database to a schema on a datasource, creating the schema unless create_schema is false';

CREATE FUNCTION datasource.alter_database(
	name text,
	source text DEFAULT NULL,
	schema_name text DEFAULT NULL,
	read_only boolean DEFAULT NULL,
	description text DEFAULT NULL)
RETURNS datasource.databases
AS 'MODULE_PATHNAME', 'alter_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.alter_database(text, text, text, boolean, text) IS
	'changes a logical database (remaps it to an existing schema); NULL arguments leave a field unchanged';

CREATE FUNCTION datasource.rename_database(
	name text,
	new_name text)
RETURNS datasource.databases
AS 'MODULE_PATHNAME', 'rename_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.rename_database(text, text) IS
	'renames a logical database; its schema keeps its name';

CREATE FUNCTION datasource.drop_database(
	name text,
	drop_schema boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'drop_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.drop_database(text, boolean) IS
	'unregisters a logical database; with drop_schema also drops its schema and everything in it';

CREATE FUNCTION datasource.validate_databases(
	names text[],
	OUT valid boolean,
	OUT datasource text,
	OUT error text)
RETURNS record
AS 'MODULE_PATHNAME', 'validate_databases'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION datasource.validate_databases(text[]) IS
	'checks that logical databases exist and can be queried together (one enabled datasource)';

CREATE FUNCTION datasource.export_config()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'export_config'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION datasource.export_config() IS
	'the registry as a declarative document that apply_config accepts';

CREATE FUNCTION datasource.apply_config(
	config jsonb,
	dry_run boolean DEFAULT false)
RETURNS TABLE (action text, object text, detail text)
AS 'MODULE_PATHNAME', 'apply_config'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.apply_config(jsonb, boolean) IS
	'makes the registry match a config document; dry_run reports the plan and changes nothing';

/* Privileges: everyone may read the registry; only granted roles manage it */
REVOKE ALL ON ALL TABLES IN SCHEMA datasource FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA datasource FROM PUBLIC;
GRANT USAGE ON SCHEMA datasource TO PUBLIC;
GRANT SELECT ON datasource.sources, datasource.databases,
	datasource.source_info, datasource.database_info TO PUBLIC;
GRANT EXECUTE ON FUNCTION datasource.validate_databases(text[]) TO PUBLIC;

/*
 * Backends keep the registry in memory; this trigger tells them when it
 * changes (a relcache invalidation of datasource.databases, sent at commit).
 */
CREATE FUNCTION datasource.registry_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'registry_changed'
LANGUAGE C;

COMMENT ON FUNCTION datasource.registry_changed() IS
	'trigger function: invalidates the registry cache of every backend';

CREATE TRIGGER registry_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON datasource.sources
	FOR EACH STATEMENT EXECUTE FUNCTION datasource.registry_changed();
CREATE TRIGGER registry_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON datasource.databases
	FOR EACH STATEMENT EXECUTE FUNCTION datasource.registry_changed();
REVOKE ALL ON FUNCTION datasource.registry_changed() FROM PUBLIC;

/* Validation of SQL text */
CREATE FUNCTION datasource.validate(
	query text,
	database text DEFAULT NULL,
	require_read_only boolean DEFAULT false,
	OUT valid boolean,
	OUT datasource text,
	OUT databases text[],
	OUT relations text[],
	OUT command text,
	OUT read_only boolean,
	OUT error text)
RETURNS record
AS 'MODULE_PATHNAME', 'validate'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION datasource.validate(text, text, boolean) IS
	'what a statement touches (logical databases, relations, datasource) and whether it is strictly read-only';

GRANT EXECUTE ON FUNCTION datasource.validate(text, text, boolean) TO PUBLIC;

/*
 * Routing: run SQL where a logical database lives.  The statements run as
 * the calling role, so EXECUTE is granted to PUBLIC: what a role may read
 * or change is decided by PostgreSQL's privileges and row-level security on
 * the target, and by USAGE on the foreign server and a user mapping for a
 * remote datasource.
 */
CREATE TYPE datasource.query_result AS (
    success boolean,
    datasource text,
    columns text[],
    data jsonb,
    row_count bigint,
    truncated boolean,
    error text,
    sqlstate text,
    execution_time_ms float8
);

CREATE FUNCTION datasource.query(database text, query text, params text[] DEFAULT NULL)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'query'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION datasource.query(text, text, text[]) IS
    'Runs one statement on the datasource of a logical database; rows typed by the column definition list';

CREATE FUNCTION datasource.query_json(database text, query text, params text[] DEFAULT NULL)
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME', 'query_json'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION datasource.query_json(text, text, text[]) IS
    'Runs one statement on the datasource of a logical database; one jsonb object per row';

CREATE FUNCTION datasource.execute(database text, query text, max_rows int DEFAULT 1000,
                                   read_only boolean DEFAULT true)
RETURNS datasource.query_result
AS 'MODULE_PATHNAME', 'execute'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION datasource.execute(text, text, int, boolean) IS
    'Runs one statement and reports the outcome, errors included, as a query_result';

CREATE FUNCTION datasource.exec(database text, command text)
RETURNS text
AS 'MODULE_PATHNAME', 'exec'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION datasource.exec(text, text) IS
    'Runs one statement on the datasource of a logical database; returns its command status';

GRANT EXECUTE ON FUNCTION datasource.query(text, text, text[]),
    datasource.query_json(text, text, text[]),
    datasource.execute(text, text, int, boolean),
    datasource.exec(text, text) TO PUBLIC;

/*
 * Remote connections: each backend keeps one libpq connection per foreign
 * server and role.  These functions look at and close this backend's own
 * connections only, so they are granted to PUBLIC too.
 */
CREATE FUNCTION datasource.health_check(source text DEFAULT NULL)
RETURNS TABLE (datasource text, healthy boolean, latency_ms float8,
               server_version text, in_recovery boolean, error text)
AS 'MODULE_PATHNAME', 'health_check'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION datasource.health_check(text) IS
    'One round trip to each datasource (or the one named): latency, version, recovery state, or the error';

CREATE FUNCTION datasource.connections()
RETURNS TABLE (datasource text, server text, role text, remote_pid int,
               transaction_depth int, state text, connected_at timestamptz,
               calls bigint)
AS 'MODULE_PATHNAME', 'connections'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION datasource.connections() IS
    'The remote connections this backend keeps open';

CREATE FUNCTION datasource.disconnect(source text DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'disconnect'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION datasource.disconnect(text) IS
    'Closes this backend''s idle connections to a datasource (all when NULL); returns how many';

GRANT EXECUTE ON FUNCTION datasource.health_check(text), datasource.connections(),
    datasource.disconnect(text) TO PUBLIC;

/*
 * The migration journal: one row per attempt to change a logical database's
 * schema (applied or failed), per baseline, per adoption of a drizzle-kit
 * journal entry and per accepted checksum.  Rows are written by the C
 * functions as the extension's owner; a role granted EXECUTE on migrate()
 * needs no privilege on this table.  Dropping a logical database drops its
 * journal; renaming it carries the journal along.
 */
CREATE TABLE datasource.migrations (
	id			bigserial PRIMARY KEY,
	database	text NOT NULL REFERENCES datasource.databases (name)
				ON UPDATE CASCADE ON DELETE CASCADE,
	datasource	text NOT NULL,
	server		text,
	server_address text,
	schema_name text NOT NULL,
	version		text NOT NULL
				CHECK (pg_catalog.octet_length(version) OPERATOR(pg_catalog.<=) 255),
	description text,
	status		text NOT NULL
				CHECK (status OPERATOR(pg_catalog.=) ANY
					   (ARRAY['applied', 'failed', 'baseline', 'adopted', 'checksum_accepted'])),
	checksum	text,
	raw_checksum text,
	previous_checksum text,
	script		text,
	script_schema text,
	statement_count int,
	role		text NOT NULL,
	started_at	timestamptz NOT NULL,
	finished_at timestamptz NOT NULL,
	execution_time_ms float8,
	error		text,
	sqlstate	text,
	failed_statement int
);

/* a version is applied at most once per logical database */
CREATE UNIQUE INDEX migrations_applied_once ON datasource.migrations (database, version)
	WHERE status OPERATOR(pg_catalog.=) ANY (ARRAY['applied', 'baseline', 'adopted']);
CREATE INDEX migrations_version ON datasource.migrations (database, version, id);
CREATE INDEX migrations_adopted ON datasource.migrations (database, raw_checksum)
	WHERE status OPERATOR(pg_catalog.=) 'adopted';

COMMENT ON TABLE datasource.migrations IS
	'the migration journal: one row per migration attempt, baseline, adoption or accepted checksum';

/*
 * DDL on the schemas of local logical databases, from an event trigger.
 * migrate() tags the rows of its own statements with the version.
 */
CREATE TABLE datasource.ddl_log (
	id			bigserial PRIMARY KEY,
	database	text NOT NULL,
	schema_name text NOT NULL,
	command_tag text NOT NULL,
	object_type text,
	object_identity text,
	statement	text,
	role		text NOT NULL,
	transaction_id xid8 NOT NULL,
	logged_at	timestamptz NOT NULL,
	migration_version text
);
CREATE INDEX ddl_log_database ON datasource.ddl_log (database, id);

COMMENT ON TABLE datasource.ddl_log IS
	'DDL commands on the schemas of local logical databases, with the migration version when run by migrate()';

SELECT pg_catalog.pg_extension_config_dump('datasource.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('datasource.migrations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('datasource.ddl_log', '');
SELECT pg_catalog.pg_extension_config_dump('datasource.ddl_log_id_seq', '');

CREATE TYPE datasource.migration_result AS (
	database text,
	version text,
	status text,
	checksum text,
	execution_time_ms float8,
	error text
);

CREATE FUNCTION datasource.migrate(database text, version text, script text,
	description text DEFAULT NULL, script_schema text DEFAULT NULL)
RETURNS datasource.migration_result
AS 'MODULE_PATHNAME', 'migrate'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION datasource.migrate(text, text, text, text, text) IS
	'Applies a migration script to a logical database once, in a subtransaction, and journals the attempt';

CREATE FUNCTION datasource.migrate_all(version text, script text,
	databases text[] DEFAULT NULL, description text DEFAULT NULL,
	script_schema text DEFAULT NULL)
RETURNS SETOF datasource.migration_result
AS 'MODULE_PATHNAME', 'migrate_all'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION datasource.migrate_all(text, text, text[], text, text) IS
	'Applies one migration to every writable logical database (or those listed), each in its own subtransaction';

CREATE FUNCTION datasource.baseline(database text, version text,
	description text DEFAULT NULL)
RETURNS datasource.migration_result
AS 'MODULE_PATHNAME', 'baseline'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION datasource.baseline(text, text, text) IS
	'Records a version as applied without running anything (its schema exists already)';

CREATE FUNCTION datasource.accept_checksum(database text, version text, checksum text)
RETURNS datasource.migration_result
AS 'MODULE_PATHNAME', 'accept_checksum'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION datasource.accept_checksum(text, text, text) IS
	'Accepts an edited script of an applied version: journals the new checksum next to the old one';

CREATE FUNCTION datasource.pending(database text, manifest jsonb)
RETURNS TABLE (version text, state text)
AS 'MODULE_PATHNAME', 'pending'
LANGUAGE C STABLE;
COMMENT ON FUNCTION datasource.pending(text, jsonb) IS
	'Compares the versions a deploy expects with the journal: missing, applied, changed, unknown';

CREATE FUNCTION datasource.adopt_drizzle(database text,
	migrations_table text DEFAULT 'drizzle.__drizzle_migrations')
RETURNS TABLE (hash text, created_at bigint, state text)
AS 'MODULE_PATHNAME', 'adopt_drizzle'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION datasource.adopt_drizzle(text, text) IS
	'Imports the entries of a drizzle-kit migrations table so that migrate() does not apply them again';

REVOKE ALL ON FUNCTION datasource.migrate(text, text, text, text, text),
	datasource.migrate_all(text, text, text[], text, text),
	datasource.baseline(text, text, text),
	datasource.accept_checksum(text, text, text),
	datasource.pending(text, jsonb),
	datasource.adopt_drizzle(text, text) FROM PUBLIC;

/* the event trigger that fills datasource.ddl_log */
CREATE FUNCTION datasource.log_ddl()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'log_ddl'
LANGUAGE C;
COMMENT ON FUNCTION datasource.log_ddl() IS
	'event trigger function: journals DDL on the schemas of local logical databases into datasource.ddl_log';
REVOKE ALL ON FUNCTION datasource.log_ddl() FROM PUBLIC;

CREATE EVENT TRIGGER datasource_ddl_log ON ddl_command_end
	EXECUTE FUNCTION datasource.log_ddl();
CREATE EVENT TRIGGER datasource_ddl_log_drop ON sql_drop
	EXECUTE FUNCTION datasource.log_ddl();
