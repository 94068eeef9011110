// `logguardd`: the streaming daemon's start-up, signal handling and metrics wiring.
//
// Start-up (fails fast, exit codes of docs/cli.md): YAML -> bundle (ModelHolder) -> chunk
// layout from the bundle's W -> parser (config `parser:` or the bundle's recorded settings)
// -> source / sink -> metrics endpoint -> Pipeline::run() on the main thread.
// Signals are blocked in every thread and taken by one signal thread (sigtimedwait):
// SIGTERM/SIGINT set the stop flag (the pipeline stops consuming, scores and delivers what
// it holds, flushes the sink and stores offsets; the source commits at close), SIGHUP
// reloads the bundle (ModelHolder; applied between batches). The same thread sends
// sd_notify WATCHDOG=1 when systemd asks for it and enforces shutdown_timeout_ms.
#include "logguard/daemon/daemon_main.hpp"

#include <pthread.h>

#include <CLI/CLI.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "clock_util.hpp"
#include "logguard/core/error.hpp"
#include "logguard/core/sequences.hpp"
#include "logguard/daemon/checkpoint.hpp"
#include "logguard/daemon/handover.hpp"
#include "logguard/daemon/cli.hpp"
#include "logguard/daemon/config_loader.hpp"
#include "logguard/daemon/file_source.hpp"
#include "logguard/daemon/kafka.hpp"
#include "logguard/daemon/metrics.hpp"
#include "logguard/daemon/model_stages.hpp"
#include "logguard/daemon/registry.hpp"
#include "logguard/daemon/pipeline.hpp"
#include "logguard/daemon/session_key.hpp"
#include "logguard/daemon/stream_sink.hpp"

#ifndef LOGGUARD_VERSION
#define LOGGUARD_VERSION "0.0.0"
#endif

namespace logguard::daemon {

void DaemonConfig::validate() const {
  using core::ConfigError;
  if (source == SourceKind::file && source_path.empty()) throw ConfigError("source.path", "required for type file");
  if (source != SourceKind::file && !source_path.empty())
    throw ConfigError("source.path", "only for type file");
  if (sink == SinkKind::file && sink_path.empty()) throw ConfigError("sink.path", "required for type file");
  if (sink != SinkKind::file && !sink_path.empty()) throw ConfigError("sink.path", "only for type file");
  if (checkpoint_interval_ms <= 0) throw ConfigError("state.checkpoint_interval_ms", "must be > 0");
  if (shutdown_timeout_ms <= 0) throw ConfigError("shutdown_timeout_ms", "must be > 0");
}

namespace {

using Clock = std::chrono::steady_clock;

/// Everything start-up resolves before any thread starts.
struct Resolved {
  AppConfig app;
  std::shared_ptr<ModelHolder> model;
  core::ParserConfig parser;
  ChunkLayout layout;
};

Resolved resolve(const std::string& path) {
  Resolved r;
  r.app = load_app_config(path);
  auto& app = r.app;
  if (app.model.bundle.empty()) throw core::ConfigError("model.bundle", "required: the model bundle directory", path);
  try {
    r.model = std::make_shared<ModelHolder>(app.model.bundle, app.model.detect);
  } catch (const core::ConfigError& e) {
    throw e.in_file(path);
  }
  const auto m = r.model->current();
  auto& win = app.pipeline.window;
  win.score_closing = true;
  if (win.mode != WindowConfig::Mode::time) {
    const std::size_t W = m->shape.window;
    if (!app.daemon.window_length_set) win.length = 4 * W;
    if (!app.daemon.window_stride_set) win.stride = win.length > W ? win.length - W : 0;
  }
  r.layout.sessions = win.mode == WindowConfig::Mode::session;
  r.layout.length = win.length;
  r.layout.stride = win.effective_stride();
  try {
    app.pipeline.validate();
  } catch (const core::ConfigError& e) {
    throw core::ConfigError("pipeline." + e.key(), e.message(), path);
  }
  try {
    check_chunk_layout(r.layout, m->shape);
  } catch (const core::ConfigError& e) {
    throw e.in_file(path);
  }
  if (app.has_parser) {
    r.parser = app.parser;
  } else {
    const auto& man = m->scorer.manifest();
    if (!man.raw_input)
      throw core::ConfigError("parser", "required: the bundle " + app.model.bundle + " records no parser settings", path);
    r.parser = man.raw_input->parser;
  }
  if (app.daemon.source == DaemonConfig::SourceKind::kafka && app.kafka.topics.empty())
    throw core::ConfigError("kafka.topics", "required for source type kafka", path);
  return r;
}

/// Checkpoints of the parser and the pipeline in `state.dir` (docs/checkpoint-format.md).
/// Lifecycle: restore() once at start-up (before the pipeline runs), then writer() is called
/// by the pipeline on the consumer thread, which also owns the mapper's parser.
class StateKeeper {
 public:
  StateKeeper(std::string dir, BundleMapper& mapper, std::shared_ptr<ModelHolder> model, const WindowConfig& window)
      : dir_(std::move(dir)), mapper_(mapper), model_(std::move(model)), mode_(to_string(window.mode)) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) throw core::LoadError("state.dir: cannot create " + dir_ + ": " + ec.message());
  }

