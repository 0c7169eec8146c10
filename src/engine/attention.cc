#include "engine/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/f32_gemm.h"
#include "engine/matrix_kernel.h"
#include "engine/simd.h"
#include "engine/thread_pool.h"

namespace arrowembed::engine {

namespace {

// x = softmax(scale * x), scale > 0.
void softmax_inplace(float* x, size_t n, float scale) {
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  float max = simd::hmax(vmax);
  for (; i < n; ++i) max = std::max(max, x[i]);
  const __m256 m = _mm256_set1_ps(max), s = _mm256_set1_ps(scale);
  __m256 acc = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = simd::exp(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), m), s));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  float sum = simd::hsum(acc);
  if (i < n) {
    const size_t tail = n - i;
    // Padding lanes hold -inf so they contribute e^-inf = 0.
    alignas(32) float buf[8];
    for (size_t j = 0; j < 8; ++j) buf[j] = j < tail ? x[i + j] : -INFINITY;
    const __m256 e = simd::exp(_mm256_mul_ps(_mm256_sub_ps(_mm256_load_ps(buf), m), s));
    simd::store_partial(x + i, e, tail);
    sum += simd::hsum(e);
  }
  const float inv = 1.0f / sum;
  for (i = 0; i < n; ++i) x[i] *= inv;
}

// Sequences at least this long run their two products per head on the packed
// f32 kernels (f32_gemm.h);
// shorter ones go through attention_direct, whose score row lives on the stack.
constexpr size_t kGemmMinLength = 32;
constexpr size_t kMaxBlocks = (kGemmMinLength + 7) / 8;

// Lane r = qi . k[rows[r]..] over head_dim. Each key row has its own
// accumulator and one horizontal reduction sums all 8 at once.
__m256 dot8(const float* qi, const float* k, const size_t* rows, size_t head_dim, __m256i tail_mask) {
  __m256 acc[8];
  for (auto& a : acc) a = _mm256_setzero_ps();
  size_t c = 0;
  for (; c + 8 <= head_dim; c += 8) {
    const __m256 qc = _mm256_loadu_ps(qi + c);
    for (size_t r = 0; r < 8; ++r) acc[r] = _mm256_fmadd_ps(qc, _mm256_loadu_ps(k + rows[r] + c), acc[r]);
  }
  if (c < head_dim) {
    const __m256 qc = _mm256_maskload_ps(qi + c, tail_mask);
    for (size_t r = 0; r < 8; ++r) acc[r] = _mm256_fmadd_ps(qc, _mm256_maskload_ps(k + rows[r] + c, tail_mask), acc[r]);
  }
  const __m256 t0 = _mm256_hadd_ps(acc[0], acc[1]), t1 = _mm256_hadd_ps(acc[2], acc[3]);
  const __m256 t2 = _mm256_hadd_ps(acc[4], acc[5]), t3 = _mm256_hadd_ps(acc[6], acc[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// out[0, 8 * N) = inv * sum_j w[j] v[j * hidden + 0 .. 8 * N): each weight is
// broadcast once for N vectors of v, and even and odd j go to separate sums
// so that the multiply-adds do not wait on each other.
template <size_t N>
void weighted_sum(const float* w, const float* v, size_t len, size_t hidden, __m256 inv, float* out) {
  __m256 even[N], odd[N];
  for (size_t c = 0; c < N; ++c) even[c] = odd[c] = _mm256_setzero_ps();
  size_t j = 0;
  for (; j + 2 <= len; j += 2) {
    const __m256 w0 = _mm256_broadcast_ss(w + j), w1 = _mm256_broadcast_ss(w + j + 1);
    for (size_t c = 0; c < N; ++c) even[c] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(v + j * hidden + 8 * c), even[c]);
    for (size_t c = 0; c < N; ++c) odd[c] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(v + (j + 1) * hidden + 8 * c), odd[c]);
  }
  if (j < len) {
    const __m256 w0 = _mm256_broadcast_ss(w + j);
    for (size_t c = 0; c < N; ++c) even[c] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(v + j * hidden + 8 * c), even[c]);
  }
  for (size_t c = 0; c < N; ++c) _mm256_storeu_ps(out + 8 * c, _mm256_mul_ps(_mm256_add_ps(even[c], odd[c]), inv));
}

