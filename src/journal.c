/*-------------------------------------------------------------------------
 *
 * journal.c
 *		  The migration journal: its reads and writes, and the registry row
 *		  a migration locks.
 *
 * Journal rows are written as the extension's owner (datasource.migrations
 * is not writable by the roles that migrate), through SPI with plans kept
 * for the backend's life.  The reads that run once per logical database
 * (the registry row and its lock, the applied state, an adopted
 * drizzle-kit entry) are index scans in C with the snapshot a query would
 * have, not SPI queries: migrate_all runs them a thousand times in a row,
 * and a kept plan made while the journal was empty would read it
 * sequentially.  The OIDs and column numbers those scans need are looked
 * up once per transaction and forgotten at its end (see ds_journal_ids).
 * migrate_all collects its journal rows, and describes the schemas its
 * scripts left, in a batch written at its end (journal_batch.c).
 *
 * The journal is history: its rows outlive their logical database (no
 * foreign key to the registry); ds_journal_history tells registry.c
 * whether a name has rows, and ds_journal_rename carries them on a rename.
 * A failed attempt keeps its error's SQLSTATE, DETAIL and HINT.
 *
 * A version's state is the latest of its rows with status applied,
 * baseline, adopted or checksum_accepted: applied if there is one, with
 * that row's checksum (NULL for a baseline: any script matches).
 *
 * Memory: functions allocate in the caller's context, inside the caller's
 * SPI connection; the kept plans and the cached OIDs live as long as the
 * backend.
 *
 * IDENTIFICATION
 *		  src/journal.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

/* which rows ds_journal_find stops at */
typedef enum DsJournalMatch
{
	DS_MATCH_APPLIED,			/* status makes the version applied */
	DS_MATCH_DRIZZLE,			/* an adopted drizzle-kit entry not taken
								 * over yet (version 'drizzle:...') */
	DS_MATCH_ANY				/* any row the index has */
} DsJournalMatch;

/* kept plans of the journal statements, by the address of their text */
typedef struct DsJournalPlan
{
	const char *sql;
	SPIPlanPtr	plan;
} DsJournalPlan;

static DsJournalPlan ds_plans[16];
static int	ds_nplans = 0;

/*
 * ds_journal_exec
 *		Runs one of our statements on the journal or the registry as the
 *		journal's owner, inside the caller's SPI connection; returns the SPI
 *		result code.  A fresh snapshot is taken, so rows committed by a
 *		migrator we waited for are seen (in READ COMMITTED).  sql must be a
 *		string constant, always passed with the same parameter types: its
 *		plan is kept for the backend's life under its address (the plan
 *		cache revalidates it when the journal's tables change).
 */
