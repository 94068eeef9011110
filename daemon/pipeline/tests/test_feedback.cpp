// Operator feedback (issue #20): patterns of anomalous windows, the book of marks (records,
// withdrawals, tombstones, malformed values), the file store, and the pipeline suppressing the
// windows of a pattern marked false alarm while confirmed and unmarked patterns still fire.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "logguard/pipeline/anomaly_record.hpp"
#include "logguard/pipeline/feedback.hpp"
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

Window window_of(std::initializer_list<core::TemplateId> ids, std::int64_t first_offset = 0) {
  Window w;
  w.key = "s";
  std::int64_t off = first_offset;
  for (auto id : ids) w.events.push_back(testing::event(0, off++, id));
  return w;
}

FeedbackRecord mark(FeedbackVerdict v, const std::string& stream, const std::string& pattern) {
  FeedbackRecord r;
  r.verdict = v;
  r.stream = stream;
  r.pattern = pattern;
  r.record_id = "0123456789abcdef";
  r.window = {"INFO <*>", "WARN <*>"};
  r.transitions = {{"INFO <*>", "WARN <*>"}};
  return r;
}

}  // namespace

TEST_CASE("a pattern names the failing transitions by text, whatever the window's offsets", "[pipeline][feedback]") {
  const auto text = testing::fake_template_text;
  Verdict v;
  v.anomalous = true;
  v.failing = {FailingPosition{2, 7, {1}}};
  const auto a = anomaly_pattern(window_of({1, 1, 7, 1}), v, "hdfs", text);
  const auto b = anomaly_pattern(window_of({1, 1, 7, 1, 1}, 500), v, "hdfs", text);
  CHECK(a.id == b.id);
  CHECK(a.id.size() == 16);
  REQUIRE(a.transitions.size() == 1);
  CHECK(a.transitions[0] == std::pair<std::string, std::string>{"INFO <*>", "WARN <*>"});
  CHECK(anomaly_pattern(window_of({1, 1, 7, 1}), v, "web", text).id != a.id);  // per stream
  Verdict first = v;
  first.failing = {FailingPosition{0, 7, {1}}};
  CHECK(anomaly_pattern(window_of({7, 1}), first, "hdfs", text).transitions[0].first == "<window-start>");
  Verdict unknown = v;
  unknown.failing = {FailingPosition{1, 0, {1}}};
  CHECK(anomaly_pattern(window_of({1, 0}), unknown, "hdfs", text).transitions[0].second == "<unknown>");
  Verdict no_failing;
  no_failing.anomalous = true;
  CHECK(anomaly_pattern(window_of({1, 7}), no_failing, "hdfs", text).transitions.size() == 2);
  // The record carries stream and pattern (schema v3).
  AnomalyRecordOptions o;
  o.stream = "hdfs";
  const auto j = nlohmann::json::parse(anomaly_record_json(window_of({1, 1, 7, 1}), v, "m", text, o));
  CHECK(j["schema"] == "logguard.anomaly/v3");
  CHECK(j["stream"] == "hdfs");
  CHECK(j["pattern"]["id"] == a.id);
  CHECK(j["pattern"]["transitions"][0][1] == "WARN <*>");
}

TEST_CASE("the feedback book keeps the last mark per stream and pattern", "[pipeline][feedback]") {
  FeedbackBook book;
  const auto fa = mark(FeedbackVerdict::false_alarm, "hdfs", "aaaaaaaaaaaaaaaa");
  REQUIRE(book.apply(feedback_key("hdfs", "aaaaaaaaaaaaaaaa"), encode_feedback(fa)));
  CHECK(book.suppresses("hdfs", "aaaaaaaaaaaaaaaa"));
  CHECK_FALSE(book.suppresses("web", "aaaaaaaaaaaaaaaa"));
  book.apply(mark(FeedbackVerdict::confirmed, "hdfs", "bbbbbbbbbbbbbbbb"));
  CHECK(book.verdict("hdfs", "bbbbbbbbbbbbbbbb") == FeedbackVerdict::confirmed);
  CHECK(book.stats().false_alarms == 1);
  CHECK(book.stats().confirmed == 1);
  // A later record of the key wins; a withdrawal or a tombstone removes the mark.
  book.apply(mark(FeedbackVerdict::confirmed, "hdfs", "aaaaaaaaaaaaaaaa"));
  CHECK_FALSE(book.suppresses("hdfs", "aaaaaaaaaaaaaaaa"));
  book.apply(mark(FeedbackVerdict::withdrawn, "hdfs", "aaaaaaaaaaaaaaaa"));
  CHECK_FALSE(book.verdict("hdfs", "aaaaaaaaaaaaaaaa"));
  CHECK(book.apply(feedback_key("hdfs", "bbbbbbbbbbbbbbbb"), ""));
  CHECK(book.marks().empty());
  // Malformed values are counted, never applied; a key that does not match the body neither.
  CHECK_FALSE(book.apply("k", "{not json"));
  CHECK_FALSE(book.apply("k", R"({"schema":"logguard.feedback/v1","verdict":"maybe","stream":"a","pattern":"p"})"));
  CHECK_FALSE(book.apply("other/p", encode_feedback(fa)));
  CHECK(book.stats().malformed == 3);
  const auto back = parse_feedback(encode_feedback(fa));
  REQUIRE(back);
  CHECK(back->window == fa.window);
  CHECK(back->transitions == fa.transitions);
}

