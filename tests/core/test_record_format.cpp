// Records as shippers send them (issue #20): JSON and OTLP decoding, hostile records counted per
// reason, and raw logs read into the same sessions whether they come as lines or as JSON records.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "logguard/core/error.hpp"
#include "logguard/core/record_format.hpp"
#include "logguard/core/session_reader.hpp"

using namespace logguard::core;
namespace fs = std::filesystem;

namespace {

RecordFormat json_format() {
  RecordFormat f;
  f.kind = RecordKind::json;
  return f;
}

std::uint64_t rejected(const RecordDecoder& d, RejectReason r) {
  return d.stats().rejected[static_cast<std::size_t>(r)].load();
}

// A JSON string literal of `s` (quotes, backslashes and control characters escaped).
std::string json_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

TEST_CASE("raw records pass through whole", "[core][records]") {
  RecordDecoder d{RecordFormat{}};
  std::vector<DecodedRecord> out;
  REQUIRE(d.decode("081109 203518 INFO x: hello {not json", out) == 1);
  CHECK(out[0].message == "081109 203518 INFO x: hello {not json");
  CHECK(out[0].session.empty());
  CHECK_FALSE(out[0].timestamp_ms);
  CHECK(d.stats().records == 1);
}

TEST_CASE("json records: message, nested and dotted paths, fields of any scalar type", "[core][records]") {
  auto f = json_format();
  f.message = "log.msg";
  f.session = "trace.id";
  f.label = "level";
  f.stream = "service.name";
  f.timestamp = "@timestamp";
  RecordDecoder d(f);
  std::vector<DecodedRecord> out;
  REQUIRE(d.decode(R"({"@timestamp":"2024-01-02T03:04:05.678+01:00","log":{"msg":"disk full"},)"
                   R"("trace":{"id":12345},"level":"ERROR","service.name":"db"})",
                   out) == 1);
  CHECK(out[0].message == "disk full");
  CHECK(out[0].session == "12345");  // a number keys a session as its text
  CHECK(out[0].label == "ERROR");
  CHECK(out[0].stream == "db");      // a literal dotted key
  REQUIRE(out[0].timestamp_ms);
  CHECK(*out[0].timestamp_ms == 1704161045678LL);  // 02:04:05.678Z
  // Nested objects spelled with dots reach the same field as a literal dotted key.
  REQUIRE(d.decode(R"({"log":{"msg":"a"},"service":{"name":"web"},"level":true,"trace":{"id":[1]}})", out) == 1);
  CHECK(out[0].stream == "web");
  CHECK(out[0].label == "true");
  CHECK(out[0].session.empty());  // an array is no session key: counted, the record is kept
  CHECK(d.stats().bad_fields == 1);
  CHECK(d.stats().bad_timestamps == 1);  // configured but missing
  // Escapes in the message are decoded.
  REQUIRE(d.decode(R"({"log":{"msg":"tab\there \"q\" \u00e9"}})", out) == 1);
  CHECK(out[0].message == "tab\there \"q\" \xc3\xa9");
}

TEST_CASE("timestamps in the common shipper encodings", "[core][records][time]") {
  CHECK(parse_record_time("1970-01-01T00:00:01Z", "rfc3339") == 1000);
  CHECK(parse_record_time("1970-01-01 00:00:01.5", "rfc3339") == 1500);
  CHECK(parse_record_time("2024-01-02T03:04:05-0130", "rfc3339") == 1704170045000LL);
  CHECK_FALSE(parse_record_time("2024-13-02T03:04:05Z", "rfc3339"));
  CHECK_FALSE(parse_record_time("2024-01-02", "rfc3339"));
  CHECK_FALSE(parse_record_time("2024-01-02T03:04:05Zjunk", "rfc3339"));
  CHECK(parse_record_time("1700000000", "epoch_s") == 1700000000000LL);
  CHECK(parse_record_time("1700000000.25", "epoch_s") == 1700000000250LL);
  CHECK(parse_record_time("1700000000123", "epoch_ms") == 1700000000123LL);
  CHECK(parse_record_time("1700000000123456", "epoch_us") == 1700000000123LL);
  CHECK(parse_record_time("1700000000123456789", "epoch_ns") == 1700000000123LL);
  CHECK_FALSE(parse_record_time("99999999999999999999999", "epoch_ns"));
  CHECK_FALSE(parse_record_time("12a", "epoch_s"));
  CHECK(parse_record_time("081109 203518", "%y%m%d %H%M%S") == 1226262918000LL);

  auto f = json_format();
  f.timestamp = "ts";
  f.timestamp_format = "epoch_ms";
  RecordDecoder d(f);
  std::vector<DecodedRecord> out;
  REQUIRE(d.decode(R"({"message":"m","ts":1700000000123})", out) == 1);
  CHECK(out[0].timestamp_ms == 1700000000123LL);
  REQUIRE(d.decode(R"({"message":"m","ts":"1700000000124"})", out) == 1);
  CHECK(out[0].timestamp_ms == 1700000000124LL);
  REQUIRE(d.decode(R"({"message":"m","ts":{"x":1}})", out) == 1);
  CHECK_FALSE(out[0].timestamp_ms);
  CHECK(d.stats().bad_timestamps == 1);
}

