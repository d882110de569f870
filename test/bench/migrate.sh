#!/usr/bin/env bash
# test/bench/migrate.sh - what datasource.migrate_all() and migrate() cost,
# as ratios against plain SQL doing the same DDL, measured in the same run on
# one throwaway server on 127.0.0.1 (unix socket, as postgres).
#   a. one migration ("ALTER TABLE items ADD COLUMN note text; CREATE INDEX
#      ON items (note);") over TENANTS local logical databases (schemas
#      t0001.., each with items(id int primary key, v text) and ROWS rows):
#        migrate_all      SELECT ... FROM datasource.migrate_all(...)
#        migrate_all, migration_snapshot = off   the same without recording
#                         each tenant's schema for drift() (described
#                         together at the end, 100 schemas a query)
#        DO loop          the reference: a DO block running the same two
#                         statements in each schema (EXECUTE format('%I'))
#        DO + EXCEPTION   the DO loop with a BEGIN ... EXCEPTION block per
#                         schema (one subtransaction each, as migrate_all)
#        DO, ddl_log off  the DO loop with SET datasource.ddl_log = off (what
#                         the DDL journal of the event trigger costs)
#      Every run starts from the same fresh database: CREATE DATABASE ...
#      TEMPLATE of a prepared one (STRATEGY FILE_COPY), dropped afterwards.
#      ROUNDS interleaved rounds; the statement's time is psql's \timing, in
#      a fresh session after a warm-up call (library and registry cache
#      loaded); median ms and the ratio to the DO loop.  Target <= 1.3.
#      Also from the same runs: the backend's CPU time (user + system,
#      /proc/PID/stat), which a busy machine distorts less than wall time,
#      and each run's wall time over the DO loop's of the same round.
#   b. CALLS sequential migrate() calls (versions v0001.., each CREATE TABLE
#      t_N (id int PRIMARY KEY, v text)) from one psql -f session vs psql -f
#      of the same CALLS CREATE TABLE statements (autocommit, search_path set
#      to the schema); wall time of the psql process, median of ROUNDS
#      interleaved rounds, each on a fresh copy of a database with one
#      logical database app_db.
#   c. backend memory of the migrate_all session (and of its peers, and of
#      the CALLS-migrate session): sum(total_bytes) of
#      pg_backend_memory_contexts, RssAnon and VmHWM of /proc/PID/status,
#      before (after the warm-up) and after the measured statement.
#   d. a no-op run: migrate_all of a version already applied to every one of
#      NOOP_TENANTS logical databases (default 10000, schemas n00001..; the
#      version applied beforehand in waves of 1,000), every row
#      already_applied, nothing run or journaled; what fleet tools report
#      as their worst pain.  Peers: a DO loop asking the journal per
#      logical database whether the version is applied (what a hand-made
#      fleet script does, one query each), and one set-based query counting
#      the logical databases without it (the floor).  One database for all
#      rounds (a no-op changes nothing), after one unmeasured run of each;
#      median ms, microseconds per logical database, backend CPU time and
#      memory, as in a.
# The bench server runs with max_locks_per_transaction = 256 (printed): the
# default 64 cannot hold the locks of DDL on 1,000 tables in one transaction
# (each tenant's table, its new index, ...; the lock table has room for
# max_locks_per_transaction * (max_connections + max_prepared_transactions)
# objects, 3,840 with the defaults of test/lib/cluster.sh), neither for
# migrate_all nor for the DO loop.  Nothing is asserted; targets are printed
# next to the ratios.
# Usage: test/bench/migrate.sh
# (ROUNDS=n rounds, default 5; TENANTS=n, default 1000; ROWS=n rows per
# tenant, default 100; CALLS=n, default 500; NOOP_TENANTS=n, default 10000;
# PARTS="a b d", default all of them; BENCH_BASE=DIR and BENCH_PORT=n
# put the cluster in DIR/bench on that port instead of a temp dir and a free
# port; DIR is removed at exit.)  Needs the extension installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/test/lib/cluster.sh"
rounds=${ROUNDS:-5}
tenants=${TENANTS:-1000}
rows=${ROWS:-100}
calls=${CALLS:-500}
noop_tenants=${NOOP_TENANTS:-10000}
parts=" ${PARTS:-a b d} "
part() { [[ $parts == *" $1 "* ]]; }
max_locks=256

if [ -n "${BENCH_BASE:-}" ]; then
	base=$BENCH_BASE
	mkdir -p "$base"
	chmod 755 "$base"
