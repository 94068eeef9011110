// Issue #20 end to end on file sources: JSON records flag what the raw lines flag (logguardd and
// `logguard detect --format json` alike, hostile records counted and left out), two streams of
// one mixed JSON file in one daemon each flag what `detect` flags on its own log, and operator
// feedback (file store) suppresses a false alarm's pattern on the next run while confirmed and
// unrelated patterns still fire; `train --feedback` takes the marked windows.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "logguard/cli/cli.hpp"
#include "logguard/config/exit_codes.hpp"
#include "logguard/service/logguardd.hpp"
#include "cli_support.hpp"

namespace fs = std::filesystem;
using namespace logguard::daemon;

namespace {

using testing::detect_anomalous;
using testing::run;
using testing::write;
const std::string& kHdfs = testing::kHdfsLog;
const std::string& kBgl = testing::kBglLog;
const char* const kHdfsTrain = testing::kTinyHdfsTrain;
const std::string kBglTrain = testing::tiny_bgl_train("    entity: {field: Node, time_fields: [Timestamp], time_format: epoch_s, window_ms: 3600000}\n");

// A log's lines as JSON records, `fields` added to each (shippers add host, service, …).
std::vector<std::string> json_records(const std::string& log, const std::string& fields) {
  std::vector<std::string> out;
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // a shipper reads lines without their CR
    out.push_back("{" + fields + "\"message\":" + nlohmann::json(line).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "}");
  }
  return out;
}

std::vector<nlohmann::json> records_of(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::set<std::string> sessions_of(const std::vector<nlohmann::json>& records, const std::string& stream = "") {
  std::set<std::string> s;
  for (const auto& r : records)
    if (stream.empty() || r["stream"] == stream) s.insert(r["session"].get<std::string>());
  return s;
}

// Two tiny bundles trained once (seconds each), the logs without CRs, and their offline verdicts.
struct Fixture {
  fs::path dir = fs::temp_directory_path() / ("logguardd-streams-" + std::to_string(::getpid()));
  fs::path hdfs_log, bgl_log, hdfs_bundle, bgl_bundle;
  std::set<std::string> hdfs_offline, bgl_offline;
  Fixture() {
    fs::create_directories(dir);
    // The raw logs as a shipper sees them: lines without their CR.
    hdfs_log = dir / "hdfs.log";
    bgl_log = dir / "bgl.log";
    for (auto [from, to] : {std::pair{kHdfs, hdfs_log}, std::pair{kBgl, bgl_log}}) {
      std::ifstream in(from);
      std::ofstream out(to);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out << line << '\n';
      }
    }
    write(dir / "hdfs-train.yaml", kHdfsTrain);
    write(dir / "bgl-train.yaml", kBglTrain);
    hdfs_bundle = dir / "hdfs.bundle";
    bgl_bundle = dir / "bgl.bundle";
    REQUIRE(run(run_cli, {"logguard", "train", "--config", (dir / "hdfs-train.yaml").string(), "--out",
                          hdfs_bundle.string(), "--input", hdfs_log.string()}) == 0);
    REQUIRE(run(run_cli, {"logguard", "train", "--config", (dir / "bgl-train.yaml").string(), "--out",
                          bgl_bundle.string(), "--input", bgl_log.string()}) == 0);
    for (auto [bundle, log, set] : {std::tuple{hdfs_bundle, hdfs_log, &hdfs_offline}, std::tuple{bgl_bundle, bgl_log, &bgl_offline}}) {
      const auto out = dir / (bundle.stem().string() + ".offline.jsonl");
      REQUIRE(run(run_cli, {"logguard", "detect", "--model", bundle.string(), "--input", log.string(), "--output",
                            out.string()}) == 0);
      *set = detect_anomalous(out);
      REQUIRE(!set->empty());
    }
  }
  ~Fixture() { fs::remove_all(dir); }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

}  // namespace

