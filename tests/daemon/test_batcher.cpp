#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/daemon/batcher.hpp"
#include "logguard/daemon/session_key.hpp"

using namespace logguard;
using namespace logguard::daemon;

namespace {
Window win(std::string key, bool release_only = false) {
  Window w;
  w.key = std::move(key);
  w.release_only = release_only;
  return w;
}
std::vector<std::string> keys(const std::vector<Window>& b) {
  std::vector<std::string> k;
  for (const auto& w : b) k.push_back(w.key);
  return k;
}
}  // namespace

TEST_CASE("batcher config validation names the key", "[batcher]") {
  BatcherConfig c;
  c.max_batch = 0;
  try {
    c.validate();
    FAIL("accepted max_batch 0");
  } catch (const core::ConfigError& e) {
    CHECK(e.key() == "max_batch");
  }
  c = {};
  c.max_wait_ms = -1;
  CHECK_THROWS_AS(Batcher(c), core::ConfigError);
}

TEST_CASE("batcher releases a batch when full", "[batcher]") {
  Batcher b(BatcherConfig{3, 100});
  CHECK_FALSE(b.add(win("a"), 0));
  CHECK_FALSE(b.add(win("r", true), 0));  // release-only: rides along, not counted
  CHECK_FALSE(b.add(win("b"), 1));
  auto batch = b.add(win("c"), 2);
  REQUIRE(batch);
  CHECK(keys(*batch) == std::vector<std::string>{"a", "r", "b", "c"});
  CHECK(b.pending() == 0);
  CHECK_FALSE(b.next_deadline());
}

TEST_CASE("batcher releases a partial batch after max_wait_ms of its oldest window", "[batcher]") {
  Batcher b(BatcherConfig{10, 50});
  b.add(win("a"), 100);
  b.add(win("b"), 130);
  REQUIRE(b.next_deadline());
  CHECK(*b.next_deadline() == 150);
  CHECK_FALSE(b.tick(149));
  auto batch = b.tick(150);
  REQUIRE(batch);
  CHECK(keys(*batch) == std::vector<std::string>{"a", "b"});
  b.add(win("c"), 200);  // a new batch starts its own clock
  CHECK(*b.next_deadline() == 250);
  CHECK(keys(*b.flush()) == std::vector<std::string>{"c"});
  CHECK_FALSE(b.flush());
}

TEST_CASE("release-only windows alone do not wait", "[batcher]") {
  Batcher b(BatcherConfig{10, 50});
  b.add(win("r", true), 0);
  CHECK(*b.next_deadline() == 0);
  REQUIRE(b.tick(0));
}

TEST_CASE("session keys come from every pattern match or the message key", "[session_key]") {
  WindowConfig c;
  std::vector<std::string_view> k;
  Record r;
  r.line = "081109 203615 148 INFO dfs.DataNode$PacketResponder: Received block blk_-1608999687919862906 "
           "and blk_38865049064139660 of size 91178";
  r.key = "host-1";

  SECTION("pattern (HDFS block ids)") {
    SessionKeyExtractor x(c);
    x.extract(r, k);
    REQUIRE(k.size() == 2);
    CHECK(k[0] == "blk_-1608999687919862906");
    CHECK(k[1] == "blk_38865049064139660");
    r.line = "no block here";
    x.extract(r, k);
    CHECK(k.empty());
  }
  SECTION("pattern with a capturing group keys by the group") {
    c.key_pattern = R"(blk_(-?\d+))";
    SessionKeyExtractor x(c);
    x.extract(r, k);
    REQUIRE(k.size() == 2);
    CHECK(k[0] == "-1608999687919862906");
  }
  SECTION("message key") {
    c.key_from = WindowConfig::KeyFrom::message_key;
    SessionKeyExtractor x(c);
    x.extract(r, k);
    REQUIRE(k.size() == 1);
    CHECK(k[0] == "host-1");
  }
  SECTION("count windows have no keys") {
    c.mode = WindowConfig::Mode::count;
    SessionKeyExtractor x(c);
    x.extract(r, k);
    CHECK(k.empty());
  }
  SECTION("bad patterns are config errors naming key_pattern") {
    c.key_pattern = "blk_(";
    try {
      SessionKeyExtractor x(c);
      FAIL("accepted a bad regex");
    } catch (const core::ConfigError& e) {
      CHECK(e.key() == "key_pattern");
    }
    c.key_pattern = "(a)(b)";
    CHECK_THROWS_AS(SessionKeyExtractor(c), core::ConfigError);
  }
}