else
	base=$(cluster_base pgds-migrate)
fi
trap 'cluster_stop "$base/bench" >/dev/null 2>&1; rm -rf "$base"' EXIT
port=${BENCH_PORT:-$(free_port 47800)}
cluster_init "$base/bench" "$port" >/dev/null
printf 'max_locks_per_transaction = %s\n' "$max_locks" >>"$base/bench/postgresql.conf"
cluster_start "$base/bench"
P=("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$base/bench" -p "$port" -U postgres)

# the template of part a: TENANTS logical databases with their items
"${P[@]}" -d postgres -c "CREATE DATABASE tpl_tenants" -c "CREATE DATABASE tpl_app"
part a || tenants=0
"${P[@]}" -d tpl_tenants -v tenants="$tenants" -v rows="$rows" >/dev/null <<'SQL'
CREATE EXTENSION pg_datasource;
SET datasource.ddl_log = off;
SELECT set_config('bench.tenants', :'tenants', false), set_config('bench.rows', :'rows', false);
DO $$
DECLARE
	s text;
BEGIN
	FOR i IN 1..current_setting('bench.tenants')::int LOOP
		s := format('t%s', lpad(i::text, 4, '0'));
		PERFORM datasource.create_database(s);
		EXECUTE format('CREATE TABLE %I.items (id int PRIMARY KEY, v text)', s);
		EXECUTE format('INSERT INTO %I.items SELECT g, %L || g FROM generate_series(1, %s) g',
		               s, 'value ', current_setting('bench.rows')::int);
	END LOOP;
END
$$;
VACUUM ANALYZE;
SQL
"${P[@]}" -d tpl_app >/dev/null <<'SQL'
CREATE EXTENSION pg_datasource;
SELECT datasource.create_database('app_db');
SQL
got=$("${P[@]}" -d tpl_tenants -c "SELECT count(*) || ' ' || (SELECT count(*) FROM datasource.ddl_log) FROM datasource.databases")
if [ "$got" != "$tenants 0" ]; then
	echo "template setup: expected $tenants logical databases and an empty ddl_log, got: $got" >&2
	exit 1
fi

fresh() { # NAME TEMPLATE : a fresh copy of the template
	"${P[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" \
		-c "CREATE DATABASE $1 TEMPLATE $2 STRATEGY FILE_COPY"
}
drop() { "${P[@]}" -d postgres -c "DROP DATABASE $1"; }

median_table() { # FILE: lines "key value" -> prints "key median min max" per key
	sort -k1,1 -k2,2g "$1" | awk '
		{ v[$1, ++n[$1]] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++m] = $1 } }
		END { for (i = 1; i <= m; i++) { k = order[i]; c = n[k];
			printf "%s %s %s %s\n", k, c % 2 ? v[k, (c + 1) / 2] : (v[k, c / 2] + v[k, c / 2 + 1]) / 2,
				v[k, 1], v[k, c] } }'
}

# memory probe lines for a psql script: "mem ctx BYTES", "mem RssAnon: KB", "mem VmHWM: KB",
# and the backend's CPU time so far: "cpu TICKS" (user + system, from /proc/PID/stat)
probe() {
	echo "SELECT 'mem ctx ' || sum(total_bytes) FROM pg_backend_memory_contexts;"
	echo "\\! awk '/^(RssAnon|VmHWM):/ { print \"mem\", \$1, \$2 }' /proc/\$P/status"
	echo "\\! awk '{ print \"cpu\", \$14 + \$15 }' /proc/\$P/stat"
}

# --- a. migrate_all over TENANTS schemas vs a DO loop
script='ALTER TABLE items ADD COLUMN note text; CREATE INDEX ON items (note);'
peers_a=(migrate_all migrate_nosnap do_loop do_exception do_nolog)
declare -A stmt_a label
stmt_a[migrate_all]="SELECT 'result ' || count(*) FILTER (WHERE status = 'applied') FROM datasource.migrate_all('0001_note', '$script');"
do_body() { # EXTRA-BEFORE EXTRA-AFTER
	cat <<SQL
DO \$\$
DECLARE
	s text;
BEGIN
	FOR s IN SELECT schema_name FROM datasource.databases ORDER BY name LOOP
		$1
		EXECUTE format('ALTER TABLE %I.items ADD COLUMN note text', s);
		EXECUTE format('CREATE INDEX ON %I.items (note)', s);
		$2
	END LOOP;
END
\$\$;
SQL
}
stmt_a[do_loop]=$(do_body '' '')
stmt_a[do_exception]=$(do_body 'BEGIN' 'EXCEPTION WHEN OTHERS THEN RAISE WARNING '"'%'"', SQLERRM; END;')
stmt_a[do_nolog]=$(do_body '' '')
stmt_a[migrate_nosnap]=${stmt_a[migrate_all]}
declare -A pre_a=([do_nolog]='SET datasource.ddl_log = off;' [migrate_nosnap]='SET datasource.migration_snapshot = off;')
label[migrate_all]='migrate_all()'
label[migrate_nosnap]='migrate_all(), migration_snapshot = off'
label[do_loop]='DO loop (reference)'
label[do_exception]='DO loop + EXCEPTION per schema'
label[do_nolog]='DO loop, datasource.ddl_log = off'
check_a="SELECT 'check ' || count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           WHERE c.relname = 'items' AND a.attname = 'note' AND NOT a.attisdropped;
         SELECT 'indexes ' || count(*) FROM pg_indexes WHERE indexname = 'items_note_idx';"

