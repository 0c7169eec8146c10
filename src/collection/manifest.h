#pragma once
// manifest.json: the committed state of a collection (docs/collections.md).
// Only files the manifest names are part of the collection; anything else
// in the directory is a leftover of an interrupted write.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "arrowembed/collection/collection.h"

namespace arrowembed::collection {

inline constexpr const char* kManifestName = "manifest.json";
inline constexpr const char* kManifestFormat = "arrowembed-collection";
inline constexpr int kManifestVersion = 1;

struct FileEntry {
  std::string file;      // name inside the collection directory
  uint64_t bytes = 0;    // size on disk
  std::string xxh3;      // XXH3-64 of the file, hex
};

struct SegmentEntry : FileEntry {
  uint64_t rows = 0;
  std::vector<std::string> deleted;  // tombstones: ids of this segment deleted since it was written
};

struct IndexEntry : FileEntry {
  uint64_t elements = 0;  // vectors in the index: the first `elements` rows of the segments, in order
  int m = 16;
  int ef_construction = 200;
};

struct Manifest {
  ModelFingerprint model;
  DType dtype = DType::F32;
  std::vector<std::string> metadata_columns;  // union over the segments, in first-seen order
  std::vector<SegmentEntry> segments;
  std::optional<IndexEntry> index;
  uint64_t next_file = 1;    // number for the next seg-<n>/index-<n> file
  uint64_t generation = 0;   // commits so far

  uint64_t rows() const;
  uint64_t deleted() const;
};

// Throws Error naming the file for a missing, unreadable or malformed manifest.
Manifest read_manifest(const std::filesystem::path& dir);
// Commits: manifest.json.tmp, fsync, rename, fsync the directory.
void write_manifest(const std::filesystem::path& dir, const Manifest& manifest);
std::string manifest_json(const Manifest& manifest);

}  // namespace arrowembed::collection
