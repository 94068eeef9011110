// `logguard-full`: every `logguard` command in one executable (with the model libraries);
// the `logguard` executable hands it every command but `parse` (main.cpp).
#include "logguard/cli/cli.hpp"

int main(int argc, char** argv) { return logguard::daemon::run_cli(argc, argv); }
