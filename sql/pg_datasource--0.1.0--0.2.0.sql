/* pg_datasource 0.1.0 -> 0.2.0 */

\echo Use "ALTER EXTENSION pg_datasource UPDATE TO '0.2.0'" to load this file. \quit

/*
 * Brings a 0.1.0 install to exactly what pg_datasource--0.2.0.sql installs:
 * the same objects, labels, comments and privileges (test/multi/upgrade.sh
 * compares the two).  The registry, the journals and the schema snapshots
 * are left as they are.
 *
 * What changes:
 *   - every C entry point has the pgds_ prefix (a backend shares one symbol
 *     namespace among all loaded libraries): each C function is pointed at
 *     its new symbol;
 *   - every function states its PARALLEL label: connections() is
 *     RESTRICTED (it reads this backend's state), pending() SAFE (it only
 *     reads the journal), the others keep what they had;
 *   - comments start in lower case throughout; the two result types have
 *     one;
 *   - diff_depths() ends on a dependency cycle and on deep or densely
 *     layered sections (diff() used to run until temp space or a timeout).
 * CREATE OR REPLACE keeps a function's privileges and comment and
 * everything that depends on it (triggers, event triggers, the wrapper's
 * validator).
 *
 * No GRANT or REVOKE touches an object that 0.1.0 installed: their
 * privileges do not change, and inside an extension script GRANT and
 * REVOKE record the object's whole ACL, grants made since the install
 * included, as the extension's initial privileges, which pg_dump leaves
 * out: an administrator's grants would vanish from dumps.  An object that
 * 0.2.0 adds is created here with the privileges the install script's last
 * section gives it (a REVOKE from PUBLIC, and a GRANT if it is on the
 * public list).
 *
 * log_ddl comes first: the DDL journal's event triggers fire on each
 * command below and must find their function in the new library.
 */

/* ---------------------------------------------------------------- C functions */

CREATE OR REPLACE FUNCTION datasource.log_ddl()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'pgds_log_ddl'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

/*
 * A logical database of a MySQL datasource (a foreign server of mysql_fdw)
 * maps to a MySQL database (schema_name) and keeps its foreign tables in a
 * local schema of its own (local_schema); NULL for PostgreSQL ones.
 */
ALTER TABLE datasource.databases ADD COLUMN local_schema text UNIQUE
	CHECK (pg_catalog.octet_length(local_schema) OPERATOR(pg_catalog.<=) 63);

/* the registry views show the engine and a logical database's capabilities */
CREATE OR REPLACE VIEW datasource.source_info AS
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

CREATE OR REPLACE VIEW datasource.database_info AS
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
LANGUAGE C VOLATILE PARALLEL UNSAFE;

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

CREATE OR REPLACE FUNCTION datasource.query(
	database text,
	query text,
	params text[] DEFAULT NULL)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pgds_query'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.query_json(
	database text,
	query text,
	params text[] DEFAULT NULL)
RETURNS SETOF jsonb
AS 'MODULE_PATHNAME', 'pgds_query_json'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.execute(
	database text,
	query text,
	max_rows int DEFAULT 1000,
	read_only boolean DEFAULT true)
RETURNS datasource.query_result
AS 'MODULE_PATHNAME', 'pgds_execute'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.exec(
	database text,
	command text)
RETURNS text
AS 'MODULE_PATHNAME', 'pgds_exec'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.health_check(
	source text DEFAULT NULL)
RETURNS TABLE (datasource text, healthy boolean, latency_ms float8,
			   server_version text, in_recovery boolean, error text)
AS 'MODULE_PATHNAME', 'pgds_health_check'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.connections()
RETURNS TABLE (datasource text, server text, role text, remote_pid int,
			   transaction_depth int, state text, connected_at timestamptz,
			   calls bigint)
AS 'MODULE_PATHNAME', 'pgds_connections'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;

CREATE OR REPLACE FUNCTION datasource.disconnect(
	source text DEFAULT NULL)
RETURNS int
AS 'MODULE_PATHNAME', 'pgds_disconnect'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.migrate(
	database text,
	version text,
	script text,
	description text DEFAULT NULL,
	script_schema text DEFAULT NULL)
RETURNS datasource.migration_result
AS 'MODULE_PATHNAME', 'pgds_migrate'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

/*
 * migrate_all has six new parameters (dry_run, max_failures,
 * raise_on_failure, out_of_order, canary, manifest): a new function, which gets the
 * privileges of the install script (not PUBLIC's); an administrator's
 * grants on the old one must be made again (README, "Upgrading").
 */
DROP FUNCTION datasource.migrate_all(text, text, text[], text, text);

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

REVOKE ALL ON FUNCTION datasource.migrate_all(text, text, text[], text, text, boolean, int, boolean, boolean, text[], jsonb) FROM PUBLIC;

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

