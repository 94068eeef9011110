// At-least-once through the real wiring: a Pipeline (consumer, scorer and sink threads,
// windower -> offset tracker -> batcher -> scorer -> sink) fed by a source of generated lines on
// three partitions, on a manual clock, with a sink whose delivery reports come late and out of
// order. Every time the pipeline stores offsets, the source checks the invariant: no stored
// offset passes a line that an undelivered anomaly record still contains.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "logguard/pipeline/anomaly_record.hpp"
#include "logguard/pipeline/clock.hpp"
#include "logguard/pipeline/pipeline.hpp"
#include "pipeline_fakes.hpp"

using namespace logguard;
using namespace logguard::daemon;

namespace {

constexpr int kLines = 600;
constexpr int kPartitions = 3;

// What the three threads share: the positions of every anomalous window by record id (scorer
// thread), the records written and not yet delivered (sink thread), and what the source saw.
struct Ledger {
  std::mutex mu;
  std::map<std::string, std::vector<SourcePosition>> anomalous;  // record id -> the window's events
  std::map<std::string, std::vector<SourcePosition>> in_flight;  // written, not yet delivered
  std::map<std::int32_t, std::int64_t> stored;                   // last stored offset per partition
  int checks = 0;            // offset stores checked
  int checks_in_flight = 0;  // of which while anomaly records were undelivered
  int violations = 0;
};

// Generated lines: HDFS-like block ids (six sessions), every 9th line without one; partition
// i % 3, offset i / 3. Each record moves the clock on by 1..15 ms (input time passes).
class GeneratedSource : public Source {
 public:
  GeneratedSource(ManualClock& clock, Ledger& ledger) : clock_(clock), ledger_(ledger) {}
  // At most 3 records per poll: many ticks, so offsets are stored (and checked) often.
  PollStatus poll(std::vector<Record>& out, std::size_t max, std::chrono::milliseconds) override {
    if (next_ >= kLines) return PollStatus::end_of_stream;
    if (paused_) return PollStatus::ok;  // backpressure: nothing is fetched
    for (std::size_t n = 0; n < std::min<std::size_t>(max, 3) && next_ < kLines; ++n, ++next_) {
      clock_.advance(1 + static_cast<std::int64_t>(rng_() % 15));
      Record r;
      r.pos = SourcePosition{TopicPartition{"logs", next_ % kPartitions}, next_ / kPartitions};
      r.line = (next_ % 9 == 0) ? "no session" : "blk_" + std::to_string(rng_() % 6) + " op";
      r.timestamp_ms = clock_.wall_ms();
      out.push_back(std::move(r));
    }
    return PollStatus::ok;
  }
  void pause() override { paused_ = true; }
  void resume() override { paused_ = false; }
  void store_offsets(std::span<const SourcePosition> offsets) override {
    std::lock_guard lock(ledger_.mu);
    for (const auto& o : offsets) ledger_.stored[o.tp.partition] = o.offset;
    ++ledger_.checks;
    if (!ledger_.in_flight.empty()) ++ledger_.checks_in_flight;
    for (const auto& [id, positions] : ledger_.in_flight)
      for (const auto& p : positions)
        if (ledger_.stored[p.tp.partition] > p.offset) ++ledger_.violations;
  }

 private:
  ManualClock& clock_;
  Ledger& ledger_;
  std::mt19937 rng_{7};
  int next_ = 0;
  bool paused_ = false;
};

// The fake scorer, noting the events of each anomalous window under its record id.
class NotingScorer : public Scorer {
 public:
  explicit NotingScorer(Ledger& ledger) : ledger_(ledger) {}
  core::Expected<std::vector<Verdict>> score(std::span<const Window* const> batch) override {
    auto verdicts = inner_.score(batch);
    if (!verdicts) return verdicts;
    std::lock_guard lock(ledger_.mu);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (!(*verdicts)[i].anomalous) continue;
      auto& positions = ledger_.anomalous[anomaly_record_id(*batch[i], model_version())];
      // Events before `context` were released by an earlier window (a suspended or evicted
      // session's last events, kept as the model's context): this record does not hold them.
      for (std::size_t e = batch[i]->context; e < batch[i]->events.size(); ++e) positions.push_back(batch[i]->events[e].pos);
    }
    return verdicts;
  }
  std::string model_version() const override { return inner_.model_version(); }

 private:
  testing::FakeScorer inner_;
  Ledger& ledger_;
};

// Holds every write; each poll() delivers a random half of those waiting, in random order.
class ShufflingSink : public Sink {
 public:
  explicit ShufflingSink(Ledger& ledger) : ledger_(ledger) {}
  void write(std::string_view, std::string_view id, std::string_view, Done done) override {
    std::lock_guard lock(ledger_.mu);
    ledger_.in_flight[std::string(id)] = ledger_.anomalous.at(std::string(id));
    waiting_.emplace_back(std::string(id), std::move(done));
    ++written;
  }
  void poll(std::chrono::milliseconds) override { deliver(waiting_.size() / 2); }
  std::size_t flush(std::chrono::milliseconds) override {
    deliver(waiting_.size());
    return 0;
  }
  int written = 0;

 private:
  void deliver(std::size_t n) {
    std::shuffle(waiting_.begin(), waiting_.end(), rng_);
    for (std::size_t i = 0; i < n; ++i) {
      auto [id, done] = std::move(waiting_.back());
      waiting_.pop_back();
      {
        std::lock_guard lock(ledger_.mu);
        ledger_.in_flight.erase(id);  // before the report: from now on its lines may be committed
      }
      done(true, {});
    }
  }
  Ledger& ledger_;
  std::vector<std::pair<std::string, Done>> waiting_;
  std::mt19937 rng_{11};
};

// 1 in 25 lines is template 7 (anomalous), chosen by its position.
core::TemplateId sparse_warnings(const Record& r) {
  const auto h = static_cast<std::uint64_t>(r.pos.offset * kPartitions + r.pos.tp.partition) * 2654435761u;
  return (h >> 8) % 25 == 0 ? 7 : 1;
}

}  // namespace

TEST_CASE("offsets never pass an undelivered anomaly", "[pipeline][offsets]") {
  const auto mode = GENERATE(WindowConfig::Mode::session, WindowConfig::Mode::count);
  const std::size_t stride = GENERATE(2u, 4u);
  CAPTURE(to_string(mode), stride);
  PipelineConfig c;
  c.window.mode = mode;
  c.window.length = 4;
  c.window.stride = stride;
  c.window.max_open_sessions = 4;
  c.window.idle_timeout_ms = 200;
  c.batcher = BatcherConfig{3, 20};
  c.queue_capacity = 8;
  c.tick_ms = 1;

  Ledger ledger;
  ManualClock clock;
  GeneratedSource source(clock, ledger);
  NotingScorer scorer(ledger);
  ShufflingSink sink(ledger);
  PipelineOptions options;
  options.clock = &clock;
  Pipeline p(c, source, sparse_warnings, scorer, sink, testing::fake_template_text, std::move(options));
  std::atomic<bool> stop{false};
  REQUIRE(p.run(stop).has_value());

  CHECK(ledger.violations == 0);
  CHECK(ledger.checks_in_flight > 0);
  CHECK(sink.written > 0);
  CHECK(p.stats().anomalies == static_cast<std::uint64_t>(sink.written));
  CHECK(p.stats().delivered == p.stats().anomalies);
  CHECK(p.stats().records == static_cast<std::uint64_t>(kLines));
  CHECK(p.held_records() == 0);
  for (int part = 0; part < kPartitions; ++part) CHECK(ledger.stored[part] == kLines / kPartitions);
}
