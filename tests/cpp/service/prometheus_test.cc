#include "server/prometheus.h"

#include <gtest/gtest.h>

#include "server/service_metrics.h"

namespace arrowembed::server::prometheus {
namespace {

TEST(Prometheus, CounterFamilyRendersEachSeriesWithEscapedLabels) {
  CounterFamily c("req_total", "Requests", {"endpoint", "status"});
  c.add({"/embed", "200"});
  c.add({"/embed", "200"}, 2);
  c.add({"a\"b\\c\nd", "500"});
  EXPECT_EQ(c.value({"/embed", "200"}), 3);
  EXPECT_EQ(c.value({"/x", "200"}), 0);
  std::string out;
  c.render(out);
  EXPECT_EQ(out,
            "# HELP req_total Requests\n# TYPE req_total counter\n"
            "req_total{endpoint=\"/embed\",status=\"200\"} 3\n"
            "req_total{endpoint=\"a\\\"b\\\\c\\nd\",status=\"500\"} 1\n");
}

TEST(Prometheus, UnlabelledCounterShowsZeroBeforeFirstUse) {
  CounterFamily c("hits_total", "Hits", {});
  std::string out;
  c.render(out);
  EXPECT_NE(out.find("\nhits_total 0\n"), std::string::npos) << out;
}

TEST(Prometheus, GaugeRendersItsValue) {
  Gauge g("queue", "Queued");
  g.set(12);
  std::string out;
  g.render(out);
  EXPECT_EQ(out, "# HELP queue Queued\n# TYPE queue gauge\nqueue 12\n");
}

TEST(Prometheus, HistogramBucketsAreCumulative) {
  HistogramFamily h("lat", "Latency", {"endpoint"}, {0.1, 1});
  h.observe({"/e"}, 0.05);
  h.observe({"/e"}, 0.1);  // on a bound: counted in that bucket (le)
  h.observe({"/e"}, 0.5);
  h.observe({"/e"}, 7);
  EXPECT_EQ(h.count({"/e"}), 4u);
  std::string out;
  h.render(out);
  EXPECT_NE(out.find("lat_bucket{endpoint=\"/e\",le=\"0.1\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_bucket{endpoint=\"/e\",le=\"1\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_bucket{endpoint=\"/e\",le=\"+Inf\"} 4\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_sum{endpoint=\"/e\"} 7.65\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_count{endpoint=\"/e\"} 4\n"), std::string::npos) << out;
}

TEST(Prometheus, ServiceMetricsNamesAndMemory) {
  ServiceMetrics m;
  m.cache_hits.add({}, 2);
  const std::string text = m.render();
  for (const char* name : {"embedding_request_duration_seconds", "embedding_request_total", "embedding_errors_total",
                           "embedding_cache_hits_total 2", "embedding_memory_usage_bytes", "embedding_queue_size",
                           "embedding_batch_size", "embedding_batch_tokens"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
  EXPECT_GT(resident_memory_bytes(), 1u << 20);  // this test process holds more than 1 MiB
  EXPECT_EQ(m.memory.value(), static_cast<double>(static_cast<size_t>(m.memory.value())));
}

}  // namespace
}  // namespace arrowembed::server::prometheus
