#!/usr/bin/env bash
# Multi-server tests of issue 18's journal and error defects on a remote
# datasource: a failed remote migration keeps the error's DETAIL and SQLSTATE
# (result and journal); dropping and mapping again a remote logical database
# keeps its history and continues it; health_check says why a connection
# failed (refused, unknown host, wrong password) without the password; and
# apply_config into a fresh database works in its documented steps (servers
# and datasources, user mappings, the whole document), its dry run stopping
# at the missing mappings as the real run does.
#
# Needs the PGDS_* variables of test/run.sh (two running servers).
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

DB=multi_journal
LPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

lq() { "${LPSQL[@]}" -d "$DB" "$@" 2>/dev/null; }
rq() { "${RPSQL[@]}" -d journal_bank -c "$1"; }
# lerr SQL [DB] : the error line with its SQLSTATE, or "no error"
lerr() {
	local out
	out=$("${LPSQL[@]}" -d "${2:-$DB}" -c '\set VERBOSITY verbose' -c "$1" 2>&1 >/dev/null)
	if [ -z "$out" ]; then echo "no error"; else echo "$out" | grep -v '^LOCATION' | tr '\n' ' '; fi
}

"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS journal_bank" -c "CREATE DATABASE journal_bank" \
	-c "DROP ROLE IF EXISTS journal_owner" \
	-c "CREATE ROLE journal_owner LOGIN PASSWORD 'jr-Secret-77'" \
	-c "GRANT CREATE ON DATABASE journal_bank TO journal_owner" >/dev/null || bail_out "remote setup failed"
"${LPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP DATABASE IF EXISTS ${DB}_fresh" \
	-c "CREATE DATABASE $DB" >/dev/null || bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SERVER regional FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'journal_bank')" \
	-c "CREATE USER MAPPING FOR postgres SERVER regional
	      OPTIONS (user 'journal_owner', password 'jr-Secret-77')" \
	-c "SELECT datasource.create_source('regional', 'regional')" \
	-c "SELECT datasource.create_database('tenant_r', 'regional')" >/dev/null || bail_out "extension setup failed"

# --- defect 7: a failed remote statement keeps its DETAIL and SQLSTATE
is "$(lq -c "SELECT status FROM datasource.migrate('tenant_r', 'v1', 'CREATE TABLE cities (city text PRIMARY KEY)')")" \
	"applied" "v1 applied on the remote tenant"
out=$(lq -c "SELECT status || '|' || sqlstate || '|' || error_detail FROM datasource.migrate('tenant_r', 'v2', \$s\$
	CREATE TABLE people (id int, city text REFERENCES cities);
	INSERT INTO people VALUES (1, 'London');\$s\$)")
is "$out" 'failed|23503|Key (city)=(London) is not present in table "cities".' \
	"a remote FK violation: the result has the SQLSTATE and the DETAIL"
is "$(lq -c "SELECT sqlstate || '|' || error_detail FROM datasource.migrations WHERE version = 'v2'")" \
	'23503|Key (city)=(London) is not present in table "cities".' "so has the journal row"
is "$(rq "SELECT count(*) FROM pg_tables WHERE tablename = 'people'")" "0" "nothing of the failed script remains"

# --- defect 2: a remote logical database dropped and mapped again continues its history
lq -c "SELECT datasource.drop_database('tenant_r')" >/dev/null
is "$(lq -c "SELECT count(*) FROM datasource.migrations WHERE database = 'tenant_r'")" "2" \
	"drop_database keeps the remote tenant's journal rows"
is "$(lq -c "SELECT name FROM datasource.create_database('tenant_r', 'regional', create_schema => false)")" \
	"tenant_r" "the name is mapped again to its schema"
is "$(lq -c "SELECT status FROM datasource.migrate('tenant_r', 'v1', 'CREATE TABLE cities (city text PRIMARY KEY)')")" \
	"already_applied" "v1 is already applied: history is not re-run onto existing objects"
like "$(lerr "SELECT datasource.create_database('tenant_x', 'regional', schema_name => 'tenant_r')")" \
	"42710" "the schema still belongs to one logical database"

