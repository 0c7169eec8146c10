"""The HTTP server (`arrowembed serve`), as a real process driven over HTTP:
every route against the sentence-transformers reference
(tests/fixtures/minilm-reference.parquet), every error path in its API's
shape (TEI or OpenAI), the Arrow response read with pyarrow, the official
openai client, auth, CORS, logs and metrics, concurrency and dynamic
batching, back-pressure (429) and SIGTERM draining.

One server on the f32 model serves most tests (session-scoped); tests that
need other options start their own with `start_server`. Servers run with
--port 0 and the port is read from their 'listening' log line; every
process is killed at teardown."""
from __future__ import annotations

import base64
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import threading
import time
import unicodedata

import numpy as np
import openai
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openapi_spec_validator import validate as validate_openapi

from conftest import REPO, TINY_MODELS, cpu_has_bf16
from server_util import Server, metric, request, serve_until_exit, wait_until

REFERENCE = REPO / "tests" / "fixtures" / "minilm-reference.parquet"
ARROW_STREAM = "application/vnd.apache.arrow.stream"
DIM, MAX_SEQ = 384, 256
MIN_COS, MAX_DIFF = 0.99999, 1e-4
# Every path the server routes (the route table in src/server/routes.cc).
SERVED_PATHS = {"/health", "/info", "/metrics", "/openapi.json", "/docs", "/v1/models", "/models",
                "/embed", "/similarity", "/tokenize", "/v1/embeddings", "/embeddings", "/admin/models/{name}",
                "/tools", "/mcp", "/search", "/collections"}


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------

class Reference:
    """The reference texts, their token ids and (normalised) embeddings."""

    def __init__(self, table: pa.Table):
        self.texts: list[str] = table.column("text").to_pylist()
        self.ids: list[list[int]] = table.column("ids").to_pylist()
        self.vectors = np.stack(table.column("embedding").to_numpy(zero_copy_only=False)).astype(np.float32)
        self.index = {t: i for i, t in enumerate(self.texts)}

    def vector(self, text: str) -> np.ndarray:
        return self.vectors[self.index[text]]

    def tokens(self, text: str) -> int:
        return len(self.ids[self.index[text]])

    def where(self, predicate) -> list[str]:
        """Texts whose ids satisfy predicate, each token sequence once (texts
        with identical ids have identical vectors and could not be told apart)."""
        seen, out = set(), []
        for text, ids in zip(self.texts, self.ids):
            if predicate(text, ids) and tuple(ids) not in seen:
                seen.add(tuple(ids))
                out.append(text)
        return out


@pytest.fixture(scope="session")
def ref() -> Reference:
    return Reference(pq.read_table(REFERENCE))


def assert_matches(got, want, what=""):
    got = np.asarray(got, dtype=np.float32).reshape(-1, DIM)
    want = np.asarray(want, dtype=np.float32).reshape(-1, DIM)
    assert got.shape == want.shape, what
    cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    worst = int(np.argmin(cos))
    assert cos.min() >= MIN_COS, f"{what}: row {worst} has cosine {cos[worst]:.7f} to its reference"
    assert np.abs(got - want).max() <= MAX_DIFF, f"{what}: max |diff| {np.abs(got - want).max():.2e}"


class ServerPool:
    """Starts servers and kills whatever is still running at teardown."""

    def __init__(self, cli, tmp_path_factory):
        self.cli, self.tmp, self.servers = cli, tmp_path_factory, []

    def start(self, model, *args, env=None, wait_ready=True) -> Server:
        log = self.tmp.mktemp("server") / "server.log"
        server = Server(self.cli, model, tuple(args), log, env)
        self.servers.append(server)
        return server.start(wait_ready)

    def close(self):
        for server in self.servers:
            server.kill()


@pytest.fixture(scope="session")
def f32_model(converted):
    return converted["f32.arrow"]


@pytest.fixture(scope="session")
def server(cli, f32_model, tmp_path_factory):
    """The shared server: the f32 model with default options."""
    pool = ServerPool(cli, tmp_path_factory)
    try:
        yield pool.start(f32_model)
    finally:
        pool.close()


@pytest.fixture
def start_server(cli, tmp_path_factory):
    """start_server(model, *options) -> a running Server with other options."""
    pool = ServerPool(cli, tmp_path_factory)
    try:
        yield pool.start
    finally:
        pool.close()


def embed(server, texts, **options) -> np.ndarray:
    return np.array(server.post_ok("/embed", {"inputs": texts, **options}), dtype=np.float32)


def short_texts(ref, lo=1, hi=64):
    """Reference texts of lo..hi tokens (not truncated by the reference)."""
    return ref.where(lambda t, ids: lo <= len(ids) <= hi)


def long_texts(ref):
    """Reference texts the reference cut at max_seq_length: an English and a CJK one."""
    longs = ref.where(lambda t, ids: len(ids) == MAX_SEQ)
    english = next(t for t in longs if t.isascii() and t.startswith("The "))
    cjk = next(t for t in longs if t.startswith("ひらがな"))
    return [english, cjk]


def tei_error(r, status, field=None, error_type="Validation"):
    assert r.status == status, f"expected {status}, got {r.status}: {r.body[:300]!r}"
    body = r.json()
    assert set(body) == {"error", "error_type"}, body
    assert body["error_type"] == error_type, body
    assert isinstance(body["error"], str) and body["error"]
    if field is not None:
        assert body["error"].startswith(f"'{field}' "), body
    return body["error"]


def openai_error(r, status, param=None, type_="invalid_request_error"):
    assert r.status == status, f"expected {status}, got {r.status}: {r.body[:300]!r}"
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"message", "type", "param", "code"}, err
    assert err["type"] == type_ and err["code"] is None, err
    assert err["param"] == param, err
    if param is not None:
        assert err["message"].startswith(f"'{param}' "), err
    return err["message"]


def check_error(route, r, status, field):
    if route in ("/v1/embeddings", "/embeddings"):
        return openai_error(r, status, field)
    return tei_error(r, status, field)


# --------------------------------------------------------------------------
# the routes, against the reference
# --------------------------------------------------------------------------

def test_health(server):
    r = server.get("/health")
    assert r.status == 200 and r.json() == {"status": "ok"}
    assert r.header("content-type").startswith("application/json")


