/*-------------------------------------------------------------------------
 *
 * describe.c
 *		  describe(): a logical database's schema as one canonical jsonb
 *		  document, nested from the rows of the describe query.
 *
 * describe_query.c runs the catalog query on the logical database's
 * datasource and returns its rows, one per object or part of an object;
 * this file sorts them and nests them into the description: a section per
 * kind of object, an object per row, and the parts of a table or type
 * (columns, attributes, constraints, indexes) under it.  Objects are keyed
 * by name in jsonb objects (whose keys jsonb keeps sorted) and arrays are
 * ordered by the rows, so the text of the result is canonical:
 * fingerprint.c hashes it.  The tree of JsonbValues is built here with
 * arrays of their exact size and made into a jsonb once.
 *
 * The description is built in a generation context kept for the backend
 * (reset after each call) and returned in the caller's memory context.
 *
 * IDENTIFICATION
 *		  src/describe.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pgds_describe);


/* a key of a part and the column that holds its value */
typedef struct DsField
{
	const char *key;
	DsDescCol	col;
} DsField;

/* table columns and composite type attributes (which have 4 of the keys) */
static const DsField ds_column_fields[] = {
	{"name", DS_COL_NAME}, {"type", DS_COL_T1}, {"collation", DS_COL_T2},
	{"default", DS_COL_T3}, {"generated", DS_COL_T4}, {"identity", DS_COL_T5},
	{"comment", DS_COL_T6}, {"not_null", DS_COL_B1}, {"inherited", DS_COL_B2},
	{"identity_options", DS_COL_J1}, {"grants", DS_COL_J2}, {NULL, 0}
};
static const DsField ds_constraint_fields[] = {
	{"type", DS_COL_T1}, {"definition", DS_COL_T2}, {"comment", DS_COL_T6}, {NULL, 0}
};
static const DsField ds_index_fields[] = {
	{"definition", DS_COL_T2}, {"comment", DS_COL_T6}, {NULL, 0}
};

/* the keys of the sections, and of the parts of a table or type */
static const char *const ds_section_keys[DS_SEC_COUNT] = {
	[DS_SEC_TABLES] = "tables",
	[DS_SEC_VIEWS] = "views",
	[DS_SEC_SEQUENCES] = "sequences",
	[DS_SEC_TYPES] = "types",
	[DS_SEC_FUNCTIONS] = "functions",
	[DS_SEC_COLLATIONS] = "collations"
};
static const char *const ds_part_keys[DS_SEC_COUNT][DS_PART_COUNT] = {
	[DS_SEC_TABLES] = {[DS_PART_COLUMNS] = "columns",
	[DS_PART_CONSTRAINTS] = "constraints",[DS_PART_INDEXES] = "indexes"},
	[DS_SEC_TYPES] = {[DS_PART_COLUMNS] = "attributes"}
};
static const DsField *const ds_part_fields[DS_SEC_COUNT][DS_PART_COUNT] = {
	[DS_SEC_TABLES] = {[DS_PART_COLUMNS] = ds_column_fields,
	[DS_PART_CONSTRAINTS] = ds_constraint_fields,[DS_PART_INDEXES] = ds_index_fields},
	[DS_SEC_TYPES] = {[DS_PART_COLUMNS] = ds_column_fields}
};

/* where descriptions are built */
static MemoryContext ds_describe_cxt = NULL;

/*
 * ds_no_schema
 *		Raises 3F000: the schema of a logical database is missing.
 */
static void
ds_no_schema(DsDatabase *db, DsSource *src)
{
	if (db->local_schema != NULL)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_SCHEMA_NAME),
				errmsg("local schema \"%s\" of logical database \"%s\" does not exist",
					   db->local_schema, db->name),
				errhint("Create the schema, then datasource.refresh_database('%s') imports the tables of MySQL database \"%s\" into it.",
						db->name, db->schema_name));
	ereport(ERROR,
			errcode(ERRCODE_INVALID_SCHEMA_NAME),
			errmsg("schema \"%s\" of logical database \"%s\" does not exist",
				   db->schema_name, db->name),
			errhint("Create the schema on datasource \"%s\", or map the logical database to an existing one.",
					src->name));
}

