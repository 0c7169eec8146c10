"""The arrowembed Python package (pip-installed into .venv by setup.sh): Model
against the engine's CLI (bit for bit) and sentence-transformers' reference
fixture; zero copy proven by buffer addresses in both directions; options,
threads and the GIL; every error a Python exception; the Tool."""
from __future__ import annotations

import json
import sys
import threading

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import arrowembed
from arrowembed import _arrowembed
from conftest import REPO, cpu_has_bf16, run_cli

REFERENCE = REPO / "tests" / "fixtures" / "minilm-reference.parquet"


@pytest.fixture(scope="module")
def reference() -> pa.Table:
    return pq.read_table(REFERENCE)


@pytest.fixture(scope="module")
def texts(reference) -> list[str]:
    return reference.column("text").to_pylist()


@pytest.fixture(scope="module")
def cli_vectors(converted, tmp_path_factory) -> np.ndarray:
    """The reference texts as `arrowembed embed` makes them, in one call."""
    out = tmp_path_factory.mktemp("cli") / "out.parquet"
    run_cli("embed", "-m", converted["f32.arrow"], "--input", REFERENCE, "--column", "text", "-o", out,
            "--batch-size", "100000")
    return np.stack(pq.read_table(out).column("embedding").to_numpy(zero_copy_only=False)).astype(np.float32)


@pytest.fixture
def trace():
    _arrowembed._set_trace(True)
    yield _arrowembed._last_trace
    _arrowembed._set_trace(False)


def str_utf8_address(s: str) -> int:
    """Where CPython keeps a compact ASCII str's bytes: right after its header."""
    assert s.isascii()
    return id(s) + sys.getsizeof(s) - len(s) - 1


# --- the model and its vectors ------------------------------------------------

def test_model_describes_itself(model, converted):
    assert model.dimension == model.get_sentence_embedding_dimension() == 384
    assert model.max_seq_length == 256
    assert model.normalize is True and model.pooling == "mean"
    assert model.config["hidden_size"] == 384 and model.config["num_layers"] == 6
    assert len(model.fingerprint) == 32 and int(model.fingerprint, 16) >= 0
    assert model.threads >= 1 and model.memory_bytes > 80_000_000
    assert model.path == converted["f32.arrow"]
    assert "dimension=384" in repr(model)


def test_vectors_equal_the_cli_bit_for_bit(model, texts, reference, cli_vectors):
    assert np.array_equal(model.encode(texts, batch_size=len(texts)), cli_vectors)
    assert np.array_equal(model.encode_arrow(reference.column("text")).flatten().to_numpy().reshape(-1, 384),
                          cli_vectors)


def test_vectors_match_sentence_transformers(model, texts, reference):
    got = model.encode(texts)  # the default batch_size
    want = np.stack(reference.column("embedding").to_numpy(zero_copy_only=False))
    cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert got.shape == want.shape == (len(texts), 384) and got.dtype == np.float32
    assert cos.min() >= 0.99999 and np.abs(got - want).max() <= 1e-4


def test_a_hugging_face_directory_gives_the_file_s_vectors(model, real_model, texts):
    assert np.array_equal(arrowembed.Model(real_model).encode(texts[:20]), model.encode(texts[:20]))


def test_batch_size_only_changes_how_the_work_is_split(model, texts):
    whole = model.encode(texts, batch_size=len(texts))
    for batch_size in (1, 7, 32):
        assert np.abs(model.encode(texts, batch_size=batch_size) - whole).max() < 1e-6


# --- zero copy ----------------------------------------------------------------

def test_numpy_result_is_the_engine_output_and_str_bytes_are_read_in_place(model, trace):
    texts = ["zero copy in", "and zero copy out", "ascii strings keep their bytes inline"]
    out = model.encode(texts)
    t = trace()
    assert out.__array_interface__["data"][0] == t["output"]
    assert not out.flags.owndata and out.base is not None  # the array keeps the engine's buffer alive
    assert t["output"] % 64 == 0
    assert t["inputs"] == [(str_utf8_address(s), len(s)) for s in texts]
    # Non-ASCII str: CPython makes the UTF-8 once and keeps it in the object.
    accented = ["café crème", "naïve"]
    model.encode(accented)
    first = trace()["inputs"]
    model.encode(accented)
    assert trace()["inputs"] == first and [n for _, n in first] == [len(s.encode()) for s in accented]


