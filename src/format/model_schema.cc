#include "format/model_schema.h"

#include <arrow/api.h>
#include <arrow/extension/fixed_shape_tensor.h>
#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "arrowembed/error.h"
#include "format/json_util.h"
#include "format/model_state.h"

namespace arrowembed::model_schema {

namespace {

std::shared_ptr<arrow::DataType> arrow_value_type(DType dtype) {
  switch (dtype) {
    case DType::F32: return arrow::float32();
    case DType::F16: return arrow::float16();
    case DType::I8: return arrow::int8();
    default: throw Error("a model file stores only f32, f16 and int8 tensors, not " + std::string(dtype_name(dtype)));
  }
}

std::string to_hex(uint64_t v) {
  char buf[17];
  auto [end, ec] = std::to_chars(buf, buf + 16, v, 16);
  std::string s(buf, end);
  return std::string(16 - s.size(), '0') + s;
}

std::string metadata_value(const arrow::KeyValueMetadata* md, const char* key, const std::string& what) {
  if (md != nullptr) {
    const int i = md->FindKey(key);
    if (i >= 0) return md->value(i);
  }
  throw Error(what + ": missing metadata '" + key + "'");
}

// Shape of a fixed_shape_tensor column: from the extension type when Arrow
// has it registered, else from the field's extension metadata.
std::vector<int64_t> column_shape(const arrow::Field& field, const std::string& what) {
  if (field.type()->id() == arrow::Type::EXTENSION) {
    const auto& ext = static_cast<const arrow::ExtensionType&>(*field.type());
    if (ext.extension_name() != "arrow.fixed_shape_tensor")
      throw Error(what + ": extension type '" + ext.extension_name() + "' is not a tensor");
    return static_cast<const arrow::extension::FixedShapeTensorType&>(ext).shape();
  }
  const auto* md = field.metadata().get();
  const int i = md ? md->FindKey("ARROW:extension:metadata") : -1;
  if (i < 0) throw Error(what + ": column is not an arrow.fixed_shape_tensor");
  const auto j = json_util::parse(md->value(i), what + " extension metadata");
  if (!j.is_object() || !j.contains("shape") || !j["shape"].is_array())
    throw Error(what + ": tensor extension metadata has no shape");
  std::vector<int64_t> shape;
  for (const auto& d : j["shape"]) {
    if (!d.is_number_integer()) throw Error(what + ": invalid tensor shape");
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

}  // namespace

uint64_t checksum(const void* data, size_t nbytes) { return XXH3_64bits(data, nbytes); }

std::shared_ptr<arrow::RecordBatch> build_batch(const ModelConfig& config, std::string_view tokenizer_json,
                                                std::span<const TensorView> tensors,
                                                std::span<const uint64_t> checksums) {
  arrow::FieldVector fields;
  arrow::ArrayVector columns;
  int version = kFirstFormatVersion;  // the oldest version that can read these tensors
  // Tensors of whole kAlignment multiples first: Arrow pads the buffers of an
  // IPC record batch to 8 bytes only, so an odd-sized tensor (e.g. the word
  // table's 30522 int8 scales) would shift every later one off its 64-byte
  // boundary; placed last, it shifts none.
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_partition(order.begin(), order.end(), [&](size_t i) { return tensors[i].nbytes() % kAlignment == 0; });
  for (size_t i : order) {
    const TensorView& t = tensors[i];
    if (t.dtype == DType::I8) version = std::max(version, kInt8FormatVersion);
    if (t.shape.empty() || t.numel() <= 0 || t.numel() > INT32_MAX)
      throw Error("tensor '" + t.name + "' with shape " + t.shape_string() + " cannot be stored");
    auto value_type = arrow_value_type(t.dtype);
    auto values = arrow::MakeArray(arrow::ArrayData::Make(
        value_type, t.numel(),
        {nullptr, std::make_shared<arrow::Buffer>(static_cast<const uint8_t*>(t.data),
                                                  static_cast<int64_t>(t.nbytes()))},
        0));
    auto storage = std::make_shared<arrow::FixedSizeListArray>(
        arrow::fixed_size_list(value_type, static_cast<int32_t>(t.numel())), 1, values);
    auto type = arrow::extension::fixed_shape_tensor(value_type, t.shape);
    fields.push_back(arrow::field(t.name, type, /*nullable=*/false,
                                  arrow::key_value_metadata({kChecksumKey}, {to_hex(checksums[i])})));
    columns.push_back(arrow::ExtensionType::WrapArray(type, storage));
  }
  arrow::StringBuilder tokenizer;
  if (!tokenizer.Append(tokenizer_json.data(), static_cast<int32_t>(tokenizer_json.size())).ok())
    throw Error("tokenizer.json is too large");
  fields.push_back(arrow::field(kTokenizerColumn, arrow::utf8(), /*nullable=*/false));
  columns.push_back(*tokenizer.Finish());
  auto metadata = arrow::key_value_metadata({kVersionKey, kConfigKey},
                                            {std::to_string(version), config.to_json()});
  return arrow::RecordBatch::Make(arrow::schema(fields, metadata), 1, columns);
}

void read_batch(const std::shared_ptr<arrow::RecordBatch>& batch, ModelFile::State& state) {
  const std::string what = state.path.string();
  const auto& schema = *batch->schema();
  const auto* md = schema.metadata().get();
  if (md == nullptr || md->FindKey(kVersionKey) < 0)
    throw Error(what + ": an Arrow file, but not an arrowembed model (no '" + kVersionKey + "' metadata)");
  const std::string version = metadata_value(md, kVersionKey, what);
  int v = 0;
  auto [ptr, ec] = std::from_chars(version.data(), version.data() + version.size(), v);
  if (ec != std::errc() || ptr != version.data() + version.size() || v < 1)
    throw Error(what + ": invalid format version '" + version + "'");
  if (v > kFormatVersion)
    throw Error(what + ": model format version " + version + " is newer than this arrowembed reads (" +
                std::to_string(kFormatVersion) + "); upgrade arrowembed");
  state.format_version = v;
  state.config = ModelConfig::from_json(metadata_value(md, kConfigKey, what));

  if (batch->num_rows() != 1)
    throw Error(what + ": expected one row of tensors, found " + std::to_string(batch->num_rows()));
  auto status = batch->Validate();
  if (!status.ok()) throw Error(what + ": corrupted model file (" + status.message() + ")");

  for (int i = 0; i < batch->num_columns(); ++i) {
    const auto& field = *schema.field(i);
    std::shared_ptr<arrow::Array> column = batch->column(i);
    if (field.name() == kTokenizerColumn) {
      if (column->type_id() != arrow::Type::STRING || column->null_count() != 0)
        throw Error(what + ": column '" + kTokenizerColumn + "' is not a non-null utf8 string");
      state.tokenizer_json = static_cast<const arrow::StringArray&>(*column).GetView(0);
      continue;
    }
    const std::string where = what + ": tensor '" + field.name() + "'";
    if (column->type_id() == arrow::Type::EXTENSION)
      column = static_cast<const arrow::ExtensionArray&>(*column).storage();
    if (column->type_id() != arrow::Type::FIXED_SIZE_LIST || column->null_count() != 0)
      throw Error(where + ": column is not a non-null fixed_size_list");
    const auto& list = static_cast<const arrow::FixedSizeListArray&>(*column);
    const auto& values = *list.values();

    TensorView t;
    t.name = field.name();
    switch (values.type_id()) {
      case arrow::Type::FLOAT: t.dtype = DType::F32; break;
      case arrow::Type::HALF_FLOAT: t.dtype = DType::F16; break;
      case arrow::Type::INT8:
        if (v < kInt8FormatVersion) throw Error(where + ": int8 tensors need format version 2, the file says " + version);
        t.dtype = DType::I8;
        break;
      default: throw Error(where + ": element type " + values.type()->ToString() + " is not float32/float16/int8");
    }
    t.shape = column_shape(field, where);
    if (t.numel() != list.value_length(0) || values.null_count() != 0)
      throw Error(where + ": shape " + t.shape_string() + " does not match its " +
                  std::to_string(list.value_length(0)) + " values");
    const auto& data = values.data();
    const int64_t first = data->offset + list.value_offset(0);
    if (data->buffers.size() < 2 || !data->buffers[1] ||
        data->buffers[1]->size() < static_cast<int64_t>((first + t.numel()) * dtype_size(t.dtype)))
      throw Error(where + ": data buffer is truncated");
    t.data = data->buffers[1]->data() + first * static_cast<int64_t>(dtype_size(t.dtype));

    std::optional<uint64_t> sum;
    if (const auto* fmd = field.metadata().get(); fmd && fmd->FindKey(kChecksumKey) >= 0) {
      const std::string hex = fmd->value(fmd->FindKey(kChecksumKey));
      uint64_t parsed = 0;
      auto [p, e] = std::from_chars(hex.data(), hex.data() + hex.size(), parsed, 16);
      if (e != std::errc() || p != hex.data() + hex.size()) throw Error(where + ": invalid checksum metadata");
      sum = parsed;
    }
    state.tensors.push_back(std::move(t));
    state.checksums.push_back(sum);
  }
  if (state.tokenizer_json.empty()) throw Error(what + ": no '" + kTokenizerColumn + "' column");
  state.owners.push_back(batch);
}

}  // namespace arrowembed::model_schema
