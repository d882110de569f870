#!/usr/bin/env bash
# Multi-server tests of two ways a routed statement could do on a remote
# what validation did not see.
#
# One lexer: with standard_conforming_strings off in the local session, a
# literal such as 'a\' ends one character later here than on a remote that
# has it on, so a set_config or a data-modifying CTE could hide from the
# validator inside what it reads as a string.  Played against a read-only
# remote logical database through query, exec and execute, the remote row
# must stay as it was; statements with backslashes must mean on the remote
# what they mean here, with the setting on and off, prepared on the remote
# or not, in a remote transaction or not.
#
# COPY: a routed COPY to or from the client is refused (0A000) before
# anything runs, on a remote datasource and on the local one; the backend
# stays usable, the remote keeps no lock and no backend busy, a COPY to a
# file still runs.  A remote that answers with a COPY all the same (a small
# fake server, test/lib/fake_copy_server.pl) gets an error within the
# call, never a spinning backend, and its connection is given up.
#
# Needs the PGDS_* variables of test/run.sh (two running servers).
set -u
export PGOPTIONS="-c client_min_messages=error"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

DB=multi_lexcopy
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
rq() { "${RPSQL[@]}" -d rlex -c "$1"; }

# --- setup
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rlex" -c "DROP ROLE IF EXISTS lex_owner" \
	-c "CREATE ROLE lex_owner LOGIN PASSWORD 'lex-secret-31'" \
	-c "CREATE DATABASE rlex OWNER lex_owner" >/dev/null || bail_out "remote setup failed"
"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" \
	>/dev/null || bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER lexsrv FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rlex')" \
	-c "CREATE USER MAPPING FOR postgres SERVER lexsrv
	      OPTIONS (user 'lex_owner', password 'lex-secret-31')" \
	-c "SELECT datasource.create_source('lexsrv', 'lexsrv')" \
	-c "SELECT datasource.create_database('ro_db', 'lexsrv', read_only => true)" \
	-c "SELECT datasource.create_database('rw_db', 'lexsrv')" \
	-c "SELECT datasource.create_database('home_db')" \
	-c "CREATE TABLE home_db.c (id int, v text)" \
	-c "INSERT INTO home_db.c VALUES (1, 'one')" >/dev/null || bail_out "extension setup failed"
"${RPSQL[@]}" -d rlex -c "SET ROLE lex_owner" \
	-c "CREATE TABLE ro_db.t (id int PRIMARY KEY, v text)" \
	-c "INSERT INTO ro_db.t SELECT g, 'orig' FROM generate_series(1, 6) g" \
	-c "CREATE TABLE rw_db.c (id int, v text)" \
	-c "INSERT INTO rw_db.c VALUES (1, 'one')" >/dev/null || bail_out "remote tables failed"

# --- one lexer: the standard_conforming_strings trick against a read-only remote
# What this session reads as one string literal, a remote with
# standard_conforming_strings on reads as a set_config (it turns the
# remote session's read-only default off), then as a data-modifying CTE.
hide_set=$'SELECT \'a\\\' || pg_catalog.set_config($$default_transaction_read_only$$, $$off$$, false) --\''
hide_upd() {
	printf '%s' "WITH q AS (SELECT 'a\\' AS x), w AS (UPDATE t SET v = \$\$pwned\$\$ WHERE id = $1 RETURNING 1) SELECT count(*)::text FROM w --') SELECT x FROM q"
}
is "$(lq -c "SET standard_conforming_strings = off" \
		-c "SELECT valid, read_only FROM datasource.validate(\$q\$$hide_set\$q\$, 'ro_db')" \
		-c "SELECT valid, read_only, cardinality(relations) = 0 FROM datasource.validate(\$q\$$(hide_upd 1)\$q\$, 'ro_db')")" \
	"$(printf 't|t\nt|t|t')" "with standard_conforming_strings off, validation reads both statements as a string literal"

session >/dev/null <<SQL
SET standard_conforming_strings = off;
SELECT x FROM datasource.query('ro_db', \$q\$$hide_set\$q\$) AS t(x text);
SELECT x FROM datasource.query('ro_db', \$q\$$hide_set\$q\$) AS t(x text);
SELECT x FROM datasource.query('ro_db', \$q\$$(hide_upd 1)\$q\$) AS t(x text);
SELECT x FROM datasource.query('ro_db', \$q\$$(hide_upd 1)\$q\$) AS t(x text);
SELECT x FROM datasource.query('ro_db', \$q\$$(hide_upd 1)\$q\$) AS t(x text);
SQL
is "$(rq "SELECT v FROM ro_db.t WHERE id = 1")" "orig" \
	"query: the read-only remote row is unchanged (run once, and again prepared)"

