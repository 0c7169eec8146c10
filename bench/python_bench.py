#!/usr/bin/env python3
"""Python package benchmark (issue 14): what the binding costs over the C++
engine, against sentence-transformers, and Ray Data with 1 and 2 actors
against the same engine in-process; the same texts, threads and run.

  flock /tmp/arrowembed-build.lock .venv/bin/python bench/python_bench.py --out bench/results/python.md
  .venv/bin/python bench/python_bench.py --texts 200 --rounds 1      # a quick check of the harness

Needs the package installed in the running interpreter's environment
(scripts/setup.sh), build/arrowembed, and models/converted/
all-MiniLM-L6-v2-f32.arrow (scripts/run.sh). Optional, each reported as
missing rather than failing: ray[data] (a test requirement of .venv) and
sentence-transformers with torch (in .venv with `scripts/setup.sh
--reference`, or in .venv-peers from scripts/setup_peers.sh).

Texts: --texts (default 10,000) distinct short sentences made by
bench/server_bench.py's generator (deterministic; the corpus the server and
multi-model benchmarks use), as a text file, a Parquet file and a pyarrow
array. Every figure processes all of them, with --threads engine threads.

Runtimes, each in a long-lived process of its own, warmed up once:
  - Model.encode(texts) (batch_size 32, the default: 32 texts per engine call),
    Model.encode(texts, batch_size=len(texts)) (one call) and
    Model.encode_arrow(array) (one call): one pass over the texts each;
  - the C++ engine alone: `arrowembed bench`, which times only the engine's
    embed calls (load, input and warm-up call excluded), on the same texts
    file: --batch-size 32 for about one pass (its --seconds is the pass time
    of encode(batch_size=32) in the same round), and --batch-size N
    --seconds 0 (a warm-up call of all N texts, then two timed ones) against
    the one-call forms. Binding overhead = 1 - Python texts/s / engine texts/s
    of the same call shape (target <= 3 %);
  - sentence-transformers: SentenceTransformer(models/all-MiniLM-L6-v2,
    device="cpu").encode(texts, batch_size=32), torch.set_num_threads(threads);
  - Ray Data on a local single-node Ray (ray.init, logical CPUs = threads + 1,
    the extra one for Ray Data's own listing/read/write tasks), started for
    each measurement and stopped after it (an idle Ray would slow the
    others), warmed up by a 256-text job of the same shape:
    read_parquet -> repartition(8) -> map_batches(arrowembed.ray.Embedder,
    ActorPoolStrategy(size=k), num_cpus=threads/k) -> write_parquet, k = 1, 2,
    wall time from the read to the last file written, actor start included;
    also the time the actors spent in their batches (Ray Data's stats). Ray's
    processes are found by an environment marker to count their CPU time as
    ours. Ray authenticates with a token of the run's own (nothing is
    written to ~/.ray).
Rounds interleave every runtime (order rotated per round); figures are
medians over rounds and ratios are taken within a round (this VM's speed
drifts over minutes), with the share of the CPU other processes used during
each measurement. The vectors are checked first: every arrowembed form, the
CLI's `embed` and Ray's output must be identical bit for bit;
sentence-transformers within f32 tolerance. Expect 10-15 minutes on 2
cores with the defaults (an estimate from a 200-text run).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
import server_bench as sb  # noqa: E402  (the texts)

MODEL_FILE = REPO / "models" / "converted" / "all-MiniLM-L6-v2-f32.arrow"
MODEL_DIR = REPO / "models" / "all-MiniLM-L6-v2"
PY_FORMS = ("encode", "encode_all", "encode_arrow")
LABELS = {"encode": "Model.encode (batch_size 32)", "encode_all": "Model.encode (batch_size=len(texts))",
          "encode_arrow": "Model.encode_arrow (one call)", "cli32": "C++ engine, 32 texts per call",
          "cli_all": "C++ engine, one call of all texts", "st": "sentence-transformers encode (batch 32)",
          "ray1": "Ray Data, 1 actor", "ray2": "Ray Data, 2 actors"}
RAY_BLOCKS = 8


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# CPU accounting: this process tree vs the whole machine.

def process_table() -> dict[int, tuple[str, int, int]]:
    """Every process now: pid -> (state, parent pid, CPU ticks incl. reaped children)."""
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    rest = f.read().rsplit(")", 1)[1].split()
                procs[int(d)] = (rest[0], int(rest[1]), sum(int(x) for x in rest[11:15]))
            except (OSError, IndexError, ValueError):
                pass
    return procs


def descendants(procs: dict[int, tuple[str, int, int]], keep: set[int] = frozenset()) -> set[int]:
    """This process and its descendants in `procs`, but for `keep` and theirs."""
    mine, grew = {os.getpid()}, True
    while grew:
        grew = False
        for pid, (_, ppid, _) in procs.items():
            if ppid in mine and pid not in mine and pid not in keep:
                mine.add(pid)
                grew = True
    return mine


def tree_cpu_seconds() -> float:
    """CPU time of this process and every descendant (their reaped children included)."""
    procs = process_table()
    return sum(procs[p][2] for p in descendants(procs) if p in procs) / os.sysconf("SC_CLK_TCK")


def snapshot() -> tuple[float, float, float]:
    return time.perf_counter(), sb.cpu_busy_seconds(), tree_cpu_seconds()


class MarkedCpu:
    """CPU time of the processes carrying an environment marker, sampled
    every 0.2 s while it runs: how Ray's processes are counted, since the
    raylet reaps its workers without passing their CPU time on to us (rusage
    cannot see them). A process's last 0.2 s may be missed."""

    def __init__(self, marker: str):
        self.marker = marker.encode()
        self.seen: dict[tuple[int, int], float] = {}  # (pid, start time) -> CPU seconds
        self.checked: dict[tuple[int, int], bool] = {}
        self.stop_flag = False

    def sample(self) -> None:
        tck = os.sysconf("SC_CLK_TCK")
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    rest = f.read().rsplit(")", 1)[1].split()
                key = (int(d), int(rest[19]))
                if key not in self.checked:
                    with open(f"/proc/{d}/environ", "rb") as f:
                        self.checked[key] = self.marker in f.read().split(b"\0")
                if self.checked[key]:
                    self.seen[key] = max(self.seen.get(key, 0.0), (int(rest[11]) + int(rest[12])) / tck)
            except (OSError, IndexError, ValueError):
                pass

    def __enter__(self) -> "MarkedCpu":
        import threading

        def loop():
            while not self.stop_flag:
                self.sample()
                time.sleep(0.2)
        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_flag = True
        self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def own_cpu() -> float:
    import resource
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def other_share(a: tuple, b: tuple) -> float:
    return max(0.0, (b[1] - a[1]) - (b[2] - a[2])) / ((b[0] - a[0]) * (os.cpu_count() or 1))


