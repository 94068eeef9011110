// The default preset (parser_preset("default")): its built-in masks, punctuation tokens and
// typed Drain matching (docs/parser.md "The default preset").
#include <catch2/catch.hpp>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "logguard/core/line_parser.hpp"
#include "masker.hpp"
#include "test_util.hpp"

using namespace logguard::core;

namespace {

ParserConfig preset() {
  ParserConfig c;
  REQUIRE(parser_preset("default", &c));
  return c;
}

// Template of one line parsed alone by a fresh parser with `masks` and a drain-style text.
std::string mask(std::vector<MaskRule> masks, const std::string& line) {
  LineParser p(test::content_config(std::move(masks)));
  return std::string(p.parse(line).template_text);
}
std::string mask(const std::string& builtin, const std::string& line) {
  return mask({{"m", builtin, "", "<*>"}}, line);
}

// The preset's masks and tokens, one line, Drain text (no Loghub-2.0 rewriting).
std::string preset_text(const std::string& line) {
  ParserConfig c = preset();
  c.drain.template_style = TemplateStyle::drain;
  LineParser p(c);
  return std::string(p.parse(line).template_text);
}

}  // namespace

TEST_CASE("the default preset is valid and named", "[preset]") {
  ParserConfig c;
  CHECK_FALSE(parser_preset("nope", &c));
  REQUIRE(parser_preset("default", &c));
  CHECK_NOTHROW(c.validate());
  CHECK(c.drain.wildcard_match == WildcardMatch::typed);
  CHECK_FALSE(c.drain.punctuation_tokens.empty());
  CHECK(c.log_format.empty());
  CHECK(parser_preset_names() == std::vector<std::string>{"default"});
}

TEST_CASE("numeric: numbers, glued and abbreviated units, digit-led ids", "[preset][masker]") {
  CHECK(mask("numeric", "took 250ms for 64MB at -1.5 and 3f2a9c") == "took <*> for <*> at <*> and <*>");
  CHECK(mask("numeric", "size 5.2 KB, free 93.0 B") == "size <*>, free <*>");
  CHECK(mask("numeric", "after 900 seconds and 12 bytes") == "after <*> seconds and <*> bytes");
  CHECK(mask("numeric", "job_201_0001 node-5 abc123") == "job_<*>_<*> node-<*> abc123");
}

TEST_CASE("hostport and hostname: host names, with a port one variable", "[preset][masker]") {
  CHECK(mask("hostport", "to proxy.cse.example.edu:5070 and localhost:8080 ok") == "to <*> and <*> ok");
  CHECK(mask("hostport", "at Foo.java:42 and ib_sm_sweep.c:12") == "at Foo.java:42 and ib_sm_sweep.c:12");
  CHECK(mask("hostport", "10.0.0.1:80 is an address") == "10.0.0.1:80 is an address");
  CHECK(mask("hostname", "from ip-10-0-0-1.ec2.internal and example.com") == "from <*> and <*>");
  CHECK(mask("hostname", "class org.apache.hadoop.Foo and com.android.server") ==
        "class org.apache.hadoop.Foo and com.android.server");
  CHECK(mask("hostname", "file name.py and a.b") == "file name.py and a.b");
}

TEST_CASE("quoted: the inside of a quoted text of several words", "[preset][masker]") {
  CHECK(mask("quoted", "tag=\"View Lock\" and 'a b c' done") == "tag=\"<*>\" and '<*>' done");
  CHECK(mask("quoted", "state 'Inactive' stays") == "state 'Inactive' stays");  // one word: left to Drain
  CHECK(mask("quoted", "don't split it's words") == "don't split it's words");
  CHECK(mask("quoted", "req \"GET /a/b HTTP/1.1\" 200") == "req \"GET /a/b HTTP/1.1\" 200");  // the method stays
  CHECK(mask("quoted", "unterminated \"a b") == "unterminated \"a b");
}

