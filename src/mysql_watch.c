/*-------------------------------------------------------------------------
 *
 * mysql_watch.c
 *		  Letting a cancel, statement_timeout or termination reach a backend
 *		  that waits on a MySQL server.
 *
 * mysql_fdw 2.8 sets no connect or read timeout on its MySQL client, and
 * the client waits in recv() and poll() through PostgreSQL's signals (they
 * are installed with SA_RESTART and only set flags): a MySQL server that
 * stops answering in the middle of a statement held a backend past
 * statement_timeout, pg_cancel_backend and pg_terminate_backend until the
 * server answered again.
 *
 * So while a statement over foreign tables of a MySQL datasource is
 * planned, started and run (the planner, ExecutorStart and ExecutorRun
 * hooks; mysql_fdw connects while planning and when its scan begins), a
 * timeout of PostgreSQL's (utils/timeout.h) fires every DS_WATCH_TICK_MS.
 * That covers every way SQL reaches MySQL: routed statements, the probes of
 * its information_schema, and statements typed directly.  The timeout's
 * handler runs in signal context and does nothing unless an interrupt is
 * pending (QueryCancelPending or ProcDiePending, which statement_timeout, a
 * cancel and a termination set): then it shuts down (shutdown(2), safe in
 * a signal handler) every socket of this process connected to the
 * datasource's MySQL server, found with fstat(2) and getpeername(2), also
 * safe there.  The MySQL client's wait ends at once with a lost
 * connection, mysql_fdw raises its error and drops the connection, and the
 * hook processes the pending interrupt in that error's place, so the user
 * sees what was asked for: 57014, or the end of the session.  The client
 * connection's socket (its local end is PostgreSQL's port) is never
 * touched.  A socket is the server's when its peer port is the server's
 * port (and its address the server's, when the server's host is written
 * as an address), or, for host 'localhost' (the MySQL client then uses a
 * unix socket), a unix socket whose peer is not a PostgreSQL one.  A
 * statement is watched for the first MySQL server its foreign tables use.
 *
 * Memory: the match criteria are static; nothing is allocated in the
 * handler.
 *
 * IDENTIFICATION
 *		  src/mysql_watch.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "optimizer/planner.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "postmaster/postmaster.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "pg_datasource.h"

/* how often the handler looks for a pending interrupt, in milliseconds */
#define DS_WATCH_TICK_MS	200

/* what the handler matches, set before the timeout is enabled */
static TimeoutId ds_watch_timeout = MAX_TIMEOUTS;
static volatile sig_atomic_t ds_watch_depth = 0;
static int	ds_watch_port = 3306;
static int	ds_watch_family = AF_UNSPEC;	/* AF_INET/AF_INET6: also match
											 * the address */
static struct in_addr ds_watch_addr4;
static struct in6_addr ds_watch_addr6;
static bool ds_watch_unix = false;
static int	ds_watch_maxfd = 1024;

static planner_hook_type prev_planner = NULL;
static ExecutorStart_hook_type prev_executor_start = NULL;
static ExecutorRun_hook_type prev_executor_run = NULL;

static void ds_watch_begin(ForeignServer *server);
static void ds_watch_end(void);

/*
 * ds_watch_matches
 *		Whether socket fd is connected to the watched MySQL server.  Runs in
 *		signal context: system calls and plain comparisons only.
 */
static bool
ds_watch_matches(int fd)
{
	struct sockaddr_storage peer;
	socklen_t	len = sizeof(peer);

	if (getpeername(fd, (struct sockaddr *) &peer, &len) != 0)
		return false;
	if (peer.ss_family == AF_INET)
	{
		struct sockaddr_in *in = (struct sockaddr_in *) &peer;

		return ntohs(in->sin_port) == ds_watch_port &&
			(ds_watch_family != AF_INET ||
			 in->sin_addr.s_addr == ds_watch_addr4.s_addr);
	}
	if (peer.ss_family == AF_INET6)
	{
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &peer;

		return ntohs(in6->sin6_port) == ds_watch_port &&
			(ds_watch_family != AF_INET6 ||
			 memcmp(&in6->sin6_addr, &ds_watch_addr6, sizeof(ds_watch_addr6)) == 0);
	}
	if (peer.ss_family == AF_UNIX && ds_watch_unix)
	{
		struct sockaddr_un *un = (struct sockaddr_un *) &peer;

		/* PostgreSQL's own sockets are named .s.PGSQL.<port> */
		return len > offsetof(struct sockaddr_un, sun_path) &&
			strstr(un->sun_path, ".s.PGSQL.") == NULL;
	}
	return false;
}

