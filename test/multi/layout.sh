#!/usr/bin/env bash
# The source tree keeps the layout README.md describes: every src/*.c is
# listed in README's layout block and every listed file exists; calls
# between files go one way (the file-level call graph, read from the built
# objects' defined and undefined symbols, has no cycle); no file passes
# 1,000 lines and no function 150 (a function that is one plain switch
# excepted); every global symbol carries the ds_ or pgds_ prefix (PostgreSQL's
# own module symbols aside).
#
# Needs the objects of a build in $PGDS_ROOT/src (make test builds there).
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
ROOT=${PGDS_ROOT:-$(cd "$here/../.." && pwd)}
cd "$ROOT" || exit 1

objs=(src/*.o)
if [ ! -e "${objs[0]}" ]; then
    fail "the build's objects are in src/ (run after make)"
    done_testing
fi

# every object is fresh: older than its source would check a stale layout
stale=""
for c in src/*.c; do
    o=${c%.c}.o
    [ -e "$o" ] && [ ! "$o" -ot "$c" ] || stale="$stale $c"
done
is "$stale" "" "every src/*.c has an object built from it"

# README's layout block: the lines 'src/NAME.c  responsibility'
listed=$(grep -oE '^src/[a-z_]+\.[ch]\b' README.md | sort -u)
actual=$(ls src/*.c src/*.h | sort)
is "$(comm -3 <(echo "$listed") <(echo "$actual") | tr -d '\t' | tr '\n' ' ')" "" \
    "README's layout lists exactly the files of src/"

# the call graph between files: A -> B when A uses a symbol B defines
declare -A def
for o in "${objs[@]}"; do
    f=$(basename "$o" .o)
    while read -r s; do def[$s]=$f; done < <(nm -g --defined-only "$o" | awk '$2 ~ /[TDBR]/ {print $3}')
done
edges=$(for o in "${objs[@]}"; do
    f=$(basename "$o" .o)
    nm -u "$o" | awk '{print $2}' | while read -r s; do
        t=${def[$s]:-}
        [ -n "$t" ] && [ "$t" != "$f" ] && echo "$f $t"
    done
done | sort -u)
cycle=$(echo "$edges" | tsort 2>&1 >/dev/null | grep -v '^tsort: -:' | sed 's/^tsort: //' | tr '\n' ' ')
is "$cycle" "" "calls between files go one way (no cycle in the file call graph)"
[ -n "$cycle" ] && diag "edges: $(echo "$edges" | tr '\n' ';')"

# prefixes
bad=$(for o in "${objs[@]}"; do nm -g --defined-only "$o" | awk '{print $3}'; done |
    grep -vE '^(ds_|pgds_|pg_finfo_|_PG_init$|Pg_magic_func$|pg_datasource_validator$)' | tr '\n' ' ')
is "$bad" "" "every global symbol carries the ds_ or pgds_ prefix"

# sizes
big=$(wc -l src/*.c | awk '$2 != "total" && $1 > 1000 {printf "%s(%d) ", $2, $1}')
is "$big" "" "no source file passes 1,000 lines"
# a function: from a line 'name(' at column 0 to the next '}' at column 0;
# one whose body is a single switch is exempt
long=$(for c in src/*.c; do
    awk -v F="$c" '
        /^[A-Za-z_][A-Za-z0-9_]*\(/ { name = $0; sub(/\(.*/, "", name); start = NR; sw = 0; stmts = 0; next }
        name != "" && /^\tswitch \(/ { sw = 1 }
        name != "" && /^\t[a-z]/ && !/^\tswitch/ && !/^\t(case|default)/ { stmts++ }
        /^}/ && name != "" { n = NR - start; if (n > 150 && !(sw && stmts <= 3)) printf "%s:%s(%d) ", F, name, n; name = "" }
    ' "$c"
done)
is "$long" "" "no function passes 150 lines (a plain switch excepted)"

done_testing
