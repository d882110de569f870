#!/usr/bin/env bash
# MySQL datasources in the registry, against a throwaway MariaDB: a foreign
# server of mysql_fdw registers as a datasource (engine mysql); a logical
# database on it maps a MySQL database to a new local schema of foreign
# tables named after it, which SELECT reads; every refused call (unknown
# MySQL database, local schema taken, remapping, switching the server's
# wrapper, drop_schema, migrations) leaves the registry, the local schemas
# and the MySQL server as they were; rename keeps the local schema; drop
# and drop_source cascade drop the local schema and never the MySQL
# database; the views show engine and capabilities; export_config and
# apply_config carry the wrapper and the local schema into a second
# database, where the foreign tables answer the same.
#
# Needs the PGDS_* variables of test/run.sh (the local server), mariadbd and
# mysql_fdw (test/deps.sh); skipped without them.
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"
source "$here/../lib/mariadb.sh"

maria_available || skip_all "mariadbd or mysql_fdw is not installed (test/deps.sh installs them)"

DB=multi_mysql_registry
DB2=multi_mysql_registry2
MDIR="$PGDS_BASE/maria-registry"
MPORT=$(free_port 33310)
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)

cleanup() {
	"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
		-c "DROP DATABASE IF EXISTS $DB2 WITH (FORCE)" >/dev/null 2>&1
	maria_stop "$MDIR"
}
trap cleanup EXIT

maria_start "$MDIR" "$MPORT" || bail_out "MariaDB did not start"
maria_sql "$MDIR" <<'EOF' || bail_out "MariaDB setup failed"
CREATE DATABASE shop;
CREATE TABLE shop.items (id int PRIMARY KEY, name varchar(20));
INSERT INTO shop.items VALUES (1, 'apple'), (2, 'pear');
CREATE TABLE shop.orders (id int PRIMARY KEY, item int);
INSERT INTO shop.orders VALUES (10, 1);
CREATE DATABASE other;
CREATE TABLE other.t (id int PRIMARY KEY);
INSERT INTO other.t VALUES (7);
EOF

# lq [DB] SQL... : run on a local database, stop on error
lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
lq2() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB2" "$@"; }
# sqlstate SQL : the SQLSTATE a statement fails with on $DB, or "ok"
sqlstate() {
	local out
	out=$("${LPSQL[@]}" -d "$DB" -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -c "$1" 2>&1) && { echo ok; return; }
	echo "$out" | grep -oE 'ERROR:  [0-9A-Z]{5}' | head -n 1 | awk '{print $2}'
}
# setup DB : the extensions, a MySQL server and its user mapping
setup() {
	"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null ||
		bail_out "could not create $1"
	"${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$1" -c "CREATE EXTENSION pg_datasource" \
		-c "CREATE EXTENSION mysql_fdw" >/dev/null || bail_out "extensions in $1 failed"
}
setup "$DB"
lq -c "CREATE SERVER my1 FOREIGN DATA WRAPPER mysql_fdw OPTIONS (host '127.0.0.1', port '$MPORT')" \
	-c "CREATE USER MAPPING FOR postgres SERVER my1 OPTIONS (username 'pgds', password 'pgds-secret')" \
	-c "CREATE SERVER my2 FOREIGN DATA WRAPPER mysql_fdw OPTIONS (host '127.0.0.1', port '$MPORT')" \
	-c "CREATE SERVER pgsrv FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1', dbname 'x')" \
	-c "CREATE FOREIGN DATA WRAPPER other_fdw" \
	-c "CREATE SERVER othersrv FOREIGN DATA WRAPPER other_fdw" \
	-c "SELECT datasource.create_database('pgdb', schema_name => 'pgschema', create_schema => true)" \
	>/dev/null || bail_out "local setup failed"

# the registry and the local objects, as one line each
sources() { lq -c "SELECT coalesce(string_agg(format('%s|%s|%s', name, coalesce(server, '-'), read_only), ';' ORDER BY name), '-') FROM datasource.sources"; }
databases() {
	"${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "${1:-$DB}" -c "SELECT coalesce(string_agg(format('%s|%s|%s|%s|%s|%s', name, source, schema_name,
		read_only, coalesce(description, '-'), coalesce(local_schema, '-')), ';' ORDER BY name), '-') FROM datasource.databases"
}
# schemas : which of the schemas a test may create exist locally
schemas() { lq -c "SELECT coalesce(string_agg(nspname, ',' ORDER BY nspname), '-') FROM pg_namespace WHERE nspname IN ('shop', 'other', 'shop_renamed', 'nosuch', 'taken', 'pgschema', 'shop_again', 'o')"; }
# ftables SCHEMA [DB] : the foreign tables of a local schema
ftables() {
	"${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "${2:-$DB}" -c "SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '-') FROM pg_class
		WHERE relnamespace = to_regnamespace('$1') AND relkind = 'f'"
}
journal() { lq -c "SELECT coalesce(string_agg(format('%s:%s:%s', database, version, status), ';' ORDER BY id), '-') FROM datasource.migrations"; }
mysql_tables() { maria_sql "$MDIR" -N -e "SELECT coalesce(group_concat(table_name ORDER BY table_name), '-') FROM information_schema.tables WHERE table_schema = '$1'"; }
mysql_dbs() { maria_sql "$MDIR" -N -e "SELECT group_concat(schema_name ORDER BY schema_name) FROM information_schema.schemata WHERE schema_name IN ('shop', 'other')"; }

