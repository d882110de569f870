/*-------------------------------------------------------------------------
 *
 * order.c
 *		  The order rule of migrations: a version is not applied where an
 *		  earlier version is not applied.
 *
 * "Earlier" has two definitions.  Without a manifest, versions are
 * ordered by their bytes (the "C" collation of their text): 0001_init <
 * 0002_notes, V1__a < V2__b, drizzle-kit's 0000_x < 0001_y; names that do
 * not sort that way (V10 before V9 without zero padding) are ordered by
 * their bytes all the same (the README says so).  The journal cannot know
 * the versions a deploy has, so only a lower version that failed and was
 * never applied since refuses; one that is merely missing does not.  With
 * a manifest (migrate_all's, in pending()'s format), the manifest is the
 * series: every version before this one in it must be applied, so one
 * that is missing refuses as well as one that failed.  "Applied" is a row
 * that makes the version applied (applied, baseline, adopted, an accepted
 * checksum) in the journal of the logical database being migrated, which
 * the caller has locked.
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
 * ds_version_cmp
 *		qsort/bsearch comparison of DsSeenVersion by the bytes of the name.
 */
static int
ds_version_cmp(const void *a, const void *b)
{
	return strcmp(((const DsSeenVersion *) a)->version,
				  ((const DsSeenVersion *) b)->version);
}

/*
 * ds_journal_versions
 *		Every version in the journal of logical database name, sorted by
 *		its bytes, each with whether it has a failed row and a row that
 *		makes it applied; *n is how many.  The caller holds the logical
 *		database's migration lock (ds_lock_database), so the journal it
 *		reads is the one the migration will be judged against.
 *
 *		The index yields a database's rows by version (in the index's
 *		collation, which need not be "C"), so the rows of one version are
 *		adjacent; the versions are sorted here byte by byte.
 */
static DsSeenVersion *
ds_journal_versions(const char *name, int *n)
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
						   CStringGetTextDatum(name));
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

	if (nseen > 1)
		qsort(seen, nseen, sizeof(DsSeenVersion), ds_version_cmp);
	*n = nseen;
	return seen;
}

/*
 * ds_earlier_failure
 *		The lowest version below m->version (byte order) whose journal rows
 *		on m's logical database hold a failure and no row that makes it
 *		applied; NULL when there is none.  The caller holds the logical
 *		database's migration lock.
 */
const char *
ds_earlier_failure(DsMigration *m)
{
	DsSeenVersion *seen;
	int			nseen;
	int			i;

	seen = ds_journal_versions(m->db->name, &nseen);
	/* sorted: the first one found is the lowest */
	for (i = 0; i < nseen && strcmp(seen[i].version, m->version) < 0; i++)
		if (seen[i].failed && !seen[i].applied)
			return seen[i].version;
	return NULL;
}

/*
 * ds_check_manifest_order
 *		With a manifest: refuses m (55000) when a version before m->version
 *		in it (m->earlier) is not applied to m's logical database, naming
 *		the first such version and whether it is missing or failed.
 */
static void
ds_check_manifest_order(DsMigration *m)
{
	DsSeenVersion *seen;
	int			nseen;
	int			i;

	seen = ds_journal_versions(m->db->name, &nseen);
	for (i = 0; i < m->nearlier; i++)
	{
		DsSeenVersion key;
		DsSeenVersion *found;

		key.version = m->earlier[i];
		found = nseen == 0 ? NULL :
			bsearch(&key, seen, nseen, sizeof(DsSeenVersion), ds_version_cmp);
		if (found != NULL && found->applied)
			continue;
		ereport(ERROR,
				errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				errmsg("migration \"%s\" of logical database \"%s\" is refused: the earlier migration \"%s\" of the manifest is not applied there",
					   m->version, m->db->name, m->earlier[i]),
				found != NULL && found->failed ?
				errdetail("With a manifest, every version before \"%s\" in it must be applied first; \"%s\" failed there and was never applied since.",
						  m->version, m->earlier[i]) :
				errdetail("With a manifest, every version before \"%s\" in it must be applied first; \"%s\" was never applied there.",
						  m->version, m->earlier[i]),
				errhint("Apply \"%s\" first (or record it with datasource.baseline), or pass out_of_order => true.",
						m->earlier[i]));
	}
}

/*
 * ds_check_order
 *		Refuses m (55000) when an earlier version is not applied to its
 *		logical database, unless m->out_of_order: with a manifest, any
 *		version before it in the manifest (ds_check_manifest_order);
 *		without, a lower version that failed and was never applied since.
 *		The caller holds the logical database's migration lock.
 */
void
ds_check_order(DsMigration *m)
{
	const char *earlier;

	if (m->out_of_order)
		return;
	if (m->manifest)
	{
		ds_check_manifest_order(m);
		return;
	}
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
