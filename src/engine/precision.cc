#include "arrowembed/engine/precision.h"

#include <string>

#include "arrowembed/error.h"

namespace arrowembed {

std::string_view precision_name(MatmulPrecision precision) {
  return precision == MatmulPrecision::BF16 ? "bf16" : "f32";
}

MatmulPrecision precision_from_name(std::string_view name) {
  for (MatmulPrecision p : {MatmulPrecision::F32, MatmulPrecision::BF16}) {
    if (name == precision_name(p)) return p;
  }
  throw Error("unknown precision '" + std::string(name) + "' (f32 or bf16)");
}

}  // namespace arrowembed
