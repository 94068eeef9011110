#pragma once
// Start-up of logguardd (private): the config file resolved against the model bundle, before
// any thread starts. Used by the wiring (run) and by --check-config.
#include <memory>
#include <string>

#include "logguard/config/config_loader.hpp"
#include "logguard/core/parser_config.hpp"
#include "logguard/models/chunk_plan.hpp"
#include "logguard/service/model_holder.hpp"

namespace logguard::daemon::detail {

/// Everything start-up resolves before any thread starts.
struct Resolved {
  AppConfig app;
  std::shared_ptr<ModelHolder> model;
  core::ParserConfig parser;
  models::ChunkLayout layout;
};

/// Reads the config file and resolves what it leaves to the bundle: the window length and
/// stride (4 W and 3 W unless set), the parser (the bundle's recorded settings when the file has
/// no `parser:` section); loads the bundle and checks the chunk layout against its model.
/// Throws core::ConfigError / core::LoadError naming the file and key.
Resolved resolve(const std::string& path);

}  // namespace logguard::daemon::detail
