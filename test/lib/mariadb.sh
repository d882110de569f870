# test/lib/mariadb.sh - throwaway MariaDB servers for the MySQL tests.
#
# Source this file from bash (after test/lib/cluster.sh, whose free_port and
# _port_in_use it uses).  It only defines functions; it changes no shell
# options of the caller.
#
# A MariaDB server is one directory DIR: DIR/data is its data directory,
# DIR/tmp its temporary directory, DIR/sock its unix socket, DIR/pid,
# DIR/server.log.  It runs as the postgres
# OS user (not root), listens on 127.0.0.1:PORT and on DIR/sock, reads no
# option file (--no-defaults) and starts no system service.  Its root account
# has no password and is reached over the socket only; tests connect through
# mysql_fdw as the account pgds (password 'pgds-secret', all privileges), from
# 127.0.0.1 or the socket.
#
#   maria_available                  status 0 when mariadbd and mysql_fdw are installed
#   maria_start DIR PORT             create (first time) and start; wait until it answers
#   maria_stop DIR                   stop by its pid file; fine if it is not running
#   maria_restart DIR                stop and start again on the same port
#   maria_sql DIR [client args]      the mariadb client as root over the socket
#   maria_port DIR                   the port it was started on
#   maria_freeze DIR / maria_thaw DIR  stop it with SIGSTOP (it holds its
#                                    connections, answers nothing) / go on
#
# Stop servers by their directory, never by process name.

MARIA_USER=${MARIA_USER:-pgds}
MARIA_PASSWORD=${MARIA_PASSWORD:-pgds-secret}
MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}
MARIA_OS_USER=${MARIA_OS_USER:-postgres}

maria_available() {
    [ -x "$MARIADBD" ] && command -v mariadb >/dev/null 2>&1 &&
        command -v mariadb-install-db >/dev/null 2>&1 &&
        [ -f "$(pg_config --pkglibdir 2>/dev/null)/mysql_fdw.so" ]
}

_maria_as_os_user() {
    (cd / && runuser -u "$MARIA_OS_USER" -- "$@")
}

maria_port() {
    cat "$1/port" 2>/dev/null
}

maria_sql() {
    local dir=$1
    shift
    mariadb --no-defaults -S "$dir/sock" -u root "$@"
}

# _maria_launch DIR : start mariadbd in the background and wait (up to 60 s)
# until it answers on its socket.
_maria_launch() {
    local dir=$1 port i
    port=$(maria_port "$dir")
    _maria_as_os_user "$MARIADBD" --no-defaults --datadir="$dir/data" \
        --socket="$dir/sock" --port="$port" --bind-address=127.0.0.1 \
        --pid-file="$dir/pid" --log-error="$dir/server.log" --skip-log-bin \
        --tmpdir="$dir/tmp" \
        --skip-name-resolve --innodb-buffer-pool-size=256M \
        --max-connections=200 </dev/null >/dev/null 2>&1 &
    for i in $(seq 1 120); do
        if maria_sql "$dir" -e 'SELECT 1' >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    echo "mariadb in $dir did not start; last lines of its log:" >&2
    tail -n 20 "$dir/server.log" >&2
    return 1
}

maria_start() {
    local dir=$1 port=$2
    mkdir -p "$dir" || return 1
    chown "$MARIA_OS_USER" "$dir" || return 1
    printf '%s\n' "$port" >"$dir/port"
    # its own temporary directory: servers set up at once in /tmp collided
    mkdir -p "$dir/tmp" && chown "$MARIA_OS_USER" "$dir/tmp" || return 1
    if [ ! -d "$dir/data/mysql" ]; then
        _maria_as_os_user mariadb-install-db --no-defaults --datadir="$dir/data" \
            --tmpdir="$dir/tmp" \
            --auth-root-authentication-method=normal --skip-test-db \
            >"$dir/install.log" 2>&1 || {
            echo "mariadb-install-db failed; see $dir/install.log" >&2
            tail -n 20 "$dir/install.log" >&2
            return 1
        }
    fi
    _maria_launch "$dir" || return 1
    maria_sql "$dir" <<EOF || return 1
CREATE USER IF NOT EXISTS '$MARIA_USER'@'127.0.0.1' IDENTIFIED BY '$MARIA_PASSWORD';
CREATE USER IF NOT EXISTS '$MARIA_USER'@'localhost' IDENTIFIED BY '$MARIA_PASSWORD';
GRANT ALL ON *.* TO '$MARIA_USER'@'127.0.0.1';
GRANT ALL ON *.* TO '$MARIA_USER'@'localhost';
EOF
}

maria_stop() {
    local dir=$1 pid i
    pid=$(cat "$dir/pid" 2>/dev/null) || return 0
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || { rm -f "$dir/pid"; return 0; }
    for i in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$dir/pid"; return 0; }
        sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null
    rm -f "$dir/pid"
    return 0
}

maria_freeze() {
    kill -STOP "$(cat "$1/pid")"
}

# runuser, mariadbd's parent, stops itself when its child stops and goes on
# (and lets the child go on) when it gets SIGCONT: continue both.
maria_thaw() {
    local pid ppid
    pid=$(cat "$1/pid" 2>/dev/null) || return 0
    ppid=$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ')
    [ -n "$ppid" ] && [ "$ppid" != 1 ] && kill -CONT "$ppid" 2>/dev/null
    kill -CONT "$pid" 2>/dev/null
    return 0
}

maria_restart() {
    maria_stop "$1" && _maria_launch "$1"
}
