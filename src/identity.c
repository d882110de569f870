/*-------------------------------------------------------------------------
 *
 * identity.c
 *		  Which physical database a remote connection reaches, and the
 *		  refusal to use one database through two connections in one
 *		  transaction.
 *
 * Foreign servers name a database by how it is reached (host spelling,
 * port, a pooler in front), so two servers can reach the same database:
 * 127.0.0.1 and localhost, the unix socket directory, a PgBouncer alias.
 * Each server has a connection of its own, and a remote transaction on one
 * of them holds locks a statement on the other waits for, while the local
 * transaction, which would release them, waits for that statement: neither
 * PostgreSQL's deadlock detector nor anything else sees the cycle, and the
 * call hangs until cancelled.  So every new connection asks the remote,
 * in the one round trip made at connect, who it is: its system identifier
 * (pg_control_system(), executable by PUBLIC) and current_database(), which
 * together name one database whatever the path to it, plus the pid of the
 * session that answers, which pooler.c compares with the pid the
 * connection announced.  A server in recovery shares its primary's system
 * identifier but holds no write transaction of ours: its identity is left
 * unknown and never compared.
 *
 * The rule (connection.c checks it with ds_identity_same on every use of
 * a connection in a local transaction that has opened a remote one, and
 * raises ds_identity_refuse): a connection may not be used while another
 * connection to the same database has a remote transaction open in this
 * local transaction.  The refusal (55000) comes before
 * anything is sent, names both datasources, and, inside migrate_all's
 * per-database subtransaction, fails that logical database only.  It also
 * covers one foreign server used by two local roles in one transaction
 * (SET ROLE): two connections, one database.  Each connection used alone,
 * one after the other in separate transactions, or a read of one before
 * the other opens its transaction, is unaffected.
 *
 * A loopback (the remote is the control plane's own database) is not
 * refused: a local lock and a remote statement waiting for it hang the same
 * way, but only when both touch the same objects, and a cancel or
 * statement_timeout ends the wait (the README says so; see
 * test/multi/dup_server.sh).
 *
 * Memory: the identity is kept in the connection's entry
 * (TopMemoryContext); messages are built in the caller's context.
 *
 * IDENTIFICATION
 *		  src/identity.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "pg_datasource.h"

/*
 * ds_identity_fetch
 *		Asks the remote of a freshly made, idle connection who it is (see
 *		the file header) and records it in the entry: remote_pid, and
 *		sysid and dbname unless the remote is in recovery (sysid 0).  The
 *		wait serves interrupts (remoteio.c); a remote error is raised as the
 *		remote reports it, and the caller closes the connection.
 */
void
ds_identity_fetch(DsConn *entry)
{
	static const char sql[] =
		"SELECT pg_catalog.pg_backend_pid(), s.system_identifier, "
		"pg_catalog.current_database(), pg_catalog.pg_is_in_recovery() "
		"FROM pg_catalog.pg_control_system() s";
	PGresult   *res;

	if (!PQsendQueryParams(entry->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
		ds_report_remote_error(ERROR, NULL, entry->conn, entry->source, sql);
	entry->busy = true;
	res = ds_read_last(entry, 0);
	entry->busy = false;

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
		PQntuples(res) != 1 || PQnfields(res) != 4 ||
		PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1) ||
		PQgetisnull(res, 0, 2) || PQgetisnull(res, 0, 3))
		ds_report_remote_error(ERROR, res, entry->conn, entry->source, sql);
	entry->remote_pid = atoi(PQgetvalue(res, 0, 0));
	if (strcmp(PQgetvalue(res, 0, 3), "t") == 0)
		entry->sysid = 0;
	else
		entry->sysid = strtou64(PQgetvalue(res, 0, 1), NULL, 10);
	strlcpy(entry->dbname, PQgetvalue(res, 0, 2), NAMEDATALEN);
	PQclear(res);
}

/*
 * ds_identity_same
 *		Whether two open connections reach the same database.  A connection
 *		of unknown identity (a standby's) is the same as none.
 */
bool
ds_identity_same(const DsConn *a, const DsConn *b)
{
	return a->sysid != 0 && a->sysid == b->sysid &&
		strcmp(a->dbname, b->dbname) == 0;
}

/*
 * ds_identity_refuse
 *		Raises the refusal (55000; see the file header) to use entry, the
 *		connection of datasource source, because other, a connection to the
 *		same database (ds_identity_same), has a remote transaction open.
 *		The caller has sent nothing on entry yet.
 */
void
ds_identity_refuse(const char *source, const DsConn *entry, const DsConn *other)
{
	if (entry->key.serverid == other->key.serverid)
	{
		const char *open_role = GetUserNameFromId(other->key.userid, true);

		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("datasource \"%s\" has a remote transaction open as another role",
					   source),
				errdetail("This transaction has a remote transaction open there as role \"%s\", whose locks a second connection would wait for.",
						  open_role ? open_role : "?"),
				errhint("One transaction can use a datasource as one role only: end the transaction before SET ROLE."));
	}
	ereport(ERROR,
			errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			errmsg("datasources \"%s\" and \"%s\" are the same database",
				   other->source, source),
			errdetail("Foreign servers \"%s\" and \"%s\" both reach database \"%s\" of PostgreSQL system " UINT64_FORMAT "; this transaction has a remote transaction open on \"%s\", whose locks a second connection would wait for.",
					  other->server, entry->server, entry->dbname,
					  entry->sysid, other->source),
			errhint("One transaction can use only one of them: end the transaction first, or map the logical databases of that database to one datasource."));
}
