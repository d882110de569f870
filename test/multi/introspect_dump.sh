#!/usr/bin/env bash
# Multi-server tests of introspection: datasource.describe() and
# fingerprint() of one application schema (test/fixtures/tenant_schema.sql,
# plus a few test-only objects that grant to roles this script creates)
# loaded three times, into tenant_a and tenant_b on the local server and into
# tenant_r on the remote server (all owned by a role of the same name on both
# servers, the remote one reached through a user mapping; the remote
# database uses ICU collation en-US and other TimeZone, DateStyle and
# IntervalStyle defaults, the local one C.UTF-8), then:
#   a. the three descriptions are identical, and so are the fingerprints
#      (the sha256 of the description with table columns and composite type
#      attributes in name order, byte order, whatever the collation of the
#      database that calls fingerprint()); describe() does not change in a
#      session with other TimeZone / DateStyle / IntervalStyle /
#      extra_float_digits / search_path / quote_all_identifiers settings or
#      with a temporary table named like a table of the schema; the roles of
#      a policy are a set (their order in CREATE POLICY does not show); one
#      change to tenant_b shows up in its description and fingerprint and
#      nowhere else;
#   b. the objects that describe() lists are the objects that
#      `pg_dump --schema-only -n SCHEMA` dumps, compared per kind, for
#      tenant_a (local) and tenant_r (remote).  A failure names the missing and
#      the extra objects.
#
# How pg_dump's entries map to describe() (`pg_restore -l` of the custom
# format archive: its TOC; some kinds come from the plain SQL of the same
# archive because pg_dump has no TOC entry for them).  T is a key of
# `tables`, V of `views`, "T name" is how pg_dump names a per-table object:
#   TABLE t                   tables.t (tables, partitions, children, foreign tables)
#   VIEW v                    views.v with kind "view"
#   MATERIALIZED VIEW m       views.m with kind "materialized view"
#   SEQUENCE s                sequences.s; pg_dump also lists identity
#                             sequences, which describe() folds into the
#                             column (identity, identity_options): they are
#                             taken out (read from pg_depend, deptype 'i'),
#                             and their number must be the number of identity
#                             columns in describe()
#   SEQUENCE OWNED BY s       sequences.s.owned_by
#   TYPE t                    types.t with kind enum, composite or range (the
#                             implicit multirange of a range type is neither)
#   DOMAIN d                  types.d with kind domain
#   FUNCTION f(types)         functions with kind function / window function,
#                             compared as name/number of input arguments
#                             (the TOC has argument types only)
#   PROCEDURE p(types)        the same for kind procedure
#   CREATE FUNCTION/PROCEDURE (plain SQL) name(arguments with defaults) =
#                             functions.*.name + (arguments)
#   COLLATION c               collations.c
#   CONSTRAINT "T c"          tables.T.constraints.c, type primary key, unique
#                             or exclusion; pg_dump also lists a partition's
#                             copy of its parent's key (its index is named by
#                             INDEX ATTACH), describe() only the parent's:
#                             those are taken out
#   CHECK CONSTRAINT "T c"    a NOT VALID check (pg_dump adds it after the data)
#   CONSTRAINT c CHECK (plain SQL, inside CREATE TABLE T) = checks that are valid
#   FK CONSTRAINT "T c"       constraints of type foreign key
#   INDEX i                   tables.*.indexes.i and views.*.indexes.i; pg_dump
#                             also lists each partition's copy of an index on a
#                             partitioned table (named again by INDEX ATTACH),
#                             describe() only the parent's: those are taken out
#   TRIGGER "T g"             tables.T.triggers.g (clones on partitions are
#                             neither in pg_dump nor in describe())
#   POLICY "T p"              tables.T.policies.p
#   ROW SECURITY T            tables.T.row_security
#   ... FORCE ROW LEVEL SECURITY (plain SQL)  tables.T.force_row_security
#   TABLE ATTACH (plain SQL: ALTER TABLE ONLY P ATTACH PARTITION C)  tables.C.partition_of = P
#   INHERITS (plain SQL, after CREATE TABLE C)  tables.C.inherits
#   DEFAULT "T c"             a column default that pg_dump writes apart from
#                             its table (sequence defaults, defaults of an
#                             inheritance child): each must be a column of
#                             describe() with a default (one way only: most
#                             defaults are inside CREATE TABLE)
#   COMMENT X                 the comment of the object X names: TABLE,
#                             COLUMN (of a table, a view or a composite type),
#                             CONSTRAINT c ON T, CONSTRAINT c ON DOMAIN d,
#                             INDEX, TRIGGER g ON T, POLICY p ON T, VIEW,
#                             MATERIALIZED VIEW, SEQUENCE, TYPE, DOMAIN,
#                             FUNCTION / PROCEDURE f(identity arguments),
#                             COLLATION
#   ACL X                     grants that differ from the built-in default:
#                             TABLE (tables, views, materialized views),
#                             COLUMN T.c, SEQUENCE, FUNCTION / PROCEDURE (default
#                             EXECUTE TO PUBLIC), TYPE (types and domains,
#                             default USAGE TO PUBLIC)
# Not compared, deliberately:
#   SCHEMA                    the schema itself: its name is what describe()
#                             leaves out, and it is not an object inside it
#   INDEX ATTACH, TABLE ATTACH (TOC)  covered by INDEX and by the plain-SQL
#                             ATTACH PARTITION pairs above
#   STATISTICS                extended statistics (CREATE STATISTICS): describe()
#                             has no key for them (its contract lists tables,
#                             views, sequences, types, functions, collations)
#   ACL and COMMENT of the schema, DEFAULT ACL, EXTENSION, data entries
#                             (TABLE DATA, SEQUENCE SET): not schema contents
#                             or not in a --schema-only dump of one schema
# Any other TOC kind fails the test "every pg_dump kind is mapped", so new
# fixture content cannot slip past the comparison.
#
# Needs the PGDS_* variables of test/run.sh (two running servers) and the
# extension installed.
set -u
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

