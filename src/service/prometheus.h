#pragma once
// The few Prometheus instruments the service needs, rendered in the text
// exposition format (version 0.0.4). Debian 12 packages no prometheus-cpp,
// and counters, gauges and fixed-bucket histograms are small enough to keep
// here rather than vendor a library. All instruments are thread-safe.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace arrowembed::server::prometheus {

// Label values joined in order of the family's label names.
using LabelValues = std::vector<std::string>;

class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> labels);
  void add(const LabelValues& values, double amount = 1);
  double value(const LabelValues& values) const;
  void render(std::string& out) const;

 private:
  std::string name_, help_;
  std::vector<std::string> labels_;
  mutable std::mutex mutex_;
  std::map<LabelValues, double> values_;
};

class Gauge {
 public:
  Gauge(std::string name, std::string help);
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }
  void render(std::string& out) const;

 private:
  std::string name_, help_;
  std::atomic<double> value_{0};
};

class HistogramFamily {
 public:
  // `bounds`: ascending upper bounds; +Inf is implied.
  HistogramFamily(std::string name, std::string help, std::vector<std::string> labels, std::vector<double> bounds);
  void observe(const LabelValues& values, double sample);
  uint64_t count(const LabelValues& values) const;
  void render(std::string& out) const;

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // per bound, not cumulative; last is +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<LabelValues, Series> series_;
};

}  // namespace arrowembed::server::prometheus
