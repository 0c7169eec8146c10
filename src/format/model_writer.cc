#include "arrowembed/format/model_writer.h"

#include <arrow/extension_type.h>
#include <arrow/io/file.h>
#include <arrow/ipc/writer.h>
#include <arrow/table.h>
#include <parquet/arrow/writer.h>
#include <parquet/exception.h>
#include <unistd.h>

#include <system_error>
#include <vector>

#include "arrowembed/error.h"
#include "arrowembed/format/bert_layout.h"
#include "arrowembed/format/int8.h"
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
// requested dtype (int8 with its scale tensor after it), 1-D tensors
// (biases, LayerNorm) always f32 because they are tiny and the engine adds
// them in f32 anyway. An int8 matrix stored as int8 again is copied as it
// is, never quantized twice.
struct StoredTensors {
  std::vector<TensorView> views;
  std::vector<uint64_t> checksums;
  std::vector<std::shared_ptr<const void>> owners;

  void add(TensorView t) {
    checksums.push_back(model_schema::checksum(t.data, t.nbytes()));
    views.push_back(std::move(t));
  }
  template <typename T>
  T* own(TensorView& t, DType dtype, size_t n) {
    auto owned = make_owned_buffer<T>(n);
    owners.push_back(owned);
    t.data = owned->data();
    t.dtype = dtype;
    return owned->data();
  }
};

// `src` as f32: itself, or a converted copy kept alive by `out`.
TensorView as_f32(const ModelFile& model, const TensorView& src, StoredTensors& out) {
  TensorView t = src;
  const size_t n = static_cast<size_t>(t.numel());
  switch (src.dtype) {
    case DType::F32: break;
    case DType::F16: half::f16_to_f32(static_cast<const uint16_t*>(src.data), out.own<float>(t, DType::F32, n), n); break;
    case DType::I8: {
      const TensorView& scale = int8::scale_of(model, src);
      const size_t rows = static_cast<size_t>(src.shape[0]);
      int8::dequantize_rows(static_cast<const int8_t*>(src.data), scale.values<float>().data(), rows, n / rows,
                            out.own<float>(t, DType::F32, n));
      break;
    }
    default:
      throw Error("cannot store tensor '" + t.name + "' of " + std::string(dtype_name(t.dtype)));
  }
  return t;
}

StoredTensors to_stored(const ModelFile& model, DType matrix_dtype) {
  StoredTensors out;
  for (const TensorView& src : model.tensors()) {
    if (int8::is_scale_of_int8_matrix(model, src)) continue;  // written with its matrix
    DType target = src.shape.size() >= 2 ? matrix_dtype : DType::F32;
    if (target == DType::I8 && bert::stays_f16_in_int8_file(src.name)) target = DType::F16;
    if (src.dtype == target) {
      out.add(src);
      if (target == DType::I8) out.add(int8::scale_of(model, src));
      continue;
    }
    TensorView t = as_f32(model, src, out);
    const size_t n = static_cast<size_t>(t.numel());
    const float* values = static_cast<const float*>(t.data);
    if (target == DType::F16) {
      half::f32_to_f16(values, out.own<uint16_t>(t, DType::F16, n), n);
    } else if (target == DType::I8) {
      if (t.shape.size() != 2) throw Error("cannot store tensor '" + t.name + "' of shape " + t.shape_string() + " as int8");
      const size_t rows = static_cast<size_t>(t.shape[0]);
      TensorView scale{int8::scale_name(t.name), DType::F32, {t.shape[0]}, nullptr};
      float* scales = out.own<float>(scale, DType::F32, rows);
      int8::quantize_rows(values, rows, n / rows, out.own<int8_t>(t, DType::I8, n), scales);
      out.add(std::move(t));
      out.add(std::move(scale));
      continue;
    }
    out.add(std::move(t));
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
  // compresses far better than interleaved floats. int8 values (stored as
  // Parquet INT32) take dictionary encoding instead: 256 values, 8-bit
  // indices, 6 % smaller than the raw bytes after zstd where
  // byte-stream-split was 49 % larger.
  parquet::WriterProperties::Builder builder;
  builder.compression(parquet::Compression::ZSTD)
      ->compression_level(zstd_level)
      ->disable_dictionary()
      ->encoding(parquet::Encoding::BYTE_STREAM_SPLIT)
      ->encoding(model_schema::kTokenizerColumn, parquet::Encoding::PLAIN);
  for (const auto& field : batch->schema()->fields()) {
    const auto& type = field->type()->id() == arrow::Type::EXTENSION
                           ? static_cast<const arrow::ExtensionType&>(*field->type()).storage_type()
                           : field->type();
    if (type->id() == arrow::Type::FIXED_SIZE_LIST && type->field(0)->type()->id() == arrow::Type::INT8) {
      const std::string path = field->name() + ".list.element";  // the fixed_size_list's values
      builder.enable_dictionary(path)->encoding(path, parquet::Encoding::PLAIN);
    }
  }
  auto props = builder.build();
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
  const DType dtype = options.dtype.value_or(model.config().dtype);  // validate() made it a stored dtype
  if (!is_stored_weight_dtype(dtype))
    throw Error("a model file stores f32, f16 or int8 weights, not " + std::string(dtype_name(dtype)));
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
