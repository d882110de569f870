#!/usr/bin/env bash
# test/bench/describe.sh - what datasource.describe() and fingerprint() cost,
# as ratios against `pg_dump --schema-only -n SCHEMA` of the same schema,
# measured in the same run on one throwaway server (unix socket, as postgres).
# For each size N in SIZES a database bench_N holds one schema app with N
# generated tables, registered as the logical database app_db.  Each table
# t00001.. has 10 columns (bigint identity key, a reference to the previous
# table, varchar(n), numeric(p,s), timestamptz with a default, jsonb, text[],
# boolean, uuid, text), 2 indexes besides its primary key and 1 foreign key;
# a database per size, so neither pg_dump nor describe() reads the other
# size's catalog rows.
# Measured, ROUNDS interleaved rounds (sizes and peers alternate), medians;
# each size's turn in a round starts with an untimed pg_dump, so that its
# catalog pages are in shared buffers for every peer alike (the other
# size's turn evicts them, and the first peer used to pay for reading them
# back: describe(), 0.53 of pg_dump with that, 0.42 without the 10k run):
#   describe \timing      SELECT datasource.describe('app_db') in a fresh
#                         session, after a warm-up describe() of a one-table
#                         logical database (library, registry cache and
#                         connection loaded; the catalog caches of app's
#                         tables are not); psql's \timing, result to /dev/null
#   describe e2e          wall time of `psql -c "SELECT datasource.describe(...)"`
#                         >/dev/null: connect, run, fetch and print
#   fingerprint \timing   SELECT datasource.fingerprint('app_db'), as above
#   pg_dump e2e           wall time of pg_dump --schema-only -n app -f /dev/null
#                         (the reference)
# Printed: median, min - max, the ratio to pg_dump of the same size (target
# describe/pg_dump <= 0.5), and the growth from the smallest to the largest
# size (target describe(10k)/describe(1k) <= 12), the size of the
# description and of the dump.  Nothing is asserted.
# The server runs with max_locks_per_transaction = 512 (printed): pg_dump
# takes a lock on every table it dumps, and 10,000 of them do not fit into
# the lock table of the defaults of test/lib/cluster.sh (64 * 60 = 3,840).
# Usage: test/bench/describe.sh
# (ROUNDS=n rounds, default 5; SIZES="1000 10000" table counts, the first
# and the last are compared; BENCH_BASE=DIR and BENCH_PORT=n put the cluster
# in DIR/bench on that port instead of a temp dir and a free port; DIR is
# removed at exit.)  Needs the extension installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/test/lib/cluster.sh"
rounds=${ROUNDS:-5}
read -r -a sizes <<<"${SIZES:-1000 10000}"
max_locks=512

if [ -n "${BENCH_BASE:-}" ]; then
	base=$BENCH_BASE
	mkdir -p "$base"
	chmod 755 "$base"
else
	base=$(cluster_base pgds-describe)
