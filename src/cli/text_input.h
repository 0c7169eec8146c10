#pragma once
// Input texts for the CLI commands: one text per line, or JSON lines with a
// "text" field when the file name ends in .jsonl; from a file or stdin ("-").
// Read in chunks so large inputs stream; every text carries its 1-based line
// number, and bad lines (invalid JSON, no "text", invalid UTF-8) are errors
// naming that line.
#include <arrow/table.h>

#include <cstddef>
#include <fstream>
#include <istream>
#include <memory>
#include <string>
#include <vector>

namespace arrowembed::cli {

class TextReader {
 public:
  explicit TextReader(const std::string& path);  // throws Error if it cannot be opened

  // Appends up to `max` texts (and their line numbers) and returns true, or
  // returns false at the end of input. A bad line ends the chunk before it;
  // the next call throws Error("input line N: ...").
  bool read(std::vector<std::string>& texts, std::vector<size_t>& lines, size_t max);

  bool jsonl() const { return jsonl_; }

 private:
  std::unique_ptr<std::ifstream> file_;
  std::istream* in_;
  bool jsonl_ = false;
  size_t line_number_ = 0;
  std::string pending_error_;
};


// The texts of one string column of a Parquet file, and the file's other
// columns (to carry into the output). Throws Error for a missing or
// non-string column or a null text, naming the row.
struct ParquetTexts {
  std::vector<std::string> texts;
  std::shared_ptr<arrow::Table> other_columns;
};
ParquetTexts read_parquet_texts(const std::string& path, const std::string& column);

}  // namespace arrowembed::cli
