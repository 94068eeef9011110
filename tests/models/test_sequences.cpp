// Sequence / template / label readers (core/sequences.hpp) on real files and edge cases.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "logguard/core/error.hpp"
#include "logguard/core/sequences.hpp"

using namespace logguard::core;

namespace {
std::string write_tmp(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() / ("logguard_test_" + name);
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}
}  // namespace

TEST_CASE("sequence formats are detected", "[sequences]") {
  auto keyed = read_sequences(write_tmp("keyed", "blk_-1,5 5 22\nblk_2,9 11\n"));
  REQUIRE(keyed.size() == 2);
  CHECK(keyed[0].id == "blk_-1");
  CHECK(keyed[0].events == std::vector<std::uint32_t>{5, 5, 22});
  auto plain = read_sequences(write_tmp("plain", "5 5 22 \n\n9 11\n"));
  REQUIRE(plain.size() == 2);
  CHECK(plain[1].id == "3");  // line number
  CHECK(plain[1].events == std::vector<std::uint32_t>{9, 11});
  auto lab = read_sequences(write_tmp("lab", "Sequence,label\n5 22,0\n22 5 5,1\n"));
  REQUIRE(lab.size() == 2);
  CHECK(lab[1].label == 1);
  CHECK(lab[1].id == "2");
  CHECK_THROWS_WITH(read_sequences(write_tmp("bad", "blk_1,5 x 3\n")), Catch::Contains("logguard_test_bad:1"));
  CHECK_THROWS_AS(read_sequences("/nonexistent/file"), LoadError);
}

TEST_CASE("template tables: CSV with header and line-numbered", "[sequences]") {
  auto csv = read_templates(write_tmp("tpl", "EventId,EventTemplate\nE1,\"a <*>, b\"\nE7,c <*>\n"));
  REQUIRE(csv.size() == 2);
  CHECK(csv[0].id == 1);
  CHECK(csv[0].text == "a <*>, b");
  CHECK(csv[1].id == 7);
  auto lines = read_templates(write_tmp("tpl2", "<*>Adding an already existing block<*>\nVerification <*>\n"));
  REQUIRE(lines.size() == 2);
  CHECK(lines[1].id == 2);
  CHECK(normalize_template_text("<*>Adding an already existing block<*>") ==
        normalize_template_text("Adding an already existing block <*>"));
}

TEST_CASE("labels", "[sequences]") {
  auto l = read_labels(write_tmp("labels", "session,label\nblk_1,1\nblk_2,Normal\nblk_3,Anomaly\n"));
  CHECK(l.at("blk_1") == 1);
  CHECK(l.at("blk_2") == 0);
  CHECK(l.at("blk_3") == 1);
}

TEST_CASE("real HDFS sequence files read", "[sequences][integration]") {
  const std::string d = LOGGUARD_SHARED_DATA;
  auto train = read_sequences(d + "/sequences/ait-aecid/hdfs_loghub/hdfs_train");
  CHECK(train.size() == 5583);
  auto dl = read_sequences(d + "/hdfs/deeplog/wuyifan18-DeepLog/hdfs_train");
  CHECK(dl.size() == 4855);
  auto rb = read_sequences(d + "/hdfs/logrobust/d0ng1ee-logdeep/robust_log_valid.csv");
  CHECK(rb.size() == 2000);
  auto tpl = read_templates(d + "/sequences/ait-aecid/templates/HDFS_templates.csv");
  CHECK(tpl.size() >= 29);
}
