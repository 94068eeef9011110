// BundleMapper (see bundle_mapper.hpp).
#include "logguard/service/bundle_mapper.hpp"

#include <algorithm>
#include <chrono>
#include <limits>

#include "logguard/core/sequences.hpp"
#include "logguard/core/session_reader.hpp"
#include "logguard/kafka/registry.hpp"

namespace logguard::daemon {

BundleMapper::BundleMapper(core::LineParser parser, std::shared_ptr<ModelHolder> model)
    : parser_(std::move(parser)), model_(std::move(model)) {}

void BundleMapper::set_parser(core::LineParser parser) {
  parser_ = std::move(parser);
  cache_.clear();
  encoded_text_.clear();
  stats_.templates_known = 0;
  generation_ = 0;  // the next map() pins the bundle's templates in the new parser
}

core::TemplateId BundleMapper::lookup(core::TemplateId parser_id, std::string_view text) {
  const auto& m = *cached_model_;
  // Exact text, table pattern or labelled-abnormal template: the same on every instance, so
  // the registry is not needed.
  const auto fixed = m.resolver->resolve_without_encoder(text);
  core::TemplateId id = fixed.id;
  const bool exact = fixed.how != models::Resolution::unknown;
  const std::string normalized = exact ? std::string() : core::normalize_template_text(text);
  bool adopted = false;
  if (!exact && registry_) {
    // A decision of the running model from the registry (ids outside the vocabulary: ignored).
    if (auto hit = registry_->find(normalized, m.version);
        hit && (hit->bundle_id == 0 || hit->bundle_id == models::kAbnormalTemplate ||
                m.text.count(models::plain_id(hit->bundle_id)))) {
      id = hit->bundle_id;
      adopted = true;
      ++stats_.templates_adopted;
      registry_->note_adopted();
    }
  }
  double similarity = exact ? 1.0 : 0.0;
  if (!adopted && m.semantic && !exact) {
    // No exact match: map by similarity, as `logguard detect` (a normal template, an
    // abnormal one, or unknown).
    if (encoded_text_.size() <= parser_id) encoded_text_.resize(parser_id + 1);
    auto& old = encoded_text_[parser_id];
    if (!old.empty() && old != text) m.semantic->forget(old);  // template_changed: drop the stale embedding
    const std::size_t before = m.semantic->cache_size();
    const auto t0 = std::chrono::steady_clock::now();
    // noexcept: a failure is unknown (0); the verdict read as `logguard detect` reads it.
    const auto r = models::from_map_result(m.semantic->map(text));
    id = r.id;
    similarity = r.similarity;
    if (m.semantic->cache_size() != before) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++stats_.templates_encoded;
      stats_.encoder_nanoseconds += static_cast<std::uint64_t>(s * 1e9);
      if (on_encoded) on_encoded(s);
    }
    old.assign(text);
  }
  if (!adopted && !exact && registry_) registry_->publish(text, m.version, id, similarity);
  if (cache_.size() <= parser_id) cache_.resize(parser_id + 1, 0);
  const bool was_known = cache_[parser_id] > 1;
  cache_[parser_id] = id + 1;
  if (id != 0 && !was_known) ++stats_.templates_known;
  if (id == 0 && was_known) --stats_.templates_known;
  return id;
}

void BundleMapper::set_registry(TemplateRegistry* r) noexcept {
  registry_ = r;
  next_sync_ = {};
  generation_ = 0;  // the next map() pins the bundle's templates and the registry's texts
}

void BundleMapper::pin_registry_text(const std::string& text) {
  if (parser_.config().drain.template_style != core::TemplateStyle::drain) return;
  // Only generalised texts: a text without a variable is what any instance's Drain makes of
  // the first line of that form anyway, and pinning it would stop Drain from generalising it
  // (each value of an unmasked variable would become a pinned template of its own everywhere).
  if (text.find("<*>") == std::string::npos) return;
  // Bundle templates are pinned already (core::pin_templates).
  if (cached_model_ &&
      cached_model_->resolver->resolve_without_encoder(text, /*patterns=*/false).how == models::Resolution::exact)
    return;
  if (parser_.pin(text) != core::kNoTemplate) ++stats_.registry_pinned;
}

void BundleMapper::sync_registry() noexcept {
  if (!registry_) return;
  next_sync_ = std::chrono::steady_clock::now() + registry_->poll_interval();
  try {
    std::vector<RegistryUpdate> updates;
    registry_->poll(&updates);
    bool changed = false;
    for (const auto& u : updates) {
      // Before the first map() (no model cached yet) the pins come with the bundle's ones.
      if (u.new_text && cached_model_) pin_registry_text(u.text);
      if (u.decision_changed && cached_model_ && u.model == cached_model_->version) changed = true;
    }
    if (changed) {  // another instance's decision wins (the last record of a key): remap lazily
      cache_.clear();
      stats_.templates_known = 0;
    }
  } catch (...) {
    // Allocation failure: the updates are applied to the registry; pins follow after a reload.
  }
}

core::TemplateId BundleMapper::map(const Record& r) noexcept {
  const std::uint64_t g = model_->generation();
  if (g != generation_) {  // a reload: every mapping is recomputed lazily
    cached_model_ = model_->current();
    generation_ = cached_model_->generation;
    if (follow_bundle_parser_) {
      const auto& raw = cached_model_->scorer.manifest().raw_input;
      core::ParserConfig wanted = raw ? raw->parser : core::ParserConfig{};
      if (!header_parsed_) wanted.log_format.clear();
      if (raw && !(wanted == parser_.config())) {
        try {
          parser_ = core::LineParser(wanted);
          ++stats_.parser_rebuilds;
        } catch (...) {
          // Not reached after check_bundle_parser; else the old parser stays.
        }
      }
    }
    cache_.clear();
    encoded_text_.clear();  // the new model's mapper has its own (empty) embedding cache
    stats_.templates_known = 0;
    stats_.templates_pinned = core::pin_templates(parser_, cached_model_->scorer.manifest().templates);
    if (registry_) {
      try {
        for (const auto& t : registry_->texts()) pin_registry_text(t);
      } catch (...) {
        // Allocation failure: unpinned texts still map through the registry.
      }
    }
  }
  if (registry_ && std::chrono::steady_clock::now() >= next_sync_) sync_registry();
  ++stats_.lines;
  const auto res = parser_.parse(r.line);
  if (!res.header_matched || res.truncated || res.invalid_utf8) ++stats_.parse_errors;
  if (res.template_id == core::kNoTemplate) return core::kNoTemplate;
  if (res.change == core::ChangeKind::created) ++stats_.templates_created;
  if (res.change == core::ChangeKind::template_changed) ++stats_.templates_changed;
  core::TemplateId id;
  if (res.change != core::ChangeKind::none || res.template_id >= cache_.size() || cache_[res.template_id] == 0)
    id = lookup(res.template_id, res.template_text);
  else
    id = cache_[res.template_id] - 1;
  ++(id == 0 ? stats_.events_unknown : id == models::kAbnormalTemplate ? stats_.events_abnormal : stats_.events_known);
  return id;
}

void check_bundle_parser(const LoadedModel& m) {
  const auto& raw = m.scorer.manifest().raw_input;
  if (!raw) throw core::ConfigError("parser", "the bundle records no parser settings (and the config has no parser:)");
  try {
    core::LineParser probe(raw->parser);
  } catch (const std::exception& e) {
    throw core::ConfigError("parser", std::string("the bundle's parser settings do not build a parser: ") + e.what());
  }
}

}  // namespace logguard::daemon
