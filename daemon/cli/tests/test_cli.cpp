#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "logguard/core/csv.hpp"
#include "cli_test_support.hpp"
#include "logguard/cli/cli.hpp"

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using namespace logguard::daemon;

namespace {

using test::cli;

// Scratch directory named after this test file.
struct TempDir : test::TempDir {
  TempDir() : test::TempDir("logguard-cli") {}
};

const char* kConfig = R"(
parser:
  log_format: "<Date> <Time> <Pid> <Level> <Component>: <Content>"
  masks:
    - {name: block, builtin: hdfs_block}
    - {name: ip, builtin: ipv4}
    - {name: num, builtin: number}
)";

std::vector<std::vector<std::string>> rows_of(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::size_t pos = 0;
  std::vector<std::string> f;
  while (logguard::core::csv::next_record(text, pos, f)) rows.push_back(f);
  return rows;
}

}  // namespace

TEST_CASE("logguard parse writes one CSV row per input line, in order", "[cli]") {
  TempDir t;
  const auto cfg = t.file("c.yaml", kConfig);
  const auto in = t.file("in.log",
                         "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating\r\n"
                         "081109 203807 222 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block blk_-6952295868487656571 terminating\r\n"
                         "not a header line, \"quoted\"\n"
                         "\n"
                         "081109 204005 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.251.73.220:50010 is added to blk_7128370237687728475 size 67108864");
  const auto out = (t.path / "out.csv").string();
  REQUIRE(cli({"parse", "--config", cfg, "--input", in, "--output", out, "--quiet"}) == kOk);
  const auto rows = rows_of(t.read("out.csv"));
  REQUIRE(rows.size() == 6);
  CHECK(rows[0] == std::vector<std::string>{"LineId", "EventId", "EventTemplate"});
  CHECK(rows[1][0] == "1");
  CHECK(rows[5][0] == "5");
  CHECK(rows[1][1] == rows[2][1]);  // same template for both PacketResponder lines
  CHECK(rows[1][2] == "PacketResponder <*> for block <*> terminating");
  CHECK(rows[3][2] == "not a header line, \"quoted\"");
  CHECK(rows[5][2].find("blockMap updated: <*> is added to <*> size <*>") != std::string::npos);
}

TEST_CASE("logguard parse --with-params adds the variable values", "[cli]") {
  TempDir t;
  const auto cfg = t.file("c.yaml", kConfig);
  const auto in = t.file("in.log",
                         "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_123 terminating\n");
  const auto out = (t.path / "out.csv").string();
  REQUIRE(cli({"parse", "-c", cfg, "-i", in, "-o", out, "--with-params", "-q"}) == kOk);
  const auto rows = rows_of(t.read("out.csv"));
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].back() == "Parameters");
  CHECK(rows[1][3] == R"(["1","blk_123"])");
}

TEST_CASE("logguard parse snapshots continue with the same ids", "[cli]") {
  TempDir t;
  const auto cfg = t.file("c.yaml", kConfig);
  const auto a = t.file("a.log", "x: alpha 1\nx: beta two 2\n");
  const auto b = t.file("b.log", "x: beta two 3\nx: alpha 4\nx: gamma\n");
  const auto ab = t.file("ab.log", "x: alpha 1\nx: beta two 2\nx: beta two 3\nx: alpha 4\nx: gamma\n");
  const auto snap = (t.path / "s.snap").string();
  REQUIRE(cli({"parse", "-c", cfg, "-i", a, "-o", (t.path / "a.csv").string(), "--save-snapshot", snap, "-q"}) == kOk);
  REQUIRE(cli({"parse", "-c", cfg, "-i", b, "-o", (t.path / "b.csv").string(), "--load-snapshot", snap, "-q"}) == kOk);
  REQUIRE(cli({"parse", "-c", cfg, "-i", ab, "-o", (t.path / "ab.csv").string(), "-q"}) == kOk);
  auto split = rows_of(t.read("a.csv"));
  const auto second = rows_of(t.read("b.csv"));
  const auto whole = rows_of(t.read("ab.csv"));
  REQUIRE(whole.size() == 6);
  REQUIRE(split.size() == 3);
  REQUIRE(second.size() == 4);
  for (int i = 0; i < 2; ++i) CHECK(split[1 + i][1] == whole[1 + i][1]);
  for (int i = 0; i < 3; ++i) {
    CHECK(second[1 + i][1] == whole[3 + i][1]);
    CHECK(second[1 + i][2] == whole[3 + i][2]);
  }
}

