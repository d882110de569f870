/*-------------------------------------------------------------------------
 *
 * guc.c
 *		  The settings of pg_datasource.
 *
 * Every setting lives under the reserved prefix "datasource." and is
 * defined with the most restrictive context that still lets users do their
 * work.  The variables are plain globals read by the other files.
 *
 * IDENTIFICATION
 *		  src/guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "pg_datasource.h"

/* seconds allowed for establishing a connection to a remote datasource */
int			ds_connect_timeout = 10;

/*
 * ds_define_gucs
 *		Defines the settings; called once from _PG_init.
 */
void
ds_define_gucs(void)
{
	DefineCustomIntVariable("datasource.connect_timeout",
							"Seconds allowed for connecting to a remote datasource.",
							"The deadline covers name resolution, the TCP connection, "
							"TLS and authentication. Zero means no deadline.",
							&ds_connect_timeout,
							10,
							0,
							3600,
							PGC_USERSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("datasource");
}