  /// Continues from the checkpoint in the state directory, if any. Throws LoadError naming
  /// the file when it is corrupt or does not fit this configuration.
  void restore(Pipeline& pipeline, const core::ParserConfig& parser) {
    auto file = read_checkpoint(dir_);
    if (!file) {
      std::fprintf(stderr, "logguardd: no checkpoint in %s: starting afresh\n", dir_.c_str());
      return;
    }
    const std::string path = checkpoint_path(dir_);
    if (file->meta.window_mode != mode_)
      throw core::LoadError(path + ": made with pipeline.window.mode " + file->meta.window_mode + ", configured " +
                            mode_ + " (move the file away to start afresh)");
    std::istringstream in(file->meta.parser_snapshot);
    mapper_.set_parser(core::LineParser::load(in, parser, path + " (parser state)"));
    const auto model = model_->current();
    std::size_t events = 0;
    if (file->meta.model_version != model->version) {
      // Another bundle: carry the events' templates over by text (the bundle's own index).
      const auto [remapped, lost] = remap_templates(file->meta, file->pipeline, model->version, model->by_text);
      std::fprintf(stderr, "logguardd: checkpoint made with model %s, running %s: %zu events re-mapped by text, %zu now unknown\n",
                   file->meta.model_version.c_str(), model->version.c_str(), remapped, lost);
    }
    for (const auto& s : file->pipeline.windows.sessions) events += s.events.size();
    events += file->pipeline.windows.stream.size();
    std::fprintf(stderr, "logguardd: restored %s: %zu open sessions, %zu events, %zu partitions\n", path.c_str(),
                 file->pipeline.windows.sessions.size(), events, file->pipeline.positions.size());
    pipeline.restore(std::move(file->pipeline));
  }

  /// The parser snapshot is taken on the consumer thread (the caller); the rest of the work
  /// (template table, encoding, writing) runs in the returned job.
  CheckpointWriter writer() {
    return [this](PipelineCheckpoint p) -> CheckpointJob {
      CheckpointMeta m;
      auto model = model_->current();
      m.model_version = model->version;
      m.window_mode = mode_;
      m.created_ms = wall_ms();
      std::ostringstream out;
      mapper_.parser().save(out);
      m.parser_snapshot = out.str();
      return [dir = dir_, m = std::move(m), p = std::move(p), model = std::move(model)]() mutable {
        // The ids the events use (a few dozen over millions of events: skip repeats cheaply).
        std::unordered_set<std::uint32_t> seen;
        std::uint32_t last = 0;
        auto use = [&](std::uint32_t id) {
          if (id != last || seen.empty()) seen.insert(last = id);
        };
        for (const auto& s : p.windows.sessions)
          for (const auto& e : s.events) use(e.template_id);
        for (const auto& e : p.windows.stream) use(e.template_id);
        std::vector<std::uint32_t> used(seen.begin(), seen.end());
        std::sort(used.begin(), used.end());
        for (auto id : used)
          if (auto it = model->text.find(id); it != model->text.end()) m.templates.emplace_back(id, it->second);
        return write_checkpoint(dir, m, p);
      };
    };
  }

 private:
  std::string dir_;
  BundleMapper& mapper_;
  std::shared_ptr<ModelHolder> model_;
  std::string mode_;
};

/// The daemon's own Prometheus metrics beside the pipeline counters.
struct DaemonMetrics {
  prometheus::Histogram* batch_windows = nullptr;
  prometheus::Histogram* batch_seconds = nullptr;
  prometheus::Histogram* e2e_seconds = nullptr;
  prometheus::Counter* reloads = nullptr;
  prometheus::Counter* reload_failures = nullptr;
};