TEST_CASE("logguard parse without --config uses the default preset; --log-format sets the header", "[cli]") {
  TempDir t;
  const auto in = t.file("in.log",
                         "2024-01-02 10:00:01 INFO conn: connected to db.example.com:5432 in 12 ms\n"
                         "2024-01-02 10:00:02 INFO conn: connected to db2.example.com:5432 in 7 ms\n");
  const auto out = (t.path / "out.csv").string();
  REQUIRE(cli({"parse", "--log-format", "<Date> <Time> <Level> <Component>: <Content>", "-i", in, "-o", out, "-q"}) ==
          kOk);
  const auto rows = rows_of(t.read("out.csv"));
  REQUIRE(rows.size() == 3);
  CHECK(rows[1][2] == "connected to <*> in <*>");
  CHECK(rows[2][1] == rows[1][1]);
  // Without a log format the header is content too; its date and time are masked.
  REQUIRE(cli({"parse", "-i", in, "-o", out, "-q"}) == kOk);
  CHECK(rows_of(t.read("out.csv"))[2][2] == "<*> <*> INFO conn: connected to <*> in <*>");
  // A config file can start from the preset.
  const auto cfg = t.file("p.yaml", "parser:\n  preset: default\n  log_format: \"<Date> <Time> <Level> <Component>: <Content>\"\n");
  REQUIRE(cli({"parse", "-c", cfg, "-i", in, "-o", out, "-q"}) == kOk);
  CHECK(rows_of(t.read("out.csv"))[1][2] == "connected to <*> in <*>");
}

TEST_CASE("logguard exit codes", "[cli]") {
  TempDir t;
  const auto cfg = t.file("c.yaml", kConfig);
  const auto in = t.file("in.log", "hello\n");
  CHECK(cli({}) == kUsageError);
  CHECK(cli({"nosuchcommand"}) == kUsageError);
  CHECK(cli({"parse", "--bogus"}) == kUsageError);
  CHECK(cli({"parse", "--log-format", "<Date> <NoContent>", "-i", in, "-o", "-"}) == kConfigError);
  CHECK(cli({"parse", "-c", cfg, "--bogus"}) == kUsageError);
  CHECK(cli({"parse", "-c", (t.path / "missing.yaml").string(), "-i", in, "-o", "-"}) == kConfigError);
  CHECK(cli({"parse", "-c", t.file("bad.yaml", "parser:\n  drian: {}\n"), "-i", in, "-o", "-"}) == kConfigError);
  CHECK(cli({"parse", "-c", cfg, "-i", (t.path / "missing.log").string(), "-o", "-"}) == kLoadError);
  CHECK(cli({"parse", "-c", cfg, "-i", in, "-o", (t.path / "o.csv").string(), "-q", "--load-snapshot",
             t.file("bad.snap", "definitely not a snapshot")}) == kLoadError);
  CHECK(cli({"--version"}) == kOk);
}

TEST_CASE("logguard noise writes reworded variants after the templates; --max-senses narrows the synonyms", "[cli]") {
  TempDir t;
  const auto in = t.file("t.csv",
                         "EventId,EventTemplate\n"
                         "1,<*>Served block<*>to<*>\n"
                         "2,<*>Got exception while serving<*>to<*>\n");
  auto variants = [&](const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> args = {"noise", "--templates", in, "--out-templates", (t.path / name).string(),
                                      "--variants", "20", "--seed", "3"};
    args.insert(args.end(), extra.begin(), extra.end());
    REQUIRE(cli(args) == kOk);
    const auto rows = rows_of(t.read(name));
    REQUIRE(rows.size() > 3);
    CHECK(rows[0] == std::vector<std::string>{"EventId", "EventTemplate", "SourceId"});
    CHECK(rows[1] == std::vector<std::string>{"1", "<*>Served block<*>to<*>", "1"});
    std::set<std::string> out;
    for (std::size_t i = 3; i < rows.size(); ++i) {
      CHECK(std::stoi(rows[i][0]) == static_cast<int>(i));  // new ids after the largest input id
      CHECK((rows[i][2] == "1" || rows[i][2] == "2"));
      CHECK(rows[i][1].find("<*>") != std::string::npos);  // variables kept
      out.insert(rows[i][1]);
    }
    return out;
  };
  const auto all = variants("all.csv", {"--max-senses", "0"});
  const auto two = variants("two.csv", {});
  CHECK(variants("two-again.csv", {}) == two);  // deterministic in --seed
  const auto one = variants("one.csv", {"--max-senses", "1"});
  // Fewer senses, fewer synonyms to draw from: fewer distinct words across the variants.
  auto words = [](const std::set<std::string>& v) {
    std::set<std::string> w;
    for (const auto& s : v) {
      std::istringstream in(s);
      for (std::string x; in >> x;) w.insert(x);
    }
    return w.size();
  };
  CHECK(words(one) <= words(two));
  CHECK(words(two) <= words(all));
  CHECK(words(one) < words(all));
}

