"""Hot-swap under load (issue 12): 8 client threads post /v1/embeddings and
/embed to the model "swap" for a bounded time while the main thread swaps
"swap" back and forth between two models (PUT /admin/models/swap,
alternating paths) at least 20 times. Then:

  - no request failed: every status is 200 (no 404 while a name is being
    replaced, no 5xx, no dropped connection), every PUT too;
  - every response is entirely one model's vectors: its rows all have one
    model's dimension and equal that model's vectors for those texts (which
    were checked against the model's reference before the load);
  - a request sent after a PUT has returned is answered by the new model;
  - after DELETE /admin/models/swap the server's resident memory (VmRSS and
    RssAnon of /proc/PID/status) is back near its baseline, measured after a
    warm-up with the same clients on another model and before "swap" was
    ever loaded (slacks ANON_SLACK and RSS_SLACK below), no mapping of a
    swapped file is left, and the thread and file-descriptor counts are back
    too.

Two pairs of models:
  - tiny-pair: tiny-bert-cls <-> tiny-bert-mean (Hugging Face directories).
    Correctness only, in effect: each tiny model is under 1 MB, so even a
    leak of every swapped-out model (24 swaps) would stay inside the slack.
  - minilm-tiny: the real all-MiniLM-L6-v2 (f32 .arrow: 91 MB mapped plus
    ~42 MB of packed weights and its workspace) <-> tiny-bert-cls. A leak of
    one MiniLM load per swap would be ~1.5 GB after 24 swaps and a leaked
    mapping shows in /proc/PID/maps, so this pair is the one that proves the
    memory of an unloaded model is returned. Two MiniLM files (f32 and f16)
    could not be told apart per response (their vectors differ by ~1e-3),
    hence the tiny model on the other side: 384 vs 64 dimensions.
"""
from __future__ import annotations

import http.client
import random
import shutil
import statistics
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from conftest import REPO
from server_util import request, wait_until
from test_multi_model import ADMIN, ADMIN_KEY, CLS, MEAN, REFS, ModelServer, serve  # noqa: F401 (serve: fixture)

MINILM_REFERENCE = REPO / "tests" / "fixtures" / "minilm-reference.parquet"
CLIENTS = 8
SWAPS = 24                    # at least 20, an even number: "swap" ends on the pair's first model
WARMUP_S = 2.0                # client load on "base" before the baseline is taken
MAX_LOAD_S = 180              # the whole swap phase must finish within this
PAUSE_AFTER_SWAP_S = 0.15     # let the clients use each model for a moment
# After the DELETE: anonymous memory (heap, workspaces, packed weights) may be
# at most ANON_SLACK over the baseline, VmRSS at most RSS_SLACK. VmRSS also
# counts file-backed pages: the model files (their mappings must be gone:
# checked in /proc/PID/maps) and the code of the engine's kernels, of which
# a larger model touches ~3 MiB more for good; that is not memory a model holds.
ANON_SLACK = 8 << 20
RSS_SLACK = 12 << 20
MAX_DIFF = 1e-4               # a row vs the same model's vector for its text (batching changes ~1e-6)
# Texts of both tiny references plus a few of the MiniLM reference's.
EXTRA_TEXTS = ["Hi.", "Thanks!", "What time is it?", "The cat sat on the mat.", "A man is eating food.",
               "A man is eating a piece of bread."]
TEXTS = REFS[CLS].texts + EXTRA_TEXTS


def minilm_reference() -> dict[str, np.ndarray]:
    table = pq.read_table(MINILM_REFERENCE)
    vectors = np.stack(table.column("embedding").to_numpy(zero_copy_only=False)).astype(np.float32)
    return dict(zip(table.column("text").to_pylist(), vectors))


def proc_status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
            out[key] = int(value.split()[0]) * (1024 if key != "Threads" else 1)
    out["fds"] = len(list(Path(f"/proc/{pid}/fd").iterdir()))
    return out


