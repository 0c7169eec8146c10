// The response encodings: JSON text, Arrow IPC stream, row finishing
// (Matryoshka truncation + normalisation).
#include <arrow/api.h>
#include <arrow/io/memory.h>
#include <arrow/ipc/reader.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "server/arrow_stream.h"
#include "arrowembed/service/embedding_service.h"
#include "server/json_text.h"

namespace arrowembed::server {
namespace {

TEST(JsonText, FloatsRoundTripExactly) {
  const float values[] = {0.1f, -1.5e-8f, 3.4028235e38f, 0, 1.0f / 3};
  std::string out;
  append_json_floats(out, values, 5);
  const auto parsed = nlohmann::json::parse(out).get<std::vector<float>>();
  ASSERT_EQ(parsed.size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(parsed[i], values[i]);
  std::string nan;
  append_json_float(nan, std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan, "null");
  std::string empty;
  append_json_floats(empty, values, 0);
  EXPECT_EQ(empty, "[]");
}

TEST(JsonText, StringsAreEscaped) {
  std::string out;
  append_json_string(out, "a\"b\\c\n\t\x01 é");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001 é\"");
  EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), "a\"b\\c\n\t\x01 é");
}

TEST(ArrowStream, EmbeddingsReadBackAsFixedSizeList) {
  const float values[] = {1, 2, 3, 4, 5, 6};
  const std::string bytes = embeddings_to_arrow_stream(values, 2, 3, "{\"prompt_tokens\":9}");
  auto buffer = std::make_shared<arrow::Buffer>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                static_cast<int64_t>(bytes.size()));
  auto input = std::make_shared<arrow::io::BufferReader>(buffer);
  auto reader = arrow::ipc::RecordBatchStreamReader::Open(input).ValueOrDie();
  EXPECT_EQ(reader->schema()->metadata()->Get("arrowembed.usage").ValueOrDie(), "{\"prompt_tokens\":9}");
  auto batch = reader->Next().ValueOrDie();
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->num_rows(), 2);
  const auto& column = static_cast<const arrow::FixedSizeListArray&>(*batch->column(0));
  EXPECT_EQ(column.value_length(), 3);
  const auto& floats = static_cast<const arrow::FloatArray&>(*column.values());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(floats.Value(i), values[i]);
  EXPECT_FALSE(reader->Next().ValueOrDie());  // one batch, then end of stream
}

TEST(FinishRows, KeepsPrefixAndNormalises) {
  std::vector<float> v = {3, 4, 12, 0, 0, 2, 1, 1};  // 2 rows x 4
  service::finish_rows(v, 2, 4, 2, true);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  EXPECT_FLOAT_EQ(v[2], 0.0f);
  EXPECT_FLOAT_EQ(v[3], 1.0f);
  std::vector<float> raw = {3, 4, 5, 6};
  service::finish_rows(raw, 1, 4, 4, false);
  EXPECT_EQ(raw, (std::vector<float>{3, 4, 5, 6}));
  std::vector<float> zero = {0, 0};
  service::finish_rows(zero, 1, 2, 2, true);  // the zero vector stays zero, never NaN
  EXPECT_EQ(zero, (std::vector<float>{0, 0}));
}

}  // namespace
}  // namespace arrowembed::server
