# pg_datasource: PGXS build, plus the two commands of the README
# (make demo / make stop, make test).

EXTENSION = pg_datasource
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = pg_datasource
OBJS = \
	src/pg_datasource.o \
	src/guc.o \
	src/catalog.o \
	src/registry.o \
	src/config.o \
	src/validate.o \
	src/readonly.o \
	src/fdw.o \
	src/remoteio.o \
	src/connection.o \
	src/params.o \
	src/remoteprep.o \
	src/remote.o \
	src/rewrite.o \
	src/stmtcache.o \
	src/local.o \
	src/route.o \
	src/health.o \
	src/migrate.o \
	src/ddl_log.o \
	src/introspect.o \
	src/hooks.o

DATA = $(wildcard sql/$(EXTENSION)--*.sql)
PGFILEDESC = "pg_datasource - control plane for logical databases"

# pg_regress suites, in order (sql/NAME.sql, expected/NAME.out)
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
# servers, print "N passed, N failed".
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

stop:
	@test/demo/demo.sh stop
