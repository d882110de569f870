/* pg_datasource 0.2.0: install script */

\echo Use "CREATE EXTENSION pg_datasource" to load this file. \quit

/*
 * The objects of the extension, in the order they depend on each other:
 * the registry, the foreign-data wrapper, the registry functions,
 * validation, routing, remote connections, the migration and DDL journals,
 * introspection; privileges last.
 *
 * Every function states its volatility and its PARALLEL label:
 *   SAFE        reads only the catalogs, the registry and the journal, or
 *               computes from its arguments alone: it may run in a
 *               parallel worker;
 *   RESTRICTED  reads this backend's own state (its remote connections),
 *               which a parallel worker does not have;
 *   UNSAFE      writes, runs SQL given to it, or opens remote connections.
 * SQL and PL/pgSQL functions run with search_path pinned to pg_catalog,
 * pg_temp.  Every function has a COMMENT.
 *
 * Privileges are set once, at the end of the script: everything in the
 * schema is revoked from PUBLIC there, then the set the README's security
 * model lists is granted.  A function added anywhere above is therefore
 * not executable by PUBLIC unless it is added to that list.
 */

/* ---------------------------------------------------------------- registry */

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
	local_schema text UNIQUE
				CHECK (pg_catalog.octet_length(local_schema) OPERATOR(pg_catalog.<=) 63),
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
	   s.description,
	   CASE WHEN w.fdwname OPERATOR(pg_catalog.=) 'mysql_fdw' THEN 'mysql'
			ELSE 'postgresql' END AS engine
  FROM datasource.sources s
  LEFT JOIN pg_catalog.pg_foreign_server fs
	ON fs.srvname OPERATOR(pg_catalog.=) s.server
  LEFT JOIN pg_catalog.pg_foreign_data_wrapper w
	ON w.oid OPERATOR(pg_catalog.=) fs.srvfdw;

COMMENT ON VIEW datasource.source_info IS
	'datasources with their server address, number of logical databases and engine (postgresql or mysql)';

CREATE VIEW datasource.database_info AS
SELECT d.name,
	   d.source,
	   d.schema_name,
	   si.host,
	   si.port,
	   si.dbname,
	   (d.read_only OR s.read_only) AS read_only,
	   s.enabled,
	   d.description,
	   si.engine,
	   d.local_schema,
	   NOT (d.read_only OR s.read_only) AS writable,
	   si.engine OPERATOR(pg_catalog.=) 'postgresql' AS transactional
  FROM datasource.databases d
  JOIN datasource.sources s ON s.name OPERATOR(pg_catalog.=) d.source
  JOIN datasource.source_info si ON si.name OPERATOR(pg_catalog.=) d.source;

COMMENT ON VIEW datasource.database_info IS
	'logical databases with their datasource, schema, effective read-only flag, engine and capabilities (a MySQL one keeps its foreign tables in local_schema and is not transactional)';

/* ---------------------------------------------------------------- foreign-data wrapper */

/* The foreign-data wrapper whose servers are remote datasources */
CREATE FUNCTION datasource.pg_datasource_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_datasource_validator'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

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
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
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

/* ---------------------------------------------------------------- registry functions */

CREATE FUNCTION datasource.create_source(
	name text,
	server text DEFAULT NULL,
	read_only boolean DEFAULT false,
	description text DEFAULT NULL)
RETURNS datasource.sources
AS 'MODULE_PATHNAME', 'pgds_create_source'
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
AS 'MODULE_PATHNAME', 'pgds_alter_source'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.alter_source(text, text, boolean, boolean, text) IS
	'changes a datasource; NULL arguments leave a field unchanged, an empty description clears it';

