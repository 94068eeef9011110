#include <cstdio>
#include <exception>
#include <string>

#include "commands.hpp"
#include "logguard/core/error.hpp"
#include "logguard/cli/cli.hpp"

#ifndef LOGGUARD_VERSION
#define LOGGUARD_VERSION "0.0.0"
#endif

namespace logguard::daemon {
namespace detail {

int run_commands(int argc, char** argv, const Registrar* commands, std::size_t count) {
  CLI::App app{"logguard — robust log anomaly detection (Drain + contrastive semantics + MSMASS)", "logguard"};
  app.set_version_flag("--version", std::string("logguard ") + LOGGUARD_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  detail::Action action;
  for (std::size_t i = 0; i < count; ++i) commands[i](app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "logguard: %s (see 'logguard --help')\n", e.what());
    return kUsageError;
  }

  if (!action) {
    std::fprintf(stderr, "logguard: no command given (see 'logguard --help')\n");
    return kUsageError;
  }
  try {
    return action();
  } catch (const core::ConfigError& e) {
    std::fprintf(stderr, "logguard: config error: %s\n", e.what());
    return kConfigError;
  } catch (const core::LoadError& e) {
    std::fprintf(stderr, "logguard: %s\n", e.what());
    return kLoadError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "logguard: %s\n", e.what());
    return kRuntimeError;
  }
}

}  // namespace detail

int run_parse_cli(int argc, char** argv) {
  constexpr detail::Registrar kParse[] = {detail::register_parse};
  return detail::run_commands(argc, argv, kParse, 1);
}

}  // namespace logguard::daemon
