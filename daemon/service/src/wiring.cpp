// The one place where logguardd's config becomes running threads (docs/ARCHITECTURE.md, "From
// config to running threads"). Start-up fails fast with the exit codes of docs/cli.md:
//
//   YAML -> resolve (per stream: bundle, chunk layout, parser, record format) -> embedded
//   cluster -> operator feedback (book + topic or file) -> per stream: Kafka endpoints (router,
//   source, sink, template registry) -> decoder + mapper + scorer -> state store (handover topic
//   or state.dir; restore) -> Pipeline -> probes + HTTP -> signal thread -> READY=1 -> threads:
//   per stream its consumer (the first stream's on this thread) / lg-scorer / lg-sink, lg-router
//   (routing), lg-feedback (feedback).
//
// Streams (issue #20) are independent pipelines in one process: each has its own consumer group
// (<group>-<stream>), source, decoder, parser, bundle, windows, scorer, sink and state, so a slow
// or failing stream does not hold another's offsets. They share the process: metrics (every
// series labelled `stream`), the HTTP endpoint, the signal thread (SIGHUP reloads every stream's
// bundle) and the feedback book. A fatal error of one stream stops them all.
//
// Shutdown: the stop flag (signal thread, a failed router or stream) ends every pipeline, which
// scores and delivers what it holds and stores its offsets; then each source commits and leaves
// its group, and each registry flushes this instance's last decisions.
#include "wiring.hpp"

#include <pthread.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "logguard/config/exit_codes.hpp"
#include "logguard/core/error.hpp"
#include "logguard/kafka/embedded.hpp"
#include "logguard/kafka/feedback.hpp"
#include "logguard/kafka/producer.hpp"
#include "logguard/kafka/registry.hpp"
#include "logguard/kafka/router.hpp"
#include "logguard/kafka/sink.hpp"
#include "logguard/kafka/source.hpp"
#include "logguard/kafka/state_store.hpp"
#include "logguard/pipeline/feedback.hpp"
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

namespace {

// A stdout / file sink shared by the streams' sink threads: StreamSink completes each write
// inside write(), so one lock around each call keeps lines whole and callbacks on their own
// stream's thread. Thread-safety: any thread.
class LockedSink : public Sink {
 public:
  explicit LockedSink(std::shared_ptr<Sink> inner) : inner_(std::move(inner)), mu_(std::make_shared<std::mutex>()) {}
  LockedSink(const LockedSink& other) : inner_(other.inner_), mu_(other.mu_) {}
  void write(std::string_view key, std::string_view id, std::string_view json, Done done) override {
    std::lock_guard lock(*mu_);
    inner_->write(key, id, json, std::move(done));
  }
  void poll(std::chrono::milliseconds) override {}  // completions happen in write()
  std::size_t flush(std::chrono::milliseconds timeout) override {
    std::lock_guard lock(*mu_);
    return inner_->flush(timeout);
  }