: >"$base/a.times"
: >"$base/a.mem"
clk_tck=$(getconf CLK_TCK)
: >"$base/a.rounds"
for round in $(part a && seq 1 "$rounds"); do
	for p in "${peers_a[@]}"; do
		fresh run_a tpl_tenants
		{
			echo "SELECT datasource.validate_databases(ARRAY['t0001']) IS NOT NULL AS warm \\gset"
			echo 'SELECT pg_backend_pid() AS pid \gset'
			echo '\setenv P :pid'
			echo "${pre_a[$p]:-}"
			probe
			echo '\timing on'
			echo "${stmt_a[$p]}"
			echo '\timing off'
			probe
			echo "$check_a"
		} >"$base/a.sql"
		if ! out=$("${P[@]}" -d run_a -f "$base/a.sql" 2>"$base/a.err"); then
			echo "part a, $p failed:" >&2
			tail -n 5 "$base/a.err" >&2
			exit 1
		fi
		checks=$(sed -n 's/^\(check\|indexes\) //p' <<<"$out" | tr '\n' ' ')
		if [ "$checks" != "$tenants $tenants " ] ||
			{ [ "$p" = migrate_all ] && [ "$(sed -n 's/^result //p' <<<"$out")" != "$tenants" ]; }; then
			echo "part a, $p: the migration did not reach every tenant:" >&2
			echo "$out" | tail -n 5 >&2
			tail -n 5 "$base/a.err" >&2
			exit 1
		fi
		awk -v p="$p" '/^Time: / { print p, $2 }' <<<"$out" >>"$base/a.times"
		awk -v p="$p" -v r="$round" -v hz="$clk_tck" '/^Time: / { t = $2 } $1 == "cpu" { c[++n] = $2 }
			END { printf "%s %d %s %.0f\n", p, r, t, (c[2] - c[1]) * 1000 / hz }' <<<"$out" >>"$base/a.rounds"
		awk -v p="$p" '$1 == "mem" { v[$2, ++n[$2]] = $3 }
			END { printf "%s %s %s %s %s %s %s\n", p, v["ctx", 1], v["ctx", 2],
				v["RssAnon:", 1], v["RssAnon:", 2], v["VmHWM:", 1], v["VmHWM:", 2] }' <<<"$out" >>"$base/a.mem"
		drop run_a
	done
done
median_table "$base/a.times" >"$base/a.med"
awk '{ print $1, $4 }' "$base/a.rounds" >"$base/a.cpu"
median_table "$base/a.cpu" >"$base/a.cpumed"
# per round: each peer's wall time over the DO loop's of the same round
awk '{ t[$2, $1] = $3; if (!($1 in seen)) { seen[$1] = 1; order[++m] = $1 } if ($2 > r) r = $2 }
	END { for (i = 1; i <= m; i++) for (k = 1; k <= r; k++) if (t[k, "do_loop"] > 0)
		print order[i], t[k, order[i]] / t[k, "do_loop"] }' "$base/a.rounds" >"$base/a.pair"
median_table "$base/a.pair" >"$base/a.pairmed"

