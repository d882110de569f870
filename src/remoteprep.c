/*-------------------------------------------------------------------------
 *
 * remoteprep.c
 *		  The statements kept prepared on a remote connection.
 *
 * Statements routed more than once are prepared on the remote connection
 * (named pgds_<n>, numbered per connection and never reused), so that the
 * remote parses and plans them once.  The connection itself remembers which
 * statements it ran once (the keys of the last DS_SEEN_MAX, see
 * ds_seen_before); the statement cache of stmtcache.c cannot say, since any
 * catalog change anywhere, autovacuum's included, empties it.  Then the
 * Parse goes in the same pipeline as the first execution, and later
 * executions send only Bind and Execute (remote.c sends them).  A
 * connection keeps at most datasource.remote_prepared_statements of them;
 * past that the least recently used one is deallocated, in a sync group of
 * its own in front of a statement that runs outside a remote transaction
 * (inside one, a full connection simply prepares no new statement).
 * Prepared statements are keyed by search_path, parameter count and text,
 * since the same text names other tables under another path.  PREPARE is
 * not transactional, so a remote rollback leaves them in place.  They are
 * forgotten with the remote session, and all of them when a statement that
 * ran there reports DEALLOCATE or DISCARD, or an execution finds its
 * statement gone (26000).  An execution that fails because DDL changed the
 * statement's result type (0A000 raised by the remote's plan cache,
 * recognised by the source file the error reports, which is never
 * translated) forgets that one; remote.c runs the call again at once when
 * nothing of it can have taken effect: outside a remote transaction,
 * before any row.
 *
 * What a connection has prepared is kept per remote session: the entry's
 * session counter (connection.c counts the connections it makes) tells
 * when the statements recorded belong to a session that is gone.
 *
 * Memory: each connection's statements live in a child of TopMemoryContext
 * ("pg_datasource remote prepared statements"), emptied when its session
 * changes; the lists of names to deallocate are allocated there too.
 *
 * IDENTIFICATION
 *		  src/remoteprep.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "utils/memutils.h"

#include "pg_datasource.h"

/* how many statements routed once a connection remembers */
#define DS_SEEN_MAX 256

typedef struct DsPrepared
{
	uint32		hash;			/* of path, nparams and text */
	int			id;				/* the statement is pgds_<id> */
	int			nparams;
	uint64		used;			/* the connection's clock at the last use */
	char	   *path;
	char	   *sql;
} DsPrepared;

/* what a connection's session has prepared and has seen (entry->statements) */
typedef struct DsStatements
{
	uint64		session;		/* the entry's session these belong to */
	MemoryContext cxt;			/* all of the below */
	DsPrepared *prepared;		/* nprepared of maxprepared */
	int			nprepared;
	int			maxprepared;
	int			seq;			/* the number of the last name given */
	uint64		clock;			/* counts uses, for the LRU */
	uint32		seen[DS_SEEN_MAX];	/* keys of statements routed once, a
									 * ring of nseen (see ds_seen_before) */
	int			nseen;
	int			seen_next;
	List	   *dealloc;		/* int: names to DEALLOCATE when we can */
} DsStatements;

/*
 * ds_statements
 *		The prepared statements of the entry's current session, emptied
 *		first if the connection was made again since they were recorded (a
 *		new session has none of them).
 */
static DsStatements *
ds_statements(DsConn *entry)
{
	DsStatements *s = entry->statements;

	if (s == NULL)
	{
		s = MemoryContextAllocZero(TopMemoryContext, sizeof(DsStatements));
		s->cxt = AllocSetContextCreate(TopMemoryContext,
									   "pg_datasource remote prepared statements",
									   ALLOCSET_SMALL_SIZES);
		s->session = entry->session;
		entry->statements = s;
	}
	else if (s->session != entry->session)
	{
		MemoryContextReset(s->cxt);
		s->prepared = NULL;
		s->nprepared = 0;
		s->maxprepared = 0;
		s->nseen = 0;
		s->seen_next = 0;
		s->dealloc = NIL;
		s->session = entry->session;
	}
	return s;
}

/*
 * ds_prepared_hash
 *		The key of a statement text under a search_path.
 */
static uint32
ds_prepared_hash(const char *path, const char *sql, int nparams)
{
	uint32		h = hash_bytes((const unsigned char *) sql, strlen(sql));

	h = hash_combine(h, hash_bytes((const unsigned char *) path, strlen(path)));
	return hash_combine(h, hash_uint32((uint32) nparams));
}

