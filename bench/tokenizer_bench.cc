// tokenizer_bench TOKENIZER_JSON TEXTS_JSONL [--max-length N] [--repeat R]
// Times arrowembed::Tokenizer construction, single-thread encode and 2-thread
// encode_batch on the texts (loaded into memory first), and prints one JSON
// object. bench/tokenizer_bench.py runs it next to Hugging Face `tokenizers`.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "arrowembed/tokenizer/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tokenizer_bench TOKENIZER_JSON TEXTS_JSONL [--max-length N] [--repeat R]\n");
    return 2;
  }
  size_t max_length = 256;
  int repeat = 3;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--max-length") max_length = std::stoul(argv[i + 1]);
    if (std::string(argv[i]) == "--repeat") repeat = std::stoi(argv[i + 1]);
  }
  const std::string json = read_file(argv[1]);
  std::vector<std::string> texts;
  {
    std::ifstream in(argv[2], std::ios::binary);
    std::string line;
    while (std::getline(in, line)) texts.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
  }
  std::vector<std::string_view> views(texts.begin(), texts.end());
  size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();

  std::vector<double> load_ms;
  for (int r = 0; r < 10; ++r) {
    const auto start = Clock::now();
    const auto tok = arrowembed::Tokenizer::from_json(json);
    load_ms.push_back(seconds_since(start) * 1e3);
  }
  std::sort(load_ms.begin(), load_ms.end());
  const auto tokenizer = arrowembed::Tokenizer::from_json(json);

  size_t tokens = 0;
  double single_best = 1e30, batch2_best = 1e30;
  for (int r = 0; r < repeat; ++r) {
    auto start = Clock::now();
    size_t count = 0;
    for (std::string_view t : views) count += tokenizer.encode(t, max_length).ids.size();
    single_best = std::min(single_best, seconds_since(start));
    tokens = count;
    start = Clock::now();
    const auto batch = tokenizer.encode_batch(views, max_length, 2);
    batch2_best = std::min(batch2_best, seconds_since(start));
  }
  nlohmann::json out = {{"texts", texts.size()},   {"bytes", bytes},
                        {"tokens", tokens},        {"load_ms_median", load_ms[load_ms.size() / 2]},
                        {"single_s", single_best}, {"batch2_s", batch2_best}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
