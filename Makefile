# yuncang — `make run` starts the embedded default, `make test` builds and passes every test.
# Each module folder (common/ erasure/ meta/ store/ gateway/ gateway/s3/) builds a static library
# from its *.c (and *.cc); binaries come from <module>/cmd/*.c and land in bin/.
#
# Layers: a library uses only those below it, never one above (tests/check-layers.sh checks the
# includes, these link lines and the libraries' symbols; `make test` and `make lint` run it):
#   common  <-  erasure, meta  <-  store  <-  gateway (with s3, which uses only common)

CC      ?= cc
CXX     ?= c++
OPT     ?= -O2 -g
CFLAGS  += $(OPT) -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -pthread \
           -D_GNU_SOURCE -DH2O_USE_EPOLL=1 -I.
# C++ only for meta/meta_rocksdb.cc, the few RocksDB options its C API does not reach
CXXFLAGS += $(OPT) -std=c++17 -Wall -Wextra -Wno-unused-parameter -pthread -D_GNU_SOURCE -I.
LDLIBS  += -lh2o-evloop -lnghttp2 -lrocksdb -lisal -lxxhash -lssl -lcrypto -lexpat -ljansson -lyaml -lz -lstdc++ -lpthread -lm
BUILD   ?= build
BIN     ?= bin

