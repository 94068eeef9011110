// logguardd end to end on a file source: the same anomalous sessions as `logguard detect`
// on the same raw HDFS lines (a tiny MSMASS model trained once in the fixture), config
// checks and exit codes.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "logguard/cli/cli.hpp"
#include "logguard/service/logguardd.hpp"
#include "cli_support.hpp"

namespace fs = std::filesystem;
using namespace logguard::daemon;

namespace {

using testing::detect_anomalous;
using testing::run;
using testing::write;
const std::string& kLog = testing::kHdfsLog;
const char* const kTrainConfig = testing::kTinyHdfsTrain;

/// A tiny bundle trained once on the raw sample (a few seconds).
struct Fixture {
  fs::path dir;
  fs::path bundle;
  std::set<std::string> offline_anomalous;
  std::size_t offline_sessions = 0;
  Fixture() {
    dir = fs::temp_directory_path() / ("logguardd-test-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    write(dir / "train.yaml", kTrainConfig);
    bundle = dir / "bundle";
    REQUIRE(run(run_cli, {"logguard", "train", "--config", (dir / "train.yaml").string(), "--out", bundle.string(),
                          "--input", kLog}) == 0);
    const auto verdicts = dir / "offline.jsonl";
    REQUIRE(run(run_cli, {"logguard", "detect", "--config", (dir / "train.yaml").string(), "--model",
                          bundle.string(), "--input", kLog, "--output", verdicts.string()}) == 0);
    std::ifstream in(verdicts);
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      ++offline_sessions;
      if (j["anomalous"].get<bool>()) offline_anomalous.insert(j["session"].get<std::string>());
    }
  }
  ~Fixture() { fs::remove_all(dir); }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

std::string daemon_config(const Fixture& f, const std::string& out, const std::string& extra = "") {
  return "model:\n  bundle: " + f.bundle.string() + "\n  detect: {top_k: 8, stride: 1}\n" +
         "source: {type: file, path: " + kLog + "}\n" + "sink: {type: file, path: " + out + "}\n" +
         "metrics: {enabled: false}\n"
         "pipeline:\n  window: {idle_timeout_ms: 0, max_open_sessions: 100000}\n" +
         extra;
}

}  // namespace

TEST_CASE("logguardd on a file source flags the sessions logguard detect flags", "[integration][daemon][logguardd]") {
  auto& f = fixture();
  REQUIRE(f.offline_sessions > 50);
  for (std::size_t cache : {std::size_t{0}, std::size_t{100000}}) {
    INFO("verdict_cache " << cache);
    const auto out = f.dir / ("anomalies-" + std::to_string(cache) + ".jsonl");
    fs::remove(out);
    const auto cfg = f.dir / "daemon.yaml";
    write(cfg, daemon_config(f, out.string()) + "  verdict_cache_unused: 0\n");
    // (the line above is an unknown key: rejected with exit code 3)
    CHECK(run(run_logguardd, {"logguardd", "--check-config", cfg.string()}) == kConfigError);
    std::string text = daemon_config(f, out.string());
    text.replace(text.find("  detect:"), 0, "  verdict_cache: " + std::to_string(cache) + "\n");
    write(cfg, text);
    REQUIRE(run(run_logguardd, {"logguardd", "--check-config", cfg.string()}) == kOk);
    REQUIRE(run(run_logguardd, {"logguardd", "--config", cfg.string()}) == kOk);
    std::set<std::string> streamed;
    std::ifstream in(out);
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      CHECK(j["schema"] == "logguard.anomaly/v3");
      streamed.insert(j["session"].get<std::string>());
    }
    CHECK(streamed == f.offline_anomalous);
  }
}

