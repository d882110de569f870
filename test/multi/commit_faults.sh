#!/usr/bin/env bash
# Fault tests of two-phase commit across datasources: a transaction writes
# on two remote datasources (two databases of the remote test server) and
# locally with datasource.two_phase_commit on, and the control-plane backend
# (SIGKILL: the local server restarts after a crash) or a remote backend is
# killed at each step of the commit:
#   during a remote PREPARE (a deferred trigger sleeps in it),
#   after every PREPARE, before the local commit,
#   after the local commit, before COMMIT PREPARED,
#   between the COMMIT PREPAREDs;
# the steps user SQL cannot reach are held by the testing aid
# datasource.debug_commit_pause.  Then the resolver (by hand, or the
# automatic one at the next connection): every remote ends where the local
# transaction ended (the row on all three or on none) and nothing is left
# prepared.  Also: the resolver leaves the prepared transactions of a
# transaction still in progress, and a single remote without local writes
# commits without PREPARE.
#
# Needs the PGDS_* variables of test/run.sh (two running servers); the
# local server crash-restarts several times.
set -u
export PGOPTIONS="-c client_min_messages=error"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

DB=multi_commit_faults
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
rq() { "${RPSQL[@]}" -d "$1" -c "$2"; }
# poll N SECONDS CMD... : run CMD every 0.1 s until it succeeds, N*0.1 s at most
poll() {
	local i n=$1
	shift
	for i in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
rows() {
	printf '%s|%s|%s' "$(rq rf1 "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '-') FROM a.t")" \
		"$(rq rf2 "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '-') FROM b.t")" \
		"$(lq -c "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '-') FROM lt")"
}
prepared() { echo $(( $(rq rf1 "SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()") + $(rq rf2 "SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()") )); }
clear_rows() { rq rf1 "TRUNCATE a.t" >/dev/null; rq rf2 "TRUNCATE b.t; TRUNCATE b.slow" >/dev/null; lq -c "TRUNCATE lt" >/dev/null; }
local_up() { "${LPSQL[@]}" -d "$DB" -c "SELECT 1" >/dev/null 2>&1; }
# victim STEP K [slow] : in the background, a session that writes K on both
# remotes and locally with two-phase commit, pausing at STEP; with slow, the
# PREPARE on rf2 sleeps 2 s in a deferred trigger
victim() {
	local step=$1 k=$2 slow=${3:-}
	{
		printf '%s\n' "SET datasource.two_phase_commit = on;" \
			"SET datasource.debug_commit_pause = '$step';" "BEGIN;" \
			"SELECT datasource.exec('db1', 'INSERT INTO t VALUES ($k)');" \
			"SELECT datasource.exec('db2', 'INSERT INTO t VALUES ($k)');"
		[ -n "$slow" ] && printf '%s\n' "SELECT datasource.exec('db2', 'INSERT INTO slow VALUES ($k)');"
		printf '%s\n' "INSERT INTO lt VALUES ($k);" "COMMIT;"
	} | PGAPPNAME=commit_victim "${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate >"$OUT" 2>&1 &
	VPID=$!
}
paused() {
	[ "$("${LPSQL[@]}" -d "$DB" -c "SELECT count(*) FROM pg_stat_activity
	       WHERE application_name = 'commit_victim' AND wait_event = 'Extension'" 2>/dev/null)" = 1 ]
}
remote_sleeping() {
	[ "$(rq rf2 "SELECT count(*) FROM pg_stat_activity WHERE datname = 'rf2'
	              AND application_name = 'pg_datasource' AND wait_event = 'PgSleep'")" = 1 ]
}
# kill_ctl : SIGKILL the victim's backend; wait until the local server is back
kill_ctl() {
	local pid
	pid=$("${LPSQL[@]}" -d "$DB" -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'commit_victim'")
	[ -n "$pid" ] && kill -KILL "$pid"
	wait "$VPID"
	sleep 0.5
	poll 300 local_up
}
# kill_remote DB : terminate the pg_datasource sessions on remote database DB
kill_remote() {
	rq "$1" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	          WHERE datname = '$1' AND application_name = 'pg_datasource'" >/dev/null
}
# resolve : the resolver by hand (two_phase_commit off, so connecting does
# not resolve first); prints the actions, sorted
resolve() {
	"${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" -c "SET datasource.two_phase_commit = off" \
		-c "SELECT coalesce(string_agg(action, ',' ORDER BY action), '-') FROM datasource.resolve_transactions()"
}

# --- setup
cluster_running "$PGDS_REMOTE_DIR" || cluster_start "$PGDS_REMOTE_DIR" >/dev/null ||
	bail_out "the remote server does not run"
[ "$(rq postgres "SHOW max_prepared_transactions")" -gt 0 ] ||
	bail_out "the remote test server needs max_prepared_transactions > 0"
rq postgres "DROP DATABASE IF EXISTS rf1" >/dev/null && rq postgres "DROP DATABASE IF EXISTS rf2" >/dev/null &&
	rq postgres "DROP ROLE IF EXISTS fault_owner" >/dev/null &&
	rq postgres "CREATE ROLE fault_owner LOGIN PASSWORD 'fault-secret-3'" >/dev/null &&
	rq postgres "CREATE DATABASE rf1 OWNER fault_owner" >/dev/null &&
	rq postgres "CREATE DATABASE rf2 OWNER fault_owner" >/dev/null || bail_out "remote setup failed"
for d in rf1:a rf2:b; do
	"${RPSQL[@]}" -U fault_owner -d "${d%%:*}" \
		-c "CREATE SCHEMA ${d##*:}" \
		-c "CREATE TABLE ${d##*:}.t (id int PRIMARY KEY)" \
		-c "CREATE TABLE ${d##*:}.slow (id int)" \
		-c "CREATE FUNCTION ${d##*:}.nap() RETURNS trigger LANGUAGE plpgsql AS
		      \$\$BEGIN PERFORM pg_sleep(2); RETURN NULL; END\$\$" \
		-c "CREATE CONSTRAINT TRIGGER nap AFTER INSERT ON ${d##*:}.slow
		      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${d##*:}.nap()" \
		>/dev/null || bail_out "remote schema setup failed"
done
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
	bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" -c "CREATE TABLE lt (id int PRIMARY KEY)" >/dev/null ||
	bail_out "extension setup failed"
for n in 1 2; do
	s=$([ $n = 1 ] && echo a || echo b)
	lq -c "CREATE SERVER fsrv$n FOREIGN DATA WRAPPER pg_datasource
	         OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rf$n')" \
		-c "CREATE USER MAPPING FOR postgres SERVER fsrv$n
	         OPTIONS (user 'fault_owner', password 'fault-secret-3')" \
		-c "SELECT datasource.create_source('f$n', 'fsrv$n')" \
		-c "SELECT datasource.create_database('db$n', 'f$n', schema_name => '$s', create_schema => false)" \
		>/dev/null || bail_out "datasource setup failed"
done
lq -c "ALTER DATABASE $DB SET datasource.connect_timeout = 5" >/dev/null

# --- no fault: both remotes and the local database commit, nothing stays prepared
clear_rows
is "$(printf '%s\n' "SET datasource.two_phase_commit = on;" "BEGIN;" \
	"SELECT datasource.exec('db1', 'INSERT INTO t VALUES (1)');" \
	"SELECT datasource.exec('db2', 'INSERT INTO t VALUES (1)');" \
	"INSERT INTO lt VALUES (1);" "COMMIT;" | "${LPSQL[@]}" -d "$DB" 2>&1)" "INSERT 0 1
INSERT 0 1" "two-phase commit on two remotes and locally: the transaction commits"
is "$(rows)|$(prepared)" "1|1|1|0" "its rows are on all three and nothing is left prepared"
# a remote transaction that touched a temporary table cannot PREPARE: it
# shows which commits used two-phase commit
tmp_commit() {
	printf '%s\n' "SET datasource.two_phase_commit = on;" "BEGIN;" \
		"SELECT datasource.exec('db1', 'CREATE TEMP TABLE tmp1 (x int) ON COMMIT DROP');" \
		"SELECT datasource.exec('db1', 'INSERT INTO t VALUES ($1)');" "$2" "COMMIT;" |
		"${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate 2>&1 | grep -c ERROR
}
is "$(tmp_commit 2 "SELECT 1;")|$(rows)" "0|1,2|1|1" \
	"one remote and no local writes: a plain COMMIT (a temp table would refuse PREPARE)"
is "$(tmp_commit 3 "INSERT INTO lt VALUES (3);")|$(rows)|$(prepared)" "1|1,2|1|1|0" \
	"one remote and local writes: two-phase commit (the temp table refuses PREPARE: all roll back)"

# --- during a remote PREPARE
clear_rows
victim off 10 slow
poll 100 remote_sleeping || diag "rf2's PREPARE did not start"
kill_ctl
sleep 2.5		# rf2's PREPARE completes for a client that is gone
actions=$(resolve)
is "$(rows)|$(prepared)" "-|-|-|0" "control plane killed during a remote PREPARE: after the resolver, no row anywhere, nothing prepared"
like "$actions" "^(rolled back,?)+$" "the resolver rolled back what was prepared ($actions)"

clear_rows
victim off 11 slow
poll 100 remote_sleeping || diag "rf2's PREPARE did not start"
kill_remote rf2
wait "$VPID"
like "$(cat "$OUT")" "ERROR:  08006" "remote killed during its PREPARE: the commit fails"
is "$(rows)|$(prepared)" "-|-|-|0" "and nothing is committed or left prepared anywhere (the other remote was rolled back)"

# --- after every PREPARE, before the local commit
clear_rows
victim after_prepare 20
poll 100 paused || diag "the victim did not pause"
is "$(resolve)" "in progress,in progress" "the resolver leaves the prepared transactions of a transaction in progress"
is "$(prepared)" "2" "both are still prepared"
kill_ctl
actions=$(resolve)
is "$(rows)|$(prepared)" "-|-|-|0" "control plane killed after PREPARE: after the resolver, no row anywhere"
is "$actions" "rolled back,rolled back" "the resolver rolled both back"

clear_rows
victim after_prepare 21
poll 100 paused || diag "the victim did not pause"
kill_remote rf2
wait "$VPID"
is "$(rows)|$(prepared)" "21|-|21|1" "remote rf2 killed after PREPARE: the local commit and rf1 went on, rf2 stays prepared"
is "$(grep -c ERROR "$OUT")" "0" "the commit itself succeeded (a WARNING only)"
# automatic: a new connection while two_phase_commit is on resolves
"${LPSQL[@]}" -d "$DB" -c "SET datasource.two_phase_commit = on" \
	-c "SELECT count(*) FROM datasource.query('db2', 'SELECT 1') AS q(x int)" >/dev/null
is "$(rows)|$(prepared)" "21|21|21|0" "the next connection to rf2 with two_phase_commit on committed it (automatic resolution)"

# --- after the local commit, before COMMIT PREPARED
clear_rows
victim after_commit 30
poll 100 paused || diag "the victim did not pause"
kill_ctl
is "$(lq -c "SELECT count(*) FROM lt")" "1" "control plane killed after the local commit: the local row survived the crash"
actions=$(resolve)
is "$(rows)|$(prepared)" "30|30|30|0" "after the resolver the row is on both remotes too"
is "$actions" "committed,committed" "the resolver committed both"

clear_rows
victim after_commit 31
poll 100 paused || diag "the victim did not pause"
kill_remote rf1
wait "$VPID"
actions=$(resolve)
is "$(rows)|$(prepared)" "31|31|31|0" "remote rf1 killed after the local commit: after the resolver, the row is on all three"
is "$actions" "committed" "the resolver committed rf1's"

# --- between the COMMIT PREPAREDs
clear_rows
victim between_commits 40
poll 100 paused || diag "the victim did not pause"
is "$(prepared)" "1" "paused between the COMMIT PREPAREDs: one remote committed, one prepared"
kill_ctl
actions=$(resolve)
is "$(rows)|$(prepared)" "40|40|40|0" "control plane killed between the COMMIT PREPAREDs: after the resolver, the row is on all three"
is "$actions" "committed" "the resolver committed the one left"

is "$(resolve)" "-" "nothing is left for the resolver"
is "$(printf '%s\n' "BEGIN;" "SELECT datasource.exec('db1', 'INSERT INTO t VALUES (99)');" \
	"SELECT * FROM datasource.resolve_transactions('f1');" "ROLLBACK;" |
	"${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate 2>&1 | grep ERROR)|$(rows)" "ERROR:  25001|40|40|40" \
	"resolve_transactions() on a datasource this transaction wrote on is refused (25001) and changes nothing"
done_testing
