#!/usr/bin/env bash
# Multi-server tests of routing: query/query_json/execute/exec against a
# logical database on a second server, what goes over the wire (one round
# trip per read, no BEGIN for reads, the cached connection reused across
# transactions), remote work tied to the local transaction, and failures:
# the remote stopped, restarted between and inside transactions, its
# backend terminated, a port that accepts and never answers, a remote
# pg_sleep cancelled by statement_timeout, a local backend terminated while
# the remote runs, and a result larger than work_mem.  Then security as a
# non-superuser: no password, no USAGE, secrets, RLS on a local table.
#
# Needs the PGDS_* variables of test/run.sh (two running servers).  The
# remote server is stopped and restarted by this script.
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

DB=multi_route
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT")
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

# lq SQL... : run on the local test database as postgres, stop on error
lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -U postgres -d "$DB" "$@"; }
# session [ROLE] : run stdin as one session; errors print as "ERROR:  SQLSTATE"
session() {
	"${LPSQL[@]}" -U "${1:-postgres}" -d "$DB" -v VERBOSITY=sqlstate 2>&1
}
# rq SQL : run on the remote database; rqo: as the owner of the schemas
rq() { "${RPSQL[@]}" -d rroute -c "$1"; }
rqo() { "${RPSQL[@]}" -d rroute -c "SET ROLE route_owner" -c "$1"; }
remote_log_mark() { wc -l <"$PGDS_REMOTE_DIR/server.log"; }
# remote_log_since LINE : the statements the remote logged after LINE
remote_log_since() {
	tail -n +"$(($1 + 1))" "$PGDS_REMOTE_DIR/server.log" |
		sed -n 's/^.*route_owner@rroute LOG:  \(statement\|execute <unnamed>\): //p'
}
# ms : milliseconds since the epoch
ms() { date +%s%3N; }

SHELL_STOP="bash -c '. $here/../lib/cluster.sh; cluster_stop $PGDS_REMOTE_DIR'"
SHELL_START="bash -c '. $here/../lib/cluster.sh; cluster_start $PGDS_REMOTE_DIR'"

# --- setup
# the wire checks read the remote's server.log; another script may have
# restarted the remote with its output elsewhere, so restart it here
cluster_stop "$PGDS_REMOTE_DIR" >/dev/null && cluster_start "$PGDS_REMOTE_DIR" >/dev/null ||
	bail_out "could not restart the remote server"
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rroute" -c "DROP ROLE IF EXISTS route_owner" \
	-c "DROP ROLE IF EXISTS route_app" \
	-c "CREATE ROLE route_owner LOGIN PASSWORD 'owner-secret-77'" \
	-c "CREATE ROLE route_app LOGIN PASSWORD 'app-secret-88'" \
	-c "CREATE DATABASE rroute OWNER route_owner" >/dev/null || bail_out "remote setup failed"
"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" \
	-c "DROP ROLE IF EXISTS route_app" -c "DROP ROLE IF EXISTS route_nousage" \
	-c "CREATE ROLE route_app LOGIN" -c "CREATE ROLE route_nousage LOGIN" >/dev/null ||
	bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER regional FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rroute')" \
	-c "CREATE USER MAPPING FOR postgres SERVER regional
	      OPTIONS (user 'route_owner', password 'owner-secret-77')" \
	-c "SELECT datasource.create_source('regional', 'regional')" \
	-c "SELECT datasource.create_database('orders_db', 'regional', schema_name => 'orders')" \
	-c "SELECT datasource.create_database('archive_db', 'regional', read_only => true)" \
	-c "SELECT datasource.create_database('home_db')" >/dev/null || bail_out "extension setup failed"
rqo "CREATE TABLE orders.items (id int PRIMARY KEY, name text, price numeric, tags text[], meta jsonb, ok boolean)" >/dev/null
rqo "INSERT INTO orders.items SELECT g, 'item ' || g, g * 1.5, ARRAY['a', 'b'], jsonb_build_object('g', g), g % 2 = 0
      FROM generate_series(1, 200000) g" >/dev/null
rqo "CREATE TABLE archive_db.old (id int)" >/dev/null
rq "ALTER ROLE route_owner SET log_statement = 'all'" >/dev/null

# --- results
is "$(lq -c "SELECT id || '|' || name || '|' || price FROM datasource.query('orders_db',
        'SELECT id, name, price FROM items WHERE id <= \$1 ORDER BY id', ARRAY['2']) AS t(id int, name text, price numeric)")" \
	"$(printf '1|item 1|1.5\n2|item 2|3.0')" "query: typed rows from the remote, with a parameter"
