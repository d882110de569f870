#!/usr/bin/env bash
# migrate_waves with parallel > 1: background workers share each wave, each
# committing its share.  48 tenants: a01..a40 local, a41..a44 on remote
# database rpar1 (datasource far1), a45..a48 on rpar2 (far2); waves of 20.
#   - parallel 2 and 4: every tenant applied exactly once (the script counts
#     its runs in a sequence), one journal row each, the counts right, each
#     tenant committed on its own by its worker, no worker left;
#   - a failure in wave 2 stops the call after it, as without workers;
#   - per_source 1: never two workers in a script on one datasource at once
#     (the script logs its start and end; without per_source they overlap);
#   - a cancel, a statement_timeout and a pg_terminate_backend of the
#     leader: the CALL ends, no
#     worker is left, nothing of the wave is kept (every tenant has the
#     table exactly when the journal says applied);
#   - a worker terminated on its own: the CALL ends with 55000, the tenant it
#     was migrating rolled back, the others committed, the journal agrees;
#   - workers act as the caller: SET ROLE and a login role without
#     superuser: the tables are theirs, the journal names them, a tenant
#     the caller cannot create in fails (42501) in the worker too;
#   - the leader's settings (SET lock_timeout) reach the workers;
#   - workers that cannot connect (ALLOW_CONNECTIONS false): the leader
#     runs the wave itself;
#   - more workers than slots: the wave runs with those it got (NOTICE);
#     none at all (a server with max_worker_processes = 0): the leader runs
#     the wave itself;
#   - max_failures counts the failures of all the workers;
#   - parallel 0, 33 and per_source 0 are refused (22023).
#
# Needs the PGDS_* variables of test/run.sh (two running servers).
set -u
export PGOPTIONS="-c client_min_messages=error"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"
: "${PGDS_BASE:?run me from test/run.sh}"
PGBIN=${PGDS_BIN:-$PGBIN}

DB=multi_par
C=$PGDS_BASE/par_noworkers      # a direct child of the base: run.sh stops it too
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
rq() { "${RPSQL[@]}" -d "$1" -c "$2"; }
cleanup() {
	cluster_stop "$C" >/dev/null 2>&1
	[ "${PGDS_KEEP:-0}" = 1 ] || rm -rf "$C" "$C.initdb.log"
	"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rpar1" -c "DROP DATABASE IF EXISTS rpar2" >/dev/null 2>&1
	"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	"${LPSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS par_login" -c "DROP ROLE IF EXISTS par_dep" >/dev/null 2>&1
}
trap cleanup EXIT

# --- setup
cluster_running "$PGDS_REMOTE_DIR" || cluster_start "$PGDS_REMOTE_DIR" >/dev/null ||
	bail_out "the remote server does not run"
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rpar1" -c "DROP DATABASE IF EXISTS rpar2" \
	-c "DROP ROLE IF EXISTS par_owner" -c "CREATE ROLE par_owner LOGIN PASSWORD 'par-secret-47'" \
	-c "CREATE DATABASE rpar1 OWNER par_owner" -c "CREATE DATABASE rpar2 OWNER par_owner" >/dev/null ||
	bail_out "remote setup failed"
for r in rpar1 rpar2; do
	"${RPSQL[@]}" -U par_owner -d $r -c "CREATE SCHEMA par_side" -c "CREATE SEQUENCE par_side.runs" \
		-c "CREATE TABLE par_side.log (tenant text, ev text, at timestamptz, pid int)" >/dev/null ||
		bail_out "remote side tables"
done
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" \
	-c "DROP ROLE IF EXISTS par_login" -c "DROP ROLE IF EXISTS par_dep" \
	-c "CREATE ROLE par_dep NOLOGIN" -c "CREATE ROLE par_login LOGIN" >/dev/null || bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER par_srv1 FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rpar1')" \
	-c "CREATE SERVER par_srv2 FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rpar2')" \
	-c "CREATE USER MAPPING FOR postgres SERVER par_srv1 OPTIONS (user 'par_owner', password 'par-secret-47')" \
	-c "CREATE USER MAPPING FOR postgres SERVER par_srv2 OPTIONS (user 'par_owner', password 'par-secret-47')" \
	-c "SELECT datasource.create_source('far1', 'par_srv1')" \
	-c "SELECT datasource.create_source('far2', 'par_srv2')" \
	-c "SELECT count(datasource.create_database(format('a%s', lpad(i::text, 2, '0')),
	                CASE WHEN i > 44 THEN 'far2' WHEN i > 40 THEN 'far1' ELSE 'local' END))
	      FROM generate_series(1, 48) i" \
	-c "CREATE SCHEMA par_side" -c "CREATE SEQUENCE par_side.runs" \
	-c "CREATE TABLE par_side.log (tenant text, ev text, at timestamptz, pid int)" \
	-c "GRANT USAGE ON SCHEMA par_side TO PUBLIC" -c "GRANT ALL ON par_side.log, par_side.runs TO PUBLIC" >/dev/null ||
	bail_out "extension setup failed"
