#pragma once
// Precision of the encoder's matrix products.
#include <string_view>

namespace arrowembed {

enum class MatmulPrecision {
  // f32 products (f16 weights widened to f32): matches sentence-transformers
  // to ~1e-7 (f32 weights) or ~1e-6 (f16 weights).
  F32,
  // bf16 products with f32 sums on CPUs with AVX512-BF16: about twice the
  // throughput; inputs and weights keep 8 mantissa bits, so vectors differ
  // from f32 ones by a cosine of ~1e-4 (attention softmax, LayerNorm, GELU
  // and pooling stay f32).
  BF16,
};

// "f32" / "bf16": the names the CLI, /info and bench results use.
std::string_view precision_name(MatmulPrecision precision);
// The inverse; throws Error naming the accepted names.
MatmulPrecision precision_from_name(std::string_view name);

}  // namespace arrowembed
