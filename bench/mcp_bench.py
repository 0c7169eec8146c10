#!/usr/bin/env python3
"""MCP round trip of a `search` call on a 100k-document collection.

Builds (once, cached under models/collections/) a collection of 100,000
synthetic sentences embedded with all-MiniLM-L6-v2, then in one run:
  - `arrowembed mcp` over stdio, raw JSON-RPC lines on its pipes: `ping`
    (the protocol and pipe cost alone), `tools/call search` (k=10);
  - `arrowembed serve` with the same model and collection: `POST /search`
    (the same service.search behind HTTP instead of the tool and MCP).
Every query is a different text, so no cache answers. Prints p50/p99 and
writes a Markdown report with --out.

  python3 bench/mcp_bench.py [--docs 100000] [--queries 300] [--out bench/results/mcp.md]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = REPO / "build" / "arrowembed"
MODEL = REPO / "models" / "converted" / "all-MiniLM-L6-v2-f32.arrow"
WORDS = ("the a one every some river city engine model server cache query token vector search index file "
         "arrow column memory thread batch latency network disk kernel loads reads writes finds keeps sends "
         "quickly slowly again never often blue green large small old new fast quiet open closed north south "
         "coffee tea bread garden window mountain storm music paper glass stone winter summer doctor pilot").split()


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."


def ensure_collection(docs: int) -> Path:
    out = REPO / "models" / "collections" / f"bench-{docs}"
    if (out / "manifest.json").exists():
        return out
    rng = random.Random(7)
    src = out.parent / f"bench-{docs}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "w") as f:
        for i in range(docs):
            f.write(json.dumps({"id": f"doc-{i}", "text": sentence(rng)}) + "\n")
    t0 = time.perf_counter()
    subprocess.run([str(CLI), "index", "build", "-m", str(MODEL), "--input", str(src), "-o", str(out)], check=True)
    print(f"built {out} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def mcp_round_trips(collection: Path, queries: list[str]) -> dict[str, list[float]]:
    proc = subprocess.Popen([str(CLI), "mcp", "-m", str(MODEL), "-c", f"docs={collection}"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
    ids = iter(range(1, 10**9))

    def call(method: str, params: dict) -> tuple[dict, float]:
        message = json.dumps({"jsonrpc": "2.0", "id": next(ids), "method": method, "params": params})
        t0 = time.perf_counter()
        proc.stdin.write(message + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        return json.loads(line), (time.perf_counter() - t0) * 1000
    try:
        call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}})
        proc.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
        out = {"ping": [], "search": []}
        for _ in range(20):  # warm-up
            call("ping", {})
            call("tools/call", {"name": "search", "arguments": {"collection": "docs", "query": "warm up", "k": 10}})
        for q in queries:
            out["ping"].append(call("ping", {})[1])
            reply, ms = call("tools/call", {"name": "search", "arguments": {"collection": "docs", "query": q, "k": 10}})
            assert not reply["result"]["isError"], reply
            assert len(reply["result"]["structuredContent"]["results"][0]["hits"]) == 10
            out["search"].append(ms)
        return out
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def http_round_trips(collection: Path, queries: list[str]) -> list[float]:
    proc = subprocess.Popen([str(CLI), "serve", "-m", str(MODEL), "-c", f"docs={collection}", "--port", "0",
                             "--no-request-log", "--cache-size", "0"], stderr=subprocess.PIPE, text=True)
    try:
        port = None
        for line in proc.stderr:
            event = json.loads(line)
            if event.get("msg") == "listening":
                port = event["port"]
            if event.get("msg") == "model loaded":
                break
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def post(query: str) -> float:
            body = json.dumps({"collection": "docs", "query": query, "k": 10})
            t0 = time.perf_counter()
            conn.request("POST", "/search", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            assert r.status == 200, data[:200]
            return (time.perf_counter() - t0) * 1000
        for _ in range(20):
            post("warm up")
        return [post(q) for q in queries]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if not MODEL.exists():
        sys.exit(f"{MODEL} is missing: run scripts/run.sh --no-serve first")
    collection = ensure_collection(args.docs)
    rng = random.Random(11)
    queries = [sentence(rng) for _ in range(args.queries)]
    mcp = mcp_round_trips(collection, queries)
    http = http_round_trips(collection, [q + " ." for q in queries])  # other texts: no cache on either side
    rows = [("MCP stdio `ping` (JSON-RPC and pipes only)", mcp["ping"]),
            ("MCP stdio `tools/call search`, k=10", mcp["search"]),
            ("HTTP `POST /search`, k=10 (same service call)", http)]
    overhead = [a - b for a, b in zip(sorted(mcp["search"]), sorted(http))]
    lines = [
        f"# MCP round trip of a `search` call on a {args.docs:,}-document collection",
        "",
        f"- command: `python3 bench/mcp_bench.py --docs {args.docs} --queries {args.queries}"
        + (f" --out {args.out}`" if args.out else "`"),
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; tree {subprocess.run(['git', '-C', str(REPO), 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}",
        f"- model: all-MiniLM-L6-v2 (f32 file, f32 products); collection: {args.docs:,} synthetic sentences "
        "embedded by `arrowembed index build` (f32 vectors, exact search below 20k documents, HNSW above)",
        "- each query a different sentence (no cache hit); one client, one request at a time; "
        "times are client-side round trips in ms",
        "",
        "| call | p50 ms | p99 ms | mean ms |",
        "|---|---:|---:|---:|",
    ]
    for name, values in rows:
        lines.append(f"| {name} | {pct(values, 0.5):.2f} | {pct(values, 0.99):.2f} | {statistics.mean(values):.2f} |")
    lines += [
        "",
        f"Tool and MCP overhead over the same search behind HTTP (p50 of the sorted differences): "
        f"{pct(overhead, 0.5):.2f} ms; seed targets: tool overhead < 2 ms, end to end < 15 ms "
        f"(MCP search p50 {pct(mcp['search'], 0.5):.2f} ms, p99 {pct(mcp['search'], 0.99):.2f} ms).",
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