lq -c "ALTER DATABASE $DB SET datasource.connect_timeout = 3" >/dev/null

# script TABLE [SLEEP_FROM SLEEP_TO [SECONDS]] : counts its run, logs its start
# and end, creates TABLE; tenants aFROM..aTO sleep SECONDS (default 60)
script() {
	local cond="false"
	[ -n "${2:-}" ] && cond="current_schema() BETWEEN 'a$2' AND 'a$3'"
	echo "\$s\$SELECT nextval('par_side.runs');
INSERT INTO par_side.log SELECT current_schema(), 's', clock_timestamp(), pg_backend_pid();
CREATE TABLE $1 (id int);
SELECT pg_sleep(CASE WHEN $cond THEN ${4:-60} ELSE 0 END);
INSERT INTO par_side.log SELECT current_schema(), 'e', clock_timestamp(), pg_backend_pid();\$s\$"
}
runs() {
	echo $(($(lq -c "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM par_side.runs") + \
		$(rq rpar1 "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM par_side.runs") + \
		$(rq rpar2 "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM par_side.runs")))
}
reset() {
	lq -c "SELECT setval('par_side.runs', 1, false)" -c "TRUNCATE par_side.log" >/dev/null
	for r in rpar1 rpar2; do
		rq $r "SELECT setval('par_side.runs', 1, false)" >/dev/null
		rq $r "TRUNCATE par_side.log" >/dev/null
	done
}
# kept TABLE FROM TO : how many of the tenants aFROM..aTO have TABLE
kept() {
	local n=0 lo hi db i
	for part in "1 40 $DB" "41 44 rpar1" "45 48 rpar2"; do
		set -- "$1" "$2" "$3" $part
		lo=$(($2 > $4 ? $2 : $4)) hi=$(($3 < $5 ? $3 : $5))
		[ "$lo" -gt "$hi" ] && continue
		q="SELECT count(*) FROM generate_series($lo, $hi) i
		    WHERE to_regclass(format('a%s.$1', lpad(i::text, 2, '0'))) IS NOT NULL"
		if [ "$6" = "$DB" ]; then i=$(lq -c "$q"); else i=$(rq "$6" "$q"); fi
		n=$((n + i))
	done
	echo $n
}
# journal VERSION : its journal rows as "status count" lines, by status
journal() {
	lq -c "SELECT string_agg(status || ' ' || n, ', ' ORDER BY status)
	         FROM (SELECT status, count(*) AS n FROM datasource.migrations
	                WHERE version = '$1' GROUP BY status) s"
}
# agree VERSION TABLE : the tenants whose table and journal disagree (none: "")
agree() {
	local t
	for i in $(seq 1 48); do
		t=$(printf 'a%02d' "$i")
		has=$([ "$(kept "$2" "$i" "$i")" = 1 ] && echo 1 || echo 0)
		j=$(lq -c "SELECT count(*) FROM datasource.migrations WHERE version = '$1' AND database = '$t' AND status = 'applied'")
		[ "$has" = "$j" ] || printf '%s(table %s journal %s) ' "$t" "$has" "$j"
	done
}
workers() {
	lq -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_datasource migrate_waves'"
}
# wait_sleepers N : until N backends of the local server sleep in a script
wait_sleepers() {
	local n
	for n in $(seq 300); do
		[ "$(lq -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# overlap SOURCE_DB : the most scripts that ran at once there (by the log)
overlap() {
	local q="SELECT coalesce(max(n), 0) FROM (SELECT s.tenant, (SELECT count(*) FROM par_side.log s2
	            JOIN par_side.log e2 ON e2.tenant = s2.tenant AND e2.ev = 'e' WHERE s2.ev = 's'
	             AND s2.at <= s.at AND e2.at > s.at) AS n FROM par_side.log s WHERE s.ev = 's') x"
	if [ "$1" = "$DB" ]; then lq -c "$q"; else rq "$1" "$q"; fi
}

