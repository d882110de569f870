#!/usr/bin/env bash
# The release path: a database made with 0.1.0 is updated to the current
# version and ends up exactly like a fresh install, with its data.
#
# The 0.1.0 library is built from the git history (commit $OLD, the last one
# of 0.1.0) and installed, with its scripts, into a private copy of the
# PostgreSQL installation the harness uses (the copy's pg_config and postgres
# find their lib and share directories relative to themselves), so the
# system installation is never touched.  A cluster on that copy gets a
# database at 0.1.0 with data: local and remote logical databases, journal
# rows (applied, failed, baseline, migrate_all), schema snapshots, DDL-log
# rows, and grants made by an administrator.  Then the current library and
# scripts replace the old ones (those `make install` installs: the library
# from the harness's pkglibdir, the scripts from the checkout), the server
# restarts, and ALTER EXTENSION pg_datasource UPDATE runs.  Checked:
#   - between the two steps, functions and DDL fail with "could not find
#     function" (what README's "Upgrading" warns of);
#   - the version is the control file's;
#   - the schema equals a fresh install's in another database of the same
#     cluster: pg_dump's definitions of the extension's objects, sorted,
#     without OIDs and xids (a plain `pg_dump -s -n datasource` prints only
#     CREATE SCHEMA, since it leaves extension members out; --binary-upgrade
#     with --extension prints each member), and from the catalogs what
#     pg_dump does not print: privileges, initial privileges, comments,
#     configuration tables;
#   - the data survived (counts and contents), and so did the
#     administrator's grants, also in a plain pg_dump;
#   - functions work afterwards: migrate, describe, query (local and
#     remote), the DDL log, drift, pending;
#   - the install script: a function added anywhere in it without a GRANT
#     is not executable by PUBLIC (privileges are set at its end), and every
#     CREATE FUNCTION of the install and upgrade scripts states its
#     volatility and PARALLEL label.
#
# Needs the PGDS_* variables of test/run.sh and the git history of the
# checkout; without the history it fails (it never skips).
set -u
export PGOPTIONS="-c client_min_messages=error"
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"

: "${PGDS_BASE:?run me from test/run.sh}"
OLD=a1a4484                     # the last commit of 0.1.0
ROOT=${PGDS_ROOT:-$(cd "$here/../.." && pwd)}
NEW_VERSION=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ROOT/pg_datasource.control")
HARNESS_PG_CONFIG=${PG_CONFIG:-$PGDS_BIN/pg_config}
RPSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT" -U postgres)

W=""                            # work dir: the build, the copy
C=$PGDS_BASE/upgrade            # the cluster (a direct child of the base: run.sh stops it too)
cleanup() {
	cluster_stop "$C" >/dev/null 2>&1
	"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS upgrade_far" >/dev/null 2>&1
	if [ "${PGDS_KEEP:-0}" != 1 ]; then
		rm -rf "$W" "$C" "$C.initdb.log"
	fi
}
trap cleanup EXIT

# --- the 0.1.0 library, built from the history
if ! git_err=$(git -C "$ROOT" cat-file -e "$OLD^{commit}" 2>&1); then
	fail "the git history holds release 0.1.0 (commit $OLD)"
	diag "test/multi/upgrade.sh builds 0.1.0 from commit $OLD of the checkout's history;"
	diag "$ROOT has no such commit (not a git checkout, or a shallow clone): $git_err"
	done_testing
fi
W=$(mktemp -d "$PGDS_BASE/upgrade-work.XXXXXX") && chmod 755 "$W" || bail_out "cannot make a work dir"
mkdir "$W/old" && git -C "$ROOT" archive "$OLD" | tar -x -C "$W/old"
ok $? "the 0.1.0 sources come out of the history (git archive $OLD)"
is "$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$W/old/pg_datasource.control")" "0.1.0" \
	"commit $OLD is release 0.1.0"
