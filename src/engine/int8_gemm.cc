#include "engine/int8_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "engine/lane_masks.h"
#include "engine/simd.h"

namespace arrowembed::engine {

bool int8_vnni512_supported() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}

namespace {

constexpr size_t kQuads = kInt8Group / 4;                 // quads of K per group
constexpr size_t kQuadBytes = kInt8PanelColumns * 4;      // one quad of a panel
constexpr size_t kGroupBytes = kQuads * kQuadBytes;       // one group of a panel

size_t panels_of(size_t n) { return (n + kInt8PanelColumns - 1) / kInt8PanelColumns; }

}  // namespace

size_t int8_packed_size(size_t n, size_t k) { return panels_of(n) * int8_groups(k) * kGroupBytes; }
size_t int8_colsums_size(size_t n, size_t k) { return panels_of(n) * int8_groups(k) * kInt8PanelColumns; }

void int8_pack_weights(const int8_t* w, size_t n, size_t k, int8_t* panels, float* colsums) {
  const size_t groups = int8_groups(k);
  for (size_t p = 0; p < panels_of(n); ++p) {
    for (size_t g = 0; g < groups; ++g) {
      int8_t* block = panels + (p * groups + g) * kGroupBytes;
      float* sums = colsums + (p * groups + g) * kInt8PanelColumns;
      for (size_t c = 0; c < kInt8PanelColumns; ++c) {
        const size_t col = p * kInt8PanelColumns + c;
        int32_t sum = 0;
        for (size_t i = 0; i < kInt8Group; ++i) {
          const size_t kk = g * kInt8Group + i;
          const int8_t v = col < n && kk < k ? w[col * k + kk] : 0;
          block[(i / 4) * kQuadBytes + c * 4 + i % 4] = v;
          sum += v;
        }
        sums[c] = static_cast<float>(sum);
      }
    }
  }
}

void int8_quantize_rows(const float* x, size_t rows, size_t k, uint8_t* q, int16_t* q16, float* scale, float* min) {
  const size_t ld = int8_padded_k(k), groups = int8_groups(k);
  for (size_t r = 0; r < rows; ++r) {
    const float* row = x + r * k;
    for (size_t g = 0; g < groups; ++g) {
      const size_t k0 = g * kInt8Group, len = std::min(kInt8Group, k - k0);
      __m256 lo = _mm256_set1_ps(row[k0]), hi = lo;
      size_t i = 0;
      for (; i + 8 <= len; i += 8) {
        const __m256 v = _mm256_loadu_ps(row + k0 + i);
        lo = _mm256_min_ps(lo, v);
        hi = _mm256_max_ps(hi, v);
      }
      alignas(32) float lanes_lo[8], lanes_hi[8];
      _mm256_store_ps(lanes_lo, lo);
      _mm256_store_ps(lanes_hi, hi);
      float mn = lanes_lo[0], mx = lanes_hi[0];
      for (int l = 1; l < 8; ++l) mn = std::min(mn, lanes_lo[l]), mx = std::max(mx, lanes_hi[l]);
      for (size_t j = i; j < len; ++j) mn = std::min(mn, row[k0 + j]), mx = std::max(mx, row[k0 + j]);
      const float s = (mx - mn) / 255.0f;
      const float inverse = s > 0.0f ? 1.0f / s : 0.0f;
      scale[r * groups + g] = s;
      min[r * groups + g] = mn;
      // q = round((x - min) / s), clamped to [0, 255]; the padding after K is 0.
      const __m256 vmin = _mm256_set1_ps(mn), vinv = _mm256_set1_ps(inverse);
      const size_t out = r * ld + k0;
      for (size_t j = 0; j < kInt8Group; j += 16) {
        __m256i halves[2];
        for (size_t h = 0; h < 2; ++h) {
          const size_t at = j + 8 * h, avail = at < len ? std::min<size_t>(8, len - at) : 0;
          const __m256i mask = simd::lanes_below(avail);
          const __m256 v = _mm256_maskload_ps(row + k0 + std::min(at, len), mask);
          const __m256i qv = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_sub_ps(v, vmin), vinv));
          halves[h] = _mm256_and_si256(_mm256_min_epi32(_mm256_max_epi32(qv, _mm256_setzero_si256()),
                                                        _mm256_set1_epi32(255)), mask);
        }
        // 16 int32 -> 16 int16 in order (packs interleave the 128-bit lanes; the permute undoes it)
        const __m256i words = _mm256_permute4x64_epi64(_mm256_packus_epi32(halves[0], halves[1]), 0xD8);
        if (q16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(q16 + out + j), words);
        if (q) {
          const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(q + out + j), bytes);
        }
      }
    }
  }
}

