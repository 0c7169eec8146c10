#!/usr/bin/env python3
"""Engine benchmark (issue 4): arrowembed f32, f16 and bf16 against sentence-transformers
on PyTorch and ONNX Runtime, on the same texts, the same thread count, in one run.

  flock /tmp/arrowembed-build.lock .venv/bin/python bench/engine_bench.py [--out bench/results/engine.md]

Needs build/arrowembed, build/bench/fma_peak (cmake -DARROWEMBED_BUILD_BENCH=ON),
the converted model files (scripts/run.sh) and the reference stack plus
`onnxruntime onnx` (scripts/requirements-reference.txt). The ONNX export is
made with bench/export_onnx.py when models/onnx/all-MiniLM-L6-v2.onnx is missing.

Runtimes, each in its own process (so peak RSS is per runtime):
  - arrowembed f32 / f16: `arrowembed bench` (one short process per
    measurement; its first call is a warm-up) on the f32 / f16 model file;
  - arrowembed bf16: the same on the f32 model file with `--precision bf16`
    (bf16 matrix products with f32 sums, AVX512-BF16) on every invocation of
    our CLI for it (measurements, cold start, RSS sampling, perf profile). It
    is a lower-precision mode (min cosine ~0.99993, mean 0.999985 against
    sentence-transformers on tests/fixtures/minilm-reference.parquet) while the
    peers run fp32, so its ratios are not like-for-like in precision. On a CPU
    without avx512_bf16 (and avx512f/bw/vl) in /proc/cpuinfo it is left out,
    with a printed note;
  - PyTorch: SentenceTransformer(models/all-MiniLM-L6-v2, device="cpu")
    .encode(batch_size=32), torch.set_num_threads(threads);
  - ONNX Runtime: the export_onnx.py session (ORT_ENABLE_ALL, exact GELU,
    intra_op_num_threads=threads) and its embed(): HF tokenizers with
    truncation 256 and padding to the longest text of the batch, ORT run,
    mean pooling + L2 normalisation in numpy.
  The Python peers are long-lived worker processes (this script with
  --worker) that are warmed up once and then take measurement requests, so
  the rounds can interleave all runtimes: every round runs every workload
  on every runtime (order rotated each round), and each figure is the median
  over rounds. Every runtime's timing includes tokenization and pooling.
  A round during which other processes used CPU (/proc/stat minus this
  process tree), or after which a 0.1 s FMA probe fell below 90 % of the
  peak, counts as disturbed: it is left out and replaced, up to
  --extra-rounds more rounds (the whole run stays around 6 minutes).

Workloads (texts generated here, deterministic, no network):
  - short: 512 sentences of 10-20 tokens ([CLS] and [SEP] included), batch 32;
  - long: 128 passages of 190-210 tokens, batch 32;
  - single: the short texts one per call (latency p50/p99 per call).
Each measurement cycles through its texts for --seconds (long: --long-seconds)
after one untimed warm-up call, exactly as `arrowembed bench` does.

Also measured: cold start (spawn a fresh process -> first vector on its
stdout; page cache warm; one per runtime per round), peak RSS (ru_maxrss of
each runtime's process from wait4) and what it is made of (/proc/PID/smaps),
our GFLOP/s in the batch cases against build/bench/fma_peak's all-threads
figure, ceilings measured with torch (a large sgemm, read bandwidth), the CPU
other processes used during each round, and, with perf available, where our
time goes in each workload (perf record -e cpu-clock). The report says, for
each target missed, by how much and what limits it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "bench"
MODEL_DIR = REPO / "models" / "all-MiniLM-L6-v2"
CONVERTED = REPO / "models" / "converted"
ONNX_PATH = REPO / "models" / "onnx" / "all-MiniLM-L6-v2.onnx"
BATCH = 32
SHORT_COUNT, LONG_COUNT = 512, 128
SHORT_TOKENS, LONG_TOKENS = (10, 20), (190, 210)
SEED = 4004

# ---------------------------------------------------------------------------
# Texts: English-like sentences from a small hand-written grammar.

DETERMINERS = ["the", "a", "every", "one", "this", "that", "our", "their", "some", "each"]
ADJECTIVES = [
    "quiet", "large", "small", "bright", "old", "new", "careful", "rapid", "early", "late", "green",
    "heavy", "simple", "local", "public", "private", "remote", "final", "useful", "strange", "modern",
    "ancient", "narrow", "wide", "curious", "patient", "sudden", "gentle", "busy", "empty", "warm",
]
NOUNS = [
    "river", "engineer", "library", "garden", "report", "village", "train", "teacher", "market",
    "window", "mountain", "student", "bridge", "doctor", "kitchen", "letter", "storm", "museum",
    "farmer", "computer", "harbor", "painting", "council", "forest", "factory", "journey", "signal",
    "question", "orchestra", "island", "committee", "pilot", "recipe", "machine", "festival",
]
VERBS = [
    "opened", "carried", "described", "watched", "repaired", "visited", "measured", "followed",
    "discovered", "painted", "explained", "protected", "replaced", "announced", "collected", "ignored",
    "reached", "crossed", "finished", "studied", "moved", "changed", "tested", "remembered", "built",
]
PREPOSITIONS = ["near", "behind", "beyond", "across", "inside", "under", "after", "before", "during", "without"]
ADVERBS = ["slowly", "quickly", "yesterday", "again", "finally", "quietly", "carefully", "today", "often", "twice"]
CONNECTIVES = ["Meanwhile,", "Later,", "However,", "Then", "Because of this,", "In the end,", "Still,"]


def _phrase(rng: random.Random) -> list[str]:
    words = [rng.choice(DETERMINERS)]
    if rng.random() < 0.6:
        words.append(rng.choice(ADJECTIVES))
    return words + [rng.choice(NOUNS)]


def _sentence(rng: random.Random, connective: bool = False) -> str:
    words = []
    if connective and rng.random() < 0.3:
        words.append(rng.choice(CONNECTIVES))
    words += _phrase(rng) + [rng.choice(VERBS)] + _phrase(rng)
    if rng.random() < 0.7:
        words += [rng.choice(PREPOSITIONS)] + _phrase(rng)
    if rng.random() < 0.35:
        words += ["and", rng.choice(VERBS)] + _phrase(rng)
    if rng.random() < 0.4:
        words.append(rng.choice(ADVERBS))
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", "!", "?"])


def make_texts(seed: int = SEED) -> tuple[list[str], list[str], dict]:
    """Deterministic short and long texts; token counts by HF tokenizers (specials included)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    count = lambda text: len(tok.encode(text).ids)  # noqa: E731
    rng = random.Random(seed)
    short: list[str] = []
    while len(short) < SHORT_COUNT:
        text = _sentence(rng)
        if SHORT_TOKENS[0] <= count(text) <= SHORT_TOKENS[1]:
            short.append(text)
    long: list[str] = []
    while len(long) < LONG_COUNT:
        target = rng.randint(*LONG_TOKENS)
        parts: list[str] = []
        while True:
            candidate = " ".join(parts + [_sentence(rng, connective=True)])
            if count(candidate) > target:
                break
            parts = candidate.split(" ")
        while count(" ".join(parts)) < target:  # top up word by word
            parts.append(rng.choice(ADJECTIVES + NOUNS + ADVERBS))
        text = " ".join(parts)
        if LONG_TOKENS[0] <= count(text) <= LONG_TOKENS[1]:
            long.append(text)
    stats = {}
    for name, texts in (("short", short), ("long", long)):
        n = [count(t) for t in texts]
        stats[name] = {"texts": len(texts), "min": min(n), "max": max(n), "mean": sum(n) / len(n)}
        # Padding the peers do (pad to the longest text of each batch of 32, in input order).
        padded = sum(max(n[i:i + BATCH]) * len(n[i:i + BATCH]) for i in range(0, len(n), BATCH))
        stats[name]["padded_fraction"] = 1 - sum(n) / padded
    return short, long, stats


# ---------------------------------------------------------------------------
# Timing loop shared by the Python peers: the same protocol as `arrowembed bench`
# (src/cli/cmd_bench.cc): the deadline starts before an untimed warm-up call,
# at least two timed calls, texts cycled `per_call` at a time.

def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    rank = p / 100 * (len(xs) - 1)
    lo = int(rank)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (rank - lo)


def timed_loop(call, texts: list[str], per_call: int, seconds: float) -> dict:
    nxt, done, latencies = 0, 0, []
    deadline = time.perf_counter() + seconds
    iteration = 0
    while iteration < 3 or time.perf_counter() < deadline:
        batch = [texts[(nxt + i) % len(texts)] for i in range(per_call)]
        nxt += per_call
        start = time.perf_counter()
        call(batch)
        ms = (time.perf_counter() - start) * 1000
        if iteration > 0:
            latencies.append(ms)
            done += per_call
        iteration += 1
    busy = sum(latencies) / 1000
    return {"texts": done, "seconds": busy, "texts_per_s": done / busy, "calls": len(latencies),
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99)}


