#!/usr/bin/env bash
# Statistics per logical database (datasource.database_stats), on a server
# of its own with pg_datasource in shared_preload_libraries and
# datasource.stats_max_databases = 6, routing to local tenants and to
# tenants on the harness's remote server.  A known workload gives exact
# counts: calls, rows, errors per SQLSTATE class, statement-cache and
# remote-prepared hits; the phases add up to the total, the histogram to
# the calls; 4 pgbench clients lose no increment; datasource.stats = off
# stops counting (and only a superuser may set it); reset (the
# superuser's), a rolled back and a committed drop, a rename, a dropped
# datasource; the seventh logical database goes to the overflow row.
# Per statement (datasource.statement_stats): exact counts per statement
# and logical database, one fingerprint in every tenant, the bounds per
# logical database and in all (the most timed statement stays).
# Per datasource (datasource.source_stats): connections and reconnections,
# failures by reason (nothing listening, a wrong password, no password),
# remote transactions committed, rolled back and in doubt (two-phase
# commit whose remote backend was terminated after PREPARE), health checks.
# Then, on the harness's local server (no preload): the view raises 55000
# and routing works as before.
#
# Needs the PGDS_* variables of test/run.sh.
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

: "${PGDS_BASE:?run me from test/run.sh}"
PGBIN=${PGDS_BIN:-$PGBIN}
C=$PGDS_BASE/stats               # a direct child of the base: run.sh stops it too
DB=multi_stats
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

cleanup() {
	cluster_stop "$C" >/dev/null 2>&1
	"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rstats" >/dev/null 2>&1
	if [ "${PGDS_KEEP:-0}" != 1 ]; then
		rm -rf "$C" "$C.initdb.log" "$C.pgbench.sql" "$C.pgbench.log" "$C.indoubt.out"
	fi
}
trap cleanup EXIT

port=$(free_port $((PGDS_LOCAL_PORT + 50))) || bail_out "no free port"
cluster_init "$C" "$port" >/dev/null || bail_out "initdb failed"
cat >>"$C/postgresql.conf" <<EOF
shared_preload_libraries = 'pg_datasource'
datasource.stats_max_databases = 6
datasource.stats_max_statements = 1000
EOF
cluster_start "$C" || bail_out "the server with pg_datasource preloaded did not start"

PSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$C" -p "$port" -U postgres)
q() { "${PSQL[@]}" -d "$DB" -c "$1"; }
# qs SQL [ROLE] : runs SQL, errors print as "ERROR:  SQLSTATE"
qs() { "${PSQL[@]}" -U "${2:-postgres}" -v ON_ERROR_STOP=0 -v VERBOSITY=sqlstate -d "$DB" -c "$1" 2>&1; }
# st DATABASE COLUMNS : the columns of DATABASE's row of database_stats
st() { q "SELECT $2 FROM datasource.database_stats WHERE database = '$1'"; }

"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rstats" -c "DROP ROLE IF EXISTS stats_owner" \
	-c "CREATE ROLE stats_owner LOGIN PASSWORD 'stats-secret-5'" \
	-c "CREATE DATABASE rstats OWNER stats_owner" >/dev/null || bail_out "remote setup failed"
"${RPSQL[@]}" -U stats_owner -d rstats -c "CREATE SCHEMA far" \
	-c "CREATE TABLE far.items AS SELECT g AS id FROM generate_series(1, 100) g" >/dev/null ||
	bail_out "remote tables"
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB" -c "CREATE ROLE stats_app LOGIN" >/dev/null ||
	bail_out "setup failed"
q "CREATE EXTENSION pg_datasource" >/dev/null || bail_out "CREATE EXTENSION failed"
"${PSQL[@]}" -d "$DB" \
	-c "CREATE SERVER regional FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rstats')" \
	-c "CREATE USER MAPPING FOR postgres SERVER regional
	      OPTIONS (user 'stats_owner', password 'stats-secret-5')" \
	-c "SELECT datasource.create_source('regional', 'regional')" \
	-c "SELECT datasource.create_database('far_db', 'regional', schema_name => 'far', create_schema => false)" \
	-c "SELECT datasource.create_database('home_db')" \
	-c "CREATE TABLE home_db.items AS SELECT g AS id FROM generate_series(1, 100) g" \
	-c "GRANT USAGE ON SCHEMA home_db TO stats_app" \
	-c "GRANT SELECT ON home_db.items TO stats_app" >/dev/null || bail_out "extension setup failed"

