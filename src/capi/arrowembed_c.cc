// The C API (include/arrowembed/arrowembed.h): opaque handles over the
// Embedder, C++ exceptions turned into status codes and a per-thread message.
#include "arrowembed/arrowembed.h"

#include <arrow/c/bridge.h>

#include <cstring>
#include <exception>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "arrowembed/engine/embedder.h"
#include "arrowembed/error.h"
#include "arrowembed/version.h"
#include "interop/arrow_text_column.h"
#include "interop/embedding_block.h"

struct arrowembed_model {
  arrowembed::Embedder embedder;
};

namespace {

thread_local std::string last_error;

arrowembed_status fail(arrowembed_status status, const std::string& message) {
  last_error = message;
  return status;
}

// Runs `body`, mapping what it throws: arrowembed::Error to `error_status`
// (what a bad model or a bad input means in that call), anything else to
// INTERNAL. No exception crosses into C.
template <typename Body>
arrowembed_status guarded(arrowembed_status error_status, Body&& body) {
  last_error.clear();
  try {
    body();
    return ARROWEMBED_OK;
  } catch (const arrowembed::Error& e) {
    return fail(error_status, e.what());
  } catch (const std::bad_alloc&) {
    return fail(ARROWEMBED_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return fail(ARROWEMBED_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(ARROWEMBED_INTERNAL, "internal error");
  }
}

bool read_embed_options(const arrowembed_embed_options* options, arrowembed::interop::EmbedCall& call) {
  if (!options) return true;
  if (options->normalize < -1 || options->normalize > 1) {
    fail(ARROWEMBED_INVALID_ARGUMENT, "normalize must be -1 (the model's setting), 0 or 1, not " +
                                          std::to_string(options->normalize));
    return false;
  }
  if (options->normalize >= 0) call.normalize = options->normalize == 1;
  call.dimensions = options->dimensions;
  return true;
}

}  // namespace

extern "C" {

const char* arrowembed_version(void) { return ARROWEMBED_VERSION; }

const char* arrowembed_last_error(void) { return last_error.c_str(); }

arrowembed_status arrowembed_model_load(const char* path, const arrowembed_load_options* options,
                                        arrowembed_model** out) {
  last_error.clear();
  if (!path || !out) return fail(ARROWEMBED_INVALID_ARGUMENT, "path and out must not be NULL");
  *out = nullptr;
  arrowembed::EmbedderOptions engine_options;
  if (options) {
    engine_options.num_threads = options->threads;
    if (options->precision) {
      auto status = guarded(ARROWEMBED_INVALID_ARGUMENT, [&] {
        engine_options.precision = arrowembed::precision_from_name(options->precision);
      });
      if (status != ARROWEMBED_OK) return status;
    }
  }
  return guarded(ARROWEMBED_MODEL_ERROR, [&] {
    *out = new arrowembed_model{arrowembed::Embedder::load(path, engine_options)};
  });
}

void arrowembed_model_free(arrowembed_model* model) { delete model; }

size_t arrowembed_model_dimension(const arrowembed_model* model) { return model ? model->embedder.dimension() : 0; }

size_t arrowembed_model_max_seq_length(const arrowembed_model* model) {
  return model ? static_cast<size_t>(model->embedder.config().max_seq_length) : 0;
}

arrowembed_status arrowembed_embed(const arrowembed_model* model, const char* const* texts, const size_t* lengths,
                                   size_t count, const arrowembed_embed_options* options, float* out) {
  last_error.clear();
  if (!model || (count > 0 && (!texts || !lengths || !out))) {
    return fail(ARROWEMBED_INVALID_ARGUMENT, "model, texts, lengths and out must not be NULL");
  }
  arrowembed::interop::EmbedCall call;
  if (!read_embed_options(options, call)) return ARROWEMBED_INVALID_ARGUMENT;
  return guarded(ARROWEMBED_INVALID_INPUT, [&] {
    std::vector<std::string_view> views(count);
    for (size_t i = 0; i < count; ++i) {
      if (!texts[i] && lengths[i] > 0) throw arrowembed::Error("text " + std::to_string(i) + " is NULL");
      views[i] = std::string_view(texts[i] ? texts[i] : "", lengths[i]);
    }
    const size_t full = model->embedder.dimension();
    if (call.dimensions == 0 || call.dimensions == full) {
      arrowembed::interop::embed_into(model->embedder, views, call, std::span<float>(out, count * full));
    } else {  // `out` holds only the kept dimensions: the full rows need room of their own
      const auto block = arrowembed::interop::embed_texts(model->embedder, views, call);
      std::memcpy(out, block.data(), block.rows() * block.dimension() * sizeof(float));
    }
  });
}

arrowembed_status arrowembed_embed_arrow(const arrowembed_model* model, const ArrowSchema* schema,
                                         const ArrowArray* array, const arrowembed_embed_options* options,
                                         ArrowSchema* out_schema, ArrowArray* out_array) {
  last_error.clear();
  if (!model || !schema || !array || !out_schema || !out_array) {
    return fail(ARROWEMBED_INVALID_ARGUMENT, "model, schema, array, out_schema and out_array must not be NULL");
  }
  arrowembed::interop::EmbedCall call;
  if (!read_embed_options(options, call)) return ARROWEMBED_INVALID_ARGUMENT;
  return guarded(ARROWEMBED_INVALID_INPUT, [&] {
    arrowembed::interop::ArrowTextColumn column;
    column.append(*schema, *array);
    arrowembed::interop::embed_texts(model->embedder, column.texts(), call).export_arrow(out_schema, out_array);
  });
}

}  // extern "C"
