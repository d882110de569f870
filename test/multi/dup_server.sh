#!/usr/bin/env bash
# Multi-server test of one physical database registered twice: two foreign
# servers that reach the same remote database by different spellings (the
# remote's 127.0.0.1 and its unix socket directory), a logical database on
# each, both on the same schema.  One local transaction must not hold a
# remote transaction on one of them and use the other: the second
# connection would wait for the locks of the first, which waits for the
# local transaction, until cancelled.  Checked by effect, each under
# statement_timeout (and a timeout around psql) so a hang shows as 57014
# instead of stopping the run: migrate_all over both applies the first
# and refuses the second (55000, nothing of it on the remote, the journal
# says so); routed writes touching both in one transaction, and a read of
# one while the other's transaction holds a lock, are refused (55000) and
# leave nothing; each alone works; two different databases of the same
# server still work together (routed and migrate_all); a PgBouncer alias
# of the same database (when pgbouncer is installed) is recognised too; a
# non-superuser mapping can read the remote's identity (pg_control_system:
# the mapped role is no superuser).  A loopback
# (a remote that is the control plane's own database) is not refused: a
# local lock and a remote write on it wait on each other, which
# statement_timeout ends, leaving nothing.
#
# Needs the PGDS_* variables of test/run.sh (two running servers).
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

DB=multi_dupserver
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT")

# lq SQL... : run on the local test database, stop on error
lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
# session : run stdin as one session on the local test database, 20
# seconds at most; errors print as "ERROR:  SQLSTATE"
session() { timeout 40 "${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate 2>&1; }
# rq DB SQL : run on a remote database as postgres
rq() { "${RPSQL[@]}" -U postgres -d "$1" -c "$2"; }

# --- setup: two remote databases owned by the mapped role, each with a
# schema "shared" holding a table t
cluster_running "$PGDS_REMOTE_DIR" || cluster_start "$PGDS_REMOTE_DIR" >/dev/null ||
	bail_out "the remote server does not run"
"${RPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS rdup" -c "DROP DATABASE IF EXISTS rdup2" \
	-c "DROP ROLE IF EXISTS dup_owner" \
	-c "CREATE ROLE dup_owner LOGIN PASSWORD 'dup-secret-18'" \
	-c "CREATE DATABASE rdup OWNER dup_owner" -c "CREATE DATABASE rdup2 OWNER dup_owner" >/dev/null ||
	bail_out "remote setup failed"
for d in rdup rdup2; do
	"${RPSQL[@]}" -U dup_owner -d $d -c "CREATE SCHEMA shared" \
		-c "CREATE TABLE shared.t (id int PRIMARY KEY)" >/dev/null || bail_out "remote setup of $d failed"
done
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
	bail_out "local setup failed"
# dup_tcp and dup_sock: the same database; dup_other: another database of
# the same server.  The mapped role is no superuser there.
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER dup_tcp FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rdup')" \
	-c "CREATE SERVER dup_sock FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '$PGDS_REMOTE_HOST', port '$PGDS_REMOTE_PORT', dbname 'rdup')" \
	-c "CREATE SERVER dup_other FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rdup2')" \
	-c "CREATE USER MAPPING FOR postgres SERVER dup_tcp OPTIONS (user 'dup_owner', password 'dup-secret-18')" \
	-c "CREATE USER MAPPING FOR postgres SERVER dup_sock OPTIONS (user 'dup_owner', password 'dup-secret-18')" \
	-c "CREATE USER MAPPING FOR postgres SERVER dup_other OPTIONS (user 'dup_owner', password 'dup-secret-18')" \
	-c "SELECT datasource.create_source('tcp_src', 'dup_tcp')" \
	-c "SELECT datasource.create_source('sock_src', 'dup_sock')" \
	-c "SELECT datasource.create_source('other_src', 'dup_other')" \
	-c "SELECT datasource.create_database('ta', 'tcp_src', schema_name => 'shared', create_schema => false)" \
	-c "SELECT datasource.create_database('tb', 'sock_src', schema_name => 'shared', create_schema => false)" \
	-c "SELECT datasource.create_database('tc', 'other_src', schema_name => 'shared', create_schema => false)" \
	>/dev/null || bail_out "extension setup failed"

