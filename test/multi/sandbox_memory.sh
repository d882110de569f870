#!/usr/bin/env bash
# A sandboxed session's memory does not grow with use: in one backend, the
# sandbox's gates judge 100k statements run from a function (relations,
# functions, routed calls) and 10k refused ones, 20k client statements (the
# post-parse check and the gates), and 2k recomputations of the sandbox
# (SET ROLE in and out), measured after two warm-ups by the backend's
# memory contexts and its private resident set (see test/multi/memory.sh).
#
# Needs the PGDS_* variables of test/run.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

DB=multi_sandbox_memory
L=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
work=$(mktemp)
client=$(mktemp)
trap 'rm -f "$work" "$client"' EXIT

"${L[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" \
	-c "CREATE DATABASE $DB" -c "DROP ROLE IF EXISTS sbx_mem" -c "CREATE ROLE sbx_mem" >/dev/null
"${L[@]}" -d "$DB" -c "SET client_min_messages = warning" -c "CREATE EXTENSION pg_datasource" \
	-c "SELECT datasource.create_database('mem_db')" \
	-c "CREATE TABLE mem_db.t AS SELECT g AS id, 'row ' || g AS name FROM generate_series(1, 100) g" \
	-c "CREATE SCHEMA hr" -c "CREATE TABLE hr.secret (id int)" \
	-c "GRANT USAGE ON SCHEMA mem_db, hr TO sbx_mem" -c "GRANT SELECT ON mem_db.t, hr.secret TO sbx_mem" \
	-c "SELECT datasource.set_sandbox('sbx_mem', ARRAY['mem_db'])" >/dev/null

# the workload is a function the sandbox may call (a DO block would be
# refused by the early filter: its code is not visible to validation)
"${L[@]}" -d "$DB" >/dev/null <<'SQL'
CREATE FUNCTION mem_db.work() RETURNS int LANGUAGE plpgsql STABLE AS $$
DECLARE n int;
BEGIN
	FOR i IN 1..100000 LOOP
		SELECT count(*) INTO n FROM mem_db.t WHERE id = i % 100;
	END LOOP;
	FOR i IN 1..10000 LOOP
		BEGIN
			SELECT count(*) INTO n FROM hr.secret;
		EXCEPTION WHEN insufficient_privilege THEN NULL;
		END;
	END LOOP;
	FOR i IN 1..5000 LOOP
		PERFORM * FROM datasource.query_json('mem_db', 'SELECT name FROM t WHERE id = $1', ARRAY[(i % 100)::text]);
	END LOOP;
	RETURN n;
END $$;
SQL
printf 'SET ROLE sbx_mem;\nSELECT mem_db.work();\nRESET ROLE;\n' >"$work"
{
	for i in $(seq 1 1000); do
		echo "SET ROLE sbx_mem;"
		for j in $(seq 1 20); do echo "SELECT count(*) FROM mem_db.t WHERE id = $j;"; done
		echo "RESET ROLE;"
	done
} >"$client"

out=$("${L[@]}" -d "$DB" -f - 2>&1 <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv P :pid
\o /dev/null
\i $work
\i $client
\i $work
\i $client
\o
SELECT sum(total_bytes) AS before_bytes FROM pg_backend_memory_contexts \gset
\! echo "rss_before \$(grep RssAnon /proc/\$P/status)"
\o /dev/null
\i $work
\i $client
\o
SELECT sum(total_bytes) AS after_bytes FROM pg_backend_memory_contexts \gset
\! echo "rss_after \$(grep RssAnon /proc/\$P/status)"
SELECT 'growth ' || (:after_bytes - :before_bytes) || ' of ' || :before_bytes;
SET ROLE sbx_mem;
SELECT 'sandboxed ' || sandboxed FROM datasource.session_sandbox();
SQL
)
[ -n "${PGDS_DEBUG:-}" ] && echo "$out" >&2
is "$(echo "$out" | sed -n 's/^sandboxed //p')" "true" "the workload ran in the sandbox"
growth=$(echo "$out" | sed -n 's/^growth \(-\?[0-9]*\) of \([0-9]*\)$/\1/p')
base=$(echo "$out" | sed -n 's/^growth -\?[0-9]* of \([0-9]*\)$/\1/p')
like "$growth" '^-?[0-9]+$' "the workload ran and was measured"
[ -n "$growth" ] && [ "$growth" -lt 1048576 ]; ok $? "backend memory grew by less than 1 MB (${growth:-?} bytes over a base of ${base:-?})"
rss_before=$(echo "$out" | sed -n 's/^rss_before RssAnon:[^0-9]*\([0-9]*\) kB$/\1/p')
rss_after=$(echo "$out" | sed -n 's/^rss_after RssAnon:[^0-9]*\([0-9]*\) kB$/\1/p')
[ -n "$rss_before" ] && [ -n "$rss_after" ] && [ $((rss_after - rss_before)) -lt 1024 ]
ok $? "the backend's private resident memory (RssAnon) grew by less than 1 MB (RssAnon ${rss_before:-?} kB -> ${rss_after:-?} kB)"

"${L[@]}" -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE sbx_mem" >/dev/null
done_testing
