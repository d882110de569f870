#!/usr/bin/env bash
# Multi-server tests of the statements routing keeps prepared on a remote
# connection (remoteprep.c): a statement routed a second time is prepared
# there and later runs send only its parameters; the same text under two
# logical databases (two search paths) stays two statements; DDL that
# changes a statement's result type is absorbed outside a remote
# transaction (also when the remote reports errors in German) and a clean
# 0A000 inside one; a remote restart, DEALLOCATE inside a remote function
# (a routed one is refused: sessionstate.c), and a rolled
# back remote transaction leave nothing stale; the LRU bound and
# datasource.remote_prepared_statements = 0 hold.
#
# Needs the PGDS_* variables of test/run.sh (two running servers).  The
# remote server is restarted by this script.
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

DB=multi_prepared
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT")
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

# lq SQL... : run on the local test database as postgres, stop on error
lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -U postgres -d "$DB" "$@"; }
# session : run stdin as one session; errors print as "ERROR:  SQLSTATE"
session() { "${LPSQL[@]}" -U postgres -d "$DB" -v VERBOSITY=sqlstate 2>&1; }
# rqo SQL : run on the remote database as the owner of the schemas
rqo() { "${RPSQL[@]}" -d rprep -c "SET ROLE prep_owner" -c "$1"; }

SHELL_RESTART="bash -c '. $here/../lib/cluster.sh; cluster_stop $PGDS_REMOTE_DIR >/dev/null && cluster_start $PGDS_REMOTE_DIR >/dev/null'"
# what this session has prepared on its connection, seen through it (the
# statements that look are left out: routed again, they are prepared too)
MINE="strpos(statement, ''pg_prepared_statements'') = 0"
PREPARED="SELECT n FROM datasource.query('a_db', 'SELECT count(*) FROM pg_prepared_statements WHERE $MINE') AS t(n int);"

# --- setup
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rprep" -c "DROP ROLE IF EXISTS prep_owner" \
	-c "CREATE ROLE prep_owner LOGIN PASSWORD 'prep-secret-31'" \
	-c "CREATE DATABASE rprep OWNER prep_owner" >/dev/null || bail_out "remote setup failed"
"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
	bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER regional FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rprep')" \
	-c "CREATE USER MAPPING FOR postgres SERVER regional
	      OPTIONS (user 'prep_owner', password 'prep-secret-31')" \
	-c "SELECT datasource.create_source('regional', 'regional')" \
	-c "SELECT datasource.create_database('a_db', 'regional', schema_name => 'sa')" \
	-c "SELECT datasource.create_database('b_db', 'regional', schema_name => 'sb')" >/dev/null ||
	bail_out "extension setup failed"
rqo "CREATE TABLE sa.t (v text); INSERT INTO sa.t VALUES ('a');
     CREATE TABLE sb.t (v int); INSERT INTO sb.t VALUES (2);
     CREATE TABLE sa.items (id int PRIMARY KEY, name text);
     INSERT INTO sa.items SELECT g, 'item ' || g FROM generate_series(1, 10) g;
     CREATE FUNCTION sa.drop_statements() RETURNS int LANGUAGE plpgsql
       AS \$\$BEGIN EXECUTE 'DEALLOCATE ALL'; RETURN 1; END\$\$;" >/dev/null ||
	bail_out "remote tables failed"

# --- prepared on the second routing
out=$(session <<SQL
$PREPARED
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['1']) AS t(name text);
$PREPARED
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['2']) AS t(name text);
$PREPARED
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['3']) AS t(name text);
$PREPARED
SELECT x FROM datasource.query('a_db', 'SELECT statement FROM pg_prepared_statements WHERE $MINE') AS t(x text);
SQL
)
is "$out" "$(printf '0\nitem 1\n0\nitem 2\n1\nitem 3\n1\nSELECT name FROM items WHERE id = $1')" \
	"a statement is prepared on the remote when routed the second time, once, and its later runs use it"

