#!/usr/bin/env bash
# test/bench/commit.sh - what datasource.two_phase_commit costs: pgbench
# transactions that each insert one row on two remote datasources (two
# databases of one remote server, so two connections) and one row locally,
# committed with two-phase commit off (the reference) and on, interleaved
# rounds in the same run, on two throwaway servers on 127.0.0.1.  Measured
# twice: with the test servers' fsync = off (the protocol's round trips) and
# with fsync = on, synchronous_commit = on on both (the flushes too: 2PC adds
# a local WAL flush before the first PREPARE, and PREPARE and COMMIT PREPARED
# flush on the remote).  Prints median TPS and the ratio on/off; nothing is
# asserted.
# Usage: test/bench/commit.sh [seconds per pgbench run, default 10]
# (ROUNDS=n interleaved rounds, default 3; CLIENTS=n, default 2; PGBIN and
# PG_CONFIG choose the installation, default Debian's.)
# Needs the extension installed there; run as root (servers run as postgres).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/test/lib/cluster.sh"
secs=${1:-10}
rounds=${ROUNDS:-3}
clients=${CLIENTS:-2}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PG_CONFIG=${PG_CONFIG:-$PGBIN/pg_config}
if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/pg_datasource.control" ]; then
	echo "pg_datasource is not installed for $PG_CONFIG" >&2
	exit 1
fi

base=$(cluster_base pgds-commit-bench)
lport=$(free_port 56100)
rport=$(free_port $((lport + 1)))
cleanup() {
	cluster_stop "$base/local" || true
	cluster_stop "$base/remote" || true
	rm -rf "$base"
}
trap cleanup EXIT
cluster_init "$base/local" "$lport" >/dev/null
cluster_init "$base/remote" "$rport" >/dev/null
cluster_start "$base/local"
cluster_start "$base/remote"
LPSQL=("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$base/local" -p "$lport" -U postgres)
RPSQL=("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$base/remote" -p "$rport" -U postgres)

"${RPSQL[@]}" -d postgres -c "CREATE ROLE bench_owner LOGIN PASSWORD 'bench-pw'" \
	-c "CREATE DATABASE b1 OWNER bench_owner" -c "CREATE DATABASE b2 OWNER bench_owner" >/dev/null
for n in 1 2; do
	"${RPSQL[@]}" -U bench_owner -d b$n -c "CREATE SCHEMA s$n" \
		-c "CREATE TABLE s$n.t (id bigint, at timestamptz DEFAULT now())" >/dev/null
done
"${LPSQL[@]}" -d postgres -c "CREATE DATABASE bench" >/dev/null
"${LPSQL[@]}" -d bench -c "CREATE EXTENSION pg_datasource" \
	-c "CREATE TABLE lt (id bigint, at timestamptz DEFAULT now())" >/dev/null
for n in 1 2; do
	"${LPSQL[@]}" -d bench \
		-c "CREATE SERVER srv$n FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '$rport', dbname 'b$n')" \
		-c "CREATE USER MAPPING FOR postgres SERVER srv$n OPTIONS (user 'bench_owner', password 'bench-pw')" \
		-c "SELECT datasource.create_source('r$n', 'srv$n')" \
		-c "SELECT datasource.create_database('db$n', 'r$n', schema_name => 's$n', create_schema => false)" >/dev/null
done

script=$base/tx.sql
cat >"$script" <<'SQL'
\set id random(1, 1000000000)
BEGIN;
SELECT datasource.exec('db1', 'INSERT INTO t (id) VALUES (' || :id || ')');
SELECT datasource.exec('db2', 'INSERT INTO t (id) VALUES (' || :id || ')');
INSERT INTO lt (id) VALUES (:id);
COMMIT;
SQL

# tps MODE : one pgbench run with two_phase_commit MODE, TPS printed
tps() {
	PGOPTIONS="-c datasource.two_phase_commit=$1" "$PGBIN/pgbench" -n -h "$base/local" -p "$lport" \
		-U postgres -c "$clients" -j "$clients" -T "$secs" -f "$script" bench 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

printf '%-22s %12s %12s %8s\n' "servers" "2PC off tps" "2PC on tps" "on/off"
for durability in off on; do
	if [ "$durability" = on ]; then
		for c in local remote; do
			printf 'fsync = on\nsynchronous_commit = on\n' >>"$base/$c/postgresql.conf"
			cluster_restart "$base/$c"
		done
	fi
	off=()
	on=()
	for r in $(seq "$rounds"); do
		off+=("$(tps off)")
		on+=("$(tps on)")
	done
	moff=$(printf '%s\n' "${off[@]}" | median)
	mon=$(printf '%s\n' "${on[@]}" | median)
	printf '%-22s %12.1f %12.1f %8.2f\n' "fsync=$durability" "$moff" "$mon" \
		"$(awk -v a="$mon" -v b="$moff" 'BEGIN {print a / b}')"
done
left=$("${RPSQL[@]}" -d postgres -c "SELECT count(*) FROM pg_prepared_xacts")
echo "prepared transactions left on the remote: $left"
