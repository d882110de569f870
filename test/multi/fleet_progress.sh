#!/usr/bin/env bash
# The progress of a running migrate_all, seen from another session, on a
# server of its own with pg_datasource in shared_preload_libraries (the
# harness's servers do not preload it).  One session runs migrate_all over
# 30 tenants whose script sleeps 0.2 s each; another polls
# datasource.migration_progress: one row, total 30, done grows, the
# current logical database is a tenant, datasource.fleet says which one is
# migrating; a role of its own sees the row without version and current
# database until it gets pg_read_all_stats.  After the call: no row.  After
# a cancel (the session stays, its transaction aborted), after a cancel
# caught in a PL/pgSQL exception block (the transaction goes on) and after
# pg_terminate_backend: no row, the slot is freed.  A version over 63
# bytes shows cut at a character boundary.  migrate_waves keeps one row
# across the commits of its waves; with parallel workers, its done counts
# theirs while a wave runs.  Then, on the harness's
# local server (no preload): migration_progress raises 55000, fleet's
# migrating is NULL, and migrate_all works as before.
#
# Needs the PGDS_* variables of test/run.sh.
set -u
export PGOPTIONS="-c client_min_messages=error"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

: "${PGDS_BASE:?run me from test/run.sh}"
PGBIN=${PGDS_BIN:-$PGBIN}
C=$PGDS_BASE/progress            # a direct child of the base: run.sh stops it too
DB=fleet_progress
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)

cleanup() {
	cluster_stop "$C" >/dev/null 2>&1
	"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	if [ "${PGDS_KEEP:-0}" != 1 ]; then
		rm -rf "$C" "$C.initdb.log"
	fi
}
trap cleanup EXIT

port=$(free_port $((PGDS_LOCAL_PORT + 40))) || bail_out "no free port"
cluster_init "$C" "$port" >/dev/null || bail_out "initdb failed"
echo "shared_preload_libraries = 'pg_datasource'" >>"$C/postgresql.conf"
cluster_start "$C" || bail_out "the server with pg_datasource preloaded did not start"

PSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$C" -p "$port" -U postgres)
q() { "${PSQL[@]}" -d "$DB" -c "$1"; }
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB" -c "CREATE ROLE fp_other LOGIN" >/dev/null ||
	bail_out "setup failed"
q "CREATE EXTENSION pg_datasource" >/dev/null || bail_out "CREATE EXTENSION failed"
q "SELECT count(datasource.create_database(format('p%s', lpad(i::text, 2, '0')))) FROM generate_series(1, 30) i" \
	>/dev/null || bail_out "tenants"

SCRIPT="\$s\$SELECT pg_sleep(0.2); CREATE TABLE s (id int);\$s\$"

