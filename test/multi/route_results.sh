#!/usr/bin/env bash
# Multi-server tests of what routing returns and raises, on the local
# datasource and a remote one alike:
# - a statement using more parameters than it was given is refused with one
#   message and SQLSTATE before anything is sent, and parameters it does not
#   use are ignored;
# - execute() reports the rows a command affected;
# - execute()'s max_rows stops an endless remote stream once max_rows + 1
#   rows are in, outside and inside a remote transaction, and the connection
#   and the transaction go on;
# - a routed COPY to or from the client is refused instead of looping;
# - rows that fail to convert (a column definition list that does not match)
#   leak no libpq result: the backend's resident memory stays flat over many
#   such calls, and the connection goes on.
#
# Needs the PGDS_* variables of test/run.sh (two running servers).
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

DB=multi_results
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT")
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

# lq SQL... : run on the local test database as postgres, stop on error
lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -U postgres -d "$DB" "$@"; }
# session : run stdin as one session; errors print as "ERROR:  SQLSTATE"
session() { "${LPSQL[@]}" -U postgres -d "$DB" -v VERBOSITY=sqlstate 2>&1; }
# rq SQL : run on the remote database
rq() { "${RPSQL[@]}" -d rresults -c "$1"; }
# remote_log_has TEXT : status 0 when the remote's log mentions TEXT
remote_log_has() { grep -qF "$1" "$PGDS_REMOTE_DIR/server.log"; }

# --- setup
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rresults" -c "DROP ROLE IF EXISTS results_owner" \
	-c "CREATE ROLE results_owner LOGIN PASSWORD 'results-secret-41'" \
	-c "CREATE DATABASE rresults OWNER results_owner" >/dev/null || bail_out "remote setup failed"
"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
	bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER regional FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rresults')" \
	-c "CREATE USER MAPPING FOR postgres SERVER regional
	      OPTIONS (user 'results_owner', password 'results-secret-41')" \
	-c "SELECT datasource.create_source('regional', 'regional')" \
	-c "SELECT datasource.create_database('r_db', 'regional', schema_name => 'rs')" \
	-c "SELECT datasource.create_database('l_db')" >/dev/null || bail_out "extension setup failed"
for d in l_db r_db; do
	lq -c "SELECT datasource.exec('$d', 'CREATE TABLE items (id int PRIMARY KEY, name text)')" \
		-c "SELECT datasource.exec('$d', 'INSERT INTO items SELECT g, ''item '' || g FROM generate_series(1, 10) g')" \
		>/dev/null || bail_out "tables on $d failed"
done

# --- the parameter count: one check, one message, before anything is sent
for d in l_db r_db; do
	out=$(session <<SQL
SELECT sqlstate || ' ' || error FROM datasource.execute('$d', 'SELECT \$1::int AS no_params_$d');
SELECT x FROM datasource.query('$d', 'SELECT \$1::int + \$2::int AS one_param_$d', ARRAY['1']) AS t(x int);
SQL
)
	is "$out" "$(printf '%s\n' '42P02 the statement uses $1 but 0 parameters were given' 'ERROR:  42P02')" \
		"$d: a statement using more parameters than given is refused with 42P02 and the statement's own message"
done
out=$("${LPSQL[@]}" -U postgres -d "$DB" -f - 2>&1 <<'SQL'
\set VERBOSITY terse
SELECT x FROM datasource.query('l_db', 'SELECT $1::int + $2::int', ARRAY['1']) AS t(x int);
SELECT x FROM datasource.query('r_db', 'SELECT $1::int + $2::int', ARRAY['1']) AS t(x int);
SQL
)
is "$out" "$(printf '%s\n' 'psql:<stdin>:2: ERROR:  the statement uses $2 but 1 parameter was given' \
	'psql:<stdin>:3: ERROR:  the statement uses $2 but 1 parameter was given')" \
	"the same message locally and on the remote"
remote_log_has "one_param_r_db"; r1=$?
remote_log_has "no_params_r_db"; r2=$?
is "$r1$r2" "11" "nothing of the refused statements reached the remote"
lq -c "SELECT success FROM datasource.execute('r_db', 'SELECT 1 / 0 AS reached_the_remote')" >/dev/null
remote_log_has "reached_the_remote"; ok $? "(a statement that does reach the remote and fails is in its log)"
calls=$(lq -c "SELECT calls FROM datasource.connections()")
lq -c "SELECT success FROM datasource.execute('r_db', 'SELECT \$1')" >/dev/null
is "$(lq -c "SELECT calls FROM datasource.connections()")" "$calls" \
	"a refused statement costs the remote connection no call"

