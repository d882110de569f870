/*-------------------------------------------------------------------------
 *
 * mysql_write.c
 *		  The write rule of MySQL datasources: no write that a rollback
 *		  would seem to undo.
 *
 * mysql_fdw sends each INSERT, UPDATE and DELETE to the MySQL server as a
 * statement of its own, which MySQL commits at once: ROLLBACK, of the
 * transaction or of a savepoint, undoes nothing there.  So a write to a
 * foreign table of a registered MySQL datasource is refused (25001) when it
 * runs inside a transaction block: an explicit BEGIN, the implicit block of
 * a multi-statement query string, or any subtransaction (a savepoint, a
 * PL/pgSQL block with an EXCEPTION clause), unless the user accepts it with
 * datasource.allow_nontransactional_writes.  A statement run on its own
 * (autocommit) may write: what it did is what the user sees committed.
 * execute() runs its statement in a subtransaction of its own to report a
 * failure as a result; when it is called in autocommit that subtransaction
 * is not the user's, and it is let through (ds_mysql_statement_subxact).
 *
 * The rule is enforced where the executor checks permissions (enforce.c's
 * ExecutorCheckPerms hook calls ds_mysql_write_target for each range table
 * entry, then ds_mysql_check_write), which every write meets before it
 * starts, routed or typed directly, in functions and triggers too, COPY
 * FROM included; TRUNCATE is checked by enforce.c's utility hook.  The first
 * test is the relation's kind, so relations that are not foreign tables
 * cost nothing more.
 *
 * Memory: nothing is kept; messages are built in the current context.
 *
 * IDENTIFICATION
 *		  src/mysql_write.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "foreign/foreign.h"
#include "nodes/bitmapset.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"

#include "pg_datasource.h"

/* the subtransaction execute() runs a statement in, called in autocommit */
static SubTransactionId ds_statement_subxact = InvalidSubTransactionId;

/*
 * ds_mysql_statement_subxact
 *		Declares subxact (InvalidSubTransactionId to end it) the
 *		subtransaction that execute() opened, in a transaction that is no
 *		block, around the one statement it runs; returns the previous value
 *		for the caller to restore, on error too.
 */
SubTransactionId
ds_mysql_statement_subxact(SubTransactionId subxact)
{
	SubTransactionId prev = ds_statement_subxact;

	ds_statement_subxact = subxact;
	return prev;
}

/*
 * ds_mysql_write_target
 *		Whether the range table entry writes a foreign table (INSERT, UPDATE,
 *		DELETE, COPY FROM): the cheap first test of enforce.c's hook.  A
 *		SELECT ... FOR UPDATE asks for the UPDATE permission with no column
 *		updated, and writes nothing.
 */
bool
ds_mysql_write_target(const RangeTblEntry *rte)
{
	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_FOREIGN_TABLE)
		return false;
	if ((rte->requiredPerms & (ACL_INSERT | ACL_DELETE)) != 0)
		return true;
	return (rte->requiredPerms & ACL_UPDATE) != 0 &&
		!bms_is_empty(rte->updatedCols);
}

/*
 * ds_in_transaction_block
 *		Whether the current statement runs inside a transaction block: an
 *		explicit or implicit block, or a subtransaction other than the one
 *		execute() opened in autocommit.  (Inside any subtransaction
 *		IsTransactionBlock() is true.)
 */
static bool
ds_in_transaction_block(void)
{
	if (!IsSubTransaction())
		return IsTransactionBlock();
	return !(GetCurrentTransactionNestLevel() == 2 &&
			 ds_statement_subxact != InvalidSubTransactionId &&
			 GetCurrentSubTransactionId() == ds_statement_subxact);
}

/*
 * ds_mysql_check_write
 *		Raises 25001 when command (INSERT, UPDATE, DELETE, TRUNCATE ...) is
 *		about to write relation relid, a foreign table of a registered MySQL
 *		datasource, inside a transaction block while
 *		datasource.allow_nontransactional_writes is off.  Any other relation
 *		passes; the caller may pass any relation.
 */
void
ds_mysql_check_write(Oid relid, const char *command)
{
	ForeignTable *ft;
	ForeignServer *server;
	const DsSource *src;

	if (ds_allow_nontransactional_writes || !ds_in_transaction_block())
		return;
	if (get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		return;
	ft = GetForeignTable(relid);
	server = GetForeignServer(ft->serverid);
	src = ds_cache_source_by_server(server->servername);
	if (src == NULL || src->engine != DS_ENGINE_MYSQL)
		return;
	ereport(ERROR,
			errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
			errmsg("cannot %s foreign table \"%s\" of MySQL datasource \"%s\" inside a transaction block",
				   command, get_rel_name(relid), src->name),
			errdetail("mysql_fdw's writes are not transactional: the MySQL server commits each at once, and ROLLBACK, of the transaction or of a savepoint, does not undo it."),
			errhint("Run the statement on its own, outside a transaction block, or set datasource.allow_nontransactional_writes = on to accept writes that a rollback does not undo."));
}
