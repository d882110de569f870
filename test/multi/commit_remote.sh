#!/usr/bin/env bash
# Multi-server tests of committing across datasources: two remote
# datasources (two databases of the remote test server, so two connections
# and two remote transactions) written in one local transaction.
#   - pre-commit check: one remote's backend terminated before COMMIT, in
#     turn each of the two (so both orders of the connection table are
#     covered): nothing commits anywhere, 0 split outcomes;
#   - 08007: the remote COMMIT was sent and the connection lost before its
#     answer (a deferred trigger sleeps at the remote commit, the remote
#     backend is terminated meanwhile): the error is 08007 and the local
#     transaction rolls back;
#   - a deferred constraint failing at the second remote's COMMIT after the
#     first committed: the error keeps the remote SQLSTATE and its detail
#     names the datasource that committed (the split two-phase commit avoids);
#   - migrate_all with one remote's transaction lost halfway: the call
#     raises 08006, tenants after the loss are not attempted, and every
#     tenant's schema matches the journal.
#
# Needs the PGDS_* variables of test/run.sh (two running servers).
set -u
export PGOPTIONS="-c client_min_messages=error"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

DB=multi_commit
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
# session : stdin as one session; errors print as "ERROR:  SQLSTATE"
session() { "${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate 2>&1; }
# rq DB SQL : on a remote database as postgres
rq() { "${RPSQL[@]}" -d "$1" -c "$2"; }
# rwait_xact DB... : wait until a pg_datasource session is idle in
# transaction on each remote database DB
rwait_xact() {
	local i d
	for d in "$@"; do
		for i in $(seq 100); do
			[ "$(rq "$d" "SELECT count(*) FROM pg_stat_activity WHERE datname = '$d'
			                 AND application_name = 'pg_datasource'
			                 AND state = 'idle in transaction'")" != 0 ] && break
			sleep 0.1
		done
	done
}
# rkill DB : terminate the pg_datasource sessions on remote database DB and
# wait until they are gone
rkill() {
	local i
	rq "$1" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	          WHERE datname = '$1' AND application_name = 'pg_datasource'" >/dev/null
	for i in $(seq 100); do
		[ "$(rq "$1" "SELECT count(*) FROM pg_stat_activity WHERE datname = '$1'
		                 AND application_name = 'pg_datasource'")" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
# rows : the ids in t of r1, r2 and the local table, as "r1|r2|local"
rows() {
	printf '%s|%s|%s' "$(rq rc1 "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '-') FROM a.t")" \
		"$(rq rc2 "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '-') FROM b.t")" \
		"$(lq -c "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '-') FROM lt")"
}
clear_rows() { rq rc1 "TRUNCATE a.t" >/dev/null; rq rc2 "TRUNCATE b.t" >/dev/null; lq -c "TRUNCATE lt" >/dev/null; }

# --- setup
cluster_running "$PGDS_REMOTE_DIR" || cluster_start "$PGDS_REMOTE_DIR" >/dev/null ||
	bail_out "the remote server does not run"
rq postgres "DROP DATABASE IF EXISTS rc1" >/dev/null && rq postgres "DROP DATABASE IF EXISTS rc2" >/dev/null &&
	rq postgres "DROP ROLE IF EXISTS commit_owner" >/dev/null &&
	rq postgres "CREATE ROLE commit_owner LOGIN PASSWORD 'commit-secret-7'" >/dev/null &&
	rq postgres "CREATE DATABASE rc1 OWNER commit_owner" >/dev/null &&
	rq postgres "CREATE DATABASE rc2 OWNER commit_owner" >/dev/null || bail_out "remote setup failed"
