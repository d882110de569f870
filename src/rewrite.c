/*-------------------------------------------------------------------------
 *
 * rewrite.c
 *		  Logical qualifiers to physical schema names, by token position.
 *
 * validate.c records, for every qualifier that names a logical database
 * whose schema is called something else (and for every catalog part of a
 * three-part name), where the qualified name starts in the text; migrate.c
 * records where a script names the schema it was written for.  This file
 * lexes the text with the server's own scanner (scan.c), finds the
 * qualifier token at each position, and writes the schema name in its
 * place, always quoted (any schema name PostgreSQL accepts can be mapped:
 * "My.Schema" stays one name); the rest of the text is copied byte for
 * byte, so comments, literals and layout are untouched.  A catalog part is
 * dropped with its dot (the remote server's database has another name).
 *
 * Memory: the result is palloc'd in the caller's context.
 *
 * IDENTIFICATION
 *		  src/rewrite.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "parser/gramparse.h"
#include "utils/builtins.h"

#include "pg_datasource.h"

/*
 * ds_rewrite_cmp
 *		list_sort comparator: rewrites by position in the text.
 */
static int
ds_rewrite_cmp(const ListCell *a, const ListCell *b)
{
	int			la = ((DsRewrite *) lfirst(a))->location;
	int			lb = ((DsRewrite *) lfirst(b))->location;

	return (la > lb) - (la < lb);
}

/*
 * ds_rewrite
 *		The text with the recorded qualifiers written as schema names.
 *		Raises 0A000 when a qualifier has no position (a DDL name the parser
 *		does not locate): the caller names the schema instead.
 */
char *
ds_rewrite(const char *text, List *rewrites)
{
	StringInfoData out;
	DsToken    *tokens;
	int			ntokens;
	int			copied = 0;
	int			last = -1;
	ListCell   *lc;

	if (rewrites == NIL)
		return pstrdup(text);

	rewrites = list_copy(rewrites);
	list_sort(rewrites, ds_rewrite_cmp);
	foreach(lc, rewrites)
		if (((DsRewrite *) lfirst(lc))->location < 0)
			ereport(ERROR,
					errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					errmsg("cannot rewrite a logical database name in this statement"),
					errhint("Name the schema \"%s\" instead of the logical database.",
							((DsRewrite *) lfirst(lc))->schema));

	tokens = ds_scan_tokens(text, &ntokens);
	initStringInfo(&out);
	foreach(lc, rewrites)
	{
		DsRewrite  *r = lfirst(lc);
		int			lo = 0,
					hi = ntokens - 1,
					i = -1;
		int			start,
					end;

		if (r->location == last)
			continue;			/* the same name seen twice */
		last = r->location;
		while (lo <= hi)
		{
			int			mid = (lo + hi) / 2;

			if (tokens[mid].loc == r->location)
			{
				i = mid;
				break;
			}
			if (tokens[mid].loc < r->location)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
		/* OPERATOR(db.op): the qualifier follows the parenthesis */
		if (i >= 0 && tokens[i].tok == OPERATOR)
			i = (i + 2 < ntokens && tokens[i + 1].tok == '(') ? i + 2 : -1;
		if (i < 0)
			elog(ERROR, "no token at offset %d of the routed statement", r->location);
		start = tokens[i].loc;
		if (r->with_catalog)
		{
			/* catalog '.' qualifier: the catalog goes */
			if (i + 2 >= ntokens || tokens[i + 1].tok != '.')
				elog(ERROR, "no qualifier after the catalog at offset %d", start);
			i += 2;
		}
		end = ds_token_end(text, tokens, ntokens, &i);
		if (start < copied)
			elog(ERROR, "overlapping qualifiers at offset %d", start);
		appendBinaryStringInfo(&out, text + copied, start - copied);
		appendStringInfoString(&out, quote_identifier(r->schema));
		copied = end;
	}
	appendStringInfoString(&out, text + copied);
	pfree(tokens);
	return out.data;
}