TEST_CASE("textdate, empty_value, value_list, hex letters, path queries", "[preset][masker]") {
  CHECK(mask("textdate", "at Fri Jun 17 20:55:06 2005 and Jun  4 and June 3, 2021 now") == "at <*> and <*> and <*> now");
  CHECK(mask("textdate", "Monday meeting on Mar x") == "Monday meeting on Mar x");
  CHECK(mask("empty_value", "from a () at b [] , {} x()") == "from a (<*>) at b [<*>] , {<*>} x()");
  CHECK(mask({{"ip", "ipv4", "", "<*>"}, {"l", "value_list", "", "<*>"}}, "from 10.0.0.1,10.0.0.2 and 10.0.0.3, 10.0.0.4") ==
        "from <*> and <*>, <*>");
  CHECK(mask({{"ip", "ipv4", "", "<*>"}}, "from 10.0.0.1,10.0.0.2") == "from <*>,<*>");  // without value_list
  CHECK(mask("hex", "mask=ffffffff FFFFFFFF abcdefAB decade") == "mask=<*> <*> abcdefAB decade");
  CHECK(mask("path", "GET /v2/x/detail?all=True&since=2017 now") == "GET <*> now");
}

TEST_CASE("parameters map back through the new masks", "[preset][masker]") {
  ParserConfig c = preset();
  LineParser p(c);
  p.parse("connect to proxy.example.com:5070 from () size 5.2 KB");
  const auto params = p.last_parameters();
  REQUIRE(params.size() == 3);
  CHECK(params[0] == "proxy.example.com:5070");
  CHECK(params[1] == "()");
  CHECK(params[2] == "5.2 KB");
}

TEST_CASE("the pre-filter never changes what the built-in scanners match", "[preset][masker]") {
  // Reference: every rule tried at every sub-token start, no shortcuts (the masker skips
  // positions where a cheap test shows no rule can start).
  const ParserConfig c = preset();
  std::vector<detail::Builtin> kinds;
  bool lists = false;
  for (const MaskRule& m : c.masks) {
    detail::Builtin k{};
    REQUIRE(detail::builtin_from_name(m.builtin, &k));
    if (k == detail::Builtin::value_list)
      lists = true;
    else
      kinds.push_back(k);
  }
  REQUIRE(lists);
  auto word = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; };
  auto reference = [&](const std::string& t) {
    std::string out;
    std::size_t i = 0, copied = 0;
    bool last_rep_end_valid = false;
    std::size_t last_in_end = 0;
    while (i < t.size()) {
      std::size_t len = 0;
      detail::Builtin hit{};
      if (i == 0 || !word(t[i - 1]))
        for (detail::Builtin k : kinds)
          if ((len = detail::scan_builtin(k, t, i)) != 0) {
            hit = k;
            break;
          }
      if (len == 0) {
        ++i;
        continue;
      }
      if (last_rep_end_valid && last_in_end + 1 == i && t[i - 1] == ',' && copied == i - 1 &&
          hit != detail::Builtin::empty_value) {
        i += len;
        copied = last_in_end = i;
        continue;
      }
      out.append(t, copied, i - copied);
      if (hit == detail::Builtin::empty_value)
        out += std::string(1, t[i]) + "<*>" + t[i + 1];
      else
        out += "<*>";
      i += len;
      copied = last_in_end = i;
      last_rep_end_valid = true;
    }
    out.append(t, copied, std::string::npos);
    return out;
  };
  detail::Masker masker(c.masks);
  detail::MaskScratch scratch;
  std::mt19937 rng(7);
  const std::string alphabet = "aZfF09 .:-_/\"'()[]{},=@+?~\\xbJunMonKBms";
  const std::vector<std::string> samples = {
      "connection from 24.54.76.216 (24-54-76-216.bflony.adelphia.net) at Fri Jun 17 07:07:00 2005",
      "10.11.21.122,10.11.10.1 \"GET /openstack/2012-08-10/meta_data.json HTTP/1.1\" status: 200 len: 264",
      "Block broadcast_9 stored as values in memory (estimated size 8.8 KB, free 14.0 KB)",
      "proxy.cse.cuhk.edu.hk:5070 close, 1190 bytes (1.16 KB) sent, lifetime 00:02",
      "uuid 123e4567-e89b-12d3-a456-426614174000 mac 00:1a:2b:3c:4d:5e v6 fe80::1 at 2015-10-18T18:01:47Z",
      "tag=\"View Lock\", name=com.android.systemui \"\" '' () x0x1f deadbeef00 ffffffff https://a.b/c?d"};
  for (const std::string& s : samples) CHECK(std::string(masker.apply(s, scratch)) == reference(s));
  for (int n = 0; n < 3000; ++n) {
    std::string s;
    const int len = static_cast<int>(rng() % 60);
    for (int k = 0; k < len; ++k) s.push_back(alphabet[rng() % alphabet.size()]);
    INFO(s);
    CHECK(std::string(masker.apply(s, scratch)) == reference(s));
  }
}

