"""int8 model files (`convert --dtype int8`) through the CLI and the server:
accuracy against sentence-transformers fp32 (tests/fixtures/minilm-reference.parquet)
and in retrieval against our f32 engine, both instruction-set paths (AVX512-VNNI
and AVX2, forced with ARROWEMBED_ISA=avx2) giving the same floats, the file's
layout and size, and what /info and /metrics say."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sysconfig
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

from conftest import REPO, cli_path, run_cli, run_json
from server_util import Server, metric

REFERENCE = REPO / "tests" / "fixtures" / "minilm-reference.parquet"


def run_with_env(env: dict, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The CLI with extra environment variables (e.g. ARROWEMBED_ISA)."""
    return subprocess.run([str(cli_path()), *map(str, args)], input=stdin, capture_output=True, text=True,
                          env=dict(os.environ, **env), timeout=600)


def embed_file(cli_args: tuple, tmp_path: Path, name: str, env: dict | None = None) -> np.ndarray:
    """`arrowembed embed ARGS -o NAME.arrow`, read back as an array of vectors."""
    out = tmp_path / f"{name}.arrow"
    proc = run_with_env(env or {}, "embed", *cli_args, "-o", out)
    assert proc.returncode == 0, proc.stderr
    table = ipc.open_file(pa.memory_map(str(out))).read_all()
    return np.stack(table.column("embedding").to_numpy(zero_copy_only=False))


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return np.stack(pq.read_table(REFERENCE).column("embedding").to_numpy(zero_copy_only=False))


@pytest.fixture(scope="module")
def int8_vectors(converted, tmp_path_factory) -> dict[str, np.ndarray]:
    """The fixture's texts embedded with the int8 file on each instruction-set path."""
    tmp = tmp_path_factory.mktemp("int8")
    args = ("-m", converted["int8.arrow"], "--input", REFERENCE, "--column", "text")
    return {"native": embed_file(args, tmp, "native"),
            "avx2": embed_file(args, tmp, "avx2", {"ARROWEMBED_ISA": "avx2"})}


def test_int8_matches_sentence_transformers(int8_vectors, reference):
    for isa, got in int8_vectors.items():
        cos = (got * reference).sum(1)  # both L2-normalised
        print(f"int8 {isa}: min cosine {cos.min():.6f}, mean {cos.mean():.6f}")
        assert cos.min() >= 0.99 and cos.mean() >= 0.998, isa


def test_int8_paths_agree_bit_for_bit(int8_vectors):
    # Integer sums are exact and both kernels end with the same FMAs.
    assert np.array_equal(int8_vectors["native"], int8_vectors["avx2"])


def stdlib_docstring_corpus(limit: int = 2000) -> list[str]:
    """Real English prose available offline on every machine the tests run on:
    the first paragraph of each docstring in Python's standard library sources
    (parsed, never imported), 60-600 characters, deduplicated, in file order."""
    root = Path(sysconfig.get_paths()["stdlib"])
    seen, texts = set(), []
    for path in sorted(root.rglob("*.py")):
        if {"test", "tests", "site-packages", "idlelib"} & set(path.relative_to(root).parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            text = " ".join(doc.split("\n\n")[0].split())
            if 60 <= len(text) <= 600 and text not in seen:
                seen.add(text)
                texts.append(text)
                if len(texts) == limit:
                    return texts
    return texts


def test_int8_retrieval_keeps_the_f32_neighbours(converted, tmp_path):
    corpus = stdlib_docstring_corpus()
    assert len(corpus) >= 1500, f"only {len(corpus)} docstrings found under {sysconfig.get_paths()['stdlib']}"
    src = tmp_path / "corpus.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in corpus))
    f32 = embed_file(("-m", converted["f32.arrow"], "--input", src), tmp_path, "f32")
    int8 = embed_file(("-m", converted["int8.arrow"], "--input", src), tmp_path, "int8")
    queries = np.arange(0, len(corpus), 10)  # every tenth text asks for its 10 nearest others

    def top10(vectors):
        scores = vectors[queries] @ vectors.T
        scores[np.arange(len(queries)), queries] = -np.inf
        return np.argsort(-scores, axis=1)[:, :10]

    want, got = top10(f32), top10(int8)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got)])
    cos = (f32 * int8).sum(1)
    print(f"int8 vs f32 on {len(corpus)} docstrings: top-10 overlap {overlap:.4f} over {len(queries)} queries; "
          f"cosine min {cos.min():.5f} mean {cos.mean():.5f}")
    assert overlap >= 0.95


