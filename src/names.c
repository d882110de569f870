/*-------------------------------------------------------------------------
 *
 * names.c
 *		  The rules for the names users give: datasources, logical databases,
 *		  schemas and foreign servers.
 *
 * Datasource and logical database names are ours: they are written
 * unquoted as qualifiers in the SQL users route, so they are lower-case SQL
 * identifiers that are not keywords.  Schema names belong to PostgreSQL:
 * any name PostgreSQL accepts for a schema can be mapped ("My.Schema",
 * "Sales-EU", "Ünïcode"), because such schemas exist in real databases;
 * every place that writes one into SQL quotes it.  Server names stay SQL
 * identifiers.  Every kind is at most NAMEDATALEN - 1 bytes, rejected rather
 * than truncated, and names of the system and of this extension are
 * reserved for every kind but servers.
 *
 * Also here: whether a name is in a fixed list of names (option lists,
 * function allow- and deny-lists).
 *
 * Memory: nothing is allocated but error messages.
 *
 * IDENTIFICATION
 *		  src/names.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/keywords.h"
#include "common/kwlookup.h"
#include "utils/formatting.h"

#include "pg_datasource.h"

/*
 * ds_name_kind_label
 *		The words used for a kind of name in messages.
 */
static const char *
ds_name_kind_label(DsNameKind kind)
{
	switch (kind)
	{
		case DS_NAME_SOURCE:
			return "datasource";
		case DS_NAME_DATABASE:
			return "logical database";
		case DS_NAME_SCHEMA:
			return "schema";
		case DS_NAME_SERVER:
			return "server";
	}
	return "name";				/* keep compiler quiet */
}

/*
 * ds_check_identifier
 *		Raises 42602 unless name is made of SQL identifier characters (a
 *		letter or underscore, then letters, digits, underscores or dollar
 *		signs); with lower_only, upper-case letters and keywords other than
 *		unreserved ones are refused too, with the fix as a hint.
 */
static void
ds_check_identifier(DsNameKind kind, const char *name, bool lower_only)
{
	const char *label = ds_name_kind_label(kind);
	bool		has_upper = false;
	int			kwnum;
	const char *p;

	for (p = name; *p; p++)
	{
		char		c = *p;
		bool		ok;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
			ok = true;
		else if ((c >= '0' && c <= '9') || c == '$')
			ok = (p != name);
		else
			ok = false;

		if (!ok)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_NAME),
					errmsg("invalid %s name \"%s\"", label, name),
					errdetail("Names are SQL identifiers: a letter or underscore, then letters, digits, underscores or dollar signs."));
		if (lower_only && c >= 'A' && c <= 'Z')
			has_upper = true;
	}
	if (!lower_only)
		return;

	/* names used unquoted as qualifiers are lower case: suggest the fix */
	if (has_upper)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_NAME),
				errmsg("invalid %s name \"%s\"", label, name),
				errdetail("%s names are lower case.",
						  kind == DS_NAME_SOURCE ? "Datasource" : "Logical database"),
				errhint("Use \"%s\".", asc_tolower(name, strlen(name))));

	/* a keyword would need quoting wherever the name is used as a qualifier */
	kwnum = ScanKeywordLookup(name, &ScanKeywords);
	if (kwnum >= 0 && ScanKeywordCategories[kwnum] != UNRESERVED_KEYWORD)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_NAME),
				errmsg("invalid %s name \"%s\"", label, name),
				errdetail("\"%s\" is an SQL keyword.", name));
}

/*
 * ds_check_name
 *		Raises an error unless the name obeys the rules for its kind (see the
 *		file header): 42602 for an empty or malformed name, 42622 for one
 *		longer than NAMEDATALEN - 1 bytes, 42939 for a reserved one.  The
 *		caller has already rejected NULL; a text value never holds a NUL
 *		byte and is valid in the database encoding.
 */
void
ds_check_name(DsNameKind kind, const char *name)
{
	const char *label = ds_name_kind_label(kind);
	size_t		len = strlen(name);

	if (len == 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_NAME),
				errmsg("%s name must not be empty", label));

	if (len >= NAMEDATALEN)
		ereport(ERROR,
				errcode(ERRCODE_NAME_TOO_LONG),
				errmsg("%s name \"%s\" is too long", label, name),
				errdetail("Names are at most %d bytes; this one has %zu.",
						  NAMEDATALEN - 1, len));

	/* a schema name is any name PostgreSQL accepts: it is always quoted */
	if (kind != DS_NAME_SCHEMA)
		ds_check_identifier(kind, name,
							kind == DS_NAME_SOURCE || kind == DS_NAME_DATABASE);

	if (kind != DS_NAME_SERVER &&
		(strncmp(name, "pg_", 3) == 0 ||
		 strcmp(name, "information_schema") == 0 ||
		 strcmp(name, DS_SCHEMA) == 0))
		ereport(ERROR,
				errcode(ERRCODE_RESERVED_NAME),
				errmsg("%s name \"%s\" is reserved", label, name),
				errdetail("Names starting with \"pg_\", \"information_schema\" and \"%s\" are reserved for the system and this extension.",
						  DS_SCHEMA));
}

/*
 * ds_name_in_list
 *		Whether name is one of a NULL-terminated array of names (exact,
 *		case-sensitive comparison, as for identifiers already folded).
 */
bool
ds_name_in_list(const char *const *list, const char *name)
{
	for (; *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}