is "$(lq -c "SELECT q FROM datasource.query_json('orders_db', 'SELECT * FROM orders_db.items WHERE id = 3') q")" \
	'{"id": 3, "ok": false, "meta": {"g": 3}, "name": "item 3", "tags": "{a,b}", "price": 4.5}' \
	"query_json: JSON-native numbers, booleans and json; the logical qualifier is rewritten to the remote schema"
is "$(lq -c "SELECT success || ' ' || row_count || ' ' || truncated || ' ' || (data->0->>'id')
               FROM datasource.execute('orders_db', 'SELECT id FROM items ORDER BY id', max_rows => 5)")" \
	"true 5 true 1" "execute: max_rows cuts a remote result and says so"
is "$(lq -c "SELECT success || ' ' || sqlstate || ' ' || error FROM datasource.execute('orders_db', 'SELECT nope FROM items')")" \
	'false 42703 column "nope" does not exist' "execute: a remote error is reported with the remote SQLSTATE"
is "$(lq -c "SET work_mem = '64kB'" -c "SELECT count(*) || ' ' || sum(id) FROM datasource.query('orders_db',
        'SELECT id, name, meta FROM items') AS t(id int, name text, meta jsonb)")" \
	"200000 20000100000" "a result much larger than work_mem streams through complete"

# --- what goes over the wire
# the one query at connect: who answers (a pooler?) and which database it is
IDQ='SELECT pg_catalog.pg_backend_pid(), s.system_identifier, pg_catalog.current_database(), pg_catalog.pg_is_in_recovery() FROM pg_catalog.pg_control_system() s'
mark=$(remote_log_mark)
out=$(session <<'SQL'
SELECT count(*) FROM datasource.query('orders_db', 'SELECT 1') AS t(x int);
SELECT count(*) FROM datasource.query('orders_db', 'SELECT 2') AS t(x int);
SELECT count(*) FROM datasource.query('orders_db', 'SELECT 3') AS t(x int);
SELECT remote_pid FROM datasource.connections() \gset
SELECT count(*) FROM datasource.query('orders_db', 'SELECT 4') AS t(x int);
SELECT (SELECT remote_pid FROM datasource.connections()) = :remote_pid AS same_pid;
SELECT count(*) FROM datasource.connections();
SQL
)
is "$out" "$(printf '1\n1\n1\n1\nt\n1')" "one cached connection serves statements in separate transactions"
is "$(remote_log_since "$mark")" \
	"$(printf '%s\n' "$IDQ" \
		"SELECT pg_catalog.set_config('search_path', \$1, false), pg_catalog.set_config('default_transaction_read_only', 'on', false)" \
		'SELECT 1' 'SELECT 2' 'SELECT 3' 'SELECT 4')" \
	"reads: at connect, whether a pooler answers (pooler 'auto') and which database it is; the session settings once, then one statement each, no BEGIN/COMMIT"

mark=$(remote_log_mark)
session >/dev/null <<'SQL'
BEGIN;
SELECT datasource.exec('orders_db', 'UPDATE items SET name = name WHERE id = 1');
SELECT count(*) FROM datasource.query('orders_db', 'SELECT 5') AS t(x int);
SELECT success FROM datasource.execute('orders_db', 'UPDATE items SET name = name WHERE id = 2', read_only => false);
SELECT success FROM datasource.execute('orders_db', 'UPDATE items SET name = name WHERE id = 3', read_only => false);
COMMIT;
SQL
is "$(remote_log_since "$mark")" \
	"$(printf '%s\n' "$IDQ" 'START TRANSACTION READ WRITE' "SELECT pg_catalog.set_config('search_path', \$1, false)" \
		'UPDATE items SET name = name WHERE id = 1' 'SELECT 5' \
		'SAVEPOINT s2' 'UPDATE items SET name = name WHERE id = 2' 'RELEASE SAVEPOINT s2' 'SAVEPOINT s2' \
		'UPDATE items SET name = name WHERE id = 3' 'COMMIT')" \
	"a write opens the remote transaction (search_path set inside it, once); later reads join it; savepoints released with the next command"
rq "ALTER ROLE route_owner RESET log_statement" >/dev/null

is "$(session <<'SQL'
SELECT * FROM datasource.query('orders_db', 'SELECT current_setting(''transaction_read_only'')') AS t(ro text);
BEGIN;
SELECT datasource.exec('orders_db', 'UPDATE items SET name = name WHERE id = 1');
SELECT * FROM datasource.query('orders_db', 'SELECT current_setting(''transaction_read_only'')') AS t(ro text);
COMMIT;
SQL
)" "$(printf 'on\nUPDATE 1\noff')" "reads run read-only on the remote; inside a remote write transaction they join it"

