#include "logguard/config/config_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "logguard/core/error.hpp"
#include "parser_section.hpp"
#include "yaml_reader.hpp"

namespace logguard::daemon {
namespace {

using detail::read_choice;
using detail::validated;
using detail::YamlSection;

PipelineConfig read_pipeline(YamlSection s) {
  PipelineConfig c;
  s.get("queue_capacity", c.queue_capacity);
  int overflow = static_cast<int>(c.overflow);
  read_choice(s, "overflow", std::array{"block", "drop_oldest"}, overflow);
  c.overflow = static_cast<Overflow>(overflow);
  s.get("poll_batch", c.poll_batch);
  s.get("tick_ms", c.tick_ms);
  s.get("raw_lines", c.record.raw_lines);

  YamlSection w = s.child("window");
  int mode = static_cast<int>(c.window.mode);
  read_choice(w, "mode", std::array{"session", "count", "time"}, mode);
  c.window.mode = static_cast<WindowConfig::Mode>(mode);
  int key_from = static_cast<int>(c.window.key_from);
  read_choice(w, "key", std::array{"pattern", "message_key", "entity", "field"}, key_from);
  c.window.key_from = static_cast<WindowConfig::KeyFrom>(key_from);
  w.get("key_pattern", c.window.key_pattern);
  w.get("length", c.window.length);
  w.get("stride", c.window.stride);
  w.get("idle_timeout_ms", c.window.idle_timeout_ms);
  w.get("end_timeout_ms", c.window.end_timeout_ms);
  w.get("max_open_sessions", c.window.max_open_sessions);
  w.get("max_evicted_sessions", c.window.max_evicted_sessions);
  w.get("window_ms", c.window.window_ms);
  w.get("stride_ms", c.window.stride_ms);
  w.finish();

  YamlSection b = s.child("batcher");
  b.get("max_batch", c.batcher.max_batch);
  b.get("max_wait_ms", c.batcher.max_wait_ms);
  b.finish();
  s.finish();
  validated(s.path(), [&] { c.validate(); });
  return c;
}

// A free-form mapping of scalar values (librdkafka pass-through properties), read straight
// from YAML because its keys are not known in advance; librdkafka checks them in validate().
std::map<std::string, std::string> read_string_map(const YAML::Node& node, const std::string& path) {
  std::map<std::string, std::string> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsMap()) throw core::ConfigError(path, "expected a mapping of property: value");
  for (const auto& kv : node) {
    const std::string k = kv.first.as<std::string>();
    if (!kv.second.IsScalar()) throw core::ConfigError(path + "." + k, "expected a single value");
    out[k] = kv.second.as<std::string>();
  }
  return out;
}

KafkaConfig read_kafka(YamlSection s, const YAML::Node& node) {
  KafkaConfig c;
  s.get("brokers", c.brokers);
  s.get("topics", c.topics);
  s.get("group_id", c.group_id);
  s.get("output_topic", c.output_topic);
  s.child("consumer");  // marks the keys as known; their contents are read below
  s.child("producer");
  s.finish();
  if (s.present()) {
    c.consumer = read_string_map(node["consumer"], s.path() + ".consumer");
    c.producer = read_string_map(node["producer"], s.path() + ".producer");
  }
  validated(s.path(), [&] { c.validate(); });
  return c;
}

RoutingConfig read_routing(YamlSection s) {
  RoutingConfig c;
  s.get("enabled", c.enabled);
  s.get("topic", c.topic);
  s.get("partitions", c.partitions);
  s.get("group_id", c.group_id);
  s.get("transaction_interval_ms", c.transaction_interval_ms);
  s.finish();
  validated(s.path(), [&] { c.validate(); });
  return c;
}

RegistryConfig read_registry(YamlSection s) {
  RegistryConfig c;
  s.get("enabled", c.enabled);
  s.get("topic", c.topic);
  s.get("poll_interval_ms", c.poll_interval_ms);
  s.finish();
  validated(s.path(), [&] { c.validate(); });
  return c;
}

HandoverConfig read_handover(YamlSection s) {
  HandoverConfig c;
  s.get("enabled", c.enabled);
  s.get("topic", c.topic);
  s.get("interval_ms", c.interval_ms);
  s.get("timeout_ms", c.timeout_ms);
  s.get("chunk_bytes", c.chunk_bytes);
  s.finish();
  validated(s.path(), [&] { c.validate(); });
  return c;
}

MetricsConfig read_metrics(YamlSection s) {
  MetricsConfig c;
  s.get("enabled", c.enabled);
  s.get("address", c.address);
  s.get("port", c.port);
  s.finish();
  validated(s.path(), [&] { c.validate(); });
  return c;
}

std::vector<int> read_int_list(YamlSection& s, const char* key, std::vector<int> def) {
  if (!s.has(key)) return def;
  std::vector<std::string> raw;
  s.get(key, raw);
  std::vector<int> out;
  for (const auto& r : raw) {
    try {
      out.push_back(std::stoi(r));
    } catch (const std::exception&) {
      throw core::ConfigError(s.path() + "." + key, "expected a list of integers");
    }
  }
  return out;
}

ModelSection read_model(YamlSection s) {
  ModelSection m;
  if (s.has("kind")) {
    std::string kind;
    s.get("kind", kind);
    m.train.kind = models::parse_model_kind(kind);
  }
  YamlSection ms = s.child("msmass");
  auto& c = m.train.msmass;
  ms.get("window", c.window);
  ms.get("d_model", c.d_model);
  ms.get("ff_dim", c.ff_dim);
  ms.get("encoder_layers", c.encoder_layers);
  ms.get("decoder_layers", c.decoder_layers);
  c.scales = read_int_list(ms, "scales", c.scales);
  c.heads_per_scale = read_int_list(ms, "heads_per_scale", c.heads_per_scale);
  ms.get("mask_ratio", c.mask_ratio);
  ms.get("dropout", c.dropout);
  ms.finish();
  YamlSection dl = s.child("deeplog");
  dl.get("history", m.train.deeplog.history);
  dl.get("embed_dim", m.train.deeplog.embed_dim);
  dl.get("hidden", m.train.deeplog.hidden);
  dl.get("layers", m.train.deeplog.layers);
  dl.finish();
  YamlSection t = s.child("train");
  auto& tr = m.train;
  t.get("epochs", tr.epochs);
  t.get("patience", tr.patience);
  t.get("batch_size", tr.batch_size);
  t.get("learning_rate", tr.learning_rate);
  t.get("validation_fraction", tr.validation_fraction);
  if (t.has("validation_split")) {
    std::string v;
    t.get("validation_split", v);
    tr.validation_split = models::parse_validation_split(v);
  }
  t.get("train_stride", tr.train_stride);
  t.get("dedupe_windows", tr.dedupe_windows);
  t.get("session_boundaries", tr.session_boundaries);
  t.get("min_template_sessions", tr.min_template_sessions);
  t.get("min_transition_sessions", tr.min_transition_sessions);
  std::int64_t seed = static_cast<std::int64_t>(tr.seed);
  t.get("seed", seed);
  tr.seed = static_cast<std::uint64_t>(seed);
  t.get("threads", tr.threads);
  t.get("top_k", tr.top_k);
  t.finish();
  YamlSection d = s.child("detect");
  d.get("top_k", m.detect.top_k);
  if (d.has("unknown_is_anomalous")) {  // before format 3; `true` = unknown_score: alarm
    bool v = false;
    d.get("unknown_is_anomalous", v);
    if (v) m.detect.unknown_score = "alarm";
  }
  d.get("rule", m.detect.rule);
  d.get("unknown_score", m.detect.unknown_score);
  if (d.has("threshold")) {  // a number, or `auto` (the bundle's)
    std::string v;
    d.get("threshold", v);
    if (v != "auto") {
      try {
        std::size_t used = 0;
        m.detect.threshold = std::stod(v, &used);
        if (used != v.size() || m.detect.threshold < 0) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        d.fail("threshold", "must be a number >= 0 or `auto` (got '" + v + "')");
      }
    }
  }
  d.get("device", m.detect.device);
  d.get("engine", m.detect.engine);
  d.get("threads", m.detect.threads);
  d.get("batch_windows", m.detect.batch_windows);
  d.get("stride", m.detect.stride);
  d.finish();
  YamlSection data = s.child("data");
  data.get("sequences", m.sequences);
  data.get("templates", m.templates);
  data.get("session_key", m.session_key);
  data.get("count_window_lines", m.count_window_lines);
  data.get("abnormal_sequences", m.abnormal_sequences);
  data.get("labels", m.labels);
  YamlSection ent = data.child("entity");
  if (ent.present()) {
    ent.get("field", m.entity.field);
    ent.get("time_fields", m.entity.time_fields);
    ent.get("time_format", m.entity.time_format);
    ent.get("window_ms", m.entity.window_ms);
    ent.finish();
    if (m.entity.field.empty()) throw core::ConfigError("model.data.entity.field", "needed in an entity section");
    m.entity.validate("model.data.entity");
  }
  YamlSection lab = data.child("label");
  if (lab.present()) {
    lab.get("field", m.label.field);
    lab.get("normal_values", m.label.normal_values);
    lab.get("abnormal_values", m.label.abnormal_values);
    if (lab.has("training")) {
      std::string v;
      lab.get("training", v);
      if (v != "labelled" && v != "normal_only") lab.fail("training", "must be `labelled` or `normal_only` (got '" + v + "')");
      m.label.normal_only = v == "normal_only";
    }
    lab.finish();
    // An empty field is allowed here: labels may come from a record field (input.label); the
    // loader checks the section once `input:` is read.
    if (!m.label.field.empty()) m.label.validate("model.data.label");
    m.label_section = true;
  }
  data.finish();
  YamlSection cal = s.child("calibration");
  cal.get("false_alarm_budget_percent", m.calibration.false_alarm_budget_percent);
  if (cal.has("unknown_score")) {
    std::string v;
    cal.get("unknown_score", v);
    m.calibration.unknown_weight = models::parse_unknown_weight(v, "model.calibration.unknown_score");
  }
  if (cal.has("threshold")) {
    std::string v;
    cal.get("threshold", v);
    if (v != "auto") {
      try {
        std::size_t used = 0;
        m.calibration.threshold = std::stod(v, &used);
        if (used != v.size() || !(m.calibration.threshold > 0)) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        cal.fail("threshold", "must be a number > 0 or `auto` (got '" + v + "')");
      }
    }
  }
  cal.finish();
  m.calibration.validate();
  s.get("bundle", m.bundle);
  s.get("verdict_cache", m.verdict_cache);
  YamlSection enc = s.child("encoder");
  if (enc.present()) {
    models::EncoderConfig e;
    enc.get("weights", e.weights);
    enc.get("max_length", e.max_length);
    enc.get("tau", e.tau);
    if (enc.has("threshold")) {  // a number, or `auto` (= 0: chosen on validation data)
      std::string v;
      enc.get("threshold", v);
      if (v != "auto") {
        try {
          std::size_t used = 0;
          e.threshold = std::stod(v, &used);
          if (used != v.size()) throw std::invalid_argument(v);
        } catch (const std::exception&) {
          enc.fail("threshold", "must be a number in (0, 1) or `auto` (got '" + v + "')");
        }
      }
    }
    enc.get("epochs", e.epochs);
    enc.get("learning_rate", e.learning_rate);
    enc.get("batch_size", e.batch_size);
    enc.get("train_layers", e.train_layers);
    enc.get("variants", e.variants);
    enc.get("substitute_rate", e.substitute_rate);
    enc.get("insert_rate", e.insert_rate);
    enc.get("delete_rate", e.delete_rate);
    enc.get("validation_variants", e.validation_variants);
    enc.get("hard_negatives", e.hard_negatives);
    {  // `auto` (unset: only with pretrained weights), true or false
      int choice = 0;
      read_choice(enc, "abnormal_by_similarity", std::array{"auto", "true", "false"}, choice);
      if (choice > 0) e.abnormal_by_similarity = choice == 1;
    }
    enc.get("normal_negatives", e.normal_negatives);
    enc.get("sibling_negatives", e.sibling_negatives);
    enc.get("tentative_mapping", e.tentative_mapping);
    std::int64_t eseed = static_cast<std::int64_t>(e.seed);
    enc.get("seed", eseed);
    e.seed = static_cast<std::uint64_t>(eseed);
    enc.get("threads", e.threads);
    enc.get("scratch_hidden", e.scratch_hidden);
    enc.get("scratch_layers", e.scratch_layers);
    enc.get("scratch_heads", e.scratch_heads);
    enc.get("scratch_intermediate", e.scratch_intermediate);
    enc.get("scratch_vocab_words", e.scratch_vocab_words);
    enc.finish();
    e.validate();  // keys are already "model.encoder.*"
    m.encoder = e;
  }
  if (m.count_window_lines < 0) throw core::ConfigError("model.data.count_window_lines", "must be >= 0 (0 = sessions by key)");
  s.finish();
  m.train.validate();   // keys are already "model.*"
  m.detect.validate();
  return m;
}

core::RecordFormat read_input(YamlSection s) {
  core::RecordFormat f;
  if (s.has("format")) {
    std::string kind;
    s.get("format", kind);
    f.kind = core::record_kind_from_name(kind, s.path() + ".format");
  }
  s.get("message", f.message);
  s.get("timestamp", f.timestamp);
  s.get("timestamp_format", f.timestamp_format);
  s.get("session", f.session);
  s.get("label", f.label);
  s.get("stream", f.stream);
  s.get("parse_header", f.parse_header);
  s.get("max_record_bytes", f.max_record_bytes);
  s.get("max_depth", f.max_depth);
  s.finish();
  f.validate(s.path());  // keys are already full paths
  return f;
}

FeedbackConfig read_feedback(YamlSection s) {
  FeedbackConfig c;
  s.get("enabled", c.enabled);
  s.get("topic", c.topic);
  s.get("path", c.path);
  s.get("poll_interval_ms", c.poll_interval_ms);
  s.finish();
  validated(s.path(), [&] { c.validate(); });
  return c;
}

// The pipeline.window keys a file sets (the daemon takes the others from the bundle).
void window_keys_set(const YAML::Node& pipeline, bool& length, bool& stride, bool& mode) {
  const YAML::Node w = pipeline.IsDefined() && pipeline.IsMap() ? pipeline["window"] : YAML::Node();
  const bool wmap = w.IsDefined() && w.IsMap();
  length = wmap && w["length"].IsDefined();
  stride = wmap && w["stride"].IsDefined();
  mode = wmap && (w["mode"].IsDefined() || w["key"].IsDefined() || w["key_pattern"].IsDefined());
}

bool valid_stream_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

StreamConfig read_stream(YamlSection s) {
  StreamConfig c;
  s.require("name", c.name);
  if (!valid_stream_name(c.name))
    s.fail("name", "must be 1-64 characters of letters, digits, '_', '-' and '.' (got '" + c.name + "')");
  YamlSection sel = s.child("select");
  sel.get("topics", c.topics);
  sel.get("values", c.values);
  sel.finish();
  s.get("path", c.path);
  s.get("group_id", c.group_id);
  s.get("output_topic", c.output_topic);
  if (YamlSection p = s.child("parser"); p.present()) c.parser = detail::read_parser_section(p);
  if (YamlSection i = s.child("input"); i.present()) c.input = read_input(i);
  if (YamlSection p = s.child("pipeline"); p.present()) {
    window_keys_set(p.node(), c.window_length_set, c.window_stride_set, c.window_mode_set);
    c.pipeline = read_pipeline(p);
  }
  if (YamlSection m = s.child("model"); m.present()) c.model = read_model(m);
  s.finish();
  return c;
}

DaemonConfig read_daemon(YamlSection& top) {
  DaemonConfig c;
  YamlSection src = top.child("source");
  int kind = static_cast<int>(c.source);
  read_choice(src, "type", std::array{"kafka", "file", "stdin"}, kind);
  c.source = static_cast<DaemonConfig::SourceKind>(kind);
  src.get("path", c.source_path);
  src.finish();
  YamlSection snk = top.child("sink");
  kind = static_cast<int>(c.sink);
  read_choice(snk, "type", std::array{"kafka", "stdout", "file"}, kind);
  c.sink = static_cast<DaemonConfig::SinkKind>(kind);
  snk.get("path", c.sink_path);
  snk.finish();
  YamlSection st = top.child("state");
  st.get("dir", c.state_dir);
  st.get("checkpoint_interval_ms", c.checkpoint_interval_ms);
  st.get("flush_at_shutdown", c.flush_at_shutdown);
  st.finish();
  top.get("shutdown_timeout_ms", c.shutdown_timeout_ms);
  c.validate();  // keys are already top-level paths
  return c;
}

// Rules across sections once every section is read (streams, routing and record formats).
void check_streams(const AppConfig& app) {
  using core::ConfigError;
  const bool kafka_source = app.daemon.source == DaemonConfig::SourceKind::kafka;
  if (app.routing.enabled && !app.input.raw())
    throw ConfigError("routing.enabled", "needs input.format: raw (the router keys raw lines by key_pattern)");
  if (app.streams.empty()) return;
  if (app.routing.enabled)
    throw ConfigError("routing.enabled", "not with streams: run one routed daemon per stream (docs/config.md)");
  const bool several = app.streams.size() > 1;
  if (several && app.daemon.source == DaemonConfig::SourceKind::stdin_)
    throw ConfigError("streams", "stdin feeds one stream only: use source type kafka or file");
  if (several && app.handover.enabled && app.handover.topic != app.kafka.group_id + "-sessions")
    throw ConfigError("handover.topic", "leave it unset with streams: each stream hands over through <group>-sessions");
  if (several && app.registry.enabled && !app.registry.topic.empty())
    throw ConfigError("registry.topic", "leave it unset with streams: each stream has <group>-templates");
  std::set<std::string> names, groups;
  for (std::size_t i = 0; i < app.streams.size(); ++i) {
    const StreamConfig& s = app.streams[i];
    const std::string at = "streams[" + std::to_string(i) + "]";
    if (!names.insert(s.name).second) throw ConfigError(at + ".name", "`" + s.name + "` names another stream too");
    const AppConfig one = stream_config(app, i);
    if (!groups.insert(one.kafka.group_id).second && kafka_source)
      throw ConfigError(at + ".group_id", "`" + one.kafka.group_id + "` is another stream's consumer group too");
    if (!s.topics.empty() && !kafka_source) throw ConfigError(at + ".select.topics", "needs source type kafka");
    if (kafka_source && one.kafka.topics.empty())
      throw ConfigError(at + ".select.topics", "no topics: give select.topics or kafka.topics");
    if (!s.path.empty() && app.daemon.source != DaemonConfig::SourceKind::file)
      throw ConfigError(at + ".path", "needs source type file");
    if (app.daemon.source == DaemonConfig::SourceKind::file && one.daemon.source_path.empty())
      throw ConfigError(at + ".path", "no file: give path or source.path");
    if (!s.values.empty() && one.input.stream.empty())
      throw ConfigError(at + ".select.values", "needs input.stream: the record field whose value selects the stream");
    if (!s.output_topic.empty() && app.daemon.sink != DaemonConfig::SinkKind::kafka)
      throw ConfigError(at + ".output_topic", "needs sink type kafka");
    if (several && s.topics.empty() && s.values.empty() && app.daemon.source != DaemonConfig::SourceKind::file)
      throw ConfigError(at + ".select", "several streams: each selects its records by topics or values");
    if (several && s.values.empty() && app.daemon.source == DaemonConfig::SourceKind::file && s.path.empty())
      throw ConfigError(at + ".select", "several streams on one file: each selects its records by values (or its own path)");
  }
}

}  // namespace

