#include "format/mapped_file.h"

#include <system_error>

#include "arrowembed/error.h"

namespace arrowembed {

MappedFile map_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Error("cannot open " + path.string() + ": " +
                (std::filesystem::exists(path, ec) ? "not a regular file" : "no such file"));
  auto file = arrow::io::MemoryMappedFile::Open(path.string(), arrow::io::FileMode::READ);
  if (!file.ok()) throw Error("cannot open " + path.string() + ": " + file.status().message());
  MappedFile mapped{*file, nullptr};
  auto size = mapped.file->GetSize();
  if (!size.ok()) throw Error("cannot open " + path.string() + ": " + size.status().message());
  auto bytes = mapped.file->ReadAt(0, *size);
  if (!bytes.ok()) throw Error("cannot read " + path.string() + ": " + bytes.status().message());
  mapped.bytes = *bytes;
  return mapped;
}

}  // namespace arrowembed
