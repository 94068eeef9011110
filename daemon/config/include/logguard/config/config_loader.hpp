#pragma once
// The one place where YAML becomes configuration. Each module owns a plain config struct
// with validate(); this loader maps YAML sections onto them, rejects unknown keys (listing
// the valid ones) and reports every problem as ConfigError("<file>: <yaml.path>: ...").
//
// Lifecycle: called once at start-up (and on reload); never on the hot path.
// Thread-safety: pure functions.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "logguard/config/daemon_config.hpp"
#include "logguard/core/parser_config.hpp"
#include "logguard/core/event_time.hpp"
#include "logguard/core/record_format.hpp"
#include "logguard/kafka/config.hpp"
#include "logguard/kafka/registry.hpp"
#include "logguard/kafka/router.hpp"
#include "logguard/kafka/state_store.hpp"
#include "logguard/models/config.hpp"
#include "logguard/models/detection.hpp"
#include "logguard/models/encoder.hpp"
#include "logguard/pipeline/feedback.hpp"
#include "logguard/pipeline/pipeline.hpp"

namespace logguard::daemon {

/// Everything a `logguard` command or the daemon reads from one YAML file. Sections a
/// file does not contain keep their defaults.
/// `model:` section: detector kind, hyper-parameters, training and detection settings.
struct ModelSection {
  models::TrainConfig train;   // model.kind, model.msmass.*, model.deeplog.*, model.train.*
  models::DetectConfig detect; // model.detect.*
  std::string sequences;       // model.data.sequences: default training sessions (CLI flags replace)
  std::string templates;       // model.data.templates
  std::string session_key;     // model.data.session_key: RE2 keying raw lines into sessions
  int count_window_lines = 0;  // model.data.count_window_lines: > 0 cuts raw logs without
                               // sessions (BGL) into windows of that many lines instead
  std::string abnormal_sequences;  // model.data.abnormal_sequences: labelled anomalous sessions;
                                   // templates seen only there are the encoder's negatives
  std::string labels;          // model.data.labels: CSV `session,label` of the training sessions
  core::EntityWindows entity;  // model.data.entity: sessions per header field value and time window
  core::LabelSettings label;   // model.data.label: the log's own labels in a header field (or in the
                               // record field input.label)
  bool label_section = false;  // the file has a model.data.label section
  models::CalibrationConfig calibration;  // model.calibration: false-alarm budget, unknown weight
  std::optional<models::EncoderConfig> encoder;  // model.encoder: present = train the template encoder
  std::string bundle;          // model.bundle: bundle directory logguardd scores with
  std::size_t verdict_cache = 100000;  // model.verdict_cache: cached model-window verdicts (0 = off)
};

/// One stream of a daemon that serves several (`streams:` list, issue #20): its records are
/// chosen by topic and/or by the value of the input's stream field, and it has its own parser,
/// bundle, windows and sessions. A section the stream does not set is the top level's, whole
/// (sections are not merged key by key).
struct StreamConfig {
  std::string name;                 // names the stream in records, metrics and feedback
  std::vector<std::string> topics;  // select.topics: its Kafka topics (default: kafka.topics)
  std::vector<std::string> values;  // select.values: only records whose input.stream field has one
  std::string path;                 // file source: its file (default: source.path)
  std::string group_id;             // its consumer group (default: <kafka.group_id>-<name>)
  std::string output_topic;         // its anomaly topic (default: kafka.output_topic)
  std::optional<core::ParserConfig> parser;     // parser:
  std::optional<core::RecordFormat> input;      // input:
  std::optional<PipelineConfig> pipeline;       // pipeline:
  bool window_length_set = false, window_stride_set = false, window_mode_set = false;
  std::optional<ModelSection> model;            // model: (bundle, detect, verdict_cache)
};

struct AppConfig {
  core::ParserConfig parser;   // `parser:` section
  PipelineConfig pipeline;     // `pipeline:` section (logguardd: windows, batching, queues)
  KafkaConfig kafka;           // `kafka:` section (logguardd)
  RoutingConfig routing;       // `routing:` section (logguardd: re-key unkeyed input by session)
  RegistryConfig registry;     // `registry:` section (logguardd: shared template registry, issue #6)
  HandoverConfig handover;     // `handover:` section (logguardd: open sessions follow their partition)
  MetricsConfig metrics;       // `metrics:` section (logguardd: /metrics, /healthz, /readyz)
  ModelSection model;          // `model:` section (logguard train/detect, logguardd scoring)
  DaemonConfig daemon;         // `source:`, `sink:`, `state:`, `shutdown_timeout_ms` (logguardd)
  core::RecordFormat input;    // `input:` section: how records are read (logguardd sources; train /
                               // detect --input with --config)
  std::vector<StreamConfig> streams;  // `streams:` section (logguardd); empty: one stream, the top level
  FeedbackConfig feedback;     // `feedback:` section (logguardd; `logguard feedback`)
  bool has_parser = false;     // the file has a `parser:` section (logguardd: else the bundle's)
  bool has_input = false;      // the file has an `input:` section (logguardd: else the bundle's)
  std::string source;          // file the config came from (for messages)
  std::string stream;          // stream_config(): the stream this config is for; "" = the top level
  std::vector<std::string> stream_values;  // stream_config(): select.values (records of other values skipped)
};

/// The name of the one stream of a config without `streams:` (records and feedback name it).
inline constexpr const char* kDefaultStream = "default";

/// The effective config of stream `i` of `app.streams` (the top level with the stream's own
/// sections, selection, consumer group and output topic in place), or of the implicit single
/// stream when `app.streams` is empty (i = 0; named kDefaultStream, consumer group unchanged).
AppConfig stream_config(const AppConfig& app, std::size_t i);
/// How many streams `app` serves (1 without `streams:`).
inline std::size_t stream_count(const AppConfig& app) { return app.streams.empty() ? 1 : app.streams.size(); }

/// Reads and validates a YAML config file. Throws core::ConfigError naming the file and
/// the YAML path of the first problem (e.g. "a.yaml: parser.drain.depth: must be >= 3").
AppConfig load_app_config(const std::filesystem::path& path);

/// Same, from YAML text; `source` names it in messages.
AppConfig parse_app_config(std::string_view yaml_text, const std::string& source);

}  // namespace logguard::daemon
