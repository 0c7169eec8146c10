#include "collection/segment.h"

#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>

#include "arrowembed/error.h"
#include "collection/durable_io.h"
#include "format/half.h"

namespace arrowembed::collection {

namespace {

template <typename T>
T check(arrow::Result<T> result, const std::filesystem::path& path, const char* what) {
  if (!result.ok()) throw Error(std::string(what) + " " + path.string() + ": " + result.status().message());
  return std::move(result).ValueUnsafe();
}

void check(const arrow::Status& status, const std::filesystem::path& path, const char* what) {
  if (!status.ok()) throw Error(std::string(what) + " " + path.string() + ": " + status.message());
}

std::shared_ptr<arrow::Array> strings(const std::vector<std::string>& values, size_t begin, size_t end,
                                      const std::filesystem::path& path) {
  arrow::StringBuilder builder;
  check(builder.Reserve(static_cast<int64_t>(end - begin)), path, "cannot write");
  for (size_t i = begin; i < end; ++i) check(builder.Append(values[i]), path, "cannot write");
  return check(builder.Finish(), path, "cannot write");
}

}  // namespace

void write_segment(const std::filesystem::path& path, const NewDocuments& docs, size_t begin, size_t end,
                   size_t dimension, DType dtype) {
  const int64_t rows = static_cast<int64_t>(end - begin);
  arrow::FieldVector fields = {arrow::field("id", arrow::utf8(), false), arrow::field("text", arrow::utf8(), false)};
  arrow::ArrayVector columns = {strings(docs.ids, begin, end, path), strings(docs.texts, begin, end, path)};
  for (const auto& [name, values] : docs.metadata) {
    fields.push_back(arrow::field(name, arrow::utf8(), false));
    columns.push_back(strings(values, begin, end, path));
  }
  const size_t n = static_cast<size_t>(rows) * dimension;
  const float* src = docs.embeddings.data() + begin * dimension;
  std::shared_ptr<arrow::Buffer> values;
  std::shared_ptr<arrow::DataType> value_type;
  if (dtype == DType::F16) {
    auto buffer = check(arrow::AllocateBuffer(static_cast<int64_t>(n * 2)), path, "cannot write");
    half::f32_to_f16(src, reinterpret_cast<uint16_t*>(buffer->mutable_data()), n);
    values = std::move(buffer);
    value_type = arrow::float16();
  } else {
    // The caller's floats, written without a copy.
    values = std::make_shared<arrow::Buffer>(reinterpret_cast<const uint8_t*>(src), static_cast<int64_t>(n * 4));
    value_type = arrow::float32();
  }
  auto value_array = arrow::MakeArray(arrow::ArrayData::Make(value_type, static_cast<int64_t>(n), {nullptr, values}));
  auto list_type = arrow::fixed_size_list(arrow::field("item", value_type, false), static_cast<int32_t>(dimension));
  fields.push_back(arrow::field("embedding", list_type, false));
  columns.push_back(std::make_shared<arrow::FixedSizeListArray>(list_type, rows, value_array));
  auto schema = arrow::schema(fields, arrow::key_value_metadata({"arrowembed.collection"}, {"1"}));
  auto batch = arrow::RecordBatch::Make(schema, rows, columns);

  auto out = check(arrow::io::FileOutputStream::Open(path.string()), path, "cannot create");
  auto options = arrow::ipc::IpcWriteOptions::Defaults();
  options.alignment = 64;  // rows of 64-byte multiples then start on cache lines within the body
  auto writer = check(arrow::ipc::MakeFileWriter(out, schema, options), path, "cannot write");
  check(writer->WriteRecordBatch(*batch), path, "cannot write");
  check(writer->Close(), path, "cannot write");
  check(out->Close(), path, "cannot write");
  fsync_file(path);
}

std::shared_ptr<const Segment> Segment::open(const std::filesystem::path& path, size_t rows, size_t dimension,
                                             DType dtype) {
  auto damaged = [&](const std::string& why) { return Error("damaged segment " + path.string() + ": " + why); };
  auto segment = std::make_shared<Segment>();
  segment->file_ = check(arrow::io::MemoryMappedFile::Open(path.string(), arrow::io::FileMode::READ), path,
                         "cannot open segment");
  auto reader = arrow::ipc::RecordBatchFileReader::Open(segment->file_);
  if (!reader.ok()) throw damaged(reader.status().message());
  if ((*reader)->num_record_batches() != 1)
    throw damaged(std::to_string((*reader)->num_record_batches()) + " record batches, expected 1");
  auto batch = (*reader)->ReadRecordBatch(0);
  if (!batch.ok()) throw damaged(batch.status().message());
  segment->batch_ = *batch;
  const auto& b = *segment->batch_;
  if (auto st = b.Validate(); !st.ok()) throw damaged(st.message());
  if (static_cast<size_t>(b.num_rows()) != rows)
    throw damaged(std::to_string(b.num_rows()) + " rows, the manifest says " + std::to_string(rows));
  const auto& schema = *b.schema();
  const int ncol = schema.num_fields();
  if (ncol < 3 || schema.field(0)->name() != "id" || schema.field(1)->name() != "text" ||
      schema.field(ncol - 1)->name() != "embedding")
    throw damaged("columns must be id, text, [metadata...], embedding; found " + schema.ToString());
  for (int c = 0; c < ncol - 1; ++c) {
    const auto& column = b.column(c);
    if (column->type_id() != arrow::Type::STRING)
      throw damaged("column '" + schema.field(c)->name() + "' is " + column->type()->ToString() + ", not utf8");
    if (column->null_count() != 0) throw damaged("column '" + schema.field(c)->name() + "' has nulls");
    const auto* s = static_cast<const arrow::StringArray*>(column.get());
    if (c == 0)
      segment->ids_ = s;
    else if (c == 1)
      segment->texts_ = s;
    else
      segment->metadata_.emplace_back(schema.field(c)->name(), s);
  }
  const auto& embedding = b.column(ncol - 1);
  const auto want_value = dtype == DType::F16 ? arrow::float16() : arrow::float32();
  const auto want = arrow::fixed_size_list(want_value, static_cast<int32_t>(dimension));
  const auto* list_type = dynamic_cast<const arrow::FixedSizeListType*>(embedding->type().get());
  if (!list_type || list_type->list_size() != static_cast<int32_t>(dimension) ||
      !list_type->value_type()->Equals(*want_value))
    throw damaged("embedding is " + embedding->type()->ToString() + ", the manifest says " + want->ToString());
  const auto& list = static_cast<const arrow::FixedSizeListArray&>(*embedding);
  if (list.null_count() != 0 || list.values()->null_count() != 0) throw damaged("embedding has nulls");
  const auto& value_data = *list.values()->data();
  const size_t width = dtype_size(dtype);
  const size_t first = static_cast<size_t>(value_data.offset + list.value_offset(0));
  if (value_data.buffers.size() < 2 || !value_data.buffers[1] ||
      static_cast<size_t>(value_data.buffers[1]->size()) < (first + rows * dimension) * width)
    throw damaged("embedding values are truncated");
  segment->embeddings_ = value_data.buffers[1]->data() + first * width;
  segment->rows_ = rows;
  return segment;
}

const arrow::StringArray* Segment::column(std::string_view name) const {
  if (name == "id") return ids_;
  if (name == "text") return texts_;
  for (const auto& [n, c] : metadata_)
    if (n == name) return c;
  return nullptr;
}

}  // namespace arrowembed::collection
