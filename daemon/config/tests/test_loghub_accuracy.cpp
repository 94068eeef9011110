// Accuracy regression: the shipped configs/loghub/*.yaml must keep the Loghub-2.0 accuracy
// targets on the 16 Loghub 2k samples, scored against the corrected ground truth with the
// Loghub-2.0 metrics (same definitions as bench/loghub_accuracy.py; docs/parser-accuracy.md).
// Needs ../shared/data (skipped with a warning when absent).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "logguard/core/csv.hpp"
#include "logguard/core/line_parser.hpp"
#include "logguard/config/config_loader.hpp"

namespace {

namespace fs = std::filesystem;

struct Scores {
  double ga = 0, pa = 0, fga = 0, fta = 0;
};

double f1(double p, double r) { return p + r == 0 ? 0 : 2 * p * r / (p + r); }

// truth[i], parsed[i]: template texts of line i. Groups are keyed by text on both sides.
Scores score(const std::vector<std::string>& truth, const std::vector<std::string>& parsed) {
  REQUIRE(truth.size() == parsed.size());
  const std::size_t n = truth.size();
  std::unordered_map<std::string, std::size_t> parsed_size;
  std::map<std::string, std::vector<std::size_t>> by_truth;
  std::map<std::string, std::set<std::string>> truths_of_parsed;
  std::size_t same_text = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ++parsed_size[parsed[i]];
    by_truth[truth[i]].push_back(i);
    truths_of_parsed[parsed[i]].insert(truth[i]);
    same_text += truth[i] == parsed[i];
  }
  std::size_t good_lines = 0, good_groups = 0;
  for (const auto& [t, lines] : by_truth) {
    const std::string& p = parsed[lines.front()];
    bool one = parsed_size[p] == lines.size();
    for (std::size_t i : lines) one = one && parsed[i] == p;
    if (one) {
      good_lines += lines.size();
      ++good_groups;
    }
  }
  std::size_t good_templates = 0;
  for (const auto& [p, ts] : truths_of_parsed) good_templates += ts.size() == 1 && *ts.begin() == p;
  Scores s;
  s.ga = static_cast<double>(good_lines) / static_cast<double>(n);
  s.pa = static_cast<double>(same_text) / static_cast<double>(n);
  s.fga = f1(static_cast<double>(good_groups) / static_cast<double>(parsed_size.size()),
             static_cast<double>(good_groups) / static_cast<double>(by_truth.size()));
  s.fta = f1(static_cast<double>(good_templates) / static_cast<double>(truths_of_parsed.size()),
             static_cast<double>(good_templates) / static_cast<double>(by_truth.size()));
  return s;
}

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> read_truth(const fs::path& p) {
  std::vector<std::string> out, fields;
  const auto records = read_lines(p);
  REQUIRE(!records.empty());
  REQUIRE(logguard::core::split_csv_record(records[0], fields));
  std::size_t col = fields.size();
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (fields[i] == "EventTemplate") col = i;
  REQUIRE(col < fields.size());
  for (std::size_t r = 1; r < records.size(); ++r) {
    REQUIRE(logguard::core::split_csv_record(records[r], fields));
    out.push_back(fields.at(col));
  }
  return out;
}

const char* const kSystems[] = {"Android", "Apache",    "BGL",       "HDFS",  "HPC",         "Hadoop",
                                "HealthApp", "Linux",   "Mac",       "OpenSSH", "OpenStack", "Proxifier",
                                "Spark",   "Thunderbird", "Windows", "Zookeeper"};

fs::path config_of(const std::string& sys) {
  return fs::path(LOGGUARD_SOURCE_DIR) / "configs" / "loghub" / (sys + ".yaml");
}

// One system's loghub-2k log parsed with `parser`, scored against the corrected ground truth
// (each line by its cluster's final template).
Scores score_system(const fs::path& data, const std::string& sys, const logguard::core::ParserConfig& parser) {
  const auto lines = read_lines(data / "loghub-2k" / sys / (sys + "_2k.log"));
  const auto truth = read_truth(data / "loghub-2.0" / "2k_dataset" / sys / (sys + "_2k.log_structured_corrected.csv"));
  logguard::core::LineParser lp(parser);
  std::vector<logguard::core::TemplateId> ids;
  for (const auto& l : lines) ids.push_back(lp.parse(l).template_id);
  std::vector<std::string> parsed;
  for (auto id : ids) parsed.emplace_back(lp.template_text(id));
  return score(truth, parsed);
}

