// The engine's kernels against plain scalar definitions.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "arrowembed/error.h"
#include "engine/attention.h"
#include "engine/batch_plan.h"
#include "engine/layer_ops.h"
#include "engine/linear.h"
#include "engine/pooling.h"
#include "engine/simd.h"
#include "engine/thread_pool.h"
#include "engine/kernel_test_util.h"
#include "format/half.h"

namespace arrowembed::engine {
namespace {

using test::random_vector;

TEST(Simd, ExpErfGeluMatchTheLibrary) {
  for (float x = -30.0f; x <= 30.0f; x += 0.01f) {
    alignas(32) float in[8], out[8];
    for (int i = 0; i < 8; ++i) in[i] = x + i * 0.00125f;
    _mm256_store_ps(out, simd::exp(_mm256_load_ps(in)));
    for (int i = 0; i < 8; ++i) ASSERT_NEAR(out[i], std::exp(in[i]), std::exp(in[i]) * 3e-7f) << in[i];
    _mm256_store_ps(out, simd::erf(_mm256_load_ps(in)));
    for (int i = 0; i < 8; ++i) ASSERT_NEAR(out[i], std::erf(in[i]), 2.5e-7f) << in[i];
    _mm256_store_ps(out, simd::gelu(_mm256_load_ps(in)));
    for (int i = 0; i < 8; ++i) {
      const double g = 0.5 * in[i] * (1.0 + std::erf(in[i] / std::sqrt(2.0)));
      ASSERT_NEAR(out[i], g, 2.5e-7 * std::max(1.0, std::fabs(double(in[i])))) << in[i];
    }
  }
  alignas(32) float big[8] = {-100, -88, 89, 100, 0, 1, -1, 50};
  alignas(32) float out[8];
  _mm256_store_ps(out, simd::exp(_mm256_load_ps(big)));
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_TRUE(std::isfinite(out[2]));
  EXPECT_EQ(out[4], 1.0f);
}

TEST(Simd, DotAndAxpyHandleTails) {
  for (size_t n : {1u, 7u, 8u, 15u, 16u, 17u, 33u, 384u}) {
    auto a = random_vector(n, 1), b = random_vector(n, 2);
    double want = 0;
    for (size_t i = 0; i < n; ++i) want += double(a[i]) * b[i];
    EXPECT_NEAR(simd::dot(a.data(), b.data(), n), want, 1e-4) << n;
    auto y = b;
    simd::axpy(0.5f, a.data(), y.data(), n);
    for (size_t i = 0; i < n; ++i) ASSERT_FLOAT_EQ(y[i], b[i] + 0.5f * a[i]);
  }
}

// y = x W^T + b (+ GELU) for f32 and f16 weights, odd sizes, several threads.
TEST(Linear, MatchesNaiveProduct) {
  ThreadPool pool(2);
  for (auto dtype : {DType::F32, DType::F16}) {
    for (size_t rows : {size_t{13}, size_t{130}}) {
    const size_t in = 40, out = 150;
    auto x = random_vector(rows * in, 3), w = random_vector(out * in, 4, 0.1f), b = random_vector(out, 5);
    std::vector<uint16_t> w16(w.size());
    half::f32_to_f16(w.data(), w16.data(), w.size());
    if (dtype == DType::F16) half::f16_to_f32(w16.data(), w.data(), w.size());  // what the kernel sees
    TensorView weight{"w", dtype, {int64_t(out), int64_t(in)}, dtype == DType::F16 ? (const void*)w16.data() : w.data()};
    TensorView bias{"b", DType::F32, {int64_t(out)}, b.data()};
    Linear linear(weight, bias);
    EXPECT_EQ(linear.in_features(), in);
    EXPECT_EQ(linear.out_features(), out);
    Linear::Scratch scratch;
    for (auto act : {Activation::None, Activation::Gelu}) {
      std::vector<float> y(rows * out);
      linear.forward(x.data(), rows, y.data(), act, pool, scratch);
      for (size_t r = 0; r < rows; ++r)
        for (size_t o = 0; o < out; ++o) {
          double acc = b[o];
          for (size_t i = 0; i < in; ++i) acc += double(x[r * in + i]) * w[o * in + i];
          if (act == Activation::Gelu) acc = 0.5 * acc * (1 + std::erf(acc / std::sqrt(2.0)));
          ASSERT_NEAR(y[r * out + o], acc, 1e-4) << r << "," << o;
        }
    }
  }
  }
  TensorView w{"w", DType::F32, {4, 3}, nullptr}, bad_bias{"b", DType::F32, {3}, nullptr};
  EXPECT_THROW(Linear(w, bad_bias), Error);
}

TEST(LayerOps, AddLayerNormMatchesDefinition) {
  ThreadPool pool(2);
  const size_t rows = 37, width = 20;
  auto x = random_vector(rows * width, 6), res = random_vector(rows * width, 7);
  auto gamma = random_vector(width, 8), beta = random_vector(width, 9);
  auto got = x;
  add_layer_norm(got.data(), res.data(), rows, width, gamma.data(), beta.data(), 1e-5f, pool);
  for (size_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (size_t i = 0; i < width; ++i) mean += x[r * width + i] + res[r * width + i];
    mean /= width;
    for (size_t i = 0; i < width; ++i) var += std::pow(x[r * width + i] + res[r * width + i] - mean, 2);
    var /= width;
    for (size_t i = 0; i < width; ++i) {
      const double want = (x[r * width + i] + res[r * width + i] - mean) / std::sqrt(var + 1e-5) * gamma[i] + beta[i];
      ASSERT_NEAR(got[r * width + i], want, 1e-5);
    }
  }
}

// self_attention on packed sequences of these lengths (q and k with
// standard deviation `scale`) against a double-precision reference,
// every output within `tolerance`; ctx starts as NaN so an output left
// unwritten fails.
void expect_attention_matches_reference(const std::vector<size_t>& lengths, size_t heads, size_t dim, size_t threads,
                                        uint32_t seed, float scale, double tolerance) {
  ThreadPool pool(threads);
  const size_t hidden = heads * dim;
  PackedBatch batch;
  batch.starts = {0};
  for (size_t len : lengths) batch.starts.push_back(batch.starts.back() + len);
  const size_t tokens = batch.starts.back();
  batch.ids.resize(tokens);
  auto q = random_vector(tokens * hidden, seed, scale), k = random_vector(tokens * hidden, seed + 1, scale);
  auto v = random_vector(tokens * hidden, seed + 2);
  std::vector<float> ctx(tokens * hidden, NAN);
  self_attention(q.data(), k.data(), v.data(), ctx.data(), batch, heads, dim, pool);
  for (size_t s = 0; s < batch.num_sequences(); ++s) {
    const size_t begin = batch.starts[s], end = batch.starts[s + 1];
    for (size_t h = 0; h < heads; ++h)
      for (size_t i = begin; i < end; ++i) {
        std::vector<double> p;
        double max = -1e300, sum = 0;
        for (size_t j = begin; j < end; ++j) {
          double d = 0;
          for (size_t c = 0; c < dim; ++c) d += double(q[i * hidden + h * dim + c]) * k[j * hidden + h * dim + c];
          p.push_back(d / std::sqrt(double(dim)));
          max = std::max(max, p.back());
        }
        for (auto& x : p) sum += (x = std::exp(x - max));
        for (size_t c = 0; c < dim; ++c) {
          double want = 0;
          for (size_t j = 0; j < p.size(); ++j) want += p[j] / sum * v[(begin + j) * hidden + h * dim + c];
          ASSERT_NEAR(ctx[i * hidden + h * dim + c], want, tolerance)
              << "len " << end - begin << " head " << h << " query " << i - begin << " dim " << c;
        }
      }
  }
}

TEST(Attention, MatchesNaiveSoftmaxAttentionPerSequence) {
  // lengths 1, 5, 20 (direct) and 50 (sgemm)
  expect_attention_matches_reference({1, 5, 20, 50}, 3, 10, 2, 10, 1.0f, 1e-5);
  PackedBatch batch;
  batch.starts = {0, 1, 6, 26, 76};
  batch.ids.resize(76);
  EXPECT_DOUBLE_EQ(attention_flops(batch, 30), 4.0 * 30 * (1 + 25 + 400 + 2500));
}

// Every kernel path (short sequences one head per task or all heads per
// task, key-block tails, head_dim tails, sgemm for long ones); scale 2
// spreads the scores so that the softmax is far from uniform.
TEST(Attention, EveryLengthHeadCountAndHeadDimMatchesDoubleReference) {
  const std::vector<size_t> lengths = {1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 128, 0, 5};
  for (size_t dim : {32u, 8u, 10u, 3u, 40u, 64u})
    for (size_t heads : {1u, 3u, 12u, 20u}) {
      SCOPED_TRACE(testing::Message() << "dim " << dim << " heads " << heads);
      // Many sequences (whole sequences per task) and few (one head per task).
      auto many = lengths;
      for (size_t len : lengths) many.push_back(len);
      expect_attention_matches_reference(many, heads, dim, 2, 100 + dim + heads, 2.0f, 2e-5);
      expect_attention_matches_reference({9}, heads, dim, 2, 200 + dim + heads, 2.0f, 2e-5);
      expect_attention_matches_reference({2, 31}, heads, dim, 1, 300 + dim + heads, 2.0f, 2e-5);
    }
}

TEST(Pooling, EveryModeOnAKnownMatrix) {
  const float tokens[] = {1, -2, 3, 4, 5, -6, 0, 8};  // 4 tokens x 2
  float out[2];
  pool_sequence(Pooling::Cls, tokens, 4, 2, out);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], -2);
  pool_sequence(Pooling::LastToken, tokens, 4, 2, out);
  EXPECT_EQ(out[1], 8);
  pool_sequence(Pooling::Max, tokens, 4, 2, out);
  EXPECT_EQ(out[0], 5);
  EXPECT_EQ(out[1], 8);
  pool_sequence(Pooling::Mean, tokens, 4, 2, out);
  EXPECT_FLOAT_EQ(out[0], 9.0f / 4);
  EXPECT_FLOAT_EQ(out[1], 4.0f / 4);
  pool_sequence(Pooling::MeanSqrtLen, tokens, 4, 2, out);
  EXPECT_FLOAT_EQ(out[0], 9.0f / 2);
  pool_sequence(Pooling::WeightedMean, tokens, 4, 2, out);
  EXPECT_FLOAT_EQ(out[0], (1 * 1 + 2 * 3 + 3 * 5 + 4 * 0) / 10.0f);
  pool_sequence(Pooling::Mean, tokens, 0, 2, out);
  EXPECT_EQ(out[0], 0);
  float v[3] = {3, 0, 4};
  l2_normalize(v, 3);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[2], 0.8f);
  float zero[2] = {0, 0};
  l2_normalize(zero, 2);
  EXPECT_EQ(zero[0], 0.0f);
  EXPECT_NO_THROW(require_supported(Pooling::WeightedMean));
}

