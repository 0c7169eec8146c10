#include "arrowembed/format/model_writer.h"

#include <arrow/io/file.h>
#include <arrow/ipc/writer.h>
#include <arrow/table.h>
#include <parquet/arrow/writer.h>
#include <parquet/exception.h>
#include <unistd.h>

#include <system_error>
#include <vector>

#include "arrowembed/error.h"
#include "format/aligned_ipc_stream.h"
#include "format/half.h"
#include "format/model_schema.h"
#include "format/model_state.h"

namespace arrowembed {

namespace fs = std::filesystem;

ModelFileKind model_file_kind_for(const fs::path& path) {
  return path.extension() == ".parquet" ? ModelFileKind::Parquet : ModelFileKind::ArrowIpc;
}

namespace {

// The tensors in the element types they are stored in: matrices in the
// requested dtype, 1-D tensors (biases, LayerNorm) always f32 because they
// are tiny and the engine adds them in f32 anyway.
struct StoredTensors {
  std::vector<TensorView> views;
  std::vector<uint64_t> checksums;
  std::vector<std::shared_ptr<const void>> owners;
};

StoredTensors to_stored(const ModelFile& model, DType matrix_dtype) {
  StoredTensors out;
  for (const TensorView& src : model.tensors()) {
    TensorView t = src;
    const DType target = t.shape.size() >= 2 ? matrix_dtype : DType::F32;
    const size_t n = static_cast<size_t>(t.numel());
    if (t.dtype == DType::F32 && target == DType::F16) {
      auto owned = make_owned_buffer<uint16_t>(n);
      half::f32_to_f16(static_cast<const float*>(t.data), owned->data(), n);
      t.data = owned->data();
      out.owners.push_back(owned);
    } else if (t.dtype == DType::F16 && target == DType::F32) {
      auto owned = make_owned_buffer<float>(n);
      half::f16_to_f32(static_cast<const uint16_t*>(t.data), owned->data(), n);
      t.data = owned->data();
      out.owners.push_back(owned);
    } else if (t.dtype != target) {
      throw Error("cannot store tensor '" + t.name + "' of " + std::string(dtype_name(t.dtype)) + " as " +
                  std::string(dtype_name(target)));
    }
    t.dtype = target;
    out.checksums.push_back(model_schema::checksum(t.data, t.nbytes()));
    out.views.push_back(std::move(t));
  }
  return out;
}

void check(const arrow::Status& status, const fs::path& path) {
  if (!status.ok()) throw Error("cannot write " + path.string() + ": " + status.message());
}

void write_ipc(const std::shared_ptr<arrow::RecordBatch>& batch, const fs::path& path) {
  auto file = arrow::io::FileOutputStream::Open(path.string());
  check(file.status(), path);
  auto out = std::make_shared<AlignedIpcFileStream>(*file);
  auto options = arrow::ipc::IpcWriteOptions::Defaults();
  options.alignment = model_schema::kAlignment;
  auto writer = arrow::ipc::MakeFileWriter(out, batch->schema(), options);
  check(writer.status(), path);
  check((*writer)->WriteRecordBatch(*batch), path);
  check((*writer)->Close(), path);
  check(out->Close(), path);
}

void write_parquet(const std::shared_ptr<arrow::RecordBatch>& batch, const fs::path& path, int zstd_level) {
  auto out = arrow::io::FileOutputStream::Open(path.string());
  check(out.status(), path);
  // Byte-stream-split puts each float's exponent bytes together, which zstd
  // compresses far better than interleaved floats.
  auto props = parquet::WriterProperties::Builder()
                   .compression(parquet::Compression::ZSTD)
                   ->compression_level(zstd_level)
                   ->disable_dictionary()
                   ->encoding(parquet::Encoding::BYTE_STREAM_SPLIT)
                   ->encoding(model_schema::kTokenizerColumn, parquet::Encoding::PLAIN)
                   ->build();
  auto arrow_props = parquet::ArrowWriterProperties::Builder().store_schema()->build();
  auto table = arrow::Table::FromRecordBatches({batch});
  check(table.status(), path);
  try {
    check(parquet::arrow::WriteTable(**table, arrow::default_memory_pool(), *out, 1, props, arrow_props), path);
  } catch (const parquet::ParquetException& e) {
    throw Error("cannot write " + path.string() + ": " + e.what());
  }
  check((*out)->Close(), path);
}

}  // namespace

void write_model(const ModelFile& model, const fs::path& out, const WriteOptions& options) {
  const DType dtype = options.dtype.value_or(model.config().dtype == DType::F16 ? DType::F16 : DType::F32);
  if (!is_stored_weight_dtype(dtype))
    throw Error("a model file stores f32 or f16 weights, not " + std::string(dtype_name(dtype)));
  ModelConfig config = model.config();
  config.dtype = dtype;
  StoredTensors stored = to_stored(model, dtype);
  auto batch = model_schema::build_batch(config, model.tokenizer_json(), stored.views, stored.checksums);

  // Write next to the target and rename, so a crash never leaves a
  // half-written model where a good one is expected.
  fs::path tmp = out;
  tmp += ".tmp." + std::to_string(::getpid());
  try {
    if (options.kind == ModelFileKind::Parquet)
      write_parquet(batch, tmp, options.zstd_level);
    else
      write_ipc(batch, tmp);
    std::error_code ec;
    fs::rename(tmp, out, ec);
    if (ec) throw Error("cannot write " + out.string() + ": " + ec.message());
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

}  // namespace arrowembed