def test_info(server, f32_model):
    r = server.get("/info")
    assert r.status == 200
    info = r.json()
    assert info["model_id"] == f32_model.stem  # the file stem by default
    assert info["model_path"] == str(f32_model)
    assert info["architecture"] == "bert" and info["pooling"] == "mean" and info["normalize"] is True
    assert info["dimensions"] == DIM and info["max_seq_length"] == MAX_SEQ and info["dtype"] == "f32"
    assert isinstance(info["version"], str) and info["version"]
    assert info["load_ms"] > 0 and info["engine_threads"] >= 1 and info["precision"] == "f32"
    assert info["limits"] == {"max_inputs_per_request": 4096, "max_payload_bytes": 16 << 20,
                              "max_batch_tokens": 16384, "max_batch_wait_ms": 0, "max_queue_inputs": 16384,
                              "auto_truncate": False}
    assert info["cache"]["capacity"] == 16384 and info["cache"]["entries"] >= 0
    assert info["auth"] is False


def test_bf16_precision_server(start_server, f32_model, ref):
    if not cpu_has_bf16():
        # Refused at start-up with the reason, not a crash later.
        srv = start_server(f32_model, "--precision", "bf16", wait_ready=False)
        assert srv.proc.wait(timeout=60) != 0 and "AVX512-BF16" in srv.log_text()
        return
    srv = start_server(f32_model, "--precision", "bf16")
    assert srv.get("/info").json()["precision"] == "bf16"
    texts = short_texts(ref)[:64]
    got = np.asarray(embed(srv, texts), dtype=np.float32)
    want = np.asarray([ref.vector(t) for t in texts], dtype=np.float32)
    cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cos.min() >= 0.9998, f"bf16 server: min cosine {cos.min():.6f}"


def test_embed_matches_sentence_transformers(server, ref):
    # Every reference text of up to 64 tokens (English, ~40 languages and
    # scripts, emoji, control characters, code, numbers), in one request.
    texts = short_texts(ref)
    assert len(texts) > 200 and any("中文" in t for t in texts) and any("Привет" in t for t in texts)
    got = embed(server, texts)
    assert_matches(got, [ref.vector(t) for t in texts], "/embed")
    assert np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)
    # Texts the reference cut at 256 tokens match with truncate: true.
    longs = long_texts(ref)
    assert_matches(embed(server, longs, truncate=True), [ref.vector(t) for t in longs], "/embed truncate")
    # A single string gives one vector.
    one = server.post_ok("/embed", {"inputs": "Hello, World!"})
    assert len(one) == 1 and len(one[0]) == DIM
    assert_matches(one, ref.vector("Hello, World!"))


def test_normalize_false_gives_the_raw_vector(server, ref):
    texts = ["The cat sat on the mat.", "Привет, мир!", "😀", "東京は日本の首都です。"]
    normalised = embed(server, texts)
    raw = embed(server, texts, normalize=False)
    norms = np.linalg.norm(raw, axis=1)
    assert np.all(np.abs(norms - 1) > 1e-2), norms  # mean pooling is not unit length
    assert np.abs(raw / norms[:, None] - normalised).max() < 1e-6
    assert_matches(raw / norms[:, None], [ref.vector(t) for t in texts], "normalize=false")


@pytest.mark.parametrize("route", ["/embed", "/v1/embeddings"])
@pytest.mark.parametrize("n", [1, 64, 128, 383, 384])
def test_dimensions_keep_a_renormalised_prefix(server, ref, route, n):
    texts = ["A man is eating food.", "Ελληνικά: Η γρήγορη καφέ αλεπού πηδά. ΣΊΣΥΦΟΣ, ὁ ἄνθρωπος."]
    full = np.stack([ref.vector(t) for t in texts])
    key = "inputs" if route == "/embed" else "input"
    body = server.post_ok(route, {key: texts, "dimensions": n})
    got = np.array(body if route == "/embed" else [d["embedding"] for d in body["data"]], dtype=np.float32)
    assert got.shape == (2, n)
    assert np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)
    prefix = full[:, :n] / np.linalg.norm(full[:, :n], axis=1, keepdims=True)
    assert np.abs(got - prefix).max() <= (2e-3 if n == 1 else 5e-4)  # the reference's own rounding, renormalised
    # Exactly (to float rounding) the server's own full vector, cut and renormalised.
    own = embed(server, texts)[:, :n]
    assert np.abs(got - own / np.linalg.norm(own, axis=1, keepdims=True)).max() < 1e-6
    # Without normalising: exactly the first n components of the raw vector.
    raw = embed(server, texts, normalize=False)
    raw_n = np.array(server.post_ok("/embed", {"inputs": texts, "dimensions": n, "normalize": False}), dtype=np.float32)
    assert np.array_equal(raw_n, raw[:, :n])


@pytest.mark.parametrize("route", ["/v1/embeddings", "/embeddings"])
def test_openai_route(server, ref, f32_model, route):
    texts = ["What time is it?", "Où est la bibliothèque ? Ça dépend, répondit-il à l'élève.", "👍🏽", ""]
    body = server.post_ok(route, {"input": texts, "model": "text-embedding-3-small"})
    assert body["object"] == "list" and body["model"] == "text-embedding-3-small"
    assert [d["object"] for d in body["data"]] == ["embedding"] * 4
    assert [d["index"] for d in body["data"]] == [0, 1, 2, 3]
    floats = np.array([d["embedding"] for d in body["data"]], dtype=np.float32)
    assert_matches(floats, [ref.vector(t) for t in texts], route)
    tokens = sum(ref.tokens(t) for t in texts)
    assert body["usage"] == {"prompt_tokens": tokens, "total_tokens": tokens}
    # No model: the server's model id. A single string: one embedding.
    single = server.post_ok(route, {"input": "What time is it?"})
    assert single["model"] == f32_model.stem and len(single["data"]) == 1
    assert single["usage"]["prompt_tokens"] == ref.tokens("What time is it?")
    # base64: the little-endian float32 bytes of exactly the same floats.
    b64 = server.post_ok(route, {"input": texts, "encoding_format": "base64"})
    decoded = np.stack([np.frombuffer(base64.b64decode(d["embedding"]), dtype="<f4") for d in b64["data"]])
    assert np.array_equal(decoded, floats)
    assert b64["usage"] == body["usage"]
    b64_dims = server.post_ok(route, {"input": texts, "encoding_format": "base64", "dimensions": 7})
    assert all(len(base64.b64decode(d["embedding"])) == 7 * 4 for d in b64_dims["data"])
    assert server.post_ok(route, {"input": texts, "encoding_format": "float"})["data"] == body["data"]


def read_arrow(r) -> tuple[pa.Table, np.ndarray]:
    assert r.status == 200, r.body[:300]
    assert r.header("content-type") == ARROW_STREAM
    table = pa.ipc.open_stream(r.body).read_all()
    assert table.column_names == ["embedding"]
    n = table.schema.field("embedding").type.list_size
    assert table.schema.field("embedding").type == pa.list_(pa.float32(), n)
    values = np.stack(table.column("embedding").to_numpy(zero_copy_only=False)) if table.num_rows else np.zeros((0, n))
    return table, values