# --- a known workload, local and remote
is "$(q "SELECT count(*) FROM datasource.database_stats")" "0" "no row before any routed call"
"${PSQL[@]}" -d "$DB" >/dev/null <<'EOF' || bail_out "the workload failed"
SELECT count(*) FROM generate_series(1, 10) i,
	LATERAL datasource.query('home_db', 'SELECT id FROM items WHERE id <= 3 AND $1::int > 0',
	                         ARRAY[i::text]) AS t(id int);
SELECT datasource.exec('home_db', 'UPDATE items SET id = id WHERE id <= 4');
SELECT (datasource.execute('home_db', 'SELECT * FROM missing')).sqlstate FROM generate_series(1, 3);
SELECT (datasource.execute('home_db', 'SELECT 1 / 0')).sqlstate FROM generate_series(1, 2);
SELECT count(*) FROM generate_series(1, 7) i,
	LATERAL datasource.query_json('far_db', 'SELECT id FROM items WHERE id <= 5 AND $1::int > 0',
	                              ARRAY[i::text]) AS j;
SELECT (datasource.execute('far_db', 'SELECT 1 / 0')).sqlstate FROM generate_series(1, 2);
SELECT (datasource.execute('far_db', 'SELECT id FROM items WHERE id <= 50', max_rows => 10)).row_count;
EOF
is "$(st home_db "calls, errors, rows, errors_by_class")" '16|5|34|{"22": 2, "42": 3}' \
	"local: 16 calls, 5 errors by class (3 of 42, 2 of 22), 34 rows (10 x 3 returned, 4 updated)"
is "$(st far_db "calls, errors, rows, errors_by_class")" '10|2|45|{"22": 2}' \
	"remote: 10 calls, 2 errors of class 22, 45 rows (7 x 5, and 10 kept of 50)"
is "$(st home_db "statement_cache_hits, remote_prepared_hits")" "12|0" \
	"local: the repeated statements came from the statement cache (16 calls of 4 statements), none prepared remotely"
is "$(st far_db "statement_cache_hits, remote_prepared_hits")" "7|5" \
	"remote: 7 statement-cache hits, 5 remote-prepared hits (the 7 reads: the second prepares, the next 5 reuse)"
is "$(q "SELECT database, abs(validate_time_ms + connect_time_ms + remote_time_ms + transfer_time_ms
                               + local_time_ms - total_time_ms) <= 0.003
         FROM datasource.database_stats ORDER BY database")" "$(printf 'far_db|t\nhome_db|t')" \
	"the phases add up to the total time (within the rounding to microseconds)"
is "$(st home_db "connect_time_ms = 0 AND remote_time_ms = 0 AND transfer_time_ms = 0 AND local_time_ms > 0")" "t" \
	"local calls spend their time validating and executing locally, none remotely"
is "$(st far_db "local_time_ms = 0 AND remote_time_ms > 0 AND transfer_time_ms > 0")" "t" \
	"remote calls spend it remotely (to the first row, then in transfer), none locally"
is "$(q "SELECT database, (SELECT sum(h) FROM unnest(histogram) h) = calls, cardinality(histogram)
         FROM datasource.database_stats ORDER BY database")" "$(printf 'far_db|t|48\nhome_db|t|48')" \
	"the histogram counts every call once (48 buckets)"
is "$(q "SELECT bool_and(min_time_ms <= mean_time_ms AND mean_time_ms <= max_time_ms
                        AND p50_ms <= p95_ms AND p95_ms <= p99_ms AND p99_ms <= max_time_ms
                        AND stddev_time_ms >= 0 AND abs(mean_time_ms * calls - total_time_ms) < 0.01)
         FROM datasource.database_stats")" "t" "min <= mean <= max, p50 <= p95 <= p99 <= max, mean x calls = total"

