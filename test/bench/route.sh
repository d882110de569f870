#!/usr/bin/env bash
# test/bench/route.sh - what routing a statement through datasource.query()
# costs, as ratios against peers measured in the same run on two throwaway
# servers on 127.0.0.1: "local" (the control plane, with the extension) and
# "remote" (database benchdb, table shop.items, 100,000 rows, owned by
# bench_owner).  The peers, all called on the local server:
#   direct    the same statement sent straight to the remote (the reference)
#   ours      datasource.query() on the logical database shop_db (remote)
#   dblink    dblink() on a named connection opened once per session
#   fdw       postgres_fdw foreign table (IMPORT FOREIGN SCHEMA)
#   plproxy   a PL/Proxy function (SQL/MED cluster, RUN ON 0 with a SELECT)
# Measured:
#   1. point select by primary key: pgbench TPS, 2 clients, ROUNDS interleaved
#      rounds of all peers (median TPS; ratio to direct).
#   2. fetching all 100,000 rows, one client: psql \timing (result to
#      /dev/null), and the server-side-only variant SELECT count(*) FROM (...)
#      s; REPS repetitions per session after a 1-row warm-up, ROUNDS sessions
#      per peer, interleaved (median ms; ratio to direct).
#   3. backend memory while routing the 100,000 rows: in a fresh session per
#      peer, after a 1-row warm-up, the growth of the backend's peak RSS
#      (VmHWM of /proc/PID/status), of its RSS, and of sum(total_bytes) of
#      pg_backend_memory_contexts across SELECT count(*) FROM (...) s.
#   4. point select on a LOCAL logical database (local_db): datasource.query()
#      vs the same statement run directly (pgbench TPS, median; ratio).
# All clients connect over TCP to 127.0.0.1 with a password (scram), so the
# client leg is the same for every peer.  Targets are printed next to the
# ratios; nothing is asserted.
# Usage: test/bench/route.sh [seconds per pgbench run, default 10]
# (ROUNDS=n interleaved rounds, default 3; REPS=n fetches per session, default 5;
# PGBIN and PG_CONFIG choose the installation, default Debian's)
# Needs the extension installed there (make install PG_CONFIG=...); installs
# postgresql-15-plproxy from Debian's packages when it is missing from the
# system installation.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/test/lib/cluster.sh"
secs=${1:-10}
rounds=${ROUNDS:-3}
reps=${REPS:-5}
pw=bench-pw

# the installation measured: PGBIN's servers and PG_CONFIG's extension directory
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PG_CONFIG=${PG_CONFIG:-$PGBIN/pg_config}
sharedir=$("$PG_CONFIG" --sharedir)
if [ ! -f "$sharedir/extension/pg_datasource.control" ]; then
	echo "pg_datasource is not installed in $sharedir: run make install PG_CONFIG=$PG_CONFIG" >&2
	exit 1
fi
if [ ! -f "$sharedir/extension/plproxy.control" ]; then
	if [ "$sharedir" != /usr/share/postgresql/15 ]; then
		echo "PL/Proxy is not installed in $sharedir (Debian's postgresql-15-plproxy installs into /usr)" >&2
		exit 1
	fi
	apt-get install -y --no-install-recommends postgresql-15-plproxy >/dev/null 2>&1 ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends postgresql-15-plproxy >/dev/null; }
fi

base=$(cluster_base pgds-route)
trap 'cluster_stop "$base/local" >/dev/null 2>&1; cluster_stop "$base/remote" >/dev/null 2>&1; rm -rf "$base"' EXIT
lport=$(free_port 47600)
rport=$(free_port 47700)
cluster_init "$base/local" "$lport" >/dev/null
cluster_init "$base/remote" "$rport" >/dev/null
cluster_start "$base/local"
cluster_start "$base/remote"
# administration over the sockets, as postgres
L=("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$base/local" -p "$lport" -U postgres)
R=("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$base/remote" -p "$rport" -U postgres)
# measuring clients over TCP: the local server as postgres, the remote as bench_owner
export PGPASSWORD=$pw
lconn=(-h 127.0.0.1 -p "$lport" -U postgres -d bench)
rconn=(-h 127.0.0.1 -p "$rport" -U bench_owner -d benchdb)
remote_cs="host=127.0.0.1 port=$rport dbname=benchdb user=bench_owner password=$pw"

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
# so that the direct peer can read its own memory contexts (section 3)
"${R[@]}" -d benchdb -c "GRANT SELECT ON pg_backend_memory_contexts TO bench_owner" \
	-c "GRANT EXECUTE ON FUNCTION pg_get_backend_memory_contexts() TO bench_owner"

