#include "logguard/daemon/metrics.hpp"

#include <utility>  // before Asio: Boost 1.74 needs std::exchange declared

#include <boost/asio/ip/address.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <sstream>
#include <stdexcept>

#include "logguard/core/error.hpp"
#include "logguard/daemon/pipeline.hpp"

namespace logguard::daemon {

void MetricsConfig::validate() const {
  if (address.empty()) throw core::ConfigError("address", "must not be empty");
  boost::system::error_code ec;
  boost::asio::ip::make_address(address, ec);
  if (ec) throw core::ConfigError("address", "not an IP address: " + address);
  if (port < 0 || port > 65535) throw core::ConfigError("port", "must be between 0 and 65535");
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}
Metrics::~Metrics() = default;

bool Metrics::valid_name(const std::string& name) {
  static const std::array<const char*, 10> units = {"_total", "_bytes", "_seconds", "_ratio", "_info", "_windows", "_sessions", "_templates", "_messages", "_brokers"};
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
  check(name, labels);
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry_).Add(labels);
}

prometheus::Gauge& Metrics::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  check(name, labels);
  return prometheus::BuildGauge().Name(name).Help(help).Register(*registry_).Add(labels);
}

prometheus::Histogram& Metrics::histogram(const std::string& name, const std::string& help,
                                          const std::vector<double>& bounds, const Labels& labels) {
  check(name, labels);
  return prometheus::BuildHistogram().Name(name).Help(help).Register(*registry_).Add(labels,
                                                                                     prometheus::Histogram::BucketBoundaries(bounds));
}

void Metrics::on_scrape(std::function<void()> refresh) {
  std::lock_guard lock(mu_);
  hooks_.push_back(std::move(refresh));
}

std::string Metrics::serialize() {
  {
    std::lock_guard lock(mu_);
    for (auto& h : hooks_) h();
  }
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

void Metrics::advance(prometheus::Counter& c, double value) {
  const double now = c.Value();
  if (value > now) c.Increment(value - now);
}

void export_pipeline_metrics(Metrics& m, const PipelineStats& s) {
  struct Pair {
    prometheus::Counter* counter;
    const std::atomic<std::uint64_t>* value;
  };
  std::vector<Pair> pairs = {
      {&m.counter("logguard_records_total", "Log lines read from the source"), &s.records},
      {&m.counter("logguard_windows_scored_total", "Windows scored by the model"), &s.windows},
      {&m.counter("logguard_anomalies_total", "Windows judged anomalous"), &s.anomalies},
      {&m.counter("logguard_anomalies_delivered_total", "Anomaly records delivered by the sink"), &s.delivered},
      {&m.counter("logguard_sink_failures_total", "Anomaly records the sink failed to deliver"), &s.delivery_failures},
      {&m.counter("logguard_windows_dropped_total", "Windows evicted by the drop_oldest overflow policy"),
       &s.dropped_windows},
      {&m.counter("logguard_source_pauses_total", "Times the source was paused by backpressure"), &s.pauses},
      {&m.counter("logguard_offset_stores_total", "Offset stores after completed work"), &s.offset_stores},
      {&m.counter("logguard_redelivered_records_total",
                  "Records below the partition's processed position (re-delivered after a restart or rebalance), skipped"),
       &s.redelivered},
      {&m.counter("logguard_checkpoints_total", "Checkpoints written to state.dir"), &s.checkpoints},
      {&m.counter("logguard_checkpoint_failures_total", "Checkpoints not taken (write failed or work still in flight)"),
       &s.checkpoint_failures},
      {&m.counter("logguard_handover_partitions_total", "Partitions whose open sessions were handed over on a rebalance",
                  {{"direction", "out"}}),
       &s.handover_out_partitions},
      {&m.counter("logguard_handover_partitions_total", "Partitions whose open sessions were handed over on a rebalance",
                  {{"direction", "in"}}),
       &s.handover_in_partitions},
      {&m.counter("logguard_handover_sessions_total", "Open sessions handed over on rebalances", {{"direction", "out"}}),
       &s.handover_out_sessions},
      {&m.counter("logguard_handover_sessions_total", "Open sessions handed over on rebalances", {{"direction", "in"}}),
       &s.handover_in_sessions},
      {&m.counter("logguard_handover_failures_total",
                  "Handover saves or loads that failed (the partition continues from its last saved state)"),
       &s.handover_failures},
  };
  auto& bytes = m.gauge("logguard_checkpoint_bytes", "Size of the last checkpoint");
  auto& when = m.gauge("logguard_checkpoint_timestamp_seconds", "Wall-clock time of the last checkpoint (0: none yet)");
  auto& stall = m.gauge("logguard_checkpoint_stall_seconds",
                         "How long the last checkpoint held up the consumer (waiting for in-flight windows, then writing)");
  auto& write = m.gauge("logguard_checkpoint_write_seconds", "Of that, writing the last checkpoint (copy, encode, fsync)");
  m.on_scrape([pairs, &bytes, &when, &stall, &write, &s] {
    for (const auto& p : pairs) Metrics::advance(*p.counter, static_cast<double>(p.value->load()));
    bytes.Set(static_cast<double>(s.checkpoint_bytes.load()));
    stall.Set(static_cast<double>(s.checkpoint_stall_us.load()) * 1e-6);
    write.Set(static_cast<double>(s.checkpoint_write_us.load()) * 1e-6);
    when.Set(static_cast<double>(s.checkpoint_ms.load()) / 1000.0);
  });
}

}  // namespace logguard::daemon
