#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace arrowembed::tok {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_EQ(find_invalid_utf8(""), kValidUtf8);
  EXPECT_EQ(find_invalid_utf8("plain ascii text that is longer than eight bytes"), kValidUtf8);
  EXPECT_EQ(find_invalid_utf8("h\xC3\xA9llo \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"), kValidUtf8);
}

TEST(Utf8, ReportsTheFirstBadByte) {
  EXPECT_EQ(find_invalid_utf8("abc\xFF"), 3u);                       // never valid
  EXPECT_EQ(find_invalid_utf8("abcdefghij\x80"), 10u);               // stray continuation after the fast path
  EXPECT_EQ(find_invalid_utf8("a\xC3"), 1u);                         // truncated
  EXPECT_EQ(find_invalid_utf8("a\xC3\x28"), 1u);                     // bad continuation
  EXPECT_EQ(find_invalid_utf8("\xC0\xAF"), 0u);                      // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xE0\x80\xAF"), 0u);                  // overlong, 3 bytes
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);                  // surrogate U+D800
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);              // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("ok \xF0\x9F\x98"), 3u);               // truncated 4-byte
  EXPECT_EQ(find_invalid_utf8(std::string("a\0b", 3)), kValidUtf8);  // NUL is valid UTF-8
}

TEST(Utf8, EncodeDecodeRoundTrip) {
  for (char32_t cp : {char32_t(0x41), char32_t(0xE9), char32_t(0x4F60), char32_t(0x1F600), char32_t(0x10FFFF)}) {
    char buffer[4];
    const int n = encode_utf8(cp, buffer);
    int length = 0;
    EXPECT_EQ(decode_utf8(reinterpret_cast<const unsigned char*>(buffer), length), cp);
    EXPECT_EQ(length, n);
  }
}

}  // namespace
}  // namespace arrowembed::tok