/*
 * ds_seen_before
 *		Whether the session ran the statement of key hash once before; if
 *		not, it is remembered now.  A ring of the last DS_SEEN_MAX keys: a
 *		statement routed again only after that many others is prepared a
 *		call later, and two statements sharing a key only lose a call.
 */
static bool
ds_seen_before(DsStatements *s, uint32 hash)
{
	int			i;

	for (i = 0; i < s->nseen; i++)
		if (s->seen[i] == hash)
			return true;
	s->seen[s->seen_next] = hash;
	s->seen_next = (s->seen_next + 1) % DS_SEEN_MAX;
	if (s->nseen < DS_SEEN_MAX)
		s->nseen++;
	return false;
}

/*
 * ds_prepared_find
 *		The session's prepared statement for sql under path, or NULL.
 */
static DsPrepared *
ds_prepared_find(DsStatements *s, const char *path, const char *sql,
				 int nparams, uint32 hash)
{
	int			i;

	for (i = 0; i < s->nprepared; i++)
	{
		DsPrepared *p = &s->prepared[i];

		if (p->hash == hash && p->nparams == nparams &&
			strcmp(p->sql, sql) == 0 && strcmp(p->path, path) == 0)
			return p;
	}
	return NULL;
}

/*
 * ds_prepared_forget
 *		Forgets one prepared statement (p) or, with p NULL, all of them.
 *		dealloc: the remote may still have them, so DEALLOCATE them with a
 *		later statement that runs outside a remote transaction; otherwise the
 *		remote certainly has them no more.  Names are never used twice, so a
 *		statement left behind on the remote is only a waste.
 */
static void
ds_prepared_forget(DsStatements *s, DsPrepared *p, bool dealloc)
{
	MemoryContext old;

	if (p == NULL)
	{
		while (s->nprepared > 0)
			ds_prepared_forget(s, &s->prepared[0], dealloc);
		return;
	}
	if (dealloc)
	{
		old = MemoryContextSwitchTo(s->cxt);
		s->dealloc = lappend_int(s->dealloc, p->id);
		MemoryContextSwitchTo(old);
	}
	pfree(p->path);
	pfree(p->sql);
	*p = s->prepared[--s->nprepared];
}

/*
 * ds_prepared_add
 *		Records a new prepared statement of the session (before its Parse is
 *		sent; the caller forgets it again if the Parse fails) and returns
 *		it.  The session must have room.
 */
static DsPrepared *
ds_prepared_add(DsStatements *s, const char *path, const char *sql,
				int nparams, uint32 hash)
{
	DsPrepared *p;

	if (s->nprepared == s->maxprepared)
	{
		int			max = Max(s->maxprepared * 2, 8);

		if (s->prepared == NULL)
			s->prepared = MemoryContextAlloc(s->cxt, sizeof(DsPrepared) * max);
		else
			s->prepared = repalloc(s->prepared, sizeof(DsPrepared) * max);
		s->maxprepared = max;
	}
	p = &s->prepared[s->nprepared++];
	p->hash = hash;
	p->id = ++s->seq;
	p->nparams = nparams;
	p->used = ++s->clock;
	p->path = MemoryContextStrdup(s->cxt, path);
	p->sql = MemoryContextStrdup(s->cxt, sql);
	return p;
}

/*
 * ds_prepared_lru
 *		The least recently used prepared statement of the session.
 */
static DsPrepared *
ds_prepared_lru(DsStatements *s)
{
	DsPrepared *lru = NULL;
	int			i;

	for (i = 0; i < s->nprepared; i++)
		if (lru == NULL || s->prepared[i].used < lru->used)
			lru = &s->prepared[i];
	return lru;
}

/*
 * ds_stale_plan
 *		Whether an error result says that DDL changed the result type of a
 *		prepared statement ("cached plan must not change result type"): the
 *		remote's plan cache raises it as 0A000.  Recognised by the source
 *		file the remote reports, never by the message, which may be in
 *		another language.
 */
static bool
ds_stale_plan(const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *file = PQresultErrorField(res, PG_DIAG_SOURCE_FILE);

	return state != NULL && strcmp(state, "0A000") == 0 &&
		file != NULL && strcmp(file, "plancache.c") == 0;
}

/*
 * ds_prepared_find_id
 *		The session's prepared statement numbered id, or NULL.
 */
static DsPrepared *
ds_prepared_find_id(DsStatements *s, int id)
{
	int			i;

	for (i = 0; i < s->nprepared; i++)
		if (s->prepared[i].id == id)
			return &s->prepared[i];
	return NULL;
}

