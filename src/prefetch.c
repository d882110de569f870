/*-------------------------------------------------------------------------
 *
 * prefetch.c
 *		  migrate_all's first look at the journal: whether its version is
 *		  applied to each target, read for all of them in one query.
 *
 * Without this, each logical database's state is an index scan of its
 * own (journal.c's ds_applied_state) after its locks are taken, which for
 * a run where nothing is left to apply (every target already_applied) was
 * a quarter of the call.  Read once at the start, the state must still be
 * the one a read after the locks would give, so the locks that keep it
 * from changing are taken before the read:
 *   - each target's migration lock (the advisory lock every journal writer
 *     of a logical database takes first: migrate, migrate_all, baseline,
 *     accept_checksum, adopt_drizzle's take-over), without waiting: a
 *     target whose lock another session holds is left out (its state is
 *     read after its lock, in its turn, as before, with the same wait and
 *     the same serialization failure under REPEATABLE READ);
 *   - the registry rows, FOR KEY SHARE in the same query, so that neither
 *     drop_database nor rename_database (which carries journal rows from
 *     one name to another) can change what a name's journal is until the
 *     call's transaction ends.
 * Then nothing else can write the journal rows of a locked target, and
 * what the query saw (in READ COMMITTED, a snapshot taken after the
 * locks) is what a read in its turn would see.  The per-database steps
 * stay: ds_lock_database takes the migration lock again (already held: no
 * wait) and reads and locks the registry row again (for its read_only and
 * source, which alter_database may change meanwhile; the row lock is
 * already held by the transaction, so no new one is written).  Under
 * REPEATABLE READ or SERIALIZABLE nothing is prefetched: there a row
 * changed since the snapshot is a serialization failure of that one
 * target, which the query would make a failure of the whole call.
 *
 * The locks taken here last until the transaction ends, as those a
 * migrate_all takes per target always did; they are taken for targets a
 * call may then not attempt (max_failures), which only makes another
 * migrator of those wait for this call's end.
 *
 * Memory: the states are allocated in the caller's context; the caller
 * holds an SPI connection.
 *
 * IDENTIFICATION
 *		  src/prefetch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/lock.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "pg_datasource.h"

/*
 * ds_prefetch_states
 *		The journal state of version for each of targets (a List of names,
 *		in its order): an array of list_length(targets) states, each known
 *		or not (see the file's comment), or NULL when nothing is
 *		prefetched (no target, or an isolation level above READ
 *		COMMITTED).
 */
DsJournalState *
ds_prefetch_states(List *targets, const char *version)
{
	int			n = list_length(targets);
	DsJournalState *states;
	Datum	   *names;
	int		   *pos;
	Datum		values[2];
	Oid			types[2] = {TEXTARRAYOID, TEXTOID};
	int			nlocked = 0;
	int			level;
	ListCell   *lc;
	uint64		r;

	if (n == 0 || IsolationUsesXactSnapshot())
		return NULL;
	states = palloc0(sizeof(DsJournalState) * n);
	names = palloc(sizeof(Datum) * n);
	pos = palloc(sizeof(int) * n);
	foreach(lc, targets)
	{
		LOCKTAG		tag;

		/* the migration lock, if no one else has it now */
		ds_migration_lock_tag(&tag, (char *) lfirst(lc));
		if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
			continue;
		pos[nlocked] = foreach_current_index(lc);
		names[nlocked++] = CStringGetTextDatum((char *) lfirst(lc));
	}
	if (nlocked == 0)
		return states;

	/*
	 * The registry rows locked and the state read: the latest row of the
	 * version with an applied status, as ds_applied_state reads it.  A
	 * name without a registry row has no row here (unknown: its turn says
	 * that it does not exist).
	 */
	values[0] = PointerGetDatum(construct_array(names, nlocked, TEXTOID, -1,
												false, TYPALIGN_INT));
	values[1] = CStringGetTextDatum(version);

	/*
	 * Through the journal's index, once per target, whatever its statistics
	 * say: the plan is kept for the backend's life, and one made while the
	 * journal was empty (a fresh install) would read all of it per target.
	 */
	level = NewGUCNestLevel();
	(void) set_config_option("enable_seqscan", "off", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (ds_journal_exec("SELECT t.i, s.found, s.checksum "
						"FROM pg_catalog.unnest($1) WITH ORDINALITY AS t (name, i) "
						"JOIN datasource.databases d ON d.name = t.name "
						"LEFT JOIN LATERAL (SELECT true AS found, m.checksum "
						"FROM datasource.migrations m WHERE m.database = d.name "
						"AND m.version = $2 AND m.status = ANY (" DS_APPLIED_STATUSES ") "
						"ORDER BY m.id DESC LIMIT 1) s ON true "
						"FOR KEY SHARE OF d",
						2, types, values, NULL) != SPI_OK_SELECT)
		elog(ERROR, "could not read the journal of the logical databases");
	AtEOXact_GUC(true, level);
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		k = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		DsJournalState *st;

		if (k < 1 || k > nlocked)
			elog(ERROR, "the journal query returned no target");
		st = &states[pos[k - 1]];
		st->known = true;
		(void) SPI_getbinval(tup, desc, 2, &isnull);
		st->applied = !isnull;
		st->checksum = SPI_getvalue(tup, desc, 3);
	}
	return states;
}
