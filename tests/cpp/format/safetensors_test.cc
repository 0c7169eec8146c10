#include "format/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "arrowembed/error.h"
#include "common/test_util.h"

namespace arrowembed {
namespace {

using testing::TempDir;

std::vector<uint8_t> safetensors_bytes(const std::string& header, const std::vector<uint8_t>& data) {
  const uint64_t n = header.size();
  std::vector<uint8_t> out(8 + header.size() + data.size());
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
  return out;
}

std::vector<uint8_t> float_bytes(std::initializer_list<float> values) {
  std::vector<uint8_t> out(values.size() * 4);
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

void expect_error(const std::vector<uint8_t>& file, const std::string& fragment) {
  TempDir dir;
  testing::write_bytes(dir / "m.safetensors", file);
  try {
    read_safetensors(dir / "m.safetensors");
    FAIL() << "accepted a file that should fail with: " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Safetensors, ReadsTensorsInPlace) {
  TempDir dir;
  auto data = float_bytes({1, 2, 3, 4, 5, 6});
  testing::write_bytes(dir / "m.safetensors",
                       safetensors_bytes(R"({"__metadata__":{"format":"pt"},)"
                                         R"("a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                                         R"("b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}})",
                                         data));
  SafetensorsFile st = read_safetensors(dir / "m.safetensors");
  ASSERT_EQ(st.tensors.size(), 2u);
  EXPECT_EQ(st.tensors[0].name, "a");
  EXPECT_EQ(st.tensors[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(st.tensors[0].values<float>()[3], 4.0f);
  EXPECT_EQ(st.tensors[1].values<float>()[1], 6.0f);
  EXPECT_THROW(st.tensors[1].values<uint16_t>(), Error);
  EXPECT_EQ(st.tensors[0].shape_string(), "[2, 2]");
}

TEST(Safetensors, RejectsMalformedFiles) {
  const auto data = float_bytes({1, 2});
  expect_error({1, 2, 3}, "truncated safetensors file");
  // A header length past the end of the file (as in a truncated download).
  expect_error({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'}, "header length");
  expect_error(safetensors_bytes("{not json", data), "invalid JSON");
  expect_error(safetensors_bytes("[1]", data), "not a JSON object");
  expect_error(safetensors_bytes(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", data),
               "unsupported safetensors dtype 'Q4'");
  expect_error(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,80]}})", data),
               "outside the file");
  expect_error(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data),
               "do not match shape [3]");
  expect_error(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})", data),
               "invalid shape");
  expect_error(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2]}})", data), "data_offsets");
  expect_error(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                 R"("b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                                 data),
               "overlap");
  expect_error(safetensors_bytes(R"({"a":7})", data), "not described by an object");
}

TEST(Safetensors, MissingFileIsAClearError) {
  TempDir dir;
  try {
    read_safetensors(dir / "absent.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }
  try {
    read_safetensors(dir.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace arrowembed
