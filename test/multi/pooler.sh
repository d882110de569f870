#!/usr/bin/env bash
# Multi-server test of a remote behind a pooler in transaction mode: a real
# PgBouncer (Debian's pgbouncer, pool_mode = transaction, 3 server
# connections) in front of the remote test server.  16 concurrent client
# sessions of the control plane alternate routed reads and writes, each on
# its logical database (two schemas of one remote database, 8 sessions
# each), with routed SET/RESET attempts in the mix, while a plain client of
# the same pool writes meanwhile.  Each schema says who it is (a one-row
# table whoami) and keeps a log whose CHECK accepts only its own tenant, so
# a read or a write in the wrong tenant is counted.  With the server option
# pooler 'transaction', and with 'auto' (no option: detected at connect):
# 0 statements in the wrong tenant, every write in its own log, 0
# read-only errors for the plain client.  With pooler 'none' (the
# connection taken as exclusively ours, as before) the same load DOES mix
# or leak, which shows the test can fail; 'transaction' run again on the
# server sessions 'none' left in its state still does not mix.
#
# Needs the PGDS_* variables of test/run.sh and /usr/sbin/pgbouncer
# (test/deps.sh installs it; skipped without it).  PgBouncer runs as the
# postgres OS user with its own config, port, log and pid file under
# PGDS_BASE, and is stopped by its pid at exit.
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

PGBOUNCER=${PGDS_PGBOUNCER:-/usr/sbin/pgbouncer}
[ -x "$PGBOUNCER" ] || skip_all "pgbouncer is not installed (test/deps.sh installs it)"

DB=multi_pooler
SESSIONS=16
ROUNDS=${PGDS_POOLER_ROUNDS:-40}
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT")
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

# lq SQL... : run on the local test database as postgres, stop on error
lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -U postgres -d "$DB" "$@"; }
# rqo SQL : run on the remote database as the owner of the schemas
rqo() { "${RPSQL[@]}" -d rpool -c "SET ROLE pool_owner" -c "$1"; }

# --- PgBouncer: own directory, config, port and pid file
BDIR=$PGDS_BASE/pgbouncer
BPID=""
stop_bouncer() {
	if [ -n "$BPID" ] && kill -0 "$BPID" 2>/dev/null; then
		kill -INT "$BPID" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$BPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$BPID" 2>/dev/null
	fi
	BPID=""
}
trap stop_bouncer EXIT

