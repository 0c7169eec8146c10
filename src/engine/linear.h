#pragma once
// A fully connected layer, y = x W^T + b, with W in PyTorch's [out, in]
// layout used in place from the model file (f32 or f16).
//
// Products of few rows (one short text) run on small_gemm.h, on W in place
// (f16 weights widened in registers). Products of more rows (batches) run
// on f32_gemm.h, on W packed into column panels by the first such product:
// a process that only ever embeds single texts never holds the packed copy.
// With MatmulPrecision::BF16 the weights are packed to bf16 once, at
// construction, and every product runs on bf16_gemm.h.
//
// Work is spread over the engine's pool by tasks of (block of rows, range
// of panels); several layers on the same input (Q, K and V) share one
// parallel loop. GELU, when asked for, is applied to each task's block
// while it is still in cache.
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <vector>

#include "arrowembed/engine/precision.h"
#include "arrowembed/format/tensor.h"

namespace arrowembed::engine {

class ThreadPool;

enum class Activation { None, Gelu };

class Linear {
 public:
  // Per-call buffers, reused from call to call (see Workspace).
  struct Scratch {
    std::vector<uint16_t> rounded;  // the input rounded to bf16
  };

  Linear() = default;
  // Throws Error for mismatched shapes or dtypes, or BF16 on a CPU without
  // AVX512-BF16.
  Linear(const TensorView& weight, const TensorView& bias, MatmulPrecision precision = MatmulPrecision::F32);

  size_t in_features() const { return in_; }
  size_t out_features() const { return out_; }

  // x: rows x in_features (row stride in_features); y: rows x out_features.
  void forward(const float* x, size_t rows, float* y, Activation activation, ThreadPool& pool,
               Scratch& scratch) const;

  // One layer of forward_shared: its output and activation.
  struct Job {
    const Linear* layer;
    float* y;
    Activation activation;
  };
  // forward() of several layers on the same input x (e.g. Q, K and V), with
  // the same results; on few rows their products share one parallel loop.
  static void forward_shared(std::initializer_list<Job> jobs, const float* x, size_t rows, ThreadPool& pool,
                             Scratch& scratch);

  // Makes the packed weights of many-row products now rather than on the
  // first such product (f32; BF16 packs at construction). Thread-safe.
  void pack() const;
  // Bytes of packed weights this layer holds (0 before any are made).
  size_t packed_bytes() const;

  // Products of at most this many rows run on the small-M kernel
  // (small_gemm.h) instead of the packed one (f32_gemm.h).
  static size_t small_rows_limit();

  // Multiply-adds x 2 for `rows` rows.
  double flops(size_t rows) const { return 2.0 * static_cast<double>(rows) * in_ * out_; }

 private:
  // Columns per task of the small-M path, and one such task.
  size_t small_chunk_columns(size_t threads) const;
  void forward_small(const float* x, size_t rows, float* y, Activation activation, size_t n0, size_t n1) const;
  // The packed paths: tasks of (row block, panel range) over the products
  // of `jobs`, on f32 panels or (bf16) on the input rounded once into
  // scratch.rounded.
  static void forward_packed(std::initializer_list<Job> jobs, const float* x, size_t rows, ThreadPool& pool,
                             Scratch& scratch, bool bf16);
  // W as f32: in place, or (f16) widened into `widened`; for packing.
  const float* f32_weights(std::vector<float>& widened) const;
  // W in f32_gemm.h's panels, packed by the first caller.
  const float* f32_panels() const;

  // f32_gemm.h's panels of W, made on first use (std::once_flag is not
  // movable, hence the pointer).
  struct PackedF32 {
    std::once_flag once;
    std::vector<float> panels;
  };

  const void* weight_ = nullptr;
  std::vector<uint16_t> packed_bf16_;  // BF16 precision: W in bf16_gemm.h's panels
  std::unique_ptr<PackedF32> packed_f32_ = std::make_unique<PackedF32>();
  bool weight_f16_ = false;
  const float* bias_ = nullptr;
  size_t in_ = 0, out_ = 0;
};

}  // namespace arrowembed::engine