# ---------------------------------------------------------------------------
# Workers: `python_bench.py --worker arrowembed|st|ray --dir TMP --threads N`.
# Each loads its runtime, warms it up, prints {"ready": ...}, then answers one
# JSON request per stdin line with one JSON line, until stdin closes.

def worker_arrowembed(tmp: Path, threads: int) -> None:
    import numpy as np
    import pyarrow as pa

    import arrowembed
    texts = (tmp / "texts.txt").read_text(encoding="utf-8").split("\n")[:-1]
    array = pa.array(texts, pa.string())
    model = arrowembed.Model(MODEL_FILE, threads=threads)
    model.encode(texts[:512])  # first touch of the weights, packed panels, workspace
    model.encode_arrow(array.slice(0, 512))
    ready({"threads": model.threads, "arrowembed": arrowembed.__version__, "pyarrow": pa.__version__,
           "numpy": np.__version__})
    for req in requests():
        start = time.perf_counter()
        if req["form"] == "encode":
            out = model.encode(texts)
        elif req["form"] == "encode_all":
            out = model.encode(texts, batch_size=len(texts))
        else:
            out = model.encode_arrow(array)
        seconds = time.perf_counter() - start
        if req.get("save"):
            vectors = out if isinstance(out, np.ndarray) else out.values.to_numpy().reshape(len(out), -1)
            np.save(tmp / f"vectors-{req['form']}.npy", vectors)
        answer({"seconds": seconds, "texts_per_s": len(texts) / seconds})


def worker_st(tmp: Path, threads: int) -> None:
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer, __version__ as st_version

    torch.set_num_threads(threads)
    texts = (tmp / "texts.txt").read_text(encoding="utf-8").split("\n")[:-1]
    model = SentenceTransformer(str(MODEL_DIR), device="cpu")
    model.encode(texts[:512], batch_size=32, show_progress_bar=False)
    ready({"torch": torch.__version__, "sentence-transformers": st_version, "torch_threads": torch.get_num_threads()})
    for req in requests():
        start = time.perf_counter()
        out = model.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False)
        seconds = time.perf_counter() - start
        if req.get("save"):
            np.save(tmp / "vectors-st.npy", out.astype(np.float32))
        answer({"seconds": seconds, "texts_per_s": len(texts) / seconds})


