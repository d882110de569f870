#!/usr/bin/env bash
# Multi-server tests of the registry: logical databases on a second server,
# remote schema work that follows the local transaction, the password rules
# for non-superusers, connect deadlines, a remote that is down, and a
# pg_dump/pg_restore and export/apply round trip of the whole registry.
#
# Needs the PGDS_* variables of test/run.sh (two running servers).
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

DB=multi_registry
LPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

# lq SQL... : run on the local test database, print rows
lq() { "${LPSQL[@]}" -d "$DB" "$@"; }
# rq SQL : run on the remote bank database
rq() { "${RPSQL[@]}" -d bank -c "$1"; }
# lerr SQL [ROLE] : run on the local database, print the error line
# (with its SQLSTATE) or "no error"
lerr() {
	local out
	out=$("${LPSQL[@]}" -d "$DB" -c '\set VERBOSITY verbose' -c "$1" 2>&1 >/dev/null)
	if [ -z "$out" ]; then echo "no error"; else echo "$out" | grep -v '^LOCATION' | tr '\n' ' '; fi
}
# registry : a snapshot of both registry tables
registry() {
	lq -c "SELECT coalesce(string_agg(name || '/' || source || '/' || schema_name, ' ' ORDER BY name), '-')
	         FROM datasource.databases"
}
remote_schemas() {
	rq "SELECT coalesce(string_agg(nspname, ' ' ORDER BY nspname), '-') FROM pg_namespace
	     WHERE nspname NOT LIKE 'pg\_%' AND nspname NOT IN ('information_schema', 'public')"
}

# --- setup: a remote database and role, the local control plane
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bank" -c "CREATE DATABASE bank" \
	-c "DROP ROLE IF EXISTS bank_owner" \
	-c "CREATE ROLE bank_owner LOGIN PASSWORD 'owner-secret-42'" \
	-c "GRANT CREATE ON DATABASE bank TO bank_owner" >/dev/null || bail_out "remote setup failed"
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP DATABASE IF EXISTS ${DB}_restored" \
	-c "DROP DATABASE IF EXISTS ${DB}_applied" -c "CREATE DATABASE $DB" >/dev/null || bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER regional FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'bank')" \
	-c "CREATE USER MAPPING FOR postgres SERVER regional
	      OPTIONS (user 'bank_owner', password 'owner-secret-42')" || bail_out "extension setup failed"

# --- registering the remote datasource and logical databases on it
is "$(lq -c "SELECT name || ':' || server FROM datasource.create_source('regional', 'regional')")" \
	"regional:regional" "create_source registers the foreign server"
is "$(lq -c "SELECT schema_name FROM datasource.create_database('employees_db', 'regional')")" \
	"employees_db" "create_database on a remote datasource"
is "$(remote_schemas)" "employees_db" "the schema was created on the remote server"
is "$(rq "SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'employees_db'")" "bank_owner" \
	"it belongs to the user mapping's remote role"

rq "CREATE SCHEMA hr_archive" >/dev/null
is "$(lq -c "SELECT schema_name FROM datasource.create_database('archive_db', 'regional',
               schema_name => 'hr_archive', create_schema => false)")" "hr_archive" \
	"an existing remote schema is adopted with create_schema => false"
like "$(lerr "SELECT datasource.create_database('ghost_db', 'regional', create_schema => false)")" \
	'3F000.*schema "ghost_db" does not exist on datasource "regional"' \
	"a missing remote schema is refused with 3F000"
is "$(registry)" "archive_db/regional/hr_archive employees_db/regional/employees_db" \
	"the registry holds exactly the two remote logical databases"

# --- the remote work follows the local transaction
lq -c "BEGIN" -c "SELECT datasource.create_database('doomed_db', 'regional')" -c "ROLLBACK" >/dev/null
is "$(remote_schemas)" "employees_db hr_archive" "a rolled-back local transaction leaves no remote schema"
lerr "BEGIN; SELECT datasource.create_database('doomed_db', 'regional'); SELECT 1/0; COMMIT;" >/dev/null
is "$(remote_schemas)" "employees_db hr_archive" "an error later in the transaction leaves no remote schema"
lq -c "BEGIN" -c "SELECT datasource.create_database('kept_db', 'regional')" \
	-c "SAVEPOINT sp" -c "SELECT datasource.create_database('undone_db', 'regional')" \
	-c "ROLLBACK TO SAVEPOINT sp" -c "SELECT datasource.create_database('after_db', 'regional')" \
	-c "COMMIT" >/dev/null
is "$(remote_schemas)" "after_db employees_db hr_archive kept_db" \
	"a rolled-back savepoint undoes only its own remote work"
is "$(registry)" "after_db/regional/after_db archive_db/regional/hr_archive employees_db/regional/employees_db kept_db/regional/kept_db" \
	"the registry agrees with the remote server"