/* new in 0.2.0, not for PUBLIC, like migrate_all */
REVOKE ALL ON PROCEDURE datasource.migrate_waves(text, text, text[], int, text[], text, text, int, boolean, jsonb, int, int, int, int, int, int, int) FROM PUBLIC;

CREATE OR REPLACE FUNCTION datasource.baseline(
	database text,
	version text,
	description text DEFAULT NULL)
RETURNS datasource.migration_result
AS 'MODULE_PATHNAME', 'pgds_baseline'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.accept_checksum(
	database text,
	version text,
	checksum text)
RETURNS datasource.migration_result
AS 'MODULE_PATHNAME', 'pgds_accept_checksum'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.pending(
	database text,
	manifest jsonb)
RETURNS TABLE (version text, state text)
AS 'MODULE_PATHNAME', 'pgds_pending'
LANGUAGE C STABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION datasource.adopt_drizzle(
	database text,
	migrations_table text DEFAULT 'drizzle.__drizzle_migrations')
RETURNS TABLE (hash text, created_at bigint, state text)
AS 'MODULE_PATHNAME', 'pgds_adopt_drizzle'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.describe(
	database text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgds_describe'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.fingerprint(
	database text)
RETURNS text
AS 'MODULE_PATHNAME', 'pgds_fingerprint'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE OR REPLACE FUNCTION datasource.fingerprint(
	description jsonb)
