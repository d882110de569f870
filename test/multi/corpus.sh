#!/usr/bin/env bash
# Corpus run of datasource.validate(): no input may crash the backend, raise
# an internal error (XX000) or raise anything at all (validate reports in its
# row; it raises only on misuse, which a text argument never is).
#
# Input, cut into statements by test/lib/split_sql.pl (psql's own rules):
#   - PostgreSQL 15's regression SQL  (../shared/corpus/pg-regress-sql/*.sql)
#   - the TPC-H schema and 22 queries  (../shared/corpus/tpch)
#   - random queries from `sqlsmith --dry-run` against this database
# Passes (each one CALL of a plpgsql procedure looping over the statements,
# every call in BEGIN ... EXCEPTION WHEN OTHERS recording the SQLSTATE):
#   plain      regress + tpch   validate(stmt)
#   regress_ro regress + tpch   validate(stmt, 'regress_db', require_read_only => true)
#   sqlsmith   sqlsmith         validate(stmt) and validate(stmt, 'regress_db', true)
# and the 22 TPC-H queries must be valid and read-only in logical database
# tpch_db.  Prints counts per verdict (valid/invalid x read_only) and the
# most frequent error kinds per pass, and the time each pass took.
#
# The procedure commits every 500 statements, so if the backend dies the
# script knows the batch, finds the statement that kills it (one session per
# statement), reports it, and goes on after it (at most 5 times a pass).
#
# Knobs: PGDS_CORPUS_DIR (default ROOT/../shared/corpus, or beside the
# checkout ROOT was cloned from when that is a local directory),
# PGDS_CORPUS_RO_SAMPLE=N (the regress_ro pass takes every Nth statement;
# default 1 = all), PGDS_SQLSMITH_QUERIES (default 2000), PGDS_SQLSMITH_SEED
# (default 20231115), PGDS_KEEP=1 keeps database multi_corpus (tables
# corpus_input, corpus_result, corpus_crash) to look at afterwards.
#
# Needs the PGDS_* variables of test/run.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

ROOT=${PGDS_ROOT:-$(cd "$here/../.." && pwd)}
CORPUS=${PGDS_CORPUS_DIR:-$ROOT/../shared/corpus}
# a clone of a local checkout made elsewhere (git clone . /tmp/x) finds the
# corpus beside the checkout it was cloned from
if [ -z "${PGDS_CORPUS_DIR:-}" ] && ! [ -d "$CORPUS" ]; then
	origin=$(git -C "$ROOT" config --get remote.origin.url 2>/dev/null || true)
	if [ -n "$origin" ] && [ -d "$origin/../shared/corpus" ]; then
		CORPUS=$origin/../shared/corpus
	fi
fi
SPLIT=$ROOT/test/lib/split_sql.pl
RO_SAMPLE=${PGDS_CORPUS_RO_SAMPLE:-1}
SS_QUERIES=${PGDS_SQLSMITH_QUERIES:-2000}
SS_SEED=${PGDS_SQLSMITH_SEED:-20231115}
DB=multi_corpus

# the corpus is part of what make test must check: its absence is a failure
if ! [ -d "$CORPUS/pg-regress-sql" ] || ! [ -d "$CORPUS/tpch" ]; then
	plan 1
	fail "the SQL corpus is at $CORPUS (pg-regress-sql/, tpch/; set PGDS_CORPUS_DIR)"
	done_testing
fi