# --- parallel 2 and 4: each tenant exactly once
for p in 2 4; do
	reset
	out=$(lq -c "CALL datasource.migrate_waves('v$p', $(script t$p), wave_size => 20, parallel => $p)" 2>&1)
	is "$out" "3|48|0|0|0" "parallel $p: 3 waves, 48 applied, nothing failed or skipped"
	is "$(kept t$p 1 48)|$(runs)|$(journal v$p)" "48|48|applied 48" \
		"parallel $p: every tenant has the table, each script ran once, 48 journal rows"
	is "$(lq -c "SELECT count(DISTINCT database) FROM datasource.migrations WHERE version = 'v$p'")" "48" \
		"parallel $p: one journal row per tenant"
	is "$(lq -c "SELECT count(DISTINCT xmin::text) FROM datasource.migrations WHERE version = 'v$p'")" "48" \
		"parallel $p: the workers committed each tenant in a transaction of its own"
	is "$(workers)" "0" "parallel $p: no worker left"
done
out=$(lq -c "CALL datasource.migrate_waves('v4', $(script t4), wave_size => 20, parallel => 4)" 2>&1)
is "$out" "3|0|48|0|0" "run again: 48 already applied, counted from the workers"

# --- a failure in wave 2 stops after it
reset
lq -c "CREATE TABLE a25.t5 (conflict text)" >/dev/null
out=$("${LPSQL[@]}" -d "$DB" -c "SET client_min_messages = notice" \
	-c "CALL datasource.migrate_waves('v5', $(script t5), wave_size => 20, parallel => 3)" 2>&1)
is "$(echo "$out" | grep -v ':' | tr '\n' ' ' | sed 's/ *$//')" "2|39|0|1|8" \
	"a failure in wave 2: 2 waves, 39 applied, 1 failed, 8 not attempted"
like "$out" "migrate_waves stopped after wave 2: 1 of its 20 logical databases failed" "the NOTICE says where"
like "$out" "migrate_waves 25/48: a25 failed" "the failed tenant is named in the wave's NOTICEs"
is "$(kept t5 1 20)|$(kept t5 21 40)|$(kept t5 41 48)|$(journal v5)" "20|20|0|applied 39, failed 1" \
	"waves 1 and 2 applied (a25 failed, journaled; its t5 is the planted one), wave 3 untouched"
lq -c "DROP TABLE a25.t5" >/dev/null
reset
out=$(lq -c "CALL datasource.migrate_waves('v5', $(script t5), wave_size => 20, parallel => 3)" 2>&1)
is "$out|$(kept t5 1 48)|$(runs)" "3|9|39|0|0|48|9" "fixed and run again: a25 and wave 3 applied, the rest already applied"

