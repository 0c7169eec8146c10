#include "format/safetensors.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "arrowembed/error.h"
#include "format/json_util.h"
#include "format/mapped_file.h"

namespace arrowembed {

namespace {

// Only formats a model's weights can sensibly be in; integer buffers such
// as BERT's position_ids come as I64.
DType parse_safetensors_dtype(const std::string& name, const std::string& what) {
  if (name == "F32") return DType::F32;
  if (name == "F16") return DType::F16;
  if (name == "BF16") return DType::BF16;
  if (name == "F64") return DType::F64;
  if (name == "I64") return DType::I64;
  throw Error(what + ": unsupported safetensors dtype '" + name + "'");
}

constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the format's own limit

}  // namespace

SafetensorsFile read_safetensors(const std::filesystem::path& path) {
  const std::string what = path.string();
  MappedFile mapped = map_file(path);
  const auto* base = mapped.bytes->data();
  const uint64_t size = static_cast<uint64_t>(mapped.bytes->size());
  if (size < 8) throw Error(what + ": truncated safetensors file (" + std::to_string(size) + " bytes)");

  uint64_t header_len = 0;
  std::memcpy(&header_len, base, 8);  // little-endian on every supported host
  if (header_len > kMaxHeaderBytes || header_len > size - 8)
    throw Error(what + ": not a safetensors file or truncated (header length " +
                std::to_string(header_len) + ", file " + std::to_string(size) + " bytes)");
  const auto header = json_util::parse(
      std::string_view(reinterpret_cast<const char*>(base) + 8, header_len), what + " header");
  if (!header.is_object()) throw Error(what + ": safetensors header is not a JSON object");

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = size - data_start;
  SafetensorsFile out;
  out.file_bytes = size;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = what + ": tensor '" + name + "'";
    if (!entry.is_object()) throw Error(where + " is not described by an object");
    TensorView t;
    t.name = name;
    t.dtype = parse_safetensors_dtype(json_util::required<std::string>(entry, "dtype", where), where);
    const auto& shape = entry.value("shape", nlohmann::ordered_json());
    if (!shape.is_array()) throw Error(where + ": missing or invalid 'shape'");
    for (const auto& d : shape) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) throw Error(where + ": invalid shape");
      t.shape.push_back(d.get<int64_t>());
    }
    const auto& offsets = entry.value("data_offsets", nlohmann::ordered_json());
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      throw Error(where + ": missing or invalid 'data_offsets'");
    const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size)
      throw Error(where + ": data [" + std::to_string(begin) + ", " + std::to_string(end) +
                  ") lies outside the file's " + std::to_string(data_size) + " data bytes (truncated?)");
    if (end - begin != t.nbytes())
      throw Error(where + ": " + std::to_string(end - begin) + " bytes do not match shape " +
                  t.shape_string() + " of " + std::string(dtype_name(t.dtype)));
    t.data = base + data_start + begin;
    ranges.emplace_back(begin, end);
    out.tensors.push_back(std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) throw Error(what + ": tensors overlap in the data section");

  out.mapping = std::shared_ptr<const void>(mapped.bytes, mapped.bytes.get());
  return out;
}

}  // namespace arrowembed
