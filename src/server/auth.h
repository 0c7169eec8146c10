#pragma once
// Who may call: bearer keys (the API key on every route but /health, the
// admin key on the admin routes) and browser origins (CORS, /mcp).
#include <string_view>

namespace httplib {
struct Request;
}

namespace arrowembed::server {

// Whether the request carries "Authorization: Bearer <key>", compared in
// time that depends only on the length of the offered key, never on where
// it first differs from the secret. An empty key never matches.
bool bearer_key_matches(const httplib::Request& req, std::string_view key);

// Whether `origin` is in `allowed` ("*", or a comma-separated list of origins).
bool origin_allowed(std::string_view allowed, std::string_view origin);

}  // namespace arrowembed::server
