#pragma once
// Texts read in place from Arrow string arrays handed over through the Arrow
// C Data Interface: the engine tokenizes straight from the producer's UTF-8
// buffers, whatever the producer (pyarrow, polars, DuckDB, another language).
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

struct ArrowArray;
struct ArrowSchema;

namespace arrow {
class Array;
}

namespace arrowembed::interop {

class ArrowTextColumn {
 public:
  // Adds the rows of one array (a chunk) of type utf8, large_utf8 or
  // utf8_view. The structs are borrowed, not released: they and the buffers
  // they point to stay the caller's and must outlive this column. Throws
  // Error for another type or a null row (numbered across all chunks).
  void append(const ArrowSchema& schema, const ArrowArray& array);

  std::span<const std::string_view> texts() const { return texts_; }
  size_t size() const { return texts_.size(); }

 private:
  std::vector<std::shared_ptr<arrow::Array>> chunks_;
  std::vector<std::string_view> texts_;
};

}  // namespace arrowembed::interop
