"""Ray Data: embed a dataset's text column on every node of a Ray cluster.

    import ray
    from arrowembed.ray import Embedder

    ds = ray.data.read_parquet("s3://bucket/docs/")
    ds = ds.map_batches(Embedder, fn_constructor_kwargs={"model": "/models/minilm-f32.arrow"},
                        batch_format="pyarrow", concurrency=4, num_cpus=8)
    ds.write_parquet("s3://bucket/docs-embedded/")

Each actor loads the model once (memory-mapped from an .arrow file) with as
many engine threads as the CPUs Ray gave it (`num_cpus`), and embeds every
batch it is handed in place: the texts are read from the batch's Arrow
buffers and the new column is the engine's own output buffer, with no copy
either way, no pandas and no Python lists. See docs/python.md.

Ray is an optional dependency: importing this module does not import it.
"""
from __future__ import annotations

import sys
from typing import Any, Optional

import pyarrow as pa

__all__ = ["Embedder"]

_TEXT_TYPES = "string, large_string or string_view"


class Embedder:
    """A callable class for `Dataset.map_batches(..., batch_format="pyarrow")`.

    model: a model file (.arrow, .parquet) or Hugging Face directory, as a
    path every node can read (baked into the image, or on shared storage).
    column: the text column. output_column: the column added (or replaced)
    with a fixed_size_list<float32>[dimension] per row.
    threads: engine threads; None gives the CPUs Ray assigned to this actor
    (`num_cpus` of map_batches, at least 1), or every core outside Ray.
    precision, normalize, dimensions: as for arrowembed.Model and its
    encode_arrow (None: the model's own setting / every dimension).
    """

    def __init__(self, model: Any, column: str = "text", output_column: str = "embedding",
                 threads: Optional[int] = None, precision: str = "f32", normalize: Optional[bool] = None,
                 dimensions: Optional[int] = None):
        from . import Model  # the package's __init__ (not a cycle: arrowembed does not import this module)

        for name, value in (("column", column), ("output_column", output_column)):
            if not isinstance(value, str) or not value:
                raise TypeError(f"{name} must be a non-empty str, not {value!r}")
        if normalize is not None and not isinstance(normalize, bool):
            raise TypeError(f"normalize must be a bool or None, not {type(normalize).__name__}")
        if threads is None:
            threads = assigned_cpus()
        if isinstance(model, Model):
            raise TypeError("Embedder takes the model's path, not a loaded Model: each Ray actor loads its own "
                            "(pass fn_constructor_kwargs={'model': path})")
        self.model = Model(model, threads=threads, precision=precision)
        self.column = column
        self.output_column = output_column
        self.normalize = normalize
        self.dimensions = dimensions
        # The output type, fixed for every batch (an empty batch has no
        # engine output to take it from).
        self._empty = self.model.encode_arrow(pa.array([], pa.string()), normalize=normalize, dimensions=dimensions)

    def __call__(self, batch: pa.Table) -> pa.Table:
        if not isinstance(batch, pa.Table):
            if isinstance(batch, pa.RecordBatch):
                batch = pa.Table.from_batches([batch])
            else:
                raise TypeError(f"arrowembed.ray.Embedder takes pyarrow batches, not {type(batch).__name__}: "
                                "pass batch_format=\"pyarrow\" to map_batches")
        if self.column not in batch.column_names:
            raise KeyError(f"the batch has no column {self.column!r} to embed (its columns: "
                           f"{', '.join(batch.column_names)}); name it with fn_constructor_kwargs={{'column': ...}}")
        texts = batch.column(self.column)
        kind = texts.type
        if pa.types.is_dictionary(kind) and _is_text(kind.value_type):
            texts = texts.cast(kind.value_type)  # a categorical column: decoded (the one copy made here)
        elif not _is_text(kind):
            raise TypeError(f"column {self.column!r} is {kind}, not text ({_TEXT_TYPES})")
        if texts.null_count:
            first = _first_null(texts)
            raise ValueError(f"column {self.column!r} has {texts.null_count} null(s) (the first at row {first} of "
                             "this batch): drop or fill them before embedding (Dataset.filter)")
        if batch.num_rows == 0:
            vectors = self._empty
        else:
            vectors = self.model.encode_arrow(texts, normalize=self.normalize, dimensions=self.dimensions)
        field = pa.field(self.output_column, vectors.type)
        if self.output_column in batch.column_names:
            return batch.set_column(batch.column_names.index(self.output_column), field, vectors)
        return batch.append_column(field, vectors)

    def __repr__(self) -> str:
        return (f"arrowembed.ray.Embedder({str(self.model.path)!r}, column={self.column!r}, "
                f"output_column={self.output_column!r}, threads={self.model.threads})")


def assigned_cpus() -> int:
    """Engine threads for this process: the CPUs Ray assigned to the
    current actor or task (at least 1), or 0 (every core) outside Ray."""
    ray = sys.modules.get("ray")  # a Ray worker has always imported it; elsewhere there is nothing to ask
    if ray is None or not ray.is_initialized():
        return 0
    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 0.0)
    return max(1, int(cpus))


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def _first_null(texts: Any) -> int:
    import pyarrow.compute as pc
    return int(pc.index(pc.is_null(texts), True).as_py())