TEST_CASE("the file store is read again when it changes", "[pipeline][feedback]") {
  const fs::path file = fs::temp_directory_path() / ("lg-feedback-" + std::to_string(::getpid()) + ".jsonl");
  fs::remove(file);
  FeedbackBook book;
  FeedbackFile store(file.string(), book);
  CHECK(store.poll());  // missing: empty
  CHECK_FALSE(store.poll());
  FeedbackFile::append(file.string(), mark(FeedbackVerdict::false_alarm, "hdfs", "aaaaaaaaaaaaaaaa"));
  CHECK(store.poll());
  CHECK(book.suppresses("hdfs", "aaaaaaaaaaaaaaaa"));
  FeedbackFile::append(file.string(), mark(FeedbackVerdict::withdrawn, "hdfs", "aaaaaaaaaaaaaaaa"));
  CHECK(store.poll());
  CHECK(book.marks().empty());
  CHECK(FeedbackFile::read_values(file.string()).size() == 2);
  fs::remove(file);
}

TEST_CASE("a false-alarm pattern is suppressed, counted and its lines done while others still fire",
          "[pipeline][feedback]") {
  const std::string sample = std::string(LOGGUARD_SOURCE_DIR) + "/data/samples/HDFS_2k.log";
  PipelineConfig c;
  c.window.length = 1000;
  c.window.idle_timeout_ms = 0;
  c.record.stream = "hdfs";
  auto run = [&](const FeedbackBook* book, CapturingSink& sink) {
    FileSource source(sample, 1 << 16);
    FakeScorer scorer;
    PipelineOptions o;
    o.feedback = book;
    Pipeline p(c, source, fake_map, scorer, sink, testing::fake_template_text, std::move(o));
    std::atomic<bool> stop{false};
    REQUIRE(p.run(stop).has_value());
    CHECK(p.held_records() == 0);
    CHECK(source.stored_offset() == 2000);
    return std::array<std::uint64_t, 3>{p.stats().anomalies.load(), p.stats().suppressed.load(), p.stats().confirmed.load()};
  };
  CapturingSink all;
  run(nullptr, all);
  // Patterns of the unsuppressed run: mark the most frequent one false alarm, another confirmed.
  std::map<std::string, int> count;
  for (const auto& r : all.records) ++count[nlohmann::json::parse(r)["pattern"]["id"].get<std::string>()];
  REQUIRE(count.size() >= 2);
  auto most = std::max_element(count.begin(), count.end(), [](auto& a, auto& b) { return a.second < b.second; });
  const std::string fa = most->first;
  const std::string ok = fa == count.begin()->first ? std::next(count.begin())->first : count.begin()->first;
  FeedbackBook book;
  book.apply(mark(FeedbackVerdict::false_alarm, "hdfs", fa));
  book.apply(mark(FeedbackVerdict::confirmed, "hdfs", ok));
  book.apply(mark(FeedbackVerdict::false_alarm, "web", ok));  // another stream's mark: no effect here
  CapturingSink some;
  const auto st = run(&book, some);
  CHECK(st[0] == all.records.size());
  CHECK(st[1] == static_cast<std::uint64_t>(most->second));
  CHECK(st[2] == static_cast<std::uint64_t>(count[ok]));
  CHECK(some.records.size() == all.records.size() - most->second);
  std::set<std::string> left;
  for (const auto& r : some.records) left.insert(nlohmann::json::parse(r)["pattern"]["id"].get<std::string>());
  CHECK_FALSE(left.count(fa));
  CHECK(left.count(ok));
  CHECK(left.size() == count.size() - 1);
}