namespace {

// A tiny MSMASS config for sequence files (seconds to train); no encoder.
const char* kTinyModel = R"(
model:
  msmass: {window: 6, d_model: 24, ff_dim: 32, encoder_layers: 1, decoder_layers: 1,
           scales: [1, 3, 0], heads_per_scale: [1, 1, 1]}
  train: {epochs: 3, batch_size: 32, threads: 1, seed: 3}
  detect: {stride: 1}
)";

// Sessions "1 2 3 … 3 4" (normal) with session ids s0..; labelled anomalies hold template 9.
std::string sessions(int n, int first_id, bool with_anomalies) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += "s" + std::to_string(first_id + i) + ",1 2";
    for (int k = 0; k < 2 + i % 3; ++k) s += " 3";
    if (with_anomalies && i % 10 == 9) s += " 9";
    s += " 4\n";
  }
  return s;
}

const char* kTemplates = "EventId,EventTemplate\n1,start <*>\n2,open <*>\n3,read <*> bytes\n4,close <*>\n9,disk <*> failed\n";

}  // namespace

TEST_CASE("logguard train calibrates a threshold; labelled sessions give abnormal templates; --recalibrate",
          "[cli][detection]") {
  TempDir t;
  const auto cfg = t.file("m.yaml", kTinyModel);
  const auto seq = t.file("train", sessions(200, 0, true));
  std::string labels = "session,label\n";
  for (int i = 0; i < 200; ++i) labels += "s" + std::to_string(i) + "," + (i % 10 == 9 ? "1" : "0") + "\n";
  const auto lab = t.file("labels.csv", labels);
  const auto tpl = t.file("t.csv", kTemplates);
  const auto bundle = (t.path / "b").string();
  REQUIRE(cli({"train", "--config", cfg, "--sequences", seq, "--templates", tpl, "--labels", lab, "--out", bundle}) == kOk);
  const auto m1 = nlohmann::json::parse(t.read("b/manifest.json"));
  CHECK(m1["format_version"] == 3);
  CHECK(m1["abnormal_templates"] == nlohmann::json::array({"disk <*> failed"}));
  CHECK(m1["detection"]["threshold_method"] == "labelled");
  CHECK(m1["detection"]["calibration"]["anomalous_units"].get<int>() > 0);
  CHECK(m1["template_source"] == "table");
  // Detect: the abnormal template fires (score 1000), the labels come along, evaluate reads them.
  const auto test = t.file("test", sessions(20, 1000, true));
  std::string tl = "session,label\n";
  for (int i = 0; i < 20; ++i) tl += "s" + std::to_string(1000 + i) + "," + (i % 10 == 9 ? "1" : "0") + "\n";
  const auto tlab = t.file("test-labels.csv", tl);
  const auto out = (t.path / "v.jsonl").string();
  REQUIRE(cli({"detect", "--model", bundle, "--sequences", test, "--templates", tpl, "--labels", tlab, "--output", out}) ==
          kOk);
  int flagged = 0;
  for (const auto& line : t.lines("v.jsonl")) {
    const auto j = nlohmann::json::parse(line);
    CHECK(j.contains("label"));
    CHECK(j["threshold"] == m1["detection"]["threshold"]);
    if (j["label"] == 1) {
      CHECK(j["anomalous"] == true);
      CHECK(j["score"] == 1000.0);
      CHECK(j["evidence"]["observed"] == "<abnormal>");
    }
    flagged += j["anomalous"].get<bool>();
  }
  CHECK(flagged >= 2);
  // evaluate without --labels: the labels detect wrote; the false-alarm rate is reported.
  CHECK(cli({"evaluate", "--predictions", out}) == kOk);
  CHECK(cli({"evaluate", "--predictions", t.file("nolabels.jsonl", "{\"session\":\"a\",\"anomalous\":true}\n")}) ==
        kConfigError);
  // Recalibration with another budget writes a new threshold and keeps the model.
  const auto cfg2 = t.file("m2.yaml", std::string(kTinyModel) + "  calibration: {false_alarm_budget_percent: 20}\n");
  REQUIRE(cli({"train", "--config", cfg2, "--sequences", seq, "--templates", tpl, "--labels", lab, "--out", bundle,
               "--recalibrate"}) == kOk);
  const auto m2 = nlohmann::json::parse(t.read("b/manifest.json"));
  CHECK(m2["weights"]["digest_xxh64"] == m1["weights"]["digest_xxh64"]);
  CHECK(m2["detection"]["false_alarm_budget_percent"] == 20.0);

  // Labels and --abnormal-sequences together: both kinds of abnormal template are kept (the
  // held-out part's labelled ones are added after calibration, never in place of the others).
  // The last (held-out) sessions bring two more labelled templates.
  const auto tpl2 = t.file("t2.csv", std::string(kTemplates) + "8,net <*> down\n10,fan <*> stopped\n11,cpu <*> hot\n");
  const auto seq2 = t.file("train2", sessions(200, 0, true) + "x1,1 2 3 10 4\nx2,1 2 3 11 4\n");
  const auto lab2 = t.file("labels2.csv", labels + "x1,1\nx2,1\n");
  const auto ab = t.file("abnormal", "a1,1 2 8 4\n");
  REQUIRE(cli({"train", "--config", cfg, "--sequences", seq2, "--templates", tpl2, "--labels", lab2, "--abnormal-sequences",
               ab, "--out", (t.path / "b2").string()}) == kOk);
  const auto m3 = nlohmann::json::parse(t.read("b2/manifest.json"));
  const std::set<std::string> got(m3["abnormal_templates"].begin(), m3["abnormal_templates"].end());
  CHECK(got == std::set<std::string>{"disk <*> failed", "net <*> down", "fan <*> stopped", "cpu <*> hot"});
}

