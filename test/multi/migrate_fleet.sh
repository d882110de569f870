#!/usr/bin/env bash
# migrate_all on a fleet, from a client: a cancel from another session
# (pg_cancel_backend) halfway through 30 tenants, local and remote, ends
# the whole call: no tenant after the cancelled one is attempted (a
# sequence on each server, which no rollback resets, counts the attempts),
# nothing of the call is kept on either server and the journal has no row
# of it, so what the call reported (an error) is what is kept.  The cancel
# lands once while a local tenant's script runs and once while the local
# backend waits for a remote one.  Then raise_on_failure under
# psql -v ON_ERROR_STOP=1: the script stops with exit code 3 (without the
# option it goes on and exits 0).
#
# Needs the PGDS_* variables of test/run.sh (two running servers).
set -u
export PGOPTIONS="-c client_min_messages=error"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

DB=multi_fleet
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
rq() { "${RPSQL[@]}" -d rfleet -c "$1"; }
cleanup() {
	"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rfleet" >/dev/null 2>&1
	"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
}
trap cleanup EXIT

# --- setup: 15 local tenants (f01..f15), 15 remote ones (f16..f30)
cluster_running "$PGDS_REMOTE_DIR" || cluster_start "$PGDS_REMOTE_DIR" >/dev/null ||
	bail_out "the remote server does not run"
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rfleet" -c "DROP ROLE IF EXISTS fleet_owner" \
	-c "CREATE ROLE fleet_owner LOGIN PASSWORD 'fleet-secret-29'" \
	-c "CREATE DATABASE rfleet OWNER fleet_owner" >/dev/null || bail_out "remote setup failed"
"${RPSQL[@]}" -U fleet_owner -d rfleet -c "CREATE SCHEMA fleet_counter" \
	-c "CREATE SEQUENCE fleet_counter.attempts" >/dev/null || bail_out "remote counter setup failed"
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
	bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER fleet_srv FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rfleet')" \
	-c "CREATE USER MAPPING FOR postgres SERVER fleet_srv
	      OPTIONS (user 'fleet_owner', password 'fleet-secret-29')" \
	-c "SELECT datasource.create_source('far', 'fleet_srv')" \
	-c "SELECT datasource.create_database(format('f%s', lpad(i::text, 2, '0')),
	                                      CASE WHEN i > 15 THEN 'far' ELSE 'local' END) FROM generate_series(1, 30) i" \
	-c "CREATE SCHEMA fleet_counter" -c "CREATE SEQUENCE fleet_counter.attempts" >/dev/null ||
	bail_out "extension setup failed"
lq -c "ALTER DATABASE $DB SET datasource.connect_timeout = 3" >/dev/null

