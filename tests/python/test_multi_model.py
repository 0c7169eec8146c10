"""Several models in one server (issue 12): `serve --model NAME=PATH`
(repeatable) and `--models-config FILE`, model selection on the OpenAI and
TEI routes, /v1/models, /info and /metrics per model, the admin routes
(`--admin-key`; PUT and DELETE /admin/models/{name}) and SIGHUP reloads of
the config file.

The two tiny fixture models (tests/fixtures/tiny-models/tiny-bert-{cls,mean})
have different shapes (64 vs 32 dimensions, max_seq_length 48 vs 32) and
different vectors, so every answer can be told to come from one or the
other: it is compared with that model's own reference.json (transformers,
fp32). Every server runs with --port 0 and is killed at teardown; every wait
is bounded. The swap-under-load test is in test_hot_swap.py."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import openai
import pytest

from conftest import TINY_MODELS, cpu_has_bf16, run_cli
import server_util
from server_util import STARTUP_TIMEOUT_S, Server, wait_until

CLS, MEAN = TINY_MODELS / "tiny-bert-cls", TINY_MODELS / "tiny-bert-mean"
ADMIN_KEY = "adm1n-s3cret_key"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
# As test_server.py / test_engine.py for f32 products (after normalising both sides).
MIN_COS, MAX_DIFF = 0.99999, 1e-4
LONG = "unbelievable " * 30  # in both references; longer than both tiny models' max_seq_length


# --------------------------------------------------------------------------
# helpers: references, a server without -m, error shapes, metrics
# --------------------------------------------------------------------------

class TinyRef:
    """A tiny model's reference.json: texts, ids and L2-normalised vectors
    (the server normalises by default; tiny-bert-cls's raw vectors are not)."""

    def __init__(self, model_dir: Path):
        d = json.loads((model_dir / "reference.json").read_text())
        self.texts: list[str] = d["texts"]
        self.ids: list[list[int]] = d["ids"]
        raw = np.array(d["embeddings"], dtype=np.float32)
        self.vectors = raw / np.linalg.norm(raw, axis=1, keepdims=True)
        self.dim = raw.shape[1]
        self.max_seq = d["max_seq_length"]
        self.index = {t: i for i, t in enumerate(self.texts)}

    def vector(self, text: str) -> np.ndarray:
        return self.vectors[self.index[text]]

    def tokens(self, text: str) -> int:
        return len(self.ids[self.index[text]])


REFS = {CLS: TinyRef(CLS), MEAN: TinyRef(MEAN)}
assert REFS[CLS].dim != REFS[MEAN].dim, "the fixtures must differ in dimension"


def assert_rows(got, ref: TinyRef, texts: list[str], what: str = ""):
    """Every row of `got` is `ref`'s model's vector for its text."""
    got = np.asarray(got, dtype=np.float32)
    want = np.stack([ref.vector(t) for t in texts])
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape} (the other model answered?)"
    cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    worst = int(np.argmin(cos))
    assert cos.min() >= MIN_COS, f"{what}: row {worst} ({texts[worst]!r}) has cosine {cos[worst]:.7f} to its reference"
    assert np.abs(got - want).max() <= MAX_DIFF, f"{what}: max |diff| {np.abs(got - want).max():.2e}"


class ModelServer(Server):
    """`arrowembed serve --port 0 ARGS` without an implied -m; ready once
    /health answers 200 (every model given on the command line loaded)."""

    def start(self, wait_ready: bool = True) -> "ModelServer":
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(self.cli), "serve", "--port", "0", *map(str, self.args)],
                                     stdout=subprocess.DEVNULL, stderr=self._log, env=self.env)
        listening = self.wait_for_log(lambda e: e.get("msg") == "listening", timeout=STARTUP_TIMEOUT_S)
        self.port = int(listening["port"])
        if wait_ready:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = STARTUP_TIMEOUT_S):
        def healthy():
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited ({self.proc.returncode}) before it was ready:\n{self.log_text()}")
            try:
                return self.get("/health", timeout=5).status == 200
            except OSError:
                return False
        wait_until(healthy, timeout=timeout, interval=0.02, what="/health to answer 200")

    def model_ids(self) -> list[str]:
        r = self.get("/v1/models")
        assert r.status == 200, r.body[:300]
        return [m["id"] for m in r.json()["data"]]

    def put_model(self, name: str, body, headers=ADMIN):
        return self.request("PUT", f"/admin/models/{name}", body, headers, timeout=120)

    def delete_model(self, name: str, headers=ADMIN):
        return self.request("DELETE", f"/admin/models/{name}", None, headers)

    def openai(self, model: str | None, texts: list[str], **options) -> tuple[np.ndarray, dict]:
        body = {"input": texts, **options}
        if model is not None:
            body["model"] = model
        out = self.post_ok("/v1/embeddings", body)
        assert [d["index"] for d in out["data"]] == list(range(len(texts)))
        return np.array([d["embedding"] for d in out["data"]], dtype=np.float32), out

    def tei(self, model: str | None, texts: list[str], **options) -> np.ndarray:
        body = {"inputs": texts, **options}
        if model is not None:
            body["model"] = model
        return np.array(self.post_ok("/embed", body), dtype=np.float32)

    def vm_status(self, field: str) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise AssertionError(f"no {field} in /proc/{self.proc.pid}/status")


@pytest.fixture
def serve(cli, tmp_path_factory):
    """serve(*options) -> a running ModelServer; every one is killed at teardown."""
    servers = []

    def start(*args, env=None, wait_ready=True) -> ModelServer:
        log = tmp_path_factory.mktemp("server") / "server.log"
        server = ModelServer(cli, None, tuple(args), log, env)
        servers.append(server)
        return server.start(wait_ready)
    try:
        yield start
    finally:
        for server in servers:
            server.kill()


