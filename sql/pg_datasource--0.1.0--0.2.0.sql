/* pg_datasource 0.1.0 -> 0.2.0 */

\echo Use "ALTER EXTENSION pg_datasource UPDATE TO '0.2.0'" to load this file. \quit

/*
 * 0.2.0 names every C entry point with the pgds_ prefix (a backend shares one
 * symbol namespace among all loaded libraries); point each C function at its
 * new symbol.  CREATE OR REPLACE keeps the functions' privileges and comments.
 */

CREATE OR REPLACE FUNCTION datasource.create_source(
	name text,
	server text DEFAULT NULL,
	read_only boolean DEFAULT false,
	description text DEFAULT NULL)
RETURNS datasource.sources
AS 'MODULE_PATHNAME', 'pgds_create_source'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.alter_source(
	name text,
	server text DEFAULT NULL,
	read_only boolean DEFAULT NULL,
	enabled boolean DEFAULT NULL,
	description text DEFAULT NULL)
RETURNS datasource.sources
AS 'MODULE_PATHNAME', 'pgds_alter_source'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.drop_source(
	name text,
	cascade boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'pgds_drop_source'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.create_database(
	name text,
	source text DEFAULT 'local',
	schema_name text DEFAULT NULL,
	create_schema boolean DEFAULT true,
	read_only boolean DEFAULT false,
	description text DEFAULT NULL)
RETURNS datasource.databases
AS 'MODULE_PATHNAME', 'pgds_create_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.alter_database(
	name text,
	source text DEFAULT NULL,
	schema_name text DEFAULT NULL,
	read_only boolean DEFAULT NULL,
	description text DEFAULT NULL)
RETURNS datasource.databases
AS 'MODULE_PATHNAME', 'pgds_alter_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.rename_database(
	name text,
	new_name text)
RETURNS datasource.databases
AS 'MODULE_PATHNAME', 'pgds_rename_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.drop_database(
	name text,
	drop_schema boolean DEFAULT false)
RETURNS void
AS 'MODULE_PATHNAME', 'pgds_drop_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.validate_databases(
	names text[],
	OUT valid boolean,
	OUT datasource text,
	OUT error text)
RETURNS record
AS 'MODULE_PATHNAME', 'pgds_validate_databases'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION datasource.export_config()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgds_export_config'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION datasource.apply_config(
	config jsonb,
	dry_run boolean DEFAULT false)
RETURNS TABLE (action text, object text, detail text)
AS 'MODULE_PATHNAME', 'pgds_apply_config'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.registry_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pgds_registry_changed'
LANGUAGE C;

CREATE OR REPLACE FUNCTION datasource.validate(
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

CREATE OR REPLACE FUNCTION datasource.query(database text, query text, params text[] DEFAULT NULL)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgds_query'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.query_json(database text, query text, params text[] DEFAULT NULL)
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME', 'pgds_query_json'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.execute(database text, query text, max_rows int DEFAULT 1000,
                                   read_only boolean DEFAULT true)
RETURNS datasource.query_result
AS 'MODULE_PATHNAME', 'pgds_execute'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.exec(database text, command text)
RETURNS text
AS 'MODULE_PATHNAME', 'pgds_exec'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.health_check(source text DEFAULT NULL)
RETURNS TABLE (datasource text, healthy boolean, latency_ms float8,
               server_version text, in_recovery boolean, error text)
AS 'MODULE_PATHNAME', 'pgds_health_check'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.connections()
RETURNS TABLE (datasource text, server text, role text, remote_pid int,
               transaction_depth int, state text, connected_at timestamptz,
               calls bigint)
AS 'MODULE_PATHNAME', 'pgds_connections'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.disconnect(source text DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'pgds_disconnect'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.migrate(database text, version text, script text,
	description text DEFAULT NULL, script_schema text DEFAULT NULL)
RETURNS datasource.migration_result
AS 'MODULE_PATHNAME', 'pgds_migrate'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.migrate_all(version text, script text,
	databases text[] DEFAULT NULL, description text DEFAULT NULL,
	script_schema text DEFAULT NULL)
RETURNS SETOF datasource.migration_result
AS 'MODULE_PATHNAME', 'pgds_migrate_all'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.baseline(database text, version text,
	description text DEFAULT NULL)
RETURNS datasource.migration_result
AS 'MODULE_PATHNAME', 'pgds_baseline'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.accept_checksum(database text, version text, checksum text)
RETURNS datasource.migration_result
AS 'MODULE_PATHNAME', 'pgds_accept_checksum'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.pending(database text, manifest jsonb)
RETURNS TABLE (version text, state text)
AS 'MODULE_PATHNAME', 'pgds_pending'
LANGUAGE C STABLE;

CREATE OR REPLACE FUNCTION datasource.adopt_drizzle(database text,
	migrations_table text DEFAULT 'drizzle.__drizzle_migrations')
RETURNS TABLE (hash text, created_at bigint, state text)
AS 'MODULE_PATHNAME', 'pgds_adopt_drizzle'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.log_ddl()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'pgds_log_ddl'
LANGUAGE C;

CREATE OR REPLACE FUNCTION datasource.describe(database text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgds_describe'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.fingerprint(database text)
RETURNS text
AS 'MODULE_PATHNAME', 'pgds_fingerprint'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.json_schema(database text, relation text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgds_json_schema'
LANGUAGE C VOLATILE;

CREATE OR REPLACE FUNCTION datasource.fingerprint(description jsonb)
RETURNS text
AS 'MODULE_PATHNAME', 'pgds_fingerprint_of'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

/* new in 0.2.0: the statement cache made observable */
CREATE FUNCTION datasource.statement_cache(OUT entries bigint, OUT memory_bytes bigint,
                                           OUT hits bigint, OUT misses bigint,
                                           OUT resets bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pgds_statement_cache'
LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL RESTRICTED;
COMMENT ON FUNCTION datasource.statement_cache() IS
    'This backend''s cache of routed statements: entries, memory, and lookups served (hits) and not (misses), and times emptied (resets)';
REVOKE ALL ON FUNCTION datasource.statement_cache() FROM PUBLIC;