# --- per_source: never more than that many workers on one datasource
reset
out=$(lq -c "CALL datasource.migrate_waves('v6', $(script t6 01 48 0.1), wave_size => 48, parallel => 3)" 2>&1)
is "$out" "1|48|0|0|0" "parallel 3 without per_source: all applied"
o=$(overlap "$DB")
[ "$o" -ge 2 ]
ok $? "without per_source, scripts overlap on the local datasource ($o at once)"
reset
out=$(lq -c "CALL datasource.migrate_waves('v7', $(script t7 01 48 0.1), wave_size => 48, parallel => 3, per_source => 1)" 2>&1)
is "$out" "1|48|0|0|0" "parallel 3, per_source 1: all applied"
is "$(overlap "$DB")|$(overlap rpar1)|$(overlap rpar2)" "1|1|1" \
	"per_source 1: never two scripts at once on local, far1 or far2"
is "$(kept t7 1 48)|$(journal v7)" "48|applied 48" "per_source 1: every tenant applied once"

# --- a cancel of the leader during wave 2
reset
outf=$(mktemp)
PGAPPNAME=par_run "${LPSQL[@]}" -v VERBOSITY=sqlstate -d "$DB" \
	-c "CALL datasource.migrate_waves('v8', $(script t8 21 40), wave_size => 20, parallel => 4)" >"$outf" 2>&1 &
pid=$!
wait_sleepers 4 || diag "the workers never slept in wave 2"
is "$(workers)" "4" "four workers run wave 2"
lq -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'par_run' AND backend_type = 'client backend'" >/dev/null
wait "$pid"
is "$? $(tr '\n' ' ' <"$outf" | sed 's/ *$//')" "1 ERROR:  57014" "a cancel ends the CALL with 57014"
is "$(workers)" "0" "no worker is left after the cancel"
is "$(kept t8 1 20)|$(kept t8 21 48)|$(journal v8)" "20|0|applied 20" \
	"wave 1 stays committed, nothing of wave 2 (its workers rolled back), wave 3 untouched"
is "$(agree v8 t8)" "" "every tenant: its table exactly when the journal says applied"

# --- statement_timeout of the CALL: the leader times out, its workers end
reset
out=$(timeout 60 "${LPSQL[@]}" -v VERBOSITY=sqlstate -d "$DB" -c "SET statement_timeout = '3s'" \
	-c "CALL datasource.migrate_waves('v8b', $(script t8b 01 48), wave_size => 48, parallel => 3)" 2>&1)
is "$out|$(workers)|$(kept t8b 1 48)|$(journal v8b)" "ERROR:  57014|0|0|" \
	"statement_timeout of the CALL: 57014, no worker left, nothing kept"

# --- pg_terminate_backend of the leader
reset
PGAPPNAME=par_run "${LPSQL[@]}" -v VERBOSITY=sqlstate -d "$DB" \
	-c "CALL datasource.migrate_waves('v9', $(script t9 01 20), wave_size => 20, parallel => 4)" >"$outf" 2>&1 &
pid=$!
wait_sleepers 4 || diag "the workers never slept in wave 1"
lq -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'par_run' AND backend_type = 'client backend'" >/dev/null
wait "$pid"
like "$(cat "$outf")" "57P01" "the leader is terminated"
for n in $(seq 50); do [ "$(workers)" = 0 ] && break; sleep 0.1; done
is "$(workers)" "0" "its workers are gone with it"
is "$(kept t9 1 48)|$(journal v9)|$(agree v9 t9)" "0||" "nothing of the wave is kept"

# --- a worker terminated on its own: the CALL ends, the other shares stay
reset
PGAPPNAME=par_run "${LPSQL[@]}" -v VERBOSITY=sqlstate -d "$DB" \
	-c "CALL datasource.migrate_waves('v10', $(script t10 05 05), wave_size => 20, parallel => 3)" >"$outf" 2>&1 &
