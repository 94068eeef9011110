// The one place where logguardd's config becomes running threads (docs/ARCHITECTURE.md, "From
// config to running threads"). Start-up fails fast with the exit codes of docs/cli.md:
//
//   YAML -> resolve (bundle, chunk layout, parser) -> Kafka endpoints (embedded cluster,
//   router, source, sink, template registry) -> mapper + scorer -> state store (handover topic
//   or state.dir; restore) -> Pipeline -> probes + HTTP -> signal thread -> READY=1 -> threads:
//   lg-router (routing), the pipeline's consumer (this thread) / lg-scorer / lg-sink.
//
// Shutdown: the stop flag (signal thread, or a failed router) ends the pipeline, which scores
// and delivers what it holds and stores its offsets; then the source commits and leaves the
// group, and the registry flushes this instance's last decisions.
#include "wiring.hpp"

#include <pthread.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "logguard/config/exit_codes.hpp"
#include "logguard/core/error.hpp"
#include "logguard/kafka/embedded.hpp"
#include "logguard/kafka/producer.hpp"
#include "logguard/kafka/registry.hpp"
#include "logguard/kafka/router.hpp"
#include "logguard/kafka/sink.hpp"
#include "logguard/kafka/source.hpp"
#include "logguard/kafka/state_store.hpp"
#include "logguard/pipeline/file_source.hpp"
#include "logguard/pipeline/file_state_store.hpp"
#include "logguard/pipeline/log.hpp"
#include "logguard/pipeline/pipeline.hpp"
#include "logguard/pipeline/session_key.hpp"
#include "logguard/pipeline/stream_sink.hpp"
#include "logguard/service/bundle_mapper.hpp"
#include "logguard/service/bundle_scorer.hpp"
#include "logguard/service/bundle_state.hpp"
#include "logguard/service/http_server.hpp"
#include "logguard/service/metrics.hpp"
#include "logguard/service/probes.hpp"
#include "resolve.hpp"
#include "signal_thread.hpp"

