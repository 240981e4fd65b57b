#!/usr/bin/env bash
# test.sh [CTEST ARGS...]: set up and test.
#
# Installs missing dependencies, builds Bora with AddressSanitizer and
# UndefinedBehaviorSanitizer (no recovery) in build-asan/, and runs every test
# with ctest. Before that it builds the optimised configuration demo.sh uses
# (build/), since -O2 finds warnings (maybe-uninitialized) that -O0 cannot. Extra arguments go to ctest, e.g. `./scripts/test.sh -L unit`
# or `./scripts/test.sh -R test_timeout`.
set -euo pipefail

cd "$(dirname "$0")/.."

./scripts/install-deps.sh

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
cmake -S . -B build-asan -DBORA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j2 "$@"