L=(psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
lq() { "${L[@]}" -d "$DB" "$@"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgds-corpus.XXXXXX") || { fail "cannot make a temp dir"; done_testing; }
trap 'rm -rf "$WORK"' EXIT
LOG=$PGDS_LOCAL_DIR/server.log
log_lines_at_start=$(wc -l <"$LOG" 2>/dev/null || echo 0)

# ms : milliseconds since the epoch
ms() { echo $(($(date +%s%N) / 1000000)); }
T_START=$(ms)

# wait_for_server : after a backend crash the postmaster reinitialises; wait
# (60 s at most) until it accepts connections again
wait_for_server() {
	local i
	for i in $(seq 120); do
		"${L[@]}" -d postgres -c "SELECT 1" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}

# setup_failed WHAT : a failed setup fails this script only (no "Bail out!":
# the other multi-server scripts still run)
setup_failed() {
	fail "setup: $*"
	done_testing
}

# ------------------------------------------------------------------ setup

"${L[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB" \
	-c "CREATE DATABASE $DB" >/dev/null ||
	setup_failed "cannot create database $DB"

# The regression suite's base tables (onek, tenk1, int4_tbl, ...) in public,
# so that a part of the corpus resolves.  Their data files are not here:
# those COPYs (and the C functions) fail, which is fine.
"${L[@]}" -d "$DB" -v ON_ERROR_STOP=0 -f "$CORPUS/pg-regress-sql/test_setup.sql" \
	>"$WORK/test_setup.log" 2>&1 </dev/null
note "test_setup.sql: $(lq -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'") tables in public"

lq -c "CREATE EXTENSION pg_datasource" \
	-c "SELECT datasource.create_database('regress_db', schema_name => 'public', create_schema => false)" \
	-c "SELECT datasource.create_database('tpch_db')" >/dev/null ||
	setup_failed "cannot create the extension or the logical databases"
# TPC-H tables in the schema of tpch_db, and q15's view (its SELECT reads it)
perl "$SPLIT" "$CORPUS/tpch/schema.sql" | tr '\0' '\n' >"$WORK/tpch_schema.sql"
perl "$SPLIT" "$CORPUS/tpch/q15.sql" | tr '\0' '\n' | sed -n '1,/;$/p' >"$WORK/q15_view.sql"
lq -c "SET search_path = tpch_db" -f "$WORK/tpch_schema.sql" -f "$WORK/q15_view.sql" >/dev/null ||
	setup_failed "cannot create the TPC-H schema"
is "$(lq -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'tpch_db'::regnamespace AND relkind IN ('r', 'v')")" "9" \
	"setup: 8 TPC-H tables and q15's view revenue0 in logical database tpch_db"

lq <<'SQL' >/dev/null || setup_failed "cannot create the corpus tables"
CREATE TABLE corpus_stage (file text, ord int, line int, scs text, enc text, b64 text);
CREATE TABLE corpus_input (
	id serial PRIMARY KEY, source text, file text, ord int, line int, scs text, enc text, stmt text);
CREATE TABLE corpus_result (
	pass text, id int, sqlstate text, message text,
	valid boolean, read_only boolean, command text, error text,
	datasource text, databases text[], relations text[],
	PRIMARY KEY (pass, id));
CREATE TABLE corpus_crash (pass text, id int, output text);

