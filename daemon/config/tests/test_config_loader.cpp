#include <catch2/catch.hpp>

#include <string>

#include "logguard/core/error.hpp"
#include "logguard/config/config_loader.hpp"

using logguard::core::ConfigError;
using logguard::daemon::load_app_config;
using logguard::daemon::parse_app_config;

namespace {
// Returns the ConfigError message for `yaml`, or "" if it loaded.
std::string error_of(const std::string& yaml) {
  try {
    parse_app_config(yaml, "test.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}
}  // namespace

TEST_CASE("a full parser section maps onto ParserConfig", "[config]") {
  const auto cfg = parse_app_config(R"(
parser:
  log_format: "<Date> <Time> <Content>"
  max_line_bytes: 4096
  masks:
    - {name: block, builtin: hdfs_block}
    - name: num
      regex: '\d+'
      replacement: "<NUM>"
  drain:
    depth: 5
    similarity_threshold: 0.6
    max_children: 50
    max_clusters: 1000
    extra_delimiters: "=,"
    parametrize_numeric_tokens: false
)", "t.yaml");
  CHECK(cfg.parser.log_format == "<Date> <Time> <Content>");
  CHECK(cfg.parser.max_line_bytes == 4096);
  REQUIRE(cfg.parser.masks.size() == 2);
  CHECK(cfg.parser.masks[0].builtin == "hdfs_block");
  CHECK(cfg.parser.masks[1].regex == "\\d+");
  CHECK(cfg.parser.masks[1].replacement == "<NUM>");
  CHECK(cfg.parser.drain.depth == 5);
  CHECK(cfg.parser.drain.similarity_threshold == Approx(0.6));
  CHECK(cfg.parser.drain.max_children == 50);
  CHECK(cfg.parser.drain.max_clusters == 1000);
  CHECK(cfg.parser.drain.extra_delimiters == "=,");
  CHECK_FALSE(cfg.parser.drain.parametrize_numeric_tokens);
  CHECK(cfg.source == "t.yaml");
}

TEST_CASE("an empty file gives the defaults", "[config]") {
  const auto cfg = parse_app_config("", "empty.yaml");
  CHECK(cfg.parser.drain.depth == logguard::core::DrainConfig{}.depth);
  CHECK(cfg.parser.masks.empty());
}

TEST_CASE("unknown keys are rejected with the list of valid ones", "[config]") {
  const std::string e = error_of("parser:\n  drain:\n    dept: 4\n");
  CHECK_THAT(e, Catch::Contains("test.yaml: parser.drain.dept: unknown key"));
  CHECK_THAT(e, Catch::Contains("depth"));
  CHECK_THAT(e, Catch::Contains("similarity_threshold"));
  CHECK_THAT(error_of("parsr: {}\n"), Catch::Contains("parsr: unknown key"));
}

TEST_CASE("type errors name the YAML path and line", "[config]") {
  CHECK_THAT(error_of("parser:\n  drain:\n    depth: deep\n"),
             Catch::Contains("parser.drain.depth: expected an integer, got 'deep' (line 3)"));
  CHECK_THAT(error_of("parser:\n  max_line_bytes: -5\n"), Catch::Contains("parser.max_line_bytes: expected a non-negative"));
  CHECK_THAT(error_of("parser:\n  masks: 3\n"), Catch::Contains("parser.masks: expected a list"));
  CHECK_THAT(error_of("parser: [1, 2]\n"), Catch::Contains("parser: expected a mapping"));
}

TEST_CASE("mask entries are checked by index", "[config]") {
  CHECK_THAT(error_of("parser:\n  masks:\n    - {name: a, builtin: number}\n    - {builtin: number}\n"),
             Catch::Contains("parser.masks[1].name: is required"));
  CHECK_THAT(error_of("parser:\n  masks:\n    - {name: a, regexp: x}\n"),
             Catch::Contains("parser.masks[0].regexp: unknown key"));
}

TEST_CASE("module validation errors carry the section path", "[config]") {
  const std::string e = error_of("parser:\n  drain:\n    depth: 1\n");
  CHECK_THAT(e, Catch::Contains("parser.drain.depth"));
  CHECK_THAT(error_of("parser:\n  drain:\n    similarity_threshold: 1.5\n"),
             Catch::Contains("parser.drain.similarity_threshold"));
}

TEST_CASE("invalid YAML and missing files are clear errors", "[config]") {
  CHECK_THAT(error_of("parser: {drain: [\n"), Catch::Contains("test.yaml: invalid YAML at line"));
  try {
    load_app_config("/nonexistent/dir/x.yaml");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("/nonexistent/dir/x.yaml: cannot open config file"));
  }
}

TEST_CASE("every shipped loghub config loads", "[config]") {
  for (const char* sys : {"Android", "Apache", "BGL", "HDFS", "HPC", "Hadoop", "HealthApp", "Linux", "Mac",
                          "OpenSSH", "OpenStack", "Proxifier", "Spark", "Thunderbird", "Windows", "Zookeeper"}) {
    INFO(sys);
    const std::string path = std::string(LOGGUARD_SOURCE_DIR) + "/configs/loghub/" + sys + ".yaml";
    CHECK_NOTHROW(load_app_config(path));
  }
}

TEST_CASE("the model section maps onto the models' config structs", "[config]") {
  const auto cfg = parse_app_config(R"Y(
model:
  kind: deeplog
  msmass: {window: 12, scales: [1, 3, 0], heads_per_scale: [2, 1, 1], mask_ratio: 0.5}
  deeplog: {history: 8, hidden: 32}
  train: {epochs: 3, seed: 7, threads: 1}
  detect: {top_k: 4, device: cpu, batch_windows: 128}
  data: {session_key: "(blk_-?\\d+)"}
)Y", "m.yaml");
  CHECK(cfg.model.train.kind == logguard::models::ModelKind::deeplog);
  CHECK(cfg.model.train.msmass.window == 12);
  CHECK(cfg.model.train.msmass.scales == std::vector<int>{1, 3, 0});
  CHECK(cfg.model.train.msmass.heads_per_scale == std::vector<int>{2, 1, 1});
  CHECK(cfg.model.train.deeplog.history == 8);
  CHECK(cfg.model.train.epochs == 3);
  CHECK(cfg.model.train.seed == 7u);
  CHECK(cfg.model.detect.top_k == 4);
  CHECK(cfg.model.detect.batch_windows == 128);
  CHECK(cfg.model.session_key == "(blk_-?\\d+)");
}

TEST_CASE("model section errors name the key", "[config]") {
  CHECK_THAT(error_of("model:\n  msmass:\n    windw: 10\n"), Catch::Contains("model.msmass.windw: unknown key"));
  CHECK_THAT(error_of("model:\n  train:\n    epochs: many\n"), Catch::Contains("model.train.epochs: expected an integer"));
  CHECK_THAT(error_of("model:\n  msmass:\n    scales: [1, 3]\n    heads_per_scale: [1]\n"), Catch::Contains("model.msmass"));
  CHECK_THAT(error_of("model:\n  kind: transformerx\n"), Catch::Contains("test.yaml"));
}

TEST_CASE("the shipped training config loads", "[config]") {
  const auto cfg = load_app_config(std::string(LOGGUARD_SOURCE_DIR) + "/configs/hdfs/train.yaml");
  CHECK(cfg.model.train.kind == logguard::models::ModelKind::msmass);
  CHECK_FALSE(cfg.model.session_key.empty());
  CHECK_FALSE(cfg.parser.log_format.empty());
}

TEST_CASE("the handover and routing sections are checked against the rest of the config", "[config]") {
  const std::string kafka = "source: {type: kafka}\nkafka: {topics: [logs], group_id: g1}\n";
  const auto ok = parse_app_config(kafka + "handover: {enabled: true, interval_ms: 2000}\n", "test.yaml");
  CHECK(ok.handover.enabled);
  CHECK(ok.handover.topic == "g1-sessions");  // defaults to the group's name
  CHECK(ok.handover.interval_ms == 2000);
  CHECK_THAT(error_of(kafka + "handover: {enabled: true, bogus: 1}\n"),
             Catch::Contains("handover.bogus") && Catch::Contains("chunk_bytes"));
  CHECK_THAT(error_of(kafka + "handover: {timeout_ms: 0}\n"), Catch::Contains("handover.timeout_ms"));
  CHECK_THAT(error_of(kafka + "state: {dir: /tmp/x}\nhandover: {enabled: true}\n"),
             Catch::Contains("handover.enabled") && Catch::Contains("state.dir"));
  CHECK_THAT(error_of("source: {type: stdin}\nhandover: {enabled: true}\n"), Catch::Contains("source.type: kafka"));
  CHECK_THAT(error_of(kafka + "pipeline: {window: {mode: count}}\nhandover: {enabled: true}\n"),
             Catch::Contains("window.mode: session"));
  CHECK_THAT(error_of(kafka + "handover: {enabled: true, topic: logs}\n"), Catch::Contains("handover.topic"));
  CHECK_THAT(error_of(kafka + "routing: {enabled: true, topic: r}\nhandover: {enabled: true, topic: r}\n"),
             Catch::Contains("handover.topic"));
}

TEST_CASE("detection, calibration, label and entity keys map onto their structs", "[config][detection]") {
  const auto cfg = parse_app_config(R"Y(
model:
  train: {validation_split: random, min_transition_sessions: 3}
  detect: {rule: any_miss, threshold: 7.5, unknown_score: alarm}
  calibration: {false_alarm_budget_percent: 0.5, unknown_score: "4.5", threshold: auto}
  data:
    count_window_lines: 0
    label: {field: Label, normal_values: ["-"], training: normal_only}
    entity: {field: Node, time_fields: [Timestamp], time_format: epoch_s, window_ms: 600000}
)Y", "d.yaml");
  const auto& m = cfg.model;
  CHECK(m.train.validation_split == logguard::models::ValidationSplit::random);
  CHECK(m.train.min_transition_sessions == 3);
  CHECK(m.detect.rule == "any_miss");
  CHECK(m.detect.threshold == 7.5);
  CHECK(m.detect.unknown_score == "alarm");
  CHECK(m.calibration.false_alarm_budget_percent == 0.5);
  CHECK(m.calibration.unknown_weight.mode == logguard::models::UnknownWeight::Mode::fixed);
  CHECK(m.calibration.unknown_weight.nats == 4.5);
  CHECK(m.calibration.threshold == 0);  // auto
  CHECK(m.label.field == "Label");
  CHECK(m.label.normal_only);
  CHECK(m.entity.field == "Node");
  CHECK(m.entity.window_ms == 600000);
  // model.encoder.abnormal_by_similarity: auto (unset: decided by the weights), true, false.
  auto abs = [](const char* v) {
    return parse_app_config(std::string("model:\n  encoder: {abnormal_by_similarity: ") + v + "}\n", "e.yaml")
        .model.encoder->abnormal_by_similarity;
  };
  CHECK(!abs("auto").has_value());
  CHECK(abs("true") == std::optional<bool>(true));
  CHECK(abs("false") == std::optional<bool>(false));
  // model.encoder.tentative_mapping: on unless switched off.
  CHECK(parse_app_config("model:\n  encoder: {epochs: 1}\n", "e.yaml").model.encoder->tentative_mapping);
  CHECK_FALSE(parse_app_config("model:\n  encoder: {tentative_mapping: false}\n", "e.yaml").model.encoder->tentative_mapping);
  // model.encoder.normal_negatives: on unless switched off.
  CHECK(parse_app_config("model:\n  encoder: {epochs: 1}\n", "e.yaml").model.encoder->normal_negatives);
  CHECK_FALSE(parse_app_config("model:\n  encoder: {normal_negatives: false}\n", "e.yaml").model.encoder->normal_negatives);
  // model.encoder.sibling_negatives: off unless switched on.
  CHECK_FALSE(parse_app_config("model:\n  encoder: {epochs: 1}\n", "e.yaml").model.encoder->sibling_negatives);
  CHECK(parse_app_config("model:\n  encoder: {sibling_negatives: true}\n", "e.yaml").model.encoder->sibling_negatives);
  // The pre-format-3 key still reads: `true` is the alarm weight.
  CHECK(parse_app_config("model:\n  detect: {unknown_is_anomalous: true}\n", "o.yaml").model.detect.unknown_score ==
        "alarm");
}

TEST_CASE("detection and calibration errors name the key", "[config][detection]") {
  CHECK_THAT(error_of("model:\n  detect: {rule: sometimes}\n"), Catch::Contains("model.detect.rule"));
  CHECK_THAT(error_of("model:\n  detect: {threshold: high}\n"), Catch::Contains("model.detect.threshold"));
  CHECK_THAT(error_of("model:\n  calibration: {false_alarm_budget_percent: 0}\n"),
             Catch::Contains("model.calibration.false_alarm_budget_percent"));
  CHECK_THAT(error_of("model:\n  calibration: {unknown_score: loud}\n"), Catch::Contains("model.calibration.unknown_score"));
  CHECK_THAT(error_of("model:\n  calibration: {budget: 1}\n"), Catch::Contains("false_alarm_budget_percent"));
  CHECK_THAT(error_of("model:\n  train: {validation_split: middle}\n"), Catch::Contains("model.train.validation_split"));
  CHECK_THAT(error_of("model:\n  encoder: {tentative_mapping: sometimes}\n"), Catch::Contains("model.encoder.tentative_mapping"));
  CHECK_THAT(error_of("model:\n  encoder: {abnormal_by_similarity: maybe}\n"),
             Catch::Contains("model.encoder.abnormal_by_similarity") && Catch::Contains("auto, true, false"));
  CHECK_THAT(error_of("model:\n  data:\n    label: {normal_values: [x]}\n"), Catch::Contains("model.data.label.field"));
  CHECK_THAT(error_of("model:\n  data:\n    label: {field: L}\n"), Catch::Contains("model.data.label"));
  CHECK_THAT(error_of("model:\n  data:\n    label: {field: L, normal_values: [a], training: some}\n"),
             Catch::Contains("model.data.label.training"));
  CHECK_THAT(error_of("model:\n  data:\n    entity: {field: Node, time_format: epoch_s}\n"),
             Catch::Contains("model.data.entity.time_fields"));
  CHECK_THAT(error_of("model:\n  data:\n    entity: {field: Node, time_fields: [T], time_format: '%Q'}\n"),
             Catch::Contains("model.data.entity.time_format"));
}

TEST_CASE("the shipped configs fine-tune the encoder and calibrate a threshold", "[config][detection]") {
  for (const char* name : {"/configs/hdfs/train.yaml", "/configs/bgl/train.yaml"}) {
    INFO(name);
    const auto cfg = load_app_config(std::string(LOGGUARD_SOURCE_DIR) + name);
    CHECK(cfg.model.encoder.has_value());
    CHECK(cfg.model.train.validation_split == logguard::models::ValidationSplit::tail);
    CHECK(cfg.model.calibration.false_alarm_budget_percent == 0.1);
    CHECK(cfg.model.detect.rule == "threshold");
  }
  const auto bgl = load_app_config(std::string(LOGGUARD_SOURCE_DIR) + "/configs/bgl/train.yaml");
  CHECK(bgl.model.label.field == "Label");
}

TEST_CASE("the window's session limits load, with their defaults", "[config]") {
  const auto defaults = parse_app_config("", "empty.yaml");
  CHECK(defaults.pipeline.window.max_open_sessions == 100000);
  CHECK(defaults.pipeline.window.max_evicted_sessions == 1000000);
  CHECK(defaults.pipeline.window.end_timeout_ms == 86400000);
  const auto cfg = parse_app_config(
      "pipeline: {window: {max_open_sessions: 50, max_evicted_sessions: 0, end_timeout_ms: 60000}}\n", "test.yaml");
  CHECK(cfg.pipeline.window.max_open_sessions == 50);
  CHECK(cfg.pipeline.window.max_evicted_sessions == 0);
  CHECK(cfg.pipeline.window.end_timeout_ms == 60000);
  CHECK_THAT(error_of("pipeline: {window: {max_evicted: 1}}\n"),
             Catch::Contains("window.max_evicted") && Catch::Contains("max_evicted_sessions"));
}
