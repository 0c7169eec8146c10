#pragma once
// Structured logs: one JSON object per line on stderr, for every request
// and for the server's life events, so log shippers need no parsing rules.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace arrowembed::server {

// What a request did, filled in by its route and written once the response
// is ready. cpp-httplib runs a request's routing, handler and logger on one
// thread, so each connection thread keeps its current request here.
struct RequestRecord {
  std::string id;
  std::chrono::steady_clock::time_point start;
  size_t inputs = 0;
  size_t tokens = 0;
  size_t cache_hits = 0;
  double queue_ms = 0;
  double inference_ms = 0;
};
RequestRecord& current_request();

// New request id: the client's X-Request-Id when it is sane, else a fresh one.
std::string make_request_id(std::string_view client_id);

// The members of a JSON object without its braces, for Logger::event.
std::string json_fields(const nlohmann::json& fields);

class Logger {
 public:
  explicit Logger(bool log_requests) : log_requests_(log_requests) {}
  void request(std::string_view method, std::string_view path, int status, std::string_view remote,
               const RequestRecord& record) const;
  // {"time":...,"level":level,"msg":msg, <fields_json without braces>}
  void event(std::string_view level, std::string_view msg, std::string_view fields_json = {}) const;

 private:
  void write_line(std::string& line) const;
  bool log_requests_;
};

}  // namespace arrowembed::server
