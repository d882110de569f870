#!/usr/bin/env bash
# test/bench/tenant.sh - what it costs a routed statement to carry its
# tenant (a connection behind a pooler in transaction mode, pooler.c), as
# ratios against peers measured in the same run on two throwaway servers on
# 127.0.0.1: "local" (the control plane, with the extension) and "remote"
# (database benchdb, table shop.items, 100,000 rows).  The peers:
#   direct       the statement sent straight to the remote (the reference)
#   none         datasource.query() through a server with pooler 'none':
#                the session's settings are sent once, the statement is
#                kept prepared on the remote (the default on a direct
#                connection: pooler 'auto' detects no pooler)
#   unprepared   the same as none with datasource.remote_prepared_statements
#                = 0: the statement parsed again each time, as in
#                transaction mode, so the two differ only by the settings
#                each statement carries
#   transaction  datasource.query() through a server with pooler
#                'transaction' to the same remote, directly (no pooler in
#                between, so only what the mode sends differs): every
#                statement carries search_path, the lexer's settings and
#                transaction_read_only with set_config(..., true), pipelined
#                in front of it, and nothing is prepared
# Measured: a point select by primary key (pgbench -S-like), pgbench TPS,
# 2 clients, ROUNDS interleaved rounds, the peer that starts a round
# rotating (median TPS; ratio to direct and transaction to none).
# All clients connect over TCP to 127.0.0.1 with a password (scram).
# Then test/bench/commit.sh runs (two-phase commit on vs off), so one run
# prints both tables.  Nothing is asserted.
# Usage: test/bench/tenant.sh [seconds per pgbench run, default 10]
# (ROUNDS=n interleaved rounds, default 3; PGBIN and PG_CONFIG choose the
# installation, default Debian's.)  Needs the extension installed there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/test/lib/cluster.sh"
secs=${1:-10}
rounds=${ROUNDS:-3}
pw=bench-pw

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PG_CONFIG=${PG_CONFIG:-$PGBIN/pg_config}
sharedir=$("$PG_CONFIG" --sharedir)
if [ ! -f "$sharedir/extension/pg_datasource.control" ]; then
	echo "pg_datasource is not installed in $sharedir: run make install PG_CONFIG=$PG_CONFIG" >&2
	exit 1
fi

base=$(cluster_base pgds-tenant)
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
lconn=(-h 127.0.0.1 -p "$lport" -U postgres -d bench)
rconn=(-h 127.0.0.1 -p "$rport" -U bench_owner -d benchdb)

"${R[@]}" -d postgres -c "CREATE ROLE bench_owner LOGIN PASSWORD '$pw'" \
	-c "CREATE DATABASE benchdb OWNER bench_owner"
"${R[@]}" -d benchdb -U bench_owner <<'SQL'
CREATE SCHEMA shop;
CREATE TABLE shop.items (id int PRIMARY KEY, name text, price numeric);
INSERT INTO shop.items SELECT i, 'item ' || i, round((i % 1000) * 1.25 + 0.99, 2)
  FROM generate_series(1, 100000) i;
VACUUM ANALYZE shop.items;
SQL

"${L[@]}" -d postgres -c "ALTER ROLE postgres PASSWORD '$pw'" -c "CREATE DATABASE bench"
"${L[@]}" -d bench -v rport="$rport" <<'SQL' >/dev/null
CREATE EXTENSION pg_datasource;
CREATE SERVER r_none FOREIGN DATA WRAPPER pg_datasource
  OPTIONS (host '127.0.0.1', port :'rport', dbname 'benchdb', pooler 'none');
CREATE USER MAPPING FOR postgres SERVER r_none OPTIONS (user 'bench_owner', password 'bench-pw');
CREATE SERVER r_tx FOREIGN DATA WRAPPER pg_datasource
  OPTIONS (host '127.0.0.1', port :'rport', dbname 'benchdb', pooler 'transaction');
