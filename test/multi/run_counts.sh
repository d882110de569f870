#!/usr/bin/env bash
# How test/run.sh counts results (test/lib/count.sh), checked on logs of
# known content: TAP files run through prove exactly as run.sh runs the
# multi-server layer (skips, SKIP/TODO directives in any case, an escaped
# '#', subtests, a file that skips everything, a file that dies before its
# plan is done), a pg_regress log, and the form of the last line CI reads.
# Starts no server; it sits in test/multi because that layer runs bash TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/count.sh"

tmp=$(mktemp -d) || bail_out "cannot make a temp dir"
trap 'rm -rf "$tmp"' EXIT

# -- TAP, through prove --verbose --failures --exec bash (as layer_multi)
cat >"$tmp/a.sh" <<'TAP'
echo '1..7'
echo 'ok 1 - plain'
echo 'ok 2 - I10 FOR KEY SHARE SKIP LOCKED'
echo 'ok 3 # skip no remote server'
echo 'ok 4 - a name with \# skip in it'
echo 'not ok 5 - known bug # TODO not fixed yet'
echo 'ok 6 - lower and upper case #SKIP sqlsmith missing'
echo 'ok 7 - pgTAP style # SKIP not on this platform'
TAP
cat >"$tmp/b.sh" <<'TAP'
echo '1..3'
echo '    # Subtest: inner'
echo '    ok 1 - inner one'
echo '    ok 2 # skip inner skip'
echo '    1..2'
echo 'ok 1 - inner'
echo 'not ok 2 - broken'
echo 'ok 3 # Skipped: nothing to do'
TAP
cat >"$tmp/c.sh" <<'TAP'
echo '1..0 # SKIP no corpus here'
TAP
cat >"$tmp/d.sh" <<'TAP'
echo '1..4'
echo 'ok 1 - first'
echo 'not ok 2 - second # SKIP a failure is a failure'
exit 3
TAP
(cd "$tmp" && prove --verbose --failures --exec bash a.sh b.sh c.sh d.sh) >"$tmp/prove.log" 2>&1
count_tap "$tmp/prove.log"
# a.sh: 1 2 4 5 pass, 3 6 7 skip; b.sh: 1 passes, 2 fails, 3 skips (the
# indented subtest lines count through their parent);
# c.sh: skipped whole; d.sh: 1 passes, 2 fails, 3 and 4 never ran.
is "$T_PASS" 6 "passed: plain results and an expected (TODO) failure, not skips"
is "$T_SKIP" 5 "skipped: '# skip', '#SKIP', '# SKIP', '# Skipped', and a file with plan 1..0"
is "$T_FAIL" 4 "failed: not ok (even with a SKIP directive) and tests a dying file never ran"
# prove's own summary of the same log agrees on the files
like "$(cat "$tmp/prove.log")" 'Files=4, Tests=12' "prove saw the 12 results counted here (and 3 that never came)"
grep -qE '^ok 2 - I10 FOR KEY SHARE SKIP LOCKED' "$tmp/prove.log"
ok $? "the sample log holds a passing test whose name says SKIP"

# a log with no results at all
: >"$tmp/empty.log"
count_tap "$tmp/empty.log"
is "$T_PASS/$T_FAIL/$T_SKIP" "0/0/0" "an empty log counts nothing"
count_tap "$tmp/no-such.log"
is "$T_PASS/$T_FAIL/$T_SKIP" "0/1/0" "a missing log counts as one failure"

# -- pg_regress: serial, parallel, ignored, failed, and a test with no verdict
cat >"$tmp/regress.log" <<'LOG'
============== running regression test queries        ==============
test registry                     ... ok           91 ms
parallel group (2 tests):  fdw config
     fdw                          ... ok           34 ms
     config                       ... FAILED       63 ms
test validate                     ... failed (ignored)       49 ms
test route                        ... FAILED (test process exited with exit code 2)       41 ms
LOG
count_regress "$tmp/regress.log" 6 >"$tmp/regress.out"
is "$R_PASS/$R_FAIL" "2/3" "pg_regress: ok counts, FAILED counts, ignored neither, a missing verdict fails"
like "$(cat "$tmp/regress.out")" '1 of 6 test\(s\) got no verdict' "a missing verdict is said"

# -- the last line
line=$(summary_line 3100 0 7)
is "$line" "3100 passed, 0 failed, 7 skipped" "the last line says passed, failed and skipped"
like "$line" '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$' "it still has the form CI reads"
done_testing
