// Template mapping by cosine similarity (see template_mapper.hpp).
#include "logguard/models/template_mapper.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "logguard/core/error.hpp"
#include "logguard/models/bundle.hpp"

namespace logguard::models {

const char* to_string(MapVerdict v) noexcept {
  switch (v) {
    case MapVerdict::known: return "known";
    case MapVerdict::abnormal: return "abnormal";
    default: return "unknown";
  }
}

namespace {
float dot(const float* a, const float* b, int n) {
  float s = 0;
  for (int i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}
std::vector<std::string> encoder_texts(const std::vector<std::string>& t) {
  std::vector<std::string> out;
  out.reserve(t.size());
  for (const auto& s : t) out.push_back(encoder_text(s));
  return out;
}
}  // namespace

TemplateMapper::TemplateMapper(std::shared_ptr<const TemplateEncoder> encoder, std::vector<core::TemplateEntry> normal,
                               std::vector<std::string> abnormal, float threshold, std::vector<std::string> unseen,
                               bool abnormal_by_similarity)
    : encoder_(std::move(encoder)),
      normal_(std::move(normal)),
      abnormal_(std::move(abnormal)),
      unseen_(std::move(unseen)),
      threshold_(threshold),
      abnormal_by_similarity_(abnormal_by_similarity) {
  std::vector<std::string> nt;
  for (const auto& t : normal_) nt.push_back(t.text);
  normal_emb_ = encoder_->encode(encoder_texts(nt));
  abnormal_emb_ = encoder_->encode(encoder_texts(abnormal_));
  unseen_emb_ = encoder_->encode(encoder_texts(unseen_));
}

TemplateMapper TemplateMapper::load(const std::string& bundle_dir) {
  const auto m = read_manifest(bundle_dir);
  if (!m.encoder)
    throw core::LoadError(bundle_dir + "/" + kManifestFile + ": bundle has no template encoder (train with model.encoder)");
  auto enc = std::make_shared<const TemplateEncoder>(
      TemplateEncoder::from_pretrained((std::filesystem::path(bundle_dir) / m.encoder->dir).string()));
  std::vector<core::TemplateEntry> normal;
  for (const auto& t : m.templates)
    if (m.encoder->normal_ids.empty() ||
        std::find(m.encoder->normal_ids.begin(), m.encoder->normal_ids.end(), t.id) != m.encoder->normal_ids.end())
      normal.push_back(t);
  return TemplateMapper(std::move(enc), std::move(normal),
                        m.abnormal_templates.empty() ? m.encoder->abnormal_templates : m.abnormal_templates,
                        static_cast<float>(m.encoder->threshold), m.unseen_templates,
                        m.encoder->abnormal_by_similarity);
}

MapResult TemplateMapper::classify(const float* e) const noexcept {
  MapResult r;
  const int d = encoder_->dim();
  for (std::size_t i = 0; i < normal_.size(); ++i) {
    const float s = dot(e, normal_emb_.row(i), d);
    if (r.nearest_id == 0 || s > r.nearest_similarity) {
      r.nearest_similarity = s;
      r.nearest_id = normal_[i].id;
    }
  }
  r.similarity = r.nearest_similarity;
  float best_ab = -2;
  for (std::size_t i = 0; i < abnormal_.size(); ++i) {
    const float s = dot(e, abnormal_emb_.row(i), d);
    if (s > best_ab) {
      best_ab = s;
      r.nearest_abnormal = static_cast<int>(i);
    }
  }
  if (best_ab > r.nearest_similarity && best_ab >= threshold_) {
    // Nearer an abnormal template than any normal one: abnormal, or unknown where similarity
    // is not trusted to say so; never mapped to the normal one.
    if (abnormal_by_similarity_) r.verdict = MapVerdict::abnormal;
    else r.nearest_abnormal = -1;
    r.similarity = best_ab;
  } else {
    r.nearest_abnormal = -1;
    // A template the system is known to write but normal training never showed is a closer
    // match: the text is not a rewording of a normal template.
    float best_unseen = -2;
    for (std::size_t i = 0; i < unseen_.size(); ++i) best_unseen = std::max(best_unseen, dot(e, unseen_emb_.row(i), d));
    if (r.nearest_id != 0 && r.nearest_similarity >= threshold_ && r.nearest_similarity >= best_unseen) {
      r.verdict = MapVerdict::known;
      r.template_id = r.nearest_id;
    }
  }
  return r;
}

MapResult TemplateMapper::map(std::string_view text) const noexcept {
  try {
    return map_batch({std::string(text)}).front();
  } catch (...) {
    return MapResult{};
  }
}

std::vector<MapResult> TemplateMapper::map_batch(const std::vector<std::string>& templates) const {
  std::vector<MapResult> out(templates.size());
  std::vector<std::size_t> todo;
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < templates.size(); ++i) {
      auto it = cache_.find(templates[i]);
      if (it != cache_.end()) out[i] = it->second;
      else todo.push_back(i);
    }
  }
  if (todo.empty()) return out;
  std::vector<std::string> texts;
  for (auto i : todo) texts.push_back(encoder_text(templates[i]));
  const auto e = encoder_->encode(texts);
  std::lock_guard lock(mu_);
  for (std::size_t k = 0; k < todo.size(); ++k) {
    out[todo[k]] = classify(e.row(k));
    cache_.emplace(templates[todo[k]], out[todo[k]]);
  }
  return out;
}

