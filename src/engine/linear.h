#pragma once
// A fully connected layer, y = x W^T + b, with W in PyTorch's [out, in]
// layout from the model file (f32, f16, or int8 with per-row scales).
//
// How W is held and multiplied is its MatrixKernel's business, chosen in
// one place by dtype, precision and CPU (matrix_kernel.h): the f32 kernel
// runs few rows (one short text) on W in place and more rows on panels it
// packs on the first such product, so a process that only ever embeds
// single texts never holds the packed copy; bf16 and int8 pack at
// construction.
//
// Linear spreads the work over the engine's pool by tasks of (block of
// rows, range of columns); several layers on the same input (Q, K and V)
// share one parallel loop and one prepared input. GELU, when asked for, is
// applied to each task's block while it is still in cache.
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "arrowembed/engine/precision.h"
#include "arrowembed/format/tensor.h"
#include "engine/matrix_kernel.h"

namespace arrowembed::engine {

class ThreadPool;

enum class Activation { None, Gelu };

class Linear {
 public:
  // Per-call buffers, reused from call to call.
  using Scratch = KernelScratch;

  Linear() = default;
  // `scale`: an int8 weight's per-row scales (format/int8.h). Throws Error
  // for mismatched shapes or dtypes, or a precision the CPU lacks.
  Linear(const TensorView& weight, const TensorView& bias, MatmulPrecision precision = MatmulPrecision::F32,
         const TensorView* scale = nullptr);

  size_t in_features() const { return in_; }
  size_t out_features() const { return out_; }
  // The kernel's name ("f32-avx2", "int8-vnni512", ...).
  std::string_view kernel_name() const { return kernel_->name(); }

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
  // the same results, in one parallel loop.
  static void forward_shared(std::initializer_list<Job> jobs, const float* x, size_t rows, ThreadPool& pool,
                             Scratch& scratch);

  // Makes packed weights now rather than on first use. Thread-safe.
  void pack() const { kernel_->pack(); }
  // Bytes of packed weights this layer holds (0 before any are made).
  size_t packed_bytes() const { return kernel_->packed_bytes(); }

  // Products of at most this many rows run the f32 kernel on W in place.
  static size_t small_rows_limit();

  // Multiply-adds x 2 for `rows` rows.
  double flops(size_t rows) const { return 2.0 * static_cast<double>(rows) * in_ * out_; }

 private:
  std::unique_ptr<MatrixKernel> kernel_;
  size_t in_ = 0, out_ = 0;
};

}  // namespace arrowembed::engine
