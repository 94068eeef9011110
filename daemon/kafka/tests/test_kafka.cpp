// Kafka source and sink against librdkafka's in-process mock cluster: produce lines ->
// consume in a group -> write anomaly records through the idempotent sink -> read back,
// with offsets stored only after delivery.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <thread>
#include <set>
#include <string>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/kafka/embedded.hpp"
#include "logguard/kafka/sink.hpp"
#include "logguard/kafka/source.hpp"
#include "logguard/pipeline/offset_tracker.hpp"
#include "logguard/pipeline/pipeline.hpp"

using namespace logguard;
using namespace logguard::daemon;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Safety net only: every wait below ends as soon as its condition holds.
constexpr auto kDeadline = 60s;

KafkaConfig config_for(std::vector<std::string> topics, std::string group) {
  KafkaConfig c;
  c.topics = std::move(topics);
  c.group_id = std::move(group);
  c.consumer["session.timeout.ms"] = "6000";
  c.consumer["heartbeat.interval.ms"] = "500";
  c.consumer["auto.commit.interval.ms"] = "100";
  c.consumer["topic.metadata.refresh.interval.ms"] = "500";
  c.producer["linger.ms"] = "5";
  return c;
}

void produce_lines(const KafkaConfig& c, const std::string& bootstrap, const std::string& topic, int from, int n) {
  KafkaSink producer(c, bootstrap, topic);
  int delivered = 0;
  for (int i = from; i < from + n; ++i) {
    const std::string line = "line " + std::to_string(i) + "\n";
    producer.write("k" + std::to_string(i % 16), "id-" + std::to_string(i), line,
                   [&](bool ok, std::string_view) { delivered += ok ? 1 : 0; });
  }
  REQUIRE(producer.flush(30s) == 0);
  REQUIRE(delivered == n);
}

// Polls until `want` records arrived (or the safety deadline passed).
std::vector<Record> consume(KafkaSource& src, std::size_t want) {
  std::vector<Record> got;
  const auto until = SteadyClock::now() + kDeadline;
  while (got.size() < want && SteadyClock::now() < until) {
    REQUIRE(src.poll(got, 100, 100ms) != Source::PollStatus::fatal);
  }
  return got;
}

}  // namespace

TEST_CASE("kafka config: each bad pass-through property is reported by name", "[kafka]") {
  KafkaConfig c = config_for({"logs"}, "g");
  c.consumer["no.such.property"] = "1";
  try {
    c.validate();
    FAIL("accepted an unknown property");
  } catch (const core::ConfigError& e) {
    CHECK(e.key() == "consumer.no.such.property");
  }
  c = config_for({"logs"}, "g");
  c.producer["linger.ms"] = "not-a-number";
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("producer.linger.ms"));
  c = config_for({"logs"}, "g");
  c.consumer["enable.auto.offset.store"] = "true";
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("consumer.enable.auto.offset.store"));
  c = config_for({"logs"}, "g");
  c.producer["enable.idempotence"] = "false";
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("producer.enable.idempotence"));
  c = config_for({"logs"}, "");
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("group_id"));
}