cmp -s "$W/old/sql/pg_datasource--0.1.0.sql" "$ROOT/sql/pg_datasource--0.1.0.sql"
ok $? "sql/pg_datasource--0.1.0.sql is the released install script, unchanged"

# A pg_config whose server headers exist builds it (a relocated copy's
# pg_config points at include directories that the copy does not have).
build_pg_config=""
for pc in "$HARNESS_PG_CONFIG" /usr/lib/postgresql/15/bin/pg_config "$(command -v pg_config)"; do
	[ -x "$pc" ] && [ -f "$("$pc" --includedir-server 2>/dev/null)/postgres.h" ] && {
		build_pg_config=$pc
		break
	}
done
[ -n "$build_pg_config" ] || bail_out "no pg_config with PostgreSQL 15 server headers"
make -C "$W/old" -s -j2 PG_CONFIG="$build_pg_config" with_llvm=no >"$W/old-build.log" 2>&1
ok $? "the 0.1.0 library builds"
[ -f "$W/old/pg_datasource.so" ] || { diag "$(tail -n 20 "$W/old-build.log")"; bail_out "no 0.1.0 library"; }

# --- a private copy of the installation the harness uses
src_lib=$(dirname "$PGDS_BIN")              # .../usr/lib/postgresql/15
src_share=$("$PGDS_BIN/pg_config" --sharedir)
case $src_lib in */usr/lib/postgresql/15) ;; *) bail_out "unexpected layout: $src_lib" ;; esac
I=$W/inst
mkdir -p "$I/usr/lib/postgresql" "$I/usr/share/postgresql" &&
	cp -a "$src_lib" "$I/usr/lib/postgresql/" && cp -a "$src_share" "$I/usr/share/postgresql/" &&
	chmod 755 "$I" "$I/usr" "$I/usr/lib" "$I/usr/share" || bail_out "cannot copy the installation"
B=$I/usr/lib/postgresql/15/bin
LIB=$("$B/pg_config" --pkglibdir)
EXT=$("$B/pg_config" --sharedir)/extension
[ "$LIB" = "$I/usr/lib/postgresql/15/lib" ] && [ "$EXT" = "$I/usr/share/postgresql/15/extension" ]
ok $? "the copy's pg_config points into the copy"
# install_files SO CONTROL SCRIPT... : the extension's files in the copy, nothing else
install_files() {
	local so=$1 control=$2
	shift 2
	rm -rf "$LIB/pg_datasource.so" "$LIB/bitcode/pg_datasource" "$LIB/bitcode/pg_datasource.index.bc" \
		"$EXT"/pg_datasource.control "$EXT"/pg_datasource--*.sql &&
		cp "$so" "$LIB/pg_datasource.so" && cp "$control" "$EXT/" && cp "$@" "$EXT/"
}
install_files "$W/old/pg_datasource.so" "$W/old/pg_datasource.control" "$W/old/sql/pg_datasource--0.1.0.sql" ||
	bail_out "cannot install 0.1.0 into the copy"

# --- a cluster on the copy
PGBIN=$B
port=$(free_port $((PGDS_REMOTE_PORT + 50 + RANDOM % 500))) || bail_out "no free port"
cluster_init "$C" "$port" || bail_out "initdb failed"
echo "jit = off" >>"$C/postgresql.conf"
for _try in 1 2 3 4 5; do
	cluster_start "$C" 2>/dev/null && break
	grep -q 'could not bind\|could not create any TCP/IP sockets' "$C/server.log" || break
	port=$(free_port $((port + 1))) && cluster_set_port "$C" "$port"
done
cluster_running "$C" || { diag "$(tail -n 20 "$C/server.log")"; bail_out "the cluster does not start"; }
PSQL=("$B/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$C" -p "$port" -U postgres)
q() { "${PSQL[@]}" -d "$DB" "$@"; }
# err SQL : the error of SQL in a new session, or "no error"
err() {
	local out
	out=$("${PSQL[@]}" -d "$DB" -c "$1" 2>&1 >/dev/null)
	echo "${out:-no error}"
}