# libpq keeps single-row mode on from a statement sent alone into the first
# command of the next pipeline: the search_path sent in front of a read of
# another logical database must still be taken for what it is
is "$(session <<'SQL'
SELECT x FROM datasource.query('orders_db', 'SELECT 1') AS t(x int);
SELECT x FROM datasource.query('orders_db', 'SELECT 2') AS t(x int);
SELECT x FROM datasource.query('archive_db', 'SELECT 3') AS t(x int);
SELECT x FROM datasource.query('archive_db', 'SELECT 4') AS t(x int);
SELECT x FROM datasource.query('orders_db', 'SELECT 5') AS t(x int);
BEGIN;
SELECT datasource.exec('orders_db', 'UPDATE items SET name = name WHERE id = 1');
SELECT x FROM datasource.query('orders_db', 'SELECT 6') AS t(x int);
SELECT x FROM datasource.query('archive_db', 'SELECT 7') AS t(x int);
COMMIT;
SQL
)" "$(printf '1\n2\n3\n4\n5\nUPDATE 1\n6\n7')" \
	"two logical databases of one server in turn, each read twice, in and out of a remote transaction"

# --- remote work follows the local transaction
session >/dev/null <<'SQL'
BEGIN;
SELECT datasource.exec('orders_db', 'INSERT INTO items (id, name) VALUES (-1, ''rolled back'')');
ROLLBACK;
BEGIN;
SELECT datasource.exec('orders_db', 'INSERT INTO items (id, name) VALUES (-2, ''kept'')');
SAVEPOINT a;
SELECT datasource.exec('orders_db', 'INSERT INTO items (id, name) VALUES (-3, ''undone'')');
ROLLBACK TO a;
SELECT datasource.execute('orders_db', 'INSERT INTO items (id, name) VALUES (-2, ''duplicate'')', read_only => false);
SELECT datasource.exec('orders_db', 'INSERT INTO items (id, name) VALUES (-4, ''after'')');
COMMIT;
BEGIN;
SELECT datasource.exec('orders_db', 'INSERT INTO items (id, name) VALUES (-5, ''then a local error'')');
SELECT 1/0;
COMMIT;
SQL
is "$(rq "SELECT string_agg(id::text, ' ' ORDER BY id) FROM orders.items WHERE id < 0")" "-4 -2" \
	"rollback, savepoint rollback, a failed execute() and a later local error leave exactly the committed rows"
is "$(session <<'SQL'
SELECT datasource.exec('archive_db', 'INSERT INTO old VALUES (1)');
BEGIN READ ONLY;
SELECT datasource.exec('orders_db', 'DELETE FROM items WHERE id = -4');
ROLLBACK;
SQL
)" "$(printf 'ERROR:  25006\nERROR:  25006')" \
	"writes are refused in a read-only logical database and in a read-only local transaction"

# --- failures
lq -c "ALTER DATABASE $DB SET datasource.connect_timeout = 3" >/dev/null

out=$(session <<SQL
SELECT count(*) FROM datasource.query('orders_db', 'SELECT 1') AS t(x int);
\! $SHELL_STOP
\echo stopped
SELECT count(*) FROM datasource.query('orders_db', 'SELECT 1') AS t(x int);
SELECT 'still usable';
SELECT healthy, error IS NOT NULL FROM datasource.health_check('regional');
\! $SHELL_START
\echo started
SELECT count(*) FROM datasource.query('orders_db', 'SELECT 1') AS t(x int);
SELECT healthy, server_version IS NOT NULL FROM datasource.health_check('regional');
SQL
)
is "$out" "$(printf '1\nstopped\nERROR:  08001\nstill usable\nf|t\nstarted\n1\nt|t')" \
	"remote stopped: a clean 08001, the session goes on, health_check reports it; after a restart the next call reconnects"

out=$(session <<SQL
SELECT count(*) FROM datasource.query('orders_db', 'SELECT 1') AS t(x int);
\! $SHELL_STOP >/dev/null; $SHELL_START >/dev/null
SELECT count(*) FROM datasource.query('orders_db', 'SELECT 2') AS t(x int);
SQL
)
is "$out" "$(printf '1\n1')" "remote restarted between transactions: the dead idle connection is replaced transparently"

