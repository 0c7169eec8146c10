#include "server/request_log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <random>

#include "server/json_text.h"

namespace arrowembed::server {

namespace {

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

void append_ms(std::string& out, const char* key, double ms) {
  char buf[64];
  std::snprintf(buf, sizeof buf, ",\"%s\":%.3f", key, ms);
  out += buf;
}

}  // namespace

RequestRecord& current_request() {
  thread_local RequestRecord record;
  return record;
}

std::string make_request_id(std::string_view client_id) {
  // Accept short ids of safe characters only: they are echoed in headers and logs.
  if (!client_id.empty() && client_id.size() <= 128) {
    bool safe = true;
    for (const char c : client_id) {
      safe = safe && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':');
    }
    if (safe) return std::string(client_id);
  }
  // A per-process random prefix and a counter: unique, cheap, sortable within a run.
  static const unsigned prefix = std::random_device{}();
  static std::atomic<uint64_t> counter{0};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08x-%llu", prefix, static_cast<unsigned long long>(++counter));
  return buf;
}

void Logger::write_line(std::string& line) const {
  line += '\n';
  // One write() per line: lines from concurrent threads never interleave.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) return;  // nowhere to log to; never fail a request for it
    done += static_cast<size_t>(n);
  }
}

void Logger::request(std::string_view method, std::string_view path, int status, std::string_view remote,
                     const RequestRecord& r) const {
  if (!log_requests_) return;
  const double total_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - r.start).count();
  std::string line = "{\"time\":\"" + utc_now() + "\",\"level\":\"info\",\"msg\":\"request\",\"request_id\":";
  append_json_string(line, r.id);
  line += ",\"method\":";
  append_json_string(line, method);
  line += ",\"path\":";
  append_json_string(line, path);
  line += ",\"status\":" + std::to_string(status) + ",\"inputs\":" + std::to_string(r.inputs) +
          ",\"tokens\":" + std::to_string(r.tokens) + ",\"cache_hits\":" + std::to_string(r.cache_hits);
  append_ms(line, "queue_ms", r.queue_ms);
  append_ms(line, "inference_ms", r.inference_ms);
  append_ms(line, "total_ms", total_ms);
  line += ",\"remote\":";
  append_json_string(line, remote);
  line += '}';
  write_line(line);
}

void Logger::event(std::string_view level, std::string_view msg, std::string_view fields_json) const {
  std::string line = "{\"time\":\"" + utc_now() + "\",\"level\":";
  append_json_string(line, level);
  line += ",\"msg\":";
  append_json_string(line, msg);
  if (!fields_json.empty()) {
    line += ',';
    line += fields_json;
  }
  line += '}';
  write_line(line);
}

std::string json_fields(const nlohmann::json& fields) {
  const std::string s = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.substr(1, s.size() - 2);  // without the braces
}

}  // namespace arrowembed::server