session >/dev/null <<SQL
SET standard_conforming_strings = off;
SELECT datasource.exec('ro_db', \$q\$$hide_set\$q\$);
SELECT datasource.exec('ro_db', \$q\$$(hide_upd 2)\$q\$);
SQL
is "$(rq "SELECT v FROM ro_db.t WHERE id = 2")" "orig" "exec: the read-only remote row is unchanged"

session >/dev/null <<SQL
SET standard_conforming_strings = off;
SELECT success FROM datasource.execute('ro_db', \$q\$$hide_set\$q\$);
SELECT success FROM datasource.execute('ro_db', \$q\$$(hide_upd 3)\$q\$);
SQL
is "$(rq "SELECT v FROM ro_db.t WHERE id = 3")" "orig" "execute: the read-only remote row is unchanged"

# the remote's own configuration has it off, the local session on: the
# other way round, a remote reading a string where validation read code
rq "ALTER ROLE lex_owner SET standard_conforming_strings = off" >/dev/null
out=$(session <<SQL
SELECT x FROM datasource.query('ro_db', 'SELECT ''a\\'' AS x') AS t(x text);
SELECT x FROM datasource.query('ro_db', 'SELECT ''a\\'' AS x') AS t(x text);
SELECT x FROM datasource.query('ro_db', 'SELECT ''a\\'' AS x') AS t(x text);
SQL
)
rq "ALTER ROLE lex_owner RESET standard_conforming_strings" >/dev/null
is "$out" "$(printf 'a\\\na\\\na\\')" "a remote configured with standard_conforming_strings off lexes as this session (on)"

# legitimate statements mean the same on the remote as here, on and off
exprs_common=("'a\\\\b'" "E'c\\\\d\\te'" "'it''s'" "'back\\slash'" "'plain'")
exprs_off=("'x\\'y'")
for setting in on off; do
	exprs=("${exprs_common[@]}")
	[ "$setting" = off ] && exprs+=("${exprs_off[@]}")
	sql="SET standard_conforming_strings = $setting;"
	want=""
	for e in "${exprs[@]}"; do
		sql+="
SELECT (SELECT x FROM datasource.query('ro_db', \$q\$SELECT ($e)::text\$q\$) AS t(x text)) IS NOT DISTINCT FROM ($e)::text;"
		want+="t"$'\n'
	done
	is "$(session <<<"$sql")" "${want%$'\n'}" \
		"standard_conforming_strings $setting: routed literals with backslashes give what they give here"
done

# prepared on the remote with the setting on, then routed with it off
out=$(session <<'SQL'
SELECT x FROM datasource.query('ro_db', $q$SELECT 'p\\q'::text$q$) AS t(x text);
SELECT x FROM datasource.query('ro_db', $q$SELECT 'p\\q'::text$q$) AS t(x text);
SELECT x FROM datasource.query('ro_db', $q$SELECT 'p\\q'::text$q$) AS t(x text);
SET standard_conforming_strings = off;
SELECT x FROM datasource.query('ro_db', $q$SELECT 'p\\q'::text$q$) AS t(x text);
SELECT x FROM datasource.query('ro_db', $q$SELECT 'p\\q'::text$q$) AS t(x text);
SET standard_conforming_strings = on;
SELECT x FROM datasource.query('ro_db', $q$SELECT 'p\\q'::text$q$) AS t(x text);
SQL
)
is "$out" "$(printf '%s\n' 'p\\q' 'p\\q' 'p\\q' 'p\q' 'p\q' 'p\\q')" \
	"a statement prepared on the remote with standard strings is not used when they are off"

# in a remote transaction (the setting goes in the pipeline in front)
session >/dev/null <<'SQL'
BEGIN;
SET LOCAL standard_conforming_strings = off;
SELECT datasource.exec('rw_db', $q$INSERT INTO c VALUES (2, 'a\\b')$q$);
SET LOCAL standard_conforming_strings = on;
SELECT datasource.exec('rw_db', $q$INSERT INTO c VALUES (3, 'a\\b')$q$);
COMMIT;
SQL
is "$(rq "SELECT string_agg(id || '=' || v, ' ' ORDER BY id) FROM rw_db.c WHERE id IN (2, 3)")" \
	'2=a\b 3=a\\b' "in one remote transaction, each write is lexed with the setting in force when it was routed"

