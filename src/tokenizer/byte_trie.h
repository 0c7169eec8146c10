#pragma once
// An immutable byte trie over a set of strings, each with an id, laid out in
// flat arrays for a cache-friendly longest-prefix walk. WordPiece uses two:
// one for word-initial pieces and one for continuation pieces.
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace arrowembed::tok {

class ByteTrie {
 public:
  ByteTrie() = default;
  // Keys must be unique; empty keys are ignored (a piece never has zero length).
  explicit ByteTrie(std::vector<std::pair<std::string_view, int32_t>> keys);

  struct Match {
    size_t length = 0;  // bytes consumed; 0 means no key is a prefix of the text
    int32_t id = -1;
  };

  // Longest key that is a prefix of text.
  Match longest_prefix(std::string_view text) const {
    Match best;
    if (text.empty()) return best;
    uint32_t node = root_children_[static_cast<unsigned char>(text[0])];
    size_t i = 1;
    while (node != kNone) {
      const Node& n = nodes_[node];
      if (n.id >= 0) best = {i, n.id};
      if (i == text.size()) break;
      node = child(n, static_cast<unsigned char>(text[i]));
      ++i;
    }
    return best;
  }

  size_t node_count() const { return nodes_.size(); }

 private:
  static constexpr uint32_t kNone = 0xFFFFFFFF;
  struct Node {
    int32_t id = -1;           // key id if a key ends here
    uint32_t first_edge = 0;   // index into edge_bytes_/edge_targets_
    uint32_t edge_count = 0;
  };

  uint32_t child(const Node& n, unsigned char byte) const {
    const unsigned char* labels = edge_bytes_.data() + n.first_edge;
    // Edges are sorted; most nodes have a handful, so a linear scan wins.
    for (uint32_t k = 0; k < n.edge_count; ++k) {
      if (labels[k] == byte) return edge_targets_[n.first_edge + k];
      if (labels[k] > byte) break;
    }
    return kNone;
  }

  uint32_t build(const std::vector<std::pair<std::string_view, int32_t>>& keys, size_t lo, size_t hi,
                 size_t depth);

  uint32_t root_children_[256];
  std::vector<Node> nodes_;
  std::vector<unsigned char> edge_bytes_;
  std::vector<uint32_t> edge_targets_;
};

}  // namespace arrowembed::tok
