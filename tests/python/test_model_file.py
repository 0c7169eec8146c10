"""The model file as an independent reader (pyarrow) sees it, against the
safetensors original (read by the `safetensors` package)."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from safetensors.numpy import load_file

from conftest import TINY_MODELS, run_cli, run_json


def read_arrow(path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def read_any(path) -> pa.Table:
    return pq.read_table(path) if str(path).endswith(".parquet") else read_arrow(path)


def tensor(table: pa.Table, name: str) -> np.ndarray:
    column = table.column(name)
    assert isinstance(column.type, pa.FixedShapeTensorType), f"{name}: {column.type}"
    return column.chunk(0).to_numpy_ndarray()[0]


def expected_tensors(model_dir) -> dict[str, np.ndarray]:
    tensors = load_file(str(model_dir / "model.safetensors"))
    return {k.removeprefix("bert."): v for k, v in tensors.items() if not k.endswith("position_ids")}


def assert_matches(table: pa.Table, originals: dict[str, np.ndarray], dtype: str) -> None:
    names = [f.name for f in table.schema if f.name != "tokenizer.json"]
    assert sorted(names) == sorted(originals)
    for name, original in originals.items():
        got = tensor(table, name)
        assert got.shape == original.shape, name
        if dtype == "f16" and original.ndim >= 2:
            want = original.astype(np.float16)  # IEEE round-to-nearest-even
            assert got.dtype == np.float16, name
            assert np.array_equal(got.view(np.uint16), want.view(np.uint16)), name
        else:
            assert got.dtype == np.float32, name
            assert np.array_equal(got.view(np.uint32), original.view(np.uint32)), name


@pytest.mark.parametrize("form", ["f32.arrow", "f16.arrow", "f32.parquet", "f16.parquet"])
def test_every_tensor_equals_the_safetensors_original(converted, real_model, form):
    table = read_any(converted[form])
    assert_matches(table, expected_tensors(real_model), form.split(".")[0])
    metadata = table.schema.metadata
    assert metadata[b"arrowembed.format_version"] == b"1"
    config = json.loads(metadata[b"arrowembed.config"])
    assert config["dtype"] == form.split(".")[0]
    assert config["pooling"] == "mean" and config["normalize"] is True and config["max_seq_length"] == 256
    # The tokenizer is stored byte for byte.
    stored = table.column("tokenizer.json")[0].as_py().encode("utf-8")
    assert stored == (real_model / "tokenizer.json").read_bytes()


@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_arrow_tensors_start_on_64_byte_boundaries(converted, dtype):
    path = converted[f"{dtype}.arrow"]
    with pa.memory_map(str(path)) as source:
        base = source.read_buffer(1).address  # start of the mapping
        batch = pa.ipc.open_file(source).get_batch(0)
        for i, field in enumerate(batch.schema):
            if field.name == "tokenizer.json":
                continue
            values = batch.column(i).storage.values
            offset = values.buffers()[1].address - base
            assert offset % 64 == 0, f"{field.name} starts at file offset {offset}"


def test_f16_file_is_at_most_51_percent_of_safetensors(converted, real_model):
    safetensors_bytes = (real_model / "model.safetensors").stat().st_size
    ratio = converted["f16.arrow"].stat().st_size / safetensors_bytes
    assert ratio <= 0.51, ratio


def test_info_reports_the_model(converted):
    for form in ("f32.arrow", "f16.arrow", "f16.parquet"):
        info = run_json("info", "--verify", converted[form])
        assert info["architecture"] == "bert"
        assert (info["hidden_size"], info["num_layers"], info["num_heads"]) == (384, 6, 12)
        assert (info["intermediate_size"], info["vocab_size"], info["max_seq_length"]) == (1536, 30522, 256)
        assert info["pooling"] == "mean" and info["normalize"] is True
        assert info["dtype"] == form.split(".")[0]
        assert info["file_bytes"] == converted[form].stat().st_size
        assert info["parameters"] == 22_713_216
        assert info["load_ms"] > 0 and info["checksums"] == "ok"
        assert info["aligned_64"] is True


def test_convert_accepts_parquet_input(converted, tmp_path):
    out = tmp_path / "from-parquet.arrow"
    report = run_json("convert", converted["f32.parquet"], "-o", out)
    assert report["output"]["dtype"] == "f32"
    a, b = read_arrow(out), read_arrow(converted["f32.arrow"])
    for name in a.schema.names:
        if name != "tokenizer.json":
            assert np.array_equal(tensor(a, name), tensor(b, name)), name


@pytest.mark.parametrize("name", ["tiny-bert-cls", "tiny-bert-mean"])
@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_tiny_models_round_trip(tmp_path, name, dtype):
    src = TINY_MODELS / name
    arrow, parquet = tmp_path / "m.arrow", tmp_path / "m.parquet"
    run_cli("convert", src, "-o", arrow, "--dtype", dtype, "--parquet", parquet)
    for path in (arrow, parquet):
        assert_matches(read_any(path), expected_tensors(src), dtype)
    info = run_json("info", arrow)
    reference = json.loads((src / "reference.json").read_text())
    assert info["pooling"] == reference["pooling"]
    assert info["normalize"] == reference["normalize"]
    assert info["max_seq_length"] == reference["max_seq_length"]
