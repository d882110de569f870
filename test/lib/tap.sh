# test/lib/tap.sh - a tiny TAP producer for bash test scripts (test/multi/*.sh).
#
# Source it, then emit results; `prove --exec bash test/multi/x.sh` reads them.
#
#   source "$(dirname "$0")/../lib/tap.sh"
#   plan 3                                  # or skip plan and end with done_testing
#   psql ... -c 'select 1' >/dev/null; ok $? "remote answers"
#   is "$(psql ... -c 'select 2')" "2" "query result"
#   like "$err" 'connection refused|could not connect' "error names the cause"
#   diag "shown on stderr, also by prove without -v"
#   note "shown on stdout as a comment"
#   done_testing                            # prints the plan if none was given
#
# Also: pass NAME, fail NAME, isnt GOT UNEXPECTED NAME, skip N REASON,
# skip_all REASON, bail_out REASON.  Assertions always return 0, so a script
# under `set -e` goes on after a failed one.  done_testing exits with the number of
# failed tests (at most 254), 255 if the plan and the count disagree.

_tap_run=0
_tap_failed=0
_tap_planned=""

# plan N : announce N tests (print once, before or after the tests).
plan() {
    _tap_planned=$1
    printf '1..%s\n' "$1"
}

# skip_all REASON : the script tests nothing here; exit successfully.
skip_all() {
    printf '1..0 # SKIP %s\n' "$*"
    exit 0
}

# bail_out REASON : stop the whole prove run.
bail_out() {
    printf 'Bail out! %s\n' "$*"
    exit 255
}

# _tap_result PASSED(0|1) NAME
_tap_result() {
    local passed=$1 name=$2
    _tap_run=$((_tap_run + 1))
    # '#' would start a TAP directive inside a name: escape it.
    name=${name//#/\\#}
    if [ "$passed" = 1 ]; then
        printf 'ok %d - %s\n' "$_tap_run" "$name"
        return 0
    fi
    _tap_failed=$((_tap_failed + 1))
    printf 'not ok %d - %s\n' "$_tap_run" "$name"
    diag "  Failed test '$2'"
    diag "  at ${BASH_SOURCE[2]:-?} line ${BASH_LINENO[1]:-?}."
    return 0
}

# diag MSG... : a comment on stderr (prove shows it even when not verbose).
diag() {
    local line
    while IFS= read -r line; do
        printf '# %s\n' "$line" >&2
    done <<<"$*"
}

# note MSG... : a comment on stdout (shown by prove -v only).
note() {
    local line
    while IFS= read -r line; do
        printf '# %s\n' "$line"
    done <<<"$*"
}

# ok EXIT_CODE NAME : passes when EXIT_CODE is 0, as in `cmd; ok $? "cmd works"`.
ok() {
    local code=$1 name=${2:-}
    if [ "$code" = 0 ]; then
        _tap_result 1 "$name"
    else
        _tap_result 0 "$name"
        diag "  exit code: $code"
    fi
}

# pass NAME / fail NAME : an unconditional result.
pass() { _tap_result 1 "$1"; }
fail() { _tap_result 0 "$1"; }

# is GOT EXPECTED NAME : string equality.
is() {
    local got=$1 expected=$2 name=${3:-}
    if [ "$got" == "$expected" ]; then
        _tap_result 1 "$name"
    else
        _tap_result 0 "$name"
        diag "         got: '$got'"
        diag "    expected: '$expected'"
    fi
}

# isnt GOT UNEXPECTED NAME : string inequality.
isnt() {
    local got=$1 unexpected=$2 name=${3:-}
    if [ "$got" != "$unexpected" ]; then
        _tap_result 1 "$name"
    else
        _tap_result 0 "$name"
        diag "         got: '$got'"
        diag "    expected: anything else"
    fi
}

# like GOT REGEX NAME : GOT matches the extended regular expression REGEX.
like() {
    local got=$1 regex=$2 name=${3:-}
    if [[ $got =~ $regex ]]; then
        _tap_result 1 "$name"
    else
        _tap_result 0 "$name"
        diag "                  '$got'"
        diag "    doesn't match '$regex'"
    fi
}

# skip N REASON : count N tests as skipped.
skip() {
    local n=$1 i
    shift
    for ((i = 0; i < n; i++)); do
        _tap_run=$((_tap_run + 1))
        printf 'ok %d # skip %s\n' "$_tap_run" "$*"
    done
}

# done_testing : print the plan if none was given, then exit with the
# number of failures (so a script's exit status tells too).
done_testing() {
    if [ -z "$_tap_planned" ]; then
        printf '1..%d\n' "$_tap_run"
    elif [ "$_tap_planned" != "$_tap_run" ]; then
        diag "Looks like you planned $_tap_planned tests but ran $_tap_run."
        exit 255
    fi
    if [ "$_tap_failed" -gt 0 ]; then
        diag "Looks like you failed $_tap_failed test(s) of $_tap_run."
        exit $((_tap_failed > 254 ? 254 : _tap_failed))
    fi
    exit 0
}
