#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "logguard/core/csv.hpp"
#include "cli_test_support.hpp"
#include "logguard/cli/cli.hpp"

namespace fs = std::filesystem;
using namespace logguard::daemon;

namespace {

using test::cli;

// Scratch directory named after this test file.
struct TempDir : test::TempDir {
  TempDir() : test::TempDir("logguard-cli") {}
};

const char* kConfig = R"(
parser:
  log_format: "<Date> <Time> <Pid> <Level> <Component>: <Content>"
  masks:
    - {name: block, builtin: hdfs_block}
    - {name: ip, builtin: ipv4}
    - {name: num, builtin: number}
)";

std::vector<std::vector<std::string>> rows_of(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::size_t pos = 0;
  std::vector<std::string> f;
  while (logguard::core::csv::next_record(text, pos, f)) rows.push_back(f);
  return rows;
}

}  // namespace

TEST_CASE("logguard parse writes one CSV row per input line, in order", "[cli]") {
  TempDir t;
  const auto cfg = t.file("c.yaml", kConfig);
  const auto in = t.file("in.log",
                         "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating\r\n"
                         "081109 203807 222 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block blk_-6952295868487656571 terminating\r\n"
                         "not a header line, \"quoted\"\n"
                         "\n"
                         "081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864");
  const auto out = (t.path / "out.csv").string();
  REQUIRE(cli({"parse", "--config", cfg, "--input", in, "--output", out, "--quiet"}) == kOk);
  const auto rows = rows_of(t.read("out.csv"));
  REQUIRE(rows.size() == 6);
  CHECK(rows[0] == std::vector<std::string>{"LineId", "EventId", "EventTemplate"});
  CHECK(rows[1][0] == "1");
  CHECK(rows[5][0] == "5");
  CHECK(rows[1][1] == rows[2][1]);  // same template for both PacketResponder lines
  CHECK(rows[1][2] == "PacketResponder <*> for block <*> terminating");
  CHECK(rows[3][2] == "not a header line, \"quoted\"");
  CHECK(rows[5][2].find("blockMap updated: <*> is added to <*> size <*>") != std::string::npos);
}

TEST_CASE("logguard parse --with-params adds the variable values", "[cli]") {
  TempDir t;
  const auto cfg = t.file("c.yaml", kConfig);
  const auto in = t.file("in.log",
                         "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_123 terminating\n");
  const auto out = (t.path / "out.csv").string();
  REQUIRE(cli({"parse", "-c", cfg, "-i", in, "-o", out, "--with-params", "-q"}) == kOk);
  const auto rows = rows_of(t.read("out.csv"));
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].back() == "Parameters");
  CHECK(rows[1][3] == R"(["1","blk_123"])");
}

TEST_CASE("logguard parse snapshots continue with the same ids", "[cli]") {
  TempDir t;
  const auto cfg = t.file("c.yaml", kConfig);
  const auto a = t.file("a.log", "x: alpha 1\nx: beta two 2\n");
  const auto b = t.file("b.log", "x: beta two 3\nx: alpha 4\nx: gamma\n");
  const auto ab = t.file("ab.log", "x: alpha 1\nx: beta two 2\nx: beta two 3\nx: alpha 4\nx: gamma\n");
  const auto snap = (t.path / "s.snap").string();
  REQUIRE(cli({"parse", "-c", cfg, "-i", a, "-o", (t.path / "a.csv").string(), "--save-snapshot", snap, "-q"}) == kOk);
  REQUIRE(cli({"parse", "-c", cfg, "-i", b, "-o", (t.path / "b.csv").string(), "--load-snapshot", snap, "-q"}) == kOk);
  REQUIRE(cli({"parse", "-c", cfg, "-i", ab, "-o", (t.path / "ab.csv").string(), "-q"}) == kOk);
  auto split = rows_of(t.read("a.csv"));
  const auto second = rows_of(t.read("b.csv"));
  const auto whole = rows_of(t.read("ab.csv"));
  REQUIRE(whole.size() == 6);
  REQUIRE(split.size() == 3);
  REQUIRE(second.size() == 4);
  for (int i = 0; i < 2; ++i) CHECK(split[1 + i][1] == whole[1 + i][1]);
  for (int i = 0; i < 3; ++i) {
    CHECK(second[1 + i][1] == whole[3 + i][1]);
    CHECK(second[1 + i][2] == whole[3 + i][2]);
  }
}

