#include "engine/linear.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include "arrowembed/error.h"
#include "engine/bf16_gemm.h"
#include "engine/simd.h"
#include "engine/small_gemm.h"
#include "engine/thread_pool.h"

namespace arrowembed::engine {

namespace {

// Output columns per task when there are too few rows to split: enough
// work per sgemm call to amortise its overhead, small enough to balance.
constexpr size_t kColumnBlock = 64;
// Below this many rows per thread, splitting rows leaves sgemm too little
// to pack and the column split wins.
constexpr size_t kMinRowsPerTask = 32;

// Up to this many rows the small-M kernel (small_gemm.h) beats sgemm, whose
// packing of W then costs more than the product (bench/results/small-gemm.md:
// 1.4-1.8x the texts/s of one short text per call; on batches of 32 and 128
// short texts, ~500 and ~2,000 rows, sgemm's packed kernel was faster).
constexpr size_t kSmallRows = 64;
// Column tasks per thread on the small-M path: 2 lets a thread that started
// late take less of the work without many tiny tasks.
constexpr size_t kTasksPerThread = 2;

void widen_f16_rows(const uint16_t* src, float* dst, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}

void gelu_block(float* y, size_t rows, size_t cols, size_t ld) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = y + r * ld;
    size_t c = 0;
    for (; c + 8 <= cols; c += 8) _mm256_storeu_ps(row + c, simd::gelu(_mm256_loadu_ps(row + c)));
    if (c < cols) simd::store_partial(row + c, simd::gelu(simd::load_partial(row + c, cols - c)), cols - c);
  }
}

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

// One parallel loop over the tasks of several products: tasks_of(job) tasks
// for each job, fn(job, i) for each i < tasks_of(job).
template <typename TasksOf, typename Fn>
void parallel_over_jobs(std::initializer_list<Linear::Job> jobs, ThreadPool& pool, TasksOf tasks_of, Fn fn) {
  std::vector<size_t> first{0};  // each job's first task, then the total
  for (const Linear::Job& job : jobs) first.push_back(first.back() + tasks_of(job));
  pool.parallel_for(first.back(), [&](size_t t) {
    const size_t j = static_cast<size_t>(std::upper_bound(first.begin(), first.end(), t) - first.begin()) - 1;
    fn(jobs.begin()[j], t - first[j]);
  });
}

}  // namespace

Linear::Linear(const TensorView& weight, const TensorView& bias, MatmulPrecision precision) {
  if (weight.shape.size() != 2 || bias.shape.size() != 1 || bias.shape[0] != weight.shape[0])
    throw Error("linear layer '" + weight.name + "': weight " + weight.shape_string() + " and bias " +
                bias.shape_string() + " do not fit");
  if (bias.dtype != DType::F32) throw Error("linear layer '" + bias.name + "': bias must be f32");
  if (weight.dtype != DType::F32 && weight.dtype != DType::F16)
    throw Error("linear layer '" + weight.name + "': weight must be f32 or f16");
  weight_ = weight.data;
  weight_f16_ = weight.dtype == DType::F16;
  bias_ = bias.values<float>().data();
  out_ = static_cast<size_t>(weight.shape[0]);
  in_ = static_cast<size_t>(weight.shape[1]);
  if (precision == MatmulPrecision::BF16) {
    if (!bf16_supported()) throw Error("bf16 precision needs a CPU with AVX512-BF16 (e.g. AMD Zen 4, Intel Sapphire Rapids); use f32");
    std::vector<float> widened;
    const float* w = static_cast<const float*>(weight_);
    if (weight_f16_) {
      widened.resize(out_ * in_);
      widen_f16_rows(static_cast<const uint16_t*>(weight_), widened.data(), widened.size());
      w = widened.data();
    }
    packed_bf16_.resize(bf16_packed_size(out_, in_));
    bf16_pack_weights(w, out_, in_, packed_bf16_.data());
  }
}

size_t Linear::small_rows_limit() { return kSmallRows; }

size_t Linear::small_chunk_columns(size_t threads) const {
  const size_t tasks = std::max<size_t>(1, std::min(threads * kTasksPerThread, (out_ + 3) / 4));
  return ((out_ + tasks - 1) / tasks + 3) / 4 * 4;  // whole 4-column tiles
}

void Linear::forward_small(const float* x, size_t rows, float* y, Activation activation, size_t n0, size_t n1) const {
  if (weight_f16_)
    small_gemm_f16(x, rows, in_, static_cast<const uint16_t*>(weight_), bias_, y, out_, n0, n1, n1);
  else
    small_gemm_f32(x, rows, in_, static_cast<const float*>(weight_), bias_, y, out_, n0, n1, n1);
  if (activation == Activation::Gelu) gelu_block(y + n0, rows, n1 - n0, out_);
}

