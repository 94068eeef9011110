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

/// Builds the encoder (model.encoder.weights, or from scratch: with a warning when the
/// configured weights are missing), fine-tunes it contrastively on the bundle's templates
/// (positives: WordNet noise of the training flavour and the co-occurring template;
/// negatives: `abnormal` -- templates labelled abnormal in training -- or else the other
/// normal templates), chooses S unless configured, and attaches it to BUNDLE_DIR.
/// `normal_sessions` hold bundle ids. `config_file` anchors a relative weights path that is
/// not found from the working directory. Progress goes to stderr.
void train_encoder(const ModelSection& model, const std::vector<core::Session>& normal_sessions,
                   const std::vector<std::string>& abnormal, const std::string& bundle_dir,
                   const std::string& config_file = {});

/// The templates of `abnormal_sequences` (a sequence file of labelled anomalous sessions) that
/// no session of `normal` holds, as texts of `table`.
std::vector<std::string> abnormal_templates_of(const std::string& abnormal_sequences,
                                               const std::vector<core::Session>& normal,
                                               const std::vector<core::TemplateEntry>& table);


}  // namespace logguard::daemon::detail
