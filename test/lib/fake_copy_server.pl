#!/usr/bin/perl
# test/lib/fake_copy_server.pl PORTFILE LOGFILE SECONDS
#
# A server that speaks just enough of the PostgreSQL protocol (3.0, no
# authentication, no SSL) to be a datasource, and that answers some
# statements with a COPY no client asked for: the remote that a routed
# statement hidden from the validator, or a server that is not PostgreSQL,
# would be.  It listens on 127.0.0.1 (a free port, written to PORTFILE),
# serves each connection in a child process, and exits after SECONDS.
#
# Every statement answers with one row ("1") or its command tag (the
# identity query a new connection makes gets a pid, a system identifier,
# "fake" and "f", as a server would), except a statement whose text contains
#   copy_out   - CopyOutResponse, then CopyData for ever;
#   copy_in    - CopyInResponse, then waits for the client;
#   copy_both  - CopyBothResponse, then waits for the client;
#   commit_copy - on that connection, the next simple-query COMMIT answers
#                CopyOutResponse and CopyData for ever.
# LOGFILE gets one line per event: "<pid> query <text>", "<pid> copy <kind>",
# "<pid> closed" when the client went away (what the test waits for).
use strict;
use warnings;
use IO::Socket::INET;
use IO::Handle;

my ($portfile, $logfile, $seconds) = @ARGV;
$SIG{PIPE} = 'IGNORE';
$SIG{CHLD} = 'IGNORE';

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
								Listen => 16, ReuseAddr => 1) or die "listen: $!";
open(my $pf, '>', "$portfile.tmp") or die;
print $pf $srv->sockport, "\n";
close $pf;
rename "$portfile.tmp", $portfile or die;

open(my $log, '>>', $logfile) or die;
$log->autoflush(1);

my $deadline = time + $seconds;
while (time < $deadline)
{
	my $c = $srv->accept or next;
	my $pid = fork;
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		close $srv;
		alarm($deadline - time + 1);
		serve($c);
		exit 0;
	}
	close $c;
}
exit 0;

sub logline { print $log "$$ @_\n"; }

# readn N : N bytes from the client, or exit when it went away
sub readn
{
	my ($c, $n) = @_;
	my $buf = '';
	while (length($buf) < $n)
	{
		my $r = sysread($c, $buf, $n - length($buf), length($buf));
		if (!$r)
		{
			logline('closed');
			exit 0;
		}
	}
	return $buf;
}

sub send_msg
{
	my ($c, $type, $body) = @_;
	my $msg = $type . pack('N', length($body) + 4) . $body;
	if (!defined syswrite($c, $msg))
	{
		logline('closed');
		exit 0;
	}
}

# copy data for ever, until the client goes away
sub stream
{
	my ($c) = @_;
	send_msg($c, 'd', "row\n") while 1;
}

# wait for what the client sends during a COPY: a CopyFail or CopyDone
# ends it with an error, as a server would
sub copy_wait
{
	my ($c) = @_;
	while (1)
	{
		my $type = readn($c, 1);
		my $len = unpack('N', readn($c, 4));
		readn($c, $len - 4) if $len > 4;
		return if $type eq 'f' || $type eq 'c';
	}
}

sub error_response
{
	my ($c, $msg) = @_;
	send_msg($c, 'E', "SERROR\0VERROR\0C57014\0M$msg\0\0");
}

