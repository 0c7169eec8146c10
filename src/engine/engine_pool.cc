#include "arrowembed/engine/engine_pool.h"

#include <algorithm>
#include <thread>

#include "engine/thread_pool.h"

namespace arrowembed {

struct EnginePool::Impl {
  explicit Impl(size_t n) : threads(n) {}
  engine::ThreadPool threads;
  std::mutex compute;  // ThreadPool runs one caller's loops at a time
};

EnginePool::EnginePool(size_t num_threads)
    : impl_(std::make_unique<Impl>(num_threads ? num_threads : std::max(1u, std::thread::hardware_concurrency()))) {}

EnginePool::~EnginePool() = default;

std::shared_ptr<EnginePool> EnginePool::create(size_t num_threads) {
  return std::shared_ptr<EnginePool>(new EnginePool(num_threads));
}

size_t EnginePool::size() const { return impl_->threads.size(); }
engine::ThreadPool& EnginePool::threads() { return impl_->threads; }
std::unique_lock<std::mutex> EnginePool::lock() { return std::unique_lock(impl_->compute); }
void EnginePool::wake() { impl_->threads.wake(); }

}  // namespace arrowembed
