// Checkpoints: the file format (round trip, every kind of damage is a LoadError naming the
// file) and the pipeline's restart from one (the same windows as an uninterrupted run).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <unistd.h>

#include "logguard/pipeline/checkpoint.hpp"
#include "logguard/pipeline/clock.hpp"
#include "logguard/pipeline/file_source.hpp"
#include "logguard/pipeline/file_state_store.hpp"
#include "logguard/pipeline/pipeline.hpp"
#include "pipeline_fakes.hpp"

using namespace logguard;
using namespace logguard::daemon;
using testing::CapturingSink;
using testing::FakeScorer;
using testing::fake_map;

namespace {

const std::string kSample = std::string(LOGGUARD_SOURCE_DIR) + "/data/samples/HDFS_2k.log";

std::string temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("logguard-ckpt-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d.string();
}

Event event(std::uint32_t id, const std::string& topic, std::int32_t part, std::int64_t off, std::string line) {
  Event e;
  e.template_id = id;
  e.pos = {{topic, part}, off};
  e.timestamp_ms = 1700000000000 + off;
  e.line = std::move(line);
  return e;
}

void same_events(const std::vector<Event>& a, const std::vector<Event>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].template_id == b[i].template_id);
    CHECK(a[i].pos.tp == b[i].pos.tp);
    CHECK(a[i].pos.offset == b[i].pos.offset);
    CHECK(a[i].timestamp_ms == b[i].timestamp_ms);
    CHECK(a[i].line == b[i].line);
  }
}

// Hands out the first `limit` lines of a file, then asks the pipeline to stop (a SIGTERM
// mid-stream).
class StoppingSource : public Source {
 public:
  StoppingSource(std::size_t limit, std::atomic<bool>& stop) : inner_(kSample, 1 << 16), limit_(limit), stop_(stop) {}
  PollStatus poll(std::vector<Record>& out, std::size_t max, std::chrono::milliseconds t) override {
    if (given_ >= limit_) {
      stop_ = true;
      return PollStatus::ok;
    }
    const std::size_t before = out.size();
    auto s = inner_.poll(out, std::min(max, limit_ - given_), t);
    given_ += out.size() - before;
    return s;
  }
  void pause() override { inner_.pause(); }
  void resume() override { inner_.resume(); }
  void store_offsets(std::span<const SourcePosition> o) override { inner_.store_offsets(o); }

 private:
  FileSource inner_;
  std::size_t limit_, given_ = 0;
  std::atomic<bool>& stop_;
};

PipelineConfig config(WindowConfig::Mode mode) {
  PipelineConfig c;
  c.window.mode = mode;
  c.window.key_pattern = R"(dfs\.[A-Za-z]+)";  // sessions per component: long, sliding
  c.window.length = 8;
  c.window.stride = 5;
  c.window.idle_timeout_ms = 0;
  c.batcher.max_batch = 4;
  c.batcher.max_wait_ms = 2;
  c.poll_batch = 64;
  return c;
}

const auto text = testing::fake_template_text;

