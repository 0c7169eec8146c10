"""Collections through the CLI (`index build/add/delete/compact/info`,
`search`), checked with independent tools: pyarrow reads the segments,
NumPy's brute force over those vectors is the reference ranking, the
engine's own `embed` gives the query vectors. Also ANN recall, a crash test
that SIGKILLs `index add`, and every error path."""
from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from conftest import REPO, TINY_MODELS, cli_path, run_cli

REFERENCE = REPO / "tests" / "fixtures" / "minilm-reference.parquet"
TINY = TINY_MODELS / "tiny-bert-mean"  # 32-d, mean pooling, normalised


def reference_texts() -> list[str]:
    return pq.read_table(REFERENCE).column("text").to_pylist()


def doc_lines() -> list[str]:
    """Real English sentences: the repository's own documentation."""
    lines = []
    for path in sorted((REPO / "docs").glob("*.md")) + [REPO / "README.md"]:
        lines += [ln.strip() for ln in path.read_text().splitlines() if len(ln.strip()) > 30]
    return list(dict.fromkeys(lines))


def docs_table(texts: list[str]) -> pa.Table:
    return pa.table({"id": [f"d{i}" for i in range(len(texts))], "text": texts,
                     "lang": ["en" if i % 3 else "fr" for i in range(len(texts))],
                     "n": pa.array(range(len(texts)), pa.int64())})



def embed_jsonl(model: Path, texts: list[str], tmp: Path) -> np.ndarray:
    path = tmp / "queries.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    out = run_cli("embed", "-m", model, "--input", path).stdout
    return np.array([json.loads(line)["embedding"] for line in out.splitlines()], dtype=np.float32)


def read_segments(directory: Path) -> pa.Table:
    """Every committed segment, read by pyarrow, minus the tombstones."""
    manifest = json.loads((directory / "manifest.json").read_text())
    tables = []
    for seg in manifest["segments"]:
        with pa.memory_map(str(directory / seg["file"])) as source:
            table = ipc.open_file(source).read_all()
        assert table.num_rows == seg["rows"]
        deleted = set(seg["deleted"])
        tables.append(table.filter(pa.array([i not in deleted for i in table.column("id").to_pylist()])))
    return pa.concat_tables(tables, promote_options="default") if tables else None


def search(model, directory, queries, *args) -> list[list[dict]]:
    cmd = ["search", "-m", model, "-c", directory, *args]
    for q in queries:
        cmd.append(f"--query={q}")  # one argument even when the text starts with "-"
    hits = [json.loads(line) for line in run_cli(*cmd).stdout.splitlines()]
    return [[h for h in hits if h["query"] == q] for q in queries]


def assert_matches_brute_force(hits: list[dict], ids: list[str], vectors: np.ndarray, query: np.ndarray, k: int):
    """Same scores as NumPy at the same ids, and the same top k up to
    near-ties (summation order differs by ~1e-7)."""
    scores = vectors.astype(np.float64) @ query.astype(np.float64)
    order = np.argsort(-scores, kind="stable")[:k]
    assert len(hits) == min(k, len(ids))
    by_id = dict(zip(ids, scores))
    for h in hits:
        assert abs(h["score"] - by_id[h["id"]]) < 1e-5, h
    got = [by_id[h["id"]] for h in hits]
    assert np.allclose(got, scores[order], atol=1e-5), (got, scores[order])
    kth = scores[order[-1]]
    want = {ids[i] for i in order if scores[i] > kth + 1e-5}
    assert want <= {h["id"] for h in hits}


