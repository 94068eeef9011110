// The wired pipeline (consumer, scorer and sink threads) replaying the HDFS sample through
// a FileSource with a fake mapper and scorer: every window scored, every anomaly delivered
// as a JSON record, every offset stored — also under backpressure and on scorer failure.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "logguard/pipeline/anomaly_record.hpp"
#include "logguard/pipeline/clock.hpp"
#include "logguard/pipeline/file_source.hpp"
#include "logguard/pipeline/pipeline.hpp"
#include "pipeline_fakes.hpp"

using namespace logguard;
using namespace logguard::daemon;
using namespace std::chrono_literals;
using testing::CapturingSink;
using testing::FakeScorer;
using testing::fake_map;

namespace {

const std::string kSample = std::string(LOGGUARD_SOURCE_DIR) + "/data/samples/HDFS_2k.log";

// Sessions (block ids) named by at least one WARN line: the expected anomalies when every
// session fits in one window.
std::set<std::string> warn_sessions() {
  std::ifstream in(kSample);
  std::set<std::string> s;
  const std::regex blk(R"(blk_-?\d+)");
  for (std::string line; std::getline(in, line);) {
    if (line.find(" WARN ") == std::string::npos) continue;
    for (std::sregex_iterator it(line.begin(), line.end(), blk), end; it != end; ++it) s.insert(it->str());
  }
  return s;
}

PipelineConfig config() {
  PipelineConfig c;
  c.window.length = 1000;  // HDFS sessions in the sample are shorter: one window per session
  c.window.idle_timeout_ms = 0;
  c.batcher.max_batch = 8;
  c.batcher.max_wait_ms = 5;
  return c;
}

const auto template_text = testing::fake_template_text;

}  // namespace

TEST_CASE("pipeline config validation names nested keys", "[pipeline]") {
  PipelineConfig c;
  c.window.length = 0;
  try {
    c.validate();
    FAIL("accepted length 0");
  } catch (const core::ConfigError& e) {
    CHECK(e.key() == "window.length");
  }
  c = {};
  c.batcher.max_batch = 0;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("batcher.max_batch"));
  c = {};
  c.queue_capacity = 0;
  CHECK_THROWS_WITH(c.validate(), Catch::Contains("queue_capacity"));
}

TEST_CASE("replaying HDFS through the pipeline reports every anomalous session once", "[pipeline]") {
  FileSource source(kSample, 1 << 16);
  FakeScorer scorer;
  CapturingSink sink;
  Pipeline p(config(), source, fake_map, scorer, sink, template_text);
  std::atomic<bool> stop{false};
  auto r = p.run(stop);
  REQUIRE(r.has_value());

  const auto expected = warn_sessions();
  REQUIRE(expected.size() > 10);
  CHECK(p.stats().records == 2000);
  CHECK(p.stats().anomalies == expected.size());
  CHECK(p.stats().delivered == expected.size());
  CHECK(sink.ids.size() == expected.size());  // ids are distinct per window
  CHECK(p.stats().windows == p.windower_stats().windows);
  CHECK(p.held_records() == 0);
  CHECK(source.stored_offset() == 2000);

  std::set<std::string> sessions;
  for (const auto& text : sink.records) {
    auto j = nlohmann::json::parse(text);
    sessions.insert(j["session"].get<std::string>());
    CHECK(j["schema"] == "logguard.anomaly/v3");
    CHECK(j["model_version"] == "fake-v1");
    CHECK(j["close_reason"] == "end_of_input");
    CHECK(j["id"].get<std::string>().size() == 16);
    REQUIRE_FALSE(j["failing"].empty());
    const auto pos = j["failing"][0]["position"].get<std::size_t>();
    CHECK(j["template_ids"][pos] == 7);
    CHECK(j["templates"]["7"] == "WARN <*>");
    CHECK(j["raw_lines"][0]["line"].get<std::string>().find(" WARN ") != std::string::npos);
    CHECK(j["first"]["offset"].get<std::int64_t>() <= j["last"]["offset"].get<std::int64_t>());
  }
  CHECK(sessions == expected);
}