TEST_CASE("punctuation tokens keep their place when a value next to them varies", "[preset][tokenizer]") {
  ParserConfig c = test::content_config({{"n", "number", "", "<*>"}});
  c.drain.punctuation_tokens = ",;:=()[]{}|\"'";
  LineParser p(c);
  CHECK(p.parse("ready=true,policy=3,mode=a").template_text == "ready=true,policy=<*>,mode=a");
  const auto r = p.parse("ready=false,policy=4,mode=a");
  CHECK(r.template_text == "ready=<*>,policy=<*>,mode=a");  // one word differs: merged, punctuation kept
  CHECK(p.parse("it's (x) [y]").template_text == "it's (x) [y]");
  // The text of a template tokenizes back to the same tokens (snapshots rely on it).
  std::ostringstream out;
  p.save(out);
  std::istringstream in(out.str());
  LineParser q = LineParser::load(in, c, "t");
  CHECK(q.templates() == p.templates());
  CHECK(q.parse("ready=x,policy=5,mode=a").template_id == r.template_id);
}

TEST_CASE("a punctuation token that becomes <*> is not glued to the next word", "[preset][tokenizer]") {
  ParserConfig c = test::content_config();
  c.drain.punctuation_tokens = "=";
  c.drain.wildcard_match = WildcardMatch::typed;
  LineParser p(c);
  p.parse("a b =c");
  const auto r = p.parse("a fa d c");  // two word differences, st 0.5: merged
  CHECK(r.template_text == "a <*> <*> c");  // not "a <*> <*>c", which would tokenize differently
  std::ostringstream out;
  p.save(out);
  std::istringstream in(out.str());
  CHECK(LineParser::load(in, c, "t").templates() == p.templates());
}

TEST_CASE("punctuation_tokens is validated", "[preset][config]") {
  ParserConfig c;
  c.drain.punctuation_tokens = "a";
  CHECK_THROWS_AS(c.validate(), ConfigError);
  c.drain.punctuation_tokens = "<";
  CHECK_THROWS_AS(c.validate(), ConfigError);
  c.drain.punctuation_tokens = ",";
  c.drain.extra_delimiters = ",";
  CHECK_THROWS_AS(c.validate(), ConfigError);
  c.drain.extra_delimiters.clear();
  CHECK_NOTHROW(c.validate());
  c.drain.distinct_words = 1;
  CHECK_THROWS_AS(c.validate(), ConfigError);
}

TEST_CASE("typed: variables match variables, words must be equal", "[preset][drain][typed]") {
  ParserConfig c = test::content_config();  // no masks: only the look of a token decides
  c.drain.wildcard_match = WildcardMatch::typed;
  c.drain.similarity_threshold = 1.0;
  LineParser p(c);
  const auto a = p.parse("read 12 blocks from eth0");
  const auto b = p.parse("read 13 blocks from eth1");
  CHECK(b.template_id == a.template_id);
  CHECK(b.template_text == "read <*> blocks from <*>");
  const auto d = p.parse("read 14 pages from eth2");  // a word differs: another template
  CHECK(d.template_id != a.template_id);
  CHECK(p.match("read 99 blocks from eth9") == a.template_id);
}

TEST_CASE("typed: a position takes any word once distinct_words words were seen there", "[preset][drain][typed]") {
  ParserConfig c = test::content_config();
  c.drain.wildcard_match = WildcardMatch::typed;
  c.drain.similarity_threshold = 1.0;
  c.drain.distinct_words = 3;
  c.drain.depth = 3;
  LineParser p(c);
  const auto started = p.parse("VM Started now");
  const auto stopped = p.parse("VM Stopped now");
  CHECK(stopped.template_id != started.template_id);  // two words: two events
  CHECK(stopped.change == ChangeKind::created);
  CHECK(p.parse("VM Started now").template_id == started.template_id);
  const auto third = p.parse("VM Paused now");  // the third distinct word: the position is a variable
  CHECK(third.template_id == started.template_id);  // the lowest id of the family takes it
  CHECK(third.change == ChangeKind::template_changed);
  CHECK(third.template_text == "VM <*> now");
  // The other member keeps its id but shows the merged template, and takes no more lines.
  CHECK(p.template_text(stopped.template_id) == "VM <*> now");
  CHECK(p.parse("VM Stopped now").template_id == started.template_id);
  CHECK(p.parse("VM Resumed now").template_id == started.template_id);
  CHECK(p.stats().templates_changed == 2);  // the merge and the retired sibling
  // Open positions survive a snapshot: a new word still matches after a restore.
  std::ostringstream out;
  p.save(out);
  std::istringstream in(out.str());
  LineParser q = LineParser::load(in, c, "t");
  CHECK(q.templates() == p.templates());
  const auto r = q.parse("VM Crashed now");
  CHECK(r.template_id == started.template_id);
  CHECK(r.change == ChangeKind::none);
}

