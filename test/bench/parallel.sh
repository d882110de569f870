#!/usr/bin/env bash
# test/bench/parallel.sh - what migrate_waves' parallel buys: the same wave
# with parallel 1 (the calling backend alone), 2 and 4 background workers,
# as ratios to parallel 1 in the same run, on throwaway servers (127.0.0.1).
#   local:  TENANTS local logical databases (schemas t0001.., each with
#           items(id int primary key, v text) and ROWS rows, as in
#           migrate.sh part a), one migration "ALTER TABLE items ADD COLUMN
#           note text; CREATE INDEX ON items (note);" in one wave
#           (wave_size => TENANTS).
#   remote: RTENANTS logical databases spread over REMOTES remote servers
#           (one database each, the same items tables), the same migration.
# Each run starts from fresh copies (CREATE DATABASE ... TEMPLATE) of the
# control plane database and of the remote databases; ROUNDS interleaved
# rounds; the CALL's time is psql's \timing; median ms (min, max) and the
# ratio of the medians to parallel 1's.  Nothing is asserted.
# Usage: test/bench/parallel.sh
# (ROUNDS=n, default 3; TENANTS=n, default 1000; RTENANTS=n, default 400;
# REMOTES=n, 2 to 4, default 2; ROWS=n, default 100; PARALLEL="1 2 4";
# CASES="local remote".)
# Needs the extension installed (or PGBIN of a private install).
set -euo pipefail
export PGOPTIONS="-c client_min_messages=warning"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/test/lib/cluster.sh"
rounds=${ROUNDS:-3}
tenants=${TENANTS:-1000}
rtenants=${RTENANTS:-400}
remotes=${REMOTES:-2}
rows=${ROWS:-100}
parallel=${PARALLEL:-1 2 4}
cases=${CASES:-local remote}

