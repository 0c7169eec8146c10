// Missing, truncated, corrupted and foreign files: every one must give an
// arrowembed::Error (one clear line), never a crash or wrong data.
#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <gtest/gtest.h>
#include <parquet/arrow/writer.h>

#include <random>
#include <string>

#include "arrowembed/error.h"
#include "arrowembed/format/model_file.h"
#include "arrowembed/format/model_writer.h"
#include "common/test_util.h"
#include "format/model_schema.h"

namespace arrowembed {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Returns the error message, or "" if the file opened.
std::string open_error(const fs::path& path) {
  try {
    ModelFile::open(path);
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "error is not one line: " << msg;
    return msg.empty() ? "(empty message)" : msg;
  }
  return "";
}

class DamagedFile : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = std::make_unique<ModelFile>(ModelFile::open(testing::tiny_model("tiny-bert-cls")));
    write_model(*source_, dir_ / "good.arrow", {.dtype = DType::F16});
    write_model(*source_, dir_ / "good.parquet", {.kind = ModelFileKind::Parquet});
    arrow_bytes_ = testing::read_bytes(dir_ / "good.arrow");
    parquet_bytes_ = testing::read_bytes(dir_ / "good.parquet");
  }
  TempDir dir_;
  std::unique_ptr<ModelFile> source_;
  std::vector<uint8_t> arrow_bytes_, parquet_bytes_;
};

TEST_F(DamagedFile, MissingPathsAndForeignFiles) {
  EXPECT_NE(open_error(dir_ / "absent.arrow").find("no such file"), std::string::npos);
  testing::write_text(dir_ / "empty.arrow", "");
  EXPECT_NE(open_error(dir_ / "empty.arrow").find("not a model file"), std::string::npos);
  testing::write_text(dir_ / "text.arrow", "hello, I am a text file\n");
  EXPECT_NE(open_error(dir_ / "text.arrow").find("not a model file"), std::string::npos);
  fs::create_directory(dir_ / "emptydir");
  EXPECT_NE(open_error(dir_ / "emptydir").find("no config.json"), std::string::npos);
  std::vector<uint8_t> noise(4096);
  std::mt19937 rng(1);
  for (auto& b : noise) b = static_cast<uint8_t>(rng());
  testing::write_bytes(dir_ / "noise.arrow", noise);
  EXPECT_FALSE(open_error(dir_ / "noise.arrow").empty());
}

TEST_F(DamagedFile, ArrowFilesThatAreNotModels) {
  auto schema = arrow::schema({arrow::field("x", arrow::int32())});
  arrow::Int32Builder b;
  ASSERT_TRUE(b.Append(7).ok());
  auto batch = arrow::RecordBatch::Make(schema, 1, {*b.Finish()});
  {
    auto out = *arrow::io::FileOutputStream::Open((dir_ / "foreign.arrow").string());
    auto writer = *arrow::ipc::MakeFileWriter(out, schema);
    ASSERT_TRUE(writer->WriteRecordBatch(*batch).ok());
    ASSERT_TRUE(writer->Close().ok());
  }
  EXPECT_NE(open_error(dir_ / "foreign.arrow").find("not an arrowembed model"), std::string::npos);
  {
    auto out = *arrow::io::FileOutputStream::Open((dir_ / "foreign.parquet").string());
    auto table = *arrow::Table::FromRecordBatches({batch});
    ASSERT_TRUE(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), out).ok());
  }
  EXPECT_NE(open_error(dir_ / "foreign.parquet").find("not an arrowembed model"), std::string::npos);
}

// Rewrites good.arrow with different schema metadata.
fs::path with_metadata(const fs::path& good, const fs::path& out, const std::string& key, const std::string& value) {
  auto file = *arrow::io::MemoryMappedFile::Open(good.string(), arrow::io::FileMode::READ);
  auto reader = *arrow::ipc::RecordBatchFileReader::Open(file);
  auto batch = *reader->ReadRecordBatch(0);
  auto md = batch->schema()->metadata()->Copy();
  EXPECT_TRUE(md->Set(key, value).ok());
  batch = batch->ReplaceSchemaMetadata(md);
  auto sink = *arrow::io::FileOutputStream::Open(out.string());
  auto writer = *arrow::ipc::MakeFileWriter(sink, batch->schema());
  EXPECT_TRUE(writer->WriteRecordBatch(*batch).ok());
  EXPECT_TRUE(writer->Close().ok());
  return out;
}