RETURNS text
AS 'MODULE_PATHNAME', 'pgds_fingerprint_of'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE OR REPLACE FUNCTION datasource.json_schema(
	database text,
	relation text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pgds_json_schema'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

/* ---------------------------------------------------------------- diff_depths */

/*
 * diff_depths ends on a cyclic section (0.1.0's recursed until its depth cap,
 * through every path: exponentially many on a cycle of three or on layers of
 * views reading several of the layer below) and measures chains of any
 * length: see the install script.
 */
CREATE OR REPLACE FUNCTION datasource.diff_depths(
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

/* ---------------------------------------------------------------- comments */

COMMENT ON TYPE datasource.query_result IS
	'the outcome of execute(): rows as jsonb, or the error with its SQLSTATE';

COMMENT ON FUNCTION datasource.query(text, text, text[]) IS
	'runs one statement on the datasource of a logical database; rows typed by the column definition list';

COMMENT ON FUNCTION datasource.query_json(text, text, text[]) IS
	'runs one statement on the datasource of a logical database; one jsonb object per row';

COMMENT ON FUNCTION datasource.execute(text, text, int, boolean) IS
	'runs one statement and reports the outcome, errors included, as a query_result';

COMMENT ON FUNCTION datasource.exec(text, text) IS
	'runs one statement on the datasource of a logical database; returns its command status';

COMMENT ON FUNCTION datasource.health_check(text) IS
	'one round trip to each datasource (or the one named): latency, version, recovery state, or the error';

COMMENT ON FUNCTION datasource.connections() IS
	'the remote connections this backend keeps open';

COMMENT ON FUNCTION datasource.disconnect(text) IS
	'closes this backend''s idle connections to a datasource (all when NULL); returns how many';

COMMENT ON TYPE datasource.migration_result IS
	'the outcome of one migration of one logical database: applied, already_applied or failed (migrate_all also: not_attempted; in a dry run: would_apply, already_applied, refused)';

COMMENT ON FUNCTION datasource.migrate(text, text, text, text, text) IS
	'applies a migration script to a logical database once, in a subtransaction, and journals the attempt';

COMMENT ON FUNCTION datasource.migrate_all(text, text, text[], text, text, boolean, int, boolean, boolean, text[], jsonb) IS
	'applies one migration to every writable logical database (or those listed), each in its own subtransaction; dry_run, max_failures, raise_on_failure, out_of_order, canary, manifest';

COMMENT ON PROCEDURE datasource.migrate_waves(text, text, text[], int, text[], text, text, int, boolean, jsonb, int, int, int, int, int, int, int) IS
	'migrate_all in waves, each committed: the canaries first, then wave_size logical databases at a time in name order, each wave shared by parallel background workers; stops after a wave with a failure';

COMMENT ON FUNCTION datasource.baseline(text, text, text) IS
	'records a version as applied without running anything (its schema exists already)';

COMMENT ON FUNCTION datasource.accept_checksum(text, text, text) IS
	'accepts an edited script of an applied version: journals the new checksum next to the old one';

COMMENT ON FUNCTION datasource.pending(text, jsonb) IS
	'compares the versions a deploy expects with the journal: missing, applied, changed, unknown';

COMMENT ON FUNCTION datasource.adopt_drizzle(text, text) IS
	'imports the entries of a drizzle-kit migrations table so that migrate() does not apply them again';

COMMENT ON FUNCTION datasource.describe(text) IS
	'the canonical, schema-relative description of a logical database''s schema, read on its datasource';

COMMENT ON FUNCTION datasource.fingerprint(text) IS
	'the sha256 of describe(database): equal fingerprints mean equal schemas';

COMMENT ON FUNCTION datasource.fingerprint(jsonb) IS
	'the fingerprint of a stored description';

COMMENT ON FUNCTION datasource.json_schema(text, text) IS
	'a JSON Schema (draft 2020-12) of one row of a table or view of a logical database';

COMMENT ON FUNCTION datasource.diff_depths(jsonb, text) IS
	'diff_steps helper: the dependency depth of each object of a description section (the objects of a cycle share one)';

COMMENT ON FUNCTION datasource.diff_steps(jsonb, jsonb) IS
	'the steps of diff(jsonb, jsonb) with their phase, unordered; diff() orders them';

COMMENT ON FUNCTION datasource.diff(jsonb, jsonb) IS
	'the DDL that turns the schema described by from_description into the one described by to_description, in order';

COMMENT ON FUNCTION datasource.diff(text, text) IS
	'the DDL that turns logical database from_database''s schema into to_database''s, in order';

/* 0.2.0: a logical database never migrated is a row of drift(), not an error */
CREATE OR REPLACE FUNCTION datasource.drift(
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

/* new in 0.2.0: the statement cache made observable (not granted to PUBLIC) */
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

REVOKE ALL ON FUNCTION datasource.statement_cache() FROM PUBLIC;

/* new in 0.2.0: the resolver of two-phase commit (not granted to PUBLIC) */
CREATE FUNCTION datasource.resolve_transactions(
	source text DEFAULT NULL)
RETURNS TABLE (datasource text, gid text, local_xid xid8, action text)
AS 'MODULE_PATHNAME', 'pgds_resolve_transactions'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.resolve_transactions(text) IS
	'finishes the transactions two-phase commit left prepared on remote datasources (all, or the one named) as their local transaction ended; one row per prepared transaction found';

REVOKE ALL ON FUNCTION datasource.resolve_transactions(text) FROM PUBLIC;

/* new in 0.2.0: sandboxes, the agent sandbox kept by role */
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

REVOKE ALL ON datasource.sandboxes, datasource.sandbox_info FROM PUBLIC;
REVOKE ALL ON FUNCTION datasource.set_sandbox(regrole, text[], boolean, text),
	datasource.drop_sandbox(regrole), datasource.session_sandbox() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION datasource.session_sandbox() TO PUBLIC;

/*
 * The journal is history: dropping a logical database no longer deletes its
 * journal rows (rename_database carries them itself), and a failed
 * migration keeps its error's DETAIL and HINT, in the journal and in
 * migration_result (whose SQLSTATE the result did not have).
 */
ALTER TABLE datasource.migrations DROP CONSTRAINT migrations_database_fkey;
ALTER TABLE datasource.migrations ADD COLUMN error_detail text,
	ADD COLUMN error_hint text;
COMMENT ON COLUMN datasource.migrations.error_detail IS
	'the DETAIL of the error that failed the migration';
COMMENT ON COLUMN datasource.migrations.error_hint IS
	'the HINT of the error that failed the migration';
ALTER TYPE datasource.migration_result ADD ATTRIBUTE sqlstate text,
	ADD ATTRIBUTE error_detail text, ADD ATTRIBUTE error_hint text;

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

/* as the install script's privileges section sets them */
REVOKE ALL ON datasource.fleet, datasource.migration_progress FROM PUBLIC;
REVOKE ALL ON FUNCTION datasource.fleet_status(jsonb, boolean),
	datasource.migration_progress_rows() FROM PUBLIC;
GRANT SELECT ON datasource.migration_progress TO PUBLIC;
GRANT EXECUTE ON FUNCTION datasource.migration_progress_rows() TO PUBLIC;
REVOKE ALL ON datasource.database_stats, datasource.source_stats,
	datasource.statement_stats FROM PUBLIC;
REVOKE ALL ON FUNCTION datasource.database_stats_rows(),
	datasource.reset_database_stats(text), datasource.source_stats_rows(),
	datasource.reset_source_stats(text), datasource.statement_stats_rows()
	FROM PUBLIC;
GRANT SELECT ON datasource.database_stats, datasource.source_stats,
	datasource.statement_stats TO PUBLIC;
GRANT EXECUTE ON FUNCTION datasource.database_stats_rows(),
	datasource.source_stats_rows(), datasource.statement_stats_rows() TO PUBLIC;

/* 0.2.0: MySQL logical databases */
CREATE FUNCTION datasource.refresh_database(
	name text,
	dry_run boolean DEFAULT false)
RETURNS TABLE (change text, object_type text, object_name text, detail text)
AS 'MODULE_PATHNAME', 'pgds_refresh_database'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

COMMENT ON FUNCTION datasource.refresh_database(text, boolean) IS
	'imports the tables of a MySQL logical database again: the foreign tables follow MySQL, and each table or column added, dropped, retyped, altered or skipped is a row (dry_run: only the rows)';

REVOKE ALL ON FUNCTION datasource.refresh_database(text, boolean) FROM PUBLIC;