# --- 0.1.0 with data
DB=upgraded
"${RPSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS upgrade_far" -c "DROP ROLE IF EXISTS upgrade_far_owner" \
	-c "CREATE ROLE upgrade_far_owner LOGIN PASSWORD 'far-secret-73'" \
	-c "CREATE DATABASE upgrade_far OWNER upgrade_far_owner" >/dev/null || bail_out "remote setup failed"
"${PSQL[@]}" -d postgres -c "CREATE DATABASE upgraded" -c "CREATE DATABASE fresh" >/dev/null ||
	bail_out "cannot create the databases"
q -c "CREATE EXTENSION pg_datasource VERSION '0.1.0'" || bail_out "CREATE EXTENSION ... VERSION '0.1.0' failed"
is "$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_datasource'")" "0.1.0" \
	"the database starts at 0.1.0"
q >/dev/null <<SQL || bail_out "the 0.1.0 data could not be made"
CREATE SERVER far_srv FOREIGN DATA WRAPPER pg_datasource
	OPTIONS (host '127.0.0.1', port '$PGDS_REMOTE_PORT', dbname 'upgrade_far');
CREATE USER MAPPING FOR postgres SERVER far_srv
	OPTIONS (user 'upgrade_far_owner', password 'far-secret-73');
SELECT datasource.create_source('far', 'far_srv', description => 'the remote');
SELECT datasource.create_database('far_db', 'far');
SELECT datasource.create_database('shop', description => 'the shop');
SELECT datasource.create_database('tenant_a');
SELECT datasource.create_database('tenant_b', read_only => false);
CREATE SCHEMA legacy;
CREATE TABLE legacy.things (id int PRIMARY KEY);
SELECT datasource.create_database('legacy_db', schema_name => 'legacy', create_schema => false);
SELECT datasource.migrate('shop', '1', 'CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);');
SELECT datasource.migrate('shop', '2', 'ALTER TABLE items ADD COLUMN price numeric(10,2);', 'prices');
SELECT datasource.migrate('shop', '3', 'CREATE TABLE broken (id int); SELECT 1/0;');
SELECT datasource.migrate_all('1', 'CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY, owner text);',
	ARRAY['tenant_a', 'tenant_b']);
SELECT datasource.baseline('legacy_db', '1', 'the schema was there');
SELECT datasource.migrate('far_db', '1', 'CREATE TABLE notes (id int PRIMARY KEY, body text);');
SELECT datasource.exec('shop', \$\$INSERT INTO items VALUES (1, 'pen', 1.50), (2, 'ink', 7.25)\$\$);
SELECT datasource.exec('far_db', \$\$INSERT INTO notes VALUES (1, 'kept remotely')\$\$);
CREATE INDEX items_name ON shop.items (name);
CREATE ROLE upgrade_deployer;
CREATE ROLE upgrade_auditor;
GRANT EXECUTE ON FUNCTION datasource.migrate(text, text, text, text, text) TO upgrade_deployer;
GRANT SELECT ON datasource.migrations, datasource.ddl_log TO upgrade_auditor;
SQL

# data : every catalog row and sequence of the extension, and the logical
# databases' rows, one line each: name, count, md5 of the rows in order (of the
# journal, the columns 0.1.0 had: error_detail and error_hint come with 0.2.0)
DATA_SQL="
SELECT 'sources ' || count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY t.name)) FROM datasource.sources t
UNION ALL SELECT 'databases ' || count(*) || ' ' || md5(string_agg((to_jsonb(t) - 'local_schema')::text, '|' ORDER BY t.name))
                 || ' ' || count(to_jsonb(t) ->> 'local_schema') FROM datasource.databases t
