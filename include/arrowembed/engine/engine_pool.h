#pragma once
// The worker threads that forward passes run on, and the lock that gives
// them to one pass at a time. Every Embedder runs on one; several Embedders
// (the models of one server) can share one, so that a process serving
// several models still uses each core once instead of oversubscribing them.
//
//   auto pool = arrowembed::EnginePool::create();     // one thread per core
//   EmbedderOptions options;
//   options.pool = pool;
//   auto a = Embedder::load("a.arrow", options), b = Embedder::load("b.arrow", options);
#include <cstddef>
#include <memory>
#include <mutex>

namespace arrowembed {

namespace engine {
class ThreadPool;
}

class EnginePool {
 public:
  // num_threads 0 means one per core.
  static std::shared_ptr<EnginePool> create(size_t num_threads = 0);
  ~EnginePool();
  EnginePool(const EnginePool&) = delete;
  EnginePool& operator=(const EnginePool&) = delete;

  size_t size() const;  // threads, the caller's included

  // For the engine: the threads, to use only while holding lock().
  engine::ThreadPool& threads();
  std::unique_lock<std::mutex> lock();

  // Wakes idle workers for a pass expected shortly (see Embedder::prepare).
  void wake();

 private:
  explicit EnginePool(size_t num_threads);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace arrowembed
