#!/usr/bin/env bash
# Configures and builds arrowembed.
#   scripts/build.sh                 Release build in build/ (CLI at build/arrowembed)
#   scripts/build.sh --coverage DIR  instrumented build for the test run
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build; extra=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--coverage" ]; then
  dir=${2:-build-coverage}
  extra=(-DCMAKE_BUILD_TYPE=Debug -DARROWEMBED_COVERAGE=ON)
fi
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja "${extra[@]}" >/dev/null
fi
cmake --build "$dir" -j"$(nproc)"