 private:
  std::shared_ptr<Sink> inner_;
  std::shared_ptr<std::mutex> mu_;
};

// One stream's stages and threads; built on the main thread before any thread starts.
struct StreamRuntime {
  ResolvedStream* r = nullptr;
  std::string name;
  std::unique_ptr<core::RecordDecoder> decoder;
  std::unique_ptr<Router> router;
  std::unique_ptr<Source> source;
  KafkaSource* kafka_source = nullptr;
  std::unique_ptr<Sink> sink;
  KafkaSink* kafka_sink = nullptr;
  std::unique_ptr<TemplateRegistry> registry;
  std::unique_ptr<BundleMapper> mapper;
  std::unique_ptr<BundleScorer> scorer;
  std::unique_ptr<StateStore> store;
  std::unique_ptr<Pipeline> pipeline;
  DaemonProbes probes;
  core::Expected<bool> result = true;
  core::Expected<bool> router_result = true;
  std::thread thread, router_thread;
};

// Topics the embedded cluster must hold before any client starts.
void create_embedded_topics(EmbeddedKafka& e, const std::vector<ResolvedStream>& streams, const AppConfig& top) {
  for (const auto& s : streams) {
    const auto& app = s.app;
    for (const auto& t : app.kafka.topics) e.create_topic(t, 1);
    if (app.daemon.sink == DaemonConfig::SinkKind::kafka) e.create_topic(app.kafka.output_topic, 1);
  }
  if (top.feedback.enabled && top.feedback.path.empty()) e.create_topic(top.feedback.effective_topic(top.kafka.group_id), 1);
}

std::unique_ptr<StreamRuntime> build_stream(ResolvedStream& r, const std::string& bootstrap, EmbeddedKafka* embedded,
                                            std::shared_ptr<Sink>& shared_stream_sink, const FeedbackBook* feedback) {
  auto s = std::make_unique<StreamRuntime>();
  s->r = &r;
  auto& app = r.app;
  s->name = app.stream;
  const auto model = r.model->current();
  log_info("stream %s: model %s (W=%zu), chunks of %zu events sliding by %zu, %s records", s->name.c_str(),
           model->version.c_str(), model->shape.window, r.layout.length, r.layout.stride, core::to_string(r.input.kind));
  if (const auto& enc = model->scorer.manifest().encoder; enc && enc->from_scratch())
    log_warning("stream %s: the bundle's template encoder was trained from scratch (no pretrained weights): new "
                "templates mostly resolve to unknown; run scripts/fetch-models and retrain for the paper's robust mapping",
                s->name.c_str());

  // The decode stage (issue #20): JSON / OTLP records, streams selected by a field value.
  if (!r.input.raw() || !app.stream_values.empty()) {
    s->decoder = std::make_unique<core::RecordDecoder>(r.input);
    s->decoder->select_streams(app.stream_values);
  }
  // Routing (issue #6): this instance also runs the routing stage, and its scoring consumer
  // reads the repartition topic instead of the input topics.
  KafkaConfig scoring_kafka = app.kafka;
  if (app.routing.enabled) {
    if (embedded) embedded->create_topic(app.routing.topic, std::max(1, app.routing.partitions));
    auto keyer = std::make_shared<SessionKeyExtractor>(app.pipeline.window);
    s->router = std::make_unique<Router>(app.kafka, app.routing, bootstrap,
                                         [keyer](std::string_view line, std::vector<std::string_view>& keys) {
                                           keyer->extract(line, std::string_view(), keys);
                                         });
    s->router->ensure_topic(milliseconds(10000));
    scoring_kafka.topics = {app.routing.topic};
    // Each routed record is one session's copy of a line, keyed by that session.
    app.pipeline.window.key_from = WindowConfig::KeyFrom::message_key;
  }
  // JSON records may be larger than the parser's line limit: the source cuts at the record limit.
  const std::size_t line_limit = r.input.raw() ? r.parser.max_line_bytes : r.input.max_record_bytes;
  switch (app.daemon.source) {
    case DaemonConfig::SourceKind::kafka: {
      auto k = std::make_unique<KafkaSource>(scoring_kafka, bootstrap);
      s->kafka_source = k.get();
      s->source = std::move(k);
      break;
    }
    case DaemonConfig::SourceKind::file:
      s->source = std::make_unique<FileSource>(app.daemon.source_path, line_limit);
      break;
    case DaemonConfig::SourceKind::stdin_: s->source = std::make_unique<FileSource>("-", line_limit); break;
  }
  switch (app.daemon.sink) {
    case DaemonConfig::SinkKind::kafka: {
      auto ks = std::make_unique<KafkaSink>(app.kafka, bootstrap, app.kafka.output_topic);
      s->kafka_sink = ks.get();
      // Fail at start-up, naming the topic, rather than failing every delivery later.
      auto parts = ks->check_topic(milliseconds(10000));
      if (!parts) throw core::LoadError("kafka.output_topic: " + parts.error().message);
      s->sink = std::move(ks);
      break;
    }
    case DaemonConfig::SinkKind::stdout_:
    case DaemonConfig::SinkKind::file:
      if (!shared_stream_sink)
        shared_stream_sink = std::make_shared<StreamSink>(app.daemon.sink == DaemonConfig::SinkKind::file ? app.daemon.sink_path
                                                                                                           : std::string("-"));
      s->sink = std::make_unique<LockedSink>(shared_stream_sink);
      break;
  }

  // Template registry (issue #6): template texts and their bundle mapping shared by every
  // instance of the stream's consumer group.
  if (app.registry.enabled) {
    const std::string topic = app.registry.effective_topic(app.kafka.group_id);
    if (embedded) embedded->create_topic(topic, 1);
    RegistryConfig rc = app.registry;
    rc.topic = topic;
    s->registry = std::make_unique<TemplateRegistry>(rc, app.kafka, bootstrap);
    s->registry->ensure_topic(milliseconds(10000));
    const std::size_t records = s->registry->catch_up(milliseconds(30000));
    log_info("template registry %s: %zu records, %zu templates", topic.c_str(), records, s->registry->entries());
  }
  const bool parser_from_bundle = r.parser_from_bundle;
  const bool header_parsed = r.input.raw() || r.input.parse_header;
  r.model->set_reload_check([layout = r.layout, parser_from_bundle](const LoadedModel& m) {
    models::check_chunk_layout(layout, m.shape);
    if (parser_from_bundle) check_bundle_parser(m);
  });
  s->mapper = std::make_unique<BundleMapper>(core::LineParser(r.parser), r.model);
  s->mapper->follow_bundle_parser(parser_from_bundle, header_parsed);
  if (s->registry) s->mapper->set_registry(s->registry.get());
  s->scorer = std::make_unique<BundleScorer>(r.model, r.layout, app.model.verdict_cache);

  // Saved state: open sessions follow their partition through a compacted topic (handover,
  // issue #6; the periodic checkpoints save there too, so stored offsets always match a saved
  // state), or checkpoints of the whole pipeline in state.dir (docs/checkpoint-format.md; per
  // stream: <dir>/<stream> with `streams:`).
  PipelineOptions options;
  const std::string mode = to_string(app.pipeline.window.mode);
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
    s->store = std::move(kafka_store);
    options.checkpoints = {s->store.get(), app.handover.interval_ms, false, true, milliseconds(app.handover.timeout_ms)};
    log_info("stream %s: handing over open sessions through topic %s", s->name.c_str(), app.handover.topic.c_str());
  }
  if (!app.daemon.state_dir.empty()) {
    BundleMapper* mapper = s->mapper.get();
    ParserState parser_state;
    parser_state.save = [mapper] {
      std::ostringstream out;
      mapper->parser().save(out);
      return out.str();
    };
    parser_state.load = [mapper, parser = r.parser](const std::string& snapshot, const std::string& source_name) {
      std::istringstream in(snapshot);
      mapper->set_parser(core::LineParser::load(in, parser, source_name));
    };
    auto file_store = std::make_unique<FileStateStore>(app.daemon.state_dir, mode, bundle_state_model(r.model, mode),
                                                       std::move(parser_state));
    options.restore = file_store->restore();
    s->store = std::move(file_store);
    options.checkpoints = {s->store.get(), app.daemon.checkpoint_interval_ms, app.daemon.flush_at_shutdown, false, {}};
  }
  options.decoder = s->decoder.get();
  options.feedback = feedback;
  // An instance without input still follows the registry (map() syncs only when lines come).
  if (s->registry) options.on_tick = [mapper = s->mapper.get()] { mapper->sync_registry(); };
  StreamRuntime* self = s.get();
  options.on_delivered = [self](std::int64_t last_ms) { self->probes.observe_delivered(last_ms); };
  BundleMapper* mapper = s->mapper.get();
  s->pipeline = std::make_unique<Pipeline>(app.pipeline, *s->source, [mapper](const Record& rec) { return mapper->map(rec); },
                                           *s->scorer, *s->sink, bundle_template_text(r.model), std::move(options));
  return s;
}

