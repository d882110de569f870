/*-------------------------------------------------------------------------
 *
 * scan.c
 *		  The server's own scanner, used without side effects: tokens and
 *		  their positions, over-long identifiers, qualifiers naming a schema.
 *
 * Everything that reads SQL text in this extension reads it with the core
 * scanner (the session's standard_conforming_strings), never with
 * patterns: validate.c (over-long identifiers), params.c (the $n a
 * statement uses), rewrite.c (the tokens whose qualifiers it rewrites),
 * migrate.c (the qualifiers naming a script's schema) and the enforcement
 * hook (the cheap over-long check).
 * The scanner keeps no state between calls; each function starts and
 * finishes its own scanner.  None catches errors: each is given text that
 * has parsed, or lets a lexing error through.  (Parsing with the error
 * captured is parse.c's.)
 *
 * Memory: tokens, lists and messages are palloc'd in the caller's current
 * memory context.
 *
 * IDENTIFICATION
 *		  src/scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "common/keywords.h"
#include "parser/gramparse.h"
#include "parser/parser.h"
#include "parser/scanner.h"

#include "pg_datasource.h"

/*
 * ds_long_candidate_n
 *		A cheap scan of len bytes for text that might hold an identifier
 *		longer than NAMEDATALEN - 1 bytes: a run of that many identifier bytes
 *		(quotes and the escapes of U&"..." included, and spaces between double
 *		quotes).  False means there is certainly none; true sends the text to
 *		ds_identifier_too_long.  A double quote inside a string literal only
 *		makes more text a candidate, never less.
 */
bool
ds_long_candidate_n(const char *query, int len)
{
	int			i;
	int			run = 0;
	bool		quoted = false;

	static bool ident_byte[256];
	static bool ready = false;

	if (!ready)
	{
		int			c;

		for (c = 0; c < 256; c++)
			ident_byte[c] = isalnum(c) || c == '_' || c == '$' || c >= 0x80 ||
				c == '"' || c == '\\' || c == '&' || c == '+';
		ready = true;
	}
	if (len < NAMEDATALEN)
		return false;
	for (i = 0; i < len && query[i] != '\0'; i++)
	{
		unsigned char c = (unsigned char) query[i];

		if (c == '"')
			quoted = !quoted;
		if (ident_byte[c] || (quoted && run > 0))
		{
			if (++run >= NAMEDATALEN)
				return true;
		}
		else
			run = 0;
	}
	return false;
}

/*
 * ds_uident_length
 *		Bytes of a U&"..." identifier once its escapes are decoded to UTF-8
 *		(default escape character; a UESCAPE clause is not followed, so the
 *		count is then an upper bound).
 */
static int
ds_uident_length(const char *p)
{
	int			len = 0;

	p += 3;						/* U&" */
	while (*p)
	{
		unsigned int cp = 0;
		int			digits = 0;
		int			i;

		if (*p == '"')
		{
			if (p[1] != '"')
				break;
			p += 2;
			len++;
			continue;
		}
		if (*p != '\\')
		{
			p++;
			len++;
			continue;
		}
		if (p[1] == '\\')
		{
			p += 2;
			len++;
			continue;
		}
		p++;
		if (*p == '+')
		{
			digits = 6;
			p++;
		}
		else
			digits = 4;
		for (i = 0; i < digits && isxdigit((unsigned char) *p); i++, p++)
			cp = cp * 16 + (isdigit((unsigned char) *p) ? *p - '0' :
							(tolower((unsigned char) *p) - 'a' + 10));
		len += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	}
	return len;
}

/*
 * ds_identifier_too_long
 *		Lexes the text with the core scanner and returns the start of the
 *		first identifier longer than NAMEDATALEN - 1 bytes (which the scanner
 *		would silently truncate), or NULL.  The caller suppresses the
 *		scanner's truncation notices.
 */
