#pragma once
// The arrowembed model file layout, shared by the Arrow IPC and Parquet
// forms (format version 1; version 2 adds int8 tensors, see below):
//
//  - one record batch with one row;
//  - one column per tensor, named like the tensor, of Arrow's canonical
//    extension type arrow.fixed_shape_tensor (storage: fixed_size_list of
//    float32, float16 or int8 with all of the tensor's elements), so pyarrow
//    reads each column straight into a numpy array of the right shape;
//  - (version 2) an int8 matrix has an f32 column "<name>_scale" beside it,
//    one scale per row (format/int8.h). A file is written with the oldest
//    version that can read it: 2 only when it holds int8 tensors, so f32
//    and f16 files stay readable by older arrowembed;
//  - field metadata "arrowembed.xxh3": XXH3-64 of the tensor bytes (hex);
//  - a utf8 column "tokenizer.json": the Hugging Face tokenizer.json,
//    byte for byte (a column, not schema metadata, because the IPC file
//    footer repeats the schema and would store it twice);
//  - schema metadata: "arrowembed.format_version" and "arrowembed.config"
//    (ModelConfig JSON).
//
// In the IPC form every buffer is padded to 64 bytes, so each tensor starts
// on a 64-byte boundary of the memory-mapped file.
#include <arrow/record_batch.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "arrowembed/format/model_file.h"

namespace arrowembed::model_schema {

inline constexpr int kFirstFormatVersion = 1;
inline constexpr int kInt8FormatVersion = 2;
inline constexpr int kFormatVersion = kInt8FormatVersion;  // the newest this build reads
inline constexpr int kAlignment = 64;
inline constexpr const char* kVersionKey = "arrowembed.format_version";
inline constexpr const char* kConfigKey = "arrowembed.config";
inline constexpr const char* kTokenizerColumn = "tokenizer.json";
inline constexpr const char* kChecksumKey = "arrowembed.xxh3";

uint64_t checksum(const void* data, size_t nbytes);

// Wraps the tensors (already in their stored dtype) without copying them;
// the caller keeps their memory alive while the batch is in use.
std::shared_ptr<arrow::RecordBatch> build_batch(const ModelConfig& config, std::string_view tokenizer_json,
                                                std::span<const TensorView> tensors,
                                                std::span<const uint64_t> checksums);

// Reads config, tokenizer and tensor views (pointing into the batch's
// buffers) into `state`, and keeps the batch alive there. Throws Error.
void read_batch(const std::shared_ptr<arrow::RecordBatch>& batch, ModelFile::State& state);

}  // namespace arrowembed::model_schema
