/*-------------------------------------------------------------------------
 *
 * pg_datasource.c
 *		  Module entry point of pg_datasource.
 *
 * pg_datasource makes one database the control plane for many logical
 * databases: names mapped to schemas on this database or on other PostgreSQL
 * servers.  This file only declares the module and hands initialisation to
 * the files that own each concern; see pg_datasource.h for the map.
 *
 * IDENTIFICATION
 *		  src/pg_datasource.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "pg_datasource.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * _PG_init
 *		Runs once per backend when the library is loaded (and once in the
 *		postmaster when it is preloaded): settings first, then the
 *		transaction callbacks of the remote connection layer, then the
 *		shared memory of migration progress and of the statistics (only
 *		when preloaded).
 */
void
_PG_init(void)
{
	ds_define_gucs();
	ds_cache_init();
	ds_readonly_init();
	ds_stmt_cache_init();
	ds_connection_init();
	ds_sandbox_init();
	ds_hooks_init();
	ds_enforce_init();
	ds_mysql_watch_init();
	ds_progress_init();
	ds_stats_init();
}
