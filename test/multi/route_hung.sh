#!/usr/bin/env bash
# A remote that stops answering entirely must not hold the control-plane
# backend hostage.  A remote server of this script's own (a third cluster,
# so no other script's remote is ever stopped) runs a routed pg_sleep; then
# either its postmaster and that backend are stopped (SIGSTOP, like a frozen
# VM: a cancel request reaches a listen queue nobody reads) or only the
# backend is (the cancel is delivered, but nothing answers).  In each case
# statement_timeout, pg_cancel_backend and pg_terminate_backend of the
# control-plane backend must return it (or end it) within 10 seconds; the
# cancel case runs inside a remote write transaction, and with the backend
# stopped a statement_timeout caught by a PL/pgSQL exception block inside
# one cleans up the subtransaction in time and leaves a COMMIT that refuses;
# a second cancel ends the cleanup's wait at once; and a statement larger
# than the sockets' buffers, sent to a stopped backend, serves
# statement_timeout while it is being sent.
# Also a first call that connects to a stopped postmaster, with no connect
# deadline, stops on a cancel.  Meanwhile another
# session routes to a local logical database.  After SIGCONT the remote
# query is cancelled or its session gone (the cancel reached it when it
# could hear), the remote write is not there, and the same control-plane
# session routes again (it reconnects).
#
# Processes are stopped only by the pid of this script's cluster (its
# postmaster.pid and its pg_stat_activity), and every one stopped is
# continued on every path out (trap on EXIT).  The return times are printed
# as notes (prove -v).
#
# Needs the PGDS_* variables of test/run.sh.
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

: "${PGDS_BASE:?run me from test/run.sh}"
PGBIN=${PGDS_BIN:-$PGBIN}
DB=multi_hung
C=$PGDS_BASE/hung               # the remote (a direct child of the base: run.sh stops it too)
W=""                            # work dir: session outputs and time stamps
LIMIT=${PGDS_HUNG_LIMIT:-40}    # seconds after which a wait counts as stuck
BOUND=10000                     # ms: what the backend must return within
STOPPED=""                      # pids stopped now
SESSIONS=""                     # background psql sessions started here
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)