# local: the four ways to reach it, and local_db with the same rows
"${L[@]}" -d postgres -c "ALTER ROLE postgres PASSWORD '$pw'" -c "CREATE DATABASE bench"
"${L[@]}" -d bench -v rport="$rport" -v cs="$remote_cs" <<'SQL' >/dev/null
CREATE EXTENSION pg_datasource;
CREATE EXTENSION dblink;
CREATE EXTENSION postgres_fdw;
CREATE EXTENSION plproxy;

CREATE SERVER regional FOREIGN DATA WRAPPER pg_datasource
  OPTIONS (host '127.0.0.1', port :'rport', dbname 'benchdb');
CREATE USER MAPPING FOR postgres SERVER regional OPTIONS (user 'bench_owner', password 'bench-pw');
SELECT datasource.create_source('regional', 'regional');
SELECT datasource.create_database('shop_db', 'regional', schema_name => 'shop', create_schema => false);

CREATE SERVER fdwremote FOREIGN DATA WRAPPER postgres_fdw
  OPTIONS (host '127.0.0.1', port :'rport', dbname 'benchdb');
CREATE USER MAPPING FOR postgres SERVER fdwremote OPTIONS (user 'bench_owner', password 'bench-pw');
CREATE SCHEMA fdw;
IMPORT FOREIGN SCHEMA shop LIMIT TO (items) FROM SERVER fdwremote INTO fdw;

-- dblink: the named connection 'r', opened on first use in each session
SELECT set_config('bench.cs', :'cs', false);
DO $$ BEGIN
EXECUTE format($f$
CREATE FUNCTION dbl_open() RETURNS text LANGUAGE plpgsql AS $b$
BEGIN
  IF 'r' <> ALL (coalesce(dblink_get_connections(), '{}')) THEN
    PERFORM dblink_connect('r', %L);
  END IF;
  RETURN 'r';
END $b$ $f$, current_setting('bench.cs'));
END $$;

-- PL/Proxy: a one-partition cluster the SQL/MED way (the extension creates the wrapper)
CREATE SERVER pxcluster FOREIGN DATA WRAPPER plproxy OPTIONS (p0 :'cs');
CREATE USER MAPPING FOR postgres SERVER pxcluster;
CREATE FUNCTION px_point(i int) RETURNS TABLE (id int, name text, price numeric) LANGUAGE plproxy AS $$
  CLUSTER 'pxcluster'; RUN ON 0; SELECT id, name, price FROM shop.items WHERE id = i;
$$;
CREATE FUNCTION px_all() RETURNS TABLE (id int, name text, price numeric) LANGUAGE plproxy AS $$
  CLUSTER 'pxcluster'; RUN ON 0; SELECT id, name, price FROM shop.items;
$$;

SELECT datasource.create_database('local_db');
CREATE TABLE local_db.items (id int PRIMARY KEY, name text, price numeric);
INSERT INTO local_db.items SELECT i, 'item ' || i, round((i % 1000) * 1.25 + 0.99, 2)
  FROM generate_series(1, 100000) i;
VACUUM ANALYZE local_db.items;
SQL

cols='AS t(id int, name text, price numeric)'
peers=(direct ours dblink fdw plproxy)
declare -A point all label
label[direct]='direct to remote'
label[ours]='pg_datasource query()'
label[dblink]='dblink (named connection)'
label[fdw]='postgres_fdw'
label[plproxy]='PL/Proxy'
point[direct]='SELECT id, name, price FROM shop.items WHERE id = :id'
point[ours]="SELECT * FROM datasource.query('shop_db', 'SELECT id, name, price FROM items WHERE id = \$1', ARRAY[:id::text]) $cols"
point[dblink]="SELECT * FROM dblink(dbl_open(), format('SELECT id, name, price FROM shop.items WHERE id = %s', :id)) $cols"
point[fdw]='SELECT id, name, price FROM fdw.items WHERE id = :id'
point[plproxy]='SELECT * FROM px_point(:id)'
all[direct]='SELECT id, name, price FROM shop.items'
all[ours]="SELECT * FROM datasource.query('shop_db', 'SELECT id, name, price FROM items') $cols"
all[dblink]="SELECT * FROM dblink(dbl_open(), 'SELECT id, name, price FROM shop.items') $cols"
# OFFSET 0 and count(s.*) keep postgres_fdw from pushing the count down or
# fetching no columns; the other peers get the same form
all[fdw]='SELECT id, name, price FROM fdw.items'
all[plproxy]='SELECT * FROM px_all()'
count_of() { echo "SELECT count(s.*) FROM ($1 OFFSET 0) s"; }
conn_of() { if [ "$1" = direct ]; then conn=("${rconn[@]}"); else conn=("${lconn[@]}"); fi; } # sets conn

