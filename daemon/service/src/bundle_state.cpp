// The bundle's template texts for records and saved states (see bundle_state.hpp).
#include "logguard/service/bundle_state.hpp"

#include <set>

#include "logguard/pipeline/checkpoint.hpp"

namespace logguard::daemon {

TemplateText bundle_template_text(std::shared_ptr<ModelHolder> model) {
  return [model](core::TemplateId id) -> std::string {
    if (id == models::kEndOfSession) return "<end-of-session>";
    if (id == 0) return "<unknown>";
    const auto m = model->current();
    auto it = m->text.find(id);
    return it == m->text.end() ? std::string() : it->second;
  };
}

StateModel bundle_state_model(std::shared_ptr<ModelHolder> holder, std::string window_mode) {
  StateModel m;
  m.current = [holder, window_mode] {
    // Bound to the model running now: a reload between the copy and the write does not mix models.
    return StateModel::Describe([model = holder->current(), window_mode](const std::set<core::TemplateId>& used) {
      CheckpointMeta meta;
      meta.model_version = model->version;
      meta.window_mode = window_mode;
      for (auto id : used)
        if (auto it = model->text.find(id); it != model->text.end()) meta.templates.emplace_back(id, it->second);
      return meta;
    });
  };
  m.adapt = [holder](const CheckpointMeta& meta, PipelineCheckpoint& p) {
    const auto model = holder->current();
    return remap_templates(meta, p, model->version, model->by_text);
  };
  return m;
}

}  // namespace logguard::daemon
