#pragma once
namespace arrowembed::engine {
// Throws arrowembed::Error when the CPU lacks what the kernels are built
// for (AVX2, FMA, F16C), instead of dying on an illegal instruction.
void require_cpu_features();
}  // namespace arrowembed::engine
