#include "server/http_metrics.h"

#include <gtest/gtest.h>

namespace arrowembed::server {
namespace {

TEST(HttpMetrics, NamesAndMemory) {
  HttpMetrics m;
  m.requests.add({"/embed", "200"});
  std::string text;
  m.render(text);
  for (const char* name : {"embedding_request_duration_seconds", "embedding_request_total{endpoint=\"/embed\",status=\"200\"} 1",
                           "embedding_errors_total", "embedding_memory_usage_bytes"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
  EXPECT_GT(resident_memory_bytes(), 1u << 20);  // this test process holds more than 1 MiB
  EXPECT_GT(m.memory.value(), 1u << 20);         // render() refreshed it
}

}  // namespace
}  // namespace arrowembed::server