mkdir -p "$BDIR" && chown "$PG_OS_USER:" "$BDIR" || bail_out "cannot make $BDIR"
BPORT=$(free_port 56432) || bail_out "no free port for pgbouncer"
cat >"$BDIR/userlist.txt" <<EOF
"pool_owner" "pool-secret-42"
EOF
cat >"$BDIR/pgbouncer.ini" <<EOF
[databases]
rpool = host=127.0.0.1 port=$PGDS_REMOTE_PORT dbname=rpool

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BPORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $BDIR/userlist.txt
pool_mode = transaction
default_pool_size = 3
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 100
logfile = $BDIR/pgbouncer.log
pidfile = $BDIR/pgbouncer.pid
ignore_startup_parameters = extra_float_digits
EOF
chown "$PG_OS_USER:" "$BDIR"/* && chmod 600 "$BDIR/userlist.txt"

# --- setup
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rpool" -c "DROP ROLE IF EXISTS pool_owner" \
	-c "CREATE ROLE pool_owner LOGIN PASSWORD 'pool-secret-42'" \
	-c "CREATE DATABASE rpool OWNER pool_owner" >/dev/null || bail_out "remote setup failed"
rqo "CREATE SCHEMA ta; CREATE SCHEMA tb;
     CREATE TABLE ta.whoami (tenant text); INSERT INTO ta.whoami VALUES ('a');
     CREATE TABLE tb.whoami (tenant text); INSERT INTO tb.whoami VALUES ('b');
     CREATE TABLE ta.log (tenant text CHECK (tenant = 'a'), n int);
     CREATE TABLE tb.log (tenant text CHECK (tenant = 'b'), n int);
     CREATE TABLE public.plain (n int);" >/dev/null || bail_out "remote tables failed"

(cd / && runuser -u "$PG_OS_USER" -- "$PGBOUNCER" -d -q "$BDIR/pgbouncer.ini") ||
	bail_out "pgbouncer did not start: $(tail -n 5 "$BDIR/pgbouncer.log" 2>/dev/null)"
for _ in $(seq 50); do
	[ -s "$BDIR/pgbouncer.pid" ] && break
	sleep 0.1
done
BPID=$(cat "$BDIR/pgbouncer.pid" 2>/dev/null)
[ -n "$BPID" ] || bail_out "pgbouncer wrote no pid file"
BPSQL=(env -u PGOPTIONS PGPASSWORD=pool-secret-42 psql -X -q -At -h 127.0.0.1 -p "$BPORT" -U pool_owner -d rpool)
for _ in $(seq 50); do
	"${BPSQL[@]}" -c "SELECT 1" >/dev/null 2>&1 && break
	sleep 0.1
done
is "$("${BPSQL[@]}" -c "SELECT current_user" 2>&1)" "pool_owner" "pgbouncer answers in front of the remote"

"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
	bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER pooled FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$BPORT', dbname 'rpool')" \
	-c "CREATE USER MAPPING FOR postgres SERVER pooled
	      OPTIONS (user 'pool_owner', password 'pool-secret-42')" \
	-c "SELECT datasource.create_source('pooled', 'pooled')" \
	-c "SELECT datasource.create_database('a_db', 'pooled', schema_name => 'ta', create_schema => false)" \
	-c "SELECT datasource.create_database('b_db', 'pooled', schema_name => 'tb', create_schema => false)" >/dev/null ||
	bail_out "extension setup failed"

# --- the option
out=$(lq -v VERBOSITY=sqlstate -c "ALTER SERVER pooled OPTIONS (ADD pooler 'sometimes')" 2>&1)
is "$out" "ERROR:  22023" "pooler takes only auto, transaction or none"
is "$(lq -c "SELECT count(*) FROM pg_foreign_server WHERE srvname = 'pooled' AND srvoptions::text LIKE '%pooler%'")" \
	"0" "and nothing is stored when it is refused"

# session_script TENANT : one client session's statements, each its own
# local transaction: reads and writes alternate, with a routed SET and
# RESET every tenth round
session_script() {
	local t=$1 i
	for i in $(seq "$ROUNDS"); do
		echo "SELECT 'read ' || x FROM datasource.query('${t}_db', 'SELECT tenant FROM whoami') AS q(x text);"
		echo "SELECT 'write ' || datasource.exec('${t}_db', 'INSERT INTO log VALUES (''$t'', $i)');"
		if [ $((i % 10)) = 5 ]; then
			echo "SELECT 'set ' || datasource.exec('${t}_db', 'SET search_path = ta, tb');"
		elif [ $((i % 10)) = 0 ]; then
			echo "SELECT 'reset ' || datasource.exec('${t}_db', 'RESET search_path');"
		fi
	done
}

# plain_script : a client of the pool that writes, with no routing
plain_script() {
	local i
	for i in $(seq $((ROUNDS * 4))); do
		echo "INSERT INTO public.plain VALUES ($i);"
	done
}

# run_load MODE : the load under server option pooler MODE ('' = absent);
# sets WRONG_READS WRONG_WRITES RO_ERRORS OTHER_ERRORS PLAIN_RO PLAIN_OTHER
# A_OK B_OK A_ROWS B_ROWS A_STRAY B_STRAY
run_load() {
	local mode=$1 k t dir=$PGDS_BASE/pooler_$1
	if [ -z "$mode" ]; then
		dir=$PGDS_BASE/pooler_auto
		lq -c "ALTER SERVER pooled OPTIONS (DROP pooler)" >/dev/null 2>&1
	else
		lq -c "ALTER SERVER pooled OPTIONS (DROP pooler)" >/dev/null 2>&1
		lq -c "ALTER SERVER pooled OPTIONS (ADD pooler '$mode')" >/dev/null ||
			bail_out "could not set pooler '$mode'"
	fi
	rqo "TRUNCATE ta.log, tb.log, public.plain" >/dev/null || bail_out "truncate failed"
	mkdir -p "$dir"
	for k in $(seq "$SESSIONS"); do
		t=a
		[ $((k % 2)) = 0 ] && t=b
		session_script $t >"$dir/s$k.sql"
		timeout 300 "${LPSQL[@]}" -U postgres -d "$DB" -v VERBOSITY=sqlstate \
			-f "$dir/s$k.sql" >"$dir/s$k.$t.out" 2>&1 &
	done
	plain_script >"$dir/plain.sql"
	timeout 300 "${BPSQL[@]}" -v VERBOSITY=sqlstate -f "$dir/plain.sql" >"$dir/plain.out" 2>&1 &
	wait
	# psql -f prefixes an error with its file and line: keep the SQLSTATE
	for f in "$dir"/*.out; do
		sed 's/^psql:[^ ]*: ERROR:/ERROR:/' "$f" >"$f.c"
	done
	WRONG_READS=$(($(cat "$dir"/s*.a.out.c | grep -c '^read b$') + $(cat "$dir"/s*.b.out.c | grep -c '^read a$')))
	WRONG_WRITES=$(cat "$dir"/s*.out.c | grep -c '^ERROR:  23514')
	RO_ERRORS=$(cat "$dir"/s*.out.c | grep -c '^ERROR:  25006')
	# a routed SET or RESET may be refused (0A000); nothing else may fail
	OTHER_ERRORS=$(cat "$dir"/s*.out.c | grep '^ERROR' | grep -cv '^ERROR:  \(23514\|25006\|0A000\)$')
	PLAIN_RO=$(grep -c '^ERROR:  25006' "$dir/plain.out.c")
	PLAIN_OTHER=$(grep '^ERROR' "$dir/plain.out.c" | grep -cv '^ERROR:  25006$')
	A_OK=$(cat "$dir"/s*.a.out.c | grep -c '^write INSERT 0 1$')
	B_OK=$(cat "$dir"/s*.b.out.c | grep -c '^write INSERT 0 1$')
	A_ROWS=$("${RPSQL[@]}" -d rpool -c "SELECT count(*) FROM ta.log")
	B_ROWS=$("${RPSQL[@]}" -d rpool -c "SELECT count(*) FROM tb.log")
	note "pooler '${mode:-auto}': wrong reads $WRONG_READS, wrong writes $WRONG_WRITES," \
		"read-only errors $RO_ERRORS, other errors $OTHER_ERRORS," \
		"plain client read-only errors $PLAIN_RO (other $PLAIN_OTHER)," \
		"writes a $A_OK/$A_ROWS b $B_OK/$B_ROWS"
	if [ "$OTHER_ERRORS" != 0 ] || [ "$PLAIN_OTHER" != 0 ]; then
		cat "$dir"/*.out.c | grep -v '^ERROR:  \(23514\|25006\|0A000\)$' |
			grep -v '^\(read\|write\|set\|reset\) ' | sort | uniq -c | head -n 10 | while read -r l; do diag "$l"; done
	fi
}

# check_clean MODE [routed] : the assertions of a mode that must not mix
# (with "routed": only those of the routed statements)
check_clean() {
	local m=$1 all=$((SESSIONS / 2 * ROUNDS))
	is "$WRONG_READS" 0 "pooler '$m': no routed read sees another tenant"
	is "$WRONG_WRITES" 0 "pooler '$m': no routed write lands in another tenant"
	is "$RO_ERRORS" 0 "pooler '$m': no routed write finds a read-only session"
	is "$OTHER_ERRORS" 0 "pooler '$m': no routed statement fails otherwise"
	is "$A_OK $B_OK" "$all $all" "pooler '$m': every write of every session went through"
	is "$A_ROWS $B_ROWS" "$all $all" "pooler '$m': and each is in its own tenant's log"
	[ "${2:-}" = routed ] && return 0
	is "$PLAIN_RO" 0 "pooler '$m': the plain client of the pool never finds a read-only session"
	is "$PLAIN_OTHER" 0 "pooler '$m': nor any other error"
}

# transaction and auto first: 'none' leaves the pool's sessions in its state
run_load transaction
check_clean transaction
run_load ""
check_clean auto

# a pooled connection's own paths: a statement cut short by max_rows (its
# remote statement cancelled), a failing statement, and a savepoint rolled
# back inside a remote transaction that moved between the two tenants
out=$("${LPSQL[@]}" -U postgres -d "$DB" -v VERBOSITY=sqlstate 2>&1 <<'SQL'
SELECT truncated, row_count FROM datasource.execute('a_db', 'SELECT g FROM generate_series(1, 1000000) g', max_rows => 5);
SELECT x FROM datasource.query('b_db', 'SELECT tenant FROM whoami') AS q(x text);
SELECT x FROM datasource.query('a_db', 'SELECT tenant || 1/0 FROM whoami') AS q(x text);
SELECT x FROM datasource.query('a_db', 'SELECT tenant FROM whoami') AS q(x text);
BEGIN;
SELECT datasource.exec('a_db', 'INSERT INTO log VALUES (''a'', -1)');
SAVEPOINT s;
SELECT datasource.exec('b_db', 'INSERT INTO log VALUES (''b'', -1)');
SELECT x FROM datasource.query('b_db', 'SELECT tenant FROM whoami') AS q(x text);
ROLLBACK TO s;
SELECT x FROM datasource.query('a_db', 'SELECT tenant FROM whoami') AS q(x text);
SELECT datasource.exec('a_db', 'INSERT INTO log VALUES (''a'', -2)');
COMMIT;
SELECT x FROM datasource.query('b_db', 'SELECT tenant FROM whoami') AS q(x text);
SQL
)
is "$out" "$(printf 't|5\nb\nERROR:  22012\na\nINSERT 0 1\nINSERT 0 1\nb\na\nINSERT 0 1\nb')" \
	"pooled: max_rows, a failed statement and a savepoint rolled back between two tenants leave each statement in its own"
is "$("${RPSQL[@]}" -d rpool -c "SELECT string_agg(n::text, ' ' ORDER BY n) FROM ta.log WHERE n < 0" \
	-c "SELECT count(*) FROM tb.log WHERE n < 0")" "$(printf -- '-2 -1\n0')" \
	"pooled: the remote transaction kept exactly what the local one committed"

# auto picks 'none' on a direct connection: statements are kept prepared
lq -c "CREATE SERVER direct FOREIGN DATA WRAPPER pg_datasource
         OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rpool')" \
	-c "CREATE USER MAPPING FOR postgres SERVER direct
         OPTIONS (user 'pool_owner', password 'pool-secret-42')" \
	-c "SELECT datasource.create_source('direct', 'direct')" \
	-c "SELECT datasource.create_database('d_db', 'direct', schema_name => 'ta', create_schema => false)" \
	>/dev/null || bail_out "direct setup failed"
PREP="SELECT n FROM datasource.query('%s', 'SELECT count(*) FROM pg_prepared_statements WHERE strpos(statement, ''whoami'') > 0') AS t(n int);"
WHO="SELECT x FROM datasource.query('%s', 'SELECT tenant FROM whoami') AS q(x text);"
out=$(printf "$WHO$WHO$WHO$PREP" d_db d_db d_db d_db | "${LPSQL[@]}" -U postgres -d "$DB" 2>&1)
is "$out" "$(printf 'a\na\na\n1')" "pooler auto on a direct connection: the connection is ours, statements are kept prepared"
out=$(printf "$WHO$WHO$WHO$PREP" a_db a_db a_db a_db | "${LPSQL[@]}" -U postgres -d "$DB" 2>&1)
is "$out" "$(printf 'a\na\na\n0')" "pooler auto behind pgbouncer: nothing is prepared on the pool's sessions"

# 'none' behind a transaction pooler: the load mixes (the test can fail)
run_load none
mixed=$((WRONG_READS + WRONG_WRITES + RO_ERRORS + OTHER_ERRORS + PLAIN_RO))
ok "$([ "$mixed" -gt 0 ] && echo 0 || echo 1)" \
	"pooler 'none' behind a transaction pooler mixes tenants or leaks read-only ($mixed statements wrong or failed)"

# the pool's sessions are left as 'none' set them (search_path, a read-only
# default, whatever the routed SETs did): statements that carry their
# tenant do not care (the plain client does: not asserted here)
run_load transaction
check_clean "transaction, on the sessions 'none' left behind" routed

stop_bouncer
done_testing