# the values of the one row a query returns: what the connect-time identity
# query asks (pid, system identifier, database, in recovery), else '1'
sub values_for
{
	my ($q) = @_;
	return ($$, '7000000000000000001', 'fake', 'f') if ($q // '') =~ /pg_control_system/;
	return ('1');
}

sub row
{
	my ($c, $q) = @_;
	my @v = values_for($q);
	send_msg($c, 'D', pack('n', scalar @v) . join('', map { pack('N', length $_) . $_ } @v));
}

sub row_description
{
	my ($c, $q) = @_;
	my @v = values_for($q);
	send_msg($c, 'T', pack('n', scalar @v) . join('', map {
		"x$_\0" . pack('N', 0) . pack('n', 0) . pack('N', 25) . pack('n', 65535) .
		pack('N', 0xffffffff) . pack('n', 0) } 0 .. $#v));
}

sub tag
{
	my ($q) = @_;
	return 'SELECT 1' if $q =~ /^\s*(SELECT|WITH|VALUES)/i;
	my ($w) = $q =~ /^\s*(\w+)/;
	return uc($w // 'EMPTY');
}

sub serve
{
	my ($c) = @_;
	binmode $c;
	my (%stmts, %portals);
	my ($in_tx, $failed, $commit_copy) = (0, 0, 0);

	# startup, refusing SSL and GSS encryption
	while (1)
	{
		my $len = unpack('N', readn($c, 4));
		my $body = readn($c, $len - 4);
		my $code = unpack('N', $body);
		if ($code == 80877103 || $code == 80877104)
		{
			syswrite($c, 'N');
			next;
		}
		last;
	}
	send_msg($c, 'R', pack('N', 0));
	my %ps = (server_version => '15.0', server_encoding => 'UTF8',
			  client_encoding => 'UTF8', standard_conforming_strings => 'on',
			  DateStyle => 'ISO, MDY', integer_datetimes => 'on',
			  IntervalStyle => 'postgres', is_superuser => 'off',
			  session_authorization => 'fake', TimeZone => 'UTC',
			  application_name => 'pg_datasource', in_hot_standby => 'off');
	send_msg($c, 'S', "$_\0$ps{$_}\0") for sort keys %ps;
	send_msg($c, 'K', pack('NN', $$, 42));
	send_msg($c, 'Z', 'I');

	while (1)
	{
		my $type = readn($c, 1);
		my $len = unpack('N', readn($c, 4));
		my $body = $len > 4 ? readn($c, $len - 4) : '';
		if ($type eq 'X')
		{
			logline('closed');
			exit 0;
		}
		if ($type eq 'S')
		{
			$failed = 0;
			send_msg($c, 'Z', $in_tx ? 'T' : 'I');
			next;
		}
		next if $failed || $type eq 'H';
		if ($type eq 'P')
		{
			my ($name, $q) = split(/\0/, $body, 3);
			$stmts{$name} = $q;
			send_msg($c, '1', '');
		}
		elsif ($type eq 'B')
		{
			my ($portal, $name) = split(/\0/, $body, 3);
			$portals{$portal} = $stmts{$name} // '';
			send_msg($c, '2', '');
		}
		elsif ($type eq 'C')
		{
			send_msg($c, '3', '');
		}
		elsif ($type eq 'D')
		{
			my ($kind, $name) = (substr($body, 0, 1), substr($body, 1));
			$name =~ s/\0.*//s;
			my $q = $kind eq 'P' ? $portals{$name} : $stmts{$name};
			send_msg($c, 't', pack('n', 0)) if $kind eq 'S';
			if (($q // '') =~ /copy_|^\s*(?!SELECT|WITH|VALUES)/i)
			{
				send_msg($c, 'n', '');
			}
			else
			{
				row_description($c, $q);
			}
		}
		elsif ($type eq 'E')
		{
			my ($portal) = split(/\0/, $body, 2);
			my $q = $portals{$portal} // '';
			logline("query $q");
			$commit_copy = 1 if $q =~ /commit_copy/;
			if ($q =~ /copy_out/)
			{
				logline('copy out');
				send_msg($c, 'H', pack('C', 0) . pack('n', 1) . pack('n', 0));
				stream($c);
			}
			elsif ($q =~ /copy_(in|both)/)
			{
				logline("copy $1");
				send_msg($c, $1 eq 'in' ? 'G' : 'W',
						 pack('C', 0) . pack('n', 1) . pack('n', 0));
				copy_wait($c);
				error_response($c, 'COPY failed');
				$failed = 1;
				next;
			}
			$in_tx = 1 if $q =~ /^\s*(START|BEGIN)/i;
			$in_tx = 0 if $q =~ /^\s*(COMMIT|ROLLBACK\s*$)/i;
			row($c, $q) if tag($q) eq 'SELECT 1';
			send_msg($c, 'C', tag($q) . "\0");
		}
		elsif ($type eq 'Q')
		{
			(my $q = $body) =~ s/\0$//;
			logline("query $q");
			if ($q =~ /^COMMIT/ && $commit_copy)
			{
				logline('copy out');
				send_msg($c, 'H', pack('C', 0) . pack('n', 1) . pack('n', 0));
				stream($c);
			}
			for my $part (split(/;/, $q))
			{
				$in_tx = 1 if $part =~ /^\s*(START|BEGIN)/i;
				$in_tx = 0 if $part =~ /^\s*(COMMIT|ROLLBACK\s*$)/i;
				send_msg($c, 'C', tag($part) . "\0");
			}
			send_msg($c, 'Z', $in_tx ? 'T' : 'I');
		}
	}
}
