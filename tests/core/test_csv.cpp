#include <catch2/catch.hpp>

#include "logguard/core/csv.hpp"

using namespace logguard::core;

TEST_CASE("csv_field quotes only when needed (RFC 4180)", "[csv]") {
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("") == "");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
  CHECK(csv_field(" padded ") == " padded ");
  CHECK(csv_record({"1", "a,b", "<*> x"}) == "1,\"a,b\",<*> x");
}

TEST_CASE("split_csv_record handles quotes, doubled quotes and empty fields", "[csv]") {
  std::vector<std::string> f;
  REQUIRE(split_csv_record("a,\"b,c\",\"d \"\"e\"\"\",,", f));
  CHECK(f == std::vector<std::string>{"a", "b,c", "d \"e\"", "", ""});
  REQUIRE(split_csv_record("", f));
  CHECK(f == std::vector<std::string>{""});
  REQUIRE(split_csv_record("\"multi\nline\"", f));
  CHECK(f == std::vector<std::string>{"multi\nline"});
  CHECK_FALSE(split_csv_record("\"unterminated", f));
  CHECK_FALSE(split_csv_record("\"a\"b,c", f));
  const auto e = split_csv_record("x,\"y");
  CHECK_FALSE(e.has_value());
  const auto ok = split_csv_record("1,E5,\"Receiving block <*>\"");
  REQUIRE(ok.has_value());
  CHECK(ok->size() == 3);
}

TEST_CASE("csv round trip", "[csv]") {
  const std::vector<std::string> fields{"", "x", "a,b", "\"", "line\r\nbreak", " s "};
  const auto back = split_csv_record(csv_record(fields));
  REQUIRE(back.has_value());
  CHECK(*back == fields);
}

TEST_CASE("csv namespace: lenient split and multi-line records", "[csv]") {
  std::vector<std::string> f;
  std::string out;
  append_csv_field(out, "a\"b");
  CHECK(out == "\"a\"\"b\"");
  const std::string text = "1,\"two\nlines\"\r\n3,x\n";
  std::size_t pos = 0;
  REQUIRE(csv::next_record(text, pos, f));
  CHECK(f == std::vector<std::string>{"1", "two\nlines"});
  REQUIRE(csv::next_record(text, pos, f));
  CHECK(f == std::vector<std::string>{"3", "x"});
  CHECK_FALSE(csv::next_record(text, pos, f));
  CHECK_FALSE(csv::split_record("\"open", f));
  CHECK(csv::split_record("\"a\"b,c", f));
  CHECK(f == std::vector<std::string>{"ab", "c"});
}