TEST_CASE("logguardd --check-config names the bad key and uses the documented exit codes",
          "[integration][daemon][logguardd][config]") {
  auto& f = fixture();
  const auto cfg = f.dir / "bad.yaml";
  const auto out = (f.dir / "x.jsonl").string();
  SECTION("usage") { CHECK(run(run_logguardd, {"logguardd"}) == kUsageError); }
  SECTION("missing bundle key") {
    write(cfg, "source: {type: stdin}\nsink: {type: stdout}\n");
    CHECK(run(run_logguardd, {"logguardd", "--check-config", cfg.string()}) == kConfigError);
  }
  SECTION("unreadable bundle") {
    write(cfg, "model: {bundle: " + (f.dir / "nope").string() + "}\nsource: {type: stdin}\nsink: {type: stdout}\n");
    CHECK(run(run_logguardd, {"logguardd", "--check-config", cfg.string()}) == kLoadError);
  }
  SECTION("file source without a path") {
    write(cfg, "model: {bundle: " + f.bundle.string() + "}\nsource: {type: file}\nsink: {type: stdout}\n");
    CHECK(run(run_logguardd, {"logguardd", "--check-config", cfg.string()}) == kConfigError);
  }
  SECTION("chunk without W events of overlap") {
    std::string text = daemon_config(f, out);
    text.replace(text.find("idle_timeout_ms"), 0, "length: 12, stride: 8, ");
    write(cfg, text);
    CHECK(run(run_logguardd, {"logguardd", "--check-config", cfg.string()}) == kConfigError);
  }
  SECTION("missing source file") {
    std::string text = daemon_config(f, out);
    text.replace(text.find(kLog), kLog.size(), (f.dir / "missing.log").string());
    write(cfg, text);
    CHECK(run(run_logguardd, {"logguardd", "--config", cfg.string()}) == kLoadError);
  }
}

namespace {

const std::string& kBgl = testing::kBglLog;

// Anomalous units of a daemon output: the session key, or the line range of a count window
// (first/last offsets of the file source are 0-based line numbers).
std::set<std::string> daemon_anomalous(const fs::path& p, bool count_windows) {
  std::set<std::string> s;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    CHECK(j["score"].get<double>() > j["threshold"].get<double>());
    if (count_windows)
      s.insert("lines:" + std::to_string(j["first"]["offset"].get<long>() + 1) + "-" +
               std::to_string(j["last"]["offset"].get<long>() + 1));
    else
      s.insert(j["session"].get<std::string>());
  }
  return s;
}

}  // namespace

TEST_CASE("a session-less bundle: logguardd cuts and judges as detect without any window or detect settings",
          "[integration][daemon][logguardd][bgl]") {
  const auto dir = fixture().dir / "bgl";
  fs::create_directories(dir);
  for (const std::string cut : {"count", "entity"}) {
    INFO("cut " << cut);
    const auto cfg = dir / (cut + ".yaml");
    write(cfg, testing::tiny_bgl_train(cut == "count" ? "    count_window_lines: 20\n"
                                               : "    entity: {field: Node, time_fields: [Timestamp], "
                                                 "time_format: epoch_s, window_ms: 3600000}\n"));
    const auto bundle = dir / (cut + ".bundle");
    REQUIRE(run(run_cli, {"logguard", "train", "--config", cfg.string(), "--out", bundle.string(), "--input", kBgl}) == 0);
    const auto offline = dir / (cut + ".offline.jsonl");
    REQUIRE(run(run_cli, {"logguard", "detect", "--model", bundle.string(), "--input", kBgl, "--output",
                          offline.string()}) == 0);
    const auto expected = detect_anomalous(offline);
    CHECK(!expected.empty());
    // The daemon config names the bundle, the input and the output: nothing else.
    const auto out = dir / (cut + ".daemon.jsonl");
    const auto dcfg = dir / (cut + ".daemon.yaml");
    write(dcfg, "model: {bundle: " + bundle.string() + "}\nsource: {type: file, path: " + kBgl +
                    "}\nsink: {type: file, path: " + out.string() + "}\nmetrics: {enabled: false}\n"
                    "pipeline: {window: {idle_timeout_ms: 0}}\n");
    REQUIRE(run(run_logguardd, {"logguardd", "--config", dcfg.string()}) == kOk);
    CHECK(daemon_anomalous(out, cut == "count") == expected);
  }
}
