#pragma once
// Lane masks for the AVX-512 kernels' partial panels, as plain integers
// (no intrinsics here, so any file can include it whatever its target).
#include <cstddef>
#include <cstdint>

namespace arrowembed::engine {

// The first `n` of 16 lanes (n >= 16: all of them), as an AVX-512 __mmask16.
inline uint16_t first_lanes16(size_t n) { return n >= 16 ? 0xffff : static_cast<uint16_t>((1u << n) - 1); }

}  // namespace arrowembed::engine
