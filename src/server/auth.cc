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

}  // namespace arrowembed::server
