#!/usr/bin/env python3
"""Several models in one server (issue 12): two models in one `arrowembed
serve` process vs the same two models in two separate processes, and p99
latency while one of the models is hot-swapped every --swap-interval seconds
vs without swaps.

  scripts/run.sh --no-serve      # builds build/arrowembed and converts models/converted/*.arrow
  flock /tmp/arrowembed-build.lock python3 bench/multi_model_bench.py --out bench/results/multi-model.md

Standard library only (any python3 runs it). It reuses bench/server_bench.py's
texts, wrk Lua script, wrk runner and server handling.

The two models are all-MiniLM-L6-v2 as f32 and as f16 files
(models/converted/all-MiniLM-L6-v2-{f32,f16}.arrow), served under the names
"f32" and "f16". Setups:

  - one process:   serve --model f32=F32 --model f16=F16 --threads T
  - two processes: serve -m F32 --model-id f32 --threads T  and  serve -m F16 --model-id f16 --threads T
    (each process gets the same T engine threads, as two servers started
    the same way would: together they have 2T threads on the same cores)

Load: for each level C, C connections per model at once (2C in flight),
closed loop, --shape texts per request, every request's texts different
(--cache-size 0 everywhere), OpenAI route; wrk when installed (one wrk per
model, run together), otherwise a threaded Python load generator. Each level
gets a --warmup run, then a --seconds run that is measured. Throughput is the
sum over both models; p50/p99 are per model. Peak RSS is VmHWM of each server
process (summed for two processes), read before any swap.

Swaps: on the one-process server (started with --admin-key), for each level,
a run without swaps and right after it a run while the main thread PUTs
/admin/models/f16 every --swap-interval seconds, alternating between the f16
file and a byte-identical copy (so every PUT maps, validates, packs and
warms a model). Every request and every PUT must answer 200.

The machine is shared: the share of the CPU other processes took is shown
for every figure (see server_bench.py). Servers run from a private copy of
the CLI in their own process groups and are ended at the end or on error.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import server_bench as sb  # noqa: E402  (texts, wrk, servers, CPU accounting)

REPO = sb.REPO
CLI = REPO / "build" / "arrowembed"
MODELS = {"f32": REPO / "models" / "converted" / "all-MiniLM-L6-v2-f32.arrow",
          "f16": REPO / "models" / "converted" / "all-MiniLM-L6-v2-f16.arrow"}
SWAPPED = "f16"
ADMIN_KEY = "bench-admin-key"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# load generation: a target is one model's stream of requests

class Target:
    def __init__(self, model: str, port: int, bodies: list[str], bodies_file: Path):
        self.model, self.port, self.bodies, self.bodies_file = model, port, bodies, bodies_file
        self.url = f"http://127.0.0.1:{port}/v1/embeddings"


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def python_load(targets: list[Target], conns: int, seconds: float, timeout: float) -> dict[str, dict]:
    """Closed loop: `conns` keep-alive connections per target, for `seconds`."""
    stats = {t.model: {"lat": [], "errors": 0} for t in targets}
    lock = threading.Lock()
    start = threading.Barrier(len(targets) * conns + 1)
    deadline = [0.0]

    def worker(t: Target, k: int):
        conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=timeout)
        i = (k * 7919) % len(t.bodies)
        lat, errors = [], 0
        start.wait()
        while time.perf_counter() < deadline[0]:
            body = t.bodies[i % len(t.bodies)]
            i += 1
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/v1/embeddings", body, {"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", t.port, timeout=timeout)
            if ok:
                lat.append(time.perf_counter() - t0)
            else:
                errors += 1
        conn.close()
        with lock:
            stats[t.model]["lat"] += lat
            stats[t.model]["errors"] += errors

    threads = [threading.Thread(target=worker, args=(t, k), daemon=True) for t in targets for k in range(conns)]
    for th in threads:
        th.start()
    deadline[0] = time.perf_counter() + seconds
    t0 = time.perf_counter()
    start.wait()
    for th in threads:
        th.join(timeout=seconds + timeout + 30)
    elapsed = time.perf_counter() - t0
    out = {}
    for model, s in stats.items():
        lat = sorted(s["lat"])
        out[model] = {"requests": len(lat) + s["errors"], "rps": len(lat) / elapsed,
                      "p50_ms": percentile(lat, 0.50) * 1000, "p99_ms": percentile(lat, 0.99) * 1000,
                      "errors_total": s["errors"]}
    return out


def wrk_load(bench: sb.Bench, targets: list[Target], conns: int, seconds: float) -> dict[str, dict]:
    """One wrk per target, run together."""
    out, errors = {}, []

    def run(t: Target):
        try:
            out[t.model] = bench.wrk(t.url, t.bodies_file, conns, seconds, len(t.bodies))
        except Exception as e:  # noqa: BLE001 - re-raised below
            errors.append(e)
    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return out


# ---------------------------------------------------------------------------
# servers

def proc_status(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def start_server(name: str, args: list[str], threads: int, work: Path) -> sb.Server:
    port = sb.free_port()
    cmd = [str(CLI), "serve", *args, "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads),
           "--cache-size", "0", "--no-request-log"]
    s = sb.Server(name, cmd, port, work / f"{name.replace(' ', '-')}.log")
    s.startup_s = s.wait_ready(120)
    return s


def embed(port: int, model: str, texts: list[str]) -> list[list[float]]:
    status, raw = sb.http(f"http://127.0.0.1:{port}/v1/embeddings", {"input": texts, "model": model})
    body = json.loads(raw)
    if status != 200 or len(body["data"]) != len(texts) or body["model"] != model:
        raise RuntimeError(f"port {port} model {model}: bad answer {status} {raw[:200]!r}")
    return [d["embedding"] for d in body["data"]]


def admin_put(port: int, name: str, path: Path) -> tuple[int, dict, float]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/admin/models/{name}", method="PUT",
                                 data=json.dumps({"path": str(path)}).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {ADMIN_KEY}"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    ms = (time.perf_counter() - t0) * 1000
    try:
        body = json.loads(raw)
    except ValueError:
        body = {"raw": raw[:200].decode(errors="replace")}
    return status, body, ms


class Swapper:
    """PUTs /admin/models/SWAPPED every `interval` s, alternating two paths, until stopped."""

    def __init__(self, port: int, paths: list[Path], interval: float):
        self.port, self.paths, self.interval = port, paths, interval
        self.stop = threading.Event()
        self.puts: list[tuple[int, float, float]] = []  # status, wall ms, load_ms
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        k = 0
        next_at = time.perf_counter() + self.interval / 2
        while not self.stop.is_set():
            delay = next_at - time.perf_counter()
            if delay > 0 and self.stop.wait(delay):
                break
            status, body, ms = admin_put(self.port, SWAPPED, self.paths[k % 2])
            self.puts.append((status, ms, float(body.get("load_ms", float("nan")))))
            if status != 200:
                self.failures.append(f"PUT {self.paths[k % 2].name}: {status} {body}")
            k += 1
            next_at += self.interval


# ---------------------------------------------------------------------------

def cpu_snapshot(pgids: list[int]) -> tuple[float, float, float]:
    return (time.perf_counter(), sb.cpu_busy_seconds(),
            sb.own_cpu_seconds() + sum(sb.group_cpu_seconds(p) for p in pgids))


def cli_version() -> str:
    return subprocess.run([str(CLI), "--version"], capture_output=True, text=True).stdout.strip()


def tree() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
        return commit + (" + uncommitted changes" if dirty else "")
    except OSError:
        return "?"


def main() -> int:
    global CLI
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--levels", default="1,8", help="connections per model (2x in flight in total)")
    ap.add_argument("--shape", type=int, default=1, help="texts per request")
    ap.add_argument("--seconds", type=float, default=6, help="measured seconds per run")
    ap.add_argument("--rounds", type=int, default=2,
                    help="rounds of the one-process vs two-process comparison, alternating which goes first; "
                         "figures are the medians of the rounds")
    ap.add_argument("--warmup", type=float, default=2, help="warm-up seconds before each level")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                    help="engine threads of every server process (default: the cores)")
    ap.add_argument("--swap-interval", type=float, default=0.5, help="seconds between admin PUTs in the swap runs")
    ap.add_argument("--texts", type=int, default=40000, help="distinct texts generated")
    ap.add_argument("--load", choices=["auto", "wrk", "python"], default="auto",
                    help="load generator: wrk (one per model), a threaded Python client, or wrk when installed")
    ap.add_argument("--wrk-threads", type=int, default=1, help="threads of each wrk (two run at once)")
    ap.add_argument("--timeout", type=float, default=30, help="per-request timeout, seconds")
    ap.add_argument("--f32", type=Path, default=MODELS["f32"], help="the f32 model file")
    ap.add_argument("--f16", type=Path, default=MODELS["f16"], help="the f16 model file")
    ap.add_argument("--max-other-cpu", type=float, default=0.10,
                    help="measure a run again when other processes took more than this share of the CPU")
    ap.add_argument("--retries", type=int, default=1, help="how many times to measure a disturbed run again")
    ap.add_argument("--out", type=Path, help="also write the report (markdown) here")
    args = ap.parse_args()
    sb.MAX_OTHER_CPU, sb.RETRIES = args.max_other_cpu, args.retries
    levels = [int(x) for x in args.levels.split(",")]
    files = {"f32": args.f32.resolve(), "f16": args.f16.resolve()}
    use_wrk = args.load == "wrk" or (args.load == "auto" and shutil.which("wrk") is not None)
    if args.load == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk is missing: run scripts/setup_peers.sh, or use --load python")
    if not CLI.exists() or not all(p.exists() for p in files.values()):
        sys.exit(f"{CLI} or a model file ({', '.join(map(str, files.values()))}) is missing: run scripts/run.sh")
    help_text = subprocess.run([str(CLI), "serve", "--help"], capture_output=True, text=True).stdout
    if "--admin-key" not in help_text:
        sys.exit(f"{CLI} has no multi-model serving yet (`serve --help` lists no --admin-key)")

    def _term(signum, frame):
        raise SystemExit(f"signal {signum}")
    signal.signal(signal.SIGTERM, _term)

    started = datetime.now(timezone.utc)
    t_start, busy_start, own_start = time.perf_counter(), sb.cpu_busy_seconds(), sb.own_cpu_seconds()
    work = Path(tempfile.mkdtemp(prefix="multi_model_bench."))
    shutil.copy2(CLI, work / "arrowembed")  # build/ may be rebuilt during the run
    CLI = work / "arrowembed"
    swap_copy = work / f"{files[SWAPPED].stem}-copy.arrow"
    shutil.copy2(files[SWAPPED], swap_copy)
    bench = sb.Bench(argparse.Namespace(wrk_threads=args.wrk_threads, timeout=args.timeout), work)

    texts = sb.make_texts(args.texts)
    # Each model gets its own half of the texts: no request repeats another's.
    bodies: dict[str, tuple[list[str], Path]] = {}
    for k, model in enumerate(files):
        mine = texts[k::2]
        lines = [json.dumps({"input": mine[i:i + args.shape], "model": model}, separators=(",", ":"))
                 for i in range(0, len(mine) - args.shape + 1, args.shape)]
        path = work / f"bodies-{model}.jsonl"
        path.write_text("\n".join(lines) + "\n")
        bodies[model] = (lines, path)

    def targets(ports: dict[str, int]) -> list[Target]:
        return [Target(m, ports[m], *bodies[m]) for m in files]

    def load(ts: list[Target], conns: int, seconds: float) -> dict[str, dict]:
        if use_wrk:
            return wrk_load(bench, ts, conns, seconds)
        return python_load(ts, conns, seconds, args.timeout)

    def measure_once(setup: str, servers: list[sb.Server], ts: list[Target], conns: int, swaps: bool) -> dict:
        pgids = [s.proc.pid for s in servers]
        swapper = Swapper(servers[0].port, [files[SWAPPED], swap_copy], args.swap_interval) if swaps else None
        before = cpu_snapshot(pgids)
        if swapper:
            swapper.thread.start()
        try:
            per = load(ts, conns, args.seconds)
        finally:
            if swapper:
                swapper.stop.set()
                swapper.thread.join(timeout=180)
        other = sb.other_cpu_share(before, cpu_snapshot(pgids))
        for s in servers:
            if s.proc.poll() is not None:
                raise RuntimeError(f"{s.name} died (exit {s.proc.returncode}); log:\n{s.tail()}")
        r = {"setup": setup, "conns": conns, "per": per, "other_cpu": other,
             "rps": sum(p["rps"] for p in per.values()),
             "errors": sum(p["errors_total"] for p in per.values())}
        r["texts_per_s"] = r["rps"] * args.shape
        if swapper:
            r["puts"] = swapper.puts
            r["put_failures"] = swapper.failures
        return r

    def measure(setup: str, servers: list[sb.Server], ts: list[Target], conns: int, swaps: bool = False,
                round_no: int = 0) -> dict:
        r = sb.quietly(lambda: measure_once(setup, servers, ts, conns, swaps), f"{setup} c={conns}")
        r["round"] = round_no
        extra = ""
        if swaps:
            ok = [p for p in r["puts"] if p[0] == 200]
            extra = f", {len(r['puts'])} swaps ({len(r['puts']) - len(ok)} failed)"
        log(f"  {setup:<28} c={conns:<3} {r['rps']:8.1f} req/s  " +
            "  ".join(f"{m} p50 {p['p50_ms']:.2f} p99 {p['p99_ms']:.2f} ms" for m, p in r["per"].items()) +
            (f"  {r['errors']} ERRORS" if r["errors"] else "") + extra + f", other CPU {r['other_cpu']:.0%}")
        return r

    results: list[dict] = []
    checks: list[str] = []
    startup: dict[str, float] = {}
    rss: dict[str, dict] = {}
    check_texts = [texts[0], texts[1], "Hello, World!"]
    vectors: dict[str, list] = {}

    def check(setup: str, ports: dict[str, int]):
        for m in files:
            v = embed(ports[m], m, check_texts)
            if len(v[0]) != 384:
                raise RuntimeError(f"{setup} {m}: {len(v[0])} dimensions")
            for other_label, ov in vectors.items():
                if other_label.endswith(f" {m}") or other_label.endswith(" f32"):
                    worst = min(sb.cosine(a, b) for a, b in zip(v, ov))
                    checks.append(f"{setup} {m} vs {other_label}: min cosine {worst:.7f} over {len(v)} texts")
                    log(f"  check: {checks[-1]}")
                    if worst < 0.999:
                        raise RuntimeError(f"not the same model: {checks[-1]}")
            vectors[f"{setup} {m}"] = v

    try:
        # -- every server at once (idle ones cost no CPU); the two setups are
        # measured in alternating rounds, then the swap runs on the one process
        log(f"servers: one process with --model f32 --model f16, and one process per model; {args.threads} engine "
            f"threads each; load: {'wrk' if use_wrk else 'python threads'}")
        one = start_server("one process", ["--model", f"f32={files['f32']}", "--model", f"f16={files['f16']}",
                                           "--admin-key", ADMIN_KEY], args.threads, work)
        startup["one process (2 models)"] = one.startup_s
        two = {m: start_server(f"process {m}", ["-m", str(files[m]), "--model-id", m], args.threads, work)
               for m in files}
        for m, s in two.items():
            startup[f"process {m}"] = s.startup_s
        one_ports = {m: one.port for m in files}
        two_ports = {m: s.port for m, s in two.items()}
        check("one process", one_ports)
        check("two processes", two_ports)
        setups = {"one process": ([one], one_ports), "two processes": (list(two.values()), two_ports)}
        for rnd in range(args.rounds):
            order = list(setups) if rnd % 2 == 0 else list(setups)[::-1]
            log(f"round {rnd + 1} of {args.rounds}: {' then '.join(order)}")
            for setup in order:
                servers, ports = setups[setup]
                for c in levels:
                    if args.warmup > 0:
                        load(targets(ports), c, args.warmup)
                    results.append(measure(setup, servers, targets(ports), c, round_no=rnd))
        rss["one process"] = {"peak": proc_status(one.proc.pid).get("VmHWM", 0),
                              "idle": proc_status(one.proc.pid).get("VmRSS", 0)}
        rss["two processes"] = {"peak": sum(proc_status(s.proc.pid).get("VmHWM", 0) for s in two.values()),
                                "idle": sum(proc_status(s.proc.pid).get("VmRSS", 0) for s in two.values()),
                                "each": {m: proc_status(s.proc.pid).get("VmHWM", 0) for m, s in two.items()}}
        log(f"  peak RSS: one process {rss['one process']['peak'] / 2**20:.1f} MiB, two processes "
            f"{rss['two processes']['peak'] / 2**20:.1f} MiB")
        for s in two.values():
            s.stop()
        log(f"swaps: PUT /admin/models/{SWAPPED} every {args.swap_interval:g} s")
        for c in levels:
            results.append(measure("one process, no swaps", [one], targets(one_ports), c))
            results.append(measure("one process, swapping f16", [one], targets(one_ports), c, swaps=True))
        rss["one process, after swaps"] = {"peak": proc_status(one.proc.pid).get("VmHWM", 0),
                                           "idle": proc_status(one.proc.pid).get("VmRSS", 0)}
        one.stop()
    except BaseException:
        log(f"failed; server logs kept in {work}")
        raise
    finally:
        sb.stop_all()

    elapsed = time.perf_counter() - t_start
    foreign = max(0.0, (sb.cpu_busy_seconds() - busy_start) - (sb.own_cpu_seconds() - own_start))
    available = elapsed * (os.cpu_count() or 1)
    report = render(args, started, elapsed, foreign, available, levels, results, rss, startup, checks, use_wrk, files)
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report)
    shutil.rmtree(work, ignore_errors=True)
    failed = [r for r in results if r["errors"] or r.get("put_failures")]
    return 1 if failed else 0


def mib(b: float) -> str:
    return f"{b / 2**20:,.1f}"


def render(args, started, elapsed, foreign, available, levels, results, rss, startup, checks, use_wrk, files) -> str:
    def pick(setup, c):
        return next((r for r in results if r["setup"] == setup and r["conns"] == c), None)

    rel = lambda p: str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p)  # noqa: E731
    gen = (f"wrk ({args.wrk_threads} thread(s) each, one wrk per model, run together)" if use_wrk else
           "Python threads (keep-alive http.client, one thread per connection; they share the cores with the servers)")
    lines = [
        "# Two models: one server vs two servers; p99 during hot swaps",
        "",
        f"- command: `{shlex.join(['python3', 'bench/multi_model_bench.py', *sys.argv[1:]])}`",
        f"- date: {started.strftime('%Y-%m-%d %H:%M UTC')}; the run took {elapsed / 60:.1f} min",
        f"- machine: {sb.cpu_model()}, {os.cpu_count()} cores, {platform.platform()}; other processes used "
        f"{foreign:.0f} of the {available:.0f} CPU-seconds of the run ({foreign / available:.1%})",
        f"- versions: arrowembed {cli_version()}, tree {tree()}",
        f"- models: all-MiniLM-L6-v2 as `{rel(files['f32'])}` (served as `f32`) and `{rel(files['f16'])}` (`f16`); "
        "f32 matrix products for both",
        f"- one process: `arrowembed serve --model f32=F32 --model f16=F16 --admin-key KEY --threads {args.threads} "
        "--cache-size 0 --no-request-log`",
        f"- two processes: `arrowembed serve -m F32 --model-id f32 --threads {args.threads} --cache-size 0 "
        f"--no-request-log` and the same for F16 (each process {args.threads} engine threads)",
        f"- load: {gen}; closed loop, C connections per model (2C requests in flight), {args.shape} text(s) per "
        f"request, every text different, `POST /v1/embeddings` with the model's name; each level {args.warmup:g} s "
        f"warm-up, then {args.seconds:g} s measured",
        "- peak RSS: VmHWM of the server process(es) after the comparison rounds, before any swap (summed over "
        "the two processes); all three processes run during the rounds, the idle setup's servers wait without load",
        f"- a run during which other processes took more than {args.max_other_cpu:.0%} of the CPU is measured "
        f"again (at most {args.retries} time(s)); the quietest is kept",
        f"- swaps: `PUT /admin/models/{SWAPPED}` every {args.swap_interval:g} s, alternating between the f16 file "
        "and a byte-identical copy of it (each PUT maps, validates, packs and warms a model); the run without swaps "
        "is made right before the run with them, on the same server",
        "- start to healthy: " + ", ".join(f"{k} {v:.2f} s" for k, v in startup.items()),
    ]
    lines += [f"- check: {c}" for c in checks]

    def rounds_of(setup, c):
        return [r for r in results if r["setup"] == setup and r["conns"] == c]

    def med(rs, f):
        return statistics.median(f(r) for r in rs)

    lines += ["", "## Two models in one process vs two processes", "",
              f"Medians of {args.rounds} round(s), the two setups alternating which goes first; the req/s range is "
              "over the rounds.", "",
              "| setup | conns per model | req/s (both models) | req/s range | f32 p50 ms | f32 p99 ms | f16 p50 ms "
              "| f16 p99 ms | errors | peak RSS MiB | other CPU (max) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in levels:
        for setup in ("one process", "two processes"):
            rs = rounds_of(setup, c)
            if not rs:
                continue
            lines.append(
                f"| {setup} | {c} | {med(rs, lambda r: r['rps']):,.1f} | "
                f"{min(r['rps'] for r in rs):,.1f}-{max(r['rps'] for r in rs):,.1f} | "
                + " | ".join(f"{med(rs, lambda r, m=m, q=q: r['per'][m][q]):.2f}"
                             for m in ("f32", "f16") for q in ("p50_ms", "p99_ms"))
                + f" | {sum(r['errors'] for r in rs) or ''} | {mib(rss[setup]['peak'])} | "
                f"{max(r['other_cpu'] for r in rs):.0%} |")
    lines += ["", "| | one process | two processes | one / two |", "|---|---:|---:|---:|"]
    for c in levels:
        o, t = rounds_of("one process", c), rounds_of("two processes", c)
        if o and t:
            orps, trps = med(o, lambda r: r["rps"]), med(t, lambda r: r["rps"])
            lines.append(f"| throughput, {c} conn(s) per model | {orps:,.1f} req/s | {trps:,.1f} req/s | "
                         f"{orps / trps:.2f}x |")
            op99 = med(o, lambda r: max(p["p99_ms"] for p in r["per"].values()))
            tp99 = med(t, lambda r: max(p["p99_ms"] for p in r["per"].values()))
            lines.append(f"| the worse model's p99, {c} conn(s) per model | {op99:.2f} ms | {tp99:.2f} ms | "
                         f"{op99 / tp99:.2f}x |")
    if "one process" in rss and "two processes" in rss:
        o, t = rss["one process"]["peak"], rss["two processes"]["peak"]
        each = ", ".join(f"{m} {mib(v)}" for m, v in rss["two processes"]["each"].items())
        lines.append(f"| peak RSS | {mib(o)} MiB | {mib(t)} MiB ({each}) | {o / t:.2f}x |")

    lines += ["", f"## p99 with and without hot swaps (one process, `{SWAPPED}` swapped)", "",
              "| conns per model | model | req/s without | p99 ms without | req/s during swaps | p99 ms during swaps "
              "| p99 during / without | errors during | other CPU (without / during) |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for c in levels:
        n, s = pick("one process, no swaps", c), pick("one process, swapping f16", c)
        if not (n and s):
            continue
        for m in files:
            a, b = n["per"][m], s["per"][m]
            lines.append(f"| {c} | {m}{' (swapped)' if m == SWAPPED else ''} | {a['rps']:,.1f} | {a['p99_ms']:.2f} | "
                         f"{b['rps']:,.1f} | {b['p99_ms']:.2f} | {b['p99_ms'] / a['p99_ms']:.2f}x | "
                         f"{b['errors_total'] or 0} | {n['other_cpu']:.0%} / {s['other_cpu']:.0%} |")
    lines += ["", "| conns per model | swaps | failed PUTs | PUT wall ms median / max | load_ms median / max |",
              "|---:|---:|---:|---:|---:|"]
    for c in levels:
        s = pick("one process, swapping f16", c)
        if not s:
            continue
        puts = s["puts"]
        wall = [p[1] for p in puts] or [float("nan")]
        lm = [p[2] for p in puts if p[2] == p[2]] or [float("nan")]
        lines.append(f"| {c} | {len(puts)} | {len(s['put_failures'])} | {statistics.median(wall):.0f} / "
                     f"{max(wall):.0f} | {statistics.median(lm):.1f} / {max(lm):.1f} |")
    if "one process, after swaps" in rss:
        a, b = rss["one process"], rss["one process, after swaps"]
        lines += ["", f"RSS of the one-process server: {mib(a['idle'])} MiB after the runs without swaps, "
                  f"{mib(b['idle'])} MiB after the swap runs; peak {mib(b['peak'])} MiB during them (a swap loads "
                  "the new f16 model beside the old one, which lives until its last request ends)."]
    bad = [r for r in results if r["errors"] or r.get("put_failures")]
    if bad:
        lines += ["", "**Failures:** " + "; ".join(
            f"{r['setup']} c={r['conns']}: {r['errors']} failed requests"
            + (f", failed PUTs: {r['put_failures'][:3]}" if r.get("put_failures") else "") for r in bad)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        sb.stop_all()
