"""arrowembed.ray.Embedder: in this process (options, errors, the zero-copy
path by buffer addresses, threads) and on a real Ray cluster of two nodes
started on this machine with `ray start` (loopback addresses, its own ports
and temp dir, every subprocess under a timeout, torn down by a finalizer),
where read_parquet -> map_batches(Embedder, concurrency=2) -> write_parquet
must give, row for row, the engine's own vectors bit for bit."""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import arrowembed
from arrowembed import _arrowembed
from arrowembed.ray import Embedder

from conftest import REPO, run_cli

REFERENCE = REPO / "tests" / "fixtures" / "minilm-reference.parquet"
RAY = Path(sys.executable).with_name("ray")  # the venv's `ray` CLI, next to this interpreter


def reference() -> pa.Table:
    return pq.read_table(REFERENCE)


def texts() -> list[str]:
    return reference().column("text").to_pylist()


def rows(column) -> np.ndarray:
    """A column of float32 lists (Array or ChunkedArray) as a 2-D array (a copy)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column.flatten().to_numpy().reshape(len(column), -1)


# ---------------------------------------------------------------------------
# In this process: no cluster.

def test_importing_the_module_does_not_import_ray():
    code = "import sys, arrowembed.ray; print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_appends_the_engines_vectors_reading_and_writing_in_place(model_path, model):
    ref = reference().slice(0, 120)
    # Two chunks, as Ray hands over a batch made of several blocks.
    table = pa.concat_tables([ref.slice(0, 50), ref.slice(50)]).select(["text", "ids"])
    assert table.column("text").num_chunks == 2
    embedder = Embedder(model=model_path, threads=1)
    assert embedder.model.threads == 1
    _arrowembed._set_trace(True)
    try:
        out = embedder(table)
        trace = _arrowembed._last_trace()
    finally:
        _arrowembed._set_trace(False)
    assert out.column_names == ["text", "ids", "embedding"]
    assert out.schema.field("embedding").type == pa.list_(pa.field("item", pa.float32(), nullable=False), 384)
    # The other columns are the input's own, untouched.
    assert out.column("text") is not None and out.column("ids").equals(table.column("ids"))
    got = rows(out.column("embedding"))
    want = model.encode(texts()[:120])
    assert np.array_equal(got, want)  # the same engine, the same bits
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    # Zero copy in: every text the engine read lies inside the batch's own
    # string data buffers, in order.
    data = [chunk.buffers()[2] for chunk in table.column("text").chunks]
    assert len(trace["inputs"]) == table.num_rows
    offsets = [(np.frombuffer(chunk.buffers()[1], np.int32)[chunk.offset:chunk.offset + len(chunk) + 1], buf)
               for chunk, buf in zip(table.column("text").chunks, data)]  # the chunks are slices
    expected = [(buf.address + int(o[i]), int(o[i + 1] - o[i])) for o, buf in offsets for i in range(len(o) - 1)]
    assert trace["inputs"] == expected
    # Zero copy out: the new column's floats are the engine's output buffer.
    column = out.column("embedding")
    assert column.num_chunks == 1
    assert column.chunk(0).values.buffers()[1].address == trace["output"]


@pytest.mark.parametrize("kind", [pa.large_string(), pa.string_view()])
def test_other_arrow_string_types(model_path, model, kind):
    sample = texts()[:40]
    out = Embedder(model=model_path)(pa.table({"text": pa.array(sample, kind)}))
    assert np.array_equal(rows(out.column("embedding")), model.encode(sample))


def test_options(model_path, model):
    sample = texts()[:40]
    table = pa.table({"embedding": pa.array(range(40)), "body": sample, "n": pa.array(range(40))})
    # An existing output column is replaced where it stands; another text column.
    out = Embedder(model=model_path, column="body", normalize=False)(table)
    assert out.column_names == ["embedding", "body", "n"]
    raw = rows(out.column("embedding"))
    assert np.array_equal(raw, model.encode(sample, normalize=False))
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0, atol=1e-3)  # MiniLM's mean pooling, unnormalised
    # Matryoshka: the first 128 dimensions, renormalised, in a column of that size.
    out = Embedder(model=model_path, column="body", output_column="vec", dimensions=128)(table)
    assert out.schema.field("vec").type.list_size == 128
    assert np.array_equal(rows(out.column("vec")), model.encode(sample, dimensions=128))
    # A RecordBatch is taken as a one-batch table; a categorical column is decoded.
    batch = pa.RecordBatch.from_pydict({"text": pa.array(sample).dictionary_encode()})
    out = Embedder(model=model_path)(batch)
    assert np.array_equal(rows(out.column("embedding")), model.encode(sample))
    # An empty batch keeps the column's type.
    out = Embedder(model=model_path)(pa.table({"text": pa.array([], pa.string())}))
    assert out.num_rows == 0
    assert out.schema.field("embedding").type == pa.list_(pa.field("item", pa.float32(), nullable=False), 384)


def test_threads_outside_ray_are_every_core(model_path, model):
    assert "ray" not in sys.modules or not sys.modules["ray"].is_initialized()
    assert Embedder(model=model_path).model.threads == model.threads  # Model's threads=0: one per core
    assert Embedder(model=model_path, threads=1).model.threads == 1


def test_errors(model_path, model):
    embedder = Embedder(model=model_path)
    with pytest.raises(KeyError, match=r"no column 'text' to embed \(its columns: body, n\)"):
        embedder(pa.table({"body": ["a"], "n": [1]}))
    with pytest.raises(TypeError, match=r"column 'text' is int64, not text"):
        embedder(pa.table({"text": [1, 2]}))
    with pytest.raises(ValueError, match=r"column 'text' has 2 null\(s\) \(the first at row 1"):
        embedder(pa.table({"text": ["a", None, "b", None]}))
    with pytest.raises(TypeError, match='batch_format="pyarrow"'):
        embedder({"text": np.array(["a"])})  # what batch_format="numpy" would hand over
    with pytest.raises(FileNotFoundError):
        Embedder(model=model_path.parent / "missing.arrow")
    with pytest.raises(TypeError, match="path, not a loaded Model"):
        Embedder(model=model)
    with pytest.raises(TypeError, match="column must be a non-empty str"):
        Embedder(model=model_path, column="")
    with pytest.raises(arrowembed.Error):
        Embedder(model=model_path, precision="f8")


# ---------------------------------------------------------------------------
# A real cluster: `ray start --head` and a second node, on this machine.

START_TIMEOUT = 60  # each `ray start`: ~5 s when the machine is idle
DRIVER_TIMEOUT = 90


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes() -> dict[int, tuple[int, str, bytes]]:
    """pid -> (ppid, command line, environment) of every process we can read."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
            if state == "Z":
                continue  # a zombie: already ended, waiting to be reaped
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    environ = f.read()
            except OSError:
                environ = b""
        except (OSError, IndexError, ValueError):
            continue
        out[int(entry)] = (int(ppid), cmdline, environ)
    return out


