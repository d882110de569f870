#!/usr/bin/env bash
# Multi-server test of a MySQL logical database's foreign tables against a
# real MariaDB (Debian's mariadb-server, started here as the postgres OS
# user on its own data directory, socket and port, stopped at exit).
#
# The type gaps users hit: a table with unsigned integers at their maximum,
# ENUM, SET, tinyint(1), YEAR, a negative TIME beyond 24 hours, BIT, and a
# table mysql_fdw's own IMPORT FOREIGN SCHEMA would skip (a SET column) or
# fail on (YEAR): every column gets the type this file expects and reads
# back the value the mariadb client shows.  A zero date raises 22008 and
# the row is not read.  A table name longer than 63 bytes is reported as
# skipped, never truncated.  refresh_database() after ALTERs on the MySQL
# side reports exactly the changes, brings the foreign tables in line
# (pg_attribute), keeps grants, and reports nothing when run again; a dry
# run changes nothing; a refresh that cannot finish (a local view uses a
# column MySQL dropped) changes nothing at all.  drift() shows the same
# rows before the refresh and none after.  The import's DDL is not
# journaled in ddl_log; a view made by hand in the local schema is.  Bad arguments: 22004, 42704,
# 0A000 for a PostgreSQL logical database.
#
# Needs the PGDS_* variables of test/run.sh; skipped without MariaDB or
# mysql_fdw (test/deps.sh installs both).
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"
source "$here/../lib/mariadb.sh"

maria_available || skip_all "MariaDB or mysql_fdw is not installed (test/deps.sh installs them)"

DB=multi_mysql_import
MDIR="$PGDS_BASE/maria-import"
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)

lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
# lstate SQL : the SQLSTATE the statement raises, or "ok"
lstate() {
	local out
	out=$("${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate -c "$1" 2>&1 >/dev/null)
	if [ -z "$out" ]; then echo ok; else sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\).*/\1/p' <<<"$out" | head -n 1; fi
}
# m SQL : run on MariaDB's ledger database as root, tab-separated, no header
m() { maria_sql "$MDIR" -N -B ledger -e "$1"; }

trap 'maria_stop "$MDIR"' EXIT
maria_start "$MDIR" "$(free_port 33330)" >/dev/null || bail_out "MariaDB did not start"
MPORT=$(maria_port "$MDIR")

maria_sql "$MDIR" <<'EOF' || bail_out "MariaDB setup failed"
CREATE DATABASE ledger;
USE ledger;
CREATE TABLE gaps (
  id int unsigned PRIMARY KEY, t1 tinyint(1), tu tinyint unsigned, su smallint unsigned,
  mu mediumint unsigned, iu int unsigned, bu bigint unsigned, y year, e enum('x','y'),
  s set('a','b','c'), tm time, bi bit(3), dc decimal(20,4), vc varchar(20), ch char(3),
  bl blob, d date, dt datetime(3));
INSERT INTO gaps VALUES
  (4294967295, 1, 255, 65535, 16777215, 4294967295, 18446744073709551615, 2024, 'y',
   'a,c', '-800:11:12', b'101', 12345678901234.5678, 'hello', 'abc', 'raw', '2020-01-02',
   '2020-01-02 03:04:05.123');
CREATE TABLE zero (id int PRIMARY KEY, d date);
INSERT INTO zero VALUES (1, '2021-01-01'), (2, '0000-00-00');
CREATE TABLE accounts (id int PRIMARY KEY, owner varchar(50), balance decimal(12,2),
  kind enum('checking','savings'), note text);
INSERT INTO accounts VALUES (1, 'ann', 100.50, 'checking', 'hi'), (2, 'bob', 20, 'savings', NULL);
CREATE TABLE nokey (note text, n int);
CREATE TABLE `a_table_name_that_is_sixty_four_characters_long_abcdefghijklmnop` (id int);
EOF

"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null ||
	bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" -c "CREATE EXTENSION mysql_fdw" \
	-c "CREATE SERVER maria FOREIGN DATA WRAPPER mysql_fdw OPTIONS (host '127.0.0.1', port '$MPORT')" \
	-c "CREATE USER MAPPING FOR postgres SERVER maria OPTIONS (username 'pgds', password 'pgds-secret')" \
	-c "CREATE ROLE mysql_import_reader" \
	-c "SELECT datasource.create_source('maria', 'maria')" \
	-c "SELECT datasource.create_database('ledger_db', 'maria', 'ledger')" >/dev/null
lq -c "SELECT 1 FROM datasource.databases WHERE name = 'ledger_db' AND local_schema = 'ledger_db'" |
	grep -qx 1 || bail_out "create_database on the MySQL datasource failed"

