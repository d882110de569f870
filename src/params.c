/*-------------------------------------------------------------------------
 *
 * params.c
 *		  The $n parameters a routed statement uses.
 *
 * A routed statement comes with its parameters as text, and the statement
 * says which of them it uses: a $n token of the server's own scanner
 * (scan.c's ds_scan_params; not one inside a literal, a quoted identifier
 * or a comment).  Routing checks
 * the count once, for every datasource, before anything runs: a statement
 * using $n with fewer than n parameters given is refused with one message
 * and SQLSTATE (42P02, as the parser reports an unknown parameter).
 * Parameters given but not used are ignored on every datasource: locally
 * they are typed text, and remote.c declares them text to the remote
 * server, which would otherwise refuse a Bind that carries more values than
 * the statement has parameters.
 *
 * Memory: what the functions return is palloc'd in the caller's context.
 *
 * IDENTIFICATION
 *		  src/params.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pg_datasource.h"

/*
 * ds_params_bound
 *		The largest n of any '$' followed by digits anywhere in sql (in a
 *		literal or comment too): an upper bound of the highest $n token.
 *		Saturates at INT_MAX / 10.
 */
static int
ds_params_bound(const char *sql)
{
	int			bound = 0;
	const char *p = sql;

	while ((p = strchr(p, '$')) != NULL)
	{
		int			n = 0;

		for (p++; *p >= '0' && *p <= '9'; p++)
			if (n < INT_MAX / 10)
				n = n * 10 + (*p - '0');
		bound = Max(bound, n);
	}
	return bound;
}

/*
 * ds_params_check
 *		Refuses a statement that uses more parameters than the nparams given;
 *		called by routing before the statement goes to any datasource.
 */
void
ds_params_check(const char *sql, int nparams)
{
	int			highest;

	/*
	 * Every $n token is a '$' and digits in the text, so when no such run
	 * names more than nparams, no token does: the scanner (whose set-up
	 * alone costs more than a routed point select can spare) is needed only
	 * for a text that might be refused.
	 */
	if (ds_params_bound(sql) <= nparams)
		return;
	highest = ds_scan_params(sql, nparams, NULL);
	if (highest > nparams)
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_PARAMETER),
				errmsg("the statement uses $%d but %d parameter%s given",
					   highest, nparams, nparams == 1 ? " was" : "s were"));
}

/*
 * ds_params_used
 *		Which of the nparams given parameters the statement uses (an array of
 *		nparams flags; NULL when nparams is 0).
 */
bool *
ds_params_used(const char *sql, int nparams)
{
	bool	   *used;

	if (nparams <= 0)
		return NULL;
	used = palloc0(sizeof(bool) * nparams);
	(void) ds_scan_params(sql, nparams, used);
	return used;
}