def test_arrow_stream_response(server, ref):
    texts = ["Sentence embeddings turn text into vectors.", "我爱北京天安门。", "tab\tseparated\tvalues"]
    accept = {"Accept": ARROW_STREAM}
    as_json = np.array(server.post_ok("/embed", {"inputs": texts}), dtype=np.float32)
    table, values = read_arrow(server.post("/embed", {"inputs": texts}, accept))
    assert table.num_rows == 3 and values.dtype == np.float32
    assert np.array_equal(values, as_json)  # JSON floats round-trip exactly
    assert_matches(values, [ref.vector(t) for t in texts], "arrow")
    tokens = sum(ref.tokens(t) for t in texts)
    assert json.loads(table.schema.metadata[b"arrowembed.usage"]) == {"prompt_tokens": tokens}
    # The OpenAI route, and Matryoshka dimensions, stream too.
    r = server.post("/v1/embeddings", {"input": texts, "dimensions": 32}, {"Accept": f"{ARROW_STREAM}, application/json"})
    table, values = read_arrow(r)
    assert values.shape == (3, 32) and r.header("x-total-tokens") == str(tokens)
    as_json = server.post_ok("/v1/embeddings", {"input": texts, "dimensions": 32})
    assert np.array_equal(values, np.array([d["embedding"] for d in as_json["data"]], dtype=np.float32))
    # Without the Accept header: JSON.
    assert server.post("/embed", {"inputs": texts}).header("content-type").startswith("application/json")


def test_similarity(server, ref):
    source = "A man is eating food."
    sentences = ["A man is eating a piece of bread.", "The girl is carrying a baby.", "A man is riding a horse.",
                 "Привет, мир!", "今天天气很好，我们去公园散步吧。"]
    scores = server.post_ok("/similarity", {"inputs": {"source_sentence": source, "sentences": sentences}})
    want = [float(ref.vector(source) @ ref.vector(s)) for s in sentences]
    assert len(scores) == len(sentences)
    assert np.abs(np.array(scores) - want).max() < 1e-4, (scores, want)
    assert np.argmax(scores) == 0  # bread is closest to food
    # Pairs: each pair's own cosine.
    pairs = [["A man is eating food.", "A man is eating a piece of bread."],
             ["The cat sat on the mat.", "Two men pushed carts through the woods."],
             ["hello world", "hello world"]]
    scores = server.post_ok("/similarity", {"pairs": pairs})
    want = [float(ref.vector(a) @ ref.vector(b)) for a, b in pairs]
    assert np.abs(np.array(scores) - want).max() < 1e-4, (scores, want)
    assert abs(scores[2] - 1) < 1e-5
    # Long texts need truncate, as for /embed.
    long = long_texts(ref)[0]
    assert server.post("/similarity", {"pairs": [[long, "x"]]}).status == 422
    scores = server.post_ok("/similarity", {"pairs": [[long, source]], "truncate": True})
    assert abs(scores[0] - float(ref.vector(long) @ ref.vector(source))) < 1e-4


def strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def test_tokenize_ids_and_offsets(server, ref):
    # Every reference text: the same ids (long ones cut with truncate: true).
    tokens = server.post_ok("/tokenize", {"inputs": ref.texts, "truncate": True})
    assert [[t["id"] for t in seq] for seq in tokens] == ref.ids
    for seq in tokens:
        assert seq[0] == {"id": 101, "text": "[CLS]", "special": True, "start": None, "stop": None}
        assert seq[-1] == {"id": 102, "text": "[SEP]", "special": True, "start": None, "stop": None}
    # Offsets are code point offsets that slice the original text to the
    # token (lower-cased), for texts without [UNK] tokens: printable ASCII,
    # and scripts of multi-byte characters without accents to strip...
    printable = set(map(chr, range(0x20, 0x7f))) | {"\t", "\n"}
    exact = [t for t, ids in zip(ref.texts, ref.ids) if set(t) <= printable and 100 not in ids and len(ids) < MAX_SEQ]
    exact += ["Привет, мир!", "नमस्ते दुनिया", "مرحبا بالعالم", "שלום עולם, מה שלומך?", "বাংলা: আমি বাংলায় গান গাই।",
              "The price rose from $9.99 to €12,50 (a 25% increase)."]
    # ...and, accents aside, texts the uncased model strips accents from.
    accented = ["Café, naïve, résumé, déjà vu, façade, jalapeño, Ångström.", "Der Übermut des Bäckers führte zu größeren Brötchen.",
                "Ça va très bien, merci ! Et vous ?", "Москва — столица России, крупнейший по численности населения город страны."]
    assert len(exact) > 100 and not any(100 in ref.ids[ref.index[t]] for t in exact + accented)
    result = server.post_ok("/tokenize", {"inputs": exact + accented})
    for i, (text, seq) in enumerate(zip(exact + accented, result)):
        assert [t["id"] for t in seq] == ref.ids[ref.index[text]]
        for t in seq[1:-1]:
            assert t["special"] is False and 0 <= t["start"] < t["stop"] <= len(text), (text, t)
            piece = text[t["start"]:t["stop"]].lower()
            if i >= len(exact):
                piece = strip_accents(piece)
            assert piece == t["text"].removeprefix("##").lower(), (text, t, piece)
        starts = [t["start"] for t in seq[1:-1]]
        assert starts == sorted(starts)


def test_tokenize_without_special_tokens(server, ref):
    texts = ["Hello, World!", "[CLS] already has special tokens [SEP]", "Привет, мир!", ""]
    with_special = server.post_ok("/tokenize", {"inputs": texts})
    without = server.post_ok("/tokenize", {"inputs": texts, "add_special_tokens": False})
    for text, a, b in zip(texts, with_special, without):
        assert [t["id"] for t in b] == ref.ids[ref.index[text]][1:-1]
        assert b == a[1:-1]
        assert all(t["special"] is False for t in b)  # "[CLS]" typed in the text is text
    assert without[3] == []
    # A single string: one token list, as TEI.
    single = server.post_ok("/tokenize", {"inputs": "hello world", "add_special_tokens": False})
    assert single == [[{"id": 7592, "text": "hello", "special": False, "start": 0, "stop": 5},
                       {"id": 2088, "text": "world", "special": False, "start": 6, "stop": 11}]]