# --- datasources
is "$(lq -c "SELECT name, server FROM datasource.create_source('my', 'my1')")" "my|my1" \
	"create_source registers a server of mysql_fdw"
is "$(lq -c "SELECT engine FROM datasource.source_info WHERE name = 'my'")|$(lq -c "SELECT engine FROM datasource.source_info WHERE name = 'local'")" \
	"mysql|postgresql" "source_info: a server of mysql_fdw is a MySQL datasource, local a PostgreSQL one"
before=$(sources)
is "$(sqlstate "SELECT datasource.create_source('oth', 'othersrv')")|$(sources)" "42809|$before" \
	"a server of another wrapper is refused (42809) and registers nothing"

# --- create_database
is "$(lq -c "SELECT name, schema_name, local_schema FROM datasource.create_database('shop', 'my')")" \
	"shop|shop|shop" "create_database maps the MySQL database of the same name, local schema = the name"
is "$(ftables shop)" "items,orders" "the local schema holds a foreign table for each MySQL table"
is "$(lq -c "SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM shop.items")" "1:apple,2:pear" \
	"the foreign tables read the MySQL rows"
is "$(lq -c "SELECT engine, local_schema, read_only, writable, transactional FROM datasource.database_info WHERE name = 'shop'")" \
	"mysql|shop|f|t|f" "database_info: a MySQL logical database is writable and not transactional"
is "$(lq -c "SELECT engine, local_schema, writable, transactional FROM datasource.database_info WHERE name = 'pgdb'")" \
	"postgresql||t|t" "database_info: a local logical database is PostgreSQL, transactional, without local schema"

dbs=$(databases)
sch=$(schemas)
is "$(sqlstate "SELECT datasource.create_database('nosuch', 'my')")|$(databases)|$(schemas)" "3F000|$dbs|$sch" \
	"an unknown MySQL database is refused (3F000): no row, no local schema"
lq -c "CREATE SCHEMA taken" >/dev/null
sch=$(schemas)
is "$(sqlstate "SELECT datasource.create_database('taken', 'my', schema_name => 'other')")|$(databases)|$(schemas)|$(ftables taken)" \
	"42P06|$dbs|$sch|-" "a local schema of the name exists: 42P06, nothing created in it, no row"
is "$(sqlstate "SELECT datasource.create_database('pgschema', 'my', schema_name => 'other')")|$(databases)|$(ftables pgschema)" \
	"42710|$dbs|-" "a logical database maps a schema of the name: 42710, no foreign table in it, no row"
is "$(sqlstate "SELECT datasource.create_database('shop_again', 'my', schema_name => 'shop')")|$(databases)|$(schemas)" \
	"42710|$dbs|$sch" "a MySQL database maps to one logical database (42710), no local schema made"
is "$(sqlstate "SELECT datasource.create_database('shop', 'my', schema_name => 'other')")|$(databases)|$(ftables shop)" \
	"42710|$dbs|items,orders" "an existing name is refused and its foreign tables stay"
is "$(sqlstate "SELECT datasource.create_database('pgshop', schema_name => 'shop')")|$(databases)" "42710|$dbs" \
	"a local logical database cannot adopt a MySQL logical database's local schema (42710)"
is "$(sqlstate "SELECT datasource.alter_database('pgdb', schema_name => 'shop')")|$(databases)" "42710|$dbs" \
	"... nor be remapped to it (42710)"


# --- alter_database / rename_database
is "$(lq -c "SELECT read_only, description FROM datasource.alter_database('shop', read_only => true, description => 'the shop')")" \
	"t|the shop" "alter_database changes read_only and description of a MySQL logical database"
is "$(lq -c "SELECT writable FROM datasource.database_info WHERE name = 'shop'")" "f" \
	"database_info: a read-only MySQL logical database is not writable"
dbs=$(databases)
is "$(sqlstate "SELECT datasource.alter_database('shop', schema_name => 'other')")|$(databases)" "0A000|$dbs" \
	"moving a MySQL logical database to another MySQL database is refused (0A000), row unchanged"