TEST_CASE("json records through logguardd and detect flag what the raw lines flag", "[integration][daemon][records]") {
  auto& f = fixture();
  // HDFS as a shipper's JSON records, with hostile records in between.
  const auto jsonl = f.dir / "hdfs.jsonl";
  {
    std::ofstream out(jsonl);
    int i = 0;
    for (const auto& r : json_records(f.hdfs_log.string(), "\"host\":\"n1\",\"service\":\"hdfs\",")) {
      out << r << '\n';
      if (++i % 1000 == 0)
        out << "{\"message\":7}\n" << "{\"message\":\"broken\n" << "{\"nested\":" << std::string(100, '[')
            << std::string(100, ']') << "}\n" << "{\"msg\":\"no message field\"}\n";
    }
  }
  const auto input_yaml = f.dir / "input.yaml";
  write(input_yaml, "input: {format: json, parse_header: true}\n");
  const auto detected = f.dir / "json.detect.jsonl";
  REQUIRE(run(run_cli, {"logguard", "detect", "--model", f.hdfs_bundle.string(), "--config", input_yaml.string(),
                        "--input", jsonl.string(), "--output", detected.string()}) == 0);
  CHECK(detect_anomalous(detected) == f.hdfs_offline);

  const auto out = f.dir / "json.daemon.jsonl";
  const auto cfg = f.dir / "json.daemon.yaml";
  write(cfg, "model: {bundle: " + f.hdfs_bundle.string() + "}\n" + "source: {type: file, path: " + jsonl.string() +
                 "}\nsink: {type: file, path: " + out.string() + "}\nmetrics: {enabled: false}\n"
                 "input: {format: json, parse_header: true}\npipeline: {window: {idle_timeout_ms: 0}}\n");
  REQUIRE(run(run_logguardd, {"logguardd", "--check-config", cfg.string()}) == kOk);
  REQUIRE(run(run_logguardd, {"logguardd", "--config", cfg.string()}) == kOk);
  const auto recs = records_of(out);
  CHECK(sessions_of(recs) == f.hdfs_offline);
  for (const auto& r : recs) {
    CHECK(r["schema"] == "logguard.anomaly/v3");
    CHECK(r["stream"] == "default");
    CHECK(r["pattern"]["id"].get<std::string>().size() == 16);
  }
}