TEST_CASE("lines flow from the input topic through the sink to the output topic", "[integration][kafka_mock]") {
  EmbeddedKafka cluster(1);
  cluster.create_topic("logs", 2);
  cluster.create_topic("anomalies", 1);
  const auto& bs = cluster.bootstrap_servers();
  const int n = 200;
  produce_lines(config_for({"logs"}, "g"), bs, "logs", 0, n);

  OffsetTracker tracker;
  {
    KafkaSource src(config_for({"logs"}, "daemon"), bs);
    src.set_revoke_handler([&](const std::vector<TopicPartition>& tps) {
      // Store the final offsets of the partitions being taken away.
      auto c = tracker.take_committable();
      src.store_offsets(c);
      for (const auto& tp : tps) tracker.forget(tp);
    });
    KafkaSink sink(config_for({"logs"}, "daemon"), bs, "anomalies");
    InOrderReleaser releaser(tracker);

    std::vector<Record> got = consume(src, n);
    REQUIRE(got.size() == n);
    std::set<std::string> lines;
    for (const auto& r : got) {
      lines.insert(r.line.str());
      CHECK(r.pos.tp.topic == "logs");
      CHECK(r.timestamp_ms > 0);
      CHECK(r.key.rfind('k', 0) == 0);
      tracker.begin(r.pos, 1);
      // Every line is an "anomaly" here: its offset is released once delivered.
      auto ticket = releaser.add({r.pos}, true);
      sink.write(r.key, "rec-" + std::to_string(r.pos.tp.partition) + "-" + std::to_string(r.pos.offset),
                 "{\"line\":\"" + r.line.str() + "\"}",
                 [&releaser, ticket](bool ok, std::string_view) {
                   if (ok) releaser.complete(ticket);
                 });
    }
    CHECK(lines.size() == n);
    CHECK(*lines.begin() == "line 0");  // the trailing newline is stripped
    CHECK(tracker.committable(got.front().pos.tp) == got.front().pos.offset);  // nothing delivered yet

    REQUIRE(sink.flush(30s) == 0);
    CHECK(tracker.held() == 0);
    auto offsets = tracker.take_committable();
    std::map<TopicPartition, std::int64_t> expected, committable;
    for (const auto& r : got) expected[r.pos.tp] = std::max(expected[r.pos.tp], r.pos.offset + 1);
    for (const auto& o : offsets) committable[o.tp] = o.offset;
    CHECK(committable == expected);
    src.store_offsets(offsets);
    src.close();
  }

  SECTION("the output topic holds one keyed record per line, with its id header") {
    KafkaSource reader(config_for({"anomalies"}, "reader"), bs);
    std::vector<Record> out = consume(reader, n);
    REQUIRE(out.size() == n);
    std::set<std::string> bodies;
    for (const auto& r : out) bodies.insert(r.line.str());
    CHECK(bodies.size() == n);
    CHECK(bodies.count("{\"line\":\"line 7\"}") == 1);
  }
  SECTION("the group resumes after the stored offsets: only new lines are read") {
    produce_lines(config_for({"logs"}, "g"), bs, "logs", n, 10);
    KafkaSource again(config_for({"logs"}, "daemon"), bs);
    std::vector<Record> more = consume(again, 10);
    REQUIRE(more.size() == 10);
    std::vector<Record> extra;
    again.poll(extra, 100, 500ms);  // nothing else arrives
    CHECK(extra.empty());
    for (const auto& r : more) CHECK(std::stoi(r.line.str().substr(5)) >= n);
  }
}

TEST_CASE("a paused source fetches nothing until resumed", "[integration][kafka_mock]") {
  EmbeddedKafka cluster(1);
  cluster.create_topic("logs", 1);
  const auto& bs = cluster.bootstrap_servers();
  produce_lines(config_for({"logs"}, "g"), bs, "logs", 0, 5);
  KafkaSource src(config_for({"logs"}, "p"), bs);
  std::vector<Record> got = consume(src, 5);
  REQUIRE(got.size() == 5);
  src.pause();
  CHECK(src.paused());
  produce_lines(config_for({"logs"}, "g"), bs, "logs", 5, 5);
  std::vector<Record> none;
  for (int i = 0; i < 5; ++i) src.poll(none, 100, 100ms);
  CHECK(none.empty());
  src.resume();
  got = consume(src, 5);
  CHECK(got.size() == 5);
}

namespace {

// Flags windows that contain a WARN line (template 7).
class WarnScorer : public Scorer {
 public:
  core::Expected<std::vector<Verdict>> score(std::span<const Window* const> batch) override {
    std::vector<Verdict> out;
    for (const Window* w : batch) {
      Verdict v;
      for (std::size_t i = 0; i < w->events.size(); ++i)
        if (w->events[i].template_id == 7) v.failing.push_back(FailingPosition{i, 7, {1}});
      v.anomalous = !v.failing.empty();
      out.push_back(std::move(v));
    }
    return out;
  }
  std::string model_version() const override { return "warn-v1"; }
};

}  // namespace