lq -c "SELECT datasource.drop_database('after_db', drop_schema => true)" >/dev/null
is "$(remote_schemas)" "employees_db hr_archive kept_db" "drop_database drops the remote schema when asked"
lq -c "SELECT datasource.drop_database('kept_db')" >/dev/null
is "$(remote_schemas)" "employees_db hr_archive kept_db" "and keeps it otherwise"

# --- a remote error keeps its SQLSTATE and names the datasource
rq "REVOKE CREATE ON DATABASE bank FROM bank_owner" >/dev/null
err=$(lerr "SELECT datasource.create_database('denied_db', 'regional')")
like "$err" '42501.*permission denied for database bank' "a remote error keeps its SQLSTATE"
rq "GRANT CREATE ON DATABASE bank TO bank_owner" >/dev/null

# --- validate_databases across datasources
lq -c "SELECT datasource.create_database('customer_db')" >/dev/null
is "$(lq -c "SELECT valid || '|' || coalesce(datasource, '') || '|' || coalesce(error, '')
               FROM datasource.validate_databases(ARRAY['customer_db', 'employees_db', 'archive_db'])")" \
	'false||cannot query across different datasources: customer_db on "local"; employees_db, archive_db on "regional"' \
	"validate_databases names the databases on each datasource"
is "$(lq -c "SELECT valid || '|' || datasource FROM datasource.validate_databases(ARRAY['employees_db', 'archive_db'])")" \
	"true|regional" "databases on one remote datasource validate together"

# --- non-superusers must authenticate with a password
lq -c "CREATE ROLE app_admin LOGIN" \
	-c "GRANT EXECUTE ON FUNCTION datasource.create_database(text, text, text, boolean, boolean, text) TO app_admin" \
	-c "GRANT USAGE ON FOREIGN SERVER regional TO app_admin" \
	-c "CREATE USER MAPPING FOR app_admin SERVER regional OPTIONS (user 'bank_owner')" >/dev/null
like "$(lerr "SET ROLE app_admin; SELECT datasource.create_database('app_db', 'regional')")" \
	'2F003.*password is required' "a non-superuser without a password is refused"
lq -c "ALTER USER MAPPING FOR app_admin SERVER regional OPTIONS (ADD password 'wrong-password-77')" >/dev/null
err=$(lerr "SET ROLE app_admin; SELECT datasource.create_database('app_db', 'regional')")
like "$err" '08001.*could not connect to datasource "regional"' "a wrong password fails with 08001"
[[ $err != *wrong-password-77* ]]; ok $? "the password does not appear in the error"
lq -c "ALTER USER MAPPING FOR app_admin SERVER regional OPTIONS (SET password 'owner-secret-42')" >/dev/null
is "$(lq -c "SET ROLE app_admin" -c "SELECT created_by FROM datasource.create_database('app_db', 'regional')")" \
	"app_admin" "with a password the non-superuser succeeds"
lq -c "CREATE ROLE outsider LOGIN" >/dev/null
is "$(lq -c "SET ROLE outsider" -c "SELECT coalesce(umoptions::text, 'hidden') FROM pg_user_mappings WHERE srvname = 'regional' AND usename = 'postgres'")" \
	"hidden" "other roles cannot read the user mapping's secrets"
[[ $(lq -c "SELECT datasource.export_config()::text") != *owner-secret-42* ]]; ok $? "export_config carries no secrets"
is "$(lq -c "SET ROLE outsider" -c "SELECT count(*) FROM datasource.database_info")" "4" \
	"any role can read the registry views"
like "$(lerr "SET ROLE outsider; SELECT datasource.create_database('x_db')")" '42501' \
	"a role without EXECUTE cannot change the registry"

# --- a remote that is down, or accepts and never answers
"$PGDS_BIN/pg_ctl" --version >/dev/null
runuser -u postgres -- "$PGDS_BIN/pg_ctl" -D "$PGDS_REMOTE_DIR" -m fast -w stop >/dev/null
before=$(registry)
start=$(date +%s%N)
err=$(lerr "SET datasource.connect_timeout = 3; SELECT datasource.create_database('down_db', 'regional')")
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
like "$err" '08001.*could not connect to datasource "regional"' "a stopped remote gives 08001"
is "$(registry)" "$before" "and the registry is unchanged"
is "$(lq -c "SELECT 42")" "42" "the session stays usable"
runuser -u postgres -- "$PGDS_BIN/pg_ctl" -D "$PGDS_REMOTE_DIR" -l "$PGDS_REMOTE_DIR/restart.log" -w start >/dev/null
is "$(lq -c "SELECT schema_name FROM datasource.create_database('back_db', 'regional')")" "back_db" \
	"after a restart the next call connects again"

# a listener that accepts connections and never says a word
port_file=$(mktemp)
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 8, ReuseAddr => 1) or die;
	open(my $f, ">", $ARGV[0]) or die; print $f $s->sockport, "\n"; close $f;
	my @held; my $deadline = time + 60;
	while (time < $deadline) { my $c = $s->accept or next; push @held, $c; }' "$port_file" &
