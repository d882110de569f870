#!/usr/bin/env bash
# Routing to a MySQL logical database (a local schema of mysql_fdw foreign
# tables over a throwaway MariaDB of its own) and the write rule.
# Reads: query() with parameters returns the rows the mariadb client
# returns; qualifiers by logical name and by MySQL database name are
# rewritten to the local schema; query_json, execute (columns, rows,
# errors as results) and exec work; a join with a local or remote
# PostgreSQL logical database is invalid and refused before anything runs
# (no row changed in MySQL, locally or on the remote).  Routed DDL is
# refused (0A000); resolve_transactions() leaves MySQL alone.  Writes: a statement on its own writes (routed and
# direct, execute() too); inside BEGIN, a savepoint, a DO block with an
# EXCEPTION clause or a multi-statement query string a write (UPDATE,
# INSERT, DELETE, TRUNCATE, COPY FROM, routed or direct) is refused with
# 25001 and the MySQL row is unchanged; with
# datasource.allow_nontransactional_writes on it is written and ROLLBACK
# does NOT undo it (the documented behaviour).  A read-only sandbox cannot
# write a MySQL table.  describe / fingerprint / json_schema of a known
# table; EXPLAIN VERBOSE shows the WHERE and GROUP BY pushed down.
#
# Needs the PGDS_* variables of test/run.sh.
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"
source "$here/../lib/mariadb.sh"

: "${PGDS_BASE:?run me from test/run.sh}"
maria_available || skip_all "mariadb or mysql_fdw is not installed"

M=$PGDS_BASE/maria-route
DB=multi_mysql_route
LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT")

cleanup() {
	"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
	"${LPSQL[@]}" -d postgres -c "DROP ROLE IF EXISTS mr_agent" >/dev/null 2>&1
	"${RPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS rmysqlroute" \
		-c "DROP ROLE IF EXISTS mr_owner" >/dev/null 2>&1
	maria_stop "$M"
	[ "${PGDS_KEEP:-0}" = 1 ] || rm -rf "$M"
}
trap cleanup EXIT

cluster_running "$PGDS_REMOTE_DIR" || cluster_start "$PGDS_REMOTE_DIR" >/dev/null ||
	bail_out "the remote server does not run"
"${RPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS rmysqlroute" \
	-c "DROP ROLE IF EXISTS mr_owner" -c "CREATE ROLE mr_owner LOGIN PASSWORD 'mr-secret-20'" \
	-c "CREATE DATABASE rmysqlroute OWNER mr_owner" >/dev/null || bail_out "remote setup failed"
mport=$(free_port 33320) || bail_out "no free port for MariaDB"
maria_start "$M" "$mport" >/dev/null || bail_out "MariaDB did not start"

# my SQL : run on MariaDB, rows tab-separated, no header
my() { maria_sql "$M" -N -B -e "$1"; }
# q SQL : run on the local test database, stop on error
q() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
# qs [psql args] : run stdin as one session; errors print as "ERROR:  SQLSTATE"
qs() { timeout 60 "${LPSQL[@]}" -d "$DB" -v VERBOSITY=sqlstate "$@" 2>&1; }
# qtab SQL : rows tab-separated, as the mariadb client prints them
qtab() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -d "$DB" -F $'\t' -c "$1"; }

my "CREATE DATABASE shop;
	CREATE TABLE shop.items (id int PRIMARY KEY, name varchar(40) NOT NULL COMMENT 'what is sold',
		qty int, price decimal(10,2)) COMMENT 'the stock';
	INSERT INTO shop.items VALUES (1,'apple',10,1.50),(2,'pear',0,2.00),(3,'plum',5,0.75),(4,'fig',7,3.25);
	CREATE TABLE shop.ledger (id int PRIMARY KEY, note varchar(40));
	INSERT INTO shop.ledger VALUES (1,'first');" || bail_out "MariaDB setup failed"

"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" \
	-c "DROP ROLE IF EXISTS mr_agent" -c "CREATE ROLE mr_agent LOGIN" >/dev/null ||
	bail_out "local setup failed"
