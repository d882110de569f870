/*-------------------------------------------------------------------------
 *
 * local.c
 *		  Routed statements on the local datasource, through SPI.
 *
 * A MySQL logical database's statements run here too, in its local schema
 * of mysql_fdw foreign tables (the wrapper sends what it can to MySQL).
 *
 * A statement runs as the calling role (privileges and row-level security
 * apply) with search_path set to the target logical database's schema for
 * the call only; the caller's own path is back when the call returns or
 * fails, and so is every other setting: routing refuses a statement that
 * would change one (sessionstate.c), and what a function it calls sets,
 * even with set_config(..., false), is undone when the call returns (SET
 * LOCAL too: it lasts for the statement).  Parameters are given as text
 * and typed by the statement, as a client's would be ($1 compared with an
 * integer column is an integer).
 * A read-only statement runs through a read-only SPI call.
 *
 * Plans are kept per backend, keyed by schema, statement text and
 * standard_conforming_strings (the one setting that changes how a text
 * parses), with SPI_keepplan: PostgreSQL's plan cache replans them after DDL
 * on what they use and when the role or row-level security would change the
 * plan.  The cache holds at most DS_PLAN_CACHE_MAX entries and starts over
 * when full, the bound the statement and read-only caches share.  It has
 * no invalidation callback of its own, unlike them: what would make a plan
 * stale is the plan cache's business, and a plan of a schema that is no
 * longer mapped is only never looked up again.
 *
 * Rows go from the executor straight to the caller's row sink (sink.c)
 * through a DestReceiver of our own (SPI_execute_plan_extended), so a
 * large result streams into the caller's tuplestore (which spills to disk
 * past 1 MB) and a small one costs no portal and no SPI tuple table.
 * When execute()'s max_rows cuts a SELECT short, the executor is stopped at the end of the
 * 1,000-row batch the cut falls in, as a cursor fetching such batches
 * would.
 *
 * Memory: plans live in SPI's kept-plan contexts, their keys in a child of
 * TopMemoryContext; rows are converted in the sink's per-row context.
 *
 * IDENTIFICATION
 *		  src/local.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "executor/spi.h"
#include "parser/parse_param.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "pg_datasource.h"

#define DS_PLAN_CACHE_MAX	256
#define DS_FETCH_BATCH		1000

/* where a local statement's rows go: the caller's sink */
typedef struct DsLocalDest
{
	DestReceiver pub;
	DsSink	   *r;
	MemoryContext callercxt;	/* the sink's memory lives there */
	bool		select;			/* a query: it may stop early */
	uint64		received;
} DsLocalDest;

/* one kept plan */
typedef struct DsPlanEntry
{
	uint32		hash;			/* of schema, nparams, text and std_strings */
	char	   *schema;
	char	   *sql;
	int			nparams;
	bool		std_strings;	/* standard_conforming_strings */
	SPIPlanPtr	plan;
} DsPlanEntry;

static HTAB *plan_cache = NULL;
static MemoryContext plan_cxt = NULL;

/* what the parser-setup hook needs: the parameter types it infers */
typedef struct DsParamSetup
{
	Oid		   *types;
	int			ntypes;
} DsParamSetup;

/*
 * ds_param_setup
 *		Parser setup for SPI_prepare_params: $n take the types their use
 *		implies.
 */
static void
ds_param_setup(ParseState *pstate, void *arg)
{
	DsParamSetup *ps = (DsParamSetup *) arg;

	setup_parse_variable_parameters(pstate, &ps->types, &ps->ntypes);
}

/*
 * ds_plan_cache_reset
 *		Frees every kept plan.
 */
static void
ds_plan_cache_reset(void)
{
	HASH_SEQ_STATUS seq;
	DsPlanEntry *e;

	if (plan_cache == NULL)
		return;
	hash_seq_init(&seq, plan_cache);
	while ((e = hash_seq_search(&seq)) != NULL)
		SPI_freeplan(e->plan);
	MemoryContextReset(plan_cxt);
	plan_cache = NULL;
}

/*
 * ds_get_plan
 *		The kept plan of sql in schema, prepared now if needed.  Must be
 *		called inside SPI with search_path already set to schema.
 */