fi
trap 'cluster_stop "$base/bench" >/dev/null 2>&1; rm -rf "$base"' EXIT
port=${BENCH_PORT:-$(free_port 47900)}
cluster_init "$base/bench" "$port" >/dev/null
printf 'max_locks_per_transaction = %s\n' "$max_locks" >>"$base/bench/postgresql.conf"
cluster_start "$base/bench"
conn=(-h "$base/bench" -p "$port" -U postgres)
P=("$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 "${conn[@]}")

# --- the schemas: N tables, in batches of 250 per transaction
for n in "${sizes[@]}"; do
	"${P[@]}" -d postgres -c "CREATE DATABASE bench_$n"
	"${P[@]}" -d "bench_$n" -v n="$n" >/dev/null <<'SQL'
CREATE EXTENSION pg_datasource;
SET datasource.ddl_log = off;
SELECT datasource.create_database('app_db', schema_name => 'app');
SELECT datasource.create_database('warm_db', schema_name => 'warm');
CREATE TABLE warm.one (id int PRIMARY KEY);
CREATE PROCEDURE pg_temp.make_tables(n int)
LANGUAGE plpgsql AS $$
DECLARE
	t text;
	prev text;
BEGIN
	FOR i IN 1..n LOOP
		t := format('t%s', lpad(i::text, 5, '0'));
		prev := format('t%s', lpad(greatest(i - 1, 1)::text, 5, '0'));
		EXECUTE format($f$
			CREATE TABLE app.%1$I (
				id			bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				ref_id		bigint,
				code		varchar(40) NOT NULL,
				amount		numeric(12, 2) NOT NULL DEFAULT 0,
				created_at	timestamptz NOT NULL DEFAULT now(),
				attrs		jsonb,
				tags		text[],
				active		boolean NOT NULL DEFAULT true,
				external_id uuid,
				note		text,
				CONSTRAINT %1$s_ref_fkey FOREIGN KEY (ref_id) REFERENCES app.%2$I (id) ON DELETE SET NULL
			)$f$, t, prev);
		EXECUTE format('CREATE INDEX %1$s_code_idx ON app.%1$I (code, created_at)', t);
		EXECUTE format('CREATE INDEX %1$s_ref_idx ON app.%1$I (ref_id) WHERE ref_id IS NOT NULL', t);
		IF i % 250 = 0 THEN
			COMMIT;
		END IF;
	END LOOP;
END
$$;
CALL pg_temp.make_tables(:n);
VACUUM ANALYZE;
SQL
	got=$("${P[@]}" -d "bench_$n" -c "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname = 'app') || ' '
		|| (SELECT count(*) FROM pg_indexes WHERE schemaname = 'app') || ' '
		|| (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'app'::regnamespace)")
	if [ "$got" != "$n $((3 * n)) $n" ]; then
		echo "setup of bench_$n: expected $n tables, $((3 * n)) indexes, $n foreign keys; got $got" >&2
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
ms_since() { # START_NS : milliseconds since then, 1 decimal
	echo "$(($(date +%s%N) - $1))" | awk '{ printf "%.1f\n", $1 / 1000000 }'
}

# timed_call DB SQL : psql \timing of SQL in a fresh session after a warm-up
# describe() of warm_db; prints the ms of SQL; the result goes to /dev/null
timed_call() {
	local out
	out=$("${P[@]}" -d "$1" <<SQL
SELECT datasource.describe('warm_db') IS NOT NULL AS warm \gset
\o /dev/null
\timing on
$2;
\timing off
\o
SQL
	)
	awk '/^Time: / { print $2 }' <<<"$out"
}

: >"$base/times"
for _ in $(seq 1 "$rounds"); do
	for n in "${sizes[@]}"; do
		db=bench_$n
		# untimed: the other size's run pushed this database's catalog
		# pages out of shared buffers, and the first peer would pay alone
		"$PGBIN/pg_dump" "${conn[@]}" -d "$db" --schema-only -n app -f /dev/null
		echo "describe_timing_$n $(timed_call "$db" "SELECT datasource.describe('app_db')")" >>"$base/times"
		t0=$(date +%s%N)
		"${P[@]}" -d "$db" -c "SELECT datasource.describe('app_db')" >/dev/null
		echo "describe_e2e_$n $(ms_since "$t0")" >>"$base/times"
		echo "fingerprint_timing_$n $(timed_call "$db" "SELECT datasource.fingerprint('app_db')")" >>"$base/times"
		t0=$(date +%s%N)
		"$PGBIN/pg_dump" "${conn[@]}" -d "$db" --schema-only -n app -f /dev/null
		echo "pg_dump_e2e_$n $(ms_since "$t0")" >>"$base/times"
	done
done
median_table "$base/times" >"$base/med"

# sanity and sizes (outside the timed runs)
declare -A desc_bytes dump_bytes
for n in "${sizes[@]}"; do
	got=$("${P[@]}" -d "bench_$n" -c "SELECT count(*) FROM jsonb_object_keys(datasource.describe('app_db') -> 'tables')")
	if [ "$got" != "$n" ]; then
		echo "describe('app_db') of bench_$n lists $got tables, not $n" >&2
		exit 1
	fi
	desc_bytes[$n]=$("${P[@]}" -d "bench_$n" -c "SELECT octet_length(datasource.describe('app_db')::text)")
	dump_bytes[$n]=$("$PGBIN/pg_dump" "${conn[@]}" -d "bench_$n" --schema-only -n app | wc -c)
done

# --- the report
echo "server: PostgreSQL $("${P[@]}" -d postgres -c 'SHOW server_version'), max_locks_per_transaction = $("${P[@]}" -d postgres -c 'SHOW max_locks_per_transaction')," \
	"shared_buffers = $("${P[@]}" -d postgres -c 'SHOW shared_buffers'), fsync = off; $rounds interleaved rounds;" \
	"load average before the report: $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo
echo "| tables | measure | median ms | min - max ms | ratio to pg_dump | target |"
echo "|---:|---|---:|---:|---:|---|"
for n in "${sizes[@]}"; do
	for m in describe_timing describe_e2e fingerprint_timing pg_dump_e2e; do
		awk -v k="${m}_$n" -v ref="pg_dump_e2e_$n" -v n="$n" -v m="$m" '
			$1 == ref { base = $2 } $1 == k { v = $2; lo = $3; hi = $4 }
			END {
				label["describe_timing"] = "describe(), \\timing"
				label["describe_e2e"] = "describe(), psql end to end"
				label["fingerprint_timing"] = "fingerprint(), \\timing"
				label["pg_dump_e2e"] = "pg_dump --schema-only -n (reference)"
				printf "| %d | %s | %.1f | %.1f - %.1f | %.3f | %s |\n", n, label[m], v, lo, hi,
					base ? v / base : 0, m ~ /^describe/ ? "<= 0.5" : "" }' "$base/med"
	done
done
if [ "${#sizes[@]}" -gt 1 ]; then
	first=${sizes[0]}
	last=${sizes[${#sizes[@]} - 1]}
	echo
	echo "| growth ${first} -> ${last} tables ($((last / first))x) | median ratio | target |"
	echo "|---|---:|---|"
	for m in describe_timing describe_e2e fingerprint_timing pg_dump_e2e; do
		awk -v a="${m}_$first" -v b="${m}_$last" -v m="$m" '
			$1 == a { x = $2 } $1 == b { y = $2 }
			END {
				label["describe_timing"] = "describe(), \\timing"
				label["describe_e2e"] = "describe(), psql end to end"
				label["fingerprint_timing"] = "fingerprint(), \\timing"
				label["pg_dump_e2e"] = "pg_dump --schema-only -n"
				printf "| %s | %.2f | %s |\n", label[m], x ? y / x : 0,
					m ~ /^describe/ ? "<= 12" : "" }' "$base/med"
	done
fi
echo
echo "| tables | describe() bytes | pg_dump --schema-only bytes |"
echo "|---:|---:|---:|"
for n in "${sizes[@]}"; do
	echo "| $n | ${desc_bytes[$n]} | ${dump_bytes[$n]} |"
done
echo
echo "server log: $(grep -cE 'ERROR|FATAL|PANIC|terminated by signal' "$base/bench/server.log" || true) error lines"
