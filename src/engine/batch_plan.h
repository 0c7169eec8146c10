#pragma once
// Groups sequences into forward passes: sorted by length so neighbours have
// similar cost, packed without padding under a token budget.
#include <cstddef>
#include <span>
#include <vector>

namespace arrowembed::engine {

// Returns groups of indices into `lengths`; every index appears once. Each
// group's lengths sum to at most max_tokens, except a single sequence
// longer than that, which forms a group of its own; groups are filled to
// about an even share of the total rather than to max_tokens.
std::vector<std::vector<size_t>> plan_batches(std::span<const size_t> lengths, size_t max_tokens);

}  // namespace arrowembed::engine
