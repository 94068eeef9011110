// Golden-file test: each shipped configs/loghub/<System>.yaml, loaded through the real YAML
// loader, must turn every raw line of tests/golden/<System>.csv into the reviewed template.
// The golden files hold the first 300 lines of each Loghub 2k sample (see
// tests/golden/LICENSE.md) with the final template of each line's cluster after those 300
// lines; bench/make_goldens.py regenerates them (review the diff before committing).
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "logguard/core/csv.hpp"
#include "logguard/core/line_parser.hpp"
#include "logguard/config/config_loader.hpp"

namespace {

using logguard::core::LineParser;
using logguard::core::ParserConfig;
using logguard::core::TemplateId;

const char* const kSystems[] = {
    "Android", "Apache",  "BGL",       "HDFS",      "HPC",       "Hadoop",      "HealthApp", "Linux",
    "Mac",     "OpenSSH", "OpenStack", "Proxifier", "Spark",     "Thunderbird", "Windows",   "Zookeeper",
};

struct Golden {
  std::vector<std::string> lines;      // raw log lines
  std::vector<std::string> templates;  // expected template per line
};

Golden read_golden(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  Golden g;
  std::string record;
  std::vector<std::string> fields;
  REQUIRE(std::getline(in, record));  // header
  REQUIRE(record.rfind("Line,EventTemplate", 0) == 0);
  while (std::getline(in, record)) {
    if (!record.empty() && record.back() == '\r') record.pop_back();
    INFO(path << " record " << g.lines.size() + 2);
    REQUIRE(logguard::core::split_csv_record(record, fields));
    REQUIRE(fields.size() == 2);
    g.lines.push_back(fields[0]);
    g.templates.push_back(fields[1]);
  }
  return g;
}

std::string config_path(const std::string& system) {
  return std::string(LOGGUARD_SOURCE_DIR) + "/configs/loghub/" + system + ".yaml";
}

std::string golden_path(const std::string& system) {
  return std::string(LOGGUARD_SOURCE_DIR) + "/tests/golden/" + system + ".csv";
}

// Parses all golden lines, then compares the final template of each line's cluster.
// Returns the number of lines whose template differs; reports the first few.
std::size_t count_mismatches(const ParserConfig& cfg, const Golden& g, const std::string& system) {
  LineParser parser(cfg);
  std::vector<TemplateId> ids;
  ids.reserve(g.lines.size());
  for (const std::string& line : g.lines) ids.push_back(parser.parse(line).template_id);
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < g.lines.size(); ++i) {
    const std::string got(parser.template_text(ids[i]));
    if (got == g.templates[i]) continue;
    if (++mismatches <= 3)
      UNSCOPED_INFO(system << " line " << i + 1 << ": " << g.lines[i] << "\n  expected: " << g.templates[i]
                           << "\n  got:      " << got);
  }
  return mismatches;
}

}  // namespace

TEST_CASE("shipped Loghub configs reproduce the golden templates", "[golden]") {
  for (const char* system : kSystems) {
    INFO("system " << system);
    const auto app = logguard::daemon::load_app_config(config_path(system));
    const Golden g = read_golden(golden_path(system));
    REQUIRE(g.lines.size() >= 100);
    CHECK(count_mismatches(app.parser, g, system) == 0);
  }
}

TEST_CASE("the golden comparison notices a config change", "[golden]") {
  // Without its masks the HDFS config must no longer reproduce the golden file: block ids
  // and addresses then stay in the templates. Guards against a comparison that always passes.
  auto app = logguard::daemon::load_app_config(config_path("HDFS"));
  const Golden g = read_golden(golden_path("HDFS"));
  app.parser.masks.clear();
  CHECK(count_mismatches(app.parser, g, "HDFS (masks removed)") > 0);
}