# resume : continue every process this script stopped
resume() {
	local p
	for p in $STOPPED; do
		kill -CONT "$p" 2>/dev/null
	done
	STOPPED=""
}
# freeze PID... : stop processes of this script's cluster, remembering them
freeze() {
	local p
	for p in "$@"; do
		STOPPED="$STOPPED $p"
		kill -STOP "$p" || diag "could not stop $p"
	done
}
cleanup() {
	local p
	resume
	[ -n "$W" ] && touch "$W"/go.{1,2,3,4,5,6,7,8,9,10} "$W"/frozen.10 2>/dev/null
	for p in $SESSIONS; do
		kill "$p" 2>/dev/null
	done
	"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
	cluster_stop "$C" >/dev/null 2>&1
	if [ "${PGDS_KEEP:-0}" != 1 ]; then
		rm -rf "$W" "$C" "$C.initdb.log"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
# rq SQL : on the remote database (never while its postmaster is stopped)
rq() { timeout 20 "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$C" -p "$port" -U postgres -d rhung -c "$1"; }
ms() { date +%s%3N; }
# wait_for SECONDS TEST... : poll TEST every 0.1 s; status 0 once it holds
wait_for() {
	local end=$(($(ms) + $1 * 1000))
	shift
	while [ "$(ms)" -lt "$end" ]; do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}
alive() { [ -d "/proc/$1" ]; }
gone() { [ ! -d "/proc/$1" ]; }
have_file() { [ -s "$1" ]; }
remote_sleeping() { [ "$(rq "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep($1)%' AND pid <> pg_backend_pid()")" = 1 ]; }
remote_quiet() { [ "$(rq "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'")" = 0 ]; }

# --- the remote: a cluster of this script's own
W=$(mktemp -d "$PGDS_BASE/hung-work.XXXXXX") && chmod 755 "$W" || bail_out "cannot make a work dir"
port=$(free_port $((PGDS_REMOTE_PORT + 600 + RANDOM % 500))) || bail_out "no free port"
cluster_init "$C" "$port" || bail_out "initdb failed"
for _try in 1 2 3 4 5; do
	cluster_start "$C" 2>/dev/null && break
	grep -q 'could not bind\|could not create any TCP/IP sockets' "$C/server.log" || break
	port=$(free_port $((port + 1))) && cluster_set_port "$C" "$port"
done
cluster_running "$C" || { diag "$(tail -n 20 "$C/server.log")"; bail_out "the remote does not start"; }
"$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$C" -p "$port" -U postgres -d postgres \
	-c "CREATE ROLE hung_owner LOGIN PASSWORD 'hung-secret-41'" \
	-c "CREATE DATABASE rhung OWNER hung_owner" >/dev/null || bail_out "remote setup failed"
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
	bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER hung FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$port', dbname 'rhung')" \
	-c "CREATE USER MAPPING FOR postgres SERVER hung
	      OPTIONS (user 'hung_owner', password 'hung-secret-41')" \
	-c "SELECT datasource.create_source('hung', 'hung')" \
	-c "SELECT datasource.create_database('h_db', 'hung', schema_name => 'h')" \
	-c "SELECT datasource.create_database('home_db')" >/dev/null || bail_out "extension setup failed"
rq "SET ROLE hung_owner; CREATE TABLE h.t (id int PRIMARY KEY, v int); INSERT INTO h.t VALUES (1, 0)" >/dev/null ||
	bail_out "remote table setup failed"

# run_case N MODE ACTION : one case.  MODE: "all" (postmaster and backend
# stopped) or "backend"; ACTION: timeout, cancel (inside a remote write
# transaction), terminate, recancel (a second cancel while the first one's
# cleanup waits), or savepoint (a statement_timeout caught by a
# PL/pgSQL exception block inside a remote write transaction: the
# subtransaction's cleanup, then COMMIT must refuse).  The routed statement
# sleeps 600+N seconds.
run_case() {
	local n=$1 mode=$2 action=$3 secs=$((600 + $1))
	local what="$mode stopped, $action"
	local spid lpid rpid t0 t1 out stuck pre="" post=""
	local stmt="SELECT * FROM datasource.query('h_db', 'SELECT pg_sleep($secs)') AS t(x text);"
	local write="BEGIN; SELECT datasource.exec('h_db', 'UPDATE t SET v = v + 1');"

	rq "UPDATE h.t SET v = 0" >/dev/null
	case $action in
	timeout) pre="SET statement_timeout = '3s';" post="RESET statement_timeout;" ;;
	cancel) pre=$write post="ROLLBACK;" ;;
	savepoint)
		pre="$write SET LOCAL statement_timeout = '3s';" post="COMMIT;"
		stmt="DO \$\$ BEGIN PERFORM * FROM datasource.query('h_db', 'SELECT pg_sleep($secs)') AS t(x text);
			EXCEPTION WHEN query_canceled THEN NULL; END \$\$;"
		;;
	esac
	"${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate >"$W/out.$n" 2>&1 <<SQL &
$pre
\! date +%s%3N >$W/start.$n
$stmt
$post
SELECT 'alive';
\! date +%s%3N >$W/alive.$n
\! while [ ! -f $W/go.$n ]; do sleep 0.1; done
SELECT x FROM datasource.query('h_db', 'SELECT 7') AS t(x int);
SQL
	spid=$!
	SESSIONS="$SESSIONS $spid"
	if ! wait_for 15 remote_sleeping "$secs"; then
		fail "$what: the routed statement runs on the remote"
		touch "$W/go.$n"
		return
	fi
	rpid=$(rq "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep($secs)%' AND pid <> pg_backend_pid()")
	lpid=$(lq -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep($secs)%' AND pid <> pg_backend_pid()")
	if [ "$mode" = all ]; then
		freeze "$(head -n 1 "$C/postmaster.pid")" "$rpid"
	else
		freeze "$rpid"
	fi

	case $action in
	timeout | savepoint)
		wait_for "$LIMIT" have_file "$W/alive.$n"
		t0=$(($(cat "$W/start.$n") + 3000))
		t1=$(cat "$W/alive.$n" 2>/dev/null || ms)
		;;
	cancel)
		t0=$(ms)
		lq -c "SELECT pg_cancel_backend($lpid)" >/dev/null
		wait_for "$LIMIT" have_file "$W/alive.$n"
		t1=$(cat "$W/alive.$n" 2>/dev/null || ms)
		;;
	recancel)
		# the first cancel starts the cleanup, which waits on the backend
		# that never answers; a second one must end that wait at once
		lq -c "SELECT pg_cancel_backend($lpid)" >/dev/null
		sleep 1
		t0=$(ms)
		lq -c "SELECT pg_cancel_backend($lpid)" >/dev/null
		wait_for "$LIMIT" have_file "$W/alive.$n"
		t1=$(cat "$W/alive.$n" 2>/dev/null || ms)
		;;
	terminate)
		t0=$(ms)
		lq -c "SELECT pg_terminate_backend($lpid)" >/dev/null
		wait_for "$LIMIT" gone "$lpid"
		t1=$(ms)
		;;
	esac
	stuck=0
	if [ "$action" = terminate ]; then
		alive "$lpid" && stuck=1
	else
		have_file "$W/alive.$n" || stuck=1
	fi
	if [ "$stuck" = 1 ]; then
		note "$what: the control-plane backend still waits after $((t1 - t0)) ms"
	else
		note "$what: the control-plane backend returned after $((t1 - t0)) ms"
	fi
	if [ "$action" = recancel ]; then
		# well under the 5 s datasource.cleanup_timeout left
		[ $((t1 - t0)) -lt 2500 ]
		ok $? "$what: the second cancel ends the cleanup at once ($((t1 - t0)) ms)"
	else
		[ $((t1 - t0)) -lt $BOUND ]
		ok $? "$what: the control-plane backend returns within 10 s ($((t1 - t0)) ms)"
	fi
	is "$(echo "SELECT x FROM datasource.query('home_db', 'SELECT 5') AS t(x int);" |
		timeout 10 "${LPSQL[@]}" -d "$DB" 2>&1)" "5" \
		"$what: meanwhile another session routes"

	resume
	wait_for 20 remote_quiet "$rpid"
	ok $? "$what: after SIGCONT the remote query is cancelled or its session gone"
	if [ "$action" = cancel ] || [ "$action" = savepoint ]; then
		wait_for 20 gone "$rpid"
		is "$(rq "SELECT v FROM h.t")" "0" "$what: the remote write was rolled back"
	fi

	touch "$W/go.$n"
	if ! wait_for 30 gone "$spid"; then
		fail "$what: the session ends"
		return
	fi
	wait "$spid" 2>/dev/null
	out=$(cat "$W/out.$n")
	case $action in
	timeout) is "$out" "$(printf 'ERROR:  57014\nalive\n7')" \
		"$what: 57014, the session goes on and routes again once the remote answers" ;;
	cancel) is "$out" "$(printf 'UPDATE 1\nERROR:  57014\nalive\n7')" \
		"$what: 57014, the session goes on and routes again once the remote answers" ;;
	savepoint) is "$out" "$(printf 'UPDATE 1\nERROR:  08006\nalive\n7')" \
		"$what: the block goes on, COMMIT refuses the lost remote transaction (08006), the session routes again" ;;
	recancel) like "$out" $'^ERROR:  57014\n(ERROR:  57014\n)?alive\n7$' \
		"$what: 57014, the session goes on and routes again once the remote answers" ;;
	terminate) is "$(echo "SELECT x FROM datasource.query('h_db', 'SELECT 8') AS t(x int);" |
		timeout 20 "${LPSQL[@]}" -d "$DB" 2>&1)" "8" "$what: a new session routes once the remote answers" ;;
	esac
}

