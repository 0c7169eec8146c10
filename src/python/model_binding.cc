// arrowembed._arrowembed.Model: an Embedder with texts in from Python str
// objects or Arrow arrays, read in place, and embeddings out as NumPy or
// Arrow arrays over the engine's own output buffer. The GIL is released
// while the engine runs, so threads embed concurrently.
#include <arrow/buffer.h>
#include <arrow/c/abi.h>
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arrowembed/engine/embedder.h"
#include "arrowembed/error.h"
#include "interop/arrow_text_column.h"
#include "interop/embedding_block.h"
#include "python/bindings.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace arrowembed::python {
namespace {

// Where the last call on this thread read its texts and wrote its output,
// recorded only when tracing is on: the tests prove with it that nothing was
// copied on the way in or out.
struct CallTrace {
  bool enabled = false;
  std::vector<std::pair<uintptr_t, size_t>> inputs;
  uintptr_t output = 0;
};
thread_local CallTrace trace;

void record(std::span<const std::string_view> texts, const interop::EmbeddingBlock& block) {
  if (!trace.enabled) return;
  trace.inputs.clear();
  for (const auto& t : texts) trace.inputs.emplace_back(reinterpret_cast<uintptr_t>(t.data()), t.size());
  trace.output = reinterpret_cast<uintptr_t>(block.data());
}

// Texts of a Python sequence of str, as views of each str's UTF-8 (CPython
// keeps it inside the object: no copy for ASCII, made once and cached
// otherwise). The tuple holds a reference to every str for as long as the
// views are used, whatever other threads do to the caller's list meanwhile.
struct PythonTexts {
  nb::object items;
  std::vector<std::string_view> views;
};

PythonTexts read_texts(nb::handle sequence, const char* what) {
  if (PyUnicode_Check(sequence.ptr()) || !PySequence_Check(sequence.ptr())) {
    throw nb::type_error((std::string(what) + " must be a list of str").c_str());
  }
  PythonTexts texts{nb::steal(PySequence_Tuple(sequence.ptr())), {}};
  if (!texts.items.is_valid()) throw nb::python_error();
  const Py_ssize_t n = PyTuple_GET_SIZE(texts.items.ptr());
  texts.views.reserve(static_cast<size_t>(n));
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PyTuple_GET_ITEM(texts.items.ptr(), i);
    if (!PyUnicode_Check(item)) {
      throw nb::type_error((std::string(what) + "[" + std::to_string(i) + "] is " + Py_TYPE(item)->tp_name +
                            ", not str")
                               .c_str());
    }
    Py_ssize_t size = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(item, &size);
    if (!utf8) {
      PyErr_Clear();
      throw Error(std::string(what) + "[" + std::to_string(i) +
                  "] is not valid Unicode (a lone surrogate cannot be encoded as UTF-8)");
    }
    texts.views.emplace_back(utf8, static_cast<size_t>(size));
  }
  return texts;
}

// A 2-D float32 NumPy array (1-D for a single text) whose memory is the
// block's buffer; the array keeps the buffer alive.
nb::object to_numpy(const interop::EmbeddingBlock& block, bool single) {
  auto* owner = new std::shared_ptr<arrow::Buffer>(block.buffer());
  nb::capsule keep(owner, [](void* p) noexcept { delete static_cast<std::shared_ptr<arrow::Buffer>*>(p); });
  float* data = const_cast<float*>(block.data());
  if (single) {
    return nb::cast(nb::ndarray<nb::numpy, float, nb::ndim<1>>(data, {block.dimension()}, keep));
  }
  return nb::cast(nb::ndarray<nb::numpy, float, nb::ndim<2>>(data, {block.rows(), block.dimension()}, keep));
}

template <typename T>
T* capsule_pointer(nb::handle capsule, const char* name) {
  void* p = PyCapsule_GetPointer(capsule.ptr(), name);
  if (!p) {
    PyErr_Clear();
    throw nb::type_error((std::string("expected an Arrow PyCapsule named '") + name + "'").c_str());
  }
  return static_cast<T*>(p);
}

// The Arrow PyCapsule interface's owning capsules: whoever imports them
// moves the struct out (release set to null); otherwise it is released here.
nb::object schema_capsule(ArrowSchema* schema) {
  return nb::steal(PyCapsule_New(schema, "arrow_schema", [](PyObject* c) {
    auto* s = static_cast<ArrowSchema*>(PyCapsule_GetPointer(c, "arrow_schema"));
    if (s && s->release) s->release(s);
    delete s;
  }));
}

nb::object array_capsule(ArrowArray* array) {
  return nb::steal(PyCapsule_New(array, "arrow_array", [](PyObject* c) {
    auto* a = static_cast<ArrowArray*>(PyCapsule_GetPointer(c, "arrow_array"));
    if (a && a->release) a->release(a);
    delete a;
  }));
}

class Model {
 public:
  Model(const std::filesystem::path& path, size_t threads, const std::string& precision) : path_(path) {
    if (!std::filesystem::exists(path)) {
      PyErr_Format(PyExc_FileNotFoundError, "no model file or directory at '%s'", path.c_str());
      throw nb::python_error();
    }
    EmbedderOptions options;
    options.num_threads = threads;
    options.precision = precision_from_name(precision);
    nb::gil_scoped_release unlocked;
    embedder_ = std::make_unique<Embedder>(Embedder::load(path, options));
  }

