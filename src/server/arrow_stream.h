#pragma once
// Embeddings as an Arrow IPC stream (Accept: application/vnd.apache.arrow.stream):
// one record batch with a non-null fixed_size_list<float32, dimension> column
// "embedding". Clients read it with pyarrow.ipc.open_stream, zero-copy into
// numpy, instead of parsing megabytes of JSON floats.
#include <cstddef>
#include <string>

namespace arrowembed::server {

inline constexpr const char* kArrowStreamMime = "application/vnd.apache.arrow.stream";

// `metadata_json` (may be empty) goes into the schema metadata as "arrowembed.usage".
std::string embeddings_to_arrow_stream(const float* values, size_t rows, size_t dimension,
                                       const std::string& metadata_json);

}  // namespace arrowembed::server
