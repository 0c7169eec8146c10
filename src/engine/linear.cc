#include "engine/linear.h"

#include <algorithm>
#include <vector>

#include "arrowembed/error.h"
#include "engine/simd.h"
#include "engine/thread_pool.h"

namespace arrowembed::engine {

namespace {

// Tasks per thread: 2 lets a thread that started late take less of the
// work without many tiny tasks.
constexpr size_t kTasksPerThread = 2;
// Rows per task below which a product splits columns rather than rows.
constexpr size_t kMinRowsPerBlock = 32;

void gelu_block(float* y, size_t rows, size_t cols, size_t ld) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = y + r * ld;
    size_t c = 0;
    for (; c + 8 <= cols; c += 8) _mm256_storeu_ps(row + c, simd::gelu(_mm256_loadu_ps(row + c)));
    if (c < cols) simd::store_partial(row + c, simd::gelu(simd::load_partial(row + c, cols - c)), cols - c);
  }
}

size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

}  // namespace

Linear::Linear(const TensorView& weight, const TensorView& bias, MatmulPrecision precision, const TensorView* scale) {
  if (weight.shape.size() != 2 || bias.shape.size() != 1 || bias.shape[0] != weight.shape[0])
    throw Error("linear layer '" + weight.name + "': weight " + weight.shape_string() + " and bias " +
                bias.shape_string() + " do not fit");
  if (bias.dtype != DType::F32) throw Error("linear layer '" + bias.name + "': bias must be f32");
  out_ = static_cast<size_t>(weight.shape[0]);
  in_ = static_cast<size_t>(weight.shape[1]);
  kernel_ = make_matrix_kernel(weight, scale, bias.values<float>().data(), precision);
}

size_t Linear::small_rows_limit() { return kF32SmallRows; }

void Linear::forward_shared(std::initializer_list<Job> jobs, const float* x, size_t rows, ThreadPool& pool,
                            Scratch& scratch) {
  if (rows == 0) return;
  const MatrixKernel& first = *jobs.begin()->layer->kernel_;
  const size_t in = jobs.begin()->layer->in_;
  for (const Job& job : jobs) {
    if (job.layer->in_ != in) throw Error("Linear::forward_shared: the layers take inputs of different widths");
    if (job.layer->kernel_->input_form() != first.input_form())
      throw Error("Linear::forward_shared: the layers' kernels read their input in different forms");
    job.layer->kernel_->prepare_weights(rows);
  }
  scratch.rows = rows;
  first.prepare_input(x, rows, scratch, pool);

  // Tasks: row blocks (each reads all of W, from L3) when there are many
  // rows; with few, ranges of columns, so the threads share W.
  const size_t target = pool.size() * kTasksPerThread;
  const size_t row_blocks = first.columns_only(rows) ? 1 : std::clamp<size_t>(rows / kMinRowsPerBlock, 1, target);
  const size_t rows_per = ceil_div(rows, row_blocks);
  auto columns_per_task = [&](const Linear& layer) {
    const size_t step = layer.kernel_->column_step(rows), steps = ceil_div(layer.out_, step);
    return ceil_div(steps, std::min(steps, ceil_div(target, row_blocks))) * step;
  };
  // One parallel loop over every job's tasks: row_blocks x column ranges each.
  std::vector<size_t> first_task{0};  // each job's first task, then the total
  for (const Job& job : jobs)
    first_task.push_back(first_task.back() + row_blocks * ceil_div(job.layer->out_, columns_per_task(*job.layer)));
  pool.parallel_for(first_task.back(), [&](size_t t) {
    const size_t j = static_cast<size_t>(std::upper_bound(first_task.begin(), first_task.end(), t) -
                                         first_task.begin()) - 1;
    const Job& job = jobs.begin()[j];
    const Linear& layer = *job.layer;
    const size_t columns = columns_per_task(layer), ranges = ceil_div(layer.out_, columns), i = t - first_task[j];
    const size_t r0 = i / ranges * rows_per, n0 = i % ranges * columns;
    if (r0 >= rows) return;
    const size_t m = std::min(rows_per, rows - r0), n1 = std::min(layer.out_, n0 + columns);
    layer.kernel_->compute(x, scratch, r0, m, job.y, n0, n1);
    if (job.activation == Activation::Gelu) gelu_block(job.y + r0 * layer.out_ + n0, m, n1 - n0, layer.out_);
  });
}

void Linear::forward(const float* x, size_t rows, float* y, Activation activation, ThreadPool& pool,
                     Scratch& scratch) const {
  forward_shared({{this, y, activation}}, x, rows, pool, scratch);
}

}  // namespace arrowembed::engine