q "CREATE EXTENSION pg_datasource; CREATE EXTENSION mysql_fdw;
   CREATE SERVER maria FOREIGN DATA WRAPPER mysql_fdw OPTIONS (host '127.0.0.1', port '$mport');
   CREATE USER MAPPING FOR PUBLIC SERVER maria OPTIONS (username 'pgds', password 'pgds-secret');
   SELECT datasource.create_source('maria_src', 'maria');
   SELECT datasource.create_database('shopdb', 'maria_src', 'shop');
   GRANT USAGE ON SCHEMA shopdb TO PUBLIC;
   GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA shopdb TO PUBLIC;
   SELECT datasource.create_database('app', 'local', schema_name => 'app');
   CREATE TABLE app.t (id int PRIMARY KEY, qty int);
   INSERT INTO app.t VALUES (1, 100), (2, 200);
   GRANT USAGE ON SCHEMA app TO PUBLIC; GRANT ALL ON app.t TO PUBLIC;
   ALTER DATABASE $DB SET session_preload_libraries = 'pg_datasource';
   CREATE SERVER rpg FOREIGN DATA WRAPPER pg_datasource
	 OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'rmysqlroute');
   CREATE USER MAPPING FOR postgres SERVER rpg OPTIONS (user 'mr_owner', password 'mr-secret-20');
   SELECT datasource.create_source('rpg_src', 'rpg');
   SELECT datasource.create_database('remote_pg', 'rpg_src', schema_name => 'rs');" >/dev/null ||
	bail_out "extension setup failed"
"${RPSQL[@]}" -U mr_owner -d rmysqlroute -c "CREATE TABLE rs.t (id int PRIMARY KEY, qty int)" \
	-c "INSERT INTO rs.t VALUES (1, 1000), (2, 2000)" >/dev/null || bail_out "remote table setup failed"

# the qty of item ID in MySQL
qty() { my "SELECT qty FROM shop.items WHERE id = $1"; }

# ---------------------------------------------------------------- reads
is "$(qtab "SELECT * FROM datasource.query('shopdb',
	'SELECT id, name, price FROM items WHERE qty >= \$1 AND name <> \$2 ORDER BY id',
	ARRAY['5', 'plum']) AS t(id int, name text, price numeric)")" \
	"$(my "SELECT id, name, price FROM shop.items WHERE qty >= 5 AND name <> 'plum' ORDER BY id")" \
	"query() with parameters returns the rows the mariadb client returns"
is "$(q "SELECT count(*) FROM datasource.query('shopdb', 'SELECT 1 FROM shopdb.items') AS t(x int)")" \
	"4" "a qualifier naming the logical database reads the foreign table"
is "$(q "SELECT sum(q) FROM datasource.query('shopdb', 'SELECT qty FROM shop.items WHERE id < \$1', ARRAY['3']) AS t(q int)")" \
	"$(my "SELECT sum(qty) FROM shop.items WHERE id < 3")" \
	"a qualifier naming the MySQL database is rewritten to the local schema"
is "$(q "SELECT valid, datasource, databases::text, relations::text FROM datasource.validate('SELECT * FROM shop.items JOIN shopdb.ledger USING (id)')")" \
	't|maria_src|{shopdb}|{shopdb.items,shopdb.ledger}' \
	"validate() resolves both qualifiers to the MySQL logical database"
is "$(q "SELECT string_agg(j::text, ';' ORDER BY j->>'id') FROM datasource.query_json('shopdb', 'SELECT id, name FROM items WHERE id IN (\$1, \$2)', ARRAY['2', '4']) j")" \
	'{"id": 2, "name": "pear"};{"id": 4, "name": "fig"}' "query_json() returns jsonb rows"
is "$(q "SELECT success, datasource, columns::text, data::text, row_count FROM datasource.execute('shopdb', 'SELECT name, qty FROM items WHERE qty = 0')")" \
	't|maria_src|{name,qty}|[{"qty": 0, "name": "pear"}]|1' "execute() returns columns and rows"
is "$(q "SELECT success, sqlstate, row_count FROM datasource.execute('shopdb', 'SELECT no_such_column FROM items')")" \
	'f|42703|0' "execute() reports an error as its result"
