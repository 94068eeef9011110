// Session handover between consumer-group members (issue #6): the windower gives up and takes
// over sessions by partition, the pipeline saves a revoked partition's sessions and continues
// them on the new owner (the same anomaly records as one uninterrupted pipeline), and the Kafka
// state store keeps generations of chunked partition states in a topic.
#include <catch2/catch.hpp>

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "logguard/daemon/file_source.hpp"
#include "logguard/daemon/handover.hpp"
#include "logguard/daemon/kafka.hpp"
#include "logguard/daemon/pipeline.hpp"
#include "logguard/daemon/session_key.hpp"
#include "logguard/daemon/windower.hpp"
#include "pipeline_fakes.hpp"

using namespace logguard;
using namespace logguard::daemon;
using testing::CapturingSink;
using testing::FakeScorer;
using testing::fake_map;

namespace {

const std::string kSample = std::string(LOGGUARD_SOURCE_DIR) + "/data/samples/HDFS_2k.log";
constexpr const char* kTopic = "logs";

WindowConfig session_windows() {
  WindowConfig w;
  w.key_pattern = R"(dfs\.[A-Za-z]+)";  // sessions per component: long and sliding
  w.length = 8;
  w.stride = 5;
  w.idle_timeout_ms = 0;
  return w;
}

// The sample's lines keyed by session, spread over two partitions by their first key (what
// the routing stage does), each partition numbered from offset 0.
std::map<int, std::vector<Record>> keyed_partitions() {
  FileSource file(kSample, 1 << 16);
  std::vector<Record> lines;
  while (file.poll(lines, 4096, std::chrono::milliseconds(0)) == Source::PollStatus::ok) {
  }
  SessionKeyExtractor keyer(session_windows());
  std::map<int, std::vector<Record>> parts;
  std::vector<std::string_view> keys;
  for (auto& r : lines) {
    keyer.extract(r.line, std::string_view(), keys);
    const int p = keys.empty() ? 0 : static_cast<int>(std::hash<std::string_view>{}(keys.front()) % 2);
    auto& v = parts[p];
    r.pos = {{kTopic, p}, static_cast<std::int64_t>(v.size())};
    r.timestamp_ms = 1700000000000 + static_cast<std::int64_t>(v.size());
    v.push_back(std::move(r));
  }
  return parts;
}

// A consumer-group member: serves the partitions it owns, round robin. On its first poll it
// announces its assignment (and starts where the assign handler says); after `revoke_after`
// records it loses `revoked` (revoke handler first, like librdkafka's rebalance callback).
class MemberSource : public Source {
 public:
  MemberSource(const std::map<int, std::vector<Record>>& data, std::set<int> owned) : data_(data), owned_(std::move(owned)) {}
  std::size_t revoke_after = SIZE_MAX;
  int revoked = -1;
  std::map<int, std::int64_t> stored;  // last stored offset per partition
  std::map<int, std::size_t> start;    // committed offsets to start at (without an assign handler)

  PollStatus poll(std::vector<Record>& out, std::size_t max, std::chrono::milliseconds) override {
    if (!announced_) {
      announced_ = true;
      std::vector<TopicPartition> tps;
      for (int p : owned_) tps.push_back({kTopic, p});
      cursor_ = start;
      if (assign_)
        for (const auto& at : assign_(tps)) cursor_[at.tp.partition] = static_cast<std::size_t>(at.offset);
    }
    if (served_ >= revoke_after && owned_.count(revoked)) {
      if (revoke_) revoke_({{kTopic, revoked}});
      owned_.erase(revoked);
    }
    std::size_t n = 0;
    bool any = true;
    while (n < max && any) {
      any = false;
      for (int p : owned_) {
        const auto& v = data_.at(p);
        auto& c = cursor_[p];
        if (c >= v.size() || n >= max) continue;
        out.push_back(v[c++]);
        ++n;
        ++served_;
        any = true;
        if (served_ >= revoke_after && owned_.count(revoked)) return PollStatus::ok;  // revoke at the next poll
      }
    }
    return n == 0 ? PollStatus::end_of_stream : PollStatus::ok;
  }
  void pause() override {}
  void resume() override {}
  void store_offsets(std::span<const SourcePosition> o) override {
    for (const auto& p : o) stored[p.tp.partition] = p.offset;
  }
  void set_revoke_handler(RevokeHandler h) override { revoke_ = std::move(h); }
  void set_assign_handler(AssignHandler h) override { assign_ = std::move(h); }