UNION ALL SELECT 'migrations ' || count(*) || ' ' || md5(string_agg((to_jsonb(t) - 'error_detail' - 'error_hint')::text, '|' ORDER BY t.id)) FROM datasource.migrations t
UNION ALL SELECT 'ddl_log ' || count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY t.id)) FROM datasource.ddl_log t
UNION ALL SELECT 'schema_snapshots ' || count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY t.fingerprint)) FROM datasource.schema_snapshots t
UNION ALL SELECT 'migrations_id_seq ' || last_value FROM datasource.migrations_id_seq
UNION ALL SELECT 'ddl_log_id_seq ' || last_value FROM datasource.ddl_log_id_seq
UNION ALL SELECT 'shop.items ' || count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY t.id)) FROM shop.items t"
before=$(q -c "$DATA_SQL")
counts=$(q -c "SELECT (SELECT count(*) FROM datasource.sources) || ' ' || (SELECT count(*) FROM datasource.databases)
                 || ' ' || (SELECT string_agg(status, ',' ORDER BY id) FROM datasource.migrations)
                 || ' ' || (SELECT count(*) FROM datasource.schema_snapshots)
                 || ' ' || (SELECT count(*) FROM datasource.ddl_log WHERE migration_version IS NULL)")
is "$counts" "2 5 applied,applied,failed,applied,applied,baseline,applied 5 1" \
	"0.1.0 holds datasources, logical databases, journal rows of every kind, snapshots and out-of-band DDL"
# the grants an administrator made, as a plain pg_dump shows them
grants() {
	"$B/pg_dump" -h "$C" -p "$port" -U postgres -s "$DB" | grep -E '^(GRANT|REVOKE) .* (upgrade_deployer|upgrade_auditor);$' | sort
}
grants_before=$(grants)
is "$(echo "$grants_before" | wc -l)" "3" "pg_dump of the 0.1.0 database shows the administrator's three grants"

# --- the current files; the window before the update
install_files "$("$HARNESS_PG_CONFIG" --pkglibdir)/pg_datasource.so" "$ROOT/pg_datasource.control" \
	"$ROOT"/sql/pg_datasource--*.sql
ok $? "the current library and scripts replace the old ones in the copy"
cluster_restart "$C" || bail_out "the cluster does not restart"
like "$(err "SELECT datasource.validate('SELECT 1')")" 'could not find function "validate" in file' \
	"before the update, a function of 0.1.0 is not in the new library"
like "$(err "CREATE TABLE public.during_the_window (id int)")" 'could not find function "log_ddl" in file' \
	"before the update, DDL fails too: the DDL log's event trigger cannot load its function"

# --- the update
out=$(q -c "ALTER EXTENSION pg_datasource UPDATE" 2>&1)
ok $? "ALTER EXTENSION pg_datasource UPDATE succeeds"
[ -z "$out" ] || diag "$out"
is "$(q -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_datasource'")" "$NEW_VERSION" \
	"the database is at $NEW_VERSION"
"${PSQL[@]}" -d fresh -c "CREATE EXTENSION pg_datasource" >/dev/null
is "$("${PSQL[@]}" -d fresh -c "SELECT extversion FROM pg_extension WHERE extname = 'pg_datasource'")" "$NEW_VERSION" \
	"a fresh install in another database of the cluster is at $NEW_VERSION"