AppConfig stream_config(const AppConfig& app, std::size_t i) {
  AppConfig out = app;
  out.streams.clear();
  if (app.streams.empty()) {
    out.stream = kDefaultStream;
    return out;
  }
  const StreamConfig& s = app.streams.at(i);
  out.stream = s.name;
  out.stream_values = s.values;
  if (s.parser) {
    out.parser = *s.parser;
    out.has_parser = true;
  }
  if (s.input) {
    out.input = *s.input;
    out.has_input = true;
  }
  if (s.pipeline) {
    out.pipeline = *s.pipeline;
    out.daemon.window_length_set = s.window_length_set;
    out.daemon.window_stride_set = s.window_stride_set;
    out.daemon.window_mode_set = s.window_mode_set;
  }
  if (s.model) out.model = *s.model;
  if (!s.topics.empty()) out.kafka.topics = s.topics;
  out.kafka.group_id = s.group_id.empty() ? app.kafka.group_id + "-" + s.name : s.group_id;
  if (!s.output_topic.empty()) out.kafka.output_topic = s.output_topic;
  if (!s.path.empty()) out.daemon.source_path = s.path;
  if (!app.daemon.state_dir.empty()) out.daemon.state_dir = app.daemon.state_dir + "/" + s.name;
  if (app.handover.enabled && app.handover.topic == app.kafka.group_id + "-sessions")
    out.handover.topic = out.kafka.group_id + "-sessions";
  return out;
}

