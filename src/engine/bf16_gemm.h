#pragma once
// Y = X W^T + b with bf16 products and f32 sums (AVX512-BF16 VDPBF16PS),
// for EmbedderOptions::precision = BF16. Each instruction multiplies pairs
// of bf16 values and adds both products to an f32 lane: twice the
// multiply-adds per instruction of an f32 FMA, from half the bytes of W.
//
// W is packed once, at load, into panels of 32 output columns: for each
// pair of K, 32 columns x 2 values, i.e. two 512-bit vectors a kernel step
// loads while it broadcasts one (k, k+1) pair of each row of X. X is
// rounded to bf16 (nearest even) once per product. Sums stay f32, so only
// the inputs' 8-bit mantissas differ from the f32 path.
//
// Only call these after bf16_supported() said yes: the file is compiled
// for AVX-512, the rest of the engine for AVX2.
#include <cstddef>
#include <cstdint>

namespace arrowembed::engine {

// The CPU has AVX512F/BW/VL and AVX512_BF16.
bool bf16_supported();

// Output columns per panel of packed weights.
constexpr size_t kBf16PanelColumns = 32;

// uint16 elements of a packed [n, k] matrix (columns and K padded with zeros).
size_t bf16_packed_size(size_t n, size_t k);
// Packs w ([n, k] row-major f32) into `packed` (bf16_packed_size(n, k) elements).
void bf16_pack_weights(const float* w, size_t n, size_t k, uint16_t* packed);

// Elements per row of X in bf16 (k rounded up to even).
inline size_t bf16_row_stride(size_t k) { return (k + 1) & ~size_t{1}; }
// Rounds rows of x ([rows, k] f32) to bf16 rows of bf16_row_stride(k).
void bf16_round_rows(const float* x, size_t rows, size_t k, uint16_t* xb);

// y[m, c] = bias[c] + sum_k xb[m, k] * w[c, k] for m < rows and c in
// [n0, n1) (n0 a multiple of 32; n1 a multiple of 32 or n, the columns of
// W). xb as made by
// bf16_round_rows, y rows `ldy` apart. Single-threaded.
void bf16_gemm(const uint16_t* xb, size_t rows, size_t k, const uint16_t* packed, const float* bias, float* y,
               size_t ldy, size_t n0, size_t n1);

}  // namespace arrowembed::engine
