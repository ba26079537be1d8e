# The README's two commands: `make demo` and `make test`. Both install what is missing
# (Debian packages, idempotent), configure and build (CMake, Ninja, Release), then run.
# Plus the hostile-input checks: `make test-asan` (the whole suite under AddressSanitizer,
# LeakSanitizer and UndefinedBehaviorSanitizer, in build-asan) and `make fuzz` (libFuzzer
# targets built with clang in build-fuzz, each run FUZZ_SECONDS on a copy of its corpus).

BUILD   ?= build
JOBS    ?= 2
WERROR  ?= OFF
DEMO_ARGS ?=
CMAKE_FLAGS ?=
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := fuzz_event_decoder fuzz_label_decoder fuzz_config fuzz_learner_snapshot

# Sanitizer runtime settings: any ASan or UBSan report aborts the test (halt_on_error, and
# -fno-sanitize-recover at compile time), leaks are reported (LeakSanitizer, on by default
# with ASan on Linux, made explicit here). Exported to the build too: catch_discover_tests
# runs every test binary at build time.
SAN_CFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_OPTIONS_DEFAULT := halt_on_error=1:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0:check_initialization_order=1:print_summary=1
UBSAN_OPTIONS_DEFAULT := halt_on_error=1:print_stacktrace=1:report_error_type=1

.PHONY: all deps deps-test configure build demo test test-asan fuzz bench clean

all: build

deps:
	@scripts/install-deps.sh

deps-test:
	@scripts/install-deps.sh --test

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTREAMLEARN_WERROR=$(WERROR) $(CMAKE_FLAGS)

configure: $(BUILD)/build.ninja

build: deps configure
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	./$(BUILD)/services/streamlearn/streamlearn demo $(DEMO_ARGS)

test: deps-test configure
	cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600

# The whole suite under ASan + LSan + UBSan (gcc; Debug for assertions, -O1 for speed),
# but the scikit-learn comparison: a minute of Python that the sanitizers do not look into
# (the binary's evaluate runs under them in cli.gen_evaluate_offline), and the scaling-out
# benchmark's smoke run: a minute of figures that mean nothing under the sanitizers, whose
# paths the scale.* scenario tests run under them, and the three-instance accuracy test,
# which cannot publish enough under them and skips after a minute and a half (its script runs
# as scale.model_sync_versions_agreed too).
# -Wno-maybe-uninitialized: GCC 12 with -fsanitize=address at -O1 reports false
# "may be used uninitialized" inside libstdc++'s <regex>; the normal build keeps the warning.
$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTREAMLEARN_WERROR=$(WERROR) \
	  "-DCMAKE_CXX_FLAGS=-O1 $(SAN_CFLAGS) -Wno-maybe-uninitialized" $(CMAKE_FLAGS)

test-asan: export ASAN_OPTIONS ?= $(ASAN_OPTIONS_DEFAULT)
test-asan: export UBSAN_OPTIONS ?= $(UBSAN_OPTIONS_DEFAULT)
test-asan: deps-test $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 900 -E '^cli\.sklearn|^scale\.bench_scale|^scale\.model_sync_three_instances_accuracy'

# libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined; tests/fuzz/README.md).
# Each runs FUZZ_SECONDS on a scratch copy of its committed corpus (new inputs land in
# $(FUZZ_BUILD)/corpus, never in the source tree); any crash, sanitizer report or broken
# invariant fails the target and leaves the input in $(FUZZ_BUILD)/artifacts/; so does an
# input that runs longer than 10 s (-timeout), so a hang cannot stall CI.
$(FUZZ_BUILD)/build.ninja:
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
	  -DCMAKE_CXX_FLAGS=-O1 -DSTREAMLEARN_FUZZ=ON $(CMAKE_FLAGS)

fuzz: export ASAN_OPTIONS ?= $(ASAN_OPTIONS_DEFAULT)
fuzz: export UBSAN_OPTIONS ?= $(UBSAN_OPTIONS_DEFAULT)
fuzz: export ASAN_SYMBOLIZER_PATH ?= $(wildcard /usr/lib/llvm-14/bin/llvm-symbolizer)
fuzz: deps-test $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target $(FUZZ_TARGETS)
	@mkdir -p $(FUZZ_BUILD)/artifacts
	@failed=""; for t in $(FUZZ_TARGETS); do \
	  name=$${t#fuzz_}; \
	  rm -rf $(FUZZ_BUILD)/corpus/$$name; mkdir -p $(FUZZ_BUILD)/corpus; \
	  cp -r tests/fuzz/corpus/$$name $(FUZZ_BUILD)/corpus/$$name; \
	  echo "== $$t: $(FUZZ_SECONDS) s"; \
	  if ./$(FUZZ_BUILD)/tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 \
	       -dict=tests/fuzz/$$name.dict -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$name- \
	       $(FUZZ_BUILD)/corpus/$$name > $(FUZZ_BUILD)/$$t.log 2>&1; then \
	    grep -a -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' $(FUZZ_BUILD)/$$t.log; \
	  else \
	    grep -a -A12 -E 'invariant broken|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error' $(FUZZ_BUILD)/$$t.log | head -n 40; \
	    grep -a -E 'Test unit written to' $(FUZZ_BUILD)/$$t.log; \
	    echo "FAIL: $$t (log: $(FUZZ_BUILD)/$$t.log)"; failed="$$failed $$t"; \
	  fi; \
	done; \
	if [ -n "$$failed" ]; then echo "make fuzz: failed:$$failed"; exit 1; fi

bench: build
	./$(BUILD)/services/streamlearn/streamlearn bench

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