# --- b. CALLS migrate() calls vs psql -f of the same DDL
{
	echo 'SELECT pg_backend_pid() AS pid \gset'
	echo '\setenv P :pid'
	probe
	for i in $(seq 1 "$calls"); do
		printf "SELECT status FROM datasource.migrate('app_db', 'v%04d', 'CREATE TABLE t_%d (id int PRIMARY KEY, v text)');\n" "$i" "$i"
	done
	probe
} >"$base/b_migrate.sql"
{
	echo 'SELECT pg_backend_pid() AS pid \gset'
	echo '\setenv P :pid'
	probe
	echo 'SET search_path = app_db;'
	for i in $(seq 1 "$calls"); do
		printf 'CREATE TABLE t_%d (id int PRIMARY KEY, v text);\n' "$i"
	done
	probe
} >"$base/b_plain.sql"
peers_b=(migrate plain)
label[migrate]="$calls x migrate()"
label[plain]="psql -f, $calls CREATE TABLE"
: >"$base/b.times"
: >"$base/b.mem"
for _ in $(part b && seq 1 "$rounds"); do
	for p in "${peers_b[@]}"; do
		fresh run_b tpl_app
		t0=$(date +%s%N)
		if ! out=$("${P[@]}" -d run_b -f "$base/b_$p.sql" 2>"$base/b.err"); then
			echo "part b, $p failed:" >&2
			tail -n 5 "$base/b.err" >&2
			exit 1
		fi
		t1=$(date +%s%N)
		n=$("${P[@]}" -d run_b -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'app_db'")
		if [ "$n" != "$calls" ] ||
			{ [ "$p" = migrate ] && [ "$(grep -c '^applied$' <<<"$out")" != "$calls" ]; }; then
			echo "part b, $p: expected $calls tables, got $n" >&2
			tail -n 5 "$base/b.err" >&2
			exit 1
		fi
		echo "$p $(((t1 - t0) / 1000)) " | awk '{ printf "%s %.1f\n", $1, $2 / 1000 }' >>"$base/b.times"
		awk -v p="$p" '$1 == "mem" { v[$2, ++n[$2]] = $3 }
			END { printf "%s %s %s %s %s %s %s\n", p, v["ctx", 1], v["ctx", 2],
				v["RssAnon:", 1], v["RssAnon:", 2], v["VmHWM:", 1], v["VmHWM:", 2] }' <<<"$out" >>"$base/b.mem"
		drop run_b
	done
done
median_table "$base/b.times" >"$base/b.med"

# --- d. a no-op run over NOOP_TENANTS logical databases
noop_script='CREATE TABLE noop (id int)'
peers_d=(noop_migrate_all noop_do_loop noop_set)
label[noop_migrate_all]='migrate_all(), every one already_applied'
label[noop_do_loop]='DO loop: one journal query per logical database'
label[noop_set]='one query: the logical databases without the version'
declare -A stmt_d
stmt_d[noop_migrate_all]="SELECT 'result ' || count(*) FILTER (WHERE status = 'already_applied') FROM datasource.migrate_all('0001_noop', '$noop_script');"
stmt_d[noop_do_loop]="DO \$\$
DECLARE
	s text;
	n int := 0;
BEGIN
	FOR s IN SELECT name FROM datasource.databases ORDER BY name LOOP
		PERFORM 1 FROM datasource.migrations
		  WHERE database = s AND version = '0001_noop' AND status = 'applied';
		IF FOUND THEN
			n := n + 1;
		END IF;
	END LOOP;
	PERFORM set_config('bench.result', n::text, false);
END
\$\$;"
declare -A post_d=([noop_do_loop]="SELECT 'result ' || current_setting('bench.result');")
stmt_d[noop_set]="SELECT 'result ' || (SELECT count(*) FROM datasource.databases)
	- count(*) FROM datasource.databases d WHERE NOT EXISTS (SELECT 1 FROM datasource.migrations m
	  WHERE m.database = d.name AND m.version = '0001_noop' AND m.status = 'applied');"
: >"$base/d.rounds"
: >"$base/d.mem"
if part d; then
	"${P[@]}" -d postgres -c "CREATE DATABASE run_d"
	"${P[@]}" -d run_d -v tenants="$noop_tenants" >/dev/null <<'SQL'
CREATE EXTENSION pg_datasource;
SET datasource.ddl_log = off;
SELECT set_config('bench.tenants', :'tenants', false);
DO $$
BEGIN
	FOR i IN 1..current_setting('bench.tenants')::int LOOP
		PERFORM datasource.create_database(format('n%s', lpad(i::text, 5, '0')));
	END LOOP;
END
$$;
SQL
	# the version applied everywhere, in waves of 1,000 (one transaction each)
	for first in $(seq 1 1000 "$noop_tenants"); do
		"${P[@]}" -d run_d -c "SET datasource.ddl_log = off" -c "SET client_min_messages = warning" \
			-c "SELECT count(*) FROM datasource.migrate_all('0001_noop', '$noop_script',
			      (SELECT array_agg(format('n%s', lpad(g::text, 5, '0')))
			         FROM generate_series($first, least($first + 999, $noop_tenants)) g))" >/dev/null
	done
	"${P[@]}" -d run_d -c "VACUUM ANALYZE" >/dev/null
	got=$("${P[@]}" -d run_d -c "SELECT count(*) FROM datasource.migrations WHERE version = '0001_noop' AND status = 'applied'")
	if [ "$got" != "$noop_tenants" ]; then
		echo "part d setup: expected $noop_tenants applied rows, got $got" >&2
		exit 1
	fi
	for round in $(seq 0 "$rounds"); do
		for p in "${peers_d[@]}"; do
			{
				echo "SET client_min_messages = warning;"
				echo "SELECT datasource.validate_databases(ARRAY['n00001']) IS NOT NULL AS warm \\gset"
				echo 'SELECT pg_backend_pid() AS pid \gset'
				echo '\setenv P :pid'
				probe
				echo '\timing on'
				echo "${stmt_d[$p]}"
				echo '\timing off'
				probe
				echo "${post_d[$p]:-}"
			} >"$base/d.sql"
			if ! out=$("${P[@]}" -d run_d -f "$base/d.sql" 2>"$base/d.err"); then
				echo "part d, $p failed:" >&2
				tail -n 5 "$base/d.err" >&2
				exit 1
			fi
			if [ "$(sed -n 's/^result //p' <<<"$out")" != "$noop_tenants" ]; then
				echo "part d, $p: expected $noop_tenants logical databases with the version, got:" >&2
				echo "$out" | tail -n 5 >&2
				exit 1
			fi
			# round 0 warms up (hint bits, caches): not counted
			[ "$round" = 0 ] && continue
			awk -v p="$p" -v r="$round" -v hz="$clk_tck" '/^Time: / { t = $2 } $1 == "cpu" { c[++n] = $2 }
				END { printf "%s %d %s %.0f\n", p, r, t, (c[2] - c[1]) * 1000 / hz }' <<<"$out" >>"$base/d.rounds"
			awk -v p="$p" '$1 == "mem" { v[$2, ++n[$2]] = $3 }
				END { printf "%s %s %s %s %s %s %s\n", p, v["ctx", 1], v["ctx", 2],
					v["RssAnon:", 1], v["RssAnon:", 2], v["VmHWM:", 1], v["VmHWM:", 2] }' <<<"$out" >>"$base/d.mem"
		done
	done
