/*-------------------------------------------------------------------------
 *
 * pqfn.c
 *	  A hostile client's two protocol paths, for test/multi/sandbox_hostile.sh:
 *	  the fast-path function call (libpq's PQfn, the message psql's
 *	  \lo_import and \lo_export use) and the extended query protocol
 *	  (PQexecParams: Parse, Bind, Execute).
 *
 *	  pqfn [-r KIND] CONNINFO FUNCTION [ARG...]
 *		Calls FUNCTION through the fast path.  FUNCTION is an OID, or a
 *		signature such as 'pg_catalog.nextval(regclass)' looked up first with
 *		a regular query on the same connection (a session that refuses every
 *		statement needs the OID).  Each ARG is sent in binary: t:TEXT (text,
 *		bytea, xml ...), i:N (int4), o:N (oid), I:N (int8), b:t or b:f (bool).
 *		The result is read as KIND: text (default: the bytes as they come),
 *		int4, int8 or bool.
 *	  pqfn -x CONNINFO SQL [PARAM...]
 *		Runs SQL with the extended protocol, PARAMs as text values; prints
 *		the rows, columns separated by '|'.
 *
 *	  On success the result goes to stdout and the exit status is 0.  An error
 *	  the server reports prints "ERROR <SQLSTATE>" on stdout (its message on
 *	  stderr) and exits 1; a failed connection prints "CONNECT FAILED" and
 *	  exits 2, a usage error exits 3.  A NULL result prints "NULL".
 *
 *	  Built by the test script that uses it:
 *		cc -I$(pg_config --includedir) -o pqfn pqfn.c -lpq
 *	  A fast-path result must fit in RESULT_MAX bytes (libpq does not check).
 *
 * IDENTIFICATION
 *	  test/tools/pqfn.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpq-fe.h"

#define RESULT_MAX (4 * 1024 * 1024)

/*
 * report_error: print the SQLSTATE of a failed result on stdout and its
 * message on stderr; return the exit status for a server error.
 */