class LocalCluster:
    """Two Ray nodes on 127.0.0.1 with ports of their own. Its processes are
    found, to end them, by a marker in their environment, the cluster's temp
    dir in their command line, and descent from those: this ends exactly the
    processes this cluster started (`ray stop` would end every Ray process
    on the machine, other users' included)."""

    def __init__(self):
        # Short: Ray's socket paths (session dir + sockets/plasma_store) must fit in 107 bytes.
        self.temp = Path(tempfile.mkdtemp(prefix="aeray-", dir="/tmp"))
        self.marker = f"ARROWEMBED_TEST_RAY_CLUSTER={uuid.uuid4().hex}"
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", os.environ.get("no_proxy")), "127.0.0.1,localhost"]))
        # No usage reports; worker ports from the OS (two nodes on one host);
        # gRPC to 127.0.0.1 never through a proxy; token authentication with
        # a token of this cluster's own (Ray's servers listen on every
        # interface, and a token file left in ~/.ray by another Ray would
        # otherwise decide the mode); the marker.
        self.env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_USE_RANDOM_PORTS="1",
                        NO_PROXY=no_proxy, no_proxy=no_proxy,
                        RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32),
                        ARROWEMBED_TEST_RAY_CLUSTER=self.marker.split("=", 1)[1])
        self.env.pop("RAY_AUTH_TOKEN_PATH", None)

    def _node_args(self, name: str) -> list[str]:
        # Two logical CPUs per node: one for the node's Embedder actor, one for
        # Ray Data's own listing/read/write tasks (with a single CPU a node
        # whose CPU an actor holds would wait for ever on those tasks). The
        # custom resource puts exactly one Embedder actor on each node.
        return ["--node-ip-address", "127.0.0.1", "--num-cpus", "2", "--resources", '{"arrowembed_slot": 1}',
                "--object-store-memory", str(96 * 1024 * 1024), "--disable-usage-stats",
                "--temp-dir", str(self.temp / name),
                "--node-manager-port", str(free_port()), "--object-manager-port", str(free_port()),
                "--dashboard-agent-listen-port", str(free_port()), "--dashboard-agent-grpc-port", str(free_port()),
                "--runtime-env-agent-port", str(free_port()), "--metrics-export-port", str(free_port())]

    def _ray(self, *args: str) -> None:
        proc = subprocess.run([str(RAY), *args], env=self.env, capture_output=True, text=True,
                              timeout=START_TIMEOUT, start_new_session=True)
        if proc.returncode != 0:
            raise AssertionError(f"ray {' '.join(args[:2])} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
                                 f"{self.logs()}")

    def start(self) -> None:
        self._ray("start", "--head", "--port", str(self.port), "--include-dashboard=false",
                  "--dashboard-port", str(free_port()), *self._node_args("head"))
        self._ray("start", "--address", self.address, *self._node_args("node2"))

    def logs(self) -> str:
        out = []
        for path in sorted(self.temp.glob("*/session_latest/logs/*.err")) + \
                sorted(self.temp.glob("*/session_latest/logs/raylet.out")):
            tail = path.read_text(errors="replace")[-1500:].strip()
            if tail:
                out.append(f"\n--- {path.relative_to(self.temp)}\n{tail}")
        return "".join(out)

    def pids(self) -> set[int]:
        procs = _processes()
        me = os.getpid()
        mine = {pid for pid, (_, cmd, env) in procs.items()
                if pid != me and (self.marker.encode() in env.split(b"\0") or str(self.temp) in cmd)}
        grew = True
        while grew:  # and their descendants (workers rename their command line)
            grew = False
            for pid, (ppid, _, _) in procs.items():
                if ppid in mine and pid not in mine and pid != me:
                    mine.add(pid)
                    grew = True
        return mine

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):  # a raylet takes ~10 s to end on TERM
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and self.pids():
                time.sleep(0.1)
        left = self.pids()
        shutil.rmtree(self.temp, ignore_errors=True)
        assert not left, f"Ray processes left running: {sorted(left)}"


