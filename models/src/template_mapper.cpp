// Template mapping by cosine similarity (see template_mapper.hpp).
#include "logguard/models/template_mapper.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "logguard/core/error.hpp"
#include "logguard/models/bundle.hpp"
#include "logguard/models/scorer.hpp"

namespace logguard::models {

const char* to_string(MapVerdict v) noexcept {
  switch (v) {
    case MapVerdict::known: return "known";
    case MapVerdict::tentative: return "tentative";
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
                               bool abnormal_by_similarity, float tentative_threshold, float abnormal_threshold)
    : encoder_(std::move(encoder)),
      normal_(std::move(normal)),
      abnormal_(std::move(abnormal)),
      unseen_(std::move(unseen)),
      threshold_(threshold),
      abnormal_by_similarity_(abnormal_by_similarity),
      tentative_threshold_(std::min(tentative_threshold, threshold)),
      abnormal_threshold_(std::max(abnormal_threshold, threshold)) {
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
                        m.encoder->abnormal_by_similarity,
                        m.encoder->tentative_threshold > -1 ? static_cast<float>(m.encoder->tentative_threshold)
                                                            : static_cast<float>(m.encoder->threshold),
                        static_cast<float>(m.encoder->abnormal_threshold));
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
    // is not trusted to say so or not close enough for an alarm; never mapped to the normal one.
    if (abnormal_by_similarity_ && best_ab >= abnormal_threshold_) r.verdict = MapVerdict::abnormal;
    else r.nearest_abnormal = -1;
    r.similarity = best_ab;
  } else {
    r.nearest_abnormal = -1;
    // A template the system is known to write but normal training never showed is a closer
    // match: the text is not a rewording of a normal template.
    float best_unseen = -2;
    for (std::size_t i = 0; i < unseen_.size(); ++i) best_unseen = std::max(best_unseen, dot(e, unseen_emb_.row(i), d));
    if (r.nearest_id != 0 && r.nearest_similarity >= best_unseen) {
      if (r.nearest_similarity >= threshold_) {
        r.verdict = MapVerdict::known;
        r.template_id = r.nearest_id;
      } else if (r.nearest_similarity >= tentative_threshold_ && r.nearest_id < kTentativeBit) {
        r.verdict = MapVerdict::tentative;
        r.template_id = r.nearest_id;
      }
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
                                 std::uint64_t seed, const std::vector<int>* siblings) {
  static const std::vector<int> kNone;
  const auto& related = siblings ? *siblings : kNone;
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
  std::vector<float> correct, abn, sib;
  for (std::size_t v = 0; v < vt.size(); ++v) {
    std::size_t arg = 0;
    const float s = best_normal(ve.row(v), &arg);
    if (arg == owner[v]) correct.push_back(s);
  }
  for (std::size_t a = 0; a < abnormal.size(); ++a) {
    std::size_t arg = 0;
    abn.push_back(best_normal(ae.row(a), &arg));
  }
  // Leave one out: each normal template against the others stands for a new message of the
  // same system -- another message, not a rewording, so it must stay below S. A pair that
  // fine-tuning pulled together on purpose (related[i] == j or related[j] == i: the paper's
  // related-template positives) is not a negative.
  auto paired = [&](std::size_t i, std::size_t j) {
    auto rel = [&](std::size_t a, std::size_t b) { return a < related.size() && related[a] == static_cast<int>(b); };
    return rel(i, j) || rel(j, i);
  };
  // A sibling nearer than the median rewording is as close as a rewording (often one message
  // the parser split in two): it says nothing about where S should be and is left out.
  std::sort(correct.begin(), correct.end());
  const float median = correct.empty() ? 1.0f : correct[correct.size() / 2];
  for (std::size_t i = 0; siblings && i < normal.size(); ++i) {
    float best = -2;
    for (std::size_t j = 0; j < normal.size(); ++j)
      if (j != i && !paired(i, j)) best = std::max(best, dot(ne.row(i), ne.row(j), d));
    if (best > -2 && best < median) sib.push_back(best);
  }
  std::sort(abn.begin(), abn.end());
  std::sort(sib.begin(), sib.end());  // (correct is sorted above)
  c.normal_variants = vt.size();
  c.abnormal_templates = abnormal.size();
  c.sibling_templates = sib.size();
  auto below = [](const std::vector<float>& v, float S) {
    return v.empty() ? 1.0
                     : static_cast<double>(std::lower_bound(v.begin(), v.end(), S) - v.begin()) /
                           static_cast<double>(v.size());
  };
  // Accepted variants, and the negatives (abnormal and sibling templates pooled) kept out.
  std::vector<float> neg(abn);
  neg.insert(neg.end(), sib.begin(), sib.end());
  std::sort(neg.begin(), neg.end());
  c.quantile_threshold = std::max(0.05f, (correct.empty() ? 0.5f : correct[correct.size() / 100]) - 0.02f);
  // The S maximising an objective over the candidate cosines: the objective is a step function,
  // so take the middle of the run of candidates that reach its best.
  auto best_threshold = [&](const std::vector<float>& negatives, const auto& objective) {
    std::vector<float> cand(correct);
    cand.insert(cand.end(), negatives.begin(), negatives.end());
    for (auto x : negatives) cand.push_back(std::nextafter(x, 2.0f));
    std::sort(cand.begin(), cand.end());
    double best = -1;
    std::size_t first = 0;
    for (std::size_t i = 0; i < cand.size(); ++i) {
      const double o = objective(cand[i]);
      if (o > best + 1e-9) {
        best = o;
        first = i;
      }
    }
    std::size_t last = first;
    while (last + 1 < cand.size() && objective(cand[last + 1]) >= best - 1e-9) ++last;
    const float mid = 0.5f * (cand[first] + cand[last]);
    return objective(mid) >= best - 1e-9 ? mid : cand[first];
  };
  auto accepted = [&](float S) {  // variants mapped right at S
    return static_cast<double>(correct.end() - std::lower_bound(correct.begin(), correct.end(), S));
  };
  if (!neg.empty()) {
    c.method = abn.empty() ? "balanced-siblings" : "balanced";
    // Templates handled right: a normal template counts 1, shared by its variants (each mapped
    // right counts 1/variants, so its whole share is the share of its variants that map); a
    // negative kept below S counts 1. Shares instead (variants right + negatives below) would
    // weigh four labelled templates like a thousand variants, and S would give up many
    // rewordings to keep out the last abnormal template (BGL: S 0.66, a quarter of the
    // validation rewordings lost, hand-written paraphrases flagged in most windows).
    const double per_variant = 1.0 / std::max(1, variants);
    c.threshold = best_threshold(neg, [&](float S) {
      return accepted(S) * per_variant + below(neg, S) * static_cast<double>(neg.size());
    });
    // Negatives only ever raise S. Negatives far below every rewording leave a wide run whose
    // middle lies under what the rewordings need (BGL's first 10,000 lines: two abnormal
    // templates put it at 0.10 against 0.19 without them), and a new message of the system
    // would then map onto a normal template that no rewording comes that close to.
    c.threshold = std::max(c.threshold, c.quantile_threshold);
  } else {
    c.method = "normal-quantile";
    c.threshold = c.quantile_threshold;
  }
  // An abnormal verdict by similarity is an alarm at any threshold, so it asks for more: the S
  // that weighs the labelled abnormal templates as much as all the rewordings (shares), never
  // below S. A normal message of a component whose alerts were labelled (BGL: "ciod: Received
  // signal" beside the labelled "ciod: failed to read message prefix", 0.53 against S 0.32) is
  // then unknown -- weighed like any new template -- instead of an alarm.
  c.abnormal_threshold = c.threshold;
  if (!abn.empty()) {
    const double n_variants = std::max<double>(1.0, static_cast<double>(vt.size()));
    c.abnormal_threshold = best_threshold(abn, [&](float S) { return accepted(S) / n_variants + below(abn, S); });
  }
  c.threshold = std::clamp(c.threshold, 0.01f, 0.999f);
  c.abnormal_threshold = std::clamp(c.abnormal_threshold, c.threshold, 0.999f);
  c.normal_accuracy = vt.empty() ? 1.0 : accepted(c.threshold) / static_cast<double>(vt.size());
  c.abnormal_rejected = below(abn, c.threshold);
  c.siblings_rejected = below(sib, c.threshold);
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
