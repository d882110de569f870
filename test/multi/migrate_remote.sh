#!/usr/bin/env bash
# Multi-server tests of migrations: migrate() on a logical database of a
# second server (the journal row stays local, the script's effects follow
# the local transaction: kept on COMMIT, gone on ROLLBACK, a failing script
# leaves nothing on the remote), already_applied and the checksum refusal,
# migrate_all over local and remote databases in one call (one failing
# remote database does not stop the rest, nor undo a sibling on the same
# remote connection; the applied ones record the schema they left, which
# drift() compares with), script_schema rewriting on the remote (in DO
# bodies too), a script naming another logical database refused,
# datasource.migration_lock_timeout against a table locked by another
# session (remote and local), adopt_drizzle of a drizzle-kit table on the
# remote, the remote stopped (migrate raises, migrate_all reports and goes
# on), and a pg_dump/pg_restore round trip of the journal and the DDL log.
#
# Needs the PGDS_* variables of test/run.sh (two running servers).  The
# remote server is stopped and restarted by this script.
set -u
export PGOPTIONS="-c client_min_messages=error"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

DB=multi_migrate
DUMPDB=multi_migrate_dump
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT")

# lq SQL... : run on the local test database, stop on error
lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
# session : run stdin as one session on the local test database; errors
# print as "ERROR:  SQLSTATE", warnings as "WARNING:  SQLSTATE"
session() { "${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate 2>&1; }
# rq SQL : run on the remote database as postgres; rqo: as the schema owner
rq() { "${RPSQL[@]}" -U postgres -d rmig -c "$1"; }
rqo() { "${RPSQL[@]}" -U mig_owner -d rmig -c "$1"; }
# rexists NAME : t when the relation exists on the remote
rexists() { rq "SELECT to_regclass('$1') IS NOT NULL"; }
# result ARGS : status|error of datasource.migrate(ARGS), ARGS being SQL
result() {
	lq -c "SELECT status || '|' || coalesce(error, '') FROM datasource.migrate($1)"
}
# journal WHERE : the journal rows (database version status sqlstate) that match
journal() {
	lq -c "SELECT coalesce(string_agg(database || ' ' || version || ' ' || status || ' ' || coalesce(sqlstate, '-'), ', ' ORDER BY id), '-')
	         FROM datasource.migrations WHERE $1"
}
ms() { date +%s%3N; }

# --- setup: a remote database owned by the mapped role, the local control plane
cluster_running "$PGDS_REMOTE_DIR" || cluster_start "$PGDS_REMOTE_DIR" >/dev/null ||
	bail_out "the remote server does not run"
"${RPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS rmig" -c "DROP ROLE IF EXISTS mig_owner" \
	-c "CREATE ROLE mig_owner LOGIN PASSWORD 'mig-secret-51'" \
	-c "CREATE DATABASE rmig OWNER mig_owner" >/dev/null || bail_out "remote setup failed"
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP DATABASE IF EXISTS $DUMPDB" \
	-c "DROP DATABASE IF EXISTS ${DUMPDB}_restored" -c "DROP DATABASE IF EXISTS ${DUMPDB}_quiet" \
	-c "CREATE DATABASE $DB" >/dev/null || bail_out "local setup failed"
# the foreign server's name differs from the datasource's, so the journal
# shows which is which
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER mig_srv FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rmig')" \
	-c "CREATE USER MAPPING FOR postgres SERVER mig_srv
	      OPTIONS (user 'mig_owner', password 'mig-secret-51')" \
	-c "SELECT datasource.create_source('regional', 'mig_srv')" \
	-c "SELECT datasource.create_database('shop_db', 'regional')" \
	-c "SELECT datasource.create_database('crm_db', 'regional', schema_name => 'crm')" \
	-c "SELECT datasource.create_database('ads_db', 'regional', schema_name => 'ads')" \
	-c "SELECT datasource.create_database('archive_db', 'regional', read_only => true)" \
	-c "SELECT datasource.create_database('home_db')" >/dev/null || bail_out "extension setup failed"
lq -c "ALTER DATABASE $DB SET datasource.connect_timeout = 3" >/dev/null

# --- migrate on a remote logical database
S1="E'CREATE TABLE items (id int PRIMARY KEY, v text);\r\nINSERT INTO items VALUES (1, ''one'');\r\n'"
S1_NORMAL="E'CREATE TABLE items (id int PRIMARY KEY, v text);\nINSERT INTO items VALUES (1, ''one'');'"
is "$(result "'shop_db', '001_items', $S1, 'the items table'")" "applied|" \
	"migrate on a remote logical database: applied"
is "$(rexists shop_db.items)|$(rq "SELECT string_agg(id || v, ',') FROM shop_db.items")" "t|1one" \
	"the table and its row exist on the remote after the commit"
is "$(lq -c "SELECT to_regclass('shop_db.items') IS NULL")" "t" "and not on the local server"
is "$(lq -c "SELECT concat_ws('|', database, datasource, server, schema_name, version, description, status,
               statement_count, role, script = $S1, script_schema IS NULL, error IS NULL, sqlstate IS NULL,
               previous_checksum IS NULL, finished_at >= started_at, execution_time_ms >= 0)
             FROM datasource.migrations")" \
	"shop_db|regional|mig_srv|shop_db|001_items|the items table|applied|2|postgres|t|t|t|t|t|t|t" \
	"one local journal row: database, datasource, foreign server, schema, version, description, statement count, role, script as given"
is "$(lq -c "SELECT server_address LIKE '%127.0.0.1%' AND server_address LIKE '%$PGDS_REMOTE_PORT%'
             FROM datasource.migrations WHERE version = '001_items'")" "t" \
	"server_address names the remote's host and port"
is "$(lq -c "SELECT (checksum = encode(sha256(convert_to($S1_NORMAL, 'UTF8')), 'hex'))::text || '|' ||
                    (raw_checksum = encode(sha256(convert_to($S1, 'UTF8')), 'hex'))::text
             FROM datasource.migrations WHERE version = '001_items'")" "true|true" \
	"checksum: sha256 of the script with CRLF turned into LF and trailing newlines removed; raw_checksum: of the bytes given"
is "$(lq -c "SELECT count(*) FROM datasource.ddl_log WHERE database <> 'home_db' OR schema_name <> 'home_db'")" "0" \
	"DDL on a remote logical database is not in ddl_log"
is "$(echo "SELECT datasource.migrate('archive_db', '001', 'CREATE TABLE x (id int)');" | session)" "ERROR:  25006" \
	"a read-only remote logical database is refused (25006)"

# --- the remote work follows the local transaction
out=$(session <<SQL
BEGIN;
SELECT status FROM datasource.migrate('shop_db', '002_tx', 'CREATE TABLE tx (id int)');
SELECT count(*) FROM datasource.query('shop_db', 'SELECT * FROM tx') AS t(id int);
\! ${RPSQL[*]} -U postgres -d rmig -c "SELECT 'outside: ' || (to_regclass('shop_db.tx') IS NULL)"
COMMIT;
SQL
)
is "$out" "$(printf 'applied\n0\noutside: true')" \
	"inside the transaction the new remote table is visible to later routed calls, not yet to other sessions"
is "$(rexists shop_db.tx)" "t" "after COMMIT the table exists on the remote"

out=$(session <<'SQL'
BEGIN;
SELECT status FROM datasource.migrate('shop_db', '003_rolled_back', 'CREATE TABLE rolled_back (id int)');
SELECT count(*) FROM datasource.query('shop_db', 'SELECT * FROM rolled_back') AS t(id int);
ROLLBACK;
SQL
)
is "$out" "$(printf 'applied\n0')" "BEGIN; migrate ...: applied inside the transaction"
is "$(rexists shop_db.rolled_back)" "f" "after ROLLBACK the remote table does not exist"
is "$(journal "version = '003_rolled_back'")" "-" "and there is no journal row"
is "$(result "'shop_db', '003_rolled_back', 'CREATE TABLE rolled_back (id int)'")|$(rexists shop_db.rolled_back)" \
	"applied||t" "the rolled-back version applies afterwards"

# --- failure atomicity on the remote
BAD="'CREATE TABLE fa1 (id int); CREATE TABLE fa2 (id int); INSERT INTO no_such_table VALUES (1);'"
out=$(session <<SQL
SET client_min_messages = warning;
SELECT status || '|' || error FROM datasource.migrate('shop_db', '004_atomic', $BAD);
SELECT 'after';
SQL
)
like "$out" '^WARNING:  [0-9A-Z]{5}
failed\|relation "no_such_table" does not exist
after$' "a failing third statement: result failed with the remote's message and a WARNING, not an ERROR"
is "$(rexists shop_db.fa1)|$(rexists shop_db.fa2)" "f|f" "nothing of the script remains on the remote"
is "$(journal "version = '004_atomic'")" "shop_db 004_atomic failed 42P01" "one failed journal row with the SQLSTATE"
is "$(lq -c "SELECT error IS NOT NULL AND checksum IS NOT NULL FROM datasource.migrations WHERE version = '004_atomic'")" "t" \
	"the failed row has the error text and the checksum"
# (versions below 004_atomic: the order rule refuses later ones while it failed)
out=$(session <<'SQL'
BEGIN;
SELECT status FROM datasource.migrate('shop_db', '003b_before', 'CREATE TABLE before_fail (id int)');
SELECT status FROM datasource.migrate('shop_db', '004_atomic', 'CREATE TABLE fa1 (id int); SELECT 1/0;');
SELECT status FROM datasource.migrate('shop_db', '003c_after', 'CREATE TABLE after_fail (id int)');
COMMIT;
SQL
)
is "$out" "$(printf 'applied\nfailed\napplied')" "in one transaction: applied, failed, applied"
is "$(rexists shop_db.before_fail)|$(rexists shop_db.fa1)|$(rexists shop_db.after_fail)" "t|f|t" \
	"the failure rolled back only its own remote work, in the middle of the remote transaction"
is "$(result "'shop_db', '004_atomic', 'CREATE TABLE fa1 (id int); CREATE TABLE fa2 (id int);'")" "applied|" \
	"the failed version can be retried"
is "$(journal "version = '004_atomic'")" \
	"shop_db 004_atomic failed 42P01, shop_db 004_atomic failed 22012, shop_db 004_atomic applied -" \
	"the journal keeps both failed attempts and the applied one"

# --- already_applied and the checksum refusal
is "$(result "'shop_db', '001_items', $S1_NORMAL")" "already_applied|" \
	"the same script (LF, no trailing newline) is already_applied"
is "$(result "'shop_db', '001_items', $S1 || E'\r\n\n'")" "already_applied|" \
	"and with extra trailing newlines too"
is "$(journal "version = '001_items'")" "shop_db 001_items applied -" "already_applied writes no journal row"
is "$(rq "SELECT count(*) FROM shop_db.items")" "1" "and ran nothing (the INSERT did not run again)"
EDITED="'CREATE TABLE items (id int PRIMARY KEY, v text, extra int);'"
out=$("${LPSQL[@]}" -d "$DB" -c '\set VERBOSITY verbose' -c "SELECT datasource.migrate('shop_db', '001_items', $EDITED)" 2>&1)
like "$out" '^ERROR:  55000' "an edited script of an applied version: ERROR 55000"
like "$out" 'HINT:  .*datasource\.accept_checksum\(' "the hint names datasource.accept_checksum(...)"
is "$(lq -c "SELECT status FROM datasource.accept_checksum('shop_db', '001_items',
               encode(sha256(convert_to($EDITED, 'UTF8')), 'hex'))")" "checksum_accepted" \
	"accept_checksum of the edited script"
is "$(result "'shop_db', '001_items', $EDITED")" "already_applied|" "afterwards the edited script is already_applied"
is "$(rq "SELECT count(*) FROM pg_attribute WHERE attrelid = 'shop_db.items'::regclass AND attname = 'extra'")" "0" \
	"and did not run on the remote"

# --- migrate_all over local and remote logical databases
rqo "CREATE TABLE crm.audit2 (id int)" >/dev/null
is "$(lq -c "SELECT string_agg(database || ':' || status, ' ') FROM datasource.migrate_all('010_audit', 'CREATE TABLE audit (id int)')")" \
	"ads_db:applied crm_db:applied home_db:applied shop_db:applied" \
	"migrate_all: every writable logical database, local and remote, by name (the read-only one left out)"
is "$(rexists ads.audit)|$(rexists crm.audit)|$(rexists shop_db.audit)|$(lq -c "SELECT to_regclass('home_db.audit') IS NOT NULL")" \
	"t|t|t|t" "the table exists in each schema, on its server"
is "$(lq -c "SELECT string_agg(concat_ws(':', database, datasource, coalesce(server, '-'), (server_address IS NULL)::text, schema_name), ' ' ORDER BY database)
             FROM datasource.migrations WHERE version = '010_audit'")" \
	"ads_db:regional:mig_srv:false:ads crm_db:regional:mig_srv:false:crm home_db:local:-:true:home_db shop_db:regional:mig_srv:false:shop_db" \
	"one journal row each: remote rows name the server and its address, the local row neither"
is "$(lq -c "SELECT string_agg(concat_ws(' ', database, command_tag, object_identity, statement, migration_version), ', ')
             FROM datasource.ddl_log WHERE migration_version IS NOT NULL OR database <> 'home_db'")" \
	"home_db CREATE TABLE home_db.audit CREATE TABLE audit (id int) 010_audit" \
	"ddl_log has the local database's DDL only, with its statement, tagged with the version"

out=$(session <<'SQL'
SET client_min_messages = warning;
SELECT string_agg(database || ':' || status || ':' || coalesce(error, ''), ' ')
  FROM datasource.migrate_all('011_audit2', 'CREATE TABLE audit2_a (id int); CREATE TABLE audit2 (id int);');
SQL
)
like "$out" '^WARNING:  [0-9A-Z]{5}
ads_db:applied: crm_db:failed:relation "audit2" already exists home_db:applied: shop_db:applied:$' \
	"one remote database failing (with a WARNING) does not stop the rest"
is "$(rexists ads.audit2_a)|$(rexists crm.audit2_a)|$(rexists shop_db.audit2_a)" "t|f|t" \
	"the failed database keeps nothing; its sibling on the same remote connection keeps its work"
is "$(lq -c "SELECT string_agg(database || ':' || (schema_fingerprint = datasource.fingerprint(database))::text, ' ' ORDER BY database)
             FROM datasource.migrations WHERE version = '011_audit2' AND status = 'applied'")" \
	"ads_db:true home_db:true shop_db:true" \
	"the applied ones, remote as local, record the schema they left (after a failing sibling on the same connection)"
is "$(lq -c "SELECT count(*) FROM datasource.migrations WHERE version = '011_audit2' AND status = 'failed' AND schema_fingerprint IS NULL")" "1" \
	"the failed one records none"
rqo "CREATE TABLE shop_db.out_of_band (id int)" >/dev/null
is "$(lq -c "SELECT string_agg(concat_ws('|', source, object_type, object_name, change), ' ') FROM datasource.drift('shop_db')")" \
	"schema|table|out_of_band|create" \
	"drift of a remote logical database: a table created on the remote outside any migration"
rqo "DROP TABLE shop_db.out_of_band" >/dev/null
is "$(lq -c "SELECT count(*) FROM datasource.drift('shop_db')")" "0" "and no drift once it is dropped again"
is "$(journal "version = '011_audit2'")" \
	"ads_db 011_audit2 applied -, crm_db 011_audit2 failed 42P07, home_db 011_audit2 applied -, shop_db 011_audit2 applied -" \
	"each database has its journal row; the failure carries its SQLSTATE"
out=$(session <<'SQL'
SET client_min_messages = warning;
SELECT string_agg(database || ':' || status || ':' || (error IS NOT NULL), ' ')
  FROM datasource.migrate_all('012_listed', 'CREATE TABLE listed (id int)', ARRAY['shop_db', 'archive_db', 'home_db']);
SQL
)
like "$out" '^WARNING:  [0-9A-Z]{5}
shop_db:applied:false archive_db:failed:true home_db:applied:false$' \
	"listed databases run in the listed order; a read-only one is reported failed"
is "$(journal "version = '012_listed'")" "shop_db 012_listed applied -, home_db 012_listed applied -" \
	"the refused read-only database has no journal row"

# --- script_schema on the remote
out=$(result "'shop_db', '020_schema', \$m\$CREATE TABLE public.ss (id int, note text DEFAULT 'public.keep');
CREATE INDEX ss_id ON \"public\".ss (id);
CREATE FUNCTION public.ss_count() RETURNS bigint LANGUAGE plpgsql AS \$\$BEGIN RETURN (SELECT count(*) FROM public.ss); END\$\$;\$m\$, script_schema => 'public'")
# (the function is plpgsql: the body keeps public.ss, which a SQL function's
# validator would look up and not find)
is "$out" "applied|" "migrate with script_schema => 'public' on the remote"
is "$(rexists shop_db.ss)|$(rexists public.ss)|$(rq "SELECT count(*) FROM pg_indexes WHERE schemaname = 'shop_db' AND indexname = 'ss_id'")" \
	"t|f|1" "public. and \"public\". qualifiers were rewritten to the remote schema"
is "$(rq "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'shop_db.ss'::regclass")" "'public.keep'::text" \
	"a string literal was left alone"
is "$(rq "SELECT prosrc FROM pg_proc WHERE proname = 'ss_count' AND pronamespace = 'shop_db'::regnamespace")" \
	"BEGIN RETURN (SELECT count(*) FROM public.ss); END" "a dollar-quoted body was left alone"
is "$(lq -c "SELECT script_schema || '|' || (script LIKE 'CREATE TABLE public.ss%') FROM datasource.migrations WHERE version = '020_schema'")" \
	"public|true" "the journal keeps script_schema and the script as given"

# --- a script that names another logical database is refused on a remote too
# (its version sorts after every later one: a failed version blocks higher ones)
is "$(result "'shop_db', 'zz_cross', 'CREATE TABLE t21 (id int); CREATE TABLE ads.z21 (id int)'" | cut -d'|' -f1)" "failed" \
	"a migration of shop_db that names schema ads (ads_db's, on the same remote) fails"
is "$(rexists shop_db.t21)|$(rexists ads.z21)" "f|f" "nothing of it ran on the remote"
is "$(journal "version = 'zz_cross'")" "shop_db zz_cross failed 42501" "it is journaled as failed, 42501"

# --- script_schema inside a DO body on the remote (drizzle-kit before 0.30)
out=$(result "'ads_db', '022_do', \$m\$CREATE TABLE \"public\".\"users\" (id int PRIMARY KEY);
CREATE TABLE \"public\".\"posts\" (id int, author_id int);
DO \$\$ BEGIN
 ALTER TABLE \"public\".\"posts\" ADD CONSTRAINT \"posts_author_fk\" FOREIGN KEY (\"author_id\") REFERENCES \"public\".\"users\"(\"id\");
EXCEPTION
 WHEN duplicate_object THEN null;
END \$\$;\$m\$, script_schema => 'public'")
is "$out" "applied|" "a DO-wrapped foreign key with script_schema => 'public' applies on the remote"
is "$(rq "SELECT confrelid::regclass FROM pg_constraint WHERE conname = 'posts_author_fk'")|$(rexists public.posts)" \
	"ads.users|f" "the foreign key references the tenant's users; nothing went into public"
rqo "DROP TABLE ads.posts, ads.users" >/dev/null

# --- datasource.migration_lock_timeout
# lock_wait WHERE-PSQL... NAME : wait until the session named NAME holds its lock
lock_wait() {
	local name=$1
	shift
	for _ in $(seq 100); do
		[ "$("$@" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		               WHERE a.application_name = '$name' AND l.mode = 'AccessExclusiveLock'
		                 AND l.locktype = 'relation' AND l.granted")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
# lock_timeout_case LABEL DATABASE TABLE LOCKER-PSQL...
lock_timeout_case() {
	local label=$1 ldb=$2 table=$3 t0 t1 lpid
	shift 3
	printf 'BEGIN;\nLOCK TABLE %s IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(60);\nCOMMIT;\n' "$table" |
		PGAPPNAME=mig_locker "$@" >/dev/null 2>&1 &
	lpid=$!
	lock_wait mig_locker "$@"; ok $? "$label: another session holds ACCESS EXCLUSIVE on $table"
	t0=$(ms)
	out=$(session <<SQL
SET statement_timeout = '20s';
SET datasource.migration_lock_timeout = 500;
SELECT status || '|' || error FROM datasource.migrate('$ldb', '030_lock', 'ALTER TABLE locked ADD COLUMN x int');
SHOW lock_timeout;
SELECT sqlstate FROM datasource.migrations WHERE database = '$ldb' AND version = '030_lock';
SQL
)
	t1=$(ms)
	is "$out" "$(printf 'failed|canceling statement due to lock timeout\n0\n55P03')" \
		"$label: migration_lock_timeout = 500 ms: failed with 55P03 (not a statement timeout), the session's lock_timeout untouched"
	note "$label: migrate gave up after $((t1 - t0)) ms"
	"$@" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mig_locker'" >/dev/null
	wait "$lpid" 2>/dev/null
	is "$(result "'$ldb', '030_lock', 'ALTER TABLE locked ADD COLUMN x int'")" "applied|" \
		"$label: once the lock is gone the version applies"
}
rqo "CREATE TABLE shop_db.locked (id int)" >/dev/null
lock_timeout_case remote shop_db shop_db.locked "${RPSQL[@]}" -U postgres -d rmig
is "$(rq "SELECT count(*) FROM pg_attribute WHERE attrelid = 'shop_db.locked'::regclass AND attname = 'x'")" "1" \
	"remote: the column is there"
lq -c "CREATE TABLE home_db.locked (id int)" >/dev/null
lock_timeout_case local home_db home_db.locked "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB"

# --- adopt_drizzle with the drizzle table on the remote
D1="E'CREATE TABLE \"users\" (\"id\" serial PRIMARY KEY, \"name\" text);\n--> statement-breakpoint\nCREATE INDEX \"users_name\" ON \"users\" (\"name\");'"
D2="E'ALTER TABLE \"users\" ADD COLUMN \"email\" text;'"
"${RPSQL[@]}" -U mig_owner -d rmig >/dev/null <<SQL
CREATE TABLE crm.users (id serial PRIMARY KEY, name text, email text);
CREATE SCHEMA drizzle;
CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint);
INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES
  (encode(sha256(convert_to($D1, 'UTF8')), 'hex'), 1700000000000),
  (encode(sha256(convert_to($D2 || E'\n', 'UTF8')), 'hex'), 1700000100000);
SQL
H1=$(rq "SELECT hash FROM drizzle.__drizzle_migrations WHERE created_at = 1700000000000")
H2=$(rq "SELECT hash FROM drizzle.__drizzle_migrations WHERE created_at = 1700000100000")
is "$(lq -c "SELECT string_agg(hash || ' ' || created_at || ' ' || state, ', ' ORDER BY created_at) FROM datasource.adopt_drizzle('crm_db')")" \
	"$H1 1700000000000 adopted, $H2 1700000100000 adopted" "adopt_drizzle reads drizzle-kit's table on the remote"
is "$(lq -c "SELECT string_agg(version || ' ' || status || ' ' || raw_checksum || ' ' || datasource, ', ' ORDER BY id)
             FROM datasource.migrations WHERE database = 'crm_db' AND status = 'adopted'")" \
	"drizzle:1700000000000 adopted $H1 regional, drizzle:1700000100000 adopted $H2 regional" \
	"one local journal row per hash: version drizzle:<created_at>, raw_checksum = hash"
is "$(lq -c "SELECT string_agg(state, ' ') FROM datasource.adopt_drizzle('crm_db', 'drizzle.__drizzle_migrations')")" \
	"already_adopted already_adopted" "adopting again: already_adopted"
is "$(result "'crm_db', '0000_init', $D1")" "already_applied|" \
	"migrate of the drizzle file (hash = sha256(script)) is already_applied"
is "$(result "'crm_db', '0001_email', $D2")" "already_applied|" \
	"and of a file whose hash is sha256(script || newline)"
is "$(rq "SELECT count(*) FROM pg_indexes WHERE schemaname = 'crm' AND indexname = 'users_name'")" "0" \
	"nothing ran on the remote"
is "$(lq -c "SELECT string_agg(version || ' ' || status || ' ' || (checksum IS NOT NULL), ', ' ORDER BY id)
             FROM datasource.migrations WHERE database = 'crm_db' AND raw_checksum IN ('$H1', '$H2')")" \
	"0000_init adopted true, 0001_email adopted true" "the adopted rows took the versions and checksums"
is "$(result "'crm_db', '0002_age', 'ALTER TABLE users ADD COLUMN age int'")|$(rq "SELECT count(*) FROM pg_attribute WHERE attrelid = 'crm.users'::regclass AND attname = 'age'")" \
	"applied||1" "a new version after the adopted ones runs on the remote"
is "$(echo "SELECT * FROM datasource.adopt_drizzle('shop_db', 'nope.__drizzle_migrations');" | session)" "ERROR:  42P01" \
	"a missing migrations table on the remote: 42P01"

# --- the remote stopped
cluster_stop "$PGDS_REMOTE_DIR" >/dev/null
is "$(cluster_running "$PGDS_REMOTE_DIR" && echo running || echo stopped)" "stopped" "the remote server is stopped"
like "$(echo "SELECT datasource.migrate('shop_db', '040_down', 'CREATE TABLE down (id int)'); SELECT 'usable';" | session)" \
	'^ERROR:  (08001|08006)
usable$' "migrate on the stopped remote raises a connection error; the session goes on"
is "$(journal "version = '040_down'")" "-" "and journals nothing"
mark=$(lq -c "SELECT coalesce(max(id), 0) FROM datasource.migrations")
out=$(session <<'SQL'
SET client_min_messages = warning;
SELECT string_agg(database || ':' || status || ':' || (error IS NOT NULL), ' ')
  FROM datasource.migrate_all('040_down', 'CREATE TABLE down (id int)');
SQL
)
like "$out" '^(WARNING:  [0-9A-Z]{5}
){3}ads_db:failed:true crm_db:failed:true home_db:applied:false shop_db:failed:true$' \
	"migrate_all with the remote down: each remote database failed with a WARNING, the local one applied"
is "$(journal "version = '040_down' AND id > $mark")" "home_db 040_down applied -" \
	"only the local database has a journal row (an unreachable server is a refusal)"
cluster_start "$PGDS_REMOTE_DIR" >/dev/null
# crm_db's 011_audit2 failed above: out_of_order lets 040_down past the order rule
is "$(lq -c "SELECT string_agg(database || ':' || status, ' ') FROM datasource.migrate_all('040_down', 'CREATE TABLE down (id int)', out_of_order => true)")" \
	"ads_db:applied crm_db:applied home_db:already_applied shop_db:applied" \
	"after a restart the same migrate_all completes the rest"

# --- pg_dump / pg_restore of the journal and the DDL log
"${LPSQL[@]}" -d postgres -c "CREATE DATABASE $DUMPDB" >/dev/null
dq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "${2:-$DUMPDB}" -c "$1"; }
"${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DUMPDB" >/dev/null <<'SQL'
CREATE EXTENSION pg_datasource;
SELECT datasource.create_database('app_db');
SELECT datasource.create_database('billing_db', schema_name => 'billing');
SELECT datasource.migrate('app_db', '001_items', E'CREATE TABLE items (id int PRIMARY KEY, v text);\nCREATE INDEX items_v ON items (v);', 'items');
SELECT datasource.migrate('app_db', '002_bad', 'CREATE TABLE t2 (id int); SELECT 1/0;');
SELECT datasource.baseline('billing_db', '000_base', 'the schema as it was');
SELECT datasource.migrate('billing_db', '001_invoices', 'CREATE TABLE invoices (id int PRIMARY KEY, amount numeric);');
SELECT datasource.accept_checksum('billing_db', '001_invoices',
  encode(sha256(convert_to('CREATE TABLE invoices (id bigint PRIMARY KEY, amount numeric);', 'UTF8')), 'hex'));
CREATE TABLE app_db.notes (id int);
ALTER TABLE app_db.notes ADD COLUMN body text;
CREATE VIEW billing.v AS SELECT 1 AS x;
DROP VIEW billing.v;
SQL
JOURNAL_SQL="SELECT m::text FROM datasource.migrations m ORDER BY id"
DDL_SQL="SELECT l::text FROM datasource.ddl_log l ORDER BY id"
is "$(dq "SELECT string_agg(status, ' ' ORDER BY id) FROM datasource.migrations")" \
	"applied failed baseline applied checksum_accepted" "the scratch journal: applied, failed, baseline, applied, checksum_accepted"
ddl_before=$(dq "$DDL_SQL")
journal_before=$(dq "$JOURNAL_SQL")
n_ddl=$(dq "SELECT count(*) FROM datasource.ddl_log")
max_ddl=$(dq "SELECT max(id) FROM datasource.ddl_log")
max_mig=$(dq "SELECT max(id) FROM datasource.migrations")
[ "$n_ddl" -ge 6 ]; ok $? "the scratch DDL log has rows of migrate and of plain DDL ($n_ddl)"
dump=$(mktemp)
pg_dump -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres -Fc -f "$dump" "$DUMPDB"; ok $? "pg_dump -Fc of the database"
"${LPSQL[@]}" -d postgres -c "CREATE DATABASE ${DUMPDB}_restored" >/dev/null
pg_restore -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres -d "${DUMPDB}_restored" --exit-on-error "$dump" 2>/dev/null
ok $? "pg_restore into a fresh database runs without error"
is "$(dq "$JOURNAL_SQL" "${DUMPDB}_restored")" "$journal_before" "the journal (every column, by id) is identical"
# What happens to ddl_log during the restore: pg_restore creates the schemas
# and tables of the logical databases (pre-data) before the registry rows are
# loaded (data), so those commands are not logged; the ddl_log rows are
# restored as they were (ids and all) and its sequence is set past them.  The
# post-data section then runs - with the event triggers of CREATE EXTENSION
# live and the registry loaded - the primary keys and indexes of tables in
# the logical databases' schemas: as the spec says, every DDL command on those
# schemas is logged, so the restore APPENDS one row per such command, in
# pg_dump's post-data order (the constraints, then the indexes; role
# postgres, no migration version).  SET datasource.ddl_log = off (e.g. in
# PGOPTIONS) restores the log unchanged.
is "$(dq "SELECT l::text FROM datasource.ddl_log l WHERE id <= $max_ddl ORDER BY id" "${DUMPDB}_restored")" "$ddl_before" \
	"the ddl_log rows of the original are restored identically"
is "$(dq "SELECT string_agg(concat_ws('|', command_tag, object_type, object_identity, role, coalesce(migration_version, '-')), ', ' ORDER BY id)
          FROM datasource.ddl_log WHERE id > $max_ddl" "${DUMPDB}_restored")" \
	"ALTER TABLE|table|app_db.items|postgres|-, ALTER TABLE|table|billing.invoices|postgres|-, CREATE INDEX|index|app_db.items_v|postgres|-" \
	"the restore appended exactly its post-data DDL on the logical schemas (primary keys, then the index), untagged"
is "$(dq "SELECT bool_and(statement LIKE '%ADD CONSTRAINT%PRIMARY KEY%') FROM datasource.ddl_log WHERE id > $max_ddl AND command_tag = 'ALTER TABLE'" "${DUMPDB}_restored")" \
	"t" "the appended rows carry the restore's statements"
is "$(dq "SELECT status FROM datasource.migrate('app_db', '001_items', E'CREATE TABLE items (id int PRIMARY KEY, v text);\nCREATE INDEX items_v ON items (v);')" "${DUMPDB}_restored")" \
	"already_applied" "migrate of an applied version in the restored database: already_applied"
is "$(dq "SELECT status FROM datasource.migrate('billing_db', '001_invoices', 'CREATE TABLE invoices (id bigint PRIMARY KEY, amount numeric);')" "${DUMPDB}_restored")" \
	"already_applied" "and of the version whose checksum was accepted, with the accepted script"
is "$(dq "SELECT status FROM datasource.migrate('app_db', '002_bad', 'CREATE TABLE t2 (id int);')" "${DUMPDB}_restored")|$(dq "SELECT min(id) > $max_mig FROM datasource.migrations WHERE version = '002_bad' AND status = 'applied'" "${DUMPDB}_restored")" \
	"applied|t" "the failed version applies in the restored database, its row numbered after the restored ones"
"${LPSQL[@]}" -d postgres -c "CREATE DATABASE ${DUMPDB}_quiet" >/dev/null
PGOPTIONS="-c datasource.ddl_log=off" pg_restore -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres \
	-d "${DUMPDB}_quiet" --exit-on-error "$dump" 2>/dev/null
ok $? "pg_restore with datasource.ddl_log = off"
is "$(dq "$DDL_SQL" "${DUMPDB}_quiet")|$(dq "$JOURNAL_SQL" "${DUMPDB}_quiet")" "$ddl_before|$journal_before" \
	"then the DDL log and the journal are identical to the original"
rm -f "$dump"

# --- cleanup
"${LPSQL[@]}" -d postgres -c "DROP DATABASE $DB" -c "DROP DATABASE $DUMPDB" \
	-c "DROP DATABASE ${DUMPDB}_restored" -c "DROP DATABASE ${DUMPDB}_quiet" >/dev/null
"${RPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE rmig" -c "DROP ROLE mig_owner" >/dev/null
done_testing