TEST_CASE("logguard parse without --config uses the default preset; --log-format sets the header", "[cli]") {
  TempDir t;
  const auto in = t.file("in.log",
                         "2024-01-02 10:00:01 INFO conn: connected to db.example.com:5432 in 12 ms\n"
                         "2024-01-02 10:00:02 INFO conn: connected to db2.example.com:5432 in 7 ms\n");
  const auto out = (t.path / "out.csv").string();
  REQUIRE(cli({"parse", "--log-format", "<Date> <Time> <Level> <Component>: <Content>", "-i", in, "-o", out, "-q"}) ==
          kOk);
  const auto rows = rows_of(t.read("out.csv"));
  REQUIRE(rows.size() == 3);
  CHECK(rows[1][2] == "connected to <*> in <*>");
  CHECK(rows[2][1] == rows[1][1]);
  // Without a log format the header is content too; its date and time are masked.
  REQUIRE(cli({"parse", "-i", in, "-o", out, "-q"}) == kOk);
  CHECK(rows_of(t.read("out.csv"))[2][2] == "<*> <*> INFO conn: connected to <*> in <*>");
  // A config file can start from the preset.
  const auto cfg = t.file("p.yaml", "parser:\n  preset: default\n  log_format: \"<Date> <Time> <Level> <Component>: <Content>\"\n");
  REQUIRE(cli({"parse", "-c", cfg, "-i", in, "-o", out, "-q"}) == kOk);
  CHECK(rows_of(t.read("out.csv"))[1][2] == "connected to <*> in <*>");
}

TEST_CASE("logguard exit codes", "[cli]") {
  TempDir t;
  const auto cfg = t.file("c.yaml", kConfig);
  const auto in = t.file("in.log", "hello\n");
  CHECK(cli({}) == kUsageError);
  CHECK(cli({"nosuchcommand"}) == kUsageError);
  CHECK(cli({"parse", "--bogus"}) == kUsageError);
  CHECK(cli({"parse", "--log-format", "<Date> <NoContent>", "-i", in, "-o", "-"}) == kConfigError);
  CHECK(cli({"parse", "-c", cfg, "--bogus"}) == kUsageError);
  CHECK(cli({"parse", "-c", (t.path / "missing.yaml").string(), "-i", in, "-o", "-"}) == kConfigError);
  CHECK(cli({"parse", "-c", t.file("bad.yaml", "parser:\n  drian: {}\n"), "-i", in, "-o", "-"}) == kConfigError);
  CHECK(cli({"parse", "-c", cfg, "-i", (t.path / "missing.log").string(), "-o", "-"}) == kLoadError);
  CHECK(cli({"parse", "-c", cfg, "-i", in, "-o", (t.path / "o.csv").string(), "-q", "--load-snapshot",
             t.file("bad.snap", "definitely not a snapshot")}) == kLoadError);
  CHECK(cli({"--version"}) == kOk);
}

TEST_CASE("logguard noise writes reworded variants after the templates; --max-senses narrows the synonyms", "[cli]") {
  TempDir t;
  const auto in = t.file("t.csv",
                         "EventId,EventTemplate\n"
                         "1,<*>Served block<*>to<*>\n"
                         "2,<*>Got exception while serving<*>to<*>\n");
  auto variants = [&](const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> args = {"noise", "--templates", in, "--out-templates", (t.path / name).string(),
                                      "--variants", "20", "--seed", "3"};
    args.insert(args.end(), extra.begin(), extra.end());
    REQUIRE(cli(args) == kOk);
    const auto rows = rows_of(t.read(name));
    REQUIRE(rows.size() > 3);
    CHECK(rows[0] == std::vector<std::string>{"EventId", "EventTemplate", "SourceId"});
    CHECK(rows[1] == std::vector<std::string>{"1", "<*>Served block<*>to<*>", "1"});
    std::set<std::string> out;
    for (std::size_t i = 3; i < rows.size(); ++i) {
      CHECK(std::stoi(rows[i][0]) == static_cast<int>(i));  // new ids after the largest input id
      CHECK((rows[i][2] == "1" || rows[i][2] == "2"));
      CHECK(rows[i][1].find("<*>") != std::string::npos);  // variables kept
      out.insert(rows[i][1]);
    }
    return out;
  };
  const auto all = variants("all.csv", {"--max-senses", "0"});
  const auto two = variants("two.csv", {});
  CHECK(variants("two-again.csv", {}) == two);  // deterministic in --seed
  const auto one = variants("one.csv", {"--max-senses", "1"});
  // Fewer senses, fewer synonyms to draw from: fewer distinct words across the variants.
  auto words = [](const std::set<std::string>& v) {
    std::set<std::string> w;
    for (const auto& s : v) {
      std::istringstream in(s);
      for (std::string x; in >> x;) w.insert(x);
    }
    return w.size();
  };
  CHECK(words(one) <= words(two));
  CHECK(words(two) <= words(all));
  CHECK(words(one) < words(all));
}
