#include <catch2/catch.hpp>

#include "logguard/core/error.hpp"
#include "logguard/core/line_parser.hpp"
#include "test_util.hpp"

using namespace logguard::core;

namespace {
std::string field(const LineParser& p, std::string_view name) {
  for (const auto& f : p.last_header())
    if (f.name == name) return std::string(f.value);
  return "<missing>";
}
}  // namespace

TEST_CASE("log format splits an HDFS line into header fields and content", "[log_format]") {
  LineParser p(test::hdfs_config());
  const auto r = p.parse("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block "
                         "blk_38865049064139660 terminating");
  CHECK(r.header_matched);
  CHECK(field(p, "Date") == "081109");
  CHECK(field(p, "Time") == "203615");
  CHECK(field(p, "Pid") == "148");
  CHECK(field(p, "Level") == "INFO");
  CHECK(field(p, "Component") == "dfs.DataNode$PacketResponder");
  CHECK(field(p, "Content") == "PacketResponder 1 for block blk_38865049064139660 terminating");
  CHECK(p.last_content() == "PacketResponder 1 for block blk_38865049064139660 terminating");
  CHECK(r.template_text == "PacketResponder <*> for block <*> terminating");
}

TEST_CASE("whitespace runs in the spec match runs of whitespace", "[log_format]") {
  LineParser p(test::hdfs_config());
  const auto r = p.parse("081109   203615\t148 INFO comp:   hello world");
  CHECK(r.header_matched);
  CHECK(field(p, "Time") == "203615");
  CHECK(field(p, "Pid") == "148");
  CHECK(p.last_content() == "hello world");
}

TEST_CASE("the first occurrence of a literal ends a field; content keeps later ones", "[log_format]") {
  LineParser p(test::hdfs_config());
  p.parse("1 2 3 WARN a.b: x: y: z");
  CHECK(field(p, "Component") == "a.b");
  CHECK(p.last_content() == "x: y: z");
}

TEST_CASE("prefix and trailing literals", "[log_format]") {
  ParserConfig c;
  c.log_format = "[<Time>] <Level> <Content> (end)";
  LineParser p(c);
  auto r = p.parse("[12:00:01] INFO started (x) ok (end)");
  CHECK(r.header_matched);
  CHECK(field(p, "Time") == "12:00:01");
  CHECK(p.last_content() == "started (x) ok");
  r = p.parse("12:00:01 INFO started (end)");  // missing '['
  CHECK_FALSE(r.header_matched);
  r = p.parse("[12:00:01] INFO started");  // missing trailer
  CHECK_FALSE(r.header_matched);
}

TEST_CASE("a line that does not fit is parsed whole as content and counted", "[log_format]") {
  LineParser p(test::hdfs_config());
  const auto r = p.parse("garbage without the expected shape");
  CHECK_FALSE(r.header_matched);
  CHECK(r.template_id != kNoTemplate);
  CHECK(p.last_content() == "garbage without the expected shape");
  CHECK(p.last_header().empty());
  CHECK(p.stats().header_mismatches == 1);
  CHECK(p.stats().lines == 1);
  p.parse("081109 203615 148 INFO dfs.X: fits");
  CHECK(p.stats().header_mismatches == 1);
}

TEST_CASE("malformed log formats are rejected naming log_format", "[log_format][config]") {
  for (const char* bad : {"<Date> <Time>", "<Date", "<>", "<A><Content>", "<A> <A> <Content>", "no fields"}) {
    ParserConfig c;
    c.log_format = bad;
    INFO(bad);
    try {
      c.validate();
      FAIL("accepted");
    } catch (const ConfigError& e) {
      CHECK(e.key() == "log_format");
    }
  }
}
