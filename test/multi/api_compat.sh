#!/usr/bin/env bash
# The C sources use no PostgreSQL 15 interface that a later major removed,
# so that the extension keeps building when it moves on.  Each src/*.c is
# compiled (syntax only) against the installed server headers with the
# removed names poisoned: GCC's "#pragma GCC poison" makes any later use
# of a name an error, while comments and the headers included before the
# pragma are left alone.  The names:
#   lxid         PGPROC's local transaction id; PostgreSQL 17 moved it into
#                PGPROC.vxid (MyProc->lxid no longer compiles there)
#   MyBackendId  PostgreSQL 17 replaced it with MyProcNumber
# A first check compiles a use of MyProc->lxid and expects the compiler to
# refuse it, so the check cannot pass by ignoring the pragma.
# Starts no server: it is here because the multi layer runs shell TAP
# scripts (prove --exec bash test/multi/api_compat.sh also runs it alone).
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"

ROOT=${PGDS_ROOT:-$(cd "$here/../.." && pwd)}
POISON="lxid MyBackendId"

# the headers: run.sh's PG_CONFIG may be a relocated copy without them
incdir=""
for pgc in "${PG_CONFIG:-}" pg_config; do
	[ -n "$pgc" ] || continue
	d=$("$pgc" --includedir-server 2>/dev/null) || continue
	if [ -f "$d/postgres.h" ]; then
		incdir=$d
		libpqdir=$("$pgc" --includedir)
		cc=$("$pgc" --cc 2>/dev/null || echo cc)
		break
	fi
done
[ -n "$incdir" ] || skip_all "no PostgreSQL server headers (postgresql-server-dev-15)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# compile_poisoned SOURCE : compile SOURCE with $POISON poisoned after the
# headers that declare them; print the compiler's complaints.
compile_poisoned() {
	{
		echo '#include "postgres.h"'
		echo '#include "miscadmin.h"'
		echo '#include "storage/proc.h"'
		echo "#pragma GCC poison $POISON"
		echo "#include \"$1\""
	} >"$tmp/wrap.c"
	# shellcheck disable=SC2086
	LC_ALL=C $cc -fsyntax-only -I"$ROOT/src" -I"$incdir" -I"$libpqdir" "$tmp/wrap.c" 2>&1
}

cat >"$tmp/uses_lxid.c" <<'EOF'
#include "postgres.h"
#include "storage/proc.h"

LocalTransactionId pgds_probe(void);

LocalTransactionId
pgds_probe(void)
{
	return MyProc->lxid;
}
EOF
out=$(compile_poisoned "$tmp/uses_lxid.c")
rc=$?
if [ "$rc" != 0 ] && grep -q 'poisoned' <<<"$out"; then
	pass "a use of MyProc->lxid does not compile with the names poisoned"
else
	fail "a use of MyProc->lxid does not compile with the names poisoned"
	diag "$out"
fi

for f in "$ROOT"/src/*.c; do
	out=$(compile_poisoned "$f")
	rc=$?
	name="src/$(basename "$f") uses none of: $POISON"
	if [ "$rc" = 0 ]; then
		pass "$name"
	else
		fail "$name"
		diag "$(grep -m 5 'poisoned\|error' <<<"$out")"
	fi
done

done_testing
