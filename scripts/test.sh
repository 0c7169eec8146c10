#!/usr/bin/env bash
# Runs every test on a fresh machine or a warm one: installs what is missing,
# fetches and verifies the real model, builds an instrumented copy
# (build-coverage/), runs the C++ tests (GoogleTest via ctest) and the
# Python-side tests (pytest, driving the CLI), then reports C++ line
# coverage of the core layers and fails below the floor.
set -euo pipefail
cd "$(dirname "$0")/.."

COVERAGE_FLOOR=${COVERAGE_FLOOR:-85}
scripts/setup.sh
.venv/bin/python scripts/fetch_model.py
scripts/build.sh --coverage build-coverage

find build-coverage -name '*.gcda' -delete
ctest --test-dir build-coverage --output-on-failure -j"$(nproc)"
ARROWEMBED_BIN="$PWD/build-coverage/arrowembed" .venv/bin/pytest -q tests/python

# A line counts once, however many template instances it has (the kernels
# are templates over tile sizes); and the bf16 kernel's inner loop really
# runs more than 2^32 times in the tests, which gcovr would otherwise take
# for gcov's wrapped-counter bug and stop on.
GCOVR=(.venv/bin/gcovr --root . --object-directory build-coverage --gcov-suspicious-hits-threshold 0 --merge-lines
  --gcov-ignore-parse-errors=negative_hits.warn_once_per_file)

echo "C++ line coverage of the core (format, tokenizer, engine, collection, service):"
"${GCOVR[@]}" \
  --filter 'src/format/' --filter 'src/tokenizer/' --filter 'src/engine/' --filter 'src/collection/' --filter 'src/service/' \
  --txt-summary --fail-under-line "$COVERAGE_FLOOR" --txt build-coverage/coverage.txt

echo "C++ line coverage of the front ends (tool, mcp, server, cli), for information:"
"${GCOVR[@]}" \
  --filter 'src/tool/' --filter 'src/mcp/' --filter 'src/server/' --filter 'src/cli/' --txt-summary --txt build-coverage/coverage-frontends.txt |
  grep -E '^(lines|functions)'