# every peer must return the same row and the same 100,000 rows
for p in "${peers[@]}"; do
	conn_of "$p"
	got=$("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "${conn[@]}" \
		-c "${point[$p]//:id/4242}" -c "$(count_of "${all[$p]}")")
	if [ "$got" != "$(printf '4242|item 4242|303.49\n100000')" ]; then
		echo "peer $p returned unexpected rows:" >&2
		echo "$got" >&2
		exit 1
	fi
done

median_table() { # FILE: lines "key value" -> prints "key median min max" per key
	sort -k1,1 -k2,2g "$1" | awk '
		{ v[$1, ++n[$1]] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++m] = $1 } }
		END { for (i = 1; i <= m; i++) { k = order[i]; c = n[k];
			printf "%s %s %s %s\n", k, c % 2 ? v[k, (c + 1) / 2] : (v[k, c / 2] + v[k, c / 2 + 1]) / 2,
				v[k, 1], v[k, c] } }'
}
# ratio_range FILE PEER BASE: the lowest and highest ratio of PEER to BASE over
# the rounds (line i of each is round i), as "lo-hi"
ratio_range() {
	awk -v p="$2" -v b="$3" '$1 == p { pv[++np] = $2 } $1 == b { bv[++nb] = $2 }
		END { lo = -1; for (i = 1; i <= np && i <= nb; i++) { if (!bv[i]) continue; r = pv[i] / bv[i];
			if (lo < 0 || r < lo) lo = r; if (r > hi) hi = r }
			printf "%.3f-%.3f", lo < 0 ? 0 : lo, hi }' "$1"
}

pgbench_tps() { # NAME SQL CONN... : one pgbench run, prints TPS (0 on failure)
	local name=$1 sql=$2 out
	shift 2
	printf '\\set id random(1, 100000)\n%s;\n' "$sql" >"$base/$name.pgb"
	if out=$("$PGBIN/pgbench" -n -T "$secs" -c 2 -j 2 -f "$base/$name.pgb" "$@" 2>"$base/$name.err") &&
		grep -q '^tps = ' <<<"$out" && ! grep -q 'aborted' <<<"$out"; then
		sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out"
	else
		echo "pgbench for $name failed:" >&2
		tail -n 5 "$base/$name.err" >&2
		echo 0
	fi
}

echo "== 1. point select by primary key: pgbench, ${secs}s per run, 2 clients, $rounds interleaved rounds (median TPS; ratio to direct)"
printf '%-28s | %9s | %13s | %6s | %13s | %s\n' peer TPS 'TPS range' ratio 'ratio range' target
: >"$base/tps1"
for _ in $(seq 1 "$rounds"); do
	for p in "${peers[@]}"; do
		conn_of "$p"
		echo "$p $(pgbench_tps "$p" "${point[$p]}" "${conn[@]}")" >>"$base/tps1"
	done
done
median_table "$base/tps1" >"$base/tps1.med"
for p in "${peers[@]}"; do
	awk -v p="$p" -v l="${label[$p]}" -v rr="$(ratio_range "$base/tps1" "$p" direct)" '
		$1 == "direct" { base = $2 } $1 == p { v = $2; lo = $3; hi = $4 }
		END { printf "%-28s | %9.0f | %6.0f-%-6.0f | %6.3f | %13s | %s\n", l, v, lo, hi, base ? v / base : 0, rr,
			p == "ours" ? "target >= 0.46" : "" }' "$base/tps1.med"
done
echo "(ratio range: the lowest and highest ratio of one round's run to the direct run of the same round)"

echo
echo "== 2. fetching all 100,000 rows, 1 client: $rounds sessions x $reps fetches per peer (median ms; ratio to direct)"
printf '%-28s | %12s | %13s | %6s | %12s | %13s | %6s | %s\n' peer 'to client ms' 'range' ratio 'count(*) ms' 'range' ratio target
: >"$base/fetch"
for _ in $(seq 1 "$rounds"); do
	for p in "${peers[@]}"; do
		{
			echo '\o /dev/null'
			echo "${point[$p]//:id/1};"
			printf '%s\n' '\timing on'
			for _ in $(seq 1 "$reps"); do
				echo "${all[$p]};"
				echo "$(count_of "${all[$p]}");"
			done
		} >"$base/fetch.sql"
		conn_of "$p"
		"$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "${conn[@]}" -f "$base/fetch.sql" |
			awk -v p="$p" '/^Time: / { print (++n % 2 ? p "_rows" : p "_count"), $2 }' >>"$base/fetch"
	done
