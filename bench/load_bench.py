#!/usr/bin/env python3
"""Model load time and file size: arrowembed's .arrow files vs
sentence-transformers on the same model, measured in one run.

  scripts/setup.sh --reference && scripts/run.sh
  .venv/bin/python bench/load_bench.py [--runs 30] [--out bench/results/load.md]

Measured, all with a warm page cache (each file is read once before timing):
  - arrowembed warm load: `load_ms` reported by `arrowembed info` (open,
    mmap and validate the file), the median over --runs processes;
  - SentenceTransformer(dir) construction, after its imports, in fresh
    processes (median), and the same repeated inside one process (median);
  - process start to loaded model for both (wall clock, median);
  - file sizes against model.safetensors.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO / "models" / "all-MiniLM-L6-v2"
CONVERTED = REPO / "models" / "converted"
CLI = REPO / "build" / "arrowembed"

ST_CONSTRUCT = r"""
import json, sys, time
t0 = time.perf_counter()
from sentence_transformers import SentenceTransformer
import torch
t1 = time.perf_counter()
times = []
for _ in range(int(sys.argv[2])):
    s = time.perf_counter()
    SentenceTransformer(sys.argv[1], device="cpu")
    times.append((time.perf_counter() - s) * 1000)
print(json.dumps({"import_ms": (t1 - t0) * 1000, "construct_ms": times, "torch_threads": torch.get_num_threads()}))
"""


def median(xs):
    return statistics.median(xs)


def warm(path: Path) -> None:
    for p in ([path] if path.is_file() else path.rglob("*")):
        if p.is_file():
            p.read_bytes()


def arrowembed_load(path: Path, runs: int) -> dict:
    warm(path)
    loads, walls = [], []
    for _ in range(runs + 1):
        t = time.perf_counter()
        out = subprocess.run([str(CLI), "info", str(path)], check=True, capture_output=True, text=True).stdout
        walls.append((time.perf_counter() - t) * 1000)
        loads.append(json.loads(out)["load_ms"])
    return {"load_ms": median(loads[1:]), "load_ms_min": min(loads[1:]), "process_ms": median(walls[1:])}


def st_load(runs: int) -> dict:
    warm(MODEL_DIR)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    fresh, walls, imports, repeated = [], [], [], []
    for i in range(max(3, runs // 5) + 1):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", ST_CONSTRUCT, str(MODEL_DIR), "1" if i else "5"],
                              check=True, capture_output=True, text=True, env=env)
        wall = (time.perf_counter() - t) * 1000
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        if i == 0:  # warm-up process; its in-process repeats give the warm figure
            repeated = r["construct_ms"][1:]
            continue
        fresh.append(r["construct_ms"][0])
        imports.append(r["import_ms"])
        walls.append(wall)
    return {"construct_ms": median(fresh), "construct_repeat_ms": median(repeated),
            "import_ms": median(imports), "process_ms": median(walls)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--out", type=Path, help="also write the report (markdown) here")
    args = ap.parse_args()

    files = {dtype: CONVERTED / f"all-MiniLM-L6-v2-{dtype}.arrow" for dtype in ("f32", "f16")}
    for f in files.values():
        if not f.is_file():
            sys.exit(f"{f} is missing: run scripts/run.sh first")
    ours = {dtype: arrowembed_load(f, args.runs) for dtype, f in files.items()}
    st = st_load(args.runs)

    st_bytes = (MODEL_DIR / "model.safetensors").stat().st_size
    sizes = {"model.safetensors": st_bytes}
    for dtype in ("f32", "f16"):
        for ext in ("arrow", "parquet"):
            p = CONVERTED / f"all-MiniLM-L6-v2-{dtype}.{ext}"
            if p.is_file():
                sizes[p.name] = p.stat().st_size

    lines = [
        "# Load time and file size: arrowembed vs sentence-transformers",
        "",
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        f"- command: `.venv/bin/python bench/load_bench.py --runs {args.runs}" + (f" --out {args.out}`" if args.out else "`"),
        "- model: sentence-transformers/all-MiniLM-L6-v2; page cache warm for every figure",
        "",
        "## Load",
        "",
        "| what | median ms | ratio vs sentence-transformers construction |",
        "|---|---:|---:|",
    ]
    for dtype in ("f32", "f16"):
        o = ours[dtype]
        lines.append(f"| arrowembed {dtype}.arrow warm load (open + mmap + validate; min {o['load_ms_min']:.2f}) "
                     f"| {o['load_ms']:.2f} | {st['construct_ms'] / o['load_ms']:.0f}x faster |")
    lines += [
        f"| SentenceTransformer(dir) construction, fresh process, after imports | {st['construct_ms']:.1f} | 1x |",
        f"| SentenceTransformer(dir) construction, repeated in one process | {st['construct_repeat_ms']:.1f} | |",
        f"| sentence-transformers + torch import | {st['import_ms']:.0f} | |",
        "",
        "| process start to loaded model | median ms |",
        "|---|---:|",
        f"| `arrowembed info` f32.arrow | {ours['f32']['process_ms']:.1f} |",
        f"| `arrowembed info` f16.arrow | {ours['f16']['process_ms']:.1f} |",
        f"| python: import sentence_transformers + SentenceTransformer(dir) | {st['process_ms']:.0f} |",
        "",
        "## Size",
        "",
        "| file | bytes | of model.safetensors |",
        "|---|---:|---:|",
    ]
    for name, n in sizes.items():
        lines.append(f"| {name} | {n:,} | {n / st_bytes:.1%} |")
    lines += ["", "Targets (issue 2): warm load <= 20 ms; f16 file <= 51 % of the safetensors size.",
              f"Result: f32 load {ours['f32']['load_ms']:.2f} ms, f16 load {ours['f16']['load_ms']:.2f} ms; "
              f"f16 file {sizes.get('all-MiniLM-L6-v2-f16.arrow', 0) / st_bytes:.1%}."]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
