// Converting models to .arrow/.parquet and reading them back: every tensor
// must come back exactly (bit-exact f32, f16 rounded to nearest even), and
// the .arrow form must be used in place from the memory map.
#include "arrowembed/format/model_file.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "arrowembed/error.h"
#include "arrowembed/format/bert_layout.h"
#include "arrowembed/format/int8.h"
#include "arrowembed/format/model_writer.h"
#include "common/test_util.h"
#include "format/half.h"

namespace arrowembed {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Address ranges the process has mapped from `path` (from /proc/self/maps).
std::vector<std::pair<uintptr_t, uintptr_t>> mappings_of(const fs::path& path) {
  std::ifstream maps("/proc/self/maps");
  std::vector<std::pair<uintptr_t, uintptr_t>> out;
  const std::string target = fs::canonical(path).string();
  for (std::string line; std::getline(maps, line);) {
    if (!line.ends_with(target)) continue;
    std::istringstream ss(line);
    std::string range;
    ss >> range;
    const auto dash = range.find('-');
    out.emplace_back(std::stoull(range.substr(0, dash), nullptr, 16), std::stoull(range.substr(dash + 1), nullptr, 16));
  }
  return out;
}

void expect_same_tensors_f32(const ModelFile& expected, const ModelFile& actual) {
  ASSERT_EQ(actual.tensors().size(), expected.tensors().size());
  for (const TensorView& e : expected.tensors()) {
    const TensorView& a = actual.tensor(e.name);
    ASSERT_EQ(a.shape, e.shape) << e.name;
    ASSERT_EQ(a.dtype, DType::F32) << e.name;
    ASSERT_EQ(std::memcmp(a.data, e.data, e.nbytes()), 0) << e.name;
  }
}

// Matrices become f16 (rounded to nearest even); 1-D tensors stay f32.
void expect_f16_of(const ModelFile& f32_source, const ModelFile& actual) {
  ASSERT_EQ(actual.tensors().size(), f32_source.tensors().size());
  for (const TensorView& e : f32_source.tensors()) {
    const TensorView& a = actual.tensor(e.name);
    ASSERT_EQ(a.shape, e.shape) << e.name;
    if (e.shape.size() == 1) {
      ASSERT_EQ(a.dtype, DType::F32) << e.name;
      ASSERT_EQ(std::memcmp(a.data, e.data, e.nbytes()), 0) << e.name;
      continue;
    }
    ASSERT_EQ(a.dtype, DType::F16) << e.name;
    auto src = e.values<float>();
    auto got = a.values<uint16_t>();
    for (size_t i = 0; i < src.size(); ++i) {
      uint16_t want;
      half::f32_to_f16(&src[i], &want, 1);
      ASSERT_EQ(got[i], want) << e.name << "[" << i << "]";
    }
  }
}

class ConvertTinyModel : public ::testing::TestWithParam<const char*> {};

TEST_P(ConvertTinyModel, ArrowAndParquetRoundTrip) {
  TempDir dir;
  const ModelFile source = ModelFile::open(testing::tiny_model(GetParam()));

  write_model(source, dir / "m32.arrow", {});
  write_model(source, dir / "m16.arrow", {.dtype = DType::F16});
  write_model(source, dir / "m32.parquet", {.kind = ModelFileKind::Parquet});
  write_model(source, dir / "m16.parquet", {.dtype = DType::F16, .kind = ModelFileKind::Parquet});

  for (const char* name : {"m32.arrow", "m16.arrow", "m32.parquet", "m16.parquet"}) {
    SCOPED_TRACE(name);
    const ModelFile m = ModelFile::open(dir / name);
    EXPECT_EQ(m.format_version(), 1);
    EXPECT_EQ(m.tokenizer_json(), source.tokenizer_json());
    ModelConfig expected_config = source.config();
    expected_config.dtype = std::string(name).starts_with("m16") ? DType::F16 : DType::F32;
    EXPECT_EQ(m.config().to_json(), expected_config.to_json());
    EXPECT_EQ(m.file_bytes(), fs::file_size(dir / name));
    EXPECT_NO_THROW(m.verify_checksums());
    if (std::string(name).starts_with("m16"))
      expect_f16_of(source, m);
    else
      expect_same_tensors_f32(source, m);
  }
  EXPECT_EQ(ModelFile::open(dir / "m32.arrow").source_kind(), ModelSourceKind::ArrowIpc);
  EXPECT_EQ(ModelFile::open(dir / "m32.parquet").source_kind(), ModelSourceKind::Parquet);
  // (The real model's size ratio is checked in tests/python: here the
  // tokenizer is a large part of the file.)
  EXPECT_LT(fs::file_size(dir / "m16.arrow"), fs::file_size(dir / "m32.arrow"));
}

TEST_P(ConvertTinyModel, ArrowTensorsAreAlignedViewsIntoTheMapping) {
  TempDir dir;
  write_model(ModelFile::open(testing::tiny_model(GetParam())), dir / "m.arrow", {.dtype = DType::F16});
  const ModelFile m = ModelFile::open(dir / "m.arrow");
  EXPECT_TRUE(m.aligned_64());
  const auto ranges = mappings_of(dir / "m.arrow");
  ASSERT_FALSE(ranges.empty());
  for (const TensorView& t : m.tensors()) {
    const auto addr = reinterpret_cast<uintptr_t>(t.data);
    EXPECT_EQ(addr % 64, 0u) << t.name;
    bool inside = false;
    for (auto [lo, hi] : ranges) inside = inside || (addr >= lo && addr + t.nbytes() <= hi);
    EXPECT_TRUE(inside) << t.name << " is not a view into the mapped file";
  }
  // The tokenizer is a view into the mapping too.
  const auto tok = reinterpret_cast<uintptr_t>(m.tokenizer_json().data());
  bool inside = false;
  for (auto [lo, hi] : ranges) inside = inside || (tok >= lo && tok < hi);
  EXPECT_TRUE(inside);
}

TEST_P(ConvertTinyModel, ReconvertsFromItsOwnForms) {
  TempDir dir;
  const ModelFile source = ModelFile::open(testing::tiny_model(GetParam()));
  write_model(source, dir / "a.parquet", {.kind = ModelFileKind::Parquet});
  // parquet -> arrow (f32), arrow f16 -> arrow f32 (exact widening), f16 -> parquet.
  write_model(ModelFile::open(dir / "a.parquet"), dir / "b.arrow", {});
  expect_same_tensors_f32(source, ModelFile::open(dir / "b.arrow"));
  write_model(ModelFile::open(dir / "b.arrow"), dir / "c16.arrow", {.dtype = DType::F16});
  write_model(ModelFile::open(dir / "c16.arrow"), dir / "d16.parquet", {.kind = ModelFileKind::Parquet});
  expect_f16_of(source, ModelFile::open(dir / "d16.parquet"));
  write_model(ModelFile::open(dir / "c16.arrow"), dir / "e32.arrow", {.dtype = DType::F32});
  const ModelFile widened = ModelFile::open(dir / "e32.arrow");
  EXPECT_EQ(widened.config().dtype, DType::F32);
  const auto& w = widened.tensor("embeddings.word_embeddings.weight");
  const ModelFile narrowed = ModelFile::open(dir / "c16.arrow");
  const auto& h = narrowed.tensor("embeddings.word_embeddings.weight");
  std::vector<float> expected(static_cast<size_t>(h.numel()));
  half::f16_to_f32(h.values<uint16_t>().data(), expected.data(), expected.size());
  EXPECT_EQ(std::memcmp(w.data, expected.data(), w.nbytes()), 0);
}

// int8 (format version 2): every matrix but the position and token-type
// tables quantized per row with its scale beside it, 1-D tensors f32; the
// .parquet form holds the same bytes; int8 -> int8 copies, int8 -> f32
// dequantizes; f32 files stay version 1.
TEST_P(ConvertTinyModel, Int8FilesHoldMatricesAndTheirScales) {
  TempDir dir;
  const ModelFile source = ModelFile::open(testing::tiny_model(GetParam()));
  write_model(source, dir / "q.arrow", {.dtype = DType::I8});
  write_model(source, dir / "q.parquet", {.dtype = DType::I8, .kind = ModelFileKind::Parquet});
  const ModelFile q = ModelFile::open(dir / "q.arrow");
  EXPECT_EQ(q.format_version(), 2);
  EXPECT_EQ(q.config().dtype, DType::I8);
  EXPECT_TRUE(q.aligned_64());
  size_t int8_matrices = 0;
  for (const TensorView& e : source.tensors()) {
    const TensorView& a = q.tensor(e.name);
    ASSERT_EQ(a.shape, e.shape) << e.name;
    if (e.shape.size() == 1) {
      ASSERT_EQ(a.dtype, DType::F32) << e.name;
      ASSERT_EQ(std::memcmp(a.data, e.data, e.nbytes()), 0) << e.name;
      continue;
    }
    if (bert::stays_f16_in_int8_file(e.name)) {
      ASSERT_EQ(a.dtype, DType::F16) << e.name;
      continue;
    }
    ++int8_matrices;
    ASSERT_EQ(a.dtype, DType::I8) << e.name;
    const size_t rows = static_cast<size_t>(e.shape[0]), cols = static_cast<size_t>(e.shape[1]);
    std::vector<int8_t> want(rows * cols);
    std::vector<float> scales(rows);
    int8::quantize_rows(e.values<float>().data(), rows, cols, want.data(), scales.data());
    ASSERT_EQ(std::memcmp(a.data, want.data(), want.size()), 0) << e.name;
    const TensorView& scale = int8::scale_of(q, a);
    ASSERT_EQ(std::memcmp(scale.data, scales.data(), rows * sizeof(float)), 0) << e.name;
  }
  EXPECT_GT(int8_matrices, 0u);
  EXPECT_EQ(q.tensors().size(), source.tensors().size() + int8_matrices);

  const ModelFile p = ModelFile::open(dir / "q.parquet");
  EXPECT_EQ(p.format_version(), 2);
  for (const TensorView& t : q.tensors()) {
    const TensorView& u = p.tensor(t.name);
    ASSERT_EQ(u.dtype, t.dtype) << t.name;
    ASSERT_EQ(std::memcmp(u.data, t.data, t.nbytes()), 0) << t.name;
  }

  write_model(q, dir / "again.arrow", {});  // keeps int8: copied, never quantized twice
  const ModelFile again = ModelFile::open(dir / "again.arrow");
  for (const TensorView& t : q.tensors()) ASSERT_EQ(std::memcmp(again.tensor(t.name).data, t.data, t.nbytes()), 0);

  write_model(q, dir / "back.arrow", {.dtype = DType::F32});
  const ModelFile back = ModelFile::open(dir / "back.arrow");
  EXPECT_EQ(back.format_version(), 1);
  EXPECT_EQ(back.tensors().size(), source.tensors().size());
  const TensorView& qw = q.tensor("embeddings.word_embeddings.weight");
  const TensorView& fw = back.tensor("embeddings.word_embeddings.weight");
  ASSERT_EQ(fw.dtype, DType::F32);
  const float* scale = int8::scale_of(q, qw).values<float>().data();
  const size_t cols = static_cast<size_t>(qw.shape[1]);
  for (size_t i = 0; i < static_cast<size_t>(qw.numel()); ++i)
    ASSERT_EQ(fw.values<float>()[i], qw.values<int8_t>()[i] * scale[i / cols]) << i;
}

INSTANTIATE_TEST_SUITE_P(TinyModels, ConvertTinyModel, ::testing::Values("tiny-bert-cls", "tiny-bert-mean"));

TEST(ModelWriter, KindFollowsTheExtension) {
  EXPECT_EQ(model_file_kind_for("x/model.parquet"), ModelFileKind::Parquet);
  EXPECT_EQ(model_file_kind_for("x/model.arrow"), ModelFileKind::ArrowIpc);
  EXPECT_EQ(model_file_kind_for("model"), ModelFileKind::ArrowIpc);
}

TEST(ModelWriter, UnwritableTargetIsAClearErrorAndLeavesNothing) {
  TempDir dir;
  const ModelFile source = ModelFile::open(testing::tiny_model("tiny-bert-mean"));
  try {
    write_model(source, dir / "missing-dir" / "m.arrow", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write"), std::string::npos) << e.what();
  }
  EXPECT_THROW(write_model(source, dir / "m.arrow", {.dtype = DType::BF16}), Error);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(ModelWriter, OverwritesAtomically) {
  TempDir dir;
  const ModelFile source = ModelFile::open(testing::tiny_model("tiny-bert-mean"));
  write_model(source, dir / "m.arrow", {});
  const ModelFile first = ModelFile::open(dir / "m.arrow");  // keeps the old mapping
  write_model(source, dir / "m.arrow", {.dtype = DType::F16});
  EXPECT_EQ(ModelFile::open(dir / "m.arrow").config().dtype, DType::F16);
  EXPECT_NO_THROW(first.verify_checksums());  // the old file's inode is untouched
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace arrowembed