# --- the schema equals a fresh install's
# schema DB : pg_dump's definitions of the extension's objects, sorted.
# Left out: what binary-upgrade mode adds (OIDs, xids, LSNs, sequence
# values), the administrator's grants (compared on their own), and the
# brackets around initial privileges: a fresh install records initial
# privileges equal to the default ACL for the journals and their sequences
# (the closing REVOKE touched them), an updated one has none (the update
# leaves their privileges alone), and pg_dump treats both alike; the
# catalog comparison below checks initial privileges exactly.
schema() {
	"$B/pg_dump" -h "$C" -p "$port" -U postgres -s --binary-upgrade --extension=pg_datasource -n datasource "$1" |
		grep -vE '^(--|\\restrict|\\unrestrict|SELECT pg_catalog\.binary_upgrade_set_(next_|record_init_privs)|SET relfrozenxid|WHERE oid = '"'"'[0-9]+'"'"';$|SELECT pg_catalog\.setval\()' |
		grep -vE ' TO upgrade_(deployer|auditor);$' |
		sed -E "/binary_upgrade_create_empty_extension/s/'\{[0-9,]*\}'/'{OIDS}'/" |
		grep -v '^$' | sort
}
schema upgraded >"$W/schema.upgraded"
schema fresh >"$W/schema.fresh"
[ "$(grep -c 'CREATE FUNCTION' "$W/schema.fresh")" -ge 30 ]
ok $? "pg_dump prints the definitions of the extension's functions ($(grep -c 'CREATE FUNCTION' "$W/schema.fresh") of them)"
diff "$W/schema.upgraded" "$W/schema.fresh" >"$W/schema.diff"
ok $? "pg_dump: the updated schema equals a fresh install's (objects, definitions, labels, comments)"
[ -s "$W/schema.diff" ] && diag "$(head -n 40 "$W/schema.diff")"

# catalog DB : per member of the extension (and its schema): the ACL, the
# initial privileges (both with NULL as the default ACL they stand for),
# comments of the object and its columns; then the configuration tables
CATALOG_SQL="
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'pg_datasource'),
m AS (SELECT d.classid, d.objid FROM pg_depend d, ext
       WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
      UNION SELECT 'pg_namespace'::regclass, 'datasource'::regnamespace),