int
ds_journal_exec(const char *sql, int nargs, Oid *types, Datum *values,
				const char *nulls)
{
	SPIPlanPtr	plan = NULL;
	int			rc;
	int			i;

	/* the previous result has been read: free it, not at SPI_finish */
	if (SPI_tuptable != NULL)
		SPI_freetuptable(SPI_tuptable);

	/* plans are kept per statement (the statements are constants) */
	for (i = 0; i < ds_nplans; i++)
		if (ds_plans[i].sql == sql)
			plan = ds_plans[i].plan;
	if (plan == NULL)
	{
		/*
		 * A generic plan, chosen now, so that the plan does not depend on
		 * the first parameters it sees.  (The journal's own lookups do not
		 * go through plans: see ds_journal_find.)
		 */
		plan = SPI_prepare_cursor(sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
		if (plan == NULL)
			elog(ERROR, "could not prepare a journal statement: %s",
				 SPI_result_code_string(SPI_result));
		if (ds_nplans < (int) lengthof(ds_plans) && SPI_keepplan(plan) == 0)
		{
			ds_plans[ds_nplans].sql = sql;
			ds_plans[ds_nplans].plan = plan;
			ds_nplans++;
		}
	}
	rc = ds_spi_as_owner(ds_table_owner("migrations", false), plan, NULL,
						 nargs, types, values, nulls);
	if (rc < 0)
		elog(ERROR, "journal statement failed: %s", SPI_result_code_string(rc));
	return rc;
}

/*
 * ds_record_snapshot
 *		Records the schema a migration left (ds_snapshot) in
 *		datasource.schema_snapshots, once per fingerprint, and keeps the
 *		fingerprint for the journal row.  In migrate_all (m has a batch),
 *		nothing yet: the batch describes every schema its rows applied to
 *		at once, before it is written (journal_batch.c).
 */
void
ds_record_snapshot(DsMigration *m)
{
	Datum		values[2];
	Oid			types[2] = {TEXTOID, JSONBOID};

	if (m->batch != NULL)
		return;
	m->schema_fingerprint = ds_snapshot(m->db, m->src, &values[1]);
	if (m->schema_fingerprint == NULL)
		return;
	values[0] = CStringGetTextDatum(m->schema_fingerprint);
	if (ds_journal_exec("INSERT INTO datasource.schema_snapshots (fingerprint, description) "
						"VALUES ($1, $2) ON CONFLICT (fingerprint) DO NOTHING",
						2, types, values, NULL) != SPI_OK_INSERT)
		elog(ERROR, "could not record a schema snapshot");
}

/*
 * ds_journal_sql
 *		ds_journal_exec with text parameters given as C strings (NULL for
 *		SQL null).
 */
int
ds_journal_sql(const char *sql, int nargs, const char **args)
{
	Datum		values[24];
	char		nulls[24];
	Oid			types[24];
	int			i;

	Assert(nargs <= 24);
	for (i = 0; i < nargs; i++)
	{
		values[i] = args[i] ? CStringGetTextDatum(args[i]) : (Datum) 0;
		nulls[i] = args[i] ? ' ' : 'n';
		types[i] = TEXTOID;
	}
	return ds_journal_exec(sql, nargs, types, values, nulls);
}

/*
 * ds_server_address
 *		host:port/dbname of a remote datasource's foreign server, from its
 *		options (none of which is secret).
 */
char *
ds_server_address(DsSource *src)
{
	ForeignServer *server;
	const char *host = NULL;
	const char *port = NULL;
	const char *dbname = NULL;
	ListCell   *lc;

	if (src->server == NULL)
		return NULL;
	server = GetForeignServerByName(src->server, true);
	if (server == NULL)
		return NULL;
	foreach(lc, server->options)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		if (strcmp(opt->defname, "host") == 0)
			host = defGetString(opt);
		else if (strcmp(opt->defname, "port") == 0)
			port = defGetString(opt);
		else if (strcmp(opt->defname, "dbname") == 0)
			dbname = defGetString(opt);
	}
	return psprintf("%s:%s/%s", host ? host : "", port ? port : "",
					dbname ? dbname : "");
}

/*
 * What the journal's reads in C need to know about the journal and the
 * registry, looked up once per transaction and forgotten when a relcache
 * invalidation names one of the relations (DROP EXTENSION in the same
 * transaction, for one) and when the transaction ends.
 *
 * The end of the transaction is noticed by a transaction callback rather
 * than by tagging the OIDs with the transaction's local id (MyProc->lxid)
 * and comparing at the next lookup: PostgreSQL 17 moved that field into
 * MyProc->vxid, while RegisterXactCallback is the same from 15 on, so no
 * code depends on the server's major version.  A subtransaction's end is
 * not an end: the OIDs stay valid through a rolled-back savepoint, as
 * they did when tagged with the top transaction's id (the relcache
 * callback still sees what the savepoint undid).
 */
static struct
{
	bool		valid;			/* looked up in the current transaction */
	bool		callbacks;		/* both callbacks are registered */
	Oid			migrations;
	Oid			migrations_version;
	Oid			migrations_adopted;
	AttrNumber	att_id;
	AttrNumber	att_version;
	AttrNumber	att_status;
	AttrNumber	att_checksum;
	Oid			databases;
	Oid			databases_pkey;
	AttrNumber	db_name;
	AttrNumber	db_source;
	AttrNumber	db_schema_name;
	AttrNumber	db_read_only;
	AttrNumber	db_local_schema;
} ds_journal_ids;

/*
 * ds_journal_relid
 *		OID of a relation of the journal in the extension's schema; "cannot
 *		happen" when it is missing (the extension owns it).
 */
static Oid
ds_journal_relid(Oid nsp, const char *relname)
{
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "relation \"%s.%s\" does not exist", DS_SCHEMA, relname);
	return relid;
}

/*
 * ds_journal_ids_callback
 *		Relcache invalidation callback: forgets ds_journal_ids when one of
 *		its relations (or every relation) is invalidated.
 */
static void
ds_journal_ids_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == ds_journal_ids.migrations ||
		relid == ds_journal_ids.migrations_version ||
		relid == ds_journal_ids.migrations_adopted ||
		relid == ds_journal_ids.databases ||
		relid == ds_journal_ids.databases_pkey)
		ds_journal_ids.valid = false;
}

