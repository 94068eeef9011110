#include "logguard/cli/cli.hpp"

#include <iterator>

#include "commands.hpp"

namespace logguard::daemon {
namespace {

// Every subcommand of `logguard`, in --help order.
constexpr detail::Registrar kCommands[] = {
    detail::register_parse,
    detail::register_train,
    detail::register_detect,
    detail::register_evaluate,
    detail::register_noise,
    detail::register_replay,
    detail::register_tail,
    detail::register_map,
    detail::register_feedback,
};

}  // namespace

int run_cli(int argc, char** argv) { return detail::run_commands(argc, argv, kCommands, std::size(kCommands)); }

}  // namespace logguard::daemon
