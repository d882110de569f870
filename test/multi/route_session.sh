#!/usr/bin/env bash
# Multi-server tests: a routed statement cannot change the remote session it
# runs in (sessionstate.c).  Two logical databases, a_db and b_db, live in
# two schemas of one remote database, so they share this backend's cached
# connection; each schema's one-row table whoami names its tenant.  Every
# statement that would change the session (a setting, the path, the role,
# the read-only default, a LISTEN, a prepared statement, a cursor, a
# temporary table, a session advisory lock, transaction control) is routed
# after a first query has opened the connection: it must be refused (0A000),
# and the effect is checked through the same connection: the next query of
# a_db still reads a's table, and nothing of it is left on the remote
# session.  A write of b_db still works after a refused change of the
# read-only default, and a migration of a_db that would change the session is
# refused before anything of it runs on the remote.
#
# Needs the PGDS_* variables of test/run.sh (two running servers).
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

DB=multi_session
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT")
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

# lq SQL... : run on the local test database as postgres, stop on error
lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -U postgres -d "$DB" "$@"; }
# session : run stdin as one session, bounded; errors print as "ERROR:  SQLSTATE"
session() {
	timeout 60 "${LPSQL[@]}" -U postgres -d "$DB" -v VERBOSITY=sqlstate 2>&1
	local rc=$?
	[ "$rc" = 124 ] && echo "TIMED OUT"
	return 0
}
# rq SQL : run on the remote database
rq() { "${RPSQL[@]}" -d rsess -c "$1"; }

# --- setup
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rsess" -c "DROP ROLE IF EXISTS sess_owner" \
	-c "DROP ROLE IF EXISTS sess_other" \
	-c "CREATE ROLE sess_owner LOGIN PASSWORD 'sess-secret-31'" \
	-c "CREATE ROLE sess_other" -c "GRANT sess_other TO sess_owner" \
	-c "CREATE DATABASE rsess OWNER sess_owner" >/dev/null || bail_out "remote setup failed"
"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" \
	>/dev/null || bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER sesssrv FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rsess')" \
	-c "CREATE USER MAPPING FOR postgres SERVER sesssrv
	      OPTIONS (user 'sess_owner', password 'sess-secret-31')" \
	-c "SELECT datasource.create_source('sesssrv', 'sesssrv')" \
	-c "SELECT datasource.create_database('a_db', 'sesssrv', schema_name => 'a')" \
	-c "SELECT datasource.create_database('b_db', 'sesssrv', schema_name => 'b')" \
	>/dev/null || bail_out "extension setup failed"
rq "SET ROLE sess_owner;
    CREATE TABLE a.whoami (tenant text); INSERT INTO a.whoami VALUES ('a');
    CREATE TABLE b.whoami (tenant text); INSERT INTO b.whoami VALUES ('b');
    CREATE TABLE b.log (tenant text CHECK (tenant = 'b'));" >/dev/null || bail_out "remote tables failed"

# The remote session as a_db's next query sees it, through the same cached
# connection: the tenant an unqualified name reaches, channels, prepared
# statements made by SQL, cursors, session advisory locks, temporary
# relations, the role and a session setting (the read-only default is
# checked by a write of b_db below: a read sees the one routing sets).
STATE="SELECT s FROM datasource.query('a_db', \$q\$SELECT concat_ws('|', (SELECT tenant FROM whoami),
  (SELECT count(*) FROM pg_listening_channels()),
  (SELECT count(*) FROM pg_prepared_statements WHERE from_sql),
  (SELECT count(*) FROM pg_cursors WHERE name <> ''),
  (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
  (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()),
  current_user, current_setting('work_mem'))\$q\$) AS t(s text);"
CLEAN="a|0|0|0|0|0|sess_owner|4MB"

is "$(session <<<"$STATE")" "$CLEAN" "fixture: a_db reads a, and its remote session is clean"