/*
 * ds_journal_ids_xact_callback
 *		Transaction callback: forgets ds_journal_ids when the transaction
 *		ends.  Every event it gets (pre-commit, commit, abort, prepare and
 *		their parallel variants) comes at the end of a top-level
 *		transaction, when no journal read is left to run; forgetting at
 *		the first of them costs at most one lookup, so the event is not
 *		looked at.
 */
static void
ds_journal_ids_xact_callback(XactEvent event, void *arg)
{
	ds_journal_ids.valid = false;
}

/*
 * ds_journal_lookup_ids
 *		Fills ds_journal_ids for the current transaction.
 */
static void
ds_journal_lookup_ids(void)
{
	Oid			nsp;
	Oid			rel;

	if (ds_journal_ids.valid)
		return;
	if (!ds_journal_ids.callbacks)
	{
		CacheRegisterRelcacheCallback(ds_journal_ids_callback, (Datum) 0);
		RegisterXactCallback(ds_journal_ids_xact_callback, NULL);
		ds_journal_ids.callbacks = true;
	}
	nsp = get_namespace_oid(DS_SCHEMA, false);
	rel = ds_journal_relid(nsp, "migrations");
	ds_journal_ids.migrations = rel;
	ds_journal_ids.migrations_version = ds_journal_relid(nsp, "migrations_version");
	ds_journal_ids.migrations_adopted = ds_journal_relid(nsp, "migrations_adopted");
	ds_journal_ids.att_id = get_attnum(rel, "id");
	ds_journal_ids.att_version = get_attnum(rel, "version");
	ds_journal_ids.att_status = get_attnum(rel, "status");
	ds_journal_ids.att_checksum = get_attnum(rel, "checksum");
	rel = ds_journal_relid(nsp, "databases");
	ds_journal_ids.databases = rel;
	ds_journal_ids.databases_pkey = ds_journal_relid(nsp, "databases_pkey");
	ds_journal_ids.db_name = get_attnum(rel, "name");
	ds_journal_ids.db_source = get_attnum(rel, "source");
	ds_journal_ids.db_schema_name = get_attnum(rel, "schema_name");
	ds_journal_ids.db_read_only = get_attnum(rel, "read_only");
	ds_journal_ids.db_local_schema = get_attnum(rel, "local_schema");
	if (ds_journal_ids.att_id == InvalidAttrNumber ||
		ds_journal_ids.att_version == InvalidAttrNumber ||
		ds_journal_ids.att_status == InvalidAttrNumber ||
		ds_journal_ids.att_checksum == InvalidAttrNumber ||
		ds_journal_ids.db_name == InvalidAttrNumber ||
		ds_journal_ids.db_source == InvalidAttrNumber ||
		ds_journal_ids.db_schema_name == InvalidAttrNumber ||
		ds_journal_ids.db_read_only == InvalidAttrNumber ||
		ds_journal_ids.db_local_schema == InvalidAttrNumber)
		elog(ERROR, "a column of datasource.migrations or datasource.databases is missing");
	ds_journal_ids.valid = true;
}

/*
 * ds_lock_registry_row
 *		Finds the registry row of logical database name and locks it FOR KEY
 *		SHARE, as SELECT ... FOR KEY SHARE would, and returns it (palloc'd),
 *		or NULL when there is none: drop_database and rename_database wait
 *		for the lock, alter_database does not.
 *
 *		In READ COMMITTED, a row updated by a transaction we waited for is
 *		followed to its last version, which must still have the name (a
 *		rename makes it another row); a deleted row is none.  Under
 *		REPEATABLE READ or SERIALIZABLE, a row changed since the snapshot
 *		is a serialization failure, as for the SQL statement.  The row is
 *		read and locked in C, as its owner would, not through a query: this
 *		runs once per logical database in migrate_all.
 */
