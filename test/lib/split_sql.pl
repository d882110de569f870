#!/usr/bin/env perl
# test/lib/split_sql.pl - cut psql scripts into single SQL statements.
#
# Test tooling for the corpus runs (test/multi/corpus.sh): it only cuts files
# for feeding to datasource.validate(); the product itself uses PostgreSQL's
# parser.  The rules follow psql's own lexer (src/bin/psql/psqlscan.l), so a
# file is cut where psql would send a statement to the server:
#
#   - '...' strings with '' doubling; E'...' strings with backslash escapes;
#     B'' X'' N'' U&'' strings; "..." identifiers with "" doubling;
#     $$...$$ and $tag$...$tag$ dollar quotes; -- comments; nested /* */
#     comments; ( ) nesting (a ';' inside parentheses does not end a statement).
#   - standard_conforming_strings: a statement `SET [SESSION|LOCAL]
#     standard_conforming_strings {=|TO} off` (or RESET) switches how plain
#     '...' strings treat backslashes from then on, as psql does after the
#     server reports the change.  Each statement carries the setting in force
#     when it was read (see the tsv format).
#   - CREATE [OR REPLACE] FUNCTION|PROCEDURE ... BEGIN ATOMIC ... END: the
#     semicolons of the body belong to the statement (psql's heuristic: BEGIN
#     and, inside it, CASE open a level that END closes, at paren depth 0).
#   - psql meta-commands: a backslash outside quotes and comments starts one;
#     it and the rest of its line are dropped (also from the middle of a
#     statement).  \g, \gx, \gset, \gexec, \gdesc, \crosstabview and \watch
#     end the current statement (which is kept); \r (\reset) discards it;
#     \copy ... from stdin|pstdin drops the data lines that follow.  \; is
#     what psql makes of it: a ';' that does not end the statement, so
#     "SELECT 1 \; SELECT 2;" is ONE input "SELECT 1 ; SELECT 2;" (psql sends
#     it as one multi-statement query string, and so do we).
#   - COPY ... FROM STDIN (the first word COPY, FROM STDIN at paren depth 0):
#     after its end, the data lines up to a line `\.` (or the end of the file)
#     are dropped.
#   - psql variables (:var, :'var', :"var") are left as they are.
#   - Leading whitespace and -- comment lines before a statement are dropped
#     (psql does not send them either); the terminating ';' is kept.  A
#     statement that holds nothing but comments and ';' is skipped.  Text at
#     the end of a file without a ';' is a statement too (psql sends it).
#
# Usage: split_sql.pl [--format=nul|tsv|count] [--no-semicolon] FILE...
#   (FILE - or no FILE reads standard input; bytes are passed through as is)
#
# Output formats:
#   nul (default)  each statement's bytes followed by one NUL byte.  SQL text
#                  cannot contain NUL (the server refuses it), so this is
#                  unambiguous for every input that could be sent at all.
#   tsv            one line per statement, ready for COPY ... FROM STDIN
#                  (text format, tab-separated, no escapes needed):
#                    file  ordinal  line  scs  enc  base64
#                  file     the file's base name ("-" for standard input)
#                  ordinal  1-based statement number within the file
#                  line     1-based line where the statement starts
#                  scs      standard_conforming_strings in force: on|off
#                  enc      utf8: valid UTF-8 (strict: no surrogates, nothing
#                           over U+10FFFF); bytes: not valid UTF-8; nul: holds
#                           a NUL byte (no server accepts that as text)
#                  base64   the statement's bytes, base64 without line breaks
#                  Decode in SQL: convert_from(decode(b64, 'base64'), 'UTF8')
#                  for enc = utf8; for bytes e.g. convert_from(..., 'LATIN1')
#                  (every byte one character, nothing lost); skip nul.
#   count          per file "count<TAB>file" and a final "count<TAB>TOTAL".
# Statistics (statements per file, dropped COPY data lines, meta-commands)
# go to standard error with --stats.
use strict;
use warnings;
use MIME::Base64 qw(encode_base64);
use File::Basename qw(basename);
use Encode ();