def test_openai_client(server, ref, f32_model):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0, timeout=60)
    texts = ["The quick brown fox jumps over the lazy dog", "Le cœur a ses raisons que la raison ne connaît point.",
             "東京は日本の首都です。", "I love this! 😍😍😍"]
    # The client's default asks for base64 and decodes it itself.
    result = client.embeddings.create(model="all-MiniLM-L6-v2", input=texts)
    assert result.model == "all-MiniLM-L6-v2" and [d.index for d in result.data] == [0, 1, 2, 3]
    default = np.array([d.embedding for d in result.data], dtype=np.float32)
    assert_matches(default, [ref.vector(t) for t in texts], "openai default")
    assert result.usage.prompt_tokens == result.usage.total_tokens == sum(ref.tokens(t) for t in texts)
    floats = client.embeddings.create(model="m", input=texts, encoding_format="float")
    assert np.array_equal(np.array([d.embedding for d in floats.data], dtype=np.float32), default)
    single = client.embeddings.create(model="m", input="The cat sat on the mat.", dimensions=128)
    assert len(single.data) == 1 and len(single.data[0].embedding) == 128
    with pytest.raises(openai.UnprocessableEntityError) as e:
        client.embeddings.create(model="m", input=[])
    assert e.value.status_code == 422 and e.value.body["param"] == "input"


# --------------------------------------------------------------------------
# metrics, OpenAPI, request ids and logs
# --------------------------------------------------------------------------

def test_metrics_move_with_requests(server):
    before = server.metrics()
    names = {name for name, _ in before}
    for name in ["embedding_request_duration_seconds_count", "embedding_request_total", "embedding_errors_total",
                 "embedding_cache_hits_total", "embedding_memory_usage_bytes", "embedding_queue_size",
                 "embedding_batch_size_count", "embedding_batch_tokens_count", "embedding_batch_size_bucket",
                 "embedding_batch_tokens_bucket"]:
        assert name in names, name
    assert metric(before, "embedding_memory_usage_bytes") > 50e6  # the model is mapped and touched
    model = server.get("/info").json()["model_id"]  # per-model series carry its name
    assert metric(before, "embedding_model_memory_bytes", model=model) > 40e6  # f32 weights at least
    text = f"a text no other test sends {time.time_ns()}"
    server.post_ok("/embed", {"inputs": [text]})  # computed: one batch
    server.post_ok("/embed", {"inputs": [text]})  # from the cache
    assert server.post("/embed", {"inputs": []}).status == 422
    assert server.get("/no/such/route").status == 404

    def counted():  # requests are counted just after their response is sent
        m = server.metrics()
        d = lambda name, **labels: metric(m, name, **labels) - metric(before, name, **labels)  # noqa: E731
        done = d("embedding_request_total", endpoint="/embed", status="200") >= 2 and \
            d("embedding_request_total", endpoint="/embed", status="422") >= 1 and \
            d("embedding_request_total", endpoint="other", status="404") >= 1
        return m if done else None
    after = wait_until(counted, what="the metrics of the requests")
    d = lambda name, **labels: metric(after, name, **labels) - metric(before, name, **labels)  # noqa: E731
    assert d("embedding_request_total", endpoint="/embed", status="200") == 2
    assert d("embedding_request_total", endpoint="/embed", status="422") == 1
    assert d("embedding_errors_total", endpoint="/embed", status="422") == 1
    assert d("embedding_errors_total", endpoint="/embed", status="200") == 0
    assert d("embedding_request_total", endpoint="other", status="404") == 1
    assert d("embedding_request_duration_seconds_count", endpoint="/embed") == 3
    assert d("embedding_request_duration_seconds_sum", endpoint="/embed") > 0
    assert d("embedding_cache_hits_total", model=model) == 1
    assert d("embedding_batch_size_count", model=model) == 1 and d("embedding_batch_size_sum", model=model) == 1
    assert d("embedding_batch_tokens_count", model=model) == 1 and d("embedding_batch_tokens_sum", model=model) >= 3
    assert metric(after, "embedding_queue_size", model=model) == 0
    # Histogram buckets are cumulative and end at +Inf == count.
    buckets = sorted((float(dict(labels)["le"]), v) for (name, labels), v in after.items()
                     if name == "embedding_batch_size_bucket")
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert buckets[-1] == (math.inf, metric(after, "embedding_batch_size_count", model=model))
    r = server.get("/metrics")
    assert r.header("content-type").startswith("text/plain")


def test_openapi_document(server):
    r = server.get("/openapi.json")
    assert r.status == 200 and r.header("content-type").startswith("application/json")
    doc = r.json()
    validate_openapi(doc)
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["version"] == server.get("/info").json()["version"]
    # Every documented path is served...
    for path, ops in doc["paths"].items():
        for method in ops:
            if method in ("get", "post"):
                got = server.request(method.upper(), path, {} if method == "post" else None)
                assert got.status != 404, f"{method.upper()} {path} is documented but not served"
    # ...and every served path is documented.
    missing = SERVED_PATHS - set(doc["paths"])
    assert not missing, f"served but not in /openapi.json: {sorted(missing)}"


def test_docs_page(server):
    r = server.get("/docs")
    assert r.status == 200 and r.header("content-type").startswith("text/html")
    page = r.body.decode()
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert 'fetch("openapi.json")' in page
    assert "http://" not in page and "https://" not in page  # self-contained: no CDN


def test_request_ids_and_log_lines(server, ref):
    r = server.post("/embed", {"inputs": ["Hi.", "Thanks!"]}, {"X-Request-Id": "client-id_1.2:3"})
    assert r.status == 200 and r.header("x-request-id") == "client-id_1.2:3"
    line = server.request_log("client-id_1.2:3")
    assert set(line) >= {"time", "level", "msg", "request_id", "method", "path", "status", "inputs", "tokens",
                         "cache_hits", "queue_ms", "inference_ms", "total_ms", "remote"}
    assert line["method"] == "POST" and line["path"] == "/embed" and line["status"] == 200
    assert line["inputs"] == 2 and line["tokens"] == ref.tokens("Hi.") + ref.tokens("Thanks!")
    assert 0 <= line["cache_hits"] <= 2 and line["remote"] == "127.0.0.1" and line["level"] == "info"
    assert line["total_ms"] >= line["inference_ms"] >= 0 and line["queue_ms"] >= 0
    assert time.strptime(line["time"][:19], "%Y-%m-%dT%H:%M:%S")
    # Without an id, or with an unsafe one, the server makes a unique one.
    ids = set()
    for header in [{}, {}, {"X-Request-Id": "has space"}, {"X-Request-Id": "x" * 200},
                   {"X-Request-Id": 'quote"and\\backslash'}]:
        got = server.get("/health", header).header("x-request-id")
        assert got and got not in ids and " " not in got and '"' not in got and len(got) <= 128
        ids.add(got)
    # Errors are logged too, and a hostile path still gives a valid JSON line.
    r = server.post("/tokenize", b"not json", {"X-Request-Id": "bad-body"})
    assert r.status == 400 and r.header("x-request-id") == "bad-body"
    assert server.request_log("bad-body")["status"] == 400
    r = server.get("/caf%C3%A9%0A%22%5C%01", {"X-Request-Id": "odd-path"})
    assert r.status == 404 and r.header("x-request-id") == "odd-path"
    line = server.request_log("odd-path")
    assert line["status"] == 404 and line["path"].startswith("/caf") and line["path"].isascii()
    # Every line the server has written is JSON with a time, level and msg.
    entries = server.log_entries()
    assert [e["msg"] for e in entries[:2]] == ["listening", "model loaded"]
    assert all({"time", "level", "msg"} <= set(e) for e in entries)
    loaded = entries[1]
    assert loaded["dimensions"] == DIM and loaded["dtype"] == "f32" and loaded["load_ms"] > 0


