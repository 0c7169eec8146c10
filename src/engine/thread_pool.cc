#include "engine/thread_pool.h"

#include <chrono>

namespace arrowembed::engine {

namespace {

// How long an idle worker spins before it sleeps: longer than the gaps
// between the loops of a forward pass and, in a server, between one
// request's pass and the next one's (a few hundred microseconds at one
// request in flight), short enough that an idle process soon goes quiet.
// Measured with bench/server_bench.py at one request in flight (two runs
// each, 1 and 8 texts per request; bench/results/pool-spin.md): 200 us,
// with the workers sent to sleep after each request, left the server's p50
// 0.24-0.33 ms above the in-process call; 2 ms brought it to 0.04-0.05 ms
// (the sleeping worker's vCPU takes long to wake and run at speed again).
constexpr auto kSpin = std::chrono::milliseconds(2);

inline void cpu_relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

ThreadPool::ThreadPool(size_t num_threads) {
  for (size_t i = 1; i < num_threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stop_.store(true);
  }
  wake_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_tasks() {
  for (size_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < count_;) {
    try {
      (*fn_)(i);
    } catch (...) {
      std::lock_guard lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void ThreadPool::wake() {
  if (sleeping_.load(std::memory_order_acquire) == 0) return;
  {
    std::lock_guard lock(mutex_);
    wake_requests_.fetch_add(1, std::memory_order_relaxed);
  }
  wake_cv_.notify_all();
}

uint64_t ThreadPool::wait_for_loop(uint64_t seen) {
  const auto new_loop = [&] { return generation(loop_.load()) != seen; };
  for (;;) {
    const auto spin_until = std::chrono::steady_clock::now() + kSpin;
    while (!new_loop() && !stop_.load(std::memory_order_relaxed) && std::chrono::steady_clock::now() < spin_until)
      cpu_relax();
    if (new_loop() || stop_.load()) return loop_.load(std::memory_order_acquire);
    std::unique_lock lock(mutex_);
    const uint64_t wakes = wake_requests_.load(std::memory_order_relaxed);
    sleeping_.fetch_add(1);
    wake_cv_.wait(lock, [&] { return new_loop() || stop_.load() || wake_requests_.load() != wakes; });
    sleeping_.fetch_sub(1, std::memory_order_acq_rel);
    if (new_loop() || stop_.load()) return loop_.load(std::memory_order_acquire);
    // Woken by wake(): spin again for the loop that is on its way.
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    uint64_t state = wait_for_loop(seen);
    if (stop_.load()) return;
    seen = generation(state);
    // Join the loop unless it has closed (or been replaced) meanwhile; the
    // successful increment is what makes fn_ and count_ safe to read.
    while (!(state & kClosed) && generation(state) == seen) {
      if (loop_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel)) {
        run_tasks();
        loop_.fetch_sub(1, std::memory_order_release);
        break;
      }
    }
  }
}

void ThreadPool::parallel_for(size_t count, const std::function<void(size_t)>& fn) {
  if (count == 0) return;
  if (workers_.empty() || count == 1) {
    for (size_t i = 0; i < count; ++i) fn(i);
    return;
  }
  fn_ = &fn;
  count_ = count;
  error_ = nullptr;
  next_.store(0, std::memory_order_relaxed);
  // No worker is inside a loop now (the last call waited for them), so the
  // new generation, open with nobody in it, can simply be stored.
  const uint64_t opened = (generation(loop_.load(std::memory_order_relaxed)) + 1) << kGenerationShift;
  // Store, then look for sleepers (both sequentially consistent): a worker
  // going to sleep registers in sleeping_ and then checks loop_, under the
  // mutex, so either it sees the new loop or this sees it and wakes it.
  loop_.store(opened);
  if (sleeping_.load() != 0) {
    { std::lock_guard lock(mutex_); }
    wake_cv_.notify_all();
  }
  run_tasks();
  // Every index is taken: let no one else in, then wait for those inside.
  loop_.fetch_or(kClosed, std::memory_order_acq_rel);
  while ((loop_.load(std::memory_order_acquire) & kActiveMask) != 0) cpu_relax();
  if (error_) std::rethrow_exception(error_);
}

}  // namespace arrowembed::engine
