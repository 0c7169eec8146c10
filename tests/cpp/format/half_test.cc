#include "format/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace arrowembed {
namespace {

uint16_t to_f16(float x) {
  uint16_t h;
  half::f32_to_f16(&x, &h, 1);  // n = 1 takes the scalar path
  return h;
}

float bits_to_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

TEST(Half, KnownValues) {
  EXPECT_EQ(to_f16(0.0f), 0x0000);
  EXPECT_EQ(to_f16(-0.0f), 0x8000);
  EXPECT_EQ(to_f16(1.0f), 0x3c00);
  EXPECT_EQ(to_f16(-2.0f), 0xc000);
  EXPECT_EQ(to_f16(65504.0f), 0x7bff);                  // largest finite
  EXPECT_EQ(to_f16(65520.0f), 0x7c00);                  // halfway to 65536: rounds to inf
  EXPECT_EQ(to_f16(1e9f), 0x7c00);                      // overflow
  EXPECT_EQ(to_f16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(to_f16(std::ldexp(1.0f, -24)), 0x0001);     // smallest subnormal
  EXPECT_EQ(to_f16(std::ldexp(1.0f, -25)), 0x0000);     // tie to even (zero)
  EXPECT_EQ(to_f16(std::ldexp(3.0f, -25)), 0x0002);     // tie to even (up)
  EXPECT_EQ(to_f16(std::ldexp(1.0f, -14)), 0x0400);     // smallest normal
  // 1 + 2^-11 is exactly between 1 and the next f16: ties to even (1.0).
  EXPECT_EQ(to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  const uint16_t nan = to_f16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x03ff, 0);
}

// The vector (F16C) path and the scalar path must agree bit for bit on
// every kind of value, including rounding ties.
TEST(Half, VectorAndScalarPathsAgree) {
  std::mt19937 rng(7);
  std::vector<float> values;
  for (int i = 0; i < 100000; ++i) values.push_back(bits_to_float(rng()));
  for (uint32_t h = 0; h < 0x10000; ++h) {  // every f16 value and the midpoints next to it
    float f;
    const uint16_t hh = static_cast<uint16_t>(h);
    half::f16_to_f32(&hh, &f, 1);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    values.push_back(f);
    values.push_back(bits_to_float(bits + 0x1000));
  }
  std::vector<uint16_t> fast(values.size());
  half::f32_to_f16(values.data(), fast.data(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) {
      EXPECT_EQ(fast[i] & 0x7c00, 0x7c00);
      EXPECT_NE(fast[i] & 0x3ff, 0);
    } else {
      ASSERT_EQ(fast[i], to_f16(values[i])) << "value " << values[i];
    }
  }
}

TEST(Half, RoundTripOfEveryF16IsExact) {
  std::vector<uint16_t> all(0x10000);
  for (uint32_t h = 0; h < 0x10000; ++h) all[h] = static_cast<uint16_t>(h);
  std::vector<float> wide(all.size());
  half::f16_to_f32(all.data(), wide.data(), all.size());
  std::vector<uint16_t> back(all.size());
  half::f32_to_f16(wide.data(), back.data(), wide.size());
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;  // NaN payloads may be quieted
    ASSERT_EQ(back[h], h);
  }
  float one;
  const uint16_t h_one = 0x3c00;
  half::f16_to_f32(&h_one, &one, 1);
  EXPECT_EQ(one, 1.0f);
}

TEST(Half, Bf16AndF64Widen) {
  const uint16_t bf[] = {0x3f80, 0xc040};  // 1.0, -3.0
  float out[2];
  half::bf16_to_f32(bf, out, 2);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -3.0f);
  const double d[] = {0.1, -1e300};
  half::f64_to_f32(d, out, 2);
  EXPECT_EQ(out[0], 0.1f);
  EXPECT_TRUE(std::isinf(out[1]));
}

}  // namespace
}  // namespace arrowembed