TEST_CASE("typed: retired copies do not count as more distinct words", "[preset][drain][typed]") {
  ParserConfig c = test::content_config();
  c.drain.wildcard_match = WildcardMatch::typed;
  c.drain.similarity_threshold = 1.0;
  c.drain.distinct_words = 3;
  c.drain.depth = 3;
  LineParser p(c);
  const auto a = p.parse("a X b c");
  p.parse("a Y b c");
  CHECK(p.parse("a Z b c").template_text == "a <*> b c");  // three words at position 1: open
  // Position 3 has seen one word ("c", held by the survivor and its two retired copies).
  const auto d = p.parse("a Q b d");
  CHECK(d.template_id != a.template_id);
  CHECK(d.change == ChangeKind::created);
}

TEST_CASE("typed: several word positions open together", "[preset][drain][typed]") {
  ParserConfig c = test::content_config();
  c.drain.wildcard_match = WildcardMatch::typed;
  c.drain.similarity_threshold = 1.0;
  c.drain.distinct_words = 3;
  LineParser p(c);
  // Two unmasked variables per line, never the same pair twice: without multi-position
  // families every line would start a template (and every later line scan all of them).
  const char* users[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
  const char* hosts[] = {"alpha", "beta", "gamma", "delta", "eps", "zeta"};
  TemplateId last = kNoTemplate;
  for (int i = 0; i < 6; ++i)
    last = p.parse(std::string("session opened for user ") + users[i] + " on host " + hosts[i] + " by cron").template_id;
  CHECK(p.template_text(last) == "session opened for user <*> on host <*> by cron");
  CHECK(p.parse("session opened for user zoe on host omega by cron").template_id == last);
  CHECK(p.cluster_count() <= 3);  // two siblings before the third word, retired since
  // Too many differing words for a family (more than a third of the tokens): no merge.
  CHECK(p.parse("session closed from node ab at port cd by cron").template_id != last);
}

TEST_CASE("typed: pinned templates take their instances only", "[preset][drain][typed][pin]") {
  ParserConfig c = test::content_config({{"n", "number", "", "<*>"}});
  c.drain.wildcard_match = WildcardMatch::typed;
  LineParser p(c);
  const TemplateId pin = p.pin("PacketResponder <*> for block <*> terminating");
  CHECK(p.parse("PacketResponder 1 for block 7 terminating").template_id == pin);
  CHECK(p.parse("PacketResponder 1 for block blk_7 terminating").template_id == pin);  // <*> takes any token
  const auto other = p.parse("PacketResponder 1 for block 7 Interrupted");
  CHECK(other.template_id != pin);
  CHECK(p.template_text(pin) == "PacketResponder <*> for block <*> terminating");
}

TEST_CASE("the default preset on representative lines", "[preset]") {
  CHECK(preset_text("connection from 222.33.90.199 () at Mon Jun 20 03:40:59 2005") == "connection from <*> (<*>) at <*>");
  CHECK(preset_text("proxy.cse.cuhk.edu.hk:5070 close, 1190 bytes (1.16 KB) sent, lifetime 00:02") ==
        "<*> close, <*> bytes (<*>) sent, lifetime <*>");
  CHECK(preset_text("src: /10.250.19.102:54106 dest: /10.250.19.102:50010") == "src: /<*> dest: /<*>");
  CHECK(preset_text("10.11.21.122,10.11.10.1 \"GET /v2/servers/detail HTTP/1.1\" status: 200") ==
        "<*> \"GET <*> HTTP/<*>\" status: <*>");
  // The emitted text follows the Loghub-2.0 conventions (template_style loghub2).
  LineParser p(preset());
  CHECK(p.parse("Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106").template_text ==
        "Receiving block <*> src: <*>");
}
