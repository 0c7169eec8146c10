"""arrowembed: sentence embeddings on the CPU from an Arrow model file.

    import arrowembed
    model = arrowembed.Model("all-MiniLM-L6-v2-f32.arrow")
    vectors = model.encode(["a sentence", "another"])        # NumPy float32 (2, 384)
    column = model.encode_arrow(table["text"])                # pyarrow FixedSizeListArray

Both results are the engine's own output buffer, not a copy, and Arrow texts
are read in place from their buffers. The engine releases the GIL, so Python
threads embed concurrently. See docs/python.md.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import pyarrow as pa  # first: loads the libarrow the extension is linked against

from . import _arrowembed
from ._arrowembed import Error

__all__ = ["Model", "Tool", "Error", "c_library_path", "c_include_dir", "__version__"]
__version__ = _arrowembed.__version__

PathLike = Union[str, "os.PathLike[str]"]


class Model:
    """A model file (.arrow, memory-mapped; .parquet) or a Hugging Face
    sentence-transformers directory, loaded for embedding.

    threads: engine threads (0: one per core). precision: "f32" (matches
    sentence-transformers) or "bf16" (about twice as fast on CPUs with
    AVX512-BF16). Raises FileNotFoundError for a missing path and
    arrowembed.Error for a file it cannot use.
    """

    def __init__(self, path: PathLike, threads: int = 0, precision: str = "f32"):
        _check_count("threads", threads, minimum=0)
        self._native = _arrowembed.Model(os.fspath(path), threads, precision)
        self.precision = precision

    # The model's configuration.
    @property
    def path(self) -> Path:
        return Path(self._native.path)

    @property
    def dimension(self) -> int:
        """Floats per embedding."""
        return self._native.dimension

    def get_sentence_embedding_dimension(self) -> int:
        """sentence-transformers' name for `dimension`."""
        return self._native.dimension

    @property
    def max_seq_length(self) -> int:
        """Tokens per text, [CLS] and [SEP] included; longer texts are cut."""
        return self._native.max_seq_length

    @property
    def normalize(self) -> bool:
        """Whether the model L2-normalises its embeddings."""
        return self._native.normalize

    @property
    def pooling(self) -> str:
        return self._native.pooling

    @property
    def config(self) -> dict:
        """The architecture and sentence-embedding settings from the file."""
        return json.loads(self._native.config_json)

    @property
    def fingerprint(self) -> str:
        """Digest of everything the vectors depend on (weights, tokenizer, pooling)."""
        return self._native.fingerprint

    @property
    def threads(self) -> int:
        return self._native.threads

    @property
    def memory_bytes(self) -> int:
        """Memory the model holds: mapped file, packed weights, workspace."""
        return self._native.memory_bytes

    def __repr__(self) -> str:
        return f"arrowembed.Model({str(self.path)!r}, dimension={self.dimension}, precision={self.precision!r})"

    # Embedding.
    def encode(self, sentences: Union[str, Sequence[str]], batch_size: int = 32, normalize: Optional[bool] = None,
               dimensions: Optional[int] = None, show_progress_bar: bool = False, *,
               normalize_embeddings: Optional[bool] = None, truncate_dim: Optional[int] = None) -> np.ndarray:
        """Embeds texts: a float32 array (len(sentences), dimension), or
        (dimension,) for a single str, whose memory is the engine's output.

        normalize: L2-normalise (None: the model's setting). dimensions: keep
        the first N (Matryoshka), normalised as the whole would be.
        batch_size: texts per engine call (the engine packs each call into
        forward passes without padding, so it affects progress reporting and
        Ctrl-C granularity more than speed). normalize_embeddings and
        truncate_dim are sentence-transformers' names for the same options.
        """
        normalize = _alias("normalize", normalize, "normalize_embeddings", normalize_embeddings)
        dimensions = _alias("dimensions", dimensions, "truncate_dim", truncate_dim)
        _check_count("batch_size", batch_size, minimum=1)
        if dimensions is not None:
            _check_count("dimensions", dimensions, minimum=1)
        if show_progress_bar and not isinstance(sentences, str):
            with _ProgressBar(len(sentences)) as bar:
                return self._native.encode(sentences, batch_size, normalize, dimensions, bar.update_to)
        return self._native.encode(sentences, batch_size, normalize, dimensions, None)

    def encode_arrow(self, texts: Any, normalize: Optional[bool] = None,
                     dimensions: Optional[int] = None) -> pa.FixedSizeListArray:
        """Embeds an Arrow string, large_string or string_view Array or
        ChunkedArray (or any object exporting one through the Arrow PyCapsule
        interface, such as a polars Series), reading the UTF-8 in place.
        Returns a FixedSizeListArray<float32>[dimension] of the same length
        over the engine's output buffer. Nulls are an error."""
        if dimensions is not None:
            _check_count("dimensions", dimensions, minimum=1)
        chunks = [chunk.__arrow_c_array__() for chunk in _arrow_chunks(texts)]
        schema, array = self._native.encode_arrow(chunks, normalize, dimensions, 0)
        return pa.Array._import_from_c_capsule(schema, array)

    def tokenize(self, texts: Union[str, Sequence[str]]) -> dict:
        """Token ids as the engine sees them (cut at max_seq_length), padded
        to the longest: int64 arrays input_ids, token_type_ids and
        attention_mask of shape (len(texts), longest), as
        sentence-transformers' tokenize gives them."""
        if isinstance(texts, str):
            texts = [texts]
        ids, type_ids = self._native.tokenize(texts)
        longest = max((len(t) for t in ids), default=0)
        out = {name: np.zeros((len(ids), longest), dtype=np.int64)
               for name in ("input_ids", "token_type_ids", "attention_mask")}
        for row, (i, t) in enumerate(zip(ids, type_ids)):
            out["input_ids"][row, :len(i)] = i
            out["token_type_ids"][row, :len(t)] = t
            out["attention_mask"][row, :len(i)] = 1
        return out

    def similarity(self, a: Any, b: Any) -> np.ndarray:
        """Cosine similarity of every a against every b: a float32 matrix
        (len(a), len(b)). Each side is texts (str or a list of str, embedded
        first) or embeddings (an array of rows)."""
        x, y = self._as_unit_rows(a), self._as_unit_rows(b)
        if x.shape[1] != y.shape[1]:
            raise ValueError(f"cannot compare embeddings of {x.shape[1]} and {y.shape[1]} dimensions")
        return x @ y.T

    def _as_unit_rows(self, side: Any) -> np.ndarray:
        if isinstance(side, str) or (isinstance(side, Sequence) and side and isinstance(side[0], str)):
            rows = self.encode([side] if isinstance(side, str) else side, normalize=True)
        else:
            rows = np.array(side, dtype=np.float32, ndmin=2)
            if rows.ndim != 2:
                raise ValueError(f"embeddings must be rows of floats, not an array of shape {rows.shape}")
            norms = np.linalg.norm(rows, axis=1, keepdims=True)
            rows = rows / np.maximum(norms, 1e-12)
        return rows


