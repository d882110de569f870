#!/usr/bin/env bash
# test/run.sh - run every test layer of pg_datasource against throwaway servers.
#
# `make test` calls this after `make install`.  It starts two PostgreSQL 15
# servers under one temp base dir - `local` (the control plane, where the
# extension is tested) and `remote` (a second server used as a remote
# datasource) - then runs, each even if an earlier one failed:
#   1. pg_regress            sql/*.sql vs expected/*.out    ($REGRESS, from the Makefile)
#   2. pgTAP (pg_prove)      test/pgtap/*.sql               in database pgtap_test
#   3. isolation             test/isolation/specs/*.spec    ($ISOLATION or all specs)
#   4. multi-server scripts  test/multi/*.sh                TAP via test/lib/tap.sh
# and ends with a per-layer table and the line `N passed, N failed, N skipped`
# (TAP results with a SKIP directive count as skipped, not passed; see
# test/lib/count.sh).  Exit status 0 only if nothing failed and something
# passed.
#
# Layers see these environment variables:
#   PGDS_LOCAL_HOST  PGDS_LOCAL_PORT  PGDS_LOCAL_DIR     control-plane server
#   PGDS_REMOTE_HOST PGDS_REMOTE_PORT PGDS_REMOTE_DIR    remote server
#   PGDS_BIN (server binaries), PGDS_BASE (temp base dir: a test may put a
#   third cluster there; it is stopped at exit too), PGDS_ROOT (repo root),
#   PGUSER=postgres, PGHOST/PGPORT = the local server.
# A *_HOST is the socket directory, which is also the cluster's data dir;
# its log is DIR/server.log.
#
# Knobs: PGDS_KEEP=1 keeps the base dir even on success; PGDS_TEMP_CONFIG=FILE
# is appended to both servers' postgresql.conf; PGDS_LAYER_TIMEOUT (seconds,
# default 1800) bounds each layer; REGRESS_OPTS / ISOLATION_OPTS add options;
# PGDS_LAYERS (default "regress pgtap isolation multi") picks layers and their
# order; PGTAP and MULTI (space-separated paths) pick pgTAP files and
# multi-server scripts, as REGRESS and ISOLATION pick their tests.
# PGDS_EXTENSION (default pg_datasource) is the extension the pgTAP database gets.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd) || exit 1
cd "$ROOT" || exit 1

# shellcheck source=lib/cluster.sh
. "$ROOT/test/lib/cluster.sh"
# shellcheck source=lib/count.sh
. "$ROOT/test/lib/count.sh"

PGDS_LAYER_TIMEOUT=${PGDS_LAYER_TIMEOUT:-1800}
PGDS_EXTENSION=${PGDS_EXTENSION:-pg_datasource}
PG_CONFIG=${PG_CONFIG:-$PGBIN/pg_config}
PKGLIBDIR=$("$PG_CONFIG" --pkglibdir) || { echo "run.sh: pg_config failed" >&2; exit 1; }
PG_REGRESS=$PKGLIBDIR/pgxs/src/test/regress/pg_regress
PG_ISOLATION_REGRESS=$PKGLIBDIR/pgxs/src/test/isolation/pg_isolation_regress

if [ "$(id -u)" != 0 ]; then
    echo "run.sh: run as root (servers are started as the postgres OS user via runuser)" >&2
    exit 1
fi

# ---------------------------------------------------------------- cleanup

BASE=""
KEEP_BASE=0          # set to 1 when something failed: keep logs to read
ANNOUNCED=0          # set to 1 once the kept base dir was printed
CHILD_PID=""         # the layer command running now (see run_bounded)