/*
 * ds_row_cmp
 *		The order of description rows: by section, object and part, and
 *		columns by number, or by name when *arg (the canonical order of a
 *		fingerprint: PostgreSQL appends a column that is added, so a column
 *		dropped and added again, which is how diff() restores one, keeps its
 *		new place).  Names compare bytewise, as COLLATE "C".
 */
static int
ds_row_cmp(const void *a, const void *b, void *arg)
{
	const DsDescRow *x = (const DsDescRow *) a;
	const DsDescRow *y = (const DsDescRow *) b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->grp != y->grp)
		return x->grp < y->grp ? -1 : 1;
	if (x->part != y->part)
		return x->part < y->part ? -1 : 1;
	if (*(bool *) arg && x->part == DS_PART_COLUMNS)
	{
		int			c = memcmp(x->name, y->name, Min(x->namelen, y->namelen));

		if (c != 0)
			return c;
		if (x->namelen != y->namelen)
			return x->namelen < y->namelen ? -1 : 1;
	}
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return 0;
}

/*
 * ds_pair_cmp
 *		jsonb's order of object keys: shorter first, then bytewise; of two
 *		equal keys the one set later (higher order) first, so that it is the
 *		one kept, as pushJsonbValue() keeps the last.
 */
static int
ds_pair_cmp(const void *a, const void *b)
{
	const JsonbPair *x = (const JsonbPair *) a;
	const JsonbPair *y = (const JsonbPair *) b;
	int			c;

	if (x->key.val.string.len != y->key.val.string.len)
		return x->key.val.string.len < y->key.val.string.len ? -1 : 1;
	c = memcmp(x->key.val.string.val, y->key.val.string.val, x->key.val.string.len);
	if (c != 0)
		return c;
	return x->order > y->order ? -1 : (x->order < y->order ? 1 : 0);
}

/*
 * ds_object
 *		Makes v the object of the first n of pairs, in jsonb's key order and
 *		with each key once, as JsonbValueToJsonb() expects them.
 */
static void
ds_object(JsonbValue *v, JsonbPair *pairs, int n)
{
	int			i;
	int			kept = 0;

	for (i = 0; i < n; i++)
		pairs[i].order = i;
	if (n > 1)
		qsort(pairs, n, sizeof(JsonbPair), ds_pair_cmp);
	for (i = 0; i < n; i++)
	{
		if (kept > 0 &&
			pairs[kept - 1].key.val.string.len == pairs[i].key.val.string.len &&
			memcmp(pairs[kept - 1].key.val.string.val, pairs[i].key.val.string.val,
				   pairs[i].key.val.string.len) == 0)
			continue;
		pairs[kept++] = pairs[i];
	}
	v->type = jbvObject;
	v->val.object.nPairs = kept;
	v->val.object.pairs = pairs;
}

/*
 * ds_key
 *		Sets the key of a pair (len < 0: a terminated string).
 */
static void
ds_key(JsonbPair *pair, const char *key, int len)
{
	pair->key.type = jbvString;
	pair->key.val.string.val = (char *) key;
	pair->key.val.string.len = len < 0 ? (int) strlen(key) : len;
}

/*
 * ds_stripped
 *		A document (an object or array) as an in-memory JsonbValue without
 *		its keys whose value is null, at every depth (array elements stay),
 *		as json_strip_nulls() leaves it.
 */
static JsonbValue *
ds_stripped(JsonbContainer *doc)
{
	JsonbParseState *st = NULL;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	JsonbValue *res = NULL;

	it = JsonbIteratorInit(doc);
	while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			JsonbValue	key = v;

			tok = JsonbIteratorNext(&it, &v, false);
			if (tok == WJB_VALUE && v.type == jbvNull)
				continue;
			(void) pushJsonbValue(&st, WJB_KEY, &key);
		}
		if (tok == WJB_BEGIN_OBJECT || tok == WJB_BEGIN_ARRAY ||
			tok == WJB_END_OBJECT || tok == WJB_END_ARRAY)
			res = pushJsonbValue(&st, tok, NULL);
		else
			(void) pushJsonbValue(&st, tok, &v);
	}
	if (res == NULL || (res->type != jbvObject && res->type != jbvArray))
		elog(ERROR, "the catalog query of describe returned a document that is no object or array");
	return res;
}

