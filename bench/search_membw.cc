// search_membw: the machine's streaming read bandwidth, the ceiling for
// exact search (bench/search_bench.py reports our GB/s against it). Sums a
// buffer far larger than the caches with AVX2 loads on 1..N threads; best of
// several passes.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const size_t bytes = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024) << 20;
  const size_t n = bytes / sizeof(float);
  float* data = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
  for (size_t i = 0; i < n; ++i) data[i] = 1.0f;
  const size_t max_threads = std::max(1u, std::thread::hardware_concurrency());
  std::printf("{");
  for (size_t threads = 1; threads <= max_threads; ++threads) {
    double best = 0;
    for (int pass = 0; pass < 5; ++pass) {
      std::vector<float> sums(threads);
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<std::thread> pool;
      for (size_t t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
          const size_t begin = n / threads * t, end = t + 1 == threads ? n : n / threads * (t + 1);
          __m256 a = _mm256_setzero_ps(), b = a, c = a, d = a;
          for (size_t i = begin; i + 32 <= end; i += 32) {
            a = _mm256_add_ps(a, _mm256_load_ps(data + i));
            b = _mm256_add_ps(b, _mm256_load_ps(data + i + 8));
            c = _mm256_add_ps(c, _mm256_load_ps(data + i + 16));
            d = _mm256_add_ps(d, _mm256_load_ps(data + i + 24));
          }
          float out[8];
          _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
          sums[t] = out[0];
        });
      for (auto& t : pool) t.join();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::max(best, bytes / s / 1e9);
      if (sums[0] < 0) std::puts("");  // keeps the sums alive
    }
    std::printf("%s\"%zu\": %.2f", threads > 1 ? ", " : "", threads, best);
  }
  std::printf("}\n");
  std::free(data);
}
