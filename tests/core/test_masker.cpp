#include <catch2/catch.hpp>

#include "logguard/core/error.hpp"
#include "logguard/core/line_parser.hpp"
#include "test_util.hpp"

using namespace logguard::core;

namespace {
// Template text of `line` under one built-in mask (content only, fresh parser).
std::string mask(const std::string& builtin, const std::string& line) {
  LineParser p(test::content_config({{"m", builtin, "", "<*>"}}));
  return std::string(p.parse(line).template_text);
}
}  // namespace

TEST_CASE("number masks whole numeric sub-tokens only", "[masker]") {
  CHECK(mask("number", "size 67108864 done") == "size <*> done");
  CHECK(mask("number", "delta -42 and 3.14 and 1.2.3") == "delta <*> and <*> and <*>");
  CHECK(mask("number", "job_200811092030_0001") == "job_<*>_<*>");
  CHECK(mask("number", "abc123 123abc 64MB") == "abc123 123abc 64MB");
  CHECK(mask("number", "port=8080, count:7.") == "port=<*>, count:<*>.");
  CHECK(mask("number", "x-5") == "x-<*>");
}

TEST_CASE("hdfs_block masks blk ids including negative ones", "[masker]") {
  CHECK(mask("hdfs_block", "blk_-123 and blk_456") == "<*> and <*>");
  CHECK(mask("hdfs_block", "/data/subdir25/blk_-1608999687919862906") == "/data/subdir25/<*>");
  CHECK(mask("hdfs_block", "xblk_1 blk_ blk_12a") == "xblk_1 blk_ blk_12a");
}

TEST_CASE("ipv4 masks addresses with optional port", "[masker]") {
  CHECK(mask("ipv4", "10.0.0.1:50010") == "<*>");
  CHECK(mask("ipv4", "src: /10.250.19.102:54106 dest") == "src: /<*> dest");
  CHECK(mask("ipv4", "from 192.168.1.1, ok") == "from <*>, ok");
  CHECK(mask("ipv4", "bad 300.1.1.1 1.2.3 v1.2.3.4") == "bad 300.1.1.1 1.2.3 v1.2.3.4");
}

TEST_CASE("ipv6 masks full, compressed and bracketed forms", "[masker]") {
  CHECK(mask("ipv6", "a 2001:0db8:85a3:0000:0000:8a2e:0370:7334 b") == "a <*> b");
  CHECK(mask("ipv6", "a fe80::1ff:fe23:4567:890a b") == "a <*> b");
  CHECK(mask("ipv6", "peer [2001:db8::1]:8080 up") == "peer <*> up");
  CHECK(mask("ipv6", "lo ::1 x ::ffff:10.0.0.1") == "lo <*> x <*>");
  CHECK(mask("ipv6", "12:34:56 std::vector") == "12:34:56 std::vector");
}

TEST_CASE("hex masks 0x literals and long hex runs", "[masker]") {
  CHECK(mask("hex", "addr 0x7ffd1234 val 0XAB") == "addr <*> val <*>");
  CHECK(mask("hex", "id deadbeef12 sha 3f2a9c0d1e") == "id <*> sha <*>");
  // Letters only: 8+ hex letters of one case are a value ("ffffffff"; no word is made of a-f
  // alone that long); mixed case, shorter runs and words with other letters stay.
  CHECK(mask("hex", "mask deadbeef FFFFFFFF word DeadBeef decade short ab12 feedback") ==
        "mask <*> <*> word DeadBeef decade short ab12 feedback");
}

TEST_CASE("uuid, mac, datetime, path and url maskers", "[masker]") {
  CHECK(mask("uuid", "req 123e4567-e89b-12d3-a456-426614174000 ok") == "req <*> ok");
  CHECK(mask("uuid", "req 123e4567-e89b-12d3-a456 ok") == "req 123e4567-e89b-12d3-a456 ok");
  CHECK(mask("mac", "hw 00:1a:2B:3c:4d:5e and 00-1a-2b-3c-4d-5e") == "hw <*> and <*>");
  CHECK(mask("datetime", "at 2015-10-18T18:01:47.978Z and 2015-10-18 18:01:47,123") == "at <*> and <*> <*>");
  CHECK(mask("datetime", "t 10:20:30+02:00 d 2020/01/02") == "t <*> d <*>");
  CHECK(mask("path", "open /var/log/syslog.1 and ./a/b and C:\\Windows\\x.dll.") == "open <*> and <*> and <*>.");
  CHECK(mask("path", "ratio a/b and / alone") == "ratio a/b and / alone");
  CHECK(mask("url", "get https://example.com/a?b=1, then") == "get <*>, then");
}

