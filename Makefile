# The two commands: `make run` and `make test`. Both install what is missing
# (scripts/deps.sh), build, and then run the gateway or every test.

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

PREFIX ?= /usr/local
DEB_BUILD ?= build-deb

.PHONY: all deps build run test test-fast test-asan fuzz bench soak format clean install deb docker

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Builds quietly (the log is printed only if the build fails), then runs.
run: deps $(BUILD)/CMakeCache.txt
	@echo "building smsgate (log: $(BUILD)/build.log) ..."
	@cmake --build $(BUILD) -j $(JOBS) > $(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }
	@scripts/run.sh $(BUILD)/smsgate

# All tests, then all tests again under AddressSanitizer + UBSan (but the
# fault tests, which count messages across crashes rather than memory, the
# browser tests, whose work is chromium's JavaScript, the gateway's
# black-box tests on PostgreSQL, whose C code the store-pg unit tests run
# under the sanitizers, and the tests labelled no-asan: that keeps make test
# within its time). The sanitizer build is -O1, which AddressSanitizer's
# documentation advises for a reasonable speed.
# The sanitizer tree builds at a lower priority while the first pass runs:
# most tests wait on sockets and timers, and the build takes the idle CPU.
test: build
	@[ -f $(ASAN_BUILD)/CMakeCache.txt ] || $(ASAN_CONFIGURE)
	@echo "building $(ASAN_BUILD) in the background (log: $(ASAN_BUILD)/build.log)"
	@setsid nice -n 10 cmake --build $(ASAN_BUILD) -j $(JOBS) >$(ASAN_BUILD)/build.log 2>&1 & asan=$$!; \
	  ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) || { kill -- -$$asan 2>/dev/null; wait; exit 1; }; \
	  wait $$asan || { cat $(ASAN_BUILD)/build.log; exit 1; }
	$(ASAN_CTEST)

test-fast:
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

ASAN_CONFIGURE = cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DSG_SANITIZE=ON >/dev/null
ASAN_CTEST = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -LE 'fault|browser|pg-gateway|no-asan'

test-asan: deps
	@[ -f $(ASAN_BUILD)/CMakeCache.txt ] || $(ASAN_CONFIGURE)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	$(ASAN_CTEST)

# Runs every libFuzzer target for FUZZ_SECONDS each, growing a scratch copy
# of its corpus; crashes land in $(FUZZ_BUILD)/crashes/.
fuzz: deps
	@[ -f $(FUZZ_BUILD)/CMakeCache.txt ] || CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSG_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	@scripts/bench.sh $(BUILD)

# The fault tests in their long form (docs/reliability.md): 100,000 messages
# from REST and SMPP clients with smsgate killed every few seconds.
SOAK_REST ?= 70000
SOAK_SMPP ?= 30000
SOAK_EVERY_MS ?= 3000
# Operator faults (tests/fault/operator.sh): messages per scenario.
SOAK_OPERATOR ?= 20000
# Campaigns (tests/integration/campaigns.sh): recipients of the campaign
# killed with -9 in the middle of its expansion (20,000 in `make test`).
SOAK_CAMPAIGN ?= 50000
# Three nodes on one PostgreSQL (tests/fault/nodes.sh): REST messages (and
# 3,000 SMPP), 9 kills -9 of the nodes in turn and 2 restarts of PostgreSQL.
SOAK_NODES ?= 30000
soak: build
	REST_RATE=1000 SMPP_TPS=1000 FAULT_JSON=$(BUILD)/soak-kill9.json bash tests/fault/kill9.sh $(BUILD)/smsgate $(SOAK_REST) $(SOAK_SMPP) $(SOAK_EVERY_MS)
	rm -f $(BUILD)/soak-operator.json
	FAULT_JSON=$(BUILD)/soak-operator.json bash tests/fault/operator.sh $(BUILD)/smsgate all $(SOAK_OPERATOR) 1000
	CAMPAIGNS_BIG=$(SOAK_CAMPAIGN) bash tests/integration/campaigns.sh $(BUILD)/smsgate
	REST_RATE=300 SMPP_TPS=40 FAULT_JSON=$(BUILD)/soak-nodes.json bash tests/fault/nodes.sh $(BUILD)/smsgate $(SOAK_NODES) 3000 5000 9 2

# Installs under PREFIX (DESTDIR for staging): the program, its manual page,
# the systemd unit, the docs; as root without DESTDIR also the smsgate user
# and PREFIX's etc/smsgate/smsgate.yaml with random keys (never overwritten).
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	  conf=$$( [ "$(PREFIX)" = /usr ] && echo /etc || echo $(PREFIX)/etc )/smsgate/smsgate.yaml; \
	  $(PREFIX)/share/smsgate/postinst.sh $$conf $(PREFIX)/share/smsgate/smsgate.yaml; \
	fi

# A Debian package from a Release build: $(DEB_BUILD)/smsgate_<version>_<arch>.deb
deb: deps
	@[ -f $(DEB_BUILD)/CMakeCache.txt ] || cmake -S . -B $(DEB_BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(DEB_BUILD) -j $(JOBS)
	@scripts/deb.sh $(DEB_BUILD)

# The container image (Dockerfile), where a builder is available.
docker:
	docker build -t smsgate:$$(sed -n 's/^project(smsgate VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt) .

format:
	clang-format -i $$(git ls-files 'src/*.[ch]' 'src/*.cc' 'tests/*.[ch]' 'bench/*.[ch]')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(DEB_BUILD)
