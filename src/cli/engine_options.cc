#include "cli/engine_options.h"

#include <map>
#include <string>

namespace arrowembed::cli {

void add_precision_option(CLI::App* cmd, MatmulPrecision* precision) {
  std::map<std::string, MatmulPrecision> names;
  for (MatmulPrecision p : {MatmulPrecision::F32, MatmulPrecision::BF16}) names.emplace(precision_name(p), p);
  cmd->add_option("--precision", *precision,
                  "Matrix products: f32 (default; matches sentence-transformers to ~1e-7) or bf16 (about 2x "
                  "faster on CPUs with AVX512-BF16, cosine ~1e-4 from f32)")
      ->transform(CLI::CheckedTransformer(names))
      ->default_str("f32");
}

}  // namespace arrowembed::cli
