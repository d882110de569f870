#!/usr/bin/env bash
# Backend memory does not grow with routed calls to a MySQL logical
# database (a real MariaDB through mysql_fdw): after a warm-up, 100,000
# calls in one session (90,000 query() point reads with a parameter, 5,000
# execute() reads, 5,000 exec() writes refused inside a subtransaction,
# which raise and are caught) leave the backend's memory contexts and its private
# resident set (RssAnon: mysql_fdw and the MySQL client library allocate
# with malloc, outside PostgreSQL's contexts) within 1 MB of where they
# were, and one MariaDB connection open for the session.  Then 100
# refresh_database dry runs (two temporary foreign tables made and dropped
# in each) keep less than 4 kB a call: measured 2.5 kB, in
# CacheMemoryContext, which PostgreSQL itself leaves for any temporary
# table made and dropped (negative catalog cache entries keyed by the
# dropped relation's OID; a plain CREATE/DROP TEMP TABLE keeps 400 bytes).
# Routed calls make no such tables.
#
# Needs the PGDS_* variables of test/run.sh; skipped without MariaDB or
# mysql_fdw (test/deps.sh installs both).
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"
source "$here/../lib/mariadb.sh"

maria_available || skip_all "MariaDB or mysql_fdw is not installed (test/deps.sh installs them)"

DB=multi_mysql_memory
MDIR="$PGDS_BASE/maria-memory"
L=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)

trap 'maria_stop "$MDIR"' EXIT
maria_start "$MDIR" "$(free_port 33370)" >/dev/null || bail_out "MariaDB did not start"
MPORT=$(maria_port "$MDIR")
maria_sql "$MDIR" <<'EOF' || bail_out "MariaDB setup failed"
CREATE DATABASE memdb;
CREATE TABLE memdb.accounts (id int PRIMARY KEY, owner varchar(50), balance decimal(12,2));
INSERT INTO memdb.accounts VALUES (0, 'ann', 10), (1, 'bob', 20), (2, 'cy', 30);
EOF

"${L[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
	bail_out "local setup failed"
"${L[@]}" -d "$DB" -c "CREATE EXTENSION pg_datasource" -c "CREATE EXTENSION mysql_fdw" \
	-c "CREATE SERVER maria FOREIGN DATA WRAPPER mysql_fdw OPTIONS (host '127.0.0.1', port '$MPORT')" \
	-c "CREATE USER MAPPING FOR postgres SERVER maria OPTIONS (username 'pgds', password 'pgds-secret')" \
	-c "SELECT datasource.create_source('maria', 'maria')" \
	-c "SELECT datasource.create_database('mem_db', 'maria', 'memdb')" >/dev/null ||
	bail_out "registry setup failed"

plan 5

work=$(mktemp) || bail_out "mktemp failed"
cat >"$work" <<'SQL'
DO $$
DECLARE
	r record;
BEGIN
	FOR i IN 1..current_setting('pgds_test.calls')::int LOOP
		PERFORM * FROM datasource.query('mem_db', 'SELECT owner FROM accounts WHERE id = $1',
		                                ARRAY[(i % 3)::text]) AS t(owner text);
		IF i % 18 = 0 THEN
			PERFORM datasource.execute('mem_db', format('SELECT id, balance FROM accounts WHERE id = %s', i % 3));
			BEGIN
				PERFORM datasource.exec('mem_db', 'UPDATE accounts SET balance = balance + 1 WHERE id = 0');
			EXCEPTION WHEN active_sql_transaction THEN NULL;
			END;
		END IF;
	END LOOP;
END
$$;
SQL
out=$("${L[@]}" -d "$DB" -f - 2>&1 <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv P :pid
SET client_min_messages = error;
SET pgds_test.calls = 5000;
\i $work
SET pgds_test.calls = 90000;
SELECT sum(total_bytes) AS before_bytes FROM pg_backend_memory_contexts \gset
\! echo "rss_before \$(grep RssAnon /proc/\$P/status)"
\i $work
SELECT sum(total_bytes) AS after_bytes FROM pg_backend_memory_contexts \gset
\! echo "rss_after \$(grep RssAnon /proc/\$P/status)"
SELECT 'growth ' || (:after_bytes - :before_bytes) || ' of ' || :before_bytes;
\! echo "mysql_sessions \$(mariadb --no-defaults -S $MDIR/sock -u root -N -B -e "SELECT count(*) FROM information_schema.PROCESSLIST WHERE USER = 'pgds'")"
DO \$\$ BEGIN FOR i IN 1..10 LOOP PERFORM datasource.refresh_database('mem_db', true); END LOOP; END \$\$;
SELECT sum(used_bytes) AS before_bytes FROM pg_backend_memory_contexts \gset
DO \$\$ BEGIN FOR i IN 1..100 LOOP PERFORM datasource.refresh_database('mem_db', true); END LOOP; END \$\$;
SELECT sum(used_bytes) AS after_bytes FROM pg_backend_memory_contexts \gset
SELECT 'refresh_growth ' || (:after_bytes - :before_bytes);
SQL
)
rm -f "$work"
[ -n "${PGDS_DEBUG:-}" ] && echo "$out" >&2
growth=$(echo "$out" | sed -n 's/^growth \(-\?[0-9]*\) of \([0-9]*\)$/\1/p')
base=$(echo "$out" | sed -n 's/^growth -\?[0-9]* of \([0-9]*\)$/\1/p')
[ -n "$growth" ] && [ "$growth" -lt 1048576 ]
ok $? "100,000 routed MySQL calls: backend memory contexts grew by less than 1 MB (${growth:-?} bytes over a base of ${base:-?})"
rss_before=$(echo "$out" | sed -n 's/^rss_before RssAnon:[^0-9]*\([0-9]*\) kB$/\1/p')
rss_after=$(echo "$out" | sed -n 's/^rss_after RssAnon:[^0-9]*\([0-9]*\) kB$/\1/p')
[ -n "$rss_before" ] && [ -n "$rss_after" ] && [ $((rss_after - rss_before)) -lt 1024 ]
ok $? "the backend's private resident memory (RssAnon) grew by less than 1 MB (RssAnon ${rss_before:-?} kB -> ${rss_after:-?} kB)"
is "$(echo "$out" | sed -n 's/^mysql_sessions //p')" "1" "one MariaDB connection served the session's calls"
refresh=$(echo "$out" | sed -n 's/^refresh_growth \(-\?[0-9]*\)$/\1/p')
[ -n "$refresh" ] && [ "$refresh" -lt 409600 ]
ok $? "100 refresh_database dry runs: the memory in use grew by less than 4 kB a call (${refresh:-?} bytes; PostgreSQL's catalog caches keep negative entries for each temporary table's OID)"
is "$(maria_sql "$MDIR" -N -B -e "SELECT balance FROM memdb.accounts WHERE id = 0")" "10.00" \
	"the refused writes changed nothing in MariaDB"

"${L[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null