# refused SQL : routed through exec after a first query opened the
# connection: 0A000, then the remote session as before
refused() {
	local out
	out=$(session <<SQL
SELECT tenant FROM datasource.query('a_db', 'SELECT tenant FROM whoami') AS t(tenant text);
SELECT datasource.exec('a_db', \$sql\$$1\$sql\$);
$STATE
SQL
)
	is "$out" "$(printf 'a\nERROR:  0A000\n%s' "$CLEAN")" "refused, and a_db's next query reads a on a clean session: $1"
}
refused "SET search_path = b"
refused "SET SESSION search_path = b"
refused "SET LOCAL search_path = b"
refused "SET SCHEMA 'b'"
refused "RESET search_path"
refused "RESET ALL"
refused "SET work_mem = '7MB'"
refused "RESET work_mem"
refused "SET default_transaction_read_only = on"
refused "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
refused "SET ROLE sess_other"
refused "SET LOCAL ROLE sess_other"
refused "SET SESSION AUTHORIZATION sess_other"
refused "SELECT set_config('search_path', 'b', false)"
refused "SELECT set_config('search_path', 'b', true)"
refused "SELECT set_config('work_mem', '7MB', false)"
refused "SELECT set_config('default_transaction_read_only', 'on', false)"
refused "DISCARD ALL"
refused "LISTEN sess_channel"
refused "PREPARE sess_p AS SELECT 1"
refused "DEALLOCATE ALL"
refused "DECLARE sess_c CURSOR WITH HOLD FOR SELECT 1"
refused "CREATE TEMP TABLE sess_t (id int)"
refused "SELECT 1 AS id INTO TEMP sess_t"
refused "SELECT pg_advisory_lock(4711)"
refused "SELECT pg_try_advisory_lock(4711)"
refused "BEGIN"
refused "COMMIT"

# the same through query() and execute()
out=$(session <<SQL
SELECT tenant FROM datasource.query('a_db', 'SELECT tenant FROM whoami') AS t(tenant text);
SELECT x FROM datasource.query('a_db', \$q\$SELECT set_config('search_path', 'b', false)\$q\$) AS t(x text);
SELECT success, sqlstate FROM datasource.execute('a_db', 'SET search_path = b', read_only => false);
$STATE
SQL
)
is "$out" "$(printf 'a\nERROR:  0A000\nf|0A000\n%s' "$CLEAN")" \
	"query() and execute() refuse the same, and a_db's next query reads a"

# inside a remote transaction, where the connection is pinned: the same
out=$(session <<SQL
BEGIN;
SELECT datasource.exec('b_db', \$q\$INSERT INTO log VALUES ('b')\$q\$);
SAVEPOINT s;
SELECT datasource.exec('a_db', 'SET search_path = b');
ROLLBACK TO s;
SELECT datasource.exec('a_db', 'SET LOCAL work_mem = ''7MB''');
SELECT tenant FROM datasource.query('a_db', 'SELECT tenant FROM whoami') AS t(tenant text);
COMMIT;
$STATE
SELECT n FROM datasource.query('b_db', 'SELECT count(*) FROM log') AS t(n int);
SQL
)
is "$out" "$(printf 'INSERT 0 1\nERROR:  0A000\nSET\na\n%s\n1' "$CLEAN")" \
	"in a remote transaction: SET refused, SET LOCAL of work_mem lasts for the transaction only, b's write committed"

# a refused change of the read-only default leaves writes of the other tenant working
out=$(session <<SQL
SELECT x FROM datasource.query('a_db', \$q\$SELECT set_config('default_transaction_read_only', 'on', false)\$q\$) AS t(x text);
SELECT datasource.exec('b_db', \$q\$INSERT INTO log VALUES ('b')\$q\$);
SQL
)
is "$out" "$(printf 'ERROR:  0A000\nINSERT 0 1')" "a refused read-only default: b_db's next write still runs"

# migrations follow the same rule: refused before anything runs on the remote
out=$(session <<SQL
SELECT status FROM datasource.migrate('a_db', 'v1', 'CREATE TABLE m1 (id int); SET search_path = b');
SELECT status FROM datasource.migrate('a_db', 'v1', 'CREATE TABLE m1 (id int); SELECT pg_advisory_lock(7)');
SELECT status FROM datasource.migrate('a_db', 'v1', 'CREATE TABLE m1 (id int); CREATE TEMP TABLE m1t (id int)');
SELECT count(*) FROM datasource.migrations WHERE database = 'a_db';
$STATE
SQL
)
is "$out" "$(printf 'ERROR:  0A000\nERROR:  0A000\nERROR:  0A000\n0\n%s' "$CLEAN")" \
	"a migration that would change the session is refused, journals nothing, leaves the session clean"
is "$(rq "SELECT to_regclass('a.m1') IS NULL")" "t" "and nothing of it ran on the remote"

lq -c "SELECT datasource.drop_database('a_db')" -c "SELECT datasource.drop_database('b_db')" \
	-c "SELECT datasource.drop_source('sesssrv')" -c "DROP SERVER sesssrv CASCADE" >/dev/null
"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rsess" -c "DROP ROLE IF EXISTS sess_owner" \
	-c "DROP ROLE IF EXISTS sess_other" >/dev/null
done_testing
