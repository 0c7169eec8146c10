#include "engine/bf16_gemm.h"

#include <immintrin.h>

#include <cstring>

#include "engine/lane_masks.h"

namespace arrowembed::engine {

bool bf16_supported() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}

size_t bf16_packed_size(size_t n, size_t k) {
  const size_t panels = (n + kBf16PanelColumns - 1) / kBf16PanelColumns;
  return panels * bf16_row_stride(k) * kBf16PanelColumns;
}

namespace {

// f32 -> bf16 bits, rounding to nearest even (NaN kept a NaN), as
// VCVTNE2PS2BF16 does; for the few values outside whole vectors.
uint16_t to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

}  // namespace

// Everything below runs only on CPUs with AVX512-BF16 (see bf16_supported);
// it is the only code compiled for AVX-512, and uses no library templates
// whose instances another file could share.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512bf16,fma")

namespace {

// Rows of X per register tile: 8 rows x 32 columns = 16 accumulators, plus
// two vectors of W and a broadcast of X (19 of the 32 zmm registers).
constexpr int kTileRows = 8;
// Rows of X per block whose bf16 copy stays in L2 while every panel of the
// task's columns passes over it (a 1536-wide row is 3 KiB).
constexpr size_t kBlockBytes = 256 * 1024;

template <int MR>
inline void tile(const uint16_t* xb, size_t ldx, const uint16_t* panel, size_t pairs, const float* bias, float* y,
                 size_t ldy, __mmask16 mask0, __mmask16 mask1) {
  __m512 acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (size_t kp = 0; kp < pairs; ++kp) {
    const __m512bh w0 = (__m512bh)_mm512_loadu_si512(panel + kp * 64);
    const __m512bh w1 = (__m512bh)_mm512_loadu_si512(panel + kp * 64 + 32);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      int32_t pair;
      std::memcpy(&pair, xb + i * ldx + 2 * kp, sizeof pair);
      const __m512bh xv = (__m512bh)_mm512_set1_epi32(pair);
      acc[i][0] = _mm512_dpbf16_ps(acc[i][0], w0, xv);
      acc[i][1] = _mm512_dpbf16_ps(acc[i][1], w1, xv);
    }
  }
  const __m512 b0 = _mm512_maskz_loadu_ps(mask0, bias), b1 = _mm512_maskz_loadu_ps(mask1, bias + 16);
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    _mm512_mask_storeu_ps(y + i * ldy, mask0, _mm512_add_ps(acc[i][0], b0));
    _mm512_mask_storeu_ps(y + i * ldy + 16, mask1, _mm512_add_ps(acc[i][1], b1));
  }
}

// All rows [0, rows) of one block against one panel.
void panel_rows(const uint16_t* xb, size_t rows, size_t ldx, const uint16_t* panel, size_t pairs, const float* bias,
                float* y, size_t ldy, size_t columns) {
  const __mmask16 mask0 = first_lanes16(columns), mask1 = first_lanes16(columns > 16 ? columns - 16 : 0);
  size_t m = 0;
  for (; m + kTileRows <= rows; m += kTileRows)
    tile<kTileRows>(xb + m * ldx, ldx, panel, pairs, bias, y + m * ldy, ldy, mask0, mask1);
  const uint16_t* x = xb + m * ldx;
  float* out = y + m * ldy;
  switch (rows - m) {
    case 7: tile<7>(x, ldx, panel, pairs, bias, out, ldy, mask0, mask1); break;
    case 6: tile<6>(x, ldx, panel, pairs, bias, out, ldy, mask0, mask1); break;
    case 5: tile<5>(x, ldx, panel, pairs, bias, out, ldy, mask0, mask1); break;
    case 4: tile<4>(x, ldx, panel, pairs, bias, out, ldy, mask0, mask1); break;
    case 3: tile<3>(x, ldx, panel, pairs, bias, out, ldy, mask0, mask1); break;
    case 2: tile<2>(x, ldx, panel, pairs, bias, out, ldy, mask0, mask1); break;
    case 1: tile<1>(x, ldx, panel, pairs, bias, out, ldy, mask0, mask1); break;
    default: break;
  }
}

}  // namespace

void bf16_round_rows(const float* x, size_t rows, size_t k, uint16_t* xb) {
  const size_t ldx = bf16_row_stride(k);
  for (size_t m = 0; m < rows; ++m) {
    const float* src = x + m * k;
    uint16_t* dst = xb + m * ldx;
    size_t i = 0;
    for (; i + 32 <= k; i += 32) {
      const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + i + 16), _mm512_loadu_ps(src + i));
      _mm512_storeu_si512(dst + i, (__m512i)v);
    }
    for (; i < k; ++i) dst[i] = to_bf16(src[i]);
    if (ldx != k) dst[k] = 0;
  }
}

void bf16_pack_weights(const float* w, size_t n, size_t k, uint16_t* packed) {
  const size_t ldx = bf16_row_stride(k), pairs = ldx / 2, panel_size = pairs * 2 * kBf16PanelColumns;
  uint16_t* row = new uint16_t[ldx];  // (no std::vector here: see the region's comment)
  for (size_t p = 0; p * kBf16PanelColumns < n; ++p) {
    uint32_t* panel = reinterpret_cast<uint32_t*>(packed + p * panel_size);  // one (k, k+1) pair per element
    for (size_t c = 0; c < kBf16PanelColumns; ++c) {
      const size_t col = p * kBf16PanelColumns + c;
      if (col < n) {
        bf16_round_rows(w + col * k, 1, k, row);
      } else {
        for (size_t i = 0; i < ldx; ++i) row[i] = 0;  // padding columns of the last panel
      }
      for (size_t kp = 0; kp < pairs; ++kp) {
        uint32_t pair;
        std::memcpy(&pair, row + 2 * kp, sizeof pair);
        panel[kp * kBf16PanelColumns + c] = pair;
      }
    }
  }
  delete[] row;
}

void bf16_gemm(const uint16_t* xb, size_t rows, size_t k, const uint16_t* packed, const float* bias, float* y,
               size_t ldy, size_t n0, size_t n1) {
  const size_t ldx = bf16_row_stride(k), pairs = ldx / 2, panel_size = ldx * kBf16PanelColumns;
  size_t block = kBlockBytes / (ldx * sizeof(uint16_t));
  block = block < kTileRows ? kTileRows : block / kTileRows * kTileRows;
  for (size_t r0 = 0; r0 < rows; r0 += block) {
    const size_t r = rows - r0 < block ? rows - r0 : block;
    for (size_t c0 = n0; c0 < n1; c0 += kBf16PanelColumns) {
      const size_t columns = (n1 - c0 < kBf16PanelColumns ? n1 - c0 : kBf16PanelColumns);
      panel_rows(xb + r0 * ldx, r, ldx, packed + (c0 / kBf16PanelColumns) * panel_size, pairs, bias + c0,
                 y + r0 * ldy + c0, ldy, columns);
    }
  }
}

#pragma GCC pop_options

}  // namespace arrowembed::engine