// The sessions a sink received records of.
std::set<std::string> anomalous_sessions(const CapturingSink& s) {
  std::set<std::string> out;
  for (const auto& [id, bodies] : s.bodies) out.insert(nlohmann::json::parse(*bodies.begin())["session"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("checkpoint files round-trip", "[checkpoint]") {
  CheckpointMeta m{"msmass-0123abcd", "session", 1700000000123, std::string("parser\0state", 12), {{1, "a <*>"}, {7, "b"}}};
  PipelineCheckpoint p;
  p.positions = {{{"logs", 0}, 120}, {{"logs", 1}, 7}, {{"other", 3}, 0}};
  p.windows.sessions.push_back({"blk_1", {event(1, "logs", 0, 100, "line one"), event(7, "logs", 1, 5, "")}, 1, 3, 250});
  p.windows.sessions.push_back({"blk_2", {}, 0, 0, 0});
  p.windows.stream = {event(1, "other", 3, 0, std::string(70000, 'x'))};
  p.windows.window_open = true;
  p.windows.window_start = -60000;
  p.windows.stream_unscored = 1;
  p.windows.stream_sequence = 9;
  p.windows.stream_idle_ms = 17;

  const std::string dir = temp_dir("roundtrip");
  CHECK_FALSE(read_checkpoint(dir).has_value());
  auto bytes = write_checkpoint(dir, m, p);
  REQUIRE(bytes.has_value());
  CHECK(*bytes == std::filesystem::file_size(checkpoint_path(dir)));
  CHECK_FALSE(std::filesystem::exists(checkpoint_path(dir) + ".tmp"));
  auto c = read_checkpoint(dir);
  REQUIRE(c.has_value());
  CHECK(c->meta.model_version == m.model_version);
  CHECK(c->meta.window_mode == "session");
  CHECK(c->meta.created_ms == m.created_ms);
  CHECK(c->meta.parser_snapshot == m.parser_snapshot);
  CHECK(c->meta.templates == m.templates);
  REQUIRE(c->pipeline.positions.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(c->pipeline.positions[i].tp == p.positions[i].tp);
    CHECK(c->pipeline.positions[i].offset == p.positions[i].offset);
  }
  REQUIRE(c->pipeline.windows.sessions.size() == 2);
  const auto& s = c->pipeline.windows.sessions[0];
  CHECK(s.key == "blk_1");
  CHECK(s.unscored == 1);
  CHECK(s.next_sequence == 3);
  CHECK(s.idle_ms == 250);
  same_events(s.events, p.windows.sessions[0].events);
  same_events(c->pipeline.windows.stream, p.windows.stream);
  CHECK(c->pipeline.windows.window_open);
  CHECK(c->pipeline.windows.window_start == -60000);
  CHECK(c->pipeline.windows.stream_sequence == 9);
  CHECK(c->pipeline.windows.stream_idle_ms == 17);
  std::filesystem::remove_all(dir);
}

TEST_CASE("damaged checkpoints are rejected naming the file", "[checkpoint]") {
  PipelineCheckpoint p;
  p.windows.sessions.push_back({"blk_1", {event(1, "logs", 0, 100, "line one")}, 1, 0, 0});
  const std::string good = encode_checkpoint(CheckpointMeta{"v", "session", 0, "", {}}, p);
  REQUIRE_NOTHROW(decode_checkpoint(good, "ck"));
  auto rejects = [&](std::string bytes, const char* why) {
    try {
      decode_checkpoint(bytes, "/state/checkpoint.lgc");
      FAIL("accepted a damaged checkpoint: " << why);
    } catch (const core::LoadError& e) {
      CHECK_THAT(e.what(), Catch::Contains("/state/checkpoint.lgc") && Catch::Contains(why));
    }
  };
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x20;
  rejects(flipped, "checksum");
  rejects(good.substr(0, good.size() - 3), "checksum");
  rejects(good.substr(0, 10), "");
  rejects("not a checkpoint at all, but long enough", "bad magic");
  std::string newer = good;
  newer[8] = 5;  // format version
  rejects(newer, "format version 5");
}

TEST_CASE("remembered evicted sessions go through a checkpoint; without any the file stays version 3",
          "[checkpoint]") {
  PipelineCheckpoint p;
  p.windows.sessions.push_back({"blk_1", {event(1, "logs", 0, 100, "line one")}, 1, 0, 0});
  const std::string v3 = encode_checkpoint(CheckpointMeta{"v", "session", 0, "", {}}, p);
  CHECK(static_cast<int>(v3[8]) == 3);  // builds that read up to version 3 still read it
  p.windows.evicted.push_back({0x1234567890abcdefULL, 30, 40, 2, 3});
  p.windows.evicted.push_back({42, 0, 0, 1, 0});
  p.windows.evicted_context = {7, 8, 9};
  const std::string v4 = encode_checkpoint(CheckpointMeta{"v", "session", 0, "", {}}, p);
  CHECK(static_cast<int>(v4[8]) == 4);
  const auto back = decode_checkpoint(v4, "ck").pipeline.windows;
  REQUIRE(back.evicted.size() == 2);
  CHECK(back.evicted[0].key_hash == 0x1234567890abcdefULL);
  CHECK((back.evicted[0].start == 30 && back.evicted[0].judged == 40 && back.evicted[0].next_sequence == 2));
  CHECK(back.evicted[0].context == 3);
  CHECK(back.evicted_context == std::vector<std::uint32_t>{7, 8, 9});
  CHECK((back.evicted[1].key_hash == 42 && back.evicted[1].context == 0));
  CHECK(back.sessions.size() == 1);
  CHECK(decode_checkpoint(v3, "ck").pipeline.windows.evicted.empty());
}

TEST_CASE("a windower restored from its state continues the sessions it had evicted", "[checkpoint][windower]") {
  WindowConfig c;
  c.length = 6;
  c.stride = 3;
  c.idle_timeout_ms = 1000;
  c.max_open_sessions = 1;
  c.max_evicted_sessions = 10;
  Windower w(c);
  std::vector<Window> out;
  auto add = [&](Windower& x, std::int64_t offset, std::string_view key) {
    std::string_view keys[] = {key};
    Event e = event(offset, "logs", 0, offset, "line");
    e.template_id = static_cast<core::TemplateId>(offset % 5 + 1);
    x.add(e, keys, 0, out);
  };
  for (std::int64_t i = 0; i < 4; ++i) add(w, i, "a");
  add(w, 10, "b");  // evicts a
  REQUIRE(w.evicted_sessions() == 1);
  PipelineCheckpoint p;
  p.windows = w.state(0);
  const auto file = decode_checkpoint(encode_checkpoint(CheckpointMeta{"v", "session", 0, "", {}}, p), "ck");
  Windower r(c);
  r.restore(file.pipeline.windows, 0);
  CHECK(r.evicted_sessions() == 1);
  out.clear();
  add(r, 20, "a");  // a comes back after the restart: continues after its events 0..3
  CHECK(r.stats().sessions_returned == 1);
  r.flush(out, CloseReason::end_of_input);
  bool seen = false;
  for (const auto& x : out)
    if (x.key == "a") {
      seen = true;
      CHECK(x.start == 1);    // its last length - stride = 3 events as context
      CHECK(x.context == 3);
      CHECK(x.judged == 4);   // every model window up to its event 3 was judged at the eviction
      CHECK(x.events.back().pos.offset == 20);
    }
  CHECK(seen);
}

TEST_CASE("a suspended session keeps its position through a checkpoint", "[checkpoint]") {
  PipelineCheckpoint p;
  WindowerState::Session s{"blk_1", {event(1, "logs", 0, 100, ""), event(2, "logs", 0, 101, "")}, 0, 3, 700};
  s.positioned = true;
  s.suspended = true;
  s.start = 41;
  s.judged = 43;
  s.context = 2;
  p.windows.sessions.push_back(s);
  const auto c = decode_checkpoint(encode_checkpoint(CheckpointMeta{"v", "session", 0, "", {}}, p), "ck");
  REQUIRE(c.pipeline.windows.sessions.size() == 1);
  const auto& got = c.pipeline.windows.sessions[0];
  CHECK((got.positioned && got.suspended && got.start == 41 && got.judged == 43 && got.context == 2));
  CHECK((got.next_sequence == 3 && got.idle_ms == 700 && got.events.size() == 2));
  // A context longer than the events is a damaged file.
  p.windows.sessions[0].context = 3;
  CHECK_THROWS_WITH(decode_checkpoint(encode_checkpoint(CheckpointMeta{"v", "session", 0, "", {}}, p), "ck"),
                    Catch::Contains("context"));
}

TEST_CASE("version 1 checkpoints (FNV-1a checksum) are still read", "[checkpoint]") {
  PipelineCheckpoint p;
  p.positions.push_back({{"logs", 0}, 101});
  p.windows.sessions.push_back({"blk_1", {event(1, "logs", 0, 100, "line one")}, 1, 0, 0});
  std::string bytes = encode_checkpoint(CheckpointMeta{"v", "session", 0, "", {}}, p);
  REQUIRE(bytes[8] == 3);  // the current version
  // Version 1's layout: a session without version 3's position (u8 suspended, u64 start,
  // judged, context: 25 bytes after key, unscored, next_sequence and idle_ms).
  const std::size_t at = bytes.find("blk_1") + 5 + 3 * 8;
  REQUIRE(bytes[at] == 0);
  bytes.erase(at, 25);
  // Version field 1, FNV-1a 64 of every byte before the checksum.
  bytes[8] = 1;
  const std::size_t body = bytes.size() - 8;
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < body; ++i) {
    h ^= static_cast<unsigned char>(bytes[i]);
    h *= 0x100000001b3ULL;
  }
  for (std::size_t i = 0; i < 8; ++i) bytes[body + i] = static_cast<char>((h >> (8 * i)) & 0xff);
  const auto c = decode_checkpoint(bytes, "v1");
  REQUIRE(c.pipeline.windows.sessions.size() == 1);
  CHECK(c.pipeline.windows.sessions[0].events[0].line == "line one");
  CHECK(c.pipeline.positions[0].offset == 101);
  bytes[body / 2] ^= 0x20;
  CHECK_THROWS_WITH(decode_checkpoint(bytes, "v1"), Catch::Contains("checksum"));
}

TEST_CASE("a pipeline restarted from its checkpoint publishes what an uninterrupted run does", "[checkpoint][pipeline]") {
  const auto mode = GENERATE(WindowConfig::Mode::session, WindowConfig::Mode::count);
  const bool flush_at_stop = GENERATE(false, true);
  const std::size_t stop_after = GENERATE(333u, 1500u);
  CAPTURE(to_string(mode), flush_at_stop, stop_after);

  // Uninterrupted.
  CapturingSink ref_sink;
  {
    FileSource source(kSample, 1 << 16);
    FakeScorer scorer;
    Pipeline p(config(mode), source, fake_map, scorer, ref_sink, text);
    std::atomic<bool> stop{false};
    REQUIRE(p.run(stop).has_value());
  }
  REQUIRE(ref_sink.bodies.size() > 10);

  // Stopped after `stop_after` lines, checkpointed, restarted from the file's first line.
  const std::string dir = temp_dir("restart");
  CapturingSink sink;
  std::uint64_t checkpoints = 0;
  {
    std::atomic<bool> stop{false};
    StoppingSource source(stop_after, stop);
    FakeScorer scorer;
    FileStateStore store(dir, to_string(mode), testing::fixed_state_model("fake-v1"));
    PipelineOptions options;
    options.checkpoints = {&store, 3'600'000, flush_at_stop};
    Pipeline p(config(mode), source, fake_map, scorer, sink, text, std::move(options));
    REQUIRE(p.run(stop).has_value());
    checkpoints = p.stats().checkpoints;
    CHECK(p.stats().records == stop_after);
  }
  CHECK(checkpoints == 1);
  auto c = read_checkpoint(dir);
  REQUIRE(c.has_value());
  CHECK(c->meta.model_version == "fake-v1");
  CHECK(c->meta.window_mode == to_string(mode));
  CHECK(c->meta.model_version == "fake-v1");
  CHECK(c->meta.window_mode == to_string(mode));
  REQUIRE(c->pipeline.positions.size() == 1);
  CHECK(c->pipeline.positions[0].offset == static_cast<std::int64_t>(stop_after));
  if (flush_at_stop) CHECK(c->pipeline.windows.sessions.empty());
  else CHECK_FALSE(c->pipeline.windows.sessions.empty());
  {
    FileSource source(kSample, 1 << 16);
    FakeScorer scorer;
    PipelineOptions options;
    options.restore = std::move(c->pipeline);
    Pipeline p(config(mode), source, fake_map, scorer, sink, text, std::move(options));
    std::atomic<bool> stop{false};
    REQUIRE(p.run(stop).has_value());
    CHECK(p.stats().redelivered == stop_after);
    CHECK(p.stats().records == 2000 - stop_after);
    CHECK(p.held_records() == 0);
    CHECK(source.stored_offset() == 2000);
  }
  for (const auto& [id, bodies] : sink.bodies) CHECK(bodies.size() == 1);  // duplicates are identical
  if (!flush_at_stop) {
    // Sessions continued across the restart: exactly the same records.
    std::set<std::string> ref_ids, ids;
    for (const auto& [id, b] : ref_sink.bodies) ref_ids.insert(id);
    for (const auto& [id, b] : sink.bodies) ids.insert(id);
    CHECK(ids == ref_ids);
  } else {
    // Sessions were closed at the stop and judged in two parts: the same sessions are anomalous.
    CHECK(anomalous_sessions(sink) == anomalous_sessions(ref_sink));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a stop suspends the open sessions: the last checkpoint keeps them and they continue", "[checkpoint][pipeline]") {
  const std::size_t stop_after = GENERATE(333u, 1500u);
  CAPTURE(stop_after);
  PipelineConfig cfg = config(WindowConfig::Mode::session);
  cfg.window.idle_timeout_ms = 600'000;  // no session idles during the test: only the stop pauses them
  cfg.window.end_timeout_ms = 6'000'000;
  CapturingSink ref_sink;
  {
    FileSource source(kSample, 1 << 16);
    FakeScorer scorer;
    Pipeline p(cfg, source, fake_map, scorer, ref_sink, text);
    std::atomic<bool> stop{false};
    REQUIRE(p.run(stop).has_value());
  }
  const std::string dir = temp_dir("suspend-restart");
  CapturingSink sink;
  {
    std::atomic<bool> stop{false};
    StoppingSource source(stop_after, stop);
    FakeScorer scorer;
    FileStateStore store(dir, "session", testing::fixed_state_model("fake-v1"));
    PipelineOptions options;
    options.checkpoints = {&store, 3'600'000, true};
    Pipeline p(cfg, source, fake_map, scorer, sink, text, std::move(options));
    REQUIRE(p.run(stop).has_value());
  }
  auto c = read_checkpoint(dir);
  REQUIRE(c.has_value());
  const auto& saved = c->pipeline.windows.sessions;
  REQUIRE_FALSE(saved.empty());
  for (const auto& s : saved) {
    CHECK(s.suspended);
    CHECK(s.unscored == 0);
    CHECK(s.context == s.events.size());
    for (const auto& e : s.events) CHECK(e.line.empty());
  }
  {
    FileSource source(kSample, 1 << 16);
    FakeScorer scorer;
    PipelineOptions options;
    options.restore = std::move(c->pipeline);
    Pipeline p(cfg, source, fake_map, scorer, sink, text, std::move(options));
    std::atomic<bool> stop{false};
    REQUIRE(p.run(stop).has_value());
    CHECK(p.stats().records == 2000 - stop_after);
    CHECK(p.held_records() == 0);  // restored context is not held: it was released before the stop
    CHECK(source.stored_offset() == 2000);
    CHECK(p.windower_stats().sessions_resumed > 0);
  }
  CHECK(anomalous_sessions(sink) == anomalous_sessions(ref_sink));
  std::filesystem::remove_all(dir);
}

namespace {

// The sample's lines, then nothing (but never the end) until the pipeline is stopped. Time
// (a manual clock) passes only once the lines are read: each empty poll moves it by its wait.
class EndlessSource : public Source {
 public:
  explicit EndlessSource(ManualClock& clock) : inner_(kSample, 1 << 16), clock_(clock) {}
  PollStatus poll(std::vector<Record>& out, std::size_t max, std::chrono::milliseconds t) override {
    if (!eof_ && inner_.poll(out, max, t) == PollStatus::end_of_stream) eof_ = true;
    if (eof_) {
      clock_.advance(std::clamp<std::int64_t>(t.count(), 1, 5));
      std::this_thread::yield();
    }
    return PollStatus::ok;
  }
  void pause() override {}
  void resume() override {}
  void store_offsets(std::span<const SourcePosition> o) override { inner_.store_offsets(o); }

 private:
  FileSource inner_;
  ManualClock& clock_;
  bool eof_ = false;
};

}  // namespace

TEST_CASE("a periodic checkpoint waits for the windows in flight while the consumer goes on", "[checkpoint][pipeline][async]") {
  std::mutex mu;
  std::condition_variable cv;
  bool prepared = false, released = false, job_ran = false, job_saw_released = false;
  FakeScorer scorer;
  scorer.gate = [&] {  // no batch is scored (so no window delivered) until the test releases them
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return released; });
  };
  ManualClock clock;
  EndlessSource source(clock);
  CapturingSink sink;
  PipelineConfig c = config(WindowConfig::Mode::session);
  c.tick_ms = 1;
  const std::string dir = temp_dir("periodic");
  // The first checkpoint comes 200 ms (of the manual clock) after the 2,000 lines were read and
  // windows handed to the (blocked) scorer, so windows are in flight at its copy.
  std::atomic<bool> stop{false};
  testing::HookStore store;
  store.on_prepare = [&](PipelineCheckpoint ck) -> CheckpointJob {
    {
      std::lock_guard lock(mu);
      if (prepared)  // later checkpoints: written only once stopping (the time runs fast here)
        return [&dir, &stop, ck = std::move(ck)]() -> core::Expected<std::uint64_t> {
          if (!stop) return std::uint64_t{0};
          return write_checkpoint(dir, CheckpointMeta{"fake-v1", "session", 0, "", {}}, ck);
        };
      prepared = true;  // consumer thread, at the checkpoint moment
    }
    cv.notify_all();
    return [&, ck = std::move(ck)]() -> core::Expected<std::uint64_t> {
      {
        std::lock_guard lock(mu);
        if (!job_ran) job_saw_released = released;
        job_ran = true;
      }
      cv.notify_all();
      return write_checkpoint(dir, CheckpointMeta{"fake-v1", "session", 0, "", {}}, ck);
    };
  };
  PipelineOptions options;
  options.clock = &clock;
  options.checkpoints = {&store, 200, false};
  Pipeline p(c, source, fake_map, scorer, sink, text, std::move(options));
  bool run_ok = false;
  std::thread runner([&] { run_ok = p.run(stop).has_value(); });
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return prepared; }));
    // The scorer holds the first windows: the job must not run while they are in flight
    // (looked at for 300 ms; a job that does not wait runs within microseconds).
    CHECK_FALSE(cv.wait_for(lock, std::chrono::milliseconds(300), [&] { return job_ran; }));
    released = true;
  }
  cv.notify_all();
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return job_ran; }));
  }
  CHECK(job_saw_released);
  while (p.stats().checkpoints == 0) std::this_thread::yield();
  CHECK(p.stats().windows > 0);
  stop = true;
  runner.join();
  CHECK(run_ok);
  CHECK(p.stats().checkpoints >= 2);  // periodic one(s) and the last one
  CHECK(p.stats().checkpoint_failures == 0);
  auto file = read_checkpoint(dir);
  REQUIRE(file.has_value());
  CHECK(file->pipeline.positions.at(0).offset == 2000);
}
