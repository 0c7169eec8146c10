#include "arrowembed/engine/precision.h"

namespace arrowembed {

std::string_view precision_name(MatmulPrecision precision) {
  return precision == MatmulPrecision::BF16 ? "bf16" : "f32";
}

}  // namespace arrowembed