def worker_ray(tmp: Path, threads: int) -> None:
    """A local Ray for one measurement (an idle Ray would slow the others'),
    warmed up with a small job of the same shape, then the timed job."""
    import re

    import numpy as np
    import pyarrow.parquet as pq
    import ray
    import ray.data

    from arrowembed.ray import Embedder

    ray_tmp = Path(tempfile.mkdtemp(prefix="aebench-ray-", dir="/tmp"))  # Ray's socket paths must be short
    ray.init(num_cpus=threads + 1, include_dashboard=False, object_store_memory=256 * 2**20,
             _temp_dir=str(ray_tmp), log_to_driver=False, logging_level="WARNING")
    ray.data.DataContext.get_current().enable_progress_bars = False

    def run(source: Path, actors: int, out: Path) -> dict:
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        ds = ray.data.read_parquet(str(source)).repartition(RAY_BLOCKS)
        ds = ds.map_batches(Embedder, fn_constructor_kwargs={"model": str(MODEL_FILE)}, batch_format="pyarrow",
                            batch_size=None, compute=ray.data.ActorPoolStrategy(size=actors),
                            num_cpus=threads / actors)
        ds = ds.materialize()
        ds.write_parquet(str(out))
        seconds = time.perf_counter() - start
        stats = next((op for op in ds.stats().split("Operator ") if "MapBatches(Embedder)" in op), "")
        busy = re.search(r"Remote wall time: .*?, ([0-9.]+)(ms|s) total", stats)
        busy_s = (float(busy.group(1)) / (1000 if busy.group(2) == "ms" else 1)) if busy else None
        nodes = re.search(r"(\d+) nodes used", stats)
        n = pq.read_metadata(source).num_rows
        return {"seconds": seconds, "texts_per_s": n / seconds, "actor_busy_s": busy_s,
                "nodes": int(nodes.group(1)) if nodes else None}

    try:
        ready({"ray": ray.__version__})
        for req in requests():
            run(tmp / "warm.parquet", req["actors"], tmp / "ray-warm")  # Ray Data's own start-up
            out = tmp / f"ray-out-{req['actors']}"
            r = run(tmp / "texts.parquet", req["actors"], out)
            if req.get("save"):
                table = pq.read_table(out).sort_by("id")
                column = table.column("embedding").combine_chunks()
                np.save(tmp / f"vectors-ray{req['actors']}.npy",
                        column.flatten().to_numpy().reshape(len(column), -1))
            answer(r)
    finally:
        ray.shutdown()
        shutil.rmtree(ray_tmp, ignore_errors=True)


def ready(info: dict) -> None:
    print(json.dumps({"ready": True, **info}), flush=True)


def answer(result: dict) -> None:
    print(json.dumps(result), flush=True)


def requests():
    for line in sys.stdin:
        yield json.loads(line)