// ---- AVX2: VPMADDWD on 16-bit values --------------------------------------

namespace {

// Rows of X per tile of the AVX2 kernel, and the columns it covers (a
// quarter of a panel): 4 rows x 8 columns = 8 pair-sum accumulators, 4 f32
// accumulators, two vectors of W and a broadcast of X.
constexpr int kAvx2Rows = 4;
constexpr size_t kAvx2Columns = 8;

template <int MR>
void avx2_tile(const Int8Rows& x, const int8_t* panel, const float* colsums, const float* wscale, const float* bias,
               float* y, size_t ldy, size_t q0, size_t columns) {
  __m256 acc[MR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) acc[i] = _mm256_setzero_ps();
  for (size_t g = 0; g < x.groups; ++g) {
    __m256i sum[MR][2];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) sum[i][0] = sum[i][1] = _mm256_setzero_si256();
    const int8_t* block = panel + g * kGroupBytes + q0 * 4;
    const int16_t* xg = x.q16 + g * kInt8Group;
    for (size_t quad = 0; quad < kQuads; ++quad) {
      const int8_t* wq = block + quad * kQuadBytes;
      // columns q0..q0+3 and q0+4..q0+7, 4 values of K each, as int16
      const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wq)));
      const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(wq + 16)));
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) {
        int64_t four;
        std::memcpy(&four, xg + i * x.ld + quad * 4, sizeof four);
        const __m256i xv = _mm256_set1_epi64x(four);
        sum[i][0] = _mm256_add_epi32(sum[i][0], _mm256_madd_epi16(xv, w0));
        sum[i][1] = _mm256_add_epi32(sum[i][1], _mm256_madd_epi16(xv, w1));
      }
    }
    // Pair sums -> one int32 per column (hadd interleaves the 128-bit
    // lanes: columns 0 1 4 5 | 2 3 6 7, which the permute puts in order).
    const __m256 cs = _mm256_loadu_ps(colsums + g * kInt8PanelColumns + q0);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) {
      const __m256i s = _mm256_permute4x64_epi64(_mm256_hadd_epi32(sum[i][0], sum[i][1]), 0xD8);
      acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(x.scale[i * x.groups + g]), _mm256_cvtepi32_ps(s), acc[i]);
      acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(x.min[i * x.groups + g]), cs, acc[i]);
    }
  }
  const __m256i mask = simd::lanes_below(columns);
  const __m256 ws = _mm256_maskload_ps(wscale, mask), b = _mm256_maskload_ps(bias, mask);
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) _mm256_maskstore_ps(y + i * ldy, mask, _mm256_fmadd_ps(acc[i], ws, b));
}

}  // namespace

void int8_gemm_avx2(const Int8Rows& x, size_t rows, const Int8Weights& w, const float* bias, float* y, size_t ldy,
                    size_t n0, size_t n1) {
  const size_t groups = int8_groups(w.k);
  for (size_t c0 = n0; c0 < n1; c0 += kInt8PanelColumns) {
    const size_t p = c0 / kInt8PanelColumns;
    const int8_t* panel = w.panels + p * groups * kGroupBytes;
    const float* colsums = w.colsums + p * groups * kInt8PanelColumns;
    for (size_t q0 = 0; q0 < kInt8PanelColumns && c0 + q0 < n1; q0 += kAvx2Columns) {
      const size_t c = c0 + q0, columns = std::min(kAvx2Columns, n1 - c);
      size_t m = 0;
      for (; m + kAvx2Rows <= rows; m += kAvx2Rows)
        avx2_tile<kAvx2Rows>(x.from(m), panel, colsums, w.scales + c, bias + c, y + m * ldy + c, ldy, q0, columns);
      switch (rows - m) {
        case 3: avx2_tile<3>(x.from(m), panel, colsums, w.scales + c, bias + c, y + m * ldy + c, ldy, q0, columns); break;
        case 2: avx2_tile<2>(x.from(m), panel, colsums, w.scales + c, bias + c, y + m * ldy + c, ldy, q0, columns); break;
        case 1: avx2_tile<1>(x.from(m), panel, colsums, w.scales + c, bias + c, y + m * ldy + c, ldy, q0, columns); break;
        default: break;
      }
    }
  }
}

// ---- AVX512-VNNI: VPDPBUSD ---------------------------------------------------
// Runs only where int8_vnni512_supported(); the only AVX-512 code of this
// file, using no library templates another file could share.
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,fma")

