# pg_datasource: PGXS build, plus the commands of the README
# (make demo / make stop, make test, make installcheck).

EXTENSION = pg_datasource
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = pg_datasource
OBJS = \
	src/pg_datasource.o \
	src/guc.o \
	src/names.o \
	src/args.o \
	src/spi.o \
	src/catalog.o \
	src/regcache.o \
	src/mysql_write.o \
	src/policy.o \
	src/sandbox.o \
	src/registry.o \
	src/config_doc.o \
	src/config.o \
	src/mysql.o \
	src/scan.o \
	src/walk.o \
	src/walk_utility.o \
	src/validate.o \
	src/readonly.o \
	src/sessionstate.o \
	src/fdw.o \
	src/remoteio.o \
	src/pooler.o \
	src/identity.o \
	src/connection.o \
	src/abort.o \
	src/commit.o \
	src/resolve.o \
	src/params.o \
	src/remoteprep.o \
	src/remote.o \
	src/rewrite.o \
	src/stmtcache.o \
	src/sink.o \
	src/local.o \
	src/route.o \
	src/health.o \
	src/mysql_watch.o \
	src/mysql_probe.o \
	src/mysql_import.o \
	src/mysql_health.o \
	src/subxact.o \
	src/checksum.o \
	src/script.o \
	src/journal.o \
	src/journal_batch.o \
	src/fleet.o \
	src/fleetpar.o \
	src/waves.o \
	src/progress.o \
	src/stats.o \
	src/stats_statements.o \
	src/stats_views.o \
	src/migrate.o \
	src/order.o \
	src/pending.o \
	src/ddl_log.o \
	src/parse.o \
	src/describe_query.o \
	src/describe.o \
	src/fingerprint.o \
	src/jsonschema.o \
	src/hooks.o \
	src/enforce.o

DATA = $(wildcard sql/$(EXTENSION)--*.sql)
PGFILEDESC = "pg_datasource - control plane for logical databases"

# pg_regress suites, in order (sql/NAME.sql, expected/NAME.out); registry
# creates the extension, the others need only that.  PGXS's
# `make installcheck` runs them against a running server (PGHOST, PGPORT,
# PGUSER: a superuser; it drops and creates database contrib_regression).
REGRESS = registry fdw config validate route migrate introspect

PG_CPPFLAGS = -I$(libpq_srcdir)
SHLIB_LINK += -lpq

EXTRA_CLEAN = build.log results regression.diffs regression.out test/isolation/output_iso

# Warnings are errors only where `make test` asks for it, never in a plain build.
TEST_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

.DEFAULT_GOAL := all

ifneq ($(PGXS),)
PG_MAJOR := $(shell $(PG_CONFIG) --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')
ifneq ($(PG_MAJOR),15)
$(error pg_datasource needs PostgreSQL 15; $(PG_CONFIG) is $(PG_MAJOR))
endif
include $(PGXS)
else
all:
	@echo "PostgreSQL 15 development files are missing: run 'make deps' (or 'make test' / 'make demo')" >&2; exit 1
endif

.PHONY: deps test demo stop

# Install what is missing on Debian 12 (root).
deps:
	@test/deps.sh

# Build with warnings as errors, install, run every test layer on throwaway
# servers, print "N passed, N failed, N skipped".  test/run.sh's variables
# given here pass on: make test PGDS_LAYERS=pgtap PGTAP=test/pgtap/08_migrate.sql
test: deps
	@$(MAKE) --no-print-directory clean >/dev/null
	@echo "building with $(TEST_CFLAGS)"
	@$(MAKE) --no-print-directory PG_CFLAGS="$(TEST_CFLAGS)" >build.log 2>&1 || { cat build.log; exit 1; }
	@$(MAKE) --no-print-directory install >>build.log 2>&1 || { cat build.log; exit 1; }
	@rm -f build.log
	@REGRESS="$(REGRESS)" test/run.sh

# Build, install, start the demo servers and load the demo.
demo: deps
	@$(MAKE) --no-print-directory
	@$(MAKE) --no-print-directory install >/dev/null
	@test/demo/demo.sh start

# Stop the demo servers and delete their directory (the demo's data too).
stop:
	@test/demo/demo.sh stop