TEST_CASE("a full scorer queue pauses the source instead of growing memory", "[pipeline]") {
  FileSource source(kSample, 1 << 16);
  FakeScorer scorer;
  CapturingSink sink;
  PipelineConfig c = config();
  c.window.length = 2;  // many windows
  c.queue_capacity = 1;
  c.batcher.max_batch = 1;
  std::unique_ptr<Pipeline> p;
  // The first batch waits until the consumer has paused (safety deadline only).
  scorer.gate = [&] {
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (p->stats().pauses == 0 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    scorer.gate = nullptr;
  };
  p = std::make_unique<Pipeline>(c, source, fake_map, scorer, sink, template_text);
  std::atomic<bool> stop{false};
  REQUIRE(p->run(stop).has_value());
  CHECK(p->stats().pauses > 0);
  CHECK(p->stats().records == 2000);
  CHECK(p->stats().dropped_windows == 0);
  CHECK(p->held_records() == 0);
  CHECK(source.stored_offset() == 2000);
}

TEST_CASE("drop_oldest evicts windows, counts them, and still completes every offset", "[pipeline]") {
  FileSource source(kSample, 1 << 16);
  FakeScorer scorer;
  CapturingSink sink;
  PipelineConfig c = config();
  c.window.length = 2;
  c.queue_capacity = 1;
  c.batcher.max_batch = 1;
  c.overflow = Overflow::drop_oldest;
  std::unique_ptr<Pipeline> p;
  scorer.gate = [&] {
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (p->stats().dropped_windows == 0 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    scorer.gate = nullptr;
  };
  p = std::make_unique<Pipeline>(c, source, fake_map, scorer, sink, template_text);
  std::atomic<bool> stop{false};
  REQUIRE(p->run(stop).has_value());
  CHECK(p->stats().dropped_windows > 0);
  CHECK(p->stats().pauses == 0);
  CHECK(p->held_records() == 0);
  CHECK(source.stored_offset() == 2000);
}

TEST_CASE("a scorer failure stops the pipeline without committing unscored lines", "[pipeline]") {
  FileSource source(kSample, 1 << 16);
  FakeScorer scorer;
  scorer.fail_after = 2;
  CapturingSink sink;
  PipelineConfig c = config();
  c.window.length = 5;
  c.batcher.max_batch = 4;
  c.tick_ms = 1;
  Pipeline p(c, source, fake_map, scorer, sink, template_text);
  std::atomic<bool> stop{false};
  auto r = p.run(stop);
  REQUIRE_FALSE(r.has_value());
  CHECK_THAT(r.error().message, Catch::Contains("scorer: device lost"));
  CHECK(source.stored_offset() < 2000);
}

TEST_CASE("anomaly record ids are deterministic", "[pipeline]") {
  Window w;
  w.key = "blk_1";
  for (int i = 0; i < 3; ++i) {
    Event e;
    e.pos = SourcePosition{TopicPartition{"logs", 1}, 10 + i};
    w.events.push_back(e);
  }
  const auto id = anomaly_record_id(w, "m1");
  CHECK(id == anomaly_record_id(w, "m1"));
  CHECK(id != anomaly_record_id(w, "m2"));
  Window other = w;
  other.events.back().pos.offset = 99;
  CHECK(id != anomaly_record_id(other, "m1"));
  Window resequenced = w;
  resequenced.sequence = 5;  // the same lines after a restart: the same id
  CHECK(id == anomaly_record_id(resequenced, "m1"));
}

namespace {

// Serves `batches` of `per_batch` lines, each poll taking `delay` of the manual clock (a
// consumer that is busy or behind): the first and the last batch belong to session blk_1, the
// others to blk_2. Then polls that return nothing within their timeout (caught up) until
// `quiet` has passed; then end of stream. Nothing sleeps: the clock moves by what each poll
// would have taken.
class PacedSource : public Source {
 public:
  PacedSource(ManualClock& clock, int batches, std::size_t per_batch, std::chrono::milliseconds delay,
              std::chrono::milliseconds quiet)
      : clock_(clock), batches_(batches), per_batch_(per_batch), delay_(delay), quiet_(quiet) {}
  PollStatus poll(std::vector<Record>& out, std::size_t max_records, std::chrono::milliseconds timeout) override {
    if (served_ < batches_) {
      clock_.advance(delay_.count());
      for (std::size_t i = 0; i < std::min(per_batch_, max_records); ++i) {
        Record r;
        const bool first_session = served_ == 0 || served_ == batches_ - 1;
        r.line = "081109 203518 143 INFO dfs.DataNode: line " + std::to_string(offset_) + " of " +
                 (first_session ? "blk_1" : "blk_2");
        r.pos = SourcePosition{TopicPartition{"t", 0}, offset_++};
        r.timestamp_ms = 1;  // produced long ago: a full poll of these is a backlog
        out.push_back(std::move(r));
      }
      if (++served_ == batches_) caught_up_at_ = clock_.steady_ms();
      return PollStatus::ok;
    }
    if (clock_.steady_ms() - caught_up_at_ >= quiet_.count()) return PollStatus::end_of_stream;
    clock_.advance(std::clamp(timeout, 1ms, 10ms).count());  // waited for input that did not come
    return PollStatus::ok;
  }
  void pause() override {}
  void resume() override {}
  void store_offsets(std::span<const SourcePosition>) override {}

 private:
  ManualClock& clock_;
  int batches_, served_ = 0;
  std::size_t per_batch_;
  std::chrono::milliseconds delay_, quiet_;
  std::int64_t offset_ = 0;
  std::int64_t caught_up_at_ = 0;
};

std::vector<std::string> close_reasons(const CapturingSink& sink) {
  std::vector<std::string> r;
  for (const auto& text : sink.records) r.push_back(nlohmann::json::parse(text)["close_reason"].get<std::string>());
  return r;
}

// Every event anomalous, so every window becomes a record.
core::TemplateId warn_everything(const Record&) { return 7; }

// Runs `c` over a PacedSource (see there) on a manual clock; checks that every line was read
// and returns the close reasons of the records, in order.
std::vector<std::string> paced_run(const PipelineConfig& c, int batches, std::size_t per_batch,
                                   std::chrono::milliseconds delay, std::chrono::milliseconds quiet) {
  ManualClock clock;
  PacedSource source(clock, batches, per_batch, delay, quiet);
  FakeScorer scorer;
  CapturingSink sink;
  PipelineOptions options;
  options.clock = &clock;
  Pipeline p(c, source, warn_everything, scorer, sink, template_text, std::move(options));
  std::atomic<bool> stop{false};
  REQUIRE(p.run(stop).has_value());
  CHECK(p.stats().records == static_cast<std::uint64_t>(batches) * per_batch);
  return close_reasons(sink);
}

}  // namespace

TEST_CASE("idle time counts only while the consumer is caught up", "[pipeline][idle]") {
  PipelineConfig c = config();
  c.window.idle_timeout_ms = 40;
  c.window.end_timeout_ms = 0;  // idle ends the session
  c.poll_batch = 10;
  SECTION("behind: full batches 60 ms apart do not close a session") {
    // blk_1 gets no line for three polls of 60 ms each (> the idle timeout), but every poll
    // is full: more input is waiting, so its next line is not late (it is in the backlog).
    CHECK(paced_run(c, 5, 10, 60ms, 0ms) == std::vector<std::string>{"end_of_input", "end_of_input"});
  }
  SECTION("caught up: a quiet input closes the session on idle") {
    // partial batches, then 300 ms of nothing
    CHECK(paced_run(c, 5, 3, 0ms, 300ms) == std::vector<std::string>{"idle", "idle"});
  }
}

TEST_CASE("a quiet stream previews its open count window, which is judged whole later", "[pipeline][idle]") {
  PipelineConfig c = config();
  c.window.mode = WindowConfig::Mode::count;
  c.window.length = 20;  // more than the 15 lines served: the window never fills
  c.window.idle_timeout_ms = 40;
  c.poll_batch = 10;
  auto run = [&](std::int64_t end_timeout_ms) {
    c.window.end_timeout_ms = end_timeout_ms;
    return paced_run(c, 5, 3, 0ms, 300ms);  // 15 lines, then 300 ms of nothing
  };
  // Held: previewed once when the stream went quiet, judged whole at the end of input.
  CHECK(run(1000) == std::vector<std::string>{"pending", "end_of_input"});
  // Held until end_timeout_ms, then cut.
  CHECK(run(100) == std::vector<std::string>{"pending", "idle"});
  // end_timeout_ms 0: idle cuts the window.
  CHECK(run(0) == std::vector<std::string>{"idle"});
}

TEST_CASE("a quiet pipe does not block the file source: poll returns after its wait", "[pipeline][source]") {
  // stdin fed by `tail -f` is a pipe like this FIFO; the consumer thread must get control back
  // (to close idle sessions and to see SIGTERM) while no line comes.
  const auto dir = std::filesystem::temp_directory_path() / ("lg-fifo-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "in.fifo").string();
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  const int w = ::open(path.c_str(), O_RDWR);  // a writer, so that opening for reading does not block
  REQUIRE(w >= 0);
  auto put = [w](std::string_view s) { REQUIRE(::write(w, s.data(), s.size()) == static_cast<ssize_t>(s.size())); };
  {
    FileSource src(path, 1 << 16);
    std::vector<Record> out;
    CHECK(src.poll(out, 100, 20ms) == Source::PollStatus::ok);
    CHECK(out.empty());
    put("first line\nsecond ha");
    CHECK(src.poll(out, 100, 20ms) == Source::PollStatus::ok);  // the partial line waits
    REQUIRE(out.size() == 1);
    CHECK(out[0].line == "first line");
    out.clear();
    put("lf\n");
    CHECK(src.poll(out, 100, 20ms) == Source::PollStatus::ok);
    REQUIRE(out.size() == 1);
    CHECK(out[0].line == "second half");
    CHECK(out[0].pos.offset == 1);
    out.clear();
    put("no newline at the end");
    ::close(w);  // the last writer: end of input
    CHECK(src.poll(out, 100, 20ms) == Source::PollStatus::ok);
    REQUIRE(out.size() == 1);
    CHECK(out[0].line == "no newline at the end");
    out.clear();
    CHECK(src.poll(out, 100, 20ms) == Source::PollStatus::end_of_stream);
  }
  std::filesystem::remove_all(dir);
}