/*
 * ds_prepared_use
 *		The number of the prepared statement a statement runs as on the
 *		entry's connection, or 0 to send its text.  prepare: the statement
 *		may be prepared, which it is now if the session ran it before
 *		(*prepare_now: the caller sends its Parse first, in the same
 *		pipeline; the statement counts as prepared from now on, and the
 *		caller drops it if the Parse was not sent or failed).  in_xact: a
 *		remote transaction is open, so no statement is evicted to make room
 *		(the deallocation would have to wait).
 */
int
ds_prepared_use(DsConn *entry, const char *path, const char *sql,
				int nparams, bool prepare, bool in_xact, bool *prepare_now)
{
	DsStatements *s = ds_statements(entry);
	DsPrepared *p;
	uint32		hash;

	*prepare_now = false;
	if (path == NULL || ds_remote_prepared_max <= 0 ||
		(!prepare && s->nprepared == 0))
		return 0;
	hash = ds_prepared_hash(path, sql, nparams);
	p = ds_prepared_find(s, path, sql, nparams, hash);
	if (p != NULL)
	{
		p->used = ++s->clock;
		return p->id;
	}
	if (!prepare || !ds_seen_before(s, hash))
		return 0;
	/* full: make room, outside a remote transaction only */
	while (s->nprepared >= ds_remote_prepared_max && !in_xact)
		ds_prepared_forget(s, ds_prepared_lru(s), true);
	if (s->nprepared >= ds_remote_prepared_max)
		return 0;
	*prepare_now = true;
	return ds_prepared_add(s, path, sql, nparams, hash)->id;
}

/*
 * ds_prepared_take_deallocs
 *		The numbers of the statements the remote may still have although
 *		they are forgotten: the caller DEALLOCATEs them outside a remote
 *		transaction.  The list is the caller's (it lives as long as the
 *		session's statements); if they could not be sent, the caller gives
 *		them back with ds_prepared_keep_deallocs.
 */
List *
ds_prepared_take_deallocs(DsConn *entry)
{
	DsStatements *s = ds_statements(entry);
	List	   *ids = s->dealloc;

	s->dealloc = NIL;
	return ids;
}

void
ds_prepared_keep_deallocs(DsConn *entry, List *ids)
{
	DsStatements *s = ds_statements(entry);
	MemoryContext old = MemoryContextSwitchTo(s->cxt);

	s->dealloc = list_concat(s->dealloc, ids);
	MemoryContextSwitchTo(old);
}

/*
 * ds_prepared_drop
 *		The statement numbered id is not on the remote (its Parse was not
 *		sent or failed): forget it.
 */
void
ds_prepared_drop(DsConn *entry, int id)
{
	DsStatements *s = ds_statements(entry);
	DsPrepared *p = ds_prepared_find_id(s, id);

	if (p != NULL)
		ds_prepared_forget(s, p, false);
}

/*
 * ds_prepared_failed
 *		An execution of the prepared statement numbered id failed with
 *		error.  If the remote lost the statement (26000: DEALLOCATE or
 *		DISCARD ran there some other way) all of the session's are
 *		forgotten; if DDL changed its result type, that one.  Returns
 *		whether it was forgotten: then running the statement again prepares
 *		it anew.
 */
bool
ds_prepared_failed(DsConn *entry, int id, const PGresult *error)
{
	DsStatements *s = ds_statements(entry);
	const char *state = PQresultErrorField(error, PG_DIAG_SQLSTATE);
	DsPrepared *p;

	if (state != NULL && strcmp(state, "26000") == 0)
	{
		ds_prepared_forget(s, NULL, true);
		return true;
	}
	if (ds_stale_plan(error) && (p = ds_prepared_find_id(s, id)) != NULL)
	{
		ds_prepared_forget(s, p, true);
		return true;
	}
	return false;
}

/*
 * ds_prepared_status
 *		A statement ran on the entry's connection with the command status
 *		given: DEALLOCATE ALL or DISCARD ALL dropped the session's prepared
 *		statements; a DEALLOCATE may have dropped one of them, so all are
 *		forgotten (and deallocated, should they still be there).
 */
void
ds_prepared_status(DsConn *entry, const char *status)
{
	DsStatements *s = ds_statements(entry);

	if (s->nprepared == 0)
		return;
	if (strcmp(status, "DEALLOCATE ALL") == 0 ||
		strcmp(status, "DISCARD ALL") == 0)
		ds_prepared_forget(s, NULL, false);
	else if (strcmp(status, "DEALLOCATE") == 0)
		ds_prepared_forget(s, NULL, true);
}
