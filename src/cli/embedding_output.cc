#include "cli/embedding_output.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/ipc/writer.h>
#include <parquet/arrow/writer.h>

#include <cstdio>
#include <vector>

#include "arrowembed/error.h"
#include "server/json_text.h"

namespace arrowembed::cli {

namespace {

class JsonlWriter : public EmbeddingWriter {
 public:
  JsonlWriter(const std::string& path, size_t dimension) : dimension_(dimension) {
    if (path == "-") {
      file_ = stdout;
    } else {
      file_ = std::fopen(path.c_str(), "wb");
      if (!file_) throw Error("cannot write " + path);
      owned_ = true;
    }
  }
  ~JsonlWriter() override {
    if (owned_ && file_) std::fclose(file_);
  }
  void write(const float* rows, size_t count) override {
    std::string line;
    for (size_t r = 0; r < count; ++r) {
      line.assign("{\"embedding\":");
      server::append_json_floats(line, rows + r * dimension_, dimension_);
      line += "}\n";
      std::fwrite(line.data(), 1, line.size(), file_);
    }
  }
  void finish() override {
    if (std::fflush(file_) != 0) throw Error("cannot write the embeddings (disk full?)");
  }

 private:
  std::FILE* file_ = nullptr;
  bool owned_ = false;
  size_t dimension_;
};

class TableWriter : public EmbeddingWriter {
 public:
  TableWriter(std::string path, size_t dimension, std::shared_ptr<arrow::Table> carried)
      : path_(std::move(path)), dimension_(dimension), carried_(std::move(carried)) {}
  void write(const float* rows, size_t count) override { values_.insert(values_.end(), rows, rows + count * dimension_); }
  void finish() override {
    const int64_t rows = static_cast<int64_t>(values_.size() / dimension_);
    auto values = std::make_shared<arrow::FloatArray>(rows * static_cast<int64_t>(dimension_),
                                                      arrow::Buffer::Wrap(values_));
    auto type = arrow::fixed_size_list(arrow::float32(), static_cast<int32_t>(dimension_));
    auto column = std::make_shared<arrow::FixedSizeListArray>(type, rows, values);
    arrow::FieldVector fields;
    arrow::ChunkedArrayVector columns;
    if (carried_) {
      for (int i = 0; i < carried_->num_columns(); ++i) {
        // Re-embedding a file replaces its old vectors rather than duplicating the name.
        if (carried_->schema()->field(i)->name() == "embedding") continue;
        fields.push_back(carried_->schema()->field(i));
        columns.push_back(carried_->column(i));
      }
    }
    fields.push_back(arrow::field("embedding", type, false));
    columns.push_back(std::make_shared<arrow::ChunkedArray>(column));
    auto table = arrow::Table::Make(arrow::schema(fields), columns, rows);
    auto check = [&](const arrow::Status& s) {
      if (!s.ok()) throw Error("cannot write " + path_ + ": " + s.message());
    };
    auto out = arrow::io::FileOutputStream::Open(path_);
    check(out.status());
    if (path_.ends_with(".parquet")) {
      auto props = parquet::WriterProperties::Builder().compression(parquet::Compression::ZSTD)->build();
      // Parquet has no fixed-size list: the stored Arrow schema is what
      // makes readers give fixed_size_list<float>[dim] back, not list<float>.
      auto arrow_props = parquet::ArrowWriterProperties::Builder().store_schema()->build();
      check(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), *out, 64 * 1024, props, arrow_props));
    } else {
      auto writer = arrow::ipc::MakeFileWriter(*out, table->schema());
      check(writer.status());
      check((*writer)->WriteTable(*table));
      check((*writer)->Close());
    }
    check((*out)->Close());
  }

 private:
  std::string path_;
  size_t dimension_;
  std::shared_ptr<arrow::Table> carried_;
  std::vector<float> values_;
};

}  // namespace

std::unique_ptr<EmbeddingWriter> make_embedding_writer(const std::string& path, size_t dimension,
                                                       std::shared_ptr<arrow::Table> carried) {
  if (path.ends_with(".arrow") || path.ends_with(".parquet"))
    return std::make_unique<TableWriter>(path, dimension, std::move(carried));
  return std::make_unique<JsonlWriter>(path, dimension);
}

}  // namespace arrowembed::cli