class Worker:
    def __init__(self, kind: str, python: str, tmp: Path, threads: int, env: dict):
        self.kind, self.err = kind, tmp / f"worker-{kind}.err"
        with self.err.open("w") as err:
            self.proc = subprocess.Popen([python, str(Path(__file__).resolve()), "--worker", kind, "--dir", str(tmp),
                                          "--threads", str(threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err, text=True, env=env)
        self.ready = self.read()

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            sys.exit(f"{self.kind} worker failed (exit {self.proc.returncode}):\n"
                     f"{self.err.read_text(errors='replace')[-4000:]}")
        return json.loads(line)

    def request(self, **req) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def end_descendants(keep: set[int] = frozenset()) -> None:
    """Ends what is left of the processes this run started (a worker that
    died can leave Ray's processes behind), by pid, but for `keep` and theirs."""
    import signal
    for sig in (signal.SIGTERM, signal.SIGKILL):
        procs = {pid: p for pid, p in process_table().items() if p[0] != "Z"}
        mine = descendants(procs, keep)
        mine.discard(os.getpid())
        if not mine:
            return
        log(f"ending {len(mine)} leftover process(es)")
        for pid in mine:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(3)


# ---------------------------------------------------------------------------
# The C++ engine through the CLI.

def cli_bench(cli: Path, texts_file: Path, batch: int, seconds: float, threads: int) -> dict:
    out = subprocess.run([str(cli), "bench", "-m", str(MODEL_FILE), "--input", str(texts_file), "--mode", "batch",
                          "--batch-size", str(batch), "--threads", str(threads), "--seconds", f"{seconds:.3f}"],
                         check=True, capture_output=True, text=True, timeout=3600).stdout
    r = json.loads(out)
    return {"seconds": r["seconds"], "texts_per_s": r["texts_per_s"], "texts": r["texts"], "threads": r["threads"],
            "load_ms": r["load_ms"]}


def st_python() -> str | None:
    """An interpreter that has sentence-transformers and torch, if any."""
    for python in (sys.executable, str(REPO / ".venv-peers" / "bin" / "python")):
        if Path(python).exists() and subprocess.run([python, "-c", "import torch, sentence_transformers"],
                                                    capture_output=True, timeout=300).returncode == 0:
            return python
    return None


def has_ray() -> bool:
    return subprocess.run([sys.executable, "-c", "import ray.data, arrowembed.ray"], capture_output=True,
                          timeout=300).returncode == 0


# ---------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=int, default=10_000, help="how many texts (all processed by every figure)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="engine threads for every runtime")
    ap.add_argument("--cli", type=Path, default=REPO / "build" / "arrowembed")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--no-st", action="store_true")
    ap.add_argument("--out", type=Path, help="also write the report (markdown) here")
    ap.add_argument("--worker", choices=["arrowembed", "st", "ray"], help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        {"arrowembed": worker_arrowembed, "st": worker_st, "ray": worker_ray}[args.worker](args.dir, args.threads)
        return 0

    import numpy as np
    import pyarrow as pa
    import pyarrow.ipc as ipc
    import pyarrow.parquet as pq

    for path, hint in ((args.cli, "scripts/build.sh"), (MODEL_FILE, "scripts/run.sh")):
        if not path.exists():
            sys.exit(f"{path} is missing: {hint}")
    started = time.perf_counter()
    notes: list[str] = []
    # Ray: no usage reports, and token authentication with a token of this
    # run's own (a local ray.init() would otherwise write ~/.ray/auth_token).
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads),
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="true",
               RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    env.pop("RAY_AUTH_TOKEN_PATH", None)
    st_py = None if args.no_st else st_python()
    if st_py is None:
        notes.append("sentence-transformers: " + ("left out (--no-st)" if args.no_st else
                     "not measured: no interpreter here has sentence-transformers and torch (scripts/setup.sh "
                     "--reference installs them into .venv, scripts/setup_peers.sh into .venv-peers)"))
    ray_ok = not args.no_ray and has_ray()
    if not ray_ok:
        notes.append("Ray Data: " + ("left out (--no-ray)" if args.no_ray else
                     "not measured: `import ray.data, arrowembed.ray` fails here (pip install 'ray[data]')"))
    for n in notes:
        log(f"note: {n}")

    runtimes = [*PY_FORMS, "cli32", "cli_all"] + (["st"] if st_py else []) + (["ray1", "ray2"] if ray_ok else [])
    results: dict[str, list[dict]] = {rt: [] for rt in runtimes}
    with tempfile.TemporaryDirectory(prefix="python-bench-") as tmpdir:
        tmp = Path(tmpdir)
        texts = sb.make_texts(args.texts)
        assert all("\n" not in t and "\r" not in t for t in texts)
        texts_file = tmp / "texts.txt"
        texts_file.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
        pq.write_table(pa.table({"id": pa.array(range(len(texts)), pa.int64()), "text": texts}),
                       tmp / "texts.parquet")
        with MODEL_FILE.open("rb") as f:  # page cache warm
            while f.read(1 << 20):
                pass

        pq.write_table(pa.table({"id": pa.array(range(256), pa.int64()), "text": sb.make_texts(256, seed=99)}),
                       tmp / "warm.parquet")
        log("starting workers")
        info: dict = {}
        workers = {"py": Worker("arrowembed", sys.executable, tmp, args.threads, env)}
        try:
            if st_py:
                workers["st"] = Worker("st", st_py, tmp, args.threads, env)

            def ray_job(actors: int, save: bool = False) -> dict:
                """A Ray of its own for one job; other_cpu counts Ray's processes (marked) as ours."""
                marker = f"ARROWEMBED_PYTHON_BENCH_RAY={secrets.token_hex(8)}"
                t0, busy0, own0 = time.perf_counter(), sb.cpu_busy_seconds(), own_cpu()
                with MarkedCpu(marker) as ray_cpu:
                    worker = Worker("ray", sys.executable, tmp, args.threads,
                                    dict(env, **dict([marker.split("=", 1)])))
                    try:
                        result = worker.request(actors=actors, save=save)
                        info["ray"] = worker.ready
                    finally:
                        worker.close()
                        end_descendants(keep={w.proc.pid for w in workers.values()})
                wall = time.perf_counter() - t0
                others = (sb.cpu_busy_seconds() - busy0) - (own_cpu() - own0) - ray_cpu.seconds
                result["other_cpu"] = max(0.0, others) / (wall * (os.cpu_count() or 1))
                return result

            # Check the vectors: every form, the CLI and Ray give the same bits.
            log("checking the vectors")
            for form in PY_FORMS:
                workers["py"].request(form=form, save=True)
            subprocess.run([str(args.cli), "embed", "-m", str(MODEL_FILE), "--input", str(texts_file), "-o",
                            str(tmp / "cli.arrow"), "--threads", str(args.threads)], check=True, capture_output=True)
            with pa.memory_map(str(tmp / "cli.arrow")) as source:
                column = ipc.open_file(source).read_all().column("embedding").combine_chunks()
            np.save(tmp / "vectors-cli.npy", column.flatten().to_numpy().reshape(len(column), -1))
            if ray_ok:
                for k in (1, 2):
                    ray_job(k, save=True)
            if st_py:
                workers["st"].request(save=True)
            base = np.load(tmp / "vectors-encode_arrow.npy")
            checks = []
            for name in ["encode", "encode_all", "cli"] + (["ray1", "ray2"] if ray_ok else []):
                other = np.load(tmp / f"vectors-{name}.npy")
                same = other.shape == base.shape and np.array_equal(other, base)
                checks.append(f"{name} {'identical' if same else 'DIFFERENT: max |diff| %.2e' % np.abs(other - base).max()}")
            if st_py:
                st = np.load(tmp / "vectors-st.npy")
                cos = (st * base).sum(1) / np.linalg.norm(st, axis=1) / np.linalg.norm(base, axis=1)
                checks.append(f"sentence-transformers min cosine {cos.min():.7f}, max |diff| {np.abs(st - base).max():.1e}")
            log("vectors against encode_arrow's: " + "; ".join(checks))

            for r in range(args.rounds):
                order = runtimes[r % len(runtimes):] + runtimes[:r % len(runtimes)]
                # cli32 runs for about one pass of encode(batch_size=32): its time in this round (or the last).
                for rt in sorted(order, key=lambda x: x != "encode") if r == 0 else order:
                    before = snapshot()
                    if rt in PY_FORMS:
                        res = workers["py"].request(form=rt)
                    elif rt == "cli32":
                        res = cli_bench(args.cli, texts_file, 32, results["encode"][-1]["seconds"], args.threads)
                    elif rt == "cli_all":
                        res = cli_bench(args.cli, texts_file, len(texts), 0, args.threads)
                    elif rt == "st":
                        res = workers["st"].request()
                    else:
                        res = ray_job(int(rt[-1]))  # other_cpu: over its start-up and warm-up job too
                    if "other_cpu" not in res:
                        res["other_cpu"] = other_share(before, snapshot())
                    results[rt].append(res)
                log(f"round {r + 1}/{args.rounds}: " + ", ".join(
                    f"{rt} {results[rt][-1]['texts_per_s']:.0f}/s" for rt in runtimes) +
                    f" ({time.perf_counter() - started:.0f} s)")
            info.update({k: w.ready for k, w in workers.items()})
        finally:
            for w in workers.values():
                w.close()
            end_descendants()

    report = build_report(args, runtimes, results, info, checks, notes, len(texts), time.perf_counter() - started)
    print(report)
    if args.out:
        args.out.write_text(report)
    return 0


def build_report(args, runtimes, results, info, checks, notes, n, elapsed) -> str:
    med = statistics.median

    def ratio(a: str, b: str) -> list[float]:
        return [x["texts_per_s"] / y["texts_per_s"] for x, y in zip(results[a], results[b])]

    def span(xs: list[float], f: str) -> str:
        return f"{format(med(xs), f)} ({format(min(xs), f)}-{format(max(xs), f)})" if len(xs) > 1 else format(xs[0], f)

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
        tree = commit + (" + uncommitted changes" if dirty else "")
    except OSError:
        tree = "?"
    py = info["py"]
    versions = [f"arrowembed {py['arrowembed']}", f"pyarrow {py['pyarrow']}", f"numpy {py['numpy']}",
                f"Python {platform.python_version()}"]
    if "ray" in info:
        versions.append(f"ray {info['ray']['ray']}")
    if "st" in info:
        versions += [f"sentence-transformers {info['st']['sentence-transformers']}", f"torch {info['st']['torch']}"]
    command = "flock /tmp/arrowembed-build.lock .venv/bin/python bench/python_bench.py" + \
        "".join(f" {a}" for a in sys.argv[1:])
    cli_threads = results["cli32"][0]["threads"]
    out = [
        "# Python package: binding overhead, sentence-transformers, Ray Data",
        "",
        f"- command (repository root): `{command}`",
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; the run took {elapsed / 60:.1f} min",
        f"- machine: {sb.cpu_model()}, {os.cpu_count()} cores, Linux {platform.release()}",
        f"- versions: {', '.join(versions)}; tree {tree}",
        f"- model: `{MODEL_FILE.relative_to(REPO)}` (f32 products); threads: {args.threads} for every runtime "
        f"(Model {py['threads']}, `arrowembed bench` {cli_threads}"
        + (f", torch {info['st']['torch_threads']}" if "st" in info else "") + "; Ray: the actors' CPUs)",
        f"- texts: {n:,} distinct short sentences (bench/server_bench.py's generator); every figure embeds all of "
        "them once (the C++ engine at 32 per call: about once, cycling), after a warm-up",
        f"- {len(results['encode'])} interleaved rounds, order rotated per round; medians, with the range over "
        "rounds in brackets; ratios are taken within each round",
        "- vectors, against encode_arrow's: " + "; ".join(checks),
        *[f"- {note}" for note in notes],
        "",
        "| runtime | texts/s | other processes' CPU (max) |",
        "|---|---:|---:|",
    ]
    for rt in runtimes:
        out.append(f"| {LABELS[rt]} | {span([r['texts_per_s'] for r in results[rt]], ',.0f')} | "
                   f"{max(r['other_cpu'] for r in results[rt]):.0%} |")
    out += ["", "## Binding overhead (target <= 3 %)", "",
            "| Python | C++ engine (same call shape) | overhead |", "|---|---|---:|"]
    for form, engine in (("encode", "cli32"), ("encode_all", "cli_all"), ("encode_arrow", "cli_all")):
        over = [(1 - x) * 100 for x in ratio(form, engine)]
        verdict = "PASS" if med(over) <= 3 else "**MISS**"
        out.append(f"| {LABELS[form]} | {LABELS[engine]} | {span(over, '.1f')} % {verdict} |")
    if "st" in runtimes:
        out += ["", "## Against sentence-transformers", "",
                f"Model.encode (batch 32) / sentence-transformers encode (batch 32): {span(ratio('encode', 'st'), '.2f')}x; "
                f"encode_arrow: {span(ratio('encode_arrow', 'st'), '.2f')}x."]
    if "ray1" in runtimes:
        out += ["", "## Ray Data vs in-process", "",
                f"read_parquet -> repartition({RAY_BLOCKS}) -> map_batches(Embedder) -> write_parquet on a local "
                f"single-node Ray ({args.threads} cores shared by the actors: 1 actor with {args.threads} threads, "
                f"or 2 with {args.threads / 2:g}); wall time from the read to the last file, actor start-up "
                "included. In-process: encode_arrow in one process with the same threads.", "",
                "| | texts/s | / in-process | texts/s inside the actors |", "|---|---:|---:|---:|"]
        for k in (1, 2):
            rt = f"ray{k}"
            inside = [n / (r["actor_busy_s"] / k) for r in results[rt] if r.get("actor_busy_s")]
            out.append(f"| {LABELS[rt]} | {span([r['texts_per_s'] for r in results[rt]], ',.0f')} | "
                       f"{span(ratio(rt, 'encode_arrow'), '.2f')} | "
                       f"{span(inside, ',.0f') if inside else '?'} |")
        out += ["", "Texts/s inside the actors: the texts over the time the actors spent in their batches "
                "(Ray Data's `Remote wall time` of the map, divided among the actors), which leaves out Ray's "
                "scheduling, actor start-up, reading, the object store and writing."]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