TEST_CASE("masks run in configured order; the first match at a position wins", "[masker]") {
  // At the same start position the earlier rule wins.
  LineParser a(test::content_config({{"n", "number", "", "<*>"}, {"ip", "ipv4", "", "<*>"}}));
  LineParser b(test::content_config({{"ip", "ipv4", "", "<*>"}, {"n", "number", "", "<*>"}}));
  CHECK(a.parse("peer 10.0.0.1:80").template_text == "peer <*>:<*>");
  CHECK(b.parse("peer 10.0.0.1:80").template_text == "peer <*>");
  // An earlier start wins regardless of order: the path starts at '/', before the address.
  LineParser c(test::content_config({{"ip", "ipv4", "", "<*>"}, {"p", "path", "", "<*>"}, {"n", "number", "", "<*>"}}));
  CHECK(c.parse("file /tmp/10.0.0.1.log").template_text == "file <*>");
  // A slash-led address is not a path: the address (with its port) is the variable.
  CHECK(c.parse("src: /10.250.19.102:54106").template_text == "src: /<*>");
  LineParser d(test::content_config({{"ip", "ipv4", "", "<*>"}, {"n", "number", "", "<*>"}}));
  CHECK(d.parse("src: /10.250.19.102:54106").template_text == "src: /<*>");
}

TEST_CASE("custom replacements and RE2 masks", "[masker]") {
  LineParser p(test::content_config({{"user", "", R"(user=\w+)", "user=<U>"}, {"n", "number", "", "<NUM>"}}));
  CHECK(p.parse("login user=alice from 7 hosts").template_text == "login user=<U> from <NUM> hosts");
  // A regex mask after a built-in one sees the built-in output.
  LineParser q(test::content_config({{"n", "number", "", "<*>"}, {"x", "", R"(<\*>ms)", "<*>"}}));
  CHECK(q.parse("took 15ms ok").template_text == "took 15ms ok");  // 15ms is not a number token
  CHECK(q.parse("took 15 ms").template_text == "took <*> ms");
}

TEST_CASE("parameters are reported in original text", "[masker][drain]") {
  LineParser p(test::hdfs_config());
  p.parse("081109 203518 143 INFO dfs.DataNode$DataXceiver: Receiving block blk_-1608999687919862906 src: "
          "/10.250.19.102:54106 dest: /10.250.19.102:50010");
  CHECK(p.last_parameters() ==
        std::vector<std::string>{"blk_-1608999687919862906", "/10.250.19.102:54106", "/10.250.19.102:50010"});
}

TEST_CASE("bad mask rules are rejected naming the rule", "[masker][config]") {
  auto key_of = [](std::vector<MaskRule> masks) {
    ParserConfig c;
    c.masks = std::move(masks);
    try {
      c.validate();
    } catch (const ConfigError& e) {
      return e.key();
    }
    return std::string("<accepted>");
  };
  CHECK(key_of({{"a", "number", "", "<*>"}, {"b", "nosuch", "", "<*>"}}) == "masks[1].builtin");
  CHECK(key_of({{"a", "", "([unclosed", "<*>"}}) == "masks[0].regex");
  CHECK(key_of({{"a", "number", "x+", "<*>"}}) == "masks[0]");
  CHECK(key_of({{"a", "", "", "<*>"}}) == "masks[0]");
  CHECK(key_of({{"", "number", "", "<*>"}}) == "masks[0].name");
  CHECK(key_of({{"a", "number", "", "<*>"}, {"a", "ipv4", "", "<*>"}}) == "masks[1].name");
  CHECK(key_of({{"a", "number", "", "<*>"}}) == "<accepted>");
}

TEST_CASE("hdfs_block_list masks a space-separated list of block ids as one variable", "[masker]") {
  logguard::core::ParserConfig cfg;
  cfg.masks = {{"blocks", "hdfs_block_list", "", "<*>"}};
  // A fresh parser per line: only the masking is under test, not clustering.
  auto tpl = [&](std::string_view line) {
    logguard::core::LineParser p(cfg);
    return std::string(p.parse(line).template_text);
  };
  CHECK(tpl("ask to delete blk_1 blk_-22 blk_333") == "ask to delete <*>");
  CHECK(tpl("ask to delete blk_9") == "ask to delete <*>");
  CHECK(tpl("x blk_1  blk_2 y") == "x <*> <*> y");  // two spaces: two variables
  CHECK(tpl("x blk_1 blkz y") == "x <*> blkz y");
  CHECK(tpl("x blk_1 blk_2x y") == "x <*> blk_2x y");
  logguard::core::LineParser p(cfg);
  p.parse("ask to delete blk_5 blk_6");
  const auto params = p.last_parameters();
  REQUIRE(params.size() == 1);
  CHECK(params[0] == "blk_5 blk_6");
}
