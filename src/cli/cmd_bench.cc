// arrowembed bench -m MODEL --input F [--batch-size 32] [--threads N] [--mode batch|single] [--seconds S]
// Throughput, latency percentiles, load time, peak RSS and achieved GFLOP/s
// of the engine, as one JSON object (bench/engine_bench.py compares it with
// the peers).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "arrowembed/engine/embedder.h"
#include "arrowembed/error.h"
#include "cli/commands.h"
#include "cli/engine_options.h"
#include "cli/text_input.h"

namespace arrowembed::cli {

namespace {

struct BenchArgs {
  std::string model;
  std::string input;
  std::string mode = "batch";
  size_t batch_size = 32;
  size_t threads = 0;
  double seconds = 5;
  MatmulPrecision precision = MatmulPrecision::F32;
};

double percentile(std::vector<double> xs, double p) {
  std::sort(xs.begin(), xs.end());
  const double rank = p / 100.0 * static_cast<double>(xs.size() - 1);
  const size_t lo = static_cast<size_t>(rank);
  const size_t hi = std::min(lo + 1, xs.size() - 1);
  return xs[lo] + (xs[hi] - xs[lo]) * (rank - static_cast<double>(lo));
}

void run_bench(const BenchArgs& args) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  EmbedderOptions options;
  options.num_threads = args.threads;
  options.precision = args.precision;
  const Embedder embedder = Embedder::load(args.model, options);
  const double load_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();

  TextReader reader(args.input);
  std::vector<std::string> texts;
  std::vector<size_t> lines;
  while (reader.read(texts, lines, 1 << 16)) {
  }
  if (texts.empty()) throw Error("bench: the input has no texts");
  const size_t per_iteration = args.mode == "single" ? 1 : args.batch_size;
  std::vector<float> out(per_iteration * embedder.dimension());
  std::vector<std::string_view> batch(per_iteration);

  std::vector<double> latencies;
  size_t next = 0, total_texts = 0, total_tokens = 0;
  double flops = 0, busy = 0;
  const auto deadline = clock::now() + std::chrono::duration<double>(args.seconds);
  for (size_t iteration = 0; iteration < 3 || clock::now() < deadline; ++iteration) {
    for (auto& t : batch) t = texts[next++ % texts.size()];
    const auto start = clock::now();
    const EmbedStats stats = embedder.embed(batch, out);
    const double ms = std::chrono::duration<double, std::milli>(clock::now() - start).count();
    if (iteration == 0) continue;  // warm-up: first-touch of weights and buffers
    latencies.push_back(ms);
    busy += ms / 1000;
    total_texts += stats.texts;
    total_tokens += stats.tokens;
    flops += stats.flops;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::ordered_json result = {
      {"mode", args.mode},
      {"batch_size", per_iteration},
      {"threads", embedder.num_threads()},
      {"dtype", dtype_name(embedder.config().dtype)},
      {"precision", embedder.products()},
      {"kernel", embedder.kernel()},
      {"texts", total_texts},
      {"tokens", total_tokens},
      {"seconds", busy},
      {"texts_per_s", total_texts / busy},
      {"tokens_per_s", total_tokens / busy},
      {"latency_ms",
       {{"p50", percentile(latencies, 50)},
        {"p90", percentile(latencies, 90)},
        {"p99", percentile(latencies, 99)},
        {"mean", busy * 1000 / static_cast<double>(latencies.size())}}},
      {"load_ms", load_ms},
      {"peak_rss_bytes", static_cast<int64_t>(usage.ru_maxrss) * 1024},
      {"gflops", flops / busy / 1e9},
  };
  std::printf("%s\n", result.dump().c_str());
}

}  // namespace

void register_bench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Measure embedding throughput and latency on a text file (JSON result)");
  cmd->add_option("-m,--model", args->model, "Model file")->required();
  cmd->add_option("--input", args->input, "Text lines or .jsonl; texts are cycled")->required();
  cmd->add_option("--mode", args->mode, "batch: batch-size texts per call; single: one text per call")
      ->check(CLI::IsMember({"batch", "single"}))
      ->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "Texts per call in batch mode")
      ->check(CLI::Range(size_t{1}, size_t{1} << 16))
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Worker threads (default: one per core)")
      ->check(CLI::Range(size_t{1}, size_t{1024}));
  add_precision_option(cmd, &args->precision);
  cmd->add_option("--seconds", args->seconds, "How long to measure")->check(CLI::Range(0.0, 3600.0))->capture_default_str();
  cmd->callback([args] { run_bench(*args); });
}

}  // namespace arrowembed::cli