DsDatabase *
ds_lock_registry_row(const char *name)
{
	Relation	rel;
	Relation	index;
	IndexScanDesc scan;
	ScanKeyData key;
	TupleTableSlot *slot;
	Snapshot	snapshot;
	ItemPointerData tid;
	TM_FailureData tmfd;
	TM_Result	res;
	DsDatabase *db = NULL;
	bool		found = false;
	bool		isnull;
	Datum		value;

	ds_journal_lookup_ids();
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	rel = table_open(ds_journal_ids.databases, RowShareLock);
	index = index_open(ds_journal_ids.databases_pkey, AccessShareLock);
	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[0], F_TEXTEQ,
						   CStringGetTextDatum(name));
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, index, snapshot, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	if (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		tid = slot->tts_tid;
		found = true;
	}
	index_endscan(scan);
	index_close(index, NoLock);

	if (found)
	{
		res = table_tuple_lock(rel, &tid, snapshot, slot,
							   GetCurrentCommandId(true), LockTupleKeyShare,
							   LockWaitBlock,
							   IsolationUsesXactSnapshot() ? 0 :
							   TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
							   &tmfd);
		switch (res)
		{
			case TM_Ok:
				/* a newer version (READ COMMITTED): is it still this name? */
				found = !tmfd.traversed ||
					strcmp(TextDatumGetCString(slot_getattr(slot,
															ds_journal_ids.db_name,
															&isnull)),
						   name) == 0;
				break;
			case TM_SelfModified:
				/* changed by a later command of ours: not visible to us */
				found = false;
				break;
			case TM_Updated:
			case TM_Deleted:
				if (IsolationUsesXactSnapshot() && res == TM_Updated)
					ereport(ERROR,
							errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
							errmsg("could not serialize access due to concurrent update"));
				if (IsolationUsesXactSnapshot())
					ereport(ERROR,
							errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
							errmsg("could not serialize access due to concurrent delete"));
				/* READ COMMITTED: only a deleted row gets here */
				found = false;
				break;
			default:
				elog(ERROR, "unexpected result %d locking the registry row of \"%s\"",
					 (int) res, name);
		}
	}
	if (found)
	{
		db = palloc0(sizeof(DsDatabase));
		db->name = TextDatumGetCString(slot_getattr(slot, ds_journal_ids.db_name,
													&isnull));
		db->source = TextDatumGetCString(slot_getattr(slot, ds_journal_ids.db_source,
													  &isnull));
		db->schema_name = TextDatumGetCString(slot_getattr(slot,
														   ds_journal_ids.db_schema_name,
														   &isnull));
		db->read_only = DatumGetBool(slot_getattr(slot, ds_journal_ids.db_read_only,
												  &isnull));
		/* a MySQL logical database's local schema of foreign tables */
		value = slot_getattr(slot, ds_journal_ids.db_local_schema, &isnull);
		db->local_schema = isnull ? NULL : TextDatumGetCString(value);

	}
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
	return db;
}

/*
 * ds_journal_find
 *		Reads datasource.migrations through index idx, whose first two
 *		columns are compared with key1 and key2 (text, equality; key2 may
 *		be a text array, for any of its elements), in direction dir.  For
 *		DS_MATCH_APPLIED, stops at the first row with an applied status (those
 *		of DS_APPLIED_STATUSES); for DS_MATCH_DRIZZLE, takes the drizzle-kit
 *		entry with the lowest id; for DS_MATCH_ANY, stops at the first row.
 *		Fills *row and returns true, or returns false when there is none.
 *
 *		An index scan in C, not a query: a plan made while the journal is
 *		small (a fresh install) would scan it sequentially for the life of
 *		the backend, once per logical database in migrate_all, as the
 *		journal grows.  It sees what a query of the caller's transaction
 *		would: its own earlier rows (the command counter is advanced) and,
 *		in READ COMMITTED, what was committed until now, for example by a
 *		migrator whose lock we waited for.  No privilege is checked: this is
 *		our own read of our own journal, as its owner would do it.
 */
static bool
ds_journal_find(Oid idx, const char *key1, Datum key2, bool key2_array,
				ScanDirection dir, DsJournalMatch what, DsJournalRow *row)
{
	Relation	rel;
	Relation	index;
	IndexScanDesc scan;
	ScanKeyData keys[2];
	TupleTableSlot *slot;
	Snapshot	snapshot;
	bool		found = false;

	ds_journal_lookup_ids();
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	rel = table_open(ds_journal_ids.migrations, AccessShareLock);
	index = index_open(idx, AccessShareLock);
	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[0], F_TEXTEQ,
						   CStringGetTextDatum(key1));
	ScanKeyEntryInitialize(&keys[1], key2_array ? SK_SEARCHARRAY : 0, 2,
						   BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[1], F_TEXTEQ, key2);
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, index, snapshot, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	while (index_getnext_slot(scan, dir, slot))
	{
		bool		isnull;
		bool		match;
		int64		id;

		if (what == DS_MATCH_APPLIED)
		{
			char	   *status = TextDatumGetCString(slot_getattr(slot,
																  ds_journal_ids.att_status,
																  &isnull));

			match = strcmp(status, "applied") == 0 ||
				strcmp(status, "baseline") == 0 ||
				strcmp(status, "adopted") == 0 ||
				strcmp(status, "checksum_accepted") == 0;
		}
		else if (what == DS_MATCH_DRIZZLE)
			match = strncmp(TextDatumGetCString(slot_getattr(slot,
															 ds_journal_ids.att_version,
															 &isnull)),
							"drizzle:", 8) == 0;
		else
			match = true;
		if (!match)
			continue;
		id = DatumGetInt64(slot_getattr(slot, ds_journal_ids.att_id, &isnull));
		if (!found || id < row->id)
		{
			Datum		checksum = slot_getattr(slot, ds_journal_ids.att_checksum,
											   &isnull);

			row->checksum = isnull ? NULL : TextDatumGetCString(checksum);
			row->id = id;
			row->tid = slot->tts_tid;
		}
		found = true;
		/* the latest applied row counts; of drizzle's entries, the first */
		if (what != DS_MATCH_DRIZZLE)
			break;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, NoLock);
	table_close(rel, NoLock);
	UnregisterSnapshot(snapshot);
	return found;
}