@pytest.fixture(scope="module")
def minilm(converted) -> Path:
    return converted["f32.arrow"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "docs.parquet"
    pq.write_table(docs_table(reference_texts()), path)
    return path


@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_segments_readable_and_exact_search_equals_numpy(minilm, corpus, tmp_path, dtype):
    out = tmp_path / "c"
    built = json.loads(run_cli("index", "build", "-m", minilm, "--input", corpus, "--id-column", "id",
                               "-o", out, "--dtype", dtype).stdout)
    assert built == {"added": 303, "size": 303, "index": True}
    info = json.loads(run_cli("index", "info", out).stdout)
    assert info["size"] == 303 and info["dimension"] == 384 and info["dtype"] == dtype
    assert info["metadata_columns"] == ["lang", "n"] and info["model"]["normalized"] is True
    table = read_segments(out)
    assert table.column_names == ["id", "text", "lang", "n", "embedding"]
    value = pa.float16() if dtype == "f16" else pa.float32()
    assert table.schema.field("embedding").type == pa.list_(pa.field("item", value, nullable=False), 384)
    assert table.column("text").to_pylist() == reference_texts()
    assert table.column("n").to_pylist()[:3] == ["0", "1", "2"]  # metadata kept as strings
    vectors = np.stack(table.column("embedding").to_numpy(zero_copy_only=False)).astype(np.float32)
    # The stored vectors are the engine's (rounded to f16 when asked).
    engine = embed_jsonl(minilm, reference_texts()[:20], tmp_path)
    want = engine.astype(np.float16).astype(np.float32) if dtype == "f16" else engine
    assert np.array_equal(vectors[:20], want)

    queries = ["money and banks", "a student's homework", "weather tomorrow", reference_texts()[7]]
    qv = embed_jsonl(minilm, queries, tmp_path)
    ids = table.column("id").to_pylist()
    for mode in ("exact", "auto"):
        results = search(minilm, out, queries, "-k", "10", "--mode", mode)
        for q, hits in enumerate(results):
            assert_matches_brute_force(hits, ids, vectors, qv[q], 10)
    top = results[3][0]
    assert top["id"] == "d7" and top["text"] == reference_texts()[7] and top["lang"] == "en" and top["n"] == "7"
    assert abs(top["score"] - 1.0) < 1e-2

    # Filters: equality on a metadata column, and on the id.
    fr = [i for i, lang in enumerate(table.column("lang").to_pylist()) if lang == "fr"]
    hits = search(minilm, out, queries[:1], "-k", "5", "--filter", "lang=fr")[0]
    assert_matches_brute_force(hits, [ids[i] for i in fr], vectors[fr], qv[0], 5)
    assert {h["lang"] for h in hits} == {"fr"}
    hits = search(minilm, out, queries[:1], "--filter", "id=d12", "--filter", "lang=fr")[0]
    assert [h["id"] for h in hits] == ["d12"]
    assert search(minilm, out, queries[:1], "--filter", "id=d11", "--filter", "lang=fr")[0] == []

    # Deletes: gone from results at once (and after reopening), tombstoned until compact.
    best = [h["id"] for h in search(minilm, out, queries[:1], "-k", "3")[0]]
    assert json.loads(run_cli("index", "delete", "-c", out, "--id", best[0], "--id", "nope").stdout) == \
        {"deleted": 1, "size": 302}
    assert json.loads(run_cli("index", "info", out).stdout)["deleted"] == 1
    live = [i for i, x in enumerate(ids) if x != best[0]]
    for mode in ("exact", "approx"):
        hits = search(minilm, out, queries[:1], "-k", "10", "--mode", mode)[0]
        assert best[0] not in {h["id"] for h in hits}
        if mode == "exact":
            assert_matches_brute_force(hits, [ids[i] for i in live], vectors[live], qv[0], 10)
    assert json.loads(run_cli("index", "compact", "-c", out).stdout) == {"size": 302, "segments": 1}
    assert read_segments(out).num_rows == 302
    hits = search(minilm, out, queries[:1], "-k", "10", "--mode", "exact")[0]
    assert_matches_brute_force(hits, [ids[i] for i in live], vectors[live], qv[0], 10)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([".lock", "manifest.json"] +
                           [f for f in [json.loads((out / "manifest.json").read_text())["segments"][0]["file"],
                                        json.loads((out / "manifest.json").read_text())["index"]["file"]]])


def recall(approx: list[list[dict]], exact: list[list[dict]]) -> float:
    """recall@k; a hit that ties the exact k-th score (within float noise)
    counts, since either of two equal documents is a right answer."""
    found = 0
    for a, e in zip(approx, exact):
        ids, kth = {h["id"] for h in e}, e[-1]["score"]
        found += sum(1 for h in a if h["id"] in ids or h["score"] >= kth - 1e-6)
    return found / sum(len(e) for e in exact)


def test_ann_recall_on_a_real_corpus(minilm, tmp_path):
    texts = doc_lines() + reference_texts()
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(t.replace("\n", " ") for t in texts) + "\n")
    run_cli("index", "build", "-m", minilm, "--input", path, "-o", tmp_path / "c")
    # CLI11 trims option values and reads "[x]" as a list, so "\t" and "[SEP]" come back changed.
    queries = [t for t in reference_texts()[::3] if t.strip() == t and t.isprintable() and not t.startswith("[")] + ["how is the model file laid out", "crash safety of the manifest"]
    exact = search(minilm, tmp_path / "c", queries, "-k", "10", "--mode", "exact")
    approx = search(minilm, tmp_path / "c", queries, "-k", "10", "--mode", "approx")
    assert len(texts) > 1000
    assert recall(approx, exact) >= 0.98