like "$(q "EXPLAIN VERBOSE SELECT name, count(*) FROM shopdb.items WHERE qty > 1 GROUP BY name")" \
	'Remote query: SELECT .*WHERE .*qty.* > 1.*GROUP BY' \
	"EXPLAIN VERBOSE of what query() runs shows WHERE and GROUP BY sent to MySQL"

# ---------------------------------------------------------- cross-engine
is "$(q "SELECT valid FROM datasource.validate('SELECT * FROM shopdb.items i JOIN app.t USING (id)')")" \
	"f" "a join of a MySQL and a PostgreSQL logical database is invalid"
like "$(q "SELECT error FROM datasource.validate('SELECT * FROM shopdb.items i JOIN app.t USING (id)')")" \
	'different datasources' "the validator says why"
out=$(qs <<<"SELECT datasource.exec('shopdb', 'UPDATE items SET qty = 99 WHERE id IN (SELECT id FROM app.t)');")
like "$out" 'ERROR' "routing refuses the cross-engine write"
is "$(qty 1),$(qty 2)" "10,0" "... and nothing changed in MySQL"
out=$(qs <<<"SELECT datasource.exec('app', 'UPDATE t SET qty = 0 WHERE id IN (SELECT id FROM shopdb.items)');")
like "$out" 'ERROR' "routing refuses the cross-engine write from the PostgreSQL side"
is "$(q "SELECT string_agg(qty::text, ',' ORDER BY id) FROM app.t")" "100,200" "... and nothing changed locally"

is "$(q "SELECT success, sqlstate FROM datasource.execute('shopdb', 'UPDATE items SET qty = 66 WHERE id = 2')")" \
	"f|25006" "execute() (read_only by default) refuses a write to the MySQL table"
is "$(qty 2)" "0" "... and the MySQL row is unchanged"

is "$(q "SELECT valid FROM datasource.validate('SELECT * FROM shopdb.items JOIN remote_pg.t USING (id)')")" \
	"f" "a join of a MySQL and a remote PostgreSQL logical database is invalid"
out=$(qs <<<"SELECT datasource.exec('remote_pg', 'UPDATE t SET qty = 0 WHERE id IN (SELECT id FROM shopdb.items)');")
like "$out" 'ERROR' "routing to the remote refuses a statement naming the MySQL logical database"
is "$("${RPSQL[@]}" -U mr_owner -d rmysqlroute -c "SELECT string_agg(qty::text, ',' ORDER BY id) FROM rs.t")" \
	"1000,2000" "... and nothing changed on the remote"
out=$(qs <<<"SELECT datasource.exec('shopdb', 'UPDATE items SET qty = 98 WHERE id IN (SELECT id FROM remote_pg.t)');")
like "$out" 'ERROR' "routing to MySQL refuses a statement naming the remote logical database"
is "$(qty 1),$(qty 2)" "10,0" "... and nothing changed in MySQL"
is "$(q "SELECT sum(qty) FROM datasource.query('remote_pg', 'SELECT qty FROM t') AS t(qty int)")" \
	"3000" "the remote PostgreSQL logical database is still routed over libpq"

# ------------------------------------------------------------ autocommit
is "$(q "SELECT datasource.exec('shopdb', 'UPDATE items SET qty = qty + 1 WHERE id = 1')")" \
	"UPDATE 1" "exec() of an UPDATE on its own"
is "$(qty 1)" "11" "... is written in MySQL"
is "$(q "SELECT success, row_count FROM datasource.execute('shopdb', 'INSERT INTO ledger VALUES (2, ''two'')', 10, false)")" \
	"t|1" "execute() of an INSERT on its own"
is "$(my "SELECT note FROM shop.ledger WHERE id = 2")" "two" "... is written in MySQL"
q "UPDATE shopdb.items SET qty = 12 WHERE id = 1" >/dev/null
is "$(qty 1)" "12" "a direct UPDATE on its own is written"

