/*-------------------------------------------------------------------------
 *
 * order.c
 *		  The order rule of migrations: a version is not applied where an
 *		  earlier version failed and was never applied since.
 *
 * Versions are ordered by their bytes (the "C" collation of their text):
 * 0001_init < 0002_notes, V1__a < V2__b, drizzle-kit's 0000_x < 0001_y.
 * Names that do not sort that way (V10 before V9 without zero padding)
 * are ordered by their bytes all the same; the README says so.  The rule
 * reads the journal of the logical database being migrated (locked by the
 * caller): when it holds a failed attempt of a lower version, and no row
 * that makes that version applied (applied, baseline, adopted, an accepted
 * checksum), the migration is refused.  A version that is merely missing
 * (never attempted) does not refuse: the journal cannot know the versions
 * a deploy has, pending() compares with a manifest for that.
 *
 * The journal is read through its index migrations_version (database,
 * version, id) with a C index scan, like journal.c's lookups, so that
 * migrate_all over many tenants never reads the journal sequentially
 * whatever plan a query would get.
 *
 * Memory: what is returned is palloc'd in the caller's context.
 *
 * IDENTIFICATION
 *		  src/order.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "pg_datasource.h"

/* a version seen in the journal and whether some row made it applied */
typedef struct DsSeenVersion
{
	char	   *version;
	bool		failed;
	bool		applied;
} DsSeenVersion;

/*
 * ds_status_applies
 *		Whether a journal status makes its version applied (those of
 *		DS_APPLIED_STATUSES).
 */
static bool
ds_status_applies(const char *status)
{
	return strcmp(status, "applied") == 0 ||
		strcmp(status, "baseline") == 0 ||
		strcmp(status, "adopted") == 0 ||
		strcmp(status, "checksum_accepted") == 0;
}

/*
 * ds_earlier_failure
 *		The lowest version below m->version (byte order) whose last state in
 *		the journal of m's logical database is failed, never applied; NULL
 *		when there is none.  The caller holds the logical database's
 *		migration lock (ds_lock_database), so the journal it reads is the
 *		one the migration will be judged against.
 *
 *		The index yields a database's rows by version (in the index's
 *		collation, which need not be "C"), so the versions are collected
 *		and compared here byte by byte.
 */
const char *
ds_earlier_failure(DsMigration *m)
{
	Oid			nsp = get_namespace_oid(DS_SCHEMA, false);
	Oid			relid = get_relname_relid("migrations", nsp);
	Oid			idxid = get_relname_relid("migrations_version", nsp);
	Relation	rel;
	Relation	index;
	IndexScanDesc scan;
	ScanKeyData key;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	AttrNumber	att_version;
	AttrNumber	att_status;
	DsSeenVersion *seen = NULL;
	int			nseen = 0;
	int			maxseen = 0;
	const char *lowest = NULL;
	int			i;

	if (!OidIsValid(relid) || !OidIsValid(idxid))
		elog(ERROR, "the migration journal of pg_datasource is missing");
	att_version = get_attnum(relid, "version");
	att_status = get_attnum(relid, "status");

	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	rel = table_open(relid, AccessShareLock);
	index = index_open(idxid, AccessShareLock);
	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[0], F_TEXTEQ,
						   CStringGetTextDatum(m->db->name));
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, index, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		char	   *version = TextDatumGetCString(slot_getattr(slot, att_version,
															   &isnull));
		char	   *status = TextDatumGetCString(slot_getattr(slot, att_status,
															  &isnull));

		/* only versions below the one to apply count */
		if (strcmp(version, m->version) >= 0)
			continue;
		/* rows of one version are adjacent in the index */
		if (nseen == 0 || strcmp(seen[nseen - 1].version, version) != 0)
		{
			if (nseen == maxseen)
			{
				maxseen = maxseen == 0 ? 8 : maxseen * 2;
				seen = seen == NULL ? palloc(maxseen * sizeof(DsSeenVersion)) :
					repalloc(seen, maxseen * sizeof(DsSeenVersion));
			}
			seen[nseen].version = version;
			seen[nseen].failed = false;
			seen[nseen].applied = false;
			nseen++;
		}
		if (strcmp(status, "failed") == 0)
			seen[nseen - 1].failed = true;
		else if (ds_status_applies(status))
			seen[nseen - 1].applied = true;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);

	for (i = 0; i < nseen; i++)
		if (seen[i].failed && !seen[i].applied &&
			(lowest == NULL || strcmp(seen[i].version, lowest) < 0))
			lowest = seen[i].version;
	return lowest;
}

/*
 * ds_check_order
 *		Refuses m (55000) when an earlier version failed on its logical
 *		database and was never applied since, unless m->out_of_order.  The
 *		caller holds the logical database's migration lock.
 */
void
ds_check_order(DsMigration *m)
{
	const char *earlier;

	if (m->out_of_order)
		return;
	earlier = ds_earlier_failure(m);
	if (earlier == NULL)
		return;
	ereport(ERROR,
			errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			errmsg("migration \"%s\" of logical database \"%s\" is refused: the earlier migration \"%s\" failed there",
				   m->version, m->db->name, earlier),
			errdetail("Versions are applied in the byte order of their names; \"%s\" failed and was never applied since.",
					  earlier),
			errhint("Apply \"%s\" first (or record it with datasource.baseline), or pass out_of_order => true to migrate_all.",
					earlier));
}
