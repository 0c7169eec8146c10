#pragma once
// Dynamic batching: the token encodings of concurrent requests are queued
// and one worker thread coalesces them into engine calls of at most
// max_batch_tokens tokens. A request larger than that is split across
// batches (never refused for its size); requests share batches. The engine
// is never idle while work waits: as soon as a batch finishes, everything
// queued meanwhile (up to the budget) forms the next one, optionally after
// waiting max_wait for more. A request that finds the engine idle and the
// queue empty runs on its own thread, without the hand-offs. The queue is
// bounded in inputs: a request that does not fit gets ApiError 429 rather
// than growing memory without limit (ServiceError Overloaded).
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <span>
#include <thread>

#include <string>

#include "arrowembed/engine/embedder.h"
#include "arrowembed/service/embedding_service.h"
#include "arrowembed/service/model_spec.h"
#include "service/service_metrics.h"

namespace arrowembed::service {

class Batcher {
 public:
  // Uses limits' max_batch_tokens, max_batch_wait_ms and max_queue_inputs;
  // records its metrics under model="<model>".
  Batcher(const Embedder& embedder, const ModelLimits& limits, ServiceMetrics& metrics, std::string model = {});
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Writes the pooled, un-normalised embedding of each encoding to `out`
  // (encodings.size() x dimension floats). Blocks until done. Throws
  // ServiceError Overloaded when the queue is full, Unavailable once stop()
  // began, and the engine's Error if its batch failed.
  BatchTiming embed(std::span<const Encoding> encodings, std::span<float> out);

  // Finishes every queued request, then ends the worker. Idempotent.
  void stop();

  size_t queued_inputs() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Job {
    std::span<const Encoding> encodings;
    float* out;
    size_t taken = 0;  // inputs handed to a batch
    size_t done = 0;   // inputs finished
    Clock::time_point enqueued, started, finished;
    std::exception_ptr error;
    std::condition_variable cv;
  };
  struct Piece {
    Job* job;
    size_t index;
  };

  void run();
  // One engine call (un-normalised rows), timed and recorded in the batch
  // metrics; an exception it threw is returned for the caller to pass on.
  struct EngineRun {
    std::exception_ptr error;
    Clock::time_point start, end;
  };
  EngineRun run_engine(std::span<const Encoding> encodings, std::span<float> out, size_t tokens);
  // Moves inputs from the queue's front into `pieces` up to the token budget. Needs mutex_.
  size_t take_batch(std::vector<Piece>& pieces);

  const Embedder& embedder_;
  const ModelLimits options_;
  ServiceMetrics& metrics_;
  const prometheus::LabelValues labels_;
  const size_t dimension_;

  mutable std::mutex mutex_;
  std::condition_variable work_cv_;
  std::deque<Job*> queue_;
  size_t queued_inputs_ = 0;
  size_t queued_tokens_ = 0;
  size_t regroup_target_ = 0;        // requests to wait for after a shared batch (0: none)
  Clock::duration last_batch_time_{};  // how long it took
  bool busy_ = false;  // a batch is in the engine (the worker's or a caller's own)
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace arrowembed::service
