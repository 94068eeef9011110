// `logguard replay` / `logguard tail` and the tool clients behind them (KafkaProducer,
// KafkaTopicReader) against librdkafka's in-process mock cluster.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_support.hpp"
#include "logguard/cli/cli.hpp"
#include "logguard/kafka/embedded.hpp"
#include "logguard/kafka/producer.hpp"
#include "logguard/kafka/topic_reader.hpp"

namespace fs = std::filesystem;
using namespace logguard::daemon;
using namespace std::chrono_literals;

namespace {

using test::cli;

// Scratch directory named after this test file.
struct TempDir : test::TempDir {
  TempDir() : test::TempDir("logguard-replay") {}
};

// Every message of `topic`, read until `want` arrived (safety deadline only).
std::vector<KafkaMessage> read_all(const std::string& bootstrap, const std::string& topic, std::size_t want) {
  KafkaTopicReader reader(bootstrap, topic, {}, 10s);
  std::vector<KafkaMessage> out;
  const auto until = std::chrono::steady_clock::now() + 60s;
  KafkaMessage m;
  while (out.size() < want && std::chrono::steady_clock::now() < until)
    if (reader.poll(m, 100ms)) out.push_back(m);
  return out;
}

std::string hdfs_lines(int n) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += "081109 2036" + std::to_string(10 + i % 50) + " 148 INFO dfs.DataNode: Received block blk_" +
         std::to_string(1000 + i % 7) + " of size 67108864 from /10.250.19.102\n";
  s += "081109 203700 1 INFO dfs.FSNamesystem: no block here\n";
  return s;
}

}  // namespace

TEST_CASE("replay produces every line keyed by the pattern; tail reads them back", "[integration][kafka_mock][replay]") {
  EmbeddedKafka cluster(1);
  cluster.create_topic("lines", 3);
  const std::string bs = cluster.bootstrap_servers();
  TempDir dir;
  const std::string input = dir.file("in.log", hdfs_lines(200));

  REQUIRE(cli({"replay", "--brokers", bs, "--topic", "lines", "--input", input, "--key-pattern", "blk_-?\\d+",
               "--rate", "100000", "-X", "linger.ms=1", "-q"}) == kOk);
  const auto msgs = read_all(bs, "lines", 201);
  REQUIRE(msgs.size() == 201);
  std::map<std::string, std::vector<std::int64_t>> offsets_by_key;
  std::map<std::string, std::set<std::int32_t>> partitions_by_key;
  const std::regex blk("blk_-?\\d+");
  for (const auto& m : msgs) {
    std::smatch k;
    const bool has = std::regex_search(m.value, k, blk);
    CHECK(m.key == (has ? k.str() : std::string()));
    CHECK(m.timestamp_ms > 0);
    CHECK_FALSE(m.log_append_time);
    partitions_by_key[m.key].insert(m.partition);
  }
  for (const auto& [key, parts] : partitions_by_key)
    if (!key.empty()) CHECK(parts.size() == 1);  // one key, one partition: per-session order kept

  // tail: the same messages through the command, as values and as JSON.
  REQUIRE(cli({"tail", "--brokers", bs, "--topic", "lines", "--count", "201", "--timeout-ms", "60000", "--output",
               (dir.path / "values.txt").string()}) == kOk);
  auto values = dir.lines("values.txt");
  auto expected = dir.lines("in.log");
  std::sort(values.begin(), values.end());
  std::sort(expected.begin(), expected.end());
  CHECK(values == expected);
  REQUIRE(cli({"tail", "--brokers", bs, "--topic", "lines", "--count", "5", "--format", "json", "--output",
               (dir.path / "msgs.jsonl").string()}) == kOk);
  const auto js = dir.lines("msgs.jsonl");
  REQUIRE(js.size() == 5);
  for (const auto& l : js) {
    const auto j = nlohmann::json::parse(l);
    CHECK(j.at("topic") == "lines");
    CHECK(j.at("timestamp_type") == "create");
    CHECK(j.at("received_ms").get<std::int64_t>() >= j.at("timestamp_ms").get<std::int64_t>() - 1000);
    CHECK(j.at("value").get<std::string>().find("081109") == 0);
  }
  // More than the topic holds: exit 1 once the time is up.
  CHECK(cli({"tail", "--brokers", bs, "--topic", "lines", "--count", "500", "--idle-ms", "500", "--output",
             (dir.path / "short.txt").string()}) == kRuntimeError);
  CHECK(dir.lines("short.txt").size() == 201);
}