def synthetic_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = [w.lower() for w in " ".join(reference_texts()).replace(".", " ").replace(",", " ").split() if w.isalpha()]
    words = sorted(set(words))
    return [" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) for _ in range(n)]


def test_ann_recall_on_a_collection_big_enough_for_the_index(tmp_path):
    """30k texts through the tiny 32-d model (normalised vectors): Auto uses
    the index (>= 20k live vectors) and must agree with exact search."""
    texts = synthetic_texts(30000, 1)
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(texts) + "\n")
    run_cli("index", "build", "-m", TINY, "--input", path, "-o", tmp_path / "c", "--no-ann", "--batch-size", "2048")
    info = json.loads(run_cli("index", "info", tmp_path / "c").stdout)
    assert info["size"] == 30000 and info["index"] is True  # built automatically past 20k
    queries = synthetic_texts(100, 2)
    exact = search(TINY, tmp_path / "c", queries, "-k", "10", "--mode", "exact")
    auto = search(TINY, tmp_path / "c", queries, "-k", "10")
    assert recall(auto, exact) >= 0.98
    table = read_segments(tmp_path / "c")
    vectors = np.stack(table.column("embedding").to_numpy(zero_copy_only=False))
    qv = embed_jsonl(TINY, queries[:5], tmp_path)
    for q in range(5):
        assert_matches_brute_force(exact[q], table.column("id").to_pylist(), vectors, qv[q], 10)