run_case 1 all timeout
run_case 2 all cancel
run_case 3 all terminate
run_case 4 backend timeout
run_case 5 backend cancel
run_case 6 backend terminate
run_case 7 backend savepoint
run_case 9 backend recancel

# a new session's first routed call connects to a remote whose postmaster is
# stopped (no connect deadline): a cancel stops the wait for the handshake
freeze "$(head -n 1 "$C/postmaster.pid")"
"${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate >"$W/out.8" 2>&1 <<SQL &
SET datasource.connect_timeout = 0;
SELECT * FROM datasource.query('h_db', 'SELECT 608 AS hung_connect') AS t(x int);
SELECT 'alive';
\! date +%s%3N >$W/alive.8
\! while [ ! -f $W/go.8 ]; do sleep 0.1; done
SELECT x FROM datasource.query('h_db', 'SELECT 7') AS t(x int);
SQL
spid=$!
SESSIONS="$SESSIONS $spid"
# local_connecting : the session waits (on the extension's wait event)
local_connecting() {
	[ -n "$(lq -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%608 AS hung_connect%'
	                 AND wait_event_type = 'Extension' AND pid <> pg_backend_pid()")" ]
}
if wait_for 15 local_connecting; then
	lpid=$(lq -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%608 AS hung_connect%' AND pid <> pg_backend_pid()")
	t0=$(ms)
	lq -c "SELECT pg_cancel_backend($lpid)" >/dev/null
	wait_for "$LIMIT" have_file "$W/alive.8"
	t1=$(cat "$W/alive.8" 2>/dev/null || ms)
	note "postmaster stopped, connecting, cancel: the control-plane backend returned after $((t1 - t0)) ms"
	[ $((t1 - t0)) -lt $BOUND ]
	ok $? "postmaster stopped, connecting, cancel: the backend returns within 10 s ($((t1 - t0)) ms)"
else
	fail "postmaster stopped, connecting: the session waits to connect"
fi
resume
touch "$W/go.8"
wait_for 30 gone "$spid" && wait "$spid" 2>/dev/null
is "$(cat "$W/out.8")" "$(printf 'ERROR:  57014\nalive\n7')" \
	"postmaster stopped, connecting, cancel: 57014, and the session connects once the remote answers"

# a statement larger than the sockets' buffers, sent to a remote whose
# backend is stopped: the send itself must serve statement_timeout
rq "UPDATE h.t SET v = 0" >/dev/null
"${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate >"$W/out.10" 2>&1 <<SQL &
BEGIN;
SELECT datasource.exec('h_db', 'UPDATE t SET v = v + 1 /* big_send */');
\! while [ ! -f $W/frozen.10 ]; do sleep 0.1; done
SET LOCAL statement_timeout = '3s';
\! date +%s%3N >$W/start.10
SELECT x FROM datasource.query('h_db', 'SELECT length(\$1)', ARRAY[repeat('x', 48000000)]) AS t(x int);
ROLLBACK;
SELECT 'alive';
\! date +%s%3N >$W/alive.10
\! while [ ! -f $W/go.10 ]; do sleep 0.1; done
SELECT x FROM datasource.query('h_db', 'SELECT 7') AS t(x int);
SQL
spid=$!
SESSIONS="$SESSIONS $spid"
# remote_idle_in_xact : the session's remote transaction waits for its next statement
remote_idle_in_xact() {
	[ -n "$(rq "SELECT pid FROM pg_stat_activity WHERE query LIKE '%big_send%' AND state = 'idle in transaction'")" ]
}
if wait_for 15 remote_idle_in_xact; then
	rpid=$(rq "SELECT pid FROM pg_stat_activity WHERE query LIKE '%big_send%' AND state = 'idle in transaction'")
	freeze "$rpid"
	touch "$W/frozen.10"
	wait_for "$LIMIT" have_file "$W/alive.10"
	if have_file "$W/alive.10"; then
		t0=$(($(cat "$W/start.10") + 3000))
		t1=$(cat "$W/alive.10")
		note "backend stopped, a 48 MB statement, timeout: the control-plane backend returned after $((t1 - t0)) ms"
		[ $((t1 - t0)) -lt $BOUND ]
		ok $? "backend stopped, a 48 MB statement, timeout: the backend returns within 10 s ($((t1 - t0)) ms)"
	else
		fail "backend stopped, a 48 MB statement, timeout: the backend returns within 10 s (still sending after ${LIMIT} s)"
	fi
else
	fail "backend stopped, a 48 MB statement: the remote transaction is open"
	touch "$W/frozen.10"
fi
resume
wait_for 20 gone "$rpid"
is "$(rq "SELECT v FROM h.t")" "0" "backend stopped, a 48 MB statement, timeout: the remote write was rolled back"
touch "$W/go.10"
wait_for 30 gone "$spid" && wait "$spid" 2>/dev/null
is "$(cat "$W/out.10")" "$(printf 'UPDATE 1\nERROR:  57014\nalive\n7')" \
	"backend stopped, a 48 MB statement, timeout: 57014, and the session routes again once the remote answers"

done_testing
