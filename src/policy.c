/*-------------------------------------------------------------------------
 *
 * policy.c
 *		  What the registry allows: whether a datasource can take a
 *		  statement, and whether logical databases share one datasource.
 *
 * Each rule is decided here once, and every path that needs it calls the
 * function: routing, migrations, introspection, the remote connection
 * layer, validate(), validate_databases(), health_check() and the
 * enforcement hook.  A caller either has the standard error raised (with
 * its SQLSTATE, detail and hint), or gets the answer and the primary
 * message back to report in a result row (validate_databases() puts the
 * logical database's name in its own message).
 *
 * Memory: messages are palloc'd in the caller's current memory context.
 *
 * IDENTIFICATION
 *		  src/policy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"

#include "pg_datasource.h"

/*
 * ds_source_usable
 *		Whether a statement may run on datasource src, for its logical
 *		database db (NULL when there is none in particular): the session's
 *		sandbox must allow db (and a write to it: 42501 otherwise), the
 *		datasource must be enabled, and a statement that writes needs a
 *		datasource and a logical database that are not read-only.
 *
 *		writes is NULL for a statement that only reads; otherwise it says
 *		why the statement writes (a read-only verdict's reason, given as the
 *		detail "The statement is not read-only: ..."), or is "" for work
 *		that always writes (a migration).
 *
 *		When the answer is no: with elevel ERROR the standard error is
 *		raised: 55000 "datasource ... is disabled" with a hint to enable it,
 *		or 25006 "logical database ... is read-only" ("datasource ... is
 *		read-only" without db) with a detail.  With an elevel below ERROR,
 *		false is returned, and *reason and *sqlerrcode (each when not NULL)
 *		get the primary message and the SQLSTATE, for callers that report
 *		problems instead of raising them.  A disabled datasource is reported
 *		before a read-only one.
 */
bool
ds_source_usable(const DsSource *src, const DsDatabase *db, const char *writes,
				 int elevel, char **reason, int *sqlerrcode)
{
	bool		raise = (elevel >= ERROR);

	/* the session's sandbox comes first (sandbox.c decides) */
	if (db != NULL && !ds_sandbox_permits(db->name, writes != NULL, elevel, reason))
	{
		if (sqlerrcode)
			*sqlerrcode = ERRCODE_INSUFFICIENT_PRIVILEGE;
		return false;
	}

	if (!src->enabled)
	{
		if (raise)
			ereport(ERROR,
					errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					errmsg("datasource \"%s\" is disabled", src->name),
					errhint("Enable it with datasource.alter_source('%s', enabled => true).",
							src->name));
		if (reason)
			*reason = psprintf("datasource \"%s\" is disabled", src->name);
		if (sqlerrcode)
			*sqlerrcode = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;
		return false;
	}

	if (writes == NULL || !(src->read_only || (db != NULL && db->read_only)))
		return true;

	if (raise && db == NULL)
		ereport(ERROR,
				errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				errmsg("datasource \"%s\" is read-only", src->name),
				writes[0] != '\0'
				? errdetail("The statement is not read-only: %s.", writes) : 0);
	if (raise)
		ereport(ERROR,
				errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				errmsg("logical database \"%s\" is read-only", db->name),
				writes[0] != '\0'
				? errdetail("The statement is not read-only: %s.", writes)
				: !db->read_only
				? errdetail("Its datasource \"%s\" is read-only.", src->name) : 0);
	if (reason)
		*reason = db != NULL
			? psprintf("logical database \"%s\" is read-only", db->name)
			: psprintf("datasource \"%s\" is read-only", src->name);
	if (sqlerrcode)
		*sqlerrcode = ERRCODE_READ_ONLY_SQL_TRANSACTION;
	return false;
}

/*
 * ds_sources_differ
 *		Whether logical databases live on more than one datasource.  dbs is
 *		a List of DsDatabase *, each once, in the order the statement or the
 *		caller names them.  Returns NULL when they share one datasource (or
 *		there are none); otherwise the text that says where each is, the
 *		databases grouped by datasource in order of first mention:
 *		a, b on "x"; c on "y".  The caller puts its own words in front.
 */
char *
ds_sources_differ(List *dbs)
{
	StringInfoData msg;
	List	   *seen = NIL;
	ListCell   *lc;
	ListCell   *lc2;
	bool		mixed = false;

	foreach(lc, dbs)
		if (strcmp(((DsDatabase *) lfirst(lc))->source,
				   ((DsDatabase *) linitial(dbs))->source) != 0)
			mixed = true;
	if (!mixed)
		return NULL;

	initStringInfo(&msg);
	foreach(lc, dbs)
	{
		const char *src = ((DsDatabase *) lfirst(lc))->source;
		bool		first_of_src = true;
		bool		done_src = false;

		foreach(lc2, seen)
			if (strcmp(lfirst(lc2), src) == 0)
				done_src = true;
		if (done_src)
			continue;
		seen = lappend(seen, (char *) src);
		if (list_length(seen) > 1)
			appendStringInfoString(&msg, "; ");
		foreach(lc2, dbs)
		{
			DsDatabase *d = lfirst(lc2);

			if (strcmp(d->source, src) != 0)
				continue;
			appendStringInfo(&msg, "%s%s", first_of_src ? "" : ", ", d->name);
			first_of_src = false;
		}
		appendStringInfo(&msg, " on \"%s\"", src);
	}
	list_free(seen);
	return msg.data;
}
