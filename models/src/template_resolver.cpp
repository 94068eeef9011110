// Input template -> bundle template (see template_resolver.hpp).
#include "logguard/models/template_resolver.hpp"

#include <filesystem>

#include "logguard/models/scorer.hpp"

namespace logguard::models {

namespace {
// by_text_ / pattern_ids_ marker of an unseen template (resolves to unknown, id 0).
constexpr std::uint32_t kUnseen = 0xFFFFFFFCu;
}  // namespace

const char* to_string(Resolution r) noexcept {
  switch (r) {
    case Resolution::exact: return "exact";
    case Resolution::pattern: return "pattern";
    case Resolution::similar: return "similar";
    case Resolution::tentative: return "tentative";
    case Resolution::abnormal: return "abnormal";
    case Resolution::unseen: return "unseen";
    default: return "unknown";
  }
}

TemplateResolver::TemplateResolver(const BundleManifest& m, std::shared_ptr<const TemplateMapper> mapper)
    : mapper_(std::move(mapper)) {
  for (const auto& t : m.templates) by_text_.emplace(core::normalize_template_text(t.text), t.id);
  for (const auto& t : m.abnormal_templates) by_text_.emplace(core::normalize_template_text(t), kAbnormalTemplate);
  for (const auto& t : m.unseen_templates) by_text_.emplace(core::normalize_template_text(t), kUnseen);
  if (m.template_source == "table") {
    std::vector<std::string> texts;
    for (const auto& t : m.templates) {
      texts.push_back(t.text);
      pattern_ids_.push_back(t.id);
    }
    for (const auto& t : m.abnormal_templates) {
      texts.push_back(t);
      pattern_ids_.push_back(kAbnormalTemplate);
    }
    for (const auto& t : m.unseen_templates) {
      texts.push_back(t);
      pattern_ids_.push_back(kUnseen);
    }
    patterns_ = core::TemplatePatternSet(texts);
  }
}

TemplateResolver TemplateResolver::load(const std::string& bundle_dir) {
  const auto m = read_manifest(bundle_dir);
  std::shared_ptr<const TemplateMapper> mapper;
  // TemplateMapper holds a mutex (not movable): built in place from load()'s prvalue.
  if (m.encoder) mapper = std::shared_ptr<const TemplateMapper>(new TemplateMapper(TemplateMapper::load(bundle_dir)));
  return TemplateResolver(m, std::move(mapper));
}

ResolvedTemplate TemplateResolver::resolve_without_encoder(std::string_view text, bool patterns) const noexcept {
  ResolvedTemplate r;
  auto found = [&](std::uint32_t id, Resolution how) {
    r.id = id == kUnseen ? 0 : id;
    r.how = id == kAbnormalTemplate ? Resolution::abnormal : id == kUnseen ? Resolution::unseen : how;
  };
  if (auto it = by_text_.find(core::normalize_template_text(text)); it != by_text_.end()) {
    found(it->second, Resolution::exact);
    return r;
  }
  if (patterns && patterns_.size() > 0) {
    const long i = patterns_.match(text);
    if (i >= 0) found(pattern_ids_[static_cast<std::size_t>(i)], Resolution::pattern);
  }
  return r;
}

ResolvedTemplate from_map_result(const MapResult& m) noexcept {
  ResolvedTemplate r;
  r.similarity = m.similarity;
  if (m.verdict == MapVerdict::known) {
    r.id = m.template_id;
    r.how = Resolution::similar;
  } else if (m.verdict == MapVerdict::tentative) {
    r.id = tentative_id(m.template_id);
    r.how = Resolution::tentative;
  } else if (m.verdict == MapVerdict::abnormal) {
    r.id = kAbnormalTemplate;
    r.how = Resolution::abnormal;
  }
  return r;
}

ResolvedTemplate TemplateResolver::resolve(std::string_view text) const noexcept {
  auto r = resolve_without_encoder(text);
  if (r.how != Resolution::unknown || !mapper_) return r;
  return from_map_result(mapper_->map(text));
}

std::unordered_map<std::uint32_t, std::uint32_t> TemplateResolver::map_table(const std::vector<core::TemplateEntry>& input,
                                                                            ResolveStats* stats, bool parser_texts) const {
  std::unordered_map<std::uint32_t, std::uint32_t> out;
  ResolveStats st;
  std::vector<std::string> pending;
  std::vector<std::uint32_t> pending_ids;
  auto count = [&](const ResolvedTemplate& r) {
    switch (r.how) {
      case Resolution::exact: ++st.exact; break;
      case Resolution::pattern: ++st.pattern; break;
      case Resolution::similar: ++st.similar; break;
      case Resolution::tentative: ++st.tentative; break;
      case Resolution::abnormal: ++st.abnormal; break;
      case Resolution::unseen: ++st.unseen; break;
      default: ++st.unknown;
    }
  };
  for (const auto& t : input) {
    const auto r = resolve_without_encoder(t.text, parser_texts);
    if (r.how == Resolution::unknown && mapper_) {
      pending.push_back(t.text);
      pending_ids.push_back(t.id);
      continue;
    }
    out[t.id] = r.id;
    count(r);
  }
  if (!pending.empty()) {
    const auto results = mapper_->map_batch(pending);
    for (std::size_t i = 0; i < pending.size(); ++i) {
      const auto r = from_map_result(results[i]);
      out[pending_ids[i]] = r.id;
      count(r);
    }
  }
  if (stats) *stats = st;
  return out;
}

}  // namespace logguard::models
