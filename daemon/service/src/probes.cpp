// Every metric logguardd exposes, and its readiness (see probes.hpp).
#include "logguard/service/probes.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <algorithm>

#include "logguard/kafka/registry.hpp"
#include "logguard/kafka/router.hpp"
#include "logguard/kafka/sink.hpp"
#include "logguard/kafka/source.hpp"
#include "logguard/pipeline/clock.hpp"
#include "logguard/pipeline/pipeline.hpp"
#include "logguard/service/bundle_mapper.hpp"
#include "logguard/service/bundle_scorer.hpp"

namespace logguard::daemon {

void export_pipeline_metrics(Metrics& m, const PipelineStats& s) {
  m.counter_of("logguard_records_total", "Log lines read from the source", s.records);
  m.counter_of("logguard_windows_scored_total", "Windows scored by the model", s.windows);
  m.counter_of("logguard_anomalies_total", "Windows judged anomalous", s.anomalies);
  m.counter_of("logguard_anomalies_delivered_total", "Anomaly records delivered by the sink", s.delivered);
  m.counter_of("logguard_sink_failures_total", "Anomaly records the sink failed to deliver", s.delivery_failures);
  m.counter_of("logguard_windows_dropped_total", "Windows evicted by the drop_oldest overflow policy", s.dropped_windows);
  m.counter_of("logguard_source_pauses_total", "Times the source was paused by backpressure", s.pauses);
  m.counter_of("logguard_offset_stores_total", "Offset stores after completed work", s.offset_stores);
  m.counter_of("logguard_redelivered_records_total",
               "Records below the partition's processed position (re-delivered after a restart or rebalance), skipped",
               s.redelivered);
  m.counter_of("logguard_checkpoints_total", "Checkpoints written to state.dir", s.checkpoints);
  m.counter_of("logguard_checkpoint_failures_total", "Checkpoints not taken (write failed or work still in flight)",
               s.checkpoint_failures);
  const char* handed_partitions = "Partitions whose open sessions were handed over on a rebalance";
  m.counter_of("logguard_handover_partitions_total", handed_partitions, s.handover_out_partitions, {{"direction", "out"}});
  m.counter_of("logguard_handover_partitions_total", handed_partitions, s.handover_in_partitions, {{"direction", "in"}});
  const char* handed_sessions = "Open sessions handed over on rebalances";
  m.counter_of("logguard_handover_sessions_total", handed_sessions, s.handover_out_sessions, {{"direction", "out"}});
  m.counter_of("logguard_handover_sessions_total", handed_sessions, s.handover_in_sessions, {{"direction", "in"}});
  m.counter_of("logguard_handover_failures_total",
               "Handover saves or loads that failed (the partition continues from its last saved state)",
               s.handover_failures);
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

void DaemonProbes::observe_delivered(std::int64_t last_ms) const {
  if (last_ms > 0) e2e_seconds->Observe(static_cast<double>(std::max<std::int64_t>(0, wall_ms() - last_ms)) / 1000.0);
}

void DaemonProbes::count_reload(bool ok) const { (ok ? reloads : reload_failures)->Increment(); }

DaemonProbes export_daemon_metrics(Metrics& metrics, const BundleMapper& mapper, const BundleScorer& scorer,
                                   const PipelineStats& ps) {
  const auto& m = mapper.stats();
  metrics.counter_of("logguard_lines_total", "Raw lines parsed", m.lines);
  metrics.counter_of("logguard_parse_errors_total",
                     "Lines that did not fit log_format, were truncated or had invalid UTF-8", m.parse_errors);
  metrics.counter_of("logguard_templates_created_total", "Parser templates created", m.templates_created);
  metrics.counter_of("logguard_templates_changed_total", "Parser templates whose text changed", m.templates_changed);
  metrics.gauge_of("logguard_known_templates", "Parser templates that map to a bundle template", m.templates_known);
  metrics.gauge_of("logguard_pinned_templates", "Bundle templates pinned in the parser (never generalised)",
                   m.templates_pinned);
  metrics.counter_of("logguard_parser_rebuilds_total",
                     "Reloads whose bundle brought other parser settings (parser rebuilt)", m.parser_rebuilds);
  metrics.counter_of("logguard_events_known_total", "Events mapped to a bundle template", m.events_known);
  metrics.counter_of("logguard_events_unknown_total", "Events whose template matches no bundle template",
                     m.events_unknown);
  metrics.counter_of("logguard_templates_encoded_total",
                     "Parser templates mapped through the bundle's template encoder", m.templates_encoded);
  auto& enc_s = metrics.counter("logguard_template_encoding_seconds_total", "Time spent encoding parser templates");
  metrics.on_scrape([&enc_s, &m] { Metrics::advance(enc_s, static_cast<double>(m.encoder_nanoseconds.load()) * 1e-9); });
  const auto& s = scorer.stats();
  metrics.counter_of("logguard_model_windows_total", "Model windows judged (cache hits included)", s.model_windows);
  metrics.counter_of("logguard_verdict_cache_hits_total", "Model windows answered from the verdict cache", s.cache_hits);
  metrics.counter_of("logguard_verdict_cache_misses_total", "Model windows run through the model", s.cache_misses);
  metrics.gauge_of("logguard_open_sessions", "Open sessions", ps.sessions_open);
  metrics.counter_of("logguard_sessions_evicted_total", "Sessions closed by the open-session limit", ps.sessions_evicted);
  metrics.gauge_of("logguard_scorer_queue_windows", "Windows waiting for the scorer", ps.scorer_queue);
  metrics.gauge_of("logguard_sink_queue_windows", "Scored windows waiting for the sink", ps.sink_queue);
  DaemonProbes dm;
  dm.batch_windows = &metrics.histogram("logguard_scorer_batch_windows", "Windows per scorer batch",
                                        {1, 2, 4, 8, 16, 32, 64, 128, 256});
  dm.batch_seconds = &metrics.histogram("logguard_scorer_batch_seconds", "Scorer latency per batch",
                                        {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1});
  dm.e2e_seconds = &metrics.histogram("logguard_anomaly_latency_seconds",
                                      "From the window's last line (source timestamp) to its anomaly record delivered",
                                      {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
  dm.reloads = &metrics.counter("logguard_model_reloads_total", "Model bundles loaded by SIGHUP");
  dm.reload_failures = &metrics.counter("logguard_model_reload_failures_total", "SIGHUP reloads that failed");
  return dm;
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
  metrics.gauge_of("logguard_registry_templates", "Template texts known from the template registry", rs.entries);
  metrics.counter_of("logguard_registry_published_total",
                     "Template mapping decisions this instance published to the registry", rs.published);
  metrics.counter_of("logguard_registry_adopted_total",
                     "Template mappings taken from the registry instead of the encoder", rs.adopted);
  metrics.counter_of("logguard_registry_malformed_total", "Registry records skipped as malformed", rs.malformed);
  metrics.counter_of("logguard_registry_delivery_failures_total", "Registry records this instance could not produce",
                     rs.delivery_failures);
}

void export_router_metrics(Metrics& metrics, const Router& router) {
  const RouterStats& rs = router.stats();
  metrics.counter_of("logguard_routed_lines_total", "Lines re-produced to the repartition topic keyed by session",
                     rs.lines);
  metrics.counter_of("logguard_routed_unkeyed_lines_total", "Routed lines without a session key", rs.unkeyed);
  metrics.counter_of("logguard_routed_copies_total",
                     "Extra copies of routed lines that name several sessions (one per further session)", rs.copies);
  metrics.counter_of("logguard_router_transactions_total", "Routing transactions committed", rs.transactions);
  metrics.counter_of("logguard_router_aborts_total", "Routing transactions aborted (their lines are routed again)",
                     rs.aborts);
}

std::function<bool()> readiness(const std::atomic<bool>& running, const KafkaSource* source, const KafkaSink* sink) {
  return [&running, source, sink] {
    return running.load() && (!source || source->brokers_up() != 0) && (!sink || sink->brokers_up() != 0);
  };
}

}  // namespace logguard::daemon
