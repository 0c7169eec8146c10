#include "engine/f32_gemm.h"

#include <immintrin.h>

#include "engine/simd.h"

namespace arrowembed::engine {

namespace {

// Rows of X per register tile: 6 rows x 16 columns = 12 accumulators, plus
// two vectors of W and a broadcast of X (15 of the 16 ymm registers).
constexpr int kTileRows = 6;
// Bytes of X's rows per block: the block stays in L2 (1 MiB per core on
// Zen 4) next to the panel passing over it (at most k x 64 bytes).
constexpr size_t kBlockBytes = 384 * 1024;

template <int MR>
inline void tile(const float* x, size_t k, const float* panel, const float* bias, float* y, size_t ldy,
                 size_t columns) {
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (size_t kk = 0; kk < k; ++kk) {
    const __m256 w0 = _mm256_loadu_ps(panel + kk * kF32PanelColumns);
    const __m256 w1 = _mm256_loadu_ps(panel + kk * kF32PanelColumns + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m256 xv = _mm256_broadcast_ss(x + i * k + kk);
      acc[i][0] = _mm256_fmadd_ps(xv, w0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(xv, w1, acc[i][1]);
    }
  }
  if (columns == kF32PanelColumns) {
    const __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      _mm256_storeu_ps(y + i * ldy, _mm256_add_ps(acc[i][0], b0));
      _mm256_storeu_ps(y + i * ldy + 8, _mm256_add_ps(acc[i][1], b1));
    }
    return;
  }
  // The last panel of a width that is not a multiple of 16.
  const __m256i m0 = simd::lanes_below(columns), m1 = simd::lanes_below(columns > 8 ? columns - 8 : 0);
  const __m256 b0 = _mm256_maskload_ps(bias, m0), b1 = _mm256_maskload_ps(bias + 8, m1);
  // (Every loop over acc is unrolled: one that is not makes GCC keep acc in
  // memory, storing it on every step of K.)
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    _mm256_maskstore_ps(y + i * ldy, m0, _mm256_add_ps(acc[i][0], b0));
    _mm256_maskstore_ps(y + i * ldy + 8, m1, _mm256_add_ps(acc[i][1], b1));
  }
}

// All rows [0, rows) of one block against one panel.
void panel_rows(const float* x, size_t rows, size_t k, const float* panel, const float* bias, float* y, size_t ldy,
                size_t columns) {
  size_t m = 0;
  for (; m + kTileRows <= rows; m += kTileRows) tile<kTileRows>(x + m * k, k, panel, bias, y + m * ldy, ldy, columns);
  const float* xr = x + m * k;
  float* out = y + m * ldy;
  switch (rows - m) {
    case 5: tile<5>(xr, k, panel, bias, out, ldy, columns); break;
    case 4: tile<4>(xr, k, panel, bias, out, ldy, columns); break;
    case 3: tile<3>(xr, k, panel, bias, out, ldy, columns); break;
    case 2: tile<2>(xr, k, panel, bias, out, ldy, columns); break;
    case 1: tile<1>(xr, k, panel, bias, out, ldy, columns); break;
    default: break;
  }
}

}  // namespace

size_t f32_packed_size(size_t n, size_t k, size_t panel_columns) {
  return (n + panel_columns - 1) / panel_columns * k * panel_columns;
}

void f32_pack_weights(const float* w, size_t n, size_t k, float* packed, size_t panel_columns, size_t ldw) {
  if (ldw == 0) ldw = k;
  for (size_t p = 0; p * panel_columns < n; ++p) {
    float* panel = packed + p * k * panel_columns;
    for (size_t c = 0; c < panel_columns; ++c) {
      const size_t col = p * panel_columns + c;
      for (size_t kk = 0; kk < k; ++kk) panel[kk * panel_columns + c] = col < n ? w[col * ldw + kk] : 0.0f;
    }
  }
}

void f32_gemm(const float* x, size_t rows, size_t k, const float* packed, const float* bias, float* y, size_t ldy,
              size_t n0, size_t n1) {
  size_t block = kBlockBytes / (k * sizeof(float));
  block = block < kTileRows ? kTileRows : block / kTileRows * kTileRows;
  const size_t panel_size = k * kF32PanelColumns;
  for (size_t r0 = 0; r0 < rows; r0 += block) {
    const size_t r = rows - r0 < block ? rows - r0 : block;
    for (size_t c0 = n0; c0 < n1; c0 += kF32PanelColumns) {
      const size_t columns = n1 - c0 < kF32PanelColumns ? n1 - c0 : kF32PanelColumns;
      panel_rows(x + r0 * k, r, k, packed + (c0 / kF32PanelColumns) * panel_size, bias + c0, y + r0 * ldy + c0, ldy,
                 columns);
    }
  }
}

}  // namespace arrowembed::engine
