#pragma once
// Y = X W^T + b with int8 products and int32 sums, for int8 model files.
//
// W: int8 per output channel (symmetric, scale per column of Y, from the
// file; format/int8.h). X: quantized here per row and per group of
// kInt8Group values of K, asymmetric: x ~ scale * q + min with q in
// [0, 255]. Groups, not whole rows, because the LayerNorm outputs BERT
// feeds to Q/K/V and to the FFN have a few outlier channels: per-row
// quantization kept a min cosine of only 0.989 against
// sentence-transformers on MiniLM, groups of 64 keep 0.994
// (docs/architecture.md).
//
// For each group the kernel sums q * w exactly in int32, then adds
// scale * sum + min * colsum (colsum: the group's sum of W's int8 values
// per column, made at packing) to an f32 accumulator; the epilogue scales
// by W's column scale and adds the bias. Two kernels read the same packed
// W and give bit-identical results (integer sums are exact and the float
// steps are the same FMAs in the same order):
//  - AVX512-VNNI: VPDPBUSD (u8 x s8, 4 pairs per int32 lane);
//  - AVX2: VPMADDWD on 16-bit copies (u8 -> i16, s8 -> i16): exact, where
//    VPMADDUBSW's 16-bit pair sums would saturate (255 * 127 * 2 > 32767).
//
// Packed W: panels of 32 output columns; in a panel, for each group, for
// each quad of K, the 32 columns' 4 values side by side (128 bytes: two
// 512-bit vectors of 16 columns x 4 values, VPDPBUSD's layout). K is
// padded with zeros to whole groups, columns to whole panels.
#include <cstddef>
#include <cstdint>

namespace arrowembed::engine {

constexpr size_t kInt8PanelColumns = 32;
constexpr size_t kInt8Group = 64;

// The CPU has AVX512F/BW/VL and AVX512_VNNI.
bool int8_vnni512_supported();

inline size_t int8_padded_k(size_t k) { return (k + kInt8Group - 1) / kInt8Group * kInt8Group; }
inline size_t int8_groups(size_t k) { return int8_padded_k(k) / kInt8Group; }

// W packed, and what the kernels need beside it.
struct Int8Weights {
  const int8_t* panels = nullptr;  // int8_packed_size(n, k) bytes
  const float* colsums = nullptr;  // per panel, per group, 32 columns
  const float* scales = nullptr;   // per output column (n)
  size_t n = 0, k = 0;
};
size_t int8_packed_size(size_t n, size_t k);
size_t int8_colsums_size(size_t n, size_t k);
// Packs w ([n, k] int8, row-major) into `panels` and `colsums`.
void int8_pack_weights(const int8_t* w, size_t n, size_t k, int8_t* panels, float* colsums);

// Quantized rows of X: per row, int8_padded_k(k) values (u8 for VNNI, or
// the same values as int16 for AVX2) and per group its scale and min.
struct Int8Rows {
  const uint8_t* q = nullptr;   // VNNI form
  const int16_t* q16 = nullptr; // AVX2 form
  const float* scale = nullptr;
  const float* min = nullptr;
  size_t ld = 0;      // values per row (int8_padded_k)
  size_t groups = 0;  // per row

  // The same rows from row r0 on.
  Int8Rows from(size_t r0) const {
    return {q ? q + r0 * ld : nullptr, q16 ? q16 + r0 * ld : nullptr, scale + r0 * groups, min + r0 * groups, ld,
            groups};
  }
};
// Quantizes rows [0, rows) of x ([rows, k] f32) into whichever of q (u8)
// or q16 (int16) is not null (rows x int8_padded_k(k) each), and scale and
// min (rows x int8_groups(k) each).
void int8_quantize_rows(const float* x, size_t rows, size_t k, uint8_t* q, int16_t* q16, float* scale, float* min);

// y[m, c] = bias[c] + wscale[c] * sum_k x~[m, k] * w[c, k] for m < rows and
// c in [n0, n1) (n0 a multiple of 32, n1 a multiple of 32 or w.n), with
// x's rows from `x` (row 0 there is row 0 here). y rows `ldy` apart.
// Single-threaded. The VNNI kernel needs int8_vnni512_supported().
void int8_gemm_vnni512(const Int8Rows& x, size_t rows, const Int8Weights& w, const float* bias, float* y, size_t ldy,
                       size_t n0, size_t n1);
void int8_gemm_avx2(const Int8Rows& x, size_t rows, const Int8Weights& w, const float* bias, float* y, size_t ldy,
                    size_t n0, size_t n1);

}  // namespace arrowembed::engine