@pytest.fixture(scope="module")
def two(cli, tmp_path_factory):
    """A server with two named models, read-only tests only: cls (the default) and mean."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    server = ModelServer(cli, None, ("--model", f"cls={CLS}", "--model", f"mean={MEAN}"), log)
    try:
        yield server.start()
    finally:
        server.kill()


def serve_until_exit(cli, *args, timeout=20) -> subprocess.CompletedProcess:
    return server_util.serve_until_exit(cli, "--port", "0", *args, timeout=timeout)


def openai_model_not_found(r, served: list[str]):
    assert r.status == 404, f"expected 404, got {r.status}: {r.body[:300]!r}"
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"message", "type", "param", "code"}, err
    assert err["type"] == "invalid_request_error" and err["param"] == "model" and err["code"] == "model_not_found", err
    assert f"(served: {', '.join(served)})" in err["message"], err
    return err["message"]


def tei_not_found(r):
    assert r.status == 404, f"expected 404, got {r.status}: {r.body[:300]!r}"
    body = r.json()
    assert set(body) == {"error", "error_type"} and body["error_type"] == "NotFound", body
    assert isinstance(body["error"], str) and body["error"], body
    return body["error"]


def error_message(r) -> str:
    """The message of an error body in either API's shape."""
    body = r.json()
    err = body["error"]
    return err["message"] if isinstance(err, dict) else err


