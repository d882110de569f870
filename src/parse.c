/*-------------------------------------------------------------------------
 *
 * parse.c
 *		  Parse a text with the core raw parser and capture the errors the
 *		  text can cause, for callers that report them rather than raise.
 *
 * The validator reports a statement it cannot parse, and json_schema
 * reads a CHECK constraint or a default it cannot parse as "not
 * expressed": both need the parser's error as a value.  The raw parser
 * holds no locks, buffers or other resources, so its error can be caught
 * without a subtransaction: only its memory and the error state need
 * cleaning up.  What is caught is decided by the error's SQLSTATE class,
 * never by its message: the classes a text can cause (syntax errors and
 * the like) are captured, everything else -- query cancel, out of memory,
 * stack depth, an internal error -- is raised again unchanged, so a cancel
 * is never swallowed.
 *
 * ds_parse_capture() builds the parse tree, and a captured error, in the
 * memory context the caller names, and returns in the caller's current
 * context; after an error it never leaves ErrorContext current.
 *
 * IDENTIFICATION
 *		  src/parse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "parser/parser.h"

#include "pg_datasource.h"

/*
 * ds_parse_error_captured
 *		Whether an error the raw parser raised is about the text, by the
 *		class of its SQLSTATE: 42 (syntax error or access rule violation:
 *		syntax errors, reserved names, misused clauses), 22 (data exception:
 *		escapes and characters the encoding cannot hold) and 0A (feature not
 *		supported: syntax the grammar knows but refuses).
 */
static bool
ds_parse_error_captured(int sqlerrcode)
{
	int			category = ERRCODE_TO_CATEGORY(sqlerrcode);

	return category == ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION ||
		category == ERRCODE_DATA_EXCEPTION ||
		category == ERRCODE_FEATURE_NOT_SUPPORTED;
}

/*
 * ds_parse_capture
 *		raw_parser(text, mode), with the errors a text can cause returned
 *		instead of raised.
 *
 *		Returns the raw parse tree (what raw_parser returns for mode: NIL
 *		for a text without a statement) and sets *error to NULL.  When the
 *		parser raises an error of a class that ds_parse_error_captured()
 *		names, returns NIL and sets *error to a copy of it (message,
 *		SQLSTATE, the cursor position in text, ...).  Any other error is
 *		raised again as it was.
 *
 *		The tree and the copied error are allocated in cxt, as is whatever
 *		a failed parse left behind: the caller gives a context it resets or
 *		deletes, or its current one when the tree must live there.  On
 *		return the caller's memory context is current again.  The caller's
 *		error context callbacks are not run for errors raised while parsing
 *		(an SPI caller's callback would move a syntax error's position into
 *		its own query text), so an error raised again carries no CONTEXT
 *		line of theirs.  Runs no query and needs no snapshot.
 */
List *
ds_parse_capture(const char *text, RawParseMode mode, MemoryContext cxt,
				 ErrorData **error)
{
	MemoryContext callercxt = CurrentMemoryContext;
	List	   *volatile parsetree = NIL;

	*error = NULL;
	PG_TRY();
	{
		/* PG_CATCH and PG_END_TRY restore the callers' callbacks */
		error_context_stack = NULL;
		MemoryContextSwitchTo(cxt);
		parsetree = raw_parser(text, mode);
		MemoryContextSwitchTo(callercxt);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* the error is thrown with ErrorContext current: leave it first */
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		MemoryContextSwitchTo(callercxt);
		if (!ds_parse_error_captured(edata->sqlerrcode))
		{
			FreeErrorData(edata);
			PG_RE_THROW();
		}
		FlushErrorState();
		*error = edata;
		parsetree = NIL;
	}
	PG_END_TRY();
	return parsetree;
}
