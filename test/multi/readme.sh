#!/usr/bin/env bash
# Every SQL example of README.md runs against the demo bank, and where the
# README shows psql's output for one, psql prints exactly that.
#
# The demo is loaded as `make demo` loads it (test/demo/cards_data.sql,
# setup.sql, regional_data.sql, then walkthrough.sql) into the database
# `demo` on the local test server, with the regional office's database
# `regional_bank` on the remote one and the card processor's database
# `payments` on a MariaDB server of this script's own.  Then README.md's examples run in the order they appear,
# each ```sql block as one psql script (psql -X -f, ON_ERROR_STOP) in the
# database `demo`, so each example sees what the ones above it did:
#   - a block that fails, or prints a psql error, fails its test;
#   - a ```text block that follows a ```sql block (only blank lines
#     between) is that block's output: psql's standard output for the
#     block must equal it, blanks at line ends and empty lines at the end
#     aside (NOTICEs and WARNINGs go to standard error and are not
#     compared), so the README shows only output that does not change
#     from run to run;
#   - a ```sql block right after a line `<!-- not run: REASON -->` is not
#     run (its test is reported as skipped with the reason): keep those few,
#     for examples that need what no demo can have.
# At the end the databases and roles it made are dropped.
#
# Needs the PGDS_* variables of test/run.sh (two running servers), and
# mariadb-server and mysql_fdw (skipped without them).
set -u
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/tap.sh"
source "$here/../lib/cluster.sh"
source "$here/../lib/mariadb.sh"
{ maria_available && [ -f "$("$PGBIN/pg_config" --pkglibdir)/mysql_fdw.so" ]; } ||
	skip_all "the demo needs mariadb-server and mysql_fdw (test/deps.sh installs them)"
MARIA=$PGDS_BASE/maria-readme

README=${PGDS_README:-$here/../../README.md}
DEMO=$here/../demo
LPSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres)
RPSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$PGDS_REMOTE_HOST" -p "$PGDS_REMOTE_PORT")
# an example runs as a reader's psql would run it: command tags printed
EPSQL=(psql -X -v ON_ERROR_STOP=1 -h "$PGDS_LOCAL_HOST" -p "$PGDS_LOCAL_PORT" -U postgres -d demo)

tmp=$(mktemp -d) || bail_out "cannot make a temp dir"

# drop_all : remove what this script makes; fine if it is not there.
drop_all() {
	"${LPSQL[@]}" -d postgres -c 'DROP DATABASE IF EXISTS demo WITH (FORCE)' \
		-c 'DROP ROLE IF EXISTS agent' >/dev/null 2>&1
	"${RPSQL[@]}" -U postgres -d postgres -c 'DROP DATABASE IF EXISTS regional_bank WITH (FORCE)' \
		-c 'DROP ROLE IF EXISTS bank_app' >/dev/null 2>&1
}
cleanup() {
	drop_all
	maria_stop "$MARIA"
	rm -rf "$tmp" "$MARIA"
}
trap cleanup EXIT

# ---------------------------------------------------------------- the demo

drop_all
{
	maria_start "$MARIA" "$(free_port 33365)" &&
	maria_sql "$MARIA" <"$DEMO/cards_data.sql" &&
	"${RPSQL[@]}" -U postgres -d postgres \
		-c "CREATE ROLE bank_app LOGIN PASSWORD 'demo-only-password'" \
		-c "CREATE DATABASE regional_bank OWNER bank_app" &&
	"${LPSQL[@]}" -d postgres -c "CREATE DATABASE demo" &&
	"${LPSQL[@]}" -d demo -v regional_port="$PGDS_REMOTE_PORT" -v cards_port="$(maria_port "$MARIA")" \
		-f "$DEMO/setup.sql" &&
	"${RPSQL[@]}" -U bank_app -d regional_bank -f "$DEMO/regional_data.sql" &&
	PGDS_DEMO_MARIADB="mariadb --no-defaults -S $MARIA/sock -u root" \
		"${LPSQL[@]}" -d demo -f "$DEMO/walkthrough.sql"
} >"$tmp/setup.log" 2>&1
rc=$?
ok $rc "the demo bank loads on the test servers"
[ "$rc" = 0 ] || { diag "$(tail -n 20 "$tmp/setup.log")"; bail_out "no demo database"; }

# ---------------------------------------------------------------- the examples

# norm FILE : FILE without blanks at line ends and blank lines at its end
# (psql pads its last column and ends a result with an empty line; an
# editor would strip both from the README).
norm() {
	perl -0pe 's/[ \t]+$//mg; s/\n+\z/\n/' "$1"
}

