#pragma once
// A request the service refuses: the HTTP status and a message that names
// the offending field. Routes render it in their API's error shape (TEI or
// OpenAI); anything else thrown while serving becomes a 500.
#include <string>

#include "arrowembed/error.h"

namespace arrowembed::server {

class ApiError : public Error {
 public:
  ApiError(int status, const std::string& message, std::string field = {})
      : Error(message), status_(status), field_(std::move(field)) {}
  int status() const { return status_; }
  const std::string& field() const { return field_; }  // empty when not about one field

 private:
  int status_;
  std::string field_;
};

}  // namespace arrowembed::server