 private:
  const std::map<int, std::vector<Record>>& data_;
  std::set<int> owned_;
  std::map<int, std::size_t> cursor_;
  std::size_t served_ = 0;
  bool announced_ = false;
  RevokeHandler revoke_;
  AssignHandler assign_;
};

// Saved partition states in memory (what the Kafka topic holds).
struct MemoryStore {
  std::map<TopicPartition, SourcePosition> positions;
  std::map<TopicPartition, std::vector<WindowerState::Session>> sessions;
  int saves = 0;
  core::Expected<std::uint64_t> save(PipelineCheckpoint p) {
    for (const auto& pos : p.positions) {
      positions[pos.tp] = pos;
      sessions[pos.tp].clear();
    }
    for (auto& s : p.windows.sessions) sessions[s.tp].push_back(std::move(s));
    ++saves;
    return std::uint64_t{1};
  }
  core::Expected<PipelineCheckpoint> load(const std::vector<TopicPartition>& tps) {
    PipelineCheckpoint out;
    for (const auto& tp : tps) {
      auto it = positions.find(tp);
      if (it == positions.end()) continue;
      out.positions.push_back(it->second);
      for (const auto& s : sessions[tp]) out.windows.sessions.push_back(s);
    }
    return out;
  }
};

PipelineConfig pipeline_config() {
  PipelineConfig c;
  c.window = session_windows();
  c.batcher.max_batch = 4;
  c.batcher.max_wait_ms = 2;
  c.poll_batch = 32;
  return c;
}

// Runs one member to the end of its input; returns its anomaly records (id -> body).
std::map<std::string, std::string> run_member(MemberSource& src, MemoryStore* store, PipelineStats* stats_out = nullptr) {
  FakeScorer scorer;
  CapturingSink sink;
  Pipeline p(pipeline_config(), src, fake_map, scorer, sink, testing::fake_template_text);
  if (store) {
    p.enable_checkpoints(3600000, [store](PipelineCheckpoint cp) -> CheckpointJob {
      return [store, cp = std::move(cp)]() { return store->save(cp); };
    }, false);
    PartitionHandover h;
    h.save = [store](PipelineCheckpoint cp) { return store->save(std::move(cp)); };
    h.load = [store](const std::vector<TopicPartition>& tps) { return store->load(tps); };
    p.enable_handover(std::move(h));
  }
  std::atomic<bool> stop{false};
  auto r = p.run(stop);
  REQUIRE(r.has_value());
  if (stats_out) {
    stats_out->handover_out_sessions = p.stats().handover_out_sessions.load();
    stats_out->handover_in_sessions = p.stats().handover_in_sessions.load();
    stats_out->handover_out_partitions = p.stats().handover_out_partitions.load();
    stats_out->handover_in_partitions = p.stats().handover_in_partitions.load();
  }
  std::map<std::string, std::string> out;
  for (const auto& [id, bodies] : sink.bodies) {
    REQUIRE(bodies.size() == 1);
    out[id] = *bodies.begin();
  }
  return out;
}

Event event(std::int32_t part, std::int64_t off, std::uint32_t id = 1) {
  Event e;
  e.template_id = id;
  e.pos = {{kTopic, part}, off};
  e.timestamp_ms = off;
  e.line = "line " + std::to_string(off);
  return e;
}

}  // namespace

