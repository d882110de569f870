#!/usr/bin/env bash
# MySQL datasources: health_check and reconnecting, against a throwaway
# MariaDB (test/lib/mariadb.sh) and a PostgreSQL server of its own with
# pg_datasource preloaded (so source_stats counts).
# - health_check of a MySQL datasource: healthy, the version the mariadb
#   client reports, a latency; in_recovery NULL; counted in source_stats;
#   a disabled one reported, not probed.
# - MariaDB restarted while a backend keeps mysql_fdw's connection: the
#   next routed read (query, query_json, execute; in and out of a
#   transaction block) succeeds, where the same read on the foreign table
#   fails (mysql_fdw's HV00L); a read MySQL rejects for another reason runs
#   twice and fails with its own error; a routed write after a restart fails
#   once (HV00L, not applied) and works when run again; with mysql_fdw's
#   reconnect option it works at once.  A connection killed on the MySQL
#   side is the same as a restart.  In a read-only transaction
#   health_check reports 25006 (the probe's temporary table).
# - MariaDB stopped: health_check says so (healthy false, HV00N, no
#   password) at once; a routed read fails with HV00N, no hang.
# - A zero date: 22008 with a detail naming the logical database and a
#   hint (a zero month too); WHERE col >= '0001-01-01' (pushed down) reads
#   the other rows.
#
# Needs the PGDS_* variables of test/run.sh.
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"
source "$here/../lib/mariadb.sh"

: "${PGDS_BASE:?run me from test/run.sh}"
maria_available || skip_all "mariadbd, the mariadb client or mysql_fdw is not installed"
PGBIN=${PGDS_BIN:-$PGBIN}
C=$PGDS_BASE/mysql_health        # a direct child of the base: run.sh stops it too
M=$PGDS_BASE/maria-health
DB=multi_mysql_health

cleanup() {
	maria_stop "$M" >/dev/null 2>&1
	cluster_stop "$C" >/dev/null 2>&1
	if [ "${PGDS_KEEP:-0}" != 1 ]; then
		rm -rf "$C" "$C.initdb.log" "$M" "$M.restart"
	fi
}
trap cleanup EXIT

mport=$(free_port 33340) || bail_out "no free port for MariaDB"
maria_start "$M" "$mport" >/dev/null || bail_out "MariaDB did not start"
port=$(free_port $((PGDS_LOCAL_PORT + 60))) || bail_out "no free port"
cluster_init "$C" "$port" >/dev/null || bail_out "initdb failed"
echo "shared_preload_libraries = 'pg_datasource'" >>"$C/postgresql.conf"
cluster_start "$C" || bail_out "the server with pg_datasource preloaded did not start"

PSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$C" -p "$port" -U postgres)
q() { "${PSQL[@]}" -d "$DB" -c "$1"; }
# qs SQL : runs SQL, errors print as "ERROR:  SQLSTATE"
qs() { "${PSQL[@]}" -v ON_ERROR_STOP=0 -v VERBOSITY=sqlstate -d "$DB" -c "$1" 2>&1; }
# session : stdin as one session (60 s at most), messages verbose
# ("ERROR:  SQLSTATE: text"), so a DEBUG1 message of the retry shows too
session() {
	timeout 60 "${PSQL[@]}" -v ON_ERROR_STOP=0 -v VERBOSITY=verbose -d "$DB" 2>&1
}
# my SQL : the mariadb client as root, tab-separated, no headers
my() { maria_sql "$M" -N -B -e "$1"; }
# restart_cmd : a psql meta-command restarting MariaDB from inside a session
# (whose backend keeps its mysql_fdw connection).  The script it runs closes
# every descriptor it inherited first, so the restarted server holds none of
# the pipes the test reads (psql's output, prove's).
cat >"$M.restart" <<EOF
for fd in \$(ls /proc/\$\$/fd); do
	[ "\$fd" -gt 2 ] && [ "\$fd" != 255 ] && eval "exec \$fd>&-"