fi
awk '{ print $1, $3 }' "$base/d.rounds" >"$base/d.times"
median_table "$base/d.times" >"$base/d.med"
awk '{ print $1, $4 }' "$base/d.rounds" >"$base/d.cpu"
median_table "$base/d.cpu" >"$base/d.cpumed"

# --- the report
echo "server: PostgreSQL $("${P[@]}" -d postgres -c 'SHOW server_version'), max_locks_per_transaction = $("${P[@]}" -d postgres -c 'SHOW max_locks_per_transaction')" \
	"(raised from 64 for DDL on $tenants tables in one transaction), shared_buffers = $("${P[@]}" -d postgres -c 'SHOW shared_buffers')," \
	"fsync = off; $rounds interleaved rounds, fresh database per run"
echo
echo "| benchmark | peer | median ms | min - max ms | ratio | target |"
echo "|---|---|---:|---:|---:|---|"
for p in $(part a && echo "${peers_a[@]}"); do
	awk -v p="$p" -v l="${label[$p]}" -v t="$tenants" -v r="$rows" '
		$1 == "do_loop" { base = $2 } $1 == p { v = $2; lo = $3; hi = $4 }
		END { printf "| a. one migration over %d schemas (%d rows each) | %s | %.1f | %.0f - %.0f | %.3f | %s |\n", t, r, l, v, lo, hi,
			base ? v / base : 0, p == "migrate_all" ? "<= 1.3" : "" }' "$base/a.med"
done
for p in $(part b && echo "${peers_b[@]}"); do
	awk -v p="$p" -v l="${label[$p]}" -v c="$calls" '
		$1 == "plain" { base = $2 } $1 == p { v = $2; lo = $3; hi = $4 }
		END { printf "| b. %d sequential migrations, one session | %s | %.1f | %.0f - %.0f | %.3f | %s |\n", c, l, v, lo, hi,
			base ? v / base : 0, p == "migrate" ? "(reported)" : "" }' "$base/b.med"
