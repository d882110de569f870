-- 10_route_cache: a statement routed again gives the answer a first routing
-- would give, whatever changed in between: the backend's cache of routed
-- statements (stmtcache.c) is keyed by role, search_path and
-- standard_conforming_strings and forgets what DDL, the registry or a
-- remap made stale; local plans (local.c) follow
-- standard_conforming_strings too.  Every check routes the same text at
-- least twice before the change, so the second routing is served from the
-- cache and the one after the change would be stale if it were kept.
-- datasource.statement_cache() shows what the cache served: a routing
-- checked through pg_temp.routed() below says whether it was a hit.
BEGIN;
SELECT plan(28);

-- ------------------------------------------------------------ fixture
SET LOCAL client_min_messages = warning;
DO $$ BEGIN
    PERFORM datasource.create_database('cache_ro', read_only => true);
    PERFORM datasource.create_database('cache_rw');
    PERFORM datasource.create_database('cache_map', schema_name => 'cache_s_a');
END $$;
CREATE SCHEMA cache_s_b;
CREATE TABLE cache_s_a.t (v text);
CREATE TABLE cache_s_b.t (v text);
INSERT INTO cache_s_a.t VALUES ('a');
INSERT INTO cache_s_b.t VALUES ('b');
CREATE TABLE cache_rw.items (id int, name text);
INSERT INTO cache_rw.items VALUES (1, 'one');
CREATE FUNCTION cache_ro.f() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
CREATE FUNCTION cache_ro.vol() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 2';
-- on a remote logical database, an unqualified g() is judged as the
-- session's search_path resolves it here: immutable in one schema, volatile
-- in the other (the server does not answer: a statement found read-only
-- fails to connect, 08001, one that is not is refused first, 25006)
CREATE SERVER cache_srv FOREIGN DATA WRAPPER pg_datasource OPTIONS (host '127.0.0.1', port '1', dbname 'x');
CREATE USER MAPPING FOR PUBLIC SERVER cache_srv OPTIONS (user 'x', password 'y');
GRANT USAGE ON FOREIGN SERVER cache_srv TO PUBLIC;
DO $$ BEGIN
    PERFORM datasource.create_source('cache_remote', 'cache_srv', read_only => true);
