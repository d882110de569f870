# test/lib/cluster.sh - throwaway PostgreSQL 15 servers for the test harness.
#
# Source this file from bash (test/run.sh and test/multi/*.sh do).  It only
# defines functions and PGBIN; it changes no shell options of the caller.
#
# A cluster is one directory DIR that is at once the data directory, the
# unix-socket directory and the home of its log (DIR/server.log).  Servers run
# as the `postgres` OS user (initdb and postgres refuse root); everything else
# (psql, pg_regress, pg_prove) runs as the caller and connects with
#     -h DIR -p PORT -U postgres
# Servers listen on 127.0.0.1 and on the socket in DIR, nowhere else.
#
#   base=$(cluster_base)               temp dir under /tmp that postgres can traverse
#   port=$(free_port 55432)            first free TCP port on 127.0.0.1 from 55432 up
#   cluster_init "$base/x" "$port"     initdb + our settings
#   cluster_start "$base/x"            start, wait until it accepts connections
#   cluster_psql "$base/x" -c 'select 1'
#   cluster_stop "$base/x"             fast stop; fine if it is not running
#   cluster_running "$base/x"          exit status 0 while it runs
#
# Stop servers by their directory, never by process name.

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PG_OS_USER=${PG_OS_USER:-postgres}

# _cluster_as_pg CMD... : run a command as the postgres OS user, from a
# directory that user can enter (so no "could not change directory" noise).
_cluster_as_pg() {
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
}

# cluster_base [PREFIX] : make a fresh base dir under /tmp, mode 755 so the
# postgres user can reach the cluster directories inside it; print its path.
cluster_base() {
    local base
    base=$(mktemp -d "/tmp/${1:-pgds}.XXXXXX") || return 1
    chmod 755 "$base" || return 1
    printf '%s\n' "$base"
}

# _port_in_use PORT : status 0 if something listens on 127.0.0.1:PORT.
_port_in_use() {
    local port=$1
    if command -v ss >/dev/null 2>&1; then
        # Any listener on that port, whatever address, counts as taken.
        ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
    fi
    # Fallback (and double check): try to connect.
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

# free_port [START] : print the first TCP port >= START (default 55432) that
# nothing listens on.  Two servers initialised before either starts must be
# given different START values (the port is only taken once a server runs).
free_port() {
    local port=${1:-55432}
    local last=$((port + 2000))
    while [ "$port" -le "$last" ] && [ "$port" -le 65535 ]; do
        if ! _port_in_use "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
        port=$((port + 1))
    done
    echo "free_port: no free port in ${1:-55432}..$last" >&2
    return 1
}

# cluster_init DIR PORT : create DIR and an initialised, stopped cluster in it.
cluster_init() {
    local dir=$1 port=$2
    if [ -z "$dir" ] || [ -z "$port" ]; then
        echo "usage: cluster_init DIR PORT" >&2
        return 2
    fi
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        echo "cluster_init: $dir exists and is not empty" >&2
        return 1
    fi
    mkdir -p "$dir" || return 1
    chown "$PG_OS_USER:" "$dir" || return 1
    chmod 700 "$dir" || return 1

    if ! _cluster_as_pg "$PGBIN/initdb" -D "$dir" -U postgres \
            --auth-local=trust --auth-host=scram-sha-256 \
            --no-sync -E UTF8 --locale=C.UTF-8 \
            >"$dir/../$(basename "$dir").initdb.log" 2>&1; then
        echo "cluster_init: initdb failed for $dir:" >&2
        cat "$dir/../$(basename "$dir").initdb.log" >&2
        return 1
    fi

    # Settings for a fast, disposable, loopback-only server.
    cat >>"$dir/postgresql.conf" <<EOF

# ---- added by test/lib/cluster.sh ----
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
max_prepared_transactions = 10
# test/pgtap/09_introspect.sql rebuilds a 30-table schema dozens of times in
# one rolled-back transaction: every relation it creates keeps a lock
max_locks_per_transaction = 512
password_encryption = 'scram-sha-256'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
    # Extra settings for every test server (like PGXS's TEMP_CONFIG).
    if [ -n "${PGDS_TEMP_CONFIG:-}" ]; then
        if [ ! -r "$PGDS_TEMP_CONFIG" ]; then
            echo "cluster_init: PGDS_TEMP_CONFIG=$PGDS_TEMP_CONFIG is not readable" >&2
            return 1
        fi
        cat "$PGDS_TEMP_CONFIG" >>"$dir/postgresql.conf"
    fi

    cat >"$dir/pg_hba.conf" <<EOF
# written by test/lib/cluster.sh
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   scram-sha-256
EOF
    chown "$PG_OS_USER:" "$dir/postgresql.conf" "$dir/pg_hba.conf"
}

# cluster_port DIR : print the port the cluster is configured for.
cluster_port() {
    sed -n 's/^port = \([0-9][0-9]*\).*/\1/p' "$1/postgresql.conf" | tail -n 1
}

# cluster_set_port DIR PORT : change the port of a stopped cluster.
cluster_set_port() {
    printf 'port = %s\n' "$2" >>"$1/postgresql.conf"
}

# cluster_running DIR : status 0 if a server runs on DIR.
cluster_running() {
    [ -f "$1/PG_VERSION" ] || return 1
    _cluster_as_pg "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# cluster_start DIR : start the server and wait (60 s at most) until it is up.
cluster_start() {
    local dir=$1
    if ! _cluster_as_pg "$PGBIN/pg_ctl" -D "$dir" -l "$dir/server.log" \
            -w -t 60 start >/dev/null 2>&1; then
        echo "cluster_start: server in $dir did not start; last lines of $dir/server.log:" >&2
        tail -n 20 "$dir/server.log" >&2 2>/dev/null
        return 1
    fi
}

# cluster_stop DIR [MODE] : stop the server (fast by default); no error if it
# does not run.  Falls back to immediate mode if a fast stop takes too long.
cluster_stop() {
    local dir=$1 mode=${2:-fast}
    [ -f "$dir/PG_VERSION" ] || return 0
    cluster_running "$dir" || return 0
    if ! _cluster_as_pg "$PGBIN/pg_ctl" -D "$dir" -m "$mode" -w -t 60 stop >/dev/null 2>&1; then
        _cluster_as_pg "$PGBIN/pg_ctl" -D "$dir" -m immediate -w -t 60 stop >/dev/null 2>&1
    fi
    ! cluster_running "$dir"
}

# cluster_restart DIR : fast stop, then start.
cluster_restart() {
    cluster_stop "$1" && cluster_start "$1"
}

# cluster_psql DIR [psql args...] : psql as postgres on that cluster, quiet,
# unaligned, stopping at the first error.  Database defaults to postgres.
cluster_psql() {
    local dir=$1
    shift
    "$PGBIN/psql" -h "$dir" -p "$(cluster_port "$dir")" -U postgres \
        -X -q -A -t -v ON_ERROR_STOP=1 -d postgres "$@"
}