# --- statements: one entry per statement and logical database
is "$(q "SELECT database, query, calls, errors, rows FROM datasource.statement_stats
         ORDER BY database, query COLLATE \"C\"")" "$(cat <<'X'
far_db|SELECT $1 / $2|2|2|0
far_db|SELECT id FROM items WHERE id <= $1|1|0|10
far_db|SELECT id FROM items WHERE id <= $2 AND $1::int > $3|7|0|35
home_db|SELECT $1 / $2|2|2|0
home_db|SELECT * FROM missing|3|3|0
home_db|SELECT id FROM items WHERE id <= $2 AND $1::int > $3|10|0|30
home_db|UPDATE items SET id = id WHERE id <= $1|1|0|4
X
)" "statement_stats: each statement of the workload under its logical database, with exact calls, errors and rows; constants shown as \$n after the statement's own parameters"
is "$(q "SELECT bool_and(s.calls = d.calls AND abs(s.total - d.total_time_ms) < 0.01), count(*)
         FROM (SELECT database, sum(calls) AS calls, sum(total_time_ms) AS total
               FROM datasource.statement_stats GROUP BY 1) s
         JOIN datasource.database_stats d USING (database)")" "t|2" \
	"the statements' calls and times add up to their logical database's"
q "SELECT datasource.exec('home_db', 'SELECT count(*) FROM items WHERE id = 1'),
          datasource.exec('far_db', 'select  count(*)  from ITEMS where id = 2 -- another tenant'),
          datasource.exec('home_db', 'SELECT count(*) FROM items WHERE id = ''3''')" >/dev/null
is "$(q "SELECT count(DISTINCT fingerprint), string_agg(database || ':' || calls, ',' ORDER BY database)
         FROM datasource.statement_stats WHERE query ILIKE 'select%count(*)%'")" "1|far_db:1,home_db:2" \
	"one fingerprint in every tenant (before rewriting), whatever the constants, case, spacing and comments"
is "$(q "SELECT string_agg(query, '|' ORDER BY database) FROM datasource.statement_stats WHERE query ILIKE 'select%count(*)%'")" \
	"select  count(*)  from ITEMS where id = \$1 -- another tenant|SELECT count(*) FROM items WHERE id = \$1" \
	"each tenant's row shows its first call's text without its constant"
"${PSQL[@]}" -d "$DB" >/dev/null <<'SQL'
SELECT datasource.exec('home_db', $q$SELECT 'a''b' AS s, E'x\n' AS e, $d$z$d$ AS d, 1.5 AS f, B'101' AS b, X'1F' AS x, -7 AS i, U&'d\0061t\+000061' AS u$q$);
SQL
is "$(q "SELECT query FROM datasource.statement_stats WHERE database = 'home_db' AND query LIKE '%AS u'")" \
	"SELECT \$1 AS s, \$2 AS e, \$3 AS d, \$4 AS f, \$5 AS b, \$6 AS x, -\$7 AS i, \$8 AS u" \
	"every kind of constant (quoted with doubled quotes, E'', dollar-quoted, numeric, bit, hex, negative, U&'') becomes \$n whole"
is "$(qs "SELECT count(*), count(query) FROM datasource.statement_stats" stats_app)" "10|0" \
	"another role sees the statements, not their text (it names the caller's objects)"

# --- an unknown logical database counts nowhere
qs "SELECT * FROM datasource.query('nowhere_db', 'SELECT 1') AS t(x int)" >/dev/null
is "$(q "SELECT count(*) FROM datasource.database_stats")" "2" "a call to an unknown logical database adds no row"

# --- concurrent clients lose no increment
printf "SELECT * FROM datasource.query('home_db', 'SELECT 1') AS t(x int);\n" >"$C.pgbench.sql"
before=$(st home_db calls)
"$PGBIN/pgbench" -n -h "$C" -p "$port" -U postgres -c 4 -j 4 -t 250 -f "$C.pgbench.sql" "$DB" >"$C.pgbench.log" 2>&1 ||
	diag "pgbench failed: $(tail -n 3 "$C.pgbench.log")"
is "$(st home_db "calls - $before")|$(q "SELECT calls FROM datasource.statement_stats
                                           WHERE database = 'home_db' AND query = 'SELECT \$1'")" "1000|1000" \
	"4 pgbench clients x 250 calls: exactly 1000 more calls, in the database and in its statement"

# --- datasource.stats = off
before=$(st home_db calls)
q "SET datasource.stats = off; SELECT datasource.exec('home_db', 'SELECT 1')" >/dev/null
is "$(st home_db "calls - $before")" "0" "with datasource.stats off a call is not counted"
is "$(qs "SET datasource.stats = off" stats_app)" "ERROR:  42501" "only a superuser may turn it off"
qs "SELECT * FROM datasource.query('home_db', 'SELECT id FROM items WHERE id = 1') AS t(x int)" stats_app >/dev/null
is "$(st home_db "calls - $before")" "1" "a role's calls are counted in the same row"

