#include "cli/cmd_index_input.h"

#include <unistd.h>

#include <arrow/api.h>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "arrowembed/error.h"
#include "cli/text_input.h"

namespace arrowembed::cli {

namespace {

using collection::NewDocuments;

// A value of another column as the string the collection stores.
std::string cell(const arrow::Array& array, int64_t i) {
  if (array.IsNull(i)) return "";
  switch (array.type_id()) {
    case arrow::Type::STRING: return std::string(static_cast<const arrow::StringArray&>(array).GetView(i));
    case arrow::Type::LARGE_STRING: return std::string(static_cast<const arrow::LargeStringArray&>(array).GetView(i));
    case arrow::Type::STRING_VIEW: return std::string(static_cast<const arrow::StringViewArray&>(array).GetView(i));
    default: {
      auto scalar = array.GetScalar(i);
      return scalar.ok() ? (*scalar)->ToString() : "";
    }
  }
}

NewDocuments read_parquet(const DocumentSource& source) {
  ParquetTexts input = read_parquet_texts(source.path, source.column);
  NewDocuments docs;
  docs.texts = std::move(input.texts);
  const auto& table = *input.other_columns;
  const int64_t rows = static_cast<int64_t>(docs.texts.size());
  for (int c = 0; c < table.num_columns(); ++c) {
    const std::string name = table.field(c)->name();
    std::vector<std::string> values;
    values.reserve(docs.texts.size());
    for (const auto& chunk : table.column(c)->chunks())
      for (int64_t i = 0; i < chunk->length(); ++i) {
        if (name == source.id_column && chunk->IsNull(i))
          throw Error(source.path + ": column '" + name + "' row " + std::to_string(values.size()) + " is null");
        values.push_back(cell(*chunk, i));
      }
    if (static_cast<int64_t>(values.size()) != rows) throw Error(source.path + ": columns of unequal length");
    if (name == source.id_column)
      docs.ids = std::move(values);
    else
      docs.metadata.emplace_back(name, std::move(values));
  }
  if (docs.ids.empty())
    for (int64_t i = 0; i < rows; ++i) docs.ids.push_back(std::to_string(source.first_id + i));
  return docs;
}

// JSON lines: the text field, the id field when present, every other field
// as metadata (strings as they are, other values as their JSON text).
NewDocuments read_jsonl(const DocumentSource& source) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (source.path != "-") {
    file.open(source.path, std::ios::binary);
    if (!file) throw Error("cannot open " + source.path);
    in = &file;
  }
  NewDocuments docs;
  std::vector<std::string> names;
  std::string line;
  for (size_t number = 1; std::getline(*in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto fail = [&](const std::string& why) { return Error(source.path + " line " + std::to_string(number) + ": " + why); };
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw fail(std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_object()) throw fail("not a JSON object");
    const auto text = j.find(source.column);
    if (text == j.end() || !text->is_string()) throw fail("no string field \"" + source.column + "\"");
    const size_t row = docs.texts.size();
    docs.texts.push_back(text->get<std::string>());
    const auto id = j.find(source.id_column);
    if (id == j.end())
      docs.ids.push_back(std::to_string(source.first_id + row));
    else if (id->is_string())
      docs.ids.push_back(id->get<std::string>());
    else if (id->is_number_integer())
      docs.ids.push_back(id->dump());
    else
      throw fail("field \"" + source.id_column + "\" must be a string or an integer");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == source.column || it.key() == source.id_column) continue;
      auto column = std::find_if(docs.metadata.begin(), docs.metadata.end(),
                                 [&](const auto& m) { return m.first == it.key(); });
      if (column == docs.metadata.end()) {
        docs.metadata.emplace_back(it.key(), std::vector<std::string>(row));  // "" for earlier rows
        column = docs.metadata.end() - 1;
      }
      column->second.resize(row);
      column->second.push_back(it->is_string() ? it->get<std::string>() : it->dump());
    }
  }
  for (auto& [name, values] : docs.metadata) values.resize(docs.texts.size());
  return docs;
}

NewDocuments read_lines(const DocumentSource& source) {
  TextReader reader(source.path);
  NewDocuments docs;
  std::vector<size_t> lines;
  while (reader.read(docs.texts, lines, 4096)) {
  }
  for (size_t i = 0; i < docs.texts.size(); ++i) docs.ids.push_back(std::to_string(source.first_id + i));
  return docs;
}

}  // namespace

NewDocuments read_documents(const DocumentSource& source) {
  if (source.path.ends_with(".parquet")) return read_parquet(source);
  if (source.path.ends_with(".jsonl")) return read_jsonl(source);
  return read_lines(source);
}

void embed_documents(const Embedder& embedder, NewDocuments& docs, size_t batch_size) {
  const size_t n = docs.texts.size(), dim = embedder.dimension();
  docs.embeddings.resize(n * dim);
  const bool progress = isatty(STDERR_FILENO) && n >= batch_size;
  const auto start = std::chrono::steady_clock::now();
  for (size_t begin = 0; begin < n; begin += batch_size) {
    const size_t end = std::min(n, begin + batch_size);
    std::vector<std::string_view> views(docs.texts.begin() + begin, docs.texts.begin() + end);
    embedder.embed(views, std::span<float>(docs.embeddings.data() + begin * dim, (end - begin) * dim));
    if (progress) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const int width = 30, filled = static_cast<int>(width * end / n);
      std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu texts  %.0f/s ", filled, "##############################",
                   width - filled, "", end, n, end / s);
    }
  }
  if (progress) std::fputc('\n', stderr);
}

}  // namespace arrowembed::cli
