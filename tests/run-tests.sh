#!/usr/bin/env bash
# One command to test everything: installs what is missing, builds every
# target (Release: libraries, optoutd, optout, tests, benchmarks) and runs all
# tests with ctest: unit tests, end-to-end tests against a real optoutd on
# loopback, the SIGKILL durability test and the at-rest scan.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
  -DOPTOUT_BUILD_TESTS=ON -DOPTOUT_BUILD_BENCHMARKS=ON
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure -j"$(nproc)" --timeout 900