# --- reset
is "$(qs "SELECT datasource.reset_database_stats()" stats_app)|$(st home_db "calls > 0")" "ERROR:  42501|t" \
	"PUBLIC may not reset the statistics, and they stay"
is "$(q "SELECT datasource.reset_database_stats('home_db')")|$(st home_db "count(*)")|$(st far_db "calls")" "1|0|11" \
	"reset_database_stats('home_db') removes its row only"
is "$(q "SELECT count(*) FILTER (WHERE database = 'home_db'), count(*) FILTER (WHERE database = 'far_db')
         FROM datasource.statement_stats")" "0|4" "and its statements, not the others'"
q "SELECT datasource.exec('home_db', 'SELECT 1')" >/dev/null
is "$(st home_db "calls, stats_since > now() - interval '1 minute'")" "1|t" "after a reset, it counts from zero again"

# --- datasources: connections, remote transactions, health checks
is "$(q "SELECT datasource.reset_source_stats()")" "1" "reset_source_stats() removes the row of the one datasource used so far"
"${PSQL[@]}" -d "$DB" >/dev/null <<'EOF' || bail_out "the datasource workload failed"
SELECT datasource.exec('far_db', 'SELECT 1');
SELECT datasource.disconnect('regional');
SELECT datasource.exec('far_db', 'SELECT 1');
BEGIN;
SELECT datasource.exec('far_db', 'UPDATE items SET id = id WHERE id = 1');
SELECT datasource.exec('far_db', 'UPDATE items SET id = id WHERE id = 2');
COMMIT;
BEGIN;
SELECT datasource.exec('far_db', 'UPDATE items SET id = id WHERE id = 1');
ROLLBACK;
SELECT count(*) FROM datasource.health_check('regional');
SELECT count(*) FROM datasource.health_check('regional');
EOF
is "$(q "SELECT connects, reconnects, connect_failures, remote_transactions, commits, rollbacks, in_doubt,
                health_checks, health_failures, health_mean_ms > 0 AND health_max_ms >= health_mean_ms,
                health_last_at > now() - interval '1 minute'
         FROM datasource.source_stats WHERE datasource = 'regional'")" "2|1|0|2|1|1|0|2|0|t|t" \
	"regional: 2 connections (the second after disconnect() a reconnect), 2 remote transactions (1 committed, 1 rolled back), 2 healthy checks"

# failures by reason: nothing listens, a wrong password, no password for a non-superuser
dead=$(free_port $((PGDS_LOCAL_PORT + 60))) || bail_out "no free port"
"${PSQL[@]}" -d "$DB" >/dev/null \
	-c "CREATE SERVER deadsrv FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '$dead', dbname 'x')" \
	-c "CREATE USER MAPPING FOR postgres SERVER deadsrv OPTIONS (user 'x', password 'y')" \
	-c "SELECT datasource.create_source('dead', 'deadsrv')" \
	-c "CREATE ROLE stats_nopw LOGIN" \
	-c "GRANT USAGE ON FOREIGN SERVER regional TO stats_app, stats_nopw" \
	-c "CREATE USER MAPPING FOR stats_app SERVER regional OPTIONS (user 'stats_owner', password 'wrong')" \
	-c "CREATE USER MAPPING FOR stats_nopw SERVER regional OPTIONS (user 'stats_owner')" ||
	bail_out "failure setup"
is "$(q "SELECT healthy FROM datasource.health_check('dead')")" "f" "a datasource where nothing listens is not healthy"
is "$(qs "SELECT datasource.exec('far_db', 'SELECT 1')" stats_app)" "ERROR:  08001" "a wrong password: 08001"
is "$(qs "SELECT datasource.exec('far_db', 'SELECT 1')" stats_nopw)" "ERROR:  2F003" "no password for a non-superuser: 2F003"
is "$(q "SELECT datasource, connects, connect_failures, failures_by_reason, health_checks, health_failures, health_mean_ms IS NULL
         FROM datasource.source_stats WHERE datasource IN ('dead', 'regional') ORDER BY 1")" \
	"$(printf '%s\n%s' 'dead|0|1|{"failed": 1}|1|1|t' 'regional|2|2|{"authentication": 1, "password required": 1}|2|0|f')" \
	"connection failures by reason: refused (dead), authentication, password required; the failed check counts, with no mean latency"

