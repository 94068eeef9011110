// `logguard`: offline command-line tool (parse, train, detect, evaluate, ...).
#include "logguard/cli/cli.hpp"

int main(int argc, char** argv) { return logguard::daemon::run_cli(argc, argv); }
