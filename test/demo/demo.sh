#!/usr/bin/env bash
# test/demo/demo.sh - the demo of `make demo` / `make stop`.
#
#   demo.sh start   three throwaway servers (the control plane, a second
#                   PostgreSQL playing a regional office and a MariaDB
#                   playing the card processor), the extension, the seed's
#                   demo bank spread over them, and a walk through the
#                   registry; the servers keep running for psql.
#   demo.sh stop    stops the three servers and removes their directory.
#
# Everything lives in PGDS_DEMO_DIR (default /tmp/pg_datasource_demo).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/mariadb.sh"

DEMO=${PGDS_DEMO_DIR:-/tmp/pg_datasource_demo}
CONTROL=$DEMO/control
REGIONAL=$DEMO/regional
CARDS=$DEMO/cards

stop() {
	local d
	for d in "$CONTROL" "$REGIONAL"; do
		[ -d "$d" ] && cluster_stop "$d"
	done
	# by its pid file in the demo directory
	[ -d "$CARDS" ] && maria_stop "$CARDS"
	rm -rf "$DEMO"
	echo "demo servers stopped"
}

# MariaDB and mysql_fdw, in the installation the demo's servers run from
cards_available() {
	[ -x "$MARIADBD" ] && command -v mariadb >/dev/null 2>&1 &&
		command -v mariadb-install-db >/dev/null 2>&1 &&
		[ -f "$("$PGBIN/pg_config" --pkglibdir)/mysql_fdw.so" ]
}

start() {
	if [ -d "$CONTROL" ] && cluster_running "$CONTROL"; then
		echo "the demo is already running: psql -h $CONTROL -p $(cluster_port "$CONTROL") -U postgres demo"
		echo "(make stop stops it)"
		exit 0
	fi
	if ! cards_available; then
		echo "the demo needs mariadb-server and mysql_fdw (postgresql-15-mysql-fdw): run make deps" >&2
		exit 1
	fi
	rm -rf "$DEMO"
	mkdir -p "$DEMO"
	chmod 755 "$DEMO"

	local cport rport mport
	cport=$(free_port 55432)
	rport=$(free_port $((cport + 1)))
	mport=$(free_port 33360)
	cluster_init "$CONTROL" "$cport" >/dev/null
	cluster_init "$REGIONAL" "$rport" >/dev/null
	# the statistics views (and migration_progress) need the library preloaded
	echo "shared_preload_libraries = 'pg_datasource'" >>"$CONTROL/postgresql.conf"
	cluster_start "$CONTROL"
	cluster_start "$REGIONAL"
	maria_start "$CARDS" "$mport"

	# the regional office: a database, a role the control plane logs in as,
	# and the tables of the logical databases that live there
	psql -X -q -v ON_ERROR_STOP=1 -h "$REGIONAL" -p "$rport" -U postgres -d postgres \
		-c "CREATE ROLE bank_app LOGIN PASSWORD 'demo-only-password'" \
		-c "CREATE DATABASE regional_bank OWNER bank_app"

	# the card processor: its database, tables, rows and the account the
	# control plane reads it as (create_database needs the MySQL database)
	maria_sql "$CARDS" <"$here/cards_data.sql"

	# the control plane: the extension, the regional server, the card
	# processor, the registry
	psql -X -q -v ON_ERROR_STOP=1 -h "$CONTROL" -p "$cport" -U postgres -d postgres \
		-c "CREATE DATABASE demo"
	psql -X -q -v ON_ERROR_STOP=1 -h "$CONTROL" -p "$cport" -U postgres -d demo \
		-v regional_port="$rport" -v cards_port="$mport" -f "$here/setup.sql" >/dev/null

	# rows for the remote logical databases, loaded directly on that server
	# (the schemas were made there by create_database)
	psql -X -q -v ON_ERROR_STOP=1 -h "$REGIONAL" -p "$rport" -U bank_app -d regional_bank \
		-f "$here/regional_data.sql" >/dev/null

	# the walk-through changes a table on MariaDB (\!) before refresh_database
	PGDS_DEMO_MARIADB="mariadb --no-defaults -S $CARDS/sock -u root" \
		psql -X -v ON_ERROR_STOP=1 -h "$CONTROL" -p "$cport" -U postgres -d demo \
		-f "$here/walkthrough.sql"

	cat <<MSG

The demo is running. Connect to the control plane with:

    psql -h $CONTROL -p $cport -U postgres demo

and try:  SELECT * FROM datasource.database_info;
(README.md's SQL examples run here, in order.)
The regional server is at: psql -h $REGIONAL -p $rport -U postgres regional_bank
The card processor (MariaDB) is at: mariadb --no-defaults -S $CARDS/sock -u root payments
Stop all three, deleting the demo and its data, with: make stop
MSG
}

case "${1:-}" in
	start) start ;;
	stop) stop ;;
	*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
