#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "logguard/core/error.hpp"
#include "logguard/pipeline/batcher.hpp"
#include "logguard/pipeline/session_key.hpp"

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
  SECTION("literal-prefix search finds the same leftmost matches as an unanchored search") {
    // Prefix occurrences that do not start a match, overlaps, anchors, and patterns without a
    // common literal prefix (case folding, alternation) that take the plain RE2 loop.
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"(blk_-?\d+)", "blk_blk_-12 blk_- blk_x blk_7blk_8 tail blk_"},
        {R"(blk_(-?\d+))", "blk_blk_-12 blk_- blk_7blk_8"},
        {R"(^blk_\d+)", "x blk_1"},
        {R"(^blk_\d+)", "blk_1 blk_2"},
        {R"(\bblk_\d+)", "ablk_1 blk_2"},
        {R"(ab+c)", "abbbc abc ab abbd"},
        {R"((?i)blk_\d+)", "BLK_1 blk_2"},
        {R"(blk_\d+|part-\d+)", "part-3 blk_4"},
    };
    const std::vector<std::vector<std::string>> want = {
        {"blk_-12", "blk_7", "blk_8"}, {"-12", "7", "8"}, {}, {"blk_1"}, {"blk_2"},
        {"abbbc", "abc"}, {"BLK_1", "blk_2"}, {"part-3", "blk_4"},
    };
    for (std::size_t i = 0; i < cases.size(); ++i) {
      CAPTURE(cases[i].first, cases[i].second);
      c.key_pattern = cases[i].first;
      SessionKeyExtractor x(c);
      Record line;
      line.line = cases[i].second;
      x.extract(line, k);
      CHECK(std::vector<std::string>(k.begin(), k.end()) == want[i]);
    }
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

namespace {
// Every match of `pattern` (its group if it has one), by a plain unanchored RE2 loop.
std::vector<std::string> re2_keys(const std::string& pattern, const std::string& line) {
  RE2 re(pattern);
  const bool group = re.NumberOfCapturingGroups() == 1;
  re2::StringPiece in(line), m[2];
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= in.size() && re.Match(in, pos, in.size(), RE2::UNANCHORED, m, group ? 2 : 1)) {
    const re2::StringPiece& k = group ? m[1] : m[0];
    if (!k.empty()) out.emplace_back(k.data(), k.size());
    const std::size_t end = static_cast<std::size_t>(m[0].data() - in.data()) + m[0].size();
    pos = m[0].empty() ? end + 1 : end;
  }
  return out;
}
}  // namespace

TEST_CASE("session keys equal a plain RE2 search on random lines", "[session_key]") {
  // Patterns taking the built-in matcher, the prefix + anchored RE2 path, and the plain loop.
  const std::vector<std::string> patterns = {
      R"(blk_-?\d+)", R"(blk_(-?\d+))", R"(b(lk)_\d*)", R"(blk_[0-9a-]+)", R"(k_\w+)", R"(b-?l?k)",
      R"(blk_\d+\.?\d*)", R"(l\d?\d)", R"(blk_\d+1)", R"(bl*k)", R"(\bblk_\d+)", R"(blk_\d{2})",
      R"(blk_\d+|-\d+)", R"((?i)BLK_\d+)", R"(^b\w+)", R"(k_[^ ]+)", R"(\d+)"};
  const std::string alphabet = "blk_-0123456789. aBK";
  std::mt19937 rng(20261129);
  WindowConfig c;
  std::vector<std::string_view> k;
  for (const auto& p : patterns) {
    c.key_pattern = p;
    SessionKeyExtractor x(c);
    std::size_t mismatches = 0, keys = 0;
    for (int n = 0; n < 3000; ++n) {
      Record r;
      std::string line;
      const std::size_t len = rng() % 40;
      for (std::size_t i = 0; i < len; ++i) {
        if (rng() % 6 == 0) line += "blk_";
        line += alphabet[rng() % alphabet.size()];
      }
      r.line = line;
      x.extract(r, k);
      const std::vector<std::string> got(k.begin(), k.end());
      const auto want = re2_keys(p, line);
      keys += want.size();
      if (got != want && ++mismatches <= 3) {
        CAPTURE(p, line);
        CHECK(got == want);
      }
    }
    CAPTURE(p);
    CHECK(mismatches == 0);
    CHECK(keys > 100);
  }
}
