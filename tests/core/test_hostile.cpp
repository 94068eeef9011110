#include <catch2/catch.hpp>

#include <string>

#include "logguard/core/line_parser.hpp"
#include "test_util.hpp"

using namespace logguard::core;

TEST_CASE("invalid UTF-8 is replaced by U+FFFD and counted", "[hostile]") {
  LineParser p(test::content_config());
  const auto r = p.parse("bad \xff\xfe bytes and \xc3\x28 here");
  CHECK(r.invalid_utf8);
  CHECK(r.template_text == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes and \xEF\xBF\xBD( here");
  CHECK(p.stats().invalid_utf8_lines == 1);
  // Valid multi-byte text is untouched; overlongs and surrogates are not valid.
  CHECK_FALSE(p.parse("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80").invalid_utf8);
  CHECK(p.parse("overlong \xc0\xaf").invalid_utf8);
  CHECK(p.parse("surrogate \xed\xa0\x80").invalid_utf8);
  CHECK(p.parse("truncated \xe2\x82").invalid_utf8);
  CHECK(p.stats().invalid_utf8_lines == 4);
}

TEST_CASE("NUL bytes, control bytes and CR are token separators", "[hostile]") {
  LineParser p(test::content_config());
  const std::string line("a\0b\x01" "c\r", 6);
  const auto r = p.parse(line);
  CHECK(r.template_text == "a b c");
  CHECK(p.parse(std::string("\0\0\0", 3)).template_id != kNoTemplate);
}

TEST_CASE("empty and blank lines are counted and still get a template", "[hostile]") {
  LineParser p(test::hdfs_config());
  const auto a = p.parse("");
  const auto b = p.parse("   \t ");
  const auto c = p.parse("\r");
  CHECK(a.template_id != kNoTemplate);
  CHECK(a.template_id == b.template_id);
  CHECK(b.template_id == c.template_id);
  CHECK(a.template_text.empty());
  CHECK(p.stats().empty_lines == 3);
  CHECK(p.stats().lines == 3);
}

TEST_CASE("a 10 MB line is truncated at max_line_bytes without losing its neighbours", "[hostile]") {
  ParserConfig c = test::hdfs_config();
  c.max_line_bytes = 4096;
  LineParser p(c);
  const std::string before = "081109 203615 148 INFO dfs.X: big line is near 1";
  const std::string after = "081109 203615 148 INFO dfs.X: big line is near 2";
  std::string big = "081109 203615 148 INFO dfs.X: ";
  while (big.size() < 10'000'000) big += "word 12345 \xe2\x82\xac ";
  const auto r0 = p.parse(before);
  const auto r1 = p.parse(big);
  CHECK(r1.truncated);
  CHECK_FALSE(r1.invalid_utf8);  // the cut does not split the 3-byte character
  CHECK(p.last_content().size() <= 4096);
  const auto r2 = p.parse(after);
  CHECK(r0.template_id == r2.template_id);
  CHECK(r2.template_text == "big line is near <*>");
  CHECK(r2.change == ChangeKind::none);
  CHECK(p.stats().truncated_lines == 1);
  CHECK(p.stats().lines == 3);
}

TEST_CASE("the default limit handles a 10 MB single-token line", "[hostile]") {
  LineParser p(test::hdfs_config());
  const std::string big(10'000'000, 'x');
  const auto r = p.parse(big);
  CHECK(r.truncated);
  CHECK(r.template_text.size() == (std::size_t{1} << 20));
  CHECK(p.parse("081109 203615 148 INFO dfs.X: ok").template_id != r.template_id);
}

TEST_CASE("pathological masks input terminates", "[hostile]") {
  LineParser p(test::content_config({{"a", "ipv6", "", "<*>"}, {"b", "ipv4", "", "<*>"}, {"c", "number", "", "<*>"},
                                     {"d", "path", "", "<*>"}, {"e", "url", "", "<*>"}, {"f", "hex", "", "<*>"},
                                     {"g", "datetime", "", "<*>"}, {"h", "mac", "", "<*>"}, {"i", "uuid", "", "<*>"},
                                     {"j", "hdfs_block", "", "<*>"}}));
  std::string s;
  for (int i = 0; i < 20000; ++i) s += ":1.2.";
  CHECK(p.parse(s).template_id != kNoTemplate);
  CHECK(p.parse(std::string(100000, '/')).template_id != kNoTemplate);
  std::string dots, colons, versions;
  for (int i = 0; i < 30000; ++i) {
    dots += "/.";
    colons += "a:";
    versions += "1.";
  }
  CHECK(p.parse(dots).template_id != kNoTemplate);
  CHECK(p.parse(colons).template_id != kNoTemplate);
  CHECK(p.parse(versions + "x").template_id != kNoTemplate);
  std::string schemes;
  for (int i = 0; i < 30000; ++i) schemes += "a.";
  CHECK(p.parse(schemes).template_id != kNoTemplate);
  CHECK(p.parse(std::string(100000, '9')).template_text == "<*>");
}

TEST_CASE("pathological input for the default preset terminates", "[hostile][preset]") {
  ParserConfig c;
  REQUIRE(parser_preset("default", &c));
  LineParser p(c);
  std::string quotes, hosts, dashes, dates, lists, units, brackets, apostrophes;
  for (int i = 0; i < 20000; ++i) {
    quotes += "\"a '";
    hosts += "a.";
    dashes += "a-";
    dates += "Jun ";
    lists += "1.2.3.4,";
    units += "1 KB ";
    brackets += "() ";
    apostrophes += "a'";
  }
  for (const std::string& s : {quotes, hosts + "com:80", dashes, dates, lists, units, brackets, apostrophes,
                               std::string(100000, '"'), std::string(100000, '\''), std::string(100000, ',')}) {
    const auto r = p.parse(s);
    CHECK(r.template_id != kNoTemplate);
    CHECK(p.match(s) == r.template_id);
  }
}