# Cut README.md into blocks: NNN.sql, NNN.expected (when the README shows
# the output) and NNN.info ("LINE" or "LINE skip REASON").
perl -e '
	my ($readme, $dir) = @ARGV;
	open(my $in, "<", $readme) or die "$readme: $!\n";
	my @lines = <$in>;
	my ($n, $i) = (0, 0);
	# fence(I) : the info string if line I opens a fence, else undef
	sub fence { my $l = $lines[$_[0]] // ""; $l =~ /^```(\S*)\s*$/ ? $1 : undef }
	# block(I) : the lines after the fence at I up to the closing one; index after it
	sub block {
		my $j = $_[0] + 1;
		my $text = "";
		while ($j < @lines && $lines[$j] !~ /^```\s*$/) { $text .= $lines[$j++]; }
		die "README line " . ($_[0] + 1) . ": fence never closed\n" if $j >= @lines;
		return ($text, $j + 1);
	}
	my $prev = "";
	while ($i < @lines) {
		my $info = fence($i);
		if (!defined $info) {
			$prev = $lines[$i] if $lines[$i] =~ /\S/;
			$i++;
			next;
		}
		my $at = $i + 1;
		my ($text, $next) = block($i);
		$i = $next;
		$prev = "";
		next unless $info eq "sql";
		my $name = sprintf("%s/%03d", $dir, ++$n);
		open(my $f, ">", "$name.sql") or die; print $f $text; close $f;
		my $meta = $at;
		if ((my $before = $lines[$at - 2] // "") =~ /^<!-- not run: (.+?) -->\s*$/) {
			$meta .= " skip $1";
		} elsif ($before =~ /^<!--.*not run/) {
			die "README line " . ($at - 1) . ": write <!-- not run: REASON -->\n";
		}
		open($f, ">", "$name.info") or die; print $f "$meta\n"; close $f;
		# output belongs in a text block, where it is compared, not in comments
		die "README line $at: psql output in a comment of a sql block; show it in a text block\n"
			if $text =~ /^\s*--\s*-+(\+-+)+\s*$|^\s*--\s*\(\d+ rows?\)/m;
		# its output: a text block after nothing but blank lines
		my $j = $i;
		$j++ while $j < @lines && $lines[$j] !~ /\S/;
		if ((fence($j) // "") eq "text") {
			my ($out, $after) = block($j);
			open($f, ">", "$name.expected") or die; print $f $out; close $f;
			$i = $after;
		}
	}
' "$README" "$tmp" 2>"$tmp/extract.err"
ok $? "README.md's examples can be extracted"
[ -s "$tmp/extract.err" ] && diag "$(cat "$tmp/extract.err")"

blocks=("$tmp"/[0-9][0-9][0-9].sql)
[ -e "${blocks[0]}" ] || blocks=()
shown=("$tmp"/[0-9][0-9][0-9].expected)
[ -e "${shown[0]}" ] || shown=()
# A floor, so that a broken extractor cannot pass by finding nothing.
[ ${#blocks[@]} -ge 15 ] && [ ${#shown[@]} -ge 5 ]
ok $? "found ${#blocks[@]} SQL examples, ${#shown[@]} with output"

for sql in "${blocks[@]}"; do
	base=${sql%.sql}
	read -r line mode reason <"$base.info"
	what="README.md line $line: $(grep -m1 -v '^[[:space:]]*\(--.*\)\?$' "$sql" | sed 's/^[[:space:]]*//' | cut -c1-60)"
	if [ "$mode" = skip ]; then
		skip 1 "$what (not run: $reason)"
		continue
	fi
	"${EPSQL[@]}" -f "$sql" >"$base.got" 2>"$base.err"
	rc=$?
	# With ON_ERROR_STOP psql stops at an error; without it, it would go on:
	# either way an ERROR on standard error fails the example.
	if [ "$rc" = 0 ] && ! grep -q 'ERROR:' "$base.err"; then
		pass "$what runs"
	else
		fail "$what runs"
		diag "exit code $rc; psql said:"
		diag "$(head -n 20 "$base.err")"
	fi
	if [ -e "$base.expected" ]; then
		norm "$base.expected" >"$base.want"
		norm "$base.got" >"$base.have"
		if diff -u "$base.want" "$base.have" >"$base.diff"; then
			pass "$what prints what the README shows"
		else
			fail "$what prints what the README shows"
			diag "$(head -n 40 "$base.diff")"
		fi
	fi
done
done_testing
