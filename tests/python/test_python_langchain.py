"""arrowembed.integrations.langchain through langchain-core itself:
ArrowembedEmbeddings gives the engine's vectors bit for bit (Model.encode and
the CLI's), in a LangChain vector store too; tools() turns an arrowembed.Tool
into LangChain tools whose schemas are the tool's own and whose calls,
through LangChain's invoke, are the tool's answers."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool, ToolException
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.vectorstores import InMemoryVectorStore

import arrowembed
from arrowembed.integrations.langchain import ArrowembedEmbeddings, tools

from conftest import REPO, run_cli

REFERENCE = REPO / "tests" / "fixtures" / "minilm-reference.parquet"


def texts() -> list[str]:
    return pq.read_table(REFERENCE).column("text").to_pylist()


def cli_vectors(model: Path, lines: list[str], tmp: Path) -> np.ndarray:
    """`arrowembed embed`'s vectors for these texts, in one run (JSON floats parse back exactly)."""
    path = tmp / "texts.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in lines))
    out = run_cli("embed", "-m", model, "--input", path).stdout
    return np.array([json.loads(line)["embedding"] for line in out.splitlines()], dtype=np.float32)


@pytest.fixture(scope="module")
def collection(model_path, tmp_path_factory) -> Path:
    """The reference texts as a collection, ids r0..r302, made by the CLI."""
    tmp = tmp_path_factory.mktemp("collection")
    docs = tmp / "docs.parquet"
    all_texts = texts()
    pq.write_table(pa.table({"id": [f"r{i}" for i in range(len(all_texts))], "text": all_texts}), docs)
    run_cli("index", "build", "-m", model_path, "--input", docs, "--id-column", "id", "-o", tmp / "docs")
    return tmp / "docs"


@pytest.fixture(scope="module")
def tool(model_path, collection) -> arrowembed.Tool:
    return arrowembed.Tool(models={"minilm": model_path}, collections={"docs": collection})


# ---------------------------------------------------------------------------
# Embeddings

def test_documents_and_queries_are_the_engines_vectors(model_path, model, tmp_path):
    embeddings = ArrowembedEmbeddings(model_path)
    assert isinstance(embeddings, Embeddings)
    assert embeddings.dimension == 384
    sample = texts()
    docs = embeddings.embed_documents(sample)
    assert isinstance(docs, list) and len(docs) == len(sample)
    assert all(isinstance(v, list) and len(v) == 384 and isinstance(v[0], float) for v in docs)
    got = np.array(docs, dtype=np.float32)  # Python floats hold float32 values exactly
    assert np.array_equal(got, model.encode(sample))
    assert np.array_equal(got, cli_vectors(model_path, sample, tmp_path))
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    # One query: the engine's one-text path, as `Model.encode(text)` and the CLI on that text alone.
    for text in (sample[0], sample[100], "how do I rotate keys?"):
        query = embeddings.embed_query(text)
        assert isinstance(query, list) and len(query) == 384
        assert np.array_equal(np.array(query, dtype=np.float32), model.encode(text))
        assert np.array_equal(np.array(query, dtype=np.float32), cli_vectors(model_path, [text], tmp_path)[0])
    assert embeddings.embed_documents([]) == []


def test_options_and_an_existing_model(model):
    sample = texts()[:50]
    shared = ArrowembedEmbeddings(model)  # the same loaded model, not a second copy
    assert shared.model is model
    assert np.array_equal(np.array(shared.embed_documents(sample), dtype=np.float32), model.encode(sample))
    raw = ArrowembedEmbeddings(model, normalize=False)
    assert np.array_equal(np.array(raw.embed_documents(sample), dtype=np.float32),
                          model.encode(sample, normalize=False))
    short = ArrowembedEmbeddings(model, dimensions=128, batch_size=7)
    assert short.dimension == 128
    # (the same batches: a call of at most 64 tokens takes the engine's
    # one-text kernel, whose sums round differently in the last bit)
    assert np.array_equal(np.array(short.embed_documents(sample), dtype=np.float32),
                          model.encode(sample, dimensions=128, batch_size=7))
    assert np.array_equal(np.array(short.embed_query(sample[3]), dtype=np.float32),
                          model.encode(sample[3], dimensions=128))


def test_async_methods(model):
    embeddings = ArrowembedEmbeddings(model)
    sample = texts()[:40]

    async def both():
        return await asyncio.gather(embeddings.aembed_documents(sample), embeddings.aembed_query(sample[5]))

    docs, query = asyncio.run(both())
    assert docs == embeddings.embed_documents(sample)
    assert query == embeddings.embed_query(sample[5])


def test_in_a_langchain_vector_store(model):
    store = InMemoryVectorStore(embedding=ArrowembedEmbeddings(model))
    sample = texts()
    store.add_texts(sample)
    for i in (7, 42, 120):
        hit = store.similarity_search(sample[i], k=1)[0]
        assert hit.page_content == sample[i]  # a text's nearest document is itself


