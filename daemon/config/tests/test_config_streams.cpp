// The sections of issue #20: `input:` (record formats), `streams:` (several streams in one
// daemon: selection, per-stream sections, consumer groups) and `feedback:`.
#include <catch2/catch.hpp>

#include <string>

#include "logguard/config/config_loader.hpp"
#include "logguard/core/error.hpp"

using logguard::core::ConfigError;
using logguard::core::RecordKind;
using namespace logguard::daemon;

namespace {
std::string error_of(const std::string& yaml) {
  try {
    parse_app_config(yaml, "test.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}
}  // namespace

TEST_CASE("the input section maps onto a record format", "[config][input]") {
  const auto cfg = parse_app_config(R"(
input:
  format: json
  message: log.message
  timestamp: "@timestamp"
  timestamp_format: epoch_ms
  session: trace.id
  label: level
  stream: service.name
  parse_header: true
  max_record_bytes: 65536
  max_depth: 16
)", "t.yaml");
  CHECK(cfg.has_input);
  CHECK(cfg.input.kind == RecordKind::json);
  CHECK(cfg.input.message == "log.message");
  CHECK(cfg.input.timestamp == "@timestamp");
  CHECK(cfg.input.timestamp_format == "epoch_ms");
  CHECK(cfg.input.session == "trace.id");
  CHECK(cfg.input.label == "level");
  CHECK(cfg.input.stream == "service.name");
  CHECK(cfg.input.parse_header);
  CHECK(cfg.input.max_record_bytes == 65536);
  CHECK(cfg.input.max_depth == 16);
  CHECK_FALSE(parse_app_config("", "e.yaml").has_input);
  CHECK(parse_app_config("", "e.yaml").input.raw());

  CHECK_THAT(error_of("input: {format: xml}"), Catch::Contains("input.format"));
  CHECK_THAT(error_of("input: {format: json, mesage: m}"), Catch::Contains("valid keys here"));
  CHECK_THAT(error_of("input: {session: x}"), Catch::Contains("input.session"));  // raw has no fields
  CHECK_THAT(error_of("input: {format: otlp, max_depth: 0}"), Catch::Contains("input.max_depth"));
  // Labels from a record field: model.data.label gives the values.
  const auto lab = parse_app_config("input: {format: json, label: level}\nmodel: {data: {label: {abnormal_values: [ERROR]}}}\n",
                                    "l.yaml");
  CHECK(lab.model.label.field == "level");
  CHECK_THAT(error_of("model: {data: {label: {abnormal_values: [ERROR]}}}"), Catch::Contains("model.data.label.field"));
  CHECK(parse_app_config("pipeline: {window: {key: field}}", "k.yaml").pipeline.window.key_from ==
        WindowConfig::KeyFrom::field);
}

TEST_CASE("streams: each selects its records and has its own sections", "[config][streams]") {
  const auto cfg = parse_app_config(R"(
kafka: {brokers: "b:9092", topics: [logs], group_id: lg, output_topic: anomalies}
input: {format: otlp, stream: resource.service.name}
model: {bundle: /b/default}
state: {dir: /var/lib/lg}
streams:
  - name: hdfs
    select: {values: [hdfs, hdfs-dn]}
    model: {bundle: /b/hdfs}
    pipeline: {window: {length: 40}}
  - name: bgl
    select: {topics: [bgl-logs]}
    input: {format: json, parse_header: true}
    parser: {log_format: "<Label> <Content>"}
    output_topic: bgl-anomalies
    group_id: lg-bgl-custom
)", "s.yaml");
  REQUIRE(cfg.streams.size() == 2);
  REQUIRE(stream_count(cfg) == 2);
  const auto hdfs = stream_config(cfg, 0);
  CHECK(hdfs.stream == "hdfs");
  CHECK(hdfs.stream_values == std::vector<std::string>{"hdfs", "hdfs-dn"});
  CHECK(hdfs.kafka.topics == std::vector<std::string>{"logs"});
  CHECK(hdfs.kafka.group_id == "lg-hdfs");
  CHECK(hdfs.kafka.output_topic == "anomalies");
  CHECK(hdfs.model.bundle == "/b/hdfs");
  CHECK(hdfs.input.kind == RecordKind::otlp);
  CHECK(hdfs.pipeline.window.length == 40);
  CHECK(hdfs.daemon.window_length_set);
  CHECK_FALSE(hdfs.has_parser);
  CHECK(hdfs.daemon.state_dir == "/var/lib/lg/hdfs");
  const auto bgl = stream_config(cfg, 1);
  CHECK(bgl.kafka.topics == std::vector<std::string>{"bgl-logs"});
  CHECK(bgl.kafka.group_id == "lg-bgl-custom");
  CHECK(bgl.kafka.output_topic == "bgl-anomalies");
  CHECK(bgl.model.bundle == "/b/default");  // the top level's
  CHECK(bgl.input.kind == RecordKind::json);
  CHECK(bgl.has_parser);
  CHECK(bgl.parser.log_format == "<Label> <Content>");
  CHECK_FALSE(bgl.daemon.window_length_set);
  // Without streams: one stream, named default, the group unchanged.
  const auto one = stream_config(parse_app_config("kafka: {group_id: lg}", "o.yaml"), 0);
  CHECK(one.stream == kDefaultStream);
  CHECK(one.kafka.group_id == "lg");
}

TEST_CASE("stream rules name the stream and the key", "[config][streams]") {
  const std::string base = "kafka: {topics: [logs]}\ninput: {format: json, stream: svc}\n";
  CHECK_THAT(error_of(base + "streams: [{name: a, select: {values: [x]}}, {name: a, select: {values: [y]}}]"),
             Catch::Contains("streams[1].name"));
  CHECK_THAT(error_of(base + "streams: [{name: 'a b'}]"), Catch::Contains("streams[0].name"));
  CHECK_THAT(error_of(base + "streams: [{name: a, select: {values: [x]}}, {name: b}]"),
             Catch::Contains("streams[1].select"));
  CHECK_THAT(error_of("kafka: {topics: [logs]}\nstreams: [{name: a, select: {values: [x]}}]"),
             Catch::Contains("streams[0].select.values"));  // no input.stream
  CHECK_THAT(error_of(base + "streams: [{name: a, select: {values: [x]}, group_id: g}, {name: b, select: {values: [y]}, "
                             "group_id: g}]"),
             Catch::Contains("streams[1].group_id"));
  CHECK_THAT(error_of(base + "source: {type: stdin}\nsink: {type: stdout}\n"
                             "streams: [{name: a, select: {values: [x]}}, {name: b, select: {values: [y]}}]"),
             Catch::Contains("stdin"));
  CHECK_THAT(error_of(base + "routing: {enabled: true}\nstreams: [{name: a}]"), Catch::Contains("routing.enabled"));
  CHECK_THAT(error_of("input: {format: json}\nrouting: {enabled: true}"), Catch::Contains("input.format: raw"));
  CHECK_THAT(error_of(base + "source: {type: file, path: /x}\nsink: {type: stdout}\n"
                             "streams: [{name: a, select: {topics: [t]}}]"),
             Catch::Contains("streams[0].select.topics"));
  CHECK_THAT(error_of(base + "streams: [{name: a, select: {values: [x]}, modle: {}}]"), Catch::Contains("valid keys here"));
  CHECK(error_of(base + "source: {type: file, path: /x}\nsink: {type: stdout}\n"
                        "streams: [{name: a, select: {values: [x]}}, {name: b, path: /y}]")
            .empty());
}

TEST_CASE("the feedback section", "[config][feedback]") {
  const auto cfg = parse_app_config("feedback: {enabled: true, topic: fb, poll_interval_ms: 250}", "f.yaml");
  CHECK(cfg.feedback.enabled);
  CHECK(cfg.feedback.effective_topic("g") == "fb");
  CHECK(cfg.feedback.poll_interval_ms == 250);
  CHECK(parse_app_config("feedback: {enabled: true}", "f.yaml").feedback.effective_topic("g") == "g-feedback");
  CHECK_THAT(error_of("feedback: {topic: a, path: /b}"), Catch::Contains("feedback.path"));
  CHECK_THAT(error_of("feedback: {poll_interval_ms: 0}"), Catch::Contains("feedback.poll_interval_ms"));
}
