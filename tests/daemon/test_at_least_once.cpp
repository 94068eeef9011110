// The pure-logic stages wired the way the daemon wires them (windower -> offset tracker ->
// batcher -> scorer -> sink with asynchronous, out-of-order delivery reports), checking the
// at-least-once invariant at every step: no committable offset passes a line that an
// undelivered anomaly record still contains.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "logguard/daemon/batcher.hpp"
#include "logguard/daemon/offset_tracker.hpp"
#include "logguard/daemon/session_key.hpp"
#include "logguard/daemon/windower.hpp"
#include "pipeline_fakes.hpp"

using namespace logguard;
using namespace logguard::daemon;
using testing::FakeScorer;

namespace {

struct Undelivered {
  InOrderReleaser::Ticket ticket;
  std::vector<SourcePosition> positions;  // every event of the anomalous window
};

}  // namespace

TEST_CASE("offsets never pass an undelivered anomaly", "[pipeline][offsets]") {
  const auto mode = GENERATE(WindowConfig::Mode::session, WindowConfig::Mode::count);
  const std::size_t stride = GENERATE(2u, 4u);
  WindowConfig wc;
  wc.mode = mode;
  wc.length = 4;
  wc.stride = stride;
  wc.max_open_sessions = 4;
  wc.idle_timeout_ms = 200;
  Windower windower(wc);
  SessionKeyExtractor keyer(wc);
  Batcher batcher(BatcherConfig{3, 20});
  FakeScorer scorer;
  OffsetTracker tracker;
  InOrderReleaser releaser(tracker);
  std::vector<Undelivered> in_flight;
  std::mt19937 rng(7);
  std::uint64_t anomalies = 0;

  auto check_invariant = [&] {
    for (const auto& u : in_flight)
      for (const auto& p : u.positions) REQUIRE(tracker.committable(p.tp) <= p.offset);
  };
  auto deliver_some = [&] {
    // The sink reports deliveries in any order.
    std::shuffle(in_flight.begin(), in_flight.end(), rng);
    const std::size_t n = in_flight.size() / 2;
    for (std::size_t i = 0; i < n; ++i) {
      releaser.complete(in_flight.back().ticket);
      in_flight.pop_back();
      check_invariant();
    }
  };
  auto sink_batch = [&](std::vector<Window> batch) {
    std::vector<const Window*> to_score;
    for (const auto& w : batch)
      if (!w.release_only) to_score.push_back(&w);
    auto verdicts = scorer.score(to_score);
    REQUIRE(verdicts.has_value());
    std::size_t v = 0;
    for (const auto& w : batch) {
      const bool anomalous = !w.release_only && (*verdicts)[v++].anomalous;
      std::vector<SourcePosition> rel;
      for (std::size_t i = 0; i < w.released; ++i) rel.push_back(w.events[i].pos);
      auto ticket = releaser.add(std::move(rel), anomalous);
      if (anomalous) {
        ++anomalies;
        Undelivered u{ticket, {}};
        for (const auto& e : w.events) u.positions.push_back(e.pos);
        in_flight.push_back(std::move(u));
      }
      check_invariant();
    }
  };
  auto to_batcher = [&](std::vector<Window>& windows, std::int64_t now) {
    for (auto& w : windows)
      if (auto b = batcher.add(std::move(w), now)) sink_batch(std::move(*b));
    windows.clear();
    if (auto b = batcher.tick(now)) sink_batch(std::move(*b));
  };

  const int n = 600;
  std::vector<Window> windows;
  std::vector<std::string_view> keys;
  std::int64_t now = 0;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.pos = SourcePosition{TopicPartition{"logs", i % 3}, i / 3};
    r.line = (i % 9 == 0) ? "no session" : "blk_" + std::to_string(rng() % 6) + " op";
    keys.clear();
    keyer.extract(r, keys);
    Event e;
    e.pos = r.pos;
    e.template_id = (rng() % 25 == 0) ? 7 : 1;
    now += 1 + static_cast<std::int64_t>(rng() % 15);
    windower.tick(now, windows);
    const auto holders = static_cast<std::uint32_t>(windower.add(e, keys, now, windows));
    tracker.begin(r.pos, holders);  // before any of its windows can complete
    to_batcher(windows, now);
    if (i % 10 == 0) deliver_some();
    check_invariant();
  }
  windower.flush(windows);
  to_batcher(windows, now);
  if (auto b = batcher.flush()) sink_batch(std::move(*b));
  if (!in_flight.empty()) CHECK(tracker.held() > 0);  // undelivered anomalies hold their lines
  while (!in_flight.empty()) {
    releaser.complete(in_flight.back().ticket);
    in_flight.pop_back();
    check_invariant();
  }

  CHECK(anomalies > 0);
  CHECK(scorer.calls > 0);
  CHECK(tracker.held() == 0);
  CHECK(releaser.waiting() == 0);
  CHECK(tracker.unknown_releases() == 0);
  for (int p = 0; p < 3; ++p) CHECK(tracker.committable(TopicPartition{"logs", p}) == n / 3);
}
