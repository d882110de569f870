/*-------------------------------------------------------------------------
 *
 * pooler.c
 *		  Whether a remote connection is exclusively ours, and what a
 *		  statement carries when it is not.
 *
 * A cached connection is a remote session only when nothing sits between
 * us and the server.  Behind a pooler in transaction mode (PgBouncer's
 * pool_mode = transaction) each transaction may run on another server
 * session, one that another client left in its own state, and what we set
 * at session level is handed to the next client of the pool.  The foreign
 * server's option pooler decides per server: 'none' says the connection is
 * exclusively ours (session settings are sent only when they change, and
 * statements may be kept prepared: remote.c and remoteprep.c), and
 * 'transaction' makes every statement carry its settings.  'auto' (the
 * default) decides at connect: the pid of the server session that answers
 * (asked in the one round trip identity.c makes on every new connection)
 * is compared with the backend pid the connection announced in its
 * startup (PQbackendPID); a pooler announces its own key, so the two
 * differ behind one, and the connection is then taken as pooled.
 *
 * A pooled connection's statement runs in a transaction of its own with
 * its settings made for that transaction only: set_config(..., true) of
 * search_path, the two settings that decide how the statement's text is
 * lexed (standard_conforming_strings, client_encoding; see connection.c's
 * header) and, for a read outside a remote transaction, transaction_
 * read_only.  remote.c pipelines that command in front of the statement
 * with no Sync between them, so both run in the extended protocol's
 * implicit transaction, which ends at the one Sync: one round trip,
 * nothing survives it, and an error rolls it back.  In a remote
 * transaction (a pooler keeps the server session until it ends) the same
 * command is sent in front of every statement, so a savepoint rolled back
 * cannot leave a statement in another tenant's schema.  A pooled
 * connection never sends a session-level set_config and keeps nothing
 * prepared.
 *
 * Memory: the commands returned are palloc'd in the caller's context; the
 * connection's mode is a flag of its entry (TopMemoryContext).
 *
 * IDENTIFICATION
 *		  src/pooler.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/defrem.h"
#include "mb/pg_wchar.h"
#include "parser/parser.h"
#include "utils/builtins.h"

#include "pg_datasource.h"

/*
 * ds_pooler_parse
 *		The mode a value of the server option pooler names; raises 22023 for
 *		any other value.  NULL (no option) is 'auto'.
 */
DsPooler
ds_pooler_parse(const char *value)
{
	if (value == NULL || strcmp(value, "auto") == 0)
		return DS_POOLER_AUTO;
	if (strcmp(value, "transaction") == 0)
		return DS_POOLER_TRANSACTION;
	if (strcmp(value, "none") == 0)
		return DS_POOLER_NONE;
	ereport(ERROR,
			errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			errmsg("invalid value for option \"pooler\": \"%s\"", value),
			errhint("Valid values are \"auto\", \"transaction\" and \"none\"."));
	return DS_POOLER_AUTO;		/* keep the compiler quiet */
}

/*
 * ds_pooler_option
 *		The mode the options of a foreign server ask for.
 */
DsPooler
ds_pooler_option(List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst(lc);

		if (strcmp(def->defname, "pooler") == 0)
			return ds_pooler_parse(defGetString(def));
	}
	return DS_POOLER_AUTO;
}

/*
 * ds_pooler_decide
 *		Sets entry->per_statement for a connection just made to server, as
 *		its option pooler says (see the file header).  For 'auto' the entry's
 *		remote_pid must be what the remote answered (ds_identity_fetch).
 */
void
ds_pooler_decide(DsConn *entry, List *server_options)
{
	switch (ds_pooler_option(server_options))
	{
		case DS_POOLER_NONE:
			entry->per_statement = false;
			break;
		case DS_POOLER_TRANSACTION:
			entry->per_statement = true;
			break;
		case DS_POOLER_AUTO:
			entry->per_statement =
				entry->remote_pid != PQbackendPID(entry->conn);
			break;
	}
}

/*
 * ds_pooler_command
 *		The command a pooled connection sends in front of a statement (see
 *		the file header): search_path as $1 when with_path, the lexer's
 *		settings as this session has them, and transaction_read_only when
 *		read_only.  Every setting is local to the transaction it runs in.
 */
char *
ds_pooler_command(bool with_path, bool read_only)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT pg_catalog.set_config('standard_conforming_strings', '%s', true), "
					 "pg_catalog.set_config('client_encoding', %s, true)",
					 standard_conforming_strings ? "on" : "off",
					 quote_literal_cstr(GetDatabaseEncodingName()));
	if (with_path)
		appendStringInfoString(&sql,
							   ", pg_catalog.set_config('search_path', $1, true)");
	if (read_only)
		appendStringInfoString(&sql,
							   ", pg_catalog.set_config('transaction_read_only', 'on', true)");
	return sql.data;
}