def mapped_files(pid: int) -> set[str]:
    files = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and parts[5].startswith("/"):
            files.add(parts[5].removesuffix(" (deleted)"))
    return files


def embed(port: int, model: str, texts: list[str], route: str, conn=None):
    """Returns (status, rows or None, raw body)."""
    if route == "/embed":
        r = request(port, "POST", route, {"inputs": texts, "model": model, "truncate": True}, conn=conn, timeout=60)
        if r.status != 200:
            return r.status, None, r.body
        return 200, np.array(r.json(), dtype=np.float32), r.body
    r = request(port, "POST", route, {"input": texts, "model": model, "truncate": True}, conn=conn, timeout=60)
    if r.status != 200:
        return r.status, None, r.body
    body = r.json()
    assert body["model"] == model and [d["index"] for d in body["data"]] == list(range(len(texts))), body
    return 200, np.array([d["embedding"] for d in body["data"]], dtype=np.float32), r.body


class Clients:
    """CLIENTS threads posting to one model until stopped; each response is
    checked by `check(texts, rows) -> which model answered` (raises if none)."""

    def __init__(self, port: int, model: str, check):
        self.port, self.model, self.check = port, model, check
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.failures: list[str] = []
        self.answered_by: dict[str, int] = {}
        self.requests = 0
        self.latencies: list[float] = []
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(CLIENTS)]

    def start(self) -> "Clients":
        for t in self.threads:
            t.start()
        return self

    def run(self, i: int):
        rng = random.Random(i)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        k = 0
        try:
            while not self.stop.is_set():
                texts = rng.sample(TEXTS, rng.randint(1, 4))
                route = ("/v1/embeddings", "/embed", "/embeddings")[k % 3]
                k += 1
                t0 = time.perf_counter()
                try:
                    status, rows, raw = embed(self.port, self.model, texts, route, conn)
                    if status != 200:
                        raise AssertionError(f"{route} -> {status}: {raw[:300]!r}")
                    which = self.check(texts, rows)
                    with self.lock:
                        self.requests += 1
                        self.latencies.append(time.perf_counter() - t0)
                        self.answered_by[which] = self.answered_by.get(which, 0) + 1
                except Exception as e:  # noqa: BLE001 - every failure is reported at the end
                    with self.lock:
                        self.requests += 1
                        self.failures.append(f"client {i} {route} {texts!r}: {e!r}")
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        finally:
            conn.close()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=90)
        assert not any(t.is_alive() for t in self.threads), "client threads hung"


