#pragma once
// Start-up of logguardd (private): the config file resolved against the model bundles, before
// any thread starts, one ResolvedStream per stream (issue #20; one for a config without
// `streams:`). Used by the wiring (run) and by --check-config.
#include <memory>
#include <string>
#include <vector>

#include "logguard/config/config_loader.hpp"
#include "logguard/core/parser_config.hpp"
#include "logguard/core/record_format.hpp"
#include "logguard/models/chunk_plan.hpp"
#include "logguard/service/model_holder.hpp"

namespace logguard::daemon::detail {

/// One stream, resolved: its effective config (stream_config()), its bundle, the parser its
/// messages are parsed with, its record format and the chunk layout.
struct ResolvedStream {
  AppConfig app;                       // the stream's config; pipeline.window as the daemon runs it
  std::shared_ptr<ModelHolder> model;
  core::ParserConfig parser;           // message parser (core::message_parser of the settings)
  bool parser_from_bundle = false;     // no `parser:` for this stream: the bundle's settings
  core::RecordFormat input;            // `input:`, else the bundle's recorded format, else raw
  models::ChunkLayout layout;
};

/// Everything start-up resolves before any thread starts.
struct Resolved {
  AppConfig app;                        // the file as read (top level)
  std::vector<ResolvedStream> streams;  // in the file's order
};

/// Reads the config file and resolves, for each stream, what it leaves to its bundle: the
/// window length and stride (4 W and 3 W unless set), the session cut (the bundle's when
/// pipeline.window sets no mode), the parser (the bundle's recorded settings when there is no
/// `parser:`), the record format (the bundle's when there is no `input:`); loads the bundles and
/// checks each chunk layout against its model. Throws core::ConfigError / core::LoadError naming
/// the file and key (prefixed "streams[i]." for a stream's own problem).
Resolved resolve(const std::string& path);

}  // namespace logguard::daemon::detail
