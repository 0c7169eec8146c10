"""Integrations with other libraries, each an optional dependency imported
only by its own module:

- `arrowembed.integrations.langchain`: `ArrowembedEmbeddings` (LangChain's
  `Embeddings` interface) and `tools()` (an `arrowembed.Tool`'s actions as
  LangChain tools); needs `langchain-core`.

Ray Data has its own module, `arrowembed.ray`.
"""