TEST_CASE("the windower gives up a partition's sessions and another one continues them", "[handover][unit]") {
  WindowConfig w = session_windows();
  w.key_pattern = "k";
  w.length = 4;
  w.stride = 2;
  Windower whole(w), a(w), b(w);
  std::vector<Window> expect, got;
  auto add = [](Windower& x, const Event& e, std::string_view key, std::vector<Window>& out) {
    std::string_view keys[] = {key};
    x.add(e, keys, 0, out);
  };
  // Sessions "s0" (partition 0) and "s1" (partition 1); s1 moves from a to b after 5 events.
  for (int i = 0; i < 12; ++i) {
    add(whole, event(0, i), "s0", expect);
    add(whole, event(1, i), "s1", expect);
    add(a, event(0, i), "s0", got);
    if (i < 5) add(a, event(1, i), "s1", got);
    if (i == 5) {
      auto taken = a.take_sessions([](const TopicPartition& tp) { return tp.partition == 1; }, 0);
      REQUIRE(taken.size() == 1);
      CHECK(taken[0].key == "s1");
      CHECK(taken[0].tp == TopicPartition{kTopic, 1});
      CHECK(a.open_sessions() == 1);
      CHECK(b.adopt_sessions(std::move(taken), 0) == 1);
    }
    if (i >= 5) add(b, event(1, i), "s1", got);
  }
  whole.flush(expect);
  a.flush(got);
  b.flush(got);
  auto describe = [](const std::vector<Window>& v) {
    std::multiset<std::string> out;
    for (const auto& x : v) {
      std::string s = x.key + "#" + std::to_string(x.sequence) + ":" + std::to_string(x.released) + ":";
      for (const auto& e : x.events) s += std::to_string(e.pos.tp.partition) + "/" + std::to_string(e.pos.offset) + ",";
      out.insert(s);
    }
    return out;
  };
  CHECK(describe(got) == describe(expect));
  // A key that is already open is not replaced.
  Windower c(w);
  std::vector<Window> ignore;
  add(c, event(1, 0), "s1", ignore);
  std::vector<WindowerState::Session> again{{"s1", {event(1, 7)}, 1, 3, 0, {kTopic, 1}}};
  CHECK(c.adopt_sessions(std::move(again), 0) == 0);
  CHECK(c.buffered_events() == 1);
}

TEST_CASE("a revoked partition's sessions continue on the new owner: the same records as one pipeline",
          "[handover][unit]") {
  const auto data = keyed_partitions();
  REQUIRE(data.size() == 2);
  MemberSource single(data, {0, 1});
  const auto expect = run_member(single, nullptr);
  REQUIRE(expect.size() > 10);

  // The partition that moves holds the session with every WARN line (the anomalies).
  const int hot = static_cast<int>(std::hash<std::string_view>{}("dfs.DataNode") % 2);
  MemoryStore store;
  MemberSource a(data, {0, 1});
  a.revoke_after = 700;
  a.revoked = hot;
  PipelineStats sa, sb;
  auto got = run_member(a, &store, &sa);
  CHECK(sa.handover_out_partitions == 1);
  CHECK(sa.handover_out_sessions > 0);
  REQUIRE(store.positions.count({kTopic, hot}) == 1);
  const std::int64_t handed_at = store.positions[{kTopic, hot}].offset;
  CHECK(handed_at > 0);
  CHECK(a.stored[hot] == handed_at);  // the offset stored on revoke matches the saved state

  MemberSource b(data, {hot});
  for (auto& [id, body] : run_member(b, &store, &sb)) CHECK(got.emplace(id, body).second);  // no window twice
  CHECK(sb.handover_in_partitions == 1);
  CHECK(sb.handover_in_sessions == sa.handover_out_sessions);
  CHECK(got == expect);

  // Without handover the new owner starts at the committed offset (the oldest line still held)
  // and sees the open sessions from there, while the old owner closes its copies: other records.
  MemberSource a2(data, {0, 1}), b2(data, {hot});
  a2.revoke_after = 700;
  a2.revoked = hot;
  auto naive = run_member(a2, nullptr);
  REQUIRE(a2.stored.count(hot) == 1);
  b2.start[hot] = static_cast<std::size_t>(a2.stored[hot]);
  for (auto& [id, body] : run_member(b2, nullptr)) naive.emplace(id, body);
  CHECK(naive != expect);
}

TEST_CASE("the Kafka state store keeps the newest complete generation of each partition", "[handover][unit]") {
  EmbeddedKafka kafka;
  kafka.create_topic("state", 2);
  KafkaConfig kc;
  kc.group_id = "g-handover";
  HandoverConfig hc;
  hc.enabled = true;
  hc.chunk_bytes = 4096;
  hc.timeout_ms = 10000;
  StateModel model;
  model.describe = [](const std::set<core::TemplateId>& used) {
    CheckpointMeta m;
    m.model_version = "fake-v1";
    for (auto id : used) m.templates.emplace_back(id, "t" + std::to_string(id));
    return m;
  };
  int adapted = 0;
  model.adapt = [&adapted](const CheckpointMeta& m, PipelineCheckpoint&) { adapted += m.model_version == "fake-v1"; };
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