# the statement cache is emptied by any catalog change (autovacuum's too);
# the connection still knows the statement came before
out=$(session <<SQL
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1 AND true', ARRAY['1']) AS t(name text);
CREATE TEMP TABLE empties_the_statement_cache ();
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1 AND true', ARRAY['2']) AS t(name text);
$PREPARED
SQL
)
is "$out" "$(printf 'item 1\nitem 2\n1')" \
	"a catalog change between two routings, which empties the statement cache, does not keep the statement from being prepared"

out=$(session <<SQL
SET datasource.remote_prepared_statements = 0;
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['1']) AS t(name text);
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['2']) AS t(name text);
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['3']) AS t(name text);
$PREPARED
SQL
)
is "$out" "$(printf 'item 1\nitem 2\nitem 3\n0')" "datasource.remote_prepared_statements = 0 prepares nothing"

# --- one text, two logical databases on one server
out=$(session <<'SQL'
SELECT q FROM datasource.query_json('a_db', 'SELECT v FROM t') q;
SELECT q FROM datasource.query_json('b_db', 'SELECT v FROM t') q;
SELECT q FROM datasource.query_json('a_db', 'SELECT v FROM t') q;
SELECT q FROM datasource.query_json('b_db', 'SELECT v FROM t') q;
SELECT q FROM datasource.query_json('a_db', 'SELECT v FROM t') q;
SELECT q FROM datasource.query_json('b_db', 'SELECT v FROM t') q;
SQL
)
is "$out" "$(printf '{"v": "a"}\n{"v": 2}\n{"v": "a"}\n{"v": 2}\n{"v": "a"}\n{"v": 2}')" \
	"the same text in two logical databases of one server: two statements, each in its own schema"
out=$(session <<'SQL'
BEGIN;
SELECT datasource.exec('a_db', 'UPDATE items SET name = name WHERE id = 1');
SELECT q FROM datasource.query_json('a_db', 'SELECT v FROM t') q;
SELECT q FROM datasource.query_json('b_db', 'SELECT v FROM t') q;
SELECT q FROM datasource.query_json('a_db', 'SELECT v FROM t') q;
SELECT q FROM datasource.query_json('b_db', 'SELECT v FROM t') q;
SELECT q FROM datasource.query_json('a_db', 'SELECT v FROM t') q;
SELECT q FROM datasource.query_json('b_db', 'SELECT v FROM t') q;
COMMIT;
SQL
)
is "$out" "$(printf 'UPDATE 1\n{"v": "a"}\n{"v": 2}\n{"v": "a"}\n{"v": 2}\n{"v": "a"}\n{"v": 2}')" \
	"and inside a remote transaction, where a statement of the other schema would fail with 0A000"

# --- DDL that changes the result type
out=$(session <<SQL
SELECT q FROM datasource.query_json('a_db', 'SELECT * FROM items WHERE id = 4') q;
SELECT q FROM datasource.query_json('a_db', 'SELECT * FROM items WHERE id = 4') q;
\! psql -X -q -h $PGDS_REMOTE_HOST -p $PGDS_REMOTE_PORT -U postgres -d rprep -c 'ALTER TABLE sa.items ADD COLUMN extra int DEFAULT 7'
SELECT q FROM datasource.query_json('a_db', 'SELECT * FROM items WHERE id = 4') q;
SELECT q FROM datasource.query_json('a_db', 'SELECT * FROM items WHERE id = 4') q;
SQL
)
is "$out" "$(printf '%s\n' '{"id": 4, "name": "item 4"}' '{"id": 4, "name": "item 4"}' \
	'{"id": 4, "name": "item 4", "extra": 7}' '{"id": 4, "name": "item 4", "extra": 7}')" \
	"a column added on the remote: outside a remote transaction the stale statement is replaced at once"

