#pragma once
// The file operations a crash-safe commit is made of: fsync of a file and of
// a directory, an atomic replace of a small file, and checksums of whole
// files. Every failure is an Error naming the file.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace arrowembed::collection {

// Flushes a file's data (and size) to the disk.
void fsync_file(const std::filesystem::path& path);
// Flushes a directory's entries (a rename or a new file in it).
void fsync_dir(const std::filesystem::path& dir);
// Writes `bytes` to path + ".tmp", fsyncs it, renames it over `path` and
// fsyncs the directory: afterwards readers see either the old or the new
// file, whatever happens to the process or the machine.
void replace_file_atomically(const std::filesystem::path& path, std::string_view bytes);
// XXH3-64 of a whole file's bytes (read through a memory map), as 16 hex digits.
std::string file_checksum(const std::filesystem::path& path);
std::string hex64(uint64_t value);

}  // namespace arrowembed::collection
