#pragma once
// A fixed pool of worker threads that runs parallel loops. The caller's
// thread takes part, so a pool of size N uses N-1 extra threads, and size 1
// runs everything inline. Workers spin briefly before sleeping: the encoder
// issues dozens of short parallel loops per forward pass, and waking a
// sleeping thread costs more than many of them take.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace arrowembed::engine {

class ThreadPool {
 public:
  explicit ThreadPool(size_t num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size() + 1; }

  // Calls fn(i) for every i in [0, count), spread over the threads, and
  // returns when all calls are done. Not reentrant; one loop at a time
  // (callers serialise, see Embedder). An exception from fn is rethrown here.
  void parallel_for(size_t count, const std::function<void(size_t)>& fn);

 private:
  void worker_loop();
  void run_tasks();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<size_t> next_{0};
  std::atomic<size_t> pending_workers_{0};
  size_t count_ = 0;
  const std::function<void(size_t)>* fn_ = nullptr;
  std::exception_ptr error_;
  std::mutex error_mutex_;
  bool stop_ = false;
};

}  // namespace arrowembed::engine
