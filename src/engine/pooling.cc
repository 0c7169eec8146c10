#include "engine/pooling.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "arrowembed/error.h"
#include "engine/simd.h"

namespace arrowembed::engine {

void require_supported(Pooling mode) {
  switch (mode) {
    case Pooling::Mean:
    case Pooling::Cls:
    case Pooling::Max:
    case Pooling::MeanSqrtLen:
    case Pooling::WeightedMean:
    case Pooling::LastToken:
      return;
  }
  throw Error("pooling mode '" + std::string(pooling_name(mode)) + "' is not supported by the engine");
}

void pool_sequence(Pooling mode, const float* tokens, size_t len, size_t width, float* out) {
  if (len == 0) {
    std::memset(out, 0, width * sizeof(float));
    return;
  }
  switch (mode) {
    case Pooling::Cls:
      std::memcpy(out, tokens, width * sizeof(float));
      return;
    case Pooling::LastToken:
      std::memcpy(out, tokens + (len - 1) * width, width * sizeof(float));
      return;
    case Pooling::Max:
      std::memcpy(out, tokens, width * sizeof(float));
      for (size_t t = 1; t < len; ++t)
        for (size_t i = 0; i < width; ++i) out[i] = std::max(out[i], tokens[t * width + i]);
      return;
    case Pooling::Mean:
    case Pooling::MeanSqrtLen:
    case Pooling::WeightedMean: {
      // sentence-transformers' weighted mean gives token t the weight t + 1.
      std::memset(out, 0, width * sizeof(float));
      double weight_sum = 0;
      for (size_t t = 0; t < len; ++t) {
        const float w = mode == Pooling::WeightedMean ? static_cast<float>(t + 1) : 1.0f;
        simd::axpy(w, tokens + t * width, out, width);
        weight_sum += w;
      }
      const float divisor = mode == Pooling::MeanSqrtLen ? std::sqrt(static_cast<float>(len))
                                                         : static_cast<float>(weight_sum);
      for (size_t i = 0; i < width; ++i) out[i] /= divisor;
      return;
    }
  }
}

void l2_normalize(float* x, size_t width) {
  const float norm = std::sqrt(simd::dot(x, x, width));
  const float inv = 1.0f / std::max(norm, 1e-12f);
  for (size_t i = 0; i < width; ++i) x[i] *= inv;
}

}  // namespace arrowembed::engine
