// OpenBLAS (Debian) vs the engine's own packed kernel (src/engine/f32_gemm.h)
// on the matrix products of a BERT layer, in the layout the engine uses:
// C[M,N] = A[M,K] * W[N,K]^T, row-major, single-threaded (the engine splits
// rows across its own pool and calls the kernel once per block) and with
// OpenBLAS's own 2-thread runtime. The engine's kernel runs on W packed
// beforehand, as the engine keeps it; OpenBLAS packs W inside every call.
// (oneDNN was measured here too until its comparison was settled:
// bench/results/gemm.md keeps those figures and the commit that made them.)
//
//   build/bench/gemm_bench [hidden=384] [intermediate=1536]
// Prints a Markdown table of GFLOP/s (median of 15 timed repetitions).
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

#include "engine/f32_gemm.h"

namespace {

double median_gflops(size_t m, size_t n, size_t k, const std::function<void()>& run) {
  run();  // warm-up: packing buffers, thread start
  std::vector<double> rates;
  for (int rep = 0; rep < 15; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    int inner = 0;
    double seconds = 0;
    do {  // at least ~20 ms per sample so timer noise stays small
      run();
      ++inner;
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } while (seconds < 0.02);
    rates.push_back(2.0 * m * n * k * inner / seconds / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const size_t hidden = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 384;
  const size_t inter = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1536;
  struct Shape {
    const char* name;
    size_t n, k;
  };
  const Shape shapes[] = {{"attention out / Q,K,V", hidden, hidden},
                          {"intermediate (up)", inter, hidden},
                          {"output (down)", hidden, inter}};
  // Rows = tokens of one product: one short text, a thread's share of a
  // batch of 32 short texts, and of 32 texts of ~200 tokens.
  const size_t row_counts[] = {16, 256, 3200};

  std::mt19937 rng(42);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::printf("| shape (N x K) | rows M | OpenBLAS 1 thread | arrowembed packed 1 thread | OpenBLAS 2 threads |\n");
  std::printf("|---|---|---|---|---|\n");
  for (const Shape& s : shapes) {
    for (const size_t m : row_counts) {
      std::vector<float> a(m * s.k), w(s.n * s.k), c(m * s.n);
      for (auto& x : a) x = dist(rng);
      for (auto& x : w) x = dist(rng);
      auto openblas = [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, s.n, s.k, 1.0f, a.data(), s.k, w.data(), s.k, 0.0f,
                    c.data(), s.n);
      };
      std::vector<float> packed(arrowembed::engine::f32_packed_size(s.n, s.k)), bias(s.n, 0.0f);
      arrowembed::engine::f32_pack_weights(w.data(), s.n, s.k, packed.data());
      auto ours = [&] {
        arrowembed::engine::f32_gemm(a.data(), m, s.k, packed.data(), bias.data(), c.data(), s.n, 0, s.n);
      };
      double r[3];
      openblas_set_num_threads(1);
      r[0] = median_gflops(m, s.n, s.k, openblas);
      r[1] = median_gflops(m, s.n, s.k, ours);
      openblas_set_num_threads(2);
      r[2] = median_gflops(m, s.n, s.k, openblas);
      std::printf("| %s (%zu x %zu) | %zu | %.1f | %.1f | %.1f |\n", s.name, s.n, s.k, m, r[0], r[1], r[2]);
      std::fflush(stdout);
    }
  }
  return 0;
}