# ------------------------------------------------------ transaction blocks
out=$(qs <<'EOF'
BEGIN;
SELECT datasource.exec('shopdb', 'UPDATE items SET qty = 77 WHERE id = 2');
ROLLBACK;
EOF
)
like "$out" 'ERROR:  25001' "a routed write inside BEGIN is refused (25001)"
is "$(qty 2)" "0" "... and the MySQL row is unchanged"
out=$(qs -v VERBOSITY=default <<'EOF'
BEGIN;
SELECT datasource.exec('shopdb', 'UPDATE items SET qty = 77 WHERE id = 2');
ROLLBACK;
EOF
)
like "$out" 'not transactional' "the message says why"
like "$out" 'allow_nontransactional_writes' "... and the hint names the setting"
out=$(qs <<'EOF'
BEGIN;
UPDATE shopdb.items SET qty = 78 WHERE id = 2;
ROLLBACK;
EOF
)
like "$out" 'ERROR:  25001' "a direct UPDATE of the foreign table inside BEGIN is refused"
is "$(qty 2)" "0" "... and the MySQL row is unchanged"
out=$(qs <<'EOF'
SAVEPOINT s;
BEGIN;
SAVEPOINT s;
INSERT INTO shopdb.ledger VALUES (3, 'three');
ROLLBACK;
EOF
)
like "$out" 'ERROR:  25001' "an INSERT inside a savepoint is refused"
is "$(my "SELECT count(*) FROM shop.ledger WHERE id = 3")" "0" "... and nothing is inserted"
out=$(qs <<'EOF'
DO $$
BEGIN
	DELETE FROM shopdb.items WHERE id = 4;
EXCEPTION WHEN division_by_zero THEN NULL;
END
$$;
EOF
)
like "$out" 'ERROR:  25001' "a DELETE in a DO block with an EXCEPTION clause is refused"
is "$(my "SELECT count(*) FROM shop.items WHERE id = 4")" "1" "... and the MySQL row is still there"
out=$(qs -c "UPDATE shopdb.items SET qty = 79 WHERE id = 2; SELECT 1")
like "$out" 'ERROR:  25001' "a write in a multi-statement query string (implicit block) is refused"
is "$(qty 2)" "0" "... and the MySQL row is unchanged"
is "$(q "BEGIN; SELECT success, sqlstate FROM datasource.execute('shopdb', 'UPDATE items SET qty = 80 WHERE id = 2', 10, false); COMMIT;")" \
	"f|25001" "execute() inside a transaction block reports the refusal"
is "$(qty 2)" "0" "... and the MySQL row is unchanged"
out=$(qs <<'EOF'
BEGIN;
TRUNCATE shopdb.ledger;
ROLLBACK;
EOF
)
like "$out" 'ERROR:  25001' "TRUNCATE of the foreign table inside BEGIN is refused"
out=$(printf '%s\n' 'BEGIN;' 'COPY shopdb.ledger FROM STDIN;' '9	nine' '\.' 'ROLLBACK;' | qs)
like "$out" 'ERROR:  25001' "COPY FROM into the foreign table inside BEGIN is refused"
is "$(my "SELECT count(*) FROM shop.ledger")" "2" "... and MySQL's ledger has its 2 rows"
out=$(qs <<'EOF'
BEGIN;
SELECT count(*) FROM shopdb.items;
SELECT id FROM shopdb.items WHERE id = 1 FOR UPDATE;
INSERT INTO app.t VALUES (3, 300);
COMMIT;
EOF
)
is "$out" $'4\n1' "reads (FOR UPDATE too) and local writes inside BEGIN are not refused"

# ------------------------------------------------------- the setting on
out=$(qs <<'EOF'
SET datasource.allow_nontransactional_writes = on;
BEGIN;
UPDATE shopdb.items SET qty = 55 WHERE id = 3;
SELECT datasource.exec('shopdb', 'UPDATE items SET price = 9.99 WHERE id = 3');
ROLLBACK;
EOF
)
is "$out" "UPDATE 1" "with datasource.allow_nontransactional_writes on, writes inside BEGIN run"
is "$(my "SELECT qty, price FROM shop.items WHERE id = 3")" $'55\t9.99' \
	"... and ROLLBACK does NOT undo them (mysql_fdw's writes are not transactional)"
is "$(q "SELECT setting, context FROM pg_settings WHERE name = 'datasource.allow_nontransactional_writes'")" \
	"off|user" "the setting is off by default and any user may set it"

