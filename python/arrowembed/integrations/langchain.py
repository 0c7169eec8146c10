"""LangChain: arrowembed models as `Embeddings`, and an `arrowembed.Tool`'s
actions (embed, similarity, search) as LangChain tools for an agent.

    from arrowembed.integrations.langchain import ArrowembedEmbeddings, tools

    embeddings = ArrowembedEmbeddings("minilm-f32.arrow")
    vectors = embeddings.embed_documents(["a sentence", "another"])   # list[list[float]]
    store = InMemoryVectorStore(embedding=embeddings)                 # any LangChain vector store

    agent_tools = tools(arrowembed.Tool(models={"minilm": "minilm-f32.arrow"},
                                        collections={"docs": "collections/docs"}))
    llm.bind_tools(agent_tools)

Needs `langchain-core` (`pip install 'arrowembed[langchain]'`). The vectors
are the engine's, exactly as `Model.encode` gives them. See docs/python.md.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Optional, Sequence, Union

from langchain_core.embeddings import Embeddings
from langchain_core.tools import BaseTool, StructuredTool, ToolException

from .. import Error, Model, Tool

__all__ = ["ArrowembedEmbeddings", "tools"]


class ArrowembedEmbeddings(Embeddings):
    """LangChain's `Embeddings` interface on an arrowembed model.

    model: a model path (.arrow, .parquet, Hugging Face directory) or an
    `arrowembed.Model` already loaded (then threads and precision are its
    own). batch_size, normalize, dimensions: passed to `Model.encode` (None:
    the model's setting / every dimension). Documents and queries are
    embedded the same way (MiniLM-style models use no prefixes). The async
    methods are LangChain's: the sync ones on its executor, where the engine
    runs without the GIL.
    """

    def __init__(self, model: Union[Model, str, "os.PathLike[str]"], *, threads: int = 0, precision: str = "f32",
                 batch_size: int = 32, normalize: Optional[bool] = None, dimensions: Optional[int] = None):
        if isinstance(model, Model):
            if threads != 0 or precision != "f32":
                raise ValueError("threads and precision belong to the Model: set them when loading it, "
                                 "or pass its path instead")
            self.model = model
        else:
            self.model = Model(model, threads=threads, precision=precision)
        self.batch_size = batch_size
        self.normalize = normalize
        self.dimensions = dimensions

    @property
    def dimension(self) -> int:
        """Floats per vector (`dimensions` when set)."""
        return self.dimensions or self.model.dimension

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        texts = list(texts)
        if not texts:
            return []
        return self.model.encode(texts, batch_size=self.batch_size, normalize=self.normalize,
                                 dimensions=self.dimensions).tolist()

    def embed_query(self, text: str) -> list[float]:
        if not isinstance(text, str):
            raise TypeError(f"embed_query takes one str, not {type(text).__name__} (embed_documents takes a list)")
        return self.model.encode(text, normalize=self.normalize, dimensions=self.dimensions).tolist()

    def __repr__(self) -> str:
        return f"ArrowembedEmbeddings({self.model!r})"


def tools(tool: Tool, *, handle_errors: bool = True) -> list[BaseTool]:
    """Each action of `tool` (embed, similarity, and search when it has
    collections) as a LangChain `StructuredTool`: the action's name and
    description, its JSON Schema as the arguments schema (what
    `bind_tools` sends to the LLM), and `tool.call` as what runs. Results are
    the action's JSON object as a dict (a ToolMessage's content is that JSON).

    Arguments are checked against the schema by arrowembed (LangChain does not
    validate a JSON Schema). handle_errors=True answers a refused call (bad
    argument, unknown model, text too long) with the error's message, so the
    LLM reads it and tries again, as over MCP; False raises ToolException.
    """
    if not isinstance(tool, Tool):
        raise TypeError(f"tools() takes an arrowembed.Tool, not {type(tool).__name__}")
    out: list[BaseTool] = []
    for entry in tool.schema():
        function = entry["function"]
        out.append(StructuredTool.from_function(
            func=_runner(tool, function["name"]),
            name=function["name"],
            description=function.get("description", ""),
            args_schema=function["parameters"],
            infer_schema=False,
            handle_tool_error=handle_errors,
        ))
    return out


def _runner(tool: Tool, action: str) -> Callable[..., Any]:
    def run(**arguments: Any) -> dict:
        try:
            return tool.call(action, arguments)
        except Error as e:  # refused by the schema or the service: the message names the field
            raise ToolException(str(e)) from e

    run.__name__ = action
    run.__doc__ = f"arrowembed tool action {action!r}"
    return run