TEST_CASE("hostile json records are rejected and counted per reason, never thrown", "[core][records][hostile]") {
  auto f = json_format();
  f.max_record_bytes = 4096;
  f.max_depth = 16;
  RecordDecoder d(f);
  std::vector<DecodedRecord> out;
  CHECK(d.decode("{\"message\": \"unterminated", out) == 0);
  CHECK(d.decode("not json at all", out) == 0);
  CHECK(d.decode("", out) == 0);
  CHECK(d.decode("[1,2,3]", out) == 0);  // valid JSON, not an object
  CHECK(d.decode("{\"message\":\"bad utf8 \xff\xfe\"}", out) == 0);
  CHECK(rejected(d, RejectReason::malformed) == 5);
  CHECK(d.decode(std::string(40, '[') + std::string(40, ']'), out) == 0);
  std::string deep = "{\"message\":\"m\",\"x\":";
  for (int i = 0; i < 30; ++i) deep += "{\"a\":";
  deep += "1" + std::string(30, '}') + "}";
  CHECK(d.decode(deep, out) == 0);
  CHECK(rejected(d, RejectReason::too_deep) == 2);
  const std::string big = "{\"message\":\"" + std::string(10 << 20, 'x') + "\"}";  // 10 MB
  CHECK(d.decode(big, out) == 0);
  CHECK(d.decode(R"({"message":"short"})", out, /*cut=*/true) == 0);
  CHECK(rejected(d, RejectReason::too_large) == 2);
  CHECK(d.decode(R"({"msg":"wrong field"})", out) == 0);
  CHECK(d.decode(R"({"message":null})", out) == 0);
  CHECK(rejected(d, RejectReason::no_message) == 2);
  for (const char* m : {R"({"message":42})", R"({"message":{"text":"x"}})", R"({"message":["x"]})",
                        R"({"message":false})"})
    CHECK(d.decode(m, out) == 0);
  CHECK(rejected(d, RejectReason::message_not_string) == 4);
  CHECK(d.stats().inputs == 15);
  CHECK(d.stats().rejected_total() == 15);
  CHECK(d.stats().records == 0);
  // The decoder is still fine afterwards.
  REQUIRE(d.decode(R"({"message":"ok"})", out) == 1);
  CHECK(out[0].message == "ok");
}

TEST_CASE("otlp requests: every log record, body, attributes and resource attributes", "[core][records][otlp]") {
  RecordFormat f;
  f.kind = RecordKind::otlp;
  f.session = "attributes.session.id";
  f.stream = "resource.service.name";
  f.label = "severityText";
  RecordDecoder d(f);
  const std::string req = R"({"resourceLogs":[
    {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"hdfs"}},
                               {"key":"host.name","value":{"stringValue":"n1"}}]},
     "scopeLogs":[{"scope":{"name":"lib"},"logRecords":[
        {"timeUnixNano":"1700000000123456789","severityText":"INFO","body":{"stringValue":"first line"},
         "attributes":[{"key":"session.id","value":{"stringValue":"blk_1"}}]},
        {"timeUnixNano":"0","observedTimeUnixNano":"1700000001000000000","body":{"stringValue":"second"},
         "attributes":[{"key":"session.id","value":{"intValue":"77"}}]},
        {"body":{"intValue":"5"}},
        {"attributes":[]},
        "junk"]}]},
    {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]},
     "scopeLogs":[{"logRecords":[{"body":{"stringValue":"third"}}]}]}]})";
  std::vector<DecodedRecord> out;
  REQUIRE(d.decode(req, out) == 3);
  CHECK(out[0].message == "first line");
  CHECK(out[0].session == "blk_1");
  CHECK(out[0].stream == "hdfs");
  CHECK(out[0].label == "INFO");
  CHECK(out[0].timestamp_ms == 1700000000123LL);
  CHECK(out[1].message == "second");
  CHECK(out[1].session == "77");
  CHECK(out[1].timestamp_ms == 1700000001000LL);  // observed time stands in for an unknown time
  CHECK(out[2].message == "third");
  CHECK(out[2].stream == "web");
  CHECK(rejected(d, RejectReason::message_not_string) == 1);
  CHECK(rejected(d, RejectReason::no_message) == 1);
  CHECK(rejected(d, RejectReason::malformed) == 1);  // "junk" is not a log record
  CHECK(d.stats().bad_timestamps == 1);              // "third" carries no time at all

  SECTION("one stream of a shared topic") {
    d.select_streams({"web"});
    REQUIRE(d.decode(req, out) == 1);
    CHECK(out[0].message == "third");
    CHECK(d.stats().other_stream == 2);
  }
  SECTION("not an otlp request") {
    CHECK(d.decode(R"({"message":"plain json"})", out) == 0);
    CHECK(d.decode(R"({"resourceLogs":[{"scopeLogs":7}]})", out) == 0);
    CHECK(rejected(d, RejectReason::not_otlp) == 2);
  }
}

