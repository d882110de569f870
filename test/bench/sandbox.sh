#!/usr/bin/env bash
# test/bench/sandbox.sh - what the agent sandbox costs a role it
# gates, as ratios against peers measured in the same run on two throwaway
# servers on 127.0.0.1: "local" (database bench: pgbench's tables, scale
# SCALE, registered as the local logical database bench_db on schema public)
# and "remote" (database benchdb: shop.items, 100,000 rows, the logical
# database shop_db).  The roles, each connecting over TCP with a password:
#   nolib       the library not loaded (a reference)
#   loaded      the library loaded by session_preload_libraries, no sandbox
#   sandboxed   datasource.set_sandbox(..., ARRAY['bench_db', 'shop_db'],
#               read_only => true): every gate active
# Measured in ROUNDS rounds; in each, the two peers of a table run at the
# same time for SECS seconds, one pgbench client each, so that the load of
# whatever else runs on the machine falls on both alike; the one started
# first alternates (on two cores the order alone moved a peer by up to 20%).
# The ratio is the geometric mean over the rounds of one round's ratio to
# the peer it is compared with:
#   0. pgbench -S: loaded / nolib (what loading the library costs; no target)
#   1. pgbench -S (built-in select-only script on pgbench_accounts):
#      sandboxed / loaded, target >= 0.97
#   2. routed point selects through datasource.query() on bench_db (local)
#      and on shop_db (remote): sandboxed / loaded, target >= 0.95
# Targets are printed next to the ratios; nothing is asserted.
# Usage: test/bench/sandbox.sh [seconds per pgbench run, default 10]
# (ROUNDS=n rounds, default 6, best even; SCALE=n pgbench scale, default 10;
# PGBIN and PG_CONFIG choose the installation, default Debian's)
# Needs the extension installed there (make install PG_CONFIG=..., or
# a private copy of the installation with the extension in it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/test/lib/cluster.sh"
secs=${1:-10}
rounds=${ROUNDS:-6}
scale=${SCALE:-10}
pw=bench-pw

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PG_CONFIG=${PG_CONFIG:-$PGBIN/pg_config}
sharedir=$("$PG_CONFIG" --sharedir)
if [ ! -f "$sharedir/extension/pg_datasource.control" ]; then
	echo "pg_datasource is not installed in $sharedir: run make install PG_CONFIG=$PG_CONFIG" >&2
	exit 1
fi

base=$(cluster_base pgds-sandbox)
trap 'cluster_stop "$base/local" >/dev/null 2>&1; cluster_stop "$base/remote" >/dev/null 2>&1; rm -rf "$base"' EXIT
lport=$(free_port 47800)
rport=$(free_port 47900)
cluster_init "$base/local" "$lport" >/dev/null
cluster_init "$base/remote" "$rport" >/dev/null
cluster_start "$base/local"
cluster_start "$base/remote"
L=("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$base/local" -p "$lport" -U postgres)
R=("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$base/remote" -p "$rport" -U postgres)
export PGPASSWORD=$pw

# remote: benchdb, owned by bench_owner, shop.items with 100,000 rows
"${R[@]}" -d postgres -c "CREATE ROLE bench_owner LOGIN PASSWORD '$pw'" \
	-c "CREATE DATABASE benchdb OWNER bench_owner"
"${R[@]}" -d benchdb -U bench_owner <<'SQL'
CREATE SCHEMA shop;
CREATE TABLE shop.items (id int PRIMARY KEY, name text, price numeric);
INSERT INTO shop.items SELECT i, 'item ' || i, round((i % 1000) * 1.25 + 0.99, 2)
  FROM generate_series(1, 100000) i;
VACUUM ANALYZE shop.items;
SQL

# local: pgbench's tables in bench, the three roles
"${L[@]}" -d postgres -c "CREATE DATABASE bench" \
	-c "CREATE ROLE nolib LOGIN PASSWORD '$pw'" \
	-c "CREATE ROLE loaded LOGIN PASSWORD '$pw'" \
	-c "CREATE ROLE sandboxed LOGIN PASSWORD '$pw'" \
	-c "ALTER ROLE loaded SET session_preload_libraries = 'pg_datasource'"
