#pragma once
// The template-encoder step of `logguard train` and the semantic template mapping of
// `logguard detect` (issue #4). Start-up code: throws ConfigError/LoadError naming the key/file.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "logguard/core/sequences.hpp"
#include "logguard/config/config_loader.hpp"

namespace logguard::daemon::detail {

/// Builds the encoder (model.encoder.weights, or from scratch), fine-tunes it contrastively on
/// the bundle's normal templates (positives: WordNet noise of the training flavour and the
/// co-occurring template; negatives: templates seen only in model.data.abnormal_sequences, or
/// the other normal templates), chooses S unless configured, and attaches it to BUNDLE_DIR.
/// Progress goes to stderr.
void train_encoder(const ModelSection& model, const std::vector<core::Session>& normal_sessions,
                   const std::vector<core::TemplateEntry>& table, const std::string& abnormal_sequences,
                   const std::string& bundle_dir);

/// Input template id -> bundle template id (0 = unknown) through the bundle's encoder: every
/// input template is mapped by cosine similarity. `stats` (optional) receives counts.
struct SemanticMapStats {
  std::size_t known = 0, abnormal = 0, unknown = 0;
};
std::unordered_map<std::uint32_t, std::uint32_t> map_templates_semantic(const std::string& bundle_dir,
                                                                       const std::vector<core::TemplateEntry>& input,
                                                                       SemanticMapStats* stats = nullptr);

}  // namespace logguard::daemon::detail
