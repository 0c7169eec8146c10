#include "interop/arrow_text_column.h"

#include <arrow/array.h>
#include <arrow/c/abi.h>
#include <arrow/c/bridge.h>
#include <arrow/type.h>

#include <string>

#include "arrowembed/error.h"

namespace arrowembed::interop {
namespace {

// Arrow C++ imports by moving: it takes over the struct and calls its release
// callback when done. To borrow instead, it gets a shallow copy whose release
// only marks the copy released; the caller's struct keeps its own. String
// arrays and their schemas have no children and no dictionary, so the copy
// is complete (anything else is refused before import).
void release_borrowed_array(ArrowArray* array) { array->release = nullptr; }
void release_borrowed_schema(ArrowSchema* schema) { schema->release = nullptr; }

bool is_text_format(std::string_view format) { return format == "u" || format == "U" || format == "vu"; }

template <typename ArrayType>
void append_views(const ArrayType& array, std::vector<std::string_view>& out) {
  for (int64_t i = 0; i < array.length(); ++i) out.push_back(array.GetView(i));
}

}  // namespace

void ArrowTextColumn::append(const ArrowSchema& schema, const ArrowArray& array) {
  if (schema.release == nullptr || array.release == nullptr) throw Error("the Arrow array was already released");
  const std::string_view format = schema.format ? schema.format : "";
  if (!is_text_format(format) || schema.n_children != 0 || schema.dictionary != nullptr) {
    throw Error("texts must be an Arrow string, large_string or string_view array, not format '" +
                std::string(format) + "'" + (schema.dictionary ? " (dictionary-encoded)" : ""));
  }
  ArrowSchema schema_copy = schema;
  schema_copy.release = release_borrowed_schema;
  ArrowArray array_copy = array;
  array_copy.release = release_borrowed_array;
  auto imported = arrow::ImportArray(&array_copy, &schema_copy);
  if (!imported.ok()) throw Error("cannot read the Arrow array: " + imported.status().message());
  std::shared_ptr<arrow::Array> chunk = *imported;
  // Offsets and view lengths must stay inside their buffers before anything
  // reads them, and the engine wants UTF-8: a full validation checks both
  // (one pass over the bytes, small next to embedding them).
  if (auto valid = chunk->ValidateFull(); !valid.ok()) {
    throw Error("the Arrow string array is invalid: " + valid.message());
  }
  if (chunk->null_count() > 0) {
    int64_t row = 0;
    while (chunk->IsValid(row)) ++row;
    throw Error("text " + std::to_string(texts_.size() + static_cast<size_t>(row)) +
                " is null: embed only non-null strings (drop or fill the nulls first)");
  }

  texts_.reserve(texts_.size() + static_cast<size_t>(chunk->length()));
  switch (chunk->type_id()) {
    case arrow::Type::STRING:
      append_views(static_cast<const arrow::StringArray&>(*chunk), texts_);
      break;
    case arrow::Type::LARGE_STRING:
      append_views(static_cast<const arrow::LargeStringArray&>(*chunk), texts_);
      break;
    case arrow::Type::STRING_VIEW:
      append_views(static_cast<const arrow::StringViewArray&>(*chunk), texts_);
      break;
    default:
      throw Error("texts must be an Arrow string array, not " + chunk->type()->ToString());
  }
  chunks_.push_back(std::move(chunk));
}

}  // namespace arrowembed::interop
