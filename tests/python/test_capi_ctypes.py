"""The C API (include/arrowembed/arrowembed.h) through ctypes, as any host
with a C FFI uses it: the library the Python package ships, pyarrow arrays
exported to it through the Arrow C Data Interface, the results imported back
without a copy and compared with the Python package's own vectors."""
from __future__ import annotations

import ctypes

import numpy as np
import pyarrow as pa
import pytest

import arrowembed

OK, INVALID_ARGUMENT, MODEL_ERROR, INVALID_INPUT = 0, 1, 2, 3


class ArrowSchema(ctypes.Structure):
    pass


ArrowSchema._fields_ = [("format", ctypes.c_char_p), ("name", ctypes.c_char_p), ("metadata", ctypes.c_char_p),
                        ("flags", ctypes.c_int64), ("n_children", ctypes.c_int64),
                        ("children", ctypes.POINTER(ctypes.POINTER(ArrowSchema))),
                        ("dictionary", ctypes.POINTER(ArrowSchema)),
                        ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowSchema))),
                        ("private_data", ctypes.c_void_p)]


class ArrowArray(ctypes.Structure):
    pass


ArrowArray._fields_ = [("length", ctypes.c_int64), ("null_count", ctypes.c_int64), ("offset", ctypes.c_int64),
                       ("n_buffers", ctypes.c_int64), ("n_children", ctypes.c_int64),
                       ("buffers", ctypes.POINTER(ctypes.c_void_p)),
                       ("children", ctypes.POINTER(ctypes.POINTER(ArrowArray))),
                       ("dictionary", ctypes.POINTER(ArrowArray)),
                       ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArray))),
                       ("private_data", ctypes.c_void_p)]


class LoadOptions(ctypes.Structure):
    _fields_ = [("threads", ctypes.c_size_t), ("precision", ctypes.c_char_p)]


class EmbedOptions(ctypes.Structure):
    _fields_ = [("normalize", ctypes.c_int), ("dimensions", ctypes.c_size_t)]


@pytest.fixture(scope="module")
def lib():
    lib = ctypes.CDLL(str(arrowembed.c_library_path()))
    lib.arrowembed_version.restype = ctypes.c_char_p
    lib.arrowembed_last_error.restype = ctypes.c_char_p
    lib.arrowembed_model_load.argtypes = [ctypes.c_char_p, ctypes.POINTER(LoadOptions), ctypes.POINTER(ctypes.c_void_p)]
    lib.arrowembed_model_free.argtypes = [ctypes.c_void_p]
    lib.arrowembed_model_dimension.argtypes = [ctypes.c_void_p]
    lib.arrowembed_model_dimension.restype = ctypes.c_size_t
    lib.arrowembed_embed.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t),
                                     ctypes.c_size_t, ctypes.POINTER(EmbedOptions), ctypes.c_void_p]
    lib.arrowembed_embed_arrow.argtypes = [ctypes.c_void_p, ctypes.POINTER(ArrowSchema), ctypes.POINTER(ArrowArray),
                                           ctypes.POINTER(EmbedOptions), ctypes.POINTER(ArrowSchema),
                                           ctypes.POINTER(ArrowArray)]
    return lib


@pytest.fixture(scope="module")
def handle(lib, converted):
    h = ctypes.c_void_p()
    assert lib.arrowembed_model_load(str(converted["f32.arrow"]).encode(), LoadOptions(0, b"f32"),
                                     ctypes.byref(h)) == OK, lib.arrowembed_last_error()
    yield h
    lib.arrowembed_model_free(h)


def embed_arrow(lib, handle, array: pa.Array, options=None):
    """Exports `array` to C, embeds it, imports the result; returns (status, result, input structs)."""
    schema, arr = ArrowSchema(), ArrowArray()
    array._export_to_c(ctypes.addressof(arr), ctypes.addressof(schema))
    out_schema, out = ArrowSchema(), ArrowArray()
    status = lib.arrowembed_embed_arrow(handle, ctypes.byref(schema), ctypes.byref(arr), options,
                                        ctypes.byref(out_schema), ctypes.byref(out))
    result = pa.Array._import_from_c(ctypes.addressof(out), ctypes.addressof(out_schema)) if status == OK else None
    return status, result, (schema, arr)


def release(structs):
    schema, arr = structs
    # The library borrowed the input: it is still ours to release.
    assert schema.release and arr.release
    arr.release(ctypes.byref(arr))
    schema.release(ctypes.byref(schema))


def test_version(lib):
    assert lib.arrowembed_version().decode() == arrowembed.__version__


@pytest.mark.parametrize("type_", [pa.string(), pa.large_string(), pa.string_view()])
def test_arrow_round_trip_equals_the_package(lib, handle, model, type_):
    texts = ["the C API", "reads Arrow strings in place", "", "and returns a fixed_size_list of float32"]
    status, result, structs = embed_arrow(lib, handle, pa.array(texts, type=type_))
    assert status == OK, lib.arrowembed_last_error()
    release(structs)
    assert result.type == pa.list_(pa.field("item", pa.float32(), nullable=False), 384)
    assert result.values.buffers()[1].address % 64 == 0
    assert np.array_equal(result.flatten().to_numpy().reshape(-1, 384), model.encode(texts))


def test_plain_pointers_and_options(lib, handle, model):
    texts = ["plain", "pointers, no Arrow"]
    raw = [t.encode() for t in texts]
    ptrs = (ctypes.c_char_p * 2)(*raw)
    lengths = (ctypes.c_size_t * 2)(*map(len, raw))
    out = np.zeros((2, 384), np.float32)
    assert lib.arrowembed_embed(handle, ptrs, lengths, 2, None, out.ctypes.data) == OK
    assert np.array_equal(out, model.encode(texts))
    small = np.zeros((2, 16), np.float32)
    assert lib.arrowembed_embed(handle, ptrs, lengths, 2, EmbedOptions(0, 16), small.ctypes.data) == OK
    assert np.array_equal(small, model.encode(texts, normalize=False, dimensions=16))
    assert lib.arrowembed_embed(handle, ptrs, lengths, 2, EmbedOptions(5, 0), out.ctypes.data) == INVALID_ARGUMENT
    assert b"normalize" in lib.arrowembed_last_error()


def test_errors_are_codes_and_messages(lib, handle, tmp_path):
    h = ctypes.c_void_p()
    missing = str(tmp_path / "missing.arrow").encode()
    assert lib.arrowembed_model_load(missing, None, ctypes.byref(h)) == MODEL_ERROR
    assert missing in lib.arrowembed_last_error() and not h.value
    assert lib.arrowembed_model_load(missing, LoadOptions(0, b"fp8"), ctypes.byref(h)) == INVALID_ARGUMENT
    status, _, structs = embed_arrow(lib, handle, pa.array(["a", None, "c"]))
    assert status == INVALID_INPUT and b"text 1 is null" in lib.arrowembed_last_error()
    release(structs)
    status, _, structs = embed_arrow(lib, handle, pa.array([1.5]))
    assert status == INVALID_INPUT and b"string" in lib.arrowembed_last_error()
    release(structs)
    assert lib.arrowembed_embed_arrow(handle, None, None, None, None, None) == INVALID_ARGUMENT
    assert lib.arrowembed_model_dimension(handle) == 384  # still usable