# ------------------------------------------------------------ DDL, resolve
out=$(qs <<<"SELECT datasource.exec('shopdb', 'CREATE TABLE extra (id int)');")
like "$out" 'ERROR:  0A000' "routed DDL on a MySQL logical database is refused (0A000)"
is "$(q "SELECT count(*) FROM pg_class WHERE relname = 'extra'")" "0" \
	"... and no local table was made in its local schema"
is "$(qs <<<"SELECT count(*) FROM datasource.resolve_transactions();")" "0" \
	"resolve_transactions() leaves the MySQL datasource alone (no libpq connection to it)"

# ---------------------------------------------------------------- sandbox
q "SELECT datasource.set_sandbox('mr_agent', ARRAY['shopdb'], true)" >/dev/null
out=$(qs -U mr_agent <<<"SELECT datasource.exec('shopdb', 'UPDATE items SET qty = 1 WHERE id = 2');")
like "$out" 'ERROR' "a read-only sandbox cannot route a write to the MySQL table"
out=$(qs -U mr_agent <<<"UPDATE shopdb.items SET qty = 2 WHERE id = 2;")
like "$out" 'ERROR:  42501' "... nor write it directly"
is "$(qty 2)" "0" "... and the MySQL row is unchanged"
is "$(qs -U mr_agent <<<"SELECT count(*) FROM datasource.query('shopdb', 'SELECT id FROM items') AS t(id int);")" \
	"4" "the sandboxed role reads the MySQL table"
out=$(qs -U mr_agent <<<"SELECT count(*) FROM datasource.query('app', 'SELECT id FROM t') AS t(id int);")
like "$out" 'ERROR:  42501' "... and not a logical database outside its sandbox"

# ---------------------------------------------------------- introspection
is "$(q "SELECT d->'tables'->'items'->>'kind', d->'tables'->'items'->>'comment',
	(SELECT string_agg(format('%s %s %s %s', c->>'name', c->>'type', coalesce(c->>'not_null', 'false'), coalesce(c->>'comment', '-')), ', ')
	   FROM jsonb_array_elements(d->'tables'->'items'->'columns') c),
	d->'tables'->'items' ? 'indexes', d->'tables'->'items' ? 'constraints'
	FROM datasource.describe('shopdb') d")" \
	"foreign table|mysql: BASE TABLE shop.items; the stock|id integer true mysql: int(11), name character varying(40) true mysql: varchar(40); what is sold, qty integer false mysql: int(11), price numeric(10,2) false mysql: decimal(10,2)|f|f" \
	"describe() shows the foreign table's columns, types, NOT NULL and comments"
fp=$(q "SELECT datasource.fingerprint('shopdb')")
like "$fp" '^[0-9a-f]{64}$' "fingerprint() of the MySQL logical database"
is "$(q "SELECT datasource.fingerprint(datasource.describe('shopdb'))")" "$fp" \
	"... equals the fingerprint of its description"
is "$(q "SELECT s->>'description', s->'properties'->'id'->>'type', s->'properties'->'qty'->'anyOf'->1->>'type',
	s->'properties'->'name'->>'maxLength', s->'properties'->'name'->>'description'
	FROM datasource.json_schema('shopdb', 'items') s")" \
	'mysql: BASE TABLE shop.items; the stock|integer|null|40|mysql: varchar(40); what is sold' \
	"json_schema() of the MySQL table"
is "$(q "SELECT string_agg(ddl, ' ') FROM datasource.diff(datasource.describe('shopdb') #- '{tables,items,columns,3}'
	#- '{tables,ledger}', datasource.describe('shopdb')) WHERE change = 'create'")" \
	"CREATE FOREIGN TABLE ledger (id integer NOT NULL, note character varying(40)) SERVER maria OPTIONS (dbname 'shop', table_name 'ledger'); ALTER FOREIGN TABLE items ADD COLUMN price numeric(10,2);" \
	"diff() sees the foreign tables and their columns"
is "$(q "SELECT count(*) FROM datasource.diff('shopdb', 'shopdb')")" "0" "diff() of the MySQL logical database with itself is empty"

done_testing