void export_daemon_metrics(Metrics& metrics, DaemonMetrics& dm, const BundleMapper& mapper, const BundleScorer& scorer,
                           const PipelineStats& ps) {
  auto counter = [&](const char* name, const char* help, const std::atomic<std::uint64_t>& v) {
    auto& c = metrics.counter(name, help);
    metrics.on_scrape([&c, &v] { Metrics::advance(c, static_cast<double>(v.load())); });
  };
  auto gauge = [&](const char* name, const char* help, const std::atomic<std::uint64_t>& v) {
    auto& g = metrics.gauge(name, help);
    metrics.on_scrape([&g, &v] { g.Set(static_cast<double>(v.load())); });
  };
  const auto& m = mapper.stats();
  counter("logguard_lines_total", "Raw lines parsed", m.lines);
  counter("logguard_parse_errors_total", "Lines that did not fit log_format, were truncated or had invalid UTF-8",
          m.parse_errors);
  counter("logguard_templates_created_total", "Parser templates created", m.templates_created);
  counter("logguard_templates_changed_total", "Parser templates whose text changed", m.templates_changed);
  gauge("logguard_known_templates", "Parser templates that map to a bundle template", m.templates_known);
  gauge("logguard_pinned_templates", "Bundle templates pinned in the parser (never generalised)", m.templates_pinned);
  counter("logguard_parser_rebuilds_total", "Reloads whose bundle brought other parser settings (parser rebuilt)",
          m.parser_rebuilds);
  counter("logguard_events_known_total", "Events mapped to a bundle template", m.events_known);
  counter("logguard_events_unknown_total", "Events whose template matches no bundle template", m.events_unknown);
  counter("logguard_templates_encoded_total", "Parser templates mapped through the bundle's template encoder",
          m.templates_encoded);
  auto& enc_s = metrics.counter("logguard_template_encoding_seconds_total", "Time spent encoding parser templates");
  metrics.on_scrape([&enc_s, &m] { Metrics::advance(enc_s, static_cast<double>(m.encoder_nanoseconds.load()) * 1e-9); });
  const auto& s = scorer.stats();
  counter("logguard_model_windows_total", "Model windows judged (cache hits included)", s.model_windows);
  counter("logguard_verdict_cache_hits_total", "Model windows answered from the verdict cache", s.cache_hits);
  counter("logguard_verdict_cache_misses_total", "Model windows run through the model", s.cache_misses);
  gauge("logguard_open_sessions", "Open sessions", ps.sessions_open);
  counter("logguard_sessions_evicted_total", "Sessions closed by the open-session limit", ps.sessions_evicted);
  gauge("logguard_scorer_queue_windows", "Windows waiting for the scorer", ps.scorer_queue);
  gauge("logguard_sink_queue_windows", "Scored windows waiting for the sink", ps.sink_queue);
  dm.batch_windows = &metrics.histogram("logguard_scorer_batch_windows", "Windows per scorer batch",
                                        {1, 2, 4, 8, 16, 32, 64, 128, 256});
  dm.batch_seconds = &metrics.histogram("logguard_scorer_batch_seconds", "Scorer latency per batch",
                                        {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1});
  dm.e2e_seconds = &metrics.histogram("logguard_anomaly_latency_seconds",
                                      "From the window's last line (source timestamp) to its anomaly record delivered",
                                      {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
  dm.reloads = &metrics.counter("logguard_model_reloads_total", "Model bundles loaded by SIGHUP");
  dm.reload_failures = &metrics.counter("logguard_model_reload_failures_total", "SIGHUP reloads that failed");
}

/// Signal thread: stop / reload / watchdog / shutdown bound. Lifecycle: started after the
/// signals are blocked; finish() ends it.
class SignalThread {
 public:
  SignalThread(std::atomic<bool>& stop, ModelHolder& model, DaemonMetrics& dm, std::int64_t shutdown_timeout_ms)
      : stop_(stop), model_(model), dm_(dm), timeout_ms_(shutdown_timeout_ms) {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "lg-signals");
      loop();
    });
  }
  ~SignalThread() { finish(); }
  void finish() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    std::uint64_t watchdog_usec = 0;
    const bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
    auto last_ping = Clock::now();
    std::optional<Clock::time_point> stopping_since;
    while (!done_) {
      timespec ts{0, 100'000'000};
      const int sig = sigtimedwait(&set, nullptr, &ts);
      if (sig == SIGTERM || sig == SIGINT) {
        if (!stopping_since) {
          std::fprintf(stderr, "logguardd: %s: stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
          sd_notify(0, "STOPPING=1");
          stop_ = true;
          stopping_since = Clock::now();
        }
      } else if (sig == SIGHUP) {
        std::fprintf(stderr, "logguardd: SIGHUP: reloading %s\n", model_.dir().c_str());
        sd_notify(0, "RELOADING=1");
        auto r = model_.reload();
        if (r) {
          dm_.reloads->Increment();
          std::fprintf(stderr, "logguardd: model %s loaded\n", model_.current()->version.c_str());
        } else {
          dm_.reload_failures->Increment();
          std::fprintf(stderr, "logguardd: %s\n", r.error().message.c_str());
        }
        sd_notify(0, "READY=1");
      }
      if (watchdog && Clock::now() - last_ping >= std::chrono::microseconds(watchdog_usec / 2)) {
        sd_notify(0, "WATCHDOG=1");
        last_ping = Clock::now();
      }
      if (stopping_since && Clock::now() - *stopping_since > std::chrono::milliseconds(timeout_ms_)) {
        std::fprintf(stderr, "logguardd: shutdown took longer than shutdown_timeout_ms=%lld; exiting\n",
                     static_cast<long long>(timeout_ms_));
        std::_Exit(kRuntimeError);
      }
    }
  }

  std::atomic<bool>& stop_;
  ModelHolder& model_;
  DaemonMetrics& dm_;
  std::int64_t timeout_ms_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

