#include "service/prometheus.h"

#include <charconv>
#include <cmath>

namespace arrowembed::prometheus {

namespace {

void append_number(std::string& out, double v) {
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void append_header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

// {a="x",b="y"} with the exposition format's escapes; `extra` appends one more pair.
void append_labels(std::string& out, const std::vector<std::string>& names, const LabelValues& values,
                   const char* extra_name = nullptr, const std::string& extra_value = {}) {
  if (names.empty() && !extra_name) return;
  out += '{';
  auto pair = [&](const std::string& name, const std::string& value, bool first) {
    if (!first) out += ',';
    out += name + "=\"";
    for (const char c : value) {
      if (c == '\\' || c == '"') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  };
  for (size_t i = 0; i < names.size(); ++i) pair(names[i], i < values.size() ? values[i] : "", i == 0);
  if (extra_name) pair(extra_name, extra_value, names.empty());
  out += '}';
}

}  // namespace

ValueFamily::ValueFamily(std::string name, std::string help, std::vector<std::string> labels, const char* type)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), type_(type) {}

void CounterFamily::add(const LabelValues& values, double amount) {
  std::lock_guard lock(mutex_);
  values_[values] += amount;
}

void GaugeFamily::set(const LabelValues& values, double value) {
  std::lock_guard lock(mutex_);
  values_[values] = value;
}

void GaugeFamily::remove(const LabelValues& values) {
  std::lock_guard lock(mutex_);
  values_.erase(values);
}

double ValueFamily::value(const LabelValues& values) const {
  std::lock_guard lock(mutex_);
  const auto it = values_.find(values);
  return it == values_.end() ? 0 : it->second;
}

void ValueFamily::render(std::string& out) const {
  append_header(out, name_, help_, type_);
  std::lock_guard lock(mutex_);
  if (values_.empty() && labels_.empty()) out += name_ + " 0\n";
  for (const auto& [labels, v] : values_) {
    out += name_;
    append_labels(out, labels_, labels);
    out += ' ';
    append_number(out, v);
    out += '\n';
  }
}

Gauge::Gauge(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}

void Gauge::render(std::string& out) const {
  append_header(out, name_, help_, "gauge");
  out += name_ + ' ';
  append_number(out, value());
  out += '\n';
}

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> labels,
                                 std::vector<double> bounds)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)), bounds_(std::move(bounds)) {}

void HistogramFamily::observe(const LabelValues& values, double sample) {
  size_t bucket = 0;
  while (bucket < bounds_.size() && sample > bounds_[bucket]) ++bucket;
  std::lock_guard lock(mutex_);
  Series& s = series_[values];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size() + 1, 0);
  ++s.buckets[bucket];
  s.sum += sample;
  ++s.count;
}

uint64_t HistogramFamily::count(const LabelValues& values) const {
  std::lock_guard lock(mutex_);
  const auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second.count;
}

void HistogramFamily::remove(const LabelValues& values) {
  std::lock_guard lock(mutex_);
  series_.erase(values);
}

void HistogramFamily::render(std::string& out) const {
  append_header(out, name_, help_, "histogram");
  std::lock_guard lock(mutex_);
  for (const auto& [labels, s] : series_) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= bounds_.size(); ++b) {
      cumulative += s.buckets[b];
      std::string le;
      if (b < bounds_.size()) {
        append_number(le, bounds_[b]);
      } else {
        le = "+Inf";
      }
      out += name_ + "_bucket";
      append_labels(out, labels_, labels, "le", le);
      out += ' ' + std::to_string(cumulative) + '\n';
    }
    out += name_ + "_sum";
    append_labels(out, labels_, labels);
    out += ' ';
    append_number(out, s.sum);
    out += '\n' + name_ + "_count";
    append_labels(out, labels_, labels);
    out += ' ' + std::to_string(s.count) + '\n';
  }
}

}  // namespace arrowembed::prometheus