def test_int8_file_layout_and_size(converted, real_model, tmp_path, int8_vectors):
    info = run_json("info", "--verify", converted["int8.arrow"])
    assert info["format_version"] == 2 and info["dtype"] == "int8" and info["aligned_64"] is True
    assert info["checksums"] == "ok"
    groups = info["tensor_dtypes"]
    assert groups["linear"] == {"int8": 36}
    assert groups["embedding_tables"] == {"int8": 1, "f16": 2}  # word table int8; position and token type f16
    assert groups["int8_scales"] == {"f32": 38} and groups["layer_norm"] == {"f32": 26}
    ratio = info["file_bytes"] / (real_model / "model.safetensors").stat().st_size
    print(f"int8 .arrow is {ratio:.1%} of model.safetensors")
    assert ratio <= 0.27
    # f32 files are still written as version 1, readable by older builds
    assert run_json("info", converted["f32.arrow"])["format_version"] == 1
    # the Parquet form holds the same tensors: the same vectors
    from_parquet = embed_file(("-m", converted["int8.parquet"], "--input", REFERENCE, "--column", "text"), tmp_path, "pq")
    assert np.array_equal(from_parquet, int8_vectors["native"])


def test_int8_refuses_bf16_precision_and_bad_isa(converted):
    proc = run_cli("embed", "-m", converted["int8.arrow"], "--precision", "bf16", check=False, input="hello\n")
    assert proc.returncode == 1 and "int8 products" in proc.stderr, proc.stderr
    proc = run_with_env({"ARROWEMBED_ISA": "sse9"}, "embed", "-m", converted["int8.arrow"], stdin="hello\n")
    assert proc.returncode == 1 and "ARROWEMBED_ISA must be avx2 or avx512" in proc.stderr, proc.stderr


def test_bench_reports_the_int8_kernel(converted, tmp_path):
    src = tmp_path / "t.txt"
    src.write_text("one short text\nand another one\n")
    r = run_json("bench", "-m", converted["int8.arrow"], "--input", src, "--seconds", "0.2")
    assert r["dtype"] == "int8" and r["precision"] == "int8" and r["kernel"] in ("int8-vnni512", "int8-avx2")
    with_env = run_with_env({"ARROWEMBED_ISA": "avx2"}, "bench", "-m", converted["int8.arrow"], "--input", src,
                            "--seconds", "0.2")
    assert with_env.returncode == 0, with_env.stderr
    assert '"kernel":"int8-avx2"' in with_env.stdout


def test_server_serves_int8_and_says_so(cli, converted, int8_vectors, tmp_path):
    server = Server(cli, converted["int8.arrow"], ("--model-id", "minilm-int8"), tmp_path / "server.log").start()
    try:
        info = server.get("/info").json()
        assert info["dtype"] == "int8" and info["precision"] == "int8" and info["kernel"].startswith("int8-")
        texts = pq.read_table(REFERENCE).column("text").to_pylist()[:4]
        got = np.array(server.post_ok("/embed", {"inputs": texts}), dtype=np.float32)
        # the batcher may group these differently from the CLI: int8 rows do not depend on their neighbours
        assert np.array_equal(got, int8_vectors["native"][:4])
        assert metric(server.metrics(), "embedding_model_info", model="minilm-int8", dtype="int8", precision="int8") == 1
        assert server.terminate() == 0
    finally:
        server.kill()
