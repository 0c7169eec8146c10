#include "engine/small_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace arrowembed::engine {

namespace {

// Rows of X and rows of W per register tile: 3 x 4 = 12 accumulators, plus
// 3 registers of X and one of W per step of K (16 ymm registers in all).
constexpr int kTileRows = 3;
constexpr int kTileCols = 4;

inline __m256 load_w(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load_w(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// Lanes [0, n) set, for the last n < 8 elements of K.
inline __m256i tail_mask(size_t n) {
  static const int32_t table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + 8 - n));
}
inline __m256 load_w_tail(const float* p, size_t n, __m256i mask) {
  (void)n;
  return _mm256_maskload_ps(p, mask);
}
inline __m256 load_w_tail(const uint16_t* p, size_t n, __m256i) {
  alignas(16) uint16_t buf[8] = {};
  std::memcpy(buf, p, n * sizeof(uint16_t));
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(buf)));
}

// The four sums of a[0..3], in one register: [sum a0, sum a1, sum a2, sum a3].
inline __m128 reduce4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

inline float hsum(__m256 v) {
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

// Bytes of one cache line, and elements of W per line.
constexpr size_t kLine = 64;

// Tiles of W ahead that the first group of rows of X prefetches (see
// column_tile), by number of groups of rows.
// Fewer groups compute a tile faster, so they prefetch further ahead to
// cover the same memory latency.
inline size_t prefetch_tiles_ahead(size_t groups) { return groups >= 4 ? 1 : groups >= 2 ? 2 : 4; }

// 8 elements of K: acc[i][j] += x[i, kk:kk+8] * w[j, kk:kk+8] (rows `ld` apart).
template <int MR, int NR, typename W>
inline void step(__m256 (&acc)[MR][NR], const float* x, const W* w, size_t ld, size_t kk) {
  __m256 xv[MR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) xv[i] = _mm256_loadu_ps(x + i * ld + kk);
#pragma GCC unroll 4
  for (int j = 0; j < NR; ++j) {
    const __m256 wv = load_w(w + j * ld + kk);
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
  }
}

// Elements of K per pass over the tiles: with K = 1536 (the FFN output)
// a 4-row tile of W in f32 is 24 KiB and would push X out of L1; blocks of
// 384 keep tile and rows of X in L1 together (the later blocks add to y).
constexpr size_t kKBlock = 384;
// Into L2 (on Zen 4 a T0 prefetch, which also fills L1, measured slower: the
// lines of the tile being computed are what L1 should hold).
inline void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T1); }

// What every tile of one call shares: X and W have rows `ld` elements apart
// and the tiles cover the `len` elements of K from where x and w point; the
// sums go to y (rows `ldy` apart), added to the bias, or with `accumulate`
// to what y holds (the later blocks of K).
struct Block {
  const float* x;
  size_t ld, len;
  const float* bias;
  bool accumulate;
  float* y;
  size_t ldy;
};

// y[i, j] (+)= x[i, :] . w[j, :] for i < MR, j < NR, with x, y at row `m`.
// With PF, also prefetches, for each row j of the tile in the bit set
// `pf_rows`, the row `pf` elements further in W over the same span of K
// (one prefetch per cache line).
template <int MR, int NR, bool PF, typename W>
inline void tile(const Block& b, size_t m, const W* w, size_t n, size_t pf, unsigned pf_rows) {
  constexpr size_t kPerLine = kLine / sizeof(W);  // 16 f32 or 32 f16: 2 or 4 steps
  const float* x = b.x + m * b.ld;
  const size_t ld = b.ld, len = b.len;
  __m256 acc[MR][NR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
  size_t kk = 0;
  for (; kk + 8 <= len; kk += 8) {
    // (Not unrolled by cache line: GCC then trades registers of X for
    // memory operands, which makes the loop load-bound.)
    if constexpr (PF) {
      if (kk % kPerLine == 0)
#pragma GCC unroll 4
        for (int j = 0; j < NR; ++j)
          if (pf_rows & (1u << j)) prefetch(w + j * ld + kk + pf);
    }
    step(acc, x, w, ld, kk);
  }
  if (kk < len) {
    if constexpr (PF) {
      if (kk % kPerLine == 0)
#pragma GCC unroll 4
        for (int j = 0; j < NR; ++j)
          if (pf_rows & (1u << j)) prefetch(w + j * ld + kk + pf);
    }
    const size_t rest = len - kk;
    const __m256i mask = tail_mask(rest);
    __m256 xv[MR];
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i) xv[i] = _mm256_maskload_ps(x + i * ld + kk, mask);
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) {
      const __m256 wv = load_w_tail(w + j * ld + kk, rest, mask);
#pragma GCC unroll 4
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
    }
  }
  float* y = b.y + m * b.ldy + n;
  const float* base = b.bias + n;
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    if (b.accumulate) base = y + i * b.ldy;
    if constexpr (NR == 4) {
      const __m128 s = reduce4(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
      _mm_storeu_ps(y + i * b.ldy, _mm_add_ps(s, _mm_loadu_ps(base)));
    } else {
#pragma GCC unroll 4
      for (int j = 0; j < NR; ++j) y[i * b.ldy + j] = base[j] + hsum(acc[i][j]);
    }
  }
}