/*
 * ds_row_object
 *		The object of one row, with room for nextra more pairs after its own
 *		(the parts of a table or type): its fields when its part has them,
 *		else its document; null values are left out.  *n is set to the
 *		number of its own pairs.
 */
static JsonbPair *
ds_row_object(DsDescRows *set, DsDescRow *row, int nextra, int *n)
{
	const DsField *f = ds_part_fields[row->sec][row->part];
	JsonbValue	v;
	JsonbPair  *pairs;
	JsonbPair	found[DS_COL_COUNT];
	int			k = 0;
	int			i;

	if (f == NULL)
	{
		JsonbValue *doc;

		ds_desc_row_value(set, row, DS_COL_DOC, &v);
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			elog(ERROR, "the catalog query of describe returned an object without its document");
		doc = ds_stripped(v.val.binary.data);
		if (nextra == 0)
		{
			*n = doc->val.object.nPairs;
			return doc->val.object.pairs;
		}
		pairs = palloc(sizeof(JsonbPair) * (doc->val.object.nPairs + nextra));
		memcpy(pairs, doc->val.object.pairs, sizeof(JsonbPair) * doc->val.object.nPairs);
		*n = doc->val.object.nPairs;
		return pairs;
	}
	/* the values first, so that the pairs take no more room than they need */
	for (; f->key != NULL; f++)
	{
		ds_desc_row_value(set, row, f->col, &v);
		if (v.type == jbvNull)
			continue;
		ds_key(&found[k], f->key, -1);
		found[k++].value = v;
	}
	pairs = palloc(sizeof(JsonbPair) * Max(k + nextra, 1));
	for (i = 0; i < k; i++)
	{
		pairs[i].key = found[i].key;
		if (found[i].value.type == jbvBinary)
			pairs[i].value = *ds_stripped(found[i].value.val.binary.data);
		else
			pairs[i].value = found[i].value;
	}
	*n = k;
	return pairs;
}

/*
 * ds_describe_build
 *		Nests the rows of the describe query into one description, built in
 *		the current memory context and returned in resultcxt: a section per
 *		kind of object, an object per row of it, and the parts of a table or
 *		type (columns, attributes, constraints, indexes) under it.  Sorts the
 *		rows.  A section, or a part, without rows is left out, as are keys
 *		whose value is null.
 *
 *		The tree of JsonbValues is made here with arrays of their exact
 *		size, and handed to JsonbValueToJsonb() whole: pushJsonbValue() grows
 *		every object and array by doubling, which for tens of thousands of
 *		small objects took three times the memory (16 MB for a thousand
 *		tables), and the page faults of fresh memory were a sixth of a cold
 *		describe.  Documents of the query are unpacked by pushJsonbValue().
 */