void Linear::forward_bf16(std::initializer_list<Job> jobs, const float* x, size_t rows, ThreadPool& pool,
                          Scratch& scratch) {
  const size_t in = jobs.begin()->layer->in_, ldx = bf16_row_stride(in), threads = pool.size();
  // Round the input once for all the products; in parallel when it is big.
  scratch.rounded.resize(rows * ldx);
  uint16_t* xb = scratch.rounded.data();
  const size_t round_tasks = rows >= 64 ? threads : 1, round_per = ceil_div(rows, round_tasks);
  pool.parallel_for(round_tasks, [&](size_t t) {
    const size_t r0 = t * round_per;
    if (r0 < rows) bf16_round_rows(x + r0 * in, std::min(round_per, rows - r0), in, xb + r0 * ldx);
  });
  // Tasks: row blocks (each reads all of W, from L3) when there are many
  // rows; with few, ranges of 32-column panels, so both threads share W.
  const size_t target = threads * kTasksPerThread;
  const size_t row_blocks = std::clamp<size_t>(rows / 32, 1, target);
  const size_t rows_per = ceil_div(rows, row_blocks);
  auto panels_per_task = [&](const Job& job) {
    const size_t panels = ceil_div(job.layer->out_, kBf16PanelColumns);
    return ceil_div(panels, std::min(panels, ceil_div(target, row_blocks)));
  };
  auto panel_groups = [&](const Job& job) {
    return ceil_div(ceil_div(job.layer->out_, kBf16PanelColumns), panels_per_task(job));
  };
  parallel_over_jobs(
      jobs, pool, [&](const Job& job) { return row_blocks * panel_groups(job); },
      [&](const Job& job, size_t i) {
        const Linear& layer = *job.layer;
        const size_t groups = panel_groups(job), columns = panels_per_task(job) * kBf16PanelColumns;
        const size_t r0 = i / groups * rows_per, n0 = i % groups * columns;
        if (r0 >= rows) return;
        const size_t m = std::min(rows_per, rows - r0), n1 = std::min(layer.out_, n0 + columns);
        float* y = job.y + r0 * layer.out_;
        bf16_gemm(xb + r0 * ldx, m, in, layer.packed_bf16_.data(), layer.bias_, y, layer.out_, n0, n1);
        if (job.activation == Activation::Gelu) gelu_block(y + n0, m, n1 - n0, layer.out_);
      });
}

void Linear::forward_shared(std::initializer_list<Job> jobs, const float* x, size_t rows, ThreadPool& pool,
                            Scratch& scratch) {
  if (rows == 0) return;
  bool all_bf16 = true;
  for (const Job& job : jobs) all_bf16 = all_bf16 && !job.layer->packed_bf16_.empty() && job.layer->in_ == jobs.begin()->layer->in_;
  if (all_bf16) return forward_bf16(jobs, x, rows, pool, scratch);
  if (rows > small_rows_limit()) {
    for (const Job& job : jobs) job.layer->forward(x, rows, job.y, job.activation, pool, scratch);
    return;
  }
  // Column chunks of every layer, back to back, in one loop.
  const size_t threads = pool.size();
  parallel_over_jobs(
      jobs, pool, [&](const Job& job) { return ceil_div(job.layer->out_, job.layer->small_chunk_columns(threads)); },
      [&](const Job& job, size_t i) {
        const size_t chunk = job.layer->small_chunk_columns(threads), n0 = i * chunk;
        job.layer->forward_small(x, rows, job.y, job.activation, n0, std::min(job.layer->out_, n0 + chunk));
      });
}

void Linear::forward(const float* x, size_t rows, float* y, Activation activation, ThreadPool& pool,
                     Scratch& scratch) const {
  if (rows == 0) return;
  // bf16 and few-row products: the same loops as for several layers.
  if (!packed_bf16_.empty() || rows <= small_rows_limit())
    return forward_shared({{this, y, activation}}, x, rows, pool, scratch);
  const float* w = static_cast<const float*>(weight_);
  if (weight_f16_) {
    scratch.widened.resize(out_ * in_);
    const auto* src = static_cast<const uint16_t*>(weight_);
    pool.parallel_for((out_ + kColumnBlock - 1) / kColumnBlock, [&](size_t b) {
      const size_t n0 = b * kColumnBlock, n = std::min(kColumnBlock, out_ - n0);
      widen_f16_rows(src + n0 * in_, scratch.widened.data() + n0 * in_, n * in_);
    });
    w = scratch.widened.data();
  }
  // One rectangle of the output: bias, product, activation.
  auto run = [&](size_t r0, size_t r, size_t n0, size_t n) {
    for (size_t i = 0; i < r; ++i) std::memcpy(y + (r0 + i) * out_ + n0, bias_ + n0, n * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<blasint>(r), static_cast<blasint>(n),
                static_cast<blasint>(in_), 1.0f, x + r0 * in_, static_cast<blasint>(in_), w + n0 * in_,
                static_cast<blasint>(in_), 1.0f, y + r0 * out_ + n0, static_cast<blasint>(out_));
    if (activation == Activation::Gelu) gelu_block(y + r0 * out_ + n0, r, n, out_);
  };
  const size_t threads = pool.size();
  if (rows >= kMinRowsPerTask * threads) {
    const size_t tasks = threads, per = (rows + tasks - 1) / tasks;
    pool.parallel_for(tasks, [&](size_t t) {
      const size_t r0 = t * per;
      if (r0 < rows) run(r0, std::min(per, rows - r0), 0, out_);
    });
  } else {
    pool.parallel_for((out_ + kColumnBlock - 1) / kColumnBlock, [&](size_t b) {
      const size_t n0 = b * kColumnBlock;
      run(0, rows, n0, std::min(kColumnBlock, out_ - n0));
    });
  }
}

}  // namespace arrowembed::engine