# a routed SET client_encoding is refused (it would change how the remote
# reads the next text), and the next text is read as before
out=$(session <<'SQL'
SELECT datasource.exec('rw_db', 'SET client_encoding = ''LATIN1''');
SELECT datasource.exec('rw_db', 'SET LOCAL client_encoding = ''LATIN1''');
SELECT x FROM datasource.query('rw_db', $q$SELECT length('héllo')::text$q$) AS t(x text);
SQL
)
is "$out" "$(printf 'ERROR:  0A000\nERROR:  0A000\n5')" "a routed SET client_encoding is refused, and the next text is read as before"

# --- routed COPY to or from the client: remote
# rq_idle : wait until no remote backend of ours is left (they flush their
# statistics as they exit)
rq_idle() {
	for _ in $(seq 100); do
		[ "$(rq "SELECT count(*) FROM pg_stat_activity WHERE datname = 'rlex' AND pid <> pg_backend_pid()")" = 0 ] &&
			return 0
		sleep 0.1
	done
}
# scans : sequential scans of the remote table so far
scans() { rq_idle; rq "SELECT seq_scan FROM pg_stat_user_tables WHERE relid = 'rw_db.c'::regclass"; }
before=$(scans)
out=$(session <<'SQL'
SELECT datasource.exec('rw_db', 'COPY c TO STDOUT');
SELECT count(*) FROM datasource.query('rw_db', 'COPY (SELECT * FROM c) TO STDOUT') AS t(x text);
SELECT sqlstate FROM datasource.execute('rw_db', 'COPY c TO STDOUT', read_only => false);
SQL
)
is "$out" "$(printf 'ERROR:  0A000\nERROR:  0A000\n0A000')" "remote: COPY TO STDOUT through exec, query, execute gives 0A000"
is "$(scans)" "$before" "remote: refused before it was sent (the remote never read the table)"
out=$(session <<'SQL'
SELECT datasource.exec('rw_db', 'COPY c FROM STDIN');
SELECT count(*) FROM datasource.query('rw_db', 'COPY c FROM STDIN') AS t(x text);
SELECT sqlstate FROM datasource.execute('rw_db', 'COPY c FROM STDIN', read_only => false);
SELECT x FROM datasource.query('rw_db', 'SELECT count(*)::text FROM c') AS t(x text);
SQL
)
is "$out" "$(printf 'ERROR:  0A000\nERROR:  0A000\n0A000\n3')" \
	"remote: COPY FROM STDIN through exec, query, execute gives 0A000 at once; the next statement runs"
out=$(session <<'SQL'
BEGIN;
SELECT datasource.exec('rw_db', 'INSERT INTO c VALUES (9, ''nine'')');
SELECT datasource.exec('rw_db', 'COPY c FROM STDIN');
ROLLBACK;
SELECT x FROM datasource.query('rw_db', 'SELECT count(*)::text FROM c') AS t(x text);
SQL
)
is "$out" "$(printf 'INSERT 0 1\nERROR:  0A000\n3')" \
	"remote: a COPY refused inside a remote transaction; the rollback undoes the write before it"
is "$(rq "SELECT count(*) FROM pg_locks l JOIN pg_class r ON r.oid = l.relation
           WHERE r.relname = 'c' AND r.relnamespace = 'rw_db'::regnamespace")" "0" \
	"remote: no lock remains on the table"
is "$(rq "SELECT count(*) FROM pg_stat_activity
           WHERE datname = 'rlex' AND pid <> pg_backend_pid()
             AND (state NOT IN ('idle') OR query ~* '^\s*COPY')")" "0" \
	"remote: no backend runs, or ran, a COPY"
is "$(rq "SELECT count(*) FROM rw_db.c")" "3" "remote: the table is unchanged"

# a COPY to a file is not to the client: it runs as before (with the privilege)
rq "GRANT pg_write_server_files TO lex_owner" >/dev/null
is "$(lq -c "SELECT datasource.exec('rw_db', 'COPY c TO ''/dev/null''')")" "COPY 3" \
	"remote: a routed COPY to a file still runs"

