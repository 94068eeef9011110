#include <catch2/catch.hpp>

#include <limits>
#include <string>

#include "logguard/core/error.hpp"
#include "logguard/core/line_parser.hpp"
#include "logguard/core/parser_config.hpp"

using namespace logguard::core;

namespace {
std::string key_of(const ParserConfig& c) {
  try {
    c.validate();
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find(e.key()) == 0);  // the message starts with the key
    return e.key();
  }
  return "<valid>";
}
}  // namespace

TEST_CASE("the default parser config is valid", "[config]") { CHECK(key_of(ParserConfig{}) == "<valid>"); }

TEST_CASE("validate() names the offending key", "[config]") {
  ParserConfig c;
  c.drain.depth = 2;
  CHECK(key_of(c) == "drain.depth");
  c = {};
  c.drain.depth = 100;
  CHECK(key_of(c) == "drain.depth");
  c = {};
  c.drain.similarity_threshold = 0.0;
  CHECK(key_of(c) == "drain.similarity_threshold");
  c.drain.similarity_threshold = 1.5;
  CHECK(key_of(c) == "drain.similarity_threshold");
  c.drain.similarity_threshold = std::numeric_limits<double>::quiet_NaN();
  CHECK(key_of(c) == "drain.similarity_threshold");
  c = {};
  c.drain.max_children = 1;
  CHECK(key_of(c) == "drain.max_children");
  c = {};
  c.drain.extra_delimiters = "=*";
  CHECK(key_of(c) == "drain.extra_delimiters");
  c = {};
  c.max_line_bytes = 0;
  CHECK(key_of(c) == "max_line_bytes");
  c = {};
  c.log_format = "<Date> <Time>";
  CHECK(key_of(c) == "log_format");
}

TEST_CASE("the LineParser constructor validates", "[config]") {
  ParserConfig c;
  c.drain.depth = 1;
  CHECK_THROWS_AS(LineParser(c), ConfigError);
  c = {};
  c.masks = {{"r", "", "(", "<*>"}};
  CHECK_THROWS_AS(LineParser(c), ConfigError);
}