TEST_CASE("the pipeline consumes a topic and produces one record per anomalous session",
          "[integration][kafka_mock][pipeline]") {
  EmbeddedKafka cluster(1);
  cluster.create_topic("logs", 3);
  cluster.create_topic("anomalies", 1);
  const auto& bs = cluster.bootstrap_servers();

  // The HDFS sample, spread over three partitions; expected: the sessions with a WARN line.
  std::vector<std::string> lines;
  std::set<std::string> expected;
  {
    std::ifstream in(std::string(LOGGUARD_SOURCE_DIR) + "/data/samples/HDFS_2k.log");
    const std::regex blk(R"(blk_-?\d+)");
    for (std::string line; std::getline(in, line);) {
      if (line.find(" WARN ") != std::string::npos)
        for (std::sregex_iterator it(line.begin(), line.end(), blk), end; it != end; ++it) expected.insert(it->str());
      lines.push_back(line);
    }
  }
  REQUIRE(lines.size() == 2000);
  {
    KafkaSink producer(config_for({"logs"}, "g"), bs, "logs");
    for (std::size_t i = 0; i < lines.size(); ++i)
      producer.write(std::to_string(i % 7), "", lines[i], [](bool, std::string_view) {});
    REQUIRE(producer.flush(30s) == 0);
  }

  KafkaSource source(config_for({"logs"}, "daemon"), bs);
  WarnScorer scorer;
  KafkaSink sink(config_for({"logs"}, "daemon"), bs, "anomalies");
  PipelineConfig pc;
  pc.window.length = 1000;
  pc.window.idle_timeout_ms = 0;  // sessions close at stop
  pc.queue_capacity = 4;          // small queues: backpressure happens
  Pipeline pipeline(pc, source, [](const Record& r) -> core::TemplateId {
    return r.line.view().find(" WARN ") != std::string::npos ? 7 : 1;
  }, scorer, sink, [](core::TemplateId id) { return id == 7 ? std::string("WARN") : std::string("INFO"); });

  std::atomic<bool> stop{false};
  std::thread watcher([&] {  // stops once every line was read (safety deadline only)
    const auto until = SteadyClock::now() + kDeadline;
    while (pipeline.stats().records < lines.size() && SteadyClock::now() < until) std::this_thread::sleep_for(10ms);
    stop = true;
  });
  auto result = pipeline.run(stop);
  watcher.join();
  REQUIRE(result.has_value());
  CHECK(pipeline.stats().records == lines.size());
  CHECK(pipeline.stats().anomalies == expected.size());
  CHECK(pipeline.stats().delivered == expected.size());
  CHECK(pipeline.held_records() == 0);

  // Every line is done, so the group's committed offsets reach the end of each partition.
  std::int64_t committed_total = 0;
  const auto until = SteadyClock::now() + kDeadline;
  while (committed_total < static_cast<std::int64_t>(lines.size()) && SteadyClock::now() < until) {
    committed_total = 0;
    for (const auto& p : source.committed(5s)) committed_total += std::max<std::int64_t>(0, p.offset);
  }
  CHECK(committed_total == static_cast<std::int64_t>(lines.size()));
  source.close();

  KafkaSource reader(config_for({"anomalies"}, "reader"), bs);
  std::vector<Record> out = consume(reader, expected.size());
  REQUIRE(out.size() == expected.size());
  std::set<std::string> sessions;
  for (const auto& r : out) {
    sessions.insert(r.key);
    CHECK_THAT(r.line.str(), Catch::Contains("\"schema\":\"logguard.anomaly/v3\""));
  }
  CHECK(sessions == expected);
}