def test_embeddings_errors(model, model_path, tmp_path):
    with pytest.raises(FileNotFoundError):
        ArrowembedEmbeddings(tmp_path / "missing.arrow")
    with pytest.raises(ValueError, match="threads and precision belong to the Model"):
        ArrowembedEmbeddings(model, threads=2)
    embeddings = ArrowembedEmbeddings(model)
    with pytest.raises(TypeError, match="embed_query takes one str"):
        embeddings.embed_query(["a list"])
    with pytest.raises(TypeError):
        embeddings.embed_documents(["fine", 3])


# ---------------------------------------------------------------------------
# Tools

def test_tools_carry_the_tools_names_descriptions_and_schemas(tool, model_path):
    schema = tool.schema()
    lc_tools = tools(tool)
    assert [t.name for t in lc_tools] == [s["function"]["name"] for s in schema] == ["embed", "similarity", "search"]
    for lc_tool, entry in zip(lc_tools, schema):
        assert isinstance(lc_tool, BaseTool)
        assert lc_tool.description == entry["function"]["description"]
        assert lc_tool.args_schema == entry["function"]["parameters"]
        # What LangChain sends an LLM (bind_tools) is exactly the tool's own OpenAI form.
        assert convert_to_openai_tool(lc_tool) == entry
    search = lc_tools[2].args_schema
    assert search["properties"]["collection"]["enum"] == ["docs"]
    # Without collections there is no search.
    assert [t.name for t in tools(arrowembed.Tool(models={"minilm": model_path}))] == ["embed", "similarity"]
    with pytest.raises(TypeError, match="takes an arrowembed.Tool"):
        tools(model_path)


def test_invoking_similarity_search_and_embed(tool, model):
    by_name = {t.name: t for t in tools(tool)}
    sample = texts()

    args = {"text": "A cat sits on the mat.", "candidates": ["A kitten rests on a rug.", "Stock prices fell sharply."]}
    answer = by_name["similarity"].invoke(args)
    assert answer == tool.call("similarity", args)
    assert [s["text"] for s in answer["scores"]] == args["candidates"]
    want = model.similarity([args["text"]], args["candidates"])[0]
    assert np.allclose([s["score"] for s in answer["scores"]], want, atol=1e-6)
    assert answer["scores"][0]["score"] > 0.5 > answer["scores"][1]["score"]

    # A search for a document's own text finds it first.
    answer = by_name["search"].invoke({"collection": "docs", "query": sample[42], "k": 3})
    assert answer["collection"] == "docs"
    hits = answer["results"][0]["hits"]
    assert len(hits) == 3 and hits[0]["id"] == "r42" and hits[0]["text"] == sample[42]
    assert hits[0]["score"] == pytest.approx(1.0, abs=1e-5)

    # As an LLM's tool call: a ToolMessage whose content is the answer's JSON.
    call = {"type": "tool_call", "id": "call_7", "name": "search",
            "args": {"collection": "docs", "queries": [sample[3], sample[9]], "k": 1}}
    message = by_name["search"].invoke(call)
    assert isinstance(message, ToolMessage) and message.tool_call_id == "call_7" and message.status == "success"
    content = json.loads(message.content)
    assert [r["hits"][0]["id"] for r in content["results"]] == ["r3", "r9"]

    answer = by_name["embed"].invoke({"texts": sample[:2]})
    assert np.array_equal(np.array(answer["embeddings"], dtype=np.float32), model.encode(sample[:2]))
    answer = by_name["embed"].invoke({"texts": sample[:2], "dimensions": 64})
    assert answer["dimensions"] == 64
    # The service renormalises the first 64 its own way: equal to ~1 ulp.
    assert np.allclose(np.array(answer["embeddings"], dtype=np.float32), model.encode(sample[:2], dimensions=64),
                       rtol=0, atol=1e-7)


def test_refused_calls(tool):
    by_name = {t.name: t for t in tools(tool)}
    # Handled (the default): the LLM reads the message naming the argument.
    assert by_name["embed"].invoke({"texts": "not a list"}) == \
        "'texts': Value type not permitted by 'type' constraint."
    assert "'candidates' is required" in by_name["similarity"].invoke({"text": "a"})
    message = by_name["search"].invoke({"type": "tool_call", "id": "c1", "name": "search",
                                        "args": {"collection": "nope", "query": "x"}})
    assert message.status == "error" and "'collection'" in message.content
    # Raised when asked.
    strict = {t.name: t for t in tools(tool, handle_errors=False)}
    with pytest.raises(ToolException, match="'colour' is not an argument of 'embed'"):
        strict["embed"].invoke({"texts": ["a"], "colour": "red"})
    with pytest.raises(ToolException, match="model"):
        strict["embed"].invoke({"texts": ["a"], "model": "no-such-model"})