done
median_table "$base/fetch" >"$base/fetch.med"
for p in "${peers[@]}"; do
	awk -v p="$p" -v l="${label[$p]}" '
		{ v[$1] = $2; lo[$1] = $3; hi[$1] = $4 }
		END { printf "%-28s | %12.1f | %6.1f-%-6.1f | %6.2f | %12.1f | %6.1f-%-6.1f | %6.2f | %s\n", l,
			v[p "_rows"], lo[p "_rows"], hi[p "_rows"], v[p "_rows"] / v["direct_rows"],
			v[p "_count"], lo[p "_count"], hi[p "_count"], v[p "_count"] / v["direct_count"],
			p == "ours" ? "target <= 3" : "" }' "$base/fetch.med"
done

echo
echo "== 3. backend memory across SELECT count(s.*) FROM (<100,000 rows>) s, fresh session, after a 1-row warm-up"
echo "(work_mem = $("${L[@]}" -d bench -c 'SHOW work_mem'): a tuplestore stays in memory up to it; the direct row's RSS"
echo " includes the shared buffers its scan touched; contexts are summed after the statement)"
printf '%-34s | %13s | %8s | %13s | %s\n' peer 'peak RSS +MiB' 'RSS +MiB' 'contexts +MiB' target
for p in "${peers[@]}"; do
	{
		echo 'SELECT pg_backend_pid() AS pid \gset'
		echo '\setenv P :pid'
		echo '\o /dev/null'
		echo "${point[$p]//:id/1};"
		echo '\o'
		echo "SELECT 'ctx ' || sum(total_bytes) FROM pg_backend_memory_contexts;"
		echo "\\! awk '/^Vm(HWM|RSS):/ { print \$1, \$2 }' /proc/\$P/status"
		echo "$(count_of "${all[$p]}");"
		echo "SELECT 'ctx ' || sum(total_bytes) FROM pg_backend_memory_contexts;"
		echo "\\! awk '/^Vm(HWM|RSS):/ { print \$1, \$2 }' /proc/\$P/status"
	} >"$base/mem.sql"
	conn_of "$p"
	"$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "${conn[@]}" -f "$base/mem.sql" |
		awk -v p="$p" -v l="${label[$p]}" '
			$1 == "ctx" { c[++nc] = $2 } $1 == "VmHWM:" { h[++nh] = $2 } $1 == "VmRSS:" { s[++ns] = $2 }
			END { printf "%-34s | %13.2f | %8.2f | %13.3f | %s\n",
				p == "direct" ? l " (remote backend)" : l,
				(h[2] - h[1]) / 1024, (s[2] - s[1]) / 1024, (c[2] - c[1]) / 1048576,
				p == "ours" ? "target <= 2 (peak RSS)" : "" }'
done

echo
echo "== 4. point select on a local logical database: pgbench, ${secs}s per run, 2 clients, $rounds interleaved rounds (median TPS; ratio to direct)"
lpoint_direct='SELECT id, name, price FROM local_db.items WHERE id = :id'
lpoint_ours="SELECT * FROM datasource.query('local_db', 'SELECT id, name, price FROM items WHERE id = \$1', ARRAY[:id::text]) $cols"
for q in "$lpoint_direct" "$lpoint_ours"; do
	got=$("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "${lconn[@]}" -c "${q//:id/4242}")
	if [ "$got" != '4242|item 4242|303.49' ]; then
		echo "local point select returned unexpected rows: $got" >&2
		exit 1
	fi
done
: >"$base/tps4"
for _ in $(seq 1 "$rounds"); do
	echo "direct $(pgbench_tps local_direct "$lpoint_direct" "${lconn[@]}")" >>"$base/tps4"
	echo "ours $(pgbench_tps local_ours "$lpoint_ours" "${lconn[@]}")" >>"$base/tps4"
done
median_table "$base/tps4" | awk -v rr="$(ratio_range "$base/tps4" ours direct)" '
	{ v[$1] = $2; lo[$1] = $3; hi[$1] = $4 }
	END {
		printf "%-28s | %9s | %13s | %6s | %13s | %s\n", "peer", "TPS", "TPS range", "ratio", "ratio range", "target";
		printf "%-28s | %9.0f | %6.0f-%-6.0f | %6.3f | %13s |\n", "direct on local", v["direct"], lo["direct"], hi["direct"], 1, "";
		printf "%-28s | %9.0f | %6.0f-%-6.0f | %6.3f | %13s | %s\n", "pg_datasource query()", v["ours"], lo["ours"], hi["ours"], v["ours"] / v["direct"], rr, "target >= 0.8";
	}'

echo
echo "server logs: $(grep -cE 'ERROR|FATAL|PANIC|terminated by signal' "$base/local/server.log" || true) error lines on local," \
	"$(grep -cE 'ERROR|FATAL|PANIC|terminated by signal' "$base/remote/server.log" || true) on remote"