# in doubt: after PREPARE the remote backend goes, so COMMIT PREPARED cannot reach it
"${PSQL[@]}" -v ON_ERROR_STOP=0 -d "$DB" >"$C.indoubt.out" 2>&1 <<'EOF' &
SET datasource.two_phase_commit = on;
SET datasource.debug_commit_pause = 'after_prepare';
BEGIN;
SELECT datasource.exec('far_db', 'UPDATE items SET id = id WHERE id = 3');
CREATE TABLE local_write (x int);
COMMIT;
EOF
client=$!
for n in $(seq 100); do
	[ "$("${RPSQL[@]}" -d rstats -c "SELECT count(*) FROM pg_prepared_xacts")" = 1 ] && break
	sleep 0.1
done
"${RPSQL[@]}" -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                               WHERE datname = 'rstats' AND application_name = 'pg_datasource'" >/dev/null
wait "$client"
is "$(q "SELECT in_doubt, commits FROM datasource.source_stats WHERE datasource = 'regional'")" "1|1" \
	"a COMMIT PREPARED that could not reach the remote is in doubt (and not a commit)"
is "$(q "SELECT action FROM datasource.resolve_transactions('regional')")|$("${RPSQL[@]}" -d rstats -c "SELECT count(*) FROM pg_prepared_xacts")" \
	"committed|0" "the resolver finishes it"

# --- drop, rename, a dropped datasource
q "BEGIN; SELECT datasource.drop_database('home_db'); ROLLBACK" >/dev/null
is "$(st home_db calls)" "1" "a rolled back drop_database keeps the row"
q "SELECT datasource.create_database('temp_db')" >/dev/null
q "SELECT datasource.exec('temp_db', 'SELECT 1')" >/dev/null
q "BEGIN; SELECT datasource.drop_database('temp_db'); SAVEPOINT a; SELECT datasource.rename_database('home_db', 'house_db'); ROLLBACK TO a; COMMIT" >/dev/null
is "$(st temp_db "count(*)")|$(st home_db calls)|$(q "SELECT count(*) FROM datasource.statement_stats WHERE database = 'temp_db'")" "0|1|0" \
	"a committed drop_database removes the row; a rename rolled back to a savepoint does nothing"
q "SELECT datasource.rename_database('home_db', 'house_db')" >/dev/null
is "$(st home_db "count(*)")|$(st house_db calls)|$(q "SELECT string_agg(database || ':' || query, ',')
    FROM datasource.statement_stats WHERE database IN ('home_db', 'house_db')")" "0|1|house_db:SELECT \$1" \
	"rename_database carries the row, and its statements, to the new name"
q "SELECT datasource.drop_source('regional', cascade => true)" >/dev/null
is "$(st far_db "count(*)")|$(q "SELECT count(*) FROM datasource.source_stats WHERE datasource = 'regional'")" "0|0" \
	"drop_source(cascade) removes the rows of its logical databases and its own"

# --- overflow: datasource.stats_max_databases = 6
q "SELECT count(datasource.create_database(format('o%s', i))) FROM generate_series(1, 7) i" >/dev/null
q "SELECT count(datasource.exec(format('o%s', i), 'SELECT 1')) FROM generate_series(1, 7) i" >/dev/null
is "$(q "SELECT count(*) FILTER (WHERE database IS NOT NULL), sum(calls) FILTER (WHERE database IS NULL)
         FROM datasource.database_stats")" "6|2" \
	"past 6 logical databases (house_db and o1..o5), o6 and o7 are counted in the overflow row (database NULL)"
q "SELECT datasource.drop_database('house_db')" >/dev/null
q "SELECT datasource.exec('o6', 'SELECT 1')" >/dev/null
is "$(st o6 calls)" "1" "a drop makes room for a row of its own"

# --- a drop in a transaction that is prepared (PREPARE TRANSACTION) keeps the row
out=$(timeout 30 "${PSQL[@]}" -d "$DB" -c "BEGIN" -c "SELECT datasource.drop_database('o5')" -c "PREPARE TRANSACTION 'stats_prep'" \
	-c "BEGIN" -c "SELECT datasource.exec('o1', 'SELECT 1')" -c "COMMIT" -c "SELECT 'alive'" 2>&1 | tail -n 1)