class Tool:
    """The EmbeddingTool an LLM agent calls: "embed", "similarity", and
    "search" over collections (docs/tools.md), on an in-process service.

    models: a model path, or {name: path} (the first is the default).
    collections: {name: directory} made by `arrowembed index build`.
    """

    def __init__(self, models: Union[PathLike, Mapping[str, PathLike]],
                 collections: Optional[Mapping[str, PathLike]] = None, threads: int = 0):
        if not isinstance(models, Mapping):
            models = {Path(models).stem: models}
        _check_count("threads", threads, minimum=0)
        self._native = _arrowembed.Tool([(str(n), os.fspath(p)) for n, p in models.items()],
                                        [(str(n), os.fspath(p)) for n, p in (collections or {}).items()], threads)

    def schema(self) -> list:
        """The actions as OpenAI function tools: [{"type": "function", "function": {...}}]."""
        return json.loads(self._native.schema())

    @property
    def actions(self) -> list:
        return [t["function"]["name"] for t in self.schema()]

    def call(self, action: str, arguments: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> dict:
        """Runs an action with its arguments (a dict, or keywords), checked
        against its JSON Schema first; raises arrowembed.Error naming the bad
        field."""
        merged = dict(arguments or {}, **kwargs)
        return json.loads(self._native.call(action, json.dumps(merged)))


def c_library_path() -> Path:
    """libarrowembed.so, the C API (include/arrowembed/arrowembed.h), for ctypes or cffi."""
    return Path(__file__).parent / "lib" / "libarrowembed.so"


def c_include_dir() -> Path:
    """The directory holding arrowembed.h."""
    return Path(__file__).parent / "include"


# Helpers.
def _alias(name: str, value: Any, alias: str, alias_value: Any) -> Any:
    if alias_value is None:
        return value
    if value is not None and value != alias_value:
        raise ValueError(f"{name}={value!r} and {alias}={alias_value!r} disagree: give one")
    return alias_value


def _check_count(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")


def _arrow_chunks(texts: Any) -> list:
    if isinstance(texts, pa.ChunkedArray):
        return texts.chunks
    if isinstance(texts, pa.Array):
        return [texts]
    if hasattr(texts, "__arrow_c_array__"):
        return [pa.array(texts)]
    if hasattr(texts, "__arrow_c_stream__"):
        return pa.chunked_array(texts).chunks
    raise TypeError(f"encode_arrow takes a pyarrow Array or ChunkedArray of strings, not {type(texts).__name__} "
                    "(use encode() for Python lists)")


class _ProgressBar:
    """tqdm when it is installed, else a line on stderr."""

    def __init__(self, total: int):
        self.total = total
        try:
            from tqdm.auto import tqdm
            self._bar = tqdm(total=total, desc="Embedding", unit="text")
        except ImportError:
            self._bar = None

    def update_to(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
        else:
            print(f"\rarrowembed: {done}/{self.total} texts", end="", file=sys.stderr, flush=True)

    def __enter__(self) -> "_ProgressBar":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.close()
        else:
            print(file=sys.stderr)
