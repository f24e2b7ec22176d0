# choreoscope: one non-recursive Makefile.
#   make            build bin/ (release, -O2)
#   make test       install missing Debian packages, build, run every test (ASan+UBSan unit tests too)
#   make run        install, build, start the demo (broker, traffic with faults, collector, TUI)
#   make bench      benchmarks; writes BENCHMARKS.md
#   make asan       build the sanitizer variant under build/asan
#   make proptest   the determinism property test over 100,000 random cases
# Every collector/*/*.c except cmd/main.c goes into a static library that the daemon,
# the tools and the unit tests link (the stage folders: docs/architecture.md). Programs live one per folder (broker/, gen/, tui/).

SHELL := /bin/bash
CC ?= cc
PKGS := rdkafka libprotobuf-c yaml-0.1 libmicrohttpd yajl libxxhash sqlite3
TUI_PKGS := ncursesw libcurl jansson
WARN := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror
OPT ?= -O2 -g
B ?= build/release
SANFLAGS ?=

PC_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PC_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
TUI_CFLAGS := $(shell pkg-config --cflags $(TUI_PKGS) 2>/dev/null)
TUI_LIBS := $(shell pkg-config --libs $(TUI_PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

CFLAGS_ALL = $(WARN) $(OPT) $(SANFLAGS) -MMD -MP -Icollector -I$(B)/gen $(PC_CFLAGS) $(TUI_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)

PROTO := proto/choreoscope/v1/event.proto
PROTO_C := $(B)/gen/choreoscope/v1/event.pb-c.c
PROTO_O := $(PROTO_C:.c=.o)

LIB_SRC := $(filter-out collector/cmd/main.c,$(wildcard collector/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o) $(PROTO_O)
LIB := $(B)/libchoreo.a

define prog
$(1)_SRC := $(wildcard $(2)/*.c)
$(1)_OBJ := $$($(1)_SRC:%.c=$(B)/%.o)
$(B)/bin/$(1): $$($(1)_OBJ) $(LIB)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_ALL) -o $$@ $$($(1)_OBJ) $(LIB) $(3)
ALL_OBJ += $$($(1)_OBJ)
endef

ALL_OBJ := $(LIB_OBJ)
$(B)/bin/choreoscope: $(B)/collector/cmd/main.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $(B)/collector/cmd/main.o $(LIB) $(PC_LIBS)
ALL_OBJ += $(B)/collector/cmd/main.o
PROGRAMS := choreoscope
ifneq ($(wildcard broker/*.c),)
$(eval $(call prog,choreoscope-broker,broker,$(PC_LIBS)))
PROGRAMS += choreoscope-broker
endif
ifneq ($(wildcard gen/*.c),)
$(eval $(call prog,choreoscope-gen,gen,$(PC_LIBS)))
PROGRAMS += choreoscope-gen
endif
ifneq ($(wildcard tui/*.c),)
$(eval $(call prog,choreoscope-tui,tui,$(TUI_LIBS) $(PC_LIBS)))
PROGRAMS += choreoscope-tui
endif
ifneq ($(wildcard bench/*.c),)
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)
$(B)/bench/%: $(B)/bench/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(LIB) $(PC_LIBS)
ALL_OBJ += $(BENCH_SRC:%.c=$(B)/%.o)
endif

TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(B)/tests/%)
ALL_OBJ += $(TEST_SRC:%.c=$(B)/%.o)

.PHONY: all deps test unit e2e run bench asan tsan tsan-daemon clean format check-config-demo proptest
.DEFAULT_GOAL := all
.SECONDARY:

all: $(PROGRAMS:%=$(B)/bin/%) $(if $(B:build/release=),,link-bin)

# bin/ always points at the release build
link-bin: $(PROGRAMS:%=build/release/bin/%)
	@mkdir -p bin
	@for p in $(PROGRAMS); do ln -sf ../build/release/bin/$$p bin/$$p; done
.PHONY: link-bin

$(PROTO_C): $(PROTO)
	@mkdir -p $(B)/gen
	protoc-c --proto_path=proto --c_out=$(B)/gen $<

$(PROTO_O): $(PROTO_C)
	$(CC) $(CFLAGS_ALL) -Wno-unused-parameter -c -o $@ $<

# every object may include the generated header
$(B)/%.o: %.c $(PROTO_C)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/tests/%: $(B)/tests/unit/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $< $(LIB) $(CMOCKA_LIBS) $(PC_LIBS) $(TUI_LIBS)

# Fuzz targets (tests/fuzz/, docs/limits.md): each fuzz_<name>.c also links with
# replay_main.c into $(B)/fuzz/<name>, which replays a corpus without libFuzzer (gcc);
# `make fuzz` builds them with clang's libFuzzer under build/fuzz and runs each for
# FUZZ_SECONDS on a scratch copy of its corpus (new crashes land in build/fuzz/crashes).
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(filter-out tests/fuzz/fuzz_common.c,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(B)/fuzz/%)
FUZZ_TUI_SRC := tui/api.c tui/fmt.c
FUZZ_CFLAGS = $(CFLAGS_ALL) -Itests/fuzz -Itui
$(B)/fuzz/%.o: tests/fuzz/%.c $(PROTO_C)
	@mkdir -p $(@D)
	$(CC) $(FUZZ_CFLAGS) -c -o $@ $<
$(B)/fuzz/%: $(B)/fuzz/fuzz_%.o $(B)/fuzz/fuzz_common.o $(B)/fuzz/replay_main.o $(FUZZ_TUI_SRC:%.c=$(B)/%.o) $(LIB)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PC_LIBS) $(TUI_LIBS)
ALL_OBJ += $(FUZZ_NAMES:%=$(B)/fuzz/fuzz_%.o) $(B)/fuzz/fuzz_common.o $(B)/fuzz/replay_main.o

tests-bin: $(TEST_BIN) $(B)/bench/mkevents $(FUZZ_REPLAY)
.PHONY: tests-bin

FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
fuzz-bin:
	$(MAKE) B=build/fuzz CC=clang OPT="-O1 -g -fno-omit-frame-pointer" SANFLAGS="$(FUZZ_SAN)" \
	    build/fuzz/libchoreo.a $(FUZZ_TUI_SRC:%.c=build/fuzz/%.o) \
	    $(FUZZ_NAMES:%=build/fuzz/fuzz/fuzz_%.o) build/fuzz/fuzz/fuzz_common.o
	for n in $(FUZZ_NAMES); do \
	  clang -fsanitize=fuzzer,address,undefined -o build/fuzz/lf_$$n build/fuzz/fuzz/fuzz_$$n.o \
	    build/fuzz/fuzz/fuzz_common.o $(FUZZ_TUI_SRC:%.c=build/fuzz/%.o) build/fuzz/libchoreo.a \
	    $(PC_LIBS) $(TUI_LIBS) || exit 1; done
fuzz: deps fuzz-bin
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)
.PHONY: fuzz fuzz-bin

deps:
	@scripts/install-deps.sh

asan:
	$(MAKE) B=build/asan OPT="-O1 -g -fno-omit-frame-pointer" SANFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined" all tests-bin

# ThreadSanitizer build of the threaded HTTP code and its test (the HTTP threads and
# the engine thread meet in snapshot.c); tests/e2e/http_tsan.sh runs it.
TSAN_SRC := $(addprefix collector/,http/http_api.c http/http_publish.c http/snapshot.c \
	out/metrics.c out/metrics_render.c lib/jbuf.c http/api_render.c http/api_flows.c http/http_guard.c \
	lib/timefmt.c config/config.c config/config_types.c config/config_yaml.c \
	config/config_flows.c engine/flowgraph.c http/api_args.c state/history_read.c)
tsan: build/tsan/test_http_api build/tsan/test_snapshot build/tsan/test_history
# The history store's writer thread against the engine thread: the whole library.
build/tsan/test_history: tests/unit/test_history.c $(LIB_SRC) $(PROTO_C)
	@mkdir -p $(@D)
	$(CC) $(WARN) -Wno-unused-parameter -O1 -g -fsanitize=thread -Icollector -I$(B)/gen $(PC_CFLAGS) \
	    -o $@ $^ $(CMOCKA_LIBS) $(PC_LIBS) $(TUI_LIBS)
build/tsan/test_%: tests/unit/test_%.c $(TSAN_SRC)
	@mkdir -p $(@D)
	$(CC) $(WARN) -O1 -g -fsanitize=thread -Icollector $(PC_CFLAGS) $(TUI_CFLAGS) -o $@ \
	    $^ $(CMOCKA_LIBS) $(PC_LIBS) $(TUI_LIBS)

# The daemon under ThreadSanitizer (engine shards: the main thread, the shard threads,
# the HTTP threads, the history and checkpoint writers); tests/e2e/shards_tsan.sh runs
# it at 2 and 4 engine threads with tests/tsan/librdkafka.supp (librdkafka itself is
# not instrumented).
tsan-daemon: build/tsan/choreoscope
# tests/tsan/thrd_shim.c: librdkafka's C11 threads through TSan's pthread interceptors.
build/tsan/choreoscope: collector/cmd/main.c $(LIB_SRC) $(PROTO_C) tests/tsan/thrd_shim.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -Wno-unused-parameter -O1 -g -fsanitize=thread -rdynamic -Icollector -I$(B)/gen \
	    $(PC_CFLAGS) -o $@ $^ $(PC_LIBS)

test: deps
	$(MAKE) all tests-bin
	$(MAKE) asan
	tests/run.sh

unit: all tests-bin
	tests/run.sh --unit-only

# The determinism property test at length (make test runs 5,000 of its cases).
proptest: $(B)/tests/test_engine_property
	PROPTEST_CASES=$${PROPTEST_CASES:-100000} $(B)/tests/test_engine_property

run: deps all
	scripts/demo.sh

bench: deps
	$(MAKE) all $(BENCH_BIN)
	bench/run.sh

# make install [PREFIX=/usr/local] [DESTDIR=...]: the programs and their man pages.
PREFIX ?= /usr/local
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(PROGRAMS:%=build/release/bin/%) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 docs/man/choreoscope.1 docs/man/choreoscope-tui.1 $(DESTDIR)$(PREFIX)/share/man/man1/
.PHONY: install

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

-include $(ALL_OBJ:.o=.d)
