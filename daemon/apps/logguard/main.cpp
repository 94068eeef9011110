// `logguard`: offline command-line tool (parse, train, detect, evaluate, ...).
//
// This executable links no model library: LibTorch alone costs ~0.4 s of start-up (its static
// initialisers), more than parsing a million lines takes. `logguard parse` runs here; every
// other command (and --help, --version) is handed to `logguard-full` in the same directory by
// execv(), which keeps the arguments, the exit code, stdin/stdout and signals as they are.
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "logguard/cli/cli.hpp"

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "parse") return logguard::daemon::run_parse_cli(argc, argv);
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string full = "logguard-full";
  if (n > 0) {
    std::string dir(self, static_cast<std::size_t>(n));
    dir.resize(dir.rfind('/') + 1);
    full = dir + full;
  }
  ::execv(full.c_str(), argv);
  std::fprintf(stderr, "logguard: cannot run %s: %s\n", full.c_str(), std::strerror(errno));
  return logguard::daemon::kRuntimeError;
}
