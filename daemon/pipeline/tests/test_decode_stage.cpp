// The decode stage (issue #20): JSON and OTLP records through the wired pipeline. Decoded
// records are windowed as their raw lines would be; hostile records are counted, kept out of
// windows, and their offsets still complete; an OTLP request's log records share its position.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "logguard/core/record_format.hpp"
#include "logguard/pipeline/file_source.hpp"
#include "logguard/pipeline/pipeline.hpp"
#include "pipeline_fakes.hpp"

using namespace logguard;
using namespace logguard::daemon;
using testing::CapturingSink;
using testing::FakeScorer;
using testing::fake_map;

namespace fs = std::filesystem;

namespace {

const std::string kSample = std::string(LOGGUARD_SOURCE_DIR) + "/data/samples/HDFS_2k.log";

std::string json_string(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("lg-decode-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

PipelineConfig config() {
  PipelineConfig c;
  c.window.length = 1000;
  c.window.idle_timeout_ms = 0;
  c.batcher.max_batch = 8;
  c.batcher.max_wait_ms = 5;
  return c;
}

std::set<std::string> sessions_of(const CapturingSink& sink) {
  std::set<std::string> s;
  for (const auto& r : sink.records) s.insert(nlohmann::json::parse(r)["session"].get<std::string>());
  return s;
}

}  // namespace

TEST_CASE("json records flag the sessions their raw lines flag, hostile records are counted and done",
          "[pipeline][decode]") {
  TempDir tmp;
  const fs::path jsonl = tmp.path / "hdfs.jsonl";
  std::size_t inputs = 0;
  {
    std::ifstream in(kSample);
    std::ofstream out(jsonl);
    std::string line;
    int i = 0;
    while (std::getline(in, line)) {
      out << "{\"message\":" << json_string(line) << ",\"host\":\"n" << (i % 3) << "\"}\n";
      ++inputs;
      if (++i % 400 == 0) {
        out << "{\"message\":" << i << "}\n" << "not json\n"
            << "{\"message\":\"" << std::string(5000, 'x') << "\"}\n";  // over max_record_bytes
        inputs += 3;
      }
    }
  }
  // The raw lines as the reference.
  std::set<std::string> expected;
  {
    FileSource raw(kSample, 1 << 16);
    FakeScorer scorer;
    CapturingSink sink;
    Pipeline p(config(), raw, fake_map, scorer, sink, testing::fake_template_text);
    std::atomic<bool> stop{false};
    REQUIRE(p.run(stop).has_value());
    expected = sessions_of(sink);
  }
  REQUIRE(expected.size() > 10);

  core::RecordFormat f;
  f.kind = core::RecordKind::json;
  f.parse_header = true;
  f.max_record_bytes = 4096;
  core::RecordDecoder decoder(f);
  FileSource source(jsonl.string(), f.max_record_bytes);
  FakeScorer scorer;
  CapturingSink sink;
  PipelineOptions o;
  o.decoder = &decoder;
  Pipeline p(config(), source, fake_map, scorer, sink, testing::fake_template_text, std::move(o));
  std::atomic<bool> stop{false};
  REQUIRE(p.run(stop).has_value());
  CHECK(sessions_of(sink) == expected);
  CHECK(p.stats().records == inputs);
  CHECK(p.stats().log_records == 2000);
  const auto& st = decoder.stats();
  CHECK(st.rejected[static_cast<std::size_t>(core::RejectReason::message_not_string)] == 5);
  CHECK(st.rejected[static_cast<std::size_t>(core::RejectReason::malformed)] == 5);
  CHECK(st.rejected[static_cast<std::size_t>(core::RejectReason::too_large)] == 5);
  // Every offset done, the rejected records' included.
  CHECK(p.held_records() == 0);
  CHECK(source.stored_offset() == static_cast<std::int64_t>(inputs));
  for (const auto& r : sink.records) {
    const auto j = nlohmann::json::parse(r);
    // Raw lines quoted in records are the decoded messages, not the JSON envelope.
    CHECK(j["raw_lines"][0]["line"].get<std::string>().rfind("{", 0) == std::string::npos);
  }

  SECTION("sessions keyed by a record field") {
    core::RecordFormat byhost = f;
    byhost.session = "host";
    core::RecordDecoder d2(byhost);
    FileSource s2(jsonl.string(), f.max_record_bytes);
    CapturingSink sink2;
    PipelineConfig c = config();
    c.window.key_from = WindowConfig::KeyFrom::field;
    PipelineOptions o2;
    o2.decoder = &d2;
    Pipeline p2(c, s2, fake_map, scorer, sink2, testing::fake_template_text, std::move(o2));
    REQUIRE(p2.run(stop).has_value());
    CHECK(sessions_of(sink2) == std::set<std::string>{"n0", "n1", "n2"});
    CHECK(p2.held_records() == 0);
  }
}

TEST_CASE("an otlp request's log records share its position and complete it together", "[pipeline][decode][otlp]") {
  TempDir tmp;
  const fs::path file = tmp.path / "otlp.jsonl";
  auto record = [](const std::string& body, const std::string& session) {
    return R"({"body":{"stringValue":)" + json_string(body) + R"(},"attributes":[{"key":"sid","value":{"stringValue":")" +
           session + R"("}}]})";
  };
  {
    std::ofstream out(file);
    // Request 0: three records of two sessions (one WARN); request 1: one record of another
    // service (not selected); request 2: not OTLP; request 3: the last record of session a.
    out << R"({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"hdfs"}}]},"scopeLogs":[{"logRecords":[)"
        << record("x INFO one", "a") << "," << record("x WARN two", "b") << "," << record("x INFO three", "a") << "]}]}]}\n";
    out << R"({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]},"scopeLogs":[{"logRecords":[)"
        << record("x WARN elsewhere", "c") << "]}]}]}\n";
    out << R"({"logs":[]})" << "\n";
    out << R"({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"hdfs"}}]},"scopeLogs":[{"logRecords":[)"
        << record("x INFO four", "a") << "]}]}]}\n";
  }
  core::RecordFormat f;
  f.kind = core::RecordKind::otlp;
  f.session = "attributes.sid";
  f.stream = "resource.service.name";
  core::RecordDecoder decoder(f);
  decoder.select_streams({"hdfs"});
  FileSource source(file.string(), 1 << 16);
  FakeScorer scorer;
  CapturingSink sink;
  PipelineConfig c = config();
  c.window.key_from = WindowConfig::KeyFrom::field;
  PipelineOptions o;
  o.decoder = &decoder;
  Pipeline p(c, source, fake_map, scorer, sink, testing::fake_template_text, std::move(o));
  std::atomic<bool> stop{false};
  REQUIRE(p.run(stop).has_value());
  CHECK(p.stats().records == 4);
  CHECK(p.stats().log_records == 4);
  CHECK(decoder.stats().other_stream == 1);
  CHECK(decoder.stats().rejected[static_cast<std::size_t>(core::RejectReason::not_otlp)] == 1);
  REQUIRE(sink.records.size() == 1);
  const auto j = nlohmann::json::parse(sink.records[0]);
  CHECK(j["session"] == "b");
  CHECK(j["first"]["offset"] == 0);
  CHECK(p.held_records() == 0);
  CHECK(source.stored_offset() == 4);
}
