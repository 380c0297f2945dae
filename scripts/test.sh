#!/bin/sh
# Install what is missing, build with AddressSanitizer and UndefinedBehaviorSanitizer,
# and run the whole test suite (Check suites, Python client tests, MariaDB comparisons).
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh --test
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DCLINICKV_SANITIZE=ON >/dev/null
cmake --build build-test -j"$(nproc)"
cd build-test
ctest --output-on-failure -j"$(nproc)" "$@"
