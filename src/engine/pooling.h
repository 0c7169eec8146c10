#pragma once
// sentence-transformers' pooling of token vectors into one vector per
// sequence, and its L2 normalisation.
#include <cstddef>

#include "arrowembed/format/model_config.h"

namespace arrowembed::engine {

// tokens: len x width (one sequence, every token attended); out: width.
void pool_sequence(Pooling mode, const float* tokens, size_t len, size_t width, float* out);

// x / max(||x||, 1e-12), as torch.nn.functional.normalize.
void l2_normalize(float* x, size_t width);

// Throws Error for pooling modes the engine does not run.
void require_supported(Pooling mode);

}  // namespace arrowembed::engine