void TemplateMapper::forget(std::string_view text) {
  std::lock_guard lock(mu_);
  cache_.erase(std::string(text));
}

std::size_t TemplateMapper::cache_size() const {
  std::lock_guard lock(mu_);
  return cache_.size();
}

ThresholdChoice choose_threshold(const TemplateEncoder& encoder, const std::vector<std::string>& normal,
                                 const std::vector<std::string>& abnormal, const NoiseFn& noise, int variants,
                                 std::uint64_t seed) {
  ThresholdChoice c;
  const auto ne = encoder.encode(encoder_texts(normal));
  std::vector<std::string> vt;
  std::vector<std::size_t> owner;
  for (std::size_t i = 0; i < normal.size(); ++i)
    for (int k = 0; k < variants; ++k) {
      vt.push_back(encoder_text(noise(normal[i], seed * 1000003u + i * 7919u + static_cast<std::uint64_t>(k))));
      owner.push_back(i);
    }
  const auto ve = encoder.encode(vt);
  const auto ae = encoder.encode(encoder_texts(abnormal));
  const int d = encoder.dim();
  auto best_normal = [&](const float* e, std::size_t* arg) {
    float best = -2;
    for (std::size_t i = 0; i < normal.size(); ++i) {
      const float s = dot(e, ne.row(i), d);
      if (s > best) {
        best = s;
        *arg = i;
      }
    }
    return best;
  };
  // Correct variants contribute their cosine (accepted when >= S); wrong ones never count.
  std::vector<float> correct, abn;
  for (std::size_t v = 0; v < vt.size(); ++v) {
    std::size_t arg = 0;
    const float s = best_normal(ve.row(v), &arg);
    if (arg == owner[v]) correct.push_back(s);
  }
  for (std::size_t a = 0; a < abnormal.size(); ++a) {
    std::size_t arg = 0;
    abn.push_back(best_normal(ae.row(a), &arg));
  }
  std::sort(correct.begin(), correct.end());
  std::sort(abn.begin(), abn.end());
  c.normal_variants = vt.size();
  c.abnormal_templates = abnormal.size();
  auto eval = [&](float S) {
    const auto acc = static_cast<double>(correct.end() - std::lower_bound(correct.begin(), correct.end(), S));
    const auto rej = static_cast<double>(std::lower_bound(abn.begin(), abn.end(), S) - abn.begin());
    return std::pair{vt.empty() ? 1.0 : acc / static_cast<double>(vt.size()),
                     abn.empty() ? 1.0 : rej / static_cast<double>(abn.size())};
  };
  if (!abn.empty()) {
    c.method = "balanced";
    std::vector<float> cand(correct);
    cand.insert(cand.end(), abn.begin(), abn.end());
    for (auto& x : abn) cand.push_back(std::nextafter(x, 2.0f));
    std::sort(cand.begin(), cand.end());
    double best = -1;
    std::size_t first = 0;
    for (std::size_t i = 0; i < cand.size(); ++i) {
      auto [a, r] = eval(cand[i]);
      if (a + r > best + 1e-12) {
        best = a + r;
        first = i;
      }
    }
    // The score is a step function: take the middle of the run of candidates that reach it.
    std::size_t last = first;
    while (last + 1 < cand.size()) {
      auto [a, r] = eval(cand[last + 1]);
      if (a + r < best - 1e-12) break;
      ++last;
    }
    const float mid = 0.5f * (cand[first] + cand[last]);
    auto [am, rm] = eval(mid);
    c.threshold = (am + rm >= best - 1e-12) ? mid : cand[first];
  } else {
    c.method = "normal-quantile";
    const float q = correct.empty() ? 0.5f : correct[correct.size() / 100];
    c.threshold = std::max(0.05f, q - 0.02f);
  }
  c.threshold = std::clamp(c.threshold, 0.01f, 0.999f);
  std::tie(c.normal_accuracy, c.abnormal_rejected) = eval(c.threshold);
  return c;
}

std::vector<float> similarity_matrix(const TemplateEncoder& encoder, const std::vector<std::string>& templates) {
  const auto e = encoder.encode(encoder_texts(templates));
  const std::size_t n = templates.size();
  std::vector<float> m(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) m[i * n + j] = dot(e.row(i), e.row(j), encoder.dim());
  return m;
}

}  // namespace logguard::models
