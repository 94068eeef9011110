// Session handover between consumer-group members (issue #6): the windower gives up and takes
// over sessions by partition, and the pipeline saves a revoked partition's sessions and
// continues them on the new owner (the same anomaly records as one uninterrupted pipeline).
// The Kafka state store itself: kafka/tests/test_state_store.cpp.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "logguard/pipeline/file_source.hpp"
#include "logguard/pipeline/pipeline.hpp"
#include "logguard/pipeline/session_key.hpp"
#include "logguard/pipeline/windower.hpp"
#include "pipeline_fakes.hpp"

using namespace logguard;
using namespace logguard::daemon;
using testing::event;
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
struct MemoryStore : StateStore {
  std::map<TopicPartition, SourcePosition> positions;
  std::map<TopicPartition, std::vector<WindowerState::Session>> sessions;
  int saves = 0;
  core::Expected<std::uint64_t> save(const PipelineCheckpoint& p) override {
    for (const auto& pos : p.positions) {
      positions[pos.tp] = pos;
      sessions[pos.tp].clear();
    }
    for (const auto& s : p.windows.sessions) sessions[s.tp].push_back(s);
    ++saves;
    return std::uint64_t{1};
  }
  core::Expected<PipelineCheckpoint> load(const std::vector<TopicPartition>& tps) override {
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
  PipelineOptions options;
  if (store) options.checkpoints = {store, 3600000, false, true};
  Pipeline p(pipeline_config(), src, fake_map, scorer, sink, testing::fake_template_text, std::move(options));
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