@pytest.fixture(scope="module")
def cluster(request):
    assert RAY.is_file(), f"{RAY} is missing: ray[data] is a test requirement (scripts/requirements-test.txt)"
    c = LocalCluster()
    request.addfinalizer(c.stop)  # before start(): a half-started cluster is stopped too
    c.start()
    return c


# The driver runs in its own process, bounded by a timeout: a Ray Data job
# that cannot be scheduled waits for ever rather than failing.
DRIVER = textwrap.dedent("""
    import json, sys, time
    import ray, ray.data
    from arrowembed.ray import Embedder

    args = json.loads(sys.argv[1])
    ray.init(address=args["address"], logging_level="WARNING", log_to_driver=False)
    nodes = [n["NodeID"] for n in ray.nodes() if n["Alive"]]

    def threads_in_task():
        return Embedder(model=args["model"]).model.threads  # threads=None: the task's CPUs

    threads = {n: ray.get(ray.remote(num_cpus=n)(threads_in_task).remote()) for n in (1, 2)}

    start = time.monotonic()
    ds = ray.data.read_parquet(args["input"])
    # Ray Data reads files this small (under 1 MiB) into one block, which
    # would give one actor all the work: split it.
    ds = ds.repartition(args["blocks"])
    ds = ds.map_batches(Embedder, fn_constructor_kwargs={"model": args["model"]}, batch_format="pyarrow",
                        batch_size=None, compute=ray.data.ActorPoolStrategy(size=2),  # concurrency=2 before Ray 2.51
                        num_cpus=1, resources={"arrowembed_slot": 1})
    ds = ds.materialize()  # to read its stats: where the batches ran
    ds.write_parquet(args["output"])
    seconds = time.monotonic() - start

    stats = next(op for op in ds.stats().split("Operator ") if "MapBatches(Embedder)" in op)
    # Where the actors ran (the GCS actor table, which needs no dashboard).
    import ray._private.state as state
    job = ray.get_runtime_context().get_job_id()
    actors = [a for a in state.actors().values() if a["JobID"] == job and "Embedder" in a["ActorClassName"]]
    print(json.dumps({"nodes": nodes, "threads": threads, "seconds": seconds, "stats": stats,
                      "actor_nodes": sorted(a["Address"]["NodeID"] for a in actors),
                      "actor_classes": sorted({a["ActorClassName"] for a in actors})}))
    ray.shutdown()
""")


