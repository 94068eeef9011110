#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "logguard/core/csv.hpp"
#include "logguard/core/file_io.hpp"
#include "logguard/core/line_parser.hpp"
#include "logguard/core/parse_csv.hpp"
#include "test_util.hpp"

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

TEST_CASE("ParseCsvWriter writes the rows of logguard parse", "[csv][parse]") {
  LineParser p(test::content_config({{"n", "number", "", "<*>"}}));
  ParseCsvWriter w;
  std::string out;
  const char* lines[] = {"a b 1", "q, \"x\" 2", "a b 3", "q, \"x\" 4", "a c 5", "a b 6"};
  for (const char* line : lines) {
    w.append_row(out, p.parse(line));
    out.push_back('\n');
  }
  CHECK(out ==
        "1,E1,a b <*>\n"
        "2,E2,\"q, \"\"x\"\" <*>\"\n"
        "3,E1,a b <*>\n"
        "4,E2,\"q, \"\"x\"\" <*>\"\n"
        "5,E1,a <*> <*>\n"  // the template changed: the cached row part follows it
        "6,E1,a <*> <*>\n");
  CHECK(w.lines() == 6);
  REQUIRE(w.occurrences().size() == 3);
  CHECK(w.occurrences()[1] == 4);
  CHECK(w.occurrences()[2] == 2);
}

TEST_CASE("ParseCsvWriter counts line ids across digit carries", "[csv][parse]") {
  LineParser p(test::content_config());
  ParseCsvWriter w;
  std::string out;
  for (int i = 1; i <= 1001; ++i) {
    out.clear();
    w.append_row(out, p.parse("x"));
    REQUIRE(out == std::to_string(i) + ",E1,x");
  }
}

TEST_CASE("read_file_bytes reads whole files, binary and empty ones included", "[io]") {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("logguard_io_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string bin(300000, '\0');
  for (std::size_t i = 0; i < bin.size(); ++i) bin[i] = static_cast<char>(i * 7 + i / 256);
  { std::ofstream((dir / "bin").string(), std::ios::binary) << bin; }
  { std::ofstream((dir / "empty").string(), std::ios::binary); }
  CHECK(read_file_bytes((dir / "bin").string()) == bin);
  CHECK(read_file_bytes((dir / "empty").string()) == std::string());
  CHECK_FALSE(read_file_bytes((dir / "missing").string()).has_value());
  CHECK_FALSE(read_file_bytes(dir.string()).has_value());  // a directory is no file
  fs::remove_all(dir);
}