namespace logguard::daemon::detail {

using std::chrono::milliseconds;

int run_daemon(const std::string& config_path) {
  block_daemon_signals();  // before any thread starts (threads inherit the mask)

  Resolved r = resolve(config_path);
  auto& app = r.app;
  const auto model = r.model->current();
  log_info("model %s (W=%zu), chunks of %zu events sliding by %zu", model->version.c_str(), model->shape.window,
           r.layout.length, r.layout.stride);

  // Kafka (embedded mock cluster when asked for).
  std::unique_ptr<EmbeddedKafka> embedded;
  std::string bootstrap = app.kafka.brokers;
  const bool uses_kafka =
      app.daemon.source == DaemonConfig::SourceKind::kafka || app.daemon.sink == DaemonConfig::SinkKind::kafka;
  if (uses_kafka && app.kafka.brokers == "embedded") {
    embedded = std::make_unique<EmbeddedKafka>(1);
    bootstrap = embedded->bootstrap_servers();
    for (const auto& t : app.kafka.topics) embedded->create_topic(t, 1);
    if (app.daemon.sink == DaemonConfig::SinkKind::kafka) embedded->create_topic(app.kafka.output_topic, 1);
    log_info("embedded Kafka at %s", bootstrap.c_str());
  }
  // Routing (issue #6): this instance also runs the routing stage, and its scoring consumer
  // reads the repartition topic instead of the input topics.
  KafkaConfig scoring_kafka = app.kafka;
  std::unique_ptr<Router> router;
  if (app.routing.enabled) {
    if (embedded) embedded->create_topic(app.routing.topic, std::max(1, app.routing.partitions));
    auto keyer = std::make_shared<SessionKeyExtractor>(app.pipeline.window);
    router = std::make_unique<Router>(app.kafka, app.routing, bootstrap,
                                      [keyer](std::string_view line, std::vector<std::string_view>& keys) {
                                        keyer->extract(line, std::string_view(), keys);
                                      });
    router->ensure_topic(milliseconds(10000));
    scoring_kafka.topics = {app.routing.topic};
    // Each routed record is one session's copy of a line, keyed by that session.
    app.pipeline.window.key_from = WindowConfig::KeyFrom::message_key;
  }
  std::unique_ptr<Source> source;
  KafkaSource* kafka_source = nullptr;
  switch (app.daemon.source) {
    case DaemonConfig::SourceKind::kafka: {
      auto k = std::make_unique<KafkaSource>(scoring_kafka, bootstrap);
      kafka_source = k.get();
      source = std::move(k);
      break;
    }
    case DaemonConfig::SourceKind::file:
      source = std::make_unique<FileSource>(app.daemon.source_path, r.parser.max_line_bytes);
      break;
    case DaemonConfig::SourceKind::stdin_: source = std::make_unique<FileSource>("-", r.parser.max_line_bytes); break;
  }
  std::unique_ptr<Sink> sink;
  KafkaSink* kafka_sink = nullptr;
  switch (app.daemon.sink) {
    case DaemonConfig::SinkKind::kafka: {
      auto ks = std::make_unique<KafkaSink>(app.kafka, bootstrap, app.kafka.output_topic);
      kafka_sink = ks.get();
      // Fail at start-up, naming the topic, rather than failing every delivery later.
      auto parts = ks->check_topic(milliseconds(10000));
      if (!parts) throw core::LoadError("kafka.output_topic: " + parts.error().message);
      sink = std::move(ks);
      break;
    }
    case DaemonConfig::SinkKind::stdout_: sink = std::make_unique<StreamSink>("-"); break;
    case DaemonConfig::SinkKind::file: sink = std::make_unique<StreamSink>(app.daemon.sink_path); break;
  }

  // Template registry (issue #6): template texts and their bundle mapping shared by every
  // instance of kafka.group_id. Declared before the mapper and the pipeline, which use it.
  std::unique_ptr<TemplateRegistry> registry;
  if (app.registry.enabled) {
    const std::string topic = app.registry.effective_topic(app.kafka.group_id);
    if (embedded) embedded->create_topic(topic, 1);
    registry = std::make_unique<TemplateRegistry>(app.registry, app.kafka, bootstrap);
    registry->ensure_topic(milliseconds(10000));
    const std::size_t records = registry->catch_up(milliseconds(30000));
    log_info("template registry %s: %zu records, %zu templates", topic.c_str(), records, registry->entries());
  }
  const bool parser_from_bundle = !app.has_parser;
  r.model->set_reload_check([layout = r.layout, parser_from_bundle](const LoadedModel& m) {
    models::check_chunk_layout(layout, m.shape);
    if (parser_from_bundle) check_bundle_parser(m);
  });
  BundleMapper mapper(core::LineParser(r.parser), r.model);
  mapper.follow_bundle_parser(parser_from_bundle);
  if (registry) mapper.set_registry(registry.get());
  BundleScorer scorer(r.model, r.layout, app.model.verdict_cache);

  // Saved state: open sessions follow their partition through a compacted topic (handover,
  // issue #6; the periodic checkpoints save there too, so stored offsets always match a saved
  // state), or checkpoints of the whole pipeline in state.dir (docs/checkpoint-format.md).
  PipelineOptions options;
  const std::string mode = to_string(app.pipeline.window.mode);
  std::unique_ptr<StateStore> store;
  if (app.handover.enabled) {
    int parts = 1;
    if (app.routing.enabled && app.routing.partitions > 0) parts = app.routing.partitions;
    KafkaProducer probe(bootstrap, app.kafka.producer);
    for (const auto& t : scoring_kafka.topics)
      if (auto n = probe.partitions(t, milliseconds(10000))) parts = std::max(parts, *n);
    if (embedded) embedded->create_topic(app.handover.topic, parts);
    auto kafka_store = std::make_unique<KafkaStateStore>(scoring_kafka, app.handover, app.handover.topic, bootstrap,
                                                         bundle_state_model(r.model, mode), mode);
    kafka_store->ensure_topic(parts, milliseconds(10000));
    store = std::move(kafka_store);
    options.checkpoints = {store.get(), app.handover.interval_ms, false, true, milliseconds(app.handover.timeout_ms)};
    log_info("handing over open sessions through topic %s", app.handover.topic.c_str());
  }
  if (!app.daemon.state_dir.empty()) {
    ParserState parser_state;
    parser_state.save = [&mapper] {
      std::ostringstream out;
      mapper.parser().save(out);
      return out.str();
    };
    parser_state.load = [&mapper, &r](const std::string& snapshot, const std::string& source_name) {
      std::istringstream in(snapshot);
      mapper.set_parser(core::LineParser::load(in, r.parser, source_name));
    };
    auto file_store = std::make_unique<FileStateStore>(app.daemon.state_dir, mode, bundle_state_model(r.model, mode),
                                                       std::move(parser_state));
    options.restore = file_store->restore();
    store = std::move(file_store);
    options.checkpoints = {store.get(), app.daemon.checkpoint_interval_ms, app.daemon.flush_at_shutdown, false, {}};
  }

  Metrics metrics;
  DaemonProbes probes;
  // An instance without input still follows the registry (map() syncs only when lines come).
  if (registry) options.on_tick = [&mapper] { mapper.sync_registry(); };
  options.on_delivered = [&probes](std::int64_t last_ms) { probes.observe_delivered(last_ms); };
  Pipeline pipeline(app.pipeline, *source, [&mapper](const Record& rec) { return mapper.map(rec); }, scorer, *sink,
                    bundle_template_text(r.model), std::move(options));

  export_pipeline_metrics(metrics, pipeline.stats());
  probes = export_daemon_metrics(metrics, mapper, scorer, pipeline.stats());
  scorer.on_batch = [&probes](std::size_t windows, std::size_t, double seconds) { probes.observe_batch(windows, seconds); };
  scorer.on_verdict = [&probes](double score, double threshold) { probes.observe_verdict(score, threshold); };
  probes.observe_threshold(r.model->current()->scorer.detection().threshold);
  if (kafka_source) export_source_metrics(metrics, *kafka_source);
  if (registry) export_registry_metrics(metrics, *registry);
  if (router) export_router_metrics(metrics, *router);
  if (kafka_sink) export_sink_metrics(metrics, *kafka_sink);
  std::atomic<bool> ready{false};
  std::unique_ptr<HttpServer> http;
  if (app.metrics.enabled) {
    http = std::make_unique<HttpServer>(
        app.metrics.address, static_cast<std::uint16_t>(app.metrics.port),
        HttpServer::Handlers{[&metrics] { return metrics.serialize(); }, readiness(ready, kafka_source, kafka_sink)});
    log_info("metrics on http://%s:%u/metrics", app.metrics.address.c_str(), static_cast<unsigned>(http->port()));
  }

  std::atomic<bool> stop{false};
  SignalThread signals(stop, *r.model, [&probes](bool ok) { probes.count_reload(ok); }, app.daemon.shutdown_timeout_ms);
  ready = true;
  sd_notify(0, "READY=1");
  log_info("ready");
  std::thread router_thread;
  core::Expected<bool> router_result = true;
  if (router)
    router_thread = std::thread([&] {
      pthread_setname_np(pthread_self(), "lg-router");
      router_result = router->run(stop);
      if (!router_result) stop = true;  // the scoring side stops too; reported below
    });
  auto result = pipeline.run(stop);
  stop = true;
  if (router_thread.joinable()) router_thread.join();
  if (result && !router_result) result = core::Error{router_result.error().message};
  ready = false;
  if (kafka_source) kafka_source->close();  // commits the stored offsets
  if (registry) registry->flush(milliseconds(2000));  // this instance's last decisions
  const auto& st = pipeline.stats();
  const auto& ms = mapper.stats();
  const auto& ss = scorer.stats();
  log_info("%llu lines, %llu windows, %llu model windows (cache %llu hits / %llu misses), %llu anomalies, "
           "%llu delivered, %llu unknown events",
           static_cast<unsigned long long>(ms.lines.load()), static_cast<unsigned long long>(st.windows.load()),
           static_cast<unsigned long long>(ss.model_windows.load()),
           static_cast<unsigned long long>(ss.cache_hits.load()),
           static_cast<unsigned long long>(ss.cache_misses.load()),
           static_cast<unsigned long long>(st.anomalies.load()),
           static_cast<unsigned long long>(st.delivered.load()),
           static_cast<unsigned long long>(ms.events_unknown.load()));
  signals.finish();
  if (!result) {
    log_error("%s", result.error().message.c_str());
    return kRuntimeError;
  }
  return kOk;
}

}  // namespace logguard::daemon::detail