CREATE FUNCTION datasource.drop_source(
	name text,
	cascade boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'pgds_drop_source'
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
AS 'MODULE_PATHNAME', 'pgds_create_database'
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
AS 'MODULE_PATHNAME', 'pgds_alter_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.alter_database(text, text, text, boolean, text) IS
	'changes a logical database (remaps it to an existing schema); NULL arguments leave a field unchanged';

CREATE FUNCTION datasource.rename_database(
	name text,
	new_name text)
RETURNS datasource.databases
AS 'MODULE_PATHNAME', 'pgds_rename_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.rename_database(text, text) IS
	'renames a logical database; its schema keeps its name';

CREATE FUNCTION datasource.drop_database(
	name text,
	drop_schema boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'pgds_drop_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.drop_database(text, boolean) IS
	'unregisters a logical database; with drop_schema also drops its schema and everything in it';

CREATE FUNCTION datasource.validate_databases(
	names text[],
	OUT valid boolean,
	OUT datasource text,
	OUT error text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgds_validate_databases'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION datasource.validate_databases(text[]) IS
	'checks that logical databases exist and can be queried together (one enabled datasource)';

CREATE FUNCTION datasource.export_config()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgds_export_config'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION datasource.export_config() IS
	'the registry as a declarative document that apply_config accepts';

CREATE FUNCTION datasource.apply_config(
	config jsonb,
	dry_run boolean DEFAULT false)
RETURNS TABLE (action text, object text, detail text)
AS 'MODULE_PATHNAME', 'pgds_apply_config'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.apply_config(jsonb, boolean) IS
	'makes the registry match a config document; dry_run reports the plan and changes nothing';

/*
 * Backends keep the registry in memory; this trigger tells them when it
 * changes (a relcache invalidation of datasource.databases, sent at commit).
 */
CREATE FUNCTION datasource.registry_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pgds_registry_changed'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.registry_changed() IS
	'trigger function: invalidates the registry cache of every backend';

CREATE TRIGGER registry_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON datasource.sources
	FOR EACH STATEMENT EXECUTE FUNCTION datasource.registry_changed();
CREATE TRIGGER registry_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON datasource.databases
	FOR EACH STATEMENT EXECUTE FUNCTION datasource.registry_changed();

/* ---------------------------------------------------------------- validation */

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
AS 'MODULE_PATHNAME', 'pgds_validate'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION datasource.validate(text, text, boolean) IS
	'what a statement touches (logical databases, relations, datasource) and whether it is strictly read-only';

/* ---------------------------------------------------------------- routing */

/*
 * Run SQL where a logical database lives.  The statements run as the
 * calling role: what a role may read or change is decided by PostgreSQL's
 * privileges and row-level security on the target, and by USAGE on the
 * foreign server and a user mapping for a remote datasource.
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

COMMENT ON TYPE datasource.query_result IS
	'the outcome of execute(): rows as jsonb, or the error with its SQLSTATE';

CREATE FUNCTION datasource.query(
	database text,
	query text,
	params text[] DEFAULT NULL)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgds_query'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.query(text, text, text[]) IS
	'runs one statement on the datasource of a logical database; rows typed by the column definition list';

CREATE FUNCTION datasource.query_json(
	database text,
	query text,
	params text[] DEFAULT NULL)
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME', 'pgds_query_json'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.query_json(text, text, text[]) IS
	'runs one statement on the datasource of a logical database; one jsonb object per row';

CREATE FUNCTION datasource.execute(
	database text,
	query text,
	max_rows int DEFAULT 1000,
	read_only boolean DEFAULT true)
RETURNS datasource.query_result
AS 'MODULE_PATHNAME', 'pgds_execute'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.execute(text, text, int, boolean) IS
	'runs one statement and reports the outcome, errors included, as a query_result';

CREATE FUNCTION datasource.exec(
	database text,
	command text)
RETURNS text
AS 'MODULE_PATHNAME', 'pgds_exec'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.exec(text, text) IS
	'runs one statement on the datasource of a logical database; returns its command status';

/* ---------------------------------------------------------------- remote connections */

/*
 * Each backend keeps one libpq connection per foreign server and role.
 * These functions look at and close this backend's own connections only.
 */
CREATE FUNCTION datasource.health_check(
	source text DEFAULT NULL)
RETURNS TABLE (datasource text, healthy boolean, latency_ms float8,
			   server_version text, in_recovery boolean, error text)
AS 'MODULE_PATHNAME', 'pgds_health_check'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.health_check(text) IS
	'one round trip to each datasource (or the one named): latency, version, recovery state, or the error';

CREATE FUNCTION datasource.connections()
RETURNS TABLE (datasource text, server text, role text, remote_pid int,
			   transaction_depth int, state text, connected_at timestamptz,
			   calls bigint)
AS 'MODULE_PATHNAME', 'pgds_connections'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION datasource.connections() IS
	'the remote connections this backend keeps open';

CREATE FUNCTION datasource.disconnect(
	source text DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'pgds_disconnect'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.disconnect(text) IS
	'closes this backend''s idle connections to a datasource (all when NULL); returns how many';

CREATE FUNCTION datasource.statement_cache(
	OUT entries bigint,
	OUT memory_bytes bigint,
	OUT hits bigint,
	OUT misses bigint,
	OUT resets bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pgds_statement_cache'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION datasource.statement_cache() IS
	'this backend''s cache of routed statements: entries, memory, lookups it served (hits) and did not (misses), times it was emptied (resets)';

CREATE FUNCTION datasource.resolve_transactions(
	source text DEFAULT NULL)
RETURNS TABLE (datasource text, gid text, local_xid xid8, action text)
AS 'MODULE_PATHNAME', 'pgds_resolve_transactions'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.resolve_transactions(text) IS
	'finishes the transactions two-phase commit left prepared on remote datasources (all, or the one named) as their local transaction ended; one row per prepared transaction found';

/* ---------------------------------------------------------------- migrations */

/*
 * The migration journal: one row per attempt to change a logical database's
 * schema (applied or failed), per baseline, per adoption of a drizzle-kit
 * journal entry and per accepted checksum.  Rows are written by the C
 * functions as the extension's owner; a role granted EXECUTE on migrate()
 * needs no privilege on this table.  The journal is history: dropping a
 * logical database keeps its rows (no foreign key to the registry), and
 * rename_database carries them to the new name.  A logical database created
 * again under a name with history continues it only on the same datasource
 * and existing schema (create_database refuses otherwise).
 */
CREATE TABLE datasource.migrations (
	id			bigserial PRIMARY KEY,
	database	text NOT NULL,
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
	failed_statement int,
	schema_fingerprint text,
	error_detail text,
	error_hint	text
);

/* a version is applied at most once per logical database */
CREATE UNIQUE INDEX migrations_applied_once ON datasource.migrations (database, version)
	WHERE status OPERATOR(pg_catalog.=) ANY (ARRAY['applied', 'baseline', 'adopted']);
CREATE INDEX migrations_version ON datasource.migrations (database, version, id);
CREATE INDEX migrations_adopted ON datasource.migrations (database, raw_checksum)
	WHERE status OPERATOR(pg_catalog.=) 'adopted';

COMMENT ON TABLE datasource.migrations IS
	'the migration journal: one row per migration attempt, baseline, adoption or accepted checksum';
COMMENT ON COLUMN datasource.migrations.schema_fingerprint IS
	'the fingerprint of the schema the migration left (a key of datasource.schema_snapshots)';
COMMENT ON COLUMN datasource.migrations.error_detail IS
	'the DETAIL of the error that failed the migration';
COMMENT ON COLUMN datasource.migrations.error_hint IS
	'the HINT of the error that failed the migration';

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

/*
 * The schema a logical database had after a migration: migrate(),
 * migrate_all() and baseline() describe the logical database when the
 * script has run (unless datasource.migration_snapshot is off) and record
 * the fingerprint in the journal row; the description is kept here once per
 * fingerprint, so tenants of one structure share one row.  drift() compares
 * the live schema with it.
 */
CREATE TABLE datasource.schema_snapshots (
	fingerprint text PRIMARY KEY,
	description jsonb NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);

COMMENT ON TABLE datasource.schema_snapshots IS
	'descriptions of logical databases after migrations, one row per fingerprint';

SELECT pg_catalog.pg_extension_config_dump('datasource.migrations', '');
SELECT pg_catalog.pg_extension_config_dump('datasource.migrations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('datasource.ddl_log', '');
SELECT pg_catalog.pg_extension_config_dump('datasource.ddl_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('datasource.schema_snapshots', '');

CREATE TYPE datasource.migration_result AS (
	database text,
	version text,
	status text,
	checksum text,
	execution_time_ms float8,
	error text,
	sqlstate text,
	error_detail text,
	error_hint text
);

COMMENT ON TYPE datasource.migration_result IS
	'the outcome of one migration of one logical database: applied, already_applied or failed (migrate_all also: not_attempted; in a dry run: would_apply, already_applied, refused)';

CREATE FUNCTION datasource.migrate(
	database text,
	version text,
	script text,
	description text DEFAULT NULL,
	script_schema text DEFAULT NULL)
RETURNS datasource.migration_result
AS 'MODULE_PATHNAME', 'pgds_migrate'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.migrate(text, text, text, text, text) IS
	'applies a migration script to a logical database once, in a subtransaction, and journals the attempt';

CREATE FUNCTION datasource.migrate_all(
	version text,
	script text,
	databases text[] DEFAULT NULL,
	description text DEFAULT NULL,
	script_schema text DEFAULT NULL,
	dry_run boolean DEFAULT false,
	max_failures int DEFAULT NULL,
	raise_on_failure boolean DEFAULT false,
	out_of_order boolean DEFAULT false,
	canary text[] DEFAULT NULL,
	manifest jsonb DEFAULT NULL)
RETURNS SETOF datasource.migration_result
AS 'MODULE_PATHNAME', 'pgds_migrate_all'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.migrate_all(text, text, text[], text, text, boolean, int, boolean, boolean, text[], jsonb) IS
	'applies one migration to every writable logical database (or those listed), each in its own subtransaction; dry_run, max_failures, raise_on_failure, out_of_order, canary, manifest';

CREATE PROCEDURE datasource.migrate_waves(
	version text,
	script text,
	databases text[] DEFAULT NULL,
	wave_size int DEFAULT 100,
	canary text[] DEFAULT NULL,
	description text DEFAULT NULL,
	script_schema text DEFAULT NULL,
	max_failures int DEFAULT NULL,
	out_of_order boolean DEFAULT false,
	manifest jsonb DEFAULT NULL,
	parallel int DEFAULT 1,
	per_source int DEFAULT NULL,
	INOUT waves int DEFAULT NULL,
	INOUT applied int DEFAULT NULL,
	INOUT already_applied int DEFAULT NULL,
	INOUT failed int DEFAULT NULL,
	INOUT not_attempted int DEFAULT NULL)
AS 'MODULE_PATHNAME', 'pgds_migrate_waves'
LANGUAGE C;

COMMENT ON PROCEDURE datasource.migrate_waves(text, text, text[], int, text[], text, text, int, boolean, jsonb, int, int, int, int, int, int, int) IS
	'migrate_all in waves, each committed: the canaries first, then wave_size logical databases at a time in name order, each wave shared by parallel background workers; stops after a wave with a failure';

CREATE FUNCTION datasource.baseline(
	database text,
	version text,
	description text DEFAULT NULL)
RETURNS datasource.migration_result
AS 'MODULE_PATHNAME', 'pgds_baseline'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.baseline(text, text, text) IS
	'records a version as applied without running anything (its schema exists already)';

CREATE FUNCTION datasource.accept_checksum(
	database text,
	version text,
	checksum text)
RETURNS datasource.migration_result
AS 'MODULE_PATHNAME', 'pgds_accept_checksum'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.accept_checksum(text, text, text) IS
	'accepts an edited script of an applied version: journals the new checksum next to the old one';

CREATE FUNCTION datasource.pending(
	database text,
	manifest jsonb)
RETURNS TABLE (version text, state text)
AS 'MODULE_PATHNAME', 'pgds_pending'
LANGUAGE C STABLE PARALLEL SAFE;

COMMENT ON FUNCTION datasource.pending(text, jsonb) IS
	'compares the versions a deploy expects with the journal: missing, applied, changed, unknown';

CREATE FUNCTION datasource.adopt_drizzle(
	database text,
	migrations_table text DEFAULT 'drizzle.__drizzle_migrations')
RETURNS TABLE (hash text, created_at bigint, state text)
AS 'MODULE_PATHNAME', 'pgds_adopt_drizzle'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.adopt_drizzle(text, text) IS
	'imports the entries of a drizzle-kit migrations table so that migrate() does not apply them again';

/* the event triggers that fill datasource.ddl_log */
CREATE FUNCTION datasource.log_ddl()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'pgds_log_ddl'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.log_ddl() IS
	'event trigger function: journals DDL on the schemas of local logical databases into datasource.ddl_log';

CREATE EVENT TRIGGER datasource_ddl_log ON ddl_command_end
	EXECUTE FUNCTION datasource.log_ddl();
CREATE EVENT TRIGGER datasource_ddl_log_drop ON sql_drop
	EXECUTE FUNCTION datasource.log_ddl();

/* ---------------------------------------------------------------- introspection */

CREATE FUNCTION datasource.describe(
	database text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgds_describe'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.describe(text) IS
	'the canonical, schema-relative description of a logical database''s schema, read on its datasource';

CREATE FUNCTION datasource.fingerprint(
	database text)
RETURNS text
AS 'MODULE_PATHNAME', 'pgds_fingerprint'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.fingerprint(text) IS
	'the sha256 of describe(database): equal fingerprints mean equal schemas';

CREATE FUNCTION datasource.fingerprint(
	description jsonb)
RETURNS text
AS 'MODULE_PATHNAME', 'pgds_fingerprint_of'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION datasource.fingerprint(jsonb) IS
	'the fingerprint of a stored description';

CREATE FUNCTION datasource.json_schema(
	database text,
	relation text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgds_json_schema'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.json_schema(text, text) IS
	'a JSON Schema (draft 2020-12) of one row of a table or view of a logical database';

/*
 * Helpers of diff_steps: the depth of each object in a dependency graph
 * (objects is a description section, edges the key that lists the names of
 * the objects of the section an object uses; depth 0 uses nothing of the
 * section), and the definition of a column as CREATE TABLE and ADD COLUMN
 * write it.
 *
 * A depth is the length of the longest chain of uses below an object, so
 * diff_steps creates an object after what it uses and drops it before.  A
 * cycle (functions that call each other, views made circular with CREATE
 * OR REPLACE VIEW) has no such chain: its objects share one depth, one more
 * than the deepest object outside the cycle that one of them uses, and
 * diff_steps orders them by name; an object that uses itself uses nothing
 * for its depth.  So diff() stays usable on a cyclic input (the DDL it
 * writes for circular views cannot be replayed as is, as PostgreSQL itself
 * cannot create them in one pass).  Every step of the recursions below
 * adds only pairs not seen before, so they end: at most n * n pairs for n
 * objects.
 */
CREATE FUNCTION datasource.diff_depths(
	objects jsonb,
	edges text)
RETURNS TABLE (name text, depth int)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH RECURSIVE v (name, deps) AS (
		SELECT key, value->edges FROM jsonb_each(coalesce(objects, '{}'))),
	-- x uses y, both of the section
	e (x, y) AS (
		SELECT DISTINCT v.name, u.name
		FROM v, jsonb_array_elements(CASE jsonb_typeof(v.deps)
				WHEN 'array' THEN v.deps
				WHEN 'string' THEN jsonb_build_array(v.deps)
				WHEN 'object' THEN to_jsonb(ARRAY(SELECT jsonb_object_keys(v.deps)))
				ELSE '[]' END) j,
			v u
		WHERE jsonb_typeof(j) = 'string' AND u.name = j #>> '{}'),
	-- x reaches y (each pair once: finite)
	r (x, y) AS (
		SELECT x, y FROM e
		UNION
		SELECT r.x, e.y FROM r JOIN e ON e.x = r.y),
	-- the objects of one cycle share a representative: the least of them
	m (x, rep) AS (
		SELECT r.x, min(r.y) FROM r JOIN r b ON b.x = r.y AND b.y = r.x GROUP BY r.x),
	c (name, rep) AS (
		SELECT v.name, coalesce(m.rep, v.name) FROM v LEFT JOIN m ON m.x = v.name),
	-- the graph of cycles has none: its longest paths are finite
	ce (a, b) AS (
		SELECT DISTINCT cx.rep, cy.rep
		FROM e JOIN c cx ON cx.name = e.x JOIN c cy ON cy.name = e.y
		WHERE cx.rep <> cy.rep),
	d (rep, lvl) AS (
		SELECT DISTINCT rep, 0 FROM c
		UNION
		SELECT ce.a, d.lvl + 1 FROM d JOIN ce ON ce.b = d.rep)
	SELECT c.name, max(d.lvl) FROM c JOIN d USING (rep) GROUP BY c.name
$$;

COMMENT ON FUNCTION datasource.diff_depths(jsonb, text) IS
	'diff_steps helper: the dependency depth of each object of a description section (the objects of a cycle share one)';

CREATE FUNCTION datasource.diff_column(
	c jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT format('%I %s', c->>'name', c->>'type')
		|| coalesce(' COLLATE ' || (c->>'collation'), '')
		|| coalesce(' GENERATED ALWAYS AS (' || (c->>'generated') || ') STORED', '')
		|| coalesce(' DEFAULT ' || (c->>'default'), '')
		|| CASE WHEN c ? 'not_null' AND NOT c ? 'identity' THEN ' NOT NULL' ELSE '' END
		|| CASE WHEN c ? 'identity' THEN format(' GENERATED %s AS IDENTITY (START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s %s)',
			upper(c->>'identity'), c->'identity_options'->>'start', c->'identity_options'->>'increment',
			c->'identity_options'->>'min', c->'identity_options'->>'max', c->'identity_options'->>'cache',
			CASE WHEN (c->'identity_options'->>'cycle')::boolean THEN 'CYCLE' ELSE 'NO CYCLE' END) ELSE '' END
$$;

COMMENT ON FUNCTION datasource.diff_column(jsonb) IS
	'diff_steps helper: a column of a description as a column definition';

/*
 * The steps that turn one description into another, in the order they are
 * found; diff() sorts them by phase.  Phases: 10-19 drops of dependent
 * objects and changed definitions, 30-49 creations and alterations, 50
 * comments and grants, 59-62 drops of sequences, functions, types and
 * collations nothing uses any more.
 */
CREATE FUNCTION datasource.diff_steps(
	from_description jsonb,
	to_description jsonb)
RETURNS TABLE (phase int, object_type text, object_name text, change text, ddl text)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $body$
DECLARE
	f jsonb := coalesce(from_description, '{}');
	t jsonb := coalesce(to_description, '{}');
	k text;
	o jsonb;
	n jsonb;
	x record;
	y record;
	tkw text;
	q text;
	cols text[];
	rebuild text[] := '{}';
	grown boolean;
	dep_views jsonb;
BEGIN
	IF jsonb_typeof(f) <> 'object' OR jsonb_typeof(t) <> 'object' THEN
		RAISE EXCEPTION 'a description must be a jsonb object'
			USING ERRCODE = '22023', HINT = 'Pass what datasource.describe() returns.';
	END IF;

	/* ------------------------------------------------ views to rebuild */
	-- changed or removed views, and views on tables whose columns are
	-- dropped or change type, then everything that depends on those
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(f->'views', '{}')) LOOP
		n := t->'views'->k;
		IF n IS NULL OR (o - 'comment' - 'column_comments' - 'grants' - 'indexes')
				IS DISTINCT FROM (n - 'comment' - 'column_comments' - 'grants' - 'indexes') THEN
			rebuild := rebuild || k;
		END IF;
	END LOOP;
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(f->'tables', '{}')) LOOP
		n := t->'tables'->k;
		IF n IS NULL OR EXISTS (
				SELECT 1 FROM jsonb_array_elements(coalesce(o->'columns', '[]')) oc
				WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(n->'columns', '[]')) nc
					WHERE nc->>'name' = oc->>'name' AND nc->>'type' = oc->>'type'
					AND nc->'collation' IS NOT DISTINCT FROM oc->'collation'
					AND nc->'generated' IS NOT DISTINCT FROM oc->'generated')) THEN
			rebuild := rebuild || ARRAY(SELECT key FROM jsonb_each(coalesce(f->'views', '{}'))
				WHERE value->'depends_on' ? k);
		END IF;
	END LOOP;
	LOOP
		SELECT array_agg(DISTINCT key) INTO cols FROM jsonb_each(coalesce(f->'views', '{}'))
		WHERE NOT key = ANY (rebuild) AND value->'depends_on' ?| rebuild;
		EXIT WHEN cols IS NULL;
		rebuild := rebuild || cols;
	END LOOP;

	/* ------------------------------------------------ drops (10-19) */
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(f->'tables', '{}')) ORDER BY key LOOP
		n := t->'tables'->k;
		CONTINUE WHEN n IS NULL;	-- the table goes, and these with it
		tkw := CASE WHEN o->>'kind' = 'foreign table' THEN 'FOREIGN TABLE' ELSE 'TABLE' END;
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'policies', '{}')) ORDER BY key LOOP
			IF n->'policies'->x.key IS NULL OR (n->'policies'->x.key) - 'comment' <> x.value - 'comment' THEN
				phase := 10; object_type := 'policy'; object_name := k || '.' || x.key;
				change := CASE WHEN n->'policies'->x.key IS NULL THEN 'drop' ELSE 'alter' END;
				ddl := format('DROP POLICY %I ON %I;', x.key, k);
				RETURN NEXT;
			END IF;
		END LOOP;
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'triggers', '{}')) ORDER BY key LOOP
			IF n->'triggers'->x.key IS NULL OR n->'triggers'->x.key->'definition' <> x.value->'definition' THEN
				phase := 11; object_type := 'trigger'; object_name := k || '.' || x.key;
				change := CASE WHEN n->'triggers'->x.key IS NULL THEN 'drop' ELSE 'alter' END;
				ddl := format('DROP TRIGGER %I ON %I;', x.key, k);
				RETURN NEXT;
			END IF;
		END LOOP;
	END LOOP;

	FOR x IN
		SELECT d.name FROM datasource.diff_depths(f->'views', 'depends_on') d
		WHERE d.name = ANY (rebuild) ORDER BY d.depth DESC, d.name
	LOOP
		phase := 12; object_type := f->'views'->x.name->>'kind'; object_name := x.name;
		change := CASE WHEN t->'views'->x.name IS NULL THEN 'drop' ELSE 'alter' END;
		ddl := format('DROP %s %I;', upper(object_type), x.name);
		RETURN NEXT;
	END LOOP;
	-- indexes of materialized views that stay
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(f->'views', '{}')) ORDER BY key LOOP
		CONTINUE WHEN k = ANY (rebuild);
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'indexes', '{}')) ORDER BY key LOOP
			IF t->'views'->k->'indexes'->x.key->'definition' IS DISTINCT FROM x.value->'definition' THEN
				phase := 14; object_type := 'index'; object_name := x.key;
				change := CASE WHEN t->'views'->k->'indexes'->x.key IS NULL THEN 'drop' ELSE 'alter' END;
				ddl := format('DROP INDEX %I;', x.key);
				RETURN NEXT;
			END IF;
		END LOOP;
	END LOOP;

	-- foreign keys first (they may point at tables that go), then the rest
	FOR x IN
		SELECT tb.key AS tab, c.key AS con, c.value AS def, tb.value AS tv
		FROM jsonb_each(coalesce(f->'tables', '{}')) tb, jsonb_each(coalesce(tb.value->'constraints', '{}')) c
		ORDER BY c.value->>'type' <> 'foreign key', tb.key, c.key
	LOOP
		n := t->'tables'->x.tab;
		CONTINUE WHEN n IS NULL AND x.def->>'type' <> 'foreign key';
		IF n IS NULL OR n->'constraints'->x.con IS NULL
				OR n->'constraints'->x.con->'definition' <> x.def->'definition' THEN
			phase := CASE WHEN x.def->>'type' = 'foreign key' THEN 13 ELSE 15 END;
			object_type := 'constraint'; object_name := x.tab || '.' || x.con;
			change := CASE WHEN n->'constraints'->x.con IS NULL THEN 'drop' ELSE 'alter' END;
			ddl := format('ALTER %s %I DROP CONSTRAINT %I;',
				CASE WHEN x.tv->>'kind' = 'foreign table' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, x.tab, x.con);
			RETURN NEXT;
		END IF;
	END LOOP;
	FOR x IN
		SELECT tb.key AS tab, i.key AS idx, i.value AS def
		FROM jsonb_each(coalesce(f->'tables', '{}')) tb, jsonb_each(coalesce(tb.value->'indexes', '{}')) i
		WHERE t->'tables'->tb.key IS NOT NULL ORDER BY tb.key, i.key
	LOOP
		IF t->'tables'->x.tab->'indexes'->x.idx->'definition' IS DISTINCT FROM x.def->'definition' THEN
			phase := 14; object_type := 'index'; object_name := x.idx;
			change := CASE WHEN t->'tables'->x.tab->'indexes'->x.idx IS NULL THEN 'drop' ELSE 'alter' END;
			ddl := format('DROP INDEX %I;', x.idx);
			RETURN NEXT;
		END IF;
	END LOOP;

	-- functions whose result or kind changes cannot be replaced
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(f->'functions', '{}')) ORDER BY key LOOP
		n := t->'functions'->k;
		IF n IS NOT NULL AND (n->'result' IS DISTINCT FROM o->'result' OR n->'kind' <> o->'kind'
				OR n->'arguments' <> o->'arguments') THEN
			phase := 16; object_type := o->>'kind'; object_name := k; change := 'alter';
			ddl := format('DROP %s %I(%s);', CASE WHEN o->>'kind' = 'procedure' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
				o->>'name', o->>'identity_arguments');
			RETURN NEXT;
		END IF;
	END LOOP;

	-- defaults that change go first: the old one may call a function that goes
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(f->'tables', '{}')) ORDER BY key LOOP
		n := t->'tables'->k;
		CONTINUE WHEN n IS NULL OR n->'kind' <> o->'kind' OR n->'partition_by' IS DISTINCT FROM o->'partition_by'
			OR n->'server' IS DISTINCT FROM o->'server';
		FOR x IN SELECT oc AS c, (SELECT nc FROM jsonb_array_elements(coalesce(n->'columns', '[]')) nc
		                          WHERE nc->>'name' = oc->>'name') AS nc
		         FROM jsonb_array_elements(coalesce(o->'columns', '[]')) WITH ORDINALITY AS a (oc, i)
		         WHERE oc ? 'default' AND NOT (oc ? 'inherited') ORDER BY i LOOP
			IF x.nc IS NOT NULL AND x.nc->'default' IS DISTINCT FROM x.c->'default'
					AND x.nc->'generated' IS NOT DISTINCT FROM x.c->'generated' THEN
				phase := 16; object_type := 'column'; object_name := k || '.' || (x.c->>'name'); change := 'alter';
				ddl := format('ALTER %s %I ALTER COLUMN %I DROP DEFAULT;',
					CASE WHEN o->>'kind' = 'foreign table' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, k, x.c->>'name');
				RETURN NEXT;
			END IF;
		END LOOP;
	END LOOP;

	-- columns that go, or whose generation expression changes (PostgreSQL
	-- cannot alter that: the column is dropped and added again)
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(f->'tables', '{}')) ORDER BY key LOOP
		n := t->'tables'->k;
		CONTINUE WHEN n IS NULL;
		tkw := CASE WHEN o->>'kind' = 'foreign table' THEN 'FOREIGN TABLE' ELSE 'TABLE' END;
		FOR x IN SELECT oc AS c, (SELECT nc FROM jsonb_array_elements(coalesce(n->'columns', '[]')) nc
		                          WHERE nc->>'name' = oc->>'name') AS nc
		         FROM jsonb_array_elements(coalesce(o->'columns', '[]')) WITH ORDINALITY AS a (oc, i)
		         WHERE NOT (oc ? 'inherited') ORDER BY i LOOP
			IF x.nc IS NULL OR x.c->'generated' IS DISTINCT FROM x.nc->'generated' THEN
				phase := 17; object_type := 'column'; object_name := k || '.' || (x.c->>'name');
				change := CASE WHEN x.nc IS NULL THEN 'drop' ELSE 'alter' END;
				ddl := format('ALTER %s %I DROP COLUMN %I;', tkw, k, x.c->>'name');
				RETURN NEXT;
			END IF;
		END LOOP;
	END LOOP;

	-- functions that go, each before those it calls
	FOR k, o IN
		SELECT d.name, f->'functions'->d.name FROM datasource.diff_depths(f->'functions', 'calls') d
		ORDER BY d.depth DESC, d.name
	LOOP
		CONTINUE WHEN t->'functions'->k IS NOT NULL;
		-- after the tables unless it reads or returns one of them
		phase := CASE WHEN o ? 'depends_on' THEN 17 ELSE 60 END;
		object_type := o->>'kind'; object_name := k; change := 'drop';
		ddl := format('DROP %s %I(%s);', CASE WHEN o->>'kind' = 'procedure' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
			o->>'name', o->>'identity_arguments');
		RETURN NEXT;
	END LOOP;

	-- tables that go (partitions and children before their parents), and
	-- tables whose kind or partitioning changes (they are created again)
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(f->'tables', '{}'))
	            ORDER BY (value ? 'partition_of' OR value ? 'inherits') DESC, key LOOP
		n := t->'tables'->k;
		IF n IS NULL OR n->'kind' <> o->'kind' OR n->'partition_by' IS DISTINCT FROM o->'partition_by'
				OR n->'server' IS DISTINCT FROM o->'server' THEN
			phase := 18; object_type := o->>'kind'; object_name := k;
			change := CASE WHEN n IS NULL THEN 'drop' ELSE 'recreate' END;
			-- a partition may have gone with a partition that held it
			ddl := format('DROP %s %s%I;', CASE WHEN o->>'kind' = 'foreign table' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
				CASE WHEN o ? 'partition_of' THEN 'IF EXISTS ' ELSE '' END, k);
			RETURN NEXT;
		END IF;
	END LOOP;

	/* ------------------------------------------------ creations (30-49) */
	-- SQL functions with a string body may read tables created later: like
	-- pg_dump, their bodies are not checked while the DDL runs
	IF EXISTS (SELECT 1 FROM jsonb_each(coalesce(t->'functions', '{}')) fn
	           WHERE fn.value->>'language' = 'sql' AND NOT fn.value ? 'sql_body'
	             AND f->'functions'->fn.key->'definition' IS DISTINCT FROM fn.value->'definition') THEN
		phase := 29; object_type := 'setting'; object_name := 'check_function_bodies'; change := 'set';
		ddl := 'SET LOCAL check_function_bodies = off;';
		RETURN NEXT;
	END IF;
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(t->'collations', '{}')) ORDER BY key LOOP
		n := f->'collations'->k;
		IF n IS NULL OR n - 'comment' <> o - 'comment' THEN
			IF n IS NOT NULL THEN
				phase := 30; object_type := 'collation'; object_name := k; change := 'recreate';
				ddl := format('DROP COLLATION %I;', k);
				RETURN NEXT;
			END IF;
			phase := 30; object_type := 'collation'; object_name := k;
			change := CASE WHEN n IS NULL THEN 'create' ELSE 'recreate' END;
			ddl := format('CREATE COLLATION %I (provider = %s, lc_collate = %L, lc_ctype = %L%s%s);', k,
				o->>'provider', o->>'lc_collate', o->>'lc_ctype',
				CASE WHEN o ? 'icu_locale' THEN format(', locale = %L', o->>'icu_locale') ELSE '' END,
				CASE WHEN (o->>'deterministic')::boolean THEN '' ELSE ', deterministic = false' END);
			RETURN NEXT;
		END IF;
	END LOOP;

	-- types: enums and ranges, then domains, then composites
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(t->'types', '{}'))
	            ORDER BY CASE value->>'kind' WHEN 'enum' THEN 0 WHEN 'range' THEN 1 WHEN 'domain' THEN 2 ELSE 3 END, key LOOP
		n := f->'types'->k;
		CONTINUE WHEN n IS NOT NULL
			AND n - 'comment' - 'grants' - 'constraint_comments' - 'attributes'
			    = o - 'comment' - 'grants' - 'constraint_comments' - 'attributes'
			AND (SELECT coalesce(jsonb_agg(a - 'comment'), '[]') FROM jsonb_array_elements(coalesce(n->'attributes', '[]')) a)
			    = (SELECT coalesce(jsonb_agg(a - 'comment'), '[]') FROM jsonb_array_elements(coalesce(o->'attributes', '[]')) a);
		phase := 31; object_type := o->>'kind'; object_name := k;
		IF n IS NOT NULL AND n->>'kind' = o->>'kind' AND o->>'kind' = 'enum' THEN
			-- labels only added, in an order that keeps the old ones: ADD VALUE
			grown := ARRAY(SELECT l FROM jsonb_array_elements_text(o->'labels') WITH ORDINALITY AS a (l, i)
			               WHERE (n->'labels') ? l ORDER BY i)
			         = ARRAY(SELECT jsonb_array_elements_text(n->'labels'));
			IF grown THEN
				change := 'alter';
				FOR x IN SELECT a.l, a.i FROM jsonb_array_elements_text(o->'labels') WITH ORDINALITY AS a (l, i)
				         ORDER BY a.i LOOP
					CONTINUE WHEN (n->'labels') ? x.l;
					-- after the label before it (old, or added just now); the
					-- first one before the first old label
					ddl := format('ALTER TYPE %I ADD VALUE %L%s;', k, x.l,
						CASE WHEN n->'labels'->>0 IS NULL THEN ''
						     WHEN x.i = 1 THEN format(' BEFORE %L', n->'labels'->>0)
						     ELSE format(' AFTER %L', o->'labels'->>(x.i::int - 2)) END);
					RETURN NEXT;
				END LOOP;
				CONTINUE;
			END IF;
		ELSIF n IS NOT NULL AND n->>'kind' = o->>'kind' AND o->>'kind' = 'domain'
				AND n->'base' = o->'base' AND n->'collation' IS NOT DISTINCT FROM o->'collation' THEN
			change := 'alter';
			IF n->'default' IS DISTINCT FROM o->'default' THEN
				ddl := CASE WHEN o ? 'default' THEN format('ALTER DOMAIN %I SET DEFAULT %s;', k, o->>'default')
				            ELSE format('ALTER DOMAIN %I DROP DEFAULT;', k) END;
				RETURN NEXT;
			END IF;
			IF n->'not_null' IS DISTINCT FROM o->'not_null' THEN
				ddl := format('ALTER DOMAIN %I %s NOT NULL;', k, CASE WHEN o ? 'not_null' THEN 'SET' ELSE 'DROP' END);
				RETURN NEXT;
			END IF;
			FOR x IN SELECT key, value FROM jsonb_each(coalesce(n->'constraints', '{}')) ORDER BY key LOOP
				IF o->'constraints'->x.key IS DISTINCT FROM x.value THEN
					ddl := format('ALTER DOMAIN %I DROP CONSTRAINT %I;', k, x.key);
					RETURN NEXT;
				END IF;
			END LOOP;
			FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'constraints', '{}')) ORDER BY key LOOP
				IF n->'constraints'->x.key IS DISTINCT FROM x.value THEN
					ddl := format('ALTER DOMAIN %I ADD CONSTRAINT %I %s;', k, x.key, x.value #>> '{}');
					RETURN NEXT;
				END IF;
			END LOOP;
			CONTINUE;
		ELSIF n IS NOT NULL AND n->>'kind' = o->>'kind' AND o->>'kind' = 'composite' THEN
			change := 'alter';
			FOR x IN SELECT a FROM jsonb_array_elements(n->'attributes') a
			         WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(o->'attributes') b WHERE b->>'name' = a->>'name') LOOP
				ddl := format('ALTER TYPE %I DROP ATTRIBUTE %I;', k, x.a->>'name');
				RETURN NEXT;
			END LOOP;
			FOR x IN SELECT a, (SELECT b FROM jsonb_array_elements(n->'attributes') b WHERE b->>'name' = a->>'name') AS b
			         FROM jsonb_array_elements(o->'attributes') WITH ORDINALITY AS z (a, i) ORDER BY i LOOP
				IF x.b IS NULL THEN
					ddl := format('ALTER TYPE %I ADD ATTRIBUTE %I %s%s;', k, x.a->>'name', x.a->>'type',
						coalesce(' COLLATE ' || (x.a->>'collation'), ''));
					RETURN NEXT;
				ELSIF x.b - 'comment' <> x.a - 'comment' THEN
					ddl := format('ALTER TYPE %I ALTER ATTRIBUTE %I TYPE %s%s;', k, x.a->>'name', x.a->>'type',
						coalesce(' COLLATE ' || (x.a->>'collation'), ''));
					RETURN NEXT;
				END IF;
			END LOOP;
			CONTINUE;
		END IF;
		IF n IS NOT NULL THEN
			change := 'recreate';
			ddl := format('DROP %s %I;', CASE WHEN n->>'kind' = 'domain' THEN 'DOMAIN' ELSE 'TYPE' END, k);
			RETURN NEXT;
		ELSE
			change := 'create';
		END IF;
		ddl := CASE o->>'kind'
			WHEN 'enum' THEN format('CREATE TYPE %I AS ENUM (%s);', k,
				(SELECT string_agg(quote_literal(l), ', ' ORDER BY i)
				 FROM jsonb_array_elements_text(o->'labels') WITH ORDINALITY AS a (l, i)))
			WHEN 'domain' THEN format('CREATE DOMAIN %I AS %s%s%s%s%s;', k, o->>'base',
				coalesce(' COLLATE ' || (o->>'collation'), ''),
				coalesce(' DEFAULT ' || (o->>'default'), ''),
				CASE WHEN o ? 'not_null' THEN ' NOT NULL' ELSE '' END,
				coalesce((SELECT string_agg(format(' CONSTRAINT %I %s', key, value #>> '{}'), '' ORDER BY key)
				          FROM jsonb_each(o->'constraints')), ''))
			WHEN 'composite' THEN format('CREATE TYPE %I AS (%s);', k,
				(SELECT string_agg(format('%I %s%s', a->>'name', a->>'type', coalesce(' COLLATE ' || (a->>'collation'), '')),
				                   ', ' ORDER BY i)
				 FROM jsonb_array_elements(o->'attributes') WITH ORDINALITY AS z (a, i)))
			ELSE format('CREATE TYPE %I AS RANGE (subtype = %s%s%s%s%s%s);', k, o->>'subtype',
				coalesce(', subtype_opclass = ' || (o->>'subtype_opclass'), ''),
				coalesce(', collation = ' || (o->>'subtype_collation'), ''),
				coalesce(', canonical = ' || (o->>'canonical'), ''),
				coalesce(', subtype_diff = ' || (o->>'subtype_diff'), ''),
				coalesce(', multirange_type_name = ' || quote_ident(o->>'multirange'), ''))
			END;
		RETURN NEXT;
	END LOOP;

	-- sequences
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(t->'sequences', '{}')) ORDER BY key LOOP
		n := f->'sequences'->k;
		q := format(' AS %s START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s %s',
			o->>'type', o->>'start', o->>'increment', o->>'min', o->>'max', o->>'cache',
			CASE WHEN (o->>'cycle')::boolean THEN 'CYCLE' ELSE 'NO CYCLE' END);
		IF n IS NULL THEN
			phase := 32; object_type := 'sequence'; object_name := k; change := 'create';
			ddl := format('CREATE %sSEQUENCE %I%s;', CASE WHEN o ? 'unlogged' THEN 'UNLOGGED ' ELSE '' END, k, q);
			RETURN NEXT;
		ELSIF n - 'comment' - 'grants' - 'owned_by' <> o - 'comment' - 'grants' - 'owned_by' THEN
			phase := 32; object_type := 'sequence'; object_name := k; change := 'alter';
			ddl := format('ALTER SEQUENCE %I%s;', k, q);
			RETURN NEXT;
			IF n->'unlogged' IS DISTINCT FROM o->'unlogged' THEN
				ddl := format('ALTER SEQUENCE %I SET %s;', k, CASE WHEN o ? 'unlogged' THEN 'UNLOGGED' ELSE 'LOGGED' END);
				RETURN NEXT;
			END IF;
		END IF;
	END LOOP;

	-- functions, each after those it calls (those that read or return a
	-- table after the tables)
	FOR k, o IN
		SELECT d.name, t->'functions'->d.name FROM datasource.diff_depths(t->'functions', 'calls') d
		ORDER BY d.depth, d.name
	LOOP
		n := f->'functions'->k;
		IF n IS NULL OR n->'definition' <> o->'definition' THEN
			phase := CASE WHEN o ? 'depends_on' THEN 44 ELSE 33 END;
			object_type := o->>'kind'; object_name := k;
			change := CASE WHEN n IS NULL THEN 'create' ELSE 'alter' END;
			ddl := rtrim(o->>'definition', E'\n') || ';';
			RETURN NEXT;
		END IF;
	END LOOP;

	-- tables: parents before partitions and children
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(t->'tables', '{}'))
	            ORDER BY (value ? 'partition_of' OR value ? 'inherits'), key LOOP
		n := f->'tables'->k;
		tkw := CASE WHEN o->>'kind' = 'foreign table' THEN 'FOREIGN TABLE' ELSE 'TABLE' END;
		phase := 40; object_type := o->>'kind'; object_name := k;
		IF n IS NULL OR n->'kind' <> o->'kind' OR n->'partition_by' IS DISTINCT FROM o->'partition_by'
				OR n->'server' IS DISTINCT FROM o->'server' THEN
			change := CASE WHEN n IS NULL THEN 'create' ELSE 'recreate' END;
			SELECT string_agg(datasource.diff_column(c), ', ' ORDER BY i)
			INTO q
			FROM jsonb_array_elements(coalesce(o->'columns', '[]')) WITH ORDINALITY AS a (c, i)
			WHERE NOT c ? 'inherited';
			IF o ? 'partition_of' THEN
				ddl := format('CREATE TABLE %I PARTITION OF %s%s %s', k, o->>'partition_of',
					CASE WHEN q IS NULL THEN '' ELSE ' (' || q || ')' END, o->>'partition_bound');
			ELSE
				ddl := format('CREATE %s%s %I (%s)%s', CASE WHEN o ? 'unlogged' THEN 'UNLOGGED ' ELSE '' END, tkw, k,
					coalesce(q, ''),
					coalesce(' INHERITS (' || (SELECT string_agg(p, ', ' ORDER BY i)
					           FROM jsonb_array_elements_text(o->'inherits') WITH ORDINALITY AS z (p, i)) || ')', ''));
			END IF;
			ddl := ddl || coalesce(' PARTITION BY ' || (o->>'partition_by'), '')
				|| coalesce(' SERVER ' || quote_ident(o->>'server'), '')
				|| coalesce(' OPTIONS (' || (SELECT string_agg(format('%I %L', split_part(s, '=', 1),
				               substr(s, strpos(s, '=') + 1)), ', ' ORDER BY s)
				             FROM jsonb_array_elements_text(o->'server_options') s) || ')', '')
				|| coalesce(' WITH (' || (SELECT string_agg(s, ', ' ORDER BY s)
				             FROM jsonb_array_elements_text(o->'options') s) || ')', '') || ';';
			RETURN NEXT;
			n := jsonb_build_object('kind', o->'kind');	-- compare the rest to an empty table
			IF o ? 'partition_of' THEN
				n := n || jsonb_build_object('partition_of', o->'partition_of', 'partition_bound', o->'partition_bound');
			END IF;
			n := n || jsonb_build_object('columns', o->'columns', 'inherits', o->'inherits',
				'unlogged', o->'unlogged', 'options', o->'options', 'server_options', o->'server_options',
				'partition_by', o->'partition_by', 'server', o->'server');
			n := jsonb_strip_nulls(n);
		END IF;

		-- the table exists now; what differs is altered
		phase := 41; change := 'alter';
		IF n->'unlogged' IS DISTINCT FROM o->'unlogged' THEN
			ddl := format('ALTER TABLE %I SET %s;', k, CASE WHEN o ? 'unlogged' THEN 'UNLOGGED' ELSE 'LOGGED' END);
			RETURN NEXT;
		END IF;
		IF n->'partition_of' IS DISTINCT FROM o->'partition_of' OR n->'partition_bound' IS DISTINCT FROM o->'partition_bound' THEN
			IF n ? 'partition_of' THEN
				ddl := format('ALTER TABLE %s DETACH PARTITION %I;', n->>'partition_of', k);
				RETURN NEXT;
			END IF;
			IF o ? 'partition_of' THEN
				ddl := format('ALTER TABLE %s ATTACH PARTITION %I %s;', o->>'partition_of', k, o->>'partition_bound');
				RETURN NEXT;
			END IF;
		END IF;
		IF n->'inherits' IS DISTINCT FROM o->'inherits' THEN
			FOR x IN SELECT p FROM jsonb_array_elements_text(coalesce(n->'inherits', '[]')) p
			         WHERE NOT coalesce(o->'inherits', '[]') ? p LOOP
				ddl := format('ALTER TABLE %I NO INHERIT %s;', k, x.p);
				RETURN NEXT;
			END LOOP;
			FOR x IN SELECT p FROM jsonb_array_elements_text(coalesce(o->'inherits', '[]')) p
			         WHERE NOT coalesce(n->'inherits', '[]') ? p LOOP
				ddl := format('ALTER TABLE %I INHERIT %s;', k, x.p);
				RETURN NEXT;
			END LOOP;
		END IF;
		IF n->'options' IS DISTINCT FROM o->'options' THEN
			SELECT string_agg(split_part(s, '=', 1), ', ') INTO q
			FROM jsonb_array_elements_text(coalesce(n->'options', '[]')) s;
			IF q IS NOT NULL THEN
				ddl := format('ALTER %s %I RESET (%s);', tkw, k, q);
				RETURN NEXT;
			END IF;
			IF o ? 'options' THEN
				ddl := format('ALTER %s %I SET (%s);', tkw, k,
					(SELECT string_agg(s, ', ' ORDER BY s) FROM jsonb_array_elements_text(o->'options') s));
				RETURN NEXT;
			END IF;
		END IF;
		FOR x IN SELECT c, (SELECT oc FROM jsonb_array_elements(coalesce(n->'columns', '[]')) oc
		                    WHERE oc->>'name' = c->>'name') AS oc
		         FROM jsonb_array_elements(coalesce(o->'columns', '[]')) WITH ORDINALITY AS a (c, i)
		         WHERE NOT c ? 'inherited' ORDER BY i LOOP
			object_type := 'column'; object_name := k || '.' || (x.c->>'name');
			IF x.oc IS NULL OR x.oc ? 'inherited' OR x.oc->'generated' IS DISTINCT FROM x.c->'generated' THEN
				change := CASE WHEN x.oc IS NULL THEN 'create' ELSE 'alter' END;
				ddl := format('ALTER %s %I ADD COLUMN %s;', tkw, k, datasource.diff_column(x.c));
				RETURN NEXT;
				CONTINUE;
			END IF;
			change := 'alter';
			IF x.oc->'type' <> x.c->'type' OR x.oc->'collation' IS DISTINCT FROM x.c->'collation' THEN
				ddl := format('ALTER %s %I ALTER COLUMN %I TYPE %s%s USING %I::%s;', tkw, k, x.c->>'name', x.c->>'type',
					coalesce(' COLLATE ' || (x.c->>'collation'), ''), x.c->>'name', x.c->>'type');
				RETURN NEXT;
			END IF;
			IF x.oc->'identity' IS NOT NULL AND x.c->'identity' IS NULL THEN
				ddl := format('ALTER %s %I ALTER COLUMN %I DROP IDENTITY;', tkw, k, x.c->>'name');
				RETURN NEXT;
			END IF;
			-- (an old default that differs was dropped in phase 16)
			IF x.oc->'default' IS DISTINCT FROM x.c->'default' AND x.c ? 'default' THEN
				ddl := format('ALTER %s %I ALTER COLUMN %I SET DEFAULT %s;', tkw, k, x.c->>'name', x.c->>'default');
				RETURN NEXT;
			END IF;
			IF x.oc->'not_null' IS DISTINCT FROM x.c->'not_null' AND NOT (x.c ? 'identity' AND x.oc IS NOT NULL AND x.oc ? 'identity') THEN
				IF NOT (x.c ? 'identity') OR x.c ? 'not_null' THEN
					ddl := format('ALTER %s %I ALTER COLUMN %I %s NOT NULL;', tkw, k, x.c->>'name',
						CASE WHEN x.c ? 'not_null' THEN 'SET' ELSE 'DROP' END);
					RETURN NEXT;
				END IF;
			END IF;
			IF x.c->'identity' IS NOT NULL AND x.oc->'identity' IS NULL THEN
				ddl := format('ALTER %s %I ALTER COLUMN %I ADD GENERATED %s AS IDENTITY (START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s %s);',
					tkw, k, x.c->>'name', upper(x.c->>'identity'), x.c->'identity_options'->>'start',
					x.c->'identity_options'->>'increment', x.c->'identity_options'->>'min', x.c->'identity_options'->>'max',
					x.c->'identity_options'->>'cache',
					CASE WHEN (x.c->'identity_options'->>'cycle')::boolean THEN 'CYCLE' ELSE 'NO CYCLE' END);
				RETURN NEXT;
			ELSIF x.c->'identity' IS NOT NULL AND (x.oc->'identity' <> x.c->'identity'
					OR x.oc->'identity_options' IS DISTINCT FROM x.c->'identity_options') THEN
				ddl := format('ALTER %s %I ALTER COLUMN %I SET GENERATED %s SET START WITH %s SET INCREMENT BY %s SET MINVALUE %s SET MAXVALUE %s SET CACHE %s SET %s;',
					tkw, k, x.c->>'name', upper(x.c->>'identity'), x.c->'identity_options'->>'start',
					x.c->'identity_options'->>'increment', x.c->'identity_options'->>'min', x.c->'identity_options'->>'max',
					x.c->'identity_options'->>'cache',
					CASE WHEN (x.c->'identity_options'->>'cycle')::boolean THEN 'CYCLE' ELSE 'NO CYCLE' END);
				RETURN NEXT;
			END IF;
		END LOOP;
		object_type := o->>'kind'; object_name := k;
		IF n->'row_security' IS DISTINCT FROM o->'row_security' THEN
			phase := 48;
			ddl := format('ALTER TABLE %I %s ROW LEVEL SECURITY;', k, CASE WHEN o ? 'row_security' THEN 'ENABLE' ELSE 'DISABLE' END);
			RETURN NEXT;
		END IF;
		IF n->'force_row_security' IS DISTINCT FROM o->'force_row_security' THEN
			phase := 48;
			ddl := format('ALTER TABLE %I %s ROW LEVEL SECURITY;', k, CASE WHEN o ? 'force_row_security' THEN 'FORCE' ELSE 'NO FORCE' END);
			RETURN NEXT;
		END IF;

		-- constraints, indexes, triggers, policies of the table
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'constraints', '{}'))
		         ORDER BY CASE value->>'type' WHEN 'primary key' THEN 0 WHEN 'unique' THEN 1 ELSE 2 END, key LOOP
			IF n->'constraints'->x.key->'definition' IS DISTINCT FROM x.value->'definition' THEN
				phase := CASE WHEN x.value->>'type' = 'foreign key' THEN 46 ELSE 42 END;
				object_type := 'constraint'; object_name := k || '.' || x.key;
				change := CASE WHEN n->'constraints'->x.key IS NULL THEN 'create' ELSE 'alter' END;
				ddl := format('ALTER %s %I ADD CONSTRAINT %I %s;', tkw, k, x.key, x.value->>'definition');
				RETURN NEXT;
			END IF;
		END LOOP;
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'indexes', '{}')) ORDER BY key LOOP
			IF n->'indexes'->x.key->'definition' IS DISTINCT FROM x.value->'definition' THEN
				phase := 43; object_type := 'index'; object_name := x.key;
				change := CASE WHEN n->'indexes'->x.key IS NULL THEN 'create' ELSE 'alter' END;
				ddl := replace(x.value->>'definition', ' ON ONLY ', ' ON ') || ';';
				RETURN NEXT;
			END IF;
		END LOOP;
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'triggers', '{}')) ORDER BY key LOOP
			object_type := 'trigger'; object_name := k || '.' || x.key; phase := 47;
			IF n->'triggers'->x.key->'definition' IS DISTINCT FROM x.value->'definition' THEN
				change := CASE WHEN n->'triggers'->x.key IS NULL THEN 'create' ELSE 'alter' END;
				ddl := (x.value->>'definition') || ';';
				RETURN NEXT;
			END IF;
			IF (n->'triggers'->x.key->'definition' IS DISTINCT FROM x.value->'definition' AND x.value ? 'enabled')
					OR (n->'triggers'->x.key->'definition' = x.value->'definition'
					    AND n->'triggers'->x.key->'enabled' IS DISTINCT FROM x.value->'enabled') THEN
				change := 'alter';
				ddl := format('ALTER TABLE %I %s TRIGGER %I;', k,
					CASE x.value->>'enabled' WHEN 'disabled' THEN 'DISABLE' WHEN 'replica' THEN 'ENABLE REPLICA'
					     WHEN 'always' THEN 'ENABLE ALWAYS' ELSE 'ENABLE' END, x.key);
				RETURN NEXT;
			END IF;
		END LOOP;
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'policies', '{}')) ORDER BY key LOOP
			IF n->'policies'->x.key IS NULL OR (n->'policies'->x.key) - 'comment' <> x.value - 'comment' THEN
				phase := 48; object_type := 'policy'; object_name := k || '.' || x.key;
				change := CASE WHEN n->'policies'->x.key IS NULL THEN 'create' ELSE 'alter' END;
				ddl := format('CREATE POLICY %I ON %I AS %s FOR %s TO %s%s%s;', x.key, k,
					CASE WHEN (x.value->>'permissive')::boolean THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
					x.value->>'command',
					(SELECT string_agg(r, ', ' ORDER BY r) FROM jsonb_array_elements_text(x.value->'roles') r),
					coalesce(' USING (' || (x.value->>'using') || ')', ''),
					coalesce(' WITH CHECK (' || (x.value->>'with_check') || ')', ''));
				RETURN NEXT;
			END IF;
		END LOOP;
	END LOOP;

	-- views, each after the views it reads
	FOR x IN
		SELECT d.name FROM datasource.diff_depths(t->'views', 'depends_on') d
		ORDER BY d.depth, d.name
	LOOP
		o := t->'views'->x.name;
		n := f->'views'->x.name;
		IF n IS NULL OR x.name = ANY (rebuild) THEN
			phase := 45; object_type := o->>'kind'; object_name := x.name;
			change := CASE WHEN n IS NULL THEN 'create' ELSE 'alter' END;
			ddl := format('CREATE %s %I%s AS %s;', upper(o->>'kind'), x.name,
				coalesce(' WITH (' || (SELECT string_agg(s, ', ' ORDER BY s)
				                       FROM jsonb_array_elements_text(o->'options') s) || ')', ''),
				rtrim(ltrim(o->>'definition'), ';'));
			RETURN NEXT;
			n := NULL;
		END IF;
		FOR y IN SELECT key, value FROM jsonb_each(coalesce(o->'indexes', '{}')) ORDER BY key LOOP
			IF n->'indexes'->y.key->'definition' IS DISTINCT FROM y.value->'definition' THEN
				phase := 45; object_type := 'index'; object_name := y.key;
				change := CASE WHEN n->'indexes'->y.key IS NULL THEN 'create' ELSE 'alter' END;
				ddl := (y.value->>'definition') || ';';
				RETURN NEXT;
			END IF;
		END LOOP;
	END LOOP;

	-- sequence ownership, once the columns exist
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(t->'sequences', '{}')) ORDER BY key LOOP
		IF f->'sequences'->k->'owned_by' IS DISTINCT FROM o->'owned_by' THEN
			phase := 49; object_type := 'sequence'; object_name := k; change := 'alter';
			ddl := format('ALTER SEQUENCE %I OWNED BY %s;', k, coalesce(o->>'owned_by', 'NONE'));
			RETURN NEXT;
		END IF;
	END LOOP;

	/* ------------------------------------------------ comments and grants (50) */
	phase := 50;
	FOR x IN
		-- (object type, name, ON-clause, kind for grants, old comment, new comment, old grants, new grants)
		WITH objs AS (
			SELECT 'TABLE' AS kw, 'table' AS gk, tb.key AS name, format('%I', tb.key) AS target,
			       f->'tables'->tb.key AS o, tb.value AS nv,
			       CASE WHEN tb.value->>'kind' = 'foreign table' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS ckw
			FROM jsonb_each(coalesce(t->'tables', '{}')) tb
			UNION ALL
			SELECT upper(vw.value->>'kind'), 'table', vw.key, format('%I', vw.key),
			       CASE WHEN vw.key = ANY (rebuild) THEN NULL ELSE f->'views'->vw.key END, vw.value, upper(vw.value->>'kind')
			FROM jsonb_each(coalesce(t->'views', '{}')) vw
			UNION ALL
			SELECT 'SEQUENCE', 'sequence', s.key, format('%I', s.key), f->'sequences'->s.key, s.value, 'SEQUENCE'
			FROM jsonb_each(coalesce(t->'sequences', '{}')) s
			UNION ALL
			SELECT 'TYPE', 'type', ty.key, format('%I', ty.key),
			       CASE WHEN f->'types'->ty.key->'kind' = ty.value->'kind' THEN f->'types'->ty.key END, ty.value,
			       CASE WHEN ty.value->>'kind' = 'domain' THEN 'DOMAIN' ELSE 'TYPE' END
			FROM jsonb_each(coalesce(t->'types', '{}')) ty
			UNION ALL
			SELECT upper(fn.value->>'kind'), 'function', fn.key,
			       format('%I(%s)', fn.value->>'name', fn.value->>'identity_arguments'),
			       CASE WHEN f->'functions'->fn.key->'result' IS NOT DISTINCT FROM fn.value->'result'
			            AND f->'functions'->fn.key->'arguments' = fn.value->'arguments' THEN f->'functions'->fn.key END,
			       fn.value, CASE WHEN fn.value->>'kind' = 'procedure' THEN 'PROCEDURE' ELSE 'FUNCTION' END
			FROM jsonb_each(coalesce(t->'functions', '{}')) fn
			UNION ALL
			SELECT 'COLLATION', NULL, c.key, format('%I', c.key), f->'collations'->c.key, c.value, 'COLLATION'
			FROM jsonb_each(coalesce(t->'collations', '{}')) c
		)
		SELECT * FROM objs ORDER BY kw, name
	LOOP
		object_type := lower(x.ckw); object_name := x.name;
		IF x.o->'comment' IS DISTINCT FROM x.nv->'comment' THEN
			change := 'comment';
			ddl := format('COMMENT ON %s %s IS %s;', replace(replace(x.ckw, 'WINDOW FUNCTION', 'FUNCTION'), 'PARTITIONED TABLE', 'TABLE'),
				x.target, coalesce(quote_literal(x.nv->>'comment'), 'NULL'));
			RETURN NEXT;
		END IF;
		CONTINUE WHEN x.gk IS NULL;
		-- a new object starts with the default grants of its kind
		FOR y IN
			WITH og AS (SELECT g FROM jsonb_array_elements_text(CASE WHEN x.o IS NOT NULL THEN coalesce(x.o->'grants', '[]')
			                WHEN x.gk = 'function' THEN '["EXECUTE TO PUBLIC"]'
			                WHEN x.gk = 'type' THEN '["USAGE TO PUBLIC"]' ELSE '[]' END) g),
			     ng AS (SELECT g FROM jsonb_array_elements_text(coalesce(x.nv->'grants', '[]')) g)
			SELECT 'REVOKE' AS verb, g FROM og WHERE g NOT IN (SELECT g FROM ng)
			UNION ALL
			SELECT 'GRANT', g FROM ng WHERE g NOT IN (SELECT g FROM og)
			ORDER BY 1 DESC, 2
		LOOP
			change := lower(y.verb);
			q := split_part(y.g, ' TO ', 1);
			IF y.verb = 'REVOKE' THEN
				ddl := format('REVOKE %s ON %s %s FROM %s;', q,
					CASE x.gk WHEN 'table' THEN 'TABLE' WHEN 'sequence' THEN 'SEQUENCE'
					     WHEN 'type' THEN 'TYPE' ELSE CASE WHEN x.ckw = 'PROCEDURE' THEN 'PROCEDURE' ELSE 'FUNCTION' END END,
					x.target, regexp_replace(substr(y.g, length(q) + 5), ' WITH GRANT OPTION$', ''));
			ELSE
				ddl := format('GRANT %s ON %s %s TO %s;', q,
					CASE x.gk WHEN 'table' THEN 'TABLE' WHEN 'sequence' THEN 'SEQUENCE'
					     WHEN 'type' THEN 'TYPE' ELSE CASE WHEN x.ckw = 'PROCEDURE' THEN 'PROCEDURE' ELSE 'FUNCTION' END END,
					x.target, substr(y.g, length(q) + 5));
			END IF;
			RETURN NEXT;
		END LOOP;
	END LOOP;
	-- comments and grants below the table: columns, constraints, indexes, triggers, policies
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(t->'tables', '{}')) ORDER BY key LOOP
		n := f->'tables'->k;
		IF n IS NOT NULL AND (n->'kind' <> o->'kind' OR n->'partition_by' IS DISTINCT FROM o->'partition_by'
				OR n->'server' IS DISTINCT FROM o->'server') THEN
			n := NULL;
		END IF;
		FOR x IN SELECT c, (SELECT oc FROM jsonb_array_elements(coalesce(n->'columns', '[]')) oc
		                    WHERE oc->>'name' = c->>'name' AND oc->'generated' IS NOT DISTINCT FROM c->'generated') AS oc
		         FROM jsonb_array_elements(coalesce(o->'columns', '[]')) WITH ORDINALITY AS a (c, i) ORDER BY i LOOP
			object_type := 'column'; object_name := k || '.' || (x.c->>'name');
			IF x.oc->'comment' IS DISTINCT FROM x.c->'comment' THEN
				change := 'comment';
				ddl := format('COMMENT ON COLUMN %I.%I IS %s;', k, x.c->>'name', coalesce(quote_literal(x.c->>'comment'), 'NULL'));
				RETURN NEXT;
			END IF;
			FOR y IN
				WITH og AS (SELECT g FROM jsonb_array_elements_text(coalesce(x.oc->'grants', '[]')) g),
				     ng AS (SELECT g FROM jsonb_array_elements_text(coalesce(x.c->'grants', '[]')) g)
				SELECT 'REVOKE' AS verb, g FROM og WHERE g NOT IN (SELECT g FROM ng)
				UNION ALL
				SELECT 'GRANT', g FROM ng WHERE g NOT IN (SELECT g FROM og)
				ORDER BY 1 DESC, 2
			LOOP
				change := lower(y.verb);
				q := split_part(y.g, ' TO ', 1);
				ddl := CASE WHEN y.verb = 'REVOKE'
					THEN format('REVOKE %s (%I) ON TABLE %I FROM %s;', q, x.c->>'name', k,
					            regexp_replace(substr(y.g, length(q) + 5), ' WITH GRANT OPTION$', ''))
					ELSE format('GRANT %s (%I) ON TABLE %I TO %s;', q, x.c->>'name', k, substr(y.g, length(q) + 5)) END;
				RETURN NEXT;
			END LOOP;
		END LOOP;
		change := 'comment';
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'constraints', '{}')) ORDER BY key LOOP
			IF (CASE WHEN n->'constraints'->x.key->'definition' = x.value->'definition' THEN n->'constraints'->x.key->'comment' END)
					IS DISTINCT FROM x.value->'comment' THEN
				object_type := 'constraint'; object_name := k || '.' || x.key;
				ddl := format('COMMENT ON CONSTRAINT %I ON %I IS %s;', x.key, k, coalesce(quote_literal(x.value->>'comment'), 'NULL'));
				RETURN NEXT;
			END IF;
		END LOOP;
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'indexes', '{}')) ORDER BY key LOOP
			IF (CASE WHEN n->'indexes'->x.key->'definition' = x.value->'definition' THEN n->'indexes'->x.key->'comment' END)
					IS DISTINCT FROM x.value->'comment' THEN
				object_type := 'index'; object_name := x.key;
				ddl := format('COMMENT ON INDEX %I IS %s;', x.key, coalesce(quote_literal(x.value->>'comment'), 'NULL'));
				RETURN NEXT;
			END IF;
		END LOOP;
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'triggers', '{}')) ORDER BY key LOOP
			IF (CASE WHEN n->'triggers'->x.key->'definition' = x.value->'definition' THEN n->'triggers'->x.key->'comment' END)
					IS DISTINCT FROM x.value->'comment' THEN
				object_type := 'trigger'; object_name := k || '.' || x.key;
				ddl := format('COMMENT ON TRIGGER %I ON %I IS %s;', x.key, k, coalesce(quote_literal(x.value->>'comment'), 'NULL'));
				RETURN NEXT;
			END IF;
		END LOOP;
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'policies', '{}')) ORDER BY key LOOP
			IF (CASE WHEN (n->'policies'->x.key) - 'comment' = x.value - 'comment' THEN n->'policies'->x.key->'comment' END)
					IS DISTINCT FROM x.value->'comment' THEN
				object_type := 'policy'; object_name := k || '.' || x.key;
				ddl := format('COMMENT ON POLICY %I ON %I IS %s;', x.key, k, coalesce(quote_literal(x.value->>'comment'), 'NULL'));
				RETURN NEXT;
			END IF;
		END LOOP;
	END LOOP;
	-- attributes of composite types and constraints of domains
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(t->'types', '{}')) ORDER BY key LOOP
		n := CASE WHEN f->'types'->k->'kind' = o->'kind' THEN f->'types'->k END;
		FOR x IN SELECT a FROM jsonb_array_elements(coalesce(o->'attributes', '[]')) WITH ORDINALITY AS z (a, i) ORDER BY i LOOP
			IF (SELECT b->'comment' FROM jsonb_array_elements(coalesce(n->'attributes', '[]')) b
			    WHERE b->>'name' = x.a->>'name') IS DISTINCT FROM x.a->'comment' THEN
				object_type := 'attribute'; object_name := k || '.' || (x.a->>'name'); change := 'comment';
				ddl := format('COMMENT ON COLUMN %I.%I IS %s;', k, x.a->>'name', coalesce(quote_literal(x.a->>'comment'), 'NULL'));
				RETURN NEXT;
			END IF;
		END LOOP;
		FOR x IN SELECT key FROM jsonb_each(coalesce(o->'constraints', '{}'))
		         UNION SELECT key FROM jsonb_each(coalesce(o->'constraint_comments', '{}')) ORDER BY 1 LOOP
			CONTINUE WHEN NOT coalesce(o->'constraints', '{}') ? x.key;
			IF (CASE WHEN n->'constraints'->x.key = o->'constraints'->x.key THEN n->'constraint_comments'->x.key END)
					IS DISTINCT FROM o->'constraint_comments'->x.key THEN
				object_type := 'constraint'; object_name := k || '.' || x.key; change := 'comment';
				ddl := format('COMMENT ON CONSTRAINT %I ON DOMAIN %I IS %s;', x.key, k,
					coalesce(quote_literal(o->'constraint_comments'->>x.key), 'NULL'));
				RETURN NEXT;
			END IF;
		END LOOP;
	END LOOP;
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(t->'views', '{}')) ORDER BY key LOOP
		n := CASE WHEN k = ANY (rebuild) THEN NULL ELSE f->'views'->k END;
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'column_comments', '{}')) ORDER BY key LOOP
			IF n->'column_comments'->x.key IS DISTINCT FROM x.value THEN
				object_type := 'column'; object_name := k || '.' || x.key; change := 'comment';
				ddl := format('COMMENT ON COLUMN %I.%I IS %L;', k, x.key, x.value #>> '{}');
				RETURN NEXT;
			END IF;
		END LOOP;
		FOR x IN SELECT key FROM jsonb_each(coalesce(n->'column_comments', '{}'))
		         WHERE NOT coalesce(o->'column_comments', '{}') ? key ORDER BY key LOOP
			object_type := 'column'; object_name := k || '.' || x.key; change := 'comment';
			ddl := format('COMMENT ON COLUMN %I.%I IS NULL;', k, x.key);
			RETURN NEXT;
		END LOOP;
		FOR x IN SELECT key, value FROM jsonb_each(coalesce(o->'indexes', '{}')) ORDER BY key LOOP
			IF (CASE WHEN n->'indexes'->x.key->'definition' = x.value->'definition' THEN n->'indexes'->x.key->'comment' END)
					IS DISTINCT FROM x.value->'comment' THEN
				object_type := 'index'; object_name := x.key; change := 'comment';
				ddl := format('COMMENT ON INDEX %I IS %s;', x.key, coalesce(quote_literal(x.value->>'comment'), 'NULL'));
				RETURN NEXT;
			END IF;
		END LOOP;
	END LOOP;

	/* ------------------------------------------------ late drops (59-62) */
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(f->'sequences', '{}')) ORDER BY key LOOP
		CONTINUE WHEN t->'sequences'->k IS NOT NULL;
		phase := 59; object_type := 'sequence'; object_name := k; change := 'drop';
		-- a sequence owned by a column that went has gone with it
		ddl := format('DROP SEQUENCE %s%I;', CASE WHEN o ? 'owned_by' THEN 'IF EXISTS ' ELSE '' END, k);
		RETURN NEXT;
	END LOOP;
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(f->'types', '{}'))
	            ORDER BY CASE value->>'kind' WHEN 'composite' THEN 0 WHEN 'domain' THEN 1 ELSE 2 END, key LOOP
		CONTINUE WHEN t->'types'->k IS NOT NULL;
		phase := 61; object_type := o->>'kind'; object_name := k; change := 'drop';
		ddl := format('DROP %s %I;', CASE WHEN o->>'kind' = 'domain' THEN 'DOMAIN' ELSE 'TYPE' END, k);
		RETURN NEXT;
	END LOOP;
	FOR k, o IN SELECT key, value FROM jsonb_each(coalesce(f->'collations', '{}')) ORDER BY key LOOP
		CONTINUE WHEN t->'collations'->k IS NOT NULL;
		phase := 62; object_type := 'collation'; object_name := k; change := 'drop';
		ddl := format('DROP COLLATION %I;', k);
		RETURN NEXT;
	END LOOP;
