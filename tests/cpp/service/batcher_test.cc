// The dynamic batcher on a tiny random BERT: results equal the engine's
// own, requests share and split batches, the bounded queue refuses as
// Overloaded, stop() drains.
#include "service/batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <cmath>
#include <thread>
#include <vector>

#include "common/test_util.h"
#include "arrowembed/service/service_error.h"

namespace arrowembed::service {
namespace {

const Embedder& tiny() {
  static const Embedder embedder = Embedder::load(testing::tiny_model("tiny-bert-mean"), {.num_threads = 2});
  return embedder;
}

std::vector<std::string> texts(size_t n, size_t words = 3) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string t = "text " + std::to_string(i);
    for (size_t w = 0; w < words; ++w) t += " word" + std::to_string((i * 7 + w) % 13);
    out.push_back(t);
  }
  return out;
}

std::vector<Encoding> encode(const std::vector<std::string>& ts) {
  std::vector<Encoding> out;
  const auto max = static_cast<size_t>(tiny().config().max_seq_length);
  for (const auto& t : ts) out.push_back(tiny().tokenizer().encode(t, max));
  return out;
}

// What the engine gives without the batcher (un-normalised, as the batcher asks).
std::vector<float> direct(const std::vector<std::string>& ts) {
  std::vector<std::string_view> views(ts.begin(), ts.end());
  return tiny().embed(views, {.max_length = 0, .normalize = false});
}

void expect_near(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5f) << i;
}

TEST(Batcher, ConcurrentRequestsGetTheirOwnRows) {
  ServiceMetrics metrics;
  Batcher batcher(tiny(), {.max_batch_tokens = 4096}, metrics, "m");
  constexpr size_t kThreads = 8, kRounds = 20;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto ts = texts(1 + t % 3, t);
      const auto encodings = encode(ts);
      const auto want = direct(ts);
      for (size_t r = 0; r < kRounds; ++r) {
        std::vector<float> got(want.size());
        batcher.embed(encodings, got);
        for (size_t i = 0; i < got.size(); ++i) {
          if (std::abs(got[i] - want[i]) > 1e-5f) {
            ++failures;
            break;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
  size_t inputs = 0;
  for (size_t t = 0; t < kThreads; ++t) inputs += (1 + t % 3) * kRounds;
  // Every input went through exactly one batch; concurrent requests shared some.
  const uint64_t batches = metrics.batch_size.count({"m"});
  EXPECT_GE(batches, 1u);
  EXPECT_LE(batches, inputs);
  EXPECT_EQ(batcher.queued_inputs(), 0u);
}

TEST(Batcher, LoneRequestRunsOnTheCallersThreadWithoutQueueing) {
  ServiceMetrics metrics;
  Batcher batcher(tiny(), {}, metrics, "m");
  const auto ts = texts(3);
  std::vector<float> got(ts.size() * tiny().dimension());
  const BatchTiming timing = batcher.embed(encode(ts), got);
  expect_near(got, direct(ts));
  EXPECT_EQ(timing.queue_ms, 0);
  EXPECT_GT(timing.inference_ms, 0);
  EXPECT_EQ(metrics.batch_size.count({"m"}), 1u);  // one engine call for the whole request
}

TEST(Batcher, LargeRequestIsSplitUnderTheTokenBudget) {
  const auto ts = texts(40);
  const auto encodings = encode(ts);
  size_t longest = 0, total = 0;
  for (const auto& e : encodings) longest = std::max(longest, e.size()), total += e.size();
  const size_t budget = 2 * longest;  // room for two texts at most
  ServiceMetrics metrics;
  Batcher batcher(tiny(), {.max_batch_tokens = budget}, metrics, "m");
  std::vector<float> got(ts.size() * tiny().dimension());
  const BatchTiming timing = batcher.embed(encodings, got);
  expect_near(got, direct(ts));
  EXPECT_GE(timing.inference_ms, 0);
  EXPECT_GE(metrics.batch_size.count({"m"}), (total + budget - 1) / budget);
  EXPECT_LE(metrics.batch_size.count({"m"}), 40u);
  EXPECT_EQ(metrics.batch_tokens.count({"m"}), metrics.batch_size.count({"m"}));
}

TEST(Batcher, FullQueueRefusesAsOverloaded) {
  ServiceMetrics metrics;
  // A one-token budget makes the big request run one text per batch, so it
  // stays in the queue long enough for the next request to find it full.
  Batcher batcher(tiny(), {.max_batch_tokens = 1, .max_queue_inputs = 8}, metrics, "m");
  const auto big = encode(texts(3000));
  std::vector<float> big_out(big.size() * tiny().dimension());
  std::thread runner([&] { batcher.embed(big, big_out); });
  while (batcher.queued_inputs() == 0) std::this_thread::yield();
  const auto small = encode(texts(2));
  std::vector<float> small_out(small.size() * tiny().dimension());
  std::optional<ErrorKind> kind;
  try {
    batcher.embed(small, small_out);
  } catch (const ServiceError& e) {
    kind = e.kind();
    EXPECT_EQ(e.retry_after_s(), 1);
  }
  runner.join();
  EXPECT_EQ(kind, ErrorKind::Overloaded);
  // Once the queue drained, the same request is served.
  batcher.embed(small, small_out);
  expect_near(small_out, direct(texts(2)));
}

TEST(Batcher, StopFinishesQueuedWorkThenRefuses) {
  ServiceMetrics metrics;
  Batcher batcher(tiny(), {.max_batch_tokens = 8}, metrics, "m");
  const auto ts = texts(200);
  const auto encodings = encode(ts);
  std::vector<float> got(ts.size() * tiny().dimension());
  std::thread runner([&] { batcher.embed(encodings, got); });
  while (batcher.queued_inputs() == 0) std::this_thread::yield();
  batcher.stop();  // returns only after the queued request is done
  runner.join();
  expect_near(got, direct(ts));
  try {
    batcher.embed(encodings, got);
    ADD_FAILURE() << "embed after stop() must fail";
  } catch (const ServiceError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unavailable);
  }
}

TEST(Batcher, EngineErrorsReachTheCaller) {
  ServiceMetrics metrics;
  Batcher batcher(tiny(), {}, metrics, "m");
  Encoding too_long = tiny().tokenizer().encode("x", 8);
  too_long.ids.assign(static_cast<size_t>(tiny().config().max_seq_length) + 5, 5);
  too_long.type_ids.assign(too_long.ids.size(), 0);
  too_long.offsets.assign(too_long.ids.size(), {0, 1});
  std::vector<Encoding> encodings = {too_long};
  std::vector<float> out(tiny().dimension());
  EXPECT_THROW(batcher.embed(encodings, out), Error);
  std::vector<float> small(0);
  EXPECT_THROW(batcher.embed(encodings, small), Error);  // output too small
}

}  // namespace
}  // namespace arrowembed::service
