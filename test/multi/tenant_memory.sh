#!/usr/bin/env bash
# What issue-level tenancy added does not make a backend grow with use: in
# one session, routed reads through a server in per-statement mode (pooler
# 'transaction': every statement carries its settings), transactions
# writing on two remotes committed with two-phase commit, routed SETs
# refused before they run, and routed statements cancelled by
# statement_timeout (each cancel request sent from a short-lived thread,
# remoteio.c), measured after two warm-ups by the backend's memory contexts
# and its private resident set (see test/multi/memory.sh), with the remote
# left with no prepared transaction.
#
# Needs the PGDS_* variables of test/run.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

DB=multi_tenant_memory
L=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
R=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)
work=$(mktemp)
trap 'rm -f "$work"' EXIT

"${R[@]}" -d postgres -c "SET client_min_messages = warning" \
	-c "DROP DATABASE IF EXISTS tmem1" -c "DROP DATABASE IF EXISTS tmem2" -c "DROP ROLE IF EXISTS tmem_owner" \
	-c "CREATE ROLE tmem_owner LOGIN PASSWORD 'tmem-secret'" \
	-c "CREATE DATABASE tmem1 OWNER tmem_owner" -c "CREATE DATABASE tmem2 OWNER tmem_owner" >/dev/null
for n in 1 2; do
	"${R[@]}" -U tmem_owner -d tmem$n -c "CREATE SCHEMA a" -c "CREATE SCHEMA b" \
		-c "CREATE TABLE a.t AS SELECT g AS id, 0 AS v FROM generate_series(1, 100) g" \
		-c "CREATE TABLE b.t AS SELECT g AS id, 0 AS v FROM generate_series(1, 100) g" >/dev/null
done
"${L[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" \
	-c "CREATE DATABASE $DB" >/dev/null
"${L[@]}" -d "$DB" -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER tmem1 FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'tmem1', pooler 'transaction')" \
	-c "CREATE SERVER tmem2 FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'tmem2')" \
	-c "CREATE USER MAPPING FOR postgres SERVER tmem1 OPTIONS (user 'tmem_owner', password 'tmem-secret')" \
	-c "CREATE USER MAPPING FOR postgres SERVER tmem2 OPTIONS (user 'tmem_owner', password 'tmem-secret')" \
	-c "SELECT datasource.create_source('tmem1', 'tmem1')" \
	-c "SELECT datasource.create_source('tmem2', 'tmem2')" \
	-c "SELECT datasource.create_database('p_a', 'tmem1', schema_name => 'a', create_schema => false)" \
	-c "SELECT datasource.create_database('p_b', 'tmem1', schema_name => 'b', create_schema => false)" \
	-c "SELECT datasource.create_database('w_a', 'tmem2', schema_name => 'a', create_schema => false)" \
	>/dev/null

# one round of the workload: psql goes on past the statements that time out
cat >"$work" <<'SQL'
DO $$
BEGIN
	FOR i IN 1..20000 LOOP
		PERFORM * FROM datasource.query_json(CASE WHEN i % 2 = 0 THEN 'p_a' ELSE 'p_b' END,
			'SELECT v FROM t WHERE id = $1', ARRAY[(i % 100 + 1)::text]);
	END LOOP;
	FOR i IN 1..2000 LOOP
		BEGIN
			PERFORM datasource.exec('p_a', 'SET search_path = b');
		EXCEPTION WHEN feature_not_supported THEN NULL;
		END;
	END LOOP;
END $$;
SET datasource.two_phase_commit = on;
DO $$
BEGIN
	FOR i IN 1..1000 LOOP
		PERFORM datasource.exec('p_a', 'UPDATE t SET v = v + 1 WHERE id = 1');
		PERFORM datasource.exec('w_a', 'UPDATE t SET v = v + 1 WHERE id = 1');
		COMMIT;
	END LOOP;
END $$;
RESET datasource.two_phase_commit;
\set ON_ERROR_STOP 0
SQL
for i in $(seq 1 30); do
	echo "SET statement_timeout = 40; SELECT * FROM datasource.query('p_b', 'SELECT pg_sleep(5)') AS t(x text); RESET statement_timeout;" >>"$work"
done
echo '\set ON_ERROR_STOP 1' >>"$work"

out=$("${L[@]}" -d "$DB" -f - 2>&1 <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv P :pid
\o /dev/null
\i $work
\i $work
\o
SELECT sum(total_bytes) AS before_bytes FROM pg_backend_memory_contexts \gset
\! echo "rss_before \$(grep RssAnon /proc/\$P/status)"
\o /dev/null
\i $work
\o
SELECT sum(total_bytes) AS after_bytes FROM pg_backend_memory_contexts \gset
\! echo "rss_after \$(grep RssAnon /proc/\$P/status)"
SELECT 'growth ' || (:after_bytes - :before_bytes) || ' of ' || :before_bytes;
SQL
)
[ -n "${PGDS_DEBUG:-}" ] && echo "$out" >&2
is "$(echo "$out" | grep -c 'canceling statement due to statement timeout')" "90" \
	"the 90 routed statements given 40 ms were cancelled by statement_timeout"
is "$("${R[@]}" -d tmem1 -c "SELECT v FROM a.t WHERE id = 1"):$("${R[@]}" -d tmem2 -c "SELECT v FROM a.t WHERE id = 1")" \
	"3000:3000" "the 3,000 two-phase transactions committed on both remotes"
is "$("${R[@]}" -d postgres -c "SELECT count(*) FROM pg_prepared_xacts WHERE database IN ('tmem1', 'tmem2')")" "0" \
	"no prepared transaction is left on the remotes"
growth=$(echo "$out" | sed -n 's/^growth \(-\?[0-9]*\) of \([0-9]*\)$/\1/p')
base=$(echo "$out" | sed -n 's/^growth -\?[0-9]* of \([0-9]*\)$/\1/p')
like "$growth" '^-?[0-9]+$' "the workload ran and was measured"
[ -n "$growth" ] && [ "$growth" -lt 1048576 ]; ok $? "backend memory grew by less than 1 MB (${growth:-?} bytes over a base of ${base:-?})"
rss_before=$(echo "$out" | sed -n 's/^rss_before RssAnon:[^0-9]*\([0-9]*\) kB$/\1/p')
rss_after=$(echo "$out" | sed -n 's/^rss_after RssAnon:[^0-9]*\([0-9]*\) kB$/\1/p')
[ -n "$rss_before" ] && [ -n "$rss_after" ] && [ $((rss_after - rss_before)) -lt 1024 ]
ok $? "the backend's private resident memory (RssAnon) grew by less than 1 MB (RssAnon ${rss_before:-?} kB -> ${rss_after:-?} kB)"

"${L[@]}" -d postgres -c "DROP DATABASE $DB" >/dev/null
"${R[@]}" -d postgres -c "DROP DATABASE tmem1" -c "DROP DATABASE tmem2" -c "DROP ROLE tmem_owner" >/dev/null
done_testing