done
source '$here/../lib/cluster.sh'
source '$here/../lib/mariadb.sh'
maria_restart '$M' >/dev/null 2>&1
EOF
restart_cmd="\\! bash '$M.restart' </dev/null >/dev/null 2>&1"

my "CREATE DATABASE shopdb;
	CREATE TABLE shopdb.items (id int PRIMARY KEY, name varchar(40));
	INSERT INTO shopdb.items VALUES (1, 'one'), (2, 'two'), (3, 'three');
	CREATE TABLE shopdb.gone (id int PRIMARY KEY);
	SET SESSION sql_mode = '';
	CREATE TABLE shopdb.zd (id int PRIMARY KEY, d date, ts datetime);
	INSERT INTO shopdb.zd VALUES (1, '2020-01-01', '2020-01-01 10:00:00'),
	  (2, '0000-00-00', '0000-00-00 00:00:00'), (3, NULL, NULL);
	CREATE TABLE shopdb.zm (id int PRIMARY KEY, d date);
	INSERT INTO shopdb.zm VALUES (1, '2020-00-15');" ||
	bail_out "MariaDB setup failed"
maria_version=$(my "SELECT VERSION()")

"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB" >/dev/null || bail_out "createdb failed"
q "CREATE EXTENSION mysql_fdw" >/dev/null && q "CREATE EXTENSION pg_datasource" >/dev/null ||
	bail_out "extensions"
q "CREATE SERVER maria FOREIGN DATA WRAPPER mysql_fdw OPTIONS (host '127.0.0.1', port '$mport')" &&
	q "CREATE USER MAPPING FOR postgres SERVER maria OPTIONS (username 'pgds', password 'pgds-secret')" ||
	bail_out "server"
q "SELECT datasource.create_source('mdb', 'maria')" >/dev/null &&
	q "SELECT datasource.create_database('shop', 'mdb', 'shopdb')" >/dev/null ||
	bail_out "registry: create_source / create_database"

# --- health_check
IFS='|' read -r healthy latency version recovery error <<<"$(q "SELECT healthy, latency_ms > 0,
	server_version, coalesce(in_recovery::text, 'null'), coalesce(error, 'null')
	FROM datasource.health_check('mdb')")"
is "$healthy|$latency|$recovery|$error" "t|t|null|null" \
	"health_check of a MySQL datasource: healthy, a latency, in_recovery and error null"
is "$version" "$maria_version" "server_version is what SELECT VERSION() says in the mariadb client"
is "$(q "SELECT string_agg(datasource || ':' || healthy, ',' ORDER BY datasource) FROM datasource.health_check()")" \
	"local:true,mdb:true" "health_check() lists the MySQL datasource with the others"
is "$(q "SELECT health_checks || '/' || health_failures FROM datasource.source_stats WHERE datasource = 'mdb'")" \
	"2/0" "source_stats counts the MySQL datasource's health checks"
q "SELECT datasource.alter_source('mdb', enabled => false)" >/dev/null
is "$(q "SELECT healthy || '|' || error FROM datasource.health_check('mdb')")" \
	'false|datasource "mdb" is disabled' "a disabled MySQL datasource is reported as disabled"
is "$(q "SELECT health_checks FROM datasource.source_stats WHERE datasource = 'mdb'")" "2" \
	"a disabled MySQL datasource is not probed"
q "SELECT datasource.alter_source('mdb', enabled => true)" >/dev/null

# --- MariaDB restarts while a backend keeps its connection
out=$(session <<EOF
SELECT n FROM datasource.query('shop', 'SELECT count(*) FROM items') AS t(n bigint);
$restart_cmd
SELECT count(*) FROM shop.items;
SELECT 'direct again:' || count(*) FROM shop.items;
$restart_cmd
SET client_min_messages = debug1;
SELECT 'routed:' || n FROM datasource.query('shop', 'SELECT count(*) FROM items') AS t(n bigint);
RESET client_min_messages;
EOF
)
like "$out" $'^3\nERROR:  HV00L' "after a restart, the first read of the foreign table in a backend fails (mysql_fdw: HV00L)"
like "$out" 'direct again:3' "the next read of the foreign table works (mysql_fdw connected again)"
like "$out" 'routed:3' "after a restart, a routed read in a backend that kept its connection succeeds"
is "$(grep -c 'once more' <<<"$out")" "1" "it ran once more after mysql_fdw's error"

