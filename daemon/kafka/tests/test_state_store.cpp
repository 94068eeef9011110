// The Kafka state store (issue #6, state_store.hpp): generations of chunked partition states in
// a compacted topic; the newest complete one of each partition is loaded. Runs against the
// embedded mock cluster.
#include <catch2/catch.hpp>

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "logguard/core/error.hpp"
#include "logguard/kafka/embedded.hpp"
#include "logguard/kafka/state_store.hpp"
#include "pipeline_fakes.hpp"

using namespace logguard;
using namespace logguard::daemon;
using testing::event;

namespace {

constexpr const char* kTopic = "logs";

}  // namespace

TEST_CASE("the Kafka state store keeps the newest complete generation of each partition", "[handover][integration][kafka_mock]") {
  EmbeddedKafka kafka;
  kafka.create_topic("state", 2);
  KafkaConfig kc;
  kc.group_id = "g-handover";
  HandoverConfig hc;
  hc.enabled = true;
  hc.chunk_bytes = 4096;
  hc.timeout_ms = 10000;
  StateModel model;
  model.current = [] {
    return StateModel::Describe([](const std::set<core::TemplateId>& used) {
      CheckpointMeta m;
      m.model_version = "fake-v1";
      for (auto id : used) m.templates.emplace_back(id, "t" + std::to_string(id));
      return m;
    });
  };
  int adapted = 0;
  model.adapt = [&adapted](const CheckpointMeta& m, PipelineCheckpoint&) {
    adapted += m.model_version == "fake-v1";
    return std::pair<std::size_t, std::size_t>{0, 0};
  };
  KafkaStateStore store(kc, hc, "state", kafka.bootstrap_servers(), model, "session");
  store.ensure_topic(2, std::chrono::milliseconds(10000));

  auto state = [](int gen_marker) {
    PipelineCheckpoint p;
    for (int part = 0; part < 3; ++part) {
      p.positions.push_back({{kTopic, part}, 1000 * gen_marker + part});
      // Partition 0: enough sessions for several 4 KiB chunks; 1: one; 2: none.
      const int sessions = part == 0 ? 40 : part == 1 ? 1 : 0;
      for (int s = 0; s < sessions; ++s) {
        WindowerState::Session ses{"blk_" + std::to_string(part) + "_" + std::to_string(s), {}, 2, 5, 100, {kTopic, part}};
        for (int e = 0; e < 3; ++e) {
          Event ev = event(part, s * 10 + e, 7);
          ev.line = std::string(100, 'a' + gen_marker);
          ses.events.push_back(ev);
        }
        p.windows.sessions.push_back(std::move(ses));
      }
    }
    return p;
  };
  const std::vector<TopicPartition> all = {{kTopic, 0}, {kTopic, 1}, {kTopic, 2}, {kTopic, 3}};
  auto empty = store.load(all);
  REQUIRE(empty.has_value());
  CHECK(empty->positions.empty());

  REQUIRE(store.save(state(1)).has_value());
  REQUIRE(store.save(state(2)).has_value());
  CHECK(store.stats().records_written > 6);  // partition 0 needed several chunks

  // Another member (its own store) reads the newest generation.
  KafkaStateStore other(kc, hc, "state", kafka.bootstrap_servers(), model, "session");
  other.ensure_topic(2, std::chrono::milliseconds(10000));
  auto got = other.load(all);
  REQUIRE(got.has_value());
  REQUIRE(got->positions.size() == 3);
  std::map<int, std::int64_t> pos;
  for (const auto& p : got->positions) pos[p.tp.partition] = p.offset;
  CHECK(pos == std::map<int, std::int64_t>{{0, 2000}, {1, 2001}, {2, 2002}});
  std::map<int, int> per_part;
  for (const auto& s : got->windows.sessions) {
    ++per_part[s.tp.partition];
    CHECK(s.unscored == 2);
    CHECK(s.next_sequence == 5);
    REQUIRE(s.events.size() == 3);
    CHECK(s.events[0].line == std::string(100, 'c'));  // generation 2's lines
    CHECK(s.events[0].template_id == 7);
  }
  CHECK(per_part == std::map<int, int>{{0, 40}, {1, 1}});
  CHECK(adapted > 0);

  // Only some partitions: only their state.
  auto one = other.load({{kTopic, 1}});
  REQUIRE(one.has_value());
  REQUIRE(one->positions.size() == 1);
  CHECK(one->windows.sessions.size() == 1);

  // A newer generation that is incomplete or unreadable is skipped.
  {
    std::string err;
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    conf->set("bootstrap.servers", kafka.bootstrap_servers(), err);
    std::unique_ptr<RdKafka::Producer> prod(RdKafka::Producer::create(conf.get(), err));
    REQUIRE(prod);
    const std::string bad = "not a checkpoint";
    const std::string k1 = std::string(kTopic) + "|1|9|0|1";  // complete but corrupt
    const std::string k2 = std::string(kTopic) + "|2|9|0|2";  // chunk 1 of 2 missing
    for (const auto* k : {&k1, &k2})
      REQUIRE(prod->produce("state", std::stoi(k->substr(5, 1)) % 2, RdKafka::Producer::RK_MSG_COPY,
                            const_cast<char*>(bad.data()), bad.size(), k->data(), k->size(), 0, nullptr) ==
              RdKafka::ERR_NO_ERROR);
    prod->flush(5000);
  }
  auto after = other.load(all);
  REQUIRE(after.has_value());
  pos.clear();
  for (const auto& p : after->positions) pos[p.tp.partition] = p.offset;
  CHECK(pos == std::map<int, std::int64_t>{{0, 2000}, {1, 2001}, {2, 2002}});
  CHECK(other.stats().corrupt_records >= 1);

  // The next save continues after the newest generation seen, so it wins over the bad ones.
  REQUIRE(other.save(state(3)).has_value());
  auto third = store.load(all);
  REQUIRE(third.has_value());
  pos.clear();
  for (const auto& p : third->positions) pos[p.tp.partition] = p.offset;
  CHECK(pos == std::map<int, std::int64_t>{{0, 3000}, {1, 3001}, {2, 3002}});
}

TEST_CASE("handover config is validated", "[handover][unit]") {
  HandoverConfig c;
  c.interval_ms = 0;
  CHECK_THROWS_AS(c.validate(), core::ConfigError);
  c = HandoverConfig{};
  c.chunk_bytes = 10;
  CHECK_THROWS_AS(c.validate(), core::ConfigError);
}