static SPIPlanPtr
ds_get_plan(const char *schema, const char *sql, int nparams)
{
	uint32		h;
	DsPlanEntry *e;
	bool		found;
	SPIPlanPtr	plan;
	DsParamSetup ps;
	int			i;

	h = hash_combine(hash_bytes((const unsigned char *) schema, strlen(schema)),
					 hash_uint32((uint32) nparams));
	h = hash_combine(h, hash_bytes((const unsigned char *) sql, strlen(sql)));
	h = hash_combine(h, (uint32) standard_conforming_strings);

	if (plan_cache != NULL && hash_get_num_entries(plan_cache) >= DS_PLAN_CACHE_MAX)
		ds_plan_cache_reset();
	if (plan_cache == NULL)
	{
		HASHCTL		ctl;

		if (plan_cxt == NULL)
			plan_cxt = AllocSetContextCreate(TopMemoryContext,
											 "pg_datasource local plans",
											 ALLOCSET_SMALL_SIZES);
		MemSet(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(uint32);
		ctl.entrysize = sizeof(DsPlanEntry);
		ctl.hcxt = plan_cxt;
		plan_cache = hash_create("pg_datasource local plans", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	e = hash_search(plan_cache, &h, HASH_FIND, NULL);
	if (e != NULL && e->nparams == nparams &&
		e->std_strings == standard_conforming_strings &&
		strcmp(e->schema, schema) == 0 && strcmp(e->sql, sql) == 0)
		return e->plan;

	/*
	 * A first parse infers the types of $n from their use; the plan kept is
	 * prepared with those types (a parameter the statement leaves untyped
	 * is text).
	 */
	ps.types = palloc0(sizeof(Oid) * Max(nparams, 1));
	ps.ntypes = nparams;
	plan = SPI_prepare_params(sql, ds_param_setup, &ps, 0);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare_params failed: %s",
			 SPI_result_code_string(SPI_result));
	SPI_freeplan(plan);
	/* routing refused a statement using more than nparams (params.c) */
	for (i = 0; i < nparams; i++)
		if (i >= ps.ntypes || !OidIsValid(ps.types[i]) || ps.types[i] == UNKNOWNOID)
		{
			if (i >= ps.ntypes)
			{
				ps.types = repalloc(ps.types, sizeof(Oid) * nparams);
				ps.ntypes = i + 1;
			}
			ps.types[i] = TEXTOID;
		}
	plan = SPI_prepare(sql, nparams, ps.types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");

	e = hash_search(plan_cache, &h, HASH_ENTER, &found);
	if (found)
	{
		SPI_freeplan(e->plan);
		pfree(e->schema);
		pfree(e->sql);
	}
	e->schema = MemoryContextStrdup(plan_cxt, schema);
	e->sql = MemoryContextStrdup(plan_cxt, sql);
	e->nparams = nparams;
	e->std_strings = standard_conforming_strings;
	e->plan = plan;
	return plan;
}

/*
 * ds_local_status
 *		The command status a client would see, from the command tag and the
 *		rows processed.
 */
static char *
ds_local_status(const char *command, uint64 processed)
{
	if (strcmp(command, "INSERT") == 0)
		return psprintf("INSERT 0 " UINT64_FORMAT, processed);
	if (strcmp(command, "SELECT") == 0 || strcmp(command, "UPDATE") == 0 ||
		strcmp(command, "DELETE") == 0 || strcmp(command, "MERGE") == 0)
		return psprintf("%s " UINT64_FORMAT, command, processed);
	return pstrdup(command);
}

/*
 * ds_local_start
 *		Tells the sink its columns (once).
 */
static void
ds_local_start(DsSink *r, TupleDesc desc)
{
	if (!r->started)
	{
		int			ncols = desc->natts;
		char	  **names = palloc(sizeof(char *) * Max(ncols, 1));
		Oid		   *types = palloc(sizeof(Oid) * Max(ncols, 1));
		int			c;

		for (c = 0; c < ncols; c++)
		{
			names[c] = pstrdup(NameStr(TupleDescAttr(desc, c)->attname));
			types[c] = TupleDescAttr(desc, c)->atttypid;
		}
		ds_sink_start(r, ncols, names, types, true);
	}
}

/*
 * ds_local_dest_startup / ds_local_dest_receive
 *		The executor's calls on our DestReceiver: the row type, then each
 *		row, handed on to the sink in the caller's memory context.  A
 *		SELECT cut short by max_rows stops at the end of the batch the cut
 *		falls in.
 */
static void
ds_local_dest_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	DsLocalDest *d = (DsLocalDest *) self;
	MemoryContext old = MemoryContextSwitchTo(d->callercxt);

	d->select = (operation == CMD_SELECT);
	ds_local_start(d->r, typeinfo);
	MemoryContextSwitchTo(old);
}

static bool
ds_local_dest_receive(TupleTableSlot *slot, DestReceiver *self)
{
	DsLocalDest *d = (DsLocalDest *) self;
	MemoryContext old = MemoryContextSwitchTo(d->callercxt);

	slot_getallattrs(slot);
	if (!d->r->truncated)
		ds_sink_row(d->r, slot->tts_values, slot->tts_isnull, NULL);
	d->received++;
	MemoryContextSwitchTo(old);
	return !(d->select && d->r->truncated && d->received % DS_FETCH_BATCH == 0);
}

static void
ds_local_dest_shutdown(DestReceiver *self)
{
}

static void
ds_local_dest_destroy(DestReceiver *self)
{
}

/*
 * ds_local_run
 *		Runs sql in schema as the caller, with nparams text parameters
 *		(NULL for SQL null); rows go to r, and the command status is
 *		returned.
 */
char *
ds_local_run(const char *sql, const char *schema, const char *command,
			 int nparams, char **params, bool read_only, DsSink *r)
{
	int			level;
	SPIPlanPtr	plan;
	ParamListInfo paramli;
	SPIExecuteOptions options;
	DsLocalDest dest;
	int			rc;
	int			i;
	uint64		processed = 0;
	char	   *status;
	MemoryContext callercxt = CurrentMemoryContext;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	level = NewGUCNestLevel();
	(void) set_config_option("search_path", quote_identifier(schema),
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);

	plan = ds_get_plan(schema, sql, nparams);

	/* text parameters through the input functions of the inferred types */
	paramli = makeParamList(nparams);
	for (i = 0; i < nparams; i++)
	{
		ParamExternData *prm = &paramli->params[i];
		Oid			type = i < SPI_getargcount(plan) ? SPI_getargtypeid(plan, i) : TEXTOID;
		Oid			infunc;
		Oid			ioparam;

		if (type == UNKNOWNOID || !OidIsValid(type))
			type = TEXTOID;
		prm->ptype = type;
		prm->pflags = PARAM_FLAG_CONST;
		prm->isnull = params[i] == NULL;
		prm->value = (Datum) 0;
		if (params[i] == NULL)
			continue;
		getTypeInputInfo(type, &infunc, &ioparam);
		prm->value = OidInputFunctionCall(infunc, params[i], ioparam, -1);
	}

	MemSet(&dest, 0, sizeof(dest));
	dest.pub.receiveSlot = ds_local_dest_receive;
	dest.pub.rStartup = ds_local_dest_startup;
	dest.pub.rShutdown = ds_local_dest_shutdown;
	dest.pub.rDestroy = ds_local_dest_destroy;
	/*
	 * No CommandDest names an extension's receiver; SPI only reports a
	 * SELECT sent to DestNone as SPI_OK_UTILITY, which is not looked at.
	 */
	dest.pub.mydest = DestNone;
	dest.r = r;
	dest.callercxt = callercxt;

	MemSet(&options, 0, sizeof(options));
	options.params = paramli;
	options.read_only = read_only;
	options.dest = &dest.pub;
	rc = SPI_execute_plan_extended(plan, &options);
	/* route.c refuses these first; SPI refuses them before they run */
	if (rc == SPI_ERROR_COPY)
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("a routed statement cannot copy to or from the client"));
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan_extended failed: %s", SPI_result_code_string(rc));
	processed = SPI_processed;

	MemoryContextSwitchTo(callercxt);
	status = ds_local_status(command, processed);
	AtEOXact_GUC(false, level);
	SPI_finish();
	return status;
}
