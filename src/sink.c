/*-------------------------------------------------------------------------
 *
 * sink.c
 *		  The row sink: where every routed statement's rows go.
 *
 * A statement's rows come from one of two producers, SPI (local.c) or
 * libpq (connection.c), and go to one of a few consumers: the tuplestore
 * of query (tuples of the caller's column definition list) or of
 * query_json (one jsonb object per row), one jsonb array of row objects
 * (execute, and the callers that read a remote catalog), or nowhere
 * (commands, whose rows are only counted).  A DsSink stands between them,
 * as a DestReceiver stands between the executor and a client: its owner
 * sets it up with ds_sink_init and says where the rows go, a producer
 * calls ds_sink_start once it knows the columns and ds_sink_row for each
 * row, and the owner calls ds_sink_end when the producer has returned.
 * Producers never look past this interface, so rows flow one way:
 * routing -> local | remote -> sink.
 *
 * A producer hands a row over as Datums (local, with the statement's own
 * types) or as text (remote: libpq's text format).  Rows become jsonb
 * objects directly, with no JSON text in between: numbers, booleans, json
 * and jsonb are JSON-native, SQL null is null, every other type is its
 * text form as a JSON string (NaN and the infinities are no JSON numbers,
 * so they are strings too).
 *
 * Memory: ds_sink_start and ds_sink_row must be called in one memory
 * context (the owner's, or one that lives as long); the columns and the
 * objects an array collects live there.  Each row is converted in the
 * sink's per-row context, reset after every row and deleted by
 * ds_sink_end; tuplestores copy rows into their own context.
 *
 * IDENTIFICATION
 *		  src/sink.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "pg_datasource.h"

/*
 * ds_sink_init
 *		Sets up s for rows going to mode.  The owner then sets what the
 *		mode needs: store and desc (RECORD, JSON), max_rows (ARRAY).
 */
void
ds_sink_init(DsSink *s, DsSinkMode mode)
{
	MemSet(s, 0, sizeof(*s));
	s->mode = mode;
	s->max_rows = -1;
}

/*
 * ds_sink_start
 *		The columns of the result are known: check them against the
 *		caller's row type and prepare the conversions.  names and types
 *		must live as long as the sink (the producer pallocs them in the
 *		sink's context).  local: rows will come as Datums of these types,
 *		otherwise as text.
 */
void
ds_sink_start(DsSink *s, int ncols, char **names, Oid *types, bool local)
{
	int			c;

	s->started = true;
	s->ncols = ncols;
	s->names = names;
	s->types = types;
	s->local = local;
	s->cxt = CurrentMemoryContext;
	s->rowcxt = AllocSetContextCreate(CurrentMemoryContext,
									  "pg_datasource routed row",
									  ALLOCSET_DEFAULT_SIZES);
	if (s->mode == DS_SINK_RECORD)
	{
		if (ncols != s->desc->natts)
			ereport(ERROR,
					errcode(ERRCODE_DATATYPE_MISMATCH),
					errmsg("the statement returns %d column%s but the column definition list has %d",
						   ncols, ncols == 1 ? "" : "s", s->desc->natts));
		s->direct = local;
		for (c = 0; c < ncols; c++)
			if (types[c] != TupleDescAttr(s->desc, c)->atttypid)
				s->direct = false;
		if (!s->direct)
			s->attinmeta = TupleDescGetAttInMetadata(s->desc);
	}
	if (local && !(s->mode == DS_SINK_RECORD && s->direct))
	{
		s->outfuncs = palloc(sizeof(FmgrInfo) * Max(ncols, 1));
		for (c = 0; c < ncols; c++)
		{
			Oid			outfunc;
			bool		varlena;

			getTypeOutputInfo(types[c], &outfunc, &varlena);
			fmgr_info(outfunc, &s->outfuncs[c]);
		}
	}
}

/*
 * ds_sink_jsonb_value
 *		A jsonb value as what an object's member holds: a scalar is taken
 *		out of its pseudo-array, an array or object stays binary (pushing it
 *		unpacks it).
 */