  nb::object encode(nb::handle sentences, size_t batch_size, std::optional<bool> normalize,
                    std::optional<size_t> dimensions, nb::object progress) const {
    const bool single = PyUnicode_Check(sentences.ptr());
    PythonTexts texts = single ? read_texts(nb::make_tuple(sentences), "sentences")
                               : read_texts(sentences, "sentences");
    const interop::EmbedCall call = make_call(normalize, dimensions, batch_size);
    // Between batches: report progress and let Ctrl-C stop a long run.
    std::function<void(size_t)> after_batch;
    if (call.batch_size && call.batch_size < texts.views.size()) {
      after_batch = [&progress](size_t done) {
        nb::gil_scoped_acquire locked;
        if (PyErr_CheckSignals() != 0) throw nb::python_error();
        if (!progress.is_none()) progress(done);
      };
    } else if (!progress.is_none()) {
      after_batch = [&progress](size_t done) {
        nb::gil_scoped_acquire locked;
        progress(done);
      };
    }
    interop::EmbeddingBlock block = [&] {
      nb::gil_scoped_release unlocked;
      return interop::embed_texts(*embedder_, texts.views, call, after_batch);
    }();
    record(texts.views, block);
    return to_numpy(block, single);
  }

  // chunks: [(schema capsule, array capsule), ...] of one string column, as
  // pyarrow's __arrow_c_array__() gives them. Returns the result's capsules.
  nb::tuple encode_arrow(nb::list chunks, std::optional<bool> normalize, std::optional<size_t> dimensions,
                         size_t batch_size) const {
    interop::ArrowTextColumn column;
    for (nb::handle chunk : chunks) {
      nb::tuple pair = nb::cast<nb::tuple>(chunk);
      column.append(*capsule_pointer<ArrowSchema>(pair[0], "arrow_schema"),
                    *capsule_pointer<ArrowArray>(pair[1], "arrow_array"));
    }
    const interop::EmbedCall call = make_call(normalize, dimensions, batch_size);
    interop::EmbeddingBlock block = [&] {
      nb::gil_scoped_release unlocked;
      return interop::embed_texts(*embedder_, column.texts(), call);
    }();
    record(column.texts(), block);
    auto schema = std::make_unique<ArrowSchema>();
    auto array = std::make_unique<ArrowArray>();
    block.export_arrow(schema.get(), array.get());
    nb::object s = schema_capsule(schema.release());
    nb::object a = array_capsule(array.release());
    return nb::make_tuple(s, a);
  }

  // Token ids and type ids per text, truncated at max_seq_length as the
  // engine embeds them.
  nb::tuple tokenize(nb::handle texts) const {
    PythonTexts in = read_texts(texts, "texts");
    std::vector<Encoding> encodings;
    {
      nb::gil_scoped_release unlocked;
      encodings = embedder_->tokenizer().encode_batch(in.views, max_seq_length());
    }
    std::vector<std::vector<int32_t>> ids, type_ids;
    for (auto& e : encodings) {
      ids.push_back(std::move(e.ids));
      type_ids.push_back(std::move(e.type_ids));
    }
    return nb::make_tuple(ids, type_ids);
  }

  size_t dimension() const { return embedder_->dimension(); }
  size_t max_seq_length() const { return static_cast<size_t>(embedder_->config().max_seq_length); }
  bool normalize() const { return embedder_->config().normalize; }
  std::string pooling() const { return std::string(pooling_name(embedder_->config().pooling)); }
  std::string config_json() const { return embedder_->config().to_json(); }
  const std::string& fingerprint() const { return embedder_->fingerprint(); }
  size_t threads() const { return embedder_->num_threads(); }
  size_t memory_bytes() const { return embedder_->memory_bytes(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  static interop::EmbedCall make_call(std::optional<bool> normalize, std::optional<size_t> dimensions,
                                      size_t batch_size) {
    interop::EmbedCall call;
    call.normalize = normalize;
    if (dimensions) {
      if (*dimensions == 0) throw Error("dimensions must be at least 1");
      call.dimensions = *dimensions;
    }
    call.batch_size = batch_size;
    return call;
  }

  std::filesystem::path path_;
  std::unique_ptr<Embedder> embedder_;
};

nb::dict last_trace() {
  nb::dict out;
  nb::list inputs;
  for (const auto& [address, size] : trace.inputs) inputs.append(nb::make_tuple(address, size));
  out["inputs"] = inputs;
  out["output"] = trace.output;
  return out;
}

}  // namespace

void bind_model(nb::module_& m) {
  nb::class_<Model>(m, "Model")
      .def(nb::init<const std::filesystem::path&, size_t, const std::string&>(), "path"_a, "threads"_a = 0,
           "precision"_a = "f32")
      .def("encode", &Model::encode, "sentences"_a, "batch_size"_a, "normalize"_a.none(), "dimensions"_a.none(),
           "progress"_a.none())
      .def("encode_arrow", &Model::encode_arrow, "chunks"_a, "normalize"_a.none(), "dimensions"_a.none(),
           "batch_size"_a)
      .def("tokenize", &Model::tokenize, "texts"_a)
      .def_prop_ro("dimension", &Model::dimension)
      .def_prop_ro("max_seq_length", &Model::max_seq_length)
      .def_prop_ro("normalize", &Model::normalize)
      .def_prop_ro("pooling", &Model::pooling)
      .def_prop_ro("config_json", &Model::config_json)
      .def_prop_ro("fingerprint", &Model::fingerprint)
      .def_prop_ro("threads", &Model::threads)
      .def_prop_ro("memory_bytes", &Model::memory_bytes)
      .def_prop_ro("path", &Model::path);
  m.def("_set_trace", [](bool enabled) { trace = CallTrace{enabled, {}, 0}; });
  m.def("_last_trace", &last_trace);
}

}  // namespace arrowembed::python
