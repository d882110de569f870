/*
 * parse_only.c - benchmark peer: raw_parser alone, for comparing
 * datasource.validate() with the cost of parsing the same text.
 * Built and loaded only by test/bench/validate.sh; not part of the extension.
 */
#include "postgres.h"

#include "fmgr.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(parse_only);

/*
 * parse_only(query text, n int) -> int
 *		Parses the text n times (in a context reset each time) and returns the
 *		number of statements; n runs amortise the call overhead the same way
 *		for both peers.
 */
Datum
parse_only(PG_FUNCTION_ARGS)
{
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	int			n = PG_GETARG_INT32(1);
	int			i;
	int			count = 0;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "parse_only",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);

	for (i = 0; i < n; i++)
	{
		count = list_length(raw_parser(query, RAW_PARSE_DEFAULT));
		MemoryContextReset(cxt);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	PG_RETURN_INT32(count);
}