static void
ds_sink_jsonb_value(Jsonb *jb, JsonbValue *v)
{
	if (JB_ROOT_IS_SCALAR(jb))
	{
		if (!JsonbExtractScalar(&jb->root, v))
			elog(ERROR, "a scalar jsonb holds no scalar");
		return;
	}
	v->type = jbvBinary;
	v->val.binary.data = &jb->root;
	v->val.binary.len = VARSIZE(jb) - VARHDRSZ;
}

/*
 * ds_sink_json
 *		Column c of a row as a JSON value: local Datum value (isnull) or
 *		remote text (NULL for SQL null).  Called in the per-row context;
 *		*v may point into memory allocated there.
 */
static void
ds_sink_json(DsSink *s, int c, Datum value, bool isnull, char *text,
			 JsonbValue *v)
{
	Oid			type = s->types[c];

	if (s->local ? isnull : text == NULL)
	{
		v->type = jbvNull;
		return;
	}
	if (s->local)
	{
		/* what a Datum gives without its text form */
		switch (type)
		{
			case INT2OID:
				v->type = jbvNumeric;
				v->val.numeric = DatumGetNumeric(DirectFunctionCall1(int2_numeric, value));
				return;
			case INT4OID:
				v->type = jbvNumeric;
				v->val.numeric = DatumGetNumeric(DirectFunctionCall1(int4_numeric, value));
				return;
			case INT8OID:
				v->type = jbvNumeric;
				v->val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric, value));
				return;
			case NUMERICOID:
				{
					Numeric		num = DatumGetNumeric(value);

					if (numeric_is_nan(num) || numeric_is_inf(num))
						break;
					v->type = jbvNumeric;
					v->val.numeric = num;
					return;
				}
			case BOOLOID:
				v->type = jbvBool;
				v->val.boolean = DatumGetBool(value);
				return;
			case JSONBOID:
				ds_sink_jsonb_value(DatumGetJsonbP(value), v);
				return;
			default:
				break;
		}
		text = OutputFunctionCall(&s->outfuncs[c], value);
	}
	switch (type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			/* NaN and the infinities are no JSON numbers */
			if (strpbrk(text, "NnIi") == NULL)
			{
				v->type = jbvNumeric;
				v->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
																	 CStringGetDatum(text),
																	 ObjectIdGetDatum(InvalidOid),
																	 Int32GetDatum(-1)));
				return;
			}
			break;
		case BOOLOID:
			v->type = jbvBool;
			v->val.boolean = (text[0] == 't');
			return;
		case JSONOID:
		case JSONBOID:
			ds_sink_jsonb_value(DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																	CStringGetDatum(text))),
								v);
			return;
		default:
			break;
	}
	v->type = jbvString;
	v->val.string.val = text;
	v->val.string.len = strlen(text);
}

/*
 * ds_sink_object
 *		One row as a jsonb object keyed by column name (a later column of
 *		the same name wins, as in jsonb_in).  Called in the per-row context.
 */
static Jsonb *
ds_sink_object(DsSink *s, Datum *values, bool *nulls, char **texts)
{
	JsonbParseState *state = NULL;
	JsonbValue *object;
	int			c;

	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (c = 0; c < s->ncols; c++)
	{
		JsonbValue	key;
		JsonbValue	v;

		key.type = jbvString;
		key.val.string.val = s->names[c];
		key.val.string.len = strlen(s->names[c]);
		(void) pushJsonbValue(&state, WJB_KEY, &key);
		if (s->local)
			ds_sink_json(s, c, values[c], nulls[c], NULL, &v);
		else
			ds_sink_json(s, c, (Datum) 0, false, texts[c], &v);
		(void) pushJsonbValue(&state, WJB_VALUE, &v);
	}
	object = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(object);
}

/*
 * ds_sink_keep
 *		ARRAY: keeps a row object, copied into the sink's context.
 */