"$PGBIN/pgbench" -i -q -s "$scale" -h "$base/local" -p "$lport" -U postgres bench >/dev/null 2>&1
"${L[@]}" -d bench -v rport="$rport" -v pw="$pw" <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION pg_datasource;
CREATE SERVER regional FOREIGN DATA WRAPPER pg_datasource
  OPTIONS (host '127.0.0.1', port :'rport', dbname 'benchdb');
CREATE USER MAPPING FOR PUBLIC SERVER regional OPTIONS (user 'bench_owner', password :'pw');
GRANT USAGE ON FOREIGN SERVER regional TO PUBLIC;
SELECT datasource.create_source('regional', 'regional');
SELECT datasource.create_database('shop_db', 'regional', schema_name => 'shop', create_schema => false);
SELECT datasource.create_database('bench_db', schema_name => 'public', create_schema => false);
GRANT SELECT ON ALL TABLES IN SCHEMA public TO PUBLIC;
SELECT datasource.set_sandbox('sandboxed', ARRAY['bench_db', 'shop_db'], read_only => true);
SQL

conn() { echo "-h 127.0.0.1 -p $lport -U $1 -d bench"; }
cols='AS t(abalance int)'
local_q="SELECT * FROM datasource.query('bench_db', 'SELECT abalance FROM pgbench_accounts WHERE aid = \$1', ARRAY[:aid::text]) $cols"
remote_q="SELECT * FROM datasource.query('shop_db', 'SELECT id, name, price FROM items WHERE id = \$1', ARRAY[:id::text]) AS t(id int, name text, price numeric)"

