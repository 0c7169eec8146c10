#include "arrowembed/format/model_file.h"

#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/table.h>
#include <parquet/arrow/reader.h>
#include <parquet/exception.h>

#include <cstring>
#include <system_error>

#include "arrowembed/error.h"
#include "arrowembed/format/bert_layout.h"
#include "format/hf_model_dir.h"
#include "format/mapped_file.h"
#include "format/model_schema.h"
#include "format/model_state.h"

namespace arrowembed {

namespace fs = std::filesystem;

void ModelFile::State::finish() {
  config.validate();
  index.clear();
  aligned_64 = true;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorView& t = tensors[i];
    if (!index.emplace(t.name, i).second) throw Error(path.string() + ": duplicate tensor '" + t.name + "'");
    const auto addr = reinterpret_cast<uintptr_t>(t.data);
    if (addr % dtype_size(t.dtype) != 0)
      throw Error(path.string() + ": tensor '" + t.name + "' is not aligned to its element size");
    aligned_64 = aligned_64 && addr % model_schema::kAlignment == 0;
  }
  if (checksums.size() != tensors.size()) checksums.resize(tensors.size());
  try {
    bert::check_tensors(config, tensors);
  } catch (const Error& e) {
    throw Error(path.string() + ": " + e.what());
  }
}

namespace {

std::shared_ptr<ModelFile::State> read_arrow_ipc(const fs::path& path, const MappedFile& mapped) {
  auto state = std::make_shared<ModelFile::State>();
  state->kind = ModelSourceKind::ArrowIpc;
  state->path = path;
  state->file_bytes = static_cast<uint64_t>(mapped.bytes->size());
  auto fail = [&](const arrow::Status& s) -> Error {
    return Error(path.string() + ": corrupted or truncated Arrow model file (" + s.message() + ")");
  };
  auto reader = arrow::ipc::RecordBatchFileReader::Open(mapped.file);
  if (!reader.ok()) throw fail(reader.status());
  if ((*reader)->num_record_batches() != 1)
    throw Error(path.string() + ": expected one record batch, found " +
                std::to_string((*reader)->num_record_batches()));
  auto batch = (*reader)->ReadRecordBatch(0);
  if (!batch.ok()) throw fail(batch.status());
  model_schema::read_batch(*batch, *state);
  state->owners.push_back(mapped.bytes);
  return state;
}

std::shared_ptr<ModelFile::State> read_parquet(const fs::path& path, const MappedFile& mapped) {
  auto state = std::make_shared<ModelFile::State>();
  state->kind = ModelSourceKind::Parquet;
  state->path = path;
  state->file_bytes = static_cast<uint64_t>(mapped.bytes->size());
  auto fail = [&](const std::string& msg) -> Error {
    return Error(path.string() + ": corrupted or truncated Parquet model file (" + msg + ")");
  };
  try {
    auto reader = parquet::arrow::OpenFile(mapped.file, arrow::default_memory_pool());
    if (!reader.ok()) throw fail(reader.status().message());
    auto table = (*reader)->ReadTable();
    if (!table.ok()) throw fail(table.status().message());
    auto batch = (*table)->CombineChunksToBatch();
    if (!batch.ok()) throw fail(batch.status().message());
    model_schema::read_batch(*batch, *state);
  } catch (const parquet::ParquetException& e) {
    throw fail(e.what());
  }
  return state;
}

}  // namespace

ModelFile ModelFile::open(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return ModelFile(read_hf_model_dir(path));
  MappedFile mapped = map_file(path);
  const auto* bytes = mapped.bytes->data();
  const int64_t size = mapped.bytes->size();
  std::shared_ptr<State> state;
  if (size >= 6 && std::memcmp(bytes, "ARROW1", 6) == 0) {
    state = read_arrow_ipc(path, mapped);
  } else if (size >= 4 && std::memcmp(bytes, "PAR1", 4) == 0) {
    state = read_parquet(path, mapped);
  } else {
    throw Error(path.string() +
                ": not a model file (expected an arrowembed .arrow or .parquet file or a Hugging Face "
                "model directory)");
  }
  state->finish();
  return ModelFile(std::move(state));
}

ModelFile::ModelFile(std::shared_ptr<const State> state) : state_(std::move(state)) {}

const ModelConfig& ModelFile::config() const { return state_->config; }
std::string_view ModelFile::tokenizer_json() const { return state_->tokenizer_json; }
std::span<const TensorView> ModelFile::tensors() const { return state_->tensors; }
ModelSourceKind ModelFile::source_kind() const { return state_->kind; }
const fs::path& ModelFile::path() const { return state_->path; }
uint64_t ModelFile::file_bytes() const { return state_->file_bytes; }
int ModelFile::format_version() const { return state_->format_version; }
bool ModelFile::aligned_64() const { return state_->aligned_64; }

const TensorView* ModelFile::find(std::string_view name) const {
  auto it = state_->index.find(name);
  return it == state_->index.end() ? nullptr : &state_->tensors[it->second];
}

const TensorView& ModelFile::tensor(std::string_view name) const {
  if (const TensorView* t = find(name)) return *t;
  throw Error(state_->path.string() + ": no tensor '" + std::string(name) + "'");
}

void ModelFile::verify_checksums() const {
  for (size_t i = 0; i < state_->tensors.size(); ++i) {
    const auto& expected = state_->checksums[i];
    if (!expected) continue;
    const TensorView& t = state_->tensors[i];
    if (model_schema::checksum(t.data, t.nbytes()) != *expected)
      throw Error(state_->path.string() + ": tensor '" + t.name + "' is corrupted (checksum mismatch)");
  }
}

}  // namespace arrowembed