@pytest.mark.parametrize("pair", ["tiny-pair", "minilm-tiny"])
def test_swap_under_load(serve, request, tmp_path, pair):
    # The swapped files are private copies, so /proc/PID/maps can show
    # whether any of them is still mapped after the DELETE.
    swap_cls = tmp_path / "swap-cls"
    shutil.copytree(CLS, swap_cls)
    if pair == "tiny-pair":
        swap_mean = tmp_path / "swap-mean"
        shutil.copytree(MEAN, swap_mean)
        sources = {"cls": (swap_cls, REFS[CLS].vector, set(REFS[CLS].texts)),
                   "mean": (swap_mean, REFS[MEAN].vector, set(REFS[MEAN].texts))}
    else:
        minilm_ref = minilm_reference()
        minilm = tmp_path / "swap-minilm-f32.arrow"
        shutil.copy(request.getfixturevalue("converted")["f32.arrow"], minilm)
        sources = {"minilm": (minilm, minilm_ref.__getitem__, set(minilm_ref)),
                   "cls": (swap_cls, REFS[CLS].vector, set(REFS[CLS].texts))}
    names = list(sources)
    # No cache: every input goes through the batching while models change
    # under it (a stale cache is test_multi_model.py's concern).
    s = serve("--model", f"base={MEAN}", "--admin-key", ADMIN_KEY, "--cache-size", 0)
    pid = s.proc.pid

    # 1. Warm-up on "base" with the same clients, then the baseline.
    def check_base(texts, rows):
        assert rows.shape[1] == REFS[MEAN].dim, rows.shape
        return "base"
    warm = Clients(s.port, "base", check_base).start()
    time.sleep(WARMUP_S)
    warm.finish()
    assert not warm.failures, warm.failures[:5]
    time.sleep(0.5)
    baseline = proc_status(pid)
    maps_before = mapped_files(pid)
    print(f"\n{pair}: baseline after {warm.requests} warm-up requests: RSS {baseline['VmRSS'] / 2**20:.1f} MiB, "
          f"{baseline['Threads']} threads, {baseline['fds']} fds")

    # 2. Calm phase: load each model once under "swap"; its vectors for the
    # fixed texts, checked against its reference, are what the clients expect.
    expected: dict[str, dict[str, np.ndarray]] = {}
    load_ms = []
    for name in names:
        path, ref_vector, ref_texts = sources[name]
        r = s.put_model("swap", {"path": str(path)})
        assert r.status == 200, f"PUT {name}: {r.status} {r.body[:300]!r}"
        load_ms.append(r.json()["load_ms"])
        status, rows, raw = embed(s.port, "swap", TEXTS, "/v1/embeddings")
        assert status == 200, raw[:300]
        checked = [i for i, t in enumerate(TEXTS) if t in ref_texts]
        assert len(checked) >= 5, f"{name}: only {len(checked)} texts have a reference"
        want = np.stack([ref_vector(TEXTS[i]) for i in checked])
        want = want / np.linalg.norm(want, axis=1, keepdims=True)
        assert rows.shape[1] == want.shape[1], (name, rows.shape)
        assert np.abs(rows[checked] - want).max() <= MAX_DIFF, f"{name}: vectors differ from the reference"
        expected[name] = dict(zip(TEXTS, rows))
    dims = {name: next(iter(v.values())).shape[0] for name, v in expected.items()}
    assert len(set(dims.values())) == 2, dims
    by_dim = {d: name for name, d in dims.items()}

    def check_swap(texts, rows):
        """Which model answered; fails unless every row is that model's."""
        assert rows.ndim == 2 and rows.shape[0] == len(texts), rows.shape
        name = by_dim.get(rows.shape[1])
        assert name is not None, f"rows of dimension {rows.shape[1]}: neither model's"
        want = np.stack([expected[name][t] for t in texts])
        diff = np.abs(rows - want).max()
        assert diff <= MAX_DIFF, f"rows of dimension {rows.shape[1]} differ from {name}'s vectors by {diff:.2e}"
        return name

    # 3. The load, and the swaps: "swap" holds names[-1] now; PUT alternates.
    swaps, put_ms, put_statuses, after_put = 0, [], [], []
    clients = Clients(s.port, "swap", check_swap).start()
    t_start = time.monotonic()
    try:
        while swaps < SWAPS and time.monotonic() - t_start < MAX_LOAD_S:
            name = names[swaps % 2]
            t0 = time.perf_counter()
            r = s.put_model("swap", {"path": str(sources[name][0])})
            put_ms.append((time.perf_counter() - t0) * 1000)
            put_statuses.append(r.status)
            assert r.status == 200, f"swap {swaps + 1} to {name}: {r.status} {r.body[:300]!r}"
            assert r.json()["replaced"] is True
            load_ms.append(r.json()["load_ms"])
            # Once the PUT has answered, new requests get the new model.
            status, rows, raw = embed(s.port, "swap", TEXTS[:3], "/v1/embeddings")
            assert status == 200, raw[:300]
            after_put.append(check_swap(TEXTS[:3], rows) == name)
            swaps += 1
            time.sleep(PAUSE_AFTER_SWAP_S)
    finally:
        clients.finish()
    elapsed = time.monotonic() - t_start
    peak = proc_status(pid)
    lat = sorted(clients.latencies)
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000 if lat else float("nan")
    print(f"{pair}: {swaps} swaps in {elapsed:.1f} s, PUT median {statistics.median(put_ms):.0f} ms "
          f"(max {max(put_ms):.0f}), load_ms median {statistics.median(load_ms):.1f}; {clients.requests} requests, "
          f"{len(clients.failures)} failed, answered by {clients.answered_by}, p99 {p99:.1f} ms; "
          f"peak RSS {peak['VmHWM'] / 2**20:.1f} MiB")
    assert swaps >= 20, f"only {swaps} swaps in {MAX_LOAD_S} s"
    assert not clients.failures, f"{len(clients.failures)} of {clients.requests} requests failed; first ones:\n" + \
        "\n".join(clients.failures[:10])
    assert all(after_put), f"a request after a returned PUT got the old model: {after_put}"
    assert all(clients.answered_by.get(n, 0) > 0 for n in names), \
        f"the clients did not see both models: {clients.answered_by}"
    assert clients.requests >= 4 * SWAPS, f"too little load: {clients.requests} requests"
    assert s.proc.poll() is None

    # 4. Unload: the memory, the mappings, the threads and the fds go back.
    r = s.delete_model("swap")
    assert r.status == 200, r.body[:300]
    assert s.post("/v1/embeddings", {"input": "a", "model": "swap"}).status == 404
    assert s.model_ids() == ["base"]
    swapped = {str(p) for p, _, _ in sources.values()}

    def still_mapped():
        return {f for f in mapped_files(pid) - maps_before if any(f == p or f.startswith(p + "/") for p in swapped)}
    wait_until(lambda: not still_mapped(), timeout=20, interval=0.1,
               what="the swapped files to be unmapped")

    def settled():
        now = proc_status(pid)
        ok = now["RssAnon"] <= baseline["RssAnon"] + ANON_SLACK and now["VmRSS"] <= baseline["VmRSS"] + RSS_SLACK \
            and now["Threads"] <= baseline["Threads"] + 4 and now["fds"] <= baseline["fds"] + 4
        return now if ok else None
    try:
        after = wait_until(settled, timeout=20, interval=0.2, what="RSS, threads and fds back to the baseline")
    except AssertionError:
        now = proc_status(pid)
        raise AssertionError(
            f"{pair}: after DELETE RSS {now['VmRSS'] / 2**20:.1f} MiB vs baseline {baseline['VmRSS'] / 2**20:.1f} MiB "
            f"(+{(now['VmRSS'] - baseline['VmRSS']) / 2**20:.1f} MiB, slack {RSS_SLACK / 2**20:.0f}), of which anonymous "
            f"{now['RssAnon'] / 2**20:.1f} MiB vs {baseline['RssAnon'] / 2**20:.1f} MiB "
            f"(+{(now['RssAnon'] - baseline['RssAnon']) / 2**20:.1f} MiB, slack {ANON_SLACK / 2**20:.0f}); threads "
            f"{now['Threads']} vs {baseline['Threads']}; fds {now['fds']} vs {baseline['fds']}; peak RSS "
            f"{peak['VmHWM'] / 2**20:.1f} MiB") from None
    print(f"{pair}: anon {baseline['RssAnon'] / 2**20:.1f} -> {after['RssAnon'] / 2**20:.1f} MiB, file "
          f"{baseline['RssFile'] / 2**20:.1f} -> {after['RssFile'] / 2**20:.1f} MiB")
    print(f"{pair}: after DELETE RSS {after['VmRSS'] / 2**20:.1f} MiB "
          f"({(after['VmRSS'] - baseline['VmRSS']) / 2**20:+.1f} MiB vs baseline), {after['Threads']} threads, "
          f"{after['fds']} fds")
    # The server still serves its default model.
    status, rows, raw = embed(s.port, "base", ["a"], "/embed")
    assert status == 200 and rows.shape == (1, REFS[MEAN].dim), raw[:300]