for d in rc1:a rc2:b; do
	"${RPSQL[@]}" -U commit_owner -d "${d%%:*}" \
		-c "CREATE SCHEMA ${d##*:}" \
		-c "CREATE TABLE ${d##*:}.t (id int PRIMARY KEY)" \
		-c "CREATE TABLE ${d##*:}.slow (id int)" \
		-c "CREATE FUNCTION ${d##*:}.nap() RETURNS trigger LANGUAGE plpgsql AS
		      \$\$BEGIN PERFORM pg_sleep(2); RETURN NULL; END\$\$" \
		-c "CREATE CONSTRAINT TRIGGER nap AFTER INSERT ON ${d##*:}.slow
		      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${d##*:}.nap()" \
		-c "CREATE TABLE ${d##*:}.u (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)" \
		>/dev/null || bail_out "remote schema setup failed"
done
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
	bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE TABLE lt (id int PRIMARY KEY)" >/dev/null || bail_out "extension setup failed"
for n in 1 2; do
	s=$([ $n = 1 ] && echo a || echo b)
	lq -c "CREATE SERVER srv$n FOREIGN DATA WRAPPER pg_datasource
	         OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rc$n')" \
		-c "CREATE USER MAPPING FOR postgres SERVER srv$n
	         OPTIONS (user 'commit_owner', password 'commit-secret-7')" \
		-c "SELECT datasource.create_source('r$n', 'srv$n')" \
		-c "SELECT datasource.create_database('db$n', 'r$n', schema_name => '$s', create_schema => false)" \
		>/dev/null || bail_out "datasource setup failed"
done
lq -c "ALTER DATABASE $DB SET datasource.connect_timeout = 5" >/dev/null

is "$(printf '%s\n' "BEGIN;" \
	"SELECT datasource.exec('db1', 'INSERT INTO t VALUES (1)');" \
	"SELECT datasource.exec('db2', 'INSERT INTO t VALUES (1)');" \
	"INSERT INTO lt VALUES (1);" "COMMIT;" | session)" "INSERT 0 1
INSERT 0 1" "a transaction writing on both remotes and locally commits"
is "$(rows)" "1|1|1" "and its rows are on both remotes and local"

# --- pre-commit check, in both orders: the remote lost is each of the two
for lost in 1 2; do
	clear_rows
	out=$(
		{
			printf '%s\n' "BEGIN;" \
				"SELECT datasource.exec('db1', 'INSERT INTO t VALUES (2)');" \
				"SELECT datasource.exec('db2', 'INSERT INTO t VALUES (2)');" \
				"INSERT INTO lt VALUES (2);"
			# terminated while the local transaction is open
			rwait_xact rc1 rc2
			rkill rc$lost >&2 || echo "rkill failed" >&2
			printf '%s\n' "COMMIT;" \
				"SELECT count(*) FROM datasource.query('db$((3 - lost))', 'SELECT 1') AS q(x int);"
		} | session
	)
	like "$out" "ERROR:  08006" "remote r$lost lost before COMMIT: the commit fails with 08006"
	is "$(rows)" "-|-|-" "remote r$lost lost: nothing committed on either remote nor locally (no split)"
	like "$out" "08006.*1\$" "the other remote's connection serves the same session afterwards"
done

# --- 08007: the COMMIT was sent, the connection lost before its answer
clear_rows
out=$(
	{
		printf '%s\n' "BEGIN;" \
			"SELECT datasource.exec('db1', 'INSERT INTO slow VALUES (1)');" \
			"INSERT INTO lt VALUES (3);"
		rwait_xact rc1
		printf '%s\n' "COMMIT;"
		# the deferred trigger sleeps 2 s in the remote COMMIT: strike then
		for i in $(seq 50); do
			[ "$(rq rc1 "SELECT count(*) FROM pg_stat_activity WHERE datname = 'rc1'
			              AND application_name = 'pg_datasource' AND wait_event = 'PgSleep'")" != 0 ] && break
			sleep 0.1
		done
		rkill rc1 >&2
		printf '%s\n' "SELECT count(*) FROM datasource.query('db1', 'SELECT 1') AS q(x int);"
	} | "${LPSQL[@]}" -d "$DB" -v VERBOSITY=verbose 2>&1
)
like "$out" 'ERROR:  08007: the outcome of COMMIT on datasource "r1" is unknown' \
	"a remote COMMIT whose connection is lost once sent: 08007 (resolution unknown), naming the datasource"
is "$(rows)|$(rq rc1 "SELECT count(*) FROM a.slow")" "-|-|-|0" "the local transaction rolled back (and the remote one, terminated before it committed)"
like "$out" "unknown.*1\$" "the next call of the session reconnects"

# --- a remote failing at its own COMMIT (a deferred unique violation), in
# turn each of the two: without two-phase commit, the one committed before
# it (in one of the two orders) stays committed and the error says so; with
# it there is no split
for tpc in off on; do
	splits=0
	for bad in 1 2; do
		good=$((3 - bad))
		clear_rows
		rq rc1 "TRUNCATE a.u" >/dev/null
		rq rc2 "TRUNCATE b.u" >/dev/null
		out=$(printf '%s\n' "SET datasource.two_phase_commit = $tpc;" "BEGIN;" \
			"SELECT datasource.exec('db$bad', 'INSERT INTO u VALUES (1), (1)');" \
			"SELECT datasource.exec('db$good', 'INSERT INTO t VALUES (5)');" \
			"INSERT INTO lt VALUES (5);" "COMMIT;" | "${LPSQL[@]}" -d "$DB" -v VERBOSITY=verbose 2>&1)
		like "$out" "ERROR:  23505" "two_phase_commit $tpc, r$bad fails at COMMIT: its deferred unique violation is raised"
		got=$(rows)
		if [ "$good" = 1 ]; then split="5|-|-"; else split="-|5|-"; fi
		if [ "$got" = "$split" ]; then
			splits=$((splits + 1))
			like "$out" "already committed on datasource \"r$good\"" \
				"two_phase_commit $tpc: r$good committed before r$bad failed, and the error says so"
		else
			is "$got" "-|-|-" "two_phase_commit $tpc, r$bad fails at COMMIT: nothing committed anywhere"
		fi
		is "$(rq rc1 "SELECT count(*) FROM pg_prepared_xacts")" "0" \
			"two_phase_commit $tpc, r$bad fails: nothing left prepared on the remote"
	done
	if [ "$tpc" = off ]; then
		is "$splits" "1" "without two-phase commit the remotes commit in turn: one of the two orders splits"
	else
		is "$splits" "0" "with two-phase commit neither order splits"
	fi
done

# --- migrate_all with one remote's transaction lost halfway
for n in $(seq -w 1 20); do
	r=$((10#$n % 2 == 1 ? 1 : 2))
	"${RPSQL[@]}" -U commit_owner -d rc$r -c "CREATE SCHEMA m$n" >/dev/null
	lq -c "SELECT datasource.create_database('m$n', 'r$r', create_schema => false)" >/dev/null
done
for r in 1 2; do "${RPSQL[@]}" -U commit_owner -d rc$r -c "CREATE SEQUENCE public.attempts" >/dev/null; done
SCRIPT="CREATE TABLE mt (id int);
SELECT nextval('public.attempts');
DO \$\$BEGIN IF current_schema() = 'm08' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF; END\$\$;"
out=$(printf '%s\n' "SELECT database || ' ' || status FROM datasource.migrate_all('100', \$s\$$SCRIPT\$s\$,
	(SELECT array_agg(name ORDER BY name) FROM datasource.databases WHERE name LIKE 'm%'));" | session)
like "$out" "ERROR:  08006" "migrate_all with r2's transaction lost at m08: the call raises 08006"
unlike_applied=$(printf '%s' "$out" | grep -c ' applied$')
is "$unlike_applied" "0" "and reports no database as applied"
is "$(( $(rq rc1 "SELECT last_value FROM public.attempts") + $(rq rc2 "SELECT last_value FROM public.attempts") ))" "8" \
	"the databases after m08 were not attempted"
mismatch=""
for n in $(seq -w 1 20); do
	r=$((10#$n % 2 == 1 ? 1 : 2))
	have=$(rq rc$r "SELECT to_regclass('m$n.mt') IS NOT NULL")
	journaled=$(lq -c "SELECT count(*) > 0 FROM datasource.migrations WHERE database = 'm$n' AND status = 'applied'")
	[ "$have" = "$journaled" ] || mismatch="$mismatch m$n($have/$journaled)"
done
is "$mismatch" "" "every tenant's schema matches its journal"

done_testing
