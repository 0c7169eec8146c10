#pragma once
// The request bodies of the HTTP API (TEI and OpenAI shapes), parsed into
// the service's requests (simdjson, which also rejects invalid UTF-8
// anywhere in the body). Each parser throws ServiceError: Malformed for a
// body that is not JSON (or not UTF-8), InvalidInput naming the field for a
// field of the wrong type or value. Limits that depend on the model or the
// service (how many inputs, `dimensions`, tokens) are the service's checks.
#include <string>
#include <string_view>

#include "arrowembed/service/embedding_service.h"

namespace arrowembed::server {

struct EmbedBody {
  service::EmbedRequest request;
  bool base64 = false;  // OpenAI encoding_format
};

// POST /embed (TEI): {"inputs": str | [str], "normalize", "truncate", "dimensions", "model"}
EmbedBody parse_tei_embed(std::string_view body);
// POST /v1/embeddings (OpenAI): {"input": str | [str], "model", "encoding_format", "dimensions"}
// plus the TEI options "normalize" and "truncate" as extensions.
EmbedBody parse_openai_embeddings(std::string_view body);

// POST /similarity: {"inputs": {"source_sentence": str, "sentences": [str]}} or {"pairs": [[a, b], ...]},
// "truncate", "model"
service::SimilarityRequest parse_similarity(std::string_view body);

struct TokenizeBody {
  service::TokenizeRequest request;
  bool add_special_tokens = true;
};

// POST /tokenize: {"inputs": str | [str], "add_special_tokens", "truncate", "model"}
TokenizeBody parse_tokenize(std::string_view body);

// POST /search: {"collection", "query": str | "queries": [str], "k", "filter": {col: value}, "mode", "truncate"}
service::SearchRequest parse_search(std::string_view body);

}  // namespace arrowembed::server
