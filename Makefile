# The README's two commands: `make demo` and `make test`. Both install what is missing
# (Debian packages, idempotent), configure and build (CMake, Ninja, Release), then run.

BUILD   ?= build
JOBS    ?= 2
WERROR  ?= OFF
DEMO_ARGS ?=
CMAKE_FLAGS ?=

.PHONY: all deps deps-test configure build demo test bench clean

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

bench: build
	./$(BUILD)/services/streamlearn/streamlearn bench

clean:
	rm -rf $(BUILD)
