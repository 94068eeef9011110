// Start-up config resolution of logguardd (see resolve.hpp).
#include "resolve.hpp"

#include "logguard/core/error.hpp"

namespace logguard::daemon::detail {
namespace {

// Resolves one stream's config (`app` = stream_config(top, i)); `where` prefixes its keys in
// errors ("" for the single stream).
ResolvedStream resolve_stream(AppConfig app, const std::string& path, const std::string& where) {
  ResolvedStream r;
  auto key = [&](const std::string& k) { return where + k; };
  if (app.model.bundle.empty()) throw core::ConfigError(key("model.bundle"), "required: the model bundle directory", path);
  try {
    r.model = std::make_shared<ModelHolder>(app.model.bundle, app.model.detect);
  } catch (const core::ConfigError& e) {
    throw core::ConfigError(key(e.key()), e.message(), path);
  }
  const auto m = r.model->current();
  const auto& man = m->scorer.manifest();
  // Record format: the config's, else the one the bundle was trained on.
  if (app.has_input)
    r.input = app.input;
  else if (man.raw_input)
    r.input = man.raw_input->record;
  core::ParserConfig parser;
  if (app.has_parser) {
    parser = app.parser;
  } else {
    if (!man.raw_input)
      throw core::ConfigError(key("parser"), "required: the bundle " + app.model.bundle + " records no parser settings", path);
    parser = man.raw_input->parser;
    r.parser_from_bundle = true;
  }
  r.parser = core::message_parser(parser, r.input);
  auto& win = app.pipeline.window;
  win.score_closing = true;
  // Without pipeline.window.mode the daemon cuts sessions as the bundle's training did (the
  // order of core::read_raw_sessions: count windows, entity sessions, the record's session
  // field, the session key pattern).
  bool count_from_bundle = false;
  if (!app.daemon.window_mode_set) {
    const auto* ri = man.raw_input ? &*man.raw_input : nullptr;
    if (ri && ri->count_window_lines > 0) {
      win.mode = WindowConfig::Mode::count;
      count_from_bundle = true;
    } else if (ri && ri->entity.enabled()) {
      win.mode = WindowConfig::Mode::session;
      win.key_from = WindowConfig::KeyFrom::entity;
    } else if (!r.input.session.empty()) {
      win.mode = WindowConfig::Mode::session;
      win.key_from = WindowConfig::KeyFrom::field;
    } else if (ri && !ri->session_key.empty()) {
      win.mode = WindowConfig::Mode::session;
      win.key_from = WindowConfig::KeyFrom::pattern;
      win.key_pattern = ri->session_key;
    }
  }
  if (win.key_from == WindowConfig::KeyFrom::entity) {
    if (!man.raw_input || !man.raw_input->entity.enabled())
      throw core::ConfigError(key("pipeline.window.key"),
                              "entity: the bundle records no entity sessions (model.data.entity)", path);
    if (!r.input.raw() && !r.input.parse_header)
      throw core::ConfigError(key("input.parse_header"),
                              "entity sessions read the message's header: needs parse_header: true", path);
    win.entity = man.raw_input->entity;
    win.log_format = r.parser.log_format;
  }
  if (win.mode == WindowConfig::Mode::session && win.key_from == WindowConfig::KeyFrom::field && r.input.session.empty())
    throw core::ConfigError(key("pipeline.window.key"), "field: needs input.session (the record's session field)", path);
  if (count_from_bundle) {
    // Count windows of the bundle's N lines, each judged whole (as `logguard detect --input`).
    win.length = static_cast<std::size_t>(man.raw_input->count_window_lines);
    win.stride = 0;
  } else if (win.mode != WindowConfig::Mode::time) {
    const std::size_t W = m->shape.window;
    if (!app.daemon.window_length_set) win.length = 4 * W;
    if (!app.daemon.window_stride_set) win.stride = win.length > W ? win.length - W : 0;
  }
  r.layout.sessions = win.mode == WindowConfig::Mode::session;
  r.layout.length = win.length;
  r.layout.stride = win.effective_stride();
  app.pipeline.record.stream = app.stream;
  try {
    app.pipeline.validate();
  } catch (const core::ConfigError& e) {
    throw core::ConfigError(key("pipeline." + e.key()), e.message(), path);
  }
  try {
    models::check_chunk_layout(r.layout, m->shape);
  } catch (const core::ConfigError& e) {
    throw core::ConfigError(key(e.key()), e.message(), path);
  }
  if (!app.stream_values.empty() && r.input.stream.empty())
    throw core::ConfigError(key("select.values"), "needs input.stream: the record field whose value selects the stream", path);
  if (app.daemon.source == DaemonConfig::SourceKind::kafka && app.kafka.topics.empty())
    throw core::ConfigError(key("kafka.topics"), "required for source type kafka", path);
  r.app = std::move(app);
  return r;
}

}  // namespace

Resolved resolve(const std::string& path) {
  Resolved r;
  r.app = load_app_config(path);
  const std::size_t n = stream_count(r.app);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string where = r.app.streams.empty() ? std::string() : "streams[" + std::to_string(i) + "].";
    r.streams.push_back(resolve_stream(stream_config(r.app, i), path, where));
  }
  return r;
}

}  // namespace logguard::daemon::detail
