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
 * migrate.c (the qualifiers naming a script's schema), the statistics
 * (a statement's fingerprint, stats_statements.c) and the enforcement
 * hook (whether a query holds an over-long identifier token; a byte-level
 * pre-test, which string literals and comments can only make more
 * cautious, spares most statements the scanner).
 * The scanner keeps no state between calls; each function starts and
 * finishes its own scanner.  Each is given text that has parsed, or lets a
 * lexing error through, but ds_long_candidate_n, for which text that no
 * longer lexes is a candidate.  (Parsing with the error captured is
 * parse.c's.)
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

#include "common/hashfn.h"
#include "common/keywords.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "parser/gramparse.h"
#include "parser/parser.h"
#include "parser/scanner.h"
#include "utils/guc.h"

#include "pg_datasource.h"

/* ident_byte[c]: c can be part of an unquoted identifier (ASCII letters,
 * digits, '_', '$' and every byte of a multibyte character), whatever the
 * locale */
static bool ident_byte[256];
static bool ident_byte_ready = false;

/*
 * ds_ident_bytes_init
 *		Fills ident_byte once per backend.
 */
static void
ds_ident_bytes_init(void)
{
	int			c;

	for (c = 0; c < 256; c++)
		ident_byte[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80;
	ident_byte_ready = true;
}

/*
 * ds_long_run_n
 *		A cheap, sound pre-test of len bytes of text for an identifier
 *		longer than NAMEDATALEN - 1 bytes.  False means there is certainly
 *		none; true means there may be one (ds_identifier_too_long says).
 *
 *		An unquoted identifier is a run of identifier bytes.  A quoted one
 *		(U&"..." included, whose escapes never decode to more bytes than
 *		they take) lies between two runs of double quotes of odd length
 *		with only even runs (doubled quotes) between them, and nothing else
 *		puts a double quote right beside its opening or closing one: so the
 *		distance between consecutive odd runs bounds it, whatever stray
 *		double quotes string literals or comments hold earlier in the text.
 *		An identifier of doubled quotes only is one even run.  Strings and
 *		comments can make text a candidate, never hide an identifier.
 */
bool
ds_long_run_n(const char *query, int len)
{
	int			i;
	int			run = 0;
	int			odd_start = -1; /* where the last odd run of '"' began */

	if (len < NAMEDATALEN)
		return false;
	if (!ident_byte_ready)
		ds_ident_bytes_init();
	for (i = 0; i < len && query[i] != '\0'; i++)
	{
		unsigned char c = (unsigned char) query[i];
		int			j;

		if (ident_byte[c])
		{
			if (++run >= NAMEDATALEN)
				return true;
			continue;
		}
		run = 0;
		if (c != '"')
			continue;
		for (j = i; j < len && query[j] == '"'; j++)
			;
		if ((j - i) % 2 == 1)
		{
			if (odd_start >= 0 && j - odd_start >= NAMEDATALEN)
				return true;
			odd_start = i;
		}
		else if (j - i >= 2 * NAMEDATALEN)
			return true;
		i = j - 1;
	}
	return false;
}

/*
 * ds_long_candidate_n
 *		Whether len bytes of text (a statement that parsed, not necessarily
 *		NUL-terminated) hold an identifier token longer than NAMEDATALEN - 1
 *		bytes, quoted or not, U& included: the enforcement hook judges such
 *		a statement from its text (the tree holds truncated names).  A long
 *		run inside a string literal, a dollar-quoted string or a comment
 *		does not count.
 *
 *		Cheap for most statements (ds_long_run_n); only text that pre-test
 *		cannot clear is lexed, with the scanner's notices and warnings kept
 *		from the client (parsing has sent them already).  Text that no
 *		longer lexes (a setting that changes lexing was changed since it
 *		parsed) is a candidate: the text path reports it.  The caller is in
 *		a transaction.
 */
bool
ds_long_candidate_n(const char *query, int len)
{
	MemoryContext cxt = CurrentMemoryContext;
	char	   *copy;
	int			level;
	volatile bool found = false;

	if (!ds_long_run_n(query, len))
		return false;
	copy = pnstrdup(query, len);
	level = NewGUCNestLevel();
	(void) set_config_option("client_min_messages", "error",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	PG_TRY();
	{
		found = ds_identifier_too_long(copy) != NULL;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int			category;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		category = ERRCODE_TO_CATEGORY(edata->sqlerrcode);
		if (category != ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION &&
			category != ERRCODE_DATA_EXCEPTION)
			PG_RE_THROW();
		FlushErrorState();
		FreeErrorData(edata);
		found = true;
	}
	PG_END_TRY();
	AtEOXact_GUC(true, level);
	pfree(copy);
	return found;
}

/*
 * ds_hex_value
 *		The value of a hexadecimal digit.
 */
static int
ds_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return tolower((unsigned char) c) - 'a' + 10;
}

/*
 * ds_uident_length
 *		Bytes of a U&"..." identifier once decoded as the parser decodes it
 *		(escapes to characters of the server encoding, a surrogate pair to
 *		one character, a doubled escape character to itself): str is its
 *		body as the scanner returns it (doubled quotes undone), escape its
 *		escape character (UESCAPE's, or a backslash).  The caller guarantees
 *		the identifier parsed, so every escape is valid.
 */
static int
ds_uident_length(const char *str, char escape)
{
	const char *p = str;
	pg_wchar	first = 0;		/* a leading surrogate awaiting its pair */
	int			len = 0;

	while (*p)
	{
		unsigned char buf[MAX_UNICODE_EQUIVALENT_STRING + 1];
		pg_wchar	cp = 0;
		int			digits = 4;
		int			i;

		if (*p != escape)
		{
			p++;
			len++;
			continue;
		}
		if (p[1] == escape)
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
		for (i = 0; i < digits && isxdigit((unsigned char) *p); i++, p++)
			cp = cp * 16 + ds_hex_value(*p);
		if (is_utf16_surrogate_first(cp))
		{
			first = cp;
			continue;
		}
		if (first != 0 && is_utf16_surrogate_second(cp))
			cp = surrogate_pair_to_codepoint(first, cp);
		first = 0;
		pg_unicode_to_server(cp, buf);
		len += strlen((char *) buf);
	}
	return len;
}

/*
 * ds_ident_length
 *		Bytes of the name an IDENT token starting at start stands for before
 *		truncation: between the quotes ("" counting once) or the run of
 *		identifier bytes.
 */
static int
ds_ident_length(const char *start)
{
	const char *q = start;
	int			len = 0;

	if (!ident_byte_ready)
		ds_ident_bytes_init();
	if (*q != '"')
	{
		while (*q && ident_byte[(unsigned char) *q])
			q++;
		return q - start;
	}
	for (q++; *q; q++, len++)
	{
		if (*q == '"')
		{
			if (q[1] != '"')
				break;
			q++;
		}
	}
	return len;
}

/*
 * ds_identifier_too_long
 *		Lexes the text with the core scanner and returns the start of the
 *		first identifier longer than NAMEDATALEN - 1 bytes (which the parser
 *		would silently truncate), or NULL: IDENT tokens, and U&"..." tokens
 *		decoded with the escape character of their UESCAPE clause.  The
 *		returned excerpt (at most 80 bytes) ends at a character boundary.  The caller
 *		suppresses the scanner's truncation notices, and gives text that
 *		lexes (a lexing error is raised).
 */
char *
ds_identifier_too_long(const char *query)
{
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	char	   *volatile result = NULL;

	scanner = scanner_init(query, &extra, &ScanKeywords, ScanKeywordTokens);
	PG_TRY();
	{
		int			tok = core_yylex(&yylval, &yylloc, scanner);

		while (tok != 0)
		{
			const char *start = query + yylloc;
			int			next = -1;
			int			len = 0;

			if (tok == IDENT)
				len = ds_ident_length(start);
			else if (tok == UIDENT)
			{
				char	   *body = yylval.str;
				char		escape = '\\';

				/* U&"..." UESCAPE 'c' (the parser looks ahead the same way) */
				next = core_yylex(&yylval, &yylloc, scanner);
				if (next == UESCAPE)
				{
					next = core_yylex(&yylval, &yylloc, scanner);
					if (next == SCONST && yylval.str[0] != '\0')
						escape = yylval.str[0];
					next = core_yylex(&yylval, &yylloc, scanner);
				}
				len = ds_uident_length(body, escape);
			}
			if (len >= NAMEDATALEN)
			{
				int			n = Min(len + 2, 80);	/* as much as the message shows */

				result = pnstrdup(start, pg_mbcliplen(start, strlen(start), n));
				break;
			}
			tok = next >= 0 ? next : core_yylex(&yylval, &yylloc, scanner);
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

/*
 * ds_scan_fingerprint
 *		A 64-bit fingerprint of text's tokens: keywords and punctuation by
 *		their token, identifiers, operators and $n by their text, every
 *		constant (numbers, strings, bit strings) as one placeholder.  So
 *		whitespace, comments, letter case of unquoted names and the values
 *		of constants do not change it, and a statement written once for all
 *		tenants has one fingerprint.  The caller gives text that lexed
 *		(validation passed).
 */
uint64
ds_scan_fingerprint(const char *text)
{
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	uint64		h = 0;

	scanner = scanner_init(text, &extra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, scanner);

		if (tok == 0)
			break;
		switch (tok)
		{
			case ICONST:
			case FCONST:
			case SCONST:
			case USCONST:
			case BCONST:
			case XCONST:
				h = hash_combine64(h, (uint64) ICONST);
				break;
			case PARAM:
				h = hash_combine64(h, (uint64) tok);
				h = hash_combine64(h, (uint64) yylval.ival);
				break;
			case IDENT:
			case UIDENT:
			case Op:
				h = hash_combine64(h, (uint64) tok);
				h = hash_combine64(h, hash_bytes_extended((const unsigned char *) yylval.str,
														  strlen(yylval.str), 0));
				break;
			default:
				h = hash_combine64(h, (uint64) tok);
				break;
		}
	}
	scanner_finish(scanner);
	return h;
}

/*
 * ds_scan_normalize
 *		text with each constant (number, string, bit string) replaced by
 *		$n, numbered after the highest $n parameter text uses: the form
 *		statement_stats shows, which keeps no value of any call.  The
 *		tokens are those ds_scan_fingerprint hashes as constants.  The
 *		caller gives text that lexed (validation passed); the result is
 *		palloc'd in the current context.
 */
char *
ds_scan_normalize(const char *text)
{
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	core_YYSTYPE yylval;
	YYLTYPE		yylloc;
	StringInfoData buf;
	int			cap = 16;
	int			n = 0;
	int		   *locs = palloc(sizeof(int) * cap);
	int		   *lens = palloc(sizeof(int) * cap);
	int			maxparam = 0;
	int			pos = 0;
	int			i;

	scanner = scanner_init(text, &extra, &ScanKeywords, ScanKeywordTokens);
	for (;;)
	{
		int			tok = core_yylex(&yylval, &yylloc, scanner);

		if (tok == 0)
			break;
		if (tok == PARAM)
			maxparam = Max(maxparam, yylval.ival);
		else if (tok == ICONST || tok == FCONST || tok == SCONST ||
				 tok == USCONST || tok == BCONST || tok == XCONST)
		{
			if (n == cap)
			{
				cap *= 2;
				locs = repalloc(locs, sizeof(int) * cap);
				lens = repalloc(lens, sizeof(int) * cap);
			}
			locs[n] = yylloc;

			/*
			 * The scanner works on its own copy of the text (same offsets)
			 * and ends its current token with a NUL while it is current;
			 * for a quoted literal, matched by several rules, the token
			 * starts at the opening quote, so the NUL marks its whole end.
			 */
			lens[n] = strlen(extra.scanbuf + yylloc);
			n++;
		}
	}
	scanner_finish(scanner);

	initStringInfo(&buf);
	for (i = 0; i < n; i++)
	{
		if (locs[i] < pos)
			continue;			/* cannot happen: tokens do not overlap */
		appendBinaryStringInfo(&buf, text + pos, locs[i] - pos);
		appendStringInfo(&buf, "$%d", maxparam + i + 1);
		pos = locs[i] + lens[i];
	}
	appendStringInfoString(&buf, text + pos);
	pfree(locs);
	pfree(lens);
	return buf.data;
}