a AS (
  SELECT m.classid, m.objid, o.acl, o.def
  FROM m, LATERAL (
    SELECT relacl, acldefault(CASE relkind WHEN 'S' THEN 's' ELSE 'r' END::\"char\", relowner) FROM pg_class WHERE m.classid = 'pg_class'::regclass AND oid = m.objid
    UNION ALL SELECT proacl, acldefault('f'::\"char\", proowner) FROM pg_proc WHERE m.classid = 'pg_proc'::regclass AND oid = m.objid
    UNION ALL SELECT typacl, acldefault('T'::\"char\", typowner) FROM pg_type WHERE m.classid = 'pg_type'::regclass AND oid = m.objid
    UNION ALL SELECT nspacl, acldefault('n'::\"char\", nspowner) FROM pg_namespace WHERE m.classid = 'pg_namespace'::regclass AND oid = m.objid
    UNION ALL SELECT fdwacl, acldefault('F'::\"char\", fdwowner) FROM pg_foreign_data_wrapper WHERE m.classid = 'pg_foreign_data_wrapper'::regclass AND oid = m.objid
    UNION ALL SELECT NULL::aclitem[], NULL::aclitem[] WHERE m.classid NOT IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass,
                                                       'pg_namespace'::regclass, 'pg_foreign_data_wrapper'::regclass)
  ) AS o (acl, def))
SELECT pg_describe_object(a.classid, a.objid, 0)
       || ' | acl ' || coalesce(array(SELECT x::text FROM unnest(coalesce(a.acl, a.def)) x ORDER BY 1)::text, '-')
       || ' | initial ' || coalesce(array(SELECT x::text FROM unnest(coalesce(
              (SELECT initprivs FROM pg_init_privs i WHERE i.objoid = a.objid AND i.classoid = a.classid AND i.objsubid = 0),
              a.def)) x ORDER BY 1)::text, '-')
FROM a
UNION ALL
SELECT 'comment on ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': ' || d.description
FROM pg_description d JOIN m ON m.classid = d.classoid AND m.objid = d.objoid
UNION ALL
SELECT 'initial privileges of ' || pg_describe_object(i.classoid, i.objoid, i.objsubid) || ': ' || i.initprivs::text
FROM pg_init_privs i JOIN m ON m.classid = i.classoid AND m.objid = i.objoid WHERE i.objsubid <> 0
UNION ALL
SELECT 'configuration table ' || c::regclass::text || ' ' || cond
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(c, cond) WHERE e.extname = 'pg_datasource'
UNION ALL
SELECT 'extension ' || extname || ' ' || extversion || ' ' || extrelocatable || ' ' || extnamespace::regnamespace::text
FROM pg_extension WHERE extname = 'pg_datasource'
ORDER BY 1"
"${PSQL[@]}" -d upgraded -c "$CATALOG_SQL" >"$W/catalog.upgraded"
"${PSQL[@]}" -d fresh -c "$CATALOG_SQL" >"$W/catalog.fresh"
# the administrator's grants are the one intended difference
sed -E 's/,upgrade_(deployer|auditor)=[^,}]*//g' "$W/catalog.upgraded" >"$W/catalog.upgraded.own"
diff "$W/catalog.upgraded.own" "$W/catalog.fresh" >"$W/catalog.diff"
ok $? "catalogs: privileges, initial privileges, comments and configuration tables equal a fresh install's"
[ -s "$W/catalog.diff" ] && diag "$(head -n 40 "$W/catalog.diff")"
is "$(grep -c 'upgrade_deployer\|upgrade_auditor' "$W/catalog.upgraded")" "3" \
	"the administrator's grants are still there (EXECUTE on migrate, SELECT on both journals)"
is "$(grep 'upgrade_' "$W/catalog.upgraded" | grep -c 'initial.*upgrade_')" "0" \
	"the update did not make them initial privileges of the extension"
is "$(grants)" "$grants_before" "pg_dump of the updated database still shows the administrator's grants"

# --- the data survived
is "$(q -c "$DATA_SQL")" "$before" \
	"the registry, journals, snapshots, sequences and the logical databases' rows are unchanged"
is "$("${RPSQL[@]}" -d upgrade_far -c "SELECT string_agg(id || ':' || body, ',') FROM far_db.notes")" "1:kept remotely" \
	"the remote logical database's rows are unchanged"

# --- functions work after the update
# version 3 failed under 0.1.0: the order rule keeps 4 out until told
q -c "SELECT status FROM datasource.migrate('shop', '4', 'ALTER TABLE items ADD COLUMN stock int;')" >/dev/null 2>&1
is "$(q -c "SELECT count(*) FROM datasource.migrations WHERE database = 'shop' AND version = '4'")" "0" \
	"migrate refuses version 4 where 3 failed under 0.1.0 (the order rule reads the old journal)"
is "$(q -c "SELECT status FROM datasource.migrate_all('4', 'ALTER TABLE items ADD COLUMN stock int;', ARRAY['shop'], out_of_order => true)")" "applied" \
	"migrate_all (out_of_order) applies a new version"
is "$(q -c "SELECT status FROM datasource.migrate('shop', '2', 'ALTER TABLE items ADD COLUMN price numeric(10,2);', 'prices')")" \
	"already_applied" "migrate knows a version that 0.1.0 applied"
is "$(q -c "SELECT id > (SELECT max(id) FROM datasource.migrations WHERE version <> '4')
              FROM datasource.migrations WHERE database = 'shop' AND version = '4'")" "t" \
	"the journal's sequence went on"
is "$(q -c "SELECT string_agg(c->>'name', ',') FROM jsonb_array_elements(datasource.describe('shop')->'tables'->'items'->'columns') c")" \
	"id,name,price,stock" "describe reads the migrated schema"
is "$(q -c "SELECT string_agg(name || '=' || price, ',' ORDER BY id)
              FROM datasource.query('shop', 'SELECT id, name, price FROM items') AS t(id int, name text, price numeric)")" \
	"pen=1.50,ink=7.25" "query routes to a local logical database"
is "$(q -c "SELECT body FROM datasource.query('far_db', 'SELECT body FROM notes WHERE id = \$1', ARRAY['1']) AS t(body text)")" \
	"kept remotely" "query routes to the remote logical database"
is "$(q -c "SELECT status FROM datasource.migrate('far_db', '2', 'ALTER TABLE notes ADD COLUMN at timestamptz;')")" \
	"applied" "migrate applies a version on the remote"
is "$(q -c "SELECT valid || ' ' || datasource FROM datasource.validate('SELECT * FROM items', 'shop', true)")" \
	"true local" "validate works"
q -c "CREATE INDEX items_price ON shop.items (price)" >/dev/null
is "$(q -c "SELECT string_agg(object_name, ',' ORDER BY object_name) FROM datasource.drift('shop') WHERE source = 'ddl_log'")" \
	"shop.items_price" "the DDL log journals DDL again, and drift reports it"
is "$(q -c "SELECT string_agg(version || ':' || state, ',') FROM datasource.pending('shop', '[{\"version\": \"1\"}, {\"version\": \"5\"}]')")" \
	"1:applied,5:missing,2:unknown,4:unknown" "pending compares with the journal 0.1.0 started"
is "$(q -c "SELECT string_agg(datasource || ':' || healthy, ',' ORDER BY datasource) FROM datasource.health_check()")" \
	"far:true,local:true" "health_check reaches both datasources"

# --- the install script sets privileges at its end
# A copy of the install script with a function added after the validation
# section, after the connection functions and just before the privileges:
# none of them may become executable by PUBLIC.
awk '
	function probe(n) {
		printf "CREATE FUNCTION datasource.probe_%d()\nRETURNS int\nLANGUAGE sql IMMUTABLE PARALLEL SAFE\n", n
		printf "SET search_path = pg_catalog, pg_temp\nAS $$ SELECT %d $$;\n\n", n
	}
	/^\/\* -+ privileges \*\/$/ { probe(3) }
	{ print }
	after != "" && /;$/ { print ""; probe(after); after = "" }
	/^COMMENT ON FUNCTION datasource\.validate\(text, text, boolean\) IS$/ { after = 1 }
	/^COMMENT ON FUNCTION datasource\.disconnect\(text\) IS$/ { after = 2 }
' "$ROOT/sql/pg_datasource--$NEW_VERSION.sql" >"$EXT/pg_datasource--probe.sql"
"${PSQL[@]}" -d postgres -c "CREATE DATABASE probe" >/dev/null
"${PSQL[@]}" -d probe -c "CREATE EXTENSION pg_datasource VERSION 'probe'" >/dev/null
is "$("${PSQL[@]}" -d probe -c "SELECT count(*) || ' ' || count(*) FILTER (WHERE has_function_privilege('public', oid, 'EXECUTE'))
                                  FROM pg_proc WHERE pronamespace = 'datasource'::regnamespace AND proname LIKE 'probe\_%'")" \
	"3 0" "a function added to the install script without a GRANT is not executable by PUBLIC, wherever it is added"

# labels : the CREATE FUNCTIONs of a script whose header lacks a line
# "LANGUAGE x VOLATILITY [STRICT] PARALLEL LABEL"
labels() {
	awk '
		/^CREATE (OR REPLACE )?FUNCTION / { name = $0; sub(/^CREATE (OR REPLACE )?FUNCTION /, "", name); sub(/\(.*/, "", name); hdr = 1; good = 0 }
		hdr && /^LANGUAGE [A-Za-z]+ (VOLATILE|STABLE|IMMUTABLE)( STRICT)? PARALLEL (SAFE|RESTRICTED|UNSAFE);?$/ { good = 1 }
		hdr && (/^AS \$/ || /;$/) { if (!good) print name; hdr = 0 }
	' "$1" | sort -u | tr '\n' ' '
}
is "$(labels "$ROOT/sql/pg_datasource--$NEW_VERSION.sql")" "" \
	"every function of the install script states its volatility and PARALLEL label"
is "$(labels "$ROOT/sql/pg_datasource--0.1.0--$NEW_VERSION.sql")" "" \
	"every function of the upgrade script states its volatility and PARALLEL label"

done_testing