out=$(session <<SQL
BEGIN;
SELECT datasource.exec('orders_db', 'INSERT INTO items (id, name) VALUES (-10, ''lost'')');
\! $SHELL_STOP >/dev/null; $SHELL_START >/dev/null
SELECT count(*) FROM datasource.query('orders_db', 'SELECT 1') AS t(x int);
SELECT count(*) FROM datasource.query('orders_db', 'SELECT 1') AS t(x int);
ROLLBACK;
SELECT count(*) FROM datasource.query('orders_db', 'SELECT count(*) FROM items WHERE id = -10') AS t(x int);
SELECT x FROM datasource.query('orders_db', 'SELECT count(*) FROM items WHERE id = -10') AS t(x int);
SQL
)
like "$out" "^INSERT 0 1
ERROR:  (08006|57P01)
ERROR:  25P02
1
0$" "remote restarted inside a transaction: a clean error, then recovery after rollback; nothing was committed"

out=$(session <<SQL
BEGIN;
SELECT datasource.exec('orders_db', 'INSERT INTO items (id, name) VALUES (-11, ''lost'')');
SELECT remote_pid FROM datasource.connections() \gset
\setenv RPID :remote_pid
\! psql -X -q -At -h $PGDS_REMOTE_HOST -p $PGDS_REMOTE_PORT -U postgres -d postgres -c "SELECT pg_terminate_backend(\$RPID)"
COMMIT;
SELECT x FROM datasource.query('orders_db', 'SELECT count(*) FROM items WHERE id = -11') AS t(x int);
SQL
)
# the backend may still be exiting when COMMIT is sent: then whether the
# COMMIT took effect is unknown to the client (08007); it did not
like "$out" "^INSERT 0 1
t
ERROR:  (08006|57P01|08007)
0$" "remote backend terminated inside a transaction: COMMIT fails cleanly, the next call reconnects, nothing was committed"

# a port that accepts connections and never answers
bh_port=$(free_port 47000)
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0],
	                              Listen => 8, ReuseAddr => 1) or die "listen: $!";
	my @keep; while (my $c = $s->accept) { push @keep, $c }' "$bh_port" &
bh_pid=$!
sleep 0.5
lq -c "CREATE SERVER blackhole FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '$bh_port', dbname 'x')" \
	-c "CREATE USER MAPPING FOR postgres SERVER blackhole OPTIONS (user 'x', password 'y')" \
	-c "SELECT datasource.create_source('blackhole', 'blackhole')" >/dev/null
t0=$(ms)
out=$(session <<'SQL'
SET datasource.connect_timeout = 2;
SELECT healthy FROM datasource.health_check('blackhole');
SELECT 'usable';
SQL
)
t1=$(ms)
kill "$bh_pid" 2>/dev/null; wait "$bh_pid" 2>/dev/null
is "$out" "$(printf 'f\nusable')" "a port that never answers: health_check reports it unhealthy"
[ $((t1 - t0)) -lt 6000 ]; ok $? "the 2 s connect deadline holds ($((t1 - t0)) ms)"

t0=$(ms)
out=$(session <<'SQL'
SET statement_timeout = '1s';
SELECT * FROM datasource.query('orders_db', 'SELECT pg_sleep(60)') AS t(x text);
SELECT 'usable';
SQL
)
t1=$(ms)
is "$out" "$(printf 'ERROR:  57014\nusable')" "statement_timeout cancels a remote pg_sleep(60) with 57014"
[ $((t1 - t0)) -lt 10000 ]; ok $? "the call ended in seconds ($((t1 - t0)) ms)"
sleep 1
is "$(rq "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()")" "0" \
	"the remote query is gone"