static Jsonb *
ds_describe_build(DsDescRows *set, bool by_name, MemoryContext resultcxt)
{
	DsDescRow  *rows = set->rows;
	int			n = set->n;
	MemoryContext workcxt;
	JsonbValue	top;
	JsonbPair  *sections;
	int			nsections = 0;
	Jsonb	   *result;
	int			i = 0;

	qsort_arg(rows, n, sizeof(DsDescRow), ds_row_cmp, &by_name);
	sections = palloc(sizeof(JsonbPair) * DS_SEC_COUNT);
	while (i < n && rows[i].sec == DS_SEC_SCHEMA)
		i++;
	while (i < n)
	{
		int			sec = rows[i].sec;
		int			nobjects = 0;
		int			j;
		JsonbPair  *objects;

		if (sec < 0 || sec >= DS_SEC_COUNT || ds_section_keys[sec] == NULL)
			elog(ERROR, "the catalog query of describe returned an unknown section %d", sec);
		for (j = i; j < n && rows[j].sec == sec; j++)
			if (rows[j].part == DS_PART_SELF)
				nobjects++;
		objects = palloc(sizeof(JsonbPair) * Max(nobjects, 1));
		nobjects = 0;
		while (i < n && rows[i].sec == sec)
		{
			DsDescRow  *self = &rows[i++];
			JsonbPair  *pairs;
			int			npairs;
			int			nparts = 0;
			int			last = -1;

			if (self->part != DS_PART_SELF)
				elog(ERROR, "the catalog query of describe returned a part of an object it did not describe");
			for (j = i; j < n && rows[j].sec == sec && rows[j].grp == self->grp; j++)
				if (rows[j].part != last)
				{
					nparts++;
					last = rows[j].part;
				}
			pairs = ds_row_object(set, self, nparts, &npairs);
			while (i < n && rows[i].sec == sec && rows[i].grp == self->grp)
			{
				int			part = rows[i].part;
				bool		array = part == DS_PART_COLUMNS;
				JsonbPair  *partpair = &pairs[npairs++];
				int			nmembers;

				if (part < 0 || part >= DS_PART_COUNT || ds_part_keys[sec][part] == NULL)
					elog(ERROR, "the catalog query of describe returned an unknown part %d", part);
				for (j = i; j < n && rows[j].sec == sec && rows[j].grp == self->grp &&
					 rows[j].part == part; j++)
					;
				nmembers = j - i;
				ds_key(partpair, ds_part_keys[sec][part], -1);
				if (array)
				{
					JsonbValue *elems = palloc(sizeof(JsonbValue) * nmembers);

					for (j = 0; j < nmembers; j++, i++)
					{
						int			nm;
						JsonbPair  *m = ds_row_object(set, &rows[i], 0, &nm);

						ds_object(&elems[j], m, nm);
					}
					partpair->value.type = jbvArray;
					partpair->value.val.array.nElems = nmembers;
					partpair->value.val.array.elems = elems;
					partpair->value.val.array.rawScalar = false;
				}
				else
				{
					JsonbPair  *members = palloc(sizeof(JsonbPair) * nmembers);

					for (j = 0; j < nmembers; j++, i++)
					{
						int			nm;
						JsonbPair  *m = ds_row_object(set, &rows[i], 0, &nm);

						ds_key(&members[j], rows[i].name, rows[i].namelen);
						ds_object(&members[j].value, m, nm);
					}
					ds_object(&partpair->value, members, nmembers);
				}
			}
			ds_key(&objects[nobjects], self->name, self->namelen);
			ds_object(&objects[nobjects].value, pairs, npairs);
			nobjects++;
		}
		ds_key(&sections[nsections], ds_section_keys[sec], -1);
		ds_object(&sections[nsections].value, objects, nobjects);
		nsections++;
	}
	ds_object(&top, sections, nsections);
	workcxt = MemoryContextSwitchTo(resultcxt);
	result = JsonbValueToJsonb(&top);
	MemoryContextSwitchTo(workcxt);
	return result;
}

/*
 * ds_describe_db
 *		Describes a logical database on its datasource: sets *described (in
 *		column order) and *canonical (columns and composite type attributes
 *		by name, what a fingerprint hashes), those of the two that are not
 *		NULL, from one run of the catalog query, in the caller's memory
 *		context.  Raises 55000 for a disabled datasource and 3F000 when the
 *		schema does not exist.  For a local datasource it connects SPI and
 *		finishes it.
 */
void
ds_describe_db(DsDatabase *db, DsSource *src, Jsonb **described, Jsonb **canonical)
{
	MemoryContext callercxt = CurrentMemoryContext;
	MemoryContext workcxt;
	DsDescRows	set;
	bool		local = ds_source_runs_here(src);

	(void) ds_source_usable(src, db, NULL, ERROR, NULL, NULL);

	/*
	 * Kept from call to call (reset after each), and so its first block.  A
	 * generation context: the description's many small arrays are made once
	 * and never freed one by one, so they need neither AllocSet's power-of-2
	 * rounding nor its free lists.
	 */
	if (ds_describe_cxt == NULL)
		ds_describe_cxt = GenerationContextCreate(TopMemoryContext, "datasource describe",
												  ALLOCSET_DEFAULT_SIZES);
	workcxt = ds_describe_cxt;
	MemoryContextReset(workcxt);	/* after an error in the last call */
	if (local)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		ds_describe_local_rows(ds_database_schema_here(db), &set);
	}
	else
	{
		MemoryContextSwitchTo(workcxt);
		ds_describe_remote_rows(src, db->schema_name, &set);
	}
	if (set.n == 0)
		ds_no_schema(db, src);

	MemoryContextSwitchTo(workcxt);
	if (described != NULL)
		*described = ds_describe_build(&set, false, callercxt);
	if (canonical != NULL)
		*canonical = ds_describe_build(&set, true, callercxt);
	MemoryContextSwitchTo(callercxt);
	if (local)
		SPI_finish();
	MemoryContextReset(workcxt);
}

