#include "engine/linear.h"

#include <algorithm>
#include "arrowembed/error.h"
#include "engine/bf16_gemm.h"
#include "engine/f32_gemm.h"
#include "engine/simd.h"
#include "engine/small_gemm.h"
#include "engine/thread_pool.h"

namespace arrowembed::engine {

namespace {

// Up to this many rows the small-M kernel (small_gemm.h) runs, on W in
// place: it was 1.4-1.8x sgemm's texts/s on one short text per call
// (bench/results/small-gemm.md), and needs no packed copy of W.
constexpr size_t kSmallRows = 64;
// Tasks per thread: 2 lets a thread that started late take less of the
// work without many tiny tasks.
constexpr size_t kTasksPerThread = 2;
// Rows per task below which the packed paths split columns rather than rows.
constexpr size_t kMinRowsPerBlock = 32;

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
    packed_bf16_.resize(bf16_packed_size(out_, in_));
    bf16_pack_weights(f32_weights(widened), out_, in_, packed_bf16_.data());
  }
}

const float* Linear::f32_weights(std::vector<float>& widened) const {
  if (!weight_f16_) return static_cast<const float*>(weight_);
  widened.resize(out_ * in_);
  widen_f16_rows(static_cast<const uint16_t*>(weight_), widened.data(), widened.size());
  return widened.data();
}

void Linear::pack() const {
  if (packed_bf16_.empty()) f32_panels();
}

size_t Linear::packed_bytes() const {
  return packed_bf16_.size() * sizeof(uint16_t) + packed_f32_->panels.size() * sizeof(float);
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

const float* Linear::f32_panels() const {
  std::call_once(packed_f32_->once, [&] {
    std::vector<float> widened;
    packed_f32_->panels.resize(f32_packed_size(out_, in_));
    f32_pack_weights(f32_weights(widened), out_, in_, packed_f32_->panels.data());
  });
  return packed_f32_->panels.data();
}

void Linear::forward_packed(std::initializer_list<Job> jobs, const float* x, size_t rows, ThreadPool& pool,
                            Scratch& scratch, bool bf16) {
  const size_t in = jobs.begin()->layer->in_, ldx = bf16_row_stride(in), threads = pool.size();
  const uint16_t* xb = nullptr;
  if (bf16) {  // round the input once for all the products; in parallel when it is big
    scratch.rounded.resize(rows * ldx);
    uint16_t* rounded = scratch.rounded.data();
    const size_t round_tasks = rows >= 64 ? threads : 1, round_per = ceil_div(rows, round_tasks);
    pool.parallel_for(round_tasks, [&](size_t t) {
      const size_t r0 = t * round_per;
      if (r0 < rows) bf16_round_rows(x + r0 * in, std::min(round_per, rows - r0), in, rounded + r0 * ldx);
    });
    xb = rounded;
  } else {
    for (const Job& job : jobs) job.layer->f32_panels();  // pack here, not in one task while the others wait
  }
  const size_t panel_columns = bf16 ? kBf16PanelColumns : kF32PanelColumns;
  // Tasks: row blocks (each reads all of W, from L3) when there are many
  // rows; with few, ranges of panels, so both threads share W.
  const size_t target = threads * kTasksPerThread;
  const size_t row_blocks = std::clamp<size_t>(rows / kMinRowsPerBlock, 1, target);
  const size_t rows_per = ceil_div(rows, row_blocks);
  auto panels_per_task = [&](const Job& job) {
    const size_t panels = ceil_div(job.layer->out_, panel_columns);
    return ceil_div(panels, std::min(panels, ceil_div(target, row_blocks)));
  };
  auto panel_groups = [&](const Job& job) {
    return ceil_div(ceil_div(job.layer->out_, panel_columns), panels_per_task(job));
  };
  parallel_over_jobs(
      jobs, pool, [&](const Job& job) { return row_blocks * panel_groups(job); },
      [&](const Job& job, size_t i) {
        const Linear& layer = *job.layer;
        const size_t groups = panel_groups(job), columns = panels_per_task(job) * panel_columns;
        const size_t r0 = i / groups * rows_per, n0 = i % groups * columns;
        if (r0 >= rows) return;
        const size_t m = std::min(rows_per, rows - r0), n1 = std::min(layer.out_, n0 + columns);
        float* y = job.y + r0 * layer.out_;
        if (bf16)
          bf16_gemm(xb + r0 * ldx, m, in, layer.packed_bf16_.data(), layer.bias_, y, layer.out_, n0, n1);
        else
          f32_gemm(x + r0 * in, m, in, layer.f32_panels(), layer.bias_, y, layer.out_, n0, n1);
        if (job.activation == Activation::Gelu) gelu_block(y + n0, m, n1 - n0, layer.out_);
      });
}

void Linear::forward_shared(std::initializer_list<Job> jobs, const float* x, size_t rows, ThreadPool& pool,
                            Scratch& scratch) {
  if (rows == 0) return;
  const size_t in = jobs.begin()->layer->in_;
  bool all_bf16 = true;
  for (const Job& job : jobs) {
    if (job.layer->in_ != in) throw Error("Linear::forward_shared: the layers take inputs of different widths");
    all_bf16 = all_bf16 && !job.layer->packed_bf16_.empty();
  }
  if (all_bf16) return forward_packed(jobs, x, rows, pool, scratch, true);
  if (rows > small_rows_limit()) return forward_packed(jobs, x, rows, pool, scratch, false);
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
  forward_shared({{this, y, activation}}, x, rows, pool, scratch);
}

}  // namespace arrowembed::engine
