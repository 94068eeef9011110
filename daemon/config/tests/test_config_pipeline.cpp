#include <catch2/catch.hpp>

#include <string>

#include "logguard/core/error.hpp"
#include "logguard/config/config_loader.hpp"

using namespace logguard;
using namespace logguard::daemon;

namespace {
std::string error_of(const std::string& yaml) {
  try {
    parse_app_config(yaml, "t.yaml");
  } catch (const core::ConfigError& e) {
    return e.what();
  }
  return "<valid>";
}
}  // namespace

TEST_CASE("pipeline section maps onto PipelineConfig", "[config][pipeline]") {
  const AppConfig c = parse_app_config(R"(
pipeline:
  queue_capacity: 64
  overflow: drop_oldest
  poll_batch: 100
  tick_ms: 20
  raw_lines: 5
  window:
    mode: count
    length: 10
    stride: 5
    idle_timeout_ms: 0
  batcher:
    max_batch: 16
    max_wait_ms: 7
)", "t.yaml");
  CHECK(c.pipeline.queue_capacity == 64);
  CHECK(c.pipeline.overflow == Overflow::drop_oldest);
  CHECK(c.pipeline.poll_batch == 100);
  CHECK(c.pipeline.tick_ms == 20);
  CHECK(c.pipeline.record.raw_lines == 5);
  CHECK(c.pipeline.window.mode == WindowConfig::Mode::count);
  CHECK(c.pipeline.window.length == 10);
  CHECK(c.pipeline.window.stride == 5);
  CHECK(c.pipeline.window.idle_timeout_ms == 0);
  CHECK(c.pipeline.batcher.max_batch == 16);
  CHECK(c.pipeline.batcher.max_wait_ms == 7);

  const AppConfig d = parse_app_config("parser: {}\n", "t.yaml");
  CHECK(d.pipeline.window.mode == WindowConfig::Mode::session);
  CHECK(d.pipeline.window.key_pattern == R"(blk_-?\d+)");
}

TEST_CASE("pipeline config errors name file and YAML path", "[config][pipeline]") {
  CHECK_THAT(error_of("pipeline:\n  window:\n    length: 0\n"),
             Catch::StartsWith("t.yaml: pipeline.window.length: must be >= 1"));
  CHECK_THAT(error_of("pipeline:\n  window:\n    mode: hourly\n"),
             Catch::Contains("pipeline.window.mode: must be one of session, count, time"));
  CHECK_THAT(error_of("pipeline:\n  overflow: grow\n"), Catch::Contains("pipeline.overflow: must be one of block, drop_oldest"));
  CHECK_THAT(error_of("pipeline:\n  batcher:\n    max_batch: 0\n"), Catch::Contains("pipeline.batcher.max_batch"));
  CHECK_THAT(error_of("pipeline:\n  window:\n    lenght: 3\n"), Catch::Contains("pipeline.window.lenght: unknown key"));
  CHECK_THAT(error_of("pipeline:\n  window:\n    key: message_key\n    stride: 500\n"),
             Catch::Contains("pipeline.window.stride"));
}

TEST_CASE("kafka section: scalar keys and pass-through properties", "[config][kafka]") {
  const AppConfig c = parse_app_config(R"(
kafka:
  brokers: embedded
  topics: [hdfs-logs, bgl-logs]
  group_id: lg
  output_topic: anomalies
  consumer:
    session.timeout.ms: 10000
    fetch.max.bytes: "1048576"
  producer:
    linger.ms: 5
    acks: all
)", "t.yaml");
  CHECK(c.kafka.brokers == "embedded");
  CHECK(c.kafka.topics == std::vector<std::string>{"hdfs-logs", "bgl-logs"});
  CHECK(c.kafka.group_id == "lg");
  CHECK(c.kafka.output_topic == "anomalies");
  CHECK(c.kafka.consumer.at("session.timeout.ms") == "10000");
  CHECK(c.kafka.consumer.at("fetch.max.bytes") == "1048576");
  CHECK(c.kafka.producer.at("acks") == "all");

  CHECK(parse_app_config("parser: {}\n", "t.yaml").kafka.brokers == "embedded");
  CHECK_THAT(error_of("kafka:\n  consumer:\n    no.such.thing: 1\n"),
             Catch::StartsWith("t.yaml: kafka.consumer.no.such.thing: "));
  CHECK_THAT(error_of("kafka:\n  producer:\n    linger.ms: soon\n"), Catch::Contains("kafka.producer.linger.ms"));
  CHECK_THAT(error_of("kafka:\n  consumer:\n    enable.auto.offset.store: true\n"),
             Catch::Contains("kafka.consumer.enable.auto.offset.store: must stay false"));
  CHECK_THAT(error_of("kafka:\n  consumer:\n    group.id: x\n"), Catch::Contains("set kafka.group_id instead"));
  CHECK_THAT(error_of("kafka:\n  consumer:\n    nested: {a: 1}\n"), Catch::Contains("kafka.consumer.nested: expected a single value"));
  CHECK_THAT(error_of("kafka:\n  group: x\n"), Catch::Contains("kafka.group: unknown key"));
  CHECK_THAT(error_of("kafka:\n  group_id: \"\"\n"), Catch::Contains("kafka.group_id: must not be empty"));
}

TEST_CASE("metrics section", "[config][metrics]") {
  const AppConfig d = parse_app_config("parser: {}\n", "t.yaml");
  CHECK(d.metrics.address == "127.0.0.1");
  CHECK(d.metrics.enabled);
  const AppConfig c = parse_app_config("metrics:\n  address: 0.0.0.0\n  port: 9100\n", "t.yaml");
  CHECK(c.metrics.address == "0.0.0.0");
  CHECK(c.metrics.port == 9100);
  CHECK_THAT(error_of("metrics:\n  port: 70000\n"), Catch::Contains("metrics.port: must be between 0 and 65535"));
  CHECK_THAT(error_of("metrics:\n  address: localhost\n"), Catch::Contains("metrics.address: not an IP address"));
  CHECK_THAT(error_of("metrics:\n  path: /m\n"), Catch::Contains("metrics.path: unknown key"));
}
