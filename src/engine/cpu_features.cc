#include "engine/cpu_features.h"

#include <string>

#include "arrowembed/error.h"

namespace arrowembed::engine {

void require_cpu_features() {
  std::string missing;
  if (!__builtin_cpu_supports("avx2")) missing += " avx2";
  if (!__builtin_cpu_supports("fma")) missing += " fma";
  if (!__builtin_cpu_supports("f16c")) missing += " f16c";
  if (!missing.empty()) throw Error("this CPU lacks" + missing + ", which arrowembed's engine needs (x86-64-v3)");
}

}  // namespace arrowembed::engine
