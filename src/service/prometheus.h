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

namespace arrowembed::prometheus {

// Label values joined in order of the family's label names.
using LabelValues = std::vector<std::string>;

// One value per label set: what counters and labelled gauges share.
class ValueFamily {
 public:
  double value(const LabelValues& values) const;
  void render(std::string& out) const;

 protected:
  ValueFamily(std::string name, std::string help, std::vector<std::string> labels, const char* type);
  std::string name_, help_;
  std::vector<std::string> labels_;
  const char* type_;
  mutable std::mutex mutex_;
  std::map<LabelValues, double> values_;
};

class CounterFamily : public ValueFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> labels)
      : ValueFamily(std::move(name), std::move(help), std::move(labels), "counter") {}
  void add(const LabelValues& values, double amount = 1);
};

class GaugeFamily : public ValueFamily {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> labels)
      : ValueFamily(std::move(name), std::move(help), std::move(labels), "gauge") {}
  void set(const LabelValues& values, double value);
  void remove(const LabelValues& values);  // the series disappears (an unloaded model's)
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
  void remove(const LabelValues& values);

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

}  // namespace arrowembed::prometheus
