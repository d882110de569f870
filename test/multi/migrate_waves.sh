#!/usr/bin/env bash
# migrate_waves: migrate_all's loop in waves, each committed.  30 tenants
# (w01..w20 local, w21..w30 on a remote server), wave_size 10:
#   - a failure planted in wave 2 (w15): wave 1 is committed, wave 2 is
#     committed too (its good tenants applied, w15 journaled as failed),
#     wave 3 is not attempted; each wave is its own transaction (the
#     journal rows of the two waves have two xmins); a NOTICE says where
#     and why it stopped;
#   - a cancel (pg_cancel_backend) while wave 2 runs (in w13): the CALL ends with
#     57014, wave 1 stays committed and journaled, nothing of wave 2 is
#     kept (neither tables nor journal rows), wave 3 is untouched (a
#     sequence, which no rollback resets, counts the attempts);
#   - CALL inside BEGIN, or from a function, is refused (25001) before
#     anything runs; from a DO block it commits each wave;
#   - a manifest's order refuses in waves as in migrate_all;
#   - a wave holds only its own tenants' locks (migrate_all holds them all);
#   - canaries are wave 0: a failed canary stops the call, nothing else is
#     attempted;
#   - the fixed tenant and the rest, remote wave included, apply in a later
#     run (already_applied counted).
#
# Needs the PGDS_* variables of test/run.sh (two running servers).
set -u
export PGOPTIONS="-c client_min_messages=error"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

DB=multi_waves
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
rq() { "${RPSQL[@]}" -d rwaves -c "$1"; }
cleanup() {
	"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rwaves" >/dev/null 2>&1
	"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
}
trap cleanup EXIT

# --- setup: 20 local tenants (w01..w20), 10 remote ones (w21..w30)
cluster_running "$PGDS_REMOTE_DIR" || cluster_start "$PGDS_REMOTE_DIR" >/dev/null ||
	bail_out "the remote server does not run"
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rwaves" -c "DROP ROLE IF EXISTS waves_owner" \
	-c "CREATE ROLE waves_owner LOGIN PASSWORD 'waves-secret-31'" \
	-c "CREATE DATABASE rwaves OWNER waves_owner" >/dev/null || bail_out "remote setup failed"
"${RPSQL[@]}" -U waves_owner -d rwaves -c "CREATE SCHEMA waves_counter" \
	-c "CREATE SEQUENCE waves_counter.attempts" >/dev/null || bail_out "remote counter setup failed"
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
	bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER waves_srv FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rwaves')" \
	-c "CREATE USER MAPPING FOR postgres SERVER waves_srv
	      OPTIONS (user 'waves_owner', password 'waves-secret-31')" \
	-c "SELECT datasource.create_source('far', 'waves_srv')" \
	-c "SELECT datasource.create_database(format('w%s', lpad(i::text, 2, '0')),
	                                      CASE WHEN i > 20 THEN 'far' ELSE 'local' END) FROM generate_series(1, 30) i" \
	-c "CREATE SCHEMA waves_counter" -c "CREATE SEQUENCE waves_counter.attempts" >/dev/null ||
	bail_out "extension setup failed"
lq -c "ALTER DATABASE $DB SET datasource.connect_timeout = 3" >/dev/null