END $$;
INSERT INTO datasource.databases (name, source, schema_name) VALUES ('cache_rdb', 'cache_remote', 'rs');
CREATE SCHEMA cache_p_imm;
CREATE SCHEMA cache_p_vol;
CREATE FUNCTION cache_p_imm.g() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 3';
CREATE FUNCTION cache_p_vol.g() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 4';
-- and through "$user": two roles with a schema each
CREATE ROLE cache_u_imm;
CREATE ROLE cache_u_vol;
CREATE SCHEMA cache_u_imm AUTHORIZATION cache_u_imm;
CREATE SCHEMA cache_u_vol AUTHORIZATION cache_u_vol;
CREATE FUNCTION cache_u_imm.g() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 5';
CREATE FUNCTION cache_u_vol.g() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 6';
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA cache_u_imm, cache_u_vol TO PUBLIC;
GRANT EXECUTE ON FUNCTION datasource.statement_cache() TO cache_u_imm, cache_u_vol;
-- routed(q): runs q, a query of one text value, and returns that value (or
-- the SQLSTATE q raised) and whether the statement cache served the one
-- statement q routes: "from the cache" when its hit counter moved and its
-- miss counter did not, "validated" for the opposite
CREATE FUNCTION pg_temp.routed(q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    before record;
    after record;
    answer text;
BEGIN
    SELECT * INTO before FROM datasource.statement_cache();
    BEGIN
        EXECUTE q INTO answer;
    EXCEPTION WHEN OTHERS THEN
        answer := 'SQLSTATE ' || SQLSTATE;
    END;
    SELECT * INTO after FROM datasource.statement_cache();
    RETURN answer || ' (' || CASE
        WHEN after.hits = before.hits + 1 AND after.misses = before.misses THEN 'from the cache'
        WHEN after.hits = before.hits AND after.misses = before.misses + 1 THEN 'validated'
        ELSE format('hits +%s, misses +%s', after.hits - before.hits, after.misses - before.misses)
        END || ')';
END
$f$;
CREATE TEMP TABLE cache_mark AS SELECT resets FROM datasource.statement_cache();
RESET client_min_messages;

-- ------------------------------------------------------------ DDL
SELECT is(pg_temp.routed($$SELECT x::text FROM datasource.query('cache_ro', 'SELECT cache_ro.f()') AS t(x int)$$),
          '1 (validated)', 'an immutable function is read-only');
SELECT is(pg_temp.routed($$SELECT x::text FROM datasource.query('cache_ro', 'SELECT cache_ro.f()') AS t(x int)$$),
          '1 (from the cache)', 'and routes again from the cache');
UPDATE cache_mark SET resets = (SELECT resets FROM datasource.statement_cache());
SELECT cmp_ok((SELECT entries FROM datasource.statement_cache()), '>', 0::bigint,
              'the statement cache holds what was routed');
ALTER FUNCTION cache_ro.f() VOLATILE;
SELECT is((SELECT format('%s entries, emptied %s times', c.entries, c.resets - m.resets)
             FROM datasource.statement_cache() c, cache_mark m),
          '0 entries, emptied 1 times', 'ALTER FUNCTION empties the statement cache');
SELECT throws_ok($$SELECT * FROM datasource.query('cache_ro', 'SELECT cache_ro.f()') AS t(x int)$$,
                 '25006', 'logical database "cache_ro" is read-only',
                 'ALTER FUNCTION ... VOLATILE: the cached verdict is dropped and the statement refused');
ALTER FUNCTION cache_ro.f() IMMUTABLE;
SELECT is(pg_temp.routed($$SELECT x::text FROM datasource.query('cache_ro', 'SELECT cache_ro.f()') AS t(x int)$$),
          '1 (validated)', 'and back to IMMUTABLE: allowed again');

-- ------------------------------------------------------------ the registry
SELECT is(pg_temp.routed($$SELECT v FROM datasource.query('cache_map', 'SELECT v FROM cache_map.t') AS t(v text)$$),
          'a (validated)', 'a logical qualifier is rewritten to the mapped schema');
SELECT is(pg_temp.routed($$SELECT v FROM datasource.query('cache_map', 'SELECT v FROM cache_map.t') AS t(v text)$$),
          'a (from the cache)', 'and again, from the cache');
SELECT is((datasource.alter_database('cache_map', schema_name => 'cache_s_b')).schema_name, 'cache_s_b',
          'remap the logical database');
SELECT is(pg_temp.routed($$SELECT v FROM datasource.query('cache_map', 'SELECT v FROM cache_map.t') AS t(v text)$$),
          'b (validated)', 'after a remap the qualifier is rewritten to the new schema');
SELECT is((SELECT v FROM datasource.query('cache_map', 'SELECT v FROM t') AS t(v text)), 'b',
          'and unqualified names resolve there');

SELECT is(pg_temp.routed($$SELECT datasource.exec('cache_rw', 'UPDATE items SET name = name')$$),
          'UPDATE 1 (validated)', 'a write');
SELECT is(pg_temp.routed($$SELECT datasource.exec('cache_rw', 'UPDATE items SET name = name')$$),
          'UPDATE 1 (from the cache)', 'the same write again, from the cache');
SELECT is((datasource.alter_database('cache_rw', read_only => true)).read_only, true,
          'the logical database becomes read-only');
SELECT throws_ok($$SELECT datasource.exec('cache_rw', 'UPDATE items SET name = name')$$,
                 '25006', 'logical database "cache_rw" is read-only',
                 'the cached write is refused once the database is read-only');

-- ------------------------------------------------------------ search_path
SET LOCAL search_path = cache_p_imm, public;
SELECT is(pg_temp.routed($$SELECT x::text FROM datasource.query('cache_rdb', 'SELECT g()') AS t(x int)$$),
          'SQLSTATE 08001 (validated)', 'search_path with an immutable g(): read-only, routed');
SELECT is(pg_temp.routed($$SELECT x::text FROM datasource.query('cache_rdb', 'SELECT g()') AS t(x int)$$),
          'SQLSTATE 08001 (from the cache)', 'the same, from the cache');
SET LOCAL search_path = cache_p_vol, public;
SELECT is(pg_temp.routed($$SELECT x::text FROM datasource.query('cache_rdb', 'SELECT g()') AS t(x int)$$),
          'SQLSTATE 25006 (validated)', 'another search_path with a volatile g(): refused, not the cached verdict');

-- ------------------------------------------------------------ role
SET LOCAL search_path = "$user", public;
SET LOCAL ROLE cache_u_imm;
SELECT is(pg_temp.routed($$SELECT x::text FROM datasource.query('cache_rdb', 'SELECT g()') AS t(x int)$$),
          'SQLSTATE 08001 (validated)', 'a role whose "$user" schema has an immutable g(): routed');
SELECT is(pg_temp.routed($$SELECT x::text FROM datasource.query('cache_rdb', 'SELECT g()') AS t(x int)$$),
          'SQLSTATE 08001 (from the cache)', 'the same, from the cache');
RESET ROLE;
SET LOCAL ROLE cache_u_vol;
SELECT is(pg_temp.routed($$SELECT x::text FROM datasource.query('cache_rdb', 'SELECT g()') AS t(x int)$$),
          'SQLSTATE 25006 (validated)', 'another role, whose g() is volatile: refused, not the cached verdict');
RESET ROLE;
SET LOCAL search_path = public;

-- ------------------------------------------------------------ standard_conforming_strings
-- the same text is one literal with them off, and a literal, a call of a
-- volatile function and a comment with them on
SET LOCAL client_min_messages = error;	-- escape_string_warning
SET LOCAL standard_conforming_strings = off;
SELECT is(pg_temp.routed($r$SELECT v FROM datasource.query('cache_ro', $q$SELECT 'a\' || cache_ro.vol()::text AS v --'$q$) AS t(v text)$r$),
          $v$a' || cache_ro.vol()::text AS v -- (validated)$v$,
          'standard_conforming_strings off: one literal, read-only');
SELECT is(pg_temp.routed($r$SELECT v FROM datasource.query('cache_ro', $q$SELECT 'a\' || cache_ro.vol()::text AS v --'$q$) AS t(v text)$r$),
          $v$a' || cache_ro.vol()::text AS v -- (from the cache)$v$,
          'the same, from the cache');
SET LOCAL standard_conforming_strings = on;
SELECT is(pg_temp.routed($r$SELECT v FROM datasource.query('cache_ro', $q$SELECT 'a\' || cache_ro.vol()::text AS v --'$q$) AS t(v text)$r$),
          'SQLSTATE 25006 (validated)', 'standard_conforming_strings on: it calls a volatile function, refused');

-- local plans too: the text is parsed again under the other setting
SELECT is(pg_temp.routed($r$SELECT v FROM datasource.query('cache_map', $q$SELECT 'a\' AS v --'$q$) AS t(v text)$r$),
          'a\ (validated)', 'standard_conforming_strings on: the literal ends at the quote');
SELECT is(pg_temp.routed($r$SELECT v FROM datasource.query('cache_map', $q$SELECT 'a\' AS v --'$q$) AS t(v text)$r$),
          'a\ (from the cache)', 'the same, from the caches');
SET LOCAL standard_conforming_strings = off;
SELECT is(pg_temp.routed($r$SELECT v FROM datasource.query('cache_map', $q$SELECT 'a\' AS v --'$q$) AS t(v text)$r$),
          $v$a' AS v -- (validated)$v$, 'standard_conforming_strings off: the same text is one literal, planned anew');
SET LOCAL standard_conforming_strings = on;
RESET client_min_messages;

-- a statement_timeout during execute() ends the calling statement: it is not
-- reported as a result row (execute() reports the statement's own errors)
CREATE FUNCTION pg_temp.timed_execute() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE r datasource.query_result;
BEGIN
	SELECT * INTO r FROM datasource.execute('cache_ro', 'SELECT count(*) FROM generate_series(1, 500000000)');
	RETURN 'reported: ' || coalesce(r.sqlstate, 'none');
EXCEPTION WHEN query_canceled THEN
	RETURN 'raised';
END
$$;
SET LOCAL statement_timeout = '200ms';
SELECT is(pg_temp.timed_execute(), 'raised', 'execute(): a statement_timeout is raised, not reported as a row');
SET LOCAL statement_timeout = 0;

SELECT * FROM finish();
ROLLBACK;
