#pragma once
// Texts in, sentence embeddings out: the tokenizer, the BERT encoder,
// pooling and normalisation of one model file, run on the CPU.
//
//   auto embedder = arrowembed::Embedder::load("minilm-f16.arrow");
//   std::vector<float> out(texts.size() * embedder.dimension());
//   embedder.embed(texts, out);
//
// With f32 products, weights are used in place from the memory-mapped file
// for single short texts (f16 widened in registers); batches run on a copy
// of each matrix packed for the product kernel, made by its first batch or
// pack_weights(). bf16 products and int8 files (int8 products) pack at
// load. kernel() says which kernel the CPU got.
// All const methods are thread-safe: concurrent callers share one thread
// pool (EnginePool, possibly with other Embedders), each call's batches run
// one after another.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arrowembed/engine/engine_pool.h"
#include "arrowembed/engine/precision.h"
#include "arrowembed/format/model_config.h"
#include "arrowembed/tokenizer/tokenizer.h"

namespace arrowembed {

class ModelFile;

struct EmbedderOptions {
  // Worker threads for the forward pass; 0 means one per core. Unused when
  // `pool` is set.
  size_t num_threads = 0;
  // Threads shared with other Embedders (their passes take turns); null
  // means a pool of num_threads of this Embedder's own.
  std::shared_ptr<EnginePool> pool;
  // Upper bound on the tokens of one forward pass. Texts are sorted by
  // length and packed without padding into passes of at most this many
  // tokens, evenly sized (a longer single text still runs alone). The
  // workspace grows with it (~15 KB per token for MiniLM); passes of 1,024
  // tokens and more already keep both cores' kernels busy
  // (bench/results/pass-size.md).
  size_t max_pass_tokens = 2048;
  // Precision of the matrix products (see precision.h). BF16 packs a bf16
  // copy of the encoder's matrices at load (half the f32 size) and throws
  // Error on a CPU without AVX512-BF16, or for an int8 file (which always
  // runs int8 products).
  MatmulPrecision precision = MatmulPrecision::F32;
};

struct EmbedOptions {
  // Tokens per text including [CLS] and [SEP]; 0 means the model's
  // max_seq_length. Larger than max_seq_length is an error.
  size_t max_length = 0;
  // L2-normalise the output; unset means the model's own setting.
  std::optional<bool> normalize;
};

// What one embed call did, for metrics and benchmarks.
struct EmbedStats {
  size_t texts = 0;
  size_t tokens = 0;   // after truncation, including special tokens
  size_t batches = 0;  // forward passes
  double flops = 0;    // multiply-adds x 2 of the encoder
};

// Scales a vector to unit length (sentence-transformers' Normalize: x /
// max(||x||, 1e-12)), as embed() does when the model normalises.
void l2_normalize(std::span<float> vector);

// Keeps the first `keep` of each of `rows` rows of `dimension` floats
// (Matryoshka truncation), moving row r to values[r * keep], then
// L2-normalises each row when asked. keep <= dimension.
void truncate_rows(std::span<float> values, size_t rows, size_t dimension, size_t keep, bool normalize);

class Embedder {
 public:
  // Opens a model file (.arrow for zero-copy; .parquet and Hugging Face
  // directories also work) and prepares the tokenizer and encoder. Throws
  // Error for a bad file, an unsupported model or a CPU without AVX2/FMA/F16C.
  static Embedder load(const std::filesystem::path& path, const EmbedderOptions& options = {});
  static Embedder from_model(ModelFile model, const EmbedderOptions& options = {});

  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const;
  size_t dimension() const;  // floats per embedding (hidden_size)
  size_t num_threads() const;

  // Writes texts.size() x dimension() floats (row-major, input order) to out.
  // Throws Error for invalid UTF-8 (naming the text) or a too-small `out`.
  EmbedStats embed(std::span<const std::string_view> texts, std::span<float> out,
                   const EmbedOptions& options = {}) const;
  std::vector<float> embed(std::span<const std::string_view> texts, const EmbedOptions& options = {}) const;

  // The same from token ids already made by tokenizer() (the server
  // tokenizes first to count and limit tokens). Each encoding must fit the
  // model's max_seq_length.
  EmbedStats embed_encodings(std::span<const Encoding> encodings, std::span<float> out,
                             const EmbedOptions& options = {}) const;

  // Wakes the engine's idle threads for a call expected shortly (a server
  // that has a request to compute calls this before tokenizing it), so that
  // their wake-up overlaps that work instead of delaying the forward pass.
  // Optional and cheap; threads that get no work go back to sleep.
  void prepare() const;

  // Packs the encoder's weights for products of many rows now. With f32
  // products that copy (f32 panels, about the size of the f32 weights) is
  // otherwise made by the first batch that needs it, so a process that only
  // embeds single texts never holds it; a server calls this before it
  // reports ready so that no request pays for it. BF16 packs at load.
  // Idempotent and thread-safe.
  void pack_weights() const;

  // The kernel of the encoder's matrix products, as the engine chose it for
  // the file's dtype, the precision and the CPU: "f32-avx2", "bf16-avx512",
  // "int8-vnni512" or "int8-avx2".
  std::string_view kernel() const;
  // The products' precision: "f32", "bf16" or "int8" (an int8 file runs
  // int8 products; EmbedderOptions::precision must then be f32).
  std::string_view products() const;

  // Memory this model holds: its file (mapped, or read for .parquet and
  // directories), packed weights and the forward-pass workspace.
  size_t memory_bytes() const;

  // What the vectors depend on, as a hex XXH3-128 digest: every tensor
  // (name, dtype, shape, bytes), tokenizer.json, pooling, normalisation and
  // max_seq_length. Equal digests mean equal vectors for equal texts; the
  // f32 and f16 files of one model differ (their vectors differ slightly).
  // Computed once (reads every weight byte: ~10 ms for MiniLM), then cached.
  const std::string& fingerprint() const;

  struct State;

 private:
  explicit Embedder(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace arrowembed
