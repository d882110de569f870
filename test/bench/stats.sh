#!/usr/bin/env bash
# test/bench/stats.sh - what the statistics cost: pgbench runs of routed
# point selects (datasource.query on one of 100 local tenants, a primary
# key lookup with a parameter) at 1 and 8 clients, with datasource.stats
# off (the reference) and on, and beside them the same workload with
# pg_stat_statements.track = none and top (datasource.stats off), all
# interleaved in rounds on one throwaway server on 127.0.0.1 that preloads
# both libraries.  Prints the median TPS of each and the ratios; nothing
# is asserted (benchmarks are not tests).
# Usage: test/bench/stats.sh [seconds per pgbench run, default 8]
# (ROUNDS=n interleaved rounds, default 3; PGBIN and PG_CONFIG choose the
# installation, default Debian's.)
# Needs the extension installed there, and pg_stat_statements (contrib);
# run as root (the server runs as postgres).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/test/lib/cluster.sh"
secs=${1:-8}
rounds=${ROUNDS:-3}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PG_CONFIG=${PG_CONFIG:-$PGBIN/pg_config}
if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/pg_datasource.control" ]; then
	echo "pg_datasource is not installed for $PG_CONFIG" >&2
	exit 1
fi

base=$(cluster_base pgds-stats-bench)
port=$(free_port 56300)
cleanup() {
	cluster_stop "$base/local" || true
	rm -rf "$base"
}
trap cleanup EXIT
cluster_init "$base/local" "$port" >/dev/null
cat >>"$base/local/postgresql.conf" <<EOF
shared_preload_libraries = 'pg_datasource, pg_stat_statements'
max_connections = 50
EOF
cluster_start "$base/local"
PSQL=("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$base/local" -p "$port" -U postgres)

"${PSQL[@]}" -d postgres -c "CREATE DATABASE bench" >/dev/null
"${PSQL[@]}" -d bench -c "CREATE EXTENSION pg_datasource" -c "CREATE EXTENSION pg_stat_statements" >/dev/null
"${PSQL[@]}" -d bench >/dev/null <<'SQL'
SELECT count(datasource.create_database(format('t%s', lpad(i::text, 3, '0')))) FROM generate_series(1, 100) i;
DO $$
BEGIN
	FOR i IN 1..100 LOOP
		EXECUTE format('CREATE TABLE %I.items (id int PRIMARY KEY, v text)', format('t%s', lpad(i::text, 3, '0')));
		EXECUTE format('INSERT INTO %I.items SELECT g, md5(g::text) FROM generate_series(1, 1000) g',
					   format('t%s', lpad(i::text, 3, '0')));
	END LOOP;
END $$;
SQL

script=$base/point.sql
cat >"$script" <<'SQL'
\set t random(1, 100)
\set id random(1, 1000)
SELECT * FROM datasource.query('t' || lpad(:t::text, 3, '0'), 'SELECT v FROM items WHERE id = $1', ARRAY[:id::text]) AS r(v text);
SQL

# tps CLIENTS STATS TRACK : one pgbench run, TPS printed
tps() {
	PGOPTIONS="-c datasource.stats=$2 -c pg_stat_statements.track=$3" "$PGBIN/pgbench" -n \
		-h "$base/local" -p "$port" -U postgres -c "$1" -j "$1" -T "$secs" -f "$script" bench 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

declare -A runs
for r in $(seq "$rounds"); do
	for c in 1 8; do
		runs[$c,ref]+="$(tps "$c" off none) "
		runs[$c,stats]+="$(tps "$c" on none) "
		runs[$c,pgss]+="$(tps "$c" off top) "
	done
done

printf '%-8s %14s %14s %10s %16s %10s\n' clients "stats off tps" "stats on tps" "on/off" "pgss top tps" "pgss/off"
for c in 1 8; do
	ref=$(printf '%s\n' ${runs[$c,ref]} | median)
	st=$(printf '%s\n' ${runs[$c,stats]} | median)
	pg=$(printf '%s\n' ${runs[$c,pgss]} | median)
	printf '%-8s %14.1f %14.1f %10s %16.1f %10s\n' "$c" "$ref" "$st" "$(ratio "$st" "$ref")" "$pg" "$(ratio "$pg" "$ref")"
done
echo "(median of $rounds interleaved rounds of ${secs} s; reference: datasource.stats off, pg_stat_statements.track none)"
echo "rows of database_stats: $("${PSQL[@]}" -d bench -c "SELECT count(*) || ', calls ' || sum(calls) FROM datasource.database_stats"),"\
	"of statement_stats: $("${PSQL[@]}" -d bench -c "SELECT count(*) || ', fingerprints ' || count(DISTINCT fingerprint) FROM datasource.statement_stats")"