pid=$!
wait_sleepers 1 || diag "a05 never slept"
lq -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE backend_type = 'pg_datasource migrate_waves' AND wait_event = 'PgSleep'" >/dev/null
wait "$pid"
is "$? $(tr '\n' ' ' <"$outf" | sed 's/ *$//')" "1 ERROR:  55000" "a worker gone before its commit ends the CALL (55000)"
is "$(kept t10 1 20)|$(kept t10 5 5)" "19|0" \
	"the 19 other tenants of the wave are committed, a05 (its worker's at the time) is not"
is "$(kept t10 21 48)|$(agree v10 t10)" "0|" "wave 2 not attempted; the journal agrees with the schemas"
is "$(workers)" "0" "no worker left"
rm -f "$outf"

# --- the workers act as the caller
lq -c "GRANT USAGE ON SCHEMA datasource TO par_dep, par_login" \
	-c "GRANT EXECUTE ON PROCEDURE datasource.migrate_waves TO par_dep, par_login" \
	-c "GRANT USAGE ON SCHEMA a01, a02, a03, a04, a05 TO par_dep, par_login" \
	-c "GRANT CREATE ON SCHEMA a01, a02, a03, a04 TO par_dep, par_login" >/dev/null
s="\$s\$CREATE TABLE who AS SELECT current_user AS cu, session_user AS su, current_setting('lock_timeout') AS lt;\$s\$"
out=$(lq -c "SET ROLE par_dep" -c "SET lock_timeout = '4321ms'" \
	-c "CALL datasource.migrate_waves('r1', $s, ARRAY['a01', 'a02', 'a03', 'a04', 'a05'], wave_size => 5, parallel => 2)" 2>&1)
is "$out" "1|4|0|1|0" "SET ROLE par_dep: four applied, a05 (no CREATE for par_dep) failed"
is "$(lq -c "SELECT string_agg(DISTINCT cu || ' ' || su || ' ' || lt, ',') FROM (SELECT * FROM a01.who UNION ALL SELECT * FROM a02.who
        UNION ALL SELECT * FROM a03.who UNION ALL SELECT * FROM a04.who) w")" "par_dep postgres 4321ms" \
	"the scripts ran as par_dep (the session user stays the one that logged in), with the caller's lock_timeout"
is "$(lq -c "SELECT string_agg(DISTINCT role, ',') FROM datasource.migrations WHERE version = 'r1'")|$(lq -c "SELECT sqlstate FROM datasource.migrations WHERE version = 'r1' AND database = 'a05'")" \
	"par_dep|42501" "the journal names par_dep; a05 failed with 42501 in its worker"
out=$("${LPSQL[@]}" -U par_login -d "$DB" \
	-c "CALL datasource.migrate_waves('r2', $(echo "$s" | sed 's/who/who2/'), ARRAY['a01', 'a02', 'a03', 'a04', 'a05'], wave_size => 5, parallel => 2)" 2>&1)
is "$out" "1|4|0|1|0" "a login role without superuser: four applied, a05 failed"
is "$(lq -c "SELECT string_agg(DISTINCT cu || ' ' || su, ',') FROM (SELECT * FROM a01.who2 UNION ALL SELECT * FROM a04.who2) w")|$(lq -c "SELECT relowner::regrole FROM pg_class WHERE oid = 'a02.who2'::regclass")" \
	"par_login par_login|par_login" "its workers ran as par_login (tables owned by par_login)"
outf=$(mktemp)
timeout 60 "${LPSQL[@]}" -d "$DB" -c "SELECT pg_sleep(2)" -c "SET client_min_messages = notice" \
	-c "CALL datasource.migrate_waves('r3', 'CREATE TABLE r3 (id int)', ARRAY['a01', 'a02', 'a03', 'a04'], wave_size => 4, parallel => 2)" \
	>"$outf" 2>&1 &
