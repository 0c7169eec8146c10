#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "arrowembed/error.h"
#include "engine/bf16_gemm.h"
#include "engine/int8_gemm.h"
#include "engine/matrix_kernel.h"
#include "engine/thread_pool.h"

namespace arrowembed::engine {

Isa widest_isa() {
  const char* limit = std::getenv("ARROWEMBED_ISA");
  if (limit != nullptr && std::strcmp(limit, "avx2") == 0) return Isa::Avx2;
  if (limit != nullptr && *limit != '\0' && std::strcmp(limit, "avx512") != 0)
    throw Error(std::string("ARROWEMBED_ISA must be avx2 or avx512, not '") + limit + "'");
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl");
  return avx512 ? Isa::Avx512 : Isa::Avx2;
}

void for_row_chunks(size_t rows, ThreadPool& pool, const std::function<void(size_t r0, size_t n)>& fn) {
  const size_t tasks = rows >= 64 ? pool.size() : 1, per = (rows + tasks - 1) / tasks;
  pool.parallel_for(tasks, [&](size_t t) {
    const size_t r0 = t * per;
    if (r0 < rows) fn(r0, std::min(per, rows - r0));
  });
}

std::unique_ptr<MatrixKernel> make_matrix_kernel(const TensorView& weight, const TensorView* scale, const float* bias,
                                                 MatmulPrecision precision) {
  const Isa isa = widest_isa();
  switch (weight.dtype) {
    case DType::I8:
      if (precision != MatmulPrecision::F32)
        throw Error("'" + weight.name + "' is int8: an int8 model runs int8 products (precision " +
                    std::string(precision_name(precision)) + " applies to f32 and f16 models)");
      if (scale == nullptr) throw Error("int8 weight '" + weight.name + "' has no scale");
      return make_int8_kernel(weight, *scale, bias, isa == Isa::Avx512 && int8_vnni512_supported());
    case DType::F32:
    case DType::F16:
      if (precision == MatmulPrecision::F32) return make_f32_kernel(weight, bias, isa == Isa::Avx512);
      if (isa != Isa::Avx512 || !bf16_supported())
        throw Error("bf16 precision needs a CPU with AVX512-BF16 (e.g. AMD Zen 4, Intel Sapphire Rapids); use f32");
      return make_bf16_kernel(weight, bias);
    default:
      throw Error("linear layer '" + weight.name + "': weight must be f32, f16 or int8, not " +
                  std::string(dtype_name(weight.dtype)));
  }
}

}  // namespace arrowembed::engine
