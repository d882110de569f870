# test/lib/count.sh - count test results in the logs of pg_regress,
# pg_isolation_regress and prove, for test/run.sh's per-layer table.
#
# Source it from bash; it defines functions only.  Each function reads one
# log file and sets global variables (bash functions cannot return several
# numbers):
#
#   count_regress LOG ASKED    R_PASS R_FAIL          (pg_regress, isolation)
#   count_tap LOG              T_PASS T_FAIL T_SKIP   (pg_prove, prove -v)
#   summary_line PASSED FAILED SKIPPED    (prints run.sh's last line)
#
# test/multi/run_counts.sh checks them on sample logs.

# count_regress LOG ASKED : count "test NAME ... ok|FAILED" lines of
# pg_regress / pg_isolation_regress.  PG15 prints, per test,
# `test NAME  ... ok  12 ms` (serial) or `     NAME  ... ok  12 ms` (parallel
# group), `... FAILED  12 ms` (also `... FAILED (test process exited with
# exit code 2)`), or `... failed (ignored)` for tests a schedule marks as
# ignorable: those count neither way (pg_regress itself does not fail for
# them, but they got a verdict).  pg_regress has no skipped tests.  A test
# that never got a verdict (pg_regress stops at the first missing expected
# file, for one) counts as failed: ASKED is how many were asked for.
count_regress() {
    local log=$1 asked=$2 ran ignored
    R_PASS=$(grep -cE '\.\.\. ok( |$)' "$log")
    R_FAIL=$(grep -cE '\.\.\. FAILED( |$)' "$log")
    ignored=$(grep -cE '\.\.\. failed \(ignored\)' "$log")
    ran=$((R_PASS + R_FAIL + ignored))
    if [ "$ran" -lt "$asked" ]; then
        echo "   $((asked - ran)) of $asked test(s) got no verdict (counted as failed)"
        R_FAIL=$((R_FAIL + asked - ran))
    fi
}

# A TAP directive: an unescaped '#' after the description, then SKIP or
# TODO in any case (TAP allows `# skip`, `# SKIP`, `#SKIP`, `# Skipped`).
# A '#' written as '\#' (test/lib/tap.sh escapes names so) is text.
_TAP_DESC='([^#\\]|\\.)*#[[:space:]]*'
_TAP_SKIP="$_TAP_DESC[Ss][Kk][Ii][Pp]"
_TAP_TODO="$_TAP_DESC[Tt][Oo][Dd][Oo]"

# count_tap LOG : count top-level TAP results in a `prove -v` log.  Only
# lines starting in column 0 count (indented lines are subtests, already
# summed by their parent).
#   ok N ...                  passed
#   ok N ... # SKIP reason    skipped (not passed: nothing was checked)
#   not ok N ... # TODO       an expected failure: passed, as prove counts it
#   not ok N ...              failed (also with a SKIP directive)
#   NAME .. skipped: reason   a file that skipped all its tests (its plan
#                             was `1..0 # SKIP reason`, which prove shows
#                             so): 1 skipped
# Tests a file planned but never ran (it died) count as failed, and so does
# a log that is not there.
count_tap() {
    local log=$1 missing
    if [ ! -r "$log" ]; then
        T_PASS=0 T_FAIL=1 T_SKIP=0
        return
    fi
    T_SKIP=$(grep -cE "^ok [0-9]+$_TAP_SKIP|^[^ ]+ \.+ skipped:" "$log")
    T_PASS=$(grep -E "^ok [0-9]+|^not ok [0-9]+$_TAP_TODO" "$log" |
        grep -cvE "^ok [0-9]+$_TAP_SKIP")
    T_FAIL=$(grep -E '^not ok [0-9]+' "$log" | grep -cvE "^not ok [0-9]+$_TAP_TODO")
    missing=$(sed -nE 's/.*You planned ([0-9]+) tests? but ran ([0-9]+)\..*/\1 \2/p' "$log" |
        awk '{ if ($1 > $2) m += $1 - $2 } END { print m + 0 }')
    T_FAIL=$((T_FAIL + missing))
}

# summary_line PASSED FAILED SKIPPED : the last line of test/run.sh.  CI
# reads `N passed, N failed` at its start; the skips follow.
summary_line() {
    printf '%d passed, %d failed, %d skipped\n' "$1" "$2" "$3"
}