LIST="ARRAY(SELECT format('f%s', lpad(i::text, 2, '0')) FROM generate_series(1, 30) i)"
# script SLEEPER : counts its attempt, creates a table, sleeps in SLEEPER
script() {
	echo "\$s\$SELECT nextval('fleet_counter.attempts'); CREATE TABLE sleepy (id int);
SELECT pg_sleep(CASE WHEN current_schema() = '$1' THEN 60 ELSE 0 END);\$s\$"
}
attempts() {
	echo "$(lq -c "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM fleet_counter.attempts")/$(rq "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM fleet_counter.attempts")"
}
reset() {
	lq -c "SELECT setval('fleet_counter.attempts', 1, false)" >/dev/null
	rq "SELECT setval('fleet_counter.attempts', 1, false)" >/dev/null
}
# kept : tenants that have the sleepy table, local/remote
kept() {
	echo "$(lq -c "SELECT count(*) FROM generate_series(1, 15) i WHERE to_regclass(format('f%s.sleepy', lpad(i::text, 2, '0'))) IS NOT NULL")/$(rq "SELECT count(*) FROM generate_series(16, 30) i WHERE to_regclass(format('f%s.sleepy', lpad(i::text, 2, '0'))) IS NOT NULL")"
}
# wait_sleep PSQL... : waits (30 s at most) until a backend of that server sleeps in pg_sleep
wait_sleep() {
	local n
	for n in $(seq 300); do
		[ "$("$@" -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")" != 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# cancel_run SLEEPER : runs migrate_all over the 30 tenants (SLEEPER sleeps),
# cancels it from another session once SLEEPER sleeps; prints the client's
# exit code and the SQLSTATE it got
cancel_run() {
	local out pid rc
	out=$(mktemp)
	PGAPPNAME=fleet_run "${LPSQL[@]}" -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -d "$DB" \
		-c "SELECT count(*) FROM datasource.migrate_all('c_$1', $(script "$1"), $LIST)" >"$out" 2>&1 &
	pid=$!
	if [ "$1" \> f15 ]; then
		wait_sleep "${RPSQL[@]}" -d rfleet
	else
		wait_sleep lq
	fi || diag "no backend ever slept in $1"
	lq -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'fleet_run'" >/dev/null
	wait "$pid"
	rc=$?
	echo "$rc $(tr '\n' ' ' <"$out" | sed 's/ *$//')"
	rm -f "$out"
}

# --- a cancel while a local tenant's script runs (the 10th of 30)
reset
is "$(cancel_run f10)" "1 ERROR:  57014" "pg_cancel_backend during the 10th tenant (local): the call ends with 57014"
is "$(attempts)" "10/0" "no tenant after the cancelled one was attempted (10 local, 0 remote)"
is "$(kept)" "0/0" "no tenant kept the migration, local or remote"
is "$(lq -c "SELECT count(*) FROM datasource.migrations WHERE version = 'c_f10'")" "0" \
	"the journal has no row of the cancelled call"

# --- a cancel while the local backend waits for a remote tenant (the 20th)
reset
is "$(cancel_run f20)" "1 ERROR:  57014" "pg_cancel_backend during the 20th tenant (remote): the call ends with 57014"
is "$(attempts)" "15/5" "no tenant after the cancelled one was attempted (15 local, 5 remote)"
is "$(kept)" "0/0" "no tenant kept the migration, local or remote"
is "$(lq -c "SELECT count(*) FROM datasource.migrations WHERE version = 'c_f20'")" "0" \
	"the journal has no row of the cancelled call"
for n in $(seq 50); do
	[ "$(rq "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")" = 0 ] && break
	sleep 0.1
done
is "$(rq "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")" "0" \
	"the remote statement was cancelled too"

# --- raise_on_failure under psql -v ON_ERROR_STOP=1
lq -c "CREATE TABLE f02.broken (conflict text)" >/dev/null
printf '%s\n' "SELECT count(*) FROM datasource.migrate_all('r1', 'CREATE TABLE broken (id int)', ARRAY['f01', 'f02', 'f03']);" \
	"SELECT 'after';" >"$PGDS_BASE/fleet_noraise.sql"
printf '%s\n' "SELECT count(*) FROM datasource.migrate_all('r1', 'CREATE TABLE broken (id int)', ARRAY['f01', 'f02', 'f03'], raise_on_failure => true);" \
	"SELECT 'after';" >"$PGDS_BASE/fleet_raise.sql"
out=$("${LPSQL[@]}" -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -d "$DB" -1 -f "$PGDS_BASE/fleet_raise.sql" 2>&1)
rc=$?
is "$rc|$(echo "$out" | tr '\n' ' ' | sed 's/ *$//')" "3|psql:$PGDS_BASE/fleet_raise.sql:1: ERROR:  42P07" \
	"raise_on_failure: psql -v ON_ERROR_STOP=1 stops with exit code 3 at the failure's SQLSTATE"
is "$(lq -c "SELECT count(*) FROM datasource.migrations WHERE version = 'r1'")|$(lq -c "SELECT to_regclass('f01.broken') IS NULL")" \
	"0|t" "nothing of the raising call is kept (no journal row, f01 unchanged)"
out=$("${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" -1 -f "$PGDS_BASE/fleet_noraise.sql" 2>&1)
rc=$?
is "$rc|$(echo "$out" | tr '\n' ' ' | sed 's/ *$//')" "0|3 after" \
	"without raise_on_failure the same script goes on and exits 0"
rm -f "$PGDS_BASE/fleet_raise.sql" "$PGDS_BASE/fleet_noraise.sql"

done_testing
