#!/usr/bin/env python3
"""HTTP load benchmark: arrowembed's server against its own engine in-process
(the ceiling) and against Infinity serving the same model, all on this
machine, in one run, with wrk as the load generator (loopback only).

  scripts/setup_peers.sh && scripts/run.sh
  flock /tmp/arrowembed-build.lock python3 bench/server_bench.py --out bench/results/server.md

Standard library only (any python3 runs it); Infinity runs from .venv-peers.

What is measured, every figure with the same number of engine threads (--threads):
  - uncached: each request of a level carries texts no other request of that
    level carries (a wrk Lua script cycles through pre-generated request
    bodies); our server runs with --cache-size 0. Shapes (--shapes): 1 and 8
    texts per request. Each concurrency level (wrk connections, closed loop)
    is a --warmup run, then a --seconds run that is measured; our uncached
    server instead runs --rounds rounds of --round-seconds, each right after
    an in-process run of the same length (below), and is compared with
    in-process round by round: this VM's speed drifts by more than the
    targets' margins within minutes, so only runs made side by side compare.
  - cached: one request body repeated against our server with its cache on.
  - in-process: `arrowembed bench` on the same texts: --mode single (one text
    per call: the latency floor) and --mode batch --batch-size C*S (C
    concurrent requests of S texts: the throughput ceiling at that level),
    in the rounds above; plus one run at each mean batch our server actually
    formed (from its /metrics), after the servers.
  - Infinity (OpenAI route, torch engine, CPU, fp32) with the same request
    bodies, eager and with torch.compile (--infinity); the targets compare
    against every Infinity point, so against the better configuration.
  - our server's request log (queue, inference and total time per request)
    to show where the time goes.
Before timing, each server's vectors are checked against sentence-transformers
and against each other (cosine > 0.999). The machine is shared: every figure
carries the share of the CPU other processes took while it was measured, and
one measured while they took more than --max-other-cpu is measured again
(--retries). The CLI is copied first, so a rebuild of build/ during the run
changes nothing. Servers run in their own process groups, ended at the end
and on any error.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLI = REPO / "build" / "arrowembed"
MODEL_FILE = REPO / "models" / "converted" / "all-MiniLM-L6-v2-f32.arrow"
MODEL_DIR = REPO / "models" / "all-MiniLM-L6-v2"
PEERS_VENV = REPO / ".venv-peers"
MODEL_NAME = "all-MiniLM-L6-v2"
LOCK = "/tmp/arrowembed-build.lock"

# ---------------------------------------------------------------------------
# Texts: deterministic, short (about 10-20 tokens with [CLS] and [SEP]), all
# different.

WORDS = """
account address after again answer apple april area arrive ask autumn baby back bank battery
beach bed before begin bill bird black blue board boat book border bottle box bread break
bridge bring brother brown build bus buy cable call camera car card care carry case cat chair
change charge cheap check child choose city class clean clear clock close cloud coffee cold
color come computer cook corner cost country cover cup customer cut dark date daughter day
deliver desk dinner doctor dog door down drive dry early east easy eat email empty engine
evening family far fast father field file find fire first fish floor flower fly food forest
fresh friday friend front fruit full game garden give glass good green group grow guest hair
half hand happy hard hat head hear heavy help high hill hold holiday home hospital hot hotel
hour house hungry idea invoice island job juice keep key kitchen lake lamp large late leave
left letter light list little long lost low machine make map market meet message milk minute
monday money month morning mother mountain move music name near network new news night north
number office old open orange order page paper park party password pay pen people phone
picture plan plane play please pocket price print problem quick quiet rain read red refund
remember rent repair report rest return rice right river road room round run sale salt
school screen sea season second seat sell send server service shirt shoe shop short show
sister sleep slow small snow soft song soon south speak station stop store street strong
student summer sun sunday table take talk tea teacher team ticket time today tomorrow train
travel tree true tuesday turn under update use user village visit wait walk wall want warm
wash watch water week weekend west wet white window winter work world write year yellow young
""".split()
STARTS = ["how do i", "can you", "please", "why does the", "where is the", "i need to", "we want to",
          "tell me about the", "what is the best", "when will the", "is it possible to", "my"]


def make_texts(n: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set()
    texts: list[str] = []
    while len(texts) < n:
        words = rng.sample(WORDS, rng.randint(7, 13))
        text = f"{rng.choice(STARTS)} {' '.join(words)}"
        if rng.random() < 0.3:
            text += f" {rng.choice(['?', '.', '!'])}"
        if text not in seen:
            seen.add(text)
            texts.append(text)
    return texts


def body(texts: list[str]) -> str:
    return json.dumps({"input": texts, "model": MODEL_NAME}, separators=(",", ":"))


# ---------------------------------------------------------------------------
# wrk: a Lua script that cycles through request bodies (one per line) and
# prints its figures as one JSON line when done.

WRK_LUA = r"""
local next_id = 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

