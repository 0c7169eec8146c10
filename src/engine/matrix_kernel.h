#pragma once
// How a Linear layer holds its weight matrix and multiplies by it: one
// MatrixKernel per stored format and instruction set. make_matrix_kernel()
// (matrix_kernels.cc) is the one place that chooses, for each matrix, by
// its dtype, the requested precision and the CPU:
//
//   weight      precision   CPU                 kernel
//   f32 / f16   f32         AVX-512F            F32Kernel: small_gemm.h on W in place for <= 64 rows,
//                                               f32_gemm_avx512 on 32-column panels packed by the first
//                                               larger product
//   f32 / f16   f32         AVX2 (required)     F32Kernel, f32_gemm on 16-column panels
//   f32 / f16   bf16        AVX512-BF16         Bf16Kernel: bf16_gemm.h, panels packed at load
//   int8        (any)       AVX512-VNNI         Int8Kernel: int8_gemm.h, panels packed at load
//   int8        (any)       AVX2                Int8Kernel, the AVX2 form of the same panels
//
// A new format or instruction set is a new kernel and a new row here, not a
// branch in Linear. Linear owns the parallel loop (tasks of row blocks x
// column ranges) and the GELU epilogue; a kernel says how wide its column
// steps are, prepares the input once for all layers that share it (Q, K, V)
// and computes one task's block.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "arrowembed/engine/precision.h"
#include "arrowembed/format/tensor.h"

namespace arrowembed::engine {

class ThreadPool;

// Per-call buffers for a kernel's prepared input (bf16 rounding, int8
// quantization), reused from call to call.
struct KernelScratch {
  std::vector<uint8_t> bytes;
  // Rows of the whole product being computed (Linear sets it before
  // prepare_input): a kernel's choices must depend on it, never on the rows
  // of one task, or a row's floats would depend on how the work was split.
  size_t rows = 0;
};

// Products of at most this many rows run the f32 kernel on W in place
// (small_gemm.h): it was 1.4-1.8x sgemm's texts/s on one short text per
// call (bench/results/small-gemm.md), and needs no packed copy of W.
constexpr size_t kF32SmallRows = 64;

// What prepare_input() makes of the input; layers sharing one input (forward_shared)
// must agree on it.
enum class InputForm : uint8_t { F32, Bf16, Int8U8, Int8I16 };

class MatrixKernel {
 public:
  virtual ~MatrixKernel() = default;

  // "f32-avx2", "bf16-avx512", "int8-vnni512", "int8-avx2": for /info,
  // bench output and tests.
  virtual std::string_view name() const = 0;
  virtual InputForm input_form() const = 0;
  // Output columns per step of a task's column range for a product of
  // `rows` rows (ranges start at multiples of it).
  virtual size_t column_step(size_t rows) const = 0;
  // True when a product of `rows` rows is split by columns only (each task
  // reads the whole, small, input in place).
  virtual bool columns_only(size_t /*rows*/) const { return false; }
  // Puts rows x in_features of x into the form compute() reads, in
  // scratch; called once for all the layers sharing the input.
  virtual void prepare_input(const float* /*x*/, size_t /*rows*/, KernelScratch& /*scratch*/,
                             ThreadPool& /*pool*/) const {}
  // Called for each layer before a product of `rows` rows, outside the
  // tasks (an f32 kernel packs its panels here on first use, rather than in
  // one task while the others wait).
  virtual void prepare_weights(size_t /*rows*/) const {}
  // y[r, c] = bias[c] + x[r, :] . w[c, :] for r in [r0, r0 + rows), c in
  // [n0, n1); x and y point at row 0 (y rows out_features apart).
  // Single-threaded; called from the pool's tasks.
  virtual void compute(const float* x, const KernelScratch& scratch, size_t r0, size_t rows, float* y, size_t n0,
                       size_t n1) const = 0;
  // Makes packed weights now rather than on first use (thread-safe).
  virtual void pack() const {}
  virtual size_t packed_bytes() const { return 0; }
};

// The seam (see the table above). `scale` is an int8 weight's per-row scale
// tensor (format/int8.h), null otherwise. Throws Error for unsupported
// dtypes or a precision the CPU lacks.
std::unique_ptr<MatrixKernel> make_matrix_kernel(const TensorView& weight, const TensorView* scale, const float* bias,
                                                 MatmulPrecision precision);

// fn(r0, n) over consecutive chunks of `rows` rows: one chunk per thread of
// the pool when there are 64 rows or more, else one chunk on the caller's
// task. How kernels prepare their input (bf16 rounding, int8 quantization).
void for_row_chunks(size_t rows, ThreadPool& pool, const std::function<void(size_t r0, size_t n)>& fn);

// The instruction sets a kernel may use. widest_isa(): AVX-512 when the CPU
// has AVX512F/BW/VL, unless the environment variable ARROWEMBED_ISA=avx2
// limits it to AVX2 (to run and test the baseline path on a wider CPU).
enum class Isa : uint8_t { Avx2, Avx512 };
Isa widest_isa();

// The kernels, one file each (make_matrix_kernel chooses among them).
std::unique_ptr<MatrixKernel> make_f32_kernel(const TensorView& weight, const float* bias, bool avx512);
std::unique_ptr<MatrixKernel> make_bf16_kernel(const TensorView& weight, const float* bias);
std::unique_ptr<MatrixKernel> make_int8_kernel(const TensorView& weight, const TensorView& scale, const float* bias,
                                               bool vnni512);

// W as f32 ([out, in]): in place, or (f16) widened into `widened`; what the
// float kernels pack from.
const float* f32_weights(const TensorView& weight, std::vector<float>& widened);

}  // namespace arrowembed::engine