int run_daemon(const std::string& config_path) {
  // Block the handled signals before any thread starts (threads inherit the mask).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  Resolved r = resolve(config_path);
  auto& app = r.app;
  const auto model = r.model->current();
  std::fprintf(stderr, "logguardd: model %s (W=%zu), chunks of %zu events sliding by %zu\n", model->version.c_str(),
               model->shape.window, r.layout.length, r.layout.stride);

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
    std::fprintf(stderr, "logguardd: embedded Kafka at %s\n", bootstrap.c_str());
  }
  // Routing (issue #6): this instance also runs the routing stage, and its scoring consumer
  // reads the repartition topic instead of the input topics.
  KafkaConfig scoring_kafka = app.kafka;
  std::unique_ptr<Router> router;
  if (app.routing.enabled) {
    if (embedded)
      embedded->create_topic(app.routing.topic, std::max(1, app.routing.partitions));
    auto keyer = std::make_shared<SessionKeyExtractor>(app.pipeline.window);
    router = std::make_unique<Router>(app.kafka, app.routing, bootstrap,
                                      [keyer](std::string_view line, std::vector<std::string_view>& keys) {
                                        keyer->extract(line, std::string_view(), keys);
                                      });
    router->ensure_topic(std::chrono::milliseconds(10000));
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
    case DaemonConfig::SinkKind::kafka:
    {
      auto ks = std::make_unique<KafkaSink>(app.kafka, bootstrap, app.kafka.output_topic);
      kafka_sink = ks.get();
      // Fail at start-up, naming the topic, rather than failing every delivery later.
      auto parts = ks->check_topic(std::chrono::milliseconds(10000));
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
    registry->ensure_topic(std::chrono::milliseconds(10000));
    const std::size_t records = registry->catch_up(std::chrono::milliseconds(30000));
    std::fprintf(stderr, "logguardd: template registry %s: %zu records, %zu templates\n", topic.c_str(), records,
                 registry->entries());
  }
  const bool parser_from_bundle = !app.has_parser;
  r.model->set_reload_check([layout = r.layout, parser_from_bundle](const LoadedModel& m) {
    check_chunk_layout(layout, m.shape);
    if (parser_from_bundle) check_bundle_parser(m);
  });
  BundleMapper mapper(core::LineParser(r.parser), r.model);
  mapper.follow_bundle_parser(parser_from_bundle);
  if (registry) mapper.set_registry(registry.get());
  BundleScorer scorer(r.model, r.layout, app.model.verdict_cache);
  Pipeline pipeline(app.pipeline, *source, [&mapper](const Record& rec) { return mapper.map(rec); }, scorer, *sink,
                    bundle_template_text(r.model));
  // An instance without input still follows the registry (map() syncs only when lines come).
  if (registry) pipeline.on_tick([&mapper] { mapper.sync_registry(); });

  // Handover (issue #6): open sessions follow their partition through a compacted topic; the
  // periodic checkpoints save there too, so stored offsets always match a saved state.
  std::unique_ptr<KafkaStateStore> handover;
  if (app.handover.enabled) {
    int parts = 1;
    if (app.routing.enabled && app.routing.partitions > 0) parts = app.routing.partitions;
    KafkaProducer probe(bootstrap, app.kafka.producer);
    for (const auto& t : scoring_kafka.topics)
      if (auto n = probe.partitions(t, std::chrono::milliseconds(10000))) parts = std::max(parts, *n);
    if (embedded) embedded->create_topic(app.handover.topic, parts);
    const std::string mode = to_string(app.pipeline.window.mode);
    handover = std::make_unique<KafkaStateStore>(scoring_kafka, app.handover, app.handover.topic, bootstrap,
                                                 bundle_state_model(r.model, mode), mode);
    handover->ensure_topic(parts, std::chrono::milliseconds(10000));
    pipeline.enable_checkpoints(app.handover.interval_ms, handover_writer(*handover), false);
    pipeline.enable_handover(make_handover(*handover, std::chrono::milliseconds(app.handover.timeout_ms)));
    std::fprintf(stderr, "logguardd: handing over open sessions through topic %s\n", app.handover.topic.c_str());
  }
  std::unique_ptr<StateKeeper> state;
  if (!app.daemon.state_dir.empty()) {
    state = std::make_unique<StateKeeper>(app.daemon.state_dir, mapper, r.model, app.pipeline.window);
    pipeline.enable_checkpoints(app.daemon.checkpoint_interval_ms, state->writer(), app.daemon.flush_at_shutdown);
    state->restore(pipeline, r.parser);  // after: the pipeline knows it need not track records
  }

  Metrics metrics;
  DaemonMetrics dm;
  export_pipeline_metrics(metrics, pipeline.stats());
  export_daemon_metrics(metrics, dm, mapper, scorer, pipeline.stats());
  scorer.on_batch = [&dm](std::size_t windows, std::size_t, double seconds) {
    dm.batch_windows->Observe(static_cast<double>(windows));
    dm.batch_seconds->Observe(seconds);
  };
  pipeline.on_delivered([&dm](std::int64_t last_ms) {
    if (last_ms > 0) dm.e2e_seconds->Observe(static_cast<double>(std::max<std::int64_t>(0, wall_ms() - last_ms)) / 1000.0);
  });
  if (kafka_source) {
    auto& lag = metrics.gauge("logguard_consumer_lag_messages",
                              "Input messages not yet consumed, summed over the assigned partitions (-1: unknown)");
    auto& up = metrics.gauge("logguard_source_brokers", "Brokers the consumer is connected to (-1: unknown yet)");
    metrics.on_scrape([&lag, &up, kafka_source] {
      lag.Set(static_cast<double>(kafka_source->consumer_lag()));
      up.Set(static_cast<double>(kafka_source->brokers_up()));
    });
  }
  if (registry) {
    const RegistryStats& rs = registry->stats();
    prometheus::Gauge* templates = &metrics.gauge("logguard_registry_templates", "Template texts known from the template registry");
    struct Pair {
      prometheus::Counter* counter;
      const std::atomic<std::uint64_t>* value;
    };
    std::vector<Pair> pairs{
        {&metrics.counter("logguard_registry_published_total", "Template mapping decisions this instance published to the registry"),
         &rs.published},
        {&metrics.counter("logguard_registry_adopted_total", "Template mappings taken from the registry instead of the encoder"),
         &rs.adopted},
        {&metrics.counter("logguard_registry_malformed_total", "Registry records skipped as malformed"), &rs.malformed},
        {&metrics.counter("logguard_registry_delivery_failures_total", "Registry records this instance could not produce"),
         &rs.delivery_failures}};
    metrics.on_scrape([templates, &rs, pairs] {
      templates->Set(static_cast<double>(rs.entries.load()));
      for (const auto& p : pairs) Metrics::advance(*p.counter, static_cast<double>(p.value->load()));
    });
  }
  if (router) {
    const RouterStats& rs = router->stats();
    struct Pair {
      prometheus::Counter* counter;
      const std::atomic<std::uint64_t>* value;
    };
    std::vector<Pair> pairs{
        {&metrics.counter("logguard_routed_lines_total", "Lines re-produced to the repartition topic keyed by session"),
         &rs.lines},
        {&metrics.counter("logguard_routed_unkeyed_lines_total", "Routed lines without a session key"), &rs.unkeyed},
        {&metrics.counter("logguard_routed_copies_total",
                          "Extra copies of routed lines that name several sessions (one per further session)"),
         &rs.copies},
        {&metrics.counter("logguard_router_transactions_total", "Routing transactions committed"), &rs.transactions},
        {&metrics.counter("logguard_router_aborts_total", "Routing transactions aborted (their lines are routed again)"),
         &rs.aborts}};
    metrics.on_scrape([pairs] {
      for (const auto& p : pairs) Metrics::advance(*p.counter, static_cast<double>(p.value->load()));
    });
  }
  if (kafka_sink) {
    auto& up = metrics.gauge("logguard_sink_brokers", "Brokers the anomaly producer is connected to (-1: unknown yet)");
    metrics.on_scrape([&up, kafka_sink] { up.Set(static_cast<double>(kafka_sink->brokers_up())); });
  }
  // Ready: running, and every Kafka client reaches a broker (unknown counts as reachable:
  // the output topic was checked at start-up).
  std::atomic<bool> ready{false};
  auto is_ready = [&ready, kafka_source, kafka_sink] {
    return ready.load() && (!kafka_source || kafka_source->brokers_up() != 0) &&
           (!kafka_sink || kafka_sink->brokers_up() != 0);
  };
  std::unique_ptr<HttpServer> http;
  if (app.metrics.enabled) {
    http = std::make_unique<HttpServer>(app.metrics.address, static_cast<std::uint16_t>(app.metrics.port),
                                        HttpServer::Handlers{[&metrics] { return metrics.serialize(); }, is_ready});
    std::fprintf(stderr, "logguardd: metrics on http://%s:%u/metrics\n", app.metrics.address.c_str(),
                 static_cast<unsigned>(http->port()));
  }

  std::atomic<bool> stop{false};
  SignalThread signals(stop, *r.model, dm, app.daemon.shutdown_timeout_ms);
  ready = true;
  sd_notify(0, "READY=1");
  std::fprintf(stderr, "logguardd: ready\n");
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
  if (registry) registry->flush(std::chrono::milliseconds(2000));  // this instance's last decisions
  const auto& st = pipeline.stats();
  const auto& ms = mapper.stats();
  const auto& ss = scorer.stats();
  std::fprintf(stderr,
               "logguardd: %llu lines, %llu windows, %llu model windows (cache %llu hits / %llu misses), "
               "%llu anomalies, %llu delivered, %llu unknown events\n",
               static_cast<unsigned long long>(ms.lines.load()), static_cast<unsigned long long>(st.windows.load()),
               static_cast<unsigned long long>(ss.model_windows.load()),
               static_cast<unsigned long long>(ss.cache_hits.load()),
               static_cast<unsigned long long>(ss.cache_misses.load()),
               static_cast<unsigned long long>(st.anomalies.load()),
               static_cast<unsigned long long>(st.delivered.load()),
               static_cast<unsigned long long>(ms.events_unknown.load()));
  signals.finish();
  if (!result) {
    std::fprintf(stderr, "logguardd: %s\n", result.error().message.c_str());
    return kRuntimeError;
  }
  return kOk;
}