# coltypes TABLE : "column type notnull" per column of a foreign table
coltypes() {
	lq -F ' ' -c "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
	               FROM pg_attribute a WHERE a.attrelid = 'ledger_db.$1'::regclass
	                AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
}

plan 31

# --- the type gaps
is "$(coltypes gaps | tr '\n' '|')" \
	"id bigint t|t1 smallint f|tu smallint f|su integer f|mu integer f|iu bigint f|bu numeric(20,0) f|y smallint f|e text f|s text f|tm interval f|bi bit(3) f|dc numeric(20,4) f|vc character varying(20) f|ch character(3) f|bl bytea f|d date f|dt timestamp without time zone f|" \
	"every MySQL type gap maps to a type that holds all its values (unsigned to the next wider type, ENUM/SET to text, TIME to interval, YEAR to smallint)"
is "$(lq -F ' ' -c "SELECT id, t1, tu, su, mu, iu, bu, y, e, s, tm, bi, dc, vc, ch, encode(bl, 'escape'), d, dt FROM ledger_db.gaps")" \
	"4294967295 1 255 65535 16777215 4294967295 18446744073709551615 2024 y a,c -800:11:12 101 12345678901234.5678 hello abc raw 2020-01-02 2020-01-02 03:04:05.123" \
	"the maximum unsigned values, ENUM, SET, YEAR, a negative TIME past 24 hours and BIT read back as MariaDB has them"
is "$(lq -c "SELECT col_description('ledger_db.gaps'::regclass, 10)")" "mysql: set('a','b','c')" \
	"a SET column's comment keeps MySQL's type with its values"
is "$(lq -c "SELECT col_description('ledger_db.gaps'::regclass, 9) || ' / ' || col_description('ledger_db.gaps'::regclass, 2)")" \
	"mysql: enum('x','y') / mysql: tinyint(1)" "ENUM and tinyint(1) columns say what they are in MySQL"
is "$(lstate "SELECT d FROM ledger_db.zero ORDER BY id")" "22008" \
	"a zero date raises 22008 (datetime field overflow): it has no PostgreSQL value"
is "$(lq -c "SELECT d FROM ledger_db.zero WHERE id = 1")" "2021-01-01" \
	"a row without a zero date reads (the filter is pushed down to MySQL)"
is "$(lq -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'ledger_db'::regnamespace AND length(relname) >= 63")" "0" \
	"a MySQL table name longer than 63 bytes is not imported under a truncated name"
is "$(lq -c "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relnamespace = 'ledger_db'::regnamespace")" \
	"accounts,gaps,nokey,zero" "the other tables are foreign tables of the local schema"
like "$(lq -c "SELECT obj_description('ledger_db.nokey'::regclass, 'pg_class')")" "not writable through mysql_fdw" \
	"a table whose first column is not a key says it cannot be written through mysql_fdw"

# --- refresh_database after changes on the MySQL side
lq -c "GRANT SELECT ON ledger_db.accounts TO mysql_import_reader" -c "CREATE VIEW public.rich AS SELECT id, owner FROM ledger_db.accounts"
is "$(lq -F ' ' -c "SELECT change, object_type, object_name FROM datasource.refresh_database('ledger_db')" | tr '\n' '|')" \
	"skipped table a_table_name_that_is_sixty_four_characters_long_abcdefghijklmnop|" \
	"refresh_database with nothing changed reports only the table it cannot import"
m "ALTER TABLE accounts ADD COLUMN currency char(3) NOT NULL DEFAULT 'EUR', DROP COLUMN note,
   MODIFY balance decimal(14,2), MODIFY kind enum('checking','savings','loan');
   DROP TABLE nokey; CREATE TABLE cards (id bigint PRIMARY KEY, account_id int unsigned NOT NULL)" ||
	bail_out "MariaDB ALTER failed"
before=$(coltypes accounts | tr '\n' '|')
expected="retyped column accounts.balance|retyped column accounts.kind|added column accounts.currency|dropped column accounts.note|added table cards|dropped table nokey|"
is "$(lq -F ' ' -c "SELECT change, object_type, object_name FROM datasource.refresh_database('ledger_db', dry_run => true) WHERE object_name NOT LIKE 'a_table%'" | tr '\n' '|')" \
	"$expected" "a dry run reports the columns retyped (decimal precision, ENUM values), added and dropped, and the tables added and dropped"