out=$(session <<EOF
SELECT n FROM datasource.query('shop', 'SELECT count(*) FROM items') AS t(n bigint);
BEGIN;
SELECT n FROM datasource.query('shop', 'SELECT count(*) FROM items') AS t(n bigint);
$restart_cmd
SELECT 'json:' || j::text FROM datasource.query_json('shop', 'SELECT name FROM items WHERE id = \$1', ARRAY['2']) AS j;
$restart_cmd
SELECT 'exec:' || success || ':' || row_count FROM datasource.execute('shop', 'SELECT * FROM items', 10, true);
COMMIT;
SELECT n FROM datasource.query('shop', 'SELECT count(*) FROM items') AS t(n bigint);
$restart_cmd
SELECT 'execute:' || success || ':' || row_count FROM datasource.execute('shop', 'SELECT * FROM items', 10, true);
EOF
)
like "$out" 'json:\{"name": "two"\}' "in a transaction block, a routed read with a parameter after a restart succeeds"
like "$out" 'exec:true:3' "in a transaction block, execute() after a restart succeeds"
like "$out" 'execute:true:3' "execute() after a restart succeeds"
is "$(grep -c 'ERROR' <<<"$out")" "0" "no error in that session"

# a read MySQL rejects for another reason: run twice, its own error
my "DROP TABLE shopdb.gone"
out=$(session <<EOF
SET client_min_messages = debug1;
SELECT * FROM datasource.query('shop', 'SELECT id FROM gone') AS t(id int);
EOF
)
like "$out" 'ERROR:  HV00L' "a read of a table dropped on MySQL fails with mysql_fdw's HV00L"
is "$(grep -c 'once more' <<<"$out")" "1" "it ran twice, not more"

# a write after a restart: one clear error, not applied; again, it works
out=$(session <<EOF
SELECT n FROM datasource.query('shop', 'SELECT count(*) FROM items') AS t(n bigint);
$restart_cmd
SELECT datasource.exec('shop', 'INSERT INTO items VALUES (4, ''four'')');
SELECT 'again:' || datasource.exec('shop', 'INSERT INTO items VALUES (4, ''four'')');
EOF
)
like "$out" $'^3\nERROR:  HV00L' "a routed write after a restart fails once (HV00L), as mysql_fdw raises it"
like "$out" 'again:INSERT 0 1' "run again, the write works"
is "$(my "SELECT count(*) FROM shopdb.items WHERE id = 4")" "1" "the failed write was not applied, the second was, once"

# a connection killed on the MySQL side: the same as a restart
out=$(session <<EOF
SELECT n FROM datasource.query('shop', 'SELECT count(*) FROM items') AS t(n bigint);
\\! bash -c "source '$here/../lib/mariadb.sh'; maria_sql '$M' -N -e \\"SELECT concat('KILL ', id, ';') FROM information_schema.PROCESSLIST WHERE user = 'pgds'\\" | maria_sql '$M'"
SELECT 'after kill:' || n FROM datasource.query('shop', 'SELECT count(*) FROM items') AS t(n bigint);
EOF
)
like "$out" 'after kill:4' "after MySQL killed the connection, the next routed read succeeds"

