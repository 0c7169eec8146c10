#include "service/prometheus.h"

#include <gtest/gtest.h>

#include "service/service_metrics.h"

namespace arrowembed::prometheus {
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

TEST(Prometheus, GaugeFamilySetsAndRemovesSeries) {
  GaugeFamily g("mem", "Memory", {"model"});
  g.set({"a"}, 5);
  g.set({"b"}, 7);
  g.set({"a"}, 6);
  EXPECT_EQ(g.value({"a"}), 6);
  g.remove({"b"});
  std::string out;
  g.render(out);
  EXPECT_EQ(out, "# HELP mem Memory\n# TYPE mem gauge\nmem{model=\"a\"} 6\n");
  HistogramFamily h("lat", "Latency", {"model"}, {1});
  h.observe({"a"}, 0.5);
  h.remove({"a"});
  EXPECT_EQ(h.count({"a"}), 0u);
}

TEST(Prometheus, ServiceMetricsAreLabelledByModel) {
  service::ServiceMetrics m;
  m.cache_hits.add({"minilm"}, 2);
  m.queue_size.set({"minilm"}, 3);
  m.batch_size.observe({"minilm"}, 4);
  std::string text;
  m.render(text);
  for (const char* line : {"embedding_cache_hits_total{model=\"minilm\"} 2", "embedding_queue_size{model=\"minilm\"} 3",
                           "embedding_batch_size_count{model=\"minilm\"} 1", "# TYPE embedding_model_memory_bytes gauge",
                           "# TYPE embedding_model_loads_total counter", "# TYPE embedding_inference_duration_seconds"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
}

}  // namespace
}  // namespace arrowembed::prometheus