is "$(sqlstate "SELECT datasource.alter_database('shop', source => 'local')")|$(databases)" "0A000|$dbs" \
	"moving a MySQL logical database to a PostgreSQL datasource is refused (0A000)"
is "$(sqlstate "SELECT datasource.alter_database('pgdb', source => 'my', schema_name => 'other')")|$(databases)" "0A000|$dbs" \
	"moving a PostgreSQL logical database to a MySQL datasource is refused (0A000)"
is "$(lq -c "SELECT name, local_schema FROM datasource.rename_database('shop', 'shop_renamed')")|$(ftables shop)" \
	"shop_renamed|shop|items,orders" "rename_database keeps the local schema and its foreign tables"

# --- alter_source: the engine stays while logical databases use it
src=$(sources)
is "$(sqlstate "SELECT datasource.alter_source('my', server => 'pgsrv')")|$(sources)" "0A000|$src" \
	"switching a datasource with logical databases to a server of another wrapper is refused (0A000)"
lq -c "SELECT datasource.create_source('spare', 'my2')" >/dev/null
is "$(lq -c "SELECT server FROM datasource.alter_source('spare', server => 'pgsrv')")|$(lq -c "SELECT engine FROM datasource.source_info WHERE name = 'spare'")" \
	"pgsrv|postgresql" "a datasource without logical databases may switch wrapper; its engine follows"
lq -c "SELECT datasource.drop_source('spare')" >/dev/null

# --- migrations
lq -c "SELECT datasource.alter_database('shop_renamed', read_only => false)" >/dev/null
script="CREATE TABLE mig (id int)"
is "$(sqlstate "SELECT datasource.migrate('shop_renamed', '1', '$script')")|$(journal)|$(mysql_tables shop)|$(ftables shop)" \
	"0A000|-|items,orders|items,orders" "migrate on a MySQL logical database: 0A000, no journal row, nothing on MySQL or locally"
is "$(sqlstate "SELECT * FROM datasource.migrate_all('1', '$script', databases => ARRAY['pgdb', 'shop_renamed'])")|$(journal)|$(ftables pgschema)|$(lq -c "SELECT to_regclass('pgschema.mig') IS NULL")" \
	"0A000|-|-|t" "migrate_all naming a MySQL logical database: 0A000 before anything runs (pgdb untouched too)"
is "$(sqlstate "CALL datasource.migrate_waves('1', '$script', databases => ARRAY['shop_renamed'])")|$(journal)" \
	"0A000|-" "migrate_waves naming a MySQL logical database: 0A000, no journal row"
out=$("${LPSQL[@]}" -d "$DB" -v ON_ERROR_STOP=1 -c "SET client_min_messages = notice" \
	-c "SELECT database || ':' || status FROM datasource.migrate_all('1', '$script')" 2>&1)
like "$out" "skipping MySQL logical database \"shop_renamed\"" "migrate_all over all logical databases says it skips the MySQL one"
is "$(journal)|$(lq -c "SELECT to_regclass('pgschema.mig') IS NOT NULL")|$(mysql_tables shop)" \
	"pgdb:1:applied|t|items,orders" "... and migrates the others, nothing journaled or run for the MySQL one"
is "$(lq -c "SELECT status FROM datasource.baseline('shop_renamed', '1')")|$(journal)|$(mysql_tables shop)" \
	"baseline|pgdb:1:applied;shop_renamed:1:baseline|items,orders" "baseline is allowed on a MySQL logical database"

# --- export_config / apply_config into a second database
cfg=$(lq -c "SELECT datasource.export_config()")
is "$(lq -c "SELECT e->>'wrapper' FROM jsonb_array_elements('$cfg'::jsonb->'servers') e WHERE e->>'name' = 'my1'")" "mysql_fdw" \
	"export_config: a server of mysql_fdw says its wrapper"
is "$(lq -c "SELECT e->'options' FROM jsonb_array_elements('$cfg'::jsonb->'servers') e WHERE e->>'name' = 'my1'")" \
	"{\"host\": \"127.0.0.1\", \"port\": \"$MPORT\"}" "export_config: the server's own options"
is "$(lq -c "SELECT e->>'local_schema' FROM jsonb_array_elements('$cfg'::jsonb->'databases') e WHERE e->>'name' = 'shop_renamed'")|$(lq -c "SELECT '$cfg'::jsonb->'databases'->0 ? 'local_schema'")" \
	"shop|f" "export_config: a MySQL logical database's local schema, none for a PostgreSQL one"
is "$(echo "$cfg" | grep -c 'pgds-secret')" "0" "export_config never carries the user mapping's password"

