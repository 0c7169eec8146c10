#pragma once
// Helpers shared by the C++ tests: scratch directories, file bytes, and the
// committed fixtures.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace arrowembed::testing {

inline std::filesystem::path source_dir() { return ARROWEMBED_SOURCE_DIR; }
inline std::filesystem::path tiny_model(const std::string& name) {
  return source_dir() / "tests" / "fixtures" / "tiny-models" / name;
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("arrowembed-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& path, const void* data, size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
}
inline void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  write_bytes(path, bytes.data(), bytes.size());
}
inline void write_text(const std::filesystem::path& path, const std::string& text) {
  write_bytes(path, text.data(), text.size());
}

// Copies a fixture model directory so a test can damage its copy.
inline std::filesystem::path copy_model(const std::filesystem::path& from, const TempDir& dir,
                                        const std::string& name = "model") {
  auto to = dir / name;
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
  return to;
}

}  // namespace arrowembed::testing