TEST_CASE("record formats validate their keys", "[core][records][config]") {
  RecordFormat raw;
  raw.session = "x";
  CHECK_THROWS_WITH(raw.validate("input"), Catch::Contains("input.session"));
  auto f = json_format();
  f.message = "a..b";
  CHECK_THROWS_WITH(f.validate("input"), Catch::Contains("input.message"));
  f = json_format();
  f.timestamp_format = "%Q";
  CHECK_THROWS_WITH(f.validate("streams[0].input"), Catch::Contains("streams[0].input.timestamp_format"));
  f = json_format();
  f.max_depth = 1;
  CHECK_THROWS_AS(f.validate("input"), ConfigError);
  RecordDecoder d(json_format());
  CHECK_THROWS_WITH(d.select_streams({"a"}), Catch::Contains("input.stream"));
  // Without parse_header a JSON message is parsed as content only.
  ParserConfig p;
  p.log_format = "<Date> <Content>";
  CHECK(message_parser(p, json_format()).log_format.empty());
  auto with_header = json_format();
  with_header.parse_header = true;
  CHECK(message_parser(p, with_header).log_format == "<Date> <Content>");
  CHECK(message_parser(p, RecordFormat{}).log_format == "<Date> <Content>");
}

TEST_CASE("a log read as JSON records gives the sessions of the same log read as lines", "[core][records][sessions]") {
  const fs::path dir = fs::temp_directory_path() / ("lg-records-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string raw_log = std::string(LOGGUARD_SOURCE_DIR) + "/data/samples/HDFS_2k.log";
  // The same lines as a shipper sends them (rsyslog imfile: the whole line is the message),
  // plus hostile records that must be left out.
  const fs::path json_log = dir / "hdfs.jsonl";
  {
    std::ifstream in(raw_log);
    std::ofstream out(json_log);
    std::string line;
    int i = 0;
    while (std::getline(in, line)) {
      out << "{\"host\":\"n1\",\"message\":" << json_quoted(line) << ",\"seq\":" << i << "}\n";
      if (++i % 500 == 0) out << "{\"message\": 12}\n{broken\n";
    }
  }
  RawSessionOptions o;
  o.parser.log_format = "<Date> <Time> <Pid> <Level> <Component>: <Content>";
  o.parser.masks = {{"blk", "hdfs_block", "", "<*>"}, {"num", "number", "", "<*>"}};
  o.session_key = R"((blk_-?\d+))";
  o.emit_time_templates = true;
  const auto lines = read_raw_sessions(raw_log, o);
  o.record.kind = RecordKind::json;
  o.record.parse_header = true;
  const auto records = read_raw_sessions(json_log.string(), o);
  CHECK(records.rejected == 8);
  CHECK(records.rejected_by_reason.size() == 2);
  REQUIRE(records.sessions.size() == lines.sessions.size());
  for (std::size_t i = 0; i < lines.sessions.size(); ++i) {
    CHECK(records.sessions[i].id == lines.sessions[i].id);
    CHECK(records.sessions[i].events == lines.sessions[i].events);
  }
  CHECK(records.templates.size() == lines.templates.size());

  SECTION("sessions keyed by a record field") {
    RawSessionOptions f;
    f.parser = o.parser;
    f.record.kind = RecordKind::json;
    f.record.session = "host";
    const auto by_host = read_raw_sessions(json_log.string(), f);
    REQUIRE(by_host.sessions.size() == 1);
    CHECK(by_host.sessions[0].id == "n1");
    CHECK(by_host.sessions[0].events.size() == lines.lines);
  }
  fs::remove_all(dir);
}
