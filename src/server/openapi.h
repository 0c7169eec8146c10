#pragma once
// GET /openapi.json (OpenAPI 3.0 description of the real routes) and
// GET /docs (a self-contained page that renders it; no CDN needed).
#include <string_view>

namespace arrowembed::server {

std::string_view openapi_json();
std::string_view docs_html();

}  // namespace arrowembed::server