/*
 * ds_watch_is_client
 *		Whether socket fd is this backend's client connection: its local
 *		end is PostgreSQL's port (a unix socket's local name ends in it).
 *		Signal context: system calls and plain comparisons only.
 */
static bool
ds_watch_is_client(int fd)
{
	struct sockaddr_storage local;
	socklen_t	len = sizeof(local);

	if (getsockname(fd, (struct sockaddr *) &local, &len) != 0)
		return true;			/* not known: never touched */
	if (local.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *) &local)->sin_port) == PostPortNumber;
	if (local.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *) &local)->sin6_port) == PostPortNumber;
	if (local.ss_family == AF_UNIX)
		return len > offsetof(struct sockaddr_un, sun_path) &&
			strstr(((struct sockaddr_un *) &local)->sun_path, ".s.PGSQL.") != NULL;
	return true;
}

/*
 * ds_watch_tick
 *		The timeout's handler, in signal context: with an interrupt
 *		pending, shuts down the sockets connected to the watched server so
 *		that the MySQL client's wait ends.
 */
static void
ds_watch_tick(void)
{
	int			fd;

	if (ds_watch_depth == 0 || !(QueryCancelPending || ProcDiePending))
		return;
	for (fd = 0; fd < ds_watch_maxfd; fd++)
	{
		struct stat st;

		if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
			continue;
		if (ds_watch_matches(fd) && !ds_watch_is_client(fd))
			(void) shutdown(fd, SHUT_RDWR);
	}
}

/*
 * ds_watch_begin
 *		Starts watching for interrupts while a statement that reaches the
 *		MySQL server of server runs; ds_watch_end must follow, on error too.
 *		Nested calls keep the outer server.
 */
static void
ds_watch_begin(ForeignServer *server)
{
	const char *host = "127.0.0.1";
	ListCell   *lc;
	struct rlimit rl;

	if (ds_watch_depth++ > 0)
		return;
	ds_watch_port = 3306;
	foreach(lc, server->options)
	{
		DefElem    *opt = lfirst(lc);

		if (strcmp(opt->defname, "host") == 0)
			host = defGetString(opt);
		else if (strcmp(opt->defname, "port") == 0)
			ds_watch_port = atoi(defGetString(opt));
	}
	ds_watch_unix = strcmp(host, "localhost") == 0;
	if (inet_pton(AF_INET, host, &ds_watch_addr4) == 1)
		ds_watch_family = AF_INET;
	else if (inet_pton(AF_INET6, host, &ds_watch_addr6) == 1)
		ds_watch_family = AF_INET6;
	else
		ds_watch_family = AF_UNSPEC;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		ds_watch_maxfd = (int) Min(rl.rlim_cur, 65536);

	if (ds_watch_timeout == MAX_TIMEOUTS)
		ds_watch_timeout = RegisterTimeout(USER_TIMEOUT, ds_watch_tick);
	enable_timeout_every(ds_watch_timeout,
						 TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													 DS_WATCH_TICK_MS),
						 DS_WATCH_TICK_MS);
}

/*
 * ds_watch_end
 *		Stops what ds_watch_begin started (the outermost call's end stops
 *		the timeout).
 */
static void
ds_watch_end(void)
{
	if (ds_watch_depth <= 0 || --ds_watch_depth > 0)
		return;
	disable_timeout(ds_watch_timeout, false);
}

/*
 * ds_watch_rte_server
 *		The foreign server of rte when it is a foreign table of a registered
 *		MySQL datasource, else NULL.  Only foreign tables are looked up, so
 *		other relations cost a field test.
 */
static ForeignServer *
ds_watch_rte_server(RangeTblEntry *rte)
{
	ForeignServer *server;
	const DsSource *src;

	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_FOREIGN_TABLE)
		return NULL;
	server = GetForeignServer(GetForeignTable(rte->relid)->serverid);
	src = ds_cache_source_by_server(server->servername);
	return src != NULL && src->engine == DS_ENGINE_MYSQL ? server : NULL;
}

/*
 * ds_watch_plan_server
 *		The server of the first foreign table of a MySQL datasource that a
 *		planned statement reads or writes, or NULL.
 */
static ForeignServer *
ds_watch_plan_server(PlannedStmt *stmt)
{
	ListCell   *lc;
	ForeignServer *server;

	foreach(lc, stmt->rtable)
		if ((server = ds_watch_rte_server(lfirst(lc))) != NULL)
			return server;
	return NULL;
}

/*
 * ds_watch_query_server
 *		ds_watch_plan_server for a query before planning: its range table,
 *		its subqueries' (views are subqueries by now) and its CTEs'.
 */