# --- routed COPY to or from the client: local
out=$(session <<'SQL'
SELECT datasource.exec('home_db', 'COPY c TO STDOUT');
SELECT datasource.exec('home_db', 'COPY c FROM STDIN');
SELECT count(*) FROM datasource.query('home_db', 'COPY c TO STDOUT') AS t(x text);
SELECT sqlstate FROM datasource.execute('home_db', 'COPY c FROM STDIN', read_only => false);
SELECT sqlstate FROM datasource.execute('home_db', 'COPY (SELECT 1) TO STDOUT', read_only => false);
SELECT datasource.exec('home_db', 'COPY c TO ''/dev/null''');
SELECT count(*) || ' ' || string_agg(v, ',') FROM home_db.c;
SQL
)
is "$out" "$(printf 'ERROR:  0A000\nERROR:  0A000\nERROR:  0A000\n0A000\n0A000\nCOPY\n1 one')" \
	"local: COPY TO STDOUT / FROM STDIN give 0A000 and leave the table as it was; COPY to a file runs"

# --- a remote that answers with a COPY nobody asked for
work=$(mktemp -d)
trap 'kill "$fake_pid" 2>/dev/null; rm -rf "$work"' EXIT
perl "$here/../lib/fake_copy_server.pl" "$work/port" "$work/log" 300 &
fake_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
fake_port=$(cat "$work/port" 2>/dev/null)
lq -c "CREATE SERVER fake FOREIGN DATA WRAPPER pg_datasource
         OPTIONS (host '127.0.0.1', port '${fake_port:-1}', dbname 'fake', sslmode 'disable')" \
	-c "CREATE USER MAPPING FOR postgres SERVER fake OPTIONS (user 'fake')" \
	-c "SELECT datasource.create_source('fake', 'fake')" \
	-c "SELECT datasource.create_database('fake_db', 'fake', create_schema => false)" >/dev/null
ok $? "a fake remote registers as a datasource"
# closed N : how many connections the fake saw closed
closed() { grep -c ' closed$' "$work/log"; }

for kind in copy_out copy_in copy_both; do
	before=$(closed)
	out=$(session <<SQL
SELECT x FROM datasource.query('fake_db', 'SELECT ''$kind''::text') AS t(x text);
SELECT sqlstate FROM datasource.execute('fake_db', 'SELECT ''$kind''::text');
SELECT x FROM datasource.query('fake_db', 'SELECT 1::text') AS t(x text);
SELECT 42;
SQL
)
	is "$out" "$(printf 'ERROR:  0A000\n0A000\n1\n42')" \
		"$kind answered to a SELECT: 0A000 within the call, the next statement reconnects, the backend is usable"
	for _ in $(seq 50); do [ "$(closed)" -ge $((before + 2)) ] && break; sleep 0.1; done
	[ "$(closed)" -ge $((before + 2)) ]
	ok $? "$kind: the connection that got it was closed, not left streaming"
done

before=$(closed)
out=$(session <<'SQL'
BEGIN;
SELECT datasource.exec('fake_db', 'CREATE TABLE x (a int)');
SELECT datasource.exec('fake_db', $$SELECT 'copy_out'$$);
SELECT success, sqlstate FROM datasource.execute('fake_db', 'SELECT 1');
COMMIT;
SELECT x FROM datasource.query('fake_db', 'SELECT 1::text') AS t(x text);
SQL
)
is "$out" "$(printf 'CREATE\nERROR:  0A000\nERROR:  25P02\n1')" \
	"a COPY answer inside a remote transaction: 0A000, the transaction is lost and rolls back, the next one works"
before=$(closed)
out=$(session <<'SQL'
BEGIN;
SELECT datasource.exec('fake_db', 'CREATE TABLE commit_copy (a int)');
SELECT datasource.exec('fake_db', 'CREATE TABLE y (a int)');
COMMIT;
SELECT x FROM datasource.query('fake_db', 'SELECT 1::text') AS t(x text);
SQL
)
like "$out" "^CREATE
CREATE
ERROR:  08006
1$" "a COPY answer to the remote COMMIT: an error, no spin, the next statement reconnects"
for _ in $(seq 50); do [ "$(closed)" -ge $((before + 2)) ] && break; sleep 0.1; done
[ "$(closed)" -ge $((before + 2)) ]
ok $? "the connection that got it was closed"
is "$(lq -c "SELECT healthy FROM datasource.health_check('fake')")" "t" "the fake remote is healthy otherwise"

lq -c "SELECT datasource.drop_database('fake_db')" -c "SELECT datasource.drop_source('fake')" \
	-c "DROP SERVER fake CASCADE" >/dev/null
"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS rlex" -c "DROP ROLE IF EXISTS lex_owner" >/dev/null
done_testing