# module name -> folder; libraries are listed so that each comes before what it uses, which is
# the order a linker reads them in (one pass, no group)
MODULES  := gateway s3 store meta erasure common
DIR_gateway := gateway
DIR_s3      := gateway/s3
DIR_store   := store
DIR_meta    := meta
DIR_erasure := erasure
DIR_common  := common
# what each module may use, itself first, in link order
DEPS_common  := common
DEPS_erasure := erasure common
DEPS_meta    := meta common
DEPS_store   := store meta erasure common
DEPS_s3      := s3 common
DEPS_gateway := gateway s3 store meta erasure common
LIBS     := $(foreach m,$(MODULES),$(BUILD)/lib$(m).a)
deps_libs = $(foreach m,$(DEPS_$(1)),$(BUILD)/lib$(m).a)
CMDS     := gateway/cmd/yc-gateway.c gateway/cmd/yc-admin.c store/cmd/yc-store.c
BINARIES := $(patsubst %.c,$(BIN)/%,$(notdir $(wildcard $(CMDS))))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(BIN)/%,$(BENCH_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all deps run test unit integration fault asan fuzz bench lint format format-check clean deb
# Object files built through a chain of pattern rules (the binaries', the benchmarks', the unit
# tests') are intermediate to make, which deletes them after the build: a later `make deb` (run by
# a test while others run gateways) would then rebuild them and relink bin/ under running tests.
.SECONDARY:
.DEFAULT_GOAL := all

# test servers for real clients in tests/integration (tests/<name>.c, common only)
TEST_SERVERS := $(BUILD)/tests/http_echo
# test tools that print what the gateway's modules produce, for other parsers (tests/<name>.c)
GW_TEST_TOOLS := $(BUILD)/tests/metrics_dump $(BUILD)/tests/record_dump
# fault injectors preloaded into daemons by tests/fault (tests/fault/<name>.c)
FAULT_SHIMS := $(BUILD)/tests/sync_fault.so

all: $(LIBS) $(BINARIES) $(UNIT_BIN) $(BENCH_BIN) $(TEST_SERVERS) $(GW_TEST_TOOLS) $(FAULT_SHIMS)

define module_rules
$(1)_SRC := $$(wildcard $$(DIR_$(1))/*.c) $$(wildcard $$(DIR_$(1))/*.cc)
$(1)_OBJ := $$(patsubst %.cc,$(BUILD)/%.o,$$(patsubst %.c,$(BUILD)/%.o,$$($(1)_SRC)))
$(BUILD)/lib$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

# the web console's files (gateway/console/) become a C table inside libgateway (gw_console.h)
CONSOLE_FILES := $(filter-out %.py,$(wildcard gateway/console/*))
$(BUILD)/gateway/console/files.c: $(CONSOLE_FILES) gateway/console/embed.py
	@mkdir -p $(@D)
	/usr/bin/python3 gateway/console/embed.py $(CONSOLE_FILES) > $@.tmp && mv $@.tmp $@
$(BUILD)/gateway/console/files.o: $(BUILD)/gateway/console/files.c
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/libgateway.a: $(BUILD)/gateway/console/files.o

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@
$(BUILD)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -MMD -MP -c $< -o $@

# A binary links the libraries of its module and those below, in layer order.
$(BIN)/%: $(BUILD)/gateway/cmd/%.o $(call deps_libs,gateway)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< $(call deps_libs,gateway) $(LDLIBS) -o $@
$(BIN)/%: $(BUILD)/store/cmd/%.o $(call deps_libs,store)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< $(call deps_libs,store) $(LDLIBS) -o $@
# the benchmarks stand outside the layers: each links what it drives
BENCH_DEPS_ec_bench := erasure
BENCH_DEPS_yc-bench := s3
BENCH_DEPS_policy_bench := s3
BENCH_DEPS_metrics_bench := common
BENCH_DEPS_sm4_bench := common
BENCH_DEPS_datapass_bench := gateway
.SECONDEXPANSION:
$(BIN)/%: $(BUILD)/bench/%.o $$(call deps_libs,$$(BENCH_DEPS_$$*))
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< $(call deps_libs,$(BENCH_DEPS_$*)) $(LDLIBS) -o $@
# A unit test links its module's library and what that module may use, so one module's tests
# build while another module is half-written (test_gw_* are the gateway's, test_http common's).
test_module = $(patsubst ghash,common,$(patsubst sm4,common,$(patsubst http,common,$(patsubst gw,gateway,$(firstword $(subst _, ,$(patsubst test_%,%,$(1))))))))
test_libs = $(call deps_libs,$(call test_module,$(1)))
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $$(call test_libs,%)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< $(call test_libs,$*) $(LDLIBS) -o $@

$(TEST_SERVERS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(call deps_libs,common)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< $(call deps_libs,common) $(LDLIBS) -o $@

$(GW_TEST_TOOLS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(call deps_libs,gateway)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< $(call deps_libs,gateway) $(LDLIBS) -o $@

$(FAULT_SHIMS): $(BUILD)/tests/%.so: tests/fault/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -fPIC $< -ldl -o $@

# the client test starts a real yc-store daemon
$(BUILD)/tests/test_store_client: | $(BIN)/yc-store

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Debian packages the build and the tests need; installs only what is missing.
DEB_PKGS := build-essential pkg-config libh2o-evloop-dev librocksdb-dev libisal-dev libxxhash-dev libssl-dev \
            libexpat1-dev libjansson-dev libyaml-dev zlib1g-dev libnghttp2-dev python3 python3-boto3 python3-pytest python3-prometheus-client \
            python3-h2 python3-pytest-xdist openssl awscli s3cmd chromium chromium-driver python3-selenium \
            rclone restic curl clang iproute2 wrk linux-perf logrotate lintian
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi
	@# the JavaScript tests (AWS SDK v3, minio-js): node and npm (the machine's own when present), then the locked packages
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q nodejs npm; \
	fi
	@[ -d tests/js/node_modules/@aws-sdk/client-s3 ] && [ -d tests/js/node_modules/minio ] || (cd tests/js && npm ci --no-audit --no-fund)

run: deps all
	./tests/run-gateway.sh

unit: all
	@tests/run-unit.sh $(UNIT_BIN)

integration: all
	@tests/run-integration.sh

test: deps
	$(MAKE) all
	@tests/check-layers.sh $(BUILD)
	@tests/run-all.sh $(UNIT_BIN)

fault: all
	@tests/run-fault.sh

asan: deps
	$(MAKE) BUILD=build-asan BIN=build-asan/bin OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" all
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run-unit.sh $(patsubst $(BUILD)/%,build-asan/%,$(UNIT_BIN))

bench: deps all
	@bench/run.sh

# the Debian package (packaging/build-deb.sh): binaries, systemd units, /etc/yuncang, logrotate
deb: $(BINARIES)
	@packaging/build-deb.sh $(BIN) $(BUILD)/deb

FUZZ_TIME ?= 30
fuzz: deps
	@tests/run-fuzz.sh $(FUZZ_TIME) $(FUZZ_SRC)

lint:
	@tests/check-layers.sh $(BUILD)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --inline-suppr \
		--suppress=missingIncludeSystem -I. common erasure meta store gateway gateway/s3

format:
	clang-format -i $$(git ls-files '*.c' '*.cc' '*.h')
format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.cc' '*.h')

clean:
	rm -rf $(BUILD) build-asan $(BIN) build-arm64 bin-arm64 sysroot-arm64

# arm64 (docs/platforms.md): Debian's aarch64 cross compiler against the :arm64 libraries unpacked
# into sysroot-arm64/, into build-arm64/ and bin-arm64/; the unit tests run under qemu-user.
# Not part of `make test`: it builds everything a second time.
.PHONY: cross-arm64 test-arm64
cross-arm64:
	@tests/arm64.sh deps
	CFLAGS="$$(tests/arm64.sh flags)" CXXFLAGS="$$(tests/arm64.sh flags)" $(MAKE) CC=aarch64-linux-gnu-gcc \
		CXX=aarch64-linux-gnu-g++ BUILD=build-arm64 BIN=bin-arm64 all
test-arm64: cross-arm64
	@tests/arm64.sh test $(patsubst $(BUILD)/%,build-arm64/%,$(UNIT_BIN))
