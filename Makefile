# Thin wrapper over CMake: the README's two commands.
#   make run   install missing Debian packages (as root), build Release,
#              start `logward serve` on its built-in defaults
#   make test  same install step, ASan+UBSan build, the whole suite (ctest)
#   make install  the Release build into $(DESTDIR)$(PREFIX): binary, rule
#              pack, example config, systemd unit, man pages, completion
#   make deb   the same as a Debian package, build/logward_<version>_<arch>.deb

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local

.PHONY: all deps release asan run test fuzz fuzz-smoke clean install deb

all: release

deps:
	@sh scripts/install-deps.sh

release: deps
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
	cmake --build build/release -j $(JOBS)

asan: deps
	cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DLW_SANITIZE=address,undefined >/dev/null
	cmake --build build/asan -j $(JOBS)

install: release
	DESTDIR=$(DESTDIR) cmake --install build/release --prefix $(PREFIX)

deb: release
	sh scripts/make-deb.sh build/release build

run: release
	./build/release/logward serve

test: asan
	sh scripts/check-layers.sh
	cd build/asan && ctest --output-on-failure -j $(JOBS)

fuzz: deps
	CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DLW_FUZZ=ON -DBUILD_TESTING=OFF -DLW_SANITIZE=address,undefined >/dev/null
	cmake --build build/fuzz -j $(JOBS)

# Each fuzz target (every tests/fuzz/fuzz_*.c) for FUZZ_SECONDS on its
# seed corpus tests/fuzz/corpus/<name> (new inputs go to a work dir, so
# the committed seeds stay as they are); a crash, leak or sanitizer report
# fails the run (a pipe into tail would hide the status).
FUZZ_SECONDS ?= 30
fuzz-smoke: fuzz
	@set -e; for f in build/fuzz/fuzz_*; do \
		name=$$(basename $$f); seeds=tests/fuzz/corpus/$${name#fuzz_}; \
		work=build/fuzz/work/$$name; mkdir -p $$work; \
		echo "$$name: $(FUZZ_SECONDS) s"; \
		if ! $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
			-artifact_prefix=$$work- $$work $$seeds >$$work.log 2>&1; then \
			tail -n 40 $$work.log; echo "$$name: FAILED (log: $$work.log)"; exit 1; \
		fi; \
		tail -n 1 $$work.log; \
	done

clean:
	rm -rf build