# runner SQL [PSQL ARGS] : runs SQL (then what ARGS say) in the background
# as application fp_run (its client's pid in $client)
runner() {
	local sql=$1
	shift
	PGAPPNAME=fp_run "${PSQL[@]}" -v VERBOSITY=sqlstate -d "$DB" -c "$sql" "$@" >"$PGDS_BASE/fp_run.out" 2>&1 &
	client=$!
}
# backend : the pid of the runner's backend, or nothing
backend() {
	q "SELECT pid FROM pg_stat_activity WHERE application_name = 'fp_run'"
}
# wait_for SQL VALUE : polls (20 s at most) until SQL prints VALUE
wait_for() {
	local n
	for n in $(seq 200); do
		[ "$(q "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
rows() { q "SELECT count(*) FROM datasource.migration_progress"; }

# --- a run, watched from here
runner "SELECT count(*) FROM datasource.migrate_all('0001', $SCRIPT)"
wait_for "SELECT count(*) FROM datasource.migration_progress WHERE done >= 2" 1 ||
	diag "the progress never reached 2 done"
pid=$(backend)
first=$(q "SELECT pid = $pid, datname, role, version, total, done, current_database ~ '^p[0-9][0-9]\$',
               elapsed > interval '0', applied = done, failed FROM datasource.migration_progress")
is "$(echo "$first" | cut -d'|' -f1-5,7-10)" "t|$DB|postgres|0001|30|t|t|t|0" \
	"migration_progress: the running session's pid, database, role, version, total 30, a tenant, elapsed, counts"
done1=$(echo "$first" | cut -d'|' -f6)
sleep 0.7
done2=$(q "SELECT done FROM datasource.migration_progress")
ok "$([ -n "$done2" ] && [ "$done2" -gt "$done1" ]; echo $?)" "done grows ($done1, then $done2 of 30)"
is "$(q "SELECT count(*) FILTER (WHERE migrating), count(*) FILTER (WHERE NOT migrating) FROM datasource.fleet")" \
	"1|29" "fleet: one logical database is migrating, the 29 others not"
is "$("${PSQL[@]}" -U fp_other -d "$DB" -c "SELECT role, version IS NULL, current_database IS NULL, total
                                           FROM datasource.migration_progress")" \
	"postgres|t|t|30" "another role sees the row, not its version or current database"
"${PSQL[@]}" -d postgres -c "GRANT pg_read_all_stats TO fp_other" >/dev/null
is "$("${PSQL[@]}" -U fp_other -d "$DB" -c "SELECT version, current_database IS NOT NULL FROM datasource.migration_progress")" \
	"0001|t" "with pg_read_all_stats it sees them"
wait "$client"
is "$?|$(cat "$PGDS_BASE/fp_run.out")" "0|30" "the call returned its 30 rows"
is "$(rows)" "0" "after the call: no row"
is "$(q "SELECT count(*) FROM datasource.migrations WHERE version = '0001' AND status = 'applied'")" "30" \
	"the journal has the 30 applied tenants"
is "$(q "SELECT count(*) FROM datasource.fleet WHERE migrating OR migrating IS NULL")" "0" \
	"fleet: nothing migrating after the call"

# --- a cancel: the call's transaction aborts, the session stays (and sleeps)
runner "SELECT count(*) FROM datasource.migrate_all('0002', $SCRIPT)" -v ON_ERROR_STOP=0 -c "SELECT pg_sleep(60)"
wait_for "SELECT count(*) FROM datasource.migration_progress WHERE done >= 2" 1 || diag "0002 never ran"
pid=$(backend)
q "SELECT pg_cancel_backend($pid)" >/dev/null
wait_for "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid AND wait_event = 'PgSleep'" 1 ||
	diag "the session never went on to its sleep"
is "$(rows)|$(q "SELECT state FROM pg_stat_activity WHERE pid = $pid")" "0|active" \
	"after a cancel: no row, while the session lives on"
q "SELECT pg_terminate_backend($pid)" >/dev/null
wait "$client"
is "$(head -n 1 "$PGDS_BASE/fp_run.out")" "ERROR:  57014" "the cancelled call ended with 57014"

# --- a cancel caught by an exception block: the transaction goes on (sleeps)
runner "DO \$\$ BEGIN
	BEGIN
		PERFORM count(*) FROM datasource.migrate_all('0003', $SCRIPT);
	EXCEPTION WHEN query_canceled THEN NULL;
	END;
	PERFORM pg_sleep(60);
END \$\$"
wait_for "SELECT count(*) FROM datasource.migration_progress WHERE done >= 2" 1 || diag "0003 never ran"
pid=$(backend)
q "SELECT pg_cancel_backend($pid)" >/dev/null
wait_for "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid AND wait_event = 'PgSleep'" 1 ||
	diag "the DO block never went on to its sleep"
is "$(rows)|$(q "SELECT state FROM pg_stat_activity WHERE pid = $pid")" "0|active" \
	"a cancel caught in a PL/pgSQL block: no row while the same transaction goes on"
q "SELECT pg_terminate_backend($pid)" >/dev/null
wait "$client"

# --- pg_terminate_backend during a call
runner "SELECT count(*) FROM datasource.migrate_all('0004', $SCRIPT)"
wait_for "SELECT count(*) FROM datasource.migration_progress WHERE done >= 2" 1 || diag "0004 never ran"
pid=$(backend)
q "SELECT pg_terminate_backend($pid, 20000)" >/dev/null
wait "$client"
is "$(q "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid")|$(rows)" "0|0" \
	"after pg_terminate_backend: the backend is gone, and so is its row"
is "$(q "SELECT count(*) FROM datasource.migrations WHERE version IN ('0002', '0003', '0004')")" "0" \
	"none of the stopped calls was journaled"

# --- a new session in the terminated one's place starts from an empty slot
runner "SELECT count(*) FROM datasource.migrate_all('0005', \$s\$SELECT pg_sleep(0.05)\$s\$, ARRAY['p01', 'p02', 'p03'])"
wait "$client"
is "$?|$(cat "$PGDS_BASE/fp_run.out")|$(rows)" "0|3|0" "a later call runs and leaves no row"

# --- a long version is cut to 63 bytes, at a character boundary
long=$(printf 'é%.0s' $(seq 40))
runner "SELECT count(*) FROM datasource.migrate_all('$long', \$s\$SELECT pg_sleep(0.3)\$s\$, ARRAY['p01', 'p02', 'p03', 'p04'])"
wait_for "SELECT count(*) FROM datasource.migration_progress WHERE done >= 1" 1 || diag "the long version never ran"
is "$(q "SELECT octet_length(version), version = repeat('é', 31) FROM datasource.migration_progress")" "62|t" \
	"a version of 80 bytes shows as its first 31 characters (62 bytes, no character cut)"
wait "$client"
is "$?|$(q "SELECT count(*) FROM datasource.migrations WHERE version = '$long'")" "0|4" \
	"the journal has the whole version"

# --- migrate_waves: one row from its first wave to its last, across its commits
runner "CALL datasource.migrate_waves('0006', \$s\$SELECT pg_sleep(0.1)\$s\$, wave_size => 10)"
wait_for "SELECT count(*) FROM datasource.migration_progress WHERE done >= 12" 1 ||
	diag "migrate_waves never got into its second wave"
pid=$(backend)
is "$(q "SELECT pid = $pid, version, total FROM datasource.migration_progress")|$(q "SELECT count(*) IN (10, 20) FROM datasource.migrations WHERE version = '0006'")" \
	"t|0006|30|t" "migrate_waves past its first wave: the same row (total 30) while the journal has the committed waves' rows"
wait "$client"
is "$?|$(rows)|$(q "SELECT count(*) FROM datasource.migrations WHERE version = '0006' AND status = 'applied'")" "0|0|30" \
	"after migrate_waves: no row, 30 applied"

# --- migrate_waves with parallel workers: the leader's row counts the workers' done
runner "CALL datasource.migrate_waves('0007', \$s\$SELECT pg_sleep(0.15)\$s\$, wave_size => 30, parallel => 2)"
wait_for "SELECT count(*) FROM datasource.migration_progress WHERE done >= 4" 1 ||
	diag "the parallel wave never showed 4 done"
pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'fp_run' AND backend_type = 'client backend'")
is "$(q "SELECT pid = $pid, total, done < 30 FROM datasource.migration_progress")" "t|30|t" \
	"parallel 2, one wave of 30: one row, the leader's, whose done counts the workers' results while the wave runs"
wait "$client"
is "$?|$(rows)|$(q "SELECT count(*) FROM datasource.migrations WHERE version = '0007' AND status = 'applied'")" "0|0|30" \
	"after it: no row, 30 applied"

# --- without shared_preload_libraries (the harness's local server)
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null &&
	"${LPSQL[@]}" -d "$DB" -c "CREATE EXTENSION pg_datasource" \
		-c "SELECT datasource.create_database('np1')" >/dev/null || bail_out "local setup failed"
out=$("${LPSQL[@]}" -v VERBOSITY=sqlstate -d "$DB" -c "SELECT count(*) FROM datasource.migration_progress" 2>&1)
is "$out" "ERROR:  55000" "without preload: migration_progress raises 55000, not zero rows"
out=$("${LPSQL[@]}" -d "$DB" -c "SELECT count(*) FROM datasource.migration_progress" 2>&1)
like "$out" "shared_preload_libraries" "its message says how to get it"
is "$("${LPSQL[@]}" -d "$DB" -c "SELECT migrating IS NULL FROM datasource.fleet")" "t" \
	"without preload: fleet's migrating is NULL (unknown)"
is "$("${LPSQL[@]}" -d "$DB" -c "SELECT status FROM datasource.migrate_all('0001', 'CREATE TABLE s (id int)')")" \
	"applied" "without preload: migrate_all runs as before"

done_testing