# rows DB : the ids in shared.t of a remote database, or '-'
rows() { rq "$1" "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '-') FROM shared.t"; }
# waiting : remote backends of the mapped role waiting on a lock
waiting() { rq postgres "SELECT count(*) FROM pg_stat_activity WHERE usename = 'dup_owner' AND wait_event_type = 'Lock'"; }

# the mapped role reads the identity as PUBLIC may (PostgreSQL 15 grants
# pg_control_system() to PUBLIC), and both connections are made with it
is "$(rq rdup "SELECT rolsuper FROM pg_roles WHERE rolname = 'dup_owner'")|$(lq -c "SELECT count(*) FROM datasource.query('ta', 'SELECT 1') AS a(x int), datasource.query('tb', 'SELECT 1') AS b(x int)")" \
	"f|1" "a mapped role that is no superuser connects to both (the identity query needs no privilege)"

# --- migrate_all over the two logical databases of one physical database
out=$(session <<'SQL'
SET statement_timeout = '10s';
SET client_min_messages = error;
SELECT database || ' ' || status || ' ' || coalesce(sqlstate, '-')
  FROM datasource.migrate_all('001_u', 'CREATE TABLE u (id int PRIMARY KEY)', databases => ARRAY['ta', 'tb'])
 ORDER BY database;
SQL
)
is "$out" "ta applied -
tb failed 55000" \
	"migrate_all over two logical databases of one physical database: the first applied, the second refused (55000), no wait"
is "$(rq rdup "SELECT to_regclass('shared.u') IS NOT NULL")|$(waiting)" "t|0" \
	"the first one's table is committed on the remote; no remote backend is left waiting"
is "$(lq -c "SELECT string_agg(database || ' ' || status || ' ' || coalesce(sqlstate, '-'), ', ' ORDER BY database)
             FROM datasource.migrations WHERE version = '001_u'")" "ta applied -, tb failed 55000" \
	"the journal says the same"
err=$(lq -c "SELECT error FROM datasource.migrations WHERE version = '001_u' AND database = 'tb'")
note "the refusal: $err"
like "$err" \
	'tcp_src.*sock_src|sock_src.*tcp_src' "the refusal names both datasources"

# --- routed statements: writes to both in one transaction
out=$(session <<'SQL'
SET statement_timeout = '10s';
BEGIN;
SELECT datasource.exec('ta', 'INSERT INTO t VALUES (1)');
SELECT datasource.exec('tb', 'INSERT INTO t VALUES (1)');
COMMIT;
SQL
)
is "$(echo "$out" | grep -c 'ERROR:  55000')|$(echo "$out" | grep -c 57014)" "1|0" \
	"a write to the second datasource of one database in the same transaction is refused (55000), without waiting"
is "$(rows rdup)|$(waiting)" "-|0" "nothing of that transaction is on the remote"

out=$(session <<'SQL'
SET statement_timeout = '10s';
BEGIN;
SELECT datasource.exec('tb', 'INSERT INTO t VALUES (2)');
SELECT datasource.exec('ta', 'INSERT INTO t VALUES (3)');
COMMIT;
SQL
)
is "$(echo "$out" | grep -c 'ERROR:  55000')|$(rows rdup)" "1|-" \
	"the other way round too: refused, nothing committed"

# a read of one while the other's transaction holds a lock on the table
out=$(session <<'SQL'
SET statement_timeout = '10s';
BEGIN;
SELECT datasource.exec('ta', 'LOCK TABLE t IN ACCESS EXCLUSIVE MODE');
SELECT n FROM datasource.query('tb', 'SELECT count(*) FROM t') AS q(n bigint);
COMMIT;
SQL
)
is "$(echo "$out" | grep -c 'ERROR:  55000')|$(echo "$out" | grep -c 57014)|$(waiting)" "1|0|0" \
	"a read of the second while the first has a remote transaction open is refused (55000), without waiting"