mute_pid=$!
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
mute_port=$(cat "$port_file")
lq -c "CREATE SERVER mute FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '$mute_port', dbname 'x')" \
	-c "CREATE USER MAPPING FOR postgres SERVER mute OPTIONS (user 'x', password 'y')" \
	-c "SELECT datasource.create_source('mute', 'mute')" >/dev/null
start=$(date +%s%N)
err=$(lerr "SET datasource.connect_timeout = 2; SELECT datasource.create_database('mute_db', 'mute')")
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
like "$err" '08001.*within 2 seconds' "a server that never answers hits the connect deadline"
[ "$elapsed" -lt 10000 ]; ok $? "the deadline holds (${elapsed} ms for a 2 s deadline)"
start=$(date +%s%N)
err=$(lerr "SET datasource.connect_timeout = 0; SET statement_timeout = '1s'; SELECT datasource.create_database('mute_db', 'mute')")
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
like "$err" '57014.*statement timeout' "statement_timeout interrupts a connect without a deadline"
[ "$elapsed" -lt 10000 ]; ok $? "promptly (${elapsed} ms for a 1 s timeout)"
kill "$mute_pid" 2>/dev/null; wait "$mute_pid" 2>/dev/null; rm -f "$port_file"
lq -c "SELECT datasource.drop_source('mute')" -c "DROP SERVER mute CASCADE" >/dev/null

# --- the registry survives pg_dump / pg_restore
dump=$(mktemp)
pg_dump -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres -Fc -f "$dump" "$DB"; ok $? "pg_dump of the control database"
"${LPSQL[@]}" -d postgres -c "CREATE DATABASE ${DB}_restored" >/dev/null
pg_restore -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres -d "${DB}_restored" --exit-on-error "$dump" 2>/dev/null
ok $? "pg_restore into a fresh database runs without error"
original=$(lq -c "SELECT datasource.export_config()")
restored=$("${LPSQL[@]}" -d "${DB}_restored" -c "SELECT datasource.export_config()")
is "$restored" "$original" "the restored registry equals the original"
is "$("${LPSQL[@]}" -d "${DB}_restored" -c "SELECT count(*) FROM datasource.sources WHERE name = 'local'")" "1" \
	"the local datasource is not duplicated"
is "$("${LPSQL[@]}" -d "${DB}_restored" -c "SELECT string_agg(created_by, ',' ORDER BY name) FROM datasource.databases")" \
	"$(lq -c "SELECT string_agg(created_by, ',' ORDER BY name) FROM datasource.databases")" \
	"audit columns survive the round trip"
rm -f "$dump"

# --- export_config / apply_config into a fresh database reproduces the registry
"${LPSQL[@]}" -d postgres -c "CREATE DATABASE ${DB}_applied" >/dev/null
"${LPSQL[@]}" -d "${DB}_applied" -c "CREATE EXTENSION pg_datasource" >/dev/null
cfg=$(lq -c "SELECT datasource.export_config()")
# applied SQL : run SQL (which may use :'cfg') on the fresh database
applied() { echo "$1" | "${LPSQL[@]}" -d "${DB}_applied" -v cfg="$cfg" -f - 2>&1; }
applied "SELECT count(*) FROM datasource.apply_config(:'cfg', dry_run => true)" >/dev/null
is "$("${LPSQL[@]}" -d "${DB}_applied" -c "SELECT count(*) FROM datasource.databases")" "0" "dry_run changes nothing"
# the server and its user mapping are what an operator brings (secrets are
# never in the document); apply_config finds the server in line and leaves it
"${LPSQL[@]}" -d "${DB}_applied" \
	-c "CREATE SERVER regional FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'bank')" \
	-c "CREATE USER MAPPING FOR postgres SERVER regional
	      OPTIONS (user 'bank_owner', password 'owner-secret-42')" >/dev/null
out=$(applied "SELECT string_agg(action || ' ' || object, ', ') FROM datasource.apply_config(:'cfg')")
like "$out" "^create datasource regional, create logical database app_db" \
	"apply_config creates the datasource and the logical databases"
is "$("${LPSQL[@]}" -d "${DB}_applied" -c "SELECT datasource.export_config()")" "$cfg" \
	"the applied registry exports identically"
is "$(applied "SELECT count(*) FROM datasource.apply_config(:'cfg')")" "0" \
	"applying it again changes nothing"

# --- cleanup
"${LPSQL[@]}" -d postgres -c "DROP DATABASE $DB" -c "DROP DATABASE ${DB}_restored" -c "DROP DATABASE ${DB}_applied" \
	-c "DROP ROLE app_admin" -c "DROP ROLE outsider" >/dev/null 2>&1
"${RPSQL[@]}" -d postgres -c "DROP DATABASE bank" -c "DROP ROLE bank_owner" >/dev/null 2>&1
done_testing
