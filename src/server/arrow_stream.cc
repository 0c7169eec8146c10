#include "server/arrow_stream.h"

#include <arrow/api.h>
#include <arrow/io/memory.h>
#include <arrow/ipc/writer.h>
#include <arrow/util/key_value_metadata.h>

#include "arrowembed/error.h"

namespace arrowembed::server {

std::string embeddings_to_arrow_stream(const float* values, size_t rows, size_t dimension,
                                       const std::string& metadata_json) {
  const auto count = static_cast<int64_t>(rows * dimension);
  // Wraps the caller's floats: the writer copies them into the stream once.
  auto buffer = std::make_shared<arrow::Buffer>(reinterpret_cast<const uint8_t*>(values),
                                                count * static_cast<int64_t>(sizeof(float)));
  auto floats = std::make_shared<arrow::FloatArray>(count, buffer);
  auto type = arrow::fixed_size_list(arrow::float32(), static_cast<int32_t>(dimension));
  auto column = std::make_shared<arrow::FixedSizeListArray>(type, static_cast<int64_t>(rows), floats);
  std::shared_ptr<arrow::KeyValueMetadata> metadata;
  if (!metadata_json.empty()) metadata = arrow::key_value_metadata({"arrowembed.usage"}, {metadata_json});
  auto schema = arrow::schema({arrow::field("embedding", type, false)}, metadata);
  auto batch = arrow::RecordBatch::Make(schema, static_cast<int64_t>(rows), {column});

  auto check = [](const arrow::Status& s) {
    if (!s.ok()) throw Error("cannot write the Arrow stream: " + s.ToString());
  };
  auto sink = arrow::io::BufferOutputStream::Create(count * 4 + 1024);
  check(sink.status());
  auto writer = arrow::ipc::MakeStreamWriter(*sink, schema);
  check(writer.status());
  check((*writer)->WriteRecordBatch(*batch));
  check((*writer)->Close());
  auto bytes = (*sink)->Finish();
  check(bytes.status());
  return (*bytes)->ToString();
}

}  // namespace arrowembed::server