# pg_cancel_backend of the local backend while the remote sleeps
session >"$PGDS_BASE/route_cancel.out" <<'SQL' &
SELECT * FROM datasource.query('orders_db', 'SELECT pg_sleep(62)') AS t(x text);
SELECT 'usable after cancel';
SQL
spid=$!
for _ in $(seq 50); do
	[ "$(rq "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(62)%' AND pid <> pg_backend_pid()")" = 1 ] && break
	sleep 0.1
done
t0=$(ms)
lq -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(62)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$spid" 2>/dev/null
t1=$(ms)
is "$(cat "$PGDS_BASE/route_cancel.out")" "$(printf 'ERROR:  57014\nusable after cancel')" \
	"pg_cancel_backend stops a routed call with 57014 and the session goes on"
[ $((t1 - t0)) -lt 5000 ]; ok $? "at once ($((t1 - t0)) ms)"
rm -f "$PGDS_BASE/route_cancel.out"
sleep 1
is "$(rq "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(62)%' AND pid <> pg_backend_pid()")" "0" \
	"and the remote query is gone"

# the local backend is terminated while the remote sleeps
session >/dev/null <<'SQL' &
SELECT * FROM datasource.query('orders_db', 'SELECT pg_sleep(61)') AS t(x text);
SQL
spid=$!
for _ in $(seq 50); do
	[ "$(rq "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(61)%' AND pid <> pg_backend_pid()")" = 1 ] && break
	sleep 0.1
done
lq -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(61)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$spid" 2>/dev/null
sleep 1
is "$(rq "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(61)%' AND pid <> pg_backend_pid()")" "0" \
	"pg_terminate_backend of the local backend cancels its remote query"

# --- security as a non-superuser
lq -c "GRANT USAGE ON FOREIGN SERVER regional TO route_app" \
	-c "CREATE USER MAPPING FOR route_app SERVER regional OPTIONS (user 'route_app')" >/dev/null
rqo "GRANT USAGE ON SCHEMA orders TO route_app" >/dev/null
rqo "GRANT SELECT ON orders.items TO route_app" >/dev/null
is "$(echo "SELECT count(*) FROM datasource.query('orders_db', 'SELECT 1') AS t(x int);" | session route_app)" \
	"ERROR:  2F003" "a non-superuser without a password in the mapping is refused (2F003)"
lq -c "ALTER USER MAPPING FOR route_app SERVER regional OPTIONS (ADD password 'wrong-secret-99')" >/dev/null
out=$("${LPSQL[@]}" -U route_app -d "$DB" -c "SELECT count(*) FROM datasource.query('orders_db', 'SELECT 1') AS t(x int)" 2>&1)
like "$out" "could not connect" "a wrong password is refused"
[[ $out != *wrong-secret-99* ]]; ok $? "and the error does not show the password"
lq -c "ALTER USER MAPPING FOR route_app SERVER regional OPTIONS (SET password 'app-secret-88')" >/dev/null
is "$(echo "SELECT x FROM datasource.query('orders_db', 'SELECT count(*) FROM items WHERE id = 5') AS t(x int);
SELECT role FROM datasource.connections();
SELECT count(*) FROM datasource.query('orders_db', 'SELECT current_user') AS t(u text) WHERE u = 'route_app';" | session route_app)" \
	"$(printf '1\nroute_app\n1')" "with its password the non-superuser routes through its own mapping"
is "$(echo "SELECT count(*) FROM datasource.query('orders_db', 'DELETE FROM items') AS t(x int);" | session route_app)" \
	"ERROR:  42501" "the remote privileges of the mapped role apply"
is "$(echo "SELECT coalesce(array_to_string(umoptions, ','), 'hidden') FROM pg_user_mappings WHERE usename = 'postgres' AND srvname = 'regional';
SELECT count(*) FROM pg_user_mapping;" | session route_app)" \
	"$(printf 'hidden\nERROR:  42501')" "another role's mapping options are hidden from the non-superuser"
out=$(echo "SELECT * FROM datasource.connections(); SELECT * FROM datasource.health_check();" | session route_app)
[[ $out != *secret* ]]; ok $? "connections() and health_check() show no secret"
is "$(echo "SELECT count(*) FROM datasource.query('orders_db', 'SELECT 1') AS t(x int);" | session route_nousage)" \
	"ERROR:  42501" "a role without USAGE on the foreign server is refused (42501)"
lq -c "CREATE TABLE home_db.notes (owner name, body text)" \
	-c "INSERT INTO home_db.notes VALUES ('route_app', 'mine'), ('postgres', 'not yours')" \
	-c "ALTER TABLE home_db.notes ENABLE ROW LEVEL SECURITY" \
	-c "CREATE POLICY own ON home_db.notes USING (owner = current_user)" \
	-c "GRANT USAGE ON SCHEMA home_db TO route_app" -c "GRANT SELECT ON home_db.notes TO route_app" >/dev/null
is "$(echo "SELECT string_agg(body, ',') FROM datasource.query('home_db', 'SELECT body FROM notes') AS t(body text);" | session route_app)" \
	"mine" "row-level security on a local table is honoured through query"

# --- cleanup
"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE route_app" -c "DROP ROLE route_nousage" >/dev/null
"${RPSQL[@]}" -d postgres -c "DROP DATABASE rroute" -c "DROP ROLE route_owner" -c "DROP ROLE route_app" >/dev/null
done_testing
