#include "cli/text_input.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/reader.h>
#include <parquet/exception.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "arrowembed/error.h"
#include "tokenizer/utf8.h"

namespace arrowembed::cli {

namespace {

std::string text_of_jsonl_line(const std::string& line) {
  nlohmann::json object;
  try {
    object = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("not valid JSON (") + e.what() + ")");
  }
  if (!object.is_object() || !object.contains("text") || !object["text"].is_string())
    throw Error("expected a JSON object with a string field \"text\"");
  return object["text"].get<std::string>();
}

}  // namespace

TextReader::TextReader(const std::string& path) : in_(&std::cin) {
  jsonl_ = path.size() > 6 && path.ends_with(".jsonl");
  if (path != "-") {
    file_ = std::make_unique<std::ifstream>(path, std::ios::binary);
    if (!*file_) throw Error("cannot open input file " + path);
    in_ = file_.get();
  }
}

bool TextReader::read(std::vector<std::string>& texts, std::vector<size_t>& lines, size_t max) {
  if (!pending_error_.empty()) throw Error(pending_error_);
  size_t added = 0;
  std::string line;
  while (added < max && std::getline(*in_, line)) {
    ++line_number_;
    if (jsonl_ && line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank JSONL line
    try {
      std::string text = jsonl_ ? text_of_jsonl_line(line) : std::move(line);
      const size_t bad = tok::find_invalid_utf8(text);
      if (bad != tok::kValidUtf8) throw Error("invalid UTF-8 at byte " + std::to_string(bad));
      texts.push_back(std::move(text));
      lines.push_back(line_number_);
      ++added;
    } catch (const Error& e) {
      pending_error_ = "input line " + std::to_string(line_number_) + ": " + e.what();
      if (added == 0) throw Error(pending_error_);
      return true;
    }
  }
  return added > 0;
}

ParquetTexts read_parquet_texts(const std::string& path, const std::string& column) {
  auto fail = [&](const std::string& msg) { return Error(path + ": " + msg); };
  std::shared_ptr<arrow::Table> table;
  try {
    auto file = arrow::io::ReadableFile::Open(path);
    if (!file.ok()) throw fail(file.status().message());
    auto reader = parquet::arrow::OpenFile(*file, arrow::default_memory_pool());
    if (!reader.ok()) throw fail(reader.status().message());
    auto read = (*reader)->ReadTable();
    if (!read.ok()) throw fail(read.status().message());
    table = *read;
  } catch (const parquet::ParquetException& e) {
    throw fail(e.what());
  }
  const int index = table->schema()->GetFieldIndex(column);
  if (index < 0) throw fail("no column '" + column + "' (use --column to pick the text column)");
  ParquetTexts out;
  int64_t row = 0;
  for (const auto& chunk : table->column(index)->chunks()) {
    auto add = [&](const auto& strings) {
      for (int64_t i = 0; i < strings.length(); ++i, ++row) {
        if (strings.IsNull(i)) throw fail("column '" + column + "' row " + std::to_string(row) + " is null");
        std::string text(strings.GetView(i));
        const size_t bad = tok::find_invalid_utf8(text);
        if (bad != tok::kValidUtf8)
          throw fail("column '" + column + "' row " + std::to_string(row) + ": invalid UTF-8 at byte " +
                     std::to_string(bad));
        out.texts.push_back(std::move(text));
      }
    };
    if (chunk->type_id() == arrow::Type::STRING)
      add(static_cast<const arrow::StringArray&>(*chunk));
    else if (chunk->type_id() == arrow::Type::LARGE_STRING)
      add(static_cast<const arrow::LargeStringArray&>(*chunk));
    else if (chunk->type_id() == arrow::Type::STRING_VIEW)
      add(static_cast<const arrow::StringViewArray&>(*chunk));
    else
      throw fail("column '" + column + "' is " + chunk->type()->ToString() + ", not a string column");
  }
  auto rest = table->RemoveColumn(index);
  if (!rest.ok()) throw fail(rest.status().message());
  out.other_columns = *rest;
  return out;
}

}  // namespace arrowembed::cli