/*
 * ds_describe_many
 *		Describes n schemas of one datasource from one run of the catalog
 *		query (migrate_all's snapshots): sets described[i] and canonical[i]
 *		(as ds_describe_db, those of the two arrays that are not NULL) for
 *		schemas[i] (the local schemas of a MySQL datasource's logical
 *		databases), NULL for a schema that does not exist, in the caller's
 *		memory context.  The caller has checked that the datasource is
 *		usable.  For a local datasource it connects SPI and finishes it.
 */
void
ds_describe_many(DsSource *src, const char *const *schemas, int n,
				 Jsonb **described, Jsonb **canonical)
{
	MemoryContext callercxt = CurrentMemoryContext;
	MemoryContext workcxt;
	DsDescRows	all;
	DsDescRows	one;
	int		   *count;
	int		   *first;
	DsDescRow  *sorted;
	bool		local = ds_source_runs_here(src);
	int			i;

	if (ds_describe_cxt == NULL)
		ds_describe_cxt = GenerationContextCreate(TopMemoryContext, "datasource describe",
												  ALLOCSET_DEFAULT_SIZES);
	workcxt = ds_describe_cxt;
	MemoryContextReset(workcxt);	/* after an error in the last call */
	if (local && SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ds_describe_many_rows(src, schemas, n, &all);

	/* the rows of each schema together, in the order they came */
	count = palloc0(sizeof(int) * n);
	first = palloc0(sizeof(int) * (n + 1));
	for (i = 0; i < all.n; i++)
	{
		if (all.rows[i].schema < 0 || all.rows[i].schema >= n)
			elog(ERROR, "the catalog query of describe returned a row of no schema");
		count[all.rows[i].schema]++;
	}
	for (i = 0; i < n; i++)
		first[i + 1] = first[i] + count[i];
	sorted = palloc(sizeof(DsDescRow) * Max(all.n, 1));
	memset(count, 0, sizeof(int) * n);
	for (i = 0; i < all.n; i++)
	{
		int			k = all.rows[i].schema;

		sorted[first[k] + count[k]++] = all.rows[i];
	}

	one.desc = all.desc;
	for (i = 0; i < n; i++)
	{
		one.rows = sorted + first[i];
		one.n = first[i + 1] - first[i];
		MemoryContextSwitchTo(workcxt);
		if (described != NULL)
			described[i] = one.n == 0 ? NULL : ds_describe_build(&one, false, callercxt);
		if (canonical != NULL)
			canonical[i] = one.n == 0 ? NULL : ds_describe_build(&one, true, callercxt);
		MemoryContextSwitchTo(callercxt);
		MemoryContextReset(workcxt);
	}
	MemoryContextSwitchTo(callercxt);
	if (local)
		SPI_finish();
	MemoryContextReset(workcxt);
}

/*
 * ds_describe
 *		The description of a logical database as a jsonb Datum in the
 *		caller's context.  Raises 42704 for an unknown logical database and
 *		3F000 when its schema does not exist on its datasource.
 */
Datum
ds_describe(const char *database)
{
	DsSource   *src;
	DsDatabase *db = ds_cache_database_copy(database, &src);
	Jsonb	   *described;

	ds_describe_db(db, src, &described, NULL);
	return JsonbPGetDatum(described);
}

/*
 * describe(database text) returns jsonb
 *		The canonical description of a logical database's schema.
 */
Datum
pgds_describe(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("argument \"%s\" must not be null", "database"));
	PG_RETURN_DATUM(ds_describe(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}