TEST_F(DamagedFile, VersionsAndConfigs) {
  const auto good = dir_ / "good.arrow";
  EXPECT_NE(open_error(with_metadata(good, dir_ / "v3.arrow", model_schema::kVersionKey, "3"))
                .find("newer than this arrowembed reads"),
            std::string::npos);
  EXPECT_NE(open_error(with_metadata(good, dir_ / "vx.arrow", model_schema::kVersionKey, "1x"))
                .find("invalid format version"),
            std::string::npos);
  ModelConfig c = source_->config();
  c.hidden_size = 128;  // disagrees with the tensors
  EXPECT_NE(open_error(with_metadata(good, dir_ / "cfg.arrow", model_schema::kConfigKey, c.to_json()))
                .find("but the config implies"),
            std::string::npos);
  EXPECT_NE(open_error(with_metadata(good, dir_ / "cfgjson.arrow", model_schema::kConfigKey, "{"))
                .find("invalid JSON"),
            std::string::npos);
  // Written by plain Arrow (8-byte alignment): still readable, but not 64-aligned.
  const ModelFile plain = ModelFile::open(with_metadata(good, dir_ / "plain.arrow", "x", "y"));
  EXPECT_NO_THROW(plain.verify_checksums());
}

TEST_F(DamagedFile, EveryTruncationIsRejected) {
  for (const auto* bytes : {&arrow_bytes_, &parquet_bytes_}) {
    const std::string ext = bytes == &arrow_bytes_ ? ".arrow" : ".parquet";
    std::vector<size_t> lengths = {0, 1, 4, 6, 8, 12, 63, 64, 65, 200};
    for (size_t n = 256; n < bytes->size(); n += 997) lengths.push_back(n);
    for (size_t k = 1; k <= 64; ++k) lengths.push_back(bytes->size() - k);
    for (size_t n : lengths) {
      testing::write_bytes(dir_ / ("cut" + ext), bytes->data(), n);
      EXPECT_FALSE(open_error(dir_ / ("cut" + ext)).empty()) << ext << " truncated to " << n << " bytes opened";
    }
  }
}

// Flipping any byte of the metadata and footer must give an error or, when
// the byte was padding or tensor data, a file whose checksums still tell.
TEST_F(DamagedFile, CorruptedBytesNeverCrash) {
  std::mt19937 rng(42);
  size_t rejected = 0, detected = 0, harmless = 0;
  const size_t n = arrow_bytes_.size();
  std::vector<size_t> positions;
  for (size_t i = 0; i < 3000 && i < n; ++i) positions.push_back(i);   // magic, schema, batch metadata
  for (size_t i = n > 3000 ? n - 3000 : 0; i < n; ++i) positions.push_back(i);  // footer
  for (int i = 0; i < 500; ++i) positions.push_back(rng() % n);      // anywhere
  for (size_t pos : positions) {
    auto damaged = arrow_bytes_;
    damaged[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
    testing::write_bytes(dir_ / "flip.arrow", damaged);
    if (!open_error(dir_ / "flip.arrow").empty()) {
      ++rejected;
      continue;
    }
    try {
      ModelFile::open(dir_ / "flip.arrow").verify_checksums();
      ++harmless;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos);
      ++detected;
    }
  }
  EXPECT_GT(rejected, 100u);
  EXPECT_GT(detected, 100u);
  std::printf("byte flips: %zu rejected at open, %zu caught by checksums, %zu harmless (padding)\n", rejected,
              detected, harmless);
}

TEST_F(DamagedFile, ChecksumsNameTheDamagedTensor) {
  const ModelFile good = ModelFile::open(dir_ / "good.arrow");
  const TensorView& t = good.tensor("encoder.layer.1.intermediate.dense.weight");
  // Find the tensor's bytes in the file and damage one of them.
  const auto offset = std::search(arrow_bytes_.begin(), arrow_bytes_.end(), static_cast<const uint8_t*>(t.data),
                                  static_cast<const uint8_t*>(t.data) + t.nbytes()) -
                      arrow_bytes_.begin();
  ASSERT_LT(static_cast<size_t>(offset), arrow_bytes_.size());
  auto damaged = arrow_bytes_;
  damaged[offset + 10] ^= 0x40;
  testing::write_bytes(dir_ / "data.arrow", damaged);
  const ModelFile m = ModelFile::open(dir_ / "data.arrow");  // cheap open does not read the data
  try {
    m.verify_checksums();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'encoder.layer.1.intermediate.dense.weight' is corrupted"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace arrowembed