CREATE USER MAPPING FOR postgres SERVER r_tx OPTIONS (user 'bench_owner', password 'bench-pw');
SELECT datasource.create_source('r_none', 'r_none');
SELECT datasource.create_source('r_tx', 'r_tx');
SELECT datasource.create_database('shop_none', 'r_none', schema_name => 'shop', create_schema => false);
SELECT datasource.create_database('shop_tx', 'r_tx', schema_name => 'shop', create_schema => false);
SQL

cols='AS t(id int, name text, price numeric)'
peers=(direct none unprepared transaction)
declare -A point label
label[direct]='direct to remote'
label[none]="query(), pooler 'none'"
label[unprepared]="query(), 'none', nothing prepared"
label[transaction]="query(), pooler 'transaction'"
point[direct]='SELECT id, name, price FROM shop.items WHERE id = :id'
point[none]="SELECT * FROM datasource.query('shop_none', 'SELECT id, name, price FROM items WHERE id = \$1', ARRAY[:id::text]) $cols"
point[unprepared]=${point[none]}
point[transaction]="SELECT * FROM datasource.query('shop_tx', 'SELECT id, name, price FROM items WHERE id = \$1', ARRAY[:id::text]) $cols"
conn_of() { if [ "$1" = direct ]; then conn=("${rconn[@]}"); else conn=("${lconn[@]}"); fi; }

for p in "${peers[@]}"; do
	conn_of "$p"
	got=$("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "${conn[@]}" -c "${point[$p]//:id/4242}")
	if [ "$got" != '4242|item 4242|303.49' ]; then
		echo "peer $p returned unexpected rows: $got" >&2
		exit 1
	fi
done

pgbench_tps() { # NAME SQL CONN... : one pgbench run, prints TPS
	local name=$1 sql=$2 out opts=${PGOPTIONS:-}
	shift 2
	printf '\\set id random(1, 100000)\n%s;\n' "$sql" >"$base/$name.pgb"
	[ "$name" = unprepared ] && opts="$opts -c datasource.remote_prepared_statements=0"
	out=$(PGOPTIONS=$opts "$PGBIN/pgbench" -n -T "$secs" -c 2 -j 2 -f "$base/$name.pgb" "$@" 2>"$base/$name.err") || {
		echo "pgbench for $name failed:" >&2
		cat "$base/$name.err" >&2
		exit 1
	}
	sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out"
}

: >"$base/tps"
for r in $(seq "$rounds"); do
	# the peer that starts rotates, so no peer always runs first
	for i in 0 1 2 3; do
		p=${peers[$(((r + i) % 4))]}
		conn_of "$p"
		echo "$p $(pgbench_tps "$p" "${point[$p]}" "${conn[@]}")" >>"$base/tps"
	done
done

median() { awk -v p="$1" '$1 == p { print $2 }' "$base/tps" | sort -g |
	awk '{ v[++n] = $1 } END { print n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'; }
declare -A med
for p in "${peers[@]}"; do med[$p]=$(median "$p"); done

echo
echo "Routed point selects, pgbench TPS, 2 clients, ${secs}s x $rounds rounds (median)"
printf '%-32s %10s %10s %10s\n' peer TPS 'vs direct' 'vs none'
for p in "${peers[@]}"; do
	printf '%-32s %10.0f %10.3f %10.3f\n' "${label[$p]}" "${med[$p]}" \
		"$(awk -v a="${med[$p]}" -v b="${med[direct]}" 'BEGIN { print a / b }')" \
		"$(awk -v a="${med[$p]}" -v b="${med[none]}" 'BEGIN { print a / b }')"
done
printf 'transaction / unprepared (what the settings cost): %.3f\n' \
	"$(awk -v a="${med[transaction]}" -v b="${med[unprepared]}" 'BEGIN { print a / b }')"
echo
echo "per round:"
awk '{ printf "  %-12s %s\n", $1, $2 }' "$base/tps"

# and the cost of committing across datasources: writes on two remotes committed
# with and without two-phase commit, in the same run (its own servers)
echo
echo "Writes on two remotes and one local row per transaction (test/bench/commit.sh)"
"$here/commit.sh" "$secs"