# --------------------------------------------------------------------------
# error paths
# --------------------------------------------------------------------------

ROUTES = ["/embed", "/v1/embeddings", "/embeddings", "/similarity", "/tokenize"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("body,what", [
    (b"not json", "JSON"), (b'{"inputs": "unterminated', "JSON"), (b"", "JSON"),
    (b'{"inputs": "bad \xff\xfe bytes", "input": "bad \xff\xfe bytes"}', "UTF-8"),
    (b'{"inputs": "ok", "input": "ok", "x": "\xc3("}', "UTF-8"),  # a truncated sequence elsewhere in the body
])
def test_body_that_is_not_json_is_400(server, route, body, what):
    r = server.post(route, body, {"Content-Type": "application/json"})
    message = check_error(route, r, 400, None)
    assert what in message, message


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("body", [[1, 2], "a string", 3, None])
def test_body_that_is_not_an_object_is_422(server, route, body):
    r = server.post(route, json.dumps(body).encode(), {"Content-Type": "application/json"})
    assert "must be a JSON object" in check_error(route, r, 422, None)


FIELD_ERRORS = [
    # TEI /embed
    ("/embed", {}, "inputs"),
    ("/embed", {"inputs": 5}, "inputs"),
    ("/embed", {"inputs": {"text": "a"}}, "inputs"),
    ("/embed", {"inputs": []}, "inputs"),
    ("/embed", {"inputs": ["a", 5]}, "inputs[1]"),
    ("/embed", {"inputs": ["a", "b", None]}, "inputs[2]"),
    ("/embed", {"inputs": [[101, 7592, 102]]}, "inputs[0]"),
    ("/embed", {"inputs": "a", "normalize": "yes"}, "normalize"),
    ("/embed", {"inputs": "a", "normalize": 1}, "normalize"),
    ("/embed", {"inputs": "a", "truncate": "true"}, "truncate"),
    ("/embed", {"inputs": "a", "dimensions": 0}, "dimensions"),
    ("/embed", {"inputs": "a", "dimensions": -3}, "dimensions"),
    ("/embed", {"inputs": "a", "dimensions": 385}, "dimensions"),
    ("/embed", {"inputs": "a", "dimensions": "8"}, "dimensions"),
    ("/embed", {"inputs": "a", "dimensions": 8.5}, "dimensions"),
    # OpenAI
    ("/v1/embeddings", {}, "input"),
    ("/v1/embeddings", {"inputs": "TEI's field name"}, "input"),
    ("/v1/embeddings", {"input": 5}, "input"),
    ("/v1/embeddings", {"input": []}, "input"),
    ("/v1/embeddings", {"input": [1, 2, 3]}, "input[0]"),
    ("/v1/embeddings", {"input": [[1, 2], [3]]}, "input[0]"),
    ("/v1/embeddings", {"input": ["ok", True]}, "input[1]"),
    ("/v1/embeddings", {"input": "a", "encoding_format": "int8"}, "encoding_format"),
    ("/v1/embeddings", {"input": "a", "encoding_format": 1}, "encoding_format"),
    ("/v1/embeddings", {"input": "a", "model": 7}, "model"),
    ("/v1/embeddings", {"input": "a", "dimensions": 0}, "dimensions"),
    ("/v1/embeddings", {"input": "a", "dimensions": 1000}, "dimensions"),
    ("/v1/embeddings", {"input": "a", "normalize": "no"}, "normalize"),
    ("/embeddings", {"input": 5}, "input"),
    ("/embeddings", {"input": "a", "encoding_format": "binary"}, "encoding_format"),
    # /similarity
    ("/similarity", {}, "inputs"),
    ("/similarity", {"inputs": "a"}, "inputs"),
    ("/similarity", {"inputs": {"sentences": ["a"]}}, "inputs.source_sentence"),
    ("/similarity", {"inputs": {"source_sentence": 5, "sentences": ["a"]}}, "inputs.source_sentence"),
    ("/similarity", {"inputs": {"source_sentence": "a"}}, "inputs.sentences"),
    ("/similarity", {"inputs": {"source_sentence": "a", "sentences": "b"}}, "inputs.sentences"),
    ("/similarity", {"inputs": {"source_sentence": "a", "sentences": []}}, "inputs.sentences"),
    ("/similarity", {"inputs": {"source_sentence": "a", "sentences": ["b", 3]}}, "inputs.sentences[1]"),
    ("/similarity", {"pairs": "a"}, "pairs"),
    ("/similarity", {"pairs": []}, "pairs"),
    ("/similarity", {"pairs": ["ab"]}, "pairs[0]"),
    ("/similarity", {"pairs": [["a"]]}, "pairs[0]"),
    ("/similarity", {"pairs": [["a", "b"], ["c", "d", "e"]]}, "pairs[1]"),
    ("/similarity", {"pairs": [["a", "b"], ["c", 5]]}, "pairs[1][1]"),
    ("/similarity", {"pairs": [[None, "b"]]}, "pairs[0][0]"),
    ("/similarity", {"pairs": [["a", "b"]], "truncate": "no"}, "truncate"),
    # /tokenize
    ("/tokenize", {}, "inputs"),
    ("/tokenize", {"inputs": 5}, "inputs"),
    ("/tokenize", {"inputs": []}, "inputs"),
    ("/tokenize", {"inputs": ["a", [1]]}, "inputs[1]"),
    ("/tokenize", {"inputs": "a", "add_special_tokens": "no"}, "add_special_tokens"),
    ("/tokenize", {"inputs": "a", "truncate": 0}, "truncate"),
]


@pytest.mark.parametrize("route,body,field", FIELD_ERRORS, ids=[f"{r}-{f}-{i}" for i, (r, _, f) in enumerate(FIELD_ERRORS)])
def test_field_errors_are_422_naming_the_field(server, route, body, field):
    check_error(route, server.post(route, body), 422, field)


def test_token_arrays_are_refused_as_such(server):
    r = server.post("/v1/embeddings", {"input": [[101, 7592, 102]]})
    assert "token array" in openai_error(r, 422, "input[0]")
    r = server.post("/embed", {"inputs": [7592, 2088]})
    assert "token array" in tei_error(r, 422, "inputs[0]")


def test_too_many_inputs(server):
    # The default limit is 4096 inputs per request.
    assert len(server.post_ok("/tokenize", {"inputs": ["a"] * 4096})) == 4096
    many = ["a"] * 4097
    for route, body, field in [("/embed", {"inputs": many}, "inputs"), ("/tokenize", {"inputs": many}, "inputs"),
                               ("/v1/embeddings", {"input": many}, "input"),
                               ("/similarity", {"inputs": {"source_sentence": "a", "sentences": many[1:]}},
                                "inputs.sentences"),
                               ("/similarity", {"pairs": [["a", "b"]] * 2049}, "pairs")]:
        message = check_error(route, server.post(route, body), 422, field)
        assert "4096" in message, message


@pytest.mark.parametrize("route,key,field", [("/embed", "inputs", "inputs[1]"), ("/v1/embeddings", "input", "input[1]")])
def test_too_long_input_is_422_unless_truncated(server, ref, route, key, field):
    long = long_texts(ref)[1]
    message = check_error(route, server.post(route, {key: ["short", long]}), 422, field)
    assert "256" in message and "truncate" in message, message
    check_error(route, server.post(route, {key: long}), 422, key)  # a single string: the field itself
    body = server.post_ok(route, {key: ["short", long], "truncate": True})
    rows = body if route == "/embed" else [d["embedding"] for d in body["data"]]
    assert_matches(rows[1], ref.vector(long), "truncated")


def test_too_long_input_in_a_one_element_list_names_the_element(server, ref):
    long = long_texts(ref)[0]
    tei_error(server.post("/embed", {"inputs": [long]}), 422, "inputs[0]")
    openai_error(server.post("/v1/embeddings", {"input": [long]}), 422, "input[0]")


@pytest.mark.parametrize("body,field", [
    ({"inputs": {"source_sentence": "LONG", "sentences": ["a"]}}, "inputs.source_sentence"),
    ({"inputs": {"source_sentence": "a", "sentences": ["b", "LONG"]}}, "inputs.sentences[1]"),
    ({"pairs": [["a", "b"], ["c", "LONG"]]}, "pairs[1][1]"),
    ({"pairs": [["LONG", "b"]]}, "pairs[0][0]"),
])
def test_too_long_similarity_input_names_the_field(server, ref, body, field):
    long = long_texts(ref)[0]
    body = json.loads(json.dumps(body).replace('"LONG"', json.dumps(long)))
    tei_error(server.post("/similarity", body), 422, field)


@pytest.mark.parametrize("method,path", [("GET", "/nope"), ("POST", "/nope"), ("POST", "/v1/nope"),
                                         ("GET", "/embedx"), ("POST", "/v1/embeddings/extra")])
def test_unknown_route_is_404(server, method, path):
    r = server.request(method, path, {} if method == "POST" else None)
    assert "no route" in tei_error(r, 404, None, "NotFound")


@pytest.mark.parametrize("method,path,allowed", [("GET", "/embed", "POST"), ("GET", "/similarity", "POST"),
                                                 ("POST", "/health", "GET"), ("POST", "/metrics", "GET")])
def test_served_path_with_the_wrong_method_is_405(server, method, path, allowed):
    r = server.request(method, path, {} if method == "POST" else None)
    assert r.headers["allow"] == allowed
    assert f"takes {allowed}" in tei_error(r, 405, None, "MethodNotAllowed")


def test_json_body_is_read_whatever_the_content_type(server):
    # Small bodies are JSON whatever their Content-Type (curl -d sends
    # application/x-www-form-urlencoded); a larger one must be too, not
    # refused as larger than the 16 MiB limit.
    texts = [f"sentence number {i} of a request body larger than eight kilobytes" for i in range(200)]
    body = json.dumps({"inputs": texts, "add_special_tokens": False}).encode()
    assert 8192 < len(body) < 64 << 10
    want = server.post_ok("/tokenize", body, {"Content-Type": "application/json"})
    for content_type in ["text/plain", "application/x-www-form-urlencoded"]:
        r = server.post("/tokenize", body, {"Content-Type": content_type})
        assert r.status == 200, f"Content-Type {content_type}: {r.status} {r.body[:200]!r}"
        assert r.json() == want


# --------------------------------------------------------------------------
# servers with other options
# --------------------------------------------------------------------------

def test_small_limits_auto_truncate_and_no_request_log(start_server):
    model = TINY_MODELS / "tiny-bert-cls"
    tiny_ref = json.loads((model / "reference.json").read_text())
    s = start_server(model, "--max-payload-bytes", 1024, "--max-inputs-per-request", 4, "--max-queue-inputs", 4,
                     "--auto-truncate", "--no-request-log", "--model-id", "tiny")
    info = s.get("/info").json()
    assert info["model_id"] == "tiny" and info["dimensions"] == 64 and info["max_seq_length"] == 48
    assert info["pooling"] == "cls" and info["normalize"] is False
    assert info["limits"]["max_inputs_per_request"] == 4 and info["limits"]["max_payload_bytes"] == 1024
    assert info["limits"]["auto_truncate"] is True
    # 413 over the payload limit, in each API's shape.
    big = {"inputs": "x " * 600, "input": "x " * 600}
    tei_error(s.post("/embed", big), 413, None, "PayloadTooLarge")
    openai_error(s.post("/v1/embeddings", big), 413, None)
    # The inputs limit.
    assert len(s.post_ok("/embed", {"inputs": ["a", "b", "c", "d"]})) == 4
    assert "the limit is 4" in tei_error(s.post("/embed", {"inputs": ["a"] * 5}), 422, "inputs")
    # --auto-truncate: the tiny model's long reference texts (cut at 48
    # tokens by the reference) embed; truncate: false still refuses them.
    texts, want = tiny_ref["texts"], np.array(tiny_ref["embeddings"], dtype=np.float32)
    long = [t for t, ids in zip(texts, tiny_ref["ids"]) if len(ids) == 48]
    assert long
    for chunk in range(0, len(texts), 4):
        got = np.array(s.post_ok("/embed", {"inputs": texts[chunk:chunk + 4], "normalize": False}), dtype=np.float32)
        assert got.shape[1] == 64
        assert np.abs(got - want[chunk:chunk + 4]).max() < 1e-4
    tei_error(s.post("/embed", {"inputs": long[0], "truncate": False}), 422, "inputs")
    # --no-request-log: only the lifecycle lines.
    assert s.terminate() == 0
    assert [e["msg"] for e in s.log_entries()] == ["listening", "model loaded", "shutting down", "stopped"]


def test_auth(start_server, f32_model, ref):
    key = "s3cret-key_42"
    s = start_server(f32_model, "--api-key", key, "--cors-allow-origin", "*")
    good = {"Authorization": f"Bearer {key}"}
    assert s.get("/health").status == 200  # never needs the key
    for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {key[:-1]}"},
                    {"Authorization": f"Bearer {key}x"}, {"Authorization": key}, {"Authorization": "Bearer "},
                    {"Authorization": f"Basic {key}"}]:
        r = s.post("/embed", {"inputs": "Hi."}, headers)
        tei_error(r, 401, None, "Unauthorized")
        assert r.header("www-authenticate") == "Bearer"
        openai_error(s.post("/v1/embeddings", {"input": "Hi."}, headers), 401, None, "authentication_error")
    for path in ["/info", "/metrics", "/openapi.json", "/docs"]:
        assert s.get(path).status == 401 and s.get(path, good).status == 200
    assert s.get("/info", good).json()["auth"] is True
    assert_matches(s.post_ok("/embed", {"inputs": "Hi."}, good), ref.vector("Hi."))
    # A CORS preflight needs no key.
    r = s.request("OPTIONS", "/embed", None, {"Origin": "https://any.example", "Access-Control-Request-Method": "POST"})
    assert r.status == 204 and r.header("access-control-allow-origin") == "*"
    # The openai client: the right key works, a wrong one is an AuthenticationError.
    texts = ["A monkey is playing drums.", "Größere Übungen fördern die Fähigkeit, schnell zu lösen. Straße!"]
    client = openai.OpenAI(base_url=f"{s.url}/v1", api_key=key, max_retries=0, timeout=60)
    got = client.embeddings.create(model="m", input=texts)
    assert_matches([d.embedding for d in got.data], [ref.vector(t) for t in texts], "openai with key")
    wrong = openai.OpenAI(base_url=f"{s.url}/v1", api_key="not-the-key", max_retries=0, timeout=60)
    with pytest.raises(openai.AuthenticationError) as e:
        wrong.embeddings.create(model="m", input=texts)
    assert e.value.status_code == 401 and e.value.body["type"] == "authentication_error"
    # The key can come from the environment instead of the command line.
    env = {**os.environ, "ARROWEMBED_API_KEY": "from-env"}
    s2 = start_server(TINY_MODELS / "tiny-bert-mean", env=env)
    assert s2.post("/embed", {"inputs": "a"}).status == 401
    assert s2.post("/embed", {"inputs": "a"}, {"Authorization": "Bearer from-env"}).status == 200