-- corpus_run: validate the statements of SOURCES with id > FROM (every
-- SAMPLEth one), at most LIMIT of them; one BEGIN ... EXCEPTION block per
-- call records what was raised; commits every 500 statements.
CREATE PROCEDURE corpus_run(p_pass text, p_sources text[], p_from int, p_database text,
                            p_require_ro boolean, p_sample int DEFAULT 1, p_limit int DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
	s record;
	n int := 0;
	cur_scs text := current_setting('standard_conforming_strings');
	v_state text; v_msg text;
	v_valid boolean; v_ro boolean; v_cmd text; v_err text; v_ds text; v_dbs text[]; v_rels text[];
BEGIN
	FOR s IN SELECT id, scs, stmt FROM corpus_input
	          WHERE id > p_from AND source = ANY (p_sources) AND id % p_sample = 0
	          ORDER BY id LIMIT p_limit
	LOOP
		-- the setting psql had when the file reached this statement
		IF s.scs IS DISTINCT FROM cur_scs THEN
			PERFORM set_config('standard_conforming_strings', s.scs, false);
			cur_scs := s.scs;
		END IF;
		v_state := NULL; v_msg := NULL;
		v_valid := NULL; v_ro := NULL; v_cmd := NULL; v_err := NULL; v_ds := NULL; v_dbs := NULL; v_rels := NULL;
		BEGIN
			SELECT v.valid, v.read_only, v.command, v.error, v.datasource, v.databases, v.relations
			  INTO v_valid, v_ro, v_cmd, v_err, v_ds, v_dbs, v_rels
			  FROM datasource.validate(s.stmt, p_database, p_require_ro) v;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
		END;
		INSERT INTO corpus_result
		VALUES (p_pass, s.id, v_state, v_msg, v_valid, v_ro, v_cmd, v_err, v_ds, v_dbs, v_rels);
		n := n + 1;
		IF n % 500 = 0 THEN
			COMMIT;
		END IF;
	END LOOP;
	PERFORM set_config('standard_conforming_strings', 'on', false);
END
$$;

-- verdict table of a pass
CREATE FUNCTION corpus_verdicts(p_pass text)
RETURNS TABLE (verdict text, ro_true bigint, ro_false bigint, ro_null bigint, total bigint)
LANGUAGE sql AS $$
	SELECT verdict, ro_true, ro_false, ro_null, total FROM (
		SELECT CASE WHEN sqlstate IS NOT NULL THEN 'raised ' || sqlstate
		            WHEN valid THEN 'valid' WHEN NOT valid THEN 'invalid' ELSE 'valid=NULL' END AS verdict,
		       count(*) FILTER (WHERE read_only) AS ro_true, count(*) FILTER (WHERE NOT read_only) AS ro_false,
		       count(*) FILTER (WHERE read_only IS NULL) AS ro_null, count(*) AS total, 1 AS o
		  FROM corpus_result WHERE pass = p_pass GROUP BY 1
		UNION ALL
		SELECT 'total', count(*) FILTER (WHERE read_only), count(*) FILTER (WHERE NOT read_only),
		       count(*) FILTER (WHERE read_only IS NULL), count(*), 2
		  FROM corpus_result WHERE pass = p_pass) v
	ORDER BY o, CASE verdict WHEN 'valid' THEN 1 WHEN 'invalid' THEN 2 ELSE 3 END, verdict
$$;

-- the most frequent error kinds of a pass: the first 40 characters of the
-- error, with quoted names and numbers folded ("x" -> "_", 123 -> N)
CREATE FUNCTION corpus_errors(p_pass text, p_top int)
RETURNS TABLE (n bigint, kind text)
LANGUAGE sql AS $$
	SELECT count(*), k FROM (
		SELECT left(regexp_replace(regexp_replace(error, '"[^"]*"', '"_"', 'g'), '[0-9]+', 'N', 'g'), 40) AS k
		  FROM corpus_result WHERE pass = p_pass AND error IS NOT NULL) e
	 GROUP BY k ORDER BY 1 DESC, 2 LIMIT p_top
$$;
SQL

# load SOURCE FILE... : split the files and append them to corpus_input;
# print how many statements were loaded
load() {
	local source=$1
	shift
	perl "$SPLIT" --format=tsv "$@" >"$WORK/stage.tsv" || return 1
	lq -c "TRUNCATE corpus_stage" -c "COPY corpus_stage FROM STDIN" <"$WORK/stage.tsv" || return 1
	lq -c "INSERT INTO corpus_input (source, file, ord, line, scs, enc, stmt)
	       SELECT '$source', file, ord, line, scs, enc,
	              convert_from(decode(b64, 'base64'), CASE enc WHEN 'utf8' THEN 'UTF8' ELSE 'LATIN1' END)
	         FROM corpus_stage WHERE enc <> 'nul' ORDER BY file, ord" \
	   -c "SELECT count(*) FROM corpus_stage WHERE enc <> 'nul'"
}

t0=$(ms)
n_regress=$(load regress "$CORPUS"/pg-regress-sql/*.sql)
n_tpch=$(load tpch "$CORPUS"/tpch/*.sql)
t_load=$(($(ms) - t0))
enc_report=$(perl "$SPLIT" --format=tsv "$CORPUS"/pg-regress-sql/*.sql "$CORPUS"/tpch/*.sql |
	awk -F'\t' '$5 == "bytes" { b++ } $5 == "nul" { z++ } END { printf "%d not valid UTF-8 (fed decoded as LATIN1), %d with a NUL byte (skipped)", b, z }')
note "loaded $n_regress regress and $n_tpch tpch statements in ${t_load} ms; $enc_report"
[ "${n_regress:-0}" -ge 40000 ]
ok $? "the regress corpus gives at least 40000 statements ($n_regress)"

# ------------------------------------------------------------------ passes

# run_pass PASS SOURCES DATABASE REQUIRE_RO SAMPLE : one CALL; if the backend
# dies, find and record the statement, then go on after it.
run_pass() {
	local pass=$1 sources=$2 database=$3 ro=$4 sample=$5
	local from=0 crashes=0 out rc culprit try_out n half
	local dbarg=NULL
	[ -n "$database" ] && dbarg="'$database'"
	PASS_ALIVE=1
	# call FROM [LIMIT] : one session, one CALL, then a SELECT that shows the
	# backend is still there
	call() {
		lq -c "SET escape_string_warning = off" -c "SET client_min_messages = warning" \
			-c "SET statement_timeout = '15min'" \
			-c "CALL corpus_run('$pass', '$sources', $1, $dbarg, $ro, $sample, ${2:-NULL})" \
			-c "SELECT 'alive ' || 1" 2>&1
	}
	while :; do
		out=$(call "$from")
		rc=$?
		[ "$rc" = 0 ] && [[ $out == *"alive 1"* ]] && return 0
		PASS_ALIVE=0
		diag "pass $pass: the CALL failed (exit $rc): $(echo "$out" | grep -v '^alive' | head -n 5)"
		if ! [[ $out =~ server\ closed\ the\ connection|terminating\ connection|connection\ to\ server.*lost|no\ connection\ to\ the\ server ]]; then
			return 1    # not a dead backend (a timeout, say): reported above
		fi
		wait_for_server || { diag "pass $pass: the server did not come back"; return 1; }
		# batches of 500 are committed: the culprit is among the next 500;
		# bisect (one session per try), then check it alone
		from=$(lq -c "SELECT greatest(max(id), $from) FROM corpus_result WHERE pass = '$pass'")
		n=500
		while [ "$n" -gt 1 ]; do
			half=$((n / 2))
			try_out=$(call "$from" "$half")
			if [ $? = 0 ] && [[ $try_out == *"alive 1"* ]]; then
				from=$(lq -c "SELECT greatest(max(id), $from) FROM corpus_result WHERE pass = '$pass'")
				n=$((n - half))
			else
				wait_for_server
				n=$half
			fi
		done
		culprit=$(lq -c "SELECT min(id) FROM corpus_input
		                  WHERE id > $from AND source = ANY ('$sources') AND id % $sample = 0")
		try_out=$(call "$from" 1)
		rc=$?
		if [ -z "$culprit" ] || { [ "$rc" = 0 ] && [[ $try_out == *"alive 1"* ]]; }; then
			diag "pass $pass: no single statement kills the backend when run alone"
			return 1
		fi
		wait_for_server
		lq -c "INSERT INTO corpus_crash VALUES ('$pass', $culprit, \$o\$$(echo "$try_out" | grep -v '^alive' | head -n 5 | tr -d '$')\$o\$)" >/dev/null
		crashes=$((crashes + 1))
		from=$culprit
		if [ "$crashes" -ge 5 ]; then
			diag "pass $pass: 5 statements killed the backend; the rest of the pass is not run"
			return 1
		fi
	done
}

# report_pass PASS SOURCES SAMPLE ELAPSED_MS : the assertions and tables of a pass
report_pass() {
	local pass=$1 sources=$2 sample=$3 elapsed=$4 expected got crashes x state raised offenders
	expected=$(lq -c "SELECT count(*) FROM corpus_input WHERE source = ANY ('$sources') AND id % $sample = 0")
	got=$(lq -c "SELECT count(*) FROM corpus_result WHERE pass = '$pass'")
	crashes=$(lq -c "SELECT count(*) FROM corpus_crash WHERE pass = '$pass'")
	note "pass $pass: $got of $expected statements in $elapsed ms ($(lq -c "SELECT round($got * 1000.0 / greatest($elapsed, 1))") per second)"
	[ "$PASS_ALIVE" = 1 ] && [ "$crashes" = 0 ] && [ "$got" = "$expected" ]
	ok $? "pass $pass: the loop completed over all $expected statements and the backend stayed alive"
	if [ "$crashes" != 0 ]; then
		diag "statements that killed the backend in pass $pass:"
		diag "$(lq -c "SELECT i.file || ':' || i.line || ' (id ' || i.id || '): ' || left(i.stmt, 400)
		                 || E'\n    -> ' || c.output
		            FROM corpus_crash c JOIN corpus_input i USING (id) WHERE c.pass = '$pass' ORDER BY i.id")"
	fi
	x=$(lq -c "SELECT count(*) FROM corpus_result WHERE pass = '$pass' AND sqlstate = 'XX000'")
	is "$x" "0" "pass $pass: no statement raised an internal error (XX000)"
	raised=$(lq -c "SELECT count(*) FROM corpus_result WHERE pass = '$pass' AND sqlstate IS NOT NULL")
	is "$raised" "0" "pass $pass: no statement raised anything (validate reports, it does not raise)"
	if [ "$raised" != 0 ]; then
		diag "raised by SQLSTATE: $(lq -c "SELECT string_agg(sqlstate || ' x' || n, ', ' ORDER BY n DESC)
		                             FROM (SELECT sqlstate, count(*) n FROM corpus_result
		                                    WHERE pass = '$pass' AND sqlstate IS NOT NULL GROUP BY 1) s")"
		diag "first 10:"
		diag "$(lq -c "SELECT r.sqlstate || ' ' || r.message || E'\n    at ' || i.file || ':' || i.line
		                 || ' (id ' || i.id || '): ' || left(regexp_replace(i.stmt, '\s+', ' ', 'g'), 300)
		            FROM corpus_result r JOIN corpus_input i USING (id)
		           WHERE r.pass = '$pass' AND r.sqlstate IS NOT NULL ORDER BY (r.sqlstate = 'XX000') DESC, i.id LIMIT 10")"
	fi
	note "verdicts of pass $pass (read_only true / false / NULL):"
	note "$("${L[@]}" -d "$DB" -P format=aligned -P tuples_only=off -P footer=off -c "SELECT * FROM corpus_verdicts('$pass')")"
	note "top error kinds of pass $pass:"
	note "$("${L[@]}" -d "$DB" -P format=aligned -P tuples_only=off -P footer=off -c "SELECT * FROM corpus_errors('$pass', 20)")"
}

t0=$(ms)
run_pass plain '{regress,tpch}' "" false 1
report_pass plain '{regress,tpch}' 1 $(($(ms) - t0))

t0=$(ms)
run_pass regress_ro '{regress,tpch}' regress_db true "$RO_SAMPLE"
report_pass regress_ro '{regress,tpch}' "$RO_SAMPLE" $(($(ms) - t0))

# ------------------------------------------------------------------ TPC-H

# the query of each file: the first SELECT (q15: its SELECT, between the
# CREATE VIEW and the DROP VIEW)
tpch_check() {
	local database=$1 require_ro=$2
	lq -c "SELECT string_agg(file || ': valid=' || coalesce(v.valid::text, 'NULL') || ' read_only='
	                         || coalesce(v.read_only::text, 'NULL') || ' error=' || coalesce(v.error, ''), E'\n' ORDER BY file)
	         FROM (SELECT DISTINCT ON (file) file, stmt FROM corpus_input
	                WHERE source = 'tpch' AND file ~ '^q[0-9]+\.sql$' AND stmt ~* '^\s*select'
	                ORDER BY file, ord) q,
	              datasource.validate(q.stmt, $database, $require_ro) v
	        WHERE NOT coalesce(v.valid AND v.read_only, false)"
}
n_q=$(lq -c "SELECT count(DISTINCT file) FROM corpus_input WHERE source = 'tpch' AND file ~ '^q[0-9]+\.sql$' AND stmt ~* '^\s*select'")
is "$n_q" "22" "TPC-H: 22 query files hold a SELECT"
bad=$(tpch_check "'tpch_db'" false)
is "$bad" "" "TPC-H: all 22 queries are valid and read_only with database => 'tpch_db'"
bad=$(tpch_check "'tpch_db'" true)
is "$bad" "" "TPC-H: and with require_read_only => true"
is "$(lq -c "SELECT string_agg(DISTINCT r, ',' ORDER BY r)
               FROM corpus_input i, datasource.validate(i.stmt, 'tpch_db') v, unnest(v.relations) r
              WHERE i.source = 'tpch' AND i.file ~ '^q' AND i.stmt ~* '^\s*select'")" \
	"tpch_db.customer,tpch_db.lineitem,tpch_db.nation,tpch_db.orders,tpch_db.part,tpch_db.partsupp,tpch_db.region,tpch_db.revenue0,tpch_db.supplier" \
	"TPC-H: the queries read exactly the 8 tables and q15's view, all in tpch_db"
is "$(lq -c "SELECT string_agg(DISTINCT coalesce(v.datasource, 'NULL') || ' ' || array_to_string(v.databases, ','), '; ')
               FROM corpus_input i, datasource.validate(i.stmt, 'tpch_db') v
              WHERE i.source = 'tpch' AND i.file ~ '^q' AND i.stmt ~* '^\s*select'")" \
	"local tpch_db" "TPC-H: one datasource (local) and one logical database"
is "$(lq -c "SELECT string_agg(v.command || ' ' || v.valid || ' ' || v.read_only, ', ' ORDER BY i.ord)
               FROM corpus_input i, datasource.validate(i.stmt, 'tpch_db') v
              WHERE i.source = 'tpch' AND i.file = 'q15.sql'")" \
	"CREATE VIEW true false, SELECT true true, DROP VIEW true false" \
	"TPC-H q15: CREATE VIEW and DROP VIEW are valid but not read-only"
bad=$(lq -c "SET search_path = tpch_db, public" -c "SELECT count(*) FROM corpus_input i, datasource.validate(i.stmt) v
               WHERE i.source = 'tpch' AND i.file ~ '^q' AND i.stmt ~* '^\s*select' AND v.valid AND v.read_only")
is "$bad" "22" "TPC-H: without database, search_path = tpch_db resolves all 22 queries"

# ------------------------------------------------------------------ sqlsmith

if ! command -v sqlsmith >/dev/null 2>&1; then
	skip 7 "sqlsmith is not installed (Debian package sqlsmith; test/deps.sh installs it)"
else
	t0=$(ms)
	# sqlsmith reads the schema of this database (the regress tables in
	# public, tpch_db, the catalogs) and prints queries separated by ';'
	sqlsmith --dry-run --max-queries="$SS_QUERIES" --seed="$SS_SEED" \
		--target="host=$PGDS_LOCAL_HOST port=$PGDS_LOCAL_PORT dbname=$DB user=postgres" \
		>"$WORK/sqlsmith.sql" 2>"$WORK/sqlsmith.err"
	rc=$?
	n_ss=0
	[ "$rc" = 0 ] && n_ss=$(load sqlsmith "$WORK/sqlsmith.sql")
	t_gen=$(($(ms) - t0))
	note "sqlsmith (seed $SS_SEED) gave ${n_ss:-0} statements in ${t_gen} ms (exit $rc); by first word: $(
		lq -c "SELECT string_agg(w || ' ' || n, ', ' ORDER BY n DESC) FROM (
		         SELECT lower(substring(stmt from '^\s*(\w+)')) w, count(*) n FROM corpus_input
		          WHERE source = 'sqlsmith' GROUP BY 1) s")"
	[ "$rc" = 0 ] && [ "${n_ss:-0}" -ge $((SS_QUERIES * 9 / 10)) ]
	ok $? "sqlsmith --dry-run printed about $SS_QUERIES statements ($n_ss)"
	[ "$rc" = 0 ] || diag "$(tail -n 5 "$WORK/sqlsmith.err")"

	t0=$(ms)
	run_pass sqlsmith '{sqlsmith}' "" false 1
	report_pass sqlsmith '{sqlsmith}' 1 $(($(ms) - t0))
	t0=$(ms)
	run_pass sqlsmith_ro '{sqlsmith}' regress_db true 1
	report_pass sqlsmith_ro '{sqlsmith}' 1 $(($(ms) - t0))
fi

# ------------------------------------------------------------------ the server

is "$(lq -c "SELECT 1")" "1" "the server answers after all passes"
crash_lines=$(tail -n +"$((log_lines_at_start + 1))" "$LOG" 2>/dev/null |
	grep -E 'terminated by signal|was terminated by exception|server process .* exited with exit code [^0]' | head -n 5)
is "$crash_lines" "" "the server log shows no backend crash during the run"
note "corpus.sh took $(($(ms) - T_START)) ms in all"

# PGDS_KEEP=1 (as for test/run.sh) keeps the database to look at the results
[ "${PGDS_KEEP:-0}" = 1 ] || "${L[@]}" -d postgres -c "DROP DATABASE $DB" >/dev/null 2>&1
done_testing