END
$body$;

COMMENT ON FUNCTION datasource.diff_steps(jsonb, jsonb) IS
	'the steps of diff(jsonb, jsonb) with their phase, unordered; diff() orders them';

CREATE FUNCTION datasource.diff(
	from_description jsonb,
	to_description jsonb)
RETURNS TABLE (object_type text, object_name text, change text, ddl text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT s.object_type, s.object_name, s.change, s.ddl
	FROM datasource.diff_steps(from_description, to_description) WITH ORDINALITY AS s
	ORDER BY s.phase, s.ordinality
$$;

COMMENT ON FUNCTION datasource.diff(jsonb, jsonb) IS
	'the DDL that turns the schema described by from_description into the one described by to_description, in order';

CREATE FUNCTION datasource.diff(
	from_database text,
	to_database text)
RETURNS TABLE (object_type text, object_name text, change text, ddl text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF from_database IS NULL OR to_database IS NULL THEN
		RAISE EXCEPTION 'argument "%" must not be null',
			CASE WHEN from_database IS NULL THEN 'from_database' ELSE 'to_database' END
			USING ERRCODE = '22004';
	END IF;
	RETURN QUERY SELECT * FROM datasource.diff(datasource.describe(from_database),
	                                           datasource.describe(to_database));
END
$$;

COMMENT ON FUNCTION datasource.diff(text, text) IS
	'the DDL that turns logical database from_database''s schema into to_database''s, in order';

/*
 * What changed in a logical database since its last migration: the diff
 * from the schema recorded after it to the live one, and the DDL journal's
 * entries since then that no migration ran.
 */
CREATE FUNCTION datasource.drift(
	database text)
RETURNS TABLE (source text, object_type text, object_name text, change text,
			   detail text, logged_at timestamptz)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	is_mysql boolean;
	last record;
	live jsonb;
	recorded jsonb;
BEGIN
	IF database IS NULL THEN
		RAISE EXCEPTION 'argument "database" must not be null' USING ERRCODE = '22004';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM datasource.databases d WHERE d.name = drift.database) THEN
		RAISE EXCEPTION 'logical database "%" does not exist', database USING ERRCODE = '42704';
	END IF;
	/* a MySQL logical database: what MySQL has that its foreign tables do not show */
	is_mysql := EXISTS (SELECT 1 FROM datasource.databases d
	                    WHERE d.name = drift.database AND d.local_schema IS NOT NULL);
	IF is_mysql THEN
		RETURN QUERY SELECT 'mysql'::text, r.object_type, r.object_name, r.change, r.detail, NULL::timestamptz
		             FROM datasource.refresh_database(database, dry_run => true) r;
	END IF;
	SELECT m.id, m.version, m.finished_at, m.schema_fingerprint INTO last
	FROM datasource.migrations m
	WHERE m.database = drift.database AND m.status IN ('applied', 'baseline')
	ORDER BY m.id DESC LIMIT 1;
	IF NOT FOUND AND is_mysql THEN
		RETURN;
	ELSIF NOT FOUND THEN
		/* said in a row, so that drift() over every logical database goes on */
		RETURN QUERY SELECT 'journal'::text, 'logical database'::text, database, 'never migrated'::text,
		                    'no applied migration or baseline: drift() has no schema to compare with; datasource.baseline() records one'::text,
		                    NULL::timestamptz;
		RETURN;
	END IF;

	IF last.schema_fingerprint IS NULL THEN
		RAISE WARNING 'no schema was recorded after migration "%" of logical database "%"', last.version, database
			USING HINT = 'It ran with datasource.migration_snapshot off; only the DDL journal is compared.';
	ELSE
		SELECT s.description INTO recorded FROM datasource.schema_snapshots s
		WHERE s.fingerprint = last.schema_fingerprint;
		live := datasource.describe(database);
		IF recorded IS NULL THEN
			RAISE WARNING 'the schema recorded after migration "%" of logical database "%" is missing from datasource.schema_snapshots',
				last.version, database;
		ELSIF datasource.fingerprint(live) <> last.schema_fingerprint THEN
			RETURN QUERY SELECT 'schema'::text, d.object_type, d.object_name, d.change, d.ddl, NULL::timestamptz
			             FROM datasource.diff(recorded, live) d;
		END IF;
	END IF;

	RETURN QUERY SELECT 'ddl_log'::text, l.object_type, l.object_identity, l.command_tag, l.statement, l.logged_at
	             FROM datasource.ddl_log l
	             WHERE l.database = drift.database AND l.migration_version IS NULL
	               AND l.logged_at > last.finished_at
	             ORDER BY l.id;
END
$$;

COMMENT ON FUNCTION datasource.drift(text) IS
	'what changed in a logical database since its last migration: schema differences and out-of-band DDL';

CREATE FUNCTION datasource.refresh_database(
	name text,
	dry_run boolean DEFAULT false)
RETURNS TABLE (change text, object_type text, object_name text, detail text)
AS 'MODULE_PATHNAME', 'pgds_refresh_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.refresh_database(text, boolean) IS
	'imports the tables of a MySQL logical database again: the foreign tables follow MySQL, and each table or column added, dropped, retyped, altered or skipped is a row (dry_run: only the rows)';

/* ---------------------------------------------------------------- the fleet */

/*
 * The progress of the migrate_all calls running in the cluster, from the
 * shared memory progress.c keeps when the library is in
 * shared_preload_libraries (55000 otherwise).  Like pg_stat_activity, every
 * role sees every row; version and current_database only of its own roles'
 * calls, or of all with pg_read_all_stats.
 */
CREATE FUNCTION datasource.migration_progress_rows()
RETURNS TABLE (pid int, datname text, role text, version text,
			   started_at timestamptz, total int, done int, applied int,
			   failed int, current_database text)
AS 'MODULE_PATHNAME', 'pgds_migration_progress'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION datasource.migration_progress_rows() IS
	'the slots of the running migrate_all calls (what datasource.migration_progress shows)';

CREATE VIEW datasource.migration_progress AS
	SELECT p.pid, p.datname, p.role, p.version, p.started_at, p.total, p.done,
		   p.applied, p.failed, p.current_database,
		   pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) p.started_at AS elapsed
	FROM datasource.migration_progress_rows() p;