def test_ray_data_on_a_two_node_cluster(cluster, model_path, model, cli, tmp_path):
    # A Parquet dataset of real texts: the engine reference's 303 in 4 files,
    # with an id to match rows. The driver splits it into 4 blocks of 75-76
    # texts, so both actors get work, and every engine call holds more than
    # 64 tokens: the batch kernels, whose bits do not depend on how texts
    # are grouped (a call of at most 64 tokens takes the one-text kernel).
    ref = reference()
    table = pa.table({"id": pa.array(range(ref.num_rows), pa.int64()), "text": ref.column("text")})
    src, dst = tmp_path / "docs", tmp_path / "embedded"
    src.mkdir()
    step = -(-table.num_rows // 4)
    for i in range(4):
        pq.write_table(table.slice(i * step, step), src / f"part-{i}.parquet")

    args = {"address": cluster.address, "model": str(model_path), "input": str(src), "output": str(dst), "blocks": 4}
    try:
        proc = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(args)], env=cluster.env,
                              capture_output=True, text=True, timeout=DRIVER_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"the Ray Data job did not finish in {DRIVER_TIMEOUT} s:\n"
                             f"{(e.stderr or b'')[-3000:]!r}{cluster.logs()}") from None
    assert proc.returncode == 0, f"driver failed:\n{proc.stderr[-5000:]}{cluster.logs()}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"Ray Data: {table.num_rows} texts in {report['seconds']:.2f} s on {report['actor_classes']}")

    # Two nodes, one Embedder actor on each; each actor's engine had the CPUs Ray gave it.
    assert len(report["nodes"]) == 2
    assert report["actor_nodes"] and sorted(set(report["actor_nodes"])) == sorted(report["nodes"])
    assert report["threads"] == {"1": 1, "2": 2}
    # Both did work: Ray Data's own account of the Embedder's batches.
    assert re.search(r"\* Tasks per node: [1-9]\d* min, \d+ max, \d+ mean; 2 nodes used", report["stats"]), report["stats"]

    # Every row back, with its own columns, and the engine's vector bit for bit.
    out = pq.read_table(dst).sort_by("id")
    assert out.column_names == ["id", "text", "embedding"]
    kind = out.schema.field("embedding").type
    assert pa.types.is_fixed_size_list(kind) and kind.list_size == 384 and kind.value_type == pa.float32()
    assert out.column("id").to_pylist() == list(range(ref.num_rows))
    assert out.column("text").equals(ref.column("text"))
    got = rows(out.column("embedding"))
    want = model.encode(texts())
    assert got.shape == (ref.num_rows, 384)
    assert np.array_equal(got, want), f"max |diff| {np.abs(got - want).max():.3g}"
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    # ... which is also the CLI's, and sentence-transformers' within f32 tolerance.
    cli_out = tmp_path / "cli.parquet"
    run_cli("embed", "-m", model_path, "--input", src / "part-0.parquet", "--column", "text", "-o", cli_out)
    assert np.array_equal(rows(pq.read_table(cli_out).column("embedding")), got[:step])
    st = rows(ref.column("embedding"))
    assert (np.sum(got * st, axis=1) / np.linalg.norm(st, axis=1)).min() >= 0.99999