void register_metrics(StreamRuntime& s, Metrics& metrics) {
  export_pipeline_metrics(metrics, s.pipeline->stats());
  s.probes = export_daemon_metrics(metrics, *s.mapper, *s.scorer, s.pipeline->stats());
  StreamRuntime* self = &s;
  s.scorer->on_batch = [self](std::size_t windows, std::size_t, double seconds) { self->probes.observe_batch(windows, seconds); };
  s.scorer->on_verdict = [self](double score, double threshold) { self->probes.observe_verdict(score, threshold); };
  s.probes.observe_threshold(s.r->model->current()->scorer.detection().threshold);
  if (s.decoder) export_decoder_metrics(metrics, s.decoder->stats());
  if (s.kafka_source) export_source_metrics(metrics, *s.kafka_source);
  if (s.registry) export_registry_metrics(metrics, *s.registry);
  if (s.router) export_router_metrics(metrics, *s.router);
  if (s.kafka_sink) export_sink_metrics(metrics, *s.kafka_sink);
}

// The lg-feedback thread: follows the feedback store until `stop`.
class FeedbackThread {
 public:
  FeedbackThread(std::function<void()> poll, milliseconds interval, const std::atomic<bool>& stop)
      : poll_(std::move(poll)), interval_(interval), stop_(stop) {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "lg-feedback");
      std::unique_lock lock(mu_);
      while (!stop_ && !done_) {
        cv_.wait_for(lock, interval_);
        if (stop_ || done_) break;
        lock.unlock();
        poll_();
        lock.lock();
      }
    });
  }
  ~FeedbackThread() { finish(); }
  void finish() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::function<void()> poll_;
  milliseconds interval_;
  const std::atomic<bool>& stop_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