void add(Scores& sum, const Scores& s) {
  sum.ga += s.ga;
  sum.pa += s.pa;
  sum.fga += s.fga;
  sum.fta += s.fta;
}

}  // namespace

TEST_CASE("metric definitions on a hand-made example", "[accuracy]") {
  // Truth groups {A: 0,1} {B: 2} {C: 3}; parsed groups {A: 0,1} {x: 2,3}.
  const Scores s = score({"A", "A", "B", "C"}, {"A", "A", "x", "x"});
  CHECK(s.ga == Approx(0.5));           // only group A is reproduced exactly
  CHECK(s.pa == Approx(0.5));           // lines 0 and 1 carry the right text
  CHECK(s.fga == Approx(2 * 0.5 * (1.0 / 3) / (0.5 + 1.0 / 3)));
  CHECK(s.fta == Approx(2 * 0.5 * (1.0 / 3) / (0.5 + 1.0 / 3)));
  const Scores perfect = score({"a", "b"}, {"a", "b"});
  CHECK(perfect.ga == 1.0);
  CHECK(perfect.fta == 1.0);
}

TEST_CASE("shipped Loghub configs meet the accuracy targets on the corrected ground truth",
          "[accuracy][integration]") {
  const fs::path data = LOGGUARD_SHARED_DATA;
  if (!fs::exists(data / "loghub-2k")) {
    WARN("no Loghub data at " << data << "; skipped");
    return;
  }
  Scores sum;
  for (const std::string sys : kSystems) {
    const Scores s = score_system(data, sys, logguard::daemon::load_app_config(config_of(sys)).parser);
    INFO(sys << ": GA " << s.ga << " PA " << s.pa << " FGA " << s.fga << " FTA " << s.fta);
    CHECK(s.ga >= 0.85);  // no system may fall far behind (lowest measured: Mac, HPC ~0.9)
    add(sum, s);
  }
  const double n = static_cast<double>(std::size(kSystems));
  INFO("averages: GA " << sum.ga / n << " PA " << sum.pa / n << " FGA " << sum.fga / n << " FTA " << sum.fta / n);
  CHECK(sum.ga / n >= 0.95);
  CHECK(sum.fga / n >= 0.85);
  CHECK(sum.pa / n >= 0.60);
  CHECK(sum.fta / n >= 0.55);
}

TEST_CASE("the default preset keeps its accuracy on the 16 Loghub systems", "[accuracy][integration]") {
  // The preset with each system's header layout only (as bench/parser_cv.py runs it); a guard
  // against regressions, not the cross-validated figure (docs/parser-accuracy.md).
  const fs::path data = LOGGUARD_SHARED_DATA;
  if (!fs::exists(data / "loghub-2k")) {
    WARN("no Loghub data at " << data << "; skipped");
    return;
  }
  Scores sum;
  for (const std::string sys : kSystems) {
    const auto shipped = logguard::daemon::load_app_config(config_of(sys));
    const auto app = logguard::daemon::parse_app_config(
        "parser:\n  preset: default\n  log_format: \"" + shipped.parser.log_format + "\"\n", sys + "-preset");
    const Scores s = score_system(data, sys, app.parser);
    INFO(sys << ": GA " << s.ga << " PA " << s.pa << " FGA " << s.fga << " FTA " << s.fta);
    add(sum, s);
  }
  const double n = static_cast<double>(std::size(kSystems));
  INFO("averages: GA " << sum.ga / n << " PA " << sum.pa / n << " FGA " << sum.fga / n << " FTA " << sum.fta / n);
  CHECK(sum.ga / n >= 0.90);  // measured 0.921
  CHECK(sum.fga / n >= 0.89);  // 0.912
  CHECK(sum.pa / n >= 0.70);   // 0.724
  CHECK(sum.fta / n >= 0.67);  // 0.696
}
