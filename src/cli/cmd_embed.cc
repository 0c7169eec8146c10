// arrowembed embed -m MODEL [--input F] [-o OUT] [--batch-size N] [--threads N] [--column NAME]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "arrowembed/engine/embedder.h"
#include "arrowembed/error.h"
#include "cli/commands.h"
#include "cli/embedding_output.h"
#include "cli/engine_options.h"
#include "cli/text_input.h"

namespace arrowembed::cli {

namespace {

struct EmbedArgs {
  std::string model;
  std::string input = "-";
  std::string output = "-";
  std::string column = "text";
  size_t batch_size = 256;
  size_t threads = 0;
  MatmulPrecision precision = MatmulPrecision::F32;
};

// "\r 12,345 texts  4,321/s" on stderr, for terminals and large inputs only.
class Progress {
 public:
  Progress() : enabled_(isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {}
  void update(size_t done) {
    if (!enabled_ || done < 1000) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "\r%zu texts  %.0f/s ", done, done / s);
    shown_ = true;
  }
  ~Progress() {
    if (shown_) std::fputc('\n', stderr);
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_;
};

void embed_chunk(const Embedder& embedder, const std::vector<std::string>& texts, std::vector<float>& out,
                 EmbeddingWriter& writer) {
  std::vector<std::string_view> views(texts.begin(), texts.end());
  out.resize(texts.size() * embedder.dimension());
  embedder.embed(views, out);
  writer.write(out.data(), texts.size());
}

void run_embed(const EmbedArgs& args) {
  EmbedderOptions options;
  options.num_threads = args.threads;
  options.precision = args.precision;
  const Embedder embedder = Embedder::load(args.model, options);
  std::vector<float> vectors;
  Progress progress;
  if (args.input.ends_with(".parquet")) {
    ParquetTexts input = read_parquet_texts(args.input, args.column);
    auto writer = make_embedding_writer(args.output, embedder.dimension(), input.other_columns);
    for (size_t begin = 0; begin < input.texts.size(); begin += args.batch_size) {
      std::vector<std::string> chunk(input.texts.begin() + begin,
                                     input.texts.begin() + std::min(input.texts.size(), begin + args.batch_size));
      embed_chunk(embedder, chunk, vectors, *writer);
      progress.update(begin + chunk.size());
    }
    writer->finish();
    return;
  }
  TextReader reader(args.input);
  auto writer = make_embedding_writer(args.output, embedder.dimension(), nullptr);
  std::vector<std::string> texts;
  std::vector<size_t> lines;
  size_t done = 0;
  while (true) {
    texts.clear();
    lines.clear();
    bool more;
    try {
      more = reader.read(texts, lines, args.batch_size);
    } catch (const Error&) {
      writer->finish();  // keep what was embedded before the bad line
      throw;
    }
    if (!more) break;
    embed_chunk(embedder, texts, vectors, *writer);
    progress.update(done += texts.size());
  }
  writer->finish();
}

}  // namespace

void register_embed(CLI::App& app) {
  auto args = std::make_shared<EmbedArgs>();
  auto* cmd = app.add_subcommand("embed", "Embed texts with a model file");
  cmd->add_option("-m,--model", args->model, "Model file (.arrow; .parquet and Hugging Face directories also work)")
      ->required();
  cmd->add_option("--input", args->input,
                  "Text lines; .jsonl with a \"text\" field; .parquet with --column (default: stdin)");
  cmd->add_option("-o,--output", args->output,
                  "Output: .jsonl (default, stdout), .arrow or .parquet (fixed-size-list column \"embedding\")");
  cmd->add_option("--column", args->column, "Text column of a Parquet input")->capture_default_str();
  cmd->add_option("--batch-size", args->batch_size, "Texts read and embedded per step")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Worker threads (default: one per core)")
      ->check(CLI::Range(size_t{1}, size_t{1024}));
  add_precision_option(cmd, &args->precision);
  cmd->callback([args] { run_embed(*args); });
}

}  // namespace arrowembed::cli