base=$(cluster_base pgds-parallel)
stop_all() {
	local d
	for d in "$base"/*/; do cluster_stop "${d%/}" >/dev/null 2>&1 || true; done
	rm -rf "$base"
}
trap stop_all EXIT
port=$(free_port 47900)
cluster_init "$base/ctl" "$port" >/dev/null
printf 'max_locks_per_transaction = 256\nmax_worker_processes = 16\n' >>"$base/ctl/postgresql.conf"
cluster_start "$base/ctl"
P=("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$base/ctl" -p "$port" -U postgres)
declare -a RP
rports=()
for r in $(seq 1 "$remotes"); do
	rp=$(free_port $((port + 10 * r)))
	cluster_init "$base/r$r" "$rp" >/dev/null
	cluster_start "$base/r$r"
	rports+=("$rp")
done
rpsql() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$base/r$1" -p "${rports[$(($1 - 1))]}" -U postgres "${@:2}"; }

items_sql() { # FIRST LAST : the items tables of schemas tFIRST..tLAST
	cat <<SQL
DO \$\$
DECLARE
	s text;
BEGIN
	FOR i IN $1..$2 LOOP
		s := format('t%s', lpad(i::text, 4, '0'));
		EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', s);
		EXECUTE format('CREATE TABLE %I.items (id int PRIMARY KEY, v text)', s);
		EXECUTE format('INSERT INTO %I.items SELECT g, %L || g FROM generate_series(1, $rows) g', s, 'value ');
	END LOOP;
END
\$\$;
VACUUM ANALYZE;
SQL
}

# --- the templates: tpl_local (TENANTS local tenants), tpl_remote (the
# control plane of the remote case) and tpl_r on each remote server
"${P[@]}" -d postgres -c "CREATE DATABASE tpl_local" -c "CREATE DATABASE tpl_remote"
{
	echo "CREATE EXTENSION pg_datasource; SET datasource.ddl_log = off;"
	echo "SELECT count(datasource.create_database(format('t%s', lpad(i::text, 4, '0')))) FROM generate_series(1, $tenants) i;"
	items_sql 1 "$tenants"
} | "${P[@]}" -d tpl_local >/dev/null
per=$(((rtenants + remotes - 1) / remotes))
{
	echo "CREATE EXTENSION pg_datasource;"
	for r in $(seq 1 "$remotes"); do
		echo "CREATE SERVER rs$r FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '${rports[$((r - 1))]}', dbname 'bench_r');"
		echo "CREATE USER MAPPING FOR postgres SERVER rs$r OPTIONS (user 'bench', password 'bench-secret-9');"
		echo "SELECT datasource.create_source('far$r', 'rs$r');"
	done
} | "${P[@]}" -d tpl_remote >/dev/null
for r in $(seq 1 "$remotes"); do
	first=$(((r - 1) * per + 1))
	last=$((r * per < rtenants ? r * per : rtenants))
	rpsql "$r" -d postgres -c "CREATE ROLE bench LOGIN PASSWORD 'bench-secret-9'" -c "CREATE DATABASE tpl_r OWNER bench"
	items_sql "$first" "$last" | sed 's/^VACUUM ANALYZE;$//' | rpsql "$r" -d tpl_r >/dev/null
	rpsql "$r" -d tpl_r -c "DO \$\$ DECLARE s text; BEGIN FOR s IN SELECT nspname FROM pg_namespace WHERE nspname ~ '^t[0-9]+\$' LOOP
	        EXECUTE format('ALTER SCHEMA %I OWNER TO bench', s); EXECUTE format('ALTER TABLE %I.items OWNER TO bench', s); END LOOP; END \$\$" \
		-c "CREATE DATABASE bench_r TEMPLATE tpl_r OWNER bench" >/dev/null
	"${P[@]}" -d tpl_remote -c "SELECT count(datasource.create_database(format('t%s', lpad(i::text, 4, '0')), 'far$r'))
	                              FROM generate_series($first, $last) i" >/dev/null
	rpsql "$r" -d postgres -c "DROP DATABASE bench_r" >/dev/null
done

fresh() { # CASE : fresh copies of its databases
	"${P[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS run" \
		-c "CREATE DATABASE run TEMPLATE tpl_$1 STRATEGY FILE_COPY"
	if [ "$1" = remote ]; then
		for r in $(seq 1 "$remotes"); do
			rpsql "$r" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS bench_r" \
				-c "CREATE DATABASE bench_r TEMPLATE tpl_r OWNER bench STRATEGY FILE_COPY"
		done
	fi
}

script='ALTER TABLE items ADD COLUMN note text; CREATE INDEX ON items (note);'
: >"$base/times"
for round in $(seq 1 "$rounds"); do
	for c in $cases; do
		n=$tenants
		[ "$c" = remote ] && n=$rtenants
		for p in $parallel; do
			fresh "$c"
			out=$("${P[@]}" -d run <<SQL
SELECT datasource.validate_databases(ARRAY['t0001']) IS NOT NULL AS warm \gset
\timing on
CALL datasource.migrate_waves('0001_note', '$script', wave_size => $n, parallel => $p);
\timing off
SQL
)
			res=$(echo "$out" | grep -v '^Time' | tail -n 1)
			if [ "$res" != "1|$n|0|0|0" ]; then
				echo "$c, parallel $p: expected 1|$n|0|0|0, got: $out" >&2
				exit 1
			fi
			echo "$out" | awk -v k="$c:$p" '/^Time: / { print k, $2 }' >>"$base/times"
		done
	done
done
"${P[@]}" -d postgres -c "DROP DATABASE run" >/dev/null

echo "migrate_waves, one wave; $(nproc) cores; rounds $rounds; local: $tenants tenants; remote: $rtenants tenants on $remotes servers"
printf '%-28s %10s %10s %10s %8s\n' case median_ms min_ms max_ms ratio
sort -k1,1 -k2,2g "$base/times" | awk '
	{ v[$1, ++n[$1]] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++m] = $1 } }
	END {
		for (i = 1; i <= m; i++) {
			k = order[i]; c = n[k]
			med[k] = c % 2 ? v[k, (c + 1) / 2] : (v[k, c / 2] + v[k, c / 2 + 1]) / 2
		}
		for (i = 1; i <= m; i++) {
			k = order[i]; split(k, a, ":")
			printf "%-28s %10.0f %10.0f %10.0f %8.2f\n", a[1] ", parallel " a[2], med[k], v[k, 1], v[k, n[k]], med[k] / med[a[1] ":1"]
		}
	}'
