#pragma once
// Helpers shared by the tests that drive the `logguard` command line (test_cli.cpp,
// test_replay.cpp): run it
// in-process with an argument list, and a scratch directory removed at scope exit.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "logguard/cli/cli.hpp"

namespace logguard::daemon::test {

/// `logguard ARGS...` in-process; returns its exit code.
inline int cli(std::vector<std::string> args) {
  args.insert(args.begin(), "logguard");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return run_cli(static_cast<int>(argv.size()), argv.data());
}

/// A fresh directory under the system temp dir, named after `prefix`, the pid and the object.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix) {
    path = std::filesystem::temp_directory_path() /
           (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// Writes `content` to `name` in the directory; returns its path.
  std::string file(const std::string& name, const std::string& content) const {
    std::ofstream(path / name, std::ios::binary) << content;
    return (path / name).string();
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path / name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::vector<std::string> lines(const std::string& name) const {
    std::ifstream in(path / name, std::ios::binary);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
};

}  // namespace logguard::daemon::test