TEST_CASE("logguard detect refuses input the bundle was not trained for", "[cli][detection]") {
  TempDir t;
  const auto cfg = t.file("m.yaml", kTinyModel);
  const auto tpl = t.file("t.csv", kTemplates);
  const auto bundle = (t.path / "b").string();
  REQUIRE(cli({"train", "--config", cfg, "--sequences", t.file("train", sessions(100, 0, false)), "--templates", tpl,
               "--out", bundle}) == kOk);
  // Another system's templates: nothing matches.
  const auto other = t.file("o.csv", "EventId,EventTemplate\n1,user <*> logged in\n2,session <*> closed\n");
  const auto seq = t.file("o", "x1,1 2 1 2\nx2,2 1\n");
  const auto out = (t.path / "v.jsonl").string();
  CHECK(cli({"detect", "--model", bundle, "--sequences", seq, "--templates", other, "--output", out}) == kLoadError);
  CHECK(cli({"detect", "--model", bundle, "--sequences", seq, "--templates", other, "--output", out,
             "--max-unknown-percent", "100"}) == kOk);
  // A bundle without parser settings cannot read raw lines.
  CHECK(cli({"detect", "--model", bundle, "--input", seq, "--output", out}) == kLoadError);
}

TEST_CASE("missing encoder weights train the encoder from scratch with a warning", "[cli][detection][encoder]") {
  TempDir t;
  const auto cfg = t.file("m.yaml", std::string(kTinyModel) + R"(
  encoder:
    weights: models-cache/no-such-encoder
    epochs: 1
    batch_size: 4
    variants: 1
    validation_variants: 2
    scratch_hidden: 16
    scratch_layers: 1
    scratch_heads: 2
    scratch_intermediate: 32
    threads: 1
)");
  const auto bundle = (t.path / "b").string();
  REQUIRE(cli({"train", "--config", cfg, "--sequences", t.file("train", sessions(60, 0, false)), "--templates",
               t.file("t.csv", kTemplates), "--out", bundle}) == kOk);
  const auto m = nlohmann::json::parse(t.read("b/manifest.json"));
  CHECK(m["encoder"]["base"] == "scratch");
  CHECK(m["encoder"]["abnormal_by_similarity"] == false);  // auto: only with pretrained weights
  CHECK(m.contains("detection"));

  // detect loads the encoder only when some input template is not a bundle template (and
  // the bundle's files are checked either way): both paths score.
  const auto out = (t.path / "v.jsonl").string();
  const auto test = t.file("test", sessions(10, 500, false));
  CHECK(cli({"detect", "--model", bundle, "--sequences", test, "--templates", t.file("t.csv", kTemplates), "--output", out}) ==
        kOk);
  CHECK(t.lines("v.jsonl").size() == 10);
  const auto reworded = t.file("t2.csv", std::string(kTemplates) + "7,read <*> bytes from disk\n");
  CHECK(cli({"detect", "--model", bundle, "--sequences", t.file("test2", "z1,1 2 7 3 4\n"), "--templates", reworded,
             "--output", out}) == kOk);
  CHECK(t.lines("v.jsonl").size() == 1);
  // A broken encoder file is refused before anything is scored, needed or not.
  { std::ofstream(t.path / "b" / "encoder" / "model.safetensors", std::ios::trunc) << "broken"; }
  CHECK(cli({"detect", "--model", bundle, "--sequences", test, "--templates", t.file("t.csv", kTemplates), "--output", out}) ==
        kLoadError);
}