// The same for the last head_dim % 8 columns.
void weighted_sum_tail(const float* w, const float* v, size_t len, size_t hidden, __m256 inv, __m256i mask, float* out) {
  __m256 even = _mm256_setzero_ps(), odd = even;
  size_t j = 0;
  for (; j + 2 <= len; j += 2) {
    even = _mm256_fmadd_ps(_mm256_broadcast_ss(w + j), _mm256_maskload_ps(v + j * hidden, mask), even);
    odd = _mm256_fmadd_ps(_mm256_broadcast_ss(w + j + 1), _mm256_maskload_ps(v + (j + 1) * hidden, mask), odd);
  }
  if (j < len) even = _mm256_fmadd_ps(_mm256_broadcast_ss(w + j), _mm256_maskload_ps(v + j * hidden, mask), even);
  _mm256_maskstore_ps(out, mask, _mm256_mul_ps(_mm256_add_ps(even, odd), inv));
}

// Heads [head_begin, head_end) of one sequence shorter than kGemmMinLength,
// query by query: q and ctx are then read and written in order, and the
// first query streams through k and v, which stay in cache for the others.
// For a query, the scores of up to kHeadGroup heads are computed, then
// their softmaxes, then their weighted sums of values: each step's heads
// are independent of each other, so the core overlaps them. The scores of
// a head fit in a few vectors; lanes past len hold -inf so that they vanish
// in the softmax, and 1/sum scales the weighted sum once instead of every
// weight.
constexpr size_t kHeadGroup = 16;

void attention_direct(const float* q, const float* k, const float* v, float* ctx, size_t len, size_t hidden,
                      size_t head_dim, size_t head_begin, size_t head_end, float scale) {
  const size_t blocks = (len + 7) / 8;
  // Key row offsets per block of 8; the last block repeats the last key in
  // its spare lanes, which the -inf mask then discards.
  size_t rows[kMaxBlocks][8];
  for (size_t b = 0; b < blocks; ++b)
    for (size_t r = 0; r < 8; ++r) rows[b][r] = std::min(b * 8 + r, len - 1) * hidden;
  const __m256i valid = simd::lanes_below(len - (blocks - 1) * 8);
  const __m256i tail_mask = simd::lanes_below(head_dim % 8);
  const size_t full = head_dim / 8 * 8;
  const __m256 vscale = _mm256_set1_ps(scale), neg_inf = _mm256_set1_ps(-INFINITY);
  alignas(32) float w[kHeadGroup][kMaxBlocks * 8];
  float inv[kHeadGroup];
  for (size_t i = 0; i < len; ++i) {
    for (size_t h0 = head_begin; h0 < head_end; h0 += kHeadGroup) {
      const size_t group = std::min(kHeadGroup, head_end - h0);
      for (size_t g = 0; g < group; ++g) {
        const size_t offset = (h0 + g) * head_dim;
        for (size_t b = 0; b < blocks; ++b) {
          __m256 s = _mm256_mul_ps(dot8(q + i * hidden + offset, k + offset, rows[b], head_dim, tail_mask), vscale);
          if (b + 1 == blocks) s = _mm256_blendv_ps(neg_inf, s, _mm256_castsi256_ps(valid));
          _mm256_store_ps(w[g] + 8 * b, s);
        }
      }
      for (size_t g = 0; g < group; ++g) {
        __m256 vmax = _mm256_load_ps(w[g]);
        for (size_t b = 1; b < blocks; ++b) vmax = _mm256_max_ps(vmax, _mm256_load_ps(w[g] + 8 * b));
        const __m256 m = _mm256_set1_ps(simd::hmax(vmax));
        __m256 sum = _mm256_setzero_ps();
        for (size_t b = 0; b < blocks; ++b) {
          const __m256 e = simd::exp(_mm256_sub_ps(_mm256_load_ps(w[g] + 8 * b), m));
          _mm256_store_ps(w[g] + 8 * b, e);
          sum = _mm256_add_ps(sum, e);
        }
        inv[g] = 1.0f / simd::hsum(sum);
      }
      for (size_t g = 0; g < group; ++g) {
        const size_t offset = (h0 + g) * head_dim;
        const float* vh = v + offset;
        float* out = ctx + i * hidden + offset;
        const __m256 scale_g = _mm256_set1_ps(inv[g]);
        size_t c = 0;
        for (; c + 32 <= full; c += 32) weighted_sum<4>(w[g], vh + c, len, hidden, scale_g, out + c);
        switch ((full - c) / 8) {
          case 3: weighted_sum<3>(w[g], vh + c, len, hidden, scale_g, out + c); break;
          case 2: weighted_sum<2>(w[g], vh + c, len, hidden, scale_g, out + c); break;
          case 1: weighted_sum<1>(w[g], vh + c, len, hidden, scale_g, out + c); break;
          default: break;
        }
        if (full < head_dim) weighted_sum_tail(w[g], vh + full, len, hidden, scale_g, tail_mask, out + full);
      }
    }
  }
}

