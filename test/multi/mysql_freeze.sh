#!/usr/bin/env bash
# Multi-server test of a MySQL server that stops answering (a real MariaDB,
# stopped with SIGSTOP: the kernel still accepts and holds its connections,
# nothing answers): a routed statement to a MySQL logical database that
# waits on it ends when the user asks.  statement_timeout (2 s) ends it with
# 57014 in a few seconds, on a connection mysql_fdw had open and on one it
# opens then (the MySQL handshake never comes), and on a query typed
# directly on the foreign tables; pg_cancel_backend ends it
# with 57014; pg_terminate_backend ends the backend; health_check under
# statement_timeout returns.  Each is measured by the time the client
# waited, under an outer timeout of 40 s, so a hang shows as a failure,
# not as a stuck run.  After SIGCONT the same sessions route again.  Before
# mysql_watch.c, each of these waited until the server was resumed.
#
# Needs the PGDS_* variables of test/run.sh; skipped without MariaDB or
# mysql_fdw (test/deps.sh installs both).
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"
source "$here/../lib/mariadb.sh"

maria_available || skip_all "MariaDB or mysql_fdw is not installed (test/deps.sh installs them)"

DB=multi_mysql_freeze
MDIR="$PGDS_BASE/maria-freeze"
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
W=$(mktemp -d) || bail_out "mktemp failed"

cleanup() {
	maria_thaw "$MDIR"
	maria_stop "$MDIR"
	"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT

maria_start "$MDIR" "$(free_port 33380)" >/dev/null || bail_out "MariaDB did not start"
MPORT=$(maria_port "$MDIR")
maria_sql "$MDIR" -e "CREATE DATABASE shop; CREATE TABLE shop.items (id int PRIMARY KEY, name varchar(20));
	INSERT INTO shop.items VALUES (1, 'apple'), (2, 'pear')" || bail_out "MariaDB setup failed"
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
	bail_out "local setup failed"
"${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" -c "CREATE EXTENSION pg_datasource" -c "CREATE EXTENSION mysql_fdw" \
	-c "CREATE SERVER maria FOREIGN DATA WRAPPER mysql_fdw OPTIONS (host '127.0.0.1', port '$MPORT')" \
	-c "CREATE USER MAPPING FOR postgres SERVER maria OPTIONS (username 'pgds', password 'pgds-secret')" \
	-c "SELECT datasource.create_source('maria', 'maria')" \
	-c "SELECT datasource.create_database('shop_db', 'maria', 'shop')" >/dev/null ||
	bail_out "registry setup failed"

READ="SELECT count(*) FROM datasource.query('shop_db', 'SELECT id FROM items') AS t(id int)"

# session NAME : runs stdin as one session in the background, its output in
# $W/NAME.out, the seconds it took in $W/NAME.secs
session() {
	local name=$1
	cat >"$W/$name.sql"
	(
		start=$(date +%s.%N)
		timeout 40 "${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate -f "$W/$name.sql" >"$W/$name.out" 2>&1
		awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.2f\n", a - b }' >"$W/$name.secs"
	) &
	echo $! >"$W/$name.job"
}
# finish NAME : waits for the session's shell
finish() { wait "$(cat "$W/$1.job")" 2>/dev/null; }
# within NAME SECS : status 0 when the session took less than SECS seconds
within() { [ -s "$W/$1.secs" ] && awk -v s="$(cat "$W/$1.secs")" -v max="$2" 'BEGIN { exit !(s < max) }'; }
# backend_of NAME : the pid of the backend whose application_name is NAME
backend_of() { "${LPSQL[@]}" -d "$DB" -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'"; }

plan 14

# --- statement_timeout, on a connection mysql_fdw has open
session timeout <<SQL
SET application_name = 'timeout';
$READ;
\! kill -STOP \$(cat $MDIR/pid)
SET statement_timeout = '2s';
$READ;
SELECT 'after';
SQL
finish timeout
like "$(cat "$W/timeout.out")" "ERROR:  57014" "statement_timeout ends a routed read waiting on a stopped MySQL server (57014)"
within timeout 10; ok $? "and the client waited less than 10 s for it ($(cat "$W/timeout.secs" 2>/dev/null) s, 2 s of them the timeout)"
like "$(cat "$W/timeout.out")" "after" "the session goes on after the error"

# --- statement_timeout while connecting: a new session, the server stopped
session connect <<SQL
SET statement_timeout = '2s';
$READ;
SQL
finish connect
like "$(cat "$W/connect.out")" "ERROR:  57014" "statement_timeout ends a routed read whose MySQL handshake never comes (57014)"
within connect 10; ok $? "and the client waited less than 10 s ($(cat "$W/connect.secs" 2>/dev/null) s)"

# --- SQL typed directly on the foreign tables (the executor hook)
session direct <<SQL
LOAD 'pg_datasource';
SET statement_timeout = '2s';
SELECT count(*) FROM shop_db.items;
SELECT 'after';
SQL
finish direct
like "$(cat "$W/direct.out")" "ERROR:  57014" "statement_timeout ends a query typed directly on the foreign tables (57014)"
within direct 10; ok $? "and the client waited less than 10 s ($(cat "$W/direct.secs" 2>/dev/null) s)"

# --- pg_cancel_backend
session cancel <<SQL
SET application_name = 'cancel';
$READ;
SQL
sleep 2
pid=$(backend_of cancel)
t0=$(date +%s.%N)
"${LPSQL[@]}" -d "$DB" -c "SELECT pg_cancel_backend($pid)" >/dev/null
finish cancel
t1=$(date +%s.%N)
like "$(cat "$W/cancel.out")" "ERROR:  57014" "pg_cancel_backend ends a routed read waiting on a stopped MySQL server (57014)"
took=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
awk -v s="$took" 'BEGIN { exit !(s < 5) }'; ok $? "within 5 s of the cancel ($took s)"

# --- pg_terminate_backend
session terminate <<SQL
SET application_name = 'terminate';
$READ;
SQL
sleep 2
pid=$(backend_of terminate)
"${LPSQL[@]}" -d "$DB" -c "SELECT pg_terminate_backend($pid)" >/dev/null
gone=no
for i in $(seq 1 25); do
	[ -z "$(backend_of terminate)" ] && { gone=yes; break; }
	sleep 0.2
done
is "$gone" "yes" "pg_terminate_backend ends a backend waiting on a stopped MySQL server within 5 s"
finish terminate

# --- health_check under statement_timeout
session health <<SQL
SET statement_timeout = '2s';
SELECT healthy FROM datasource.health_check('maria');
SQL
finish health
within health 10; ok $? "health_check of a stopped MySQL server under statement_timeout returns within 10 s ($(cat "$W/health.secs" 2>/dev/null) s)"

# --- the server answers again
maria_thaw "$MDIR"
sleep 1
session again <<SQL
$READ;
SQL
finish again
is "$(cat "$W/again.out")" "2" "after SIGCONT a new session routes to the MySQL logical database"
session same <<SQL
SET statement_timeout = '2s';
$READ;
$READ;
SQL
finish same
is "$(grep -c '^2$' "$W/same.out")" "2" "a session that routes again after the server came back reads the rows"
is "$(maria_sql "$MDIR" -N -B -e "SELECT count(*) FROM shop.items")" "2" "MariaDB's rows are as they were"