# --- defect 7: health_check says why, without the password
lq -c "CREATE SERVER closedport FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1', connect_timeout '5')" \
	-c "CREATE USER MAPPING FOR postgres SERVER closedport OPTIONS (user 'journal_owner', password 'jr-Secret-77')" \
	-c "SELECT datasource.create_source('closedport', 'closedport')" \
	-c "CREATE SERVER nohost FOREIGN DATA WRAPPER pg_datasource OPTIONS (host 'no-such-host.invalid', connect_timeout '5')" \
	-c "CREATE USER MAPPING FOR postgres SERVER nohost OPTIONS (user 'journal_owner', password 'jr-Secret-77')" \
	-c "SELECT datasource.create_source('nohost', 'nohost')" \
	-c "CREATE SERVER badpw FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'journal_bank')" \
	-c "CREATE USER MAPPING FOR postgres SERVER badpw OPTIONS (user 'journal_owner', password 'Wrong-Pw-Secret-99')" \
	-c "SELECT datasource.create_source('badpw', 'badpw')" >/dev/null
like "$(lq -c "SELECT healthy || ' ' || error FROM datasource.health_check('closedport')")" \
	"^false could not connect.*refused" "health_check: a refused connection says so"
like "$(lq -c "SELECT healthy || ' ' || error FROM datasource.health_check('nohost')")" \
	"^false could not connect.*(translate host name|resolve)" "health_check: an unknown host says so"
pw=$(lq -c "SELECT healthy || ' ' || error FROM datasource.health_check('badpw')")
like "$pw" "^false could not connect.*password authentication failed" \
	"health_check: a wrong password says authentication failed"
[[ $pw != *Wrong-Pw-Secret-99* ]]; ok $? "the wrong password is not in health_check's error"
all=$(lq -c "SELECT string_agg(coalesce(error, ''), ' ') FROM datasource.health_check()")
[[ $all != *Secret* ]]; ok $? "no password anywhere in health_check()"

# --- defect 9: apply_config into a fresh database, in its documented steps
cfg=$(lq -c "SELECT datasource.export_config() - 'servers' || jsonb_build_object('servers',
	(SELECT jsonb_agg(s) FROM jsonb_array_elements(datasource.export_config() -> 'servers') s
	  WHERE s->>'name' = 'regional'), 'sources', (SELECT jsonb_agg(s) FROM jsonb_array_elements(
	  datasource.export_config() -> 'sources') s WHERE s->>'name' IN ('local', 'regional')))")
"${LPSQL[@]}" -d postgres -c "CREATE DATABASE ${DB}_fresh" >/dev/null
"${LPSQL[@]}" -d "${DB}_fresh" -c "CREATE EXTENSION pg_datasource" >/dev/null
fresh() { echo "$1" | "${LPSQL[@]}" -d "${DB}_fresh" -v cfg="$cfg" -f - 2>&1; }
out=$(fresh "\\set VERBOSITY verbose
SELECT * FROM datasource.apply_config(:'cfg', dry_run => true)")
like "$out" '42704.*no user mapping for "postgres" on server regional' \
	"the dry run stops at the missing user mapping, naming the server"
like "$out" "CREATE USER MAPPING FOR CURRENT_USER SERVER regional" "and the next step"
out=$(fresh "\\set VERBOSITY verbose
SELECT * FROM datasource.apply_config(:'cfg')")
like "$out" '42704.*no user mapping for "postgres" on server regional' "the real run stops at the same check"
is "$("${LPSQL[@]}" -d "${DB}_fresh" -c "SELECT count(*) FROM pg_foreign_server")" "0" \
	"and changes nothing"
out=$(fresh "SELECT string_agg(action || ' ' || object, ', ' ORDER BY object)
  FROM datasource.apply_config(jsonb_build_object('servers', (:'cfg')::jsonb -> 'servers',
                                                  'sources', (:'cfg')::jsonb -> 'sources'))")
is "$out" "create datasource regional, create server regional" "step 1: servers and datasources"
"${LPSQL[@]}" -d "${DB}_fresh" -c "CREATE USER MAPPING FOR CURRENT_USER SERVER regional
	OPTIONS (user 'journal_owner', password 'jr-Secret-77')" >/dev/null
ok $? "step 2: the user mapping"
out=$(fresh "SELECT string_agg(action || ' ' || object, ', ') FROM datasource.apply_config(:'cfg')")
is "$out" "create logical database tenant_r" "step 3: the whole document"
is "$("${LPSQL[@]}" -d "${DB}_fresh" -c "SELECT datasource.export_config()")" "$cfg" \
	"the fresh database's registry exports as the document"

"${LPSQL[@]}" -d postgres -c "DROP DATABASE $DB" -c "DROP DATABASE ${DB}_fresh" >/dev/null 2>&1
"${RPSQL[@]}" -d postgres -c "DROP DATABASE journal_bank" -c "DROP ROLE journal_owner" >/dev/null 2>&1
done_testing
