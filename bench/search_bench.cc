// search_bench: times the collection layer for bench/search_bench.py.
//   search_bench build --vectors F.f32 --dim D -o DIR [--dtype f16] [--index]
//   search_bench query -c DIR --queries Q.f32 [--batch B] [-k K] [--mode exact|approx] [--threads T]
//                      [--repeat R] [--out IDS.i64]
// Vectors are raw little-endian f32, rows x D. `build` names rows "0".."n-1";
// `query` prints latency per call as JSON and writes the hits' ids (int64,
// -1 padded) for recall.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "arrowembed/collection/collection.h"
#include "arrowembed/engine/engine_pool.h"
#include "arrowembed/error.h"

using namespace arrowembed;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<float> read_f32(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error("cannot read " + path);
  std::vector<float> v(static_cast<size_t>(in.tellg()) / 4);
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  return v;
}

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback = "") {
  for (int i = 2; i + 1 < argc; ++i)
    if (name == argv[i]) return argv[i + 1];
  return fallback;
}
bool flag(int argc, char** argv, const std::string& name) {
  for (int i = 2; i < argc; ++i)
    if (name == argv[i]) return true;
  return false;
}
double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

void build(int argc, char** argv) {
  const size_t dim = std::stoul(arg(argc, argv, "--dim", "384"));
  collection::NewDocuments docs;
  docs.embeddings = read_f32(arg(argc, argv, "--vectors"));
  const size_t n = docs.embeddings.size() / dim;
  for (size_t i = 0; i < n; ++i) docs.ids.push_back(std::to_string(i));
  docs.texts.assign(n, "");
  const DType dtype = arg(argc, argv, "--dtype", "f32") == "f16" ? DType::F16 : DType::F32;
  auto t0 = Clock::now();
  auto c = collection::Collection::create(arg(argc, argv, "-o"), {"synthetic", static_cast<int64_t>(dim), true, "synthetic"}, dtype);
  c.add(docs, /*auto_index=*/false);
  auto t1 = Clock::now();
  if (flag(argc, argv, "--index") && !c.info().has_index) c.build_index();
  std::printf("{\"rows\":%zu,\"add_s\":%.3f,\"index\":%s}\n", n, seconds(t0, t1), c.info().has_index ? "true" : "false");
}

void query(int argc, char** argv) {
  const auto c = collection::Collection::open(arg(argc, argv, "-c"));
  const size_t dim = c.info().dimension;
  const std::vector<float> queries = read_f32(arg(argc, argv, "--queries"));
  const size_t nq = queries.size() / dim, batch = std::stoul(arg(argc, argv, "--batch", "1"));
  const size_t k = std::stoul(arg(argc, argv, "-k", "10")), repeat = std::stoul(arg(argc, argv, "--repeat", "1"));
  const auto mode = arg(argc, argv, "--mode", "exact") == "approx" ? collection::SearchMode::Approx
                                                                    : collection::SearchMode::Exact;
  auto pool = EnginePool::create(std::stoul(arg(argc, argv, "--threads", "0")));
  std::vector<int64_t> ids(nq * k, -1);
  std::vector<double> ms;
  for (size_t r = 0; r < repeat; ++r)
    for (size_t b = 0; b + batch <= nq; b += batch) {
      const auto t0 = Clock::now();
      const auto hits = c.search(std::span(queries).subspan(b * dim, batch * dim), k, {}, mode, pool.get());
      ms.push_back(seconds(t0, Clock::now()) * 1e3);
      for (size_t q = 0; q < batch; ++q)
        for (size_t i = 0; i < hits[q].size(); ++i) ids[(b + q) * k + i] = std::stoll(hits[q][i].id);
    }
  if (const auto out = arg(argc, argv, "--out"); !out.empty())
    std::ofstream(out, std::ios::binary).write(reinterpret_cast<const char*>(ids.data()), static_cast<std::streamsize>(ids.size() * 8));
  std::sort(ms.begin(), ms.end());
  double total = 0;
  for (double m : ms) total += m;
  std::printf("{\"calls\":%zu,\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"mean_ms\":%.4f}\n", ms.size(), ms[ms.size() / 2],
              ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], total / ms.size());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::strcmp(argv[1], "build") == 0) build(argc, argv);
    else if (argc > 1 && std::strcmp(argv[1], "query") == 0) query(argc, argv);
    else {
      std::fprintf(stderr, "usage: search_bench build|query ...\n");
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "search_bench: %s\n", e.what());
    return 1;
  }
}