pid=$!
sleep 0.5
"${LPSQL[@]}" -d postgres -c "ALTER DATABASE $DB ALLOW_CONNECTIONS false" >/dev/null
wait "$pid"
"${LPSQL[@]}" -d postgres -c "ALTER DATABASE $DB ALLOW_CONNECTIONS true" >/dev/null
like "$(cat "$outf")" "4 logical databases of wave 1 were taken by no worker, this backend migrates them" \
	"workers that cannot connect (the database no longer allows connections): the leader migrates the wave itself"
is "$(grep -v ':' "$outf" | tail -n 1)|$(kept r3 1 4)|$(workers)" "1|4|0|0|0|4|0" \
	"no hang: all four applied, no worker left"
rm -f "$outf"

# --- more workers than slots; bad arguments
out=$("${LPSQL[@]}" -d "$DB" -c "SET client_min_messages = notice" \
	-c "CALL datasource.migrate_waves('v11', 'CREATE TABLE t11 (id int)', wave_size => 48, parallel => 32,
	                                      out_of_order => true)" 2>&1)
like "$out" "only [0-9]* of 32 background workers could be started for wave 1" "too few slots: a NOTICE says how many"
is "$(echo "$out" | grep -v ':' | tr '\n' ' ' | sed 's/ *$//')|$(kept t11 1 48)" "1|48|0|0|0|48" \
	"and the wave runs with them: all 48 applied"
for a in "parallel => 0" "parallel => 33" "per_source => 0"; do
	out=$(lq -v VERBOSITY=sqlstate -c "CALL datasource.migrate_waves('v12', 'CREATE TABLE t12 (id int)', $a)" 2>&1)
	is "$out|$(journal v12)" "ERROR:  22023|" "$a -> 22023, nothing run"
done

# --- max_failures counts the failures of all the workers: a01 fails after
# 1 s in one worker while a02 runs 2 s in the other; from then on no target
# is attempted, a02 (started before) is applied
lq -c "CREATE TABLE a01.t13 (conflict text)" >/dev/null
s13="\$s\$SELECT pg_sleep(CASE current_schema() WHEN 'a01' THEN 1 WHEN 'a02' THEN 2 ELSE 0 END); CREATE TABLE t13 (id int);\$s\$"
out=$(lq -c "CALL datasource.migrate_waves('v13', $s13, ARRAY['a01', 'a02', 'a03', 'a04', 'a05', 'a06'],
                                          wave_size => 6, parallel => 2, max_failures => 1, out_of_order => true)" 2>&1)
is "$out|$(journal v13)|$(kept t13 2 6)" "1|1|0|1|4|applied 1, failed 1|1" \
	"max_failures 1: a01 failed in one worker, a02 applied in the other, the four after not attempted"

# --- no slot at all (max_worker_processes = 0): the leader runs the wave
port=$(free_port $((PGDS_LOCAL_PORT + 45))) || bail_out "no free port"
cluster_init "$C" "$port" >/dev/null || bail_out "initdb failed"
echo "max_worker_processes = 0" >>"$C/postgresql.conf"
cluster_start "$C" || bail_out "the server without worker slots did not start"
NPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$C" -p "$port" -U postgres -d postgres)
"${NPSQL[@]}" -c "CREATE EXTENSION pg_datasource" \
	-c "SELECT count(datasource.create_database(format('n%s', i))) FROM generate_series(1, 6) i" >/dev/null ||
	bail_out "setup of the server without worker slots"
out=$(timeout 60 "${NPSQL[@]}" -c "SET client_min_messages = notice" \
	-c "CALL datasource.migrate_waves('v1', 'CREATE TABLE t (id int)', wave_size => 3, parallel => 4)" 2>&1)
like "$out" "wave 1 runs in this backend" "no worker slot: a NOTICE says the leader runs the wave"
is "$(echo "$out" | grep -v ':' | tr '\n' ' ' | sed 's/ *$//')|$("${NPSQL[@]}" -c "SELECT count(*) FROM pg_class WHERE relname = 't'")" \
	"2|6|0|0|0|6" "and it runs both waves itself, no hang: all 6 applied"

done_testing