char *
ds_identifier_too_long(const char *query)
{
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			tok;
	char	   *volatile result = NULL;

	scanner = scanner_init(query, &extra, &ScanKeywords, ScanKeywordTokens);
	PG_TRY();
	{
		while ((tok = core_yylex(&yylval, &yylloc, scanner)) != 0)
		{
			const char *start = query + yylloc;
			int			len = 0;

			if (tok != IDENT && tok != UIDENT)
				continue;
			if (tok == UIDENT)
				len = ds_uident_length(start);
			else if (*start == '"')
			{
				/* bytes between the quotes, "" counting once */
				const char *q = start + 1;

				while (*q)
				{
					if (*q == '"')
					{
						if (q[1] == '"')
							q++;
						else
							break;
					}
					q++;
					len++;
				}
			}
			else
			{
				const char *q = start;

				while (*q && (isalnum((unsigned char) *q) || *q == '_' ||
							  *q == '$' || (unsigned char) *q >= 0x80))
				{
					q++;
					len++;
				}
			}
			if (len >= NAMEDATALEN)
			{
				result = pnstrdup(start, Min(len + 2, 80));
				break;
			}
		}
	}
	PG_FINALLY();
	{
		scanner_finish(scanner);
	}
	PG_END_TRY();
	return result;
}

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
 * ds_token_end
 *		The offset just past the identifier token at tokens[*i]; a U&"..."
 *		identifier's UESCAPE clause is part of it (*i is moved past it).
 */
int
ds_token_end(const char *text, DsToken *tokens, int ntokens, int *i)
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
 * ds_scan_tokens
 *		Lexes text with the server's scanner (the session's
 *		standard_conforming_strings); returns the tokens and their count.
 */
DsToken *
ds_scan_tokens(const char *text, int *ntokens)
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

/*
 * ds_scan_qualifiers
 *		Offsets in sql of the tokens that name script_schema as the first
 *		part of a qualified name (the token is followed by a dot and not
 *		preceded by one).  String literals, comments and dollar-quoted bodies
 *		are single tokens or none, so names inside them are left alone.
 */
List *
ds_scan_qualifiers(const char *sql, const char *script_schema)
{
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	List	   *found = NIL;
	int			prev = 0;
	int			cand = -1;		/* offset of a matching name just seen */
	int			kwnum;
	int			kwtoken;

	kwnum = ScanKeywordLookup(script_schema, &ScanKeywords);
	kwtoken = kwnum >= 0 ? ScanKeywordTokens[kwnum] : -1;
	scanner = scanner_init(sql, &extra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, scanner);
		bool		match = false;

		if (tok == 0)
			break;
		if (tok == '.' && cand >= 0)
			found = lappend_int(found, cand);
		cand = -1;
		if (prev != '.')
		{
			/* "name" and name are IDENT; an unquoted keyword is its token */
			if (tok == IDENT)
				match = strcmp(yylval.str, script_schema) == 0;
			else
				match = tok == kwtoken;
		}
		if (match)
			cand = yylloc;
		prev = tok;
	}
	scanner_finish(scanner);
	return found;
}

/*
 * ds_scan_params
 *		The highest $n of the statement (0 when it uses none), marking in
 *		used (nparams entries, or NULL) the given parameters it uses.  The
 *		text is lexed with the session's standard_conforming_strings, as the
 *		validator parsed it; the caller guarantees it lexes (it was parsed).
 */
int
ds_scan_params(const char *sql, int nparams, bool *used)
{
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	int			highest = 0;
	int			tok;

	/* no $ at all: no parameter (most statements) */
	if (strchr(sql, '$') == NULL)
		return 0;
	scanner = scanner_init(sql, &extra, &ScanKeywords, ScanKeywordTokens);
	while ((tok = core_yylex(&yylval, &yylloc, scanner)) != 0)
	{
		if (tok != PARAM || yylval.ival <= 0)
			continue;
		highest = Max(highest, yylval.ival);
		if (used != NULL && yylval.ival <= nparams)
			used[yylval.ival - 1] = true;
	}
	scanner_finish(scanner);
	return highest;
}