def expected_addresses(array: pa.Array) -> list[tuple[int, int]]:
    """Where each row's UTF-8 lives in the array's own buffers."""
    if pa.types.is_string_view(array.type):
        views = np.frombuffer(array.buffers()[1], dtype=np.uint8).reshape(-1, 16)
        out = []
        for i in range(array.offset, array.offset + len(array)):
            size = int(views[i, :4].view(np.int32)[0])
            if size <= 12:
                out.append((array.buffers()[1].address + 16 * i + 4, size))
            else:
                buf, off = views[i, 8:12].view(np.int32)[0], views[i, 12:16].view(np.int32)[0]
                out.append((array.buffers()[2 + int(buf)].address + int(off), size))
        return out
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64 if pa.types.is_large_string(array.type) else np.int32)
    data = array.buffers()[2].address
    return [(data + int(offsets[i]), int(offsets[i + 1] - offsets[i]))
            for i in range(array.offset, array.offset + len(array))]


@pytest.mark.parametrize("type_", [pa.string(), pa.large_string(), pa.string_view()])
def test_arrow_in_and_out_without_copies(model, trace, type_):
    texts = ["short", "a text longer than twelve bytes, stored out of line", "", "third"]
    array = pa.array(texts, type=type_)
    result = model.encode_arrow(array)
    t = trace()
    assert t["inputs"] == expected_addresses(array)
    assert result.type == pa.list_(pa.field("item", pa.float32(), nullable=False), 384)
    assert result.values.buffers()[1].address == t["output"]
    assert np.array_equal(result.flatten().to_numpy().reshape(-1, 384), model.encode(texts))
    # A slice reads from the same buffers.
    model.encode_arrow(array.slice(1, 2))
    assert trace()["inputs"] == expected_addresses(array.slice(1, 2))


def test_arrow_result_outlives_the_model(converted):
    m = arrowembed.Model(converted["f32.arrow"])
    result, array = m.encode_arrow(pa.array(["kept alive"])), m.encode(["kept alive"])
    del m
    assert np.array_equal(result.flatten().to_numpy(), array[0])


def test_chunked_arrays_and_empty_inputs(model):
    chunked = pa.chunked_array([["one", "two"], [], ["three"]], type=pa.string())
    result = model.encode_arrow(chunked)
    assert len(result) == 3
    assert np.array_equal(result.flatten().to_numpy().reshape(3, 384), model.encode(["one", "two", "three"]))
    assert len(model.encode_arrow(pa.chunked_array([], type=pa.string()))) == 0
    assert len(model.encode_arrow(pa.array([], type=pa.string()))) == 0
    assert model.encode([]).shape == (0, 384)
    single = model.encode("one")
    assert single.shape == (384,) and np.array_equal(single, model.encode(["one"])[0])


# --- options ------------------------------------------------------------------

def test_normalize_and_dimensions(model):
    texts = ["normalise me", "and me, please"]
    unit = model.encode(texts)
    raw = model.encode(texts, normalize=False)
    assert np.allclose(np.linalg.norm(unit, axis=1), 1, atol=1e-6)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1, atol=1e-3)
    assert np.allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True), unit, atol=1e-6)
    short = model.encode(texts, dimensions=64)
    want = raw[:, :64] / np.linalg.norm(raw[:, :64], axis=1, keepdims=True)
    assert short.shape == (2, 64) and np.allclose(short, want, atol=1e-6)
    assert np.array_equal(model.encode(texts, truncate_dim=64, normalize_embeddings=True), short)
    assert np.array_equal(model.encode_arrow(pa.array(texts), dimensions=64).flatten().to_numpy().reshape(2, 64),
                          short)
    assert np.array_equal(model.encode(texts, dimensions=64, normalize=False), raw[:, :64])
    with pytest.raises(ValueError, match="disagree"):
        model.encode(texts, normalize=True, normalize_embeddings=False)