int run_daemon(const std::string& config_path) {
  block_daemon_signals();  // before any thread starts (threads inherit the mask)

  Resolved resolved = resolve(config_path);
  const AppConfig& top = resolved.app;
  auto& streams_cfg = resolved.streams;

  // Kafka (embedded mock cluster when asked for).
  std::unique_ptr<EmbeddedKafka> embedded;
  std::string bootstrap = top.kafka.brokers;
  const bool feedback_topic = top.feedback.enabled && top.feedback.path.empty();
  const bool uses_kafka = top.daemon.source == DaemonConfig::SourceKind::kafka ||
                          top.daemon.sink == DaemonConfig::SinkKind::kafka || feedback_topic;
  if (uses_kafka && top.kafka.brokers == "embedded") {
    embedded = std::make_unique<EmbeddedKafka>(1);
    bootstrap = embedded->bootstrap_servers();
    create_embedded_topics(*embedded, streams_cfg, top);
    log_info("embedded Kafka at %s", bootstrap.c_str());
  }

  // Operator feedback (issue #20): one book for every stream, from a compacted topic or a file.
  std::unique_ptr<FeedbackBook> book;
  std::unique_ptr<FeedbackFollower> follower;
  std::unique_ptr<FeedbackFile> feedback_file;
  std::function<void()> feedback_poll;
  if (top.feedback.enabled) {
    book = std::make_unique<FeedbackBook>();
    if (!top.feedback.path.empty()) {
      feedback_file = std::make_unique<FeedbackFile>(top.feedback.path, *book);
      feedback_file->poll();
      feedback_poll = [f = feedback_file.get()] { f->poll(); };
      log_info("feedback file %s: %zu marked patterns", top.feedback.path.c_str(), book->marks().size());
    } else {
      follower = std::make_unique<FeedbackFollower>(top.feedback.effective_topic(top.kafka.group_id), top.kafka, bootstrap,
                                                    *book);
      follower->ensure_topic(milliseconds(10000));
      const std::size_t n = follower->catch_up(milliseconds(30000));
      feedback_poll = [f = follower.get()] { f->poll(); };
      log_info("feedback topic %s: %zu records, %zu marked patterns", follower->topic().c_str(), n, book->marks().size());
    }
  }

  std::shared_ptr<Sink> shared_stream_sink;
  std::vector<std::unique_ptr<StreamRuntime>> streams;
  for (auto& r : streams_cfg)
    streams.push_back(build_stream(r, bootstrap, embedded.get(), shared_stream_sink, book.get()));

  Metrics metrics;
  const bool labelled = !top.streams.empty();
  for (auto& s : streams) {
    Metrics m = labelled ? metrics.labelled({{"stream", s->name}}) : metrics;
    register_metrics(*s, m);
  }
  if (book) export_feedback_metrics(metrics, book->stats());
  std::vector<const KafkaSource*> kafka_sources;
  std::vector<const KafkaSink*> kafka_sinks;
  std::vector<ModelHolder*> holders;
  for (auto& s : streams) {
    kafka_sources.push_back(s->kafka_source);
    kafka_sinks.push_back(s->kafka_sink);
    holders.push_back(s->r->model.get());
  }
  std::atomic<bool> ready{false};
  std::unique_ptr<HttpServer> http;
  if (top.metrics.enabled) {
    http = std::make_unique<HttpServer>(
        top.metrics.address, static_cast<std::uint16_t>(top.metrics.port),
        HttpServer::Handlers{[&metrics] { return metrics.serialize(); }, readiness(ready, kafka_sources, kafka_sinks)});
    log_info("metrics on http://%s:%u/metrics", top.metrics.address.c_str(), static_cast<unsigned>(http->port()));
  }

  std::atomic<bool> stop{false};
  SignalThread signals(
      stop, holders, [&streams](std::size_t i, bool ok) { streams[i]->probes.count_reload(ok); },
      top.daemon.shutdown_timeout_ms);
  std::unique_ptr<FeedbackThread> feedback_thread;
  if (feedback_poll) feedback_thread = std::make_unique<FeedbackThread>(feedback_poll, milliseconds(top.feedback.poll_interval_ms), stop);
  ready = true;
  sd_notify(0, "READY=1");
  log_info("ready (%zu stream%s)", streams.size(), streams.size() == 1 ? "" : "s");
  for (auto& sp : streams) {
    StreamRuntime* s = sp.get();
    if (s->router)
      s->router_thread = std::thread([s, &stop] {
        pthread_setname_np(pthread_self(), "lg-router");
        s->router_result = s->router->run(stop);
        if (!s->router_result) stop = true;  // the scoring side stops too; reported below
      });
  }
  // Every stream's consumer on its own thread; the first one on this thread (which keeps the
  // process name, so that pgrep/pidof find the daemon).
  for (std::size_t i = 1; i < streams.size(); ++i) {
    StreamRuntime* s = streams[i].get();
    s->thread = std::thread([s, &stop] {
      pthread_setname_np(pthread_self(), "lg-consumer");
      s->result = s->pipeline->run(stop);
      if (!s->result) stop = true;
    });
  }
  streams[0]->result = streams[0]->pipeline->run(stop);
  if (!streams[0]->result) stop = true;
  // File sources end one by one: each stream runs to its own end of input.
  for (auto& s : streams)
    if (s->thread.joinable()) s->thread.join();
  stop = true;  // the routers and the feedback thread
  for (auto& s : streams)
    if (s->router_thread.joinable()) s->router_thread.join();
  if (feedback_thread) feedback_thread->finish();
  ready = false;
  int rc = kOk;
  for (auto& s : streams) {
    if (s->result && !s->router_result) s->result = core::Error{s->router_result.error().message};
    if (s->kafka_source) s->kafka_source->close();  // commits the stored offsets
    if (s->registry) s->registry->flush(milliseconds(2000));  // this instance's last decisions
    const auto& st = s->pipeline->stats();
    const auto& ms = s->mapper->stats();
    const auto& ss = s->scorer->stats();
    log_info("stream %s: %llu records, %llu lines, %llu windows, %llu model windows (cache %llu hits / %llu misses), "
             "%llu anomalies (%llu suppressed), %llu delivered, %llu unknown events, %llu records rejected, "
             "%llu sessions evicted (%llu came back)",
             s->name.c_str(), static_cast<unsigned long long>(st.records.load()),
             static_cast<unsigned long long>(ms.lines.load()), static_cast<unsigned long long>(st.windows.load()),
             static_cast<unsigned long long>(ss.model_windows.load()),
             static_cast<unsigned long long>(ss.cache_hits.load()),
             static_cast<unsigned long long>(ss.cache_misses.load()),
             static_cast<unsigned long long>(st.anomalies.load()), static_cast<unsigned long long>(st.suppressed.load()),
             static_cast<unsigned long long>(st.delivered.load()),
             static_cast<unsigned long long>(ms.events_unknown.load()),
             static_cast<unsigned long long>(s->decoder ? s->decoder->stats().rejected_total() : 0),
             static_cast<unsigned long long>(st.sessions_evicted.load()),
             static_cast<unsigned long long>(st.sessions_returned.load()));
    if (!s->result) {
      log_error("stream %s: %s", s->name.c_str(), s->result.error().message.c_str());
      rc = kRuntimeError;
    }
  }
  signals.finish();
  return rc;
}

}  // namespace logguard::daemon::detail