TEST_CASE("two streams of one mixed JSON file in one daemon each flag what detect flags on its log",
          "[integration][daemon][streams]") {
  auto& f = fixture();
  const auto mixed = f.dir / "mixed.jsonl";
  {
    const auto h = json_records(f.hdfs_log.string(), "\"service\":\"hdfs\",");
    const auto b = json_records(f.bgl_log.string(), "\"service\":\"bgl\",");
    std::ofstream out(mixed);
    // Interleaved in runs (a shared topic), order within each log kept.
    std::size_t i = 0, j = 0;
    while (i < h.size() || j < b.size()) {
      for (int k = 0; k < 7 && i < h.size(); ++k) out << h[i++] << '\n';
      for (int k = 0; k < 3 && j < b.size(); ++k) out << b[j++] << '\n';
    }
    out << "{\"service\":\"web\",\"message\":\"a third service nobody serves\"}\n";
  }
  const auto out = f.dir / "streams.daemon.jsonl";
  const auto cfg = f.dir / "streams.yaml";
  write(cfg, "source: {type: file, path: " + mixed.string() + "}\nsink: {type: file, path: " + out.string() +
                 "}\nmetrics: {enabled: false}\n"
                 "input: {format: json, parse_header: true, stream: service}\n"
                 "pipeline: {window: {idle_timeout_ms: 0}}\n"
                 "streams:\n"
                 "  - {name: hdfs, select: {values: [hdfs]}, model: {bundle: " + f.hdfs_bundle.string() + "}}\n"
                 "  - name: bgl\n"
                 "    select: {values: [bgl]}\n"
                 "    model: {bundle: " + f.bgl_bundle.string() + "}\n"
                 "    pipeline: {window: {idle_timeout_ms: 0}}\n");
  REQUIRE(run(run_logguardd, {"logguardd", "--check-config", cfg.string()}) == kOk);
  REQUIRE(run(run_logguardd, {"logguardd", "--config", cfg.string()}) == kOk);
  const auto recs = records_of(out);
  CHECK(sessions_of(recs, "hdfs") == f.hdfs_offline);
  CHECK(sessions_of(recs, "bgl") == f.bgl_offline);
  std::set<std::string> streams;
  for (const auto& r : recs) streams.insert(r["stream"].get<std::string>());
  CHECK(streams == std::set<std::string>{"hdfs", "bgl"});
  // detect on the mixed file, one stream at a time, agrees too.
  const auto input_yaml = f.dir / "mixed-input.yaml";
  write(input_yaml, "input: {format: json, parse_header: true, stream: service}\n");
  const auto det = f.dir / "mixed.bgl.detect.jsonl";
  REQUIRE(run(run_cli, {"logguard", "detect", "--model", f.bgl_bundle.string(), "--config", input_yaml.string(),
                        "--stream", "bgl", "--input", mixed.string(), "--output", det.string()}) == 0);
  CHECK(detect_anomalous(det) == f.bgl_offline);

  SECTION("--check-config names a stream's bad key") {
    const auto bad = f.dir / "bad-streams.yaml";
    std::string text;
    {
      std::ifstream in(cfg);
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
    text.replace(text.find(f.bgl_bundle.string()), f.bgl_bundle.string().size(), (f.dir / "nope").string());
    write(bad, text);
    CHECK(run(run_logguardd, {"logguardd", "--check-config", bad.string()}) == kLoadError);
    text = "streams: [{name: x, select: {values: [a]}}]\n";
    write(bad, text);
    CHECK(run(run_logguardd, {"logguardd", "--check-config", bad.string()}) == kConfigError);
  }
}

TEST_CASE("a false alarm's pattern is suppressed after a restart while confirmed and unrelated patterns still fire",
          "[integration][daemon][feedback]") {
  auto& f = fixture();
  const auto feedback = f.dir / "feedback.jsonl";
  fs::remove(feedback);
  auto daemon = [&](const std::string& name) {
    const auto out = f.dir / (name + ".jsonl");
    fs::remove(out);
    const auto cfg = f.dir / (name + ".yaml");
    write(cfg, "model: {bundle: " + f.hdfs_bundle.string() + "}\nsource: {type: file, path: " + f.hdfs_log.string() +
                   "}\nsink: {type: file, path: " + out.string() + "}\nmetrics: {enabled: false}\n"
                   "pipeline: {window: {idle_timeout_ms: 0}}\nfeedback: {enabled: true, path: " + feedback.string() + "}\n");
    REQUIRE(run(run_logguardd, {"logguardd", "--config", cfg.string()}) == kOk);
    return std::pair{records_of(out), cfg};
  };
  const auto [first, cfg] = daemon("feedback-1");
  REQUIRE(sessions_of(first) == f.hdfs_offline);
  std::map<std::string, std::vector<std::string>> by_pattern;  // pattern -> record ids
  for (const auto& r : first) by_pattern[r["pattern"]["id"].get<std::string>()].push_back(r["id"].get<std::string>());
  REQUIRE(by_pattern.size() >= 3);
  // The most frequent pattern was a false alarm; another one is confirmed; the rest unmarked.
  auto fa = by_pattern.begin();
  for (auto it = by_pattern.begin(); it != by_pattern.end(); ++it)
    if (it->second.size() > fa->second.size()) fa = it;
  auto ok = by_pattern.begin() == fa ? std::next(by_pattern.begin()) : by_pattern.begin();
  CHECK(run(run_cli, {"logguard", "feedback", "mark", fa->second[0], "--false-alarm", "--config", cfg.string(), "--note",
                      "known maintenance"}) == 0);
  CHECK(run(run_cli, {"logguard", "feedback", "mark", ok->second[0], "--confirm", "--config", cfg.string()}) == 0);
  CHECK(run(run_cli, {"logguard", "feedback", "mark", "ffffffffffffffff", "--confirm", "--config", cfg.string()}) ==
        kLoadError);  // no such record
  const auto listed = f.dir / "feedback-list.jsonl";
  {
    // `feedback list --json` prints to stdout: redirect it into a file for train --feedback.
    std::fflush(stdout);
    const int saved = ::dup(1);
    FILE* to = std::fopen(listed.c_str(), "w");
    ::dup2(::fileno(to), 1);
    const int rc = run(run_cli, {"logguard", "feedback", "list", "--json", "--config", cfg.string()});
    std::fflush(stdout);
    ::dup2(saved, 1);
    ::close(saved);
    std::fclose(to);
    CHECK(rc == 0);
  }
  CHECK(records_of(listed).size() == 2);

  // Restart on the same input: the false alarm's windows are suppressed, everything else fires.
  const auto [second, cfg2] = daemon("feedback-2");
  std::set<std::string> patterns;
  for (const auto& r : second) patterns.insert(r["pattern"]["id"].get<std::string>());
  CHECK_FALSE(patterns.count(fa->first));
  CHECK(patterns.count(ok->first));
  CHECK(patterns.size() == by_pattern.size() - 1);
  CHECK(second.size() == first.size() - fa->second.size());

  // train takes the false alarm's window as a normal session.
  const auto retrained = f.dir / "hdfs-feedback.bundle";
  CHECK(run(run_cli, {"logguard", "train", "--config", (f.dir / "hdfs-train.yaml").string(), "--out", retrained.string(),
                      "--input", f.hdfs_log.string(), "--feedback", listed.string()}) == 0);

  // Withdrawn: the pattern fires again.
  CHECK(run(run_cli, {"logguard", "feedback", "withdraw", fa->second[0], "--config", cfg.string()}) == 0);
  const auto [third, cfg3] = daemon("feedback-3");
  CHECK(third.size() == first.size());
}
