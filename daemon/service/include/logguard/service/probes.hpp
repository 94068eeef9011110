#pragma once
// Probes: every Prometheus metric logguardd exposes (docs/metrics.md) is registered here, and
// the readiness check of /readyz. Most metrics read counters the stages keep themselves
// (atomics in their *Stats structs) at scrape time; the few observed ones (histograms, reload
// counters) are in DaemonProbes for the code that observes them.
// Lifecycle: registered at start-up, after the stages exist; every registered object must
// outlive the scrapes (the HTTP server stops first). Thread-safety: as Metrics.
#include <atomic>
#include <functional>
#include <vector>

#include "logguard/service/metrics.hpp"

namespace prometheus {
class Counter;
class Histogram;
}  // namespace prometheus

namespace logguard::core {
struct DecodeStats;
}

namespace logguard::daemon {

struct PipelineStats;
struct FeedbackStats;
class BundleMapper;
class BundleScorer;
class KafkaSource;
class KafkaSink;
class TemplateRegistry;
class Router;

/// The pipeline's counters: records, windows, anomalies, drops, pauses, checkpoints, handover.
void export_pipeline_metrics(Metrics& metrics, const PipelineStats& stats);

/// Metrics the daemon observes itself (not read from a stage's counters).
struct DaemonProbes {
  prometheus::Histogram* batch_windows = nullptr;  // windows per scorer batch
  prometheus::Histogram* batch_seconds = nullptr;  // scorer latency per batch
  prometheus::Histogram* e2e_seconds = nullptr;    // last line -> anomaly record delivered
  prometheus::Histogram* window_score = nullptr;   // scored windows' scores (nats)
  prometheus::Gauge* threshold = nullptr;          // the running bundle's threshold (nats)
  prometheus::Counter* reloads = nullptr;          // SIGHUP reloads that loaded a bundle
  prometheus::Counter* reload_failures = nullptr;
  /// Observers for BundleScorer::on_batch / on_verdict and PipelineOptions::on_delivered.
  void observe_batch(std::size_t windows, double seconds) const;
  void observe_verdict(double score, double threshold) const;
  void observe_threshold(double threshold) const;
  void observe_delivered(std::int64_t last_event_ms) const;
  void count_reload(bool ok) const;
};

/// The mapper's, the scorer adapter's and the open-session / queue gauges of the pipeline, and
/// the daemon's own observed metrics.
DaemonProbes export_daemon_metrics(Metrics& metrics, const BundleMapper& mapper, const BundleScorer& scorer,
                                   const PipelineStats& stats);
/// Kafka clients: consumer lag and the brokers each client reaches.
void export_source_metrics(Metrics& metrics, const KafkaSource& source);
void export_sink_metrics(Metrics& metrics, const KafkaSink& sink);
/// The decode stage (issue #20): rejected records per reason, other streams, bad fields.
void export_decoder_metrics(Metrics& metrics, const core::DecodeStats& stats);
/// Operator feedback (issue #20): marked patterns per verdict, records applied / malformed.
void export_feedback_metrics(Metrics& metrics, const FeedbackStats& stats);
/// The template registry and the routing stage (issue #6).
void export_registry_metrics(Metrics& metrics, const TemplateRegistry& registry);
void export_router_metrics(Metrics& metrics, const Router& router);

/// /readyz: the daemon runs (`running`) and every Kafka client reaches a broker (unknown counts
/// as reachable: the output topic was checked at start-up). Null clients are not used.
std::function<bool()> readiness(const std::atomic<bool>& running, const KafkaSource* source, const KafkaSink* sink);
/// The same over every stream's clients.
std::function<bool()> readiness(const std::atomic<bool>& running, std::vector<const KafkaSource*> sources,
                                std::vector<const KafkaSink*> sinks);

}  // namespace logguard::daemon