TEST(BatchPlan, PacksUnderTheBudgetLongestFirst) {
  const std::vector<size_t> lengths = {5, 300, 10, 10, 7, 1000, 2};
  const auto groups = plan_batches(lengths, 20);
  std::vector<int> seen(lengths.size());
  for (const auto& g : groups) {
    size_t sum = 0;
    for (size_t i : g) sum += lengths[i], ++seen[i];
    EXPECT_TRUE(sum <= 20 || g.size() == 1);
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 7);
  EXPECT_EQ(groups[0], (std::vector<size_t>{5}));
  EXPECT_EQ(groups[1], (std::vector<size_t>{1}));
  EXPECT_TRUE(plan_batches({}, 10).empty());
}

// A batch just over the budget splits into two even passes, not a full one
// and a sliver.
TEST(BatchPlan, SplitsEvenly) {
  const std::vector<size_t> lengths(450, 10);  // 4,500 tokens
  const auto groups = plan_batches(lengths, 4096);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].size(), 225u);
  EXPECT_EQ(groups[1].size(), 225u);
  EXPECT_EQ(plan_batches(lengths, 10000).size(), 1u);
  EXPECT_EQ(plan_batches(lengths, 1000).size(), 5u);  // 900 tokens each
}

}  // namespace
}  // namespace arrowembed::engine
