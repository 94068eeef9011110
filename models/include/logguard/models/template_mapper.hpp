#pragma once
// Semantic template mapping: an index of the known normal templates' embeddings (and, when
// labelled, the abnormal templates', and the templates the system is known to write that
// normal training never showed -- "unseen"); a template maps to the most similar known normal
// template when cosine >= S and no abnormal or unseen template is more similar, else it is
// unknown (Wang et al. 2022: the classifier after contrastive fine-tuning). S is chosen on validation data (choose_threshold) and stored in the bundle.
//
// Lifecycle: TemplateMapper::load(bundle_dir) (core::LoadError naming the file when the
// bundle has no encoder or its files are corrupt) or the constructor; then map(). Results are
// cached by template text; forget(text) drops an entry (the parser reported
// template_changed). Thread-safety: map()/map_batch()/forget() may be called concurrently
// (the cache has a mutex; encoding runs outside it). map() never throws: an encoder failure
// yields an unknown result with similarity 0.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "logguard/core/sequences.hpp"
#include "logguard/models/encoder.hpp"

namespace logguard::models {

enum class MapVerdict { known, tentative, abnormal, unknown };
const char* to_string(MapVerdict v) noexcept;

struct MapResult {
  std::uint32_t template_id = 0;  // bundle template id when verdict == known or tentative, else 0
  MapVerdict verdict = MapVerdict::unknown;
  float similarity = 0;           // cosine to the most similar indexed template
  std::uint32_t nearest_id = 0;   // most similar normal template (0 if none)
  float nearest_similarity = 0;   // cosine to it
  int nearest_abnormal = -1;      // index into abnormal() when verdict == abnormal
};

class TemplateMapper {
 public:
  TemplateMapper(std::shared_ptr<const TemplateEncoder> encoder, std::vector<core::TemplateEntry> normal,
                 std::vector<std::string> abnormal, float threshold, std::vector<std::string> unseen = {},
                 bool abnormal_by_similarity = true, float tentative_threshold = 2.0f,
                 float abnormal_threshold = -2.0f);
  /// The bundle's encoder, its template table as the normal index, its threshold S and its
  /// abnormal_by_similarity setting.
  static TemplateMapper load(const std::string& bundle_dir);

  MapResult map(std::string_view template_text) const noexcept;
  /// Maps many templates with batched encoding (uncached ones only).
  std::vector<MapResult> map_batch(const std::vector<std::string>& templates) const;
  void forget(std::string_view template_text);

  float threshold() const noexcept { return threshold_; }
  /// Lower end of the tentative band: a template whose nearest normal template has cosine in
  /// [tentative_threshold, S) maps to it tentatively (MapVerdict::tentative; the scorer keeps
  /// it where the model expects that template, else counts it unknown). >= S: no band.
  float tentative_threshold() const noexcept { return tentative_threshold_; }
  /// Whether a template nearer an abnormal template (cosine >= S) than any normal one maps to
  /// abnormal (an alarm at any threshold). When false it is unknown, weighed like any new
  /// template: the default for a from-scratch encoder, which knows only the training templates'
  /// words, so that "nearer an abnormal template" mostly means "unlike the normal ones"
  /// (docs/evaluation.md, "Without the pretrained weights").
  bool abnormal_by_similarity() const noexcept { return abnormal_by_similarity_; }
  /// The cosine to the nearest abnormal template an abnormal verdict needs (>= S); a template
  /// nearer an abnormal one than any normal one but below it is unknown.
  float abnormal_threshold() const noexcept { return abnormal_threshold_; }
  const std::vector<core::TemplateEntry>& normal() const noexcept { return normal_; }
  const std::vector<std::string>& abnormal() const noexcept { return abnormal_; }
  const TemplateEncoder& encoder() const noexcept { return *encoder_; }
  std::size_t cache_size() const;

 private:
  MapResult classify(const float* e) const noexcept;
  std::shared_ptr<const TemplateEncoder> encoder_;
  std::vector<core::TemplateEntry> normal_;
  std::vector<std::string> abnormal_;
  std::vector<std::string> unseen_;
  float threshold_;
  bool abnormal_by_similarity_;
  float tentative_threshold_;
  float abnormal_threshold_;
  Embeddings normal_emb_, abnormal_emb_, unseen_emb_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, MapResult> cache_;
};

/// How S was chosen and what it gives on the validation data.
struct ThresholdChoice {
  float threshold = 0;
  std::string method;              // "balanced" (variants vs abnormal and sibling templates),
                                   // "balanced-siblings" (no abnormal template) or "normal-quantile"
  double normal_accuracy = 0;      // noisy variants mapped to their own template at S
  double abnormal_rejected = 0;    // abnormal templates whose best normal cosine < S (1 if none)
  double siblings_rejected = 0;    // normal templates whose best cosine to another one < S (1 if none)
  float abnormal_threshold = 0;    // the cosine an abnormal verdict by similarity needs (>= threshold):
                                   // S chosen on shares (variants right + abnormal templates below,
                                   // equal weight); == threshold without labelled templates
  float quantile_threshold = 0;    // the 1st percentile of the right variants' cosine minus 0.02:
                                   // nearly every rewording reaches it (the tentative band's floor)
  std::size_t normal_variants = 0, abnormal_templates = 0, sibling_templates = 0;
};

/// Chooses S: validation = `variants` noisy variants of every normal template (from `noise`,
/// seeded; positives), and as negatives the abnormal templates and, when `siblings` is given
/// (the related-template index of fine-tuning, or empty), leaving one out, every normal
/// template against the others ("another message of the same system": a new message
/// must not map onto a known one just because the system wrote both; pairs in `*siblings`,
/// the related-template positives of fine-tuning, and siblings nearer than the median right
/// variant -- as close as a rewording, often one message split by the parser -- excepted).
/// S maximises the templates handled right -- each normal template counts the share of its
/// variants mapped right, each negative below S counts 1 -- (midpoint of the best interval),
/// never below quantile_threshold; with no negative at all, S is quantile_threshold
/// ("normal-quantile"). abnormal_threshold weighs the abnormal templates as much as all variants.
ThresholdChoice choose_threshold(const TemplateEncoder& encoder, const std::vector<std::string>& normal,
                                 const std::vector<std::string>& abnormal, const NoiseFn& noise, int variants,
                                 std::uint64_t seed, const std::vector<int>* siblings = nullptr);

/// Cosine similarity matrix of the templates' embeddings (row-major n x n).
std::vector<float> similarity_matrix(const TemplateEncoder& encoder, const std::vector<std::string>& templates);

}  // namespace logguard::models