def test_progress_bar_reports_every_batch(model, capfd):
    texts = [f"text number {i}" for i in range(50)]
    out = model.encode(texts, batch_size=16, show_progress_bar=True)
    assert np.abs(out - model.encode(texts)).max() < 1e-6
    err = capfd.readouterr().err
    assert "50/50" in err


def test_tokenize_gives_the_reference_ids(model, reference):
    texts, ids = reference.column("text").to_pylist(), reference.column("ids").to_pylist()
    out = model.tokenize(texts)
    longest = max(len(i) for i in ids)
    assert out["input_ids"].shape == out["attention_mask"].shape == (len(texts), longest)
    assert out["input_ids"].dtype == np.int64
    for row, want in enumerate(ids):
        assert out["input_ids"][row, :len(want)].tolist() == want
        assert out["attention_mask"][row].sum() == len(want)
    assert not out["token_type_ids"].any()
    assert model.tokenize("hello")["input_ids"].tolist() == [[101, 7592, 102]]


def test_similarity_of_texts_and_of_embeddings(model):
    a, b = ["a cat sits on the mat"], ["a kitten rests on a rug", "stock markets fell today"]
    scores = model.similarity(a, b)
    ea, eb = model.encode(a), model.encode(b)
    assert scores.shape == (1, 2) and scores[0, 0] > scores[0, 1]
    assert np.allclose(scores, ea @ eb.T, atol=1e-6)
    assert np.allclose(model.similarity(ea * 3, eb), scores, atol=1e-6)  # rows are normalised first
    assert np.allclose(model.similarity("a cat sits on the mat", eb), scores, atol=1e-6)
    with pytest.raises(ValueError, match="384 and 3"):
        model.similarity(ea, np.ones((1, 3)))


def test_bf16_precision(converted, model, texts):
    if not cpu_has_bf16():
        with pytest.raises(arrowembed.Error, match="AVX512-BF16"):
            arrowembed.Model(converted["f32.arrow"], precision="bf16")
        return
    fast = arrowembed.Model(converted["f32.arrow"], precision="bf16")
    assert fast.precision == "bf16"
    got, want = fast.encode(texts), model.encode(texts)
    assert ((got * want).sum(1)).min() >= 0.9998


# --- threads and the GIL ----------------------------------------------------------

def test_threads_share_a_model(model, texts):
    want = {i: model.encode(texts[i::4], batch_size=1000) for i in range(4)}
    got, errors = {}, []

    def work(i):
        try:
            for _ in range(3):
                got[i] = model.encode(texts[i::4], batch_size=1000)
                assert np.array_equal(got[i], want[i])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and len(got) == 4


def test_the_gil_is_released_while_the_engine_runs(model, texts):
    many = texts * 4
    done = threading.Event()
    worker = threading.Thread(target=lambda: (model.encode(many, batch_size=len(many)), done.set()))
    spins = 0
    worker.start()
    while not done.is_set():
        spins += 1  # runs only while the engine does not hold the GIL
    worker.join()
    # One engine call of ~1,200 texts takes seconds; holding the GIL it would
    # leave this loop a handful of iterations (before and after the call).
    assert spins > 100_000, spins


# --- errors -------------------------------------------------------------------------

def test_bad_paths_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file"):
        arrowembed.Model(tmp_path / "missing.arrow")
    bad = tmp_path / "bad.arrow"
    bad.write_bytes(b"not an arrow file at all" * 10)
    with pytest.raises(arrowembed.Error, match="bad.arrow"):
        arrowembed.Model(bad)
    assert issubclass(arrowembed.Error, ValueError)