out=$(session <<SQL
SELECT q FROM datasource.query_json('a_db', 'SELECT * FROM items WHERE id = 5') q;
SELECT q FROM datasource.query_json('a_db', 'SELECT * FROM items WHERE id = 5') q;
\! psql -X -q -h $PGDS_REMOTE_HOST -p $PGDS_REMOTE_PORT -U postgres -d rprep -c 'ALTER TABLE sa.items DROP COLUMN extra'
BEGIN;
SELECT datasource.exec('a_db', 'UPDATE items SET name = name WHERE id = 5');
SELECT q FROM datasource.query_json('a_db', 'SELECT * FROM items WHERE id = 5') q;
ROLLBACK;
SELECT q FROM datasource.query_json('a_db', 'SELECT * FROM items WHERE id = 5') q;
SELECT q FROM datasource.query_json('a_db', 'SELECT * FROM items WHERE id = 5') q;
SQL
)
is "$out" "$(printf '%s\n' '{"id": 5, "name": "item 5", "extra": 7}' '{"id": 5, "name": "item 5", "extra": 7}' \
	'UPDATE 1' 'ERROR:  0A000' '{"id": 5, "name": "item 5"}' '{"id": 5, "name": "item 5"}')" \
	"inside a remote transaction a changed result type is a clean 0A000; after the rollback the statement is prepared anew"

# --- a restart, DEALLOCATE and DISCARD, a rolled back transaction
out=$(session <<SQL
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['6']) AS t(name text);
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['7']) AS t(name text);
\! $SHELL_RESTART
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['8']) AS t(name text);
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['9']) AS t(name text);
$PREPARED
SQL
)
is "$out" "$(printf 'item 6\nitem 7\nitem 8\nitem 9\n1')" \
	"remote restarted: the new connection has no statements and prepares again"

out=$(session <<SQL
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['1']) AS t(name text);
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['2']) AS t(name text);
SELECT datasource.exec('a_db', 'DEALLOCATE ALL');
$PREPARED
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['3']) AS t(name text);
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['4']) AS t(name text);
SELECT datasource.exec('a_db', 'SELECT sa.drop_statements()');
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['5']) AS t(name text);
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['6']) AS t(name text);
$PREPARED
SQL
)
is "$out" "$(printf 'item 1\nitem 2\nERROR:  0A000\n1\nitem 3\nitem 4\nSELECT 1\nitem 5\nitem 6\n1')" \
	"a routed DEALLOCATE ALL is refused and the statement stays prepared; one run by a remote function leaves no stale statement behind"

out=$(session <<SQL
BEGIN;
SELECT datasource.exec('a_db', 'UPDATE items SET name = name WHERE id = 1');
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['2']) AS t(name text);
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['3']) AS t(name text);
SAVEPOINT s;
SELECT name FROM datasource.query('a_db', 'SELECT name || \$1 FROM items WHERE id = 1', ARRAY['!']) AS t(name text);
SELECT name FROM datasource.query('a_db', 'SELECT name || \$1 FROM items WHERE id = 1', ARRAY['?']) AS t(name text);
SELECT datasource.exec('a_db', 'SELECT 1 / 0');
ROLLBACK TO s;
SELECT name FROM datasource.query('a_db', 'SELECT name || \$1 FROM items WHERE id = 1', ARRAY['.']) AS t(name text);
ROLLBACK;
SELECT name FROM datasource.query('a_db', 'SELECT name FROM items WHERE id = \$1', ARRAY['4']) AS t(name text);
SELECT name FROM datasource.query('a_db', 'SELECT name || \$1 FROM items WHERE id = 1', ARRAY[':']) AS t(name text);
$PREPARED
SQL
)
is "$out" "$(printf 'UPDATE 1\nitem 2\nitem 3\nitem 1!\nitem 1?\nERROR:  22012\nitem 1.\nitem 4\nitem 1:\n2')" \
	"statements prepared inside a remote transaction and a rolled back savepoint are still there after the rollback"