DB=multi_introspect
ICUDB=multi_introspect_icu
RDB=rintro
OWNER=intro_owner
OWNER_PW=intro-secret-63
FIXTURE=$here/../fixtures/tenant_schema.sql
# test-only objects, loaded after the fixture into every schema: grants and
# a policy for roles (the fixture names PUBLIC only), and column names whose
# order differs between byte order and en-US ("customerId" / customer_id,
# addr1 / addr_2)
EXTRA="CREATE TABLE legacy_contacts (
	id			bigint PRIMARY KEY,
	\"customerId\"	bigint,
	customer_id	bigint,
	addr1		text,
	addr_2		text,
	\"Email\"		text
);
COMMENT ON COLUMN legacy_contacts.\"customerId\" IS 'as the old ORM named it';
GRANT SELECT ON legacy_contacts TO PUBLIC, intro_reader;
GRANT SELECT, UPDATE ON legacy_contacts TO intro_auditor WITH GRANT OPTION;
GRANT SELECT (addr1, \"Email\") ON legacy_contacts TO intro_reader;
GRANT EXECUTE ON FUNCTION account_revenue(timestamptz, timestamptz) TO intro_auditor;
GRANT USAGE ON SEQUENCE invoice_number_seq TO intro_reader;
CREATE POLICY legacy_readers ON legacy_contacts FOR SELECT TO intro_reader USING (addr1 IS NOT NULL);
ALTER TABLE legacy_contacts ENABLE ROW LEVEL SECURITY;"

LPSQL=(psql -X -q -At -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT")
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT")
work=$(mktemp -d "${PGDS_BASE:-${TMPDIR:-/tmp}}/introspect.XXXXXX") || bail_out "cannot make a temp dir"
trap 'rm -rf "$work"' EXIT

# lq SQL... : psql on the local test database as postgres, stop on error
lq() { "${LPSQL[@]}" -v ON_ERROR_STOP=1 -U postgres -d "$DB" "$@"; }
# describe DB [SETTINGS] : the description as one line of jsonb text
describe() { lq -c "${2:-}" -c "SELECT datasource.describe('$1')"; }
# pretty DB : the description, one key per line (for diffs)
pretty() { lq -c "SELECT jsonb_pretty(datasource.describe('$1'))"; }
# show_diff FILE1 FILE2 : the first lines of a unified diff, as diagnostics
show_diff() { diag "$(diff -u "$1" "$2" | head -n 60)"; }

# --- setup: the same owner role on both servers; the remote database with
# other display settings than the local one (describe() must not show them)
cluster_running "$PGDS_REMOTE_DIR" || cluster_start "$PGDS_REMOTE_DIR" >/dev/null ||
	bail_out "the remote server does not run"
"${RPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE IF EXISTS $RDB" -c "DROP ROLE IF EXISTS $OWNER" \
	-c "CREATE ROLE $OWNER LOGIN PASSWORD '$OWNER_PW'" \
	-c "DROP ROLE IF EXISTS intro_reader" -c "DROP ROLE IF EXISTS intro_auditor" \
	-c "CREATE ROLE intro_reader" -c "CREATE ROLE intro_auditor" \
	-c "CREATE DATABASE $RDB OWNER $OWNER LOCALE_PROVIDER icu ICU_LOCALE 'en-US' TEMPLATE template0" \
	-c "ALTER DATABASE $RDB SET TimeZone = 'Asia/Kathmandu'" \
	-c "ALTER DATABASE $RDB SET DateStyle = 'SQL, DMY'" \
	-c "ALTER DATABASE $RDB SET IntervalStyle = 'iso_8601'" >/dev/null || bail_out "remote setup failed"
"${LPSQL[@]}" -v ON_ERROR_STOP=1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $DB" \
	-c "DROP DATABASE IF EXISTS $ICUDB" \
	-c "DROP ROLE IF EXISTS $OWNER" -c "CREATE ROLE $OWNER LOGIN" \
	-c "DROP ROLE IF EXISTS intro_reader" -c "DROP ROLE IF EXISTS intro_auditor" \
	-c "CREATE ROLE intro_reader" -c "CREATE ROLE intro_auditor" \
	-c "CREATE DATABASE $DB" >/dev/null || bail_out "local setup failed"
lq -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE SCHEMA tenant_a AUTHORIZATION $OWNER" \
	-c "CREATE SCHEMA tenant_b AUTHORIZATION $OWNER" \
	-c "CREATE SERVER intro_srv FOREIGN DATA WRAPPER pg_datasource
	      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname '$RDB')" \
	-c "CREATE USER MAPPING FOR postgres SERVER intro_srv
	      OPTIONS (user '$OWNER', password '$OWNER_PW')" \
	-c "SELECT datasource.create_source('regional', 'intro_srv')" \
	-c "SELECT datasource.create_database('tenant_a_db', schema_name => 'tenant_a', create_schema => false)" \
	-c "SELECT datasource.create_database('tenant_b_db', schema_name => 'tenant_b', create_schema => false)" \
	-c "SELECT datasource.create_database('tenant_r_db', 'regional', schema_name => 'tenant_r')" \
	>/dev/null || bail_out "extension setup failed"

# the fixture, as the owner, with search_path naming the target schema
"${LPSQL[@]}" -v ON_ERROR_STOP=1 -U "$OWNER" -d "$DB" -c "SET search_path = tenant_a" -f "$FIXTURE" \
	-c "$EXTRA" >"$work/load_a.log" 2>&1
ok $? "the fixture loads into tenant_a (local)"
"${LPSQL[@]}" -v ON_ERROR_STOP=1 -U "$OWNER" -d "$DB" -c "SET search_path = tenant_b" -f "$FIXTURE" \
	-c "$EXTRA" >"$work/load_b.log" 2>&1
ok $? "the fixture loads into tenant_b (local)"
"${RPSQL[@]}" -U "$OWNER" -d "$RDB" -c "SET search_path = tenant_r" -f "$FIXTURE" \
	-c "$EXTRA" >"$work/load_r.log" 2>&1
ok $? "the fixture loads into tenant_r (remote, schema created by create_database)"
for f in "$work"/load_?.log; do
	[ -s "$f" ] && diag "$f: $(head -n 5 "$f")"
done

# --- a. identical descriptions and fingerprints
desc_a=$(describe tenant_a_db 2>&1)
desc_b=$(describe tenant_b_db 2>&1)
desc_r=$(describe tenant_r_db 2>&1)
is "$(lq -c "SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(datasource.describe('tenant_a_db')) k" 2>&1)" \
	"collations,functions,sequences,tables,types,views" "describe() of the fixture has every top-level key"
pretty tenant_a_db >"$work/a.json" 2>&1
pretty tenant_b_db >"$work/b.json" 2>&1
pretty tenant_r_db >"$work/r.json" 2>&1
if [ -n "$desc_a" ] && [ "$desc_a" == "$desc_b" ]; then
	pass "describe() of two local schemas loaded from the same script is identical"
else
	fail "describe() of two local schemas loaded from the same script is identical"
	show_diff "$work/a.json" "$work/b.json"
fi
if [ -n "$desc_a" ] && [ "$desc_a" == "$desc_r" ]; then
	pass "describe() of the remote schema equals the local ones"
else
	fail "describe() of the remote schema equals the local ones"
	show_diff "$work/a.json" "$work/r.json"
fi
fp=$(lq -c "SELECT datasource.fingerprint('tenant_a_db') || ' ' || datasource.fingerprint('tenant_b_db')
              || ' ' || datasource.fingerprint('tenant_r_db')" 2>&1)
read -r fp_a fp_b fp_r <<<"$fp"
like "$fp_a" '^[0-9a-f]{64}$' "fingerprint() is a sha256 in hex"
is "$fp_b|$fp_r" "$fp_a|$fp_a" "fingerprint() is the same for the three schemas"
# the documented canonical form: columns and attributes sorted by name,
# byte order (COLLATE "C"), so it does not depend on the caller's database
canonical=$(lq -v db=tenant_r_db 2>&1 <<'SQL'
WITH d AS (SELECT datasource.describe(:'db') AS d)
SELECT encode(sha256(convert_to((d.d
	|| jsonb_build_object('tables', (SELECT jsonb_object_agg(e.key,
	     CASE WHEN e.value ? 'columns' THEN jsonb_set(e.value, '{columns}',
	       (SELECT jsonb_agg(c ORDER BY c ->> 'name' COLLATE "C") FROM jsonb_array_elements(e.value -> 'columns') c))
	     ELSE e.value END) FROM jsonb_each(d.d -> 'tables') e))
	|| jsonb_build_object('types', (SELECT jsonb_object_agg(e.key,
	     CASE WHEN e.value ? 'attributes' THEN jsonb_set(e.value, '{attributes}',
	       (SELECT jsonb_agg(c ORDER BY c ->> 'name' COLLATE "C") FROM jsonb_array_elements(e.value -> 'attributes') c))
	     ELSE e.value END) FROM jsonb_each(d.d -> 'types') e)))::text, 'UTF8')), 'hex')
  FROM d;
SQL
)
is "$canonical" "$fp_r" "fingerprint() is the sha256 of describe() with columns and attributes in name (byte) order"
# the same remote logical database, from a control database with ICU collation
"${LPSQL[@]}" -v ON_ERROR_STOP=1 -U postgres -d postgres \
	-c "CREATE DATABASE $ICUDB LOCALE_PROVIDER icu ICU_LOCALE 'en-US' TEMPLATE template0" >/dev/null &&
	"${LPSQL[@]}" -v ON_ERROR_STOP=1 -U postgres -d "$ICUDB" -c "CREATE EXTENSION pg_datasource" \
		-c "CREATE SERVER intro_srv FOREIGN DATA WRAPPER pg_datasource
		      OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname '$RDB')" \
		-c "CREATE USER MAPPING FOR postgres SERVER intro_srv
		      OPTIONS (user '$OWNER', password '$OWNER_PW')" \
		-c "SELECT datasource.create_source('regional', 'intro_srv')" \
		-c "SELECT datasource.create_database('tenant_r_db', 'regional', schema_name => 'tenant_r', create_schema => false)" \
		>/dev/null
ok $? "a second control database, with ICU collation en-US, maps tenant_r too"
is "$("${LPSQL[@]}" -U postgres -d "$ICUDB" -c "SELECT datasource.fingerprint('tenant_r_db')" 2>&1)" "$fp_r" \
	"fingerprint() does not depend on the collation of the database that calls it"

# describe() output must not depend on the caller's display settings
settings="SET TimeZone = 'America/Los_Angeles'; SET DateStyle = 'German, DMY';
          SET IntervalStyle = 'sql_standard'; SET extra_float_digits = -10;
          SET search_path = tenant_b, public; SET bytea_output = 'escape'"
got=$(describe tenant_a_db "$settings" 2>&1)
if [ -n "$desc_a" ] && [ "$got" == "$desc_a" ]; then
	pass "describe() does not change with TimeZone, DateStyle, IntervalStyle, extra_float_digits, search_path"
else
	fail "describe() does not change with TimeZone, DateStyle, IntervalStyle, extra_float_digits, search_path"
	lq -c "$settings" -c "SELECT jsonb_pretty(datasource.describe('tenant_a_db'))" >"$work/a_settings.json" 2>&1
	show_diff "$work/a.json" "$work/a_settings.json"
fi
got=$(describe tenant_a_db "SET quote_all_identifiers = on" 2>&1)
if [ -n "$desc_a" ] && [ "$got" == "$desc_a" ]; then
	pass "describe() does not change with quote_all_identifiers"
else
	fail "describe() does not change with quote_all_identifiers"
	lq -c "SET quote_all_identifiers = on" -c "SELECT jsonb_pretty(datasource.describe('tenant_a_db'))" >"$work/a_quote.json" 2>&1
	show_diff "$work/a.json" "$work/a_quote.json"
fi
tmp="CREATE TEMP TABLE users (id int); CREATE TEMP TABLE plans (code text); CREATE TEMP VIEW active_users AS SELECT 1 AS one"
got=$(describe tenant_a_db "$tmp" 2>&1)
if [ -n "$desc_a" ] && [ "$got" == "$desc_a" ]; then
	pass "describe() does not change with temporary tables named like tables of the schema"
else
	fail "describe() does not change with temporary tables named like tables of the schema"
	lq -c "$tmp" -c "SELECT jsonb_pretty(datasource.describe('tenant_a_db'))" >"$work/a_temp.json" 2>&1
	show_diff "$work/a.json" "$work/a_temp.json"
fi
got=$(describe tenant_r_db "SET TimeZone = 'Pacific/Chatham'; SET DateStyle = 'Postgres, MDY'" 2>&1)
is "$([ "$got" == "$desc_r" ] && echo same || echo different)" same \
	"describe() of the remote schema does not change with the caller's TimeZone and DateStyle"

# --- b. describe() lists what pg_dump --schema-only -n SCHEMA dumps

# dump_pairs HOST PORT DBNAME SCHEMA OUT : "KIND<TAB>NAME" lines of pg_dump's
# objects (names without the schema), sorted; also OUT.kinds: every TOC kind
dump_pairs() {
	local host=$1 port=$2 dbname=$3 schema=$4 out=$5
	"$PGBIN/pg_dump" -h "$host" -p "$port" -U postgres -d "$dbname" --schema-only -n "$schema" \
		-Fc -f "$out.dump" || return 1
	"$PGBIN/pg_restore" -l "$out.dump" >"$out.toc" || return 1
	"$PGBIN/pg_restore" -f "$out.sql" "$out.dump" || return 1
	# identity sequences, to take out of SEQUENCE
	"$PGBIN/psql" -X -q -At -h "$host" -p "$port" -U postgres -d "$dbname" -v ON_ERROR_STOP=1 \
		-v schema="$schema" >"$out.identity" <<'SQL' || return 1
SELECT c.relname FROM pg_class c JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
 WHERE c.relkind = 'S' AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = :'schema')
   AND d.deptype = 'i' ORDER BY 1;
SQL
	SCHEMA=$schema IDENTITY="$out.identity" perl - "$out.toc" "$out.sql" "$out.kinds" >"$out.unsorted" <<'PERL' || return 1
		use strict; use warnings;
		my $s = quotemeta $ENV{SCHEMA};
		my %identity;
		open my $ih, "<", $ENV{IDENTITY} or die; while (<$ih>) { chomp; $identity{$_} = 1 } close $ih;
		my (%attached, @pairs, %kinds);
		my $kinds = qr/MATERIALIZED VIEW DATA|MATERIALIZED VIEW|FK CONSTRAINT|CHECK CONSTRAINT|SEQUENCE OWNED BY|SEQUENCE SET|TABLE ATTACH|INDEX ATTACH|ROW SECURITY|TABLE DATA|DEFAULT ACL|FOREIGN TABLE|[A-Z]+/;
		open my $toc, "<", $ARGV[0] or die;
		my @toc;
		while (<$toc>) {
			chomp;
			next if /^;/ || /^\s*$/;
			/^\d+; \d+ \d+ ($kinds) (\S+) (.*?) ?(\S*)$/ or die "unparsed TOC line: $_\n";
			my ($kind, $name) = ($1, $3);
			$name =~ s/\b$s\.//g;
			$kinds{$kind}++;
			$attached{$name} = 1 if $kind eq "INDEX ATTACH";
			push @toc, [$kind, $name];
		}
		for (@toc) {
			my ($kind, $name) = @$_;
			if ($kind eq "SEQUENCE") {
				push @pairs, [$identity{$name} ? "IDENTITY SEQUENCE" : "SEQUENCE", $name];
			} elsif ($kind eq "INDEX") {
				push @pairs, ["INDEX", $name] unless $attached{$name};
			} elsif ($kind eq "CONSTRAINT" && $name =~ / (\S+)$/ && $attached{$1}) {
				# a partition's copy of its parent's key: its index is attached
			} elsif ($kind eq "FUNCTION" || $kind eq "PROCEDURE") {
				$name =~ /^(.*?)\((.*)\)$/ or die "function name: $name\n";
				my @args = $2 eq "" ? () : split /, /, $2;
				push @pairs, [$kind, "$1/" . scalar @args];
			} elsif ($kind ne "TABLE ATTACH") {
				push @pairs, [$kind, $name];
			}
		}
		# the plain SQL: valid checks, FORCE, ATTACH PARTITION, INHERITS, signatures
		open my $sql, "<", $ARGV[1] or die;
		my $table;
		while (<$sql>) {
			chomp;
			if (/^CREATE (?:UNLOGGED )?TABLE $s\.(\S+) \($/) { $table = $1; next }
			if (defined $table && /^\s+CONSTRAINT (\S+) CHECK /) { push @pairs, ["CHECK", "$table $1"]; next }
			if (defined $table && /^INHERITS \((.*)\)/) {
				for my $p (split /, /, $1) { $p =~ s/^$s\.//; push @pairs, ["INHERITS", "$table $p"] }
			}
			undef $table if /;$/;
			push @pairs, ["FORCE ROW SECURITY", $1] if /^ALTER TABLE ONLY $s\.(\S+) FORCE ROW LEVEL SECURITY;$/;
			push @pairs, ["TABLE ATTACH", "$1 $2"] if /^ALTER TABLE ONLY $s\.(\S+) ATTACH PARTITION $s\.(\S+) /;
			if (/^CREATE (FUNCTION|PROCEDURE) $s\.(.*?\))(?: RETURNS .*)?$/) {
				(my $sig = $2) =~ s/\b$s\.//g;
				push @pairs, ["SIGNATURE", $sig];
			}
		}
		print "$_->[0]\t$_->[1]\n" for sort { "$a->[0]\t$a->[1]" cmp "$b->[0]\t$b->[1]" } @pairs;
		open my $kh, ">", "$ARGV[2]" or die;
		print $kh "$_\n" for sort keys %kinds;
PERL
	LC_ALL=C sort "$out.unsorted" >"$out.pairs"
}

# describe_pairs DB OUT : the same "KIND<TAB>NAME" lines read from describe()
describe_pairs() {
	lq -v db="$1" >"$2.raw" <<'SQL' || return 1
WITH d AS (SELECT datasource.describe(:'db') AS d),
t AS (SELECT e.key AS name, e.value AS v FROM d, jsonb_each(coalesce(d.d -> 'tables', '{}')) e),
vw AS (SELECT e.key AS name, e.value AS v FROM d, jsonb_each(coalesce(d.d -> 'views', '{}')) e),
sq AS (SELECT e.key AS name, e.value AS v FROM d, jsonb_each(coalesce(d.d -> 'sequences', '{}')) e),
ty AS (SELECT e.key AS name, e.value AS v FROM d, jsonb_each(coalesce(d.d -> 'types', '{}')) e),
fn AS (SELECT e.key AS name, e.value AS v FROM d, jsonb_each(coalesce(d.d -> 'functions', '{}')) e),
co AS (SELECT e.key AS name, e.value AS v FROM d, jsonb_each(coalesce(d.d -> 'collations', '{}')) e),
col AS (SELECT t.name AS tab, c.value AS c FROM t, jsonb_array_elements(coalesce(t.v -> 'columns', '[]')) c),
con AS (SELECT t.name AS tab, k.key AS name, k.value AS v FROM t, jsonb_each(coalesce(t.v -> 'constraints', '{}')) k),
idx AS (SELECT i.key AS name, i.value AS v FROM t, jsonb_each(coalesce(t.v -> 'indexes', '{}')) i
        UNION ALL
        SELECT i.key, i.value FROM vw, jsonb_each(coalesce(vw.v -> 'indexes', '{}')) i),
trg AS (SELECT t.name AS tab, g.key AS name, g.value AS v FROM t, jsonb_each(coalesce(t.v -> 'triggers', '{}')) g),
pol AS (SELECT t.name AS tab, p.key AS name, p.value AS v FROM t, jsonb_each(coalesce(t.v -> 'policies', '{}')) p),
-- arguments: number of input arguments of a function (OUT ones are not in pg_dump's TOC name)
fnargs AS (SELECT fn.name, fn.v,
                  (SELECT count(*) FROM regexp_split_to_table(fn.v ->> 'identity_arguments', ', ') a
                    WHERE a <> '' AND (a NOT LIKE 'OUT %' OR fn.v ->> 'kind' = 'procedure')) AS n
             FROM fn)
SELECT kind || E'\t' || name FROM (
	SELECT 'TABLE' AS kind, name FROM t
	UNION ALL SELECT 'VIEW', name FROM vw WHERE v ->> 'kind' = 'view'
	UNION ALL SELECT 'MATERIALIZED VIEW', name FROM vw WHERE v ->> 'kind' = 'materialized view'
	UNION ALL SELECT 'SEQUENCE', name FROM sq
	UNION ALL SELECT 'SEQUENCE OWNED BY', name FROM sq WHERE v ? 'owned_by'
	UNION ALL SELECT 'IDENTITY COLUMNS', count(*)::text FROM col WHERE c ? 'identity'
	UNION ALL SELECT 'TYPE', name FROM ty WHERE v ->> 'kind' <> 'domain'
	UNION ALL SELECT 'DOMAIN', name FROM ty WHERE v ->> 'kind' = 'domain'
	UNION ALL SELECT CASE WHEN v ->> 'kind' = 'procedure' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
	                 (v ->> 'name') || '/' || n FROM fnargs
	UNION ALL SELECT 'SIGNATURE', (v ->> 'name') || '(' || (v ->> 'arguments') || ')' FROM fn
	UNION ALL SELECT 'COLLATION', name FROM co
	UNION ALL SELECT 'CONSTRAINT', tab || ' ' || name FROM con
	           WHERE v ->> 'type' IN ('primary key', 'unique', 'exclusion')
	UNION ALL SELECT 'CHECK CONSTRAINT', tab || ' ' || name FROM con
	           WHERE v ->> 'type' = 'check' AND v ->> 'definition' LIKE '% NOT VALID'
	UNION ALL SELECT 'CHECK', tab || ' ' || name FROM con
	           WHERE v ->> 'type' = 'check' AND v ->> 'definition' NOT LIKE '% NOT VALID'
	UNION ALL SELECT 'FK CONSTRAINT', tab || ' ' || name FROM con WHERE v ->> 'type' = 'foreign key'
	UNION ALL SELECT 'INDEX', name FROM idx
	UNION ALL SELECT 'TRIGGER', tab || ' ' || name FROM trg
	UNION ALL SELECT 'POLICY', tab || ' ' || name FROM pol
	UNION ALL SELECT 'ROW SECURITY', name FROM t WHERE (v ->> 'row_security')::boolean
	UNION ALL SELECT 'FORCE ROW SECURITY', name FROM t WHERE (v ->> 'force_row_security')::boolean
	UNION ALL SELECT 'TABLE ATTACH', (v ->> 'partition_of') || ' ' || name FROM t WHERE v ? 'partition_of'
	UNION ALL SELECT 'INHERITS', t.name || ' ' || p FROM t, jsonb_array_elements_text(t.v -> 'inherits') p
	           WHERE jsonb_typeof(t.v -> 'inherits') = 'array'
	UNION ALL SELECT 'DEFAULT', tab || ' ' || (c ->> 'name') FROM col WHERE c ? 'default'
	-- comments (pg_dump quotes the names in these tags)
	UNION ALL SELECT 'COMMENT', 'TABLE ' || quote_ident(name) FROM t WHERE v ? 'comment'
	UNION ALL SELECT 'COMMENT', 'COLUMN ' || quote_ident(tab) || '.' || quote_ident(c ->> 'name') FROM col WHERE c ? 'comment'
	UNION ALL SELECT 'COMMENT', 'CONSTRAINT ' || quote_ident(name) || ' ON ' || quote_ident(tab) FROM con WHERE v ? 'comment'
	UNION ALL SELECT 'COMMENT', 'INDEX ' || quote_ident(name) FROM idx WHERE v ? 'comment'
	UNION ALL SELECT 'COMMENT', 'TRIGGER ' || quote_ident(name) || ' ON ' || quote_ident(tab) FROM trg WHERE v ? 'comment'
	UNION ALL SELECT 'COMMENT', 'POLICY ' || quote_ident(name) || ' ON ' || quote_ident(tab) FROM pol WHERE v ? 'comment'
	UNION ALL SELECT 'COMMENT', upper(v ->> 'kind') || ' ' || quote_ident(name) FROM vw WHERE v ? 'comment'
	UNION ALL SELECT 'COMMENT', 'COLUMN ' || quote_ident(vw.name) || '.' || quote_ident(c.key)
	            FROM vw, jsonb_each_text(coalesce(vw.v -> 'column_comments', '{}')) c
	UNION ALL SELECT 'COMMENT', 'SEQUENCE ' || quote_ident(name) FROM sq WHERE v ? 'comment'
	UNION ALL SELECT 'COMMENT', CASE WHEN v ->> 'kind' = 'domain' THEN 'DOMAIN ' ELSE 'TYPE ' END || quote_ident(name)
	            FROM ty WHERE v ? 'comment'
	UNION ALL SELECT 'COMMENT', 'COLUMN ' || quote_ident(ty.name) || '.' || quote_ident(a ->> 'name')
	            FROM ty, jsonb_array_elements(coalesce(ty.v -> 'attributes', '[]')) a WHERE a ? 'comment'
	UNION ALL SELECT 'COMMENT', 'CONSTRAINT ' || quote_ident(k.key) || ' ON DOMAIN ' || quote_ident(ty.name)
	            FROM ty, jsonb_each(coalesce(ty.v -> 'constraint_comments', '{}')) k
	UNION ALL SELECT 'COMMENT', upper(v ->> 'kind') || ' ' || quote_ident(v ->> 'name') || '(' || (v ->> 'identity_arguments') || ')'
	            FROM fn WHERE v ? 'comment'
	UNION ALL SELECT 'COMMENT', 'COLLATION ' || quote_ident(name) FROM co WHERE v ? 'comment'
	-- grants that are not the built-in default
	UNION ALL SELECT 'ACL', 'TABLE ' || quote_ident(name) FROM t WHERE jsonb_array_length(coalesce(v -> 'grants', '[]')) > 0
	UNION ALL SELECT 'ACL', 'TABLE ' || quote_ident(name) FROM vw WHERE jsonb_array_length(coalesce(v -> 'grants', '[]')) > 0
	UNION ALL SELECT 'ACL', 'SEQUENCE ' || quote_ident(name) FROM sq WHERE jsonb_array_length(coalesce(v -> 'grants', '[]')) > 0
	UNION ALL SELECT 'ACL', 'COLUMN ' || quote_ident(tab) || '.' || quote_ident(c ->> 'name') FROM col
	           WHERE jsonb_array_length(coalesce(c -> 'grants', '[]')) > 0
	UNION ALL SELECT 'ACL', upper(v ->> 'kind') || ' ' || quote_ident(v ->> 'name') || '(' || (v ->> 'identity_arguments') || ')'
	            FROM fn WHERE coalesce(v -> 'grants', '[]') <> '["EXECUTE TO PUBLIC"]'
	UNION ALL SELECT 'ACL', 'TYPE ' || quote_ident(name) FROM ty
	           WHERE coalesce(v -> 'grants', '[]') <> '["USAGE TO PUBLIC"]'
) x;
SQL
	LC_ALL=C sort "$2.raw" >"$2.pairs"
}

# compare_kind KIND LABEL DUMPFILE DESCFILE [subset] : one test per kind
compare_kind() {
	local kind=$1 label=$2 dumpf=$3 descf=$4 mode=${5:-equal} d s missing extra n
	d=$(awk -F '\t' -v k="$kind" '$1 == k { print $2 }' "$dumpf" | LC_ALL=C sort -u)
	s=$(awk -F '\t' -v k="$kind" '$1 == k { print $2 }' "$descf" | LC_ALL=C sort -u)
	n=$(grep -c . <<<"$d")
	missing=$(LC_ALL=C comm -23 <(echo "$d") <(echo "$s") | grep . | paste -sd ';' -)
	extra=$(LC_ALL=C comm -13 <(echo "$d") <(echo "$s") | grep . | paste -sd ';' -)
	[ "$mode" = subset ] && extra=""
	if [ "$n" -gt 0 ] && [ -z "$missing" ] && [ -z "$extra" ]; then
		pass "$label: $kind: describe() has the $n object(s) pg_dump has"
	else
		fail "$label: $kind: describe() has the $n object(s) pg_dump has"
		[ "$n" -eq 0 ] && diag "    pg_dump has no $kind in $label: the comparison would prove nothing"
		[ -n "$missing" ] && diag "    in pg_dump, not in describe(): $missing"
		[ -n "$extra" ] && diag "    in describe(), not in pg_dump: $extra"
	fi
}

# the kinds of pg_dump's TOC that are compared, or deliberately not compared
MAPPED_KINDS=(ACL "CHECK CONSTRAINT" COLLATION COMMENT CONSTRAINT DEFAULT DOMAIN "FK CONSTRAINT" FUNCTION
	INDEX "INDEX ATTACH" "MATERIALIZED VIEW" POLICY PROCEDURE "ROW SECURITY" SCHEMA SEQUENCE
	"SEQUENCE OWNED BY" STATISTICS TABLE "TABLE ATTACH" TRIGGER TYPE VIEW)

compare_all() { # LABEL DB HOST PORT DBNAME SCHEMA
	local label=$1 db=$2 out=$work/$1 unmapped k
	if ! dump_pairs "$3" "$4" "$5" "$6" "$out.dump_side" 2>"$out.err"; then
		fail "$label: pg_dump --schema-only -n $6 and its TOC are read"
		diag "$(head -n 5 "$out.err")"
		return
	fi
	if ! describe_pairs "$db" "$out.desc_side" 2>"$out.err"; then
		fail "$label: the objects of describe('$db') are read"
		diag "$(head -n 5 "$out.err")"
		return
	fi
	unmapped=$(printf '%s\n' "${MAPPED_KINDS[@]}" | LC_ALL=C sort >"$out.mapped"
		LC_ALL=C sort "$out.dump_side.kinds" | LC_ALL=C comm -23 - "$out.mapped" | paste -sd ',' -)
	is "$unmapped" "" "$label: every kind of pg_dump entry is compared or listed as not compared"
	for k in TABLE VIEW "MATERIALIZED VIEW" SEQUENCE "SEQUENCE OWNED BY" TYPE DOMAIN FUNCTION PROCEDURE SIGNATURE \
		COLLATION CONSTRAINT "CHECK CONSTRAINT" CHECK "FK CONSTRAINT" INDEX TRIGGER POLICY "ROW SECURITY" \
		"FORCE ROW SECURITY" "TABLE ATTACH" INHERITS COMMENT ACL; do
		compare_kind "$k" "$label" "$out.dump_side.pairs" "$out.desc_side.pairs"
	done
	compare_kind DEFAULT "$label" "$out.dump_side.pairs" "$out.desc_side.pairs" subset
	is "$(awk -F '\t' '$1 == "IDENTITY SEQUENCE"' "$out.dump_side.pairs" | wc -l | tr -d ' ')" \
		"$(awk -F '\t' '$1 == "IDENTITY COLUMNS" { print $2 }' "$out.desc_side.pairs")" \
		"$label: pg_dump's identity sequences are describe()'s identity columns"
}

compare_all tenant_a tenant_a_db "$PGDS_LOCAL_HOST" "$PGDS_LOCAL_PORT" "$DB" tenant_a
compare_all tenant_r tenant_r_db "$PGDS_REMOTE_HOST" "$PGDS_REMOTE_PORT" "$RDB" tenant_r

# --- a change shows: one column added to tenant_b changes its description
# (in tables.users only) and its fingerprint, and nothing of tenant_a
"${LPSQL[@]}" -v ON_ERROR_STOP=1 -U "$OWNER" -d "$DB" -c "ALTER TABLE tenant_b.users ADD COLUMN nickname text" >/dev/null
ok $? "a column is added to tenant_b.users"
is "$(lq -c "SELECT string_agg(a.key || '.' || t.key, ',' ORDER BY a.key, t.key)
               FROM jsonb_each(datasource.describe('tenant_a_db')) a
               JOIN jsonb_each(datasource.describe('tenant_b_db')) b USING (key)
               CROSS JOIN LATERAL jsonb_each(a.value) t
              WHERE a.value <> b.value AND t.value IS DISTINCT FROM b.value -> t.key" 2>&1)" \
	"tables.users" "then describe() of tenant_b differs from tenant_a's in tables.users only"
is "$(lq -c "SELECT datasource.fingerprint('tenant_a_db') = '$fp_a', datasource.fingerprint('tenant_b_db') <> '$fp_a'" 2>&1)" \
	"t|t" "and its fingerprint changed, tenant_a's did not"

# the roles of a policy are a set: the same policy, roles named in the
# other order, describes the same
"${LPSQL[@]}" -v ON_ERROR_STOP=1 -U "$OWNER" -d "$DB" \
	-c "CREATE POLICY legacy_staff ON tenant_a.legacy_contacts TO intro_reader, intro_auditor USING (true)" \
	-c "CREATE POLICY legacy_staff ON tenant_b.legacy_contacts TO intro_auditor, intro_reader USING (true)" >/dev/null
ok $? "one policy for two roles is created in tenant_a and tenant_b, roles named in opposite orders"
is "$(lq -c "SELECT datasource.describe('tenant_a_db') #> '{tables,legacy_contacts,policies,legacy_staff}'")" \
	"$(lq -c "SELECT datasource.describe('tenant_b_db') #> '{tables,legacy_contacts,policies,legacy_staff}'")" \
	"describe() shows the roles of a policy in one order"

# --- cleanup
"${LPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE $DB" -c "DROP DATABASE IF EXISTS $ICUDB" \
	-c "DROP ROLE $OWNER" -c "DROP ROLE intro_reader" -c "DROP ROLE intro_auditor" >/dev/null
"${RPSQL[@]}" -U postgres -d postgres -c "DROP DATABASE $RDB" -c "DROP ROLE $OWNER" \
	-c "DROP ROLE intro_reader" -c "DROP ROLE intro_auditor" >/dev/null
done_testing
