#!/usr/bin/env bash
# The enforcement hook against validate(): for every statement of the
# read-only suite (test/pgtap/07_validate_read_only.sql), sent by a client
# with datasource.enforce = 'error' and enforce_read_only on, the hook must
# refuse exactly the statements validate(q, NULL, true) calls invalid.
#
# The hook judges queries on the analysed tree and everything else from the
# text, so this is what keeps the two paths in agreement.  A statement that
# fails before the hook runs (parse analysis: an unknown relation, say) is
# not compared; the script counts those.
#
# Needs the PGDS_* variables of test/run.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

DB=multi_enforce
LPSQL=(psql -X -q -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
lq() { "${LPSQL[@]}" -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"${LPSQL[@]}" -d postgres -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
lq -c "CREATE EXTENSION pg_datasource" >/dev/null

# the fixture and the cases of the read-only suite, as plain tables
src=$here/../pgtap/07_validate_read_only.sql
{
	echo "SET client_min_messages = warning;"
	sed -n '/^-- -* fixture/,/^-- -* the runner/p' "$src" |
		sed -e 's/^CREATE TEMP TABLE rocases/CREATE TABLE rocases/' -e 's/^SET LOCAL /SET /'
	sed -n '/^-- operators unknown here/,/^$/p' "$src"
} >"$work/fixture.sql"
lq -f "$work/fixture.sql" >/dev/null 2>"$work/fixture.err"
is "$(cat "$work/fixture.err")" "" "the fixture of the read-only suite loads"
ncases=$(lq -c "SELECT count(*) FROM rocases")
ok $([ "$ncases" -ge 100 ]; echo $?) "the suite has $ncases statements"

# the cases the hook can see: local ones, and not COPY FROM STDIN (psql
# would read the script as its data); a case's database becomes the
# session's search_path (the hook has no target database)
lq -c "SELECT id, coalesce(d.schema_name, 'public')
         FROM rocases c LEFT JOIN datasource.databases d ON d.name = c.db
        WHERE coalesce(d.source, 'local') = 'local' AND c.q !~* 'from\s+stdin'
        ORDER BY id" >"$work/cases"

# one script, one statement per case, each in a transaction rolled back;
# run once without enforcement and once with it
lq -c "SELECT format(E'\\\\echo ==case %s\\nSET search_path = %s;\\nBEGIN;\\n%s;\\nROLLBACK;',
                     id, coalesce(d.schema_name, 'public'), q)
         FROM rocases c LEFT JOIN datasource.databases d ON d.name = c.db
        WHERE coalesce(d.source, 'local') = 'local' AND c.q !~* 'from\s+stdin'
        ORDER BY id" >"$work/cases.sql"

run_cases() {
	"${LPSQL[@]}" -d "$DB" -v ON_ERROR_STOP=0 -v VERBOSITY=terse "$@" -f "$work/cases.sql" 2>&1 |
		awk '/^==case / { id = $2; next } id != "" { print id "\t" $0 }'
}
run_cases >"$work/off.out"
PGOPTIONS="-c session_preload_libraries=pg_datasource -c datasource.enforce=error -c datasource.enforce_read_only=on" \
	run_cases >"$work/on.out"

# validate()'s verdict under the same search_path; transaction control, SET,
# RESET and SHOW are exempt from the read-only rule of the hook (README)
while IFS='|' read -r id path; do
	lq -c "SET search_path = $path" -c "SELECT id, CASE WHEN v.command IN ('BEGIN', 'START TRANSACTION', 'COMMIT',
	           'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'SET', 'RESET', 'SHOW') AND v.error LIKE 'statement is not read-only: %'
	           THEN 't' ELSE v.valid::text END
	         FROM public.rocases, datasource.validate(q, NULL, true) v WHERE id = $id" | tr '|' ' '
done <"$work/cases" >"$work/validate.out"

compared=0 skipped=0 mismatches=""
while read -r id valid; do
	refused=f
	grep -q "^$id	.*statement not allowed by datasource.enforce" "$work/on.out" && refused=t
	if [ $refused = f ] && grep -q "^$id	.*ERROR:" "$work/off.out"; then
		skipped=$((skipped + 1))	# failed before or without the hook
		continue
	fi
	compared=$((compared + 1))
	if { [ "$valid" = t ] && [ $refused = t ]; } || { [ "$valid" = f ] && [ $refused = f ]; }; then
		label=$(lq -c "SELECT label FROM rocases WHERE id = $id")
		mismatches="$mismatches [$id $label: validate valid=$valid, hook refused=$refused]"
	fi
done <"$work/validate.out"
note "compared $compared statements, $skipped failed before the hook could judge them"
is "$mismatches" "" "the hook refuses exactly what validate(q, NULL, true) calls invalid"
ok $([ "$compared" -ge 90 ]; echo $?) "at least 90 statements compared ($compared)"

# both paths seen: queries through the analysed tree, utility statements through the text
refused_select=$(awk -F'\t' '$2 ~ /not allowed by datasource.enforce: statement is not read-only: function nextval/' "$work/on.out" | wc -l)
ok $([ "$refused_select" -ge 1 ]; echo $?) "a SELECT calling nextval is refused ($refused_select)"
refused_utility=$(awk -F'\t' '$2 ~ /not allowed by datasource.enforce: statement is not read-only: CREATE TABLE is not a query/' "$work/on.out" | wc -l)
ok $([ "$refused_utility" -ge 1 ]; echo $?) "CREATE TABLE is refused from its text ($refused_utility)"

# the exact overload decides on the analysed tree: a stable and a volatile
# overload of one name; validate() judges all overloads of a name, the hook
# the one chosen
lq -c "CREATE FUNCTION customer_db.twin(int) RETURNS int LANGUAGE sql STABLE AS 'SELECT 1'" \
	-c "CREATE FUNCTION customer_db.twin(text) RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 2'" >/dev/null
hook() {
	PGOPTIONS="-c session_preload_libraries=pg_datasource -c datasource.enforce=error -c datasource.enforce_read_only=on ${2:-}" \
		"${LPSQL[@]}" -At -d "$DB" -v VERBOSITY=terse -c "$1" 2>&1
}
is "$(hook 'SELECT customer_db.twin(1)')" "1" "the hook lets the stable overload through"
like "$(hook "SELECT customer_db.twin('x')")" "not read-only: function twin is volatile" \
	"and refuses the volatile one"

# relations outside logical databases, and allowed_databases, on the analysed path
lq -c "CREATE TABLE public.loose (id int)" >/dev/null
like "$(hook 'SELECT * FROM public.loose')" 'relation "loose" is in schema "public", which is not a logical database' \
	"a table outside every logical database is refused"
like "$(hook 'SELECT count(*) FROM acct.accounts' '-c datasource.allowed_databases=customer_db')" \
	'logical database "accounts_db" is outside the datasource sandbox' \
	"a logical database outside allowed_databases is refused"
is "$(hook 'SELECT count(*) FROM customer_db.customers c, pg_catalog.pg_class p WHERE false' '-c datasource.allowed_databases=customer_db')" \
	"0" "an allowed database joined with a catalog passes"
long=$(printf 'x%.0s' $(seq 1 70))
lq -c "CREATE TABLE customer_db.${long:0:63} (id int)" >/dev/null 2>&1
like "$(hook "SELECT * FROM customer_db.$long")" "is too long: identifiers are at most 63 bytes" \
	"an over-long identifier is refused, not truncated, on the query path"

# only a real identifier token longer than 63 bytes sends a query to the text
# path: a 64-byte string literal, dollar-quoted string or comment does not.
# The tree knows which overload of twin is called (the stable one), the text
# only the name (one overload is volatile): a query the hook judged from its
# text would be refused.
lit=$(printf 'L%.0s' $(seq 1 64))
is "$(hook "SELECT customer_db.twin(1), '$lit'")" "1|$lit" \
	"a query with a 64-byte string literal is judged on the tree"
is "$(hook "SELECT customer_db.twin(1), \$\$$lit\$\$")" "1|$lit" \
	"and one with a 64-byte dollar-quoted string"
is "$(hook "SELECT customer_db.twin(1) /* $lit */")" "1" \
	"and one with a 64-byte comment"
like "$(hook "SELECT customer_db.twin(1) AS $lit")" "is too long: identifiers are at most 63 bytes" \
	"a 64-byte alias is still refused"
# over-long identifiers the text pre-test used to miss: a double quote in a
# literal before a quoted identifier with spaces, and U& with UESCAPE
spaced=$(printf 'a b %.0s' $(seq 1 16))
out=$(hook "SELECT '\"' AS q, 1 AS \"$spaced\"")
like "$out" "is too long: identifiers are at most 63 bytes" \
	"a 64-byte quoted identifier after a literal holding a double quote is refused"
is "$(printf '%s\n' "$out" | grep -v -e 'ERROR:' -e 'NOTICE:' -c)" "0" "and nothing is returned"
out=$(hook "SELECT 1 AS U&\"$(printf '\\0041%.0s' $(seq 1 13))\" UESCAPE '!'")
like "$out" "is too long: identifiers are at most 63 bytes" \
	"a U& identifier with UESCAPE of 65 bytes is refused"
is "$(printf '%s\n' "$out" | grep -v -e 'ERROR:' -e 'NOTICE:' -c)" "0" "and nothing is returned"

"${LPSQL[@]}" -d postgres -c "DROP DATABASE $DB" >/dev/null
done_testing