def test_cors(start_server, server):
    s = start_server(TINY_MODELS / "tiny-bert-mean", "--cors-allow-origin", "https://app.example, https://other.example")
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, authorization"}
    r = s.request("OPTIONS", "/embed", None, {"Origin": "https://app.example", **preflight})
    assert r.status == 204 and r.body == b""
    assert r.header("access-control-allow-origin") == "https://app.example"
    assert "POST" in r.header("access-control-allow-methods")
    allowed_headers = r.header("access-control-allow-headers").lower()
    assert "content-type" in allowed_headers and "authorization" in allowed_headers
    assert "origin" in r.header("vary").lower() and int(r.header("access-control-max-age")) > 0
    r = s.request("OPTIONS", "/v1/embeddings", None, {"Origin": "https://evil.example", **preflight})
    assert r.header("access-control-allow-origin") is None
    r = s.post("/embed", {"inputs": "a"}, {"Origin": "https://other.example"})
    assert r.status == 200 and r.header("access-control-allow-origin") == "https://other.example"
    assert "x-request-id" in r.header("access-control-expose-headers").lower()
    r = s.post("/embed", {"inputs": "a"}, {"Origin": "https://evil.example"})
    assert r.status == 200 and r.header("access-control-allow-origin") is None
    r = s.post("/embed", {"inputs": []}, {"Origin": "https://app.example"})  # errors carry it too
    assert r.status == 422 and r.header("access-control-allow-origin") == "https://app.example"
    # Without --cors-allow-origin: no CORS headers at all.
    r = server.post("/embed", {"inputs": "a"}, {"Origin": "https://app.example"})
    assert r.status == 200 and r.header("access-control-allow-origin") is None


