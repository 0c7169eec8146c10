#include "service/batcher.h"

#include <algorithm>

#include "arrowembed/service/service_error.h"

namespace arrowembed::service {

namespace {

double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

Batcher::Batcher(const Embedder& embedder, const ModelLimits& limits, ServiceMetrics& metrics, std::string model)
    : embedder_(embedder),
      options_(limits),
      metrics_(metrics),
      labels_{std::move(model)},
      dimension_(embedder.dimension()) {
  worker_ = std::thread([this] { run(); });
}

Batcher::~Batcher() { stop(); }

void Batcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

size_t Batcher::queued_inputs() const {
  std::lock_guard lock(mutex_);
  return queued_inputs_;
}

BatchTiming Batcher::embed(std::span<const Encoding> encodings, std::span<float> out) {
  if (out.size() < encodings.size() * dimension_) throw Error("Batcher::embed: output buffer too small");
  if (encodings.empty()) return {};
  Job job;
  job.encodings = encodings;
  job.out = out.data();
  size_t tokens = 0;
  for (const Encoding& e : encodings) tokens += e.size();

  std::unique_lock lock(mutex_);
  if (stopping_) throw ServiceError(ErrorKind::Unavailable, "the service is shutting down", {}, 1);
  // An empty queue takes any request, so no request is refused forever for its size.
  if (queued_inputs_ > 0 && queued_inputs_ + encodings.size() > options_.max_queue_inputs) {
    throw ServiceError(ErrorKind::Overloaded,
                       "the server is busy: " + std::to_string(queued_inputs_) + " inputs are waiting; retry shortly",
                       {}, 1);
  }
  // The engine idle, nobody waiting and no regrouping after a shared batch:
  // run this request on the caller's thread, saving two thread hand-offs (a
  // lone request's latency is then the engine's). Anything that arrives
  // meanwhile queues for the worker.
  if (!busy_ && queue_.empty() && regroup_target_ == 0 && tokens <= options_.max_batch_tokens) {
    busy_ = true;
    lock.unlock();
    const EngineRun run = run_engine(encodings, out, tokens);
    lock.lock();
    busy_ = false;
    work_cv_.notify_one();
    if (run.error) std::rethrow_exception(run.error);
    return {0, ms_between(run.start, run.end)};
  }
  job.enqueued = Clock::now();
  queue_.push_back(&job);
  queued_inputs_ += encodings.size();
  queued_tokens_ += tokens;
  metrics_.queue_size.set(labels_, static_cast<double>(queued_inputs_));
  work_cv_.notify_one();
  job.cv.wait(lock, [&] { return job.done == encodings.size(); });
  if (job.error) std::rethrow_exception(job.error);
  return {ms_between(job.enqueued, job.started), ms_between(job.started, job.finished)};
}

Batcher::EngineRun Batcher::run_engine(std::span<const Encoding> encodings, std::span<float> out, size_t tokens) {
  EmbedOptions raw;
  raw.normalize = false;  // each request normalises (or not) after pooling
  EngineRun run;
  run.start = Clock::now();
  try {
    embedder_.embed_encodings(encodings, out, raw);
  } catch (...) {
    run.error = std::current_exception();
  }
  run.end = Clock::now();
  metrics_.batch_size.observe(labels_, static_cast<double>(encodings.size()));
  metrics_.batch_tokens.observe(labels_, static_cast<double>(tokens));
  metrics_.inference_duration.observe(labels_, std::chrono::duration<double>(run.end - run.start).count());
  return run;
}

size_t Batcher::take_batch(std::vector<Piece>& pieces) {
  pieces.clear();
  size_t tokens = 0;
  const auto now = Clock::now();
  while (!queue_.empty()) {
    Job* job = queue_.front();
    while (job->taken < job->encodings.size()) {
      const size_t t = job->encodings[job->taken].size();
      if (!pieces.empty() && tokens + t > options_.max_batch_tokens) return tokens;
      if (job->taken == 0) job->started = now;
      pieces.push_back({job, job->taken++});
      tokens += t;
    }
    queue_.pop_front();
  }
  return tokens;
}

void Batcher::run() {
  std::vector<Piece> pieces;
  std::vector<Encoding> batch;
  std::vector<float> out;
  std::unique_lock lock(mutex_);
  for (;;) {
    work_cv_.wait(lock, [&] { return (stopping_ && queue_.empty()) || (!queue_.empty() && !busy_); });
    if (queue_.empty()) break;  // stopping, and nothing left to finish
    // Closed-loop clients whose requests the last batch answered send their
    // next ones a fraction of a millisecond later; waiting briefly for them
    // (at most a quarter of that batch's time, 2 ms) keeps batches whole
    // instead of alternating halves (or a lone early returner running
    // inline while the rest queue behind it).
    if (regroup_target_ > 0 && !stopping_) {
      const auto wait = std::min<Clock::duration>(std::chrono::milliseconds(2), last_batch_time_ / 4);
      work_cv_.wait_until(lock, Clock::now() + wait, [&] {
        return stopping_ || queue_.size() >= regroup_target_ || queued_tokens_ >= options_.max_batch_tokens;
      });
    }
    regroup_target_ = 0;
    if (options_.max_batch_wait_ms > 0 && !stopping_) {
      const auto deadline = Clock::now() + std::chrono::duration<double, std::milli>(options_.max_batch_wait_ms);
      work_cv_.wait_until(lock, deadline,
                          [&] { return stopping_ || queued_tokens_ >= options_.max_batch_tokens; });
    }
    const size_t tokens = take_batch(pieces);
    busy_ = true;
    queued_inputs_ -= pieces.size();
    queued_tokens_ -= tokens;
    metrics_.queue_size.set(labels_, static_cast<double>(queued_inputs_));
    lock.unlock();

    batch.clear();
    for (const Piece& p : pieces) batch.push_back(p.job->encodings[p.index]);
    out.resize(pieces.size() * dimension_);
    const EngineRun run = run_engine(batch, out, tokens);
    // Rows go to disjoint places of each job's buffer; its waiter reads them
    // only after `done` reaches its size under the mutex.
    for (size_t i = 0; i < pieces.size(); ++i) {
      std::copy_n(out.data() + i * dimension_, dimension_, pieces[i].job->out + pieces[i].index * dimension_);
    }

    lock.lock();
    busy_ = false;
    last_batch_time_ = run.end - run.start;
    size_t answered = 0;
    for (const Piece& p : pieces) {
      Job* job = p.job;
      if (run.error && !job->error) job->error = run.error;
      if (++job->done == job->encodings.size()) {
        ++answered;
        job->finished = run.end;
        job->cv.notify_one();  // under the mutex: the job outlives this call
      }
    }
    // Several requests answered: expect them back with those already queued.
    regroup_target_ = answered > 1 ? queue_.size() + answered : 0;
  }
}

}  // namespace arrowembed::service
