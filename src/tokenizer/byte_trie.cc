#include "tokenizer/byte_trie.h"

#include <algorithm>

namespace arrowembed::tok {

ByteTrie::ByteTrie(std::vector<std::pair<std::string_view, int32_t>> keys) {
  std::erase_if(keys, [](const auto& k) { return k.first.empty(); });
  std::sort(keys.begin(), keys.end());
  // Duplicate keys would break the build recursion; keep the first of each.
  keys.erase(std::unique(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
             keys.end());
  std::fill(std::begin(root_children_), std::end(root_children_), kNone);
  nodes_.reserve(keys.size() * 3);
  // Every key shares the (implicit) root; group by first byte.
  size_t i = 0;
  while (i < keys.size()) {
    const unsigned char byte = static_cast<unsigned char>(keys[i].first[0]);
    size_t j = i;
    while (j < keys.size() && static_cast<unsigned char>(keys[j].first[0]) == byte) ++j;
    root_children_[byte] = build(keys, i, j, 1);
    i = j;
  }
}

// Builds the node for keys[lo, hi), which all share their first `depth` bytes,
// and returns its index. Sorted input means the key that ends here (if any)
// comes first and the children appear grouped in byte order.
uint32_t ByteTrie::build(const std::vector<std::pair<std::string_view, int32_t>>& keys, size_t lo,
                         size_t hi, size_t depth) {
  const auto index = static_cast<uint32_t>(nodes_.size());
  nodes_.emplace_back();
  if (keys[lo].first.size() == depth) {
    nodes_[index].id = keys[lo].second;
    ++lo;
  }
  // Count the child groups (keys sorted: each group is a run sharing the byte
  // at `depth`), reserve their contiguous edge slots, then fill and recurse;
  // recursion appends the edges of deeper nodes after ours.
  uint32_t group_count = 0;
  for (size_t i = lo; i < hi; ++i) {
    if (i == lo || keys[i].first[depth] != keys[i - 1].first[depth]) ++group_count;
  }
  const auto first_edge = static_cast<uint32_t>(edge_bytes_.size());
  nodes_[index].first_edge = first_edge;
  nodes_[index].edge_count = group_count;
  edge_bytes_.resize(edge_bytes_.size() + group_count);
  edge_targets_.resize(edge_targets_.size() + group_count);
  uint32_t edge = first_edge;
  for (size_t i = lo; i < hi;) {
    const char byte = keys[i].first[depth];
    size_t j = i;
    while (j < hi && keys[j].first[depth] == byte) ++j;
    edge_bytes_[edge] = static_cast<unsigned char>(byte);
    const uint32_t target = build(keys, i, j, depth + 1);
    edge_targets_[edge] = target;
    ++edge;
    i = j;
  }
  return index;
}

}  // namespace arrowembed::tok
