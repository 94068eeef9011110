// Every metric logguardd exposes, and its readiness (see probes.hpp).
#include "logguard/service/probes.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <algorithm>
#include <initializer_list>

#include "logguard/kafka/registry.hpp"
#include "logguard/kafka/router.hpp"
#include "logguard/kafka/sink.hpp"
#include "logguard/kafka/source.hpp"
#include "logguard/core/record_format.hpp"
#include "logguard/pipeline/clock.hpp"
#include "logguard/pipeline/feedback.hpp"
#include "logguard/pipeline/pipeline.hpp"
#include "logguard/service/bundle_mapper.hpp"
#include "logguard/service/bundle_scorer.hpp"

namespace logguard::daemon {
namespace {

// A series each scrape reads from a stage's statistics (which outlive the scrapes).
struct Series {
  const char* name;
  const char* help;
  const std::atomic<std::uint64_t>& value;
  Metrics::Labels labels = {};
};

void counters(Metrics& m, std::initializer_list<Series> list) {
  for (const auto& s : list) m.counter_of(s.name, s.help, s.value, s.labels);
}

void gauges(Metrics& m, std::initializer_list<Series> list) {
  for (const auto& s : list) m.gauge_of(s.name, s.help, s.value, s.labels);
}

}  // namespace

void export_pipeline_metrics(Metrics& m, const PipelineStats& s) {
  const char* handed_partitions = "Partitions whose open sessions were handed over on a rebalance";
  const char* handed_sessions = "Open sessions handed over on rebalances";
  counters(m, {
      {"logguard_records_total", "Log lines (records) read from the source", s.records},
      {"logguard_log_records_total", "Log records windowed (decoded JSON/OTLP records; raw lines)", s.log_records},
      {"logguard_anomalies_suppressed_total", "Anomalous windows of a pattern marked false alarm, not published",
       s.suppressed},
      {"logguard_anomalies_confirmed_total", "Anomalous windows of a pattern an operator confirmed (published)",
       s.confirmed},
      {"logguard_windows_scored_total", "Windows scored by the model", s.windows},
      {"logguard_anomalies_total", "Windows judged anomalous", s.anomalies},
      {"logguard_anomalies_delivered_total", "Anomaly records delivered by the sink", s.delivered},
      {"logguard_sink_failures_total", "Anomaly records the sink failed to deliver", s.delivery_failures},
      {"logguard_windows_dropped_total", "Windows evicted by the drop_oldest overflow policy", s.dropped_windows},
      {"logguard_source_pauses_total", "Times the source was paused by backpressure", s.pauses},
      {"logguard_offset_stores_total", "Offset stores after completed work", s.offset_stores},
      {"logguard_redelivered_records_total",
       "Records below the partition's processed position (re-delivered after a restart or rebalance), skipped",
       s.redelivered},
      {"logguard_checkpoints_total", "Checkpoints written to state.dir", s.checkpoints},
      {"logguard_checkpoint_failures_total", "Checkpoints not taken (write failed or work still in flight)",
       s.checkpoint_failures},
      {"logguard_handover_partitions_total", handed_partitions, s.handover_out_partitions, {{"direction", "out"}}},
      {"logguard_handover_partitions_total", handed_partitions, s.handover_in_partitions, {{"direction", "in"}}},
      {"logguard_handover_sessions_total", handed_sessions, s.handover_out_sessions, {{"direction", "out"}}},
      {"logguard_handover_sessions_total", handed_sessions, s.handover_in_sessions, {{"direction", "in"}}},
      {"logguard_handover_failures_total",
       "Handover saves or loads that failed (the partition continues from its last saved state)", s.handover_failures},
  });
  auto& bytes = m.gauge("logguard_checkpoint_bytes", "Size of the last checkpoint");
  auto& when = m.gauge("logguard_checkpoint_timestamp_seconds", "Wall-clock time of the last checkpoint (0: none yet)");
  auto& stall = m.gauge("logguard_checkpoint_stall_seconds",
                         "How long the last checkpoint held up the consumer (waiting for in-flight windows, then writing)");
  auto& write = m.gauge("logguard_checkpoint_write_seconds", "Of that, writing the last checkpoint (copy, encode, fsync)");
  m.on_scrape([&bytes, &when, &stall, &write, &s] {
    bytes.Set(static_cast<double>(s.checkpoint_bytes.load()));
    stall.Set(static_cast<double>(s.checkpoint_stall_us.load()) * 1e-6);
    write.Set(static_cast<double>(s.checkpoint_write_us.load()) * 1e-6);
    when.Set(static_cast<double>(s.checkpoint_ms.load()) / 1000.0);
  });
}

void DaemonProbes::observe_batch(std::size_t windows, double seconds) const {
  batch_windows->Observe(static_cast<double>(windows));
  batch_seconds->Observe(seconds);
}

void DaemonProbes::observe_verdict(double score, double thr) const {
  window_score->Observe(score);
  threshold->Set(thr);
}

void DaemonProbes::observe_threshold(double thr) const { threshold->Set(thr); }

void DaemonProbes::observe_delivered(std::int64_t last_ms) const {
  if (last_ms > 0) e2e_seconds->Observe(static_cast<double>(std::max<std::int64_t>(0, wall_ms() - last_ms)) / 1000.0);
}

void DaemonProbes::count_reload(bool ok) const { (ok ? reloads : reload_failures)->Increment(); }

DaemonProbes export_daemon_metrics(Metrics& metrics, const BundleMapper& mapper, const BundleScorer& scorer,
                                   const PipelineStats& ps) {
  // Counters and gauges each keep their order of registration (the exposition's order).
  const auto& m = mapper.stats();
  const auto& s = scorer.stats();
  counters(metrics, {
      {"logguard_lines_total", "Raw lines parsed", m.lines},
      {"logguard_parse_errors_total", "Lines that did not fit log_format, were truncated or had invalid UTF-8",
       m.parse_errors},
      {"logguard_templates_created_total", "Parser templates created", m.templates_created},
      {"logguard_templates_changed_total", "Parser templates whose text changed", m.templates_changed},
      {"logguard_parser_rebuilds_total", "Reloads whose bundle brought other parser settings (parser rebuilt)",
       m.parser_rebuilds},
      {"logguard_events_known_total", "Events mapped to a bundle template", m.events_known},
      {"logguard_events_unknown_total", "Events whose template matches no bundle template", m.events_unknown},
      {"logguard_events_abnormal_total", "Events of templates labelled abnormal in training (or closest to one)",
       m.events_abnormal},
      {"logguard_templates_encoded_total", "Parser templates mapped through the bundle's template encoder",
       m.templates_encoded},
  });
  auto& enc_s = metrics.counter("logguard_template_encoding_seconds_total", "Time spent encoding parser templates");
  metrics.on_scrape([&enc_s, &m] { Metrics::advance(enc_s, static_cast<double>(m.encoder_nanoseconds.load()) * 1e-9); });
  counters(metrics, {
      {"logguard_model_windows_total", "Model windows judged (cache hits included)", s.model_windows},
      {"logguard_verdict_cache_hits_total", "Model windows answered from the verdict cache", s.cache_hits},
      {"logguard_verdict_cache_misses_total", "Model windows run through the model", s.cache_misses},
      {"logguard_sessions_evicted_total", "Sessions closed by the open-session limit", ps.sessions_evicted},
      {"logguard_sessions_resumed_total", "Suspended sessions that received a line again and continued",
       ps.sessions_resumed},
      {"logguard_pending_windows_total",
       "Count windows previewed (judged on their templates) when the stream went quiet before they filled",
       ps.pending_previews},
      {"logguard_sessions_returned_total",
       "Evicted sessions whose key came back and that continued where they were evicted", ps.sessions_returned},
  });
  gauges(metrics, {
      {"logguard_known_templates", "Parser templates that map to a bundle template", m.templates_known},
      {"logguard_pinned_templates", "Bundle templates pinned in the parser (never generalised)", m.templates_pinned},
      {"logguard_open_sessions", "Open sessions (suspended ones included)", ps.sessions_open},
      {"logguard_suspended_sessions", "Open sessions suspended after idle_timeout_ms, kept until end_timeout_ms",
       ps.sessions_suspended},
      {"logguard_evicted_sessions",
       "Evicted sessions remembered (position and last templates) so that a returning key continues them",
       ps.sessions_remembered},
      {"logguard_scorer_queue_windows", "Windows waiting for the scorer", ps.scorer_queue},
      {"logguard_sink_queue_windows", "Scored windows waiting for the sink", ps.sink_queue},
  });
  DaemonProbes dm;
  dm.batch_windows = &metrics.histogram("logguard_scorer_batch_windows", "Windows per scorer batch",
                                        {1, 2, 4, 8, 16, 32, 64, 128, 256});
  dm.batch_seconds = &metrics.histogram("logguard_scorer_batch_seconds", "Scorer latency per batch",
                                        {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1});
  dm.e2e_seconds = &metrics.histogram("logguard_anomaly_latency_seconds",
                                      "From the window's last line (source timestamp) to its anomaly record delivered",
                                      {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
  dm.window_score = &metrics.histogram("logguard_window_score_nats",
                                       "Scores of the scored windows (anomalous above the threshold; 1000: an abnormal template)",
                                       {1, 2, 4, 6, 8, 10, 12, 16, 24, 32, 64, 999});
  dm.threshold = &metrics.gauge("logguard_detection_threshold_nats",
                                "Threshold of the running bundle: a window scoring above it is anomalous");
  dm.reloads = &metrics.counter("logguard_model_reloads_total", "Model bundles loaded by SIGHUP");
  dm.reload_failures = &metrics.counter("logguard_model_reload_failures_total", "SIGHUP reloads that failed");
  return dm;
}

void export_decoder_metrics(Metrics& metrics, const core::DecodeStats& d) {
  const char* rejected = "Input records kept out of windows, by reason (their offsets still advance)";
  for (std::size_t i = 0; i < core::kRejectReasons; ++i)
    metrics.counter_of("logguard_records_rejected_total", rejected, d.rejected[i],
                       {{"reason", core::to_string(static_cast<core::RejectReason>(i))}});
  counters(metrics, {
      {"logguard_records_other_stream_total", "Records of other streams skipped (input.stream not selected)",
       d.other_stream},
      {"logguard_record_timestamp_errors_total",
       "Records whose configured timestamp field was missing or unreadable (kept, with the source's time)",
       d.bad_timestamps},
      {"logguard_record_field_errors_total",
       "Records whose session, label or stream field was not a scalar (kept, as if the field were missing)",
       d.bad_fields},
  });
}

void export_feedback_metrics(Metrics& metrics, const FeedbackStats& f) {
  const char* patterns = "Patterns currently marked by operator feedback";
  metrics.gauge_of("logguard_feedback_patterns", patterns, f.false_alarms, {{"verdict", "false_alarm"}});
  metrics.gauge_of("logguard_feedback_patterns", patterns, f.confirmed, {{"verdict", "confirmed"}});
  counters(metrics, {
      {"logguard_feedback_records_total", "Feedback records applied (marks, confirmations, withdrawals)", f.records},
      {"logguard_feedback_malformed_total", "Feedback records skipped as malformed", f.malformed},
  });
}

void export_source_metrics(Metrics& metrics, const KafkaSource& source) {
  auto& lag = metrics.gauge("logguard_consumer_lag_messages",
                            "Input messages not yet consumed, summed over the assigned partitions (-1: unknown)");
  auto& up = metrics.gauge("logguard_source_brokers", "Brokers the consumer is connected to (-1: unknown yet)");
  metrics.on_scrape([&lag, &up, &source] {
    lag.Set(static_cast<double>(source.consumer_lag()));
    up.Set(static_cast<double>(source.brokers_up()));
  });
}

void export_sink_metrics(Metrics& metrics, const KafkaSink& sink) {
  auto& up = metrics.gauge("logguard_sink_brokers", "Brokers the anomaly producer is connected to (-1: unknown yet)");
  metrics.on_scrape([&up, &sink] { up.Set(static_cast<double>(sink.brokers_up())); });
}

void export_registry_metrics(Metrics& metrics, const TemplateRegistry& registry) {
  const RegistryStats& rs = registry.stats();
  gauges(metrics, {{"logguard_registry_templates", "Template texts known from the template registry", rs.entries}});
  counters(metrics, {
      {"logguard_registry_published_total", "Template mapping decisions this instance published to the registry",
       rs.published},
      {"logguard_registry_adopted_total", "Template mappings taken from the registry instead of the encoder",
       rs.adopted},
      {"logguard_registry_malformed_total", "Registry records skipped as malformed", rs.malformed},
      {"logguard_registry_delivery_failures_total", "Registry records this instance could not produce",
       rs.delivery_failures},
  });
}

void export_router_metrics(Metrics& metrics, const Router& router) {
  const RouterStats& rs = router.stats();
  counters(metrics, {
      {"logguard_routed_lines_total", "Lines re-produced to the repartition topic keyed by session", rs.lines},
      {"logguard_routed_unkeyed_lines_total", "Routed lines without a session key", rs.unkeyed},
      {"logguard_routed_copies_total", "Extra copies of routed lines that name several sessions (one per further session)",
       rs.copies},
      {"logguard_router_transactions_total", "Routing transactions committed", rs.transactions},
      {"logguard_router_aborts_total", "Routing transactions aborted (their lines are routed again)", rs.aborts},
  });
}

std::function<bool()> readiness(const std::atomic<bool>& running, const KafkaSource* source, const KafkaSink* sink) {
  return readiness(running, std::vector<const KafkaSource*>{source}, std::vector<const KafkaSink*>{sink});
}

std::function<bool()> readiness(const std::atomic<bool>& running, std::vector<const KafkaSource*> sources,
                                std::vector<const KafkaSink*> sinks) {
  return [&running, sources = std::move(sources), sinks = std::move(sinks)] {
    if (!running.load()) return false;
    for (const auto* s : sources)
      if (s && s->brokers_up() == 0) return false;
    for (const auto* s : sinks)
      if (s && s->brokers_up() == 0) return false;
    return true;
  };
}

}  // namespace logguard::daemon
