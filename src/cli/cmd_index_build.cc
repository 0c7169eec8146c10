// arrowembed index build -m MODEL --input FILE -o DIR [--column text] [--id-column id] [--dtype f32|f16]
// arrowembed index add   -m MODEL -c DIR --input FILE [--column text] [--id-column id]
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "arrowembed/collection/collection.h"
#include "arrowembed/engine/embedder.h"
#include "arrowembed/error.h"
#include "cli/cmd_index_input.h"
#include "cli/commands.h"

namespace arrowembed::cli {

namespace {

struct IngestArgs {
  std::string model;
  std::string dir;
  DocumentSource source;
  std::string dtype = "f32";
  size_t batch_size = 256;
  size_t threads = 0;
  bool no_ann = false;
};

void add_input_options(CLI::App* cmd, IngestArgs& args) {
  cmd->add_option("-m,--model", args.model, "Model file (.arrow; .parquet and Hugging Face directories also work)")
      ->required();
  cmd->add_option("--input", args.source.path,
                  "Text lines; .jsonl (text field, optional id field, other fields as metadata); .parquet "
                  "(text column, optional id column, other columns as metadata) (default: stdin)");
  cmd->add_option("--column", args.source.column, "Text field or column")->capture_default_str();
  cmd->add_option("--id-column", args.source.id_column,
                  "Id field or column; without it ids are row numbers")->capture_default_str();
  cmd->add_option("--batch-size", args.batch_size, "Texts per embedding call")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--threads", args.threads, "Worker threads (default: one per core)")
      ->check(CLI::Range(size_t{1}, size_t{1024}));
}

collection::NewDocuments embed_input(const IngestArgs& args, const Embedder& embedder) {
  collection::NewDocuments docs = read_documents(args.source);
  embed_documents(embedder, docs, args.batch_size);
  docs.model = collection::model_fingerprint(embedder, std::filesystem::path(args.model).filename().string());
  return docs;
}

Embedder load(const IngestArgs& args) {
  EmbedderOptions options;
  options.num_threads = args.threads;
  return Embedder::load(args.model, options);
}

void report(const collection::Collection& c, size_t added) {
  const auto info = c.info();
  std::printf("{\"added\":%zu,\"size\":%zu,\"index\":%s}\n", added, info.size, info.has_index ? "true" : "false");
}

void run_build(const IngestArgs& args) {
  const Embedder embedder = load(args);
  const DType dtype = parse_dtype(args.dtype);
  if (dtype != DType::F32 && dtype != DType::F16) throw Error("--dtype must be f32 or f16");
  // Read and embed before creating anything, so a bad input leaves no directory.
  collection::NewDocuments docs = embed_input(args, embedder);
  auto c = collection::Collection::create(args.dir, *docs.model, dtype);
  c.add(docs);
  if (!args.no_ann && !c.info().has_index) c.build_index();
  report(c, docs.ids.size());
}

void run_add(IngestArgs args) {
  auto c = collection::Collection::open(args.dir);
  const Embedder embedder = load(args);
  c.require_model(collection::model_fingerprint(embedder, std::filesystem::path(args.model).filename().string()));
  const auto info = c.info();
  if (args.source.first_id == 0) args.source.first_id = info.size + info.deleted;
  collection::NewDocuments docs = embed_input(args, embedder);
  c.add(docs);
  report(c, docs.ids.size());
}

}  // namespace

void register_index_build(CLI::App& index) {
  auto args = std::make_shared<IngestArgs>();
  auto* cmd = index.add_subcommand("build", "Embed documents into a new collection");
  add_input_options(cmd, *args);
  cmd->add_option("-o,--output", args->dir, "Collection directory to create")->required();
  cmd->add_option("--dtype", args->dtype, "Stored embeddings: f32 or f16 (half the size)")->capture_default_str();
  cmd->add_flag("--no-ann", args->no_ann, "Do not build the approximate (HNSW) index below its automatic size");
  cmd->callback([args] { run_build(*args); });
}

void register_index_add(CLI::App& index) {
  auto args = std::make_shared<IngestArgs>();
  auto* cmd = index.add_subcommand("add", "Embed documents and append them to a collection");
  add_input_options(cmd, *args);
  cmd->add_option("-c,--collection", args->dir, "Collection directory")->required();
  cmd->add_option("--first-id", args->source.first_id,
                  "Row number of the first input row, for generated ids (default: the collection's row count)");
  cmd->callback([args] { run_add(*args); });
}

}  // namespace arrowembed::cli
