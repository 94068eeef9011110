// Start-up config resolution of logguardd (see resolve.hpp).
#include "resolve.hpp"

#include "logguard/core/error.hpp"

namespace logguard::daemon::detail {

Resolved resolve(const std::string& path) {
  Resolved r;
  r.app = load_app_config(path);
  auto& app = r.app;
  if (app.model.bundle.empty()) throw core::ConfigError("model.bundle", "required: the model bundle directory", path);
  try {
    r.model = std::make_shared<ModelHolder>(app.model.bundle, app.model.detect);
  } catch (const core::ConfigError& e) {
    throw e.in_file(path);
  }
  const auto m = r.model->current();
  const auto& man = m->scorer.manifest();
  if (app.has_parser) {
    r.parser = app.parser;
  } else {
    if (!man.raw_input)
      throw core::ConfigError("parser", "required: the bundle " + app.model.bundle + " records no parser settings", path);
    r.parser = man.raw_input->parser;
  }
  auto& win = app.pipeline.window;
  win.score_closing = true;
  // Without pipeline.window.mode the daemon cuts sessions as the bundle's training did.
  bool count_from_bundle = false;
  if (!app.daemon.window_mode_set && man.raw_input) {
    const auto& ri = *man.raw_input;
    if (ri.count_window_lines > 0) {
      win.mode = WindowConfig::Mode::count;
      count_from_bundle = true;
    } else if (ri.entity.enabled()) {
      win.mode = WindowConfig::Mode::session;
      win.key_from = WindowConfig::KeyFrom::entity;
    } else if (!ri.session_key.empty()) {
      win.mode = WindowConfig::Mode::session;
      win.key_from = WindowConfig::KeyFrom::pattern;
      win.key_pattern = ri.session_key;
    }
  }
  if (win.key_from == WindowConfig::KeyFrom::entity) {
    if (!man.raw_input || !man.raw_input->entity.enabled())
      throw core::ConfigError("pipeline.window.key", "entity: the bundle records no entity sessions (model.data.entity)", path);
    win.entity = man.raw_input->entity;
    win.log_format = r.parser.log_format;
  }
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
  try {
    app.pipeline.validate();
  } catch (const core::ConfigError& e) {
    throw core::ConfigError("pipeline." + e.key(), e.message(), path);
  }
  try {
    models::check_chunk_layout(r.layout, m->shape);
  } catch (const core::ConfigError& e) {
    throw e.in_file(path);
  }
  if (app.daemon.source == DaemonConfig::SourceKind::kafka && app.kafka.topics.empty())
    throw core::ConfigError("kafka.topics", "required for source type kafka", path);
  return r;
}

}  // namespace logguard::daemon::detail