TEST_CASE("replay --loop and --limit count lines; the summary is JSON", "[integration][kafka_mock][replay]") {
  EmbeddedKafka cluster(1);
  cluster.create_topic("lines", 1);
  const std::string bs = cluster.bootstrap_servers();
  TempDir dir;
  const std::string input = dir.file("in.log", "a\nb\r\nc");  // CRLF stripped; last line without LF kept
  // Capture stdout (the summary) through a file.
  const std::string summary = (dir.path / "summary.json").string();
  std::fflush(stdout);
  const int saved = ::dup(1);
  FILE* f = std::fopen(summary.c_str(), "wb");
  ::dup2(::fileno(f), 1);
  const int rc = cli({"replay", "--brokers", bs, "--topic", "lines", "--input", input, "--loop", "3", "--limit", "8"});
  std::fflush(stdout);
  ::dup2(saved, 1);
  ::close(saved);
  std::fclose(f);
  REQUIRE(rc == kOk);
  const auto j = nlohmann::json::parse(dir.lines("summary.json").at(0));
  CHECK(j.at("lines") == 8);
  CHECK(j.at("delivered") == 8);
  CHECK(j.at("failed") == 0);
  CHECK(j.at("lines_per_s").get<double>() > 0);
  const auto msgs = read_all(bs, "lines", 8);
  std::vector<std::string> got;
  for (const auto& m : msgs) got.push_back(m.value);
  CHECK(got == std::vector<std::string>{"a", "b", "c", "a", "b", "c", "a", "b"});
}

TEST_CASE("replay --fresh-keys gives each pass after the first its own session keys", "[integration][kafka_mock][replay]") {
  EmbeddedKafka cluster(1);
  cluster.create_topic("lines", 1);
  const std::string bs = cluster.bootstrap_servers();
  TempDir dir;
  const std::string input = dir.file("in.log", "open blk_12 now\nclose blk_-7 x blk_9\nno key here\n");
  REQUIRE(cli({"replay", "--brokers", bs, "--topic", "lines", "--input", input, "--loop", "3", "--fresh-keys",
               "--key-pattern", "blk_-?\\d+", "-q"}) == kOk);
  const auto msgs = read_all(bs, "lines", 9);
  std::vector<std::string> values, keys;
  for (const auto& m : msgs) {
    values.push_back(m.value);
    keys.push_back(m.key);
  }
  CHECK(values == std::vector<std::string>{"open blk_12 now", "close blk_-7 x blk_9", "no key here",
                                           "open blk_1201 now", "close blk_-701 x blk_901", "no key here",
                                           "open blk_1202 now", "close blk_-702 x blk_902", "no key here"});
  CHECK(keys == std::vector<std::string>{"blk_12", "blk_-7", "", "blk_1201", "blk_-701", "", "blk_1202", "blk_-702", ""});
  CHECK(cli({"replay", "--brokers", bs, "--topic", "lines", "--input", input, "--fresh-keys"}) == kUsageError);
}

TEST_CASE("replay and tail fail with the documented exit codes", "[kafka][replay]") {
  TempDir dir;
  const std::string input = dir.file("in.log", "x\n");
  // Bad property: configuration error naming it (checked before any connection).
  CHECK(cli({"replay", "--brokers", "127.0.0.1:1", "--topic", "t", "--input", input, "-X", "linger.ms=soon"}) ==
        kConfigError);
  CHECK(cli({"replay", "--brokers", "127.0.0.1:1", "--topic", "t", "--input", input, "-X", "novalue"}) ==
        kConfigError);
  CHECK(cli({"replay", "--brokers", "127.0.0.1:1", "--topic", "t", "--input", input, "--key-pattern", "(a)(b)"}) ==
        kConfigError);
  // Missing input file.
  CHECK(cli({"replay", "--brokers", "127.0.0.1:1", "--topic", "t", "--input", (dir.path / "nope").string()}) ==
        kLoadError);
  // stdin cannot be looped.
  CHECK(cli({"replay", "--brokers", "127.0.0.1:1", "--topic", "t", "--loop", "2"}) == kUsageError);
  CHECK(cli({"tail", "--brokers", "127.0.0.1:1", "--topic", "t", "--format", "xml"}) == kUsageError);
  // Unreachable brokers: runtime failure after the connect timeout, nothing produced.
  CHECK(cli({"replay", "--brokers", "127.0.0.1:1", "--topic", "t", "--input", input, "--connect-timeout-ms", "300",
             "-q"}) == kRuntimeError);
  CHECK(cli({"tail", "--brokers", "127.0.0.1:1", "--topic", "t", "--connect-timeout-ms", "300"}) == kRuntimeError);
}
