#!/usr/bin/env bash
# test.sh [CTEST ARGS...]: set up and test.
#
# Installs missing dependencies, builds Bora with AddressSanitizer and
# UndefinedBehaviorSanitizer (no recovery) in build-asan/, and runs every test
# with ctest. Before that it builds every other build type a user may pick:
# RelWithDebInfo (build/, the one demo.sh uses) and Release (build-release/),
# since -O2 and -O3 find warnings (maybe-uninitialized) that -O0 cannot, and
# every warning is an error. Extra arguments go to ctest, e.g.
# `./scripts/test.sh -L unit` or `./scripts/test.sh -R test_timeout`.
set -euo pipefail

cd "$(dirname "$0")/.."

./scripts/install-deps.sh

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release
cmake --build build-release -j"$jobs"
# The Debian packages come from the Release tree, not the ASan one: cpack
# there, checked with dpkg-deb and lintian (tests/packaging, docs/packaging.md).
# The VM boot test (label vm) boots that .deb in a debootstrap image under
# qemu (tests/images/test_vm_boot.py, docs/testing.md). Extra arguments
# filter here too: `./scripts/test.sh -L vm` runs it alone (several -L are
# ANDed by ctest, so -L unit runs nothing here).
ctest --test-dir build-release -L 'package|vm' --output-on-failure "$@"
cmake -S . -B build-asan -DBORA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j2 "$@"
