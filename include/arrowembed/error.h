#pragma once
// The one exception type arrowembed throws for bad input, bad files and
// unsupported models. Front ends print what() as a single line and exit
// non-zero (CLI) or map it to an HTTP status (server).
#include <stdexcept>
#include <string>

namespace arrowembed {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace arrowembed
