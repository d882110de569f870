/*-------------------------------------------------------------------------
 *
 * fdw.c
 *		  Option validator of the pg_datasource foreign-data wrapper.
 *
 * A remote datasource is a foreign server of our wrapper.  Its options are
 * libpq connection options from an allow-list; the role and secrets go on
 * user mappings only, so they never appear in server definitions that other
 * roles can read.  The allow-list is further narrowed to the options the
 * libpq we are linked with knows and that PostgreSQL itself considers safe
 * for server-side proxies, so a newer libpq cannot widen it silently.  One
 * server option is ours, not libpq's: pooler ('auto', 'transaction' or
 * 'none'), which says whether a pooler sits between us and the server
 * (pooler.c); connection.c leaves it out of what it gives libpq.
 *
 * Memory: the list of server options is computed once per backend into
 * TopMemoryContext; everything else lives in the caller's context.
 *
 * IDENTIFICATION
 *		  src/fdw.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/libpq-be-fe-helpers.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "pg_datasource.h"

PG_FUNCTION_INFO_V1(pg_datasource_validator);

/*
 * The libpq options a server may carry: where and how to connect, never who
 * connects.  Options that would let a non-superuser read server files or
 * redirect authentication are deliberately left out (passfile, service).
 */
static const char *const server_option_candidates[] = {
	"host", "hostaddr", "port", "dbname", "connect_timeout", "options",
	"application_name", "keepalives", "keepalives_idle",
	"keepalives_interval", "keepalives_count", "tcp_user_timeout",
	"sslmode", "sslcompression", "sslcert", "sslkey", "sslrootcert",
	"sslcrl", "sslcrldir", "sslsni", "requirepeer",
	"ssl_min_protocol_version", "ssl_max_protocol_version", "gssencmode",
	"krbsrvname", "gsslib", "target_session_attrs", "channel_binding",
	NULL
};

/* what a user mapping may carry */
static const char *const mapping_options[] = {
	"user", "password", "password_required", "sslcert", "sslkey",
	"sslpassword", NULL
};

static List *server_options = NIL;	/* char *, in TopMemoryContext */

static int	ds_cmp_names(const ListCell *a, const ListCell *b);
static List *ds_server_options(void);
static bool ds_is_server_option(const char *keyword);
static char *ds_valid_options_text(Oid catalog);

/*
 * ds_cmp_names
 *		list_sort comparator for a List of C strings.
 */
static int
ds_cmp_names(const ListCell *a, const ListCell *b)
{
	return strcmp((char *) lfirst(a), (char *) lfirst(b));
}

/*
 * ds_server_options
 *		The allow-list of server options: candidates that this libpq knows
 *		and that PostgreSQL accepts for server-side proxies, and pooler.
 */
static List *
ds_server_options(void)
{
	if (server_options == NIL)
	{
		PQconninfoOption *defaults = PQconndefaults();
		PQconninfoOption *opt;
		MemoryContext old;

		if (defaults == NULL)
			ereport(ERROR,
					errcode(ERRCODE_OUT_OF_MEMORY),
					errmsg("out of memory"),
					errdetail("Could not get libpq's default connection options."));

		old = MemoryContextSwitchTo(TopMemoryContext);
		for (opt = defaults; opt->keyword != NULL; opt++)
		{
			if (ds_name_in_list(server_option_candidates, opt->keyword) &&
				libpqsrv_is_valid_proxy_option(opt->keyword))
				server_options = lappend(server_options, pstrdup(opt->keyword));
		}
		/* ours, not libpq's (pooler.c) */
		server_options = lappend(server_options, pstrdup("pooler"));
		MemoryContextSwitchTo(old);
		PQconninfoFree(defaults);
		/* sorted, so hints read the same whatever libpq's own order is */
		list_sort(server_options, ds_cmp_names);
	}
	return server_options;
}

/*
 * ds_is_server_option
 *		Whether a keyword may be set on a server of our wrapper.
 */
static bool
ds_is_server_option(const char *keyword)
{
	ListCell   *lc;

	foreach(lc, ds_server_options())
		if (strcmp((char *) lfirst(lc), keyword) == 0)
			return true;
	return false;
}

/*
 * ds_valid_options_text
 *		The options valid for a catalog, as a comma-separated list for hints.
 */
static char *
ds_valid_options_text(Oid catalog)
{
	StringInfoData buf;
	ListCell   *lc;
	const char *const *p;

	initStringInfo(&buf);
	if (catalog == ForeignServerRelationId)
	{
		foreach(lc, ds_server_options())
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
							 (char *) lfirst(lc));
	}
	else if (catalog == UserMappingRelationId)
	{
		for (p = mapping_options; *p; p++)
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", *p);
	}
	return buf.data;
}

/*
 * pg_datasource_validator(options text[], catalog oid)
 *		Validates the options of our wrapper, its servers and user mappings.
 *		Called by CREATE/ALTER SERVER and USER MAPPING with the complete new
 *		option list.
 */
Datum
pg_datasource_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const char *name = def->defname;
		bool		valid;

		if (catalog == ForeignServerRelationId)
			valid = ds_is_server_option(name);
		else if (catalog == UserMappingRelationId)
			valid = ds_name_in_list(mapping_options, name);
		else
			valid = false;

		if (!valid)
		{
			char	   *list = ds_valid_options_text(catalog);

			if (catalog == ForeignServerRelationId &&
				(strcmp(name, "user") == 0 || strcmp(name, "password") == 0 ||
				 strcmp(name, "password_required") == 0 ||
				 strcmp(name, "sslpassword") == 0))
				ereport(ERROR,
						errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
						errmsg("invalid option \"%s\"", name),
						errdetail("Roles and secrets belong on user mappings, never on servers."),
						errhint("Use CREATE USER MAPPING FOR ... SERVER ... OPTIONS (user '...', password '...')."));
			ereport(ERROR,
					errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					errmsg("invalid option \"%s\"", name),
					list[0] != '\0'
					? errhint("Valid options in this context are: %s.", list)
					: errhint("There are no valid options in this context."));
		}

		if (strcmp(name, "password_required") == 0)
		{
			bool		required;

			if (!parse_bool(defGetString(def), &required))
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("option \"%s\" requires a Boolean value", name));
			if (!required && !superuser())
				ereport(ERROR,
						errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("permission denied to set option \"%s\"", name),
						errdetail("Only superusers may set password_required to false."));
		}
		else if (strcmp(name, "pooler") == 0 && catalog == ForeignServerRelationId)
			(void) ds_pooler_parse(defGetString(def));
		else if (strcmp(name, "port") == 0 || strcmp(name, "connect_timeout") == 0)
		{
			const char *val = defGetString(def);
			char	   *end;
			long		n;

			errno = 0;
			n = strtol(val, &end, 10);
			if (errno != 0 || end == val || *end != '\0' || n < 0 ||
				(strcmp(name, "port") == 0 && (n < 1 || n > 65535)))
				ereport(ERROR,
						errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid value for option \"%s\": \"%s\"", name, val),
						strcmp(name, "port") == 0
						? errdetail("A port is an integer from 1 to 65535.")
						: errdetail("A timeout is a whole number of seconds."));
		}
	}

	PG_RETURN_VOID();
}