my $format = 'nul';
my $keep_semicolon = 1;
my $stats = 0;
my @files;
for my $a (@ARGV) {
    if ($a =~ /^--format=(nul|tsv|count)$/) { $format = $1; }
    elsif ($a eq '--no-semicolon') { $keep_semicolon = 0; }
    elsif ($a eq '--stats') { $stats = 1; }
    elsif ($a eq '--help' || $a eq '-h') {
        print STDERR "usage: $0 [--format=nul|tsv|count] [--no-semicolon] [--stats] FILE...\n";
        exit 0;
    }
    elsif ($a =~ /^--./) { die "split_sql.pl: unknown option $a\n"; }
    else { push @files, $a; }
}
@files = ('-') unless @files;
binmode STDOUT;

my $total = 0;
my %st = (copy_lines => 0, meta => 0);

for my $file (@files) {
    my $text;
    {
        local $/;
        my $fh;
        if ($file eq '-') { $fh = \*STDIN; }
        else { open($fh, '<', $file) or die "split_sql.pl: cannot read $file: $!\n"; }
        binmode $fh;
        $text = <$fh>;
        $text = '' unless defined $text;
        close $fh unless $file eq '-';
    }
    my $n = split_text($text, $file eq '-' ? '-' : basename($file));
    $total += $n;
    print "$n\t$file\n" if $format eq 'count';
    printf STDERR "%6d %s\n", $n, $file if $stats;
}
print "$total\tTOTAL\n" if $format eq 'count';
printf STDERR "%6d statements; %d COPY data lines and %d meta-commands dropped\n",
    $total, $st{copy_lines}, $st{meta} if $stats;
exit 0;

# ---------------------------------------------------------------------------

