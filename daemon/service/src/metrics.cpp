#include "logguard/service/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <sstream>
#include <stdexcept>

#include "logguard/core/error.hpp"

namespace logguard::daemon {

Metrics::Metrics() : s_(std::make_shared<Shared>()) { s_->registry = std::make_shared<prometheus::Registry>(); }
Metrics::~Metrics() = default;

Metrics Metrics::labelled(const Labels& labels) const {
  Metrics m(*this);
  for (const auto& [k, v] : labels) {
    if (!valid_label(k)) throw std::invalid_argument("label " + k + " is not low-cardinality");
    m.base_[k] = v;
  }
  return m;
}

Metrics::Labels Metrics::with_base(const Labels& labels) const {
  if (base_.empty()) return labels;
  Labels out = base_;
  for (const auto& [k, v] : labels) out[k] = v;
  return out;
}

bool Metrics::valid_name(const std::string& name) {
  static const std::array<const char*, 12> units = {"_total", "_bytes", "_seconds", "_ratio", "_info", "_windows", "_sessions", "_templates", "_messages", "_brokers", "_nats", "_patterns"};
  const std::string prefix = "logguard_";
  if (name.rfind(prefix, 0) != 0) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  for (const char* u : units) {
    const std::string unit = u;
    // at least one noun character between the prefix and the unit
    if (name.size() > prefix.size() + unit.size() && name.compare(name.size() - unit.size(), unit.size(), unit) == 0)
      return true;
  }
  return false;
}

bool Metrics::valid_label(const std::string& label) {
  static const std::array<const char*, 7> forbidden = {"session", "key", "line", "offset", "id", "template", "message"};
  for (const char* f : forbidden)
    if (label == f) return false;
  return !label.empty();
}

namespace {
void check(const std::string& name, const Metrics::Labels& labels) {
  if (!Metrics::valid_name(name))
    throw std::invalid_argument("metric name " + name + " breaks the logguard_<noun>_<unit> rule");
  for (const auto& [k, v] : labels)
    if (!Metrics::valid_label(k)) throw std::invalid_argument("metric " + name + ": label " + k + " is not low-cardinality");
}
}  // namespace

prometheus::Counter& Metrics::counter(const std::string& name, const std::string& help, const Labels& labels) {
  const Labels all = with_base(labels);
  check(name, all);
  std::lock_guard lock(s_->mu);  // families are shared between views
  return prometheus::BuildCounter().Name(name).Help(help).Register(*s_->registry).Add(all);
}

prometheus::Gauge& Metrics::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  const Labels all = with_base(labels);
  check(name, all);
  std::lock_guard lock(s_->mu);
  return prometheus::BuildGauge().Name(name).Help(help).Register(*s_->registry).Add(all);
}

prometheus::Histogram& Metrics::histogram(const std::string& name, const std::string& help,
                                          const std::vector<double>& bounds, const Labels& labels) {
  const Labels all = with_base(labels);
  check(name, all);
  std::lock_guard lock(s_->mu);
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*s_->registry).Add(
      all, prometheus::Histogram::BucketBoundaries(bounds));
}

void Metrics::on_scrape(std::function<void()> refresh) {
  std::lock_guard lock(s_->mu);
  s_->hooks.push_back(std::move(refresh));
}

std::string Metrics::serialize() {
  {
    std::lock_guard lock(s_->mu);
    for (auto& h : s_->hooks) h();
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, s_->registry->Collect());
  return out.str();
}

void Metrics::advance(prometheus::Counter& c, double value) {
  const double now = c.Value();
  if (value > now) c.Increment(value - now);
}

void Metrics::counter_of(const std::string& name, const std::string& help, const std::atomic<std::uint64_t>& value,
                         const Labels& labels) {
  auto& c = counter(name, help, labels);
  on_scrape([&c, &value] { advance(c, static_cast<double>(value.load())); });
}

void Metrics::gauge_of(const std::string& name, const std::string& help, const std::atomic<std::uint64_t>& value,
                       const Labels& labels) {
  auto& g = gauge(name, help, labels);
  on_scrape([&g, &value] { g.Set(static_cast<double>(value.load())); });
}

}  // namespace logguard::daemon