for d in l_db r_db; do
	out=$(session <<SQL
SELECT x FROM datasource.query('$d', 'SELECT \$1::int + 1', ARRAY['1', 'unused']) AS t(x int);
SELECT x FROM datasource.query('$d', 'SELECT \$1::int + \$3::int', ARRAY['1', 'unused', '3']) AS t(x int);
SELECT x FROM datasource.query('$d', 'SELECT count(*) FROM items WHERE name = \$2', ARRAY[NULL, 'item 4']) AS t(x int);
SQL
)
	is "$out" "$(printf '2\n4\n1')" "$d: parameters the statement does not use are ignored"
done

# --- execute() reports the rows a command affected
for d in l_db r_db; do
	out=$(session <<SQL
SELECT success || ' ' || row_count || ' ' || (data IS NULL) FROM datasource.execute('$d', 'UPDATE items SET name = name WHERE id <= 3', read_only => false);
SELECT success || ' ' || row_count FROM datasource.execute('$d', 'INSERT INTO items VALUES (11, ''a''), (12, ''b'')', read_only => false);
SELECT success || ' ' || row_count FROM datasource.execute('$d', 'DELETE FROM items WHERE id > 10', read_only => false);
SELECT success || ' ' || row_count FROM datasource.execute('$d', 'DELETE FROM items WHERE id > 10', read_only => false);
SELECT success || ' ' || row_count || ' ' || truncated FROM datasource.execute('$d', 'UPDATE items SET name = name WHERE id <= 4 RETURNING id', max_rows => 2, read_only => false);
SELECT success || ' ' || row_count FROM datasource.execute('$d', 'CREATE TABLE scratch (x int)', read_only => false);
SELECT datasource.exec('$d', 'UPDATE items SET name = name WHERE id <= 3');
SQL
)
	is "$out" "$(printf '%s\n' 'true 3 true' 'true 2' 'true 2' 'true 0' 'true 2 true' 'true 0' 'UPDATE 3')" \
		"$d: execute() reports the rows a command affected, as exec() shows them"
done

# --- max_rows stops an endless remote stream
ENDLESS="SELECT generate_series(1, 1000000000000) AS g"
out=$(session <<SQL
SET statement_timeout = '5s';
SELECT success, row_count, truncated, jsonb_array_length(data), data->9->>'g', error
  FROM datasource.execute('r_db', '$ENDLESS', max_rows => 10);
SELECT success, row_count, truncated, error FROM datasource.execute('r_db', '$ENDLESS', max_rows => 0);
SELECT x FROM datasource.query('r_db', 'SELECT 42') AS t(x int);
SELECT count(*) FROM datasource.connections();
SQL
)
is "$out" "$(printf '%s\n' 't|10|t|10|10|' 't|0|t|' 42 1)" \
	"execute(max_rows => 10) of an endless remote stream returns 10 rows, truncated, and the connection goes on"
is "$(rq "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%generate_series(1, 1000000000000)%' AND state = 'active' AND pid <> pg_backend_pid()")" \
	"0" "the remote statement does not run on"

out=$(session <<SQL
SET statement_timeout = '5s';
BEGIN;
SELECT datasource.exec('r_db', 'INSERT INTO items VALUES (20, ''before'')');
SELECT success, row_count, truncated, error FROM datasource.execute('r_db', '$ENDLESS', max_rows => 10);
SELECT datasource.exec('r_db', 'INSERT INTO items VALUES (21, ''after'')');
SAVEPOINT a;
SELECT success, row_count, truncated, error FROM datasource.execute('r_db', '$ENDLESS', max_rows => 3);
RELEASE a;
SELECT x FROM datasource.query('r_db', 'SELECT count(*) FROM items WHERE id IN (20, 21)') AS t(x int);
COMMIT;
SELECT x FROM datasource.query('r_db', 'SELECT count(*) FROM items WHERE id IN (20, 21)') AS t(x int);
SQL
)
is "$out" "$(printf '%s\n' 'INSERT 0 1' 't|10|t|' 'INSERT 0 1' 't|3|t|' 2 2)" \
	"inside a remote transaction too: the stream stops and the transaction goes on and commits"
is "$(rq "SELECT count(*) FROM rs.items WHERE id IN (20, 21)")" "2" "both writes are committed on the remote"

