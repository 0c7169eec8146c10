#include "server/auth.h"

#include <httplib.h>

namespace arrowembed::server {

namespace {

bool constant_time_equal(std::string_view offered, std::string_view secret) {
  unsigned char diff = offered.size() != secret.size() || secret.empty();
  for (size_t i = 0; i < offered.size(); ++i) {
    diff |= static_cast<unsigned char>(offered[i] ^ (secret.empty() ? 0 : secret[i % secret.size()]));
  }
  return diff == 0;
}

}  // namespace

bool bearer_key_matches(const httplib::Request& req, std::string_view key) {
  const std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  return auth.size() > kBearer.size() && auth.compare(0, kBearer.size(), kBearer) == 0 &&
         constant_time_equal(std::string_view(auth).substr(kBearer.size()), key);
}

bool origin_allowed(std::string_view allowed, std::string_view origin) {
  if (allowed == "*") return true;
  while (!allowed.empty()) {
    const size_t comma = allowed.find(',');
    std::string_view item = allowed.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty() && item == origin) return true;
    allowed = comma == std::string_view::npos ? std::string_view() : allowed.substr(comma + 1);
  }
  return false;
}

}  // namespace arrowembed::server