COMMENT ON VIEW datasource.migration_progress IS
	'one row per running migrate_all of the cluster: how many logical databases of how many, and which one now (needs shared_preload_libraries)';

/* ---------------------------------------------------------------- statistics */

/*
 * Statistics of routed calls per logical database, from the shared memory
 * stats.c keeps when the library is in shared_preload_libraries (55000
 * otherwise).  Exact and never evicted; past
 * datasource.stats_max_databases logical databases, further ones are
 * counted together in a row whose database is NULL.
 */
CREATE FUNCTION datasource.database_stats_rows()
RETURNS TABLE (database text, calls bigint, errors bigint, rows bigint,
			   total_time_ms float8, min_time_ms float8, max_time_ms float8,
			   mean_time_ms float8, stddev_time_ms float8, p50_ms float8,
			   p95_ms float8, p99_ms float8, validate_time_ms float8,
			   connect_time_ms float8, remote_time_ms float8,
			   transfer_time_ms float8, local_time_ms float8,
			   statement_cache_hits bigint, remote_prepared_hits bigint,
			   errors_by_class jsonb, histogram bigint[],
			   migrations_applied bigint, migrations_failed bigint,
			   migration_time_ms float8, stats_since timestamptz)
AS 'MODULE_PATHNAME', 'pgds_database_stats'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION datasource.database_stats_rows() IS
	'the statistics of routed calls per logical database of this database (what datasource.database_stats shows)';

