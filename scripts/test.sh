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

echo "C++ line coverage of the core (format, tokenizer, engine):"
.venv/bin/gcovr --root . --object-directory build-coverage \
  --filter 'src/format/' --filter 'src/tokenizer/' --filter 'src/engine/' \
  --gcov-ignore-parse-errors=negative_hits.warn_once_per_file \
  --txt-summary --fail-under-line "$COVERAGE_FLOOR" --txt build-coverage/coverage.txt

echo "C++ line coverage of the front ends (server, cli), for information:"
.venv/bin/gcovr --root . --object-directory build-coverage \
  --filter 'src/server/' --filter 'src/cli/' \
  --gcov-ignore-parse-errors=negative_hits.warn_once_per_file --txt-summary --txt build-coverage/coverage-frontends.txt |
  grep -E '^(lines|functions)'
