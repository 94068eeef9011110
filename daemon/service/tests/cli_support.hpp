#pragma once
// What the end-to-end tests of logguardd share (test_logguardd, test_streams): running the
// `logguard` / `logguardd` entry points in-process, small files, tiny training configs for the
// raw HDFS and BGL samples (a bundle in a few seconds), and reading verdicts back.
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace logguard::daemon::testing {

/// Calls a main-style entry point with `args` (args[0] is the program name).
inline int run(int (*entry)(int, char**), std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return entry(static_cast<int>(argv.size()), argv.data());
}

inline void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

inline const std::string kHdfsLog = std::string(LOGGUARD_SHARED_DATA) + "/hdfs/raw-5k/HDFS_5k.log";
inline const std::string kBglLog = std::string(LOGGUARD_SHARED_DATA) + "/loghub-2k/BGL/BGL_2k.log";

/// HDFS blocks as sessions; a model small enough to train in seconds.
inline const char* kTinyHdfsTrain = R"Y(
parser:
  log_format: "<Date> <Time> <Pid> <Level> <Component>: <Content>"
  masks:
    - {name: block, builtin: hdfs_block}
    - {name: ip, builtin: ipv4}
    - {name: number, builtin: number}
model:
  kind: msmass
  msmass: {window: 6, d_model: 24, ff_dim: 32, encoder_layers: 1, decoder_layers: 1,
           scales: [1, 3, 0], heads_per_scale: [1, 1, 1]}
  train: {epochs: 2, batch_size: 64, threads: 1, seed: 7}
  detect: {top_k: 8, stride: 1}
  data: {session_key: "(blk_-?\\d+)"}
)Y";

/// BGL without sessions, labels from its first field; `data_extra` adds keys under model.data
/// (the cut: count_window_lines or entity), indented by four spaces.
inline std::string tiny_bgl_train(const std::string& data_extra) {
  return R"Y(
parser:
  log_format: "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>"
  masks:
    - {name: num, builtin: number}
model:
  kind: msmass
  msmass: {window: 6, d_model: 24, ff_dim: 32, encoder_layers: 1, decoder_layers: 1,
           scales: [1, 3, 0], heads_per_scale: [1, 1, 1]}
  train: {epochs: 2, batch_size: 64, threads: 1, seed: 7, session_boundaries: false}
  detect: {stride: 1}
  data:
    label: {field: Label, normal_values: ["-"]}
)Y" + data_extra;
}

/// The sessions `logguard detect` marked anomalous in its output file.
inline std::set<std::string> detect_anomalous(const std::filesystem::path& p) {
  std::set<std::string> s;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["anomalous"].get<bool>()) s.insert(j["session"].get<std::string>());
  }
  return s;
}

}  // namespace logguard::daemon::testing
