// ModelHolder (see model_holder.hpp).
#include "logguard/service/model_holder.hpp"

#include <algorithm>

#include "logguard/core/sequences.hpp"

namespace logguard::daemon {

ModelHolder::ModelHolder(std::string bundle_dir, models::DetectConfig detect)
    : dir_(std::move(bundle_dir)), detect_(std::move(detect)) {
  model_ = load(1);
  generation_ = 1;
}

std::shared_ptr<const LoadedModel> ModelHolder::load(std::uint64_t generation) const {
  auto m = std::make_shared<LoadedModel>(models::Scorer::load(dir_, detect_));
  const auto& man = m->scorer.manifest();
  m->version = std::string(models::to_string(man.kind)) + "-" + man.weights_digest.substr(0, 8);
  m->generation = generation;
  auto& sh = m->shape;
  sh.window = static_cast<std::size_t>(m->scorer.window_length());
  sh.deeplog = man.kind == models::ModelKind::deeplog;
  // The bundle's stride (model.detect.stride overriding it), as `logguard detect` cuts sessions.
  sh.stride = static_cast<std::size_t>(std::max(1, m->scorer.detection().stride));
  sh.boundaries = man.session_boundaries;
  for (const auto& t : man.templates) {
    m->by_text.emplace(core::normalize_template_text(t.text), t.id);
    m->text.emplace(t.id, t.text);
  }
  if (man.encoder) {
    // TemplateMapper holds a mutex (not movable): built in place from load()'s prvalue.
    m->semantic = std::shared_ptr<models::TemplateMapper>(new models::TemplateMapper(models::TemplateMapper::load(dir_)));
  }
  m->resolver = std::make_shared<const models::TemplateResolver>(man, m->semantic);
  return m;
}

std::shared_ptr<const LoadedModel> ModelHolder::current() const {
  std::lock_guard lock(mu_);
  return model_;
}

core::Expected<bool> ModelHolder::reload() {
  std::shared_ptr<const LoadedModel> fresh;
  try {
    fresh = load(generation_.load() + 1);
    if (check_) check_(*fresh);
  } catch (const std::exception& e) {
    return core::Error{std::string("model reload failed, keeping ") + current()->version + ": " + e.what()};
  }
  {
    std::lock_guard lock(mu_);
    model_ = fresh;
  }
  generation_.store(fresh->generation, std::memory_order_release);
  return true;
}

}  // namespace logguard::daemon