namespace {

// Rows of X per tile: 6 rows x 32 columns = 12 int32 and 12 f32
// accumulators, two vectors of W, a broadcast of X (27 of 32 registers).
constexpr int kVnniRows = 6;

template <int MR>
void vnni_tile(const Int8Rows& x, const int8_t* panel, const float* colsums, const float* wscale, const float* bias,
               float* y, size_t ldy, __mmask16 mask0, __mmask16 mask1) {
  __m512 acc[MR][2];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  for (size_t g = 0; g < x.groups; ++g) {
    __m512i sum[MR][2];
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) sum[i][0] = sum[i][1] = _mm512_setzero_si512();
    const int8_t* block = panel + g * kGroupBytes;
    const uint8_t* xg = x.q + g * kInt8Group;
#pragma GCC unroll 2
    for (size_t quad = 0; quad < kQuads; ++quad) {
      const __m512i w0 = _mm512_loadu_si512(block + quad * kQuadBytes);
      const __m512i w1 = _mm512_loadu_si512(block + quad * kQuadBytes + 64);
#pragma GCC unroll 6
      for (int i = 0; i < MR; ++i) {
        int32_t four;
        std::memcpy(&four, xg + i * x.ld + quad * 4, sizeof four);
        const __m512i xv = _mm512_set1_epi32(four);
        sum[i][0] = _mm512_dpbusd_epi32(sum[i][0], xv, w0);
        sum[i][1] = _mm512_dpbusd_epi32(sum[i][1], xv, w1);
      }
    }
    const __m512 cs0 = _mm512_loadu_ps(colsums + g * kInt8PanelColumns);
    const __m512 cs1 = _mm512_loadu_ps(colsums + g * kInt8PanelColumns + 16);
    // (maskz_ with all lanes: the plain conversion's undefined-source form
    // trips GCC 12's -Wmaybe-uninitialized; the instruction is the same)
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m512 s = _mm512_set1_ps(x.scale[i * x.groups + g]), mn = _mm512_set1_ps(x.min[i * x.groups + g]);
      acc[i][0] = _mm512_fmadd_ps(mn, cs0, _mm512_fmadd_ps(s, _mm512_maskz_cvtepi32_ps(0xffff, sum[i][0]), acc[i][0]));
      acc[i][1] = _mm512_fmadd_ps(mn, cs1, _mm512_fmadd_ps(s, _mm512_maskz_cvtepi32_ps(0xffff, sum[i][1]), acc[i][1]));
    }
  }
  const __m512 ws0 = _mm512_maskz_loadu_ps(mask0, wscale), ws1 = _mm512_maskz_loadu_ps(mask1, wscale + 16);
  const __m512 b0 = _mm512_maskz_loadu_ps(mask0, bias), b1 = _mm512_maskz_loadu_ps(mask1, bias + 16);
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    _mm512_mask_storeu_ps(y + i * ldy, mask0, _mm512_fmadd_ps(acc[i][0], ws0, b0));
    _mm512_mask_storeu_ps(y + i * ldy + 16, mask1, _mm512_fmadd_ps(acc[i][1], ws1, b1));
  }
}

}  // namespace

void int8_gemm_vnni512(const Int8Rows& x, size_t rows, const Int8Weights& w, const float* bias, float* y, size_t ldy,
                       size_t n0, size_t n1) {
  const size_t groups = int8_groups(w.k);
  for (size_t c0 = n0; c0 < n1; c0 += kInt8PanelColumns) {
    const size_t p = c0 / kInt8PanelColumns, columns = std::min(kInt8PanelColumns, n1 - c0);
    const __mmask16 mask0 = first_lanes16(columns), mask1 = first_lanes16(columns > 16 ? columns - 16 : 0);
    const int8_t* panel = w.panels + p * groups * kGroupBytes;
    const float* colsums = w.colsums + p * groups * kInt8PanelColumns;
    const float *ws = w.scales + c0, *b = bias + c0;
    size_t m = 0;
    for (; m + kVnniRows <= rows; m += kVnniRows)
      vnni_tile<kVnniRows>(x.from(m), panel, colsums, ws, b, y + m * ldy + c0, ldy, mask0, mask1);
    float* out = y + m * ldy + c0;
    switch (rows - m) {
      case 5: vnni_tile<5>(x.from(m), panel, colsums, ws, b, out, ldy, mask0, mask1); break;
      case 4: vnni_tile<4>(x.from(m), panel, colsums, ws, b, out, ldy, mask0, mask1); break;
      case 3: vnni_tile<3>(x.from(m), panel, colsums, ws, b, out, ldy, mask0, mask1); break;
      case 2: vnni_tile<2>(x.from(m), panel, colsums, ws, b, out, ldy, mask0, mask1); break;
      case 1: vnni_tile<1>(x.from(m), panel, colsums, ws, b, out, ldy, mask0, mask1); break;
      default: break;
    }
  }
}

#pragma GCC pop_options

}  // namespace arrowembed::engine