def test_startup_refuses_a_queue_smaller_than_a_request(cli, f32_model):
    proc = serve_until_exit(cli, "-m", f32_model, "--port", 0, "--max-queue-inputs", 4, "--max-inputs-per-request", 8)
    assert proc.returncode == 1
    assert "--max-queue-inputs must be at least --max-inputs-per-request" in proc.stderr


def test_a_model_that_cannot_load_ends_the_process(cli):
    # The model loads after the server listens; when loading fails the
    # process must exit. The failure is immediate here, which races with the
    # listener thread's start: try many times.
    for _ in range(40):
        proc = serve_until_exit(cli, "-m", REPO / "no-such-model.arrow", "--port", 0, timeout=5)
        assert proc.returncode == 1 and "no-such-model.arrow" in proc.stderr, proc.stderr


def test_a_port_in_use_is_refused(cli, f32_model, server):
    # Another server already listens on the port: refuse, never share it.
    proc = serve_until_exit(cli, "-m", f32_model, "--port", server.port, timeout=5)
    assert proc.returncode == 1 and "cannot listen" in proc.stderr, proc.stderr


# --------------------------------------------------------------------------
# concurrency, batching, back-pressure, shutdown
# --------------------------------------------------------------------------

def run_threads(n, target):
    """Runs target(i) on n threads started together; re-raises the first failure."""
    barrier = threading.Barrier(n)
    errors = []

    def run(i):
        try:
            barrier.wait(timeout=30)
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append((i, e))
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "client threads hung"
    if errors:
        raise AssertionError(f"{len(errors)} of {n} clients failed; first (client {errors[0][0]}): "
                             f"{errors[0][1]!r}") from errors[0][1]