static int
report_error(PGconn *conn, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	printf("ERROR %s\n", state ? state : "(none)");
	fprintf(stderr, "pqfn: %s", res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	return 1;
}

/*
 * lookup_oid: the OID of a function given as a number or a signature.  The
 * lookup of a signature is an ordinary query; on its failure *status is set
 * and InvalidOid (0) returned.
 */
static unsigned int
lookup_oid(PGconn *conn, const char *function, int *status)
{
	const char *values[1] = {function};
	PGresult   *res;
	unsigned int oid;

	if (strspn(function, "0123456789") == strlen(function))
		return (unsigned int) strtoul(function, NULL, 10);
	res = PQexecParams(conn, "SELECT $1::pg_catalog.regprocedure::pg_catalog.oid",
					   1, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		*status = report_error(conn, res);
		PQclear(res);
		return 0;
	}
	oid = (unsigned int) strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return oid;
}

/*
 * parse_arg: fill one fast-path argument from "t:TEXT", "i:N", "o:N",
 * "I:N" or "b:t|f".  int8 and bool are sent as bytes in network order,
 * from int8buf (8 bytes the caller keeps alive until the call).  Returns 0
 * on a malformed argument.
 */
static int
parse_arg(const char *arg, PQArgBlock *block, unsigned char *int8buf)
{
	const char *value = arg + 2;

	if (strlen(arg) < 2 || arg[1] != ':')
		return 0;
	switch (arg[0])
	{
		case 't':
			block->isint = 0;
			block->len = (int) strlen(value);
			block->u.ptr = (int *) value;
			return 1;
		case 'i':
		case 'o':
			block->isint = 1;
			block->len = 4;
			block->u.integer = (int) strtoul(value, NULL, 10);
			return 1;
		case 'I':
			{
				uint64_t	v = (uint64_t) strtoll(value, NULL, 10);

				for (int i = 7; i >= 0; i--, v >>= 8)
					int8buf[i] = (unsigned char) (v & 0xff);
				block->isint = 0;
				block->len = 8;
				block->u.ptr = (int *) int8buf;
				return 1;
			}
		case 'b':
			int8buf[0] = (value[0] == 't');
			block->isint = 0;
			block->len = 1;
			block->u.ptr = (int *) int8buf;
			return 1;
	}
	return 0;
}

/*
 * print_result: print a fast-path result of len bytes in buf as kind.
 */
static void
print_result(const char *kind, const unsigned char *buf, int len, int intresult)
{
	if (len < 0)
		printf("NULL\n");
	else if (strcmp(kind, "int4") == 0)
		printf("%d\n", intresult);
	else if (strcmp(kind, "int8") == 0 && len == 8)
	{
		uint64_t	v = 0;

		for (int i = 0; i < 8; i++)
			v = (v << 8) | buf[i];
		printf("%lld\n", (long long) v);
	}
	else if (strcmp(kind, "bool") == 0 && len == 1)
		printf("%s\n", buf[0] ? "t" : "f");
	else
	{
		fwrite(buf, 1, (size_t) len, stdout);
		printf("\n");
	}
}

/*
 * fastpath: call function with the text-form arguments args[0..nargs-1]
 * through PQfn; print the result; return the exit status.
 */
static int
fastpath(PGconn *conn, const char *kind, const char *function, char **args, int nargs)
{
	PQArgBlock *blocks = calloc((size_t) nargs + 1, sizeof(PQArgBlock));
	unsigned char (*int8bufs)[8] = calloc((size_t) nargs + 1, 8);
	unsigned char *buf = malloc(RESULT_MAX);
	int			status = 0;
	int			isint = strcmp(kind, "int4") == 0;
	int			len = 0;
	int			intresult = 0;
	unsigned int oid;
	PGresult   *res;

	if (!blocks || !int8bufs || !buf)
	{
		fprintf(stderr, "pqfn: out of memory\n");
		return 3;
	}
	for (int i = 0; i < nargs; i++)
		if (!parse_arg(args[i], &blocks[i], int8bufs[i]))
		{
			fprintf(stderr, "pqfn: bad argument \"%s\" (t:TEXT, i:N, o:N, I:N, b:t|f)\n", args[i]);
			return 3;
		}
	oid = lookup_oid(conn, function, &status);
	if (status != 0)
		return status;
	res = PQfn(conn, (int) oid, isint ? &intresult : (int *) buf, &len, isint, blocks, nargs);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		status = report_error(conn, res);
	else
		print_result(kind, buf, len, intresult);
	PQclear(res);
	free(buf);
	free(int8bufs);
	free(blocks);
	return status;
}

/*
 * extended: run sql with the text parameters params[0..nparams-1] through
 * the extended protocol; print its rows; return the exit status.
 */
static int
extended(PGconn *conn, const char *sql, char **params, int nparams)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL,
								   (const char *const *) params, NULL, NULL, 0);
	int			status = 0;

	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		for (int r = 0; r < PQntuples(res); r++)
			for (int c = 0; c < PQnfields(res); c++)
				printf("%s%s", PQgetisnull(res, r, c) ? "" : PQgetvalue(res, r, c),
					   c + 1 < PQnfields(res) ? "|" : "\n");
	}
	else if (PQresultStatus(res) == PGRES_COMMAND_OK)
		printf("%s\n", PQcmdStatus(res));
	else
		status = report_error(conn, res);
	PQclear(res);
	return status;
}

int
main(int argc, char **argv)
{
	const char *kind = "text";
	int			ext = 0;
	int			i = 1;
	int			status;
	PGconn	   *conn;

	for (; i < argc && argv[i][0] == '-'; i++)
	{
		if (strcmp(argv[i], "-x") == 0)
			ext = 1;
		else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			kind = argv[++i];
		else
			break;
	}
	if (argc - i < 2)
	{
		fprintf(stderr, "usage: pqfn [-r text|int4|int8|bool] CONNINFO FUNCTION [ARG...]\n"
				"       pqfn -x CONNINFO SQL [PARAM...]\n");
		return 3;
	}
	conn = PQconnectdb(argv[i]);
	if (PQstatus(conn) != CONNECTION_OK)
	{
		printf("CONNECT FAILED\n");
		fprintf(stderr, "pqfn: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return 2;
	}
	if (ext)
		status = extended(conn, argv[i + 1], argv + i + 2, argc - i - 2);
	else
		status = fastpath(conn, kind, argv[i + 1], argv + i + 2, argc - i - 2);
	PQfinish(conn);
	return status;
}