# split_text TEXT NAME : cut TEXT, print the statements, return their number.
sub split_text {
    my ($text, $name) = @_;
    my $scs = 1;              # standard_conforming_strings
    my $count = 0;

    # state of the statement being read
    my ($start, $start_line);  # offset of its first byte, or undef while empty
    my $content = 0;           # saw something other than comments and ';'
    my $paren = 0;
    my $begin_depth = 0;
    my @idents;                # psql's identifiers[4]: first letters of create/or/replace/function/procedure
    my $ident_count = 0;
    my @words;                 # upper-cased words at paren depth 0 (first 64)
    my $copy_in = 0;          # an earlier part (before \;) was COPY FROM STDIN
    my @edits;                 # [offset, length, replacement] inside the statement
    my @cond;                  # psql \if stack: {st => T|F|I|ET|EF, off, paren}

    my $is_copy_from_stdin = sub {
        my @w = @_;
        return 0 unless @w && $w[0] eq 'COPY';
        for my $i (1 .. $#w - 1) {
            return 1 if $w[$i] eq 'FROM' && ($w[$i + 1] eq 'STDIN');
        }
        return 0;
    };
    my $reset = sub {
        undef $start;
        $content = 0;
        $paren = 0;
        $begin_depth = 0;
        @idents = ();
        $ident_count = 0;
        @words = ();
        @edits = ();
        $copy_in = 0;
    };
    # mark the statement as begun at offset P (line computed lazily)
    my ($line_pos, $line_no) = (0, 1);
    my $begin_at = sub {
        my ($p) = @_;
        return if defined $start;
        $start = $p;
        $line_no += (substr($text, $line_pos, $p - $line_pos) =~ tr/\n//);
        $line_pos = $p;
        $start_line = $line_no;
    };
    # emit the statement from $start to END (exclusive); returns true if
    # COPY data (COPY ... FROM STDIN) follows it
    my $emit = sub {
        my ($end) = @_;
        my @w = @words;
        my $copy = $copy_in || $is_copy_from_stdin->(@w);
        if (defined $start && $content) {
            my $s = substr($text, $start, $end - $start);
            for my $e (reverse @edits) {
                substr($s, $e->[0] - $start, $e->[1]) = $e->[2];
            }
            $s =~ s/;\s*\z// unless $keep_semicolon;
            $s =~ s/\s+\z//;
            $count++;
            out($name, $count, $start_line, $scs, $s);
            # SET standard_conforming_strings: psql learns the new value
            # from the server; mirror that.
            if (@w >= 2) {
                my @x = @w;
                shift @x if $x[0] eq 'SET' && @x > 1 && ($x[1] eq 'SESSION' || $x[1] eq 'LOCAL');
                if ($x[0] eq 'SET' && @x >= 4 && $x[1] eq 'STANDARD_CONFORMING_STRINGS'
                    && ($x[2] eq '=' || $x[2] eq 'TO')) {
                    my $v = lc $x[3];
                    $v =~ s/^'(.*)'$/$1/;
                    if ($v =~ /^(on|true|yes|1|t|y)$/) { $scs = 1; }
                    elsif ($v =~ /^(off|false|no|0|f|n)$/) { $scs = 0; }
                    elsif ($v eq 'default') { $scs = 1; }
                }
                elsif ($x[0] eq 'RESET' && ($x[1] eq 'STANDARD_CONFORMING_STRINGS' || $x[1] eq 'ALL')) {
                    $scs = 1;
                }
            }
        }
        $reset->();
        return $copy;
    };
    # skip COPY data: from the line after offset P up to a line "\." ;
    # returns the offset to go on from
    my $skip_copy_data = sub {
        my ($p) = @_;
        my $nl = index($text, "\n", $p);
        return length($text) if $nl < 0;
        pos($text) = $nl + 1;
        while (pos($text) < length($text)) {
            my $ls = pos($text);
            if ($text =~ /\G([^\n]*)(\n|\z)/gc) {
                my $line = $1;
                last if $line =~ /^\\\.\r?$/;
                $st{copy_lines}++;
                last if $2 eq '';
            } else { last; }
            last if pos($text) == $ls;
        }
        return pos($text) // length($text);
    };
    my $note_word = sub {
        my ($w) = @_;
        push @words, uc $w if $paren == 0 && @words < 64;
    };

    pos($text) = 0;
    my $len = length $text;
    while (pos($text) < $len) {
        my $p = pos($text);

        # whitespace and -- comments (dropped before a statement begins)
        if ($text =~ /\G(?:\s+|--[^\n]*)/gc) {
            next;
        }
        # block comment, nested
        if ($text =~ /\G\/\*/gc) {
            $begin_at->($p);
            my $depth = 1;
            while ($depth > 0) {
                if ($text =~ /\G[^\/*]+/gc) { next; }
                if ($text =~ /\G\/\*/gc) { $depth++; next; }
                if ($text =~ /\G\*\//gc) { $depth--; next; }
                if ($text =~ /\G[\/*]/gc) { next; }
                pos($text) = $len;  # unterminated
                last;
            }
            next;
        }
        # ';' ends a statement outside parentheses and BEGIN ATOMIC bodies
        if ($text =~ /\G;/gc) {
            if ($paren == 0 && $begin_depth == 0) {
                if (!defined $start) { next; }    # empty statement
                if (@cond && $cond[-1]{st} !~ /^E?T$/) {
                    $reset->();                   # not sent in an inactive branch
                    next;
                }
                my $end = pos($text);
                if ($emit->($end)) {
                    pos($text) = $skip_copy_data->($end);
                } else {
                    pos($text) = $end;
                }
            } else {
                $begin_at->($p);
            }
            next;
        }
        # psql meta-command
        if ($text =~ /\G\\/gc) {
            $st{meta}++;
            my $cmd = '';
            if ($text =~ /\G([A-Za-z]+|[^\sA-Za-z])/gc) { $cmd = $1; }
            my $active = !@cond || $cond[-1]{st} eq 'T' || $cond[-1]{st} eq 'ET';
            if ($cmd eq ';') {
                # \; : psql puts a ';' into the statement without sending
                # it, so "a \; b;" reaches the server as one string "a ; b;"
                if (defined $start) {
                    push @edits, [$p, 2, ';'];
                    $copy_in = 1 if $is_copy_from_stdin->(@words);
                    @words = ();
                }
                next;
            }
            # the arguments: up to the end of the line, or up to \\ (then
            # SQL goes on on the same line); quotes in arguments are skipped
            my $args;
            if ($cmd eq 'copy' || $cmd eq '!') {
                $text =~ /\G([^\n]*)/gc;
                $args = $1;
            } else {
                $text =~ /\G((?:'(?:[^'\\\n]|\\[^\n]|'')*(?:'|(?=\n)|\z)|"[^"\n]*(?:"|(?=\n)|\z)|`[^`\n]*(?:`|(?=\n)|\z)|[^\n\\'"`]|\\(?!\\))*)/gc;
                $args = $1;
                $text =~ /\G\\\\/gc;
            }
            my $after = pos($text);
            # conditionals: text of an inactive branch is cut out and the
            # paren depth restored, as psql does
            my $save = sub { $cond[-1]{off} = $after; $cond[-1]{paren} = $paren; };
            my $discard = sub {
                my $c = $cond[-1];
                if (defined $start) {
                    if ($start >= $c->{off}) {
                        $reset->();
                    } else {
                        @edits = grep { $_->[0] < $c->{off} } @edits;
                        push @edits, [$c->{off}, $p - $c->{off}, ''];
                    }
                }
                $paren = $c->{paren};
            };
            if ($cmd eq 'if') {
                if ($active) {
                    push @cond, { st => bool_arg($args) ? 'T' : 'F' };
                    $save->() if $cond[-1]{st} eq 'F';
                } else {
                    push @cond, { st => 'I' };
                    $save->();
                }
            } elsif ($cmd eq 'elif' && @cond) {
                my $s = $cond[-1]{st};
                if ($s eq 'T') { $save->(); $cond[-1]{st} = 'I'; }
                elsif ($s eq 'F') {
                    $discard->();
                    if (bool_arg($args)) { $cond[-1]{st} = 'T'; } else { $save->(); }
                }
                elsif ($s eq 'I') { $discard->(); $save->(); }
            } elsif ($cmd eq 'else' && @cond) {
                my $s = $cond[-1]{st};
                if ($s eq 'T') { $save->(); $cond[-1]{st} = 'EF'; }
                elsif ($s eq 'F') { $discard->(); $cond[-1]{st} = 'ET'; }
                elsif ($s eq 'I') { $discard->(); $save->(); $cond[-1]{st} = 'EF'; }
            } elsif ($cmd eq 'endif' && @cond) {
                my $s = $cond[-1]{st};
                $discard->() if $s eq 'F' || $s eq 'I' || $s eq 'EF';
                pop @cond;
            }
            if ($cmd =~ /^(if|elif|else|endif)$/) {
                push @edits, [$p, $after - $p, ''] if defined $start;
            } elsif (!$active) {
                # not executed in an inactive branch
                push @edits, [$p, $after - $p, ''] if defined $start;
            } elsif ($cmd eq 'q' || $cmd eq 'quit') {
                $reset->();
                pos($text) = $len;
                next;
            } elsif ($cmd =~ /^(g|gx|gset|gexec|gdesc|crosstabview|watch)$/) {
                if (defined $start && $emit->($p)) {
                    pos($text) = $skip_copy_data->($after);
                    next;
                }
            } elsif ($cmd eq 'r' || $cmd eq 'reset') {
                $reset->();
            } else {
                # inside a statement the meta-command is not part of it
                push @edits, [$p, $after - $p, ''] if defined $start;
                if ($cmd eq 'copy' && $args =~ /\bfrom\s+p?stdin\b/i) {
                    my $resume = $skip_copy_data->($after);
                    push @edits, [$after, $resume - $after, ''] if defined $start;
                    pos($text) = $resume;
                    next;
                }
            }
            pos($text) = $after;
            next;
        }

        # from here on the statement has begun
        $begin_at->($p);
        $content = 1;

        # strings
        if ($text =~ /\G[eE]'/gc) {
            skip_quoted(\$text, 1);
            next;
        }
        if ($text =~ /\G(?:[bBxXnN]|[uU]&)'/gc) {
            skip_quoted(\$text, 0);
            next;
        }
        if ($text =~ /\G'/gc) {
            my $q = pos($text);
            skip_quoted(\$text, $scs ? 0 : 1);
            $note_word->("'" . substr($text, $q, pos($text) - $q)) if pos($text) - $q < 64;
            next;
        }
        # quoted identifier (also U&"...")
        if ($text =~ /\G(?:[uU]&)?"/gc) {
            unless ($text =~ /\G(?:[^"]++|"")*+"/gc) { pos($text) = $len; }
            $note_word->('"');
            next;
        }
        # dollar quote
        if ($text =~ /\G(\$(?:[A-Za-z\x80-\xff_][A-Za-z\x80-\xff_0-9]*)?\$)/gc) {
            my $tag = $1;
            my $close = index($text, $tag, pos($text));
            pos($text) = $close < 0 ? $len : $close + length($tag);
            $note_word->('$$');
            next;
        }
        # identifiers and keywords (psql's BEGIN ATOMIC heuristic)
        if ($text =~ /\G([A-Za-z\x80-\xff_][A-Za-z\x80-\xff_0-9\$]*)/gc) {
            my $w = $1;
            my $lw = lc $w;
            @idents = () if $ident_count == 0;
            if ($lw =~ /^(create|function|procedure|or|replace)$/ && $ident_count < 4) {
                $idents[$ident_count] = substr($lw, 0, 1);
            }
            $ident_count++;
            my $i = sub { $idents[$_[0]] // '' };
            if ($i->(0) eq 'c'
                && ($i->(1) eq 'f' || $i->(1) eq 'p'
                    || ($i->(1) eq 'o' && $i->(2) eq 'r' && ($i->(3) eq 'f' || $i->(3) eq 'p')))
                && $paren == 0) {
                if ($lw eq 'begin') { $begin_depth++; }
                elsif ($lw eq 'case') { $begin_depth++ if $begin_depth >= 1; }
                elsif ($lw eq 'end') { $begin_depth-- if $begin_depth > 0; }
            }
            $note_word->($w);
            next;
        }
        if ($text =~ /\G\(/gc) { $paren++; next; }
        if ($text =~ /\G\)/gc) { $paren-- if $paren > 0; next; }
        # psql variables :var / :'var' / :"var" and casts: the quotes are
        # handled by the string rules on the next round
        if ($text =~ /\G(::?)/gc) { next; }
        # numbers (so "1$$" is not taken as a dollar quote start after 1)
        if ($text =~ /\G[0-9][0-9A-Za-z_.]*/gc) { $note_word->('0'); next; }
        # operators: a run of operator characters, stopping before a
        # comment start
        if ($text =~ /\G(=)/gc) { $note_word->('='); next; }
        if ($text =~ /\G(?:[~!@#^&|`?+*%<>\/-](?!\*|-))+/gc) { next; }
        if ($text =~ /\G[~!@#^&|`?+*%<>\/-]/gc) { next; }
        # anything else: one byte (',', '.', '[', ']', stray bytes)
        pos($text) = $p + 1;
    }
    # end of file: what is left is a statement (psql sends it)
    $emit->($len) if defined $start;
    return $count;
}

# skip_quoted TEXTREF BACKSLASH : after an opening quote, move pos past the
# closing one.  '' is a quote inside; with BACKSLASH, \x escapes any byte.
sub skip_quoted {
    my ($tr, $bs) = @_;
    my $re = $bs ? qr/\G(?:[^'\\]++|''|\\.)*+'/s : qr/\G(?:[^']++|'')*+'/s;
    unless ($$tr =~ /$re/gc) { pos($$tr) = length $$tr; }
}

sub out {
    my ($name, $n, $line, $scs, $s) = @_;
    return if $format eq 'count';
    if ($format eq 'nul') {
        print $s, "\0";
        return;
    }
    my $copy = $s;
    my $enc = $copy =~ /\0/ ? 'nul'
        : eval { Encode::decode('UTF-8', $copy, Encode::FB_CROAK); 1 } ? 'utf8' : 'bytes';
    (my $fname = $name) =~ s/[\t\n\r\\]/_/g;
    print join("\t", $fname, $n, $line, $scs ? 'on' : 'off', $enc, encode_base64($s, '')), "\n";
}

# bool_arg ARGS : the value of a \if / \elif expression as psql reads a
# boolean (true/false/yes/no/on/off/1/0 and unique prefixes).  psql
# variables are not known here: an expression with one is false (so
# "\if :skip_test \quit \endif" goes on, and the file is read whole).
sub bool_arg {
    my ($a) = @_;
    $a =~ s/^\s+|\s+$//g;
    $a =~ s/^'(.*)'$/$1/;
    $a = lc $a;
    return 0 if $a eq '';
    return 1 if 'true' =~ /^\Q$a\E/ || 'yes' =~ /^\Q$a\E/ || $a eq 'on' || $a eq '1';
    return 0;
}
