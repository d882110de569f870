/*-------------------------------------------------------------------------
 *
 * args.c
 *		  Reading the arguments of our SQL functions.
 *
 * The SQL functions are declared without STRICT where a NULL argument means
 * "unchanged" or "default", so each C function decides per argument whether
 * NULL is allowed.  A required argument that is NULL is 22004 with the
 * argument's declared name, the same words everywhere.
 *
 * Memory: strings are palloc'd in the caller's current memory context.
 *
 * IDENTIFICATION
 *		  src/args.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "pg_datasource.h"

/*
 * ds_arg_name
 *		The declared name of argument n of the SQL function being called
 *		($n when it has none), for messages.
 */
static const char *
ds_arg_name(FunctionCallInfo fcinfo, int n)
{
	HeapTuple	proctup;
	char	  **names = NULL;
	Oid		   *types;
	char	   *modes;
	int			nargs;
	const char *result;

	proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	if (!HeapTupleIsValid(proctup))
		elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
	nargs = get_func_arg_info(proctup, &types, &names, &modes);
	ReleaseSysCache(proctup);
	if (names != NULL && n < nargs && names[n][0] != '\0')
		result = names[n];
	else
		result = psprintf("$%d", n + 1);
	return result;
}

/*
 * ds_arg_null
 *		Argument n is NULL: raises 22004 when it is required, naming it
 *		(name, or its declared name when name is NULL).
 */
static void
ds_arg_null(FunctionCallInfo fcinfo, int n, const char *name, bool required)
{
	if (required)
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"%s\" must not be null",
					   name ? name : ds_arg_name(fcinfo, n)));
}

/*
 * ds_text_arg
 *		Text argument n as a C string; NULL when the SQL argument is NULL and
 *		not required, 22004 when it is required.  name is the argument's
 *		name for the message; NULL looks up its declared name.
 */
char *
ds_text_arg(FunctionCallInfo fcinfo, int n, const char *name, bool required)
{
	if (PG_ARGISNULL(n))
	{
		ds_arg_null(fcinfo, n, name, required);
		return NULL;
	}
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * ds_bool_arg
 *		Boolean argument n as 0 or 1, or -1 when NULL and not required
 *		(22004 when required); name as for ds_text_arg.
 */
int
ds_bool_arg(FunctionCallInfo fcinfo, int n, const char *name, bool required)
{
	if (PG_ARGISNULL(n))
	{
		ds_arg_null(fcinfo, n, name, required);
		return -1;
	}
	return PG_GETARG_BOOL(n) ? 1 : 0;
}

/*
 * ds_current_role
 *		The calling role's name (for created_by, the journal's role and the
 *		like), palloc'd in the current memory context.
 */
char *
ds_current_role(void)
{
	return GetUserNameFromId(GetUserId(), false);
}
