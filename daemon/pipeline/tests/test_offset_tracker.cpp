#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <thread>
#include <vector>

#include "logguard/pipeline/offset_tracker.hpp"

using namespace logguard::daemon;

namespace {
const TopicPartition P0{"logs", 0};
const TopicPartition P1{"logs", 1};
SourcePosition at(const TopicPartition& tp, std::int64_t off) { return SourcePosition{tp, off}; }
}  // namespace

TEST_CASE("committable offset is the lowest offset still held", "[offsets]") {
  OffsetTracker t;
  CHECK(t.committable(P0) == -1);
  for (int i = 10; i < 15; ++i) t.begin(at(P0, i), 1);
  CHECK(t.committable(P0) == 10);
  CHECK(t.held() == 5);

  CHECK(t.release(at(P0, 12)));
  CHECK(t.release(at(P0, 13)));
  CHECK(t.committable(P0) == 10);  // 10 and 11 still held
  CHECK(t.release(at(P0, 10)));
  CHECK(t.committable(P0) == 11);
  CHECK(t.release(at(P0, 11)));
  CHECK(t.committable(P0) == 14);  // 12, 13 were done already
  CHECK(t.release(at(P0, 14)));
  CHECK(t.committable(P0) == 15);  // nothing held: one past the last record
  CHECK(t.held() == 0);
}

TEST_CASE("records with several holders complete on the last release", "[offsets]") {
  OffsetTracker t;
  t.begin(at(P0, 0), 2);
  t.begin(at(P0, 1), 0);  // in no window: done at once
  CHECK(t.committable(P0) == 0);
  CHECK(t.release(at(P0, 0)));
  CHECK(t.committable(P0) == 0);
  CHECK(t.release(at(P0, 0)));
  CHECK(t.committable(P0) == 2);
  CHECK_FALSE(t.release(at(P0, 0)));  // released too often
  CHECK(t.unknown_releases() == 1);
}

TEST_CASE("offset gaps (compaction, transaction markers) do not stall the watermark", "[offsets]") {
  OffsetTracker t;
  t.begin(at(P0, 3), 1);
  t.begin(at(P0, 7), 1);
  t.release(at(P0, 3));
  CHECK(t.committable(P0) == 7);
  t.release(at(P0, 7));
  CHECK(t.committable(P0) == 8);
}

TEST_CASE("take_committable reports each partition only when it moved", "[offsets]") {
  OffsetTracker t;
  t.begin(at(P0, 0), 1);
  t.begin(at(P1, 5), 1);
  auto c = t.take_committable();
  REQUIRE(c.size() == 2);
  CHECK(c[0].tp == P0);
  CHECK(c[0].offset == 0);
  CHECK(c[1].offset == 5);
  CHECK(t.take_committable().empty());
  t.release(at(P1, 5));
  c = t.take_committable();
  REQUIRE(c.size() == 1);
  CHECK(c[0].tp == P1);
  CHECK(c[0].offset == 6);
}

TEST_CASE("forget drops a revoked partition; late releases are counted, not applied", "[offsets]") {
  OffsetTracker t;
  t.begin(at(P0, 0), 1);
  t.begin(at(P1, 0), 1);
  t.forget(P0);
  CHECK(t.held() == 1);
  CHECK(t.committable(P0) == -1);
  CHECK_FALSE(t.release(at(P0, 0)));
  CHECK(t.unknown_releases() == 1);
  CHECK(t.committable(P1) == 0);
}

TEST_CASE("a rewound partition restarts at the re-delivered offset", "[offsets]") {
  OffsetTracker t;
  t.begin(at(P0, 5), 1);
  t.begin(at(P0, 6), 1);
  t.begin(at(P0, 5), 1);  // redelivered from 5
  CHECK(t.rewinds() == 1);
  CHECK(t.held() == 1);
  CHECK(t.committable(P0) == 5);
  CHECK(t.release(at(P0, 5)));
  CHECK(t.committable(P0) == 6);
}

TEST_CASE("random out-of-order completion never commits past an unfinished record", "[offsets]") {
  std::mt19937 rng(42);
  for (int round = 0; round < 20; ++round) {
    OffsetTracker t;
    const int n = 300;
    std::vector<int> holders(n);
    std::vector<SourcePosition> releases;
    for (int i = 0; i < n; ++i) {
      holders[i] = static_cast<int>(rng() % 3);
      t.begin(at(P0, i), static_cast<std::uint32_t>(holders[i]));
      for (int h = 0; h < holders[i]; ++h) releases.push_back(at(P0, i));
    }
    std::shuffle(releases.begin(), releases.end(), rng);
    std::vector<int> left = holders;
    for (const auto& r : releases) {
      REQUIRE(t.release(r));
      --left[static_cast<std::size_t>(r.offset)];
      // Expected: the first offset with work left, or n.
      auto first = std::find_if(left.begin(), left.end(), [](int x) { return x > 0; });
      REQUIRE(t.committable(P0) == first - left.begin());
    }
    CHECK(t.committable(P0) == n);
    CHECK(t.held() == 0);
  }
}

TEST_CASE("offset tracker is safe across producer and completer threads", "[offsets]") {
  OffsetTracker t;
  const int n = 20000;
  std::vector<std::int64_t> done;
  std::thread consumer([&] {
    for (int i = 0; i < n; ++i) t.begin(at(P0, i), 1);
  });
  consumer.join();
  std::thread a([&] {
    for (int i = 0; i < n; i += 2) t.release(at(P0, i));
  });
  std::thread b([&] {
    for (int i = 1; i < n; i += 2) t.release(at(P0, i));
  });
  a.join();
  b.join();
  CHECK(t.committable(P0) == n);
  CHECK(t.unknown_releases() == 0);
}
