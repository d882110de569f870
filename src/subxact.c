/*-------------------------------------------------------------------------
 *
 * subxact.c
 *		  Running a function in a subtransaction and keeping its error.
 *
 * execute(), health_check, the migrations and a routed read on a MySQL
 * logical database run something that may fail without failing the
 * caller: in a subtransaction, whose error is copied out and whose work is
 * rolled back.  A cancel or statement_timeout is never kept: it ends the
 * statement, whoever the caller.
 *
 * Memory: the function runs, and the error is copied, in the caller's
 * memory context.
 *
 * IDENTIFICATION
 *		  src/subxact.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "pg_datasource.h"

/*
 * ds_in_subxact
 *		Runs fn(arg) in a subtransaction.  Returns NULL when it succeeded, or
 *		the error it raised, copied into the caller's memory context, after
 *		rolling the subtransaction back.  The caller's memory context and
 *		resource owner are current again either way.  A cancel or
 *		statement_timeout (57014) is never returned: it ends the statement
 *		that called, so it is raised again once the subtransaction is gone,
 *		whoever the caller (execute(), health_check, the migrations).
 */
ErrorData *
ds_in_subxact(void (*fn) (void *), void *arg)
{
	MemoryContext callercxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(callercxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(callercxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(callercxt);
	CurrentResourceOwner = owner;
	if (edata != NULL && edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
		ReThrowError(edata);
	return edata;
}