# --- COPY to or from the client has no client to talk to: refused before
# it is sent, so no remote transaction is lost to it
out=$(session <<'SQL'
SET statement_timeout = '10s';
SELECT datasource.exec('r_db', 'COPY items FROM STDIN');
SELECT x FROM datasource.query('r_db', 'SELECT 42') AS t(x int);
SELECT datasource.exec('r_db', 'COPY items TO STDOUT');
SELECT sqlstate FROM datasource.execute('r_db', 'COPY (SELECT 1) TO STDOUT', read_only => false);
SELECT sqlstate FROM datasource.execute('r_db', 'COPY items FROM STDIN', read_only => false);
SELECT x FROM datasource.query('r_db', 'SELECT 43') AS t(x int);
BEGIN;
SELECT datasource.exec('r_db', 'INSERT INTO items VALUES (30, ''kept'')');
SELECT sqlstate FROM datasource.execute('r_db', 'COPY items TO STDOUT', read_only => false);
SELECT datasource.exec('r_db', 'INSERT INTO items VALUES (31, ''kept'')');
COMMIT;
BEGIN;
SELECT datasource.exec('r_db', 'INSERT INTO items VALUES (32, ''rolled back'')');
SELECT datasource.exec('r_db', 'COPY items FROM STDIN');
ROLLBACK;
BEGIN;
SELECT datasource.exec('r_db', 'INSERT INTO items VALUES (33, ''kept'')');
SELECT sqlstate FROM datasource.execute('r_db', 'COPY items FROM STDIN', read_only => false);
COMMIT;
SELECT string_agg(x::text, ',') FROM datasource.query('r_db', 'SELECT id FROM items WHERE id >= 30 ORDER BY id') AS t(x int);
SQL
)
is "$out" "$(printf '%s\n' 'ERROR:  0A000' 42 'ERROR:  0A000' 0A000 0A000 43 \
	'INSERT 0 1' 0A000 'INSERT 0 1' \
	'INSERT 0 1' 'ERROR:  0A000' \
	'INSERT 0 1' 0A000 '30,31,33')" \
	"a routed COPY to or from the client is refused (0A000) and the connection goes on, a COPY FROM in a savepoint of an open remote transaction included"

# --- rows that fail to convert leak no libpq result
# each failing call holds a 100 kB row from the remote when it fails
leaky=$(mktemp)
cat >"$leaky" <<'SQL'
DO $$
BEGIN
	FOR i IN 1..150 LOOP
		BEGIN
			PERFORM * FROM datasource.query('r_db', 'SELECT repeat(''x'', 100000) AS a, 1 AS b') AS t(a text);
		EXCEPTION WHEN datatype_mismatch THEN NULL;
		END;
		BEGIN
			PERFORM * FROM datasource.query('r_db', 'SELECT repeat(''x'', 100000) AS a') AS t(a int);
		EXCEPTION WHEN invalid_text_representation THEN NULL;
		END;
	END LOOP;
END
$$;
SQL
out=$("${LPSQL[@]}" -v ON_ERROR_STOP=1 -U postgres -d "$DB" -f - 2>&1 <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv P :pid
\i $leaky
\! echo "rss_before \$(grep RssAnon /proc/\$P/status)"
\i $leaky
\! echo "rss_after \$(grep RssAnon /proc/\$P/status)"
SELECT 'after ' || x FROM datasource.query('r_db', 'SELECT 42') AS t(x int);
SELECT 'cached ' || count(*) FROM datasource.connections();
SQL
)
rm -f "$leaky"
[ -n "${PGDS_DEBUG:-}" ] && echo "$out" >&2
rss_before=$(echo "$out" | sed -n 's/^rss_before RssAnon:[^0-9]*\([0-9]*\) kB$/\1/p')
rss_after=$(echo "$out" | sed -n 's/^rss_after RssAnon:[^0-9]*\([0-9]*\) kB$/\1/p')
[ -n "$rss_before" ] && [ -n "$rss_after" ] && [ $((rss_after - rss_before)) -lt 4096 ]
ok $? "300 remote calls whose rows fail to convert: RssAnon grew by less than 4 MB (${rss_before:-?} kB -> ${rss_after:-?} kB)"
is "$(echo "$out" | sed -n 's/^\(after\|cached\) //p')" "$(printf '42\n1')" \
	"and the cached connection still serves the next call"

# --- cleanup
"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE $DB" >/dev/null
"${RPSQL[@]}" -d postgres -c "DROP DATABASE rresults" -c "DROP ROLE results_owner" >/dev/null
done_testing