# every role must see what it is measured on, and the sandbox must be on
for r in nolib loaded sandboxed; do
	# shellcheck disable=SC2046
	got=$("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 $(conn $r) \
		-c "SELECT abalance FROM pgbench_accounts WHERE aid = 7" \
		-c "${local_q//:aid/7}" 2>&1) || true
	[ "$r" = nolib ] || got="$got $("$PGBIN/psql" -X -q -At $(conn $r) -c "${remote_q//:id/4242}" 2>&1)"
	case $r in
		nolib) want='0
0' ;;
		*) want='0
0 4242|item 4242|303.49' ;;
	esac
	if [ "$got" != "$want" ]; then
		echo "role $r cannot run the statements measured:" >&2
		echo "$got" >&2
		exit 1
	fi
done
# shellcheck disable=SC2046
sb=$("$PGBIN/psql" -X -q -At $(conn sandboxed) -c "SELECT sandboxed || ' ' || enforce FROM datasource.session_sandbox()")
if [ "$sb" != "true error" ]; then
	echo "the role sandboxed is not sandboxed: $sb" >&2
	exit 1
fi

median_table() { # FILE: lines "key value" -> prints "key median min max" per key
	sort -k1,1 -k2,2g "$1" | awk '
		{ v[$1, ++n[$1]] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++m] = $1 } }
		END { for (i = 1; i <= m; i++) { k = order[i]; c = n[k];
			printf "%s %s %s %s\n", k, c % 2 ? v[k, (c + 1) / 2] : (v[k, c / 2] + v[k, c / 2 + 1]) / 2,
				v[k, 1], v[k, c] } }'
}
# ratio_stats FILE PEER BASE : the ratios of PEER's TPS to BASE's within
# each round (the i-th line of each is round i), as "geometric-mean lo-hi"
ratio_stats() {
	awk -v p="$2" -v b="$3" '$1 == p { pv[++np] = $2 } $1 == b { bv[++nb] = $2 }
		END { lo = -1; n = 0; sl = 0
			for (i = 1; i <= np && i <= nb; i++) { if (!bv[i] || !pv[i]) continue; r = pv[i] / bv[i]
				n++; sl += log(r); if (lo < 0 || r < lo) lo = r; if (r > hi) hi = r }
			printf "%.3f %.3f-%.3f", n ? exp(sl / n) : 0, lo < 0 ? 0 : lo, hi }' "$1"
}
# tps NAME ROLE PGBENCH-ARGS... : one pgbench run of 1 client, prints its
# TPS (0 on failure)
tps() {
	local name=$1 role=$2 out
	shift 2
	# shellcheck disable=SC2046
	if out=$("$PGBIN/pgbench" -n -T "$secs" -c 1 -j 1 "$@" $(conn "$role") 2>"$base/$name.err") &&
		grep -q '^tps = ' <<<"$out" && ! grep -q 'aborted' <<<"$out"; then
		sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out"
	else
		echo "pgbench for $name failed:" >&2
		tail -n 5 "$base/$name.err" >&2
		echo 0
	fi
}
# together FILE KEY ROLE ARGS [KEY ROLE ARGS]... : the runs at the same
# time, so that whatever else loads the machine loads each of them alike;
# appends "KEY TPS" to FILE for each
together() {
	local file=$1 key pids=() keys=()
	shift
	while [ $# -gt 0 ]; do
		# shellcheck disable=SC2086
		tps "$1" "$2" $3 >"$base/$1.tps" &
		pids+=($!)
		keys+=("$1")
		shift 3
	done
	wait "${pids[@]}"
	for key in "${keys[@]}"; do
		echo "$key $(cat "$base/$key.tps")" >>"$file"
	done
}
printf '\\set aid random(1, 100000 * %d)\n%s;\n' "$scale" "$local_q" >"$base/local.pgb"
printf '\\set id random(1, 100000)\n%s;\n' "$remote_q" >"$base/remote.pgb"

# table FILE TITLE BASE TARGET-PEER TARGET KEY=LABEL... : FILE as a table
table() {
	local file=$1 title=$2 basepeer=$3 tpeer=$4 target=$5 kv k
	shift 5
	echo "== $title"
	printf '%-40s | %9s | %13s | %6s | %13s | %s\n' peer 'median TPS' 'TPS range' ratio 'ratio range' target
	median_table "$file" >"$file.med"
	for kv in "$@"; do
		k=${kv%%=*}
		awk -v k="$k" -v l="${kv#*=}" -v rs="$(ratio_stats "$file" "$k" "$basepeer")" \
			-v t="$([ "$k" = "$tpeer" ] && echo "$target")" '
			$1 == k { v = $2; lo = $3; hi = $4 }
			END { split(rs, r, " "); printf "%-40s | %9.0f | %6.0f-%-6.0f | %6.3f | %13s | %s\n", l, v, lo, hi,
				r[1], r[2], t }' "$file.med"
	done
	echo
}

echo "sandbox benchmark: $rounds rounds; in each, the two peers of a table run at the same time,"
echo "one pgbench client each, for ${secs}s, the one started first alternating; pgbench scale $scale"
echo "(ratio: the geometric mean over the rounds of the ratio of the peer's TPS to the first peer's"
echo " in the same round; ratio range: the lowest and highest of those ratios)"
echo
: >"$base/tps_lib"
: >"$base/tps_select"
: >"$base/tps_local"
: >"$base/tps_remote"
# pair FILE ROUND KEY1 ARGS1 KEY2 ARGS2 : the two runs together, KEY1 (also
# the role) started first in odd rounds
pair() {
	if [ $(($2 % 2)) = 1 ]; then
		together "$1" "$3" "$3" "$4" "$5" "$5" "$6"
	else
		together "$1" "$5" "$5" "$6" "$3" "$3" "$4"
	fi
}
for i in $(seq 1 "$rounds"); do
	pair "$base/tps_lib" "$i" nolib -S loaded -S
	pair "$base/tps_select" "$i" loaded -S sandboxed -S
	pair "$base/tps_local" "$i" loaded "-f $base/local.pgb" sandboxed "-f $base/local.pgb"
	pair "$base/tps_remote" "$i" loaded "-f $base/remote.pgb" sandboxed "-f $base/remote.pgb"
done

table "$base/tps_lib" "0. pgbench -S, what loading the library costs" nolib - "" \
	"nolib=library not loaded" "loaded=library loaded, no sandbox"
table "$base/tps_select" "1. pgbench -S, the sandbox enforcing" loaded sandboxed "target >= 0.97" \
	"loaded=library loaded, no sandbox" "sandboxed=sandboxed (read-only, bench_db)"
table "$base/tps_local" "2a. routed point select, datasource.query() on the local bench_db" \
	loaded sandboxed "target >= 0.95" "loaded=unrestricted (library loaded)" "sandboxed=sandboxed"
table "$base/tps_remote" "2b. routed point select, datasource.query() on the remote shop_db" \
	loaded sandboxed "target >= 0.95" "loaded=unrestricted (library loaded)" "sandboxed=sandboxed"

echo "server logs: $(grep -cE 'ERROR|FATAL|PANIC|terminated by signal' "$base/local/server.log" || true) error lines on local," \
	"$(grep -cE 'ERROR|FATAL|PANIC|terminated by signal' "$base/remote/server.log" || true) on remote"
