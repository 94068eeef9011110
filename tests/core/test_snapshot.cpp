#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/core/line_parser.hpp"
#include "test_util.hpp"

using namespace logguard::core;

namespace {
std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream f(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) lines.push_back(l);
  return lines;
}

std::string save(const LineParser& p) {
  std::ostringstream out;
  p.save(out);
  return out.str();
}

LineParser load(const std::string& bytes, ParserConfig c = test::hdfs_config()) {
  std::istringstream in(bytes);
  return LineParser::load(in, std::move(c), "test.snap");
}

std::string load_error(const std::string& bytes, ParserConfig c = test::hdfs_config()) {
  try {
    load(bytes, std::move(c));
  } catch (const LoadError& e) {
    return e.what();
  }
  return "<loaded>";
}

struct Seen {
  TemplateId id;
  ChangeKind change;
  std::string text;
  bool operator==(const Seen&) const = default;
};
}  // namespace

TEST_CASE("a restored parser continues exactly like an uninterrupted one", "[snapshot]") {
  const auto lines = read_lines(std::string(LOGGUARD_SHARED_DATA) + "/hdfs/raw-5k/HDFS_5k.log");
  REQUIRE(lines.size() > 4000);
  for (std::size_t max_clusters : {std::size_t{0}, std::size_t{8}}) {
    INFO("max_clusters " << max_clusters);
    ParserConfig c = test::hdfs_config();
    c.drain.max_clusters = max_clusters;
    LineParser whole(c);
    LineParser first(c);
    const std::size_t cut = lines.size() / 3;
    for (std::size_t i = 0; i < cut; ++i) {
      whole.parse(lines[i]);
      first.parse(lines[i]);
    }
    const std::string bytes = save(first);
    LineParser resumed = load(bytes, c);
    CHECK(resumed.templates() == first.templates());
    CHECK(resumed.cluster_count() == first.cluster_count());
    CHECK(resumed.stats().lines == first.stats().lines);
    // Saving the restored parser gives the same bytes.
    CHECK(save(resumed) == bytes);
    for (std::size_t i = cut; i < lines.size(); ++i) {
      const auto a = whole.parse(lines[i]);
      const auto b = resumed.parse(lines[i]);
      const Seen sa{a.template_id, a.change, std::string(a.template_text)};
      const Seen sb{b.template_id, b.change, std::string(b.template_text)};
      INFO(lines[i]);
      REQUIRE(sa == sb);
    }
    CHECK(whole.templates() == resumed.templates());
    CHECK(whole.stats().clusters_evicted == resumed.stats().clusters_evicted);
    CHECK(save(whole) == save(resumed));
    if (max_clusters != 0) CHECK(whole.stats().clusters_evicted > 0);
  }
}

TEST_CASE("an empty parser round-trips", "[snapshot]") {
  LineParser p(test::hdfs_config());
  LineParser q = load(save(p));
  CHECK(q.cluster_count() == 0);
  CHECK(q.parse("081109 203615 148 INFO dfs.X: hello").template_id == 1);
}

TEST_CASE("corrupt, truncated and foreign snapshots throw LoadError naming the source", "[snapshot]") {
  LineParser p(test::hdfs_config());
  for (const auto& l : read_lines(std::string(LOGGUARD_SHARED_DATA) + "/loghub-2k/HDFS/HDFS_2k.log")) p.parse(l);
  const std::string good = save(p);
  REQUIRE(load_error(good) == "<loaded>");

  SECTION("every truncation") {
    for (std::size_t n = 0; n < good.size(); n += (n < 64 ? 1 : 97)) {
      const std::string msg = load_error(good.substr(0, n));
      INFO(n);
      CHECK(msg.find("test.snap") != std::string::npos);
    }
  }
  SECTION("flipped bytes") {
    for (std::size_t i = 0; i < good.size(); i += 53) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ 0x5a);
      const std::string msg = load_error(bad);
      INFO(i);
      CHECK(msg.find("test.snap") != std::string::npos);
    }
  }
  SECTION("foreign data") {
    CHECK(load_error("").find("test.snap") != std::string::npos);
    CHECK(load_error("hello world, not a snapshot at all......").find("bad magic") != std::string::npos);
    CHECK(load_error(std::string(4096, '\0')).find("test.snap") != std::string::npos);
  }
  SECTION("a snapshot of another configuration") {
    ParserConfig other = test::hdfs_config();
    other.drain.similarity_threshold = 0.6;
    CHECK(load_error(good, other).find("different parser configuration") != std::string::npos);
  }
  SECTION("trailing garbage") {
    CHECK(load_error(good + "x").find("test.snap") != std::string::npos);
  }
}
