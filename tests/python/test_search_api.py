"""Search over collections from the front ends: POST /search and GET
/collections on the real server, and the `search` tool over MCP (the
official SDK over stdio). Collections are made with `arrowembed index
build` from 200 varied texts; every ranking is checked against a NumPy
brute force over the engine's own vectors (`arrowembed embed`, itself
checked against transformers elsewhere)."""
from __future__ import annotations

import asyncio
import json
import subprocess

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mcp import Client, StdioServerParameters

from conftest import REPO, run_cli
from test_multi_model import CLS, MEAN, REFS, serve  # noqa: F401  (serve is a fixture)

# Varied texts that tokenize differently (blank texts all give [CLS] [SEP],
# and ties would make rankings ambiguous).
_sample = [json.loads(line).get("text", "") for line in open(REPO / "tests" / "fixtures" / "tokenizer_parity_sample.jsonl")]
# At most 40 characters: within the tiny model's 48 tokens without truncation.
CANDIDATES = list(dict.fromkeys(t for t in _sample if 5 < len(t.strip()) and len(t) <= 40))[:400]
TEXTS: list[str] = []  # the candidates with distinct vectors (the tiny vocabulary maps many to [UNK])


def engine_vectors(texts: list[str], scratch) -> dict[str, np.ndarray]:
    """tiny-bert-cls's vectors as the engine makes them (it does not
    normalise: the collection holds raw vectors, scores are inner products)."""
    path = scratch / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    out = run_cli("embed", "-m", CLS, "--input", path).stdout.splitlines()
    assert len(out) == len(texts)
    return {t: np.array(json.loads(line)["embedding"], dtype=np.float64) for t, line in zip(texts, out)}


def docs_table(texts: list[str]) -> pa.Table:
    return pa.table({"id": [f"doc-{i}" for i in range(len(texts))], "text": texts,
                     "lang": ["en" if i % 2 == 0 else "xx" for i in range(len(texts))]})


VECTORS: dict[str, np.ndarray] = {}


@pytest.fixture(scope="module", autouse=True)
def vectors(tmp_path_factory):
    seen = set()
    for text, v in engine_vectors(CANDIDATES, tmp_path_factory.mktemp("vectors")).items():
        key = np.round(v, 4).tobytes()
        if key not in seen and len(TEXTS) < 200:
            seen.add(key)
            TEXTS.append(text)
            VECTORS[text] = v
    assert len(TEXTS) >= 50, len(TEXTS)


@pytest.fixture(scope="module")
def collection(vectors, tmp_path_factory):
    """A collection of TEXTS made with tiny-bert-cls, with a `lang` metadata column."""
    d = tmp_path_factory.mktemp("collection")
    pq.write_table(docs_table(TEXTS), d / "docs.parquet")
    run_cli("index", "build", "-m", CLS, "--input", d / "docs.parquet", "--column", "text", "--id-column", "id",
            "-o", d / "docs")
    return d / "docs"


def brute_force(query: str, k: int, keep=lambda i: True) -> list[tuple[str, float]]:
    q = VECTORS[query]
    scores = [(f"doc-{i}", float(VECTORS[t] @ q)) for i, t in enumerate(TEXTS) if keep(i)]
    return sorted(scores, key=lambda s: -s[1])[:k]


def assert_ranking(hits: list[dict], want: list[tuple[str, float]]):
    assert [h["id"] for h in hits] == [w[0] for w in want], (hits, want)
    assert np.allclose([h["score"] for h in hits], [w[1] for w in want], rtol=1e-5, atol=1e-4)


def test_search_route_matches_brute_force(serve, collection):
    s = serve("--model", f"cls={CLS}", "-c", f"docs={collection}")
    query = TEXTS[3]
    out = s.post_ok("/search", {"collection": "docs", "query": query, "k": 5})
    assert out["collection"] == "docs" and out["model"] == "cls"
    hits = out["results"][0]["hits"]
    assert_ranking(hits, brute_force(query, 5))
    assert hits[0]["text"] == query and hits[0]["metadata"]["lang"] == "xx"
    tokens = s.post_ok("/tokenize", {"inputs": query})[0]
    assert out["usage"]["prompt_tokens"] == len(tokens)
    # Several queries, a filter, exact mode.
    queries = TEXTS[:3]
    out = s.post_ok("/search", {"collection": "docs", "queries": queries, "k": 4, "filter": {"lang": "en"}, "mode": "exact"})
    for q, result in zip(queries, out["results"]):
        assert result["query"] == q
        assert_ranking(result["hits"], brute_force(q, 4, keep=lambda i: i % 2 == 0))
        assert all(h["metadata"]["lang"] == "en" for h in result["hits"])
    # k beyond the size: every document once.
    out = s.post_ok("/search", {"collection": "docs", "query": "anything", "k": 1000})
    assert len(out["results"][0]["hits"]) == len(TEXTS)


