#pragma once
// The request bodies of the API, parsed and checked (simdjson, which also
// rejects invalid UTF-8 anywhere in the body). Each parser throws ApiError:
// 400 for a body that is not JSON (or not UTF-8), 422 for a field of the
// wrong type or value, the message naming the field.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace arrowembed::server {

struct RequestLimits {
  size_t max_inputs = 4096;
  size_t hidden_size = 0;  // bound for `dimensions`
  bool auto_truncate = false;
};

struct EmbedRequest {
  std::vector<std::string> inputs;
  bool single = false;  // the inputs field was a string, not a list
  bool normalize = true;
  bool truncate = false;
  std::optional<size_t> dimensions;  // Matryoshka: keep the first N, then renormalise
  bool base64 = false;               // OpenAI encoding_format
  std::string model;                 // OpenAI: echoed back, not checked
};

// POST /embed (TEI): {"inputs": str | [str], "normalize", "truncate", "dimensions"}
EmbedRequest parse_tei_embed(std::string_view body, const RequestLimits& limits);
// POST /v1/embeddings (OpenAI): {"input": str | [str], "model", "encoding_format", "dimensions"}
// plus the TEI options "normalize" and "truncate" as extensions.
EmbedRequest parse_openai_embeddings(std::string_view body, const RequestLimits& limits);

struct SimilarityRequest {
  // Either one source against many sentences...
  std::optional<std::string> source;
  std::vector<std::string> sentences;
  // ...or independent pairs.
  std::vector<std::pair<std::string, std::string>> pairs;
  bool truncate = false;
};

// POST /similarity: {"inputs": {"source_sentence": str, "sentences": [str]}} or {"pairs": [[a, b], ...]}
SimilarityRequest parse_similarity(std::string_view body, const RequestLimits& limits);

struct TokenizeRequest {
  std::vector<std::string> inputs;
  bool single = false;  // "inputs" was a string
  bool add_special_tokens = true;
  bool truncate = false;
};

// POST /tokenize: {"inputs": str | [str], "add_special_tokens", "truncate"}
TokenizeRequest parse_tokenize(std::string_view body, const RequestLimits& limits);

}  // namespace arrowembed::server
