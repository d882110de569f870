/*-------------------------------------------------------------------------
 *
 * spi.c
 *		  Running our own SQL through SPI: as the caller, or as the owner of
 *		  the extension's tables.
 *
 * Every statement the extension runs for itself goes through here with $n
 * parameters and a search_path of pg_catalog only (ds_spi_connect), so a
 * caller's search_path can never change what our SQL means.
 *
 * Two identities, never mixed:
 *	- as the caller (ds_run_sql_as_caller, ds_run_query): DDL we build for a
 *	  user (CREATE/DROP SCHEMA, server definitions) and reads, so the
 *	  caller's privileges apply;
 *	- as the owner of the extension's tables (ds_spi_as_owner): our fixed
 *	  writes to the registry and the journals.  EXECUTE on a management
 *	  function is the privilege that lets a role change them, not INSERT on
 *	  the tables.  The switch covers only our own statements, never user
 *	  SQL, and is marked as a security-restricted operation; an error
 *	  restores the identity through transaction or subtransaction abort.
 *
 * Memory: results are copied into the caller's current memory context;
 * SPI's own memory is released by ds_spi_finish.
 *
 * IDENTIFICATION
 *		  src/spi.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "pg_datasource.h"

/*
 * ds_spi_connect
 *		SPI_connect with search_path pinned to pg_catalog for our statements.
 *		Returns the GUC nest level to pass to ds_spi_finish.
 */
int
ds_spi_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	return ds_spi_pin_path();
}

/*
 * ds_spi_pin_path
 *		Pins search_path to pg_catalog in a new GUC nest level, which it
 *		returns (AtEOXact_GUC(true, level) undoes it).  A transaction's end
 *		undoes it too: a procedure that commits (fleet.c's migrate_waves)
 *		pins it again in each transaction.
 */
int
ds_spi_pin_path(void)
{
	int			level;

	level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return level;
}

/*
 * ds_spi_finish
 *		Undoes ds_spi_connect; guc_level is what it returned.
 */
void
ds_spi_finish(int guc_level)
{
	AtEOXact_GUC(true, guc_level);
	SPI_finish();
}

/*
 * ds_extension_relid
 *		OID of one of the extension's tables in its schema; 42P01 with a hint
 *		when it does not exist (the extension is not installed here).
 */
Oid
ds_extension_relid(const char *relname)
{
	Oid			nsp = get_namespace_oid(DS_SCHEMA, false);
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				errcode(ERRCODE_UNDEFINED_TABLE),
				errmsg("relation \"%s.%s\" does not exist", DS_SCHEMA, relname),
				errhint("Is the extension pg_datasource installed in this database?"));
	return relid;
}

/*
 * ds_table_owner
 *		The owner of one of the extension's tables (the role that installed
 *		it), as whom the registry and the journals are written.  InvalidOid
 *		when the table does not exist and missing_ok (the extension is being
 *		dropped).
 */
Oid
ds_table_owner(const char *relname, bool missing_ok)
{
	Oid			nsp = get_namespace_oid(DS_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;
	Oid			owner;

	if (!OidIsValid(relid))
	{
		if (missing_ok)
			return InvalidOid;
		relid = ds_extension_relid(relname);	/* raises the error */
	}
	owner = ds_relation_owner(relid);
	if (!OidIsValid(owner))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	return owner;
}

/*
 * ds_relation_owner
 *		The owner of relation relid; InvalidOid when it is gone.
 */
Oid
ds_relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * ds_spi_as_owner
 *		Runs one of our own fixed statements as owner (ds_table_owner) inside
 *		the caller's SPI connection, as a security-restricted operation, and
 *		returns the SPI result code (negative on failure: the caller says
 *		what failed).  plan, when not NULL, is run with values/nulls;
 *		otherwise sql is, with nargs parameters of argtypes.  Not read-only,
 *		so the statement sees a fresh snapshot (rows committed by a
 *		transaction we waited for).
 */
int
ds_spi_as_owner(Oid owner, SPIPlanPtr plan, const char *sql, int nargs,
				Oid *argtypes, Datum *values, const char *nulls)
{
	Oid			save_userid;
	int			save_sec;
	int			rc;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (plan != NULL)
		rc = SPI_execute_plan(plan, values, nulls, false, 0);
	else
		rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls,
								   false, 0);
	SetUserIdAndSecContext(save_userid, save_sec);
	return rc;
}

/*
 * ds_run_sql_as_caller
 *		Runs a utility statement built by us (identifiers already quoted) as
 *		the calling role, so its privileges apply: CREATE/DROP SCHEMA and
 *		server definitions.
 */
void
ds_run_sql_as_caller(const char *sql)
{
	int			level = ds_spi_connect();
	int			rc = SPI_execute(sql, false, 0);

	if (rc < 0)
		elog(ERROR, "could not run \"%s\": %s", sql, SPI_result_code_string(rc));
	ds_spi_finish(level);
}

/*
 * ds_run_query
 *		Runs one of our own read-only queries with parameters as the caller
 *		and returns the first column of the first row as a Datum copied into
 *		the caller's context (isnull set when there is no row or the value is
 *		NULL).
 */
Datum
ds_run_query(const char *sql, int nargs, Oid *argtypes, Datum *values,
			 const char *nulls, bool *isnull)
{
	MemoryContext callercxt = CurrentMemoryContext;
	int			level = ds_spi_connect();
	Datum		result = (Datum) 0;

	if (SPI_execute_with_args(sql, nargs, argtypes, values, nulls, true, 1)
		!= SPI_OK_SELECT)
		elog(ERROR, "query failed: %s", sql);
	*isnull = true;
	if (SPI_processed > 0)
	{
		Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, 0);

		result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
							   isnull);
		if (!*isnull)
		{
			MemoryContextSwitchTo(callercxt);
			result = datumCopy(result, att->attbyval, att->attlen);
		}
	}
	ds_spi_finish(level);
	MemoryContextSwitchTo(callercxt);
	return result;
}