// Rows [m, m + MR) of X against the NR rows of W at `w` (output columns
// from n), prefetching for the g-th group of rows of X (see column_tile).
template <int MR, int NR, typename W>
inline void group(const Block& b, size_t m, const W* w, size_t n, size_t pf, size_t g, size_t prefetching_groups) {
  unsigned rows = 0;
  if (pf != 0 && g < prefetching_groups)
    for (size_t j = g; j < NR; j += prefetching_groups) rows |= 1u << j;
  if (rows)
    tile<MR, NR, true>(b, m, w, n, pf, rows);
  else
    tile<MR, NR, false>(b, m, w, n, 0, 0);
}

// Every row of X against the NR rows of W at `w`. W comes from memory
// (each call reads all of it once), so the groups of rows of X also
// prefetch the rows of W `pf` elements further on (0: none), spread over
// the first groups (one row of W each when there are 4 groups or more):
// the lines then arrive while this tile computes from L1.
template <int NR, typename W>
void column_tile(const Block& b, size_t rows, const W* w, size_t n, size_t pf) {
  const size_t groups = (rows + kTileRows - 1) / kTileRows;
  const size_t prefetching = std::min<size_t>(groups, NR);
  // Groups of 3 rows, then the rest: 2 rows, or 2 + 2 rather than 3 + 1 (a
  // 1-row tile loads a vector of W per multiply-add, and is load-bound).
  const size_t full = rows % kTileRows == 1 && rows > kTileRows ? rows / kTileRows - 1 : rows / kTileRows;
  size_t m = 0, g = 0;
  for (; g < full; m += kTileRows, ++g) group<kTileRows, NR>(b, m, w, n, pf, g, prefetching);
  for (; m + 2 <= rows; m += 2, ++g) group<2, NR>(b, m, w, n, pf, g, prefetching);
  if (m < rows) group<1, NR>(b, m, w, n, pf, g, prefetching);
}

template <typename W>
void small_gemm(const float* x, size_t rows, size_t k, const W* w, const float* bias, float* y, size_t ldy,
                size_t n0, size_t n1, size_t n_total) {
  if (rows == 0 || n0 >= n1) return;
  const size_t groups = (rows + kTileRows - 1) / kTileRows;
  const size_t ahead = prefetch_tiles_ahead(groups) * kTileCols;  // rows of W
  for (size_t k0 = 0; k0 < k; k0 += kKBlock) {
    const Block b{x + k0, k, std::min(kKBlock, k - k0), bias, k0 != 0, y, ldy};
    const W* wk = w + k0;
    size_t n = n0;
    for (; n + kTileCols <= n1; n += kTileCols) {
      const size_t pf = n + ahead + kTileCols <= n_total ? ahead * k : 0;
      column_tile<kTileCols>(b, rows, wk + n * k, n, pf);
    }
    switch (n1 - n) {
      case 3: column_tile<3>(b, rows, wk + n * k, n, 0); break;
      case 2: column_tile<2>(b, rows, wk + n * k, n, 0); break;
      case 1: column_tile<1>(b, rows, wk + n * k, n, 0); break;
      default: break;
    }
  }
}

}  // namespace

void small_gemm_f32(const float* x, size_t rows, size_t k, const float* w, const float* bias, float* y, size_t ldy,
                    size_t n0, size_t n1, size_t n_total) {
  small_gemm(x, rows, k, w, bias, y, ldy, n0, n1, n_total);
}

void small_gemm_f16(const float* x, size_t rows, size_t k, const uint16_t* w, const float* bias, float* y,
                    size_t ldy, size_t n0, size_t n1, size_t n_total) {
  small_gemm(x, rows, k, w, bias, y, ldy, n0, n1, n_total);
}

}  // namespace arrowembed::engine
