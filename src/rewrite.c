/*-------------------------------------------------------------------------
 *
 * rewrite.c
 *		  Logical qualifiers to physical schema names, by token position.
 *
 * validate.c records, for every qualifier that names a logical database
 * whose schema is called something else (and for every catalog part of a
 * three-part name), where the qualified name starts in the text.  This file
 * lexes the text with the server's own scanner, finds the qualifier token at
 * each position, and writes the quoted schema name in its place; the rest
 * of the text is copied byte for byte, so comments, literals and layout are
 * untouched.  A catalog part is dropped with its dot (the remote server's
 * database has another name).
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
#include "parser/scanner.h"
#include "utils/builtins.h"

#include "pg_datasource.h"

/* one token of the text: where it starts and what it is */
typedef struct DsToken
{
	int			loc;
	int			tok;
} DsToken;

/*
 * ds_quoted_end
 *		The offset just past a quoted token starting at pos (quote char q),
 *		doubled quotes included.
 */
static int
ds_quoted_end(const char *text, int pos, char q)
{
	int			i = pos + 1;

	for (;;)
	{
		if (text[i] == '\0')
			return i;
		if (text[i] == q)
		{
			if (text[i + 1] == q)
			{
				i += 2;
				continue;
			}
			return i + 1;
		}
		i++;
	}
}

/*
 * ds_ident_end
 *		The offset just past the identifier token at tokens[*i]; a U&"..."
 *		identifier's UESCAPE clause is part of it (*i is moved past it).
 */
static int
ds_ident_end(const char *text, DsToken *tokens, int ntokens, int *i)
{
	int			pos = tokens[*i].loc;
	int			end;

	if (text[pos] == '"')
		return ds_quoted_end(text, pos, '"');
	if ((text[pos] == 'U' || text[pos] == 'u') && text[pos + 1] == '&' &&
		text[pos + 2] == '"')
	{
		end = ds_quoted_end(text, pos + 2, '"');
		if (*i + 2 < ntokens && tokens[*i + 1].tok == UESCAPE)
		{
			*i += 2;
			end = ds_quoted_end(text, tokens[*i].loc, '\'');
		}
		return end;
	}
	end = pos;
	while (text[end] != '\0' &&
		   (isalnum((unsigned char) text[end]) || text[end] == '_' ||
			text[end] == '$' || IS_HIGHBIT_SET(text[end])))
		end++;
	return end;
}

/*
 * ds_tokens
 *		Lexes text with the server's scanner (the session's
 *		standard_conforming_strings); returns the tokens and their count.
 */
static DsToken *
ds_tokens(const char *text, int *ntokens)
{
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			n = 0;
	int			cap = 64;
	DsToken    *tokens = palloc(sizeof(DsToken) * cap);

	scanner = scanner_init(text, &extra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, scanner);

		if (tok == 0)
			break;
		if (n == cap)
		{
			cap *= 2;
			tokens = repalloc(tokens, sizeof(DsToken) * cap);
		}
		tokens[n].loc = yylloc;
		tokens[n].tok = tok;
		n++;
	}
	scanner_finish(scanner);
	*ntokens = n;
	return tokens;
}

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

	tokens = ds_tokens(text, &ntokens);
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
		end = ds_ident_end(text, tokens, ntokens, &i);
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