/*
 * ds_applied_state
 *		Whether version is applied to the locked database, and the checksum
 *		that counts (NULL after a baseline): that of its latest row with an
 *		applied status, read backwards through migrations_version
 *		(database, version, id).
 */
bool
ds_applied_state(DsMigration *m, const char *version, char **checksum)
{
	DsJournalRow row;

	ds_journal_lookup_ids();
	if (!ds_journal_find(ds_journal_ids.migrations_version, m->db->name,
						 CStringGetTextDatum(version), false,
						 BackwardScanDirection, DS_MATCH_APPLIED, &row))
		return false;
	*checksum = row.checksum;
	return true;
}

/*
 * ds_find_adopted
 *		The first adopted drizzle-kit entry (lowest id) of the locked
 *		database whose hash is one of m's raw checksums, through the
 *		partial index migrations_adopted (database, raw_checksum).
 */
bool
ds_find_adopted(DsMigration *m, DsJournalRow *found)
{
	Datum		hashes[2];
	int			dims[1] = {2};
	int			lbs[1] = {1};

	ds_journal_lookup_ids();
	hashes[0] = CStringGetTextDatum(m->script->raw_checksum);
	hashes[1] = CStringGetTextDatum(m->script->raw_nl_checksum);
	return ds_journal_find(ds_journal_ids.migrations_adopted, m->db->name,
						   PointerGetDatum(construct_md_array(hashes, NULL, 1,
															  dims, lbs, TEXTOID,
															  -1, false,
															  TYPALIGN_INT)),
						   true, ForwardScanDirection, DS_MATCH_DRIZZLE, found);
}

/*
 * ds_journal_adopted
 *		Whether the logical database database (locked by the caller) has an
 *		adopted drizzle-kit entry with hash, taken over or not, through the
 *		partial index migrations_adopted: adopt_drizzle records each entry
 *		once.
 */
bool
ds_journal_adopted(const char *database, const char *hash)
{
	DsJournalRow row;

	ds_journal_lookup_ids();
	return ds_journal_find(ds_journal_ids.migrations_adopted, database,
						   CStringGetTextDatum(hash), false,
						   ForwardScanDirection, DS_MATCH_ANY, &row);
}

/*
 * ds_journal_history
 *		Whether logical database name has journal rows (a dropped mapping
 *		leaves them: the journal is history); if so, *datasource and
 *		*schema_name are those of its latest row, allocated in the caller's
 *		context.  Connects to SPI itself; the caller holds the registry lock
 *		(create_database, rename_database), so no row of the name comes or
 *		goes meanwhile.
 */
bool
ds_journal_history(const char *name, char **datasource, char **schema_name)
{
	MemoryContext callercxt = CurrentMemoryContext;
	const char *args[1] = {name};
	bool		found;
	int			level;

	level = ds_spi_connect();
	ds_journal_sql("SELECT datasource, schema_name FROM datasource.migrations "
				   "WHERE database = $1 ORDER BY id DESC LIMIT 1", 1, args);
	found = SPI_processed > 0;
	if (found)
	{
		*datasource = MemoryContextStrdup(callercxt,
										  SPI_getvalue(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc, 1));
		*schema_name = MemoryContextStrdup(callercxt,
										   SPI_getvalue(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 2));
	}
	ds_spi_finish(level);
	return found;
}

/*
 * ds_journal_rename
 *		Carries the journal rows of logical database name over to new_name
 *		(rename_database).  The caller has checked that new_name has no
 *		history of its own, and holds the registry lock.
 */
void
ds_journal_rename(const char *name, const char *new_name)
{
	const char *args[2] = {name, new_name};
	int			level;

	level = ds_spi_connect();
	ds_journal_sql("UPDATE datasource.migrations SET database = $2 "
				   "WHERE database = $1", 2, args);
	ds_spi_finish(level);
}
