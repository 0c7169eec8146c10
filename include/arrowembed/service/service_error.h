#pragma once
// What the service refuses, typed by kind, never by a transport's code: the
// front ends map kinds to their own (HTTP statuses in src/server, JSON-RPC
// errors in an MCP layer). Anything else thrown from the service is a bug
// and a front end reports it as an internal error.
#include <string>
#include <string_view>

#include "arrowembed/error.h"

namespace arrowembed::service {

enum class ErrorKind {
  Malformed,      // the request itself could not be read (not JSON, not UTF-8)
  InvalidInput,   // a field has a wrong type or value; field() names it
  TooLong,        // an input has more tokens than the model takes; field() names it
  Overloaded,     // the queue is full; retry after retry_after_s()
  ModelNotFound,  // no model of that name is served
  CollectionNotFound,  // no collection of that name is served
  Conflict,       // the request contradicts the service's state (unloading the default model)
  Unavailable,    // loading or shutting down; retry after retry_after_s()
  Internal,       // a fault of ours
};

// "invalid_input", "too_long", ... for logs and metrics labels.
std::string_view error_kind_name(ErrorKind kind);

class ServiceError : public Error {
 public:
  ServiceError(ErrorKind kind, const std::string& message, std::string field = {}, double retry_after_s = 0)
      : Error(message), kind_(kind), field_(std::move(field)), retry_after_s_(retry_after_s) {}

  ErrorKind kind() const { return kind_; }
  const std::string& field() const { return field_; }  // empty when not about one field
  double retry_after_s() const { return retry_after_s_; }

 private:
  ErrorKind kind_;
  std::string field_;
  double retry_after_s_;
};

// InvalidInput naming `field`: "'field' what".
ServiceError invalid_field(const std::string& field, const std::string& what);

}  // namespace arrowembed::service