def test_bad_arguments(converted, model):
    with pytest.raises(arrowembed.Error, match="f8"):
        arrowembed.Model(converted["f32.arrow"], precision="f8")
    with pytest.raises(ValueError, match="threads"):
        arrowembed.Model(converted["f32.arrow"], threads=-1)
    with pytest.raises(TypeError, match="sentences must be a list of str"):
        model.encode(123)
    with pytest.raises(TypeError, match=r"sentences\[1\] is int"):
        model.encode(["ok", 5])
    with pytest.raises(ValueError, match="batch_size"):
        model.encode(["ok"], batch_size=0)
    with pytest.raises(TypeError, match="batch_size"):
        model.encode(["ok"], batch_size=2.5)
    with pytest.raises(ValueError, match="dimensions"):
        model.encode(["ok"], dimensions=0)
    with pytest.raises(arrowembed.Error, match="dimensions is 385"):
        model.encode(["ok"], dimensions=385)
    with pytest.raises(arrowembed.Error, match=r"sentences\[1\] is not valid Unicode"):
        model.encode(["ok", "lone \ud800 surrogate"])


def test_bad_arrow_input(model):
    with pytest.raises(TypeError, match="use encode"):
        model.encode_arrow(["a", "b"])
    with pytest.raises(arrowembed.Error, match="not format 'l'"):
        model.encode_arrow(pa.array([1, 2]))
    with pytest.raises(arrowembed.Error, match="dictionary"):
        model.encode_arrow(pa.array(["a", "b", "a"]).dictionary_encode())
    with pytest.raises(arrowembed.Error, match="text 3 is null"):
        model.encode_arrow(pa.chunked_array([["a", "b"], ["c", None]]))
    bad_utf8 = pa.Array.from_buffers(pa.string(), 2, [None, pa.py_buffer(np.array([0, 2, 5], np.int32)),
                                                       pa.py_buffer(b"ok\xff\xfeX")])
    with pytest.raises(arrowembed.Error, match="(?i)utf-?8"):
        model.encode_arrow(bad_utf8)
    # Offsets going backwards (a negative length) pass pyarrow's cheap checks.
    backwards = pa.Array.from_buffers(pa.string(), 2, [None, pa.py_buffer(np.array([0, 5, 2], np.int32)),
                                                       pa.py_buffer(b"short")])
    with pytest.raises(arrowembed.Error, match="invalid"):
        model.encode_arrow(backwards)
    # The model still works after every refusal.
    assert model.encode_arrow(pa.array(["fine"])).type.list_size == 384


# --- the Tool ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def collection(converted, texts, tmp_path_factory):
    d = tmp_path_factory.mktemp("collection")
    docs = list(dict.fromkeys(t for t in texts if len(t.split()) >= 4))[:60]
    pq.write_table(pa.table({"id": [f"d{i}" for i in range(len(docs))], "text": docs}), d / "docs.parquet")
    run_cli("index", "build", "-m", converted["f32.arrow"], "--input", d / "docs.parquet", "-o", d / "docs")
    return d / "docs", docs


def test_tool_schema_and_calls(converted, model, collection):
    path, docs = collection
    tool = arrowembed.Tool({"minilm": converted["f32.arrow"]}, collections={"docs": path}, threads=1)
    assert tool.actions == ["embed", "similarity", "search"]
    assert all(t["type"] == "function" and "parameters" in t["function"] for t in tool.schema())

    sim = tool.call("similarity", text="a cat", candidates=["a kitten", "a car"])
    want = model.similarity(["a cat"], ["a kitten", "a car"])[0]
    assert [r["text"] for r in sim["scores"]] == ["a kitten", "a car"]
    assert np.allclose([r["score"] for r in sim["scores"]], want, atol=1e-5)

    query = docs[7]
    hits = tool.call("search", {"collection": "docs", "query": query, "k": 3})["results"][0]["hits"]
    vectors = model.encode(docs)
    best = np.argsort(-(vectors @ model.encode(query)))[:3]
    assert [h["id"] for h in hits] == [f"d{i}" for i in best] and hits[0]["id"] == "d7"

    with pytest.raises(arrowembed.Error, match="k"):
        tool.call("search", collection="docs", query="x", k=0)
    with pytest.raises(arrowembed.Error, match="'collection'"):
        tool.call("search", collection="nope", query="x")
    assert "search" not in arrowembed.Tool(converted["f32.arrow"]).actions


def test_the_c_library_ships_with_the_package():
    assert arrowembed.c_library_path().is_file()
    header = (arrowembed.c_include_dir() / "arrowembed.h").read_text()
    assert "arrowembed_embed_arrow" in header