# each alone works, and a read of one before the other's transaction opens
out=$(session <<'SQL'
SET statement_timeout = '10s';
BEGIN;
SELECT datasource.exec('ta', 'INSERT INTO t VALUES (4)');
COMMIT;
BEGIN;
SELECT datasource.exec('tb', 'INSERT INTO t VALUES (5)');
COMMIT;
BEGIN;
SELECT n FROM datasource.query('tb', 'SELECT count(*) FROM t') AS q(n bigint);
SELECT datasource.exec('ta', 'INSERT INTO t VALUES (6)');
COMMIT;
SQL
)
is "$(echo "$out" | grep -c ERROR)|$(rows rdup)" "0|4,5,6" \
	"each datasource alone in its transaction works; a read of one before the other opens a remote transaction too"

# one server used by two local roles in one transaction: two connections
lq -c "DROP ROLE IF EXISTS dup_local" -c "CREATE ROLE dup_local" \
	-c "GRANT USAGE ON FOREIGN SERVER dup_tcp TO dup_local" \
	-c "CREATE USER MAPPING FOR dup_local SERVER dup_tcp OPTIONS (user 'dup_owner', password 'dup-secret-18')" \
	>/dev/null || bail_out "role setup failed"
out=$(session <<'SQL'
SET statement_timeout = '10s';
BEGIN;
SELECT datasource.exec('ta', 'INSERT INTO t VALUES (10)');
SET LOCAL ROLE dup_local;
SELECT datasource.exec('ta', 'INSERT INTO t VALUES (10)');
COMMIT;
SET ROLE dup_local;
SELECT datasource.exec('ta', 'INSERT INTO t VALUES (11)');
SQL
)
is "$(echo "$out" | grep -c 'ERROR:  55000')|$(echo "$out" | grep -c 57014)|$(echo "$out" | grep -c 'INSERT 0 1')|$(rows rdup)" \
	"1|0|2|4,5,6,11" \
	"one datasource used as a second role in the same transaction is refused (55000), nothing of it kept; that role alone works"
rq rdup "DELETE FROM shared.t WHERE id = 11" >/dev/null

# --- two different databases of one server work together
out=$(session <<'SQL'
SET statement_timeout = '10s';
BEGIN;
SELECT datasource.exec('ta', 'INSERT INTO t VALUES (7)');
SELECT datasource.exec('tc', 'INSERT INTO t VALUES (7)');
COMMIT;
SELECT database || ' ' || status
  FROM datasource.migrate_all('002_v', 'CREATE TABLE v (id int)', databases => ARRAY['ta', 'tc'])
 ORDER BY database;
SQL
)
is "$out" "INSERT 0 1
INSERT 0 1
ta applied
tc applied" "two databases of one server in one transaction and in one migrate_all: no refusal"
is "$(rows rdup)|$(rows rdup2)|$(rq rdup "SELECT to_regclass('shared.v') IS NOT NULL")|$(rq rdup2 "SELECT to_regclass('shared.v') IS NOT NULL")" \
	"4,5,6,7|7|t|t" "both committed"