def test_concurrent_clients_get_their_own_results(start_server, f32_model, ref):
    # No cache: every input goes through the batcher, mixed with the others'.
    s = start_server(f32_model, "--cache-size", 0)
    texts = short_texts(ref, 4, 16)
    clients, rounds = 32, 6
    assert len(texts) >= 2 * clients

    def client(i):
        a, b = texts[2 * i], texts[2 * i + 1]
        route, key = ("/embed", "inputs") if i % 2 == 0 else ("/v1/embeddings", "input")
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=120)  # keep-alive
        try:
            for k in range(rounds):
                inputs = [[a], [a, b], [b, a]][k % 3]
                r = request(s.port, "POST", route, {key: inputs}, {"X-Request-Id": f"c{i}-{k}"}, conn=conn)
                assert r.status == 200, r.body[:200]
                assert r.header("x-request-id") == f"c{i}-{k}"
                body = r.json()
                rows = body if route == "/embed" else [d["embedding"] for d in body["data"]]
                assert_matches(rows, [ref.vector(t) for t in inputs], f"client {i} round {k}")
        finally:
            conn.close()
    run_threads(clients, client)
    m = s.metrics()
    model = s.get("/info").json()["model_id"]
    inputs = clients * (rounds // 3) * 5
    assert metric(m, "embedding_inputs_total", model=model) == inputs
    assert metric(m, "embedding_batch_size_sum", model=model) == inputs
    # Batches of more than one input happened: fewer batches than requests,
    # and not every batch in the le="1" bucket.
    batches = metric(m, "embedding_batch_size_count", model=model)
    assert metric(m, "embedding_batch_size_bucket", model=model, le="1") < batches < clients * rounds
    print(f"{clients * rounds} requests, {inputs} inputs in {batches:.0f} batches")


def test_large_request_is_split_into_batches(start_server, f32_model, ref):
    s = start_server(f32_model, "--max-batch-tokens", 256, "--cache-size", 0)
    pool = short_texts(ref, 3, 12)
    texts = [pool[i % len(pool)] for i in range(1000)]
    body = s.post_ok("/v1/embeddings", {"input": texts}, {"X-Request-Id": "big"})
    assert [d["index"] for d in body["data"]] == list(range(1000))
    assert_matches([d["embedding"] for d in body["data"]], [ref.vector(t) for t in texts], "1000 inputs")
    tokens = sum(ref.tokens(t) for t in texts)
    assert body["usage"]["prompt_tokens"] == tokens
    m = s.metrics()
    model = s.get("/info").json()["model_id"]
    batches = metric(m, "embedding_batch_tokens_count", model=model)
    assert batches >= math.ceil(tokens / 256)
    assert metric(m, "embedding_batch_tokens_bucket", model=model, le="256") == batches  # none over the budget
    assert metric(m, "embedding_batch_tokens_sum", model=model) == tokens
    assert metric(m, "embedding_batch_size_sum", model=model) == 1000
    line = s.request_log("big")
    assert line["inputs"] == 1000 and line["tokens"] == tokens and line["status"] == 200


def test_full_queue_answers_429(start_server, f32_model, ref):
    # At most 8 inputs may wait: while the engine runs one 8-input request
    # and another waits, the rest of a burst of 8-input requests must get 429.
    s = start_server(f32_model, "--max-queue-inputs", 8, "--max-inputs-per-request", 8, "--cache-size", 0)
    texts = short_texts(ref, 40, 90)[:8]
    assert len(texts) == 8
    statuses = []
    lock = threading.Lock()

    def client(i):
        inputs = texts[i % 8:] + texts[:i % 8]
        route, key = ("/embed", "inputs") if i % 2 == 0 else ("/v1/embeddings", "input")
        r = s.post(route, {key: inputs})
        with lock:
            statuses.append(r.status)
        if r.status == 200:
            body = r.json()
            rows = body if route == "/embed" else [d["embedding"] for d in body["data"]]
            assert_matches(rows, [ref.vector(t) for t in inputs], f"client {i}")
        else:
            assert r.status == 429, r.body[:300]
            assert r.header("retry-after") == "1"
            if route == "/embed":
                assert "busy" in tei_error(r, 429, None, "Overloaded")
            else:
                openai_error(r, 429, None, "rate_limit_error")
    for _ in range(5):  # a burst almost always overflows at once; retry a slow machine's luck
        run_threads(16, client)
        if 429 in statuses and 200 in statuses:
            break
    assert 429 in statuses and 200 in statuses, statuses
    def counted_429s():
        m = s.metrics()
        return metric(m, "embedding_errors_total", endpoint="/embed", status="429") + \
            metric(m, "embedding_errors_total", endpoint="/v1/embeddings", status="429")
    wait_until(lambda: counted_429s() == statuses.count(429), what="the 429s in /metrics")
    # Once the burst is over the server takes requests again.
    assert s.post("/embed", {"inputs": texts}).status == 200


def connection_refused(port) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True


def test_sigterm_drains_requests_in_flight(start_server, f32_model, ref):
    # Small batches so the slow request is visibly in progress when SIGTERM comes.
    s = start_server(f32_model, "--max-batch-tokens", 256, "--cache-size", 0)
    pool = short_texts(ref, 10, 30)
    texts = [pool[i % len(pool)] for i in range(256)]
    result = {}

    def slow_request():
        result["response"] = s.post("/embed", {"inputs": texts}, {"X-Request-Id": "in-flight"})
    t = threading.Thread(target=slow_request)
    t.start()
    try:
        model = s.get("/info").json()["model_id"]
        wait_until(lambda: metric(s.metrics(), "embedding_batch_size_count", model=model) >= 1, timeout=60,
                   what="the first batch of the slow request")
        assert t.is_alive(), "the slow request finished before SIGTERM; make it slower"
        s.proc.send_signal(signal.SIGTERM)
        s.wait_for_log(lambda e: e.get("msg") == "shutting down")
        # New connections are refused while the request in flight finishes.
        wait_until(lambda: connection_refused(s.port), timeout=10, what="the listening socket to close")
    finally:
        t.join(timeout=120)
    r = result["response"]
    assert r.status == 200 and r.header("x-request-id") == "in-flight"
    got = np.array(r.json(), dtype=np.float32)
    assert got.shape == (256, DIM)
    assert_matches(got, [ref.vector(x) for x in texts], "drained request")
    assert s.proc.wait(timeout=60) == 0
    msgs = [(e["msg"], e.get("request_id")) for e in s.log_entries()]
    assert msgs.index(("shutting down", None)) < msgs.index(("request", "in-flight")) < msgs.index(("stopped", None))
    assert msgs[-1] == ("stopped", None)
    assert connection_refused(s.port)