q "COMMIT PREPARED 'stats_prep'" >/dev/null
is "$out|$(st o5 calls)|$(q "SELECT count(*) FROM datasource.databases WHERE name = 'o5'")|$(st o1 calls)" "alive|1|0|2" \
	"after PREPARE TRANSACTION the session goes on, and the prepared drop leaves the row (its commit is another session's)"

# --- migrations: applied, failed and their time per logical database
q "SELECT datasource.migrate('o3', '0001', 'CREATE TABLE m1 (x int)'),
          datasource.migrate('o3', '0001', 'CREATE TABLE m1 (x int)'),
          datasource.migrate('o4', '0001', 'CREATE TABLE m1 (x int); CREATE TABLE m1 (x int)')" >/dev/null 2>&1
q "SELECT count(*) FROM datasource.migrate_all('0002', 'CREATE TABLE m2 (x int)', ARRAY['o3'])" >/dev/null
is "$(q "SELECT database, migrations_applied, migrations_failed, migration_time_ms > 0
         FROM datasource.database_stats WHERE database IN ('o3', 'o4') ORDER BY 1")" "$(printf 'o3|2|0|t\no4|0|1|t')" \
	"migrations per logical database: o3 applied 0001 (once: the second call is no run) and 0002 (migrate_all), o4 failed 0001"

# --- statement bounds: datasource.stats_statements_per_database, datasource.stats_max_statements
# set_per_db N : sets datasource.stats_statements_per_database and waits until new sessions see it
set_per_db() {
	local n
	"${PSQL[@]}" -d postgres -c "ALTER SYSTEM SET datasource.stats_statements_per_database = $1" \
		-c "SELECT pg_reload_conf()" >/dev/null
	for n in $(seq 50); do
		[ "$(q "SHOW datasource.stats_statements_per_database")" = "$1" ] && return 0
		sleep 0.1
	done
	diag "the setting never reached $1"
}
set_per_db 2
q "SELECT count(datasource.exec('o1', format('SELECT %s AS c%s', i, i))) FROM generate_series(1, 6) i" >/dev/null
is "$(q "SELECT count(*) FROM datasource.statement_stats WHERE database = 'o1'")|$(st o1 calls)" "2|8" \
	"6 statements with stats_statements_per_database = 2: 2 kept, all 8 calls counted in database_stats"
set_per_db 1000
q "SELECT count(datasource.exec('o2', 'SELECT pg_sleep(0.002) AS heavy')) FROM generate_series(1, 20)" >/dev/null
q "SELECT count(datasource.exec('o2', format('SELECT 1 AS c%s', i))) FROM generate_series(1, 1100) i" >/dev/null
is "$(q "SELECT count(*) BETWEEN 600 AND 1024 FROM datasource.statement_stats")|$(q "SELECT calls FROM datasource.statement_stats
       WHERE database = 'o2' AND query LIKE '%heavy'")|$(st o2 calls)" "t|20|1121" \
	"1,100 new statements with stats_max_statements = 1000 (128 parts of 8): at most 1,024 kept, the heavy one among them; all calls counted"

# --- without shared_preload_libraries (the harness's local server)
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null &&
	"${LPSQL[@]}" -d "$DB" -c "CREATE EXTENSION pg_datasource" \
		-c "SELECT datasource.create_database('np1')" >/dev/null || bail_out "local setup failed"
out=$("${LPSQL[@]}" -v VERBOSITY=sqlstate -d "$DB" -c "SELECT count(*) FROM datasource.database_stats" 2>&1)
is "$out" "ERROR:  55000" "without preload: database_stats raises 55000, not zero rows"
out=$("${LPSQL[@]}" -d "$DB" -c "SELECT count(*) FROM datasource.database_stats" 2>&1)
like "$out" "shared_preload_libraries" "its message says how to get it"
out=$("${LPSQL[@]}" -v VERBOSITY=sqlstate -d "$DB" -c "SELECT datasource.reset_database_stats()" 2>&1)
is "$out" "ERROR:  55000" "without preload: reset_database_stats raises 55000"
is "$("${LPSQL[@]}" -d "$DB" -c "SELECT datasource.exec('np1', 'SELECT 1')")" "SELECT 1" \
	"without preload: routing works as before"

done_testing