is "$(coltypes accounts | tr '\n' '|')" "$before" "the dry run changed no foreign table"
drift=$(lq -F ' ' -c "SELECT source, change, object_type, object_name FROM datasource.drift('ledger_db') WHERE object_name NOT LIKE 'a_table%'" | tr '\n' '|')
is "$drift" "$(sed 's/\([a-z]*\) \([a-z]*\) \([a-z_.]*\)|/mysql \1 \2 \3|/g' <<<"$expected")" \
	"drift() of the MySQL logical database shows the same changes"
is "$(lq -F ' ' -c "SELECT change, object_type, object_name FROM datasource.refresh_database('ledger_db') WHERE object_name NOT LIKE 'a_table%'" | tr '\n' '|')" \
	"$expected" "refresh_database applies and reports the same changes"
is "$(coltypes accounts | tr '\n' '|')" \
	"id integer t|owner character varying(50) f|balance numeric(14,2) f|kind text f|currency character(3) t|" \
	"the foreign table follows MySQL: column added, dropped, retyped"
is "$(lq -c "SELECT col_description('ledger_db.accounts'::regclass, 4)")" "mysql: enum('checking','savings','loan')" \
	"the ENUM column's comment has the new values"
is "$(lq -c "SELECT to_regclass('ledger_db.nokey') IS NULL, to_regclass('ledger_db.cards') IS NOT NULL")" "t|t" \
	"the dropped table's foreign table is gone, the new table has one"
is "$(lq -c "SELECT has_table_privilege('mysql_import_reader', 'ledger_db.accounts', 'SELECT')")" "t" \
	"a grant on a changed foreign table is kept (it was altered, not recreated)"
is "$(lq -F ' ' -c "SELECT id, owner, balance, kind, currency FROM public.rich JOIN ledger_db.accounts USING (id, owner) ORDER BY id" | tr '\n' '|')" \
	"1 ann 100.50 checking EUR|2 bob 20.00 savings EUR|" "a local view over the foreign table still works and reads the new column"
is "$(lq -c "SELECT count(*) FROM datasource.refresh_database('ledger_db') WHERE object_name NOT LIKE 'a_table%'")" "0" \
	"a second refresh finds nothing to do"
is "$(lq -c "SELECT count(*) FROM datasource.drift('ledger_db') WHERE object_name NOT LIKE 'a_table%'")" "0" \
	"drift() after the refresh shows nothing"

# --- the DDL journal: the import's statements are not DDL of the logical database
is "$(lq -c "SELECT count(*) FROM datasource.ddl_log WHERE database = 'ledger_db'")" "0" \
	"creating and refreshing the foreign tables journals no DDL"
lq -c "CREATE VIEW ledger_db.euro_accounts AS SELECT id FROM ledger_db.accounts WHERE currency = 'EUR'"
is "$(lq -F ' ' -c "SELECT schema_name, command_tag FROM datasource.ddl_log WHERE database = 'ledger_db'")" \
	"ledger_db CREATE VIEW" "a view made by hand in the local schema is journaled, under the local schema's name"
lq -c "DROP VIEW ledger_db.euro_accounts"

# --- a refresh that cannot finish changes nothing
m "ALTER TABLE accounts DROP COLUMN owner; CREATE TABLE later (id int PRIMARY KEY)"
before=$(coltypes accounts | tr '\n' '|')
is "$(lstate "SELECT * FROM datasource.refresh_database('ledger_db')")" "2BP01" \
	"a refresh that would drop a column a local view uses fails (2BP01)"
is "$(coltypes accounts | tr '\n' '|')" "$before" "the failed refresh left the foreign table as it was"
is "$(lq -c "SELECT to_regclass('ledger_db.later') IS NULL")" "t" \
	"and created no foreign table for the new MySQL table either"
lq -c "DROP VIEW public.rich"
is "$(lq -F ' ' -c "SELECT change, object_name FROM datasource.refresh_database('ledger_db') WHERE object_name NOT LIKE 'a_table%'" | tr '\n' '|')" \
	"dropped accounts.owner|added later|" "without the view the refresh goes through"

# --- bad arguments
lq -c "SELECT datasource.create_database('plain_db')" >/dev/null
is "$(lstate "SELECT * FROM datasource.refresh_database('plain_db')")" "0A000" \
	"refresh_database of a PostgreSQL logical database: 0A000"
is "$(lstate "SELECT * FROM datasource.refresh_database('nope')")" "42704" "refresh_database of an unknown name: 42704"
is "$(lstate "SELECT * FROM datasource.refresh_database(NULL)")" "22004" "refresh_database(NULL): 22004"
is "$(lstate "SELECT * FROM datasource.refresh_database('ledger_db', NULL)")" "22004" "refresh_database(name, NULL): 22004"

"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null