namespace {

AppConfig read_app(const YAML::Node& root, const std::string& source) {
  AppConfig app;
  app.source = source;
  YamlSection top(root, "");
  app.has_parser = top.child("parser").present();
  app.parser = detail::read_parser_section(top.child("parser"));
  // (operator[] on a const node yields an invalid node for a missing key: test IsDefined first)
  window_keys_set(root.IsDefined() && root.IsMap() ? root["pipeline"] : YAML::Node(), app.daemon.window_length_set,
                  app.daemon.window_stride_set, app.daemon.window_mode_set);
  app.pipeline = read_pipeline(top.child("pipeline"));
  app.kafka = read_kafka(top.child("kafka"), root["kafka"]);
  app.routing = read_routing(top.child("routing"));
  app.handover = read_handover(top.child("handover"));
  app.registry = read_registry(top.child("registry"));
  app.metrics = read_metrics(top.child("metrics"));
  app.model = read_model(top.child("model"));
  const bool length_set = app.daemon.window_length_set, stride_set = app.daemon.window_stride_set,
             mode_set = app.daemon.window_mode_set;
  app.daemon = read_daemon(top);
  app.daemon.window_length_set = length_set;
  app.daemon.window_stride_set = stride_set;
  app.daemon.window_mode_set = mode_set;
  app.has_input = top.child("input").present();
  app.input = read_input(top.child("input"));
  for (auto& s : top.list("streams")) app.streams.push_back(read_stream(s));
  app.feedback = read_feedback(top.child("feedback"));
  top.finish();
  // Labels from a record field (input.label): model.data.label gives the values, its field
  // defaults to the record field's path.
  if (app.model.label_section && app.model.label.field.empty()) {
    if (app.input.label.empty())
      throw core::ConfigError("model.data.label.field", "needed in a label section (or input.label for JSON records)");
    app.model.label.field = app.input.label;
    app.model.label.validate("model.data.label");
  }
  check_streams(app);
  if (app.routing.enabled) {
    if (app.daemon.source != DaemonConfig::SourceKind::kafka)
      throw core::ConfigError("routing.enabled", "needs source.type: kafka");
    if (app.pipeline.window.mode != WindowConfig::Mode::session ||
        app.pipeline.window.key_from != WindowConfig::KeyFrom::pattern)
      throw core::ConfigError("routing.enabled",
                              "needs pipeline.window.mode: session with key_pattern (the router keys lines by it)");
    if (app.routing.topic == app.kafka.output_topic ||
        std::find(app.kafka.topics.begin(), app.kafka.topics.end(), app.routing.topic) != app.kafka.topics.end())
      throw core::ConfigError("routing.topic", "must differ from kafka.topics and kafka.output_topic");
  }
  if (app.handover.enabled) {
    if (app.daemon.source != DaemonConfig::SourceKind::kafka)
      throw core::ConfigError("handover.enabled", "needs source.type: kafka");
    if (app.pipeline.window.mode != WindowConfig::Mode::session)
      throw core::ConfigError("handover.enabled", "needs pipeline.window.mode: session");
    if (!app.daemon.state_dir.empty())
      throw core::ConfigError("handover.enabled",
                              "replaces the state directory's checkpoints (open sessions go to the handover topic): "
                              "unset state.dir");
    if (app.handover.topic.empty()) app.handover.topic = app.kafka.group_id + "-sessions";
    const std::string& t = app.handover.topic;
    if (t == app.kafka.output_topic || (app.routing.enabled && t == app.routing.topic) ||
        std::find(app.kafka.topics.begin(), app.kafka.topics.end(), t) != app.kafka.topics.end())
      throw core::ConfigError("handover.topic", "must differ from the input, output and routing topics");
  }
  if (app.registry.enabled) {
    if (app.daemon.source != DaemonConfig::SourceKind::kafka)
      throw core::ConfigError("registry.enabled", "needs source.type: kafka (the registry is shared by kafka.group_id)");
    const std::string t = app.registry.effective_topic(app.kafka.group_id);
    if (t == app.kafka.output_topic || std::find(app.kafka.topics.begin(), app.kafka.topics.end(), t) != app.kafka.topics.end() ||
        (app.routing.enabled && t == app.routing.topic) || (app.handover.enabled && t == app.handover.topic))
      throw core::ConfigError("registry.topic",
                              "must differ from kafka.topics, kafka.output_topic, routing.topic and handover.topic");
  }
  return app;
}

}  // namespace

AppConfig parse_app_config(std::string_view yaml_text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw core::ConfigError("", "invalid YAML at line " + std::to_string(e.mark.line + 1) + ": " + e.msg, source);
  }
  try {
    return read_app(root, source);
  } catch (const core::ConfigError& e) {
    throw e.in_file(source);
  }
}

AppConfig load_app_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw core::ConfigError("", "cannot open config file", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return parse_app_config(text.str(), path.string());
}

}  // namespace logguard::daemon