# --- a PgBouncer (transaction mode) in front of the same database
PGBOUNCER=${PGDS_PGBOUNCER:-/usr/sbin/pgbouncer}
BDIR=$PGDS_BASE/dup_bouncer
BPID=""
stop_bouncer() {
	if [ -n "$BPID" ] && kill -0 "$BPID" 2>/dev/null; then
		kill -INT "$BPID" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$BPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$BPID" 2>/dev/null
	fi
	BPID=""
}
trap stop_bouncer EXIT
# start_bouncer : PgBouncer as the postgres OS user in front of rdup, its
# port in BPORT; false when it cannot run
start_bouncer() {
	[ -x "$PGBOUNCER" ] || return 1
	mkdir -p "$BDIR" && chown "$PG_OS_USER:" "$BDIR" || return 1
	BPORT=$(free_port 56532) || return 1
	printf '"dup_owner" "dup-secret-18"\n' >"$BDIR/userlist.txt"
	printf '%s\n' "[databases]" \
		"rdup_pooled = host=127.0.0.1 port=$PGDS_REMOTE_PORT dbname=rdup" \
		"[pgbouncer]" "listen_addr = 127.0.0.1" "listen_port = $BPORT" \
		"unix_socket_dir =" "auth_type = scram-sha-256" "auth_file = $BDIR/userlist.txt" \
		"pool_mode = transaction" "default_pool_size = 3" "logfile = $BDIR/pgbouncer.log" \
		"pidfile = $BDIR/pgbouncer.pid" "ignore_startup_parameters = extra_float_digits" \
		>"$BDIR/pgbouncer.ini"
	chown "$PG_OS_USER:" "$BDIR/userlist.txt" "$BDIR/pgbouncer.ini" &&
		chmod 600 "$BDIR/userlist.txt" || return 1
	(cd / && runuser -u "$PG_OS_USER" -- "$PGBOUNCER" -d -q "$BDIR/pgbouncer.ini") || return 1
	for _ in $(seq 50); do
		[ -s "$BDIR/pgbouncer.pid" ] && break
		sleep 0.1
	done
	BPID=$(cat "$BDIR/pgbouncer.pid" 2>/dev/null)
	[ -n "$BPID" ]
}
if start_bouncer; then
	lq -c "CREATE SERVER dup_pooled FOREIGN DATA WRAPPER pg_datasource
	         OPTIONS (host '127.0.0.1', port '$BPORT', dbname 'rdup_pooled')" \
		-c "CREATE USER MAPPING FOR postgres SERVER dup_pooled OPTIONS (user 'dup_owner', password 'dup-secret-18')" \
		-c "SELECT datasource.create_source('pooled_src', 'dup_pooled')" \
		-c "SELECT datasource.create_database('td', 'pooled_src', schema_name => 'shared', create_schema => false)" \
		>/dev/null || bail_out "pgbouncer datasource setup failed"
	out=$(session <<'SQL'
SET statement_timeout = '10s';
BEGIN;
SELECT datasource.exec('td', 'INSERT INTO t VALUES (8)');
SELECT datasource.exec('ta', 'INSERT INTO t VALUES (8)');
COMMIT;
SELECT datasource.exec('td', 'INSERT INTO t VALUES (9)');
SQL
)
	is "$(echo "$out" | grep -c 'ERROR:  55000')|$(echo "$out" | grep -c 57014)|$(rows rdup)" "1|0|4,5,6,7,9" \
		"behind a PgBouncer alias too: the direct server after the pooled one is refused (55000), nothing of that transaction kept; the pooled one alone works"
	stop_bouncer
else
	skip 1 "pgbouncer does not run here (test/deps.sh installs it)"
fi

# --- a loopback: a remote that is the control plane's own database
lq -c "CREATE SCHEMA loopy" -c "CREATE TABLE loopy.t (id int)" \
	-c "CREATE SERVER dup_loop FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '$PGDS_LOCAL_HOST', port '$PGDS_LOCAL_PORT', dbname '$DB')" \
	-c "CREATE USER MAPPING FOR postgres SERVER dup_loop OPTIONS (user 'postgres')" \
	-c "SELECT datasource.create_source('loop_src', 'dup_loop')" \
	-c "SELECT datasource.create_database('lp', 'loop_src', schema_name => 'loopy', create_schema => false)" \
	>/dev/null || bail_out "loopback setup failed"
out=$(session <<'SQL'
BEGIN;
LOCK TABLE loopy.t;
SET LOCAL statement_timeout = '2s';
SELECT datasource.exec('lp', 'INSERT INTO t VALUES (1)');
COMMIT;
SELECT datasource.exec('lp', 'INSERT INTO t VALUES (2)');
SQL
)
is "$(echo "$out" | grep -c 'ERROR:  57014')|$(echo "$out" | grep -c 'INSERT 0 1')|$(lq -c "SELECT string_agg(id::text, ',') FROM loopy.t")" \
	"1|1|2" \
	"a loopback: a local lock and a remote write on it wait on each other until statement_timeout, which leaves nothing; alone it works"

"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP ROLE IF EXISTS dup_local" >/dev/null
"${RPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE rdup WITH (FORCE)" -c "DROP DATABASE rdup2 WITH (FORCE)" \
	-c "DROP ROLE dup_owner" >/dev/null
done_testing