static ForeignServer *
ds_watch_query_server(Query *query)
{
	ListCell   *lc;
	ForeignServer *server;

	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL)
			server = ds_watch_query_server(rte->subquery);
		else
			server = ds_watch_rte_server(rte);
		if (server != NULL)
			return server;
	}
	foreach(lc, query->cteList)
	{
		CommonTableExpr *cte = lfirst(lc);

		if (IsA(cte->ctequery, Query) &&
			(server = ds_watch_query_server((Query *) cte->ctequery)) != NULL)
			return server;
	}
	return NULL;
}

/*
 * ds_watch_call
 *		Runs fn(arg), the next planner or executor hook, watched when server
 *		is not NULL.  When fn fails while an interrupt is pending, the error
 *		is what the watch's shutdown caused (mysql_fdw's lost connection or
 *		failed connect), so the interrupt is processed in its place (57014,
 *		or the end of the session); any other error goes on.
 */
static void
ds_watch_call(ForeignServer *server, void (*fn) (void *), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;

	if (server == NULL)
	{
		fn(arg);
		return;
	}
	ds_watch_begin(server);
	PG_TRY();
	{
		fn(arg);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		ds_watch_end();
		if (QueryCancelPending || ProcDiePending)
		{
			FlushErrorState();
			CHECK_FOR_INTERRUPTS();
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
	ds_watch_end();
}

/* the arguments of a hook, for ds_watch_call */
typedef struct DsWatchPlan
{
	Query	   *parse;
	const char *query_string;
	int			cursorOptions;
	ParamListInfo boundParams;
	PlannedStmt *result;
} DsWatchPlan;

typedef struct DsWatchExec
{
	QueryDesc  *queryDesc;
	int			eflags;
	ScanDirection direction;
	uint64		count;
	bool		execute_once;
} DsWatchExec;

static void
ds_watch_plan_call(void *arg)
{
	DsWatchPlan *a = arg;

	a->result = prev_planner ?
		prev_planner(a->parse, a->query_string, a->cursorOptions, a->boundParams) :
		standard_planner(a->parse, a->query_string, a->cursorOptions, a->boundParams);
}

static void
ds_watch_start_call(void *arg)
{
	DsWatchExec *a = arg;

	if (prev_executor_start)
		prev_executor_start(a->queryDesc, a->eflags);
	else
		standard_ExecutorStart(a->queryDesc, a->eflags);
}

static void
ds_watch_run_call(void *arg)
{
	DsWatchExec *a = arg;

	if (prev_executor_run)
		prev_executor_run(a->queryDesc, a->direction, a->count, a->execute_once);
	else
		standard_ExecutorRun(a->queryDesc, a->direction, a->count, a->execute_once);
}

/*
 * ds_watch_planner
 *		planner_hook: mysql_fdw connects to MySQL while the planner sizes
 *		its foreign tables, so planning is watched.
 */
static PlannedStmt *
ds_watch_planner(Query *parse, const char *query_string, int cursorOptions,
				 ParamListInfo boundParams)
{
	DsWatchPlan a = {parse, query_string, cursorOptions, boundParams, NULL};

	ds_watch_call(ds_watch_query_server(parse), ds_watch_plan_call, &a);
	return a.result;
}

/*
 * ds_watch_executor_start
 *		ExecutorStart_hook: mysql_fdw connects when a scan begins.
 */
static void
ds_watch_executor_start(QueryDesc *queryDesc, int eflags)
{
	DsWatchExec a = {queryDesc, eflags};

	ds_watch_call(ds_watch_plan_server(queryDesc->plannedstmt),
				  ds_watch_start_call, &a);
}

/*
 * ds_watch_executor_run
 *		ExecutorRun_hook: the statement's rows come from MySQL here.
 */
static void
ds_watch_executor_run(QueryDesc *queryDesc, ScanDirection direction,
					  uint64 count, bool execute_once)
{
	DsWatchExec a = {queryDesc, 0, direction, count, execute_once};

	ds_watch_call(ds_watch_plan_server(queryDesc->plannedstmt),
				  ds_watch_run_call, &a);
}

/*
 * ds_mysql_watch_init
 *		Installs the executor hooks, keeping the previous ones; called from
 *		_PG_init.
 */
void
ds_mysql_watch_init(void)
{
	prev_planner = planner_hook;
	planner_hook = ds_watch_planner;
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = ds_watch_executor_start;
	prev_executor_run = ExecutorRun_hook;
	ExecutorRun_hook = ds_watch_executor_run;
}