static void
ds_sink_keep(DsSink *s, Jsonb *object)
{
	MemoryContext old = MemoryContextSwitchTo(s->cxt);

	if (s->rows >= s->objects_size)
	{
		s->objects_size = Max(16, s->objects_size * 2);
		if (s->objects == NULL)
			s->objects = palloc(sizeof(Jsonb *) * s->objects_size);
		else
			s->objects = repalloc(s->objects, sizeof(Jsonb *) * s->objects_size);
	}
	s->objects[s->rows] = palloc(VARSIZE(object));
	memcpy(s->objects[s->rows], object, VARSIZE(object));
	MemoryContextSwitchTo(old);
}

/*
 * ds_sink_row
 *		One row: local Datums (values/nulls) or remote text (texts, NULL
 *		for SQL null).  ds_sink_start must have been called.  Past an
 *		array's max_rows the row is not kept and truncated is set.
 */
void
ds_sink_row(DsSink *s, Datum *values, bool *nulls, char **texts)
{
	MemoryContext old;
	int			c;

	if (s->mode == DS_SINK_ARRAY && s->max_rows >= 0 && s->rows >= s->max_rows)
	{
		s->truncated = true;
		return;
	}
	old = MemoryContextSwitchTo(s->rowcxt);
	switch (s->mode)
	{
		case DS_SINK_NONE:
			break;
		case DS_SINK_RECORD:
			if (s->direct)
				tuplestore_putvalues(s->store, s->desc, values, nulls);
			else
			{
				if (texts == NULL)
				{
					texts = palloc(sizeof(char *) * Max(s->ncols, 1));
					for (c = 0; c < s->ncols; c++)
						texts[c] = nulls[c] ? NULL :
							OutputFunctionCall(&s->outfuncs[c], values[c]);
				}
				tuplestore_puttuple(s->store,
									BuildTupleFromCStrings(s->attinmeta, texts));
			}
			break;
		case DS_SINK_JSON:
			{
				Datum		j = JsonbPGetDatum(ds_sink_object(s, values, nulls, texts));
				bool		isnull = false;

				tuplestore_putvalues(s->store, s->desc, &j, &isnull);
				break;
			}
		case DS_SINK_ARRAY:
			ds_sink_keep(s, ds_sink_object(s, values, nulls, texts));
			break;
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(s->rowcxt);
	s->rows++;
}

/*
 * ds_sink_end
 *		The producer is done.  ARRAY: result is set to the jsonb array of
 *		the rows kept (built in the caller's memory context), or left NULL
 *		when the statement returned no rows at all (a command).  Frees what
 *		the sink held for the conversions; the counters stay readable.
 */
void
ds_sink_end(DsSink *s)
{
	if (s->mode == DS_SINK_ARRAY && s->started)
	{
		MemoryContext callercxt = CurrentMemoryContext;
		JsonbParseState *state = NULL;
		JsonbValue *array;
		Jsonb	   *built;
		int64		i;

		/* pushing unpacks each object: do it where it is freed after */
		MemoryContextReset(s->rowcxt);
		MemoryContextSwitchTo(s->rowcxt);
		(void) pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		for (i = 0; i < s->rows; i++)
		{
			JsonbValue	v;

			v.type = jbvBinary;
			v.val.binary.data = &s->objects[i]->root;
			v.val.binary.len = VARSIZE(s->objects[i]) - VARHDRSZ;
			(void) pushJsonbValue(&state, WJB_ELEM, &v);
		}
		array = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
		built = JsonbValueToJsonb(array);
		MemoryContextSwitchTo(callercxt);
		s->result = palloc(VARSIZE(built));
		memcpy(s->result, built, VARSIZE(built));
		for (i = 0; i < s->rows; i++)
			pfree(s->objects[i]);
		if (s->objects)
			pfree(s->objects);
		s->objects = NULL;
		s->objects_size = 0;
	}
	if (s->rowcxt)
		MemoryContextDelete(s->rowcxt);
	s->rowcxt = NULL;
}