done
for p in $(part d && echo "${peers_d[@]}"); do
	awk -v p="$p" -v l="${label[$p]}" -v t="$noop_tenants" '
		$1 == "noop_do_loop" { base = $2 } $1 == p { v = $2; lo = $3; hi = $4 }
		END { printf "| d. no-op run over %d logical databases | %s | %.1f | %.0f - %.0f | %.3f | %s |\n", t, l, v, lo, hi,
			base ? v / base : 0, p == "noop_migrate_all" ? "(reported)" : "" }' "$base/d.med"
done

if part d; then
	echo
	echo "Part d per logical database (median wall and backend CPU time over $noop_tenants):"
	echo
	echo "| peer | wall us per database | CPU us per database | CPU ratio to the DO loop |"
	echo "|---|---:|---:|---:|"
	for p in "${peers_d[@]}"; do
		awk -v p="$p" -v l="${label[$p]}" -v t="$noop_tenants" '
			FILENAME ~ /d.med$/ && $1 == p { w = $2 }
			FILENAME ~ /cpumed$/ && $1 == "noop_do_loop" { base = $2 }
			FILENAME ~ /cpumed$/ && $1 == p { c = $2 }
			END { printf "| %s | %.1f | %.1f | %.3f |\n", l, w * 1000 / t, c * 1000 / t, base ? c / base : 0 }' \
			"$base/d.med" "$base/d.cpumed"
	done
fi

part a && {
echo
echo "Part a, the same runs measured two more ways (the machine may be shared: CPU time of the backend"
echo "does not count waits for a CPU; a ratio within one round compares runs made seconds apart):"
echo
echo "| peer | backend CPU median ms | min - max ms | CPU ratio | wall ratio to the same round's DO loop: median | min - max |"
echo "|---|---:|---:|---:|---:|---:|"
for p in "${peers_a[@]}"; do
	awk -v p="$p" -v l="${label[$p]}" '
		FILENAME ~ /cpumed$/ && $1 == "do_loop" { base = $2 }
		FILENAME ~ /cpumed$/ && $1 == p { v = $2; lo = $3; hi = $4 }
		FILENAME ~ /pairmed$/ && $1 == p { pm = $2; plo = $3; phi = $4 }
		END { printf "| %s | %.0f | %.0f - %.0f | %.3f | %.3f | %.3f - %.3f |\n", l, v, lo, hi,
			base ? v / base : 0, pm, plo, phi }' "$base/a.cpumed" "$base/a.pairmed"
done
}

echo
echo "Backend memory of the measured sessions (median over rounds; before = after the warm-up, after = after the measured work):"
echo
echo "| session | contexts before MiB | contexts after MiB | contexts growth MiB | RssAnon before MiB | RssAnon after MiB | RssAnon growth MiB | peak RSS (VmHWM) growth MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
mem_rows() { # FILE PEER LABEL
	awk -v p="$2" '$1 == p { print $2, $3, $4, $5, $6, $7 }' "$1" | awk -v l="$3" '
		{ for (i = 1; i <= 6; i++) c[i, NR] = $i; n = NR }
		function med(i,   k, a, j, t) { # median of column i
			for (k = 1; k <= n; k++) a[k] = c[i, k]
			for (k = 1; k <= n; k++) for (j = k + 1; j <= n; j++) if (a[j] < a[k]) { t = a[k]; a[k] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		function gmed(i, j,   k, a, m, t) { # median of column j - column i
			for (k = 1; k <= n; k++) a[k] = c[j, k] - c[i, k]
			for (k = 1; k <= n; k++) for (m = k + 1; m <= n; m++) if (a[m] < a[k]) { t = a[k]; a[k] = a[m]; a[m] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
		END { printf "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", l,
			med(1) / 1048576, med(2) / 1048576, gmed(1, 2) / 1048576,
			med(3) / 1024, med(4) / 1024, gmed(3, 4) / 1024, gmed(5, 6) / 1024 }'
}
for p in $(part a && echo "${peers_a[@]}"); do mem_rows "$base/a.mem" "$p" "a. ${label[$p]}"; done
for p in $(part b && echo "${peers_b[@]}"); do mem_rows "$base/b.mem" "$p" "b. ${label[$p]}"; done
for p in $(part d && echo "${peers_d[@]}"); do mem_rows "$base/d.mem" "$p" "d. ${label[$p]}"; done

echo
echo "server log: $(grep -cE 'ERROR|FATAL|PANIC|terminated by signal' "$base/bench/server.log" || true) error lines"
