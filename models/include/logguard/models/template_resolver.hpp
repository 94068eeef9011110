#pragma once
// One place that decides which bundle template an input template is, for `logguard detect`,
// the calibration at training time and logguardd alike (one bundle, one verdict):
//   1. the same text (normalized: words only, lower case) as a bundle template -> its id;
//      as a template labelled abnormal -> kAbnormalTemplate; as a template of the training
//      input that no normal training session held ("unseen") -> unknown (0), never remapped;
//   2. bundles whose templates came from a template table (another parser's spelling,
//      e.g. "<*>Deleting block<*>file<*>"): the most specific table pattern the text fits
//      (core::TemplatePatternSet) -> that template (or kAbnormalTemplate);
//   3. bundles with a template encoder: cosine >= S to a normal template -> its id, to an
//      abnormal one -> kAbnormalTemplate (models::TemplateMapper); cosine in the bundle's
//      tentative band below S -> tentative_id(its id) (judged by the scorer in context);
//   4. else unknown (0).
//
// Lifecycle: built from a manifest (and the bundle's TemplateMapper when it has an encoder);
// resolve() never throws (an encoder failure resolves to unknown). Thread-safety: const
// methods may run concurrently (the mapper's cache has its own lock).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "logguard/core/sequences.hpp"
#include "logguard/core/template_pattern.hpp"
#include "logguard/models/bundle.hpp"
#include "logguard/models/template_mapper.hpp"

namespace logguard::models {

enum class Resolution { exact, pattern, similar, tentative, abnormal, unseen, unknown };
const char* to_string(Resolution r) noexcept;

struct ResolvedTemplate {
  std::uint32_t id = 0;           // bundle id, kAbnormalTemplate, or 0 (unknown)
  Resolution how = Resolution::unknown;
  float similarity = 0;           // cosine (step 3)
};

/// Step 3's reading of a mapper verdict: known -> the template's id, tentative ->
/// tentative_id(it), abnormal -> kAbnormalTemplate, unknown -> 0 (how == unknown).
ResolvedTemplate from_map_result(const MapResult& m) noexcept;

struct ResolveStats {
  std::size_t exact = 0, pattern = 0, similar = 0, tentative = 0, abnormal = 0, unseen = 0, unknown = 0;
};

class TemplateResolver {
 public:
  /// `mapper`: the bundle's semantic mapper, or null (no encoder).
  TemplateResolver(const BundleManifest& manifest, std::shared_ptr<const TemplateMapper> mapper);
  /// Reads the manifest and, when the bundle has an encoder, loads it.
  static TemplateResolver load(const std::string& bundle_dir);

  ResolvedTemplate resolve(std::string_view text) const noexcept;
  /// Steps 1-2 only (no encoding): exact/pattern/abnormal, or unknown with how == unknown;
  /// step 2 only with `patterns`.
  ResolvedTemplate resolve_without_encoder(std::string_view text, bool patterns = true) const noexcept;
  /// Input template id -> bundle id (or kAbnormalTemplate / 0) for a whole table; texts the
  /// encoder must judge are encoded in batches. `parser_texts`: the input templates are this
  /// project's parser output (raw logs), so step 2 applies; a template table given with
  /// sequence files names its own event types, which never fit one another as patterns.
  std::unordered_map<std::uint32_t, std::uint32_t> map_table(const std::vector<core::TemplateEntry>& input,
                                                             ResolveStats* stats = nullptr, bool parser_texts = true) const;
  const std::shared_ptr<const TemplateMapper>& mapper() const noexcept { return mapper_; }

 private:
  std::unordered_map<std::string, std::uint32_t> by_text_;  // normalized text -> id / kAbnormalTemplate
  core::TemplatePatternSet patterns_;                       // templates_from == "table" only
  std::vector<std::uint32_t> pattern_ids_;                  // pattern index -> id / kAbnormalTemplate
  std::shared_ptr<const TemplateMapper> mapper_;
};

}  // namespace logguard::models