stop_all_clusters() {
    local d
    [ -n "$BASE" ] && [ -d "$BASE" ] || return 0
    for d in "$BASE"/*/; do
        d=${d%/}
        [ -f "$d/PG_VERSION" ] || continue
        cluster_stop "$d" || echo "run.sh: could not stop the server in $d" >&2
    done
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_all_clusters
    if [ -n "$BASE" ] && [ -d "$BASE" ]; then
        if [ "$KEEP_BASE" = 1 ] || [ "${PGDS_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
            [ "$ANNOUNCED" = 1 ] || echo "run.sh: logs kept in $BASE"
        else
            rm -rf "$BASE"
        fi
    fi
    exit "$rc"
}
# on_signal CODE : end the running layer command, then exit (cleanup runs).
on_signal() {
    echo "run.sh: interrupted by a signal; stopping" >&2
    KEEP_BASE=1
    if [ -n "$CHILD_PID" ]; then
        kill -TERM "$CHILD_PID" 2>/dev/null
        wait "$CHILD_PID" 2>/dev/null
    fi
    exit "$1"
}
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# ---------------------------------------------------------------- servers

BASE=$(cluster_base pgds-test) || { echo "run.sh: cannot create a temp dir" >&2; exit 1; }

# The test servers run with glibc's mmap threshold fixed at 128 kB.  By
# default glibc raises the threshold to the largest block freed so far, after
# which the executor's large blocks (a describe of a schema frees about 2 MB
# of them per call) are carved from the heap, and the heap keeps the peak:
# a backend recording 1,000 schema snapshots grew from 14 to 20 MB of RssAnon
# and then stayed there for 4,000 more.  That ceiling is the allocator's, not
# a leak, but it would take memory.sh thousands of extra calls to reach it.
# With the threshold fixed, freed large blocks go back to the system and
# RssAnon counts only what the backend keeps (the same backend: 12.5 MB,
# flat).  Small leaks are caught either way; large ones stay mapped.
PGDS_MALLOC_TUNABLES=glibc.malloc.mmap_threshold=131072

# start_server NAME START_PORT : init and start $BASE/NAME on a free port,
# retrying on another port if someone took it in between; print the port.
start_server() {
    local name=$1 port=$2 dir=$BASE/$1 _try
    port=$(free_port "$port") || return 1
    cluster_init "$dir" "$port" >&2 || return 1
    for _try in 1 2 3 4 5; do
        if (export GLIBC_TUNABLES=$PGDS_MALLOC_TUNABLES; cluster_start "$dir") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
        grep -q 'could not bind\|could not create any TCP/IP sockets\|already in use' \
            "$dir/server.log" 2>/dev/null || break
        mv "$dir/server.log" "$dir/server.log.port$port"
        port=$(free_port $((port + 1))) || return 1
        cluster_set_port "$dir" "$port"
    done
    echo "run.sh: server $name did not start; last lines of $dir/server.log:" >&2
    tail -n 20 "$dir/server.log" >&2
    return 1
}

# Start somewhere in 55432..59431 so parallel runs rarely race for a port.
first_port=$((55432 + RANDOM % 4000))
LOCAL_DIR=$BASE/local
REMOTE_DIR=$BASE/remote
LOCAL_PORT=$(start_server local "$first_port") || { KEEP_BASE=1; exit 1; }
REMOTE_PORT=$(start_server remote $((LOCAL_PORT + 1))) || { KEEP_BASE=1; exit 1; }

export PGDS_LOCAL_HOST=$LOCAL_DIR PGDS_LOCAL_PORT=$LOCAL_PORT PGDS_LOCAL_DIR=$LOCAL_DIR
export PGDS_REMOTE_HOST=$REMOTE_DIR PGDS_REMOTE_PORT=$REMOTE_PORT PGDS_REMOTE_DIR=$REMOTE_DIR
export PGDS_BIN=$PGBIN PGDS_BASE=$BASE PGDS_ROOT=$ROOT
export PGUSER=postgres PGHOST=$LOCAL_DIR PGPORT=$LOCAL_PORT
unset PGDATABASE PGSERVICE PGOPTIONS

echo "run.sh: local server on port $LOCAL_PORT, remote on $REMOTE_PORT, base $BASE"
echo "run.sh: $("$PGBIN/psql" -X -A -t -h "$LOCAL_DIR" -p "$LOCAL_PORT" -U postgres -d postgres \
    -c 'select version()' 2>&1)"

# ---------------------------------------------------------------- bookkeeping

LAYERS=()            # layer names in order
declare -A L_PASS L_FAIL L_SKIP L_STATUS
TOTAL_PASS=0
TOTAL_FAIL=0
TOTAL_SKIP=0

# record NAME PASSED FAILED SKIPPED STATUS
record() {
    LAYERS+=("$1")
    L_PASS[$1]=$2
    L_FAIL[$1]=$3
    L_SKIP[$1]=$4
    L_STATUS[$1]=$5
    TOTAL_PASS=$((TOTAL_PASS + $2))
    TOTAL_FAIL=$((TOTAL_FAIL + $3))
    TOTAL_SKIP=$((TOTAL_SKIP + $4))
    [ "$3" -gt 0 ] && KEEP_BASE=1
    return 0
}

# run_bounded LOG CMD... : run CMD with the layer time limit, output to LOG.
# CMD runs in the background and we `wait` for it, because bash runs a trap
# only after a foreground command ends; `timeout` passes our TERM on to the
# whole command (it runs it in a process group of its own).
run_bounded() {
    local log=$1 rc
    shift
    timeout -k 30 "$PGDS_LAYER_TIMEOUT" "$@" >"$log" 2>&1 </dev/null &
    CHILD_PID=$!
    wait "$CHILD_PID"
    rc=$?
    CHILD_PID=""
    [ "$rc" = 124 ] && echo "run.sh: timed out after ${PGDS_LAYER_TIMEOUT}s" >>"$log"
    return "$rc"
}

# show_tap_failures LOG : the part of a `prove -v` log before its summary,
# less passing results: failing results, diagnostics, errors, bad plans.
# (prove passes stderr through unbuffered, so a file's diagnostics and psql
# errors may appear just above its name rather than below it.)
show_tap_failures() {
    echo "---- $1 without passing results (first 150 lines) ----"
    sed '/^Test Summary Report/,$d' "$1" | grep -vE '^ok( |$)|^1\.\.[0-9]+$' | head -n 150
    echo "---- end of excerpt ----"
}

# show_excerpt FILE LINES : print the first LINES lines of FILE, indented.
show_excerpt() {
    [ -s "$1" ] || return 0
    echo "---- $1 (first $2 lines) ----"
    head -n "$2" "$1"
    echo "---- end of excerpt ----"
}

# ---------------------------------------------------------------- layer 1: pg_regress

layer_regress() {
    local out=$BASE/regress log=$BASE/regress.log rc tests=() extra=()
    read -r -a tests <<<"${REGRESS:-}"
    if [ ${#tests[@]} -eq 0 ]; then
        echo "== pg_regress: skipped (REGRESS is empty)"
        record pg_regress 0 0 0 skipped
        return
    fi
    mkdir -p "$out"
    echo "== pg_regress: ${#tests[@]} test(s)"
    read -r -a extra <<<"${REGRESS_OPTS:-}"
    # No --use-existing: in PG15 that flag also skips dropping and creating
    # the database.  Without --temp-instance pg_regress uses our server.
    run_bounded "$log" "$PG_REGRESS" \
        --host="$LOCAL_DIR" --port="$LOCAL_PORT" --user=postgres \
        --inputdir=. --outputdir="$out" --bindir="$PGBIN" \
        --dbname=contrib_regression "${extra[@]}" "${tests[@]}"
    rc=$?
    grep -E '\.\.\. ' "$log" | sed 's/^/   /'
    count_regress "$log" "${#tests[@]}"
    if [ "$rc" != 0 ] && [ "$R_FAIL" = 0 ]; then
        R_FAIL=1   # pg_regress itself failed (no server, bad option, crash...)
    fi
    if [ "$rc" != 0 ] || [ "$R_FAIL" != 0 ]; then
        echo "pg_regress exited $rc; log: $log"
        if [ -s "$out/regression.diffs" ]; then
            show_excerpt "$out/regression.diffs" 200
        else
            tail -n 30 "$log"
        fi
        record pg_regress "$R_PASS" "$R_FAIL" 0 FAIL
    else
        record pg_regress "$R_PASS" 0 0 ok
    fi
}

# ---------------------------------------------------------------- layer 2: pgTAP

layer_pgtap() {
    local log=$BASE/pgtap.log setup=$BASE/pgtap-setup.log rc files
    if [ -n "${PGTAP:-}" ]; then
        read -r -a files <<<"$PGTAP"
    else
        files=(test/pgtap/*.sql)
    fi
    if [ ! -e "${files[0]}" ]; then
        echo "== pgTAP: skipped (no test/pgtap/*.sql)"
        record pgTAP 0 0 0 skipped
        return
    fi
    echo "== pgTAP: ${#files[@]} file(s)"
    # One database; the extensions are created once, each test file runs in
    # its own transaction and rolls back.
    if ! {
        "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$LOCAL_DIR" -p "$LOCAL_PORT" -U postgres -d postgres \
            -c 'DROP DATABASE IF EXISTS pgtap_test' -c 'CREATE DATABASE pgtap_test' &&
        "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$LOCAL_DIR" -p "$LOCAL_PORT" -U postgres -d pgtap_test \
            -c 'CREATE EXTENSION pgtap' -c "CREATE EXTENSION \"$PGDS_EXTENSION\" CASCADE"
    } >"$setup" 2>&1; then
        echo "pgTAP setup failed (tests not run):"
        sed 's/^/   /' "$setup"
        record pgTAP 0 1 0 FAIL
        return
    fi
    run_bounded "$log" pg_prove --verbose --failures \
        -h "$LOCAL_DIR" -p "$LOCAL_PORT" -U postgres -d pgtap_test "${files[@]}"
    rc=$?
    count_tap "$log"
    # pg_prove's own summary (CI reads `Result:`).
    sed -n '/^Test Summary Report/,$p' "$log"
    grep -qE '^Test Summary Report' "$log" || grep -E '^(All tests successful|Files=|Result:)' "$log"
    if [ "$rc" != 0 ] && [ "$T_FAIL" = 0 ]; then
        T_FAIL=1
    fi
    if [ "$T_FAIL" != 0 ]; then
        echo "pg_prove exited $rc"
        show_tap_failures "$log"
        record pgTAP "$T_PASS" "$T_FAIL" "$T_SKIP" FAIL
    else
        record pgTAP "$T_PASS" 0 "$T_SKIP" ok
    fi
}

# ---------------------------------------------------------------- layer 3: isolation

layer_isolation() {
    local out=$BASE/isolation log=$BASE/isolation.log rc specs=() extra=() f
    if [ -n "${ISOLATION:-}" ]; then
        read -r -a specs <<<"$ISOLATION"
    else
        for f in test/isolation/specs/*.spec; do
            [ -e "$f" ] || continue
            f=${f##*/}
            specs+=("${f%.spec}")
        done
    fi
    if [ ${#specs[@]} -eq 0 ]; then
        echo "== isolation: skipped (no test/isolation/specs/*.spec)"
        record isolation 0 0 0 skipped
        return
    fi
    mkdir -p "$out"
    echo "== isolation: ${#specs[@]} spec(s)"
    read -r -a extra <<<"${ISOLATION_OPTS:-}"
    # No --use-existing (see layer 1): the database is dropped and created.
    # Specs create the extension themselves in their setup block.
    run_bounded "$log" "$PG_ISOLATION_REGRESS" \
        --host="$LOCAL_DIR" --port="$LOCAL_PORT" --user=postgres \
        --inputdir=test/isolation --outputdir="$out" --bindir="$PGBIN" \
        --dbname=isolation_regression "${extra[@]}" "${specs[@]}"
    rc=$?
    grep -E '\.\.\. ' "$log" | sed 's/^/   /'
    count_regress "$log" "${#specs[@]}"
    if [ "$rc" != 0 ] && [ "$R_FAIL" = 0 ]; then
        R_FAIL=1
    fi
    if [ "$rc" != 0 ] || [ "$R_FAIL" != 0 ]; then
        echo "pg_isolation_regress exited $rc; log: $log"
        if [ -s "$out/regression.diffs" ]; then
            show_excerpt "$out/regression.diffs" 200
        else
            tail -n 30 "$log"
        fi
        record isolation "$R_PASS" "$R_FAIL" 0 FAIL
    else
        record isolation "$R_PASS" 0 0 ok
    fi
}

# ---------------------------------------------------------------- layer 4: multi-server

layer_multi() {
    local log=$BASE/multi.log rc files
    if [ -n "${MULTI:-}" ]; then
        read -r -a files <<<"$MULTI"
    else
        files=(test/multi/*.sh)
    fi
    if [ ! -e "${files[0]}" ]; then
        echo "== multi-server: skipped (no test/multi/*.sh)"
        record multi-server 0 0 0 skipped
        return
    fi
    echo "== multi-server: ${#files[@]} script(s)"
    run_bounded "$log" prove --verbose --failures --exec bash "${files[@]}"
    rc=$?
    count_tap "$log"
    sed -n '/^Test Summary Report/,$p' "$log"
    grep -qE '^Test Summary Report' "$log" || grep -E '^(All tests successful|Files=|Result:)' "$log"
    if [ "$rc" != 0 ] && [ "$T_FAIL" = 0 ]; then
        T_FAIL=1
    fi
    if [ "$T_FAIL" != 0 ]; then
        echo "prove exited $rc"
        show_tap_failures "$log"
        record multi-server "$T_PASS" "$T_FAIL" "$T_SKIP" FAIL
    else
        record multi-server "$T_PASS" 0 "$T_SKIP" ok
    fi
}

# ---------------------------------------------------------------- run

for layer in ${PGDS_LAYERS:-regress pgtap isolation multi}; do
    case $layer in
        regress) layer_regress ;;
        pgtap) layer_pgtap ;;
        isolation) layer_isolation ;;
        multi) layer_multi ;;
        *) echo "run.sh: unknown layer '$layer' in PGDS_LAYERS" >&2; exit 2 ;;
    esac
done

# Multi-server tests may stop and restart servers; say if one stayed down.
for d in "$LOCAL_DIR" "$REMOTE_DIR"; do
    cluster_running "$d" || echo "run.sh: note: server in $d was not running at the end"
done

echo
printf '%-14s %8s %8s %8s  %s\n' layer passed failed skipped status
for l in "${LAYERS[@]}"; do
    printf '%-14s %8s %8s %8s  %s\n' "$l" "${L_PASS[$l]}" "${L_FAIL[$l]}" "${L_SKIP[$l]}" "${L_STATUS[$l]}"
done

status=0
if [ "$TOTAL_FAIL" != 0 ] || [ "$TOTAL_PASS" -eq 0 ]; then
    status=1
    KEEP_BASE=1
fi
if [ "$KEEP_BASE" = 1 ] || [ "${PGDS_KEEP:-0}" = 1 ]; then
    echo "run.sh: logs kept in $BASE"
    ANNOUNCED=1
fi
# The last line; CI reads it (the form `N passed, N failed` it has always
# read, then the skips).
summary_line "$TOTAL_PASS" "$TOTAL_FAIL" "$TOTAL_SKIP"
exit "$status"
