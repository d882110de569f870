#!/usr/bin/env bash
# test/bench/validate.sh - what datasource.validate() costs, as ratios against
# peers measured in the same run on a throwaway server:
#   1. validate() per statement vs raw_parser alone on the same texts (TPC-H's
#      22 queries and a sample of PostgreSQL's regression SQL), both called
#      once per row from SQL; an empty per-row function is the floor.
#   2. pgbench -S TPS with the library preloaded and enforcing
#      (datasource.enforce = error) vs preloaded with enforcement off vs
#      without the library.
# Usage: test/bench/validate.sh [seconds per pgbench run, default 15]
# (ROUNDS=n interleaved rounds of the three setups, default 5; medians)
# Needs the extension installed (make install). Prints tables; asserts nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/test/lib/cluster.sh"
secs=${1:-15}
corpus=$root/../shared/corpus

base=$(cluster_base pgds-bench)
trap 'cluster_stop "$base/db" >/dev/null 2>&1; rm -rf "$base"' EXIT
port=$(free_port 57432)
cluster_init "$base/db" "$port" >/dev/null
cluster_start "$base/db"
P=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$base/db" -p "$port" -U postgres)

# the parse-only peer, built outside the tree
cp -r "$here/parse_only" "$base/po"
make -s -C "$base/po" >/dev/null
chmod -R a+rX "$base/po"

"${P[@]}" -d postgres -c "CREATE DATABASE bench"
"${P[@]}" -d bench -f "$corpus/tpch/schema.sql" >/dev/null
"${P[@]}" -d bench -c "CREATE EXTENSION pg_datasource" \
	-c "SELECT datasource.create_database('tpch_db', schema_name => 'public', create_schema => false)" \
	-c "CREATE FUNCTION parse_only(text, int) RETURNS int AS '$base/po/parse_only.so', 'parse_only' LANGUAGE C STRICT" \
	>/dev/null

# texts: the 22 TPC-H queries, and every statement of a few regression files
# that parse (split by the server itself: one statement per psql -c would be
# slow, so the sample is cut with the test splitter when it is there)
"${P[@]}" -d bench -c "CREATE TABLE texts (kind text, q text)"
for f in "$corpus"/tpch/q*.sql; do
	q=$(grep -v '^--' "$f")
	"${P[@]}" -d bench -v q="$q" -f - <<<"INSERT INTO texts VALUES ('tpch', :'q');"
done
for f in select join subselect aggregates with union insert update; do
	perl "$root/test/lib/split_sql.pl" --format=tsv "$corpus/pg-regress-sql/$f.sql" |
		"${P[@]}" -d bench -c "CREATE TEMP TABLE raw (file text, ord int, line int, scs text, enc text, b64 text);
		                        COPY raw FROM STDIN;
		                        INSERT INTO texts SELECT 'regress', convert_from(decode(b64, 'base64'), 'UTF8')
		                          FROM raw WHERE enc = 'utf8' AND scs = 'on'"
done
# keep the texts that parse as exactly one statement (command is NULL when
# the text does not parse; several statements are reported as such)
"${P[@]}" -d bench -c "CREATE INDEX ON texts (kind)"
"${P[@]}" -d bench -c "DELETE FROM texts t WHERE (SELECT command IS NULL OR error LIKE 'several%' FROM datasource.validate(t.q))"

"${P[@]}" -d bench -c "ANALYZE texts"
echo "== validate() vs raw_parser, per statement (same texts, same session)"
"${P[@]}" -d bench -F ' | ' <<'SQL'
CREATE FUNCTION pg_temp.per_call(kind_ text, what text, reps int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; n bigint; dummy bigint;
BEGIN
  SELECT count(*) INTO n FROM texts WHERE kind = kind_;
  t0 := clock_timestamp();
  FOR i IN 1..reps LOOP
    IF what = 'noop' THEN
      SELECT count(octet_length(q)) INTO dummy FROM texts WHERE kind = kind_;
    ELSIF what = 'parse' THEN
      SELECT count(parse_only(q, 1)) INTO dummy FROM texts WHERE kind = kind_;
    ELSE
      SELECT count(v.valid) INTO dummy FROM texts, LATERAL datasource.validate(q, 'tpch_db') v WHERE kind = kind_;
    END IF;
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / (n * reps);
END $$;
-- warm caches
SELECT count(*) FROM texts, LATERAL datasource.validate(q, 'tpch_db') v;
SELECT count(parse_only(q, 1)) FROM texts;
WITH m AS (
  SELECT kind, (SELECT count(*) FROM texts t WHERE t.kind = k.kind) AS n,
         pg_temp.per_call(kind, 'noop', 300) AS floor_us,
         pg_temp.per_call(kind, 'parse', 300) AS parse_us,
         pg_temp.per_call(kind, 'validate', 300) AS validate_us
    FROM (SELECT DISTINCT kind FROM texts) k)
SELECT 'corpus | statements | floor µs | raw_parser µs | validate µs | ratio | ratio net of floor'
UNION ALL
SELECT kind || ' | ' || n || ' | ' || round(floor_us::numeric, 2) || ' | ' || round(parse_us::numeric, 2)
       || ' | ' || round(validate_us::numeric, 2) || ' | ' || round((validate_us / parse_us)::numeric, 2)
       || ' | ' || round(((validate_us - floor_us) / (parse_us - floor_us))::numeric, 2)
  FROM m;
SQL

echo
rounds=${ROUNDS:-5}
echo "== pgbench -S, ${secs}s per run, 2 clients, $rounds interleaved rounds (median TPS; ratio to no library)"
"${PGBIN}/pgbench" -h "$base/db" -p "$port" -U postgres -i -s 5 -q bench >/dev/null 2>&1
run() {
	"${PGBIN}/pgbench" -h "$base/db" -p "$port" -U postgres -S -T "$secs" -c 2 -j 2 -n bench 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
setup() {
	"${P[@]}" -d postgres -c "ALTER DATABASE bench RESET ALL" >/dev/null
	case $1 in
	off) "${P[@]}" -d postgres -c "ALTER DATABASE bench SET session_preload_libraries = 'pg_datasource'" >/dev/null ;;
	on) "${P[@]}" -d postgres -c "ALTER DATABASE bench SET session_preload_libraries = 'pg_datasource'" \
		-c "ALTER DATABASE bench SET datasource.enforce = 'error'" \
		-c "ALTER DATABASE bench SET datasource.allowed_databases = 'tpch_db'" >/dev/null ;;
	esac
}
: >"$base/tps"
for r in $(seq 1 "$rounds"); do
	for mode in none off on; do
		setup $mode
		echo "$mode $(run)" >>"$base/tps"
	done
done
setup none
sort -k1,1 -k2,2n "$base/tps" | awk '
	{ v[$1, ++n[$1]] = $2 }
	function median(m) { k = n[m]; return k % 2 ? v[m, (k + 1) / 2] : (v[m, k / 2] + v[m, k / 2 + 1]) / 2 }
	END {
		base = median("none");
		printf "%-34s | %10s | %s\n", "setup", "TPS", "ratio";
		printf "%-34s | %10.0f | %.3f\n", "no library", base, 1;
		printf "%-34s | %10.0f | %.3f\n", "library loaded, enforce = off", median("off"), median("off") / base;
		printf "%-34s | %10.0f | %.3f\n", "library loaded, enforce = error", median("on"), median("on") / base;
	}'