int check_config(const std::string& path) {
  Resolved r = resolve(path);
  // Construct what can be checked without connecting: pass-through properties were checked
  // by the loader; the parser config by constructing a parser.
  core::LineParser probe(r.parser);
  const auto m = r.model->current();
  std::printf("%s: OK (model %s, W=%zu, chunks of %zu events sliding by %zu)\n", path.c_str(), m->version.c_str(),
              m->shape.window, r.layout.length, r.layout.stride);
  return kOk;
}

}  // namespace

int run_logguardd(int argc, char** argv) {
  CLI::App app{"logguardd: streaming log anomaly detector (Kafka/file in, anomaly records out)"};
  app.set_version_flag("--version", std::string("logguardd ") + LOGGUARD_VERSION);
  std::string config, check;
  auto* run_opt = app.add_option("-c,--config", config, "YAML config file");
  auto* check_opt = app.add_option("--check-config", check, "validate FILE (and load its model bundle), then exit");
  run_opt->excludes(check_opt);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "logguardd: %s\n", e.what());
    return kUsageError;
  }
  if (config.empty() && check.empty()) {
    std::fprintf(stderr, "logguardd: give --config FILE or --check-config FILE\n");
    return kUsageError;
  }
  try {
    return check.empty() ? run_daemon(config) : check_config(check);
  } catch (const core::ConfigError& e) {
    std::fprintf(stderr, "logguardd: %s\n", e.what());
    return kConfigError;
  } catch (const core::LoadError& e) {
    std::fprintf(stderr, "logguardd: %s\n", e.what());
    return kLoadError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "logguardd: %s\n", e.what());
    return kRuntimeError;
  }
}

}  // namespace logguard::daemon