# ---------------------------------------------------------------------------
# Worker process for a Python peer: `engine_bench.py --worker st|ort --threads N --texts F`.
# Loads the runtime, warms it up, prints {"ready":...}, then answers one JSON
# request per stdin line ({"set":"short","per_call":32,"seconds":2}) with one
# JSON line, until stdin closes.

def worker_main(runtime: str, threads: int, texts_path: Path) -> int:
    texts = json.loads(texts_path.read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    if runtime == "st":
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        model = SentenceTransformer(str(MODEL_DIR), device="cpu")

        def call(batch):
            return model.encode(batch, batch_size=BATCH, convert_to_numpy=True, show_progress_bar=False)
        info = {"torch_threads": torch.get_num_threads()}
    else:
        sys.path.insert(0, str(BENCH_DIR))
        from export_onnx import embed, hf_tokenizer, session

        sess, tokenizer = session(ONNX_PATH, threads), hf_tokenizer()

        def call(batch):
            return embed(sess, tokenizer, batch, BATCH)
        info = {"intra_op_num_threads": sess.get_session_options().intra_op_num_threads}
    load_ms = (time.perf_counter() - t0) * 1000
    return serve_worker(call, texts, {"load_ms": load_ms, **info})


def serve_worker(call, texts: dict, ready: dict) -> int:
    """The request loop of a worker (also bench/int8_bench.py's): warm-up, ready line, one answer per request."""
    for name in ("short", "long"):  # warm-up of every shape the requests will use
        call(texts[name][:BATCH])
    call(texts["short"][:1])
    print(json.dumps({"ready": True, **ready}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        result = timed_loop(call, texts[req["set"]], req["per_call"], req["seconds"])
        print(json.dumps(result), flush=True)
    return 0


# ---------------------------------------------------------------------------
# Child processes, with their rusage.

def wait_child(proc: subprocess.Popen) -> float:
    """Reaps proc and returns its peak RSS in bytes (ru_maxrss of that child alone)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss * 1024.0


def child_env(threads: int) -> dict:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
    return env


def fail(what: str, proc: subprocess.Popen, err_path: Path) -> None:
    err = err_path.read_text(errors="replace")[-3000:] if err_path.exists() else ""
    sys.exit(f"{what} failed (exit {proc.returncode}):\n{err}")


class PyPeer:
    """A long-lived worker process for one Python runtime: `script --worker RUNTIME` (script: this file unless
    given, e.g. bench/int8_bench.py for its peers)."""

    def __init__(self, runtime: str, threads: int, texts_path: Path, tmp: Path, env: dict,
                 script: Path | None = None):
        self.runtime = runtime
        self.err = tmp / f"worker-{runtime}.err"
        with self.err.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(script or Path(__file__).resolve()), "--worker", runtime, "--threads",
                 str(threads), "--texts", str(texts_path)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        self.ready = self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            fail(f"{self.runtime} worker", self.proc, self.err)
        return json.loads(line)

    def measure(self, name: str, per_call: int, seconds: float) -> dict:
        self.proc.stdin.write(json.dumps({"set": name, "per_call": per_call, "seconds": seconds}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> float:
        self.proc.stdin.close()
        self.proc.stdout.read()
        self.proc.stdout.close()
        rss = wait_child(self.proc)
        if self.proc.returncode:
            fail(f"{self.runtime} worker", self.proc, self.err)
        return rss


def run_ours(cli: Path, model: Path, texts_file: Path, mode: str, seconds: float, threads: int, env: dict,
             tmp: Path, extra: list[str] | tuple[str, ...] = ()) -> dict:
    """One `arrowembed bench` process; extra: the runtime's own options (OURS_ARGS), e.g. --precision bf16."""
    err = tmp / "ours.err"
    with err.open("w") as fh:
        proc = subprocess.Popen([str(cli), "bench", "-m", str(model), "--input", str(texts_file), "--mode", mode,
                                 "--batch-size", str(BATCH), "--threads", str(threads), "--seconds", str(seconds),
                                 *extra],
                                stdout=subprocess.PIPE, stderr=fh, text=True, env=env)
    with proc.stdout:
        out = proc.stdout.read()
    rss = wait_child(proc)
    if proc.returncode:
        fail("arrowembed bench " + " ".join(extra), proc, err)
    r = json.loads(out)
    if "--precision" in extra:  # make sure the mode asked for is the mode measured
        want = extra[list(extra).index("--precision") + 1]
        if r.get("precision") != want:
            sys.exit(f"arrowembed bench {' '.join(extra)} reported precision {r.get('precision')!r}, not {want!r}")
    return {"precision": r.get("precision", "f32"),
            "texts": r["texts"], "seconds": r["seconds"], "texts_per_s": r["texts_per_s"],
            "calls": round(r["seconds"] * 1000 / r["latency_ms"]["mean"]),
            "p50": r["latency_ms"]["p50"], "p99": r["latency_ms"]["p99"], "gflops": r["gflops"],
            "tokens": r["tokens"], "load_ms": r["load_ms"], "rss": rss, "threads": r["threads"]}


# Cold start: a fresh process that loads the runtime and embeds one text,
# printing {"embedding": [...]} -- the same line `arrowembed embed` prints.
COLD_ST = r"""
import json, sys
import torch
from sentence_transformers import SentenceTransformer
torch.set_num_threads(int(sys.argv[2]))
model = SentenceTransformer(sys.argv[1], device="cpu")
vector = model.encode([sys.argv[3]], convert_to_numpy=True, show_progress_bar=False)[0]
print(json.dumps({"embedding": vector.tolist()}), flush=True)
"""
COLD_ORT = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from export_onnx import embed, hf_tokenizer, session
vector = embed(session(Path(sys.argv[2]), int(sys.argv[3])), hf_tokenizer(), [sys.argv[4]])[0]
print(json.dumps({"embedding": vector.tolist()}), flush=True)
"""


def cold_start(argv: list[str], stdin_text: str | None, env: dict, tmp: Path) -> dict:
    err = tmp / "cold.err"
    with err.open("w") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=fh, text=True, env=env)
    if stdin_text is not None:
        proc.stdin.write(stdin_text)
        proc.stdin.close()
    with proc.stdout:
        line = proc.stdout.readline()
        ms = (time.perf_counter() - start) * 1000
        proc.stdout.read()
    rss = wait_child(proc)
    if proc.returncode or not line:
        fail("cold start " + " ".join(argv[:2]), proc, err)
    return {"ms": ms, "rss": rss, "vector": json.loads(line)["embedding"]}


# ---------------------------------------------------------------------------
# Machine and stack facts (in a throwaway process: none of it is measured).

FACTS = r"""
import collections, ctypes, json, sys, tempfile
from pathlib import Path
import numpy, onnx, onnxruntime, sentence_transformers, tokenizers, torch, transformers
sys.path.insert(0, sys.argv[1])
from export_onnx import session
facts = {"torch": torch.__version__, "sentence-transformers": sentence_transformers.__version__,
         "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
         "onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__, "numpy": numpy.__version__,
         "python": sys.version.split()[0], "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
         "torch_blas": "MKL" if torch.backends.mkl.is_available() else "?",
         "torch_onednn": torch.backends.mkldnn.is_available()}
with tempfile.TemporaryDirectory() as tmp:
    session(Path(sys.argv[2]), 1, Path(tmp) / "opt.onnx")
    ops = collections.Counter(n.op_type for n in onnx.load(str(Path(tmp) / "opt.onnx")).graph.node)
facts["ort_graph_ops"] = dict(sorted(ops.items()))
try:
    lib = ctypes.CDLL(sys.argv[3])
    lib.openblas_get_corename.restype = ctypes.c_char_p
    lib.openblas_get_config.restype = ctypes.c_char_p
    facts["openblas"] = lib.openblas_get_config().decode() + " (kernel " + lib.openblas_get_corename().decode() + ")"
except OSError:
    facts["openblas"] = "?"
print(json.dumps(facts))
"""


# Ceilings measured with torch on the benchmark's threads: a large sgemm (MKL)
# and read bandwidth (sum) over working sets the size of the encoder matrices.
# Best of three 0.3 s windows each: a neighbour only ever makes a window slower.
CEILINGS = r"""
import json, sys, time
import torch
torch.set_num_threads(int(sys.argv[1]))
def rate(fn, work):
    for _ in range(3):
        fn()
    best = 0.0
    for _ in range(3):
        t, k = time.perf_counter(), 0
        while time.perf_counter() - t < 0.3:
            fn()
            k += 1
        best = max(best, work * k / (time.perf_counter() - t))
    return best
a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
out = {"torch_sgemm_2048_gflops": rate(lambda: a @ b, 2 * 2048 ** 3) / 1e9, "read_gbps": {}}
for nbytes in [int(x) for x in sys.argv[2].split(",")]:
    v = torch.ones(nbytes // 4)
    out["read_gbps"][nbytes] = rate(lambda: v.sum(), nbytes) / 1e9
print(json.dumps(out))
"""


def ceilings(threads: int, env: dict) -> dict:
    mf = model_facts()
    sizes = ",".join(str(n) for n in (mf["matrix_params"] * 2, mf["matrix_params"] * 4, 512 * 2**20))
    return json.loads(subprocess.run([sys.executable, "-c", CEILINGS, str(threads), sizes], check=True,
                                     capture_output=True, text=True, env=env).stdout)


def merge_ceilings(runs: list[dict]) -> dict:
    return {"torch_sgemm_2048_gflops": max(r["torch_sgemm_2048_gflops"] for r in runs),
            "read_gbps": {n: max(r["read_gbps"][n] for r in runs) for n in runs[0]["read_gbps"]}}


def machine_facts(cli: Path, env: dict) -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    family = re.search(r"^cpu family\s*:\s*(\d+)", cpuinfo, re.M)
    cpu_model = re.search(r"^model\s*:\s*(\d+)", cpuinfo, re.M)
    flags = set(re.search(r"^flags\s*:\s*(.*)$", cpuinfo, re.M).group(1).split())
    isa = [f for f in ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16")
           if f in flags]
    hypervisor = "hypervisor" in flags
    ldd = subprocess.run(["ldd", str(cli)], capture_output=True, text=True).stdout
    blas = re.search(r"libopenblas\S*\s*=>\s*(\S+)", ldd)
    facts = json.loads(subprocess.run([sys.executable, "-c", FACTS, str(BENCH_DIR), str(ONNX_PATH),
                                       blas.group(1) if blas else "libopenblas.so.0"],
                                      check=True, capture_output=True, text=True,
                                      env=dict(env, OPENBLAS_NUM_THREADS="1")).stdout)
    cxx = "?"
    cache = REPO / "build" / "CMakeCache.txt"
    if cache.is_file():
        m = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.*)$", cache.read_text(), re.M)
        if m:
            cxx = subprocess.run([m.group(1), "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        bt = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", cache.read_text(), re.M)
        cxx += f", {bt.group(1) if bt else '?'} build"
    git = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    # Uncommitted sources the binary may have been built from (the tree is shared with other work).
    dirty = [line[3:] for line in subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "src", "include", "cmake", "CMakeLists.txt"],
        capture_output=True, text=True).stdout.splitlines() if line.strip()]
    st = cli.stat()
    with cli.open("rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()[:12]
    facts["binary"] = (f"{cli.relative_to(REPO) if cli.is_relative_to(REPO) else cli} built "
                       f"{datetime.fromtimestamp(st.st_mtime, timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, "
                       f"sha256 {digest}")
    facts.update(cpu=model.group(1).strip() if model else platform.processor(),
                 cpu_family_model=f"{family.group(1) if family else '?'}/{cpu_model.group(1) if cpu_model else '?'}",
                 cores=os.cpu_count(), isa=" ".join(isa), virtualised=hypervisor, kernel=platform.release(),
                 cxx=cxx, commit=(git.stdout.strip() or "?") +
                 (f" + uncommitted sources: {', '.join(dirty)}" if dirty else " (sources clean)"))
    return facts


def fma_peak(binary: Path, threads: int, seconds: float = 1.0) -> dict:
    out = subprocess.run([str(binary), "--threads", str(threads), "--seconds", str(seconds)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


# ---------------------------------------------------------------------------
# Where our time goes: perf record (cpu-clock; this VM exposes no hardware
# counters) over one `arrowembed bench` run per workload, self time grouped.

# (group, pattern on "dso symbol"); the first match wins. Groups whose name
# starts with "GEMM kernels" are the products' arithmetic. Symbols no group
# matches keep their own (shortened) name, so a new engine function shows up
# by name instead of disappearing into "other".
PROFILE_GROUPS = [
    ("GEMM kernels: OpenBLAS small-matrix sgemm", re.compile(r"libopenblas\S* .*sgemm_small_kernel")),
    ("GEMM kernels: OpenBLAS packed sgemm", re.compile(r"libopenblas\S* .*sgemm_kernel")),
    ("attention (scores, softmax, context)", re.compile(r"attention|softmax", re.I)),
    ("GEMM kernels: arrowembed's own (small_gemm, f32_gemm and bf16_gemm tiles)",
     re.compile(r"small_gemm|arrowembed::engine::(\(anonymous namespace\)::)?(\w+::)?\w*(tile|gemm|microkernel)"
                r"\w*( |\(|<|$)")),
    ("OpenBLAS packing (panel copies)", re.compile(r"libopenblas\S* .*sgemm_(it|ot|in|on)copy|sgemm_beta")),
    ("OpenBLAS driver / other", re.compile(r"libopenblas")),
    ("Linear: bias, exact GELU, f16 -> f32 widening (outside the GEMM)",
     re.compile(r"Linear::forward|gelu|widen_f16", re.I)),
    ("LayerNorm / residual / embeddings", re.compile(r"layer_norm|add_table_row|embedding", re.I)),
    ("pooling / L2 normalise", re.compile(r"pool_sequence|l2_normalize|pooling", re.I)),
    ("tokenizer", re.compile(r"arrowembed::tok|Tokenizer|utf8proc")),
    ("memcpy / memset", re.compile(r"mem(cpy|set|move)")),
    ("thread-pool spin, yield, clock reads", re.compile(
        r"ThreadPool|sched_yield|__schedule|schedule|clock_gettime|steady_clock|futex|pthread|finish_task_switch")),
]


def short_symbol(sym: str) -> str:
    """`ns::(anonymous namespace)::f(int, float) const` -> `f`-ish: enough to recognise a function."""
    sym = re.sub(r"\(anonymous namespace\)::", "", sym)
    lam = re.search(r"([A-Za-z_][\w:]*)\([^{]*::\{lambda\([^)]*\)#(\d+)\}", sym)
    if lam:  # std::function thunk of a lambda: name it after the function that holds it
        return "::".join(lam.group(1).split("::")[-2:]) + f" lambda #{lam.group(2)}"
    depth, out = 0, []
    for ch in sym:  # drop template arguments and parameter lists
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    name = "".join(out).strip()
    return name.split("::")[-1] if name.count("::") > 2 else name


def profile_ours(cli: Path, model: Path, texts_file: Path, mode: str, seconds: float, threads: int, env: dict,
                 tmp: Path, extra: list[str] | tuple[str, ...] = ()) -> dict[str, float] | None:
    data = tmp / "perf.data"
    rec = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000", "-o", str(data), "--",
                          str(cli), "bench", "-m", str(model), "--input", str(texts_file), "--mode", mode,
                          "--batch-size", str(BATCH), "--threads", str(threads), "--seconds", str(seconds), *extra],
                         capture_output=True, text=True, env=env)
    if rec.returncode:
        print(f"perf record failed: {rec.stderr.strip()[:300]}", flush=True)
        return None
    rep = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "--sort", "dso,sym",
                          "--percent-limit", "0"], capture_output=True, text=True)
    groups: dict[str, float] = {}
    for line in rep.stdout.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[([.k])\]\s+(.*)$", line)
        if not m:
            continue
        pct, dso, space, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
        for name, pattern in PROFILE_GROUPS:
            if pattern.search(f"{dso} {sym}"):
                break
        else:
            if space == "k":
                name = "kernel (other)"
            elif pct >= 1.0:
                name = f"other: {short_symbol(sym)} ({dso})"
            else:
                name = "other (symbols under 1 % each)"
        groups[name] = groups.get(name, 0.0) + pct
    try:  # the profiled run's own figures, to relate time shares to its GFLOP/s
        groups["_gflops"] = json.loads(rec.stdout.strip().splitlines()[-1])["gflops"]
    except (ValueError, IndexError, KeyError):
        pass
    return groups


# ---------------------------------------------------------------------------
# What a process's resident memory is made of, from /proc/PID/smaps.

def smaps_groups(pid: int) -> dict[str, float]:
    groups: dict[str, float] = {}
    path = ""
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return groups
    for line in lines:
        head = re.match(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$", line)
        if head:
            path = head.group(1).strip()
            continue
        if line.startswith("Rss:"):
            kb = int(line.split()[1])
            if path.endswith((".arrow", ".parquet", ".onnx", ".safetensors")):
                name = "model weights (mapped file)"
            elif not path or path.startswith("[heap]") or path.startswith("[anon") or path == "[stack]":
                name = "anonymous (heap, workspace, tensors)"
            elif ".so" in path or path.startswith("/") and os.access(path, os.X_OK):
                base = os.path.basename(path)
                name = "code: " + (re.sub(r"\.so.*$", "", base) if ".so" in base else base)
            else:
                name = "other"
            groups[name] = groups.get(name, 0.0) + kb * 1024.0
    return groups


def summarise_smaps(groups: dict[str, float], top_libs: int = 3) -> str:
    code = {k: v for k, v in groups.items() if k.startswith("code: ")}
    rest = {k: v for k, v in groups.items() if not k.startswith("code: ")}
    parts = [f"{k} {fmt_bytes(v)}" for k, v in sorted(rest.items(), key=lambda kv: -kv[1]) if v >= 2**20]
    libs = sorted(code.items(), key=lambda kv: -kv[1])
    parts.append(f"code (executable + shared libraries) {fmt_bytes(sum(code.values()))}: " +
                 ", ".join(f"{k[6:]} {fmt_bytes(v)}" for k, v in libs[:top_libs]))
    return f"total {fmt_bytes(sum(groups.values()))} = " + "; ".join(parts)


def ours_smaps(cli: Path, model: Path, texts_file: Path, threads: int, env: dict,
               extra: list[str] | tuple[str, ...] = ()) -> dict[str, float]:
    """Memory of `arrowembed bench` on long texts (its largest workspace), sampled mid-run."""
    proc = subprocess.Popen([str(cli), "bench", "-m", str(model), "--input", str(texts_file), "--threads",
                             str(threads), "--seconds", "2.5", *extra], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    best: dict[str, float] = {}
    deadline = time.perf_counter() + 2.0
    while time.perf_counter() < deadline and proc.poll() is None:
        time.sleep(0.25)
        g = smaps_groups(proc.pid)
        if sum(g.values()) > sum(best.values()):
            best = g
    proc.wait()
    return best


# ---------------------------------------------------------------------------
# CPU used by other processes while we measure (another engineer's build, a
# neighbour): /proc/stat busy time minus this process tree's CPU time.

def proc_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class CpuMonitor:
    def __init__(self, live_pids):
        self.live_pids = live_pids  # callable -> pids of running children we own
        self.start = self._sample()

    def _sample(self):
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        hz = os.sysconf("SC_CLK_TCK")
        busy = (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / hz
        steal = (fields[7] if len(fields) > 7 else 0) / hz
        self_usage = resource.getrusage(resource.RUSAGE_SELF)
        child_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        ours = (self_usage.ru_utime + self_usage.ru_stime + child_usage.ru_utime + child_usage.ru_stime +
                sum(proc_cpu_seconds(p) for p in self.live_pids()))
        return time.perf_counter(), busy, steal, ours

    def lap(self) -> dict:
        """Cores used by others (and stolen by the hypervisor) since the last lap."""
        now = self._sample()
        wall = now[0] - self.start[0]
        others = max(0.0, (now[1] - self.start[1]) - (now[3] - self.start[3])) / wall
        steal = (now[2] - self.start[2]) / wall
        self.start = now
        return {"others_cores": others, "steal_cores": steal, "wall_s": wall}


# ---------------------------------------------------------------------------

RUNTIMES = ["ours-f32", "ours-f16", "ours-bf16", "pytorch", "ort"]  # main() drops ours-bf16 without AVX512-BF16
LABELS = {"ours-f32": "arrowembed f32", "ours-f16": "arrowembed f16", "ours-bf16": "arrowembed bf16",
          "pytorch": "sentence-transformers (PyTorch)", "ort": "ONNX Runtime"}
WORKLOADS = [("short", "batch"), ("long", "batch"), ("short", "single")]
# Our runtimes: the model file each runs and the options added to every command of ours for it
# (`arrowembed bench` and the cold start's `arrowembed embed`). f32 and f16 run with the CLI's defaults.
OURS_MODEL = {"ours-f32": "f32", "ours-f16": "f16", "ours-bf16": "f32"}
OURS_ARGS: dict[str, list[str]] = {"ours-f32": [], "ours-f16": [], "ours-bf16": ["--precision", "bf16"]}
# What bf16 costs in fidelity (tests/python/test_engine.py, docs/architecture.md: the 303 texts of
# tests/fixtures/minilm-reference.parquet against sentence-transformers fp32).
BF16_FIDELITY = "min cosine ~0.99993, mean 0.999985"
BF16_FLAGS = ("avx512f", "avx512bw", "avx512vl", "avx512_bf16")  # what --precision bf16 needs (as the tests check)


def cpu_flags() -> set[str]:
    m = re.search(r"^flags\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.M)
    return set(m.group(1).split()) if m else set()


def fmt_bytes(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def main() -> int:
    global RUNTIMES, OURS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads for every runtime (cores)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="clean interleaved rounds wanted; figures are medians over them")
    ap.add_argument("--extra-rounds", type=int, default=4,
                    help="rounds allowed beyond --rounds to replace disturbed ones (bounds the run time)")
    ap.add_argument("--seconds", type=float, default=2.0, help="timed seconds per short/single measurement")
    ap.add_argument("--long-seconds", type=float, default=3.0, help="timed seconds per long-text measurement")
    ap.add_argument("--no-profile", action="store_true", help="skip the perf profile of arrowembed")
    ap.add_argument("--build", type=Path, default=REPO / "build", help="build dir with arrowembed and bench/fma_peak")
    ap.add_argument("--out", type=Path, help="also write the report (markdown) here")
    ap.add_argument("--worker", choices=["st", "ort"], help=argparse.SUPPRESS)
    ap.add_argument("--texts", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--make-texts", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker_main(args.worker, args.threads, args.texts)
    if args.make_texts:
        short, long, stats = make_texts()
        args.make_texts.write_text(json.dumps({"short": short, "long": long, "stats": stats}), encoding="utf-8")
        return 0

    started = time.perf_counter()
    bf16_note = ""
    missing = [f for f in BF16_FLAGS if f not in cpu_flags()]
    if missing:
        bf16_note = (f"arrowembed bf16 (--precision bf16) left out: this CPU lacks {', '.join(missing)} "
                     "(/proc/cpuinfo flags), which bf16 products need")
        print(f"note: {bf16_note}", flush=True)
        RUNTIMES = [rt for rt in RUNTIMES if rt != "ours-bf16"]
        OURS = tuple(rt for rt in OURS if rt != "ours-bf16")
    cli, fma = args.build / "arrowembed", args.build / "bench" / "fma_peak"
    models = {rt: CONVERTED / f"all-MiniLM-L6-v2-{OURS_MODEL[rt]}.arrow" for rt in OURS}
    needed = [(cli, "scripts/build.sh"), (fma, "cmake -DARROWEMBED_BUILD_BENCH=ON and build fma_peak"),
              (MODEL_DIR / "model.safetensors", "scripts/run.sh"), *[(m, "scripts/run.sh") for m in models.values()]]
    for path, hint in needed:
        if not path.exists():
            sys.exit(f"{path} is missing: {hint}")
    if not ONNX_PATH.is_file():
        print(f"{ONNX_PATH} is missing: exporting it with bench/export_onnx.py", flush=True)
        subprocess.run([sys.executable, str(BENCH_DIR / "export_onnx.py"), "--out", str(ONNX_PATH)], check=True)

    env = child_env(args.threads)
    facts = machine_facts(cli, env)
    print(f"{facts['cpu']}, {facts['cores']} cores; threads {args.threads}; rounds {args.rounds}", flush=True)

    m = {"results": {rt: {w: [] for w in WORKLOADS} for rt in RUNTIMES}, "cold": {rt: [] for rt in RUNTIMES},
         "load": [], "profiles": {}, "smaps": {}, "bf16_note": bf16_note}
    with tempfile.TemporaryDirectory(prefix="engine-bench-") as tmpdir:
        tmp = Path(tmpdir)
        # Texts are made in a child so that this process stays small: a child's
        # ru_maxrss starts from its parent's peak RSS (Linux records the old
        # mm's high-water mark at exec), which would otherwise floor every
        # runtime's peak RSS.
        texts_json = tmp / "texts.json"
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--make-texts", str(texts_json)], check=True,
                       env=env)
        texts = json.loads(texts_json.read_text(encoding="utf-8"))
        short, m["text_stats"] = texts["short"], texts["stats"]
        files = {"short": tmp / "short.txt", "long": tmp / "long.txt"}
        for name in files:
            files[name].write_text("".join(t + "\n" for t in texts[name]), encoding="utf-8")
        del texts
        for path in [MODEL_DIR, *dict.fromkeys(models.values()), ONNX_PATH]:  # warm page cache, 1 MiB at a time
            for f in ([path] if path.is_file() else path.rglob("*")):
                if f.is_file():
                    with f.open("rb") as fh:
                        while fh.read(1 << 20):
                            pass

        m["peak"] = [fma_peak(fma, args.threads)]
        m["ceilings"] = [ceilings(args.threads, env)]
        print(f"FMA peak: {m['peak'][0]['all_threads_gflops']:.1f} GFLOP/s on {m['peak'][0]['threads']} threads",
              flush=True)
        peers = {"pytorch": PyPeer("st", args.threads, texts_json, tmp, env),
                 "ort": PyPeer("ort", args.threads, texts_json, tmp, env)}
        monitor = CpuMonitor(lambda: [p.proc.pid for p in peers.values() if p.proc.returncode is None])
        results, cold = m["results"], m["cold"]
        cold_text = short[0]
        clean = m["clean"] = []
        r = 0
        while sum(clean) < args.rounds and r < args.rounds + args.extra_rounds:
            order = RUNTIMES[r % len(RUNTIMES):] + RUNTIMES[:r % len(RUNTIMES)]
            for name, mode in WORKLOADS:
                seconds = args.long_seconds if name == "long" else args.seconds
                for rt in order:
                    if rt in peers:
                        res = peers[rt].measure(name, 1 if mode == "single" else BATCH, seconds)
                    else:
                        res = run_ours(cli, models[rt], files[name], mode, seconds, args.threads, env, tmp,
                                       OURS_ARGS[rt])
                    results[rt][(name, mode)].append(res)
            for rt in order:
                if rt == "pytorch":
                    argv, stdin = [sys.executable, "-c", COLD_ST, str(MODEL_DIR), str(args.threads), cold_text], None
                elif rt == "ort":
                    argv = [sys.executable, "-c", COLD_ORT, str(BENCH_DIR), str(ONNX_PATH), str(args.threads),
                            cold_text]
                    stdin = None
                else:
                    argv = [str(cli), "embed", "-m", str(models[rt]), "--threads", str(args.threads),
                            *OURS_ARGS[rt]]
                    stdin = cold_text + "\n"
                cold[rt].append(cold_start(argv, stdin, env, tmp))
            m["load"].append(monitor.lap())
            # What the machine gives right now: a neighbour on the host shows up here, not in /proc/stat.
            m["load"][-1]["fma_gflops"] = fma_peak(fma, args.threads, 0.1)["all_threads_gflops"]
            lap = m["load"][-1]
            best = max([m["peak"][0]["all_threads_gflops"]] + [x["fma_gflops"] for x in m["load"]])
            clean.append(lap["others_cores"] <= DISTURBED_CORES and lap["fma_gflops"] >= DISTURBED_PROBE * best)
            done = {rt: results[rt][("short", "batch")][-1]["texts_per_s"] for rt in RUNTIMES}
            r += 1
            print(f"round {r}: short texts/s " + ", ".join(f"{rt} {v:.0f}" for rt, v in done.items()) +
                  f"; other processes {lap['others_cores']:.2f} cores; FMA probe {lap['fma_gflops']:.0f} GFLOP/s"
                  f" -> {'clean' if clean[-1] else 'DISTURBED'}, {sum(clean)}/{args.rounds} clean"
                  f" ({time.perf_counter() - started:.0f} s)", flush=True)
        for rt, p in peers.items():  # what the peers' memory is made of, after every workload
            m["smaps"][rt] = smaps_groups(p.proc.pid)
        m["peer_rss"] = {rt: p.close() for rt, p in peers.items()}
        m["peer_ready"] = {rt: p.ready for rt, p in peers.items()}
        for rt in OURS:
            m["smaps"][rt] = ours_smaps(cli, models[rt], files["long"], args.threads, env, OURS_ARGS[rt])
        m["peak"].append(fma_peak(fma, args.threads))
        m["ceilings"].append(ceilings(args.threads, env))
        if not args.no_profile and shutil.which("perf"):
            print("profiling arrowembed with perf", flush=True)
            monitor.lap()
            for name, mode in WORKLOADS:
                for rt in OURS:
                    m["profiles"][(rt, name, mode)] = profile_ours(
                        cli, models[rt], files[name], mode, args.long_seconds if name == "long" else args.seconds,
                        args.threads, env, tmp, OURS_ARGS[rt])
            m["profile_load"] = monitor.lap()
        m["parent_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024.0
    elapsed = time.perf_counter() - started

    report = build_report(args, facts, m, elapsed)
    print(report)
    if args.out:
        args.out.write_text(report)
    return 0


def med(xs):
    return statistics.median(xs)


def model_facts() -> dict:
    """Encoder weight bytes (the matrices every forward pass reads) and the L3 size."""
    cfg = json.loads((MODEL_DIR / "config.json").read_text())
    h, i, n = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    params = n * (4 * h * h + 2 * h * i)
    l3 = 0
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            if (index / "level").read_text().strip() == "3":
                size = (index / "size").read_text().strip()
                l3 = int(size[:-1]) * (1024 if size.endswith("K") else 2**20) if size[-1] in "KM" else int(size)
        except (OSError, ValueError):
            pass
    return {"matrix_params": params, "layers": n, "l3_bytes": l3}


S, L, G = ("short", "batch"), ("long", "batch"), ("short", "single")
# A round is disturbed when other processes used more than this many cores
# during it, or the FMA probe after it fell below this fraction of the peak.
DISTURBED_CORES, DISTURBED_PROBE = 0.04, 0.90
OURS = ("ours-f32", "ours-f16", "ours-bf16")  # main() drops ours-bf16 without AVX512-BF16


def build_report(args, facts, m, elapsed) -> str:
    text_stats, clean = m["text_stats"], m["clean"]
    use = clean if sum(clean) >= 3 else [True] * len(clean)  # medians over the clean rounds

    def pick(xs):
        return [x for x, ok in zip(xs, use) if ok]
    results = {rt: {w: pick(v) for w, v in ws.items()} for rt, ws in m["results"].items()}
    facts = {**facts, **merge_ceilings(m["ceilings"])}
    cold = {rt: pick(v) for rt, v in m["cold"].items()}
    # The peak: the best all-threads figure of the full runs and the per-round probes (a busy core only lowers it).
    fma_all = max([p["all_threads_gflops"] for p in m["peak"]] + [x["fma_gflops"] for x in m["load"]])
    fma_one = max(p["single_thread_gflops"] for p in m["peak"])
    tput = {rt: {w: med([r["texts_per_s"] for r in results[rt][w]]) for w in WORKLOADS} for rt in RUNTIMES}
    p50 = {rt: med([r["p50"] for r in results[rt][G]]) for rt in RUNTIMES}
    # Best round of each runtime: noise on this VM only ever slows a round down.
    top = {rt: {w: max(r["texts_per_s"] for r in results[rt][w]) for w in WORKLOADS} for rt in RUNTIMES}
    p50_best = {rt: min(r["p50"] for r in results[rt][G]) for rt in RUNTIMES}
    p99 = {rt: med([r["p99"] for r in results[rt][G]]) for rt in RUNTIMES}
    cold_ms = {rt: med([c["ms"] for c in cold[rt]]) for rt in RUNTIMES}
    cold_rss = {rt: max(c["rss"] for c in cold[rt]) for rt in RUNTIMES}
    ours_rss_w = {rt: {w: max(r["rss"] for r in results[rt][w]) for w in WORKLOADS} for rt in OURS}
    rss = {**{rt: max(ours_rss_w[rt].values()) for rt in OURS}, **m["peer_rss"]}
    gflops = {rt: {w: med([r["gflops"] for r in results[rt][w]]) for w in WORKLOADS} for rt in OURS}
    # Useful encoder FLOPs per text of each workload (no padding), from our counter;
    # a peer's "useful GFLOP/s" is that times its texts/s.
    flops_per_text = {w: med([r["gflops"] * 1e9 * r["seconds"] / r["texts"] for r in results["ours-f32"][w]])
                      for w in WORKLOADS}
    eff = {rt: {w: flops_per_text[w] * tput[rt][w] / 1e9 for w in WORKLOADS} for rt in RUNTIMES}
    pad = {S: text_stats["short"]["padded_fraction"], L: text_stats["long"]["padded_fraction"], G: 0.0}
    ref = cold["pytorch"][0]["vector"]
    agree = {rt: max(abs(a - b) for a, b in zip(cold[rt][0]["vector"], ref)) for rt in RUNTIMES}

    def cosine(u, v):
        return sum(a * b for a, b in zip(u, v)) / (sum(a * a for a in u) * sum(b * b for b in v)) ** 0.5
    agree_cos = {rt: cosine(cold[rt][0]["vector"], ref) for rt in RUNTIMES}
    has_bf16 = "ours-bf16" in OURS
    ours_fp32 = [rt for rt in OURS if rt != "ours-bf16"]  # ours with f32 products, like the peers
    bf16_caveat = (f"arrowembed bf16 is a lower-precision mode: the f32 model file with `--precision bf16` (bf16 "
                   f"matrix products with f32 sums, AVX512-BF16), {BF16_FIDELITY} against sentence-transformers on "
                   "the 303-text fixture (tests/fixtures/minilm-reference.parquet), while PyTorch and ONNX Runtime "
                   "run fp32 -- its ratios against them are not like-for-like in precision")
    mf = model_facts()
    load = pick(m["load"])

    zen4_note = ""
    if "avx512f" in facts["isa"] and facts["cpu_family_model"].startswith("25/") and "AMD" in facts["cpu"]:
        zen4_note = ("; this is an AMD Zen 4 core, which runs 512-bit FMAs as two 256-bit halves, so the AVX2 "
                     "FMA peak is also the ceiling for the AVX-512 kernels of OpenBLAS (Cooperlake), MKL/oneDNN "
                     "and ORT's MLAS")
    command = "flock /tmp/arrowembed-build.lock .venv/bin/python bench/engine_bench.py" + \
        "".join(f" {a}" for a in sys.argv[1:])
    ts, tl = text_stats["short"], text_stats["long"]
    out = [
        "# Engine benchmark: arrowembed vs sentence-transformers (PyTorch) and ONNX Runtime",
        "",
        f"- command (repository root): `{command}`",
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; the whole run took {elapsed:.0f} s",
        f"- machine: {facts['cpu']} (family/model {facts['cpu_family_model']}), {facts['cores']} cores"
        f"{', KVM guest' if facts['virtualised'] else ''}, L3 {mf['l3_bytes'] / 2**20:.0f} MiB, Linux "
        f"{facts['kernel']}; ISA: {facts['isa']}",
        f"- FMA peak (`build/bench/fma_peak`: AVX2 FMA chains, best of 3; the max of a run before the rounds, one "
        f"after and the per-round probes): {fma_one:.1f} GFLOP/s on one thread, **{fma_all:.1f} GFLOP/s on "
        f"{m['peak'][0]['threads']} threads** ({fma_all / fma_one:.2f}x one thread"
        + (")" if fma_all >= 0.9 * m["peak"][0]["threads"] * fma_one else
           "; below the thread count: a core was busy during every peak measurement, so every % of peak is "
           "overstated)"),
        f"- ceilings measured on the same {args.threads} threads with torch (best of 3 windows, max of a run before "
        f"and one after the rounds): a 2048x2048 sgemm (MKL) runs at "
        f"{facts['torch_sgemm_2048_gflops']:.0f} GFLOP/s ({facts['torch_sgemm_2048_gflops'] / fma_all:.0%} of the FMA "
        "peak); read bandwidth (torch sum) over a working set of "
        + ", ".join(f"{int(n) / 1e6:.1f} MB {g:.0f} GB/s" for n, g in facts["read_gbps"].items()) + zen4_note,
        f"- arrowembed: {facts['binary']}; commit {facts['commit']}; {facts['cxx']}; {facts['openblas']}",
        "- arrowembed runtimes: f32 = models/converted/all-MiniLM-L6-v2-f32.arrow, f16 = "
        "models/converted/all-MiniLM-L6-v2-f16.arrow (f32 products; f16 weights widened to f32)"
        + (", bf16 = the f32 file with `--precision bf16` on every `arrowembed bench` / `arrowembed embed` it runs"
           if has_bf16 else "") + (f"; {m['bf16_note']}" if m.get("bf16_note") else ""),
        *([f"- **precision: {bf16_caveat}.**"] if has_bf16 else []),
        f"- peers: torch {facts['torch']} (CPU capability {facts['torch_cpu_capability']}, {facts['torch_blas']}, "
        f"oneDNN {facts['torch_onednn']}), sentence-transformers {facts['sentence-transformers']}, "
        f"transformers {facts['transformers']}, tokenizers {facts['tokenizers']}, onnxruntime {facts['onnxruntime']}, "
        f"onnx {facts['onnx']}, numpy {facts['numpy']}, Python {facts['python']}",
        "- ONNX Runtime graph after ORT_ENABLE_ALL: "
        + ", ".join(f"{k} x{v}" for k, v in facts["ort_graph_ops"].items())
        + (" -- exact GELU (BiasGelu/Gelu), no FastGelu" if not facts["ort_graph_ops"].get("FastGelu") else ""),
        f"- threads: {args.threads} for every runtime (arrowembed `--threads`, torch.set_num_threads -> "
        f"{m['peer_ready']['pytorch'].get('torch_threads')}, ORT intra_op_num_threads -> "
        f"{m['peer_ready']['ort'].get('intra_op_num_threads')}; OMP/MKL/RAYON_NUM_THREADS={args.threads})",
        f"- texts (generated by the script, seed {SEED}): short: {ts['texts']} sentences of {ts['min']}-{ts['max']} "
        f"tokens (mean {ts['mean']:.1f}); long: {tl['texts']} passages of {tl['min']}-{tl['max']} tokens (mean "
        f"{tl['mean']:.1f}); [CLS]/[SEP] included. Padding to the longest text of each batch (what the peers do) "
        f"adds {ts['padded_fraction']:.0%} (short) and {tl['padded_fraction']:.0%} (long) padding tokens; "
        "arrowembed packs texts without padding",
        f"- protocol: {sum(use)} interleaved rounds used of {len(clean)} run ({len(clean) - sum(clean)} disturbed"
        + ("; fewer than 3 clean rounds, so all rounds are used and the figures are less reliable"
           if sum(clean) < 3 else ", left out") +
        "; disturbed = other processes above "
        f"{DISTURBED_CORES:g} cores or the FMA probe below {DISTURBED_PROBE:.0%} of the peak), each running every "
        "workload on every runtime (order rotated "
        f"per round) and one cold start per runtime; {args.seconds:g} s timed per short/single measurement, "
        f"{args.long_seconds:g} s per long one, after one untimed warm-up call; every figure is the median over the "
        "rounds. Every runtime's timing includes tokenization and pooling. Each runtime runs in its own process; "
        "page cache warm",
        f"- other processes used {med([x['others_cores'] for x in load]):.2f} cores on median per round (max "
        f"{max(x['others_cores'] for x in load):.2f}); hypervisor steal {med([x['steal_cores'] for x in load]):.2f} "
        "cores; a 0.1 s FMA probe after each round gave "
        + ", ".join(f"{x['fma_gflops']:.0f}" for x in load) + " GFLOP/s (a round well below the peak was slowed by "
        "the host)",
        "- the runtimes agree: max |diff| of the cold-start text's vector against PyTorch's: "
        + ", ".join(f"{LABELS[rt]} {agree[rt]:.1e}" for rt in RUNTIMES if rt != "pytorch")
        + (f" (cosine: arrowembed bf16 {agree_cos['ours-bf16']:.6f}, arrowembed f32 "
           f"{agree_cos['ours-f32']:.8f})" if has_bf16 else ""),
        "",
        "## Results",
        "",
        "| | " + " | ".join(LABELS[rt] for rt in RUNTIMES) + " |",
        "|---|" + "---:|" * len(RUNTIMES),
    ]

    def row(label, values, f):
        out.append(f"| {label} | " + " | ".join(f(values[rt]) if rt in values else "" for rt in RUNTIMES) + " |")

    row("short texts, batch 32 (texts/s)", {rt: tput[rt][S] for rt in RUNTIMES}, lambda v: f"{v:,.0f}")
    row("long texts, batch 32 (texts/s)", {rt: tput[rt][L] for rt in RUNTIMES}, lambda v: f"{v:,.1f}")
    row("single short text per call (texts/s)", {rt: tput[rt][G] for rt in RUNTIMES}, lambda v: f"{v:,.0f}")
    row("single-text latency p50 (ms)", p50, lambda v: f"{v:.2f}")
    row("single-text latency p99 (ms)", p99, lambda v: f"{v:.2f}")
    row("cold start: spawn -> first vector (ms)", cold_ms, lambda v: f"{v:,.0f}" if v >= 100 else f"{v:.1f}")
    row("peak RSS, all workloads", rss, fmt_bytes)
    row("peak RSS, cold-start process (one text)", cold_rss, fmt_bytes)
    for w, label in ((S, "short batch"), (L, "long batch"), (G, "single text")):
        row(f"useful GFLOP/s, {label} (% of FMA peak)", {rt: eff[rt][w] for rt in RUNTIMES},
            lambda v: f"{v:.1f} ({v / fma_all:.0%})")
    out += [
        "",
        "Useful GFLOP/s: the encoder's multiply-adds x 2 on the real tokens (as arrowembed's EmbedStats counts them: "
        f"{flops_per_text[S] / 1e6:.0f} MFLOP per short text, {flops_per_text[L] / 1e6:.0f} MFLOP per long text) "
        "times texts/s. For arrowembed this is the `gflops` that `arrowembed bench` reports; the peers also compute "
        "their padding, which it does not credit "
        f"(counting it, ONNX Runtime runs at {eff['ort'][S] / (1 - pad[S]) / fma_all:.0%} of the peak on short "
        f"texts and {eff['ort'][L] / (1 - pad[L]) / fma_all:.0%} on long ones, PyTorch at "
        f"{eff['pytorch'][S] / (1 - pad[S]) / fma_all:.0%} and {eff['pytorch'][L] / (1 - pad[L]) / fma_all:.0%}).",
        "",
        f"Peak RSS is ru_maxrss of each runtime's own process (wait4). The harness keeps itself at "
        f"{fmt_bytes(m['parent_maxrss'])}, below every figure, because Linux starts a child's ru_maxrss from its "
        "parent's. The Python peers are one process each for all workloads; arrowembed's figure is the largest of "
        "its per-measurement processes (" + "; ".join(
            f"{rt[5:]}: short {fmt_bytes(ours_rss_w[rt][S])}, long {fmt_bytes(ours_rss_w[rt][L])}, single "
            f"{fmt_bytes(ours_rss_w[rt][G])}" for rt in OURS) + ").",
        "",
    ]
    if has_bf16:
        out += [f"Precision: {bf16_caveat}. Its GFLOP/s counts the same encoder FLOPs, but the FMA "
                "peak above is an f32 (AVX2 FMA) figure while a bf16 dot-product instruction does twice the "
                "multiply-adds of an f32 FMA of the same width, so its % of that peak is not an efficiency on the "
                "same scale as the others'.", ""]
    out += [
        "## Targets (issue 4)",
        "",
        "| target | " + " | ".join(LABELS[rt] for rt in OURS) + " |",
        "|---|" + "---|" * len(OURS),
    ]
    verdicts = {}

    def target(key, label, goal, higher_better, value, show, best=None):
        cells = []
        for rt in OURS:
            v = value(rt)
            ok = v >= goal if higher_better else v <= goal
            verdicts[(key, rt)] = (ok, v, goal)
            cells.append(f"{show(v)} **{'PASS' if ok else 'MISS'}**" + (f" (best rounds {show(best(rt))})"
                                                                          if best else ""))
        out.append(f"| {label} | " + " | ".join(cells) + " |")

    x = lambda v: f"{v:.2f}x"  # noqa: E731
    target("short_ort", "short-text throughput >= 2x ONNX Runtime", 2.0, True,
           lambda rt: tput[rt][S] / tput["ort"][S], x, lambda rt: top[rt][S] / top["ort"][S])
    target("short_pt", "short-text throughput >= 4x PyTorch", 4.0, True,
           lambda rt: tput[rt][S] / tput["pytorch"][S], x, lambda rt: top[rt][S] / top["pytorch"][S])
    target("long_ort", "long-text throughput >= 1.3x ONNX Runtime", 1.3, True,
           lambda rt: tput[rt][L] / tput["ort"][L], x, lambda rt: top[rt][L] / top["ort"][L])
    target("p50", "single-text p50 <= 0.5x ONNX Runtime", 0.5, False, lambda rt: p50[rt] / p50["ort"], x,
           lambda rt: p50_best[rt] / p50_best["ort"])
    target("cold", "cold start <= 1/50 (0.02x) of sentence-transformers", 0.02, False,
           lambda rt: cold_ms[rt] / cold_ms["pytorch"], lambda v: f"{v:.4f}x")
    target("rss", "peak RSS <= 1/10 (0.10x) of PyTorch", 0.10, False, lambda rt: rss[rt] / rss["pytorch"], x)
    pct = lambda v: f"{v:.0%}"  # noqa: E731
    target("fma_short", ">= 60 % of the FMA peak, batch 32, short texts", 0.6, True,
           lambda rt: gflops[rt][S] / fma_all, pct)
    target("fma_long", ">= 60 % of the FMA peak, batch 32, long texts", 0.6, True,
           lambda rt: gflops[rt][L] / fma_all, pct)
    out += ["", "Ratios are arrowembed's figure over the peer's (throughput: higher is better; latency, cold start "
            "and RSS: lower is better). PASS/MISS is decided on the medians; \"best rounds\" compares each "
            "runtime's best round instead (a shared VM only ever slows a round down), to show how much the verdict "
            "depends on noise.", ""]
    if has_bf16:
        out += [f"The arrowembed bf16 column is not like-for-like in precision: bf16 products ({BF16_FIDELITY} "
                "against sentence-transformers on the fixture) against fp32 peers, and its FMA-peak percentages "
                "are against the f32 FMA peak (a bf16 dot product does twice the multiply-adds per instruction).",
                ""]

    # ---- misses: by how much, and what limits them
    prof = m["profiles"]

    def share(rt, w, *groups):
        p = prof.get((rt, w[0], w[1])) or {}
        return sum(v for k, v in p.items() if any(k.startswith(g) for g in groups))

    def top_groups(rt, w, n=6):
        p = prof.get((rt, w[0], w[1])) or {}
        items = sorted(((k, v) for k, v in p.items() if not k.startswith("_")), key=lambda kv: -kv[1])[:n]
        return ", ".join(f"{k} {v:.0f} %" for k, v in items)

    def by_how_much(key):
        parts = []
        for rt in OURS:
            ok, v, goal = verdicts[(key, rt)]
            if ok:
                continue
            if key.startswith("fma"):
                parts.append(f"{rt[5:]} {v:.0%} vs 60 % ({(goal - v) * 100:.0f} points short)")
            elif key in ("p50", "cold", "rss"):
                parts.append(f"{rt[5:]} {v:.2f}x vs {goal:g}x ({v / goal:.1f}x the budget)")
            else:
                parts.append(f"{rt[5:]} {v:.2f}x vs {goal:g}x (reaches {v / goal:.0%} of it)")
        return "; ".join(parts)

    explained = set()
    missed = [k for k in ("short_ort", "short_pt", "long_ort", "p50", "cold", "rss", "fma_short", "fma_long")
              if any(not verdicts[(k, rt)][0] for rt in OURS)]
    out += ["## Misses: by how much, and what limits them", ""]
    if not missed:
        out += ["Every target is met.", ""]
    for key in missed:
        if key in ("short_ort", "short_pt", "long_ort"):
            w = L if key == "long_ort" else S
            peer = "pytorch" if key == "short_pt" else "ort"
            goal = {"short_ort": 2.0, "short_pt": 4.0, "long_ort": 1.3}[key]
            need = goal * eff[peer][w] / fma_all
            peer_best = flops_per_text[w] * top[peer][w] / 1e9 / fma_all
            need_best = goal * peer_best
            best = max(gflops[rt][w] for rt in ours_fp32) / fma_all
            text = (f"- **{w[0]}-text throughput >= {goal:g}x {LABELS[peer]}** -- {by_how_much(key)}. "
                    f"{LABELS[peer]} already turns {eff[peer][w] / fma_all:.0%} of the FMA peak into useful work "
                    f"({eff[peer][w]:.0f} of {fma_all:.0f} GFLOP/s; {peer_best:.0%} in its best round), so "
                    f"{goal:g}x needs {need:.0%} of the peak ({need_best:.0%} against its best round); arrowembed "
                    f"{'with f32 products ' if has_bf16 else ''}reaches {best:.0%}. ")
            if need > 1 or need_best > 1:
                text += (f"**The target is {'' if need > 1 else 'at or '}above the machine's arithmetic ceiling**: "
                         f"at 100 % of the FMA peak an engine doing these FLOPs would be "
                         f"{fma_all / eff[peer][w]:.2f}x {LABELS[peer]}'s median ({1 / peer_best:.2f}x its best "
                         "round); only doing fewer FLOPs (lower-precision products such as int8/bf16, or a smaller "
                         "model) could reach it. ")
            else:
                text += (f"The gap is {(need - best) * 100:.0f} points of FMA peak. ")
            if has_bf16:
                bv = tput["ours-bf16"][w] / tput[peer][w]
                text += (f"arrowembed bf16, whose products the f32 FMA peak does not bound, reaches {bv:.2f}x "
                         f"({'meets' if bv >= goal else 'misses'} the {goal:g}x) -- at lower precision "
                         f"({BF16_FIDELITY} vs sentence-transformers) than the fp32 peer. ")
            f32p = prof.get(("ours-f32", w[0], w[1]))
            if f32p and w in explained:
                text += f"Where arrowembed's time goes on {w[0]} batches: see the bullet above."
            elif f32p:
                explained.add(w)
                kernels = share("ours-f32", w, "GEMM kernels") / 100
                kernel_eff = f32p.get("_gflops", 0) / fma_all / kernels if kernels else 0
                text += (f"Where arrowembed f32's time goes ({w[0]} batch, perf): {top_groups('ours-f32', w)}. ")
                if 0 < kernel_eff <= 1:
                    text += (f"While they run, the GEMM kernels do about {kernel_eff:.0%} of the FMA peak (the "
                             "profiled run's GFLOP/s over their share of the samples); ")
                text += f"the other {(1 - kernels) * 100:.0f} % of the time is work around them"
                packing = share("ours-f32", w, "OpenBLAS packing")
                if packing >= 1:
                    text += (f", {packing:.0f} % of it OpenBLAS copying weight panels again on every call (ONNX "
                             "Runtime packs constant weights once, at session creation)")
                text += ". "
                if need <= 1 and 1 >= kernel_eff > need:
                    text += (f"At that kernel efficiency the target needs the work around the kernels cut from "
                             f"{(1 - kernels) * 100:.0f} % to {(1 - need / kernel_eff) * 100:.0f} % of the time.")
            out.append(text)
        elif key == "p50":
            tgt = 0.5 * p50["ort"]
            fl = flops_per_text[G]
            wb32 = mf["matrix_params"] * 4
            bw = {int(n): g for n, g in facts["read_gbps"].items()}
            bw32 = bw.get(wb32, 0.0)
            best_fp32_eff = max(eff[rt][w] for rt in RUNTIMES if rt != "ours-bf16" for w in (S, L))
            text = (f"- **single-text p50 <= 0.5x ONNX Runtime** -- {by_how_much(key)}: the budget is "
                    f"{tgt:.2f} ms against ORT's {p50['ort']:.2f} ms; arrowembed f32 takes {p50['ours-f32']:.2f} ms, "
                    f"f16 {p50['ours-f16']:.2f} ms"
                    + (f", bf16 {p50['ours-bf16']:.2f} ms (lower precision)" if has_bf16 else "") +
                    f". One short text is {fl / 1e6:.0f} MFLOP: within {tgt:.2f} ms "
                    f"that is {fl / tgt / 1e6:.0f} GFLOP/s ({fl / tgt / 1e6 / fma_all:.0%} of the FMA peak) from "
                    f"products only ~{ts['mean']:.0f} rows tall; at their p50s arrowembed f32 reaches "
                    f"{fl / p50['ours-f32'] / 1e6 / fma_all:.0%}, f16 {fl / p50['ours-f16'] / 1e6 / fma_all:.0%}, "
                    + (f"bf16 {fl / p50['ours-bf16'] / 1e6 / fma_all:.0%} (of the f32 peak), " if has_bf16 else "") +
                    f"ORT {fl / p50['ort'] / 1e6 / fma_all:.0%}, and no {'f32-product ' if has_bf16 else ''}runtime "
                    f"here gets above {best_fp32_eff / fma_all:.0%} even on batches. ")
            if bw32:
                text += (f"Memory bandwidth is not what limits it: every call reads the {wb32 / 1e6:.1f} MB of f32 "
                         f"encoder matrices (half that in f16), which at the measured {bw32:.0f} GB/s for that "
                         f"working set takes {wb32 / bw32 / 1e6:.2f} ms; arrowembed f32 reads them at "
                         f"{wb32 / p50['ours-f32'] / 1e6:.0f} GB/s at its p50, ORT at "
                         f"{wb32 / p50['ort'] / 1e6:.0f} GB/s. ")
            if prof.get(("ours-f32",) + G):
                text += (f"Where the time goes (perf) -- f32 single: {top_groups('ours-f32', G)}; f16 single: "
                         f"{top_groups('ours-f16', G)}"
                         + (f"; bf16 single: {top_groups('ours-bf16', G)}" if prof.get(("ours-bf16",) + G) else "") +
                         ". The GEMM kernels' share, and the synchronisation and "
                         f"per-product work around them ({mf['layers'] * 6} products per pass, each split across the "
                         "threads), is what a faster small-row path has to shrink.")
            out.append(text)
        elif key == "rss":
            budget = 0.1 * rss["pytorch"]
            text = (f"- **peak RSS <= 1/10 of PyTorch** -- {by_how_much(key)}: the budget is {fmt_bytes(budget)} "
                    f"(PyTorch peaks at {fmt_bytes(rss['pytorch'])}); arrowembed f32 peaks at "
                    f"{fmt_bytes(rss['ours-f32'])}, f16 at {fmt_bytes(rss['ours-f16'])}"
                    + (f", bf16 at {fmt_bytes(rss['ours-bf16'])}" if has_bf16 else "") + ". ")
            for rt in OURS:
                g = m["smaps"].get(rt)
                if g:
                    total = sum(g.values())
                    text += (f"In the middle of a long-text run arrowembed {rt[5:]} holds {fmt_bytes(total)}: "
                             f"anonymous memory {fmt_bytes(g.get('anonymous (heap, workspace, tensors)', 0))}, "
                             f"mapped weights {fmt_bytes(g.get('model weights (mapped file)', 0))}, code "
                             f"{fmt_bytes(sum(v for k, v in g.items() if k.startswith('code: ')))} (details below). ")
            text += (f"The f32 encoder matrices alone are {mf['matrix_params'] * 4 / 2**20:.0f} MiB (every pass "
                     f"touches all of them, mapped from the file), {mf['matrix_params'] * 4 / budget:.0%} of the "
                     "budget. The anonymous part holds the matrices packed for the batch kernels (f32 and f16 files: "
                     f"f32 panels, {mf['matrix_params'] * 4 / 2**20:.0f} MiB, made by the first batch; bf16: "
                     f"{mf['matrix_params'] * 2 / 2**20:.0f} MiB, made at load; single texts read the mapped "
                     "matrices in place) and the forward-pass workspace, which grows with the tokens "
                     "of one pass (EmbedderOptions::max_batch_tokens, 2048 by default; a batch of 32 long texts is "
                     f"~{32 * tl['mean']:,.0f} tokens, so it runs as {math.ceil(32 * tl['mean'] / 2048)} passes of "
                     f"~{32 * tl['mean'] / math.ceil(32 * tl['mean'] / 2048):,.0f}): per workload arrowembed peaks at "
                     + "; ".join(f"{rt[5:]} short {fmt_bytes(ours_rss_w[rt][S])}, long {fmt_bytes(ours_rss_w[rt][L])}, "
                                 f"single {fmt_bytes(ours_rss_w[rt][G])}" for rt in OURS)
                     + f" against the {fmt_bytes(budget)} budget.")
            arrow_code = sum(v for k, v in m["smaps"].get("ours-f32", {}).items()
                             if k.startswith("code: ") and ("arrow" in k or "parquet" in k))
            if arrow_code:
                text += (f" Of the fixed part, libarrow + libparquet code is {fmt_bytes(arrow_code)} (the embedding "
                         "path only needs Arrow's IPC reader).")
            out.append(text)
        elif key.startswith("fma"):
            w = S if key == "fma_short" else L
            out.append(f"- **>= 60 % of the FMA peak, {w[0]} texts** -- {by_how_much(key)}.")
        elif key == "cold":
            out.append(f"- **cold start** -- {by_how_much(key)}.")
    out.append("")

    # ---- memory composition of every runtime
    out += ["## What the resident memory is made of", "",
            "From /proc/PID/smaps: arrowembed sampled in the middle of a long-text batch run (its largest "
            "workspace); the Python peers at the end of all workloads (their peak may have been higher).", ""]
    for rt in RUNTIMES:
        if m["smaps"].get(rt):
            out.append(f"- {LABELS[rt]}: {summarise_smaps(m['smaps'][rt])}")
    out.append("")

    # ---- profile
    if any(prof.values()):
        keys = [k for k in prof if prof[k]]
        names = sorted({n for k in keys for n in prof[k] if not n.startswith("_")},
                       key=lambda n: -max(prof[k].get(n, 0) for k in keys))
        out += ["## Where arrowembed's time goes", "",
                "`perf record -e cpu-clock -F 2000` (a software clock: this VM exposes no hardware counters) over "
                "one `arrowembed bench` run per workload; self time grouped by symbol, % of all samples of both "
                "threads (groups under 0.5 % everywhere omitted); other processes used "
                f"{m.get('profile_load', {}).get('others_cores', float('nan')):.2f} cores meanwhile:", "",
                "| | " + " | ".join(f"{k[0][5:]} {k[1]} {k[2]}" for k in keys) + " |",
                "|---|" + "---:|" * len(keys)]
        for n in names:
            vals = [prof[k].get(n, 0.0) for k in keys]
            if max(vals) >= 0.5:
                out.append(f"| {n} | " + " | ".join(f"{v:.1f}" for v in vals) + " |")
        out.append("| *GFLOP/s of the profiled run* | " +
                   " | ".join(f"{prof[k]['_gflops']:.1f}" if "_gflops" in prof[k] else "" for k in keys) + " |")
        out.append("")

    # ---- raw
    out += ["## Every round", "",
            "Including disturbed rounds (marked * in the last rows), which the medians leave out.",
            "", "| runtime | workload | texts/s per round | p50 ms per round | p99 ms per round |",
            "|---|---|---|---|---|"]
    results, cold = m["results"], m["cold"]
    for rt in RUNTIMES:
        for w in WORKLOADS:
            rs = results[rt][w]
            out.append(f"| {LABELS[rt]} | {w[0]} {w[1]} | " + ", ".join(f"{r['texts_per_s']:.1f}" for r in rs) +
                       " | " + ", ".join(f"{r['p50']:.2f}" for r in rs) + " | " +
                       ", ".join(f"{r['p99']:.2f}" for r in rs) + " |")
        out.append(f"| {LABELS[rt]} | cold start ms | " + ", ".join(f"{c['ms']:.0f}" for c in cold[rt]) + " | | |")
    mark = ["" if ok else "*" for ok in clean]
    out.append("| (other processes, cores) | | " +
               ", ".join(f"{x['others_cores']:.2f}{k}" for x, k in zip(m["load"], mark)) + " | | |")
    out.append("| (FMA probe after the round, GFLOP/s) | | " +
               ", ".join(f"{x['fma_gflops']:.0f}{k}" for x, k in zip(m["load"], mark)) + " | | |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
