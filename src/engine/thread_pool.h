#pragma once
// A fixed pool of worker threads that runs parallel loops. The caller's
// thread takes part, so a pool of size N uses N-1 extra threads, and size 1
// runs everything inline. Workers spin for 2 ms before sleeping: the encoder
// issues dozens of short parallel loops per forward pass, and waking a
// sleeping thread costs more than many of them take.
//
// A loop never waits for a sleeping worker: workers join a loop while it is
// open, the caller closes it once every index is taken and waits only for
// the workers that joined. A worker that wakes late (a VM's idle vCPU can
// take a millisecond) finds the loop closed and costs nothing but its share
// of the work. wake() lets a caller that knows a loop is coming (a server
// that has just received a request) start that wake-up early.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
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

  // Wakes sleeping workers so that they spin, ready for a loop expected
  // soon. Cheap when they are already awake; any thread may call it.
  void wake();

 private:
  void worker_loop();
  void run_tasks();
  // Spins, then sleeps, until a loop other than `seen` starts, a wake() or
  // stop; returns the loop state then.
  uint64_t wait_for_loop(uint64_t seen);

  // loop_ packs the current loop's generation (high bits), whether it is
  // closed to joining workers, and how many workers are inside it.
  static constexpr uint64_t kActiveMask = (1u << 16) - 1;
  static constexpr uint64_t kClosed = 1u << 16;
  static constexpr int kGenerationShift = 17;
  static uint64_t generation(uint64_t state) { return state >> kGenerationShift; }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_cv_;
  std::atomic<uint64_t> loop_{kClosed};
  std::atomic<uint64_t> wake_requests_{0};
  std::atomic<size_t> sleeping_{0};
  std::atomic<size_t> next_{0};
  size_t count_ = 0;
  const std::function<void(size_t)>* fn_ = nullptr;
  std::exception_ptr error_;
  std::mutex error_mutex_;
  std::atomic<bool> stop_{false};
};

}  // namespace arrowembed::engine
