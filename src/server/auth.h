#pragma once
// Bearer keys: the API key on every route but /health, the admin key on
// the admin routes.
#include <string_view>

namespace httplib {
struct Request;
}

namespace arrowembed::server {

// Whether the request carries "Authorization: Bearer <key>", compared in
// time that depends only on the length of the offered key, never on where
// it first differs from the secret. An empty key never matches.
bool bearer_key_matches(const httplib::Request& req, std::string_view key);

}  // namespace arrowembed::server
