// arrowembed tokenize: the tokenizer as a command, used by the parity tests
// (tests/python/test_tokenizer_parity.py) and for debugging inputs.
#include <cstdio>
#include <istream>

#include <charconv>
#include <memory>
#include <string>

#include "arrowembed/error.h"
#include "arrowembed/format/model_file.h"
#include "arrowembed/tokenizer/tokenizer.h"
#include "cli/commands.h"
#include "cli/text_input.h"

namespace arrowembed::cli {
namespace {

struct TokenizeStreamOptions {
  size_t max_length = Tokenizer::kNoTruncation;
  bool with_offsets = false;  // also print byte offsets
};

// Reads texts from `in`, writes {"ids":[...]} lines to `out`. Throws
// arrowembed::Error naming the 1-based line of the first bad input.
void tokenize_stream(const Tokenizer& tokenizer, const TokenizeStreamOptions& options, TextReader& reader,
                     std::FILE* out);

void append_number(std::string& out, int64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

void append_encoding(std::string& out, const Encoding& encoding, bool with_offsets) {
  out += "{\"ids\":[";
  for (size_t i = 0; i < encoding.ids.size(); ++i) {
    if (i) out += ',';
    append_number(out, encoding.ids[i]);
  }
  out += ']';
  if (with_offsets) {
    out += ",\"offsets\":[";
    for (size_t i = 0; i < encoding.offsets.size(); ++i) {
      if (i) out += ',';
      out += '[';
      append_number(out, encoding.offsets[i].first);
      out += ',';
      append_number(out, encoding.offsets[i].second);
      out += ']';
    }
    out += ']';
  }
  out += "}\n";
}

void run_tokenize(const std::string& model_path, const std::string& input_path, int64_t max_length,
                  bool with_offsets) {
  ModelFile model = ModelFile::open(model_path);
  const Tokenizer tokenizer = Tokenizer::from_json(model.tokenizer_json());
  TokenizeStreamOptions options;
  options.with_offsets = with_offsets;
  const int64_t limit = max_length > 0 ? max_length : model.config().max_seq_length;
  if (limit <= 0) throw Error("the model has no max_seq_length; pass --max-length");
  options.max_length = static_cast<size_t>(limit);
  TextReader reader(input_path);
  tokenize_stream(tokenizer, options, reader, stdout);
}

void tokenize_stream(const Tokenizer& tokenizer, const TokenizeStreamOptions& options, TextReader& reader,
                     std::FILE* out) {
  std::vector<std::string> texts;
  std::vector<size_t> lines;
  std::string buffer;
  // Lines before a bad one are written before the error is reported.
  for (;;) {
    texts.clear();
    lines.clear();
    bool more;
    try {
      more = reader.read(texts, lines, 256);
    } catch (const Error&) {
      std::fflush(out);
      throw;
    }
    if (!more) break;
    for (size_t i = 0; i < texts.size(); ++i) {
      try {
        append_encoding(buffer, tokenizer.encode(texts[i], options.max_length), options.with_offsets);
      } catch (const Error& e) {
        std::fwrite(buffer.data(), 1, buffer.size(), out);
        std::fflush(out);
        throw Error("input line " + std::to_string(lines[i]) + ": " + e.what());
      }
    }
    std::fwrite(buffer.data(), 1, buffer.size(), out);
    buffer.clear();
  }
  std::fflush(out);
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto model = std::make_shared<std::string>();
  auto input = std::make_shared<std::string>("-");
  auto max_length = std::make_shared<int64_t>(0);
  auto offsets = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("tokenize", "Print token ids of each input text as JSON lines");
  cmd->add_option("-m,--model", *model, "Model file (.arrow, .parquet) or Hugging Face model directory")->required();
  cmd->add_option("--input", *input, "Text lines, or JSONL with a \"text\" field if it ends in .jsonl (default: stdin)");
  cmd->add_option("--max-length", *max_length, "Truncate to this many tokens, specials included (default: the model's max_seq_length)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--offsets", *offsets, "Also print each token's [begin, end) byte offsets in the input text");
  cmd->callback([=] { run_tokenize(*model, *input, *max_length, *offsets); });
}

}  // namespace arrowembed::cli