function init(args)
  local file, offset, nthreads = args[1], tonumber(args[2]), tonumber(args[3])
  reqs = {}
  for line in io.lines(file) do
    reqs[#reqs + 1] = wrk.format("POST", nil, {["Content-Type"] = "application/json"}, line)
  end
  n = #reqs
  i = (offset + tid * math.floor(n / nthreads)) % n
end

function request()
  i = i % n + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
"""


class Bench:
    def __init__(self, args, work: Path):
        self.args = args
        self.work = work
        self.lua = work / "cycle.lua"
        self.lua.write_text(WRK_LUA)
        self.offset = 0

    def wrk(self, url: str, bodies: Path, connections: int, seconds: float, count: int) -> dict:
        threads = max(1, min(self.args.wrk_threads, connections))
        self.offset = (self.offset + 7919) % count
        cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
               "--timeout", f"{self.args.timeout}s", "-s", str(self.lua), url,
               "--", str(bodies), str(self.offset), str(threads)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
        if proc.returncode != 0:
            raise RuntimeError(f"wrk failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
        out = proc.stdout
        line = next((l for l in out.splitlines() if l.startswith("WRKJSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no result:\n{out}")
        r = json.loads(line[len("WRKJSON "):])
        r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
        r["p50_ms"] = r["latency_us"]["p50"] / 1000
        r["p99_ms"] = r["latency_us"]["p99"] / 1000
        r["errors_total"] = sum(r["errors"].values())
        return r


# ---------------------------------------------------------------------------
# Servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, payload=None, timeout: float = 30):
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
        return resp.status, raw


class Server:
    """A server process in its own process group; stop() ends the group."""
    live: list["Server"] = []

    def __init__(self, name: str, cmd: list[str], port: int, log: Path, env: dict | None = None,
                 embeddings_path: str = "/v1/embeddings"):
        self.name, self.cmd, self.port, self.log = name, cmd, port, log
        self.base = f"http://127.0.0.1:{port}"
        self.url = self.base + embeddings_path
        self.proc = subprocess.Popen(cmd, stdout=open(log, "wb"), stderr=subprocess.STDOUT, cwd=REPO,
                                     env=env, start_new_session=True)
        Server.live.append(self)

    def wait_ready(self, timeout: float) -> float:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}); log:\n{self.tail()}")
            try:
                if http(self.base + "/health", timeout=2)[0] == 200:
                    return time.perf_counter() - t0
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not healthy after {timeout:.0f} s; log:\n{self.tail()}")

    def tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return ""

    def embed(self, texts: list[str]) -> list[list[float]]:
        status, raw = http(self.url, {"input": texts, "model": MODEL_NAME})
        data = json.loads(raw)["data"]
        if status != 200 or len(data) != len(texts):
            raise RuntimeError(f"{self.name}: bad answer {status} {raw[:200]!r}")
        return [d["embedding"] for d in sorted(data, key=lambda d: d["index"])]

    def metrics(self) -> dict[str, float]:
        try:
            raw = http(self.base + "/metrics", timeout=5)[1].decode()
        except (urllib.error.URLError, OSError):
            return {}
        out = {}
        for line in raw.splitlines():
            m = re.match(r"^(embedding_(?:batch_size_(?:sum|count)|cache_hits_total|cache_misses_total))(?:\{\})? (\S+)$",
                         line)
            if m:
                out[m.group(1)] = float(m.group(2))
        return out

    def log_size(self) -> int:
        try:
            return self.log.stat().st_size
        except OSError:
            return 0

    def request_log(self, offset: int) -> dict:
        """Medians of the per-request timings our server logs (one JSON line per
        request) written since `offset`; {} for a server that logs none."""
        fields: dict[str, list[float]] = {"queue_ms": [], "inference_ms": [], "total_ms": []}
        with open(self.log, "rb") as f:
            f.seek(offset)
            for raw in f:
                try:
                    r = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(r, dict) and r.get("msg") == "request" and "embed" in str(r.get("path")):
                    for k in fields:
                        if isinstance(r.get(k), (int, float)):
                            fields[k].append(float(r[k]))
        if not fields["total_ms"]:
            return {}
        out = {k: statistics.median(v) for k, v in fields.items() if v}
        out["n"] = len(fields["total_ms"])
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        if self in Server.live:
            Server.live.remove(self)


def stop_all() -> None:
    for s in list(Server.live):
        s.stop()


def cosine(a, b) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def peer_env(threads: int) -> dict:
    return dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", DO_NOT_TRACK="1",
                INFINITY_ANONYMOUS_USAGE_STATS="0", TOKENIZERS_PARALLELISM="false",
                OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))


REFERENCE = r"""
import json, sys
import torch
from sentence_transformers import SentenceTransformer
torch.set_num_threads(int(sys.argv[2]))
model = SentenceTransformer(sys.argv[1], device="cpu")
print(json.dumps(model.encode(json.load(sys.stdin)).tolist()))
"""


def reference_vectors(texts: list[str], threads: int) -> list[list[float]]:
    out = subprocess.run([str(PEERS_VENV / "bin" / "python"), "-c", REFERENCE, str(MODEL_DIR), str(threads)],
                         input=json.dumps(texts), check=True, capture_output=True, text=True,
                         env=peer_env(threads)).stdout
    return json.loads(out.strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# Other people's CPU use. The machine is shared; a figure measured while other
# processes ran is measured again (--retries), and every figure carries the
# share of the CPU that others took during it.

MAX_OTHER_CPU = 0.05
RETRIES = 1


def group_cpu_seconds(pgid: int | None) -> float:
    """CPU time of the processes in process group `pgid` (a server and its helpers)."""
    if pgid is None:
        return 0.0
    total = 0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rfind(")") + 2:].split()
        if int(rest[2]) == pgid:
            total += sum(int(x) for x in rest[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(pgid: int | None = None) -> tuple[float, float, float]:
    return time.perf_counter(), cpu_busy_seconds(), own_cpu_seconds() + group_cpu_seconds(pgid)


def other_cpu_share(a: tuple, b: tuple) -> float:
    wall = b[0] - a[0]
    return max(0.0, (b[1] - a[1]) - (b[2] - a[2])) / (wall * (os.cpu_count() or 1))


def quietly(measure, what: str) -> dict:
    """Runs measure() until other processes took at most MAX_OTHER_CPU of the
    CPU during it, RETRIES more times at most; keeps the quietest run."""
    best = None
    for attempt in range(1 + RETRIES):
        r = measure()
        r["tries"] = attempt + 1
        if best is None or r["other_cpu"] < best["other_cpu"]:
            best = r
        if r["other_cpu"] <= MAX_OTHER_CPU:
            break
        log(f"  {what}: other processes took {r['other_cpu']:.0%} of the CPU" +
            ("; measuring again" if attempt < RETRIES else "; keeping the quietest run"))
    return best


PRECISION = "f32"  # of our engine's matrix products (--precision), for the server and in-process


def inprocess(texts_file: Path, threads: int, seconds: float, batch: int) -> dict:
    mode = ["--mode", "single"] if batch == 1 else ["--mode", "batch", "--batch-size", str(batch)]

    def measure() -> dict:
        before = cpu_snapshot()
        out = subprocess.run([str(CLI), "bench", "-m", str(MODEL_FILE), "--input", str(texts_file), *mode,
                              "--threads", str(threads), "--seconds", str(seconds), "--precision", PRECISION],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out)
        r["other_cpu"] = other_cpu_share(before, cpu_snapshot())
        return r
    return quietly(measure, f"in-process batch {batch}")


def versions() -> dict:
    v = {}
    v["arrowembed"] = subprocess.run([str(CLI), "--version"], capture_output=True, text=True).stdout.strip()
    v["wrk"] = (subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
                .split(" [")[0].removeprefix("wrk "))
    if (PEERS_VENV / "bin" / "python").exists():
        code = ("import importlib.metadata as m, json, platform; print(json.dumps({n: m.version(n) for n in "
                "['infinity-emb', 'torch', 'sentence-transformers', 'transformers', 'uvicorn']} | "
                "{'python (peers)': platform.python_version()}))")
        v.update(json.loads(subprocess.run([str(PEERS_VENV / "bin" / "python"), "-c", code], check=True,
                                           capture_output=True, text=True).stdout))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
        v["tree"] = commit + (" + uncommitted changes" if dirty else "")
    except OSError:
        pass
    return v


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def ours_ready() -> tuple[bool, str]:
    if not CLI.exists():
        return False, ""
    r = subprocess.run([str(CLI), "serve", "--help"], capture_output=True, text=True)
    return r.returncode == 0 and "--port" in r.stdout, r.stdout


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def measure_server(bench: Bench, server: Server, label: str, bodies: Path, count: int, shape: int, c: int,
                   seconds: float) -> dict:
    """One wrk run against `server`, with what its /metrics and request log say about it."""
    m0, log0 = server.metrics(), server.log_size()
    before = cpu_snapshot(server.proc.pid)
    r = bench.wrk(server.url, bodies, c, seconds, count)
    r["other_cpu"] = other_cpu_share(before, cpu_snapshot(server.proc.pid))
    m1 = server.metrics()
    time.sleep(0.2)  # let the last log lines land
    r["server_log"] = server.request_log(log0)
    r.update(server=label, shape=shape, conns=c, texts_per_s=r["rps"] * shape)
    n = m1.get("embedding_batch_size_count", 0) - m0.get("embedding_batch_size_count", 0)
    if n > 0:
        r["mean_batch"] = (m1["embedding_batch_size_sum"] - m0["embedding_batch_size_sum"]) / n
    hits = m1.get("embedding_cache_hits_total", 0) - m0.get("embedding_cache_hits_total", 0)
    misses = m1.get("embedding_cache_misses_total", 0) - m0.get("embedding_cache_misses_total", 0)
    if hits + misses > 0:
        r["hit_rate"] = hits / (hits + misses)
    return r


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def paired_rounds(bench: Bench, server: Server, label: str, bodies: Path, count: int, shape: int, c: int,
                  texts_file: Path, inproc: dict) -> dict:
    """--rounds rounds, each an in-process run at batch c*shape (the same texts
    in flight) right before a server run of the same length. The machine's
    speed drifts by more than the targets' margins over a few minutes (this
    VM's in-process runs of one batch size have differed by 20 %), so the
    server is only compared with in-process runs made next to it: per round,
    then the median of the rounds."""
    a = bench.args
    log0 = server.log_size()
    ips, srs = [], []
    for i in range(a.rounds):
        ips.append(inprocess(texts_file, a.threads, a.round_seconds, c * shape))
        srs.append(quietly(lambda: measure_server(bench, server, label, bodies, count, shape, c, a.round_seconds),
                           f"{label} {shape} text(s)/req c={c} round {i + 1}"))
    time.sleep(0.2)
    r = {"server": label, "shape": shape, "conns": c, "rounds": srs, "server_log": server.request_log(log0)}
    for key in ("rps", "texts_per_s", "p50_ms", "p99_ms", "mean_batch"):
        if all(key in x for x in srs):
            r[key] = median_of(srs, key)
    r["other_cpu"] = max(x["other_cpu"] for x in srs + ips)
    r["errors"] = {}
    for x in srs:
        for k, v in x["errors"].items():
            r["errors"][k] = r["errors"].get(k, 0) + v
    r["errors_total"] = sum(x["errors_total"] for x in srs)
    # paired: each server round against the in-process run right before it
    r["vs_inproc"] = [x["texts_per_s"] / ip["texts_per_s"] for x, ip in zip(srs, ips)]
    r["p50_vs_inproc_ms"] = [x["p50_ms"] - ip["latency_ms"]["p50"] for x, ip in zip(srs, ips)]
    b = c * shape
    if b not in inproc:  # a batch size two points share keeps the first point's rounds
        inproc[b] = {**ips[0], "texts_per_s": median_of(ips, "texts_per_s"), "rounds": ips,
                     "latency_ms": {q: statistics.median(ip["latency_ms"][q] for ip in ips) for q in ("p50", "p99")},
                     "other_cpu": max(ip["other_cpu"] for ip in ips)}
    return r


def run_series(bench: Bench, server: Server, label: str, bodies: Path, count: int, shape: int,
               levels: list[int], results: list, texts_file: Path | None = None, inproc: dict | None = None) -> None:
    """Each level: a warm-up, then one --seconds run; with texts_file, --rounds
    runs paired with in-process runs instead (paired_rounds)."""
    a = bench.args
    for c in levels:
        if a.warmup > 0:
            bench.wrk(server.url, bodies, c, a.warmup, count)
        if texts_file is not None:
            r = paired_rounds(bench, server, label, bodies, count, shape, c, texts_file, inproc)
        else:
            r = quietly(lambda: measure_server(bench, server, label, bodies, count, shape, c, a.seconds),
                        f"{label} {shape} text(s)/req c={c}")
        results.append(r)
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} died during the c={c} run (exit {server.proc.returncode}); log:\n"
                               f"{server.tail()}")
        extra = f", mean batch {r['mean_batch']:.1f}" if "mean_batch" in r else ""
        extra += f", cache hit rate {r['hit_rate']:.1%}" if "hit_rate" in r else ""
        extra += f", other CPU {r['other_cpu']:.0%}" if r["other_cpu"] > 0.01 else ""
        if "vs_inproc" in r:
            extra += (f", of in-process {statistics.median(r['vs_inproc']):.0%} "
                      f"(rounds {', '.join(f'{x:.0%}' for x in r['vs_inproc'])})")
        errs = f", {r['errors_total']} ERRORS {r['errors']}" if r["errors_total"] else ""
        log(f"  {label:<22} {shape} text(s)/req  c={c:<3} {r['rps']:9.1f} req/s  p50 {r['p50_ms']:8.2f} ms"
            f"  p99 {r['p99_ms']:8.2f} ms{extra}{errs}")


def fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def best_under(points: list[dict], budget_ms: float) -> dict | None:
    ok = [p for p in points if p["p99_ms"] <= budget_ms and not p["errors_total"]]
    return max(ok, key=lambda p: p["texts_per_s"]) if ok else None


def cpu_busy_seconds() -> float:
    """CPU time all processes of the machine have used since boot (/proc/stat), steal included."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # irq/softirq time (loopback networking) is left out: the kernel charges
    # it to no process, so it would count as someone else's.
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU time of this process and its waited-for children (servers, wrk, bench)."""
    import resource
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        u = resource.getrusage(who)
        total += u.ru_utime + u.ru_stime
    return total


INFINITY_CONFIGS = {
    # label: (dtype, the flags that differ); all use the torch engine, no
    # BetterTransformer (it needs optimum < 2, which infinity-emb[server,torch]
    # does not install). bf16-* are the peers of our --precision bf16.
    "eager": ("float32", ["--no-compile"]),
    "compile": ("float32", ["--compile"]),
    "bf16-eager": ("bfloat16", ["--no-compile"]),
    "bf16-compile": ("bfloat16", ["--compile"]),
}


def main() -> int:
    global CLI
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--levels", default="1,4,16,64", help="concurrency levels (wrk connections)")
    ap.add_argument("--shapes", default="1,8", help="texts per request for the uncached runs")
    ap.add_argument("--seconds", type=int, default=10, help="measured seconds per level (peers, cached runs)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="our uncached server: measured rounds per level, each after an in-process run")
    ap.add_argument("--round-seconds", type=int, default=4, help="seconds of each round (server and in-process)")
    ap.add_argument("--warmup", type=int, default=2, help="warm-up seconds before each level")
    ap.add_argument("--inprocess-seconds", type=float, default=5,
                    help="in-process runs outside the rounds (at the batch sizes our server formed; all of them "
                         "with --no-ours)")
    ap.add_argument("--threads", type=int, default=2, help="engine threads of every server and the in-process runs")
    ap.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (capped at the connections)")
    ap.add_argument("--timeout", type=float, default=30, help="wrk's per-request timeout, seconds")
    ap.add_argument("--cache-size", type=int, default=16384, help="our server's cache for the cached runs")
    ap.add_argument("--texts", type=int, default=40000, help="distinct texts generated")
    ap.add_argument("--precision", default="f32", choices=["f32", "bf16"],
                    help="our engine's matrix products (arrowembed serve/bench --precision), server and in-process")
    ap.add_argument("--serve-args", default="",
                    help="extra flags for `arrowembed serve`, e.g. --serve-args=--no-request-log")
    ap.add_argument("--infinity", default="eager,compile",
                    help=f"Infinity configurations to measure, of {','.join(INFINITY_CONFIGS)} ('' for none)")
    ap.add_argument("--max-other-cpu", type=float, default=0.05,
                    help="measure again when other processes took more than this share of the CPU")
    ap.add_argument("--retries", type=int, default=1, help="how many times to measure again at most")
    ap.add_argument("--no-ours", action="store_true", help="skip our server (Infinity and in-process only)")
    ap.add_argument("--out", type=Path, help="also write the report (markdown) here")
    args = ap.parse_args()
    global MAX_OTHER_CPU, RETRIES, PRECISION
    MAX_OTHER_CPU, RETRIES, PRECISION = args.max_other_cpu, args.retries, args.precision
    levels = [int(x) for x in args.levels.split(",")]
    shapes = [int(x) for x in args.shapes.split(",")]
    peers = [x for x in args.infinity.split(",") if x]
    for p in peers:
        if p not in INFINITY_CONFIGS:
            sys.exit(f"unknown Infinity configuration {p!r}")

    if not shutil.which("wrk"):
        sys.exit("wrk is missing: run scripts/setup_peers.sh")
    if not CLI.exists() or not MODEL_FILE.exists():
        sys.exit(f"{CLI} or {MODEL_FILE} is missing: run scripts/run.sh")
    if not (PEERS_VENV / "bin" / "infinity_emb").exists():
        sys.exit(".venv-peers has no Infinity (it also gives the sentence-transformers reference): "
                 "run scripts/setup_peers.sh")
    have_ours, serve_help = ours_ready()
    use_ours = have_ours and not args.no_ours
    if not use_ours:
        log("our server is " + ("skipped" if have_ours else "not built yet (`arrowembed serve` missing)") +
            ": measuring in-process and Infinity only")

    def _term(signum, frame):
        raise SystemExit(f"signal {signum}")
    signal.signal(signal.SIGTERM, _term)

    started = datetime.now(timezone.utc)
    t_start, busy_start, own_start = time.perf_counter(), cpu_busy_seconds(), own_cpu_seconds()
    work = Path(tempfile.mkdtemp(prefix="server_bench."))
    # Run a private copy: build/ may be rebuilt by someone else during the run.
    shutil.copy2(CLI, work / "arrowembed")
    CLI = work / "arrowembed"
    bench = Bench(args, work)
    texts = make_texts(args.texts)
    texts_file = work / "texts.txt"
    texts_file.write_text("\n".join(texts) + "\n")
    bodies = {}
    for s in shapes:
        p = work / f"bodies-{s}.jsonl"
        p.write_text("".join(body(texts[i:i + s]) + "\n" for i in range(0, len(texts) - s + 1, s)))
        bodies[s] = (p, len(texts) // s)
    cached_bodies = work / "bodies-cached.jsonl"
    cached_bodies.write_text(body([texts[0]]) + "\n")

    results: list[dict] = []
    startup: dict[str, float] = {}
    checks: list[str] = []
    inproc: dict[int, dict] = {}
    info: dict = {"versions": versions(), "infinity_cmds": {}, "peers": [f"Infinity {p}" for p in peers]}
    check_texts = [texts[1], texts[2], "Hello, World!"]
    served: dict[str, list] = {}

    def check(name: str, server: Server, ref: list) -> None:
        """Vectors of `server` vs sentence-transformers and every server checked before (cosine > 0.999)."""
        vecs = server.embed(check_texts)
        if len(server.embed(texts[:8])) != 8:
            raise RuntimeError(f"{name}: 8 inputs did not give 8 vectors")
        for other, ovecs in [("sentence-transformers", ref), *served.items()]:
            worst = min(cosine(v, w) for v, w in zip(vecs, ovecs))
            checks.append(f"{name} vs {other}: min cosine {worst:.7f} over {len(vecs)} texts")
            log(f"  check: {checks[-1]}")
            if worst < 0.999:
                raise RuntimeError(f"{name} does not serve the same model: {checks[-1]}")
        served[name] = vecs

    def ours(cache: int) -> Server:
        port = free_port()
        cmd = [str(CLI), "serve", "-m", str(MODEL_FILE), "--host", "127.0.0.1", "--port", str(port),
               "--threads", str(args.threads), "--cache-size", str(cache), "--precision", args.precision,
               *args.serve_args.split()]
        if "--model-id" in serve_help:
            cmd += ["--model-id", MODEL_NAME]
        s = Server(f"arrowembed (cache {cache})", cmd, port, work / f"ours-{cache}.log")
        startup[f"arrowembed --cache-size {cache}"] = s.wait_ready(60)
        return s

    try:
        if not use_ours:  # the ceiling next to the peers; with our server, paired_rounds measures it
            log(f"in-process: arrowembed bench, {args.threads} threads, {args.inprocess_seconds:g} s each")
            for b in sorted({c * s for c in levels for s in shapes}):
                inproc[b] = inprocess(texts_file, args.threads, args.inprocess_seconds, b)
                r = inproc[b]
                log(f"  batch {b:<4} {r['texts_per_s']:9.1f} texts/s  p50 {r['latency_ms']['p50']:8.2f} ms"
                    f"  p99 {r['latency_ms']['p99']:8.2f} ms")

        log("reference vectors: sentence-transformers (.venv-peers)")
        ref = reference_vectors(check_texts, args.threads)

        # -- Infinity, each configuration
        for peer in peers:
            label = f"Infinity {peer}"
            port = free_port()
            cmd = [str(PEERS_VENV / "bin" / "infinity_emb"), "v2", "--model-id", str(MODEL_DIR),
                   "--served-model-name", MODEL_NAME, "--engine", "torch", "--device", "cpu",
                   "--dtype", INFINITY_CONFIGS[peer][0], "--no-bettertransformer", *INFINITY_CONFIGS[peer][1],
                   "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
            info["infinity_cmds"][label] = (
                f"OMP_NUM_THREADS={args.threads} HF_HUB_OFFLINE=1 DO_NOT_TRACK=1 .venv-peers/bin/infinity_emb " +
                " ".join(cmd[1:]).replace(str(REPO) + "/", "").replace(f" {port} ", " PORT "))
            log(f"starting {label}")
            inf = Server(label, cmd, port, work / f"infinity-{peer}.log", env=peer_env(args.threads),
                         embeddings_path="/embeddings")
            startup[label] = inf.wait_ready(600)
            check(label, inf, ref)
            for shape in shapes:
                log(f"{label}, uncached, {shape} text(s) per request")
                run_series(bench, inf, label, *bodies[shape], shape, levels, results)
            inf.stop()

        # -- our server: uncached, then cached
        if use_ours:
            srv = ours(0)
            check("arrowembed", srv, ref)
            for shape in shapes:
                log(f"arrowembed, uncached (--cache-size 0), {shape} text(s) per request")
                run_series(bench, srv, "arrowembed", *bodies[shape], shape, levels, results, texts_file, inproc)
            srv.stop()
            srv = ours(args.cache_size)
            log(f"arrowembed, cached (--cache-size {args.cache_size}), one text repeated")
            run_series(bench, srv, "arrowembed cached", cached_bodies, 1, 1, levels, results)
            srv.stop()
            # in-process at the batch sizes the server actually formed
            for r in results:
                if r["server"] == "arrowembed" and "mean_batch" in r:
                    b = max(1, round(r["mean_batch"]))
                    if b not in inproc:
                        inproc[b] = inprocess(texts_file, args.threads, args.inprocess_seconds, b)
                        log(f"  in-process batch {b:<4} {inproc[b]['texts_per_s']:9.1f} texts/s")

    except BaseException:
        log(f"failed; server logs and inputs kept in {work}")
        raise
    finally:
        stop_all()

    if inproc:
        first = inproc[min(inproc)]
        info["tokens_per_text"] = first["tokens"] / first["texts"]
    info["elapsed_s"] = time.perf_counter() - t_start
    busy = cpu_busy_seconds() - busy_start
    own = own_cpu_seconds() - own_start
    info["foreign_cpu"] = (max(0.0, busy - own), info["elapsed_s"] * (os.cpu_count() or 1))
    if info["foreign_cpu"][0] > 0.05 * info["foreign_cpu"][1]:
        log(f"WARNING: other processes used {info['foreign_cpu'][0]:.0f} CPU-seconds during the run: "
            "the figures are disturbed (was the lock held?)")
    report = render(args, started, levels, shapes, results, inproc, startup, checks, info, use_ours)
    print(report)
    if args.out:
        args.out.write_text(report)
    shutil.rmtree(work, ignore_errors=True)
    return 0


def paired(o: dict, ip: dict | None) -> tuple[float, str]:
    """Our server's throughput over in-process: the median of its rounds'
    paired ratios with their range, or the plain ratio without rounds."""
    if "vs_inproc" in o:
        v = o["vs_inproc"]
        return statistics.median(v), f"{statistics.median(v):.0%} ({min(v):.0%}-{max(v):.0%})"
    ratio = o["texts_per_s"] / ip["texts_per_s"]
    return ratio, f"{ratio:.0%}"


def render(args, started, levels, shapes, results, inproc, startup, checks, info, use_ours) -> str:
    peers = info["peers"]

    def pick(server, shape, c):
        return next((r for r in results if r["server"] == server and r["shape"] == shape and r["conns"] == c), None)

    def verdict(ok: bool, short_by: str) -> str:
        return "**PASS**" if ok else f"**MISS** by {short_by}"

    v = info["versions"]
    foreign, available = info["foreign_cpu"]
    lines = [
        "# HTTP load: arrowembed server vs its engine in-process vs Infinity",
        "",
        f"- date: {started.strftime('%Y-%m-%d %H:%M UTC')}; the run took {info['elapsed_s'] / 60:.1f} min",
        f"- machine: {cpu_model()}, {os.cpu_count()} cores, {platform.platform()}; other processes used "
        f"{foreign:.0f} of the {available:.0f} CPU-seconds of the run ({foreign / available:.1%})",
        f"- command: `{' '.join(['flock', LOCK, 'python3 bench/server_bench.py', shlex.join(sys.argv[1:])]).strip()}`",
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"- model: sentence-transformers/all-MiniLM-L6-v2, f32 weights (`{MODEL_FILE.relative_to(REPO)}` for us, "
        f"`{MODEL_DIR.relative_to(REPO)}` for Infinity and the reference); our matrix products in "
        f"**{args.precision}** (`--precision {args.precision}`, server and in-process); "
        f"{args.threads} engine threads everywhere",
        f"- load: wrk, {args.wrk_threads} thread(s) (at most one per connection), keep-alive, closed loop: "
        f"C connections = C requests in flight; each level {args.warmup} s warm-up, then {args.seconds} s measured "
        f"(Infinity, cached) or, for our uncached server, {args.rounds} rounds of an in-process run "
        f"(`arrowembed bench`, batch = the texts in flight) and a server run, {args.round_seconds} s each, "
        "figures the median of the rounds; p50/p99 from wrk's latency histogram",
        f"- texts: {args.texts:,} generated, all different, {info.get('tokens_per_text', 0):.1f} tokens on "
        "average with [CLS]/[SEP]; an uncached request carries texts no other request of its level carries; "
        f"body `{{\"input\": [...], \"model\": \"{MODEL_NAME}\"}}` for every server (OpenAI route: "
        "`/v1/embeddings` ours, `/embeddings` Infinity's)",
    ]
    if use_ours:
        lines.append(f"- our server: `arrowembed serve -m MODEL --threads {args.threads} --precision {args.precision} --cache-size 0"
                     f"{' ' + args.serve_args if args.serve_args else ''}` (uncached), `--cache-size "
                     f"{args.cache_size}` (cached), defaults otherwise")
    for label, cmd in info["infinity_cmds"].items():
        lines.append(f"- {label}: `{cmd}`")
    if startup:
        lines.append("- start to healthy: " + ", ".join(f"{k} {s:.1f} s" for k, s in startup.items()))
    lines += [f"- check: {c}" for c in checks]
    if not use_ours:
        lines += ["", "**Our server was not measured** (`arrowembed serve` was not built): this run holds "
                  "the in-process ceiling and the Infinity figures only."]

    servers = (["arrowembed"] if use_ours else []) + peers
    for shape in shapes:
        plural = "s" if shape > 1 else ""
        lines += ["", f"## Uncached, {shape} text{plural} per request", "",
                  "| server | conc. | req/s | texts/s | p50 ms | p99 ms | mean batch formed | errors | other CPU |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for c in levels:
            ip = inproc.get(c * shape)
            if ip:
                lines.append(f"| in-process, batch {c * shape} | {c} | | {fmt(ip['texts_per_s'])} | "
                             f"{fmt(ip['latency_ms']['p50'], 2)} | {fmt(ip['latency_ms']['p99'], 2)} | | | "
                             f"{ip['other_cpu']:.0%} |")
            for name in servers:
                r = pick(name, shape, c)
                if r:
                    lines.append(f"| {name} | {c} | {fmt(r['rps'])} | {fmt(r['texts_per_s'])} | "
                                 f"{fmt(r['p50_ms'], 2)} | {fmt(r['p99_ms'], 2)} | "
                                 f"{fmt(r['mean_batch']) if 'mean_batch' in r else ''} | "
                                 f"{r['errors_total'] or ''} | {r['other_cpu']:.0%} |")
        if use_ours:
            lines += ["", "| conc. | arrowembed texts/s | of in-process (same texts in flight; median of the "
                      "paired rounds, range) "
                      "| of in-process at the mean batch formed | best Infinity texts/s | arrowembed / best Infinity |",
                      "|---:|---:|---:|---:|---:|---:|"]
            for c in levels:
                o, ip = pick("arrowembed", shape, c), inproc.get(c * shape)
                if not o:
                    continue
                formed = inproc.get(max(1, round(o.get("mean_batch", 0))))
                ps = [p for p in (pick(n, shape, c) for n in peers) if p]
                bp = max(ps, key=lambda p: p["texts_per_s"]) if ps else None
                lines.append(
                    f"| {c} | {fmt(o['texts_per_s'])} | {paired(o, ip)[1]} | "
                    + (f"{o['texts_per_s'] / formed['texts_per_s']:.0%} (batch {formed['batch_size']})"
                       if formed and "mean_batch" in o else "-") + " | "
                    + (f"{fmt(bp['texts_per_s'])} ({bp['server'].split()[-1]}) | "
                       f"{o['texts_per_s'] / bp['texts_per_s']:.2f}x |" if bp else "- | - |"))

    if use_ours:
        lines += ["", f"## Cached: one text repeated, --cache-size {args.cache_size}", "",
                  "| conc. | req/s | p50 ms | p99 ms | cache hit rate | other CPU |", "|---:|---:|---:|---:|---:|---:|"]
        for c in levels:
            r = pick("arrowembed cached", 1, c)
            if r:
                hit = f"{r['hit_rate']:.1%}" if "hit_rate" in r else "-"
                lines.append(f"| {c} | {fmt(r['rps'])} | {fmt(r['p50_ms'], 3)} | {fmt(r['p99_ms'], 3)} | {hit} | "
                             f"{r['other_cpu']:.0%} |")

    logged = [r for r in results if r["server"] == "arrowembed" and r.get("server_log")]
    if logged:
        lines += ["", "## Where the time goes: our server's request log (medians), uncached", "",
                  "| text/req | conc. | requests | queue ms | inference ms | server total ms | wrk p50 ms "
                  "| wrk p50 - server total | in-process p50 per call (batch) |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in logged:
            sl = r["server_log"]
            b = max(1, round(r.get("mean_batch", r["shape"])))
            ip = inproc.get(b)
            lines.append(f"| {r['shape']} | {r['conns']} | {sl['n']:,} | {sl.get('queue_ms', 0):.3f} | "
                         f"{sl.get('inference_ms', 0):.3f} | {sl['total_ms']:.3f} | {r['p50_ms']:.3f} | "
                         f"{r['p50_ms'] - sl['total_ms']:.3f} | "
                         + (f"{ip['latency_ms']['p50']:.3f} ({b})" if ip else "-") + " |")

    lines += ["", "## In-process engine (`arrowembed bench`, same texts, same threads)", "",
              f"At the texts in flight of each level: the median of the {args.rounds} rounds run next to our server "
              f"({args.round_seconds} s each; range of the rounds' throughput); at the other batch sizes our server "
              f"formed: one {args.inprocess_seconds:g} s run after the servers.", "",
              "| batch | texts/s | rounds' range texts/s | p50 ms per call | p99 ms per call | other CPU |",
              "|---:|---:|---:|---:|---:|---:|"]
    for b in sorted(inproc):
        r = inproc[b]
        tps = [x["texts_per_s"] for x in r.get("rounds", [])]
        spread = f"{fmt(min(tps))}-{fmt(max(tps))}" if tps else "-"
        lines.append(f"| {'1 (--mode single)' if b == 1 else b} | {fmt(r['texts_per_s'])} | {spread} | "
                     f"{fmt(r['latency_ms']['p50'], 3)} | {fmt(r['latency_ms']['p99'], 3)} | {r['other_cpu']:.0%} |")

    lines += ["", "## Targets (issue 5)", ""]
    if not use_ours:
        lines.append("Not evaluated: our server was not measured.")
        return "\n".join(lines) + "\n"
    lines += ["| target | measured | result | what limits it (for a miss) |", "|---|---|---|---|"]

    # 1. throughput vs in-process with the same number of texts in flight
    ratios = [(paired(o, inproc[c * s])[0], s, c) for s in shapes for c in levels
              if (o := pick("arrowembed", s, c)) and c * s in inproc]
    if ratios:
        worst = min(ratios)
        per = "; ".join(f"{s} text{'s' if s > 1 else ''}/req c={c}: {r:.0%}" for r, s, c in ratios)
        why = ""
        if worst[0] < 0.9:
            o = pick("arrowembed", worst[1], worst[2])
            b = max(1, round(o.get("mean_batch", 0)))
            in_flight = worst[1] * worst[2]
            if "mean_batch" in o and b in inproc:
                at_formed = o["texts_per_s"] / inproc[b]["texts_per_s"]
                why = (f"the server's batches held {o['mean_batch']:.1f} texts on average of the {in_flight} in "
                       f"flight ({at_formed:.0%} of in-process at batch {b})")
                sl = o.get("server_log") or {}
                outside = sl.get("total_ms", 0) - sl.get("queue_ms", 0) - sl.get("inference_ms", 0)
                if o["mean_batch"] < 0.75 * in_flight:
                    why += (": batch formation. While one batch runs, the requests of the next one queue "
                            f"(median queue {sl.get('queue_ms', 0):.1f} ms, inference {sl.get('inference_ms', 0):.1f}"
                            f" ms, the rest of the request {outside:.2f} ms); with --max-batch-wait-ms 0 the engine "
                            "starts on whatever has arrived, so the texts in flight split into two batches")
                else:
                    why += (f": per-request time besides inference: median queue {sl.get('queue_ms', 0):.2f} ms, "
                            f"the rest of the request {outside:.2f} ms (request-log table)")
        lines.append(f"| server throughput >= 90 % of in-process (batch = texts in flight; median of the paired "
                     f"rounds) | {per} | "
                     + verdict(worst[0] >= 0.9, f"{(0.9 - worst[0]) * 100:.0f} points (at {worst[1]} "
                                                f"text{'s' if worst[1] > 1 else ''}/req, c={worst[2]})") + f" | {why} |")
    # 2. >= 2x the best peer at equal p99
    parts, worst_peer = [], None
    for shape in shapes:
        ours_pts = [r for r in results if r["server"] == "arrowembed" and r["shape"] == shape]
        for p in (r for r in results if r["server"] in peers and r["shape"] == shape):
            b = best_under(ours_pts, p["p99_ms"])
            ratio = b["texts_per_s"] / p["texts_per_s"] if b else 0.0
            parts.append(f"{shape}x {p['server'].split()[-1]} c={p['conns']} ({fmt(p['texts_per_s'])} texts/s, "
                         f"p99 {p['p99_ms']:.0f} ms): " +
                         (f"ours c={b['conns']} {fmt(b['texts_per_s'])} texts/s, p99 {b['p99_ms']:.0f} ms = "
                          f"{ratio:.2f}x" if b else "no point of ours with a p99 that low"))
            if worst_peer is None or ratio < worst_peer[0]:
                worst_peer = (ratio, shape, p)

    def ceiling_note(ratio: float, shape: int, p: dict) -> str:
        if ratio >= 2:
            return ""
        ceiling = max((ip for b, ip in inproc.items() if b <= shape * max(levels)),
                      key=lambda ip: ip["texts_per_s"], default=None)
        if not ceiling:
            return ""
        return (f"the engine itself: its best in-process throughput here, {fmt(ceiling['texts_per_s'])} texts/s "
                f"(batch {ceiling['batch_size']}), is {ceiling['texts_per_s'] / p['texts_per_s']:.2f}x this peer point"
                + (", so no server on this engine reaches 2x" if ceiling["texts_per_s"] / p["texts_per_s"] < 2 else
                   ", so the server loses the rest (latency at the high levels)"))

    if worst_peer:
        r, s, p = worst_peer
        lines.append("| >= 2x the best peer at equal p99: for each Infinity point, our highest throughput whose "
                     f"p99 is no higher | {'; '.join(parts)} | "
                     + verdict(r >= 2, f"{2 - r:.2f}x (lowest {r:.2f}x, vs {p['server']} at {s} text{'s' if s > 1 else ''}/req, "
                                       f"c={p['conns']})") + " | " + ceiling_note(r, s, p) + " |")
    # 3. cached >= 20k req/s
    cached = [r for r in results if r["server"] == "arrowembed cached"]
    if cached:
        best = max(cached, key=lambda r: r["rps"])
        lines.append(f"| cached requests >= 20,000 req/s | best {fmt(best['rps'], 0)} req/s (c={best['conns']}) | "
                     + verdict(best["rps"] >= 20000, f"{20000 - best['rps']:,.0f} req/s") + " | "
                     + ("" if best["rps"] >= 20000 else "wrk shares the 2 cores with the server") + " |")
    # 4. single short request p50 within 0.3 ms of in-process
    o, ip = pick("arrowembed", 1, 1), inproc.get(1)
    if o and ip:
        diffs = o.get("p50_vs_inproc_ms") or [o["p50_ms"] - ip["latency_ms"]["p50"]]
        d = statistics.median(diffs)
        rounds = f" (rounds {', '.join(f'{x:+.3f}' for x in diffs)})" if len(diffs) > 1 else ""
        why = ""
        sl = o.get("server_log")
        if d > 0.3 and sl:
            why = (f"engine time inside the server {sl.get('inference_ms', 0) - ip['latency_ms']['p50']:+.3f} ms vs "
                   f"in-process; queue/parse/JSON {sl['total_ms'] - sl.get('inference_ms', 0):.3f} ms; "
                   f"HTTP + loopback + wrk {o['p50_ms'] - sl['total_ms']:.3f} ms (medians, request log)")
        lines.append(f"| single short request p50 within 0.3 ms of in-process (median of the paired rounds) | "
                     f"server {o['p50_ms']:.3f} ms, in-process {ip['latency_ms']['p50']:.3f} ms: {d:+.3f} ms"
                     f"{rounds} | " + verdict(d <= 0.3, f"{d - 0.3:.3f} ms") + f" | {why} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        stop_all()