def test_killed_add_leaves_the_last_committed_state(tmp_path):
    """SIGKILL `index add` at random points (15 seeded runs): the collection
    always opens, holds exactly the documents of the adds that finished, and
    every segment the manifest names is whole."""
    c = tmp_path / "c"
    path = tmp_path / "seed.txt"
    path.write_text("\n".join(synthetic_texts(500, 3)) + "\n")
    run_cli("index", "build", "-m", TINY, "--input", path, "-o", c)
    batch = tmp_path / "batch.txt"
    batch.write_text("\n".join(synthetic_texts(3000, 4)) + "\n")
    add = [str(cli_path()), "index", "add", "-m", str(TINY), "-c", str(c), "--input", str(batch)]

    start = time.monotonic()
    subprocess.run(add, check=True, capture_output=True)
    full = time.monotonic() - start
    expected = 3500
    rng = random.Random(13)
    outcomes = set()
    for run in range(15):
        proc = subprocess.Popen(add, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, full * 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        info = json.loads(run_cli("index", "info", c).stdout)
        assert info["size"] in (expected, expected + 3000), (run, info)
        outcomes.add(info["size"] > expected)
        expected = info["size"]
        table = read_segments(c)
        assert table.num_rows == expected and len(set(table.column("id").to_pylist())) == expected
        hits = search(TINY, c, ["a query"], "-k", "3", "--mode", "exact")[0]
        assert len(hits) == 3
        manifest = json.loads((c / "manifest.json").read_text())
        named = {s["file"] for s in manifest["segments"]} | ({manifest["index"]["file"]} if manifest["index"] else set())
        assert all((c / f).is_file() for f in named)
    assert False in outcomes  # some kills landed before the commit
    # A later add removes whatever the killed ones left behind.
    subprocess.run(add, check=True, capture_output=True)
    manifest = json.loads((c / "manifest.json").read_text())
    named = {s["file"] for s in manifest["segments"]} | {manifest["index"]["file"]}
    assert {p.name for p in c.iterdir()} == named | {"manifest.json", ".lock"}
    assert json.loads(run_cli("index", "info", c).stdout)["size"] == expected + 3000


def fails(*args, match: str):
    proc = run_cli(*args, check=False)
    assert proc.returncode == 1, (args, proc.returncode, proc.stderr)
    assert match in proc.stderr, (match, proc.stderr)
    assert proc.stderr.startswith("arrowembed: error: ")


def test_every_error_is_clear_and_non_zero(minilm, tmp_path):
    texts = reference_texts()[:20]
    pq.write_table(docs_table(texts), tmp_path / "docs.parquet")
    c = tmp_path / "c"
    run_cli("index", "build", "-m", minilm, "--input", tmp_path / "docs.parquet", "-o", c)

    # Duplicate ids: in the input, and against the collection.
    dup = docs_table(texts[:2]).set_column(0, "id", pa.array(["x", "x"]))
    pq.write_table(dup, tmp_path / "dup.parquet")
    fails("index", "build", "-m", minilm, "--input", tmp_path / "dup.parquet", "-o", tmp_path / "d",
          match="duplicate id 'x' in the documents")
    fails("index", "add", "-m", minilm, "-c", c, "--input", tmp_path / "docs.parquet", match="duplicate id 'd0'")
    fails("index", "build", "-m", minilm, "--input", tmp_path / "docs.parquet", "-o", c, match="already exists")
    # Another model: other dimension, and same dimension but other weights (f16 file).
    fails("index", "add", "-m", TINY, "-c", c, "--input", tmp_path / "docs.parquet", match="-dimensional vectors")
    fails("search", "-m", TINY, "-c", c, "--query", "x", match="-dimensional vectors")
    run_cli("convert", REPO / "models" / "all-MiniLM-L6-v2", "-o", tmp_path / "f16.arrow", "--dtype", "f16")
    fails("search", "-m", tmp_path / "f16.arrow", "-c", c, "--query", "x", match="built with another model")
    # Bad queries and filters.
    fails("search", "-m", minilm, "-c", c, "--query", "x", "--filter", "colour=red", match="no column 'colour'")
    fails("search", "-m", minilm, "-c", c, "--query", "x", "--filter", "novalue", match="not COLUMN=VALUE")
    run_cli("index", "build", "-m", minilm, "--input", tmp_path / "docs.parquet", "-o", tmp_path / "plain", "--no-ann")
    fails("search", "-m", minilm, "-c", tmp_path / "plain", "--query", "x", "--mode", "approx",
          match="has no approximate index")
    fails("index", "build", "-m", minilm, "--input", tmp_path / "docs.parquet", "--column", "nope", "-o",
          tmp_path / "e", match="no column 'nope'")
    assert not (tmp_path / "e").exists()
    # Missing collection.
    fails("index", "info", tmp_path / "missing", match=f"no collection at {tmp_path / 'missing'}")
    fails("search", "-m", minilm, "-c", tmp_path / "missing", "--query", "x", match="no collection at")
    fails("index", "delete", "-c", tmp_path / "missing", "--id", "x", match="no collection at")

    # Damaged files: each named, never a crash.
    manifest = json.loads((c / "manifest.json").read_text())
    seg, index = c / manifest["segments"][0]["file"], c / manifest["index"]["file"]
    for victim, what in ((seg, "damaged segment"), (index, "damaged index")):
        good = victim.read_bytes()
        for damage in (good[: len(good) // 2], good[:100] + bytes([good[100] ^ 0xFF]) + good[101:]):
            victim.write_bytes(damage)
            fails("index", "info", c, match=f"{what} {victim}")
            fails("search", "-m", minilm, "-c", c, "--query", "x", match=f"{what} {victim}")
        victim.write_bytes(good)
    seg_bytes = seg.read_bytes()
    seg.unlink()
    fails("index", "info", c, match=f"missing segment {seg}")
    seg.write_bytes(seg_bytes)
    good = (c / "manifest.json").read_text()
    for damage in (good[:40], "{}", good.replace('"dimension": 384', '"dimension": 3', 1), "\x00\x01"):
        (c / "manifest.json").write_text(damage)
        fails("index", "info", c, match=f"damaged manifest {c / 'manifest.json'}")
    (c / "manifest.json").write_text(good)
    assert json.loads(run_cli("index", "info", c).stdout)["size"] == 20
