#!/usr/bin/env bash
# test/deps.sh - install what building and testing pg_datasource needs on a
# fresh Debian 12 machine.  Run as root; non-interactive; idempotent.
#
# Installs nothing (and skips `apt-get update`) when every package is there
# and the server and its dev headers are the same version.  Otherwise it
# installs ALL packages in one `apt-get install` so the server, the client
# and the dev headers end up at the same minor release (a module built
# against newer headers may not load into an older server).
#
# Note: Debian 12 has no postgresql-contrib-15; contrib (dblink,
# postgres_fdw, ...) ships inside postgresql-15.
#
# It also generates the OS locale de_DE.UTF-8 (package locales), which
# test/multi/route_prepared.sh gives a remote session as lc_messages: a server
# can only report in a language whose locale the system has, and the
# postgresql-15 package ships the German translation.
#
# pgbouncer is for test/multi/pooler.sh, which runs it as the postgres OS
# user from its own config file, port and pid file.  Debian's package may
# start a system service on install: this script stops and disables it
# right after installing the package (the test never uses it).
#
# mariadb-server, mariadb-client and postgresql-15-mysql-fdw are for the MySQL
# datasource tests: test/lib/mariadb.sh starts a throwaway MariaDB as the
# postgres OS user, on its own data directory, socket and port.  The
# package's system service is stopped and disabled the same way.
set -uo pipefail

PACKAGES=(
    postgresql-15
    postgresql-client-15
    postgresql-server-dev-15
    postgresql-15-pgtap
    libtap-parser-sourcehandler-pgtap-perl
    libipc-run-perl
    sqlsmith
    libpq-dev
    make
    gcc
    perl
    iproute2
    locales
    pgbouncer
    postgresql-15-mysql-fdw
    mariadb-server
    mariadb-client
)

# the locale a remote test session reports errors in (see above)
TEST_LOCALE=de_DE.UTF-8

LOG=/tmp/pg_datasource-deps.log

die() {
    echo "test/deps.sh: $*" >&2
    exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root (it installs Debian packages)"
command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script is for Debian 12"

installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

version_of() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null
}

missing=()
for p in "${PACKAGES[@]}"; do
    installed "$p" || missing+=("$p")
done

# Installed but at different minors: reinstall all together to align them.
skew=""
if installed postgresql-15 && installed postgresql-server-dev-15 &&
    [ "$(version_of postgresql-15)" != "$(version_of postgresql-server-dev-15)" ]; then
    skew="postgresql-15 $(version_of postgresql-15) vs postgresql-server-dev-15 $(version_of postgresql-server-dev-15)"
fi

# ensure_locale : generate $TEST_LOCALE unless the system has it.  Listed
# in /etc/locale.gen so that a later locale-gen keeps it.
ensure_locale() {
    locale -a 2>/dev/null | grep -qix "${TEST_LOCALE/UTF-8/utf8}" && return 0
    echo "test/deps.sh: generating the locale $TEST_LOCALE"
    if ! grep -qx "$TEST_LOCALE UTF-8" /etc/locale.gen 2>/dev/null; then
        if grep -qx "# *$TEST_LOCALE UTF-8" /etc/locale.gen 2>/dev/null; then
            sed -i "s/^# *$TEST_LOCALE UTF-8\$/$TEST_LOCALE UTF-8/" /etc/locale.gen
        else
            echo "$TEST_LOCALE UTF-8" >>/etc/locale.gen
        fi
    fi
    locale-gen >>"$LOG" 2>&1 || die "locale-gen failed (see $LOG)"
    locale -a 2>/dev/null | grep -qix "${TEST_LOCALE/UTF-8/utf8}" ||
        die "the locale $TEST_LOCALE is still missing after locale-gen"
}

if [ ${#missing[@]} -eq 0 ] && [ -z "$skew" ]; then
    echo "test/deps.sh: all packages present (postgresql-15 $(version_of postgresql-15))"
    ensure_locale
    exit 0
fi

[ ${#missing[@]} -gt 0 ] && echo "test/deps.sh: missing: ${missing[*]}"
[ -n "$skew" ] && echo "test/deps.sh: version skew: $skew"
echo "test/deps.sh: installing (log: $LOG)"

export DEBIAN_FRONTEND=noninteractive
: >"$LOG"

fail_with_log() {
    echo "test/deps.sh: $1; last lines of $LOG:" >&2
    tail -n 60 "$LOG" >&2
    exit 1
}

apt-get update >>"$LOG" 2>&1 || fail_with_log "apt-get update failed"

# One command for everything: the server, the client and the headers resolve
# together to one version.
apt-get install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${PACKAGES[@]}" >>"$LOG" 2>&1 ||
    fail_with_log "apt-get install failed"

# The package's own service is not wanted (see the header).
quiet_pgbouncer_service() {
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now pgbouncer.service >>"$LOG" 2>&1
    elif [ -x /etc/init.d/pgbouncer ]; then
        /etc/init.d/pgbouncer stop >>"$LOG" 2>&1
        update-rc.d pgbouncer disable >>"$LOG" 2>&1
    fi
    return 0
}
# The MariaDB package's own service is not wanted either.
quiet_mariadb_service() {
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now mariadb.service >>"$LOG" 2>&1
    elif [ -x /etc/init.d/mariadb ]; then
        /etc/init.d/mariadb stop >>"$LOG" 2>&1
        update-rc.d mariadb disable >>"$LOG" 2>&1
    fi
    return 0
}
case " ${missing[*]} " in
    *" pgbouncer "*) quiet_pgbouncer_service ;;
esac
case " ${missing[*]} " in
    *" mariadb-server "*) quiet_mariadb_service ;;
esac

# Check the result.
for p in "${PACKAGES[@]}"; do
    installed "$p" || fail_with_log "package $p is still not installed"
done
server=$(version_of postgresql-15)
headers=$(version_of postgresql-server-dev-15)
[ "$server" = "$headers" ] ||
    die "server $server and dev headers $headers differ; install both at one version"
[ -x /usr/lib/postgresql/15/bin/postgres ] || die "/usr/lib/postgresql/15/bin/postgres is missing"
command -v pg_prove >/dev/null 2>&1 || die "pg_prove is missing after install"
command -v prove >/dev/null 2>&1 || die "prove is missing after install"
[ -x /usr/sbin/pgbouncer ] || die "/usr/sbin/pgbouncer is missing after install"
[ -x /usr/sbin/mariadbd ] || die "/usr/sbin/mariadbd is missing after install"
[ -f "$(pg_config --pkglibdir)/mysql_fdw.so" ] || die "mysql_fdw.so is missing after install"

ensure_locale
echo "test/deps.sh: installed; postgresql-15 $server, $(pg_config --version 2>/dev/null)"
