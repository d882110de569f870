#!/usr/bin/env bash
# DDL in a sandboxed session, and what the DDL journal records.
#
# A writable sandbox may run DDL whose every object lies in its logical
# databases: the event triggers of the DDL journal check each object after
# PostgreSQL resolved its name, so DDL reached through a function's EXECUTE
# is checked as DDL sent by the client.  With those triggers disabled the
# sandbox runs no DDL at all.  The journal records the statement that ran,
# not the rest of the client's string (which may hold a password).
#
# Needs the PGDS_* variables of test/run.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

DB=multi_sandbox_ddl
LPSQL=(psql -X -q -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT")
su() { "${LPSQL[@]}" -U postgres -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
as_writer() { "${LPSQL[@]}" -U sbx_writer -At -d "$DB" -v VERBOSITY=terse -c "$1" 2>&1; }

"${LPSQL[@]}" -U postgres -d postgres -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
	-c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" \
	-c "DROP ROLE IF EXISTS sbx_writer" -c "CREATE ROLE sbx_writer LOGIN" >/dev/null
su -c "SET client_min_messages = warning" -c "CREATE EXTENSION pg_datasource" \
	-c "SELECT datasource.create_database('shop_db')" \
	-c "CREATE SCHEMA hr" -c "CREATE TABLE hr.audit (x int)" \
	-c "GRANT ALL ON SCHEMA hr, shop_db TO sbx_writer" -c "ALTER TABLE hr.audit OWNER TO sbx_writer" \
	-c "CREATE FUNCTION shop_db.run(t text) RETURNS void LANGUAGE plpgsql AS \$\$BEGIN EXECUTE t; END\$\$" \
	-c "SELECT datasource.set_sandbox('sbx_writer', ARRAY['shop_db'], read_only => false)" >/dev/null

# DDL inside the sandbox: allowed, and journaled
is "$(as_writer "SELECT shop_db.run('CREATE TABLE shop_db.orders (id int)')")" "" \
	"a writable sandbox creates a table in its logical database"
is "$(su -c "SELECT to_regclass('shop_db.orders') IS NOT NULL")" "t" "the table is there"

# DDL reaching another schema through EXECUTE: refused, nothing changed
out=$(as_writer "SELECT shop_db.run('CREATE TABLE hr.leak (id int)')")
like "$out" "42501|permission denied by the datasource sandbox" "CREATE TABLE in another schema is refused"
is "$(su -c "SELECT to_regclass('hr.leak')")" "" "and the table does not exist"
as_writer "SELECT shop_db.run('ALTER TABLE hr.audit ADD COLUMN y int')" >/dev/null
is "$(su -c "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'hr' AND table_name = 'audit'")" \
	"1" "ALTER TABLE on another schema's table (the role owns it) changes nothing"
as_writer "SELECT shop_db.run('DROP TABLE hr.audit')" >/dev/null
is "$(su -c "SELECT to_regclass('hr.audit') IS NOT NULL")" "t" "DROP TABLE of another schema's table (the role owns it) is undone"
as_writer "SELECT shop_db.run('CREATE SCHEMA evil')" >/dev/null
is "$(su -c "SELECT to_regnamespace('evil')")" "" "CREATE SCHEMA is refused"

# with the checking triggers disabled, no DDL at all
su -c "ALTER EVENT TRIGGER datasource_ddl_log DISABLE" >/dev/null
out=$(as_writer "SELECT shop_db.run('CREATE TABLE hr.leak2 (id int)')")
is "$(su -c "SELECT to_regclass('hr.leak2')")" "" "with the event triggers disabled, DDL elsewhere is not run"
as_writer "SELECT shop_db.run('CREATE TABLE shop_db.more (id int)')" >/dev/null
is "$(su -c "SELECT to_regclass('shop_db.more')")" "" "nor DDL inside the sandbox"
su -c "ALTER EVENT TRIGGER datasource_ddl_log ENABLE" >/dev/null

# the journal records the statement, not the client's whole string
"${LPSQL[@]}" -U postgres -d "$DB" -c "ALTER ROLE sbx_writer PASSWORD 'sekrit-pw-1'; CREATE TABLE shop_db.t_pw (id int)" >/dev/null 2>&1
is "$(su -c "SELECT statement FROM datasource.ddl_log WHERE object_identity = 'shop_db.t_pw'")" \
	"CREATE TABLE shop_db.t_pw (id int)" "the DDL journal records only the statement that ran"
is "$(su -c "SELECT count(*) FROM datasource.ddl_log WHERE statement LIKE '%sekrit%'")" "0" \
	"a password sent in the same string never reaches the journal"

"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE $DB" -c "DROP ROLE sbx_writer" >/dev/null
done_testing
