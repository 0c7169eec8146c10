// fma_peak: the machine's FP32 FMA peak in GFLOP/s, the ceiling against which
// the engine's achieved GFLOP/s are reported (issue 4).
//
//   build/bench/fma_peak [--seconds S] [--threads N]
//   -> {"single_thread_gflops":..,"all_threads_gflops":..,"threads":..}
//
// Each thread runs a loop of independent AVX2 FMAs (vfmadd on 8 floats = 16
// FLOP each). Twelve accumulators: FMA latency is 4-5 cycles and there are two
// FMA ports, so at least 8-10 chains must be in flight to keep both busy; 12
// still fits in the 16 ymm registers with the two multiplier operands.
// The multiplier is ~1 and the addend ~0, so values stay finite (no denormals
// or infinities slowing things down) for any run length.
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr int kAccumulators = 12;
constexpr long kInnerIters = 1 << 16;  // FMAs per chain between clock reads
constexpr double kFlopsPerInner = 2.0 * 8 * kAccumulators;  // mul+add, 8 lanes

// Runs FMA chains for at least `seconds`; returns FLOPs done and time taken.
__attribute__((target("avx2,fma"), noinline)) double run(double seconds, double* elapsed) {
  __m256 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm256_set1_ps(0.001f * static_cast<float>(i + 1));
  const __m256 mul = _mm256_set1_ps(0.9999999f);
  const __m256 add = _mm256_set1_ps(1e-7f);
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  long rounds = 0;
  double t = 0;
  do {
    for (long n = 0; n < kInnerIters; ++n) {
      // Unrolled by hand so the compiler keeps every chain in a register.
      acc[0] = _mm256_fmadd_ps(acc[0], mul, add);
      acc[1] = _mm256_fmadd_ps(acc[1], mul, add);
      acc[2] = _mm256_fmadd_ps(acc[2], mul, add);
      acc[3] = _mm256_fmadd_ps(acc[3], mul, add);
      acc[4] = _mm256_fmadd_ps(acc[4], mul, add);
      acc[5] = _mm256_fmadd_ps(acc[5], mul, add);
      acc[6] = _mm256_fmadd_ps(acc[6], mul, add);
      acc[7] = _mm256_fmadd_ps(acc[7], mul, add);
      acc[8] = _mm256_fmadd_ps(acc[8], mul, add);
      acc[9] = _mm256_fmadd_ps(acc[9], mul, add);
      acc[10] = _mm256_fmadd_ps(acc[10], mul, add);
      acc[11] = _mm256_fmadd_ps(acc[11], mul, add);
    }
    ++rounds;
    t = std::chrono::duration<double>(clock::now() - start).count();
  } while (t < seconds);
  // Fold the accumulators into a value the caller prints, so no chain is dead code.
  __m256 sum = acc[0];
  for (int i = 1; i < kAccumulators; ++i) sum = _mm256_add_ps(sum, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  static std::atomic<float> sink{0};
  sink.store(sink.load() + lanes[0]);
  *elapsed = t;
  return static_cast<double>(rounds) * kInnerIters * kFlopsPerInner;
}

double gflops_single(double seconds) {
  double elapsed = 0;
  run(0.05, &elapsed);  // warm-up: let the core reach its turbo frequency
  const double flops = run(seconds, &elapsed);
  return flops / elapsed / 1e9;
}

// All threads start together and each runs for `seconds`; the sum of the
// per-thread rates is the machine's aggregate peak.
double gflops_all(int threads, double seconds) {
  std::vector<double> rates(threads, 0.0);
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < threads) {
      }
      double elapsed = 0;
      run(0.05, &elapsed);
      const double flops = run(seconds, &elapsed);
      rates[i] = flops / elapsed / 1e9;
    });
  }
  for (auto& th : pool) th.join();
  double total = 0;
  for (double r : rates) total += r;
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1.0;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: fma_peak [--seconds S] [--threads N]\n");
      return 2;
    }
  }
  if (seconds <= 0 || threads < 1) {
    std::fprintf(stderr, "fma_peak: --seconds must be > 0 and --threads >= 1\n");
    return 2;
  }
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
    std::fprintf(stderr, "fma_peak: this CPU lacks AVX2 or FMA\n");
    return 1;
  }
  // Best of three: a shared VM's neighbours only ever make a run slower.
  double single = 0, all = 0;
  for (int r = 0; r < 3; ++r) single = std::max(single, gflops_single(seconds));
  for (int r = 0; r < 3; ++r) all = std::max(all, gflops_all(threads, seconds));
  std::printf("{\"single_thread_gflops\":%.2f,\"all_threads_gflops\":%.2f,\"threads\":%d}\n", single, all, threads);
  return 0;
}
