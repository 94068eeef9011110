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
  auto& win = app.pipeline.window;
  win.score_closing = true;
  if (win.mode != WindowConfig::Mode::time) {
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
  if (app.has_parser) {
    r.parser = app.parser;
  } else {
    const auto& man = m->scorer.manifest();
    if (!man.raw_input)
      throw core::ConfigError("parser", "required: the bundle " + app.model.bundle + " records no parser settings", path);
    r.parser = man.raw_input->parser;
  }
  if (app.daemon.source == DaemonConfig::SourceKind::kafka && app.kafka.topics.empty())
    throw core::ConfigError("kafka.topics", "required for source type kafka", path);
  return r;
}

}  // namespace logguard::daemon::detail