# with mysql_fdw's reconnect option, a write after a restart works too
q "ALTER SERVER maria OPTIONS (ADD reconnect 'true')" >/dev/null
out=$(session <<EOF
SELECT n FROM datasource.query('shop', 'SELECT count(*) FROM items') AS t(n bigint);
$restart_cmd
SELECT 'write:' || datasource.exec('shop', 'INSERT INTO items VALUES (5, ''five'')');
EOF
)
like "$out" 'write:INSERT 0 1' "with reconnect 'true', a routed write after a restart works"
q "ALTER SERVER maria OPTIONS (DROP reconnect)" >/dev/null

# health_check in a read-only transaction: the probe's temporary table is refused
is "$(q "BEGIN READ ONLY; SELECT healthy || ':' || (error LIKE '%SQLSTATE 25006%') FROM datasource.health_check('mdb'); ROLLBACK")" \
	"false:true" "in a read-only transaction, a MySQL datasource is reported with 25006"

# --- MariaDB stopped
maria_stop "$M"
t0=$(date +%s%N)
IFS='|' read -r healthy error <<<"$(q "SELECT healthy, error FROM datasource.health_check('mdb')")"
t1=$(date +%s%N)
is "$healthy" "f" "a stopped MariaDB: not healthy"
like "$error" 'SQLSTATE HV00N' "the error says the connection failed (HV00N)"
[[ $error != *pgds-secret* ]]
ok $? "the error shows no password"
[ $(((t1 - t0) / 1000000)) -lt 10000 ]
ok $? "it returned within datasource.connect_timeout (10 s)"
is "$(q "SELECT health_failures FROM datasource.source_stats WHERE datasource = 'mdb'")" "2" \
	"source_stats counts the failed health checks (this one and the read-only transaction's)"
t0=$(date +%s%N)
is "$(qs "SELECT * FROM datasource.query('shop', 'SELECT count(*) FROM items') AS t(n bigint)")" \
	"ERROR:  HV00N" "a routed read on a stopped MariaDB fails: could not connect (HV00N)"
t1=$(date +%s%N)
[ $(((t1 - t0) / 1000000)) -lt 10000 ]
ok $? "at once, without hanging"
maria_start "$M" "$mport" >/dev/null
ok $? "MariaDB started again"
is "$(q "SELECT n FROM datasource.query('shop', 'SELECT count(*) FROM items') AS t(n bigint)")" "5" \
	"started again, a routed read works"

# --- zero dates
out=$(timeout 60 "${PSQL[@]}" -v ON_ERROR_STOP=0 -v VERBOSITY=verbose -d "$DB" \
	-c "SELECT * FROM datasource.query('shop', 'SELECT id, d FROM zd ORDER BY id') AS t(id int, d date)" 2>&1)
like "$out" 'ERROR:  22008' "a zero date read into a date raises 22008"
like "$out" 'DETAIL:  The statement read MySQL logical database "shop"' "the detail names the logical database"
like "$out" "HINT:  If the value is a MySQL date with a zero part" "with the hint"
is "$(qs "SELECT * FROM datasource.query('shop', 'SELECT id, ts FROM zd') AS t(id int, ts timestamp)")" \
	"ERROR:  22008" "a zero datetime read into a timestamp raises 22008 too"
is "$(qs "SELECT * FROM datasource.query('shop', 'SELECT id, d FROM zd WHERE d IS NOT NULL') AS t(id int, d date)")" \
	"ERROR:  22008" "WHERE d IS NOT NULL does not leave the zero date out (MySQL: not null)"
is "$(q "SELECT string_agg(id::text, ',') FROM datasource.query('shop', 'SELECT id, d FROM zd WHERE d >= ''0001-01-01''') AS t(id int, d date)")" \
	"1" "WHERE d >= '0001-01-01' leaves it out (MySQL evaluates it)"
is "$(qs "SELECT * FROM datasource.query('shop', 'SELECT id, d FROM zm') AS t(id int, d date)")" \
	"ERROR:  22008" "a date with a zero month raises 22008 too"
is "$(qs "SELECT success || ':' || sqlstate FROM datasource.execute('shop', 'SELECT * FROM zd', 10, true)")" \
	"false:22008" "execute() reports 22008"

done_testing
