#!/usr/bin/env bash
# The demo of `make demo` / `make stop`, run in the test's own directory:
# it starts, loads the demo bank on two PostgreSQL servers and a MariaDB,
# leaves a server psql can use, and stops all three cleanly.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"
source "$here/../lib/mariadb.sh"
{ maria_available && [ -f "$("$PGBIN/pg_config" --pkglibdir)/mysql_fdw.so" ]; } ||
	skip_all "the demo needs mariadb-server and mysql_fdw (test/deps.sh installs them)"

export PGDS_DEMO_DIR=$PGDS_BASE/demo
out=$("$here/../demo/demo.sh" start 2>&1)
ok $? "demo.sh start succeeds"
like "$out" 'cannot query across different datasources: customer_db on "local"; insurance_db, employees_db on "regional"' \
	"the walk-through shows a rejected cross-datasource combination"
like "$out" 'psql -h [^ ]+/control -p [0-9]+ -U postgres demo' "it says how to connect"
like "$out" ' 3 \| Barbara Liskov' "the walk-through routes a query to the regional server"
like "$out" 'f +\| 42703 +\| column "salary" does not exist' "an agent-style execute() reports a remote error as data"
like "$out" 'cannot route the statement: statement touches logical databases on different datasources' \
	"a join across the two servers is refused"
like "$out" 'logical database "loans_db" is outside the datasource sandbox' "the agent's sandbox refuses a logical database outside it"
like "$out" 'the datasource sandbox of this session is read-only' "and a write to one inside it"
like "$out" 'customers_still[^0-9]+4' "the customers are all still there"
like "$out" 'policies_after_rollback[^0-9]+2' "a remote write rolled back with the local transaction"
like "$out" 'employees_db +\| applied' "migrate_all applies the migration on the regional server"
like "$out" 'loans_db +\| failed +\| relation "nowhere" does not exist' "a failing migration is reported, not raised"
like "$out" 'CREATE INDEX cannot run in a migration' "a non-transactional statement is refused"
like "$out" 'customer_db +\| ALTER TABLE +\| customer_db.customers ' "ad-hoc DDL is in the DDL journal"
like "$out" '"name": "rate",' "the walk-through describes a table"
like "$out" 'same_audit_notes[^a-z]+t' "a migration leaves the same table on both servers, by describe()"
like "$out" 'schema +\| column +\| customers.nickname +\| create +\| ALTER TABLE customers ADD COLUMN nickname text;' \
	"drift() finds the column added outside migrations"
like "$out" 'constraint +\| accounts.accounts_pkey +\| create +\| ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY \(account_id\);' \
	"diff() writes the DDL between two logical databases"
like "$out" '"\$schema": "https://json-schema.org/draft/2020-12/schema"' "json_schema() gives a JSON Schema of a row"
like "$out" 'loans_db +\| +1 \| +1 \| \{"42": 1\} +\| +0 \| +1 \| +1' \
	"the walk-through ends with the statistics: loans_db's failed call (class 42) and its applied and failed migrations"
like "$out" 'regional +\| +[1-9][0-9]* \| +[1-9][0-9]* \| +[1-9][0-9]* \| +[0-9]+ \| +1' \
	"and the regional datasource's connections, remote transactions, commits and health check"

# the card processor on MariaDB
like "$out" 'payments_db +\| cards +\| mysql +\| payments +\| payments_db +\| t +\| f' \
	"payments_db is shown on MariaDB: engine mysql, local schema payments_db, writable, not transactional"
like "$out" 'mastercard +\| +4 \| +670.20' "query() with a parameter on the MariaDB logical database"
like "$out" $'Remote query: SELECT [^\n]*FROM \\(`payments`.`payments` r1 INNER JOIN `payments`.`cards` [^\n]* WHERE [^\n]*GROUP BY' \
	"the plan shows the join, the filter and the grouping sent to MariaDB"
like "$out" 'different datasources: customer_db on "local"; payments_db on "cards"' \
	"a join of payments_db with a PostgreSQL logical database is refused"
like "$out" 'K1004 +\| blocked' "a write outside a transaction block reaches MariaDB"
like "$out" 'added +\| column +\| payments.channel' "refresh_database() reports the column added on MariaDB"
like "$out" 'pos +\| +7' "and the new column is read after the refresh"
like "$out" 'cards +\| t +\| [^|]*MariaDB' "health_check() reaches the MariaDB datasource and shows its version"

port=$(cluster_port "$PGDS_DEMO_DIR/control")
rport=$(cluster_port "$PGDS_DEMO_DIR/regional")
mport=$(maria_port "$PGDS_DEMO_DIR/cards")
q() { psql -X -At -h "$PGDS_DEMO_DIR/control" -p "$port" -U postgres -d demo -c "$1" 2>&1; }
is "$(q "SELECT string_agg(name || '@' || source, ' ' ORDER BY name) FROM datasource.database_info")" \
	"accounts_db@local compliance_db@regional customer_db@local employees_db@regional insurance_db@regional loans_db@local payments_db@cards" \
	"seven logical databases over three datasources"
is "$(maria_sql "$PGDS_DEMO_DIR/cards" -N -B -e \
	"SELECT CONCAT((SELECT count(*) FROM payments.payments), '/', (SELECT group_concat(card_id ORDER BY card_id) FROM payments.cards WHERE status = 'blocked'))")" \
	"7/K1003,K1004" "MariaDB keeps every payment (the DELETE in a transaction block was refused) and the one update"
is "$(q "SELECT count(*) FROM datasource.migrations WHERE database = 'payments_db'")" "0" \
	"no migration was journaled for payments_db"
is "$(q "SELECT count(*) FROM customer_db.customers")" "4" "local demo data is loaded"
is "$(psql -X -At -h "$PGDS_DEMO_DIR/regional" -p "$rport" -U postgres -d regional_bank \
	-c "SELECT (SELECT count(*) FROM employees_db.employees) || '/' || (SELECT count(*) FROM insurance_db.policies)")" \
	"3/2" "remote demo data is on the regional server"
is "$(q "SELECT count(*) FROM datasource.databases WHERE name = 'scratch_db'")" "0" \
	"the walk-through leaves the registry as it found it"

out=$("$here/../demo/demo.sh" start 2>&1)
like "$out" "already running" "a second start does not clobber a running demo"

"$here/../demo/demo.sh" stop >/dev/null 2>&1
ok $? "demo.sh stop succeeds"
[ ! -e "$PGDS_DEMO_DIR" ]; ok $? "and removes the demo directory"
! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; ok $? "the control server no longer listens"
! (exec 3<>"/dev/tcp/127.0.0.1/$mport") 2>/dev/null; ok $? "nor the MariaDB server"
done_testing