CREATE VIEW datasource.database_stats AS
	SELECT s.database, s.calls, s.errors, s.rows, s.total_time_ms,
		   s.min_time_ms, s.max_time_ms, s.mean_time_ms, s.stddev_time_ms,
		   s.p50_ms, s.p95_ms, s.p99_ms, s.validate_time_ms, s.connect_time_ms,
		   s.remote_time_ms, s.transfer_time_ms, s.local_time_ms,
		   s.statement_cache_hits, s.remote_prepared_hits, s.errors_by_class,
		   s.histogram, s.migrations_applied, s.migrations_failed,
		   s.migration_time_ms, s.stats_since
	FROM datasource.database_stats_rows() s;

COMMENT ON VIEW datasource.database_stats IS
	'one row per logical database that routed calls or migrations went to: calls, errors by SQLSTATE class, rows, times and their split, percentiles, cache hits, migrations applied and failed (needs shared_preload_libraries)';

CREATE FUNCTION datasource.reset_database_stats(database text DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'pgds_reset_database_stats'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.reset_database_stats(text) IS
	'removes the statistics of one logical database (with its statements), or of all (NULL); returns how many rows went';

/*
 * Statistics of each datasource of this database: its connections (made,
 * made again, failed by reason), remote transactions and their outcomes,
 * health checks.  Same rules as database_stats.
 */
CREATE FUNCTION datasource.source_stats_rows()
RETURNS TABLE (datasource text, connects bigint, reconnects bigint,
			   connect_failures bigint, failures_by_reason jsonb,
			   remote_transactions bigint, commits bigint, rollbacks bigint,
			   in_doubt bigint, health_checks bigint, health_failures bigint,
			   health_mean_ms float8, health_max_ms float8,
			   health_last_ms float8, health_last_at timestamptz,
			   stats_since timestamptz)
AS 'MODULE_PATHNAME', 'pgds_source_stats'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION datasource.source_stats_rows() IS
	'the statistics of the datasources of this database (what datasource.source_stats shows)';

CREATE VIEW datasource.source_stats AS
	SELECT s.datasource, s.connects, s.reconnects, s.connect_failures,
		   s.failures_by_reason, s.remote_transactions, s.commits, s.rollbacks,
		   s.in_doubt, s.health_checks, s.health_failures, s.health_mean_ms,
		   s.health_max_ms, s.health_last_ms, s.health_last_at, s.stats_since
	FROM datasource.source_stats_rows() s;

COMMENT ON VIEW datasource.source_stats IS
	'one row per remote datasource: connections made and failed by reason, remote transactions, commits, rollbacks, in-doubt outcomes, health checks (needs shared_preload_libraries)';

CREATE FUNCTION datasource.reset_source_stats(source text DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'pgds_reset_source_stats'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.reset_source_stats(text) IS
	'removes the statistics of one datasource, or of all (NULL); returns how many rows went';

/*
 * Statistics of the statements routed to each logical database of this
 * database, known by a fingerprint of their text before rewriting (the
 * same in every tenant; constants, whitespace and comments aside).
 * Bounded: datasource.stats_max_statements in all,
 * datasource.stats_statements_per_database per logical database.
 */
CREATE FUNCTION datasource.statement_stats_rows()
RETURNS TABLE (database text, fingerprint bigint, query text, calls bigint,
			   errors bigint, rows bigint, total_time_ms float8,
			   min_time_ms float8, max_time_ms float8, mean_time_ms float8,
			   stddev_time_ms float8, stats_since timestamptz)
AS 'MODULE_PATHNAME', 'pgds_statement_stats'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

COMMENT ON FUNCTION datasource.statement_stats_rows() IS
	'the statistics of routed statements per logical database of this database (what datasource.statement_stats shows)';

CREATE VIEW datasource.statement_stats AS
	SELECT s.database, s.fingerprint, s.query, s.calls, s.errors, s.rows,
		   s.total_time_ms, s.min_time_ms, s.max_time_ms, s.mean_time_ms,
		   s.stddev_time_ms, s.stats_since
	FROM datasource.statement_stats_rows() s;

COMMENT ON VIEW datasource.statement_stats IS
	'one row per statement kept for a logical database: calls, errors, rows, times; the same statement has the same fingerprint in every tenant (needs shared_preload_libraries)';

/*
 * The fleet, one row per mapped logical database, from the journal: the
 * highest applied version (C order of names), counts of applied and
 * failed versions, what a manifest still lacks, drift, and whether a
 * migrate_all is at it now.  A dropped logical database is not in it (its
 * journal rows stay in datasource.migrations).
 */
CREATE FUNCTION datasource.fleet_status(
	manifest jsonb DEFAULT NULL,
	with_drift boolean DEFAULT false)
RETURNS TABLE (database text, source text, schema_name text,
			   last_version text, last_applied_at timestamptz, applied int,
			   failed int, last_error text, pending int, drift text,
			   migrating boolean)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	busy text[];
	r record;
BEGIN
	/* where the migrate_all calls of this database are now; NULL: unknown */
	BEGIN
		SELECT coalesce(array_agg(p.current_database), '{}') INTO busy
		FROM datasource.migration_progress p
		WHERE p.datname = pg_catalog.current_database()
		  AND p.current_database IS NOT NULL;
	EXCEPTION WHEN object_not_in_prerequisite_state THEN
		busy := NULL;
	END;

	FOR r IN
		WITH v AS (
			/* per version: applied?  and its last attempt */
			SELECT m.database, m.version,
				   bool_or(m.status IN ('applied', 'baseline', 'adopted')) AS ok,
				   max(m.finished_at) FILTER (WHERE m.status IN ('applied', 'baseline', 'adopted')) AS applied_at,
				   (array_agg(m.status ORDER BY m.id DESC))[1] AS last_status,
				   (array_agg(m.error ORDER BY m.id DESC))[1] AS last_error,
				   max(m.id) AS last_id
			FROM datasource.migrations m
			GROUP BY m.database, m.version),
		j AS (
			SELECT v.database,
				   max(v.version COLLATE "C") FILTER (WHERE v.ok) AS last_version,
				   max(v.applied_at) AS last_applied_at,
				   count(*) FILTER (WHERE v.ok) AS applied,
				   count(*) FILTER (WHERE NOT v.ok AND v.last_status = 'failed') AS failed,
				   (array_agg(v.last_error ORDER BY v.last_id DESC)
					  FILTER (WHERE NOT v.ok AND v.last_status = 'failed'))[1] AS last_error
			FROM v GROUP BY v.database)
		SELECT d.name, d.source, d.schema_name, j.last_version, j.last_applied_at,
			   coalesce(j.applied, 0)::int AS applied, coalesce(j.failed, 0)::int AS failed,
			   j.last_error
		FROM datasource.databases d LEFT JOIN j ON j.database = d.name
		ORDER BY d.name COLLATE "C"
	LOOP
		database := r.name;
		source := r.source;
		schema_name := r.schema_name;
		last_version := r.last_version;
		last_applied_at := r.last_applied_at;
		applied := r.applied;
		failed := r.failed;
		last_error := r.last_error;
		pending := NULL;
		IF manifest IS NOT NULL THEN
			SELECT count(*) INTO pending FROM datasource.pending(r.name, manifest) p
			WHERE p.state = 'missing';
		END IF;
		drift := NULL;
		IF with_drift THEN
			BEGIN
				SELECT CASE WHEN count(*) = 0 THEN 'none'
							WHEN bool_or(x.source = 'journal' AND x.change = 'never migrated') THEN 'never migrated'
							ELSE 'changed' END
				INTO drift FROM datasource.drift(r.name) x;
			EXCEPTION WHEN OTHERS THEN
				/* an unreachable datasource: said in the row, the others go on */
				drift := 'error: ' || SQLERRM;
			END;
		END IF;
		migrating := r.name = ANY (busy);
		RETURN NEXT;
	END LOOP;
END
$$;

COMMENT ON FUNCTION datasource.fleet_status(jsonb, boolean) IS
	'one row per logical database: last applied version, applied and failed counts, last error, pending versions of a manifest, drift, whether a migrate_all is at it';

CREATE VIEW datasource.fleet AS
	SELECT f.database, f.source, f.schema_name, f.last_version, f.last_applied_at,
		   f.applied, f.failed, f.last_error, f.pending, f.drift, f.migrating
	FROM datasource.fleet_status() f;

COMMENT ON VIEW datasource.fleet IS
	'fleet_status() without a manifest or drift: per logical database, the last applied version, failures, whether a migrate_all is at it';

/* ---------------------------------------------------------------- sandboxes */

/*
 * A sandbox is a property of a role: the logical databases every statement
 * of its sessions (and of its members' sessions) may touch, and whether
 * only to read.  The library reads this table directly, so no privilege on
 * it is needed to be bound by it, and a session cannot change it.
 */
CREATE TABLE datasource.sandboxes (
	role		regrole PRIMARY KEY,
	databases	text[] NOT NULL
				CHECK (pg_catalog.array_position(databases, NULL) IS NULL),
	read_only	boolean NOT NULL DEFAULT true,
	description text,
	created_at	timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by	text NOT NULL DEFAULT CURRENT_USER
);

COMMENT ON TABLE datasource.sandboxes IS
	'one row per sandboxed role: the logical databases its sessions may touch, and whether only to read';

SELECT pg_catalog.pg_extension_config_dump('datasource.sandboxes', '');

CREATE TRIGGER registry_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON datasource.sandboxes
	FOR EACH STATEMENT EXECUTE FUNCTION datasource.registry_changed();

CREATE VIEW datasource.sandbox_info AS
SELECT s.role::text AS role,
	   s.databases,
	   s.read_only,
	   (SELECT pg_catalog.string_agg(pg_catalog.split_part(c, '=', 2), ', ') COLLATE "default"
		  FROM pg_catalog.pg_db_role_setting rs, pg_catalog.unnest(rs.setconfig) c
		 WHERE rs.setrole OPERATOR(pg_catalog.=) s.role::oid
		   AND rs.setdatabase OPERATOR(pg_catalog.=) 0
		   AND c LIKE 'datasource.enforce=%') AS enforce,
	   ('pg_datasource' OPERATOR(pg_catalog.=) ANY (pg_catalog.string_to_array(
			pg_catalog.replace(pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ','))
		OR EXISTS (SELECT FROM pg_catalog.pg_db_role_setting rs, pg_catalog.unnest(rs.setconfig) c
					WHERE rs.setrole OPERATOR(pg_catalog.=) s.role::oid
					  AND rs.setdatabase OPERATOR(pg_catalog.=) 0
					  AND c LIKE 'session\_preload\_libraries=%pg\_datasource%')) AS library_loaded,
	   s.description
  FROM datasource.sandboxes s;

COMMENT ON VIEW datasource.sandbox_info IS
	'sandboxed roles with the datasource.enforce stored for them and whether the library loads in their sessions';

CREATE FUNCTION datasource.set_sandbox(
	role regrole,
	databases text[],
	read_only boolean DEFAULT true,
	description text DEFAULT NULL)
RETURNS datasource.sandboxes
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	missing text;
	result datasource.sandboxes;
	preload text;
BEGIN
	IF role IS NULL OR databases IS NULL OR read_only IS NULL THEN
		RAISE EXCEPTION 'argument "%" must not be null',
			CASE WHEN role IS NULL THEN 'role' WHEN databases IS NULL THEN 'databases'
				 ELSE 'read_only' END
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF array_position(databases, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'argument "databases" must not contain nulls'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = role) THEN
		RAISE EXCEPTION 'role "%" is a superuser and cannot be sandboxed', role
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Sandbox a role without SUPERUSER.';
	END IF;
	SELECT d.name INTO missing FROM unnest(databases) d(name)
	 WHERE NOT EXISTS (SELECT FROM datasource.databases x WHERE x.name = d.name) LIMIT 1;
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'logical database "%" does not exist', missing
			USING ERRCODE = 'undefined_object';
	END IF;

	INSERT INTO datasource.sandboxes AS s (role, databases, read_only, description)
		VALUES (role, coalesce((SELECT array_agg(DISTINCT d ORDER BY d) FROM unnest(databases) d),
							   '{}'),
				read_only, description)
		ON CONFLICT ON CONSTRAINT sandboxes_pkey DO UPDATE
		SET databases = excluded.databases, read_only = excluded.read_only,
			description = excluded.description
		RETURNING s.* INTO result;

	/* in every database of the cluster: enforced, and the library loaded */
	EXECUTE format('ALTER ROLE %s SET datasource.enforce = %L', role, 'error');
	IF NOT 'pg_datasource' = ANY (string_to_array(
			replace(current_setting('shared_preload_libraries'), ' ', ''), ',')) THEN
		SELECT split_part(c, '=', 2) INTO preload
		  FROM pg_db_role_setting rs, unnest(rs.setconfig) c
		 WHERE rs.setrole = role AND rs.setdatabase = 0
		   AND c LIKE 'session\_preload\_libraries=%';
		IF preload IS NULL THEN
			EXECUTE format('ALTER ROLE %s SET session_preload_libraries = %L', role, 'pg_datasource');
		ELSIF preload NOT LIKE '%pg\_datasource%' THEN
			RAISE WARNING 'the library is not loaded in the sessions of role %', role
				USING DETAIL = format('Its session_preload_libraries is %s.', preload),
					  HINT = 'Add pg_datasource to it, or to shared_preload_libraries.';
		END IF;
	END IF;
	RETURN result;
END
$$;

COMMENT ON FUNCTION datasource.set_sandbox(regrole, text[], boolean, text) IS
	'sandboxes a role: its sessions may touch only the given logical databases (only read them, by default)';

CREATE FUNCTION datasource.drop_sandbox(role regrole)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF role IS NULL THEN
		RAISE EXCEPTION 'argument "role" must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	DELETE FROM datasource.sandboxes s WHERE s.role = drop_sandbox.role;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	EXECUTE format('ALTER ROLE %s RESET datasource.enforce', role);
	RETURN true;
END
$$;

COMMENT ON FUNCTION datasource.drop_sandbox(regrole) IS
	'removes the sandbox of a role (and the datasource.enforce stored for it); false when it had none';

CREATE FUNCTION datasource.session_sandbox(
	OUT sandboxed boolean,
	OUT enforce text,
	OUT databases text[],
	OUT read_only boolean,
	OUT fail_closed text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgds_session_sandbox'
LANGUAGE C STABLE PARALLEL RESTRICTED;

COMMENT ON FUNCTION datasource.session_sandbox() IS
	'the sandbox of the calling session: whether it is gated, the effective enforce level, the logical databases it may touch (NULL: all), read-only, and why everything is refused (NULL: it is not)';

/* ---------------------------------------------------------------- privileges */

/*
 * Nothing in the schema is PUBLIC's but what is granted below; this is the
 * list the README's security model gives.  Every other function needs an
 * explicit GRANT EXECUTE, and the journals and snapshots (which hold
 * scripts and statements) an explicit GRANT SELECT.
 */
REVOKE ALL ON ALL TABLES IN SCHEMA datasource FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA datasource FROM PUBLIC;
REVOKE ALL ON ALL ROUTINES IN SCHEMA datasource FROM PUBLIC;

GRANT USAGE ON SCHEMA datasource TO PUBLIC;

/* everyone may read the registry */
GRANT SELECT ON datasource.sources, datasource.databases,
	datasource.source_info, datasource.database_info TO PUBLIC;
GRANT EXECUTE ON FUNCTION datasource.validate_databases(text[]) TO PUBLIC;

/* a session may see its own sandbox */
GRANT EXECUTE ON FUNCTION datasource.session_sandbox() TO PUBLIC;

/* validation, and routing: the statements run as the calling role */
GRANT EXECUTE ON FUNCTION
	datasource.validate(text, text, boolean),
	datasource.query(text, text, text[]),
	datasource.query_json(text, text, text[]),
	datasource.execute(text, text, int, boolean),
	datasource.exec(text, text) TO PUBLIC;

/* this backend's own remote connections */
GRANT EXECUTE ON FUNCTION
	datasource.health_check(text),
	datasource.connections(),
	datasource.disconnect(text) TO PUBLIC;

/*
 * introspection: the catalogs are read as the calling role (remotely through
 * its user mapping), and the diff of two descriptions is pure computation
 */
GRANT EXECUTE ON FUNCTION
	datasource.describe(text),
	datasource.fingerprint(text),
	datasource.fingerprint(jsonb),
	datasource.json_schema(text, text),
	datasource.diff(text, text),
	datasource.diff(jsonb, jsonb),
	datasource.diff_steps(jsonb, jsonb),
	datasource.diff_depths(jsonb, text),
	datasource.diff_column(jsonb) TO PUBLIC;

/*
 * the progress of running migrations, as pg_stat_activity shows sessions:
 * every row to everyone, the version and the logical database only to the
 * same role or pg_read_all_stats (the fleet view reads the journal and is
 * not PUBLIC's)
 */
GRANT SELECT ON datasource.migration_progress TO PUBLIC;
GRANT EXECUTE ON FUNCTION datasource.migration_progress_rows() TO PUBLIC;

/*
 * the statistics of routed calls, as pg_stat_database: to everyone (they
 * name logical databases, which the registry shows anyway); resetting them
 * is the superuser's
 */
GRANT SELECT ON datasource.database_stats, datasource.source_stats,
	datasource.statement_stats TO PUBLIC;
GRANT EXECUTE ON FUNCTION datasource.database_stats_rows(),
	datasource.source_stats_rows(), datasource.statement_stats_rows() TO PUBLIC;