def test_collections_route(serve, collection):
    s = serve("--model", f"cls={CLS}", "-c", f"docs={collection}")
    (c,) = s.get("/collections").json()["collections"]
    assert c["name"] == "docs" and c["model"] == "cls" and c["size"] == len(TEXTS)
    assert c["dimension"] == REFS[CLS].dim and "lang" in c["metadata_columns"]


@pytest.mark.parametrize("body,status,field", [
    ({"collection": "nope", "query": "a"}, 404, "collection"),
    ({"query": "a"}, 422, "collection"),
    ({"collection": "docs"}, 422, "query"),
    ({"collection": "docs", "query": "a", "queries": ["b"]}, 422, "query"),
    ({"collection": "docs", "query": "a", "k": 0}, 422, "k"),
    ({"collection": "docs", "query": "a", "k": 100000}, 422, "k"),
    ({"collection": "docs", "query": "a", "mode": "fast"}, 422, "mode"),
    ({"collection": "docs", "query": "a", "filter": ["lang"]}, 422, "filter"),
    ({"collection": "docs", "query": "a", "filter": {"lang": 3}}, 422, "filter.lang"),
    ({"collection": "docs", "queries": []}, 422, "queries"),
    ({"collection": "docs", "query": "unbelievable " * 100}, 422, "query"),
])
def test_search_errors_name_the_field(serve, collection, body, status, field):
    s = serve("--model", f"cls={CLS}", "-c", f"docs={collection}")
    r = s.post("/search", body)
    assert r.status == status, r.body[:300]
    assert f"'{field}'" in r.json()["error"] or field in r.json()["error"], r.json()


def test_a_collection_needs_the_model_that_made_it(cli, collection, tmp_path):
    proc = subprocess.run([str(cli), "serve", "--port", "0", "--model", f"mean={MEAN}", "-c", f"docs={collection}"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "was made by model" in proc.stderr and "docs" in proc.stderr
    proc = subprocess.run([str(cli), "serve", "--port", "0", "--model", f"cls={CLS}", "-c", f"docs={tmp_path / 'none'}"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "cannot be opened as collection 'docs'" in proc.stderr


def test_search_tool_over_mcp(cli, collection):
    params = StdioServerParameters(command=str(cli), args=["mcp", "--model", f"cls={CLS}", "-c", f"docs={collection}"])

    async def main():
        async with Client(params) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            found = await client.call_tool("search", {"collection": "docs", "query": TEXTS[5], "k": 3})
            filtered = await client.call_tool("search", {"collection": "docs", "queries": TEXTS[:2], "k": 2,
                                                         "filter": {"lang": "en"}})
            unknown = await client.call_tool("search", {"collection": "other", "query": "a"})
            both = await client.call_tool("search", {"collection": "docs", "query": "a", "queries": ["b"]})
            return tools, found, filtered, unknown, both
    tools, found, filtered, unknown, both = asyncio.run(asyncio.wait_for(main(), 60))
    assert set(tools) == {"embed", "similarity", "search"}
    assert tools["search"].input_schema["properties"]["collection"]["enum"] == ["docs"]
    assert not found.is_error
    hits = found.structured_content["results"][0]["hits"]
    assert_ranking(hits, brute_force(TEXTS[5], 3))
    assert hits[0]["metadata"]["lang"] in ("en", "xx")  # as /search gives it
    for q, result in zip(TEXTS[:2], filtered.structured_content["results"]):
        assert_ranking(result["hits"], brute_force(q, 2, keep=lambda i: i % 2 == 0))
    assert unknown.is_error and unknown.structured_content["field"] == "collection"
    assert both.is_error