def metric_sum(metrics: dict, name: str, **labels) -> float:
    """Sum of the samples of `name` whose labels include `labels` (0 when none)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in metrics.items() if n == name and want <= ls)


def has_series(metrics: dict, name: str, **labels) -> bool:
    want = set(labels.items())
    return any(n == name and want <= ls for (n, ls) in metrics)


def write_config(path: Path, models: list[dict]) -> Path:
    path.write_text(json.dumps({"models": models}, indent=2))
    return path


@pytest.fixture(scope="module")
def tiny_arrow(tmp_path_factory) -> dict[Path, Path]:
    """The tiny models converted to .arrow (f32): {model dir: file}."""
    out = tmp_path_factory.mktemp("tiny-arrow")
    files = {}
    for src in (CLS, MEAN):
        files[src] = out / f"{src.name}.arrow"
        run_cli("convert", src, "-o", files[src], "--dtype", "f32")
    return files


# --------------------------------------------------------------------------
# several models at once
# --------------------------------------------------------------------------

def test_each_model_answers_with_its_own_vectors(two):
    texts = REFS[CLS].texts  # the same texts in both references; LONG is cut with truncate
    for _ in range(2):  # the second round comes from the cache, which must be per model
        for name, model in [("cls", CLS), ("mean", MEAN)]:
            got, body = two.openai(name, texts, truncate=True)
            assert body["model"] == name
            assert_rows(got, REFS[model], texts, f"/v1/embeddings model={name}")
            tokens = sum(REFS[model].tokens(t) for t in texts)
            assert body["usage"] == {"prompt_tokens": tokens, "total_tokens": tokens}
            assert_rows(two.tei(name, texts, truncate=True), REFS[model], texts, f"/embed model={name}")
            out = two.post_ok("/embeddings", {"input": texts[:3], "model": name})
            assert out["model"] == name
            assert_rows([d["embedding"] for d in out["data"]], REFS[model], texts[:3], f"/embeddings model={name}")
    # Without a model field: the default model (the first --model).
    got, body = two.openai(None, texts[:4])
    assert body["model"] == "cls"
    assert_rows(got, REFS[CLS], texts[:4], "/v1/embeddings without model")
    assert_rows(two.tei(None, texts[:4]), REFS[CLS], texts[:4], "/embed without model")
    # Per-request options apply to the chosen model (its own dimension bound).
    got, _ = two.openai("mean", ["Hello world!"], dimensions=8)
    assert got.shape == (1, 8)
    r = two.post("/v1/embeddings", {"input": "a", "model": "mean", "dimensions": 64})
    assert r.status == 422 and r.json()["error"]["param"] == "dimensions", r.body[:300]
    assert two.post("/v1/embeddings", {"input": "a", "model": "cls", "dimensions": 64}).status == 200


def test_concurrent_requests_to_two_models_do_not_mix(serve):
    # No cache: every input goes through the batching, each client on its model.
    s = serve("--model", f"cls={CLS}", "--model", f"mean={MEAN}", "--cache-size", 0)
    texts = REFS[CLS].texts
    errors = []

    def client(i):
        name, model = [("cls", CLS), ("mean", MEAN)][i % 2]
        try:
            for k in range(8):
                chunk = [texts[(i + k + j) % len(texts)] for j in range(1 + k % 4)]
                if k % 2:
                    got = s.tei(name, chunk, truncate=True)
                else:
                    got, body = s.openai(name, chunk, truncate=True)
                    assert body["model"] == name
                assert_rows(got, REFS[model], chunk, f"client {i} request {k} ({name})")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append((i, e))
    threads = [threading.Thread(target=client, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "client threads hung"
    assert not errors, f"{len(errors)} clients failed; first (client {errors[0][0]}): {errors[0][1]!r}"


def test_tei_similarity_and_tokenize_take_a_model(two):
    source, sentences = "Hello world!", ["The quick brown fox jumps over the lazy dog.", "a", "Café naïve résumé — déjà vu"]
    pairs = [["Hello world!", "a"], ["東京は日本の首都です", "emoji 👍🏽 and 👨\u200d👩\u200d👧 families"]]
    for name, model in [("cls", CLS), ("mean", MEAN)]:
        ref = REFS[model]
        scores = two.post_ok("/similarity", {"inputs": {"source_sentence": source, "sentences": sentences},
                                             "model": name})
        want = [float(ref.vector(source) @ ref.vector(s)) for s in sentences]
        assert np.abs(np.array(scores) - want).max() < 1e-4, (name, scores, want)
        scores = two.post_ok("/similarity", {"pairs": pairs, "model": name})
        want = [float(ref.vector(a) @ ref.vector(b)) for a, b in pairs]
        assert np.abs(np.array(scores) - want).max() < 1e-4, (name, scores, want)
        # /tokenize truncates at the chosen model's max_seq_length.
        tokens = two.post_ok("/tokenize", {"inputs": [LONG, "Hello world!"], "truncate": True, "model": name})
        assert [[t["id"] for t in seq] for seq in tokens] == [ref.ids[ref.index[LONG]], ref.ids[ref.index["Hello world!"]]]
        assert len(tokens[0]) == ref.max_seq
    # Without a model: the default (cls).
    tokens = two.post_ok("/tokenize", {"inputs": LONG, "truncate": True})
    assert len(tokens[0]) == REFS[CLS].max_seq
    scores = two.post_ok("/similarity", {"pairs": pairs})
    want = [float(REFS[CLS].vector(a) @ REFS[CLS].vector(b)) for a, b in pairs]
    assert np.abs(np.array(scores) - want).max() < 1e-4
    # The length limit is the chosen model's: 40 tokens fit cls (48), not mean (32).
    forty = next(t for t in ["unbelievable " * n for n in range(1, 40)] if
                 len(two.post_ok("/tokenize", {"inputs": t, "model": "cls"})[0]) in range(33, 49))
    assert two.post("/embed", {"inputs": forty, "model": "cls"}).status == 200
    r = two.post("/embed", {"inputs": forty, "model": "mean"})
    assert r.status == 422 and "32" in r.json()["error"], r.body[:300]


def test_v1_models_lists_every_model_in_load_order(two):
    r = two.get("/v1/models")
    assert r.status == 200 and r.header("content-type").startswith("application/json")
    body = r.json()
    assert set(body) == {"object", "data"} and body["object"] == "list"
    assert [m["id"] for m in body["data"]] == ["cls", "mean"]
    for m in body["data"]:
        assert set(m) == {"id", "object", "created", "owned_by"}, m
        assert m["object"] == "model" and m["owned_by"] == "arrowembed"
        assert isinstance(m["created"], int) and not isinstance(m["created"], bool)
        assert abs(m["created"] - time.time()) < 24 * 3600, m  # seconds since the epoch, not ms
    # The official client reads it, and gets OpenAI's 404 for an unknown model.
    client = openai.OpenAI(base_url=f"{two.url}/v1", api_key="x", max_retries=0, timeout=60)
    assert [m.id for m in client.models.list()] == ["cls", "mean"]
    result = client.embeddings.create(model="mean", input=["Hello world!", "a"])
    assert result.model == "mean"
    assert_rows([d.embedding for d in result.data], REFS[MEAN], ["Hello world!", "a"], "openai client")
    with pytest.raises(openai.NotFoundError) as e:
        client.embeddings.create(model="text-embedding-3-small", input="a")
    assert e.value.status_code == 404 and e.value.body["code"] == "model_not_found"


def test_single_unnamed_model_keeps_todays_behaviour(serve):
    # -m PATH: one model named by --model-id (or the file stem); the OpenAI
    # model field is not checked and is echoed back.
    s = serve("-m", MEAN, "--model-id", "tiny")
    assert s.model_ids() == ["tiny"]
    got, body = s.openai("text-embedding-3-small", ["Hello world!"])
    assert body["model"] == "text-embedding-3-small"
    assert_rows(got, REFS[MEAN], ["Hello world!"])
    assert s.openai(None, ["a"])[1]["model"] == "tiny"
    assert s.post("/embed", {"inputs": "a", "model": "tiny"}).status == 200
    info = s.get("/info").json()
    assert info["model_id"] == "tiny" and [m["name"] for m in info["models"]] == ["tiny"]
    assert info["models"][0]["default"] is True
    s2 = serve("-m", CLS)
    assert s2.model_ids() == [CLS.name]


def test_unknown_model_on_the_openai_routes(two):
    for route in ["/v1/embeddings", "/embeddings"]:
        for name in ["nope", "CLS", "cls ", "tiny-bert-cls"]:
            openai_model_not_found(two.post(route, {"input": "a", "model": name}), ["cls", "mean"])
    # A model field of the wrong type is still a 422 naming the field.
    r = two.post("/v1/embeddings", {"input": "a", "model": 7})
    assert r.status == 422 and r.json()["error"]["param"] == "model", r.body[:300]


@pytest.mark.parametrize("route,body", [
    ("/embed", {"inputs": "a"}),
    ("/similarity", {"pairs": [["a", "b"]]}),
    ("/similarity", {"inputs": {"source_sentence": "a", "sentences": ["b"]}}),
    ("/tokenize", {"inputs": "a"}),
])
def test_unknown_model_on_the_tei_routes(two, route, body):
    tei_not_found(two.post(route, {**body, "model": "nope"}))
    assert two.post(route, {**body, "model": "mean"}).status == 200


def test_info_describes_every_model(two):
    r = two.get("/info")
    assert r.status == 200
    info = r.json()
    # The top-level fields are the default model's, as before.
    assert info["model_id"] == "cls" and info["model_path"] == str(CLS)
    assert info["dimensions"] == 64 and info["max_seq_length"] == 48 and info["pooling"] == "cls"
    assert info["normalize"] is False and info["precision"] == "f32"
    models = info["models"]
    assert [m["name"] for m in models] == ["cls", "mean"]
    for m, (name, path) in zip(models, [("cls", CLS), ("mean", MEAN)]):
        ref = REFS[path]
        assert m["path"] == str(path), m
        assert m["default"] is (name == "cls"), m
        assert m["dimensions"] == ref.dim and m["max_seq_length"] == ref.max_seq, m
        assert m["dtype"] == "f32" and m["precision"] == "f32", m
        assert isinstance(m["memory_bytes"], int) and m["memory_bytes"] > 0, m
        assert isinstance(m["load_ms"], (int, float)) and m["load_ms"] > 0, m


def test_metrics_carry_the_model_label(serve):
    s = serve("--model", f"cls={CLS}", "--model", f"mean={MEAN}")
    texts = ["Hello world!", "a", "Café naïve résumé — déjà vu"]
    tok = {m: sum(REFS[m].tokens(t) for t in texts) for m in (CLS, MEAN)}
    s.openai("cls", texts)                  # 3 misses for cls
    s.tei("mean", texts[:2])                # 2 misses for mean

    def after_misses():
        m = s.metrics()
        return m if metric_sum(m, "embedding_inputs_total", model="cls") == 3 and \
            metric_sum(m, "embedding_inputs_total", model="mean") == 2 else None
    m = wait_until(after_misses, what="per-model embedding_inputs_total")
    assert metric_sum(m, "embedding_tokens_total", model="cls") == tok[CLS]
    assert metric_sum(m, "embedding_tokens_total", model="mean") == REFS[MEAN].tokens(texts[0]) + REFS[MEAN].tokens(texts[1])
    for name, n in [("cls", 3), ("mean", 2)]:
        assert metric_sum(m, "embedding_cache_misses_total", model=name) == n
        assert metric_sum(m, "embedding_cache_hits_total", model=name) == 0
        assert metric_sum(m, "embedding_batch_size_sum", model=name) == n
        count = metric_sum(m, "embedding_batch_size_count", model=name)
        assert count >= 1
        assert metric_sum(m, "embedding_batch_size_bucket", model=name, le="+Inf") == count
        assert metric_sum(m, "embedding_batch_tokens_count", model=name) == count
        assert metric_sum(m, "embedding_inference_duration_seconds_count", model=name) >= 1
        assert has_series(m, "embedding_queue_size", model=name)
        assert metric_sum(m, "embedding_queue_size", model=name) == 0
        assert metric_sum(m, "embedding_model_memory_bytes", model=name) > 0
    assert metric_sum(m, "embedding_batch_tokens_sum", model="cls") == tok[CLS]
    # The cache is per model: the same texts again hit only cls's entries...
    s.openai("cls", texts)
    m = wait_until(lambda: (lambda m: m if metric_sum(m, "embedding_cache_hits_total", model="cls") == 3 else None)(
        s.metrics()), what="cls cache hits")
    assert metric_sum(m, "embedding_cache_hits_total", model="mean") == 0
    # ...and mean's third text is a miss for mean, though cls has it.
    got = s.tei("mean", texts)
    assert_rows(got, REFS[MEAN], texts, "mean after cls cached the same texts")
    m = wait_until(lambda: (lambda m: m if metric_sum(m, "embedding_cache_misses_total", model="mean") == 3 else None)(
        s.metrics()), what="mean cache misses")
    assert metric_sum(m, "embedding_cache_hits_total", model="mean") == 2
    # No series carries a model that is not served.
    labelled = {dict(ls)["model"] for (_, ls) in m if "model" in dict(ls)}
    assert labelled == {"cls", "mean"}, labelled


# --------------------------------------------------------------------------
# --models-config
# --------------------------------------------------------------------------

def test_models_config_with_relative_paths_and_per_model_limits(serve, tmp_path, tiny_arrow):
    # The config's directory is not the server's working directory: relative
    # paths are resolved against the config file's directory.
    cfg_dir = tmp_path / "cfg"
    (cfg_dir / "models").mkdir(parents=True)
    shutil.copytree(CLS, cfg_dir / "models" / "cls-dir")
    shutil.copy(tiny_arrow[MEAN], cfg_dir / "mean.arrow")
    config = write_config(cfg_dir / "models.json", [
        {"name": "small", "path": "models/cls-dir", "max_batch_tokens": 64},
        {"name": "mean", "path": "mean.arrow", "precision": "f32", "default": True, "auto_truncate": True,
         "max_queue_inputs": 8192},
    ])
    s = serve("--models-config", config, "--cache-size", 0)
    assert s.model_ids() == ["small", "mean"]
    info = s.get("/info").json()
    assert info["model_id"] == "mean" and info["dimensions"] == 32  # "default": true wins over first
    by_name = {m["name"]: m for m in info["models"]}
    assert by_name["mean"]["default"] is True and by_name["small"]["default"] is False
    for name, rel in [("small", "models/cls-dir"), ("mean", "mean.arrow")]:
        p = by_name[name]["path"]
        assert p == rel or Path(p).resolve() == (cfg_dir / rel).resolve(), (name, p)
    assert by_name["mean"]["dtype"] == "f32" and by_name["small"]["dimensions"] == 64
    texts = REFS[CLS].texts
    assert_rows(s.openai("small", texts, truncate=True)[0], REFS[CLS], texts, "small (config)")
    assert_rows(s.openai("mean", texts, truncate=True)[0], REFS[MEAN], texts, "mean (config)")
    assert s.openai(None, ["a"])[1]["model"] == "mean"
    # auto_truncate is per model: mean truncates by default, small refuses.
    assert_rows(s.tei("mean", [LONG]), REFS[MEAN], [LONG], "auto_truncate")
    r = s.post("/embed", {"inputs": [LONG], "model": "small"})
    assert r.status == 422 and r.json()["error"].startswith("'inputs[0]' "), r.body[:300]
    # max_batch_tokens is per model: small's batches never exceed 64 tokens.
    many = [t for t in texts if t.strip()] * 6
    assert_rows(s.tei("small", many, truncate=True), REFS[CLS], many, "small, many inputs")
    m = s.metrics()
    batches = metric_sum(m, "embedding_batch_tokens_count", model="small")
    tokens = metric_sum(m, "embedding_batch_tokens_sum", model="small")
    assert batches >= tokens / 64 and batches >= 2, (batches, tokens)


def test_models_config_precision(serve, tmp_path):
    precision = "bf16" if cpu_has_bf16() else "f32"
    config = write_config(tmp_path / "m.json", [{"name": "a", "path": str(CLS), "precision": precision},
                                                {"name": "b", "path": str(MEAN)}])
    s = serve("--models-config", config)
    by_name = {m["name"]: m for m in s.get("/info").json()["models"]}
    assert by_name["a"]["precision"] == precision and by_name["b"]["precision"] == "f32"
    got, _ = s.openai("a", ["Hello world!", "a"])
    assert got.shape == (2, 64)


@pytest.mark.parametrize("case", ["missing-file", "not-json", "no-models", "models-not-a-list", "no-path",
                                  "missing-model", "duplicate-name", "bad-precision", "damaged-model"])
def test_bad_models_config_ends_the_process_with_a_clear_error(cli, tmp_path, case, tiny_arrow):
    config = tmp_path / "models.json"
    expect = [config.name]  # the error must mention one of these
    if case == "missing-file":
        config = tmp_path / "nope.json"
        expect = ["nope.json"]
    elif case == "not-json":
        config.write_text('{"models": [{"name": "a", "path": ')
        expect = [config.name, "JSON"]
    elif case == "no-models":
        config.write_text('{"models": []}')
        expect = [config.name, "models"]
    elif case == "models-not-a-list":
        config.write_text(json.dumps({"models": {"a": str(CLS)}}))
        expect = [config.name, "models"]
    elif case == "no-path":
        write_config(config, [{"name": "a"}])
        expect = ["path"]
    elif case == "missing-model":
        write_config(config, [{"name": "a", "path": str(CLS)}, {"name": "b", "path": "no-such-model.arrow"}])
        expect = ["no-such-model.arrow"]
    elif case == "duplicate-name":
        write_config(config, [{"name": "dupname", "path": str(CLS)}, {"name": "dupname", "path": str(MEAN)}])
        expect = ["dupname"]
    elif case == "bad-precision":
        write_config(config, [{"name": "a", "path": str(CLS), "precision": "fp8"}])
        expect = ["fp8"]
    elif case == "damaged-model":
        bad = tmp_path / "half.arrow"
        data = tiny_arrow[CLS].read_bytes()
        bad.write_bytes(data[:len(data) // 2])
        write_config(config, [{"name": "a", "path": str(bad)}])
        expect = ["half.arrow"]
    proc = serve_until_exit(cli, "--models-config", config)
    assert proc.returncode != 0, proc.stderr
    assert any(e in proc.stderr for e in expect), f"{case}: the error should name one of {expect}:\n{proc.stderr}"


def test_duplicate_model_names_on_the_command_line_are_refused(cli):
    proc = serve_until_exit(cli, "--model", f"dupname={CLS}", "--model", f"dupname={MEAN}")
    assert proc.returncode != 0 and "dupname" in proc.stderr, proc.stderr


# --------------------------------------------------------------------------
# admin routes: access
# --------------------------------------------------------------------------

def test_admin_routes_are_refused_without_admin_key(serve):
    s = serve("--model", f"cls={CLS}", "--model", f"mean={MEAN}")
    for headers in [{}, {"Authorization": "Bearer anything"}]:
        r = s.put_model("new", {"path": str(MEAN)}, headers)
        assert r.status == 403, r.body[:300]
        assert s.put_model("mean", {"path": str(CLS)}, headers).status == 403
        assert s.delete_model("mean", headers).status == 403
        assert s.delete_model("nope", headers).status == 403
    assert s.model_ids() == ["cls", "mean"]
    assert_rows(s.openai("mean", ["a"])[0], REFS[MEAN], ["a"], "mean after refused admin calls")


def test_admin_routes_need_the_admin_key(serve):
    api_key = "api-key_123"
    s = serve("--model", f"cls={CLS}", "--model", f"mean={MEAN}", "--admin-key", ADMIN_KEY, "--api-key", api_key)
    wrong = [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {ADMIN_KEY[:-1]}"},
             {"Authorization": f"Bearer {ADMIN_KEY}x"}, {"Authorization": ADMIN_KEY},
             {"Authorization": f"Basic {ADMIN_KEY}"}, {"Authorization": "Bearer "},
             {"Authorization": f"Bearer {api_key}"}]  # the API key does not open the admin routes
    for headers in wrong:
        assert s.put_model("new", {"path": str(MEAN)}, headers).status == 401, headers
        assert s.put_model("mean", {"path": str(CLS)}, headers).status == 401, headers
        assert s.delete_model("mean", headers).status == 401, headers
        assert s.delete_model("cls", headers).status == 401, headers
    api = {"Authorization": f"Bearer {api_key}"}
    r = s.request("GET", "/v1/models", None, api)
    assert [m["id"] for m in r.json()["data"]] == ["cls", "mean"]
    r = s.put_model("new", {"path": str(MEAN)})
    assert r.status == 200, r.body[:300]
    assert [m["id"] for m in s.request("GET", "/v1/models", None, api).json()["data"]] == ["cls", "mean", "new"]


# --------------------------------------------------------------------------
# admin routes: load, swap, unload
# --------------------------------------------------------------------------

@pytest.fixture
def admin_server(serve):
    return serve("--model", f"cls={CLS}", "--model", f"mean={MEAN}", "--admin-key", ADMIN_KEY)


def test_put_a_new_model_then_use_it(admin_server, tiny_arrow):
    s = admin_server
    r = s.put_model("extra", {"path": str(tiny_arrow[MEAN])})
    assert r.status == 200, r.body[:300]
    body = r.json()
    assert body["name"] == "extra" and body["path"] == str(tiny_arrow[MEAN]) and body["replaced"] is False, body
    assert isinstance(body["load_ms"], (int, float)) and body["load_ms"] > 0, body
    assert s.model_ids() == ["cls", "mean", "extra"]  # added after the others
    texts = REFS[MEAN].texts
    got, out = s.openai("extra", texts, truncate=True)
    assert out["model"] == "extra"
    assert_rows(got, REFS[MEAN], texts, "extra")
    assert_rows(s.tei("extra", texts[:3]), REFS[MEAN], texts[:3], "extra /embed")
    info = s.get("/info").json()
    extra = next(m for m in info["models"] if m["name"] == "extra")
    assert extra["default"] is False and extra["dimensions"] == 32 and extra["memory_bytes"] > 0
    assert info["model_id"] == "cls"  # the default stays
    assert metric_sum(s.metrics(), "embedding_model_memory_bytes", model="extra") > 0
    # The others are untouched.
    assert_rows(s.openai("cls", texts[:3])[0], REFS[CLS], texts[:3], "cls")
    # A new model with a precision.
    precision = "bf16" if cpu_has_bf16() else "f32"
    r = s.put_model("extra2", {"path": str(CLS), "precision": precision})
    assert r.status == 200, r.body[:300]
    assert next(m for m in s.get("/info").json()["models"] if m["name"] == "extra2")["precision"] == precision
    assert s.openai("extra2", ["a"])[0].shape == (1, 64)


def test_put_replaces_a_model_in_place(admin_server):
    s = admin_server
    texts = REFS[CLS].texts[:6]
    assert_rows(s.openai("mean", texts)[0], REFS[MEAN], texts, "mean before")  # cached now
    r = s.put_model("mean", {"path": str(CLS)})
    assert r.status == 200, r.body[:300]
    assert r.json()["replaced"] is True and r.json()["name"] == "mean"
    assert s.model_ids() == ["cls", "mean"]  # same place
    # Answers come from the new model at once, never from the old one's cache.
    got, body = s.openai("mean", texts)
    assert body["model"] == "mean"
    assert_rows(got, REFS[CLS], texts, "mean after the swap")
    assert_rows(s.tei("mean", texts), REFS[CLS], texts, "mean after the swap, /embed")
    entry = next(m for m in s.get("/info").json()["models"] if m["name"] == "mean")
    assert entry["path"] == str(CLS) and entry["dimensions"] == 64
    # And back.
    assert s.put_model("mean", {"path": str(MEAN)}).status == 200
    assert_rows(s.openai("mean", texts)[0], REFS[MEAN], texts, "mean swapped back")


def test_put_replaces_the_default_model(admin_server):
    s = admin_server
    r = s.put_model("cls", {"path": str(MEAN)})
    assert r.status == 200 and r.json()["replaced"] is True, r.body[:300]
    info = s.get("/info").json()
    assert info["model_id"] == "cls" and info["dimensions"] == 32 and info["model_path"] == str(MEAN)
    assert_rows(s.tei(None, ["Hello world!"]), REFS[MEAN], ["Hello world!"], "default after the swap")


def damaged_copies(src: Path, out: Path) -> dict[str, Path]:
    """Damaged copies of a converted .arrow file, each refused on open."""
    data = src.read_bytes()
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    files["truncated"] = out / "truncated.arrow"
    files["truncated"].write_bytes(data[:len(data) * 2 // 3])
    files["no-footer"] = out / "no-footer.arrow"
    files["no-footer"].write_bytes(data[:-16])
    # Bytes flipped inside the config JSON (in the schema at the start and in the footer).
    flipped = bytearray(data)
    key = b'"hidden_size"'
    at, i = [], data.find(key)
    while i >= 0:
        at.append(i)
        i = data.find(key, i + 1)
    assert at, "no config in the file?"
    for i in at:
        for j in range(i, i + len(key) + 4):
            flipped[j] ^= 0xFF
    files["flipped-config"] = out / "flipped-config.arrow"
    files["flipped-config"].write_bytes(bytes(flipped))
    # Bytes flipped in the Arrow magic and the first message's header.
    header = bytearray(data)
    for j in range(0, 96):
        header[j] ^= 0xA5
    files["flipped-header"] = out / "flipped-header.arrow"
    files["flipped-header"].write_bytes(bytes(header))
    files["empty"] = out / "empty.arrow"
    files["empty"].write_bytes(b"")
    files["not-a-model"] = out / "notes.txt"
    files["not-a-model"].write_text("not a model\n")
    files["empty-dir"] = out / "empty-dir"
    files["empty-dir"].mkdir(exist_ok=True)
    return files


@pytest.mark.parametrize("target", ["mean", "newname"])
def test_swap_to_a_damaged_or_missing_file_keeps_the_old_model(admin_server, tiny_arrow, tmp_path, target):
    s = admin_server
    damaged = damaged_copies(tiny_arrow[CLS], tmp_path / "damaged")
    damaged["missing"] = tmp_path / "no-such-model.arrow"
    texts = REFS[MEAN].texts[:5]
    problems = []  # every file is tried; all problems are reported together
    for what, path in damaged.items():
        r = s.put_model(target, {"path": str(path)})
        if r.status != 422:
            problems.append(f"{what}: expected 422, got {r.status}: {r.body[:300]!r}")
        else:
            try:
                message = error_message(r)
            except ValueError as e:  # e.g. raw bytes of the damaged file copied into the body
                message = None
                problems.append(f"{what}: the error body is not valid JSON ({e}): {r.body[:300]!r}")
            if message is not None and "'path'" not in message:
                problems.append(f"{what}: the error should name the field 'path': {message!r}")
        # The old model keeps serving, unchanged, in the same place.
        assert s.model_ids() == ["cls", "mean"], what
        assert_rows(s.openai("mean", texts)[0], REFS[MEAN], texts, f"mean after the refused {what}")
        entry = next(m for m in s.get("/info").json()["models"] if m["name"] == "mean")
        assert entry["path"] == str(MEAN) and entry["dimensions"] == 32, (what, entry)
    assert not problems, "\n".join(problems)
    # A good file still swaps in afterwards.
    assert s.put_model(target, {"path": str(tiny_arrow[CLS])}).status == 200
    assert_rows(s.openai(target, texts)[0], REFS[CLS], texts, f"{target} after a good swap")


def test_swap_to_a_file_with_damaged_tensor_data_is_refused(admin_server, tiny_arrow, tmp_path):
    # The structure is intact but a weight tensor's bytes are not: `info`
    # opens the file, only the checksums (`info --verify`, arrowembed.xxh3)
    # show the damage. The spec's "validated" load must refuse it rather
    # than serve wrong vectors.
    import pyarrow as pa
    s = admin_server
    src = tiny_arrow[CLS]
    data = bytearray(src.read_bytes())
    with pa.memory_map(str(src)) as f:
        table = pa.ipc.open_file(f).read_all()
    column = "embeddings.word_embeddings.weight"
    values = table.column(column).chunk(0).storage.flatten().to_numpy()
    raw = values.astype("<f4").tobytes()
    at = bytes(data).find(raw)
    assert at > 0 and bytes(data).find(raw, at + 1) < 0, f"{column} not found once in the file"
    mid = at + len(raw) // 2
    for j in range(mid, mid + 256):
        data[j] ^= 0x5A
    bad = tmp_path / "flipped-weights.arrow"
    bad.write_bytes(bytes(data))
    assert run_cli("info", bad, check=False).returncode == 0, "the structure should be intact"
    assert run_cli("info", "--verify", bad, check=False).returncode != 0, "the checksums should show the damage"
    r = s.put_model("mean", {"path": str(bad)})
    assert r.status == 422, f"expected 422, got {r.status}: {r.body[:300]!r}"
    assert "'path'" in error_message(r), error_message(r)
    assert_rows(s.openai("mean", ["a"])[0], REFS[MEAN], ["a"], "mean after the refused swap")


@pytest.mark.parametrize("body,field", [
    ({}, "path"), ({"path": 5}, "path"), ({"path": ""}, "path"), ({"path": None}, "path"),
    ({"path": str(MEAN), "precision": "fp8"}, "precision"), ({"path": str(MEAN), "precision": 16}, "precision"),
])
def test_put_body_errors_name_the_field(admin_server, body, field):
    r = admin_server.put_model("mean", body)
    assert r.status == 422, r.body[:300]
    assert f"'{field}'" in error_message(r), error_message(r)
    assert admin_server.model_ids() == ["cls", "mean"]


def test_put_body_that_is_not_json_is_400(admin_server):
    r = admin_server.request("PUT", "/admin/models/mean", b"not json", {**ADMIN, "Content-Type": "application/json"})
    assert r.status == 400, r.body[:300]


def test_delete_unloads_a_model(admin_server):
    s = admin_server
    # The default model cannot go while others are served: 409.
    r = s.delete_model("cls")
    assert r.status == 409, r.body[:300]
    assert s.model_ids() == ["cls", "mean"]
    r = s.delete_model("mean")
    assert r.status == 200, r.body[:300]
    assert s.model_ids() == ["cls"]
    openai_model_not_found(s.post("/v1/embeddings", {"input": "a", "model": "mean"}), ["cls"])
    tei_not_found(s.post("/embed", {"inputs": "a", "model": "mean"}))
    tei_not_found(s.post("/tokenize", {"inputs": "a", "model": "mean"}))
    assert [m["name"] for m in s.get("/info").json()["models"]] == ["cls"]
    assert metric_sum(s.metrics(), "embedding_model_memory_bytes", model="mean") == 0  # gone (or zero)
    # Again, and an unknown name: 404.
    assert s.delete_model("mean").status == 404
    assert s.delete_model("never-loaded").status == 404
    # Nor can the default go when it is the only model (the spec: "the
    # default model cannot be unloaded -> 409").
    r = s.delete_model("cls")
    assert r.status == 409, r.body[:300]
    assert s.model_ids() == ["cls"]
    assert_rows(s.openai("cls", ["a", "Hello world!"])[0], REFS[CLS], ["a", "Hello world!"], "cls after deletes")
    # The name can be loaded again.
    assert s.put_model("mean", {"path": str(MEAN)}).json()["replaced"] is False
    assert_rows(s.openai("mean", ["a"])[0], REFS[MEAN], ["a"], "mean reloaded")
    assert s.model_ids() == ["cls", "mean"]


def test_request_in_flight_finishes_on_the_model_it_started_with(serve, converted):
    # A slow request on the real model (small batches, no cache), then a swap
    # of its name to a tiny model: the slow request's vectors all stay
    # 384-wide; requests after the swap get the tiny model.
    s = serve("--model", f"base={CLS}", "--model", f"swap={converted['f32.arrow']}", "--admin-key", ADMIN_KEY,
              "--max-batch-tokens", 256, "--cache-size", 0)
    texts = [f"sentence number {i} of a request long enough to be in flight during a swap" for i in range(256)]
    result = {}

    def slow():
        result["r"] = s.post("/v1/embeddings", {"input": texts, "model": "swap"}, timeout=300)
    t = threading.Thread(target=slow)
    t.start()
    try:
        wait_until(lambda: metric_sum(s.metrics(), "embedding_batch_size_count", model="swap") >= 1, timeout=60,
                   what="the first batch of the slow request")
        assert t.is_alive(), "the slow request finished before the swap; make it slower"
        r = s.put_model("swap", {"path": str(CLS)})
        assert r.status == 200, r.body[:300]
        assert_rows(s.openai("swap", ["a"])[0], REFS[CLS], ["a"], "swap after the PUT")
    finally:
        t.join(timeout=300)
    assert not t.is_alive()
    r = result["r"]
    assert r.status == 200, r.body[:300]
    got = np.array([d["embedding"] for d in r.json()["data"]], dtype=np.float32)
    assert got.shape == (256, 384)
    # Exactly the real model's vectors: load it again and compare.
    assert s.put_model("swap", {"path": str(converted["f32.arrow"])}).status == 200
    want, _ = s.openai("swap", texts)
    assert np.abs(got - want).max() <= MAX_DIFF


# --------------------------------------------------------------------------
# SIGHUP
# --------------------------------------------------------------------------

def test_sighup_reloads_the_models_config(serve, tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    shutil.copytree(CLS, cfg / "cls")
    shutil.copytree(MEAN, cfg / "mean")
    config = write_config(cfg / "models.json", [{"name": "a", "path": "cls"}, {"name": "b", "path": "mean"}])
    s = serve("--models-config", config)
    assert s.model_ids() == ["a", "b"]
    texts = REFS[CLS].texts[:5]
    assert_rows(s.openai("a", texts)[0], REFS[CLS], texts, "a before")

    def hup_and_wait(ids: list[str], a_dimensions: int):
        # (The order of models loaded by one reload is not pinned.)
        s.proc.send_signal(signal.SIGHUP)

        def applied():
            models = {m["name"]: m for m in s.get("/info").json()["models"]}
            return sorted(models) == sorted(ids) and models["a"]["dimensions"] == a_dimensions
        wait_until(applied, timeout=30, interval=0.05, what=f"the models to become {ids}")
        assert sorted(s.model_ids()) == sorted(ids)

    def hup_expect_refusal():
        """SIGHUP with a config that must be refused: wait for the logged error."""
        seen = len(s.log_entries())
        s.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: [e for e in s.log_entries()[seen:] if e.get("level") in ("warn", "warning", "error")],
                   timeout=30, interval=0.05, what="a logged error about the refused config")
        assert s.proc.poll() is None, s.log_text()

    # a: path changed (reloaded), b: removed, c: added.
    write_config(config, [{"name": "a", "path": "mean"}, {"name": "c", "path": "cls"}])
    hup_and_wait(["a", "c"], REFS[MEAN].dim)
    assert_rows(s.openai("a", texts)[0], REFS[MEAN], texts, "a reloaded with mean")
    assert_rows(s.openai("c", texts)[0], REFS[CLS], texts, "c added")
    order = s.model_ids()
    openai_model_not_found(s.post("/v1/embeddings", {"input": "a", "model": "b"}), order)
    assert [m["name"] for m in s.get("/info").json()["models"]] == order
    # A file that is not JSON: everything stays as it was, and the error is logged.
    config.write_text('{"models": [')
    hup_expect_refusal()
    assert sorted(s.model_ids()) == ["a", "c"]
    assert_rows(s.openai("a", texts)[0], REFS[MEAN], texts, "a after a bad config")
    # A config naming a model file that does not exist: nothing changes either.
    write_config(config, [{"name": "a", "path": "mean"}, {"name": "c", "path": "cls"},
                          {"name": "d", "path": "no-such-model.arrow"}])
    hup_expect_refusal()
    assert sorted(s.model_ids()) == ["a", "c"]
    openai_model_not_found(s.post("/v1/embeddings", {"input": "a", "model": "d"}), order)
    assert_rows(s.openai("c", texts)[0], REFS[CLS], texts, "c after a config with a missing model")
    # A good file again is applied: reloads still work after refusals.
    write_config(config, [{"name": "a", "path": "cls"}])
    hup_and_wait(["a"], REFS[CLS].dim)
    assert_rows(s.openai("a", texts)[0], REFS[CLS], texts, "a reloaded with cls")
    assert s.proc.poll() is None


def test_sighup_without_models_config_does_not_stop_the_server(serve):
    # Not in the spec's words, but SIGHUP's default action ends a process; a
    # server started without --models-config must not die of a stray HUP
    # (log rotation, a closed terminal).
    s = serve("--model", f"cls={CLS}", "--model", f"mean={MEAN}")
    s.proc.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert s.proc.poll() is None, f"the server exited ({s.proc.returncode}) on SIGHUP:\n{s.log_text()}"
    assert s.model_ids() == ["cls", "mean"]
    assert_rows(s.openai("mean", ["a"])[0], REFS[MEAN], ["a"], "after SIGHUP")