setup "$DB2"
lq2 -c "SELECT count(*) FROM datasource.apply_config(('$cfg'::jsonb) - 'databases')" >/dev/null ||
	fail "apply_config of servers and sources into a second database"
is "$(lq2 -c "SELECT w.fdwname FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw WHERE s.srvname = 'my1'")" \
	"mysql_fdw" "apply_config creates the server with its wrapper"
lq2 -c "CREATE USER MAPPING FOR postgres SERVER my1 OPTIONS (username 'pgds', password 'pgds-secret')" >/dev/null
plan=$(lq2 -c "SELECT action || ' ' || object FROM datasource.apply_config('$cfg') ORDER BY 1")
is "$plan" "$(printf 'create logical database pgdb\ncreate logical database shop_renamed')" \
	"apply_config (whole document) creates both logical databases"
is "$(databases "$DB2" | sed 's/|[^|]*|[^|]*$//')" "$(databases | sed 's/|[^|]*|[^|]*$//')" \
	"the second registry has the same logical databases (name, datasource, schema, read_only)"
is "$(databases "$DB2")" "$(databases)" "... with the same descriptions and local schemas"
is "$(ftables shop "$DB2")|$(lq2 -c "SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM shop.items")" \
	"items,orders|1:apple,2:pear" "the second database's foreign tables read the MySQL rows"
is "$(lq2 -c "SELECT count(*) FROM datasource.apply_config('$cfg')")" "0" "applying the document again does nothing"
is "$(lq2 -c "SELECT engine, local_schema, transactional FROM datasource.database_info WHERE name = 'shop_renamed'")" \
	"mysql|shop|f" "the second database's database_info shows the MySQL logical database"
bad=$(echo "$cfg" | sed 's/"wrapper": "mysql_fdw"/"wrapper": "oracle_fdw"/')
is "$("${LPSQL[@]}" -d "$DB2" -v VERBOSITY=sqlstate -c "SELECT * FROM datasource.apply_config('$bad', dry_run => true)" 2>&1 | grep -oE '[0-9A-Z]{5}$')" \
	"22023" "an unknown wrapper in a document is refused (22023)"
moved=$(lq -c "SELECT jsonb_set('$cfg'::jsonb, '{databases,1,local_schema}', '\"elsewhere\"')")
dbs2=$(databases "$DB2")
is "$("${LPSQL[@]}" -d "$DB2" -v VERBOSITY=sqlstate -c "SELECT * FROM datasource.apply_config('$moved', dry_run => true)" 2>&1 | grep -oE '[0-9A-Z]{5}$')|$(databases "$DB2")" \
	"0A000|$dbs2" "a document changing a local schema is refused (0A000), nothing changes"
wiped=$(lq -c "SELECT jsonb_set('$cfg'::jsonb, '{databases}', '[]')")
lq2 -c "SELECT count(*) FROM datasource.apply_config('$wiped')" >/dev/null
is "$(databases "$DB2")|$(ftables shop "$DB2")|$(lq2 -c "SELECT to_regnamespace('pgschema') IS NOT NULL")|$(mysql_dbs)" \
	"-|-|t|other,shop" "apply_config dropping the logical databases drops the local schema of foreign tables, keeps the PostgreSQL schema and the MySQL database"

# --- drop_database / drop_source
dbs=$(databases)
is "$(sqlstate "SELECT datasource.drop_database('shop_renamed', drop_schema => true)")|$(databases)|$(ftables shop)|$(mysql_dbs)" \
	"0A000|$dbs|items,orders|other,shop" "drop_database with drop_schema on MySQL is refused (0A000): nothing dropped"
lq -c "SELECT datasource.drop_database('shop_renamed')" >/dev/null
is "$(databases)|$(schemas)|$(mysql_dbs)|$(mysql_tables shop)" \
	"pgdb|local|pgschema|f|-|-|pgschema,taken|other,shop|items,orders" \
	"drop_database drops the row and the local schema; the MySQL database stays"
lq -c "SELECT datasource.create_database('o', 'my', schema_name => 'other')" >/dev/null
is "$(ftables o)|$(lq -c "SELECT string_agg(id::text, ',') FROM o.t")" "t|7" "a logical database named apart from its MySQL database"
is "$(sqlstate "SELECT datasource.drop_source('my')")|$(ftables o)" "2BP01|t" "drop_source without cascade is refused, its local schema stays"
lq -c "SELECT datasource.drop_source('my', cascade => true)" >/dev/null
is "$(sources)|$(databases)|$(schemas)|$(mysql_dbs)" \
	"local|-|f|pgdb|local|pgschema|f|-|-|pgschema,taken|other,shop" \
	"drop_source cascade drops the MySQL logical databases' local schemas, never a MySQL database"

done_testing
