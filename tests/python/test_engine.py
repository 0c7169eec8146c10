"""The engine through the CLI: fidelity against sentence-transformers
(tests/fixtures/minilm-reference.parquet, made by
scripts/make_engine_reference.py with PyTorch fp32), output forms, errors,
and the bench command."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import REPO, cpu_has_bf16, run_cli, run_json

REFERENCE = REPO / "tests" / "fixtures" / "minilm-reference.parquet"


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(scope="module")
def reference() -> pa.Table:
    return pq.read_table(REFERENCE)


# bf16 products keep 8 mantissa bits of inputs and weights: measured min
# cosine 0.99993 (mean 0.999985) over the fixture's 303 texts.
@pytest.mark.parametrize("dtype,precision,min_cos,max_diff", [
    ("f32", "f32", 0.99999, 1e-4), ("f16", "f32", 0.9995, None),
    ("f32", "bf16", 0.9998, 5e-3), ("f16", "bf16", 0.9998, 5e-3)])
def test_matches_sentence_transformers(converted, reference, tmp_path, dtype, precision, min_cos, max_diff):
    out = tmp_path / "out.parquet"
    args = ("embed", "-m", converted[f"{dtype}.arrow"], "--input", REFERENCE, "--column", "text", "-o", out,
            "--precision", precision)
    if precision == "bf16" and not cpu_has_bf16():
        proc = run_cli(*args, check=False)  # refused, clearly, rather than crashing on an illegal instruction
        assert proc.returncode == 1 and "AVX512-BF16" in proc.stderr
        return
    run_cli(*args)
    result = pq.read_table(out)
    assert result.num_rows == reference.num_rows
    assert result.schema.field("embedding").type == pa.list_(pa.float32(), 384)  # fixed-size, as docs/cli.md says
    # The input's other columns are carried over, in order.
    assert result.column("ids").to_pylist() == reference.column("ids").to_pylist()
    got = np.stack(result.column("embedding").to_numpy(zero_copy_only=False))
    want = np.stack(reference.column("embedding").to_numpy(zero_copy_only=False))
    assert got.shape == want.shape == (reference.num_rows, 384)
    cos = cosines(got, want)
    print(f"{dtype} {precision}: min cosine {cos.min():.8f}, max |diff| {np.abs(got - want).max():.2e}")
    assert cos.min() >= min_cos
    if max_diff is not None:
        assert np.abs(got - want).max() <= max_diff


def test_token_ids_match_the_reference(converted, reference, tmp_path):
    jsonl = tmp_path / "texts.jsonl"
    jsonl.write_text("".join(json.dumps({"text": t}) + "\n" for t in reference.column("text").to_pylist()))
    out = run_cli("tokenize", "-m", converted["f16.arrow"], "--input", jsonl).stdout.splitlines()
    assert [json.loads(line)["ids"] for line in out] == reference.column("ids").to_pylist()


def test_output_forms_agree(converted, tmp_path):
    texts = ["first text", "", "a third, longer text with more words in it"]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(texts) + "\n")
    lines = run_cli("embed", "-m", converted["f32.arrow"], "--input", src).stdout.splitlines()
    from_jsonl = np.array([json.loads(line)["embedding"] for line in lines], dtype=np.float32)
    run_cli("embed", "-m", converted["f32.arrow"], "--input", src, "-o", tmp_path / "out.arrow")
    with pa.memory_map(str(tmp_path / "out.arrow")) as f:
        table = pa.ipc.open_file(f).read_all()
    assert table.schema.field("embedding").type == pa.list_(pa.float32(), 384)
    from_arrow = np.stack(table.column("embedding").to_numpy(zero_copy_only=False))
    assert np.array_equal(from_jsonl, from_arrow)  # JSON floats round-trip exactly
    assert np.allclose(np.linalg.norm(from_arrow, axis=1), 1.0, atol=1e-6)  # the model normalises
    # stdin, small batches and one thread give the same vectors
    proc = run_cli("embed", "-m", converted["f32.arrow"], "--batch-size", "1", "--threads", "1",
                   input="\n".join(texts) + "\n")
    again = np.array([json.loads(line)["embedding"] for line in proc.stdout.splitlines()], dtype=np.float32)
    assert np.abs(again - from_jsonl).max() < 1e-6


def test_bad_input_names_the_line_and_keeps_earlier_output(converted, tmp_path):
    src = tmp_path / "in.txt"
    src.write_bytes(b"good one\ngood two\nbad \xff\xfe here\nnever reached\n")
    proc = run_cli("embed", "-m", converted["f16.arrow"], "--input", src, "--batch-size", "1", check=False)
    assert proc.returncode == 1
    assert "input line 3: invalid UTF-8" in proc.stderr
    assert len(proc.stdout.splitlines()) == 2
    bad_jsonl = tmp_path / "in.jsonl"
    bad_jsonl.write_text('{"text": "ok"}\n{"txt": "wrong field"}\n')
    proc = run_cli("embed", "-m", converted["f16.arrow"], "--input", bad_jsonl, check=False)
    assert proc.returncode == 1 and "input line 2" in proc.stderr and "\"text\"" in proc.stderr
    proc = run_cli("embed", "-m", converted["f16.arrow"], "--input", REFERENCE, "--column", "nope", check=False)
    assert proc.returncode == 1 and "no column 'nope'" in proc.stderr
    proc = run_cli("embed", "-m", converted["f16.arrow"], "--input", REFERENCE, "--column", "ids", check=False)
    assert proc.returncode == 1 and "not a string column" in proc.stderr
    proc = run_cli("embed", "-m", tmp_path / "missing.arrow", input="x\n", check=False)
    assert proc.returncode == 1 and "no such file" in proc.stderr


def test_bench_reports_its_figures(converted, tmp_path):
    src = tmp_path / "texts.txt"
    src.write_text("".join(f"sentence number {i} for the benchmark\n" for i in range(50)))
    for mode in ("batch", "single"):
        r = run_json("bench", "-m", converted["f16.arrow"], "--input", src, "--mode", mode,
                     "--batch-size", "8", "--seconds", "0.2")
        assert r["mode"] == mode and r["batch_size"] == (8 if mode == "batch" else 1)
        assert r["texts"] >= 2 * r["batch_size"] and r["tokens"] > r["texts"]
        assert r["texts_per_s"] > 0 and r["gflops"] > 0 and r["load_ms"] > 0
        assert 0 < r["latency_ms"]["p50"] <= r["latency_ms"]["p99"]
        assert r["peak_rss_bytes"] > 10_000_000 and r["dtype"] == "f16" and r["precision"] == "f32"


def test_precision_option(converted, tmp_path):
    proc = run_cli("embed", "-m", converted["f32.arrow"], "--precision", "fp8", input="x\n", check=False)
    assert proc.returncode != 0 and "--precision" in proc.stderr and "fp8" in proc.stderr
    if not cpu_has_bf16():
        return  # refusal covered by test_matches_sentence_transformers
    src = tmp_path / "texts.txt"
    src.write_text("".join(f"sentence number {i} for the benchmark\n" for i in range(20)))
    r = run_json("bench", "-m", converted["f32.arrow"], "--input", src, "--precision", "bf16", "--seconds", "0.2")
    assert r["precision"] == "bf16" and r["texts_per_s"] > 0
