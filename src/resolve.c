/*-------------------------------------------------------------------------
 *
 * resolve.c
 *		  resolve_transactions(): finishing by hand what two-phase commit
 *		  left prepared on the remote datasources.
 *
 * The decision and the work are commit.c's (the local clog decides each
 * prepared transaction whose gid carries this system and database); this
 * file is the SQL entry point above it and connection.c: it takes the
 * cached connection of each remote datasource (every enabled one, or the
 * one named, disabled or not) and asks commit.c to resolve there, with one
 * row per prepared transaction found.  While it connects, the automatic
 * resolution of a new connection is held back, so that what is resolved
 * is reported here.  A remote that cannot be reached raises.
 *
 * Memory: the rows go to the materialized result; what commit.c builds is
 * in the function's context.
 *
 * IDENTIFICATION
 *		  src/resolve.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_resolve_transactions);

/*
 * ds_resolve_connect
 *		The connection of the current role to src, made without the
 *		automatic resolution (the caller resolves and reports).
 */
static DsConn *
ds_resolve_connect(DsSource *src)
{
	DsConn	   *volatile entry = NULL;

	ds_commit_resolving = true;
	PG_TRY();
	{
		entry = ds_conn_get(src);
	}
	PG_FINALLY();
	{
		ds_commit_resolving = false;
	}
	PG_END_TRY();
	return entry;
}

/*
 * resolve_transactions(source text) returns table (datasource text, gid
 * text, local_xid xid8, action text)
 *
 * Finishes the prepared transactions that two-phase commit left on the
 * remote datasources (or the one named), as the local transaction whose
 * xid the gid carries ended.  action: committed, rolled back, in progress
 * (left: its local transaction still runs), unknown (left: the local
 * record is gone), gone (finished meanwhile by someone else), busy
 * (another session is finishing it), failed.  Refused (25001) on a
 * datasource where this transaction has a remote transaction open:
 * COMMIT PREPARED cannot run inside one.
 */
Datum
pgds_resolve_transactions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *name = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	List	   *sources;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	if (name != NULL)
		sources = list_make1(ds_get_source(name, false));
	else
		sources = ds_list_sources();

	foreach(lc, sources)
	{
		DsSource   *src = (DsSource *) lfirst(lc);
		DsConn	   *entry;

		/* every remote PostgreSQL one; a disabled one only when named */
		if (ds_source_runs_here(src) || (name == NULL && !src->enabled))
			continue;
		entry = ds_resolve_connect(src);
		if (entry->xact_depth > 0 || PQtransactionStatus(entry->conn) != PQTRANS_IDLE)
			ereport(ERROR,
					errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					errmsg("cannot resolve prepared transactions on datasource \"%s\" inside a transaction that wrote there",
						   src->name),
					errhint("Call datasource.resolve_transactions() in a transaction of its own."));
		ds_commit_resolve(entry, rsinfo->setResult, rsinfo->setDesc);
	}
	return (Datum) 0;
}