# --- errors of a prepared statement, and the bound
out=$(session <<'SQL'
SELECT x FROM datasource.query('a_db', 'SELECT 10 / $1::int', ARRAY['0']) AS t(x int);
SELECT x FROM datasource.query('a_db', 'SELECT 10 / $1::int', ARRAY['0']) AS t(x int);
SELECT x FROM datasource.query('a_db', 'SELECT 10 / $1::int', ARRAY['5']) AS t(x int);
SQL
)
is "$out" "$(printf 'ERROR:  22012\nERROR:  22012\n2')" "a prepared statement that fails at run time stays usable"

out=$(session <<SQL
SET datasource.remote_prepared_statements = 3;
$(for i in 1 2 3 4 5 6; do
	echo "SELECT x FROM datasource.query('a_db', 'SELECT $i') AS t(x int);"
	echo "SELECT x FROM datasource.query('a_db', 'SELECT $i') AS t(x int);"
	echo "SELECT x FROM datasource.query('a_db', 'SELECT $i') AS t(x int);"
done)
$PREPARED
SELECT x FROM datasource.query('a_db', 'SELECT 1') AS t(x int);
SELECT x FROM datasource.query('a_db', 'SELECT 1') AS t(x int);
SELECT string_agg(x, ',' ORDER BY x) FROM datasource.query('a_db', 'SELECT statement FROM pg_prepared_statements WHERE $MINE') AS t(x text);
SQL
)
is "$out" "$(printf '%s\n' 1 1 1 2 2 2 3 3 3 4 4 4 5 5 5 6 6 6 3 1 1 'SELECT 1,SELECT 5,SELECT 6')" \
	"at most datasource.remote_prepared_statements per connection: the least recently used one is deallocated"

# --- a remote that reports errors in another language
# (test/deps.sh generates the locale; the remote's role is a superuser, the
# one kind that may set lc_messages when connecting)
lq -c "CREATE SERVER german FOREIGN DATA WRAPPER pg_datasource
         OPTIONS (host '$PGDS_REMOTE_HOST', port '$PGDS_REMOTE_PORT', dbname 'rprep',
                  options '-c lc_messages=de_DE.UTF-8')" \
	-c "CREATE USER MAPPING FOR postgres SERVER german OPTIONS (user 'postgres')" \
	-c "SELECT datasource.create_source('german', 'german')" \
	-c "SELECT datasource.create_database('de_db', 'german', schema_name => 'sa')" >/dev/null ||
	bail_out "the German datasource failed"
is "$(lq -c "SELECT error FROM datasource.execute('de_db', 'SELECT 1 / 0')")" "Division durch Null" \
	"(the remote reports errors in German: the locale and the translations are there)"
out=$(session <<SQL
SELECT q FROM datasource.query_json('de_db', 'SELECT * FROM items WHERE id = 6') q;
SELECT q FROM datasource.query_json('de_db', 'SELECT * FROM items WHERE id = 6') q;
\! psql -X -q -h $PGDS_REMOTE_HOST -p $PGDS_REMOTE_PORT -U postgres -d rprep -c 'ALTER TABLE sa.items ADD COLUMN german int DEFAULT 8'
SELECT q FROM datasource.query_json('de_db', 'SELECT * FROM items WHERE id = 6') q;
SELECT q FROM datasource.query_json('de_db', 'SELECT * FROM items WHERE id = 6') q;
SQL
)
is "$out" "$(printf '%s\n' '{"id": 6, "name": "item 6"}' '{"id": 6, "name": "item 6"}' \
	'{"id": 6, "name": "item 6", "german": 8}' '{"id": 6, "name": "item 6", "german": 8}')" \
	"a column added on a remote whose messages are German: the stale statement is still recognised and replaced"

# --- cleanup
"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE $DB" >/dev/null
"${RPSQL[@]}" -d postgres -c "DROP DATABASE rprep" -c "DROP ROLE prep_owner" >/dev/null
done_testing