// Per-thread buffers of attention_gemm.
struct GemmBuffers {
  std::vector<float> q, packed, zeros, scores;
};

// One head of one sequence of at least kGemmMinLength tokens, on the engine's
// own packed f32 kernels (the same the linear layers use; packing K and V
// costs len x head_dim copies): scores = Q K^T, softmax(scale * scores),
// ctx = P V.
void attention_gemm(const float* q, const float* k, const float* v, float* ctx, size_t len, size_t hidden,
                    size_t head_dim, float scale, bool avx512, GemmBuffers& b) {
  const size_t panel = avx512 ? kF32Avx512PanelColumns : kF32PanelColumns;
  auto gemm = avx512 ? f32_gemm_avx512 : f32_gemm;
  b.q.resize(len * head_dim);
  for (size_t i = 0; i < len; ++i) std::copy_n(q + i * hidden, head_dim, b.q.data() + i * head_dim);
  if (b.zeros.size() < std::max(len, head_dim)) b.zeros.resize(std::max(len, head_dim), 0.0f);  // the kernels add a bias
  // scores = Q K^T: K's rows are the product's "weights" [len, head_dim]
  b.packed.resize(f32_packed_size(len, head_dim, panel));
  f32_pack_weights(k, len, head_dim, b.packed.data(), panel, hidden);
  b.scores.resize(len * len);
  gemm(b.q.data(), len, head_dim, b.packed.data(), b.zeros.data(), b.scores.data(), len, 0, len);
  for (size_t i = 0; i < len; ++i) softmax_inplace(b.scores.data() + i * len, len, scale);
  // ctx = P V: the "weights" are V^T [head_dim, len], whose panels are V's rows
  b.packed.resize(f32_packed_size(head_dim, len, panel));
  for (size_t c0 = 0; c0 < head_dim; c0 += panel) {
    const size_t width = std::min(panel, head_dim - c0);
    float* dst = b.packed.data() + (c0 / panel) * len * panel;
    for (size_t kk = 0; kk < len; ++kk) {
      std::copy_n(v + kk * hidden + c0, width, dst + kk * panel);
      std::fill(dst + kk * panel + width, dst + (kk + 1) * panel, 0.0f);  // the last panel's padding
    }
  }
  gemm(b.scores.data(), len, len, b.packed.data(), b.zeros.data(), ctx, hidden, 0, head_dim);
}

// A parallel task: heads [head_begin, head_end) of one sequence.
struct Task {
  size_t sequence, head_begin, head_end;
};

}  // namespace

void self_attention(const float* q, const float* k, const float* v, float* ctx, const PackedBatch& batch,
                    size_t num_heads, size_t head_dim, ThreadPool& pool) {
  const size_t hidden = num_heads * head_dim;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const bool avx512 = widest_isa() == Isa::Avx512;
  // A short sequence's heads take a few microseconds in all, so they make
  // one task, unless the batch has too few sequences to keep every thread busy.
  const bool group_heads = batch.num_sequences() >= 4 * pool.size();
  // Not captured by the lambda below as a thread_local: workers must see this thread's list.
  thread_local std::vector<Task> task_buffer;
  std::vector<Task>& tasks = task_buffer;
  tasks.clear();
  for (size_t s = 0; s < batch.num_sequences(); ++s) {
    if (group_heads && batch.length(s) < kGemmMinLength) {
      tasks.push_back({s, 0, num_heads});
    } else {
      for (size_t h = 0; h < num_heads; ++h) tasks.push_back({s, h, h + 1});
    }
  }
  pool.parallel_for(tasks.size(), [&](size_t t) {
    const Task& task = tasks[t];
    const size_t len = batch.length(task.sequence), start = batch.starts[task.sequence] * hidden;
    if (len == 0) return;
    if (len < kGemmMinLength) {
      attention_direct(q + start, k + start, v + start, ctx + start, len, hidden, head_dim, task.head_begin,
                       task.head_end, scale);
      return;
    }
    thread_local GemmBuffers buffers;
    for (size_t h = task.head_begin; h < task.head_end; ++h) {
      const size_t offset = start + h * head_dim;
      attention_gemm(q + offset, k + offset, v + offset, ctx + offset, len, hidden, head_dim, scale, avx512,
                     buffers);
    }
  });
}

double attention_flops(const PackedBatch& batch, size_t hidden) {
  double total = 0;
  for (size_t s = 0; s < batch.num_sequences(); ++s) {
    const double len = static_cast<double>(batch.length(s));
    total += 2.0 * 2.0 * len * len * static_cast<double>(hidden);
  }
  return total;
}

}  // namespace arrowembed::engine