# script TABLE [SLEEPER] : counts its attempt, creates TABLE, sleeps in SLEEPER
script() {
	echo "\$s\$SELECT nextval('waves_counter.attempts'); CREATE TABLE $1 (id int);
SELECT pg_sleep(CASE WHEN current_schema() = '${2:-none}' THEN 60 ELSE 0 END);\$s\$"
}
attempts() {
	echo $(($(lq -c "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM waves_counter.attempts") + \
		$(rq "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM waves_counter.attempts")))
}
reset() {
	lq -c "SELECT setval('waves_counter.attempts', 1, false)" >/dev/null
	rq "SELECT setval('waves_counter.attempts', 1, false)" >/dev/null
}
# kept TABLE FROM TO : how many of the tenants wFROM..wTO have TABLE (the
# migration's, with its column id: not a conflicting one planted before)
kept() {
	local q="SELECT count(*) FROM generate_series(GREATEST($2, LOWER), LEAST($3, UPPER)) i
	          WHERE EXISTS (SELECT FROM pg_attribute WHERE attname = 'id'
	                           AND attrelid = to_regclass(format('w%s.$1', lpad(i::text, 2, '0'))))"
	echo $(($(lq -c "$(echo "$q" | sed 's/LOWER/1/; s/UPPER/20/')") + \
		$(rq "$(echo "$q" | sed 's/LOWER/21/; s/UPPER/30/')")))
}
# journal VERSION : its journal rows as "status count" lines, by status
journal() {
	lq -c "SELECT string_agg(status || ' ' || n, ', ' ORDER BY status)
	         FROM (SELECT status, count(*) AS n FROM datasource.migrations
	                WHERE version = '$1' GROUP BY status) s"
}
wait_sleep() {
	local n
	for n in $(seq 300); do
		[ "$(lq -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")" != 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# --- a failure planted in wave 2: wave 1 and 2 committed, wave 3 not attempted
lq -c "CREATE TABLE w15.t1 (conflict text)" >/dev/null
reset
out=$("${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" -c "SET client_min_messages = notice" \
	-c "CALL datasource.migrate_waves('v1', $(script t1), wave_size => 10)" 2>&1)
is "$(echo "$out" | grep -v ':' | tr '\n' ' ' | sed 's/ *$//')" "2|19|0|1|10" \
	"failure in wave 2: waves 2, applied 19, already_applied 0, failed 1, not_attempted 10"
like "$out" "NOTICE:  migrate_waves stopped after wave 2: 1 of its 10 logical databases failed" \
	"a NOTICE says which wave stopped the call and why"
is "$(kept t1 1 10)|$(kept t1 11 20)|$(kept t1 21 30)" "10|9|0" \
	"wave 1 applied everywhere, wave 2 on its 9 good tenants, wave 3 untouched"
is "$(attempts)" "20" "wave 3 ran nothing"
is "$(journal v1)" "applied 19, failed 1" "the journal: 19 applied, w15 failed, nothing of wave 3"
is "$(lq -c "SELECT count(DISTINCT xmin::text) FROM datasource.migrations WHERE version = 'v1'")" "2" \
	"each wave was its own transaction (two xmins in the journal)"

# --- a cancel during wave 2: wave 1 committed, nothing of wave 2, wave 3 untouched
reset
outf=$(mktemp)
PGAPPNAME=waves_run "${LPSQL[@]}" -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -d "$DB" \
	-c "CALL datasource.migrate_waves('v2', $(script t2 w13), wave_size => 10, out_of_order => true)" >"$outf" 2>&1 &
pid=$!
wait_sleep || diag "no backend ever slept in w13"
lq -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'waves_run'" >/dev/null
wait "$pid"
rc=$?
is "$rc $(tr '\n' ' ' <"$outf" | sed 's/ *$//')" "1 ERROR:  57014" "a cancel in wave 2 ends the CALL with 57014"
rm -f "$outf"
is "$(kept t2 1 10)|$(kept t2 11 20)|$(kept t2 21 30)" "10|0|0" \
	"wave 1 stays committed, nothing of wave 2 is kept, wave 3 untouched"
is "$(journal v2)" "applied 10" "the journal has wave 1's ten rows only"
is "$(attempts)" "13" "no tenant after the cancelled one (w13) was attempted"

# --- CALL inside a transaction block: refused before anything runs
reset
out=$("${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate -c "BEGIN" \
	-c "CALL datasource.migrate_waves('v3', $(script t3), wave_size => 10)" -c "COMMIT" 2>&1)
like "$out" "ERROR:  25001" "CALL inside BEGIN -> 25001"
is "$(attempts)|$(journal v3)|$(kept t3 1 30)" "0||0" "and nothing ran, nothing is journaled"
out=$(lq -v VERBOSITY=sqlstate -c "CALL datasource.migrate_waves('v3', $(script t3), wave_size => 0)" 2>&1)
like "$out" "ERROR:  22023" "wave_size 0 -> 22023"

# --- from a DO block (non-atomic: it commits; the INOUT parameters are
# variables there) and from a function (atomic: 25001)
out=$(lq -c "SET client_min_messages = warning" -c "DO \$\$DECLARE w int; a int; aa int; f int; n int;
BEGIN
    CALL datasource.migrate_waves('v4', 'CREATE TABLE t4 (id int)', databases => ARRAY['w01', 'w02', 'w21'],
        wave_size => 2, waves => w, applied => a, already_applied => aa, failed => f, not_attempted => n);
    RAISE WARNING 'result %|%|%|%|%', w, a, aa, f, n;
END\$\$" 2>&1)
like "$out" "result 2|3|0|0|0" "from a DO block: two waves, three applied"
is "$(lq -c "SELECT count(DISTINCT xmin::text) FROM datasource.migrations WHERE version = 'v4'")" "2" \
	"each of its waves committed on its own"
lq -c "CREATE FUNCTION waves_in_function() RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE w int; a int; aa int; f int; n int;
BEGIN
    CALL datasource.migrate_waves('v5', 'CREATE TABLE t5 (id int)', databases => ARRAY['w01'],
        waves => w, applied => a, already_applied => aa, failed => f, not_attempted => n);
END\$\$" >/dev/null
out=$(lq -v VERBOSITY=sqlstate -c "SELECT waves_in_function()" 2>&1)
is "$out|$(journal v5)|$(kept t5 1 1)" "ERROR:  25001||0" "from a function: 25001, nothing ran"

# --- the locks: one transaction holds every tenant's until its end, a wave
# only its own.  Each tenant's script records how many relation locks its
# backend holds; w11 is the first of wave 2.
lq -c "CREATE TABLE public.lockcount (version text, tenant text, locks int)" >/dev/null
lockscript() {
	echo "\$s\$CREATE TABLE $1 (id int); CREATE INDEX ON $1 (id);
INSERT INTO public.lockcount SELECT '$1', current_schema(), count(*) FROM pg_locks
 WHERE pid = pg_backend_pid() AND locktype = 'relation';\$s\$"
}
WLIST="ARRAY[$(for i in $(seq -w 1 20); do printf "'w%s'," "$i"; done | sed 's/,$//')]"
lq -c "CALL datasource.migrate_waves('v6', $(lockscript t6), $WLIST, wave_size => 10, out_of_order => true)" >/dev/null
lq -c "SELECT count(*) FROM datasource.migrate_all('v7', $(lockscript t7), $WLIST, out_of_order => true)" >/dev/null
locks() { lq -c "SELECT locks FROM public.lockcount WHERE version = '$1' AND tenant = '$2'"; }
w1=$(locks t6 w01) w11=$(locks t6 w11) a1=$(locks t7 w01) a11=$(locks t7 w11)
[ -n "$w1" ] && [ -n "$w11" ] && [ "$w11" -le $((w1 + 2)) ]
ok $? "waves: the first tenant of wave 2 holds about the locks of the first of wave 1 ($w11 vs $w1)"
[ -n "$a1" ] && [ -n "$a11" ] && [ "$a11" -ge $((a1 + 20)) ]
ok $? "migrate_all: the eleventh tenant holds the locks of the ten before it too ($a11 vs $a1)"

# --- the manifest's order holds in waves as in migrate_all
out=$(lq -c "CALL datasource.migrate_waves('v9', 'CREATE TABLE t9 (id int)', ARRAY['w01', 'w02', 'w03'], wave_size => 1,
                                             manifest => '[\"v8\", \"v9\"]')" 2>&1)
is "$out|$(journal v9)|$(kept t9 1 3)" "1|0|0|1|2||0" \
	"manifest: v8, before v9 in it, is missing: w01 refused in wave 1, the rest not attempted, nothing journaled"
out=$(lq -v VERBOSITY=sqlstate -c "CALL datasource.migrate_waves('v9', 'CREATE TABLE t9 (id int)', ARRAY['w01'],
                                             manifest => '[\"v8\"]')" 2>&1)
like "$out" "ERROR:  22023" "a version not in the manifest -> 22023"

# --- canaries are wave 0: a failed canary stops everything
reset
rq "CREATE TABLE w22.t3 (conflict text)" >/dev/null
out=$(lq -c "CALL datasource.migrate_waves('v3', $(script t3), wave_size => 10, canary => ARRAY['w22', 'w05'])" 2>&1)
is "$out" "1|1|0|1|28" "a failed canary (w22, remote): one wave, w05 applied, w22 failed, 28 not attempted"
is "$(kept t3 1 30)|$(attempts)" "1|2" "only the canaries ran (w05 has the table)"
is "$(journal v3)" "applied 1, failed 1" "the canaries' rows are journaled"

# --- fixed: the next run applies the rest, the remote wave included
lq -c "DROP TABLE w15.t1" >/dev/null
reset
last=$(lq -c "SELECT max(id) FROM datasource.migrations")
out=$(lq -c "CALL datasource.migrate_waves('v1', $(script t1), wave_size => 10)" 2>&1)
is "$out" "3|11|19|0|0" "after the fix: three waves, 11 applied (w15 and wave 3), 19 already applied"
is "$(kept t1 1 30)" "30" "every tenant has the migration"
is "$(lq -c "SELECT count(*) || ' ' || count(DISTINCT xmin::text) FROM datasource.migrations WHERE id > $last")" "11 2" \
	"the run journaled its 11 rows in two committed waves (wave 1 had nothing to journal)"

done_testing
