#include "arrowembed/service/service_error.h"

namespace arrowembed::service {

std::string_view error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Malformed: return "malformed";
    case ErrorKind::InvalidInput: return "invalid_input";
    case ErrorKind::TooLong: return "too_long";
    case ErrorKind::Overloaded: return "overloaded";
    case ErrorKind::ModelNotFound: return "model_not_found";
    case ErrorKind::CollectionNotFound: return "collection_not_found";
    case ErrorKind::Conflict: return "conflict";
    case ErrorKind::Unavailable: return "unavailable";
    case ErrorKind::Internal: return "internal";
  }
  return "internal";
}

ServiceError invalid_field(const std::string& field, const std::string& what) {
  return ServiceError(ErrorKind::InvalidInput, "'" + field + "' " + what, field);
}

}  // namespace arrowembed::service
